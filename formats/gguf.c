// SPDX-License-Identifier: MIT
/*
 * GGUF reader. The file is untrusted: before any count drives a loop or an
 * allocation it is bounded by the bytes left in the file, so the work done
 * is linear in the file size whatever the headers claim.
 */
#include "gguf.h"
#include "format_util.h"

#include <drm/lumen_isa.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct dtype_info {
	const char *name;
	uint32_t block;
	uint32_t size;
};

/* ggml_type numbers with their block geometry (facts of the GGUF format) */
static const struct dtype_info dtypes[] = {
	[0] = { "F32", 1, 4 },		[1] = { "F16", 1, 2 },
	[2] = { "Q4_0", 32, 18 },	[3] = { "Q4_1", 32, 20 },
	[6] = { "Q5_0", 32, 22 },	[7] = { "Q5_1", 32, 24 },
	[8] = { "Q8_0", 32, 34 },	[9] = { "Q8_1", 32, 36 },
	[10] = { "Q2_K", 256, 84 },	[11] = { "Q3_K", 256, 110 },
	[12] = { "Q4_K", 256, 144 },	[13] = { "Q5_K", 256, 176 },
	[14] = { "Q6_K", 256, 210 },	[15] = { "Q8_K", 256, 292 },
	[16] = { "IQ2_XXS", 256, 66 },	[17] = { "IQ2_XS", 256, 74 },
	[18] = { "IQ3_XXS", 256, 98 },	[19] = { "IQ1_S", 256, 50 },
	[20] = { "IQ4_NL", 32, 18 },	[21] = { "IQ3_S", 256, 110 },
	[22] = { "IQ2_S", 256, 82 },	[23] = { "IQ4_XS", 256, 136 },
	[24] = { "I8", 1, 1 },		[25] = { "I16", 1, 2 },
	[26] = { "I32", 1, 4 },		[27] = { "I64", 1, 8 },
	[28] = { "F64", 1, 8 },		[29] = { "IQ1_M", 256, 56 },
	[30] = { "BF16", 1, 2 },
};

static const char *const vtype_names[GGUF_T_COUNT] = {
	"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string",
	"array", "u64", "i64", "f64",
};

/* bytes of a scalar value; strings and arrays have a minimum instead */
static const uint8_t vtype_min_size[GGUF_T_COUNT] = {
	1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8,
};

const char *gguf_dtype_name(uint32_t type)
{
	if (type < sizeof(dtypes) / sizeof(dtypes[0]) && dtypes[type].name)
		return dtypes[type].name;
	return "unknown";
}

uint32_t gguf_dtype_block(uint32_t type)
{
	if (type < sizeof(dtypes) / sizeof(dtypes[0]))
		return dtypes[type].block;
	return 0;
}

uint32_t gguf_dtype_size(uint32_t type)
{
	if (type < sizeof(dtypes) / sizeof(dtypes[0]))
		return dtypes[type].size;
	return 0;
}

const char *gguf_vtype_name(uint32_t t)
{
	return t < GGUF_T_COUNT ? vtype_names[t] : "unknown";
}

/* A cursor over the file; errors carry the offset and the field read. */
struct rd {
	const uint8_t *p;
	uint64_t size;
	uint64_t off;
	char *err;
	size_t errlen;
	char field[160];
};

static __attribute__((format(printf, 3, 4)))
int fail_at(struct rd *r, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!r->err || !r->errlen)
		return -1;
	n = snprintf(r->err, r->errlen, "offset %llu: %s: ",
		     (unsigned long long)off, r->field);
	if (n >= 0 && (size_t)n < r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err + n, r->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static __attribute__((format(printf, 2, 3)))
void set_field(struct rd *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->field, sizeof(r->field), fmt, ap);
	va_end(ap);
}

static uint64_t left(const struct rd *r)
{
	return r->size - r->off;
}

static int need(struct rd *r, uint64_t n)
{
	if (left(r) < n)
		return fail_at(r, r->off,
			       "truncated: needs %llu bytes, file has %llu left",
			       (unsigned long long)n,
			       (unsigned long long)left(r));
	return 0;
}

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int rd_uint(struct rd *r, unsigned int n, uint64_t *v)
{
	if (need(r, n))
		return -1;
	*v = get_le(r->p + r->off, n);
	r->off += n;
	return 0;
}

static int rd_u32(struct rd *r, uint32_t *v)
{
	uint64_t x;

	if (rd_uint(r, 4, &x))
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* A string: u64 length, then that many bytes, bounded by @max. */
static int rd_str(struct rd *r, uint64_t max, struct gguf_str *s)
{
	uint64_t at = r->off, len;

	if (rd_uint(r, 8, &len))
		return -1;
	if (len > left(r))
		return fail_at(r, at,
			       "string length %llu runs past the end of the file (%llu bytes left)",
			       (unsigned long long)len,
			       (unsigned long long)left(r));
	if (len > max)
		return fail_at(r, at, "string length %llu above the limit %llu",
			       (unsigned long long)len,
			       (unsigned long long)max);
	s->ptr = (const char *)r->p + r->off;
	s->len = len;
	r->off += len;
	return 0;
}

/* Skip (validating) @n values of type @t; arrays recurse to a bounded depth. */
static int skip_values(struct rd *r, uint32_t t, uint64_t n, int depth)
{
	uint64_t at = r->off;

	if (t >= GGUF_T_COUNT)
		return fail_at(r, at, "unknown value type %u", t);
	if (n > left(r) / vtype_min_size[t])
		return fail_at(r, at,
			       "%llu values of type %s cannot fit in the %llu bytes left",
			       (unsigned long long)n, vtype_names[t],
			       (unsigned long long)left(r));
	if (t != GGUF_T_STRING && t != GGUF_T_ARRAY) {
		if (t == GGUF_T_BOOL) {
			for (uint64_t i = 0; i < n; i++)
				if (r->p[r->off + i] > 1)
					return fail_at(r, r->off + i,
						       "bool value %u is not 0 or 1",
						       r->p[r->off + i]);
		}
		r->off += n * vtype_min_size[t];
		return 0;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (t == GGUF_T_STRING) {
			struct gguf_str s;

			if (rd_str(r, UINT64_MAX, &s))
				return -1;
		} else {
			uint32_t et;
			uint64_t en, eat = r->off;

			if (depth >= GGUF_MAX_NESTING)
				return fail_at(r, eat,
					       "arrays nested deeper than %d",
					       GGUF_MAX_NESTING);
			if (rd_u32(r, &et) || rd_uint(r, 8, &en))
				return -1;
			if (skip_values(r, et, en, depth + 1))
				return -1;
		}
	}
	return 0;
}

static int read_value(struct rd *r, struct gguf_kv *kv)
{
	uint64_t at = r->off;

	kv->val_offset = at;
	switch (kv->type) {
	case GGUF_T_U8: case GGUF_T_U16: case GGUF_T_U32: case GGUF_T_U64:
	case GGUF_T_BOOL:
		if (rd_uint(r, vtype_min_size[kv->type], &kv->v.u))
			return -1;
		if (kv->type == GGUF_T_BOOL && kv->v.u > 1)
			return fail_at(r, at, "bool value %llu is not 0 or 1",
				       (unsigned long long)kv->v.u);
		return 0;
	case GGUF_T_I8: case GGUF_T_I16: case GGUF_T_I32: case GGUF_T_I64: {
		unsigned int n = vtype_min_size[kv->type];
		uint64_t u;

		if (rd_uint(r, n, &u))
			return -1;
		if (n < 8 && (u >> (8 * n - 1)))	/* sign-extend */
			u |= ~0ULL << (8 * n);
		kv->v.i = (int64_t)u;
		return 0;
	}
	case GGUF_T_F32: {
		uint64_t u;
		uint32_t b;
		float f;

		if (rd_uint(r, 4, &u))
			return -1;
		b = (uint32_t)u;
		memcpy(&f, &b, 4);
		kv->v.f = f;
		return 0;
	}
	case GGUF_T_F64: {
		uint64_t u;

		if (rd_uint(r, 8, &u))
			return -1;
		memcpy(&kv->v.f, &u, 8);
		return 0;
	}
	case GGUF_T_STRING:
		return rd_str(r, UINT64_MAX, &kv->v.s);
	case GGUF_T_ARRAY:
		if (rd_u32(r, &kv->arr_type) || rd_uint(r, 8, &kv->arr_n))
			return -1;
		kv->val_offset = r->off;
		if (kv->arr_type == GGUF_T_STRING &&
		    kv->arr_n <= left(r) / 8) {
			kv->str_offsets = malloc((kv->arr_n ? kv->arr_n : 1) *
						 sizeof(uint64_t));
			if (!kv->str_offsets)
				return fail_at(r, at, "out of memory");
			for (uint64_t i = 0; i < kv->arr_n; i++) {
				struct gguf_str s;

				kv->str_offsets[i] = r->off;
				if (rd_str(r, UINT64_MAX, &s))
					return fail_at(r, kv->str_offsets[i],
						       "element %llu: string runs past the end of the file",
						       (unsigned long long)i);
			}
			return 0;
		}
		return skip_values(r, kv->arr_type, kv->arr_n, 1);
	default:
		return fail_at(r, at - 4, "unknown value type %u", kv->type);
	}
}

/* sort helpers: qsort has no context argument, so keep the arrays here */
static const struct gguf_file *sort_file;

static int str_cmp(struct gguf_str a, struct gguf_str b)
{
	uint64_t n = a.len < b.len ? a.len : b.len;
	int c = memcmp(a.ptr, b.ptr, n);

	if (c)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

static int kv_cmp(const void *a, const void *b)
{
	return str_cmp(sort_file->kv[*(const uint32_t *)a].key,
		       sort_file->kv[*(const uint32_t *)b].key);
}

static int t_cmp(const void *a, const void *b)
{
	return str_cmp(sort_file->tensors[*(const uint32_t *)a].name,
		       sort_file->tensors[*(const uint32_t *)b].name);
}

static int t_off_cmp(const void *a, const void *b)
{
	uint64_t x = sort_file->tensors[*(const uint32_t *)a].offset;
	uint64_t y = sort_file->tensors[*(const uint32_t *)b].offset;

	return x < y ? -1 : x > y;
}

static uint32_t *sorted_index(const struct gguf_file *g, uint64_t n,
			      int (*cmp)(const void *, const void *))
{
	uint32_t *idx = malloc((n ? n : 1) * sizeof(*idx));

	if (!idx)
		return NULL;
	for (uint64_t i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	sort_file = g;
	qsort(idx, n, sizeof(*idx), cmp);
	sort_file = NULL;
	return idx;
}

static int read_header(struct rd *r, struct gguf_file *g)
{
	uint32_t magic;

	set_field(r, "header.magic");
	if (rd_u32(r, &magic))
		return -1;
	if (magic != GGUF_MAGIC)
		return fail_at(r, 0, "not a GGUF file (magic 0x%08x)", magic);
	set_field(r, "header.version");
	if (rd_u32(r, &g->version))
		return -1;
	if (g->version != 2 && g->version != 3)
		return fail_at(r, 4, "version %u not supported (2 and 3 are)",
			       g->version);
	set_field(r, "header.tensor_count");
	if (rd_uint(r, 8, &g->n_tensors))
		return -1;
	set_field(r, "header.metadata_kv_count");
	if (rd_uint(r, 8, &g->n_kv))
		return -1;
	/* a kv takes at least 8 + 4 + 1 bytes, a tensor info 8 + 4 + 8 + 4 + 8 */
	if (g->n_kv > left(r) / 13)
		return fail_at(r, 16, "%llu pairs cannot fit in the %llu bytes left",
			       (unsigned long long)g->n_kv,
			       (unsigned long long)left(r));
	set_field(r, "header.tensor_count");
	if (g->n_tensors > left(r) / 32 || g->n_tensors > UINT32_MAX)
		return fail_at(r, 8, "%llu tensors cannot fit in the %llu bytes left",
			       (unsigned long long)g->n_tensors,
			       (unsigned long long)left(r));
	return 0;
}

static int read_kvs(struct rd *r, struct gguf_file *g)
{
	g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof(*g->kv));
	if (!g->kv)
		return fail_at(r, r->off, "out of memory");
	for (uint64_t i = 0; i < g->n_kv; i++) {
		struct gguf_kv *kv = &g->kv[i];

		kv->offset = r->off;
		set_field(r, "kv[%llu].key", (unsigned long long)i);
		if (rd_str(r, 65535, &kv->key))
			return -1;
		if (kv->key.len == 0)
			return fail_at(r, kv->offset, "empty key");
		set_field(r, "kv[%llu] '%.*s'.type", (unsigned long long)i,
			  (int)(kv->key.len > 64 ? 64 : kv->key.len),
			  kv->key.ptr);
		if (rd_u32(r, &kv->type))
			return -1;
		if (kv->type >= GGUF_T_COUNT)
			return fail_at(r, r->off - 4, "unknown value type %u",
				       kv->type);
		set_field(r, "kv[%llu] '%.*s'.value", (unsigned long long)i,
			  (int)(kv->key.len > 64 ? 64 : kv->key.len),
			  kv->key.ptr);
		if (read_value(r, kv))
			return -1;
	}
	g->kv_sorted = sorted_index(g, g->n_kv, kv_cmp);
	if (!g->kv_sorted)
		return fail_at(r, r->off, "out of memory");
	for (uint64_t i = 1; i < g->n_kv; i++) {
		const struct gguf_kv *a = &g->kv[g->kv_sorted[i - 1]];
		const struct gguf_kv *b = &g->kv[g->kv_sorted[i]];

		if (!str_cmp(a->key, b->key)) {
			const struct gguf_kv *later = a->offset > b->offset ? a : b;

			set_field(r, "kv '%.*s'.key", (int)(later->key.len > 64 ?
				  64 : later->key.len), later->key.ptr);
			return fail_at(r, later->offset, "duplicate key");
		}
	}
	return 0;
}

static int read_alignment(struct rd *r, struct gguf_file *g)
{
	const struct gguf_kv *kv = gguf_find_kv(g, "general.alignment");

	g->alignment = GGUF_DEFAULT_ALIGNMENT;
	if (!kv)
		return 0;
	set_field(r, "kv 'general.alignment'.value");
	if (kv->type != GGUF_T_U32)
		return fail_at(r, kv->val_offset, "type %s, must be u32",
			       gguf_vtype_name(kv->type));
	if (kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)))
		return fail_at(r, kv->val_offset,
			       "%llu is not a power of two",
			       (unsigned long long)kv->v.u);
	g->alignment = kv->v.u;
	return 0;
}

static int read_tensor_info(struct rd *r, struct gguf_file *g, uint64_t i)
{
	struct gguf_tensor *t = &g->tensors[i];
	uint64_t at, blocks, block, tsize;

	t->info_offset = r->off;
	set_field(r, "tensor[%llu].name", (unsigned long long)i);
	if (rd_str(r, GGUF_MAX_NAME, &t->name))
		return -1;
	if (t->name.len == 0)
		return fail_at(r, t->info_offset, "empty name");
	set_field(r, "tensor[%llu] '%.*s'.n_dims", (unsigned long long)i,
		  (int)t->name.len, t->name.ptr);
	at = r->off;
	if (rd_u32(r, &t->n_dims))
		return -1;
	if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
		return fail_at(r, at, "%u dimensions (1..%d allowed)",
			       t->n_dims, GGUF_MAX_DIMS);
	t->n_elems = 1;
	for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
		t->dims[d] = 1;
		if (d >= t->n_dims)
			continue;
		set_field(r, "tensor[%llu] '%.*s'.dims[%u]",
			  (unsigned long long)i, (int)t->name.len,
			  t->name.ptr, d);
		at = r->off;
		if (rd_uint(r, 8, &t->dims[d]))
			return -1;
		if (t->dims[d] == 0 || t->dims[d] > INT64_MAX)
			return fail_at(r, at, "dimension %llu out of range",
				       (unsigned long long)t->dims[d]);
		if (__builtin_mul_overflow(t->n_elems, t->dims[d], &t->n_elems) ||
		    t->n_elems > INT64_MAX)
			return fail_at(r, at,
				       "element count overflows 63 bits");
	}
	set_field(r, "tensor[%llu] '%.*s'.type", (unsigned long long)i,
		  (int)t->name.len, t->name.ptr);
	at = r->off;
	if (rd_u32(r, &t->type))
		return -1;
	block = gguf_dtype_block(t->type);
	tsize = gguf_dtype_size(t->type);
	if (t->type == LUMEN_DTYPE_Q4_0_R8 || t->type == LUMEN_DTYPE_Q8_0_R8 ||
	    t->type == LUMEN_DTYPE_Q4_K_R8 || t->type == LUMEN_DTYPE_Q6_K_R8 ||
	    t->type == LUMEN_DTYPE_Q5_0_R8)
		return fail_at(r, at,
			       "tensor type %u is Lumen's %s, an interleaved layout lumenc writes into .lnpu files, never a GGUF type: use the model's original GGUF",
			       t->type, t->type == LUMEN_DTYPE_Q4_0_R8 ? "Q4_0x8" :
			       t->type == LUMEN_DTYPE_Q8_0_R8 ? "Q8_0x8" :
			       t->type == LUMEN_DTYPE_Q4_K_R8 ? "Q4_Kx8" :
			       t->type == LUMEN_DTYPE_Q6_K_R8 ? "Q6_Kx8" : "Q5_0x8");
	if (!block)
		return fail_at(r, at, "unknown tensor type %u", t->type);
	if (t->dims[0] % block)
		return fail_at(r, at,
			       "row of %llu elements is not a multiple of the %s block (%llu)",
			       (unsigned long long)t->dims[0],
			       gguf_dtype_name(t->type),
			       (unsigned long long)block);
	blocks = t->n_elems / block;
	if (__builtin_mul_overflow(blocks, tsize, &t->size))
		return fail_at(r, at, "byte size overflows 64 bits");
	set_field(r, "tensor[%llu] '%.*s'.offset", (unsigned long long)i,
		  (int)t->name.len, t->name.ptr);
	at = r->off;
	if (rd_uint(r, 8, &t->offset))
		return -1;
	if (t->offset % g->alignment)
		return fail_at(r, at, "data offset %llu not aligned to %llu",
			       (unsigned long long)t->offset,
			       (unsigned long long)g->alignment);
	return 0;
}

static int check_tensor_data(struct rd *r, struct gguf_file *g)
{
	uint64_t avail = r->size - g->data_offset;
	uint32_t *by_off;

	for (uint64_t i = 0; i < g->n_tensors; i++) {
		struct gguf_tensor *t = &g->tensors[i];

		/* the offset field: after name, n_dims, dims and type */
		uint64_t at = t->info_offset + 8 + t->name.len + 4 +
			      8 * (uint64_t)t->n_dims + 4;

		set_field(r, "tensor[%llu] '%.*s'.offset",
			  (unsigned long long)i, (int)t->name.len, t->name.ptr);
		if (t->offset > avail || t->size > avail - t->offset)
			return fail_at(r, at,
				       "data [%llu, +%llu) lies beyond the end of the file (data section holds %llu bytes)",
				       (unsigned long long)t->offset,
				       (unsigned long long)t->size,
				       (unsigned long long)avail);
		t->data = r->p + g->data_offset + t->offset;
	}
	by_off = sorted_index(g, g->n_tensors, t_off_cmp);
	if (!by_off)
		return fail_at(r, r->off, "out of memory");
	for (uint64_t i = 1; i < g->n_tensors; i++) {
		const struct gguf_tensor *a = &g->tensors[by_off[i - 1]];
		const struct gguf_tensor *b = &g->tensors[by_off[i]];

		if (a->offset + a->size > b->offset) {
			set_field(r, "tensor[%u] '%.*s'.offset", by_off[i],
				  (int)b->name.len, b->name.ptr);
			free(by_off);
			return fail_at(r, b->info_offset,
				       "data overlaps tensor '%.*s'",
				       (int)a->name.len, a->name.ptr);
		}
	}
	free(by_off);
	return 0;
}

static int read_tensors(struct rd *r, struct gguf_file *g)
{
	g->tensors = calloc(g->n_tensors ? g->n_tensors : 1,
			    sizeof(*g->tensors));
	if (!g->tensors)
		return fail_at(r, r->off, "out of memory");
	for (uint64_t i = 0; i < g->n_tensors; i++)
		if (read_tensor_info(r, g, i))
			return -1;
	g->t_sorted = sorted_index(g, g->n_tensors, t_cmp);
	if (!g->t_sorted)
		return fail_at(r, r->off, "out of memory");
	for (uint64_t i = 1; i < g->n_tensors; i++) {
		const struct gguf_tensor *a = &g->tensors[g->t_sorted[i - 1]];
		const struct gguf_tensor *b = &g->tensors[g->t_sorted[i]];

		if (!str_cmp(a->name, b->name)) {
			const struct gguf_tensor *later =
				a->info_offset > b->info_offset ? a : b;

			set_field(r, "tensor '%.*s'.name", (int)later->name.len,
				  later->name.ptr);
			return fail_at(r, later->info_offset, "duplicate name");
		}
	}
	/* the data section starts at the next multiple of the alignment */
	set_field(r, "data section");
	g->data_offset = (r->off + g->alignment - 1) / g->alignment *
			 g->alignment;
	if (g->n_tensors == 0) {	/* e.g. vocabulary-only files */
		if (g->data_offset > r->size)
			g->data_offset = r->size;
		return 0;
	}
	if (g->data_offset > r->size) {
		return fail_at(r, r->off,
			       "aligned start %llu lies beyond the end of the file",
			       (unsigned long long)g->data_offset);
	}
	return check_tensor_data(r, g);
}

int gguf_parse(struct gguf_file *g, const void *data, uint64_t size,
	       char *err, size_t errlen)
{
	struct rd r = { .p = data, .size = size, .err = err, .errlen = errlen };

	memset(g, 0, sizeof(*g));
	g->base = data;
	g->size = size;
	if (err && errlen)
		err[0] = 0;
	if (read_header(&r, g) || read_kvs(&r, g) || read_alignment(&r, g) ||
	    read_tensors(&r, g)) {
		gguf_close(g);
		return -1;
	}
	return 0;
}

int gguf_open(struct gguf_file *g, const char *path, char *err,
	      size_t errlen)
{
	void *map;
	uint64_t size;

	memset(g, 0, sizeof(*g));
	if (lc_map_file(path, "header.magic", &map, &size, err, errlen))
		return -1;
	if (gguf_parse(g, map, size, err, errlen)) {
		munmap(map, size);
		return -1;
	}
	g->map = map;
	g->map_size = size;
	return 0;
}

void gguf_close(struct gguf_file *g)
{
	if (g->kv)
		for (uint64_t i = 0; i < g->n_kv; i++)
			free(g->kv[i].str_offsets);
	free(g->kv);
	free(g->tensors);
	free(g->kv_sorted);
	free(g->t_sorted);
	if (g->map)
		munmap(g->map, g->map_size);
	memset(g, 0, sizeof(*g));
}

int gguf_str_eq(struct gguf_str s, const char *c)
{
	size_t n = strlen(c);

	return s.len == n && !memcmp(s.ptr, c, n);
}

const struct gguf_kv *gguf_find_kv(const struct gguf_file *g,
				   const char *key)
{
	struct gguf_str k = { key, strlen(key) };
	uint64_t lo = 0, hi = g->n_kv;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		int c = str_cmp(g->kv[g->kv_sorted[mid]].key, k);

		if (!c)
			return &g->kv[g->kv_sorted[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct gguf_tensor *gguf_find_tensor(const struct gguf_file *g,
					   const char *name)
{
	struct gguf_str k = { name, strlen(name) };
	uint64_t lo = 0, hi = g->n_tensors;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		int c = str_cmp(g->tensors[g->t_sorted[mid]].name, k);

		if (!c)
			return &g->tensors[g->t_sorted[mid]];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int gguf_get_int(const struct gguf_file *g, const char *key, int64_t *out)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);

	if (!kv)
		return -1;
	switch (kv->type) {
	case GGUF_T_U8: case GGUF_T_U16: case GGUF_T_U32: case GGUF_T_BOOL:
		*out = (int64_t)kv->v.u;
		return 0;
	case GGUF_T_U64:
		if (kv->v.u > INT64_MAX)
			return -1;
		*out = (int64_t)kv->v.u;
		return 0;
	case GGUF_T_I8: case GGUF_T_I16: case GGUF_T_I32: case GGUF_T_I64:
		*out = kv->v.i;
		return 0;
	default:
		return -1;
	}
}

int gguf_get_float(const struct gguf_file *g, const char *key, double *out)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);
	int64_t i;

	if (!kv)
		return -1;
	if (kv->type == GGUF_T_F32 || kv->type == GGUF_T_F64) {
		*out = kv->v.f;
		return 0;
	}
	if (gguf_get_int(g, key, &i))
		return -1;
	*out = (double)i;
	return 0;
}

int gguf_get_str(const struct gguf_file *g, const char *key,
		 struct gguf_str *out)
{
	const struct gguf_kv *kv = gguf_find_kv(g, key);

	if (!kv || kv->type != GGUF_T_STRING)
		return -1;
	*out = kv->v.s;
	return 0;
}

struct gguf_str gguf_arr_str(const struct gguf_file *g,
			     const struct gguf_kv *kv, uint64_t i)
{
	const uint8_t *p = g->base + kv->str_offsets[i];
	struct gguf_str s = { (const char *)p + 8, get_le(p, 8) };

	return s;
}

double gguf_arr_num(const struct gguf_file *g, const struct gguf_kv *kv,
		    uint64_t i)
{
	unsigned int n = vtype_min_size[kv->arr_type];
	const uint8_t *p = g->base + kv->val_offset + i * n;
	uint64_t u = get_le(p, n);
	uint32_t b = (uint32_t)u;
	float f;
	double d;

	switch (kv->arr_type) {
	case GGUF_T_F32:
		memcpy(&f, &b, 4);
		return f;
	case GGUF_T_F64:
		memcpy(&d, &u, 8);
		return d;
	case GGUF_T_I8: return (int8_t)u;
	case GGUF_T_I16: return (int16_t)u;
	case GGUF_T_I32: return (int32_t)u;
	case GGUF_T_I64: return (double)(int64_t)u;
	default: return (double)u;
	}
}
