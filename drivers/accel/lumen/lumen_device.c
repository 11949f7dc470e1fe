// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * The device itself: identity, the ring and completion memory, reset,
 * power and interrupts. Register semantics: hardware.rst.
 */

#include <linux/cpumask.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/iopoll.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>

#include <drm/drm_print.h>

#include <kunit/visibility.h>

#include "lumen_device.h"
#include "lumen_drv.h"
#include "lumen_job.h"
#include "lumen_vm.h"

#define LUMEN_POLL_US		10
/*
 * A device model on a loaded host answers late, but answers: a reset or a
 * power change that cannot finish in a second is broken, not slow.
 */
#define LUMEN_RESET_TIMEOUT_US	1000000
#define LUMEN_POWER_TIMEOUT_US	1000000

/* Point the device at the ring and completion memory and let it fetch. */
static void lumen_device_hw_init(struct lumen_device *ldev)
{
	*ldev->completion = 0;
	lumen_write64(ldev, LUMEN_REG_RING_BASE, ldev->ring_dma);
	lumen_write(ldev, LUMEN_REG_RING_SIZE, LUMEN_RING_ENTRIES);
	lumen_write64(ldev, LUMEN_REG_COMPLETION_ADDR, ldev->completion_dma);
	lumen_vm_restore(ldev);
	lumen_write(ldev, LUMEN_REG_IRQ_STATUS, LUMEN_IRQ_ALL);
	lumen_write(ldev, LUMEN_REG_IRQ_MASK, LUMEN_IRQ_ALL);
	/* The device cleared its test hooks; the driver remembers the delay. */
	if (ldev->hooks.delay_us)
		lumen_write(ldev, LUMEN_REG_DBG_DELAY_US, ldev->hooks.delay_us);
	lumen_write(ldev, LUMEN_REG_CONTROL, LUMEN_CONTROL_RING_ENABLE);
}

static int lumen_device_power(struct lumen_device *ldev, u32 req, u32 state)
{
	u32 val;

	lumen_write(ldev, LUMEN_REG_POWER_CTRL, req);
	return readl_poll_timeout(ldev->regs + LUMEN_REG_POWER_STATE, val,
				  state == LUMEN_POWER_OFF ? val == state :
				  val != LUMEN_POWER_OFF,
				  LUMEN_POLL_US, LUMEN_POWER_TIMEOUT_US);
}

static int lumen_device_reset_once(struct lumen_device *ldev, bool fail)
{
	u32 status;
	int ret;

	if (fail)
		lumen_write(ldev, LUMEN_REG_DBG_FAIL_RESET, 1);
	lumen_write(ldev, LUMEN_REG_RESET, LUMEN_RESET_GO);
	ret = readl_poll_timeout(ldev->regs + LUMEN_REG_STATUS, status,
				 !(status & LUMEN_STATUS_RESETTING),
				 LUMEN_POLL_US, LUMEN_RESET_TIMEOUT_US);
	if (ret)
		return ret;
	return status & LUMEN_STATUS_RESET_FAILED ? -EIO : 0;
}

/**
 * lumen_device_reset() - reset the device and set it up again.
 * @ldev: the device, its ring drained by the caller.
 * @fail: attempts to make fail through the device's test hook (0 to 2).
 *
 * A failed reset is tried once more, as hardware.rst asks.
 *
 * Return: 0, or a negative errno when the device stays broken.
 */
int lumen_device_reset(struct lumen_device *ldev, unsigned int fail)
{
	int ret;

	guard(mutex)(&ldev->reset_lock);
	atomic_inc(&ldev->resets);
	ret = lumen_device_reset_once(ldev, fail > 0);
	if (ret)
		ret = lumen_device_reset_once(ldev, fail > 1);
	if (ret)
		return ret;
	ldev->ring_tail = 0;
	lumen_device_hw_init(ldev);
	return 0;
}

static int lumen_device_check_id(struct lumen_device *ldev)
{
	u32 id = lumen_read(ldev, LUMEN_REG_ID);

	if (id != LUMEN_ID_MAGIC) {
		drm_err(&ldev->drm, "not a Lumen NPU (id %#x)\n", id);
		return -ENODEV;
	}
	ldev->hw_version = lumen_read(ldev, LUMEN_REG_VERSION);
	ldev->isa_version = lumen_read(ldev, LUMEN_REG_ISA_VERSION);
	ldev->caps = lumen_read(ldev, LUMEN_REG_CAPS);
	ldev->cores = lumen_read(ldev, LUMEN_REG_CORES);
	ldev->dtypes = lumen_read(ldev, LUMEN_REG_DTYPES);
	/* an older device would log the read of a reserved offset */
	if (ldev->caps & LUMEN_CAP_DTYPES_EXT)
		ldev->dtypes_ext = lumen_read64(ldev, LUMEN_REG_DTYPES_EXT);
	else
		ldev->dtypes_ext = 0;

	if (ldev->hw_version >> 16 != LUMEN_HW_VERSION >> 16 ||
	    ldev->isa_version != LUMEN_ISA_VERSION) {
		drm_err(&ldev->drm, "unsupported version %#x, ISA %u\n",
			ldev->hw_version, ldev->isa_version);
		return -ENODEV;
	}
	if (lumen_read(ldev, LUMEN_REG_VA_BITS) < LUMEN_VA_BITS ||
	    lumen_read(ldev, LUMEN_REG_CONTEXTS) < LUMEN_MMU_CONTEXTS ||
	    lumen_read(ldev, LUMEN_REG_RING_MAX) < LUMEN_RING_ENTRIES ||
	    lumen_read(ldev, LUMEN_REG_MAX_REGIONS) < LUMEN_MAX_REGIONS ||
	    !(ldev->caps & LUMEN_CAP_PAGE_4K)) {
		drm_err(&ldev->drm, "device lacks a v1 feature\n");
		return -ENODEV;
	}
	return 0;
}

/**
 * lumen_device_init() - identify the device, allocate its ring, power it.
 * @ldev: the device with @regs mapped.
 *
 * Return: 0 or a negative errno.
 */
int lumen_device_init(struct lumen_device *ldev)
{
	struct device *dev = ldev->drm.dev;
	int ret;

	ret = lumen_device_check_id(ldev);
	if (ret)
		return ret;

	ldev->ring = dmam_alloc_coherent(dev, LUMEN_RING_ENTRIES *
					 LUMEN_JOB_DESC_SIZE, &ldev->ring_dma,
					 GFP_KERNEL);
	ldev->status = dmam_alloc_coherent(dev, LUMEN_RING_ENTRIES *
					   LUMEN_STATUS_REC_SIZE,
					   &ldev->status_dma, GFP_KERNEL);
	ldev->completion = dmam_alloc_coherent(dev, sizeof(u64),
					       &ldev->completion_dma,
					       GFP_KERNEL);
	if (!ldev->ring || !ldev->status || !ldev->completion)
		return -ENOMEM;

	ret = lumen_device_power(ldev, LUMEN_POWER_REQ_ON, LUMEN_POWER_IDLE);
	if (ret)
		return ret;
	return lumen_device_reset(ldev, 0);
}

/**
 * lumen_device_fini() - stop the device fetching and power it down.
 * @ldev: the device.
 *
 * Return: 0 once the device is off, so no job runs on it any more;
 * -ETIMEDOUT while it still computes.
 */
int lumen_device_fini(struct lumen_device *ldev)
{
	lumen_write(ldev, LUMEN_REG_IRQ_MASK, 0);
	lumen_write(ldev, LUMEN_REG_CONTROL, 0);
	return lumen_device_power(ldev, LUMEN_POWER_REQ_OFF, LUMEN_POWER_OFF);
}

static irqreturn_t lumen_irq(int irq, void *data)
{
	struct lumen_device *ldev = data;
	u32 status = lumen_read(ldev, LUMEN_REG_IRQ_STATUS);

	if (!status)
		return IRQ_NONE;
	lumen_write(ldev, LUMEN_REG_IRQ_STATUS, status);
	if (status & (LUMEN_IRQ_JOB_DONE | LUMEN_IRQ_JOB_FAULT))
		lumen_job_irq_done(ldev);
	if (status & LUMEN_IRQ_RING_ERROR)
		lumen_job_ring_error(ldev);
	return IRQ_HANDLED;
}

/*
 * An extra completion vector: it only ever signals JOB_DONE, and the
 * seqno in memory says which jobs are done, so the handler reads no
 * register (a register read is a trip to the device model under QEMU).
 * JOB_DONE stays set in IRQ_STATUS, which MSI-X delivery ignores; the
 * handlers of vectors 0 and 1 clear it with whatever else they find.
 */
static irqreturn_t lumen_irq_job_done(int irq, void *data)
{
	lumen_job_irq_done(data);
	return IRQ_HANDLED;
}

/**
 * lumen_irq_map_cpus() - the completion vector of each CPU.
 * @cpu_vector: out: for each CPU id below nr_cpu_ids, the first extra
 *	completion vector whose affinity holds it, else
 *	%LUMEN_MSIX_COMPLETION.
 * @masks: affinity of vectors %LUMEN_MSIX_JOB_FIRST and up; a NULL entry
 *	is a vector without one.
 * @count: entries in @masks.
 */
void lumen_irq_map_cpus(u8 *cpu_vector, const struct cpumask *const *masks,
			unsigned int count)
{
	unsigned int cpu, i;

	for (cpu = 0; cpu < nr_cpu_ids; cpu++)
		cpu_vector[cpu] = LUMEN_MSIX_COMPLETION;
	for (i = count; i-- > 0;) {
		if (!masks[i])
			continue;
		for_each_cpu(cpu, masks[i])
			cpu_vector[cpu] = LUMEN_MSIX_JOB_FIRST + i;
	}
}
EXPORT_SYMBOL_IF_KUNIT(lumen_irq_map_cpus);

/*
 * One completion vector per CPU, blk-mq style: the completion and error
 * vectors (0 and 1) as they are, the extra ones spread over the CPUs by
 * the IRQ core (managed affinity), and each job asks for the vector of
 * the CPU that puts it on the ring, where its waiter sleeps. Return: the
 * vectors allocated, or a negative errno when the device or the platform
 * cannot do it (then one vector per event class, or one for all).
 */
static int lumen_device_irq_spread(struct lumen_device *ldev)
{
	struct irq_affinity affd = { .pre_vectors = LUMEN_MSIX_JOB_FIRST };
	struct pci_dev *pdev = ldev->pdev;
	const struct cpumask **masks;
	int i, n, max;

	max = pci_msix_vec_count(pdev);
	if (!(ldev->caps & LUMEN_CAP_JOB_VECTOR) ||
	    max <= LUMEN_MSIX_JOB_FIRST)
		return -EOPNOTSUPP;
	n = pci_alloc_irq_vectors_affinity(pdev, LUMEN_MSIX_JOB_FIRST + 1,
					   min(max, LUMEN_MSIX_MAX_VECTORS),
					   PCI_IRQ_MSIX | PCI_IRQ_AFFINITY,
					   &affd);
	if (n < 0)
		return n;

	ldev->cpu_vector = devm_kcalloc(&pdev->dev, nr_cpu_ids,
					sizeof(*ldev->cpu_vector), GFP_KERNEL);
	masks = kcalloc(n - LUMEN_MSIX_JOB_FIRST, sizeof(*masks), GFP_KERNEL);
	if (!ldev->cpu_vector || !masks) {
		kfree(masks);
		pci_free_irq_vectors(pdev);
		ldev->cpu_vector = NULL;
		return -ENOMEM;
	}
	for (i = LUMEN_MSIX_JOB_FIRST; i < n; i++)
		masks[i - LUMEN_MSIX_JOB_FIRST] = pci_irq_get_affinity(pdev, i);
	lumen_irq_map_cpus(ldev->cpu_vector, masks, n - LUMEN_MSIX_JOB_FIRST);
	kfree(masks);
	return n;
}

/**
 * lumen_device_irq_init() - route the interrupts: a completion vector per
 * CPU when the device offers them (%LUMEN_CAP_JOB_VECTOR), else both v1
 * MSI-X vectors, or one MSI/INTx line, to the handler that reads the
 * status register to learn which events happened.
 * @ldev: the device.
 *
 * Return: 0 or a negative errno.
 */
int lumen_device_irq_init(struct lumen_device *ldev)
{
	struct pci_dev *pdev = ldev->pdev;
	struct device *dev = &pdev->dev;
	unsigned long flags;
	int i, n, ret;

	n = lumen_device_irq_spread(ldev);
	if (n < 0)
		n = pci_alloc_irq_vectors(pdev, 1, LUMEN_MSIX_VECTORS,
					  PCI_IRQ_ALL_TYPES);
	if (n < 0)
		return n;
	flags = pdev->msix_enabled || pdev->msi_enabled ? 0 : IRQF_SHARED;
	for (i = 0; i < n; i++) {
		const char *name = "lumen";

		if (i >= LUMEN_MSIX_JOB_FIRST) {
			name = devm_kasprintf(dev, GFP_KERNEL, "lumen-done%d", i);
			if (!name)
				return -ENOMEM;
		}
		ret = devm_request_irq(dev, pci_irq_vector(pdev, i),
				       i >= LUMEN_MSIX_JOB_FIRST ?
				       lumen_irq_job_done : lumen_irq,
				       flags, name, ldev);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A 64-bit counter read as two halves: the high half is read again, and
 * the pair read anew, in case the low half wrapped in between.
 */
static u64 lumen_read_counter(struct lumen_device *ldev, u32 reg)
{
	u32 hi, lo, prev;

	hi = lumen_read(ldev, reg + 4);
	do {
		prev = hi;
		lo = lumen_read(ldev, reg);
		hi = lumen_read(ldev, reg + 4);
	} while (hi != prev);
	return (u64)hi << 32 | lo;
}

/**
 * lumen_device_counters() - read the device's running totals.
 * @ldev: the device, in any power state: the counters always answer, so
 *	reading them does not wake it.
 * @c: out: the totals.
 */
void lumen_device_counters(struct lumen_device *ldev,
			   struct drm_lumen_counters *c)
{
	c->busy_ns = lumen_read_counter(ldev, LUMEN_REG_CNT_BUSY_NS);
	c->energy_nj = lumen_read_counter(ldev, LUMEN_REG_CNT_ENERGY_NJ);
	c->bytes_read = lumen_read_counter(ldev, LUMEN_REG_CNT_BYTES_READ);
	c->bytes_written = lumen_read_counter(ldev, LUMEN_REG_CNT_BYTES_WRITTEN);
}

/**
 * lumen_runtime_suspend() - power the cores down while idle.
 * @dev: the PCI device.
 *
 * Return: 0 or a negative errno.
 */
int lumen_runtime_suspend(struct device *dev)
{
	struct lumen_device *ldev = dev_get_drvdata(dev);
	int ret;

	guard(mutex)(&ldev->reset_lock);
	ret = lumen_device_power(ldev, LUMEN_POWER_REQ_OFF, LUMEN_POWER_OFF);
	/*
	 * Still on: translations invalidated while the PM core counted it as
	 * suspending were skipped (lumen_vm_flush()); drop them all now.
	 */
	if (ret)
		lumen_vm_restore(ldev);
	/*
	 * Cores still finishing a job are busy, not broken: -EBUSY lets the
	 * PM core try again later, where any other error would disable
	 * runtime PM, and with it every job, until the driver is rebound.
	 */
	return ret == -ETIMEDOUT ? -EBUSY : ret;
}

/**
 * lumen_runtime_resume() - power up; the device lost its state, set it up.
 * @dev: the PCI device.
 *
 * Return: 0 or a negative errno.
 */
int lumen_runtime_resume(struct device *dev)
{
	struct lumen_device *ldev = dev_get_drvdata(dev);
	int ret;

	scoped_guard(mutex, &ldev->reset_lock) {
		ret = lumen_device_power(ldev, LUMEN_POWER_REQ_ON,
					 LUMEN_POWER_IDLE);
		if (ret)
			return ret;
	}
	return lumen_device_reset(ldev, 0);
}
