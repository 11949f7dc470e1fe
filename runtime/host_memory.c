// SPDX-License-Identifier: MIT
/*
 * Memory of the CPU backend's buffers. Decode streams the weights once per
 * token: with 4 KiB pages that is a TLB miss every 4 KiB of each stream,
 * and two threads streaming at once go no faster than one (measured on a
 * 2-core EPYC: 512 MiB read 26 -> 31 GB/s on one thread and 28 -> 34 on
 * two with 2 MiB pages). So the weights are copied into memory mapped
 * 2 MiB-aligned and advised MADV_HUGEPAGE, which transparent huge pages
 * honour in their default "madvise" mode: a file mapping cannot be given
 * huge pages on request (the page cache keeps whatever folios it read the
 * file in, often 4 KiB). The other buffers (KV cache, activations) keep
 * 4 KiB pages: a huge page is zeroed and resident whole at its first
 * write, so a KV cache would be resident at its full context from the
 * first token (60 huge pages of 2 MiB zeroed at SmolLM2-135M's first).
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "lumen_internal.h"

static uint64_t mapping_size(uint64_t size, bool huge)
{
	uint64_t align = huge ? LUMEN_HUGE_PAGE : 4096;

	if (!size)
		size = 1;
	return (size + align - 1) / align * align;
}

void *lumen_host_alloc(uint64_t size, bool huge)
{
	uint64_t len = mapping_size(size, huge);
	uint64_t extra = huge ? LUMEN_HUGE_PAGE : 0;
	uint8_t *map, *p;

	if (len < size || len + extra < len)
		return NULL;
	/* anonymous memory is zeroed, as buf_alloc promises, and only touched pages are resident */
	map = mmap(NULL, len + extra, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	if (!extra)
		return map;
	/* keep the 2 MiB-aligned part: a huge page needs an aligned virtual address */
	p = (uint8_t *)(((uintptr_t)map + LUMEN_HUGE_PAGE - 1) & ~(uintptr_t)(LUMEN_HUGE_PAGE - 1));
	if (p > map)
		munmap(map, p - map);
	if (p + len < map + len + extra)
		munmap(p + len, map + len + extra - (p + len));
	/* advice only: without THP (or with it off) the buffer works as it is */
	madvise(p, len, MADV_HUGEPAGE);
	return p;
}

void lumen_host_free(void *p, uint64_t size, bool huge)
{
	if (p)
		munmap(p, mapping_size(size, huge));
}

int lumen_host_huge_pages(void)
{
	char mode[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (!f)
		return 0;
	if (!fgets(mode, sizeof(mode), f))
		mode[0] = 0;
	fclose(f);
	/* "always [madvise] never": the bracketed word is the mode */
	return strstr(mode, "[always]") || strstr(mode, "[madvise]");
}

void lumen_host_release(const void *p, uint64_t size)
{
	uintptr_t start = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
	uintptr_t end = ((uintptr_t)p + size) & ~(uintptr_t)4095;

	if (end > start)
		madvise((void *)start, end - start, MADV_DONTNEED);
}
