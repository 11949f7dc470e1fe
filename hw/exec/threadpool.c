// SPDX-License-Identifier: MIT
/*
 * A persistent pool of worker threads running parallel-for loops. The
 * caller is thread 0 and works too. Items are handed out one at a time
 * from a shared counter rather than split up front: when a worker is
 * descheduled (in QEMU the vCPUs compete for the same cores) the others
 * take its share instead of waiting for it, and the loop ends as soon as
 * every item is done, whether or not every worker woke up for it.
 *
 * Workers spin on the generation word for a while (decode runs hundreds
 * of small ops back to back, with serial work between them; a futex round
 * trip per op would cost more than the op) and then sleep on it. The spin
 * is timed, not counted: PAUSE takes from a few to over a hundred cycles
 * depending on the CPU, and a count tuned on one slept between the ops of
 * one token on another.
 *
 * The words the threads write (the claim counter, the done counter) and
 * the one workers poll (the generation) sit on cache lines of their own,
 * and a thread adds what it finished to the done counter once per loop,
 * not once per item, so a loop moves few lines between cores.
 */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "exec_internal.h"

/* how long a worker spins for the next loop, and the caller for the last items */
#define SPIN_NS 50000
/* PAUSEs between clock reads while spinning */
#define SPIN_CHECK 64
#define CACHE_LINE 64

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
	const uint32_t *cancel;	/* non-zero: claim nothing more */
	uint64_t serial_bytes;	/* lumen_pool_for_bytes() below this: caller only */
	/* claimed by every thread */
	uint64_t work __attribute__((aligned(CACHE_LINE)));	/* generation << 32 | next item */
	/* polled by the workers */
	uint32_t gen __attribute__((aligned(CACHE_LINE)));	/* futex: the generation workers wait for */
	uint32_t sleepers;	/* workers sleeping on gen */
	uint32_t stop;
	/* counted by every thread, polled by the caller */
	uint32_t done __attribute__((aligned(CACHE_LINE)));	/* futex: items finished */
	uint32_t caller_sleeping;
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

/*
 * Claim and run chunks of generation gen until none is left. What this
 * thread claimed is counted done when it leaves: until then the loop
 * cannot finish, so its slot stays put.
 */
static void run_items(struct lumen_pool *pool, uint32_t gen, unsigned int ith)
{
	const struct dispatch *d = &pool->slot[gen & 1];
	uint32_t mine = 0;

	for (;;) {
		uint64_t w = __atomic_load_n(&pool->work, __ATOMIC_SEQ_CST);
		uint32_t c = (uint32_t)w;

		if ((uint32_t)(w >> 32) != gen || c >= d->n_chunks)
			break;
		if (cancelled(pool)) {
			/* claim every chunk left at once and count them done */
			uint64_t all = ((uint64_t)gen << 32) | d->n_chunks;

			if (__atomic_compare_exchange_n(&pool->work, &w, all, 0,
							__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				mine += d->n_chunks - c;
			continue;
		}
		if (!__atomic_compare_exchange_n(&pool->work, &w, w + 1, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			continue;
		size_t first = (size_t)c * d->chunk;
		size_t end = d->n_items - first < d->chunk ? d->n_items : first + d->chunk;

		for (size_t item = first; item < end; item++)
			d->fn(d->ctx, item, ith);
		mine++;
	}
	if (mine)
		finished(pool, d, mine);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* spin until *p != val or SPIN_NS pass; returns the last value read */
static uint32_t spin_while(uint32_t *p, uint32_t val)
{
	uint64_t start = now_ns();
	uint32_t now;

	for (;;) {
		for (int i = 0; i < SPIN_CHECK; i++) {
			now = load(p);
			if (now != val)
				return now;
			cpu_relax();
		}
		if (now_ns() - start > SPIN_NS)
			return now;
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
		uint32_t now = spin_while(&pool->gen, seen);

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
	pool->serial_bytes = LUMEN_POOL_SERIAL_BYTES;
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
	/* the done counter counts up to n_chunks: spin while it has not */
	for (;;) {
		left = load(&pool->done);
		if (left == n_chunks)
			return;
		if (spin_while(&pool->done, left) == left)
			break;
	}
	__atomic_store_n(&pool->caller_sleeping, 1, __ATOMIC_SEQ_CST);
	while ((left = load(&pool->done)) != n_chunks)
		futex_wait(&pool->done, left);
	__atomic_store_n(&pool->caller_sleeping, 0, __ATOMIC_SEQ_CST);
}

void lumen_pool_for_bytes(struct lumen_pool *pool, size_t n_items, lumen_item_fn fn,
			  void *ctx, uint64_t bytes)
{
	if (bytes < pool->serial_bytes) {
		for (size_t i = 0; i < n_items && !cancelled(pool); i++)
			fn(ctx, i, 0);
		return;
	}
	lumen_pool_for(pool, n_items, fn, ctx);
}

void lumen_pool_set_serial_bytes(struct lumen_pool *pool, uint64_t bytes)
{
	pool->serial_bytes = bytes;
}

unsigned int lumen_pool_threads(const struct lumen_pool *pool)
{
	return pool->threads;
}
