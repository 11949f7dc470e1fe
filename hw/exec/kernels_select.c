// SPDX-License-Identifier: MIT
/*
 * Which kernel table an executor runs: the best the CPU has, or the level
 * LUMEN_EXEC_KERNELS names (scalar, avx2, avx512), so every path can be
 * run and tested on a machine that has the faster ones too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_internal.h"

size_t lumen_kernels_available(const struct lumen_kernels **out, size_t max)
{
	const struct lumen_kernels *all[] = {
		&lumen_kernels_scalar, lumen_kernels_avx2(), lumen_kernels_avx512(),
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] && n < max)
			out[n++] = all[i];
	return n;
}

const struct lumen_kernels *lumen_kernels_named(const char *name)
{
	const struct lumen_kernels *ks[LUMEN_KERNEL_LEVELS];
	size_t n = lumen_kernels_available(ks, LUMEN_KERNEL_LEVELS);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(ks[i]->name, name))
			return ks[i];
	return NULL;
}

const struct lumen_kernels *lumen_kernels_pick(void)
{
	const struct lumen_kernels *ks[LUMEN_KERNEL_LEVELS];
	size_t n = lumen_kernels_available(ks, LUMEN_KERNEL_LEVELS);
	const char *level = getenv(LUMEN_EXEC_KERNELS_ENV);
	const char *scalar = getenv(LUMEN_EXEC_SCALAR_ENV);

	if (scalar && *scalar && strcmp(scalar, "0"))
		return &lumen_kernels_scalar;
	if (level && *level) {
		const struct lumen_kernels *k = lumen_kernels_named(level);

		if (k)
			return k;
		/* a level this CPU lacks: say so once per executor, run the best */
		fprintf(stderr, "lumen-exec: %s=%s: no such kernel level on this CPU "
			"(scalar, avx2, avx512 where the CPU has them); using %s\n",
			LUMEN_EXEC_KERNELS_ENV, level, ks[n - 1]->name);
	}
	return ks[n - 1];
}
