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
