/* SPDX-License-Identifier: MIT */
/* Small helpers the compiler's readers and writers share. */
#ifndef LUMEN_FORMAT_UTIL_H
#define LUMEN_FORMAT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Map the regular file @path read-only: 0 with *@map and *@size set (unmap
 * with munmap), or -1 with a message in @err; an empty file is refused
 * with "offset 0: @first_field: empty file".
 */
int lc_map_file(const char *path, const char *first_field, void **map,
		uint64_t *size, char *err, size_t errlen);

/* print into @err (the reader-facing message) and return -1 */
int lc_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline uint64_t lc_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* a growable byte buffer; @oom is set once and later puts do nothing */
struct lc_buf {
	uint8_t *p;
	size_t n, cap;
	int oom;
};

void lc_put(struct lc_buf *b, const void *data, size_t n);
void lc_put_u32(struct lc_buf *b, uint32_t v);
void lc_put_u64(struct lc_buf *b, uint64_t v);

#endif /* LUMEN_FORMAT_UTIL_H */
