// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * SUBMIT through the ioctl: results against sums computed here, the
 * rejections the uapi promises, syncobj out- and in-fences, and many jobs
 * in flight at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

FIXTURE(submit) {
	int fd;
	struct add_ctx c;
};

FIXTURE_SETUP(submit)
{
	self->fd = lumen_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, add_ctx_init(&self->c, self->fd));
}

FIXTURE_TEARDOWN(submit)
{
	hook("delay_us", "0");
	close(self->fd);
}

TEST_F(submit, computes)
{
	struct drm_lumen_job_wait w;

	ASSERT_EQ(0, add_run(&self->c, 4, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	EXPECT_TRUE(add_sums_ok(&self->c, 4));
	/* The row count comes from the args region. */
	ASSERT_EQ(0, add_run(&self->c, 2, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	EXPECT_TRUE(add_sums_ok(&self->c, 2));
}

/* uapi.rst: a region smaller than the program needs is -EOVERFLOW. */
TEST_F(submit, region_too_small_eoverflow)
{
	struct lumen_objects before, after;
	struct drm_lumen_submit *s;

	ASSERT_EQ(0, objects_wait_no_jobs(&before, 20));
	s = add_prepare(&self->c, 4);
	self->c.r[0].size = 64;
	EXPECT_EQ(-EOVERFLOW, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	self->c.r[1].size = 4096;	/* src1 sits at 1024 + 32 of 8192: fine */
	EXPECT_EQ(0, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	self->c.r[1].offset = 4096;	/* 4096 bytes left, 1056 needed: fine */
	self->c.r[2].size = 20;		/* slot 5 needs 24 bytes */
	EXPECT_EQ(-EOVERFLOW, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	ASSERT_EQ(0, objects_wait_no_jobs(&after, 20));
	EXPECT_EQ(before.programs, after.programs);
	EXPECT_EQ(before.bos, after.bos);
	EXPECT_EQ(before.mappings, after.mappings);
}

TEST_F(submit, rejects)
{
	struct drm_lumen_submit *s;

	s = add_prepare(&self->c, 4);
	self->c.r[2].handle = 0;	/* args slot used but unbound */
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	self->c.r[1].offset = 64;	/* regions start on a page */
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	self->c.r[1].offset = 8192;	/* past the buffer */
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	self->c.r[1].handle = 999;
	EXPECT_EQ(-ENOENT, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	s->reserved[1] = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	s->flags = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	s->region_count = LUMEN_MAX_REGIONS + 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	s->region_size = sizeof(struct drm_lumen_region) - 8;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	s->program = 999;
	EXPECT_EQ(-ENOENT, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	s = add_prepare(&self->c, 4);
	s->priority = DRM_LUMEN_PRIORITY_HIGH + 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	EXPECT_TRUE(add_sums_ok(&self->c, 0));
}

TEST_F(submit, out_fence_signals)
{
	struct drm_lumen_sync out[2] = {};
	struct drm_lumen_submit *s;
	__u32 binary, timeline;

	ASSERT_EQ(0, syncobj_new(self->fd, &binary));
	ASSERT_EQ(0, syncobj_new(self->fd, &timeline));
	ASSERT_TRUE(hook("delay_us", "200000"));
	s = add_prepare(&self->c, 4);
	out[0].handle = binary;
	out[1].handle = timeline;
	out[1].point = 7;
	s->out_syncs = (__u64)(unsigned long)out;
	s->out_sync_count = 2;
	s->sync_size = sizeof(out[0]);
	ASSERT_EQ(0, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	/* Not yet: the job takes at least 200 ms. */
	EXPECT_EQ(-ETIME, syncobj_wait(self->fd, timeline, 7, 0));
	ASSERT_EQ(0, syncobj_wait(self->fd, binary, 0, 20));
	ASSERT_EQ(0, syncobj_wait(self->fd, timeline, 7, 20));
	EXPECT_TRUE(add_sums_ok(&self->c, 4));

	out[0].handle = 999;	/* no such syncobj: nothing queued */
	EXPECT_EQ(-ENOENT, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
	out[0].handle = binary;
	out[0].flags = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, s));
}

/*
 * Job B reads what job A wrote. Both queue behind jobs that fill the
 * device, A at low priority and B at high: the scheduler would run B
 * first, were it not for B's in-fence on A's out-fence.
 */
TEST_F(submit, in_fence_orders_jobs)
{
	struct drm_lumen_region ra[3], rb[3];
	struct drm_lumen_submit a, b;
	struct drm_lumen_sync sync = {};
	struct drm_lumen_job_wait w;
	const float *s0, *s1, *o;
	struct buf mid, out;
	struct nop_ctx nop;
	struct add_prog p;
	float *m;
	__u32 tl;
	int i;

	ASSERT_EQ(0, nop_ctx_init(&nop, self->fd));
	ASSERT_EQ(0, bo_new(self->fd, 8192, &mid));
	ASSERT_EQ(0, bo_new(self->fd, 4096, &out));
	ASSERT_EQ(0, syncobj_new(self->fd, &tl));
	add_prepare(&self->c, ADD_CAPACITY);
	s0 = (const float *)((char *)self->c.src.map + ADD_SRC0_OFF);
	s1 = (const float *)((char *)self->c.src.map + ADD_SRC1_OFF);
	m = mid.map;
	for (i = 0; i < 2048; i++)
		m[i] = -1000.0f;
	for (i = 0; i < ADD_WIDTH; i++)
		m[ADD_SRC1_OFF / 4 + i] = (float)(i + 1);

	/* A: the ADD program writing its sums where B's src0 is, mid@256. */
	add_prog_build(&p);
	p.op[1].dst.offset = ADD_SRC0_OFF;
	memcpy(ra, self->c.r, sizeof(ra));
	a = self->c.s;
	ASSERT_EQ(0, prog_create(self->fd, &p, sizeof(p), &a.program));
	a.regions = (__u64)(unsigned long)ra;
	a.priority = DRM_LUMEN_PRIORITY_LOW;
	ra[0].handle = mid.handle;
	sync.handle = tl;
	sync.point = 1;
	a.out_syncs = (__u64)(unsigned long)&sync;
	a.out_sync_count = 1;
	a.sync_size = sizeof(sync);

	/* B: out = mid@256 + mid@1024, at high priority (root may). */
	memcpy(rb, self->c.r, sizeof(rb));
	b = self->c.s;
	b.regions = (__u64)(unsigned long)rb;
	b.priority = DRM_LUMEN_PRIORITY_HIGH;
	rb[0].handle = out.handle;
	rb[1].handle = mid.handle;
	b.in_syncs = (__u64)(unsigned long)&sync;
	b.in_sync_count = 1;
	b.sync_size = sizeof(sync);

	ASSERT_TRUE(hook("delay_us", "20000"));
	for (i = 0; i < 12; i++)
		ASSERT_EQ(0, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &nop.s));
	ASSERT_EQ(0, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &a));
	ASSERT_EQ(0, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &b));
	ASSERT_EQ(0, wait_job(self->fd, b.job_id, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	ASSERT_EQ(0, wait_job(self->fd, a.job_id, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);

	o = out.map;
	for (i = 0; i < ADD_WIDTH * ADD_CAPACITY; i++) {
		float want_a = s0[i] + s1[i % ADD_WIDTH];

		EXPECT_EQ(want_a, m[ADD_SRC0_OFF / 4 + i]) TH_LOG("A, %d", i);
		EXPECT_EQ(want_a + (float)(i % ADD_WIDTH + 1), o[i])
			TH_LOG("B, %d", i);
	}
}

TEST_F_TIMEOUT(submit, jobs_256_in_flight, 120)
{
	struct drm_lumen_region r[3];
	struct drm_lumen_sync out = {};
	struct drm_lumen_submit s;
	struct buf dst;
	const float *s0, *s1;
	__u32 tl, i, k;

	ASSERT_EQ(0, bo_new(self->fd, 256 * 4096, &dst));
	ASSERT_EQ(0, syncobj_new(self->fd, &tl));
	add_prepare(&self->c, ADD_CAPACITY);
	for (i = 0; i < dst.size / 4; i++)
		((float *)dst.map)[i] = -1.0f;
	memcpy(r, self->c.r, sizeof(r));
	s = self->c.s;
	s.regions = (__u64)(unsigned long)r;
	s.out_syncs = (__u64)(unsigned long)&out;
	s.out_sync_count = 1;
	s.sync_size = sizeof(out);
	out.handle = tl;
	r[0].handle = dst.handle;
	/* Job i writes page i and signals point i + 1. */
	for (i = 0; i < 256; i++) {
		r[0].offset = i * 4096ULL;
		r[0].size = 4096;
		out.point = i + 1;
		ASSERT_EQ(0, xioctl(self->fd, DRM_IOCTL_LUMEN_SUBMIT, &s))
			TH_LOG("job %u", i);
	}
	ASSERT_EQ(0, syncobj_wait(self->fd, tl, 256, 100));
	s0 = (const float *)((char *)self->c.src.map + ADD_SRC0_OFF);
	s1 = (const float *)((char *)self->c.src.map + ADD_SRC1_OFF);
	for (i = 0; i < 256; i++) {
		const float *d = (const float *)((char *)dst.map + i * 4096);
		int bad = 0;

		for (k = 0; k < ADD_WIDTH * ADD_CAPACITY; k++)
			bad += d[k] != s0[k] + s1[k % ADD_WIDTH];
		EXPECT_EQ(0, bad) TH_LOG("job %u", i);
	}
}

TEST_HARNESS_MAIN
