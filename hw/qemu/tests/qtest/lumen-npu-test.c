/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtests of the lumen-npu device: registers, ring, completion write-back,
 * MSI-X, the MMU (4 KiB and 2 MiB pages, faults, invalidation, contexts),
 * programs run through the Lumen executor on guest memory, test hooks,
 * reset, power, counters, and the guest-error log and trace points. Each
 * case boots its own machine with 1 GiB of guest RAM in a shared memfd, as
 * the device requires for zero-copy regions.
 *
 * The page tables, descriptors and programs are built here from the
 * specification (lumen_regs.h, lumen_isa.h); expected results come from
 * plain reference loops in this file.
 */
#include "qemu/osdep.h"
#include <math.h>
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qapi/qmp/qdict.h"
#include "libqos/pci.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"

#include "qemu/bitops.h"
#include "lumen_regs.h"
#include "lumen_ops.h"
#include "lumen_validate.h"
#include "silicon.h"
#include <drm/lumen_isa.h>

#define NPU_SLOT        4
#define NPU_DEVFN       QPCI_DEVFN(NPU_SLOT, 0)
#define MIB             (1024ULL * 1024)
#define PAGE            4096ULL
#define HUGE            (2 * MIB)
#define WAIT_US         (30 * 1000 * 1000)

/* Guest-physical layout: small things from 16 MiB, big regions at 256 MiB. */
#define ALLOC_BASE      (16 * MIB)
#define ALLOC_END       (256 * MIB)
#define BIG_BASE        (256 * MIB)

/* NPU virtual addresses used by the tests. */
#define VA_PROG         0x10000000ULL
#define VA_IN           0x20000000ULL
#define VA_OUT          0x30000000ULL
#define VA_BIG          0x40000000ULL

typedef struct Npu {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar bar;
    uint64_t next_pa;
    uint64_t root[LUMEN_MMU_CONTEXTS];
    uint64_t ring;
    uint32_t ring_size;
    uint32_t tail;
    uint64_t completion;
    uint64_t seqno;
} Npu;

typedef struct Job {
    uint64_t prog_va;
    uint32_t prog_size;
    uint8_t ctx;
    uint8_t region_count;
    uint64_t va[LUMEN_MAX_REGIONS];
    uint64_t size[LUMEN_MAX_REGIONS];
} Job;

/* What the device wrote back for one job. */
typedef struct Status {
    uint64_t seqno;
    uint32_t fault;
    uint32_t op;
    uint32_t region;
    uint32_t detail;
    uint64_t addr;
    uint64_t busy_ns;
    uint64_t ops;
} Status;

typedef struct Prog {
    struct lumen_prog_header h;
    struct lumen_op ops[4];
} Prog;

/* ---- machine and registers ---- */

/* Guest RAM the device can map: a shared memfd. */
#define MEMFD_RAM "-machine pc,memory-backend=mem -m 1G " \
                  "-object memory-backend-memfd,id=mem,size=1G,share=on"
/* Guest RAM it cannot map, only copy. */
#define PRIVATE_RAM "-machine pc -m 1G"

static Npu *npu_start(const char *ram, const char *props)
{
    Npu *n = g_new0(Npu, 1);

    n->qts = qtest_initf("%s -nodefaults -device lumen-npu,addr=04.0%s%s",
                         ram, props ? "," : "", props ? props : "");
    n->bus = qpci_new_pc(n->qts, NULL);
    n->dev = qpci_device_find(n->bus, NPU_DEVFN);
    g_assert(n->dev);
    qpci_device_enable(n->dev);
    n->bar = qpci_iomap(n->dev, LUMEN_BAR_REGS, NULL);
    n->next_pa = ALLOC_BASE;
    return n;
}

static void npu_stop(Npu *n)
{
    g_free(n->dev);
    qpci_free_pc(n->bus);
    qtest_quit(n->qts);
    g_free(n);
}

static uint32_t rd(Npu *n, uint64_t reg)
{
    return qpci_io_readl(n->dev, n->bar, reg);
}

static uint64_t rd64(Npu *n, uint64_t reg)
{
    return qpci_io_readq(n->dev, n->bar, reg);
}

static void wr(Npu *n, uint64_t reg, uint32_t v)
{
    qpci_io_writel(n->dev, n->bar, reg, v);
}

static void wr64(Npu *n, uint64_t reg, uint64_t v)
{
    qpci_io_writeq(n->dev, n->bar, reg, v);
}

/* Poll until (reg & mask) == want; fails the test after WAIT_US. */
static void wait_reg(Npu *n, uint64_t reg, uint32_t mask, uint32_t want)
{
    int64_t end = g_get_monotonic_time() + WAIT_US;

    while ((rd(n, reg) & mask) != want) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(200);
    }
}

/* The device resets itself at machine start; wait for that to finish. */
static Npu *npu_ready_ram(const char *ram, const char *props)
{
    Npu *n = npu_start(ram, props);

    wait_reg(n, LUMEN_REG_STATUS, LUMEN_STATUS_RESETTING, 0);
    wr(n, LUMEN_REG_IRQ_STATUS, LUMEN_IRQ_ALL);
    return n;
}

static Npu *npu_ready(const char *props)
{
    return npu_ready_ram(MEMFD_RAM, props);
}

static void npu_reset(Npu *n)
{
    wr(n, LUMEN_REG_RESET, LUMEN_RESET_GO);
    wait_reg(n, LUMEN_REG_STATUS, LUMEN_STATUS_RESETTING, 0);
}

/* ---- guest memory and page tables ---- */

static uint64_t galloc(Npu *n, uint64_t size, uint64_t align)
{
    uint64_t pa = QEMU_ALIGN_UP(n->next_pa, align);

    n->next_pa = pa + size;
    g_assert_cmpuint(n->next_pa, <=, ALLOC_END);
    qtest_memset(n->qts, pa, 0, size);
    return pa;
}

static uint64_t table_entry(uint64_t table, uint64_t va, unsigned shift)
{
    return table + ((va >> shift) % LUMEN_PT_ENTRIES) * 8;
}

/* The next-level table an entry points to, created when missing. */
static uint64_t next_table(Npu *n, uint64_t entry)
{
    uint64_t pte = qtest_readq(n->qts, entry);

    if (!(pte & LUMEN_PTE_VALID)) {
        pte = galloc(n, PAGE, PAGE) | LUMEN_PTE_VALID;
        qtest_writeq(n->qts, entry, pte);
    }
    return pte & LUMEN_PTE_ADDR_MASK;
}

static void ctx_create(Npu *n, unsigned ctx)
{
    n->root[ctx] = galloc(n, PAGE, PAGE);
    wr64(n, LUMEN_REG_CTX_ROOT(ctx), n->root[ctx] | LUMEN_CTX_ROOT_VALID);
}

/* Map one page of @page_size (4 KiB or 2 MiB) at @va to @pa in @ctx. */
static void map_page(Npu *n, unsigned ctx, uint64_t va, uint64_t pa,
                     uint64_t page_size, bool writable)
{
    uint64_t l2 = next_table(n, table_entry(n->root[ctx], va, 30));
    uint64_t flags = LUMEN_PTE_VALID | (writable ? LUMEN_PTE_WRITE : 0);

    if (page_size == HUGE) {
        qtest_writeq(n->qts, table_entry(l2, va, 21),
                     pa | flags | LUMEN_PTE_LEAF);
    } else {
        uint64_t l3 = next_table(n, table_entry(l2, va, 21));

        qtest_writeq(n->qts, table_entry(l3, va, 12), pa | flags);
    }
}

/*
 * Back [va, va + size) with freshly allocated pages mapped in reverse
 * order, so that the region is contiguous for the NPU but not in guest
 * RAM. Returns the guest-physical address of each page in @pas.
 */
static void map_scattered(Npu *n, unsigned ctx, uint64_t va, uint64_t size,
                          uint64_t page_size, bool writable, uint64_t *pas)
{
    unsigned count = DIV_ROUND_UP(size, page_size), i;
    uint64_t base = galloc(n, count * page_size, page_size);

    for (i = 0; i < count; i++) {
        pas[i] = base + (count - 1 - i) * page_size;
        map_page(n, ctx, va + i * page_size, pas[i], page_size, writable);
    }
}

/*
 * Map [va, va + size) (2 MiB aligned) with 4 KiB pages, neighbours swapped
 * so that no two consecutive pages are contiguous in guest RAM, writing
 * each level-3 table in one go. Returns the guest-physical base.
 */
static uint64_t map_swapped_4k(Npu *n, unsigned ctx, uint64_t va,
                               uint64_t size)
{
    uint64_t base = galloc(n, size, HUGE);
    g_autofree uint64_t *table = g_new(uint64_t, LUMEN_PT_ENTRIES);
    uint64_t off;
    unsigned i;

    for (off = 0; off < size; off += HUGE) {
        uint64_t l2 = next_table(n, table_entry(n->root[ctx], va + off, 30));
        uint64_t l3 = next_table(n, table_entry(l2, va + off, 21));

        for (i = 0; i < LUMEN_PT_ENTRIES; i++) {
            table[i] = cpu_to_le64((base + off + (i ^ 1) * PAGE) |
                                   LUMEN_PTE_VALID | LUMEN_PTE_WRITE);
        }
        qtest_memwrite(n->qts, l3, table, LUMEN_PT_ENTRIES * 8);
    }
    return base;
}

/* Software walk of our own tables: the guest address behind @va. */
static uint64_t va_to_pa(Npu *n, unsigned ctx, uint64_t va)
{
    uint64_t l1e = qtest_readq(n->qts, table_entry(n->root[ctx], va, 30));
    uint64_t l2e, l3e;

    g_assert(l1e & LUMEN_PTE_VALID);
    l2e = qtest_readq(n->qts, table_entry(l1e & LUMEN_PTE_ADDR_MASK,
                                          va, 21));
    g_assert(l2e & LUMEN_PTE_VALID);
    if (l2e & LUMEN_PTE_LEAF) {
        return (l2e & LUMEN_PTE_ADDR_MASK) + (va & (HUGE - 1));
    }
    l3e = qtest_readq(n->qts, table_entry(l2e & LUMEN_PTE_ADDR_MASK,
                                          va, 12));
    g_assert(l3e & LUMEN_PTE_VALID);
    return (l3e & LUMEN_PTE_ADDR_MASK) + (va & (PAGE - 1));
}

static void va_write(Npu *n, unsigned ctx, uint64_t va, const void *buf,
                     size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        size_t chunk = MIN(len, PAGE - (va & (PAGE - 1)));

        qtest_memwrite(n->qts, va_to_pa(n, ctx, va), p, chunk);
        p += chunk;
        va += chunk;
        len -= chunk;
    }
}

static void va_read(Npu *n, unsigned ctx, uint64_t va, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        size_t chunk = MIN(len, PAGE - (va & (PAGE - 1)));

        qtest_memread(n->qts, va_to_pa(n, ctx, va), p, chunk);
        p += chunk;
        va += chunk;
        len -= chunk;
    }
}

/* ---- programs ---- */

static void prog_init(Prog *p, uint32_t region_count)
{
    memset(p, 0, sizeof(*p));
    p->h.magic = LUMEN_PROG_MAGIC;
    p->h.isa_version = LUMEN_ISA_VERSION;
    p->h.header_size = sizeof(p->h);
    p->h.op_size = sizeof(struct lumen_op);
    p->h.region_count = region_count;
}

static struct lumen_op *prog_op(Prog *p, uint16_t opcode)
{
    struct lumen_op *op = &p->ops[p->h.op_count++];

    g_assert_cmpuint(p->h.op_count, <=, ARRAY_SIZE(p->ops));
    op->opcode = opcode;
    op->rows_arg = LUMEN_ARG_NONE;
    op->pos_arg = LUMEN_ARG_NONE;
    return op;
}

static size_t prog_size(const Prog *p)
{
    return sizeof(p->h) + p->h.op_count * sizeof(struct lumen_op);
}

/* A contiguous F32 matrix of @cols x @rows at @offset of @region. */
static struct lumen_tensor f32(uint8_t region, uint64_t offset,
                               uint32_t cols, uint32_t rows)
{
    struct lumen_tensor t = {
        .dtype = LUMEN_DTYPE_F32,
        .region = region,
        .dims = { cols, rows, 1, 1 },
        .strides = { 4, 4ULL * cols, 4ULL * cols * rows,
                     4ULL * cols * rows },
        .offset = offset,
    };
    return t;
}

/* Put @p in read-only NPU memory of @ctx at VA_PROG; fill in @job. */
static void prog_load(Npu *n, unsigned ctx, const Prog *p, Job *job)
{
    uint64_t pa[2];
    size_t size = prog_size(p);

    g_assert_cmpuint(size, <=, 2 * PAGE);
    map_scattered(n, ctx, VA_PROG, size, PAGE, false, pa);
    va_write(n, ctx, VA_PROG, p, size);
    /* as a driver does after changing mappings */
    wr(n, LUMEN_REG_MMU_INVALIDATE, LUMEN_INVALIDATE_CONTEXT(ctx));
    job->prog_va = VA_PROG;
    job->prog_size = size;
    job->ctx = ctx;
}

static void nop_job(Npu *n, unsigned ctx, Job *job)
{
    Prog p;

    prog_init(&p, 1);
    prog_op(&p, LUMEN_OP_NOP);
    memset(job, 0, sizeof(*job));
    prog_load(n, ctx, &p, job);
}

/* ---- ring ---- */

static void ring_init(Npu *n, uint32_t entries)
{
    n->ring_size = entries;
    n->ring = galloc(n, entries * LUMEN_JOB_DESC_SIZE, LUMEN_RING_ALIGN);
    n->completion = galloc(n, 8, 8);
    n->tail = 0;
    wr64(n, LUMEN_REG_RING_BASE, n->ring);
    wr(n, LUMEN_REG_RING_SIZE, entries);
    wr64(n, LUMEN_REG_COMPLETION_ADDR, n->completion);
    wr(n, LUMEN_REG_CONTROL, LUMEN_CONTROL_RING_ENABLE);
}

/*
 * Write @job into the ring with descriptor flags @flags (0: v1 has none)
 * and completion vector @vector, and ring the doorbell; returns its
 * status PA.
 */
static uint64_t submit_desc(Npu *n, const Job *job, uint32_t flags,
                            uint8_t vector)
{
    uint8_t d[LUMEN_JOB_DESC_SIZE] = { 0 };
    uint64_t status = galloc(n, LUMEN_STATUS_REC_SIZE, 8);
    unsigned i;

    stq_le_p(d + LUMEN_JOB_PROG_VA, job->prog_va);
    stl_le_p(d + LUMEN_JOB_PROG_SIZE, job->prog_size);
    stl_le_p(d + LUMEN_JOB_FLAGS, flags);
    stq_le_p(d + LUMEN_JOB_SEQNO, ++n->seqno);
    stq_le_p(d + LUMEN_JOB_STATUS_ADDR, status);
    d[LUMEN_JOB_CONTEXT] = job->ctx;
    d[LUMEN_JOB_REGION_COUNT] = job->region_count;
    d[LUMEN_JOB_VECTOR] = vector;
    for (i = 0; i < job->region_count; i++) {
        stq_le_p(d + LUMEN_JOB_REGION_VA(i), job->va[i]);
        stq_le_p(d + LUMEN_JOB_REGION_SIZE(i), job->size[i]);
    }
    qtest_memwrite(n->qts, n->ring + (n->tail % n->ring_size) *
                   LUMEN_JOB_DESC_SIZE, d, sizeof(d));
    wr(n, LUMEN_REG_RING_TAIL, ++n->tail);
    return status;
}

static uint64_t submit_flags(Npu *n, const Job *job, uint32_t flags)
{
    return submit_desc(n, job, flags, 0);
}

static uint64_t submit(Npu *n, const Job *job)
{
    return submit_flags(n, job, 0);
}

static uint64_t completed_seqno(Npu *n)
{
    return qtest_readq(n->qts, n->completion);
}

static void wait_seqno(Npu *n, uint64_t seqno)
{
    int64_t end = g_get_monotonic_time() + WAIT_US;

    while (completed_seqno(n) < seqno) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(200);
    }
}

static void read_status(Npu *n, uint64_t pa, Status *st)
{
    uint8_t r[LUMEN_STATUS_REC_SIZE];

    qtest_memread(n->qts, pa, r, sizeof(r));
    st->seqno = ldq_le_p(r + LUMEN_STATUS_SEQNO);
    st->fault = ldl_le_p(r + LUMEN_STATUS_FAULT);
    st->op = ldl_le_p(r + LUMEN_STATUS_OP);
    st->region = ldl_le_p(r + LUMEN_STATUS_REGION);
    st->detail = ldl_le_p(r + LUMEN_STATUS_DETAIL);
    st->addr = ldq_le_p(r + LUMEN_STATUS_ADDR);
    st->busy_ns = ldq_le_p(r + LUMEN_STATUS_BUSY_NS);
    st->ops = ldq_le_p(r + LUMEN_STATUS_OPS);
}

/* Submit, wait for completion, return the status record. */
static void run(Npu *n, const Job *job, Status *st)
{
    uint64_t pa = submit(n, job);

    wait_seqno(n, n->seqno);
    read_status(n, pa, st);
    g_assert_cmpuint(st->seqno, ==, n->seqno);
}

/* ---- reference computations ---- */

static void fill(float *v, size_t count, unsigned seed)
{
    size_t i;

    for (i = 0; i < count; i++) {
        v[i] = (float)((int)((i * 7919 + seed * 104729) % 61) - 30) / 8.0f;
    }
}

static void matmul_ref(const float *w, const float *x, float *y,
                       unsigned k, unsigned n, unsigned rows)
{
    unsigned r, j, i;

    for (r = 0; r < rows; r++) {
        for (j = 0; j < n; j++) {
            double acc = 0;

            for (i = 0; i < k; i++) {
                acc += (double)w[j * k + i] * x[r * k + i];
            }
            y[r * n + j] = acc;
        }
    }
}

static void assert_close(const float *got, const float *want, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        g_assert_cmpfloat_with_epsilon(got[i], want[i],
                                       1e-4 * (1 + fabsf(want[i])));
    }
}

/*
 * MATMUL of a K x N weight matrix and @rows rows of x, all in region 0
 * (weights at @w_off, x right after), into region 1. Checks the result.
 */
static void check_matmul(Npu *n, const Job *base, uint64_t w_off,
                         unsigned k, unsigned nn, unsigned rows)
{
    g_autofree float *w = g_new(float, k * nn);
    g_autofree float *x = g_new(float, k * rows);
    g_autofree float *want = g_new(float, nn * rows);
    g_autofree float *got = g_new(float, nn * rows);
    uint64_t x_off = w_off + 4ULL * k * nn;
    struct lumen_op *op;
    Job job = *base;
    Status st;
    Prog p;

    fill(w, k * nn, 1);
    fill(x, k * rows, 2);
    matmul_ref(w, x, want, k, nn, rows);
    va_write(n, job.ctx, job.va[0] + w_off, w, 4ULL * k * nn);
    va_write(n, job.ctx, job.va[0] + x_off, x, 4ULL * k * rows);

    prog_init(&p, 2);
    op = prog_op(&p, LUMEN_OP_MATMUL);
    op->src[0] = f32(0, w_off, k, nn);
    op->src[1] = f32(0, x_off, k, rows);
    op->dst = f32(1, 0, nn, rows);
    prog_load(n, job.ctx, &p, &job);

    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    g_assert_cmpuint(st.ops, ==, 1);
    va_read(n, job.ctx, job.va[1], got, 4ULL * nn * rows);
    assert_close(got, want, nn * rows);
}

/* Two regions of 4 KiB pages, inputs read-only, outputs writable. */
static void two_regions(Npu *n, unsigned ctx, Job *job, uint64_t in_size,
                        uint64_t out_size)
{
    g_autofree uint64_t *pa = g_new(uint64_t, in_size / PAGE + 2);

    memset(job, 0, sizeof(*job));
    map_scattered(n, ctx, VA_IN, in_size, PAGE, false, pa);
    map_scattered(n, ctx, VA_OUT, out_size, PAGE, true, pa);
    job->region_count = 2;
    job->va[0] = VA_IN;
    job->size[0] = in_size;
    job->va[1] = VA_OUT;
    job->size[1] = out_size;
}

/* ADD of two 256 x 2 tensors of region 0 into region 1; returns status. */
static void run_add(Npu *n, Job *job, Status *st, const float *a,
                    const float *b, float *out)
{
    struct lumen_op *op;
    Prog p;

    va_write(n, job->ctx, job->va[0], a, 2048);
    va_write(n, job->ctx, job->va[0] + 2048, b, 2048);
    prog_init(&p, 2);
    op = prog_op(&p, LUMEN_OP_ADD);
    op->src[0] = f32(0, 0, 256, 2);
    op->src[1] = f32(0, 2048, 256, 2);
    op->dst = f32(1, 0, 256, 2);
    prog_load(n, job->ctx, &p, job);
    run(n, job, st);
    if (out && st->fault == LUMEN_FAULT_NONE) {
        va_read(n, job->ctx, job->va[1], out, 2048);
    }
}

/* ---- the cases ---- */

static void test_identity(void)
{
    Npu *n = npu_ready(NULL);

    g_assert_cmphex(qpci_config_readw(n->dev, PCI_VENDOR_ID), ==,
                    LUMEN_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(n->dev, PCI_DEVICE_ID), ==,
                    LUMEN_PCI_DEVICE_ID);
    g_assert_cmphex(qpci_config_readw(n->dev, PCI_CLASS_DEVICE), ==,
                    LUMEN_PCI_CLASS);
    g_assert_cmphex(rd(n, LUMEN_REG_ID), ==, LUMEN_ID_MAGIC);
    g_assert_cmphex(rd(n, LUMEN_REG_VERSION), ==, LUMEN_HW_VERSION);
    g_assert_cmpuint(rd(n, LUMEN_REG_ISA_VERSION), ==, LUMEN_ISA_VERSION);
    g_assert_cmpuint(rd(n, LUMEN_REG_MAX_REGIONS), ==, LUMEN_MAX_REGIONS);
    g_assert_cmpuint(rd(n, LUMEN_REG_CONTEXTS), ==, LUMEN_MMU_CONTEXTS);
    g_assert_cmpuint(rd(n, LUMEN_REG_RING_MAX), ==, LUMEN_RING_MAX_ENTRIES);
    g_assert_cmpuint(rd(n, LUMEN_REG_VA_BITS), ==, LUMEN_VA_BITS);
    npu_stop(n);
}

static void test_capabilities(void)
{
    Npu *n = npu_ready("cores=3");
    uint32_t caps = rd(n, LUMEN_REG_CAPS);
    uint32_t dtypes = rd(n, LUMEN_REG_DTYPES);

    g_assert_cmpuint(rd(n, LUMEN_REG_CORES), ==, 3);
    g_assert_true(caps & LUMEN_CAP_PAGE_4K);
    g_assert_true(caps & LUMEN_CAP_PAGE_2M);
    g_assert_true(caps & LUMEN_CAP_MSIX);
    g_assert_true(caps & LUMEN_CAP_DEBUG);
    g_assert_true(caps & LUMEN_CAP_JOB_VECTOR);
    g_assert_cmphex(dtypes, ==, LUMEN_DTYPES_IMPLEMENTED);
    /* the GGUF block types people download, used in place */
    g_assert_true(dtypes & (1u << LUMEN_DTYPE_Q4_K));
    g_assert_true(dtypes & (1u << LUMEN_DTYPE_Q6_K));
    g_assert_true(dtypes & (1u << LUMEN_DTYPE_BF16));
    npu_stop(n);
}

/*
 * Lumen's own dtypes (64 and up) do not fit LUMEN_REG_DTYPES' 32 bits: the
 * capability bit says LUMEN_REG_DTYPES_EXT is there, and it answers like
 * the other identity registers: as one 64-bit read or two halves, while
 * powered off too, and it cannot be written.
 */
static void test_dtypes_ext(void)
{
    Npu *n = npu_ready(NULL);
    uint64_t ext;

    g_assert_true(rd(n, LUMEN_REG_CAPS) & LUMEN_CAP_DTYPES_EXT);
    ext = rd64(n, LUMEN_REG_DTYPES_EXT);
    g_assert_cmphex(ext, ==, LUMEN_DTYPES_EXT_IMPLEMENTED);
    g_assert_true(ext & (1ULL << (LUMEN_DTYPE_Q4_0_R8 -
                                  LUMEN_DTYPES_EXT_FIRST)));
    g_assert_true(ext & (1ULL << (LUMEN_DTYPE_Q8_0_R8 -
                                  LUMEN_DTYPES_EXT_FIRST)));
    g_assert_cmphex(rd(n, LUMEN_REG_DTYPES_EXT), ==, (uint32_t)ext);
    g_assert_cmphex(rd(n, LUMEN_REG_DTYPES_EXT + 4), ==, ext >> 32);
    wr64(n, LUMEN_REG_DTYPES_EXT, 0);
    g_assert_cmphex(rd64(n, LUMEN_REG_DTYPES_EXT), ==, ext);

    wr(n, LUMEN_REG_POWER_CTRL, LUMEN_POWER_REQ_OFF);
    wait_reg(n, LUMEN_REG_POWER_STATE, ~0u, LUMEN_POWER_OFF);
    g_assert_cmphex(rd64(n, LUMEN_REG_DTYPES_EXT), ==, ext);
    npu_stop(n);
}

static void test_ring_registers(void)
{
    Npu *n = npu_ready(NULL);

    wr64(n, LUMEN_REG_RING_BASE, 0x123456789c0ULL);
    wr(n, LUMEN_REG_RING_SIZE, 64);
    wr64(n, LUMEN_REG_COMPLETION_ADDR, 0xabcdef008ULL);
    wr64(n, LUMEN_REG_CTX_ROOT(5), 0x7000001ULL);
    g_assert_cmphex(rd64(n, LUMEN_REG_RING_BASE), ==, 0x123456789c0ULL);
    /* 64-bit registers also read as two halves */
    g_assert_cmphex(rd(n, LUMEN_REG_RING_BASE), ==, 0x456789c0);
    g_assert_cmphex(rd(n, LUMEN_REG_RING_BASE + 4), ==, 0x123);
    g_assert_cmpuint(rd(n, LUMEN_REG_RING_SIZE), ==, 64);
    g_assert_cmphex(rd64(n, LUMEN_REG_COMPLETION_ADDR), ==, 0xabcdef008ULL);
    g_assert_cmphex(rd64(n, LUMEN_REG_CTX_ROOT(5)), ==, 0x7000001ULL);
    g_assert_cmpuint(rd(n, LUMEN_REG_RING_HEAD), ==, 0);
    npu_stop(n);
}

static void test_nop_completion(void)
{
    Npu *n = npu_ready(NULL);
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    nop_job(n, 0, &job);
    g_assert_cmpuint(completed_seqno(n), ==, 0);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    g_assert_cmpuint(st.ops, ==, 1);
    g_assert_cmpuint(completed_seqno(n), ==, 1);
    wait_reg(n, LUMEN_REG_IRQ_STATUS, LUMEN_IRQ_JOB_DONE, LUMEN_IRQ_JOB_DONE);
    g_assert_cmpuint(rd64(n, LUMEN_REG_LAST_SEQNO), ==, 1);
    g_assert_cmpuint(rd(n, LUMEN_REG_RING_HEAD), ==, 1);
    g_assert_cmpuint(rd(n, LUMEN_REG_STATUS) & LUMEN_STATUS_BUSY, ==, 0);
    g_assert_cmpuint(rd(n, LUMEN_REG_POWER_STATE), ==, LUMEN_POWER_IDLE);
    npu_stop(n);
}

static void test_irq_status_mask(void)
{
    Npu *n = npu_ready(NULL);
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    wr(n, LUMEN_REG_IRQ_MASK, LUMEN_IRQ_JOB_DONE);
    g_assert_cmphex(rd(n, LUMEN_REG_IRQ_MASK), ==, LUMEN_IRQ_JOB_DONE);
    nop_job(n, 0, &job);
    run(n, &job, &st);
    wait_reg(n, LUMEN_REG_IRQ_STATUS, LUMEN_IRQ_ALL, LUMEN_IRQ_JOB_DONE);
    /* write one to clear; writing zero bits leaves them */
    wr(n, LUMEN_REG_IRQ_STATUS, 0);
    g_assert_cmphex(rd(n, LUMEN_REG_IRQ_STATUS), ==, LUMEN_IRQ_JOB_DONE);
    wr(n, LUMEN_REG_IRQ_STATUS, LUMEN_IRQ_JOB_DONE);
    g_assert_cmphex(rd(n, LUMEN_REG_IRQ_STATUS), ==, 0);
    /* a faulting job sets both done and fault */
    wr(n, LUMEN_REG_DBG_FAULT_NEXT, 1);
    run(n, &job, &st);
    wait_reg(n, LUMEN_REG_IRQ_STATUS, LUMEN_IRQ_ALL,
             LUMEN_IRQ_JOB_DONE | LUMEN_IRQ_JOB_FAULT);
    npu_stop(n);
}

/* Program MSI-X vector @v to write @data at guest address @pa. */
static void msix_vector(Npu *n, unsigned v, uint64_t pa, uint32_t data)
{
    uint64_t e = n->dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE;

    qpci_io_writel(n->dev, n->dev->msix_table_bar,
                   e + PCI_MSIX_ENTRY_LOWER_ADDR, pa);
    qpci_io_writel(n->dev, n->dev->msix_table_bar,
                   e + PCI_MSIX_ENTRY_UPPER_ADDR, pa >> 32);
    qpci_io_writel(n->dev, n->dev->msix_table_bar, e + PCI_MSIX_ENTRY_DATA,
                   data);
    qpci_io_writel(n->dev, n->dev->msix_table_bar,
                   e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

static void wait_msi(Npu *n, uint64_t pa, uint32_t data)
{
    int64_t end = g_get_monotonic_time() + WAIT_US;

    while (qtest_readl(n->qts, pa) != data) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(200);
    }
    qtest_writel(n->qts, pa, 0);
}

static void test_msix_completion(void)
{
    Npu *n = npu_ready(NULL);
    uint64_t msi;
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    msi = galloc(n, 16, 16);
    qpci_msix_enable(n->dev);
    msix_vector(n, LUMEN_MSIX_COMPLETION, msi, 0xc0de0);
    msix_vector(n, LUMEN_MSIX_ERROR, msi + 8, 0xc0de1);
    wr(n, LUMEN_REG_IRQ_MASK, LUMEN_IRQ_ALL);
    nop_job(n, 0, &job);
    run(n, &job, &st);
    wait_msi(n, msi, 0xc0de0);
    g_assert_cmphex(qtest_readl(n->qts, msi + 8), ==, 0);
    npu_stop(n);
}

static void test_msix_fault(void)
{
    Npu *n = npu_ready(NULL);
    uint64_t msi;
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    msi = galloc(n, 16, 16);
    qpci_msix_enable(n->dev);
    msix_vector(n, LUMEN_MSIX_COMPLETION, msi, 0xd0);
    msix_vector(n, LUMEN_MSIX_ERROR, msi + 8, 0xd1);
    wr(n, LUMEN_REG_IRQ_MASK, LUMEN_IRQ_JOB_FAULT);
    nop_job(n, 0, &job);
    wr(n, LUMEN_REG_DBG_FAULT_NEXT, 1);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_INJECTED);
    wait_msi(n, msi + 8, 0xd1);
    /* JOB_DONE is masked: its vector stays silent */
    g_assert_cmphex(qtest_readl(n->qts, msi), ==, 0);
    npu_stop(n);
}

static void test_add_4k(void)
{
    Npu *n = npu_ready(NULL);
    float a[512], b[512], want[512], got[512];
    unsigned i;
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    two_regions(n, 0, &job, 2 * PAGE, PAGE);
    fill(a, 512, 3);
    fill(b, 512, 4);
    for (i = 0; i < 512; i++) {
        want[i] = a[i] + b[i];
    }
    run_add(n, &job, &st, a, b, got);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    assert_close(got, want, 512);
    npu_stop(n);
}

static void test_matmul_4k(void)
{
    Npu *n = npu_ready(NULL);
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    /* 64 x 48 weights + 3 rows span 4 scattered pages */
    two_regions(n, 0, &job, 4 * PAGE, PAGE);
    check_matmul(n, &job, 0, 64, 48, 3);
    npu_stop(n);
}

static void test_matmul_2m(void)
{
    Npu *n = npu_ready(NULL);
    uint64_t pa[2];
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    memset(&job, 0, sizeof(job));
    map_scattered(n, 0, VA_IN, 2 * HUGE, HUGE, false, pa);
    map_scattered(n, 0, VA_OUT, PAGE, PAGE, true, pa);
    job.region_count = 2;
    job.va[0] = VA_IN;
    job.size[0] = 2 * HUGE;
    job.va[1] = VA_OUT;
    job.size[1] = PAGE;
    /* the weights straddle the two 2 MiB pages */
    check_matmul(n, &job, HUGE - 4096, 128, 16, 2);
    npu_stop(n);
}

static void test_ring_wrap(void)
{
    Npu *n = npu_ready(NULL);
    uint64_t status[10];
    unsigned i, j;
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 4);
    nop_job(n, 0, &job);
    for (i = 0; i < 10; i += 4) {
        for (j = i; j < MIN(i + 4, 10); j++) {
            status[j] = submit(n, &job);
        }
        wait_seqno(n, n->seqno);
    }
    for (i = 0; i < 10; i++) {
        read_status(n, status[i], &st);
        g_assert_cmpuint(st.seqno, ==, i + 1);
        g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    }
    g_assert_cmpuint(rd(n, LUMEN_REG_RING_HEAD), ==, 10);
    g_assert_cmpuint(rd64(n, LUMEN_REG_LAST_SEQNO), ==, 10);
    npu_stop(n);
}

static void test_ring_error(void)
{
    Npu *n = npu_ready(NULL);
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    wr(n, LUMEN_REG_RING_SIZE, 3);      /* not a power of two */
    nop_job(n, 0, &job);
    submit(n, &job);
    wait_reg(n, LUMEN_REG_STATUS, LUMEN_STATUS_RING_ERROR,
             LUMEN_STATUS_RING_ERROR);
    wait_reg(n, LUMEN_REG_IRQ_STATUS, LUMEN_IRQ_RING_ERROR,
             LUMEN_IRQ_RING_ERROR);
    g_assert_cmpuint(rd(n, LUMEN_REG_RING_HEAD), ==, 0);
    g_assert_cmpuint(completed_seqno(n), ==, 0);
    npu_stop(n);
}

static void assert_fault_regs(Npu *n, const Status *st)
{
    g_assert_cmpuint(rd(n, LUMEN_REG_FAULT_CODE), ==, st->fault);
    g_assert_cmpuint(rd(n, LUMEN_REG_FAULT_OP), ==, st->op);
    g_assert_cmpuint(rd(n, LUMEN_REG_FAULT_REGION), ==, st->region);
    g_assert_cmpuint(rd(n, LUMEN_REG_FAULT_DETAIL), ==, st->detail);
    g_assert_cmphex(rd64(n, LUMEN_REG_FAULT_ADDR), ==, st->addr);
    g_assert_cmpuint(rd64(n, LUMEN_REG_FAULT_SEQNO), ==, st->seqno);
}

static void test_mmu_unmapped(void)
{
    Npu *n = npu_ready(NULL);
    float a[512] = { 0 }, out[512];
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    two_regions(n, 0, &job, 2 * PAGE, PAGE);
    job.size[1] = 3 * PAGE;     /* claims two pages that are not mapped */
    run_add(n, &job, &st, a, a, out);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_MMU);
    g_assert_cmpuint(st.detail, ==, LUMEN_MMU_FAULT_UNMAPPED);
    g_assert_cmpuint(st.region, ==, 1);
    g_assert_cmphex(st.addr, ==, VA_OUT + PAGE);
    g_assert_cmpuint(st.op, ==, LUMEN_FAULT_NO_OP);
    g_assert_cmpuint(st.ops, ==, 0);
    assert_fault_regs(n, &st);
    g_assert_cmpuint(rd(n, LUMEN_REG_FAULT_CONTEXT), ==, 0);
    npu_stop(n);
}

static void test_mmu_readonly(void)
{
    Npu *n = npu_ready(NULL);
    float a[512] = { 0 }, out[512];
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    two_regions(n, 0, &job, 2 * PAGE, PAGE);
    job.va[1] = VA_IN;      /* write into the read-only input pages */
    run_add(n, &job, &st, a, a, out);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_MMU);
    g_assert_cmpuint(st.detail, ==, LUMEN_MMU_FAULT_READONLY);
    g_assert_cmpuint(st.region, ==, 1);
    npu_stop(n);
}

static void test_region_bounds(void)
{
    Npu *n = npu_ready(NULL);
    float a[512], b[512], out[512];
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    fill(a, 512, 5);
    fill(b, 512, 6);
    two_regions(n, 0, &job, 2 * PAGE, PAGE);
    job.size[1] = 2000;         /* the dst needs 2048 bytes */
    qtest_memset(n->qts, va_to_pa(n, 0, VA_OUT), 0x5a, PAGE);
    run_add(n, &job, &st, a, b, out);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_REGION_BOUNDS);
    g_assert_cmpuint(st.region, ==, 1);
    g_assert_cmpuint(st.op, ==, 0);
    g_assert_cmpuint(st.addr, ==, 2000);
    assert_fault_regs(n, &st);
    /* a faulting op writes nothing */
    va_read(n, 0, VA_OUT, out, sizeof(out));
    g_assert_cmphex(((uint32_t *)out)[0], ==, 0x5a5a5a5a);
    npu_stop(n);
}

static void test_invalid_program(void)
{
    Npu *n = npu_ready(NULL);
    Status st;
    Prog p;
    Job job = { 0 };

    ctx_create(n, 0);
    ring_init(n, 8);
    prog_init(&p, 1);
    prog_op(&p, LUMEN_OP_NOP);
    p.h.magic ^= 1;
    prog_load(n, 0, &p, &job);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_INVALID_PROGRAM);
    g_assert_cmpuint(st.detail, ==, LUMEN_VERR_BAD_MAGIC);
    npu_stop(n);
}

static void test_unbound_region(void)
{
    Npu *n = npu_ready(NULL);
    float a[512] = { 0 };
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    two_regions(n, 0, &job, 2 * PAGE, PAGE);
    job.region_count = 1;       /* leaves the dst slot unbound */
    run_add(n, &job, &st, a, a, NULL);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_REGION_UNBOUND);
    g_assert_cmpuint(st.region, ==, 1);
    npu_stop(n);
}

static void test_bad_context(void)
{
    Npu *n = npu_ready(NULL);
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    nop_job(n, 0, &job);
    job.ctx = 7;                /* no root programmed */
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_MMU);
    g_assert_cmpuint(st.detail, ==, LUMEN_MMU_FAULT_CONTEXT);
    g_assert_cmpuint(rd(n, LUMEN_REG_FAULT_CONTEXT), ==, 7);
    npu_stop(n);
}

static void test_tlb_invalidate(void)
{
    Npu *n = npu_ready(NULL);
    float a[512], b[512], c[512], got[512], want[512];
    uint64_t other, misses;
    unsigned i;
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    two_regions(n, 0, &job, 2 * PAGE, PAGE);
    fill(a, 512, 7);
    fill(b, 512, 8);
    fill(c, 512, 9);
    run_add(n, &job, &st, a, b, got);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);

    /* remap the input page to one holding c twice */
    other = galloc(n, PAGE, PAGE);
    qtest_memwrite(n->qts, other, c, sizeof(c));
    qtest_memwrite(n->qts, other + sizeof(c), c, sizeof(c));
    map_page(n, 0, VA_IN, other, PAGE, false);
    misses = rd64(n, LUMEN_REG_CNT_TLB_MISSES);

    /* translations stay cached until invalidated */
    run(n, &job, &st);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_TLB_MISSES), ==, misses);
    va_read(n, 0, VA_OUT, got, sizeof(got));
    for (i = 0; i < 512; i++) {
        want[i] = a[i] + b[i];
    }
    assert_close(got, want, 512);

    wr(n, LUMEN_REG_MMU_INVALIDATE, LUMEN_INVALIDATE_CONTEXT(0));
    run(n, &job, &st);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_TLB_MISSES), >, misses);
    va_read(n, 0, VA_OUT, got, sizeof(got));
    for (i = 0; i < 512; i++) {
        want[i] = c[i] + c[i];
    }
    assert_close(got, want, 512);
    npu_stop(n);
}

static void test_contexts_isolated(void)
{
    Npu *n = npu_ready(NULL);
    float a0[512], a1[512], b[512], got[512], want[512];
    unsigned i;
    Status st;
    Job job0, job1;

    ctx_create(n, 0);
    ctx_create(n, 3);
    ring_init(n, 8);
    two_regions(n, 0, &job0, 2 * PAGE, PAGE);
    two_regions(n, 3, &job1, 2 * PAGE, PAGE);
    job1.ctx = 3;
    fill(a0, 512, 10);
    fill(a1, 512, 11);
    fill(b, 512, 12);
    run_add(n, &job0, &st, a0, b, got);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    run_add(n, &job1, &st, a1, b, got);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    /* same NPU addresses, different memory */
    g_assert_cmphex(va_to_pa(n, 0, VA_OUT), !=, va_to_pa(n, 3, VA_OUT));
    va_read(n, 0, VA_OUT, got, sizeof(got));
    for (i = 0; i < 512; i++) {
        want[i] = a0[i] + b[i];
    }
    assert_close(got, want, 512);
    va_read(n, 3, VA_OUT, got, sizeof(got));
    for (i = 0; i < 512; i++) {
        want[i] = a1[i] + b[i];
    }
    assert_close(got, want, 512);
    npu_stop(n);
}

static void test_inject_fault(void)
{
    Npu *n = npu_ready(NULL);
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    nop_job(n, 0, &job);
    wr(n, LUMEN_REG_DBG_FAULT_NEXT, 1);
    g_assert_cmpuint(rd(n, LUMEN_REG_DBG_FAULT_NEXT), ==, 1);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_INJECTED);
    g_assert_cmpuint(rd(n, LUMEN_REG_DBG_FAULT_NEXT), ==, 0);
    /* the ring goes on with the next job */
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_FAULTS), ==, 1);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_JOBS), ==, 1);
    npu_stop(n);
}

static void test_fault_property(void)
{
    Npu *n = npu_ready("fault-next-job=on");
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    nop_job(n, 0, &job);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_INJECTED);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    npu_stop(n);
}

static void test_hang_reset_busy(void)
{
    Npu *n = npu_ready(NULL);
    uint64_t jobs_before;
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    nop_job(n, 0, &job);
    run(n, &job, &st);
    jobs_before = rd64(n, LUMEN_REG_CNT_JOBS);

    wr(n, LUMEN_REG_DBG_HANG_NEXT, 1);
    submit(n, &job);
    wait_reg(n, LUMEN_REG_STATUS, LUMEN_STATUS_BUSY, LUMEN_STATUS_BUSY);
    g_assert_cmpuint(rd(n, LUMEN_REG_POWER_STATE), ==, LUMEN_POWER_ACTIVE);
    g_assert_cmpuint(completed_seqno(n), ==, 1);

    wr(n, LUMEN_REG_IRQ_STATUS, LUMEN_IRQ_ALL);
    npu_reset(n);
    g_assert_cmphex(rd(n, LUMEN_REG_STATUS), ==, 0);
    g_assert_cmpuint(rd(n, LUMEN_REG_POWER_STATE), ==, LUMEN_POWER_IDLE);
    g_assert_cmphex(rd(n, LUMEN_REG_IRQ_STATUS), ==, LUMEN_IRQ_RESET_DONE);
    /* the hung job never completes; the driver's state is gone */
    g_assert_cmpuint(completed_seqno(n), ==, 1);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_JOBS), ==, jobs_before);
    g_assert_cmpuint(rd(n, LUMEN_REG_RING_HEAD), ==, 0);
    g_assert_cmphex(rd64(n, LUMEN_REG_RING_BASE), ==, 0);
    g_assert_cmphex(rd64(n, LUMEN_REG_CTX_ROOT(0)), ==, 0);
    g_assert_cmpuint(rd(n, LUMEN_REG_CONTROL), ==, 0);

    /* reprogrammed, it runs jobs again */
    wr64(n, LUMEN_REG_CTX_ROOT(0), n->root[0] | LUMEN_CTX_ROOT_VALID);
    ring_init(n, 8);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    npu_stop(n);
}

static void test_delay(void)
{
    Npu *n = npu_ready(NULL);
    uint64_t busy;
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    nop_job(n, 0, &job);
    wr(n, LUMEN_REG_DBG_DELAY_US, 100000);
    g_assert_cmpuint(rd(n, LUMEN_REG_DBG_DELAY_US), ==, 100000);
    busy = rd64(n, LUMEN_REG_CNT_BUSY_NS);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    g_assert_cmpuint(st.busy_ns, >=, 100000000ULL);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BUSY_NS) - busy, >=, 100000000ULL);
    npu_stop(n);
}

static void test_fail_reset(void)
{
    Npu *n = npu_ready(NULL);
    Status st;
    Job job;

    wr(n, LUMEN_REG_DBG_FAIL_RESET, 1);
    npu_reset(n);
    g_assert_cmphex(rd(n, LUMEN_REG_STATUS) & LUMEN_STATUS_RESET_FAILED, ==,
                    LUMEN_STATUS_RESET_FAILED);
    /* a failed device fetches nothing */
    ctx_create(n, 0);
    ring_init(n, 8);
    nop_job(n, 0, &job);
    submit(n, &job);
    g_assert_cmpuint(rd(n, LUMEN_REG_RING_HEAD), ==, 0);
    g_assert_cmpuint(completed_seqno(n), ==, 0);

    npu_reset(n);
    g_assert_cmphex(rd(n, LUMEN_REG_STATUS), ==, 0);
    wr64(n, LUMEN_REG_CTX_ROOT(0), n->root[0] | LUMEN_CTX_ROOT_VALID);
    n->seqno = 0;
    ring_init(n, 8);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    npu_stop(n);
}

static void test_power_states(void)
{
    Npu *n = npu_ready(NULL);
    Status st;
    Job job;

    g_assert_cmpuint(rd(n, LUMEN_REG_POWER_STATE), ==, LUMEN_POWER_IDLE);
    ctx_create(n, 0);
    ring_init(n, 8);
    nop_job(n, 0, &job);
    run(n, &job, &st);

    wr(n, LUMEN_REG_POWER_CTRL, LUMEN_POWER_REQ_OFF);
    wait_reg(n, LUMEN_REG_POWER_STATE, ~0u, LUMEN_POWER_OFF);
    /* off: identity and counters answer, the rest reads 0 */
    g_assert_cmphex(rd(n, LUMEN_REG_ID), ==, LUMEN_ID_MAGIC);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_JOBS), ==, 1);
    g_assert_cmphex(rd64(n, LUMEN_REG_RING_BASE), ==, 0);
    g_assert_cmphex(rd(n, LUMEN_REG_CONTROL), ==, 0);
    wr(n, LUMEN_REG_RING_SIZE, 8);      /* ignored */

    wr(n, LUMEN_REG_POWER_CTRL, LUMEN_POWER_REQ_ON);
    wait_reg(n, LUMEN_REG_POWER_STATE, ~0u, LUMEN_POWER_IDLE);
    /* power-off lost the programming */
    g_assert_cmpuint(rd(n, LUMEN_REG_RING_SIZE), ==, 0);
    g_assert_cmphex(rd64(n, LUMEN_REG_CTX_ROOT(0)), ==, 0);

    wr64(n, LUMEN_REG_CTX_ROOT(0), n->root[0] | LUMEN_CTX_ROOT_VALID);
    ring_init(n, 8);
    n->seqno = 0;
    wr(n, LUMEN_REG_DBG_HANG_NEXT, 1);
    submit(n, &job);
    wait_reg(n, LUMEN_REG_POWER_STATE, ~0u, LUMEN_POWER_ACTIVE);
    /* powering off waits for the job in flight, which hangs */
    wr(n, LUMEN_REG_POWER_CTRL, LUMEN_POWER_REQ_OFF);
    g_assert_cmpuint(rd(n, LUMEN_REG_POWER_CTRL), ==, LUMEN_POWER_REQ_OFF);
    g_assert_cmpuint(rd(n, LUMEN_REG_POWER_STATE), ==, LUMEN_POWER_ACTIVE);
    npu_reset(n);
    g_assert_cmpuint(rd(n, LUMEN_REG_POWER_STATE), ==, LUMEN_POWER_IDLE);
    g_assert_cmpuint(rd(n, LUMEN_REG_POWER_CTRL), ==, LUMEN_POWER_REQ_ON);
    npu_stop(n);
}

static void test_counters(void)
{
    Npu *n = npu_ready(NULL);
    uint64_t before[LUMEN_REG_CNT_TLB_MISSES / 8 + 1], after;
    unsigned reg;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    for (reg = LUMEN_REG_CNT_BUSY_NS; reg <= LUMEN_REG_CNT_TLB_MISSES;
         reg += 8) {
        before[reg / 8] = rd64(n, reg);
    }
    two_regions(n, 0, &job, 4 * PAGE, PAGE);
    check_matmul(n, &job, 0, 64, 48, 3);
    for (reg = LUMEN_REG_CNT_BUSY_NS; reg <= LUMEN_REG_CNT_TLB_MISSES;
         reg += 8) {
        after = rd64(n, reg);
        if (reg == LUMEN_REG_CNT_FAULTS || reg == LUMEN_REG_CNT_BOUNCE_BYTES) {
            g_assert_cmpuint(after, ==, before[reg / 8]);
        } else {
            g_assert_cmpuint(after, >, before[reg / 8]);
        }
    }
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_OPS) - before[LUMEN_REG_CNT_OPS / 8],
                     ==, 1);
    /* the weights and x are read, the product written */
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BYTES_READ) -
                     before[LUMEN_REG_CNT_BYTES_READ / 8], >=,
                     4 * (64 * 48 + 64 * 3));
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BYTES_WRITTEN) -
                     before[LUMEN_REG_CNT_BYTES_WRITTEN / 8], >=, 4 * 48 * 3);
    /* counters survive a reset */
    after = rd64(n, LUMEN_REG_CNT_JOBS);
    npu_reset(n);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_JOBS), ==, after);
    npu_stop(n);
}

/*
 * CNT_ENERGY_NJ is the silicon model's energy of the jobs run (the preset
 * of the "silicon" property, glasses by default), with their rows from
 * the args: the runtime's --silicon figures for the same jobs.
 */
static void energy_of(const char *preset)
{
    g_autofree char *props = preset ? g_strdup_printf("silicon=%s", preset)
                                    : NULL;
    const struct lumen_silicon *si = lumen_silicon_find(preset ? preset
                                                               : "glasses");
    Npu *n = npu_ready(props);
    struct lumen_silicon_cost cost = { 0 }, capacity = { 0 };
    uint32_t args[PAGE / 4] = { 2 };      /* rows: 2 of the 3 declared */
    uint64_t pa[2], pj;
    struct lumen_op *op;
    Job job;
    Status st;
    Prog p;
    int i;

    g_assert(si);
    ctx_create(n, 0);
    ring_init(n, 8);
    two_regions(n, 0, &job, 4 * PAGE, PAGE);
    map_scattered(n, 0, VA_BIG, PAGE, PAGE, false, pa);
    va_write(n, 0, VA_BIG, args, sizeof(args));
    job.region_count = 3;
    job.va[2] = VA_BIG;
    job.size[2] = PAGE;

    prog_init(&p, 3);
    p.h.args_region = 2;
    op = prog_op(&p, LUMEN_OP_MATMUL);
    op->src[0] = f32(0, 0, 64, 48);
    op->src[1] = f32(0, 4 * 64 * 48, 64, 3);
    op->dst = f32(1, 0, 48, 3);
    op->rows_arg = 0;
    prog_load(n, 0, &p, &job);
    lumen_silicon_program(si, &p, args, ARRAY_SIZE(args), &cost);
    lumen_silicon_program(si, &p, NULL, 0, &capacity);
    /* the rows come from the args, not the capacity */
    g_assert_cmpfloat(cost.macs, ==, 64.0 * 48 * 2);
    g_assert_cmpfloat(capacity.joules, >, cost.joules);
    pj = llround(cost.joules * 1e12);
    g_assert_cmpuint(pj, >, 1000);

    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_JOBS), ==, 0);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_ENERGY_NJ), ==, 0);
    for (i = 1; i <= 3; i++) {
        run(n, &job, &st);
        g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
        /* below a nanojoule is carried to the next job */
        g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_ENERGY_NJ), ==, i * pj / 1000);
    }
    npu_stop(n);
}

static void test_energy_is_the_silicon_model(void)
{
    energy_of(NULL);
    energy_of("phone");
}

/*
 * A region of @size bytes of 2 MiB pages mapped in reverse order: the
 * device maps it into one window and computes in place, copying nothing.
 */
static void zero_copy(const char *ram, uint64_t size)
{
    unsigned count = size / HUGE, i;
    float a[256], b[256], got[256], want[256];
    struct lumen_op *op;
    uint64_t end = size - 3 * PAGE;
    Status st;
    Prog p;
    Job job = { 0 };
    Npu *n = npu_ready_ram(ram, NULL);

    ctx_create(n, 0);
    ring_init(n, 8);
    for (i = 0; i < count; i++) {
        map_page(n, 0, VA_BIG + i * HUGE, BIG_BASE + (count - 1 - i) * HUGE,
                 HUGE, true);
    }
    fill(a, 256, 13);
    fill(b, 256, 14);
    for (i = 0; i < 256; i++) {
        want[i] = a[i] * b[i];
    }
    /* a at the start of the region, b and the product at its end */
    va_write(n, 0, VA_BIG, a, sizeof(a));
    va_write(n, 0, VA_BIG + end, b, sizeof(b));

    prog_init(&p, 1);
    op = prog_op(&p, LUMEN_OP_MUL);
    op->src[0] = f32(0, 0, 256, 1);
    op->src[1] = f32(0, end, 256, 1);
    op->dst = f32(0, size - PAGE, 256, 1);
    prog_load(n, 0, &p, &job);
    job.region_count = 1;
    job.va[0] = VA_BIG;
    job.size[0] = size;

    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    g_test_message("%" PRIu64 " MiB region: translated and run in %" PRIu64
                   " us", (uint64_t)(size / MIB), st.busy_ns / 1000);
    g_assert_cmphex(va_to_pa(n, 0, VA_BIG + size - PAGE), ==,
                    BIG_BASE + HUGE - PAGE);
    qtest_memread(n->qts, BIG_BASE + HUGE - PAGE, got, sizeof(got));
    assert_close(got, want, 256);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BOUNCE_BYTES), ==, 0);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BYTES_WRITTEN), >=, sizeof(got));
    npu_stop(n);
}

static void test_zero_copy_512m(void)
{
    zero_copy(MEMFD_RAM, 512 * MIB);
}

static void test_zero_copy_1g(void)
{
    zero_copy("-machine pc,memory-backend=mem -m 2G "
              "-object memory-backend-memfd,id=mem,size=2G,share=on",
              1024 * MIB);
}

/*
 * One region of a 2 MiB page followed by 4 KiB pages over three level-3
 * tables; the operands straddle the page-size change and the table changes.
 */
static void test_mixed_pages(void)
{
    const uint64_t size = 2 * HUGE + 2 * PAGE;
    float a[256], b[256], want[256], got[256];
    uint64_t huge_pa, pas[HUGE / PAGE + 2];
    struct lumen_op *op;
    unsigned i;
    Status st;
    Prog p;
    Job job = { 0 };
    Npu *n = npu_ready(NULL);

    ctx_create(n, 0);
    ring_init(n, 8);
    huge_pa = galloc(n, HUGE, HUGE);
    map_page(n, 0, VA_BIG, huge_pa, HUGE, true);
    map_scattered(n, 0, VA_BIG + HUGE, size - HUGE, PAGE, true, pas);
    fill(a, 256, 17);
    fill(b, 256, 18);
    for (i = 0; i < 256; i++) {
        want[i] = a[i] * b[i];
    }
    va_write(n, 0, VA_BIG + HUGE - 512, a, sizeof(a));
    va_write(n, 0, VA_BIG + 2 * HUGE - 512, b, sizeof(b));

    prog_init(&p, 1);
    op = prog_op(&p, LUMEN_OP_MUL);
    op->src[0] = f32(0, HUGE - 512, 256, 1);
    op->src[1] = f32(0, 2 * HUGE - 512, 256, 1);
    op->dst = f32(0, size - PAGE - 512, 256, 1);
    prog_load(n, 0, &p, &job);
    job.region_count = 1;
    job.va[0] = VA_BIG;
    job.size[0] = size;

    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    va_read(n, 0, VA_BIG + size - PAGE - 512, got, sizeof(got));
    assert_close(got, want, 256);
    npu_stop(n);
}

/*
 * 64 MiB of 4 KiB pages, none contiguous with the next: 16384 runs mapped
 * into one window, still without a copy.
 */
static void test_scattered_4k_64m(void)
{
    const uint64_t size = 64 * MIB;
    float a[256], b[256], want[256], got[256];
    struct lumen_op *op;
    unsigned i;
    Status st;
    Prog p;
    Job job = { 0 };
    Npu *n = npu_ready(NULL);

    ctx_create(n, 0);
    ring_init(n, 8);
    map_swapped_4k(n, 0, VA_BIG, size);
    fill(a, 256, 19);
    fill(b, 256, 20);
    for (i = 0; i < 256; i++) {
        want[i] = a[i] + b[i];
    }
    /* operands across page pairs at both ends */
    va_write(n, 0, VA_BIG + PAGE - 512, a, sizeof(a));
    va_write(n, 0, VA_BIG + size - 2 * PAGE - 512, b, sizeof(b));

    prog_init(&p, 1);
    op = prog_op(&p, LUMEN_OP_ADD);
    op->src[0] = f32(0, PAGE - 512, 256, 1);
    op->src[1] = f32(0, size - 2 * PAGE - 512, 256, 1);
    op->dst = f32(0, size / 2 - 512, 256, 1);
    prog_load(n, 0, &p, &job);
    job.region_count = 1;
    job.va[0] = VA_BIG;
    job.size[0] = size;

    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    g_test_message("64 MiB of scattered 4 KiB pages: translated and run in "
                   "%" PRIu64 " us", st.busy_ns / 1000);
    va_read(n, 0, VA_BIG + size / 2 - 512, got, sizeof(got));
    assert_close(got, want, 256);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BOUNCE_BYTES), ==, 0);
    npu_stop(n);
}

/* Without a shared memfd the device copies regions, and counts it. */
static void test_bounce_private_ram(void)
{
    Npu *n = npu_ready_ram(PRIVATE_RAM, NULL);
    float a[512], b[512], want[512], got[512];
    unsigned i;
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    two_regions(n, 0, &job, 2 * PAGE, PAGE);
    fill(a, 512, 15);
    fill(b, 512, 16);
    for (i = 0; i < 512; i++) {
        want[i] = a[i] + b[i];
    }
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BOUNCE_BYTES), ==, 0);
    run_add(n, &job, &st, a, b, got);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    assert_close(got, want, 512);
    /* both regions copied in, the written one copied back */
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BOUNCE_BYTES), ==,
                     job.size[0] + 2 * job.size[1]);
    npu_stop(n);
}

/* ---- guest-error log and trace points ---- */

/* A fresh, empty file for QEMU's -D; the caller unlinks and frees it. */
static char *log_file_new(void)
{
    GError *err = NULL;
    char *path;
    int fd = g_file_open_tmp("lumen-npu-test-XXXXXX.log", &path, &err);

    g_assert_no_error(err);
    close(fd);
    return path;
}

/*
 * Wait until QEMU's log @path holds @needle: messages from the worker
 * thread are written before the job completes, but give them a moment.
 */
static void log_expect(const char *path, const char *needle)
{
    int64_t end = g_get_monotonic_time() + 10 * 1000 * 1000;

    for (;;) {
        g_autofree char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        if (strstr(text, needle)) {
            return;
        }
        if (g_get_monotonic_time() > end) {
            g_printerr("# not in the log: \"%s\"; the log:\n%s", needle,
                       text);
            g_assert_not_reached();
        }
        g_usleep(10 * 1000);
    }
}

/* The level-3 entry of @va in context @ctx. */
static uint64_t l3_entry(Npu *n, unsigned ctx, uint64_t va)
{
    uint64_t l1e = qtest_readq(n->qts, table_entry(n->root[ctx], va, 30));
    uint64_t l2e = qtest_readq(n->qts, table_entry(l1e & LUMEN_PTE_ADDR_MASK,
                                                   va, 21));

    return table_entry(l2e & LUMEN_PTE_ADDR_MASK, va, 12);
}

/* A nop job on context 0 completes without a fault. */
static void assert_works(Npu *n)
{
    Status st;
    Job job;

    nop_job(n, 0, &job);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    g_assert_cmpuint(st.ops, ==, 1);
}

/*
 * Every kind of bad guest access is logged under -d guest_errors (and the
 * nothing left unmodeled for -d unimp), and the device keeps working after
 * each.
 */
/* The MSI-X table of the device has @count entries. */
static void assert_msix_table_size(Npu *n, unsigned count)
{
    uint8_t cap = qpci_find_capability(n->dev, PCI_CAP_ID_MSIX, 0);
    uint16_t flags;

    g_assert_cmpuint(cap, !=, 0);
    flags = qpci_config_readw(n->dev, cap + PCI_MSIX_FLAGS);
    g_assert_cmpuint((flags & PCI_MSIX_FLAGS_QSIZE) + 1, ==, count);
}

/*
 * With CAP_JOB_VECTOR each job's JOB_DONE goes to the vector its
 * descriptor names: 0 or one of the extra completion vectors; the error
 * vector keeps the faults.
 */
static void test_msix_job_vector(void)
{
    Npu *n = npu_ready("msix-vectors=4");
    static const uint8_t order[] = { 2, 3, 0, 3 };
    uint64_t msi, pa;
    unsigned i, v;
    Status st;
    Job job;

    assert_msix_table_size(n, 4);
    ctx_create(n, 0);
    ring_init(n, 8);
    msi = galloc(n, 4 * 8, 16);
    qpci_msix_enable(n->dev);
    for (v = 0; v < 4; v++) {
        msix_vector(n, v, msi + v * 8, 0xa0 + v);
    }
    wr(n, LUMEN_REG_IRQ_MASK, LUMEN_IRQ_ALL);
    nop_job(n, 0, &job);
    for (i = 0; i < G_N_ELEMENTS(order); i++) {
        pa = submit_desc(n, &job, 0, order[i]);
        wait_seqno(n, n->seqno);
        read_status(n, pa, &st);
        g_assert_cmpuint(st.fault, ==, 0);
        wait_msi(n, msi + order[i] * 8, 0xa0 + order[i]);
        for (v = 0; v < 4; v++) {
            g_assert_cmphex(qtest_readl(n->qts, msi + v * 8), ==, 0);
        }
    }
    /* a fault: JOB_DONE on the job's vector, JOB_FAULT on the error one */
    wr(n, LUMEN_REG_DBG_FAULT_NEXT, 1);
    pa = submit_desc(n, &job, 0, 3);
    wait_seqno(n, n->seqno);
    read_status(n, pa, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_INJECTED);
    wait_msi(n, msi + 3 * 8, 0xa3);
    wait_msi(n, msi + LUMEN_MSIX_ERROR * 8, 0xa0 + LUMEN_MSIX_ERROR);
    g_assert_cmphex(qtest_readl(n->qts, msi), ==, 0);
    npu_stop(n);
}

/*
 * The vector byte comes from the guest: one that names no completion
 * vector (the error vector, past the table, 255) is logged, and the job
 * runs and signals on vector 0.
 */
static void test_msix_job_vector_out_of_range(void)
{
    g_autofree char *log = log_file_new();
    g_autofree char *ram = g_strdup_printf("%s -d guest_errors -D %s",
                                           MEMFD_RAM, log);
    Npu *n = npu_ready_ram(ram, "msix-vectors=3");
    static const uint8_t bad[] = { LUMEN_MSIX_ERROR, 3, 255 };
    uint64_t msi, pa;
    unsigned i, v;
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    msi = galloc(n, 3 * 8, 16);
    qpci_msix_enable(n->dev);
    for (v = 0; v < 3; v++) {
        msix_vector(n, v, msi + v * 8, 0xb0 + v);
    }
    wr(n, LUMEN_REG_IRQ_MASK, LUMEN_IRQ_ALL);
    nop_job(n, 0, &job);
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *msg = g_strdup_printf(
            "lumen-npu: job seqno %" PRIu64 " asks for MSI-X vector %u, "
            "which is not one of the device's 2 completion vectors",
            n->seqno + 1, bad[i]);

        pa = submit_desc(n, &job, 0, bad[i]);
        wait_seqno(n, n->seqno);
        read_status(n, pa, &st);
        g_assert_cmpuint(st.fault, ==, 0);
        wait_msi(n, msi + LUMEN_MSIX_COMPLETION * 8, 0xb0);
        for (v = 0; v < 3; v++) {
            g_assert_cmphex(qtest_readl(n->qts, msi + v * 8), ==, 0);
        }
        log_expect(log, msg);
    }
    npu_stop(n);
}

/* An MSI-X table without the completion and error vectors is refused. */
static void test_msix_vectors_property(void)
{
    QTestState *qts = qtest_init("-machine pc -nodefaults");
    QDict *resp = qtest_qmp(qts, "{'execute': 'device_add', 'arguments': "
                            "{'driver': 'lumen-npu', 'msix-vectors': 1}}");
    QDict *err = qdict_get_qdict(resp, "error");

    g_assert_nonnull(err);
    g_assert_nonnull(strstr(qdict_get_str(err, "desc"),
                            "msix-vectors must be 2..64"));
    qobject_unref(resp);
    qtest_quit(qts);
}

/*
 * device_del while the worker signals a completion per job: the worker
 * takes the BQL to send each MSI-X, and the device's exit, which runs
 * under the BQL, must let it through rather than join it (a bare join
 * deadlocks the machine, and this test times out). 4096 NOPs of 50 us
 * in one doorbell keep the worker signalling while the guest ejects the
 * slot.
 */
static void test_unplug_while_signalling(void)
{
    enum { JOBS = LUMEN_RING_MAX_ENTRIES };
    Npu *n = npu_ready("id=npu");
    g_autofree uint8_t *ring = g_malloc0(JOBS * LUMEN_JOB_DESC_SIZE);
    uint64_t msi, done;
    unsigned i;
    Job job;

    ctx_create(n, 0);
    ring_init(n, JOBS);
    msi = galloc(n, 16, 16);
    qpci_msix_enable(n->dev);
    msix_vector(n, LUMEN_MSIX_COMPLETION, msi, 0xe0);
    msix_vector(n, LUMEN_MSIX_ERROR, msi + 8, 0xe1);
    wr(n, LUMEN_REG_IRQ_MASK, LUMEN_IRQ_ALL);
    nop_job(n, 0, &job);
    for (i = 0; i < JOBS; i++) {
        uint8_t *d = ring + i * LUMEN_JOB_DESC_SIZE;

        stq_le_p(d + LUMEN_JOB_PROG_VA, job.prog_va);
        stl_le_p(d + LUMEN_JOB_PROG_SIZE, job.prog_size);
        stq_le_p(d + LUMEN_JOB_SEQNO, i + 1);
        d[LUMEN_JOB_CONTEXT] = job.ctx;
    }
    qtest_memwrite(n->qts, n->ring, ring, JOBS * LUMEN_JOB_DESC_SIZE);
    wr(n, LUMEN_REG_DBG_DELAY_US, 50);     /* 4096 jobs: 0.2 s at least */
    wr(n, LUMEN_REG_RING_TAIL, JOBS);
    wait_seqno(n, 16);
    qpci_unplug_acpi_device_test(n->qts, "npu", NPU_SLOT);
    /* the worker stopped with the device: the seqno moves no more */
    done = completed_seqno(n);
    g_usleep(50 * 1000);
    g_assert_cmpuint(completed_seqno(n), ==, done);
    npu_stop(n);
}

static void test_guest_errors_logged(void)
{
    g_autofree char *log = log_file_new();
    g_autofree char *ram = g_strdup_printf("%s -d guest_errors,unimp -D %s",
                                           MEMFD_RAM, log);
    Npu *n = npu_ready_ram(ram, NULL);
    g_autofree char *faulted = NULL;
    uint64_t entry, pa;
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    assert_works(n);

    /* MMIO: the access is logged and changes nothing */
    wr(n, LUMEN_REG_ID, 0xdeadbeef);
    g_assert_cmphex(rd(n, LUMEN_REG_ID), ==, LUMEN_ID_MAGIC);
    log_expect(log, "lumen-npu: write of 0xdeadbeef to read-only register "
                    "0x000 ignored");
    wr64(n, LUMEN_REG_LAST_SEQNO, 77);
    g_assert_cmpuint(rd64(n, LUMEN_REG_LAST_SEQNO), ==, 1);
    log_expect(log, "to read-only 64-bit register 0x0a0 ignored");
    g_assert_cmpuint(rd(n, 0xffc), ==, 0);
    log_expect(log, "lumen-npu: read of reserved offset 0xffc, returning 0");
    wr(n, 0x3f0, 1);
    log_expect(log, "lumen-npu: write of 0x1 to reserved offset 0x3f0 "
                    "ignored");
    g_assert_cmpuint(rd64(n, LUMEN_REG_CONTROL), ==, 0);
    log_expect(log, "lumen-npu: 8-byte read of 32-bit register 0x040");
    wr64(n, LUMEN_REG_CONTROL, 0);
    g_assert_cmphex(rd(n, LUMEN_REG_CONTROL), ==, LUMEN_CONTROL_RING_ENABLE);
    log_expect(log, "lumen-npu: 8-byte write to 32-bit register 0x040 "
                    "ignored");
    qpci_io_readw(n->dev, n->bar, LUMEN_REG_STATUS);   /* 2 bytes */
    log_expect(log, "region 'lumen-npu-regs', reason: invalid size");
    wr(n, LUMEN_REG_RESET, 2);
    g_assert_cmpuint(rd(n, LUMEN_REG_STATUS) & LUMEN_STATUS_RESETTING, ==, 0);
    log_expect(log, "lumen-npu: RESET written with 0x2, not RESET_GO");
    wr(n, LUMEN_REG_POWER_CTRL, 7);
    g_assert_cmpuint(rd(n, LUMEN_REG_POWER_STATE), ==, LUMEN_POWER_IDLE);
    log_expect(log, "lumen-npu: POWER_CTRL written with 0x7");
    wr(n, LUMEN_REG_IRQ_MASK, 0xf0 | LUMEN_IRQ_JOB_DONE);
    g_assert_cmphex(rd(n, LUMEN_REG_IRQ_MASK), ==, LUMEN_IRQ_JOB_DONE);
    log_expect(log, "reserved bits 0xf0 ignored");
    wr(n, LUMEN_REG_MMU_INVALIDATE, 0x40);
    log_expect(log, "lumen-npu: MMU_INVALIDATE written with 0x40: no such "
                    "context");
    assert_works(n);

    /* bad ring descriptors and contexts fault the job */
    nop_job(n, 0, &job);
    pa = submit_flags(n, &job, 0x8);
    wait_seqno(n, n->seqno);
    read_status(n, pa, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_INVALID_PROGRAM);
    log_expect(log, "lumen-npu: bad ring descriptor (seqno 3): flags 0x8");
    job.ctx = 9;
    run(n, &job, &st);
    g_assert_cmpuint(st.detail, ==, LUMEN_MMU_FAULT_CONTEXT);
    log_expect(log, "lumen-npu: job seqno 4 uses context 9, which has no "
                    "valid root");
    faulted = g_strdup_printf("lumen-npu: job seqno 4 (context 9) faulted: "
                              "code %u", LUMEN_FAULT_MMU);
    log_expect(log, faulted);
    assert_works(n);

    /* a page-table entry with reserved bits */
    nop_job(n, 0, &job);
    entry = l3_entry(n, 0, VA_PROG);
    qtest_writeq(n->qts, entry, qtest_readq(n->qts, entry) | BIT_ULL(9));
    wr(n, LUMEN_REG_MMU_INVALIDATE, LUMEN_INVALIDATE_CONTEXT(0));
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_MMU);
    g_assert_cmpuint(st.detail, ==, LUMEN_MMU_FAULT_BAD_PTE);
    log_expect(log, "lumen-npu: bad level-3 page-table entry");
    log_expect(log, "translating NPU address 0x10000000: reserved bits set");
    assert_works(n);

    /* a bad ring stops; a reset and a new ring bring the device back */
    wr(n, LUMEN_REG_RING_SIZE, 3);
    log_expect(log, "lumen-npu: RING_SIZE 3 is not a power of two");
    nop_job(n, 0, &job);
    submit(n, &job);
    wait_reg(n, LUMEN_REG_STATUS, LUMEN_STATUS_RING_ERROR,
             LUMEN_STATUS_RING_ERROR);
    log_expect(log, "lumen-npu: ring stopped: RING_SIZE 3 is not a power "
                    "of two in 2..4096");

    /* a reset during a job stops it: nothing left unmodeled to log */
    npu_reset(n);
    n->seqno = 0;
    ctx_create(n, 0);
    ring_init(n, 8);
    wr(n, LUMEN_REG_DBG_HANG_NEXT, 1);
    nop_job(n, 0, &job);
    submit(n, &job);
    wait_reg(n, LUMEN_REG_STATUS, LUMEN_STATUS_BUSY, LUMEN_STATUS_BUSY);
    npu_reset(n);

    /* and after all of it, the device still computes */
    n->seqno = 0;
    ctx_create(n, 0);
    ring_init(n, 8);
    assert_works(n);
    g_assert_cmphex(rd(n, LUMEN_REG_ID), ==, LUMEN_ID_MAGIC);
    npu_stop(n);
    unlink(log);
}

/* The trace points fire: MMIO, doorbell, job start/end, fault, reset. */
static void test_trace_points(void)
{
    g_autofree char *log = log_file_new();
    g_autofree char *ram = g_strdup_printf("%s -trace 'lumen_npu_*' -D %s",
                                           MEMFD_RAM, log);
    Npu *n = npu_ready_ram(ram, NULL);
    Status st;
    Job job;

    g_assert_cmphex(rd(n, LUMEN_REG_ID), ==, LUMEN_ID_MAGIC);
    ctx_create(n, 0);
    ring_init(n, 8);
    assert_works(n);
    wr(n, LUMEN_REG_DBG_FAULT_NEXT, 1);
    nop_job(n, 0, &job);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_INJECTED);
    npu_reset(n);

    log_expect(log, "lumen_npu_mmio_write addr 0x090 size 4 val 0x1");
    log_expect(log, "lumen_npu_mmio_read addr 0x000 size 4 val 0x55504e4c");
    log_expect(log, "lumen_npu_doorbell head 0 tail 1");
    log_expect(log, "lumen_npu_job_start ring entry 0 seqno 1 ctx 0");
    log_expect(log, "lumen_npu_job_end seqno 1 fault 0");
    log_expect(log, "lumen_npu_fault seqno 2 code ");
    log_expect(log, "lumen_npu_job_end seqno 2 fault ");
    log_expect(log, "lumen_npu_reset_request register reset");
    log_expect(log, "lumen_npu_reset_done failed 0");
    log_expect(log, "lumen_npu_irq_raise");
    /* without -d guest_errors, guest errors stay out of the log */
    wr(n, LUMEN_REG_ID, 0);
    g_assert_cmphex(rd(n, LUMEN_REG_ID), ==, LUMEN_ID_MAGIC);
    {
        g_autofree char *text = NULL;

        g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
        g_assert_null(strstr(text, "read-only register"));
    }
    npu_stop(n);
    unlink(log);
}

/* ---- resets that stop a computing job, limits (issue 10) ---- */

/* A program of up to LUMEN_MAX_OPS ops, unlike Prog. */
typedef struct BigProg {
    struct lumen_prog_header h;
    struct lumen_op ops[];
} BigProg;

static BigProg *bigprog_new(uint32_t max_ops, uint32_t region_count)
{
    BigProg *p = g_malloc0(sizeof(*p) + max_ops * sizeof(struct lumen_op));
    Prog header;

    prog_init(&header, region_count);
    p->h = header.h;
    return p;
}

static struct lumen_op *bigprog_op(BigProg *p, uint16_t opcode)
{
    struct lumen_op *op = &p->ops[p->h.op_count++];

    op->opcode = opcode;
    op->rows_arg = LUMEN_ARG_NONE;
    op->pos_arg = LUMEN_ARG_NONE;
    return op;
}

/* Put @p in read-only NPU memory of @ctx at VA_PROG, of any size. */
static void bigprog_load(Npu *n, unsigned ctx, const BigProg *p, Job *job)
{
    size_t size = sizeof(p->h) + p->h.op_count * sizeof(struct lumen_op);
    g_autofree uint64_t *pa = g_new(uint64_t, size / PAGE + 2);

    map_scattered(n, ctx, VA_PROG, size, PAGE, false, pa);
    va_write(n, ctx, VA_PROG, p, size);
    wr(n, LUMEN_REG_MMU_INVALIDATE, LUMEN_INVALIDATE_CONTEXT(ctx));
    job->prog_va = VA_PROG;
    job->prog_size = size;
    job->ctx = ctx;
}

/* Bytes a NaN canary is made of: no matmul of zeros writes them. */
#define CANARY_BYTE     0xff
#define CANARY_WORD     0xffffffffu

/*
 * The long jobs: region 0 (read-only, zeros) holds a K x N F32 weight
 * matrix and K x R activations at LONG_X; region 1 (writable) the N x R
 * product at 0 and, at LONG_FINAL, what the program's last op writes.
 * Both regions are 2 MiB pages of guest RAM above BIG_BASE.
 */
#define LONG_IN_SIZE    (96 * MIB)
#define LONG_OUT_SIZE   (32 * MIB)
#define LONG_X          (64 * MIB)
#define LONG_FINAL      (16 * MIB)

static void long_regions(Npu *n, Job *job)
{
    unsigned i;

    memset(job, 0, sizeof(*job));
    for (i = 0; i < LONG_IN_SIZE / HUGE; i++) {
        map_page(n, 0, VA_IN + i * HUGE, BIG_BASE + i * HUGE, HUGE, false);
    }
    for (i = 0; i < LONG_OUT_SIZE / HUGE; i++) {
        map_page(n, 0, VA_OUT + i * HUGE,
                 BIG_BASE + LONG_IN_SIZE + i * HUGE, HUGE, true);
    }
    qtest_memset(n->qts, BIG_BASE + LONG_IN_SIZE, CANARY_BYTE, LONG_OUT_SIZE);
    job->region_count = 2;
    job->va[0] = VA_IN;
    job->size[0] = LONG_IN_SIZE;
    job->va[1] = VA_OUT;
    job->size[1] = LONG_OUT_SIZE;
}

static uint64_t out_pa(uint64_t offset)
{
    return BIG_BASE + LONG_IN_SIZE + offset;
}

/* @count MATMULs of K x N weights with R rows, then one into LONG_FINAL. */
static BigProg *long_program(uint32_t count, uint32_t k, uint32_t nn,
                             uint32_t rows)
{
    BigProg *p = bigprog_new(count + 1, 2);
    struct lumen_op *op;
    uint32_t i;

    g_assert_cmpuint(4ULL * k * nn, <=, LONG_X);
    g_assert_cmpuint(4ULL * nn * rows, <=, LONG_FINAL);
    for (i = 0; i <= count; i++) {
        op = bigprog_op(p, LUMEN_OP_MATMUL);
        op->src[0] = f32(0, 0, k, nn);
        op->src[1] = f32(0, LONG_X, k, rows);
        op->dst = f32(1, i == count ? LONG_FINAL : 0, nn, rows);
    }
    return p;
}

/* Wait until the job has written its first result: it computes. */
static void wait_computing(Npu *n)
{
    int64_t end = g_get_monotonic_time() + WAIT_US;

    while (qtest_readl(n->qts, out_pa(0)) == CANARY_WORD) {
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(500);
    }
}

/* Words of the N x R product still holding the canary, one per page. */
static unsigned canary_pages(Npu *n, uint64_t offset, uint64_t bytes)
{
    unsigned left = 0;
    uint64_t off;

    for (off = 0; off < bytes; off += PAGE) {
        left += qtest_readl(n->qts, out_pa(offset + off)) == CANARY_WORD;
    }
    return left;
}

/*
 * After a reset is reported done, nothing writes the job's memory: a fresh
 * canary over the product survives a while.
 */
static void assert_no_late_writes(Npu *n, uint64_t bytes)
{
    qtest_memset(n->qts, out_pa(0), CANARY_BYTE, bytes);
    g_usleep(300 * 1000);
    g_assert_cmpuint(canary_pages(n, 0, bytes), ==, DIV_ROUND_UP(bytes, PAGE));
}

static void reprogram_and_check(Npu *n)
{
    wr64(n, LUMEN_REG_CTX_ROOT(0), n->root[0] | LUMEN_CTX_ROOT_VALID);
    ring_init(n, 8);
    n->seqno = 0;
    assert_works(n);
}

/*
 * A register reset stops a job of thousands of ops between two of them
 * (the job would compute for minutes), and RESET_DONE comes only after it
 * has stopped: the last op never wrote its result, and nothing is written
 * afterwards. The device then runs jobs again.
 */
static void test_reset_stops_job_between_ops(void)
{
    g_autofree BigProg *p = long_program(20000, 1024, 1024, 32);
    Npu *n = npu_ready(NULL);
    int64_t start;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    long_regions(n, &job);
    bigprog_load(n, 0, p, &job);
    submit(n, &job);
    wait_computing(n);

    start = g_get_monotonic_time();
    wr(n, LUMEN_REG_IRQ_STATUS, LUMEN_IRQ_ALL);
    npu_reset(n);
    g_test_message("reset done %" PRId64 " ms after RESET_GO",
                   (g_get_monotonic_time() - start) / 1000);
    g_assert_cmphex(rd(n, LUMEN_REG_IRQ_STATUS) & LUMEN_IRQ_RESET_DONE, ==,
                    LUMEN_IRQ_RESET_DONE);
    g_assert_cmphex(rd(n, LUMEN_REG_STATUS), ==, 0);
    g_assert_cmpuint(completed_seqno(n), ==, 0);
    g_assert_cmpuint(canary_pages(n, LONG_FINAL, 4 * 1024 * 32), ==,
                     4 * 1024 * 32 / PAGE);
    assert_no_late_writes(n, 4 * 1024 * 32);
    reprogram_and_check(n);
    npu_stop(n);
}

/*
 * One op of 17 G multiply-adds, split into work items across the cores:
 * a reset stops it part way, so part of its product is never written.
 */
static void test_reset_stops_long_op(void)
{
    const uint32_t k = 4096, nn = 4096, rows = 1024;
    const uint64_t product = 4ULL * nn * rows;
    g_autofree BigProg *p = long_program(0, k, nn, rows);
    Npu *n = npu_ready(NULL);
    unsigned left;
    int64_t start;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    long_regions(n, &job);
    p->ops[0].dst.offset = 0;       /* the one op writes the product */
    bigprog_load(n, 0, p, &job);
    submit(n, &job);
    wait_computing(n);

    start = g_get_monotonic_time();
    npu_reset(n);
    g_test_message("reset done %" PRId64 " ms after RESET_GO",
                   (g_get_monotonic_time() - start) / 1000);
    left = canary_pages(n, 0, product);
    g_test_message("%u of %" PRIu64 " pages of the product never written",
                   left, product / PAGE);
    g_assert_cmpuint(left, >, 0);
    g_assert_cmpuint(completed_seqno(n), ==, 0);
    assert_no_late_writes(n, product);
    reprogram_and_check(n);
    npu_stop(n);
}

/*
 * A machine reset (review #19) stops the job before the next boot owns
 * guest RAM: nothing writes the old job's memory after the RESET event.
 * The device comes back, reset, and works once software sets it up again.
 */
static void test_machine_reset_stops_job(void)
{
    g_autofree BigProg *p = long_program(20000, 1024, 1024, 32);
    Npu *n = npu_ready(NULL);
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    long_regions(n, &job);
    bigprog_load(n, 0, p, &job);
    submit(n, &job);
    wait_computing(n);

    qtest_qmp_assert_success(n->qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(n->qts, "RESET");
    assert_no_late_writes(n, 4 * 1024 * 32);
    g_assert_cmpuint(canary_pages(n, LONG_FINAL, 4 * 1024 * 32), ==,
                     4 * 1024 * 32 / PAGE);

    /* PCI state is reset too: enable the function and map BAR0 again */
    qpci_device_enable(n->dev);
    n->bar = qpci_iomap(n->dev, LUMEN_BAR_REGS, NULL);
    wait_reg(n, LUMEN_REG_STATUS, LUMEN_STATUS_RESETTING, 0);
    g_assert_cmphex(rd64(n, LUMEN_REG_CTX_ROOT(0)), ==, 0);
    reprogram_and_check(n);
    npu_stop(n);
}

/* The limits are readable by the driver, as set by the properties. */
static void test_limit_registers(void)
{
    Npu *n = npu_ready(NULL);
    uint32_t caps = rd(n, LUMEN_REG_CAPS);

    g_assert_true(caps & LUMEN_CAP_RESET_STOPS_JOB);
    g_assert_true(caps & LUMEN_CAP_LIMITS);
    /* defaults: 2^42 of work, 256 MiB of scratch, guest RAM of bounce */
    g_assert_cmphex(rd64(n, LUMEN_REG_JOB_COST_LIMIT), ==, 1ULL << 42);
    g_assert_cmphex(rd64(n, LUMEN_REG_SCRATCH_LIMIT), ==, 256 * MIB);
    g_assert_cmphex(rd64(n, LUMEN_REG_BOUNCE_LIMIT), ==, 1024 * MIB);
    /* read-only, and as two halves */
    wr64(n, LUMEN_REG_JOB_COST_LIMIT, 5);
    g_assert_cmphex(rd(n, LUMEN_REG_JOB_COST_LIMIT + 4), ==, 1u << 10);
    npu_stop(n);

    n = npu_ready("job-cost-limit=12345,scratch-limit=65536,"
                  "bounce-limit=1048576");
    g_assert_cmphex(rd64(n, LUMEN_REG_JOB_COST_LIMIT), ==, 12345);
    g_assert_cmphex(rd64(n, LUMEN_REG_SCRATCH_LIMIT), ==, 65536);
    g_assert_cmphex(rd64(n, LUMEN_REG_BOUNCE_LIMIT), ==, 1048576);
    npu_stop(n);
}

/*
 * A job whose work passes the cost limit faults COST_LIMIT at the op that
 * would pass it, which writes nothing; a job within the limit runs.
 * One MATMUL of 256 x 256 weights and 4 rows is 262144 + 4096 + 4096
 * bytes and 524288 flops: 794624 units.
 */
static void test_job_cost_limit(void)
{
    Npu *n = npu_ready("job-cost-limit=1000000");
    g_autofree BigProg *one = long_program(0, 256, 256, 4);
    g_autofree BigProg *two = long_program(1, 256, 256, 4);
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    long_regions(n, &job);
    bigprog_load(n, 0, one, &job);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    g_assert_cmpuint(qtest_readl(n->qts, out_pa(LONG_FINAL)), ==, 0);

    qtest_memset(n->qts, out_pa(0), CANARY_BYTE, 2 * LONG_FINAL);
    bigprog_load(n, 0, two, &job);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_COST_LIMIT);
    g_assert_cmpuint(st.op, ==, 1);
    g_assert_cmpuint(st.addr, ==, 2 * 794624);
    g_assert_cmpuint(st.ops, ==, 1);
    g_assert_cmpuint(rd(n, LUMEN_REG_FAULT_CODE), ==, LUMEN_FAULT_COST_LIMIT);
    g_assert_cmpuint(qtest_readl(n->qts, out_pa(0)), ==, 0);
    g_assert_cmpuint(qtest_readl(n->qts, out_pa(LONG_FINAL)), ==,
                     CANARY_WORD);
    npu_stop(n);
}

/*
 * Scratch memory is capped per op: F16 weights convert the activations
 * (rows x K halves) into scratch, over the 4 KiB limit here.
 */
static void test_scratch_limit(void)
{
    Npu *n = npu_ready("scratch-limit=4096");
    g_autofree BigProg *p = long_program(0, 256, 256, 64);
    Status st;
    Job job;

    ctx_create(n, 0);
    ring_init(n, 8);
    long_regions(n, &job);
    p->ops[0].src[0].dtype = LUMEN_DTYPE_F16;
    p->ops[0].src[0].strides[0] = 2;
    p->ops[0].src[0].strides[1] = 2 * 256;
    p->ops[0].src[0].strides[2] = p->ops[0].src[0].strides[3] = 2 * 256 * 256;
    bigprog_load(n, 0, p, &job);
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NO_MEMORY);
    g_assert_cmpuint(st.op, ==, 0);
    g_assert_cmpuint(st.addr, >, 4096);
    npu_stop(n);
}

/*
 * Copies of regions the device cannot map are capped per job (review #6):
 * the region that passes the limit faults NO_MEMORY before anything is
 * allocated or copied; under the limit the job runs.
 */
static void test_bounce_limit(void)
{
    float a[512], b[512], got[512];
    Status st;
    Job job;
    Npu *n = npu_ready_ram(PRIVATE_RAM, "bounce-limit=12288");

    ctx_create(n, 0);
    ring_init(n, 8);
    two_regions(n, 0, &job, 2 * PAGE, PAGE);
    fill(a, 512, 15);
    fill(b, 512, 16);
    run_add(n, &job, &st, a, b, got);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    npu_stop(n);

    n = npu_ready_ram(PRIVATE_RAM, "bounce-limit=12287");
    ctx_create(n, 0);
    ring_init(n, 8);
    two_regions(n, 0, &job, 2 * PAGE, PAGE);
    run_add(n, &job, &st, a, b, got);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NO_MEMORY);
    g_assert_cmpuint(st.region, ==, 1);
    g_assert_cmpuint(st.addr, ==, 3 * PAGE);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BOUNCE_BYTES), ==, 2 * PAGE);

    /* one huge region aliasing a single page is refused, not allocated */
    job.size[0] = 1ULL << 38;
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NO_MEMORY);
    g_assert_cmpuint(st.region, ==, 0);
    npu_stop(n);
}

/* Mappings the QEMU process @pid holds. */
static unsigned process_maps(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/maps", (int)pid);
    g_autofree char *text = NULL;
    unsigned lines = 0;
    const char *c;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    for (c = text; *c; c++) {
        lines += *c == '\n';
    }
    return lines;
}

/* The QEMU this test started: our child running qemu-system-x86_64. */
static pid_t qemu_pid(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
    const char *name;

    g_assert_nonnull(dir);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("/proc/%s/stat", name);
        g_autofree char *stat = NULL;
        int pid, ppid;
        char comm[64];

        if (!g_ascii_isdigit(*name) ||
            !g_file_get_contents(path, &stat, NULL, NULL) ||
            sscanf(stat, "%d (%63[^)]) %*c %d", &pid, comm, &ppid) != 3) {
            continue;
        }
        if (ppid == getpid() && g_str_has_prefix(comm, "qemu-system")) {
            return pid;
        }
    }
    g_assert_not_reached();
}

/*
 * Review #18: windows of scattered pages hold one host mapping per page
 * run. Eight regions of 513 runs each would hold 4100 mappings; with a
 * budget of 1200 the cache evicts, and a region over the whole budget is
 * copied instead. Results stay right either way.
 */
static void test_window_map_budget(void)
{
    Npu *n = npu_ready("window-maps=1200");
    pid_t pid = qemu_pid();
    unsigned before, i;
    float a[256], b[256], want[256], got[256];
    struct lumen_op *op;
    Status st;
    Prog p;
    Job job = { 0 };

    ctx_create(n, 0);
    ring_init(n, 8);
    fill(a, 256, 21);
    fill(b, 256, 22);
    for (i = 0; i < 256; i++) {
        want[i] = a[i] + b[i];
    }
    prog_init(&p, 1);
    op = prog_op(&p, LUMEN_OP_ADD);
    op->src[0] = f32(0, 0, 256, 1);
    op->src[1] = f32(0, HUGE - 1024, 256, 1);
    op->dst = f32(0, HUGE / 2, 256, 1);
    prog_load(n, 0, &p, &job);
    job.region_count = 1;
    job.size[0] = HUGE;
    before = process_maps(pid);
    for (i = 0; i < 8; i++) {
        job.va[0] = VA_BIG + i * 2 * HUGE;
        map_swapped_4k(n, 0, job.va[0], HUGE);
        va_write(n, 0, job.va[0], a, sizeof(a));
        va_write(n, 0, job.va[0] + HUGE - 1024, b, sizeof(b));
        run(n, &job, &st);
        g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
        va_read(n, 0, job.va[0] + HUGE / 2, got, sizeof(got));
        assert_close(got, want, 256);
    }
    g_test_message("host mappings: %u before, %u after", before,
                   process_maps(pid));
    g_assert_cmpuint(process_maps(pid), <, before + 1200 + 100);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BOUNCE_BYTES), ==, 0);

    /* 6 MiB of 1537 runs: more than the whole budget, copied */
    job.va[0] = VA_BIG + 64 * HUGE;
    job.size[0] = 3 * HUGE;
    map_swapped_4k(n, 0, job.va[0], 3 * HUGE);
    va_write(n, 0, job.va[0], a, sizeof(a));
    va_write(n, 0, job.va[0] + HUGE - 1024, b, sizeof(b));
    run(n, &job, &st);
    g_assert_cmpuint(st.fault, ==, LUMEN_FAULT_NONE);
    va_read(n, 0, job.va[0] + HUGE / 2, got, sizeof(got));
    assert_close(got, want, 256);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_BOUNCE_BYTES), ==, 2 * 3 * HUGE);
    g_assert_cmpuint(process_maps(pid), <, before + 1200 + 100);
    npu_stop(n);
}

/*
 * The worker DMAs while the memory map changes. Each job's program is
 * read from the device's own registers (its NPU address maps BAR0): 512
 * MMIO reads, each taking the BQL on the worker's thread, while the test
 * toggles the function's memory decoding between doorbells, rebuilding
 * the FlatView each time. The worker must be an RCU reader QEMU knows of,
 * or the FlatView it holds while it waits for the BQL is freed under it
 * (found by lumen-npu-fuzz, seed 30172: heap-use-after-free in
 * flatview_to_dispatch). A sanitizer build sees the use after free (make
 * fuzz-device builds one; run this qtest against it); every build checks
 * that each job is read, refused and completed.
 */
static void test_dma_while_memory_map_changes(void)
{
    const unsigned jobs = 1000;
    Npu *n = npu_ready(NULL);
    uint16_t cmd = qpci_config_readw(n->dev, PCI_COMMAND);
    uint64_t last = 0;
    unsigned i;
    Status st;
    Job job = { 0 };

    ctx_create(n, 0);
    ring_init(n, 1024);
    map_page(n, 0, VA_PROG, n->bar.addr, PAGE, false);
    job.prog_va = VA_PROG;
    job.prog_size = PAGE;
    /* between doorbells BAR0 goes and comes back; bus mastering stays on */
    for (i = 0; i < jobs; i++) {
        last = submit(n, &job);
        qpci_config_writew(n->dev, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
        qpci_config_writew(n->dev, PCI_COMMAND, cmd);
    }
    wait_seqno(n, n->seqno);
    read_status(n, last, &st);
    g_assert_cmpuint(st.seqno, ==, n->seqno);
    /* registers are no program; as RAM is gone while unmapped, not RAM */
    g_assert_true(st.fault == LUMEN_FAULT_INVALID_PROGRAM ||
                  st.fault == LUMEN_FAULT_MMU);
    g_assert_cmpuint(rd64(n, LUMEN_REG_CNT_FAULTS), ==, jobs);
    npu_stop(n);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/lumen-npu/identity", test_identity);
    qtest_add_func("/lumen-npu/capabilities", test_capabilities);
    qtest_add_func("/lumen-npu/dtypes-ext", test_dtypes_ext);
    qtest_add_func("/lumen-npu/ring-registers", test_ring_registers);
    qtest_add_func("/lumen-npu/nop-completion", test_nop_completion);
    qtest_add_func("/lumen-npu/irq-status-mask", test_irq_status_mask);
    qtest_add_func("/lumen-npu/msix-completion", test_msix_completion);
    qtest_add_func("/lumen-npu/msix-fault", test_msix_fault);
    qtest_add_func("/lumen-npu/msix-job-vector", test_msix_job_vector);
    qtest_add_func("/lumen-npu/msix-job-vector-out-of-range",
                   test_msix_job_vector_out_of_range);
    qtest_add_func("/lumen-npu/msix-vectors-property",
                   test_msix_vectors_property);
    qtest_add_func("/lumen-npu/unplug-while-signalling",
                   test_unplug_while_signalling);
    qtest_add_func("/lumen-npu/add-4k-pages", test_add_4k);
    qtest_add_func("/lumen-npu/matmul-4k-pages", test_matmul_4k);
    qtest_add_func("/lumen-npu/matmul-2m-pages", test_matmul_2m);
    qtest_add_func("/lumen-npu/mixed-pages", test_mixed_pages);
    qtest_add_func("/lumen-npu/ring-wrap", test_ring_wrap);
    qtest_add_func("/lumen-npu/ring-error", test_ring_error);
    qtest_add_func("/lumen-npu/mmu-unmapped", test_mmu_unmapped);
    qtest_add_func("/lumen-npu/mmu-readonly", test_mmu_readonly);
    qtest_add_func("/lumen-npu/region-bounds", test_region_bounds);
    qtest_add_func("/lumen-npu/invalid-program", test_invalid_program);
    qtest_add_func("/lumen-npu/unbound-region", test_unbound_region);
    qtest_add_func("/lumen-npu/bad-context", test_bad_context);
    qtest_add_func("/lumen-npu/tlb-invalidate", test_tlb_invalidate);
    qtest_add_func("/lumen-npu/contexts-isolated", test_contexts_isolated);
    qtest_add_func("/lumen-npu/inject-fault", test_inject_fault);
    qtest_add_func("/lumen-npu/fault-property", test_fault_property);
    qtest_add_func("/lumen-npu/hang-reset-busy", test_hang_reset_busy);
    qtest_add_func("/lumen-npu/delay", test_delay);
    qtest_add_func("/lumen-npu/fail-reset", test_fail_reset);
    qtest_add_func("/lumen-npu/power-states", test_power_states);
    qtest_add_func("/lumen-npu/counters", test_counters);
    qtest_add_func("/lumen-npu/energy-is-the-silicon-model",
                   test_energy_is_the_silicon_model);
    qtest_add_func("/lumen-npu/zero-copy-512m", test_zero_copy_512m);
    qtest_add_func("/lumen-npu/zero-copy-1g", test_zero_copy_1g);
    qtest_add_func("/lumen-npu/scattered-4k-64m", test_scattered_4k_64m);
    qtest_add_func("/lumen-npu/bounce-private-ram", test_bounce_private_ram);
    qtest_add_func("/lumen-npu/guest-errors-logged",
                   test_guest_errors_logged);
    qtest_add_func("/lumen-npu/trace-points", test_trace_points);
    qtest_add_func("/lumen-npu/reset-stops-job-between-ops",
                   test_reset_stops_job_between_ops);
    qtest_add_func("/lumen-npu/reset-stops-long-op",
                   test_reset_stops_long_op);
    qtest_add_func("/lumen-npu/machine-reset-stops-job",
                   test_machine_reset_stops_job);
    qtest_add_func("/lumen-npu/limit-registers", test_limit_registers);
    qtest_add_func("/lumen-npu/job-cost-limit", test_job_cost_limit);
    qtest_add_func("/lumen-npu/scratch-limit", test_scratch_limit);
    qtest_add_func("/lumen-npu/bounce-limit", test_bounce_limit);
    qtest_add_func("/lumen-npu/window-map-budget", test_window_map_budget);
    qtest_add_func("/lumen-npu/dma-while-memory-map-changes",
                   test_dma_while_memory_map_changes);

    return g_test_run();
}
