// SPDX-License-Identifier: MIT
/* A reader for exactly the JSON the golden files hold. */
#include "golden.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cur {
	const char *p, *end;
	const char *start;
	char *err;
	size_t errlen;
	int failed;
};

static int bad(struct cur *c, const char *what)
{
	if (!c->failed)
		snprintf(c->err, c->errlen, "byte %td: %s", c->p - c->start, what);
	c->failed = 1;
	return -1;
}

static void ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' ||
				 *c->p == '\n'))
		c->p++;
}

static int eat(struct cur *c, char ch)
{
	ws(c);
	if (c->p >= c->end || *c->p != ch) {
		char what[32];

		snprintf(what, sizeof(what), "expected '%c'", ch);
		return bad(c, what);
	}
	c->p++;
	return 0;
}

static int peek(struct cur *c, char ch)
{
	ws(c);
	return c->p < c->end && *c->p == ch;
}

static void put_utf8(char *out, size_t *n, size_t cap, unsigned cp)
{
	unsigned char b[4];
	int k;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | cp >> 6;
		b[1] = 0x80 | (cp & 0x3f);
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | cp >> 12;
		b[1] = 0x80 | (cp >> 6 & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		k = 3;
	} else {
		b[0] = 0xf0 | cp >> 18;
		b[1] = 0x80 | (cp >> 12 & 0x3f);
		b[2] = 0x80 | (cp >> 6 & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		k = 4;
	}
	for (int i = 0; i < k && *n < cap; i++)
		out[(*n)++] = (char)b[i];
}

static int hex4(struct cur *c, unsigned *v)
{
	char buf[5] = { 0 };
	char *endp;

	if (c->end - c->p < 4)
		return bad(c, "short \\u escape");
	memcpy(buf, c->p, 4);
	*v = (unsigned)strtoul(buf, &endp, 16);
	if (*endp)
		return bad(c, "bad \\u escape");
	c->p += 4;
	return 0;
}

/* a string into @out (NULL: skipped) */
static int string(struct cur *c, char *out, size_t cap, size_t *len)
{
	size_t n = 0;

	if (eat(c, '"'))
		return -1;
	while (c->p < c->end && *c->p != '"') {
		unsigned cp = (unsigned char)*c->p++;

		if (cp == '\\') {
			if (c->p >= c->end)
				return bad(c, "unterminated escape");
			switch (*c->p++) {
			case 'n': cp = '\n'; break;
			case 't': cp = '\t'; break;
			case 'r': cp = '\r'; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'u':
				if (hex4(c, &cp))
					return -1;
				if (cp >= 0xd800 && cp < 0xdc00) {
					unsigned lo;

					if (c->end - c->p < 2 || c->p[0] != '\\' ||
					    c->p[1] != 'u')
						return bad(c, "lone surrogate");
					c->p += 2;
					if (hex4(c, &lo))
						return -1;
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					     (lo - 0xdc00);
				}
				break;
			default: cp = (unsigned char)c->p[-1]; break;
			}
			if (out)
				put_utf8(out, &n, cap, cp);
		} else if (out && n < cap) {
			out[n++] = (char)cp;
		}
	}
	if (out && n >= cap)
		return bad(c, "string too long");
	if (len)
		*len = n;
	return eat(c, '"');
}

static int number(struct cur *c, double *v)
{
	char *endp;

	ws(c);
	*v = strtod(c->p, &endp);
	if (endp == c->p || endp > c->end)
		return bad(c, "expected a number");
	c->p = endp;
	return 0;
}

static int skip_value(struct cur *c)
{
	double d;

	ws(c);
	if (peek(c, '"'))
		return string(c, NULL, 0, NULL);
	if (peek(c, '[') || peek(c, '{')) {
		char close = *c->p == '[' ? ']' : '}';
		int obj = close == '}';

		c->p++;
		if (peek(c, close))
			return eat(c, close);
		do {
			if (obj && (string(c, NULL, 0, NULL) || eat(c, ':')))
				return -1;
			if (skip_value(c))
				return -1;
		} while (peek(c, ',') && !eat(c, ','));
		return eat(c, close);
	}
	if (c->end - c->p >= 4 && (!strncmp(c->p, "true", 4) ||
				   !strncmp(c->p, "null", 4))) {
		c->p += 4;
		return 0;
	}
	if (c->end - c->p >= 5 && !strncmp(c->p, "false", 5)) {
		c->p += 5;
		return 0;
	}
	return number(c, &d);
}

static int ids(struct cur *c, int32_t *out, size_t cap, size_t *n)
{
	double v;

	*n = 0;
	if (eat(c, '['))
		return -1;
	if (peek(c, ']'))
		return eat(c, ']');
	do {
		if (*n >= cap)
			return bad(c, "too many ids");
		if (number(c, &v))
			return -1;
		out[(*n)++] = (int32_t)v;
	} while (peek(c, ',') && !eat(c, ','));
	return eat(c, ']');
}

static int step(struct cur *c, struct golden_step *s)
{
	char key[16];
	size_t klen;
	double v;

	if (eat(c, '{'))
		return -1;
	do {
		if (string(c, key, sizeof(key) - 1, &klen) || eat(c, ':'))
			return -1;
		key[klen] = 0;
		if (!strcmp(key, "id")) {
			if (number(c, &v))
				return -1;
			s->id = (int32_t)v;
		} else if (!strcmp(key, "top5")) {
			if (eat(c, '['))
				return -1;
			for (int i = 0; i < 5; i++) {
				if ((i && eat(c, ',')) || eat(c, '[') ||
				    number(c, &v))
					return -1;
				s->top_id[i] = (int32_t)v;
				if (eat(c, ',') || number(c, &s->top_logit[i]) ||
				    eat(c, ']'))
					return -1;
			}
			if (eat(c, ']'))
				return -1;
		} else if (skip_value(c)) {
			return -1;
		}
	} while (peek(c, ',') && !eat(c, ','));
	return eat(c, '}');
}

static int object(struct cur *c, struct golden *g)
{
	char key[32];
	size_t klen;

	if (eat(c, '{'))
		return -1;
	do {
		if (string(c, key, sizeof(key) - 1, &klen) || eat(c, ':'))
			return -1;
		key[klen] = 0;
		if (!strcmp(key, "prompt")) {
			if (string(c, g->prompt, sizeof(g->prompt) - 1,
				   &g->prompt_len))
				return -1;
			g->prompt[g->prompt_len] = 0;
		} else if (!strcmp(key, "prompt_ids")) {
			if (ids(c, g->prompt_ids, GOLDEN_MAX_IDS, &g->n_prompt_ids))
				return -1;
		} else if (!strcmp(key, "steps")) {
			if (eat(c, '['))
				return -1;
			do {
				if (g->n_steps >= GOLDEN_MAX_STEPS)
					return bad(c, "too many steps");
				if (step(c, &g->steps[g->n_steps++]))
					return -1;
			} while (peek(c, ',') && !eat(c, ','));
			if (eat(c, ']'))
				return -1;
		} else if (skip_value(c)) {
			return -1;
		}
	} while (peek(c, ',') && !eat(c, ','));
	return eat(c, '}');
}

int golden_load(struct golden *g, const char *path, unsigned int index,
		char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = -1;
	struct cur c = { .err = err, .errlen = errlen };

	memset(g, 0, sizeof(*g));
	if (!f) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	for (unsigned int i = 0; i <= index; i++) {
		n = getline(&line, &cap, f);
		if (n < 0)
			break;
	}
	fclose(f);
	if (n < 0) {
		free(line);
		snprintf(err, errlen, "%s: no line %u", path, index + 1);
		return -1;
	}
	c.p = c.start = line;
	c.end = line + n;
	if (object(&c, g) || !g->n_prompt_ids || !g->n_steps) {
		if (!c.failed)
			snprintf(err, errlen, "%s: line %u lacks prompt_ids or steps",
				 path, index + 1);
		free(line);
		return -1;
	}
	free(line);
	return 0;
}
