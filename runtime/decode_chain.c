// SPDX-License-Identifier: MIT
/*
 * Chained greedy decode: the device feeds itself the next token, so the
 * guest's round trip (interrupt, io_uring completion, the runtime's
 * per-token work, the next submission) overlaps the device's compute
 * instead of adding to it.
 *
 * The chained program is the decode program with two tensors moved:
 *   - EMBED reads its token id from a sixth slot, the args buffer of the
 *     job before (LUMEN_CHAIN_SLOT_PREV_ARGS), at the token word;
 *   - ARGMAX writes its id into the job's own args buffer, at that same
 *     word, instead of OUT.
 * A session holds two args buffers and alternates them: job k binds
 * args[k % 2] as ARGS and args[(k + 1) % 2] as the previous job's. The
 * device runs a ring's jobs one after another, so job k + 1 reads the id
 * job k wrote, and the runtime reads job k's id from args[k % 2] after its
 * completion, where job k + 1 (which writes the other buffer) cannot
 * overwrite it. args[k % 2] is written again (its position) only for job
 * k + 2, queued after job k was reaped.
 *
 * One submission per token still: lumen_chain_submit() queues job k + 1,
 * and the wait for job k enters the kernel once, submitting job k + 1 and
 * sleeping until job k's completion.
 *
 * The program is derived at load rather than written by lumenc: every
 * .lnpu compiled so far chains, and the file format does not change. A
 * decode program of another shape (not lumenc's: no or several token
 * reads, no or several argmax writes to OUT) is not chained; the plain
 * path runs it.
 */
#include <stdlib.h>
#include <string.h>

#include "lumen_internal.h"

/**
 * struct lumen_chain - a session's chained decode.
 * @prog: the chained program, NULL when the decode program cannot chain.
 * @args: the two args buffers jobs alternate.
 * @job: backend ids of the jobs in flight, by parity.
 * @submitted, @reaped: jobs queued and waited for since lumen_chain_begin().
 */
struct lumen_chain {
	struct lumen_prog *prog;
	struct lumen_buf args[2];
	uint64_t job[2];
	uint32_t submitted, reaped;
};

static bool is_token_word(const struct lumen_tensor *t, uint32_t region,
			  uint64_t offset)
{
	return t->region == region && t->offset == offset &&
	       t->dtype == LUMEN_DTYPE_I32 && t->dims[0] == 1 &&
	       t->dims[1] == 1 && t->dims[2] == 1 && t->dims[3] == 1;
}

int lumen_chain_program(const void *decode, size_t size,
			const struct lnpu_meta *meta, void **out)
{
	const uint64_t token = 4 * LNPU_ARG_IDS;
	struct lumen_prog_header h;
	unsigned int reads = 0, writes = 0;
	uint8_t *copy;

	*out = NULL;
	if (size < sizeof(h))
		return lumen_fail(LUMEN_E_FORMAT, "program: %zu bytes, no header",
				  size);
	memcpy(&h, decode, sizeof(h));
	if (h.op_size != sizeof(struct lumen_op) || h.header_size > size ||
	    (size - h.header_size) / h.op_size < h.op_count)
		return lumen_fail(LUMEN_E_FORMAT, "program: header and size disagree");
	if (h.region_count != LNPU_SLOT_COUNT || h.args_region != LNPU_SLOT_ARGS)
		return LUMEN_E_UNSUPPORTED;
	copy = malloc(size);
	if (!copy)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	memcpy(copy, decode, size);
	for (uint32_t i = 0; i < h.op_count; i++) {
		uint8_t *at = copy + h.header_size + (size_t)i * h.op_size;
		struct lumen_op op;

		memcpy(&op, at, sizeof(op));
		if (op.opcode == LUMEN_OP_EMBED &&
		    is_token_word(&op.src[1], LNPU_SLOT_ARGS, token)) {
			op.src[1].region = LUMEN_CHAIN_SLOT_PREV_ARGS;
			reads++;
		}
		if (op.opcode == LUMEN_OP_ARGMAX &&
		    is_token_word(&op.dst, LNPU_SLOT_OUT, meta->out_argmax)) {
			op.dst.region = LNPU_SLOT_ARGS;
			op.dst.offset = token;
			writes++;
		}
		memcpy(at, &op, sizeof(op));
	}
	if (reads != 1 || writes != 1) {
		free(copy);
		return LUMEN_E_UNSUPPORTED;
	}
	((struct lumen_prog_header *)copy)->region_count = LUMEN_CHAIN_SLOTS;
	*out = copy;
	return 0;
}

/* the chained program for @s's cache, or NULL (no error) when it cannot */
static int build(struct lumen_session *s, struct lumen_chain *c)
{
	struct lumen_model *m = s->model;
	struct lumen_device *dev = m->dev;
	const struct lnpu_file *f = &m->file;
	size_t size = f->prog_size[LUMEN_PROG_DECODE];
	struct lumen_validation v;
	void *code, *resized;
	int ret;

	ret = lumen_chain_program(m->code[LUMEN_PROG_DECODE], size, &f->meta,
				  &code);
	if (ret == LUMEN_E_UNSUPPORTED)
		return 0;
	if (ret)
		return ret;
	if (s->kv_positions != f->meta.ctx) {
		ret = lumen_kv_resize(code, size, f->meta.ctx, s->kv_positions,
				      &resized);
		free(code);
		if (ret)
			return ret;
		code = resized;
	}
	if (lumen_validate(code, size, &v)) {
		free(code);
		return lumen_fail(LUMEN_E_FORMAT,
				  "the chained decode program does not validate (%s at op %u)",
				  lumen_verr_str(v.error), v.error_op);
	}
	ret = dev->ops->program_create(dev, code, size, &v, &c->prog);
	free(code);
	for (int i = 0; !ret && i < 2; i++)
		ret = dev->ops->buf_alloc(dev, m->region_size[LNPU_SLOT_ARGS],
					  &c->args[i]);
	return ret;
}

static bool chain_wanted(void)
{
	const char *how = getenv("LUMEN_DECODE_CHAIN");

	return !how || strcmp(how, "0");
}

bool lumen_chain_ready(struct lumen_session *s)
{
	if (!chain_wanted())
		return false;
	if (!s->chain) {
		s->chain = calloc(1, sizeof(*s->chain));
		if (!s->chain)
			return false;
		if (build(s, s->chain)) {
			/* plain decode still works: free what was made */
			lumen_chain_free(s);
			s->chain = calloc(1, sizeof(*s->chain));
			return false;
		}
	}
	return s->chain->prog != NULL;
}

void lumen_chain_free(struct lumen_session *s)
{
	struct lumen_device *dev = s->model->dev;
	struct lumen_chain *c = s->chain;

	if (!c)
		return;
	if (c->prog)
		dev->ops->program_destroy(dev, c->prog);
	for (int i = 0; i < 2; i++)
		if (c->args[i].host)
			dev->ops->buf_free(dev, &c->args[i]);
	free(c);
	s->chain = NULL;
}

static uint32_t *words(struct lumen_buf *b)
{
	return b->host;
}

int lumen_chain_begin(struct lumen_session *s, int32_t id)
{
	struct lumen_chain *c = s->chain;
	uint32_t n_vocab = s->model->file.meta.n_vocab;

	if (!c || !c->prog || c->submitted != c->reaped)
		return lumen_fail(LUMEN_E_INVAL, "no chained decode to begin");
	if (id < 0 || (uint32_t)id >= n_vocab)
		return lumen_fail(LUMEN_E_INVAL,
				  "token id %d is outside the vocabulary (%u)",
				  id, n_vocab);
	c->submitted = 0;
	c->reaped = 0;
	/* job 0 reads the "previous" job's buffer: args[1] */
	memcpy(&words(&c->args[1])[LNPU_ARG_IDS], &id, 4);
	return 0;
}

uint32_t lumen_chain_queued(const struct lumen_session *s)
{
	return s->chain ? s->chain->submitted - s->chain->reaped : 0;
}

int lumen_chain_submit(struct lumen_session *s)
{
	struct lumen_model *m = s->model;
	struct lumen_device *dev = m->dev;
	struct lumen_chain *c = s->chain;
	uint32_t k = c->submitted, pos = s->pos + (c->submitted - c->reaped);
	struct lumen_buf *args = &c->args[k & 1];
	struct lumen_buf *regions[LUMEN_CHAIN_SLOTS] = {
		[LNPU_SLOT_WEIGHTS] = &m->weights,
		[LNPU_SLOT_KV] = &s->kv,
		[LNPU_SLOT_ACT] = &m->act,
		[LNPU_SLOT_ARGS] = args,
		[LNPU_SLOT_OUT] = &s->out,
		[LUMEN_CHAIN_SLOT_PREV_ARGS] = &c->args[(k + 1) & 1],
	};
	int ret;

	if (c->submitted - c->reaped >= 2)
		return lumen_fail(LUMEN_E_INVAL,
				  "two chained decodes are already in flight");
	if (pos >= s->ctx)
		return lumen_fail(LUMEN_E_CONTEXT,
				  "the context of %u positions is full", s->ctx);
	words(args)[LNPU_ARG_ROWS] = 1;
	words(args)[LNPU_ARG_POS] = pos;
	s->have_output = false;
	s->output_ran_ahead = false;
	dev->job_priority = s->priority;
	ret = dev->ops->submit(dev, c->prog, regions, LUMEN_CHAIN_SLOTS,
			       &c->job[k & 1]);
	if (ret)
		return ret;
	dev->submissions++;
	s->submissions++;
	c->submitted++;
	return 0;
}

/* wait for the oldest job; its args buffer in *@args */
static int reap(struct lumen_session *s, struct lumen_buf **args)
{
	struct lumen_device *dev = s->model->dev;
	struct lumen_chain *c = s->chain;
	uint32_t k = c->reaped;
	struct lumen_job_result res;
	int ret;

	if (c->reaped == c->submitted)
		return lumen_fail(LUMEN_E_INVAL, "no chained decode in flight");
	c->reaped++;
	ret = dev->ops->wait(dev, c->job[k & 1], &res);
	if (ret)
		return ret;
	*args = &c->args[k & 1];
	return lumen_session_job_result(s, LUMEN_PROG_CHAIN, &res);
}

int lumen_chain_wait(struct lumen_session *s, int32_t *id)
{
	struct lumen_buf *args;
	int ret = reap(s, &args);

	if (ret)
		return ret;
	memcpy(id, &words(args)[LNPU_ARG_IDS], 4);
	if (*id < 0 || (uint32_t)*id >= s->model->file.meta.n_vocab)
		return lumen_fail(LUMEN_E_FAULT,
				  "the device's argmax %d is not a token id", *id);
	s->pos++;
	s->have_output = true;
	s->last_prog = LUMEN_PROG_CHAIN;
	s->out_rows = 1;
	s->chain_token = *id;
	lumen_session_account(s, LUMEN_PROG_CHAIN, args);
	return 0;
}

int lumen_chain_drain(struct lumen_session *s)
{
	struct lumen_chain *c = s->chain;
	int n = 0, first_err = 0;

	while (c && c->reaped != c->submitted) {
		struct lumen_buf *args;
		int ret = reap(s, &args);

		if (ret && !first_err)
			first_err = ret;
		n++;
	}
	if (n) {
		/* OUT holds the output of a position past the session's */
		s->have_output = false;
		s->output_ran_ahead = true;
	}
	return first_err ? first_err : n;
}
