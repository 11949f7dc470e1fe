// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Driver overhead, measured with an empty (NOP) job in the guest:
 *
 * - round trip of one job, submit to known-complete, through the SUBMIT
 *   ioctl plus a syncobj wait and through one io_uring command whose CQE
 *   is the completion; the two paths alternate in blocks so that drift of
 *   a loaded host hits both alike;
 * - jobs per second with 1 and with 64 jobs in flight (io_uring).
 *
 *   lumen_bench [-n ROUND_TRIPS] [-b BLOCK] [-t SECONDS]
 *
 * Prints a table; under TCG the figures say more about the emulator than
 * about silicon, so compare the rows with each other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lumen_util.h"

static void die(const char *what, int err)
{
	fprintf(stderr, "lumen_bench: %s: %s\n", what, strerror(-err));
	exit(1);
}

static __u64 ioctl_round_trip(struct nop_ctx *nop, __u32 syncobj)
{
	struct drm_syncobj_wait w = {
		.handles = (__u64)(unsigned long)&syncobj,
		.count_handles = 1,
	};
	__u64 t0 = now_ns();
	int ret;

	ret = xioctl(nop->fd, DRM_IOCTL_LUMEN_SUBMIT, &nop->s);
	if (ret)
		die("SUBMIT", ret);
	w.timeout_nsec = deadline_ns(10);
	ret = xioctl(nop->fd, DRM_IOCTL_SYNCOBJ_WAIT, &w);
	if (ret)
		die("SYNCOBJ_WAIT", ret);
	return now_ns() - t0;
}

static __u64 uring_round_trip(struct nop_ctx *nop, struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	__u64 t0 = now_ns();
	int ret;

	nop->s.job_id = 0;	/* an out field of the ioctl only */
	ret = uring_queue(ring, nop->fd, &nop->s, 0);
	if (ret)
		die("io_uring SQE", ret);
	ret = io_uring_submit_and_wait(ring, 1);
	if (ret < 0)
		die("io_uring_submit_and_wait", ret);
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		die("io_uring_wait_cqe", ret);
	if (cqe->res)
		die("NOP job", cqe->res);
	io_uring_cqe_seen(ring, cqe);
	return now_ns() - t0;
}

/* Jobs completed per second over @seconds with @depth in flight. */
static double throughput(struct nop_ctx *nop, unsigned int depth, double seconds)
{
	__u64 start, end, done = 0, sent = 0;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int ret;

	ret = uring_init(&ring, depth);
	if (ret)
		die("io_uring_queue_init", ret);
	start = now_ns();
	end = start + (__u64)(seconds * 1e9);
	for (;;) {
		while (sent - done < depth && now_ns() < end) {
			ret = uring_queue(&ring, nop->fd, &nop->s, sent);
			if (ret)
				die("io_uring SQE", ret);
			sent++;
		}
		if (sent == done)
			break;
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0)
			die("io_uring_submit_and_wait", ret);
		while (!io_uring_peek_cqe(&ring, &cqe)) {
			if (cqe->res)
				die("NOP job", cqe->res);
			io_uring_cqe_seen(&ring, cqe);
			done++;
		}
	}
	io_uring_queue_exit(&ring);
	return done / ((now_ns() - start) / 1e9);
}

int main(int argc, char **argv)
{
	unsigned int n = 2000, block = 100, i, k;
	double seconds = 3;
	struct drm_lumen_sync out = {};
	struct io_uring ring;
	struct nop_ctx nop;
	__u64 *lat[2];
	__u32 syncobj;
	int fd, ret, opt;

	while ((opt = getopt(argc, argv, "n:b:t:")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			block = strtoul(optarg, NULL, 0);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: lumen_bench [-n N] [-b BLOCK] [-t S]\n");
			return 2;
		}
	}
	if (!n || !block)
		return 2;

	fd = lumen_open();
	if (fd < 0)
		die(LUMEN_DEVICE, -errno);
	ret = nop_ctx_init(&nop, fd);
	if (ret)
		die("NOP program", ret);
	ret = syncobj_new(fd, &syncobj);
	if (ret)
		die("SYNCOBJ_CREATE", ret);
	ret = uring_init(&ring, 4);
	if (ret)
		die("io_uring_queue_init", ret);
	lat[0] = calloc(n, sizeof(**lat));
	lat[1] = calloc(n, sizeof(**lat));
	if (!lat[0] || !lat[1])
		die("calloc", -ENOMEM);

	/* Warm up both paths (and wake the device). */
	out.handle = syncobj;
	for (i = 0; i < 50; i++) {
		nop.s.out_syncs = (__u64)(unsigned long)&out;
		nop.s.out_sync_count = 1;
		nop.s.sync_size = sizeof(out);
		ioctl_round_trip(&nop, syncobj);
		nop.s.out_syncs = 0;
		nop.s.out_sync_count = 0;
		nop.s.sync_size = 0;
		uring_round_trip(&nop, &ring);
	}

	for (i = 0; i < n; i += block) {
		unsigned int m = n - i < block ? n - i : block;

		nop.s.out_syncs = (__u64)(unsigned long)&out;
		nop.s.out_sync_count = 1;
		nop.s.sync_size = sizeof(out);
		for (k = 0; k < m; k++)
			lat[0][i + k] = ioctl_round_trip(&nop, syncobj);
		nop.s.out_syncs = 0;
		nop.s.out_sync_count = 0;
		nop.s.sync_size = 0;
		for (k = 0; k < m; k++)
			lat[1][i + k] = uring_round_trip(&nop, &ring);
	}
	io_uring_queue_exit(&ring);

	printf("NOP job round trip, %u each, alternating blocks of %u\n", n, block);
	printf("%-34s %12s %12s\n", "path", "median us", "p99 us");
	printf("%-34s %12.1f %12.1f\n", "ioctl SUBMIT + SYNCOBJ_WAIT",
	       percentile_u64(lat[0], n, 50) / 1e3,
	       percentile_u64(lat[0], n, 99) / 1e3);
	printf("%-34s %12.1f %12.1f\n", "io_uring LUMEN_URING_CMD_SUBMIT",
	       percentile_u64(lat[1], n, 50) / 1e3,
	       percentile_u64(lat[1], n, 99) / 1e3);
	printf("\nNOP job throughput (io_uring), %.1f s each\n", seconds);
	printf("%-34s %12s\n", "jobs in flight", "jobs/s");
	printf("%-34u %12.0f\n", 1, throughput(&nop, 1, seconds));
	printf("%-34u %12.0f\n", 64, throughput(&nop, 64, seconds));
	close(fd);
	return 0;
}
