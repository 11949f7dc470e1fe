// SPDX-License-Identifier: MIT
/*
 * The CPU backend's host memory (runtime/host_memory.c): buffers of a huge
 * page or more are 2 MiB-aligned (a huge page needs it), every buffer is
 * zeroed and wholly unmapped when freed, and the weights are copied into
 * such memory exactly when the kernel has transparent huge pages.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lumen_internal.h"
#include "lumen_test.h"


/* 1 when every page of [p, p + len) is mapped in this process */
static int mapped(const void *p, size_t len)
{
	for (size_t off = 0; off < len; off += 4096)
		if (msync((char *)p + off, 4096, MS_ASYNC) && errno == ENOMEM)
			return 0;
	return 1;
}

/* 1 when no page of [p, p + len) is mapped */
static int unmapped(const void *p, size_t len)
{
	for (size_t off = 0; off < len; off += 4096)
		if (!msync((char *)p + off, 4096, MS_ASYNC))
			return 0;
	return 1;
}

static int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

TEST(host_alloc_huge_buffers_aligned_zeroed_and_freed_whole)
{
	/* below, at and above a huge page, odd sizes included */
	static const uint64_t sizes[] = {
		1, 4095, 4096, 100000, LUMEN_HUGE_PAGE - 1, LUMEN_HUGE_PAGE,
		LUMEN_HUGE_PAGE + 1, 3 * LUMEN_HUGE_PAGE + 12345,
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t size = sizes[i];
		uint8_t *p = lumen_host_alloc(size);
		uint64_t align = size >= LUMEN_HUGE_PAGE ? LUMEN_HUGE_PAGE : 4096;
		size_t span = (size + 4095) / 4096 * 4096;

		REQUIRE(p);
		CHECK_EQ((uintptr_t)p % align, 0);
		CHECK(mapped(p, span));
		CHECK(all_zero(p, size));
		memset(p, 0xa5, size);	/* every byte writable */
		CHECK_EQ(p[size - 1], 0xa5);
		lumen_host_free(p, size);
		/* the whole mapping, to the end of its last huge page */
		CHECK(unmapped(p, (size + align - 1) / align * align));
	}
	lumen_host_free(NULL, 12345);	/* like free(NULL) */
}

TEST(cpu_buffers_zeroed_and_weights_copied_exactly_with_huge_pages)
{
	struct lumen_buf buf;
	static uint8_t small[4096];
	uint8_t *big = malloc(LUMEN_HUGE_PAGE);
	int ret;

	REQUIRE(big);
	REQUIRE(!lumen_cpu_backend.buf_alloc(NULL, 5 * LUMEN_HUGE_PAGE / 2, &buf));
	CHECK_EQ((uintptr_t)buf.host % LUMEN_HUGE_PAGE, 0);
	CHECK_EQ(buf.size, 5 * LUMEN_HUGE_PAGE / 2);
	CHECK(all_zero(buf.host, buf.size));
	lumen_cpu_backend.buf_free(NULL, &buf);
	CHECK(!buf.host);

	/* a huge page or more: copied into huge pages if the kernel has them */
	ret = lumen_cpu_backend.buf_import(NULL, big, LUMEN_HUGE_PAGE, &buf);
	CHECK_EQ(ret, lumen_host_huge_pages() ? LUMEN_IMPORT_COPY : 0);
	if (!ret) {
		CHECK(buf.host == big);
		lumen_cpu_backend.buf_free(NULL, &buf);
	}
	/* less: in place, never freed by the backend */
	REQUIRE(!lumen_cpu_backend.buf_import(NULL, small, sizeof(small), &buf));
	CHECK(buf.host == small);
	CHECK_EQ(buf.size, sizeof(small));
	lumen_cpu_backend.buf_free(NULL, &buf);
	free(big);
}

TEST(host_release_of_a_file_mapping_keeps_its_bytes)
{
	char path[] = "/tmp/lumen-host-release-XXXXXX";
	int fd = mkstemp(path);
	size_t len = 5 * 4096 + 100;
	uint8_t *want = malloc(len), *map;

	REQUIRE(fd >= 0 && want);
	for (size_t i = 0; i < len; i++)
		want[i] = (uint8_t)(i * 7 + 3);
	REQUIRE(write(fd, want, len) == (ssize_t)len);
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	unlink(path);
	REQUIRE(map != MAP_FAILED);
	CHECK(!memcmp(map, want, len));
	/* unaligned both ends: whole pages inside only */
	lumen_host_release(map + 100, len - 100);
	lumen_host_release(map, len);
	CHECK(!memcmp(map, want, len));
	munmap(map, len);
	free(want);
}
