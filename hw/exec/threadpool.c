// SPDX-License-Identifier: MIT
/*
 * A persistent pool of worker threads running parallel-for loops. The
 * caller is thread 0 and works too. A loop's claims are split into one
 * contiguous span per thread: each thread claims its own span from the
 * front, so it streams one run of memory (a matvec's rows in order, which
 * the hardware prefetcher follows: two threads reading 32 KiB chunks in
 * turn from one region read 22 GB/s where two reading a half each read 39,
 * and claims from one shared counter bounced its cache line between the
 * cores at every claim). A thread whose span is empty takes the back half
 * of another's as its own: when a worker is descheduled (in
 * QEMU the vCPUs compete for the same cores) the others take its share
 * instead of waiting for it, and the loop ends as soon as every item is
 * done, whether or not every worker woke up for it.
 *
 * Workers spin on the generation word for a while (decode runs hundreds
 * of small ops back to back, with serial work between them; a futex round
 * trip per op would cost more than the op) and then sleep on it. The spin
 * is timed, not counted: PAUSE takes from a few to over a hundred cycles
 * depending on the CPU, and a count tuned on one slept between the ops of
 * one token on another.
 *
 * The words the threads write (each span, the done counter) and the one
 * workers poll (the generation) sit on cache lines of their own,
 * and a thread adds what it finished to the done counter once per loop,
 * not once per item, so a loop moves few lines between cores.
 */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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
 * One parallel loop. Its items are claimed in chunks of chunk items, at
 * most LUMEN_POOL_MAX_CLAIMS of them, so that a span's front and back
 * (16-bit halves of its word) and the done counter never wrap.
 */
struct dispatch {
	lumen_item_fn fn;
	void *ctx;
	size_t n_items;
	size_t chunk;		/* items per claim */
	uint32_t n_chunks;
};

/*
 * A thread's span of claims: generation << 32 | front << 16 | back, the
 * claims [front, back) not yet taken. Its owner takes the front, another
 * thread the back half; a claim only succeeds with the claimant's generation.
 */
struct span {
	uint64_t word __attribute__((aligned(CACHE_LINE)));
};

struct lumen_pool {
	unsigned int threads;
	pthread_t *tids;
	struct span *spans;	/* one per thread */
	/*
	 * Loop g lives in slot[g & 1]. A worker late from loop g - 1 may still
	 * read its slot while loop g is set up; the slot it reads is not the
	 * one being written, and it only runs an item after claiming it from
	 * a span with its own generation, which fails once loop g rewrote the
	 * spans (and loop g - 1's spans were empty before loop g began).
	 */
	struct dispatch slot[2];
	const uint32_t *cancel;	/* non-zero: claim nothing more */
	uint64_t serial_bytes;	/* lumen_pool_for_bytes() below this: caller only */
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

static uint64_t span_word(uint32_t gen, uint32_t front, uint32_t back)
{
	return (uint64_t)gen << 32 | front << 16 | back;
}

/* take the front claim of generation gen from span s: 0 with *claim set, -1 if none */
static int take(struct span *s, uint32_t gen, uint32_t *claim)
{
	uint64_t w = __atomic_load_n(&s->word, __ATOMIC_SEQ_CST);

	for (;;) {
		uint32_t front = (uint32_t)(w >> 16) & 0xffff, back = (uint32_t)w & 0xffff;

		if ((uint32_t)(w >> 32) != gen || front >= back)
			return -1;
		*claim = front;
		if (__atomic_compare_exchange_n(&s->word, &w, span_word(gen, front + 1, back), 0,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return 0;
	}
}

/*
 * Take the back half (at least one) of span s's claims of generation gen:
 * 0 with [*lo, *hi) set, -1 if none. Half, not one: the thief then streams
 * them forward as its own span (one claim at a time from the back read
 * memory backwards, chunk by chunk, at half the bandwidth).
 */
static int steal(struct span *s, uint32_t gen, uint32_t *lo, uint32_t *hi)
{
	uint64_t w = __atomic_load_n(&s->word, __ATOMIC_SEQ_CST);

	for (;;) {
		uint32_t front = (uint32_t)(w >> 16) & 0xffff, back = (uint32_t)w & 0xffff;

		if ((uint32_t)(w >> 32) != gen || front >= back)
			return -1;
		*lo = back - (back - front + 1) / 2;
		*hi = back;
		if (__atomic_compare_exchange_n(&s->word, &w, span_word(gen, front, *lo), 0,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return 0;
	}
}

/* cancelled: empty span s at once; returns how many claims that took */
static uint32_t take_all(struct span *s, uint32_t gen)
{
	uint64_t w = __atomic_load_n(&s->word, __ATOMIC_SEQ_CST);

	for (;;) {
		uint32_t front = (uint32_t)(w >> 16) & 0xffff, back = (uint32_t)w & 0xffff;

		if ((uint32_t)(w >> 32) != gen || front >= back)
			return 0;
		if (__atomic_compare_exchange_n(&s->word, &w, span_word(gen, back, back), 0,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return back - front;
	}
}

/*
 * Claim and run chunks of generation gen until none is left: this
 * thread's span from its front; when it is empty, the back half of
 * another's becomes this thread's span (and may be stolen from in turn).
 * What this thread claimed is counted done when it leaves: until then the
 * loop cannot finish, so its slot and the spans' generation stay put.
 */
static void run_items(struct lumen_pool *pool, uint32_t gen, unsigned int ith)
{
	const struct dispatch *d = &pool->slot[gen & 1];
	struct span *own = &pool->spans[ith];
	unsigned int n = pool->threads;
	uint32_t mine = 0, c, lo = 0, hi = 0;

	for (;;) {
		if (cancelled(pool)) {
			for (unsigned int j = 0; j < n; j++)
				mine += take_all(&pool->spans[j], gen);
			break;
		}
		if (!take(own, gen, &c)) {
			size_t first = (size_t)c * d->chunk;
			size_t end = d->n_items - first < d->chunk ? d->n_items : first + d->chunk;

			for (size_t item = first; item < end; item++)
				d->fn(d->ctx, item, ith);
			mine++;
			continue;
		}
		unsigned int k = 1;

		while (k < n && steal(&pool->spans[(ith + k) % n], gen, &lo, &hi))
			k++;
		if (k == n)
			break;
		/* empty, so nobody else writes it: a stale CAS on it fails */
		__atomic_store_n(&own->word, span_word(gen, lo, hi), __ATOMIC_SEQ_CST);
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
	pool->spans = aligned_alloc(CACHE_LINE, pool->threads * sizeof(*pool->spans));
	if (!pool->tids || !pool->spans) {
		free(pool->tids);
		free(pool->spans);
		free(pool);
		return NULL;
	}
	memset(pool->spans, 0, pool->threads * sizeof(*pool->spans));
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
	free(pool->spans);
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
	/* thread t's span: claims [t n / T, (t + 1) n / T), contiguous */
	for (unsigned int t = 0; t < pool->threads; t++)
		__atomic_store_n(&pool->spans[t].word,
				 span_word(gen, (uint32_t)((uint64_t)n_chunks * t / pool->threads),
					   (uint32_t)((uint64_t)n_chunks * (t + 1) / pool->threads)),
				 __ATOMIC_SEQ_CST);
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
