// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Several processes at once, and priorities: four processes with 1000
 * jobs each all complete correctly; with the device made slow so that a
 * queue builds up, high-priority jobs finish sooner than low-priority
 * ones submitted alongside them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

#define PROCS		4
#define JOBS		1000
#define WINDOW		32
#define PAGES		64

/*
 * One process's share: JOBS ADD jobs through io_uring, WINDOW in flight,
 * job i writing dst page i % PAGES with 1 + i % 4 rows. Returns a bit
 * mask of what went wrong (0: all fine).
 */
static int worker(unsigned int seed)
{
	unsigned int sent = 0, done = 0, i, k, bad = 0;
	struct drm_lumen_region r[3];
	struct drm_lumen_submit s;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct buf dst, args;
	const float *s0, *s1;
	struct add_ctx c;
	int fd = lumen_open();

	srand(seed);
	if (fd < 0 || add_ctx_init(&c, fd) || bo_new(fd, PAGES * 4096, &dst) ||
	    bo_new(fd, 4 * 4096, &args) || uring_init(&ring, WINDOW))
		return 1;
	add_prepare(&c, 1);
	for (i = 0; i < dst.size / 4; i++)
		((float *)dst.map)[i] = -1.0f;
	for (i = 0; i < 4; i++)
		((__u32 *)((char *)args.map + i * 4096))[ADD_ROWS_SLOT] = i + 1;
	memcpy(r, c.r, sizeof(r));
	s = c.s;
	s.regions = (__u64)(unsigned long)r;
	r[0].handle = dst.handle;
	r[0].size = 4096;
	r[2].handle = args.handle;
	r[2].size = 4096;

	while (done < JOBS) {
		while (sent < JOBS && sent - done < WINDOW) {
			r[0].offset = (sent % PAGES) * 4096ULL;
			r[2].offset = (sent % 4) * 4096ULL;
			if (uring_queue(&ring, fd, &s, sent) ||
			    io_uring_submit(&ring) != 1)
				return 2;
			sent++;
		}
		if (io_uring_wait_cqe(&ring, &cqe))
			return 4;
		bad |= cqe->res ? 8 : 0;
		io_uring_cqe_seen(&ring, cqe);
		done++;
	}
	io_uring_queue_exit(&ring);

	/* Page p last saw job i with i % 64 == p, so i % 4 == p % 4. */
	s0 = (const float *)((char *)c.src.map + ADD_SRC0_OFF);
	s1 = (const float *)((char *)c.src.map + ADD_SRC1_OFF);
	for (i = 0; i < PAGES; i++) {
		const float *d = (const float *)((char *)dst.map + i * 4096);
		unsigned int rows = i % 4 + 1;

		for (k = 0; k < ADD_WIDTH * ADD_CAPACITY; k++) {
			float want = k / ADD_WIDTH < rows ?
				     s0[k] + s1[k % ADD_WIDTH] : -1.0f;

			if (d[k] != want)
				bad |= 16;
		}
	}
	close(fd);
	return bad;
}

FIXTURE(load) {
	int unused;
};

FIXTURE_SETUP(load)
{
}

FIXTURE_TEARDOWN(load)
{
	hook("delay_us", "0");
}

TEST_F_TIMEOUT(load, four_processes_1000_jobs_each, 170)
{
	pid_t pid[PROCS];
	int i, status;

	for (i = 0; i < PROCS; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			_exit(worker(1234 + i));
	}
	for (i = 0; i < PROCS; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("process %d", i);
	}
}

/*
 * 24 low and 24 high priority jobs, alternating, submitted at once to a
 * device that takes 10 ms a job: the device holds 8, the scheduler picks
 * the rest, high first. Latency is submit to CQE. Only the order of the
 * medians is asserted, with a wide margin: the high median must be under
 * three quarters of the low one (ideally it is about a third).
 */
#define PRIO_JOBS	24

TEST_F_TIMEOUT(load, high_priority_lower_median_latency, 60)
{
	__u64 sent[2 * PRIO_JOBS], lat[2][PRIO_JOBS], med[2];
	unsigned int n[2] = {}, i;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct nop_ctx nop;
	int fd = lumen_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, nop_ctx_init(&nop, fd));
	ASSERT_EQ(0, uring_init(&ring, 2 * PRIO_JOBS));
	ASSERT_TRUE(hook("delay_us", "10000"));
	for (i = 0; i < 2 * PRIO_JOBS; i++) {
		nop.s.priority = i % 2 ? DRM_LUMEN_PRIORITY_HIGH :
					 DRM_LUMEN_PRIORITY_LOW;
		ASSERT_EQ(0, uring_queue(&ring, fd, &nop.s, i));
	}
	/* One io_uring_enter: all are issued within microseconds. */
	for (i = 0; i < 2 * PRIO_JOBS; i++)
		sent[i] = now_ns();
	ASSERT_EQ(2 * PRIO_JOBS, io_uring_submit(&ring));
	for (i = 0; i < 2 * PRIO_JOBS; i++) {
		unsigned int k, high;

		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		k = cqe->user_data;
		ASSERT_GT(2 * PRIO_JOBS, k);
		EXPECT_EQ(0, cqe->res);
		high = k % 2;
		lat[high][n[high]++] = now_ns() - sent[k];
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	ASSERT_TRUE(hook("delay_us", "0"));
	ASSERT_EQ(PRIO_JOBS, n[0]);
	ASSERT_EQ(PRIO_JOBS, n[1]);
	med[0] = median_u64(lat[0], PRIO_JOBS);
	med[1] = median_u64(lat[1], PRIO_JOBS);
	TH_LOG("median latency: high %llu us, low %llu us",
	       (unsigned long long)med[1] / 1000,
	       (unsigned long long)med[0] / 1000);
	EXPECT_LT(med[1] * 4, med[0] * 3);
	close(fd);
}

TEST_HARNESS_MAIN
