/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

/*
 * Helpers shared by the accel/lumen kselftests: buffers, the small
 * programs the tests run, submission through ioctl and io_uring, the
 * driver's debugfs (live object counts, test hooks) and clocks.
 */
#ifndef LUMEN_UTIL_H
#define LUMEN_UTIL_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>

#include <drm/lumen_accel.h>
#include <drm/lumen_isa.h>

#define LUMEN_DEVICE	"/dev/accel/accel0"

/* The ADD program (add_prog_build()): dst r0 [8 x 4] = r1@256 + r1@1024 row. */
#define ADD_SRC0_OFF	256
#define ADD_SRC1_OFF	1024
#define ADD_ROWS_SLOT	5
#define ADD_CAPACITY	4
#define ADD_WIDTH	8

int xioctl(int fd, unsigned long req, void *arg);
int lumen_open(void);

struct buf {
	__u32 handle;
	__u64 size;
	__u64 npu_addr;
	void *map;
};

int bo_new(int fd, __u64 size, struct buf *b);
int bo_close(int fd, struct buf *b);

struct add_prog {
	struct lumen_prog_header h;
	struct lumen_op op[2];
};

void tensor_f32(struct lumen_tensor *t, __u8 region, __u64 off, __u32 d0,
		__u32 d1);
void prog_header(struct lumen_prog_header *h, __u32 ops, __u32 regions,
		 __u32 args_region);
void add_prog_build(struct add_prog *p);
int prog_create(int fd, const void *prog, __u32 size, __u32 *handle);

/*
 * One file set up to run the ADD program: buffers dst, src and args, the
 * program, and a submission that add_prepare() fills.
 */
struct add_ctx {
	int fd;
	struct buf dst, src, args;
	__u32 program;
	struct drm_lumen_region r[3];
	struct drm_lumen_submit s;
};

int add_ctx_init(struct add_ctx *c, int fd);
struct drm_lumen_submit *add_prepare(struct add_ctx *c, unsigned int rows);
bool add_sums_ok(const struct add_ctx *c, unsigned int rows);
int add_run(struct add_ctx *c, unsigned int rows, struct drm_lumen_job_wait *w);

/* A one-NOP program and a submission of it binding one small buffer. */
struct nop_ctx {
	int fd;
	struct buf bo;
	__u32 program;
	struct drm_lumen_region r;
	struct drm_lumen_submit s;
};

int nop_ctx_init(struct nop_ctx *c, int fd);

/* Unmap the buffers of a context: mappings keep the file open. */
void add_ctx_unmap(struct add_ctx *c);
void nop_ctx_unmap(struct nop_ctx *c);

__s64 deadline_ns(int seconds);
__u64 now_ns(void);
int wait_job(int fd, __u64 id, struct drm_lumen_job_wait *w);
int syncobj_new(int fd, __u32 *handle);
int syncobj_wait(int fd, __u32 handle, __u64 point, int seconds);

int uring_init(struct io_uring *ring, unsigned int entries);
int uring_queue(struct io_uring *ring, int fd, const struct drm_lumen_submit *s,
		__u64 tag);

/* The driver's debugfs directory of the device, and its files. */
int debugfs_write(const char *name, const char *value);
int debugfs_read(const char *name, char *buf, size_t size);
bool hook(const char *name, const char *value);

struct lumen_objects {
	long files, vms, bos, mappings, programs, jobs;
};

int objects_read(struct lumen_objects *o);
bool objects_equal(const struct lumen_objects *a, const struct lumen_objects *b);
int objects_wait_idle(struct lumen_objects *o, int seconds);
int objects_wait_no_jobs(struct lumen_objects *o, int seconds);
const char *objects_str(const struct lumen_objects *o);

/* fdinfo: drm-engine-npu of @fd, or -1. */
long long fdinfo_engine_ns(int fd);

/* DRM_LUMEN_QUERY_HEALTH of @fd's device. */
int health_read(int fd, struct drm_lumen_health *h);

/* Unbinding and binding the driver (root; no other user of the device). */
int device_bdf(char *bdf, size_t size);
int driver_unbind(const char *bdf);
int driver_bind(const char *bdf, int seconds);

int cmp_u64(const void *a, const void *b);
__u64 median_u64(__u64 *v, size_t n);
__u64 percentile_u64(__u64 *v, size_t n, unsigned int pct);

#endif
