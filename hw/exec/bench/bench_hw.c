// SPDX-License-Identifier: MIT
/*
 * bench-hw: throughput of the hw/core executor against this machine's
 * memory read bandwidth, measured by the same program.
 *
 * MATMUL at M=1 (decode) and M=64 (prefill chunk) for F16, BF16, GGUF's
 * block types and Lumen's interleaved ones (Q8_0x8, Q4_0x8, Q4_Kx8, Q6_Kx8,
 * Q5_0x8; the 256-column types at the shapes whose K they divide) at three
 * layer shapes, and decode ATTENTION over an F16 KV cache.
 * "hot" runs one weight copy again and again (it may sit in cache);
 * "cold" runs a program whose ops each read their own copy, enough copies
 * to exceed 2x the last-level cache, so weights come from DRAM as in a
 * real model: that is the figure to hold against the roofline. M=64 is
 * compute-bound and measured hot only.
 *
 * Weights, KV caches and the bandwidth buffer are in huge pages (2 MiB,
 * MADV_HUGEPAGE), as the CPU backend's buffers are (runtime/host_memory.c):
 * with 4 KiB pages the TLB misses alone cost a fifth of the bandwidth.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "lumen_dtype.h"
#include "lumen_build.h"
#include "lumen_exec.h"
#include "lumen_ops.h"

#define LLC_BYTES (32ull << 20)
#define COLD_BYTES (2 * LLC_BYTES + (16ull << 20))
#define BW_BYTES (1ull << 30)
#define MIN_SECONDS 0.2

#define HUGE_PAGE (2ull << 20)

/* @size bytes, 2 MiB-aligned, advised MADV_HUGEPAGE; free() frees it */
static void *bench_alloc(size_t size)
{
	size_t len = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	void *p = aligned_alloc(HUGE_PAGE, len);

	if (p)
		madvise(p, len, MADV_HUGEPAGE);
	return p;
}

/* argv[1], if given: only cases whose label contains it */
static const char *filter;

static int wanted(const char *label)
{
	return !filter || strstr(label, filter);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static float rndf(void)
{
	return (rnd() & 0xffff) / 32768.0f - 1.0f;
}

/*
 * ---- read bandwidth: AVX2 loads over BW_BYTES, split across threads ----
 * Each thread reads its share as `streams` sequential streams in lockstep
 * (a matvec reads one weight row after another, attention several rows at
 * once), 128 bytes of each per step. The threads start together on a flag
 * and the clock runs from the flag to the last one finishing, so thread
 * creation is not timed. The figure is the best over 1, 2, 4 and 8
 * streams, best of 3 runs each: what the machine sustains, the roofline's
 * denominator.
 */
#define BW_MAX_THREADS 8
#define BW_MAX_STREAMS 8

struct bw_arg {
	const uint8_t *p;
	size_t n;		/* bytes per stream */
	unsigned int streams;
	const int *go;
	uint64_t sink;
};

__attribute__((target("avx2"))) static void *bw_read(void *v)
{
	struct bw_arg *a = v;
	__m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;

	while (!__atomic_load_n(a->go, __ATOMIC_ACQUIRE))
		;
	for (size_t i = 0; i < a->n; i += 128) {
		for (unsigned int st = 0; st < a->streams; st++) {
			const __m256i *q = (const __m256i *)(a->p + st * a->n + i);

			s0 = _mm256_xor_si256(s0, _mm256_load_si256(q));
			s1 = _mm256_xor_si256(s1, _mm256_load_si256(q + 1));
			s2 = _mm256_xor_si256(s2, _mm256_load_si256(q + 2));
			s3 = _mm256_xor_si256(s3, _mm256_load_si256(q + 3));
		}
	}
	s0 = _mm256_xor_si256(_mm256_xor_si256(s0, s1), _mm256_xor_si256(s2, s3));
	a->sink = (uint64_t)_mm256_extract_epi64(s0, 0);
	return NULL;
}

static double read_bandwidth_streams(const uint8_t *buf, unsigned int threads,
				     unsigned int streams)
{
	double best = 0;

	for (int rep = 0; rep < 3; rep++) {
		pthread_t t[BW_MAX_THREADS];
		struct bw_arg a[BW_MAX_THREADS];
		int go = 0;

		for (unsigned int i = 0; i < threads; i++) {
			a[i].p = buf + BW_BYTES / threads * i;
			a[i].n = BW_BYTES / threads / streams;
			a[i].streams = streams;
			a[i].go = &go;
			pthread_create(&t[i], NULL, bw_read, &a[i]);
		}
		double t0 = now();

		__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
		for (unsigned int i = 0; i < threads; i++)
			pthread_join(t[i], NULL);
		double gbs = BW_BYTES / (now() - t0) / 1e9;

		if (gbs > best)
			best = gbs;
	}
	return best;
}

static double read_bandwidth(const uint8_t *buf, unsigned int threads)
{
	double best = 0;

	for (unsigned int streams = 1; streams <= BW_MAX_STREAMS; streams *= 2) {
		double gbs = read_bandwidth_streams(buf, threads, streams);

		printf("# read bandwidth %ut, %u stream%s per thread: %.2f GB/s\n", threads,
		       streams, streams > 1 ? "s" : "", gbs);
		if (gbs > best)
			best = gbs;
	}
	return best;
}

/* ---- programs ---- */
static struct lumen_tensor tensor(uint32_t dtype, uint32_t region, uint64_t off,
				  uint32_t d0, uint32_t d1)
{
	return lumen_tensor_2d(dtype, region, off, d0, d1, 0);
}

static void *new_prog(uint32_t n_ops, uint32_t regions, size_t *size)
{
	struct lumen_prog_header *h;

	*size = sizeof(*h) + (size_t)n_ops * sizeof(struct lumen_op);
	h = calloc(1, *size);
	lumen_prog_header_init(h, n_ops, regions, regions - 1);
	return h;
}

static struct lumen_op *prog_op(void *prog, uint32_t i, uint16_t opcode)
{
	struct lumen_op *op = (struct lumen_op *)((uint8_t *)prog +
				sizeof(struct lumen_prog_header)) + i;

	lumen_op_init(op, opcode);
	return op;
}

/* random weights of any dtype, written block by block (valid F16 scales) */
static void fill_weights(uint8_t *p, uint32_t dtype, size_t bytes)
{
	if (dtype == LUMEN_DTYPE_F16) {
		for (size_t i = 0; i + 2 <= bytes; i += 2) {
			uint16_t h = lumen_f32_to_f16(rndf() * 0.1f);

			memcpy(p + i, &h, 2);
		}
		return;
	}
	size_t bs = lumen_type_size(dtype);

	if (dtype == LUMEN_DTYPE_Q4_0_R8 || dtype == LUMEN_DTYPE_Q8_0_R8) {
		/* blocks of 8 rows: their 8 scales, then the values */
		for (size_t i = 0; i + 8 * bs <= bytes; i += 8 * bs) {
			for (size_t r = 0; r < 8; r++) {
				uint16_t d = lumen_f32_to_f16(0.01f + 0.001f * (rnd() % 10));

				memcpy(p + i + 2 * r, &d, 2);
			}
			for (size_t j = 16; j < 8 * bs; j++)
				p[i + j] = (uint8_t)rnd();
		}
		return;
	}
	if (lumen_r8_base(dtype) != dtype && dtype != LUMEN_DTYPE_Q4_0_R8 &&
	    dtype != LUMEN_DTYPE_Q8_0_R8) {
		/*
		 * Q4_Kx8, Q6_Kx8, Q5_0x8: a group's blocks follow one another,
		 * so any run of 8-row blocks, each 8 quantized base blocks
		 * repacked, is valid weights
		 */
		uint32_t base = lumen_r8_base(dtype), blk = lumen_type_block(dtype);
		float f[256];
		uint8_t rows[8 * 256];

		for (size_t i = 0; i + 8 * bs <= bytes; i += 8 * bs) {
			for (int r = 0; r < 8; r++) {
				for (uint32_t j = 0; j < blk; j++)
					f[j] = rndf() * 0.1f;
				lumen_quantize_row(base, f, rows + r * bs, blk);
			}
			lumen_repack_r8(dtype, rows, bs, p + i, blk);
		}
		return;
	}
	if (dtype != LUMEN_DTYPE_Q8_0 && dtype != LUMEN_DTYPE_Q4_0) {
		/* other types: real blocks from the simple quantizers */
		size_t n = bytes / bs * lumen_type_block(dtype);
		float *f = malloc(n * sizeof(float));

		for (size_t i = 0; i < n; i++)
			f[i] = rndf() * 0.1f;
		lumen_quantize_row(dtype, f, p, n);
		free(f);
		return;
	}
	for (size_t i = 0; i + bs <= bytes; i += bs) {
		uint16_t d = lumen_f32_to_f16(0.01f + 0.001f * (rnd() % 10));

		memcpy(p + i, &d, 2);
		for (size_t j = 2; j < bs; j++)
			p[i + j] = (uint8_t)rnd();
	}
}

/* runs prog until MIN_SECONDS have passed; seconds per run */
static double time_prog(struct lumen_exec *ex, const void *prog, size_t size,
			struct lumen_region *regions, unsigned int n)
{
	struct lumen_validation v;
	struct lumen_fault f;
	int runs = 0;
	double t0, t;

	if (lumen_validate(prog, size, &v)) {
		fprintf(stderr, "bench program invalid: %s (op %u)\n",
			lumen_verr_str(v.error), v.error_op);
		exit(1);
	}
	lumen_exec_run_validated(ex, prog, &v, regions, n, &f);	/* warm up */
	t0 = now();
	do {
		if (lumen_exec_run_validated(ex, prog, &v, regions, n, &f)) {
			fprintf(stderr, "bench fault %u at op %u\n", f.code, f.op_index);
			exit(1);
		}
		runs++;
		t = now() - t0;
	} while (t < MIN_SECONDS);
	return t / runs;
}

static const char *dtype_name(uint32_t d)
{
	return lumen_isa_dtype_name(d);
}

/*
 * The AVX2 kernels on one thread, beside the default (best) ones: each 1t
 * row also prints default / AVX2 speed, the two timed alternately three
 * times and the medians compared, so a shared machine moves both alike.
 */
static struct lumen_exec *ex_avx2;

static double median3(double a, double b, double c)
{
	return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

static double vs_avx2(struct lumen_exec *ex, const void *prog, size_t size,
		      struct lumen_region *regions, double *best)
{
	double d[3], a[3];

	for (int i = 0; i < 3; i++) {
		d[i] = time_prog(ex, prog, size, regions, 4);
		a[i] = time_prog(ex_avx2, prog, size, regions, 4);
	}
	*best = median3(d[0], d[1], d[2]);
	return median3(a[0], a[1], a[2]) / *best;
}

static void bench_matmul(struct lumen_exec *ex[2], const double bw[2],
			 uint32_t dtype, uint32_t k, uint32_t n, uint32_t m)
{
	size_t wbytes = (size_t)lumen_row_bytes(dtype, k) * n;
	char label[64];

	snprintf(label, sizeof(label), "%s %ux%u M=%u", dtype_name(dtype), k, n, m);
	if (!wanted(label) || k % lumen_type_block(dtype))
		return;
	uint32_t copies = (uint32_t)((COLD_BYTES + wbytes - 1) / wbytes);
	size_t xbytes = (size_t)k * m * 4, ybytes = (size_t)n * m * 4;
	uint8_t *w = bench_alloc(wbytes * copies);
	float *x = aligned_alloc(64, (xbytes + 63) & ~(size_t)63);
	float *y = aligned_alloc(64, (ybytes + 63) & ~(size_t)63);
	uint32_t args = 0;
	struct lumen_region regions[4] = {
		{ w, wbytes * copies }, { x, xbytes }, { y, ybytes }, { &args, 4 },
	};

	fill_weights(w, dtype, wbytes);
	for (uint32_t c = 1; c < copies; c++)
		memcpy(w + c * wbytes, w, wbytes);
	for (size_t i = 0; i < (size_t)k * m; i++)
		x[i] = rndf();
	/* M > 1 is compute-bound: where the weights come from hardly matters */
	for (int cold = 0; cold < (m == 1 ? 2 : 1); cold++) {
		uint32_t ops = cold ? copies : 8;
		size_t size;
		void *prog = new_prog(ops, 4, &size);

		for (uint32_t i = 0; i < ops; i++) {
			struct lumen_op *op = prog_op(prog, i, LUMEN_OP_MATMUL);

			op->src[0] = tensor(dtype, 0, cold ? (uint64_t)i * wbytes : 0, k, n);
			op->src[1] = tensor(LUMEN_DTYPE_F32, 1, 0, k, m);
			op->dst = tensor(LUMEN_DTYPE_F32, 2, 0, n, m);
		}
		for (int t = 0; t < 2; t++) {
			double s, x_avx2 = 0;
			char ratio[32] = "  (compute-bound)", vs[32] = "";

			if (t == 0 && ex_avx2) {
				x_avx2 = vs_avx2(ex[t], prog, size, regions, &s);
				snprintf(vs, sizeof(vs), " %5.2fx avx2", x_avx2);
			} else {
				s = time_prog(ex[t], prog, size, regions, 4);
			}
			s /= ops;
			double gbs = wbytes / s / 1e9;

			if (m == 1)
				snprintf(ratio, sizeof(ratio), "%6.0f%%", 100.0 * gbs / bw[t]);
			printf("%-6s %4ux%-5u M=%-3u %-4s %5.1f MiB x%-4u %ut %9.1f us %7.2f %8.1f %s%s\n",
			       dtype_name(dtype), k, n, m, cold ? "cold" : "hot",
			       wbytes / 1048576.0, cold ? copies : 1, t + 1,
			       s * 1e6, gbs, 2.0 * k * n * m / s / 1e9, ratio, vs);
		}
		free(prog);
	}
	free(w);
	free(x);
	free(y);
}

/*
 * ATTENTION over an F16 cache of ctx positions: a decode (M = 1, the last
 * position) or the last M rows of a prefill, at a model's head shape
 */
static void bench_attention(struct lumen_exec *ex[2], const double bw[2],
			    uint32_t n_head, uint32_t n_kv, uint32_t ctx, uint32_t m)
{
	const uint32_t hd = 64;
	char label[48];

	snprintf(label, sizeof(label), "ATTN %u/%u ctx=%u M=%u", n_head, n_kv, ctx, m);
	if (!wanted(label))
		return;
	size_t kv = (size_t)n_kv * hd * 2 * ctx;	/* F16 bytes of K or of V */
	size_t q = (size_t)n_head * hd * 4 * m;
	uint8_t *cache = bench_alloc(2 * kv);
	float *qo = aligned_alloc(64, 2 * q);
	uint32_t args[2] = { m, ctx - m };	/* the last m positions */
	struct lumen_region regions[3] = { { cache, 2 * kv }, { qo, 2 * q }, { args, 8 } };
	size_t size;
	void *prog = new_prog(1, 3, &size);
	struct lumen_op *op = prog_op(prog, 0, LUMEN_OP_ATTENTION);
	double keys = (double)m * (ctx - m) + (double)m * (m + 1) / 2;

	fill_weights(cache, LUMEN_DTYPE_F16, 2 * kv);
	for (size_t i = 0; i < 2 * q / 4; i++)
		qo[i] = rndf();
	op->rows_arg = 0;
	op->pos_arg = 1;
	op->params[LUMEN_P_N_HEAD] = n_head;
	op->params[LUMEN_P_N_KV_HEAD] = n_kv;
	float scale = 0.125f;

	memcpy(&op->params[LUMEN_P_SCALE], &scale, 4);
	op->src[0] = tensor(LUMEN_DTYPE_F32, 1, 0, n_head * hd, m);
	op->src[1] = tensor(LUMEN_DTYPE_F16, 0, 0, n_kv * hd, ctx);
	op->src[2] = tensor(LUMEN_DTYPE_F16, 0, kv, n_kv * hd, ctx);
	op->dst = tensor(LUMEN_DTYPE_F32, 1, q, n_head * hd, m);
	for (int t = 0; t < 2; t++) {
		double s = time_prog(ex[t], prog, size, regions, 3);

		printf("ATTN  %2u/%u heads hd %u ctx=%-5u M=%-3u F16 KV %4.1f MiB %ut %9.1f us %7.2f %8.1f   (KV cache-resident)\n",
		       n_head, n_kv, hd, ctx, m, 2 * kv / 1048576.0, t + 1, s * 1e6,
		       2 * kv / s / 1e9, 4.0 * n_head * hd * keys / s / 1e9);
	}
	free(prog);
	free(cache);
	free(qo);
}

/* per-op cost of a tiny MATMUL: the executor's checks plus one parallel-for */
static void bench_dispatch(struct lumen_exec *ex[2])
{
	const uint32_t ops = 1000, k = 32, n = 16;
	float w[32 * 16], x[32], y[16];
	uint32_t args = 0;
	struct lumen_region regions[4] = {
		{ w, sizeof(w) }, { x, sizeof(x) }, { y, sizeof(y) }, { &args, 4 },
	};
	size_t size;
	void *prog = new_prog(ops, 4, &size);

	if (!wanted("dispatch"))
		return;
	for (size_t i = 0; i < k * n; i++)
		w[i] = rndf();
	for (size_t i = 0; i < k; i++)
		x[i] = rndf();
	for (uint32_t i = 0; i < ops; i++) {
		struct lumen_op *op = prog_op(prog, i, LUMEN_OP_MATMUL);

		op->src[0] = tensor(LUMEN_DTYPE_F32, 0, 0, k, n);
		op->src[1] = tensor(LUMEN_DTYPE_F32, 1, 0, k, 1);
		op->dst = tensor(LUMEN_DTYPE_F32, 2, 0, n, 1);
	}
	for (int t = 0; t < 2; t++)
		printf("dispatch: tiny MATMUL (32x16 F32) %ut %9.2f us/op\n", t + 1,
		       time_prog(ex[t], prog, size, regions, 4) / ops * 1e6);
	free(prog);
}

int main(int argc, char **argv)
{
	static const uint32_t shapes[][2] = { { 288, 768 }, { 576, 1536 }, { 2048, 8192 } };
	static const uint32_t dtypes[] = {
		LUMEN_DTYPE_F16, LUMEN_DTYPE_Q8_0, LUMEN_DTYPE_Q8_0_R8, LUMEN_DTYPE_Q4_0,
		LUMEN_DTYPE_Q4_0_R8, LUMEN_DTYPE_Q4_1,
		LUMEN_DTYPE_Q5_0, LUMEN_DTYPE_Q5_1, LUMEN_DTYPE_Q4_K, LUMEN_DTYPE_Q5_K,
		LUMEN_DTYPE_Q6_K, LUMEN_DTYPE_BF16, LUMEN_DTYPE_Q4_K_R8, LUMEN_DTYPE_Q6_K_R8,
		LUMEN_DTYPE_Q5_0_R8,
	};
	const unsigned int n_dtypes = sizeof(dtypes) / sizeof(dtypes[0]);
	struct lumen_exec *ex[2] = { lumen_exec_create(1), lumen_exec_create(2) };

	/* LUMEN_EXEC_KERNELS chooses the default level; the AVX2 one for comparison */
	const char *level = getenv("LUMEN_EXEC_KERNELS");
	char *saved = level ? strdup(level) : NULL;

	setenv("LUMEN_EXEC_KERNELS", "avx2", 1);
	ex_avx2 = lumen_exec_create(1);
	if (saved)
		setenv("LUMEN_EXEC_KERNELS", saved, 1);
	else
		unsetenv("LUMEN_EXEC_KERNELS");
	free(saved);
	uint8_t *buf = bench_alloc(BW_BYTES);
	double bw[2];

	setvbuf(stdout, NULL, _IOLBF, 0);
	filter = argc > 1 ? argv[1] : NULL;
	if (!ex[0] || !ex[1] || !buf) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	memset(buf, 1, BW_BYTES);
	bw[0] = read_bandwidth(buf, 1);
	bw[1] = read_bandwidth(buf, 2);
	free(buf);
	printf("# read bandwidth (AVX2 loads over 1 GiB, best of 3 runs and of 1-8 streams): "
	       "1t %.2f GB/s, 2t %.2f GB/s\n", bw[0], bw[1]);
	printf("# GB/s = weight (or KV) bytes per second; roofline%% = GB/s / read bandwidth at the same thread count\n");
	printf("# hot = one weight copy reused, in cache when it fits; cold = each op reads its own copy,\n");
	printf("#   x copies >= %llu MiB = 2 x LLC + 16 MiB, so weights stream from DRAM: the honest figure\n",
	       (unsigned long long)(COLD_BYTES >> 20));
	printf("# 1t rows end with the default kernels' speed over the AVX2 ones' (medians of 3, alternated)\n");
	printf("%-6s %-10s %-5s %-4s %-14s %-2s %12s %7s %8s %s\n", "dtype", "K x N", "M", "run",
	       "weights", "th", "time/op", "GB/s", "GFLOP/s", "roofline");
	for (unsigned int m = 1; m <= 64; m *= 64)
		for (unsigned int s = 0; s < 3; s++)
			for (unsigned int d = 0; d < n_dtypes; d++)
				bench_matmul(ex, bw, dtypes[d], shapes[s][0], shapes[s][1], m);
	bench_dispatch(ex);
	/* Llama-3.2-1B's heads (32 / 8), SmolLM2-135M's (9 / 3) */
	bench_attention(ex, bw, 32, 8, 256, 1);
	bench_attention(ex, bw, 32, 8, 1024, 1);
	bench_attention(ex, bw, 32, 8, 4096, 1);
	bench_attention(ex, bw, 9, 3, 2048, 1);
	bench_attention(ex, bw, 32, 8, 2048, 64);
	bench_attention(ex, bw, 9, 3, 2048, 64);
	lumen_exec_destroy(ex[0]);
	lumen_exec_destroy(ex[1]);
	lumen_exec_destroy(ex_avx2);
	return 0;
}
