// SPDX-License-Identifier: MIT
/*
 * bench-compile: compile every synthetic shape (F16, Q8_0, Q4_0, and the
 * F16 files requantized to Q8_0) and report wall time and peak RSS of each
 * compilation, measured in a child process through wait4(). The scale
 * target of the Llama-3.2-1B shape is checked: under a minute and under
 * twice the model's size in memory; the exit status says whether it held.
 *
 *   bench-compile DIR [SHAPE]   (models are generated into DIR once, then
 *                                reused; SHAPE: only that one)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compile.h"
#include "synth.h"

#define SCALE_SHAPE "Llama-3.2-1B"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

/* compile in a child; its peak RSS (bytes) and wall time */
static int measure(const char *in, const char *out, uint32_t quant,
		   double *secs, uint64_t *rss)
{
	struct rusage ru;
	double t0 = now();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct lc_options opt = {
			.kv_dtype = LUMEN_DTYPE_F16,
			.quant = quant,
		};
		char err[512];

		if (lc_compile_file(in, NULL, out, &opt, NULL, 0, err, sizeof(err))) {
			fprintf(stderr, "bench-compile: %s\n", err);
			_exit(1);
		}
		_exit(0);
	}
	if (wait4(pid, &status, 0, &ru) != pid)
		return -1;
	*secs = now() - t0;
	*rss = (uint64_t)ru.ru_maxrss * 1024;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		uint32_t type;
	} types[] = { { "f16", 1 }, { "q8_0", 8 }, { "q4_0", 2 } };
	const char *shared = getenv("SHARED");
	char vocab[1024], in[1024], out[1024], err[512];
	int ok = 1;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: bench-compile DIR [SHAPE]\n");
		return 2;
	}
	if (mkdir(argv[1], 0755) && errno != EEXIST) {
		fprintf(stderr, "bench-compile: %s: %m\n", argv[1]);
		return 1;
	}
	snprintf(vocab, sizeof(vocab), "%s/tokenizer/ggml-vocab-llama-spm.gguf",
		 shared && *shared ? shared : "../shared");
	printf("%-20s %-10s %12s %12s %8s %10s %8s\n", "shape", "weights",
	       "gguf bytes", "lnpu bytes", "seconds", "peak RSS", "RSS/size");
	for (unsigned int s = 0; s < synth_shape_count; s++) {
		if (argc == 3 && strcmp(argv[2], synth_shapes[s].name))
			continue;
		for (unsigned int t = 0; t < 4; t++) {
			unsigned int src = t < 3 ? t : 0;	/* 3: F16 requantized */
			uint32_t quant = t < 3 ? LC_KEEP_DTYPE : LUMEN_DTYPE_Q8_0;
			const char *label = t < 3 ? types[t].name : "f16>q8_0";
			double secs;
			uint64_t rss, size;

			snprintf(in, sizeof(in), "%s/%s-%s.gguf", argv[1],
				 synth_shapes[s].name, types[src].name);
			if (!file_size(in) &&
			    synth_write(&synth_shapes[s], types[src].type, vocab, 1, in,
					err, sizeof(err))) {
				fprintf(stderr, "bench-compile: %s\n", err);
				return 1;
			}
			snprintf(out, sizeof(out), "%s/bench.lnpu", argv[1]);
			if (measure(in, out, quant, &secs, &rss)) {
				printf("%-20s %-10s compile FAILED\n", synth_shapes[s].name, label);
				ok = 0;
				continue;
			}
			size = file_size(in);
			printf("%-20s %-10s %12llu %12llu %8.2f %8.0f MB %8.2f\n",
			       synth_shapes[s].name, label, (unsigned long long)size,
			       (unsigned long long)file_size(out), secs, rss / 1048576.0,
			       (double)rss / size);
			fflush(stdout);
			unlink(out);
			if (!strcmp(synth_shapes[s].name, SCALE_SHAPE) &&
			    (secs >= 60.0 || rss >= 2 * size)) {
				printf("  ^ above the target: 60 s and 2x the model size\n");
				ok = 0;
			}
		}
	}
	printf("%s: %s compiles %s\n", ok ? "PASS" : "FAIL", SCALE_SHAPE,
	       ok ? "in under a minute and in under twice its size" : "missed a target");
	return ok ? 0 : 1;
}
