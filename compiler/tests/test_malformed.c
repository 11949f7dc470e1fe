// SPDX-License-Identifier: MIT
/*
 * Malformed GGUF files, made here byte by byte: each must be rejected with
 * an error that names the byte offset and the field, without a crash or an
 * out-of-bounds read (the suite also runs under ASan/UBSan, and every file
 * is parsed from a heap block of exactly its size).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gguf_bytes.h"
#include <drm/lumen_isa.h>
#include "lumen_test.h"

/* a valid file: two pairs, one F32 tensor [32, 2]; offsets of its fields */
struct base {
	struct bb b;
	size_t key0, type0, val0, key1, val1;
	size_t t0, t0_ndims, t0_dims, t0_type, t0_off, data;
};

static void build_base(struct base *x)
{
	memset(x, 0, sizeof(*x));
	gguf_header(&x->b, 3, 1, 2);
	x->key0 = kv_string(&x->b, "general.architecture", "llama");
	x->type0 = x->key0 + 8 + strlen("general.architecture");
	x->val0 = x->type0 + 4;
	x->key1 = kv_u32(&x->b, "general.alignment", 32);
	x->val1 = x->key1 + 8 + strlen("general.alignment") + 4;
	x->t0 = tensor_info(&x->b, "t", 2, (const uint64_t[]){ 32, 2 }, 0, 0);
	x->t0_ndims = x->t0 + 8 + 1;
	x->t0_dims = x->t0_ndims + 4;
	x->t0_type = x->t0_dims + 16;
	x->t0_off = x->t0_type + 4;
	bb_align(&x->b, 32);
	x->data = x->b.n;
	bb_zeros(&x->b, 32 * 2 * 4);
}

/* parse @n bytes from an exact-size heap copy; 0 when accepted */
static int parse(const uint8_t *p, size_t n, char *err, size_t errlen)
{
	struct gguf_file g;
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	memcpy(copy, p, n);
	rc = gguf_parse(&g, copy, n, err, errlen);
	if (!rc)
		gguf_close(&g);
	free(copy);
	return rc;
}

static void expect_reject(const uint8_t *p, size_t n, size_t offset,
			  const char *field)
{
	char err[512], want[64];

	CHECK_MSG(parse(p, n, err, sizeof(err)) == -1, "accepted a malformed file");
	snprintf(want, sizeof(want), "offset %zu: ", offset);
	CHECK_MSG(!strncmp(err, want, strlen(want)),
		  "error '%s' does not start with '%s'", err, want);
	CHECK_MSG(strstr(err, field) != NULL, "error '%s' does not name '%s'",
		  err, field);
	fprintf(stderr, "# %s\n", err);
}

TEST(gguf_base_file_parses)
{
	struct base x;
	char err[512];

	build_base(&x);
	CHECK_MSG(!parse(x.b.p, x.b.n, err, sizeof(err)), "%s", err);
	bb_free(&x.b);
}

TEST(gguf_reject_empty)
{
	expect_reject((const uint8_t *)"", 0, 0, "header.magic");
}

TEST(gguf_reject_truncated_header)
{
	struct base x;

	build_base(&x);
	expect_reject(x.b.p, 12, 8, "header.tensor_count");
	bb_free(&x.b);
}

TEST(gguf_reject_bad_magic)
{
	struct base x;

	build_base(&x);
	memcpy(x.b.p, "GGML", 4);
	expect_reject(x.b.p, x.b.n, 0, "header.magic");
	bb_free(&x.b);
}

TEST(gguf_reject_version_1_and_4)
{
	struct base x;

	build_base(&x);
	bb_set_u32(&x.b, 4, 1);
	expect_reject(x.b.p, x.b.n, 4, "header.version");
	bb_set_u32(&x.b, 4, 4);
	expect_reject(x.b.p, x.b.n, 4, "header.version");
	bb_free(&x.b);
}

TEST(gguf_reject_huge_tensor_count)
{
	struct base x;

	build_base(&x);
	bb_set_u64(&x.b, 8, 1ULL << 62);
	expect_reject(x.b.p, x.b.n, 8, "header.tensor_count");
	bb_free(&x.b);
}

TEST(gguf_reject_huge_kv_count)
{
	struct base x;

	build_base(&x);
	bb_set_u64(&x.b, 16, UINT64_MAX);
	expect_reject(x.b.p, x.b.n, 16, "header.metadata_kv_count");
	bb_free(&x.b);
}

TEST(gguf_reject_key_past_eof)
{
	struct base x;

	build_base(&x);
	bb_set_u64(&x.b, x.key0, 1ULL << 40);
	expect_reject(x.b.p, x.b.n, x.key0, "kv[0].key");
	bb_free(&x.b);
}

TEST(gguf_reject_unknown_value_type)
{
	struct base x;

	build_base(&x);
	bb_set_u32(&x.b, x.type0, 13);
	expect_reject(x.b.p, x.b.n, x.type0, "'general.architecture'.type");
	bb_free(&x.b);
}

TEST(gguf_reject_string_value_past_eof)
{
	struct base x;

	build_base(&x);
	bb_set_u64(&x.b, x.val0, x.b.n);	/* one byte too many, at least */
	expect_reject(x.b.p, x.b.n, x.val0, "'general.architecture'.value");
	bb_free(&x.b);
}

TEST(gguf_reject_truncated_in_tensor_info)
{
	struct base x;

	build_base(&x);
	expect_reject(x.b.p, x.t0_type + 2, x.t0_type, "'t'.type");
	bb_free(&x.b);
}

/* an array of 2^40 empty arrays: 12 bytes each would be needed */
TEST(gguf_reject_nested_array_bomb)
{
	struct bb b = { 0 };
	size_t key, arr;

	gguf_header(&b, 3, 0, 1);
	key = bb_str(&b, "bomb");
	bb_u32(&b, GGUF_T_ARRAY);
	bb_u32(&b, GGUF_T_ARRAY);
	bb_u64(&b, 1ULL << 40);
	arr = b.n;
	for (int i = 0; i < 4; i++) {
		bb_u32(&b, GGUF_T_U8);
		bb_u64(&b, 0);
	}
	(void)key;
	expect_reject(b.p, b.n, arr, "'bomb'.value");
	bb_free(&b);
}

TEST(gguf_reject_arrays_nested_too_deep)
{
	struct bb b = { 0 };
	size_t first = 0;

	gguf_header(&b, 3, 0, 1);
	bb_str(&b, "deep");
	bb_u32(&b, GGUF_T_ARRAY);
	for (int i = 0; i < 40; i++) {
		size_t at = bb_u32(&b, GGUF_T_ARRAY);

		bb_u64(&b, 1);
		if (i == GGUF_MAX_NESTING)
			first = at;
	}
	bb_u32(&b, GGUF_T_U8);
	bb_u64(&b, 0);
	expect_reject(b.p, b.n, first, "nested deeper");
	bb_free(&b);
}

TEST(gguf_reject_string_array_past_eof)
{
	struct bb b = { 0 };
	size_t second;

	gguf_header(&b, 3, 0, 1);
	bb_str(&b, "tokenizer.ggml.tokens");
	bb_u32(&b, GGUF_T_ARRAY);
	bb_u32(&b, GGUF_T_STRING);
	bb_u64(&b, 2);
	bb_str(&b, "a");
	second = bb_u64(&b, 1000);
	bb_bytes(&b, "bc", 2);
	expect_reject(b.p, b.n, second, "element 1");
	bb_free(&b);
}

TEST(gguf_reject_bad_bool)
{
	struct bb b = { 0 };
	size_t val;

	gguf_header(&b, 3, 0, 1);
	bb_str(&b, "flag");
	bb_u32(&b, GGUF_T_BOOL);
	val = bb_u8(&b, 2);
	expect_reject(b.p, b.n, val, "'flag'.value");
	bb_free(&b);
}

TEST(gguf_reject_alignment_not_power_of_two)
{
	struct base x;

	build_base(&x);
	bb_set_u32(&x.b, x.val1, 24);
	expect_reject(x.b.p, x.b.n, x.val1, "general.alignment");
	bb_set_u32(&x.b, x.val1, 0);
	expect_reject(x.b.p, x.b.n, x.val1, "general.alignment");
	bb_free(&x.b);
}

TEST(gguf_reject_alignment_wrong_type)
{
	struct base x;

	build_base(&x);
	bb_set_u32(&x.b, x.val1 - 4, GGUF_T_I32);
	expect_reject(x.b.p, x.b.n, x.val1, "general.alignment");
	bb_free(&x.b);
}

TEST(gguf_reject_duplicate_key)
{
	struct bb b = { 0 };
	size_t second;

	gguf_header(&b, 3, 0, 2);
	kv_u32(&b, "llama.block_count", 1);
	second = kv_u32(&b, "llama.block_count", 2);
	expect_reject(b.p, b.n, second, "duplicate key");
	bb_free(&b);
}

TEST(gguf_reject_bad_n_dims)
{
	struct base x;

	build_base(&x);
	bb_set_u32(&x.b, x.t0_ndims, 0);
	expect_reject(x.b.p, x.b.n, x.t0_ndims, "'t'.n_dims");
	bb_set_u32(&x.b, x.t0_ndims, 5);
	expect_reject(x.b.p, x.b.n, x.t0_ndims, "'t'.n_dims");
	bb_free(&x.b);
}

TEST(gguf_reject_zero_dim)
{
	struct base x;

	build_base(&x);
	bb_set_u64(&x.b, x.t0_dims + 8, 0);
	expect_reject(x.b.p, x.b.n, x.t0_dims + 8, "'t'.dims[1]");
	bb_free(&x.b);
}

TEST(gguf_reject_overflowing_dims)
{
	struct bb b = { 0 };
	size_t t;

	gguf_header(&b, 3, 1, 0);
	t = tensor_info(&b, "big", 3, (const uint64_t[]){ 1ULL << 40, 1ULL << 30,
			2 }, 0, 0);
	bb_align(&b, 32);
	/* dims[1] is where the element count leaves 63 bits */
	expect_reject(b.p, b.n, t + 8 + 3 + 4 + 8, "'big'.dims[1]");
	bb_free(&b);
}

TEST(gguf_reject_byte_size_overflow)
{
	struct bb b = { 0 };
	size_t t;

	gguf_header(&b, 3, 1, 0);
	t = tensor_info(&b, "wide", 2, (const uint64_t[]){ 1ULL << 31, 1ULL << 31 },
			0, 0);
	bb_align(&b, 32);
	expect_reject(b.p, b.n, t + 8 + 4 + 4 + 16, "'wide'");	/* at .type */
	bb_free(&b);
}

TEST(gguf_reject_unknown_dtype)
{
	struct base x;

	build_base(&x);
	bb_set_u32(&x.b, x.t0_type, 99);
	expect_reject(x.b.p, x.b.n, x.t0_type, "'t'.type");
	bb_set_u32(&x.b, x.t0_type, 4);	/* Q4_2, removed from ggml */
	expect_reject(x.b.p, x.b.n, x.t0_type, "'t'.type");
	bb_free(&x.b);
}

/* Lumen's interleaved Q4_0x8 and Q8_0x8 live in .lnpu files only: refused by name */
TEST(gguf_reject_lumens_own_interleaved_types)
{
	struct base x;

	build_base(&x);
	bb_set_u32(&x.b, x.t0_type, LUMEN_DTYPE_Q4_0_R8);
	expect_reject(x.b.p, x.b.n, x.t0_type, "'t'.type");
	expect_reject(x.b.p, x.b.n, x.t0_type, "Q4_0x8");
	bb_set_u32(&x.b, x.t0_type, LUMEN_DTYPE_Q8_0_R8);
	expect_reject(x.b.p, x.b.n, x.t0_type, "Q8_0x8");
	bb_set_u32(&x.b, x.t0_type, LUMEN_DTYPE_Q4_K_R8);
	expect_reject(x.b.p, x.b.n, x.t0_type, "Q4_Kx8");
	bb_set_u32(&x.b, x.t0_type, LUMEN_DTYPE_Q6_K_R8);
	expect_reject(x.b.p, x.b.n, x.t0_type, "Q6_Kx8");
	bb_set_u32(&x.b, x.t0_type, LUMEN_DTYPE_Q5_0_R8);
	expect_reject(x.b.p, x.b.n, x.t0_type, "Q5_0x8");
	bb_free(&x.b);
}

TEST(gguf_reject_row_not_whole_blocks)
{
	struct base x;

	build_base(&x);
	bb_set_u64(&x.b, x.t0_dims, 33);
	bb_set_u32(&x.b, x.t0_type, 8);	/* Q8_0 */
	expect_reject(x.b.p, x.b.n, x.t0_type, "block");
	bb_free(&x.b);
}

TEST(gguf_reject_misaligned_offset)
{
	struct base x;

	build_base(&x);
	bb_set_u64(&x.b, x.t0_off, 4);
	expect_reject(x.b.p, x.b.n, x.t0_off, "'t'.offset");
	bb_free(&x.b);
}

TEST(gguf_reject_data_beyond_eof)
{
	struct base x;

	build_base(&x);
	bb_set_u64(&x.b, x.t0_off, 1 << 20);
	expect_reject(x.b.p, x.b.n, x.t0_off, "beyond the end");
	/* the file cut inside the tensor's data */
	bb_set_u64(&x.b, x.t0_off, 0);
	expect_reject(x.b.p, x.data + 100, x.t0_off, "beyond the end");
	bb_free(&x.b);
}

TEST(gguf_reject_offset_overflow)
{
	struct base x;

	build_base(&x);
	bb_set_u64(&x.b, x.t0_off, UINT64_MAX - 31);
	expect_reject(x.b.p, x.b.n, x.t0_off, "'t'.offset");
	bb_free(&x.b);
}

TEST(gguf_reject_duplicate_tensor_names)
{
	struct bb b = { 0 };
	size_t second;

	gguf_header(&b, 3, 2, 0);
	tensor_info(&b, "w", 1, (const uint64_t[]){ 8 }, 0, 0);
	second = tensor_info(&b, "w", 1, (const uint64_t[]){ 8 }, 0, 32);
	bb_align(&b, 32);
	bb_zeros(&b, 64);
	expect_reject(b.p, b.n, second, "duplicate name");
	bb_free(&b);
}

TEST(gguf_reject_overlapping_tensors)
{
	struct bb b = { 0 };
	size_t second;

	gguf_header(&b, 3, 2, 0);
	tensor_info(&b, "a", 1, (const uint64_t[]){ 16 }, 0, 0);
	second = tensor_info(&b, "b", 1, (const uint64_t[]){ 16 }, 0, 32);
	bb_align(&b, 32);
	bb_zeros(&b, 128);
	expect_reject(b.p, b.n, second, "overlaps");
	bb_free(&b);
}

TEST(gguf_reject_long_tensor_name)
{
	struct bb b = { 0 };
	char name[101];

	memset(name, 'x', 100);
	name[100] = 0;
	gguf_header(&b, 3, 1, 0);
	tensor_info(&b, name, 1, (const uint64_t[]){ 8 }, 0, 0);
	bb_align(&b, 32);
	bb_zeros(&b, 32);
	expect_reject(b.p, b.n, 24, "tensor[0].name");
	bb_free(&b);
}

TEST(gguf_reject_every_truncation)
{
	struct base x;
	char err[512];
	unsigned int rejected = 0;

	build_base(&x);
	/* every proper prefix is malformed; each error names an offset */
	for (size_t n = 0; n < x.b.n; n++) {
		if (parse(x.b.p, n, err, sizeof(err)) == -1 &&
		    !strncmp(err, "offset ", 7))
			rejected++;
	}
	CHECK_EQ(rejected, x.b.n);
	bb_free(&x.b);
}
