/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * The driver fuzzer's inputs: a sequence of structured calls on the
 * Lumen accel device (its ioctls, mmap, PRIME, syncobjs, io_uring
 * commands, fdinfo and debugfs), each a kind and three numbers. The
 * executor turns the numbers into arguments against what earlier calls
 * of the same input created (files, buffers, programs, syncobjs,
 * dma-bufs, rings), so any byte string is a meaningful input and a
 * mutation of one number changes one argument.
 */
#ifndef FUZZ_CALLS_H
#define FUZZ_CALLS_H

#include <stdint.h>
#include <stdio.h>

#include "fuzz_kcov.h"
#include "fuzz_rand.h"

enum fz_kind {
	FZ_OPEN,
	FZ_CLOSE_FD,
	FZ_GET_PARAM,
	FZ_DEV_QUERY,
	FZ_BO_CREATE,
	FZ_BO_MMAP,
	FZ_BO_INFO,
	FZ_GEM_CLOSE,
	FZ_PROG_CREATE,
	FZ_PROG_DESTROY,
	FZ_SUBMIT,
	FZ_JOB_WAIT,
	FZ_URING_SUBMIT,
	FZ_URING_REAP,
	FZ_URING_CLOSE,
	FZ_PRIME_EXPORT,
	FZ_PRIME_IMPORT,
	FZ_DMABUF_MMAP,
	FZ_SYNCOBJ_CREATE,
	FZ_SYNCOBJ_DESTROY,
	FZ_SYNCOBJ_WAIT,
	FZ_SYNCOBJ_MISC,
	FZ_MMAP_RAW,
	FZ_FDINFO,
	FZ_DEBUGFS,
	FZ_HOOK,
	FZ_RAW_IOCTL,
	FZ_RACE,
	FZ_KIND_COUNT
};

/*
 * One call. @odd below FZ_ODD_PCT makes the call break a rule on purpose
 * (a pad, a flag, a handle, a size); @a, @b and @c pick objects and
 * argument variants, each kind in its own way (fuzz_calls.c).
 */
struct fz_call {
	uint32_t kind;
	uint32_t odd;
	uint64_t a, b, c;
};

#define FZ_ODD_PCT	12
#define FZ_MAX_CALLS	48

struct fz_input {
	uint32_t n;
	uint32_t pad;
	struct fz_call call[FZ_MAX_CALLS];
};

struct fz_stats {
	uint64_t inputs;
	uint64_t records;		/* calls of inputs run */
	uint64_t syscalls;		/* system calls made at the device */
	uint64_t kind[FZ_KIND_COUNT];	/* calls per kind */
	uint64_t kind_ok[FZ_KIND_COUNT];	/* ... whose first syscall succeeded */
	uint64_t kind_ns[FZ_KIND_COUNT];	/* ... and the time they took */
	uint64_t progs_generated;
	uint64_t progs_accepted;
	uint64_t progs_mutated;
	uint64_t progs_mutated_accepted;
	uint64_t verdict_mismatch;	/* kernel and lumen_validate() disagree */
	uint64_t submits, submits_ok;
	uint64_t uring_cmds, uring_async, cqes, cqes_ok;
	uint64_t job_status[5];		/* DRM_LUMEN_JOB_* seen by JOB_WAIT */
	uint64_t hangs;			/* inputs killed by the watchdog */
	uint64_t child_crashes;		/* inputs whose process died */
	uint64_t leaks;			/* batches after which objects stayed */
	uint64_t new_pcs;		/* new PCs + edges of the last input */
	char mismatch[256];		/* the first disagreement */
};

const char *fz_kind_name(uint32_t kind);

/* fz_call_random() - a fresh call, kinds weighted towards the rich ones. */
void fz_call_random(struct fz_rng *r, struct fz_call *c);

/* fz_call_mutate() - change one field of @c. */
void fz_call_mutate(struct fz_rng *r, struct fz_call *c);

/* Coverage of one input, for the executor. */
struct fz_cover {
	struct fz_kcov *kcov;		/* NULL: no KCOV */
	const struct fz_text *text;
	struct fz_pcset *pcs;
	struct fz_pcset *edges;
};

/*
 * fz_run_input() - run @in in this process (a child the fuzzer forked:
 * its files, maps and rings go away when it exits). @trace, when not
 * NULL, gets one line per call.
 */
void fz_run_input(const struct fz_input *in, struct fz_stats *st,
		  struct fz_cover *cov, FILE *trace);

#endif
