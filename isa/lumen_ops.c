// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The per-opcode table (lumen_ops.h): one entry per opcode, read by the
 * validator, the executor and the disassembler. Rules:
 * Documentation/accel/lumen/isa.rst.
 */
#include "lumen_ops.h"

#define BIT_OF(n)	(1U << (n))

const struct lumen_op_info lumen_op_info[LUMEN_OP_COUNT] = {
	[LUMEN_OP_NOP] = {
		.name = "NOP",
		.row_kind = { LUMEN_ROWS_NONE, LUMEN_ROWS_NONE, LUMEN_ROWS_NONE, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_EMBED] = {
		.name = "EMBED",
		.srcs = 2, .rows = 1,
		.dtypes = { LUMEN_DT_F32, LUMEN_DT_WEIGHT | LUMEN_DT_R8, LUMEN_DT_I32 },
		.row_src = 1,
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_ALL, LUMEN_ROWS_IDS, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_MATMUL] = {
		.name = "MATMUL",
		.flags = LUMEN_OPF_RESIDUAL | LUMEN_OPF_LAST_ROW,
		.extra_src_flag = LUMEN_OPF_RESIDUAL,
		.srcs = 2, .rows = 1, .in_place = BIT_OF(2),
		.dtypes = { LUMEN_DT_F32, LUMEN_DT_WEIGHT | LUMEN_DT_R8, LUMEN_DT_F32,
			    LUMEN_DT_F32 },
		.row_src = 1,
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_ALL, LUMEN_ROWS_IN, LUMEN_ROWS_OUT },
	},
	[LUMEN_OP_RMSNORM] = {
		.name = "RMSNORM",
		.flags = LUMEN_OPF_LAST_ROW,
		.srcs = 2, .rows = 1, .in_place = BIT_OF(0),
		.params = BIT_OF(LUMEN_P_EPS) | BIT_OF(LUMEN_P_N_GROUP),
		.dtypes = { LUMEN_DT_F32, LUMEN_DT_F32, LUMEN_DT_F32 },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_ALL, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_ROPE] = {
		.name = "ROPE",
		.flags = LUMEN_OPF_ROPE_NEOX | LUMEN_OPF_ROPE_FACTORS,
		.extra_src_flag = LUMEN_OPF_ROPE_FACTORS,
		.srcs = 1, .rows = 1, .pos = 1, .in_place = BIT_OF(0),
		.params = BIT_OF(LUMEN_P_N_HEAD) | BIT_OF(LUMEN_P_N_ROT) |
			  BIT_OF(LUMEN_P_FREQ_BASE),
		.dtypes = { LUMEN_DT_F32, LUMEN_DT_F32, LUMEN_DT_F32 },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_ALL, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_KV_WRITE] = {
		.name = "KV_WRITE",
		.srcs = 1, .rows = 1, .pos = 1,
		.dtypes = { LUMEN_DT_FLOAT, LUMEN_DT_F32 },
		.row_kind = { LUMEN_ROWS_ALL, LUMEN_ROWS_IN, LUMEN_ROWS_NONE, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_ATTENTION] = {
		.name = "ATTENTION",
		.srcs = 3, .rows = 1, .pos = 1,
		.params = BIT_OF(LUMEN_P_N_HEAD) | BIT_OF(LUMEN_P_N_KV_HEAD) |
			  BIT_OF(LUMEN_P_SCALE) | BIT_OF(LUMEN_P_WINDOW),
		.dtypes = { LUMEN_DT_F32, LUMEN_DT_F32, LUMEN_DT_FLOAT, LUMEN_DT_FLOAT },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_ALL, LUMEN_ROWS_ALL },
	},
	[LUMEN_OP_SWIGLU] = {
		.name = "SWIGLU",
		.srcs = 2, .rows = 1, .in_place = BIT_OF(0) | BIT_OF(1),
		.dtypes = { LUMEN_DT_F32, LUMEN_DT_F32, LUMEN_DT_F32 },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_IN, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_ADD] = {
		.name = "ADD",
		.srcs = 2, .rows = 1, .in_place = BIT_OF(0) | BIT_OF(1),
		.dtypes = { LUMEN_DT_F32, LUMEN_DT_F32, LUMEN_DT_F32 },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_BCAST, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_MUL] = {
		.name = "MUL",
		.srcs = 2, .rows = 1, .in_place = BIT_OF(0) | BIT_OF(1),
		.dtypes = { LUMEN_DT_F32, LUMEN_DT_F32, LUMEN_DT_F32 },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_BCAST, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_COPY] = {
		.name = "COPY",
		.flags = LUMEN_OPF_LAST_ROW,
		.srcs = 1, .rows = 1,
		.dtypes = { LUMEN_DT_FLOAT, LUMEN_DT_FLOAT },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_NONE, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_SOFTMAX] = {
		.name = "SOFTMAX",
		.flags = LUMEN_OPF_LAST_ROW,
		.srcs = 1, .rows = 1, .in_place = BIT_OF(0),
		.params = BIT_OF(LUMEN_P_SCALE),
		.dtypes = { LUMEN_DT_F32, LUMEN_DT_F32 },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_NONE, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_ARGMAX] = {
		.name = "ARGMAX",
		.flags = LUMEN_OPF_LAST_ROW,
		.srcs = 1, .rows = 1,
		.dtypes = { LUMEN_DT_I32, LUMEN_DT_F32 },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_NONE, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_TOPK] = {
		.name = "TOPK",
		.flags = LUMEN_OPF_LAST_ROW,
		.srcs = 1, .rows = 1,
		.params = BIT_OF(LUMEN_P_K),
		.dtypes = { LUMEN_DT_I32, LUMEN_DT_F32 },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_NONE, LUMEN_ROWS_NONE },
	},
	[LUMEN_OP_GEGLU] = {
		.name = "GEGLU",
		.srcs = 2, .rows = 1, .in_place = BIT_OF(0) | BIT_OF(1),
		.dtypes = { LUMEN_DT_F32, LUMEN_DT_F32, LUMEN_DT_F32 },
		.row_kind = { LUMEN_ROWS_OUT, LUMEN_ROWS_IN, LUMEN_ROWS_IN, LUMEN_ROWS_NONE },
	},
};

const char *lumen_op_name(uint32_t opcode)
{
	return opcode < LUMEN_OP_COUNT ? lumen_op_info[opcode].name : "?";
}

const char *lumen_isa_dtype_name(uint32_t dtype)
{
	switch (dtype) {
	case LUMEN_DTYPE_F32: return "F32";
	case LUMEN_DTYPE_F16: return "F16";
	case LUMEN_DTYPE_Q4_0: return "Q4_0";
	case LUMEN_DTYPE_Q4_1: return "Q4_1";
	case LUMEN_DTYPE_Q5_0: return "Q5_0";
	case LUMEN_DTYPE_Q5_1: return "Q5_1";
	case LUMEN_DTYPE_Q8_0: return "Q8_0";
	case LUMEN_DTYPE_Q4_K: return "Q4_K";
	case LUMEN_DTYPE_Q5_K: return "Q5_K";
	case LUMEN_DTYPE_Q6_K: return "Q6_K";
	case LUMEN_DTYPE_I32: return "I32";
	case LUMEN_DTYPE_BF16: return "BF16";
	case LUMEN_DTYPE_Q4_0_R8: return "Q4_0x8";
	case LUMEN_DTYPE_Q8_0_R8: return "Q8_0x8";
	case LUMEN_DTYPE_Q4_K_R8: return "Q4_Kx8";
	case LUMEN_DTYPE_Q6_K_R8: return "Q6_Kx8";
	case LUMEN_DTYPE_Q5_0_R8: return "Q5_0x8";
	default: return "?";
	}
}
