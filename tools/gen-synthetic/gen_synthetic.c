// SPDX-License-Identifier: MIT
/*
 * gen-synthetic: write GGUF v3 models of real shapes, each in its own
 * architecture, with seeded random weights, for speed and scale work.
 *
 *   gen-synthetic --shape NAME|--all [--type TYPE[,TYPE...]|all]
 *                 --vocab VOCAB.gguf -d DIR [--seed N]
 *
 * --all writes the shapes up to 1.5B parameters; "all" types are the
 * common ones (f16 q8_0 q4_0 q4_k_m).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "synth.h"

#define ALL_TYPES "f16,q8_0,q4_0,q4_k_m"
#define ALL_SHAPES_MAX_PARAMS 1.5e9

static void usage(FILE *f)
{
	fprintf(f, "usage: gen-synthetic --shape NAME|--all [--type TYPE[,TYPE...]|all]\n"
		   "                     --vocab VOCAB.gguf -d DIR [--seed N]\nshapes:");
	for (unsigned int i = 0; i < synth_shape_count; i++)
		fprintf(f, " %s", synth_shapes[i].name);
	fprintf(f, "\ntypes:");
	for (unsigned int i = 0; synth_type_names[i]; i++)
		fprintf(f, " %s", synth_type_names[i]);
	fprintf(f, " (all: " ALL_TYPES ")\n");
}

/* rough parameter count, to keep --all to the shapes that fit a disk */
static double params(const struct synth_shape *s)
{
	double hd = s->head_dim ? s->head_dim : (double)s->n_embd / s->n_head;
	double layer = (double)s->n_embd * hd * (2.0 * s->n_head + 2.0 * s->n_head_kv) +
		       3.0 * s->n_embd * s->n_ff;

	return layer * s->n_layer + (double)s->n_embd * s->n_vocab * (s->tied ? 1 : 2);
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
	if (!strcmp(type, "all"))
		type = ALL_TYPES;
	for (const char *t = type; *t; t += strcspn(t, ",") + (t[strcspn(t, ",")] == ',')) {
		char name[32];

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(t, ","), t);
		if (!synth_type_from_name(name)) {
			fprintf(stderr, "gen-synthetic: unknown type '%s'\n", name);
			usage(stderr);
			return 2;
		}
	}
	for (unsigned int i = 0; i < synth_shape_count; i++) {
		const struct synth_shape *s = &synth_shapes[i];

		if (all ? params(s) > ALL_SHAPES_MAX_PARAMS : strcmp(s->name, shape))
			continue;
		for (const char *t = type; *t;
		     t += strcspn(t, ",") + (t[strcspn(t, ",")] == ',')) {
			char name[32], path[4096], err[512];

			snprintf(name, sizeof(name), "%.*s", (int)strcspn(t, ","), t);
			snprintf(path, sizeof(path), "%s/%s-%s.gguf", dir, s->name, name);
			fprintf(stderr, "gen-synthetic: %s\n", path);
			if (synth_write(s, synth_type_from_name(name), vocab, seed,
					path, err, sizeof(err))) {
				fprintf(stderr, "gen-synthetic: %s\n", err);
				return 1;
			}
		}
	}
	return 0;
}
