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
#include "gguf_vocab.h"
#include "lumen_ops.h"
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

static int is_token(const struct gguf_vocab *v, const char *p, uint64_t len)
{
	for (uint32_t i = 0; i < v->n_tokens; i++)
		if (v->tokens[i].len == len && !memcmp(v->tokens[i].ptr, p, len))
			return 1;
	return 0;
}

/*
 * A gpt-2 vocabulary (50257 tokens) cut to a shape's smaller one keeps the
 * merges whose halves and result survive the cut: llama.cpp refuses a BPE
 * vocabulary without merges, and a merge making a cut token would give
 * ids past the embedding. The merges are counted here by brute force.
 */
TEST(synthetic_cut_bpe_vocabulary_keeps_its_own_merges)
{
	const struct synth_shape *s = synth_find("stories260K");
	const char *gguf = scratch_path("synthetic-gpt2.gguf");
	struct gguf_file donor, g;
	struct gguf_vocab dv, v;
	uint32_t expect = 0, first_dropped = UINT32_MAX;
	char err[512];

	REQUIRE(s);
	REQUIRE_MSG(!synth_write(s, 2, shared_path("tokenizer/ggml-vocab-gpt-2.gguf"), 1, gguf,
				 err, sizeof(err)), "%s", err);
	REQUIRE_MSG(!gguf_open(&donor, shared_path("tokenizer/ggml-vocab-gpt-2.gguf"), err,
			       sizeof(err)), "%s", err);
	REQUIRE_MSG(!gguf_open(&g, gguf, err, sizeof(err)), "%s", err);
	REQUIRE_MSG(!gguf_vocab_read(&dv, &donor, 0, err, sizeof(err)), "%s", err);
	REQUIRE_MSG(!gguf_vocab_read(&v, &g, 0, err, sizeof(err)), "%s", err);
	CHECK_EQ(v.n_tokens, s->n_vocab);
	REQUIRE(dv.n_tokens > v.n_tokens);
	for (uint32_t i = 0; i < dv.n_merges; i++) {
		const struct gguf_str *m = &dv.merges[i];
		const char *sp = memchr(m->ptr, ' ', m->len);
		char joined[256];
		uint64_t left = sp ? (uint64_t)(sp - m->ptr) : 0;

		if (!sp || m->len > sizeof(joined))
			continue;
		memcpy(joined, m->ptr, left);
		memcpy(joined + left, sp + 1, m->len - left - 1);
		if (is_token(&v, m->ptr, left) && is_token(&v, sp + 1, m->len - left - 1) &&
		    is_token(&v, joined, m->len - 1)) {
			REQUIRE(expect < v.n_merges);
			CHECK_EQ(v.merges[expect].len, m->len);
			CHECK(!memcmp(v.merges[expect].ptr, m->ptr, m->len));
			expect++;
		} else if (first_dropped == UINT32_MAX) {
			first_dropped = i;
		}
	}
	CHECK(expect > 0);
	CHECK(first_dropped != UINT32_MAX);
	CHECK_EQ(v.n_merges, expect);
	gguf_vocab_free(&v);
	gguf_vocab_free(&dv);
	gguf_close(&g);
	gguf_close(&donor);
	unlink(gguf);
}

/* the bigger shapes (and F16 of them) are compiled by make bench-compile */
TEST(synthetic_qwen2_5_0_5b_q4_0)
{
	synthetic("Qwen2.5-0.5B", 2, LC_KEEP_DTYPE);
}

/* every architecture at a real shape, as the generator writes it */
TEST(synthetic_qwen3_0_6b_q4_0) { synthetic("Qwen3-0.6B", 2, LC_KEEP_DTYPE); }
TEST(synthetic_gemma_3_270m_q8_0) { synthetic("Gemma-3-270M", 8, LC_KEEP_DTYPE); }
TEST(synthetic_smollm2_360m_q4_0) { synthetic("SmolLM2-360M", 2, LC_KEEP_DTYPE); }

/*
 * llama-quantize's Q4_K_M mix as the generator writes it: Q6_K for the
 * (tied) output and for attn_v / ffn_down of the first and last eighth of
 * the layers and every third between, Q4_K elsewhere; and its fallbacks
 * for SmolLM2's rows of 576, not a multiple of 256: Q4_K -> Q5_0, Q6_K ->
 * Q8_0 (ffn_down's rows of 1536 keep the K types). Then it compiles with
 * those types in place and steps.
 */
TEST(synthetic_smollm2_135m_q4_k_m_mix)
{
	const struct synth_shape *s = synth_find("SmolLM2-135M");
	const char *gguf = scratch_path("mix.gguf");
	struct lc_options opt = default_options();
	struct gguf_file g;
	char err[512];
	const struct {
		const char *name;
		uint32_t type;
	} want[] = {
		{ "token_embd.weight", 8 },	/* tied: the output's Q6_K -> Q8_0 */
		{ "blk.0.attn_v.weight", 8 }, { "blk.0.ffn_down.weight", 14 },
		{ "blk.4.attn_v.weight", 6 }, { "blk.5.attn_v.weight", 8 },
		{ "blk.4.ffn_down.weight", 12 }, { "blk.29.ffn_down.weight", 14 },
		{ "blk.10.attn_q.weight", 6 }, { "blk.10.ffn_up.weight", 6 },
	};

	REQUIRE(s);
	REQUIRE_MSG(!synth_write(s, synth_type_from_name("q4_k_m"),
				 shared_path("tokenizer/ggml-vocab-llama-spm.gguf"), 1,
				 gguf, err, sizeof(err)), "%s", err);
	REQUIRE_MSG(!gguf_open(&g, gguf, err, sizeof(err)), "%s", err);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct gguf_tensor *t = gguf_find_tensor(&g, want[i].name);

		CHECK_MSG(t && t->type == want[i].type, "%s: type %d, want %u",
			  want[i].name, t ? (int)t->type : -1, want[i].type);
	}
	gguf_close(&g);
	opt.ctx = 256;
	compile_and_step(gguf, &opt);
	unlink(gguf);
}

TEST(synthetic_gemma_3_270m_q5_k_m) { synthetic("Gemma-3-270M", SYNTH_MIX_Q5_K_M, LC_KEEP_DTYPE); }
TEST(synthetic_qwen2_5_0_5b_q6_k) { synthetic("Qwen2.5-0.5B", SYNTH_MIX_Q6_K, LC_KEEP_DTYPE); }

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

/*
 * Review item 7: a 28-byte checkpoint whose config makes the 64-bit size
 * sum wrap to exactly 28 (dim 2^20, hidden 699050, 2^20 - 1 layers, 2^19
 * heads, 1 kv head, vocab 1 shared, seq 2^20) passed the size check, and
 * the weights then pointed gigabytes past the file.
 */
TEST(model_llama2c_size_wrap_is_refused)
{
	static const int32_t cfg[7] = { 1 << 20, 699050, (1 << 20) - 1, 1 << 19, 1, 1, 1 << 20 };
	const char *path = scratch_path("wrap.bin");
	uint8_t bytes[28];
	struct lm_model m;
	char err[512];

	for (int i = 0; i < 7; i++)
		for (int b = 0; b < 4; b++)
			bytes[4 * i + b] = (uint8_t)((uint32_t)cfg[i] >> 8 * b);
	REQUIRE(!write_file(path, bytes, sizeof(bytes)));
	CHECK(lm_from_llama2c(&m, path, shared_path("models/tok512.bin"), err,
			      sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "config") && strstr(err, "2^64"), "%s", err);
	fprintf(stderr, "# %s\n", err);
	unlink(path);
}

/* found by fuzz-llama2c: a negative vocab_size marks an unshared output; INT32_MIN has no negation */
TEST(model_llama2c_vocab_int_min_is_refused)
{
	static const int32_t cfg[7] = { 8, 8, 1, 2, 1, INT32_MIN, 4 };
	const char *path = scratch_path("intmin.bin");
	struct lm_model m;
	char err[512];

	REQUIRE(!write_file(path, cfg, sizeof(cfg)));
	CHECK(lm_from_llama2c(&m, path, shared_path("models/tok512.bin"), err,
			      sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "vocab_size"), "%s", err);
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
	gw_str(&w, "general.architecture", "mamba", 5);
	REQUIRE(!gw_write_header(&w, f));
	fclose(f);
	/* by name, with the list of what is supported */
	expect_refused((const uint8_t *)buf, n,
		       "architecture 'mamba' is not supported (lumenc compiles llama, qwen2");
	gw_free(&w);
	free(buf);
}

/* a tiny synthetic model to break in one place */
static uint8_t *tiny_model(size_t *n, struct gguf_file *g)
{
	static const struct synth_shape tiny = {
		"tiny", 32, 1, 4, 2, 64, 64, 64, 10000.0f, 1, .arch = "llama",
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
	expect_refused(p, n, "expected [96, 32]");	/* ffn_down, checked first */
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

/*
 * A Qwen 3 file relabelled Qwen 2 lacks the q/k/v biases Qwen 2 needs:
 * refused by name, never run without them.
 */
TEST(model_refuses_architecture_without_its_tensors)
{
	size_t n;
	uint8_t *p = read_file(shared_path("golden-arch/qwen3-f16.gguf"), &n);
	uint8_t *at;
	int relabelled = 0;

	REQUIRE(p);
	for (at = p; (at = memmem(at, n - (size_t)(at - p), "qwen3", 5)); at += 5) {
		at[4] = '2';
		relabelled++;
	}
	CHECK(relabelled > 5);
	expect_refused(p, n, "tensor 'blk.0.attn_q.bias' is missing");
	free(p);
}

/*
 * GGUF's K-quant mixes and the other block types are kept in place: the
 * program's MATMUL/EMBED weights carry the file's own types, the
 * embedding's bytes are the file's, and a decode step runs on them.
 */
static void kept_in_place(const char *name, uint32_t want_a, uint32_t want_b)
{
	char rel[128], err[512];
	const char *out = scratch_path("inplace.lnpu");
	struct lc_options opt = default_options();
	struct gguf_file g;
	struct runner r;
	uint32_t seen = 0, bad = 0;
	uint64_t emb_off = ~0ull;

	opt.no_repack = 1;	/* in place: GGUF's layouts, not Lumen's interleaved ones */
	snprintf(rel, sizeof(rel), "golden-arch/%s.gguf", name);
	REQUIRE_MSG(!compile_quiet(shared_path(rel), NULL, out, &opt, err, sizeof(err)),
		    "%s", err);
	REQUIRE_MSG(!runner_open(&r, out, err, sizeof(err)), "%s", err);
	unlink(out);
	const struct lumen_prog_header *h = (const void *)r.f.prog[0];
	const struct lumen_op *ops = (const void *)(r.f.prog[0] + h->header_size);

	for (uint32_t i = 0; i < h->op_count; i++) {
		if (ops[i].opcode != LUMEN_OP_MATMUL && ops[i].opcode != LUMEN_OP_EMBED)
			continue;
		if (ops[i].src[0].dtype < 32)
			seen |= 1u << ops[i].src[0].dtype;
		if (ops[i].opcode == LUMEN_OP_EMBED)
			emb_off = ops[i].src[0].offset;
	}
	CHECK_MSG(seen & 1u << want_a, "%s: no %s weights (seen %#x)", name,
		  lumen_isa_dtype_name(want_a), seen);
	CHECK_MSG(seen & 1u << want_b, "%s: no %s weights (seen %#x)", name,
		  lumen_isa_dtype_name(want_b), seen);
	/* nothing requantized to the types lumenc can write */
	CHECK_EQ(seen & (1u << LUMEN_DTYPE_F16 | 1u << LUMEN_DTYPE_Q8_0 | 1u << LUMEN_DTYPE_Q4_0) &
		 ~(1u << want_a | 1u << want_b), 0);
	REQUIRE_MSG(!gguf_open(&g, shared_path(rel), err, sizeof(err)), "%s", err);
	const struct gguf_tensor *t = gguf_find_tensor(&g, "token_embd.weight");

	REQUIRE(t && emb_off != ~0ull && emb_off + t->size <= r.f.weights_size);
	CHECK(memcmp(r.f.weights + emb_off, t->data, t->size) == 0);
	gguf_close(&g);
	REQUIRE_MSG(!runner_decode(&r, 1), "fault %u at op %u", r.fault.code,
		    r.fault.op_index);
	for (uint32_t i = 0; i < r.f.meta.n_vocab; i++)
		bad += !isfinite(runner_logits(&r)[i]);
	CHECK_EQ(bad, 0);
	runner_close(&r);
}

TEST(model_keeps_q4_k_m_in_place)
{
	kept_in_place("llama-ropelinear-q4_k_m", LUMEN_DTYPE_Q4_K, LUMEN_DTYPE_Q6_K);
}

TEST(model_keeps_q5_k_m_in_place)
{
	kept_in_place("llama-ropelinear-q5_k_m", LUMEN_DTYPE_Q5_K, LUMEN_DTYPE_Q6_K);
}

TEST(model_keeps_q6_k_in_place)
{
	kept_in_place("llama-ropelinear-q6_k", LUMEN_DTYPE_Q6_K, LUMEN_DTYPE_Q6_K);
}

TEST(model_keeps_q4_1_and_q5_0_in_place)
{
	kept_in_place("llama32-q4_1", LUMEN_DTYPE_Q4_1, LUMEN_DTYPE_Q6_K);
	kept_in_place("llama32-q5_0", LUMEN_DTYPE_Q5_0, LUMEN_DTYPE_Q6_K);
}

/* --quant still requantizes on request, from any source type */
TEST(model_requantizes_k_quants_on_request)
{
	const char *out = scratch_path("requant.lnpu");
	struct lc_options opt = default_options();
	struct runner r;
	char err[512];
	uint32_t seen = 0, bad = 0;

	opt.quant = LUMEN_DTYPE_Q8_0;
	REQUIRE_MSG(!compile_quiet(shared_path("golden-arch/llama-ropelinear-q4_k_m.gguf"), NULL,
				   out, &opt, err, sizeof(err)), "%s", err);
	REQUIRE_MSG(!runner_open(&r, out, err, sizeof(err)), "%s", err);
	unlink(out);
	const struct lumen_prog_header *h = (const void *)r.f.prog[0];
	const struct lumen_op *ops = (const void *)(r.f.prog[0] + h->header_size);

	for (uint32_t i = 0; i < h->op_count; i++)
		if ((ops[i].opcode == LUMEN_OP_MATMUL || ops[i].opcode == LUMEN_OP_EMBED) &&
		    ops[i].src[0].dtype < 32)
			seen |= 1u << ops[i].src[0].dtype;
	CHECK_EQ(seen, 1u << LUMEN_DTYPE_Q8_0);
	REQUIRE_MSG(!runner_decode(&r, 1), "fault %u at op %u", r.fault.code,
		    r.fault.op_index);
	for (uint32_t i = 0; i < r.f.meta.n_vocab; i++)
		bad += !isfinite(runner_logits(&r)[i]);
	CHECK_EQ(bad, 0);
	runner_close(&r);
}
