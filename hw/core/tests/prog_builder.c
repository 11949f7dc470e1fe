// SPDX-License-Identifier: MIT
#include "prog_builder.h"

#include <stdlib.h>
#include <string.h>

#include "hw/core/lumen_validate.h"

static void pb_reserve(struct prog_builder *pb, size_t need)
{
	if (need <= pb->cap)
		return;
	pb->cap = need * 2;
	pb->buf = realloc(pb->buf, pb->cap);
	if (!pb->buf)
		abort();
}

void pb_init(struct prog_builder *pb, uint32_t region_count,
	     uint32_t args_region)
{
	struct lumen_prog_header *h;

	memset(pb, 0, sizeof(*pb));
	pb_reserve(pb, sizeof(*h));
	pb->size = sizeof(*h);
	h = pb_header(pb);
	memset(h, 0, sizeof(*h));
	h->magic = LUMEN_PROG_MAGIC;
	h->isa_version = LUMEN_ISA_VERSION;
	h->header_size = sizeof(*h);
	h->op_size = sizeof(struct lumen_op);
	h->region_count = region_count;
	h->args_region = args_region;
}

void pb_free(struct prog_builder *pb)
{
	free(pb->buf);
	memset(pb, 0, sizeof(*pb));
}

struct lumen_prog_header *pb_header(struct prog_builder *pb)
{
	return (struct lumen_prog_header *)pb->buf;
}

struct lumen_op *pb_op(struct prog_builder *pb, uint16_t opcode)
{
	struct lumen_op *op;

	pb_reserve(pb, pb->size + sizeof(*op));
	op = (struct lumen_op *)(pb->buf + pb->size);
	memset(op, 0, sizeof(*op));
	op->opcode = opcode;
	op->rows_arg = LUMEN_ARG_NONE;
	op->pos_arg = LUMEN_ARG_NONE;
	pb->size += sizeof(*op);
	pb_header(pb)->op_count++;
	return op;
}

struct lumen_op *pb_op_at(struct prog_builder *pb, uint32_t index)
{
	return (struct lumen_op *)(pb->buf + sizeof(struct lumen_prog_header)) + index;
}

struct lumen_tensor pb_tensor(uint32_t dtype, uint32_t region,
			      uint64_t offset, uint32_t d0, uint32_t d1)
{
	struct lumen_tensor t;
	uint64_t row = (uint64_t)d0 / lumen_type_block(dtype) * lumen_type_size(dtype);

	memset(&t, 0, sizeof(t));
	t.dtype = dtype;
	t.region = region;
	t.offset = offset;
	t.dims[0] = d0;
	t.dims[1] = d1;
	t.dims[2] = 1;
	t.dims[3] = 1;
	t.strides[0] = lumen_type_size(dtype);
	t.strides[1] = row;
	t.strides[2] = row * d1;
	t.strides[3] = row * d1;
	return t;
}

uint64_t pb_bytes(uint32_t dtype, uint32_t d0, uint32_t d1)
{
	return (uint64_t)d0 / lumen_type_block(dtype) * lumen_type_size(dtype) * d1;
}

uint32_t pb_f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}
