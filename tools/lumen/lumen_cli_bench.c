// SPDX-License-Identifier: MIT
/*
 * lumen bench: prompt processing (ppN: N tokens through the prefill
 * program) and text generation (tgN: N decode steps from an empty cache)
 * speed, as llama-bench reports them: mean and standard deviation of
 * tokens/s over the repetitions, after one warm-up run.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lumen_cli.h"

#define MAX_LIST 8

struct bench_opts {
	const char *model;
	enum lumen_backend backend;
	uint32_t pp[MAX_LIST], tg[MAX_LIST], threads[MAX_LIST], reps;
	int n_pp, n_tg, n_threads;
	bool json;
};

struct result {
	char test[16];
	uint32_t n_prompt, n_gen;
	double mean, sd;
	double *samples;
	/* the same jobs on the modeled NPU: tokens/s and mJ per token */
	double modeled_ts, modeled_mj;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lumen bench -m MODEL [options]\n"
		"  -m, --model FILE       a .lnpu, or a .gguf (compiled and cached)\n"
		"  -p, --n-prompt N,...   prompt lengths to time (default 64; 0 = none)\n"
		"  -n, --n-gen N,...      tokens to generate (default 64; 0 = none)\n"
		"  -r, --repetitions N    runs per test (default 5)\n"
		"  -t, --threads N,...    CPU backend threads (default: all CPUs)\n"
		"      --device D         npu, cpu or auto (default: the NPU when there is one)\n"
		"      --json             JSON instead of a markdown table\n"
		"      --silicon NAME     the modeled NPU of the last columns: glasses (default), phone\n");
}

static int parse(int argc, char **argv, struct bench_opts *o)
{
	enum { O_DEVICE = 256, O_JSON, O_SILICON };
	static const struct option longopts[] = {
		{ "model", required_argument, 0, 'm' },
		{ "n-prompt", required_argument, 0, 'p' },
		{ "n-gen", required_argument, 0, 'n' },
		{ "repetitions", required_argument, 0, 'r' },
		{ "threads", required_argument, 0, 't' },
		{ "device", required_argument, 0, O_DEVICE },
		{ "json", no_argument, 0, O_JSON },
		{ "silicon", required_argument, 0, O_SILICON },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "m:p:n:r:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 'p':
			o->n_pp = cli_u32_list("-p", optarg, 0, 1u << 20, o->pp, MAX_LIST);
			if (o->n_pp < 0)
				return -1;
			break;
		case 'n':
			o->n_tg = cli_u32_list("-n", optarg, 0, 1u << 20, o->tg, MAX_LIST);
			if (o->n_tg < 0)
				return -1;
			break;
		case 'r':
			if (cli_u32("-r", optarg, 1, 1000, &o->reps))
				return -1;
			break;
		case 't':
			o->n_threads = cli_u32_list("-t", optarg, 1, 256, o->threads,
						    MAX_LIST);
			if (o->n_threads < 0)
				return -1;
			break;
		case O_DEVICE:
			if (cli_backend(optarg, &o->backend))
				return -1;
			break;
		case O_SILICON:
			cli_silicon = optarg;
			break;
		case O_JSON:
			o->json = true;
			break;
		default:
			return cli_finish_parse("bench", c, argc, argv, o->model, usage);
		}
	}
	if (cli_finish_parse("bench", c, argc, argv, o->model, usage))
		return -1;
	return 0;
}

/* one timed run; tokens per second, or a negative error */
static double run_once(struct lumen_session *s, const int32_t *ids,
		       uint32_t n_prompt, uint32_t n_gen, int *err)
{
	uint64_t t0;
	int32_t id = ids[0];

	lumen_session_reset(s);
	t0 = lumen_now_ns();
	if (n_prompt) {
		*err = lumen_session_prefill(s, ids, n_prompt);
		if (*err)
			return 0;
	}
	for (uint32_t i = 0; i < n_gen; i++) {
		*err = lumen_session_decode(s, id);
		if (*err)
			return 0;
		id = lumen_session_argmax(s);
	}
	return (double)(n_prompt + n_gen) * 1e9 / (double)(lumen_now_ns() - t0);
}

static int measure(struct lumen_session *s, const int32_t *ids,
		   uint32_t n_prompt, uint32_t n_gen, uint32_t reps,
		   struct result *r)
{
	struct lumen_modeled m0, m1;
	double sum = 0, sq = 0, modeled_ns, tokens;
	int err = 0;

	snprintf(r->test, sizeof(r->test), "%s%u", n_prompt ? "pp" : "tg",
		 n_prompt ? n_prompt : n_gen);
	r->n_prompt = n_prompt;
	r->n_gen = n_gen;
	r->samples = calloc(reps, sizeof(double));
	if (!r->samples) {
		cli_error("out of memory");
		return -1;
	}
	run_once(s, ids, n_prompt, n_gen, &err);	/* warm-up */
	lumen_session_get_modeled(s, &m0);
	for (uint32_t i = 0; i < reps && !err; i++) {
		r->samples[i] = run_once(s, ids, n_prompt, n_gen, &err);
		sum += r->samples[i];
	}
	lumen_session_get_modeled(s, &m1);
	modeled_ns = (double)(m1.prefill_ns + m1.decode_ns - m0.prefill_ns - m0.decode_ns);
	tokens = (double)reps * (n_prompt ? n_prompt : n_gen);
	r->modeled_ts = modeled_ns > 0 ? tokens * 1e9 / modeled_ns : 0;
	r->modeled_mj = (double)(m1.energy_nj - m0.energy_nj) / 1e6 / tokens;
	if (err) {
		cli_lib_error(r->test, err);
		return -1;
	}
	r->mean = sum / reps;
	for (uint32_t i = 0; i < reps; i++)
		sq += (r->samples[i] - r->mean) * (r->samples[i] - r->mean);
	r->sd = reps > 1 ? sqrt(sq / (reps - 1)) : 0;
	return 0;
}

static void print_row(const struct bench_opts *o, const struct lumen_model_info *mi,
		      const struct lumen_device_info *di, uint32_t threads,
		      const struct result *r, bool *first)
{
	const char *backend = di->backend;
	char size[32], params[32], model[64];

	cli_format_size(mi->file_size, size, sizeof(size));
	cli_format_count(mi->n_params, params, sizeof(params));
	snprintf(model, sizeof(model), "%s %s %s", mi->arch, params,
		 lumen_dtype_name(mi->weight_dtype));
	if (o->json) {
		printf("%s  {\"model\": \"%s\", \"model_name\": \"%s\", \"size\": %llu, "
		       "\"params\": %llu, \"backend\": \"%s\", \"threads\": %u, "
		       "\"test\": \"%s\", \"n_prompt\": %u, \"n_gen\": %u, "
		       "\"avg_ts\": %.3f, \"stddev_ts\": %.3f, \"samples_ts\": [",
		       *first ? "" : ",\n", model, mi->name,
		       (unsigned long long)mi->file_size,
		       (unsigned long long)mi->n_params, backend, threads, r->test,
		       r->n_prompt, r->n_gen, r->mean, r->sd);
		for (uint32_t i = 0; i < o->reps; i++)
			printf("%s%.3f", i ? ", " : "", r->samples[i]);
		printf("], \"silicon\": \"%s\", \"modeled_ts\": %.3f, "
		       "\"modeled_mj_per_token\": %.4f}", di->silicon,
		       r->modeled_ts, r->modeled_mj);
	} else {
		if (*first) {
			char modeled[32];

			snprintf(modeled, sizeof(modeled), "%s t/s", di->silicon);
			printf("| %-24s | %10s | %10s | %-7s | %7s | %8s | %20s | %13s | %9s |\n",
			       "model", "size", "params", "backend", "threads",
			       "test", "t/s", modeled, "mJ/token");
			printf("| %-24s | %10s | %10s | %-7s | %7s | %8s | %20s | %13s | %9s |\n",
			       "------------------------", "---------:", "---------:",
			       "-------", "------:", "-------:",
			       "-------------------:", "------------:", "--------:");
		}
		printf("| %-24s | %10s | %10s | %-7s | %7u | %8s | %11.2f ± %6.2f | %13.2f | %9.3f |\n",
		       model, size, params, backend, threads, r->test, r->mean,
		       r->sd, r->modeled_ts, r->modeled_mj);
	}
	fflush(stdout);
	*first = false;
}

static int bench_threads(const struct bench_opts *o, uint32_t threads,
			 bool *first)
{
	struct lumen_device *dev = NULL;
	struct lumen_model *m = NULL;
	struct lumen_session *s = NULL;
	struct lumen_model_info mi;
	struct lumen_device_info di;
	int32_t *ids = NULL;
	uint32_t longest = 1;
	int ret = -1;

	if (cli_open_device(o->backend, threads, &dev))
		return -1;
	if (cli_load_model(dev, o->model, 0, &m, NULL))
		goto out;
	lumen_model_get_info(m, &mi);
	lumen_device_get_info(dev, &di);
	for (int i = 0; i < o->n_pp; i++)
		longest = o->pp[i] > longest ? o->pp[i] : longest;
	for (int i = 0; i < o->n_tg; i++)
		longest = o->tg[i] > longest ? o->tg[i] : longest;
	if (longest > mi.ctx) {
		cli_error("bench: a test of %u tokens does not fit the model's context of %u",
			  longest, mi.ctx);
		goto out;
	}
	/* a KV cache for the longest test only, as llama-bench sizes it */
	if (lumen_session_create(m, longest, &s)) {
		cli_lib_error("session", -1);
		goto out;
	}
	ids = malloc(sizeof(*ids) * longest);
	if (!ids) {
		cli_error("out of memory");
		goto out;
	}
	/* a fixed, vocabulary-spread token sequence starting at BOS */
	for (uint32_t i = 0; i < longest; i++)
		ids[i] = (int32_t)((i * 7919u + 3) % mi.n_vocab);
	if (lumen_tokenizer_bos(lumen_model_tokenizer(m)) >= 0)
		ids[0] = lumen_tokenizer_bos(lumen_model_tokenizer(m));
	for (int k = 0; k < o->n_pp + o->n_tg; k++) {
		uint32_t pp = k < o->n_pp ? o->pp[k] : 0;
		uint32_t tg = k < o->n_pp ? 0 : o->tg[k - o->n_pp];
		struct result r = { .n_prompt = 0 };

		if (!pp && !tg)
			continue;
		if (measure(s, ids, pp, tg, o->reps, &r)) {
			free(r.samples);
			goto out;
		}
		print_row(o, &mi, &di, di.cores, &r, first);
		free(r.samples);
	}
	ret = 0;
out:
	free(ids);
	lumen_session_free(s);
	lumen_model_free(m);
	lumen_device_close(dev);
	return ret;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = {
		.backend = LUMEN_BACKEND_AUTO,
		.pp = { 64 }, .tg = { 64 }, .threads = { 0 },
		.n_pp = 1, .n_tg = 1, .n_threads = 1,
		.reps = 5,
	};
	bool first = true;

	if (parse(argc, argv, &o))
		return CLI_USAGE;
	if (o.json)
		printf("[\n");
	for (int i = 0; i < o.n_threads; i++)
		if (bench_threads(&o, o.threads[i], &first))
			return CLI_FAIL;
	if (o.json)
		printf("\n]\n");
	return CLI_OK;
}
