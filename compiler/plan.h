/* SPDX-License-Identifier: MIT */
#ifndef LUMENC_PLAN_H
#define LUMENC_PLAN_H

#include <stdint.h>

struct lc_vbuf;

/* Give each of @n buffers an offset; @total: bytes needed. -1 out of memory. */
int lc_plan(struct lc_vbuf *vb, uint32_t n, uint64_t *total);

#endif /* LUMENC_PLAN_H */
