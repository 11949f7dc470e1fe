// SPDX-License-Identifier: MIT
/*
 * One request's generation, turn by turn, on a session it holds, taking
 * the device for each turn (serve_gen.h says why). The loop is
 * lumen_generate()'s, written out with a speculator (the prefill, then a
 * round per turn, plain or speculative) so that the device can be given
 * up between two rounds and a stream can end when its client goes away.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serve_gen.h"

void serve_gate_init(struct serve_gate *g, unsigned int cap)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->cap = cap;
}

void serve_gate_destroy(struct serve_gate *g)
{
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
}

static bool higher_waiting(const struct serve_gate *g, int priority)
{
	for (int p = priority + 1; p < 3; p++)
		if (g->next[p] != g->serving[p])
			return true;
	return false;
}

void serve_gate_enter(struct serve_gate *g, int priority)
{
	uint64_t ticket;

	pthread_mutex_lock(&g->mu);
	ticket = g->next[priority]++;
	while (g->used >= g->cap || g->serving[priority] != ticket ||
	       higher_waiting(g, priority))
		pthread_cond_wait(&g->cv, &g->mu);
	g->serving[priority]++;
	g->used++;
	/* the next ticket of this priority may fit too */
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void serve_gate_leave(struct serve_gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->used--;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

bool serve_admit(struct serve_state *st)
{
	bool ok;

	pthread_mutex_lock(&st->mu);
	ok = st->admitted < st->parallel + st->queue;
	if (ok)
		st->admitted++;
	else
		st->rejected++;
	pthread_mutex_unlock(&st->mu);
	return ok;
}

void serve_unadmit(struct serve_state *st)
{
	pthread_mutex_lock(&st->mu);
	st->admitted--;
	pthread_mutex_unlock(&st->mu);
}

int serve_gen_init(struct serve_gen *g, struct serve_state *st,
		   const struct serve_request *req, int priority,
		   const char *prompt, struct serve_error *err)
{
	const struct lumen_tokenizer *tok = lumen_model_tokenizer(st->model);
	/* as lumen run: control tokens in the prompt (a chat template's) count */
	unsigned int flags = LUMEN_TOKENIZE_PARSE_SPECIAL |
			     (lumen_tokenizer_add_bos(tok) ? LUMEN_TOKENIZE_BOS : 0);
	size_t len = strlen(prompt), cap = LUMEN_TOKENIZE_MAX(len);
	uint32_t ctx;
	long n;

	memset(g, 0, sizeof(*g));
	g->st = st;
	g->req = req;
	g->priority = priority;
	g->session = -1;
	g->t_start = lumen_now_ns();
	g->spec_kind = req->spec >= 0 ? req->spec : (int)st->spec.kind;
	if (g->spec_kind == SERVE_SPEC_DRAFT && !st->spec.draft)
		return serve_fail(err, 400, "invalid_request_error", "lumen.spec", NULL,
				  "this server has no draft model (lumen serve --draft MODEL): use \"ngram\" or \"none\"");
	if (g->spec_kind != SERVE_SPEC_NONE && !lumen_model_max_draft(st->model))
		return serve_fail(err, 400, "invalid_request_error", "lumen.spec", NULL,
				  "the model has no verify program for speculative decoding (compile it with lumenc --draft-max N): use \"none\"");
	g->ids = malloc(cap * sizeof(*g->ids));
	if (!g->ids)
		return serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
	n = lumen_tokenize(tok, prompt, len, flags, g->ids, cap);
	if (n < 0 || (size_t)n > cap)
		return serve_fail(err, 500, "server_error", NULL, NULL,
				  "the prompt could not be tokenized: %s",
				  lumen_last_error());
	if (n == 0)
		return serve_fail(err, 400, "invalid_request_error",
				  req->kind == SERVE_CHAT ? "messages" : "prompt",
				  NULL, "the prompt is empty");
	/* every session has the same context (lumen serve --ctx) */
	ctx = lumen_session_ctx(st->sessions[0]);
	if ((uint64_t)n >= ctx)
		return serve_fail(err, 400, "invalid_request_error",
				  req->kind == SERVE_CHAT ? "messages" : "prompt",
				  "context_length_exceeded",
				  "the prompt is %ld tokens; this server's context holds %u, and at least one must be left to generate",
				  n, ctx);
	g->n_prompt = (size_t)n;
	g->stop_ids[g->n_stop_ids++] = lumen_tokenizer_eos(tok);
	g->max_tokens = req->max_tokens ? req->max_tokens : st->limits.max_tokens;
	return 0;
}

void serve_gen_add_stop_ids(struct serve_gen *g, const int32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (g->n_stop_ids < sizeof(g->stop_ids) / sizeof(g->stop_ids[0]))
			g->stop_ids[g->n_stop_ids++] = ids[i];
}

static bool is_stop_id(const struct serve_gen *g, int32_t id)
{
	for (size_t i = 0; i < g->n_stop_ids; i++)
		if (g->stop_ids[i] == id)
			return true;
	return false;
}

/*
 * The device failing a job (a hang the driver reset, a lost device) is
 * the service being unavailable for now: 503, retry. A fault of the
 * program itself, or anything else, is the server's error: 500.
 */
static int device_error(struct serve_error *err, const char *what, int ret)
{
	const char *detail = lumen_last_error();

	if (ret == LUMEN_E_DEVICE)
		return serve_fail(err, 503, "server_error", NULL, "device_unavailable",
				  "%s: %s; retry later", what,
				  detail[0] ? detail : lumen_strerror(ret));
	return serve_fail(err, 500, "server_error", NULL, NULL, "%s: %s", what,
			  detail[0] ? detail : lumen_strerror(ret));
}

static int take_session(struct serve_gen *g, struct serve_error *err)
{
	struct serve_state *st = g->st;
	struct lumen_sampler_params *sp = &g->sampling;
	struct lumen_session *s;
	int driver_priority = g->priority;
	int ret;

	serve_gate_enter(&st->slots, g->priority);
	pthread_mutex_lock(&st->mu);
	for (unsigned int i = 0; i < st->parallel; i++) {
		if (!st->session_busy[i]) {
			st->session_busy[i] = true;
			g->session = (int)i;
			break;
		}
	}
	st->active++;
	pthread_mutex_unlock(&st->mu);
	g->t_session = lumen_now_ns();
	s = st->sessions[g->session];
	lumen_session_reset(s);
	/* HIGH needs CAP_SYS_NICE at the driver: ordering here still applies */
	if (driver_priority == SERVE_PRIORITY_HIGH && !st->high_to_driver)
		driver_priority = SERVE_PRIORITY_NORMAL;
	ret = lumen_session_set_priority(s, (enum lumen_priority)driver_priority);
	if (ret)
		return device_error(err, "priority", ret);
	*sp = lumen_sampler_default_params();
	/* OpenAI's sampling: temperature and top_p, nothing else */
	sp->temperature = g->req->temperature;
	sp->top_p = g->req->top_p;
	sp->top_k = 0;
	sp->min_p = 0;
	sp->seed = g->req->seed_given ? g->req->seed :
		   (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ g->t_start;
	return 0;
}

static int append(struct serve_gen *g, const char *piece, size_t n)
{
	if (g->len + n + 1 > g->cap) {
		size_t cap = (g->cap ? g->cap * 2 : 256) + n;
		char *t = realloc(g->text, cap);

		if (!t)
			return -1;
		g->text = t;
		g->cap = cap;
	}
	memcpy(g->text + g->len, piece, n);
	g->len += n;
	g->text[g->len] = 0;
	return 0;
}

static size_t longest_stop(const struct serve_request *req)
{
	size_t m = 0;

	for (size_t i = 0; i < req->n_stop; i++)
		if (strlen(req->stop[i]) > m)
			m = strlen(req->stop[i]);
	return m;
}

/* cut @text before the first stop sequence that the new bytes completed */
static bool cut_at_stop(struct serve_gen *g, size_t old_len)
{
	size_t longest = longest_stop(g->req), from, best = (size_t)-1;

	if (!longest)
		return false;
	from = old_len >= longest - 1 ? old_len - (longest - 1) : 0;
	for (size_t i = 0; i < g->req->n_stop; i++) {
		const char *hit = memmem(g->text + from, g->len - from,
					 g->req->stop[i], strlen(g->req->stop[i]));

		if (hit && (size_t)(hit - g->text) < best)
			best = (size_t)(hit - g->text);
	}
	if (best == (size_t)-1)
		return false;
	g->len = best;
	g->text[best] = 0;
	return true;
}

/*
 * A token the speculator accepted (@data: the generation): 1 when the
 * answer ends with it, which stops the round there.
 */
static int take_token(void *data, int32_t id)
{
	struct serve_gen *g = data;
	struct serve_state *st = g->st;
	struct lumen_session *s = st->sessions[g->session];
	char piece[256];
	size_t old_len;
	long n;

	g->last = id;
	if (is_stop_id(g, id)) {
		g->finish = SERVE_FINISH_STOP;
		return 1;
	}
	g->n_generated++;
	n = lumen_token_to_piece(lumen_model_tokenizer(st->model), id, 0,
				 piece, sizeof(piece));
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(piece))
		n = sizeof(piece);
	old_len = g->len;
	if (append(g, piece, (size_t)n)) {
		g->out_of_memory = true;
		return 1;
	}
	if (cut_at_stop(g, old_len))
		g->finish = SERVE_FINISH_STOP;
	else if (g->n_generated >= g->max_tokens ||
		 lumen_session_pos(s) >= lumen_session_ctx(s))
		g->finish = SERVE_FINISH_LENGTH;
	return g->finish != SERVE_RUNNING;
}

/*
 * The slot's draft session (on the device: called holding its gate),
 * made by the slot's first drafting request; the slot is this request's
 * alone, so is the session until serve_gen_fini()
 */
static int slot_draft_session(struct serve_gen *g, struct lumen_session *s,
			      struct lumen_session **out)
{
	struct serve_state *st = g->st;
	struct lumen_session **ds = &st->draft_sessions[g->session];
	struct lumen_model_info info;
	uint32_t ctx = lumen_session_ctx(s);
	int ret;

	if (!*ds) {
		lumen_model_get_info(st->spec.draft, &info);
		ret = lumen_session_create(st->spec.draft,
					   info.ctx < ctx ? info.ctx : ctx, ds);
		if (ret)
			return ret;
		pthread_mutex_lock(&st->mu);
		st->draft_sessions_made++;
		pthread_mutex_unlock(&st->mu);
	}
	*out = *ds;
	return 0;
}

/*
 * One turn on the device: the prompt (@first: the speculator is made
 * then, on the device too, as a draft model's session is), else a round;
 * its tokens go through take_token().
 */
static int device_turn(struct serve_gen *g, bool first, struct serve_error *err)
{
	struct serve_state *st = g->st;
	struct lumen_session *s = st->sessions[g->session];
	struct lumen_spec_params spec = st->spec;
	struct lumen_counters c0, c1;
	int ret = 0;

	spec.kind = (enum lumen_spec_kind)g->spec_kind;
	serve_gate_enter(&st->device, g->priority);
	lumen_device_get_counters(st->dev, &c0);
	if (first && !g->spec && spec.kind == LUMEN_SPEC_DRAFT)
		ret = slot_draft_session(g, s, &spec.draft_session);
	if (!ret && first && !g->spec)
		ret = lumen_speculator_create(s, &spec, &g->sampling, &g->spec);
	if (!ret && first)
		ret = lumen_speculator_start(g->spec, g->ids, g->n_prompt,
					     take_token, g);
	else if (!ret)
		ret = lumen_speculator_step(g->spec, g->max_tokens - g->n_generated,
					    take_token, g);
	lumen_device_get_counters(st->dev, &c1);
	serve_gate_leave(&st->device);
	g->busy_ns += c1.busy_ns - c0.busy_ns;
	g->energy_uj += c1.energy_uj - c0.energy_uj;
	g->submissions += c1.submissions - c0.submissions;
	if (g->spec)
		lumen_speculator_get_stats(g->spec, &g->spec_st);
	if (ret < 0)
		return device_error(err, first ? "prefill" : "decode", ret);
	if (g->out_of_memory)
		return serve_fail(err, 500, "server_error", NULL, NULL, "out of memory");
	return 0;
}

int serve_gen_step(struct serve_gen *g, struct serve_error *err)
{
	struct serve_state *st = g->st;
	struct lumen_session *s;
	bool first = g->session < 0;

	if (g->finish != SERVE_RUNNING)
		return 0;
	if (first && take_session(g, err))
		return -1;
	s = st->sessions[g->session];
	if (!first && lumen_session_pos(s) >= lumen_session_ctx(s)) {
		g->finish = SERVE_FINISH_LENGTH;
		return 0;
	}
	if (device_turn(g, first, err))
		return -1;
	if (first)
		g->t_first = lumen_now_ns();
	return 0;
}

void serve_gen_fini(struct serve_gen *g)
{
	struct serve_state *st = g->st;

	if (!st)
		return;
	g->t_end = lumen_now_ns();
	if (g->spec) {
		/* the draft session stays with the slot (slot_draft_session()) */
		lumen_speculator_free(g->spec);
		g->spec = NULL;
		pthread_mutex_lock(&st->mu);
		st->spec_requests += g->spec_kind != SERVE_SPEC_NONE;
		st->spec_total.n_rounds += g->spec_st.n_rounds;
		st->spec_total.n_verify += g->spec_st.n_verify;
		st->spec_total.n_drafted += g->spec_st.n_drafted;
		st->spec_total.n_accepted += g->spec_st.n_accepted;
		st->spec_total.n_tokens += g->spec_st.n_tokens;
		st->spec_total.draft_submissions += g->spec_st.draft_submissions;
		pthread_mutex_unlock(&st->mu);
	}
	if (g->session >= 0) {
		pthread_mutex_lock(&st->mu);
		st->session_busy[g->session] = false;
		st->active--;
		pthread_mutex_unlock(&st->mu);
		serve_gate_leave(&st->slots);
		g->session = -1;
	}
	free(g->ids);
	g->ids = NULL;
	free(g->text);
	g->text = NULL;
	g->len = g->cap = g->sent = 0;
	g->st = NULL;
}

size_t serve_gen_ready(const struct serve_gen *g, bool final)
{
	size_t hold = longest_stop(g->req), end;

	if (final)
		return g->len;
	hold = hold ? hold - 1 : 0;
	end = g->len > hold ? g->len - hold : 0;
	if (end <= g->sent)
		return g->sent;
	return serve_utf8_complete(g->text, g->sent, end);
}

