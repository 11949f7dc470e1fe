// SPDX-License-Identifier: MIT
#include "prog_builder.h"

#include <stdlib.h>
#include <string.h>

#include "lumen_build.h"

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
	lumen_prog_header_init(h, 0, region_count, args_region);
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
	lumen_op_init(op, opcode);
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
	return lumen_tensor_2d(dtype, region, offset, d0, d1, 0);
}

uint64_t pb_bytes(uint32_t dtype, uint32_t d0, uint32_t d1)
{
	return lumen_row_bytes(dtype, d0) * d1;
}

uint32_t pb_f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}
