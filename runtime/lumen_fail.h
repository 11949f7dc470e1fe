/* SPDX-License-Identifier: MIT */
/*
 * How liblumen reports a failure (<lumen/error.h>): the public call
 * returns a negative enum lumen_error and lumen_last_error() gives this
 * thread's detail. Every failing path goes through lumen_fail().
 */
#ifndef LUMEN_FAIL_H
#define LUMEN_FAIL_H

#include <stdarg.h>

#include <lumen/error.h>

/* record the detail of a failure; returns @err */
int lumen_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int lumen_vfail(int err, const char *fmt, va_list ap);

#endif /* LUMEN_FAIL_H */
