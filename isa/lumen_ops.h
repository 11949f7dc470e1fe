/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * What each opcode is, in one table: its name, the operands, flags,
 * params and arg slots it takes, the dtypes each operand accepts, and how
 * many rows of each operand it touches. The validator checks programs
 * against it, the executor sizes its bounds checks with it, the
 * disassembler prints with it; a new opcode is one entry here plus its
 * executor function.
 */
#ifndef LUMEN_OPS_H
#define LUMEN_OPS_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#include <drm/lumen_isa.h>

/* Dtype classes an operand accepts, one bit each (a u16 per operand). */
#define LUMEN_DT_F32		0x0001
#define LUMEN_DT_F16		0x0002
#define LUMEN_DT_Q4_0		0x0004
#define LUMEN_DT_Q8_0		0x0008
#define LUMEN_DT_I32		0x0010
#define LUMEN_DT_Q4_1		0x0020
#define LUMEN_DT_Q5_0		0x0040
#define LUMEN_DT_Q5_1		0x0080
#define LUMEN_DT_Q4_K		0x0100
#define LUMEN_DT_Q5_K		0x0200
#define LUMEN_DT_Q6_K		0x0400
#define LUMEN_DT_BF16		0x0800
#define LUMEN_DT_Q4_0_R8	0x1000
#define LUMEN_DT_Q8_0_R8	0x2000
#define LUMEN_DT_Q4_K_R8	0x4000
#define LUMEN_DT_Q6_K_R8	0x8000
#define LUMEN_DT_Q5_0_R8	0x10000
/* Lumen's row-interleaved layouts: MATMUL weights and EMBED tables only */
#define LUMEN_DT_R8		(LUMEN_DT_Q4_0_R8 | LUMEN_DT_Q8_0_R8 | \
				 LUMEN_DT_Q4_K_R8 | LUMEN_DT_Q6_K_R8 | \
				 LUMEN_DT_Q5_0_R8)
#define LUMEN_DT_FLOAT		(LUMEN_DT_F32 | LUMEN_DT_F16)
/* GGUF's block types, used in place */
#define LUMEN_DT_QUANT		(LUMEN_DT_Q4_0 | LUMEN_DT_Q4_1 | LUMEN_DT_Q5_0 | \
				 LUMEN_DT_Q5_1 | LUMEN_DT_Q8_0 | LUMEN_DT_Q4_K | \
				 LUMEN_DT_Q5_K | LUMEN_DT_Q6_K)
#define LUMEN_DT_WEIGHT		(LUMEN_DT_F32 | LUMEN_DT_F16 | LUMEN_DT_BF16 | \
				 LUMEN_DT_QUANT)

/*
 * The dtypes an implementation of this ISA computes with: what the device
 * reports in LUMEN_REG_DTYPES and the CPU backend in its device info.
 */
#define LUMEN_DTYPES_IMPLEMENTED \
	((1U << LUMEN_DTYPE_F32) | (1U << LUMEN_DTYPE_F16) | \
	 (1U << LUMEN_DTYPE_Q4_0) | (1U << LUMEN_DTYPE_Q4_1) | \
	 (1U << LUMEN_DTYPE_Q5_0) | (1U << LUMEN_DTYPE_Q5_1) | \
	 (1U << LUMEN_DTYPE_Q8_0) | (1U << LUMEN_DTYPE_Q4_K) | \
	 (1U << LUMEN_DTYPE_Q5_K) | (1U << LUMEN_DTYPE_Q6_K) | \
	 (1U << LUMEN_DTYPE_I32) | (1U << LUMEN_DTYPE_BF16))

/*
 * Lumen's own dtypes it computes with, bit n for dtype 64 + n: what the
 * device reports in LUMEN_REG_DTYPES_EXT and the CPU backend in its
 * device info's dtypes_ext.
 */
#define LUMEN_DTYPES_EXT_IMPLEMENTED \
	((1ULL << (LUMEN_DTYPE_Q4_0_R8 - 64)) | \
	 (1ULL << (LUMEN_DTYPE_Q8_0_R8 - 64)) | \
	 (1ULL << (LUMEN_DTYPE_Q4_K_R8 - 64)) | \
	 (1ULL << (LUMEN_DTYPE_Q6_K_R8 - 64)) | \
	 (1ULL << (LUMEN_DTYPE_Q5_0_R8 - 64)))

/* The dst, then each source. */
#define LUMEN_OPERANDS		(1 + LUMEN_MAX_SRCS)

/* How many rows of an operand an op touches, R being its row count. */
enum lumen_rows {
	LUMEN_ROWS_NONE,	/* operand unused */
	LUMEN_ROWS_ALL,		/* all dims[1] rows (weights, caches) */
	LUMEN_ROWS_IN,		/* the R rows read (the row operand and peers) */
	LUMEN_ROWS_OUT,		/* the rows written (1 under LAST_ROW) */
	LUMEN_ROWS_BCAST,	/* R, or 1 when broadcast over rows */
	LUMEN_ROWS_IDS,		/* EMBED ids: R elements of dims[0] */
};

/**
 * struct lumen_op_info - what one opcode is.
 * @name: its name in dumps and error messages.
 * @flags: LUMEN_OPF_* allowed.
 * @srcs: sources always read.
 * @extra_src_flag: the LUMEN_OPF_* flag under which the op reads one more
 *	source (MATMUL's residual, ROPE's factors); 0 for none.
 * @params: bit n set when params[n] has a meaning.
 * @pos: the op takes a pos_arg.
 * @rows: the op takes a rows_arg.
 * @in_place: bit n set when dst may be identical to src[n].
 * @row_src: which source carries the row count R.
 * @dtypes: LUMEN_DT_* accepted by the dst, then by each source; 0 = unused.
 * @row_kind: &enum lumen_rows of the dst, then of each source.
 */
struct lumen_op_info {
	const char *name;
	__u16 flags;
	__u16 extra_src_flag;
	__u8 srcs;
	__u8 params;
	__u8 pos;
	__u8 rows;
	__u8 in_place;
	__u8 row_src;
	__u32 dtypes[LUMEN_OPERANDS];
	__u8 row_kind[LUMEN_OPERANDS];
};

extern const struct lumen_op_info lumen_op_info[LUMEN_OP_COUNT];

/**
 * lumen_op_name() - the name of an opcode.
 * @opcode: &enum lumen_opcode.
 *
 * Return: the name, "?" when out of range.
 */
const char *lumen_op_name(uint32_t opcode);

/**
 * lumen_isa_dtype_name() - GGUF's spelling of a dtype: "F32", "Q4_0", ...
 * @dtype: &enum lumen_dtype.
 *
 * Return: the name, "?" when unknown.
 */
const char *lumen_isa_dtype_name(uint32_t dtype);

#endif /* LUMEN_OPS_H */
