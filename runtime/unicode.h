/* SPDX-License-Identifier: MIT */
/*
 * The little Unicode the tokenizers need: UTF-8 decoding that never fails
 * (a bad byte is reported, not replaced, so no input byte is lost), the
 * code point classes of the BPE pre-tokenizers (\p{L}, \p{N}, \p{P},
 * \p{M}, \p{S}, \s), and GPT-2's reversible mapping of bytes to printable
 * code points.
 */
#ifndef LUMEN_UNICODE_H
#define LUMEN_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/*
 * A code point's class: its general category's major class in the low
 * bits (LUMEN_CPT_CATEGORY), plus LUMEN_CPT_SPACE for White_Space.
 */
enum lumen_cpt_class {
	LUMEN_CPT_UNDEFINED = 0,	/* unassigned (Cn) */
	LUMEN_CPT_LETTER = 1,		/* L* */
	LUMEN_CPT_NUMBER = 2,		/* N* */
	LUMEN_CPT_PUNCT = 3,		/* P* */
	LUMEN_CPT_MARK = 4,		/* M* */
	LUMEN_CPT_SYMBOL = 5,		/* S* (and invalid UTF-8, as U+FFFD) */
	LUMEN_CPT_SEPARATOR = 6,	/* Z* */
	LUMEN_CPT_CONTROL = 7,		/* Cc, Cf, Cs, Co */
	LUMEN_CPT_CATEGORY = 7,		/* mask of the above */
	LUMEN_CPT_SPACE = 8,		/* flag: property White_Space */
};

struct lumen_cpt_range {
	uint32_t lo, hi;	/* inclusive */
	uint32_t cls;		/* enum lumen_cpt_class */
};

/* generated: runtime/unicode_data.c */
extern const struct lumen_cpt_range lumen_cpt_ranges[];
extern const unsigned lumen_cpt_ranges_len;
extern const char lumen_unicode_version[];

#define LUMEN_CPT_INVALID 0xFFFFFFFFu

/*
 * Decode the code point at @s (@n > 0 bytes available). Returns its length
 * in bytes (1..4) and stores it in *@cpt; a malformed, overlong, surrogate
 * or truncated sequence yields length 1 and LUMEN_CPT_INVALID.
 */
size_t lumen_utf8_decode(const char *s, size_t n, uint32_t *cpt);
/* Encode @cpt (<= 0x10FFFF) into @out (4 bytes room); returns the length. */
size_t lumen_utf8_encode(uint32_t cpt, char *out);

/* enum lumen_cpt_class bits of @cpt */
unsigned lumen_cpt_class(uint32_t cpt);

/* GPT-2 byte-level BPE: the code point that stands for byte @b ... */
uint32_t lumen_byte_to_cpt(uint8_t b);
/* ... and back: the byte, or -1 if @cpt stands for no byte. */
int lumen_cpt_to_byte(uint32_t cpt);

#endif /* LUMEN_UNICODE_H */
