// SPDX-License-Identifier: MIT
/*
 * The executor: runs a validated program op by op. Before an op touches
 * anything its arg values are range-checked and every operand's extent at
 * this run's row count is checked against the region bound to its slot,
 * so a faulting op writes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"

typedef void (*op_fn)(struct lumen_op_ctx *c);

static const op_fn op_fns[LUMEN_OP_COUNT] = {
	[LUMEN_OP_EMBED] = lumen_op_embed,
	[LUMEN_OP_MATMUL] = lumen_op_matmul,
	[LUMEN_OP_RMSNORM] = lumen_op_rmsnorm,
	[LUMEN_OP_ROPE] = lumen_op_rope,
	[LUMEN_OP_KV_WRITE] = lumen_op_kv_write,
	[LUMEN_OP_ATTENTION] = lumen_op_attention,
	[LUMEN_OP_SWIGLU] = lumen_op_swiglu,
	[LUMEN_OP_ADD] = lumen_op_binary,
	[LUMEN_OP_MUL] = lumen_op_binary,
	[LUMEN_OP_COPY] = lumen_op_copy,
	[LUMEN_OP_SOFTMAX] = lumen_op_softmax,
	[LUMEN_OP_ARGMAX] = lumen_op_argmax,
	[LUMEN_OP_TOPK] = lumen_op_topk,
	[LUMEN_OP_GEGLU] = lumen_op_geglu,
};

#define INITIAL_SCRATCH (256u << 10)
/* most scratch kept between runs: a larger block is given back after the run */
#define SCRATCH_KEEP_MAX (16u << 20)

static int scratch_realloc(struct lumen_exec *ex, size_t size)
{
	uint8_t *p = aligned_alloc(64, size);

	if (!p)
		return -1;
	free(ex->scratch);
	ex->scratch = p;
	ex->scratch_size = size;
	return 0;
}

/* 0, or the fault: above the limit (an amplification the guest controls) or out of memory */
static int scratch_reserve(struct lumen_exec *ex, size_t need)
{
	size_t size;

	if (need > ex->scratch_limit)
		return LUMEN_FAULT_NO_MEMORY;
	if (need > ex->scratch_peak)
		ex->scratch_peak = need;
	if (need <= ex->scratch_size)
		return 0;
	/* geometric growth: a context filling up token by token reallocates rarely */
	size = need < 2 * ex->scratch_size ? 2 * ex->scratch_size : need;
	if (size > ex->scratch_limit)
		size = need;
	size = (size + 4095) & ~(size_t)4095;
	return scratch_realloc(ex, size) ? LUMEN_FAULT_NO_MEMORY : 0;
}

/*
 * After a run: keep twice this run's peak (a context filling up token by
 * token reallocates rarely), at least the initial size and at most
 * SCRATCH_KEEP_MAX; what a large job grew beyond that is given back.
 */
static void scratch_trim(struct lumen_exec *ex)
{
	size_t keep = 2 * ex->scratch_peak;

	if (keep > SCRATCH_KEEP_MAX)
		keep = SCRATCH_KEEP_MAX;
	if (keep < INITIAL_SCRATCH)
		keep = INITIAL_SCRATCH;
	keep = (keep + 4095) & ~(size_t)4095;
	if (ex->scratch_size > keep)
		scratch_realloc(ex, keep);	/* on failure the larger block stays */
	ex->scratch_peak = 0;
}

struct lumen_exec *lumen_exec_create(unsigned int threads)
{
	struct lumen_exec *ex = calloc(1, sizeof(*ex));

	if (!ex)
		return NULL;
	ex->threads = threads ? threads : 1;
	ex->scratch_limit = LUMEN_EXEC_SCRATCH_LIMIT_DEFAULT;
	ex->k = lumen_kernels_pick();
	ex->pool = lumen_pool_create(ex->threads);
	if (!ex->pool || scratch_realloc(ex, INITIAL_SCRATCH)) {
		lumen_exec_destroy(ex);
		return NULL;
	}
	lumen_pool_set_cancel(ex->pool, &ex->cancel);
	return ex;
}

void lumen_exec_destroy(struct lumen_exec *ex)
{
	if (!ex)
		return;
	lumen_pool_destroy(ex->pool);
	free(ex->scratch);
	free(ex);
}

unsigned int lumen_exec_threads(const struct lumen_exec *ex)
{
	return ex->threads;
}

void lumen_exec_cancel(struct lumen_exec *ex)
{
	__atomic_store_n(&ex->cancel, 1, __ATOMIC_SEQ_CST);
}

void lumen_exec_cancel_clear(struct lumen_exec *ex)
{
	__atomic_store_n(&ex->cancel, 0, __ATOMIC_SEQ_CST);
}

void lumen_exec_set_cost_limit(struct lumen_exec *ex, uint64_t work)
{
	ex->cost_limit = work;
}

void lumen_exec_set_scratch_limit(struct lumen_exec *ex, uint64_t bytes)
{
	ex->scratch_limit = bytes ? bytes : LUMEN_EXEC_SCRATCH_LIMIT_DEFAULT;
}

size_t lumen_exec_scratch_bytes(const struct lumen_exec *ex)
{
	return ex->scratch_size;
}

void lumen_exec_get_stats(const struct lumen_exec *ex,
			  struct lumen_exec_stats *stats)
{
	*stats = ex->stats;
}

/* what one run needs to check and run its ops */
struct run {
	struct lumen_exec *ex;
	const struct lumen_prog_header *hdr;
	const struct lumen_region *regions;
	unsigned int n_regions;
	struct lumen_fault *fault;
};

static int fail(struct run *run, uint32_t code, uint32_t region, uint64_t offset)
{
	run->fault->code = code;
	run->fault->region = region;
	run->fault->offset = offset;
	return (int)code;
}

static const struct lumen_region *region_of(const struct run *run, uint32_t slot)
{
	static const struct lumen_region unbound;

	return slot < run->n_regions ? &run->regions[slot] : &unbound;
}

/* base + offset of a tensor holding @rows rows, or a fault */
static int check_tensor(struct run *run, const struct lumen_tensor *t,
			uint32_t rows, uint8_t **ptr)
{
	const struct lumen_region *reg = region_of(run, t->region);
	uint64_t end;

	if (!reg->base)
		return fail(run, LUMEN_FAULT_REGION_UNBOUND, t->region, 0);
	if (lumen_tensor_extent(t, rows, &end) || end > reg->size)
		return fail(run, LUMEN_FAULT_REGION_BOUNDS, t->region, reg->size);
	*ptr = (uint8_t *)reg->base + t->offset;
	return 0;
}

static int read_arg(struct run *run, uint16_t slot, uint32_t *val)
{
	uint32_t args = run->hdr->args_region;
	const struct lumen_region *reg = region_of(run, args);

	if (!reg->base)
		return fail(run, LUMEN_FAULT_REGION_UNBOUND, args, 0);
	if (reg->size < 4 * ((uint64_t)slot + 1))
		return fail(run, LUMEN_FAULT_REGION_BOUNDS, args, reg->size);
	memcpy(val, (const uint8_t *)reg->base + 4 * (size_t)slot, 4);
	return 0;
}

static uint64_t row_bytes(const struct lumen_tensor *t)
{
	return (uint64_t)t->dims[0] / lumen_type_block(t->dtype) * lumen_type_size(t->dtype);
}

/* saturating: a work count of a hostile program must not wrap below the limit */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/*
 * The work of one op at this run's rows and position, as counted in
 * lumen_exec_stats; computed before the op runs, for the cost limit, and
 * added to the stats after it.
 */
static void op_work(const struct lumen_op *op, const uint32_t *rows,
		    uint32_t out_rows, uint32_t pos, struct lumen_exec_stats *w)
{
	const struct lumen_tensor *d = &op->dst;
	uint64_t planes = mul_sat(d->dims[2], d->dims[3]);

	memset(w, 0, sizeof(*w));
	for (int i = 0; i < LUMEN_MAX_SRCS; i++)
		if (lumen_op_info[op->opcode].row_kind[1 + i] != LUMEN_ROWS_NONE)
			w->bytes_read = add_sat(w->bytes_read,
				mul_sat(mul_sat(row_bytes(&op->src[i]), rows[1 + i]),
					mul_sat(op->src[i].dims[2], op->src[i].dims[3])));
	if (op->opcode == LUMEN_OP_KV_WRITE) {
		w->bytes_written = mul_sat(row_bytes(d), out_rows);
		return;
	}
	w->bytes_written = mul_sat(mul_sat(row_bytes(d), out_rows), planes);
	switch (op->opcode) {
	case LUMEN_OP_MATMUL:
		w->flops = mul_sat(mul_sat(2ull * op->src[0].dims[0], op->src[0].dims[1]),
				   out_rows);
		break;
	case LUMEN_OP_ATTENTION: {
		uint64_t keys = add_sat(mul_sat(out_rows, pos),
					(uint64_t)out_rows * (out_rows + 1ull) / 2);

		w->flops = mul_sat(4ull * op->src[0].dims[0], keys);
		break;
	}
	default:
		w->flops = mul_sat(mul_sat(d->dims[0], out_rows), planes);
	}
}

static uint64_t work_total(const struct lumen_exec_stats *w)
{
	return add_sat(add_sat(w->bytes_read, w->bytes_written), w->flops);
}

static void account(struct lumen_exec *ex, const struct lumen_exec_stats *w)
{
	ex->stats.bytes_read += w->bytes_read;
	ex->stats.bytes_written += w->bytes_written;
	ex->stats.flops += w->flops;
}

static int run_op(struct run *run, const struct lumen_op *op)
{
	const struct lumen_op_info *shape = &lumen_op_info[op->opcode];
	const struct lumen_tensor *row_t = &op->src[shape->row_src];
	uint32_t cap = op->opcode == LUMEN_OP_EMBED ? row_t->dims[0] : row_t->dims[1];
	uint32_t R = cap, pos = 0, out_rows, rows[1 + LUMEN_MAX_SRCS];
	struct lumen_op_ctx c = { .ex = run->ex, .op = op };
	struct lumen_exec_stats work;
	uint8_t *ptr[1 + LUMEN_MAX_SRCS] = { 0 };
	int last = !!(op->flags & LUMEN_OPF_LAST_ROW);
	size_t scratch = 0;
	int err;

	if (op->opcode == LUMEN_OP_NOP)
		return 0;
	if (op->rows_arg != LUMEN_ARG_NONE && (err = read_arg(run, op->rows_arg, &R)))
		return err;
	if (R < 1 || R > cap)
		return fail(run, LUMEN_FAULT_ARG_RANGE, run->hdr->args_region, R);
	if (op->pos_arg != LUMEN_ARG_NONE && (err = read_arg(run, op->pos_arg, &pos)))
		return err;
	if (op->opcode == LUMEN_OP_KV_WRITE || op->opcode == LUMEN_OP_ATTENTION) {
		uint32_t ctx = op->dst.dims[1];

		if (op->opcode == LUMEN_OP_ATTENTION)	/* K and V: the shorter, defensively */
			ctx = op->src[1].dims[1] < op->src[2].dims[1] ? op->src[1].dims[1]
								      : op->src[2].dims[1];

		if ((uint64_t)pos + R > ctx)
			return fail(run, LUMEN_FAULT_ARG_RANGE, run->hdr->args_region, pos);
	}
	out_rows = last ? 1 : R;
	for (int i = 0; i <= LUMEN_MAX_SRCS; i++) {
		const struct lumen_tensor *t = i ? &op->src[i - 1] : &op->dst;
		struct lumen_tensor ids;

		switch (shape->row_kind[i]) {
		case LUMEN_ROWS_NONE:
			continue;
		case LUMEN_ROWS_ALL:
			rows[i] = t->dims[1];
			break;
		case LUMEN_ROWS_IN:
			rows[i] = R;
			break;
		case LUMEN_ROWS_OUT:
			rows[i] = out_rows;
			break;
		case LUMEN_ROWS_BCAST:
			rows[i] = t->dims[1] == 1 ? 1 : R;
			break;
		case LUMEN_ROWS_IDS:
			ids = *t;
			ids.dims[0] = R;
			rows[i] = 1;
			t = &ids;
			break;
		}
		if (i == 1 + shape->srcs && !(op->flags & shape->extra_src_flag))
			continue;
		/* a validator slip must not turn into an access past the check */
		if (rows[i] > t->dims[1])
			return fail(run, LUMEN_FAULT_ARG_RANGE, run->hdr->args_region, R);
		if ((err = check_tensor(run, t, rows[i], &ptr[i])))
			return err;
	}
	switch (op->opcode) {
	case LUMEN_OP_EMBED:
		scratch = 4 * (size_t)R;	/* the ids, read once */
		break;
	case LUMEN_OP_MATMUL:
		scratch = lumen_matmul_scratch(op, out_rows);
		break;
	case LUMEN_OP_ATTENTION:
		scratch = lumen_attention_scratch(op, pos + R, run->ex->threads);
		break;
	case LUMEN_OP_ROPE:
		scratch = lumen_rope_scratch(op);
		break;
	}
	op_work(op, rows, out_rows, pos, &work);
	if (run->ex->cost_limit) {
		uint64_t total = add_sat(run->ex->run_cost, work_total(&work));

		if (total > run->ex->cost_limit)
			return fail(run, LUMEN_FAULT_COST_LIMIT, ~0u, total);
		run->ex->run_cost = total;
	}
	if ((err = scratch_reserve(run->ex, scratch)))
		return fail(run, err, ~0u, scratch);
	if (op->opcode == LUMEN_OP_EMBED) {
		/*
		 * The ids region may be written by someone else while we run
		 * (guest RAM): snapshot the ids, check the snapshot, and have
		 * the op index with exactly what was checked.
		 */
		int32_t *ids = (int32_t *)run->ex->scratch;

		memcpy(ids, ptr[2], 4 * (size_t)R);
		for (uint32_t r = 0; r < R; r++)
			if (ids[r] < 0 || (uint32_t)ids[r] >= op->src[0].dims[1])
				return fail(run, LUMEN_FAULT_INDEX, op->src[1].region,
					    (uint32_t)ids[r]);
		ptr[2] = (uint8_t *)ids;
	}

	/* under LAST_ROW the row operand starts at row R - 1 */
	if (last)
		ptr[1 + shape->row_src] += (uint64_t)(R - 1) * row_t->strides[1];
	c.dst = ptr[0];
	for (int i = 0; i < LUMEN_MAX_SRCS; i++)
		c.src[i] = ptr[1 + i];
	c.rows = out_rows;
	c.pos = pos;
	op_fns[op->opcode](&c);
	account(run->ex, &work);
	/* a parallel op cancelled part way has skipped items: report it */
	if (__atomic_load_n(&run->ex->cancel, __ATOMIC_SEQ_CST))
		return fail(run, LUMEN_FAULT_CANCELLED, ~0u, 0);
	return 0;
}

int lumen_exec_run_validated(struct lumen_exec *ex, const void *prog,
			     const struct lumen_validation *v,
			     const struct lumen_region *regions,
			     unsigned int n_regions, struct lumen_fault *fault)
{
	struct run run = {
		.ex = ex,
		.hdr = prog,
		.regions = regions,
		.n_regions = n_regions,
		.fault = fault,
	};
	const uint8_t *ops = (const uint8_t *)prog + run.hdr->header_size;

	int err = 0;

	memset(fault, 0, sizeof(*fault));
	ex->run_cost = 0;
	for (uint32_t i = 0; i < v->op_count; i++) {
		const struct lumen_op *op =
			(const struct lumen_op *)(ops + (size_t)i * run.hdr->op_size);

		if (__atomic_load_n(&ex->cancel, __ATOMIC_SEQ_CST))
			err = fail(&run, LUMEN_FAULT_CANCELLED, ~0u, 0);
		else
			err = run_op(&run, op);
		if (err) {
			fault->op_index = i;
			break;
		}
		ex->stats.ops++;
	}
	/* a request made during this run ends with it, whatever the run's outcome */
	__atomic_store_n(&ex->cancel, 0, __ATOMIC_SEQ_CST);
	if (!err)
		ex->stats.jobs++;
	scratch_trim(ex);
	return err;
}

int lumen_exec_run(struct lumen_exec *ex, const void *prog, size_t size,
		   const struct lumen_region *regions, unsigned int n_regions,
		   struct lumen_fault *fault)
{
	struct lumen_validation v;

	if (lumen_validate(prog, size, &v)) {
		memset(fault, 0, sizeof(*fault));
		fault->code = LUMEN_FAULT_INVALID_PROGRAM;
		fault->op_index = v.error_op;
		fault->region = ~0u;
		fault->detail = v.error;
		return LUMEN_FAULT_INVALID_PROGRAM;
	}
	return lumen_exec_run_validated(ex, prog, &v, regions, n_regions, fault);
}
