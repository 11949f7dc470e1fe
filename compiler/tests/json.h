/* SPDX-License-Identifier: MIT */
/*
 * A small JSON reader for the golden files: whole values into a tree.
 * Strings keep their raw (still escaped) bytes; numbers become doubles.
 */
#ifndef LUMENC_JSON_H
#define LUMENC_JSON_H

#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

struct json {
	enum json_type type;
	double num;		/* JSON_NUM, JSON_BOOL */
	const char *str;	/* JSON_STR: raw bytes between the quotes */
	size_t len;
	struct json *items;	/* JSON_ARR, JSON_OBJ values */
	struct json *keys;	/* JSON_OBJ: JSON_STR keys */
	size_t n;
};

/* parse @len bytes; NULL on a syntax error (the offset in *err_at) */
struct json *json_parse(const char *text, size_t len, size_t *err_at);
void json_free(struct json *v);
const struct json *json_get(const struct json *obj, const char *key);

#endif /* LUMENC_JSON_H */
