/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_TEST_H__
#define __LUMEN_TEST_H__

#include <drm/lumen_accel.h>
#include <drm/lumen_isa.h>

#include <hw/core/lumen_validate.h>

#include "../lumen_check.h"
#include "../lumen_mmu.h"

#endif /* __LUMEN_TEST_H__ */
