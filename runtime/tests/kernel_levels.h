/* SPDX-License-Identifier: MIT */
/*
 * The host executor's kernel levels (hw/exec; LUMEN_EXEC_KERNELS picks
 * one when a CPU device opens) this CPU runs, slowest first, so a test
 * can hold every level to the same rule: the executor's kernels compute
 * each output element the same way whatever the number of rows, so
 * verify rows and prefill equal decode bit for bit at each level.
 */
#ifndef LUMEN_TEST_KERNEL_LEVELS_H
#define LUMEN_TEST_KERNEL_LEVELS_H

#include <stddef.h>
#include <stdlib.h>

#define KERNEL_LEVELS_MAX 3

static inline size_t kernel_levels(const char **out)
{
	size_t n = 0;

	out[n++] = "scalar";
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
		out[n++] = "avx2";
		if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
			out[n++] = "avx512";
	}
#endif
	return n;
}

/* CPU devices opened after this run that level (NULL: the best) */
static inline void kernel_level_use(const char *level)
{
	unsetenv("LUMEN_EXEC_SCALAR");
	if (level)
		setenv("LUMEN_EXEC_KERNELS", level, 1);
	else
		unsetenv("LUMEN_EXEC_KERNELS");
}

#endif
