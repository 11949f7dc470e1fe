/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_URING_H__
#define __LUMEN_URING_H__

#include <linux/dma-fence.h>
#include <linux/types.h>

struct io_uring_cmd;

/**
 * struct lumen_uring_req - an io_uring submission waiting for its job.
 * @cmd: the io_uring command.
 * @done: the job's finished fence (referenced).
 * @cb: on @done.
 * @job_id: reported in big_cqe[0] of a 32-byte CQE.
 */
struct lumen_uring_req {
	struct io_uring_cmd *cmd;
	struct dma_fence *done;
	struct dma_fence_cb cb;
	u64 job_id;
};

int lumen_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags);

#if IS_ENABLED(CONFIG_KUNIT)
struct lumen_uring_req *lumen_uring_req_alloc(struct io_uring_cmd *cmd);
bool lumen_uring_req_cancel(struct lumen_uring_req *req);
#endif

#endif /* __LUMEN_URING_H__ */
