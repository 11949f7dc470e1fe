// SPDX-License-Identifier: MIT
/*
 * lumen serve's HTTP side, on libmicrohttpd with a thread per connection:
 * a request may wait for a session and then generate for a while, and its
 * thread simply blocks meanwhile. A streamed answer is a chunked response
 * whose content callback makes one token per call and returns its
 * server-sent event; when the client goes away libmicrohttpd stops calling
 * it and reports the connection closed, and the generation ends there,
 * giving its session back (request_completed()).
 *
 * Responses and errors follow OpenAI's API: the same objects, an error as
 * {"error": {"message", "type", "param", "code"}} with its status.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "serve_http.h"

#define PRIORITY_HEADER "X-Lumen-Priority"

struct serve_conn {
	struct serve_state *st;
	size_t max_body;
	char *body;
	size_t len, cap;
	bool too_large;
	/* a streamed answer */
	struct serve_request req;
	bool have_req;
	struct serve_gen gen;
	bool have_gen, admitted, role_sent, finished;
	char *out;
	size_t out_len, out_off, out_cap;
	char id[48];
	uint64_t created;
};

static atomic_uint_fast64_t request_counter;

/* ---- responses ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned int status,
				 char *text, const char *type)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!text)
		return MHD_NO;	/* out of memory: drop the connection */
	r = MHD_create_response_from_buffer(strlen(text), text,
					    MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == 429)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned int status,
				 json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	return send_text(c, status, text, "application/json");
}

static json_t *error_object(const struct serve_error *err)
{
	return json_pack("{s:{s:s, s:s, s:s?, s:s?}}", "error",
			 "message", err->message, "type", err->type,
			 "param", err->param, "code", err->code);
}

static enum MHD_Result send_error(struct MHD_Connection *c,
				  const struct serve_error *err)
{
	return send_json(c, err->status, error_object(err));
}

/* ---- the pieces of an answer ---- */

static const char *finish_name(enum serve_finish f)
{
	return f == SERVE_FINISH_LENGTH ? "length" : "stop";
}

static json_t *usage_object(const struct serve_gen *g)
{
	return json_pack("{s:I, s:I, s:I}",
			 "prompt_tokens", (json_int_t)g->n_prompt,
			 "completion_tokens", (json_int_t)g->n_generated,
			 "total_tokens", (json_int_t)(g->n_prompt + g->n_generated));
}

/*
 * Speculative decoding's figures: drafts verified and kept, and tokens per
 * submission of the model after the prompt (plain decode: 1).
 */
static json_t *spec_object(const char *kind, const struct lumen_spec_stats *ss)
{
	return json_pack("{s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:o, s:I}",
			 "kind", kind,
			 "drafted", (json_int_t)ss->n_drafted,
			 "accepted", (json_int_t)ss->n_accepted,
			 "acceptance", ss->n_drafted ?
			 json_real((double)ss->n_accepted / ss->n_drafted) : json_null(),
			 "verifications", (json_int_t)ss->n_verify,
			 "submissions", (json_int_t)ss->n_rounds,
			 "tokens", (json_int_t)ss->n_tokens,
			 "tokens_per_submission", ss->n_rounds ?
			 json_real((double)ss->n_tokens / ss->n_rounds) : json_null(),
			 "draft_submissions", (json_int_t)ss->draft_submissions);
}

/* the extension: what the device did for this request, and when */
static json_t *lumen_object(const struct serve_gen *g)
{
	const struct serve_state *st = g->st;
	bool counters = st->dev_info.has_counters;
	uint64_t end = g->t_end ? g->t_end : lumen_now_ns();

	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
			 "backend", st->dev_info.backend,
			 "priority", serve_priority_name(g->priority),
			 "queue_ns", (json_int_t)(g->t_session - g->t_start),
			 "time_to_first_token_ns", (json_int_t)(g->t_first - g->t_start),
			 "total_ns", (json_int_t)(end - g->t_start),
			 "device_submissions", (json_int_t)g->submissions,
			 "device_busy_ns", counters ? json_integer((json_int_t)g->busy_ns) : json_null(),
			 "energy_uj", counters ? json_integer((json_int_t)g->energy_uj) : json_null(),
			 "speculative", spec_object(serve_spec_name(g->spec_kind), &g->spec_st));
}

/* @text[0..len) as a JSON string (invalid UTF-8 becomes U+FFFD) */
static json_t *text_value(const char *text, size_t len)
{
	size_t clean_len;
	char *clean = serve_utf8_clean(text ? text : "", len, &clean_len);
	json_t *v;

	if (!clean)
		return NULL;
	v = json_stringn(clean, clean_len);
	free(clean);
	return v;
}

static void make_id(struct serve_conn *conn, enum serve_kind kind)
{
	snprintf(conn->id, sizeof(conn->id), "%s-lumen%" PRIu64 "x%llx",
		 kind == SERVE_CHAT ? "chatcmpl" : "cmpl",
		 (uint64_t)atomic_fetch_add(&request_counter, 1) + 1,
		 (unsigned long long)(lumen_now_ns() & 0xffffffffu));
	conn->created = (uint64_t)time(NULL);
}

/* a whole (non-streamed) answer */
static json_t *completion_object(struct serve_conn *conn)
{
	struct serve_gen *g = &conn->gen;
	json_t *choice, *text = text_value(g->text, g->len);

	if (!text)
		return NULL;
	if (conn->req.kind == SERVE_CHAT)
		choice = json_pack("{s:i, s:{s:s, s:o}, s:n, s:s}", "index", 0,
				   "message", "role", "assistant", "content", text,
				   "logprobs", "finish_reason", finish_name(g->finish));
	else
		choice = json_pack("{s:o, s:i, s:n, s:s}", "text", text, "index", 0,
				   "logprobs", "finish_reason", finish_name(g->finish));
	return json_pack("{s:s, s:s, s:I, s:s, s:[o], s:o, s:o}",
			 "id", conn->id,
			 "object", conn->req.kind == SERVE_CHAT ? "chat.completion" :
				   "text_completion",
			 "created", (json_int_t)conn->created,
			 "model", conn->st->model_id,
			 "choices", choice,
			 "usage", usage_object(g),
			 "lumen", lumen_object(g));
}

/*
 * One streamed chunk: @delta text (NULL: none), @finish (NULL: not yet);
 * the last chunk carries usage and the extension too.
 */
static json_t *chunk_object(struct serve_conn *conn, json_t *delta_text,
			    bool role, const char *finish, bool last)
{
	struct serve_gen *g = &conn->gen;
	json_t *choice, *chunk;

	if (conn->req.kind == SERVE_CHAT) {
		json_t *delta = json_object();

		if (role)
			json_object_set_new(delta, "role", json_string("assistant"));
		if (delta_text)
			json_object_set_new(delta, "content", delta_text);
		else if (role)
			json_object_set_new(delta, "content", json_string(""));
		choice = json_pack("{s:i, s:o, s:n, s:o}", "index", 0, "delta", delta,
				   "logprobs", "finish_reason",
				   finish ? json_string(finish) : json_null());
	} else {
		choice = json_pack("{s:o, s:i, s:n, s:o}", "text",
				   delta_text ? delta_text : json_string(""),
				   "index", 0, "logprobs", "finish_reason",
				   finish ? json_string(finish) : json_null());
	}
	chunk = json_pack("{s:s, s:s, s:I, s:s, s:[o]}", "id", conn->id,
			  "object", conn->req.kind == SERVE_CHAT ?
				    "chat.completion.chunk" : "text_completion",
			  "created", (json_int_t)conn->created,
			  "model", conn->st->model_id, "choices", choice);
	if (chunk && last) {
		json_object_set_new(chunk, "usage", usage_object(g));
		json_object_set_new(chunk, "lumen", lumen_object(g));
	}
	return chunk;
}

/* ---- the stream ---- */

static int out_add(struct serve_conn *conn, const char *s, size_t n)
{
	if (conn->out_len + n > conn->out_cap) {
		size_t cap = conn->out_cap * 2 + n + 256;
		char *o = realloc(conn->out, cap);

		if (!o)
			return -1;
		conn->out = o;
		conn->out_cap = cap;
	}
	memcpy(conn->out + conn->out_len, s, n);
	conn->out_len += n;
	return 0;
}

/* "data: JSON\n\n"; takes @obj */
static int out_event(struct serve_conn *conn, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	int ret;

	json_decref(obj);
	if (!text)
		return -1;
	ret = out_add(conn, "data: ", 6) || out_add(conn, text, strlen(text)) ||
	      out_add(conn, "\n\n", 2) ? -1 : 0;
	free(text);
	return ret;
}

static void count_end(struct serve_state *st, uint64_t *counter)
{
	pthread_mutex_lock(&st->mu);
	(*counter)++;
	pthread_mutex_unlock(&st->mu);
}

/* give the session and the admission back */
static void end_generation(struct serve_conn *conn)
{
	if (conn->have_gen) {
		serve_gen_fini(&conn->gen);
		conn->have_gen = false;
	}
	if (conn->admitted) {
		serve_unadmit(conn->st);
		conn->admitted = false;
	}
}

/* the next events of the stream into conn->out; -1 ends it at once */
static int produce(struct serve_conn *conn)
{
	struct serve_gen *g = &conn->gen;
	struct serve_error err;
	size_t ready;
	bool final;

	if (!conn->role_sent) {
		conn->role_sent = true;
		if (conn->req.kind == SERVE_CHAT)
			return out_event(conn, chunk_object(conn, NULL, true, NULL, false));
	}
	if (serve_gen_step(g, &err)) {
		/* headers are out: the error goes as an event, then the end */
		count_end(conn->st, &conn->st->failed);
		conn->finished = true;
		end_generation(conn);
		if (out_event(conn, error_object(&err)))
			return -1;
		return out_add(conn, "data: [DONE]\n\n", 14);
	}
	final = g->finish != SERVE_RUNNING;
	ready = serve_gen_ready(g, final);
	if (ready > g->sent) {
		json_t *t = text_value(g->text + g->sent, ready - g->sent);

		g->sent = ready;
		if (!t || out_event(conn, chunk_object(conn, t, false, NULL, false)))
			return -1;
	}
	if (!final)
		return 0;
	g->t_end = lumen_now_ns();
	if (out_event(conn, chunk_object(conn, NULL, false, finish_name(g->finish), true)))
		return -1;
	if (conn->req.include_usage &&
	    out_event(conn, json_pack("{s:s, s:s, s:I, s:s, s:[], s:o}",
				      "id", conn->id, "object",
				      conn->req.kind == SERVE_CHAT ?
				      "chat.completion.chunk" : "text_completion",
				      "created", (json_int_t)conn->created,
				      "model", conn->st->model_id, "choices",
				      "usage", usage_object(g))))
		return -1;
	conn->finished = true;
	count_end(conn->st, &conn->st->served);
	end_generation(conn);
	return out_add(conn, "data: [DONE]\n\n", 14);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct serve_conn *conn = cls;
	size_t n;

	(void)pos;
	while (conn->out_off == conn->out_len) {
		if (conn->finished)
			return MHD_CONTENT_READER_END_OF_STREAM;
		conn->out_off = conn->out_len = 0;
		if (produce(conn))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = conn->out_len - conn->out_off;
	if (n > max)
		n = max;
	memcpy(buf, conn->out + conn->out_off, n);
	conn->out_off += n;
	return (ssize_t)n;
}

/* ---- requests ---- */

static bool authorized(struct serve_state *st, struct MHD_Connection *c)
{
	const char *h, *key = st->api_key;
	size_t klen, hlen;
	unsigned char diff = 0;

	if (!key)
		return true;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h || strncmp(h, "Bearer ", 7))
		return false;
	h += 7;
	klen = strlen(key);
	hlen = strlen(h);
	/* the same time for every wrong key of the right length */
	for (size_t i = 0; i < klen; i++)
		diff |= (unsigned char)(key[i] ^ (i < hlen ? h[i] : 0));
	return !diff && hlen == klen;
}

static enum MHD_Result send_health(struct serve_conn *conn,
				   struct MHD_Connection *c)
{
	struct serve_state *st = conn->st;
	json_t *o;

	pthread_mutex_lock(&st->mu);
	o = json_pack("{s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I}, s:o}",
		      "status", "ok", "model", st->model_id,
		      "backend", st->dev_info.backend,
		      "slots", "parallel", (json_int_t)st->parallel,
		      "queue", (json_int_t)st->queue,
		      "active", (json_int_t)st->active,
		      "waiting", (json_int_t)(st->admitted - st->active),
		      "requests", "served", (json_int_t)st->served,
		      "cancelled", (json_int_t)st->cancelled,
		      "rejected", (json_int_t)st->rejected,
		      "failed", (json_int_t)st->failed,
		      "speculative", spec_object(serve_spec_name((int)st->spec.kind),
						 &st->spec_total));
	if (o) {	/* the finished requests that drafted, whatever their kind */
		json_object_set_new(json_object_get(o, "speculative"), "requests",
				    json_integer((json_int_t)st->spec_requests));
		json_object_set_new(json_object_get(o, "speculative"), "draft_sessions",
				    json_integer((json_int_t)st->draft_sessions_made));
	}
	pthread_mutex_unlock(&st->mu);
	return send_json(c, 200, o);
}

static json_t *model_object(const struct serve_state *st)
{
	return json_pack("{s:s, s:s, s:I, s:s}", "id", st->model_id,
			 "object", "model", "created", (json_int_t)st->created,
			 "owned_by", "lumen");
}

/*
 * The client closed its end: no one will read the answer. (A client that
 * only shut down its sending side looks the same; HTTP clients do not.)
 */
static bool client_gone(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	ssize_t n;
	char b;

	if (!ci)
		return false;
	n = recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			  errno != EINTR);
}

/*
 * Read and check a generation request, tokenize its prompt and take its
 * place in the queue: 0, or -1 with @err (nothing is generated yet).
 */
static int prepare(struct serve_conn *conn, struct MHD_Connection *c,
		   enum serve_kind kind, struct serve_error *err)
{
	struct serve_state *st = conn->st;
	struct serve_request *req = &conn->req;
	const char *h;
	char *prompt;
	int priority, ret;

	if (conn->too_large)
		return serve_fail(err, 413, "invalid_request_error", NULL,
				  "request_too_large",
				  "the request body is larger than this server's limit of %zu bytes (lumen serve --max-body)",
				  conn->max_body);
	if (serve_parse_request(kind, conn->body ? conn->body : "", conn->len,
				&st->limits, req, err))
		return -1;
	conn->have_req = true;
	if (req->model && strcmp(req->model, st->model_id))
		return serve_fail(err, 404, "invalid_request_error", "model",
				  "model_not_found",
				  "the model '%.64s' does not exist; this server has '%s' (GET /v1/models)",
				  req->model, st->model_id);
	priority = req->priority;
	if (priority < 0) {
		h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, PRIORITY_HEADER);
		priority = h ? serve_priority_from_name(h) : SERVE_PRIORITY_NORMAL;
		if (priority < 0)
			return serve_fail(err, 400, "invalid_request_error", "priority",
					  NULL, "the " PRIORITY_HEADER " header must be low, normal or high");
	}
	prompt = kind == SERVE_CHAT ? serve_chat_prompt(st, req, err) :
				      strdup(req->prompt);
	if (!prompt)
		return kind == SERVE_CHAT ? -1 :
		       serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
	ret = serve_gen_init(&conn->gen, st, req, priority, prompt, err);
	free(prompt);
	conn->have_gen = true;
	if (ret)
		return -1;
	if (kind == SERVE_CHAT) {
		int32_t ids[8];
		int n = serve_chat_stop_ids(st, ids, 8);

		serve_gen_add_stop_ids(&conn->gen, ids, (size_t)n);
	}
	if (!serve_admit(st))
		return serve_fail(err, 429, "rate_limit_error", NULL, "queue_full",
				  "%u requests are running or waiting, the most this server takes (--parallel %u, --queue %u); retry later",
				  st->parallel + st->queue, st->parallel, st->queue);
	conn->admitted = true;
	make_id(conn, kind);
	return 0;
}

static enum MHD_Result generate(struct serve_conn *conn,
				struct MHD_Connection *c, enum serve_kind kind)
{
	struct serve_state *st = conn->st;
	struct serve_error err;
	struct MHD_Response *r;
	enum MHD_Result ret;
	json_t *answer;

	if (prepare(conn, c, kind, &err))
		return send_error(c, &err);
	if (conn->req.stream) {
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
						      stream_reader, conn, NULL);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/event-stream");
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
		ret = MHD_queue_response(c, 200, r);
		MHD_destroy_response(r);
		return ret;
	}
	while (conn->gen.finish == SERVE_RUNNING) {
		/* a streamed answer learns it when a write fails; this one asks */
		if (client_gone(c)) {
			count_end(st, &st->cancelled);
			end_generation(conn);
			return MHD_NO;
		}
		if (serve_gen_step(&conn->gen, &err)) {
			count_end(st, &st->failed);
			end_generation(conn);
			return send_error(c, &err);
		}
	}
	conn->gen.t_end = lumen_now_ns();
	answer = completion_object(conn);
	count_end(st, &st->served);
	end_generation(conn);
	return send_json(c, 200, answer);
}

static enum MHD_Result route(struct serve_conn *conn, struct MHD_Connection *c,
			     const char *url, const char *method)
{
	struct serve_state *st = conn->st;
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	struct serve_error err;

	if (!strcmp(url, "/health")) {
		if (get)
			return send_health(conn, c);
		goto wrong_method;
	}
	if (strncmp(url, "/v1/", 4))
		goto not_found;
	if (!authorized(st, c)) {
		serve_fail(&err, 401, "invalid_request_error", NULL,
			   "invalid_api_key",
			   "a valid API key is needed: send the header 'Authorization: Bearer KEY' (lumen serve --api-key)");
		return send_error(c, &err);
	}
	if (!strcmp(url, "/v1/models")) {
		if (get)
			return send_json(c, 200, json_pack("{s:s, s:[o]}", "object", "list",
							   "data", model_object(st)));
		goto wrong_method;
	}
	if (!strncmp(url, "/v1/models/", 11)) {
		if (!get)
			goto wrong_method;
		if (!strcmp(url + 11, st->model_id))
			return send_json(c, 200, model_object(st));
		serve_fail(&err, 404, "invalid_request_error", "model",
			   "model_not_found", "the model '%.64s' does not exist",
			   url + 11);
		return send_error(c, &err);
	}
	if (!strcmp(url, "/v1/chat/completions") || !strcmp(url, "/v1/completions")) {
		if (!post)
			goto wrong_method;
		return generate(conn, c, url[4] == 'c' && url[5] == 'h' ?
				SERVE_CHAT : SERVE_COMPLETION);
	}
not_found:
	serve_fail(&err, 404, "invalid_request_error", NULL, "not_found",
		   "there is no %.16s %.100s here (POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health)",
		   method, url);
	return send_error(c, &err);
wrong_method:
	serve_fail(&err, 405, "invalid_request_error", NULL, "method_not_allowed",
		   "%.16s is not allowed on %.100s", method, url);
	return send_error(c, &err);
}

/* handle()'s closure: the options, then the state */
struct http_closure {
	struct serve_http_options o;
	struct serve_state *st;
};

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	const struct http_closure *cl = cls;
	const struct serve_http_options *o = &cl->o;
	struct serve_state *st = cl->st;
	struct serve_conn *conn = *con_cls;

	(void)version;
	if (!conn) {
		const char *length;

		conn = calloc(1, sizeof(*conn));
		if (!conn)
			return MHD_NO;
		conn->st = st;
		conn->max_body = o->max_body;
		*con_cls = conn;
		/* refused before the body is read, if it says it is too big */
		length = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (length && strtoull(length, NULL, 10) > o->max_body) {
			struct serve_error err;

			conn->too_large = true;
			serve_fail(&err, 413, "invalid_request_error", NULL,
				   "request_too_large",
				   "the request body is larger than this server's limit of %zu bytes (lumen serve --max-body)",
				   o->max_body);
			return send_error(c, &err);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!conn->too_large && conn->len + *upload_size > o->max_body)
			conn->too_large = true;
		if (!conn->too_large) {
			if (conn->len + *upload_size + 1 > conn->cap) {
				size_t cap = (conn->len + *upload_size + 1) * 2;
				char *b;

				if (cap > o->max_body + 1)
					cap = o->max_body + 1;
				b = realloc(conn->body, cap);
				if (!b)
					return MHD_NO;
				conn->body = b;
				conn->cap = cap;
			}
			memcpy(conn->body + conn->len, upload, *upload_size);
			conn->len += *upload_size;
			conn->body[conn->len] = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return route(conn, c, url, method);
}

static void request_completed(void *cls, struct MHD_Connection *c,
			      void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct serve_conn *conn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!conn)
		return;
	/* a stream whose client left before its end */
	if (conn->have_gen && conn->admitted && !conn->finished)
		count_end(conn->st, &conn->st->cancelled);
	end_generation(conn);
	if (conn->have_req)
		serve_request_free(&conn->req);
	free(conn->body);
	free(conn->out);
	free(conn);
	*con_cls = NULL;
}

int serve_http_start(struct serve_state *st, const struct serve_http_options *o,
		     struct MHD_Daemon **daemon, uint16_t *port)
{
	static struct http_closure closure;
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE,
	};
	struct addrinfo *ai;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	char service[8];
	int ret;

	closure.o = *o;
	closure.st = st;
	snprintf(service, sizeof(service), "%u", o->port);
	ret = getaddrinfo(o->host, service, &hints, &ai);
	if (ret) {
		fprintf(stderr, "lumen: serve: --host %s: %s\n", o->host,
			gai_strerror(ret));
		return -1;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	*daemon = MHD_start_daemon(flags, o->port, NULL, NULL, handle, &closure,
				   MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				   MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
				   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)300,
				   MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
				   MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!*daemon) {
		fprintf(stderr, "lumen: serve: cannot listen on %s port %u (in use, or not an address of this machine?)\n",
			o->host, o->port);
		return -1;
	}
	info = MHD_get_daemon_info(*daemon, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? info->port : o->port;
	return 0;
}

void serve_http_stop(struct MHD_Daemon *daemon)
{
	MHD_stop_daemon(daemon);
}
