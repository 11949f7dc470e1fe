// SPDX-License-Identifier: MIT
#include "synth.h"

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

/* shapes of the real models (hidden sizes, heads, vocabularies, RoPE bases) */
const struct synth_shape synth_shapes[] = {
	{ "stories260K", 64, 5, 8, 4, 172, 512, 512, 10000.0f, 0 },
	{ "stories15M", 288, 6, 6, 6, 768, 32000, 256, 10000.0f, 0 },
	{ "stories110M", 768, 12, 12, 12, 2048, 32000, 1024, 10000.0f, 0 },
	{ "SmolLM2-135M", 576, 30, 9, 3, 1536, 49152, 8192, 100000.0f, 1 },
	{ "Qwen2.5-0.5B-like", 896, 24, 14, 2, 4864, 151936, 32768, 1000000.0f, 1 },
	{ "Llama-3.2-1B-like", 2048, 16, 32, 8, 8192, 128256, 131072, 500000.0f, 1 },
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

struct tensor_plan {
	char name[64];
	uint64_t dims[2];
	uint32_t n_dims;
	uint32_t type;
	float scale;		/* uniform bound; 0 = all ones (norms) */
};

static uint32_t matrix_type(uint32_t type, uint64_t row)
{
	if ((type == 2 || type == 8) && row % 32)
		return 1;	/* as GGUF files do: such rows stay F16 */
	return type;
}

static int plan(const struct synth_shape *s, uint32_t type,
		struct tensor_plan **out)
{
	uint64_t d = s->n_embd, hd = s->n_embd / s->n_head;
	uint64_t q = s->n_head * hd, kv = s->n_head_kv * hd, ff = s->n_ff;
	struct tensor_plan *p = calloc(3 + 9 * (size_t)s->n_layer, sizeof(*p));
	int n = 0;

	if (!p)
		return -1;
#define ADD(nm, d0, d1, sc) do {					\
		snprintf(p[n].name, sizeof(p[n].name), "%s", nm);	\
		p[n].dims[0] = d0;					\
		p[n].dims[1] = d1;					\
		p[n].n_dims = (d1) > 1 ? 2 : 1;				\
		p[n].type = (sc) ? matrix_type(type, d0) : 0;		\
		p[n].scale = sc;					\
		n++;							\
	} while (0)
	/* std 1/sqrt(fan-in) keeps activations O(1) through the layers */
#define FAN(k) (sqrtf(3.0f / (float)(k)))
	ADD("token_embd.weight", d, s->n_vocab, FAN(d));
	for (uint32_t l = 0; l < s->n_layer; l++) {
		char nm[64];
		static const char *const what[9] = {
			"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
			"ffn_norm", "ffn_gate", "ffn_up", "ffn_down",
		};
		const uint64_t dims[9][2] = {
			{ d, 1 }, { d, q }, { d, kv }, { d, kv }, { q, d },
			{ d, 1 }, { d, ff }, { d, ff }, { ff, d },
		};

		for (int i = 0; i < 9; i++) {
			snprintf(nm, sizeof(nm), "blk.%u.%s.weight", l, what[i]);
			ADD(nm, dims[i][0], dims[i][1],
			    dims[i][1] == 1 ? 0.0f : FAN(dims[i][0]));
		}
	}
	ADD("output_norm.weight", d, 1, 0.0f);
	if (!s->tied)
		ADD("output.weight", d, s->n_vocab, FAN(d));
#undef ADD
#undef FAN
	*out = p;
	return n;
}

/* one tensor's rows, generated and converted a chunk of rows at a time */
static int write_tensor(FILE *f, const struct tensor_plan *t, uint64_t seed,
			int index, uint64_t size)
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
			row[i] = t->scale ? uniform(&rng, t->scale) : 1.0f;
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
		case 8:
			lumen_quantize_row_q8_0(row, dst, t->dims[0]);
			break;
		case 2:
			lumen_quantize_row_q4_0(row, dst, t->dims[0]);
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
	if (v.n_merges && v.n_tokens <= n) {
		const char **ms = calloc(v.n_merges, sizeof(*ms));
		uint64_t *ml = calloc(v.n_merges, sizeof(*ml));

		if (ms && ml) {
			for (uint32_t i = 0; i < v.n_merges; i++) {
				ms[i] = v.merges[i].ptr;
				ml[i] = v.merges[i].len;
			}
			gw_arr_str(w, "tokenizer.ggml.merges", v.n_merges, ms, ml);
		}
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
	char name[96], tmp[4096], msg[512];
	FILE *f;
	int n, ret = -1;

	if (type != 0 && type != 1 && type != 2 && type != 8)
		return lc_fail(err, errlen, "type %u: F32, F16, Q8_0 or Q4_0 only", type);
	if (gguf_open(&g, vocab_gguf, msg, sizeof(msg)))
		return lc_fail(err, errlen, "%s: %s", vocab_gguf, msg);
	n = plan(s, type, &p);
	if (n < 0) {
		gguf_close(&g);
		return lc_fail(err, errlen, "out of memory");
	}
	gw_init(&w);
	gw_str(&w, "general.architecture", "llama", 5);
	snprintf(name, sizeof(name), "synthetic %s", s->name);
	gw_str(&w, "general.name", name, strlen(name));
	gw_u32(&w, "general.alignment", 32);
	gw_u32(&w, "llama.context_length", s->ctx);
	gw_u32(&w, "llama.embedding_length", s->n_embd);
	gw_u32(&w, "llama.block_count", s->n_layer);
	gw_u32(&w, "llama.feed_forward_length", s->n_ff);
	gw_u32(&w, "llama.attention.head_count", s->n_head);
	gw_u32(&w, "llama.attention.head_count_kv", s->n_head_kv);
	gw_u32(&w, "llama.rope.dimension_count", s->n_embd / s->n_head);
	gw_f32(&w, "llama.rope.freq_base", s->rope_base);
	gw_f32(&w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
	gw_u32(&w, "llama.vocab_size", s->n_vocab);
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
		      write_tensor(f, &p[i], seed, i, gw_tensor_size(&w, i));
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
