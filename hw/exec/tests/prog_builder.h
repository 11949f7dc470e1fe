/* SPDX-License-Identifier: MIT */
/* Building Lumen programs by hand in tests. */
#ifndef LUMEN_PROG_BUILDER_H
#define LUMEN_PROG_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include <drm/lumen_isa.h>

struct prog_builder {
	uint8_t *buf;		/* header then ops, grown as ops are added */
	size_t size;
	size_t cap;
};

void pb_init(struct prog_builder *pb, uint32_t region_count,
	     uint32_t args_region);
void pb_free(struct prog_builder *pb);
struct lumen_prog_header *pb_header(struct prog_builder *pb);
/* a zeroed op with rows_arg/pos_arg set to LUMEN_ARG_NONE; valid until the next pb_op() */
struct lumen_op *pb_op(struct prog_builder *pb, uint16_t opcode);
struct lumen_op *pb_op_at(struct prog_builder *pb, uint32_t index);

/* a contiguous [d0, d1] tensor of @dtype at @offset of @region */
struct lumen_tensor pb_tensor(uint32_t dtype, uint32_t region,
			      uint64_t offset, uint32_t d0, uint32_t d1);
/* bytes of a contiguous [d0, d1] tensor of @dtype */
uint64_t pb_bytes(uint32_t dtype, uint32_t d0, uint32_t d1);
uint32_t pb_f32_bits(float f);

#endif
