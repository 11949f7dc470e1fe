// SPDX-License-Identifier: MIT
#include "gguf_writer.h"

#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "format_util.h"

static void put_str(struct lc_buf *b, const char *s, uint64_t len)
{
	lc_put_u64(b, len);
	lc_put(b, s, len);
}

void gw_init(struct gguf_writer *w)
{
	memset(w, 0, sizeof(*w));
	w->alignment = GGUF_DEFAULT_ALIGNMENT;
}

void gw_free(struct gguf_writer *w)
{
	free(w->kv.p);
	free(w->info.p);
	free(w->offsets);
	free(w->sizes);
	memset(w, 0, sizeof(*w));
}

static void key(struct gguf_writer *w, const char *k, uint32_t type)
{
	put_str(&w->kv, k, strlen(k));
	lc_put_u32(&w->kv, type);
	w->n_kv++;
}

void gw_u32(struct gguf_writer *w, const char *k, uint32_t v)
{
	key(w, k, GGUF_T_U32);
	lc_put_u32(&w->kv, v);
	if (!strcmp(k, "general.alignment"))
		w->alignment = v;
}

void gw_i32(struct gguf_writer *w, const char *k, int32_t v)
{
	key(w, k, GGUF_T_I32);
	lc_put(&w->kv, &v, 4);
}

void gw_f32(struct gguf_writer *w, const char *k, float v)
{
	key(w, k, GGUF_T_F32);
	lc_put(&w->kv, &v, 4);
}

void gw_bool(struct gguf_writer *w, const char *k, int v)
{
	uint8_t b = !!v;

	key(w, k, GGUF_T_BOOL);
	lc_put(&w->kv, &b, 1);
}

void gw_str(struct gguf_writer *w, const char *k, const char *s, size_t len)
{
	key(w, k, GGUF_T_STRING);
	put_str(&w->kv, s, len);
}

void gw_arr_str(struct gguf_writer *w, const char *k, uint64_t n,
		const char *const *s, const uint64_t *len)
{
	key(w, k, GGUF_T_ARRAY);
	lc_put_u32(&w->kv, GGUF_T_STRING);
	lc_put_u64(&w->kv, n);
	for (uint64_t i = 0; i < n; i++)
		put_str(&w->kv, s[i], len[i]);
}

void gw_arr_f32(struct gguf_writer *w, const char *k, uint64_t n,
		const float *v)
{
	key(w, k, GGUF_T_ARRAY);
	lc_put_u32(&w->kv, GGUF_T_F32);
	lc_put_u64(&w->kv, n);
	lc_put(&w->kv, v, 4 * n);
}

void gw_arr_i32(struct gguf_writer *w, const char *k, uint64_t n,
		const int32_t *v)
{
	key(w, k, GGUF_T_ARRAY);
	lc_put_u32(&w->kv, GGUF_T_I32);
	lc_put_u64(&w->kv, n);
	lc_put(&w->kv, v, 4 * n);
}

void gw_raw(struct gguf_writer *w, const char *k, const void *value,
	    size_t len)
{
	put_str(&w->kv, k, strlen(k));
	lc_put(&w->kv, value, len);
	w->n_kv++;
}

int gw_tensor(struct gguf_writer *w, const char *name, uint32_t n_dims,
	      const uint64_t *dims, uint32_t type)
{
	uint64_t n = 1, off = (w->data_size + w->alignment - 1) / w->alignment *
			      w->alignment;
	void *o = realloc(w->offsets, (w->n_tensors + 1) * sizeof(uint64_t));
	void *s = o ? realloc(w->sizes, (w->n_tensors + 1) * sizeof(uint64_t)) : NULL;

	if (o)
		w->offsets = o;
	if (!o || !s) {
		w->info.oom = 1;
		return -1;
	}
	w->sizes = s;
	put_str(&w->info, name, strlen(name));
	lc_put_u32(&w->info, n_dims);
	for (uint32_t d = 0; d < n_dims; d++) {
		lc_put_u64(&w->info, dims[d]);
		n *= dims[d];
	}
	lc_put_u32(&w->info, type);
	lc_put_u64(&w->info, off);
	w->offsets[w->n_tensors] = off;
	w->sizes[w->n_tensors] = n / gguf_dtype_block(type) * gguf_dtype_size(type);
	w->data_size = off + w->sizes[w->n_tensors];
	return (int)w->n_tensors++;
}

uint64_t gw_tensor_size(const struct gguf_writer *w, int index)
{
	return w->sizes[index];
}

static int pad(FILE *f, uint64_t n)
{
	static const uint8_t zero[64];

	while (n) {
		size_t k = n < sizeof(zero) ? n : sizeof(zero);

		if (fwrite(zero, 1, k, f) != k)
			return -1;
		n -= k;
	}
	return 0;
}

int gw_write_header(struct gguf_writer *w, FILE *f)
{
	struct lc_buf h = { 0 };
	uint64_t end;

	if (w->kv.oom || w->info.oom)
		return -1;
	lc_put_u32(&h, GGUF_MAGIC);
	lc_put_u32(&h, 3);
	lc_put_u64(&h, w->n_tensors);
	lc_put_u64(&h, w->n_kv);
	if (h.oom || fwrite(h.p, 1, h.n, f) != h.n ||
	    (w->kv.n && fwrite(w->kv.p, 1, w->kv.n, f) != w->kv.n) ||
	    (w->info.n && fwrite(w->info.p, 1, w->info.n, f) != w->info.n)) {
		free(h.p);
		return -1;
	}
	end = h.n + w->kv.n + w->info.n;
	free(h.p);
	w->written = 0;
	return pad(f, (end + w->alignment - 1) / w->alignment * w->alignment - end);
}

int gw_begin_tensor(struct gguf_writer *w, FILE *f, int index)
{
	if (index < 0 || (uint64_t)index >= w->n_tensors ||
	    w->offsets[index] < w->written)
		return -1;
	if (pad(f, w->offsets[index] - w->written))
		return -1;
	w->written = w->offsets[index] + w->sizes[index];
	return 0;
}

int gw_write_data(struct gguf_writer *w, FILE *f, int index, const void *data)
{
	if (gw_begin_tensor(w, f, index))
		return -1;
	return fwrite(data, 1, w->sizes[index], f) == w->sizes[index] ? 0 : -1;
}
