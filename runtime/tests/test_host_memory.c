// SPDX-License-Identifier: MIT
/*
 * The CPU backend's host memory (runtime/host_memory.c): huge-page
 * buffers are 2 MiB-aligned (a huge page needs it), every buffer is zeroed
 * and wholly unmapped when freed, and the weights are copied into huge
 * pages exactly when the kernel has transparent huge pages, the file's
 * bytes unchanged.
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

TEST(host_alloc_aligned_zeroed_and_freed_whole)
{
	/* below, at and above a huge page, odd sizes included */
	static const uint64_t sizes[] = {
		1, 4095, 4096, 100000, LUMEN_HUGE_PAGE - 1, LUMEN_HUGE_PAGE,
		LUMEN_HUGE_PAGE + 1, 3 * LUMEN_HUGE_PAGE + 12345,
	};

	for (int huge = 0; huge < 2; huge++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint64_t size = sizes[i];
			uint8_t *p = lumen_host_alloc(size, huge);
			uint64_t align = huge ? LUMEN_HUGE_PAGE : 4096;
			size_t span = (size + 4095) / 4096 * 4096;

			REQUIRE(p);
			CHECK_EQ((uintptr_t)p % align, 0);
			CHECK(mapped(p, span));
			CHECK(all_zero(p, size));
			memset(p, 0xa5, size);	/* every byte writable */
			CHECK_EQ(p[size - 1], 0xa5);
			lumen_host_free(p, size, huge);
			/* the whole mapping, to the end of its last (huge) page */
			CHECK(unmapped(p, (size + align - 1) / align * align));
		}
	}
	lumen_host_free(NULL, 12345, true);	/* like free(NULL) */
}

/* a private read-only mapping of a file of @len bytes, as the model's weights */
static uint8_t *file_mapping(size_t len, uint8_t **want)
{
	char path[] = "/tmp/lumen-host-memory-XXXXXX";
	int fd = mkstemp(path);
	uint8_t *map;

	*want = malloc(len);
	if (fd < 0 || !*want)
		return NULL;
	for (size_t i = 0; i < len; i++)
		(*want)[i] = (uint8_t)(i * 7 + i / 4099 + 3);
	if (write(fd, *want, len) != (ssize_t)len) {
		close(fd);
		return NULL;
	}
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	unlink(path);
	return map == MAP_FAILED ? NULL : map;
}

TEST(cpu_weights_copied_into_huge_pages_exactly_when_the_kernel_has_them)
{
	/* more than one copy step, not a whole number of pages */
	size_t len = (17u << 20) + 100;
	uint8_t *want, *map = file_mapping(len, &want);
	struct lumen_buf buf;

	REQUIRE(map);
	REQUIRE(!lumen_cpu_backend.buf_import(NULL, map, len, &buf));
	CHECK_EQ(buf.size, len);
	CHECK_EQ(buf.copied, lumen_host_huge_pages());
	CHECK_EQ(buf.huge, lumen_host_huge_pages());
	if (buf.copied) {
		CHECK(buf.host != map);
		CHECK_EQ((uintptr_t)buf.host % LUMEN_HUGE_PAGE, 0);
	} else {
		CHECK(buf.host == map);
	}
	CHECK(!memcmp(buf.host, want, len));
	/* the file's pages released as they were copied read the same */
	CHECK(!memcmp(map, want, len));
	lumen_cpu_backend.buf_free(NULL, &buf);
	CHECK(!buf.host);
	munmap(map, len);
	free(want);
}

TEST(cpu_small_weights_in_place_and_buffers_zeroed)
{
	static uint8_t small[4096];
	struct lumen_buf buf;

	/* under a huge page: lent in place, never freed by the backend */
	REQUIRE(!lumen_cpu_backend.buf_import(NULL, small, sizeof(small), &buf));
	CHECK(buf.host == small);
	CHECK(!buf.copied);
	CHECK_EQ(buf.size, sizeof(small));
	lumen_cpu_backend.buf_free(NULL, &buf);

	REQUIRE(!lumen_cpu_backend.buf_alloc(NULL, 5 * LUMEN_HUGE_PAGE / 2 + 1, &buf));
	CHECK_EQ((uintptr_t)buf.host % 4096, 0);
	CHECK_EQ(buf.size, 5 * LUMEN_HUGE_PAGE / 2 + 1);
	CHECK(all_zero(buf.host, buf.size));
	lumen_cpu_backend.buf_free(NULL, &buf);
	CHECK(!buf.host);
}

TEST(host_release_of_a_file_mapping_keeps_its_bytes)
{
	size_t len = 5 * 4096 + 100;
	uint8_t *want, *map = file_mapping(len, &want);

	REQUIRE(map);
	CHECK(!memcmp(map, want, len));
	/* unaligned both ends: whole pages inside only */
	lumen_host_release(map + 100, len - 100);
	lumen_host_release(map, len);
	CHECK(!memcmp(map, want, len));
	munmap(map, len);
	free(want);
}
