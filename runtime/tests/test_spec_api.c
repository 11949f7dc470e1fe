// SPDX-License-Identifier: MIT
/*
 * Speculative decoding through liblumen's API on the CPU backend: the
 * verify program's rows against token-by-token decode, rollback that
 * copies nothing, greedy generation with each drafter token for token
 * equal to plain generation, and the refusals (no verify program, another
 * vocabulary, no MTP head).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lumen/lumen.h>
#include "kernel_levels.h"
#include "lumen_test.h"

#define MAX_IDS 512

static const char *path_of(const char *name)
{
	static char path[4][512];
	static int k;
	const char *dir = getenv("LUMEN_MODEL_DIR");

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s.lnpu", dir ? dir : ".", name);
	return path[k];
}

static struct lumen_device *cpu(void)
{
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_CPU,
					  .threads = 1 };
	struct lumen_device *d = NULL;

	if (lumen_device_open(&d, &o))
		printf("# %s\n", lumen_last_error());
	return d;
}

static struct lumen_model *load(struct lumen_device *d, const char *name)
{
	struct lumen_model *m = NULL;

	if (lumen_model_load(d, path_of(name), NULL, &m))
		printf("# %s\n", lumen_last_error());
	return m;
}

struct recorder {
	int32_t ids[MAX_IDS];
	size_t n;
};

static int record(void *data, int32_t id, const char *piece, size_t len)
{
	struct recorder *r = data;

	if (r->n < MAX_IDS)
		r->ids[r->n++] = id;
	return 0;
}

/* greedy generation of @n tokens after @prompt, with @spec or without */
static int run_greedy(struct lumen_model *m, const char *prompt, uint32_t n,
		      const struct lumen_spec_params *spec, struct recorder *r,
		      struct lumen_generate_stats *st)
{
	struct lumen_generate_params p = lumen_generate_default_params();
	struct lumen_session *s;
	int ret;

	p.sampling.temperature = 0;
	p.n_predict = n;
	p.stop_at_eos = false;
	p.on_token = record;
	p.data = r;
	p.spec = spec;
	r->n = 0;
	if (lumen_session_create(m, 0, &s))
		return -1;
	ret = lumen_generate(s, prompt, strlen(prompt), &p, st);
	if (ret)
		printf("# generate: %s\n", lumen_last_error());
	lumen_session_free(s);
	return ret;
}

static void check_same(const struct recorder *a, const struct recorder *b,
		       const char *what)
{
	CHECK_MSG(a->n == b->n, "%s: %zu tokens, plain decode %zu", what, b->n, a->n);
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		CHECK_MSG(a->ids[i] == b->ids[i],
			  "%s: token %zu is %d, plain decode %d", what, i,
			  b->ids[i], a->ids[i]);
		if (a->ids[i] != b->ids[i])
			break;
	}
}

static const char *const prompts[] = {
	"Once upon a time",
	"Lily and Tom went to the park. Lily and Tom went to the park. Lily and",
	"The cat sat on the mat. The dog",
};

static void verify_rows_match_decode_at(const char *model, const char *level)
{
	struct lumen_device *d;
	struct lumen_model *m;
	struct lumen_session *a, *b;
	int32_t ids[9] = { 1, 403, 407, 261, 378, 36, 401, 300, 263 };
	int32_t am[9];
	uint32_t n;

	kernel_level_use(level);
	d = cpu();
	m = d ? load(d, model) : NULL;
	REQUIRE(m);
	n = lumen_model_max_draft(m) + 1;
	REQUIRE_MSG(n == 9, "the default verify program has 9 rows, not %u", n);
	REQUIRE_EQ(lumen_session_create(m, 0, &a), 0);
	REQUIRE_EQ(lumen_session_create(m, 0, &b), 0);
	REQUIRE_EQ(lumen_session_prefill(a, ids, 2), 0);
	REQUIRE_EQ(lumen_session_prefill(b, ids, 2), 0);
	{
		uint64_t before = lumen_session_submissions(a);

		REQUIRE_MSG(!lumen_session_verify(a, ids + 2, 7, am), "%s",
			    lumen_last_error());
		CHECK_EQ(lumen_session_submissions(a) - before, 1);	/* one job */
	}
	CHECK_EQ(lumen_session_pos(a), 9);
	for (uint32_t i = 0; i < 7; i++) {
		const float *la = lumen_session_row_logits(a, i), *lb;
		double worst = 0;
		int same;

		REQUIRE_EQ(lumen_session_decode(b, ids[2 + i]), 0);
		CHECK_EQ(am[i], lumen_session_argmax(b));
		lb = lumen_session_logits(b);
		REQUIRE(la && lb);
		for (uint32_t v = 0; v < 512; v++)
			worst = fmax(worst, fabs(la[v] - lb[v]));
		same = !memcmp(la, lb, 512 * sizeof(float));
		/* each row's arithmetic is decode's whatever the row count */
		CHECK_MSG(same, "%s, %s kernels, row %u: logits differ from decode's by up to %g",
			  model, level, i, worst);
	}
	CHECK(lumen_session_row_logits(a, 7) == NULL);	/* 7 rows only */
	CHECK_EQ(lumen_session_argmax(a), am[6]);	/* last row */
	/* too many rows, past the context, bad ids: refused, nothing run */
	CHECK_EQ(lumen_session_verify(a, ids, 10, am), LUMEN_E_INVAL);
	CHECK_EQ(lumen_session_verify(a, ids, 0, am), LUMEN_E_INVAL);
	ids[3] = 100000;
	CHECK_EQ(lumen_session_verify(a, ids, 4, am), LUMEN_E_INVAL);
	CHECK_EQ(lumen_session_pos(a), 9);
	CHECK_EQ(lumen_session_rollback(a, 10), LUMEN_E_INVAL);
	lumen_session_free(a);
	lumen_session_free(b);
	lumen_model_free(m);
	lumen_device_close(d);
	kernel_level_use(NULL);
}

/* at every kernel level: the verify rows' logits are decode's, bit for bit */
static void verify_rows_match_decode(const char *model)
{
	const char *levels[KERNEL_LEVELS_MAX];
	size_t n = kernel_levels(levels);

	for (size_t i = 0; i < n; i++)
		verify_rows_match_decode_at(model, levels[i]);
	printf("# %s: verify rows equal decode bit for bit at %zu kernel levels\n", model, n);
}

TEST(verify_rows_match_decode_f32) { verify_rows_match_decode("stories260K-f32"); }
TEST(verify_rows_match_decode_q8_0) { verify_rows_match_decode("stories260K-q8_0"); }
TEST(verify_rows_match_decode_q4_0) { verify_rows_match_decode("stories260K-q4_0"); }
TEST(verify_rows_match_decode_f16) { verify_rows_match_decode("stories260K-f16"); }

/*
 * Rejected tokens cost nothing to take back: after a verify of wrong
 * tokens and a rollback, decoding gives bit for bit the logits of a
 * session that never saw them.
 */
TEST(rollback_copies_nothing_and_forgets_rejected_tokens)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-q8_0") : NULL;
	struct lumen_session *a, *b;
	const int32_t prompt[] = { 1, 403, 407, 261, 378 };
	const int32_t wrong[] = { 36, 7, 8, 9, 10, 11, 12, 13, 14 };
	const int32_t right[] = { 401, 300, 263, 290 };
	int32_t am[9];

	REQUIRE(m);
	REQUIRE_EQ(lumen_session_create(m, 64, &a), 0);
	REQUIRE_EQ(lumen_session_create(m, 64, &b), 0);
	REQUIRE_EQ(lumen_session_prefill(a, prompt, 5), 0);
	REQUIRE_EQ(lumen_session_prefill(b, prompt, 5), 0);
	REQUIRE_EQ(lumen_session_verify(a, wrong, 9, am), 0);
	REQUIRE_EQ(lumen_session_rollback(a, 5), 0);
	CHECK_EQ(lumen_session_pos(a), 5);
	CHECK(lumen_session_logits(a) == NULL);	/* that output is gone */
	for (int i = 0; i < 4; i++) {
		const float *la, *lb;

		REQUIRE_EQ(lumen_session_decode(a, right[i]), 0);
		REQUIRE_EQ(lumen_session_decode(b, right[i]), 0);
		la = lumen_session_logits(a);
		REQUIRE(la);
		{
			float copy[512];

			memcpy(copy, la, sizeof(copy));
			lb = lumen_session_logits(b);
			REQUIRE(lb);
			CHECK_MSG(!memcmp(copy, lb, sizeof(copy)),
				  "step %d: logits after rollback differ", i);
		}
	}
	lumen_session_free(a);
	lumen_session_free(b);
	lumen_model_free(m);
	lumen_device_close(d);
}

static void ngram_equals_plain(const char *model)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, model) : NULL;
	struct lumen_spec_params sp = { .kind = LUMEN_SPEC_NGRAM,
					.always_draft = true };
	static struct recorder plain, spec;
	uint32_t verifies = 0, accepted = 0;

	REQUIRE(m);
	for (size_t i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++) {
		struct lumen_generate_stats a, b;

		REQUIRE_EQ(run_greedy(m, prompts[i], 120, NULL, &plain, &a), 0);
		REQUIRE_EQ(run_greedy(m, prompts[i], 120, &sp, &spec, &b), 0);
		check_same(&plain, &spec, model);
		CHECK_EQ(b.n_generated, a.n_generated);
		CHECK(b.n_accepted <= b.n_drafted);
		/* every token came from a decode or a verify submission */
		CHECK(b.submissions < a.submissions || !b.n_accepted);
		printf("# %s prompt %zu: %u drafted, %u accepted, %u verifies, %llu submissions (plain %llu)\n",
		       model, i, b.n_drafted, b.n_accepted, b.n_verify,
		       (unsigned long long)b.submissions,
		       (unsigned long long)a.submissions);
		verifies += b.n_verify;
		accepted += b.n_accepted;
		/* the default, which may stop drafting by timing: same ids */
		sp.always_draft = false;
		REQUIRE_EQ(run_greedy(m, prompts[i], 120, &sp, &spec, &b), 0);
		check_same(&plain, &spec, "timed drafting");
		sp.always_draft = true;
	}
	/* stories repeat themselves: the lookup must have found something */
	CHECK(verifies > 0 && accepted > 0);
	lumen_model_free(m);
	lumen_device_close(d);
}

TEST(ngram_greedy_equals_plain_f32) { ngram_equals_plain("stories260K-f32"); }
TEST(ngram_greedy_equals_plain_q8_0) { ngram_equals_plain("stories260K-q8_0"); }
TEST(ngram_greedy_equals_plain_q4_0) { ngram_equals_plain("stories260K-q4_0"); }

/* Q4_0 drafting for its F32 self: output still the F32 model's */
TEST(draft_model_greedy_equals_plain)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-f32") : NULL;
	struct lumen_model *dm = d ? load(d, "stories260K-q4_0") : NULL;
	struct lumen_spec_params sp = { .kind = LUMEN_SPEC_DRAFT, .draft = NULL };
	static struct recorder plain, spec;

	REQUIRE(m && dm);
	sp.draft = dm;
	for (size_t i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++) {
		struct lumen_generate_stats a, b;

		REQUIRE_EQ(run_greedy(m, prompts[i], 100, NULL, &plain, &a), 0);
		REQUIRE_EQ(run_greedy(m, prompts[i], 100, &sp, &spec, &b), 0);
		check_same(&plain, &spec, "q4_0 drafting for f32");
		printf("# prompt %zu: %u drafted, %u accepted (%.0f%%), %u verifies for %u tokens\n",
		       i, b.n_drafted, b.n_accepted,
		       b.n_drafted ? 100.0 * b.n_accepted / b.n_drafted : 0.0,
		       b.n_verify, b.n_generated);
		/*
		 * a quantisation of the same weights agrees often: over 2
		 * tokens per verification (a round stops at the first
		 * disagreement, so drafts after it count as rejected)
		 */
		CHECK(b.n_generated > 2 * b.n_verify);
		CHECK(b.n_accepted * 3 > b.n_drafted);
	}
	sp.draft_max = 3;	/* fewer than the verify program's rows */
	REQUIRE_EQ(run_greedy(m, prompts[0], 50, NULL, &plain, NULL), 0);
	REQUIRE_EQ(run_greedy(m, prompts[0], 50, &sp, &spec, NULL), 0);
	check_same(&plain, &spec, "--draft-max 3");
	lumen_model_free(dm);
	lumen_model_free(m);
	lumen_device_close(d);
}

/*
 * A draft session kept by the caller (lumen serve's per-slot one): each
 * generation empties it first, so the drafts are those of a fresh
 * session, generation after generation, and it outlives them.
 */
TEST(a_borrowed_draft_session_is_reused_as_if_fresh)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-f32") : NULL;
	struct lumen_model *dm = d ? load(d, "stories260K-q4_0") : NULL;
	struct lumen_spec_params own = { .kind = LUMEN_SPEC_DRAFT, .always_draft = true };
	struct lumen_spec_params kept;
	struct lumen_session *ds = NULL, *wrong = NULL;
	struct lumen_generate_stats a, b, c, x;
	static struct recorder plain, fresh, first, again;

	REQUIRE(m && dm);
	own.draft = dm;
	kept = own;
	REQUIRE_EQ(lumen_session_create(dm, 0, &ds), 0);
	kept.draft_session = ds;
	REQUIRE_EQ(run_greedy(m, prompts[1], 60, NULL, &plain, NULL), 0);
	REQUIRE_EQ(run_greedy(m, prompts[1], 60, &own, &fresh, &a), 0);
	REQUIRE_EQ(run_greedy(m, prompts[1], 60, &kept, &first, &b), 0);
	CHECK(lumen_session_pos(ds) > 0);	/* it drafted there, and is still ours */
	REQUIRE_EQ(run_greedy(m, prompts[0], 60, &kept, &again, &x), 0);
	REQUIRE_EQ(run_greedy(m, prompts[1], 60, &kept, &again, &c), 0);
	check_same(&plain, &fresh, "own draft session");
	check_same(&plain, &first, "kept draft session");
	check_same(&plain, &again, "kept draft session, third generation");
	CHECK(a.n_drafted > 0 && a.n_accepted > 0);
	CHECK_EQ(b.n_drafted, a.n_drafted);
	CHECK_EQ(b.n_accepted, a.n_accepted);
	CHECK_EQ(b.n_verify, a.n_verify);
	CHECK_EQ(c.n_drafted, a.n_drafted);
	CHECK_EQ(c.n_accepted, a.n_accepted);
	CHECK_EQ(c.submissions, a.submissions);
	/* a session of another model than the draft model */
	REQUIRE_EQ(lumen_session_create(m, 0, &wrong), 0);
	kept.draft_session = wrong;
	CHECK(run_greedy(m, prompts[0], 8, &kept, &again, NULL) == LUMEN_E_INVAL);
	CHECK(strstr(lumen_last_error(), "not a session of the draft model") != NULL);
	lumen_session_free(wrong);
	lumen_session_free(ds);
	lumen_model_free(dm);
	lumen_model_free(m);
	lumen_device_close(d);
}

/* the session's context ends in the middle of a round */
TEST(speculation_stops_at_the_context_like_plain_decode)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-q8_0") : NULL;
	struct lumen_spec_params sp = { .kind = LUMEN_SPEC_NGRAM,
					.always_draft = true };
	struct lumen_generate_params p = lumen_generate_default_params();
	struct lumen_generate_stats a, b;
	struct lumen_session *s;
	static struct recorder plain, spec;
	const char *prompt = prompts[1];

	REQUIRE(m);
	REQUIRE_EQ(lumen_session_create(m, 40, &s), 0);
	p.sampling.temperature = 0;
	p.n_predict = 200;
	p.stop_at_eos = false;
	p.on_token = record;
	p.data = &plain;
	REQUIRE_EQ(lumen_generate(s, prompt, strlen(prompt), &p, &a), 0);
	lumen_session_reset(s);
	p.data = &spec;
	p.spec = &sp;
	REQUIRE_EQ(lumen_generate(s, prompt, strlen(prompt), &p, &b), 0);
	CHECK(a.hit_context && b.hit_context);
	check_same(&plain, &spec, "at the context's end");
	/* both leave every token but the last in the cache */
	CHECK_EQ(lumen_session_pos(s), 40);
	lumen_session_free(s);
	lumen_model_free(m);
	lumen_device_close(d);
}

TEST(draft_with_another_vocabulary_is_refused_by_name)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-f32") : NULL;
	struct lumen_model *other = d ? load(d, "llama-2-tiny-random") : NULL;
	struct lumen_spec_params sp = { .kind = LUMEN_SPEC_DRAFT };
	struct recorder r;

	REQUIRE(m && other);
	sp.draft = other;
	CHECK_EQ(run_greedy(m, prompts[0], 10, &sp, &r, NULL), LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "same vocabulary") != NULL, "%s",
		  lumen_last_error());
	sp.draft = NULL;
	CHECK_EQ(run_greedy(m, prompts[0], 10, &sp, &r, NULL), LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "--draft") != NULL, "%s",
		  lumen_last_error());
	lumen_model_free(other);
	lumen_model_free(m);
	lumen_device_close(d);
}

TEST(mtp_without_a_head_is_refused_naming_what_is_missing)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-q8_0") : NULL;
	struct lumen_spec_params sp = { .kind = LUMEN_SPEC_MTP };
	struct recorder r;

	REQUIRE(m);
	CHECK_EQ(run_greedy(m, prompts[0], 10, &sp, &r, NULL), LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "multi-token-prediction") &&
		  strstr(lumen_last_error(), "nextn"), "%s", lumen_last_error());
	CHECK_EQ(r.n, 0);
	CHECK_EQ(lumen_spec_from_name("mtp"), LUMEN_SPEC_MTP);
	CHECK_EQ(lumen_spec_from_name("ngram"), LUMEN_SPEC_NGRAM);
	CHECK_EQ(lumen_spec_from_name("medusa"), LUMEN_E_INVAL);
	lumen_model_free(m);
	lumen_device_close(d);
}

/* lumenc --draft-max 0: no verify program; plain decode still works */
TEST(model_without_verify_program_refuses_speculation)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-q8_0-noverify") : NULL;
	struct lumen_spec_params sp = { .kind = LUMEN_SPEC_NGRAM };
	struct lumen_session *s;
	struct recorder r;
	int32_t ids[2] = { 1, 403 };

	REQUIRE(m);
	CHECK_EQ(lumen_model_max_draft(m), 0);
	CHECK_EQ(run_greedy(m, prompts[0], 10, NULL, &r, NULL), 0);
	CHECK_EQ(r.n, 10);
	CHECK_EQ(run_greedy(m, prompts[0], 10, &sp, &r, NULL), LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "--draft-max") != NULL, "%s",
		  lumen_last_error());
	REQUIRE_EQ(lumen_session_create(m, 0, &s), 0);
	CHECK_EQ(lumen_session_verify(s, ids, 2, NULL), LUMEN_E_INVAL);
	lumen_session_free(s);
	lumen_model_free(m);
	lumen_device_close(d);
}

/*
 * Sampling with speculation: the acceptance rule runs on every row
 * (its statistics: runtime/tests/test_speculative.c); the same seed
 * gives the same tokens, with penalties too (the sampler sees each kept
 * token in order).
 */
TEST(sampled_speculation_is_deterministic_per_seed)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-f32") : NULL;
	struct lumen_model *dm = d ? load(d, "stories260K-q4_0") : NULL;
	struct lumen_spec_params kinds[2] = {
		{ .kind = LUMEN_SPEC_NGRAM }, { .kind = LUMEN_SPEC_DRAFT },
	};
	static struct recorder a, b;

	REQUIRE(m && dm);
	kinds[1].draft = dm;
	for (int k = 0; k < 2; k++) {
		for (int pen = 0; pen < 2; pen++) {
			struct lumen_generate_params p = lumen_generate_default_params();
			struct lumen_generate_stats st;
			struct lumen_session *s;

			p.sampling.seed = 1234;
			p.sampling.repeat_penalty = pen ? 1.3f : 1.0f;
			p.n_predict = 80;
			p.stop_at_eos = false;
			p.on_token = record;
			p.spec = &kinds[k];
			REQUIRE_EQ(lumen_session_create(m, 0, &s), 0);
			a.n = b.n = 0;
			p.data = &a;
			REQUIRE_MSG(!lumen_generate(s, prompts[1], strlen(prompts[1]), &p, &st),
				    "%s", lumen_last_error());
			lumen_session_reset(s);
			p.data = &b;
			REQUIRE_EQ(lumen_generate(s, prompts[1], strlen(prompts[1]), &p, NULL), 0);
			CHECK_EQ(a.n, 80);
			check_same(&a, &b, "the same seed");
			CHECK(st.n_accepted <= st.n_drafted);
			printf("# sampled, %s%s: %u of %u drafts kept, %u verifies\n",
			       k ? "draft model" : "n-gram", pen ? ", penalties" : "",
			       st.n_accepted, st.n_drafted, st.n_verify);
			if (k == 1)
				CHECK(st.n_verify > 0 && st.n_accepted > 0);
			lumen_session_free(s);
		}
	}
	lumen_model_free(dm);
	lumen_model_free(m);
	lumen_device_close(d);
}

/* a session continued by a second lumen_generate: the same ids either way */
TEST(speculation_continues_a_session_like_plain_decode)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-q8_0") : NULL;
	struct lumen_spec_params sp = { .kind = LUMEN_SPEC_NGRAM,
					.always_draft = true };
	static struct recorder rec[2];
	uint32_t pos[2];

	REQUIRE(m);
	for (int k = 0; k < 2; k++) {
		struct lumen_generate_params p = lumen_generate_default_params();
		struct lumen_session *s;

		p.sampling.temperature = 0;
		p.n_predict = 30;
		p.stop_at_eos = false;
		p.on_token = record;
		p.data = &rec[k];
		p.spec = k ? &sp : NULL;
		rec[k].n = 0;
		REQUIRE_EQ(lumen_session_create(m, 0, &s), 0);
		REQUIRE_EQ(lumen_generate(s, prompts[1], strlen(prompts[1]), &p, NULL), 0);
		REQUIRE_MSG(!lumen_generate(s, " Lily and", 9, &p, NULL), "%s",
			    lumen_last_error());
		pos[k] = lumen_session_pos(s);
		lumen_session_free(s);
	}
	CHECK_EQ(rec[0].n, 60);
	check_same(&rec[0], &rec[1], "continued session");
	CHECK_EQ(pos[0], pos[1]);
	lumen_model_free(m);
	lumen_device_close(d);
}

/* ---- the speculator: the same rounds, driven one at a time ---- */

struct stopper {
	struct recorder rec;
	struct lumen_session *s;
	size_t stop_at;		/* stop after this many tokens */
	uint32_t pos_at_stop;
};

static int collect(void *data, int32_t id)
{
	struct stopper *st = data;

	record(&st->rec, id, NULL, 0);
	if (st->rec.n == st->stop_at) {
		st->pos_at_stop = lumen_session_pos(st->s);
		return 1;
	}
	return 0;
}

/*
 * Tokens of @prompt through a speculator: rounds of at most @max tokens
 * until @st->stop_at; the per-round counts must add up to the stats.
 */
static void speculate(struct lumen_model *m, struct lumen_session *s,
		      const char *prompt, const struct lumen_spec_params *spec,
		      uint32_t max, struct stopper *st, struct lumen_spec_stats *ss,
		      int *result)
{
	int32_t ids[MAX_IDS];
	long n = lumen_tokenize(lumen_model_tokenizer(m), prompt, strlen(prompt),
				LUMEN_TOKENIZE_BOS, ids, MAX_IDS);
	struct lumen_sampler_params greedy = lumen_sampler_default_params();
	struct lumen_speculator *sp;
	uint32_t handed = 0;
	int ret;

	greedy.temperature = 0;
	st->s = s;
	st->rec.n = 0;
	*result = -1;
	if (n <= 0 || lumen_speculator_create(s, spec, &greedy, &sp))
		return;
	CHECK_EQ(lumen_speculator_step(sp, 4, collect, st), LUMEN_E_INVAL);
	ret = lumen_speculator_start(sp, ids, (size_t)n, collect, st);
	CHECK_EQ(ret, 1);
	CHECK_EQ(lumen_speculator_start(sp, ids, (size_t)n, collect, st),
		 LUMEN_E_INVAL);
	while (ret > 0 && st->rec.n < st->stop_at) {
		size_t before = st->rec.n;

		ret = lumen_speculator_step(sp, max, collect, st);
		if (ret > 0) {
			CHECK_MSG((uint32_t)ret <= max, "a round of %d tokens, at most %u asked",
				  ret, max);
			CHECK_EQ((size_t)ret, st->rec.n - before);
			handed += (uint32_t)ret;
		}
	}
	lumen_speculator_get_stats(sp, ss);
	CHECK_EQ(ss->n_tokens, handed);
	/* the prefill, then one submission a round */
	CHECK_EQ(lumen_session_submissions(s), 1 + ss->n_rounds);
	lumen_speculator_free(sp);
	*result = ret < 0 ? ret : 0;
}

/*
 * Rounds driven by hand give plain decoding's tokens, no more than asked
 * per round; a callback that stops mid-round leaves the session holding
 * exactly the tokens before it, and a lumen_generate continuing it gives
 * what plain decoding continued at that point gives.
 */
TEST(speculator_rounds_equal_plain_and_stop_where_asked)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-f32") : NULL;
	struct lumen_model *dm = d ? load(d, "stories260K-q4_0") : NULL;
	struct lumen_spec_params kinds[] = {
		{ .kind = LUMEN_SPEC_NONE },
		{ .kind = LUMEN_SPEC_NGRAM, .always_draft = true },
		{ .kind = LUMEN_SPEC_DRAFT, .always_draft = true },
	};
	static struct recorder plain, cont_plain, cont_spec;
	static struct stopper st;
	int32_t bos_len;

	REQUIRE(m && dm);
	kinds[2].draft = dm;
	REQUIRE_EQ(run_greedy(m, prompts[1], 80, NULL, &plain, NULL), 0);
	bos_len = (int32_t)lumen_tokenize(lumen_model_tokenizer(m), prompts[1],
					  strlen(prompts[1]), LUMEN_TOKENIZE_BOS,
					  (int32_t[MAX_IDS]){ 0 }, MAX_IDS);
	for (size_t k = 0; k < 3; k++) {
		for (uint32_t max = 1; max <= 9; max += 4) {
			struct lumen_spec_stats ss;
			struct lumen_session *s;

			int r;

			REQUIRE_EQ(lumen_session_create(m, 0, &s), 0);
			st.stop_at = 80;
			speculate(m, s, prompts[1], &kinds[k], max, &st, &ss, &r);
			REQUIRE_MSG(!r, "%s", lumen_last_error());
			check_same(&plain, &st.rec, "speculator rounds");
			printf("# kind %d, rounds of at most %u: %u rounds, %u verifies, %u of %u drafts kept\n",
			       kinds[k].kind, max, ss.n_rounds, ss.n_verify,
			       ss.n_accepted, ss.n_drafted);
			if (kinds[k].kind == LUMEN_SPEC_NONE || max == 1)
				CHECK_EQ(ss.n_verify, 0);
			if (kinds[k].kind == LUMEN_SPEC_DRAFT && max > 1)
				CHECK(ss.n_tokens > ss.n_rounds);	/* > 1 a round */
			if (kinds[k].kind == LUMEN_SPEC_DRAFT)
				CHECK_EQ(ss.draft_submissions > 0, max > 1);
			lumen_session_free(s);
		}
	}
	/* stopped inside rounds at every count from 20 to 27, then continued */
	for (size_t stop = 20; stop < 28; stop++) {
		struct lumen_generate_params p = lumen_generate_default_params();
		struct lumen_session *s;
		struct lumen_spec_stats ss;
		int r;

		p.sampling.temperature = 0;
		p.n_predict = 20;
		p.stop_at_eos = false;
		p.on_token = record;
		REQUIRE_EQ(lumen_session_create(m, 0, &s), 0);
		st.stop_at = stop;
		speculate(m, s, prompts[1], &kinds[2], 9, &st, &ss, &r);
		REQUIRE_MSG(!r, "%s", lumen_last_error());
		REQUIRE_EQ(st.rec.n, stop);
		CHECK_MSG(!memcmp(st.rec.ids, plain.ids, 4 * stop),
			  "stopped after %zu: not plain decoding's first tokens", stop);
		CHECK_EQ(lumen_session_pos(s), (uint32_t)bos_len + stop - 1);
		CHECK_EQ(st.pos_at_stop, lumen_session_pos(s));
		cont_spec.n = 0;
		p.data = &cont_spec;
		REQUIRE_EQ(lumen_generate(s, " Then", 5, &p, NULL), 0);
		lumen_session_free(s);
		/* plain: the same tokens, the last one pending, the same text */
		REQUIRE_EQ(lumen_session_create(m, 0, &s), 0);
		p.n_predict = (uint32_t)stop;
		p.data = &cont_plain;
		cont_plain.n = 0;
		REQUIRE_EQ(lumen_generate(s, prompts[1], strlen(prompts[1]), &p, NULL), 0);
		p.n_predict = 20;
		cont_plain.n = 0;
		REQUIRE_EQ(lumen_generate(s, " Then", 5, &p, NULL), 0);
		lumen_session_free(s);
		check_same(&cont_plain, &cont_spec, "continued after a stop mid-round");
	}
	lumen_model_free(dm);
	lumen_model_free(m);
	lumen_device_close(d);
}

/* the tokens of a sampled speculative run, and the speculator's figures */
static void sampled_run(struct lumen_model *m, const struct lumen_spec_params *spec,
			const struct lumen_sampler_params *sampling,
			struct recorder *rec, struct lumen_spec_stats *ss)
{
	static struct stopper st;
	int32_t ids[MAX_IDS];
	long n = lumen_tokenize(lumen_model_tokenizer(m), prompts[1],
				strlen(prompts[1]), LUMEN_TOKENIZE_BOS, ids, MAX_IDS);
	struct lumen_speculator *sp = NULL;
	struct lumen_session *s = NULL;
	int ret = n > 0 ? lumen_session_create(m, 0, &s) : -1;

	memset(ss, 0, sizeof(*ss));
	rec->n = 0;
	if (!ret)
		ret = lumen_speculator_create(s, spec, sampling, &sp);
	st.rec.n = 0;
	st.s = s;
	st.stop_at = 0;
	if (!ret)
		ret = lumen_speculator_start(sp, ids, (size_t)n, collect, &st);
	while (ret > 0 && st.rec.n < 80)
		ret = lumen_speculator_step(sp, 80 - (uint32_t)st.rec.n, collect, &st);
	CHECK_MSG(ret > 0, "%s", lumen_last_error());
	if (sp)
		lumen_speculator_get_stats(sp, ss);
	*rec = st.rec;
	lumen_speculator_free(sp);
	lumen_session_free(s);
}

/*
 * Sampled verification reads each row's top-k from the device instead of
 * its n_vocab logits when the sampler's top_k fits (and it has no
 * penalties); the tokens are those of whole rows, draw for draw, on a
 * file whose verify program leaves no top-k: the candidates, their
 * probabilities and so the acceptance rule's p are the same.
 */
TEST(sampled_verification_reads_the_device_topk)
{
	struct lumen_device *d = cpu();
	struct lumen_model *m = d ? load(d, "stories260K-f32") : NULL;
	struct lumen_model *whole = d ? load(d, "stories260K-f32-notopk") : NULL;
	struct lumen_model *dm = d ? load(d, "stories260K-q4_0") : NULL;
	struct lumen_spec_params kinds[] = {
		{ .kind = LUMEN_SPEC_NGRAM },
		{ .kind = LUMEN_SPEC_DRAFT },
	};
	static struct recorder a, b;

	REQUIRE(m && whole && dm);
	kinds[1].draft = dm;
	for (int k = 0; k < 2; k++) {
		for (int32_t top_k = 0; top_k <= 50; top_k += 10) {
			struct lumen_sampler_params sp = lumen_sampler_default_params();
			struct lumen_spec_stats sa, sb;
			bool fits = top_k > 0 && top_k <= 40;

			sp.temperature = 0.9f;
			sp.top_k = top_k;
			sp.seed = 1234 + (uint64_t)top_k;
			sampled_run(m, &kinds[k], &sp, &a, &sa);
			sampled_run(whole, &kinds[k], &sp, &b, &sb);
			check_same(&b, &a, "top-k rows vs whole rows");
			CHECK_EQ(a.n, 80);
			CHECK(sa.n_verify > 0);
			CHECK_MSG(fits ? sa.n_topk_rows >= sa.n_verify : sa.n_topk_rows == 0,
				  "kind %d, top_k %d: %u rows from the top-k, %u verifications",
				  k, top_k, sa.n_topk_rows, sa.n_verify);
			CHECK_EQ(sb.n_topk_rows, 0);
			CHECK_EQ(sa.n_accepted, sb.n_accepted);
		}
		/* penalties can lift a token from beyond the top-k: whole rows */
		{
			struct lumen_sampler_params sp = lumen_sampler_default_params();
			struct lumen_spec_stats sa, sb;

			sp.temperature = 0.9f;
			sp.repeat_penalty = 1.3f;
			sampled_run(m, &kinds[k], &sp, &a, &sa);
			sampled_run(whole, &kinds[k], &sp, &b, &sb);
			check_same(&b, &a, "with penalties");
			CHECK_EQ(sa.n_topk_rows, 0);
		}
	}
	lumen_model_free(dm);
	lumen_model_free(whole);
	lumen_model_free(m);
	lumen_device_close(d);
}
