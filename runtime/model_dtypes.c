// SPDX-License-Identifier: MIT
/*
 * Whether the device runs every dtype a model's programs use. A device that
 * predates a dtype refuses the program at creation with BAD_DTYPE, which
 * says neither which tensor type nor what to do; checked here first, the
 * refusal names the dtype and the way out, before any weight is uploaded.
 */
#include <string.h>

#include "lumen_internal.h"

/* the dtype of lumen_device_info.dtypes_ext's bit 0 (LUMEN_REG_DTYPES_EXT's) */
#define DTYPES_EXT_FIRST 64

bool lumen_device_runs_dtype(const struct lumen_device_info *info,
			     uint32_t dtype)
{
	if (dtype < 32)
		return info->dtypes & (1U << dtype);
	if (dtype >= DTYPES_EXT_FIRST && dtype < DTYPES_EXT_FIRST + 64)
		return info->dtypes_ext & (1ULL << (dtype - DTYPES_EXT_FIRST));
	return false;
}

/* Lumen's own layouts of GGUF types, which lumenc --no-repack does not write */
static bool is_repacked(uint32_t dtype)
{
	return dtype == LUMEN_DTYPE_Q4_0_R8 || dtype == LUMEN_DTYPE_Q8_0_R8;
}

static int refuse(const char *path, uint32_t dtype,
		  const struct lumen_device_info *info)
{
	const char *what = strcmp(info->backend, "npu") ? "device" : "NPU";
	unsigned int major = info->hw_version >> 16;
	unsigned int minor = info->hw_version & 0xffff;

	if (is_repacked(dtype))
		return lumen_fail(LUMEN_E_UNSUPPORTED,
				  "%s uses %s weights, which this %s (device version %u.%u) does not run: recompile it with `lumenc --no-repack`",
				  path, lumen_dtype_name(dtype), what, major,
				  minor);
	return lumen_fail(LUMEN_E_UNSUPPORTED,
			  "%s uses %s tensors, which this %s (device version %u.%u) does not run: compile the model from a GGUF of another type",
			  path, lumen_dtype_name(dtype), what, major, minor);
}

/* @prog is a validated program: its header and op sizes are the ISA's */
int lumen_check_program_dtypes(const char *path, const void *prog,
			       const struct lumen_device_info *info)
{
	const struct lumen_prog_header *h = prog;
	const unsigned char *ops = (const unsigned char *)prog + h->header_size;

	for (uint32_t i = 0; i < h->op_count; i++) {
		const struct lumen_op *op = (const void *)(ops + (size_t)i * h->op_size);

		if (!lumen_device_runs_dtype(info, op->dst.dtype))
			return refuse(path, op->dst.dtype, info);
		for (int s = 0; s < LUMEN_MAX_SRCS; s++)
			if (!lumen_device_runs_dtype(info, op->src[s].dtype))
				return refuse(path, op->src[s].dtype, info);
	}
	return 0;
}
