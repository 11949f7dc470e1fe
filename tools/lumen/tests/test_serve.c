// SPDX-License-Identifier: MIT
/*
 * lumen serve's parts that need no HTTP: the priority gate, the UTF-8
 * repair, the request reader's defaults, and lumen_session_set_priority()
 * (with stories260K from LUMEN_MODEL_DIR on the CPU backend).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lumen_test.h"
#include "serve_gen.h"

struct waiter {
	struct serve_gate *g;
	int priority;
	char tag;
	char *order;
	pthread_mutex_t *order_mu;
};

static void *enter_and_note(void *arg)
{
	struct waiter *w = arg;

	serve_gate_enter(w->g, w->priority);
	pthread_mutex_lock(w->order_mu);
	w->order[strlen(w->order)] = w->tag;
	pthread_mutex_unlock(w->order_mu);
	serve_gate_leave(w->g);
	return NULL;
}

static uint64_t waiting(struct serve_gate *g)
{
	uint64_t n = 0;

	pthread_mutex_lock(&g->mu);
	for (int p = 0; p < 3; p++)
		n += g->next[p] - g->serving[p];
	pthread_mutex_unlock(&g->mu);
	return n;
}

/* held by the test, four waiters queue up; they enter high first, FIFO within a priority */
TEST(gate_admits_by_priority_then_arrival)
{
	static const struct { int priority; char tag; } arrivals[] = {
		{ SERVE_PRIORITY_LOW, 'a' }, { SERVE_PRIORITY_NORMAL, 'b' },
		{ SERVE_PRIORITY_HIGH, 'c' }, { SERVE_PRIORITY_LOW, 'd' },
		{ SERVE_PRIORITY_HIGH, 'e' },
	};
	pthread_mutex_t order_mu = PTHREAD_MUTEX_INITIALIZER;
	struct waiter w[5];
	pthread_t t[5];
	char order[8] = "";
	struct serve_gate g;

	serve_gate_init(&g, 1);
	serve_gate_enter(&g, SERVE_PRIORITY_LOW);
	for (int i = 0; i < 5; i++) {
		w[i] = (struct waiter){ &g, arrivals[i].priority, arrivals[i].tag,
					order, &order_mu };
		REQUIRE(!pthread_create(&t[i], NULL, enter_and_note, &w[i]));
		while (waiting(&g) != (uint64_t)i + 1)
			usleep(1000);
	}
	CHECK(!strcmp(order, ""));
	serve_gate_leave(&g);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	CHECK_MSG(!strcmp(order, "cebad"), "entered in the order %s", order);
	serve_gate_destroy(&g);
}

TEST(gate_admits_up_to_its_capacity)
{
	struct serve_gate g;

	serve_gate_init(&g, 3);
	for (int i = 0; i < 3; i++)
		serve_gate_enter(&g, SERVE_PRIORITY_NORMAL);	/* none blocks */
	CHECK_EQ(g.used, 3);
	for (int i = 0; i < 3; i++)
		serve_gate_leave(&g);
	CHECK_EQ(g.used, 0);
	serve_gate_destroy(&g);
}

TEST(utf8_complete_keeps_a_cut_character_for_later)
{
	CHECK_EQ(serve_utf8_complete("ab\xe2\x82", 0, 4), 2);
	CHECK_EQ(serve_utf8_complete("ab\xe2\x82\xac", 0, 5), 5);
	CHECK_EQ(serve_utf8_complete("\xf0\x9f\x98", 0, 3), 0);
	CHECK_EQ(serve_utf8_complete("\xf0\x9f\x98\x80", 0, 4), 4);
	CHECK_EQ(serve_utf8_complete("abc", 1, 3), 3);
	/* from @from on: what was sent is never taken back */
	CHECK_EQ(serve_utf8_complete("a\xe2", 2, 2), 2);
}

TEST(utf8_clean_replaces_each_bad_byte)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "a\xffz", "a\xef\xbf\xbdz" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },		/* overlong */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* surrogate */
		{ "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd" },		/* cut short */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;
		char *out = serve_utf8_clean(cases[i].in, strlen(cases[i].in), &n);

		REQUIRE(out);
		CHECK_MSG(n == strlen(cases[i].out) && !memcmp(out, cases[i].out, n),
			  "case %zu", i);
		free(out);
	}
}

TEST(request_defaults_are_openai_s)
{
	static const char body[] = "{\"prompt\": \"hi\"}";
	struct serve_limits lim = { .max_tokens = 64, .max_messages = 8 };
	struct serve_request req;
	struct serve_error err;

	REQUIRE(!serve_parse_request(SERVE_COMPLETION, body, sizeof(body) - 1,
				     &lim, &req, &err));
	CHECK(!strcmp(req.prompt, "hi"));
	CHECK(req.temperature == 1.0f && req.top_p == 1.0f);
	CHECK(!req.stream && !req.seed_given && !req.n_stop && !req.max_tokens);
	CHECK_EQ(req.priority, -1);
	serve_request_free(&req);
	CHECK_EQ(serve_parse_request(SERVE_CHAT, body, sizeof(body) - 1, &lim,
				     &req, &err), -1);
	CHECK_EQ(err.status, 400);
	CHECK(!strcmp(err.param, "messages"));
}

/* {"lumen": {"spec": ...}}: a request's own speculative decoding */
TEST(request_reads_the_lumen_extension)
{
	static const char *const bad[][2] = {
		{ "{\"prompt\": \"hi\", \"lumen\": 3}", "lumen" },
		{ "{\"prompt\": \"hi\", \"lumen\": {\"spek\": \"ngram\"}}", "lumen" },
		{ "{\"prompt\": \"hi\", \"lumen\": {\"spec\": \"medusa\"}}", "lumen.spec" },
		{ "{\"prompt\": \"hi\", \"lumen\": {\"spec\": 1}}", "lumen.spec" },
	};
	struct serve_limits lim = { .max_tokens = 64, .max_messages = 8 };
	struct serve_request req;
	struct serve_error err;
	char body[128];

	for (int k = 0; k < 3; k++) {
		snprintf(body, sizeof(body), "{\"prompt\": \"hi\", \"lumen\": {\"spec\": \"%s\"}}",
			 serve_spec_name(k));
		REQUIRE(!serve_parse_request(SERVE_COMPLETION, body, strlen(body), &lim,
					     &req, &err));
		CHECK_EQ(req.spec, k);
		serve_request_free(&req);
	}
	CHECK_EQ(SERVE_SPEC_NGRAM, LUMEN_SPEC_NGRAM);
	CHECK_EQ(SERVE_SPEC_DRAFT, LUMEN_SPEC_DRAFT);
	snprintf(body, sizeof(body), "{\"prompt\": \"hi\", \"lumen\": null}");
	REQUIRE(!serve_parse_request(SERVE_COMPLETION, body, strlen(body), &lim, &req, &err));
	CHECK_EQ(req.spec, -1);
	serve_request_free(&req);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(serve_parse_request(SERVE_COMPLETION, bad[i][0], strlen(bad[i][0]),
					     &lim, &req, &err), -1);
		CHECK_EQ(err.status, 400);
		CHECK_MSG(err.param && !strcmp(err.param, bad[i][1]), "%s: param %s",
			  bad[i][0], err.param ? err.param : "(null)");
	}
}

TEST(session_priority_is_checked_and_kept)
{
	const char *dir = getenv("LUMEN_MODEL_DIR");
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_CPU, .threads = 1 };
	struct lumen_device *dev;
	struct lumen_model *m;
	struct lumen_session *s;
	char path[4096];
	int32_t id = 1;

	if (!dir)
		SKIP("LUMEN_MODEL_DIR is not set");
	snprintf(path, sizeof(path), "%s/stories260K-q8_0.lnpu", dir);
	REQUIRE(!lumen_device_open(&dev, &o));
	REQUIRE(!lumen_model_load(dev, path, NULL, &m));
	REQUIRE(!lumen_session_create(m, 0, &s));
	CHECK_EQ(lumen_session_priority(s), LUMEN_PRIORITY_NORMAL);
	CHECK_EQ(lumen_session_set_priority(s, LUMEN_PRIORITY_HIGH), 0);
	CHECK_EQ(lumen_session_priority(s), LUMEN_PRIORITY_HIGH);
	CHECK_EQ(lumen_session_set_priority(s, (enum lumen_priority)3), LUMEN_E_INVAL);
	CHECK(strstr(lumen_last_error(), "priority 3"));
	CHECK_EQ(lumen_session_set_priority(s, (enum lumen_priority)-1), LUMEN_E_INVAL);
	CHECK_EQ(lumen_session_priority(s), LUMEN_PRIORITY_HIGH);
	CHECK_EQ(lumen_session_set_priority(s, LUMEN_PRIORITY_LOW), 0);
	CHECK_EQ(lumen_session_prefill(s, &id, 1), 0);	/* jobs still run */
	lumen_session_free(s);
	lumen_model_free(m);
	lumen_device_close(dev);
}
