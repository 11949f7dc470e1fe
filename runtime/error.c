// SPDX-License-Identifier: MIT
/* Error codes and the per-thread detail of the last failure. */
#include <stdio.h>
#include <time.h>

#include "lumen_internal.h"

static _Thread_local char last_error[512];

const char *lumen_strerror(int err)
{
	switch (err) {
	case LUMEN_OK:			return "success";
	case LUMEN_E_INVAL:		return "invalid argument";
	case LUMEN_E_NOMEM:		return "out of memory";
	case LUMEN_E_IO:		return "cannot read file";
	case LUMEN_E_FORMAT:		return "not a valid Lumen model";
	case LUMEN_E_NODEV:		return "no such device";
	case LUMEN_E_UNSUPPORTED:	return "not supported by this backend";
	case LUMEN_E_CONTEXT:		return "context full";
	case LUMEN_E_FAULT:		return "device fault";
	case LUMEN_E_DEVICE:		return "device error";
	}
	return "unknown error";
}

const char *lumen_last_error(void)
{
	return last_error;
}

int lumen_vfail(int err, const char *fmt, va_list ap)
{
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	return err;
}

int lumen_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lumen_vfail(err, fmt, ap);
	va_end(ap);
	return err;
}

uint64_t lumen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
