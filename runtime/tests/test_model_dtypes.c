// SPDX-License-Identifier: MIT
/*
 * A model whose programs use a dtype the device does not run is refused at
 * load, by name, with what to do instead (runtime/model_dtypes.c): Lumen's
 * interleaved layouts (64 and up, LUMEN_REG_DTYPES_EXT) on a device that
 * predates them, and a GGUF type missing from the 32-bit mask.
 */
#include <string.h>

#include "lumen_build.h"
#include "lumen_internal.h"
#include "lumen_test.h"

struct prog {
	struct lumen_prog_header h;
	struct lumen_op op[2];
};

/* an embedding of @embed rows, then a matmul of @weights */
static void build(struct prog *p, uint32_t embed, uint32_t weights)
{
	lumen_prog_header_init(&p->h, 2, 3, 2);
	lumen_op_init(&p->op[0], LUMEN_OP_EMBED);
	p->op[0].dst = lumen_tensor_2d(LUMEN_DTYPE_F32, 1, 0, 64, 1, 0);
	p->op[0].src[0] = lumen_tensor_2d(embed, 0, 0, 64, 256, 0);
	p->op[0].src[1] = lumen_tensor_2d(LUMEN_DTYPE_I32, 2, 0, 1, 1, 0);
	lumen_op_init(&p->op[1], LUMEN_OP_MATMUL);
	p->op[1].dst = lumen_tensor_2d(LUMEN_DTYPE_F32, 1, 4096, 64, 1, 0);
	p->op[1].src[0] = lumen_tensor_2d(weights, 0, 1 << 20, 64, 64, 0);
	p->op[1].src[1] = p->op[0].dst;
}

/* what a device of hardware version 1.0 without Lumen's dtypes says */
static struct lumen_device_info old_npu(void)
{
	return (struct lumen_device_info){
		.backend = "npu",
		.dtypes = LUMEN_DTYPES_IMPLEMENTED,
		.dtypes_ext = 0,
		.hw_version = 0x00010000,
	};
}

TEST(model_dtypes_repacked_weights_refused_by_name_on_an_older_npu)
{
	struct lumen_device_info info = old_npu();
	struct prog p;
	const char *msg;

	build(&p, LUMEN_DTYPE_F16, LUMEN_DTYPE_Q4_0_R8);
	CHECK_EQ(lumen_check_program_dtypes("model.lnpu", &p, &info),
		 LUMEN_E_UNSUPPORTED);
	msg = lumen_last_error();
	CHECK_MSG(!strcmp(msg, "model.lnpu uses Q4_0x8 weights, which this NPU (device version 1.0) does not run: recompile it with `lumenc --no-repack`"),
		  "message: %s", msg);

	/* Q8_0x8 is bit 1: a device that runs only Q4_0x8 lacks it */
	info.dtypes_ext = 1ULL << (LUMEN_DTYPE_Q4_0_R8 - 64);
	CHECK_EQ(lumen_check_program_dtypes("model.lnpu", &p, &info), 0);
	build(&p, LUMEN_DTYPE_Q8_0_R8, LUMEN_DTYPE_Q4_0_R8);
	CHECK_EQ(lumen_check_program_dtypes("m.lnpu", &p, &info),
		 LUMEN_E_UNSUPPORTED);
	msg = lumen_last_error();
	CHECK_MSG(strstr(msg, "m.lnpu uses Q8_0x8 weights") &&
		  strstr(msg, "lumenc --no-repack"), "message: %s", msg);
	info.dtypes_ext |= 1ULL << (LUMEN_DTYPE_Q8_0_R8 - 64);
	CHECK_EQ(lumen_check_program_dtypes("m.lnpu", &p, &info), 0);
}

TEST(model_dtypes_a_gguf_type_missing_from_the_mask_is_named)
{
	struct lumen_device_info info = old_npu();
	struct prog p;
	const char *msg;

	info.dtypes &= ~(1U << LUMEN_DTYPE_Q6_K);
	build(&p, LUMEN_DTYPE_Q6_K, LUMEN_DTYPE_Q8_0);
	CHECK_EQ(lumen_check_program_dtypes("x.lnpu", &p, &info),
		 LUMEN_E_UNSUPPORTED);
	msg = lumen_last_error();
	CHECK_MSG(strstr(msg, "x.lnpu uses Q6_K tensors") &&
		  !strstr(msg, "no-repack"), "message: %s", msg);
	CHECK(lumen_device_runs_dtype(&info, LUMEN_DTYPE_Q8_0));
	CHECK(!lumen_device_runs_dtype(&info, LUMEN_DTYPE_Q6_K));
	CHECK(!lumen_device_runs_dtype(&info, 200));
}

TEST(model_dtypes_the_cpu_backend_runs_both_layouts)
{
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_CPU,
					  .threads = 1 };
	struct lumen_device_info info;
	struct lumen_device *dev;
	struct prog p;

	REQUIRE_EQ(lumen_device_open(&dev, &o), 0);
	lumen_device_get_info(dev, &info);
	CHECK(lumen_device_runs_dtype(&info, LUMEN_DTYPE_Q4_0_R8));
	CHECK(lumen_device_runs_dtype(&info, LUMEN_DTYPE_Q8_0_R8));
	build(&p, LUMEN_DTYPE_Q8_0_R8, LUMEN_DTYPE_Q4_0_R8);
	CHECK_EQ(lumen_check_program_dtypes("m.lnpu", &p, &info), 0);
	lumen_device_close(dev);
}
