// SPDX-License-Identifier: MIT
/* lumenc --dump and --info: reading programs back as text. */
#include "disasm.h"

#include <inttypes.h>
#include <string.h>

#include "lnpu_memory.h"
#include "lumen_ops.h"
#include "lumen_validate.h"

static const char *const slot_names[] = { "weights", "kv", "act", "args", "out" };

const char *lc_op_name(uint32_t op)
{
	return lumen_op_name(op);
}

static float bits_f32(uint32_t b)
{
	float f;

	memcpy(&f, &b, 4);
	return f;
}

static void tensor(FILE *f, const char *label, const struct lumen_tensor *t)
{
	uint64_t row = (uint64_t)t->dims[0] / lumen_type_block(t->dtype) *
		       lumen_type_size(t->dtype);

	fprintf(f, " %s=", label);
	if (t->region < sizeof(slot_names) / sizeof(slot_names[0]))
		fprintf(f, "%s", slot_names[t->region]);
	else
		fprintf(f, "r%u", t->region);
	fprintf(f, "+%llu:%s[%u,%u", (unsigned long long)t->offset,
		lumen_isa_dtype_name(t->dtype),
		t->dims[0], t->dims[1]);
	if (t->dims[2] != 1 || t->dims[3] != 1)
		fprintf(f, ",%u,%u", t->dims[2], t->dims[3]);
	fprintf(f, "]");
	if (t->dims[1] > 1 && t->strides[1] != row)
		fprintf(f, "/%llu", (unsigned long long)t->strides[1]);	/* row stride */
}

static void params(FILE *f, const struct lumen_op *op)
{
	switch (op->opcode) {
	case LUMEN_OP_RMSNORM:
		fprintf(f, " eps=%g", bits_f32(op->params[LUMEN_P_EPS]));
		break;
	case LUMEN_OP_ROPE:
		fprintf(f, " heads=%u rot=%u base=%g%s", op->params[LUMEN_P_N_HEAD],
			op->params[LUMEN_P_N_ROT],
			bits_f32(op->params[LUMEN_P_FREQ_BASE]),
			op->flags & LUMEN_OPF_ROPE_NEOX ? " neox" : "");
		if (op->flags & LUMEN_OPF_ROPE_FACTORS)
			fprintf(f, " scaled(src1)");
		break;
	case LUMEN_OP_ATTENTION:
		fprintf(f, " heads=%u kv_heads=%u scale=%g",
			op->params[LUMEN_P_N_HEAD], op->params[LUMEN_P_N_KV_HEAD],
			bits_f32(op->params[LUMEN_P_SCALE]));
		break;
	case LUMEN_OP_SOFTMAX:
		fprintf(f, " scale=%g", bits_f32(op->params[LUMEN_P_SCALE]));
		break;
	case LUMEN_OP_TOPK:
		fprintf(f, " k=%u", op->params[LUMEN_P_K]);
		break;
	}
	if (op->flags & LUMEN_OPF_RESIDUAL)
		fprintf(f, " +residual");
	if (op->flags & LUMEN_OPF_LAST_ROW)
		fprintf(f, " last-row");
}

void lc_dump_program(FILE *f, const char *title, const uint8_t *prog,
		     uint64_t size)
{
	const struct lumen_prog_header *h = (const void *)prog;
	const struct lumen_op *ops = (const void *)(prog + h->header_size);

	fprintf(f, "%s: %u ops, %u regions, args in region %u\n", title,
		h->op_count, h->region_count, h->args_region);
	for (uint32_t i = 0; i < h->op_count; i++) {
		const struct lumen_op *op = &ops[i];

		fprintf(f, "%5u  %-9s", i, lc_op_name(op->opcode));
		if (op->rows_arg != LUMEN_ARG_NONE)
			fprintf(f, " rows=@%u", op->rows_arg);
		if (op->pos_arg != LUMEN_ARG_NONE)
			fprintf(f, " pos=@%u", op->pos_arg);
		params(f, op);
		tensor(f, "dst", &op->dst);
		const struct lumen_op_info *info =
			&lumen_op_info[op->opcode < LUMEN_OP_COUNT ? op->opcode : 0];
		unsigned int srcs = info->srcs + !!(op->flags & info->extra_src_flag);

		for (unsigned int s = 0; s < srcs; s++) {
			char label[16];

			snprintf(label, sizeof(label), "src%u", s);
			tensor(f, label, &op->src[s]);
		}
		fprintf(f, "\n");
	}
	(void)size;
}

static uint64_t extent(const struct lumen_tensor *t, uint32_t rows)
{
	uint64_t end = 0;

	if (lumen_tensor_extent(t, rows, &end))
		return 0;
	return end - t->offset;
}

void lc_program_stats(const uint8_t *prog, struct lc_prog_stats *st)
{
	const struct lumen_prog_header *h = (const void *)prog;
	const struct lumen_op *ops = (const void *)(prog + h->header_size);

	memset(st, 0, sizeof(*st));
	for (uint32_t i = 0; i < h->op_count; i++) {
		const struct lumen_op *op = &ops[i];

		if (op->opcode < LUMEN_OP_COUNT)
			st->op_count[op->opcode]++;
		if (op->opcode == LUMEN_OP_MATMUL &&
		    op->src[0].region == LNPU_SLOT_WEIGHTS) {
			st->weight_bytes += extent(&op->src[0], op->src[0].dims[1]);
			st->flops_per_row += 2ULL * op->src[0].dims[0] *
					     op->src[0].dims[1];
		}
		if (op->opcode == LUMEN_OP_EMBED)	/* one table row a token */
			st->weight_bytes += extent(&op->src[0], 1);
	}
}

/* what a runtime session of @ctx positions needs (lumen info says the same) */
static void print_memory(FILE *f, const struct lnpu_file *lf, uint32_t ctx)
{
	uint64_t size[LNPU_SLOT_COUNT];
	struct lnpu_memory mem;

	lnpu_region_sizes(lf, size);
	lnpu_memory_at(size, lf->meta.ctx, lf->meta.n_vocab, ctx, &mem);
	fprintf(f, "memory at context %u: %" PRIu64 " bytes (weights %" PRIu64
		", KV cache %" PRIu64 ", scratch %" PRIu64 ", buffers %" PRIu64 ")\n",
		ctx, mem.total, mem.weights, mem.kv, mem.scratch, mem.io);
}

void lc_print_info(FILE *f, const struct lnpu_file *lf)
{
	const struct lnpu_meta *m = &lf->meta;
	struct lc_prog_stats st[3];
	static const char *const prog_name[] = { "decode", "prefill", "verify" };

	fprintf(f, "model: %s (%s), %" PRIu64 " parameters\n",
		m->name[0] ? m->name : "-", m->arch, m->n_params);
	fprintf(f, "dims: vocab %u, embd %u, layers %u, heads %u, kv heads %u, head dim %u, ff %u\n",
		m->n_vocab, m->n_embd, m->n_layer, m->n_head, m->n_head_kv,
		m->head_dim, m->n_ff);
	fprintf(f, "rope: %u dims, base %g%s; rms eps %g\n", m->n_rot,
		bits_f32(m->rope_base), m->rope_neox ? ", neox" : "",
		bits_f32(m->rms_eps));
	fprintf(f, "context %u (trained %u), prefill chunk %u, KV cache %s\n",
		m->ctx, m->ctx_train, m->prefill_chunk, lumen_isa_dtype_name(m->kv_dtype));
	fprintf(f, "tokenizer: %s%s%s, %u tokens, %u merges, bos %d, eos %d\n",
		lf->vocab.model, lf->vocab.pre[0] ? "/" : "", lf->vocab.pre,
		lf->vocab.n_tokens, lf->vocab.n_merges, m->bos, m->eos);
	for (uint32_t i = 0; i < lf->n_regions; i++)
		fprintf(f, "region %u %-8s %14" PRIu64 " bytes, align %" PRIu64 "%s\n",
			lf->regions[i].slot, lf->regions[i].name,
			lf->regions[i].size, lf->regions[i].align,
			lf->regions[i].flags & LNPU_RF_READONLY ? ", read-only" : "");
	for (int p = 0; p < 3; p++) {
		if (!lf->prog[p]) {
			fprintf(f, "verify program: none (no speculative decoding; lumenc --draft-max N adds one)\n");
			continue;
		}
		lc_program_stats(lf->prog[p], &st[p]);
		if (p == 2)
			fprintf(f, "verify program: %u rows (up to %u draft tokens per submission), each row's top-%u logits%s\n",
				m->verify_rows, m->verify_rows - 1, m->verify_topk,
				m->verify_topk ? "" : " (none: lumenc --verify-topk K)");
		fprintf(f, "%s program: %u ops:", prog_name[p],
			((const struct lumen_prog_header *)lf->prog[p])->op_count);
		for (int op = 0; op < LUMEN_OP_COUNT; op++)
			if (st[p].op_count[op])
				fprintf(f, " %s %u", lumen_op_name(op), st[p].op_count[op]);
		fprintf(f, "\n");
	}
	fprintf(f, "weights: %" PRIu64 " bytes at file offset %" PRIu64 "\n",
		lf->weights_size, lf->weights_offset);
	fprintf(f, "weight bytes read per decoded token: %" PRIu64 "\n",
		st[0].weight_bytes);
	fprintf(f, "matmul flops per decoded token: %" PRIu64 "\n",
		st[0].flops_per_row);
	print_memory(f, lf, m->ctx);
	if (m->ctx > 2048)
		print_memory(f, lf, 2048);
}
