/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_PROGRAM_H__
#define __LUMEN_PROGRAM_H__

#include <linux/kref.h>

#include "lumen_validate.h"

struct drm_device;
struct drm_file;
struct lumen_file;
struct lumen_bo;
struct lumen_mapping;

/**
 * struct lumen_program - a validated program, in memory only the kernel
 * and the device (read-only) reach.
 * @ref: the handle and jobs hold it.
 * @bo: the kernel's copy.
 * @map: @bo mapped read-only in the file's address space.
 * @size: bytes of the program.
 * @v: what validation learnt, region sizes included.
 */
struct lumen_program {
	struct kref ref;
	struct lumen_bo *bo;
	struct lumen_mapping *map;
	u32 size;
	struct lumen_validation v;
};

struct lumen_program *lumen_program_get(struct lumen_file *lfile, u32 handle);
void lumen_program_put(struct lumen_program *prog);
void lumen_programs_release(struct lumen_file *lfile);

void lumen_program_check_dtypes(const void *prog, u32 dtypes, u64 dtypes_ext,
				struct lumen_validation *v);
int lumen_ioctl_program_create(struct drm_device *drm, void *data,
			       struct drm_file *file);
int lumen_ioctl_program_destroy(struct drm_device *drm, void *data,
				struct drm_file *file);

#endif /* __LUMEN_PROGRAM_H__ */
