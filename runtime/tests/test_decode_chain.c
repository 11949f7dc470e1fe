// SPDX-License-Identifier: MIT
/*
 * The chained decode program (runtime/decode_chain.c): the decode program
 * with EMBED's token read from the previous job's args buffer (a sixth
 * slot) and ARGMAX's id written into the job's own args, every other byte
 * the same; a program not shaped as lumenc writes it is not chained.
 */
#include <stdlib.h>
#include <string.h>

#include "lumen_build.h"
#include "lumen_internal.h"
#include "lumen_test.h"

#define OUT_ARGMAX 1024

struct prog {
	struct lumen_prog_header h;
	struct lumen_op op[3];
};

/* EMBED the args' token, RMSNORM, ARGMAX into OUT: a decode's shape */
static void build(struct prog *p)
{
	lumen_prog_header_init(&p->h, 3, LNPU_SLOT_COUNT, LNPU_SLOT_ARGS);
	lumen_op_init(&p->op[0], LUMEN_OP_EMBED);
	p->op[0].dst = lumen_tensor_2d(LUMEN_DTYPE_F32, LNPU_SLOT_ACT, 0, 64, 1, 0);
	p->op[0].src[0] = lumen_tensor_2d(LUMEN_DTYPE_F32, LNPU_SLOT_WEIGHTS, 0,
					  64, 256, 0);
	p->op[0].src[1] = lumen_tensor_2d(LUMEN_DTYPE_I32, LNPU_SLOT_ARGS,
					  4 * LNPU_ARG_IDS, 1, 1, 4);
	lumen_op_init(&p->op[1], LUMEN_OP_COPY);
	p->op[1].dst = lumen_tensor_2d(LUMEN_DTYPE_F32, LNPU_SLOT_OUT, 0, 64, 1, 0);
	p->op[1].src[0] = p->op[0].dst;
	lumen_op_init(&p->op[2], LUMEN_OP_ARGMAX);
	p->op[2].dst = lumen_tensor_2d(LUMEN_DTYPE_I32, LNPU_SLOT_OUT, OUT_ARGMAX,
				       1, 1, 4);
	p->op[2].src[0] = p->op[1].dst;
}

TEST(decode_chain_moves_the_token_read_and_the_argmax_write_only)
{
	struct lnpu_meta meta = { .out_argmax = OUT_ARGMAX };
	struct lumen_validation v;
	struct prog p, *c;
	void *code;

	build(&p);
	REQUIRE_EQ(lumen_validate(&p, sizeof(p), &v), 0);
	REQUIRE_EQ(lumen_chain_program(&p, sizeof(p), &meta, &code), 0);
	c = code;
	CHECK_EQ(c->h.region_count, LUMEN_CHAIN_SLOTS);
	CHECK_EQ(c->op[0].src[1].region, LUMEN_CHAIN_SLOT_PREV_ARGS);
	CHECK_EQ(c->op[0].src[1].offset, 4 * LNPU_ARG_IDS);
	CHECK_EQ(c->op[2].dst.region, LNPU_SLOT_ARGS);
	CHECK_EQ(c->op[2].dst.offset, 4 * LNPU_ARG_IDS);
	/* everything else as it was */
	c->h.region_count = p.h.region_count;
	c->op[0].src[1] = p.op[0].src[1];
	c->op[2].dst = p.op[2].dst;
	CHECK(!memcmp(c, &p, sizeof(p)));
	/* and the device's validator takes it: six slots, args read and written */
	REQUIRE_EQ(lumen_chain_program(&p, sizeof(p), &meta, &code), 0);
	CHECK_EQ(lumen_validate(code, sizeof(p), &v), 0);
	CHECK(v.region_size[LUMEN_CHAIN_SLOT_PREV_ARGS] >= 4 * (LNPU_ARG_IDS + 1));
	CHECK(v.region_size[LNPU_SLOT_ARGS] >= 4 * (LNPU_ARG_IDS + 1));
	free(code);
	free(c);
}

TEST(decode_chain_refuses_a_program_of_another_shape)
{
	struct lnpu_meta meta = { .out_argmax = OUT_ARGMAX };
	struct prog p;
	void *code = NULL;

	build(&p);	/* the argmax elsewhere in OUT: not the model's output */
	p.op[2].dst.offset = OUT_ARGMAX + 4;
	CHECK_EQ(lumen_chain_program(&p, sizeof(p), &meta, &code), LUMEN_E_UNSUPPORTED);
	CHECK(!code);
	build(&p);	/* the token from somewhere else than the args */
	p.op[0].src[1].region = LNPU_SLOT_ACT;
	CHECK_EQ(lumen_chain_program(&p, sizeof(p), &meta, &code), LUMEN_E_UNSUPPORTED);
	build(&p);	/* two argmax writes */
	p.op[1] = p.op[2];
	CHECK_EQ(lumen_chain_program(&p, sizeof(p), &meta, &code), LUMEN_E_UNSUPPORTED);
	build(&p);	/* already six slots */
	p.h.region_count = LUMEN_CHAIN_SLOTS;
	CHECK_EQ(lumen_chain_program(&p, sizeof(p), &meta, &code), LUMEN_E_UNSUPPORTED);
	CHECK(!code);
	/* a truncated program is a format error */
	CHECK_EQ(lumen_chain_program(&p, sizeof(p) - 1, &meta, &code), LUMEN_E_FORMAT);
}
