// SPDX-License-Identifier: MIT
/*
 * The silicon model (silicon.h): per op, a roofline on a modeled NPU.
 *
 * What an op moves is read off the ISA's own operand table (lumen_ops.c),
 * as the executor sizes its checks: operands read whole (weights, the KV
 * cache, norm vectors) come from DRAM — except that EMBED reads only its
 * rows of the table and ATTENTION only the pos + rows cached positions;
 * the per-row operands (activations) stay in SRAM when the op's share of
 * them fits, else they go to DRAM too. KV_WRITE's rows go to DRAM.
 */
#include "silicon.h"

#include <string.h>

#include "lumen_build.h"
#include "lumen_ops.h"
#include "lumen_validate.h"

#define MIB (1024.0 * 1024.0)
#define GIB (1024ull * 1024 * 1024)

/*
 * The figures and their sources are in Documentation/accel/lumen/
 * silicon.rst; change them there too.
 */
const struct lumen_silicon lumen_silicon_presets[] = {
	{
		.name = "glasses",
		.summary = "glasses-class SoC: 0.6 TOPS int8 NPU, LPDDR4X x16, 1 MiB SRAM, 2 GB RAM",
		.clock_hz = 600e6,
		.macs_int8 = 512, .macs_fp16 = 128, .macs_fp32 = 32,
		.vector_per_cycle = 32,
		.dram_bytes_per_s = 6.4e9,
		.sram_bytes = 1 * MIB,
		.sram_bytes_per_cycle = 64,
		.op_overhead_cycles = 600,
		.pj_mac_int8 = 0.1, .pj_mac_fp16 = 0.4, .pj_mac_fp32 = 1.2,
		.pj_vector = 0.5,
		.pj_dram_byte = 30, .pj_sram_byte = 1.5,
		.static_mw = 30,
		.memory_bytes = 5 * GIB / 4,
	},
	{
		.name = "phone",
		.summary = "phone-class SoC: 16 TOPS int8 NPU, LPDDR5X x64, 8 MiB SRAM, 12 GB RAM",
		.clock_hz = 1e9,
		.macs_int8 = 8192, .macs_fp16 = 2048, .macs_fp32 = 512,
		.vector_per_cycle = 256,
		.dram_bytes_per_s = 50e9,
		.sram_bytes = 8 * MIB,
		.sram_bytes_per_cycle = 256,
		.op_overhead_cycles = 500,
		.pj_mac_int8 = 0.05, .pj_mac_fp16 = 0.2, .pj_mac_fp32 = 0.8,
		.pj_vector = 0.25,
		.pj_dram_byte = 20, .pj_sram_byte = 1,
		.static_mw = 100,
		.memory_bytes = 6 * GIB,
	},
};
const unsigned int lumen_silicon_preset_count =
	sizeof(lumen_silicon_presets) / sizeof(lumen_silicon_presets[0]);

const struct lumen_silicon *lumen_silicon_find(const char *name)
{
	for (unsigned int i = 0; i < lumen_silicon_preset_count; i++)
		if (!strcmp(lumen_silicon_presets[i].name, name))
			return &lumen_silicon_presets[i];
	return NULL;
}

static double tensor_bytes(const struct lumen_tensor *t, uint64_t rows)
{
	return (double)lumen_row_bytes(t->dtype, t->dims[0]) * rows *
	       t->dims[2] * t->dims[3];
}

/* MACs per cycle for weights (or cache entries) of @dtype */
static double mac_rate(const struct lumen_silicon *si, uint32_t dtype,
		       double *pj)
{
	switch (dtype) {
	case LUMEN_DTYPE_F32:
		*pj = si->pj_mac_fp32;
		return si->macs_fp32;
	case LUMEN_DTYPE_F16:
	case LUMEN_DTYPE_BF16:
		*pj = si->pj_mac_fp16;
		return si->macs_fp16;
	default:		/* GGUF blocks: int8 after the block's scale */
		*pj = si->pj_mac_int8;
		return si->macs_int8;
	}
}

void lumen_silicon_op(const struct lumen_silicon *si, const struct lumen_op *op,
		      uint32_t rows, uint32_t pos,
		      struct lumen_silicon_cost *cost)
{
	const struct lumen_op_info *shape = &lumen_op_info[op->opcode];
	uint32_t out_rows = op->flags & LUMEN_OPF_LAST_ROW ? 1 : rows;
	double dram = 0, act = 0, macs = 0, vector = 0, pj_mac = 0, rate = 1;
	double cycles, seconds;

	if (op->opcode == LUMEN_OP_NOP)
		return;
	for (int i = 0; i <= LUMEN_MAX_SRCS; i++) {
		const struct lumen_tensor *t = i ? &op->src[i - 1] : &op->dst;

		if (i == 1 + shape->srcs && !(op->flags & shape->extra_src_flag))
			continue;
		switch (shape->row_kind[i]) {
		case LUMEN_ROWS_NONE:
			break;
		case LUMEN_ROWS_ALL:
			if (op->opcode == LUMEN_OP_EMBED)
				dram += tensor_bytes(t, rows);
			else if (op->opcode == LUMEN_OP_ATTENTION)
				dram += tensor_bytes(t, (uint64_t)pos + rows);
			else if (op->opcode == LUMEN_OP_KV_WRITE)
				dram += tensor_bytes(t, rows);
			else
				dram += tensor_bytes(t, t->dims[1]);
			break;
		case LUMEN_ROWS_IN:
			act += tensor_bytes(t, rows);
			break;
		case LUMEN_ROWS_OUT:
			act += tensor_bytes(t, out_rows);
			break;
		case LUMEN_ROWS_BCAST:
			act += tensor_bytes(t, t->dims[1] == 1 ? 1 : rows);
			break;
		case LUMEN_ROWS_IDS:
			act += 4.0 * rows;
			break;
		}
	}
	switch (op->opcode) {
	case LUMEN_OP_MATMUL:
		rate = mac_rate(si, op->src[0].dtype, &pj_mac);
		macs = (double)op->src[0].dims[0] * op->src[0].dims[1] * out_rows;
		break;
	case LUMEN_OP_ATTENTION: {
		/* causal: row i sees pos + i + 1 keys; QK^T and PV */
		double keys = (double)rows * pos + (double)rows * (rows + 1) / 2;

		rate = mac_rate(si, op->src[1].dtype, &pj_mac);
		macs = 2.0 * op->src[0].dims[0] * keys;
		vector = (double)op->src[0].dims[0] / 8 * keys;	/* softmax */
		break;
	}
	default:
		vector = (double)op->dst.dims[0] * out_rows * op->dst.dims[2] *
			 op->dst.dims[3];
	}
	cycles = macs / rate;
	if (vector / si->vector_per_cycle > cycles)
		cycles = vector / si->vector_per_cycle;
	if (act > si->sram_bytes) {	/* spills: activations through DRAM */
		dram += act;
		act = 0;
	}
	if (dram * si->clock_hz / si->dram_bytes_per_s > cycles)
		cycles = dram * si->clock_hz / si->dram_bytes_per_s;
	if (act / si->sram_bytes_per_cycle > cycles)
		cycles = act / si->sram_bytes_per_cycle;
	seconds = (cycles + si->op_overhead_cycles) / si->clock_hz;
	cost->seconds += seconds;
	cost->joules += 1e-12 * (macs * pj_mac + vector * si->pj_vector +
				 dram * si->pj_dram_byte + act * si->pj_sram_byte) +
			1e-3 * si->static_mw * seconds;
	cost->macs += macs;
	cost->dram_bytes += dram;
	cost->sram_bytes += act;
}

void lumen_silicon_program(const struct lumen_silicon *si, const void *prog,
			   const uint32_t *args, size_t n_args,
			   struct lumen_silicon_cost *cost)
{
	const struct lumen_prog_header *h = prog;
	const uint8_t *ops = (const uint8_t *)prog + h->header_size;

	for (uint32_t i = 0; i < h->op_count; i++) {
		struct lumen_op op;
		const struct lumen_tensor *row_t;
		uint32_t rows, pos = 0;

		memcpy(&op, ops + (size_t)i * h->op_size, sizeof(op));
		row_t = &op.src[lumen_op_info[op.opcode].row_src];
		rows = op.opcode == LUMEN_OP_EMBED ? row_t->dims[0] : row_t->dims[1];
		if (args && op.rows_arg < n_args && args[op.rows_arg] &&
		    args[op.rows_arg] < rows)
			rows = args[op.rows_arg];
		if (args && op.pos_arg < n_args)
			pos = args[op.pos_arg];
		lumen_silicon_op(si, &op, rows, pos, cost);
	}
}
