// SPDX-License-Identifier: MIT
#include "unicode.h"

#include <string.h>

size_t lumen_utf8_decode(const char *str, size_t n, uint32_t *cpt)
{
	const unsigned char *s = (const unsigned char *)str;
	static const uint32_t min_cpt[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len;
	uint32_t c;

	if (s[0] < 0x80) {
		*cpt = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		c = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		c = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		goto invalid;
	}
	if (len > n)
		goto invalid;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto invalid;
		c = c << 6 | (s[i] & 0x3F);
	}
	if (c < min_cpt[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		goto invalid;
	*cpt = c;
	return len;
invalid:
	*cpt = LUMEN_CPT_INVALID;
	return 1;
}

size_t lumen_utf8_encode(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3F));
	out[2] = (char)(0x80 | (c >> 6 & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

unsigned lumen_cpt_class(uint32_t cpt)
{
	unsigned lo = 0, hi = lumen_cpt_ranges_len;

	/* ASCII is most text; spare it the search */
	if (cpt < 0x80) {
		if ((cpt | 0x20) >= 'a' && (cpt | 0x20) <= 'z')
			return LUMEN_CPT_LETTER;
		if (cpt >= '0' && cpt <= '9')
			return LUMEN_CPT_NUMBER;
		if (cpt == ' ')
			return LUMEN_CPT_SEPARATOR | LUMEN_CPT_SPACE;
		if (cpt >= 0x09 && cpt <= 0x0D)
			return LUMEN_CPT_CONTROL | LUMEN_CPT_SPACE;
		if (cpt < 0x20 || cpt == 0x7F)
			return LUMEN_CPT_CONTROL;
		/* $ + < = > ^ ` | ~ are symbols, the rest punctuation */
		if (strchr("$+<=>^`|~", (int)cpt))
			return LUMEN_CPT_SYMBOL;
		return LUMEN_CPT_PUNCT;
	}
	if (cpt == LUMEN_CPT_INVALID)
		return LUMEN_CPT_SYMBOL;	/* as U+FFFD */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (cpt < lumen_cpt_ranges[mid].lo)
			hi = mid;
		else if (cpt > lumen_cpt_ranges[mid].hi)
			lo = mid + 1;
		else
			return lumen_cpt_ranges[mid].cls;
	}
	return LUMEN_CPT_UNDEFINED;
}

/*
 * GPT-2 keeps the printable bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF as
 * the code points of the same value and maps the other 68 bytes, in
 * order, to U+0100 onwards, so that every byte is a visible character:
 * 0x00..0x20 to U+0100..U+0120, 0x7F..0xA0 to U+0121..U+0142, and 0xAD
 * to U+0143.
 */
uint32_t lumen_byte_to_cpt(uint8_t b)
{
	if (b <= 0x20)
		return 0x100 + b;
	if (b >= 0x7F && b <= 0xA0)
		return 0x121 + (b - 0x7F);
	if (b == 0xAD)
		return 0x143;
	return b;
}

int lumen_cpt_to_byte(uint32_t cpt)
{
	if (cpt >= 0x100 && cpt <= 0x120)
		return (int)(cpt - 0x100);
	if (cpt >= 0x121 && cpt <= 0x142)
		return (int)(0x7F + cpt - 0x121);
	if (cpt == 0x143)
		return 0xAD;
	if (cpt < 0x100 && lumen_byte_to_cpt((uint8_t)cpt) == cpt)
		return (int)cpt;
	return -1;
}
