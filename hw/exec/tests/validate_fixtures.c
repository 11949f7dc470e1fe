// SPDX-License-Identifier: MIT
#include "validate_fixtures.h"

#include "lumen_validate.h"

void fx_init(struct prog_builder *pb)
{
	pb_init(pb, FX_REGIONS, FX_ARGS);
}

static struct lumen_tensor act(uint32_t slot, uint32_t d0, uint32_t d1)
{
	return pb_tensor(LUMEN_DTYPE_F32, FX_ACT, (uint64_t)slot * FX_SLOT,
			 d0, d1);
}

struct lumen_op *fx_add_op(struct prog_builder *pb, uint16_t opcode)
{
	struct lumen_op *op = pb_op(pb, opcode);

	switch (opcode) {
	case LUMEN_OP_NOP:
		break;
	case LUMEN_OP_EMBED:
		op->src[0] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, FX_D,
				       FX_VOCAB);
		op->src[1] = pb_tensor(LUMEN_DTYPE_I32, FX_ARGS, 64, FX_ROWS,
				       1);
		op->dst = act(0, FX_D, FX_ROWS);
		op->rows_arg = 0;
		break;
	case LUMEN_OP_MATMUL:
		op->src[0] = pb_tensor(LUMEN_DTYPE_Q4_0, FX_WEIGHTS, 0, FX_D,
				       FX_N);
		op->src[1] = act(0, FX_D, FX_ROWS);
		op->dst = act(1, FX_N, FX_ROWS);
		op->rows_arg = 0;
		break;
	case LUMEN_OP_RMSNORM:
		op->src[0] = act(0, FX_D, FX_ROWS);
		op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, FX_D, 1);
		op->dst = act(1, FX_D, FX_ROWS);
		op->params[LUMEN_P_EPS] = pb_f32_bits(1e-5f);
		break;
	case LUMEN_OP_ROPE:
		op->src[0] = act(0, FX_D, FX_ROWS);
		op->dst = op->src[0];
		op->params[LUMEN_P_N_HEAD] = FX_HEADS;
		op->params[LUMEN_P_N_ROT] = FX_HD;
		op->params[LUMEN_P_FREQ_BASE] = pb_f32_bits(10000.0f);
		op->rows_arg = 0;
		op->pos_arg = 1;
		break;
	case LUMEN_OP_KV_WRITE:
		op->src[0] = act(0, FX_KV_DIM, FX_ROWS);
		op->dst = pb_tensor(LUMEN_DTYPE_F16, FX_KV, 0, FX_KV_DIM,
				    FX_CTX);
		op->rows_arg = 0;
		op->pos_arg = 1;
		break;
	case LUMEN_OP_ATTENTION:
		op->src[0] = act(0, FX_D, FX_ROWS);
		op->src[1] = pb_tensor(LUMEN_DTYPE_F16, FX_KV, 0, FX_KV_DIM,
				       FX_CTX);
		op->src[2] = pb_tensor(LUMEN_DTYPE_F16, FX_KV, FX_SLOT,
				       FX_KV_DIM, FX_CTX);
		op->dst = act(1, FX_D, FX_ROWS);
		op->params[LUMEN_P_N_HEAD] = FX_HEADS;
		op->params[LUMEN_P_N_KV_HEAD] = FX_KV_HEADS;
		op->params[LUMEN_P_SCALE] = pb_f32_bits(0.25f);
		op->rows_arg = 0;
		op->pos_arg = 1;
		break;
	case LUMEN_OP_SWIGLU:
	case LUMEN_OP_GEGLU:
		op->src[0] = act(0, FX_N, FX_ROWS);
		op->src[1] = act(1, FX_N, FX_ROWS);
		op->dst = op->src[0];
		break;
	case LUMEN_OP_ADD:
		op->src[0] = act(0, FX_D, FX_ROWS);
		op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, FX_D, 1);
		op->dst = act(1, FX_D, FX_ROWS);
		break;
	case LUMEN_OP_MUL:
		/* 4-D, src1 broadcast over dims 1 and 3 */
		op->src[0] = act(0, 8, FX_ROWS);
		op->src[0].dims[2] = 2;
		op->src[0].dims[3] = 3;
		op->src[0].strides[2] = 8 * 4 * FX_ROWS;
		op->src[0].strides[3] = 8 * 4 * FX_ROWS * 2;
		op->dst = op->src[0];
		op->dst.offset = FX_SLOT;
		op->src[1] = pb_tensor(LUMEN_DTYPE_F32, FX_WEIGHTS, 0, 8, 1);
		op->src[1].dims[2] = 2;
		op->src[1].strides[2] = 8 * 4;
		break;
	case LUMEN_OP_COPY:
		op->src[0] = act(0, FX_D, FX_ROWS);
		op->dst = pb_tensor(LUMEN_DTYPE_F16, FX_ACT, FX_SLOT, FX_D,
				    FX_ROWS);
		break;
	case LUMEN_OP_SOFTMAX:
		op->src[0] = act(0, FX_D, FX_ROWS);
		op->dst = op->src[0];
		op->params[LUMEN_P_SCALE] = pb_f32_bits(1.0f);
		break;
	case LUMEN_OP_ARGMAX:
		op->src[0] = act(0, FX_D, FX_ROWS);
		op->dst = pb_tensor(LUMEN_DTYPE_I32, FX_ACT, FX_SLOT, 1,
				    FX_ROWS);
		break;
	case LUMEN_OP_TOPK:
		op->src[0] = act(0, FX_D, FX_ROWS);
		op->dst = pb_tensor(LUMEN_DTYPE_I32, FX_ACT, FX_SLOT,
				    2 * FX_TOPK, FX_ROWS);
		op->params[LUMEN_P_K] = FX_TOPK;
		break;
	}
	return op;
}

struct lumen_op *fx_prog(struct prog_builder *pb, uint16_t opcode)
{
	fx_init(pb);
	fx_add_op(pb, LUMEN_OP_NOP);
	return fx_add_op(pb, opcode);
}
