// SPDX-License-Identifier: MIT
/*
 * RoPE scaling as llama.cpp reads it: llama3's rope_freqs.weight and the
 * linear factor become the ROPE op's per-pair factors; scaling types the
 * NPU does not implement are refused by name, with the file offset.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"
#include "lnpu_read.h"
#include "lumen_test.h"
#include "tutil.h"

/* the factors a compiled ROPE reads, or NULL when it has none */
static const float *rope_factors(const struct lnpu_file *f, uint32_t *n)
{
	const struct lumen_prog_header *h = (const void *)f->prog[0];
	const struct lumen_op *op = (const void *)(f->prog[0] + h->header_size);

	for (uint32_t i = 0; i < h->op_count; i++, op++) {
		if (op->opcode != LUMEN_OP_ROPE)
			continue;
		if (!(op->flags & LUMEN_OPF_ROPE_FACTORS))
			return NULL;
		*n = op->src[1].dims[0];
		return (const float *)(f->weights + op->src[1].offset);
	}
	return NULL;
}

static const char *compile_arch(const char *name)
{
	const char *out = scratch_path("rope.lnpu");
	struct lc_options opt = default_options();
	char in[96], err[512];

	snprintf(in, sizeof(in), "golden-arch/%s.gguf", name);
	if (compile_quiet(shared_path(in), NULL, out, &opt, err, sizeof(err))) {
		fprintf(stderr, "# %s\n", err);
		return NULL;
	}
	return out;
}

TEST(rope_freqs_become_the_rope_factors)
{
	const char *path = compile_arch("llama32-f16");
	struct gguf_file g;
	struct lnpu_file f;
	const struct gguf_tensor *t;
	const float *got;
	uint32_t n = 0;
	char err[512];

	REQUIRE(path);
	REQUIRE_MSG(!lnpu_open(&f, path, 0, err, sizeof(err)), "%s", err);
	REQUIRE_MSG(!gguf_open(&g, shared_path("golden-arch/llama32-f16.gguf"),
			       err, sizeof(err)), "%s", err);
	t = gguf_find_tensor(&g, "rope_freqs.weight");
	REQUIRE(t);
	got = rope_factors(&f, &n);
	REQUIRE(got);
	CHECK_EQ(n, t->dims[0]);
	CHECK(!memcmp(got, t->data, 4 * (size_t)n));
	gguf_close(&g);
	lnpu_close(&f);
	unlink(path);
}

TEST(linear_rope_scaling_divides_every_angle)
{
	const char *path = compile_arch("llama-ropelinear-f16");
	struct lnpu_file f;
	const float *got;
	uint32_t n = 0, twos = 0;
	char err[512];

	REQUIRE(path);
	REQUIRE_MSG(!lnpu_open(&f, path, 0, err, sizeof(err)), "%s", err);
	got = rope_factors(&f, &n);
	REQUIRE(got);
	for (uint32_t i = 0; i < n; i++)
		twos += got[i] == 2.0f;	/* rope.scaling.factor = 2 */
	CHECK_EQ(twos, n);
	CHECK_EQ(n, 32);
	lnpu_close(&f);
	unlink(path);
}

TEST(unsupported_rope_scaling_is_refused_by_name)
{
	const char *copy = scratch_path("yarn.gguf");
	const char *out = scratch_path("yarn.lnpu");
	struct lc_options opt = default_options();
	size_t n;
	char *p = read_file(shared_path("golden-arch/llama-ropelinear-f16.gguf"), &n);
	char *at, err[512];

	REQUIRE(p);
	/* the value of llama.rope.scaling.type, same length: "yarn\0\0" */
	at = memmem(p, n, "llama.rope.scaling.type", 23);
	REQUIRE(at);
	at = memmem(at, n - (size_t)(at - p), "linear", 6);
	REQUIRE(at);
	memcpy(at, "yarn\0\0", 6);
	REQUIRE(!write_file(copy, p, n));
	CHECK(compile_quiet(copy, NULL, out, &opt, err, sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "offset ") && strstr(err, "'yarn'") &&
		  strstr(err, "not supported"), "%s", err);
	free(p);
	unlink(copy);
	unlink(out);
}
