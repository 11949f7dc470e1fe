// SPDX-License-Identifier: MIT
#include "format_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lc_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void lc_put(struct lc_buf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		void *p;

		while (cap < b->n + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

/* the files are little-endian, as is every host Lumen builds on */
void lc_put_u32(struct lc_buf *b, uint32_t v)
{
	lc_put(b, &v, 4);
}

void lc_put_u64(struct lc_buf *b, uint64_t v)
{
	lc_put(b, &v, 8);
}

int lc_map_file(const char *path, const char *first_field, void **map,
		uint64_t *size, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return lc_fail(err, errlen, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return lc_fail(err, errlen, "not a regular file");
	}
	if (st.st_size == 0) {
		close(fd);
		return lc_fail(err, errlen, "offset 0: %s: empty file", first_field);
	}
	*map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*map == MAP_FAILED)
		return lc_fail(err, errlen, "cannot map: %s", strerror(errno));
	*size = (uint64_t)st.st_size;
	return 0;
}
