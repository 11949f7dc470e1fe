// SPDX-License-Identifier: MIT
/*
 * stories260K (F32, F16, Q8_0, Q4_0) and the architectures of
 * $(SHARED)/golden-arch, compiled by lumenc, run through liblumen's CPU
 * backend against llama.cpp's outputs, compared by the rule of the
 * golden README: the prompt's tokens exactly, the greedy ids up to the
 * first near tie, the first step's top-5 logits within a tolerance
 * (golden-arch/README.md: 0.05 for F16 files, 1.0 for quantized ones).
 *
 * Each case also generates with speculative decoding, the model drafting
 * for itself (every row of the verify program against decode) and with
 * n-gram lookup (rejections and rollbacks): the greedy ids must be the
 * plain loop's token for token, on the CPU backend at every kernel level
 * of the executor (the rows of a verify equal decode bit for bit there,
 * hw/exec's matmul_rows_equal_matvec_bit_for_bit test).
 *
 * The binary's --device npu runs the same cases on the NPU, through
 * lumen.ko (runtime/tests/npu-guest.sh does, in the QEMU guest); there the
 * speculative runs are limited to each model's first prompt (guest time).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include <lumen/lumen.h>
#include "golden_arch.h"
#include "kernel_levels.h"
#include "lumen_test.h"

#define NEAR_TIE 0.05

static enum lumen_backend golden_backend = LUMEN_BACKEND_CPU;

struct recorder {
	int32_t ids[GOLDEN_MAX_STEPS];
	size_t n;
};

static int record(void *data, int32_t id, const char *piece, size_t len)
{
	struct recorder *r = data;

	if (r->n < GOLDEN_MAX_STEPS)
		r->ids[r->n++] = id;
	return 0;
}

/*
 * Decode greedily step by step up to the first near tie; returns in
 * *@exact the number of leading steps whose ids equal the reference's.
 */
static void follow_reference(struct lumen_session *s, const struct golden *g,
			     double near_tie, size_t *exact)
{
	size_t s_i;

	for (s_i = 0; s_i < g->n_steps; s_i++) {
		const struct golden_step *st = &g->steps[s_i];
		double margin = st->top_logit[0] - st->top_logit[1];
		int32_t id = lumen_session_argmax(s);

		if (margin < near_tie)
			break;
		CHECK_MSG(id == st->id, "step %zu: token %d, want %d",
			  s_i, id, st->id);
		if (id != st->id)
			break;
		(*exact)++;
		if (s_i + 1 < g->n_steps &&
		    lumen_session_decode(s, st->id)) {
			CHECK_MSG(0, "decode: %s", lumen_last_error());
			break;
		}
	}
	fprintf(stderr, "# %zu of %zu steps compared\n", s_i, g->n_steps);
}

struct plain_run {
	int32_t ids[GOLDEN_MAX_STEPS];
	double margin[GOLDEN_MAX_STEPS];	/* top-1 minus top-2 logit */
};

/* greedy, step by step through the decode program, with each margin */
static void plain_steps(struct lumen_session *s, const struct golden *g,
			struct plain_run *r)
{
	uint32_t n_vocab = 0;

	lumen_session_reset(s);
	REQUIRE_EQ(lumen_session_prefill(s, g->prompt_ids, g->n_prompt_ids), 0);
	for (size_t i = 0; i < g->n_steps; i++) {
		const float *l = lumen_session_logits(s);
		double top = -1e30, second = -1e30;

		REQUIRE(l);
		if (!n_vocab)
			n_vocab = 512;	/* every golden model: stories260K's vocabulary */
		for (uint32_t v = 0; v < n_vocab; v++) {
			if (l[v] > top) {
				second = top;
				top = l[v];
			} else if (l[v] > second) {
				second = l[v];
			}
		}
		r->ids[i] = lumen_session_argmax(s);
		r->margin[i] = top - second;
		if (i + 1 < g->n_steps)
			REQUIRE_EQ(lumen_session_decode(s, r->ids[i]), 0);
	}
}

/* speculative greedy generation gives the plain loop's ids, every one */
static void speculative_equals_plain(struct lumen_session *s,
				     const struct golden *g,
				     const struct plain_run *want, const char *level,
				     enum lumen_spec_kind kind,
				     struct lumen_model *draft)
{
	struct lumen_generate_params gp = lumen_generate_default_params();
	struct lumen_spec_params sp = { .kind = kind, .draft = draft,
					.always_draft = true };
	struct lumen_generate_stats st;
	struct recorder rec = { .n = 0 };
	const char *what = kind == LUMEN_SPEC_NGRAM ? "n-gram" : "self-draft";
	size_t same = 0;

	lumen_session_reset(s);
	gp.sampling.temperature = 0;
	gp.n_predict = (uint32_t)g->n_steps;
	gp.stop_at_eos = false;
	gp.on_token = record;
	gp.data = &rec;
	gp.spec = &sp;
	REQUIRE_MSG(!lumen_generate_ids(s, g->prompt_ids, g->n_prompt_ids, &gp, &st),
		    "%s: %s", what, lumen_last_error());
	CHECK_EQ(rec.n, g->n_steps);
	while (same < rec.n && rec.ids[same] == want->ids[same])
		same++;
	if (same < rec.n)
		CHECK_MSG(0, "%s, %s kernels, step %zu: token %d, plain decode %d, whose lead is %.4f",
			  what, level, same, rec.ids[same], want->ids[same],
			  want->margin[same]);
	fprintf(stderr, "# %s, %s kernels: %u of %u drafts accepted, %u verifies, %u tokens, %zu equal\n",
		what, level, st.n_accepted, st.n_drafted, st.n_verify, st.n_generated, same);
	if (kind == LUMEN_SPEC_DRAFT)	/* it must have exercised the verify rows */
		CHECK(st.n_verify > 0 && st.n_accepted > 0);
}

/* greedy generation of @n tokens, chained or not (LUMEN_DECODE_CHAIN) */
static void greedy_run(struct lumen_session *s, const int32_t *ids, size_t n_ids,
		       uint32_t n, const int32_t *stop, bool chain,
		       struct recorder *rec, struct lumen_generate_stats *st)
{
	struct lumen_generate_params gp = lumen_generate_default_params();

	if (chain)
		unsetenv("LUMEN_DECODE_CHAIN");
	else
		setenv("LUMEN_DECODE_CHAIN", "0", 1);
	rec->n = 0;
	gp.sampling.temperature = 0;
	gp.n_predict = n;
	gp.stop_at_eos = false;
	gp.stop_ids = stop;
	gp.n_stop_ids = stop ? 1 : 0;
	gp.on_token = record;
	gp.data = rec;
	REQUIRE_MSG(!lumen_generate_ids(s, ids, n_ids, &gp, st), "%s",
		    lumen_last_error());
	unsetenv("LUMEN_DECODE_CHAIN");
	CHECK_EQ(st->chained, chain);
}

/*
 * Chained greedy decode (each job takes its token from the one before on
 * the device, queued before that one completes) gives the plain loop's
 * ids, every one, with one submission per token; and where a stop id is
 * found with the next job already queued, that job is counted, the
 * session refuses its output, and continuing gives the plain session's
 * tokens.
 */
static void chained_equals_plain(struct lumen_session *s, const struct golden *g,
				 const struct plain_run *want)
{
	static struct recorder chained, plain;
	struct lumen_generate_stats cst, pst;
	uint32_t n = (uint32_t)g->n_steps;
	int32_t out[GOLDEN_MAX_STEPS];
	uint64_t subs;
	size_t k;

	lumen_session_reset(s);
	greedy_run(s, g->prompt_ids, g->n_prompt_ids, n, NULL, true, &chained, &cst);
	lumen_session_reset(s);
	greedy_run(s, g->prompt_ids, g->n_prompt_ids, n, NULL, false, &plain, &pst);
	CHECK_EQ(chained.n, n);
	for (size_t i = 0; i < chained.n && i < n; i++)
		if (chained.ids[i] != want->ids[i]) {
			CHECK_MSG(0, "chained, step %zu: token %d, plain decode %d",
				  i, chained.ids[i], want->ids[i]);
			break;
		}
	CHECK_EQ(cst.submissions, pst.submissions);
	CHECK_EQ(cst.n_ran_ahead, 0);
	/* the output is the last job's: the argmax that chose the last token */
	lumen_session_reset(s);
	greedy_run(s, g->prompt_ids, g->n_prompt_ids, n, NULL, true, &chained, &cst);
	CHECK_EQ(lumen_session_argmax(s), want->ids[n - 1]);

	/* the same through lumen_session_decode_greedy() */
	lumen_session_reset(s);
	REQUIRE_EQ(lumen_session_prefill(s, g->prompt_ids, g->n_prompt_ids), 0);
	subs = lumen_session_submissions(s);
	REQUIRE_MSG(!lumen_session_decode_greedy(s, want->ids[0], n - 1, out), "%s",
		    lumen_last_error());
	CHECK_EQ(lumen_session_submissions(s) - subs, n - 1);
	CHECK_EQ(lumen_session_pos(s), g->n_prompt_ids + n - 1);
	for (size_t i = 0; i + 1 < n; i++)
		if (out[i] != want->ids[i + 1]) {
			CHECK_MSG(0, "decode_greedy, step %zu: token %d, plain decode %d",
				  i + 1, out[i], want->ids[i + 1]);
			break;
		}
	CHECK_EQ(lumen_session_argmax(s), want->ids[n - 1]);

	/* a stop id at step k, not seen before it, with k + 1 < n */
	for (k = 2; k + 1 < n; k++) {
		bool seen = false;

		for (size_t j = 0; j < k; j++)
			seen |= want->ids[j] == want->ids[k];
		if (!seen)
			break;
	}
	if (k + 1 >= n)
		return;
	lumen_session_reset(s);
	greedy_run(s, g->prompt_ids, g->n_prompt_ids, n, &want->ids[k], true,
		   &chained, &cst);
	CHECK_EQ(chained.n, k);
	CHECK(cst.hit_eos);
	CHECK_EQ(cst.n_ran_ahead, 1);
	CHECK_EQ(lumen_session_pos(s), g->n_prompt_ids + k);
	CHECK(lumen_session_argmax(s) < 0);
	CHECK(!lumen_session_logits(s));
	CHECK_MSG(strstr(lumen_last_error(), "already queued the next decode"),
		  "the refusal says why: %s", lumen_last_error());
	/* continuing runs the pending stop token first, as the plain path */
	greedy_run(s, NULL, 0, 6, NULL, true, &chained, &cst);
	lumen_session_reset(s);
	greedy_run(s, g->prompt_ids, g->n_prompt_ids, n, &want->ids[k], false,
		   &plain, &pst);
	CHECK_EQ(pst.n_ran_ahead, 0);
	CHECK_EQ(cst.n_ran_ahead, 0);
	greedy_run(s, NULL, 0, 6, NULL, false, &plain, &pst);
	CHECK_EQ(chained.n, plain.n);
	for (size_t i = 0; i < chained.n && i < plain.n; i++)
		CHECK_EQ(chained.ids[i], plain.ids[i]);
}

/*
 * Plain and speculative greedy generation on a CPU device of one kernel
 * level: the model drafting for itself and n-gram lookup give plain
 * decode's ids token for token.
 */
static void speculative_at_level(const char *model_path, const struct golden *g,
				 const char *level)
{
	struct lumen_device_options dopt = { .backend = LUMEN_BACKEND_CPU,
					     .threads = 1 };
	struct lumen_device *dev = NULL;
	struct lumen_model *m = NULL;
	struct lumen_session *s = NULL;
	static struct plain_run plain;

	kernel_level_use(level);
	REQUIRE_MSG(!lumen_device_open(&dev, &dopt), "%s", lumen_last_error());
	kernel_level_use(NULL);
	REQUIRE_MSG(!lumen_model_load(dev, model_path, NULL, &m), "%s",
		    lumen_last_error());
	REQUIRE_MSG(!lumen_session_create(m, (uint32_t)(g->n_prompt_ids + g->n_steps),
					  &s), "%s", lumen_last_error());
	plain_steps(s, g, &plain);
	speculative_equals_plain(s, g, &plain, level, LUMEN_SPEC_DRAFT, m);
	speculative_equals_plain(s, g, &plain, level, LUMEN_SPEC_NGRAM, NULL);
	lumen_session_free(s);
	lumen_model_free(m);
	lumen_device_close(dev);
}

/* @ref_dir/@name.jsonl line @line against $LUMEN_MODEL_DIR/@name.lnpu */
static void golden_case_in(const char *ref_dir, const char *name,
			   unsigned int line, double tol, double near_tie)
{
	const char *shared = getenv("SHARED"), *dir = getenv("LUMEN_MODEL_DIR");
	struct lumen_device_options dopt = { .backend = golden_backend,
					     .threads = 1 };
	struct lumen_generate_params gp = lumen_generate_default_params();
	char path[512], model_path[512], err[256];
	struct lumen_device *dev = NULL;
	struct lumen_model *m = NULL;
	struct lumen_session *s = NULL;
	struct recorder rec = { .n = 0 };
	static struct golden g;
	int32_t ids[GOLDEN_MAX_IDS * 4];
	const float *logits;
	size_t agree;
	long n;

	REQUIRE_MSG(shared && dir, "SHARED and LUMEN_MODEL_DIR must be set");
	snprintf(path, sizeof(path), "%s/%s/%s.jsonl", shared, ref_dir, name);
	snprintf(model_path, sizeof(model_path), "%s/%s.lnpu", dir, name);
	REQUIRE_MSG(!golden_load(&g, path, line, err, sizeof(err)), "%s", err);
	REQUIRE_MSG(!lumen_device_open(&dev, &dopt), "%s", lumen_last_error());
	REQUIRE_MSG(!lumen_model_load(dev, model_path, NULL, &m), "%s",
		    lumen_last_error());
	/*
	 * A KV cache of just the case's positions, as the peer sizes its
	 * context: the programs re-based on it must give the same results.
	 */
	REQUIRE_MSG(!lumen_session_create(m, (uint32_t)(g.n_prompt_ids + g.n_steps),
					  &s), "%s", lumen_last_error());

	/* 1. the prompt's tokens */
	n = lumen_tokenize(lumen_model_tokenizer(m), g.prompt, g.prompt_len,
			   LUMEN_TOKENIZE_BOS, ids, sizeof(ids) / sizeof(ids[0]));
	CHECK_EQ(n, g.n_prompt_ids);
	for (size_t i = 0; i < g.n_prompt_ids && i < (size_t)n; i++)
		CHECK_MSG(ids[i] == g.prompt_ids[i], "prompt token %zu: %d, want %d",
			  i, ids[i], g.prompt_ids[i]);

	/* 3. the first step's top-5 logits */
	REQUIRE_EQ(lumen_session_prefill(s, g.prompt_ids, g.n_prompt_ids), 0);
	logits = lumen_session_logits(s);
	REQUIRE(logits);
	for (int k = 0; k < 5; k++)
		CHECK_MSG(fabs(logits[g.steps[0].top_id[k]] - g.steps[0].top_logit[k]) <= tol,
			  "step 0: logit of %d is %.5f, want %.5f +- %.2f",
			  g.steps[0].top_id[k], logits[g.steps[0].top_id[k]],
			  g.steps[0].top_logit[k], tol);

	/* 2. greedy ids up to the first near tie */
	agree = 0;
	follow_reference(s, &g, near_tie, &agree);

	/* the generate loop makes the same choices as the steps above */
	lumen_session_reset(s);
	gp.sampling.temperature = 0;
	gp.n_predict = (uint32_t)g.n_steps;
	gp.stop_at_eos = false;
	gp.on_token = record;
	gp.data = &rec;
	REQUIRE_MSG(!lumen_generate_ids(s, g.prompt_ids, g.n_prompt_ids, &gp, NULL),
		    "%s", lumen_last_error());
	CHECK_EQ(rec.n, g.n_steps);
	for (size_t i = 0; i < agree && i < rec.n; i++) {
		CHECK_MSG(rec.ids[i] == g.steps[i].id,
			  "generate, step %zu: token %d, want %d (ids agree up to step %zu)",
			  i, rec.ids[i], g.steps[i].id, agree);
		if (rec.ids[i] != g.steps[i].id)
			break;
	}
	/* every prompt on the host's CPU; the first of each model on the NPU
	 * and under $LUMEN_GOLDEN_SPEC_FIRST (the guest's slow CPU) */
	if ((golden_backend == LUMEN_BACKEND_CPU &&
	     !getenv("LUMEN_GOLDEN_SPEC_FIRST")) || line == 0) {
		static struct plain_run plain;

		plain_steps(s, &g, &plain);
		for (size_t i = 0; i < agree && i < rec.n; i++)
			CHECK_EQ(plain.ids[i], rec.ids[i]);
		chained_equals_plain(s, &g, &plain);
		if (golden_backend == LUMEN_BACKEND_CPU) {
			const char *levels[KERNEL_LEVELS_MAX];
			size_t n_levels = kernel_levels(levels);

			for (size_t i = 0; i < n_levels; i++)
				speculative_at_level(model_path, &g, levels[i]);
		} else {
			speculative_equals_plain(s, &g, &plain, "npu", LUMEN_SPEC_DRAFT, m);
			speculative_equals_plain(s, &g, &plain, "npu", LUMEN_SPEC_NGRAM, NULL);
		}
	}
	lumen_session_free(s);
	lumen_model_free(m);
	lumen_device_close(dev);
}

static void golden_case(const char *quant, unsigned int line, double tol)
{
	char name[64];

	snprintf(name, sizeof(name), "stories260K-%s", quant);
	golden_case_in("golden", name, line, tol, NEAR_TIE);
}

#define GOLDEN(quant, line, tol) \
	TEST(stories260K_##quant##_prompt##line) { golden_case(#quant, line, tol); }

GOLDEN(f32, 0, 0.02) GOLDEN(f32, 1, 0.02) GOLDEN(f32, 2, 0.02)
GOLDEN(f32, 3, 0.02) GOLDEN(f32, 4, 0.02)
GOLDEN(f16, 0, 0.02) GOLDEN(f16, 1, 0.02) GOLDEN(f16, 2, 0.02)
GOLDEN(f16, 3, 0.02) GOLDEN(f16, 4, 0.02)
GOLDEN(q8_0, 0, 0.15) GOLDEN(q8_0, 1, 0.15) GOLDEN(q8_0, 2, 0.15)
GOLDEN(q8_0, 3, 0.15) GOLDEN(q8_0, 4, 0.15)
GOLDEN(q4_0, 0, 0.15) GOLDEN(q4_0, 1, 0.15) GOLDEN(q4_0, 2, 0.15)
GOLDEN(q4_0, 3, 0.15) GOLDEN(q4_0, 4, 0.15)

/* golden-arch: every architecture, quantized files with the looser rule */
#define ARCH(tag, name, q, line) \
	TEST(golden_arch_##tag##_prompt##line) \
	{ golden_case_in("golden-arch", name, line, q ? 1.0 : 0.05, q ? 1.0 : NEAR_TIE); }
#define ARCH5(tag, name, q) \
	ARCH(tag, name, q, 0) ARCH(tag, name, q, 1) ARCH(tag, name, q, 2) \
	ARCH(tag, name, q, 3) ARCH(tag, name, q, 4)

GOLDEN_ARCH_FILES(ARCH5)

/* [--device cpu|npu] [FILTER] */
int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--device")) {
		int b = lumen_backend_from_name(argv[2]);

		if (b < 0) {
			fprintf(stderr, "--device: '%s' is not cpu or npu\n", argv[2]);
			return 2;
		}
		golden_backend = (enum lumen_backend)b;
		argv[2] = argv[0];
		return lumen_test_main(argc - 2, argv + 2);
	}
	return lumen_test_main(argc, argv);
}
