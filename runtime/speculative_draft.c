// SPDX-License-Identifier: MIT
/*
 * A draft model: a smaller model with the same vocabulary, on the same
 * device, in a session of its own. Its cache follows the context: before
 * each draft the tokens it holds are compared with the context, the
 * disagreeing tail is rolled back (free, see lumen_session_rollback())
 * and the new tokens are run in one submission; then k - 1 decodes give
 * k draft tokens, greedy or sampled (then with their distributions, for
 * the acceptance rule).
 */
#include <stdlib.h>
#include <string.h>

#include "speculative.h"

struct draft_model {
	struct spec_drafter base;
	struct lumen_session *s;
	struct lumen_sampler *smp;	/* NULL: greedy drafts */
	int32_t *kv_ids;		/* the tokens in s's cache */
	float *q;			/* max_draft rows of n_vocab */
	uint32_t n_vocab, max_draft;
	bool borrowed;			/* s is the caller's: kept at the end */
};

/* the vocabularies must be the same token for token */
static int check_vocab(const struct lumen_model *target,
		       const struct lumen_model *draft)
{
	const struct lnpu_file *a = &target->file, *b = &draft->file;

	if (a->meta.n_vocab != b->meta.n_vocab)
		return lumen_fail(LUMEN_E_INVAL,
				  "draft model \"%.64s\" has %u tokens, the model \"%.64s\" %u: a draft model needs the same vocabulary",
				  b->meta.name, b->meta.n_vocab, a->meta.name,
				  a->meta.n_vocab);
	for (uint32_t i = 0; i < a->meta.n_vocab; i++) {
		uint32_t la, lb;
		const char *ta = lnpu_token(a, i, &la), *tb = lnpu_token(b, i, &lb);

		if (la != lb || memcmp(ta, tb, la))
			return lumen_fail(LUMEN_E_INVAL,
					  "draft model \"%.64s\": token %u is \"%.*s\", the model \"%.64s\" has \"%.*s\": a draft model needs the same vocabulary",
					  b->meta.name, i, (int)(lb > 40 ? 40 : lb), tb,
					  a->meta.name, (int)(la > 40 ? 40 : la), ta);
	}
	return 0;
}

static int take_token(struct draft_model *dm, uint32_t i, int32_t *id)
{
	const float *logits;
	const int32_t *ids;
	const float *probs;
	float *q;
	size_t n;

	if (!dm->smp) {
		*id = lumen_session_argmax(dm->s);
		return *id < 0 ? *id : 0;
	}
	logits = lumen_session_logits(dm->s);
	if (!logits)
		return LUMEN_E_INVAL;
	n = lumen_sampler_candidates(dm->smp, logits, &ids, &probs);
	q = dm->q + (size_t)i * dm->n_vocab;
	memset(q, 0, 4ull * dm->n_vocab);
	for (size_t c = 0; c < n; c++)
		q[ids[c]] = probs[c];
	*id = spec_draw(q, dm->n_vocab, lumen_sampler_uniform(dm->smp));
	return 0;
}

static int draft_draft(struct spec_drafter *d, const int32_t *hist, size_t n,
		       uint32_t k, int32_t *out, uint32_t *n_out)
{
	struct draft_model *dm = (struct draft_model *)d;
	struct lumen_session *s = dm->s;
	uint32_t c = 0, have = lumen_session_pos(s);
	int ret;

	*n_out = 0;
	if (k > dm->max_draft)
		k = dm->max_draft;
	/* room for the context and k - 1 drafts in the draft's cache */
	if (n + k > s->ctx + 1)
		k = n < s->ctx + 1 ? (uint32_t)(s->ctx + 1 - n) : 0;
	if (!k || !n)
		return 0;
	while (c < have && c < n && dm->kv_ids[c] == hist[c])
		c++;
	if (c == n)	/* its output is gone: run the last token again */
		c--;
	lumen_session_rollback(s, c);
	ret = n - c == 1 ? lumen_session_decode(s, hist[c]) :
			   lumen_session_prefill(s, hist + c, n - c);
	if (ret)
		return ret;
	memcpy(dm->kv_ids + c, hist + c, 4 * (n - c));
	for (uint32_t i = 0; i < k; i++) {
		ret = take_token(dm, i, &out[i]);
		if (ret)
			return ret;
		*n_out = i + 1;
		if (i + 1 == k)
			break;
		ret = lumen_session_decode(s, out[i]);
		if (ret)
			return ret;
		dm->kv_ids[n + i] = out[i];
	}
	return 0;
}

static void draft_destroy(struct spec_drafter *d)
{
	struct draft_model *dm = (struct draft_model *)d;

	if (!dm->borrowed)
		lumen_session_free(dm->s);
	lumen_sampler_destroy(dm->smp);
	free(dm->kv_ids);
	free(dm->q);
	free(dm);
}

int spec_draft_model_create(const struct lumen_spec_params *p,
			    const struct lumen_session *target,
			    const struct lumen_sampler_params *sampling,
			    uint32_t max_draft, struct spec_drafter **out)
{
	const struct lumen_model *tm = target->model;
	struct draft_model *dm;
	uint32_t ctx;
	int ret;

	*out = NULL;
	if (!p->draft)
		return lumen_fail(LUMEN_E_INVAL,
				  "speculative decoding with a draft model needs the draft model (--draft MODEL)");
	if (p->draft->dev != tm->dev)
		return lumen_fail(LUMEN_E_INVAL,
				  "the draft model \"%.64s\" is loaded on another device than the model: load both on one",
				  p->draft->file.meta.name);
	if (p->draft_session && p->draft_session->model != p->draft)
		return lumen_fail(LUMEN_E_INVAL,
				  "the draft session is not a session of the draft model \"%.64s\"",
				  p->draft->file.meta.name);
	ret = check_vocab(tm, p->draft);
	if (ret)
		return ret;
	dm = calloc(1, sizeof(*dm));
	if (!dm)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	dm->base.draft = draft_draft;
	dm->base.destroy = draft_destroy;
	dm->n_vocab = tm->file.meta.n_vocab;
	dm->max_draft = max_draft;
	ctx = target->ctx < p->draft->file.meta.ctx ? target->ctx :
	      p->draft->file.meta.ctx;
	if (p->draft_session) {
		/* what it holds is another generation's: kv_ids starts empty */
		dm->borrowed = true;
		dm->s = p->draft_session;
		lumen_session_reset(dm->s);
		ctx = dm->s->ctx;
	}
	dm->kv_ids = malloc(4ull * (ctx + 1));
	if (!dm->kv_ids)
		ret = lumen_fail(LUMEN_E_NOMEM, "out of memory");
	else if (!dm->borrowed)
		ret = lumen_session_create(p->draft, ctx, &dm->s);
	dm->base.session = dm->s;
	if (!ret && sampling) {
		struct lumen_sampler_params sp = *sampling;

		sp.seed ^= 0x9e3779b97f4a7c15ull;	/* draws of its own */
		dm->q = malloc(4ull * dm->n_vocab * max_draft);
		ret = dm->q ? lumen_sampler_create(dm->n_vocab, &sp, &dm->smp) :
			      lumen_fail(LUMEN_E_NOMEM, "out of memory");
		dm->base.q = dm->q;
	}
	if (ret) {
		draft_destroy(&dm->base);
		return ret;
	}
	*out = &dm->base;
	return 0;
}
