// SPDX-License-Identifier: MIT
/*
 * UTF-8 for JSON: a token's piece may be part of a character (byte
 * tokens), and jansson takes valid UTF-8 only. A stream sends whole
 * characters; the final text has each invalid byte replaced by U+FFFD.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "serve_utf8.h"

/* bytes of a UTF-8 sequence from its lead byte; 0 for a bad lead */
static unsigned int utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* a complete, valid sequence of @n bytes at @s (no overlong, surrogate) */
static bool utf8_valid(const unsigned char *s, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return false;
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) ||
		       (s[0] == 0xed && s[1] >= 0xa0)))
		return false;
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) ||
		       (s[0] == 0xf4 && s[1] >= 0x90)))
		return false;
	return true;
}

size_t serve_utf8_complete(const char *s, size_t from, size_t end)
{
	const unsigned char *t = (const unsigned char *)s;

	/* back to the start of the last character; keep it if complete */
	for (size_t back = 0; back < 4 && end - back > from; back++) {
		size_t at = end - back - 1;
		unsigned int n;

		if ((t[at] & 0xc0) == 0x80)
			continue;
		n = utf8_seq_len(t[at]);
		if (n > 1 && at + n > end)
			end = at;
		break;
	}
	return end;
}

char *serve_utf8_clean(const char *s, size_t len, size_t *out_len)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc(3 * len + 1);	/* a bad byte becomes 3 */
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		unsigned int n = utf8_seq_len(u[i]);

		if (n && i + n <= len && utf8_valid(u + i, n)) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = 0;
	*out_len = o;
	return out;
}
