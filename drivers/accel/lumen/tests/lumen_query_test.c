// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * DEV_QUERY's rules (lumen_accel.h, struct drm_lumen_dev_query): which
 * types and sizes are refused with which errno, and how an answer reaches
 * callers built against older and newer headers.
 */

#include <kunit/test.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <drm/lumen_accel.h>

#include "../lumen_check.h"
#include "../lumen_drv.h"

static void query_types(struct kunit *test)
{
	struct drm_lumen_dev_query q = {};

	/* A size probe needs a known type only. */
	q.type = DRM_LUMEN_QUERY_INFO;
	KUNIT_EXPECT_EQ(test, lumen_query_check(&q), 0);
	q.type = DRM_LUMEN_QUERY_COUNTERS;
	q.size = U32_MAX;
	KUNIT_EXPECT_EQ(test, lumen_query_check(&q), 0);
	q.type = DRM_LUMEN_QUERY_HEALTH;
	KUNIT_EXPECT_EQ(test, lumen_query_check(&q), 0);
	q.type = DRM_LUMEN_QUERY_HEALTH + 1;
	KUNIT_EXPECT_EQ(test, lumen_query_check(&q), -EINVAL);
	q.type = U32_MAX;
	KUNIT_EXPECT_EQ(test, lumen_query_check(&q), -EINVAL);
	q.pointer = 0x1000;
	q.size = DRM_LUMEN_DEV_INFO_SIZE_VER0;
	KUNIT_EXPECT_EQ(test, lumen_query_check(&q), -EINVAL);
}

static void expect_size(struct kunit *test, u32 type, u32 size, int err)
{
	struct drm_lumen_dev_query q = {
		.type = type,
		.size = size,
		.pointer = 0x1000,
	};

	KUNIT_EXPECT_EQ_MSG(test, lumen_query_check(&q), err,
			    "type %u size %u", type, size);
}

static void query_sizes(struct kunit *test)
{
	static const struct {
		u32 type, ver0;
	} t[] = {
		{ DRM_LUMEN_QUERY_INFO, DRM_LUMEN_DEV_INFO_SIZE_VER0 },
		{ DRM_LUMEN_QUERY_COUNTERS, DRM_LUMEN_COUNTERS_SIZE_VER0 },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		expect_size(test, t[i].type, t[i].ver0, 0);
		expect_size(test, t[i].type, t[i].ver0 + 8, 0);
		expect_size(test, t[i].type, DRM_LUMEN_QUERY_MAX_SIZE, 0);
		expect_size(test, t[i].type, t[i].ver0 - 1, -EINVAL);
		expect_size(test, t[i].type, 8, -EINVAL);
		expect_size(test, t[i].type, 0, -EINVAL);
		expect_size(test, t[i].type, DRM_LUMEN_QUERY_MAX_SIZE + 1, -E2BIG);
		expect_size(test, t[i].type, U32_MAX, -E2BIG);
	}
}

#define USER_BYTES	128

/* A page of user memory in the test's own mm, filled with 0xa5. */
static unsigned long user_page(struct kunit *test)
{
	static const u8 fill[USER_BYTES] = { [0 ... USER_BYTES - 1] = 0xa5 };
	unsigned long uaddr;

	uaddr = kunit_vm_mmap(test, NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, uaddr, 0, "no user mm");
	KUNIT_ASSERT_LT(test, uaddr, (unsigned long)TASK_SIZE);
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)uaddr, fill,
					   sizeof(fill)), 0);
	return uaddr;
}

/* Copy @ksize bytes of 1, 2, 3... to a caller of @usize; read it back. */
static void copy_answer(struct kunit *test, unsigned long uaddr, u32 usize,
			u32 ksize, u8 *back)
{
	struct drm_lumen_dev_query q = {
		.type = DRM_LUMEN_QUERY_COUNTERS,
		.size = usize,
		.pointer = uaddr,
	};
	u8 answer[USER_BYTES];
	int i;

	for (i = 0; i < ksize; i++)
		answer[i] = i + 1;
	KUNIT_ASSERT_EQ(test, lumen_query_copy(&q, answer, ksize), 0);
	KUNIT_EXPECT_EQ(test, q.size, ksize);
	KUNIT_ASSERT_EQ(test, copy_from_user(back, (void __user *)uaddr,
					     USER_BYTES), 0);
}

static void query_copy_callers(struct kunit *test)
{
	unsigned long uaddr = user_page(test);
	u8 back[USER_BYTES];
	int i;

	/* A newer caller: the answer, then zeros up to its size. */
	copy_answer(test, uaddr, 48, 32, back);
	for (i = 0; i < 32; i++)
		KUNIT_EXPECT_EQ_MSG(test, back[i], i + 1, "byte %d", i);
	for (; i < 48; i++)
		KUNIT_EXPECT_EQ_MSG(test, back[i], 0, "byte %d", i);
	for (; i < USER_BYTES; i++)
		KUNIT_EXPECT_EQ_MSG(test, back[i], 0xa5, "byte %d", i);

	/* An older caller: a prefix, nothing written past its size. */
	copy_answer(test, uaddr + 64, 40, 48, back);
	for (i = 0; i < 40; i++)
		KUNIT_EXPECT_EQ_MSG(test, back[i], i + 1, "byte %d", i);
	for (; i < 64; i++)
		KUNIT_EXPECT_EQ_MSG(test, back[i], 0xa5, "byte %d", i);
}

static void query_copy_efault(struct kunit *test)
{
	struct drm_lumen_dev_query q = {
		.type = DRM_LUMEN_QUERY_COUNTERS,
		.size = DRM_LUMEN_COUNTERS_SIZE_VER0,
	};
	u8 answer[DRM_LUMEN_COUNTERS_SIZE_VER0] = {};

	/* In a user mm where page 0 is never mapped. */
	user_page(test);
	q.pointer = 64;
	KUNIT_EXPECT_EQ(test, lumen_query_copy(&q, answer, sizeof(answer)),
			-EFAULT);
	q.size = sizeof(answer) + 8;
	KUNIT_EXPECT_EQ(test, lumen_query_copy(&q, answer, sizeof(answer)),
			-EFAULT);
}

static struct kunit_case lumen_query_cases[] = {
	KUNIT_CASE(query_types),
	KUNIT_CASE(query_sizes),
	KUNIT_CASE(query_copy_callers),
	KUNIT_CASE(query_copy_efault),
	{}
};

static struct kunit_suite lumen_query_suite = {
	.name = "lumen_query",
	.test_cases = lumen_query_cases,
};

kunit_test_suite(lumen_query_suite);
