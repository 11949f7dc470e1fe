// SPDX-License-Identifier: MIT
#include "tutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"

const char *shared_path(const char *rel)
{
	static char buf[4][1024];
	static int next;
	const char *base = getenv("SHARED");
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", base && *base ? base : "../shared",
		 rel);
	return p;
}

const char *scratch_path(const char *name)
{
	static char buf[4][1024];
	static int next, serial;
	const char *base = getenv("LUMENC_TEST_TMP");
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/lumenc-%d-%d-%s",
		 base && *base ? base : "/tmp", (int)getpid(), serial++, name);
	return p;
}

struct lc_options default_options(void)
{
	struct lc_options o = {
		.kv_dtype = LUMEN_DTYPE_F16,
		.quant = LC_KEEP_DTYPE,
	};

	return o;
}

int compile_quiet(const char *in, const char *tokenizer, const char *out,
		  const struct lc_options *opt, char *err, size_t errlen)
{
	return lc_compile_file(in, tokenizer, out, opt, NULL, 0, err, errlen);
}

void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	long n;
	void *p;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	p = malloc(n ? n : 1);
	if (p && fread(p, 1, n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	*size = n;
	return p;
}

int write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(data, 1, size, f) == size;
	return fclose(f) == 0 && ok ? 0 : -1;
}
