// SPDX-License-Identifier: MIT
/*
 * lumen_dequantize_row against llama.cpp's own dequantization: for every
 * ../shared/golden-arch/dequant/X.dequant.json, the named tensor's first
 * rows are read from X (the GGUF) and every value must equal the golden's
 * bit for bit (sign of zero included). $SHARED overrides ../shared.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../compiler/tests/json.h"
#include "gguf.h"
#include "lumen_dtype.h"
#include "lumen_ops.h"
#include "lumen_test.h"

static const char *golden_dir(char *buf, size_t len, const char *rel)
{
	const char *base = getenv("SHARED");

	snprintf(buf, len, "%s/golden-arch/%s", base && *base ? base : "../shared", rel);
	return buf;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int str_is(const struct json *v, const char *s)
{
	return v && v->type == JSON_STR && v->len == strlen(s) && !memcmp(v->str, s, v->len);
}

static void copy_str(const struct json *v, char *out, size_t len)
{
	size_t n = v && v->type == JSON_STR ? v->len : 0;

	if (n >= len)
		n = len - 1;
	memcpy(out, n ? v->str : "", n);
	out[n] = 0;
}

/* checks one golden file: adds to *compared and *bad, marks the types seen */
static void check_file(const char *json_name, long *compared, long *bad,
		       uint32_t *seen)
{
	char path[1024], rel[512], gguf_name[256], tname[128], err[256];
	size_t len, at;
	char *text;

	snprintf(rel, sizeof(rel), "dequant/%s", json_name);
	text = slurp(golden_dir(path, sizeof(path), rel), &len);
	struct gguf_file g;

	REQUIRE_MSG(text, "cannot read %s", path);
	struct json *root = json_parse(text, len, &at);

	REQUIRE_MSG(root, "%s: JSON error at %zu", json_name, at);
	copy_str(json_get(root, "file"), gguf_name, sizeof(gguf_name));
	REQUIRE_MSG(gguf_open(&g, golden_dir(path, sizeof(path), gguf_name), err, sizeof(err)) == 0,
		    "%s: %s", gguf_name, err);
	const struct json *ts = json_get(root, "tensors");

	REQUIRE(ts && ts->type == JSON_ARR && ts->n > 0);
	for (size_t i = 0; i < ts->n; i++) {
		const struct json *t = &ts->items[i], *vals = json_get(t, "values");
		const struct json *cols = json_get(t, "cols");
		long file_bad = 0;

		copy_str(json_get(t, "tensor"), tname, sizeof(tname));
		const struct gguf_tensor *gt = gguf_find_tensor(&g, tname);

		REQUIRE_MSG(gt, "%s: no tensor %s", gguf_name, tname);
		CHECK_MSG(str_is(json_get(t, "type"), lumen_isa_dtype_name(gt->type)),
			  "%s %s: type %s unknown to lumen", gguf_name, tname,
			  gguf_dtype_name(gt->type));
		REQUIRE(cols && vals && vals->type == JSON_ARR);
		uint64_t n = gt->dims[0];
		uint32_t block = gguf_dtype_block(gt->type);

		REQUIRE((uint64_t)cols->num == n && block && n % block == 0);
		uint64_t row_bytes = n / block * gguf_dtype_size(gt->type);
		float *row = malloc(sizeof(float) * n);

		if (gt->type < 32)
			*seen |= 1u << gt->type;
		for (size_t r = 0; r < vals->n; r++) {
			const struct json *v = &vals->items[r];

			REQUIRE(v->type == JSON_ARR && v->n == n && (r + 1) * row_bytes <= gt->size);
			lumen_dequantize_row(gt->type, gt->data + r * row_bytes, row, n);
			for (uint64_t j = 0; j < n; j++) {
				float want = (float)v->items[j].num;

				if (memcmp(&want, &row[j], 4) != 0 ||
				    (double)want != v->items[j].num) {
					if (file_bad < 3)
						printf("# %s %s [%zu][%llu]: got %.9g want %.9g\n",
						       gguf_name, tname, r, (unsigned long long)j,
						       row[j], v->items[j].num);
					file_bad++;
				}
				(*compared)++;
			}
		}
		printf("# %s %s (%s): %zu rows x %llu, %ld differ\n", gguf_name, tname,
		       gguf_dtype_name(gt->type), vals->n, (unsigned long long)n, file_bad);
		*bad += file_bad;
		free(row);
	}
	gguf_close(&g);
	json_free(root);
	free(text);
}

TEST(dequant_golden_arch_bit_exact)
{
	char path[1024];
	DIR *dir = opendir(golden_dir(path, sizeof(path), "dequant"));
	struct dirent *e;
	long bad = 0, compared = 0;
	int files = 0;
	uint32_t seen = 0;

	REQUIRE_MSG(dir, "no %s", path);
	while ((e = readdir(dir))) {
		size_t l = strlen(e->d_name);

		if (l < 13 || strcmp(e->d_name + l - 13, ".dequant.json"))
			continue;
		check_file(e->d_name, &compared, &bad, &seen);
		files++;
	}
	closedir(dir);
	printf("# %d files, %ld values, %ld differ\n", files, compared, bad);
	CHECK(files >= 32);
	CHECK_EQ(bad, 0);
	/* every quantized type the goldens hold was met */
	for (uint32_t t = 0; t < 32; t++)
		if ((1u << LUMEN_DTYPE_Q4_0 | 1u << LUMEN_DTYPE_Q4_1 | 1u << LUMEN_DTYPE_Q5_0 |
		     1u << LUMEN_DTYPE_Q8_0 | 1u << LUMEN_DTYPE_Q4_K | 1u << LUMEN_DTYPE_Q5_K |
		     1u << LUMEN_DTYPE_Q6_K) & 1u << t)
			CHECK_MSG(seen & 1u << t, "no golden of type %u", t);
}
