/* SPDX-License-Identifier: MIT */
/* The lumen command: shared pieces of its subcommands. */
#ifndef LUMEN_CLI_H
#define LUMEN_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

/*
 * The sampling options run and chat share: put CLI_SAMPLING_LONGOPTS in
 * the getopt_long table; cli_sampling_option() takes the option's value
 * (1: it was one of them, 0: it was not, -1: a bad value, printed).
 */
enum {
	CLI_O_TEMP = 0x1000, CLI_O_TOPK, CLI_O_TOPP, CLI_O_MINP, CLI_O_REPEAT,
	CLI_O_LASTN, CLI_O_SEED,
};
#define CLI_SAMPLING_LONGOPTS \
	{ "temp", required_argument, 0, CLI_O_TEMP }, \
	{ "top-k", required_argument, 0, CLI_O_TOPK }, \
	{ "top-p", required_argument, 0, CLI_O_TOPP }, \
	{ "min-p", required_argument, 0, CLI_O_MINP }, \
	{ "repeat-penalty", required_argument, 0, CLI_O_REPEAT }, \
	{ "repeat-last-n", required_argument, 0, CLI_O_LASTN }, \
	{ "seed", required_argument, 0, CLI_O_SEED }
#define CLI_SAMPLING_HELP \
	"      --temp T            temperature, 0 = greedy (default 0.8)\n" \
	"      --top-k K           (default 40, 0 = off)\n" \
	"      --top-p P           (default 0.95, 1 = off)\n" \
	"      --min-p P           (default 0.05, 0 = off)\n" \
	"      --repeat-penalty X  (default 1 = off)\n" \
	"      --repeat-last-n N   tokens the penalty looks at (default 64)\n"
int cli_sampling_option(int c, const char *arg, struct lumen_sampler_params *sp,
			bool *seed_given);

/*
 * The device options run, chat and serve share, the same way:
 * CLI_DEVICE_LONGOPTS in the table ("t:c:" among the short ones),
 * cli_device_option() for each (1: one of them, 0: not, -1: bad, printed).
 * --silicon goes to cli_silicon.
 */
enum { CLI_O_DEVICE = 0x1100, CLI_O_SILICON };
#define CLI_DEVICE_LONGOPTS \
	{ "device", required_argument, 0, CLI_O_DEVICE }, \
	{ "threads", required_argument, 0, 't' }, \
	{ "ctx", required_argument, 0, 'c' }, \
	{ "silicon", required_argument, 0, CLI_O_SILICON }
#define CLI_DEVICE_HELP \
	"      --device D          npu, cpu or auto (default: the NPU when there is one)\n" \
	"  -t, --threads N         CPU backend threads (default: all CPUs)\n" \
	"  -c, --ctx N             context positions (default: the model's)\n" \
	"      --silicon NAME      the modeled NPU of the statistics: glasses (default), phone\n"
int cli_device_option(int c, const char *arg, enum lumen_backend *backend,
		      uint32_t *threads, uint32_t *ctx);

/*
 * The end of a subcommand's option parsing, the same for each: call it in
 * the switch's default with the option @c that none of the command's
 * cases took ('h': @usage on stdout and exit 0; anything else: @usage on
 * stderr, -1), and once more after the loop, @c being -1 then: an
 * argument left over, or no -m MODEL (@model NULL), is an error named
 * after @cmd (-1, printed); else 0.
 */
int cli_finish_parse(const char *cmd, int c, int argc, char **argv,
		     const char *model, void (*usage)(FILE *f));

/*
 * The whole text of file @path ("-": standard input), NUL-terminated, in
 * a buffer to free(); NULL after a message.
 */
char *cli_read_text(const char *path, size_t *len);
/* "1,2,4" -> up to @cap values in [min, max]; how many, or -1 */
int cli_u32_list(const char *opt, const char *s, uint32_t min, uint32_t max,
		 uint32_t *out, int cap);

/* --silicon NAME of the command, for cli_open_device(); NULL: the default */
extern const char *cli_silicon;
/* lumen_cli_silicon.c: a session's figures on the modeled NPU, on stderr */
void cli_print_modeled(const struct lumen_session *s,
		       const struct lumen_device_info *di, uint32_t n_generated);
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
/*
 * lumen_cli_cache.c: @path itself if it is a .lnpu; else the cached
 * compilation of a .gguf (compiled now if there is none, which sets
 * cli_compile_ms; 0 when the cache had it)
 */
int cli_resolve_model(const char *path, uint32_t ctx, char *out, size_t len);
extern double cli_compile_ms;
/* $LUMEN_CACHE/models (or ~/.cache/lumen/models), created if @create */
int cli_cache_dir(char *out, size_t len, bool create);
int cli_run_lumenc(char *const *args);

void cli_format_size(uint64_t bytes, char *buf, size_t len);
void cli_format_count(uint64_t n, char *buf, size_t len);

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_rm(int argc, char **argv);
/* tools/lumen/serve/; weak: the static guest build goes without it */
int cmd_serve(int argc, char **argv) __attribute__((weak));

#endif /* LUMEN_CLI_H */
