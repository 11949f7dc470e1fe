// SPDX-License-Identifier: MIT
/*
 * The figures a run would have on the modeled NPU (--silicon): the host
 * or the QEMU device computes the tokens, the silicon model says what the
 * same jobs take on the glasses' NPU (Documentation/accel/lumen/silicon.rst).
 */
#include <stdio.h>

#include "lumen_cli.h"

void cli_print_modeled(const struct lumen_session *s,
		       const struct lumen_device_info *di, uint32_t n_generated)
{
	struct lumen_modeled m;

	lumen_session_get_modeled(s, &m);
	fprintf(stderr, "lumen: modeled %-8s   time to first token %.2f ms",
		di->silicon, m.prefill_ns / 1e6);
	if (m.decode_ns)
		fprintf(stderr, ", decode %.2f tok/s",
			m.decode_tokens * 1e9 / (double)m.decode_ns);
	if (n_generated)
		fprintf(stderr, ", %.3f mJ/token",
			m.energy_nj / 1e6 / n_generated);
	fprintf(stderr, "\n");
}
