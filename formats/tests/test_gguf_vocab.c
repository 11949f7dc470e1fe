// SPDX-License-Identifier: MIT
/*
 * The one GGUF -> vocabulary extraction: its defaults (llama.cpp's), the
 * flags it must carry (add_space_prefix was once dropped on the way to
 * .lnpu), and errors that name the offset and the field.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"
#include "gguf_vocab.h"
#include "gguf_writer.h"
#include "lumen_test.h"

enum { FLAG_ABSENT = -1 };

struct vocab_spec {
	const char *model;
	int add_space_prefix;	/* 0, 1 or FLAG_ABSENT */
	int add_bos;		/* 0, 1 or FLAG_ABSENT */
	uint32_t n_scores;	/* scores written (normally 3) */
	const char *pre;	/* tokenizer.ggml.pre, NULL: absent */
	const char *chat_template;	/* NULL: absent */
};

static const char *const words[] = { "<unk>", "\xe2\x96\x81hi", "a b" };

/* a GGUF file with only tokenizer metadata, in a temporary file */
static FILE *write_vocab(const struct vocab_spec *s)
{
	struct gguf_writer w;
	uint64_t lens[3];
	float scores[3] = { 0.0f, -1.0f, -2.0f };
	FILE *f = tmpfile();

	if (!f)
		return NULL;
	for (int i = 0; i < 3; i++)
		lens[i] = strlen(words[i]);
	gw_init(&w);
	gw_str(&w, "tokenizer.ggml.model", s->model, strlen(s->model));
	gw_arr_str(&w, "tokenizer.ggml.tokens", 3, words, lens);
	gw_arr_f32(&w, "tokenizer.ggml.scores", s->n_scores, scores);
	gw_u32(&w, "tokenizer.ggml.bos_token_id", 1);
	gw_u32(&w, "tokenizer.ggml.eos_token_id", 7);	/* out of range */
	if (s->add_space_prefix != FLAG_ABSENT)
		gw_bool(&w, "tokenizer.ggml.add_space_prefix", s->add_space_prefix);
	if (s->add_bos != FLAG_ABSENT)
		gw_bool(&w, "tokenizer.ggml.add_bos_token", s->add_bos);
	if (s->pre)
		gw_str(&w, "tokenizer.ggml.pre", s->pre, strlen(s->pre));
	if (s->chat_template)
		gw_str(&w, "tokenizer.chat_template", s->chat_template,
		       strlen(s->chat_template));
	if (gw_write_header(&w, f)) {
		fclose(f);
		f = NULL;
	}
	gw_free(&w);
	if (f)
		fflush(f);
	return f;
}

static int read_spec(const struct vocab_spec *s, struct gguf_vocab *v,
		     struct gguf_file *g, char *err, size_t errlen)
{
	FILE *f = write_vocab(s);
	char path[64];
	int rc;

	if (!f)
		return -2;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fileno(f));
	rc = gguf_open(g, path, err, errlen);
	fclose(f);
	if (rc)
		return -2;
	rc = gguf_vocab_read(v, g, 0, err, errlen);
	return rc;
}

TEST(gguf_vocab_spm_defaults_follow_llama_cpp)
{
	struct vocab_spec s = { "llama", FLAG_ABSENT, FLAG_ABSENT, 3, NULL, NULL };
	struct gguf_vocab v;
	struct gguf_file g;
	char err[256];

	REQUIRE_MSG(!read_spec(&s, &v, &g, err, sizeof(err)), "%s", err);
	CHECK_EQ(v.n_tokens, 3);
	CHECK(v.add_space_prefix);
	CHECK(v.add_bos);
	CHECK(!v.add_eos);
	CHECK_EQ(v.bos, 1);
	CHECK_EQ(v.eos, -1);	/* an id past the vocabulary is no id */
	CHECK_EQ(v.types[2], 1);	/* no token_type: normal */
	CHECK(v.scores[1] == -1.0f);
	CHECK(v.tokens[1].len == 5 && !memcmp(v.tokens[1].ptr, words[1], 5));
	gguf_vocab_free(&v);
	gguf_close(&g);
}

TEST(gguf_vocab_keeps_add_space_prefix_false)
{
	struct vocab_spec s = { "llama", 0, 0, 3, NULL, NULL };
	struct gguf_vocab v;
	struct gguf_file g;
	char err[256];

	REQUIRE_MSG(!read_spec(&s, &v, &g, err, sizeof(err)), "%s", err);
	CHECK(!v.add_space_prefix);
	CHECK(!v.add_bos);
	gguf_vocab_free(&v);
	gguf_close(&g);
}

TEST(gguf_vocab_bpe_has_no_space_prefix_by_default)
{
	struct vocab_spec s = { "gpt2", FLAG_ABSENT, FLAG_ABSENT, 3, NULL, NULL };
	struct gguf_vocab v;
	struct gguf_file g;
	char err[256];

	REQUIRE_MSG(!read_spec(&s, &v, &g, err, sizeof(err)), "%s", err);
	CHECK(!v.add_space_prefix);
	CHECK(!v.add_bos);
	gguf_vocab_free(&v);
	gguf_close(&g);
}

/* llama.cpp adds BOS for Llama 3's pre-tokenizer when the key is absent */
TEST(gguf_vocab_llama3_bpe_wants_bos_by_default)
{
	struct vocab_spec s = { "gpt2", FLAG_ABSENT, FLAG_ABSENT, 3, "llama-bpe",
				NULL };
	struct vocab_spec no = { "gpt2", FLAG_ABSENT, 0, 3, "llama-bpe", NULL };
	struct vocab_spec qwen = { "gpt2", FLAG_ABSENT, FLAG_ABSENT, 3, "qwen2",
				   NULL };
	struct gguf_vocab v;
	struct gguf_file g;
	char err[256];

	REQUIRE_MSG(!read_spec(&s, &v, &g, err, sizeof(err)), "%s", err);
	CHECK(v.add_bos);
	gguf_vocab_free(&v);
	gguf_close(&g);
	REQUIRE_MSG(!read_spec(&no, &v, &g, err, sizeof(err)), "%s", err);
	CHECK(!v.add_bos);	/* the key wins */
	gguf_vocab_free(&v);
	gguf_close(&g);
	REQUIRE_MSG(!read_spec(&qwen, &v, &g, err, sizeof(err)), "%s", err);
	CHECK(!v.add_bos);
	gguf_vocab_free(&v);
	gguf_close(&g);
}

TEST(gguf_vocab_reads_the_chat_template)
{
	struct vocab_spec s = { "gpt2", FLAG_ABSENT, FLAG_ABSENT, 3, NULL,
				"{{ '<|im_start|>' }}" };
	struct vocab_spec none = { "gpt2", FLAG_ABSENT, FLAG_ABSENT, 3, NULL,
				   NULL };
	struct gguf_vocab v;
	struct gguf_file g;
	char err[256];

	REQUIRE_MSG(!read_spec(&s, &v, &g, err, sizeof(err)), "%s", err);
	CHECK(v.chat_template.len == 20 &&
	      !memcmp(v.chat_template.ptr, "{{ '<|im_start|>' }}", 20));
	gguf_vocab_free(&v);
	gguf_close(&g);
	REQUIRE_MSG(!read_spec(&none, &v, &g, err, sizeof(err)), "%s", err);
	CHECK_EQ(v.chat_template.len, 0);
	gguf_vocab_free(&v);
	gguf_close(&g);
}

TEST(gguf_vocab_errors_name_offset_and_field)
{
	struct vocab_spec scores = { "llama", FLAG_ABSENT, FLAG_ABSENT, 2, NULL, NULL };
	struct vocab_spec model = { "bert", FLAG_ABSENT, FLAG_ABSENT, 3, NULL, NULL };
	struct gguf_vocab v;
	struct gguf_file g;
	char err[256];

	REQUIRE_EQ(read_spec(&scores, &v, &g, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "offset ") && strstr(err, "tokenizer.ggml.scores"),
		  "%s", err);
	gguf_vocab_free(&v);
	gguf_close(&g);
	REQUIRE_EQ(read_spec(&model, &v, &g, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "tokenizer.ggml.model") && strstr(err, "not supported"),
		  "%s", err);
	gguf_vocab_free(&v);
	gguf_close(&g);
}

/* a BPE pre-tokenizer the runtime lacks is refused, by name */
TEST(gguf_vocab_refuses_unimplemented_bpe_pre_tokenizers)
{
	struct gguf_vocab v = { .model = "gpt2", .pre = "gpt-2" };
	char err[512];

	CHECK_EQ(gguf_vocab_check_supported(&v, err, sizeof(err)), 0);
	/* Llama 3's, Qwen 2's, Gemma's BPE form are implemented */
	static const char *const ok[] = {
		"llama-bpe", "qwen2", "deepseek-coder", "smollm", "gemma4", "",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(v.pre, sizeof(v.pre), "%s", ok[i]);
		CHECK_MSG(!gguf_vocab_check_supported(&v, err, sizeof(err)), "%s", err);
	}
	snprintf(v.pre, sizeof(v.pre), "%s", "tekken");
	REQUIRE_EQ(gguf_vocab_check_supported(&v, err, sizeof(err)), -1);
	CHECK_MSG(strstr(err, "tokenizer.ggml.pre") && strstr(err, "'tekken'") &&
		  strstr(err, "'gpt-2'") && strstr(err, "'granite-embed-multi-311m'"),
		  "%s", err);
	/* SentencePiece has no pre-tokenizer to get wrong */
	snprintf(v.model, sizeof(v.model), "%s", "llama");
	CHECK_EQ(gguf_vocab_check_supported(&v, err, sizeof(err)), 0);
}

int main(int c, char **v)
{
	return lumen_test_main(c, v);
}
