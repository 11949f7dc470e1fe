// SPDX-License-Identifier: MIT
/*
 * gen-synthetic: write llama-architecture GGUF v3 models of real shapes
 * with seeded random weights, for speed and scale work.
 *
 *   gen-synthetic --shape NAME|--all [--type f16|q8_0|q4_0|all]
 *                 --vocab VOCAB.gguf -d DIR [--seed N]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "synth.h"

static const struct {
	const char *name;
	uint32_t type;
} types[] = { { "f16", 1 }, { "q8_0", 8 }, { "q4_0", 2 } };

static void usage(FILE *f)
{
	fprintf(f, "usage: gen-synthetic --shape NAME|--all [--type f16|q8_0|q4_0|all]\n"
		   "                     --vocab VOCAB.gguf -d DIR [--seed N]\nshapes:");
	for (unsigned int i = 0; i < synth_shape_count; i++)
		fprintf(f, " %s", synth_shapes[i].name);
	fprintf(f, "\n");
}

static int mkdirs(const char *dir)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shape", required_argument, 0, 's' },
		{ "all", no_argument, 0, 'a' },
		{ "type", required_argument, 0, 't' },
		{ "vocab", required_argument, 0, 'v' },
		{ "seed", required_argument, 0, 'r' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *shape = NULL, *type = "all", *vocab = NULL, *dir = NULL;
	uint64_t seed = 1;
	int all = 0, c;

	while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': shape = optarg; break;
		case 'a': all = 1; break;
		case 't': type = optarg; break;
		case 'v': vocab = optarg; break;
		case 'r': seed = strtoull(optarg, NULL, 0); break;
		case 'd': dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((!shape && !all) || !vocab || !dir || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (shape && !synth_find(shape)) {
		fprintf(stderr, "gen-synthetic: unknown shape '%s'\n", shape);
		usage(stderr);
		return 2;
	}
	if (mkdirs(dir)) {
		fprintf(stderr, "gen-synthetic: %s: cannot create: %m\n", dir);
		return 1;
	}
	for (unsigned int i = 0; i < synth_shape_count; i++) {
		const struct synth_shape *s = &synth_shapes[i];

		if (!all && strcmp(s->name, shape))
			continue;
		for (unsigned int t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
			char path[4096], err[512];

			if (strcmp(type, "all") && strcmp(type, types[t].name))
				continue;
			snprintf(path, sizeof(path), "%s/%s-%s.gguf", dir, s->name,
				 types[t].name);
			fprintf(stderr, "gen-synthetic: %s\n", path);
			if (synth_write(s, types[t].type, vocab, seed, path, err,
					sizeof(err))) {
				fprintf(stderr, "gen-synthetic: %s\n", err);
				return 1;
			}
		}
	}
	return 0;
}
