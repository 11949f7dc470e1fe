/* SPDX-License-Identifier: MIT */
/*
 * lumen serve: an OpenAI request body (JSON, read with jansson) checked
 * and turned into what the generator needs. Pure: no model, no HTTP, so
 * the libFuzzer target (tools/lumen/fuzz/fuzz_serve_request.c) runs it
 * alone.
 */
#ifndef SERVE_REQUEST_H
#define SERVE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum serve_kind {
	SERVE_CHAT,		/* POST /v1/chat/completions */
	SERVE_COMPLETION,	/* POST /v1/completions */
};

/* OpenAI's limit on stop sequences, and a sane length for each */
#define SERVE_MAX_STOPS 4
#define SERVE_MAX_STOP_LEN 128

/* the values of enum lumen_priority, without needing <lumen/lumen.h> */
#define SERVE_PRIORITY_LOW 0
#define SERVE_PRIORITY_NORMAL 1
#define SERVE_PRIORITY_HIGH 2

/* the values of enum lumen_spec_kind a request may ask for */
#define SERVE_SPEC_NONE 0
#define SERVE_SPEC_NGRAM 1
#define SERVE_SPEC_DRAFT 2

/**
 * struct serve_limits - what a request may ask for.
 * @max_tokens: the largest max_tokens accepted (and the default).
 * @max_messages: chat messages in one request.
 */
struct serve_limits {
	uint32_t max_tokens;
	uint32_t max_messages;
};

struct serve_message {
	char *role;	/* system, user, assistant ("developer" reads as system) */
	char *content;	/* the text parts joined */
};

/**
 * struct serve_request - a checked request; strings are owned.
 * @model: the model asked for (NULL: not given).
 * @msgs, @n_msgs: chat messages.
 * @prompt: completion prompt.
 * @max_tokens: 0 when not given (the server's limit then).
 * @priority: SERVE_PRIORITY_*, or -1 when the body does not say.
 * @spec: SERVE_SPEC_* from the extension {"lumen": {"spec": ...}}, or -1
 *	when the body does not say (the server's --spec then).
 */
struct serve_request {
	enum serve_kind kind;
	char *model;
	struct serve_message *msgs;
	size_t n_msgs;
	char *prompt;
	bool stream;
	bool include_usage;
	uint32_t max_tokens;
	float temperature;
	float top_p;
	uint64_t seed;
	bool seed_given;
	char *stop[SERVE_MAX_STOPS];
	size_t n_stop;
	int priority;
	int spec;
};

/**
 * struct serve_error - an OpenAI error object and its HTTP status.
 * @param: the offending field, or NULL.
 * @code: OpenAI's code string, or NULL.
 */
struct serve_error {
	unsigned int status;
	const char *type;
	const char *param;
	const char *code;
	char message[256];
};

/* fills @err; returns -1 so callers can "return serve_fail(...)" */
int serve_fail(struct serve_error *err, unsigned int status, const char *type,
	       const char *param, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/*
 * Read @len bytes of @body as a request of @kind. 0, or -1 with @err set
 * (status 400) and nothing owned by @req.
 */
int serve_parse_request(enum serve_kind kind, const char *body, size_t len,
			const struct serve_limits *lim, struct serve_request *req,
			struct serve_error *err);
void serve_request_free(struct serve_request *req);

/* "low" / "normal" / "high" -> SERVE_PRIORITY_*, -1 for anything else */
int serve_priority_from_name(const char *name);
const char *serve_priority_name(int priority);
/* "none" / "ngram" / "draft" -> SERVE_SPEC_*, -1 for anything else */
int serve_spec_from_name(const char *name);
const char *serve_spec_name(int spec);

#endif /* SERVE_REQUEST_H */
