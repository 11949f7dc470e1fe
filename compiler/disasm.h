/* SPDX-License-Identifier: MIT */
#ifndef LUMENC_DISASM_H
#define LUMENC_DISASM_H

#include <stdint.h>
#include <stdio.h>

#include "lnpu_read.h"

struct lc_prog_stats {
	uint32_t op_count[LUMEN_OP_COUNT];
	uint64_t weight_bytes;		/* weights read by one run (one row) */
	uint64_t flops_per_row;		/* matmul flops for one token */
};

const char *lc_op_name(uint32_t op);
/* one line per op of a validated program */
void lc_dump_program(FILE *f, const char *title, const uint8_t *prog,
		     uint64_t size);
void lc_program_stats(const uint8_t *prog, struct lc_prog_stats *st);
void lc_print_info(FILE *f, const struct lnpu_file *lf);

#endif /* LUMENC_DISASM_H */
