// SPDX-License-Identifier: MIT
/*
 * Submitting jobs to the NPU, one per prefill chunk or token.
 *
 * io_uring (the default): submit() only fills a 128-byte SQE with the
 * LUMEN_URING_CMD_SUBMIT payload; wait() enters the kernel once, with
 * io_uring_submit_and_wait(), which issues the job and sleeps until its
 * CQE, posted when the job has completed. So a token costs exactly one
 * system call. With chained decode a second job is queued before the
 * wait for the first: that wait issues the second and sleeps until the
 * first's CQE (jobs of one queue complete in order), still one call per
 * token. The 32-byte CQE carries the job id, used to ask JOB_WAIT
 * for the details of a fault.
 *
 * ioctl (the fallback, or LUMEN_NPU_SUBMIT=ioctl): DRM_LUMEN_SUBMIT, then
 * DRM_LUMEN_JOB_WAIT for its status: two system calls per token.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xf86drm.h>

#include "backend_npu.h"

/*
 * The driver cannot tell a hung job from one that is only slow: say what
 * to do about the second (a big model on a slow or busy device).
 */
#define JOB_HUNG_FMT "job %" PRIu64 " hung; the NPU was reset (if it was only slow, " \
	"load lumen.ko with a longer job_timeout_ms)"

/* longer than the driver's job timeout: a hang is reported by the driver */
#define WAIT_SECONDS 120

static int xioctl(int fd, unsigned long req, void *arg)
{
	return drmIoctl(fd, req, arg) ? -errno : 0;
}

static int uring_wanted(void)
{
	const char *how = getenv("LUMEN_NPU_SUBMIT");

	return !how || strcmp(how, "ioctl");
}

int npu_submit_init(struct npu_device *n)
{
	struct drm_lumen_get_param gp = { .param = DRM_LUMEN_PARAM_URING_CMD };

	n->use_uring = false;
	if (!uring_wanted())
		return 0;
	if (xioctl(n->fd, DRM_IOCTL_LUMEN_GET_PARAM, &gp) || !gp.value)
		return 0;
	/* one job in flight: a ring of 4 leaves room and costs a page */
	if (io_uring_queue_init(4, &n->ring,
				IORING_SETUP_SQE128 | IORING_SETUP_CQE32))
		return 0;	/* an older kernel, or io_uring disabled */
	n->use_uring = true;
	return 0;
}

void npu_submit_fini(struct npu_device *n)
{
	if (n->use_uring)
		io_uring_queue_exit(&n->ring);
}

static int fill_submit(struct npu_device *n, struct lumen_prog *p,
		       struct lumen_buf *const *bufs, unsigned int n_bufs,
		       uint32_t priority, struct drm_lumen_submit *s)
{
	struct drm_lumen_region *regions = n->regions[n->n_submitted %
						      NPU_MAX_INFLIGHT];

	if (n_bufs > LUMEN_MAX_REGIONS || n_bufs > n->info.max_regions)
		return lumen_fail(LUMEN_E_INVAL,
				  "%u region slots, the NPU binds %u", n_bufs,
				  n->info.max_regions);
	memset(regions, 0, sizeof(n->regions[0]));
	for (unsigned int i = 0; i < n_bufs; i++)
		if (bufs[i])
			regions[i].handle = bufs[i]->handle;	/* whole buffer */
	memset(s, 0, sizeof(*s));
	s->program = p->handle;
	s->regions = (uintptr_t)regions;
	s->region_count = n_bufs;
	s->region_size = sizeof(regions[0]);
	/* enum lumen_priority has the values of enum drm_lumen_priority */
	_Static_assert((int)LUMEN_PRIORITY_HIGH == (int)DRM_LUMEN_PRIORITY_HIGH &&
		       (int)LUMEN_PRIORITY_LOW == (int)DRM_LUMEN_PRIORITY_LOW,
		       "priorities differ");
	s->priority = priority;
	return 0;
}

int npu_submit(struct lumen_device *dev, struct lumen_prog *p,
	       struct lumen_buf *const *bufs, unsigned int n_bufs,
	       uint64_t *job)
{
	struct npu_device *n = npu(dev);
	struct drm_lumen_submit s;
	struct io_uring_sqe *sqe;
	int ret;

	if (n->n_inflight == NPU_MAX_INFLIGHT)
		return lumen_fail(LUMEN_E_INVAL, "%u jobs are already in flight",
				  n->n_inflight);
	ret = fill_submit(n, p, bufs, n_bufs, dev->job_priority, &s);
	if (ret)
		return ret;
	if (!n->use_uring) {
		ret = xioctl(n->fd, DRM_IOCTL_LUMEN_SUBMIT, &s);
		if (ret)
			return lumen_fail(ret == -EOVERFLOW ? LUMEN_E_INVAL :
					  LUMEN_E_DEVICE, "SUBMIT: %s",
					  strerror(-ret));
		n->inflight[n->n_inflight] = s.job_id;
	} else {
		sqe = io_uring_get_sqe(&n->ring);
		if (!sqe)
			return lumen_fail(LUMEN_E_DEVICE, "the submission ring is full");
		/* the whole 128 bytes: the payload's tail must be zero too */
		memset(sqe, 0, 2 * sizeof(*sqe));
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, n->fd, NULL, 0, 0);
		sqe->cmd_op = LUMEN_URING_CMD_SUBMIT;
		memcpy(sqe->cmd, &s, sizeof(s));
		io_uring_sqe_set_data64(sqe, ++n->tag);
		n->inflight[n->n_inflight] = n->tag;
	}
	*job = n->inflight[n->n_inflight++];
	n->n_submitted++;
	return 0;
}

/* how a job that did not run to its end ended, from JOB_WAIT */
static int job_status(struct npu_device *n, uint64_t job_id, int64_t deadline,
		      struct lumen_job_result *res)
{
	struct drm_lumen_job_wait w = {
		.job_id = job_id,
		.timeout_ns = deadline,
	};
	int ret = xioctl(n->fd, DRM_IOCTL_LUMEN_JOB_WAIT, &w);

	if (ret == -ETIME)
		return lumen_fail(LUMEN_E_DEVICE,
				  "job %" PRIu64 " did not complete within %d s",
				  job_id, WAIT_SECONDS);
	if (ret)
		return lumen_fail(LUMEN_E_DEVICE, "JOB_WAIT for job %" PRIu64 ": %s",
				  job_id, strerror(-ret));
	switch (w.status) {
	case DRM_LUMEN_JOB_DONE:
		return 0;
	case DRM_LUMEN_JOB_FAULT:
		res->fault_code = w.fault_code ? w.fault_code : ~0u;
		res->fault_op = w.fault_op;
		res->fault_region = ~0u;	/* JOB_WAIT does not report it */
		res->fault_offset = w.fault_offset;
		return 0;
	case DRM_LUMEN_JOB_TIMEOUT:
		return lumen_fail(LUMEN_E_DEVICE, JOB_HUNG_FMT, job_id);
	case DRM_LUMEN_JOB_CANCELED:
		return lumen_fail(LUMEN_E_DEVICE,
				  "job %" PRIu64 " was canceled (an NPU reset)", job_id);
	}
	return lumen_fail(LUMEN_E_DEVICE, "job %" PRIu64 ": status %u",
			  job_id, w.status);
}

static int64_t deadline_ns(int seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec + seconds) * 1000000000 + ts.tv_nsec;
}

static bool in_flight(const struct npu_device *n, uint64_t tag)
{
	for (unsigned int i = 0; i < n->n_inflight; i++)
		if (n->inflight[i] == tag)
			return true;
	return false;
}

static int uring_wait(struct npu_device *n, uint64_t tag,
		      struct lumen_job_result *res)
{
	struct io_uring_cqe *cqe;
	uint64_t job_id, user_data;
	int ret, status;

	if (n->early.valid && n->early.tag == tag) {
		/*
		 * Its CQE came while we waited for the job before; what was
		 * queued since is issued now, so that the device does not idle.
		 */
		n->early.valid = false;
		status = n->early.status;
		job_id = n->early.job_id;
		if (io_uring_sq_ready(&n->ring)) {
			do
				ret = io_uring_submit(&n->ring);
			while (ret == -EINTR);
			if (ret < 0)
				return lumen_fail(LUMEN_E_DEVICE, "io_uring_enter: %s",
						  strerror(-ret));
		}
		goto have;
	}
	for (bool entered = false;; entered = true) {
		/*
		 * A signal may end the wait, or even come before the SQE was
		 * taken: entering again submits what the kernel has not
		 * consumed yet and waits on. After a CQE posted early, ours is
		 * most often already there: look before entering again.
		 */
		if (!entered || io_uring_peek_cqe(&n->ring, &cqe)) {
			do
				ret = io_uring_submit_and_wait(&n->ring, 1);
			while (ret == -EINTR);
			if (ret < 0)
				return lumen_fail(LUMEN_E_DEVICE, "io_uring_enter: %s",
						  strerror(-ret));
		}
		/* the CQE is there: this only looks at the ring */
		ret = io_uring_wait_cqe(&n->ring, &cqe);
		if (ret)
			return lumen_fail(LUMEN_E_DEVICE, "io_uring: %s",
					  strerror(-ret));
		status = cqe->res;
		job_id = cqe->big_cqe[0];
		user_data = cqe->user_data;
		io_uring_cqe_seen(&n->ring, cqe);
		if (user_data == tag)
			break;
		/*
		 * Jobs of one queue complete in order, but io_uring may post
		 * the CQEs of two completions close together in the other
		 * order (task work): keep the later job's for its wait.
		 */
		if (n->early.valid || !in_flight(n, user_data)) {
			status = -EPROTO;
			break;
		}
		n->early.valid = true;
		n->early.tag = user_data;
		n->early.status = status;
		n->early.job_id = job_id;
	}
have:
	switch (status) {
	case 0:
		return 0;
	case -EIO:
		return job_status(n, job_id, 0, res);
	case -ETIMEDOUT:
		return lumen_fail(LUMEN_E_DEVICE, JOB_HUNG_FMT, job_id);
	case -ECANCELED:
		return lumen_fail(LUMEN_E_DEVICE,
				  "job %" PRIu64 " was canceled (an NPU reset)", job_id);
	case -EOVERFLOW:
		return lumen_fail(LUMEN_E_INVAL,
				  "submit: a bound buffer is smaller than the program needs");
	case -EPROTO:
		return lumen_fail(LUMEN_E_DEVICE,
				  "a completion for another submission arrived");
	}
	return lumen_fail(LUMEN_E_DEVICE, "submit: %s", strerror(-status));
}

int npu_wait(struct lumen_device *dev, uint64_t job,
	     struct lumen_job_result *res)
{
	struct npu_device *n = npu(dev);

	memset(res, 0, sizeof(*res));
	/* jobs of one queue complete in order: the oldest is waited first */
	if (!n->n_inflight || job != n->inflight[0])
		return lumen_fail(LUMEN_E_INVAL,
				  "job %" PRIu64 " is not the oldest in flight", job);
	n->inflight[0] = n->inflight[1];
	n->n_inflight--;
	if (n->use_uring)
		return uring_wait(n, job, res);
	return job_status(n, job, deadline_ns(WAIT_SECONDS), res);
}
