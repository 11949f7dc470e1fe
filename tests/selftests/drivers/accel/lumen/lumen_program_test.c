// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * PROGRAM_CREATE: a valid program computes what plain C computes here;
 * malformed programs are rejected with -EINVAL, the validator's reason and
 * no side effect; bad user pointers give -EFAULT.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm/lumen_isa.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

/* MATMUL F32 [K -> N] over C rows, ADD a bias, ARGMAX each row. */
#define MM_K		16
#define MM_N		12
#define MM_C		4
#define MM_W_OFF	0
#define MM_X_OFF	4096
#define MM_B_OFF	8192
#define MM_Y_OFF	0
#define MM_Z_OFF	4096
#define MM_ROWS_SLOT	3

struct mm_prog {
	struct lumen_prog_header h;
	struct lumen_op op[3];
};

/*
 * r0: weights W [K, N], inputs x [K, C], bias b [N, 1];
 * r1: y = x . Wᵀ [N, C] and z = y + b [N, C]; r2: ids I32 [1, C];
 * r3: args, the row count in slot 3.
 */
static void mm_prog_build(struct mm_prog *p)
{
	memset(p, 0, sizeof(*p));
	prog_header(&p->h, 3, 4, 3);

	p->op[0].opcode = LUMEN_OP_MATMUL;
	p->op[0].rows_arg = MM_ROWS_SLOT;
	p->op[0].pos_arg = LUMEN_ARG_NONE;
	tensor_f32(&p->op[0].dst, 1, MM_Y_OFF, MM_N, MM_C);
	tensor_f32(&p->op[0].src[0], 0, MM_W_OFF, MM_K, MM_N);
	tensor_f32(&p->op[0].src[1], 0, MM_X_OFF, MM_K, MM_C);

	p->op[1].opcode = LUMEN_OP_ADD;
	p->op[1].rows_arg = MM_ROWS_SLOT;
	p->op[1].pos_arg = LUMEN_ARG_NONE;
	tensor_f32(&p->op[1].dst, 1, MM_Z_OFF, MM_N, MM_C);
	tensor_f32(&p->op[1].src[0], 1, MM_Y_OFF, MM_N, MM_C);
	tensor_f32(&p->op[1].src[1], 0, MM_B_OFF, MM_N, 1);

	p->op[2].opcode = LUMEN_OP_ARGMAX;
	p->op[2].rows_arg = MM_ROWS_SLOT;
	p->op[2].pos_arg = LUMEN_ARG_NONE;
	tensor_f32(&p->op[2].dst, 2, 0, 1, MM_C);
	p->op[2].dst.dtype = LUMEN_DTYPE_I32;
	tensor_f32(&p->op[2].src[0], 1, MM_Z_OFF, MM_N, MM_C);
}

TEST(matmul_add_argmax_matches_cpu)
{
	float w[MM_N][MM_K], x[MM_C][MM_K], b[MM_N], z[MM_C][MM_N];
	struct drm_lumen_region r[4] = {};
	struct drm_lumen_submit s = {};
	struct drm_lumen_job_wait wt;
	struct buf in, out, ids, args;
	int fd = lumen_open(), i, n, k, row;
	struct mm_prog p;
	__u32 prog;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bo_new(fd, 12288, &in));
	ASSERT_EQ(0, bo_new(fd, 8192, &out));
	ASSERT_EQ(0, bo_new(fd, 4096, &ids));
	ASSERT_EQ(0, bo_new(fd, 4096, &args));
	mm_prog_build(&p);
	ASSERT_EQ(0, prog_create(fd, &p, sizeof(p), &prog));

	/* Small integers: every sum is exact in F32, whatever the order. */
	srand(42);
	for (n = 0; n < MM_N; n++) {
		for (k = 0; k < MM_K; k++)
			w[n][k] = (float)(rand() % 17 - 8);
		b[n] = (float)(rand() % 9 - 4);
	}
	for (row = 0; row < MM_C; row++)
		for (k = 0; k < MM_K; k++)
			x[row][k] = (float)(rand() % 11 - 5);
	memcpy((char *)in.map + MM_W_OFF, w, sizeof(w));
	memcpy((char *)in.map + MM_X_OFF, x, sizeof(x));
	memcpy((char *)in.map + MM_B_OFF, b, sizeof(b));
	memset(out.map, 0xff, out.size);
	memset(ids.map, 0xff, ids.size);
	((__u32 *)args.map)[MM_ROWS_SLOT] = MM_C;

	r[0].handle = in.handle;
	r[1].handle = out.handle;
	r[2].handle = ids.handle;
	r[3].handle = args.handle;
	s.program = prog;
	s.regions = (__u64)(unsigned long)r;
	s.region_count = 4;
	s.region_size = sizeof(r[0]);
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &s));
	ASSERT_EQ(0, wait_job(fd, s.job_id, &wt));
	ASSERT_EQ(DRM_LUMEN_JOB_DONE, wt.status);

	for (row = 0; row < MM_C; row++) {
		const float *got = (const float *)((char *)out.map + MM_Z_OFF) +
				   row * MM_N;
		int best = 0;

		for (n = 0; n < MM_N; n++) {
			float acc = 0;

			for (k = 0; k < MM_K; k++)
				acc += w[n][k] * x[row][k];
			z[row][n] = acc + b[n];
			EXPECT_EQ(z[row][n], got[n])
				TH_LOG("row %d col %d", row, n);
			if (z[row][n] > z[row][best])
				best = n;
		}
		EXPECT_EQ(best, ((__s32 *)ids.map)[row]) TH_LOG("row %d", row);
	}
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, bo_close(fd, i == 0 ? &in : i == 1 ? &out :
				      i == 2 ? &ids : &args));
	close(fd);
}

TEST(region_sizes_reported)
{
	__u64 sizes[LUMEN_MAX_REGIONS] = {};
	struct drm_lumen_program_create pc = {};
	struct add_prog p;
	int fd = lumen_open();

	ASSERT_LE(0, fd);
	add_prog_build(&p);
	pc.program = (__u64)(unsigned long)&p;
	pc.size = sizeof(p);
	pc.region_sizes = (__u64)(unsigned long)sizes;
	pc.region_sizes_count = LUMEN_MAX_REGIONS;
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc));
	/* extent = offset + (rows - 1) * row stride + row bytes (isa.rst) */
	EXPECT_EQ(0 + 3 * 32 + 32, sizes[0]);
	EXPECT_EQ(ADD_SRC1_OFF + 32, sizes[1]);
	EXPECT_EQ((ADD_ROWS_SLOT + 1) * 4, sizes[2]);
	EXPECT_EQ(3, pc.region_sizes_count);
	EXPECT_EQ(0x7, pc.regions_used);
	EXPECT_EQ(0x1, pc.regions_written);
	EXPECT_NE(0, pc.handle);
	close(fd);
}

/* Rejected with -EINVAL, the given reason, and nothing left behind. */
FIXTURE(malformed) {
	int fd;
	struct lumen_objects before;
};

FIXTURE_VARIANT(malformed) {
	void (*mutate)(struct add_prog *p, __u32 *size);
	__u32 verr;
	__u32 op;
};

FIXTURE_SETUP(malformed)
{
	struct add_prog p;
	__u32 handle;

	self->fd = lumen_open();
	ASSERT_LE(0, self->fd);
	/* One valid program first, so the file's lazily made state exists. */
	add_prog_build(&p);
	ASSERT_EQ(0, prog_create(self->fd, &p, sizeof(p), &handle));
	ASSERT_EQ(0, objects_read(&self->before));
}

FIXTURE_TEARDOWN(malformed)
{
	close(self->fd);
}

TEST_F(malformed, rejected)
{
	struct drm_lumen_program_create pc = {};
	struct lumen_objects after;
	struct add_prog p;
	__u32 size = sizeof(p);

	add_prog_build(&p);
	variant->mutate(&p, &size);
	pc.program = (__u64)(unsigned long)&p;
	pc.size = size;
	EXPECT_EQ(-EINVAL, xioctl(self->fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc));
	EXPECT_EQ(variant->verr, pc.error);
	EXPECT_EQ(variant->op, pc.error_op);
	EXPECT_EQ(0, pc.handle);
	ASSERT_EQ(0, objects_read(&after));
	EXPECT_TRUE(objects_equal(&self->before, &after));
}

#define HDR	0xffffffffU

static void mutate_too_small(struct add_prog *p, __u32 *size)
{
	*size = sizeof(p->h) - 4;
}

FIXTURE_VARIANT_ADD(malformed, too_small) {
	.mutate = mutate_too_small,
	.verr = LUMEN_VERR_TOO_SMALL,
	.op = HDR,
};

static void mutate_bad_magic(struct add_prog *p, __u32 *size)
{
	p->h.magic ^= 1;
}

FIXTURE_VARIANT_ADD(malformed, bad_magic) {
	.mutate = mutate_bad_magic,
	.verr = LUMEN_VERR_BAD_MAGIC,
	.op = HDR,
};

static void mutate_bad_version(struct add_prog *p, __u32 *size)
{
	p->h.isa_version = LUMEN_ISA_VERSION + 1;
}

FIXTURE_VARIANT_ADD(malformed, bad_version) {
	.mutate = mutate_bad_version,
	.verr = LUMEN_VERR_BAD_VERSION,
	.op = HDR,
};

static void mutate_bad_header_size(struct add_prog *p, __u32 *size)
{
	p->h.header_size = sizeof(p->h) - 4;
}

FIXTURE_VARIANT_ADD(malformed, bad_header_size) {
	.mutate = mutate_bad_header_size,
	.verr = LUMEN_VERR_BAD_HEADER_SIZE,
	.op = HDR,
};

static void mutate_bad_op_size(struct add_prog *p, __u32 *size)
{
	p->h.op_size = sizeof(p->op[0]) - 8;
}

FIXTURE_VARIANT_ADD(malformed, bad_op_size) {
	.mutate = mutate_bad_op_size,
	.verr = LUMEN_VERR_BAD_OP_SIZE,
	.op = HDR,
};

static void mutate_zero_ops(struct add_prog *p, __u32 *size)
{
	p->h.op_count = 0;
}

FIXTURE_VARIANT_ADD(malformed, zero_ops) {
	.mutate = mutate_zero_ops,
	.verr = LUMEN_VERR_BAD_OP_COUNT,
	.op = HDR,
};

static void mutate_size_mismatch(struct add_prog *p, __u32 *size)
{
	p->h.op_count = 3;
}

FIXTURE_VARIANT_ADD(malformed, size_mismatch) {
	.mutate = mutate_size_mismatch,
	.verr = LUMEN_VERR_SIZE_MISMATCH,
	.op = HDR,
};

static void mutate_too_many_regions(struct add_prog *p, __u32 *size)
{
	p->h.region_count = LUMEN_MAX_REGIONS + 1;
}

FIXTURE_VARIANT_ADD(malformed, too_many_regions) {
	.mutate = mutate_too_many_regions,
	.verr = LUMEN_VERR_BAD_REGION_COUNT,
	.op = HDR,
};

static void mutate_bad_args_region(struct add_prog *p, __u32 *size)
{
	p->h.args_region = 3;
}

FIXTURE_VARIANT_ADD(malformed, bad_args_region) {
	.mutate = mutate_bad_args_region,
	.verr = LUMEN_VERR_BAD_ARGS_REGION,
	.op = HDR,
};

static void mutate_header_reserved(struct add_prog *p, __u32 *size)
{
	p->h.reserved[7] = 1;
}

FIXTURE_VARIANT_ADD(malformed, header_reserved) {
	.mutate = mutate_header_reserved,
	.verr = LUMEN_VERR_HEADER_RESERVED,
	.op = HDR,
};

static void mutate_bad_opcode(struct add_prog *p, __u32 *size)
{
	p->op[1].opcode = LUMEN_OP_COUNT;
}

FIXTURE_VARIANT_ADD(malformed, bad_opcode) {
	.mutate = mutate_bad_opcode,
	.verr = LUMEN_VERR_BAD_OPCODE,
	.op = 1,
};

static void mutate_bad_flags(struct add_prog *p, __u32 *size)
{
	p->op[1].flags = LUMEN_OPF_ROPE_NEOX;
}

FIXTURE_VARIANT_ADD(malformed, bad_flags) {
	.mutate = mutate_bad_flags,
	.verr = LUMEN_VERR_BAD_FLAGS,
	.op = 1,
};

static void mutate_op_pad(struct add_prog *p, __u32 *size)
{
	p->op[0].pad[1] = 1;
}

FIXTURE_VARIANT_ADD(malformed, op_pad) {
	.mutate = mutate_op_pad,
	.verr = LUMEN_VERR_OP_PAD,
	.op = 0,
};

static void mutate_bad_arg_slot(struct add_prog *p, __u32 *size)
{
	p->op[1].rows_arg = LUMEN_MAX_ARG_SLOTS;
}

FIXTURE_VARIANT_ADD(malformed, bad_arg_slot) {
	.mutate = mutate_bad_arg_slot,
	.verr = LUMEN_VERR_BAD_ARG_SLOT,
	.op = 1,
};

static void mutate_arg_not_allowed(struct add_prog *p, __u32 *size)
{
	p->op[1].pos_arg = 0;
}

FIXTURE_VARIANT_ADD(malformed, arg_not_allowed) {
	.mutate = mutate_arg_not_allowed,
	.verr = LUMEN_VERR_ARG_NOT_ALLOWED,
	.op = 1,
};

static void mutate_unused_tensor(struct add_prog *p, __u32 *size)
{
	p->op[1].src[2].dims[0] = 1;
}

FIXTURE_VARIANT_ADD(malformed, unused_tensor) {
	.mutate = mutate_unused_tensor,
	.verr = LUMEN_VERR_UNUSED_TENSOR,
	.op = 1,
};

static void mutate_tensor_pad(struct add_prog *p, __u32 *size)
{
	p->op[1].dst.pad = 1;
}

FIXTURE_VARIANT_ADD(malformed, tensor_pad) {
	.mutate = mutate_tensor_pad,
	.verr = LUMEN_VERR_TENSOR_PAD,
	.op = 1,
};

static void mutate_bad_region(struct add_prog *p, __u32 *size)
{
	p->op[1].src[0].region = 3;
}

FIXTURE_VARIANT_ADD(malformed, bad_region) {
	.mutate = mutate_bad_region,
	.verr = LUMEN_VERR_BAD_REGION,
	.op = 1,
};

static void mutate_bad_dtype(struct add_prog *p, __u32 *size)
{
	p->op[1].dst.dtype = LUMEN_DTYPE_I32;
}

FIXTURE_VARIANT_ADD(malformed, bad_dtype) {
	.mutate = mutate_bad_dtype,
	.verr = LUMEN_VERR_BAD_DTYPE,
	.op = 1,
};

static void mutate_zero_dim(struct add_prog *p, __u32 *size)
{
	p->op[1].src[0].dims[2] = 0;
}

FIXTURE_VARIANT_ADD(malformed, zero_dim) {
	.mutate = mutate_zero_dim,
	.verr = LUMEN_VERR_ZERO_DIM,
	.op = 1,
};

static void mutate_bad_stride0(struct add_prog *p, __u32 *size)
{
	p->op[1].src[0].strides[0] = 8;
}

FIXTURE_VARIANT_ADD(malformed, bad_stride0) {
	.mutate = mutate_bad_stride0,
	.verr = LUMEN_VERR_BAD_STRIDE0,
	.op = 1,
};

static void mutate_dst_overlap(struct add_prog *p, __u32 *size)
{
	p->op[1].dst.strides[1] = 4;
}

FIXTURE_VARIANT_ADD(malformed, dst_overlap) {
	.mutate = mutate_dst_overlap,
	.verr = LUMEN_VERR_DST_OVERLAP,
	.op = 1,
};

static void mutate_shape(struct add_prog *p, __u32 *size)
{
	p->op[1].src[1].dims[0] = ADD_WIDTH / 2;
	p->op[1].src[1].strides[1] = 4 * ADD_WIDTH / 2;
}

FIXTURE_VARIANT_ADD(malformed, shape) {
	.mutate = mutate_shape,
	.verr = LUMEN_VERR_SHAPE,
	.op = 1,
};

static void mutate_overflow(struct add_prog *p, __u32 *size)
{
	p->op[1].src[0].dims[3] = 16;
	p->op[1].src[0].strides[3] = 1ULL << 62;
}

FIXTURE_VARIANT_ADD(malformed, overflow) {
	.mutate = mutate_overflow,
	.verr = LUMEN_VERR_OVERFLOW,
	.op = 1,
};

static void mutate_alias(struct add_prog *p, __u32 *size)
{
	p->op[1].dst.region = 1;
	p->op[1].dst.offset = ADD_SRC0_OFF + 4;
}

FIXTURE_VARIANT_ADD(malformed, alias) {
	.mutate = mutate_alias,
	.verr = LUMEN_VERR_ALIAS,
	.op = 1,
};

static void mutate_misaligned(struct add_prog *p, __u32 *size)
{
	p->op[1].src[0].offset = ADD_SRC0_OFF + 2;
}

FIXTURE_VARIANT_ADD(malformed, misaligned) {
	.mutate = mutate_misaligned,
	.verr = LUMEN_VERR_MISALIGNED,
	.op = 1,
};

TEST(create_argument_rules)
{
	struct drm_lumen_program_create pc = {};
	struct lumen_objects before, after;
	struct add_prog p;
	int fd = lumen_open();
	__u32 h;

	ASSERT_LE(0, fd);
	add_prog_build(&p);
	ASSERT_EQ(0, prog_create(fd, &p, sizeof(p), &h));
	ASSERT_EQ(0, objects_read(&before));
	pc.program = (__u64)(unsigned long)&p;
	pc.size = 0;
	EXPECT_EQ(-EINVAL, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc));
	pc.size = sizeof(p.h) + (LUMEN_MAX_OPS + 1) * sizeof(p.op[0]);
	EXPECT_EQ(-EINVAL, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc));
	pc.size = sizeof(p);
	pc.flags = 1;
	EXPECT_EQ(-EINVAL, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc));
	pc.flags = 0;
	pc.pad = 1;
	EXPECT_EQ(-EINVAL, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc));
	ASSERT_EQ(0, objects_read(&after));
	EXPECT_TRUE(objects_equal(&before, &after));
	close(fd);
}

TEST(bad_user_pointers_efault)
{
	struct drm_lumen_dev_query q = { .type = DRM_LUMEN_QUERY_INFO };
	struct drm_lumen_program_create pc = {};
	struct lumen_objects before, after;
	struct drm_lumen_submit s = {};
	struct drm_lumen_sync sync = {};
	struct add_prog p;
	struct add_ctx c;
	int fd = lumen_open();
	void *hole;
	__u32 h, sobj;

	ASSERT_LE(0, fd);
	/* An address that is certainly unmapped. */
	hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	add_prog_build(&p);
	ASSERT_EQ(0, prog_create(fd, &p, sizeof(p), &h));
	ASSERT_EQ(0, objects_read(&before));

	pc.program = (__u64)(unsigned long)hole;
	pc.size = sizeof(p);
	EXPECT_EQ(-EFAULT, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc));
	pc.program = 0;
	EXPECT_EQ(-EFAULT, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc));
	/* Valid program, unwritable region_sizes: no program is left. */
	pc.program = (__u64)(unsigned long)&p;
	pc.region_sizes = (__u64)(unsigned long)hole;
	pc.region_sizes_count = LUMEN_MAX_REGIONS;
	EXPECT_EQ(-EFAULT, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc));
	EXPECT_EQ(0, pc.handle);

	q.pointer = (__u64)(unsigned long)hole;
	q.size = sizeof(struct drm_lumen_dev_info);
	EXPECT_EQ(-EFAULT, xioctl(fd, DRM_IOCTL_LUMEN_DEV_QUERY, &q));

	s.program = h;
	s.regions = (__u64)(unsigned long)hole;
	s.region_count = 3;
	s.region_size = sizeof(struct drm_lumen_region);
	EXPECT_EQ(-EFAULT, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &s));

	ASSERT_EQ(0, syncobj_new(fd, &sobj));
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	ASSERT_EQ(0, objects_read(&before));
	add_prepare(&c, 4);
	c.s.in_syncs = (__u64)(unsigned long)hole;
	c.s.in_sync_count = 1;
	c.s.sync_size = sizeof(sync);
	EXPECT_EQ(-EFAULT, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &c.s));
	c.s.in_syncs = 0;
	c.s.in_sync_count = 0;
	c.s.out_syncs = (__u64)(unsigned long)hole;
	c.s.out_sync_count = 1;
	EXPECT_EQ(-EFAULT, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &c.s));
	EXPECT_TRUE(add_sums_ok(&c, 0));
	ASSERT_EQ(0, objects_read(&after));
	EXPECT_TRUE(objects_equal(&before, &after))
		TH_LOG("jobs %ld -> %ld, programs %ld -> %ld", before.jobs,
		       after.jobs, before.programs, after.programs);
	munmap(hole, 4096);
	close(fd);
}

TEST(destroy_rules)
{
	struct drm_lumen_program_destroy pd = {};
	struct lumen_objects before, after;
	struct add_prog p;
	int fd = lumen_open();

	ASSERT_LE(0, fd);
	add_prog_build(&p);
	ASSERT_EQ(0, objects_read(&before));
	ASSERT_EQ(0, prog_create(fd, &p, sizeof(p), &pd.handle));
	ASSERT_EQ(0, objects_read(&after));
	EXPECT_EQ(before.programs + 1, after.programs);
	pd.pad = 1;
	EXPECT_EQ(-EINVAL, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &pd));
	pd.pad = 0;
	EXPECT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &pd));
	EXPECT_EQ(-ENOENT, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &pd));
	ASSERT_EQ(0, objects_read(&after));
	EXPECT_TRUE(objects_equal(&before, &after));
	close(fd);
}

TEST_HARNESS_MAIN
