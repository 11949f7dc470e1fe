/* SPDX-License-Identifier: MIT */
/*
 * A small test runner for Lumen's userspace tests. Each TEST() registers a
 * case; lumen_test_main() runs them (all, or those whose name contains
 * argv[1]), prints TAP version 13 and ends with "N passed, N failed".
 * Each case runs in a forked child so a crash fails that case only.
 */
#ifndef LUMEN_TEST_H
#define LUMEN_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct lumen_test_case {
	const char *name;
	void (*fn)(void);
	struct lumen_test_case *next;
};

void lumen_test_register(struct lumen_test_case *tc);
int lumen_test_main(int argc, char **argv);
void lumen_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void lumen_test_skip(const char *why);
/* number of checks that held so far in this case */
extern unsigned long lumen_test_checks;

#define TEST(name)							\
	static void test_##name(void);					\
	static struct lumen_test_case tc_##name = { #name, test_##name, 0 }; \
	__attribute__((constructor)) static void reg_##name(void)	\
	{ lumen_test_register(&tc_##name); }				\
	static void test_##name(void)

/* A failed CHECK marks the case failed and goes on; a failed REQUIRE ends it. */
#define LT_CHECK_(cond, fatal, ...) do {				\
	if (cond) { lumen_test_checks++; }				\
	else { lumen_test_fail(__FILE__, __LINE__, __VA_ARGS__);	\
	       if (fatal) return; }					\
} while (0)

#define CHECK(cond) LT_CHECK_((cond), 0, "%s", #cond)
#define REQUIRE(cond) LT_CHECK_((cond), 1, "%s", #cond)
#define CHECK_MSG(cond, ...) LT_CHECK_((cond), 0, __VA_ARGS__)
#define REQUIRE_MSG(cond, ...) LT_CHECK_((cond), 1, __VA_ARGS__)
#define CHECK_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	LT_CHECK_(a_ == b_, 0, "%s == %s (%lld != %lld)", #a, #b, a_, b_); } while (0)
#define REQUIRE_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	LT_CHECK_(a_ == b_, 1, "%s == %s (%lld != %lld)", #a, #b, a_, b_); } while (0)
/* |a - b| <= atol + rtol * |b| */
#define CHECK_NEAR(a, b, atol, rtol) do { double a_ = (a), b_ = (b);	\
	LT_CHECK_(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_), 0,	\
		  "%s ~ %s (%.9g vs %.9g)", #a, #b, a_, b_); } while (0)
#define SKIP(why) do { lumen_test_skip(why); return; } while (0)

#endif /* LUMEN_TEST_H */
