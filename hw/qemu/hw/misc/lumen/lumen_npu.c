/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lumen NPU v1: the PCI function. Registers in BAR0, MSI-X in BAR2, the
 * command ring processed by a worker thread (lumen_npu_worker.c) through
 * the NPU MMU (lumen_npu_mmu.c), ops computed by the Lumen executor
 * (export/exec/, a copy of the Lumen repository's hw/exec/).
 *
 * Bad guest accesses (reserved offsets, wrong sizes, writes to read-only
 * registers, invalid values) are logged with LOG_GUEST_ERROR and ignored;
 * every access is traced (lumen_npu_mmio_read/write).
 *
 * Specification: Documentation/accel/lumen/hardware.rst.
 */
#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include "qemu/cutils.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/boards.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"

#include "hw/misc/lumen_npu.h"
#include "trace.h"

#define LUMEN_DEFAULT_CORES 2
#define LUMEN_MAX_CORES     64
/*
 * MSI-X vectors by default: completion, error and eight more completion
 * vectors, one per CPU of a guest of up to eight (the driver spreads them
 * over its CPUs and gives each job the vector of the CPU that waits).
 */
#define LUMEN_DEFAULT_MSIX_VECTORS  10

/*
 * Default cost limit of a job: 2^42 units of work (bytes moved + flops),
 * about 4.4 TFLOP: a 1B-parameter model's prefill of 2048 tokens, or
 * minutes of compute on a host core. Legitimate decode jobs are below it
 * by orders of magnitude; what it stops is a job costing hours.
 */
#define LUMEN_DEFAULT_JOB_COST  (1ULL << 42)
/* Default scratch per op: ATTENTION at a 64 Ki position on 64 cores fits. */
#define LUMEN_DEFAULT_SCRATCH   (256 * MiB)
/*
 * Share of vm.max_map_count the window cache may use (half: 64 MiB of
 * scattered 4 KiB pages stay zero-copy); QEMU itself needs the rest.
 */
#define LUMEN_MAP_COUNT_SHARE   2
#define LUMEN_MAP_COUNT_DEFAULT 65530

/*
 * Ask the executor to stop the job it is computing (a reset or quit was
 * just requested); with the lock held. Only while it computes: a request
 * made outside a run would cancel the next one.
 */
static void cancel_job(LumenNpuState *s)
{
    if (s->computing) {
        trace_lumen_npu_job_cancel();
        lumen_exec_cancel(s->exec);
    }
}
/*
 * Mark @irq pending, for the worker to signal (lumen_npu_deliver_irq())
 * once it has dropped the lock; with the lock held, on the worker.
 */
void lumen_npu_raise(LumenNpuState *s, uint32_t irq)
{
    s->irq_status |= irq;
    s->irq_notify |= irq;
    trace_lumen_npu_irq_raise(irq, s->irq_status);
}

/*
 * A job completed: JOB_DONE on the job's completion @vector, plus @more
 * events (JOB_FAULT); with the lock held.
 */
void lumen_npu_raise_done(LumenNpuState *s, unsigned vector, uint32_t more)
{
    s->done_vectors |= BIT_ULL(vector);
    lumen_npu_raise(s, LUMEN_IRQ_JOB_DONE | more);
}

static unsigned irq_vector(uint32_t irq)
{
    return irq == LUMEN_IRQ_JOB_DONE ? LUMEN_MSIX_COMPLETION
                                     : LUMEN_MSIX_ERROR;
}

/*
 * Under the BQL: one MSI-X message per vector with new unmasked events, or
 * the INTx level when MSI-X is off. JOB_DONE goes to the completion
 * vectors of the jobs that completed (@done_vectors), or to
 * LUMEN_MSIX_COMPLETION when that is not known (an unmasked event).
 */
static void lumen_npu_update_irq(LumenNpuState *s, uint32_t events,
                                 uint64_t done_vectors)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint64_t vectors = 0;
    uint32_t level;
    int bit;

    qemu_mutex_lock(&s->lock);
    level = s->irq_status & s->irq_mask;
    /*
     * Only events still pending: the worker delivers after dropping its
     * lock and waiting for the BQL, and the guest may have cleared one in
     * IRQ_STATUS (and unmasked the rest) meanwhile; signalling it then
     * would be an interrupt for an event the guest already acknowledged
     * (seen as a stray RESET_DONE on the error vector after a reset).
     */
    events &= s->irq_mask & s->irq_status;
    qemu_mutex_unlock(&s->lock);

    if (msix_enabled(pdev)) {
        for (bit = 0; bit < 32; bit++) {
            if (events & BIT(bit)) {
                vectors |= BIT_ULL(irq_vector(BIT(bit)));
            }
        }
        if ((events & LUMEN_IRQ_JOB_DONE) && done_vectors) {
            vectors &= ~BIT_ULL(LUMEN_MSIX_COMPLETION);
            vectors |= done_vectors;
        }
        for (bit = 0; bit < s->msix_vectors; bit++) {
            if (vectors & BIT_ULL(bit)) {
                trace_lumen_npu_irq_msix(bit);
                msix_notify(pdev, bit);
            }
        }
        pci_set_irq(pdev, 0);
    } else {
        trace_lumen_npu_irq_intx(level != 0);
        pci_set_irq(pdev, level != 0);
    }
}

/*
 * On the worker, without the lock: signal the events raised since the
 * last call. msix_notify() and the interrupt controllers want the BQL, so
 * the worker takes it here, instead of waking the main loop to do it (one
 * more host thread hand-off per job). lumen_npu_exit(), under the BQL,
 * waits for the worker with qemu_cond_wait_iothread(), which lets a
 * worker waiting here through; events raised once quit is set are
 * dropped, the device is going away.
 */
void lumen_npu_deliver_irq(LumenNpuState *s)
{
    uint64_t done_vectors;
    uint32_t events;

    qemu_mutex_lock_iothread();
    qemu_mutex_lock(&s->lock);
    events = s->quit ? 0 : s->irq_notify;
    done_vectors = s->done_vectors;
    s->irq_notify = 0;
    s->done_vectors = 0;
    qemu_mutex_unlock(&s->lock);
    if (events) {
        lumen_npu_update_irq(s, events, done_vectors);
    }
    qemu_mutex_unlock_iothread();
}

/* On the worker, its last act: lumen_npu_exit() may join it now. */
void lumen_npu_worker_exited(LumenNpuState *s)
{
    qemu_mutex_lock_iothread();
    s->worker_exited = true;
    qemu_cond_broadcast(&s->exit_cond);
    qemu_mutex_unlock_iothread();
}

static bool counter_index(hwaddr reg, unsigned *i)
{
    *i = (reg - LUMEN_REG_CNT_BUSY_NS) / 8;
    return reg >= LUMEN_REG_CNT_BUSY_NS && *i < LUMEN_CNT_COUNT;
}

/* Registers that answer while the device is powered off. */
static bool always_on(hwaddr reg)
{
    unsigned i;

    return reg < LUMEN_REG_CONTROL || reg == LUMEN_REG_DTYPES_EXT ||
           reg == LUMEN_REG_POWER_CTRL ||
           reg == LUMEN_REG_POWER_STATE || counter_index(reg, &i);
}

/* The value of the register containing @reg (64-bit ones at 8-byte slots). */
static uint64_t reg_read(LumenNpuState *s, hwaddr reg)
{
    unsigned i;

    if (s->power_state == LUMEN_POWER_OFF && !always_on(reg)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: read of register 0x%03" HWADDR_PRIx
                      " while powered off, returning 0\n", reg);
        return 0;
    }
    if (counter_index(reg, &i)) {
        return s->counters[i];
    }
    if (reg >= LUMEN_REG_CTX_ROOT(0) &&
        reg < LUMEN_REG_CTX_ROOT(LUMEN_MMU_CONTEXTS)) {
        return s->ctx_root[(reg - LUMEN_REG_CTX_ROOT(0)) / 8];
    }

    switch (reg) {
    case LUMEN_REG_ID:
        return LUMEN_ID_MAGIC;
    case LUMEN_REG_VERSION:
        return LUMEN_HW_VERSION;
    case LUMEN_REG_ISA_VERSION:
        return LUMEN_ISA_VERSION;
    case LUMEN_REG_CAPS:
        return LUMEN_CAP_PAGE_4K | LUMEN_CAP_PAGE_2M | LUMEN_CAP_MSIX |
               LUMEN_CAP_DEBUG | LUMEN_CAP_RESET_STOPS_JOB | LUMEN_CAP_LIMITS |
               LUMEN_CAP_JOB_VECTOR | LUMEN_CAP_DTYPES_EXT;
    case LUMEN_REG_CORES:
        return s->cores;
    case LUMEN_REG_MAX_REGIONS:
        return LUMEN_MAX_REGIONS;
    case LUMEN_REG_DTYPES:
        return LUMEN_DTYPES_IMPLEMENTED;
    case LUMEN_REG_DTYPES_EXT:
        return LUMEN_DTYPES_EXT_IMPLEMENTED;
    case LUMEN_REG_CONTEXTS:
        return LUMEN_MMU_CONTEXTS;
    case LUMEN_REG_RING_MAX:
        return LUMEN_RING_MAX_ENTRIES;
    case LUMEN_REG_VA_BITS:
        return LUMEN_VA_BITS;
    case LUMEN_REG_JOB_COST_LIMIT:
        return s->job_cost_limit;
    case LUMEN_REG_SCRATCH_LIMIT:
        return s->scratch_limit;
    case LUMEN_REG_BOUNCE_LIMIT:
        return s->bounce_limit;
    case LUMEN_REG_CONTROL:
        return s->control;
    case LUMEN_REG_STATUS:
        return s->status;
    case LUMEN_REG_POWER_CTRL:
        return s->power_state != LUMEN_POWER_OFF && !s->power_off_req;
    case LUMEN_REG_POWER_STATE:
        return s->power_state;
    case LUMEN_REG_IRQ_STATUS:
        return s->irq_status;
    case LUMEN_REG_IRQ_MASK:
        return s->irq_mask;
    case LUMEN_REG_RING_BASE:
        return s->ring_base;
    case LUMEN_REG_RING_SIZE:
        return s->ring_size;
    case LUMEN_REG_RING_HEAD:
        return s->ring_head;
    case LUMEN_REG_RING_TAIL:
        return s->ring_tail;
    case LUMEN_REG_COMPLETION_ADDR:
        return s->completion_addr;
    case LUMEN_REG_LAST_SEQNO:
        return s->last_seqno;
    case LUMEN_REG_FAULT_CODE:
        return s->fault_code;
    case LUMEN_REG_FAULT_OP:
        return s->fault_op;
    case LUMEN_REG_FAULT_REGION:
        return s->fault_region;
    case LUMEN_REG_FAULT_DETAIL:
        return s->fault_detail;
    case LUMEN_REG_FAULT_ADDR:
        return s->fault_addr;
    case LUMEN_REG_FAULT_SEQNO:
        return s->fault_seqno;
    case LUMEN_REG_FAULT_CONTEXT:
        return s->fault_context;
    case LUMEN_REG_DBG_HANG_NEXT:
        return s->hooks.hang_next_job;
    case LUMEN_REG_DBG_FAULT_NEXT:
        return s->hooks.fault_next_job;
    case LUMEN_REG_DBG_DELAY_US:
        return s->hooks.delay_us;
    case LUMEN_REG_DBG_FAIL_RESET:
        return s->hooks.fail_next_reset;
    case LUMEN_REG_RESET:
    case LUMEN_REG_MMU_INVALIDATE:
        return 0;       /* write-only, read 0 */
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: read of reserved offset 0x%03" HWADDR_PRIx
                      ", returning 0\n", reg);
        return 0;
    }
}

static bool is_64bit(hwaddr reg)
{
    unsigned i;

    switch (reg) {
    case LUMEN_REG_JOB_COST_LIMIT:
    case LUMEN_REG_SCRATCH_LIMIT:
    case LUMEN_REG_BOUNCE_LIMIT:
    case LUMEN_REG_RING_BASE:
    case LUMEN_REG_COMPLETION_ADDR:
    case LUMEN_REG_LAST_SEQNO:
    case LUMEN_REG_FAULT_ADDR:
    case LUMEN_REG_FAULT_SEQNO:
    case LUMEN_REG_DTYPES_EXT:
        return true;
    }
    if (reg >= LUMEN_REG_CTX_ROOT(0) &&
        reg < LUMEN_REG_CTX_ROOT(LUMEN_MMU_CONTEXTS)) {
        return true;
    }
    return counter_index(reg, &i);
}

/* Registers only the device changes. */
static bool is_read_only(hwaddr reg)
{
    unsigned i;

    switch (reg) {
    case LUMEN_REG_ID ... LUMEN_REG_VA_BITS:
    case LUMEN_REG_STATUS:
    case LUMEN_REG_POWER_STATE:
    case LUMEN_REG_RING_HEAD:
    case LUMEN_REG_LAST_SEQNO:
    case LUMEN_REG_FAULT_CODE ... LUMEN_REG_FAULT_CONTEXT:
    case LUMEN_REG_DTYPES_EXT:
        return true;
    }
    return counter_index(reg, &i);
}

static uint64_t lumen_npu_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    LumenNpuState *s = opaque;
    hwaddr reg = addr & ~7ULL;
    uint64_t v;

    if (!is_64bit(reg)) {
        if (size != 4) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: %u-byte read of 32-bit register 0x%03"
                          HWADDR_PRIx ", returning 0\n", size, addr);
            trace_lumen_npu_mmio_read(addr, size, 0);
            return 0;
        }
        reg = addr;
    }
    qemu_mutex_lock(&s->lock);
    v = reg_read(s, reg);
    qemu_mutex_unlock(&s->lock);
    if (size == 4 && reg != addr) {
        v >>= 32;
    }
    v = size == 4 ? (uint32_t)v : v;
    trace_lumen_npu_mmio_read(addr, size, v);
    return v;
}

/* Merge a 32- or 64-bit write at @addr into the 64-bit register @old. */
static uint64_t merge64(uint64_t old, hwaddr addr, uint64_t val,
                        unsigned size)
{
    if (size == 8) {
        return val;
    }
    return deposit64(old, (addr & 4) * 8, 32, val);
}

static void kick_worker(LumenNpuState *s)
{
    qemu_cond_signal(&s->cond);
}

/* Log a write of @val to @reg that sets bits outside @valid. */
static void check_bits(hwaddr reg, uint64_t val, uint64_t valid)
{
    if (val & ~valid) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: register 0x%03" HWADDR_PRIx " written with "
                      "0x%" PRIx64 ": reserved bits 0x%" PRIx64 " ignored\n",
                      reg, val, val & ~valid);
    }
}

/* With the lock held; returns the interrupt events to deliver now. */
static uint32_t reg_write(LumenNpuState *s, hwaddr addr, uint64_t val,
                          unsigned size)
{
    hwaddr reg = addr & ~7ULL;

    if (reg >= LUMEN_REG_CTX_ROOT(0) &&
        reg < LUMEN_REG_CTX_ROOT(LUMEN_MMU_CONTEXTS)) {
        unsigned ctx = (reg - LUMEN_REG_CTX_ROOT(0)) / 8;

        s->ctx_root[ctx] = merge64(s->ctx_root[ctx], addr, val, size);
        if (!(addr & 4)) {      /* the low half: flags and alignment */
            check_bits(reg, val & 0xfff, LUMEN_CTX_ROOT_VALID);
        }
        return 0;
    }
    switch (reg) {
    case LUMEN_REG_RING_BASE:
        s->ring_base = merge64(s->ring_base, addr, val, size);
        return 0;
    case LUMEN_REG_COMPLETION_ADDR:
        s->completion_addr = merge64(s->completion_addr, addr, val, size);
        if (!(addr & 4) && (val & 7)) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: COMPLETION_ADDR 0x%" PRIx64
                          " is not 8-byte aligned\n", s->completion_addr);
        }
        return 0;
    }
    if (is_64bit(reg)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: write of 0x%" PRIx64 " to read-only 64-bit "
                      "register 0x%03" HWADDR_PRIx " ignored\n", val, reg);
        return 0;
    }
    if (size != 4) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: %u-byte write to 32-bit register 0x%03"
                      HWADDR_PRIx " ignored\n", size, addr);
        return 0;
    }

    switch (addr) {
    case LUMEN_REG_CONTROL:
        check_bits(addr, val, LUMEN_CONTROL_RING_ENABLE);
        s->control = val & LUMEN_CONTROL_RING_ENABLE;
        trace_lumen_npu_doorbell(s->ring_head, s->ring_tail, s->control);
        kick_worker(s);
        break;
    case LUMEN_REG_RESET:
        if (val != LUMEN_RESET_GO) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: RESET written with 0x%" PRIx64
                          ", not RESET_GO: ignored\n", val);
            break;
        }
        trace_lumen_npu_reset_request("register", s->status);
        /* RESET_DONE follows once the worker is back from the job. */
        s->reset_req = true;
        s->status |= LUMEN_STATUS_RESETTING;
        cancel_job(s);
        kick_worker(s);
        break;
    case LUMEN_REG_POWER_CTRL:
        trace_lumen_npu_power_request(val, s->power_state);
        if (val == LUMEN_POWER_REQ_OFF) {
            s->power_off_req = s->power_state != LUMEN_POWER_OFF;
            kick_worker(s);
        } else if (val == LUMEN_POWER_REQ_ON) {
            s->power_off_req = false;
            if (s->power_state == LUMEN_POWER_OFF) {
                s->power_state = LUMEN_POWER_IDLE;
            }
            kick_worker(s);
        } else {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: POWER_CTRL written with 0x%" PRIx64
                          ", neither REQ_OFF nor REQ_ON: ignored\n", val);
        }
        break;
    case LUMEN_REG_IRQ_STATUS:
        check_bits(addr, val, LUMEN_IRQ_ALL);
        s->irq_status &= ~val;
        break;
    case LUMEN_REG_IRQ_MASK: {
        uint32_t newly = val & ~s->irq_mask & s->irq_status;

        check_bits(addr, val, LUMEN_IRQ_ALL);
        s->irq_mask = val & LUMEN_IRQ_ALL;
        return newly;   /* unmasking a pending event signals it */
    }
    case LUMEN_REG_RING_SIZE:
        if (val < 2 || val > LUMEN_RING_MAX_ENTRIES || (val & (val - 1))) {
            /* Taken as written; the ring stops with RING_ERROR if used. */
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: RING_SIZE %" PRIu64 " is not a power "
                          "of two in 2..%u\n", val, LUMEN_RING_MAX_ENTRIES);
        }
        s->ring_size = val;
        break;
    case LUMEN_REG_RING_TAIL:
        s->ring_tail = val;
        trace_lumen_npu_doorbell(s->ring_head, s->ring_tail, s->control);
        kick_worker(s);
        break;
    case LUMEN_REG_MMU_INVALIDATE:
        trace_lumen_npu_invalidate(val);
        if (val & LUMEN_INVALIDATE_ALL) {
            int i;

            check_bits(addr, val, LUMEN_INVALIDATE_ALL);
            for (i = 0; i < LUMEN_MMU_CONTEXTS; i++) {
                s->ctx_gen[i]++;
            }
        } else if ((val & 0xff) < LUMEN_MMU_CONTEXTS) {
            check_bits(addr, val, 0xff);
            s->ctx_gen[val & 0xff]++;
        } else {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: MMU_INVALIDATE written with 0x%" PRIx64
                          ": no such context, ignored\n", val);
        }
        break;
    case LUMEN_REG_DBG_HANG_NEXT:
        check_bits(addr, val, 1);
        s->hooks.hang_next_job = val & 1;
        break;
    case LUMEN_REG_DBG_FAULT_NEXT:
        check_bits(addr, val, 1);
        s->hooks.fault_next_job = val & 1;
        break;
    case LUMEN_REG_DBG_DELAY_US:
        s->hooks.delay_us = val;
        break;
    case LUMEN_REG_DBG_FAIL_RESET:
        check_bits(addr, val, 1);
        s->hooks.fail_next_reset = val & 1;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: write of 0x%" PRIx64 " to %s 0x%03"
                      HWADDR_PRIx " ignored\n", val,
                      is_read_only(addr) ? "read-only register"
                                         : "reserved offset", addr);
        break;
    }
    return 0;
}

static void lumen_npu_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                                 unsigned size)
{
    LumenNpuState *s = opaque;
    uint32_t events = 0;

    trace_lumen_npu_mmio_write(addr, size, val);
    qemu_mutex_lock(&s->lock);
    if (s->power_state != LUMEN_POWER_OFF || addr == LUMEN_REG_POWER_CTRL) {
        events = reg_write(s, addr, val, size);
    } else {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: write of 0x%" PRIx64 " to 0x%03"
                      HWADDR_PRIx " while powered off ignored\n", val, addr);
    }
    qemu_mutex_unlock(&s->lock);
    lumen_npu_update_irq(s, events, 0);
}

static const MemoryRegionOps lumen_npu_mmio_ops = {
    .read = lumen_npu_mmio_read,
    .write = lumen_npu_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* vm.max_map_count: mappings a host process may hold. */
static uint32_t host_map_count(void)
{
    g_autofree char *text = NULL;
    uint64_t n;

    if (!g_file_get_contents("/proc/sys/vm/max_map_count", &text, NULL,
                             NULL) ||
        qemu_strtou64(g_strstrip(text), NULL, 10, &n) || !n ||
        n > UINT32_MAX) {
        return LUMEN_MAP_COUNT_DEFAULT;
    }
    return n;
}

static void lumen_npu_realize(PCIDevice *pdev, Error **errp)
{
    LumenNpuState *s = LUMEN_NPU(pdev);
    int i;

    if (s->cores < 1 || s->cores > LUMEN_MAX_CORES) {
        error_setg(errp, "lumen-npu: cores must be 1..%d", LUMEN_MAX_CORES);
        return;
    }
    if (s->msix_vectors < LUMEN_MSIX_VECTORS ||
        s->msix_vectors > LUMEN_MSIX_MAX_VECTORS) {
        error_setg(errp, "lumen-npu: msix-vectors must be %d..%d (the "
                   "completion and error vectors, and one per guest CPU "
                   "after them)", LUMEN_MSIX_VECTORS, LUMEN_MSIX_MAX_VECTORS);
        return;
    }
    s->silicon = lumen_silicon_find(s->silicon_name ? s->silicon_name
                                                    : "glasses");
    if (!s->silicon) {
        g_autoptr(GString) names = g_string_new(NULL);

        for (i = 0; i < (int)lumen_silicon_preset_count; i++) {
            g_string_append_printf(names, "%s%s", i ? ", " : "",
                                   lumen_silicon_presets[i].name);
        }
        error_setg(errp, "lumen-npu: silicon '%s' is not a modeled NPU (%s)",
                   s->silicon_name, names->str);
        return;
    }
    s->exec = lumen_exec_create(s->cores);
    if (!s->exec) {
        error_setg(errp, "lumen-npu: cannot create the executor");
        return;
    }
    if (!s->scratch_limit) {
        error_setg(errp, "lumen-npu: scratch-limit must not be 0");
        lumen_exec_destroy(s->exec);
        return;
    }
    lumen_exec_set_cost_limit(s->exec, s->job_cost_limit);
    lumen_exec_set_scratch_limit(s->exec, s->scratch_limit);
    if (!s->bounce_limit) {
        s->bounce_limit = current_machine->ram_size;
    }
    if (!s->window_maps) {
        s->window_maps = host_map_count() / LUMEN_MAP_COUNT_SHARE;
    }

    pci_config_set_interrupt_pin(pdev->config, 1);
    memory_region_init_io(&s->mmio, OBJECT(s), &lumen_npu_mmio_ops, s,
                          "lumen-npu-regs", LUMEN_BAR_REGS_SIZE);
    pci_register_bar(pdev, LUMEN_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->mmio);
    if (msix_init_exclusive_bar(pdev, s->msix_vectors, LUMEN_BAR_MSIX,
                                errp)) {
        lumen_exec_destroy(s->exec);
        return;
    }
    for (i = 0; i < s->msix_vectors; i++) {
        msix_vector_use(pdev, i);
    }

    s->power_state = LUMEN_POWER_IDLE;
    qemu_mutex_init(&s->lock);
    qemu_cond_init(&s->cond);
    qemu_cond_init(&s->idle_cond);
    qemu_cond_init(&s->exit_cond);
    qemu_thread_create(&s->thread, "lumen-npu", lumen_npu_worker, s,
                       QEMU_THREAD_JOINABLE);
}

static void lumen_npu_exit(PCIDevice *pdev)
{
    LumenNpuState *s = LUMEN_NPU(pdev);

    qemu_mutex_lock(&s->lock);
    s->quit = true;
    cancel_job(s);      /* device_del must not wait for a long job */
    qemu_cond_signal(&s->cond);
    qemu_mutex_unlock(&s->lock);
    /* Not a bare join: the worker may be waiting for the BQL we hold. */
    while (!s->worker_exited) {
        qemu_cond_wait_iothread(&s->exit_cond);
    }
    qemu_thread_join(&s->thread);

    qemu_cond_destroy(&s->exit_cond);
    qemu_cond_destroy(&s->idle_cond);
    qemu_cond_destroy(&s->cond);
    qemu_mutex_destroy(&s->lock);
    lumen_exec_destroy(s->exec);
    msix_unuse_all_vectors(pdev);
    msix_uninit_exclusive_bar(pdev);
}

/*
 * A machine reset asks the worker for a device reset, cancels the job it
 * computes and waits until the executor has returned: after the reset the
 * guest's RAM belongs to the next boot, and the job writes it through host
 * windows that bus mastering does not gate. The wait is short (the
 * executor stops at its next op or work item) and cannot deadlock: the
 * executor never takes the BQL, and the worker starts no run once a reset
 * is pending. What the worker does outside a run is DMA, which the PCI
 * reset's bus-master disable stops. Software sees STATUS.RESETTING until
 * the worker has carried the reset out, as after a register reset.
 */
static void lumen_npu_reset(DeviceState *dev)
{
    LumenNpuState *s = LUMEN_NPU(dev);

    qemu_mutex_lock(&s->lock);
    trace_lumen_npu_reset_request("machine", s->status);
    s->reset_req = true;
    s->status |= LUMEN_STATUS_RESETTING;
    s->irq_mask = 0;
    s->arm_hooks = true;
    cancel_job(s);
    qemu_cond_signal(&s->cond);
    while (s->computing) {
        qemu_cond_wait(&s->idle_cond, &s->lock);
    }
    qemu_mutex_unlock(&s->lock);
}

/* Guest memory is mapped into host windows and jobs run on a thread. */
static const VMStateDescription lumen_npu_vmstate = {
    .name = TYPE_LUMEN_NPU,
    .unmigratable = 1,
};

static Property lumen_npu_properties[] = {
    DEFINE_PROP_UINT32("cores", LumenNpuState, cores, LUMEN_DEFAULT_CORES),
    DEFINE_PROP_UINT32("msix-vectors", LumenNpuState, msix_vectors,
                       LUMEN_DEFAULT_MSIX_VECTORS),
    DEFINE_PROP_BOOL("hang-next-job", LumenNpuState, prop.hang_next_job,
                     false),
    DEFINE_PROP_BOOL("fault-next-job", LumenNpuState, prop.fault_next_job,
                     false),
    DEFINE_PROP_BOOL("fail-next-reset", LumenNpuState, prop.fail_next_reset,
                     false),
    DEFINE_PROP_UINT32("delay-us", LumenNpuState, prop.delay_us, 0),
    DEFINE_PROP_UINT64("job-cost-limit", LumenNpuState, job_cost_limit,
                       LUMEN_DEFAULT_JOB_COST),
    DEFINE_PROP_UINT64("scratch-limit", LumenNpuState, scratch_limit,
                       LUMEN_DEFAULT_SCRATCH),
    DEFINE_PROP_UINT64("bounce-limit", LumenNpuState, bounce_limit, 0),
    DEFINE_PROP_UINT32("window-maps", LumenNpuState, window_maps, 0),
    DEFINE_PROP_STRING("silicon", LumenNpuState, silicon_name),
    DEFINE_PROP_END_OF_LIST(),
};

static void lumen_npu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = lumen_npu_realize;
    k->exit = lumen_npu_exit;
    k->vendor_id = LUMEN_PCI_VENDOR_ID;
    k->device_id = LUMEN_PCI_DEVICE_ID;
    k->revision = 0x01;
    k->class_id = LUMEN_PCI_CLASS;
    dc->desc = "Lumen NPU v1";
    dc->reset = lumen_npu_reset;
    dc->vmsd = &lumen_npu_vmstate;
    device_class_set_props(dc, lumen_npu_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo lumen_npu_info = {
    .name = TYPE_LUMEN_NPU,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(LumenNpuState),
    .class_init = lumen_npu_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void lumen_npu_register_types(void)
{
    type_register_static(&lumen_npu_info);
}

type_init(lumen_npu_register_types)
