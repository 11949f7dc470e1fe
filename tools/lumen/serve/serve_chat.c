// SPDX-License-Identifier: MIT
/*
 * A chat request's prompt: its messages through the model's own chat
 * template (<lumen/chat.h>; chatml for a model without one), ending with
 * the opening of the assistant's turn, and the tokens that end that turn.
 */
#include <stdlib.h>

#include <lumen/chat.h>

#include "serve_http.h"

char *serve_chat_prompt(struct serve_state *st, const struct serve_request *req,
			struct serve_error *err)
{
	struct lumen_chat_message *msgs = calloc(req->n_msgs, sizeof(*msgs));
	char *buf = NULL;
	int len;

	if (!msgs) {
		serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < req->n_msgs; i++) {
		msgs[i].role = req->msgs[i].role;
		msgs[i].content = req->msgs[i].content;
	}
	len = lumen_chat_apply_template(st->model, NULL, msgs, req->n_msgs, true,
					NULL, 0);
	if (len >= 0) {
		buf = malloc((size_t)len + 1);
		if (buf)
			len = lumen_chat_apply_template(st->model, NULL, msgs,
							req->n_msgs, true, buf,
							(size_t)len + 1);
	}
	free(msgs);
	if (len < 0) {
		free(buf);
		serve_fail(err, 500, "server_error", "messages", NULL,
			   "the model's chat template: %s", lumen_last_error());
		return NULL;
	}
	if (!buf)
		serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
	return buf;
}

int serve_chat_stop_ids(struct serve_state *st, int32_t *ids, size_t cap)
{
	int n = lumen_chat_stop_ids(st->model, NULL, ids, cap);

	return n < 0 ? 0 : (size_t)n > cap ? (int)cap : n;
}
