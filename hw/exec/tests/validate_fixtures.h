/* SPDX-License-Identifier: MIT */
/*
 * Small valid programs, one per opcode, for the validator's tests: each
 * malformed-program test starts from one and breaks exactly one thing.
 */
#ifndef LUMEN_VALIDATE_FIXTURES_H
#define LUMEN_VALIDATE_FIXTURES_H

#include "prog_builder.h"

/* Region slots of every fixture program. */
enum fx_region {
	FX_WEIGHTS = 0,
	FX_ACT = 1,
	FX_ARGS = 2,
	FX_KV = 3,
	FX_REGIONS = 4,
};

/* Shapes of the fixtures: model width, rows, heads, cache length. */
#define FX_D		64
#define FX_ROWS		4
#define FX_N		96
#define FX_VOCAB	10
#define FX_HEADS	4
#define FX_KV_HEADS	2
#define FX_HD		(FX_D / FX_HEADS)
#define FX_KV_DIM	(FX_KV_HEADS * FX_HD)
#define FX_CTX		16
#define FX_TOPK		5

/* Activations are laid out FX_SLOT bytes apart in FX_ACT. */
#define FX_SLOT		4096

/* Append one valid op of @opcode to @pb (set up by fx_init()). */
struct lumen_op *fx_add_op(struct prog_builder *pb, uint16_t opcode);

/* A fresh program over FX_REGIONS slots, args in FX_ARGS, no ops yet. */
void fx_init(struct prog_builder *pb);

/* A NOP then one valid @opcode: the op under test is op 1. */
struct lumen_op *fx_prog(struct prog_builder *pb, uint16_t opcode);

#endif
