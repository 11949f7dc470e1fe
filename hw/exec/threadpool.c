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

/*
 * One parallel loop. Its items are claimed in chunks of chunk items from
 * a 32-bit counter (the low half of work): one item per chunk below 2^31
 * items, more above, so any size_t count is covered without the counter
 * or done (32-bit futex words) wrapping.
 */
struct dispatch {
	lumen_item_fn fn;
	void *ctx;
	size_t n_items;
	size_t chunk;		/* items per claim */
	uint32_t n_chunks;
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
	const uint32_t *cancel;	/* non-zero: claim nothing more */
};

uint32_t lumen_pool_split(size_t n_items, size_t *chunk)
{
	size_t c = n_items / LUMEN_POOL_MAX_CLAIMS + 1;

	if (n_items <= LUMEN_POOL_MAX_CLAIMS)
		c = 1;
	*chunk = c;
	return (uint32_t)(n_items / c + (n_items % c != 0));
}

void lumen_pool_set_cancel(struct lumen_pool *pool, const uint32_t *flag)
{
	pool->cancel = flag;
}

static int cancelled(const struct lumen_pool *pool)
{
	return pool->cancel && __atomic_load_n(pool->cancel, __ATOMIC_SEQ_CST);
}

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

static void finished(struct lumen_pool *pool, const struct dispatch *d,
		     uint32_t chunks)
{
	if (__atomic_add_fetch(&pool->done, chunks, __ATOMIC_SEQ_CST) == d->n_chunks &&
	    load(&pool->caller_sleeping))
		futex_wake(&pool->done);
}

/* claim and run chunks of generation gen until none is left */
static void run_items(struct lumen_pool *pool, uint32_t gen, unsigned int ith)
{
	const struct dispatch *d = &pool->slot[gen & 1];

	for (;;) {
		uint64_t w = __atomic_load_n(&pool->work, __ATOMIC_SEQ_CST);
		uint32_t c = (uint32_t)w;

		if ((uint32_t)(w >> 32) != gen || c >= d->n_chunks)
			return;
		if (cancelled(pool)) {
			/* claim every chunk left at once and count them done */
			uint64_t all = ((uint64_t)gen << 32) | d->n_chunks;

			if (__atomic_compare_exchange_n(&pool->work, &w, all, 0,
							__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				finished(pool, d, d->n_chunks - c);
			continue;
		}
		if (!__atomic_compare_exchange_n(&pool->work, &w, w + 1, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			continue;
		/* claimed: loop gen cannot finish, so its slot stays put */
		size_t first = (size_t)c * d->chunk;
		size_t end = d->n_items - first < d->chunk ? d->n_items : first + d->chunk;

		for (size_t item = first; item < end; item++)
			d->fn(d->ctx, item, ith);
		finished(pool, d, 1);
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
	uint32_t gen, left, n_chunks;
	size_t chunk;

	if (pool->threads == 1 || n_items == 1) {
		for (size_t i = 0; i < n_items && !cancelled(pool); i++)
			fn(ctx, i, 0);
		return;
	}
	n_chunks = lumen_pool_split(n_items, &chunk);
	gen = pool->gen + 1;
	pool->slot[gen & 1] = (struct dispatch){ fn, ctx, n_items, chunk, n_chunks };
	__atomic_store_n(&pool->done, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&pool->work, (uint64_t)gen << 32, __ATOMIC_SEQ_CST);
	__atomic_store_n(&pool->gen, gen, __ATOMIC_SEQ_CST);
	if (load(&pool->sleepers))
		futex_wake(&pool->gen);
	run_items(pool, gen, 0);
	for (int i = 0; i < SPIN_ITERS; i++) {
		if (load(&pool->done) == n_chunks)
			return;
		cpu_relax();
	}
	__atomic_store_n(&pool->caller_sleeping, 1, __ATOMIC_SEQ_CST);
	while ((left = load(&pool->done)) != n_chunks)
		futex_wait(&pool->done, left);
	__atomic_store_n(&pool->caller_sleeping, 0, __ATOMIC_SEQ_CST);
}

unsigned int lumen_pool_threads(const struct lumen_pool *pool)
{
	return pool->threads;
}
