// SPDX-License-Identifier: MIT
#include "synth.h"

#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"
#include "gguf_vocab.h"
#include "gguf_writer.h"
#include "lumen_dtype.h"
#include "format_util.h"

/*
 * Shapes of the real models (hidden sizes, heads, vocabularies, RoPE
 * bases, from their config.json), each in its own architecture.
 */
const struct synth_shape synth_shapes[] = {
	{ "stories260K", 64, 5, 8, 4, 172, 512, 512, 10000.0f, 0,
	  .arch = "llama" },
	{ "stories15M", 288, 6, 6, 6, 768, 32000, 256, 10000.0f, 0,
	  .arch = "llama" },
	{ "stories110M", 768, 12, 12, 12, 2048, 32000, 1024, 10000.0f, 0,
	  .arch = "llama" },
	{ "SmolLM2-135M", 576, 30, 9, 3, 1536, 49152, 8192, 100000.0f, 1,
	  .arch = "llama" },
	{ "SmolLM2-360M", 960, 32, 15, 5, 2560, 49152, 8192, 100000.0f, 1,
	  .arch = "llama" },
	{ "Qwen2.5-0.5B", 896, 24, 14, 2, 4864, 151936, 32768, 1000000.0f, 1,
	  .arch = "qwen2" },
	{ "Qwen3-0.6B", 1024, 28, 16, 8, 3072, 151936, 40960, 1000000.0f, 1,
	  .arch = "qwen3", .head_dim = 128 },
	{ "Gemma-3-270M", 640, 18, 4, 1, 2048, 262144, 32768, 1000000.0f, 1,
	  .arch = "gemma3", .head_dim = 256, .window = 512, .pattern = 6 },
	{ "Gemma-3-1B", 1152, 26, 4, 1, 6912, 262144, 32768, 1000000.0f, 1,
	  .arch = "gemma3", .head_dim = 256, .window = 512, .pattern = 6 },
	{ "Llama-3.2-1B", 2048, 16, 32, 8, 8192, 128256, 131072, 500000.0f, 1,
	  .llama3_rope = 1 },
	{ "Phi-3-mini", 3072, 32, 32, 32, 8192, 32064, 4096, 10000.0f, 0,
	  .arch = "phi3" },
};
const unsigned int synth_shape_count = sizeof(synth_shapes) / sizeof(synth_shapes[0]);

const struct synth_shape *synth_find(const char *name)
{
	for (unsigned int i = 0; i < synth_shape_count; i++)
		if (!strcmp(synth_shapes[i].name, name))
			return &synth_shapes[i];
	return NULL;
}

/* splitmix64: one independent stream per tensor */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [-a, a] */
static float uniform(uint64_t *s, float a)
{
	return ((float)(next(s) >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f) * a;
}

enum content { RANDOM, ONES, LLAMA3_ROPE };

struct tensor_plan {
	char name[64];
	uint64_t dims[2];
	uint32_t n_dims;
	uint32_t type;
	float scale;		/* uniform bound of RANDOM */
	enum content content;
};

static const char *arch_of(const struct synth_shape *s)
{
	return s->arch ? s->arch : "llama";
}

static uint64_t head_dim(const struct synth_shape *s)
{
	return s->head_dim ? s->head_dim : s->n_embd / s->n_head;
}

static const struct {
	const char *name;
	uint32_t type;
} type_names[] = {
	{ "f16", 1 }, { "bf16", 30 }, { "q8_0", 8 }, { "q4_0", 2 },
	{ "q4_1", 3 }, { "q5_0", 6 }, { "q5_1", 7 }, { "q4_k", 12 },
	{ "q5_k", 13 }, { "q6_k", 14 }, { "q4_k_m", SYNTH_MIX_Q4_K_M },
	{ "q5_k_m", SYNTH_MIX_Q5_K_M }, { "q6_k_mix", SYNTH_MIX_Q6_K },
	{ "q4_0_mix", SYNTH_MIX_Q4_0 },
};

const char *const synth_type_names[] = {
	"f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q5_k",
	"q6_k", "q4_k_m", "q5_k_m", "q6_k_mix", "q4_0_mix", NULL,
};

static int type_known(uint32_t type)
{
	if (type == 0)
		return 1;	/* F32 */
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == type)
			return 1;
	return 0;
}

uint32_t synth_type_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (!strcmp(type_names[i].name, name))
			return type_names[i].type;
	return 0;
}

/* what a matrix becomes when its rows do not fit the type's blocks */
static uint32_t fallback(uint32_t type, uint64_t row)
{
	uint32_t block = type == 12 || type == 13 || type == 14 ? 256 :
			 type == 1 || type == 30 || type == 0 ? 1 : 32;

	if (row % block == 0)
		return type;
	switch (type) {
	case 12: return fallback(6, row);	/* Q4_K -> Q5_0 */
	case 13: return fallback(7, row);	/* Q5_K -> Q5_1 */
	case 14: return fallback(8, row);	/* Q6_K -> Q8_0 */
	default: return 1;			/* as GGUF files do: F16 */
	}
}

/* llama-quantize's use_more_bits(): first and last eighth, every third */
static int more_bits(uint32_t layer, uint32_t n_layer)
{
	return layer < n_layer / 8 || layer >= 7 * n_layer / 8 ||
	       (layer - n_layer / 8) % 3 == 2;
}

enum role { ROLE_OTHER, ROLE_OUTPUT, ROLE_ATTN_V, ROLE_FFN_DOWN };

static uint32_t matrix_type(uint32_t type, uint64_t row, enum role role,
			    uint32_t layer, uint32_t n_layer)
{
	uint32_t base = type;

	switch (type) {
	case SYNTH_MIX_Q4_K_M:
	case SYNTH_MIX_Q5_K_M:
		base = type == SYNTH_MIX_Q4_K_M ? 12 : 13;
		if (role == ROLE_OUTPUT ||
		    ((role == ROLE_ATTN_V || role == ROLE_FFN_DOWN) &&
		     more_bits(layer, n_layer)))
			base = 14;
		break;
	case SYNTH_MIX_Q6_K:
		base = 14;
		break;
	case SYNTH_MIX_Q4_0:
		base = role == ROLE_OUTPUT ? 14 : 2;
		break;
	}
	return fallback(base, row);
}

static int plan(const struct synth_shape *s, uint32_t type,
		struct tensor_plan **out)
{
	const char *arch = arch_of(s);
	int qwen2 = !strcmp(arch, "qwen2"), gemma = !strcmp(arch, "gemma3");
	int qk_norm = gemma || !strcmp(arch, "qwen3"), phi3 = !strcmp(arch, "phi3");
	uint64_t d = s->n_embd, hd = head_dim(s);
	uint64_t q = s->n_head * hd, kv = s->n_head_kv * hd, ff = s->n_ff;
	struct tensor_plan *p = calloc(4 + 16 * (size_t)s->n_layer, sizeof(*p));
	int n = 0;

	if (!p)
		return -1;
	enum role role = ROLE_OTHER;
	uint32_t layer = 0;
#define ADD(nm, d0, d1, sc, what) do {					\
		snprintf(p[n].name, sizeof(p[n].name), "%s", nm);	\
		p[n].dims[0] = d0;					\
		p[n].dims[1] = d1;					\
		p[n].n_dims = (d1) > 1 ? 2 : 1;				\
		p[n].type = (d1) > 1 ? matrix_type(type, d0, role, layer, \
						    s->n_layer) : 0;	\
		p[n].scale = sc;					\
		p[n].content = what;					\
		n++;							\
	} while (0)
	/* std 1/sqrt(fan-in) keeps activations O(1) through the layers */
#define FAN(k) (sqrtf(3.0f / (float)(k)))
#define LAYER(suffix, d0, d1, sc, what) do {				\
		snprintf(nm, sizeof(nm), "blk.%u.%s", l, suffix);	\
		ADD(nm, d0, d1, sc, what);				\
	} while (0)
	/* a tied embedding is the output matrix too: it gets the output's type */
	role = s->tied ? ROLE_OUTPUT : ROLE_OTHER;
	ADD("token_embd.weight", d, s->n_vocab, FAN(d), RANDOM);
	role = ROLE_OTHER;
	if (s->llama3_rope)
		ADD("rope_freqs.weight", hd / 2, 1, 0.0f, LLAMA3_ROPE);
	for (uint32_t l = 0; l < s->n_layer; l++) {
		char nm[64];

		layer = l;
		LAYER("attn_norm.weight", d, 1, 0.0f, ONES);
		if (phi3) {
			LAYER("attn_qkv.weight", d, q + 2 * kv, FAN(d), RANDOM);
		} else {
			LAYER("attn_q.weight", d, q, FAN(d), RANDOM);
			LAYER("attn_k.weight", d, kv, FAN(d), RANDOM);
			role = ROLE_ATTN_V;
			LAYER("attn_v.weight", d, kv, FAN(d), RANDOM);
			role = ROLE_OTHER;
		}
		if (qwen2) {
			LAYER("attn_q.bias", q, 1, 0.02f, RANDOM);
			LAYER("attn_k.bias", kv, 1, 0.02f, RANDOM);
			LAYER("attn_v.bias", kv, 1, 0.02f, RANDOM);
		}
		if (qk_norm) {
			LAYER("attn_q_norm.weight", hd, 1, 0.0f, ONES);
			LAYER("attn_k_norm.weight", hd, 1, 0.0f, ONES);
		}
		LAYER("attn_output.weight", q, d, FAN(q), RANDOM);
		if (gemma)
			LAYER("post_attention_norm.weight", d, 1, 0.0f, ONES);
		LAYER("ffn_norm.weight", d, 1, 0.0f, ONES);
		if (phi3) {
			LAYER("ffn_up.weight", d, 2 * ff, FAN(d), RANDOM);
		} else {
			LAYER("ffn_gate.weight", d, ff, FAN(d), RANDOM);
			LAYER("ffn_up.weight", d, ff, FAN(d), RANDOM);
		}
		role = ROLE_FFN_DOWN;
		LAYER("ffn_down.weight", ff, d, FAN(ff), RANDOM);
		role = ROLE_OTHER;
		if (gemma)
			LAYER("post_ffw_norm.weight", d, 1, 0.0f, ONES);
	}
	ADD("output_norm.weight", d, 1, 0.0f, ONES);
	role = ROLE_OUTPUT;
	if (!s->tied)
		ADD("output.weight", d, s->n_vocab, FAN(d), RANDOM);
#undef LAYER
#undef ADD
#undef FAN
	*out = p;
	return n;
}

/*
 * Llama 3.1's RoPE scaling as its converters store it: factor 32, low and
 * high frequency factors 1 and 4, original context 8192.
 */
static float llama3_rope_factor(const struct synth_shape *s, uint64_t i)
{
	const double factor = 32, low = 1, high = 4, orig = 8192;
	double freq = pow(s->rope_base, -2.0 * (double)i / (double)head_dim(s));
	double wavelen = 2 * M_PI / freq, smooth;

	if (wavelen < orig / high)
		return 1.0f;
	if (wavelen > orig / low)
		return (float)factor;
	smooth = (orig / wavelen - low) / (high - low);
	return (float)(1.0 / ((1 - smooth) / factor + smooth));
}

/* one tensor's rows, generated and converted a chunk of rows at a time */
static int write_tensor(FILE *f, const struct synth_shape *s,
			const struct tensor_plan *t, uint64_t seed, int index,
			uint64_t size)
{
	uint64_t rng = seed * 0x100000001b3ULL + (uint64_t)index;
	uint64_t row_bytes = size / t->dims[1];
	uint64_t per = (4U << 20) / row_bytes ? (4U << 20) / row_bytes : 1;
	uint8_t *buf = malloc(per * row_bytes);
	float *row = malloc(t->dims[0] * sizeof(float));
	uint64_t n = 0;
	int ret = 0;

	if (!buf || !row) {
		free(buf);
		free(row);
		return -1;
	}
	for (uint64_t r = 0; r < t->dims[1] && !ret; r++) {
		uint8_t *dst = buf + n * row_bytes;

		for (uint64_t i = 0; i < t->dims[0]; i++)
			row[i] = t->content == RANDOM ? uniform(&rng, t->scale) :
				 t->content == ONES ? 1.0f : llama3_rope_factor(s, i);
		switch (t->type) {
		case 0:
			memcpy(dst, row, 4 * t->dims[0]);
			break;
		case 1:
			for (uint64_t i = 0; i < t->dims[0]; i++) {
				uint16_t h = lumen_f32_to_f16(row[i]);

				memcpy(dst + 2 * i, &h, 2);
			}
			break;
		case 30:
			for (uint64_t i = 0; i < t->dims[0]; i++) {
				uint16_t h = lumen_f32_to_bf16(row[i]);

				memcpy(dst + 2 * i, &h, 2);
			}
			break;
		default:
			lumen_quantize_row(t->type, row, dst, t->dims[0]);
			break;
		}
		if (++n == per || r + 1 == t->dims[1]) {
			if (fwrite(buf, 1, n * row_bytes, f) != n * row_bytes)
				ret = -1;
			n = 0;
		}
	}
	free(buf);
	free(row);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	const struct gguf_str *x = a, *y = b;
	uint64_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->ptr, y->ptr, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static bool in_sorted(const struct gguf_str *sorted, uint32_t n, const char *p, uint64_t len)
{
	struct gguf_str key = { .ptr = p, .len = len };

	return bsearch(&key, sorted, n, sizeof(*sorted), cmp_str) != NULL;
}

/*
 * The merges of a BPE vocabulary cut to its first @n tokens: those whose
 * two halves and result are all kept. llama.cpp refuses a BPE vocabulary
 * without merges, and a merge producing a cut token would make a token id
 * past the vocabulary. Returns how many of @v's merges were kept in @out,
 * or UINT32_MAX when out of memory.
 */
static uint32_t kept_merges(const struct gguf_vocab *v, uint32_t n, const struct gguf_str **out)
{
	struct gguf_str *sorted = malloc((size_t)n * sizeof(*sorted));
	char *joined = NULL;
	uint32_t kept = 0;

	if (!sorted)
		return UINT32_MAX;
	memcpy(sorted, v->tokens, (size_t)n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (uint32_t i = 0; i < v->n_merges; i++) {
		const struct gguf_str *m = &v->merges[i];
		const char *sp = memchr(m->ptr, ' ', m->len);
		uint64_t left, right;
		char *grown;

		if (!sp)
			continue;
		left = (uint64_t)(sp - m->ptr);
		right = m->len - left - 1;
		grown = realloc(joined, m->len);
		if (!grown) {
			kept = UINT32_MAX;
			break;
		}
		joined = grown;
		memcpy(joined, m->ptr, left);
		memcpy(joined + left, sp + 1, right);
		if (in_sorted(sorted, n, m->ptr, left) && in_sorted(sorted, n, sp + 1, right) &&
		    in_sorted(sorted, n, joined, left + right))
			out[kept++] = m;
	}
	free(joined);
	free(sorted);
	return kept;
}

/* the donor's vocabulary, padded with unused tokens or cut to @n */
static int add_vocab(struct gguf_writer *w, const struct gguf_file *g,
		     uint32_t n, char *err, size_t errlen)
{
	static const char *const id_keys[] = {
		"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
		"tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id",
	};
	struct gguf_vocab v;
	const char **s = calloc(n, sizeof(*s));
	uint64_t *len = calloc(n, sizeof(*len));
	float *score = calloc(n, sizeof(*score));
	int32_t *type = calloc(n, sizeof(*type));
	char *pads = calloc(n, 24);
	int ret = -1;

	if (gguf_vocab_read(&v, g, 0, err, errlen))
		goto out;
	if (!s || !len || !score || !type || !pads) {
		lc_fail(err, errlen, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (i < v.n_tokens) {
			s[i] = v.tokens[i].ptr;
			len[i] = v.tokens[i].len;
			score[i] = v.scores[i];
			type[i] = v.types[i];
		} else {
			char *p = pads + 24 * (size_t)i;

			len[i] = snprintf(p, 24, "<unused_%u>", i);
			s[i] = p;
			type[i] = 5;	/* unused */
		}
	}
	gw_str(w, "tokenizer.ggml.model", v.model, strlen(v.model));
	if (v.pre[0])
		gw_str(w, "tokenizer.ggml.pre", v.pre, strlen(v.pre));
	gw_arr_str(w, "tokenizer.ggml.tokens", n, s, len);
	gw_arr_f32(w, "tokenizer.ggml.scores", n, score);
	gw_arr_i32(w, "tokenizer.ggml.token_type", n, type);
	if (v.n_merges) {
		const struct gguf_str **keep = calloc(v.n_merges, sizeof(*keep));
		const char **ms = calloc(v.n_merges, sizeof(*ms));
		uint64_t *ml = calloc(v.n_merges, sizeof(*ml));
		uint32_t n_keep = 0;

		if (!keep || !ms || !ml) {
			lc_fail(err, errlen, "out of memory");
			free(keep);
			free(ms);
			free(ml);
			goto out;
		}
		if (v.n_tokens <= n) {
			for (uint32_t i = 0; i < v.n_merges; i++)
				keep[n_keep++] = &v.merges[i];
		} else {
			n_keep = kept_merges(&v, n, keep);
		}
		if (n_keep == UINT32_MAX) {
			lc_fail(err, errlen, "out of memory");
			free(keep);
			free(ms);
			free(ml);
			goto out;
		}
		for (uint32_t i = 0; i < n_keep; i++) {
			ms[i] = keep[i]->ptr;
			ml[i] = keep[i]->len;
		}
		/* none survive a cut to the bytes alone: a byte-level vocabulary */
		if (n_keep)
			gw_arr_str(w, "tokenizer.ggml.merges", n_keep, ms, ml);
		free(keep);
		free(ms);
		free(ml);
	}
	{
		const int32_t ids[] = { v.bos, v.eos, v.unk, v.pad };

		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
			if (ids[i] >= 0 && (uint32_t)ids[i] < n)
				gw_u32(w, id_keys[i], (uint32_t)ids[i]);
	}
	gw_bool(w, "tokenizer.ggml.add_bos_token", v.add_bos);
	gw_bool(w, "tokenizer.ggml.add_eos_token", v.add_eos);
	gw_bool(w, "tokenizer.ggml.add_space_prefix", v.add_space_prefix);
	/* an instruct model's turns, for lumen chat */
	if (v.chat_template.len)
		gw_str(w, "tokenizer.chat_template", v.chat_template.ptr,
		       v.chat_template.len);
	ret = 0;
out:
	gguf_vocab_free(&v);
	free(s);
	free(score);
	free(type);
	free(len);
	free(pads);	/* the writer copied the strings */
	return ret;
}

int synth_write(const struct synth_shape *s, uint32_t type,
		const char *vocab_gguf, uint64_t seed, const char *path,
		char *err, size_t errlen)
{
	struct gguf_writer w;
	struct gguf_file g;
	struct tensor_plan *p;
	char name[96], key[96], tmp[4096], msg[512];
	FILE *f;
	int n, ret = -1;

	if (!type_known(type))
		return lc_fail(err, errlen, "type %u: not a type gen-synthetic writes", type);
	if (gguf_open(&g, vocab_gguf, msg, sizeof(msg)))
		return lc_fail(err, errlen, "%s: %s", vocab_gguf, msg);
	n = plan(s, type, &p);
	if (n < 0) {
		gguf_close(&g);
		return lc_fail(err, errlen, "out of memory");
	}
	gw_init(&w);
	gw_str(&w, "general.architecture", arch_of(s), strlen(arch_of(s)));
	snprintf(name, sizeof(name), "synthetic %s", s->name);
	gw_str(&w, "general.name", name, strlen(name));
	gw_u32(&w, "general.alignment", 32);
#define KEY(k) (snprintf(key, sizeof(key), "%s.%s", arch_of(s), k), key)
	gw_u32(&w, KEY("context_length"), s->ctx);
	gw_u32(&w, KEY("embedding_length"), s->n_embd);
	gw_u32(&w, KEY("block_count"), s->n_layer);
	gw_u32(&w, KEY("feed_forward_length"), s->n_ff);
	gw_u32(&w, KEY("attention.head_count"), s->n_head);
	gw_u32(&w, KEY("attention.head_count_kv"), s->n_head_kv);
	if (s->head_dim) {
		gw_u32(&w, KEY("attention.key_length"), s->head_dim);
		gw_u32(&w, KEY("attention.value_length"), s->head_dim);
	}
	gw_u32(&w, KEY("rope.dimension_count"), (uint32_t)head_dim(s));
	gw_f32(&w, KEY("rope.freq_base"), s->rope_base);
	gw_f32(&w, KEY("attention.layer_norm_rms_epsilon"),
	       s->arch && !strcmp(s->arch, "gemma3") ? 1e-6f : 1e-5f);
	gw_u32(&w, KEY("vocab_size"), s->n_vocab);
	if (s->window) {
		gw_u32(&w, KEY("attention.sliding_window"), s->window);
		gw_u32(&w, KEY("attention.sliding_window_pattern"), s->pattern);
		gw_f32(&w, KEY("rope.freq_base_swa"), 10000.0f);
	}
#undef KEY
	if (add_vocab(&w, &g, s->n_vocab, err, errlen))
		goto out;
	for (int i = 0; i < n; i++)
		gw_tensor(&w, p[i].name, p[i].n_dims, p[i].dims, p[i].type);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "wb");
	if (!f) {
		lc_fail(err, errlen, "%s: cannot create: %m", tmp);
		goto out;
	}
	ret = gw_write_header(&w, f);
	for (int i = 0; i < n && !ret; i++)
		ret = gw_begin_tensor(&w, f, i) ||
		      write_tensor(f, s, &p[i], seed, i, gw_tensor_size(&w, i));
	if (fclose(f))
		ret = -1;
	if (!ret && rename(tmp, path))
		ret = -1;
	if (ret) {
		unlink(tmp);
		lc_fail(err, errlen, "%s: write failed (disk full?)", path);
	}
out:
	gw_free(&w);
	free(p);
	gguf_close(&g);
	return ret;
}
