// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lumen_util.h"

int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret && (errno == EINTR || errno == EAGAIN));
	return ret ? -errno : 0;
}

int lumen_open(void)
{
	return open(LUMEN_DEVICE, O_RDWR | O_CLOEXEC);
}

int bo_new(int fd, __u64 size, struct buf *b)
{
	struct drm_lumen_bo_create c = { .size = size };
	struct drm_lumen_bo_mmap_offset m = {};
	int ret = xioctl(fd, DRM_IOCTL_LUMEN_BO_CREATE, &c);

	if (ret)
		return ret;
	m.handle = c.handle;
	ret = xioctl(fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m);
	if (ret)
		return ret;
	b->handle = c.handle;
	b->size = c.size;
	b->npu_addr = c.npu_addr;
	b->map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      m.offset);
	return b->map == MAP_FAILED ? -errno : 0;
}

int bo_close(int fd, struct buf *b)
{
	struct drm_gem_close gc = { .handle = b->handle };

	if (b->map && b->map != MAP_FAILED)
		munmap(b->map, b->size);
	b->map = NULL;
	return xioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc);
}

void tensor_f32(struct lumen_tensor *t, __u8 region, __u64 off, __u32 d0,
		__u32 d1)
{
	memset(t, 0, sizeof(*t));
	t->dtype = LUMEN_DTYPE_F32;
	t->region = region;
	t->dims[0] = d0;
	t->dims[1] = d1;
	t->dims[2] = 1;
	t->dims[3] = 1;
	t->strides[0] = 4;
	t->strides[1] = 4ULL * d0;
	t->strides[2] = 4ULL * d0 * d1;
	t->strides[3] = 4ULL * d0 * d1;
	t->offset = off;
}

void prog_header(struct lumen_prog_header *h, __u32 ops, __u32 regions,
		 __u32 args_region)
{
	memset(h, 0, sizeof(*h));
	h->magic = LUMEN_PROG_MAGIC;
	h->isa_version = LUMEN_ISA_VERSION;
	h->header_size = sizeof(*h);
	h->op_size = sizeof(struct lumen_op);
	h->op_count = ops;
	h->region_count = regions;
	h->args_region = args_region;
}

/*
 * A NOP, then dst(r0 @0) [8 x 4] = src0(r1 @256) [8 x 4] + src1(r1 @1024)
 * [8 x 1], rows from args slot 5 of r2.
 */
void add_prog_build(struct add_prog *p)
{
	memset(p, 0, sizeof(*p));
	prog_header(&p->h, 2, 3, 2);
	p->op[0].opcode = LUMEN_OP_NOP;
	p->op[0].rows_arg = LUMEN_ARG_NONE;
	p->op[0].pos_arg = LUMEN_ARG_NONE;
	p->op[1].opcode = LUMEN_OP_ADD;
	p->op[1].rows_arg = ADD_ROWS_SLOT;
	p->op[1].pos_arg = LUMEN_ARG_NONE;
	tensor_f32(&p->op[1].dst, 0, 0, ADD_WIDTH, ADD_CAPACITY);
	tensor_f32(&p->op[1].src[0], 1, ADD_SRC0_OFF, ADD_WIDTH, ADD_CAPACITY);
	tensor_f32(&p->op[1].src[1], 1, ADD_SRC1_OFF, ADD_WIDTH, 1);
}

int prog_create(int fd, const void *prog, __u32 size, __u32 *handle)
{
	struct drm_lumen_program_create pc = {
		.program = (__u64)(unsigned long)prog,
		.size = size,
	};
	int ret = xioctl(fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc);

	if (!ret)
		*handle = pc.handle;
	return ret;
}

int add_ctx_init(struct add_ctx *c, int fd)
{
	struct add_prog p;
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	ret = bo_new(fd, 4096, &c->dst) ?: bo_new(fd, 8192, &c->src) ?:
	      bo_new(fd, 4096, &c->args);
	if (ret)
		return ret;
	add_prog_build(&p);
	return prog_create(fd, &p, sizeof(p), &c->program);
}

/* Fresh inputs, a poisoned dst, @rows in the args; and a submission. */
struct drm_lumen_submit *add_prepare(struct add_ctx *c, unsigned int rows)
{
	float *s0 = (float *)((char *)c->src.map + ADD_SRC0_OFF);
	float *s1 = (float *)((char *)c->src.map + ADD_SRC1_OFF);
	float *d = c->dst.map;
	int i;

	for (i = 0; i < ADD_WIDTH * ADD_CAPACITY; i++) {
		s0[i] = (float)(rand() % 1000) / 8;
		d[i] = -1.0f;
	}
	for (i = 0; i < ADD_WIDTH; i++)
		s1[i] = (float)(rand() % 100);
	((__u32 *)c->args.map)[ADD_ROWS_SLOT] = rows;

	memset(c->r, 0, sizeof(c->r));
	c->r[0].handle = c->dst.handle;
	c->r[1].handle = c->src.handle;
	c->r[2].handle = c->args.handle;
	memset(&c->s, 0, sizeof(c->s));
	c->s.program = c->program;
	c->s.regions = (__u64)(unsigned long)c->r;
	c->s.region_count = 3;
	c->s.region_size = sizeof(c->r[0]);
	c->s.priority = DRM_LUMEN_PRIORITY_NORMAL;
	return &c->s;
}

/* The first @rows rows are the sums, the others untouched. */
bool add_sums_ok(const struct add_ctx *c, unsigned int rows)
{
	const float *s0 = (const float *)((char *)c->src.map + ADD_SRC0_OFF);
	const float *s1 = (const float *)((char *)c->src.map + ADD_SRC1_OFF);
	const float *d = c->dst.map;
	unsigned int r, col;

	for (r = 0; r < ADD_CAPACITY; r++)
		for (col = 0; col < ADD_WIDTH; col++) {
			float want = r < rows ? s0[r * ADD_WIDTH + col] + s1[col] : -1.0f;

			if (d[r * ADD_WIDTH + col] != want)
				return false;
		}
	return true;
}

int add_run(struct add_ctx *c, unsigned int rows, struct drm_lumen_job_wait *w)
{
	int ret = xioctl(c->fd, DRM_IOCTL_LUMEN_SUBMIT, add_prepare(c, rows));

	return ret ?: wait_job(c->fd, c->s.job_id, w);
}

int nop_ctx_init(struct nop_ctx *c, int fd)
{
	struct {
		struct lumen_prog_header h;
		struct lumen_op op;
	} p;
	int ret;

	memset(c, 0, sizeof(*c));
	memset(&p, 0, sizeof(p));
	c->fd = fd;
	prog_header(&p.h, 1, 1, 0);
	p.op.opcode = LUMEN_OP_NOP;
	p.op.rows_arg = LUMEN_ARG_NONE;
	p.op.pos_arg = LUMEN_ARG_NONE;
	ret = bo_new(fd, 4096, &c->bo) ?: prog_create(fd, &p, sizeof(p), &c->program);
	if (ret)
		return ret;
	c->r.handle = c->bo.handle;
	c->s.program = c->program;
	c->s.regions = (__u64)(unsigned long)&c->r;
	c->s.region_count = 1;
	c->s.region_size = sizeof(c->r);
	c->s.priority = DRM_LUMEN_PRIORITY_NORMAL;
	return 0;
}

__u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__s64 deadline_ns(int seconds)
{
	return now_ns() + seconds * 1000000000LL;
}

int wait_job(int fd, __u64 id, struct drm_lumen_job_wait *w)
{
	memset(w, 0, sizeof(*w));
	w->job_id = id;
	w->timeout_ns = deadline_ns(30);
	return xioctl(fd, DRM_IOCTL_LUMEN_JOB_WAIT, w);
}

int syncobj_new(int fd, __u32 *handle)
{
	struct drm_syncobj_create sc = {};
	int ret = xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &sc);

	*handle = sc.handle;
	return ret;
}

int syncobj_wait(int fd, __u32 handle, __u64 point, int seconds)
{
	struct drm_syncobj_timeline_wait tw = {
		.handles = (__u64)(unsigned long)&handle,
		.points = (__u64)(unsigned long)&point,
		.count_handles = 1,
		.timeout_nsec = deadline_ns(seconds),
		.flags = DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
	};

	return xioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &tw);
}

int uring_init(struct io_uring *ring, unsigned int entries)
{
	return io_uring_queue_init(entries, ring, IORING_SETUP_SQE128);
}

/* Queue one submission; io_uring_submit() sends it. */
int uring_queue(struct io_uring *ring, int fd, const struct drm_lumen_submit *s,
		__u64 tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	/* A 128-byte SQE: the command area is 80 bytes. */
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = LUMEN_URING_CMD_SUBMIT;
	sqe->user_data = tag;
	memcpy(sqe->cmd, s, sizeof(*s));
	return 0;
}

/* /sys/kernel/debug/accel/<minor>/NAME of the Lumen device. */
static int debugfs_path(const char *name, char *path, size_t size)
{
	struct dirent *e;
	DIR *d;
	int ret = -ENOENT;

	d = opendir("/sys/kernel/debug/accel");
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, size, "/sys/kernel/debug/accel/%s/%s", e->d_name,
			 name);
		if (!access(path, F_OK)) {
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

int debugfs_write(const char *name, const char *value)
{
	char path[512];
	ssize_t n;
	int fd, ret;

	ret = debugfs_path(name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	ret = n == (ssize_t)strlen(value) ? 0 : -errno;
	close(fd);
	return ret;
}

bool hook(const char *name, const char *value)
{
	return debugfs_write(name, value) == 0;
}

int objects_read(struct lumen_objects *o)
{
	char path[512], key[32];
	long val;
	int ret, n = 0;
	FILE *f;

	ret = debugfs_path("objects", path, sizeof(path));
	if (ret)
		return ret;
	f = fopen(path, "r");
	if (!f)
		return -errno;
	memset(o, 0, sizeof(*o));
	while (fscanf(f, "%31[^:]:%ld\n", key, &val) == 2) {
		n++;
		if (!strcmp(key, "files"))
			o->files = val;
		else if (!strcmp(key, "vms"))
			o->vms = val;
		else if (!strcmp(key, "bos"))
			o->bos = val;
		else if (!strcmp(key, "mappings"))
			o->mappings = val;
		else if (!strcmp(key, "programs"))
			o->programs = val;
		else if (!strcmp(key, "jobs"))
			o->jobs = val;
		else
			n--;
	}
	fclose(f);
	return n == 6 ? 0 : -EPROTO;
}

bool objects_equal(const struct lumen_objects *a, const struct lumen_objects *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static int objects_wait(struct lumen_objects *o, int seconds, bool all)
{
	__u64 end = now_ns() + seconds * 1000000000ULL;
	int ret;

	for (;;) {
		ret = objects_read(o);
		if (ret)
			return ret;
		if (!o->jobs && (!all || (!o->files && !o->vms && !o->bos &&
					  !o->mappings && !o->programs)))
			return 0;
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

/*
 * Jobs are freed by the scheduler's worker and a closed file's state by
 * its last job: wait until nothing of either is left, or @seconds.
 */
int objects_wait_idle(struct lumen_objects *o, int seconds)
{
	return objects_wait(o, seconds, true);
}

/* Wait until every job is freed (files may stay open). */
int objects_wait_no_jobs(struct lumen_objects *o, int seconds)
{
	return objects_wait(o, seconds, false);
}

/* For test logs; the buffer is static. */
const char *objects_str(const struct lumen_objects *o)
{
	static char buf[160];

	snprintf(buf, sizeof(buf),
		 "files %ld vms %ld bos %ld mappings %ld programs %ld jobs %ld",
		 o->files, o->vms, o->bos, o->mappings, o->programs, o->jobs);
	return buf;
}

long long fdinfo_engine_ns(int fd)
{
	char path[64], line[256];
	long long ns = -1, v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "drm-engine-npu: %lld ns", &v) == 1)
			ns = v;
	fclose(f);
	return ns;
}

int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

__u64 percentile_u64(__u64 *v, size_t n, unsigned int pct)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp_u64);
	i = (n * pct) / 100;
	return v[i < n ? i : n - 1];
}

__u64 median_u64(__u64 *v, size_t n)
{
	return percentile_u64(v, n, 50);
}

int health_read(int fd, struct drm_lumen_health *h)
{
	struct drm_lumen_dev_query q = {
		.type = DRM_LUMEN_QUERY_HEALTH,
		.size = sizeof(*h),
		.pointer = (__u64)(unsigned long)h,
	};

	memset(h, 0, sizeof(*h));
	return xioctl(fd, DRM_IOCTL_LUMEN_DEV_QUERY, &q);
}

/* The PCI address of the device behind /dev/accel/accel0. */
int device_bdf(char *bdf, size_t size)
{
	char link[512];
	const char *base;
	ssize_t n;

	n = readlink("/sys/class/accel/accel0/device", link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	base = strrchr(link, '/');
	snprintf(bdf, size, "%s", base ? base + 1 : link);
	return 0;
}

static int sysfs_write(const char *path, const char *value)
{
	ssize_t n;
	int fd, ret;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	ret = n == (ssize_t)strlen(value) ? 0 : -errno;
	close(fd);
	return ret;
}

int driver_unbind(const char *bdf)
{
	return sysfs_write("/sys/bus/pci/drivers/lumen/unbind", bdf);
}

/* Bind the driver again and wait for its node (up to @seconds). */
int driver_bind(const char *bdf, int seconds)
{
	__u64 end = now_ns() + seconds * 1000000000ULL;
	int ret = sysfs_write("/sys/bus/pci/drivers/lumen/bind", bdf);

	if (ret)
		return ret;
	while (access(LUMEN_DEVICE, F_OK)) {
		if (now_ns() > end)
			return -ETIMEDOUT;
		usleep(10000);
	}
	return 0;
}

static void buf_unmap(struct buf *b)
{
	if (b->map && b->map != MAP_FAILED)
		munmap(b->map, b->size);
	b->map = NULL;
}

/* A mapping holds the file, and the device, open past close(). */
void add_ctx_unmap(struct add_ctx *c)
{
	buf_unmap(&c->dst);
	buf_unmap(&c->src);
	buf_unmap(&c->args);
}

void nop_ctx_unmap(struct nop_ctx *c)
{
	buf_unmap(&c->bo);
}

int debugfs_read(const char *name, char *buf, size_t size)
{
	char path[512];
	ssize_t n;
	int fd, ret;

	ret = debugfs_path(name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	ret = n < 0 ? -errno : 0;
	buf[n < 0 ? 0 : n] = 0;
	close(fd);
	return ret;
}
