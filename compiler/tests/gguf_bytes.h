/* SPDX-License-Identifier: MIT */
/* Building GGUF files byte by byte in tests, well-formed or not. */
#ifndef LUMENC_GGUF_BYTES_H
#define LUMENC_GGUF_BYTES_H

#include <stddef.h>
#include <stdint.h>

struct bb {
	uint8_t *p;
	size_t n, cap;
};

void bb_free(struct bb *b);
size_t bb_u8(struct bb *b, uint8_t v);
size_t bb_u32(struct bb *b, uint32_t v);
size_t bb_u64(struct bb *b, uint64_t v);
size_t bb_bytes(struct bb *b, const void *d, size_t n);
size_t bb_zeros(struct bb *b, size_t n);
/* a GGUF string: u64 length then bytes; returns the offset of the length */
size_t bb_str(struct bb *b, const char *s);
void bb_align(struct bb *b, size_t a);
void bb_set_u32(struct bb *b, size_t at, uint32_t v);
void bb_set_u64(struct bb *b, size_t at, uint64_t v);

/* the header: returns its size */
size_t gguf_header(struct bb *b, uint32_t version, uint64_t n_tensors,
		   uint64_t n_kv);
/* a string pair; returns the offset of the key */
size_t kv_string(struct bb *b, const char *key, const char *val);
size_t kv_u32(struct bb *b, const char *key, uint32_t v);
/* a tensor info; returns the offset of its name */
size_t tensor_info(struct bb *b, const char *name, uint32_t n_dims,
		   const uint64_t *dims, uint32_t type, uint64_t offset);

#endif /* LUMENC_GGUF_BYTES_H */
