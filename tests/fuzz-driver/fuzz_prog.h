/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Lumen programs for the driver fuzzer: a generator of programs that are
 * valid by construction (small shapes of every opcode, built with
 * lumen_build.h), and a mutator that breaks one field at a time, so most
 * programs reach past PROGRAM_CREATE's validator and the rest probe its
 * error paths.
 */
#ifndef FUZZ_PROG_H
#define FUZZ_PROG_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz_rand.h"

/* Ops in a generated program; keeps every region small. */
#define FZ_PROG_MAX_OPS		6
/* Room for the largest program the mutator can make. */
#define FZ_PROG_CAP		4096

/*
 * fz_prog_generate() - a valid program of 1..FZ_PROG_MAX_OPS ops into
 * @buf (FZ_PROG_CAP bytes). Return: its size in bytes.
 */
size_t fz_prog_generate(struct fz_rng *r, void *buf);

/* fz_prog_mutate() - change @rounds fields of the program at @buf. */
void fz_prog_mutate(struct fz_rng *r, void *buf, size_t *size,
		    unsigned int rounds);

/*
 * fz_prog_make() - the program a PROGRAM_CREATE call names by @seed: a
 * generated one, mutated in about half of the cases.
 * Return: its size.
 */
size_t fz_prog_make(uint64_t seed, void *buf, int *mutated);

#endif
