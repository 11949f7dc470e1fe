// SPDX-License-Identifier: MIT
/*
 * The BPE merge loop shared by SentencePiece and byte-level BPE: a binary
 * heap of candidate pairs, so a text of n symbols merges in O(n log n).
 * Pairs are never removed from the heap when a neighbour merges; they are
 * recognised as stale when popped, because a symbol only ever grows.
 */
#include "tokenizer_impl.h"

/* does pair a come before pair b? */
static bool pair_before(const struct lumen_merge_pair *a,
			const struct lumen_merge_pair *b)
{
	return a->prio > b->prio || (a->prio == b->prio && a->left < b->left);
}

static void heap_push(struct lumen_merge_pair *h, uint32_t *n,
		      struct lumen_merge_pair p)
{
	uint32_t i = (*n)++;

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!pair_before(&p, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = p;
}

static struct lumen_merge_pair heap_pop(struct lumen_merge_pair *h,
					uint32_t *n)
{
	struct lumen_merge_pair top = h[0], last = h[--*n];
	uint32_t i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && pair_before(&h[c + 1], &h[c]))
			c++;
		if (!pair_before(&h[c], &last))
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = last;
	return top;
}

static void try_pair(const struct lumen_tokenizer *t, const char *text,
		     struct lumen_merge_sym *syms, int32_t l, int32_t r,
		     struct lumen_merge_pair *heap, uint32_t *n_heap,
		     lumen_pair_fn pair)
{
	struct lumen_merge_pair p;

	if (l < 0 || r < 0 || !pair(t, text, &syms[l], &syms[r], &p.prio, &p.id))
		return;
	p.left = l;
	p.right = r;
	p.len = syms[l].len + syms[r].len;
	heap_push(heap, n_heap, p);
}

void lumen_merge_run(const struct lumen_tokenizer *t, const char *text,
		     struct lumen_merge_sym *syms, uint32_t n,
		     struct lumen_merge_pair *heap, lumen_pair_fn pair,
		     struct lumen_tok_out *out)
{
	uint32_t n_heap = 0;

	for (uint32_t i = 1; i < n; i++)
		try_pair(t, text, syms, (int32_t)i - 1, (int32_t)i, heap,
			 &n_heap, pair);
	while (n_heap) {
		struct lumen_merge_pair p = heap_pop(heap, &n_heap);
		struct lumen_merge_sym *l = &syms[p.left], *r = &syms[p.right];

		if (!l->len || !r->len || l->len + r->len != p.len)
			continue;
		l->len += r->len;
		l->id = p.id;
		l->next = r->next;
		if (r->next >= 0)
			syms[r->next].prev = p.left;
		r->len = 0;
		try_pair(t, text, syms, l->prev, p.left, heap, &n_heap, pair);
		try_pair(t, text, syms, p.left, l->next, heap, &n_heap, pair);
	}
	for (int32_t i = n ? 0 : -1; i >= 0; i = syms[i].next) {
		const struct lumen_merge_sym *s = &syms[i];

		if (s->id >= 0) {
			lumen_tok_push(out, s->id);
			continue;
		}
		for (uint32_t b = 0; b < s->len; b++) {
			int32_t id = t->byte_token[(uint8_t)text[s->start + b]];

			if (id >= 0)
				lumen_tok_push(out, id);
		}
	}
}
