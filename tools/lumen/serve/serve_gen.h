/* SPDX-License-Identifier: MIT */
/*
 * lumen serve: sharing one device among requests, and generating one
 * request's text a token at a time.
 *
 * A gate admits up to @cap holders at once; waiters enter by priority,
 * first come first served within one priority. Two gates: the sessions
 * (cap --parallel: a request holds a session, its own KV cache, from its
 * prefill to its last token) and the device (cap 1: one prefill or decode
 * job at a time, because a device handle has one job in flight and the
 * model's activation scratch is shared by its sessions). Between two
 * tokens a request gives the device up, so the requests in their
 * sessions interleave token by token and a high-priority one goes first
 * at every turn; on the NPU its jobs also carry the priority to the
 * driver's scheduler (lumen_session_set_priority()).
 *
 * A turn is one lumen_speculator_step(): with speculative decoding
 * (lumen serve --spec) a round of drafting and one verification, which
 * hands out one or more tokens; without, a plain decode and one token.
 */
#ifndef SERVE_GEN_H
#define SERVE_GEN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <lumen/lumen.h>

#include "serve_request.h"
#include "serve_utf8.h"

struct serve_gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned int cap, used;
	uint64_t next[3], serving[3];	/* tickets per priority */
};

void serve_gate_init(struct serve_gate *g, unsigned int cap);
void serve_gate_destroy(struct serve_gate *g);
void serve_gate_enter(struct serve_gate *g, int priority);
void serve_gate_leave(struct serve_gate *g);

/**
 * struct serve_state - the server: one device, one model, its sessions.
 * @admitted: requests holding or waiting for a session; a request beyond
 *	@parallel + @queue is refused (429).
 * @high_to_driver: the driver may be asked for HIGH (CAP_SYS_NICE).
 * @spec: speculative decoding for requests that do not choose (kind
 *	LUMEN_SPEC_NONE: plain decode); @spec.draft the draft model or NULL.
 * @spec_total: the speculators' figures summed over finished requests.
 * @draft_sessions: a draft model's session per slot, made by the slot's
 *	first request that drafts with it and kept for the next ones (a
 *	session's allocation and the device's address space for it are
 *	not paid per request); @draft_sessions_made counts them.
 */
struct serve_state {
	struct lumen_device *dev;
	struct lumen_model *model;
	struct lumen_device_info dev_info;
	char model_id[128];
	uint64_t created;
	struct serve_limits limits;
	unsigned int parallel, queue;
	struct lumen_session **sessions;
	bool *session_busy;
	struct serve_gate slots, device;
	pthread_mutex_t mu;		/* what follows */
	unsigned int admitted, active;
	uint64_t served, cancelled, rejected, failed;
	bool high_to_driver;
	const char *api_key;
	struct lumen_spec_params spec;
	struct lumen_spec_stats spec_total;
	uint64_t spec_requests;
	struct lumen_session **draft_sessions;
	uint64_t draft_sessions_made;
};

/* admission: false when the queue is full */
bool serve_admit(struct serve_state *st);
void serve_unadmit(struct serve_state *st);

enum serve_finish {
	SERVE_RUNNING,
	SERVE_FINISH_STOP,	/* end of sequence or a stop sequence */
	SERVE_FINISH_LENGTH,	/* max_tokens or the context */
};

/**
 * struct serve_gen - one request's generation.
 * @text: everything generated (after a stop sequence: cut before it).
 * @sent: bytes of @text already streamed.
 * @busy_ns, @energy_uj, @submissions: the device counters' deltas over
 *	this request's own jobs.
 * @spec_kind: enum lumen_spec_kind this request decodes with.
 * @spec: its speculator (also the sampler), from its first device turn.
 * @spec_st: the speculator's figures after the last turn.
 */
struct serve_gen {
	struct serve_state *st;
	const struct serve_request *req;
	int priority;
	int session;			/* index, -1 before one is held */
	struct lumen_sampler_params sampling;
	int spec_kind;
	struct lumen_speculator *spec;
	struct lumen_spec_stats spec_st;
	bool out_of_memory;
	int32_t *ids;
	size_t n_prompt;
	uint32_t max_tokens;
	uint32_t n_generated;
	int32_t last;
	int32_t stop_ids[8];		/* tokens that end the answer (EOS) */
	size_t n_stop_ids;
	char *text;
	size_t len, cap, sent;
	enum serve_finish finish;
	uint64_t t_start, t_session, t_first, t_end;
	uint64_t busy_ns, energy_uj, submissions;
};

/*
 * Tokenize @prompt for @req (errors as OpenAI error objects: 400 for a
 * prompt longer than the context). Nothing waits yet.
 */
int serve_gen_init(struct serve_gen *g, struct serve_state *st,
		   const struct serve_request *req, int priority,
		   const char *prompt, struct serve_error *err);
/* end the answer at these tokens too (a chat template's end of turn) */
void serve_gen_add_stop_ids(struct serve_gen *g, const int32_t *ids, size_t n);
/*
 * Wait for a session, then make the next token: the first call runs the
 * prompt. 0 with one more token in @text (or g->finish set), -1 with @err.
 */
int serve_gen_step(struct serve_gen *g, struct serve_error *err);
/* give the session back (also when the client went away) */
void serve_gen_fini(struct serve_gen *g);

/*
 * Bytes of @text from @sent that may go out now: no partial UTF-8
 * character and nothing that may still turn into a stop sequence, unless
 * @final.
 */
size_t serve_gen_ready(const struct serve_gen *g, bool final);

#endif /* SERVE_GEN_H */
