/* SPDX-License-Identifier: MIT */
/*
 * The NPU backend's private state, shared by backend_npu.c (device,
 * buffers, programs, counters) and backend_npu_submit.c (the two
 * submission paths).
 */
#ifndef LUMEN_BACKEND_NPU_H
#define LUMEN_BACKEND_NPU_H

#include <liburing.h>
#include <stdbool.h>

#include <drm/lumen_accel.h>
#include "lumen_internal.h"

#define NPU_MAX_INFLIGHT 2

/**
 * struct npu_device - one open Lumen accel node.
 * @fd: the node, opened read-write.
 * @node: its path, e.g. "/dev/accel/accel0".
 * @info: what %DRM_LUMEN_QUERY_INFO said.
 * @use_uring: submit through @ring (else the SUBMIT ioctl + JOB_WAIT).
 * @ring: SQE128 + CQE32: the submission inline, the job id back.
 * @regions: the bindings of each job in flight, by the parity of its
 *	submission; they must stay valid until the kernel has read them,
 *	which may be after submit() returned (a binding is reused two
 *	submissions later, once the job that used it was reaped).
 * @inflight: tags of the jobs submit() queued that wait() has not reaped,
 *	oldest first: user_data of their SQEs, or the ioctl's job ids. Two at
 *	most: chained decode queues a job before it waits for the one before.
 * @n_inflight: how many.
 * @tag: the last tag given to an SQE.
 * @n_submitted: submissions, for the parity of @regions.
 * @early: the CQE of a job in flight that io_uring posted before the CQE
 *	of the job before it: its status and job id, for its own wait.
 */
struct npu_device {
	int fd;
	char node[300];
	struct drm_lumen_dev_info info;
	bool use_uring;
	struct io_uring ring;
	struct drm_lumen_region regions[NPU_MAX_INFLIGHT][LUMEN_MAX_REGIONS];
	uint64_t inflight[NPU_MAX_INFLIGHT];
	unsigned int n_inflight;
	uint64_t tag;
	uint64_t n_submitted;
	struct {
		bool valid;
		uint64_t tag;
		int status;
		uint64_t job_id;
	} early;
};

struct lumen_prog {
	uint32_t handle;
	uint32_t regions_used;
};

static inline struct npu_device *npu(struct lumen_device *dev)
{
	return dev->priv;
}

/* backend_npu_submit.c */
int npu_submit_init(struct npu_device *n);
void npu_submit_fini(struct npu_device *n);
int npu_submit(struct lumen_device *dev, struct lumen_prog *p,
	       struct lumen_buf *const *bufs, unsigned int n_bufs,
	       uint64_t *job);
int npu_wait(struct lumen_device *dev, uint64_t job,
	     struct lumen_job_result *res);

#endif /* LUMEN_BACKEND_NPU_H */
