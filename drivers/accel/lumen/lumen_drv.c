// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * The Lumen NPU driver: PCI glue, the ioctl table, open and close.
 * Documentation/accel/lumen/driver.rst gives the overall picture.
 */

#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>

#include <kunit/visibility.h>

#include "lumen_check.h"
#include "lumen_debugfs.h"
#include "lumen_device.h"
#include "lumen_drv.h"
#include "lumen_gem.h"
#include "lumen_job.h"
#include "lumen_program.h"
#include "lumen_uring.h"

#define CREATE_TRACE_POINTS
#include "lumen_trace.h"

static u64 lumen_page_sizes(const struct lumen_device *ldev)
{
	u64 sizes = 0;

	if (ldev->caps & LUMEN_CAP_PAGE_4K)
		sizes |= 1ULL << LUMEN_PAGE_SHIFT;
	if (ldev->caps & LUMEN_CAP_PAGE_2M)
		sizes |= 1ULL << LUMEN_HUGE_SHIFT;
	return sizes;
}

static void lumen_fill_info(const struct lumen_device *ldev,
			    struct drm_lumen_dev_info *info)
{
	info->device_id = ldev->pdev->device;
	info->hw_version = ldev->hw_version;
	info->isa_version = ldev->isa_version;
	info->core_count = ldev->cores;
	info->max_regions = LUMEN_MAX_REGIONS;
	info->dtypes = ldev->dtypes;
	info->dtypes_ext = ldev->dtypes_ext;
	info->va_size = LUMEN_PT_VA_SIZE;
	info->page_sizes = lumen_page_sizes(ldev);
	info->max_program_size = LUMEN_MAX_PROGRAM_SIZE;
}

static int lumen_ioctl_get_param(struct drm_device *drm, void *data,
				 struct drm_file *file)
{
	struct lumen_device *ldev = to_lumen_device(drm);
	struct drm_lumen_get_param *args = data;
	struct drm_lumen_dev_info info;

	if (args->pad)
		return -EINVAL;
	lumen_fill_info(ldev, &info);
	switch (args->param) {
	case DRM_LUMEN_PARAM_DEVICE_ID:
		args->value = info.device_id;
		break;
	case DRM_LUMEN_PARAM_HW_VERSION:
		args->value = info.hw_version;
		break;
	case DRM_LUMEN_PARAM_ISA_VERSION:
		args->value = info.isa_version;
		break;
	case DRM_LUMEN_PARAM_CORE_COUNT:
		args->value = info.core_count;
		break;
	case DRM_LUMEN_PARAM_MAX_REGIONS:
		args->value = info.max_regions;
		break;
	case DRM_LUMEN_PARAM_DTYPES:
		args->value = info.dtypes;
		break;
	case DRM_LUMEN_PARAM_VA_SIZE:
		args->value = info.va_size;
		break;
	case DRM_LUMEN_PARAM_PAGE_SIZES:
		args->value = info.page_sizes;
		break;
	case DRM_LUMEN_PARAM_MAX_PROGRAM_SIZE:
		args->value = info.max_program_size;
		break;
	case DRM_LUMEN_PARAM_URING_CMD:
		args->value = IS_ENABLED(CONFIG_IO_URING);
		break;
	case DRM_LUMEN_PARAM_DTYPES_EXT:
		args->value = info.dtypes_ext;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/**
 * lumen_query_copy() - copy a query's answer out, as copy_struct_to_user()
 * would.
 * @args: the checked query (lumen_query_check()); its size becomes @ksize.
 * @answer: the kernel's answer.
 * @ksize: bytes of @answer.
 *
 * A caller built against an older header gets a prefix, a newer one gets
 * zeros past the kernel's end.
 *
 * Return: 0 or -EFAULT.
 */
VISIBLE_IF_KUNIT int lumen_query_copy(struct drm_lumen_dev_query *args,
				      const void *answer, u32 ksize)
{
	void __user *uptr = u64_to_user_ptr(args->pointer);
	u32 size = min(args->size, ksize);

	if (copy_to_user(uptr, answer, size))
		return -EFAULT;
	if (args->size > size && clear_user(uptr + size, args->size - size))
		return -EFAULT;
	args->size = ksize;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_query_copy);

static int lumen_ioctl_dev_query(struct drm_device *drm, void *data,
				 struct drm_file *file)
{
	struct lumen_device *ldev = to_lumen_device(drm);
	struct drm_lumen_dev_query *args = data;
	union {
		struct drm_lumen_dev_info info;
		struct drm_lumen_counters counters;
		struct drm_lumen_health health;
	} answer = {};
	u32 ksize;
	int ret, idx;

	ret = lumen_query_check(args);
	if (ret)
		return ret;
	switch (args->type) {
	case DRM_LUMEN_QUERY_INFO:
		ksize = sizeof(answer.info);
		lumen_fill_info(ldev, &answer.info);
		break;
	case DRM_LUMEN_QUERY_COUNTERS:
		ksize = sizeof(answer.counters);
		if (!args->pointer)
			break;
		/* Registers are gone once the device is unplugged. */
		if (!drm_dev_enter(drm, &idx))
			return -ENODEV;
		lumen_device_counters(ldev, &answer.counters);
		drm_dev_exit(idx);
		break;
	case DRM_LUMEN_QUERY_HEALTH:
		ksize = sizeof(answer.health);
		if (READ_ONCE(ldev->wedged))
			answer.health.flags |= DRM_LUMEN_HEALTH_WEDGED;
		answer.health.resets = atomic_read(&ldev->resets);
		answer.health.failed_resets = atomic_read(&ldev->failed_resets);
		answer.health.kept_jobs = lumen_jobs_kept(ldev);
		break;
	default:
		return -EINVAL;
	}
	if (!args->pointer) {
		args->size = ksize;
		return 0;
	}
	return lumen_query_copy(args, &answer, ksize);
}

static void lumen_file_release(struct kref *ref)
{
	struct lumen_file *lfile = container_of(ref, struct lumen_file, ref);
	int i;

	for (i = 0; i < DRM_LUMEN_JOB_HISTORY; i++)
		dma_fence_put(lfile->history[i].done);
	lumen_vm_put(lfile->vm);
	mutex_destroy(&lfile->submit_lock);
	atomic_dec(&lfile->ldev->objects.files);
	kfree(lfile);
}

/** lumen_file_put() - drop a reference to a file's state. */
void lumen_file_put(struct lumen_file *lfile)
{
	kref_put(&lfile->ref, lumen_file_release);
}

static const enum drm_sched_priority lumen_sched_prio[] = {
	[DRM_LUMEN_PRIORITY_LOW] = DRM_SCHED_PRIORITY_LOW,
	[DRM_LUMEN_PRIORITY_NORMAL] = DRM_SCHED_PRIORITY_NORMAL,
	[DRM_LUMEN_PRIORITY_HIGH] = DRM_SCHED_PRIORITY_HIGH,
};

static int lumen_open(struct drm_device *drm, struct drm_file *file)
{
	struct lumen_device *ldev = to_lumen_device(drm);
	struct drm_gpu_scheduler *sched = &ldev->sched;
	struct lumen_file *lfile;
	int i, ret;

	lfile = kzalloc(sizeof(*lfile), GFP_KERNEL_ACCOUNT);
	if (!lfile)
		return -ENOMEM;
	kref_init(&lfile->ref);
	lfile->ldev = ldev;
	mutex_init(&lfile->submit_lock);
	spin_lock_init(&lfile->history_lock);
	xa_init_flags(&lfile->programs, XA_FLAGS_ALLOC1);

	lfile->vm = lumen_vm_create(ldev);
	if (IS_ERR(lfile->vm)) {
		ret = PTR_ERR(lfile->vm);
		goto err_free;
	}
	for (i = 0; i < ARRAY_SIZE(lfile->entity); i++) {
		ret = drm_sched_entity_init(&lfile->entity[i],
					    lumen_sched_prio[i], &sched, 1, NULL);
		if (ret)
			goto err_entities;
	}
	file->driver_priv = lfile;
	atomic_inc(&ldev->objects.files);
	return 0;

err_entities:
	while (i--)
		drm_sched_entity_destroy(&lfile->entity[i]);
	lumen_vm_put(lfile->vm);
err_free:
	mutex_destroy(&lfile->submit_lock);
	kfree(lfile);
	return ret;
}

static void lumen_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	int i;

	/* Waits for queued jobs to be handed over or dropped. */
	for (i = 0; i < ARRAY_SIZE(lfile->entity); i++)
		drm_sched_entity_destroy(&lfile->entity[i]);
	lumen_programs_release(lfile);
	lumen_file_put(lfile);
}

static void lumen_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;

	drm_printf(p, "drm-engine-npu:\t%llu ns\n",
		   (u64)atomic64_read(&lfile->busy_ns));
	drm_printf(p, "lumen-jobs-done:\t%llu\n",
		   (u64)atomic64_read(&lfile->jobs_done));
	drm_show_memory_stats(p, file);
}

static const struct drm_ioctl_desc lumen_ioctls[] = {
#define LUMEN_IOCTL(n, func) \
	DRM_IOCTL_DEF_DRV(LUMEN_##n, lumen_ioctl_##func, DRM_RENDER_ALLOW)
	LUMEN_IOCTL(GET_PARAM, get_param),
	LUMEN_IOCTL(DEV_QUERY, dev_query),
	LUMEN_IOCTL(BO_CREATE, bo_create),
	LUMEN_IOCTL(BO_MMAP_OFFSET, bo_mmap_offset),
	LUMEN_IOCTL(BO_INFO, bo_info),
	LUMEN_IOCTL(PROGRAM_CREATE, program_create),
	LUMEN_IOCTL(PROGRAM_DESTROY, program_destroy),
	LUMEN_IOCTL(SUBMIT, submit),
	LUMEN_IOCTL(JOB_WAIT, job_wait),
#undef LUMEN_IOCTL
};

/* DEFINE_DRM_ACCEL_FOPS() cannot take .uring_cmd: spelled out. */
static const struct file_operations lumen_fops = {
	.owner = THIS_MODULE,
	DRM_ACCEL_FOPS,
	.uring_cmd = lumen_uring_cmd,
	.show_fdinfo = drm_show_fdinfo,
};

static const struct drm_driver lumen_drm_driver = {
	.driver_features = DRIVER_COMPUTE_ACCEL | DRIVER_GEM |
			   DRIVER_SYNCOBJ | DRIVER_SYNCOBJ_TIMELINE,
	.open = lumen_open,
	.postclose = lumen_postclose,
	.show_fdinfo = lumen_show_fdinfo,
	.gem_create_object = lumen_gem_create_object,
	.ioctls = lumen_ioctls,
	.num_ioctls = ARRAY_SIZE(lumen_ioctls),
	.fops = &lumen_fops,
	.name = "lumen",
	.desc = "Lumen NPU",
	.major = 1,
	.minor = 2,
};

/* After the last file is closed: no entity is left to use the run queues. */
static void lumen_sched_release(struct drm_device *drm, void *data)
{
	lumen_sched_fini(to_lumen_device(drm));
}

static int lumen_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct lumen_device *ldev;
	int ret;

	ldev = devm_drm_dev_alloc(&pdev->dev, &lumen_drm_driver,
				  struct lumen_device, drm);
	if (IS_ERR(ldev))
		return PTR_ERR(ldev);
	ldev->pdev = pdev;
	pci_set_drvdata(pdev, ldev);
	spin_lock_init(&ldev->hw_lock);
	INIT_LIST_HEAD(&ldev->running);
	ret = drmm_mutex_init(&ldev->drm, &ldev->ctx_lock);
	if (ret)
		return ret;
	ret = drmm_mutex_init(&ldev->drm, &ldev->reset_lock);
	if (ret)
		return ret;
	ret = drmm_mutex_init(&ldev->drm, &ldev->live_lock);
	if (ret)
		return ret;
	INIT_LIST_HEAD(&ldev->live_vms);
	INIT_LIST_HEAD(&ldev->live_bos);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(52));
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(LUMEN_BAR_REGS), "lumen");
	if (ret)
		return ret;
	ldev->regs = pcim_iomap_table(pdev)[LUMEN_BAR_REGS];

	ret = lumen_device_init(ldev);
	if (ret)
		return ret;
	ret = lumen_device_irq_init(ldev);
	if (ret)
		goto err_fini;
	ret = lumen_sched_init(ldev);
	if (ret)
		goto err_fini;
	ret = drmm_add_action_or_reset(&ldev->drm, lumen_sched_release, NULL);
	if (ret)
		goto err_fini;

	pm_runtime_set_autosuspend_delay(&pdev->dev, LUMEN_AUTOSUSPEND_MS);
	pm_runtime_use_autosuspend(&pdev->dev);
	pm_runtime_allow(&pdev->dev);
	/* Drop the reference the PCI core holds across probe. */
	pm_runtime_put_autosuspend(&pdev->dev);

	lumen_debugfs_init(ldev);
	ret = drm_dev_register(&ldev->drm, 0);
	if (ret)
		goto err_pm;
	drm_info(&ldev->drm, "Lumen NPU %u.%u, ISA %u, %u cores\n",
		 ldev->hw_version >> 16, ldev->hw_version & 0xffff,
		 ldev->isa_version, ldev->cores);
	return 0;

err_pm:
	pm_runtime_get_noresume(&pdev->dev);
	pm_runtime_forbid(&pdev->dev);
err_fini:
	lumen_device_fini(ldev);
	return ret;
}

/*
 * Unbind or hot-unplug, possibly with files open and jobs on the device.
 * After drm_dev_unplug() no ioctl, job start, reset or register access
 * runs (all sit in drm_dev_enter() sections); the device is stopped, jobs
 * on it fail with -ENODEV, and their memory is freed only if the device
 * confirmed it is off. The scheduler lives on until the last file is
 * closed (lumen_sched_release()): open files' entities still use it.
 */
static void lumen_remove(struct pci_dev *pdev)
{
	struct lumen_device *ldev = pci_get_drvdata(pdev);
	int ret;

	drm_dev_unplug(&ldev->drm);
	/* The PCI core resumed the device; take back the reference probe gave up. */
	pm_runtime_get_noresume(&pdev->dev);
	pm_runtime_forbid(&pdev->dev);
	ret = lumen_device_fini(ldev);
	if (!ret)
		lumen_jobs_release_kept(ldev);
	else
		drm_err(&ldev->drm,
			"device still busy at removal (%d): keeping its jobs' memory\n",
			ret);
	lumen_job_abandon(ldev, NULL, -ENODEV);
	/* Off for good: what open files still hold needs no DMA any more. */
	if (!ret) {
		lumen_vms_unplug(ldev);
		lumen_bos_unplug(ldev);
	}
}

static const struct dev_pm_ops lumen_pm_ops = {
	RUNTIME_PM_OPS(lumen_runtime_suspend, lumen_runtime_resume, NULL)
};

static const struct pci_device_id lumen_pci_ids[] = {
	{ PCI_DEVICE(LUMEN_PCI_VENDOR_ID, LUMEN_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, lumen_pci_ids);

static struct pci_driver lumen_pci_driver = {
	.name = "lumen",
	.id_table = lumen_pci_ids,
	.probe = lumen_probe,
	.remove = lumen_remove,
	.driver.pm = pm_ptr(&lumen_pm_ops),
};
module_pci_driver(lumen_pci_driver);

MODULE_DESCRIPTION("Lumen NPU accelerator driver");
MODULE_LICENSE("Dual MIT/GPL");
