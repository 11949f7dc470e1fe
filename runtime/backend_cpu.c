// SPDX-License-Identifier: MIT
/*
 * The CPU backend: the programs run through hw/core in this process, the
 * way the NPU would run them. Jobs run inside submit(); wait() reports how
 * the last one ended. Read-only host memory (the mapped weights) is used in
 * place, so loading a model copies no weights. Programs are copied: the
 * executor trusts a validated program's fields (dims, strides, params),
 * and a file mapping changes when someone writes the file (MAP_PRIVATE
 * shows writes in pages not yet copied on write), so each program is run
 * from a private copy validated again, as the kernel does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lumen_exec.h"
#include "lumen_internal.h"

/*
 * @result: how the last two jobs ended, by job id parity: chained decode
 * (decode_chain.c) submits a job before it waits for the one before.
 */
struct cpu_device {
	struct lumen_exec *ex;
	uint64_t last_job;
	struct lumen_job_result result[2];
};

struct lumen_prog {
	void *code;		/* our copy */
	size_t size;
	struct lumen_validation val;	/* of the copy */
};

static struct cpu_device *cpu(struct lumen_device *dev)
{
	return dev->priv;
}

static int cpu_open(struct lumen_device *dev,
		    const struct lumen_device_options *opt)
{
	struct cpu_device *c = calloc(1, sizeof(*c));
	unsigned int threads = opt->threads;

	if (!c)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	if (!threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (unsigned int)n : 1;
	}
	c->ex = lumen_exec_create(threads);
	if (!c->ex) {
		free(c);
		return lumen_fail(LUMEN_E_NOMEM,
				  "cannot start %u executor threads", threads);
	}
	dev->priv = c;
	return 0;
}

static void cpu_close(struct lumen_device *dev)
{
	lumen_exec_destroy(cpu(dev)->ex);
	free(cpu(dev));
}

static void cpu_get_info(struct lumen_device *dev,
			 struct lumen_device_info *info)
{
	snprintf(info->name, sizeof(info->name), "host CPU (hw/exec)");
	info->isa_version = LUMEN_ISA_VERSION;
	info->cores = lumen_exec_threads(cpu(dev)->ex);
	info->max_regions = LUMEN_MAX_REGIONS;
	info->dtypes = LUMEN_DTYPES_IMPLEMENTED;
	info->dtypes_ext = LUMEN_DTYPES_EXT_IMPLEMENTED;
	info->has_counters = false;
}

static int cpu_buf_alloc(struct lumen_device *dev, uint64_t size,
			 struct lumen_buf *buf)
{
	memset(buf, 0, sizeof(*buf));
	buf->host = lumen_host_alloc(size, false);
	if (!buf->host)
		return lumen_fail(LUMEN_E_NOMEM, "cannot allocate %llu bytes",
				  (unsigned long long)size);
	buf->size = size;
	buf->priv = buf->host;		/* ours to free */
	return 0;
}

#define COPY_STEP (8u << 20)

/*
 * Weights of a huge page or more are copied into huge pages when the
 * kernel has them: decode streams every weight once per token, and from
 * the file's 4 KiB pages it ran 20% slower (Qwen2.5-0.5B Q4_0 tg64, one
 * thread). The file's pages are released as they are copied, so the load
 * never holds the weights twice. Below that, or without THP, they are
 * read in place.
 */
static int cpu_buf_import(struct lumen_device *dev, const void *host,
			  uint64_t size, struct lumen_buf *buf)
{
	memset(buf, 0, sizeof(*buf));
	if (size >= LUMEN_HUGE_PAGE && lumen_host_huge_pages()) {
		uint8_t *dst = lumen_host_alloc(size, true);

		if (!dst)
			return lumen_fail(LUMEN_E_NOMEM, "cannot allocate %llu bytes for the weights",
					  (unsigned long long)size);
		for (uint64_t done = 0; done < size; done += COPY_STEP) {
			uint64_t n = size - done < COPY_STEP ? size - done : COPY_STEP;

			memcpy(dst + done, (const uint8_t *)host + done, n);
			lumen_host_release((const uint8_t *)host + done, n);
		}
		buf->host = dst;
		buf->size = size;
		buf->priv = dst;	/* ours to free */
		buf->huge = true;
		buf->copied = true;
		return 0;
	}
	/* the executor never writes a read-only region: the const is kept */
	buf->host = (void *)host;
	buf->size = size;
	return 0;
}

static void cpu_buf_free(struct lumen_device *dev, struct lumen_buf *buf)
{
	lumen_host_free(buf->priv, buf->size, buf->huge);
	memset(buf, 0, sizeof(*buf));
}

static int cpu_program_create(struct lumen_device *dev, const void *code,
			      size_t size, const struct lumen_validation *v,
			      struct lumen_prog **out)
{
	struct lumen_prog *p = malloc(sizeof(*p));

	if (!p)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	p->code = malloc(size ? size : 1);
	if (!p->code) {
		free(p);
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	}
	memcpy(p->code, code, size);
	p->size = size;
	/*
	 * The copy is what runs, so the copy is what is validated; it must
	 * also be the program the model was laid out for.
	 */
	if (lumen_validate(p->code, size, &p->val) || !lumen_same_validation(&p->val, v)) {
		uint32_t e = p->val.error;

		free(p->code);
		free(p);
		return lumen_fail(LUMEN_E_FORMAT,
				  "the program changed in the file after it was read (%s)",
				  e ? lumen_verr_str(e) : "other region sizes");
	}
	*out = p;
	return 0;
}

static void cpu_program_destroy(struct lumen_device *dev, struct lumen_prog *p)
{
	if (p)
		free(p->code);
	free(p);
}

static int cpu_submit(struct lumen_device *dev, struct lumen_prog *p,
		      struct lumen_buf *const *bufs, unsigned int n,
		      uint64_t *job)
{
	struct cpu_device *c = cpu(dev);
	struct lumen_region regions[LUMEN_MAX_REGIONS] = { 0 };
	struct lumen_fault fault = { 0 };

	if (n > LUMEN_MAX_REGIONS)
		return lumen_fail(LUMEN_E_INVAL, "%u region slots", n);
	for (unsigned int i = 0; i < n; i++) {
		if (bufs[i]) {
			regions[i].base = bufs[i]->host;
			regions[i].size = bufs[i]->size;
		}
	}
	struct lumen_job_result *r = &c->result[(c->last_job + 1) & 1];

	memset(r, 0, sizeof(*r));
	if (lumen_exec_run_validated(c->ex, p->code, &p->val, regions, n,
				     &fault)) {
		r->fault_code = fault.code ? fault.code : ~0u;
		r->fault_op = fault.op_index;
		r->fault_region = fault.region;
		r->fault_offset = fault.offset;
	}
	*job = ++c->last_job;
	return 0;
}

static int cpu_wait(struct lumen_device *dev, uint64_t job,
		    struct lumen_job_result *res)
{
	struct cpu_device *c = cpu(dev);

	if (!job || job > c->last_job || c->last_job - job > 1)
		return lumen_fail(LUMEN_E_INVAL,
				  "job %llu is not one of the last two",
				  (unsigned long long)job);
	*res = c->result[job & 1];
	return 0;
}

static void cpu_get_counters(struct lumen_device *dev, struct lumen_counters *c)
{
	struct lumen_exec_stats st;

	lumen_exec_get_stats(cpu(dev)->ex, &st);
	c->bytes_read = st.bytes_read;
	c->flops = st.flops;
}

const struct lumen_backend_ops lumen_cpu_backend = {
	.name = "cpu",
	.open = cpu_open,
	.close = cpu_close,
	.get_info = cpu_get_info,
	.buf_alloc = cpu_buf_alloc,
	.buf_import = cpu_buf_import,
	.buf_free = cpu_buf_free,
	.program_create = cpu_program_create,
	.program_destroy = cpu_program_destroy,
	.submit = cpu_submit,
	.wait = cpu_wait,
	.get_counters = cpu_get_counters,
};
