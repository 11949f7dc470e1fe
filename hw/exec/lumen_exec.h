/* SPDX-License-Identifier: MIT */
/*
 * hw/core: the Lumen NPU op executor. Plain C11 + POSIX threads, no other
 * dependency. Runs a validated program against a set of regions in place;
 * used by the QEMU device model, by the runtime's CPU backend and as the
 * golden reference of tests.
 */
#ifndef LUMEN_EXEC_H
#define LUMEN_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "lumen_validate.h"

/**
 * struct lumen_region - memory bound to one region slot.
 * @base: host address of byte 0; NULL with @size 0 for an unbound slot.
 * @size: bytes; every access is checked against it.
 */
struct lumen_region {
	void *base;
	uint64_t size;
};

/**
 * struct lumen_fault - why lumen_exec_run() stopped.
 * @code: &enum lumen_fault_code.
 * @op_index: the op that faulted.
 * @region: the region slot involved, or ~0.
 * @offset: the first byte offset found outside, or the bad value.
 * @detail: &enum lumen_verr for %LUMEN_FAULT_INVALID_PROGRAM, else 0.
 */
struct lumen_fault {
	uint32_t code;
	uint32_t op_index;
	uint32_t region;
	uint32_t detail;
	uint64_t offset;
};

/**
 * struct lumen_exec_stats - work done, accumulated across runs.
 * @jobs: programs run to the end.
 * @ops: ops executed.
 * @bytes_read: bytes of tensors read (weights dominate).
 * @bytes_written: bytes of tensors written.
 * @flops: floating-point operations (a multiply-add counts two).
 */
struct lumen_exec_stats {
	uint64_t jobs;
	uint64_t ops;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t flops;
};

struct lumen_exec;

/**
 * lumen_exec_create() - an executor with @threads workers (the NPU's
 * cores); 0 means one. Scratch memory is allocated here and grown only
 * when a program needs more, never per op.
 * Return: NULL when out of memory.
 */
struct lumen_exec *lumen_exec_create(unsigned int threads);
void lumen_exec_destroy(struct lumen_exec *ex);
unsigned int lumen_exec_threads(const struct lumen_exec *ex);

/**
 * lumen_exec_run() - validate @prog, then run it.
 * @ex: the executor; one run at a time per executor.
 * @prog: program bytes.
 * @size: their count.
 * @regions: @n_regions regions, indexed by slot.
 * @n_regions: at least the program's region_count.
 * @fault: filled in when the return is not 0.
 *
 * Before each op, every operand's extent at the run's row count is checked
 * against its region: an op that would reach outside faults before it
 * writes anything. (The driver refuses, at submission, regions smaller
 * than the validator's declared-capacity sizes.)
 *
 * Region memory may be shared with another agent (guest RAM) and change
 * during the run: every value used as an index (token ids, rows, pos) is
 * read once into executor memory, checked, and only that copy is used.
 *
 * Return: 0, or the &enum lumen_fault_code.
 */
int lumen_exec_run(struct lumen_exec *ex, const void *prog, size_t size,
		   const struct lumen_region *regions, unsigned int n_regions,
		   struct lumen_fault *fault);

/**
 * lumen_exec_run_validated() - lumen_exec_run() for a program the caller
 * already passed through lumen_validate() (the device validates once at
 * program load, then runs it per token).
 */
int lumen_exec_run_validated(struct lumen_exec *ex, const void *prog,
			     const struct lumen_validation *v,
			     const struct lumen_region *regions,
			     unsigned int n_regions, struct lumen_fault *fault);

/**
 * lumen_exec_cancel() - make the run in progress stop soon.
 * @ex: the executor.
 *
 * Callable from any thread (the device calls it on a reset). The run
 * checks between ops and between the items (row chunks, heads) of a
 * parallel op and returns %LUMEN_FAULT_CANCELLED. Every run clears the
 * request when it returns, whatever its outcome, so it never outlives the
 * run it was made for; made while no run is in progress, it cancels the
 * next run at its first op (so the device calls it only while a job runs).
 */
void lumen_exec_cancel(struct lumen_exec *ex);

/**
 * lumen_exec_cancel_clear() - forget a lumen_exec_cancel() request that
 * came after the run it was made for had returned (the device calls it
 * when it drops a cancelled job, so the request cannot cancel the next
 * one). Call only while no run is in progress.
 * @ex: the executor.
 */
void lumen_exec_cancel_clear(struct lumen_exec *ex);

/**
 * lumen_exec_set_cost_limit() - most work one run may do. Each op's work
 * (bytes read + bytes written + floating-point operations, as counted in
 * &struct lumen_exec_stats) is computed from its operands and this run's
 * rows and position before it runs; an op that would take the run's total
 * past the limit faults %LUMEN_FAULT_COST_LIMIT (fault offset: that total)
 * and writes nothing. Call between runs.
 * @ex: the executor.
 * @work: the limit; 0 (the default) means none.
 */
void lumen_exec_set_cost_limit(struct lumen_exec *ex, uint64_t work);

/* Default of lumen_exec_set_scratch_limit(). */
#define LUMEN_EXEC_SCRATCH_LIMIT_DEFAULT (1ull << 30)

/**
 * lumen_exec_set_scratch_limit() - most bytes of scratch memory an op may
 * need (ATTENTION grows with the position read at run time, MATMUL with
 * rows times the activation width). An op that would need more faults
 * %LUMEN_FAULT_NO_MEMORY instead of allocating. Call between runs.
 * @ex: the executor.
 * @bytes: the limit; 0 restores %LUMEN_EXEC_SCRATCH_LIMIT_DEFAULT.
 */
void lumen_exec_set_scratch_limit(struct lumen_exec *ex, uint64_t bytes);

/**
 * lumen_exec_scratch_bytes() - scratch memory held between runs: after a
 * run, twice what that run needed, at least the initial 256 KiB and at
 * most 16 MiB; more grown by a large job is given back, so one job does
 * not pin its peak for the executor's lifetime.
 */
size_t lumen_exec_scratch_bytes(const struct lumen_exec *ex);

/** lumen_exec_get_stats() - a copy of the accumulated counters. */
void lumen_exec_get_stats(const struct lumen_exec *ex,
			  struct lumen_exec_stats *stats);

#endif /* LUMEN_EXEC_H */
