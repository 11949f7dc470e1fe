/* SPDX-License-Identifier: MIT */
/*
 * Speculative decoding inside liblumen: a drafter proposes up to k tokens,
 * the model scores them all in one verify submission
 * (lumen_session_verify()), and the longest agreeing prefix is kept with
 * one token of the model's own. speculative.c runs the loop; each drafter
 * has its file (speculative_ngram.c, speculative_draft.c); the sampling
 * acceptance rule is in speculative_accept.c.
 */
#ifndef LUMEN_SPECULATIVE_H
#define LUMEN_SPECULATIVE_H

#include "lumen_internal.h"

/**
 * struct spec_drafter - a source of draft tokens.
 * @draft: up to @k tokens continuing @hist[0..@n) into @out; *@n_out how
 *	many (0: nothing to propose). Returns 0 or a lumen error.
 * @q: after @draft, when the drafter sampled its tokens: row i holds the
 *	n_vocab probabilities token i was drawn from; NULL: each token is a
 *	point mass (n-gram lookup, greedy drafts).
 * @destroy: frees the drafter.
 * @session: a draft model's session (its modeled cost is the round's
 *	too), or NULL.
 */
struct spec_drafter {
	int (*draft)(struct spec_drafter *d, const int32_t *hist, size_t n,
		     uint32_t k, int32_t *out, uint32_t *n_out);
	const float *q;
	struct lumen_session *session;
	void (*destroy)(struct spec_drafter *d);
};

int spec_ngram_create(const struct lumen_spec_params *p,
		      struct spec_drafter **out);
/*
 * @target: the session whose model the drafts are for; @sampling: the
 * sampler parameters when drafts are to be sampled, NULL for greedy.
 */
int spec_draft_model_create(const struct lumen_spec_params *p,
			    const struct lumen_session *target,
			    const struct lumen_sampler_params *sampling,
			    uint32_t max_draft, struct spec_drafter **out);

/*
 * The speculative-sampling acceptance rule for draft token @d: with @p the
 * model's distribution and @q the draft's (NULL: a point mass at @d), @d
 * is kept with probability min(1, p(d) / q(d)) (draw @u_accept); else the
 * token is drawn (@u_draw) from norm(max(0, p - q)). Every token then
 * comes from p exactly. Returns the token; *@accepted says which.
 */
int32_t spec_accept(const float *p, const float *q, uint32_t n_vocab,
		    int32_t d, double u_accept, double u_draw, bool *accepted);
/* a token drawn with @u from @p (n_vocab probabilities summing to ~1) */
int32_t spec_draw(const float *p, uint32_t n_vocab, double u);

/* generate.c: @id ends the generation (EOS when asked, @p->stop_ids) */
bool lumen_generate_is_stop(const struct lumen_generate_params *p,
			    int32_t eos, int32_t id);

/*
 * lumen_generate_ids() with @p->spec set; @ids: the session's pending
 * token (if any) and the prompt, checked to fit
 */
int lumen_spec_generate_ids(struct lumen_session *s, const int32_t *ids,
			    size_t n, const struct lumen_generate_params *p,
			    struct lumen_generate_stats *stats);

#endif /* LUMEN_SPECULATIVE_H */
