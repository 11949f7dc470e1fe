// SPDX-License-Identifier: MIT
#include "json.h"

#include <stdlib.h>
#include <string.h>

struct jp {
	const char *s;
	size_t len, at;
	int depth;
};

static void ws(struct jp *p)
{
	while (p->at < p->len && strchr(" \t\r\n", p->s[p->at]))
		p->at++;
}

static int peek(struct jp *p)
{
	ws(p);
	return p->at < p->len ? (unsigned char)p->s[p->at] : -1;
}

static int value(struct jp *p, struct json *v);

static int string(struct jp *p, struct json *v)
{
	p->at++;	/* the opening quote */
	v->type = JSON_STR;
	v->str = p->s + p->at;
	while (p->at < p->len && p->s[p->at] != '"') {
		if (p->s[p->at] == '\\')
			p->at++;
		p->at++;
	}
	if (p->at >= p->len)
		return -1;
	v->len = (size_t)(p->s + p->at - v->str);
	p->at++;
	return 0;
}

static int push(struct json *v, size_t *cap)
{
	if (v->n == *cap) {
		size_t c = *cap ? 2 * *cap : 8;
		void *items = realloc(v->items, c * sizeof(*v->items));
		void *keys;

		if (!items)
			return -1;
		v->items = items;
		if (v->type == JSON_OBJ) {
			keys = realloc(v->keys, c * sizeof(*v->keys));
			if (!keys)
				return -1;
			v->keys = keys;
		}
		*cap = c;
	}
	memset(&v->items[v->n], 0, sizeof(*v->items));
	if (v->type == JSON_OBJ)
		memset(&v->keys[v->n], 0, sizeof(*v->keys));
	return 0;
}

static int container(struct jp *p, struct json *v, int close)
{
	size_t cap = 0;

	if (++p->depth > 64)
		return -1;
	p->at++;
	if (peek(p) == close) {
		p->at++;
		p->depth--;
		return 0;
	}
	for (;;) {
		if (push(v, &cap))
			return -1;
		if (v->type == JSON_OBJ) {
			if (peek(p) != '"' || string(p, &v->keys[v->n]) ||
			    peek(p) != ':')
				return -1;
			p->at++;
		}
		if (value(p, &v->items[v->n++]))
			return -1;
		if (peek(p) == ',') {
			p->at++;
			continue;
		}
		if (peek(p) != close)
			return -1;
		p->at++;
		p->depth--;
		return 0;
	}
}

static int value(struct jp *p, struct json *v)
{
	int c = peek(p);
	char *end;

	switch (c) {
	case '{':
		v->type = JSON_OBJ;
		return container(p, v, '}');
	case '[':
		v->type = JSON_ARR;
		return container(p, v, ']');
	case '"':
		return string(p, v);
	case 't': case 'f': case 'n': {
		const char *w = c == 't' ? "true" : c == 'f' ? "false" : "null";
		size_t n = strlen(w);

		if (p->len - p->at < n || memcmp(p->s + p->at, w, n))
			return -1;
		p->at += n;
		v->type = c == 'n' ? JSON_NULL : JSON_BOOL;
		v->num = c == 't';
		return 0;
	}
	default: {
		char buf[64];
		size_t n = 0;

		while (p->at + n < p->len && n < sizeof(buf) - 1 &&
		       strchr("+-0123456789.eE", p->s[p->at + n]))
			n++;
		if (!n)
			return -1;
		memcpy(buf, p->s + p->at, n);
		buf[n] = 0;
		v->type = JSON_NUM;
		v->num = strtod(buf, &end);
		if (*end)
			return -1;
		p->at += n;
		return 0;
	}
	}
}

static void free_tree(struct json *v)
{
	for (size_t i = 0; i < v->n; i++)
		free_tree(&v->items[i]);
	free(v->items);
	free(v->keys);
}

struct json *json_parse(const char *text, size_t len, size_t *err_at)
{
	struct jp p = { text, len, 0, 0 };
	struct json *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	if (value(&p, v) || peek(&p) != -1) {
		*err_at = p.at;
		json_free(v);
		return NULL;
	}
	return v;
}

void json_free(struct json *v)
{
	if (!v)
		return;
	free_tree(v);
	free(v);
}

const struct json *json_get(const struct json *obj, const char *key)
{
	size_t n = strlen(key);

	if (!obj || obj->type != JSON_OBJ)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (obj->keys[i].len == n && !memcmp(obj->keys[i].str, key, n))
			return &obj->items[i];
	return NULL;
}
