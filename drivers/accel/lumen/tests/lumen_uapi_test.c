// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * The uapi rules of lumen_accel.h that need no device: non-zero pad,
 * reserved or unknown flags are rejected, counts and element sizes are
 * bounded, the io_uring payload fits a 128-byte SQE, and seqno ordering
 * survives wrap-around.
 */

#include <kunit/test.h>
#include <linux/io_uring.h>
#include <linux/stddef.h>

#include <drm/lumen_accel.h>

#include "../lumen_check.h"
#include "../lumen_job.h"

static struct drm_lumen_submit good_submit(void)
{
	return (struct drm_lumen_submit) {
		.program = 1,
		.regions = 0x1000,
		.region_count = 3,
		.region_size = sizeof(struct drm_lumen_region),
		.in_syncs = 0x2000,
		.in_sync_count = 1,
		.sync_size = sizeof(struct drm_lumen_sync),
		.priority = DRM_LUMEN_PRIORITY_NORMAL,
	};
}

static void submit_accepts_good(struct kunit *test)
{
	struct drm_lumen_submit s = good_submit();

	KUNIT_EXPECT_EQ(test, lumen_submit_check(&s), 0);
	s.region_count = LUMEN_MAX_REGIONS;
	s.priority = DRM_LUMEN_PRIORITY_HIGH;
	s.region_size = sizeof(struct drm_lumen_region) + 8;	/* newer caller */
	KUNIT_EXPECT_EQ(test, lumen_submit_check(&s), 0);
	s.in_sync_count = 0;
	s.sync_size = 0;
	KUNIT_EXPECT_EQ(test, lumen_submit_check(&s), 0);
}

/* One change to a good submission; it must then be rejected. */
#define EXPECT_REJECTED(change) do {					\
	struct drm_lumen_submit s = good_submit();			\
	s.change;							\
	KUNIT_EXPECT_EQ_MSG(test, lumen_submit_check(&s), -EINVAL,	\
			    "accepted: " #change);			\
} while (0)

static void submit_rejects_bad(struct kunit *test)
{
	EXPECT_REJECTED(flags = 1);
	EXPECT_REJECTED(flags = 0x80000000);
	EXPECT_REJECTED(reserved[0] = 1);
	EXPECT_REJECTED(reserved[1] = 1ULL << 63);
	EXPECT_REJECTED(region_count = 0);
	EXPECT_REJECTED(region_count = LUMEN_MAX_REGIONS + 1);
	EXPECT_REJECTED(region_size = 0);
	EXPECT_REJECTED(region_size = sizeof(struct drm_lumen_region) - 1);
	EXPECT_REJECTED(in_sync_count = 65);
	EXPECT_REJECTED(out_sync_count = 65);
	EXPECT_REJECTED(sync_size = sizeof(struct drm_lumen_sync) - 1);
	EXPECT_REJECTED(priority = DRM_LUMEN_PRIORITY_HIGH + 1);
	EXPECT_REJECTED(priority = ~0U);
}

/* Review #12: element sizes are bounded, so is the zero check of tails. */
static void submit_bounds_element_sizes(struct kunit *test)
{
	struct drm_lumen_submit s = good_submit();

	s.region_size = DRM_LUMEN_MAX_ELEMENT_SIZE;
	s.sync_size = DRM_LUMEN_MAX_ELEMENT_SIZE;
	KUNIT_EXPECT_EQ(test, lumen_submit_check(&s), 0);
	s.region_size = DRM_LUMEN_MAX_ELEMENT_SIZE + 1;
	KUNIT_EXPECT_EQ(test, lumen_submit_check(&s), -E2BIG);
	s.region_size = U32_MAX;
	KUNIT_EXPECT_EQ(test, lumen_submit_check(&s), -E2BIG);
	s.region_size = sizeof(struct drm_lumen_region);
	s.sync_size = U32_MAX;
	KUNIT_EXPECT_EQ(test, lumen_submit_check(&s), -E2BIG);
}

static void region_rules(struct kunit *test)
{
	struct drm_lumen_region r = { .handle = 1 };
	u64 size = 0;

	KUNIT_EXPECT_EQ(test, lumen_region_check(&r, 8192, &size), 0);
	KUNIT_EXPECT_EQ(test, size, 8192);		/* 0 = to the end */
	r.offset = 4096;
	KUNIT_EXPECT_EQ(test, lumen_region_check(&r, 8192, &size), 0);
	KUNIT_EXPECT_EQ(test, size, 4096);
	r.size = 4096;
	KUNIT_EXPECT_EQ(test, lumen_region_check(&r, 8192, &size), 0);
	KUNIT_EXPECT_EQ(test, size, 4096);
	r.size = 4097;
	KUNIT_EXPECT_EQ(test, lumen_region_check(&r, 8192, &size), -EINVAL);
	r.size = ~0ULL;		/* offset + size wraps */
	KUNIT_EXPECT_EQ(test, lumen_region_check(&r, 8192, &size), -EINVAL);
	r.size = 0;
	r.offset = 8192;	/* an empty region is no region */
	KUNIT_EXPECT_EQ(test, lumen_region_check(&r, 8192, &size), -EINVAL);
	r.offset = 4096 + 64;	/* regions start on a page */
	KUNIT_EXPECT_EQ(test, lumen_region_check(&r, 16384, &size), -EINVAL);
	r.offset = 0;
	r.flags = 1;
	KUNIT_EXPECT_EQ(test, lumen_region_check(&r, 8192, &size), -EINVAL);
}

static void layout_is_stable(struct kunit *test)
{
	/* The whole submission is the command area of a 128-byte SQE. */
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_submit),
			2 * sizeof(struct io_uring_sqe) -
			offsetof(struct io_uring_sqe, cmd));
	/* Same layout for 32- and 64-bit callers: no implicit padding. */
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_get_param), 16);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_dev_query), 16);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_dev_info), 56);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_dev_info),
			DRM_LUMEN_DEV_INFO_SIZE_VER1);
	KUNIT_EXPECT_EQ(test, offsetof(struct drm_lumen_dev_info, dtypes_ext),
			DRM_LUMEN_DEV_INFO_SIZE_VER0);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_counters), 32);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_counters),
			DRM_LUMEN_COUNTERS_SIZE_VER0);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_bo_create), 24);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_bo_mmap_offset), 16);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_bo_info), 24);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_program_create), 56);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_program_destroy), 8);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_region), 24);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_sync), 16);
	KUNIT_EXPECT_EQ(test, sizeof(struct drm_lumen_job_wait), 40);
	KUNIT_EXPECT_EQ(test, offsetof(struct drm_lumen_submit, job_id), 56);
}

static void seqno_wraps(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, lumen_seqno_passed(5, 5));
	KUNIT_EXPECT_TRUE(test, lumen_seqno_passed(6, 5));
	KUNIT_EXPECT_FALSE(test, lumen_seqno_passed(4, 5));
	/* Completed seqno past the wrap, job from before it. */
	KUNIT_EXPECT_TRUE(test, lumen_seqno_passed(2, U64_MAX - 1));
	KUNIT_EXPECT_TRUE(test, lumen_seqno_passed(0, U64_MAX));
	/* Job past the wrap, device not there yet. */
	KUNIT_EXPECT_FALSE(test, lumen_seqno_passed(U64_MAX - 1, 2));
	KUNIT_EXPECT_FALSE(test, lumen_seqno_passed(U64_MAX, 0));
	/* Half the space apart is the limit of what can be told apart. */
	KUNIT_EXPECT_TRUE(test, lumen_seqno_passed(1ULL << 62, 0));
	KUNIT_EXPECT_FALSE(test, lumen_seqno_passed(0, 1ULL << 62));
}

static struct kunit_case lumen_uapi_cases[] = {
	KUNIT_CASE(submit_accepts_good),
	KUNIT_CASE(submit_rejects_bad),
	KUNIT_CASE(submit_bounds_element_sizes),
	KUNIT_CASE(region_rules),
	KUNIT_CASE(layout_is_stable),
	KUNIT_CASE(seqno_wraps),
	{}
};

static struct kunit_suite lumen_uapi_suite = {
	.name = "lumen_uapi",
	.test_cases = lumen_uapi_cases,
};

kunit_test_suite(lumen_uapi_suite);
