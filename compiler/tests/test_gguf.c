// SPDX-License-Identifier: MIT
/* The GGUF reader on well-formed files: the shared models and files made here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gguf_bytes.h"
#include "lumen_test.h"
#include "tutil.h"

TEST(gguf_reads_stories260K_f32)
{
	struct gguf_file g;
	const struct gguf_tensor *t;
	struct gguf_str s;
	int64_t v;
	double f;
	char err[512];

	REQUIRE_MSG(!gguf_open(&g, shared_path("models/stories260K-f32.gguf"), err,
			       sizeof(err)), "%s", err);
	CHECK_EQ(g.version, 3);
	CHECK(!gguf_get_str(&g, "general.architecture", &s) && gguf_str_eq(s, "llama"));
	CHECK(!gguf_get_int(&g, "llama.embedding_length", &v) && v == 64);
	CHECK(!gguf_get_int(&g, "llama.block_count", &v) && v == 5);
	CHECK(!gguf_get_int(&g, "llama.attention.head_count_kv", &v) && v == 4);
	CHECK(!gguf_get_float(&g, "llama.attention.layer_norm_rms_epsilon", &f) &&
	      fabs(f - 1e-5) < 1e-9);
	t = gguf_find_tensor(&g, "blk.4.ffn_down.weight");
	REQUIRE(t);
	CHECK_EQ(t->dims[0], 172);
	CHECK_EQ(t->dims[1], 64);
	CHECK_EQ(t->type, 0);
	CHECK_EQ(t->size, 172 * 64 * 4);
	CHECK_EQ(t->offset % g.alignment, 0);
	CHECK(t->data >= g.base + g.data_offset && t->data + t->size <= g.base + g.size);
	CHECK(gguf_find_tensor(&g, "blk.5.ffn_down.weight") == NULL);
	gguf_close(&g);
}

TEST(gguf_reads_every_shared_model)
{
	static const char *const files[] = {
		"models/stories260K-f16.gguf", "models/stories260K-q8_0.gguf",
		"models/stories260K-q4_0.gguf", "models/llama-2-tiny-random.gguf",
		"tokenizer/ggml-vocab-llama-spm.gguf", "tokenizer/ggml-vocab-gpt-2.gguf",
	};
	char err[512];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct gguf_file g;
		const struct gguf_kv *tok;

		CHECK_MSG(!gguf_open(&g, shared_path(files[i]), err, sizeof(err)),
			  "%s: %s", files[i], err);
		tok = gguf_find_kv(&g, "tokenizer.ggml.tokens");
		CHECK_MSG(tok && tok->arr_type == GGUF_T_STRING && tok->arr_n >= 512,
			  "%s: no vocabulary", files[i]);
		gguf_close(&g);
	}
}

TEST(gguf_quantized_types_and_sizes)
{
	struct gguf_file g;
	const struct gguf_tensor *q, *down;
	char err[512];

	REQUIRE_MSG(!gguf_open(&g, shared_path("models/stories260K-q4_0.gguf"), err,
			       sizeof(err)), "%s", err);
	q = gguf_find_tensor(&g, "blk.0.attn_q.weight");
	down = gguf_find_tensor(&g, "blk.0.ffn_down.weight");
	REQUIRE(q && down);
	CHECK_EQ(q->type, 2);
	CHECK_EQ(q->size, 64 / 32 * 18 * 64);
	CHECK_EQ(down->type, 1);	/* row of 172 is not whole blocks */
	gguf_close(&g);
}

/* every value type, nested arrays, GGUF v2, a custom alignment */
TEST(gguf_every_value_type)
{
	struct bb b = { 0 };
	struct gguf_file g;
	const struct gguf_kv *kv;
	int64_t v;
	double f;
	char err[512];
	uint8_t *copy;

	gguf_header(&b, 2, 1, 15);
	bb_str(&b, "u8"); bb_u32(&b, GGUF_T_U8); bb_u8(&b, 200);
	bb_str(&b, "i8"); bb_u32(&b, GGUF_T_I8); bb_u8(&b, 0xfe);
	bb_str(&b, "u16"); bb_u32(&b, GGUF_T_U16); bb_u8(&b, 0x34); bb_u8(&b, 0x12);
	bb_str(&b, "i16"); bb_u32(&b, GGUF_T_I16); bb_u8(&b, 0xff); bb_u8(&b, 0xff);
	bb_str(&b, "u32"); bb_u32(&b, GGUF_T_U32); bb_u32(&b, 4000000000U);
	bb_str(&b, "i32"); bb_u32(&b, GGUF_T_I32); bb_u32(&b, (uint32_t)-7);
	bb_str(&b, "f32"); bb_u32(&b, GGUF_T_F32); bb_u32(&b, 0x3fc00000U);
	bb_str(&b, "bool"); bb_u32(&b, GGUF_T_BOOL); bb_u8(&b, 1);
	bb_str(&b, "str"); bb_u32(&b, GGUF_T_STRING); bb_str(&b, "hello");
	bb_str(&b, "u64"); bb_u32(&b, GGUF_T_U64); bb_u64(&b, 1ULL << 40);
	bb_str(&b, "i64"); bb_u32(&b, GGUF_T_I64); bb_u64(&b, (uint64_t)-5);
	bb_str(&b, "f64"); bb_u32(&b, GGUF_T_F64); bb_u64(&b, 0x4004000000000000ULL);
	bb_str(&b, "nested"); bb_u32(&b, GGUF_T_ARRAY);
	bb_u32(&b, GGUF_T_ARRAY); bb_u64(&b, 2);
	bb_u32(&b, GGUF_T_STRING); bb_u64(&b, 1); bb_str(&b, "x");
	bb_u32(&b, GGUF_T_ARRAY); bb_u64(&b, 1);
	bb_u32(&b, GGUF_T_I16); bb_u64(&b, 2); bb_u32(&b, 0);
	bb_str(&b, "ints"); bb_u32(&b, GGUF_T_ARRAY); bb_u32(&b, GGUF_T_I32);
	bb_u64(&b, 3); bb_u32(&b, 1); bb_u32(&b, (uint32_t)-2); bb_u32(&b, 3);
	kv_u32(&b, "general.alignment", 64);
	tensor_info(&b, "w", 1, (const uint64_t[]){ 16 }, 1, 0);
	bb_align(&b, 64);
	bb_zeros(&b, 32);
	copy = malloc(b.n);
	memcpy(copy, b.p, b.n);
	REQUIRE_MSG(!gguf_parse(&g, copy, b.n, err, sizeof(err)), "%s", err);
	CHECK_EQ(g.version, 2);
	CHECK(!gguf_get_int(&g, "u8", &v) && v == 200);
	CHECK(!gguf_get_int(&g, "i8", &v) && v == -2);
	CHECK(!gguf_get_int(&g, "u16", &v) && v == 0x1234);
	CHECK(!gguf_get_int(&g, "i16", &v) && v == -1);
	CHECK(!gguf_get_int(&g, "u32", &v) && v == 4000000000LL);
	CHECK(!gguf_get_int(&g, "i32", &v) && v == -7);
	CHECK(!gguf_get_float(&g, "f32", &f) && f == 1.5);
	CHECK(!gguf_get_int(&g, "bool", &v) && v == 1);
	CHECK(!gguf_get_int(&g, "u64", &v) && v == 1LL << 40);
	CHECK(!gguf_get_int(&g, "i64", &v) && v == -5);
	CHECK(!gguf_get_float(&g, "f64", &f) && f == 2.5);
	kv = gguf_find_kv(&g, "str");
	CHECK(kv && gguf_str_eq(kv->v.s, "hello"));
	kv = gguf_find_kv(&g, "nested");
	CHECK(kv && kv->arr_type == GGUF_T_ARRAY && kv->arr_n == 2);
	kv = gguf_find_kv(&g, "ints");
	REQUIRE(kv && kv->arr_n == 3);
	CHECK(gguf_arr_num(&g, kv, 1) == -2);
	CHECK_EQ(g.alignment, 64);
	CHECK_EQ(g.data_offset % 64, 0);
	CHECK(gguf_find_tensor(&g, "w") != NULL);
	gguf_close(&g);
	free(copy);
	bb_free(&b);
}
