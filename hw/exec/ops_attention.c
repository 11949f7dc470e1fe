// SPDX-License-Identifier: MIT
/*
 * The attention block: ROPE, KV_WRITE and ATTENTION (causal, grouped-query,
 * softmax fused). Threads split ATTENTION by (row, head) pairs.
 */
#include <math.h>
#include <string.h>

#include "exec_internal.h"
#include "lumen_validate.h"

size_t lumen_rope_scratch(const struct lumen_op *op)
{
	return (size_t)op->params[LUMEN_P_N_ROT] * sizeof(float);	/* cos, sin */
}

void lumen_op_rope(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	uint32_t n_head = op->params[LUMEN_P_N_HEAD];
	uint32_t n_rot = op->params[LUMEN_P_N_ROT];
	uint32_t hd = op->src[0].dims[0] / n_head;
	double base = lumen_bits_f32(op->params[LUMEN_P_FREQ_BASE]);
	int neox = !!(op->flags & LUMEN_OPF_ROPE_NEOX);
	const float *factor = op->flags & LUMEN_OPF_ROPE_FACTORS ?
			      (const float *)c->src[1] : NULL;
	uint32_t half = n_rot / 2;
	float *cs = (float *)c->ex->scratch, *sn = cs + half;

	for (uint32_t r = 0; r < c->rows; r++) {
		const float *x = (const float *)(c->src[0] + r * op->src[0].strides[1]);
		float *y = (float *)(c->dst + r * op->dst.strides[1]);
		double p = (double)c->pos + r;

		/* every head rotates by the same angles */
		for (uint32_t i = 0; i < half; i++) {
			double theta = p * pow(base, -2.0 * i / n_rot);

			if (factor)
				theta /= factor[i];

			cs[i] = (float)cos(theta);
			sn[i] = (float)sin(theta);
		}
		for (uint32_t h = 0; h < n_head; h++) {
			const float *xh = x + (size_t)h * hd;
			float *yh = y + (size_t)h * hd;

			for (uint32_t i = 0; i < half; i++) {
				uint32_t i0 = neox ? i : 2 * i;
				uint32_t i1 = neox ? i + half : 2 * i + 1;
				float a = xh[i0], b = xh[i1];

				yh[i0] = a * cs[i] - b * sn[i];
				yh[i1] = a * sn[i] + b * cs[i];
			}
			/* src and dst may alias through two slots: memmove */
			if (yh != xh)
				memmove(yh + n_rot, xh + n_rot, (hd - n_rot) * sizeof(float));
		}
	}
}

void lumen_op_kv_write(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	uint32_t n = op->src[0].dims[0];

	for (uint32_t r = 0; r < c->rows; r++) {
		const float *x = (const float *)(c->src[0] + r * op->src[0].strides[1]);
		uint8_t *y = c->dst + ((uint64_t)c->pos + r) * op->dst.strides[1];

		if (op->dst.dtype == LUMEN_DTYPE_F16)
			c->ex->k->f32_to_f16(x, (uint16_t *)y, n);
		else
			memmove(y, x, n * sizeof(float));
	}
}

/*
 * ATTENTION, numerically (isa.rst, "Numerics"), for the row at position t
 * and each head, over keys first..t (first > 0 under a sliding window):
 * s_j = scale * q.K_j (q rounded to F16 over an F16 cache); m = max s_j;
 * the keys are cut into chunks at multiples of LUMEN_ATTN_CHUNK positions,
 * e_j = exp(s_j - m) and sigma = 0 + sum_c (sum of chunk c's e_j), chunk
 * by chunk in order; over an F16 cache p_j = F16(e_j * (1 / sigma)) and
 * sigma = 1, else p_j = e_j; o = 0 + sum_c (chunk c's sum_j p_j V_j), in
 * chunk order, and out = o / sigma. The chunks depend on the position
 * only, so a row's bits are the same whether it is decoded alone, with
 * its keys split across threads (split-K), or in a prefill with other
 * rows and K/V tiles shared between them (batch invariance).
 */
#define LUMEN_ATTN_CHUNK 128
/* K/V rows per tile: a tile (8-16 KiB at head size 64) stays in L1 while
 * every (row, head) pair of an item uses it */
#define LUMEN_ATTN_TILE 64
/* pairs an item works on together: up to this many, whole GQA groups */
#define LUMEN_ATTN_PAIRS 16
/* heads sharing an item: the group, or its largest divisor up to this */
#define LUMEN_ATTN_MAX_HEADS 8
/* scores an item keeps per thread (bytes), beyond one row's heads */
#define LUMEN_ATTN_SCORE_BUDGET (512u << 10)
/* split-K handles at most this many (row, head) pairs */
#define LUMEN_ATTN_SPLIT_PAIRS 64

/* heads per item, sharing their keys and values: the group or a part of it */
static uint32_t heads_per_item(const struct lumen_op *op)
{
	uint32_t g = op->params[LUMEN_P_N_HEAD] / op->params[LUMEN_P_N_KV_HEAD];
	uint32_t h = g < LUMEN_ATTN_MAX_HEADS ? g : LUMEN_ATTN_MAX_HEADS;

	while (g % h)
		h--;
	return h;
}

static size_t align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/* per pair: scores, the rounded query, o and a chunk's o */
static size_t pair_floats(uint32_t n_keys, uint32_t hd)
{
	return align64(((size_t)n_keys + 3 * hd) * sizeof(float)) / sizeof(float);
}

static uint32_t chunks_of(uint32_t n_keys)
{
	return (n_keys + LUMEN_ATTN_CHUNK - 1) / LUMEN_ATTN_CHUNK;
}

/* split-K: per pair, also each chunk's o, max and sum */
static size_t split_pair_floats(uint32_t n_keys, uint32_t hd)
{
	return pair_floats(n_keys, hd) +
	       align64((size_t)chunks_of(n_keys) * (hd + 2) * sizeof(float)) / sizeof(float);
}

/* rows per item: up to LUMEN_ATTN_PAIRS pairs, their scores within the budget */
static uint32_t max_rows_per_item(uint32_t hpi, uint32_t n_keys, uint32_t hd)
{
	size_t row = (size_t)hpi * pair_floats(n_keys, hd) * sizeof(float);
	size_t r = LUMEN_ATTN_SCORE_BUDGET / row;
	size_t most = LUMEN_ATTN_PAIRS / hpi;

	r = r < most ? r : most;
	return r ? (uint32_t)r : 1;
}

/*
 * Per thread, the pairs of one item; or, when a decode splits its keys
 * across threads (fewer than 2 units a thread), every pair of the op.
 */
size_t lumen_attention_scratch(const struct lumen_op *op, uint32_t n_keys,
			       unsigned int threads)
{
	uint32_t hd = op->src[0].dims[0] / op->params[LUMEN_P_N_HEAD];
	uint32_t hpi = heads_per_item(op);
	size_t tiled = (size_t)hpi * max_rows_per_item(hpi, n_keys, hd) *
		       pair_floats(n_keys, hd) * threads;
	size_t pairs = (2 * (size_t)threads - 1) * hpi;
	size_t split;

	pairs = pairs < LUMEN_ATTN_SPLIT_PAIRS ? pairs : LUMEN_ATTN_SPLIT_PAIRS;
	split = pairs * split_pair_floats(n_keys, hd);
	return (tiled > split ? tiled : split) * sizeof(float);
}

struct pair {
	const float *q;		/* the query, rounded to F16 over an F16 cache */
	float *s;		/* s[j - first]: scores, then probabilities */
	float *o, *oc;		/* the output's sum, and the current chunk's */
	float *out;
	uint32_t first, end;	/* keys first..end-1 */
	float sigma;
};

struct attention {
	const struct lumen_op_ctx *c;
	const struct lumen_kernels *k;
	uint32_t n_head, group, hd, hpi, rows_per_item, units_per_row;
	uint32_t window;
	int f16;
	float scale;
	size_t pair_floats;
	/* split-K */
	struct pair *pairs;
	uint32_t pairs_per_unit, chunk0, n_chunks;
	float *cmax, *csum, *co;	/* [pair][chunk], co: [pair][chunk][hd] */
};

static size_t kv_off(const struct attention *a, uint32_t h)
{
	return (size_t)(h / a->group) * a->hd * (a->f16 ? 2 : 4);
}

static const uint8_t *key_row(const struct attention *a, uint32_t h, uint32_t j)
{
	return a->c->src[1] + kv_off(a, h) + (size_t)j * a->c->op->src[1].strides[1];
}

static const uint8_t *value_row(const struct attention *a, uint32_t h, uint32_t j)
{
	return a->c->src[2] + kv_off(a, h) + (size_t)j * a->c->op->src[2].strides[1];
}

/* y = x rounded to F16 and back, through the kernels' conversions (F16C) */
static void round_f16(const struct lumen_kernels *k, const float *x, float *y, size_t n)
{
	uint16_t h[64];

	for (size_t i = 0; i < n; i += 64) {
		size_t c = n - i < 64 ? n - i : 64;

		k->f32_to_f16(x + i, h, c);
		k->f16_to_f32(h, y + i, c);
	}
}

/* the pair of row r, head h; qbuf holds its rounded query over an F16 cache */
static void pair_init(const struct attention *a, struct pair *p, uint32_t r, uint32_t h,
		      float *mem)
{
	const struct lumen_op *op = a->c->op;
	const float *q = (const float *)(a->c->src[0] + r * op->src[0].strides[1]) +
			 (size_t)h * a->hd;
	uint32_t end = a->c->pos + r + 1;	/* causal */

	p->s = mem;
	p->o = mem + (a->pair_floats - 3 * a->hd);
	p->oc = p->o + a->hd;
	p->q = q;
	if (a->f16) {
		float *q16 = p->oc + a->hd;

		round_f16(a->k, q, q16, a->hd);
		p->q = q16;
	}
	p->out = (float *)(a->c->dst + r * op->dst.strides[1]) + (size_t)h * a->hd;
	p->end = end;
	p->first = a->window && end > a->window ? end - a->window : 0;
}

static uint32_t chunk_start(uint32_t j)
{
	return j - j % LUMEN_ATTN_CHUNK;
}

/* the keys of chunk c (absolute index) that pair p reads: [*lo, *hi) */
static int chunk_span(const struct pair *p, uint32_t c, uint32_t *lo, uint32_t *hi)
{
	uint64_t a = (uint64_t)c * LUMEN_ATTN_CHUNK, b = a + LUMEN_ATTN_CHUNK;

	*lo = (uint32_t)(a > p->first ? a : p->first);
	*hi = (uint32_t)(b < p->end ? b : p->end);
	return *lo < *hi;
}

static float chunk_exp_sum(const struct attention *a, struct pair *p, uint32_t c, float m)
{
	uint32_t lo, hi;

	if (!chunk_span(p, c, &lo, &hi))
		return 0.0f;
	return a->k->exp_sum(p->s + (lo - p->first), hi - lo, m);
}

/* over an F16 cache: normalize keys lo..hi-1 and round them to F16 */
static void normalize(const struct attention *a, struct pair *p, uint32_t lo, uint32_t hi,
		      float sigma)
{
	float *s = p->s + (lo - p->first);

	a->k->attn_scale(s, hi - lo, 1.0f / sigma);
	round_f16(a->k, s, s, hi - lo);
}

static void finish(const struct attention *a, struct pair *p)
{
	float sigma = a->f16 ? 1.0f : p->sigma;

	for (uint32_t i = 0; i < a->hd; i++)
		p->out[i] = p->o[i] / sigma;
}

/* the keys [*ax, *bx) of pair @x inside the tile's [lo, hi) */
static void pair_keys(const struct pair *x, uint32_t lo, uint32_t hi,
		      uint32_t *ax, uint32_t *bx)
{
	*ax = x->first > lo ? x->first : lo;
	*bx = x->end < hi ? x->end : hi;
}

/* how many pairs from @p on read the same keys of the tile, [*a0, *b0) */
static uint32_t same_keys_run(const struct pair *ps, uint32_t p, uint32_t np,
			      uint32_t lo, uint32_t hi, uint32_t *a0, uint32_t *b0)
{
	uint32_t n = 1;

	pair_keys(&ps[p], lo, hi, a0, b0);
	while (p + n < np) {
		uint32_t ax, bx;

		pair_keys(&ps[p + n], lo, hi, &ax, &bx);
		if (ax != *a0 || bx != *b0)
			break;
		n++;
	}
	return n;
}

/*
 * The pairs of an item against keys [lo, hi) of a tile: runs of pairs
 * reading the same keys go to the kernel together (a row's heads always
 * do; rows too, but at the causal or window edge of the tile).
 */
static void tile_qk(const struct attention *a, struct pair *ps, uint32_t np,
		    uint32_t lo, uint32_t hi, uint32_t h_kv)
{
	const float *q[LUMEN_ATTN_PAIRS];
	float *s[LUMEN_ATTN_PAIRS];

	for (uint32_t p = 0; p < np;) {
		uint32_t a0, b0, n = same_keys_run(ps, p, np, lo, hi, &a0, &b0);

		for (uint32_t i = 0; i < n; i++) {
			q[i] = ps[p + i].q;
			s[i] = ps[p + i].s + (a0 - ps[p + i].first);
		}
		if (a0 < b0)
			a->k->attn_qk[a->f16](q, n, key_row(a, h_kv, a0),
					      a->c->op->src[1].strides[1], b0 - a0, a->hd,
					      a->scale, s);
		p += n;
	}
}

/* the same for P.V, each pair's chunk sum oc started and added to o at its chunk's edges */
static void tile_pv(const struct attention *a, struct pair *ps, uint32_t np,
		    uint32_t lo, uint32_t hi, uint32_t h_kv)
{
	const float *pr[LUMEN_ATTN_PAIRS];
	float *oc[LUMEN_ATTN_PAIRS];
	uint32_t cs = chunk_start(lo), ce = cs + LUMEN_ATTN_CHUNK;

	for (uint32_t p = 0; p < np; p++) {
		struct pair *x = &ps[p];
		uint32_t ax, bx;

		/* the pair's first keys of this chunk: start its chunk sum */
		pair_keys(x, lo, hi, &ax, &bx);
		if ((x->first > cs ? x->first : cs) == ax && ax < bx)
			memset(x->oc, 0, a->hd * sizeof(float));
	}
	for (uint32_t p = 0; p < np;) {
		uint32_t a0, b0, n = same_keys_run(ps, p, np, lo, hi, &a0, &b0);

		for (uint32_t i = 0; i < n; i++) {
			pr[i] = ps[p + i].s + (a0 - ps[p + i].first);
			oc[i] = ps[p + i].oc;
		}
		if (a0 < b0)
			a->k->attn_pv[a->f16](pr, n, value_row(a, h_kv, a0),
					      a->c->op->src[2].strides[1], b0 - a0, a->hd, oc);
		p += n;
	}
	for (uint32_t p = 0; p < np; p++) {
		struct pair *x = &ps[p];
		uint32_t ax, bx;

		/* the pair's last keys of this chunk: add the chunk to o */
		pair_keys(x, lo, hi, &ax, &bx);
		if (ax < bx && bx == (x->end < ce ? x->end : ce))
			for (uint32_t i = 0; i < a->hd; i++)
				x->o[i] += x->oc[i];
	}
}

/*
 * An item: a block of rows times the heads of one KV group (or one head),
 * every K/V tile read once for all of them. Scratch is per thread.
 */
static void attention_item(void *arg, size_t item, unsigned int ith)
{
	const struct attention *a = arg;
	float *mem = (float *)a->c->ex->scratch +
		     (size_t)ith * a->rows_per_item * a->hpi * a->pair_floats;
	struct pair ps[LUMEN_ATTN_PAIRS];
	uint32_t blocks = (a->c->rows + a->rows_per_item - 1) / a->rows_per_item;
	uint32_t r0 = (uint32_t)(item % blocks) * a->rows_per_item;
	uint32_t h0 = (uint32_t)(item / blocks) * a->hpi;
	uint32_t r1 = r0 + a->rows_per_item < a->c->rows ? r0 + a->rows_per_item : a->c->rows;
	uint32_t np = 0, lo = UINT32_MAX, hi = 0;

	for (uint32_t r = r0; r < r1; r++)
		for (uint32_t h = h0; h < h0 + a->hpi; h++, np++) {
			pair_init(a, &ps[np], r, h, mem + np * a->pair_floats);
			lo = ps[np].first < lo ? ps[np].first : lo;
			hi = ps[np].end > hi ? ps[np].end : hi;
		}
	lo -= lo % LUMEN_ATTN_TILE;
	for (uint32_t t = lo; t < hi; t += LUMEN_ATTN_TILE)
		tile_qk(a, ps, np, t, t + LUMEN_ATTN_TILE < hi ? t + LUMEN_ATTN_TILE : hi, h0);
	for (uint32_t p = 0; p < np; p++) {
		struct pair *x = &ps[p];
		float m = a->k->attn_max(x->s, x->end - x->first);

		x->sigma = 0.0f;
		for (uint32_t c = x->first / LUMEN_ATTN_CHUNK;
		     c <= (x->end - 1) / LUMEN_ATTN_CHUNK; c++)
			x->sigma += chunk_exp_sum(a, x, c, m);
		if (a->f16)
			normalize(a, x, x->first, x->end, x->sigma);
		memset(x->o, 0, a->hd * sizeof(float));
	}
	for (uint32_t t = lo; t < hi; t += LUMEN_ATTN_TILE)
		tile_pv(a, ps, np, t, t + LUMEN_ATTN_TILE < hi ? t + LUMEN_ATTN_TILE : hi, h0);
	for (uint32_t p = 0; p < np; p++)
		finish(a, &ps[p]);
}

/*
 * Split-K, for a decode with fewer units (row, heads of a group) than two
 * a thread: items are (unit, chunk), in three passes (scores and chunk
 * maxima; exponentials and chunk sums; probabilities and chunk P.V), then
 * the chunks' sums added in order — each step what attention_item does
 * for the same keys, so the bits are the same.
 */
static struct pair *split_item(const struct attention *a, size_t item, uint32_t *c,
			       uint32_t *np, uint32_t *h_kv)
{
	size_t unit = item / a->n_chunks;

	*c = a->chunk0 + (uint32_t)(item % a->n_chunks);
	*np = a->pairs_per_unit;
	*h_kv = (uint32_t)(unit % a->units_per_row) * a->hpi;
	return a->pairs + unit * a->pairs_per_unit;
}

static size_t pair_index(const struct attention *a, const struct pair *p)
{
	return (size_t)(p - a->pairs);
}

static void split_scores(void *arg, size_t item, unsigned int ith)
{
	const struct attention *a = arg;
	uint32_t c, np, h, lo, hi;
	struct pair *ps = split_item(a, item, &c, &np, &h);

	/* a unit's pairs are one row's heads: the same keys */
	if (!chunk_span(&ps[0], c, &lo, &hi))
		return;
	tile_qk(a, ps, np, lo, hi, h);
	for (uint32_t p = 0; p < np; p++)
		a->cmax[pair_index(a, &ps[p]) * a->n_chunks + (c - a->chunk0)] =
			a->k->attn_max(ps[p].s + (lo - ps[p].first), hi - lo);
}

static void split_exp(void *arg, size_t item, unsigned int ith)
{
	const struct attention *a = arg;
	uint32_t c, np, h, lo, hi;
	struct pair *ps = split_item(a, item, &c, &np, &h);

	if (!chunk_span(&ps[0], c, &lo, &hi))
		return;
	for (uint32_t p = 0; p < np; p++) {
		size_t i = pair_index(a, &ps[p]) * a->n_chunks;
		float m = -INFINITY;
		uint32_t l, u;

		/* the maximum over the chunks is the maximum over the keys */
		for (uint32_t k = 0; k < a->n_chunks; k++)
			if (chunk_span(&ps[p], a->chunk0 + k, &l, &u))
				m = a->cmax[i + k] > m ? a->cmax[i + k] : m;
		a->csum[i + (c - a->chunk0)] = chunk_exp_sum(a, &ps[p], c, m);
	}
}

static float split_sigma(const struct attention *a, const struct pair *x)
{
	size_t i = pair_index(a, x) * a->n_chunks;
	float sigma = 0.0f;
	uint32_t l, u;

	for (uint32_t k = 0; k < a->n_chunks; k++)
		if (chunk_span(x, a->chunk0 + k, &l, &u))
			sigma += a->csum[i + k];
	return sigma;
}

static void split_values(void *arg, size_t item, unsigned int ith)
{
	const struct attention *a = arg;
	uint32_t c, np, h, lo, hi;
	struct pair *ps = split_item(a, item, &c, &np, &h);
	float *oc[LUMEN_ATTN_MAX_HEADS];
	const float *pr[LUMEN_ATTN_MAX_HEADS];

	if (!chunk_span(&ps[0], c, &lo, &hi))
		return;
	for (uint32_t p = 0; p < np; p++) {
		size_t i = pair_index(a, &ps[p]) * a->n_chunks;
		struct pair *x = &ps[p];

		/* every item adds the same sums in the same order */
		if (a->f16)
			normalize(a, x, lo, hi, split_sigma(a, x));
		oc[p] = a->co + (i + (c - a->chunk0)) * a->hd;
		memset(oc[p], 0, a->hd * sizeof(float));
		pr[p] = x->s + (lo - x->first);
	}
	a->k->attn_pv[a->f16](pr, np, value_row(a, h, lo), a->c->op->src[2].strides[1],
			      hi - lo, a->hd, oc);
}

static void attention_split(struct attention *a, uint64_t kv_bytes)
{
	const struct lumen_op_ctx *c = a->c;
	uint32_t units = c->rows * a->units_per_row, lo = UINT32_MAX, hi = 0;
	size_t np = (size_t)units * a->hpi;
	struct pair ps[LUMEN_ATTN_SPLIT_PAIRS];
	float *mem = (float *)c->ex->scratch;
	size_t spf = a->pair_floats;

	a->pairs = ps;
	a->pairs_per_unit = a->hpi;
	for (uint32_t r = 0; r < c->rows; r++)
		for (uint32_t h = 0; h < a->n_head; h++) {
			struct pair *x = &ps[(size_t)r * a->n_head + h];

			pair_init(a, x, r, h, mem + ((size_t)r * a->n_head + h) * spf);
			lo = x->first < lo ? x->first : lo;
			hi = x->end > hi ? x->end : hi;
		}
	a->chunk0 = lo / LUMEN_ATTN_CHUNK;
	a->n_chunks = (hi - 1) / LUMEN_ATTN_CHUNK + 1 - a->chunk0;
	/* per pair: chunk maxima, sums, then o per chunk, after the pair's floats */
	a->cmax = mem + np * spf;
	a->csum = a->cmax + np * a->n_chunks;
	a->co = a->csum + np * a->n_chunks;
	lumen_pool_for_bytes(c->ex->pool, units * a->n_chunks, split_scores, a, kv_bytes);
	lumen_pool_for_bytes(c->ex->pool, units * a->n_chunks, split_exp, a, kv_bytes);
	lumen_pool_for_bytes(c->ex->pool, units * a->n_chunks, split_values, a, kv_bytes);
	for (size_t p = 0; p < np; p++) {
		struct pair *x = &ps[p];

		x->sigma = split_sigma(a, x);
		memset(x->o, 0, a->hd * sizeof(float));
		for (uint32_t k = 0; k < a->n_chunks; k++) {
			uint32_t l, h;

			if (!chunk_span(x, a->chunk0 + k, &l, &h))
				continue;
			for (uint32_t i = 0; i < a->hd; i++)
				x->o[i] += a->co[(p * a->n_chunks + k) * a->hd + i];
		}
		finish(a, x);
	}
}

void lumen_op_attention(struct lumen_op_ctx *c)
{
	const struct lumen_op *op = c->op;
	unsigned int threads = lumen_pool_threads(c->ex->pool);
	struct attention a = {
		.c = c,
		.k = c->ex->k,
		.n_head = op->params[LUMEN_P_N_HEAD],
		.group = op->params[LUMEN_P_N_HEAD] / op->params[LUMEN_P_N_KV_HEAD],
		.hd = op->src[0].dims[0] / op->params[LUMEN_P_N_HEAD],
		.scale = lumen_bits_f32(op->params[LUMEN_P_SCALE]),
		.window = op->params[LUMEN_P_WINDOW],
		.f16 = op->src[1].dtype == LUMEN_DTYPE_F16,
	};
	uint32_t n_keys = c->pos + c->rows;

	a.hpi = heads_per_item(op);
	a.units_per_row = a.n_head / a.hpi;
	a.pair_floats = pair_floats(n_keys, a.hd);

	/* keys and values read once per item and KV head */
	uint64_t kv_bytes = (uint64_t)c->rows * op->params[LUMEN_P_N_KV_HEAD] * n_keys *
			    a.hd * 2 * lumen_type_size(op->src[1].dtype);
	uint64_t units = (uint64_t)c->rows * a.units_per_row;

	/* too few units for the threads, keys enough for two chunks: split-K */
	if (threads > 1 && units < 2ull * threads && chunks_of(n_keys) >= 2 &&
	    units * a.hpi <= LUMEN_ATTN_SPLIT_PAIRS) {
		attention_split(&a, kv_bytes);
		return;
	}
	/* rows per item: as many as fill the pairs, while each thread gets two items */
	uint32_t rpi = max_rows_per_item(a.hpi, n_keys, a.hd);

	while (rpi > 1 && (uint64_t)((c->rows + rpi - 1) / rpi) * a.units_per_row <
			  2ull * threads)
		rpi /= 2;
	a.rows_per_item = rpi;
	lumen_pool_for_bytes(c->ex->pool,
			     (size_t)((c->rows + rpi - 1) / rpi) * a.units_per_row,
			     attention_item, &a, kv_bytes);
}
