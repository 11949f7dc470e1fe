// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Program generator and mutator (fuzz_prog.h). Shapes follow the rules
 * of isa/lumen_validate.c per opcode (isa/lumen_ops.c lists operands and
 * dtypes); every tensor gets bytes of its own in its region, so nothing
 * aliases unless the op allows it in place.
 */
#include <string.h>

#include "fuzz_prog.h"
#include "lumen_build.h"
#include "lumen_ops.h"

/* Arg slots the generator names; the fuzzer fills this many in the args. */
#define FZ_ARG_SLOTS		16
#define FZ_ARGS_BYTES		(LUMEN_MAX_ARG_SLOTS * 4)

struct gen {
	struct fz_rng *r;
	uint32_t regions;
	uint32_t args_region;
	uint64_t next[LUMEN_MAX_REGIONS];
};

static const uint32_t f32_one = 0x3f800000;	/* 1.0f */
static const uint32_t f32_eps = 0x3727c5ac;	/* 1e-5f */
static const uint32_t f32_theta = 0x461c4000;	/* 10000.0f */
static const uint32_t f32_eighth = 0x3e000000;	/* 0.125f */

static uint32_t pick(struct fz_rng *r, const uint32_t *v, uint32_t n)
{
	return v[fz_below(r, n)];
}

/* A dense @d0 x @d1 tensor at fresh bytes of a random region. */
static struct lumen_tensor place(struct gen *g, uint32_t dtype, uint32_t d0,
				 uint32_t d1)
{
	uint32_t region = fz_below(g->r, g->regions);
	uint64_t bytes = lumen_row_bytes(dtype, d0) * d1;
	uint64_t off = (g->next[region] + 63) & ~63ULL;

	if (fz_pct(g->r, 10))
		off += 4096;
	g->next[region] = off + bytes;
	return lumen_tensor_2d(dtype, region, off, d0, d1, 0);
}

static uint32_t weight_dtype(struct fz_rng *r, uint32_t *d0)
{
	static const uint32_t block32[] = {
		LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_Q4_1, LUMEN_DTYPE_Q5_0,
		LUMEN_DTYPE_Q5_1, LUMEN_DTYPE_Q8_0,
	};
	static const uint32_t block256[] = {
		LUMEN_DTYPE_Q4_K, LUMEN_DTYPE_Q5_K, LUMEN_DTYPE_Q6_K,
	};
	static const uint32_t plain[] = {
		LUMEN_DTYPE_F32, LUMEN_DTYPE_F16, LUMEN_DTYPE_BF16,
	};

	switch (fz_below(r, 4)) {
	case 0:
		*d0 = 32 * (1 + fz_below(r, 2));
		return pick(r, block32, 5);
	case 1:
		*d0 = 256;
		return pick(r, block256, 3);
	default:
		return pick(r, plain, 3);
	}
}

static uint16_t maybe_arg(struct fz_rng *r, uint32_t pct)
{
	return fz_pct(r, pct) ? (uint16_t)fz_below(r, FZ_ARG_SLOTS) :
		LUMEN_ARG_NONE;
}

static void gen_op(struct gen *g, struct lumen_op *op)
{
	static const uint32_t widths[] = { 4, 8, 16, 32, 64 };
	struct fz_rng *r = g->r;
	uint32_t opc = fz_below(r, LUMEN_OP_COUNT);
	uint32_t R = 1 + fz_below(r, 4), d0 = pick(r, widths, 5);
	uint32_t last = 0, k, n, h, hd, kvh, c, dt;

	lumen_op_init(op, opc);
	if (opc != LUMEN_OP_NOP)
		op->rows_arg = maybe_arg(r, 40);
	if ((lumen_op_info[opc].flags & LUMEN_OPF_LAST_ROW) && fz_pct(r, 25)) {
		op->flags |= LUMEN_OPF_LAST_ROW;
		last = 1;
	}
	switch (opc) {
	case LUMEN_OP_NOP:
		break;
	case LUMEN_OP_ADD:
	case LUMEN_OP_MUL:
	case LUMEN_OP_SWIGLU:
	case LUMEN_OP_GEGLU:
		op->src[0] = place(g, LUMEN_DTYPE_F32, d0, R);
		op->src[1] = place(g, LUMEN_DTYPE_F32, d0,
				   (opc == LUMEN_OP_ADD || opc == LUMEN_OP_MUL) &&
				   fz_pct(r, 50) ? 1 : R);
		op->dst = fz_pct(r, 20) ? op->src[0] :
			place(g, LUMEN_DTYPE_F32, d0, R);
		break;
	case LUMEN_OP_COPY:
		op->src[0] = place(g, fz_pct(r, 50) ? LUMEN_DTYPE_F32 :
				   LUMEN_DTYPE_F16, d0, R);
		op->dst = place(g, fz_pct(r, 50) ? LUMEN_DTYPE_F32 :
				LUMEN_DTYPE_F16, d0, last ? 1 : R);
		break;
	case LUMEN_OP_SOFTMAX:
		op->params[LUMEN_P_SCALE] = fz_pct(r, 50) ? f32_one : f32_eighth;
		op->src[0] = place(g, LUMEN_DTYPE_F32, d0, R);
		op->dst = !last && fz_pct(r, 20) ? op->src[0] :
			place(g, LUMEN_DTYPE_F32, d0, last ? 1 : R);
		break;
	case LUMEN_OP_ARGMAX:
		op->src[0] = place(g, LUMEN_DTYPE_F32, d0, R);
		op->dst = place(g, LUMEN_DTYPE_I32, 1, last ? 1 : R);
		break;
	case LUMEN_OP_TOPK:
		k = 1 + fz_below(r, d0 < LUMEN_MAX_TOPK ? d0 : LUMEN_MAX_TOPK);
		op->params[LUMEN_P_K] = k;
		op->src[0] = place(g, LUMEN_DTYPE_F32, d0, R);
		op->dst = place(g, LUMEN_DTYPE_I32, 2 * k, last ? 1 : R);
		break;
	case LUMEN_OP_RMSNORM:
		n = 1U << fz_below(r, 3);	/* groups: 1, 2, 4 divide d0 */
		op->params[LUMEN_P_EPS] = f32_eps;
		op->params[LUMEN_P_N_GROUP] = n == 1 && fz_pct(r, 50) ? 0 : n;
		op->src[0] = place(g, LUMEN_DTYPE_F32, d0, R);
		op->src[1] = place(g, LUMEN_DTYPE_F32, d0 / n, 1);
		op->dst = !last && fz_pct(r, 20) ? op->src[0] :
			place(g, LUMEN_DTYPE_F32, d0, last ? 1 : R);
		break;
	case LUMEN_OP_MATMUL:
		dt = weight_dtype(r, &d0);
		n = 1 + fz_below(r, 16);
		op->src[0] = place(g, dt, d0, n);
		op->src[1] = place(g, LUMEN_DTYPE_F32, d0, R);
		op->dst = place(g, LUMEN_DTYPE_F32, n, last ? 1 : R);
		if (fz_pct(r, 30)) {
			op->flags |= LUMEN_OPF_RESIDUAL;
			op->src[2] = fz_pct(r, 30) ? op->dst :
				place(g, LUMEN_DTYPE_F32, n, last ? 1 : R);
		}
		break;
	case LUMEN_OP_EMBED:
		dt = weight_dtype(r, &d0);
		op->src[0] = place(g, dt, d0, 1 + fz_below(r, 16));
		op->src[1] = place(g, LUMEN_DTYPE_I32, R, 1);
		op->dst = place(g, LUMEN_DTYPE_F32, d0, R);
		break;
	case LUMEN_OP_ROPE:
		h = 1U << fz_below(r, 3);
		if (d0 / h < 2)
			h = 1;
		hd = d0 / h;
		k = 2 * (1 + fz_below(r, hd / 2));
		op->params[LUMEN_P_N_HEAD] = h;
		op->params[LUMEN_P_N_ROT] = k;
		op->params[LUMEN_P_FREQ_BASE] = f32_theta;
		op->pos_arg = maybe_arg(r, 50);
		if (fz_pct(r, 50))
			op->flags |= LUMEN_OPF_ROPE_NEOX;
		op->src[0] = place(g, LUMEN_DTYPE_F32, d0, R);
		if (fz_pct(r, 30)) {
			op->flags |= LUMEN_OPF_ROPE_FACTORS;
			op->src[1] = place(g, LUMEN_DTYPE_F32, k / 2, 1);
		}
		op->dst = fz_pct(r, 30) ? op->src[0] :
			place(g, LUMEN_DTYPE_F32, d0, R);
		break;
	case LUMEN_OP_KV_WRITE:
		op->pos_arg = maybe_arg(r, 50);
		op->src[0] = place(g, LUMEN_DTYPE_F32, d0, R);
		op->dst = place(g, fz_pct(r, 50) ? LUMEN_DTYPE_F32 :
				LUMEN_DTYPE_F16, d0, R + fz_below(r, 8));
		break;
	case LUMEN_OP_ATTENTION:
		h = 1U << fz_below(r, 3);
		hd = 4U << fz_below(r, 2);
		kvh = fz_pct(r, 50) ? 1 : h;
		c = R + fz_below(r, 8);
		dt = fz_pct(r, 50) ? LUMEN_DTYPE_F32 : LUMEN_DTYPE_F16;
		op->params[LUMEN_P_N_HEAD] = h;
		op->params[LUMEN_P_N_KV_HEAD] = kvh;
		op->params[LUMEN_P_SCALE] = f32_eighth;
		if (fz_pct(r, 30))
			op->params[LUMEN_P_WINDOW] = 1 + fz_below(r, c);
		op->pos_arg = maybe_arg(r, 50);
		op->src[0] = place(g, LUMEN_DTYPE_F32, h * hd, R);
		op->src[1] = place(g, dt, kvh * hd, c);
		op->src[2] = place(g, dt, kvh * hd, c);
		op->dst = place(g, LUMEN_DTYPE_F32, h * hd, R);
		break;
	}
}

size_t fz_prog_generate(struct fz_rng *r, void *buf)
{
	struct lumen_prog_header *h = buf;
	struct lumen_op *ops = (struct lumen_op *)(h + 1);
	uint32_t nops = 1 + fz_below(r, FZ_PROG_MAX_OPS), i;
	struct gen g = { .r = r };

	g.regions = 1 + fz_below(r, 4);
	g.args_region = fz_below(r, g.regions);
	/* Tensors start past the arg slots in the args region. */
	g.next[g.args_region] = FZ_ARGS_BYTES;
	lumen_prog_header_init(h, nops, g.regions, g.args_region);
	for (i = 0; i < nops; i++)
		gen_op(&g, &ops[i]);
	return sizeof(*h) + nops * sizeof(*ops);
}

/* Values that sit on the validator's boundaries. */
static uint64_t interesting(struct fz_rng *r)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 4, 7, 16, 17, 31, 32, 33, 64, 255, 256, 4095,
		4096, 65535, 65536, 0x7fffffff, 0x80000000, 0xffffffff,
		0x100000000ULL, 0x7fffffffffffffffULL, ~0ULL, 0xfffffffffffff000ULL,
	};

	return v[fz_below(r, sizeof(v) / sizeof(v[0]))];
}

static void mutate_tensor(struct fz_rng *r, struct lumen_tensor *t)
{
	uint64_t v = interesting(r);

	switch (fz_below(r, 7)) {
	case 0:
		t->dtype = fz_pct(r, 50) ? (uint8_t)fz_below(r, 32) : (uint8_t)v;
		break;
	case 1:
		t->region = (uint8_t)fz_below(r, LUMEN_MAX_REGIONS + 2);
		break;
	case 2:
		t->dims[fz_below(r, LUMEN_MAX_DIMS)] = (uint32_t)v;
		break;
	case 3:
		t->strides[fz_below(r, LUMEN_MAX_DIMS)] = v;
		break;
	case 4:
		t->offset = fz_pct(r, 50) ? v : t->offset + fz_below(r, 8);
		break;
	case 5:
		t->pad = (uint16_t)(1 + fz_below(r, 3));
		break;
	default:
		/* A small move keeps the shape plausible: aliasing, overlap. */
		t->offset = fz_below(r, 4) * 64;
		break;
	}
}

static void mutate_once(struct fz_rng *r, uint8_t *buf, size_t *size)
{
	struct lumen_prog_header *h = (struct lumen_prog_header *)buf;
	struct lumen_op *ops = (struct lumen_op *)(h + 1);
	uint32_t nops = 0, at;
	struct lumen_op *op;

	/* Ops wholly inside the (maybe truncated) program. */
	if (*size > sizeof(*h))
		nops = (*size - sizeof(*h)) / sizeof(*ops);
	op = nops ? &ops[fz_below(r, nops)] : NULL;

	switch (fz_below(r, 10)) {
	case 0:
		buf[fz_below(r, *size)] ^= 1U << fz_below(r, 8);
		break;
	case 1:
		at = fz_below(r, *size / 4) * 4;
		*(uint32_t *)(buf + at) = (uint32_t)interesting(r);
		break;
	case 2:
		/* Truncate or extend: the size checks. */
		if (fz_pct(r, 50) && *size > 1)
			*size -= 1 + fz_below(r, *size - 1);
		else if (*size + sizeof(*ops) <= FZ_PROG_CAP)
			*size += fz_pct(r, 50) ? sizeof(*ops) : 1 + fz_below(r, 8);
		break;
	case 3:
		switch (fz_below(r, 5)) {
		case 0: h->op_count += fz_pct(r, 50) ? 1 : -1; break;
		case 1: h->region_count = fz_below(r, LUMEN_MAX_REGIONS + 2); break;
		case 2: h->args_region = fz_below(r, h->region_count + 1); break;
		case 3: h->header_size = (uint32_t)interesting(r); break;
		default: h->reserved[fz_below(r, 8)] = 1; break;
		}
		break;
	case 4:
		if (op)
			op->opcode = (uint16_t)fz_below(r, LUMEN_OP_COUNT + 2);
		break;
	case 5:
		if (op)
			op->flags ^= 1U << fz_below(r, 5);
		break;
	case 6:
		if (op) {
			if (fz_pct(r, 50))
				op->rows_arg = (uint16_t)interesting(r);
			else
				op->pos_arg = (uint16_t)fz_below(r, 300);
		}
		break;
	case 7:
		if (op)
			op->params[fz_below(r, LUMEN_MAX_PARAMS)] =
				(uint32_t)interesting(r);
		break;
	default:
		if (op)
			mutate_tensor(r, fz_pct(r, 40) ? &op->dst :
				      &op->src[fz_below(r, LUMEN_MAX_SRCS)]);
		break;
	}
}

void fz_prog_mutate(struct fz_rng *r, void *buf, size_t *size,
		    unsigned int rounds)
{
	while (rounds--)
		mutate_once(r, buf, size);
}

size_t fz_prog_make(uint64_t seed, void *buf, int *mutated)
{
	struct fz_rng r;
	size_t size;

	fz_seed(&r, seed, 0x70726f67);	/* "prog" */
	memset(buf, 0, FZ_PROG_CAP);
	size = fz_prog_generate(&r, buf);
	*mutated = fz_pct(&r, 45);
	if (*mutated)
		fz_prog_mutate(&r, buf, &size, 1 + fz_below(&r, 3));
	return size;
}
