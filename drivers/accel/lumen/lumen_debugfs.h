/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_DEBUGFS_H__
#define __LUMEN_DEBUGFS_H__

#include <linux/kconfig.h>

struct lumen_device;

#if IS_ENABLED(CONFIG_DEBUG_FS)
void lumen_debugfs_init(struct lumen_device *ldev);
#else
static inline void lumen_debugfs_init(struct lumen_device *ldev)
{
}
#endif

#endif /* __LUMEN_DEBUGFS_H__ */
