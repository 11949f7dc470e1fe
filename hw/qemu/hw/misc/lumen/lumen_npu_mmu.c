/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lumen NPU: the MMU. Walks the driver's page tables (three levels, 4 KiB
 * and 2 MiB pages, see lumen_regs.h) and maps the guest pages behind a
 * region into one contiguous host window, so the executor computes on
 * guest memory in place. Guest RAM must be a shared memory-backend-memfd:
 * each run of physically contiguous pages becomes one MAP_SHARED|MAP_FIXED
 * mapping of the memfd inside a PROT_NONE reservation. Nothing is copied.
 *
 * RAM that cannot be mapped (not a shared memfd, or the host refuses more
 * mappings) makes the worker fall back to copying the region
 * (lumen_mmu_copy), counted as bounce bytes.
 *
 * Every run of pages is one host mapping, and a process may hold only
 * vm.max_map_count of them (65530 by default) before mmap, and with it
 * malloc and thread creation anywhere in QEMU, fails. The windows together
 * hold at most the window-maps budget (half of vm.max_map_count): a
 * window that would pass it first evicts the windows no job is using, and
 * is copied instead when that is not enough.
 *
 * Runs on the worker thread only; windows live until an invalidation of
 * their context, an eviction or a reset.
 *
 * Page tables the guest got wrong (reserved bits, a leaf at level 1, a
 * misaligned 2 MiB page, a table that is not RAM) are logged with
 * LOG_GUEST_ERROR; every failed translation is traced
 * (lumen_npu_mmu_fault) and faults the job.
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/rcu.h"
#include "exec/memory.h"
#include "exec/cpu-common.h"
#include "sysemu/dma.h"

#include "hw/misc/lumen_npu.h"
#include "trace.h"

#define PAGE_4K     (1ULL << LUMEN_PAGE_SHIFT)
#define PAGE_2M     (1ULL << LUMEN_HUGE_SHIFT)
#define VA_LIMIT    (1ULL << LUMEN_VA_BITS)
#define WALK_NONE   UINT64_MAX

/*
 * The last table read at each level: walking a region page by page then
 * costs one table read per 2 MiB instead of three entry reads per page.
 */
struct LumenWalkCache {
    uint64_t table[3];
    uint64_t entries[3][LUMEN_PT_ENTRIES];
};

static bool mmu_fail(LumenMmuFault *f, uint32_t detail, uint64_t addr)
{
    f->detail = detail;
    f->addr = addr;
    return false;
}

/* A translation of @va failed at @level (0: before the walk) on @pte. */
static bool walk_fail(LumenMmuFault *f, uint32_t detail, uint64_t va,
                      int level, uint64_t pte)
{
    trace_lumen_npu_mmu_fault(detail, va, level, pte);
    return mmu_fail(f, detail, va);
}

/* The guest's page table holds an entry the NPU cannot use. */
static bool bad_pte(LumenMmuFault *f, uint64_t va, int level, uint64_t table,
                    unsigned idx, uint64_t pte, const char *why)
{
    qemu_log_mask(LOG_GUEST_ERROR,
                  "lumen-npu: bad level-%d page-table entry 0x%016" PRIx64
                  " (table 0x%" PRIx64 " index %u) translating NPU address "
                  "0x%" PRIx64 ": %s\n", level, pte, table, idx, va, why);
    return walk_fail(f, LUMEN_MMU_FAULT_BAD_PTE, va, level, pte);
}

static bool read_pte(LumenNpuState *s, LumenWalkCache *wc, int level,
                     uint64_t table, unsigned idx, uint64_t *pte)
{
    uint64_t le;

    if (!wc) {
        if (pci_dma_read(PCI_DEVICE(s), table + idx * 8, &le, sizeof(le))
            != MEMTX_OK) {
            return false;
        }
        *pte = le64_to_cpu(le);
        return true;
    }
    if (wc->table[level] != table) {
        if (pci_dma_read(PCI_DEVICE(s), table, wc->entries[level],
                         sizeof(wc->entries[level])) != MEMTX_OK) {
            wc->table[level] = WALK_NONE;
            return false;
        }
        wc->table[level] = table;
    }
    *pte = le64_to_cpu(wc->entries[level][idx]);
    return true;
}

bool lumen_mmu_translate(LumenNpuState *s, LumenWalkCache *wc,
                         uint64_t root, uint64_t va, uint64_t *pa,
                         uint64_t *page_size, bool *writable,
                         LumenMmuFault *f)
{
    uint64_t table = root & LUMEN_PTE_ADDR_MASK;
    int level;

    if (va >= VA_LIMIT) {
        return walk_fail(f, LUMEN_MMU_FAULT_RANGE, va, 0, 0);
    }
    for (level = 1; level <= 3; level++) {
        unsigned shift = LUMEN_PT_L1_SHIFT - 9 * (level - 1);
        unsigned idx = (va >> shift) % LUMEN_PT_ENTRIES;
        uint64_t pte;

        if (!read_pte(s, wc, level - 1, table, idx, &pte)) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: level-%d page table at 0x%" PRIx64
                          " is not readable RAM (NPU address 0x%" PRIx64
                          ")\n", level, table, va);
            return walk_fail(f, LUMEN_MMU_FAULT_NOT_RAM, va, level, 0);
        }
        if (!(pte & LUMEN_PTE_VALID)) {
            return walk_fail(f, LUMEN_MMU_FAULT_UNMAPPED, va, level, pte);
        }
        if (pte & LUMEN_PTE_RESERVED) {
            return bad_pte(f, va, level, table, idx, pte,
                           "reserved bits set");
        }
        if (level == 1 && (pte & LUMEN_PTE_LEAF)) {
            return bad_pte(f, va, level, table, idx, pte, "LEAF at level 1");
        }
        if (level == 2 && (pte & LUMEN_PTE_LEAF)) {
            uint64_t base = pte & LUMEN_PTE_ADDR_MASK;

            if (base & (PAGE_2M - 1)) {
                return bad_pte(f, va, level, table, idx, pte,
                               "2 MiB page not 2 MiB aligned");
            }
            *pa = base | (va & (PAGE_2M - 1));
            *page_size = PAGE_2M;
            *writable = pte & LUMEN_PTE_WRITE;
            return true;
        }
        if (level == 3) {
            *pa = (pte & LUMEN_PTE_ADDR_MASK) | (va & (PAGE_4K - 1));
            *page_size = PAGE_4K;
            *writable = pte & LUMEN_PTE_WRITE;
            return true;
        }
        table = pte & LUMEN_PTE_ADDR_MASK;
    }
    g_assert_not_reached();
}

/* Pages walked between checks for a pending reset. */
#define WALK_RESET_CHECK    4096

/*
 * The offset in the RAMBlock's file of its byte @offset. QEMU 8.2 gave
 * RAMBlocks a file offset of their own (memory-backend-file offset=);
 * in 7.2 a block always starts at byte 0 of its file.
 */
static uint64_t ram_file_offset(RAMBlock *rb, ram_addr_t offset)
{
#if QEMU_VERSION_MAJOR > 8 || \
    (QEMU_VERSION_MAJOR == 8 && QEMU_VERSION_MINOR >= 2)
    return qemu_ram_get_fd_offset(rb) + offset;
#else
    return offset;
#endif
}

/*
 * Map guest-physical [pa, pa + len) at host address @dst, sharing the
 * memfd pages that hold guest RAM. Each mapping counts against @w's maps
 * and the window-maps budget.
 */
static bool map_guest_run(LumenNpuState *s, LumenWindow *w, uint8_t *dst,
                          uint64_t pa, uint64_t len, bool writable,
                          uint64_t va, LumenMmuFault *f)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);

    while (len) {
        MemoryRegion *mr;
        hwaddr xlat, l = len;
        ram_addr_t offset;
        RAMBlock *rb;
        void *host;
        void *mapped;
        int fd;

        if (s->window_maps_used >= s->window_maps) {
            f->over_budget = true;
            return mmu_fail(f, LUMEN_MMU_FAULT_NOT_RAM, va);
        }
        /* The fd stays valid only inside the RCU critical section. */
        rcu_read_lock();
        mr = address_space_translate(pci_get_address_space(PCI_DEVICE(s)),
                                     pa, &xlat, &l, writable,
                                     MEMTXATTRS_UNSPECIFIED);
        if (!memory_region_is_ram(mr) || memory_region_is_rom(mr)) {
            rcu_read_unlock();
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: NPU address 0x%" PRIx64 " maps bus "
                          "address 0x%" PRIx64 ", which is not RAM\n",
                          va, pa);
            return walk_fail(f, LUMEN_MMU_FAULT_NOT_RAM, va, 3, pa);
        }
        fd = memory_region_get_fd(mr);
        host = memory_region_get_ram_ptr(mr) + xlat;
        rb = qemu_ram_block_from_host(host, false, &offset);
        if (fd < 0 || !rb || !qemu_ram_is_shared(rb)) {
            rcu_read_unlock();
            warn_report_once("lumen-npu: guest RAM is not a shared memfd, "
                             "copying regions; use -object memory-backend-"
                             "memfd,share=on with -machine memory-backend=");
            f->copy_instead = true;
            return mmu_fail(f, LUMEN_MMU_FAULT_NOT_RAM, va);
        }
        l = MIN(l, len);
        mapped = mmap(dst, l, prot, MAP_SHARED | MAP_FIXED, fd,
                      ram_file_offset(rb, offset));
        rcu_read_unlock();
        if (mapped == MAP_FAILED) {
            /* Typically vm.max_map_count: one mapping per page run. */
            warn_report_once("lumen-npu: cannot map guest RAM (%s), copying "
                             "regions instead; raise vm.max_map_count",
                             strerror(errno));
            f->copy_instead = true;
            return mmu_fail(f, LUMEN_MMU_FAULT_NOT_RAM, va);
        }
        w->maps++;
        s->window_maps_used++;
        dst += l;
        pa += l;
        va += l;
        len -= l;
    }
    return true;
}

static void window_free(LumenNpuState *s, LumenWindow *w)
{
    if (w->host) {
        munmap(w->host, w->map_len);
    }
    s->window_maps_used -= w->maps;
    memset(w, 0, sizeof(*w));
}

/* Fill @w with the translation of [va, va + size), page run by page run. */
static bool window_build(LumenNpuState *s, LumenWindow *w, uint64_t root,
                         uint64_t va, uint64_t size, LumenMmuFault *f)
{
    uint64_t len = ROUND_UP(size, PAGE_4K);
    uint64_t off = 0, run_off = 0, run_pa = 0, run_len = 0, walked = 0;
    bool run_w = false, all_w = true;
    g_autofree LumenWalkCache *wc = g_new(LumenWalkCache, 1);

    if ((va & (PAGE_4K - 1)) || size == 0 || size > VA_LIMIT ||
        va > VA_LIMIT - len) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "lumen-npu: region at NPU address 0x%" PRIx64 " of "
                      "0x%" PRIx64 " bytes is not page aligned or exceeds "
                      "the %d-bit address space\n", va, size, LUMEN_VA_BITS);
        return walk_fail(f, LUMEN_MMU_FAULT_RANGE, va, 0, size);
    }
    w->host = mmap(NULL, len, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w->host == MAP_FAILED) {
        w->host = NULL;
        error_report("lumen-npu: cannot reserve a %" PRIu64 "-byte window",
                     len);
        return mmu_fail(f, LUMEN_MMU_FAULT_NOT_RAM, va);
    }
    w->map_len = len;
    w->maps = 1;        /* the reservation */
    s->window_maps_used++;
    wc->table[0] = wc->table[1] = wc->table[2] = WALK_NONE;

    while (off < len) {
        uint64_t pa, psize, chunk;
        bool wr;

        /* A walk of a huge, aliased range must not hold up a reset. */
        if (++walked % WALK_RESET_CHECK == 0 && qatomic_read(&s->reset_req)) {
            return mmu_fail(f, LUMEN_MMU_FAULT_RANGE, va + off);
        }
        if (!lumen_mmu_translate(s, wc, root, va + off, &pa, &psize, &wr,
                                 f)) {
            return false;
        }
        chunk = MIN(psize - ((va + off) & (psize - 1)), len - off);
        all_w &= wr;
        if (run_len && pa == run_pa + run_len && wr == run_w) {
            run_len += chunk;
        } else {
            if (run_len && !map_guest_run(s, w, (uint8_t *)w->host + run_off,
                                          run_pa, run_len, run_w,
                                          va + run_off, f)) {
                return false;
            }
            run_off = off;
            run_pa = pa;
            run_len = chunk;
            run_w = wr;
        }
        off += chunk;
    }
    if (!map_guest_run(s, w, (uint8_t *)w->host + run_off, run_pa, run_len,
                       run_w, va + run_off, f)) {
        return false;
    }
    w->writable = all_w;
    return true;
}

/*
 * Free the windows the current job does not use, to make room in the
 * map budget. Returns how many were freed.
 */
static uint32_t evict_idle(LumenNpuState *s)
{
    uint32_t evicted = 0;
    int i;

    for (i = 0; i < LUMEN_WINDOW_CACHE; i++) {
        LumenWindow *w = &s->windows[i];

        if (w->host && w->last_use != s->use_clock) {
            window_free(s, w);
            evicted++;
        }
    }
    trace_lumen_npu_mmu_budget(s->window_maps_used, s->window_maps, evicted);
    return evicted;
}

LumenWindow *lumen_mmu_window(LumenNpuState *s, uint32_t ctx, uint64_t root,
                              uint32_t gen, uint64_t va, uint64_t size,
                              LumenMmuFault *f)
{
    LumenWindow *w, *victim = &s->windows[0];
    int i;

    for (i = 0; i < LUMEN_WINDOW_CACHE; i++) {
        w = &s->windows[i];
        if (w->host && w->ctx == ctx && w->va == va && w->size == size &&
            w->gen == gen) {
            w->last_use = s->use_clock;
            return w;
        }
        if (!w->host || (victim->host && w->last_use < victim->last_use)) {
            victim = w;
        }
    }

    qemu_mutex_lock(&s->lock);
    s->counters[LUMEN_CNT_TLB_MISSES]++;
    qemu_mutex_unlock(&s->lock);

    w = victim;
    window_free(s, w);
    if (!window_build(s, w, root, va, size, f)) {
        window_free(s, w);
        if (f->over_budget && evict_idle(s)) {
            f->over_budget = false;
            if (window_build(s, w, root, va, size, f)) {
                goto built;
            }
            window_free(s, w);
        }
        if (f->over_budget) {
            f->over_budget = false;
            f->copy_instead = true;
            warn_report_once("lumen-npu: a region needs more than the "
                             "%u host mappings of the window-maps budget; "
                             "copying it instead", s->window_maps);
        }
        trace_lumen_npu_mmu_window(ctx, va, size, false);
        return NULL;
    }
built:
    trace_lumen_npu_mmu_window(ctx, va, size, true);
    w->ctx = ctx;
    w->va = va;
    w->size = size;
    w->gen = gen;
    w->last_use = s->use_clock;
    return w;
}

bool lumen_mmu_copy(LumenNpuState *s, uint64_t root, uint64_t va,
                    void *buf, uint64_t len, bool to_guest, bool need_write,
                    LumenMmuFault *f)
{
    g_autofree LumenWalkCache *wc = g_new(LumenWalkCache, 1);
    uint8_t *p = buf;

    trace_lumen_npu_mmu_copy(va, len, to_guest);
    wc->table[0] = wc->table[1] = wc->table[2] = WALK_NONE;
    while (len) {
        uint64_t pa, psize, chunk;
        MemTxResult res;
        bool wr;

        /* Copies go up to the bounce limit: a reset must not wait for it. */
        if (qatomic_read(&s->reset_req)) {
            return mmu_fail(f, LUMEN_MMU_FAULT_RANGE, va);
        }
        if (!lumen_mmu_translate(s, wc, root, va, &pa, &psize, &wr, f)) {
            return false;
        }
        if (need_write && !wr) {
            return walk_fail(f, LUMEN_MMU_FAULT_READONLY, va, 0, pa);
        }
        chunk = MIN(psize - (va & (psize - 1)), len);
        res = to_guest ? pci_dma_write(PCI_DEVICE(s), pa, p, chunk)
                       : pci_dma_read(PCI_DEVICE(s), pa, p, chunk);
        if (res != MEMTX_OK) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "lumen-npu: DMA %s bus address 0x%" PRIx64
                          " (NPU address 0x%" PRIx64 ") failed\n",
                          to_guest ? "to" : "from", pa, va);
            return walk_fail(f, LUMEN_MMU_FAULT_NOT_RAM, va, 0, pa);
        }
        p += chunk;
        va += chunk;
        len -= chunk;
    }
    return true;
}

void lumen_mmu_drop_stale(LumenNpuState *s, const uint32_t *gens)
{
    int i;

    for (i = 0; i < LUMEN_WINDOW_CACHE; i++) {
        LumenWindow *w = &s->windows[i];

        if (w->host && w->gen != gens[w->ctx]) {
            window_free(s, w);
        }
    }
}

void lumen_mmu_drop_all(LumenNpuState *s)
{
    int i;

    for (i = 0; i < LUMEN_WINDOW_CACHE; i++) {
        window_free(s, &s->windows[i]);
    }
}
