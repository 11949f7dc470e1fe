// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * debugfs, for debugging and the kselftests: device state, every device
 * counter, live objects, and the device's test hooks. Userspace reads the
 * counters it needs through DEV_QUERY (DRM_LUMEN_QUERY_COUNTERS).
 */

#include <linux/debugfs.h>
#include <linux/pm_runtime.h>
#include <linux/seq_file.h>

#include <drm/drm_debugfs.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_print.h>

#include "lumen_debugfs.h"
#include "lumen_drv.h"
#include "lumen_job.h"

static const struct {
	const char *name;
	u32 reg;
} lumen_counters[] = {
	{ "busy_ns", LUMEN_REG_CNT_BUSY_NS },
	{ "jobs", LUMEN_REG_CNT_JOBS },
	{ "faults", LUMEN_REG_CNT_FAULTS },
	{ "ops", LUMEN_REG_CNT_OPS },
	{ "bytes_read", LUMEN_REG_CNT_BYTES_READ },
	{ "bytes_written", LUMEN_REG_CNT_BYTES_WRITTEN },
	{ "energy_nj", LUMEN_REG_CNT_ENERGY_NJ },
	{ "bounce_bytes", LUMEN_REG_CNT_BOUNCE_BYTES },
	{ "tlb_misses", LUMEN_REG_CNT_TLB_MISSES },
};

static int lumen_debugfs_state(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct lumen_device *ldev = to_lumen_device(entry->dev);
	unsigned long flags;
	u64 last, done;
	u32 tail;
	int idx;

	spin_lock_irqsave(&ldev->hw_lock, flags);
	last = ldev->last_seqno;
	tail = ldev->ring_tail;
	done = READ_ONCE(*ldev->completion);
	spin_unlock_irqrestore(&ldev->hw_lock, flags);

	seq_printf(m, "last_seqno:\t%llu\ncompleted:\t%llu\nring_tail:\t%u\n",
		   last, done, tail);
	seq_printf(m, "resets:\t%d\nfailed_resets:\t%d\n",
		   atomic_read(&ldev->resets), atomic_read(&ldev->failed_resets));
	seq_printf(m, "wedged:\t%d\nkept_jobs:\t%u\n",
		   READ_ONCE(ldev->wedged), lumen_jobs_kept(ldev));
	if (!drm_dev_enter(&ldev->drm, &idx)) {
		seq_puts(m, "power:\tunplugged\n");
		return 0;
	}
	if (pm_runtime_get_if_in_use(ldev->drm.dev) <= 0) {
		seq_puts(m, "power:\tsuspended\n");
		drm_dev_exit(idx);
		return 0;
	}
	seq_printf(m, "power:\t%u\nstatus:\t%#x\nring_head:\t%u\n",
		   lumen_read(ldev, LUMEN_REG_POWER_STATE),
		   lumen_read(ldev, LUMEN_REG_STATUS),
		   lumen_read(ldev, LUMEN_REG_RING_HEAD));
	seq_printf(m, "fault:\t%u op %u detail %u addr %#llx\n",
		   lumen_read(ldev, LUMEN_REG_FAULT_CODE),
		   lumen_read(ldev, LUMEN_REG_FAULT_OP),
		   lumen_read(ldev, LUMEN_REG_FAULT_DETAIL),
		   lumen_read64(ldev, LUMEN_REG_FAULT_ADDR));
	pm_runtime_put_autosuspend(ldev->drm.dev);
	drm_dev_exit(idx);
	return 0;
}

static int lumen_debugfs_counters(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct lumen_device *ldev = to_lumen_device(entry->dev);
	int i, idx;

	if (!drm_dev_enter(&ldev->drm, &idx))
		return -ENODEV;
	/*
	 * Counters are readable in every power state (hardware.rst), and the
	 * device has no PCI power management capability that could put it
	 * in D3hot: no PM reference needed.
	 */
	for (i = 0; i < ARRAY_SIZE(lumen_counters); i++)
		seq_printf(m, "%s:\t%llu\n", lumen_counters[i].name,
			   lumen_read64(ldev, lumen_counters[i].reg));
	drm_dev_exit(idx);
	return 0;
}

static int lumen_debugfs_objects(struct seq_file *m, void *data)
{
	struct drm_debugfs_entry *entry = m->private;
	struct lumen_objects *o = &to_lumen_device(entry->dev)->objects;

	seq_printf(m, "files:\t%d\nvms:\t%d\nbos:\t%d\n",
		   atomic_read(&o->files), atomic_read(&o->vms),
		   atomic_read(&o->bos));
	seq_printf(m, "mappings:\t%d\nprograms:\t%d\njobs:\t%d\n",
		   atomic_read(&o->mappings), atomic_read(&o->programs),
		   atomic_read(&o->jobs));
	return 0;
}

static const struct drm_debugfs_info lumen_debugfs_list[] = {
	{ "state", lumen_debugfs_state },
	{ "counters", lumen_debugfs_counters },
	{ "objects", lumen_debugfs_objects },
};

/*
 * The delay applies to every job from now on: write it to the device now
 * (waking it) and again after each reset (lumen_device_hw_init()).
 */
static int lumen_hook_delay_us(void *data, u64 val)
{
	struct lumen_device *ldev = data;
	int ret, idx;

	if (val > U32_MAX)
		return -EINVAL;
	if (!drm_dev_enter(&ldev->drm, &idx))
		return -ENODEV;
	ret = pm_runtime_resume_and_get(ldev->drm.dev);
	if (ret)
		goto out;
	scoped_guard(mutex, &ldev->reset_lock) {
		ldev->hooks.delay_us = val;
		lumen_write(ldev, LUMEN_REG_DBG_DELAY_US, val);
	}
	pm_runtime_put_autosuspend(ldev->drm.dev);
out:
	drm_dev_exit(idx);
	return ret;
}
DEFINE_DEBUGFS_ATTRIBUTE(lumen_hook_delay_us_fops, NULL, lumen_hook_delay_us,
			 "%llu\n");

/* One-shot hooks wait in the driver for the job or reset they are for. */
#define LUMEN_HOOK(name)						\
static int lumen_hook_##name(void *data, u64 val)			\
{									\
	struct lumen_device *ldev = data;				\
									\
	atomic_set(&ldev->hooks.name, !!val);				\
	return 0;							\
}									\
DEFINE_DEBUGFS_ATTRIBUTE(lumen_hook_##name##_fops, NULL,		\
			 lumen_hook_##name, "%llu\n")

LUMEN_HOOK(hang_next);
LUMEN_HOOK(fault_next);

/* 1: the recovery reset fails once and its retry succeeds; 2: both fail. */
static int lumen_hook_fail_reset(void *data, u64 val)
{
	struct lumen_device *ldev = data;

	atomic_set(&ldev->hooks.fail_reset, min_t(u64, val, 2));
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(lumen_hook_fail_reset_fops, NULL,
			 lumen_hook_fail_reset, "%llu\n");

static int lumen_hook_region0_va_next(void *data, u64 val)
{
	struct lumen_device *ldev = data;

	atomic64_set(&ldev->hooks.region0_va_next, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(lumen_hook_region0_va_next_fops, NULL,
			 lumen_hook_region0_va_next, "%llu\n");

/**
 * lumen_debugfs_init() - populate /sys/kernel/debug/accel/<device>/.
 * @ldev: the device, before drm_dev_register().
 *
 * Accel devices get no &drm_driver.debugfs_init call: the files are added
 * to the device's directory here, as ivpu does.
 */
void lumen_debugfs_init(struct lumen_device *ldev)
{
	struct dentry *root = ldev->drm.debugfs_root;

	drm_debugfs_add_files(&ldev->drm, lumen_debugfs_list,
			      ARRAY_SIZE(lumen_debugfs_list));
	/* The hooks are the device's: absent without its debug registers. */
	if (!root || !(ldev->caps & LUMEN_CAP_DEBUG))
		return;
	debugfs_create_file_unsafe("hang_next", 0200, root, ldev,
				   &lumen_hook_hang_next_fops);
	debugfs_create_file_unsafe("fault_next", 0200, root, ldev,
				   &lumen_hook_fault_next_fops);
	debugfs_create_file_unsafe("delay_us", 0200, root, ldev,
				   &lumen_hook_delay_us_fops);
	debugfs_create_file_unsafe("fail_reset", 0200, root, ldev,
				   &lumen_hook_fail_reset_fops);
	debugfs_create_file_unsafe("region0_va_next", 0200, root, ldev,
				   &lumen_hook_region0_va_next_fops);
}
