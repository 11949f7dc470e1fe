// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * The KUnit tests of the parts of the Lumen driver that need no device.
 * They call into lumen.ko through the symbols it exports for KUnit only
 * (EXPORT_SYMBOL_IF_KUNIT).
 */

#include <linux/module.h>

MODULE_DESCRIPTION("KUnit tests for the Lumen NPU driver");
MODULE_LICENSE("Dual MIT/GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
