/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR MIT */
/*
 * Lumen NPU: the ioctl and io_uring interface of drivers/accel/lumen.
 *
 * Rules every structure follows: fields named pad or reserved, and flag
 * bits this header does not define, must be zero or the call fails with
 * -EINVAL; arrays are passed as a user pointer, an element count and the
 * element size the caller was built with, so elements can grow at the end.
 * Documentation/accel/lumen/uapi.rst describes the flow.
 */
#ifndef _UAPI_LUMEN_ACCEL_H_
#define _UAPI_LUMEN_ACCEL_H_

#include "drm.h"
#include "lumen_isa.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: ioctl numbers
 *
 * New ioctls go at the end; numbers are never reused.
 */
#define DRM_LUMEN_GET_PARAM		0x00
#define DRM_LUMEN_DEV_QUERY		0x01
#define DRM_LUMEN_BO_CREATE		0x02
#define DRM_LUMEN_BO_MMAP_OFFSET	0x03
#define DRM_LUMEN_BO_INFO		0x04
#define DRM_LUMEN_PROGRAM_CREATE	0x05
#define DRM_LUMEN_PROGRAM_DESTROY	0x06
#define DRM_LUMEN_SUBMIT		0x07
#define DRM_LUMEN_JOB_WAIT		0x08

/**
 * enum drm_lumen_param - scalar device parameters for %DRM_LUMEN_GET_PARAM.
 * @DRM_LUMEN_PARAM_DEVICE_ID: PCI device id of the NPU.
 * @DRM_LUMEN_PARAM_HW_VERSION: hardware revision register.
 * @DRM_LUMEN_PARAM_ISA_VERSION: program ISA version the device runs
 *	(%LUMEN_ISA_VERSION of lumen_isa.h).
 * @DRM_LUMEN_PARAM_CORE_COUNT: compute cores the device splits ops over.
 * @DRM_LUMEN_PARAM_MAX_REGIONS: region slots a job may bind.
 * @DRM_LUMEN_PARAM_DTYPES: bit n set when &enum lumen_dtype n is supported.
 * @DRM_LUMEN_PARAM_VA_SIZE: bytes of each file's NPU address space.
 * @DRM_LUMEN_PARAM_PAGE_SIZES: bit n set when pages of 2^n bytes are used
 *	by the NPU MMU.
 * @DRM_LUMEN_PARAM_MAX_PROGRAM_SIZE: largest program %DRM_LUMEN_PROGRAM_CREATE
 *	accepts, in bytes.
 * @DRM_LUMEN_PARAM_URING_CMD: 1 when %LUMEN_URING_CMD_SUBMIT is available.
 * @DRM_LUMEN_PARAM_DTYPES_EXT: bit n set when &enum lumen_dtype 64 + n is
 *	supported: Lumen's own layouts (bit 0 %LUMEN_DTYPE_Q4_0_R8, bit 1
 *	%LUMEN_DTYPE_Q8_0_R8), past @DRM_LUMEN_PARAM_DTYPES' 32 bits. 0 on a
 *	device that runs none of them; -EINVAL from a kernel that predates
 *	the parameter, which means the same. A program using a dtype the
 *	device lacks is refused at %DRM_LUMEN_PROGRAM_CREATE with
 *	%LUMEN_VERR_BAD_DTYPE.
 */
enum drm_lumen_param {
	DRM_LUMEN_PARAM_DEVICE_ID = 0,
	DRM_LUMEN_PARAM_HW_VERSION = 1,
	DRM_LUMEN_PARAM_ISA_VERSION = 2,
	DRM_LUMEN_PARAM_CORE_COUNT = 3,
	DRM_LUMEN_PARAM_MAX_REGIONS = 4,
	DRM_LUMEN_PARAM_DTYPES = 5,
	DRM_LUMEN_PARAM_VA_SIZE = 6,
	DRM_LUMEN_PARAM_PAGE_SIZES = 7,
	DRM_LUMEN_PARAM_MAX_PROGRAM_SIZE = 8,
	DRM_LUMEN_PARAM_URING_CMD = 9,
	DRM_LUMEN_PARAM_DTYPES_EXT = 10,
};

/**
 * struct drm_lumen_get_param - read one device parameter.
 * @param: &enum drm_lumen_param; unknown values give -EINVAL.
 * @pad: must be zero.
 * @value: out: the value.
 */
struct drm_lumen_get_param {
	__u32 param;
	__u32 pad;
	__u64 value;
};

/**
 * enum drm_lumen_query - structured queries for %DRM_LUMEN_DEV_QUERY.
 * @DRM_LUMEN_QUERY_INFO: &struct drm_lumen_dev_info.
 * @DRM_LUMEN_QUERY_COUNTERS: &struct drm_lumen_counters.
 * @DRM_LUMEN_QUERY_HEALTH: &struct drm_lumen_health (since 1.1).
 */
enum drm_lumen_query {
	DRM_LUMEN_QUERY_INFO = 0,
	DRM_LUMEN_QUERY_COUNTERS = 1,
	DRM_LUMEN_QUERY_HEALTH = 2,
};

/**
 * struct drm_lumen_dev_info - answer to %DRM_LUMEN_QUERY_INFO.
 * @device_id: PCI device id.
 * @hw_version: hardware revision register.
 * @isa_version: program ISA version.
 * @core_count: compute cores.
 * @max_regions: region slots a job may bind.
 * @dtypes: bit n set when &enum lumen_dtype n is supported.
 * @va_size: bytes of each file's NPU address space.
 * @page_sizes: bit n set when the MMU uses pages of 2^n bytes.
 * @max_program_size: largest program accepted, in bytes.
 * @dtypes_ext: bit n set when &enum lumen_dtype 64 + n is supported, as
 *	%DRM_LUMEN_PARAM_DTYPES_EXT (since 1.2; an older kernel answers
 *	%DRM_LUMEN_DEV_INFO_SIZE_VER0 bytes and leaves it 0).
 *
 * Later versions append fields (see &struct drm_lumen_dev_query).
 */
struct drm_lumen_dev_info {
	__u32 device_id;
	__u32 hw_version;
	__u32 isa_version;
	__u32 core_count;
	__u32 max_regions;
	__u32 dtypes;
	__u64 va_size;
	__u64 page_sizes;
	__u64 max_program_size;
	__u64 dtypes_ext;
};

/** DRM_LUMEN_DEV_INFO_SIZE_VER0 - bytes of the first &struct drm_lumen_dev_info. */
#define DRM_LUMEN_DEV_INFO_SIZE_VER0	48
/** DRM_LUMEN_DEV_INFO_SIZE_VER1 - bytes with @dtypes_ext (driver 1.2). */
#define DRM_LUMEN_DEV_INFO_SIZE_VER1	56

/**
 * struct drm_lumen_counters - answer to %DRM_LUMEN_QUERY_COUNTERS.
 * @busy_ns: nanoseconds the device spent running jobs.
 * @energy_nj: energy the device used, in nanojoules.
 * @bytes_read: tensor bytes the device read.
 * @bytes_written: tensor bytes the device wrote.
 *
 * Device-wide running totals of all clients, kept by the device itself:
 * they count from power-on, are never reset (not by a recovery reset, not
 * by runtime suspend) and wrap at 2^64, so a rate is the difference of two
 * samples. Reading them does not wake a suspended device. The time one
 * file's jobs took is its drm-engine-npu key in fdinfo.
 *
 * Later versions append fields (see &struct drm_lumen_dev_query).
 */
struct drm_lumen_counters {
	__u64 busy_ns;
	__u64 energy_nj;
	__u64 bytes_read;
	__u64 bytes_written;
};

/** DRM_LUMEN_COUNTERS_SIZE_VER0 - bytes of the first &struct drm_lumen_counters. */
#define DRM_LUMEN_COUNTERS_SIZE_VER0	32

/**
 * DRM_LUMEN_HEALTH_WEDGED - a reset failed: the device may still be running
 * a job, so the driver refuses new jobs (SUBMIT: -EIO) and keeps every
 * buffer such a job used until the device is known to have stopped.
 * Unbinding and binding the driver again recovers it.
 */
#define DRM_LUMEN_HEALTH_WEDGED		(1 << 0)

/**
 * struct drm_lumen_health - answer to %DRM_LUMEN_QUERY_HEALTH.
 * @flags: %DRM_LUMEN_HEALTH_WEDGED.
 * @resets: device resets since the driver was bound.
 * @failed_resets: recoveries whose reset did not succeed.
 * @kept_jobs: finished jobs whose memory the driver keeps because the
 *	device may still write it.
 */
struct drm_lumen_health {
	__u32 flags;
	__u32 resets;
	__u32 failed_resets;
	__u32 kept_jobs;
};

/** DRM_LUMEN_HEALTH_SIZE_VER0 - bytes of the first &struct drm_lumen_health. */
#define DRM_LUMEN_HEALTH_SIZE_VER0	16

/**
 * struct drm_lumen_dev_query - copy a structured description out.
 * @type: &enum drm_lumen_query; an unknown type gives -EINVAL.
 * @size: in: bytes at @pointer; out: bytes of the kernel's answer.
 * @pointer: user address of the answer, or 0 to learn its size only.
 *
 * Answers grow by appending fields, and the caller states the size it was
 * built with: the kernel copies the smaller of the two sizes and zero-fills
 * the caller's bytes past its own answer, so older and newer callers both
 * work. @size must be at least the first version of the answer
 * (%DRM_LUMEN_DEV_INFO_SIZE_VER0, %DRM_LUMEN_COUNTERS_SIZE_VER0,
 * %DRM_LUMEN_HEALTH_SIZE_VER0), else
 * -EINVAL, and at most %DRM_LUMEN_QUERY_MAX_SIZE, else -E2BIG. An unwritable @pointer gives
 * -EFAULT. With @pointer 0, @size is not checked.
 */
struct drm_lumen_dev_query {
	__u32 type;
	__u32 size;
	__u64 pointer;
};

/** DRM_LUMEN_QUERY_MAX_SIZE - the largest &drm_lumen_dev_query.size. */
#define DRM_LUMEN_QUERY_MAX_SIZE	4096

/**
 * struct drm_lumen_bo_create - allocate a buffer and map it for the NPU.
 * @size: in: bytes wanted (> 0); out: bytes allocated (page-rounded).
 * @flags: must be zero.
 * @handle: out: GEM handle.
 * @npu_addr: out: where the buffer sits in the calling file's NPU address
 *	space.
 *
 * Buffers are shmem-backed: nothing about them is physically contiguous.
 * Buffers of 2 MiB and more are placed 2 MiB aligned so the NPU MMU can use
 * large pages where the backing memory allows.
 *
 * Errors: -EINVAL for size 0 or flags, -E2BIG for a size that does not fit
 * the NPU address space (%DRM_LUMEN_PARAM_VA_SIZE less its first 2 MiB),
 * -ENOMEM for one larger than the machine's memory (refused before any
 * page is allocated) or when memory runs out, -EDQUOT when the buffers and
 * programs this file maps would pin more than its share (lumen.ko's
 * file_mem_mb, by default half of RAM): close buffers, or raise it.
 */
struct drm_lumen_bo_create {
	__u64 size;
	__u32 flags;
	__u32 handle;
	__u64 npu_addr;
};

/**
 * struct drm_lumen_bo_mmap_offset - get the fake offset to mmap a buffer.
 * @handle: GEM handle.
 * @pad: must be zero.
 * @offset: out: pass to mmap() on the device file.
 */
struct drm_lumen_bo_mmap_offset {
	__u32 handle;
	__u32 pad;
	__u64 offset;
};

/**
 * struct drm_lumen_bo_info - describe a buffer.
 * @handle: GEM handle.
 * @pad: must be zero.
 * @size: out: bytes of the buffer.
 * @npu_addr: out: its address in the calling file's NPU address space
 *	(a buffer imported from another file is mapped on first use).
 */
struct drm_lumen_bo_info {
	__u32 handle;
	__u32 pad;
	__u64 size;
	__u64 npu_addr;
};

/**
 * struct drm_lumen_program_create - copy, validate and keep a program.
 * @program: user address of the program (lumen_isa.h format).
 * @size: its size in bytes.
 * @flags: must be zero.
 * @region_sizes: user address of an array of __u64, or 0; out: the bytes
 *	each region slot must hold, slot by slot.
 * @region_sizes_count: in: elements at @region_sizes; out: region slots of
 *	the program. At most the smaller of the two is written.
 * @handle: out: program handle, valid in this file.
 * @regions_used: out: bit n set when slot n must be bound at submit.
 * @regions_written: out: bit n set when the program writes slot n.
 * @error: out: why validation failed (&enum lumen_verr in lumen_isa.h,
 *	0 when valid). The ioctl then returns -EINVAL.
 * @error_op: out: the failing op, or ~0 for a header error.
 * @error_operand: out: 0 for dst, 1..3 for src[0..2], ~0 otherwise.
 *
 * -EDQUOT when the file already holds lumen.ko's file_programs handles
 * (1024 by default), or its copy would take the file past file_mem_mb
 * (see &drm_lumen_bo_create): destroy programs it no longer needs.
 * @pad: must be zero.
 *
 * The kernel keeps its own copy where userspace cannot reach it, so the
 * program cannot change between validation and execution.
 */
struct drm_lumen_program_create {
	__u64 program;
	__u32 size;
	__u32 flags;
	__u64 region_sizes;
	__u32 region_sizes_count;
	__u32 handle;
	__u32 regions_used;
	__u32 regions_written;
	__u32 error;
	__u32 error_op;
	__u32 error_operand;
	__u32 pad;
};

/**
 * struct drm_lumen_program_destroy - drop a program handle.
 * @handle: program handle.
 * @pad: must be zero.
 *
 * Jobs already submitted keep their own reference.
 */
struct drm_lumen_program_destroy {
	__u32 handle;
	__u32 pad;
};

/**
 * struct drm_lumen_region - bind a buffer to a region slot of a job.
 * @handle: GEM handle; 0 leaves the slot unbound.
 * @flags: must be zero.
 * @offset: byte offset of the region in the buffer, a multiple of 4096.
 * @size: bytes of the region; 0 means "to the end of the buffer". Must be
 *	at least what the program needs for this slot (else -EOVERFLOW).
 *
 * Element n of &drm_lumen_submit.regions binds slot n.
 */
struct drm_lumen_region {
	__u32 handle;
	__u32 flags;
	__u64 offset;
	__u64 size;
};

/**
 * struct drm_lumen_sync - a syncobj and a timeline point.
 * @handle: syncobj handle.
 * @flags: must be zero.
 * @point: timeline point, or 0 for a binary syncobj.
 *
 * An in-sync makes the job wait for the fence at that point; an out-sync
 * receives the job's completion fence at that point.
 */
struct drm_lumen_sync {
	__u32 handle;
	__u32 flags;
	__u64 point;
};

/**
 * enum drm_lumen_priority - scheduling priority of a job.
 * @DRM_LUMEN_PRIORITY_LOW: background work.
 * @DRM_LUMEN_PRIORITY_NORMAL: the default.
 * @DRM_LUMEN_PRIORITY_HIGH: interactive work; needs CAP_SYS_NICE.
 */
enum drm_lumen_priority {
	DRM_LUMEN_PRIORITY_LOW = 0,
	DRM_LUMEN_PRIORITY_NORMAL = 1,
	DRM_LUMEN_PRIORITY_HIGH = 2,
};

/**
 * DRM_LUMEN_MAX_ELEMENT_SIZE - the largest element a caller may declare in
 * &drm_lumen_submit.region_size and .sync_size: the kernel reads and
 * checks every byte of each element, so the size bounds that work.
 */
#define DRM_LUMEN_MAX_ELEMENT_SIZE	4096

/**
 * struct drm_lumen_submit - run a program once.
 * @program: program handle from %DRM_LUMEN_PROGRAM_CREATE.
 * @flags: must be zero.
 * @regions: user address of &struct drm_lumen_region elements, one per
 *	region slot starting at slot 0 (the args region is one of them).
 * @region_count: elements at @regions, 1..%LUMEN_MAX_REGIONS; slots past
 *	it are unbound.
 * @region_size: sizeof(struct drm_lumen_region) of the caller, at most
 *	%DRM_LUMEN_MAX_ELEMENT_SIZE (else -E2BIG).
 * @in_syncs: user address of &struct drm_lumen_sync to wait for, or 0.
 * @out_syncs: user address of &struct drm_lumen_sync to signal, or 0.
 * @in_sync_count: elements at @in_syncs.
 * @out_sync_count: elements at @out_syncs.
 * @sync_size: sizeof(struct drm_lumen_sync) of the caller, or 0 when both
 *	counts are 0; at most %DRM_LUMEN_MAX_ELEMENT_SIZE (else -E2BIG).
 * @priority: &enum drm_lumen_priority.
 * @job_id: out (ioctl only): the job's id in this file, for
 *	%DRM_LUMEN_JOB_WAIT. Ids start at 1 and grow by one per job, over
 *	both submission paths. Must be 0 in an io_uring command.
 * @reserved: must be zero.
 *
 * 80 bytes: the whole structure is the inline payload of
 * %LUMEN_URING_CMD_SUBMIT in a 128-byte SQE.
 */
struct drm_lumen_submit {
	__u32 program;
	__u32 flags;
	__u64 regions;
	__u32 region_count;
	__u32 region_size;
	__u64 in_syncs;
	__u64 out_syncs;
	__u32 in_sync_count;
	__u32 out_sync_count;
	__u32 sync_size;
	__u32 priority;
	__u64 job_id;
	__u64 reserved[2];
};

/**
 * enum drm_lumen_job_status - how a job ended.
 * @DRM_LUMEN_JOB_PENDING: not finished when the wait timed out.
 * @DRM_LUMEN_JOB_DONE: ran to its end.
 * @DRM_LUMEN_JOB_FAULT: the device stopped it; see the fault fields.
 * @DRM_LUMEN_JOB_TIMEOUT: it hung and the device was reset.
 * @DRM_LUMEN_JOB_CANCELED: it never ran (an earlier reset, or its file
 *	went away).
 */
enum drm_lumen_job_status {
	DRM_LUMEN_JOB_PENDING = 0,
	DRM_LUMEN_JOB_DONE = 1,
	DRM_LUMEN_JOB_FAULT = 2,
	DRM_LUMEN_JOB_TIMEOUT = 3,
	DRM_LUMEN_JOB_CANCELED = 4,
};

/**
 * struct drm_lumen_job_wait - wait for a job and read how it ended.
 * @job_id: &drm_lumen_submit.job_id of a job of this file. The last
 *	%DRM_LUMEN_JOB_HISTORY jobs can be asked about; older ones give
 *	-ENOENT.
 * @timeout_ns: absolute CLOCK_MONOTONIC deadline in ns; 0 only polls.
 * @status: out: &enum drm_lumen_job_status. -ETIME is returned when the
 *	deadline passed first (status then is %DRM_LUMEN_JOB_PENDING).
 * @fault_code: out: the device's &enum lumen_fault_code for a fault.
 * @fault_op: out: index of the faulting op.
 * @pad: must be zero.
 * @fault_offset: out: fault detail (an address, an arg value, an id).
 */
struct drm_lumen_job_wait {
	__u64 job_id;
	__s64 timeout_ns;
	__u32 status;
	__u32 fault_code;
	__u32 fault_op;
	__u32 pad;
	__u64 fault_offset;
};

/** DRM_LUMEN_JOB_HISTORY - recent jobs per file %DRM_LUMEN_JOB_WAIT knows. */
#define DRM_LUMEN_JOB_HISTORY		64

/**
 * DOC: io_uring command
 *
 * %LUMEN_URING_CMD_SUBMIT is an IORING_OP_URING_CMD on the device file
 * with cmd_op %LUMEN_URING_CMD_SUBMIT in a ring set up with
 * IORING_SETUP_SQE128; the 80-byte command area holds a
 * &struct drm_lumen_submit, read once when the SQE is issued.
 *
 * The CQE arrives when the job has *completed*: res is 0 when it ran to
 * its end, -EIO when the device faulted it, -ETIMEDOUT when it hung,
 * -ECANCELED when it never ran, or the negative errno the same submission
 * would have failed with as an ioctl. With IORING_SETUP_CQE32, big_cqe[0]
 * is the job id. When the ring or its task goes away first, the command
 * is completed with -ECANCELED; the job itself still runs to its end.
 */
#define LUMEN_URING_CMD_SUBMIT		0x4c00

#define DRM_IOCTL_LUMEN_GET_PARAM \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_GET_PARAM, struct drm_lumen_get_param)
#define DRM_IOCTL_LUMEN_DEV_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_DEV_QUERY, struct drm_lumen_dev_query)
#define DRM_IOCTL_LUMEN_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_BO_CREATE, struct drm_lumen_bo_create)
#define DRM_IOCTL_LUMEN_BO_MMAP_OFFSET \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_BO_MMAP_OFFSET, \
		 struct drm_lumen_bo_mmap_offset)
#define DRM_IOCTL_LUMEN_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_BO_INFO, struct drm_lumen_bo_info)
#define DRM_IOCTL_LUMEN_PROGRAM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_PROGRAM_CREATE, \
		 struct drm_lumen_program_create)
#define DRM_IOCTL_LUMEN_PROGRAM_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_LUMEN_PROGRAM_DESTROY, \
		struct drm_lumen_program_destroy)
#define DRM_IOCTL_LUMEN_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_SUBMIT, struct drm_lumen_submit)
#define DRM_IOCTL_LUMEN_JOB_WAIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_LUMEN_JOB_WAIT, struct drm_lumen_job_wait)

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_LUMEN_ACCEL_H_ */
