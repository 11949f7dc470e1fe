// SPDX-License-Identifier: MIT
/*
 * The acceptance rule of speculative sampling (Leviathan et al. 2023,
 * Chen et al. 2023): for a token d drawn from the draft's q, keep it with
 * probability min(1, p(d)/q(d)), else draw from norm(max(0, p - q)). The
 * kept-or-redrawn token is distributed as p whatever q is, which is what
 * lets a cheap drafter leave the model's distribution unchanged
 * (runtime/tests/test_speculative.c checks it with a chi-square test).
 */
#include "speculative.h"

int32_t spec_draw(const float *p, uint32_t n_vocab, double u)
{
	double sum = 0, acc = 0;
	int32_t last = 0;

	for (uint32_t i = 0; i < n_vocab; i++)
		sum += p[i];
	u *= sum;
	for (uint32_t i = 0; i < n_vocab; i++) {
		if (p[i] <= 0)
			continue;
		acc += p[i];
		last = (int32_t)i;
		if (u < acc)
			return (int32_t)i;
	}
	return last;	/* rounding: the last token with mass */
}

int32_t spec_accept(const float *p, const float *q, uint32_t n_vocab,
		    int32_t d, double u_accept, double u_draw, bool *accepted)
{
	double pd = p[d], qd = q ? q[d] : 1.0, rest = 0;
	int32_t tok;

	if (qd <= 0 || u_accept * qd < pd) {	/* u < p/q without dividing */
		*accepted = true;
		return d;
	}
	*accepted = false;
	/* norm(max(0, p - q)) drawn in one pass without a buffer */
	for (uint32_t i = 0; i < n_vocab; i++) {
		double qi = q ? q[i] : (i == (uint32_t)d);

		if (p[i] > qi)
			rest += p[i] - qi;
	}
	if (rest <= 0)		/* p == q: unreachable after a rejection */
		return spec_draw(p, n_vocab, u_draw);
	u_draw *= rest;
	tok = -1;
	for (uint32_t i = 0; i < n_vocab; i++) {
		double qi = q ? q[i] : (i == (uint32_t)d);

		if (p[i] <= qi)
			continue;
		tok = (int32_t)i;
		u_draw -= p[i] - qi;
		if (u_draw < 0)
			break;
	}
	return tok;
}
