// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Host tests of the driver fuzzer's program generator (fuzz_prog.h)
 * against the one validator: generated programs are valid, every opcode
 * is generated, the mix the fuzzer submits gets past the validator often
 * enough (and fails it often enough), and a seed names one program.
 */
#include <stdlib.h>

#include "fuzz_prog.h"
#include "lumen_test.h"
#include "lumen_validate.h"

#define SEEDS	20000

TEST(generated_programs_are_valid)
{
	static uint8_t buf[FZ_PROG_CAP];
	struct lumen_validation v;
	unsigned int seen_ops = 0, i, k;

	for (i = 0; i < SEEDS; i++) {
		struct fz_rng r;
		size_t size;
		const struct lumen_op *ops;

		fz_seed(&r, i, 7);
		size = fz_prog_generate(&r, buf);
		REQUIRE(size <= FZ_PROG_CAP);
		REQUIRE_MSG(lumen_validate(buf, size, &v) == 0,
			    "seed %u: %s (op %u operand %u)", i,
			    lumen_verr_str(v.error), v.error_op,
			    v.error_operand);
		ops = (const struct lumen_op *)(buf + sizeof(struct lumen_prog_header));
		for (k = 0; k < v.op_count; k++)
			seen_ops |= 1U << ops[k].opcode;
	}
	CHECK_EQ(seen_ops, (1U << LUMEN_OP_COUNT) - 1);
}

TEST(a_real_share_passes_the_validator)
{
	static uint8_t buf[FZ_PROG_CAP];
	struct lumen_validation v;
	unsigned int ok = 0, mutated = 0, mutated_ok = 0, errors = 0, i;
	uint64_t seen_errors = 0;

	for (i = 0; i < SEEDS; i++) {
		int m, e;
		size_t size = fz_prog_make(i, buf, &m);

		REQUIRE(size <= FZ_PROG_CAP);
		e = lumen_validate(buf, size, &v);
		ok += !e;
		mutated += m;
		mutated_ok += m && !e;
		if (e)
			seen_errors |= 1ULL << e;
	}
	for (i = 0; i < 64; i++)
		errors += (seen_errors >> i) & 1;
	printf("# %u of %u accepted; %u mutated, %u of them accepted; %u distinct errors\n",
	       ok, SEEDS, mutated, mutated_ok, errors);
	CHECK_MSG(ok * 5 >= SEEDS, "only %u of %u accepted", ok, SEEDS);
	/* The mutations must reach the validator's error paths too. */
	CHECK_MSG((SEEDS - ok) * 5 >= SEEDS, "only %u refused", SEEDS - ok);
	CHECK_MSG(errors >= 20, "only %u distinct validation errors", errors);
}

TEST(a_seed_names_one_program)
{
	static uint8_t a[FZ_PROG_CAP], b[FZ_PROG_CAP];
	size_t sa, sb;
	int ma, mb;

	sa = fz_prog_make(12345, a, &ma);
	sb = fz_prog_make(12345, b, &mb);
	CHECK_EQ(sa, sb);
	CHECK_EQ(ma, mb);
	CHECK(memcmp(a, b, sa) == 0);
	sb = fz_prog_make(12346, b, &mb);
	CHECK(sa != sb || memcmp(a, b, sa) != 0);
}

int main(int argc, char **argv)
{
	return lumen_test_main(argc, argv);
}
