// SPDX-License-Identifier: MIT
/*
 * Sessions: a KV cache, the args and output regions, and a position. The
 * weights and the activation scratch are the model's: jobs of one device
 * run one after another, and nothing lives in the scratch between jobs.
 */
#include <stdlib.h>
#include <string.h>

#include "lumen_internal.h"

/*
 * Programs for a cache of @positions when that is below the compiled
 * context; *@kv_size: the bytes of cache the session's programs address.
 */
static int resized_programs(struct lumen_session *s, uint32_t positions,
			    uint64_t *kv_size)
{
	struct lumen_model *m = s->model;
	struct lumen_device *dev = m->dev;
	const struct lnpu_file *f = &m->file;

	*kv_size = m->region_size[LNPU_SLOT_KV];
	if (positions == f->meta.ctx)
		return 0;
	*kv_size = 0;
	for (int p = 0; p < 3; p++) {
		struct lumen_validation v;
		void *code;
		int ret;

		if (!f->prog[p])	/* no verify program */
			continue;
		ret = lumen_kv_resize(m->code[p], f->prog_size[p], f->meta.ctx,
				      positions, &code);
		if (ret)
			return ret;
		if (lumen_validate(code, f->prog_size[p], &v)) {
			free(code);
			return lumen_fail(LUMEN_E_FORMAT,
					  "the program for a KV cache of %u positions does not validate (%s at op %u); recompile with lumenc --ctx %u",
					  positions, lumen_verr_str(v.error),
					  v.error_op, positions);
		}
		ret = dev->ops->program_create(dev, code, f->prog_size[p], &v,
					       &s->prog[p]);
		free(code);
		if (ret)
			return ret;
		if (v.region_size[LNPU_SLOT_KV] > *kv_size)
			*kv_size = v.region_size[LNPU_SLOT_KV];
	}
	return 0;
}

int lumen_session_create(struct lumen_model *m, uint32_t ctx,
			 struct lumen_session **out)
{
	struct lumen_device *dev = m->dev;
	const struct lnpu_meta *meta = &m->file.meta;
	struct lumen_session *s;
	uint32_t positions;
	uint64_t kv_size;
	int ret;

	*out = NULL;
	if (ctx > meta->ctx)
		return lumen_fail(LUMEN_E_INVAL,
				  "context %u is larger than the %u positions the model was compiled for (lumenc --ctx)",
				  ctx, meta->ctx);
	s = calloc(1, sizeof(*s));
	if (!s)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	s->model = m;
	s->priority = LUMEN_PRIORITY_NORMAL;
	s->ctx = ctx ? ctx : meta->ctx;
	/* a prefill chunk's rows are written to the cache by one op */
	positions = s->ctx;
	if (positions < meta->prefill_chunk)
		positions = meta->prefill_chunk < meta->ctx ?
			    meta->prefill_chunk : meta->ctx;
	if (positions < meta->verify_rows)	/* so are a verify job's */
		positions = meta->verify_rows < meta->ctx ?
			    meta->verify_rows : meta->ctx;
	s->logits = malloc(4ull * meta->n_vocab);
	s->kv_positions = positions;
	ret = s->logits ? 0 : lumen_fail(LUMEN_E_NOMEM, "out of memory");
	if (!ret)
		ret = resized_programs(s, positions, &kv_size);
	if (!ret)
		ret = lumen_check_memory(m, positions, kv_size);
	if (!ret)
		ret = dev->ops->buf_alloc(dev, kv_size, &s->kv);
	if (!ret)
		ret = dev->ops->buf_alloc(dev, m->region_size[LNPU_SLOT_ARGS],
					  &s->args);
	if (!ret)
		ret = dev->ops->buf_alloc(dev, m->region_size[LNPU_SLOT_OUT],
					  &s->out);
	if (ret) {
		lumen_session_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void lumen_session_free(struct lumen_session *s)
{
	struct lumen_device *dev;

	if (!s)
		return;
	dev = s->model->dev;
	for (int p = 0; p < 3; p++)
		if (s->prog[p])
			dev->ops->program_destroy(dev, s->prog[p]);
	if (s->kv.host)
		dev->ops->buf_free(dev, &s->kv);
	if (s->args.host)
		dev->ops->buf_free(dev, &s->args);
	if (s->out.host)
		dev->ops->buf_free(dev, &s->out);
	lumen_chain_free(s);
	free(s->logits);
	free(s);
}

void lumen_session_reset(struct lumen_session *s)
{
	s->pos = 0;
	s->have_output = false;
	s->output_ran_ahead = false;
	s->has_pending = false;
}

uint32_t lumen_session_pos(const struct lumen_session *s)
{
	return s->pos;
}

uint32_t lumen_session_ctx(const struct lumen_session *s)
{
	return s->ctx;
}

uint64_t lumen_session_submissions(const struct lumen_session *s)
{
	return s->submissions;
}

int lumen_session_set_priority(struct lumen_session *s,
			       enum lumen_priority priority)
{
	switch (priority) {
	case LUMEN_PRIORITY_LOW:
	case LUMEN_PRIORITY_NORMAL:
	case LUMEN_PRIORITY_HIGH:
		s->priority = priority;
		return 0;
	}
	return lumen_fail(LUMEN_E_INVAL,
			  "priority %d is not low (0), normal (1) or high (2)",
			  (int)priority);
}

enum lumen_priority lumen_session_priority(const struct lumen_session *s)
{
	return (enum lumen_priority)s->priority;
}

void lumen_session_get_modeled(const struct lumen_session *s,
			       struct lumen_modeled *m)
{
	*m = s->modeled;
}

static const char *fault_name(uint32_t code)
{
	switch (code) {
	case LUMEN_FAULT_INVALID_PROGRAM:	return "invalid program";
	case LUMEN_FAULT_REGION_BOUNDS:		return "region bounds";
	case LUMEN_FAULT_ARG_RANGE:		return "arg out of range";
	case LUMEN_FAULT_INDEX:			return "token id out of range";
	case LUMEN_FAULT_MMU:			return "MMU";
	case LUMEN_FAULT_REGION_UNBOUND:	return "region unbound";
	case LUMEN_FAULT_INJECTED:		return "injected by a test hook";
	case LUMEN_FAULT_CANCELLED:		return "cancelled";
	case LUMEN_FAULT_NO_MEMORY:		return "scratch memory limit";
	case LUMEN_FAULT_COST_LIMIT:		return "job cost limit";
	}
	return "fault";
}

static uint32_t args_rows(const struct lumen_session *s)
{
	return ((const uint32_t *)s->args.host)[LNPU_ARG_ROWS];
}

static const char *prog_name(int which)
{
	return which == LUMEN_PROG_DECODE ? "decode" :
	       which == LUMEN_PROG_CHAIN ? "chained decode" :
	       which == LUMEN_PROG_PREFILL ? "prefill" : "verify";
}

/*
 * what the job just run costs on the modeled NPU: the device's and ours;
 * a verify job's tokens are counted by the speculative loop, which knows
 * how many it kept
 */
void lumen_session_account(struct lumen_session *s, int which,
			   const struct lumen_buf *args_buf)
{
	struct lumen_model *m = s->model;
	struct lumen_device *dev = m->dev;
	struct lumen_silicon_cost cost = { 0 };
	const uint32_t *args = args_buf->host;

	/* the chained program is the decode program, its ids read elsewhere */
	int plan = which == LUMEN_PROG_CHAIN ? LUMEN_PROG_DECODE : which;

	lumen_modeled_plan_cost(&m->modeled_plan[plan], dev->silicon, args,
				args_buf->size / 4, &cost);
	dev->modeled.seconds += cost.seconds;
	dev->modeled.joules += cost.joules;
	s->modeled.energy_nj += (uint64_t)(cost.joules * 1e9);
	if (which == LUMEN_PROG_PREFILL) {
		s->modeled.prefill_ns += (uint64_t)(cost.seconds * 1e9);
		s->modeled.prefill_tokens += args[LNPU_ARG_ROWS];
	} else {
		s->modeled.decode_ns += (uint64_t)(cost.seconds * 1e9);
		if (which == LUMEN_PROG_DECODE || which == LUMEN_PROG_CHAIN)
			s->modeled.decode_tokens++;
	}
}

int lumen_session_job_result(struct lumen_session *s, int which,
			     const struct lumen_job_result *res)
{
	(void)s;
	if (res->fault_code && res->fault_region == ~0u)
		return lumen_fail(LUMEN_E_FAULT,
				  "%s program faulted: %s (code %u) at op %u, offset/value %llu",
				  prog_name(which),
				  fault_name(res->fault_code), res->fault_code,
				  res->fault_op, (unsigned long long)res->fault_offset);
	if (res->fault_code)
		return lumen_fail(LUMEN_E_FAULT,
				  "%s program faulted: %s (code %u) at op %u, region %u, offset/value %llu",
				  prog_name(which),
				  fault_name(res->fault_code), res->fault_code,
				  res->fault_op, res->fault_region,
				  (unsigned long long)res->fault_offset);
	return 0;
}

/* one job: the program over this session's regions, to its completion */
static int run(struct lumen_session *s, int which)
{
	struct lumen_model *m = s->model;
	struct lumen_device *dev = m->dev;
	struct lumen_prog *prog = s->prog[which] ? s->prog[which] : m->prog[which];
	struct lumen_buf *regions[LNPU_SLOT_COUNT] = {
		[LNPU_SLOT_WEIGHTS] = &m->weights,
		[LNPU_SLOT_KV] = &s->kv,
		[LNPU_SLOT_ACT] = &m->act,
		[LNPU_SLOT_ARGS] = &s->args,
		[LNPU_SLOT_OUT] = &s->out,
	};
	struct lumen_job_result res;
	uint64_t job;
	int ret;

	s->have_output = false;
	s->output_ran_ahead = false;
	dev->job_priority = s->priority;
	ret = dev->ops->submit(dev, prog, regions, LNPU_SLOT_COUNT, &job);
	if (ret)
		return ret;
	dev->submissions++;
	s->submissions++;
	ret = dev->ops->wait(dev, job, &res);
	if (ret)
		return ret;
	ret = lumen_session_job_result(s, which, &res);
	if (ret)
		return ret;
	s->have_output = true;
	s->last_prog = which;
	s->out_rows = which == LUMEN_PROG_VERIFY ? args_rows(s) : 1;
	lumen_session_account(s, which, &s->args);
	return 0;
}

static int check_ids(const struct lumen_session *s, const int32_t *ids,
		     size_t n)
{
	uint32_t n_vocab = s->model->file.meta.n_vocab;

	for (size_t i = 0; i < n; i++)
		if (ids[i] < 0 || (uint32_t)ids[i] >= n_vocab)
			return lumen_fail(LUMEN_E_INVAL,
					  "token %zu: id %d is outside the vocabulary (%u)",
					  i, ids[i], n_vocab);
	return 0;
}

int lumen_session_prefill(struct lumen_session *s, const int32_t *ids,
			  size_t n)
{
	uint32_t chunk = s->model->file.meta.prefill_chunk;
	uint32_t *args = s->args.host;
	int ret;

	if (!n)
		return lumen_fail(LUMEN_E_INVAL, "no tokens to prefill");
	if (n > s->ctx - s->pos)
		return lumen_fail(LUMEN_E_CONTEXT,
				  "%zu tokens at position %u do not fit in a context of %u",
				  n, s->pos, s->ctx);
	ret = check_ids(s, ids, n);
	if (ret)
		return ret;
	for (size_t done = 0; done < n;) {
		uint32_t k = n - done < chunk ? (uint32_t)(n - done) : chunk;

		args[LNPU_ARG_ROWS] = k;
		args[LNPU_ARG_POS] = s->pos;
		memcpy(&args[LNPU_ARG_IDS], ids + done, 4ull * k);
		ret = run(s, LUMEN_PROG_PREFILL);
		if (ret)
			return ret;
		done += k;
		s->pos += k;
	}
	return 0;
}

int lumen_session_decode(struct lumen_session *s, int32_t id)
{
	uint32_t *args = s->args.host;
	int ret;

	if (s->pos >= s->ctx)
		return lumen_fail(LUMEN_E_CONTEXT,
				  "the context of %u positions is full", s->ctx);
	ret = check_ids(s, &id, 1);
	if (ret)
		return ret;
	args[LNPU_ARG_ROWS] = 1;
	args[LNPU_ARG_POS] = s->pos;
	memcpy(&args[LNPU_ARG_IDS], &id, 4);
	ret = run(s, LUMEN_PROG_DECODE);
	if (ret)
		return ret;
	s->pos++;
	return 0;
}

static int no_output(const struct lumen_session *s)
{
	if (s->output_ran_ahead)
		return lumen_fail(LUMEN_E_INVAL,
				  "no output for the last token kept: the greedy generation that stopped there had already queued the next decode (chained decode), whose output is not that token's; decode or prefill to get output");
	return lumen_fail(LUMEN_E_INVAL, "no output yet: prefill or decode first");
}

const float *lumen_session_logits(struct lumen_session *s)
{
	const struct lnpu_meta *meta = &s->model->file.meta;

	if (!s->have_output) {
		no_output(s);
		return NULL;
	}
	if (s->last_prog == LUMEN_PROG_VERIFY)	/* its last row */
		return lumen_session_row_logits(s, s->out_rows - 1);
	/* one read of device memory, into memory the caller may keep */
	memcpy(s->logits, (const uint8_t *)s->out.host + meta->out_logits,
	       4ull * meta->n_vocab);
	return s->logits;
}

int32_t lumen_session_argmax(const struct lumen_session *s)
{
	int32_t id;

	if (!s->have_output)
		return no_output(s);
	if (s->last_prog == LUMEN_PROG_CHAIN)	/* OUT's word is not written */
		return s->chain_token;
	if (s->last_prog == LUMEN_PROG_VERIFY)
		memcpy(&id, (const uint8_t *)s->out.host +
		       s->model->file.meta.out_verify_argmax +
		       4ull * (s->out_rows - 1), 4);
	else
		memcpy(&id, (const uint8_t *)s->out.host +
		       s->model->file.meta.out_argmax, 4);
	return id;
}

/* ---- speculative decoding: verification and rollback ---- */

uint32_t lumen_model_max_draft(const struct lumen_model *m)
{
	uint32_t rows = m->file.meta.verify_rows;

	return rows ? rows - 1 : 0;
}

int lumen_session_verify(struct lumen_session *s, const int32_t *ids,
			 size_t n, int32_t *argmax)
{
	const struct lnpu_meta *meta = &s->model->file.meta;
	uint32_t *args = s->args.host;
	int ret;

	if (!meta->verify_rows)
		return lumen_fail(LUMEN_E_INVAL,
				  "the model has no verify program: compile it again with this lumenc (lumenc --draft-max N)");
	if (!n || n > meta->verify_rows)
		return lumen_fail(LUMEN_E_INVAL,
				  "%zu tokens to verify; the verify program takes 1..%u",
				  n, meta->verify_rows);
	if (n > s->ctx - s->pos)
		return lumen_fail(LUMEN_E_CONTEXT,
				  "%zu tokens at position %u do not fit in a context of %u",
				  n, s->pos, s->ctx);
	ret = check_ids(s, ids, n);
	if (ret)
		return ret;
	args[LNPU_ARG_ROWS] = (uint32_t)n;
	args[LNPU_ARG_POS] = s->pos;
	memcpy(&args[LNPU_ARG_IDS], ids, 4 * n);
	ret = run(s, LUMEN_PROG_VERIFY);
	if (ret)
		return ret;
	s->pos += (uint32_t)n;
	/* the only bytes greedy verification reads back: n words */
	if (argmax)
		memcpy(argmax, (const uint8_t *)s->out.host +
		       meta->out_verify_argmax, 4 * n);
	return 0;
}

const float *lumen_session_row_logits(struct lumen_session *s, size_t row)
{
	const struct lnpu_meta *meta = &s->model->file.meta;

	if (!s->have_output || s->last_prog != LUMEN_PROG_VERIFY ||
	    row >= s->out_rows) {
		lumen_fail(LUMEN_E_INVAL,
			   "no row %zu: the last job was not a verification of more than %zu tokens",
			   row, row);
		return NULL;
	}
	memcpy(s->logits, (const uint8_t *)s->out.host + meta->out_verify_logits +
	       4ull * meta->n_vocab * row, 4ull * meta->n_vocab);
	return s->logits;
}

/*
 * Positions are indices into the cache: the K/V rows at @pos and beyond
 * are simply overwritten by the next job before any query reads them
 * (attention reads keys 0 .. pos + rows - 1), so rolling back copies
 * nothing.
 */
int lumen_session_rollback(struct lumen_session *s, uint32_t pos)
{
	if (pos > s->pos)
		return lumen_fail(LUMEN_E_INVAL,
				  "cannot roll forward: position %u is past the session's %u",
				  pos, s->pos);
	s->pos = pos;
	s->have_output = false;
	s->output_ran_ahead = false;
	return 0;
}
