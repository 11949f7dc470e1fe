/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_GEM_H__
#define __LUMEN_GEM_H__

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>

#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_mm.h>

#include "lumen_mmu.h"
#include "lumen_vm.h"

struct lumen_device;

/**
 * struct lumen_vm - one NPU address space (one per open file).
 * @ref: mappings and jobs hold the address space.
 * @ldev: the device.
 * @lock: protects @mm and @pt.
 * @mm: allocator of NPU addresses.
 * @pt: the page tables.
 * @ctx: MMU context slot holding this space, or -1 (under ldev->ctx_lock).
 * @active: jobs of this space on the device; the slot is not stolen while
 *	non-zero (under ldev->ctx_lock).
 * @mapped_bytes: bytes of the buffers mapped here, all pinned; bounded by
 *	the module parameter file_mem_mb.
 * @live_link: in &lumen_device.live_vms.
 * @unplugged: the device is gone and the page tables with it (under @lock).
 */
struct lumen_vm {
	struct kref ref;
	struct lumen_device *ldev;
	struct mutex lock; /* mm, pt */
	struct drm_mm mm;
	struct lumen_pt pt;
	int ctx;
	unsigned int active;
	atomic64_t mapped_bytes;
	struct list_head live_link;
	bool unplugged;
};

/**
 * struct lumen_bo - a buffer object.
 * @base: shmem GEM object.
 * @lock: protects @mappings.
 * @mappings: &struct lumen_mapping of this buffer, one per address space.
 * @live_link: in &lumen_device.live_bos.
 */
struct lumen_bo {
	struct drm_gem_shmem_object base;
	struct mutex lock; /* mappings */
	struct list_head mappings;
	struct list_head live_link;
};

/**
 * struct lumen_mapping - a buffer mapped into an address space.
 * @ref: the owning file's handle and running jobs hold it.
 * @vm: the address space.
 * @bo: the buffer (referenced).
 * @node: the NPU address range.
 * @link: in &lumen_bo.mappings.
 */
struct lumen_mapping {
	struct kref ref;
	struct lumen_vm *vm;
	struct lumen_bo *bo;
	struct drm_mm_node node;
	struct list_head link;
};

static inline struct lumen_bo *to_lumen_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct lumen_bo, base.base);
}

struct drm_gem_object *lumen_gem_create_object(struct drm_device *drm,
					       size_t size);
struct lumen_bo *lumen_bo_create(struct lumen_device *ldev, size_t size);
struct lumen_mapping *lumen_bo_map(struct lumen_bo *bo, struct lumen_vm *vm,
				   bool writable);
struct lumen_mapping *lumen_bo_find_mapping(struct lumen_bo *bo,
					    struct lumen_vm *vm);
void lumen_bos_unplug(struct lumen_device *ldev);
void lumen_bo_unmap(struct lumen_bo *bo, struct lumen_vm *vm);
void lumen_mapping_put(struct lumen_mapping *map);

int lumen_ioctl_bo_create(struct drm_device *drm, void *data,
			  struct drm_file *file);
int lumen_ioctl_bo_mmap_offset(struct drm_device *drm, void *data,
			       struct drm_file *file);
int lumen_ioctl_bo_info(struct drm_device *drm, void *data,
			struct drm_file *file);

#endif /* __LUMEN_GEM_H__ */
