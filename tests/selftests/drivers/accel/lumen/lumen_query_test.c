// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * DEV_QUERY: the size rules of struct drm_lumen_dev_query, each refusal
 * with its own errno and nothing written; the device counters of
 * DRM_LUMEN_QUERY_COUNTERS grow with work, are device-wide, and can be
 * read without waking the device.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

#define RUNTIME_STATUS "/sys/class/accel/accel0/device/power/runtime_status"

static int query(int fd, __u32 type, void *buf, __u32 *size)
{
	struct drm_lumen_dev_query q = {
		.type = type,
		.size = *size,
		.pointer = (__u64)(unsigned long)buf,
	};
	int ret = xioctl(fd, DRM_IOCTL_LUMEN_DEV_QUERY, &q);

	*size = q.size;
	return ret;
}

static int counters(int fd, struct drm_lumen_counters *c)
{
	__u32 size = sizeof(*c);

	return query(fd, DRM_LUMEN_QUERY_COUNTERS, c, &size);
}

static bool all_bytes(const void *buf, size_t from, size_t to, int val)
{
	const unsigned char *p = buf;

	for (; from < to; from++)
		if (p[from] != val)
			return false;
	return true;
}

TEST(size_probe_and_versions)
{
	struct drm_lumen_get_param gp = { .param = DRM_LUMEN_PARAM_VA_SIZE };
	struct drm_lumen_dev_info *info;
	unsigned char buf[256];
	int fd = lumen_open();
	__u32 size;

	ASSERT_LE(0, fd);
	/* pointer 0: the size of the kernel's answer only. */
	size = 0;
	EXPECT_EQ(0, query(fd, DRM_LUMEN_QUERY_INFO, NULL, &size));
	EXPECT_EQ(sizeof(struct drm_lumen_dev_info), size);
	size = 12345;
	EXPECT_EQ(0, query(fd, DRM_LUMEN_QUERY_COUNTERS, NULL, &size));
	EXPECT_EQ(sizeof(struct drm_lumen_counters), size);

	/* A newer caller: the answer, zeros up to its size, nothing past. */
	memset(buf, 0xa5, sizeof(buf));
	size = 128;
	ASSERT_EQ(0, query(fd, DRM_LUMEN_QUERY_INFO, buf, &size));
	EXPECT_EQ(sizeof(struct drm_lumen_dev_info), size);
	EXPECT_TRUE(all_bytes(buf, sizeof(*info), 128, 0));
	EXPECT_TRUE(all_bytes(buf, 128, sizeof(buf), 0xa5));
	info = (struct drm_lumen_dev_info *)buf;
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_GET_PARAM, &gp));
	EXPECT_EQ(gp.value, info->va_size);
	EXPECT_EQ(LUMEN_ISA_VERSION, info->isa_version);

	memset(buf, 0xa5, sizeof(buf));
	size = 64;
	ASSERT_EQ(0, query(fd, DRM_LUMEN_QUERY_COUNTERS, buf, &size));
	EXPECT_EQ(sizeof(struct drm_lumen_counters), size);
	EXPECT_TRUE(all_bytes(buf, sizeof(struct drm_lumen_counters), 64, 0));
	EXPECT_TRUE(all_bytes(buf, 64, sizeof(buf), 0xa5));
	close(fd);
}

/*
 * Lumen's own dtypes (64 and up) are past DRM_LUMEN_PARAM_DTYPES' bits: the
 * device's register through GET_PARAM and the answer to QUERY_INFO, the
 * same, and the emulated NPU runs both interleaved layouts.
 */
TEST(dtypes_ext_param_and_info)
{
	struct drm_lumen_get_param gp = { .param = DRM_LUMEN_PARAM_DTYPES_EXT };
	struct drm_lumen_get_param next = {
		.param = DRM_LUMEN_PARAM_DTYPES_EXT + 1,
	};
	struct drm_lumen_dev_info info;
	__u32 size = sizeof(info);
	int fd = lumen_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_GET_PARAM, &gp));
	EXPECT_TRUE(gp.value & 1ULL << (LUMEN_DTYPE_Q4_0_R8 - 64))
		TH_LOG("DTYPES_EXT %#llx", (unsigned long long)gp.value);
	EXPECT_TRUE(gp.value & 1ULL << (LUMEN_DTYPE_Q8_0_R8 - 64))
		TH_LOG("DTYPES_EXT %#llx", (unsigned long long)gp.value);
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, query(fd, DRM_LUMEN_QUERY_INFO, &info, &size));
	EXPECT_EQ(DRM_LUMEN_DEV_INFO_SIZE_VER1, size);
	EXPECT_EQ(gp.value, info.dtypes_ext);
	/* the first parameter past the last one known is still refused */
	EXPECT_EQ(-EINVAL, xioctl(fd, DRM_IOCTL_LUMEN_GET_PARAM, &next));
	close(fd);
}

TEST(largest_size_zero_filled)
{
	static unsigned char buf[DRM_LUMEN_QUERY_MAX_SIZE + 64];
	int fd = lumen_open();
	__u32 size = DRM_LUMEN_QUERY_MAX_SIZE;

	ASSERT_LE(0, fd);
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, query(fd, DRM_LUMEN_QUERY_COUNTERS, buf, &size));
	EXPECT_EQ(sizeof(struct drm_lumen_counters), size);
	EXPECT_TRUE(all_bytes(buf, sizeof(struct drm_lumen_counters),
			      DRM_LUMEN_QUERY_MAX_SIZE, 0));
	EXPECT_TRUE(all_bytes(buf, DRM_LUMEN_QUERY_MAX_SIZE, sizeof(buf), 0xa5));
	close(fd);
}

/* Refused with @err, the caller's buffer untouched. */
static void expect_refused(struct __test_metadata *_metadata, int fd,
			   __u32 type, __u32 size, int err)
{
	static unsigned char buf[8192];
	__u32 out = size;

	memset(buf, 0xa5, sizeof(buf));
	EXPECT_EQ(err, query(fd, type, buf, &out))
		TH_LOG("type %u size %u", type, size);
	EXPECT_EQ(size, out);
	EXPECT_TRUE(all_bytes(buf, 0, sizeof(buf), 0xa5));
}

TEST(bad_queries_precise_errno)
{
	struct drm_lumen_dev_query q = { .type = DRM_LUMEN_QUERY_HEALTH + 1 };
	int fd = lumen_open();

	ASSERT_LE(0, fd);
	/* Unknown types, also as a size probe. */
	expect_refused(_metadata, fd, DRM_LUMEN_QUERY_HEALTH + 1, 64, -EINVAL);
	expect_refused(_metadata, fd, 0xffffffff, 64, -EINVAL);
	EXPECT_EQ(-EINVAL, xioctl(fd, DRM_IOCTL_LUMEN_DEV_QUERY, &q));
	/* Shorter than the first version of the answer. */
	expect_refused(_metadata, fd, DRM_LUMEN_QUERY_INFO,
		       DRM_LUMEN_DEV_INFO_SIZE_VER0 - 1, -EINVAL);
	expect_refused(_metadata, fd, DRM_LUMEN_QUERY_INFO, 0, -EINVAL);
	expect_refused(_metadata, fd, DRM_LUMEN_QUERY_COUNTERS,
		       DRM_LUMEN_COUNTERS_SIZE_VER0 - 1, -EINVAL);
	expect_refused(_metadata, fd, DRM_LUMEN_QUERY_COUNTERS, 8, -EINVAL);
	/* Larger than any answer may grow. */
	expect_refused(_metadata, fd, DRM_LUMEN_QUERY_INFO,
		       DRM_LUMEN_QUERY_MAX_SIZE + 1, -E2BIG);
	expect_refused(_metadata, fd, DRM_LUMEN_QUERY_COUNTERS,
		       DRM_LUMEN_QUERY_MAX_SIZE + 1, -E2BIG);
	expect_refused(_metadata, fd, DRM_LUMEN_QUERY_COUNTERS, 0xffffffff,
		       -E2BIG);
	/* An unwritable answer. */
	q.type = DRM_LUMEN_QUERY_COUNTERS;
	q.size = sizeof(struct drm_lumen_counters);
	q.pointer = 64;
	EXPECT_EQ(-EFAULT, xioctl(fd, DRM_IOCTL_LUMEN_DEV_QUERY, &q));
	close(fd);
}

TEST(counters_grow_after_a_job)
{
	struct drm_lumen_counters c0, c1, c2;
	struct drm_lumen_job_wait w;
	int fd = lumen_open();
	struct add_ctx c;
	__u64 tensor = ADD_CAPACITY * ADD_WIDTH * sizeof(float);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, counters(fd, &c0));
	ASSERT_EQ(0, add_run(&c, ADD_CAPACITY, &w));
	ASSERT_EQ(DRM_LUMEN_JOB_DONE, w.status);
	ASSERT_EQ(0, counters(fd, &c1));
	EXPECT_LT(c0.busy_ns, c1.busy_ns);
	EXPECT_LT(c0.energy_nj, c1.energy_nj);
	/* The ADD read its rows and wrote as many. */
	EXPECT_LE(c0.bytes_read + tensor, c1.bytes_read)
		TH_LOG("read %llu -> %llu", c0.bytes_read, c1.bytes_read);
	EXPECT_LE(c0.bytes_written + tensor, c1.bytes_written)
		TH_LOG("written %llu -> %llu", c0.bytes_written,
		       c1.bytes_written);

	/* 20 ms of injected device time per job counts as busy time. */
	ASSERT_TRUE(hook("delay_us", "20000"));
	ASSERT_EQ(0, add_run(&c, ADD_CAPACITY, &w));
	ASSERT_TRUE(hook("delay_us", "0"));
	ASSERT_EQ(0, counters(fd, &c2));
	EXPECT_LE(c1.busy_ns + 20000000ULL, c2.busy_ns)
		TH_LOG("busy %llu -> %llu ns", c1.busy_ns, c2.busy_ns);
	EXPECT_LT(c1.energy_nj, c2.energy_nj);
	close(fd);
}

TEST(counters_are_device_wide)
{
	struct drm_lumen_counters c0, c1;
	struct drm_lumen_job_wait w;
	int fd = lumen_open(), other = lumen_open();
	struct add_ctx c;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, counters(other, &c0));
	ASSERT_EQ(0, add_run(&c, ADD_CAPACITY, &w));
	ASSERT_EQ(0, counters(other, &c1));
	/* Another file sees the work; its own fdinfo time does not grow. */
	EXPECT_LT(c0.busy_ns, c1.busy_ns);
	EXPECT_LT(c0.bytes_written, c1.bytes_written);
	EXPECT_EQ(0, fdinfo_engine_ns(other));
	close(other);
	close(fd);
}

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

TEST(counters_read_without_waking)
{
	struct drm_lumen_counters c0, c1;
	struct drm_lumen_job_wait w;
	int fd = lumen_open(), ms;
	struct add_ctx c;
	char st[32] = "";

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, add_run(&c, ADD_CAPACITY, &w));
	/* Autosuspend is 50 ms; allow a loaded TCG guest plenty more. */
	for (ms = 0; ms < 5000; ms += 10) {
		ASSERT_EQ(0, runtime_status(st, sizeof(st)));
		if (!strcmp(st, "suspended"))
			break;
		usleep(10000);
	}
	ASSERT_STREQ("suspended", st);
	ASSERT_EQ(0, counters(fd, &c0));
	ASSERT_EQ(0, counters(fd, &c1));
	ASSERT_EQ(0, runtime_status(st, sizeof(st)));
	EXPECT_STREQ("suspended", st);
	/* A suspended device keeps its totals. */
	EXPECT_NE(0, c0.busy_ns);
	EXPECT_EQ(0, memcmp(&c0, &c1, sizeof(c0)));
	close(fd);
}

TEST_HARNESS_MAIN
