// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the whole compile round trip (review 2026-12, item 5):
 * GGUF bytes -> lm_from_gguf() -> lc_lower() -> lnpu_write() -> lnpu_open().
 * Invariant: each step succeeds or fails cleanly, and a .lnpu the writer
 * produced is always read back (its programs validated by the reader).
 *
 * Raw GGUF bytes seldom make a model, so half the inputs (byte 0 bit 1)
 * are structured: a small model of one of gen-synthetic's architectures,
 * its dims, head layout and weight type drawn from the input, written as
 * GGUF by synth_write() (vocabulary from LUMEN_FUZZ_VOCAB, default the
 * SPM vocabulary in ../shared), then a few of its bytes flipped as the
 * input says. Those reach the lowering and the writer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gguf.h"
#include "lnpu_read.h"
#include "lnpu_write.h"
#include "lower.h"
#include "model.h"
#include "synth.h"

#ifndef LUMEN_FUZZ_VOCAB
#define LUMEN_FUZZ_VOCAB "../shared/tokenizer/ggml-vocab-llama-spm.gguf"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char out[256];
/* with LUMEN_FUZZ_STATS set: how far inputs got */
static unsigned long n_in, n_gguf, n_model, n_lowered, n_written;

static void print_stats(void)
{
	fprintf(stderr, "fuzz-lower: %lu inputs, %lu GGUF, %lu models, %lu lowered, "
		"%lu written and read back\n", n_in, n_gguf, n_model, n_lowered, n_written);
}

static char gguf_path[256];
/* the vocabulary cut to the most tokens a structured model has, made once */
static char small_vocab[256];

static void make_small_vocab(const char *dir)
{
	const char *vocab = getenv("LUMEN_FUZZ_VOCAB");
	struct synth_shape sh = synth_shapes[0];
	char err[512];

	if (!vocab)
		vocab = LUMEN_FUZZ_VOCAB;
	sh.n_layer = 1;
	sh.n_vocab = 8 + 255 * 2;
	snprintf(small_vocab, sizeof(small_vocab), "%s/lumen-fuzz-vocab-%d.gguf", dir,
		 (int)getpid());
	if (synth_write(&sh, 1, vocab, 1, small_vocab, err, sizeof(err))) {
		fprintf(stderr, "fuzz-lower: no structured inputs: %s\n", err);
		small_vocab[0] = 0;
	}
}

static void remove_small_vocab(void)
{
	if (small_vocab[0])
		unlink(small_vocab);
}

static uint8_t next(const uint8_t **p, size_t *n)
{
	uint8_t b = *n ? **p : 0;

	if (*n) {
		(*p)++;
		(*n)--;
	}
	return b;
}

/* a small synthetic model drawn from the input, its GGUF bytes mutated; NULL if none */
static uint8_t *structured(const uint8_t *p, size_t n, size_t *size)
{
	static const uint32_t types[] = {
		1, 30, 8, 2, 3, 6, 7, 12, 13, 14, SYNTH_MIX_Q4_K_M, SYNTH_MIX_Q4_0,
	};
	static const uint32_t hds[] = { 8, 16, 32, 64 };
	static const uint32_t ffs[] = { 16, 32, 48, 96, 256 };
	struct synth_shape sh;
	char err[512];
	uint8_t *bytes;
	FILE *f;
	long len;
	uint32_t hd, flips;

	if (!small_vocab[0])
		return NULL;
	sh = synth_shapes[next(&p, &n) % synth_shape_count];
	sh.n_head_kv = 1 + next(&p, &n) % 2;
	sh.n_head = sh.n_head_kv * (1 + next(&p, &n) % 3);
	hd = hds[next(&p, &n) % 4];
	if (sh.head_dim)
		sh.head_dim = hd;
	sh.n_embd = sh.n_head * (sh.head_dim ? hds[next(&p, &n) % 4] : hd);
	sh.n_layer = 1 + next(&p, &n) % 2;
	sh.n_ff = ffs[next(&p, &n) % 5];
	sh.n_vocab = 8 + next(&p, &n) * 2;
	sh.ctx = 8 + next(&p, &n) % 64;
	sh.tied = next(&p, &n) & 1;
	if (sh.window)
		sh.window = 1 + next(&p, &n) % 16;
	if (sh.pattern)
		sh.pattern = 1 + next(&p, &n) % 3;
	sh.llama3_rope = next(&p, &n) & 1;
	if (synth_write(&sh, types[next(&p, &n) % 12], small_vocab, 1, gguf_path, err,
			sizeof(err)))
		return NULL;
	f = fopen(gguf_path, "rb");
	unlink(gguf_path);
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	bytes = malloc(len > 0 ? (size_t)len : 1);
	if (!bytes || fread(bytes, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(bytes);
		return NULL;
	}
	fclose(f);
	/* a few byte flips where the input says: near-valid files */
	flips = next(&p, &n) % 4;
	for (uint32_t i = 0; i < flips && len > 0; i++) {
		uint32_t at = (uint32_t)next(&p, &n) << 16 | (uint32_t)next(&p, &n) << 8 |
			      next(&p, &n);

		bytes[at % (uint32_t)len] ^= next(&p, &n);
	}
	*size = (size_t)len;
	return bytes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *made = NULL;
	struct lc_options opt = { .ctx = 16, .prefill_chunk = 4,
				  .kv_dtype = LUMEN_DTYPE_F16, .quant = LC_KEEP_DTYPE };
	struct lnpu_write_opts wo = { 0 };
	struct gguf_file g;
	struct lnpu_file f;
	struct lm_model m;
	struct lc_out o;
	char err[512];

	if (!out[0]) {
		const char *dir = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";

		snprintf(out, sizeof(out), "%s/lumen-fuzz-lower-%d.lnpu", dir, (int)getpid());
		snprintf(gguf_path, sizeof(gguf_path), "%s/lumen-fuzz-lower-%d.gguf", dir,
			 (int)getpid());
		if (getenv("LUMEN_FUZZ_STATS"))
			atexit(print_stats);
		make_small_vocab(dir);
		atexit(remove_small_vocab);
	}
	n_in++;
	if (size && (data[0] & 1))	/* half the inputs compile with Q8_0 weights */
		opt.quant = LUMEN_DTYPE_Q8_0;
	if (size && (data[0] & 2)) {
		made = structured(data + 1, size - 1, &size);
		if (!made)
			return 0;
		data = made;
	}
	if (gguf_parse(&g, data, size, err, sizeof(err))) {
		free(made);
		return 0;
	}
	n_gguf++;
	if (lm_from_gguf(&m, &g, err, sizeof(err)))
		goto out_gguf;
	n_model++;
	if (lc_lower(&o, &m, &opt, err, sizeof(err)))
		goto out_model;
	n_lowered++;
	if (!lnpu_write(out, &o, &wo, err, sizeof(err))) {
		n_written++;
		if (lnpu_open(&f, out, 0, err, sizeof(err))) {
			fprintf(stderr, "lumenc wrote a .lnpu it cannot read: %s\n", err);
			abort();
		}
		lnpu_close(&f);
		unlink(out);
	}
	lc_free(&o);
out_model:
	lm_free(&m);
out_gguf:
	gguf_close(&g);
	free(made);
	return 0;
}
