/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR MIT */
/*
 * Lumen NPU program format (ISA v1).
 *
 * A program is a &struct lumen_prog_header followed by @op_count
 * fixed-size &struct lumen_op descriptors. Everything is little-endian,
 * there are no pointers: a tensor names a region slot and a byte offset
 * inside the buffer the job binds to that slot, so one validated program
 * serves every session. Values that change per submission (number of
 * tokens, start position, token ids) are read from the args region through
 * arg slots, so one program is compiled once and submitted per token.
 *
 * Shared by the compiler, the kernel validator and the device model.
 * Semantics of every op: Documentation/accel/lumen/isa.rst.
 */
#ifndef _UAPI_LUMEN_ISA_H_
#define _UAPI_LUMEN_ISA_H_

#include <linux/const.h>
#include <linux/types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/** LUMEN_PROG_MAGIC - "LNPG" read as a little-endian u32. */
#define LUMEN_PROG_MAGIC		0x47504e4cU
/** LUMEN_ISA_VERSION - the ISA version this header describes. */
#define LUMEN_ISA_VERSION		1

/** LUMEN_MAX_REGIONS - region slots a job can bind. */
#define LUMEN_MAX_REGIONS		16
/** LUMEN_MAX_DIMS - dimensions of a tensor descriptor. */
#define LUMEN_MAX_DIMS			4
/** LUMEN_MAX_SRCS - source tensors of an op. */
#define LUMEN_MAX_SRCS			3
/** LUMEN_MAX_PARAMS - op-specific 32-bit parameters. */
#define LUMEN_MAX_PARAMS		6
/** LUMEN_MAX_OPS - ops in one program. */
#define LUMEN_MAX_OPS			65536
/** LUMEN_MAX_ARG_SLOTS - 32-bit words of the args region ops may name. */
#define LUMEN_MAX_ARG_SLOTS		256
/** LUMEN_ARG_NONE - "this op reads no arg here". */
#define LUMEN_ARG_NONE			0xffffU
/** LUMEN_MAX_TOPK - largest k of %LUMEN_OP_TOPK. */
#define LUMEN_MAX_TOPK			64

/**
 * enum lumen_dtype - element types; values are GGUF's ggml_type numbers.
 * @LUMEN_DTYPE_F32: IEEE-754 binary32.
 * @LUMEN_DTYPE_F16: IEEE-754 binary16.
 * @LUMEN_DTYPE_Q4_0: blocks of 32 weights: f16 scale d, then 16 bytes whose
 *	low nibbles are weights 0..15 and high nibbles weights 16..31;
 *	w = d * (q - 8). 18 bytes a block.
 * @LUMEN_DTYPE_Q4_1: blocks of 32 weights: f16 scale d, f16 min m, then
 *	16 bytes of nibbles ordered as Q4_0's; w = d * q + m. 20 bytes a block.
 * @LUMEN_DTYPE_Q5_0: blocks of 32 weights: f16 scale d, 4 bytes qh (bit j
 *	is the fifth bit of weight j, little-endian), 16 bytes of nibbles
 *	ordered as Q4_0's; w = d * (q - 16). 22 bytes a block.
 * @LUMEN_DTYPE_Q5_1: blocks of 32 weights: f16 scale d, f16 min m, then qh
 *	and nibbles as Q5_0; w = d * q + m. 24 bytes a block.
 * @LUMEN_DTYPE_Q8_0: blocks of 32 weights: f16 scale d, then 32 int8 q;
 *	w = d * q. 34 bytes a block.
 * @LUMEN_DTYPE_Q4_K: super-blocks of 256 weights in 8 sub-blocks of 32:
 *	f16 d, f16 dmin, 12 bytes of 6-bit sub-block scales and mins, 128
 *	bytes of nibbles; w = d * sc * q - dmin * m. 144 bytes a block.
 * @LUMEN_DTYPE_Q5_K: as Q4_K plus 32 bytes of fifth bits before the
 *	nibbles; q is 0..31. 176 bytes a block.
 * @LUMEN_DTYPE_Q6_K: super-blocks of 256 weights in 16 sub-blocks of 16:
 *	128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 int8
 *	sub-block scales, f16 d; w = d * sc * (q - 32). 210 bytes a block.
 * @LUMEN_DTYPE_I32: signed 32-bit integers (token ids, arg values).
 * @LUMEN_DTYPE_BF16: bfloat16, the top half of a binary32.
 * @LUMEN_DTYPE_Q4_0_R8: Lumen's own layout, not a GGUF type: Q4_0 weights
 *	of %LUMEN_ROW_GROUP rows interleaved, for integer dot products that
 *	give one int32 per row and block in its own SIMD lane. Per group of
 *	8 rows and per block of 32 columns: the 8 rows' f16 scales, then 128
 *	bytes of nibbles (isa.rst, "Q4_0x8"). 144 bytes a block of 8 rows:
 *	the same bytes as Q4_0. Only a MATMUL weight or an EMBED table (a
 *	tied output projection), dims[1] a multiple of 8, rows packed
 *	(strides[1] the row size). The number is above every ggml_type, so
 *	a GGUF never carries it.
 * @LUMEN_DTYPE_Q8_0_R8: Q8_0 weights of %LUMEN_ROW_GROUP rows interleaved
 *	as %LUMEN_DTYPE_Q4_0_R8's: per block of 32 columns, the 8 scales, then
 *	8 chunks of 32 bytes, row i's int8 values 4c..4c+3 at 4i of chunk c.
 *	272 bytes a block of 8 rows; the same rules.
 * @LUMEN_DTYPE_Q4_K_R8: Q4_K weights of %LUMEN_ROW_GROUP rows interleaved:
 *	per super-block of 256 columns, the 8 rows' f16 d, then their f16
 *	dmin, then their 12 scale bytes as 3 chunks of 32 (row i's bytes
 *	4k..4k+3 at 4i of chunk k), then 32 chunks of 32 bytes of nibbles
 *	(row i's qs[4c..4c+3] at 4i of chunk c). 1152 bytes a super-block of
 *	8 rows: the same bytes as Q4_K; the same rules (isa.rst, "Q4_Kx8").
 * @LUMEN_DTYPE_Q6_K_R8: Q6_K weights of %LUMEN_ROW_GROUP rows interleaved:
 *	per super-block of 256 columns, the 8 rows' f16 d, their 16 int8
 *	scales as 4 chunks of 32, 32 chunks of ql bytes, 16 chunks of qh
 *	bytes (row i's bytes 4c..4c+3 at 4i of chunk c). 1680 bytes a
 *	super-block of 8 rows: the same bytes as Q6_K; the same rules
 *	(isa.rst, "Q6_Kx8").
 * @LUMEN_DTYPE_Q5_0_R8: Q5_0 weights of %LUMEN_ROW_GROUP rows interleaved
 *	as %LUMEN_DTYPE_Q4_0_R8's: per block of 32 columns the 8 scales, the
 *	8 rows' 32 fifth bits (reordered within their 4 bytes), 4 chunks of
 *	nibbles. 176 bytes a block of 8 rows; the same rules (isa.rst,
 *	"Q5_0x8").
 *
 * Byte offsets of every block layout: Documentation/accel/lumen/isa.rst.
 */
enum lumen_dtype {
	LUMEN_DTYPE_F32 = 0,
	LUMEN_DTYPE_F16 = 1,
	LUMEN_DTYPE_Q4_0 = 2,
	LUMEN_DTYPE_Q4_1 = 3,
	LUMEN_DTYPE_Q5_0 = 6,
	LUMEN_DTYPE_Q5_1 = 7,
	LUMEN_DTYPE_Q8_0 = 8,
	LUMEN_DTYPE_Q4_K = 12,
	LUMEN_DTYPE_Q5_K = 13,
	LUMEN_DTYPE_Q6_K = 14,
	LUMEN_DTYPE_I32 = 26,
	LUMEN_DTYPE_BF16 = 30,
	LUMEN_DTYPE_Q4_0_R8 = 64,
	LUMEN_DTYPE_Q8_0_R8 = 65,
	LUMEN_DTYPE_Q4_K_R8 = 66,
	LUMEN_DTYPE_Q6_K_R8 = 67,
	LUMEN_DTYPE_Q5_0_R8 = 68,
};

/** LUMEN_ROW_GROUP - weight rows interleaved in the *_R8 dtypes. */
#define LUMEN_ROW_GROUP			8

/** LUMEN_QK - weights in one Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0 block. */
#define LUMEN_QK			32
/** LUMEN_QK_K - weights in one Q4_K, Q5_K or Q6_K super-block. */
#define LUMEN_QK_K			256

/**
 * enum lumen_opcode - v1 operations. Shapes use ggml's order: dims[0] is
 * the innermost (contiguous) dimension, dims[1] the row (token) dimension.
 * @LUMEN_OP_NOP: does nothing; all tensors unused.
 * @LUMEN_OP_EMBED: dst[r] = dequant(src0 row src1[r]).
 * @LUMEN_OP_MATMUL: dst[r] = src1[r] . src0ᵀ (+ src2[r] if
 *	%LUMEN_OPF_RESIDUAL).
 * @LUMEN_OP_RMSNORM: dst[r] = src0[r] / sqrt(mean(src0[r]²) + eps) * src1,
 *	over each of %LUMEN_P_N_GROUP equal segments of the row.
 * @LUMEN_OP_ROPE: rotary position embedding of each head of src0[r] at
 *	position pos + r (normal or %LUMEN_OPF_ROPE_NEOX ordering).
 * @LUMEN_OP_KV_WRITE: dst row pos + r = src0[r] (cache in F32 or F16).
 * @LUMEN_OP_ATTENTION: causal, grouped-query attention of the queries
 *	src0 over the key cache src1 and value cache src2, softmax fused;
 *	over the last %LUMEN_P_WINDOW positions only when that is not 0.
 * @LUMEN_OP_SWIGLU: dst = silu(src0) * src1.
 * @LUMEN_OP_ADD: dst = src0 + src1 (src1 broadcast over rows).
 * @LUMEN_OP_MUL: dst = src0 * src1 (src1 broadcast over rows).
 * @LUMEN_OP_COPY: dst = src0, converting between F32 and F16.
 * @LUMEN_OP_SOFTMAX: dst[r] = softmax(scale * src0[r]).
 * @LUMEN_OP_ARGMAX: dst[r] = index of the largest element of src0[r].
 * @LUMEN_OP_TOPK: the k largest elements of src0[r], ids then values.
 * @LUMEN_OP_GEGLU: dst = gelu(src0) * src1, GELU's tanh approximation.
 * @LUMEN_OP_COUNT: number of opcodes; not an opcode.
 */
enum lumen_opcode {
	LUMEN_OP_NOP = 0,
	LUMEN_OP_EMBED = 1,
	LUMEN_OP_MATMUL = 2,
	LUMEN_OP_RMSNORM = 3,
	LUMEN_OP_ROPE = 4,
	LUMEN_OP_KV_WRITE = 5,
	LUMEN_OP_ATTENTION = 6,
	LUMEN_OP_SWIGLU = 7,
	LUMEN_OP_ADD = 8,
	LUMEN_OP_MUL = 9,
	LUMEN_OP_COPY = 10,
	LUMEN_OP_SOFTMAX = 11,
	LUMEN_OP_ARGMAX = 12,
	LUMEN_OP_TOPK = 13,
	LUMEN_OP_GEGLU = 14,
	LUMEN_OP_COUNT,
};

/* Op flags (&lumen_op.flags). Each op accepts only the flags isa.rst lists. */
/** LUMEN_OPF_RESIDUAL - MATMUL: add src2 to the product. */
#define LUMEN_OPF_RESIDUAL		_BITUL(0)
/** LUMEN_OPF_ROPE_NEOX - ROPE: rotate pairs (i, i + n_rot/2). */
#define LUMEN_OPF_ROPE_NEOX		_BITUL(1)
/**
 * LUMEN_OPF_LAST_ROW - read only source row rows - 1 and write dst row 0;
 * lets a prefill program compute logits of its last token only.
 * Allowed on MATMUL, RMSNORM, COPY, SOFTMAX, ARGMAX, TOPK.
 */
#define LUMEN_OPF_LAST_ROW		_BITUL(2)
/**
 * LUMEN_OPF_ROPE_FACTORS - ROPE: src1 holds n_rot/2 F32 factors; pair i
 * rotates by pos * freq_base^(-2i/n_rot) / factor[i] (llama3 and linear
 * RoPE scaling, ggml's freq_factors).
 */
#define LUMEN_OPF_ROPE_FACTORS		_BITUL(3)
/** LUMEN_OPF_ALL - every flag this ISA knows. */
#define LUMEN_OPF_ALL			(LUMEN_OPF_RESIDUAL | LUMEN_OPF_ROPE_NEOX | \
					 LUMEN_OPF_LAST_ROW | LUMEN_OPF_ROPE_FACTORS)

/* Indices into &lumen_op.params; floats are stored as binary32 bit patterns. */
/** LUMEN_P_EPS - RMSNORM: epsilon (f32 bits). */
#define LUMEN_P_EPS			0
/** LUMEN_P_N_HEAD - ROPE, ATTENTION: number of (query) heads. */
#define LUMEN_P_N_HEAD			0
/** LUMEN_P_N_KV_HEAD - ATTENTION: number of key/value heads. */
#define LUMEN_P_N_KV_HEAD		1
/** LUMEN_P_N_ROT - ROPE: rotated dimensions of each head (even). */
#define LUMEN_P_N_ROT			1
/** LUMEN_P_FREQ_BASE - ROPE: frequency base theta (f32 bits). */
#define LUMEN_P_FREQ_BASE		2
/** LUMEN_P_SCALE - ATTENTION, SOFTMAX: scale applied to logits (f32 bits). */
#define LUMEN_P_SCALE			2
/** LUMEN_P_K - TOPK: number of elements kept. */
#define LUMEN_P_K			0
/**
 * LUMEN_P_N_GROUP - RMSNORM: segments normalized apart (per-head q/k
 * norms), each with the same src1 of dims[0] / n_group; 0 and 1 mean one.
 */
#define LUMEN_P_N_GROUP			1
/**
 * LUMEN_P_WINDOW - ATTENTION: sliding window; a query at position p sees
 * the keys at positions k with p - k < window; 0 means all (causal).
 */
#define LUMEN_P_WINDOW			3

/**
 * struct lumen_tensor - a view of a region.
 * @dtype: &enum lumen_dtype.
 * @region: region slot, below &lumen_prog_header.region_count.
 * @pad: must be zero.
 * @dims: elements in each dimension, dims[0] innermost; unused dims are 1.
 *	For Q4_0/Q8_0, dims[0] is a multiple of %LUMEN_QK.
 * @pad2: must be zero.
 * @strides: byte distance between consecutive indices of each dimension.
 *	strides[0] is the element size, or the block size for Q4_0/Q8_0.
 * @offset: byte offset of element (0, 0, 0, 0) in the region.
 *
 * @offset and strides[1..3] are multiples of 4 for F32/I32 and of 2 for
 * F16, Q4_0 and Q8_0. The declared dims are the capacity: the validator
 * sizes regions from them, and an op whose rows come from the args
 * processes at most its row operand's capacity (isa.rst names the row
 * operand of every op).
 */
struct lumen_tensor {
	__u8 dtype;
	__u8 region;
	__u16 pad;
	__u32 dims[LUMEN_MAX_DIMS];
	__u32 pad2;
	__u64 strides[LUMEN_MAX_DIMS];
	__u64 offset;
};

/**
 * struct lumen_op - one operation.
 * @opcode: &enum lumen_opcode.
 * @flags: LUMEN_OPF_* valid for this opcode.
 * @rows_arg: arg slot holding the number of rows (tokens) to process, or
 *	%LUMEN_ARG_NONE to process the row operand's whole capacity.
 * @pos_arg: arg slot holding the position of row 0 (ROPE, KV_WRITE,
 *	ATTENTION), or %LUMEN_ARG_NONE for position 0.
 * @params: op-specific parameters (LUMEN_P_*); unused ones must be zero.
 * @pad: must be zero.
 * @dst: the tensor written.
 * @src: the tensors read; unused ones must be all zero.
 */
struct lumen_op {
	__u16 opcode;
	__u16 flags;
	__u16 rows_arg;
	__u16 pos_arg;
	__u32 params[LUMEN_MAX_PARAMS];
	__u32 pad[2];
	struct lumen_tensor dst;
	struct lumen_tensor src[LUMEN_MAX_SRCS];
};

/**
 * struct lumen_prog_header - start of a program.
 * @magic: %LUMEN_PROG_MAGIC.
 * @isa_version: %LUMEN_ISA_VERSION.
 * @header_size: sizeof(struct lumen_prog_header) of the writer; ops start
 *	at this offset. Lets later versions grow the header.
 * @op_size: sizeof(struct lumen_op) of the writer.
 * @op_count: number of ops, 1..%LUMEN_MAX_OPS.
 * @region_count: region slots the program uses, 1..%LUMEN_MAX_REGIONS.
 * @args_region: the slot arg slots are read from, below @region_count.
 * @flags: must be zero.
 * @reserved: must be zero.
 */
struct lumen_prog_header {
	__u32 magic;
	__u32 isa_version;
	__u32 header_size;
	__u32 op_size;
	__u32 op_count;
	__u32 region_count;
	__u32 args_region;
	__u32 flags;
	__u32 reserved[8];
};

/**
 * enum lumen_fault_code - why a job stopped.
 * @LUMEN_FAULT_NONE: no fault.
 * @LUMEN_FAULT_INVALID_PROGRAM: the program failed validation.
 * @LUMEN_FAULT_REGION_BOUNDS: a tensor reaches beyond its region.
 * @LUMEN_FAULT_ARG_RANGE: an arg value is out of range (rows above the
 *	capacity or zero, position past the cache).
 * @LUMEN_FAULT_INDEX: a token id is not below the embedding's row count.
 * @LUMEN_FAULT_MMU: a region address is not mapped (device level).
 * @LUMEN_FAULT_REGION_UNBOUND: the job left a region the program uses
 *	unbound (device level).
 * @LUMEN_FAULT_INJECTED: raised by the test hooks (device level).
 * @LUMEN_FAULT_CANCELLED: the run was cancelled (a device reset) before it
 *	finished; ops already run, and possibly part of the current op, have
 *	written their results.
 * @LUMEN_FAULT_NO_MEMORY: an op needs more executor scratch memory than the
 *	device allows (or can allocate); the fault offset is the bytes it
 *	needed. Also a job whose regions the device would have to copy
 *	(guest RAM it cannot map) beyond its bounce limit; the fault region
 *	is the slot that went over, the offset the bytes the job needed.
 * @LUMEN_FAULT_COST_LIMIT: the job's work would exceed the device's cost
 *	limit (LUMEN_REG_JOB_COST_LIMIT): the op that faulted, and the ops
 *	after it, did not run; the fault offset is the job's work counted up
 *	to and including that op. Work is counted per op, before it runs,
 *	as bytes read + bytes written + floating-point operations.
 *
 * The numbers are ABI: new ones go at the end.
 */
enum lumen_fault_code {
	LUMEN_FAULT_NONE = 0,
	LUMEN_FAULT_INVALID_PROGRAM = 1,
	LUMEN_FAULT_REGION_BOUNDS = 2,
	LUMEN_FAULT_ARG_RANGE = 3,
	LUMEN_FAULT_INDEX = 4,
	LUMEN_FAULT_MMU = 5,
	LUMEN_FAULT_REGION_UNBOUND = 6,
	LUMEN_FAULT_INJECTED = 7,
	LUMEN_FAULT_CANCELLED = 8,
	LUMEN_FAULT_NO_MEMORY = 9,
	LUMEN_FAULT_COST_LIMIT = 10,
};

/**
 * enum lumen_verr - why a program was refused.
 * @LUMEN_VERR_OK: the program is valid.
 * @LUMEN_VERR_TOO_SMALL: the program is smaller than its header (or absent).
 * @LUMEN_VERR_BAD_MAGIC: &lumen_prog_header.magic is not %LUMEN_PROG_MAGIC.
 * @LUMEN_VERR_BAD_VERSION: &lumen_prog_header.isa_version is not
 *	%LUMEN_ISA_VERSION.
 * @LUMEN_VERR_BAD_HEADER_SIZE: &lumen_prog_header.header_size is not the
 *	size of a header this version knows.
 * @LUMEN_VERR_BAD_OP_SIZE: &lumen_prog_header.op_size is not the size of an
 *	op this version knows.
 * @LUMEN_VERR_BAD_OP_COUNT: &lumen_prog_header.op_count is 0 or above
 *	%LUMEN_MAX_OPS.
 * @LUMEN_VERR_SIZE_MISMATCH: the program size is not header_size +
 *	op_count * op_size (truncated, or trailing bytes).
 * @LUMEN_VERR_BAD_REGION_COUNT: &lumen_prog_header.region_count is 0 or
 *	above %LUMEN_MAX_REGIONS.
 * @LUMEN_VERR_BAD_ARGS_REGION: &lumen_prog_header.args_region is not below
 *	region_count.
 * @LUMEN_VERR_HEADER_RESERVED: the header's flags or reserved words are not
 *	zero.
 * @LUMEN_VERR_BAD_OPCODE: an opcode is not below %LUMEN_OP_COUNT.
 * @LUMEN_VERR_BAD_FLAGS: an op sets a flag it does not accept.
 * @LUMEN_VERR_OP_PAD: an op's pad, or a param the op does not use, is not
 *	zero.
 * @LUMEN_VERR_BAD_ARG_SLOT: rows_arg or pos_arg is neither %LUMEN_ARG_NONE
 *	nor below %LUMEN_MAX_ARG_SLOTS.
 * @LUMEN_VERR_ARG_NOT_ALLOWED: a pos_arg on an op that takes no position,
 *	or a rows_arg on NOP.
 * @LUMEN_VERR_UNUSED_TENSOR: a tensor the op does not use is not all zero.
 * @LUMEN_VERR_TENSOR_PAD: a tensor's pad or pad2 is not zero.
 * @LUMEN_VERR_BAD_REGION: a tensor's region is not below region_count.
 * @LUMEN_VERR_BAD_DTYPE: a dtype is unknown or not allowed for its operand.
 * @LUMEN_VERR_ZERO_DIM: a dimension has zero elements.
 * @LUMEN_VERR_BLOCK_ALIGN: a Q4_0 or Q8_0 tensor's dims[0] is not a multiple
 *	of %LUMEN_QK.
 * @LUMEN_VERR_BAD_STRIDE0: strides[0] is not the element or block size, or
 *	a source read whole (weight, table, KV cache) of several rows has
 *	strides[1] below its row size (rows sharing bytes, e.g. stride 0).
 * @LUMEN_VERR_DST_OVERLAP: the dst strides make two elements share bytes.
 * @LUMEN_VERR_SHAPE: operand dims disagree with what the op needs.
 * @LUMEN_VERR_BAD_PARAM: an op parameter is out of range.
 * @LUMEN_VERR_OVERFLOW: a tensor's extent does not fit in 64 bits.
 * @LUMEN_VERR_ALIAS: the dst overlaps a source it may not alias.
 * @LUMEN_VERR_MISALIGNED: an offset or stride is not a multiple of the
 *	dtype's alignment.
 * @LUMEN_VERR_ROW_GROUP: a row-interleaved weight (%LUMEN_DTYPE_Q4_0_R8,
 *	%LUMEN_DTYPE_Q8_0_R8, %LUMEN_DTYPE_Q4_K_R8, %LUMEN_DTYPE_Q6_K_R8,
 *	%LUMEN_DTYPE_Q5_0_R8)
 *	has dims[1] not a multiple of %LUMEN_ROW_GROUP, or strides[1] other
 *	than its row size (its groups are packed).
 * @LUMEN_VERR_COUNT: number of codes; not a code.
 *
 * One reason per distinct way a program can be malformed. The kernel
 * returns it in &drm_lumen_program_create.error, the device reports it
 * for a program it refuses, and the compiler and the executor use the same
 * validator; Documentation/accel/lumen/isa.rst gives each code's rule.
 * The numbers are ABI: new ones go at the end, before %LUMEN_VERR_COUNT.
 */
enum lumen_verr {
	LUMEN_VERR_OK = 0,
	LUMEN_VERR_TOO_SMALL = 1,
	LUMEN_VERR_BAD_MAGIC = 2,
	LUMEN_VERR_BAD_VERSION = 3,
	LUMEN_VERR_BAD_HEADER_SIZE = 4,
	LUMEN_VERR_BAD_OP_SIZE = 5,
	LUMEN_VERR_BAD_OP_COUNT = 6,
	LUMEN_VERR_SIZE_MISMATCH = 7,
	LUMEN_VERR_BAD_REGION_COUNT = 8,
	LUMEN_VERR_BAD_ARGS_REGION = 9,
	LUMEN_VERR_HEADER_RESERVED = 10,
	LUMEN_VERR_BAD_OPCODE = 11,
	LUMEN_VERR_BAD_FLAGS = 12,
	LUMEN_VERR_OP_PAD = 13,
	LUMEN_VERR_BAD_ARG_SLOT = 14,
	LUMEN_VERR_ARG_NOT_ALLOWED = 15,
	LUMEN_VERR_UNUSED_TENSOR = 16,
	LUMEN_VERR_TENSOR_PAD = 17,
	LUMEN_VERR_BAD_REGION = 18,
	LUMEN_VERR_BAD_DTYPE = 19,
	LUMEN_VERR_ZERO_DIM = 20,
	LUMEN_VERR_BLOCK_ALIGN = 21,
	LUMEN_VERR_BAD_STRIDE0 = 22,
	LUMEN_VERR_DST_OVERLAP = 23,
	LUMEN_VERR_SHAPE = 24,
	LUMEN_VERR_BAD_PARAM = 25,
	LUMEN_VERR_OVERFLOW = 26,
	LUMEN_VERR_ALIAS = 27,
	LUMEN_VERR_MISALIGNED = 28,
	LUMEN_VERR_ROW_GROUP = 29,
	LUMEN_VERR_COUNT
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_LUMEN_ISA_H_ */
