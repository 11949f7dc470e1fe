// SPDX-License-Identifier: MIT
#include "compile.h"

#include <stdio.h>
#include <string.h>

#include "gguf.h"
#include "lnpu_write.h"
#include "model.h"

static int is_gguf(const char *path)
{
	unsigned char magic[4] = { 0 };
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 1;	/* let the GGUF reader report the error */
	n = fread(magic, 1, 4, f);
	fclose(f);
	return n < 4 || !memcmp(magic, "GGUF", 4);
}

int lc_compile_file(const char *in, const char *tokenizer, const char *out,
		    const struct lc_options *opt, FILE *report, int progress,
		    char *err, size_t errlen)
{
	struct gguf_file g = { 0 };
	struct lm_model m;
	struct lc_out o;
	struct lnpu_write_opts wo = { .progress = progress };
	char msg[512];
	int from_gguf = tokenizer == NULL || is_gguf(in);
	int ret = -1;

	if (!tokenizer && !is_gguf(in)) {
		snprintf(err, errlen,
			 "%s: offset 0: header.magic: not a GGUF file (a llama2.c checkpoint needs --tokenizer)",
			 in);
		return -1;
	}
	if (from_gguf) {
		if (gguf_open(&g, in, msg, sizeof(msg))) {
			snprintf(err, errlen, "%s: %s", in, msg);
			return -1;
		}
		if (lm_from_gguf(&m, &g, msg, sizeof(msg))) {
			snprintf(err, errlen, "%s: %s", in, msg);
			gguf_close(&g);
			return -1;
		}
		wo.drop_source_pages = 1;
	} else if (lm_from_llama2c(&m, in, tokenizer, err, errlen)) {
		return -1;
	}
	if (lc_lower(&o, &m, opt, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s: %s", in, msg);
		goto out_model;
	}
	if (report)
		lc_report(&o, report);
	ret = lnpu_write(out, &o, &wo, err, errlen);
	lc_free(&o);
out_model:
	lm_free(&m);
	if (from_gguf)
		gguf_close(&g);
	return ret;
}
