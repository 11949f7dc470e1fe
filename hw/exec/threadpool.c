// SPDX-License-Identifier: MIT
/*
 * A persistent pool of worker threads running parallel-for loops. The
 * caller is thread 0 and works too. Items are handed out one at a time
 * from a shared counter rather than split up front: when a worker is
 * descheduled (in QEMU the vCPUs compete for the same cores) the others
 * take its share instead of waiting for it, and the loop ends as soon as
 * every item is done, whether or not every worker woke up for it.
 *
 * Workers spin on the generation word for a short while (decode runs
 * hundreds of small ops back to back, a futex round trip per op would cost
 * more than the op) and then sleep on it.
 */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec_internal.h"

/* some tens of microseconds of spinning before sleeping */
#define SPIN_ITERS 2048

/* one parallel loop */
struct dispatch {
	lumen_item_fn fn;
	void *ctx;
	size_t n_items;
};

struct lumen_pool {
	unsigned int threads;
	pthread_t *tids;
	/*
	 * Loop g lives in slot[g & 1]. A worker late from loop g - 1 may still
	 * read its slot while loop g is set up; the slot it reads is not the
	 * one being written, and it only runs an item after claiming it from
	 * work with its own generation, which fails once g is published.
	 */
	struct dispatch slot[2];
	uint64_t work;		/* generation << 32 | next item */
	uint32_t gen;		/* futex: the generation workers wait for */
	uint32_t done;		/* futex: items finished */
	uint32_t sleepers;	/* workers sleeping on gen */
	uint32_t caller_sleeping;
	uint32_t stop;
};

struct worker_arg {
	struct lumen_pool *pool;
	unsigned int ith;
};

static void futex_wait(uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint32_t load(uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* claim and run items of generation gen until none is left */
static void run_items(struct lumen_pool *pool, uint32_t gen, unsigned int ith)
{
	const struct dispatch *d = &pool->slot[gen & 1];

	for (;;) {
		uint64_t w = __atomic_load_n(&pool->work, __ATOMIC_SEQ_CST);
		size_t item = (uint32_t)w;

		if ((uint32_t)(w >> 32) != gen || item >= d->n_items)
			return;
		if (!__atomic_compare_exchange_n(&pool->work, &w, w + 1, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			continue;
		/* claimed: loop gen cannot finish, so its slot stays put */
		d->fn(d->ctx, item, ith);
		if (__atomic_add_fetch(&pool->done, 1, __ATOMIC_SEQ_CST) == d->n_items &&
		    load(&pool->caller_sleeping))
			futex_wake(&pool->done);
	}
}

static void *worker_main(void *p)
{
	struct worker_arg *arg = p;
	struct lumen_pool *pool = arg->pool;
	unsigned int ith = arg->ith;
	uint32_t seen = 0;

	free(arg);
	for (;;) {
		uint32_t now;
		int i;

		for (i = 0; i < SPIN_ITERS && (now = load(&pool->gen)) == seen; i++)
			cpu_relax();
		if (now == seen) {
			__atomic_add_fetch(&pool->sleepers, 1, __ATOMIC_SEQ_CST);
			while ((now = load(&pool->gen)) == seen)
				futex_wait(&pool->gen, seen);
			__atomic_sub_fetch(&pool->sleepers, 1, __ATOMIC_SEQ_CST);
		}
		seen = now;
		if (load(&pool->stop))
			return NULL;
		run_items(pool, seen, ith);
	}
}

struct lumen_pool *lumen_pool_create(unsigned int threads)
{
	struct lumen_pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	pool->threads = threads ? threads : 1;
	pool->tids = calloc(pool->threads, sizeof(*pool->tids));
	if (!pool->tids) {
		free(pool);
		return NULL;
	}
	for (unsigned int i = 1; i < pool->threads; i++) {
		struct worker_arg *arg = malloc(sizeof(*arg));

		if (arg) {
			arg->pool = pool;
			arg->ith = i;
		}
		if (!arg || pthread_create(&pool->tids[i], NULL, worker_main, arg)) {
			free(arg);
			pool->threads = i;	/* destroy only what started */
			lumen_pool_destroy(pool);
			return NULL;
		}
	}
	return pool;
}

void lumen_pool_destroy(struct lumen_pool *pool)
{
	if (!pool)
		return;
	__atomic_store_n(&pool->stop, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&pool->gen, 1, __ATOMIC_SEQ_CST);
	futex_wake(&pool->gen);
	for (unsigned int i = 1; i < pool->threads; i++)
		pthread_join(pool->tids[i], NULL);
	free(pool->tids);
	free(pool);
}

void lumen_pool_for(struct lumen_pool *pool, size_t n_items, lumen_item_fn fn,
		    void *ctx)
{
	uint32_t gen, left;

	if (pool->threads == 1 || n_items == 1) {
		for (size_t i = 0; i < n_items; i++)
			fn(ctx, i, 0);
		return;
	}
	gen = pool->gen + 1;
	pool->slot[gen & 1] = (struct dispatch){ fn, ctx, n_items };
	__atomic_store_n(&pool->done, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&pool->work, (uint64_t)gen << 32, __ATOMIC_SEQ_CST);
	__atomic_store_n(&pool->gen, gen, __ATOMIC_SEQ_CST);
	if (load(&pool->sleepers))
		futex_wake(&pool->gen);
	run_items(pool, gen, 0);
	for (int i = 0; i < SPIN_ITERS; i++) {
		if (load(&pool->done) == n_items)
			return;
		cpu_relax();
	}
	__atomic_store_n(&pool->caller_sleeping, 1, __ATOMIC_SEQ_CST);
	while ((left = load(&pool->done)) != n_items)
		futex_wait(&pool->done, left);
	__atomic_store_n(&pool->caller_sleeping, 0, __ATOMIC_SEQ_CST);
}

unsigned int lumen_pool_threads(const struct lumen_pool *pool)
{
	return pool->threads;
}
