/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_DEVICE_H__
#define __LUMEN_DEVICE_H__

#include <linux/types.h>

struct cpumask;
struct device;
struct drm_lumen_counters;
struct lumen_device;

int lumen_device_init(struct lumen_device *ldev);
int lumen_device_fini(struct lumen_device *ldev);
int lumen_device_reset(struct lumen_device *ldev, unsigned int fail);
int lumen_device_irq_init(struct lumen_device *ldev);
void lumen_irq_map_cpus(u8 *cpu_vector, const struct cpumask *const *masks,
			unsigned int count);
void lumen_device_counters(struct lumen_device *ldev,
			   struct drm_lumen_counters *c);

int lumen_runtime_suspend(struct device *dev);
int lumen_runtime_resume(struct device *dev);

#endif /* __LUMEN_DEVICE_H__ */
