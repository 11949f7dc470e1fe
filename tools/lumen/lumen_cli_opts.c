// SPDX-License-Identifier: MIT
/* Option values, opening the device and loading a model for the CLI. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lumen_cli.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("lumen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_lib_error(const char *what, int err)
{
	const char *detail = lumen_last_error();

	cli_error("%s: %s", what, detail[0] ? detail : lumen_strerror(err));
	return CLI_FAIL;
}

int cli_u64(const char *opt, const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-') {
		cli_error("%s: '%s' is not a non-negative integer", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_u32(const char *opt, const char *s, uint32_t min, uint32_t max,
	    uint32_t *out)
{
	uint64_t v;

	if (cli_u64(opt, s, &v))
		return -1;
	if (v < min || v > max) {
		cli_error("%s: %s is outside %u..%u", opt, s, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int cli_float(const char *opt, const char *s, double min, double max,
	      float *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v)) {
		cli_error("%s: '%s' is not a number", opt, s);
		return -1;
	}
	if (v < min || v > max) {
		cli_error("%s: %s is outside %g..%g", opt, s, min, max);
		return -1;
	}
	*out = (float)v;
	return 0;
}

int cli_backend(const char *s, enum lumen_backend *out)
{
	int b = lumen_backend_from_name(s);

	if (b < 0) {
		cli_error("--device: '%s' is not npu, cpu or auto", s);
		return -1;
	}
	*out = (enum lumen_backend)b;
	return 0;
}

int cli_u32_list(const char *opt, const char *s, uint32_t min, uint32_t max,
		 uint32_t *out, int cap)
{
	char buf[256], *save = NULL, *tok;
	int n = 0;

	if (strlen(s) >= sizeof(buf)) {
		cli_error("%s: list too long", opt);
		return -1;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == cap) {
			cli_error("%s: at most %d values", opt, cap);
			return -1;
		}
		if (cli_u32(opt, tok, min, max, &out[n]))
			return -1;
		n++;
	}
	if (!n) {
		cli_error("%s: no value given", opt);
		return -1;
	}
	return n;
}

const char *cli_silicon;

int cli_open_device(enum lumen_backend backend, unsigned int threads,
		    struct lumen_device **dev)
{
	struct lumen_device_options opt = {
		.backend = backend,
		.threads = threads,
		.silicon = cli_silicon,
	};
	int ret = lumen_device_open(dev, &opt);

	if (ret)
		return cli_lib_error(lumen_last_error() && strstr(lumen_last_error(), "modeled NPU") ?
				     "--silicon" :
				     backend == LUMEN_BACKEND_NPU ? "--device npu" :
				     backend == LUMEN_BACKEND_CPU ? "--device cpu" :
				     "--device auto", ret);
	return 0;
}

/* a bar on a terminal, nothing elsewhere */
static void progress_bar(void *data, double done)
{
	int width = 30, fill = (int)(done * width + 0.5);

	fprintf(stderr, "\rloading %-.40s [", (const char *)data);
	for (int i = 0; i < width; i++)
		fputc(i < fill ? '#' : '.', stderr);
	fprintf(stderr, "] %3d%%", (int)(done * 100 + 0.5));
	if (done >= 1)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

int cli_load_model(struct lumen_device *dev, const char *path, uint32_t ctx,
		   struct lumen_model **model, double *load_ms)
{
	struct lumen_model_options opt = { 0 };
	char lnpu[4096];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	uint64_t t0;
	int ret;

	/*
	 * A .gguf is compiled once for its default context: sessions size
	 * their KV cache to what they ask for. Only a longer context than
	 * that default needs a compile of its own.
	 */
	if (cli_resolve_model(path, 0, lnpu, sizeof(lnpu)))
		return CLI_FAIL;
	if (isatty(STDERR_FILENO)) {
		opt.progress = progress_bar;
		opt.progress_data = (void *)base;
	}
	t0 = lumen_now_ns();
	ret = lumen_model_load(dev, lnpu, &opt, model);
	if (!ret && ctx && strcmp(lnpu, path)) {
		struct lumen_model_info mi;

		lumen_model_get_info(*model, &mi);
		if (ctx > mi.ctx) {
			lumen_model_free(*model);
			*model = NULL;
			if (cli_resolve_model(path, ctx, lnpu, sizeof(lnpu)))
				return CLI_FAIL;
			ret = lumen_model_load(dev, lnpu, &opt, model);
		}
	}
	if (ret) {
		if (opt.progress)
			fputs("\r\033[K", stderr);
		return cli_lib_error("cannot load the model", ret);
	}
	if (load_ms)
		*load_ms = (double)(lumen_now_ns() - t0) / 1e6;
	return 0;
}

void cli_format_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= (1ull << 30))
		snprintf(buf, len, "%.2f GiB", (double)bytes / (1ull << 30));
	else if (bytes >= (1ull << 20))
		snprintf(buf, len, "%.2f MiB", (double)bytes / (1ull << 20));
	else
		snprintf(buf, len, "%.2f KiB", (double)bytes / 1024);
}

void cli_format_count(uint64_t n, char *buf, size_t len)
{
	if (n >= 1000000000ull)
		snprintf(buf, len, "%.2f B", (double)n / 1e9);
	else if (n >= 1000000ull)
		snprintf(buf, len, "%.2f M", (double)n / 1e6);
	else
		snprintf(buf, len, "%.2f K", (double)n / 1e3);
}

int cli_device_option(int c, const char *arg, enum lumen_backend *backend,
		      uint32_t *threads, uint32_t *ctx)
{
	switch (c) {
	case CLI_O_DEVICE:
		return cli_backend(arg, backend) ? -1 : 1;
	case 't':
		return cli_u32("--threads", arg, 1, 256, threads) ? -1 : 1;
	case 'c':
		return cli_u32("--ctx", arg, 1, 1u << 20, ctx) ? -1 : 1;
	case CLI_O_SILICON:
		cli_silicon = arg;
		return 1;
	}
	return 0;
}

int cli_finish_parse(const char *cmd, int c, int argc, char **argv,
		     const char *model, void (*usage)(FILE *f))
{
	if (c == 'h') {
		usage(stdout);
		exit(CLI_OK);
	}
	if (c != -1) {
		usage(stderr);
		return -1;
	}
	if (optind != argc) {
		cli_error("%s: unexpected argument '%s'", cmd, argv[optind]);
		return -1;
	}
	if (!model) {
		cli_error("%s: no model (-m MODEL)", cmd);
		return -1;
	}
	return 0;
}

int cli_sampling_option(int c, const char *arg, struct lumen_sampler_params *sp,
			bool *seed_given)
{
	uint32_t v;

	switch (c) {
	case CLI_O_TEMP:
		return cli_float("--temp", arg, 0, 100, &sp->temperature) ? -1 : 1;
	case CLI_O_TOPK:
		if (cli_u32("--top-k", arg, 0, 1u << 24, &v))
			return -1;
		sp->top_k = (int32_t)v;
		return 1;
	case CLI_O_TOPP:
		return cli_float("--top-p", arg, 0, 1, &sp->top_p) ? -1 : 1;
	case CLI_O_MINP:
		return cli_float("--min-p", arg, 0, 1, &sp->min_p) ? -1 : 1;
	case CLI_O_REPEAT:
		return cli_float("--repeat-penalty", arg, 0.01, 100,
				 &sp->repeat_penalty) ? -1 : 1;
	case CLI_O_LASTN:
		if (cli_u32("--repeat-last-n", arg, 0, 1u << 20, &v))
			return -1;
		sp->repeat_last_n = (int32_t)v;
		return 1;
	case CLI_O_SEED:
		if (cli_u64("--seed", arg, &sp->seed))
			return -1;
		*seed_given = true;
		return 1;
	}
	return 0;
}

char *cli_read_text(const char *path, size_t *len)
{
	bool is_stdin = !strcmp(path, "-");
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf = NULL;

	if (!f) {
		cli_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		char *nb = n + 1 >= cap || !buf ? realloc(buf, cap *= 2) : buf;
		size_t got;

		if (!nb) {
			cli_error("%s: out of memory", path);
			goto fail;
		}
		buf = nb;
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		cli_error("%s: %s", is_stdin ? "standard input" : path,
			  strerror(errno));
		goto fail;
	}
	if (!is_stdin)
		fclose(f);
	buf[n] = 0;
	if (strlen(buf) != n) {
		cli_error("%s: a NUL byte in the text", is_stdin ? "standard input" : path);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
fail:
	if (!is_stdin)
		fclose(f);
	free(buf);
	return NULL;
}
