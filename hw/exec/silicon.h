/* SPDX-License-Identifier: MIT */
/*
 * The silicon model: what a program would cost on the glasses' NPU rather
 * than on the host that emulates it. Each op is a roofline: its time is the
 * slowest of its MACs at the datapath's rate for its dtype, its vector
 * work, its DRAM bytes and its on-chip SRAM bytes at their bandwidths, plus
 * a fixed per-op overhead; its energy is pJ per MAC, per DRAM byte and per
 * SRAM byte, and static power over the time. The presets and where each
 * figure comes from: Documentation/accel/lumen/silicon.rst.
 */
#ifndef LUMEN_SILICON_H
#define LUMEN_SILICON_H

#include <stddef.h>
#include <stdint.h>

#include <drm/lumen_isa.h>

/**
 * struct lumen_silicon - one modeled NPU.
 * @name: the preset's name ("glasses", "phone").
 * @summary: one line saying what it models.
 * @clock_hz: the datapath's clock.
 * @macs_int8, @macs_fp16, @macs_fp32: multiply-accumulates per cycle with
 *	weights of that class (GGUF block types run at the int8 rate).
 * @vector_per_cycle: elements per cycle of the vector unit (norms,
 *	activations, softmax).
 * @dram_bytes_per_s: sustained DRAM read+write bandwidth.
 * @sram_bytes: on-chip SRAM; activations of an op that fit stay there.
 * @sram_bytes_per_cycle: SRAM bandwidth.
 * @op_overhead_cycles: fixed cost of each op (descriptor fetch, DMA setup).
 * @pj_mac_int8, @pj_mac_fp16, @pj_mac_fp32, @pj_vector: dynamic energy of
 *	one MAC / one vector element.
 * @pj_dram_byte, @pj_sram_byte: energy of moving one byte.
 * @static_mw: leakage and always-on power while the NPU is busy.
 * @memory_bytes: RAM a model may use on the device (the rest is the
 *	system's).
 */
struct lumen_silicon {
	const char *name;
	const char *summary;
	double clock_hz;
	double macs_int8, macs_fp16, macs_fp32;
	double vector_per_cycle;
	double dram_bytes_per_s;
	double sram_bytes;
	double sram_bytes_per_cycle;
	double op_overhead_cycles;
	double pj_mac_int8, pj_mac_fp16, pj_mac_fp32, pj_vector;
	double pj_dram_byte, pj_sram_byte;
	double static_mw;
	uint64_t memory_bytes;
};

/**
 * struct lumen_silicon_cost - modeled time and energy, summed over ops.
 * @seconds, @joules: the totals.
 * @macs, @dram_bytes, @sram_bytes: the work they come from.
 */
struct lumen_silicon_cost {
	double seconds;
	double joules;
	double macs;
	double dram_bytes;
	double sram_bytes;
};

extern const struct lumen_silicon lumen_silicon_presets[];
extern const unsigned int lumen_silicon_preset_count;

/* the preset called @name, or NULL */
const struct lumen_silicon *lumen_silicon_find(const char *name);

/*
 * Add to @cost what @op costs on @si processing @rows rows at position
 * @pos (the values of its rows and pos args; the capacity when it has
 * none). @op must have passed the validator.
 */
void lumen_silicon_op(const struct lumen_silicon *si, const struct lumen_op *op,
		      uint32_t rows, uint32_t pos,
		      struct lumen_silicon_cost *cost);

/*
 * Add the cost of a validated program run with @args (the args region:
 * rows in word 0, pos in word 1 as the compiler lays them; NULL: every
 * op at its capacity, position 0).
 */
void lumen_silicon_program(const struct lumen_silicon *si, const void *prog,
			   const uint32_t *args, size_t n_args,
			   struct lumen_silicon_cost *cost);

#endif /* LUMEN_SILICON_H */
