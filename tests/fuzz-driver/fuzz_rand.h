/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The fuzzer's one source of randomness: splitmix64, so a seed names the
 * same stream on every machine and every libc.
 */
#ifndef FUZZ_RAND_H
#define FUZZ_RAND_H

#include <stdint.h>

struct fz_rng {
	uint64_t s;
};

static inline uint64_t fz_next(struct fz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void fz_seed(struct fz_rng *r, uint64_t a, uint64_t b)
{
	r->s = a * 0x2545f4914f6cdd1dULL ^ b;
	fz_next(r);
}

/* A number below @n (0 when @n is 0). */
static inline uint32_t fz_below(struct fz_rng *r, uint32_t n)
{
	return n ? (uint32_t)(fz_next(r) % n) : 0;
}

/* True with probability @pct percent. */
static inline int fz_pct(struct fz_rng *r, uint32_t pct)
{
	return fz_below(r, 100) < pct;
}

#endif
