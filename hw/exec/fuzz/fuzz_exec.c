// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: structured random programs through the validator and,
 * when it accepts them, through the executor (review 2026-12, item 5; from
 * the review's poc/fuzz_exec.c). The invariant: a program lumen_validate()
 * accepts never triggers a sanitizer report, whatever the region contents
 * (NaN/Inf included), region sizes (smaller than declared: a fault), arg
 * values, kernel level (scalar, AVX2, AVX-512), thread count, or slots bound to the
 * same memory (the kernel allows one BO in several slots).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_internal.h"
#include "lumen_exec.h"
#include "lumen_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct src *s, int bytes)
{
	uint32_t v = 0;

	for (int i = 0; i < bytes; i++) {
		v = v << 8 | (s->n ? *s->p : 0);
		if (s->n) {
			s->p++;
			s->n--;
		}
	}
	return v;
}

static uint32_t pick(struct src *s, uint32_t n)
{
	return n ? take(s, 1) % n : 0;
}

static const uint8_t dtypes[] = {
	LUMEN_DTYPE_F32, LUMEN_DTYPE_F16, LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_Q8_0,
	LUMEN_DTYPE_I32, LUMEN_DTYPE_BF16, LUMEN_DTYPE_Q4_1, LUMEN_DTYPE_Q5_0,
	LUMEN_DTYPE_Q5_1, LUMEN_DTYPE_Q4_K, LUMEN_DTYPE_Q5_K, LUMEN_DTYPE_Q6_K,
	LUMEN_DTYPE_Q4_0_R8, LUMEN_DTYPE_Q8_0_R8, LUMEN_DTYPE_Q4_K_R8, LUMEN_DTYPE_Q6_K_R8,
	LUMEN_DTYPE_Q5_0_R8,
};

static uint32_t small_dim(struct src *s)
{
	static const uint32_t v[] = { 1, 2, 3, 4, 8, 16, 32, 64, 96, 128, 5, 7, 33, 31, 256 };

	return v[pick(s, sizeof(v) / sizeof(v[0]))];
}

static void gen_tensor(struct src *s, struct lumen_tensor *t, uint32_t regions)
{
	uint32_t mode = take(s, 1), block;
	uint64_t row;

	memset(t, 0, sizeof(*t));
	t->dtype = dtypes[pick(s, sizeof(dtypes))];
	t->region = pick(s, regions);
	for (int i = 0; i < 4; i++)
		t->dims[i] = i < 2 ? small_dim(s) :
			     ((mode & (1 << i)) ? (small_dim(s) & 3 ? small_dim(s) & 3 : 1) : 1);
	block = lumen_type_block(t->dtype);
	if (block > 1)
		t->dims[0] = (t->dims[0] + block - 1) / block * block;
	row = (uint64_t)t->dims[0] / block * lumen_type_size(t->dtype);
	t->strides[0] = lumen_type_size(t->dtype);
	t->strides[1] = (mode & 1) ? 0 : row + 4 * pick(s, 3);
	t->strides[2] = t->strides[1] * t->dims[1] + ((mode & 16) ? 4 : 0);
	t->strides[3] = t->strides[2] * t->dims[2];
	if (mode & 32)
		t->strides[1 + pick(s, 3)] = 4 * take(s, 1);
	t->offset = (mode & 64) ? 4 * (uint64_t)take(s, 2) : 0;
	if ((mode & 0x80) && pick(s, 8) == 0) {	/* raw mutation of one word */
		uint32_t w = pick(s, sizeof(*t) / 4);
		uint32_t x = take(s, 4), old;

		memcpy(&old, (uint8_t *)t + 4 * w, 4);
		old ^= x;
		memcpy((uint8_t *)t + 4 * w, &old, 4);
	}
}

/* rows laid out one after another (some padding), as a compiler would */
static void lay_out(struct src *s, struct lumen_tensor *t)
{
	uint32_t block = lumen_type_block(t->dtype);

	if (block > 1)
		t->dims[0] = (t->dims[0] + block - 1) / block * block;
	t->dims[2] = t->dims[3] = 1;
	t->strides[0] = lumen_type_size(t->dtype);
	t->strides[1] = (uint64_t)t->dims[0] / block * t->strides[0] + 4 * pick(s, 2);
	t->strides[2] = t->strides[1] * t->dims[1];
	t->strides[3] = t->strides[2];
}

/*
 * MATMUL and ATTENTION whose operands fit together: with every tensor's
 * dtype and shape drawn apart, nearly none would pass the validator, and
 * the kernels behind them (each weight type's matvec and multi-row dot
 * products, the attention scores and values over F32 and F16 caches, at
 * every kernel level) would go unfuzzed.
 */
static void fit_operands(struct src *s, struct lumen_op *op, uint32_t regions)
{
	static const uint8_t weights[] = {
		LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_Q8_0, LUMEN_DTYPE_F16, LUMEN_DTYPE_F32,
		LUMEN_DTYPE_BF16, LUMEN_DTYPE_Q4_1, LUMEN_DTYPE_Q5_0, LUMEN_DTYPE_Q5_1,
		LUMEN_DTYPE_Q4_K, LUMEN_DTYPE_Q5_K, LUMEN_DTYPE_Q6_K,
		LUMEN_DTYPE_Q4_0_R8, LUMEN_DTYPE_Q8_0_R8, LUMEN_DTYPE_Q4_K_R8, LUMEN_DTYPE_Q6_K_R8,
		LUMEN_DTYPE_Q5_0_R8,
	};
	static const uint32_t head_dims[] = { 4, 8, 16, 32, 64, 128, 12, 20 };
	struct lumen_tensor *dst = &op->dst, *w = &op->src[0], *x = &op->src[1];

	switch (op->opcode) {
	case LUMEN_OP_MATMUL:
		w->dtype = weights[pick(s, sizeof(weights))];
		x->dtype = dst->dtype = LUMEN_DTYPE_F32;
		lay_out(s, w);
		if (lumen_r8_base(w->dtype) != w->dtype) {	/* whole groups of 8, packed */
			w->dims[1] = (w->dims[1] + LUMEN_ROW_GROUP - 1) / LUMEN_ROW_GROUP *
				     LUMEN_ROW_GROUP;
			w->strides[1] = (uint64_t)w->dims[0] / lumen_type_block(w->dtype) *
					 w->strides[0];
			w->strides[2] = w->strides[3] = w->strides[1] * w->dims[1];
		}
		x->dims[0] = w->dims[0];
		lay_out(s, x);
		dst->dims[0] = w->dims[1];
		dst->dims[1] = (op->flags & LUMEN_OPF_LAST_ROW) ? 1 : x->dims[1];
		lay_out(s, dst);
		if (op->flags & LUMEN_OPF_RESIDUAL) {
			op->src[2] = *dst;
			if (pick(s, 2))
				op->src[2].region = pick(s, regions);
		}
		break;
	case LUMEN_OP_ATTENTION: {
		uint32_t hd = head_dims[pick(s, sizeof(head_dims) / sizeof(head_dims[0]))];
		uint32_t n_kv = op->params[LUMEN_P_N_KV_HEAD];
		uint32_t n_head = n_kv * (1 + pick(s, 3));

		op->params[LUMEN_P_N_HEAD] = n_head;
		x->dtype = pick(s, 2) ? LUMEN_DTYPE_F16 : LUMEN_DTYPE_F32;
		w->dtype = dst->dtype = LUMEN_DTYPE_F32;
		w->dims[0] = n_head * hd;
		lay_out(s, w);
		*dst = *w;
		dst->region = pick(s, regions);
		lay_out(s, dst);
		x->dims[0] = n_kv * hd;
		/* caches past two chunks of 128 keys: many K/V tiles (and, rarely, a split-K decode) */
		if (pick(s, 4) == 0)
			x->dims[1] = 130 + pick(s, 300);
		lay_out(s, x);
		op->src[2] = *x;
		op->src[2].region = pick(s, regions);
		break;
	}
	}
}

/* rough work bound: skip giant programs (compute-bound, not memory bugs) */
static double cost(const struct lumen_op *op)
{
	double c = 1;

	for (int i = 0; i < 4; i++) {
		const struct lumen_tensor *t = i ? &op->src[i - 1] : &op->dst;
		double d = 1;

		for (int j = 0; j < 4; j++)
			d *= t->dims[j] ? t->dims[j] : 1;
		if (d > c)
			c = d;
	}
	if (op->opcode == LUMEN_OP_MATMUL || op->opcode == LUMEN_OP_ATTENTION)
		c = (double)op->src[0].dims[0] * op->src[0].dims[1] * op->src[1].dims[1];
	return c;
}

/*
 * Each kernel level this CPU has (scalar, AVX2, AVX-512), one and two
 * threads (small loops shared out too): executor 2 * level + threads - 1.
 */
static struct lumen_exec *ex[2 * LUMEN_KERNEL_LEVELS];
static unsigned int n_ex;
/* with LUMEN_FUZZ_STATS set: how many inputs became valid programs, and ran */
static unsigned long n_inputs, n_valid, n_ran, n_faulted;
static unsigned long ran_on[2 * LUMEN_KERNEL_LEVELS];

/*
 * At exit, after enough runs: every executor must have had some of its
 * share, or a level would look fuzzed and not be (as when the executor
 * was chosen by a byte that lay past the end of nearly every input, and
 * five executors of six ran next to nothing). libFuzzer's mutations do
 * not keep the last byte uniform: in 25-s runs one executor's share fell
 * to 0.17 of the mean, so the bar is a sixteenth of it.
 */
static void check_every_level_ran(void)
{
	int bad = 0;

	if (n_ran < 1000)
		return;
	for (unsigned int i = 0; i < n_ex; i++) {
		if (ran_on[i] >= n_ran / (16 * n_ex))
			continue;
		fprintf(stderr, "fuzz-exec: executor %u (%s, %u thread%s) ran %lu of %lu "
			"programs, under a sixteenth of its share: the input does not "
			"reach every kernel level\n", i, ex[i]->k->name, 1 + (i & 1),
			i & 1 ? "s" : "", ran_on[i], n_ran);
		bad = 1;
	}
	if (bad)
		_exit(1);
}

static void print_stats(void)
{
	fprintf(stderr, "fuzz-exec: %lu inputs, %lu valid programs, %lu run (%lu faulted)\n",
		n_inputs, n_valid, n_ran, n_faulted);
	for (unsigned int i = 0; i < n_ex; i++)
		fprintf(stderr, "fuzz-exec: executor %u (%s, %u thread%s): %lu runs\n", i,
			ex[i]->k->name, 1 + (i & 1), i & 1 ? "s" : "", ran_on[i]);
}

/*
 * An executor whose kernels are not the level asked for would fuzz the
 * wrong code and say nothing: stop the fuzzer instead.
 */
static void make_executors(void)
{
	const struct lumen_kernels *levels[LUMEN_KERNEL_LEVELS];
	size_t n = lumen_kernels_available(levels, LUMEN_KERNEL_LEVELS);

	unsetenv(LUMEN_EXEC_SCALAR_ENV);
	for (unsigned int i = 0; i < 2 * n; i++) {
		const char *name = levels[i / 2]->name;

		setenv(LUMEN_EXEC_KERNELS_ENV, name, 1);
		ex[i] = lumen_exec_create(1 + (i & 1));
		if (!ex[i]) {
			fprintf(stderr, "fuzz-exec: lumen_exec_create(%u) failed\n", 1 + (i & 1));
			abort();
		}
		if (ex[i]->k != levels[i / 2]) {
			fprintf(stderr, "fuzz-exec: executor %u asked for kernel level %s "
				"but runs %s: check %s and lumen_kernels_pick()\n",
				i, name, ex[i]->k->name, LUMEN_EXEC_KERNELS_ENV);
			abort();
		}
		if (i & 1)
			lumen_pool_set_serial_bytes(ex[i]->pool, 0);
	}
	n_ex = 2 * n;
	unsetenv(LUMEN_EXEC_KERNELS_ENV);
	atexit(check_every_level_ran);
	if (getenv("LUMEN_FUZZ_STATS"))
		atexit(print_stats);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s = { data, size ? size - 1 : 0 };
	/*
	 * The executor is the input's last byte: region contents take what is
	 * left of the input, so a byte read after them would nearly always be
	 * past its end (0: scalar, one thread), leaving the SIMD levels unrun.
	 */
	uint32_t which = size ? data[size - 1] : 0;
	uint8_t buf[sizeof(struct lumen_prog_header) + 4 * sizeof(struct lumen_op)];
	struct lumen_prog_header *h = (void *)buf;
	struct lumen_op *ops = (void *)(buf + sizeof(*h));
	struct lumen_validation v;
	struct lumen_region regs[LUMEN_MAX_REGIONS] = { { 0 } };
	void *owned[LUMEN_MAX_REGIONS] = { 0 };
	struct lumen_fault f;
	uint32_t nops, nreg, shrink, alias;
	uint64_t sum = 0;
	double total = 0;

	if (!ex[0])
		make_executors();
	n_inputs++;
	memset(buf, 0, sizeof(buf));
	nreg = 1 + pick(&s, 4);
	nops = 1 + pick(&s, 4);
	h->magic = LUMEN_PROG_MAGIC;
	h->isa_version = LUMEN_ISA_VERSION;
	h->header_size = sizeof(*h);
	h->op_size = sizeof(struct lumen_op);
	h->op_count = nops;
	h->region_count = nreg;
	h->args_region = pick(&s, nreg);
	for (uint32_t i = 0; i < nops; i++) {
		struct lumen_op *op = &ops[i];
		const struct lumen_op_info *info;
		int n;

		op->opcode = 1 + pick(&s, LUMEN_OP_COUNT - 1);
		info = &lumen_op_info[op->opcode];
		op->flags = take(&s, 1) & 7;
		op->rows_arg = pick(&s, 3) ? LUMEN_ARG_NONE : pick(&s, 8);
		op->pos_arg = pick(&s, 3) ? LUMEN_ARG_NONE : pick(&s, 8);
		gen_tensor(&s, &op->dst, nreg);
		for (int j = 0; j < 3; j++)
			gen_tensor(&s, &op->src[j], nreg);
		/* make shapes agree often */
		if (take(&s, 1) & 1) {
			op->dst.dims[0] = op->src[0].dims[0];
			op->dst.dims[1] = op->src[0].dims[1];
		}
		if (take(&s, 1) & 1)
			memcpy(op->src[1].dims, op->src[0].dims, sizeof(op->src[1].dims));
		if (take(&s, 1) & 1)
			op->src[2] = op->dst;
		if (take(&s, 1) & 1)
			op->src[2].region = op->dst.region ^ 1;
		switch (op->opcode) {
		case LUMEN_OP_RMSNORM:
			op->params[LUMEN_P_EPS] = 0x3727c5ac;	/* 1e-5 */
			op->params[LUMEN_P_N_GROUP] = pick(&s, 3);
			break;
		case LUMEN_OP_ROPE:
			op->params[LUMEN_P_N_HEAD] = 1 + pick(&s, 4);
			op->params[LUMEN_P_N_ROT] = 2 * (1 + pick(&s, 8));
			op->params[LUMEN_P_FREQ_BASE] = 0x461c4000;
			break;
		case LUMEN_OP_ATTENTION:
			op->params[LUMEN_P_N_HEAD] = 1 + pick(&s, 4);
			op->params[LUMEN_P_N_KV_HEAD] = 1 + pick(&s, 2);
			op->params[LUMEN_P_SCALE] = 0x3e000000;
			op->params[LUMEN_P_WINDOW] = pick(&s, 3) ? 0 : pick(&s, 16);
			break;
		case LUMEN_OP_SOFTMAX:
			op->params[LUMEN_P_SCALE] = 0x3f800000;
			break;
		case LUMEN_OP_TOPK:
			op->params[LUMEN_P_K] = 1 + pick(&s, 8);
			break;
		}
		if ((op->opcode == LUMEN_OP_MATMUL || op->opcode == LUMEN_OP_ATTENTION) &&
		    pick(&s, 4))
			fit_operands(&s, op, nreg);
		/* unused operands must be zero: clear beyond what the op reads */
		n = info->srcs + !!(op->flags & info->extra_src_flag);
		for (int j = n; j < 3; j++)
			memset(&op->src[j], 0, sizeof(op->src[j]));
		if (!info->dtypes[0])
			memset(&op->dst, 0, sizeof(op->dst));
		if (take(&s, 1) == 0x5a)
			((uint8_t *)op)[pick(&s, sizeof(*op))] ^= (uint8_t)take(&s, 1);
	}
	if (lumen_validate(buf, sizeof(*h) + nops * sizeof(struct lumen_op), &v))
		return 0;
	n_valid++;
	for (uint32_t i = 0; i < nops; i++)
		total += cost(&ops[i]);
	if (total > 4e6)
		return 0;
	for (uint32_t r = 0; r < nreg; r++)
		sum += v.region_size[r];
	if (sum > (8u << 20))
		return 0;
	shrink = take(&s, 1);
	alias = take(&s, 1);
	for (uint32_t r = 0; r < nreg; r++) {
		uint64_t sz = v.region_size[r];

		if (!(v.regions_used & (1u << r)))
			continue;
		/* sometimes a smaller region than declared, as a malicious guest could */
		if ((shrink >> r) & 1 && sz > 4) {
			uint64_t d = 4 * (1 + pick(&s, 4));

			sz = d >= sz ? 0 : sz - d;
		}
		owned[r] = malloc(sz ? sz : 1);
		if (!owned[r])
			abort();
		regs[r].base = owned[r];
		regs[r].size = sz;
		/* region bytes from the input: any float, NaN and Inf included */
		for (uint64_t b = 0; b < sz; b++)
			((uint8_t *)owned[r])[b] = (uint8_t)take(&s, 1);
	}
	/* one slot bound again to (part of) another's memory */
	if ((alias & 0x80) && nreg > 1) {
		uint32_t a = (alias & 3) % nreg, b = (alias >> 2 & 3) % nreg;
		uint64_t off = 4 * (uint64_t)(alias >> 4 & 7);

		if (a != b && regs[a].base && regs[b].base && regs[a].size > off &&
		    regs[a].size - off >= regs[b].size) {
			regs[b].base = (uint8_t *)regs[a].base + off;
		}
	}
	/*
	 * args: small values mostly; positions past 128 too, so attention
	 * reads several of its chunks of 128 keys
	 */
	if (regs[h->args_region].base) {
		uint64_t slots = regs[h->args_region].size / 4;

		for (uint64_t k = 0; k < slots && k < 8; k++) {
			uint32_t a = pick(&s, 4) ? pick(&s, 9) :
				     pick(&s, 2) ? pick(&s, 300) : take(&s, 4);

			memcpy((uint8_t *)regs[h->args_region].base + 4 * k, &a, 4);
		}
	}
	n_ran++;
	ran_on[which % n_ex]++;
	if (lumen_exec_run_validated(ex[which % n_ex], buf, &v, regs, LUMEN_MAX_REGIONS, &f))
		n_faulted++;
	for (uint32_t r = 0; r < nreg; r++)
		free(owned[r]);
	return 0;
}
