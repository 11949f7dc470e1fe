// SPDX-License-Identifier: MIT
/*
 * The executor's thread pool on its own: many tiny parallel loops back to
 * back, so workers are often still leaving one loop while the next is set
 * up. Every item must run exactly once, in its own loop.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_internal.h"
#include "lumen_test.h"

struct loop {
	uint32_t id;
	uint32_t *runs;		/* per item */
	uint32_t *wrong;	/* items run with another loop's context */
	uint32_t *current;	/* the loop the caller is in */
};

static void count_item(void *p, size_t item, unsigned int ith)
{
	struct loop *l = p;

	if (__atomic_load_n(l->current, __ATOMIC_SEQ_CST) != l->id)
		__atomic_add_fetch(l->wrong, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&l->runs[item], 1, __ATOMIC_SEQ_CST);
}

static void stress(unsigned int threads, uint32_t loops)
{
	struct lumen_pool *pool = lumen_pool_create(threads);
	uint32_t runs[64], wrong = 0, current = 0, bad = 0;

	REQUIRE(pool);
	CHECK_EQ(lumen_pool_threads(pool), threads);
	alarm(120);	/* a lost wake-up hangs: fail instead */
	for (uint32_t i = 0; i < loops; i++) {
		size_t n = 1 + (i * 7 + i / 3) % 13;	/* lengths vary loop to loop */
		struct loop l = { i, runs, &wrong, &current };

		for (size_t j = 0; j < n; j++)
			runs[j] = 0;
		__atomic_store_n(&current, i, __ATOMIC_SEQ_CST);
		lumen_pool_for(pool, n, count_item, &l);
		__atomic_store_n(&current, ~0u, __ATOMIC_SEQ_CST);
		for (size_t j = 0; j < n; j++)
			bad += __atomic_load_n(&runs[j], __ATOMIC_SEQ_CST) != 1;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(wrong, 0);
	lumen_pool_destroy(pool);
}

TEST(pool_tiny_loops_2_threads) { stress(2, 200000); }
TEST(pool_tiny_loops_3_threads_uneven_spans) { stress(3, 100000); }
TEST(pool_tiny_loops_4_threads_oversubscribed) { stress(4, 100000); }
TEST(pool_one_thread_runs_inline) { stress(1, 1000); }

/* which thread ran each item, and a spin so a worker has time to claim some */
struct who {
	uint32_t ran[64];
	uint32_t on_worker;
};

static void note_thread(void *p, size_t item, unsigned int ith)
{
	struct who *w = p;

	__atomic_add_fetch(&w->ran[item], 1, __ATOMIC_SEQ_CST);
	if (ith)
		__atomic_add_fetch(&w->on_worker, 1, __ATOMIC_SEQ_CST);
	usleep(200);
}

/*
 * A loop over less than LUMEN_POOL_SERIAL_BYTES runs on the caller alone;
 * a larger one is shared; threshold 0 shares every loop. Every item runs
 * once either way.
 */
TEST(pool_small_loops_stay_on_the_caller)
{
	struct lumen_pool *pool = lumen_pool_create(2);
	struct who w = { { 0 }, 0 };
	int shared = 0;

	REQUIRE(pool);
	alarm(120);
	lumen_pool_for_bytes(pool, 64, note_thread, &w, LUMEN_POOL_SERIAL_BYTES - 1);
	CHECK_EQ(w.on_worker, 0);
	for (int i = 0; i < 64; i++)
		CHECK_EQ(w.ran[i], 1);
	/* the worker may be descheduled for one loop; not for ten */
	for (int t = 0; t < 10 && !shared; t++) {
		memset(&w, 0, sizeof(w));
		lumen_pool_for_bytes(pool, 64, note_thread, &w, LUMEN_POOL_SERIAL_BYTES);
		shared = w.on_worker > 0;
		for (int i = 0; i < 64; i++)
			CHECK_EQ(w.ran[i], 1);
	}
	CHECK(shared);
	lumen_pool_set_serial_bytes(pool, 0);
	shared = 0;
	for (int t = 0; t < 10 && !shared; t++) {
		memset(&w, 0, sizeof(w));
		lumen_pool_for_bytes(pool, 64, note_thread, &w, 1);
		shared = w.on_worker > 0;
	}
	CHECK(shared);
	lumen_pool_destroy(pool);
}

/* item counts around the spans' edges: each thread's span is n / T claims, give or take one */
struct cover {
	uint8_t *runs;
	uint32_t bad;
};

static void cover_item(void *p, size_t item, unsigned int ith)
{
	struct cover *c = p;

	if (__atomic_add_fetch(&c->runs[item], 1, __ATOMIC_SEQ_CST) != 1)
		__atomic_add_fetch(&c->bad, 1, __ATOMIC_SEQ_CST);
}

TEST(pool_every_item_once_at_every_thread_count_and_odd_counts)
{
	static const size_t ns[] = {
		1, 2, 3, 5, 7, 31, 63, 65, 127, 1001, LUMEN_POOL_MAX_CLAIMS - 1,
		LUMEN_POOL_MAX_CLAIMS, LUMEN_POOL_MAX_CLAIMS + 1, 3 * LUMEN_POOL_MAX_CLAIMS + 2,
	};
	uint8_t *runs = malloc(3 * LUMEN_POOL_MAX_CLAIMS + 2);

	REQUIRE(runs);
	alarm(120);
	for (unsigned int t = 1; t <= 5; t++) {
		struct lumen_pool *pool = lumen_pool_create(t);

		REQUIRE(pool);
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			struct cover c = { runs, 0 };
			size_t missed = 0;

			memset(runs, 0, ns[i]);
			lumen_pool_for(pool, ns[i], cover_item, &c);
			for (size_t j = 0; j < ns[i]; j++)
				missed += runs[j] == 0;
			CHECK_MSG(!c.bad && !missed, "%u threads, %zu items: %u twice, %zu never",
				  t, ns[i], c.bad, missed);
		}
		lumen_pool_destroy(pool);
	}
	free(runs);
}

/* the first item the worker runs blocks: the caller must take the rest of its span */
struct blocked {
	uint32_t ran[16];
	uint32_t by_caller[16];
	uint32_t worker_blocked;
};

static void block_worker_once(void *p, size_t item, unsigned int ith)
{
	struct blocked *b = p;

	__atomic_add_fetch(&b->ran[item], 1, __ATOMIC_SEQ_CST);
	if (!ith)
		b->by_caller[item] = 1;
	else if (!__atomic_exchange_n(&b->worker_blocked, 1, __ATOMIC_SEQ_CST))
		usleep(20000);
	usleep(200);	/* time for a sleeping worker to wake up and claim */
}

TEST(pool_caller_takes_a_blocked_workers_span_from_its_back)
{
	struct lumen_pool *pool = lumen_pool_create(2);
	int took = 0;

	REQUIRE(pool);
	alarm(120);
	/* the worker may be descheduled for a whole loop; not for ten */
	for (int t = 0; t < 10 && !took; t++) {
		struct blocked b;

		memset(&b, 0, sizeof(b));
		lumen_pool_for(pool, 16, block_worker_once, &b);
		for (int i = 0; i < 16; i++)
			CHECK_EQ(b.ran[i], 1);
		/* the worker blocked in its span [8, 16): the caller ran the last of it */
		took = b.worker_blocked && b.by_caller[15];
	}
	CHECK(took);
	lumen_pool_destroy(pool);
}
