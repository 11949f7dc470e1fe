/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_VM_H__
#define __LUMEN_VM_H__

#include <drm/drm_mm.h>

struct lumen_device;
struct lumen_vm;

struct lumen_vm *lumen_vm_create(struct lumen_device *ldev);
void lumen_vm_put(struct lumen_vm *vm);
void lumen_vm_flush(struct lumen_vm *vm);
int lumen_vm_activate(struct lumen_vm *vm);
void lumen_vm_idle(struct lumen_vm *vm);
void lumen_vm_restore(struct lumen_device *ldev);
void lumen_vms_unplug(struct lumen_device *ldev);

#endif /* __LUMEN_VM_H__ */
