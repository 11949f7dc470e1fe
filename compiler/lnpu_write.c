// SPDX-License-Identifier: MIT
/*
 * Writing a .lnpu file. The small sections are built in memory; the
 * weights are converted a few MiB at a time and streamed, so peak memory
 * stays near one chunk however big the model. The file is written under a
 * temporary name and renamed when complete.
 */
#define _GNU_SOURCE
#include "lnpu_write.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "format_util.h"

#define CHUNK_BYTES (4U << 20)
#define CONVERT_THREADS 4
#define PROGRESS_MIN_BYTES (64ULL << 20)	/* below this, compiling is instant */

static void put_str(struct lc_buf *b, struct gguf_str s)
{
	lc_put_u32(b, (uint32_t)s.len);
	lc_put(b, s.ptr, s.len);
}

static void set_name(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memset(dst, 0, n);
	memcpy(dst, src, len);
}

static uint32_t f32_bits(float f)
{
	uint32_t b;

	memcpy(&b, &f, 4);
	return b;
}

static void build_meta(const struct lc_out *o, struct lc_buf *b)
{
	const struct lm_model *m = o->m;
	struct lnpu_meta meta;

	memset(&meta, 0, sizeof(meta));
	set_name(meta.arch, sizeof(meta.arch), m->arch);
	set_name(meta.name, sizeof(meta.name), m->name);
	meta.n_vocab = m->n_vocab;
	meta.n_embd = m->n_embd;
	meta.n_layer = m->n_layer;
	meta.n_head = m->n_head;
	meta.n_head_kv = m->n_head_kv;
	meta.n_ff = m->n_ff;
	meta.head_dim = m->head_dim;
	meta.n_rot = m->n_rot;
	meta.ctx = o->opt.ctx;
	meta.ctx_train = m->ctx_train;
	meta.prefill_chunk = o->opt.prefill_chunk;
	meta.kv_dtype = o->opt.kv_dtype;
	meta.rope_base = f32_bits(m->rope_base);
	meta.rms_eps = f32_bits(m->rms_eps);
	meta.rope_neox = m->rope_neox;
	meta.quant = o->matrix_dtype;
	meta.bos = m->vocab.bos;
	meta.eos = m->vocab.eos;
	meta.unk = m->vocab.unk;
	meta.pad = m->vocab.pad;
	meta.add_bos = m->vocab.add_bos;
	meta.add_eos = m->vocab.add_eos;
	meta.out_logits = o->out_logits;
	meta.out_argmax = o->out_argmax;
	meta.n_params = lm_param_count(m);
	meta.weight_bytes = o->weights_size;
	meta.verify_rows = o->verify_rows;
	meta.out_verify_logits = o->out_verify_logits;
	meta.out_verify_argmax = o->out_verify_argmax;
	meta.verify_topk = o->verify_topk;
	meta.out_verify_topk = o->out_verify_topk;
	lc_put(b, &meta, sizeof(meta));
}

static void build_vocab(const struct gguf_vocab *v, struct lc_buf *b)
{
	struct lnpu_vocab_header h;

	memset(&h, 0, sizeof(h));
	set_name(h.model, sizeof(h.model), v->model);
	set_name(h.pre, sizeof(h.pre), v->pre);
	h.n_tokens = v->n_tokens;
	h.n_merges = v->n_merges;
	if (v->add_space_prefix)
		h.flags |= LNPU_VOCAB_ADD_SPACE_PREFIX;
	lc_put(b, &h, sizeof(h));
	lc_put(b, v->scores, 4 * (size_t)v->n_tokens);
	lc_put(b, v->types, 4 * (size_t)v->n_tokens);
	for (uint32_t i = 0; i < v->n_tokens; i++)
		put_str(b, v->tokens[i]);
	for (uint32_t i = 0; i < v->n_merges; i++)
		put_str(b, v->merges[i]);
}

static void build_regions(const struct lc_out *o, uint64_t weights_offset,
			  struct lc_buf *b)
{
	static const struct {
		const char *name;
		uint32_t flags;
		uint64_t align;
	} def[LNPU_SLOT_COUNT] = {
		[LNPU_SLOT_WEIGHTS] = { "weights", LNPU_RF_READONLY | LNPU_RF_INIT, LNPU_WEIGHTS_ALIGN },
		[LNPU_SLOT_KV] = { "kv", LNPU_RF_ZERO, LNPU_WEIGHTS_ALIGN },
		[LNPU_SLOT_ACT] = { "act", LNPU_RF_ZERO, 64 },
		[LNPU_SLOT_ARGS] = { "args", LNPU_RF_ZERO, 64 },
		[LNPU_SLOT_OUT] = { "out", LNPU_RF_ZERO, 64 },
	};

	lc_put_u32(b, LNPU_SLOT_COUNT);
	lc_put_u32(b, 0);
	for (uint32_t s = 0; s < LNPU_SLOT_COUNT; s++) {
		struct lnpu_region r;

		memset(&r, 0, sizeof(r));
		set_name(r.name, sizeof(r.name), def[s].name);
		r.slot = s;
		r.flags = def[s].flags;
		r.size = o->region_size[s];
		r.align = def[s].align;
		if (s == LNPU_SLOT_WEIGHTS) {
			r.init_offset = weights_offset;
			r.init_size = o->weights_size;
		}
		lc_put(b, &r, sizeof(r));
	}
}

struct writer {
	FILE *f;
	uint64_t off;
	int err;
};

static void wr(struct writer *w, const void *p, size_t n)
{
	if (!w->err && n && fwrite(p, 1, n, w->f) != n)
		w->err = 1;
	w->off += n;
}

static void wr_pad(struct writer *w, uint64_t to)
{
	static const uint8_t zero[4096];

	while (w->off < to) {
		uint64_t n = to - w->off < sizeof(zero) ? to - w->off : sizeof(zero);

		wr(w, zero, n);
	}
}

/* let the kernel drop source pages already converted (file-backed maps) */
static void drop_pages(const void *p, uint64_t n)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	uintptr_t e = ((uintptr_t)p + n) & ~(pg - 1);

	if (e > a)
		madvise((void *)a, e - a, MADV_DONTNEED);
}

/* one thread's share of a chunk being converted */
struct convert_job {
	const struct lc_weight *w;
	uint64_t first, n;
	uint8_t *dst;
	float *tmp;
};

static void *convert_worker(void *arg)
{
	struct convert_job *j = arg;

	lc_convert_rows(j->w, j->first, j->n, j->dst, j->tmp);
	return NULL;
}

/*
 * Rows that need converting (requantization dominates compile time) are
 * split over up to CONVERT_THREADS threads; copies stay on this thread.
 */
static void convert_chunk(const struct lc_weight *t, uint64_t first,
			  uint64_t n, uint8_t *dst, float **tmp,
			  unsigned int threads)
{
	struct convert_job job[CONVERT_THREADS];
	pthread_t tid[CONVERT_THREADS];
	uint64_t row_bytes = t->size / t->rows, at = 0;
	unsigned int started = 0;
	int same = 1;

	for (uint32_t p = 0; p < t->n_parts; p++)
		same &= t->parts[p]->dtype == t->dtype;
	uint64_t unit = lc_row_unit(t), units = n / unit;

	if (same || units < threads)
		threads = 1;
	for (unsigned int k = 0; k < threads; k++) {
		/* whole units: Q4_0x8 converts groups of 8 rows */
		uint64_t take = (units / threads + (k < units % threads)) * unit;

		job[k] = (struct convert_job){ t, first + at, take,
					       dst + at * row_bytes, tmp[k] };
		at += take;
		if (k == 0 || pthread_create(&tid[k], NULL, convert_worker, &job[k]))
			continue;
		started |= 1U << k;
	}
	convert_worker(&job[0]);
	for (unsigned int k = 1; k < threads; k++) {
		if (started & (1U << k))
			pthread_join(tid[k], NULL);
		else
			convert_worker(&job[k]);
	}
}

static void drop_span(const void *p, uint64_t n)
{
	drop_pages(p, n);
}

static int write_weights(const struct lc_out *o, struct writer *w,
			 const struct lnpu_write_opts *wo, uint32_t *crc)
{
	uint64_t max_row = 1, start = w->off, next_report = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int threads = cpus > CONVERT_THREADS ? CONVERT_THREADS :
			       cpus > 0 ? (unsigned int)cpus : 1;
	float *tmp[CONVERT_THREADS] = { 0 };
	uint8_t *chunk;
	int progress, ret = -1;

	for (uint32_t i = 0; i < o->n_w; i++)
		if (o->w[i].row_len > max_row)
			max_row = o->w[i].row_len;
	chunk = malloc(CHUNK_BYTES + LC_CONVERT_SCRATCH(max_row));	/* a row, or a group of 8 */
	for (unsigned int k = 0; k < threads; k++)
		if (!(tmp[k] = malloc(LC_CONVERT_SCRATCH(max_row))))
			goto out;
	if (!chunk)
		goto out;
	*crc = 0;
	progress = wo->progress && o->weights_size >= PROGRESS_MIN_BYTES;
	for (uint32_t i = 0; i < o->n_w; i++) {
		const struct lc_weight *t = &o->w[i];
		uint64_t row_bytes = t->size / t->rows;
		uint64_t unit = lc_row_unit(t);
		/* whole units (groups of 8 rows for Q4_0x8) in a chunk */
		uint64_t per = CHUNK_BYTES / row_bytes / unit * unit;
		uint64_t pad = start + t->offset - w->off;

		if (pad) {
			memset(chunk, 0, pad);
			*crc = lnpu_crc32c(*crc, chunk, pad);
			wr(w, chunk, pad);
		}
		if (!per)
			per = unit;
		for (uint64_t r = 0; r < t->rows; r += per) {
			uint64_t n = t->rows - r < per ? t->rows - r : per;

			convert_chunk(t, r, n, chunk, tmp, threads);
			*crc = lnpu_crc32c(*crc, chunk, n * row_bytes);
			wr(w, chunk, n * row_bytes);
			if (wo->drop_source_pages)
				lc_source_spans(t, r, n, drop_span);
			if (progress && w->off - start >= next_report) {
				fprintf(stderr, "\rlumenc: weights %3llu%%",
					(unsigned long long)((w->off - start) * 100 /
							     (o->weights_size ? o->weights_size : 1)));
				next_report += o->weights_size / 50 + 1;
			}
		}
	}
	if (progress)
		fprintf(stderr, "\rlumenc: weights 100%%\n");
	ret = w->err ? -1 : 0;
out:
	for (unsigned int k = 0; k < CONVERT_THREADS; k++)
		free(tmp[k]);
	free(chunk);
	return ret;
}

int lnpu_write(const char *path, const struct lc_out *o,
	       const struct lnpu_write_opts *wo, char *err, size_t errlen)
{
	/*
	 * The small sections; the chat template's and the verify program's
	 * only when there is one.
	 */
	struct lc_buf sec[7] = { { 0 } };
	uint32_t types[7] = {
		LNPU_SEC_META, LNPU_SEC_REGIONS, LNPU_SEC_VOCAB,
		LNPU_SEC_PROG_DECODE, LNPU_SEC_PROG_PREFILL,
	};
	int n_small = 5;
	struct lnpu_section table[8];
	struct lnpu_header h;
	struct writer w = { 0 };
	uint64_t off, weights_off, table_size;
	char *tmp_path;
	int ret = -1;

	/* offsets first: the region table names the weights' file offset */
	table_size = (uint64_t)(n_small + 1) * sizeof(table[0]);
	off = sizeof(h) + table_size;
	build_meta(o, &sec[0]);
	build_vocab(&o->m->vocab, &sec[2]);
	lc_put(&sec[3], o->prog[LC_DECODE].buf, o->prog[LC_DECODE].size);
	lc_put(&sec[4], o->prog[LC_PREFILL].buf, o->prog[LC_PREFILL].size);
	if (o->m->vocab.chat_template.len) {
		types[n_small] = LNPU_SEC_CHAT_TEMPLATE;
		lc_put(&sec[n_small++], o->m->vocab.chat_template.ptr,
		       o->m->vocab.chat_template.len);
	}
	if (o->n_prog == 3) {
		types[n_small] = LNPU_SEC_PROG_VERIFY;
		lc_put(&sec[n_small++], o->prog[LC_VERIFY].buf,
		       o->prog[LC_VERIFY].size);
	}
	table_size = (uint64_t)(n_small + 1) * sizeof(table[0]);
	off = sizeof(h) + table_size;
	/* REGIONS has a fixed size: place everything assuming it */
	off = lc_align_up(off, 64) + lc_align_up(sizeof(struct lnpu_meta), 64) +
	      lc_align_up(8 + LNPU_SLOT_COUNT * sizeof(struct lnpu_region), 64);
	for (int i = 2; i < n_small; i++)
		off = lc_align_up(off + sec[i].n, 64);
	weights_off = lc_align_up(off, LNPU_WEIGHTS_ALIGN);
	build_regions(o, weights_off, &sec[1]);
	for (int i = 0; i < n_small; i++)
		if (sec[i].oom)
			goto out_free;

	memset(table, 0, sizeof(table));
	off = sizeof(h) + table_size;
	for (int i = 0; i < n_small; i++) {
		off = lc_align_up(off, 64);
		table[i].type = types[i];
		table[i].offset = off;
		table[i].size = sec[i].n;
		table[i].crc = lnpu_crc32c(0, sec[i].p, sec[i].n);
		off += sec[i].n;
	}
	table[n_small].type = LNPU_SEC_WEIGHTS;
	table[n_small].offset = weights_off;
	table[n_small].size = o->weights_size;

	if (asprintf(&tmp_path, "%s.tmp.%d", path, (int)getpid()) < 0)
		goto out_free;
	w.f = fopen(tmp_path, "wb");
	if (!w.f) {
		lc_fail(err, errlen, "%s: cannot create: %m", tmp_path);
		free(tmp_path);
		goto out_free_quiet;
	}
	memset(&h, 0, sizeof(h));
	wr(&w, &h, sizeof(h));	/* rewritten at the end */
	wr(&w, table, table_size);
	for (int i = 0; i < n_small; i++) {
		wr_pad(&w, table[i].offset);
		wr(&w, sec[i].p, sec[i].n);
	}
	wr_pad(&w, weights_off);
	if (write_weights(o, &w, wo, &table[n_small].crc))
		goto out_close;

	h.magic = LNPU_MAGIC;
	h.version = LNPU_VERSION;
	h.header_size = sizeof(h);
	h.section_count = (uint32_t)n_small + 1;
	h.table_offset = sizeof(h);
	h.file_size = w.off;
	h.table_crc = lnpu_crc32c(0, table, table_size);
	h.header_crc = lnpu_crc32c(0, &h, sizeof(h));
	if (fseek(w.f, 0, SEEK_SET))
		w.err = 1;
	w.off = 0;
	wr(&w, &h, sizeof(h));
	wr(&w, table, table_size);
	if (w.err)
		goto out_close;
	if (fclose(w.f)) {
		w.f = NULL;
		goto out_close;
	}
	w.f = NULL;
	if (rename(tmp_path, path)) {
		lc_fail(err, errlen, "%s: cannot rename into place: %m", path);
		unlink(tmp_path);
		free(tmp_path);
		goto out_free_quiet;
	}
	free(tmp_path);
	ret = 0;
	goto out_free_quiet;
out_close:
	if (w.f)
		fclose(w.f);
	unlink(tmp_path);
	free(tmp_path);
	lc_fail(err, errlen, "%s: write failed (disk full?)", path);
	goto out_free_quiet;
out_free:
	lc_fail(err, errlen, "out of memory");
out_free_quiet:
	for (int i = 0; i < 7; i++)
		free(sec[i].p);
	return ret;
}
