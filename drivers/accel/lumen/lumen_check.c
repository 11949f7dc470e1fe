// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/module.h>

#include <kunit/visibility.h>

#include <drm/lumen_accel.h>
#include <drm/lumen_isa.h>

#include "lumen_check.h"
#include "lumen_regs.h"

/* Syncobjs one submission may name in each direction. */
#define LUMEN_MAX_SYNCS		64

/**
 * lumen_submit_check() - check a &struct drm_lumen_submit.
 * @args: the submission.
 *
 * Return: 0, -E2BIG for an element size above
 * %DRM_LUMEN_MAX_ELEMENT_SIZE, else -EINVAL for anything wrong.
 */
int lumen_submit_check(const struct drm_lumen_submit *args)
{
	if (args->flags || args->reserved[0] || args->reserved[1])
		return -EINVAL;
	if (!args->region_count || args->region_count > LUMEN_MAX_REGIONS ||
	    args->region_size < sizeof(struct drm_lumen_region))
		return -EINVAL;
	if (args->in_sync_count > LUMEN_MAX_SYNCS ||
	    args->out_sync_count > LUMEN_MAX_SYNCS)
		return -EINVAL;
	if ((args->in_sync_count || args->out_sync_count) &&
	    args->sync_size < sizeof(struct drm_lumen_sync))
		return -EINVAL;
	if (args->priority > DRM_LUMEN_PRIORITY_HIGH)
		return -EINVAL;
	/* Each element's tail is checked for zeros: bound that work. */
	if (args->region_size > DRM_LUMEN_MAX_ELEMENT_SIZE ||
	    args->sync_size > DRM_LUMEN_MAX_ELEMENT_SIZE)
		return -E2BIG;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_submit_check);

/**
 * lumen_region_check() - check one region binding against its buffer.
 * @r: the binding, with a non-zero handle.
 * @bo_size: bytes of the buffer @r names.
 * @size: out: bytes of the region (@r->size, or the rest of the buffer).
 *
 * The device takes region addresses in whole pages, hence the aligned
 * offset.
 *
 * Return: 0 or -EINVAL.
 */
int lumen_region_check(const struct drm_lumen_region *r, u64 bo_size,
		       u64 *size)
{
	if (r->flags || r->offset >= bo_size ||
	    r->offset & ((1U << LUMEN_PAGE_SHIFT) - 1))
		return -EINVAL;
	if (r->size > bo_size - r->offset)
		return -EINVAL;
	*size = r->size ? r->size : bo_size - r->offset;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_region_check);

/* Bytes of the first version of each answer, by &enum drm_lumen_query. */
static const u32 lumen_query_size_ver0[] = {
	[DRM_LUMEN_QUERY_INFO] = DRM_LUMEN_DEV_INFO_SIZE_VER0,
	[DRM_LUMEN_QUERY_COUNTERS] = DRM_LUMEN_COUNTERS_SIZE_VER0,
	[DRM_LUMEN_QUERY_HEALTH] = DRM_LUMEN_HEALTH_SIZE_VER0,
};

/**
 * lumen_query_check() - check a &struct drm_lumen_dev_query.
 * @q: the query.
 *
 * A size probe (@q->pointer 0) only needs a known type.
 *
 * Return: 0; -EINVAL for an unknown type or a size below the first version
 * of the answer; -E2BIG for a size above %DRM_LUMEN_QUERY_MAX_SIZE.
 */
int lumen_query_check(const struct drm_lumen_dev_query *q)
{
	if (q->type >= ARRAY_SIZE(lumen_query_size_ver0))
		return -EINVAL;
	if (!q->pointer)
		return 0;
	if (q->size > DRM_LUMEN_QUERY_MAX_SIZE)
		return -E2BIG;
	if (q->size < lumen_query_size_ver0[q->type])
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_query_check);
