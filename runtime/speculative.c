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
 */
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

struct spec_run {
	struct lumen_session *s;
	const struct lumen_generate_params *p;
	struct lumen_generate_stats st;
	struct lumen_sampler *smp;
	struct spec_drafter *drafter;
	enum choice choice;
	int32_t eos;
	int32_t *hist;		/* this call's tokens: prompt, then generated */
	size_t n_hist;
	float *pdense;		/* SAMPLED: the model's distribution of a row */
	uint32_t k;		/* draft length now, adapted to what is kept */
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
	uint64_t t0, t_first;
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

static int emit(struct spec_run *r, int32_t id)
{
	char piece[256];
	long len;

	if (!r->p->on_token)
		return 0;
	len = lumen_token_to_piece(r->s->model->tok, id, 0, piece, sizeof(piece));
	if (len < 0)
		len = 0;
	if ((size_t)len > sizeof(piece))
		len = sizeof(piece);
	return r->p->on_token(r->p->data, id, piece, (size_t)len);
}

/* a chosen token, as the plain loop handles it: 1 to stop, 0 to go on */
static int handle(struct spec_run *r, int32_t id)
{
	if (r->smp)
		lumen_sampler_accept(r->smp, id);
	/* not in the cache: the session's next lumen_generate runs it first */
	r->s->pending = id;
	r->s->has_pending = true;
	if (lumen_generate_is_stop(r->p, r->eos, id)) {
		r->st.hit_eos = true;
		return 1;
	}
	r->st.n_generated++;
	if (emit(r, id))
		return 1;
	if (r->st.n_generated == 1) {
		r->t_first = lumen_now_ns();
		r->st.first_token_ns = r->t_first - r->t0;
	}
	if (r->st.n_generated == r->p->n_predict)
		return 1;
	if (r->s->pos >= r->s->ctx) {
		r->st.hit_context = true;
		return 1;
	}
	r->hist[r->n_hist++] = id;
	return 0;
}

/* the model's next token from the last job's (last row's) output */
static int choose(struct spec_run *r, int32_t *id)
{
	const float *logits;

	if (r->choice == DEVICE_ARGMAX) {
		*id = lumen_session_argmax(r->s);
		if (*id < 0 || (uint32_t)*id >= r->s->model->file.meta.n_vocab)
			return lumen_fail(LUMEN_E_FAULT,
					  "the device's argmax %d is not a token id", *id);
		return 0;
	}
	logits = lumen_session_logits(r->s);
	if (!logits)
		return LUMEN_E_INVAL;
	*id = lumen_sampler_sample(r->smp, logits);
	return 0;
}

/* SAMPLED: row @row's distribution after the sampler's filters, dense */
static int row_distribution(struct spec_run *r, size_t row)
{
	const float *logits = lumen_session_row_logits(r->s, row);
	const int32_t *ids;
	const float *probs;
	size_t n;

	if (!logits)
		return LUMEN_E_INVAL;
	n = lumen_sampler_candidates(r->smp, logits, &ids, &probs);
	memset(r->pdense, 0, 4ull * r->s->model->file.meta.n_vocab);
	for (size_t c = 0; c < n; c++)
		r->pdense[ids[c]] = probs[c];
	return 0;
}

/*
 * Row @i's verdict on draft @d: *@next the model's token there, *@agree
 * whether it is @d (always so when the acceptance rule keeps @d).
 */
static int judge(struct spec_run *r, const int32_t *argmax, uint32_t i,
		 const int32_t *drafts, uint32_t n_drafts, int32_t *next,
		 bool *agree)
{
	uint32_t n_vocab = r->s->model->file.meta.n_vocab;
	const float *logits;
	int ret;

	*agree = false;
	switch (r->choice) {
	case DEVICE_ARGMAX:
		*next = argmax[i];
		if (*next < 0 || (uint32_t)*next >= n_vocab)
			return lumen_fail(LUMEN_E_FAULT,
					  "the device's argmax %d is not a token id", *next);
		break;
	case HOST_GREEDY:
		logits = lumen_session_row_logits(r->s, i);
		if (!logits)
			return LUMEN_E_INVAL;
		*next = lumen_sampler_sample(r->smp, logits);
		break;
	case SAMPLED:
		ret = row_distribution(r, i);
		if (ret)
			return ret;
		if (i == n_drafts) {	/* every draft kept: the bonus token */
			*next = spec_draw(r->pdense, n_vocab,
					  lumen_sampler_uniform(r->smp));
			return 0;
		}
		{
			double u1 = lumen_sampler_uniform(r->smp);
			double u2 = lumen_sampler_uniform(r->smp);
			const float *q = r->drafter->q ?
				r->drafter->q + (size_t)i * n_vocab : NULL;

			*next = spec_accept(r->pdense, q, n_vocab, drafts[i],
					    u1, u2, agree);
		}
		return 0;
	}
	*agree = i < n_drafts && *next == drafts[i];
	return 0;
}

static int create_drafter(struct spec_run *r, uint32_t max_draft)
{
	const struct lumen_spec_params *sp = r->p->spec;
	const struct lnpu_meta *meta = &r->s->model->file.meta;

	switch (sp->kind) {
	case LUMEN_SPEC_NGRAM:
		return spec_ngram_create(sp, &r->drafter);
	case LUMEN_SPEC_DRAFT:
		return spec_draft_model_create(sp, r->s,
					       r->choice == SAMPLED ?
					       &r->p->sampling : NULL,
					       max_draft, &r->drafter);
	case LUMEN_SPEC_MTP:
		/* lumenc compiles no nextn/MTP tensors: no .lnpu carries a head */
		return lumen_fail(LUMEN_E_INVAL,
				  "model \"%.64s\" (%.16s) has no multi-token-prediction head: its file carries no MTP/nextn layers (llama.cpp's blk.N.nextn.* tensors, which DeepSeek-V3 and GLM-4.5 ship); use --spec ngram or --spec draft --draft MODEL",
				  meta->name, meta->arch);
	default:
		return lumen_fail(LUMEN_E_INVAL,
				  "speculative decoding kind %d is not none, ngram, draft or mtp",
				  (int)sp->kind);
	}
}

/*
 * The next round's draft length: each verified row costs compute (on a
 * device bound by memory bandwidth little, on a compute-bound one a
 * row's worth), so drafts grow while they are kept and shrink to what
 * was kept, plus one, after a rejection.
 */
static void adapt(struct spec_run *r, uint32_t kept, uint32_t drafted,
		  uint32_t max_draft)
{
	if (kept == drafted)
		r->k = r->k + 2 < max_draft ? r->k + 2 : max_draft;
	else
		r->k = kept + 1;
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
static void judge_cost(struct spec_run *r)
{
	if (r->choice == SAMPLED || r->p->spec->always_draft ||
	    !r->ns_decode || !r->ns_verify)
		return;
	if (r->ns_verify > r->ns_decode) {
		r->backoff = r->backoff ? (r->backoff < 64 ? 2 * r->backoff : 64) : 4;
		r->pause = r->backoff;
	} else {
		r->backoff = 0;
	}
}

/* one round from pending token *@t: 1 when generation is over */
static int round_trip(struct spec_run *r, int32_t *t, uint32_t max_draft,
		      int32_t *buf, int32_t *argmax)
{
	struct lumen_session *s = r->s;
	uint32_t k = r->k, n_drafts = 0, pos0, j;
	uint32_t left = r->p->n_predict - r->st.n_generated;
	uint64_t t0 = lumen_now_ns();
	int32_t next = 0;
	bool agree = false;
	int ret;

	/* t is in hist; [t, drafts] must fit, and no more than is wanted */
	if (k > s->ctx - s->pos - 1)
		k = s->ctx - s->pos - 1;
	if (k > left - 1)
		k = left - 1;
	if (r->pause) {		/* verifying has cost more than decoding */
		r->pause--;
		k = 0;
	}
	if (k) {
		struct lumen_session *ds = r->drafter->session;
		struct lumen_modeled before = ds ? ds->modeled : s->modeled;

		ret = r->drafter->draft(r->drafter, r->hist, r->n_hist, k,
					buf + 1, &n_drafts);
		if (ret)
			return ret;
		if (ds) {	/* the modeled NPU ran the draft model too */
			s->modeled.decode_ns += ds->modeled.decode_ns +
				ds->modeled.prefill_ns - before.decode_ns -
				before.prefill_ns;
			s->modeled.energy_nj += ds->modeled.energy_nj -
						before.energy_nj;
		}
	}
	if (!n_drafts) {	/* nothing proposed: a plain decode */
		ret = lumen_session_decode(s, *t);
		if (!ret)
			ret = choose(r, t);
		average(&r->ns_decode, (double)(lumen_now_ns() - t0));
		if (!r->pause)
			judge_cost(r);
		return ret;
	}
	buf[0] = *t;
	pos0 = s->pos;
	ret = lumen_session_verify(s, buf, n_drafts + 1, argmax);
	if (ret)
		return ret;
	r->st.n_verify++;
	r->st.n_drafted += n_drafts;
	/* t is in the cache; each kept draft joins it after being handled */
	s->pos = pos0 + 1;
	for (j = 0; j <= n_drafts; j++) {
		ret = judge(r, argmax, j, buf + 1, n_drafts, &next, &agree);
		if (ret)
			return ret;
		if (!agree)
			break;
		r->st.n_accepted++;
		s->modeled.decode_tokens++;	/* a token this verify job gave */
		if (handle(r, buf[1 + j]))
			return 1;
		s->pos++;
	}
	s->modeled.decode_tokens++;	/* and the model's own */
	adapt(r, j, n_drafts, max_draft);
	/* the round's drafting and verification for its j + 1 tokens */
	average(&r->ns_verify, (double)(lumen_now_ns() - t0) / (j + 1));
	judge_cost(r);
	*t = next;
	return 0;
}

int lumen_spec_generate_ids(struct lumen_session *s, const int32_t *ids,
			    size_t n, const struct lumen_generate_params *p,
			    struct lumen_generate_stats *stats)
{
	struct spec_run r = { .s = s, .p = p };
	uint32_t n_vocab = s->model->file.meta.n_vocab, max_draft;
	uint64_t subs0 = s->submissions;
	int32_t *buf = NULL, *argmax = NULL, t;
	int ret;

	r.t0 = lumen_now_ns();
	r.st.n_prompt = (uint32_t)n;
	r.eos = lumen_tokenizer_eos(s->model->tok);
	r.choice = choice_of(&p->sampling);
	max_draft = lumen_model_max_draft(s->model);
	if (!max_draft) {
		ret = lumen_fail(LUMEN_E_INVAL,
				 "model \"%.64s\" has no verify program for speculative decoding: compile it again with this lumenc (lumenc --draft-max N)",
				 s->model->file.meta.name);
		goto out;
	}
	if (p->spec->draft_max && p->spec->draft_max < max_draft)
		max_draft = p->spec->draft_max;
	/* start short: a wrong guess then costs little, kept drafts grow it */
	r.k = max_draft < 2 ? max_draft : 2;
	if (n > s->ctx - s->pos) {
		ret = lumen_fail(LUMEN_E_CONTEXT,
				 "the prompt is %zu tokens, the context holds %u (%u free)",
				 n, s->ctx, s->ctx - s->pos);
		goto out;
	}
	ret = create_drafter(&r, max_draft);
	if (ret)
		goto out;
	r.hist = malloc(4ull * (n + s->ctx + 1));
	buf = malloc(4ull * (max_draft + 1));
	argmax = malloc(4ull * (max_draft + 1));
	if (r.choice == SAMPLED)
		r.pdense = malloc(4ull * n_vocab);
	if (!r.hist || !buf || !argmax || (r.choice == SAMPLED && !r.pdense)) {
		ret = lumen_fail(LUMEN_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(r.hist, ids, 4 * n);
	r.n_hist = n;
	if (r.choice != DEVICE_ARGMAX) {
		ret = lumen_sampler_create(n_vocab, &p->sampling, &r.smp);
		if (ret)
			goto out;
		for (size_t i = 0; i < n; i++)
			lumen_sampler_accept(r.smp, ids[i]);
	}
	ret = lumen_session_prefill(s, ids, n);
	if (ret)
		goto out;
	s->has_pending = false;
	r.st.prefill_ns = lumen_now_ns() - r.t0;
	if (!p->n_predict)
		goto out;
	ret = choose(&r, &t);
	while (!ret && !handle(&r, t)) {
		ret = round_trip(&r, &t, max_draft, buf, argmax);
		if (ret == 1) {
			ret = 0;
			break;
		}
	}
	if (r.t_first)
		r.st.decode_ns = lumen_now_ns() - r.t_first;
out:
	r.st.submissions = s->submissions - subs0;
	if (stats)
		*stats = r.st;
	if (r.drafter)
		r.drafter->destroy(r.drafter);
	lumen_sampler_destroy(r.smp);
	free(r.hist);
	free(r.pdense);
	free(buf);
	free(argmax);
	return ret;
}
