// SPDX-License-Identifier: MIT
/*
 * The NPU backend: a Lumen NPU driven by lumen.ko through
 * /dev/accel/accel*. Buffers are GEM objects (DRM_LUMEN_BO_CREATE) mapped
 * into this process with mmap, so the generic code writes args and reads
 * logits in place; the weights are copied into one buffer, once, at load
 * (there is no buf_import: the device only reaches GEM memory). Programs
 * are handed to DRM_LUMEN_PROGRAM_CREATE, which validates its own copy.
 * Submission is in backend_npu_submit.c.
 *
 * Counters: the busy time is the file's drm-engine-npu in fdinfo (the DRM
 * usage-stats convention); the energy and the bytes read are the device's
 * running totals, from DEV_QUERY's DRM_LUMEN_QUERY_COUNTERS.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include "backend_npu.h"

#define NPU_HINT "is lumen.ko loaded? (modprobe lumen)"

static int xioctl(int fd, unsigned long req, void *arg)
{
	return drmIoctl(fd, req, arg) ? -errno : 0;
}

/* the DRM driver behind @fd: 1 for lumen, 0 for another one */
static int fd_is_lumen(int fd)
{
	drmVersionPtr v = drmGetVersion(fd);
	int yes = v && v->name && !strcmp(v->name, "lumen");

	drmFreeVersion(v);
	return yes;
}

/* @path opened when its driver is lumen; else -1 with errno set */
static int open_lumen(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (!fd_is_lumen(fd)) {
		close(fd);
		errno = ENODEV;
		return -1;
	}
	return fd;
}

/* the first Lumen node among /dev/accel/accel*, in name order, into *@out */
static int find_lumen(char *node, size_t len, int *out)
{
	struct dirent **names;
	int n = scandir("/dev/accel", &names, NULL, alphasort);
	int fd = -1, denied = 0;

	if (n < 0)
		return lumen_fail(LUMEN_E_NODEV,
				  "no Lumen NPU found (/dev/accel/accel*): " NPU_HINT);
	for (int i = 0; i < n; i++) {
		if (fd < 0 && !strncmp(names[i]->d_name, "accel", 5)) {
			snprintf(node, len, "/dev/accel/%s", names[i]->d_name);
			fd = open_lumen(node);
			if (fd < 0 && errno == EACCES)
				denied = 1;
		}
		free(names[i]);
	}
	free(names);
	*out = fd;
	if (fd >= 0)
		return 0;
	if (denied)
		return lumen_fail(LUMEN_E_NODEV,
				  "no Lumen NPU could be opened: permission denied on /dev/accel/accel* (join the device's group)");
	return lumen_fail(LUMEN_E_NODEV,
			  "no Lumen NPU found (/dev/accel/accel*): " NPU_HINT);
}

static int query_info(struct npu_device *n)
{
	struct drm_lumen_dev_query q = {
		.type = DRM_LUMEN_QUERY_INFO,
		.size = sizeof(n->info),
		.pointer = (uintptr_t)&n->info,
	};
	int ret = xioctl(n->fd, DRM_IOCTL_LUMEN_DEV_QUERY, &q);

	if (ret)
		return lumen_fail(LUMEN_E_DEVICE, "%s: DEV_QUERY: %s", n->node,
				  strerror(-ret));
	if (n->info.isa_version != LUMEN_ISA_VERSION)
		return lumen_fail(LUMEN_E_UNSUPPORTED,
				  "%s: the NPU runs ISA version %u, this liblumen writes version %u",
				  n->node, n->info.isa_version, LUMEN_ISA_VERSION);
	return 0;
}

static int npu_open(struct lumen_device *dev,
		    const struct lumen_device_options *opt)
{
	struct npu_device *n = calloc(1, sizeof(*n));
	int ret;

	if (!n)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	if (opt->path) {
		snprintf(n->node, sizeof(n->node), "%s", opt->path);
		n->fd = open_lumen(opt->path);
		if (n->fd < 0)
			ret = lumen_fail(LUMEN_E_NODEV, "%s: %s", opt->path,
					 errno == ENODEV ? "not a Lumen NPU" :
					 strerror(errno));
		else
			ret = 0;
	} else {
		ret = find_lumen(n->node, sizeof(n->node), &n->fd);
	}
	if (ret) {
		free(n);
		return ret;
	}
	ret = query_info(n);
	if (!ret)
		ret = npu_submit_init(n);
	if (ret) {
		close(n->fd);
		free(n);
		return ret;
	}
	dev->priv = n;
	return 0;
}

static void npu_close(struct lumen_device *dev)
{
	struct npu_device *n = npu(dev);

	npu_submit_fini(n);
	close(n->fd);
	free(n);
}

static void npu_get_info(struct lumen_device *dev,
			 struct lumen_device_info *info)
{
	struct npu_device *n = npu(dev);

	snprintf(info->name, sizeof(info->name), "%.40s (%s)", n->node,
		 n->use_uring ? "io_uring" : "ioctl");
	info->isa_version = n->info.isa_version;
	info->cores = n->info.core_count;
	info->max_regions = n->info.max_regions;
	info->dtypes = n->info.dtypes;
	/* 0 from a kernel that predates it: it then runs none of them */
	info->dtypes_ext = n->info.dtypes_ext;
	info->hw_version = n->info.hw_version;
	info->has_counters = true;
}

static int npu_buf_alloc(struct lumen_device *dev, uint64_t size,
			 struct lumen_buf *buf)
{
	struct npu_device *n = npu(dev);
	struct drm_lumen_bo_create c = { .size = size ? size : 1 };
	struct drm_lumen_bo_mmap_offset m = { 0 };
	struct drm_gem_close gc = { 0 };
	void *map;
	int ret;

	memset(buf, 0, sizeof(*buf));
	ret = xioctl(n->fd, DRM_IOCTL_LUMEN_BO_CREATE, &c);
	if (ret == -EDQUOT)
		return lumen_fail(LUMEN_E_NOMEM,
				  "BO_CREATE of %.1f MiB: over what lumen.ko lets one open "
				  "file pin (module parameter file_mem_mb, default half of RAM): "
				  "use a smaller model or context, or load lumen.ko with a larger "
				  "file_mem_mb", size / 1048576.0);
	if (ret)
		return lumen_fail(ret == -ENOMEM ? LUMEN_E_NOMEM : LUMEN_E_DEVICE,
				  "BO_CREATE of %" PRIu64 " bytes: %s", size,
				  strerror(-ret));
	m.handle = c.handle;
	ret = xioctl(n->fd, DRM_IOCTL_LUMEN_BO_MMAP_OFFSET, &m);
	if (!ret) {
		map = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   n->fd, (off_t)m.offset);
		ret = map == MAP_FAILED ? -errno : 0;
	}
	if (ret) {
		gc.handle = c.handle;
		drmIoctl(n->fd, DRM_IOCTL_GEM_CLOSE, &gc);
		return lumen_fail(LUMEN_E_DEVICE,
				  "cannot map a buffer of %" PRIu64 " bytes: %s",
				  (uint64_t)c.size, strerror(-ret));
	}
	/* shmem pages: already zero */
	buf->host = map;
	buf->size = c.size;
	buf->handle = c.handle;
	buf->npu_addr = c.npu_addr;
	return 0;
}

static void npu_buf_free(struct lumen_device *dev, struct lumen_buf *buf)
{
	struct drm_gem_close gc = { .handle = buf->handle };

	munmap(buf->host, buf->size);
	drmIoctl(npu(dev)->fd, DRM_IOCTL_GEM_CLOSE, &gc);
	memset(buf, 0, sizeof(*buf));
}

static int npu_program_create(struct lumen_device *dev, const void *code,
			      size_t size, const struct lumen_validation *v,
			      struct lumen_prog **out)
{
	struct npu_device *n = npu(dev);
	struct drm_lumen_program_create pc = {
		.program = (uintptr_t)code,
		.size = (uint32_t)size,
	};
	struct lumen_prog *p;
	int ret;

	if (size > UINT32_MAX)
		return lumen_fail(LUMEN_E_UNSUPPORTED,
				  "a program of %zu bytes is too big for the NPU",
				  size);
	ret = xioctl(n->fd, DRM_IOCTL_LUMEN_PROGRAM_CREATE, &pc);
	if (ret == -EINVAL && pc.error)
		return lumen_fail(LUMEN_E_FORMAT,
				  "the driver rejected the program: validator error %u at op %d, operand %d",
				  pc.error, (int)pc.error_op,
				  (int)pc.error_operand);
	if (ret)
		return lumen_fail(LUMEN_E_DEVICE, "PROGRAM_CREATE: %s",
				  strerror(-ret));
	p = malloc(sizeof(*p));
	if (!p) {
		struct drm_lumen_program_destroy pd = { .handle = pc.handle };

		drmIoctl(n->fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &pd);
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	}
	p->handle = pc.handle;
	p->regions_used = pc.regions_used;
	*out = p;
	return 0;
}

static void npu_program_destroy(struct lumen_device *dev, struct lumen_prog *p)
{
	struct drm_lumen_program_destroy pd = { .handle = p->handle };

	drmIoctl(npu(dev)->fd, DRM_IOCTL_LUMEN_PROGRAM_DESTROY, &pd);
	free(p);
}

/* the value of "@key:\t<n>" in a text file, or 0 */
static uint64_t read_counter(const char *path, const char *key)
{
	size_t klen = strlen(key);
	uint64_t v = 0;
	char line[256];
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtoull(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static void npu_get_counters(struct lumen_device *dev, struct lumen_counters *c)
{
	struct npu_device *n = npu(dev);
	struct drm_lumen_counters dc = { 0 };
	struct drm_lumen_dev_query q = {
		.type = DRM_LUMEN_QUERY_COUNTERS,
		.size = sizeof(dc),
		.pointer = (uintptr_t)&dc,
	};
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", n->fd);
	c->busy_ns = read_counter(path, "drm-engine-npu");
	/* a lumen.ko without the query leaves them 0 */
	if (!xioctl(n->fd, DRM_IOCTL_LUMEN_DEV_QUERY, &q)) {
		c->energy_uj = dc.energy_nj / 1000;
		c->bytes_read = dc.bytes_read;
	}
}

const struct lumen_backend_ops lumen_npu_backend = {
	.name = "npu",
	.open = npu_open,
	.close = npu_close,
	.get_info = npu_get_info,
	.buf_alloc = npu_buf_alloc,
	.buf_free = npu_buf_free,
	.program_create = npu_program_create,
	.program_destroy = npu_program_destroy,
	.submit = npu_submit,
	.wait = npu_wait,
	.get_counters = npu_get_counters,
};
