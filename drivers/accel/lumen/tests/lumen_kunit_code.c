// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * The driver code the KUnit tests exercise, compiled into the test module
 * itself: it needs no device, and the tests then need neither the driver
 * module nor exported symbols.
 */

#include <linux/module.h>

#include "../lumen_check.c"
#include "../lumen_mmu.c"
#include <hw/core/lumen_validate.c>

MODULE_DESCRIPTION("KUnit tests for the Lumen NPU driver");
MODULE_LICENSE("Dual MIT/GPL");
