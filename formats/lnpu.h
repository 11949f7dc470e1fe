/* SPDX-License-Identifier: MIT */
/*
 * The .lnpu container: one compiled model, ready for the runtime.
 * Specified in Documentation/accel/lumen/lnpu.rst; everything is
 * little-endian and every structure has a fixed size.
 *
 *   header (64 bytes) | section table | sections ... | pad to 4 KiB |
 *   weights blob (last, 4 KiB aligned, one contiguous upload)
 */
#ifndef LUMENC_LNPU_H
#define LUMENC_LNPU_H

#include <stdint.h>

#define LNPU_MAGIC		0x55504e4cU	/* "LNPU" */
/*
 * 2: vocabulary flags (add_space_prefix); 3: the optional CHAT_TEMPLATE
 * section; 4: the optional verify program (speculative decoding). Readers
 * take 2 to 4: an older file simply lacks the later optional sections.
 */
#define LNPU_VERSION		4
#define LNPU_VERSION_MIN	2
#define LNPU_WEIGHTS_ALIGN	4096
#define LNPU_TENSOR_ALIGN	64	/* each weight inside the blob */
#define LNPU_MAX_SECTIONS	16

enum lnpu_section_type {
	LNPU_SEC_META = 1,
	LNPU_SEC_VOCAB = 2,
	LNPU_SEC_REGIONS = 3,
	LNPU_SEC_PROG_DECODE = 4,
	LNPU_SEC_PROG_PREFILL = 5,
	LNPU_SEC_WEIGHTS = 6,
	LNPU_SEC_CHAT_TEMPLATE = 7,	/* optional: tokenizer.chat_template */
	LNPU_SEC_PROG_VERIFY = 8,	/* optional, version 4 */
};
#define LNPU_SEC_REQUIRED_LAST	LNPU_SEC_WEIGHTS	/* 1..6 appear once */
#define LNPU_SEC_LAST		LNPU_SEC_PROG_VERIFY

/**
 * struct lnpu_header - at offset 0.
 * @header_crc: CRC-32C of these 64 bytes with @header_crc zero.
 * @table_crc: CRC-32C of the section table.
 */
struct lnpu_header {
	uint32_t magic;
	uint32_t version;
	uint32_t header_size;
	uint32_t section_count;
	uint64_t table_offset;
	uint64_t file_size;
	uint32_t table_crc;
	uint32_t header_crc;
	uint32_t reserved[6];
};

/** struct lnpu_section - where a section lies; @crc is its CRC-32C. */
struct lnpu_section {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t size;
	uint32_t crc;
	uint32_t reserved;
};

/* Region slots the programs bind. */
enum lnpu_slot {
	LNPU_SLOT_WEIGHTS = 0,
	LNPU_SLOT_KV = 1,
	LNPU_SLOT_ACT = 2,
	LNPU_SLOT_ARGS = 3,
	LNPU_SLOT_OUT = 4,
	LNPU_SLOT_COUNT = 5,
};

/* Args region words: rows of a prefill chunk, position, then token ids. */
#define LNPU_ARG_ROWS		0
#define LNPU_ARG_POS		1
#define LNPU_ARG_IDS		2	/* word index of the first token id */

#define LNPU_RF_READONLY	(1U << 0)	/* programs never write it */
#define LNPU_RF_INIT		(1U << 1)	/* starts as the file bytes given */
#define LNPU_RF_ZERO		(1U << 2)	/* starts zeroed */

/** struct lnpu_region - one entry of the REGIONS section (a u32 count first). */
struct lnpu_region {
	char name[16];
	uint32_t slot;
	uint32_t flags;
	uint64_t size;
	uint64_t align;
	uint64_t init_offset;	/* file offset of the initial bytes */
	uint64_t init_size;
};

#define LNPU_KV_F16		1	/* lumen dtype numbers */
#define LNPU_KV_F32		0

/** struct lnpu_meta - the META section: what the runtime needs to drive the programs. */
struct lnpu_meta {
	char arch[16];
	char name[64];
	uint32_t n_vocab, n_embd, n_layer, n_head;
	uint32_t n_head_kv, n_ff, head_dim, n_rot;
	uint32_t ctx;		/* positions the KV cache holds */
	uint32_t ctx_train;
	uint32_t prefill_chunk;	/* rows of the prefill program */
	uint32_t kv_dtype;
	uint32_t rope_base;	/* f32 bits */
	uint32_t rms_eps;	/* f32 bits */
	uint32_t rope_neox;
	uint32_t quant;		/* dtype of the big matrices (lumen numbering) */
	int32_t bos, eos, unk, pad;	/* -1 when none */
	uint32_t add_bos, add_eos;
	uint32_t out_logits;	/* offset of F32 logits [n_vocab] in OUT */
	uint32_t out_argmax;	/* offset of the I32 argmax in OUT */
	uint64_t n_params;
	uint64_t weight_bytes;
	/*
	 * The verify program (version 3, all 0 without one): rows it scores
	 * at once (draft tokens + 1), and where it leaves F32 logits
	 * [verify_rows][n_vocab] and I32 argmax [verify_rows] in OUT.
	 */
	uint32_t verify_rows;
	uint32_t out_verify_logits;
	uint32_t out_verify_argmax;
	/*
	 * The verify program's top-k (both 0 in files without one, which load
	 * as before): each row's verify_topk largest logits, I32 ids then F32
	 * values, [verify_rows][2 * verify_topk] words at out_verify_topk in
	 * OUT, so that a sampled verification reads 8k bytes a row back rather
	 * than the row's n_vocab logits.
	 */
	uint32_t verify_topk;
	uint32_t out_verify_topk;
	uint32_t reserved[11];
};

/*
 * The VOCAB section: this header, n_tokens f32 scores, n_tokens i32 types,
 * then n_tokens strings and n_merges strings, each a u32 length and bytes.
 */
struct lnpu_vocab_header {
	char model[16];
	char pre[32];
	uint32_t n_tokens;
	uint32_t n_merges;
	uint32_t flags;		/* LNPU_VOCAB_* */
	uint32_t reserved;
};

/* SentencePiece: prepend a space to the text (tokenizer.ggml.add_space_prefix) */
#define LNPU_VOCAB_ADD_SPACE_PREFIX	(1U << 0)
#define LNPU_VOCAB_FLAGS_ALL		LNPU_VOCAB_ADD_SPACE_PREFIX

_Static_assert(sizeof(struct lnpu_header) == 64, "lnpu header size");
_Static_assert(sizeof(struct lnpu_section) == 32, "lnpu section size");
_Static_assert(sizeof(struct lnpu_region) == 56, "lnpu region size");
_Static_assert(sizeof(struct lnpu_meta) == 256, "lnpu meta size");
_Static_assert(sizeof(struct lnpu_vocab_header) == 64, "lnpu vocab size");

uint32_t lnpu_crc32c(uint32_t crc, const void *data, uint64_t n);

#endif /* LUMENC_LNPU_H */
