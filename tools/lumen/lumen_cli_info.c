// SPDX-License-Identifier: MIT
/* lumen info: the library, the devices, and a model's shape. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lumen_cli.h"

/* the NPU's runtime power state, as the kernel's runtime PM sees it */
static void print_power(const char *node)
{
	char path[96], state[32];
	unsigned int minor;
	FILE *f;

	if (sscanf(node, "/dev/accel/accel%u", &minor) != 1)
		return;
	snprintf(path, sizeof(path),
		 "/sys/class/accel/accel%u/device/power/runtime_status", minor);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(state, sizeof(state), f)) {
		state[strcspn(state, "\n")] = '\0';
		printf("power:     %s\n", state);
	}
	fclose(f);
}

static void print_device(struct lumen_device *dev)
{
	struct lumen_device_info di;
	char mem[32];

	lumen_device_get_info(dev, &di);
	printf("device:    %s\n", di.name);
	printf("backend:   %s\n", di.backend);
	printf("isa:       v%u\n", di.isa_version);
	printf("cores:     %u%s\n", di.cores,
	       strcmp(di.backend, "cpu") ? "" : " (executor threads)");
	printf("regions:   %u slots\n", di.max_regions);
	printf("dtypes:   ");
	for (uint32_t t = 0; t < 32; t++)
		if (di.dtypes & (1u << t))
			printf(" %s", lumen_dtype_name(t));
	for (uint32_t t = 0; t < 64; t++)
		if (di.dtypes_ext & (1ull << t))
			printf(" %s", lumen_dtype_name(64 + t));
	printf("\n");
	if (di.has_counters) {
		struct lumen_counters c;

		lumen_device_get_counters(dev, &c);
		printf("counters:  busy %.3f ms, energy %.3f mJ\n", c.busy_ns / 1e6,
		       c.energy_uj / 1e3);
	} else {
		printf("counters:  none\n");
	}
	print_power(di.name);
	cli_format_size(di.silicon_memory, mem, sizeof(mem));
	printf("modeled:   %s (%s; %s for models)\n", di.silicon,
	       di.silicon_summary, mem);
}

/* is there an NPU besides? said on one line, never an error here */
static void probe_npu(void)
{
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_NPU };
	struct lumen_device *npu;

	if (!lumen_device_open(&npu, &o)) {
		printf("npu:       present\n");
		lumen_device_close(npu);
	} else {
		printf("npu:       %s\n", lumen_last_error());
	}
}

/*
 * What a session of @ctx positions takes, as the load checks it, and
 * whether that fits the modeled NPU's memory.
 */
static void print_memory(struct lumen_model *m, uint32_t ctx,
			 const struct lumen_device_info *di)
{
	struct lumen_memory mem;
	char total[32], w[32], kv[32], scratch[32], io[32], budget[32];

	lumen_model_get_memory(m, ctx, &mem);
	cli_format_size(di->silicon_memory, budget, sizeof(budget));
	cli_format_size(mem.total, total, sizeof(total));
	cli_format_size(mem.weights, w, sizeof(w));
	cli_format_size(mem.kv, kv, sizeof(kv));
	cli_format_size(mem.scratch, scratch, sizeof(scratch));
	cli_format_size(mem.io, io, sizeof(io));
	printf("memory:    %s at context %u: weights %s, KV cache %s, scratch %s, buffers %s\n",
	       total, mem.ctx, w, kv, scratch, io);
	printf("fits:      %s on %s (%s for models)\n",
	       mem.total <= di->silicon_memory ? "yes" : "NO", di->silicon, budget);
}

static void print_model(struct lumen_model *m, const char *path, uint32_t ctx,
			const struct lumen_device_info *di)
{
	struct lumen_model_info mi;
	char size[32], params[32];

	lumen_model_get_info(m, &mi);
	cli_format_size(mi.file_size, size, sizeof(size));
	cli_format_count(mi.n_params, params, sizeof(params));
	printf("\nmodel:     %s\n", path);
	printf("name:      %s (%s)\n", mi.name, mi.arch);
	printf("params:    %s, %s\n", params, lumen_dtype_name(mi.weight_dtype));
	printf("size:      %s\n", size);
	printf("shape:     vocab %u, embd %u, layers %u, heads %u (kv %u), ff %u\n",
	       mi.n_vocab, mi.n_embd, mi.n_layer, mi.n_head, mi.n_head_kv,
	       mi.n_ff);
	printf("context:   %u positions, KV cache %s\n", mi.ctx,
	       lumen_dtype_name(mi.kv_dtype));
	printf("prefill:   %u tokens per submission\n", mi.prefill_chunk);
	printf("weights:   %llu bytes, %llu copied at load\n",
	       (unsigned long long)mi.weight_bytes,
	       (unsigned long long)mi.weight_bytes_copied);
	/* no template falls back to chatml; an unknown one has no stops */
	if (lumen_chat_template_name(m))
		printf("chat:      template %s\n", lumen_chat_template_name(m));
	else if (lumen_chat_template_stops(m, NULL))
		printf("chat:      no template (lumen chat uses chatml)\n");
	else
		printf("chat:      a template lumen does not recognise (lumen chat --chat-template NAME)\n");
	print_memory(m, ctx, di);
	if (ctx && ctx != mi.ctx)
		return;
	/* what a short chat would take, when the model allows long ones */
	if (mi.ctx > 2048)
		print_memory(m, 2048, di);
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, 0, 'm' },
		{ "device", required_argument, 0, 'd' },
		{ "threads", required_argument, 0, 't' },
		{ "ctx", required_argument, 0, 'c' },
		{ "silicon", required_argument, 0, 'S' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	enum lumen_backend backend = LUMEN_BACKEND_AUTO;
	const char *model_path = NULL;
	struct lumen_device_info di;
	struct lumen_device *dev;
	struct lumen_model *m = NULL;
	uint32_t threads = 0, ctx = 0;
	int c;

	while ((c = getopt_long(argc, argv, "m:t:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model_path = optarg;
			break;
		case 'd':
			if (cli_backend(optarg, &backend))
				return CLI_USAGE;
			break;
		case 't':
			if (cli_u32("--threads", optarg, 1, 256, &threads))
				return CLI_USAGE;
			break;
		case 'c':
			if (cli_u32("--ctx", optarg, 1, 1u << 20, &ctx))
				return CLI_USAGE;
			break;
		case 'S':
			cli_silicon = optarg;
			break;
		case 'h':
			printf("usage: lumen info [-m MODEL [-c CTX]] [--device npu|cpu|auto] [-t N]\n"
			       "  -c, --ctx N   the memory a session of N positions needs\n"
			       "  --silicon NAME  the modeled NPU: glasses (default), phone\n");
			return CLI_OK;
		default:
			return CLI_USAGE;
		}
	}
	if (optind != argc) {
		cli_error("info: unexpected argument '%s'", argv[optind]);
		return CLI_USAGE;
	}
	if (cli_open_device(backend, threads, &dev))
		return CLI_FAIL;
	printf("liblumen:  %s\n", LUMEN_VERSION_STRING);
	print_device(dev);
	if (backend != LUMEN_BACKEND_NPU)
		probe_npu();
	if (model_path) {
		if (cli_load_model(dev, model_path, ctx, &m, NULL)) {
			lumen_device_close(dev);
			return CLI_FAIL;
		}
		struct lumen_model_info mi;

		lumen_model_get_info(m, &mi);
		if (ctx > mi.ctx) {
			cli_error("info: --ctx %u is above the %u positions %s was compiled for (lumenc --ctx)",
				  ctx, mi.ctx, model_path);
			lumen_model_free(m);
			lumen_device_close(dev);
			return CLI_FAIL;
		}
		lumen_device_get_info(dev, &di);
		print_model(m, model_path, ctx, &di);
		lumen_model_free(m);
	}
	lumen_device_close(dev);
	return CLI_OK;
}
