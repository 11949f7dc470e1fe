// SPDX-License-Identifier: MIT
/*
 * The speculative generate loop. With t the token chosen last (not yet
 * in the cache) and d[0..k) the drafts:
 *
 *   verify [t, d0 .. dk-1]       one submission, k + 1 rows
 *   a[i] = the model's choice after t, d0 .. di-1
 *   keep d0 .. dj-1 where di == a[i], then a[j] is the next t
 *
 * so a round yields 1 .. k + 1 tokens for one read of the weights. The
 * cache keeps the verified rows; the position moves back over the
 * rejected ones (nothing is copied). When the drafter has nothing, the
 * round is a plain decode: no verify job is spent on a lone token.
 *
 * Greedy: a[i] is the device's argmax (n words read back), so the output
 * is the plain loop's token for token. Sampling: a[i] comes from the
 * acceptance rule (speculative_accept.c) over the sampler's distribution
 * of row i, so tokens follow the model's distribution.
 *
 * As in the plain loop, the last token handled is never run through the
 * model: the session ends holding every token but the last.
 *
 * A round is one call, lumen_speculator_step(), handing its tokens to the
 * caller one by one, so that a server can run each round in its turn on
 * the device and stop a stream exactly where plain decoding would;
 * lumen_generate() with params.spec is the same calls in a loop.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "speculative.h"

int lumen_spec_from_name(const char *name)
{
	static const char *const names[] = {
		[LUMEN_SPEC_NONE] = "none", [LUMEN_SPEC_NGRAM] = "ngram",
		[LUMEN_SPEC_DRAFT] = "draft", [LUMEN_SPEC_MTP] = "mtp",
	};

	for (int i = 0; name && i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (!strcmp(name, names[i]))
			return i;
	return lumen_fail(LUMEN_E_INVAL,
			  "speculative decoding '%s': use none, ngram, draft or mtp",
			  name ? name : "(null)");
}

enum choice { DEVICE_ARGMAX, HOST_GREEDY, SAMPLED };

struct lumen_speculator {
	struct lumen_session *s;
	struct lumen_spec_params spec;	/* kind NONE: no drafter */
	struct lumen_spec_stats st;
	struct lumen_sampler *smp;
	struct spec_drafter *drafter;
	enum choice choice;
	bool started;
	int32_t t;		/* the last token handed out, not yet run */
	int32_t *hist;		/* the prompt, then the tokens handed out */
	size_t n_hist, cap_hist;
	float *pdense;		/* SAMPLED: the model's distribution of a row */
	/*
	 * SAMPLED with top_k <= the verify program's top-k and no penalties:
	 * n_vocab logits, -inf but for a row's top-k, which are all the
	 * sampler's top_k filter can keep
	 */
	float *sparse;
	int32_t *buf, *argmax;	/* [t, drafts], and the rows' argmax */
	uint32_t k;		/* draft length now, adapted to what is kept */
	uint32_t max_draft;
	/*
	 * Whether verifying pays here: ns per token of plain decode rounds
	 * and of verify rounds (moving averages, 0 before the first), and
	 * rounds left without drafting while verifying costs more per token
	 * than decoding (a host CPU is compute-bound: each verified row
	 * costs a decode's arithmetic; an NPU bound by memory bandwidth
	 * pays for the weights once per job).
	 */
	double ns_decode, ns_verify;
	uint32_t pause, backoff;
};

/* as generate.c: penalties need the logits, plain greedy does not */
static enum choice choice_of(const struct lumen_sampler_params *p)
{
	if (p->temperature > 0)
		return SAMPLED;
	if ((p->repeat_penalty == 1 || p->repeat_last_n == 0) &&
	    ((p->frequency_penalty == 0 && p->presence_penalty == 0) ||
	     p->repeat_last_n == 0))
		return DEVICE_ARGMAX;
	return HOST_GREEDY;
}

/*
 * A token accepted: the sampler's penalties and the drafter's history see
 * it before the next row is judged; it is the session's pending token
 * (not in the cache: the next round, or the session's next
 * lumen_generate, runs it first). The caller's verdict: non-zero stops.
 */
static int give(struct lumen_speculator *sp, int32_t id,
		lumen_spec_token_cb cb, void *data)
{
	if (sp->smp)
		lumen_sampler_accept(sp->smp, id);
	sp->s->pending = id;
	sp->s->has_pending = true;
	sp->t = id;
	if (sp->n_hist < sp->cap_hist)
		sp->hist[sp->n_hist++] = id;
	return cb ? cb(data, id) : 0;
}

/* the model's next token from the last job's (last row's) output */
static int choose(struct lumen_speculator *sp, int32_t *id)
{
	const float *logits;

	if (sp->choice == DEVICE_ARGMAX) {
		*id = lumen_session_argmax(sp->s);
		if (*id < 0 || (uint32_t)*id >= sp->s->model->file.meta.n_vocab)
			return lumen_fail(LUMEN_E_FAULT,
					  "the device's argmax %d is not a token id", *id);
		return 0;
	}
	logits = lumen_session_logits(sp->s);
	if (!logits)
		return LUMEN_E_INVAL;
	*id = lumen_sampler_sample(sp->smp, logits);
	return 0;
}

/*
 * Row @row's logits as the sampler's filters see them: with the device's
 * top-k, only 8k bytes are read back (the rest stays -inf, which top_k
 * drops: the candidates and their probabilities are those of the full
 * row); else the whole row.
 */
static int row_logits(struct lumen_speculator *sp, size_t row,
		      const float **out)
{
	const struct lnpu_meta *m = &sp->s->model->file.meta;
	const uint8_t *top;
	const int32_t *ids;
	const float *vals;
	uint32_t k = m->verify_topk;

	if (!sp->sparse) {
		*out = lumen_session_row_logits(sp->s, row);
		return *out ? 0 : LUMEN_E_INVAL;
	}
	top = (const uint8_t *)sp->s->out.host + m->out_verify_topk +
	      8ull * k * row;
	ids = (const int32_t *)top;
	vals = (const float *)(top + 4ull * k);
	for (uint32_t i = 0; i < m->n_vocab; i++)
		sp->sparse[i] = -INFINITY;
	for (uint32_t i = 0; i < k; i++) {
		if (ids[i] < 0 || (uint32_t)ids[i] >= m->n_vocab)
			return lumen_fail(LUMEN_E_FAULT,
					  "the device's top-k id %d is not a token id",
					  ids[i]);
		sp->sparse[ids[i]] = vals[i];
	}
	sp->st.n_topk_rows++;
	*out = sp->sparse;
	return 0;
}

/* SAMPLED: row @row's distribution after the sampler's filters, dense */
static int row_distribution(struct lumen_speculator *sp, size_t row)
{
	const float *logits = NULL;
	const int32_t *ids;
	const float *probs;
	size_t n;
	int ret = row_logits(sp, row, &logits);

	if (ret)
		return ret;
	n = lumen_sampler_candidates(sp->smp, logits, &ids, &probs);
	memset(sp->pdense, 0, 4ull * sp->s->model->file.meta.n_vocab);
	for (size_t c = 0; c < n; c++)
		sp->pdense[ids[c]] = probs[c];
	return 0;
}

/*
 * Row @i's verdict on draft @d: *@next the model's token there, *@agree
 * whether it is @d (always so when the acceptance rule keeps @d).
 */
static int judge(struct lumen_speculator *sp, uint32_t i, uint32_t n_drafts,
		 int32_t *next, bool *agree)
{
	uint32_t n_vocab = sp->s->model->file.meta.n_vocab;
	const int32_t *drafts = sp->buf + 1;
	const float *logits;
	int ret;

	*agree = false;
	switch (sp->choice) {
	case DEVICE_ARGMAX:
		*next = sp->argmax[i];
		if (*next < 0 || (uint32_t)*next >= n_vocab)
			return lumen_fail(LUMEN_E_FAULT,
					  "the device's argmax %d is not a token id", *next);
		break;
	case HOST_GREEDY:
		logits = lumen_session_row_logits(sp->s, i);
		if (!logits)
			return LUMEN_E_INVAL;
		*next = lumen_sampler_sample(sp->smp, logits);
		break;
	case SAMPLED:
		ret = row_distribution(sp, i);
		if (ret)
			return ret;
		if (i == n_drafts) {	/* every draft kept: the bonus token */
			*next = spec_draw(sp->pdense, n_vocab,
					  lumen_sampler_uniform(sp->smp));
			return 0;
		}
		{
			double u1 = lumen_sampler_uniform(sp->smp);
			double u2 = lumen_sampler_uniform(sp->smp);
			const float *q = sp->drafter->q ?
				sp->drafter->q + (size_t)i * n_vocab : NULL;

			*next = spec_accept(sp->pdense, q, n_vocab, drafts[i],
					    u1, u2, agree);
		}
		return 0;
	}
	*agree = i < n_drafts && *next == drafts[i];
	return 0;
}

static int create_drafter(struct lumen_speculator *sp,
			  const struct lumen_sampler_params *sampling)
{
	const struct lumen_spec_params *p = &sp->spec;
	const struct lnpu_meta *meta = &sp->s->model->file.meta;

	switch (p->kind) {
	case LUMEN_SPEC_NGRAM:
		return spec_ngram_create(p, &sp->drafter);
	case LUMEN_SPEC_DRAFT:
		return spec_draft_model_create(p, sp->s,
					       sp->choice == SAMPLED ? sampling : NULL,
					       sp->max_draft, &sp->drafter);
	case LUMEN_SPEC_MTP:
		/* lumenc compiles no nextn/MTP tensors: no .lnpu carries a head */
		return lumen_fail(LUMEN_E_INVAL,
				  "model \"%.64s\" (%.16s) has no multi-token-prediction head: its file carries no MTP/nextn layers (llama.cpp's blk.N.nextn.* tensors, which DeepSeek-V3 and GLM-4.5 ship); use --spec ngram or --spec draft --draft MODEL",
				  meta->name, meta->arch);
	default:
		return lumen_fail(LUMEN_E_INVAL,
				  "speculative decoding kind %d is not none, ngram, draft or mtp",
				  (int)p->kind);
	}
}

int lumen_speculator_create(struct lumen_session *s,
			    const struct lumen_spec_params *spec,
			    const struct lumen_sampler_params *sampling,
			    struct lumen_speculator **out)
{
	uint32_t n_vocab = s->model->file.meta.n_vocab;
	struct lumen_speculator *sp;
	int ret = 0;

	*out = NULL;
	if (!sampling)
		return lumen_fail(LUMEN_E_INVAL, "no sampler parameters");
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	sp->s = s;
	if (spec)
		sp->spec = *spec;
	sp->choice = choice_of(sampling);
	if (sp->spec.kind != LUMEN_SPEC_NONE) {
		sp->max_draft = lumen_model_max_draft(s->model);
		if (!sp->max_draft) {
			ret = lumen_fail(LUMEN_E_INVAL,
					 "model \"%.64s\" has no verify program for speculative decoding: compile it again with this lumenc (lumenc --draft-max N)",
					 s->model->file.meta.name);
			goto fail;
		}
		if (sp->spec.draft_max && sp->spec.draft_max < sp->max_draft)
			sp->max_draft = sp->spec.draft_max;
		/* start short: a wrong guess then costs little, kept drafts grow it */
		sp->k = sp->max_draft < 2 ? sp->max_draft : 2;
		ret = create_drafter(sp, sampling);
		if (ret)
			goto fail;
	}
	/* sampled rows judged from the device's top-k: see row_logits() */
	if (sp->choice == SAMPLED && s->model->file.meta.verify_topk &&
	    sampling->top_k > 0 &&
	    (uint32_t)sampling->top_k <= s->model->file.meta.verify_topk &&
	    (sampling->repeat_penalty == 1 || sampling->repeat_last_n == 0) &&
	    ((sampling->frequency_penalty == 0 && sampling->presence_penalty == 0) ||
	     sampling->repeat_last_n == 0) && sp->spec.kind != LUMEN_SPEC_NONE) {
		sp->sparse = malloc(4ull * n_vocab);
		if (!sp->sparse) {
			ret = lumen_fail(LUMEN_E_NOMEM, "out of memory");
			goto fail;
		}
	}
	sp->buf = malloc(4ull * (sp->max_draft + 1));
	sp->argmax = malloc(4ull * (sp->max_draft + 1));
	if (sp->choice == SAMPLED)
		sp->pdense = malloc(4ull * n_vocab);
	if (!sp->buf || !sp->argmax || (sp->choice == SAMPLED && !sp->pdense)) {
		ret = lumen_fail(LUMEN_E_NOMEM, "out of memory");
		goto fail;
	}
	if (sp->choice != DEVICE_ARGMAX) {
		ret = lumen_sampler_create(n_vocab, sampling, &sp->smp);
		if (ret)
			goto fail;
	}
	*out = sp;
	return 0;
fail:
	lumen_speculator_free(sp);
	return ret;
}

void lumen_speculator_free(struct lumen_speculator *sp)
{
	if (!sp)
		return;
	if (sp->drafter)
		sp->drafter->destroy(sp->drafter);
	lumen_sampler_destroy(sp->smp);
	free(sp->hist);
	free(sp->pdense);
	free(sp->sparse);
	free(sp->buf);
	free(sp->argmax);
	free(sp);
}

void lumen_speculator_get_stats(const struct lumen_speculator *sp,
				struct lumen_spec_stats *st)
{
	*st = sp->st;
}

int lumen_speculator_start(struct lumen_speculator *sp, const int32_t *ids,
			   size_t n, lumen_spec_token_cb cb, void *data)
{
	struct lumen_session *s = sp->s;
	int32_t t;
	int ret;

	if (sp->started)
		return lumen_fail(LUMEN_E_INVAL,
				  "the speculator has started already: step it, or create another");
	if (!n || n > s->ctx - s->pos)
		return lumen_fail(n ? LUMEN_E_CONTEXT : LUMEN_E_INVAL,
				  "the prompt is %zu tokens, the context holds %u (%u free)",
				  n, s->ctx, s->ctx - s->pos);
	sp->cap_hist = n + s->ctx + 1;
	sp->hist = malloc(4ull * sp->cap_hist);
	if (!sp->hist)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	memcpy(sp->hist, ids, 4 * n);
	sp->n_hist = n;
	if (sp->smp)
		for (size_t i = 0; i < n; i++)
			lumen_sampler_accept(sp->smp, ids[i]);
	ret = lumen_session_prefill(s, ids, n);
	if (ret)
		return ret;
	s->has_pending = false;
	ret = choose(sp, &t);
	if (ret)
		return ret;
	sp->started = true;
	give(sp, t, cb, data);
	return 1;
}

/*
 * The next round's draft length: each verified row costs compute (on a
 * device bound by memory bandwidth little, on a compute-bound one a
 * row's worth), so drafts grow while they are kept and shrink to what
 * was kept, plus one, after a rejection.
 */
static void adapt(struct lumen_speculator *sp, uint32_t kept, uint32_t drafted)
{
	if (kept == drafted)
		sp->k = sp->k + 2 < sp->max_draft ? sp->k + 2 : sp->max_draft;
	else
		sp->k = kept + 1;
}

static void average(double *avg, double sample)
{
	*avg = *avg ? 0.75 * *avg + 0.25 * sample : sample;
}

/*
 * After a round: stop drafting for a while when verifying does not pay.
 * Greedy only: the rounds then depend on timing, which greedy output does
 * not (it is the plain loop's whatever the rounds), while sampled output
 * would no longer be the same for the same seed.
 */
static void judge_cost(struct lumen_speculator *sp)
{
	if (sp->choice == SAMPLED || sp->spec.always_draft ||
	    !sp->ns_decode || !sp->ns_verify)
		return;
	if (sp->ns_verify > sp->ns_decode) {
		sp->backoff = sp->backoff ? (sp->backoff < 64 ? 2 * sp->backoff : 64) : 4;
		sp->pause = sp->backoff;
	} else {
		sp->backoff = 0;
	}
}

/* the drafter's proposal after the history: *@n_drafts tokens in buf[1..] */
static int draft(struct lumen_speculator *sp, uint32_t k, uint32_t *n_drafts)
{
	struct lumen_session *s = sp->s, *ds = sp->drafter->session;
	struct lumen_modeled before = ds ? ds->modeled : s->modeled;
	uint64_t subs = ds ? ds->submissions : 0;
	int ret;

	ret = sp->drafter->draft(sp->drafter, sp->hist, sp->n_hist, k,
				 sp->buf + 1, n_drafts);
	if (ds) {	/* the modeled NPU ran the draft model too */
		s->modeled.decode_ns += ds->modeled.decode_ns +
			ds->modeled.prefill_ns - before.decode_ns -
			before.prefill_ns;
		s->modeled.energy_nj += ds->modeled.energy_nj - before.energy_nj;
		sp->st.draft_submissions += ds->submissions - subs;
	}
	return ret;
}

int lumen_speculator_step(struct lumen_speculator *sp, uint32_t max,
			  lumen_spec_token_cb cb, void *data)
{
	struct lumen_session *s = sp->s;
	uint32_t k = sp->drafter ? sp->k : 0, n_drafts = 0, pos0, j;
	uint64_t t0 = lumen_now_ns();
	int32_t next = 0;
	bool agree = false;
	int ret;

	if (!sp->started)
		return lumen_fail(LUMEN_E_INVAL,
				  "the speculator has no prompt yet: lumen_speculator_start() first");
	if (!max)
		return lumen_fail(LUMEN_E_INVAL, "a step of 0 tokens");
	if (s->pos >= s->ctx)
		return lumen_fail(LUMEN_E_CONTEXT,
				  "the context (%u positions) is full", s->ctx);
	/* t is in hist; [t, drafts] must fit, and no more than is wanted */
	if (k > s->ctx - s->pos - 1)
		k = s->ctx - s->pos - 1;
	if (k > max - 1)
		k = max - 1;
	if (sp->pause) {	/* verifying has cost more than decoding */
		sp->pause--;
		k = 0;
	}
	if (k) {
		ret = draft(sp, k, &n_drafts);
		if (ret)
			return ret;
	}
	if (!n_drafts) {	/* nothing proposed: a plain decode */
		ret = lumen_session_decode(s, sp->t);
		if (!ret)
			ret = choose(sp, &next);
		if (ret)
			return ret;
		sp->st.n_rounds++;
		sp->st.n_tokens++;
		average(&sp->ns_decode, (double)(lumen_now_ns() - t0));
		if (!sp->pause)
			judge_cost(sp);
		give(sp, next, cb, data);
		return 1;
	}
	sp->buf[0] = sp->t;
	pos0 = s->pos;
	ret = lumen_session_verify(s, sp->buf, n_drafts + 1, sp->argmax);
	if (ret)
		return ret;
	sp->st.n_rounds++;
	sp->st.n_verify++;
	sp->st.n_drafted += n_drafts;
	/* t is in the cache; each kept draft joins it after being handed out */
	s->pos = pos0 + 1;
	for (j = 0; j <= n_drafts; j++) {
		ret = judge(sp, j, n_drafts, &next, &agree);
		if (ret)
			return ret;
		if (!agree)
			break;
		sp->st.n_accepted++;
		sp->st.n_tokens++;
		s->modeled.decode_tokens++;	/* a token this verify job gave */
		if (give(sp, sp->buf[1 + j], cb, data))
			return (int)j + 1;
		s->pos++;
	}
	s->modeled.decode_tokens++;	/* and the model's own */
	sp->st.n_tokens++;
	adapt(sp, j, n_drafts);
	/* the round's drafting and verification for its j + 1 tokens */
	average(&sp->ns_verify, (double)(lumen_now_ns() - t0) / (j + 1));
	judge_cost(sp);
	give(sp, next, cb, data);
	return (int)j + 1;
}

/* ---- lumen_generate() with params.spec: the speculator's loop ---- */

struct spec_generate {
	struct lumen_session *s;
	const struct lumen_generate_params *p;
	struct lumen_generate_stats st;
	int32_t eos;
	uint64_t t0, t_first;
	bool prefilled, stop;
};

static int emit(struct spec_generate *g, int32_t id)
{
	char piece[256];
	long len;

	if (!g->p->on_token)
		return 0;
	len = lumen_token_to_piece(g->s->model->tok, id, 0, piece, sizeof(piece));
	if (len < 0)
		len = 0;
	if ((size_t)len > sizeof(piece))
		len = sizeof(piece);
	return g->p->on_token(g->p->data, id, piece, (size_t)len);
}

/* a token, as the plain loop handles it: 1 to stop, 0 to go on */
static int on_token(void *data, int32_t id)
{
	struct spec_generate *g = data;

	if (!g->prefilled) {	/* the first token comes with the prefill */
		g->prefilled = true;
		g->st.prefill_ns = lumen_now_ns() - g->t0;
	}
	g->stop = true;
	if (lumen_generate_is_stop(g->p, g->eos, id)) {
		g->st.hit_eos = true;
		return 1;
	}
	g->st.n_generated++;
	if (emit(g, id))
		return 1;
	if (g->st.n_generated == 1) {
		g->t_first = lumen_now_ns();
		g->st.first_token_ns = g->t_first - g->t0;
	}
	if (g->st.n_generated == g->p->n_predict)
		return 1;
	if (g->s->pos >= g->s->ctx) {
		g->st.hit_context = true;
		return 1;
	}
	g->stop = false;
	return 0;
}

int lumen_spec_generate_ids(struct lumen_session *s, const int32_t *ids,
			    size_t n, const struct lumen_generate_params *p,
			    struct lumen_generate_stats *stats)
{
	struct spec_generate g = { .s = s, .p = p };
	struct lumen_speculator *sp = NULL;
	struct lumen_spec_stats ss = { 0 };
	uint64_t subs0 = s->submissions;
	int ret;

	g.t0 = lumen_now_ns();
	g.st.n_prompt = (uint32_t)n;
	g.eos = lumen_tokenizer_eos(s->model->tok);
	ret = lumen_speculator_create(s, p->spec, &p->sampling, &sp);
	if (ret)
		goto out;
	if (!p->n_predict) {	/* the prompt only: no token is chosen */
		if (n > s->ctx - s->pos) {
			ret = lumen_fail(LUMEN_E_CONTEXT,
					 "the prompt is %zu tokens, the context holds %u (%u free)",
					 n, s->ctx, s->ctx - s->pos);
			goto out;
		}
		ret = lumen_session_prefill(s, ids, n);
		if (!ret)
			s->has_pending = false;
		g.st.prefill_ns = lumen_now_ns() - g.t0;
		goto out;
	}
	ret = lumen_speculator_start(sp, ids, n, on_token, &g);
	while (ret >= 0 && !g.stop)
		ret = lumen_speculator_step(sp, p->n_predict - g.st.n_generated,
					    on_token, &g);
	if (ret > 0)
		ret = 0;
	if (g.t_first)
		g.st.decode_ns = lumen_now_ns() - g.t_first;
out:
	if (sp)
		lumen_speculator_get_stats(sp, &ss);
	g.st.n_drafted = ss.n_drafted;
	g.st.n_accepted = ss.n_accepted;
	g.st.n_verify = ss.n_verify;
	g.st.submissions = s->submissions - subs0;
	if (stats)
		*stats = g.st;
	lumen_speculator_free(sp);
	return ret;
}
