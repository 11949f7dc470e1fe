/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#ifndef __LUMEN_DRV_H__
#define __LUMEN_DRV_H__

#include <linux/io.h>
#include <linux/kref.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include <drm/drm_device.h>
#include <drm/drm_file.h>
#include <drm/gpu_scheduler.h>

#include <drm/lumen_accel.h>
#include <drm/lumen_isa.h>

#include "lumen_regs.h"

struct lumen_vm;

/**
 * struct lumen_objects - live driver objects, shown by debugfs ``objects``
 * so tests can check that a failed call leaves nothing behind and that a
 * closed file frees everything.
 * @files: open files' state.
 * @vms: NPU address spaces.
 * @bos: buffer objects (programs' own included).
 * @mappings: buffer mappings in address spaces.
 * @programs: validated programs.
 * @jobs: jobs not yet freed.
 */
struct lumen_objects {
	atomic_t files;
	atomic_t vms;
	atomic_t bos;
	atomic_t mappings;
	atomic_t programs;
	atomic_t jobs;
};

/**
 * struct lumen_hooks - the device's test hooks as debugfs armed them.
 * @delay_us: %LUMEN_REG_DBG_DELAY_US; written again after every reset and
 *	power-up, which clear it in the device.
 * @hang_next: written to the device with the next job run.
 * @fault_next: written to the device with the next job run.
 * @fail_reset: recovery reset attempts still to be made to fail: 1 fails
 *	the first attempt (the retry succeeds), 2 both (the device wedges).
 * @region0_va_next: when not 0, the next job submitted gets this NPU
 *	address for region slot 0 instead of its buffer's, to show that an
 *	address outside the job's own space faults in the MMU.
 *
 * The driver holds them because the device forgets its hooks when it
 * resets or powers down, which autosuspend may do between the write to
 * debugfs and the job the hook is meant for.
 */
struct lumen_hooks {
	u32 delay_us;
	atomic_t hang_next;
	atomic_t fault_next;
	atomic_t fail_reset;
	atomic64_t region0_va_next;
};

/* Jobs the device may hold at once; never more than the MMU has contexts. */
#define LUMEN_JOBS_IN_FLIGHT	8
#define LUMEN_RING_ENTRIES	16
#define LUMEN_AUTOSUSPEND_MS	50
#define LUMEN_MAX_PROGRAM_SIZE	(sizeof(struct lumen_prog_header) + \
				 LUMEN_MAX_OPS * sizeof(struct lumen_op))

/**
 * struct lumen_device - one Lumen NPU.
 * @drm: the DRM device.
 * @pdev: its PCI function.
 * @regs: BAR0.
 * @caps: LUMEN_REG_CAPS.
 * @hw_version: LUMEN_REG_VERSION.
 * @isa_version: LUMEN_REG_ISA_VERSION.
 * @cores: LUMEN_REG_CORES.
 * @dtypes: LUMEN_REG_DTYPES.
 * @dtypes_ext: LUMEN_REG_DTYPES_EXT, 0 without %LUMEN_CAP_DTYPES_EXT.
 * @ring: the command ring the device fetches job descriptors from.
 * @ring_dma: its bus address.
 * @status: one status record per ring entry, written by the device.
 * @status_dma: its bus address.
 * @completion: the last completed seqno, written by the device.
 * @completion_dma: its bus address.
 * @cpu_vector: per CPU id, the MSI-X vector a job put on the ring there
 *	asks the device to complete on (one whose affinity holds that CPU),
 *	or NULL when the device has one completion vector.
 * @ring_tail: entries written since the last reset (free-running).
 * @hw_lock: protects the ring, @running and @last_seqno.
 * @last_seqno: seqno given to the last job written to the ring.
 * @running: jobs on the device, in seqno order.
 * @fence_context: dma-fence context of the device fences.
 * @sched: the scheduler feeding the ring.
 * @submit_wq: the scheduler's run_job and free_job work, per CPU, so that
 *	a job is put on the ring by the CPU that submitted it rather than
 *	after an IPI woke an idle one (see lumen_sched_init()).
 * @ctx_lock: protects @ctx_owner.
 * @ctx_owner: the address space each MMU context slot holds, or NULL.
 * @reset_lock: serialises resets with power transitions.
 * @resets: resets done since probe.
 * @failed_resets: recoveries whose reset failed.
 * @wedged: a recovery reset failed; no job runs again until the driver is
 *	bound anew (DRM_LUMEN_HEALTH_WEDGED).
 * @kept_lock: protects @kept and @stopped.
 * @kept: freed jobs whose memory the device may still be writing, held
 *	until the device is known to have stopped.
 * @kept_count: jobs on @kept.
 * @stopped: the device has been powered off for good (remove); kept jobs
 *	are released from then on.
 * @release_list: freed jobs waiting for @release_work.
 * @release_work: drops what freed jobs hold, outside the scheduler's
 *	fence-signalling path.
 * @live_lock: protects @live_vms and @live_bos.
 * @live_vms: every address space, for unplug to give back their page
 *	tables' DMA memory while files still hold them.
 * @live_bos: every buffer, likewise for their DMA mappings.
 * @objects: live objects, for debugfs.
 * @hooks: armed test hooks.
 */
struct lumen_device {
	struct drm_device drm;
	struct pci_dev *pdev;
	void __iomem *regs;
	u32 caps;
	u32 hw_version;
	u32 isa_version;
	u32 cores;
	u32 dtypes;
	u64 dtypes_ext;

	void *ring;
	dma_addr_t ring_dma;
	void *status;
	dma_addr_t status_dma;
	u64 *completion;
	dma_addr_t completion_dma;
	u8 *cpu_vector;
	u32 ring_tail;

	spinlock_t hw_lock; /* ring, running, last_seqno */
	u64 last_seqno;
	struct list_head running;
	u64 fence_context;

	struct drm_gpu_scheduler sched;
	struct workqueue_struct *submit_wq;

	struct mutex ctx_lock; /* ctx_owner, lumen_vm.ctx and .active */
	struct lumen_vm *ctx_owner[LUMEN_MMU_CONTEXTS];

	struct mutex reset_lock; /* resets against power changes */
	atomic_t resets;
	atomic_t failed_resets;
	bool wedged;

	spinlock_t kept_lock; /* kept, kept_count, stopped */
	struct list_head kept;
	u32 kept_count;
	bool stopped;
	struct llist_head release_list;
	struct work_struct release_work;

	struct mutex live_lock; /* live_vms, live_bos */
	struct list_head live_vms;
	struct list_head live_bos;

	struct lumen_objects objects;
	struct lumen_hooks hooks;
};

/**
 * struct lumen_job_record - what %DRM_LUMEN_JOB_WAIT can tell of a job.
 * @id: job id in its file, 0 for an empty record.
 * @done: the job's finished fence.
 * @fault_code: &enum lumen_fault_code.
 * @fault_op: op index of the fault.
 * @fault_offset: fault detail.
 */
struct lumen_job_record {
	u64 id;
	struct dma_fence *done;
	u32 fault_code;
	u32 fault_op;
	u64 fault_offset;
};

/**
 * struct lumen_file - what one open file of the device owns.
 * @ref: jobs keep the file's state alive past close.
 * @ldev: the device.
 * @vm: the file's NPU address space.
 * @entity: a scheduler entity per &enum drm_lumen_priority.
 * @programs: program handles.
 * @submit_lock: keeps arming and pushing of jobs in one order.
 * @history_lock: protects @history and @next_job_id.
 * @next_job_id: id of the next job.
 * @history: the last %DRM_LUMEN_JOB_HISTORY jobs, by id modulo its size.
 * @busy_ns: device time of this file's finished jobs (fdinfo).
 * @jobs_done: jobs of this file finished (fdinfo).
 */
struct lumen_file {
	struct kref ref;
	struct lumen_device *ldev;
	struct lumen_vm *vm;
	struct drm_sched_entity entity[3];
	struct xarray programs;
	struct mutex submit_lock; /* job arm + push order */
	spinlock_t history_lock; /* history, next_job_id */
	u64 next_job_id;
	struct lumen_job_record history[DRM_LUMEN_JOB_HISTORY];
	atomic64_t busy_ns;
	atomic64_t jobs_done;
};

static inline struct lumen_device *to_lumen_device(struct drm_device *drm)
{
	return container_of(drm, struct lumen_device, drm);
}

static inline u32 lumen_read(struct lumen_device *ldev, u32 reg)
{
	return readl(ldev->regs + reg);
}

static inline void lumen_write(struct lumen_device *ldev, u32 reg, u32 val)
{
	writel(val, ldev->regs + reg);
}

static inline u64 lumen_read64(struct lumen_device *ldev, u32 reg)
{
	u32 lo = readl(ldev->regs + reg);

	return ((u64)readl(ldev->regs + reg + 4) << 32) | lo;
}

static inline void lumen_write64(struct lumen_device *ldev, u32 reg, u64 val)
{
	writel(lower_32_bits(val), ldev->regs + reg);
	writel(upper_32_bits(val), ldev->regs + reg + 4);
}

void lumen_file_put(struct lumen_file *lfile);

#if IS_ENABLED(CONFIG_KUNIT)
int lumen_query_copy(struct drm_lumen_dev_query *args, const void *answer,
		     u32 ksize);
#endif

#endif /* __LUMEN_DRV_H__ */
