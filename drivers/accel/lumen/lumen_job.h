/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_JOB_H__
#define __LUMEN_JOB_H__

#include <linux/types.h>

#include <drm/gpu_scheduler.h>

struct drm_device;
struct drm_file;
struct drm_lumen_submit;
struct lumen_device;
struct lumen_file;
struct lumen_job;

/**
 * lumen_seqno_passed() - has the device completed @seqno?
 * @done: the last seqno the device completed.
 * @seqno: a seqno handed to the device.
 *
 * Seqnos wrap; jobs in flight always lie within half the number space of
 * each other, so the signed distance decides.
 *
 * Return: true when @seqno is at or before @done.
 */
static inline bool lumen_seqno_passed(u64 done, u64 seqno)
{
	return (s64)(done - seqno) >= 0;
}

int lumen_submit(struct drm_file *file, const struct drm_lumen_submit *args,
		 struct dma_fence **done, u64 *job_id);
int lumen_job_status(struct dma_fence *done);

int lumen_sched_init(struct lumen_device *ldev);
void lumen_sched_fini(struct lumen_device *ldev);
void lumen_job_irq_done(struct lumen_device *ldev);
void lumen_job_ring_error(struct lumen_device *ldev);
void lumen_job_abandon(struct lumen_device *ldev, struct lumen_job *bad,
		       int err);
void lumen_jobs_release_kept(struct lumen_device *ldev);
u32 lumen_jobs_kept(struct lumen_device *ldev);

int lumen_ioctl_submit(struct drm_device *drm, void *data,
		       struct drm_file *file);
int lumen_ioctl_job_wait(struct drm_device *drm, void *data,
			 struct drm_file *file);

#endif /* __LUMEN_JOB_H__ */
