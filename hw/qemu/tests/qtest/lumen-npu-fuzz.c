/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A qtest-driven fuzzer of the lumen-npu device: a hostile guest, played
 * from a seed. Each seed boots a machine and performs random actions:
 *
 *   - MMIO reads and writes of every register and of reserved offsets, in
 *     every access size, with random and interesting values;
 *   - page-table entries: pages aliased by many addresses, tables aliased
 *     by other tables, 2 MiB leaves (aligned or not), whole tables of
 *     entries aliasing one page (huge ranges), entries pointing at MMIO,
 *     beyond RAM or at the tables themselves, reserved bits;
 *   - programs generated from the ops' shapes, then mutated, so a share
 *     passes the device's validator and runs;
 *   - ring descriptors (well formed or mutated) for those programs, with
 *     regions from page-sized to 2^39 bytes, and doorbells;
 *   - register resets, machine resets and power cycles at random moments;
 *   - the function's memory decoding or bus mastering switched off and on
 *     (each a change of QEMU's memory map under the worker's DMA).
 *
 * After the actions the device must still work: reset, set up afresh, it
 * completes a job. QEMU crashing, a sanitizer report (ASan/UBSan abort
 * QEMU: scripts/build-qemu --sanitize) or a dead device fail the seed;
 * the line printed first tells how to replay it.
 *
 * Usage: lumen-npu-fuzz [--tap] [--seed N] [--seeds N | --time S]
 *                       [--actions N]
 *   --tap         print TAP, one case per seed (make suite-qemu-fuzz)
 *   --seed N      first seed (default 1)
 *   --seeds N     run N consecutive seeds (default 1)
 *   --time S      instead, run consecutive seeds for S seconds
 *   --actions N   actions per seed (default 2000)
 * QTEST_QEMU_BINARY names the QEMU to fuzz, as for every qtest.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"

#include "qemu/bitops.h"
#include "lumen_regs.h"
#include "lumen_ops.h"
#include "lumen_validate.h"
#include <drm/lumen_isa.h>

#define NPU_DEVFN       QPCI_DEVFN(4, 0)
#define MIB             (1024ULL * 1024)
#define PAGE            4096ULL
#define HUGE            (2 * MIB)
#define RAM_SIZE        (256 * MIB)
#define WAIT_US         (30 * 1000 * 1000)

/* Guest-physical layout: tables, rings and records low, data above. */
#define META_BASE       (16 * MIB)
#define META_END        (48 * MIB)
#define DATA_BASE       (48 * MIB)
#define DATA_END        RAM_SIZE

/* The NPU addresses jobs use; mappings land near them. */
static const uint64_t va_bases[] = {
    0x10000000ULL, 0x20000000ULL, 0x30000000ULL, 0x40000000ULL,
    0x7fc0000000ULL,    /* the top gigabyte of the 39-bit space */
};
#define VA_PROG         0x10000000ULL

#define MAX_OPS         8
#define MAX_TRACKED     4096    /* status records read back per seed */
#define FAULT_CODES     16

typedef struct Fuzz {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar;
    GRand *rng;
    uint64_t meta_next;
    uint64_t root[LUMEN_MMU_CONTEXTS];
    uint64_t ring;
    uint32_t ring_size;
    uint32_t tail;
    uint64_t completion;
    uint64_t seqno;
    uint64_t last_table;    /* a level-2/3 table, to alias */
    uint64_t last_page;     /* a data page, to alias */
    /* the jobs of this seed whose status record is read at its end */
    uint64_t status_pa[MAX_TRACKED];
    uint64_t status_seqno[MAX_TRACKED];
    unsigned tracked;
    /* counts, summed over seeds */
    uint64_t actions, mmio, pci, ptes, programs, valid_programs, jobs, resets;
    uint64_t machine_resets;
    uint64_t completed, faulted;
    uint64_t outcome[FAULT_CODES + 1];  /* by fault code; last: other */
    uint64_t unfinished;
    uint64_t verr[64];                  /* INVALID_PROGRAM by lumen_verr */
} Fuzz;

static uint32_t rnd(Fuzz *f, uint32_t n)
{
    return n ? g_rand_int_range(f->rng, 0, n) : 0;
}

static bool chance(Fuzz *f, unsigned percent)
{
    return rnd(f, 100) < percent;
}

static uint64_t rnd64(Fuzz *f)
{
    return (uint64_t)g_rand_int(f->rng) << 32 | g_rand_int(f->rng);
}

/* Small values, edges and powers of two find more than uniform ones. */
static uint64_t interesting(Fuzz *f)
{
    static const uint64_t v[] = {
        0, 1, 2, 3, 4, 7, 8, 31, 32, 33, 255, 256, 4095, 4096, 4097,
        0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
        1ULL << 38, 1ULL << 39, (1ULL << 39) - 4096, UINT64_MAX,
        UINT64_MAX - 4095, 0x8000000000000000ULL,
    };

    switch (rnd(f, 4)) {
    case 0:
        return v[rnd(f, ARRAY_SIZE(v))];
    case 1:
        return 1ULL << rnd(f, 64);
    case 2:
        return rnd(f, 64);
    default:
        return rnd64(f);
    }
}

/* ---- machine ---- */

static void map_bar(Fuzz *f)
{
    qpci_device_enable(f->dev);
    f->bar = qpci_iomap(f->dev, LUMEN_BAR_REGS, NULL);
}

static void fuzz_start(Fuzz *f, bool shared_ram)
{
    f->qts = qtest_initf("-machine pc%s -m 256M %s -nodefaults "
                         "-device lumen-npu,addr=04.0,cores=2",
                         shared_ram ? ",memory-backend=mem" : "",
                         shared_ram ? "-object memory-backend-memfd,id=mem,"
                                      "size=256M,share=on" : "");
    f->bus = qpci_new_pc(f->qts, NULL);
    f->dev = qpci_device_find(f->bus, NPU_DEVFN);
    g_assert(f->dev);
    map_bar(f);
    f->meta_next = META_BASE;
    memset(f->root, 0, sizeof(f->root));
    f->ring = 0;
    f->seqno = 0;
    f->last_table = f->last_page = 0;
}

static void fuzz_stop(Fuzz *f)
{
    g_free(f->dev);
    qpci_free_pc(f->bus);
    qtest_quit(f->qts);
}

static uint32_t rd(Fuzz *f, uint64_t reg)
{
    return qpci_io_readl(f->dev, f->bar, reg);
}

static void wr(Fuzz *f, uint64_t reg, uint32_t v)
{
    qpci_io_writel(f->dev, f->bar, reg, v);
}

static void wr64(Fuzz *f, uint64_t reg, uint64_t v)
{
    qpci_io_writeq(f->dev, f->bar, reg, v);
}

/* Metadata memory, wrapping around: old tables get overwritten (aliased). */
static uint64_t meta_alloc(Fuzz *f, uint64_t size, uint64_t align)
{
    uint64_t pa = QEMU_ALIGN_UP(f->meta_next, align);

    if (pa + size > META_END) {
        pa = META_BASE;
    }
    f->meta_next = pa + size;
    qtest_memset(f->qts, pa, 0, size);
    return pa;
}

static uint64_t data_page(Fuzz *f, uint64_t align)
{
    return QEMU_ALIGN_DOWN(DATA_BASE + rnd64(f) % (DATA_END - DATA_BASE),
                           align);
}

/* ---- page tables ---- */

static uint64_t entry_addr(uint64_t table, uint64_t va, unsigned shift)
{
    return table + ((va >> shift) % LUMEN_PT_ENTRIES) * 8;
}

/* The table an entry points to, made (or, sometimes, aliased) if missing. */
static uint64_t next_table(Fuzz *f, uint64_t entry)
{
    uint64_t pte = qtest_readq(f->qts, entry);

    if (!(pte & LUMEN_PTE_VALID) || (pte & LUMEN_PTE_LEAF)) {
        uint64_t table = f->last_table && chance(f, 10) ?
                         f->last_table : meta_alloc(f, PAGE, PAGE);

        pte = table | LUMEN_PTE_VALID;
        qtest_writeq(f->qts, entry, pte);
    }
    f->last_table = pte & LUMEN_PTE_ADDR_MASK;
    return f->last_table;
}

static uint64_t context(Fuzz *f, unsigned ctx)
{
    if (!f->root[ctx]) {
        f->root[ctx] = meta_alloc(f, PAGE, PAGE);
    }
    wr64(f, LUMEN_REG_CTX_ROOT(ctx), f->root[ctx] | LUMEN_CTX_ROOT_VALID);
    return f->root[ctx];
}

static unsigned pick_ctx(Fuzz *f)
{
    return chance(f, 80) ? 0 : rnd(f, LUMEN_MMU_CONTEXTS);
}

static uint64_t pick_va(Fuzz *f)
{
    if (chance(f, 5)) {
        return QEMU_ALIGN_DOWN(rnd64(f) % (1ULL << LUMEN_VA_BITS), PAGE);
    }
    return va_bases[rnd(f, ARRAY_SIZE(va_bases))] + rnd(f, 2048) * PAGE;
}

/* What a leaf points at: mostly RAM, sometimes anything but. */
static uint64_t leaf_target(Fuzz *f, uint64_t align)
{
    switch (rnd(f, 12)) {
    case 0:
        return f->bar.addr & ~(align - 1);      /* our own registers */
    case 1:
        return (RAM_SIZE + rnd64(f) % (8 * MIB * 1024)) & ~(align - 1);
    case 2:
        return f->last_table & ~(align - 1);    /* a page table */
    case 3:
        return 0xfee00000ULL & ~(align - 1);    /* the local APIC */
    case 4:
    case 5:
        if (f->last_page) {
            return f->last_page & ~(align - 1);  /* aliased */
        }
        /* fall through */
    default:
        f->last_page = data_page(f, align);
        return f->last_page;
    }
}

static uint64_t leaf_flags(Fuzz *f)
{
    uint64_t flags = LUMEN_PTE_VALID | (chance(f, 70) ? LUMEN_PTE_WRITE : 0);

    if (chance(f, 4)) {
        flags |= 1ULL << (3 + rnd(f, 9));       /* reserved low bits */
    }
    if (chance(f, 3)) {
        flags |= 1ULL << (52 + rnd(f, 12));     /* reserved high bits */
    }
    if (chance(f, 3)) {
        flags &= ~LUMEN_PTE_VALID;
    }
    return flags;
}

static void map_one(Fuzz *f)
{
    unsigned ctx = pick_ctx(f);
    uint64_t va = pick_va(f);
    uint64_t l1 = context(f, ctx);
    uint64_t l1e = entry_addr(l1, va, LUMEN_PT_L1_SHIFT);
    uint64_t l2;

    if (chance(f, 3)) {                 /* a leaf at level 1: invalid */
        qtest_writeq(f->qts, l1e, leaf_target(f, PAGE) | LUMEN_PTE_VALID |
                     LUMEN_PTE_LEAF);
        return;
    }
    l2 = next_table(f, l1e);
    if (chance(f, 25)) {                /* a 2 MiB page, sometimes misaligned */
        uint64_t align = chance(f, 90) ? HUGE : PAGE;

        qtest_writeq(f->qts, entry_addr(l2, va, 21),
                     leaf_target(f, align) | leaf_flags(f) | LUMEN_PTE_LEAF);
        return;
    }
    qtest_writeq(f->qts, entry_addr(next_table(f, entry_addr(l2, va, 21)),
                                    va, 12),
                 leaf_target(f, PAGE) | leaf_flags(f));
}

/*
 * A huge range: a whole table of entries naming one page (or one table),
 * so a region of up to 1 GiB (2 MiB leaves) or 2 MiB x 512 of 4 KiB pages
 * aliases a single page of guest RAM.
 */
static void map_huge_alias(Fuzz *f)
{
    uint64_t table[LUMEN_PT_ENTRIES];
    unsigned ctx = pick_ctx(f);
    uint64_t va = va_bases[rnd(f, ARRAY_SIZE(va_bases))];
    uint64_t l1 = context(f, ctx);
    uint64_t l2 = next_table(f, entry_addr(l1, va, LUMEN_PT_L1_SHIFT));
    uint64_t e;
    unsigned i;

    if (chance(f, 50)) {
        e = leaf_target(f, HUGE) | LUMEN_PTE_VALID | LUMEN_PTE_WRITE |
            LUMEN_PTE_LEAF;
    } else {
        uint64_t l3 = meta_alloc(f, PAGE, PAGE);

        e = leaf_target(f, PAGE) | LUMEN_PTE_VALID | LUMEN_PTE_WRITE;
        for (i = 0; i < LUMEN_PT_ENTRIES; i++) {
            table[i] = cpu_to_le64(e);
        }
        qtest_memwrite(f->qts, l3, table, sizeof(table));
        e = l3 | LUMEN_PTE_VALID;
    }
    for (i = 0; i < LUMEN_PT_ENTRIES; i++) {
        table[i] = cpu_to_le64(e);
    }
    qtest_memwrite(f->qts, l2, table, sizeof(table));
}

/* Software walk of the tables: the guest address behind @va, or 0. */
static uint64_t va_to_pa(Fuzz *f, unsigned ctx, uint64_t va)
{
    uint64_t e, table = f->root[ctx];
    unsigned shift;

    if (!table) {
        return 0;
    }
    for (shift = LUMEN_PT_L1_SHIFT; ; shift -= 9) {
        e = qtest_readq(f->qts, entry_addr(table, va, shift));
        if (!(e & LUMEN_PTE_VALID) || (e & LUMEN_PTE_RESERVED)) {
            return 0;
        }
        table = e & LUMEN_PTE_ADDR_MASK;
        if ((e & LUMEN_PTE_LEAF) || shift == 12) {
            uint64_t pa = table + (va & ((1ULL << shift) - 1));

            return pa < RAM_SIZE && pa >= META_BASE ? pa : 0;
        }
        if (shift == 12 || table >= RAM_SIZE) {
            return 0;
        }
    }
}

/* Map [va, va + size) to fresh data pages, writable. */
static void map_range(Fuzz *f, unsigned ctx, uint64_t va, uint64_t size)
{
    uint64_t off;

    context(f, ctx);
    for (off = 0; off < size; off += PAGE) {
        uint64_t l2 = next_table(f, entry_addr(f->root[ctx], va + off,
                                               LUMEN_PT_L1_SHIFT));
        uint64_t l3 = next_table(f, entry_addr(l2, va + off, 21));

        qtest_writeq(f->qts, entry_addr(l3, va + off, 12),
                     data_page(f, PAGE) | LUMEN_PTE_VALID | LUMEN_PTE_WRITE);
    }
}

/* ---- programs ---- */

/* Operand k of an op sits at k * OPERAND_SPAN of its region. */
#define OPERAND_SPAN    (16 * 1024)

static struct lumen_tensor tensor(Fuzz *f, unsigned regions, unsigned k,
                                  uint8_t dtype, uint32_t cols, uint32_t rows)
{
    uint64_t esize = dtype == LUMEN_DTYPE_F16 ? 2 : 4;
    struct lumen_tensor t = {
        .dtype = dtype,
        .region = rnd(f, regions),
        .dims = { cols, rows, 1, 1 },
        .strides = { esize, esize * cols, esize * cols * rows,
                     esize * cols * rows },
        .offset = k * OPERAND_SPAN,
    };
    return t;
}

#define F32_BITS_1E_5       0x3727c5acu
#define F32_BITS_1          0x3f800000u
#define F32_BITS_10000      0x461c4000u

/*
 * One op shaped the way the validator wants it (operands of the shapes the
 * op needs, unused tensors and params zero, only the flags and args it
 * takes), so that most generated programs run; mutate() breaks some.
 */
static void gen_op(Fuzz *f, struct lumen_op *op, unsigned regions)
{
    uint32_t cols = 32 * (1 + rnd(f, 4)), rows = 1 + rnd(f, 4);
    uint32_t ctx_rows = 16, i;
    const struct lumen_op_info *info;

    memset(op, 0, sizeof(*op));
    op->opcode = rnd(f, LUMEN_OP_COUNT);
    info = &lumen_op_info[op->opcode];
    op->rows_arg = LUMEN_ARG_NONE;
    op->pos_arg = LUMEN_ARG_NONE;
    if (op->opcode == LUMEN_OP_NOP) {
        return;
    }
    op->dst = tensor(f, regions, 0, LUMEN_DTYPE_F32, cols, rows);
    for (i = 0; i < LUMEN_MAX_SRCS; i++) {
        op->src[i] = tensor(f, regions, 1 + i, LUMEN_DTYPE_F32, cols, rows);
    }
    switch (op->opcode) {
    case LUMEN_OP_MATMUL:
        op->src[0] = tensor(f, regions, 1, chance(f, 30) ? LUMEN_DTYPE_F16 :
                            LUMEN_DTYPE_F32, cols, 1 + rnd(f, 32));
        op->dst = tensor(f, regions, 0, LUMEN_DTYPE_F32, op->src[0].dims[1],
                         rows);
        op->src[2] = op->dst;
        op->src[2].offset = 3 * OPERAND_SPAN;
        break;
    case LUMEN_OP_RMSNORM:
        op->src[1] = tensor(f, regions, 2, LUMEN_DTYPE_F32, cols, 1);
        op->params[LUMEN_P_EPS] = F32_BITS_1E_5;
        op->params[LUMEN_P_N_GROUP] = 1;
        break;
    case LUMEN_OP_EMBED:
        op->src[0] = tensor(f, regions, 1, LUMEN_DTYPE_F32, cols, 8);
        op->src[1] = tensor(f, regions, 2, LUMEN_DTYPE_I32, rows, 1);
        break;
    case LUMEN_OP_ARGMAX:
        op->dst = tensor(f, regions, 0, LUMEN_DTYPE_I32, 1, rows);
        break;
    case LUMEN_OP_TOPK:
        op->params[LUMEN_P_K] = 1 + rnd(f, 4);
        op->dst = tensor(f, regions, 0, LUMEN_DTYPE_I32,
                         op->params[LUMEN_P_K], rows);
        break;
    case LUMEN_OP_ROPE:
        op->params[LUMEN_P_N_HEAD] = 1;
        op->params[LUMEN_P_N_ROT] = cols;
        op->params[LUMEN_P_FREQ_BASE] = F32_BITS_10000;
        op->src[1] = tensor(f, regions, 2, LUMEN_DTYPE_F32, cols / 2, 1);
        break;
    case LUMEN_OP_KV_WRITE:
        op->dst = tensor(f, regions, 0, LUMEN_DTYPE_F32, cols, ctx_rows);
        break;
    case LUMEN_OP_ATTENTION:
        op->params[LUMEN_P_N_HEAD] = 1;
        op->params[LUMEN_P_N_KV_HEAD] = 1;
        op->params[LUMEN_P_SCALE] = F32_BITS_1;
        op->src[1] = tensor(f, regions, 2, LUMEN_DTYPE_F32, cols, ctx_rows);
        op->src[2] = tensor(f, regions, 3, LUMEN_DTYPE_F32, cols, ctx_rows);
        break;
    }
    if (info->flags && chance(f, 30)) {
        op->flags = info->flags & g_rand_int(f->rng);
    }
    for (i = 0; i < LUMEN_MAX_SRCS; i++) {
        if (i >= info->srcs + !!(op->flags & info->extra_src_flag)) {
            memset(&op->src[i], 0, sizeof(op->src[i]));
        }
    }
    for (i = 0; i < LUMEN_MAX_PARAMS; i++) {
        if (!(info->params & (1u << i))) {
            op->params[i] = 0;
        }
    }
    if (info->rows && chance(f, 20)) {
        op->rows_arg = rnd(f, 4);
    }
    if (info->pos && chance(f, 50)) {
        op->pos_arg = rnd(f, 4);
    }
}

/* Flip, set or clear bytes, or overwrite a field with an edge value. */
static void mutate(Fuzz *f, uint8_t *buf, size_t len)
{
    unsigned n = 1 + rnd(f, 4), i;

    for (i = 0; i < n; i++) {
        size_t at = rnd(f, len);

        switch (rnd(f, 3)) {
        case 0:
            buf[at] ^= 1u << rnd(f, 8);
            break;
        case 1:
            buf[at] = rnd(f, 256);
            break;
        default:
            if (len >= 8) {
                stq_le_p(buf + QEMU_ALIGN_DOWN(rnd(f, len - 7), 4),
                         interesting(f));
            }
        }
    }
}

/* A program at VA_PROG of @ctx, mapped and written; returns its size. */
static uint32_t write_program(Fuzz *f, unsigned ctx, unsigned regions)
{
    struct {
        struct lumen_prog_header h;
        struct lumen_op ops[MAX_OPS];
    } p;
    unsigned count = 1 + rnd(f, MAX_OPS), i;
    uint32_t size = sizeof(p.h) + count * sizeof(struct lumen_op);
    struct lumen_validation v;
    uint64_t off;

    memset(&p, 0, sizeof(p));
    p.h.magic = LUMEN_PROG_MAGIC;
    p.h.isa_version = LUMEN_ISA_VERSION;
    p.h.header_size = sizeof(p.h);
    p.h.op_size = sizeof(struct lumen_op);
    p.h.op_count = count;
    p.h.region_count = regions;
    p.h.args_region = rnd(f, regions);
    for (i = 0; i < count; i++) {
        gen_op(f, &p.ops[i], regions);
    }
    if (chance(f, 30)) {
        mutate(f, (uint8_t *)&p, size);
    }
    if (!lumen_validate(&p, size, &v)) {
        f->valid_programs++;
    }
    if (!va_to_pa(f, ctx, VA_PROG) ||
        !va_to_pa(f, ctx, VA_PROG + size - 1) || chance(f, 10)) {
        map_range(f, ctx, VA_PROG, size);
    }
    for (off = 0; off < size; off += PAGE) {
        uint64_t pa = va_to_pa(f, ctx, VA_PROG + off);
        uint64_t chunk = MIN(PAGE, size - off);

        if (pa && pa + chunk <= RAM_SIZE) {
            qtest_memwrite(f->qts, pa, (uint8_t *)&p + off, chunk);
        }
    }
    wr(f, LUMEN_REG_MMU_INVALIDATE, LUMEN_INVALIDATE_CONTEXT(ctx));
    f->programs++;
    return chance(f, 90) ? size : interesting(f);
}

/* ---- ring ---- */

static void ring_setup(Fuzz *f)
{
    f->ring_size = 1u << (1 + rnd(f, 6));
    f->ring = meta_alloc(f, f->ring_size * LUMEN_JOB_DESC_SIZE,
                         LUMEN_RING_ALIGN);
    f->completion = meta_alloc(f, 8, 8);
    f->tail = 0;
    f->seqno = 0;
    wr64(f, LUMEN_REG_RING_BASE, f->ring);
    wr(f, LUMEN_REG_RING_SIZE, f->ring_size);
    wr64(f, LUMEN_REG_COMPLETION_ADDR, f->completion);
    wr(f, LUMEN_REG_CONTROL, LUMEN_CONTROL_RING_ENABLE);
}

static uint64_t region_size(Fuzz *f)
{
    static const uint64_t sizes[] = {
        4 * OPERAND_SPAN, PAGE, 2 * PAGE, HUGE, 8 * HUGE, 512 * HUGE,
        1ULL << 38, 1ULL << 39,
    };

    return chance(f, 70) ? sizes[0] : chance(f, 50) ? sizes[rnd(f, 4)] :
           chance(f, 60) ? sizes[rnd(f, ARRAY_SIZE(sizes))] : interesting(f);
}

static void submit_job(Fuzz *f)
{
    uint8_t d[LUMEN_JOB_DESC_SIZE] = { 0 };
    unsigned ctx = pick_ctx(f), regions = 1 + rnd(f, 4), i;
    uint32_t prog_size;

    if (!f->ring || chance(f, 3)) {
        ring_setup(f);
    }
    context(f, ctx);
    prog_size = write_program(f, ctx, regions);
    stq_le_p(d + LUMEN_JOB_PROG_VA, VA_PROG);
    stl_le_p(d + LUMEN_JOB_PROG_SIZE, prog_size);
    stq_le_p(d + LUMEN_JOB_SEQNO, ++f->seqno);
    if (chance(f, 90)) {
        uint64_t st = meta_alloc(f, LUMEN_STATUS_REC_SIZE, 8);

        stq_le_p(d + LUMEN_JOB_STATUS_ADDR, st);
        if (f->tracked < MAX_TRACKED) {
            f->status_pa[f->tracked] = st;
            f->status_seqno[f->tracked++] = f->seqno;
        }
    } else {
        stq_le_p(d + LUMEN_JOB_STATUS_ADDR, interesting(f));
    }
    d[LUMEN_JOB_CONTEXT] = ctx;
    d[LUMEN_JOB_REGION_COUNT] = chance(f, 95) ? regions :
                                rnd(f, LUMEN_MAX_REGIONS + 3);
    for (i = 0; i < MIN(d[LUMEN_JOB_REGION_COUNT], LUMEN_MAX_REGIONS); i++) {
        uint64_t va = va_bases[1 + rnd(f, ARRAY_SIZE(va_bases) - 1)];
        uint64_t size = region_size(f);

        if (chance(f, 90) && size <= 4 * OPERAND_SPAN &&
            !va_to_pa(f, ctx, va)) {
            map_range(f, ctx, va, size);
        }
        stq_le_p(d + LUMEN_JOB_REGION_VA(i), va);
        stq_le_p(d + LUMEN_JOB_REGION_SIZE(i), size);
    }
    if (chance(f, 10)) {
        mutate(f, d, sizeof(d));
    }
    qtest_memwrite(f->qts, f->ring + (f->tail % f->ring_size) *
                   LUMEN_JOB_DESC_SIZE, d, sizeof(d));
    wr(f, LUMEN_REG_RING_TAIL, ++f->tail);
    f->jobs++;
}

/* ---- MMIO ---- */

static const uint32_t registers[] = {
    LUMEN_REG_ID, LUMEN_REG_CAPS, LUMEN_REG_JOB_COST_LIMIT,
    LUMEN_REG_SCRATCH_LIMIT, LUMEN_REG_BOUNCE_LIMIT, LUMEN_REG_CONTROL,
    LUMEN_REG_STATUS, LUMEN_REG_RESET, LUMEN_REG_POWER_CTRL,
    LUMEN_REG_POWER_STATE, LUMEN_REG_IRQ_STATUS, LUMEN_REG_IRQ_MASK,
    LUMEN_REG_RING_BASE, LUMEN_REG_RING_SIZE, LUMEN_REG_RING_HEAD,
    LUMEN_REG_RING_TAIL, LUMEN_REG_COMPLETION_ADDR, LUMEN_REG_LAST_SEQNO,
    LUMEN_REG_FAULT_CODE, LUMEN_REG_FAULT_ADDR, LUMEN_REG_CTX_ROOT(0),
    LUMEN_REG_CTX_ROOT(1), LUMEN_REG_MMU_INVALIDATE, LUMEN_REG_DBG_HANG_NEXT,
    LUMEN_REG_DBG_FAULT_NEXT, LUMEN_REG_DBG_DELAY_US,
    LUMEN_REG_DBG_FAIL_RESET, LUMEN_REG_CNT_BUSY_NS,
};

static void mmio(Fuzz *f)
{
    uint64_t reg = chance(f, 80) ? registers[rnd(f, ARRAY_SIZE(registers))]
                                 : rnd(f, LUMEN_BAR_REGS_SIZE);
    uint64_t val = interesting(f);

    f->mmio++;
    if (reg == LUMEN_REG_DBG_DELAY_US) {
        val %= 20000;           /* a delay, not a hang: resets end hangs */
    }
    if (chance(f, 40)) {
        switch (rnd(f, 4)) {
        case 0:
            qpci_io_readb(f->dev, f->bar, reg);
            break;
        case 1:
            qpci_io_readw(f->dev, f->bar, reg & ~1ULL);
            break;
        case 2:
            qpci_io_readl(f->dev, f->bar, reg & ~3ULL);
            break;
        default:
            qpci_io_readq(f->dev, f->bar, reg & ~7ULL);
        }
        return;
    }
    switch (rnd(f, 8)) {
    case 0:
        qpci_io_writeb(f->dev, f->bar, reg, val);
        break;
    case 1:
        qpci_io_writew(f->dev, f->bar, reg & ~1ULL, val);
        break;
    case 2:
    case 3:
        qpci_io_writeq(f->dev, f->bar, reg & ~7ULL, val);
        break;
    default:
        qpci_io_writel(f->dev, f->bar, reg & ~3ULL, val);
    }
}

/* ---- resets ---- */

static void machine_reset(Fuzz *f)
{
    qtest_qmp_assert_success(f->qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(f->qts, "RESET");
    map_bar(f);
    memset(f->root, 0, sizeof(f->root));
    f->ring = 0;
    f->machine_resets++;
}

/* Poll until (reg & mask) == want; false after WAIT_US. */
static bool wait_reg(Fuzz *f, uint64_t reg, uint32_t mask, uint32_t want)
{
    int64_t end = g_get_monotonic_time() + WAIT_US;

    while ((rd(f, reg) & mask) != want) {
        if (g_get_monotonic_time() > end) {
            return false;
        }
        g_usleep(200);
    }
    return true;
}

/* The device forgets its ring: the next job sets one up again. */
static void device_reset(Fuzz *f)
{
    wr(f, LUMEN_REG_POWER_CTRL, LUMEN_POWER_REQ_ON);
    wr(f, LUMEN_REG_RESET, LUMEN_RESET_GO);
    f->ring = 0;
    f->resets++;
}

/*
 * The PCI function's own switches, as generic-fuzz's PCI config ops do:
 * memory decoding or bus mastering off for a moment (each change rebuilds
 * QEMU's memory map under the worker's DMA), then back on.
 */
static void pci_toggle(Fuzz *f)
{
    uint16_t cmd = qpci_config_readw(f->dev, PCI_COMMAND);
    uint16_t bit = chance(f, 50) ? PCI_COMMAND_MEMORY : PCI_COMMAND_MASTER;

    qpci_config_writew(f->dev, PCI_COMMAND, cmd & ~bit);
    if (chance(f, 50)) {
        g_usleep(rnd(f, 1000));
    }
    qpci_config_writew(f->dev, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY |
                       PCI_COMMAND_MASTER);
    f->pci++;
}

/* One random action. */
static void act(Fuzz *f)
{
    unsigned r = rnd(f, 1000);

    f->actions++;
    if (r < 300) {
        mmio(f);
    } else if (r < 500) {
        map_one(f);
        f->ptes++;
    } else if (r < 520) {
        map_huge_alias(f);
        f->ptes += LUMEN_PT_ENTRIES;
    } else if (r < 800) {
        submit_job(f);
    } else if (r < 900) {
        g_usleep(rnd(f, 2000));
    } else if (r < 960) {
        device_reset(f);
    } else if (r < 965) {
        machine_reset(f);
    } else if (r < 970) {
        pci_toggle(f);
    } else if (r < 980) {
        wr(f, LUMEN_REG_POWER_CTRL, LUMEN_POWER_REQ_OFF);
        f->ring = 0;
    } else {
        wr(f, LUMEN_REG_POWER_CTRL, LUMEN_POWER_REQ_ON);
    }
}

/*
 * The device survived: after a reset (two: the fuzz may have armed a
 * failing one) and a fresh setup it completes a NOP job.
 */
static void check_alive(Fuzz *f)
{
    struct {
        struct lumen_prog_header h;
        struct lumen_op op;
    } p = {
        .h = {
            .magic = LUMEN_PROG_MAGIC, .isa_version = LUMEN_ISA_VERSION,
            .header_size = sizeof(p.h), .op_size = sizeof(p.op),
            .op_count = 1, .region_count = 1,
        },
        .op = { .opcode = LUMEN_OP_NOP, .rows_arg = LUMEN_ARG_NONE,
                .pos_arg = LUMEN_ARG_NONE },
    };
    uint8_t d[LUMEN_JOB_DESC_SIZE] = { 0 };
    uint64_t prog = meta_alloc(f, PAGE, PAGE), l2, l3, st;
    int64_t end;
    int i;

    for (i = 0; i < 2; i++) {
        device_reset(f);
        g_assert_true(wait_reg(f, LUMEN_REG_STATUS, LUMEN_STATUS_RESETTING, 0));
    }
    g_assert_cmphex(rd(f, LUMEN_REG_STATUS), ==, 0);
    f->root[0] = meta_alloc(f, PAGE, PAGE);
    l2 = meta_alloc(f, PAGE, PAGE);
    l3 = meta_alloc(f, PAGE, PAGE);
    qtest_writeq(f->qts, entry_addr(f->root[0], VA_PROG, LUMEN_PT_L1_SHIFT),
                 l2 | LUMEN_PTE_VALID);
    qtest_writeq(f->qts, entry_addr(l2, VA_PROG, 21), l3 | LUMEN_PTE_VALID);
    qtest_writeq(f->qts, entry_addr(l3, VA_PROG, 12),
                 prog | LUMEN_PTE_VALID);
    qtest_memwrite(f->qts, prog, &p, sizeof(p));
    wr64(f, LUMEN_REG_CTX_ROOT(0), f->root[0] | LUMEN_CTX_ROOT_VALID);
    f->ring_size = 2;
    f->ring = meta_alloc(f, 2 * LUMEN_JOB_DESC_SIZE, LUMEN_RING_ALIGN);
    f->completion = meta_alloc(f, 8, 8);
    st = meta_alloc(f, LUMEN_STATUS_REC_SIZE, 8);
    wr64(f, LUMEN_REG_RING_BASE, f->ring);
    wr(f, LUMEN_REG_RING_SIZE, 2);
    wr64(f, LUMEN_REG_COMPLETION_ADDR, f->completion);
    wr(f, LUMEN_REG_CONTROL, LUMEN_CONTROL_RING_ENABLE);
    stq_le_p(d + LUMEN_JOB_PROG_VA, VA_PROG);
    stl_le_p(d + LUMEN_JOB_PROG_SIZE, sizeof(p));
    stq_le_p(d + LUMEN_JOB_SEQNO, 77);
    stq_le_p(d + LUMEN_JOB_STATUS_ADDR, st);
    d[LUMEN_JOB_REGION_COUNT] = 0;
    qtest_memwrite(f->qts, f->ring, d, sizeof(d));
    wr(f, LUMEN_REG_RING_TAIL, 1);
    end = g_get_monotonic_time() + WAIT_US;
    while (qtest_readq(f->qts, f->completion) != 77) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(200);
    }
    g_assert_cmpuint(qtest_readl(f->qts, st + LUMEN_STATUS_FAULT), ==,
                     LUMEN_FAULT_NONE);
}

/*
 * The device's job counters, and the status records of the jobs tracked:
 * how many ran to the end, faulted on what, or were never finished
 * (dropped by a reset, a stopped ring, a record overwritten since).
 */
static void count_outcomes(Fuzz *f)
{
    unsigned i;

    f->completed += qpci_io_readq(f->dev, f->bar, LUMEN_REG_CNT_JOBS);
    f->faulted += qpci_io_readq(f->dev, f->bar, LUMEN_REG_CNT_FAULTS);
    for (i = 0; i < f->tracked; i++) {
        uint64_t pa = f->status_pa[i];
        uint32_t code;

        if (qtest_readq(f->qts, pa + LUMEN_STATUS_SEQNO) !=
            f->status_seqno[i]) {
            f->unfinished++;
            continue;
        }
        code = qtest_readl(f->qts, pa + LUMEN_STATUS_FAULT);
        f->outcome[MIN(code, FAULT_CODES)]++;
        if (code == LUMEN_FAULT_INVALID_PROGRAM) {
            f->verr[MIN(qtest_readl(f->qts, pa + LUMEN_STATUS_DETAIL),
                        63)]++;
        }
    }
    f->tracked = 0;
}

static bool tap;

static void run_seed(Fuzz *f, uint32_t seed, unsigned actions)
{
    unsigned i;

    f->rng = g_rand_new_with_seed(seed);
    printf("%slumen-npu-fuzz: seed %u (replay: lumen-npu-fuzz --seed %u "
           "--actions %u)\n", tap ? "# " : "", seed, seed, actions);
    fflush(stdout);
    fuzz_start(f, chance(f, 85));
    for (i = 0; i < actions; i++) {
        act(f);
    }
    /* the counters survive resets: they add up the seed's jobs */
    device_reset(f);
    g_assert_true(wait_reg(f, LUMEN_REG_STATUS, LUMEN_STATUS_RESETTING, 0));
    count_outcomes(f);
    check_alive(f);
    fuzz_stop(f);
    g_rand_free(f->rng);
}

int main(int argc, char **argv)
{
    uint32_t seed = 1, seeds = 1;
    unsigned actions = 2000, run = 0;
    int64_t deadline = 0, start = g_get_monotonic_time();
    Fuzz f = { 0 };
    int i;

    for (i = 1; i < argc; i += 2) {
        uint64_t v;

        if (!strcmp(argv[i], "--tap")) {
            tap = true;
            i--;
            continue;
        }
        if (i + 1 == argc) {
            break;
        }
        v = g_ascii_strtoull(argv[i + 1], NULL, 0);
        if (!strcmp(argv[i], "--seed")) {
            seed = v;
        } else if (!strcmp(argv[i], "--seeds")) {
            seeds = v;
        } else if (!strcmp(argv[i], "--time")) {
            deadline = start + v * G_USEC_PER_SEC;
        } else if (!strcmp(argv[i], "--actions")) {
            actions = v;
        } else {
            break;
        }
    }
    if (i < argc) {
        fprintf(stderr, "usage: lumen-npu-fuzz [--seed N] [--seeds N | "
                "--time S] [--actions N]\n");
        return 2;
    }
    {
        /* libqtest relies on GTest; our options are not its own */
        char *fake[] = { argv[0], NULL };
        char **fake_argv = fake;
        int fake_argc = 1;

        g_test_init(&fake_argc, &fake_argv, NULL);
    }

    if (tap && !deadline) {
        printf("1..%u\n", seeds);
    }
    while (deadline ? g_get_monotonic_time() < deadline : run < seeds) {
        run_seed(&f, seed + run, actions);
        run++;
        if (tap) {
            printf("ok %u - seed %u: %u actions, device alive\n", run,
                   seed + run - 1, actions);
            fflush(stdout);
        }
    }
    if (tap && deadline) {
        printf("1..%u\n", run);
    }
    printf("%slumen-npu-fuzz: %u seeds, %" PRIu64 " actions (%" PRIu64
           " MMIO, %" PRIu64 " PCI toggles, %" PRIu64 " PTEs, %" PRIu64
           " programs (%" PRIu64
           " valid), %" PRIu64
           " jobs submitted: %" PRIu64 " completed, %" PRIu64 " faulted; %"
           PRIu64 " device resets, %" PRIu64 " machine resets) in %.1f s, "
           "no crash, device alive after every seed\n", tap ? "# " : "",
           run, f.actions, f.mmio, f.pci, f.ptes, f.programs,
           f.valid_programs,
           f.jobs, f.completed, f.faulted, f.resets, f.machine_resets,
           (g_get_monotonic_time() - start) / 1e6);
    printf("%slumen-npu-fuzz: status records read back: %" PRIu64
           " unfinished or overwritten", tap ? "# " : "", f.unfinished);
    for (i = 0; i <= FAULT_CODES; i++) {
        if (f.outcome[i]) {
            printf(", %" PRIu64 " %s %d", f.outcome[i],
                   i == FAULT_CODES ? "other" : "fault", i);
        }
    }
    printf("\n");
    if (getenv("LUMEN_FUZZ_VERBOSE")) {
        for (i = 0; i < 64; i++) {
            if (f.verr[i]) {
                printf("%slumen-npu-fuzz: refused by the validator: %"
                       PRIu64 " x verr %d\n", tap ? "# " : "", f.verr[i], i);
            }
        }
    }
    return 0;
}
