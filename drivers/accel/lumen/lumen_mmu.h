/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_MMU_H__
#define __LUMEN_MMU_H__

#include <linux/bits.h>
#include <linux/types.h>

#include "lumen_regs.h"

/*
 * NPU page tables (hardware.rst): three levels of 512 entries, one 4 KiB
 * table each, translate a 39-bit NPU address. A level-2 entry either points
 * to a level-3 table of 4 KiB pages or is itself a 2 MiB page. Levels are
 * counted from 0 here: index 0 is the root.
 */
#define LUMEN_PT_LEVELS		3
#define LUMEN_PT_VA_SIZE	BIT_ULL(LUMEN_VA_BITS)
#define LUMEN_PT_PAGE_4K	BIT_ULL(LUMEN_PAGE_SHIFT)
#define LUMEN_PT_PAGE_2M	BIT_ULL(LUMEN_HUGE_SHIFT)
/*
 * NPU addresses start at 2 MiB: address 0 never names a buffer, and a
 * stray small offset from 0 faults.
 */
#define LUMEN_VA_START		LUMEN_PT_PAGE_2M

struct lumen_pt;

/**
 * struct lumen_pt_ops - where page tables live.
 * @alloc: return a zeroed 4 KiB table and its device address, or NULL.
 * @free: give a table back.
 * @sync: called after the CPU wrote entries @first..@last of @table, so a
 *	non-coherent backend can flush them (may be NULL).
 */
struct lumen_pt_ops {
	u64 *(*alloc)(struct lumen_pt *pt, dma_addr_t *dma);
	void (*free)(struct lumen_pt *pt, u64 *table, dma_addr_t dma);
	void (*sync)(struct lumen_pt *pt, u64 *table, unsigned int first,
		     unsigned int last);
};

/**
 * struct lumen_pt_node - one table and what the CPU remembers of it.
 * @ptes: the entries the device reads.
 * @dma: device address of @ptes.
 * @child: tables the entries point to (levels 0 and 1 only).
 * @used: entries that are not zero.
 */
struct lumen_pt_node {
	u64 *ptes;
	dma_addr_t dma;
	struct lumen_pt_node **child;
	unsigned int used;
};

/**
 * struct lumen_pt - the page tables of one NPU address space.
 * @ops: table allocator.
 * @priv: for @ops.
 * @root: level-0 table; its @dma is what the device is given.
 * @tables: tables allocated, the root included.
 */
struct lumen_pt {
	const struct lumen_pt_ops *ops;
	void *priv;
	struct lumen_pt_node *root;
	unsigned int tables;
};

int lumen_pt_init(struct lumen_pt *pt, const struct lumen_pt_ops *ops,
		  void *priv);
void lumen_pt_fini(struct lumen_pt *pt);
int lumen_pt_map(struct lumen_pt *pt, u64 va, dma_addr_t pa, u64 size,
		 u64 prot);
int lumen_pt_unmap(struct lumen_pt *pt, u64 va, u64 size);
#if IS_ENABLED(CONFIG_KUNIT)
int lumen_pt_lookup(const struct lumen_pt *pt, u64 va, dma_addr_t *pa,
		    u64 *page_size);
#endif

struct drm_mm;
struct drm_mm_node;

void lumen_va_init(struct drm_mm *mm);
int lumen_va_alloc(struct drm_mm *mm, u64 size, struct drm_mm_node *node);

#endif /* __LUMEN_MMU_H__ */
