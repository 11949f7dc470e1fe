// SPDX-License-Identifier: MIT
#include "gguf_bytes.h"

#include <stdlib.h>
#include <string.h>

void bb_free(struct bb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

size_t bb_bytes(struct bb *b, const void *d, size_t n)
{
	size_t at = b->n;

	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, d, n);
	b->n += n;
	return at;
}

size_t bb_u8(struct bb *b, uint8_t v)
{
	return bb_bytes(b, &v, 1);
}

size_t bb_u32(struct bb *b, uint32_t v)
{
	return bb_bytes(b, &v, 4);
}

size_t bb_u64(struct bb *b, uint64_t v)
{
	return bb_bytes(b, &v, 8);
}

size_t bb_zeros(struct bb *b, size_t n)
{
	size_t at = b->n;

	for (size_t i = 0; i < n; i++)
		bb_u8(b, 0);
	return at;
}

size_t bb_str(struct bb *b, const char *s)
{
	size_t at = bb_u64(b, strlen(s));

	bb_bytes(b, s, strlen(s));
	return at;
}

void bb_align(struct bb *b, size_t a)
{
	while (b->n % a)
		bb_u8(b, 0);
}

void bb_set_u32(struct bb *b, size_t at, uint32_t v)
{
	memcpy(b->p + at, &v, 4);
}

void bb_set_u64(struct bb *b, size_t at, uint64_t v)
{
	memcpy(b->p + at, &v, 8);
}

size_t gguf_header(struct bb *b, uint32_t version, uint64_t n_tensors,
		   uint64_t n_kv)
{
	bb_bytes(b, "GGUF", 4);
	bb_u32(b, version);
	bb_u64(b, n_tensors);
	bb_u64(b, n_kv);
	return 24;
}

size_t kv_string(struct bb *b, const char *key, const char *val)
{
	size_t at = bb_str(b, key);

	bb_u32(b, 8);
	bb_str(b, val);
	return at;
}

size_t kv_u32(struct bb *b, const char *key, uint32_t v)
{
	size_t at = bb_str(b, key);

	bb_u32(b, 4);
	bb_u32(b, v);
	return at;
}

size_t tensor_info(struct bb *b, const char *name, uint32_t n_dims,
		   const uint64_t *dims, uint32_t type, uint64_t offset)
{
	size_t at = bb_str(b, name);

	bb_u32(b, n_dims);
	for (uint32_t i = 0; i < n_dims; i++)
		bb_u64(b, dims[i]);
	bb_u32(b, type);
	bb_u64(b, offset);
	return at;
}
