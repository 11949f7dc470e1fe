// SPDX-License-Identifier: MIT
/* lumen run: generate text from a prompt, streamed token by token. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lumen_cli.h"
#include "lumen_cli_spec.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lumen run -m MODEL (-p PROMPT | -f FILE) [options]\n"
		"  -m, --model FILE        a .lnpu, or a .gguf (compiled and cached)\n"
		"  -p, --prompt TEXT       the text to continue (-: read standard input)\n"
		"  -f, --file FILE         the text to continue, from a file (-: standard input)\n"
		"  -n, --n-predict N       tokens to generate (default 128)\n"
		CLI_SAMPLING_HELP
		"  -s, --seed S            of the sampler (default: random)\n"
		CLI_DEVICE_HELP
		"      --ignore-eos        go on after the end-of-sequence token\n"
		"      --no-stats          no statistics on stderr\n"
		CLI_SPEC_HELP);
}

struct run_opts {
	const char *model, *prompt, *file;
	struct lumen_generate_params gen;
	enum lumen_backend backend;
	uint32_t threads, ctx;
	bool seed_given, stats;
	struct cli_spec spec;
};

/* the prompt is echoed with the first token: not at all if it cannot run */
static int stream(void *data, int32_t id, const char *piece, size_t len)
{
	const char **prompt = data;

	if (*prompt) {
		fputs(*prompt, stdout);
		*prompt = NULL;
	}
	fwrite(piece, 1, len, stdout);
	fflush(stdout);
	return 0;
}

static int parse(int argc, char **argv, struct run_opts *o)
{
	enum { O_IGNORE_EOS = 256, O_NO_STATS };
	static const struct option longopts[] = {
		{ "model", required_argument, 0, 'm' },
		{ "prompt", required_argument, 0, 'p' },
		{ "file", required_argument, 0, 'f' },
		{ "n-predict", required_argument, 0, 'n' },
		CLI_SAMPLING_LONGOPTS,
		CLI_DEVICE_LONGOPTS,
		{ "ignore-eos", no_argument, 0, O_IGNORE_EOS },
		{ "no-stats", no_argument, 0, O_NO_STATS },
		CLI_SPEC_LONGOPTS,
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct lumen_sampler_params *sp = &o->gen.sampling;
	int c, r;

	while ((c = getopt_long(argc, argv, "m:p:f:n:s:t:c:h", longopts, NULL)) != -1) {
		r = cli_spec_option(c, optarg, &o->spec);
		if (r < 0)
			return -1;
		if (r)	/* --spec, --draft, --draft-max */
			continue;
		r = cli_sampling_option(c == 's' ? CLI_O_SEED : c, optarg, sp,
					&o->seed_given);
		if (!r)
			r = cli_device_option(c, optarg, &o->backend, &o->threads,
					      &o->ctx);
		if (r < 0)
			return -1;
		if (r)
			continue;
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 'p':
			o->prompt = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'n':
			if (cli_u32("-n", optarg, 1, 1u << 24, &o->gen.n_predict))
				return -1;
			break;
		case O_IGNORE_EOS:
			o->gen.stop_at_eos = false;
			break;
		case O_NO_STATS:
			o->stats = false;
			break;
		default:
			return cli_finish_parse("run", c, argc, argv, o->model, usage);
		}
	}
	if (cli_finish_parse("run", c, argc, argv, o->model, usage))
		return -1;
	if (o->prompt && o->file) {
		cli_error("run: -p and -f both give the prompt: use one");
		return -1;
	}
	if (o->prompt && !strcmp(o->prompt, "-")) {
		o->file = "-";
		o->prompt = NULL;
	}
	if (!o->prompt && !o->file) {
		cli_error("run: no prompt (-p PROMPT or -f FILE)");
		return -1;
	}
	return 0;
}

static double per_s(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0;
}

/* the most this process held in RAM: mapped weights and device buffers */
static double peak_resident_mib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? 0 : ru.ru_maxrss / 1024.0;
}

static void print_stats(const struct run_opts *o, double load_ms,
			const struct lumen_generate_stats *st,
			const struct lumen_counters *c0,
			const struct lumen_counters *c1,
			const struct lumen_device_info *di)
{
	uint64_t wall = st->first_token_ns + st->decode_ns;
	uint32_t decoded = st->n_generated ? st->n_generated - 1 : 0;

	fprintf(stderr, "\n");
	/* the NPU's cores, or the CPU backend's executor threads */
	fprintf(stderr, "lumen: backend %s, %u %s%s, seed %llu\n", di->backend,
		di->cores, strcmp(di->backend, "npu") ? "thread" : "core",
		di->cores == 1 ? "" : "s", (unsigned long long)o->gen.sampling.seed);
	if (cli_compile_ms > 0)
		fprintf(stderr, "lumen: compile time     %10.2f ms (first use of the .gguf)\n",
			cli_compile_ms);
	fprintf(stderr, "lumen: load time        %10.2f ms\n", load_ms);
	fprintf(stderr, "lumen: prefill          %10.2f ms / %5u tokens (%9.2f tok/s)\n",
		st->prefill_ns / 1e6, st->n_prompt, per_s(st->n_prompt, st->prefill_ns));
	fprintf(stderr, "lumen: time to first token %7.2f ms\n", st->first_token_ns / 1e6);
	fprintf(stderr, "lumen: decode           %10.2f ms / %5u tokens (%9.2f tok/s)\n",
		st->decode_ns / 1e6, decoded, per_s(decoded, st->decode_ns));
	fprintf(stderr, "lumen: submissions      %10llu (%u generated tokens)%s\n",
		(unsigned long long)st->submissions, st->n_generated,
		st->chained ? ", decode chained on the device" : "");
	if (st->n_ran_ahead)
		fprintf(stderr, "lumen: ran ahead        %10u decode past the stop token (queued before it was known; counted above)\n",
			st->n_ran_ahead);
	if (di->has_counters && wall && st->n_generated) {
		fprintf(stderr, "lumen: NPU busy         %10.1f %%\n",
			100.0 * (double)(c1->busy_ns - c0->busy_ns) / (double)wall);
		fprintf(stderr, "lumen: energy           %10.3f mJ/token\n",
			(double)(c1->energy_uj - c0->energy_uj) / 1e3 /
			st->n_generated);
	}
	fprintf(stderr, "lumen: peak memory      %10.1f MiB resident\n",
		peak_resident_mib());
	if (st->hit_context)
		fprintf(stderr, "lumen: stopped: the context (%u positions) is full\n",
			o->ctx);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = {
		.gen = lumen_generate_default_params(),
		.backend = LUMEN_BACKEND_AUTO,
		.stats = true,
	};
	struct lumen_device *dev = NULL;
	struct lumen_model *m = NULL;
	struct lumen_session *s = NULL;
	struct lumen_generate_stats st;
	struct lumen_counters c0, c1;
	struct lumen_device_info di;
	const char *echo;
	char *text = NULL;
	double load_ms = 0;
	int ret = CLI_FAIL, err;

	if (parse(argc, argv, &o))
		return CLI_USAGE;
	if (o.file) {
		size_t len;

		text = cli_read_text(o.file, &len);
		if (!text)
			return CLI_FAIL;
		o.prompt = text;
	}
	echo = o.prompt;
	if (!o.seed_given)
		o.gen.sampling.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	o.gen.on_token = stream;
	o.gen.data = &echo;
	if (cli_open_device(o.backend, o.threads, &dev))
		return CLI_FAIL;
	if (cli_load_model(dev, o.model, o.ctx, &m, &load_ms))
		goto out;
	err = lumen_session_create(m, o.ctx, &s);
	if (err) {
		cli_lib_error("--ctx", err);
		goto out;
	}
	o.ctx = lumen_session_ctx(s);
	if (cli_spec_setup(&o.spec, dev, o.ctx, &o.gen))
		goto out;
	lumen_device_get_info(dev, &di);
	lumen_device_get_counters(dev, &c0);
	err = lumen_generate(s, o.prompt, strlen(o.prompt), &o.gen, &st);
	lumen_device_get_counters(dev, &c1);
	if (!echo) {
		putchar('\n');
		fflush(stdout);
	}
	if (err) {
		cli_lib_error("run", err);
		goto out;
	}
	if (o.stats) {
		print_stats(&o, load_ms, &st, &c0, &c1, &di);
		cli_print_modeled(s, &di, st.n_generated);
		cli_spec_print_stats(&o.spec, m, &st);
	}
	ret = CLI_OK;
out:
	cli_spec_free(&o.spec);
	lumen_session_free(s);
	lumen_model_free(m);
	lumen_device_close(dev);
	free(text);
	return ret;
}
