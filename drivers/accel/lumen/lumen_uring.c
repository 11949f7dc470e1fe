// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * LUMEN_URING_CMD_SUBMIT: the SUBMIT ioctl as an io_uring command whose
 * CQE is posted when the job completes, so a token costs one submission
 * and one completion, with no separate wait.
 *
 * The request lives from issue to CQE in a small allocation hung off the
 * command's pdu. Completion runs from the job fence's callback (interrupt
 * context) via io_uring task work; cancellation (ring or task exit: 6.12's
 * IORING_OP_ASYNC_CANCEL never reaches a uring_cmd) races with it through
 * dma_fence_remove_callback(): whoever removes or runs the callback owns
 * the CQE.
 *
 * The command is cancelable from io_uring_cmd_mark_cancelable() on, which
 * for a submission from io-wq (IOSQE_ASYNC) is before the callback is
 * armed: the callback's node starts out empty, so such a cancel finds
 * nothing to remove and leaves the CQE to the callback.
 */

#include <linux/dma-fence.h>
#include <linux/io_uring/cmd.h>
#include <linux/export.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "lumen_drv.h"
#include "lumen_job.h"
#include "lumen_uring.h"

#include <kunit/visibility.h>

struct lumen_uring_pdu {
	struct lumen_uring_req *req;
};

static struct lumen_uring_req **lumen_uring_slot(struct io_uring_cmd *cmd)
{
	return &io_uring_cmd_to_pdu(cmd, struct lumen_uring_pdu)->req;
}

static void lumen_uring_complete(struct io_uring_cmd *cmd, int status,
				 unsigned int issue_flags)
{
	struct lumen_uring_req *req = *lumen_uring_slot(cmd);

	io_uring_cmd_done(cmd, status, req->job_id, issue_flags);
	dma_fence_put(req->done);
	kfree(req);
}

static void lumen_uring_task_done(struct io_uring_cmd *cmd,
				  unsigned int issue_flags)
{
	struct lumen_uring_req *req = *lumen_uring_slot(cmd);

	lumen_uring_complete(cmd, lumen_job_status(req->done), issue_flags);
}

static void lumen_uring_fence_done(struct dma_fence *fence,
				   struct dma_fence_cb *cb)
{
	struct lumen_uring_req *req = container_of(cb, struct lumen_uring_req, cb);

	/* Interrupt context: io_uring posts the CQE from task work. */
	io_uring_cmd_complete_in_task(req->cmd, lumen_uring_task_done);
}

/**
 * lumen_uring_req_alloc() - a request whose callback is not armed yet.
 * @cmd: its command.
 *
 * Return: the request, or NULL.
 */
VISIBLE_IF_KUNIT struct lumen_uring_req *lumen_uring_req_alloc(struct io_uring_cmd *cmd)
{
	struct lumen_uring_req *req = kzalloc(sizeof(*req), GFP_KERNEL);

	if (!req)
		return NULL;
	req->cmd = cmd;
	/* A cancel before dma_fence_add_callback() must find nothing to remove. */
	INIT_LIST_HEAD(&req->cb.node);
	return req;
}
EXPORT_SYMBOL_IF_KUNIT(lumen_uring_req_alloc);

/**
 * lumen_uring_req_cancel() - end the wait of @req if its callback is armed.
 * @req: the request.
 *
 * Return: true when the caller now owns the CQE.
 */
VISIBLE_IF_KUNIT bool lumen_uring_req_cancel(struct lumen_uring_req *req)
{
	return req->done && dma_fence_remove_callback(req->done, &req->cb);
}
EXPORT_SYMBOL_IF_KUNIT(lumen_uring_req_cancel);

static int lumen_uring_cancel(struct io_uring_cmd *cmd,
			      unsigned int issue_flags)
{
	struct lumen_uring_req *req = *lumen_uring_slot(cmd);

	/* The job itself keeps running; only the wait for it ends. */
	if (lumen_uring_req_cancel(req))
		lumen_uring_complete(cmd, -ECANCELED, issue_flags);
	return 0;
}

static int lumen_uring_submit(struct io_uring_cmd *cmd,
			      unsigned int issue_flags)
{
	struct drm_file *file = cmd->file->private_data;
	struct drm_lumen_submit args;
	struct lumen_uring_req *req;
	int ret, idx;

	if (!(issue_flags & IO_URING_F_SQE128))
		return -EINVAL;
	/* The command area of a 128-byte SQE. */
	BUILD_BUG_ON(sizeof(args) != 2 * sizeof(struct io_uring_sqe) -
		     offsetof(struct io_uring_sqe, cmd));
	/* The SQE may be reused once we return: read it exactly once. */
	memcpy(&args, io_uring_sqe_cmd(cmd->sqe), sizeof(args));
	if (args.job_id)
		return -EINVAL;

	req = lumen_uring_req_alloc(cmd);
	if (!req)
		return -ENOMEM;
	/* drm_ioctl() refuses an unplugged device; this path must too. */
	if (!drm_dev_enter(file->minor->dev, &idx)) {
		kfree(req);
		return -ENODEV;
	}
	ret = lumen_submit(file, &args, &req->done, &req->job_id);
	drm_dev_exit(idx);
	if (ret) {
		kfree(req);
		return ret;
	}
	*lumen_uring_slot(cmd) = req;

	io_uring_cmd_mark_cancelable(cmd, issue_flags);
	if (dma_fence_add_callback(req->done, &req->cb, lumen_uring_fence_done)) {
		/* Already finished: post the CQE right here. */
		lumen_uring_complete(cmd, lumen_job_status(req->done), issue_flags);
	}
	return -EIOCBQUEUED;
}

/**
 * lumen_uring_cmd() - &file_operations.uring_cmd of the device file.
 * @cmd: the command.
 * @issue_flags: io_uring's IO_URING_F_* for this call.
 *
 * Return: -EIOCBQUEUED when the CQE will be posted later, else the result.
 */
int lumen_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	if (issue_flags & IO_URING_F_CANCEL)
		return lumen_uring_cancel(cmd, issue_flags);

	switch (cmd->cmd_op) {
	case LUMEN_URING_CMD_SUBMIT:
		return lumen_uring_submit(cmd, issue_flags);
	default:
		return -EINVAL;
	}
}
