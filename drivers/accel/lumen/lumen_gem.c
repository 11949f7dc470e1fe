// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Buffer objects: shmem GEM objects mapped into the NPU address space of
 * every file holding a handle to them. A mapping lives while the handle
 * does and while a job uses it, so closing a handle during a job leaves
 * the job's memory in place. Only a handle's creation maps a buffer into a
 * file's space (lumen_gem_open()); everything else finds that mapping, so
 * a handle closed under a lookup cannot leave a mapping nobody unmaps.
 */

#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_print.h>

#include "lumen_drv.h"
#include "lumen_gem.h"

static unsigned int lumen_file_mem_mb;
module_param_named(file_mem_mb, lumen_file_mem_mb, uint, 0644);
MODULE_PARM_DESC(file_mem_mb,
		 "memory the buffers and programs one open file maps may pin (MiB, default 0: half of RAM)");

static u64 lumen_file_mem_limit(void)
{
	unsigned int mb = READ_ONCE(lumen_file_mem_mb);

	return mb ? (u64)mb << 20 : (u64)(totalram_pages() / 2) << PAGE_SHIFT;
}

/*
 * Buffers are pinned while mapped: charge them to the address space, and
 * refuse one that would take it past its limit (-EDQUOT).
 */
static int lumen_vm_charge(struct lumen_vm *vm, u64 size)
{
	if (atomic64_add_return(size, &vm->mapped_bytes) >
	    lumen_file_mem_limit()) {
		atomic64_sub(size, &vm->mapped_bytes);
		return -EDQUOT;
	}
	return 0;
}

static void lumen_mapping_release(struct kref *ref)
{
	struct lumen_mapping *map = container_of(ref, struct lumen_mapping, ref);
	struct lumen_vm *vm = map->vm;

	scoped_guard(mutex, &vm->lock) {
		/* Whole pages of one buffer: never a split, cannot fail. */
		if (!vm->unplugged)
			WARN_ON(lumen_pt_unmap(&vm->pt, map->node.start,
					       map->node.size));
		drm_mm_remove_node(&map->node);
	}
	lumen_vm_flush(vm);
	atomic64_sub(map->bo->base.base.size, &vm->mapped_bytes);
	atomic_dec(&vm->ldev->objects.mappings);
	lumen_vm_put(vm);
	drm_gem_object_put(&map->bo->base.base);
	kfree(map);
}

/** lumen_mapping_put() - drop a reference to a mapping. */
void lumen_mapping_put(struct lumen_mapping *map)
{
	kref_put(&map->ref, lumen_mapping_release);
}

/**
 * lumen_bo_find_mapping() - the mapping of @bo in @vm, referenced.
 * @bo: the buffer.
 * @vm: the address space.
 *
 * Return: the mapping, or NULL.
 */
struct lumen_mapping *lumen_bo_find_mapping(struct lumen_bo *bo,
					    struct lumen_vm *vm)
{
	struct lumen_mapping *map;

	guard(mutex)(&bo->lock);
	list_for_each_entry(map, &bo->mappings, link) {
		if (map->vm == vm) {
			kref_get(&map->ref);
			return map;
		}
	}
	return NULL;
}

static int lumen_vm_map_sgt(struct lumen_vm *vm, u64 va, struct sg_table *sgt,
			    u64 prot)
{
	struct scatterlist *sg;
	u64 done = 0;
	int i, ret;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		ret = lumen_pt_map(&vm->pt, va + done, sg_dma_address(sg),
				   sg_dma_len(sg), prot);
		if (ret) {
			if (done)
				lumen_pt_unmap(&vm->pt, va, done);
			return ret;
		}
		done += sg_dma_len(sg);
	}
	return 0;
}

static struct lumen_mapping *lumen_bo_lookup_locked(struct lumen_bo *bo,
						    struct lumen_vm *vm)
{
	struct lumen_mapping *map;

	lockdep_assert_held(&bo->lock);
	list_for_each_entry(map, &bo->mappings, link)
		if (map->vm == vm)
			return map;
	return NULL;
}

static struct lumen_mapping *lumen_bo_map_entered(struct lumen_bo *bo,
						  struct lumen_vm *vm,
						  bool writable);

/**
 * lumen_bo_map() - map @bo into @vm, or find the mapping already there.
 * @bo: the buffer.
 * @vm: the address space.
 * @writable: let jobs write the buffer.
 *
 * The buffer keeps the mapping until lumen_bo_unmap().
 *
 * Return: a referenced mapping, or an ERR_PTR.
 */
struct lumen_mapping *lumen_bo_map(struct lumen_bo *bo, struct lumen_vm *vm,
				   bool writable)
{
	struct drm_gem_object *obj = &bo->base.base;
	struct lumen_mapping *map;
	int idx;

	/* Unplug gives the DMA mappings back: none may be made after it. */
	if (!drm_dev_enter(obj->dev, &idx))
		return ERR_PTR(-ENODEV);
	map = lumen_bo_map_entered(bo, vm, writable);
	drm_dev_exit(idx);
	return map;
}

static struct lumen_mapping *lumen_bo_map_entered(struct lumen_bo *bo,
						  struct lumen_vm *vm,
						  bool writable)
{
	struct drm_gem_object *obj = &bo->base.base;
	struct lumen_mapping *map;
	struct sg_table *sgt;
	int ret;

	guard(mutex)(&bo->lock);
	map = lumen_bo_lookup_locked(bo, vm);
	if (map) {
		kref_get(&map->ref);
		return map;
	}

	ret = lumen_vm_charge(vm, obj->size);
	if (ret)
		return ERR_PTR(ret);
	sgt = drm_gem_shmem_get_pages_sgt(&bo->base);
	if (IS_ERR(sgt)) {
		atomic64_sub(obj->size, &vm->mapped_bytes);
		return ERR_CAST(sgt);
	}

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map) {
		atomic64_sub(obj->size, &vm->mapped_bytes);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&map->ref);
	map->bo = bo;
	map->vm = vm;

	scoped_guard(mutex, &vm->lock) {
		ret = lumen_va_alloc(&vm->mm, obj->size, &map->node);
		if (!ret) {
			ret = lumen_vm_map_sgt(vm, map->node.start, sgt,
					       writable ? LUMEN_PTE_WRITE : 0);
			if (ret)
				drm_mm_remove_node(&map->node);
		}
	}
	if (ret) {
		atomic64_sub(obj->size, &vm->mapped_bytes);
		kfree(map);
		return ERR_PTR(ret);
	}

	kref_get(&vm->ref);
	atomic_inc(&vm->ldev->objects.mappings);
	drm_gem_object_get(obj);
	kref_get(&map->ref);	/* the buffer's, until lumen_bo_unmap() */
	list_add_tail(&map->link, &bo->mappings);
	return map;
}

/**
 * lumen_bo_unmap() - drop the buffer's mapping in @vm.
 * @bo: the buffer.
 * @vm: the address space.
 *
 * Jobs still using the mapping keep it until they finish.
 */
void lumen_bo_unmap(struct lumen_bo *bo, struct lumen_vm *vm)
{
	struct lumen_mapping *map;

	scoped_guard(mutex, &bo->lock) {
		map = lumen_bo_lookup_locked(bo, vm);
		if (map)
			list_del(&map->link);
	}
	if (map)
		lumen_mapping_put(map);
}

static int lumen_gem_open(struct drm_gem_object *obj, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct lumen_mapping *map;

	map = lumen_bo_map(to_lumen_bo(obj), lfile->vm, true);
	if (IS_ERR(map))
		return PTR_ERR(map);
	lumen_mapping_put(map);
	return 0;
}

static void lumen_gem_close(struct drm_gem_object *obj, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;

	lumen_bo_unmap(to_lumen_bo(obj), lfile->vm);
}

static void lumen_gem_free(struct drm_gem_object *obj)
{
	struct lumen_bo *bo = to_lumen_bo(obj);

	/* Every mapping holds the object: none can be left. */
	WARN_ON(!list_empty(&bo->mappings));
	scoped_guard(mutex, &to_lumen_device(obj->dev)->live_lock)
		list_del_init(&bo->live_link);
	mutex_destroy(&bo->lock);
	atomic_dec(&to_lumen_device(obj->dev)->objects.bos);
	drm_gem_shmem_free(&bo->base);
}

static const struct drm_gem_object_funcs lumen_gem_funcs = {
	.free = lumen_gem_free,
	.open = lumen_gem_open,
	.close = lumen_gem_close,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = drm_gem_shmem_object_mmap,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

/**
 * lumen_gem_create_object() - &drm_driver.gem_create_object.
 * @drm: the device.
 * @size: bytes.
 *
 * Return: a new object, or an ERR_PTR.
 */
struct drm_gem_object *lumen_gem_create_object(struct drm_device *drm,
					       size_t size)
{
	struct lumen_bo *bo;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL_ACCOUNT);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	mutex_init(&bo->lock);
	INIT_LIST_HEAD(&bo->mappings);
	/* NPU memory is written by the device: never write-combined. */
	bo->base.map_wc = false;
	bo->base.base.funcs = &lumen_gem_funcs;
	INIT_LIST_HEAD(&bo->live_link);
	atomic_inc(&to_lumen_device(drm)->objects.bos);
	return &bo->base.base;
}

/**
 * lumen_bos_unplug() - give back the DMA mappings of every buffer.
 * @ldev: the device, unplugged and known to be off.
 *
 * Files, mmaps and dma-bufs may keep buffers long after the device is
 * gone; their pages stay, their mappings for the device go with it.
 */
void lumen_bos_unplug(struct lumen_device *ldev)
{
	struct lumen_bo *bo;

	guard(mutex)(&ldev->live_lock);
	list_for_each_entry(bo, &ldev->live_bos, live_link) {
		struct drm_gem_shmem_object *shmem = &bo->base;

		dma_resv_lock(shmem->base.resv, NULL);
		if (shmem->sgt) {
			/* The pages' reference stays for drm_gem_shmem_free(). */
			dma_unmap_sgtable(ldev->drm.dev, shmem->sgt,
					  DMA_BIDIRECTIONAL, 0);
			sg_free_table(shmem->sgt);
			kfree(shmem->sgt);
			shmem->sgt = NULL;
		}
		dma_resv_unlock(shmem->base.resv);
	}
}

/**
 * lumen_bo_create() - a new buffer, in no address space yet.
 * @ldev: the device.
 * @size: bytes.
 *
 * Return: the buffer, or an ERR_PTR.
 */
struct lumen_bo *lumen_bo_create(struct lumen_device *ldev, size_t size)
{
	struct drm_gem_shmem_object *shmem;
	struct lumen_bo *bo;

	shmem = drm_gem_shmem_create(&ldev->drm, size);
	if (IS_ERR(shmem))
		return ERR_CAST(shmem);
	/* Not in gem_create_object(): a failed create frees without .free. */
	bo = to_lumen_bo(&shmem->base);
	scoped_guard(mutex, &ldev->live_lock)
		list_add_tail(&bo->live_link, &ldev->live_bos);
	return bo;
}

int lumen_ioctl_bo_create(struct drm_device *drm, void *data,
			  struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_bo_create *args = data;
	struct lumen_mapping *map;
	struct lumen_bo *bo;
	int ret;

	if (args->flags || !args->size)
		return -EINVAL;
	/* Could never be mapped, or never be backed: fail before allocating. */
	if (args->size > LUMEN_PT_VA_SIZE - LUMEN_VA_START)
		return -E2BIG;
	if (args->size >> PAGE_SHIFT >= totalram_pages())
		return -ENOMEM;
	/* Checked again, atomically, when the handle maps it. */
	if (atomic64_read(&lfile->vm->mapped_bytes) + args->size >
	    lumen_file_mem_limit())
		return -EDQUOT;

	bo = lumen_bo_create(to_lumen_device(drm), args->size);
	if (IS_ERR(bo))
		return PTR_ERR(bo);

	/* Maps the buffer into this file's space through lumen_gem_open(). */
	ret = drm_gem_handle_create(file, &bo->base.base, &args->handle);
	if (!ret) {
		/* Our reference: the handle may already be closed again. */
		map = lumen_bo_find_mapping(bo, lfile->vm);
		if (map) {
			args->size = bo->base.base.size;
			args->npu_addr = map->node.start;
			lumen_mapping_put(map);
		} else {
			ret = -ENOENT;
		}
	}
	drm_gem_object_put(&bo->base.base);
	return ret;
}

int lumen_ioctl_bo_mmap_offset(struct drm_device *drm, void *data,
			       struct drm_file *file)
{
	struct drm_lumen_bo_mmap_offset *args = data;
	struct drm_gem_object *obj;
	int ret;

	if (args->pad)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	ret = drm_gem_create_mmap_offset(obj);
	if (!ret)
		args->offset = drm_vma_node_offset_addr(&obj->vma_node);
	drm_gem_object_put(obj);
	return ret;
}

int lumen_ioctl_bo_info(struct drm_device *drm, void *data,
			struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_bo_info *args = data;
	struct lumen_mapping *map;
	struct drm_gem_object *obj;

	if (args->pad)
		return -EINVAL;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	/*
	 * Only the handle's lumen_gem_open() makes the mapping: a handle
	 * closed since the lookup has taken it away for good.
	 */
	map = lumen_bo_find_mapping(to_lumen_bo(obj), lfile->vm);
	if (map) {
		args->size = obj->size;
		args->npu_addr = map->node.start;
		lumen_mapping_put(map);
	}
	drm_gem_object_put(obj);
	return map ? 0 : -ENOENT;
}
