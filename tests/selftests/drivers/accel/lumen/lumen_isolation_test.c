// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Isolation between open files: handles are per file (also across fork
 * and reopen), and a job addressing memory outside its own NPU address
 * space faults in the MMU while other clients' jobs carry on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

TEST(other_file_cannot_use_handles)
{
	struct drm_lumen_job_wait w;
	int fd = lumen_open(), fd2 = lumen_open();
	struct add_ctx c;
	struct buf other;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, bo_new(fd2, 4096, &other));
	/* fd2 has a buffer 1 but no program 1. */
	EXPECT_EQ(-ENOENT, xioctl(fd2, DRM_IOCTL_LUMEN_SUBMIT, add_prepare(&c, 4)));
	c.r[0].handle = other.handle + 100;
	EXPECT_EQ(-ENOENT, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &c.s));
	/* Job ids are per file too. */
	ASSERT_EQ(0, add_run(&c, 4, &w));
	memset(&w, 0, sizeof(w));
	w.job_id = c.s.job_id;
	EXPECT_EQ(-EINVAL, xioctl(fd2, DRM_IOCTL_LUMEN_JOB_WAIT, &w));
	close(fd2);
	close(fd);
}

/*
 * A forked child reopening the device starts from nothing: the parent's
 * buffer and program handles name nothing in the child's file.
 */
TEST(forked_child_reopen_has_no_handles)
{
	int fd = lumen_open(), status;
	struct drm_lumen_job_wait w;
	struct add_ctx c;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	add_prepare(&c, 4);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct drm_lumen_bo_info info = { .handle = c.dst.handle };
		struct drm_lumen_bo_mmap_offset m = { .handle = c.src.handle };
		struct drm_lumen_program_destroy pd = { .handle = c.program };
		int fd2, bad = 0;

		close(fd);
		fd2 = lumen_open();
		if (fd2 < 0)
			_exit(10);
		bad |= (xioctl(fd2, DRM_IOCTL_LUMEN_BO_INFO, &info) != -ENOENT) << 0;
		bad |= (xioctl(fd2, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m) != -ENOENT) << 1;
		bad |= (xioctl(fd2, DRM_IOCTL_LUMEN_SUBMIT, &c.s) != -ENOENT) << 2;
		bad |= (xioctl(fd2, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &pd) != -ENOENT) << 3;
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The parent's handles still work. */
	ASSERT_EQ(0, add_run(&c, 4, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	EXPECT_TRUE(add_sums_ok(&c, 4));
	close(fd);
}

/*
 * Client B's job gets, through the driver's region0_va_next test hook, an
 * NPU address that names client A's buffer in A's space but nothing in
 * B's own. The device's MMU must fault it (reported as a job error, with
 * the address), A's buffer must be untouched, and A's jobs queued before
 * and submitted after must all complete.
 */
FIXTURE(clients) {
	int unused;
};

FIXTURE_SETUP(clients)
{
}

FIXTURE_TEARDOWN(clients)
{
	hook("delay_us", "0");
}

TEST_F_TIMEOUT(clients, mmu_fault_outside_own_space, 60)
{
	int fda = lumen_open(), fdb = lumen_open();
	struct drm_lumen_job_wait w;
	struct add_ctx a, b;
	struct buf secret;
	__u64 first = 0, id;
	char va[32];
	__u32 i;

	ASSERT_LE(0, fda);
	ASSERT_LE(0, fdb);
	ASSERT_EQ(0, add_ctx_init(&a, fda));
	ASSERT_EQ(0, add_ctx_init(&b, fdb));
	/* Big enough to sit above everything B has mapped. */
	ASSERT_EQ(0, bo_new(fda, 4 << 20, &secret));
	ASSERT_LT(b.args.npu_addr + b.args.size, secret.npu_addr);
	for (i = 0; i < secret.size / 4; i++)
		((__u32 *)secret.map)[i] = i ^ 0x5eC2e7;

	/* A's jobs, queued before B's. */
	ASSERT_TRUE(hook("delay_us", "10000"));
	add_prepare(&a, 4);
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, xioctl(fda, DRM_IOCTL_LUMEN_SUBMIT, &a.s));
		if (!i)
			first = a.s.job_id;
	}

	snprintf(va, sizeof(va), "%llu", (unsigned long long)secret.npu_addr);
	ASSERT_TRUE(hook("region0_va_next", va));
	ASSERT_EQ(0, xioctl(fdb, DRM_IOCTL_LUMEN_SUBMIT, add_prepare(&b, 4)));
	ASSERT_EQ(0, wait_job(fdb, b.s.job_id, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_FAULT, w.status);
	EXPECT_EQ(LUMEN_FAULT_MMU, w.fault_code);
	EXPECT_EQ(secret.npu_addr, w.fault_offset & ~4095ULL);
	EXPECT_TRUE(add_sums_ok(&b, 0));

	for (id = first; id < first + 16; id++) {
		ASSERT_EQ(0, wait_job(fda, id, &w));
		EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status) TH_LOG("A job %llu", id);
	}
	EXPECT_TRUE(add_sums_ok(&a, 4));
	ASSERT_TRUE(hook("delay_us", "0"));
	for (i = 0; i < secret.size / 4; i++)
		if (((__u32 *)secret.map)[i] != (i ^ 0x5eC2e7))
			break;
	EXPECT_EQ(secret.size / 4, i);

	/* Both clients go on. */
	ASSERT_EQ(0, add_run(&a, 3, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	EXPECT_TRUE(add_sums_ok(&a, 3));
	ASSERT_EQ(0, add_run(&b, 2, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	EXPECT_TRUE(add_sums_ok(&b, 2));
	close(fdb);
	close(fda);
}

TEST_HARNESS_MAIN
