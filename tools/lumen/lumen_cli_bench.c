// SPDX-License-Identifier: MIT
/*
 * lumen bench: prompt processing (ppN: N tokens through the prefill
 * program) and text generation (tgN: N decode steps from an empty cache)
 * speed, as llama-bench reports them: mean and standard deviation of
 * tokens/s over the repetitions, after one warm-up run. With --spec, the
 * tg rows are generated after a prompt both plainly and speculatively,
 * side by side (lumen_cli_bench_spec.c).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lumen_cli.h"
#include "lumen_cli_bench_spec.h"
#include "lumen_cli_spec.h"

#define MAX_LIST 8

struct bench_opts {
	const char *model;
	enum lumen_backend backend;
	uint32_t pp[MAX_LIST], tg[MAX_LIST], threads[MAX_LIST], reps;
	int n_pp, n_tg, n_threads;
	bool json;
	struct cli_spec spec;
	const char *prompt_file;
};

/*
 * The prompt of the speculative tg rows without --prompt-file: the
 * vocabulary-spread sequence of the pp rows: no n-gram repeats in it,
 * so n-gram lookup finds nothing in the prompt (what the model then
 * generates may repeat itself)
 */
#define SPEC_DEFAULT_DEPTH 32

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
		"      --silicon NAME     the modeled NPU of the last columns: glasses (default), phone\n"
		"speculative decoding (each tg row then runs plainly and speculatively,\n"
		"after a prompt, side by side; greedy):\n"
		CLI_SPEC_HELP
		"      --prompt-file FILE  the tg rows' prompt (default: %d tokens spread over\n"
		"                          the vocabulary, no n-gram repeated in them)\n",
		SPEC_DEFAULT_DEPTH);
}

static int parse(int argc, char **argv, struct bench_opts *o)
{
	enum { O_DEVICE = 256, O_JSON, O_SILICON, O_PROMPT_FILE };
	static const struct option longopts[] = {
		{ "model", required_argument, 0, 'm' },
		{ "n-prompt", required_argument, 0, 'p' },
		{ "n-gen", required_argument, 0, 'n' },
		{ "repetitions", required_argument, 0, 'r' },
		{ "threads", required_argument, 0, 't' },
		{ "device", required_argument, 0, O_DEVICE },
		{ "json", no_argument, 0, O_JSON },
		{ "silicon", required_argument, 0, O_SILICON },
		{ "prompt-file", required_argument, 0, O_PROMPT_FILE },
		{ "help", no_argument, 0, 'h' },
		CLI_SPEC_LONGOPTS,
		{ 0, 0, 0, 0 },
	};
	int c, mine;

	while ((c = getopt_long(argc, argv, "m:p:n:r:t:h", longopts, NULL)) != -1) {
		mine = cli_spec_option(c, optarg, &o->spec);
		if (mine < 0)
			return -1;
		if (mine)
			continue;
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
		case O_PROMPT_FILE:
			o->prompt_file = optarg;
			break;
		default:
			return cli_finish_parse("bench", c, argc, argv, o->model, usage);
		}
	}
	if (cli_finish_parse("bench", c, argc, argv, o->model, usage))
		return -1;
	if (o->spec.params.kind != LUMEN_SPEC_NONE) {
		bool tg = false;

		for (int i = 0; i < o->n_tg; i++)
			tg |= o->tg[i] != 0;
		if (!tg) {
			cli_error("bench: --spec measures the tg rows: give -n N");
			return -1;
		}
	} else if (o->prompt_file) {
		cli_error("bench: --prompt-file is the prompt of the speculative tg rows: add --spec ngram or --draft MODEL");
		return -1;
	}
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
	/* greedy: chained on the device where it can (LUMEN_DECODE_CHAIN=0: not) */
	*err = lumen_session_decode_greedy(s, id, n_gen, NULL);
	if (*err)
		return 0;
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

static const char *spec_name(const struct lumen_spec_params *p)
{
	return p->kind == LUMEN_SPEC_NGRAM ? "ngram" :
	       p->kind == LUMEN_SPEC_DRAFT ? "draft" : "mtp";
}

static void model_label(const struct lumen_model_info *mi, char *out, size_t len)
{
	char params[32];

	cli_format_count(mi->n_params, params, sizeof(params));
	snprintf(out, len, "%s %s %s", mi->arch, params,
		 lumen_dtype_name(mi->weight_dtype));
}

static void json_samples(const double *v, uint32_t n)
{
	printf("[");
	for (uint32_t i = 0; i < n; i++)
		printf("%s%.3f", i ? ", " : "", v[i]);
	printf("]");
}

/* a tg row run plainly and speculatively: both sides and how they compare */
static void print_spec_row(const struct bench_opts *o, const struct cli_spec *spec,
			   const struct lumen_model_info *mi,
			   const struct lumen_device_info *di, const char *test,
			   const struct bench_spec_result *r, bool *first)
{
	const struct lumen_spec_stats *st = &r->spec.st;
	const char *kind = spec_name(&spec->params);
	double acceptance = st->n_drafted ? (double)st->n_accepted / st->n_drafted : 0;
	double per_sub = st->n_rounds ? (double)st->n_tokens / st->n_rounds : 0;
	char model[64];

	model_label(mi, model, sizeof(model));
	if (o->json) {
		printf("%s  {\"model\": \"%s\", \"model_name\": \"%s\", \"size\": %llu, "
		       "\"params\": %llu, \"backend\": \"%s\", \"threads\": %u, "
		       "\"test\": \"%s\", \"n_prompt\": 0, \"n_gen\": %u, \"n_depth\": %u, "
		       "\"avg_ts\": %.3f, \"stddev_ts\": %.3f, \"samples_ts\": ",
		       *first ? "" : ",\n", model, mi->name,
		       (unsigned long long)mi->file_size,
		       (unsigned long long)mi->n_params, di->backend, di->cores,
		       test, r->n_gen, r->n_depth, r->plain.mean, r->plain.sd);
		json_samples(r->plain.samples, r->reps);
		printf(", \"silicon\": \"%s\", \"modeled_ts\": %.3f, "
		       "\"modeled_mj_per_token\": %.4f, \"spec\": {\"kind\": \"%s\", "
		       "\"draft\": \"%s\", \"draft_max\": %u, \"always_draft\": %s, "
		       "\"avg_ts\": %.3f, \"stddev_ts\": %.3f, \"samples_ts\": ",
		       di->silicon, r->plain.modeled_ts, r->plain.modeled_mj, kind,
		       spec->draft_path ? spec->draft_path : "",
		       spec->params.draft_max, spec->params.always_draft ? "true" : "false",
		       r->spec.mean, r->spec.sd);
		json_samples(r->spec.samples, r->reps);
		printf(", \"speedup\": %.4f, \"drafted\": %u, \"accepted\": %u, "
		       "\"acceptance\": %.4f, \"verifications\": %u, \"submissions\": %u, "
		       "\"tokens\": %u, \"tokens_per_submission\": %.4f, "
		       "\"draft_submissions\": %llu, \"modeled_ts\": %.3f, "
		       "\"modeled_mj_per_token\": %.4f, \"modeled_speedup\": %.4f, "
		       "\"same_tokens\": %s}}",
		       r->speedup, st->n_drafted, st->n_accepted, acceptance,
		       st->n_verify, st->n_rounds, st->n_tokens, per_sub,
		       (unsigned long long)st->draft_submissions, r->spec.modeled_ts,
		       r->spec.modeled_mj,
		       r->plain.modeled_ts ? r->spec.modeled_ts / r->plain.modeled_ts : 0,
		       r->same_tokens ? "true" : "false");
	} else {
		char acc[16];

		if (*first) {
			char h_ts[32], h_gp[32], h_gs[32], h_ms[32];

			snprintf(h_ts, sizeof(h_ts), "%s t/s", kind);
			snprintf(h_gp, sizeof(h_gp), "%s plain t/s", di->silicon);
			snprintf(h_gs, sizeof(h_gs), "%s %s t/s", di->silicon, kind);
			snprintf(h_ms, sizeof(h_ms), "%s mJ/token", kind);
			printf("%s| %-24s | %-7s | %7s | %12s | %17s | %17s | %6s | %10s | %8s | %4s | %17s | %17s | %14s | %14s |\n",
			       o->n_pp && o->pp[0] ? "\n" : "",
			       "model", "backend", "threads", "test", "plain t/s", h_ts,
			       "×plain", "acceptance", "tok/subm", "same", h_gp, h_gs,
			       "plain mJ/token", h_ms);
			printf("| %-24s | %-7s | %7s | %12s | %17s | %17s | %6s | %10s | %8s | %4s | %17s | %17s | %14s | %14s |\n",
			       "------------------------", "-------", "------:",
			       "-----------:", "----------------:", "----------------:",
			       "-----:", "---------:", "-------:", "----",
			       "----------------:", "----------------:", "-------------:",
			       "-------------:");
		}
		/* no drafts at all: nothing was accepted or refused */
		if (st->n_drafted)
			snprintf(acc, sizeof(acc), "%.1f%%", 100 * acceptance);
		else
			snprintf(acc, sizeof(acc), "-");
		printf("| %-24s | %-7s | %7u | %12s | %8.2f ± %6.2f | %8.2f ± %6.2f | %5.2fx | %10s | %8.2f | %-4s | %17.2f | %17.2f | %14.3f | %14.3f |\n",
		       model, di->backend, di->cores, test, r->plain.mean,
		       r->plain.sd, r->spec.mean, r->spec.sd, r->speedup, acc,
		       per_sub, r->same_tokens ? "yes" : "NO",
		       r->plain.modeled_ts, r->spec.modeled_ts, r->plain.modeled_mj,
		       r->spec.modeled_mj);
	}
	fflush(stdout);
	*first = false;
}

/* the prompt of the speculative tg rows: --prompt-file's tokens, or ids */
static int spec_prompt(const struct bench_opts *o, const struct lumen_model *m,
		       int32_t **ids, uint32_t *n)
{
	const struct lumen_tokenizer *tok = lumen_model_tokenizer(m);
	size_t len, cap;
	char *text;
	long got;

	*ids = NULL;
	*n = SPEC_DEFAULT_DEPTH;
	if (!o->prompt_file)
		return 0;
	text = cli_read_text(o->prompt_file, &len);
	if (!text)
		return -1;
	cap = LUMEN_TOKENIZE_MAX(len);
	*ids = malloc(cap * sizeof(**ids));
	got = *ids ? lumen_tokenize(tok, text, len, LUMEN_TOKENIZE_PARSE_SPECIAL |
				    (lumen_tokenizer_add_bos(tok) ? LUMEN_TOKENIZE_BOS : 0),
				    *ids, cap) : LUMEN_E_NOMEM;
	free(text);
	if (got < 0 || (size_t)got > cap) {
		cli_lib_error(o->prompt_file, got < 0 ? (int)got : LUMEN_E_INVAL);
		return -1;
	}
	if (!got) {
		cli_error("%s: the prompt is empty", o->prompt_file);
		return -1;
	}
	*n = (uint32_t)got;
	return 0;
}

static int bench_threads(const struct bench_opts *o, uint32_t threads,
			 bool *first, bool *first_spec)
{
	struct lumen_generate_params gen = { .spec = NULL };
	struct cli_spec spec = o->spec;
	struct lumen_device *dev = NULL;
	struct lumen_model *m = NULL;
	struct lumen_session *s = NULL;
	struct lumen_model_info mi;
	struct lumen_device_info di;
	int32_t *ids = NULL, *prompt = NULL;
	uint32_t longest = 1, depth = 0, ctx;
	int ret = -1;

	if (cli_open_device(o->backend, threads, &dev))
		return -1;
	if (cli_load_model(dev, o->model, 0, &m, NULL))
		goto out;
	lumen_model_get_info(m, &mi);
	lumen_device_get_info(dev, &di);
	if (cli_spec_setup(&spec, dev, 0, &gen))
		goto out;
	if (gen.spec && spec_prompt(o, m, &prompt, &depth))
		goto out;
	for (int i = 0; i < o->n_pp; i++)
		longest = o->pp[i] > longest ? o->pp[i] : longest;
	for (int i = 0; i < o->n_tg; i++)
		longest = o->tg[i] > longest ? o->tg[i] : longest;
	ctx = longest;
	/* a speculative tg row: the prompt, its first token, then the tokens */
	for (int i = 0; gen.spec && i < o->n_tg; i++)
		ctx = depth + o->tg[i] + 1 > ctx ? depth + o->tg[i] + 1 : ctx;
	if (ctx > mi.ctx) {
		cli_error("bench: a test of %u tokens does not fit the model's context of %u",
			  ctx, mi.ctx);
		goto out;
	}
	/* a KV cache for the longest test only, as llama-bench sizes it */
	if (lumen_session_create(m, ctx, &s)) {
		cli_lib_error("session", -1);
		goto out;
	}
	if (depth > longest)
		longest = depth;
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
		if (tg && gen.spec) {
			struct bench_spec_result sr;
			char test[32];

			snprintf(test, sizeof(test), "tg%u @ d%u", tg, depth);
			if (bench_spec_measure(s, gen.spec, prompt ? prompt : ids,
					       depth, tg, o->reps, &sr)) {
				bench_spec_free(&sr);
				goto out;
			}
			if (!sr.same_tokens)
				cli_error("bench: %s: speculative decoding gave other tokens than plain decoding",
					  test);
			print_spec_row(o, &spec, &mi, &di, test, &sr,
				       o->json ? first : first_spec);
			*first = false;
			bench_spec_free(&sr);
			continue;
		}
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
	free(prompt);
	lumen_session_free(s);
	cli_spec_free(&spec);
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
	bool first = true, first_spec = true;

	if (parse(argc, argv, &o))
		return CLI_USAGE;
	if (o.json)
		printf("[\n");
	for (int i = 0; i < o.n_threads; i++)
		if (bench_threads(&o, o.threads[i], &first, &first_spec))
			return CLI_FAIL;
	if (o.json)
		printf("\n]\n");
	return CLI_OK;
}
