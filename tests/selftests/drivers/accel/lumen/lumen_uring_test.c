// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * LUMEN_URING_CMD_SUBMIT: the CQE comes when the job completes and
 * carries its status; many in flight; the ring or the device file closed
 * while jobs run; the job is put on the ring by the CPU that submitted it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

FIXTURE(uring) {
	int fd;
	struct add_ctx c;
};

FIXTURE_SETUP(uring)
{
	self->fd = lumen_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, add_ctx_init(&self->c, self->fd));
}

FIXTURE_TEARDOWN(uring)
{
	hook("delay_us", "0");
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(uring, cqe_at_completion)
{
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	unsigned int rows;

	ASSERT_EQ(0, uring_init(&ring, 8));
	for (rows = 1; rows <= ADD_CAPACITY + 1; rows++) {
		ASSERT_EQ(0, uring_queue(&ring, self->fd,
					 add_prepare(&self->c, rows), rows));
		ASSERT_EQ(1, io_uring_submit(&ring));
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		EXPECT_EQ(rows, cqe->user_data);
		if (rows <= ADD_CAPACITY) {
			EXPECT_EQ(0, cqe->res);
			EXPECT_TRUE(add_sums_ok(&self->c, rows));
		} else {
			EXPECT_EQ(-EIO, cqe->res);	/* ARG_RANGE fault */
			EXPECT_TRUE(add_sums_ok(&self->c, 0));
		}
		io_uring_cqe_seen(&ring, cqe);
	}
	/* A bad submission fails at once, as the ioctl would. */
	add_prepare(&self->c, 1)->flags = 1;
	ASSERT_EQ(0, uring_queue(&ring, self->fd, &self->c.s, 99));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(-EINVAL, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	/* So does a job id filled in. */
	add_prepare(&self->c, 1)->job_id = 1;
	ASSERT_EQ(0, uring_queue(&ring, self->fd, &self->c.s, 100));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(-EINVAL, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
}

TEST_F(uring, needs_sqe128)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;

	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = self->fd;
	sqe->cmd_op = LUMEN_URING_CMD_SUBMIT;
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(-EINVAL, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
}

/*
 * 128 jobs in flight, each with its own args and dst page; every fifth
 * asks for more rows than the program has, so its CQE must say -EIO
 * while the others say 0, whatever order they complete in.
 */
#define MANY 128

TEST_F_TIMEOUT(uring, many_in_flight_cqe_status, 120)
{
	struct drm_lumen_region r[3];
	struct drm_lumen_submit s;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	struct buf dst, args;
	const float *s0, *s1;
	int seen[MANY] = {};
	unsigned int i, k;

	ASSERT_EQ(0, bo_new(self->fd, MANY * 4096, &dst));
	ASSERT_EQ(0, bo_new(self->fd, MANY * 4096, &args));
	add_prepare(&self->c, 1);
	for (i = 0; i < dst.size / 4; i++)
		((float *)dst.map)[i] = -1.0f;
	memcpy(r, self->c.r, sizeof(r));
	s = self->c.s;
	s.regions = (__u64)(unsigned long)r;
	r[0].handle = dst.handle;
	r[0].size = 4096;
	r[2].handle = args.handle;
	r[2].size = 4096;

	ASSERT_EQ(0, uring_init(&ring, MANY));
	for (i = 0; i < MANY; i++) {
		((__u32 *)((char *)args.map + i * 4096))[ADD_ROWS_SLOT] = i % 5 + 1;
		r[0].offset = i * 4096ULL;
		r[2].offset = i * 4096ULL;
		/* Copied into the SQE: r may change for the next one. */
		ASSERT_EQ(0, uring_queue(&ring, self->fd, &s, i));
		/* The regions are read at issue: submit each before reusing r. */
		ASSERT_EQ(1, io_uring_submit(&ring));
	}
	for (i = 0; i < MANY; i++) {
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		ASSERT_GT(MANY, cqe->user_data);
		k = cqe->user_data;
		seen[k]++;
		EXPECT_EQ(k % 5 + 1 > ADD_CAPACITY ? -EIO : 0, cqe->res)
			TH_LOG("job %u", k);
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);

	s0 = (const float *)((char *)self->c.src.map + ADD_SRC0_OFF);
	s1 = (const float *)((char *)self->c.src.map + ADD_SRC1_OFF);
	for (i = 0; i < MANY; i++) {
		const float *d = (const float *)((char *)dst.map + i * 4096);
		unsigned int rows = i % 5 + 1, bad = 0;

		EXPECT_EQ(1, seen[i]);
		for (k = 0; k < ADD_WIDTH * ADD_CAPACITY; k++) {
			float want = rows <= ADD_CAPACITY && k / ADD_WIDTH < rows ?
				     s0[k] + s1[k % ADD_WIDTH] : -1.0f;

			bad += d[k] != want;
		}
		EXPECT_EQ(0, bad) TH_LOG("job %u", i);
	}
}

/* An injected device fault: -EIO in the CQE, the job id in big_cqe[0]. */
TEST_F(uring, faulting_job_cqe_carries_error)
{
	struct drm_lumen_job_wait w;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	__u64 id;

	ASSERT_EQ(0, io_uring_queue_init(4, &ring, IORING_SETUP_SQE128 |
					 IORING_SETUP_CQE32));
	ASSERT_TRUE(hook("fault_next", "1"));
	ASSERT_EQ(0, uring_queue(&ring, self->fd, add_prepare(&self->c, 4), 1));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(-EIO, cqe->res);
	id = cqe->big_cqe[0];
	io_uring_cqe_seen(&ring, cqe);
	EXPECT_TRUE(add_sums_ok(&self->c, 0));
	ASSERT_EQ(0, wait_job(self->fd, id, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_FAULT, w.status);
	EXPECT_EQ(LUMEN_FAULT_INJECTED, w.fault_code);

	/* The next one is fine. */
	ASSERT_EQ(0, uring_queue(&ring, self->fd, add_prepare(&self->c, 3), 2));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(0, cqe->res);
	EXPECT_EQ(id + 1, cqe->big_cqe[0]);
	io_uring_cqe_seen(&ring, cqe);
	EXPECT_TRUE(add_sums_ok(&self->c, 3));
	io_uring_queue_exit(&ring);
}

/*
 * Closing a ring with commands in flight cancels the commands (their CQEs
 * have nowhere to go), not the jobs: they complete, and the file keeps
 * working through a new ring.
 */
TEST_F_TIMEOUT(uring, ring_closed_with_jobs_in_flight, 60)
{
	struct drm_lumen_job_wait w;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	__u64 id;
	int i;

	ASSERT_TRUE(hook("delay_us", "50000"));
	ASSERT_EQ(0, uring_init(&ring, 8));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, uring_queue(&ring, self->fd, add_prepare(&self->c, 4),
					 i));
	ASSERT_EQ(4, io_uring_submit(&ring));
	io_uring_queue_exit(&ring);
	for (id = 1; id <= 4; id++) {
		ASSERT_EQ(0, wait_job(self->fd, id, &w));
		EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	}
	EXPECT_TRUE(add_sums_ok(&self->c, 4));
	ASSERT_TRUE(hook("delay_us", "0"));

	ASSERT_EQ(0, uring_init(&ring, 8));
	ASSERT_EQ(0, uring_queue(&ring, self->fd, add_prepare(&self->c, 2), 9));
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(0, cqe->res);
	EXPECT_TRUE(add_sums_ok(&self->c, 2));
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
}

/*
 * The device file closed while its commands are in flight: the ring keeps
 * the file until they complete, the CQEs still arrive with the jobs'
 * status, and afterwards nothing of the file is left.
 */
TEST_F_TIMEOUT(uring, fd_closed_with_jobs_in_flight, 60)
{
	struct lumen_objects o;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int i;

	ASSERT_TRUE(hook("delay_us", "30000"));
	ASSERT_EQ(0, uring_init(&ring, 16));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, uring_queue(&ring, self->fd, add_prepare(&self->c, 4),
					 i));
	ASSERT_EQ(8, io_uring_submit(&ring));
	close(self->fd);
	self->fd = -1;
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		EXPECT_EQ(0, cqe->res);
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	ASSERT_TRUE(hook("delay_us", "0"));
	/* The mmaps of the context still hold its buffers. */
	EXPECT_TRUE(add_sums_ok(&self->c, 4));
	munmap(self->c.dst.map, self->c.dst.size);
	munmap(self->c.src.map, self->c.src.size);
	munmap(self->c.args.map, self->c.args.size);
	EXPECT_EQ(0, objects_wait_idle(&o, 20))
		TH_LOG("%s", objects_str(&o));
}

#define TRACEFS "/sys/kernel/tracing"

static int tracefs_write(const char *file, const char *value)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	ret = write(fd, value, strlen(value)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* CPUs of the trace lines holding @what: counts per CPU */
static int trace_cpus(const char *what, unsigned int *on, unsigned int cpus)
{
	char line[512];
	FILE *f = fopen(TRACEFS "/trace", "r");
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *b = strchr(line, '[');
		unsigned int cpu;

		if (line[0] == '#' || !strstr(line, what) || !b ||
		    sscanf(b, "[%u]", &cpu) != 1 || cpu >= cpus)
			continue;
		on[cpu]++;
		n++;
	}
	fclose(f);
	return n;
}

#define PINNED_JOBS 16

/*
 * drm_sched's run_job work runs on the CPU that submitted the job: the
 * submitter sleeps there and its work queue is per CPU, so no idle CPU is
 * woken by an IPI to put the job on the ring (the largest piece of a
 * token's round trip in a QEMU guest with the unbound ordered queue
 * drm_sched makes by default). Pinned to each CPU in turn, with a ring
 * made there (io_uring's workers keep the CPUs of the task that made
 * them), at least three jobs in four have their lumen_job_run trace event
 * on that CPU: a command io_uring hands to a worker thread, or a job the
 * completion path kicks, may run elsewhere (13 of 16 seen on the debug
 * kernel). With drm_sched's own queue: 0 of 16 on the second CPU.
 */
TEST_F(uring, run_job_on_the_submitting_cpu)
{
	unsigned int cpus = sysconf(_SC_NPROCESSORS_ONLN), on[64], i;
	unsigned int targets[2] = { 0, cpus - 1 };
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	cpu_set_t all, one;
	struct stat st;

	if (cpus < 2 || cpus > 64)
		SKIP(return, "needs 2 to 64 online CPUs, not %u", cpus);
	if (stat(TRACEFS "/events", &st))
		ASSERT_EQ(0, mount("tracefs", TRACEFS, "tracefs", 0, NULL));
	ASSERT_EQ(0, tracefs_write("events/lumen/lumen_job_run/enable", "1"));
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(all), &all));
	for (int t = 0; t < 2; t++) {
		CPU_ZERO(&one);
		CPU_SET(targets[t], &one);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
		ASSERT_EQ(0, uring_init(&ring, 8));
		ASSERT_EQ(0, tracefs_write("trace", ""));
		ASSERT_EQ(0, tracefs_write("tracing_on", "1"));
		for (i = 0; i < PINNED_JOBS; i++) {
			ASSERT_EQ(0, uring_queue(&ring, self->fd,
						 add_prepare(&self->c, 1), i));
			ASSERT_EQ(1, io_uring_submit_and_wait(&ring, 1));
			ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
			EXPECT_EQ(0, cqe->res);
			io_uring_cqe_seen(&ring, cqe);
		}
		ASSERT_EQ(0, tracefs_write("tracing_on", "0"));
		io_uring_queue_exit(&ring);
		memset(on, 0, sizeof(on));
		EXPECT_EQ(PINNED_JOBS, trace_cpus("lumen_job_run:", on, cpus));
		EXPECT_LE(PINNED_JOBS * 3 / 4, on[targets[t]]) {
			TH_LOG("pinned to CPU %u: %u of %u jobs run there",
			       targets[t], on[targets[t]], PINNED_JOBS);
		}
	}
	tracefs_write("events/lumen/lumen_job_run/enable", "0");
	sched_setaffinity(0, sizeof(all), &all);
}

/*
 * What a finished job held is dropped by a work item on the CPU that freed
 * the job (the submitter's, with the per-CPU submit queue), not by an
 * unbound worker: that one is woken on an idle CPU, by an IPI, for every
 * job. Pinned to each CPU in turn, three release runs in four at least
 * are on it (with system_unbound_wq: none on the second CPU).
 */
TEST_F(uring, release_work_on_the_submitting_cpu)
{
	unsigned int cpus = sysconf(_SC_NPROCESSORS_ONLN), on[64], i;
	unsigned int targets[2] = { 0, cpus - 1 };
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	cpu_set_t all, one;
	struct stat st;
	int n;

	if (cpus < 2 || cpus > 64)
		SKIP(return, "needs 2 to 64 online CPUs, not %u", cpus);
	if (stat(TRACEFS "/events", &st))
		ASSERT_EQ(0, mount("tracefs", TRACEFS, "tracefs", 0, NULL));
	ASSERT_EQ(0, tracefs_write("events/workqueue/workqueue_execute_start/enable",
				   "1"));
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(all), &all));
	for (int t = 0; t < 2; t++) {
		CPU_ZERO(&one);
		CPU_SET(targets[t], &one);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
		ASSERT_EQ(0, uring_init(&ring, 8));
		ASSERT_EQ(0, tracefs_write("trace", ""));
		ASSERT_EQ(0, tracefs_write("tracing_on", "1"));
		for (i = 0; i < PINNED_JOBS; i++) {
			ASSERT_EQ(0, uring_queue(&ring, self->fd,
						 add_prepare(&self->c, 1), i));
			ASSERT_EQ(1, io_uring_submit_and_wait(&ring, 1));
			ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
			EXPECT_EQ(0, cqe->res);
			io_uring_cqe_seen(&ring, cqe);
		}
		usleep(100000);		/* the last job's release */
		ASSERT_EQ(0, tracefs_write("tracing_on", "0"));
		io_uring_queue_exit(&ring);
		memset(on, 0, sizeof(on));
		n = trace_cpus("function lumen_job_release_work", on, cpus);
		EXPECT_LT(0, n);
		EXPECT_LE((unsigned int)n * 3 / 4, on[targets[t]]) {
			TH_LOG("pinned to CPU %u: %u of %d release runs there",
			       targets[t], on[targets[t]], n);
		}
	}
	tracefs_write("events/workqueue/workqueue_execute_start/enable", "0");
	sched_setaffinity(0, sizeof(all), &all);
}

/*
 * Interrupts of lumen's vectors per CPU, from /proc/interrupts: the rows
 * whose name mentions lumen, summed. Returns the CPU columns, or -errno.
 */
static int lumen_irqs_per_cpu(unsigned long long *count, unsigned int max)
{
	char *line = NULL;
	size_t size = 0;
	int cpus = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -errno;
	memset(count, 0, max * sizeof(*count));
	while (getline(&line, &size, f) > 0) {
		char *p = line, *end;
		int i;

		if (!cpus) {	/* the header: one column per CPU */
			while ((p = strstr(p, "CPU"))) {
				cpus++;
				p += 3;
			}
			continue;
		}
		p = strchr(line, ':');
		if (!strstr(line, "lumen") || !p)
			continue;
		p++;
		for (i = 0; i < cpus && i < (int)max; i++) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			count[i] += v;
			p = end;
		}
	}
	free(line);
	fclose(f);
	return cpus;
}

/*
 * The completion interrupt of a job comes to the CPU that submitted it,
 * where its waiter sleeps: the device has a completion vector per CPU and
 * each job names the one of the CPU that put it on the ring. Pinned to
 * each CPU in turn (with its ring made there), at least three jobs in four
 * are counted in /proc/interrupts on that CPU. With one completion vector,
 * every job's interrupt goes wherever that vector points: a halted vCPU
 * then wakes the waiter's by IPI on every job.
 */
TEST_F(uring, completion_irq_on_the_submitting_cpu)
{
	unsigned int cpus = sysconf(_SC_NPROCESSORS_ONLN), i, cpu;
	unsigned long long before[64], after[64];
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	cpu_set_t all, one;

	if (cpus < 2 || cpus > 64)
		SKIP(return, "needs 2 to 64 online CPUs, not %u", cpus);
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(all), &all));
	for (cpu = 0; cpu < cpus; cpu++) {
		unsigned long long there, total = 0;

		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
		ASSERT_EQ(0, uring_init(&ring, 8));
		ASSERT_LE(2, lumen_irqs_per_cpu(before, 64));
		for (i = 0; i < PINNED_JOBS; i++) {
			ASSERT_EQ(0, uring_queue(&ring, self->fd,
						 add_prepare(&self->c, 1), i));
			ASSERT_EQ(1, io_uring_submit_and_wait(&ring, 1));
			ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
			EXPECT_EQ(0, cqe->res);
			io_uring_cqe_seen(&ring, cqe);
		}
		ASSERT_LE(2, lumen_irqs_per_cpu(after, 64));
		io_uring_queue_exit(&ring);
		for (i = 0; i < cpus; i++)
			total += after[i] - before[i];
		there = after[cpu] - before[cpu];
		EXPECT_LE(PINNED_JOBS, total);
		EXPECT_LE(PINNED_JOBS * 3 / 4, there) {
			TH_LOG("pinned to CPU %u: %llu of %llu lumen interrupts there",
			       cpu, there, total);
		}
	}
	sched_setaffinity(0, sizeof(all), &all);
}

static int cpu_online_write(unsigned int cpu, const char *value)
{
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/online",
		 cpu);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, value, strlen(value)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * A job's completion vector is managed: when the last CPU of its affinity
 * goes offline the IRQ core shuts it down, and the device's message for a
 * job still running waits in the MSI-X pending bits. The job must still
 * complete, late (the driver finds it done when its timeout comes, 1 s
 * here), not fail as hung with -ETIMEDOUT after a reset.
 */
TEST_F_TIMEOUT(uring, job_done_while_its_cpu_goes_offline, 60)
{
	unsigned int cpus = sysconf(_SC_NPROCESSORS_ONLN), last = cpus - 1;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	cpu_set_t all, one;
	int ret;

	if (cpus < 2 || cpus > 64)
		SKIP(return, "needs 2 to 64 online CPUs, not %u", cpus);
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(all), &all));
	CPU_ZERO(&one);
	CPU_SET(last, &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	ASSERT_EQ(0, uring_init(&ring, 8));
	ASSERT_TRUE(hook("delay_us", "300000"));
	ASSERT_EQ(0, uring_queue(&ring, self->fd, add_prepare(&self->c, 2), 7));
	ASSERT_EQ(1, io_uring_submit(&ring));
	usleep(50000);
	CPU_CLR(last, &all);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(all), &all));
	ret = cpu_online_write(last, "0");
	if (ret) {
		io_uring_wait_cqe(&ring, &cqe);
		io_uring_queue_exit(&ring);
		SKIP(return, "cannot take CPU %u offline: %s", last,
		     strerror(-ret));
	}
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(7, cqe->user_data);
	EXPECT_EQ(0, cqe->res);
	EXPECT_TRUE(add_sums_ok(&self->c, 2));
	io_uring_cqe_seen(&ring, cqe);
	EXPECT_EQ(0, cpu_online_write(last, "1"));
	io_uring_queue_exit(&ring);
	CPU_SET(last, &all);
	sched_setaffinity(0, sizeof(all), &all);
}

TEST_HARNESS_MAIN
