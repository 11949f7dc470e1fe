// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the llama2.c reader (checkpoint + tokenizer.bin), then
 * the lowering of what it accepted (review 2026-12, items 5 and 7).
 * Input: a little-endian u16 checkpoint length, the checkpoint, then the
 * tokenizer. Both go to memfds: lm_from_llama2c() reads paths.
 * Invariant: it accepts or refuses cleanly, and every weight it hands out
 * lies inside the checkpoint (each one's last byte is read).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lower.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd_with(const char *name, const uint8_t *p, size_t n, char *path, size_t cap)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
		abort();
	snprintf(path, cap, "/proc/self/fd/%d", fd);
	return fd;
}

static volatile uint8_t sink;

static void touch(const struct lm_weight *w)
{
	if (w->data && w->size)
		sink ^= w->data[w->size - 1] ^ w->data[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ckpt[64], tok[64], err[512];
	struct lc_options opt = { .ctx = 16, .prefill_chunk = 4,
				  .kv_dtype = LUMEN_DTYPE_F16, .quant = LC_KEEP_DTYPE };
	struct lm_model m;
	struct lc_out o;
	size_t n;
	int a, b;

	if (size < 2)
		return 0;
	n = data[0] | (size_t)data[1] << 8;
	data += 2;
	size -= 2;
	if (n > size)
		n = size;
	a = fd_with("ckpt", data, n, ckpt, sizeof(ckpt));
	b = fd_with("tok", data + n, size - n, tok, sizeof(tok));
	if (!lm_from_llama2c(&m, ckpt, tok, err, sizeof(err))) {
		touch(&m.tok_embd);
		touch(&m.out_norm);
		touch(&m.output);
		for (uint32_t l = 0; l < m.n_layer; l++) {
			touch(&m.layers[l].wq);
			touch(&m.layers[l].wk);
			touch(&m.layers[l].down);
		}
		for (uint32_t i = 0; i < m.vocab.n_tokens; i++)
			if (m.vocab.tokens[i].len)
				sink ^= (uint8_t)m.vocab.tokens[i].ptr[m.vocab.tokens[i].len - 1];
		if (!lc_lower(&o, &m, &opt, err, sizeof(err)))
			lc_free(&o);
		lm_free(&m);
	}
	close(a);
	close(b);
	return 0;
}
