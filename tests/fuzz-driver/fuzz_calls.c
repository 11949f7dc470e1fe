// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * The executor of fuzzer inputs (fuzz_calls.h). Resources are bounded
 * per input: FZ_FILES files, FZ_BOS buffers of FZ_LIVE_BYTES in all,
 * FZ_PROGS programs, FZ_SYNCS syncobjs, FZ_DMABUFS dma-bufs, rings of
 * FZ_RING_ENTRIES; every wait has a deadline of at most FZ_WAIT_MS. Sizes
 * past the bounds are only ever asked for where the driver must refuse
 * them before allocating (huge BO sizes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <linux/dma-buf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm.h>
#include <drm/lumen_accel.h>

#include "fuzz_calls.h"
#include "fuzz_prog.h"
#include "lumen_validate.h"

#define FZ_DEVICE		"/dev/accel/accel0"
#define FZ_FILES		3
#define FZ_BOS			24
#define FZ_PROGS		12
#define FZ_SYNCS		8
#define FZ_DMABUFS		6
#define FZ_RING_ENTRIES		8
#define FZ_LIVE_BYTES		(12ULL << 20)
#define FZ_WAIT_MS		20
#define FZ_ARG_WORDS		LUMEN_MAX_ARG_SLOTS

static const char *const kind_names[FZ_KIND_COUNT] = {
	[FZ_OPEN] = "OPEN", [FZ_CLOSE_FD] = "CLOSE_FD",
	[FZ_GET_PARAM] = "GET_PARAM", [FZ_DEV_QUERY] = "DEV_QUERY",
	[FZ_BO_CREATE] = "BO_CREATE", [FZ_BO_MMAP] = "BO_MMAP",
	[FZ_BO_INFO] = "BO_INFO", [FZ_GEM_CLOSE] = "GEM_CLOSE",
	[FZ_PROG_CREATE] = "PROGRAM_CREATE",
	[FZ_PROG_DESTROY] = "PROGRAM_DESTROY", [FZ_SUBMIT] = "SUBMIT",
	[FZ_JOB_WAIT] = "JOB_WAIT", [FZ_URING_SUBMIT] = "URING_SUBMIT",
	[FZ_URING_REAP] = "URING_REAP", [FZ_URING_CLOSE] = "URING_CLOSE",
	[FZ_PRIME_EXPORT] = "PRIME_EXPORT", [FZ_PRIME_IMPORT] = "PRIME_IMPORT",
	[FZ_DMABUF_MMAP] = "DMABUF_MMAP", [FZ_SYNCOBJ_CREATE] = "SYNCOBJ_CREATE",
	[FZ_SYNCOBJ_DESTROY] = "SYNCOBJ_DESTROY",
	[FZ_SYNCOBJ_WAIT] = "SYNCOBJ_WAIT", [FZ_SYNCOBJ_MISC] = "SYNCOBJ_MISC",
	[FZ_MMAP_RAW] = "MMAP_RAW", [FZ_FDINFO] = "FDINFO",
	[FZ_DEBUGFS] = "DEBUGFS", [FZ_HOOK] = "HOOK",
	[FZ_RAW_IOCTL] = "RAW_IOCTL", [FZ_RACE] = "RACE",
};

/* Relative weights of fresh calls: most of the surface is in these. */
static const uint8_t kind_weight[FZ_KIND_COUNT] = {
	[FZ_OPEN] = 3, [FZ_CLOSE_FD] = 1, [FZ_GET_PARAM] = 2,
	[FZ_DEV_QUERY] = 2, [FZ_BO_CREATE] = 8, [FZ_BO_MMAP] = 4,
	[FZ_BO_INFO] = 3, [FZ_GEM_CLOSE] = 3, [FZ_PROG_CREATE] = 10,
	[FZ_PROG_DESTROY] = 2, [FZ_SUBMIT] = 10, [FZ_JOB_WAIT] = 5,
	[FZ_URING_SUBMIT] = 8, [FZ_URING_REAP] = 4, [FZ_URING_CLOSE] = 1,
	[FZ_PRIME_EXPORT] = 3, [FZ_PRIME_IMPORT] = 3, [FZ_DMABUF_MMAP] = 2,
	[FZ_SYNCOBJ_CREATE] = 4, [FZ_SYNCOBJ_DESTROY] = 1,
	[FZ_SYNCOBJ_WAIT] = 3, [FZ_SYNCOBJ_MISC] = 3, [FZ_MMAP_RAW] = 1,
	[FZ_FDINFO] = 1, [FZ_DEBUGFS] = 1, [FZ_HOOK] = 1, [FZ_RAW_IOCTL] = 2,
	[FZ_RACE] = 4,
};

const char *fz_kind_name(uint32_t kind)
{
	return kind < FZ_KIND_COUNT ? kind_names[kind] : "?";
}

void fz_call_random(struct fz_rng *r, struct fz_call *c)
{
	unsigned int total = 0, i, pick;

	for (i = 0; i < FZ_KIND_COUNT; i++)
		total += kind_weight[i];
	pick = fz_below(r, total);
	for (i = 0; i < FZ_KIND_COUNT - 1 && pick >= kind_weight[i]; i++)
		pick -= kind_weight[i];
	c->kind = i;
	c->odd = fz_below(r, 100);
	c->a = fz_next(r);
	c->b = fz_next(r);
	c->c = fz_next(r);
}

void fz_call_mutate(struct fz_rng *r, struct fz_call *c)
{
	uint64_t *f = fz_pct(r, 34) ? &c->a : fz_pct(r, 50) ? &c->b : &c->c;

	switch (fz_below(r, 5)) {
	case 0:
		c->odd = fz_below(r, 100);
		break;
	case 1:
		*f = fz_next(r);
		break;
	case 2:
		*f += fz_pct(r, 50) ? 1 : -1;
		break;
	case 3:
		*f ^= 1ULL << fz_below(r, 64);
		break;
	default:
		c->kind = fz_below(r, FZ_KIND_COUNT);
		break;
	}
}

/* ---- the state one input builds ---------------------------------- */

struct fz_file {
	int fd;
	bool ring_ok;
	unsigned int inflight;
	uint64_t last_job;
	struct io_uring ring;
};

struct fz_bo {
	int file;		/* -1: free slot */
	uint32_t handle;
	uint64_t size;
	void *map;
};

struct fz_prog {
	int file;
	uint32_t handle;
	uint32_t regions;
	uint32_t args_region;
	uint32_t used;
	uint64_t need[LUMEN_MAX_REGIONS];
};

struct fz_sync {
	int file;
	uint32_t handle;
	uint64_t point;
};

static struct {
	struct fz_file file[FZ_FILES];
	struct fz_bo bo[FZ_BOS];
	struct fz_prog prog[FZ_PROGS];
	struct fz_sync sync[FZ_SYNCS];
	int dmabuf[FZ_DMABUFS];
	struct { void *p; size_t len; } maps[FZ_BOS];	/* kept maps, to undo */
	unsigned int nmaps;
	struct io_uring orphans[FZ_FILES];	/* rings of closed files */
	unsigned int norphans;
	uint64_t live_bytes;
	bool delay_set;
	struct fz_stats *st;
	FILE *trace;
	uint8_t scratch[8192];
} S;

static int sys_ret(int ret)
{
	S.st->syscalls++;
	return ret < 0 ? -errno : ret;
}

/* Interrupted calls are retried, a bounded number of times. */
static int fz_ioctl(int fd, unsigned long req, void *arg)
{
	int ret, tries = 0;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret < 0 && (errno == EINTR || errno == EAGAIN) &&
		 req != DRM_IOCTL_LUMEN_JOB_WAIT && ++tries < 100);
	return sys_ret(ret);
}

static __s64 deadline_ns(unsigned int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__s64)ts.tv_sec * 1000000000LL + ts.tv_nsec + ms * 1000000LL;
}

static uint64_t mono_ns(void)
{
	return (uint64_t)deadline_ns(0);
}

static bool odd(const struct fz_call *c)
{
	return c->odd < FZ_ODD_PCT;
}

/* The @n-th live entry (modulo the count) of a table, or -1. */
#define PICK(table, count, live, n) ({					\
	int __k = 0, __i, __hit = -1, __want;				\
	for (__i = 0; __i < (count); __i++)				\
		__k += !!(live(&(table)[__i]));				\
	__want = __k ? (int)((n) % __k) : 0;				\
	for (__i = 0; __k && __i < (count); __i++)			\
		if ((live(&(table)[__i])) && !__want--) {		\
			__hit = __i;					\
			break;						\
		}							\
	__hit;								\
})
#define FILE_LIVE(f)	((f)->fd >= 0)
#define BO_LIVE(b)	((b)->file >= 0)
#define PROG_LIVE(p)	((p)->file >= 0)
#define SYNC_LIVE(s)	((s)->file >= 0)
#define DMABUF_LIVE(d)	(*(d) >= 0)

static int open_file(void)
{
	int i, fd;

	for (i = 0; i < FZ_FILES; i++)
		if (S.file[i].fd < 0)
			break;
	if (i == FZ_FILES)
		return -EMFILE;
	fd = sys_ret(open(FZ_DEVICE, O_RDWR | O_CLOEXEC));
	if (fd < 0)
		return fd;
	S.file[i] = (struct fz_file){ .fd = fd };
	return i;
}

/* A live file picked by @n, opening the first if there is none. */
static int pick_file(uint64_t n)
{
	int f = PICK(S.file, FZ_FILES, FILE_LIVE, n);

	return f >= 0 ? f : open_file();
}

static int ring_of(int f)
{
	struct fz_file *file = &S.file[f];
	int ret;

	if (file->ring_ok)
		return 0;
	ret = io_uring_queue_init(FZ_RING_ENTRIES, &file->ring,
				  IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	S.st->syscalls++;
	if (ret)
		return ret;
	file->ring_ok = true;
	file->inflight = 0;
	return 0;
}

static void reap(int f, bool wait)
{
	struct fz_file *file = &S.file[f];
	struct __kernel_timespec ts = { .tv_nsec = FZ_WAIT_MS * 1000000LL };
	struct io_uring_cqe *cqe;

	if (!file->ring_ok)
		return;
	if (wait && file->inflight) {
		S.st->syscalls++;
		io_uring_wait_cqe_timeout(&file->ring, &cqe, &ts);
	}
	while (!io_uring_peek_cqe(&file->ring, &cqe)) {
		S.st->cqes++;
		S.st->cqes_ok += cqe->res == 0;
		if (cqe->res == 0 && cqe->big_cqe[0] > file->last_job)
			file->last_job = cqe->big_cqe[0];
		io_uring_cqe_seen(&file->ring, cqe);
		if (file->inflight)
			file->inflight--;
	}
}

static void forget_file(int f)
{
	int i;

	for (i = 0; i < FZ_BOS; i++)
		if (S.bo[i].file == f)
			S.bo[i].file = -1;	/* its map stays until exit */
	for (i = 0; i < FZ_PROGS; i++)
		if (S.prog[i].file == f)
			S.prog[i].file = -1;
	for (i = 0; i < FZ_SYNCS; i++)
		if (S.sync[i].file == f)
			S.sync[i].file = -1;
	S.file[f].fd = -1;
	S.file[f].ring_ok = false;
}

static int bo_slot(void)
{
	int i;

	for (i = 0; i < FZ_BOS; i++)
		if (S.bo[i].file < 0)
			return i;
	return -1;
}

static int bo_create(int f, uint64_t size, uint32_t flags, int *slot)
{
	struct drm_lumen_bo_create req = { .size = size, .flags = flags };
	int i = bo_slot(), ret;

	*slot = -1;
	if (i < 0)
		return -ENOSPC;
	ret = fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_BO_CREATE, &req);
	if (ret)
		return ret;
	S.bo[i] = (struct fz_bo){ .file = f, .handle = req.handle,
				  .size = req.size };
	S.live_bytes += req.size;
	*slot = i;
	return 0;
}

/* A map stays while its buffer is used, past GEM_CLOSE and close(). */
static void keep_map(struct fz_bo *bo, void *p)
{
	bo->map = p;
	S.maps[S.nmaps].p = p;
	S.maps[S.nmaps++].len = bo->size;
}

static int bo_map(struct fz_bo *bo, int prot)
{
	struct drm_lumen_bo_mmap_offset req = { .handle = bo->handle };
	void *p;
	int ret;

	if (bo->map)
		return 0;
	if (S.nmaps == FZ_BOS)
		return -ENOSPC;
	ret = fz_ioctl(S.file[bo->file].fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &req);
	if (ret)
		return ret;
	p = mmap(NULL, bo->size, prot, MAP_SHARED, S.file[bo->file].fd,
		 req.offset);
	ret = sys_ret(p == MAP_FAILED ? -1 : 0);
	if (ret)
		return ret;
	keep_map(bo, p);
	return 0;
}

static const uint64_t bo_sizes[] = {
	1, 100, 4095, 4096, 4097, 8192, 12288, 65536, 65537, 262144,
	(2 << 20) - 4096, 2 << 20, (2 << 20) + 4096, 4 << 20,
};

/* Sizes the driver must refuse before allocating anything. */
static const uint64_t bo_sizes_refused[] = {
	0, 1ULL << 40, 1ULL << 62, ~0ULL, ~0ULL - 4095, 1ULL << 47,
};

static void do_bo_create(const struct fz_call *c)
{
	uint64_t size;
	int f = pick_file(c->a), slot;

	if (f < 0)
		return;
	/* Buffers of megabytes are slow to fill and free: one in eight. */
	if (odd(c) && (c->b & 1))
		size = bo_sizes_refused[c->c % 6];
	else if (c->c & 0x700)
		size = bo_sizes[c->c % 10];
	else
		size = bo_sizes[10 + c->c % 4];
	if (size < (1ULL << 40) && S.live_bytes + size > FZ_LIVE_BYTES)
		size = 4096;
	S.st->kind_ok[FZ_BO_CREATE] +=
		!bo_create(f, size, odd(c) && !(c->b & 1) ? 1U << (c->b % 32) : 0,
			   &slot);
}

static void do_bo_mmap(const struct fz_call *c)
{
	int i = PICK(S.bo, FZ_BOS, BO_LIVE, c->a);
	struct drm_lumen_bo_mmap_offset req = { 0 };
	struct fz_bo *bo;
	uint8_t *p;
	int ret, prot = (c->b & 3) == 0 ? PROT_READ : PROT_READ | PROT_WRITE;
	uint64_t len;

	if (i < 0)
		return;
	bo = &S.bo[i];
	req.handle = odd(c) ? bo->handle + 1 + (c->c & 7) : bo->handle;
	req.pad = odd(c) && (c->c & 8);
	ret = fz_ioctl(S.file[bo->file].fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &req);
	S.st->kind_ok[FZ_BO_MMAP] += !ret;
	if (ret)
		return;
	/* Map exactly, past the end (must fail), or a part at an offset. */
	len = bo->size;
	if (c->b & 4)
		len += 4096;
	else if ((c->b & 8) && bo->size > 4096)
		len = 4096;
	p = mmap(NULL, len, prot, MAP_SHARED, S.file[bo->file].fd,
		 req.offset + ((c->b & 16) && bo->size > 8192 ? 4096 : 0));
	if (sys_ret(p == MAP_FAILED ? -1 : 0))
		return;
	if (prot & PROT_WRITE)
		memset(p, (int)c->c, len < 64 ? len : 64);
	else
		S.scratch[0] ^= p[0];
	/* Kept only writable: the args of a later SUBMIT are written there. */
	if (!bo->map && len == bo->size && !(c->b & 16) && (c->c & 1) &&
	    (prot & PROT_WRITE) && S.nmaps < FZ_BOS)
		keep_map(bo, p);
	else
		munmap(p, len);
}

static void do_bo_info(const struct fz_call *c)
{
	int i = PICK(S.bo, FZ_BOS, BO_LIVE, c->a), f;
	struct drm_lumen_bo_info req = { 0 };

	if (i >= 0) {
		f = S.bo[i].file;
		req.handle = S.bo[i].handle;
	} else {
		f = pick_file(c->a);
		req.handle = (uint32_t)c->b;
	}
	if (f < 0)
		return;
	if (odd(c)) {
		if (c->b & 1)
			req.pad = 1;
		else
			req.handle = (uint32_t)c->c;
	}
	S.st->kind_ok[FZ_BO_INFO] +=
		!fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_BO_INFO, &req);
}

static void do_gem_close(const struct fz_call *c)
{
	int i = PICK(S.bo, FZ_BOS, BO_LIVE, c->a), f;
	struct drm_gem_close req = { 0 };

	if (i < 0 || odd(c)) {
		f = pick_file(c->b);
		if (f < 0)
			return;
		req.handle = (uint32_t)c->c % 64;
		req.pad = c->b & 1;
	} else {
		f = S.bo[i].file;
		req.handle = S.bo[i].handle;
	}
	if (!fz_ioctl(S.file[f].fd, DRM_IOCTL_GEM_CLOSE, &req)) {
		S.st->kind_ok[FZ_GEM_CLOSE]++;
		/* Every slot of that handle: imports may repeat one. */
		for (i = 0; i < FZ_BOS; i++)
			if (S.bo[i].file == f && S.bo[i].handle == req.handle)
				S.bo[i].file = -1;
	}
}

static void record_mismatch(const char *what, uint32_t want, uint32_t got)
{
	S.st->verdict_mismatch++;
	if (!S.st->mismatch[0])
		snprintf(S.st->mismatch, sizeof(S.st->mismatch),
			 "%s: lumen_validate() %u, kernel %u", what, want, got);
}

static int prog_create(int f, const struct fz_call *c, int *slot)
{
	static uint8_t prog[FZ_PROG_CAP];
	struct drm_lumen_program_create req = { 0 };
	uint64_t sizes[LUMEN_MAX_REGIONS + 2] = { 0 };
	struct lumen_validation v;
	int mutated, ret, i, verr;
	size_t size = fz_prog_make(c->b, prog, &mutated);

	*slot = -1;
	S.st->progs_generated++;
	S.st->progs_mutated += mutated;
	verr = lumen_validate(prog, size, &v);
	req.program = (uintptr_t)prog;
	req.size = size;
	req.region_sizes_count = c->c % (LUMEN_MAX_REGIONS + 3);
	req.region_sizes = req.region_sizes_count ? (uintptr_t)sizes : 0;
	if (odd(c)) {
		switch (c->c % 5) {
		case 0: req.flags = 1; break;
		case 1: req.pad = 1; break;
		case 2: req.program = 0x1000; break;
		case 3: req.region_sizes = 0x1000; break;
		default: req.size = 0; break;
		}
	}
	ret = fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &req);
	if (!odd(c)) {
		/* The kernel runs the same validator on the same bytes. */
		if ((ret == 0) != (verr == 0) && (ret == 0 || ret == -EINVAL))
			record_mismatch("accepted", verr, req.error);
		else if (ret == -EINVAL && req.error != (uint32_t)verr)
			record_mismatch("error code", verr, req.error);
		else if (!ret && req.regions_used != v.regions_used)
			record_mismatch("regions_used", v.regions_used,
					req.regions_used);
	}
	if (ret)
		return ret;
	S.st->progs_accepted++;
	S.st->progs_mutated_accepted += mutated;
	for (i = 0; i < FZ_PROGS; i++)
		if (S.prog[i].file < 0)
			break;
	if (i == FZ_PROGS)
		return 0;	/* the handle stays, unnamed, until exit */
	S.prog[i] = (struct fz_prog){
		.file = f, .handle = req.handle,
		.regions = ((const struct lumen_prog_header *)prog)->region_count,
		.args_region = ((const struct lumen_prog_header *)prog)->args_region,
		.used = v.regions_used,
	};
	memcpy(S.prog[i].need, v.region_size, sizeof(v.region_size));
	*slot = i;
	return 0;
}

static void do_prog_create(const struct fz_call *c)
{
	int f = pick_file(c->a), slot;

	if (f >= 0)
		S.st->kind_ok[FZ_PROG_CREATE] += !prog_create(f, c, &slot);
}

static void do_prog_destroy(const struct fz_call *c)
{
	int i = PICK(S.prog, FZ_PROGS, PROG_LIVE, c->a), f;
	struct drm_lumen_program_destroy req = { 0 };

	if (i < 0 || odd(c)) {
		f = pick_file(c->b);
		if (f < 0)
			return;
		req.handle = (uint32_t)c->c % 16;
		req.pad = c->b & 1;
	} else {
		f = S.prog[i].file;
		req.handle = S.prog[i].handle;
	}
	if (!fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &req)) {
		S.st->kind_ok[FZ_PROG_DESTROY]++;
		for (i = 0; i < FZ_PROGS; i++)
			if (S.prog[i].file == f && S.prog[i].handle == req.handle)
				S.prog[i].file = -1;
	}
}

/* A buffer of file @f holding at least @need bytes: found or made. */
static int bo_for(int f, uint64_t need, uint64_t n)
{
	int i, found = -1, start = (int)(n % FZ_BOS), slot;

	need = need ? (need + 4095) & ~4095ULL : 4096;
	for (i = 0; i < FZ_BOS; i++) {
		struct fz_bo *bo = &S.bo[(start + i) % FZ_BOS];

		if (bo->file == f && bo->size >= need) {
			found = (start + i) % FZ_BOS;
			break;
		}
	}
	if (found >= 0)
		return found;
	if (S.live_bytes + need > FZ_LIVE_BYTES)
		return -1;
	return bo_create(f, need, 0, &slot) ? -1 : slot;
}

/* Arg values: small row counts and positions, or boundary values. */
static void fill_args(struct fz_bo *bo, const struct fz_call *c)
{
	uint32_t *w = bo->map, i, words = bo->size / 4;

	if (words > FZ_ARG_WORDS)
		words = FZ_ARG_WORDS;
	for (i = 0; i < words; i++)
		w[i] = 1 + ((c->b >> (i % 61)) & 3);
	if (odd(c))
		w[c->c % 16] = (c->c & 16) ? 0 : (c->c & 32) ? 0xffffffff : 1000;
}

#define FZ_HUGE_ELEMENT	(1U << 20)

/*
 * Elements of a megabyte, the tail of each zero (untouched anonymous
 * memory reads as the zero page: nothing is allocated): the kernel must
 * bound how much it scans for the zero tail of a bigger element.
 */
static void huge_elements(struct drm_lumen_submit *s,
			  const struct drm_lumen_region *regs,
			  const struct drm_lumen_sync *syncs, bool regions)
{
	static uint8_t *area;
	uint32_t i, n = regions ? s->region_count : 1;

	if (!area) {
		area = mmap(NULL, (size_t)(LUMEN_MAX_REGIONS + 1) * FZ_HUGE_ELEMENT,
			    PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (area == MAP_FAILED) {
			area = NULL;
			return;
		}
	}
	for (i = 0; i < n && i <= LUMEN_MAX_REGIONS; i++) {
		if (regions)
			memcpy(area + (size_t)i * FZ_HUGE_ELEMENT, &regs[i],
			       sizeof(*regs));
		else
			memcpy(area + (size_t)i * FZ_HUGE_ELEMENT, &syncs[0],
			       sizeof(*syncs));
	}
	if (regions) {
		s->regions = (uintptr_t)area;
		s->region_size = FZ_HUGE_ELEMENT;
	} else {
		s->in_syncs = (uintptr_t)area;
		s->in_sync_count = 1;
		s->sync_size = FZ_HUGE_ELEMENT;
	}
}

/*
 * Fill @s for program slot @p (or a made-up handle), binding buffers it
 * needs; @regs and @syncs are its arrays. Return: the file, or -1.
 */
static int prepare_submit(const struct fz_call *c, struct drm_lumen_submit *s,
			  struct drm_lumen_region *regs,
			  struct drm_lumen_sync *syncs)
{
	int p = PICK(S.prog, FZ_PROGS, PROG_LIVE, c->a), f, i, b, y;
	uint32_t regions, q = (uint32_t)(c->c >> 8);
	struct fz_prog *prog;

	memset(s, 0, sizeof(*s));
	memset(regs, 0, sizeof(*regs) * (LUMEN_MAX_REGIONS + 2));
	if (p < 0) {
		/* No program yet: make one, so most submissions can run. */
		f = pick_file(c->a);
		if (f < 0 || prog_create(f, c, &p) || p < 0)
			return f < 0 ? -1 : f;
	}
	prog = &S.prog[p];
	f = prog->file;
	s->program = prog->handle;
	regions = prog->regions;
	for (i = 0; i < (int)regions; i++) {
		if (!(prog->used & (1U << i)) && !(c->b & (1ULL << (40 + i))))
			continue;
		b = bo_for(f, prog->need[i], c->b >> i);
		if (b < 0)
			continue;
		regs[i].handle = S.bo[b].handle;
		if (i == (int)prog->args_region && !bo_map(&S.bo[b],
							    PROT_READ | PROT_WRITE))
			fill_args(&S.bo[b], c);
		if (odd(c) && (q % 8) == (unsigned int)i) {
			switch ((q >> 3) % 5) {
			case 0: regs[i].size = prog->need[i] ? prog->need[i] - 1 : 1; break;
			case 1: regs[i].offset = 4096; break;
			case 2: regs[i].offset = 100; break;
			case 3: regs[i].flags = 1; break;
			default: regs[i].handle += 1000; break;
			}
		} else if (c->c & 1) {
			regs[i].size = prog->need[i];
		}
	}
	s->regions = (uintptr_t)regs;
	s->region_count = regions;
	s->region_size = sizeof(*regs);
	s->priority = c->c % 3;
	/* Syncs: wait for one and signal one, when there are any. */
	y = PICK(S.sync, FZ_SYNCS, SYNC_LIVE, c->c >> 16);
	if (y >= 0 && S.sync[y].file == f && (c->c & 2)) {
		syncs[0] = (struct drm_lumen_sync){ .handle = S.sync[y].handle,
						    .point = S.sync[y].point };
		s->in_syncs = (uintptr_t)&syncs[0];
		s->in_sync_count = 1;
	}
	y = PICK(S.sync, FZ_SYNCS, SYNC_LIVE, c->c >> 24);
	if (y >= 0 && S.sync[y].file == f && (c->c & 4)) {
		if (c->c & 8)
			S.sync[y].point++;
		syncs[1] = (struct drm_lumen_sync){ .handle = S.sync[y].handle,
						    .point = S.sync[y].point };
		s->out_syncs = (uintptr_t)&syncs[1];
		s->out_sync_count = 1;
	}
	if (s->in_sync_count || s->out_sync_count)
		s->sync_size = sizeof(*syncs);
	if (odd(c)) {
		switch ((q >> 6) % 12) {
		case 0: s->region_count = 0; break;
		case 1: s->region_count = LUMEN_MAX_REGIONS + 1; break;
		case 2: s->region_count = regions > 1 ? regions - 1 : 2; break;
		case 3: s->region_size = 8; break;
		case 4: s->region_size = sizeof(*regs) + 8; break;
		case 5: s->flags = 1; break;
		case 6: s->priority = 3; break;
		case 7: s->reserved[q & 1] = 1; break;
		case 8: s->sync_size = s->sync_size ? 4 : sizeof(*syncs); break;
		case 9:
		case 10:
			huge_elements(s, regs, syncs, (q >> 6) % 12 == 9);
			break;
		default:
			s->in_syncs = (uintptr_t)&syncs[0];
			syncs[0] = (struct drm_lumen_sync){ .handle = 999,
							    .flags = q & 1 };
			s->in_sync_count = 1 + (q & 1);
			s->sync_size = sizeof(*syncs);
			break;
		}
	}
	return f;
}

static void count_submit(int ret)
{
	S.st->submits++;
	S.st->submits_ok += !ret;
}

static void do_submit(const struct fz_call *c)
{
	struct drm_lumen_region regs[LUMEN_MAX_REGIONS + 2];
	struct drm_lumen_sync syncs[3] = { 0 };
	struct drm_lumen_submit s;
	int f = prepare_submit(c, &s, regs, syncs), ret;

	if (f < 0)
		return;
	ret = fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_SUBMIT, &s);
	count_submit(ret);
	S.st->kind_ok[FZ_SUBMIT] += !ret;
	if (!ret)
		S.file[f].last_job = s.job_id;
}

static void do_job_wait(const struct fz_call *c)
{
	int f = pick_file(c->a), ret;
	struct drm_lumen_job_wait w = { 0 };
	uint64_t last;

	if (f < 0)
		return;
	last = S.file[f].last_job;
	switch (c->b % 8) {
	case 0: w.job_id = 0; break;
	case 1: w.job_id = last + 1; break;
	case 2: w.job_id = last > DRM_LUMEN_JOB_HISTORY ?
			last - DRM_LUMEN_JOB_HISTORY - 1 : ~0ULL; break;
	case 3: w.job_id = last > 1 ? last - 1 : last; break;
	default: w.job_id = last; break;
	}
	w.timeout_ns = (c->c & 3) ? 0 : deadline_ns(FZ_WAIT_MS);
	if (odd(c)) {
		if (c->c & 2)
			w.pad = 1;
		else
			w.timeout_ns = (c->c & 4) ? -1 : 1;
	}
	ret = fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_JOB_WAIT, &w);
	S.st->kind_ok[FZ_JOB_WAIT] += !ret;
	if ((!ret || ret == -ETIME) && w.status < 5)
		S.st->job_status[w.status]++;
}

static void do_uring_submit(const struct fz_call *c)
{
	struct drm_lumen_region regs[LUMEN_MAX_REGIONS + 2];
	static struct drm_lumen_sync syncs[3];
	struct drm_lumen_submit s;
	struct io_uring_sqe *sqe;
	int f = prepare_submit(c, &s, regs, syncs), ret;
	struct fz_file *file;

	if (f < 0 || ring_of(f))
		return;
	file = &S.file[f];
	if (file->inflight >= FZ_RING_ENTRIES)
		reap(f, true);
	if (file->inflight >= FZ_RING_ENTRIES)
		return;
	sqe = io_uring_get_sqe(&file->ring);
	if (!sqe)
		return;
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = file->fd;
	sqe->cmd_op = LUMEN_URING_CMD_SUBMIT;
	sqe->user_data = c->a;
	if (c->b & 8) {
		sqe->flags |= IOSQE_ASYNC;
		S.st->uring_async++;
	}
	if (odd(c) && (c->c & 0x10000)) {
		if (c->c & 0x20000)
			sqe->cmd_op = LUMEN_URING_CMD_SUBMIT + 1;
		else
			s.job_id = 1;
	}
	memcpy(sqe->cmd, &s, sizeof(s));
	ret = io_uring_submit(&file->ring);
	S.st->syscalls++;
	S.st->uring_cmds++;
	if (ret == 1) {
		file->inflight++;
		S.st->kind_ok[FZ_URING_SUBMIT]++;
	}
	if (c->b & 16)
		reap(f, true);
}

static void do_uring_reap(const struct fz_call *c)
{
	int f = PICK(S.file, FZ_FILES, FILE_LIVE, c->a);

	if (f >= 0 && S.file[f].ring_ok) {
		reap(f, c->b & 1);
		S.st->kind_ok[FZ_URING_REAP]++;
	}
}

/* The ring goes away with commands in flight: they complete -ECANCELED. */
static void do_uring_close(const struct fz_call *c)
{
	int f = PICK(S.file, FZ_FILES, FILE_LIVE, c->a);

	if (f < 0 || !S.file[f].ring_ok)
		return;
	io_uring_queue_exit(&S.file[f].ring);
	S.st->syscalls++;
	S.file[f].ring_ok = false;
	S.st->kind_ok[FZ_URING_CLOSE]++;
}

static void do_close_fd(const struct fz_call *c)
{
	int f = PICK(S.file, FZ_FILES, FILE_LIVE, c->a);

	if (f < 0)
		return;
	/* The ring first, or the file first with the ring still holding it. */
	if ((c->b & 1) && S.file[f].ring_ok) {
		io_uring_queue_exit(&S.file[f].ring);
		S.file[f].ring_ok = false;
	}
	/* A ring left open keeps the file alive until the input's end. */
	if (S.file[f].ring_ok && S.norphans == FZ_FILES) {
		io_uring_queue_exit(&S.file[f].ring);
		S.file[f].ring_ok = false;
	}
	if (S.file[f].ring_ok)
		S.orphans[S.norphans++] = S.file[f].ring;
	S.st->kind_ok[FZ_CLOSE_FD] += !sys_ret(close(S.file[f].fd));
	forget_file(f);
}

static void do_get_param(const struct fz_call *c)
{
	int f = pick_file(c->a);
	struct drm_lumen_get_param p = { .param = (uint32_t)(c->b % 12) };

	if (f < 0)
		return;
	if (odd(c))
		p.pad = 1 + (uint32_t)(c->c % 4);
	S.st->kind_ok[FZ_GET_PARAM] +=
		!fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_GET_PARAM, &p);
}

static void do_dev_query(const struct fz_call *c)
{
	static const uint32_t sizes[] = {
		DRM_LUMEN_DEV_INFO_SIZE_VER0, DRM_LUMEN_COUNTERS_SIZE_VER0,
		sizeof(struct drm_lumen_dev_info), 8, 0, 4096, 4097, 47, 100,
	};
	int f = pick_file(c->a);
	struct drm_lumen_dev_query q = { 0 };

	if (f < 0)
		return;
	q.type = (uint32_t)(c->b % 3);
	q.size = sizes[c->c % 9];
	q.pointer = (c->c & 0x100) ? 0 : (uintptr_t)S.scratch;
	if (odd(c))
		q.pointer = (c->c & 0x200) ? 0x1000 : (uintptr_t)-4096;
	S.st->kind_ok[FZ_DEV_QUERY] +=
		!fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_DEV_QUERY, &q);
}

static void do_prime_export(const struct fz_call *c)
{
	int i = PICK(S.bo, FZ_BOS, BO_LIVE, c->a), d, ret;
	struct drm_prime_handle req = { 0 };

	if (i < 0)
		return;
	req.handle = S.bo[i].handle;
	req.flags = DRM_CLOEXEC | ((c->b & 1) ? DRM_RDWR : 0);
	if (odd(c))
		req.flags = (uint32_t)c->c;
	ret = fz_ioctl(S.file[S.bo[i].file].fd, DRM_IOCTL_PRIME_HANDLE_TO_FD,
		       &req);
	S.st->kind_ok[FZ_PRIME_EXPORT] += !ret;
	if (ret)
		return;
	for (d = 0; d < FZ_DMABUFS; d++)
		if (S.dmabuf[d] < 0)
			break;
	if (d == FZ_DMABUFS) {
		d = (int)(c->c % FZ_DMABUFS);
		close(S.dmabuf[d]);
	}
	S.dmabuf[d] = req.fd;
}

static void do_prime_import(const struct fz_call *c)
{
	int d = PICK(S.dmabuf, FZ_DMABUFS, DMABUF_LIVE, c->a);
	int f = pick_file(c->b), ret, i;
	struct drm_prime_handle req = { 0 };
	off_t size;

	if (f < 0)
		return;
	req.fd = d >= 0 && !odd(c) ? S.dmabuf[d] : (c->c & 1) ? 0 : -1;
	ret = fz_ioctl(S.file[f].fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &req);
	S.st->kind_ok[FZ_PRIME_IMPORT] += !ret;
	if (ret || d < 0)
		return;
	size = lseek(S.dmabuf[d], 0, SEEK_END);
	i = bo_slot();
	if (i >= 0 && size > 0)
		S.bo[i] = (struct fz_bo){ .file = f, .handle = req.handle,
					  .size = (uint64_t)size };
}

static void do_dmabuf_mmap(const struct fz_call *c)
{
	int d = PICK(S.dmabuf, FZ_DMABUFS, DMABUF_LIVE, c->a);
	struct dma_buf_sync sync = { 0 };
	off_t size, len;
	uint8_t *p;
	bool rw;

	if (d < 0)
		return;
	size = lseek(S.dmabuf[d], 0, SEEK_END);
	if (size <= 0)
		return;
	/* Exported without DRM_RDWR, the dma-buf file is read-only. */
	rw = (fcntl(S.dmabuf[d], F_GETFL) & O_ACCMODE) == O_RDWR;
	len = (c->b & 1) && size > 4096 ? size - 4096 : size;
	p = mmap(NULL, len, rw ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
		 S.dmabuf[d], size - len);
	if (sys_ret(p == MAP_FAILED ? -1 : 0))
		return;
	S.st->kind_ok[FZ_DMABUF_MMAP]++;
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW;
	if (odd(c))
		sync.flags = (uint64_t)c->c;
	fz_ioctl(S.dmabuf[d], DMA_BUF_IOCTL_SYNC, &sync);
	if (rw)
		p[c->c % 64] = (uint8_t)c->b;
	else
		S.scratch[1] ^= p[c->c % 64];
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	fz_ioctl(S.dmabuf[d], DMA_BUF_IOCTL_SYNC, &sync);
	munmap(p, len);
}

static void do_syncobj_create(const struct fz_call *c)
{
	int f = pick_file(c->a), i, ret;
	struct drm_syncobj_create req = { 0 };

	if (f < 0)
		return;
	req.flags = (c->b & 1) ? DRM_SYNCOBJ_CREATE_SIGNALED : 0;
	if (odd(c))
		req.flags = (uint32_t)c->c;
	ret = fz_ioctl(S.file[f].fd, DRM_IOCTL_SYNCOBJ_CREATE, &req);
	S.st->kind_ok[FZ_SYNCOBJ_CREATE] += !ret;
	if (ret)
		return;
	for (i = 0; i < FZ_SYNCS; i++)
		if (S.sync[i].file < 0)
			break;
	if (i < FZ_SYNCS)
		S.sync[i] = (struct fz_sync){ .file = f, .handle = req.handle,
					      .point = (c->b & 2) ? 1 : 0 };
}

static void do_syncobj_destroy(const struct fz_call *c)
{
	int i = PICK(S.sync, FZ_SYNCS, SYNC_LIVE, c->a);
	struct drm_syncobj_destroy req = { 0 };

	if (i < 0)
		return;
	req.handle = S.sync[i].handle;
	req.pad = odd(c);
	if (!fz_ioctl(S.file[S.sync[i].file].fd, DRM_IOCTL_SYNCOBJ_DESTROY,
		      &req)) {
		S.st->kind_ok[FZ_SYNCOBJ_DESTROY]++;
		S.sync[i].file = -1;
	}
}

static void do_syncobj_wait(const struct fz_call *c)
{
	int i = PICK(S.sync, FZ_SYNCS, SYNC_LIVE, c->a), fd, ret;
	uint32_t handle;
	uint64_t point;

	if (i < 0)
		return;
	fd = S.file[S.sync[i].file].fd;
	handle = S.sync[i].handle;
	point = S.sync[i].point;
	if (c->b & 1) {
		struct drm_syncobj_timeline_wait w = {
			.handles = (uintptr_t)&handle,
			.points = (uintptr_t)&point,
			.timeout_nsec = (c->c & 0x30) ? 0 : deadline_ns(FZ_WAIT_MS),
			.count_handles = 1,
			.flags = (uint32_t)(c->c % 8),
		};

		if (odd(c))
			w.count_handles = (c->c & 8) ? 0 : 2;
		ret = fz_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_WAIT, &w);
	} else {
		struct drm_syncobj_wait w = {
			.handles = (uintptr_t)&handle,
			.timeout_nsec = (c->c & 0x30) ? 0 : deadline_ns(FZ_WAIT_MS),
			.count_handles = 1,
			.flags = (uint32_t)(c->c % 4),
		};

		if (odd(c))
			w.flags = (uint32_t)c->c;
		ret = fz_ioctl(fd, DRM_IOCTL_SYNCOBJ_WAIT, &w);
	}
	S.st->kind_ok[FZ_SYNCOBJ_WAIT] += !ret;
}

static void do_syncobj_misc(const struct fz_call *c)
{
	int i = PICK(S.sync, FZ_SYNCS, SYNC_LIVE, c->a);
	int j = PICK(S.sync, FZ_SYNCS, SYNC_LIVE, c->c), fd, f2, ret = -1;
	struct drm_syncobj_array arr = { 0 };
	struct drm_syncobj_timeline_array tl = { 0 };
	struct drm_syncobj_transfer tr = { 0 };
	struct drm_syncobj_handle h = { 0 };
	uint32_t handle;
	uint64_t point;

	if (i < 0)
		return;
	fd = S.file[S.sync[i].file].fd;
	handle = S.sync[i].handle;
	point = S.sync[i].point;
	arr.handles = tl.handles = (uintptr_t)&handle;
	arr.count_handles = tl.count_handles = 1;
	tl.points = (uintptr_t)&point;
	switch (c->b % 6) {
	case 0:
		ret = fz_ioctl(fd, DRM_IOCTL_SYNCOBJ_RESET, &arr);
		break;
	case 1:
		ret = fz_ioctl(fd, DRM_IOCTL_SYNCOBJ_SIGNAL, &arr);
		break;
	case 2:
		point = ++S.sync[i].point;
		ret = fz_ioctl(fd, DRM_IOCTL_SYNCOBJ_TIMELINE_SIGNAL, &tl);
		break;
	case 3:
		tl.flags = (c->c & 1) ? DRM_SYNCOBJ_QUERY_FLAGS_LAST_SUBMITTED : 0;
		ret = fz_ioctl(fd, DRM_IOCTL_SYNCOBJ_QUERY, &tl);
		break;
	case 4:
		if (j < 0 || S.sync[j].file != S.sync[i].file)
			return;
		tr.src_handle = handle;
		tr.dst_handle = S.sync[j].handle;
		tr.src_point = point;
		tr.dst_point = (c->c & 2) ? S.sync[j].point + 1 : 0;
		if (tr.dst_point)
			S.sync[j].point = tr.dst_point;
		ret = fz_ioctl(fd, DRM_IOCTL_SYNCOBJ_TRANSFER, &tr);
		break;
	default:
		/* Export as a syncobj fd or a sync_file, import in a file. */
		h.handle = handle;
		h.flags = (c->c & 4) ?
			DRM_SYNCOBJ_HANDLE_TO_FD_FLAGS_EXPORT_SYNC_FILE : 0;
		ret = fz_ioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h);
		if (ret)
			break;
		f2 = pick_file(c->c >> 8);
		if (f2 >= 0) {
			struct drm_syncobj_handle in = { .fd = h.fd };

			if (h.flags) {
				in.flags = DRM_SYNCOBJ_FD_TO_HANDLE_FLAGS_IMPORT_SYNC_FILE;
				in.handle = S.file[f2].fd == fd ? handle : 0;
			}
			fz_ioctl(S.file[f2].fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE,
				 &in);
		}
		close(h.fd);
		break;
	}
	S.st->kind_ok[FZ_SYNCOBJ_MISC] += !ret;
}

static void do_mmap_raw(const struct fz_call *c)
{
	static const uint64_t lens[] = { 4096, 1, 0, 1 << 20, 1ULL << 40 };
	int f = pick_file(c->a);
	uint64_t len = lens[c->b % 5];
	void *p;

	if (f < 0)
		return;
	/* Offsets no buffer was given: the fake-offset lookup must refuse. */
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, S.file[f].fd,
		 (off_t)((c->c % 1024) << 12) | ((c->c & 1ULL << 40) ? 1ULL << 32 : 0));
	if (!sys_ret(p == MAP_FAILED ? -1 : 0)) {
		S.st->kind_ok[FZ_MMAP_RAW]++;
		munmap(p, len);
	}
}

static bool read_file(const char *path)
{
	int fd = sys_ret(open(path, O_RDONLY | O_CLOEXEC));

	if (fd < 0)
		return false;
	while (read(fd, S.scratch, sizeof(S.scratch)) > 0)
		S.st->syscalls++;
	close(fd);
	return true;
}

static void do_fdinfo(const struct fz_call *c)
{
	int f = pick_file(c->a);
	char path[64];

	if (f < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", S.file[f].fd);
	S.st->kind_ok[FZ_FDINFO] += read_file(path);
}

/* /sys/kernel/debug/accel/<minor>: the device's debugfs directory. */
static const char *debugfs_dir(void)
{
	static char dir[300];
	struct dirent *e;
	DIR *d;

	if (dir[0])
		return dir;
	d = opendir("/sys/kernel/debug/accel");
	if (!d)
		return NULL;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(dir, sizeof(dir), "/sys/kernel/debug/accel/%s",
				 e->d_name);
			break;
		}
	closedir(d);
	return dir[0] ? dir : NULL;
}

static void do_debugfs(const struct fz_call *c)
{
	static const char *const files[] = { "state", "counters", "objects" };
	const char *dir = debugfs_dir();
	char path[320];

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, files[c->a % 3]);
	S.st->kind_ok[FZ_DEBUGFS] += read_file(path);
}

static int hook_write(const char *name, unsigned long val)
{
	const char *dir = debugfs_dir();
	char path[320], text[32];
	int fd, n, ret;

	if (!dir)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = sys_ret(open(path, O_WRONLY | O_CLOEXEC));
	if (fd < 0)
		return fd;
	n = snprintf(text, sizeof(text), "%lu\n", val);
	ret = sys_ret(write(fd, text, n) == n ? 0 : -1);
	close(fd);
	return ret;
}

/*
 * The driver's test hooks: a faulting job, a hanging one (a reset after
 * the job timeout), a slow device. Rare, and the delay is undone at the
 * end of the input.
 */
static void do_hook(const struct fz_call *c)
{
	int ret;

	switch (c->b % 8) {
	case 0:
		ret = (c->a % 4) ? hook_write("fault_next", 1) :
			hook_write("hang_next", 1);
		break;
	case 1:
	case 2:
		ret = hook_write("delay_us", c->c % 2000);
		S.delay_set = true;
		break;
	default:
		ret = hook_write("fault_next", 1);
		break;
	}
	S.st->kind_ok[FZ_HOOK] += !ret;
}

/* Any command number of the driver's range, any size and direction. */
static void do_raw_ioctl(const struct fz_call *c)
{
	int f = pick_file(c->a), i;
	unsigned long req;
	unsigned int size = (unsigned int)(c->c % 160);

	if (f < 0)
		return;
	for (i = 0; i < 160; i++)
		S.scratch[i] = (uint8_t)(c->b >> (8 * (i % 8)));
	req = _IOC((unsigned int)(c->c >> 32) % 4, DRM_IOCTL_BASE,
		   DRM_COMMAND_BASE + (c->b % 12), size);
	S.st->kind_ok[FZ_RAW_IOCTL] += !fz_ioctl(S.file[f].fd, req, S.scratch);
}

/* One ioctl in a second thread, after a spin, against the main thread's. */
struct racer {
	pthread_t thread;
	int fd;
	unsigned long req;
	void *arg;
	unsigned int spin;
	int ret;
};

static void spin(unsigned int n)
{
	volatile unsigned int i;

	for (i = 0; i < n; i++)
		;
}

static void *racer_main(void *p)
{
	struct racer *r = p;

	spin(r->spin);
	r->ret = ioctl(r->fd, r->req, r->arg) ? -errno : 0;
	return NULL;
}

static bool racer_start(struct racer *r, int fd, unsigned long req, void *arg,
			unsigned int spins)
{
	*r = (struct racer){ .fd = fd, .req = req, .arg = arg, .spin = spins };
	return !pthread_create(&r->thread, NULL, racer_main, r);
}

static int racer_join(struct racer *r)
{
	pthread_join(r->thread, NULL);
	S.st->syscalls++;
	return r->ret;
}

static void forget_handle(int f, uint32_t handle)
{
	int i;

	for (i = 0; i < FZ_BOS; i++)
		if (S.bo[i].file == f && S.bo[i].handle == handle)
			S.bo[i].file = -1;
}

/*
 * Two things at once on one file (the review's races): a submission
 * against GEM_CLOSE of a buffer it binds or PROGRAM_DESTROY of its
 * program, BO_INFO or mmap against GEM_CLOSE, and an IOSQE_ASYNC command
 * whose ring is torn down at once (cancellation racing the issue).
 */
static void do_race(const struct fz_call *c)
{
	struct drm_lumen_region regs[LUMEN_MAX_REGIONS + 2];
	struct drm_lumen_sync syncs[3] = { 0 };
	unsigned int them = c->c % 4000, us = (c->c >> 16) % 4000;
	struct drm_lumen_program_destroy pd = { 0 };
	struct drm_lumen_bo_mmap_offset mo = { 0 };
	struct drm_lumen_bo_info bi = { 0 };
	struct drm_gem_close gc = { 0 };
	struct io_uring_sqe *sqe;
	struct drm_lumen_submit s;
	struct racer r;
	int f, i, ret, b;
	void *p;

	switch (c->b % 5) {
	case 0:
	case 1:
		f = prepare_submit(c, &s, regs, syncs);
		if (f < 0)
			return;
		if (c->b % 5 == 0) {
			for (i = 0; i < LUMEN_MAX_REGIONS && !regs[i].handle; i++)
				;
			if (i == LUMEN_MAX_REGIONS)
				return;
			gc.handle = regs[i].handle;
			if (!racer_start(&r, S.file[f].fd, DRM_IOCTL_GEM_CLOSE,
					 &gc, them))
				return;
		} else {
			pd.handle = s.program;
			if (!racer_start(&r, S.file[f].fd,
					 DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &pd, them))
				return;
		}
		spin(us);
		ret = fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_SUBMIT, &s);
		count_submit(ret);
		if (!ret)
			S.file[f].last_job = s.job_id;
		if (!racer_join(&r)) {
			S.st->kind_ok[FZ_RACE]++;
			if (gc.handle)
				forget_handle(f, gc.handle);
			for (i = 0; pd.handle && i < FZ_PROGS; i++)
				if (S.prog[i].file == f && S.prog[i].handle == pd.handle)
					S.prog[i].file = -1;
		}
		break;
	case 2:
	case 3:
		b = PICK(S.bo, FZ_BOS, BO_LIVE, c->a);
		if (b < 0)
			return;
		f = S.bo[b].file;
		gc.handle = bi.handle = mo.handle = S.bo[b].handle;
		if (!racer_start(&r, S.file[f].fd, DRM_IOCTL_GEM_CLOSE, &gc, them))
			return;
		spin(us);
		if (c->b % 5 == 2) {
			fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_BO_INFO, &bi);
		} else if (!fz_ioctl(S.file[f].fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET,
				     &mo)) {
			p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
				 S.file[f].fd, mo.offset);
			if (!sys_ret(p == MAP_FAILED ? -1 : 0)) {
				*(volatile uint8_t *)p = 1;
				munmap(p, 4096);
			}
		}
		if (!racer_join(&r)) {
			S.st->kind_ok[FZ_RACE]++;
			forget_handle(f, gc.handle);
		}
		break;
	default:
		f = prepare_submit(c, &s, regs, syncs);
		if (f < 0 || ring_of(f))
			return;
		sqe = io_uring_get_sqe(&S.file[f].ring);
		if (!sqe)
			return;
		memset(sqe, 0, 2 * sizeof(*sqe));
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = S.file[f].fd;
		sqe->cmd_op = LUMEN_URING_CMD_SUBMIT;
		sqe->flags = IOSQE_ASYNC;
		memcpy(sqe->cmd, &s, sizeof(s));
		S.st->uring_cmds++;
		S.st->uring_async++;
		S.st->kind_ok[FZ_RACE] += io_uring_submit(&S.file[f].ring) == 1;
		spin(us);
		io_uring_queue_exit(&S.file[f].ring);
		S.st->syscalls += 2;
		S.file[f].ring_ok = false;
		break;
	}
}

static void run_call(const struct fz_call *c)
{
	switch (c->kind % FZ_KIND_COUNT) {
	case FZ_OPEN:
		S.st->kind_ok[FZ_OPEN] += open_file() >= 0;
		break;
	case FZ_CLOSE_FD: do_close_fd(c); break;
	case FZ_GET_PARAM: do_get_param(c); break;
	case FZ_DEV_QUERY: do_dev_query(c); break;
	case FZ_BO_CREATE: do_bo_create(c); break;
	case FZ_BO_MMAP: do_bo_mmap(c); break;
	case FZ_BO_INFO: do_bo_info(c); break;
	case FZ_GEM_CLOSE: do_gem_close(c); break;
	case FZ_PROG_CREATE: do_prog_create(c); break;
	case FZ_PROG_DESTROY: do_prog_destroy(c); break;
	case FZ_SUBMIT: do_submit(c); break;
	case FZ_JOB_WAIT: do_job_wait(c); break;
	case FZ_URING_SUBMIT: do_uring_submit(c); break;
	case FZ_URING_REAP: do_uring_reap(c); break;
	case FZ_URING_CLOSE: do_uring_close(c); break;
	case FZ_PRIME_EXPORT: do_prime_export(c); break;
	case FZ_PRIME_IMPORT: do_prime_import(c); break;
	case FZ_DMABUF_MMAP: do_dmabuf_mmap(c); break;
	case FZ_SYNCOBJ_CREATE: do_syncobj_create(c); break;
	case FZ_SYNCOBJ_DESTROY: do_syncobj_destroy(c); break;
	case FZ_SYNCOBJ_WAIT: do_syncobj_wait(c); break;
	case FZ_SYNCOBJ_MISC: do_syncobj_misc(c); break;
	case FZ_MMAP_RAW: do_mmap_raw(c); break;
	case FZ_FDINFO: do_fdinfo(c); break;
	case FZ_DEBUGFS: do_debugfs(c); break;
	case FZ_HOOK: do_hook(c); break;
	case FZ_RAW_IOCTL: do_raw_ioctl(c); break;
	case FZ_RACE: do_race(c); break;
	}
}

void fz_run_input(const struct fz_input *in, struct fz_stats *st,
		  struct fz_cover *cov, FILE *trace)
{
	uint32_t i, n = in->n < FZ_MAX_CALLS ? in->n : FZ_MAX_CALLS;
	uint64_t before, t0;
	int k;

	memset(&S, 0, sizeof(S));
	for (k = 0; k < FZ_FILES; k++)
		S.file[k].fd = -1;
	for (k = 0; k < FZ_BOS; k++)
		S.bo[k].file = -1;
	for (k = 0; k < FZ_PROGS; k++)
		S.prog[k].file = -1;
	for (k = 0; k < FZ_SYNCS; k++)
		S.sync[k].file = -1;
	for (k = 0; k < FZ_DMABUFS; k++)
		S.dmabuf[k] = -1;
	S.st = st;
	S.trace = trace;
	st->new_pcs = 0;
	if (cov->kcov)
		fz_kcov_reset(cov->kcov);
	for (i = 0; i < n; i++) {
		const struct fz_call *c = &in->call[i];
		uint32_t kind = c->kind % FZ_KIND_COUNT;
		uint64_t ok_before = st->kind_ok[kind];

		before = st->syscalls;
		t0 = mono_ns();
		run_call(c);
		st->kind_ns[kind] += mono_ns() - t0;
		st->records++;
		st->kind[kind]++;
		if (cov->kcov)
			st->new_pcs += fz_kcov_collect(cov->kcov, cov->text,
						       cov->pcs, cov->edges);
		if (trace)
			fprintf(trace, "  %2u %-16s odd=%-2u a=%016llx b=%016llx c=%016llx: %llu syscalls, %s\n",
				i, fz_kind_name(kind), c->odd,
				(unsigned long long)c->a,
				(unsigned long long)c->b,
				(unsigned long long)c->c,
				(unsigned long long)(st->syscalls - before),
				st->kind_ok[kind] > ok_before ? "ok" : "refused/skipped");
	}
	/*
	 * Drain the rings of odd-length inputs, so completions are covered;
	 * then close everything while KCOV still traces this task: the
	 * release paths, with jobs and commands possibly in flight.
	 */
	for (k = 0; k < FZ_FILES; k++)
		if (S.file[k].fd >= 0 && S.file[k].ring_ok && (in->n & 1))
			reap(k, true);
	for (k = 0; k < FZ_DMABUFS; k++)
		if (S.dmabuf[k] >= 0)
			close(S.dmabuf[k]);
	for (k = 0; k < FZ_FILES; k++) {
		if (S.file[k].fd < 0)
			continue;
		if (S.file[k].ring_ok && (in->n & 2))
			io_uring_queue_exit(&S.file[k].ring);
		close(S.file[k].fd);
		if (S.file[k].ring_ok && !(in->n & 2))
			io_uring_queue_exit(&S.file[k].ring);
	}
	for (i = 0; i < S.norphans; i++)
		io_uring_queue_exit(&S.orphans[i]);
	for (i = 0; i < S.nmaps; i++)
		munmap(S.maps[i].p, S.maps[i].len);
	if (cov->kcov)
		st->new_pcs += fz_kcov_collect(cov->kcov, cov->text, cov->pcs,
					       cov->edges);
	if (S.delay_set)
		hook_write("delay_us", 0);
}
