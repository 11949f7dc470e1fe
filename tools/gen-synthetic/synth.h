/* SPDX-License-Identifier: MIT */
/*
 * Synthetic models of real shapes, in every architecture lumenc compiles:
 * seeded random weights at sane scales, the tensors and metadata each
 * architecture's real GGUF files carry, and a real vocabulary copied from
 * a GGUF file. For speed and scale work only; their text is noise.
 */
#ifndef LUMEN_SYNTH_H
#define LUMEN_SYNTH_H

#include <stddef.h>
#include <stdint.h>

struct synth_shape {
	const char *name;
	uint32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, ctx;
	float rope_base;
	int tied;		/* no output.weight */
	const char *arch;	/* general.architecture; NULL for llama */
	uint32_t head_dim;	/* 0: n_embd / n_head */
	uint32_t window, pattern;	/* gemma3's sliding window */
	int llama3_rope;	/* rope_freqs.weight as Llama 3.1+ ship it */
};

extern const struct synth_shape synth_shapes[];
extern const unsigned int synth_shape_count;

const struct synth_shape *synth_find(const char *name);

/*
 * llama-quantize's mixes: most matrices in the base K type, output (or the
 * tied embedding) in Q6_K, attn_v and ffn_down of some layers in Q6_K.
 * Passed as @type to synth_write() beside plain ggml types.
 */
#define SYNTH_MIX_Q4_K_M	1015	/* llama_ftype 15 */
#define SYNTH_MIX_Q5_K_M	1017
#define SYNTH_MIX_Q6_K		1018
#define SYNTH_MIX_Q4_0		1002	/* Q4_0 with llama-quantize's Q6_K output */

/* "f16", "q4_k_m", ...: a @type for synth_write(), or 0 when unknown */
uint32_t synth_type_from_name(const char *name);
/* the names synth_type_from_name() knows, NULL-terminated */
extern const char *const synth_type_names[];

/*
 * Write @s as GGUF v3 to @path with matrices of @type: a ggml type (1 F16,
 * 30 BF16, 8 Q8_0, 2 Q4_0, 3 Q4_1, 6 Q5_0, 7 Q5_1, 12 Q4_K, 13 Q5_K,
 * 14 Q6_K) for every matrix, or a SYNTH_MIX_*. Rows that are not a
 * multiple of the block fall back as llama-quantize does (32-blocks to
 * F16, K types to Q5_0 / Q5_1 / Q8_0). Vocabulary from @vocab_gguf
 * (padded with unused tokens or cut to the shape's size). Norms are ones,
 * biases small, rope_freqs the llama3 formula's.
 */
int synth_write(const struct synth_shape *s, uint32_t type,
		const char *vocab_gguf, uint64_t seed, const char *path,
		char *err, size_t errlen);

#endif /* LUMEN_SYNTH_H */
