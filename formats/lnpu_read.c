// SPDX-License-Identifier: MIT
/* .lnpu reader; see lnpu_read.h. */
#include "lnpu_read.h"
#include "format_util.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Fuzzing builds (the libFuzzer convention) go on past checksum mismatches
 * so that mutated inputs reach the structure checks behind them.
 */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CRC_MISMATCH(a, b) 0
#else
#define CRC_MISMATCH(a, b) ((a) != (b))
#endif

static __attribute__((format(printf, 5, 6)))
int fail(char *err, size_t errlen, uint64_t off, const char *field,
	 const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return -1;
	n = snprintf(err, errlen, "offset %llu: %s: ", (unsigned long long)off,
		     field);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int read_header(struct lnpu_file *f, char *err, size_t errlen)
{
	struct lnpu_header h;
	uint32_t crc;

	if (f->size < sizeof(h))
		return fail(err, errlen, 0, "header",
			    "truncated: %llu bytes, the header needs %zu",
			    (unsigned long long)f->size, sizeof(h));
	memcpy(&h, f->base, sizeof(h));
	if (h.magic != LNPU_MAGIC)
		return fail(err, errlen, 0, "header.magic",
			    "not a .lnpu file (0x%08x)", h.magic);
	if (h.version < LNPU_VERSION_MIN || h.version > LNPU_VERSION)
		return fail(err, errlen, 4, "header.version",
			    "version %u not supported (%d..%d are): compile the model again with this lumenc",
			    h.version, LNPU_VERSION_MIN, LNPU_VERSION);
	if (h.header_size != sizeof(h))
		return fail(err, errlen, 8, "header.header_size",
			    "%u, expected %zu", h.header_size, sizeof(h));
	crc = h.header_crc;
	h.header_crc = 0;
	if (CRC_MISMATCH(lnpu_crc32c(0, &h, sizeof(h)), crc))
		return fail(err, errlen, 44, "header.header_crc",
			    "checksum mismatch: the header is corrupt");
	h.header_crc = crc;
	if (h.file_size != f->size)
		return fail(err, errlen, 24, "header.file_size",
			    "%llu, but the file has %llu bytes (truncated or extended)",
			    (unsigned long long)h.file_size,
			    (unsigned long long)f->size);
	if (h.section_count == 0 || h.section_count > LNPU_MAX_SECTIONS)
		return fail(err, errlen, 12, "header.section_count",
			    "%u out of range 1..%d", h.section_count,
			    LNPU_MAX_SECTIONS);
	if (h.table_offset < sizeof(h) || h.table_offset % 8 ||
	    h.table_offset > f->size ||
	    (f->size - h.table_offset) / sizeof(struct lnpu_section) <
	    h.section_count)
		return fail(err, errlen, 16, "header.table_offset",
			    "%llu: the section table does not fit in the file",
			    (unsigned long long)h.table_offset);
	if (CRC_MISMATCH(lnpu_crc32c(0, f->base + h.table_offset,
				     h.section_count * sizeof(struct lnpu_section)),
			 h.table_crc))
		return fail(err, errlen, 40, "header.table_crc",
			    "checksum mismatch: the section table is corrupt");
	f->header = h;
	return 0;
}

static int check_meta(struct lnpu_file *f, const struct lnpu_section *s,
		      char *err, size_t errlen)
{
	const struct lnpu_meta *m = &f->meta;

	if (s->size != sizeof(*m))
		return fail(err, errlen, s->offset, "meta",
			    "%llu bytes, expected %zu",
			    (unsigned long long)s->size, sizeof(*m));
	memcpy(&f->meta, f->base + s->offset, sizeof(*m));
	if (!m->n_vocab || !m->n_embd || !m->n_layer || !m->n_head ||
	    !m->n_head_kv || !m->head_dim || !m->ctx || !m->prefill_chunk ||
	    m->n_vocab > INT32_MAX || m->n_head % m->n_head_kv)
		return fail(err, errlen, s->offset, "meta",
			    "model dimensions are zero or inconsistent");
	if (m->kv_dtype != LNPU_KV_F16 && m->kv_dtype != LNPU_KV_F32)
		return fail(err, errlen, s->offset + offsetof(struct lnpu_meta, kv_dtype),
			    "meta.kv_dtype", "%u is not F16 or F32", m->kv_dtype);
	if (m->arch[sizeof(m->arch) - 1] || m->name[sizeof(m->name) - 1])
		return fail(err, errlen, s->offset, "meta.arch",
			    "names are not NUL-terminated");
	return 0;
}

static int check_regions(struct lnpu_file *f, const struct lnpu_section *s,
			 char *err, size_t errlen)
{
	const uint8_t *p = f->base + s->offset;
	uint32_t seen = 0;

	if (s->size < 8)
		return fail(err, errlen, s->offset, "regions.count", "truncated");
	f->n_regions = le32(p);
	if (f->n_regions == 0 || f->n_regions > LUMEN_MAX_REGIONS ||
	    s->size != 8 + (uint64_t)f->n_regions * sizeof(struct lnpu_region))
		return fail(err, errlen, s->offset, "regions.count",
			    "%u regions do not match the section size %llu",
			    f->n_regions, (unsigned long long)s->size);
	for (uint32_t i = 0; i < f->n_regions; i++) {
		struct lnpu_region *r = &f->regions[i];
		uint64_t at = s->offset + 8 + i * sizeof(*r);
		char field[48];

		memcpy(r, f->base + at, sizeof(*r));
		snprintf(field, sizeof(field), "regions[%u]", i);
		if (r->name[sizeof(r->name) - 1])
			return fail(err, errlen, at, field, "name not NUL-terminated");
		if (r->slot >= LUMEN_MAX_REGIONS || (seen & (1U << r->slot)))
			return fail(err, errlen, at + 16, field,
				    "slot %u out of range or repeated", r->slot);
		seen |= 1U << r->slot;
		if (!r->align || (r->align & (r->align - 1)) || r->align > (1U << 30))
			return fail(err, errlen, at + 32, field,
				    "alignment %llu is not a power of two up to 1 GiB",
				    (unsigned long long)r->align);
		if (r->init_size > r->size || r->init_offset > f->size ||
		    r->init_size > f->size - r->init_offset)
			return fail(err, errlen, at + 40, field,
				    "initial data [%llu, +%llu) outside the file or the region",
				    (unsigned long long)r->init_offset,
				    (unsigned long long)r->init_size);
		if (r->init_size && !(r->flags & LNPU_RF_INIT))
			return fail(err, errlen, at + 20, field,
				    "initial data without the INIT flag");
	}
	return 0;
}

static const struct lnpu_region *region_of(const struct lnpu_file *f,
					   uint32_t slot)
{
	for (uint32_t i = 0; i < f->n_regions; i++)
		if (f->regions[i].slot == slot)
			return &f->regions[i];
	return NULL;
}

static int check_program(struct lnpu_file *f, int which,
			 const struct lnpu_section *s, char *err,
			 size_t errlen)
{
	static const char *const names[] = {
		"decode program", "prefill program", "verify program",
	};
	const char *field = names[which];
	struct lumen_validation *v = &f->val[which];
	const uint8_t *prog;
	uint8_t *copy = NULL;

	f->prog[which] = f->base + s->offset;
	f->prog_size[which] = s->size;
	prog = f->prog[which];
	/* the validator reads u32 fields: give it aligned bytes */
	if ((uintptr_t)prog % 8) {
		copy = malloc(s->size ? s->size : 1);
		if (!copy)
			return fail(err, errlen, s->offset, field, "out of memory");
		memcpy(copy, prog, s->size);
		prog = copy;
	}
	if (lumen_validate(prog, s->size, v)) {
		uint64_t at = s->offset;

		if (v->error_op != ~0U)
			at += sizeof(struct lumen_prog_header) +
			      (uint64_t)v->error_op * sizeof(struct lumen_op);
		free(copy);
		return fail(err, errlen, at, field, "op %u: %s", v->error_op,
			    lumen_verr_str(v->error));
	}
	free(copy);
	for (uint32_t slot = 0; slot < LUMEN_MAX_REGIONS; slot++) {
		const struct lnpu_region *r = region_of(f, slot);

		if (!(v->regions_used & (1U << slot)))
			continue;
		if (!r)
			return fail(err, errlen, s->offset, field,
				    "uses region slot %u, which the region table lacks",
				    slot);
		if (r->size < v->region_size[slot])
			return fail(err, errlen, s->offset, field,
				    "needs %llu bytes of region '%s', which declares %llu",
				    (unsigned long long)v->region_size[slot],
				    r->name, (unsigned long long)r->size);
		if ((v->regions_written & (1U << slot)) &&
		    (r->flags & LNPU_RF_READONLY))
			return fail(err, errlen, s->offset, field,
				    "writes the read-only region '%s'", r->name);
	}
	return 0;
}

/* the verify program and the meta fields that describe it come together */
static int check_verify_meta(const struct lnpu_file *f, int have,
			     uint64_t meta_offset, char *err, size_t errlen)
{
	const struct lnpu_meta *m = &f->meta;
	uint64_t at = meta_offset + offsetof(struct lnpu_meta, verify_rows);
	const struct lnpu_region *out = region_of(f, LNPU_SLOT_OUT);
	uint64_t out_size = out ? out->size : 0;

	if (!have) {
		if (m->verify_rows || m->out_verify_logits || m->out_verify_argmax ||
		    m->verify_topk || m->out_verify_topk)
			return fail(err, errlen, at, "meta.verify_rows",
				    "verify fields set without a verify program");
		return 0;
	}
	if (m->verify_rows < 2 || m->verify_rows > 4096)
		return fail(err, errlen, at, "meta.verify_rows",
			    "%u rows; a verify program scores 2..4096",
			    m->verify_rows);
	if (m->out_verify_logits % 4 || m->out_verify_argmax % 4 ||
	    (uint64_t)m->out_verify_logits +
	    4ull * m->n_vocab * m->verify_rows > out_size ||
	    (uint64_t)m->out_verify_argmax + 4ull * m->verify_rows > out_size)
		return fail(err, errlen, at + 4, "meta.out_verify_logits",
			    "verify logits/argmax outside the %llu-byte out region",
			    (unsigned long long)out_size);
	at = meta_offset + offsetof(struct lnpu_meta, verify_topk);
	if (m->verify_topk > LUMEN_MAX_TOPK || m->verify_topk > m->n_vocab)
		return fail(err, errlen, at, "meta.verify_topk",
			    "top-%u of %u logits; at most %u", m->verify_topk,
			    m->n_vocab, LUMEN_MAX_TOPK);
	if (!m->verify_topk ? m->out_verify_topk != 0 :
	    m->out_verify_topk % 4 ||
	    (uint64_t)m->out_verify_topk + 8ull * m->verify_topk * m->verify_rows > out_size)
		return fail(err, errlen, at + 4, "meta.out_verify_topk",
			    "verify top-k outside the %llu-byte out region, or set without a k",
			    (unsigned long long)out_size);
	return 0;
}

static int read_str_table(const struct lnpu_file *f, uint64_t *at,
			  uint64_t end, uint64_t *offs, uint32_t n,
			  const char *what, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len;

		if (end - *at < 4)
			return fail(err, errlen, *at, what,
				    "entry %u: truncated length", i);
		len = le32(f->base + *at);
		if (len > end - *at - 4)
			return fail(err, errlen, *at, what,
				    "entry %u: length %u runs past the section", i, len);
		offs[i] = *at;
		*at += 4 + (uint64_t)len;
	}
	return 0;
}

static int check_vocab(struct lnpu_file *f, const struct lnpu_section *s,
		       char *err, size_t errlen)
{
	struct lnpu_vocab_header *h = &f->vocab;
	uint64_t at = s->offset + sizeof(*h), end = s->offset + s->size;

	if (s->size < sizeof(*h))
		return fail(err, errlen, s->offset, "vocab", "truncated header");
	memcpy(h, f->base + s->offset, sizeof(*h));
	if (h->model[sizeof(h->model) - 1] || h->pre[sizeof(h->pre) - 1])
		return fail(err, errlen, s->offset, "vocab.model",
			    "not NUL-terminated");
	if (h->flags & ~LNPU_VOCAB_FLAGS_ALL)
		return fail(err, errlen, s->offset + 56, "vocab.flags",
			    "unknown flags 0x%x", h->flags & ~LNPU_VOCAB_FLAGS_ALL);
	if (h->reserved)
		return fail(err, errlen, s->offset + 60, "vocab.reserved",
			    "not zero");
	if (h->n_tokens != f->meta.n_vocab)
		return fail(err, errlen, s->offset + 48, "vocab.n_tokens",
			    "%u tokens for a vocabulary of %u", h->n_tokens,
			    f->meta.n_vocab);
	/* each token takes 12 bytes at least, each merge 4 */
	if ((end - at) / 12 < h->n_tokens ||
	    (end - at - 12ULL * h->n_tokens) / 4 < h->n_merges)
		return fail(err, errlen, s->offset + 48, "vocab.n_tokens",
			    "%u tokens and %u merges cannot fit in %llu bytes",
			    h->n_tokens, h->n_merges,
			    (unsigned long long)s->size);
	f->scores = f->base + at;
	at += 4ULL * h->n_tokens;
	f->types = f->base + at;
	at += 4ULL * h->n_tokens;
	f->tok_off = malloc(((uint64_t)h->n_tokens + 1) * sizeof(uint64_t));
	f->merge_off = malloc(((uint64_t)h->n_merges + 1) * sizeof(uint64_t));
	if (!f->tok_off || !f->merge_off)
		return fail(err, errlen, s->offset, "vocab", "out of memory");
	if (read_str_table(f, &at, end, f->tok_off, h->n_tokens,
			   "vocab.tokens", err, errlen) ||
	    read_str_table(f, &at, end, f->merge_off, h->n_merges,
			   "vocab.merges", err, errlen))
		return -1;
	if (at != end)
		return fail(err, errlen, at, "vocab",
			    "%llu trailing bytes", (unsigned long long)(end - at));
	return 0;
}

/* text without NUL bytes (the runtime hands it out as a C string) */
static int check_chat_template(struct lnpu_file *f,
			       const struct lnpu_section *sp, char *err,
			       size_t errlen)
{
	struct lnpu_section s;
	const void *nul;

	memcpy(&s, sp, sizeof(s));
	nul = memchr(f->base + s.offset, 0, s.size);
	if (nul)
		return fail(err, errlen, (uint64_t)((const uint8_t *)nul - f->base),
			    "chat_template", "a NUL byte inside the template text");
	f->chat_template = (const char *)f->base + s.offset;
	f->chat_template_len = s.size;
	return 0;
}

/* bytes outside every section are padding: zero, so no byte escapes a check */
static int check_padding(const struct lnpu_file *f,
			 const struct lnpu_section **by_type, uint64_t at,
			 char *err, size_t errlen)
{
	const struct lnpu_section *sorted[LNPU_SEC_LAST + 1];
	unsigned int n = 0;

	/* at most seven sections: insertion sort by offset */
	for (uint32_t t = LNPU_SEC_META; t <= LNPU_SEC_LAST; t++) {
		unsigned int k;

		if (!by_type[t])	/* an optional one */
			continue;
		k = n++;

		while (k && sorted[k - 1]->offset > by_type[t]->offset) {
			sorted[k] = sorted[k - 1];
			k--;
		}
		sorted[k] = by_type[t];
	}
	for (unsigned int k = 0; k <= n; k++) {
		uint64_t end = k < n ? sorted[k]->offset : f->size;

		for (uint64_t i = at; i < end; i++)
			if (f->base[i])
				return fail(err, errlen, i, "padding",
					    "byte 0x%02x where zero padding belongs",
					    f->base[i]);
		if (k < n && sorted[k]->offset + sorted[k]->size > at)
			at = sorted[k]->offset + sorted[k]->size;
	}
	return 0;
}

static int check_sections(struct lnpu_file *f, unsigned int flags,
			  const struct lnpu_section **by_type, char *err,
			  size_t errlen)
{
	const struct lnpu_section *table =
		(const void *)(f->base + f->header.table_offset);
	uint64_t table_end = f->header.table_offset +
			     f->header.section_count * sizeof(*table);

	for (uint32_t i = 0; i < f->header.section_count; i++) {
		struct lnpu_section s;
		uint64_t at = f->header.table_offset + i * sizeof(s);
		char field[32];

		memcpy(&s, table + i, sizeof(s));
		snprintf(field, sizeof(field), "section[%u]", i);
		if (s.type < LNPU_SEC_META || s.type > LNPU_SEC_LAST ||
		    (s.type == LNPU_SEC_PROG_VERIFY && f->header.version < 4))
			return fail(err, errlen, at, field,
				    "unknown type %u for a version %u file", s.type,
				    f->header.version);
		if (by_type[s.type])
			return fail(err, errlen, at, field,
				    "second section of type %u", s.type);
		if (s.offset < table_end || s.offset > f->size ||
		    s.size > f->size - s.offset)
			return fail(err, errlen, at + 8, field,
				    "[%llu, +%llu) outside the file or over the header",
				    (unsigned long long)s.offset,
				    (unsigned long long)s.size);
		if (s.offset % 8)
			return fail(err, errlen, at + 8, field,
				    "offset %llu not 8-byte aligned",
				    (unsigned long long)s.offset);
		for (uint32_t t = LNPU_SEC_META; t <= LNPU_SEC_LAST; t++) {
			const struct lnpu_section *o = by_type[t];

			if (o && s.offset < o->offset + o->size &&
			    o->offset < s.offset + s.size)
				return fail(err, errlen, at + 8, field,
					    "overlaps the section of type %u", t);
		}
		if (s.type != LNPU_SEC_WEIGHTS ||
		    !(flags & LNPU_READ_SKIP_WEIGHTS_CRC))
			if (CRC_MISMATCH(lnpu_crc32c(0, f->base + s.offset, s.size),
					 s.crc))
				return fail(err, errlen, s.offset, field,
					    "checksum mismatch: section of type %u is corrupt",
					    s.type);
		by_type[s.type] = table + i;
	}
	for (uint32_t t = LNPU_SEC_META; t <= LNPU_SEC_REQUIRED_LAST; t++)
		if (!by_type[t])
			return fail(err, errlen, f->header.table_offset,
				    "section table", "no section of type %u", t);
	return check_padding(f, by_type, table_end, err, errlen);
}

int lnpu_parse(struct lnpu_file *f, const void *data, uint64_t size,
	       unsigned int flags, char *err, size_t errlen)
{
	const struct lnpu_section *by_type[LNPU_SEC_LAST + 1] = { 0 };
	struct lnpu_section s[LNPU_SEC_LAST + 1] = { { 0 } };
	const struct lnpu_region *wr;

	memset(f, 0, sizeof(*f));
	f->base = data;
	f->size = size;
	if (err && errlen)
		err[0] = 0;
	if (read_header(f, err, errlen) ||
	    check_sections(f, flags, by_type, err, errlen))
		goto bad;
	for (int t = LNPU_SEC_META; t <= LNPU_SEC_LAST; t++)
		if (by_type[t])
			memcpy(&s[t], by_type[t], sizeof(s[t]));
	if (by_type[LNPU_SEC_CHAT_TEMPLATE] &&
	    check_chat_template(f, by_type[LNPU_SEC_CHAT_TEMPLATE], err, errlen))
		goto bad;
	if (check_meta(f, &s[LNPU_SEC_META], err, errlen) ||
	    check_regions(f, &s[LNPU_SEC_REGIONS], err, errlen) ||
	    check_vocab(f, &s[LNPU_SEC_VOCAB], err, errlen) ||
	    check_program(f, 0, &s[LNPU_SEC_PROG_DECODE], err, errlen) ||
	    check_program(f, 1, &s[LNPU_SEC_PROG_PREFILL], err, errlen) ||
	    (by_type[LNPU_SEC_PROG_VERIFY] &&
	     check_program(f, 2, &s[LNPU_SEC_PROG_VERIFY], err, errlen)) ||
	    check_verify_meta(f, !!by_type[LNPU_SEC_PROG_VERIFY],
			      s[LNPU_SEC_META].offset, err, errlen))
		goto bad;
	f->weights_offset = s[LNPU_SEC_WEIGHTS].offset;
	f->weights_size = s[LNPU_SEC_WEIGHTS].size;
	f->weights = f->base + f->weights_offset;
	if (f->weights_offset % LNPU_WEIGHTS_ALIGN) {
		fail(err, errlen, f->weights_offset, "weights",
		     "not aligned to %d bytes", LNPU_WEIGHTS_ALIGN);
		goto bad;
	}
	wr = region_of(f, LNPU_SLOT_WEIGHTS);
	if (!wr || wr->init_offset != f->weights_offset ||
	    wr->init_size != f->weights_size) {
		fail(err, errlen, s[LNPU_SEC_REGIONS].offset, "regions",
		     "the weights region does not start as the weights section");
		goto bad;
	}
	return 0;
bad:
	lnpu_close(f);
	return -1;
}

int lnpu_open(struct lnpu_file *f, const char *path, unsigned int flags,
	      char *err, size_t errlen)
{
	void *map;
	uint64_t size;

	memset(f, 0, sizeof(*f));
	if (lc_map_file(path, "header", &map, &size, err, errlen))
		return -1;
	if (lnpu_parse(f, map, size, flags, err, errlen)) {
		munmap(map, size);
		return -1;
	}
	f->map = map;
	f->map_size = size;
	return 0;
}

void lnpu_close(struct lnpu_file *f)
{
	free(f->tok_off);
	free(f->merge_off);
	if (f->map)
		munmap(f->map, f->map_size);
	memset(f, 0, sizeof(*f));
}

const char *lnpu_token(const struct lnpu_file *f, uint32_t i, uint32_t *len)
{
	*len = le32(f->base + f->tok_off[i]);
	return (const char *)f->base + f->tok_off[i] + 4;
}

float lnpu_token_score(const struct lnpu_file *f, uint32_t i)
{
	uint32_t b = le32(f->scores + 4 * (uint64_t)i);
	float v;

	memcpy(&v, &b, 4);
	return v;
}

int32_t lnpu_token_type(const struct lnpu_file *f, uint32_t i)
{
	return (int32_t)le32(f->types + 4 * (uint64_t)i);
}

const char *lnpu_merge(const struct lnpu_file *f, uint32_t i, uint32_t *len)
{
	*len = le32(f->base + f->merge_off[i]);
	return (const char *)f->base + f->merge_off[i] + 4;
}

void lnpu_region_sizes(const struct lnpu_file *f,
		       uint64_t size[LNPU_SLOT_COUNT])
{
	for (int s = 0; s < LNPU_SLOT_COUNT; s++)
		size[s] = 0;
	for (uint32_t i = 0; i < f->n_regions; i++)
		if (f->regions[i].slot < LNPU_SLOT_COUNT)
			size[f->regions[i].slot] = f->regions[i].size;
	for (int p = 0; p < 3; p++)
		for (int s = 0; s < LNPU_SLOT_COUNT; s++)
			if (f->val[p].region_size[s] > size[s])
				size[s] = f->val[p].region_size[s];
}
