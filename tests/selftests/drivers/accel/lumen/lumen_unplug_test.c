// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Unbinding the driver with the device in use, in the spirit of IGT's
 * core_hotunplug: with the node idle, open, mmapped, with jobs in flight,
 * with io_uring commands pending and with an exported dma-buf. After the
 * unbind every ioctl on an old file fails with -ENODEV, pending work
 * completes (done, or -ENODEV), mappings stay readable, and closing
 * everything frees it (the debug kernel's KASAN and kmemleak check the
 * freeing); a rebind gives a working device.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

FIXTURE(unplug) {
	char bdf[64];
};

FIXTURE_SETUP(unplug)
{
	struct lumen_objects o;

	ASSERT_EQ(0, objects_wait_idle(&o, 20)) TH_LOG("%s", objects_str(&o));
	ASSERT_EQ(0, device_bdf(self->bdf, sizeof(self->bdf)));
}

FIXTURE_TEARDOWN(unplug)
{
	/* Bound again, whatever happened. */
	if (access(LUMEN_DEVICE, F_OK))
		driver_bind(self->bdf, 20);
}

static void rebind_and_run(struct __test_metadata *_metadata, const char *bdf)
{
	struct drm_lumen_job_wait w;
	struct lumen_objects o;
	struct add_ctx c;
	int fd;

	ASSERT_EQ(0, driver_bind(bdf, 20));
	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, add_run(&c, 4, &w));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	EXPECT_TRUE(add_sums_ok(&c, 4));
	add_ctx_unmap(&c);
	close(fd);
	EXPECT_EQ(0, objects_wait_idle(&o, 20)) TH_LOG("%s", objects_str(&o));
}

TEST_F_TIMEOUT(unplug, idle, 60)
{
	ASSERT_EQ(0, driver_unbind(self->bdf));
	EXPECT_NE(0, access(LUMEN_DEVICE, F_OK));
	rebind_and_run(_metadata, self->bdf);
}

TEST_F_TIMEOUT(unplug, open_file, 60)
{
	struct drm_lumen_get_param gp = { .param = DRM_LUMEN_PARAM_DEVICE_ID };
	struct drm_lumen_bo_create bc = { .size = 4096 };
	struct add_ctx c;
	int fd;

	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, driver_unbind(self->bdf));
	EXPECT_EQ(-ENODEV, xioctl(fd, DRM_IOCTL_LUMEN_GET_PARAM, &gp));
	EXPECT_EQ(-ENODEV, xioctl(fd, DRM_IOCTL_LUMEN_BO_CREATE, &bc));
	EXPECT_EQ(-ENODEV, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, add_prepare(&c, 4)));
	/* Closing takes the buffers, program and address space down. */
	add_ctx_unmap(&c);
	close(fd);
	rebind_and_run(_metadata, self->bdf);
}

TEST_F_TIMEOUT(unplug, mmapped, 60)
{
	struct add_ctx c;
	float *src;
	int fd, i;

	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	add_prepare(&c, 4);
	src = c.src.map;
	close(fd);	/* the mappings hold the buffers now */
	ASSERT_EQ(0, driver_unbind(self->bdf));
	/* Memory stays memory: readable and writable until munmap. */
	for (i = 0; i < 64; i++)
		src[i] += 1.0f;
	EXPECT_EQ(0, munmap(c.src.map, c.src.size));
	EXPECT_EQ(0, munmap(c.dst.map, c.dst.size));
	EXPECT_EQ(0, munmap(c.args.map, c.args.size));
	rebind_and_run(_metadata, self->bdf);
}

/* Jobs on the device and queued behind it, by ioctl and io_uring. */
TEST_F_TIMEOUT(unplug, jobs_in_flight_and_uring_pending, 90)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct add_ctx c;
	__u32 syncobj;
	int fd, i, seen = 0;

	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, syncobj_new(fd, &syncobj));
	ASSERT_EQ(0, uring_init(&ring, 16));
	ASSERT_TRUE(hook("delay_us", "100000"));
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, add_prepare(&c, 4)));
		c.s.job_id = 0;
		ASSERT_EQ(0, uring_queue(&ring, fd, &c.s, i));
	}
	ASSERT_EQ(6, io_uring_submit(&ring));
	usleep(150000);
	ASSERT_EQ(0, driver_unbind(self->bdf));

	/* Every command completes: done before the unbind, or -ENODEV. */
	for (i = 0; i < 6; i++) {
		struct __kernel_timespec ts = { .tv_sec = 20 };

		ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ts));
		EXPECT_TRUE(cqe->res == 0 || cqe->res == -ENODEV)
			TH_LOG("res %d", cqe->res);
		seen++;
		io_uring_cqe_seen(&ring, cqe);
	}
	EXPECT_EQ(6, seen);
	io_uring_queue_exit(&ring);
	add_ctx_unmap(&c);
	close(fd);
	rebind_and_run(_metadata, self->bdf);
}

TEST_F_TIMEOUT(unplug, dmabuf_exported, 60)
{
	struct drm_prime_handle ph = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct buf b;
	void *map;
	int fd;

	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bo_new(fd, 8192, &b));
	memset(b.map, 0x5a, 8192);
	ph.handle = b.handle;
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &ph));
	ASSERT_EQ(0, bo_close(fd, &b));
	close(fd);
	ASSERT_EQ(0, driver_unbind(self->bdf));
	/* The dma-buf outlives the device that exported it. */
	map = mmap(NULL, 8192, PROT_READ, MAP_SHARED, ph.fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0x5a, ((unsigned char *)map)[8191]);
	munmap(map, 8192);
	close(ph.fd);
	rebind_and_run(_metadata, self->bdf);
}

TEST_HARNESS_MAIN
