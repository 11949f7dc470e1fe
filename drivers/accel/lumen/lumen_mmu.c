// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Building NPU page tables and picking NPU addresses. Tables are only
 * edited through &struct lumen_pt_ops, so the KUnit tests run this file on
 * plain memory; lumen_vm.c gives it DMA memory and invalidates the TLB.
 */

#include <linux/align.h>
#include <linux/bits.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include <drm/drm_mm.h>

#include <kunit/visibility.h>

#include "lumen_mmu.h"

#define PT_SHIFT(level)		(LUMEN_PT_L1_SHIFT - 9 * (level))
#define PT_SPAN(level)		(1ULL << PT_SHIFT(level))

static unsigned int pt_index(u64 va, int level)
{
	return (va >> PT_SHIFT(level)) & (LUMEN_PT_ENTRIES - 1);
}

static struct lumen_pt_node *pt_node_alloc(struct lumen_pt *pt, int level)
{
	struct lumen_pt_node *node;

	node = kzalloc(sizeof(*node), GFP_KERNEL);
	if (!node)
		return NULL;
	if (level < LUMEN_PT_LEVELS - 1) {
		node->child = kcalloc(LUMEN_PT_ENTRIES, sizeof(*node->child),
				      GFP_KERNEL);
		if (!node->child)
			goto err_free_node;
	}
	node->ptes = pt->ops->alloc(pt, &node->dma);
	if (!node->ptes)
		goto err_free_child;
	pt->tables++;
	return node;

err_free_child:
	kfree(node->child);
err_free_node:
	kfree(node);
	return NULL;
}

static void pt_node_free(struct lumen_pt *pt, struct lumen_pt_node *node)
{
	pt->ops->free(pt, node->ptes, node->dma);
	kfree(node->child);
	kfree(node);
	pt->tables--;
}

static void pt_set(struct lumen_pt *pt, struct lumen_pt_node *node,
		   unsigned int idx, u64 pte)
{
	u64 old = node->ptes[idx];

	if (!old && pte)
		node->used++;
	else if (old && !pte)
		node->used--;
	WRITE_ONCE(node->ptes[idx], pte);
	if (pt->ops->sync)
		pt->ops->sync(pt, node->ptes, idx, idx);
}

static u64 pt_table_pte(const struct lumen_pt_node *node)
{
	return (node->dma & LUMEN_PTE_ADDR_MASK) | LUMEN_PTE_VALID;
}

/* The table below entry @idx of @node, created when the entry is empty. */
static struct lumen_pt_node *pt_walk_alloc(struct lumen_pt *pt,
					   struct lumen_pt_node *node,
					   unsigned int idx, int child_level)
{
	struct lumen_pt_node *child = node->child[idx];

	if (child)
		return child;
	if (node->ptes[idx])
		return ERR_PTR(-EEXIST);	/* a 2 MiB page is there */
	child = pt_node_alloc(pt, child_level);
	if (!child)
		return ERR_PTR(-ENOMEM);
	node->child[idx] = child;
	pt_set(pt, node, idx, pt_table_pte(child));
	return child;
}

/* Drop the tables on the way to @va that no longer hold any entry. */
static void pt_prune(struct lumen_pt *pt, u64 va)
{
	unsigned int i0 = pt_index(va, 0), i1 = pt_index(va, 1);
	struct lumen_pt_node *l1 = pt->root->child[i0];
	struct lumen_pt_node *l2;

	if (!l1)
		return;
	l2 = l1->child[i1];
	if (l2 && !l2->used) {
		l1->child[i1] = NULL;
		pt_set(pt, l1, i1, 0);
		pt_node_free(pt, l2);
	}
	if (!l1->used) {
		pt->root->child[i0] = NULL;
		pt_set(pt, pt->root, i0, 0);
		pt_node_free(pt, l1);
	}
}

static bool pt_range_ok(u64 va, u64 size)
{
	return size && IS_ALIGNED(va | size, LUMEN_PT_PAGE_4K) &&
	       va < LUMEN_PT_VA_SIZE && size <= LUMEN_PT_VA_SIZE - va;
}

/**
 * lumen_pt_init() - set up an empty address space.
 * @pt: the page tables.
 * @ops: where tables come from.
 * @priv: for @ops.
 *
 * Return: 0 or -ENOMEM.
 */
int lumen_pt_init(struct lumen_pt *pt, const struct lumen_pt_ops *ops,
		  void *priv)
{
	pt->ops = ops;
	pt->priv = priv;
	pt->tables = 0;
	pt->root = pt_node_alloc(pt, 0);
	return pt->root ? 0 : -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_pt_init);

static void pt_free_tree(struct lumen_pt *pt, struct lumen_pt_node *node)
{
	unsigned int i;

	if (node->child) {
		for (i = 0; i < LUMEN_PT_ENTRIES; i++)
			if (node->child[i])
				pt_free_tree(pt, node->child[i]);
	}
	pt_node_free(pt, node);
}

/**
 * lumen_pt_fini() - free every table, whatever is still mapped.
 * @pt: the page tables.
 */
void lumen_pt_fini(struct lumen_pt *pt)
{
	if (pt->root)
		pt_free_tree(pt, pt->root);
	pt->root = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_pt_fini);

/**
 * lumen_pt_map() - map physically contiguous memory.
 * @pt: the page tables.
 * @va: NPU address, 4 KiB aligned.
 * @pa: device address of the memory, 4 KiB aligned.
 * @size: bytes, a multiple of 4 KiB.
 * @prot: %LUMEN_PTE_WRITE when jobs may write the memory, else 0.
 *
 * Uses a 2 MiB page wherever @va and @pa are both 2 MiB aligned and 2 MiB
 * remain, 4 KiB pages elsewhere. The range must be unmapped. On failure
 * nothing of the range stays mapped.
 *
 * Return: 0, -EINVAL for a bad range, -EEXIST when something is mapped
 * there, -ENOMEM when a table cannot be allocated.
 */
int lumen_pt_map(struct lumen_pt *pt, u64 va, dma_addr_t pa, u64 size,
		 u64 prot)
{
	struct lumen_pt_node *l1, *l2;
	u64 done = 0;
	int err;

	if (!pt_range_ok(va, size) || !IS_ALIGNED(pa, LUMEN_PT_PAGE_4K) ||
	    (prot & ~LUMEN_PTE_WRITE))
		return -EINVAL;

	while (done < size) {
		u64 cva = va + done, cpa = pa + done;
		unsigned int i1 = pt_index(cva, 1), i2 = pt_index(cva, 2);

		l1 = pt_walk_alloc(pt, pt->root, pt_index(cva, 0), 1);
		if (IS_ERR(l1)) {
			err = PTR_ERR(l1);
			goto err_undo;
		}
		if (IS_ALIGNED(cva | cpa, LUMEN_PT_PAGE_2M) &&
		    size - done >= LUMEN_PT_PAGE_2M) {
			if (l1->ptes[i1]) {
				err = -EEXIST;
				goto err_undo;
			}
			pt_set(pt, l1, i1, (cpa & LUMEN_PTE_ADDR_MASK) | prot |
			       LUMEN_PTE_VALID | LUMEN_PTE_LEAF);
			done += LUMEN_PT_PAGE_2M;
			continue;
		}
		l2 = pt_walk_alloc(pt, l1, i1, 2);
		if (IS_ERR(l2)) {
			err = PTR_ERR(l2);
			goto err_undo;
		}
		if (l2->ptes[i2]) {
			err = -EEXIST;
			goto err_undo;
		}
		pt_set(pt, l2, i2, (cpa & LUMEN_PTE_ADDR_MASK) | prot |
		       LUMEN_PTE_VALID);
		done += LUMEN_PT_PAGE_4K;
	}
	return 0;

err_undo:
	pt_prune(pt, va + done);
	if (done)
		lumen_pt_unmap(pt, va, done);
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_pt_map);

/* Turn the 2 MiB page at @l1[@i1] into a table of 512 4 KiB pages. */
static int pt_split(struct lumen_pt *pt, struct lumen_pt_node *l1,
		    unsigned int i1)
{
	u64 base = l1->ptes[i1] & LUMEN_PTE_ADDR_MASK;
	u64 prot = l1->ptes[i1] & LUMEN_PTE_WRITE;
	struct lumen_pt_node *l2;
	unsigned int i;

	l2 = pt_node_alloc(pt, 2);
	if (!l2)
		return -ENOMEM;
	for (i = 0; i < LUMEN_PT_ENTRIES; i++)
		pt_set(pt, l2, i, (base + i * LUMEN_PT_PAGE_4K) | prot |
		       LUMEN_PTE_VALID);
	/* The table is complete before the device can walk into it. */
	l1->child[i1] = l2;
	pt_set(pt, l1, i1, pt_table_pte(l2));
	return 0;
}

/**
 * lumen_pt_unmap() - remove the translations of a range.
 * @pt: the page tables.
 * @va: NPU address, 4 KiB aligned.
 * @size: bytes, a multiple of 4 KiB.
 *
 * Holes in the range are fine. A 2 MiB page only partly inside the range is
 * split first, keeping the part outside mapped. Tables left empty are freed.
 * The caller invalidates the device's TLB.
 *
 * Return: 0, -EINVAL for a bad range, -ENOMEM when a split needs a table
 * (the range is then partly unmapped).
 */
int lumen_pt_unmap(struct lumen_pt *pt, u64 va, u64 size)
{
	u64 end = va + size;
	int err;

	if (!pt_range_ok(va, size))
		return -EINVAL;

	while (va < end) {
		unsigned int i0 = pt_index(va, 0), i1 = pt_index(va, 1);
		struct lumen_pt_node *l1 = pt->root->child[i0];
		u64 next1 = ALIGN_DOWN(va, PT_SPAN(1)) + PT_SPAN(1);
		u64 stop = min(end, next1);
		struct lumen_pt_node *l2;

		if (!l1) {
			va = min(end, ALIGN_DOWN(va, PT_SPAN(0)) + PT_SPAN(0));
			continue;
		}
		if (l1->ptes[i1] & LUMEN_PTE_LEAF) {
			if (IS_ALIGNED(va, PT_SPAN(1)) && stop == next1) {
				pt_set(pt, l1, i1, 0);
				va = stop;
				pt_prune(pt, va - 1);
				continue;
			}
			err = pt_split(pt, l1, i1);
			if (err)
				return err;
		}
		l2 = l1->child[i1];
		if (l2) {
			for (; va < stop; va += LUMEN_PT_PAGE_4K)
				pt_set(pt, l2, pt_index(va, 2), 0);
		}
		va = stop;
		pt_prune(pt, va - 1);
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_pt_unmap);

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * lumen_pt_lookup() - translate one NPU address.
 * @pt: the page tables.
 * @va: NPU address.
 * @pa: out: the device address it reaches.
 * @page_size: out: 4 KiB or 2 MiB, the page it lies in (may be NULL).
 *
 * The device's walk, done by the CPU: only the KUnit tests need it.
 *
 * Return: 0, or -ENOENT when @va is not mapped.
 */
int lumen_pt_lookup(const struct lumen_pt *pt, u64 va, dma_addr_t *pa,
		    u64 *page_size)
{
	const struct lumen_pt_node *l1, *l2;
	u64 pte;

	if (va >= LUMEN_PT_VA_SIZE)
		return -ENOENT;
	l1 = pt->root->child[pt_index(va, 0)];
	if (!l1)
		return -ENOENT;
	pte = l1->ptes[pt_index(va, 1)];
	if (pte & LUMEN_PTE_LEAF) {
		*pa = (pte & LUMEN_PTE_ADDR_MASK) + (va & (LUMEN_PT_PAGE_2M - 1));
		if (page_size)
			*page_size = LUMEN_PT_PAGE_2M;
		return 0;
	}
	l2 = l1->child[pt_index(va, 1)];
	if (!l2)
		return -ENOENT;
	pte = l2->ptes[pt_index(va, 2)];
	if (!(pte & LUMEN_PTE_VALID))
		return -ENOENT;
	*pa = (pte & LUMEN_PTE_ADDR_MASK) + (va & (LUMEN_PT_PAGE_4K - 1));
	if (page_size)
		*page_size = LUMEN_PT_PAGE_4K;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_pt_lookup);
#endif

/**
 * lumen_va_alloc() - pick NPU addresses for a buffer.
 * @mm: the allocator.
 * @size: bytes, page aligned.
 * @node: out: the range.
 *
 * Buffers of 2 MiB or more start 2 MiB aligned so the MMU can use 2 MiB
 * pages wherever their memory is contiguous enough.
 *
 * Return: 0, -EINVAL for a zero or unaligned size, -ENOSPC when the space
 * is full.
 */
int lumen_va_alloc(struct drm_mm *mm, u64 size, struct drm_mm_node *node)
{
	u64 align = size >= SZ_2M ? SZ_2M : PAGE_SIZE;

	if (!size || !IS_ALIGNED(size, PAGE_SIZE))
		return -EINVAL;
	return drm_mm_insert_node_generic(mm, node, size, align, 0,
					  DRM_MM_INSERT_BEST);
}
EXPORT_SYMBOL_IF_KUNIT(lumen_va_alloc);

/**
 * lumen_va_init() - an empty allocator spanning the NPU address space.
 * @mm: the allocator.
 */
void lumen_va_init(struct drm_mm *mm)
{
	drm_mm_init(mm, LUMEN_VA_START, LUMEN_PT_VA_SIZE - LUMEN_VA_START);
}
EXPORT_SYMBOL_IF_KUNIT(lumen_va_init);
