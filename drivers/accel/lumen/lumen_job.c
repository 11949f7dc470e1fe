// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * Jobs: checking a submission, feeding the ring through drm_sched, and
 * completing jobs from the seqno the device writes to memory.
 *
 * A job holds everything it touches (program, buffer mappings, address
 * space, file state) until free_job(), so closing handles or the file while
 * it runs cannot pull memory from under the device. When a reset fails, or
 * the device goes away without confirming it stopped, the jobs it held are
 * kept past free_job() (&lumen_device.kept) until it is known to be idle.
 *
 * A job runs at most once. After a timeout the job the device was running
 * fails (-ETIMEDOUT, or -ECANCELED when it was not the one that timed out)
 * and only jobs the device never fetched go back on the ring, with the same
 * fences: drm_sched_resubmit_jobs() would run a partly run job again.
 *
 * run_job() and the timeout handler are fence-signalling critical sections
 * (dma_fence_begin_signalling()), checked by lockdep on the debug kernel:
 * they allocate nothing and take no lock that is held while allocating.
 * The runtime PM reference is taken at submission, and everything a freed
 * job held is dropped from a work item, not from free_job().
 */

#include <linux/dma-fence.h>
#include <linux/moduleparam.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>
#include <drm/drm_utils.h>

#include "lumen_check.h"
#include "lumen_device.h"
#include "lumen_drv.h"
#include "lumen_gem.h"
#include "lumen_job.h"
#include "lumen_program.h"
#include "lumen_trace.h"

static unsigned int lumen_job_timeout_ms = 10000;
module_param_named(job_timeout_ms, lumen_job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "time a job may run before the device is reset (ms, default 10000)");

/**
 * struct lumen_hw_fence - signalled when the device completes a seqno.
 * @base: the fence.
 */
struct lumen_hw_fence {
	struct dma_fence base;
};

/**
 * struct lumen_job - one submission.
 * @base: the scheduler's job.
 * @ldev: the device.
 * @lfile: the submitting file's state (referenced).
 * @prog: the program (referenced).
 * @map: mapping of each bound region slot (referenced), or NULL.
 * @region_va: NPU address of each slot, 0 when unbound.
 * @region_size: bytes of each slot.
 * @region_count: slots described.
 * @priority: &enum drm_lumen_priority.
 * @id: job id in its file.
 * @seqno: device seqno.
 * @ring_slot: ring entry.
 * @ctx: MMU context slot of its address space.
 * @hw_fence: signalled when the device completes the job.
 * @prealloc: that fence, allocated at submission where sleeping is fine.
 * @link: in &lumen_device.running while on the device, then in
 *	&lumen_device.kept if @kept.
 * @release_node: in &lumen_device.release_list.
 * @powered: holds a runtime PM reference.
 * @active: counted in its address space's active jobs.
 * @kept: the device may still use its memory: keep it past free_job().
 */
struct lumen_job {
	struct drm_sched_job base;
	struct lumen_device *ldev;
	struct lumen_file *lfile;
	struct lumen_program *prog;
	struct lumen_mapping *map[LUMEN_MAX_REGIONS];
	u64 region_va[LUMEN_MAX_REGIONS];
	u64 region_size[LUMEN_MAX_REGIONS];
	u32 region_count;
	u32 priority;
	u64 id;
	u64 seqno;
	u32 ring_slot;
	int ctx;
	struct dma_fence *hw_fence;
	struct lumen_hw_fence *prealloc;
	struct list_head link;
	struct llist_node release_node;
	bool powered;
	bool active;
	bool kept;
};

static struct lumen_job *to_lumen_job(struct drm_sched_job *job)
{
	return container_of(job, struct lumen_job, base);
}

static const char *lumen_fence_driver_name(struct dma_fence *fence)
{
	return "lumen";
}

static const char *lumen_fence_timeline_name(struct dma_fence *fence)
{
	return "lumen-ring";
}

static const struct dma_fence_ops lumen_fence_ops = {
	.get_driver_name = lumen_fence_driver_name,
	.get_timeline_name = lumen_fence_timeline_name,
};

static DEFINE_SPINLOCK(lumen_fence_lock);

/**
 * lumen_job_status() - the errno a finished fence reports.
 * @done: a signalled job fence.
 *
 * Return: 0, -EIO (fault), -ETIMEDOUT (hang), -ENODEV (the device went
 * away), -ECANCELED (not run, or stopped by a reset).
 */
int lumen_job_status(struct dma_fence *done)
{
	int err = dma_fence_get_status(done);

	if (err == 1)
		return 0;
	if (err == -EIO || err == -ETIMEDOUT || err == -ENODEV)
		return err;
	return -ECANCELED;
}

/* debugfs region0_va_next: point slot 0 where this space maps nothing. */
static void lumen_job_hook_region0(struct lumen_job *job)
{
	u64 va = atomic64_xchg(&job->ldev->hooks.region0_va_next, 0);

	if (va)
		job->region_va[0] = va;
}

static int lumen_job_bind(struct lumen_job *job, struct drm_file *file,
			  const struct drm_lumen_submit *args)
{
	struct lumen_file *lfile = file->driver_priv;
	const struct lumen_validation *v = &job->prog->v;
	u32 i;

	for (i = 0; i < args->region_count; i++) {
		void __user *uptr = u64_to_user_ptr(args->regions +
						    (u64)i * args->region_size);
		struct drm_lumen_region r;
		struct drm_gem_object *obj;
		struct lumen_mapping *map;
		u64 size;
		int ret;

		ret = copy_struct_from_user(&r, sizeof(r), uptr,
					    args->region_size);
		if (ret)
			return ret == -E2BIG ? -EINVAL : ret;
		if (!r.handle) {
			if (r.flags || r.offset || r.size)
				return -EINVAL;
			continue;
		}
		obj = drm_gem_object_lookup(file, r.handle);
		if (!obj)
			return -ENOENT;
		ret = lumen_region_check(&r, obj->size, &size);
		if (ret) {
			drm_gem_object_put(obj);
			return ret;
		}
		/* The handle may have been closed since the lookup. */
		map = lumen_bo_find_mapping(to_lumen_bo(obj), lfile->vm);
		drm_gem_object_put(obj);
		if (!map)
			return -ENOENT;
		job->map[i] = map;
		job->region_va[i] = map->node.start + r.offset;
		if (i == 0)
			lumen_job_hook_region0(job);
		job->region_size[i] = size;
		if (size < v->region_size[i])
			return -EOVERFLOW;
	}
	job->region_count = args->region_count;

	for (i = 0; i < LUMEN_MAX_REGIONS; i++)
		if ((v->regions_used & BIT(i)) && !job->map[i])
			return -EINVAL;
	return 0;
}

static int lumen_job_add_in_syncs(struct lumen_job *job, struct drm_file *file,
				  const struct drm_lumen_submit *args)
{
	u32 i;

	for (i = 0; i < args->in_sync_count; i++) {
		void __user *uptr = u64_to_user_ptr(args->in_syncs +
						    (u64)i * args->sync_size);
		struct drm_lumen_sync s;
		int ret;

		ret = copy_struct_from_user(&s, sizeof(s), uptr, args->sync_size);
		if (ret)
			return ret == -E2BIG ? -EINVAL : ret;
		if (s.flags)
			return -EINVAL;
		ret = drm_sched_job_add_syncobj_dependency(&job->base, file,
							   s.handle, s.point);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * struct lumen_out_sync - a syncobj to receive the job's fence.
 * @syncobj: the syncobj (referenced).
 * @chain: node for a timeline point, or NULL for a binary syncobj.
 * @point: the timeline point.
 */
struct lumen_out_sync {
	struct drm_syncobj *syncobj;
	struct dma_fence_chain *chain;
	u64 point;
};

static void lumen_out_syncs_free(struct lumen_out_sync *out, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++) {
		if (out[i].syncobj)
			drm_syncobj_put(out[i].syncobj);
		dma_fence_chain_free(out[i].chain);
	}
	kvfree(out);
}

/* Everything that can fail about out-syncs happens before the job is armed. */
static struct lumen_out_sync *lumen_out_syncs_get(struct drm_file *file,
						  const struct drm_lumen_submit *args)
{
	struct lumen_out_sync *out;
	int ret = 0;
	u32 i;

	out = kvcalloc(args->out_sync_count, sizeof(*out), GFP_KERNEL);
	if (!out)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < args->out_sync_count; i++) {
		void __user *uptr = u64_to_user_ptr(args->out_syncs +
						    (u64)i * args->sync_size);
		struct drm_lumen_sync s;

		ret = copy_struct_from_user(&s, sizeof(s), uptr, args->sync_size);
		if (ret) {
			ret = ret == -E2BIG ? -EINVAL : ret;
			break;
		}
		if (s.flags) {
			ret = -EINVAL;
			break;
		}
		out[i].syncobj = drm_syncobj_find(file, s.handle);
		if (!out[i].syncobj) {
			ret = -ENOENT;
			break;
		}
		out[i].point = s.point;
		if (s.point) {
			out[i].chain = dma_fence_chain_alloc();
			if (!out[i].chain) {
				ret = -ENOMEM;
				break;
			}
		}
	}
	if (ret) {
		lumen_out_syncs_free(out, args->out_sync_count);
		return ERR_PTR(ret);
	}
	return out;
}

static void lumen_out_syncs_signal(struct lumen_out_sync *out, u32 count,
				   struct dma_fence *done)
{
	u32 i;

	for (i = 0; i < count; i++) {
		if (out[i].chain) {
			drm_syncobj_add_point(out[i].syncobj, out[i].chain,
					      done, out[i].point);
			out[i].chain = NULL;
		} else {
			drm_syncobj_replace_fence(out[i].syncobj, done);
		}
	}
}

static void lumen_job_release(struct lumen_job *job)
{
	struct lumen_device *ldev = job->ldev;
	int i;

	if (job->active)
		lumen_vm_idle(job->lfile->vm);
	if (job->powered) {
		pm_runtime_mark_last_busy(ldev->drm.dev);
		pm_runtime_put_autosuspend(ldev->drm.dev);
	}
	for (i = 0; i < LUMEN_MAX_REGIONS; i++)
		if (job->map[i])
			lumen_mapping_put(job->map[i]);
	if (job->prog)
		lumen_program_put(job->prog);
	kfree(job->prealloc);
	dma_fence_put(job->hw_fence);
	atomic_dec(&job->ldev->objects.jobs);
	lumen_file_put(job->lfile);
	kfree(job);
}

static void lumen_history_add(struct lumen_file *lfile, struct lumen_job *job,
			      struct dma_fence *done)
{
	struct lumen_job_record *rec;
	struct dma_fence *old;
	unsigned long flags;

	spin_lock_irqsave(&lfile->history_lock, flags);
	job->id = ++lfile->next_job_id;
	rec = &lfile->history[job->id % DRM_LUMEN_JOB_HISTORY];
	old = rec->done;
	rec->id = job->id;
	rec->done = dma_fence_get(done);
	rec->fault_code = 0;
	rec->fault_op = 0;
	rec->fault_offset = 0;
	spin_unlock_irqrestore(&lfile->history_lock, flags);
	dma_fence_put(old);
}

/**
 * lumen_submit() - queue one job; shared by the ioctl and io_uring paths.
 * @file: the submitting file.
 * @args: the submission, already copied from userspace.
 * @done: out: the job's finished fence (referenced), may be NULL.
 * @job_id: out: the job's id in @file.
 *
 * Return: 0 or a negative errno; nothing is queued on error.
 */
int lumen_submit(struct drm_file *file, const struct drm_lumen_submit *args,
		 struct dma_fence **done, u64 *job_id)
{
	struct lumen_file *lfile = file->driver_priv;
	struct lumen_out_sync *out;
	struct dma_fence *finished;
	struct lumen_job *job;
	int ret;

	ret = lumen_submit_check(args);
	if (ret)
		return ret;
	if (args->priority == DRM_LUMEN_PRIORITY_HIGH &&
	    !capable(CAP_SYS_NICE))
		return -EACCES;
	if (READ_ONCE(lfile->ldev->wedged))
		return -EIO;

	job = kzalloc(sizeof(*job), GFP_KERNEL_ACCOUNT);
	if (!job)
		return -ENOMEM;
	job->ldev = lfile->ldev;
	job->lfile = lfile;
	kref_get(&lfile->ref);
	atomic_inc(&job->ldev->objects.jobs);
	job->priority = args->priority;
	INIT_LIST_HEAD(&job->link);
	job->prealloc = kzalloc(sizeof(*job->prealloc), GFP_KERNEL);
	if (!job->prealloc) {
		ret = -ENOMEM;
		goto err_release;
	}
	/* Here, not in run_job(): resuming may sleep and allocate. */
	ret = pm_runtime_resume_and_get(job->ldev->drm.dev);
	if (ret)
		goto err_release;
	job->powered = true;

	job->prog = lumen_program_get(lfile, args->program);
	if (!job->prog) {
		ret = -ENOENT;
		goto err_release;
	}
	ret = lumen_job_bind(job, file, args);
	if (ret)
		goto err_release;

	out = lumen_out_syncs_get(file, args);
	if (IS_ERR(out)) {
		ret = PTR_ERR(out);
		goto err_release;
	}

	ret = drm_sched_job_init(&job->base, &lfile->entity[args->priority], 1,
				 lfile, file->client_id);
	if (ret)
		goto err_free_out;
	ret = lumen_job_add_in_syncs(job, file, args);
	if (ret)
		goto err_cleanup;

	scoped_guard(mutex, &lfile->submit_lock) {
		drm_sched_job_arm(&job->base);
		finished = dma_fence_get(&job->base.s_fence->finished);
		lumen_history_add(lfile, job, finished);
		trace_lumen_job_submit(job->ldev, lfile, job->id,
				       job->base.s_fence->finished.seqno);
		/* The job may be done and freed as soon as it is pushed. */
		*job_id = job->id;
		drm_sched_entity_push_job(&job->base);
	}
	lumen_out_syncs_signal(out, args->out_sync_count, finished);
	lumen_out_syncs_free(out, args->out_sync_count);

	if (done)
		*done = finished;
	else
		dma_fence_put(finished);
	return 0;

err_cleanup:
	drm_sched_job_cleanup(&job->base);
err_free_out:
	lumen_out_syncs_free(out, args->out_sync_count);
err_release:
	lumen_job_release(job);
	return ret;
}

int lumen_ioctl_submit(struct drm_device *drm, void *data,
		       struct drm_file *file)
{
	struct drm_lumen_submit *args = data;

	return lumen_submit(file, args, NULL, &args->job_id);
}

static void lumen_job_describe(struct lumen_job *job, int ctx)
{
	struct lumen_device *ldev = job->ldev;
	u8 *desc = ldev->ring + job->ring_slot * LUMEN_JOB_DESC_SIZE;
	u32 i;

	memset(desc, 0, LUMEN_JOB_DESC_SIZE);
	put_unaligned_le64(job->prog->map->node.start, desc + LUMEN_JOB_PROG_VA);
	put_unaligned_le32(job->prog->size, desc + LUMEN_JOB_PROG_SIZE);
	put_unaligned_le64(job->seqno, desc + LUMEN_JOB_SEQNO);
	put_unaligned_le64(ldev->status_dma + job->ring_slot * LUMEN_STATUS_REC_SIZE,
			   desc + LUMEN_JOB_STATUS_ADDR);
	desc[LUMEN_JOB_CONTEXT] = ctx;
	desc[LUMEN_JOB_PRIORITY] = job->priority;
	desc[LUMEN_JOB_REGION_COUNT] = job->region_count;
	/* Under hw_lock: this CPU, where the submitter waits (submit_wq). */
	if (ldev->cpu_vector)
		desc[LUMEN_JOB_VECTOR] = ldev->cpu_vector[smp_processor_id()];
	for (i = 0; i < job->region_count; i++) {
		put_unaligned_le64(job->region_va[i], desc + LUMEN_JOB_REGION_VA(i));
		put_unaligned_le64(job->region_size[i],
				   desc + LUMEN_JOB_REGION_SIZE(i));
	}
	memset(ldev->status + job->ring_slot * LUMEN_STATUS_REC_SIZE, 0,
	       LUMEN_STATUS_REC_SIZE);
}

/* One-shot test hooks go to the device with the job they are meant for. */
static void lumen_job_hooks_arm(struct lumen_device *ldev)
{
	if (atomic_xchg(&ldev->hooks.hang_next, 0))
		lumen_write(ldev, LUMEN_REG_DBG_HANG_NEXT, 1);
	if (atomic_xchg(&ldev->hooks.fault_next, 0))
		lumen_write(ldev, LUMEN_REG_DBG_FAULT_NEXT, 1);
}

/* Put @job on the ring at the tail; the caller rings the doorbell. */
static void lumen_job_ring(struct lumen_device *ldev, struct lumen_job *job)
{
	lockdep_assert_held(&ldev->hw_lock);
	job->ring_slot = ldev->ring_tail % LUMEN_RING_ENTRIES;
	lumen_job_describe(job, job->ctx);
	list_add_tail(&job->link, &ldev->running);
	ldev->ring_tail++;
}

static void lumen_job_doorbell(struct lumen_device *ldev)
{
	lockdep_assert_held(&ldev->hw_lock);
	/* Descriptors and status records reach memory before the doorbell. */
	wmb();
	lumen_write(ldev, LUMEN_REG_RING_TAIL, ldev->ring_tail);
}

static struct dma_fence *lumen_job_start(struct lumen_job *job)
{
	struct lumen_device *ldev = job->ldev;
	struct lumen_hw_fence *fence;
	unsigned long flags;
	int ctx;

	/* Queued before the device wedged: it would never complete. */
	if (READ_ONCE(ldev->wedged))
		return ERR_PTR(-ECANCELED);
	/* A job runs once: only jobs never fetched go back on the ring. */
	fence = job->prealloc;
	if (WARN_ON(!fence))
		return ERR_PTR(-EINVAL);
	ctx = lumen_vm_activate(job->lfile->vm);
	if (ctx < 0)
		return ERR_PTR(ctx);
	job->active = true;
	job->ctx = ctx;
	job->prealloc = NULL;
	job->hw_fence = &fence->base;

	spin_lock_irqsave(&ldev->hw_lock, flags);
	job->seqno = ++ldev->last_seqno;
	dma_fence_init(&fence->base, &lumen_fence_ops, &lumen_fence_lock,
		       ldev->fence_context, job->seqno);
	lumen_job_hooks_arm(ldev);
	lumen_job_ring(ldev, job);
	lumen_job_doorbell(ldev);
	spin_unlock_irqrestore(&ldev->hw_lock, flags);

	trace_lumen_job_run(ldev, job->id, job->seqno, ctx);
	return dma_fence_get(&fence->base);
}

static struct dma_fence *lumen_job_run(struct drm_sched_job *sched_job)
{
	struct lumen_job *job = to_lumen_job(sched_job);
	struct dma_fence *fence;
	bool cookie;
	int idx;

	if (unlikely(sched_job->s_fence->finished.error))
		return NULL;
	/* The ring and the registers are gone once the device is unplugged. */
	if (!drm_dev_enter(&job->ldev->drm, &idx))
		return ERR_PTR(-ENODEV);
	cookie = dma_fence_begin_signalling();
	fence = lumen_job_start(job);
	dma_fence_end_signalling(cookie);
	drm_dev_exit(idx);
	return fence;
}

static void lumen_job_record_fault(struct lumen_job *job, const u8 *rec)
{
	struct lumen_file *lfile = job->lfile;
	struct lumen_job_record *r;

	spin_lock(&lfile->history_lock);
	r = &lfile->history[job->id % DRM_LUMEN_JOB_HISTORY];
	if (r->id == job->id) {
		r->fault_code = get_unaligned_le32(rec + LUMEN_STATUS_FAULT);
		r->fault_op = get_unaligned_le32(rec + LUMEN_STATUS_OP);
		r->fault_offset = get_unaligned_le64(rec + LUMEN_STATUS_ADDR);
	}
	spin_unlock(&lfile->history_lock);
}

/**
 * lumen_job_irq_done() - signal every job the device has completed.
 * @ldev: the device.
 *
 * Called from the interrupt handler; the seqno in memory is the truth, so
 * a lost or merged interrupt is caught up by the next one.
 */
void lumen_job_irq_done(struct lumen_device *ldev)
{
	struct lumen_job *job, *tmp;
	unsigned long flags;
	u64 done;

	spin_lock_irqsave(&ldev->hw_lock, flags);
	done = le64_to_cpu(READ_ONCE(*(__le64 *)ldev->completion));
	/* The status records were written before the seqno. */
	rmb();
	list_for_each_entry_safe(job, tmp, &ldev->running, link) {
		const u8 *rec = ldev->status + job->ring_slot * LUMEN_STATUS_REC_SIZE;
		u32 fault;

		if (!lumen_seqno_passed(done, job->seqno))
			break;
		fault = get_unaligned_le32(rec + LUMEN_STATUS_FAULT);
		atomic64_add(get_unaligned_le64(rec + LUMEN_STATUS_BUSY_NS),
			     &job->lfile->busy_ns);
		atomic64_inc(&job->lfile->jobs_done);
		if (fault) {
			lumen_job_record_fault(job, rec);
			trace_lumen_job_fault(ldev, job->id, fault,
					      get_unaligned_le32(rec + LUMEN_STATUS_OP),
					      get_unaligned_le64(rec + LUMEN_STATUS_ADDR));
			dma_fence_set_error(job->hw_fence, -EIO);
		}
		list_del_init(&job->link);
		trace_lumen_job_done(ldev, job->id, job->seqno, fault);
		dma_fence_signal(job->hw_fence);
	}
	spin_unlock_irqrestore(&ldev->hw_lock, flags);
}

/**
 * lumen_job_ring_error() - the device stopped its ring: recover now rather
 * than wait for the timeout.
 * @ldev: the device.
 */
void lumen_job_ring_error(struct lumen_device *ldev)
{
	drm_sched_fault(&ldev->sched);
}

/*
 * After a successful reset: the first job on the device may have run in
 * part and fails; the ones behind it were never fetched and go back on
 * the ring, with their fences, to run once.
 */
static void lumen_job_requeue(struct lumen_device *ldev, struct lumen_job *bad)
{
	struct lumen_job *job, *tmp;
	unsigned long flags;
	LIST_HEAD(queued);
	bool first = true;

	spin_lock_irqsave(&ldev->hw_lock, flags);
	list_splice_init(&ldev->running, &queued);
	list_for_each_entry_safe(job, tmp, &queued, link) {
		list_del_init(&job->link);
		if (first || job == bad) {
			first = false;
			dma_fence_set_error(job->hw_fence, job == bad ?
					    -ETIMEDOUT : -ECANCELED);
			dma_fence_signal(job->hw_fence);
			continue;
		}
		lumen_job_ring(ldev, job);
	}
	if (!list_empty(&ldev->running))
		lumen_job_doorbell(ldev);
	spin_unlock_irqrestore(&ldev->hw_lock, flags);
}

/**
 * lumen_job_abandon() - fail every job on a device that is wedged or gone.
 * @ldev: the device.
 * @bad: the job that timed out, or NULL.
 * @err: the others' error.
 *
 * Their fences signal, as fences must; their memory stays allocated until
 * the device is known to have stopped (lumen_jobs_release_kept()).
 */
void lumen_job_abandon(struct lumen_device *ldev, struct lumen_job *bad,
		       int err)
{
	struct lumen_job *job, *tmp;
	unsigned long flags;
	bool stopped;

	scoped_guard(spinlock_irqsave, &ldev->kept_lock)
		stopped = ldev->stopped;
	spin_lock_irqsave(&ldev->hw_lock, flags);
	list_for_each_entry_safe(job, tmp, &ldev->running, link) {
		list_del_init(&job->link);
		job->kept = !stopped;
		dma_fence_set_error(job->hw_fence, job == bad ? -ETIMEDOUT : err);
		dma_fence_signal(job->hw_fence);
	}
	spin_unlock_irqrestore(&ldev->hw_lock, flags);
}

/*
 * drm_sched_stop() unhooked the device fences of the jobs still pending;
 * hook them again so that drm_sched_start() completes each job with its
 * own fence's outcome, or waits for it when the job is back on the ring.
 */
static void lumen_job_restore_parents(struct lumen_device *ldev)
{
	struct drm_sched_job *s_job;

	/* The scheduler is stopped: nothing else walks its list. */
	list_for_each_entry(s_job, &ldev->sched.pending_list, list) {
		struct lumen_job *job = to_lumen_job(s_job);

		if (!s_job->s_fence->parent && job->hw_fence)
			s_job->s_fence->parent = dma_fence_get(job->hw_fence);
	}
}

static int lumen_job_recover(struct lumen_device *ldev, struct lumen_job *bad)
{
	int ret;

	if (READ_ONCE(ldev->wedged))
		return -EIO;
	drm_warn(&ldev->drm, "job %llu (seqno %llu) timed out, resetting\n",
		 bad->id, bad->seqno);
	ret = lumen_device_reset(ldev, atomic_xchg(&ldev->hooks.fail_reset, 0));
	if (ret) {
		atomic_inc(&ldev->failed_resets);
		WRITE_ONCE(ldev->wedged, true);
		drm_err(&ldev->drm,
			"reset failed (%d): device wedged, new jobs are refused and the memory of its jobs is kept; unbind and bind the driver to recover\n",
			ret);
		return ret;
	}
	lumen_job_requeue(ldev, bad);
	return 0;
}

static enum drm_gpu_sched_stat lumen_job_timedout(struct drm_sched_job *sched_job)
{
	struct lumen_job *bad = to_lumen_job(sched_job);
	struct lumen_device *ldev = bad->ldev;
	int ret = -ENODEV, idx;
	bool cookie;

	cookie = dma_fence_begin_signalling();
	drm_sched_stop(&ldev->sched, sched_job);
	if (drm_dev_enter(&ldev->drm, &idx)) {
		/*
		 * Done, but its interrupt never came: its completion vector
		 * was shut down with the last CPU of its affinity, the message
		 * waits in the pending bits. Late, not hung: no reset.
		 */
		lumen_job_irq_done(ldev);
		if (!bad->hw_fence || !dma_fence_is_signaled(bad->hw_fence))
			ret = lumen_job_recover(ldev, bad);
		else
			ret = 0;
		drm_dev_exit(idx);
	}
	if (ret)
		lumen_job_abandon(ldev, bad, ret == -ENODEV ? -ENODEV : -ECANCELED);
	lumen_job_restore_parents(ldev);
	drm_sched_start(&ldev->sched);
	dma_fence_end_signalling(cookie);
	return ret ? DRM_GPU_SCHED_STAT_ENODEV : DRM_GPU_SCHED_STAT_NOMINAL;
}

/* Keep @job if the device may still use its memory. */
static bool lumen_job_keep(struct lumen_job *job)
{
	struct lumen_device *ldev = job->ldev;
	unsigned long flags;
	bool keep;

	if (!job->kept)
		return false;
	spin_lock_irqsave(&ldev->kept_lock, flags);
	keep = !ldev->stopped;
	if (keep) {
		list_add_tail(&job->link, &ldev->kept);
		ldev->kept_count++;
	}
	spin_unlock_irqrestore(&ldev->kept_lock, flags);
	return keep;
}

static void lumen_job_release_work(struct work_struct *work)
{
	struct lumen_device *ldev = container_of(work, struct lumen_device,
						 release_work);
	struct llist_node *jobs = llist_del_all(&ldev->release_list);
	struct lumen_job *job, *tmp;

	llist_for_each_entry_safe(job, tmp, jobs, release_node)
		if (!lumen_job_keep(job))
			lumen_job_release(job);
}

static void lumen_job_free(struct drm_sched_job *sched_job)
{
	struct lumen_job *job = to_lumen_job(sched_job);
	struct lumen_device *ldev = job->ldev;

	drm_sched_job_cleanup(sched_job);
	/*
	 * Unmapping takes locks that allocate: not on the scheduler's queue.
	 * On this CPU's system_wq, not an unbound one: an unbound worker is
	 * woken on an idle CPU, an IPI to a halted vCPU for every job in a
	 * QEMU guest (two thirds of the IPIs of a decode token, traced).
	 */
	llist_add(&job->release_node, &ldev->release_list);
	queue_work(system_wq, &ldev->release_work);
}

/**
 * lumen_jobs_release_kept() - the device has stopped for good: free the
 * jobs kept for it.
 * @ldev: the device.
 */
void lumen_jobs_release_kept(struct lumen_device *ldev)
{
	struct lumen_job *job, *tmp;
	LIST_HEAD(kept);

	scoped_guard(spinlock_irqsave, &ldev->kept_lock) {
		ldev->stopped = true;
		list_splice_init(&ldev->kept, &kept);
		ldev->kept_count = 0;
	}
	list_for_each_entry_safe(job, tmp, &kept, link) {
		list_del_init(&job->link);
		lumen_job_release(job);
	}
}

/**
 * lumen_jobs_kept() - jobs whose memory is kept for a device that may
 * still use it.
 * @ldev: the device.
 *
 * Return: their number.
 */
u32 lumen_jobs_kept(struct lumen_device *ldev)
{
	unsigned long flags;
	u32 n;

	spin_lock_irqsave(&ldev->kept_lock, flags);
	n = ldev->kept_count;
	spin_unlock_irqrestore(&ldev->kept_lock, flags);
	return n;
}

static const struct drm_sched_backend_ops lumen_sched_ops = {
	.run_job = lumen_job_run,
	.timedout_job = lumen_job_timedout,
	.free_job = lumen_job_free,
};

/**
 * lumen_sched_init() - the scheduler feeding the device's ring.
 * @ldev: the device.
 *
 * Return: 0 or a negative errno.
 */
int lumen_sched_init(struct lumen_device *ldev)
{
	struct drm_sched_init_args args = {
		.ops = &lumen_sched_ops,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		.credit_limit = LUMEN_JOBS_IN_FLIGHT,
		.timeout = msecs_to_jiffies(lumen_job_timeout_ms ?: 1),
		.name = "lumen",
		.dev = ldev->drm.dev,
	};
	int ret;

	BUILD_BUG_ON(LUMEN_JOBS_IN_FLIGHT >= LUMEN_MMU_CONTEXTS);
	BUILD_BUG_ON(LUMEN_JOBS_IN_FLIGHT >= LUMEN_RING_ENTRIES);
	ldev->fence_context = dma_fence_context_alloc(1);
	spin_lock_init(&ldev->kept_lock);
	INIT_LIST_HEAD(&ldev->kept);
	init_llist_head(&ldev->release_list);
	INIT_WORK(&ldev->release_work, lumen_job_release_work);
	/*
	 * drm_sched's own submit_wq is ordered, hence unbound: run_job runs
	 * on whichever CPU the pool picks, often an idle one woken by an IPI
	 * while the submitter goes to sleep on its own. That wake-up was the
	 * largest piece of a token's round trip in the QEMU guest (0.6 to
	 * 1.8 ms, the vCPU coming out of HLT). A per-CPU queue runs the job
	 * right where it was submitted; run_job and free_job may then run
	 * concurrently on two CPUs, which drm_sched allows (panthor gives it
	 * a non-ordered queue too) and which lumen_job_run() and
	 * lumen_job_free() already take locks for. WQ_MEM_RECLAIM: jobs
	 * signal fences that memory reclaim may wait on.
	 */
	ldev->submit_wq = alloc_workqueue("lumen-submit",
					  WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!ldev->submit_wq)
		return -ENOMEM;
	args.submit_wq = ldev->submit_wq;
	ret = drm_sched_init(&ldev->sched, &args);
	if (ret)
		destroy_workqueue(ldev->submit_wq);
	return ret;
}

/**
 * lumen_sched_fini() - stop the scheduler and free what its jobs held.
 * @ldev: the device; every file is closed, so no entity is left, and
 *	every job's device fence has signalled.
 */
void lumen_sched_fini(struct lumen_device *ldev)
{
	struct drm_sched_job *s_job, *tmp;

	drm_sched_fini(&ldev->sched);
	/* 6.12's drm_sched_fini() leaves finished jobs it had not freed yet. */
	list_for_each_entry_safe(s_job, tmp, &ldev->sched.pending_list, list) {
		list_del_init(&s_job->list);
		lumen_job_free(s_job);
	}
	flush_work(&ldev->release_work);
	destroy_workqueue(ldev->submit_wq);
	scoped_guard(spinlock_irqsave, &ldev->kept_lock) {
		if (ldev->kept_count)
			drm_err(&ldev->drm,
				"%u jobs' memory left allocated: the device never confirmed it stopped\n",
				ldev->kept_count);
	}
}

static u32 lumen_job_wait_status(int err)
{
	switch (err) {
	case 0:
		return DRM_LUMEN_JOB_DONE;
	case -EIO:
		return DRM_LUMEN_JOB_FAULT;
	case -ETIMEDOUT:
		return DRM_LUMEN_JOB_TIMEOUT;
	default:
		return DRM_LUMEN_JOB_CANCELED;
	}
}

int lumen_ioctl_job_wait(struct drm_device *drm, void *data,
			 struct drm_file *file)
{
	struct lumen_file *lfile = file->driver_priv;
	struct drm_lumen_job_wait *args = data;
	struct lumen_job_record *rec;
	struct dma_fence *done = NULL;
	unsigned long flags;
	long ret;

	if (args->pad)
		return -EINVAL;

	spin_lock_irqsave(&lfile->history_lock, flags);
	rec = &lfile->history[args->job_id % DRM_LUMEN_JOB_HISTORY];
	if (!args->job_id || args->job_id > lfile->next_job_id)
		ret = -EINVAL;
	else if (rec->id != args->job_id)
		ret = -ENOENT;
	else
		ret = 0;
	if (!ret)
		done = dma_fence_get(rec->done);
	spin_unlock_irqrestore(&lfile->history_lock, flags);
	if (ret)
		return ret;

	ret = dma_fence_wait_timeout(done, true,
				     drm_timeout_abs_to_jiffies(args->timeout_ns));
	if (ret < 0)
		goto out;
	if (!ret && !dma_fence_is_signaled(done)) {
		args->status = DRM_LUMEN_JOB_PENDING;
		ret = -ETIME;
		goto out;
	}
	args->status = lumen_job_wait_status(lumen_job_status(done));
	/*
	 * The record may have been recycled by later jobs during the wait:
	 * then the fault details are unknown (0), never the caller's input.
	 */
	args->fault_code = 0;
	args->fault_op = 0;
	args->fault_offset = 0;
	spin_lock_irqsave(&lfile->history_lock, flags);
	if (rec->id == args->job_id) {
		args->fault_code = rec->fault_code;
		args->fault_op = rec->fault_op;
		args->fault_offset = rec->fault_offset;
	}
	spin_unlock_irqrestore(&lfile->history_lock, flags);
	ret = 0;
out:
	dma_fence_put(done);
	return ret;
}
