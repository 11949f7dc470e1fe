// SPDX-License-Identifier: MIT
/*
 * Models of every kind lumenc must take (the shared files, the llama2.c
 * checkpoint, synthetic models of real shapes) and the ones it must
 * refuse with a clear message.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"
#include "model.h"
#include "gguf_writer.h"
#include "synth.h"
#include "runner.h"
#include "lumen_test.h"
#include "tutil.h"

/* compile @gguf, run one decode step, check the logits are finite */
static void compile_and_step(const char *gguf, const struct lc_options *opt)
{
	const char *out = scratch_path("model.lnpu");
	struct runner r;
	char err[512];
	uint32_t bad = 0;

	REQUIRE_MSG(!compile_quiet(gguf, NULL, out, opt, err, sizeof(err)), "%s", err);
	REQUIRE_MSG(!runner_open(&r, out, err, sizeof(err)), "%s", err);
	unlink(out);
	REQUIRE_MSG(!runner_decode(&r, r.f.meta.bos >= 0 ? r.f.meta.bos : 0),
		    "fault %u at op %u", r.fault.code, r.fault.op_index);
	for (uint32_t i = 0; i < r.f.meta.n_vocab; i++)
		bad += !isfinite(runner_logits(&r)[i]);
	CHECK_EQ(bad, 0);
	CHECK(runner_argmax(&r) >= 0 && (uint32_t)runner_argmax(&r) < r.f.meta.n_vocab);
	runner_close(&r);
}

TEST(model_llama_2_tiny_random)
{
	struct lc_options opt = default_options();

	compile_and_step(shared_path("models/llama-2-tiny-random.gguf"), &opt);
}

static void synthetic(const char *shape, uint32_t type, uint32_t quant)
{
	const struct synth_shape *s = synth_find(shape);
	const char *gguf = scratch_path("synthetic.gguf");
	struct lc_options opt = default_options();
	char err[512];

	REQUIRE(s);
	REQUIRE_MSG(!synth_write(s, type, shared_path("tokenizer/ggml-vocab-llama-spm.gguf"),
				 1, gguf, err, sizeof(err)), "%s", err);
	opt.quant = quant;
	opt.ctx = 256;
	compile_and_step(gguf, &opt);
	unlink(gguf);
}

#define SYNTH(tag, shape)						\
	TEST(synthetic_##tag##_f16) { synthetic(shape, 1, LC_KEEP_DTYPE); } \
	TEST(synthetic_##tag##_q8_0) { synthetic(shape, 8, LC_KEEP_DTYPE); } \
	TEST(synthetic_##tag##_q4_0) { synthetic(shape, 2, LC_KEEP_DTYPE); }

SYNTH(stories260K, "stories260K")
SYNTH(stories15M, "stories15M")
SYNTH(stories110M, "stories110M")
SYNTH(smollm2_135m, "SmolLM2-135M")

/* the bigger shapes (and F16 of them) are compiled by make bench-compile */
TEST(synthetic_qwen2_5_0_5b_like_q4_0)
{
	synthetic("Qwen2.5-0.5B-like", 2, LC_KEEP_DTYPE);
}

TEST(synthetic_smollm2_f16_requantized_q4_0)
{
	synthetic("SmolLM2-135M", 1, LUMEN_DTYPE_Q4_0);
}

TEST(model_llama2c_vocab_equals_converted_gguf)
{
	struct lm_model a, b;
	struct gguf_file g;
	char err[512];
	uint32_t diff = 0;

	REQUIRE_MSG(!lm_from_llama2c(&a, shared_path("models/stories260K.bin"),
				     shared_path("models/tok512.bin"), err, sizeof(err)),
		    "%s", err);
	REQUIRE_MSG(!gguf_open(&g, shared_path("models/stories260K-f32.gguf"), err,
			       sizeof(err)), "%s", err);
	REQUIRE_MSG(!lm_from_gguf(&b, &g, err, sizeof(err)), "%s", err);
	CHECK(a.tied);
	CHECK_EQ(a.n_head_kv, b.n_head_kv);
	CHECK_EQ(a.n_rot, b.n_rot);
	REQUIRE_EQ(a.vocab.n_tokens, b.vocab.n_tokens);
	for (uint32_t i = 0; i < a.vocab.n_tokens; i++)
		diff += a.vocab.tokens[i].len != b.vocab.tokens[i].len ||
			memcmp(a.vocab.tokens[i].ptr, b.vocab.tokens[i].ptr,
			       a.vocab.tokens[i].len) ||
			a.vocab.scores[i] != b.vocab.scores[i] ||
			a.vocab.types[i] != b.vocab.types[i];
	CHECK_EQ(diff, 0);
	/* the Q/K weights are used unpermuted by both routes */
	CHECK(!memcmp(a.layers[3].wq.data, b.layers[3].wq.data, a.layers[3].wq.size));
	CHECK(!memcmp(a.layers[3].wk.data, b.layers[3].wk.data, a.layers[3].wk.size));
	CHECK(!memcmp(a.layers[4].down.data, b.layers[4].down.data, a.layers[4].down.size));
	lm_free(&a);
	lm_free(&b);
	gguf_close(&g);
}

TEST(model_llama2c_truncated_checkpoint)
{
	const char *path = scratch_path("short.bin");
	struct lm_model m;
	size_t n;
	uint8_t *p = read_file(shared_path("models/stories260K.bin"), &n);
	char err[512];

	REQUIRE(p);
	REQUIRE(!write_file(path, p, n - 4));
	CHECK(lm_from_llama2c(&m, path, shared_path("models/tok512.bin"), err,
			      sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "offset") && strstr(err, "weights"), "%s", err);
	fprintf(stderr, "# %s\n", err);
	free(p);
	unlink(path);
}

/* @msg must appear in the error lumenc gives for @bytes */
static void expect_refused(const uint8_t *bytes, size_t n, const char *msg)
{
	const char *in = scratch_path("refused.gguf");
	const char *out = scratch_path("refused.lnpu");
	struct lc_options opt = default_options();
	char err[512];

	REQUIRE(!write_file(in, bytes, n));
	CHECK(compile_quiet(in, NULL, out, &opt, err, sizeof(err)) == -1);
	CHECK_MSG(strstr(err, msg) != NULL, "'%s' lacks '%s'", err, msg);
	CHECK(access(out, F_OK) != 0);
	fprintf(stderr, "# %s\n", err);
	unlink(in);
}

TEST(model_refuses_other_architectures)
{
	struct gguf_writer w;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	gw_init(&w);
	gw_str(&w, "general.architecture", "qwen2", 5);
	REQUIRE(!gw_write_header(&w, f));
	fclose(f);
	expect_refused((const uint8_t *)buf, n,
		       "architecture 'qwen2' is not supported");
	gw_free(&w);
	free(buf);
}

/* a tiny synthetic model to break in one place */
static uint8_t *tiny_model(size_t *n, struct gguf_file *g)
{
	static const struct synth_shape tiny = {
		"tiny", 32, 1, 4, 2, 64, 64, 64, 10000.0f, 1,
	};
	const char *path = scratch_path("tiny.gguf");
	char err[512];
	uint8_t *p;

	if (synth_write(&tiny, 1, shared_path("tokenizer/ggml-vocab-llama-spm.gguf"),
			5, path, err, sizeof(err)))
		return NULL;
	p = read_file(path, n);
	unlink(path);
	if (p && gguf_parse(g, p, *n, err, sizeof(err))) {
		free(p);
		return NULL;
	}
	return p;
}

static uint64_t type_field(const struct gguf_tensor *t)
{
	return t->info_offset + 8 + t->name.len + 4 + 8 * (uint64_t)t->n_dims;
}

TEST(model_refuses_missing_and_misshapen_tensors)
{
	struct gguf_file g;
	size_t n;
	uint8_t *p = tiny_model(&n, &g);
	uint8_t *name, *val;
	const struct gguf_kv *ff;

	REQUIRE(p);
	ff = gguf_find_kv(&g, "llama.feed_forward_length");
	REQUIRE(ff);
	val = p + ff->val_offset;
	gguf_close(&g);
	/* ffn_up renamed: missing */
	name = memmem(p, n, "blk.0.ffn_up.weight", 19);
	REQUIRE(name);
	name[11] = 'q';
	expect_refused(p, n, "tensor 'blk.0.ffn_up.weight' is missing");
	name[11] = 'p';
	/* hyperparameters that disagree with the tensors */
	val[0] = 96;
	expect_refused(p, n, "expected [32, 96]");
	free(p);
}

TEST(model_refuses_unconvertible_dtype)
{
	struct gguf_file g;
	size_t n;
	uint8_t *p = tiny_model(&n, &g);
	const struct gguf_tensor *t;
	uint32_t i16 = 25;	/* same bytes per element as F16 */

	REQUIRE(p);
	t = gguf_find_tensor(&g, "blk.0.attn_k.weight");
	REQUIRE(t && t->type == 1);
	memcpy(p + type_field(t), &i16, 4);
	gguf_close(&g);
	expect_refused(p, n, "has type I16, which lumenc cannot convert");
	free(p);
}
