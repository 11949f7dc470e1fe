/* SPDX-License-Identifier: MIT */
/*
 * Reading a .lnpu file: every offset, size, count and checksum is checked
 * and both programs pass the Lumen validator before anything is handed
 * out. Errors name the file offset and the field. Usable by the runtime:
 * no global state, nothing printed.
 */
#ifndef LUMENC_LNPU_READ_H
#define LUMENC_LNPU_READ_H

#include <stddef.h>
#include <stdint.h>

#include "lumen_validate.h"
#include "lnpu.h"

#define LNPU_READ_SKIP_WEIGHTS_CRC	(1U << 0)	/* trust the weights blob */

struct lnpu_file {
	const uint8_t *base;
	uint64_t size;
	struct lnpu_header header;
	struct lnpu_meta meta;
	struct lnpu_region regions[LUMEN_MAX_REGIONS];
	uint32_t n_regions;
	/* decode, prefill, verify (NULL without one: version 2 files) */
	const uint8_t *prog[3];
	uint64_t prog_size[3];
	struct lumen_validation val[3];
	const uint8_t *weights;		/* 4 KiB aligned in the file */
	uint64_t weights_offset;
	uint64_t weights_size;
	struct lnpu_vocab_header vocab;
	const uint8_t *scores;		/* n_tokens little-endian f32 */
	const uint8_t *types;		/* n_tokens little-endian i32 */
	uint64_t *tok_off;		/* file offsets of each token string */
	uint64_t *merge_off;
	const char *chat_template;	/* not NUL-terminated; NULL if none */
	uint64_t chat_template_len;
	void *map;
	uint64_t map_size;
};

int lnpu_parse(struct lnpu_file *f, const void *data, uint64_t size,
	       unsigned int flags, char *err, size_t errlen);
int lnpu_open(struct lnpu_file *f, const char *path, unsigned int flags,
	      char *err, size_t errlen);
void lnpu_close(struct lnpu_file *f);
/*
 * The bytes each region slot must hold: the file's region table, or more
 * where a program's validation says it reads more.
 */
void lnpu_region_sizes(const struct lnpu_file *f,
		       uint64_t size[LNPU_SLOT_COUNT]);

/* token @i (< vocab.n_tokens): bytes and length, not NUL-terminated */
const char *lnpu_token(const struct lnpu_file *f, uint32_t i, uint32_t *len);
float lnpu_token_score(const struct lnpu_file *f, uint32_t i);
int32_t lnpu_token_type(const struct lnpu_file *f, uint32_t i);
const char *lnpu_merge(const struct lnpu_file *f, uint32_t i, uint32_t *len);

#endif /* LUMENC_LNPU_READ_H */
