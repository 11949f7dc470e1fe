// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Lifetimes: a process killed with jobs in flight, a file closed with
 * jobs in flight, handles closed under a queued job. Nothing may leak:
 * the driver's live object counts (debugfs "objects") return to zero.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

FIXTURE(lifetime) {
	struct lumen_objects idle;
};

FIXTURE_SETUP(lifetime)
{
	/* Every earlier test closed its files: nothing may be left. */
	ASSERT_EQ(0, objects_wait_idle(&self->idle, 20))
		TH_LOG("%s", objects_str(&self->idle));
}

FIXTURE_TEARDOWN(lifetime)
{
	hook("delay_us", "0");
}

/* Queue @n jobs by ioctl and @n through io_uring; returns after queuing. */
static int queue_jobs(int fd, struct add_ctx *c, struct io_uring *ring, int n)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, add_prepare(c, 4));
		if (ret)
			return ret;
		c->s.job_id = 0;	/* an out field of the ioctl only */
		ret = uring_queue(ring, fd, &c->s, i);
		if (ret)
			return ret;
	}
	return io_uring_submit(ring) == n ? 0 : -EIO;
}

TEST_F_TIMEOUT(lifetime, process_killed_mid_job, 60)
{
	struct lumen_objects o;
	int ready[2], status;
	pid_t pid;
	char x;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_TRUE(hook("delay_us", "30000"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct io_uring ring;
		struct add_ctx c;
		int fd = lumen_open();

		if (fd < 0 || add_ctx_init(&c, fd) || uring_init(&ring, 32) ||
		    queue_jobs(fd, &c, &ring, 16))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(ready[1]);
	ASSERT_EQ(1, read(ready[0], &x, 1));
	ASSERT_EQ(0, objects_read(&o));
	EXPECT_LT(0, o.jobs);	/* killed with jobs in flight */
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, objects_wait_idle(&o, 30)) TH_LOG("%s", objects_str(&o));
	close(ready[0]);
}

TEST_F_TIMEOUT(lifetime, fd_closed_mid_job, 60)
{
	struct lumen_objects o;
	struct io_uring ring;
	struct add_ctx c;
	int fd = lumen_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, uring_init(&ring, 32));
	ASSERT_TRUE(hook("delay_us", "20000"));
	ASSERT_EQ(0, queue_jobs(fd, &c, &ring, 16));
	munmap(c.dst.map, c.dst.size);
	munmap(c.src.map, c.src.size);
	munmap(c.args.map, c.args.size);
	close(fd);
	/* The ring holds the file for its commands; closing it lets go. */
	io_uring_queue_exit(&ring);
	ASSERT_EQ(0, objects_read(&o));
	EXPECT_LT(0, o.jobs);
	EXPECT_EQ(0, objects_wait_idle(&o, 30)) TH_LOG("%s", objects_str(&o));
}

/* The job keeps what it uses: handles closed under it change nothing. */
TEST_F_TIMEOUT(lifetime, handles_closed_under_queued_job, 60)
{
	struct drm_lumen_program_destroy pd = {};
	struct drm_gem_close gc = {};
	struct drm_lumen_job_wait w;
	struct lumen_objects o;
	struct nop_ctx nop;
	struct add_ctx c;
	int fd = lumen_open(), i;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, nop_ctx_init(&nop, fd));
	ASSERT_TRUE(hook("delay_us", "20000"));
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &nop.s));
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, add_prepare(&c, 4)));
	pd.handle = c.program;
	EXPECT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &pd));
	gc.handle = c.dst.handle;
	EXPECT_EQ(0, xioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc));
	gc.handle = c.src.handle;
	EXPECT_EQ(0, xioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc));
	ASSERT_EQ(0, wait_job(fd, c.s.job_id, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	EXPECT_TRUE(add_sums_ok(&c, 4));	/* still mmapped here */
	munmap(c.dst.map, c.dst.size);
	munmap(c.src.map, c.src.size);
	munmap(c.args.map, c.args.size);
	munmap(nop.bo.map, nop.bo.size);
	close(fd);
	EXPECT_EQ(0, objects_wait_idle(&o, 30)) TH_LOG("%s", objects_str(&o));
}

TEST_HARNESS_MAIN
