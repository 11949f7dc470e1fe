/* SPDX-License-Identifier: MIT */
/*
 * Synthetic llama-architecture models of real shapes: seeded random
 * weights at sane scales and a real vocabulary copied from a GGUF file.
 * For speed and scale work only; their text is noise.
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
};

extern const struct synth_shape synth_shapes[];
extern const unsigned int synth_shape_count;

const struct synth_shape *synth_find(const char *name);

/*
 * Write @s as GGUF v3 to @path with matrices of ggml @type (1 F16,
 * 8 Q8_0, 2 Q4_0; rows not a multiple of 32 stay F16), vocabulary from
 * @vocab_gguf (padded with unused tokens or cut to the shape's size).
 */
int synth_write(const struct synth_shape *s, uint32_t type,
		const char *vocab_gguf, uint64_t seed, const char *path,
		char *err, size_t errlen);

#endif /* LUMEN_SYNTH_H */
