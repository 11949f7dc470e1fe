// SPDX-License-Identifier: MIT
/*
 * liblumen's API on the CPU backend with stories260K: submissions per
 * token, prefill chunking, sessions sharing a model, the context limit,
 * sampling determinism, and bad input (files, ids, devices).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <drm/lumen_isa.h>
#include <lumen/lumen.h>
#include "lumen_test.h"

struct fixture {
	struct lumen_device *dev;
	struct lumen_model *m;
	struct lumen_model_info info;
};

static const char *model_path(const char *quant)
{
	static char path[512];
	const char *dir = getenv("LUMEN_MODEL_DIR");

	snprintf(path, sizeof(path), "%s/stories260K-%s.lnpu", dir ? dir : ".",
		 quant);
	return path;
}

static int open_fixture(struct fixture *f, const char *quant, unsigned threads)
{
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_CPU,
					  .threads = threads };

	memset(f, 0, sizeof(*f));
	if (lumen_device_open(&f->dev, &o))
		return -1;
	if (lumen_model_load(f->dev, model_path(quant), NULL, &f->m)) {
		fprintf(stderr, "# %s\n", lumen_last_error());
		return -1;
	}
	lumen_model_get_info(f->m, &f->info);
	return 0;
}

static void close_fixture(struct fixture *f)
{
	lumen_model_free(f->m);
	lumen_device_close(f->dev);
}

struct recorder {
	int32_t ids[512];
	size_t n;
};

static int record(void *data, int32_t id, const char *piece, size_t len)
{
	struct recorder *r = data;

	if (r->n < 512)
		r->ids[r->n++] = id;
	return 0;
}

static struct lumen_generate_params greedy(uint32_t n, struct recorder *r)
{
	struct lumen_generate_params p = lumen_generate_default_params();

	p.sampling.temperature = 0;
	p.n_predict = n;
	p.stop_at_eos = false;
	p.on_token = record;
	p.data = r;
	return p;
}

static int32_t host_argmax(const float *x, uint32_t n)
{
	int32_t best = 0;

	for (uint32_t i = 1; i < n; i++)
		if (x[i] > x[best])
			best = (int32_t)i;
	return best;
}

TEST(one_submission_per_generated_token)
{
	static const uint32_t lengths[] = { 1, 2, 17, 60 };
	struct fixture f;
	struct lumen_session *s;
	struct lumen_generate_stats st;
	struct lumen_counters c0, c1;
	const char *prompt = "Once upon a time";

	REQUIRE(!open_fixture(&f, "q8_0", 1));
	REQUIRE_EQ(lumen_session_create(f.m, 0, &s), 0);
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		for (int temp = 0; temp < 2; temp++) {
			struct recorder r = { .n = 0 };
			struct lumen_generate_params p = greedy(lengths[i], &r);
			uint64_t before = lumen_session_submissions(s);

			p.sampling.temperature = (float)temp;
			lumen_session_reset(s);
			lumen_device_get_counters(f.dev, &c0);
			REQUIRE_EQ(lumen_generate(s, prompt, strlen(prompt), &p, &st), 0);
			lumen_device_get_counters(f.dev, &c1);
			CHECK_EQ(st.n_generated, lengths[i]);
			CHECK_EQ(st.n_prompt, 5);
			/* one prefill chunk for the 5-token prompt, then one
			 * decode per token after the first */
			CHECK_EQ(st.submissions, 1 + lengths[i] - 1);
			CHECK_EQ(lumen_session_submissions(s) - before, st.submissions);
			CHECK_EQ(c1.submissions - c0.submissions, st.submissions);
		}
	}
	/* a bare decode is exactly one submission */
	{
		uint64_t before = lumen_session_submissions(s);

		REQUIRE_EQ(lumen_session_decode(s, 100), 0);
		CHECK_EQ(lumen_session_submissions(s) - before, 1);
	}
	lumen_session_free(s);
	close_fixture(&f);
}

TEST(prefill_chunks_match_token_by_token)
{
	struct fixture f;
	struct lumen_session *a, *b;
	int32_t ids[100];
	float *la;
	uint32_t n = 100;
	double worst = 0;

	REQUIRE(!open_fixture(&f, "f32", 1));
	REQUIRE(f.info.prefill_chunk < n && n <= f.info.ctx);
	for (uint32_t i = 0; i < n; i++)
		ids[i] = (int32_t)((i * 37 + 1) % f.info.n_vocab);
	REQUIRE_EQ(lumen_session_create(f.m, 0, &a), 0);
	REQUIRE_EQ(lumen_session_create(f.m, 0, &b), 0);
	REQUIRE_EQ(lumen_session_prefill(a, ids, n), 0);
	CHECK_EQ(lumen_session_submissions(a),
		 (n + f.info.prefill_chunk - 1) / f.info.prefill_chunk);
	CHECK_EQ(lumen_session_pos(a), n);
	la = malloc(4ull * f.info.n_vocab);
	REQUIRE(la);
	memcpy(la, lumen_session_logits(a), 4ull * f.info.n_vocab);
	for (uint32_t i = 0; i < n; i++)
		REQUIRE_EQ(lumen_session_decode(b, ids[i]), 0);
	CHECK_EQ(lumen_session_submissions(b), n);
	{
		const float *lb = lumen_session_logits(b);

		for (uint32_t v = 0; v < f.info.n_vocab; v++)
			if (fabs(la[v] - lb[v]) > worst)
				worst = fabs(la[v] - lb[v]);
		/* tolerance: compiler/tests/test_prefill.c says why */
		CHECK_MSG(worst < 1e-2, "prefill vs decode logits differ by %g", worst);
		CHECK_EQ(host_argmax(la, f.info.n_vocab), lumen_session_argmax(b));
	}
	free(la);
	lumen_session_free(a);
	lumen_session_free(b);
	close_fixture(&f);
}

TEST(device_argmax_equals_host_argmax)
{
	struct fixture f;
	struct lumen_session *s;
	int32_t id = 1;

	REQUIRE(!open_fixture(&f, "q4_0", 1));
	REQUIRE_EQ(lumen_session_create(f.m, 0, &s), 0);
	CHECK(lumen_session_logits(s) == NULL);	/* nothing run yet */
	for (int i = 0; i < 40; i++) {
		const float *l;

		REQUIRE_EQ(lumen_session_decode(s, id), 0);
		l = lumen_session_logits(s);
		REQUIRE(l);
		CHECK_EQ(lumen_session_argmax(s), host_argmax(l, f.info.n_vocab));
		id = lumen_session_argmax(s);
	}
	lumen_session_free(s);
	close_fixture(&f);
}

TEST(two_sessions_interleaved_equal_each_alone)
{
	static const char *prompts[2] = { "Once upon a time",
					  "The little dog was sad because" };
	struct recorder alone[2] = { { .n = 0 } }, mixed[2] = { { .n = 0 } };
	struct lumen_session *s[2];
	struct fixture f;
	int32_t ids[2][64];
	long n[2];

	REQUIRE(!open_fixture(&f, "q8_0", 1));
	for (int k = 0; k < 2; k++) {
		struct lumen_generate_params p = greedy(40, &alone[k]);

		REQUIRE_EQ(lumen_session_create(f.m, 0, &s[k]), 0);
		REQUIRE_EQ(lumen_generate(s[k], prompts[k], strlen(prompts[k]),
					  &p, NULL), 0);
		lumen_session_reset(s[k]);
		n[k] = lumen_tokenize(lumen_model_tokenizer(f.m), prompts[k],
				      strlen(prompts[k]), LUMEN_TOKENIZE_BOS,
				      ids[k], 64);
		REQUIRE(n[k] > 0 && n[k] <= 64);
	}
	CHECK(memcmp(alone[0].ids, alone[1].ids, sizeof(alone[0].ids)));
	/* both prompts in, then one step of each in turn */
	for (int k = 0; k < 2; k++)
		REQUIRE_EQ(lumen_session_prefill(s[k], ids[k], (size_t)n[k]), 0);
	for (int step = 0; step < 40; step++) {
		for (int k = 0; k < 2; k++) {
			int32_t id = lumen_session_argmax(s[k]);

			mixed[k].ids[mixed[k].n++] = id;
			if (step < 39)
				REQUIRE_EQ(lumen_session_decode(s[k], id), 0);
		}
	}
	for (int k = 0; k < 2; k++) {
		CHECK_EQ(mixed[k].n, alone[k].n);
		CHECK(!memcmp(mixed[k].ids, alone[k].ids, 40 * sizeof(int32_t)));
	}
	lumen_session_free(s[0]);
	lumen_session_free(s[1]);
	close_fixture(&f);
}

TEST(weights_are_used_in_place_on_the_cpu)
{
	struct fixture f;

	REQUIRE(!open_fixture(&f, "f16", 1));
	CHECK(f.info.weight_bytes > 0);
	CHECK_EQ(f.info.weight_bytes_copied, 0);
	CHECK_EQ(f.info.n_vocab, 512);
	CHECK(!strcmp(lumen_dtype_name(f.info.weight_dtype), "F16"));
	close_fixture(&f);
}

/*
 * Review item 20: the CPU backend ran programs in place from the model's
 * MAP_PRIVATE file mapping, which shows later writes to the file. Every
 * op of both programs is overwritten with 0xff after the load (opcode
 * 0xffff, dims and strides 2^32 - 1): the run must not notice.
 */
TEST(programs_are_private_copies_on_the_cpu)
{
	const char *prompt = "Once upon a time";
	char path[256];
	struct fixture ref, f;
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_CPU, .threads = 1 };
	struct recorder a = { .n = 0 }, b = { .n = 0 };
	struct lumen_generate_params p;
	struct lumen_session *s;
	size_t n = 0, progs = 0;
	uint8_t *bytes;
	FILE *in;
	int fd;

	REQUIRE(!open_fixture(&ref, "q8_0", 1));
	p = greedy(24, &a);
	REQUIRE_EQ(lumen_session_create(ref.m, 0, &s), 0);
	REQUIRE_EQ(lumen_generate(s, prompt, strlen(prompt), &p, NULL), 0);
	lumen_session_free(s);
	close_fixture(&ref);

	/* a private copy of the model file to load, then to scribble over */
	in = fopen(model_path("q8_0"), "rb");
	REQUIRE(in);
	fseek(in, 0, SEEK_END);
	n = (size_t)ftell(in);
	fseek(in, 0, SEEK_SET);
	bytes = malloc(n);
	REQUIRE(bytes && fread(bytes, 1, n, in) == n);
	fclose(in);
	snprintf(path, sizeof(path), "%s/lumen-api-%d-prog.lnpu",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, bytes, n) == (ssize_t)n);

	memset(&f, 0, sizeof(f));
	REQUIRE(!lumen_device_open(&f.dev, &o));
	REQUIRE_MSG(!lumen_model_load(f.dev, path, NULL, &f.m), "%s", lumen_last_error());

	/* every program in the file: keep its header, 0xff over its ops */
	for (size_t off = 0; off + sizeof(struct lumen_prog_header) <= n; off += 4) {
		struct lumen_prog_header h;
		size_t ops;

		memcpy(&h, bytes + off, sizeof(h));
		if (h.magic != LUMEN_PROG_MAGIC || h.isa_version != LUMEN_ISA_VERSION ||
		    h.header_size != sizeof(h) || h.op_size != sizeof(struct lumen_op))
			continue;
		ops = (size_t)h.op_count * h.op_size;
		if (off + h.header_size + ops > n)
			continue;
		memset(bytes + off + h.header_size, 0xff, ops);
		REQUIRE(pwrite(fd, bytes + off + h.header_size, ops,
			       (off_t)(off + h.header_size)) == (ssize_t)ops);
		progs++;
	}
	fsync(fd);
	CHECK_EQ(progs, 3);	/* decode, prefill and verify */

	p = greedy(24, &b);
	REQUIRE_EQ(lumen_session_create(f.m, 0, &s), 0);
	CHECK_EQ(lumen_generate(s, prompt, strlen(prompt), &p, NULL), 0);
	lumen_session_free(s);
	CHECK_EQ(b.n, a.n);
	CHECK(!memcmp(a.ids, b.ids, a.n * sizeof(a.ids[0])));
	{	/* the verify program too */
		struct lumen_spec_params sp = { .kind = LUMEN_SPEC_NGRAM };

		b.n = 0;
		p.spec = &sp;
		REQUIRE_EQ(lumen_session_create(f.m, 0, &s), 0);
		CHECK_EQ(lumen_generate(s, prompt, strlen(prompt), &p, NULL), 0);
		lumen_session_free(s);
		CHECK_EQ(b.n, a.n);
		CHECK(!memcmp(a.ids, b.ids, a.n * sizeof(a.ids[0])));
	}
	close_fixture(&f);
	close(fd);
	unlink(path);
	free(bytes);
}

TEST(same_seed_same_tokens_other_seed_other_tokens)
{
	struct fixture f;
	struct lumen_session *s;
	struct recorder r[3] = { { .n = 0 } };
	const char *prompt = "Lily and Tom";

	REQUIRE(!open_fixture(&f, "q8_0", 1));
	REQUIRE_EQ(lumen_session_create(f.m, 0, &s), 0);
	for (int i = 0; i < 3; i++) {
		struct lumen_generate_params p = greedy(50, &r[i]);

		p.sampling.temperature = 1;
		p.sampling.top_k = 0;
		p.sampling.top_p = 1;
		p.sampling.min_p = 0;
		p.sampling.seed = i < 2 ? 42 : 43;
		lumen_session_reset(s);
		REQUIRE_EQ(lumen_generate(s, prompt, strlen(prompt), &p, NULL), 0);
		REQUIRE_EQ(r[i].n, 50);
	}
	CHECK(!memcmp(r[0].ids, r[1].ids, sizeof(r[0].ids)));
	CHECK(memcmp(r[0].ids, r[2].ids, sizeof(r[0].ids)));
	lumen_session_free(s);
	close_fixture(&f);
}

/*
 * A session asks for fewer positions than the model was compiled for: its
 * KV cache is that small, and every step gives the logits of a session
 * with the full cache.
 */
TEST(small_context_session_matches_full)
{
	struct fixture f;
	struct lumen_session *full, *small;
	struct lumen_memory m_full, m_small;
	int32_t ids[24];
	float *want;
	const uint32_t ctx = 40;

	REQUIRE(!open_fixture(&f, "q8_0", 1));
	REQUIRE(f.info.ctx > 2 * ctx);
	for (uint32_t i = 0; i < 24; i++)
		ids[i] = (int32_t)((i * 53 + 7) % f.info.n_vocab);
	REQUIRE_EQ(lumen_session_create(f.m, 0, &full), 0);
	REQUIRE_EQ(lumen_session_create(f.m, ctx, &small), 0);
	CHECK_EQ(lumen_session_ctx(small), ctx);
	want = malloc(4ull * f.info.n_vocab);
	REQUIRE(want);
	REQUIRE_EQ(lumen_session_prefill(full, ids, 24), 0);
	REQUIRE_EQ(lumen_session_prefill(small, ids, 24), 0);
	for (uint32_t step = 0; step < ctx - 24; step++) {
		int32_t next = lumen_session_argmax(full);

		memcpy(want, lumen_session_logits(full), 4ull * f.info.n_vocab);
		CHECK_EQ(lumen_session_argmax(small), next);
		CHECK(!memcmp(want, lumen_session_logits(small),
			      4ull * f.info.n_vocab));
		REQUIRE_EQ(lumen_session_decode(full, next), 0);
		REQUIRE_EQ(lumen_session_decode(small, next), 0);
	}
	CHECK_EQ(lumen_session_decode(small, 1), LUMEN_E_CONTEXT);
	lumen_model_get_memory(f.m, 0, &m_full);
	lumen_model_get_memory(f.m, ctx, &m_small);
	CHECK_EQ(m_full.ctx, f.info.ctx);
	CHECK_EQ(m_small.ctx, ctx);
	CHECK_EQ(m_full.kv / f.info.ctx, m_small.kv / ctx);
	/* K and V of every layer, in the cache's dtype */
	CHECK_EQ(m_small.kv, 2ull * f.info.n_layer * ctx *
			     (f.info.n_embd / f.info.n_head * f.info.n_head_kv) *
			     (f.info.kv_dtype == LUMEN_DTYPE_F16 ? 2 : 4));
	CHECK_EQ(m_small.weights, f.info.weight_bytes);
	CHECK_EQ(m_small.total, m_small.weights + m_small.scratch + m_small.kv +
				m_small.io);
	free(want);
	lumen_session_free(small);
	lumen_session_free(full);
	close_fixture(&f);
}

/*
 * The modeled NPU's figures: a session counts its prefill and decode jobs
 * apart, the device sums every session's, the same jobs cost the same,
 * and a faster preset takes less time.
 */
TEST(modeled_figures_follow_the_jobs)
{
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_CPU,
					  .threads = 1, .silicon = "tv" };
	struct lumen_device *bad = NULL;
	struct fixture f;
	struct lumen_session *a, *b;
	struct lumen_modeled ma, mb;
	struct lumen_counters c;
	struct lumen_device_info di;
	int32_t ids[10] = { 1, 20, 30, 40, 50, 60, 70, 80, 90, 100 };

	CHECK_EQ(lumen_device_open(&bad, &o), LUMEN_E_INVAL);
	CHECK(strstr(lumen_last_error(), "glasses") != NULL);
	CHECK(bad == NULL);
	REQUIRE(!open_fixture(&f, "q8_0", 1));
	lumen_device_get_info(f.dev, &di);
	CHECK(!strcmp(di.silicon, "glasses"));
	REQUIRE_EQ(lumen_session_create(f.m, 64, &a), 0);
	REQUIRE_EQ(lumen_session_create(f.m, 64, &b), 0);
	REQUIRE_EQ(lumen_session_prefill(a, ids, 10), 0);
	REQUIRE_EQ(lumen_session_prefill(b, ids, 10), 0);
	for (int i = 0; i < 3; i++)
		REQUIRE_EQ(lumen_session_decode(a, 5), 0);
	lumen_session_get_modeled(a, &ma);
	lumen_session_get_modeled(b, &mb);
	CHECK_EQ(ma.prefill_tokens, 10);
	CHECK_EQ(ma.decode_tokens, 3);
	CHECK_EQ(mb.decode_tokens, 0);
	CHECK(ma.prefill_ns > 0 && ma.decode_ns > 0);
	CHECK_EQ(ma.prefill_ns, mb.prefill_ns);		/* the same job */
	CHECK(ma.energy_nj > mb.energy_nj);
	lumen_device_get_counters(f.dev, &c);
	/* rounding: each session rounds its own sum */
	CHECK(c.modeled_ns + 4 >= ma.prefill_ns + ma.decode_ns + mb.prefill_ns &&
	      c.modeled_ns <= ma.prefill_ns + ma.decode_ns + mb.prefill_ns + 4);
	lumen_session_free(a);
	lumen_session_free(b);
	close_fixture(&f);
}

TEST(context_limit)
{
	struct fixture f;
	struct lumen_session *s;
	struct lumen_generate_params p;
	struct lumen_generate_stats st;
	struct recorder r = { .n = 0 };
	int32_t ids[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	const char *long_prompt = "Once upon a time there was a little girl";

	REQUIRE(!open_fixture(&f, "q8_0", 1));
	CHECK_EQ(lumen_session_create(f.m, f.info.ctx + 1, &s), LUMEN_E_INVAL);
	REQUIRE_EQ(lumen_session_create(f.m, 8, &s), 0);
	CHECK_EQ(lumen_session_prefill(s, ids, 9), LUMEN_E_CONTEXT);
	CHECK_EQ(lumen_session_submissions(s), 0);	/* nothing ran */
	CHECK_EQ(lumen_session_prefill(s, ids, 8), 0);
	CHECK_EQ(lumen_session_decode(s, 5), LUMEN_E_CONTEXT);
	CHECK(strstr(lumen_last_error(), "full") != NULL);
	lumen_session_reset(s);
	p = greedy(5, &r);
	CHECK_EQ(lumen_generate(s, long_prompt, strlen(long_prompt), &p, &st),
		 LUMEN_E_CONTEXT);
	CHECK(strstr(lumen_last_error(), "prompt") != NULL);
	CHECK_EQ(r.n, 0);
	/* generation stops at a full context, without an error */
	p = greedy(100, &r);
	CHECK_EQ(lumen_generate(s, "Once", 4, &p, &st), 0);
	CHECK(st.hit_context);
	CHECK_EQ(st.n_generated, 8 - st.n_prompt + 1);
	lumen_session_free(s);
	close_fixture(&f);
}

TEST(bad_token_ids_are_refused)
{
	struct fixture f;
	struct lumen_session *s;
	int32_t ids[2] = { 1, 512 };

	REQUIRE(!open_fixture(&f, "q4_0", 1));
	REQUIRE_EQ(lumen_session_create(f.m, 0, &s), 0);
	CHECK_EQ(lumen_session_decode(s, -1), LUMEN_E_INVAL);
	CHECK_EQ(lumen_session_decode(s, 512), LUMEN_E_INVAL);
	CHECK_EQ(lumen_session_prefill(s, ids, 2), LUMEN_E_INVAL);
	CHECK(strstr(lumen_last_error(), "512") != NULL);
	CHECK_EQ(lumen_session_prefill(s, ids, 0), LUMEN_E_INVAL);
	CHECK_EQ(lumen_session_submissions(s), 0);
	CHECK_EQ(lumen_session_pos(s), 0);
	lumen_session_free(s);
	close_fixture(&f);
}

/* a copy of the q8_0 model with @fn applied, in a temporary file */
static int damaged_copy(char *out, size_t len, void (*fn)(uint8_t *, size_t *))
{
	FILE *in = fopen(model_path("q8_0"), "rb");
	static uint8_t buf[4 << 20];
	size_t n;
	int fd;

	if (!in)
		return -1;
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	fn(buf, &n);
	snprintf(out, len, "/tmp/lumen-api-XXXXXX");
	fd = mkstemp(out);
	if (fd < 0)
		return -1;
	if (write(fd, buf, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void truncate_half(uint8_t *b, size_t *n) { *n /= 2; }
static void flip_weight_bit(uint8_t *b, size_t *n) { b[*n - 1000] ^= 0x10; }
static void flip_header_bit(uint8_t *b, size_t *n) { b[9] ^= 0x01; }
static void gguf_magic(uint8_t *b, size_t *n) { memcpy(b, "GGUF", 4); }
static void text_file(uint8_t *b, size_t *n) { *n = (size_t)sprintf((char *)b, "hello\n"); }
static void empty_file(uint8_t *b, size_t *n) { *n = 0; }

TEST(damaged_files_are_refused_with_a_reason)
{
	static const struct {
		void (*fn)(uint8_t *, size_t *);
		int err;
		const char *word;
	} cases[] = {
		{ truncate_half, LUMEN_E_FORMAT, "offset" },
		{ flip_weight_bit, LUMEN_E_FORMAT, "CRC" },
		{ flip_header_bit, LUMEN_E_FORMAT, "offset" },
		{ gguf_magic, LUMEN_E_FORMAT, "GGUF" },
		{ text_file, LUMEN_E_FORMAT, "not a Lumen model" },
		{ empty_file, LUMEN_E_FORMAT, "not a Lumen model" },
	};
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_CPU, .threads = 1 };
	struct lumen_device *dev;
	struct lumen_model *m;
	char path[64];

	REQUIRE_EQ(lumen_device_open(&dev, &o), 0);
	CHECK_EQ(lumen_model_load(dev, "/nonexistent/x.lnpu", NULL, &m), LUMEN_E_IO);
	CHECK(strstr(lumen_last_error(), "No such file") != NULL);
	CHECK(m == NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		REQUIRE(!damaged_copy(path, sizeof(path), cases[i].fn));
		CHECK_EQ(lumen_model_load(dev, path, NULL, &m), cases[i].err);
		CHECK_MSG(strstr(lumen_last_error(), cases[i].word) != NULL,
			  "case %zu: '%s' lacks '%s'", i, lumen_last_error(),
			  cases[i].word);
		CHECK(m == NULL);
		unlink(path);
	}
	lumen_device_close(dev);
}

TEST(npu_backend_reports_a_missing_device)
{
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_NPU };
	struct lumen_device *dev = (void *)1;
	struct stat st;
	int ret = lumen_device_open(&dev, &o);

	CHECK(dev == NULL);
	if (stat("/dev/accel", &st)) {
		CHECK_EQ(ret, LUMEN_E_NODEV);
		CHECK(strstr(lumen_last_error(),
			     "no Lumen NPU found (/dev/accel/accel*)"));
		CHECK(strstr(lumen_last_error(), "lumen.ko"));
	} else {
		CHECK(ret == LUMEN_E_NODEV || ret == LUMEN_E_UNSUPPORTED);
	}
	CHECK_EQ(lumen_backend_from_name("npu"), LUMEN_BACKEND_NPU);
	CHECK_EQ(lumen_backend_from_name("gpu"), LUMEN_E_INVAL);
	CHECK(strstr(lumen_last_error(), "'gpu' is not a backend"));
	CHECK(!strcmp(lumen_strerror(LUMEN_E_NODEV), "no such device"));
}

/* the CPU backend splits ops over threads; the tokens must not change */
TEST(threads_do_not_change_the_result)
{
	static const char *quants[] = { "f32", "q8_0", "q4_0" };
	const char *prompt = "One day, a big bird";

	for (size_t q = 0; q < sizeof(quants) / sizeof(quants[0]); q++) {
		struct recorder r[2] = { { .n = 0 } };
		float *logits[2] = { NULL, NULL };
		double worst = 0;

		for (int t = 0; t < 2; t++) {
			struct lumen_generate_params p = greedy(60, &r[t]);
			struct lumen_session *s;
			struct fixture f;

			REQUIRE(!open_fixture(&f, quants[q], t + 1));
			REQUIRE_EQ(lumen_session_create(f.m, 0, &s), 0);
			REQUIRE_EQ(lumen_generate(s, prompt, strlen(prompt), &p, NULL), 0);
			logits[t] = malloc(4ull * f.info.n_vocab);
			REQUIRE(logits[t]);
			memcpy(logits[t], lumen_session_logits(s), 4ull * f.info.n_vocab);
			lumen_session_free(s);
			close_fixture(&f);
		}
		CHECK_EQ(r[0].n, r[1].n);
		CHECK_MSG(!memcmp(r[0].ids, r[1].ids, sizeof(r[0].ids)),
			  "%s: 1 and 2 threads chose different tokens", quants[q]);
		for (int v = 0; v < 512; v++)
			if (fabs(logits[0][v] - logits[1][v]) > worst)
				worst = fabs(logits[0][v] - logits[1][v]);
		fprintf(stderr, "# %s: logits of 1 and 2 threads differ by %g at most\n",
			quants[q], worst);
		CHECK_MSG(worst <= 1e-4, "%s: logits differ by %g", quants[q], worst);
		free(logits[0]);
		free(logits[1]);
	}
}

/*
 * The one error convention (<lumen/error.h>): a negative enum lumen_error
 * (NULL for lumen_session_logits()), the out-pointer NULL, and the detail
 * in lumen_last_error(), per thread.
 */
static void *other_thread(void *arg)
{
	/* another thread's failures are not this one's */
	return (void *)(uintptr_t)(lumen_last_error()[0] == 0);
}

TEST(errors_are_negative_codes_with_a_per_thread_message)
{
	struct fixture f;
	struct lumen_session *s = (void *)1;
	struct lumen_generate_params p = lumen_generate_default_params();
	int32_t ids[2] = { 1, 100000 };
	pthread_t th;
	void *clean = NULL;

	REQUIRE(!open_fixture(&f, "q8_0", 1));
	CHECK_EQ(lumen_session_create(f.m, 100000, &s), LUMEN_E_INVAL);
	CHECK(s == NULL);
	CHECK_MSG(strstr(lumen_last_error(), "compiled for"), "%s",
		  lumen_last_error());
	REQUIRE_EQ(lumen_session_create(f.m, 0, &s), 0);

	CHECK_EQ(lumen_session_argmax(s), LUMEN_E_INVAL);
	CHECK(strstr(lumen_last_error(), "no output yet"));
		CHECK(lumen_session_logits(s) == NULL);
	CHECK(strstr(lumen_last_error(), "no output yet"));

	CHECK_EQ(lumen_session_prefill(s, ids, 2), LUMEN_E_INVAL);
	CHECK_MSG(strstr(lumen_last_error(), "id 100000 is outside"), "%s",
		  lumen_last_error());
	CHECK_EQ(lumen_session_pos(s), 0);

	p.n_predict = 1;

	REQUIRE(!pthread_create(&th, NULL, other_thread, NULL));
	REQUIRE(!pthread_join(th, &clean));
	CHECK_MSG(clean != NULL, "lumen_last_error() leaked to another thread");
	CHECK(lumen_last_error()[0] != 0);

	/* success leaves the last failure's detail alone, like errno */
	CHECK_EQ(lumen_generate(s, "Once", 4, &p, NULL), 0);
	CHECK(lumen_last_error()[0] != 0);
	lumen_session_free(s);
	close_fixture(&f);
}

/*
 * A session continued turn after turn gives what one pass over the same
 * tokens gives: lumen_generate runs the previous call's last token before
 * the new prompt, and adds no second BOS.
 */
TEST(generate_continues_a_session)
{
	struct fixture f;
	struct lumen_session *s;
	struct lumen_generate_stats st;
	struct recorder a = { .n = 0 }, b = { .n = 0 }, one = { .n = 0 };
	struct lumen_generate_params p;
	const struct lumen_tokenizer *tok;
	int32_t ids[128];
	long n_first, n_more;
	size_t n = 0;

	REQUIRE(!open_fixture(&f, "q8_0", 1));
	tok = lumen_model_tokenizer(f.m);
	REQUIRE_EQ(lumen_session_create(f.m, 0, &s), 0);
	/* two calls: a prompt, then more text after the answer */
	p = greedy(6, &a);
	REQUIRE_EQ(lumen_generate(s, "Once upon a time", 16, &p, &st), 0);
	REQUIRE_EQ(a.n, 6);
	CHECK_EQ(lumen_session_pos(s), st.n_prompt + 5);
	p = greedy(8, &b);
	REQUIRE_EQ(lumen_generate(s, " there was", 10, &p, &st), 0);
	n_more = lumen_tokenize(tok, " there was", 10, 0, ids, 128);
	REQUIRE(n_more > 0);
	/* the pending token and the new text, no BOS */
	CHECK_EQ(st.n_prompt, 1 + n_more);
	/* one pass: BOS + prompt + the 6 answered tokens + the new text */
	n_first = lumen_tokenize(tok, "Once upon a time", 16, LUMEN_TOKENIZE_BOS,
				 ids, 128);
	REQUIRE(n_first > 0);
	n = (size_t)n_first;
	memcpy(ids + n, a.ids, 6 * sizeof(*ids));
	n += 6;
	n += (size_t)lumen_tokenize(tok, " there was", 10, 0, ids + n, 128 - n);
	lumen_session_reset(s);
	p = greedy(8, &one);
	REQUIRE_EQ(lumen_generate_ids(s, ids, n, &p, &st), 0);
	REQUIRE_EQ(one.n, 8);
	CHECK(!memcmp(one.ids, b.ids, 8 * sizeof(*ids)));
	/* the same logits after the continuation's prefill as after one pass */
	{
		struct recorder c = { .n = 0 };
		float *want = malloc(f.info.n_vocab * sizeof(float));
		float diff = 0;

		REQUIRE(want);
		lumen_session_reset(s);
		REQUIRE_EQ(lumen_session_prefill(s, ids, n), 0);
		memcpy(want, lumen_session_logits(s), f.info.n_vocab * sizeof(float));
		lumen_session_reset(s);
		p = greedy(6, &c);
		REQUIRE_EQ(lumen_generate(s, "Once upon a time", 16, &p, &st), 0);
		p = greedy(1, &c);
		REQUIRE_EQ(lumen_generate(s, " there was", 10, &p, &st), 0);
		CHECK_EQ(lumen_session_pos(s), n);
		for (uint32_t i = 0; i < f.info.n_vocab; i++) {
			float d = lumen_session_logits(s)[i] - want[i];

			if (d < 0)
				d = -d;
			if (d > diff)
				diff = d;
		}
		CHECK_MSG(diff < 1e-2f, "logits differ by %g", diff);
		free(want);
	}
	/* an empty prompt continues from the pending token alone */
	{
		struct recorder c = { .n = 0 }, d = { .n = 0 };

		lumen_session_reset(s);
		p = greedy(3, &c);
		REQUIRE_EQ(lumen_generate(s, "Once", 4, &p, &st), 0);
		p = greedy(3, &d);
		REQUIRE_EQ(lumen_generate(s, "", 0, &p, &st), 0);
		CHECK_EQ(st.n_prompt, 1);
		lumen_session_reset(s);
		p = greedy(6, &one);
		one.n = 0;
		REQUIRE_EQ(lumen_generate(s, "Once", 4, &p, &st), 0);
		CHECK(!memcmp(one.ids, c.ids, 3 * sizeof(*ids)));
		CHECK(!memcmp(one.ids + 3, d.ids, 3 * sizeof(*ids)));
	}
	/* a reset session starts with BOS again, nothing pending */
	lumen_session_reset(s);
	p = greedy(1, &a);
	REQUIRE_EQ(lumen_generate(s, "Once", 4, &p, &st), 0);
	CHECK_EQ(st.n_prompt, lumen_tokenize(tok, "Once", 4, LUMEN_TOKENIZE_BOS,
					     ids, 128));
	lumen_session_free(s);
	close_fixture(&f);
}

/* stop_ids end the generation like EOS, not passed on */
TEST(generate_stops_at_stop_ids)
{
	struct fixture f;
	struct lumen_session *s;
	struct lumen_generate_stats st;
	struct recorder a = { .n = 0 }, b = { .n = 0 };
	struct lumen_generate_params p;
	int32_t stop;

	REQUIRE(!open_fixture(&f, "q8_0", 1));
	REQUIRE_EQ(lumen_session_create(f.m, 0, &s), 0);
	p = greedy(8, &a);
	REQUIRE_EQ(lumen_generate(s, "Once upon a time", 16, &p, &st), 0);
	REQUIRE_EQ(a.n, 8);
	stop = a.ids[4];
	lumen_session_reset(s);
	p = greedy(8, &b);
	p.stop_ids = &stop;
	p.n_stop_ids = 1;
	REQUIRE_EQ(lumen_generate(s, "Once upon a time", 16, &p, &st), 0);
	CHECK(st.hit_eos);
	/* the first occurrence of the stop token ends it */
	for (size_t i = 0; i < 4; i++)
		if (a.ids[i] == stop) {
			CHECK_EQ(b.n, i);
			goto done;
		}
	CHECK_EQ(b.n, 4);
	CHECK(!memcmp(a.ids, b.ids, 4 * sizeof(int32_t)));
done:
	lumen_session_free(s);
	close_fixture(&f);
}
