// SPDX-License-Identifier: MIT
/*
 * libFuzzer: lumen serve's request parser (serve_request.c over jansson)
 * and the UTF-8 repair of generated text (serve_utf8.c), on any bytes.
 * The first byte picks the endpoint (bit 0: chat or completions); the rest
 * is the body. Beyond "no crash, no leak": what the parser accepts is
 * within the limits, what it refuses has a status and a message, and a
 * repaired text is valid UTF-8 (repairing it again changes nothing).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve_request.h"
#include "serve_utf8.h"

static const struct serve_limits limits = { .max_tokens = 512, .max_messages = 64 };

static void check_request(const uint8_t *data, size_t size)
{
	enum serve_kind kind = data[0] & 1 ? SERVE_CHAT : SERVE_COMPLETION;
	struct serve_request req;
	struct serve_error err;

	if (serve_parse_request(kind, (const char *)data + 1, size - 1, &limits,
				&req, &err)) {
		if ((err.status != 400 && err.status != 500) || !err.message[0] ||
		    !err.type)
			abort();
		return;
	}
	if (req.max_tokens > limits.max_tokens || req.n_stop > SERVE_MAX_STOPS ||
	    req.priority < -1 || req.priority > SERVE_PRIORITY_HIGH ||
	    req.spec < -1 || req.spec > SERVE_SPEC_DRAFT ||
	    !(req.temperature >= 0 && req.temperature <= 2) ||
	    !(req.top_p >= 0 && req.top_p <= 1))
		abort();
	if (kind == SERVE_CHAT ? !req.n_msgs || req.n_msgs > limits.max_messages ||
				 req.prompt : !req.prompt || req.n_msgs)
		abort();
	for (size_t i = 0; i < req.n_msgs; i++)
		if (!req.msgs[i].role || !req.msgs[i].content)
			abort();
	for (size_t i = 0; i < req.n_stop; i++)
		if (!req.stop[i][0] || strlen(req.stop[i]) > SERVE_MAX_STOP_LEN)
			abort();
	serve_request_free(&req);
}

static void check_utf8(const uint8_t *data, size_t size)
{
	size_t n1, n2, cut = serve_utf8_complete((const char *)data, 0, size);
	char *once, *twice;

	if (cut > size || (size >= 4 && cut + 3 < size))
		abort();
	once = serve_utf8_clean((const char *)data, size, &n1);
	if (!once)
		return;
	twice = serve_utf8_clean(once, n1, &n2);
	if (twice && (n1 != n2 || memcmp(once, twice, n1)))
		abort();
	free(once);
	free(twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	check_request(data, size);
	check_utf8(data, size);
	return 0;
}
