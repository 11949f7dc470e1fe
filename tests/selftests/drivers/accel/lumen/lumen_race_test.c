// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Races on one file, in the spirit of IGT's gem_close_race: GEM_CLOSE
 * against BO_INFO and SUBMIT, PROGRAM_DESTROY against SUBMIT, IOSQE_ASYNC
 * submissions against the ring's close, and a thread rewriting a
 * submission's arguments and a program while they are read. Every call
 * gets a result or a precise errno, and once the file is closed nothing is
 * left (debugfs "objects"; the debug kernel adds KASAN, DEBUG_LIST and
 * kmemleak). Each race runs for a bounded time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lumen_util.h"
#include "kselftest_harness.h"

/* Wall time each race gets; thousands of iterations under TCG. */
#define RACE_NS		(2 * 1000000000ULL)

struct race {
	int fd;
	atomic_uint handle;	/* the handle the closer goes for */
	atomic_bool stop;
	atomic_uint closes;
};

static void *closer(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		struct drm_gem_close gc = {
			.handle = atomic_exchange(&r->handle, 0),
		};

		if (gc.handle && !xioctl(r->fd, DRM_IOCTL_GEM_CLOSE, &gc))
			atomic_fetch_add(&r->closes, 1);
	}
	return NULL;
}

FIXTURE(race) {
	struct lumen_objects idle;
};

FIXTURE_SETUP(race)
{
	ASSERT_EQ(0, objects_wait_idle(&self->idle, 20))
		TH_LOG("%s", objects_str(&self->idle));
}

FIXTURE_TEARDOWN(race)
{
}

/* After the file is closed, every object of the race is gone. */
static void expect_idle(struct __test_metadata *_metadata)
{
	struct lumen_objects o;

	EXPECT_EQ(0, objects_wait_idle(&o, 30)) TH_LOG("left: %s", objects_str(&o));
}

/* Review #5: a lookup racing the handle's close must not map it again. */
TEST_F_TIMEOUT(race, gem_close_vs_bo_info, 60)
{
	struct race r = { .fd = lumen_open() };
	unsigned int infos = 0, iters = 0;
	pthread_t t;
	__u64 end;

	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, closer, &r));
	end = now_ns() + RACE_NS;
	while (now_ns() < end) {
		struct drm_lumen_bo_create c = { .size = 4096 };
		struct drm_lumen_bo_info bi = {};
		int ret, k;

		ASSERT_EQ(0, xioctl(r.fd, DRM_IOCTL_LUMEN_BO_CREATE, &c));
		atomic_store(&r.handle, c.handle);
		for (k = 0; k < 4; k++) {
			bi.handle = c.handle;
			ret = xioctl(r.fd, DRM_IOCTL_LUMEN_BO_INFO, &bi);
			ASSERT_TRUE(ret == 0 || ret == -ENOENT) TH_LOG("%d", ret);
			infos += !ret;
		}
		iters++;
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	TH_LOG("%u creates, %u closes, %u infos", iters, r.closes, infos);
	ASSERT_LT(0, r.closes);
	close(r.fd);
	expect_idle(_metadata);
}

/* The same race through a submission's region binding. */
TEST_F_TIMEOUT(race, gem_close_vs_submit, 60)
{
	struct race r = {};
	struct nop_ctx c;
	unsigned int ok = 0, iters = 0;
	pthread_t t;
	__u64 end;

	r.fd = lumen_open();
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, nop_ctx_init(&c, r.fd));
	ASSERT_EQ(0, pthread_create(&t, NULL, closer, &r));
	end = now_ns() + RACE_NS;
	while (now_ns() < end) {
		struct drm_lumen_bo_create bc = { .size = 4096 };
		int ret;

		ASSERT_EQ(0, xioctl(r.fd, DRM_IOCTL_LUMEN_BO_CREATE, &bc));
		c.r.handle = bc.handle;
		atomic_store(&r.handle, bc.handle);
		ret = xioctl(r.fd, DRM_IOCTL_LUMEN_SUBMIT, &c.s);
		ASSERT_TRUE(ret == 0 || ret == -ENOENT) TH_LOG("%d", ret);
		ok += !ret;
		iters++;
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	TH_LOG("%u submissions, %u accepted, %u closes", iters, ok, r.closes);
	nop_ctx_unmap(&c);
	close(r.fd);
	expect_idle(_metadata);
}

struct prog_race {
	int fd;
	atomic_uint handle;
	atomic_bool stop;
	atomic_uint destroys;
};

static void *destroyer(void *arg)
{
	struct prog_race *r = arg;

	while (!atomic_load(&r->stop)) {
		struct drm_lumen_program_destroy d = {
			.handle = atomic_exchange(&r->handle, 0),
		};

		if (d.handle && !xioctl(r->fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &d))
			atomic_fetch_add(&r->destroys, 1);
	}
	return NULL;
}

TEST_F_TIMEOUT(race, program_destroy_vs_submit, 60)
{
	struct drm_lumen_program_destroy old = {};
	struct prog_race r = {};
	struct nop_ctx c;
	unsigned int ok = 0, iters = 0;
	struct {
		struct lumen_prog_header h;
		struct lumen_op op;
	} p = {};
	pthread_t t;
	__u64 end;

	r.fd = lumen_open();
	ASSERT_LE(0, r.fd);
	ASSERT_EQ(0, nop_ctx_init(&c, r.fd));
	prog_header(&p.h, 1, 1, 0);
	p.op.opcode = LUMEN_OP_NOP;
	p.op.rows_arg = LUMEN_ARG_NONE;
	p.op.pos_arg = LUMEN_ARG_NONE;
	ASSERT_EQ(0, pthread_create(&t, NULL, destroyer, &r));
	end = now_ns() + RACE_NS;
	while (now_ns() < end) {
		__u32 h;
		int ret;

		ASSERT_EQ(0, prog_create(r.fd, &p, sizeof(p), &h));
		/* The destroyer missed the last one: take it down here. */
		old.handle = atomic_exchange(&r.handle, h);
		if (old.handle)
			ASSERT_EQ(0, xioctl(r.fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &old));
		c.s.program = h;
		ret = xioctl(r.fd, DRM_IOCTL_LUMEN_SUBMIT, &c.s);
		ASSERT_TRUE(ret == 0 || ret == -ENOENT) TH_LOG("%d", ret);
		ok += !ret;
		iters++;
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	TH_LOG("%u submissions, %u accepted, %u destroys", iters, ok, r.destroys);
	ASSERT_LT(0, r.destroys);
	nop_ctx_unmap(&c);
	close(r.fd);
	expect_idle(_metadata);
}

/* uring_queue(), issued from io-wq. */
static int uring_queue_async(struct io_uring *ring, int fd,
			     const struct drm_lumen_submit *s, __u64 tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = LUMEN_URING_CMD_SUBMIT;
	sqe->user_data = tag;
	sqe->flags = IOSQE_ASYNC;
	memcpy(sqe->cmd, s, sizeof(*s));
	return 0;
}

/*
 * Review #4: io-wq issues an IOSQE_ASYNC command and marks it cancelable
 * before it arms the fence callback; closing the ring at that moment
 * cancels a command whose callback is not armed.
 */
TEST_F_TIMEOUT(race, uring_async_vs_ring_close, 120)
{
	unsigned int iters = 0, cqes = 0;
	struct nop_ctx c;
	__u64 end;
	int fd;

	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, nop_ctx_init(&c, fd));
	end = now_ns() + 2 * RACE_NS;
	while (now_ns() < end || iters < 200) {
		struct io_uring ring;
		struct io_uring_cqe *cqe;
		int i;

		ASSERT_EQ(0, uring_init(&ring, 8));
		for (i = 0; i < 4; i++)
			ASSERT_EQ(0, uring_queue_async(&ring, fd, &c.s, i));
		ASSERT_EQ(4, io_uring_submit(&ring));
		/* Every other time, take what has completed: both orders. */
		if (iters & 1 && !io_uring_peek_cqe(&ring, &cqe)) {
			EXPECT_TRUE(cqe->res == 0) TH_LOG("res %d", cqe->res);
			io_uring_cqe_seen(&ring, cqe);
			cqes++;
		}
		io_uring_queue_exit(&ring);
		iters++;
	}
	TH_LOG("%u rings closed with commands in flight, %u CQEs seen", iters,
	       cqes);
	nop_ctx_unmap(&c);
	close(fd);
	expect_idle(_metadata);
}

struct flipper {
	__u32 *word;
	__u32 a, b;
	atomic_bool stop;
};

static void *flip(void *arg)
{
	struct flipper *f = arg;

	/* Atomic stores: the compiler keeps every one of them. */
	while (!atomic_load(&f->stop)) {
		__atomic_store_n(f->word, f->a, __ATOMIC_RELAXED);
		__atomic_store_n(f->word, f->b, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * A user thread rewrites what the kernel reads: a submission's region
 * handle and a program's op count while the ioctls copy them, and the
 * ADD job's rows argument while the device runs it. Each call sees one
 * value or the other; nothing is left behind.
 */
TEST_F_TIMEOUT(race, user_flips_args_while_running, 60)
{
	struct add_ctx c;
	struct flipper f = {};
	unsigned int ok = 0, rejected = 0, iters = 0;
	struct add_prog *prog;
	pthread_t t;
	__u64 end;
	int fd;

	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, add_ctx_init(&c, fd));
	add_prepare(&c, 4);

	/* Region 0's handle: the dst buffer, or one that does not exist. */
	f.word = &c.r[0].handle;
	f.a = c.dst.handle;
	f.b = 0x7fffffff;
	ASSERT_EQ(0, pthread_create(&t, NULL, flip, &f));
	end = now_ns() + RACE_NS / 2;
	while (now_ns() < end) {
		int ret = xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &c.s);

		ASSERT_TRUE(ret == 0 || ret == -ENOENT) TH_LOG("%d", ret);
		ok += !ret;
		rejected += !!ret;
		iters++;
	}
	atomic_store(&f.stop, true);
	pthread_join(t, NULL);
	c.r[0].handle = c.dst.handle;
	TH_LOG("region handle: %u accepted, %u refused", ok, rejected);

	/* The op count of a program being created: 2 or 0xffff. */
	prog = malloc(sizeof(*prog));
	ASSERT_NE(NULL, prog);
	add_prog_build(prog);
	f.word = &prog->h.op_count;
	f.a = 2;
	f.b = 0xffff;
	atomic_store(&f.stop, false);
	ASSERT_EQ(0, pthread_create(&t, NULL, flip, &f));
	ok = 0;
	rejected = 0;
	end = now_ns() + RACE_NS / 2;
	while (now_ns() < end) {
		__u32 h;
		int ret = prog_create(fd, prog, sizeof(*prog), &h);

		ASSERT_TRUE(ret == 0 || ret == -EINVAL) TH_LOG("%d", ret);
		if (!ret) {
			struct drm_lumen_program_destroy d = { .handle = h };

			ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &d));
		}
		ok += !ret;
		rejected += !!ret;
	}
	atomic_store(&f.stop, true);
	pthread_join(t, NULL);
	free(prog);
	TH_LOG("program op count: %u accepted, %u refused", ok, rejected);

	/* The rows argument while the device reads it: 1 to 4 rows, or 9. */
	f.word = (__u32 *)((char *)c.args.map + ADD_ROWS_SLOT * 4);
	f.a = 4;
	f.b = 9;
	atomic_store(&f.stop, false);
	ASSERT_EQ(0, pthread_create(&t, NULL, flip, &f));
	end = now_ns() + RACE_NS / 2;
	while (now_ns() < end) {
		struct drm_lumen_job_wait w;

		ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &c.s));
		ASSERT_EQ(0, wait_job(fd, c.s.job_id, &w));
		/* In range it computes, beyond the capacity it faults. */
		ASSERT_TRUE(w.status == DRM_LUMEN_JOB_DONE ||
			    w.status == DRM_LUMEN_JOB_FAULT) TH_LOG("%u", w.status);
	}
	atomic_store(&f.stop, true);
	pthread_join(t, NULL);
	add_ctx_unmap(&c);
	close(fd);
	expect_idle(_metadata);
}

/* EMBED dst r0 [8 x 4] = rows ids r2 [4] (I32) of table r1 [8 x 16]. */
struct embed_prog {
	struct lumen_prog_header h;
	struct lumen_op op;
};

/*
 * Review #1 from the guest: a user thread flips a token id between a valid
 * row and -1 while the device runs EMBED on it in place. Every job either
 * embeds row 0 or faults; the device (QEMU) survives to run the next one.
 */
TEST_F_TIMEOUT(race, user_flips_embed_ids_while_running, 60)
{
	struct drm_lumen_region r[3] = {};
	struct drm_lumen_submit s = {};
	struct flipper f = {};
	struct buf dst, table, ids;
	struct embed_prog p = {};
	struct drm_lumen_job_wait last;
	unsigned int done = 0, faults = 0, i;
	pthread_t t;
	__u64 end;
	int fd;

	fd = lumen_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bo_new(fd, 4096, &dst));
	ASSERT_EQ(0, bo_new(fd, 4096, &table));
	ASSERT_EQ(0, bo_new(fd, 4096, &ids));
	for (i = 0; i < 8 * 16; i++)
		((float *)table.map)[i] = (float)i;
	memset(ids.map, 0, 16);
	prog_header(&p.h, 1, 3, 2);
	p.op.opcode = LUMEN_OP_EMBED;
	p.op.rows_arg = LUMEN_ARG_NONE;
	p.op.pos_arg = LUMEN_ARG_NONE;
	tensor_f32(&p.op.dst, 0, 0, 8, 4);
	tensor_f32(&p.op.src[0], 1, 0, 8, 16);
	tensor_f32(&p.op.src[1], 2, 0, 4, 1);
	p.op.src[1].dtype = LUMEN_DTYPE_I32;
	ASSERT_EQ(0, prog_create(fd, &p, sizeof(p), &s.program));
	r[0].handle = dst.handle;
	r[1].handle = table.handle;
	r[2].handle = ids.handle;
	s.regions = (__u64)(unsigned long)r;
	s.region_count = 3;
	s.region_size = sizeof(r[0]);
	s.priority = DRM_LUMEN_PRIORITY_NORMAL;

	f.word = ids.map;
	f.a = 0;
	f.b = 0xffffffff;
	ASSERT_EQ(0, pthread_create(&t, NULL, flip, &f));
	end = now_ns() + RACE_NS / 2;
	while (now_ns() < end) {
		struct drm_lumen_job_wait w;

		((float *)dst.map)[0] = -1.0f;
		ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &s));
		ASSERT_EQ(0, wait_job(fd, s.job_id, &w));
		ASSERT_TRUE(w.status == DRM_LUMEN_JOB_DONE ||
			    w.status == DRM_LUMEN_JOB_FAULT) TH_LOG("%u", w.status);
		if (w.status == DRM_LUMEN_JOB_DONE)
			EXPECT_EQ(0.0f, ((float *)dst.map)[0]);
		done += w.status == DRM_LUMEN_JOB_DONE;
		faults += w.status == DRM_LUMEN_JOB_FAULT;
	}
	atomic_store(&f.stop, true);
	pthread_join(t, NULL);
	TH_LOG("%u jobs embedded row 0, %u faulted on id -1", done, faults);
	/* The device is alive and right. */
	((__u32 *)ids.map)[0] = 3;
	ASSERT_EQ(0, xioctl(fd, DRM_IOCTL_LUMEN_SUBMIT, &s));
	ASSERT_EQ(0, wait_job(fd, s.job_id, &last));
	EXPECT_EQ(DRM_LUMEN_JOB_DONE, last.status);
	EXPECT_EQ(3.0f * 8, ((float *)dst.map)[0]);
	bo_close(fd, &dst);
	bo_close(fd, &table);
	bo_close(fd, &ids);
	close(fd);
	expect_idle(_metadata);
}

TEST_HARNESS_MAIN
