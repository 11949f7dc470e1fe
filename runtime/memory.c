// SPDX-License-Identifier: MIT
/*
 * Memory a model needs, and refusing early what cannot fit: on glasses with
 * 2 GB a model that does not fit should fail before its weights are copied
 * and before the kernel's OOM killer picks a process, with the figure that
 * would have been needed.
 */
#include <stdio.h>
#include <string.h>

#include "lnpu_memory.h"
#include "lumen_internal.h"

#define MIB (1024.0 * 1024.0)

/* MemAvailable of /proc/meminfo in bytes; 0 when it cannot be read */
static uint64_t memory_available(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (uint64_t)kib * 1024;
}

static void model_memory(const struct lumen_model *m, uint32_t ctx,
			 struct lnpu_memory *mem)
{
	const struct lnpu_meta *meta = &m->file.meta;

	lnpu_memory_at(m->region_size, meta->ctx, meta->n_vocab, ctx, mem);
}

void lumen_model_get_memory(const struct lumen_model *m, uint32_t ctx,
			    struct lumen_memory *out)
{
	struct lnpu_memory mem;

	model_memory(m, ctx ? ctx : m->file.meta.ctx, &mem);
	out->ctx = mem.ctx;
	out->weights = mem.weights;
	out->scratch = mem.scratch;
	out->kv = mem.kv;
	out->io = mem.io;
	out->total = mem.total;
}

int lumen_check_model_memory(const struct lumen_model *m)
{
	uint64_t avail = memory_available();
	struct lnpu_memory mem;

	model_memory(m, 0, &mem);
	if (!avail || mem.weights + mem.scratch <= avail)
		return 0;
	return lumen_fail(LUMEN_E_NOMEM,
			  "the model needs %.0f MiB before any session (weights %.0f MiB, scratch %.0f MiB) and this system has %.0f MiB available; use a smaller or more quantized model",
			  (mem.weights + mem.scratch) / MIB, mem.weights / MIB,
			  mem.scratch / MIB, avail / MIB);
}

int lumen_check_memory(const struct lumen_model *m, uint32_t positions,
		       uint64_t kv_size)
{
	uint64_t avail = memory_available();
	struct lnpu_memory mem;

	model_memory(m, positions, &mem);
	if (!avail || kv_size + mem.io <= avail)
		return 0;
	return lumen_fail(LUMEN_E_NOMEM,
			  "a session of %u positions needs %.0f MiB of KV cache (%.1f KiB per position; the model with it %.0f MiB) and this system has %.0f MiB available; ask for a smaller context (--ctx)",
			  positions, kv_size / MIB,
			  positions ? kv_size / 1024.0 / positions : 0.0,
			  mem.total / MIB, avail / MIB);
}
