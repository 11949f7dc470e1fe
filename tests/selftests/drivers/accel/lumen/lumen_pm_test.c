// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Runtime PM and accounting: an idle device autosuspends, a submission
 * wakes it and computes; fdinfo's drm-engine-npu grows with work.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

#define RUNTIME_STATUS "/sys/class/accel/accel0/device/power/runtime_status"

static int runtime_status(char *buf, size_t size)
{
	FILE *f = fopen(RUNTIME_STATUS, "r");
	int ok;

	if (!f)
		return -errno;
	ok = !!fgets(buf, size, f);
	fclose(f);
	if (!ok)
		return -EIO;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Poll until the status is @want, for up to @ms. */
static int wait_status(const char *want, int ms)
{
	char st[32];
	int ret;

	for (; ms >= 0; ms -= 10) {
		ret = runtime_status(st, sizeof(st));
		if (ret)
			return ret;
		if (!strcmp(st, want))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

TEST(idle_device_suspends_and_submit_resumes)
{
	struct drm_lumen_job_wait w;
	struct add_ctx c;
	int fd = lumen_open(), i;
	__u64 t0;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	/* Autosuspend is 50 ms; allow a loaded TCG guest plenty more. */
	ASSERT_EQ(0, wait_status("suspended", 5000));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, add_run(&c, 4 - i, &w));
		EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
		EXPECT_TRUE(add_sums_ok(&c, 4 - i));
		EXPECT_EQ(0, wait_status("suspended", 5000));
	}
	/*
	 * While a job runs the device is up. The delay set before the
	 * suspend still applies after the resume (the device itself forgets
	 * it; the driver must not).
	 */
	ASSERT_TRUE(hook("delay_us", "300000"));
	ASSERT_EQ(0, wait_status("suspended", 5000));
	t0 = now_ns();
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, add_prepare(&c, 4)));
	EXPECT_EQ(0, wait_status("active", 100));
	ASSERT_EQ(0, wait_job(fd, c.s.job_id, &w));
	EXPECT_LE(300000000ULL, now_ns() - t0);
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	EXPECT_TRUE(add_sums_ok(&c, 4));
	ASSERT_TRUE(hook("delay_us", "0"));
	close(fd);
}

TEST(fdinfo_engine_time_grows)
{
	struct drm_lumen_job_wait w;
	long long t0, t1, t2;
	char path[64], line[256];
	int fd = lumen_open(), driver = 0;
	struct add_ctx c;
	FILE *f;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	t0 = fdinfo_engine_ns(fd);
	EXPECT_EQ(0, t0);
	ASSERT_EQ(0, add_run(&c, 4, &w));
	t1 = fdinfo_engine_ns(fd);
	EXPECT_LT(t0, t1);
	/* 20 ms of injected device time per job counts as busy time. */
	ASSERT_TRUE(hook("delay_us", "20000"));
	ASSERT_EQ(0, add_run(&c, 4, &w));
	ASSERT_EQ(0, add_run(&c, 4, &w));
	ASSERT_TRUE(hook("delay_us", "0"));
	t2 = fdinfo_engine_ns(fd);
	EXPECT_LE(t1 + 40000000LL, t2) TH_LOG("%lld -> %lld ns", t1, t2);

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		driver |= !strcmp(line, "drm-driver:\tlumen\n");
	fclose(f);
	EXPECT_TRUE(driver);
	close(fd);
}

TEST_HARNESS_MAIN
