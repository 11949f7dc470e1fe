// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * The page-table builder and the NPU address allocator. Translations are
 * checked by walking the raw tables the way hardware.rst says the device
 * does, not through lumen_pt_lookup().
 */

#include <kunit/test.h>
#include <linux/io.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include <drm/drm_mm.h>

#include "../lumen_mmu.h"

#define SZ_VA		BIT_ULL(LUMEN_VA_BITS)

/* Tables live in kernel memory; their "bus address" is the physical one. */
struct fake_tables {
	int allocs_left;	/* < 0: unlimited */
};

static u64 *fake_alloc(struct lumen_pt *pt, dma_addr_t *dma)
{
	struct fake_tables *ft = pt->priv;
	u64 *t;

	if (ft->allocs_left == 0)
		return NULL;
	if (ft->allocs_left > 0)
		ft->allocs_left--;
	t = (u64 *)get_zeroed_page(GFP_KERNEL);
	if (t)
		*dma = virt_to_phys(t);
	return t;
}

static void fake_free(struct lumen_pt *pt, u64 *table, dma_addr_t dma)
{
	free_page((unsigned long)table);
}

static const struct lumen_pt_ops fake_ops = {
	.alloc = fake_alloc,
	.free = fake_free,
};

/* The device's walk (hardware.rst): 0 when unmapped, else the address. */
static u64 hw_walk(const struct lumen_pt *pt, u64 va, u64 *page, u64 *flags)
{
	const u64 *table = pt->root->ptes;
	u64 pte;

	pte = table[(va >> 30) & 511];
	if (!(pte & LUMEN_PTE_VALID))
		return 0;
	table = phys_to_virt(pte & LUMEN_PTE_ADDR_MASK);
	pte = table[(va >> 21) & 511];
	if (!(pte & LUMEN_PTE_VALID))
		return 0;
	if (pte & LUMEN_PTE_LEAF) {
		*page = SZ_2M;
		*flags = pte & ~LUMEN_PTE_ADDR_MASK;
		return (pte & LUMEN_PTE_ADDR_MASK) + (va & (SZ_2M - 1));
	}
	table = phys_to_virt(pte & LUMEN_PTE_ADDR_MASK);
	pte = table[(va >> 12) & 511];
	if (!(pte & LUMEN_PTE_VALID))
		return 0;
	*page = SZ_4K;
	*flags = pte & ~LUMEN_PTE_ADDR_MASK;
	return (pte & LUMEN_PTE_ADDR_MASK) + (va & (SZ_4K - 1));
}

struct pt_fixture {
	struct fake_tables ft;
	struct lumen_pt pt;
};

static int pt_test_init(struct kunit *test)
{
	struct pt_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->ft.allocs_left = -1;
	KUNIT_ASSERT_EQ(test, lumen_pt_init(&f->pt, &fake_ops, &f->ft), 0);
	test->priv = f;
	return 0;
}

static void pt_test_exit(struct kunit *test)
{
	struct pt_fixture *f = test->priv;

	lumen_pt_fini(&f->pt);
	KUNIT_EXPECT_EQ(test, f->pt.tables, 0);
}

static void expect_mapped(struct kunit *test, struct lumen_pt *pt, u64 va,
			  u64 pa, u64 page, u64 prot)
{
	u64 got_page = 0, flags = 0;
	dma_addr_t lpa;
	u64 lpage;

	KUNIT_EXPECT_EQ_MSG(test, hw_walk(pt, va, &got_page, &flags), pa,
			    "va %#llx", va);
	KUNIT_EXPECT_EQ_MSG(test, got_page, page, "va %#llx", va);
	KUNIT_EXPECT_EQ_MSG(test, flags & LUMEN_PTE_WRITE, prot, "va %#llx", va);
	KUNIT_EXPECT_EQ(test, lumen_pt_lookup(pt, va, &lpa, &lpage), 0);
	KUNIT_EXPECT_EQ(test, (u64)lpa, pa);
	KUNIT_EXPECT_EQ(test, lpage, page);
}

static void expect_unmapped(struct kunit *test, struct lumen_pt *pt, u64 va)
{
	u64 page, flags;
	dma_addr_t pa;

	KUNIT_EXPECT_EQ_MSG(test, hw_walk(pt, va, &page, &flags), 0ULL,
			    "va %#llx", va);
	KUNIT_EXPECT_EQ(test, lumen_pt_lookup(pt, va, &pa, NULL), -ENOENT);
}

static void pt_map_4k(struct kunit *test)
{
	struct pt_fixture *f = test->priv;
	u64 va = SZ_2M + SZ_4K, pa = 0x123456000ULL;
	int i;

	KUNIT_ASSERT_EQ(test, lumen_pt_map(&f->pt, va, pa, 3 * SZ_4K, 0), 0);
	for (i = 0; i < 3; i++)
		expect_mapped(test, &f->pt, va + i * SZ_4K + 0x10,
			      pa + i * SZ_4K + 0x10, SZ_4K, 0);
	expect_unmapped(test, &f->pt, va - SZ_4K);
	expect_unmapped(test, &f->pt, va + 3 * SZ_4K);
	/* root, one level-2 and one level-3 table */
	KUNIT_EXPECT_EQ(test, f->pt.tables, 3);
}

static void pt_map_2m(struct kunit *test)
{
	struct pt_fixture *f = test->priv;
	u64 va = 3ULL << 30, pa = 0x40000000ULL;
	u64 size = 2 * SZ_2M + 2 * SZ_4K;

	KUNIT_ASSERT_EQ(test, lumen_pt_map(&f->pt, va, pa, size,
					   LUMEN_PTE_WRITE), 0);
	expect_mapped(test, &f->pt, va, pa, SZ_2M, LUMEN_PTE_WRITE);
	expect_mapped(test, &f->pt, va + SZ_2M + 0x777, pa + SZ_2M + 0x777,
		      SZ_2M, LUMEN_PTE_WRITE);
	expect_mapped(test, &f->pt, va + 2 * SZ_2M + SZ_4K,
		      pa + 2 * SZ_2M + SZ_4K, SZ_4K, LUMEN_PTE_WRITE);
	expect_unmapped(test, &f->pt, va + 2 * SZ_2M + 2 * SZ_4K);
	KUNIT_EXPECT_EQ(test, f->pt.tables, 3);
}

static void pt_map_unaligned_pa_uses_4k(struct kunit *test)
{
	struct pt_fixture *f = test->priv;
	u64 va = SZ_1G, pa = SZ_1G + SZ_4K;

	KUNIT_ASSERT_EQ(test, lumen_pt_map(&f->pt, va, pa, SZ_2M, 0), 0);
	expect_mapped(test, &f->pt, va, pa, SZ_4K, 0);
	expect_mapped(test, &f->pt, va + SZ_2M - SZ_4K, pa + SZ_2M - SZ_4K,
		      SZ_4K, 0);
}

static void pt_unmap_splits_2m(struct kunit *test)
{
	struct pt_fixture *f = test->priv;
	u64 va = SZ_1G, pa = 0x80000000ULL;

	KUNIT_ASSERT_EQ(test, lumen_pt_map(&f->pt, va, pa, SZ_2M,
					   LUMEN_PTE_WRITE), 0);
	KUNIT_ASSERT_EQ(test, lumen_pt_unmap(&f->pt, va + 16 * SZ_4K,
					     2 * SZ_4K), 0);
	/* The rest of the 2 MiB page stays, now as 4 KiB pages. */
	expect_mapped(test, &f->pt, va, pa, SZ_4K, LUMEN_PTE_WRITE);
	expect_mapped(test, &f->pt, va + 15 * SZ_4K, pa + 15 * SZ_4K, SZ_4K,
		      LUMEN_PTE_WRITE);
	expect_unmapped(test, &f->pt, va + 16 * SZ_4K);
	expect_unmapped(test, &f->pt, va + 17 * SZ_4K + 8);
	expect_mapped(test, &f->pt, va + 18 * SZ_4K, pa + 18 * SZ_4K, SZ_4K,
		      LUMEN_PTE_WRITE);
	expect_mapped(test, &f->pt, va + SZ_2M - SZ_4K, pa + SZ_2M - SZ_4K,
		      SZ_4K, LUMEN_PTE_WRITE);
}

static void pt_unmap_frees_tables(struct kunit *test)
{
	struct pt_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, lumen_pt_map(&f->pt, SZ_2M, 0x200000, 4 * SZ_2M +
					   SZ_4K, 0), 0);
	KUNIT_ASSERT_EQ(test, lumen_pt_map(&f->pt, 5ULL << 30, 0x1000,
					   SZ_4K, 0), 0);
	KUNIT_EXPECT_EQ(test, f->pt.tables, 5);
	KUNIT_EXPECT_EQ(test, lumen_pt_unmap(&f->pt, SZ_2M, 4 * SZ_2M + SZ_4K), 0);
	expect_unmapped(test, &f->pt, SZ_2M);
	expect_mapped(test, &f->pt, 5ULL << 30, 0x1000, SZ_4K, 0);
	KUNIT_EXPECT_EQ(test, f->pt.tables, 3);
	KUNIT_EXPECT_EQ(test, lumen_pt_unmap(&f->pt, 5ULL << 30, SZ_4K), 0);
	KUNIT_EXPECT_EQ(test, f->pt.tables, 1);
	/* Unmapping holes is fine. */
	KUNIT_EXPECT_EQ(test, lumen_pt_unmap(&f->pt, 0, SZ_1G), 0);
	KUNIT_EXPECT_EQ(test, f->pt.tables, 1);
}

static void pt_map_overlap_rejected(struct kunit *test)
{
	struct pt_fixture *f = test->priv;

	KUNIT_ASSERT_EQ(test, lumen_pt_map(&f->pt, SZ_2M, 0x10000000,
					   SZ_2M, 0), 0);
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, SZ_2M - SZ_4K, 0x20000000,
					   2 * SZ_4K, 0), -EEXIST);
	/* The failed map left nothing behind and changed nothing. */
	expect_unmapped(test, &f->pt, SZ_2M - SZ_4K);
	expect_mapped(test, &f->pt, SZ_2M, 0x10000000, SZ_2M, 0);
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, SZ_4M - SZ_4K, 0x20000000,
					   SZ_4K, 0), -EEXIST);
	KUNIT_EXPECT_EQ(test, f->pt.tables, 2);
}

static void pt_exhaustion_rolls_back(struct kunit *test)
{
	struct pt_fixture *f = test->priv;
	u64 va = (2ULL << 30) - 4 * SZ_4K;

	/* Crossing a 1 GiB boundary in 4 KiB pages needs four tables. */
	f->ft.allocs_left = 3;
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, va, 0x5000, 8 * SZ_4K, 0),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, f->pt.tables, 1);
	expect_unmapped(test, &f->pt, va);

	f->ft.allocs_left = 4;
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, va, 0x5000, 8 * SZ_4K, 0), 0);
	expect_mapped(test, &f->pt, va + 7 * SZ_4K, 0x5000 + 7 * SZ_4K, SZ_4K, 0);

	/* A split that cannot get its table fails and keeps the 2 MiB page. */
	f->ft.allocs_left = -1;
	KUNIT_ASSERT_EQ(test, lumen_pt_map(&f->pt, 4ULL << 30, 0x40000000,
					   SZ_2M, 0), 0);
	f->ft.allocs_left = 0;
	KUNIT_EXPECT_EQ(test, lumen_pt_unmap(&f->pt, 4ULL << 30, SZ_4K),
			-ENOMEM);
	expect_mapped(test, &f->pt, 4ULL << 30, 0x40000000, SZ_2M, 0);
}

static void pt_bad_ranges(struct kunit *test)
{
	struct pt_fixture *f = test->priv;

	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, 0x800, 0, SZ_4K, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, 0, 0x800, SZ_4K, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, 0, 0, 0x800, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, 0, 0, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, SZ_VA - SZ_4K, 0, 2 * SZ_4K,
					   0), -EINVAL);
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, SZ_VA, 0, SZ_4K, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, 0, 0, SZ_4K,
					   LUMEN_PTE_LEAF), -EINVAL);
	KUNIT_EXPECT_EQ(test, lumen_pt_unmap(&f->pt, ~0ULL & ~(SZ_4K - 1),
					     SZ_4K), -EINVAL);
	KUNIT_EXPECT_EQ(test, f->pt.tables, 1);
	/* The last page of the space is fine. */
	KUNIT_EXPECT_EQ(test, lumen_pt_map(&f->pt, SZ_VA - SZ_4K, 0, SZ_4K, 0), 0);
	expect_mapped(test, &f->pt, SZ_VA - 1, SZ_4K - 1, SZ_4K, 0);
}

static struct kunit_case lumen_pt_cases[] = {
	KUNIT_CASE(pt_map_4k),
	KUNIT_CASE(pt_map_2m),
	KUNIT_CASE(pt_map_unaligned_pa_uses_4k),
	KUNIT_CASE(pt_unmap_splits_2m),
	KUNIT_CASE(pt_unmap_frees_tables),
	KUNIT_CASE(pt_map_overlap_rejected),
	KUNIT_CASE(pt_exhaustion_rolls_back),
	KUNIT_CASE(pt_bad_ranges),
	{}
};

static struct kunit_suite lumen_pt_suite = {
	.name = "lumen_page_tables",
	.init = pt_test_init,
	.exit = pt_test_exit,
	.test_cases = lumen_pt_cases,
};

static void va_alloc_placement(struct kunit *test)
{
	struct drm_mm_node a = {}, b = {}, c = {};
	struct drm_mm mm;

	lumen_va_init(&mm);
	KUNIT_ASSERT_EQ(test, lumen_va_alloc(&mm, SZ_4K, &a), 0);
	KUNIT_EXPECT_GE(test, a.start, (u64)SZ_2M);	/* never address 0 */
	KUNIT_ASSERT_EQ(test, lumen_va_alloc(&mm, SZ_2M + SZ_4K, &b), 0);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(b.start, SZ_2M));
	KUNIT_ASSERT_EQ(test, lumen_va_alloc(&mm, 3 * SZ_4K, &c), 0);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(c.start, SZ_4K));
	/* Disjoint ranges. */
	KUNIT_EXPECT_TRUE(test, a.start + a.size <= b.start ||
			  b.start + b.size <= a.start);
	KUNIT_EXPECT_TRUE(test, c.start + c.size <= b.start ||
			  b.start + b.size <= c.start);
	KUNIT_EXPECT_TRUE(test, c.start + c.size <= a.start ||
			  a.start + a.size <= c.start);
	KUNIT_EXPECT_LE(test, b.start + b.size, SZ_VA);
	drm_mm_remove_node(&a);
	drm_mm_remove_node(&b);
	drm_mm_remove_node(&c);
	drm_mm_takedown(&mm);
}

static void va_alloc_rejects_bad_sizes(struct kunit *test)
{
	struct drm_mm_node a = {};
	struct drm_mm mm;

	lumen_va_init(&mm);
	KUNIT_EXPECT_EQ(test, lumen_va_alloc(&mm, 0, &a), -EINVAL);
	KUNIT_EXPECT_EQ(test, lumen_va_alloc(&mm, SZ_4K + 1, &a), -EINVAL);
	drm_mm_takedown(&mm);
}

static void va_alloc_exhaustion(struct kunit *test)
{
	struct drm_mm_node all = {}, more = {}, big = {};
	struct drm_mm mm;

	lumen_va_init(&mm);
	KUNIT_EXPECT_EQ(test, lumen_va_alloc(&mm, SZ_VA, &big), -ENOSPC);
	KUNIT_ASSERT_EQ(test, lumen_va_alloc(&mm, SZ_VA - SZ_2M, &all), 0);
	KUNIT_EXPECT_EQ(test, all.start, (u64)SZ_2M);
	KUNIT_EXPECT_EQ(test, lumen_va_alloc(&mm, SZ_4K, &more), -ENOSPC);
	drm_mm_remove_node(&all);
	KUNIT_EXPECT_EQ(test, lumen_va_alloc(&mm, SZ_4K, &more), 0);
	drm_mm_remove_node(&more);
	drm_mm_takedown(&mm);
}

static struct kunit_case lumen_va_cases[] = {
	KUNIT_CASE(va_alloc_placement),
	KUNIT_CASE(va_alloc_rejects_bad_sizes),
	KUNIT_CASE(va_alloc_exhaustion),
	{}
};

static struct kunit_suite lumen_va_suite = {
	.name = "lumen_va_alloc",
	.test_cases = lumen_va_cases,
};

kunit_test_suites(&lumen_pt_suite, &lumen_va_suite);
