// SPDX-License-Identifier: MIT
/*
 * lumenc: compile a llama-family GGUF model (or a llama2.c checkpoint)
 * into a .lnpu file for the Lumen NPU, and inspect .lnpu files.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "disasm.h"
#include "lnpu_read.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lumenc MODEL.gguf -o MODEL.lnpu [--ctx N] [--quant q8_0|q4_0]\n"
		"              [--prefill-chunk N] [--kv f16|f32] [--draft-max N] [--quiet]\n"
		"              (--draft-max: draft tokens one speculative-decoding\n"
		"              submission verifies, default 8; 0: no verify program)\n"
		"              [--verify-topk K] (the verify program also gives each\n"
		"              row's K largest logits for sampled verification,\n"
		"              default 40; 0: none)\n"
		"              [--no-repack] (keep Q4_0, Q5_0, Q8_0, Q4_K and Q6_K\n"
		"              matrices as GGUF lays them out; by default their rows are\n"
		"              interleaved in groups of 8, dtypes Q4_0x8, Q5_0x8, Q8_0x8,\n"
		"              Q4_Kx8 and Q6_Kx8, for faster kernels)\n"
		"       lumenc MODEL.bin --tokenizer TOKENIZER.bin -o MODEL.lnpu ...\n"
		"              (a llama2.c checkpoint)\n"
		"       lumenc --info FILE.lnpu\n"
		"       lumenc --dump FILE.lnpu\n");
}

static int parse_u32(const char *opt, const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > UINT32_MAX || s[0] == '-') {
		fprintf(stderr, "lumenc: %s: '%s' is not a positive integer\n",
			opt, s);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int inspect(const char *path, int dump)
{
	struct lnpu_file f;
	char err[512];

	if (lnpu_open(&f, path, 0, err, sizeof(err))) {
		fprintf(stderr, "lumenc: %s: %s\n", path, err);
		return 1;
	}
	if (dump) {
		lc_dump_program(stdout, "decode", f.prog[0], f.prog_size[0]);
		lc_dump_program(stdout, "prefill", f.prog[1], f.prog_size[1]);
		if (f.prog[2])
			lc_dump_program(stdout, "verify", f.prog[2], f.prog_size[2]);
	} else {
		lc_print_info(stdout, &f);
	}
	lnpu_close(&f);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, 0, 'o' },
		{ "ctx", required_argument, 0, 'c' },
		{ "quant", required_argument, 0, 'q' },
		{ "prefill-chunk", required_argument, 0, 'p' },
		{ "kv", required_argument, 0, 'k' },
		{ "draft-max", required_argument, 0, 'D' },
		{ "verify-topk", required_argument, 0, 'K' },
		{ "tokenizer", required_argument, 0, 't' },
		{ "info", required_argument, 0, 'i' },
		{ "dump", required_argument, 0, 'd' },
		{ "quiet", no_argument, 0, 's' },
		{ "no-repack", no_argument, 0, 'R' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct lc_options opt = {
		.kv_dtype = LUMEN_DTYPE_F16,
		.quant = LC_KEEP_DTYPE,
	};
	const char *out = NULL, *tokenizer = NULL;
	char err[1024];
	int c, quiet = 0;

	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'c':
			if (parse_u32("--ctx", optarg, &opt.ctx))
				return 2;
			break;
		case 'p':
			if (parse_u32("--prefill-chunk", optarg, &opt.prefill_chunk))
				return 2;
			break;
		case 'q':
			if (!strcmp(optarg, "q8_0")) {
				opt.quant = LUMEN_DTYPE_Q8_0;
			} else if (!strcmp(optarg, "q4_0")) {
				opt.quant = LUMEN_DTYPE_Q4_0;
			} else {
				fprintf(stderr, "lumenc: --quant: '%s' is not q8_0 or q4_0\n",
					optarg);
				return 2;
			}
			break;
		case 'k':
			if (!strcmp(optarg, "f16")) {
				opt.kv_dtype = LUMEN_DTYPE_F16;
			} else if (!strcmp(optarg, "f32")) {
				opt.kv_dtype = LUMEN_DTYPE_F32;
			} else {
				fprintf(stderr, "lumenc: --kv: '%s' is not f16 or f32\n",
					optarg);
				return 2;
			}
			break;
		case 'D':
			if (!strcmp(optarg, "0")) {
				opt.draft_max = LC_NO_VERIFY;
			} else if (parse_u32("--draft-max", optarg, &opt.draft_max)) {
				return 2;
			}
			break;
		case 'K':
			if (!strcmp(optarg, "0")) {
				opt.verify_topk = LC_NO_VERIFY;
			} else if (parse_u32("--verify-topk", optarg, &opt.verify_topk)) {
				return 2;
			}
			break;
		case 't':
			tokenizer = optarg;
			break;
		case 'i':
			return inspect(optarg, 0);
		case 'd':
			return inspect(optarg, 1);
		case 's':
			quiet = 1;
			break;
		case 'R':
			opt.no_repack = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !out) {
		usage(stderr);
		return 2;
	}
	if (lc_compile_file(argv[optind], tokenizer, out, &opt,
			    quiet ? NULL : stderr, !quiet, err, sizeof(err))) {
		fprintf(stderr, "lumenc: %s\n", err);
		return 1;
	}
	return 0;
}
