/* SPDX-License-Identifier: MIT */
/* The lumen command: shared pieces of its subcommands. */
#ifndef LUMEN_CLI_H
#define LUMEN_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <lumen/lumen.h>

/* exit statuses */
#define CLI_OK		0
#define CLI_FAIL	1	/* the request failed */
#define CLI_USAGE	2	/* the command line is wrong */

extern const char *cli_argv0_dir;	/* where the lumen binary lives */

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "lumen: <what>: <lumen_last_error() or the code's name>" */
int cli_lib_error(const char *what, int err);

/* option values: -1 (after a message) when @s is not one */
int cli_u32(const char *opt, const char *s, uint32_t min, uint32_t max,
	    uint32_t *out);
int cli_u64(const char *opt, const char *s, uint64_t *out);
int cli_float(const char *opt, const char *s, double min, double max,
	      float *out);
int cli_backend(const char *s, enum lumen_backend *out);
/* "1,2,4" -> up to @cap values in [min, max]; how many, or -1 */
int cli_u32_list(const char *opt, const char *s, uint32_t min, uint32_t max,
		 uint32_t *out, int cap);

int cli_open_device(enum lumen_backend backend, unsigned int threads,
		    struct lumen_device **dev);
/*
 * Load @path: a .lnpu, or a .gguf compiled first into the cache
 * ($LUMEN_CACHE/models, for a context of @ctx or the model's own when 0).
 * Shows a progress bar when stderr is a terminal. Prints the error.
 */
int cli_load_model(struct lumen_device *dev, const char *path, uint32_t ctx,
		   struct lumen_model **model, double *load_ms);

/* lumen_cli_model.c: where lumenc is; 0 or -1 with a message printed */
int cli_find_lumenc(char *out, size_t len);
/* @path itself if it is a .lnpu; else the cached compilation of a .gguf */
int cli_resolve_model(const char *path, uint32_t ctx, char *out, size_t len);
int cli_run_lumenc(char *const *args);

void cli_format_size(uint64_t bytes, char *buf, size_t len);
void cli_format_count(uint64_t n, char *buf, size_t len);

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_compile(int argc, char **argv);
/* tools/lumen/serve/; weak: the static guest build goes without it */
int cmd_serve(int argc, char **argv) __attribute__((weak));

#endif /* LUMEN_CLI_H */
