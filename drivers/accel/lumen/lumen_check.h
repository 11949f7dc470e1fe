/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_CHECK_H__
#define __LUMEN_CHECK_H__

#include <linux/types.h>

struct drm_lumen_dev_query;
struct drm_lumen_region;
struct drm_lumen_submit;

/*
 * Rules of the uapi that need no lookup, kept apart from the ioctls so the
 * KUnit tests can hold them to the letter of lumen_accel.h.
 */
int lumen_submit_check(const struct drm_lumen_submit *args);
int lumen_region_check(const struct drm_lumen_region *r, u64 bo_size,
		       u64 *size);
int lumen_query_check(const struct drm_lumen_dev_query *q);

#endif /* __LUMEN_CHECK_H__ */
