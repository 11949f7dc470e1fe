/* SPDX-License-Identifier: MIT */
/*
 * Writing GGUF v3 files: metadata and tensor infos are collected in
 * memory, then the header is written and the tensor data streamed in
 * order, so multi-GiB models never sit in memory.
 */
#ifndef LUMEN_GGUF_WRITER_H
#define LUMEN_GGUF_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "format_util.h"

struct gguf_writer {
	struct lc_buf kv;	/* the metadata pairs */
	struct lc_buf info;	/* the tensor infos */
	uint64_t n_kv, n_tensors;
	uint64_t data_size;	/* bytes of the data section so far */
	uint64_t alignment;
	uint64_t written;	/* data bytes streamed */
	uint64_t *offsets;	/* per tensor, in the data section */
	uint64_t *sizes;
};

void gw_init(struct gguf_writer *w);
void gw_free(struct gguf_writer *w);

void gw_u32(struct gguf_writer *w, const char *key, uint32_t v);
void gw_i32(struct gguf_writer *w, const char *key, int32_t v);
void gw_f32(struct gguf_writer *w, const char *key, float v);
void gw_bool(struct gguf_writer *w, const char *key, int v);
void gw_str(struct gguf_writer *w, const char *key, const char *s, size_t len);
/* arrays; strings given as pointers and lengths */
void gw_arr_str(struct gguf_writer *w, const char *key, uint64_t n,
		const char *const *s, const uint64_t *len);
void gw_arr_f32(struct gguf_writer *w, const char *key, uint64_t n,
		const float *v);
void gw_arr_i32(struct gguf_writer *w, const char *key, uint64_t n,
		const int32_t *v);
/* a pair whose value bytes (type first) the caller encodes */
void gw_raw(struct gguf_writer *w, const char *key, const void *value,
	    size_t len);

/* ggml @type; rows of dims[0] elements; returns the tensor index */
int gw_tensor(struct gguf_writer *w, const char *name, uint32_t n_dims,
	      const uint64_t *dims, uint32_t type);
uint64_t gw_tensor_size(const struct gguf_writer *w, int index);

/* header, metadata, infos and padding up to the data section */
int gw_write_header(struct gguf_writer *w, FILE *f);
/*
 * Tensors are written in index order: gw_begin_tensor() pads up to tensor
 * @index, then the caller writes exactly gw_tensor_size() bytes.
 */
int gw_begin_tensor(struct gguf_writer *w, FILE *f, int index);
int gw_write_data(struct gguf_writer *w, FILE *f, int index, const void *data);

#endif /* LUMEN_GGUF_WRITER_H */
