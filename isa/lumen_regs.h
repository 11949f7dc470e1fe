/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * Lumen NPU v1: register map and the layouts the device reads from and
 * writes to system memory. Plain defines only, so the kernel driver and the
 * QEMU device model include the same file. The full specification, with the
 * semantics of every register, is Documentation/accel/lumen/hardware.rst.
 *
 * All registers are little-endian, 32 bits wide unless marked 64-bit; a
 * 64-bit register may be read with one 64-bit access or as two 32-bit
 * halves (low half at the lower address). Reserved offsets read 0 and
 * ignore writes.
 */
#ifndef LUMEN_REGS_H
#define LUMEN_REGS_H

/* BIT() and BIT_ULL(): <linux/bits.h> here, "qemu/bitops.h" in QEMU */
#ifdef __KERNEL__
#include <linux/bits.h>
#endif

/* PCI identity: QEMU's test vendor, a device id QEMU 7.2 does not use. */
/** LUMEN_PCI_VENDOR_ID - vendor id (QEMU/Red Hat test range). */
#define LUMEN_PCI_VENDOR_ID		0x1234
/** LUMEN_PCI_DEVICE_ID - device id of the Lumen NPU v1. */
#define LUMEN_PCI_DEVICE_ID		0x11ec
/** LUMEN_PCI_CLASS - PCI class: processing accelerator. */
#define LUMEN_PCI_CLASS			0x1200
/** LUMEN_BAR_REGS - BAR holding the registers below. */
#define LUMEN_BAR_REGS			0
/** LUMEN_BAR_REGS_SIZE - its size in bytes. */
#define LUMEN_BAR_REGS_SIZE		0x1000
/** LUMEN_BAR_MSIX - BAR holding the MSI-X table and pending bits. */
#define LUMEN_BAR_MSIX			2

/* MSI-X vectors. */
/** LUMEN_MSIX_COMPLETION - vector of %LUMEN_IRQ_JOB_DONE. */
#define LUMEN_MSIX_COMPLETION		0
/** LUMEN_MSIX_ERROR - vector of fault, error and reset interrupts. */
#define LUMEN_MSIX_ERROR		1
/** LUMEN_MSIX_VECTORS - MSI-X vectors every device has (the two above). */
#define LUMEN_MSIX_VECTORS		2
/**
 * LUMEN_MSIX_JOB_FIRST - first of the extra completion vectors a device
 * with %LUMEN_CAP_JOB_VECTOR may have, up to its MSI-X table size: a job
 * names one in %LUMEN_JOB_VECTOR, so that its %LUMEN_IRQ_JOB_DONE reaches
 * the CPU that waits for it.
 */
#define LUMEN_MSIX_JOB_FIRST		2
/** LUMEN_MSIX_MAX_VECTORS - largest MSI-X table a device has. */
#define LUMEN_MSIX_MAX_VECTORS		64

/* ---- Identity (read-only) ---- */
/** LUMEN_REG_ID - reads %LUMEN_ID_MAGIC. */
#define LUMEN_REG_ID			0x000
/** LUMEN_ID_MAGIC - "LNPU" read as a little-endian u32. */
#define LUMEN_ID_MAGIC			0x55504e4cU
/** LUMEN_REG_VERSION - hardware revision: major << 16 | minor. */
#define LUMEN_REG_VERSION		0x004
/** LUMEN_HW_VERSION - revision described here (1.0). */
#define LUMEN_HW_VERSION		0x00010000U
/** LUMEN_REG_ISA_VERSION - program ISA version executed (uapi LUMEN_ISA_VERSION). */
#define LUMEN_REG_ISA_VERSION		0x008
/** LUMEN_REG_CAPS - LUMEN_CAP_* bits. */
#define LUMEN_REG_CAPS			0x00c
/** LUMEN_CAP_PAGE_4K - the MMU maps 4 KiB pages. */
#define LUMEN_CAP_PAGE_4K		BIT(0)
/** LUMEN_CAP_PAGE_2M - the MMU maps 2 MiB pages. */
#define LUMEN_CAP_PAGE_2M		BIT(1)
/** LUMEN_CAP_MSIX - interrupts are signalled through MSI-X. */
#define LUMEN_CAP_MSIX			BIT(2)
/** LUMEN_CAP_DEBUG - the LUMEN_REG_DBG_* test registers are present. */
#define LUMEN_CAP_DEBUG			BIT(3)
/** LUMEN_REG_CORES - compute cores each op is split across. */
#define LUMEN_REG_CORES			0x010
/** LUMEN_REG_MAX_REGIONS - region slots of a job (uapi LUMEN_MAX_REGIONS). */
#define LUMEN_REG_MAX_REGIONS		0x014
/** LUMEN_REG_DTYPES - bit n set when enum lumen_dtype n is supported. */
#define LUMEN_REG_DTYPES		0x018
/** LUMEN_REG_CONTEXTS - MMU context slots (%LUMEN_MMU_CONTEXTS). */
#define LUMEN_REG_CONTEXTS		0x01c
/** LUMEN_REG_RING_MAX - largest ring size, in entries. */
#define LUMEN_REG_RING_MAX		0x020
/** LUMEN_REG_VA_BITS - width of an NPU virtual address (%LUMEN_VA_BITS). */
#define LUMEN_REG_VA_BITS		0x024
/**
 * LUMEN_CAP_RESET_STOPS_JOB - a reset (LUMEN_REG_RESET or a machine reset)
 * stops a job computing ops between ops and within an op, and the reset is
 * reported done (RESETTING clear, %LUMEN_IRQ_RESET_DONE) only once the job
 * has stopped touching memory. Without it a reset waits for the program.
 */
#define LUMEN_CAP_RESET_STOPS_JOB	BIT(4)
/** LUMEN_CAP_LIMITS - the LUMEN_REG_*_LIMIT registers below are present. */
#define LUMEN_CAP_LIMITS		BIT(5)
/**
 * LUMEN_CAP_JOB_VECTOR - a job descriptor's %LUMEN_JOB_VECTOR byte names
 * the MSI-X vector of its %LUMEN_IRQ_JOB_DONE (a device without it faults
 * a job with that byte set: it is reserved there).
 */
#define LUMEN_CAP_JOB_VECTOR		BIT(6)
/**
 * LUMEN_CAP_DTYPES_EXT - %LUMEN_REG_DTYPES_EXT is present: the device says
 * which of Lumen's own dtypes (numbered from %LUMEN_DTYPES_EXT_FIRST, past
 * %LUMEN_REG_DTYPES' 32 bits) it runs. Without it, it runs none of them.
 */
#define LUMEN_CAP_DTYPES_EXT		BIT(7)
/**
 * LUMEN_REG_JOB_COST_LIMIT - 64-bit: most work one job may do, counted
 * per op before it runs as bytes read + bytes written + floating-point
 * operations; a job going over faults %LUMEN_FAULT_COST_LIMIT. 0: none.
 */
#define LUMEN_REG_JOB_COST_LIMIT	0x028
/**
 * LUMEN_REG_SCRATCH_LIMIT - 64-bit: most scratch bytes one op may need (it
 * grows with rows and the attention position); an op needing more faults
 * %LUMEN_FAULT_NO_MEMORY.
 */
#define LUMEN_REG_SCRATCH_LIMIT		0x030
/**
 * LUMEN_REG_BOUNCE_LIMIT - 64-bit: most bytes of regions the device copies
 * for one job (guest RAM it cannot map is copied in and out); a job needing
 * more faults %LUMEN_FAULT_NO_MEMORY.
 */
#define LUMEN_REG_BOUNCE_LIMIT		0x038

/* ---- Control and status ---- */
/** LUMEN_REG_CONTROL - LUMEN_CONTROL_* bits (read-write). */
#define LUMEN_REG_CONTROL		0x040
/** LUMEN_CONTROL_RING_ENABLE - fetch jobs from the ring. */
#define LUMEN_CONTROL_RING_ENABLE	BIT(0)
/** LUMEN_REG_STATUS - LUMEN_STATUS_* bits (read-only). */
#define LUMEN_REG_STATUS		0x044
/** LUMEN_STATUS_BUSY - a job is being executed. */
#define LUMEN_STATUS_BUSY		BIT(0)
/** LUMEN_STATUS_RESETTING - a reset was requested and is not done. */
#define LUMEN_STATUS_RESETTING		BIT(1)
/** LUMEN_STATUS_RESET_FAILED - the last reset failed; reset again. */
#define LUMEN_STATUS_RESET_FAILED	BIT(2)
/** LUMEN_STATUS_RING_ERROR - ring stopped on a bad ring setup or DMA error. */
#define LUMEN_STATUS_RING_ERROR		BIT(3)
/** LUMEN_REG_RESET - write %LUMEN_RESET_GO to reset the device. */
#define LUMEN_REG_RESET			0x048
/** LUMEN_RESET_GO - the value that starts a reset. */
#define LUMEN_RESET_GO			0x1U

/* ---- Power ---- */
/** LUMEN_REG_POWER_CTRL - write LUMEN_POWER_REQ_*. */
#define LUMEN_REG_POWER_CTRL		0x050
/** LUMEN_POWER_REQ_OFF - power the compute cores down; loses device state. */
#define LUMEN_POWER_REQ_OFF		0x0U
/** LUMEN_POWER_REQ_ON - power up into the idle state. */
#define LUMEN_POWER_REQ_ON		0x1U
/** LUMEN_REG_POWER_STATE - current LUMEN_POWER_* state (read-only). */
#define LUMEN_REG_POWER_STATE		0x054
/** LUMEN_POWER_OFF - off: only identity, power and counters respond. */
#define LUMEN_POWER_OFF			0x0U
/** LUMEN_POWER_IDLE - on, no job executing. */
#define LUMEN_POWER_IDLE		0x1U
/** LUMEN_POWER_ACTIVE - on, executing a job. */
#define LUMEN_POWER_ACTIVE		0x2U

/* ---- Interrupts ---- */
/** LUMEN_REG_IRQ_STATUS - pending LUMEN_IRQ_* bits; write 1 to clear. */
#define LUMEN_REG_IRQ_STATUS		0x060
/** LUMEN_REG_IRQ_MASK - LUMEN_IRQ_* bits allowed to interrupt. */
#define LUMEN_REG_IRQ_MASK		0x064
/** LUMEN_IRQ_JOB_DONE - a job completed (with or without a fault). */
#define LUMEN_IRQ_JOB_DONE		BIT(0)
/** LUMEN_IRQ_JOB_FAULT - a job stopped on a fault (see LUMEN_REG_FAULT_*). */
#define LUMEN_IRQ_JOB_FAULT		BIT(1)
/** LUMEN_IRQ_RESET_DONE - a reset finished (successfully or not). */
#define LUMEN_IRQ_RESET_DONE		BIT(2)
/** LUMEN_IRQ_RING_ERROR - the ring stopped (%LUMEN_STATUS_RING_ERROR). */
#define LUMEN_IRQ_RING_ERROR		BIT(3)
/** LUMEN_IRQ_ALL - every interrupt bit. */
#define LUMEN_IRQ_ALL			0xfU

/* ---- Command ring ---- */
/** LUMEN_REG_RING_BASE - 64-bit bus address of the ring, %LUMEN_RING_ALIGN aligned. */
#define LUMEN_REG_RING_BASE		0x080
/** LUMEN_REG_RING_SIZE - entries in the ring: a power of two, 2..RING_MAX. */
#define LUMEN_REG_RING_SIZE		0x088
/** LUMEN_REG_RING_HEAD - free-running count of entries consumed (read-only). */
#define LUMEN_REG_RING_HEAD		0x08c
/** LUMEN_REG_RING_TAIL - free-running count of entries written: the doorbell. */
#define LUMEN_REG_RING_TAIL		0x090
/** LUMEN_REG_COMPLETION_ADDR - 64-bit bus address the device writes seqnos to (8-byte aligned). */
#define LUMEN_REG_COMPLETION_ADDR	0x098
/** LUMEN_REG_LAST_SEQNO - 64-bit seqno of the last completed job (read-only). */
#define LUMEN_REG_LAST_SEQNO		0x0a0
/** LUMEN_RING_ALIGN - alignment of the ring base. */
#define LUMEN_RING_ALIGN		64
/** LUMEN_RING_MAX_ENTRIES - largest ring the v1 device accepts. */
#define LUMEN_RING_MAX_ENTRIES		4096

/* ---- Last fault (latched until the next fault or a reset) ---- */
/** LUMEN_REG_FAULT_CODE - enum lumen_fault_code of the last faulted job. */
#define LUMEN_REG_FAULT_CODE		0x0c0
/** LUMEN_REG_FAULT_OP - op index, %LUMEN_FAULT_NO_OP before the first op. */
#define LUMEN_REG_FAULT_OP		0x0c4
/** LUMEN_REG_FAULT_REGION - region slot involved, or %LUMEN_FAULT_NO_REGION. */
#define LUMEN_REG_FAULT_REGION		0x0c8
/** LUMEN_REG_FAULT_DETAIL - enum lumen_verr or LUMEN_MMU_FAULT_*. */
#define LUMEN_REG_FAULT_DETAIL		0x0cc
/** LUMEN_REG_FAULT_ADDR - 64-bit: NPU address (MMU) or byte offset/value. */
#define LUMEN_REG_FAULT_ADDR		0x0d0
/** LUMEN_REG_FAULT_SEQNO - 64-bit seqno of the faulted job. */
#define LUMEN_REG_FAULT_SEQNO		0x0d8
/** LUMEN_REG_FAULT_CONTEXT - MMU context of the faulted job. */
#define LUMEN_REG_FAULT_CONTEXT		0x0e0

/* ---- Identity, continued (read-only) ---- */
/**
 * LUMEN_REG_DTYPES_EXT - 64-bit, with %LUMEN_CAP_DTYPES_EXT: bit n set
 * when enum lumen_dtype %LUMEN_DTYPES_EXT_FIRST + n is supported (bit 0:
 * Q4_0x8, bit 1: Q8_0x8). A device without the capability reads 0 here,
 * as at every reserved offset, but logs the read as a guest error: check
 * the capability first.
 */
#define LUMEN_REG_DTYPES_EXT		0x0f8
/** LUMEN_DTYPES_EXT_FIRST - the dtype bit 0 of LUMEN_REG_DTYPES_EXT stands for. */
#define LUMEN_DTYPES_EXT_FIRST		64
/** LUMEN_FAULT_NO_OP - FAULT_OP value of a fault before any op ran. */
#define LUMEN_FAULT_NO_OP		0xffffffffU
/** LUMEN_FAULT_NO_REGION - FAULT_REGION value when no region is involved. */
#define LUMEN_FAULT_NO_REGION		0xffffffffU
/* FAULT_DETAIL values of LUMEN_FAULT_MMU. */
/** LUMEN_MMU_FAULT_UNMAPPED - no valid translation. */
#define LUMEN_MMU_FAULT_UNMAPPED	1
/** LUMEN_MMU_FAULT_READONLY - a written region maps a page without WRITE. */
#define LUMEN_MMU_FAULT_READONLY	2
/** LUMEN_MMU_FAULT_BAD_PTE - reserved bits set, or a leaf at level 1. */
#define LUMEN_MMU_FAULT_BAD_PTE		3
/** LUMEN_MMU_FAULT_NOT_RAM - the page is not system RAM. */
#define LUMEN_MMU_FAULT_NOT_RAM		4
/** LUMEN_MMU_FAULT_CONTEXT - the job's context slot has no valid root. */
#define LUMEN_MMU_FAULT_CONTEXT		5
/** LUMEN_MMU_FAULT_RANGE - address range wraps or exceeds %LUMEN_VA_BITS. */
#define LUMEN_MMU_FAULT_RANGE		6

/* ---- MMU ---- */
/** LUMEN_MMU_CONTEXTS - context (address space) slots. */
#define LUMEN_MMU_CONTEXTS		16
/** LUMEN_VA_BITS - NPU virtual addresses are below 1 << 39. */
#define LUMEN_VA_BITS			39
/**
 * LUMEN_REG_CTX_ROOT - 64-bit root register of context @n: bus address of
 * its level-1 table (4 KiB aligned) | %LUMEN_CTX_ROOT_VALID.
 * @n: the context slot, below %LUMEN_MMU_CONTEXTS.
 */
#define LUMEN_REG_CTX_ROOT(n)		(0x100 + (n) * 8)
/** LUMEN_CTX_ROOT_VALID - the context slot is in use. */
#define LUMEN_CTX_ROOT_VALID		BIT_ULL(0)
/** LUMEN_REG_MMU_INVALIDATE - write LUMEN_INVALIDATE_*; reads 0. */
#define LUMEN_REG_MMU_INVALIDATE	0x180
/** LUMEN_INVALIDATE_CONTEXT - drop cached translations of context (value & 0xff). */
#define LUMEN_INVALIDATE_CONTEXT(n)	((n) & 0xffU)
/** LUMEN_INVALIDATE_ALL - drop cached translations of every context. */
#define LUMEN_INVALIDATE_ALL		BIT(31)

/*
 * Page tables: three levels of 512 little-endian 64-bit entries (4 KiB
 * each). Level 1 is indexed by VA bits 38..30, level 2 by 29..21, level 3
 * by 20..12. A level-2 entry with LEAF maps a 2 MiB page; level-3 entries
 * map 4 KiB pages.
 */
/** LUMEN_PTE_VALID - the entry translates. */
#define LUMEN_PTE_VALID			BIT_ULL(0)
/** LUMEN_PTE_LEAF - level 2 only: the entry maps a 2 MiB page. */
#define LUMEN_PTE_LEAF			BIT_ULL(1)
/** LUMEN_PTE_WRITE - the page may be written by jobs. */
#define LUMEN_PTE_WRITE			BIT_ULL(2)
/** LUMEN_PTE_ADDR_MASK - bus address bits (next table or page). */
#define LUMEN_PTE_ADDR_MASK		0x000ffffffffff000ULL
/** LUMEN_PTE_RESERVED - bits that must be zero. */
#define LUMEN_PTE_RESERVED		0xfff0000000000ff8ULL
/** LUMEN_PAGE_SHIFT - 4 KiB pages. */
#define LUMEN_PAGE_SHIFT		12
/** LUMEN_HUGE_SHIFT - 2 MiB pages. */
#define LUMEN_HUGE_SHIFT		21
/** LUMEN_PT_ENTRIES - entries in one table. */
#define LUMEN_PT_ENTRIES		512
/** LUMEN_PT_L1_SHIFT - lowest VA bit indexing level 1. */
#define LUMEN_PT_L1_SHIFT		30

/* ---- Counters: 64-bit, read-only, never reset (wrap at 2^64) ---- */
/** LUMEN_REG_CNT_BUSY_NS - nanoseconds spent executing jobs. */
#define LUMEN_REG_CNT_BUSY_NS		0x200
/** LUMEN_REG_CNT_JOBS - jobs completed without a fault. */
#define LUMEN_REG_CNT_JOBS		0x208
/** LUMEN_REG_CNT_FAULTS - jobs completed with a fault. */
#define LUMEN_REG_CNT_FAULTS		0x210
/** LUMEN_REG_CNT_OPS - ops executed. */
#define LUMEN_REG_CNT_OPS		0x218
/** LUMEN_REG_CNT_BYTES_READ - tensor bytes read. */
#define LUMEN_REG_CNT_BYTES_READ	0x220
/** LUMEN_REG_CNT_BYTES_WRITTEN - tensor bytes written. */
#define LUMEN_REG_CNT_BYTES_WRITTEN	0x228
/** LUMEN_REG_CNT_ENERGY_NJ - modeled energy in nanojoules. */
#define LUMEN_REG_CNT_ENERGY_NJ		0x230
/** LUMEN_REG_CNT_BOUNCE_BYTES - region bytes copied, not computed in place. */
#define LUMEN_REG_CNT_BOUNCE_BYTES	0x238
/** LUMEN_REG_CNT_TLB_MISSES - region translations built (window cache misses). */
#define LUMEN_REG_CNT_TLB_MISSES	0x240

/* ---- Test hooks (present when %LUMEN_CAP_DEBUG) ---- */
/** LUMEN_REG_DBG_HANG_NEXT - write 1: the next job never completes. */
#define LUMEN_REG_DBG_HANG_NEXT		0x300
/** LUMEN_REG_DBG_FAULT_NEXT - write 1: the next job faults %LUMEN_FAULT_INJECTED. */
#define LUMEN_REG_DBG_FAULT_NEXT	0x304
/** LUMEN_REG_DBG_DELAY_US - microseconds added to every job. */
#define LUMEN_REG_DBG_DELAY_US		0x308
/** LUMEN_REG_DBG_FAIL_RESET - write 1: the next reset fails. */
#define LUMEN_REG_DBG_FAIL_RESET	0x30c

/*
 * ---- Job descriptor: one ring entry, %LUMEN_JOB_DESC_SIZE bytes ----
 * Field offsets in bytes; all fields little-endian.
 */
/** LUMEN_JOB_DESC_SIZE - bytes of one ring entry. */
#define LUMEN_JOB_DESC_SIZE		320
/** LUMEN_JOB_PROG_VA - u64: NPU address of the program (in the job's context). */
#define LUMEN_JOB_PROG_VA		0
/** LUMEN_JOB_PROG_SIZE - u32: program bytes. */
#define LUMEN_JOB_PROG_SIZE		8
/** LUMEN_JOB_FLAGS - u32: LUMEN_JOBF_* (none in v1: must be 0). */
#define LUMEN_JOB_FLAGS			12
/** LUMEN_JOB_SEQNO - u64: written back on completion. */
#define LUMEN_JOB_SEQNO			16
/** LUMEN_JOB_STATUS_ADDR - u64: bus address of the status record, or 0. */
#define LUMEN_JOB_STATUS_ADDR		24
/** LUMEN_JOB_CONTEXT - u8: MMU context slot. */
#define LUMEN_JOB_CONTEXT		32
/** LUMEN_JOB_PRIORITY - u8: scheduling class the driver chose (informational). */
#define LUMEN_JOB_PRIORITY		33
/** LUMEN_JOB_REGION_COUNT - u8: region entries that follow, 0..16. */
#define LUMEN_JOB_REGION_COUNT		34
/**
 * LUMEN_JOB_VECTOR - u8, with %LUMEN_CAP_JOB_VECTOR: MSI-X vector of the
 * job's %LUMEN_IRQ_JOB_DONE, %LUMEN_MSIX_COMPLETION (0, what older drivers
 * leave) or %LUMEN_MSIX_JOB_FIRST up to the MSI-X table size - 1; any other
 * value is logged by the device and taken as %LUMEN_MSIX_COMPLETION.
 */
#define LUMEN_JOB_VECTOR		35
/** LUMEN_JOB_REGIONS - region table: per slot a u64 NPU address and a u64 size. */
#define LUMEN_JOB_REGIONS		64
/** LUMEN_JOB_REGION_VA - u64 NPU address of region slot @n (0 with size 0: unbound). */
#define LUMEN_JOB_REGION_VA(n)		(LUMEN_JOB_REGIONS + (n) * 16)
/** LUMEN_JOB_REGION_SIZE - u64 bytes of region slot @n. */
#define LUMEN_JOB_REGION_SIZE(n)	(LUMEN_JOB_REGIONS + (n) * 16 + 8)

/*
 * ---- Job status record: written at LUMEN_JOB_STATUS_ADDR before the
 * seqno, %LUMEN_STATUS_REC_SIZE bytes, 8-byte aligned ----
 */
/** LUMEN_STATUS_REC_SIZE - bytes of a status record. */
#define LUMEN_STATUS_REC_SIZE		48
/** LUMEN_STATUS_SEQNO - u64: the job's seqno. */
#define LUMEN_STATUS_SEQNO		0
/** LUMEN_STATUS_FAULT - u32: enum lumen_fault_code, 0 on success. */
#define LUMEN_STATUS_FAULT		8
/** LUMEN_STATUS_OP - u32: op index of the fault. */
#define LUMEN_STATUS_OP			12
/** LUMEN_STATUS_REGION - u32: region slot of the fault. */
#define LUMEN_STATUS_REGION		16
/** LUMEN_STATUS_DETAIL - u32: as LUMEN_REG_FAULT_DETAIL. */
#define LUMEN_STATUS_DETAIL		20
/** LUMEN_STATUS_ADDR - u64: as LUMEN_REG_FAULT_ADDR. */
#define LUMEN_STATUS_ADDR		24
/** LUMEN_STATUS_BUSY_NS - u64: execution time of the job. */
#define LUMEN_STATUS_BUSY_NS		32
/** LUMEN_STATUS_OPS - u64: ops the job executed. */
#define LUMEN_STATUS_OPS		40

#endif /* LUMEN_REGS_H */
