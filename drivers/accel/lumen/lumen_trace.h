/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/* Copyright 2026 The Lumen Authors */

#undef TRACE_SYSTEM
#define TRACE_SYSTEM lumen

#if !defined(__LUMEN_TRACE_H__) || defined(TRACE_HEADER_MULTI_READ)
#define __LUMEN_TRACE_H__

#include <linux/tracepoint.h>

#include "lumen_drv.h"

TRACE_EVENT(lumen_job_submit,
	    TP_PROTO(struct lumen_device *ldev, struct lumen_file *lfile,
		     u64 id, u64 fence_seqno),
	    TP_ARGS(ldev, lfile, id, fence_seqno),
	    TP_STRUCT__entry(__field(u32, minor)
			     __field(const void *, file)
			     __field(u64, id)
			     __field(u64, fence_seqno)),
	    TP_fast_assign(__entry->minor = ldev->drm.accel->index;
			   __entry->file = lfile;
			   __entry->id = id;
			   __entry->fence_seqno = fence_seqno;),
	    TP_printk("accel%u file=%p job=%llu fence=%llu", __entry->minor,
		      __entry->file, __entry->id, __entry->fence_seqno)
);

TRACE_EVENT(lumen_job_run,
	    TP_PROTO(struct lumen_device *ldev, u64 id, u64 seqno, int ctx),
	    TP_ARGS(ldev, id, seqno, ctx),
	    TP_STRUCT__entry(__field(u32, minor)
			     __field(u64, id)
			     __field(u64, seqno)
			     __field(int, ctx)),
	    TP_fast_assign(__entry->minor = ldev->drm.accel->index;
			   __entry->id = id;
			   __entry->seqno = seqno;
			   __entry->ctx = ctx;),
	    TP_printk("accel%u job=%llu seqno=%llu ctx=%d", __entry->minor,
		      __entry->id, __entry->seqno, __entry->ctx)
);

TRACE_EVENT(lumen_job_done,
	    TP_PROTO(struct lumen_device *ldev, u64 id, u64 seqno, u32 fault),
	    TP_ARGS(ldev, id, seqno, fault),
	    TP_STRUCT__entry(__field(u32, minor)
			     __field(u64, id)
			     __field(u64, seqno)
			     __field(u32, fault)),
	    TP_fast_assign(__entry->minor = ldev->drm.accel->index;
			   __entry->id = id;
			   __entry->seqno = seqno;
			   __entry->fault = fault;),
	    TP_printk("accel%u job=%llu seqno=%llu fault=%u", __entry->minor,
		      __entry->id, __entry->seqno, __entry->fault)
);

TRACE_EVENT(lumen_job_fault,
	    TP_PROTO(struct lumen_device *ldev, u64 id, u32 code, u32 op,
		     u64 addr),
	    TP_ARGS(ldev, id, code, op, addr),
	    TP_STRUCT__entry(__field(u32, minor)
			     __field(u64, id)
			     __field(u32, code)
			     __field(u32, op)
			     __field(u64, addr)),
	    TP_fast_assign(__entry->minor = ldev->drm.accel->index;
			   __entry->id = id;
			   __entry->code = code;
			   __entry->op = op;
			   __entry->addr = addr;),
	    TP_printk("accel%u job=%llu fault=%u op=%u addr=%#llx",
		      __entry->minor, __entry->id, __entry->code, __entry->op,
		      __entry->addr)
);

#endif /* __LUMEN_TRACE_H__ */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE lumen_trace
#include <trace/define_trace.h>
