/* SPDX-License-Identifier: MIT */
/*
 * liblumen internals: the backend interface and the objects behind the
 * public handles.
 *
 * A backend is the thing that owns device memory and runs programs. The
 * generic code (model.c, session.c) only ever:
 *   - allocates buffers that are mapped into this process (buf_alloc),
 *     or lends the device read-only host memory (buf_import, optional:
 *     without it the bytes are copied into a buf_alloc'd buffer, once);
 *   - hands a validated program over (program_create);
 *   - submits a program with one buffer per region slot and waits for it
 *     (submit + wait: the NPU backend puts the submit on io_uring and
 *     waits for its CQE; the CPU backend runs the job inside submit).
 */
#ifndef LUMEN_INTERNAL_H
#define LUMEN_INTERNAL_H

#include <stdarg.h>

#include "lnpu_read.h"
#include "lumen_fail.h"
#include "lumen_ops.h"
#include "silicon.h"
#include "modeled.h"
#include <lumen/lumen.h>

/**
 * struct lumen_buf - device memory mapped into this process.
 * @host: where the CPU sees it.
 * @size: bytes usable.
 * @handle, @npu_addr: backend's names for it (GEM handle, NPU VA).
 * @priv: backend data.
 */
struct lumen_buf {
	void *host;
	uint64_t size;
	uint32_t handle;
	uint64_t npu_addr;
	void *priv;
	bool huge;	/* CPU: in huge pages (host_memory.c) */
	bool copied;	/* buf_import copied the bytes rather than lend them */
};

struct lumen_prog;

/*
 * Host memory of the CPU backend's buffers (host_memory.c), zeroed and
 * page-aligned; with @huge, 2 MiB-aligned and advised MADV_HUGEPAGE.
 * lumen_host_free() takes the size and @huge given to lumen_host_alloc().
 */
#define LUMEN_HUGE_PAGE (2u << 20)
void *lumen_host_alloc(uint64_t size, bool huge);
void lumen_host_free(void *p, uint64_t size, bool huge);
/* 1 when transparent huge pages are on (mode "always" or "madvise") */
int lumen_host_huge_pages(void);
/*
 * Drop this process's pages of [p, p + size) of a private, read-only,
 * never written file mapping (whole pages inside the range only); a later
 * read faults the file's bytes in again.
 */
void lumen_host_release(const void *p, uint64_t size);

/**
 * struct lumen_job_result - how a submitted job ended.
 * @fault_code: &enum lumen_fault_code, 0 when it ran to its end.
 * @fault_op, @fault_region, @fault_offset: where, as the executor says.
 */
struct lumen_job_result {
	uint32_t fault_code;
	uint32_t fault_op;
	uint32_t fault_region;
	uint64_t fault_offset;
};

struct lumen_backend_ops {
	const char *name;
	int (*open)(struct lumen_device *dev,
		    const struct lumen_device_options *opt);
	void (*close)(struct lumen_device *dev);
	void (*get_info)(struct lumen_device *dev,
			 struct lumen_device_info *info);
	/* zeroed, mapped memory of at least @size bytes */
	int (*buf_alloc)(struct lumen_device *dev, uint64_t size,
			 struct lumen_buf *buf);
	/*
	 * optional: let the device read @size bytes at @host in place, or
	 * copy them into memory of its own (buf->copied; the CPU backend
	 * does, into huge pages, which a file mapping does not have). @host
	 * is a private read-only file mapping (the model's): a backend that
	 * copies may release its pages (lumen_host_release()).
	 */
	int (*buf_import)(struct lumen_device *dev, const void *host,
			  uint64_t size, struct lumen_buf *buf);
	void (*buf_free)(struct lumen_device *dev, struct lumen_buf *buf);
	/* @v: what lnpu_open's validator found (the device validates again) */
	int (*program_create)(struct lumen_device *dev, const void *prog,
			      size_t size, const struct lumen_validation *v,
			      struct lumen_prog **out);
	void (*program_destroy)(struct lumen_device *dev, struct lumen_prog *p);
	/* @regions[slot]; NULL leaves a slot unbound. Fills *@job. */
	int (*submit)(struct lumen_device *dev, struct lumen_prog *p,
		      struct lumen_buf *const *regions, unsigned int n_regions,
		      uint64_t *job);
	int (*wait)(struct lumen_device *dev, uint64_t job,
		    struct lumen_job_result *res);
	/* optional: busy time, energy, work (submissions are counted here) */
	void (*get_counters)(struct lumen_device *dev, struct lumen_counters *c);
};

extern const struct lumen_backend_ops lumen_cpu_backend;
extern const struct lumen_backend_ops lumen_npu_backend;

struct lumen_device {
	const struct lumen_backend_ops *ops;
	enum lumen_backend backend;
	uint64_t submissions;
	/* enum lumen_priority of the job being submitted (its session's) */
	uint32_t job_priority;
	/* the modeled NPU, and what the jobs so far cost on it (silicon.h) */
	const struct lumen_silicon *silicon;
	struct lumen_silicon_cost modeled;
	void *priv;
};

struct lumen_model {
	struct lumen_device *dev;
	struct lnpu_file file;
	struct lumen_tokenizer *tok;
	struct lumen_prog *prog[3];		/* decode, prefill, verify */
	/* the programs, copied and validated at load (model.c) */
	void *code[3];
	/* their op shapes, for the modeled NPU's cost per job (modeled.h) */
	struct lumen_modeled_plan modeled_plan[3];
	/* weights and activations are shared by the model's sessions */
	struct lumen_buf weights, act;
	uint64_t region_size[LNPU_SLOT_COUNT];
	uint64_t weight_bytes_copied;
	char *chat_template;			/* tokenizer.chat_template or NULL */
};

/**
 * struct lumen_session - a conversation's state on the device.
 * @prog: programs for a KV cache smaller than the compiled one
 *	(lumen_kv_resize()), or NULL to run the model's.
 * @last_prog: the program whose output is there (LUMEN_PROG_*).
 * @out_rows: rows of that output (a verify job's token count, else 1).
 */
struct lumen_session {
	struct lumen_model *model;
	struct lumen_prog *prog[3];
	struct lumen_buf kv, args, out;
	uint32_t pos, ctx;
	uint64_t submissions;
	uint32_t priority;			/* enum lumen_priority */
	struct lumen_modeled modeled;
	float *logits;				/* host copy, n_vocab */
	bool have_output;
	int last_prog;
	uint32_t out_rows;
	/*
	 * lumen_generate's last token: sampled, not yet run (so that n tokens
	 * cost n - 1 decodes); the next lumen_generate runs it first
	 */
	int32_t pending;
	bool has_pending;
	/* positions the session's programs address (kv_resize.c) */
	uint32_t kv_positions;
	/*
	 * the output belongs to a decode queued past the last token kept
	 * (decode_chain.c): lumen_session_logits/argmax refuse, saying so
	 */
	bool output_ran_ahead;
	struct lumen_chain *chain;		/* decode_chain.c, or NULL */
	int32_t chain_token;	/* the last chained job's argmax */
};

/*
 * @prog re-based for a KV cache of @ctx_to positions instead of @ctx_from:
 * a malloc'd copy in *@out (kv_resize.c)
 */
int lumen_kv_resize(const void *prog, size_t size, uint32_t ctx_from,
		    uint32_t ctx_to, void **out);

/* the parts of two validations the runtime relies on (model.c) */
bool lumen_same_validation(const struct lumen_validation *a,
			   const struct lumen_validation *b);

/*
 * memory.c: 0 when the system has the memory, else LUMEN_E_NOMEM with the
 * figure: the model's weights and scratch; a session's @kv_size bytes of
 * cache for @positions and its io buffers
 */
int lumen_check_model_memory(const struct lumen_model *m);
int lumen_check_memory(const struct lumen_model *m, uint32_t positions,
		       uint64_t kv_size);

/*
 * model_dtypes.c: whether @info's device runs @dtype; 0 when it runs every
 * dtype the program's tensors use, else LUMEN_E_UNSUPPORTED naming the
 * first it lacks (and, for Lumen's interleaved layouts, `lumenc
 * --no-repack`), @path being the model's file
 */
bool lumen_device_runs_dtype(const struct lumen_device_info *info,
			     uint32_t dtype);
int lumen_check_program_dtypes(const char *path, const void *prog,
			       const struct lumen_device_info *info);

/* the model's tokenizer.chat_template (NUL-terminated), or NULL */
const char *lumen_model_chat_template(const struct lumen_model *m);

#define LUMEN_PROG_DECODE 0
#define LUMEN_PROG_PREFILL 1
#define LUMEN_PROG_VERIFY 2	/* optional: speculative decoding */
#define LUMEN_PROG_CHAIN 3	/* derived from decode (decode_chain.c) */

/* session.c: a finished job's fault as an error (0 when it ran to its end) */
int lumen_session_job_result(struct lumen_session *s, int which,
			     const struct lumen_job_result *res);
/* session.c: what a job of @which over @args costs on the modeled NPU */
void lumen_session_account(struct lumen_session *s, int which,
			   const struct lumen_buf *args);

/*
 * decode_chain.c: greedy decode with the next job queued before the
 * current one is waited for; each job takes its token from the previous
 * job's argmax on the device.
 *
 * lumen_chain_program() derives the chained program from a decode
 * program: LUMEN_E_UNSUPPORTED when the program is not shaped as lumenc
 * writes it (then the plain path is used).
 * lumen_chain_ready(): true when @s can decode chained (built on first
 * use; false, with no error, for a program that cannot be chained or
 * when LUMEN_DECODE_CHAIN=0).
 * lumen_chain_begin(): the first job will decode @id.
 * lumen_chain_submit(): queue the next job (the position after those
 * queued); at most two in flight.
 * lumen_chain_wait(): wait for the oldest job, its argmax in *@id; the
 * session's position advances.
 * lumen_chain_drain(): wait for jobs still queued, which ran past the
 * last token kept: the position stays, the output is refused; returns
 * how many, or an error.
 */
#define LUMEN_CHAIN_SLOT_PREV_ARGS LNPU_SLOT_COUNT
#define LUMEN_CHAIN_SLOTS (LNPU_SLOT_COUNT + 1)
int lumen_chain_program(const void *decode, size_t size,
			const struct lnpu_meta *meta, void **out);
bool lumen_chain_ready(struct lumen_session *s);
int lumen_chain_begin(struct lumen_session *s, int32_t id);
int lumen_chain_submit(struct lumen_session *s);
int lumen_chain_wait(struct lumen_session *s, int32_t *id);
int lumen_chain_drain(struct lumen_session *s);
uint32_t lumen_chain_queued(const struct lumen_session *s);
void lumen_chain_free(struct lumen_session *s);

#endif /* LUMEN_INTERNAL_H */
