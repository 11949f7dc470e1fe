// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * NPU address spaces: a drm_mm range allocator and page tables per open
 * file, bound to one of the device's MMU context slots while its jobs run.
 */

#include <linux/dma-mapping.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/sizes.h>

#include <drm/drm_drv.h>

#include "lumen_drv.h"
#include "lumen_gem.h"
#include "lumen_vm.h"

static u64 *lumen_vm_table_alloc(struct lumen_pt *pt, dma_addr_t *dma)
{
	struct lumen_vm *vm = pt->priv;

	return dma_alloc_coherent(vm->ldev->drm.dev, LUMEN_PT_PAGE_4K, dma,
				  GFP_KERNEL | __GFP_ACCOUNT);
}

static void lumen_vm_table_free(struct lumen_pt *pt, u64 *table,
				dma_addr_t dma)
{
	struct lumen_vm *vm = pt->priv;

	dma_free_coherent(vm->ldev->drm.dev, LUMEN_PT_PAGE_4K, table, dma);
}

static const struct lumen_pt_ops lumen_vm_pt_ops = {
	.alloc = lumen_vm_table_alloc,
	.free = lumen_vm_table_free,
};

/**
 * lumen_vm_create() - a new, empty NPU address space.
 * @ldev: the device.
 *
 * Return: the space, or an ERR_PTR.
 */
struct lumen_vm *lumen_vm_create(struct lumen_device *ldev)
{
	struct lumen_vm *vm;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return ERR_PTR(-ENOMEM);
	kref_init(&vm->ref);
	vm->ldev = ldev;
	vm->ctx = -1;
	mutex_init(&vm->lock);
	lumen_va_init(&vm->mm);
	ret = lumen_pt_init(&vm->pt, &lumen_vm_pt_ops, vm);
	if (ret) {
		drm_mm_takedown(&vm->mm);
		kfree(vm);
		return ERR_PTR(ret);
	}
	atomic_inc(&ldev->objects.vms);
	scoped_guard(mutex, &ldev->live_lock)
		list_add_tail(&vm->live_link, &ldev->live_vms);
	return vm;
}

/**
 * lumen_vms_unplug() - free every address space's page tables.
 * @ldev: the device, unplugged and known to be off: nothing walks them.
 *
 * Open files keep their address spaces, but the DMA memory of the page
 * tables belongs to the device and goes with it.
 */
void lumen_vms_unplug(struct lumen_device *ldev)
{
	struct lumen_vm *vm;

	guard(mutex)(&ldev->live_lock);
	list_for_each_entry(vm, &ldev->live_vms, live_link) {
		guard(mutex)(&vm->lock);
		vm->unplugged = true;
		lumen_pt_fini(&vm->pt);
	}
}

/*
 * Register access for MMU maintenance: only while the device is bound and
 * powered. A device that is off, or suspending, reloads every context slot
 * when it comes back (lumen_vm_restore(), also after a failed suspend),
 * which is all a skipped write would have done. Powered but idle counts
 * as powered: pm_runtime_get_if_in_use() would skip the invalidation of a
 * device whose translation cache still holds freed pages.
 */
static bool lumen_vm_hw_enter(struct lumen_device *ldev, int *idx)
{
	if (!drm_dev_enter(&ldev->drm, idx))
		return false;
	if (pm_runtime_get_if_active(ldev->drm.dev) > 0)
		return true;
	drm_dev_exit(*idx);
	return false;
}

static void lumen_vm_hw_exit(struct lumen_device *ldev, int idx)
{
	pm_runtime_put_autosuspend(ldev->drm.dev);
	drm_dev_exit(idx);
}

static void lumen_vm_release(struct kref *ref)
{
	struct lumen_vm *vm = container_of(ref, struct lumen_vm, ref);
	struct lumen_device *ldev = vm->ldev;
	int idx;

	scoped_guard(mutex, &ldev->ctx_lock) {
		if (vm->ctx >= 0) {
			if (lumen_vm_hw_enter(ldev, &idx)) {
				lumen_write64(ldev, LUMEN_REG_CTX_ROOT(vm->ctx), 0);
				lumen_write(ldev, LUMEN_REG_MMU_INVALIDATE,
					    LUMEN_INVALIDATE_CONTEXT(vm->ctx));
				lumen_vm_hw_exit(ldev, idx);
			}
			ldev->ctx_owner[vm->ctx] = NULL;
		}
	}
	scoped_guard(mutex, &ldev->live_lock)
		list_del(&vm->live_link);
	lumen_pt_fini(&vm->pt);
	drm_mm_takedown(&vm->mm);
	mutex_destroy(&vm->lock);
	atomic_dec(&ldev->objects.vms);
	kfree(vm);
}

/** lumen_vm_put() - drop a reference to an address space. */
void lumen_vm_put(struct lumen_vm *vm)
{
	kref_put(&vm->ref, lumen_vm_release);
}

/**
 * lumen_vm_flush() - make the device forget translations of @vm.
 * @vm: an address space whose page tables changed.
 *
 * Only needed while a context slot holds @vm: binding a slot invalidates it.
 */
void lumen_vm_flush(struct lumen_vm *vm)
{
	struct lumen_device *ldev = vm->ldev;
	int idx;

	guard(mutex)(&ldev->ctx_lock);
	if (vm->ctx >= 0 && lumen_vm_hw_enter(ldev, &idx)) {
		lumen_write(ldev, LUMEN_REG_MMU_INVALIDATE,
			    LUMEN_INVALIDATE_CONTEXT(vm->ctx));
		lumen_vm_hw_exit(ldev, idx);
	}
}

static void lumen_ctx_load(struct lumen_device *ldev, int ctx,
			   struct lumen_vm *vm)
{
	lumen_write64(ldev, LUMEN_REG_CTX_ROOT(ctx),
		      vm ? vm->pt.root->dma | LUMEN_CTX_ROOT_VALID : 0);
	lumen_write(ldev, LUMEN_REG_MMU_INVALIDATE, LUMEN_INVALIDATE_CONTEXT(ctx));
}

/**
 * lumen_vm_activate() - give @vm a context slot for one more job.
 * @vm: the job's address space.
 *
 * Reuses the slot @vm holds, else a free one, else steals one whose space
 * has no job on the device. With at most %LUMEN_JOBS_IN_FLIGHT jobs there
 * and more slots than that, one is always found.
 *
 * Return: the slot, or -EBUSY.
 */
int lumen_vm_activate(struct lumen_vm *vm)
{
	struct lumen_device *ldev = vm->ldev;
	int i, victim = -1;

	guard(mutex)(&ldev->ctx_lock);
	if (vm->ctx < 0) {
		for (i = 0; i < LUMEN_MMU_CONTEXTS; i++) {
			struct lumen_vm *owner = ldev->ctx_owner[i];

			if (!owner) {
				victim = i;
				break;
			}
			if (!owner->active && victim < 0)
				victim = i;
		}
		if (victim < 0)
			return -EBUSY;
		if (ldev->ctx_owner[victim])
			ldev->ctx_owner[victim]->ctx = -1;
		ldev->ctx_owner[victim] = vm;
		vm->ctx = victim;
		lumen_ctx_load(ldev, victim, vm);
	}
	vm->active++;
	return vm->ctx;
}

/** lumen_vm_idle() - one job of @vm left the device. */
void lumen_vm_idle(struct lumen_vm *vm)
{
	guard(mutex)(&vm->ldev->ctx_lock);
	if (!WARN_ON(!vm->active))
		vm->active--;
}

/**
 * lumen_vm_restore() - reload every context slot after a reset or power-up.
 * @ldev: the device.
 */
void lumen_vm_restore(struct lumen_device *ldev)
{
	int i;

	guard(mutex)(&ldev->ctx_lock);
	for (i = 0; i < LUMEN_MMU_CONTEXTS; i++)
		lumen_ctx_load(ldev, i, ldev->ctx_owner[i]);
}
