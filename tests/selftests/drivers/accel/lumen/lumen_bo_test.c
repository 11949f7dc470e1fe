// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Buffer objects: creation limits, size rounding, mmap, handle and
 * padding rules, and that closing frees what creating made.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

FIXTURE(bo) {
	int fd;
	struct lumen_objects before;
};

FIXTURE_SETUP(bo)
{
	struct buf b;

	self->fd = lumen_open();
	ASSERT_LE(0, self->fd);
	/* The file's address space is made on open; one buffer warms it. */
	ASSERT_EQ(0, bo_new(self->fd, 4096, &b));
	ASSERT_EQ(0, objects_read(&self->before));
}

FIXTURE_TEARDOWN(bo)
{
	close(self->fd);
}

static int bo_create(int fd, __u64 size, __u32 flags,
		     struct drm_lumen_bo_create *c)
{
	memset(c, 0, sizeof(*c));
	c->size = size;
	c->flags = flags;
	return xioctl(fd, DRM_IOCTL_LUMEN_BO_CREATE, c);
}

TEST_F(bo, size_zero_einval)
{
	struct drm_lumen_bo_create c;
	struct lumen_objects after;

	EXPECT_EQ(-EINVAL, bo_create(self->fd, 0, 0, &c));
	EXPECT_EQ(0, c.handle);
	ASSERT_EQ(0, objects_read(&after));
	EXPECT_TRUE(objects_equal(&self->before, &after));
}

/*
 * Larger than the file's NPU address space (512 GiB less the unused
 * first 2 MiB): it could never be mapped, -E2BIG. Larger than the
 * machine's memory: it could never be backed, -ENOMEM, refused before
 * any page is allocated.
 */
TEST_F(bo, huge_e2big_or_enomem)
{
	struct drm_lumen_get_param gp = { .param = DRM_LUMEN_PARAM_VA_SIZE };
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	struct drm_lumen_bo_create c;
	struct lumen_objects after;

	ASSERT_EQ(0, xioctl(self->fd, DRM_IOCTL_LUMEN_GET_PARAM, &gp));
	EXPECT_EQ(-E2BIG, bo_create(self->fd, gp.value, 0, &c));
	EXPECT_EQ(-E2BIG, bo_create(self->fd, 1ULL << 40, 0, &c));
	EXPECT_EQ(-E2BIG, bo_create(self->fd, UINT64_MAX, 0, &c));
	EXPECT_EQ(-E2BIG, bo_create(self->fd, UINT64_MAX - 4095, 0, &c));
	ASSERT_LT((__u64)pages * page * 2, gp.value / 2);
	EXPECT_EQ(-ENOMEM, bo_create(self->fd, (__u64)pages * page * 2, 0, &c));
	EXPECT_EQ(0, c.handle);
	ASSERT_EQ(0, objects_read(&after));
	EXPECT_TRUE(objects_equal(&self->before, &after));
}

TEST_F(bo, unaligned_sizes_rounded_up)
{
	static const __u64 sizes[] = { 1, 4095, 4097, 12289, (2 << 20) + 1 };
	struct drm_lumen_bo_info info = {};
	unsigned int i;
	struct buf b;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		__u64 want = (sizes[i] + 4095) & ~4095ULL;

		ASSERT_EQ(0, bo_new(self->fd, sizes[i], &b));
		EXPECT_EQ(want, b.size);
		EXPECT_EQ(0, b.npu_addr & 4095);
		/* The whole rounded size is mapped and writable. */
		((char *)b.map)[b.size - 1] = 0x5a;
		info.handle = b.handle;
		ASSERT_EQ(0, xioctl(self->fd, DRM_IOCTL_LUMEN_BO_INFO, &info));
		EXPECT_EQ(want, info.size);
		EXPECT_EQ(b.npu_addr, info.npu_addr);
		if (want >= (2 << 20))
			EXPECT_EQ(0, b.npu_addr & ((2 << 20) - 1));
		EXPECT_EQ(0, bo_close(self->fd, &b));
	}
}

TEST_F(bo, bad_handles_enoent)
{
	struct drm_lumen_bo_mmap_offset m = { .handle = 12345 };
	struct drm_lumen_bo_info info = { .handle = 12345 };
	struct drm_gem_close gc = { .handle = 12345 };
	struct buf b;

	EXPECT_EQ(-ENOENT, xioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
	EXPECT_EQ(-ENOENT, xioctl(self->fd, DRM_IOCTL_LUMEN_BO_INFO, &info));
	m.handle = 0;
	info.handle = 0;
	EXPECT_EQ(-ENOENT, xioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
	EXPECT_EQ(-ENOENT, xioctl(self->fd, DRM_IOCTL_LUMEN_BO_INFO, &info));
	/* The DRM core's own answer for GEM_CLOSE. */
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_GEM_CLOSE, &gc));
	/* A closed handle is gone. */
	ASSERT_EQ(0, bo_new(self->fd, 4096, &b));
	ASSERT_EQ(0, bo_close(self->fd, &b));
	info.handle = b.handle;
	m.handle = b.handle;
	EXPECT_EQ(-ENOENT, xioctl(self->fd, DRM_IOCTL_LUMEN_BO_INFO, &info));
	EXPECT_EQ(-ENOENT, xioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
}

TEST_F(bo, nonzero_pad_or_flags_einval)
{
	struct drm_lumen_bo_mmap_offset m = {};
	struct drm_lumen_bo_info info = {};
	struct drm_lumen_bo_create c;
	struct lumen_objects after;
	struct buf b;

	EXPECT_EQ(-EINVAL, bo_create(self->fd, 4096, 1, &c));
	EXPECT_EQ(-EINVAL, bo_create(self->fd, 4096, 0x80000000u, &c));
	ASSERT_EQ(0, objects_read(&after));
	EXPECT_TRUE(objects_equal(&self->before, &after));
	ASSERT_EQ(0, bo_new(self->fd, 4096, &b));
	m.handle = b.handle;
	m.pad = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
	info.handle = b.handle;
	info.pad = 1;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_BO_INFO, &info));
}

TEST_F(bo, mmap_shares_pages)
{
	struct drm_lumen_bo_mmap_offset m = {};
	struct buf a, b;
	__u32 *again;
	int i;

	ASSERT_EQ(0, bo_new(self->fd, 8192, &a));
	ASSERT_EQ(0, bo_new(self->fd, 8192, &b));
	EXPECT_NE(a.npu_addr, b.npu_addr);
	EXPECT_TRUE(a.npu_addr + a.size <= b.npu_addr ||
		    b.npu_addr + b.size <= a.npu_addr);
	EXPECT_LE(2 << 20, a.npu_addr);	/* NPU address 0 names nothing */
	for (i = 0; i < 2048; i++)
		((__u32 *)a.map)[i] = i * 2654435761u;
	m.handle = a.handle;
	ASSERT_EQ(0, xioctl(self->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m));
	again = mmap(NULL, 8192, PROT_READ, MAP_SHARED, self->fd, m.offset);
	ASSERT_NE(MAP_FAILED, again);
	EXPECT_EQ(0, memcmp(again, a.map, 8192));
	munmap(again, 8192);
	/* Beyond the buffer is not part of the mapping. */
	again = mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, self->fd, m.offset);
	EXPECT_EQ(MAP_FAILED, again);
}

TEST_F(bo, close_frees_everything)
{
	struct lumen_objects mid, after;
	struct buf b[8];
	int i;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, bo_new(self->fd, 4096 << i, &b[i]));
	ASSERT_EQ(0, objects_read(&mid));
	EXPECT_EQ(self->before.bos + 8, mid.bos);
	EXPECT_EQ(self->before.mappings + 8, mid.mappings);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0, bo_close(self->fd, &b[i]));
	ASSERT_EQ(0, objects_read(&after));
	EXPECT_TRUE(objects_equal(&self->before, &after));
}

TEST(no_device_state_after_close)
{
	struct lumen_objects o;
	int fd = lumen_open();
	struct buf b;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bo_new(fd, 4096, &b));
	munmap(b.map, b.size);
	close(fd);
	EXPECT_EQ(0, objects_wait_idle(&o, 10))
		TH_LOG("%s", objects_str(&o));
}

static int module_param_set(const char *name, const char *value)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/module/lumen/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fputs(value, f) < 0 ? -EIO : 0;
	return fclose(f) ? -errno : ret;
}

/* Review #13: what one file pins is bounded, with a precise errno. */
TEST(file_mem_limit_edquot)
{
	struct drm_lumen_bo_create c = { .size = 4 << 20 };
	struct drm_gem_close gc = {};
	__u32 first;
	int fd = lumen_open(), other = lumen_open();

	ASSERT_LE(0, fd);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, module_param_set("file_mem_mb", "8"));
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_BO_CREATE, &c));
	first = c.handle;
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_BO_CREATE, &c));
	EXPECT_EQ(-EDQUOT, xioctl(fd, DRM_IOCTL_LUMEN_BO_CREATE, &c));
	/* Another file has its own share. */
	EXPECT_EQ(0, xioctl(other, DRM_IOCTL_LUMEN_BO_CREATE, &c));
	gc.handle = first;
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc));
	EXPECT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_BO_CREATE, &c));
	EXPECT_EQ(0, module_param_set("file_mem_mb", "0"));
	close(other);
	close(fd);
}

TEST(file_program_limit_edquot)
{
	struct {
		struct lumen_prog_header h;
		struct lumen_op op;
	} p = {};
	struct drm_lumen_program_destroy d = {};
	__u32 h[4];
	int fd = lumen_open(), i;

	ASSERT_LE(0, fd);
	prog_header(&p.h, 1, 1, 0);
	p.op.opcode = LUMEN_OP_NOP;
	p.op.rows_arg = LUMEN_ARG_NONE;
	p.op.pos_arg = LUMEN_ARG_NONE;
	ASSERT_EQ(0, module_param_set("file_programs", "4"));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, prog_create(fd, &p, sizeof(p), &h[i]));
	EXPECT_EQ(-EDQUOT, prog_create(fd, &p, sizeof(p), &d.handle));
	d.handle = h[2];
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &d));
	EXPECT_EQ(0, prog_create(fd, &p, sizeof(p), &h[2]));
	EXPECT_EQ(0, module_param_set("file_programs", "1024"));
	close(fd);
}

TEST_HARNESS_MAIN
