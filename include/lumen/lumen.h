/* SPDX-License-Identifier: MIT */
/*
 * liblumen: run a compiled language model (.lnpu) on a Lumen NPU, or on the
 * host CPU through the same programs.
 *
 *   device  = lumen_device_open(backend)        one NPU (or the CPU)
 *   model   = lumen_model_load(device, path)    weights uploaded once
 *   session = lumen_session_create(model)       a KV cache and a position
 *   lumen_session_prefill / _decode             one submission per call
 *                                               (prefill: per chunk)
 *   lumen_generate(session, prompt, params)     tokenize, sample, stream
 *
 * Errors, the same way for every public function (<lumen/error.h>): what
 * can fail returns 0, or a count/id >= 0, on success and a negative enum
 * lumen_error on failure; constructors hand their object out through a
 * pointer argument, NULL after a failure; lumen_session_logits() returns
 * NULL. Every failure sets lumen_last_error(), the calling thread's
 * detail of it (the file offset and field for a bad model, the fault of a
 * device job, ...); success leaves it alone. lumen_strerror() names a code.
 *
 * Objects are not thread-safe: use one session from one thread at a time.
 * Several sessions of one model share its weights and may be used in turn.
 *
 * man liblumen(3) and Documentation/accel/lumen/runtime.rst describe it.
 */
#ifndef LUMEN_H
#define LUMEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lumen/chat.h>
#include <lumen/error.h>
#include <lumen/sampling.h>
#include <lumen/tokenizer.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LUMEN_VERSION_STRING "0.1.0"

/* CLOCK_MONOTONIC in ns: the clock the stats are measured with */
uint64_t lumen_now_ns(void);

/* ---- devices ---- */

enum lumen_backend {
	LUMEN_BACKEND_CPU = 0,	/* the hw/exec executor in this process */
	LUMEN_BACKEND_NPU = 1,	/* /dev/accel/accel* through lumen.ko */
	LUMEN_BACKEND_AUTO = 2,	/* the NPU when there is one, else the CPU */
};

/**
 * struct lumen_device_options - what lumen_device_open() opens.
 * @backend: &enum lumen_backend.
 * @threads: CPU backend: worker threads (0: one per online CPU).
 * @path: NPU backend: the device node (NULL: the first Lumen one).
 * @silicon: the modeled NPU the modeled figures are for: "glasses" or
 *	"phone" (NULL: $LUMEN_SILICON, else "glasses"); see
 *	Documentation/accel/lumen/silicon.rst.
 */
struct lumen_device_options {
	enum lumen_backend backend;
	unsigned int threads;
	const char *path;
	const char *silicon;
};

/**
 * struct lumen_device_info - what lumen_device_get_info() reports.
 * @backend: "cpu" or "npu".
 * @name: the device ("host CPU (hw/exec)", the DRM node, ...).
 * @isa_version: the program ISA the device runs.
 * @cores: compute cores (CPU: worker threads).
 * @max_regions: region slots a job can bind.
 * @dtypes: bit n set when enum lumen_dtype n is supported.
 * @has_counters: lumen_device_get_counters() has busy time and energy.
 * @silicon: the modeled NPU's preset name ("glasses", "phone").
 * @silicon_summary: one line saying what it models.
 * @silicon_memory: bytes of RAM a model may use on it.
 * @dtypes_ext: bit n set when enum lumen_dtype 64 + n is supported
 *	(Lumen's own layouts: bit 0 Q4_0x8, bit 1 Q8_0x8).
 * @hw_version: the NPU's hardware revision, major << 16 | minor (CPU: 0).
 */
struct lumen_device_info {
	const char *backend;
	char name[64];
	uint32_t isa_version;
	uint32_t cores;
	uint32_t max_regions;
	uint32_t dtypes;
	bool has_counters;
	const char *silicon;
	const char *silicon_summary;
	uint64_t silicon_memory;
	uint64_t dtypes_ext;
	uint32_t hw_version;
};

/**
 * struct lumen_counters - the device's running totals.
 * @submissions: jobs submitted through this device handle.
 * @busy_ns: time the device spent running jobs (0 without counters).
 * @energy_uj: energy the device used, microjoules (0 without counters).
 * @bytes_read, @flops: work done (CPU backend: from hw/exec).
 * @modeled_ns, @modeled_energy_nj: what the jobs run to their end would
 *	take on the modeled NPU (&lumen_device_info.silicon), both backends.
 */
struct lumen_counters {
	uint64_t submissions;
	uint64_t busy_ns;
	uint64_t energy_uj;
	uint64_t bytes_read;
	uint64_t flops;
	uint64_t modeled_ns;
	uint64_t modeled_energy_nj;
};

struct lumen_device;

int lumen_device_open(struct lumen_device **dev,
		      const struct lumen_device_options *opt);
void lumen_device_close(struct lumen_device *dev);
void lumen_device_get_info(const struct lumen_device *dev,
			   struct lumen_device_info *info);
void lumen_device_get_counters(struct lumen_device *dev,
			       struct lumen_counters *c);
/* "cpu" / "npu" / "auto" -> enum lumen_backend; LUMEN_E_INVAL if none */
int lumen_backend_from_name(const char *name);

/* ---- models ---- */

/**
 * struct lumen_model_options - how lumen_model_load() loads.
 * @progress: called with the fraction done (0..1) while the weights are
 *	checked and uploaded; may be NULL.
 * @progress_data: passed to @progress.
 * @trust_weights: skip the checksum of the weights (faster for big files).
 */
struct lumen_model_options {
	void (*progress)(void *data, double done);
	void *progress_data;
	bool trust_weights;
};

/**
 * struct lumen_model_info - a loaded model.
 * @name, @arch: from the file's metadata.
 * @n_vocab ... @n_ff: its shape.
 * @ctx: positions a session's KV cache holds.
 * @prefill_chunk: tokens one prefill submission processes.
 * @weight_dtype, @kv_dtype: enum lumen_dtype of the big matrices and the
 *	KV cache.
 * @n_params: parameters.
 * @file_size: bytes of the .lnpu file.
 * @weight_bytes: bytes of the weights region.
 * @weight_bytes_copied: bytes copied to load them: 0 when the device reads
 *	the mapped file in place (CPU, weights under 2 MiB or without
 *	transparent huge pages), @weight_bytes after one upload (NPU, and
 *	the CPU copying them into huge pages).
 */
struct lumen_model_info {
	char name[65];		/* the file's 64 bytes and a NUL */
	char arch[17];
	uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff;
	uint32_t ctx;
	uint32_t prefill_chunk;
	uint32_t weight_dtype, kv_dtype;
	uint64_t n_params;
	uint64_t file_size;
	uint64_t weight_bytes;
	uint64_t weight_bytes_copied;
};

struct lumen_model;

int lumen_model_load(struct lumen_device *dev, const char *path,
		     const struct lumen_model_options *opt,
		     struct lumen_model **model);
void lumen_model_free(struct lumen_model *model);
void lumen_model_get_info(const struct lumen_model *model,
			  struct lumen_model_info *info);
/* the tokenizer built from the model's vocabulary; owned by the model */
const struct lumen_tokenizer *lumen_model_tokenizer(const struct lumen_model *m);
/**
 * struct lumen_memory - bytes a model needs with one session.
 * @ctx: positions of the session's KV cache.
 * @weights: the weights (the CPU maps the file in place, the NPU holds one
 *	copy in device memory).
 * @scratch: activations, shared by the model's sessions.
 * @kv: the KV cache of @ctx positions (each session has its own).
 * @io: a session's argument and output buffers and its copy of the logits.
 * @total: the sum.
 */
struct lumen_memory {
	uint32_t ctx;
	uint64_t weights, scratch, kv, io, total;
};

/* what @model needs with one session of @ctx positions (0: the model's) */
void lumen_model_get_memory(const struct lumen_model *model, uint32_t ctx,
			    struct lumen_memory *mem);
/* "F32", "F16", "Q8_0", "Q4_0", "Q4_K" ... */
const char *lumen_dtype_name(uint32_t dtype);

/* ---- sessions ---- */

struct lumen_session;

/* a session with an empty KV cache; at most @ctx positions (0: the model's) */
int lumen_session_create(struct lumen_model *model, uint32_t ctx,
			 struct lumen_session **s);
void lumen_session_free(struct lumen_session *s);
/* forget every position (the KV cache is reused) */
void lumen_session_reset(struct lumen_session *s);
/* tokens in the KV cache */
uint32_t lumen_session_pos(const struct lumen_session *s);
uint32_t lumen_session_ctx(const struct lumen_session *s);
/* submissions made for this session */
uint64_t lumen_session_submissions(const struct lumen_session *s);

/**
 * enum lumen_priority - how urgent a session's device jobs are.
 * @LUMEN_PRIORITY_LOW: background work (a long batch job).
 * @LUMEN_PRIORITY_NORMAL: the default.
 * @LUMEN_PRIORITY_HIGH: interactive work.
 */
enum lumen_priority {
	LUMEN_PRIORITY_LOW = 0,
	LUMEN_PRIORITY_NORMAL = 1,
	LUMEN_PRIORITY_HIGH = 2,
};

/*
 * The priority of this session's later jobs (NORMAL until set);
 * LUMEN_E_INVAL for a value outside enum lumen_priority. On the NPU each
 * job carries it to the driver's scheduler (DRM_LUMEN_PRIORITY_*), which
 * runs the waiting jobs of higher priority first, across processes; HIGH
 * needs CAP_SYS_NICE there, else the submission fails with LUMEN_E_DEVICE.
 * The CPU backend runs a job inside the calling thread and has no queue to
 * order: a program that shares one device among threads orders its own
 * turns (lumen serve does, by this same priority).
 */
int lumen_session_set_priority(struct lumen_session *s,
			       enum lumen_priority priority);
enum lumen_priority lumen_session_priority(const struct lumen_session *s);

/**
 * struct lumen_modeled - a session's jobs on the modeled NPU, running totals.
 * @prefill_ns, @decode_ns: modeled time of its prefill chunks and of its
 *	single-token decodes.
 * @prefill_tokens, @decode_tokens: the tokens they processed.
 * @energy_nj: modeled energy of both.
 */
struct lumen_modeled {
	uint64_t prefill_ns, decode_ns;
	uint64_t prefill_tokens, decode_tokens;
	uint64_t energy_nj;
};

void lumen_session_get_modeled(const struct lumen_session *s,
			       struct lumen_modeled *m);

/*
 * Run @n tokens through the model at the current position, in chunks of
 * the model's prefill_chunk (one submission each); then the logits and the
 * argmax of the last token are available. LUMEN_E_CONTEXT if they do not
 * fit; nothing is run then.
 */
int lumen_session_prefill(struct lumen_session *s, const int32_t *ids,
			  size_t n);
/* one token, one submission */
int lumen_session_decode(struct lumen_session *s, int32_t id);
/*
 * Greedy decode of @n tokens: run @id, then each argmax, one submission
 * each; @out (may be NULL) receives the n argmax ids, the same as @n
 * lumen_session_decode() + lumen_session_argmax(). Where the device can,
 * each job takes its token from the previous job's argmax on the device
 * and is queued before that one completes (see lumen_generate_stats'
 * chained). LUMEN_E_CONTEXT if they do not fit (nothing is run).
 */
int lumen_session_decode_greedy(struct lumen_session *s, int32_t id,
				uint32_t n, int32_t *out);
/* after prefill/decode: n_vocab logits of the last token (NULL before) */
const float *lumen_session_logits(struct lumen_session *s);
/*
 * after prefill/decode: the largest logit's id, computed on the device
 * (LUMEN_E_INVAL before)
 */
int32_t lumen_session_argmax(const struct lumen_session *s);

/* ---- speculative decoding: verification and rollback ---- */

/*
 * Draft tokens one verification can score with the token before them:
 * the verify program's rows - 1; 0 when the .lnpu has no verify program
 * (compiled by an older lumenc, or with lumenc --draft-max 0).
 */
uint32_t lumen_model_max_draft(const struct lumen_model *model);
/*
 * Run @n tokens (1 .. max_draft + 1) at the current position in ONE
 * submission and keep every row's output; @argmax (may be NULL) receives
 * n ids, argmax[i] the model's choice after ids[0..i]. The position
 * advances by n; lumen_session_rollback() takes back rejected tokens.
 * LUMEN_E_CONTEXT if they do not fit (nothing is run).
 */
int lumen_session_verify(struct lumen_session *s, const int32_t *ids,
			 size_t n, int32_t *argmax);
/* after lumen_session_verify(): row @row's n_vocab logits (NULL else) */
const float *lumen_session_row_logits(struct lumen_session *s, size_t row);
/*
 * Forget the tokens at @pos and after (@pos <= the current position).
 * Nothing is copied: the cache rows past @pos are overwritten by the
 * next job before anything reads them.
 */
int lumen_session_rollback(struct lumen_session *s, uint32_t pos);

/**
 * enum lumen_spec_kind - where draft tokens come from.
 * @LUMEN_SPEC_NONE: plain decode, one submission per token.
 * @LUMEN_SPEC_NGRAM: prompt/n-gram lookup: the tokens that followed the
 *	latest earlier occurrence of the context's last n-gram.
 * @LUMEN_SPEC_DRAFT: a smaller model with the same vocabulary on the same
 *	device (&lumen_spec_params.draft).
 * @LUMEN_SPEC_MTP: the model's own multi-token-prediction head (llama.cpp's
 *	nextn tensors); refused with a reason when the model has none.
 */
enum lumen_spec_kind {
	LUMEN_SPEC_NONE = 0,
	LUMEN_SPEC_NGRAM = 1,
	LUMEN_SPEC_DRAFT = 2,
	LUMEN_SPEC_MTP = 3,
};

/**
 * struct lumen_spec_params - speculative decoding for lumen_generate().
 * Greedy output is token for token that of plain decoding; with sampling
 * the speculative-sampling acceptance rule keeps the model's distribution.
 * @kind: &enum lumen_spec_kind.
 * @draft_max: draft tokens per verification (0: lumen_model_max_draft()).
 * @ngram_min, @ngram_max: n-gram lengths tried, longest first (0: 1, 4).
 * @draft: LUMEN_SPEC_DRAFT: the draft model.
 * @always_draft: draft every round; by default greedy generation stops
 *	drafting for a while when verification has cost more per token than
 *	plain decode (timed as it goes: a compute-bound host CPU pays each
 *	verified row, an NPU bound by memory bandwidth hardly).
 * @draft_session: LUMEN_SPEC_DRAFT: a session on @draft to draft in, kept
 *	from one generation to the next (a server's pool); NULL: each
 *	speculator opens its own and frees it. It is emptied when a
 *	speculator takes it, and serves one speculator at a time.
 */
struct lumen_spec_params {
	enum lumen_spec_kind kind;
	uint32_t draft_max;
	uint32_t ngram_min, ngram_max;
	struct lumen_model *draft;
	bool always_draft;
	struct lumen_session *draft_session;
};

/* "none" / "ngram" / "draft" / "mtp" -> enum lumen_spec_kind; LUMEN_E_INVAL */
int lumen_spec_from_name(const char *name);

/* ---- speculative decoding one round at a time ---- */

/*
 * lumen_generate() runs its own loop. A program that runs the loop itself
 * (a server that shares one device among requests and takes a turn on it
 * for each round) drives a speculator instead:
 *
 *   lumen_speculator_create(session, spec, sampling, &sp)
 *   lumen_speculator_start(sp, prompt ids, cb, data)      the prefill
 *   while (going on) lumen_speculator_step(sp, max, cb, data)
 *   lumen_speculator_free(sp)
 *
 * Each call is one device turn: the prefill, or one round (the drafter's
 * k tokens, the model scoring them all in one verify submission, the
 * agreeing ones kept and the rest rolled back; a plain decode when there
 * is nothing to draft), and hands the round's tokens to @cb one by one as
 * they are accepted. lumen_generate() with &lumen_generate_params.spec is
 * this loop, so both give the same tokens.
 */

/*
 * Called with each token a round accepts, in order, before the next one
 * is judged; lumen_session_pos() then counts every earlier token and not
 * this one. Return non-zero to stop there: the round's later tokens are
 * dropped (rolled back) and this one stays the session's last token,
 * not yet run, as after lumen_generate().
 */
typedef int (*lumen_spec_token_cb)(void *data, int32_t id);

/**
 * struct lumen_spec_stats - what a speculator did so far.
 * @n_rounds: device submissions of the model after the prompt: plain
 *	decodes and verifications (the draft model's are not counted).
 * @n_verify: verifications among them.
 * @n_drafted, @n_accepted: draft tokens verified, and those kept
 *	(acceptance = n_accepted / n_drafted).
 * @n_tokens: tokens handed out by lumen_speculator_step() (tokens per
 *	submission = n_tokens / n_rounds).
 * @draft_submissions: submissions of the draft model (LUMEN_SPEC_DRAFT).
 * @n_topk_rows: sampled verification rows judged from the top-k logits
 *	the verify program leaves per row (lumenc --verify-topk, 40 by
 *	default), read back instead of the row's n_vocab logits: when the
 *	sampler's top_k is 1 .. that k and it has no penalties.
 */
struct lumen_spec_stats {
	uint32_t n_rounds;
	uint32_t n_verify;
	uint32_t n_drafted;
	uint32_t n_accepted;
	uint32_t n_tokens;
	uint64_t draft_submissions;
	uint32_t n_topk_rows;
};

struct lumen_speculator;

/*
 * A speculator generating on @s with drafts from @spec (NULL or
 * LUMEN_SPEC_NONE: none, every round is a plain decode) and tokens chosen
 * by @sampling (temperature <= 0: greedy, the device's argmax, and the
 * output is plain decoding's token for token; else the acceptance rule
 * keeps the model's distribution). @spec is copied; its draft model must
 * outlive the speculator, which opens a session of its own on it.
 * LUMEN_E_INVAL, with the reason, for a model without a verify program,
 * a draft model with another vocabulary or on another device, mtp
 * without a head.
 */
int lumen_speculator_create(struct lumen_session *s,
			    const struct lumen_spec_params *spec,
			    const struct lumen_sampler_params *sampling,
			    struct lumen_speculator **out);
void lumen_speculator_free(struct lumen_speculator *sp);
/*
 * Prefill @n ids after what the session holds (the drafter looks for
 * n-grams in them and in what follows) and hand the model's first token
 * to @cb. Once per speculator. Returns 1, or a negative error
 * (LUMEN_E_CONTEXT when they do not fit: nothing is run).
 */
int lumen_speculator_start(struct lumen_speculator *sp, const int32_t *ids,
			   size_t n, lumen_spec_token_cb cb, void *data);
/*
 * One round after the last token handed out: at most @max (>= 1) tokens,
 * drafts included, go to @cb. Returns how many did (>= 1), or a negative
 * error: LUMEN_E_CONTEXT when the session is full, LUMEN_E_INVAL before
 * lumen_speculator_start(). After @cb asked to stop, a step goes on from
 * the token it stopped at.
 */
int lumen_speculator_step(struct lumen_speculator *sp, uint32_t max,
			  lumen_spec_token_cb cb, void *data);
void lumen_speculator_get_stats(const struct lumen_speculator *sp,
				struct lumen_spec_stats *st);

/* ---- generation ---- */

/*
 * Called for each generated token with its text piece (possibly part of a
 * UTF-8 character, possibly empty). Return non-zero to stop.
 */
typedef int (*lumen_token_cb)(void *data, int32_t id, const char *piece,
			      size_t len);

/**
 * struct lumen_generate_params - see lumen_generate_default_params().
 * @sampling: the sampler; temperature <= 0 is greedy, then the device's
 *	argmax is used and the logits are never read.
 * @n_predict: tokens to generate.
 * @stop_at_eos: stop after the end-of-sequence token (not passed on).
 * @on_token: streaming callback, or NULL.
 * @data: passed to @on_token.
 * @spec: speculative decoding, or NULL for plain decode.
 * @stop_ids, @n_stop_ids: more tokens that end the generation as EOS
 *	does (not passed on), e.g. a chat template's end of turn
 *	(lumen_chat_stop_ids()); honoured whatever @stop_at_eos says.
 */
struct lumen_generate_params {
	struct lumen_sampler_params sampling;
	uint32_t n_predict;
	bool stop_at_eos;
	lumen_token_cb on_token;
	void *data;
	const struct lumen_spec_params *spec;
	const int32_t *stop_ids;
	size_t n_stop_ids;
};

/**
 * struct lumen_generate_stats - what one lumen_generate() did.
 * @n_prompt: tokens prefilled: the prompt's (with BOS), and the previous
 *	call's last token when continuing a session.
 * @n_generated: tokens generated (passed to the callback).
 * @prefill_ns: prompt processing time, to its logits.
 * @first_token_ns: from the call to the first token's callback.
 * @decode_ns: time of the decode steps after the first token.
 * @submissions: device submissions made (prefill chunks + decodes).
 * @hit_context: stopped because the KV cache was full.
 * @hit_eos: stopped at the end-of-sequence token or one of @stop_ids.
 * @n_drafted, @n_accepted: speculative decoding: draft tokens verified,
 *	and those the model agreed with (acceptance = n_accepted / n_drafted).
 * @n_verify: verification submissions (each also yields one token of
 *	the model's own); tokens per decode submission is n_generated over
 *	the submissions after the prefill.
 * @chained: greedy decode ran chained: each decode job took its token
 *	from the previous job's argmax on the device and was queued before
 *	that job completed, so the guest's round trip overlaps the device's
 *	work (LUMEN_DECODE_CHAIN=0 turns it off; the tokens are the same).
 * @n_ran_ahead: chained decode found a stop (EOS, a stop id, the
 *	callback) with the next decode already queued: that job ran past
 *	the last token kept (0 or 1, counted in @submissions). The session
 *	is as if it had not run (the kept token is still pending), but its
 *	output is that job's, so lumen_session_logits/argmax refuse until
 *	the next prefill or decode.
 */
struct lumen_generate_stats {
	uint32_t n_prompt;
	uint32_t n_generated;
	uint64_t prefill_ns;
	uint64_t first_token_ns;
	uint64_t decode_ns;
	uint64_t submissions;
	bool hit_context;
	bool hit_eos;
	uint32_t n_drafted;
	uint32_t n_accepted;
	uint32_t n_verify;
	bool chained;
	uint32_t n_ran_ahead;
};

struct lumen_generate_params lumen_generate_default_params(void);

/*
 * Tokenize @prompt (with BOS if the model wants it and the session is
 * empty), prefill it after what the session holds, then sample and decode
 * up to n_predict tokens. The last token sampled (also an EOS or stop
 * token) is not run at once: generating n tokens costs the prefill chunks
 * plus n - 1 decode submissions. A later lumen_generate*() on the same
 * session runs it before its prompt, so calls continue one text turn after
 * turn (a chat: each call prefills only the new text);
 * lumen_session_reset() forgets it with the rest.
 * LUMEN_E_CONTEXT if the prompt alone does not fit; nothing is run then.
 */
int lumen_generate(struct lumen_session *s, const char *prompt, size_t len,
		   const struct lumen_generate_params *p,
		   struct lumen_generate_stats *stats);
/* the same from token ids */
int lumen_generate_ids(struct lumen_session *s, const int32_t *ids, size_t n,
		       const struct lumen_generate_params *p,
		       struct lumen_generate_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* LUMEN_H */
