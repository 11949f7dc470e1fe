/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lumen NPU: the command ring, processed on a thread of the device's own so
 * that neither the main loop nor the vCPUs wait for a job. One job at a
 * time, in ring order: fetch the descriptor, translate the program and the
 * regions through the MMU, run the program with the executor, write the
 * status record and the seqno back, and signal the interrupt.
 *
 * Resets and power-off requests are carried out here too, between jobs, so
 * that windows are never unmapped under a running job. A reset cancels the
 * job being computed (lumen_exec_cancel(), from the MMIO or reset handler):
 * the executor stops at its next op or work item, the job is dropped, and
 * only then is the reset carried out and reported.
 *
 * What the guest got wrong (ring setup, descriptors, contexts, programs,
 * addresses) is logged with LOG_GUEST_ERROR, then reported to it as the
 * hardware does: RING_ERROR or a job fault. Jobs are traced from start to
 * end (lumen_npu_job_start/end, lumen_npu_fault).
 */
#include "qemu/osdep.h"
#include <math.h>
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/log.h"
#include "qemu/rcu.h"
#include "qemu/timer.h"
#include "sysemu/dma.h"

#include "hw/misc/lumen_npu.h"
#include "trace.h"

/*
 * The args words the energy model reads at most (a program's arg slots
 * sit at the start of its args region; a slot beyond is taken as absent).
 */
#define ENERGY_MAX_ARGS         4096

/* A ring entry, and the device state it runs with, taken at fetch. */
typedef struct LumenJob {
    uint8_t desc[LUMEN_JOB_DESC_SIZE];
    uint64_t seqno;
    uint64_t status_addr;
    uint32_t ctx;
    uint64_t root;
    uint32_t gen;
    unsigned vector;            /* MSI-X vector of its JOB_DONE */
    bool inject_fault;
    bool hang;
    uint32_t delay_us;
} LumenJob;

/* What happened to a job, as written to its status record. */
typedef struct LumenResult {
    uint32_t code;
    uint32_t op;
    uint32_t region;
    uint32_t detail;
    uint64_t addr;
    uint64_t busy_ns;
    uint64_t ops;
    uint64_t energy_pj;
    struct lumen_exec_stats work;
} LumenResult;

static void result_fault(LumenResult *r, uint32_t code, uint32_t op,
                         uint32_t region, uint32_t detail, uint64_t addr)
{
    r->code = code;
    r->op = op;
    r->region = region;
    r->detail = detail;
    r->addr = addr;
}

static void result_mmu_fault(LumenResult *r, uint32_t region,
                             const LumenMmuFault *f)
{
    result_fault(r, LUMEN_FAULT_MMU, LUMEN_FAULT_NO_OP, region, f->detail,
                 f->addr);
}

/* The validated program of @job, read through the MMU at most once. */
static LumenProgram *load_program(LumenNpuState *s, const LumenJob *job,
                                  LumenResult *r)
{
    uint64_t va = ldq_le_p(job->desc + LUMEN_JOB_PROG_VA);
    uint32_t size = ldl_le_p(job->desc + LUMEN_JOB_PROG_SIZE);
    LumenProgram *p, *victim = &s->programs[0];
    LumenMmuFault f = { 0 };
    int i;

    for (i = 0; i < LUMEN_PROG_CACHE; i++) {
        p = &s->programs[i];
        if (p->bytes && p->ctx == job->ctx && p->va == va &&
            p->size == size && p->gen == job->gen) {
            p->last_use = s->use_clock;
            return p;
        }
        if (!p->bytes || (victim->bytes && p->last_use < victim->last_use)) {
            victim = p;
        }
    }
    /* Bound the copy before making it; the validator checks the rest. */
    if (size < sizeof(struct lumen_prog_header) ||
        size > sizeof(struct lumen_prog_header) +
               (uint64_t)LUMEN_MAX_OPS * sizeof(struct lumen_op)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: job seqno %" PRIu64 ": program size %u "
                      "out of range\n", job->seqno, size);
        trace_lumen_npu_program_load(job->ctx, va, size, -1);
        result_fault(r, LUMEN_FAULT_INVALID_PROGRAM, LUMEN_FAULT_NO_OP,
                     LUMEN_FAULT_NO_REGION,
                     size < sizeof(struct lumen_prog_header) ?
                     LUMEN_VERR_TOO_SMALL : LUMEN_VERR_SIZE_MISMATCH, size);
        return NULL;
    }

    p = victim;
    g_free(p->bytes);
    memset(p, 0, sizeof(*p));
    p->bytes = g_malloc(size);
    if (!lumen_mmu_copy(s, job->root, va, p->bytes, size, false, false,
                        &f)) {
        result_mmu_fault(r, LUMEN_FAULT_NO_REGION, &f);
        goto drop;
    }
    /* The device checks for itself: its host memory is at stake. */
    if (lumen_validate(p->bytes, size, &p->v)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: job seqno %" PRIu64 ": invalid program at "
                      "NPU address 0x%" PRIx64 ", op %d: %s (%u)\n",
                      job->seqno, va, (int)p->v.error_op,
                      lumen_verr_str(p->v.error), (unsigned)p->v.error);
        trace_lumen_npu_program_load(job->ctx, va, size, p->v.error);
        result_fault(r, LUMEN_FAULT_INVALID_PROGRAM, p->v.error_op,
                     LUMEN_FAULT_NO_REGION, p->v.error, 0);
        goto drop;
    }
    trace_lumen_npu_program_load(job->ctx, va, size, 0);
    p->va = va;
    p->size = size;
    p->ctx = job->ctx;
    p->gen = job->gen;
    p->last_use = s->use_clock;
    return p;

drop:
    g_free(p->bytes);
    p->bytes = NULL;
    return NULL;
}

/* Count bytes copied between guest memory and the device. */
static void count_bounce(LumenNpuState *s, uint64_t bytes)
{
    qemu_mutex_lock(&s->lock);
    s->counters[LUMEN_CNT_BOUNCE_BYTES] += bytes;
    qemu_mutex_unlock(&s->lock);
}

/*
 * Regions in RAM that cannot be mapped (not a shared memfd) are copied in
 * before the run and, when written, out after it: correct, slow, counted.
 */
static bool bounce_in(LumenNpuState *s, const LumenJob *job, unsigned slot,
                      uint64_t va, uint64_t size, bool written,
                      void **bounce, LumenMmuFault *f)
{
    bounce[slot] = g_try_malloc(size);
    if (!bounce[slot]) {
        f->detail = LUMEN_MMU_FAULT_NOT_RAM;
        f->addr = va;
        return false;
    }
    if (!lumen_mmu_copy(s, job->root, va, bounce[slot], size, false, written,
                        f)) {
        return false;
    }
    count_bounce(s, size);
    return true;
}

static void bounce_out(LumenNpuState *s, const LumenJob *job,
                       const LumenProgram *p, void **bounce)
{
    LumenMmuFault f = { 0 };
    unsigned i;

    for (i = 0; i < LUMEN_MAX_REGIONS; i++) {
        if (bounce[i] && (p->v.regions_written & (1u << i))) {
            uint64_t va = ldq_le_p(job->desc + LUMEN_JOB_REGION_VA(i));
            uint64_t size = ldq_le_p(job->desc + LUMEN_JOB_REGION_SIZE(i));

            /* checked writable by bounce_in; nothing can fail here */
            lumen_mmu_copy(s, job->root, va, bounce[i], size, true, true, &f);
            count_bounce(s, size);
        }
    }
}

/* Translate every region the program uses into a host window. */
static bool bind_regions(LumenNpuState *s, const LumenJob *job,
                         const LumenProgram *p,
                         struct lumen_region regions[LUMEN_MAX_REGIONS],
                         void **bounce, LumenResult *r)
{
    unsigned count = job->desc[LUMEN_JOB_REGION_COUNT];
    uint64_t bounced = 0;
    unsigned i;

    for (i = 0; i < count; i++) {
        uint64_t va = ldq_le_p(job->desc + LUMEN_JOB_REGION_VA(i));
        uint64_t size = ldq_le_p(job->desc + LUMEN_JOB_REGION_SIZE(i));
        bool written = p->v.regions_written & (1u << i);
        LumenMmuFault f = { 0 };
        LumenWindow *w;

        if (!size || !(p->v.regions_used & (1u << i))) {
            continue;
        }
        w = lumen_mmu_window(s, job->ctx, job->root, job->gen, va, size, &f);
        if (!w && f.copy_instead) {
            f.copy_instead = false;
            /*
             * Copies cost host memory the guest does not pay for (one
             * buffer bound to all slots is copied once per slot): cap it.
             */
            if (size > s->bounce_limit - MIN(bounced, s->bounce_limit)) {
                qemu_log_mask(LOG_GUEST_ERROR,
                              "lumen-npu: job seqno %" PRIu64 ": copying "
                              "region %u (0x%" PRIx64 " bytes) would pass "
                              "the device's bounce limit of 0x%" PRIx64
                              " bytes per job\n", job->seqno, i, size,
                              s->bounce_limit);
                result_fault(r, LUMEN_FAULT_NO_MEMORY, LUMEN_FAULT_NO_OP, i,
                             0, bounced + MIN(size, UINT64_MAX - bounced));
                return false;
            }
            bounced += size;
            if (!bounce_in(s, job, i, va, size, written, bounce, &f)) {
                result_mmu_fault(r, i, &f);
                return false;
            }
            regions[i].base = bounce[i];
            regions[i].size = size;
            continue;
        }
        if (!w) {
            result_mmu_fault(r, i, &f);
            return false;
        }
        if (written && !w->writable) {
            f.detail = LUMEN_MMU_FAULT_READONLY;
            f.addr = va;
            result_mmu_fault(r, i, &f);
            return false;
        }
        regions[i].base = w->host;
        regions[i].size = size;
    }
    return true;
}

/* A reset or quit is pending: the job is dropped, nothing more written. */
static bool job_dropped(LumenNpuState *s)
{
    bool dropped;

    qemu_mutex_lock(&s->lock);
    dropped = s->reset_req || s->quit;
    qemu_mutex_unlock(&s->lock);
    return dropped;
}

/*
 * Run the program unless a reset is pending. While it runs, @computing
 * tells a reset to cancel it (and a machine reset to wait for it); a
 * cancel request that came after the run returned is cleared here, under
 * the lock, so that it cannot cancel the next job.
 */
static void run_program(LumenNpuState *s, const LumenProgram *p,
                        const struct lumen_region *regions, LumenResult *r)
{
    struct lumen_exec_stats before, after;
    struct lumen_fault fault = { 0 };
    int err;

    qemu_mutex_lock(&s->lock);
    if (s->reset_req || s->quit) {
        qemu_mutex_unlock(&s->lock);
        result_fault(r, LUMEN_FAULT_CANCELLED, LUMEN_FAULT_NO_OP,
                     LUMEN_FAULT_NO_REGION, 0, 0);
        return;
    }
    s->computing = true;
    qemu_mutex_unlock(&s->lock);

    lumen_exec_get_stats(s->exec, &before);
    err = lumen_exec_run_validated(s->exec, p->bytes, &p->v, regions,
                                   LUMEN_MAX_REGIONS, &fault);

    qemu_mutex_lock(&s->lock);
    s->computing = false;
    lumen_exec_cancel_clear(s->exec);
    qemu_cond_broadcast(&s->idle_cond);
    qemu_mutex_unlock(&s->lock);

    if (err) {
        result_fault(r, fault.code, fault.op_index, fault.region,
                     fault.detail, fault.offset);
    }
    lumen_exec_get_stats(s->exec, &after);
    r->work.ops = after.ops - before.ops;
    r->work.bytes_read = after.bytes_read - before.bytes_read;
    r->work.bytes_written = after.bytes_written - before.bytes_written;
    r->work.flops = after.flops - before.flops;
    r->ops = r->work.ops;
}

/*
 * What the job just run costs on the modeled NPU (the silicon model of
 * Documentation/accel/lumen/silicon.rst, the preset of the "silicon"
 * property), in picojoules: the runtime's --silicon figures for the same
 * jobs. Rows and positions come from a copy of the args, taken once: the
 * guest may be rewriting them.
 */
static uint64_t modeled_energy_pj(LumenNpuState *s, const LumenProgram *p,
                                  const struct lumen_region *regions)
{
    const struct lumen_prog_header *h = (const void *)p->bytes;
    const struct lumen_region *a = &regions[h->args_region];
    struct lumen_silicon_cost cost = { 0 };
    g_autofree uint32_t *args = NULL;
    size_t n_args = 0;

    if (a->base) {
        n_args = MIN(a->size / 4, ENERGY_MAX_ARGS);
        args = g_new(uint32_t, MAX(n_args, 1));
        memcpy(args, a->base, n_args * 4);
    }
    lumen_silicon_program(s->silicon, p->bytes, args, n_args, &cost);
    /* an absurd program's figure saturates */
    return cost.joules * 1e12 < 0x1p63 ? llround(cost.joules * 1e12)
                                       : INT64_MAX;
}

static void run_job(LumenNpuState *s, const LumenJob *job, LumenResult *r)
{
    struct lumen_region regions[LUMEN_MAX_REGIONS] = { 0 };
    void *bounce[LUMEN_MAX_REGIONS] = { 0 };
    unsigned count = job->desc[LUMEN_JOB_REGION_COUNT];
    LumenProgram *p;
    unsigned i;

    if (job->inject_fault) {
        result_fault(r, LUMEN_FAULT_INJECTED, LUMEN_FAULT_NO_OP,
                     LUMEN_FAULT_NO_REGION, 0, 0);
        return;
    }
    if (ldl_le_p(job->desc + LUMEN_JOB_FLAGS) || count > LUMEN_MAX_REGIONS ||
        !buffer_is_zero(job->desc + LUMEN_JOB_VECTOR + 1,
                        LUMEN_JOB_REGIONS - LUMEN_JOB_VECTOR - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: bad ring descriptor (seqno %" PRIu64 "): "
                      "flags 0x%x, %u regions (max %u)%s\n", job->seqno,
                      ldl_le_p(job->desc + LUMEN_JOB_FLAGS), count,
                      LUMEN_MAX_REGIONS,
                      buffer_is_zero(job->desc + LUMEN_JOB_VECTOR + 1,
                                     LUMEN_JOB_REGIONS -
                                     LUMEN_JOB_VECTOR - 1) ?
                      "" : ", reserved bytes set");
        result_fault(r, LUMEN_FAULT_INVALID_PROGRAM, LUMEN_FAULT_NO_OP,
                     LUMEN_FAULT_NO_REGION, 0, count);
        return;
    }
    if (job->ctx >= LUMEN_MMU_CONTEXTS ||
        !(job->root & LUMEN_CTX_ROOT_VALID)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: job seqno %" PRIu64 " uses context %u, "
                      "%s\n", job->seqno, job->ctx,
                      job->ctx >= LUMEN_MMU_CONTEXTS ?
                      "no such slot" : "which has no valid root");
        result_fault(r, LUMEN_FAULT_MMU, LUMEN_FAULT_NO_OP,
                     LUMEN_FAULT_NO_REGION, LUMEN_MMU_FAULT_CONTEXT,
                     job->ctx);
        return;
    }
    p = load_program(s, job, r);
    if (p && bind_regions(s, job, p, regions, bounce, r)) {
        run_program(s, p, regions, r);
        if (!r->code) {
            r->energy_pj = modeled_energy_pj(s, p, regions);
        }
        if (!job_dropped(s)) {
            bounce_out(s, job, p, bounce);
        }
    }
    for (i = 0; i < LUMEN_MAX_REGIONS; i++) {
        g_free(bounce[i]);
    }
}

/*
 * Wait until @deadline_ns (or, @forever, for a hung job) unless a reset
 * comes. Called and returns with the lock held. Returns false on a reset
 * or quit.
 */
static bool wait_unless_reset(LumenNpuState *s, int64_t deadline_ns,
                              bool forever)
{
    while (!s->reset_req && !s->quit) {
        int64_t left = deadline_ns - qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

        if (forever) {
            qemu_cond_wait(&s->cond, &s->lock);
        } else if (left <= 0) {
            return true;
        } else {
            qemu_cond_timedwait(&s->cond, &s->lock,
                                MAX(1, left / SCALE_MS));
        }
    }
    return false;
}

static void write_back(LumenNpuState *s, const LumenJob *job,
                       const LumenResult *r)
{
    uint8_t rec[LUMEN_STATUS_REC_SIZE] = { 0 };
    uint64_t seq_le = cpu_to_le64(job->seqno);
    PCIDevice *pdev = PCI_DEVICE(s);

    if (job->status_addr) {
        stq_le_p(rec + LUMEN_STATUS_SEQNO, job->seqno);
        stl_le_p(rec + LUMEN_STATUS_FAULT, r->code);
        stl_le_p(rec + LUMEN_STATUS_OP, r->op);
        stl_le_p(rec + LUMEN_STATUS_REGION, r->region);
        stl_le_p(rec + LUMEN_STATUS_DETAIL, r->detail);
        stq_le_p(rec + LUMEN_STATUS_ADDR, r->addr);
        stq_le_p(rec + LUMEN_STATUS_BUSY_NS, r->busy_ns);
        stq_le_p(rec + LUMEN_STATUS_OPS, r->ops);
        if (pci_dma_write(pdev, job->status_addr, rec, sizeof(rec))
            != MEMTX_OK) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: job seqno %" PRIu64 ": cannot write "
                          "its status record at 0x%" PRIx64 "\n",
                          job->seqno, job->status_addr);
        }
    }
    /* The seqno goes last: once it is visible, the record is too. */
    if (s->completion_addr &&
        pci_dma_write(pdev, s->completion_addr, &seq_le, sizeof(seq_le))
        != MEMTX_OK) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: job seqno %" PRIu64 ": cannot write the "
                      "seqno to COMPLETION_ADDR 0x%" PRIx64 "\n",
                      job->seqno, s->completion_addr);
    }
}

/* Account a finished job; with the lock held. */
static void account(LumenNpuState *s, const LumenJob *job,
                    const LumenResult *r)
{
    uint64_t *c = s->counters;
    uint64_t pj;

    c[LUMEN_CNT_BUSY_NS] += r->busy_ns;
    c[r->code ? LUMEN_CNT_FAULTS : LUMEN_CNT_JOBS]++;
    c[LUMEN_CNT_OPS] += r->work.ops;
    c[LUMEN_CNT_BYTES_READ] += r->work.bytes_read;
    c[LUMEN_CNT_BYTES_WRITTEN] += r->work.bytes_written;
    pj = r->energy_pj + s->energy_pj_rem;
    c[LUMEN_CNT_ENERGY_NJ] += pj / 1000;
    s->energy_pj_rem = pj % 1000;

    s->last_seqno = job->seqno;
    if (r->code) {
        s->fault_code = r->code;
        s->fault_op = r->op;
        s->fault_region = r->region;
        s->fault_detail = r->detail;
        s->fault_addr = r->addr;
        s->fault_seqno = job->seqno;
        s->fault_context = job->ctx;
    }
}

static bool ring_usable(LumenNpuState *s)
{
    return s->power_state != LUMEN_POWER_OFF && !s->power_off_req &&
           (s->control & LUMEN_CONTROL_RING_ENABLE) &&
           !(s->status & (LUMEN_STATUS_RING_ERROR |
                          LUMEN_STATUS_RESET_FAILED)) &&
           s->ring_head != s->ring_tail;
}

static void G_GNUC_PRINTF(2, 3) ring_error(LumenNpuState *s,
                                            const char *fmt, ...)
{
    g_autofree char *why = NULL;
    va_list ap;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qemu_log_mask(LOG_GUEST_ERROR, "lumen-npu: ring stopped: %s\n", why);
    trace_lumen_npu_ring_error(s->ring_head, s->ring_tail, s->ring_size,
                               s->ring_base);
    s->status |= LUMEN_STATUS_RING_ERROR;
    lumen_npu_raise(s, LUMEN_IRQ_RING_ERROR);
}

/*
 * The MSI-X vector a job asks for its JOB_DONE: the completion vector or
 * one of the extra ones. The guest may write anything there; what names
 * no completion vector of this device is logged and ignored.
 */
static unsigned job_vector(LumenNpuState *s, const LumenJob *job)
{
    unsigned v = job->desc[LUMEN_JOB_VECTOR];

    if (v == LUMEN_MSIX_COMPLETION ||
        (v >= LUMEN_MSIX_JOB_FIRST && v < s->msix_vectors)) {
        return v;
    }
    qemu_log_mask(LOG_GUEST_ERROR,
                  "lumen-npu: job seqno %" PRIu64 " asks for MSI-X vector %u, "
                  "which is not one of the device's %u completion vectors "
                  "(%u, and %u up to its MSI-X table size): JOB_DONE goes to "
                  "vector %u\n", job->seqno, v,
                  s->msix_vectors - LUMEN_MSIX_JOB_FIRST + 1,
                  LUMEN_MSIX_COMPLETION, LUMEN_MSIX_JOB_FIRST,
                  LUMEN_MSIX_COMPLETION);
    return LUMEN_MSIX_COMPLETION;
}

/*
 * Take the next ring entry; called and returns with the lock held, which
 * it drops for the DMA (the ring could even point at our own registers).
 * The test hooks apply to the job they are consumed by. Returns false when
 * there is no job to run: a bad ring, or a reset that came meanwhile.
 */
static bool fetch(LumenNpuState *s, LumenJob *job)
{
    uint32_t size = s->ring_size;
    MemTxResult res;
    uint64_t addr;

    if (size < 2 || size > LUMEN_RING_MAX_ENTRIES || (size & (size - 1))) {
        ring_error(s, "RING_SIZE %u is not a power of two in 2..%u", size,
                   LUMEN_RING_MAX_ENTRIES);
        return false;
    }
    if (s->ring_base & (LUMEN_RING_ALIGN - 1)) {
        ring_error(s, "RING_BASE 0x%" PRIx64 " is not %u-byte aligned",
                   s->ring_base, LUMEN_RING_ALIGN);
        return false;
    }
    if (s->ring_tail - s->ring_head > size) {
        ring_error(s, "RING_TAIL %u is more than %u entries past RING_HEAD "
                   "%u", s->ring_tail, size, s->ring_head);
        return false;
    }
    addr = s->ring_base + (uint64_t)(s->ring_head & (size - 1)) *
                          LUMEN_JOB_DESC_SIZE;
    qemu_mutex_unlock(&s->lock);
    res = pci_dma_read(PCI_DEVICE(s), addr, job->desc, sizeof(job->desc));
    qemu_mutex_lock(&s->lock);
    if (s->reset_req || s->quit || s->power_off_req) {
        return false;
    }
    if (res != MEMTX_OK) {
        ring_error(s, "cannot read ring entry %u at bus address 0x%" PRIx64,
                   s->ring_head, addr);
        return false;
    }
    job->seqno = ldq_le_p(job->desc + LUMEN_JOB_SEQNO);
    job->status_addr = ldq_le_p(job->desc + LUMEN_JOB_STATUS_ADDR);
    job->ctx = job->desc[LUMEN_JOB_CONTEXT];
    job->root = job->ctx < LUMEN_MMU_CONTEXTS ? s->ctx_root[job->ctx] : 0;
    job->gen = job->ctx < LUMEN_MMU_CONTEXTS ? s->ctx_gen[job->ctx] : 0;
    job->vector = job_vector(s, job);
    job->inject_fault = s->hooks.fault_next_job;
    job->hang = s->hooks.hang_next_job;
    job->delay_us = s->hooks.delay_us;
    s->hooks.fault_next_job = false;
    s->hooks.hang_next_job = false;
    return true;
}

/* Process one job; called with the lock held, drops it while computing. */
static void process_one(LumenNpuState *s)
{
    LumenJob job;
    LumenResult r = { 0 };
    uint32_t gens[LUMEN_MMU_CONTEXTS];
    int64_t start;

    if (!fetch(s, &job)) {
        return;
    }
    s->status |= LUMEN_STATUS_BUSY;
    s->power_state = LUMEN_POWER_ACTIVE;
    memcpy(gens, s->ctx_gen, sizeof(gens));
    s->use_clock++;

    trace_lumen_npu_job_start(s->ring_head, job.seqno, job.ctx,
                              ldq_le_p(job.desc + LUMEN_JOB_PROG_VA),
                              ldl_le_p(job.desc + LUMEN_JOB_PROG_SIZE),
                              job.desc[LUMEN_JOB_REGION_COUNT]);
    start = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    if (job.hang) {
        wait_unless_reset(s, 0, true);
        trace_lumen_npu_job_abandoned(job.seqno);
        return;     /* abandoned: the reset completes nothing */
    }
    qemu_mutex_unlock(&s->lock);

    lumen_mmu_drop_stale(s, gens);
    run_job(s, &job, &r);
    if (r.code) {
        trace_lumen_npu_fault(job.seqno, r.code, r.op, r.region, r.detail,
                              r.addr);
        if (r.code != LUMEN_FAULT_INJECTED) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: job seqno %" PRIu64 " (context %u) "
                          "faulted: code %u op %d region %d detail %u addr "
                          "0x%" PRIx64 "\n", job.seqno, job.ctx, r.code,
                          (int)r.op, (int)r.region, r.detail, r.addr);
        }
    }

    qemu_mutex_lock(&s->lock);
    if (job.delay_us &&
        !wait_unless_reset(s, start + job.delay_us * SCALE_US, false)) {
        trace_lumen_npu_job_abandoned(job.seqno);
        return;
    }
    if (s->reset_req || s->quit) {
        trace_lumen_npu_job_abandoned(job.seqno);
        return;
    }
    r.busy_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - start;
    qemu_mutex_unlock(&s->lock);

    write_back(s, &job, &r);
    trace_lumen_npu_job_end(job.seqno, r.code, r.busy_ns, r.ops);

    qemu_mutex_lock(&s->lock);
    if (s->reset_req || s->quit) {
        trace_lumen_npu_job_abandoned(job.seqno);
        return;
    }
    account(s, &job, &r);
    s->ring_head++;
    s->status &= ~LUMEN_STATUS_BUSY;
    s->power_state = LUMEN_POWER_IDLE;
    lumen_npu_raise_done(s, job.vector, r.code ? LUMEN_IRQ_JOB_FAULT : 0);
}

static void drop_programs(LumenNpuState *s)
{
    int i;

    for (i = 0; i < LUMEN_PROG_CACHE; i++) {
        g_free(s->programs[i].bytes);
        memset(&s->programs[i], 0, sizeof(s->programs[i]));
    }
}

/*
 * Forget everything the driver programmed: ring, contexts, translations,
 * faults, pending interrupts and test hooks. IRQ_MASK and the counters
 * survive. With the lock held.
 */
static void clear_state(LumenNpuState *s)
{
    int i;

    s->control = 0;
    s->status = 0;
    s->irq_status = 0;
    s->ring_base = 0;
    s->ring_size = 0;
    s->ring_head = 0;
    s->ring_tail = 0;
    s->completion_addr = 0;
    s->last_seqno = 0;
    s->fault_code = 0;
    s->fault_op = 0;
    s->fault_region = 0;
    s->fault_detail = 0;
    s->fault_addr = 0;
    s->fault_seqno = 0;
    s->fault_context = 0;
    for (i = 0; i < LUMEN_MMU_CONTEXTS; i++) {
        s->ctx_root[i] = 0;
        s->ctx_gen[i]++;
    }
    s->hooks.hang_next_job = false;
    s->hooks.fault_next_job = false;
    s->hooks.delay_us = 0;
    lumen_mmu_drop_all(s);
    drop_programs(s);
}

/*
 * A reset fails, leaving STATUS.RESET_FAILED, when the hook asked for it.
 * A machine reset re-arms the hooks from the device's properties, after
 * consuming the armed ones: fail-next-reset=on fails the first reset
 * software asks for, not the one at power-on.
 */
static void do_reset(LumenNpuState *s)
{
    bool fail = s->hooks.fail_next_reset && !s->arm_hooks;

    clear_state(s);
    s->hooks.fail_next_reset = false;
    if (s->arm_hooks) {
        s->hooks = s->prop;
        s->arm_hooks = false;
    }
    s->reset_req = false;
    s->power_state = LUMEN_POWER_IDLE;
    s->power_off_req = false;
    if (fail) {
        s->status |= LUMEN_STATUS_RESET_FAILED;
    }
    trace_lumen_npu_reset_done(fail);
    lumen_npu_raise(s, LUMEN_IRQ_RESET_DONE);
}

void *lumen_npu_worker(void *opaque)
{
    LumenNpuState *s = opaque;

    /*
     * DMA (address_space_rw) and the MMU's translations read the memory
     * map (FlatView) under rcu_read_lock(), which protects only from a
     * registered thread: unregistered, a memory map change frees the
     * FlatView under the worker's feet (found by lumen-npu-fuzz under
     * ASan: heap-use-after-free in flatview_to_dispatch).
     */
    rcu_register_thread();
    qemu_mutex_lock(&s->lock);
    while (!s->quit) {
        if (s->irq_notify) {
            qemu_mutex_unlock(&s->lock);
            lumen_npu_deliver_irq(s);
            qemu_mutex_lock(&s->lock);
        } else if (s->reset_req) {
            do_reset(s);
        } else if (s->power_off_req) {
            clear_state(s);
            s->power_off_req = false;
            s->power_state = LUMEN_POWER_OFF;
            trace_lumen_npu_power_off();
        } else if (ring_usable(s)) {
            process_one(s);
        } else {
            qemu_cond_wait(&s->cond, &s->lock);
        }
    }
    qemu_mutex_unlock(&s->lock);
    lumen_mmu_drop_all(s);
    drop_programs(s);
    rcu_unregister_thread();
    lumen_npu_worker_exited(s);
    return NULL;
}
