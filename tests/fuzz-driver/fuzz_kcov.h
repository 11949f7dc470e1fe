/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * KCOV feedback for the driver fuzzer: the PCs a call reached in the
 * lumen module's text, kept in a set shared between the fuzzer and the
 * child process that runs each input.
 */
#ifndef FUZZ_KCOV_H
#define FUZZ_KCOV_H

#include <stdbool.h>
#include <stdint.h>

#define FZ_TEXT_SECTIONS	8

/* Where the module's code sits: its text sections, by name. */
struct fz_text {
	unsigned int count;
	char name[FZ_TEXT_SECTIONS][32];
	uint64_t start[FZ_TEXT_SECTIONS];
	uint64_t size[FZ_TEXT_SECTIONS];
	uint64_t lo, hi;	/* the hull, a fast first test */
};

/*
 * fz_text_load() - find @module's text: section names and sizes from
 * @sizes_file ("NAME SIZE" lines, from the .ko), addresses from
 * /sys/module/@module/sections. Without @sizes_file, .text up to the
 * module's core size. Return: 0 or -errno.
 */
int fz_text_load(struct fz_text *t, const char *module, const char *sizes_file);

/* The section holding @pc, or -1. */
int fz_text_find(const struct fz_text *t, uint64_t pc);

#define FZ_PCSET_CAP		(1U << 16)

/* A set of PCs in shared memory (no deletion, open addressing). */
struct fz_pcset {
	uint64_t count;
	uint64_t slot[FZ_PCSET_CAP];
};

/* Return: true when @pc was not in @s before. */
bool fz_pcset_add(struct fz_pcset *s, uint64_t pc);

struct fz_kcov {
	int fd;
	uint64_t *area;
	uint64_t words;
};

/* Open KCOV (in the parent; each child enables it for itself). */
int fz_kcov_open(struct fz_kcov *k);
int fz_kcov_enable(struct fz_kcov *k);

static inline void fz_kcov_reset(struct fz_kcov *k)
{
	if (k->area)
		__atomic_store_n(&k->area[0], 0, __ATOMIC_RELAXED);
}

/*
 * fz_kcov_collect() - add the module PCs traced since the last reset to
 * @pcs, and the edges between consecutive ones (a hash of the pair) to
 * @edges. Return: how many PCs and edges were new (the feedback signal).
 */
unsigned int fz_kcov_collect(struct fz_kcov *k, const struct fz_text *t,
			     struct fz_pcset *pcs, struct fz_pcset *edges);

#endif
