/* SPDX-License-Identifier: MIT */
/*
 * Every model of ../shared/golden-arch (its README lists them), for the
 * golden suites of each backend: X(tag, file name, quantized). Quantized
 * files are compared under that README's looser rule.
 */
#ifndef LUMEN_GOLDEN_ARCH_H
#define LUMEN_GOLDEN_ARCH_H

#define GOLDEN_ARCH_FILES(X) \
	X(llama32_f16, "llama32-f16", 0) \
	X(llama32_q8_0, "llama32-q8_0", 1) \
	X(llama_ropelinear_f16, "llama-ropelinear-f16", 0) \
	X(llama_ropelinear_q8_0, "llama-ropelinear-q8_0", 1) \
	X(qwen2_f16, "qwen2-f16", 0) \
	X(qwen2_q8_0, "qwen2-q8_0", 1) \
	X(qwen3_f16, "qwen3-f16", 0) \
	X(qwen3_q8_0, "qwen3-q8_0", 1) \
	X(gemma3_f16, "gemma3-f16", 0) \
	X(gemma3_q8_0, "gemma3-q8_0", 1) \
	X(phi3_f16, "phi3-f16", 0) \
	X(phi3_q8_0, "phi3-q8_0", 1) \
	X(llama32_q4_0, "llama32-q4_0", 1) \
	X(llama32_q4_k_m, "llama32-q4_k_m", 1) \
	X(llama32_q5_k_m, "llama32-q5_k_m", 1) \
	X(llama32_q6_k, "llama32-q6_k", 1) \
	X(llama_ropelinear_q4_0, "llama-ropelinear-q4_0", 1) \
	X(llama_ropelinear_q4_k_m, "llama-ropelinear-q4_k_m", 1) \
	X(llama_ropelinear_q5_k_m, "llama-ropelinear-q5_k_m", 1) \
	X(llama_ropelinear_q6_k, "llama-ropelinear-q6_k", 1) \
	X(qwen2_q4_0, "qwen2-q4_0", 1) \
	X(qwen2_q4_k_m, "qwen2-q4_k_m", 1) \
	X(qwen2_q5_k_m, "qwen2-q5_k_m", 1) \
	X(qwen2_q6_k, "qwen2-q6_k", 1) \
	X(qwen3_q4_0, "qwen3-q4_0", 1) \
	X(qwen3_q4_k_m, "qwen3-q4_k_m", 1) \
	X(qwen3_q5_k_m, "qwen3-q5_k_m", 1) \
	X(qwen3_q6_k, "qwen3-q6_k", 1) \
	X(gemma3_q4_0, "gemma3-q4_0", 1) \
	X(gemma3_q4_k_m, "gemma3-q4_k_m", 1) \
	X(gemma3_q5_k_m, "gemma3-q5_k_m", 1) \
	X(gemma3_q6_k, "gemma3-q6_k", 1) \
	X(phi3_q4_0, "phi3-q4_0", 1) \
	X(phi3_q4_k_m, "phi3-q4_k_m", 1) \
	X(phi3_q5_k_m, "phi3-q5_k_m", 1) \
	X(phi3_q6_k, "phi3-q6_k", 1) \
	X(llama32_q4_1, "llama32-q4_1", 1) \
	X(llama32_q5_0, "llama32-q5_0", 1)

#endif /* LUMEN_GOLDEN_ARCH_H */
