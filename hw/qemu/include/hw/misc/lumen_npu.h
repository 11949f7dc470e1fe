/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lumen NPU: QEMU device model, state shared by its three parts in
 * hw/misc/lumen/: lumen_npu.c (PCI function, registers, interrupts),
 * lumen_npu_worker.c (the command ring, run on a thread of its own) and
 * lumen_npu_mmu.c (page table walks and the host windows regions are
 * computed in). The register map ("lumen_regs.h") and the executor
 * ("lumen_exec.h") come from hw/misc/lumen/export/, copies of the Lumen
 * repository's isa/ and hw/exec/.
 *
 * Locking: @lock guards every register and request field. MMIO handlers
 * run under the BQL and take @lock briefly; the worker takes @lock only
 * between steps of a job, and the BQL, then @lock, only to signal an
 * interrupt (lumen_npu_deliver_irq()), never while computing a job or
 * holding @lock.
 */
#ifndef HW_MISC_LUMEN_NPU_H
#define HW_MISC_LUMEN_NPU_H

#include "hw/pci/pci.h"
#include "qemu/thread.h"
#include "qom/object.h"

#include "qemu/bitops.h"
#include "lumen_regs.h"
#include "lumen_exec.h"
#include "silicon.h"
#include "lumen_ops.h"

#define TYPE_LUMEN_NPU "lumen-npu"
OBJECT_DECLARE_SIMPLE_TYPE(LumenNpuState, LUMEN_NPU)

/* Region translations kept until a TLB invalidation or eviction. */
#define LUMEN_WINDOW_CACHE  32
/* Validated programs kept until a TLB invalidation of their context. */
#define LUMEN_PROG_CACHE    8

/**
 * LumenWindow - a region's pages mapped contiguously into host memory.
 * @host: start of the window; NULL for a free cache slot.
 * @map_len: bytes reserved at @host (the region size rounded up to pages).
 * @va, @size, @ctx: the translation this window holds.
 * @gen: the context's invalidation generation when it was built.
 * @writable: every page is mapped writable.
 * @last_use: job counter at the last use, for LRU eviction.
 * @maps: host mappings it holds (counted against the map budget).
 */
typedef struct LumenWindow {
    void *host;
    size_t map_len;
    uint64_t va;
    uint64_t size;
    uint32_t ctx;
    uint32_t gen;
    bool writable;
    uint64_t last_use;
    uint32_t maps;
} LumenWindow;

/** LumenProgram - a program read through the MMU and validated once. */
typedef struct LumenProgram {
    void *bytes;
    uint64_t va;
    uint32_t size;
    uint32_t ctx;
    uint32_t gen;
    uint64_t last_use;
    struct lumen_validation v;
} LumenProgram;

/** LumenHooks - test hooks, see the LUMEN_REG_DBG_* registers. */
typedef struct LumenHooks {
    bool hang_next_job;
    bool fault_next_job;
    bool fail_next_reset;
    uint32_t delay_us;
} LumenHooks;

/** LumenMmuFault - why a translation failed. */
typedef struct LumenMmuFault {
    uint32_t detail;        /* LUMEN_MMU_FAULT_* */
    uint64_t addr;          /* the NPU address that failed */
    bool copy_instead;      /* RAM that cannot be mapped, only copied */
    bool over_budget;       /* mapping it would pass the map budget */
} LumenMmuFault;

enum lumen_counter {
    LUMEN_CNT_BUSY_NS,
    LUMEN_CNT_JOBS,
    LUMEN_CNT_FAULTS,
    LUMEN_CNT_OPS,
    LUMEN_CNT_BYTES_READ,
    LUMEN_CNT_BYTES_WRITTEN,
    LUMEN_CNT_ENERGY_NJ,
    LUMEN_CNT_BOUNCE_BYTES,
    LUMEN_CNT_TLB_MISSES,
    LUMEN_CNT_COUNT,
};

struct LumenNpuState {
    PCIDevice parent_obj;
    MemoryRegion mmio;
    QemuThread thread;
    QemuMutex lock;
    QemuCond cond;          /* wakes the worker */
    QemuCond idle_cond;     /* signalled when @computing goes false */
    QemuCond exit_cond;     /* with the BQL: @worker_exited went true */
    bool worker_exited;     /* under the BQL */

    /* Properties; @prop arms the test hooks at every machine reset. */
    uint32_t cores;
    uint32_t msix_vectors;      /* MSI-X table size */
    LumenHooks prop;
    uint64_t job_cost_limit;    /* work per job, 0: none */
    uint64_t scratch_limit;     /* scratch bytes per op */
    uint64_t bounce_limit;      /* bytes copied per job; 0: guest RAM size */
    uint32_t window_maps;       /* host mappings of all windows; 0: auto */
    char *silicon_name;         /* the modeled NPU of CNT_ENERGY_NJ */
    const struct lumen_silicon *silicon;

    /* Registers, under @lock. */
    uint32_t control;
    uint32_t status;
    uint32_t power_state;
    uint32_t irq_status;
    uint32_t irq_mask;
    uint64_t ring_base;
    uint32_t ring_size;
    uint32_t ring_head;
    uint32_t ring_tail;
    uint64_t completion_addr;
    uint64_t last_seqno;
    uint32_t fault_code;
    uint32_t fault_op;
    uint32_t fault_region;
    uint32_t fault_detail;
    uint64_t fault_addr;
    uint64_t fault_seqno;
    uint32_t fault_context;
    uint64_t ctx_root[LUMEN_MMU_CONTEXTS];
    uint32_t ctx_gen[LUMEN_MMU_CONTEXTS];
    uint64_t counters[LUMEN_CNT_COUNT];
    uint64_t energy_pj_rem;     /* energy below 1 nJ not yet counted */
    LumenHooks hooks;           /* the DBG_* registers */

    /* Requests to the worker, under @lock. */
    bool reset_req;
    bool arm_hooks;             /* the reset is a machine reset */
    bool power_off_req;
    bool quit;
    bool computing;             /* the executor runs a job's program */
    uint32_t irq_notify;        /* events the worker must signal */
    uint64_t done_vectors;      /* vectors of the JOB_DONEs in @irq_notify */

    /* Worker-private. */
    struct lumen_exec *exec;
    LumenWindow windows[LUMEN_WINDOW_CACHE];
    LumenProgram programs[LUMEN_PROG_CACHE];
    uint64_t use_clock;
    uint32_t window_maps_used;  /* sum of the windows' @maps */
};

/* lumen_npu.c */
void lumen_npu_raise(LumenNpuState *s, uint32_t irq);
void lumen_npu_raise_done(LumenNpuState *s, unsigned vector, uint32_t more);
void lumen_npu_deliver_irq(LumenNpuState *s);
void lumen_npu_worker_exited(LumenNpuState *s);

/* lumen_npu_worker.c */
void *lumen_npu_worker(void *opaque);

/* lumen_npu_mmu.c */
typedef struct LumenWalkCache LumenWalkCache;
bool lumen_mmu_translate(LumenNpuState *s, LumenWalkCache *wc,
                         uint64_t root, uint64_t va, uint64_t *pa,
                         uint64_t *page_size, bool *writable,
                         LumenMmuFault *f);
LumenWindow *lumen_mmu_window(LumenNpuState *s, uint32_t ctx, uint64_t root,
                              uint32_t gen, uint64_t va, uint64_t size,
                              LumenMmuFault *f);
bool lumen_mmu_copy(LumenNpuState *s, uint64_t root, uint64_t va,
                    void *buf, uint64_t len, bool to_guest, bool need_write,
                    LumenMmuFault *f);
void lumen_mmu_drop_all(LumenNpuState *s);
void lumen_mmu_drop_stale(LumenNpuState *s, const uint32_t *gens);

#endif /* HW_MISC_LUMEN_NPU_H */
