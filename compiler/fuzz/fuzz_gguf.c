// SPDX-License-Identifier: MIT
/* libFuzzer target: the GGUF reader and the model graph built from it. */
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gguf_file g;
	struct lm_model m;
	char err[256];
	volatile uint8_t sink = 0;

	if (gguf_parse(&g, data, size, err, sizeof(err)))
		return 0;
	/* everything the reader handed out must be readable */
	for (uint64_t i = 0; i < g.n_kv; i++) {
		const struct gguf_kv *kv = &g.kv[i];

		if (kv->type == GGUF_T_STRING && kv->v.s.len)
			sink ^= (uint8_t)kv->v.s.ptr[kv->v.s.len - 1];
		if (kv->type != GGUF_T_ARRAY || !kv->arr_n)
			continue;
		if (kv->arr_type == GGUF_T_STRING) {
			struct gguf_str s = gguf_arr_str(&g, kv, kv->arr_n - 1);

			if (s.len)
				sink ^= (uint8_t)s.ptr[s.len - 1];
		} else if (kv->arr_type != GGUF_T_ARRAY) {
			sink ^= gguf_arr_num(&g, kv, kv->arr_n - 1) > 0;
		}
	}
	for (uint64_t i = 0; i < g.n_tensors; i++)
		if (g.tensors[i].size)
			sink ^= g.tensors[i].data[g.tensors[i].size - 1];
	if (!lm_from_gguf(&m, &g, err, sizeof(err)))
		lm_free(&m);
	gguf_close(&g);
	(void)sink;
	return 0;
}
