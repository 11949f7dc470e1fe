// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The program validator the compiler, the device model and the executor
 * share, built into the driver unchanged so all of them accept exactly the
 * same programs. Kbuild puts the repository's top on the include path.
 */
#include <hw/core/lumen_validate.c>
