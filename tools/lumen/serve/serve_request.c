// SPDX-License-Identifier: MIT
/*
 * Reading an OpenAI request body. jansson parses (duplicate keys and NUL
 * characters refused, the whole body must be one value); this file only
 * checks each field's type and range, as OpenAI does, and says which
 * field is wrong. Fields it does not know are ignored, like OpenAI's
 * optional ones (user, logprobs: false, ...), so real clients work.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "serve_request.h"

int serve_fail(struct serve_error *err, unsigned int status, const char *type,
	       const char *param, const char *code, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	err->type = type;
	err->param = param;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static int bad(struct serve_error *err, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct serve_error *err, const char *param, const char *fmt, ...)
{
	va_list ap;

	err->status = 400;
	err->type = "invalid_request_error";
	err->param = param;
	err->code = NULL;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *const priority_names[] = { "low", "normal", "high" };

int serve_priority_from_name(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (name && !strcmp(name, priority_names[i]))
			return i;
	return -1;
}

static const char *const spec_names[] = { "none", "ngram", "draft" };

int serve_spec_from_name(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (name && !strcmp(name, spec_names[i]))
			return i;
	return -1;
}

const char *serve_spec_name(int spec)
{
	return spec >= 0 && spec < 3 ? spec_names[spec] : "none";
}

const char *serve_priority_name(int priority)
{
	return priority >= 0 && priority < 3 ? priority_names[priority] : "normal";
}

static char *dup_string(json_t *s)
{
	size_t len = json_string_length(s);
	char *out = malloc(len + 1);

	if (out) {
		memcpy(out, json_string_value(s), len);
		out[len] = 0;
	}
	return out;
}

/* a message's content: a string, or an array of {"type": "text", "text"} */
static int read_content(json_t *content, char **out, struct serve_error *err)
{
	size_t i, total = 0, off = 0;
	json_t *part, *text;

	if (json_is_string(content)) {
		*out = dup_string(content);
		return *out ? 0 : serve_fail(err, 500, "server_error", NULL, NULL,
					     "out of memory");
	}
	if (json_is_null(content)) {
		*out = strdup("");
		return *out ? 0 : serve_fail(err, 500, "server_error", NULL, NULL,
					     "out of memory");
	}
	if (!json_is_array(content))
		return bad(err, "messages", "a message's content must be a string or an array of text parts");
	json_array_foreach(content, i, part) {
		json_t *type = json_object_get(part, "type");

		text = json_object_get(part, "text");
		if (!json_is_object(part) || !json_is_string(type) ||
		    strcmp(json_string_value(type), "text") || !json_is_string(text))
			return bad(err, "messages",
				   "content part %zu is not {\"type\": \"text\", \"text\": \"...\"}: this model reads text only",
				   i);
		total += json_string_length(text);
	}
	*out = malloc(total + 1);
	if (!*out)
		return serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
	json_array_foreach(content, i, part) {
		text = json_object_get(part, "text");
		memcpy(*out + off, json_string_value(text), json_string_length(text));
		off += json_string_length(text);
	}
	(*out)[off] = 0;
	return 0;
}

static int read_messages(json_t *msgs, const struct serve_limits *lim,
			 struct serve_request *req, struct serve_error *err)
{
	size_t i, n;
	json_t *m;

	if (!json_is_array(msgs) || !json_array_size(msgs))
		return bad(err, "messages", "'messages' must be a non-empty array");
	n = json_array_size(msgs);
	if (n > lim->max_messages)
		return bad(err, "messages", "%zu messages; this server takes at most %u",
			   n, lim->max_messages);
	req->msgs = calloc(n, sizeof(*req->msgs));
	if (!req->msgs)
		return serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
	json_array_foreach(msgs, i, m) {
		json_t *role = json_object_get(m, "role");
		const char *r;

		if (!json_is_object(m) || !json_is_string(role))
			return bad(err, "messages", "message %zu has no string 'role'", i);
		r = json_string_value(role);
		if (!strcmp(r, "developer"))
			r = "system";
		if (strcmp(r, "system") && strcmp(r, "user") && strcmp(r, "assistant"))
			return bad(err, "messages",
				   "message %zu: role '%.40s' is not one of system, developer, user, assistant",
				   i, json_string_value(role));
		req->msgs[i].role = strdup(r);
		req->n_msgs = i + 1;
		if (!req->msgs[i].role)
			return serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
		if (!json_object_get(m, "content"))
			return bad(err, "messages", "message %zu has no 'content'", i);
		if (read_content(json_object_get(m, "content"), &req->msgs[i].content, err))
			return -1;
	}
	return 0;
}

static int read_prompt(json_t *prompt, struct serve_request *req,
		       struct serve_error *err)
{
	/* a string, or a batch of one string (what some clients send) */
	if (json_is_array(prompt) && json_array_size(prompt) == 1 &&
	    json_is_string(json_array_get(prompt, 0)))
		prompt = json_array_get(prompt, 0);
	if (!json_is_string(prompt))
		return bad(err, "prompt",
			   "'prompt' must be a string (token arrays and batches are not supported)");
	req->prompt = dup_string(prompt);
	return req->prompt ? 0 : serve_fail(err, 500, "server_error", NULL, NULL,
					    "out of memory");
}

static int read_stop(json_t *stop, struct serve_request *req,
		     struct serve_error *err)
{
	size_t i;
	json_t *s;

	if (!stop || json_is_null(stop))
		return 0;
	if (json_is_string(stop)) {
		json_t *one = json_array();
		int ret;

		if (!one || json_array_append(one, stop)) {
			json_decref(one);
			return serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
		}
		ret = read_stop(one, req, err);
		json_decref(one);
		return ret;
	}
	if (!json_is_array(stop))
		return bad(err, "stop", "'stop' must be a string or an array of strings");
	if (json_array_size(stop) > SERVE_MAX_STOPS)
		return bad(err, "stop", "at most %d stop sequences", SERVE_MAX_STOPS);
	json_array_foreach(stop, i, s) {
		if (!json_is_string(s) || !json_string_length(s) ||
		    json_string_length(s) > SERVE_MAX_STOP_LEN)
			return bad(err, "stop",
				   "stop sequence %zu must be a string of 1 to %d bytes",
				   i, SERVE_MAX_STOP_LEN);
		req->stop[i] = dup_string(s);
		req->n_stop = i + 1;
		if (!req->stop[i])
			return serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
	}
	return 0;
}

/* a number field in [min, max], or absent/null */
static int read_number(json_t *body, const char *key, double min, double max,
		       float *out, struct serve_error *err)
{
	json_t *v = json_object_get(body, key);
	double d;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v))
		return bad(err, key, "'%s' must be a number", key);
	d = json_number_value(v);
	if (!isfinite(d) || d < min || d > max)
		return bad(err, key, "'%s' is %g; it must be between %g and %g",
			   key, d, min, max);
	*out = (float)d;
	return 0;
}

/* the extension object: {"spec": "none" | "ngram" | "draft"} */
static int read_lumen(json_t *v, struct serve_request *req,
		      struct serve_error *err)
{
	const char *key;
	json_t *f;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bad(err, "lumen", "'lumen' must be an object, e.g. {\"spec\": \"none\"}");
	json_object_foreach(v, key, f) {
		if (strcmp(key, "spec"))
			return bad(err, "lumen", "'lumen.%.32s' is not a field: 'lumen' takes \"spec\"",
				   key);
		req->spec = json_is_string(f) ?
			serve_spec_from_name(json_string_value(f)) : -1;
		if (req->spec < 0)
			return bad(err, "lumen.spec",
				   "'lumen.spec' must be \"none\", \"ngram\" or \"draft\"");
	}
	return 0;
}

static int read_fields(json_t *body, const struct serve_limits *lim,
		       struct serve_request *req, struct serve_error *err)
{
	json_t *v;

	if (!json_is_object(body))
		return bad(err, NULL, "the request body must be a JSON object");
	v = json_object_get(body, "model");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return bad(err, "model", "'model' must be a string");
		req->model = dup_string(v);
		if (!req->model)
			return serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
	}
	if (req->kind == SERVE_CHAT) {
		if (read_messages(json_object_get(body, "messages"), lim, req, err))
			return -1;
	} else {
		if (!json_object_get(body, "prompt"))
			return bad(err, "prompt", "'prompt' is missing");
		if (read_prompt(json_object_get(body, "prompt"), req, err))
			return -1;
	}
	v = json_object_get(body, "stream");
	if (v && !json_is_null(v)) {
		if (!json_is_boolean(v))
			return bad(err, "stream", "'stream' must be true or false");
		req->stream = json_is_true(v);
	}
	v = json_object_get(body, "stream_options");
	if (v && !json_is_null(v)) {
		json_t *u = json_object_get(v, "include_usage");

		if (!json_is_object(v) || (u && !json_is_boolean(u)))
			return bad(err, "stream_options",
				   "'stream_options' must be {\"include_usage\": true|false}");
		req->include_usage = json_is_true(u);
	}
	/* max_completion_tokens is the newer name of max_tokens */
	v = json_object_get(body, "max_completion_tokens");
	if (!v || json_is_null(v))
		v = json_object_get(body, "max_tokens");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > lim->max_tokens)
			return bad(err, "max_tokens",
				   "'max_tokens' must be an integer from 1 to %u (this server's limit)",
				   lim->max_tokens);
		req->max_tokens = (uint32_t)json_integer_value(v);
	}
	if (read_number(body, "temperature", 0, 2, &req->temperature, err) ||
	    read_number(body, "top_p", 0, 1, &req->top_p, err))
		return -1;
	v = json_object_get(body, "seed");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v))
			return bad(err, "seed", "'seed' must be an integer");
		req->seed = (uint64_t)json_integer_value(v);
		req->seed_given = true;
	}
	v = json_object_get(body, "n");
	if (v && !json_is_null(v) &&
	    (!json_is_integer(v) || json_integer_value(v) != 1))
		return bad(err, "n", "only n = 1 is supported");
	if (read_stop(json_object_get(body, "stop"), req, err))
		return -1;
	v = json_object_get(body, "priority");
	if (v && !json_is_null(v)) {
		req->priority = json_is_string(v) ?
			serve_priority_from_name(json_string_value(v)) : -1;
		if (req->priority < 0)
			return bad(err, "priority",
				   "'priority' must be \"low\", \"normal\" or \"high\"");
	}
	return read_lumen(json_object_get(body, "lumen"), req, err);
}

int serve_parse_request(enum serve_kind kind, const char *body, size_t len,
			const struct serve_limits *lim, struct serve_request *req,
			struct serve_error *err)
{
	json_error_t jerr;
	json_t *root;
	int ret;

	memset(req, 0, sizeof(*req));
	req->kind = kind;
	req->temperature = 1.0f;	/* OpenAI's defaults */
	req->top_p = 1.0f;
	req->priority = -1;
	req->spec = -1;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return bad(err, NULL,
			   "the body is not valid JSON: %s (line %d, column %d)",
			   jerr.text, jerr.line, jerr.column);
	ret = read_fields(root, lim, req, err);
	json_decref(root);
	if (ret)
		serve_request_free(req);
	return ret;
}

void serve_request_free(struct serve_request *req)
{
	for (size_t i = 0; i < req->n_msgs; i++) {
		free(req->msgs[i].role);
		free(req->msgs[i].content);
	}
	free(req->msgs);
	for (size_t i = 0; i < req->n_stop; i++)
		free(req->stop[i]);
	free(req->model);
	free(req->prompt);
	memset(req, 0, sizeof(*req));
}
