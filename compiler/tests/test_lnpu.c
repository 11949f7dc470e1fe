// SPDX-License-Identifier: MIT
/* The .lnpu container: contents, alignment, and rejection of corruption. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"
#include "gguf_writer.h"
#include "lnpu_read.h"
#include "lumen_dtype.h"
#include "synth.h"
#include "lumen_test.h"
#include "tutil.h"

/* a tiny llama shape: the .lnpu stays small enough to be a fuzz seed */
static const struct synth_shape tiny = {
	"tiny", 32, 1, 4, 2, 64, 64, 64, 10000.0f, 1, .arch = "llama",
};

static const char *compile_stories(const char *name, uint32_t quant, int no_repack)
{
	struct lc_options opt = default_options();
	const char *out = scratch_path("stories.lnpu");
	char in[128], err[512];

	opt.quant = quant;
	opt.no_repack = no_repack;
	snprintf(in, sizeof(in), "models/%s.gguf", name);
	if (compile_quiet(shared_path(in), NULL, out, &opt, err, sizeof(err))) {
		fprintf(stderr, "# %s\n", err);
		return NULL;
	}
	return out;
}

static int parse_copy(const uint8_t *p, size_t n, unsigned int flags,
		      char *err, size_t errlen)
{
	struct lnpu_file f;
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	memcpy(copy, p, n);
	rc = lnpu_parse(&f, copy, n, flags, err, errlen);
	if (!rc)
		lnpu_close(&f);
	free(copy);
	return rc;
}

TEST(lnpu_holds_model_vocab_programs_weights)
{
	/* GGUF's row layout: the interleaved one is checked below */
	const char *path = compile_stories("stories260K-q8_0", LC_KEEP_DTYPE, 1);
	struct lnpu_file f;
	struct gguf_file g;
	const struct gguf_kv *tok;
	const struct gguf_tensor *wq;
	char err[512];
	uint32_t mismatched = 0;

	REQUIRE(path);
	REQUIRE_MSG(!lnpu_open(&f, path, 0, err, sizeof(err)), "%s", err);
	REQUIRE_MSG(!gguf_open(&g, shared_path("models/stories260K-q8_0.gguf"),
			       err, sizeof(err)), "%s", err);
	CHECK(!strcmp(f.meta.arch, "llama"));
	CHECK_EQ(f.meta.n_vocab, 512);
	CHECK_EQ(f.meta.n_layer, 5);
	CHECK_EQ(f.meta.n_head_kv, 4);
	CHECK_EQ(f.meta.head_dim, 8);
	CHECK_EQ(f.meta.ctx, 512);
	CHECK_EQ(f.meta.bos, 1);
	CHECK_EQ(f.meta.eos, 2);
	CHECK_EQ(f.weights_offset % LNPU_WEIGHTS_ALIGN, 0);
	CHECK_EQ(f.weights_offset + f.weights_size, f.size);
	tok = gguf_find_kv(&g, "tokenizer.ggml.tokens");
	REQUIRE(tok && tok->arr_n == f.vocab.n_tokens);
	for (uint32_t i = 0; i < f.vocab.n_tokens; i++) {
		struct gguf_str want = gguf_arr_str(&g, tok, i);
		uint32_t len;
		const char *got = lnpu_token(&f, i, &len);

		mismatched += len != want.len || memcmp(got, want.ptr, len);
	}
	CHECK_EQ(mismatched, 0);
	/* the fused Q/K/V of layer 0 starts with the bytes of attn_q */
	wq = gguf_find_tensor(&g, "blk.0.attn_q.weight");
	REQUIRE(wq);
	CHECK(memmem(f.weights, f.weights_size, wq->data, wq->size) != NULL);
	/* KV cache: 2 x layers x ctx x kv_dim F16 */
	CHECK_EQ(f.regions[LNPU_SLOT_KV].size, 2ULL * 5 * 512 * 32 * 2);
	CHECK_EQ(f.regions[LNPU_SLOT_WEIGHTS].flags & LNPU_RF_READONLY,
		 LNPU_RF_READONLY);
	gguf_close(&g);
	lnpu_close(&f);
	unlink(path);
}

/* llama.cpp quantized the shared Q8_0/Q4_0 files from the F32 one: ours must agree bit for bit */
TEST(lnpu_requantization_matches_llama_cpp)
{
	static const struct {
		const char *file;
		uint32_t quant;
	} q[] = {
		{ "stories260K-q8_0", LUMEN_DTYPE_Q8_0 },
		{ "stories260K-q4_0", LUMEN_DTYPE_Q4_0 },
	};

	for (int i = 0; i < 2; i++) {
		const char *a = compile_stories("stories260K-f32", q[i].quant, 0);
		const char *b = a ? compile_stories(q[i].file, LC_KEEP_DTYPE, 0) : NULL;
		struct lnpu_file fa, fb;
		char err[512];

		REQUIRE(a && b);
		REQUIRE_MSG(!lnpu_open(&fa, a, 0, err, sizeof(err)), "%s", err);
		REQUIRE_MSG(!lnpu_open(&fb, b, 0, err, sizeof(err)), "%s", err);
		CHECK_EQ(fa.weights_size, fb.weights_size);
		CHECK_MSG(fa.weights_size == fb.weights_size &&
			  !memcmp(fa.weights, fb.weights, fa.weights_size),
			  "%s: weights differ from llama.cpp's quantization",
			  q[i].file);
		lnpu_close(&fa);
		lnpu_close(&fb);
		unlink(a);
		unlink(b);
	}
}

static const char *compile_tiny(void)
{
	const char *gguf = scratch_path("tiny.gguf");
	const char *out = scratch_path("tiny.lnpu");
	struct lc_options opt = default_options();
	char err[512];

	opt.prefill_chunk = 4;
	if (synth_write(&tiny, 1, shared_path("tokenizer/ggml-vocab-llama-spm.gguf"),
			7, gguf, err, sizeof(err)) ||
	    compile_quiet(gguf, NULL, out, &opt, err, sizeof(err))) {
		fprintf(stderr, "# %s\n", err);
		return NULL;
	}
	unlink(gguf);
	return out;
}

/* a SentencePiece donor vocabulary that says add_space_prefix = false */
static const char *write_no_space_prefix_vocab(void)
{
	static const char *const tok[] = { "<unk>", "<s>", "</s>", "hi" };
	const uint64_t lens[] = { 5, 3, 4, 2 };
	const char *path = scratch_path("nsp-vocab.gguf");
	struct gguf_writer w;
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return NULL;
	gw_init(&w);
	gw_str(&w, "tokenizer.ggml.model", "llama", 5);
	gw_arr_str(&w, "tokenizer.ggml.tokens", 4, tok, lens);
	gw_bool(&w, "tokenizer.ggml.add_space_prefix", 0);
	rc = gw_write_header(&w, f);
	gw_free(&w);
	return fclose(f) || rc ? NULL : path;
}

TEST(lnpu_carries_add_space_prefix)
{
	const char *with = compile_tiny();
	const char *donor = write_no_space_prefix_vocab();
	const char *gguf = scratch_path("nsp.gguf");
	const char *without = scratch_path("nsp.lnpu");
	struct lc_options opt = default_options();
	struct lnpu_file f;
	char err[512];

	REQUIRE(with && donor);
	REQUIRE_MSG(!lnpu_open(&f, with, 0, err, sizeof(err)), "%s", err);
	CHECK(f.vocab.flags & LNPU_VOCAB_ADD_SPACE_PREFIX);
	lnpu_close(&f);
	REQUIRE_MSG(!synth_write(&tiny, 1, donor, 7, gguf, err, sizeof(err)) &&
		    !compile_quiet(gguf, NULL, without, &opt, err, sizeof(err)),
		    "%s", err);
	REQUIRE_MSG(!lnpu_open(&f, without, 0, err, sizeof(err)), "%s", err);
	CHECK_EQ(f.vocab.flags & LNPU_VOCAB_ADD_SPACE_PREFIX, 0);
	lnpu_close(&f);
	unlink(with);
	unlink(donor);
	unlink(gguf);
	unlink(without);
}

/*
 * tokenizer.chat_template goes into the optional CHAT_TEMPLATE section,
 * byte for byte and covered by its checksum; a model without one has no
 * such section
 */
TEST(lnpu_carries_the_chat_template)
{
	const char *donor = shared_path("tokenizer/ggml-vocab-qwen2.gguf");
	const char *gguf = scratch_path("tmpl.gguf");
	const char *out = scratch_path("tmpl.lnpu");
	const char *plain = compile_tiny();
	struct lc_options opt = default_options();
	struct gguf_file g;
	struct gguf_str want;
	struct lnpu_file f;
	size_t n, rejected = 0, tried = 0;
	uint8_t *p;
	char err[512];

	REQUIRE(plain);
	REQUIRE_MSG(!lnpu_open(&f, plain, 0, err, sizeof(err)), "%s", err);
	CHECK(f.chat_template == NULL);
	CHECK_EQ(f.header.section_count, 7);	/* with the verify program */
	lnpu_close(&f);
	opt.prefill_chunk = 4;
	REQUIRE_MSG(!synth_write(&tiny, 1, donor, 7, gguf, err, sizeof(err)) &&
		    !compile_quiet(gguf, NULL, out, &opt, err, sizeof(err)),
		    "%s", err);
	REQUIRE_MSG(!gguf_open(&g, donor, err, sizeof(err)), "%s", err);
	REQUIRE(!gguf_get_str(&g, "tokenizer.chat_template", &want));
	REQUIRE_MSG(!lnpu_open(&f, out, 0, err, sizeof(err)), "%s", err);
	CHECK_EQ(f.header.version, LNPU_VERSION);
	CHECK_EQ(f.header.section_count, 8);	/* chat template and verify */
	CHECK(f.chat_template && f.chat_template_len == want.len &&
	      !memcmp(f.chat_template, want.ptr, want.len));
	lnpu_close(&f);
	gguf_close(&g);
	p = read_file(out, &n);
	REQUIRE(p);
	for (size_t i = 0; i < n; i += 11) {
		p[i] ^= 0x5a;
		tried++;
		rejected += parse_copy(p, n, 0, err, sizeof(err)) != 0;
		p[i] ^= 0x5a;
	}
	CHECK_EQ(rejected, tried);
	free(p);
	unlink(gguf);
	unlink(out);
	unlink(plain);
}

TEST(lnpu_rejects_every_corrupted_byte)
{
	const char *path = compile_tiny();
	size_t n, rejected = 0, tried = 0;
	uint8_t *p;
	char err[512];

	REQUIRE(path);
	p = read_file(path, &n);
	REQUIRE(p);
	CHECK_MSG(!parse_copy(p, n, 0, err, sizeof(err)), "%s", err);
	/* every byte outside the zero padding is covered by a checksum */
	for (size_t i = 0; i < n; i += 7) {
		p[i] ^= 0x5a;
		tried++;
		if (parse_copy(p, n, 0, err, sizeof(err)) &&
		    !strncmp(err, "offset ", 7))
			rejected++;
		else
			fprintf(stderr, "# byte %zu accepted after corruption\n", i);
		p[i] ^= 0x5a;
	}
	CHECK_EQ(rejected, tried);
	free(p);
	unlink(path);
}

TEST(lnpu_rejects_truncation_and_foreign_files)
{
	const char *path = compile_tiny();
	size_t n, rejected = 0, tried = 0;
	uint8_t *p, *g;
	char err[512];

	REQUIRE(path);
	p = read_file(path, &n);
	REQUIRE(p);
	for (size_t len = 0; len < n; len += 13) {
		tried++;
		rejected += parse_copy(p, len, 0, err, sizeof(err)) == -1;
	}
	CHECK_EQ(rejected, tried);
	g = read_file(shared_path("models/stories260K-q4_0.gguf"), &n);
	REQUIRE(g);
	CHECK(parse_copy(g, n, 0, err, sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "header.magic") != NULL, "%s", err);
	free(g);
	free(p);
	unlink(path);
}

TEST(lnpu_weights_crc_can_be_skipped)
{
	const char *path = compile_tiny();
	struct lnpu_file f;
	size_t n;
	uint8_t *p;
	char err[512];
	uint64_t w;

	REQUIRE(path);
	REQUIRE_MSG(!lnpu_open(&f, path, 0, err, sizeof(err)), "%s", err);
	w = f.weights_offset;
	lnpu_close(&f);
	p = read_file(path, &n);
	REQUIRE(p);
	p[w + 3] ^= 1;
	CHECK(parse_copy(p, n, 0, err, sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "checksum") != NULL, "%s", err);
	CHECK_MSG(!parse_copy(p, n, LNPU_READ_SKIP_WEIGHTS_CRC, err, sizeof(err)),
		  "%s", err);
	free(p);
	unlink(path);
}

/*
 * Fuzz seeds, made at build time (never copied from ../shared): a few
 * small GGUF files and a tiny .lnpu. Into $LUMENC_SEED_DIR when set.
 */
TEST(write_fuzz_seeds)
{
	const char *dir = getenv("LUMENC_SEED_DIR");
	const char *tiny_gguf = scratch_path("seed.gguf");
	const char *path = compile_tiny();
	char dst[1024], err[512];
	size_t n;
	uint8_t *p;

	REQUIRE(path);
	REQUIRE_MSG(!synth_write(&tiny, 8, shared_path("tokenizer/ggml-vocab-llama-spm.gguf"),
				 3, tiny_gguf, err, sizeof(err)), "%s", err);
	if (!dir || !*dir) {	/* in the suite: check the seeds can be made */
		CHECK(access(path, R_OK) == 0 && access(tiny_gguf, R_OK) == 0);
		unlink(path);
		unlink(tiny_gguf);
		return;
	}
	snprintf(dst, sizeof(dst), "%s/gguf", dir);
	mkdir(dst, 0755);
	snprintf(dst, sizeof(dst), "%s/lnpu", dir);
	mkdir(dst, 0755);
	p = read_file(tiny_gguf, &n);
	REQUIRE(p);
	snprintf(dst, sizeof(dst), "%s/gguf/tiny-q8_0.gguf", dir);
	CHECK(!write_file(dst, p, n));
	free(p);
	p = read_file(path, &n);
	REQUIRE(p);
	snprintf(dst, sizeof(dst), "%s/lnpu/tiny.lnpu", dir);
	CHECK(!write_file(dst, p, n));
	free(p);
	unlink(path);
	unlink(tiny_gguf);
}

/* a zero-sized section once sent the padding check round in circles (found by fuzzing) */
TEST(lnpu_rejects_empty_weights_section)
{
	const char *path = compile_tiny();
	struct lnpu_header h;
	struct lnpu_section s;
	size_t n;
	uint8_t *p;
	char err[512];

	REQUIRE(path);
	p = read_file(path, &n);
	REQUIRE(p);
	memcpy(&h, p, sizeof(h));
	for (uint32_t i = 0; i < h.section_count; i++) {
		memcpy(&s, p + h.table_offset + i * sizeof(s), sizeof(s));
		if (s.type != LNPU_SEC_WEIGHTS)
			continue;
		s.size = 0;
		s.crc = lnpu_crc32c(0, p, 0);
		memcpy(p + h.table_offset + i * sizeof(s), &s, sizeof(s));
	}
	/* re-seal the table and the header so only the structure is wrong */
	h.table_crc = lnpu_crc32c(0, p + h.table_offset,
				  h.section_count * sizeof(struct lnpu_section));
	h.header_crc = 0;
	h.header_crc = lnpu_crc32c(0, &h, sizeof(h));
	memcpy(p, &h, sizeof(h));
	CHECK(parse_copy(p, n, 0, err, sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "padding") != NULL, "%s", err);
	free(p);
	unlink(path);
}

/* the header's version set to @version and every checksum made right again */
static void reseal(uint8_t *p, uint32_t version)
{
	struct lnpu_header h;

	memcpy(&h, p, sizeof(h));
	h.version = version;
	h.table_crc = lnpu_crc32c(0, p + h.table_offset,
				  h.section_count * sizeof(struct lnpu_section));
	h.header_crc = 0;
	h.header_crc = lnpu_crc32c(0, &h, sizeof(h));
	memcpy(p, &h, sizeof(h));
}

static const char *compile_stories_opt(const struct lc_options *opt)
{
	const char *out = scratch_path("stories-spec.lnpu");
	char err[512];

	if (compile_quiet(shared_path("models/stories260K-q8_0.gguf"), NULL, out,
			  opt, err, sizeof(err))) {
		fprintf(stderr, "# %s\n", err);
		return NULL;
	}
	return out;
}

/*
 * The verify program: the prefill graph at draft_max + 1 rows whose head
 * keeps every row: RMSNORM without LAST_ROW, logits, one argmax per row
 * and each row's top-k logits (ids and values) where the meta says.
 */
TEST(lnpu_verify_program_keeps_every_row)
{
	struct lc_options opt = default_options();
	const char *path;
	const struct lumen_prog_header *h;
	const struct lumen_op *ops;
	struct lnpu_file f;
	char err[512];

	opt.draft_max = 5;
	path = compile_stories_opt(&opt);
	REQUIRE(path);
	REQUIRE_MSG(!lnpu_open(&f, path, 0, err, sizeof(err)), "%s", err);
	CHECK_EQ(f.header.version, 4);
	REQUIRE(f.prog[2] != NULL);
	CHECK_EQ(f.meta.verify_rows, 6);
	h = (const void *)f.prog[2];
	ops = (const void *)(f.prog[2] + h->header_size);
	REQUIRE(h->op_count >= 4);
	{
		const struct lumen_op *norm = &ops[h->op_count - 4];
		const struct lumen_op *mm = &ops[h->op_count - 3];
		const struct lumen_op *am = &ops[h->op_count - 2];
		const struct lumen_op *top = &ops[h->op_count - 1];

		CHECK_EQ(norm->opcode, LUMEN_OP_RMSNORM);
		CHECK_EQ(norm->flags & LUMEN_OPF_LAST_ROW, 0);
		CHECK_EQ(mm->opcode, LUMEN_OP_MATMUL);
		CHECK_EQ(mm->dst.dims[1], 6);
		CHECK_EQ(mm->dst.offset, f.meta.out_verify_logits);
		CHECK_EQ(mm->rows_arg, LNPU_ARG_ROWS);
		CHECK_EQ(am->opcode, LUMEN_OP_ARGMAX);
		CHECK_EQ(am->dst.dims[1], 6);
		CHECK_EQ(am->dst.offset, f.meta.out_verify_argmax);
		CHECK_EQ(am->rows_arg, LNPU_ARG_ROWS);
		/* llama.cpp's default top-k, 40 of stories260K's 512 */
		CHECK_EQ(f.meta.verify_topk, LC_VERIFY_TOPK_DEFAULT);
		CHECK_EQ(top->opcode, LUMEN_OP_TOPK);
		CHECK_EQ(top->params[LUMEN_P_K], f.meta.verify_topk);
		CHECK_EQ(top->src[0].offset, f.meta.out_verify_logits);
		CHECK_EQ(top->dst.offset, f.meta.out_verify_topk);
		CHECK_EQ(top->dst.dims[0], 2 * f.meta.verify_topk);
		CHECK_EQ(top->dst.dims[1], 6);
		CHECK_EQ(top->rows_arg, LNPU_ARG_ROWS);
		CHECK(f.meta.out_verify_topk >= f.meta.out_verify_argmax + 4 * 6);
	}
	/* decode's and prefill's outputs stay where they were */
	CHECK(f.meta.out_verify_logits >= f.meta.out_argmax + 4);
	lnpu_close(&f);
	unlink(path);
}

/* files of versions 2 and 3 (no verify program) still load; a verify section needs 4 */
TEST(lnpu_version_2_files_still_load)
{
	struct lc_options opt = default_options();
	const char *path;
	struct lnpu_file f;
	size_t n;
	uint8_t *p;
	char err[512];

	opt.draft_max = LC_NO_VERIFY;
	path = compile_stories_opt(&opt);
	REQUIRE(path);
	p = read_file(path, &n);
	REQUIRE(p);
	for (uint32_t v = 2; v <= 3; v++) {
		reseal(p, v);
		REQUIRE_MSG(!lnpu_parse(&f, p, n, 0, err, sizeof(err)), "%s", err);
		CHECK(f.prog[2] == NULL);
		CHECK_EQ(f.meta.verify_rows, 0);
		lnpu_close(&f);
	}
	free(p);
	unlink(path);

	opt.draft_max = 0;	/* the default: a verify program */
	path = compile_stories_opt(&opt);
	REQUIRE(path);
	p = read_file(path, &n);
	REQUIRE(p);
	reseal(p, 3);
	CHECK(parse_copy(p, n, 0, err, sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "unknown type 8 for a version 3 file") != NULL, "%s", err);
	reseal(p, 5);
	CHECK(parse_copy(p, n, 0, err, sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "header.version") != NULL, "%s", err);
	free(p);
	unlink(path);
}

/* the meta's verify fields and the verify section come together */
TEST(lnpu_rejects_verify_fields_without_a_program)
{
	struct lc_options opt = default_options();
	const char *path;
	struct lnpu_header h;
	struct lnpu_section s;
	struct lnpu_meta m;
	size_t n;
	uint8_t *p;
	char err[512];

	opt.draft_max = LC_NO_VERIFY;
	path = compile_stories_opt(&opt);
	REQUIRE(path);
	p = read_file(path, &n);
	REQUIRE(p);
	memcpy(&h, p, sizeof(h));
	for (uint32_t i = 0; i < h.section_count; i++) {
		memcpy(&s, p + h.table_offset + i * sizeof(s), sizeof(s));
		if (s.type != LNPU_SEC_META)
			continue;
		memcpy(&m, p + s.offset, sizeof(m));
		m.verify_rows = 9;
		memcpy(p + s.offset, &m, sizeof(m));
		s.crc = lnpu_crc32c(0, p + s.offset, s.size);
		memcpy(p + h.table_offset + i * sizeof(s), &s, sizeof(s));
	}
	reseal(p, 4);
	CHECK(parse_copy(p, n, 0, err, sizeof(err)) == -1);
	CHECK_MSG(strstr(err, "meta.verify_rows") != NULL, "%s", err);
	free(p);
	unlink(path);
}

/*
 * lumenc --verify-topk: K top logits per verify row (at most the
 * vocabulary), 0 for none (a file like those written before, which
 * loads); top-k fields the reader cannot trust are refused.
 */
TEST(lnpu_verify_topk_is_chosen_and_checked)
{
	struct lc_options opt = default_options();
	const char *path;
	struct lnpu_file f;
	struct lnpu_header h;
	struct lnpu_section s;
	struct lnpu_meta m;
	size_t n;
	uint8_t *p;
	char err[512];

	opt.verify_topk = LC_NO_VERIFY;
	path = compile_stories_opt(&opt);
	REQUIRE(path);
	REQUIRE_MSG(!lnpu_open(&f, path, 0, err, sizeof(err)), "%s", err);
	CHECK(f.prog[2] != NULL);
	CHECK_EQ(f.meta.verify_topk, 0);
	CHECK_EQ(f.meta.out_verify_topk, 0);
	{
		const struct lumen_prog_header *ph = (const void *)f.prog[2];
		const struct lumen_op *ops = (const void *)(f.prog[2] + ph->header_size);

		for (uint32_t i = 0; i < ph->op_count; i++)
			CHECK(ops[i].opcode != LUMEN_OP_TOPK);
	}
	lnpu_close(&f);
	unlink(path);

	opt = default_options();
	opt.verify_topk = 64;
	path = compile_stories_opt(&opt);
	REQUIRE(path);
	REQUIRE_MSG(!lnpu_open(&f, path, 0, err, sizeof(err)), "%s", err);
	CHECK_EQ(f.meta.verify_topk, 64);
	lnpu_close(&f);
	unlink(path);

	opt = default_options();
	opt.verify_topk = 65;
	CHECK(compile_stories_opt(&opt) == NULL);

	/* a k above LUMEN_MAX_TOPK, then an offset past OUT, are refused */
	opt = default_options();
	path = compile_stories_opt(&opt);
	REQUIRE(path);
	p = read_file(path, &n);
	REQUIRE(p);
	memcpy(&h, p, sizeof(h));
	for (int bad = 0; bad < 2; bad++) {
		for (uint32_t i = 0; i < h.section_count; i++) {
			memcpy(&s, p + h.table_offset + i * sizeof(s), sizeof(s));
			if (s.type != LNPU_SEC_META)
				continue;
			memcpy(&m, p + s.offset, sizeof(m));
			if (bad == 0)
				m.verify_topk = LUMEN_MAX_TOPK + 1;
			else
				m.verify_topk = 40, m.out_verify_topk = 0x7ffffff0;
			memcpy(p + s.offset, &m, sizeof(m));
			s.crc = lnpu_crc32c(0, p + s.offset, s.size);
			memcpy(p + h.table_offset + i * sizeof(s), &s, sizeof(s));
		}
		reseal(p, 4);
		CHECK(parse_copy(p, n, 0, err, sizeof(err)) == -1);
		CHECK_MSG(strstr(err, bad ? "meta.out_verify_topk" : "meta.verify_topk") != NULL,
			  "%s", err);
	}
	free(p);
	unlink(path);
}

/*
 * Q4_0 (Q8_0) matrices of whole groups of 8 rows are written as Q4_0x8
 * (Q8_0x8), the tied output projection / token table of stories260K too,
 * each group the interleaving of the rows --no-repack writes; the files
 * are the same size and every MATMUL and EMBED of every program names the
 * same offsets.
 */
static void check_interleaved(const char *gguf, uint32_t base, uint32_t r8)
{
	struct lc_options opt = default_options();
	const char *path[2];
	struct lnpu_file f[2];
	char err[512];
	unsigned int r8_ops = 0, q4_ops = 0, groups_bad = 0;

	for (int v = 0; v < 2; v++) {
		opt.no_repack = v;
		path[v] = scratch_path(v ? "plain.lnpu" : "r8.lnpu");
		REQUIRE_MSG(!compile_quiet(shared_path(gguf), NULL,
					   path[v], &opt, err, sizeof(err)), "%s", err);
		REQUIRE_MSG(!lnpu_open(&f[v], path[v], 0, err, sizeof(err)), "%s", err);
	}
	REQUIRE_EQ(f[0].weights_size, f[1].weights_size);
	for (int p = 0; p < 2; p++) {
		const struct lumen_prog_header *h[2];
		const struct lumen_op *ops[2];

		for (int v = 0; v < 2; v++) {
			h[v] = (const void *)f[v].prog[p];
			ops[v] = (const void *)(f[v].prog[p] + h[v]->header_size);
		}
		REQUIRE_EQ(h[0]->op_count, h[1]->op_count);
		for (uint32_t i = 0; i < h[0]->op_count; i++) {
			const struct lumen_tensor *a = &ops[0][i].src[0], *b = &ops[1][i].src[0];

			if (ops[0][i].opcode != LUMEN_OP_MATMUL && ops[0][i].opcode != LUMEN_OP_EMBED)
				continue;
			CHECK_EQ(a->offset, b->offset);
			CHECK(lumen_r8_base(b->dtype) == b->dtype);
			if (b->dtype != base)
				continue;
			if (a->dtype != r8) {
				q4_ops++;	/* rows not whole groups, or an untied table */
				CHECK(b->dims[1] % LUMEN_ROW_GROUP || ops[0][i].opcode == LUMEN_OP_EMBED);
				continue;
			}
			r8_ops++;
			uint64_t group = LUMEN_ROW_GROUP * b->strides[1];
			uint8_t *want = malloc(group);

			for (uint32_t g = 0; g < b->dims[1] / LUMEN_ROW_GROUP; g++) {
				lumen_repack_r8(r8, f[1].weights + b->offset + g * group,
						b->strides[1], want, b->dims[0]);
				groups_bad += memcmp(want, f[0].weights + a->offset + g * group,
						     group) != 0;
			}
			free(want);
		}
	}
	CHECK(r8_ops > 0);
	CHECK_EQ(groups_bad, 0);
	printf("# %s: %u interleaved, %u plain weight operands\n", gguf, r8_ops, q4_ops);
	for (int v = 0; v < 2; v++) {
		lnpu_close(&f[v]);
		unlink(path[v]);
	}
}

TEST(lnpu_q4_0_matrices_interleaved_unless_no_repack)
{
	check_interleaved("models/stories260K-q4_0.gguf", LUMEN_DTYPE_Q4_0, LUMEN_DTYPE_Q4_0_R8);
}

TEST(lnpu_q8_0_matrices_interleaved_unless_no_repack)
{
	check_interleaved("models/stories260K-q8_0.gguf", LUMEN_DTYPE_Q8_0, LUMEN_DTYPE_Q8_0_R8);
}

TEST(lnpu_q4_k_matrices_interleaved_unless_no_repack)
{
	check_interleaved("golden-arch/llama-ropelinear-q4_k_m.gguf", LUMEN_DTYPE_Q4_K,
			  LUMEN_DTYPE_Q4_K_R8);
}

TEST(lnpu_q5_0_matrices_interleaved_unless_no_repack)
{
	check_interleaved("golden-arch/llama32-q5_0.gguf", LUMEN_DTYPE_Q5_0, LUMEN_DTYPE_Q5_0_R8);
}

TEST(lnpu_q6_k_matrices_interleaved_unless_no_repack)
{
	check_interleaved("golden-arch/llama-ropelinear-q6_k.gguf", LUMEN_DTYPE_Q6_K,
			  LUMEN_DTYPE_Q6_K_R8);
	/* Q4_K_M keeps output, attn_v and ffn_down halves in Q6_K */
	check_interleaved("golden-arch/llama-ropelinear-q4_k_m.gguf", LUMEN_DTYPE_Q6_K,
			  LUMEN_DTYPE_Q6_K_R8);
}
