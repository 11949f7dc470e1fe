// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * The completion vector each CPU's jobs ask for, from the affinity masks
 * the IRQ core gave the extra completion vectors: the vector whose mask
 * holds the CPU (the first one when masks overlap), and the v1
 * completion vector for a CPU no mask holds.
 */

#include <kunit/test.h>
#include <linux/cpumask.h>

#include "../lumen_device.h"
#include "../lumen_regs.h"

static struct cpumask *mask_of(struct kunit *test, int first, int last)
{
	struct cpumask *m = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);
	int cpu;

	KUNIT_ASSERT_NOT_NULL(test, m);
	for (cpu = first; cpu <= last && cpu < nr_cpu_ids; cpu++)
		cpumask_set_cpu(cpu, m);
	return m;
}

static u8 *map_new(struct kunit *test)
{
	u8 *map = kunit_kzalloc(test, nr_cpu_ids, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, map);
	memset(map, 0xee, nr_cpu_ids);
	return map;
}

static void irq_map_each_cpu_its_vector(struct kunit *test)
{
	const struct cpumask *masks[2];
	u8 *map = map_new(test);
	int cpu;

	masks[0] = mask_of(test, 0, 0);
	masks[1] = mask_of(test, 1, nr_cpu_ids - 1);
	lumen_irq_map_cpus(map, masks, 2);
	KUNIT_EXPECT_EQ(test, map[0], LUMEN_MSIX_JOB_FIRST);
	for (cpu = 1; cpu < nr_cpu_ids; cpu++)
		KUNIT_EXPECT_EQ(test, map[cpu], LUMEN_MSIX_JOB_FIRST + 1);
}

static void irq_map_uncovered_cpu_gets_vector0(struct kunit *test)
{
	const struct cpumask *masks[3];
	u8 *map = map_new(test);
	int cpu;

	/* no mask holds CPU 0; a NULL mask and an empty one hold nothing */
	masks[0] = NULL;
	masks[1] = mask_of(test, 1, 0);
	masks[2] = mask_of(test, 1, nr_cpu_ids - 1);
	lumen_irq_map_cpus(map, masks, 3);
	KUNIT_EXPECT_EQ(test, map[0], LUMEN_MSIX_COMPLETION);
	for (cpu = 1; cpu < nr_cpu_ids; cpu++)
		KUNIT_EXPECT_EQ(test, map[cpu], LUMEN_MSIX_JOB_FIRST + 2);
	/* no vectors at all: every CPU on vector 0 */
	lumen_irq_map_cpus(map, masks, 0);
	for (cpu = 0; cpu < nr_cpu_ids; cpu++)
		KUNIT_EXPECT_EQ(test, map[cpu], LUMEN_MSIX_COMPLETION);
}

static void irq_map_overlap_takes_the_first(struct kunit *test)
{
	const struct cpumask *masks[2];
	u8 *map = map_new(test);
	int cpu;

	masks[0] = mask_of(test, 0, nr_cpu_ids - 1);
	masks[1] = mask_of(test, 0, nr_cpu_ids - 1);
	lumen_irq_map_cpus(map, masks, 2);
	for (cpu = 0; cpu < nr_cpu_ids; cpu++)
		KUNIT_EXPECT_EQ(test, map[cpu], LUMEN_MSIX_JOB_FIRST);
}

static struct kunit_case lumen_irq_cases[] = {
	KUNIT_CASE(irq_map_each_cpu_its_vector),
	KUNIT_CASE(irq_map_uncovered_cpu_gets_vector0),
	KUNIT_CASE(irq_map_overlap_takes_the_first),
	{}
};

static struct kunit_suite lumen_irq_suite = {
	.name = "lumen_irq",
	.test_cases = lumen_irq_cases,
};

kunit_test_suite(lumen_irq_suite);
