// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * KCOV (Documentation/dev-tools/kcov.rst) in KCOV_TRACE_PC mode: the
 * kernel appends the PC of every basic block the task runs; only the
 * lumen module's PCs are kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcov.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_kcov.h"

#define KCOV_WORDS	(1U << 18)

static int read_hex(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "r");
	unsigned long long x;
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%llx", &x) == 1;
	fclose(f);
	if (!ok)
		return -EINVAL;
	*v = x;
	return 0;
}

static int add_section(struct fz_text *t, const char *module,
		       const char *name, uint64_t size)
{
	char path[256];
	uint64_t start = 0;
	int ret;

	if (t->count == FZ_TEXT_SECTIONS || !size)
		return 0;
	snprintf(path, sizeof(path), "/sys/module/%s/sections/%s", module, name);
	ret = read_hex(path, &start);
	if (ret)
		return ret == -ENOENT ? 0 : ret;	/* .init.text: freed */
	snprintf(t->name[t->count], sizeof(t->name[0]), "%s", name);
	t->start[t->count] = start;
	t->size[t->count] = size;
	if (!t->count || start < t->lo)
		t->lo = start;
	if (start + size > t->hi)
		t->hi = start + size;
	t->count++;
	return 0;
}

int fz_text_load(struct fz_text *t, const char *module, const char *sizes_file)
{
	char name[64], path[256];
	unsigned long long size;
	uint64_t core;
	FILE *f;
	int ret;

	memset(t, 0, sizeof(*t));
	if (sizes_file) {
		f = fopen(sizes_file, "r");
		if (!f)
			return -errno;
		while (fscanf(f, "%63s %llx", name, &size) == 2) {
			ret = add_section(t, module, name, size);
			if (ret) {
				fclose(f);
				return ret;
			}
		}
		fclose(f);
	} else {
		snprintf(path, sizeof(path), "/sys/module/%s/coresize", module);
		f = fopen(path, "r");
		if (!f)
			return -errno;
		ret = fscanf(f, "%llu", &size) == 1 ? 0 : -EINVAL;
		fclose(f);
		core = size;
		if (!ret)
			ret = add_section(t, module, ".text", core);
		if (ret)
			return ret;
	}
	return t->count ? 0 : -ENOENT;
}

int fz_text_find(const struct fz_text *t, uint64_t pc)
{
	unsigned int i;

	if (pc < t->lo || pc >= t->hi)
		return -1;
	for (i = 0; i < t->count; i++)
		if (pc - t->start[i] < t->size[i])
			return i;
	return -1;
}

bool fz_pcset_add(struct fz_pcset *s, uint64_t pc)
{
	uint64_t h = pc * 0x9e3779b97f4a7c15ULL;
	uint32_t i = (uint32_t)(h >> 48) & (FZ_PCSET_CAP - 1), n;

	for (n = 0; n < FZ_PCSET_CAP; n++, i = (i + 1) & (FZ_PCSET_CAP - 1)) {
		if (s->slot[i] == pc)
			return false;
		if (!s->slot[i]) {
			s->slot[i] = pc;
			s->count++;
			return true;
		}
	}
	return false;	/* full: a module has far fewer blocks */
}

int fz_kcov_open(struct fz_kcov *k)
{
	void *area;

	k->fd = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
	if (k->fd < 0)
		return -errno;
	if (ioctl(k->fd, KCOV_INIT_TRACE, KCOV_WORDS))
		goto fail;
	area = mmap(NULL, KCOV_WORDS * sizeof(uint64_t),
		    PROT_READ | PROT_WRITE, MAP_SHARED, k->fd, 0);
	if (area == MAP_FAILED)
		goto fail;
	k->area = area;
	k->words = KCOV_WORDS;
	return 0;
fail:
	close(k->fd);
	k->fd = -1;
	return -errno;
}

int fz_kcov_enable(struct fz_kcov *k)
{
	if (ioctl(k->fd, KCOV_ENABLE, KCOV_TRACE_PC))
		return -errno;
	fz_kcov_reset(k);
	return 0;
}

unsigned int fz_kcov_collect(struct fz_kcov *k, const struct fz_text *t,
			     struct fz_pcset *pcs, struct fz_pcset *edges)
{
	uint64_t n, i, pc, prev = 0;
	unsigned int fresh = 0;

	if (!k->area)
		return 0;
	n = __atomic_load_n(&k->area[0], __ATOMIC_RELAXED);
	if (n > k->words - 1)
		n = k->words - 1;
	for (i = 0; i < n; i++) {
		pc = k->area[i + 1];
		if (fz_text_find(t, pc) < 0)
			continue;
		fresh += fz_pcset_add(pcs, pc);
		/* Never 0: 0 marks a free slot. */
		fresh += fz_pcset_add(edges, ((prev * 0x9e3779b97f4a7c15ULL) ^ pc) | 1);
		prev = pc;
	}
	fz_kcov_reset(k);
	return fresh;
}
