/* SPDX-License-Identifier: MIT */
/*
 * A hardened reader of GGUF v2/v3 files. Every count, length, offset and
 * dimension is checked against overflow and the file size before use; an
 * error names the byte offset and the field. The parsed file points into
 * the caller's bytes (usually an mmap) and copies nothing big.
 */
#ifndef LUMENC_GGUF_H
#define LUMENC_GGUF_H

#include <stddef.h>
#include <stdint.h>

#define GGUF_MAGIC		0x46554747U	/* "GGUF" little-endian */
#define GGUF_DEFAULT_ALIGNMENT	32
#define GGUF_MAX_DIMS		4
#define GGUF_MAX_NAME		64	/* tensor names, as ggml */
#define GGUF_MAX_NESTING	16	/* arrays of arrays */

enum gguf_vtype {
	GGUF_T_U8 = 0, GGUF_T_I8 = 1, GGUF_T_U16 = 2, GGUF_T_I16 = 3,
	GGUF_T_U32 = 4, GGUF_T_I32 = 5, GGUF_T_F32 = 6, GGUF_T_BOOL = 7,
	GGUF_T_STRING = 8, GGUF_T_ARRAY = 9, GGUF_T_U64 = 10, GGUF_T_I64 = 11,
	GGUF_T_F64 = 12, GGUF_T_COUNT
};

/* A string inside the file: not NUL-terminated. */
struct gguf_str {
	const char *ptr;
	uint64_t len;
};

/**
 * struct gguf_kv - one metadata pair.
 * @offset: file offset of the key.
 * @val_offset: file offset of the value; of the first element for arrays.
 * @arr_type: element type of an array (nested arrays are validated, not
 *	exposed); @arr_n elements.
 * @str_offsets: for arrays of strings, file offset of each element.
 */
struct gguf_kv {
	struct gguf_str key;
	uint64_t offset;
	uint64_t val_offset;
	uint32_t type;
	uint32_t arr_type;
	uint64_t arr_n;
	union {
		uint64_t u;
		int64_t i;
		double f;
		struct gguf_str s;
	} v;
	uint64_t *str_offsets;
};

struct gguf_tensor {
	struct gguf_str name;
	uint64_t info_offset;	/* file offset of the tensor info */
	uint32_t n_dims;
	uint32_t type;		/* ggml type */
	uint64_t dims[GGUF_MAX_DIMS];	/* unused dims are 1 */
	uint64_t n_elems;
	uint64_t offset;	/* relative to the data section */
	uint64_t size;		/* bytes */
	const uint8_t *data;
};

struct gguf_file {
	const uint8_t *base;
	uint64_t size;
	uint32_t version;
	uint64_t n_kv;
	uint64_t n_tensors;
	uint64_t alignment;
	uint64_t data_offset;
	struct gguf_kv *kv;
	struct gguf_tensor *tensors;
	uint32_t *kv_sorted;	/* indices sorted by key, for lookups */
	uint32_t *t_sorted;	/* indices sorted by name */
	void *map;		/* set by gguf_open() */
	uint64_t map_size;
};

/* Parse @size bytes at @data (kept, not copied). 0 or -1 with @err set. */
int gguf_parse(struct gguf_file *g, const void *data, uint64_t size,
	       char *err, size_t errlen);
/* mmap @path read-only and parse it. */
int gguf_open(struct gguf_file *g, const char *path, char *err,
	      size_t errlen);
void gguf_close(struct gguf_file *g);

const struct gguf_kv *gguf_find_kv(const struct gguf_file *g,
				   const char *key);
const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *g,
					   const char *name);
int gguf_str_eq(struct gguf_str s, const char *c);

/* Scalar getters: 0 on success, -1 if missing or of a non-numeric type. */
int gguf_get_int(const struct gguf_file *g, const char *key, int64_t *out);
int gguf_get_float(const struct gguf_file *g, const char *key, double *out);
int gguf_get_str(const struct gguf_file *g, const char *key,
		 struct gguf_str *out);
/* Array element getters; the caller checks type and bounds. */
struct gguf_str gguf_arr_str(const struct gguf_file *g,
			     const struct gguf_kv *kv, uint64_t i);
double gguf_arr_num(const struct gguf_file *g, const struct gguf_kv *kv,
		    uint64_t i);

const char *gguf_vtype_name(uint32_t t);
/* ggml tensor types: name, elements per block, bytes per block (0 unknown) */
const char *gguf_dtype_name(uint32_t type);
uint32_t gguf_dtype_block(uint32_t type);
uint32_t gguf_dtype_size(uint32_t type);

#endif /* LUMENC_GGUF_H */
