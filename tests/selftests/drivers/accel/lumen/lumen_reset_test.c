// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Resets the hard way, in the spirit of IGT's xe_exec_reset: a job that
 * really computes for many times the job timeout (no test hook holds it),
 * a reset that fails for good, and in-place jobs across a forced timeout.
 *
 * - A job the device may still be running must keep its memory: canary
 *   buffers allocated after the timeout, once the job's own buffers are
 *   closed, must come out untouched when the device is done.
 * - After a failed reset the device is wedged: new jobs are refused with
 *   -EIO, DEV_QUERY says so, and rebinding the driver recovers it, runtime
 *   PM included.
 * - A job runs at most once: in-place increments count exactly the jobs
 *   reported done.
 *
 * The suite loads lumen.ko with job_timeout_ms=1000; these tests unbind
 * and bind the driver, so they want no other user of the device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

#define TIMEOUT_MS	1000

/* Rebind the driver if a test left the device wedged. */
static int recover(void)
{
	struct drm_lumen_health h;
	char bdf[64];
	int fd, ret;

	fd = lumen_open();
	if (fd < 0)
		return -errno;
	ret = health_read(fd, &h);
	close(fd);
	if (ret || !(h.flags & DRM_LUMEN_HEALTH_WEDGED))
		return ret;
	ret = device_bdf(bdf, sizeof(bdf)) ?: driver_unbind(bdf);
	return ret ?: driver_bind(bdf, 20);
}

FIXTURE(reset) {
	struct lumen_objects idle;
};

FIXTURE_SETUP(reset)
{
	ASSERT_EQ(0, objects_wait_idle(&self->idle, 20))
		TH_LOG("%s", objects_str(&self->idle));
}

FIXTURE_TEARDOWN(reset)
{
	hook("delay_us", "0");
	recover();
}

/* The device runs jobs and suspends when idle. */
static void expect_device_works(struct __test_metadata *_metadata)
{
	struct drm_lumen_job_wait w;
	struct add_ctx c;
	int fd = lumen_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, add_run(&c, 3, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	EXPECT_TRUE(add_sums_ok(&c, 3));
	add_ctx_unmap(&c);
	close(fd);
}

/* Runtime PM: the device powers down when idle and up again for a job. */
static void expect_runtime_pm(struct __test_metadata *_metadata)
{
	char path[] = "/sys/class/accel/accel0/device/power/runtime_status";
	char state[32] = "";
	__u64 end = now_ns() + 10 * 1000000000ULL;
	FILE *f;

	for (;;) {
		f = fopen(path, "r");
		ASSERT_NE(NULL, f);
		ASSERT_NE(NULL, fgets(state, sizeof(state), f));
		fclose(f);
		if (!strncmp(state, "suspended", 9) || now_ns() > end)
			break;
		usleep(20000);
	}
	EXPECT_EQ(0, strncmp(state, "suspended", 9)) TH_LOG("runtime PM: %s", state);
	expect_device_works(_metadata);
}

/*
 * A reset whose two attempts fail wedges the device; the hung job reports
 * its timeout, new ones are refused, its memory is kept until the driver
 * is unbound (the device is then powered off, so known to be idle).
 */
TEST_F_TIMEOUT(reset, failed_reset_wedges_device, 90)
{
	struct drm_lumen_health h;
	struct drm_lumen_job_wait w;
	struct lumen_objects o;
	struct add_ctx c;
	char bdf[64];
	int fd, i;

	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, health_read(fd, &h));
	ASSERT_EQ(0, h.flags);

	ASSERT_TRUE(hook("hang_next", "1"));
	ASSERT_TRUE(hook("fail_reset", "2"));
	ASSERT_EQ(0, add_run(&c, 4, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_TIMEOUT, w.status);

	ASSERT_EQ(0, health_read(fd, &h));
	EXPECT_EQ(DRM_LUMEN_HEALTH_WEDGED, h.flags);
	EXPECT_LE(1, h.failed_resets);
	EXPECT_EQ(-EIO, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, add_prepare(&c, 4)));
	/* The job is freed, but what it used stays allocated. */
	for (i = 0; i < 200 && !h.kept_jobs; i++) {
		usleep(10000);
		ASSERT_EQ(0, health_read(fd, &h));
	}
	EXPECT_EQ(1, h.kept_jobs);
	add_ctx_unmap(&c);
	close(fd);
	usleep(100000);
	ASSERT_EQ(0, objects_read(&o));
	EXPECT_EQ(1, o.jobs) TH_LOG("%s", objects_str(&o));
	EXPECT_LT(0, o.mappings) TH_LOG("%s", objects_str(&o));

	ASSERT_EQ(0, device_bdf(bdf, sizeof(bdf)));
	ASSERT_EQ(0, driver_unbind(bdf));
	ASSERT_EQ(0, driver_bind(bdf, 20));
	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, health_read(fd, &h));
	EXPECT_EQ(0, h.flags);
	close(fd);
	expect_runtime_pm(_metadata);
	EXPECT_EQ(0, objects_wait_idle(&o, 20)) TH_LOG("%s", objects_str(&o));
}

/* dst r0 [8 x 1] += src1 r1 [8 x 1], in place. */
struct inc_prog {
	struct lumen_prog_header h;
	struct lumen_op op;
};

static void inc_prog_build(struct inc_prog *p)
{
	memset(p, 0, sizeof(*p));
	prog_header(&p->h, 1, 2, 1);
	p->op.opcode = LUMEN_OP_ADD;
	p->op.rows_arg = LUMEN_ARG_NONE;
	p->op.pos_arg = LUMEN_ARG_NONE;
	tensor_f32(&p->op.dst, 0, 0, 8, 1);
	tensor_f32(&p->op.src[0], 0, 0, 8, 1);
	tensor_f32(&p->op.src[1], 1, 0, 8, 1);
}

/*
 * Review #8: jobs queued behind one that times out run after the reset,
 * and none runs twice: the counter equals the jobs reported done.
 */
TEST_F_TIMEOUT(reset, inplace_jobs_run_once_across_timeout, 90)
{
	struct drm_lumen_region r[2] = {};
	struct drm_lumen_submit s = {};
	struct drm_lumen_job_wait w;
	struct buf counter, one;
	struct inc_prog p;
	unsigned int done = 0, timedout = 0, i;
	__u64 first;
	float *x;
	int fd;

	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bo_new(fd, 4096, &counter));
	ASSERT_EQ(0, bo_new(fd, 4096, &one));
	for (i = 0; i < 8; i++)
		((float *)one.map)[i] = 1.0f;
	inc_prog_build(&p);
	ASSERT_EQ(0, prog_create(fd, &p, sizeof(p), &s.program));
	r[0].handle = counter.handle;
	r[1].handle = one.handle;
	s.regions = (__u64)(unsigned long)r;
	s.region_count = 2;
	s.region_size = sizeof(r[0]);
	s.priority = DRM_LUMEN_PRIORITY_NORMAL;

	/* Each job takes 200 ms after computing: several wait behind the hang. */
	ASSERT_TRUE(hook("delay_us", "200000"));
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &s));
	first = s.job_id;
	ASSERT_TRUE(hook("hang_next", "1"));
	for (i = 1; i < 8; i++)
		ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &s));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, wait_job(fd, first + i, &w));
		done += w.status == DRM_LUMEN_JOB_DONE;
		timedout += w.status == DRM_LUMEN_JOB_TIMEOUT;
		EXPECT_TRUE(w.status == DRM_LUMEN_JOB_DONE ||
			    w.status == DRM_LUMEN_JOB_TIMEOUT ||
			    w.status == DRM_LUMEN_JOB_CANCELED) TH_LOG("%u", w.status);
	}
	EXPECT_EQ(1, timedout);
	/* Only the hung job, and none behind it, was lost. */
	EXPECT_EQ(7, done);
	x = counter.map;
	for (i = 0; i < 8; i++)
		EXPECT_EQ((float)done, x[i]) TH_LOG("element %u", i);
	bo_close(fd, &counter);
	bo_close(fd, &one);
	close(fd);
}

/* A MATMUL-only program: dst r0 [N x R] = act r2 [K x R] . weights r1 [K x N]. */
#define MM_K	64
#define MM_N	1024
#define MM_R	256
#define MM_DST_BYTES	(4ULL * MM_N * MM_R)
#define MM_W_BYTES	(4ULL * MM_K * MM_N)
#define MM_A_BYTES	(4ULL * MM_K * MM_R)

static void *matmul_prog(__u32 ops, size_t *size)
{
	struct lumen_prog_header *h;
	struct lumen_op *op;
	__u32 i;

	*size = sizeof(*h) + (size_t)ops * sizeof(*op);
	h = calloc(1, *size);
	if (!h)
		return NULL;
	prog_header(h, ops, 3, 2);
	op = (struct lumen_op *)(h + 1);
	for (i = 0; i < ops; i++) {
		op[i].opcode = LUMEN_OP_MATMUL;
		op[i].rows_arg = LUMEN_ARG_NONE;
		op[i].pos_arg = LUMEN_ARG_NONE;
		tensor_f32(&op[i].dst, 0, 0, MM_N, MM_R);
		tensor_f32(&op[i].src[0], 1, 0, MM_K, MM_N);
		tensor_f32(&op[i].src[1], 2, 0, MM_K, MM_R);
	}
	return h;
}

struct mm_job {
	struct buf dst, w, a;
	__u32 program;
	struct drm_lumen_region r[3];
	struct drm_lumen_submit s;
};

static int mm_job_init(int fd, struct mm_job *j, __u32 ops)
{
	size_t size;
	void *p = matmul_prog(ops, &size);
	int ret, i;

	if (!p)
		return -ENOMEM;
	memset(j, 0, sizeof(*j));
	ret = bo_new(fd, MM_DST_BYTES, &j->dst) ?: bo_new(fd, MM_W_BYTES, &j->w) ?:
	      bo_new(fd, MM_A_BYTES, &j->a) ?:
	      prog_create(fd, p, size, &j->program);
	free(p);
	if (ret)
		return ret;
	for (i = 0; i < MM_K * MM_N; i++)
		((float *)j->w.map)[i] = 0.25f;
	for (i = 0; i < MM_K * MM_R; i++)
		((float *)j->a.map)[i] = 1.0f;
	j->r[0].handle = j->dst.handle;
	j->r[1].handle = j->w.handle;
	j->r[2].handle = j->a.handle;
	j->s.program = j->program;
	j->s.regions = (__u64)(unsigned long)j->r;
	j->s.region_count = 3;
	j->s.region_size = sizeof(j->r[0]);
	j->s.priority = DRM_LUMEN_PRIORITY_NORMAL;
	return 0;
}

static void mm_job_fini(int fd, struct mm_job *j)
{
	struct drm_lumen_program_destroy d = { .handle = j->program };

	bo_close(fd, &j->dst);
	bo_close(fd, &j->w);
	bo_close(fd, &j->a);
	xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &d);
}

/*
 * Run one MATMUL job of @ops ops: its wall time in ms, TIMEOUT_MS when it
 * timed out (a loaded host), or -1 when it failed.
 */
static long mm_time_ms(int fd, __u32 ops)
{
	struct drm_lumen_job_wait w;
	struct mm_job j;
	__u64 t0;
	long ms = -1;

	if (mm_job_init(fd, &j, ops))
		return -1;
	t0 = now_ns();
	if (!xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &j.s) &&
	    !wait_job(fd, j.s.job_id, &w)) {
		if (w.status == DRM_LUMEN_JOB_TIMEOUT)
			ms = TIMEOUT_MS;
		else if (w.status == DRM_LUMEN_JOB_DONE &&
			 ((float *)j.dst.map)[0] == 0.25f * MM_K)
			ms = (now_ns() - t0) / 1000000;
	}
	mm_job_fini(fd, &j);
	return ms;
}

/* hardware.rst: POWER_STATE 2 is ACTIVE, a job executing. */
static bool device_computing(void)
{
	char state[1024];

	return !debugfs_read("state", state, sizeof(state)) &&
	       strstr(state, "\npower:\t2\n");
}

#define CANARY_BYTES	(16ULL << 20)
#define CANARY_BYTE	0xa5

/*
 * Review #2 and #14: a job computing for many times the timeout (only a
 * reset can end it early). Whether the reset stops it or fails, nothing
 * the driver gave back may be written afterwards: canaries allocated
 * after the timeout, when the job's buffers are closed, stay intact until
 * the job would have ended; then the device works, runtime PM included.
 */
TEST_F_TIMEOUT(reset, long_compute_reset_keeps_memory, 180)
{
	struct drm_lumen_job_wait w;
	struct drm_lumen_health h;
	struct buf canary[4];
	struct mm_job j;
	__u32 ops = 16, long_ops;
	__u64 t0, job_ns;
	long ms;
	size_t bad = 0, k;
	int fd, i;

	fd = lumen_open();
	ASSERT_LE(0, fd);
	/* Calibrate: ops per 50 ms or more, under the timeout. */
	for (;;) {
		ms = mm_time_ms(fd, ops);
		ASSERT_LE(0, ms) TH_LOG("a %u-op MATMUL job failed", ops);
		if (ms >= 50 || ops >= LUMEN_MAX_OPS / 2)
			break;
		ops *= 2;
	}
	long_ops = (__u64)ops * 8 * TIMEOUT_MS / (ms ? ms : 1);
	if (long_ops > LUMEN_MAX_OPS)
		long_ops = LUMEN_MAX_OPS;
	job_ns = (__u64)ms * long_ops / ops * 1000000ULL;
	TH_LOG("%u ops took %ld ms: a %u-op job, about %llu ms", ops, ms,
	       long_ops, (unsigned long long)(job_ns / 1000000));
	ASSERT_LE(4ULL * TIMEOUT_MS * 1000000ULL, job_ns)
		TH_LOG("the host is too fast for a long job");

	ASSERT_EQ(0, mm_job_init(fd, &j, long_ops));
	t0 = now_ns();
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &j.s));
	/* Only the job holds its memory now. */
	mm_job_fini(fd, &j);
	ASSERT_EQ(0, wait_job(fd, j.s.job_id, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_TIMEOUT, w.status);
	EXPECT_EQ(0, health_read(fd, &h));
	TH_LOG("after %llu ms: %s, %u failed resets, %u jobs kept",
	       (unsigned long long)((now_ns() - t0) / 1000000),
	       h.flags & DRM_LUMEN_HEALTH_WEDGED ? "wedged" : "recovered",
	       h.failed_resets, h.kept_jobs);

	/* Freed pages are reused first: the canaries would get them. */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, bo_new(fd, CANARY_BYTES, &canary[i]));
		memset(canary[i].map, CANARY_BYTE, CANARY_BYTES);
	}
	/* Past the end the job would have had, with a margin. */
	while (now_ns() < t0 + job_ns + job_ns / 2)
		usleep(50000);
	for (i = 0; i < 4; i++) {
		const unsigned char *b = canary[i].map;

		for (k = 0; k < CANARY_BYTES; k++)
			bad += b[k] != CANARY_BYTE;
		bo_close(fd, &canary[i]);
	}
	EXPECT_EQ(0, bad) TH_LOG("%zu canary bytes written after the reset", bad);
	close(fd);
	/* A device that could not be reset computes on: let it finish. */
	for (i = 0; i < 600 && device_computing(); i++)
		usleep(100000);

	ASSERT_EQ(0, recover());
	expect_runtime_pm(_metadata);
}

TEST_HARNESS_MAIN
