// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * PROGRAM_CREATE: copy a program into a buffer userspace cannot map or
 * write, validate the copy (never the user's memory, which could change
 * after the check), and remember the region sizes submissions must meet.
 * The device reads the copy through a read-only mapping.
 */

#include <linux/export.h>
#include <linux/iosys-map.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <drm/drm_gem.h>
#include <drm/drm_print.h>

#include <kunit/visibility.h>

#include "lumen_drv.h"
#include "lumen_gem.h"
#include "lumen_program.h"

static unsigned int lumen_file_programs = 1024;
module_param_named(file_programs, lumen_file_programs, uint, 0644);
MODULE_PARM_DESC(file_programs,
		 "program handles one open file may hold (default 1024)");

static void lumen_program_release(struct kref *ref)
{
	struct lumen_program *prog = container_of(ref, struct lumen_program, ref);

	atomic_dec(&to_lumen_device(prog->bo->base.base.dev)->objects.programs);
	lumen_bo_unmap(prog->bo, prog->map->vm);
	lumen_mapping_put(prog->map);
	drm_gem_object_put(&prog->bo->base.base);
	kfree(prog);
}

/** lumen_program_put() - drop a reference to a program. */
void lumen_program_put(struct lumen_program *prog)
{
	kref_put(&prog->ref, lumen_program_release);
}

/**
 * lumen_program_get() - look a program handle up.
 * @lfile: the file.
 * @handle: the handle.
 *
 * Return: a referenced program, or NULL.
 */
struct lumen_program *lumen_program_get(struct lumen_file *lfile, u32 handle)
{
	struct lumen_program *prog;

	xa_lock(&lfile->programs);
	prog = xa_load(&lfile->programs, handle);
	if (prog)
		kref_get(&prog->ref);
	xa_unlock(&lfile->programs);
	return prog;
}

/** lumen_programs_release() - drop every program handle of a closing file. */
void lumen_programs_release(struct lumen_file *lfile)
{
	struct lumen_program *prog;
	unsigned long handle;

	xa_for_each(&lfile->programs, handle, prog)
		lumen_program_put(prog);
	xa_destroy(&lfile->programs);
}

/* Copy the user's program into a new buffer of the kernel's. */
static struct lumen_bo *lumen_program_copy(struct lumen_device *ldev,
					   u64 uptr, u32 size)
{
	struct iosys_map vmap;
	struct lumen_bo *bo;
	int ret;

	bo = lumen_bo_create(ldev, size);
	if (IS_ERR(bo))
		return bo;
	ret = drm_gem_vmap_unlocked(&bo->base.base, &vmap);
	if (ret)
		goto err_put;
	if (copy_from_user(vmap.vaddr, u64_to_user_ptr(uptr), size))
		ret = -EFAULT;
	drm_gem_vunmap_unlocked(&bo->base.base, &vmap);
	if (ret)
		goto err_put;
	return bo;

err_put:
	drm_gem_object_put(&bo->base.base);
	return ERR_PTR(ret);
}

static bool lumen_dtype_supported(u32 dtype, u32 dtypes, u64 dtypes_ext)
{
	if (dtype < 32)
		return dtypes & BIT(dtype);
	if (dtype >= LUMEN_DTYPES_EXT_FIRST && dtype < LUMEN_DTYPES_EXT_FIRST + 64)
		return dtypes_ext & BIT_ULL(dtype - LUMEN_DTYPES_EXT_FIRST);
	return false;
}

/**
 * lumen_program_check_dtypes() - refuse a dtype the device does not run.
 * @prog: a program lumen_validate() accepted.
 * @dtypes: the device's LUMEN_REG_DTYPES.
 * @dtypes_ext: its LUMEN_REG_DTYPES_EXT (0 without the capability).
 * @v: its validation; the first tensor of a dtype the device lacks makes
 *	it %LUMEN_VERR_BAD_DTYPE at that op and operand (0 the dst, 1 + n
 *	source n), as an older validator would have said at creation.
 *
 * The shared validator knows every dtype of this ISA; a device may predate
 * some (Q4_0x8 and Q8_0x8 on one without %LUMEN_CAP_DTYPES_EXT), and would
 * otherwise fault the job only when it runs.
 */
void lumen_program_check_dtypes(const void *prog, u32 dtypes, u64 dtypes_ext,
				struct lumen_validation *v)
{
	const struct lumen_prog_header *h = prog;
	u32 i, n;

	for (i = 0; i < h->op_count; i++) {
		const struct lumen_op *op = prog + h->header_size +
					    (size_t)i * h->op_size;

		for (n = 0; n < 1 + LUMEN_MAX_SRCS; n++) {
			const struct lumen_tensor *t = n ? &op->src[n - 1] :
							   &op->dst;

			if (lumen_dtype_supported(t->dtype, dtypes, dtypes_ext))
				continue;
			v->error = LUMEN_VERR_BAD_DTYPE;
			v->error_op = i;
			v->error_operand = n;
			return;
		}
	}
}
EXPORT_SYMBOL_IF_KUNIT(lumen_program_check_dtypes);

/*
 * Validate the kernel's copy with the shared validator, then against the
 * dtypes this device runs. lumen_validate.c is shared with the device
 * model and userspace, so it carries no kernel exports: the one the KUnit
 * tests need follows this, its one caller.
 */
static int lumen_program_validate(struct lumen_device *ldev,
				  struct lumen_program *prog)
{
	struct iosys_map vmap;
	int ret;

	ret = drm_gem_vmap_unlocked(&prog->bo->base.base, &vmap);
	if (ret)
		return ret;
	if (lumen_validate(vmap.vaddr, prog->size, &prog->v) == LUMEN_VERR_OK)
		lumen_program_check_dtypes(vmap.vaddr, ldev->dtypes,
					   ldev->dtypes_ext, &prog->v);
	drm_gem_vunmap_unlocked(&prog->bo->base.base, &vmap);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_validate);

static void lumen_program_report(struct drm_lumen_program_create *args,
				 const struct lumen_validation *v)
{
	args->regions_used = v->regions_used;
	args->regions_written = v->regions_written;
	args->error = v->error;
	args->error_op = v->error_op;
	args->error_operand = v->error_operand;
}

int lumen_ioctl_program_create(struct drm_device *drm, void *data,
			       struct drm_file *file)
{
	struct lumen_device *ldev = to_lumen_device(drm);
	struct drm_lumen_program_create *args = data;
	struct lumen_file *lfile = file->driver_priv;
	struct lumen_program *prog;
	u32 count, handle;
	int ret;

	if (args->flags || args->pad)
		return -EINVAL;
	if (!args->size || args->size > LUMEN_MAX_PROGRAM_SIZE)
		return -EINVAL;

	prog = kzalloc(sizeof(*prog), GFP_KERNEL_ACCOUNT);
	if (!prog)
		return -ENOMEM;
	kref_init(&prog->ref);
	prog->size = args->size;

	prog->bo = lumen_program_copy(ldev, args->program, args->size);
	if (IS_ERR(prog->bo)) {
		ret = PTR_ERR(prog->bo);
		goto err_free;
	}
	ret = lumen_program_validate(ldev, prog);
	if (ret)
		goto err_put_bo;
	lumen_program_report(args, &prog->v);
	if (prog->v.error != LUMEN_VERR_OK) {
		drm_dbg_driver(drm, "program rejected: %s (op %u, operand %u)\n",
			       lumen_verr_str(prog->v.error), prog->v.error_op,
			       prog->v.error_operand);
		ret = -EINVAL;
		goto err_put_bo;
	}

	count = min_t(u32, args->region_sizes_count, LUMEN_MAX_REGIONS);
	if (args->region_sizes && count &&
	    copy_to_user(u64_to_user_ptr(args->region_sizes),
			 prog->v.region_size, count * sizeof(u64))) {
		ret = -EFAULT;
		goto err_put_bo;
	}
	args->region_sizes_count = fls(prog->v.regions_used);

	prog->map = lumen_bo_map(prog->bo, lfile->vm, false);
	if (IS_ERR(prog->map)) {
		ret = PTR_ERR(prog->map);
		goto err_put_bo;
	}
	atomic_inc(&ldev->objects.programs);

	ret = xa_alloc(&lfile->programs, &handle, prog,
		       XA_LIMIT(1, max(READ_ONCE(lumen_file_programs), 1U)),
		       GFP_KERNEL_ACCOUNT);
	if (ret) {
		lumen_program_put(prog);
		/* -EBUSY from a full range: this file holds its share. */
		return ret == -EBUSY ? -EDQUOT : ret;
	}
	args->handle = handle;
	return 0;

err_put_bo:
	drm_gem_object_put(&prog->bo->base.base);
err_free:
	kfree(prog);
	return ret;
}

int lumen_ioctl_program_destroy(struct drm_device *drm, void *data,
				struct drm_file *file)
{
	struct drm_lumen_program_destroy *args = data;
	struct lumen_file *lfile = file->driver_priv;
	struct lumen_program *prog;

	if (args->pad)
		return -EINVAL;
	prog = xa_erase(&lfile->programs, args->handle);
	if (!prog)
		return -ENOENT;
	lumen_program_put(prog);
	return 0;
}
