// SPDX-License-Identifier: MIT
/*
 * The generate loop: prompt -> prefill -> (sample -> stream -> decode)*.
 * The token just sampled is decoded only when another one is wanted, so
 * n tokens cost the prefill chunks plus n - 1 decode submissions.
 */
#include <stdlib.h>
#include <string.h>

#include "lumen_internal.h"
#include "speculative.h"

struct lumen_generate_params lumen_generate_default_params(void)
{
	struct lumen_generate_params p = {
		.sampling = lumen_sampler_default_params(),
		.n_predict = 128,
		.stop_at_eos = true,
	};
	return p;
}

/* penalties need the logits; plain greedy takes the device's argmax */
static bool device_argmax_will_do(const struct lumen_sampler_params *p)
{
	return p->temperature <= 0 &&
	       (p->repeat_penalty == 1 || p->repeat_last_n == 0) &&
	       ((p->frequency_penalty == 0 && p->presence_penalty == 0) ||
		p->repeat_last_n == 0);
}

static int next_token(struct lumen_session *s, struct lumen_sampler *smp,
		      bool greedy, int32_t *id)
{
	const float *logits;

	if (greedy) {
		*id = lumen_session_argmax(s);
		if (*id < 0 || (uint32_t)*id >= s->model->file.meta.n_vocab)
			return lumen_fail(LUMEN_E_FAULT,
					  "the device's argmax %d is not a token id",
					  *id);
		return 0;
	}
	logits = lumen_session_logits(s);
	if (!logits)
		return LUMEN_E_INVAL;
	*id = lumen_sampler_sample(smp, logits);
	return 0;
}

static int emit(struct lumen_session *s, const struct lumen_generate_params *p,
		int32_t id)
{
	char piece[256];
	long len;

	if (!p->on_token)
		return 0;
	len = lumen_token_to_piece(s->model->tok, id, 0, piece, sizeof(piece));
	if (len < 0)
		len = 0;
	if ((size_t)len > sizeof(piece))
		len = sizeof(piece);
	return p->on_token(p->data, id, piece, (size_t)len);
}

bool lumen_generate_is_stop(const struct lumen_generate_params *p,
			    int32_t eos, int32_t id)
{
	if (p->stop_at_eos && id == eos)
		return true;
	for (size_t i = 0; i < p->n_stop_ids; i++)
		if (p->stop_ids && p->stop_ids[i] == id)
			return true;
	return false;
}

/*
 * What to prefill: the previous call's last token (sampled, never run),
 * then @ids. Returns the array to prefill (@ids itself when nothing is
 * pending), NULL if out of memory.
 */
static const int32_t *with_pending(const struct lumen_session *s,
				   const int32_t *ids, size_t n, size_t *total,
				   int32_t **owned)
{
	int32_t *all;

	*owned = NULL;
	*total = n;
	if (!s->has_pending)
		return ids;
	all = malloc((n + 1) * sizeof(*all));
	if (!all)
		return NULL;
	all[0] = s->pending;
	if (n)
		memcpy(all + 1, ids, n * sizeof(*ids));
	*owned = all;
	*total = n + 1;
	return all;
}

/*
 * Decode @id (token @i of the loop) and leave its argmax in *@next, with
 * the job for *@next already queued behind it when the loop may want it:
 * it is, unless *@next stops the loop (then lumen_chain_drain() waits for
 * it and the session says its output ran ahead).
 */
static int chained_decode(struct lumen_session *s,
			  const struct lumen_generate_params *p, uint32_t i,
			  int32_t id, int32_t *next)
{
	int ret;

	if (!lumen_chain_queued(s)) {
		ret = lumen_chain_begin(s, id);
		if (!ret)
			ret = lumen_chain_submit(s);
		if (ret)
			return ret;
	}
	/* the loop decodes token i + 1 if it is not the last and fits */
	if (i + 2 < p->n_predict && s->pos + 1 < s->ctx) {
		ret = lumen_chain_submit(s);
		if (ret)
			return ret;
	}
	return lumen_chain_wait(s, next);
}

int lumen_session_decode_greedy(struct lumen_session *s, int32_t id,
				uint32_t n, int32_t *out)
{
	int ret = 0, drained;

	if (!n)
		return 0;
	if (n > s->ctx - s->pos)
		return lumen_fail(LUMEN_E_CONTEXT,
				  "%u tokens at position %u do not fit in a context of %u",
				  n, s->pos, s->ctx);
	if (!lumen_chain_ready(s)) {
		for (uint32_t k = 0; k < n; k++) {
			ret = lumen_session_decode(s, id);
			if (ret)
				return ret;
			id = lumen_session_argmax(s);
			if (out)
				out[k] = id;
		}
		return 0;
	}
	ret = lumen_chain_begin(s, id);
	if (!ret)
		ret = lumen_chain_submit(s);
	for (uint32_t k = 0; k < n && !ret; k++) {
		if (k + 1 < n)
			ret = lumen_chain_submit(s);
		if (!ret)
			ret = lumen_chain_wait(s, &id);
		if (!ret && out)
			out[k] = id;
	}
	drained = lumen_chain_drain(s);	/* only after an error */
	return ret ? ret : drained < 0 ? drained : 0;
}

int lumen_generate_ids(struct lumen_session *s, const int32_t *ids, size_t n,
		       const struct lumen_generate_params *p,
		       struct lumen_generate_stats *stats)
{
	struct lumen_generate_stats st = { 0 };
	struct lumen_sampler *smp = NULL;
	uint64_t t0 = lumen_now_ns(), t_first = 0, subs0 = s->submissions;
	int32_t eos = lumen_tokenizer_eos(s->model->tok);
	bool greedy = device_argmax_will_do(&p->sampling), chain = false;
	int32_t next = -1;
	const int32_t *run;
	int32_t *owned;
	size_t total;
	int ret;

	run = with_pending(s, ids, n, &total, &owned);
	if (!run) {
		ret = lumen_fail(LUMEN_E_NOMEM, "out of memory");
		goto out;
	}
	st.n_prompt = (uint32_t)total;
	if (total == 0) {
		ret = lumen_fail(LUMEN_E_INVAL,
				 "nothing to generate from: no prompt and nothing pending");
		goto out;
	}
	if (total > s->ctx - s->pos) {
		ret = lumen_fail(LUMEN_E_CONTEXT,
				 "the prompt is %zu tokens, the context holds %u (%u free)",
				 total, s->ctx, s->ctx - s->pos);
		goto out;
	}
	if (p->spec && p->spec->kind != LUMEN_SPEC_NONE) {	/* speculative.c */
		ret = lumen_spec_generate_ids(s, run, total, p, stats);
		free(owned);
		return ret;
	}
	if (!greedy) {
		ret = lumen_sampler_create(s->model->file.meta.n_vocab,
					   &p->sampling, &smp);
		if (ret)
			goto out;
		for (size_t i = 0; i < total; i++)
			lumen_sampler_accept(smp, run[i]);
	}
	ret = lumen_session_prefill(s, run, total);
	if (ret)
		goto out;
	s->has_pending = false;
	st.prefill_ns = lumen_now_ns() - t0;
	/* the device's argmax decides: it feeds itself (decode_chain.c) */
	chain = greedy && lumen_chain_ready(s);
	st.chained = chain;
	for (uint32_t i = 0; i < p->n_predict; i++) {
		int32_t id = next;

		if (i == 0 || !chain)
			ret = next_token(s, smp, greedy, &id);
		if (ret)
			goto out;
		if (smp)
			lumen_sampler_accept(smp, id);
		/* kept for the next call, which runs it before its prompt */
		s->pending = id;
		s->has_pending = true;
		if (lumen_generate_is_stop(p, eos, id)) {
			st.hit_eos = true;
			break;
		}
		st.n_generated++;
		if (emit(s, p, id))
			break;
		if (i == 0) {
			t_first = lumen_now_ns();
			st.first_token_ns = t_first - t0;
		}
		if (i + 1 == p->n_predict)
			break;
		if (s->pos >= s->ctx) {
			st.hit_context = true;
			break;
		}
		if (chain)
			ret = chained_decode(s, p, i, id, &next);
		else
			ret = lumen_session_decode(s, id);
		if (ret)
			goto out;
		s->has_pending = false;
	}
	if (t_first)
		st.decode_ns = lumen_now_ns() - t_first;
out:
	if (chain) {
		/* a job queued for a token the loop then did not keep */
		int drained = lumen_chain_drain(s);

		if (drained < 0 && !ret)
			ret = drained;
		if (drained > 0)
			st.n_ran_ahead = (uint32_t)drained;
	}
	st.submissions = s->submissions - subs0;
	if (stats)
		*stats = st;
	lumen_sampler_destroy(smp);
	free(owned);
	return ret;
}

int lumen_generate(struct lumen_session *s, const char *prompt, size_t len,
		   const struct lumen_generate_params *p,
		   struct lumen_generate_stats *stats)
{
	const struct lumen_tokenizer *tok = s->model->tok;
	/* BOS opens a text: a session that holds one is continued */
	bool bos = lumen_tokenizer_add_bos(tok) && s->pos == 0 &&
		   !s->has_pending;
	/* as llama-cli: control tokens typed in the prompt are tokens */
	unsigned flags = LUMEN_TOKENIZE_PARSE_SPECIAL |
			 (bos ? LUMEN_TOKENIZE_BOS : 0);
	size_t cap = LUMEN_TOKENIZE_MAX(len);
	int32_t *ids = malloc(cap * sizeof(*ids));
	long n;
	int ret;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (!ids)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	n = lumen_tokenize(tok, prompt, len, flags, ids, cap);
	if (n < 0 || (size_t)n > cap) {
		free(ids);
		/* more ids than LUMEN_TOKENIZE_MAX would be a tokenizer bug */
		return n < 0 ? (int)n : lumen_fail(LUMEN_E_INVAL,
				"the prompt tokenizes to more than %zu ids", cap);
	}
	if (n == 0 && !s->has_pending) {
		free(ids);
		return lumen_fail(LUMEN_E_INVAL,
				  "the prompt is empty and the model adds no BOS");
	}
	ret = lumen_generate_ids(s, ids, (size_t)n, p, stats);
	free(ids);
	return ret;
}
