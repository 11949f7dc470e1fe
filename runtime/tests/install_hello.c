// SPDX-License-Identifier: MIT
/*
 * A program of the kind liblumen's users write, built by the
 * runtime-install suite against an installed liblumen with nothing but
 * `pkg-config --cflags --libs lumen` (shared) or `--static`:
 *
 *   install_hello MODEL.lnpu PROMPT N
 *
 * prints the prompt's token ids on one line ("ids: 1 423 ..."), then the
 * prompt and N greedy tokens generated on the CPU device. It also checks,
 * from outside the library, the error convention (a missing file is
 * LUMEN_E_IO with a message) and that the library's internals are not
 * part of its ABI: it defines functions under the names of some of them,
 * which neither clash at link time nor replace the library's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lumen/lumen.h>

/* names that liblumen uses inside (hw/exec, formats/, isa/, runtime/) */
int lumen_exec_create(void);
int gguf_open(void);
int lnpu_open(void);
int lumen_validate(void);
int lumen_fail(void);

int lumen_exec_create(void) { return 1; }
int gguf_open(void) { return 2; }
int lnpu_open(void) { return 3; }
int lumen_validate(void) { return 4; }
int lumen_fail(void) { return 5; }

static int print_piece(void *data, int32_t id, const char *piece, size_t len)
{
	fwrite(piece, 1, len, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_CPU,
					  .threads = 1 };
	struct lumen_generate_params p = lumen_generate_default_params();
	struct lumen_device *dev;
	struct lumen_model *m;
	struct lumen_session *s;
	int32_t ids[256];
	long n;
	int ret;

	if (argc != 4) {
		fprintf(stderr, "usage: %s MODEL.lnpu PROMPT N\n", argv[0]);
		return 2;
	}
	if (lumen_exec_create() + gguf_open() + lnpu_open() +
	    lumen_validate() + lumen_fail() != 15) {
		fprintf(stderr, "the program's own functions were replaced\n");
		return 1;
	}
	if (lumen_device_open(&dev, &o)) {
		fprintf(stderr, "device: %s\n", lumen_last_error());
		return 1;
	}
	ret = lumen_model_load(dev, "/nonexistent/model.lnpu", NULL, &m);
	if (ret != LUMEN_E_IO || m || !strstr(lumen_last_error(), "nonexistent")) {
		fprintf(stderr, "a missing model: %d (%s), want LUMEN_E_IO\n", ret,
			lumen_last_error());
		return 1;
	}
	if (lumen_model_load(dev, argv[1], NULL, &m) ||
	    lumen_session_create(m, 0, &s)) {
		fprintf(stderr, "%s\n", lumen_last_error());
		return 1;
	}
	n = lumen_tokenize(lumen_model_tokenizer(m), argv[2], strlen(argv[2]),
			   LUMEN_TOKENIZE_BOS, ids, 256);
	if (n < 0 || n > 256) {
		fprintf(stderr, "tokenize: %s\n", lumen_last_error());
		return 1;
	}
	printf("ids:");
	for (long i = 0; i < n; i++)
		printf(" %d", ids[i]);
	printf("\n%s", argv[2]);
	p.sampling.temperature = 0;
	p.n_predict = (uint32_t)atoi(argv[3]);
	p.stop_at_eos = false;
	p.on_token = print_piece;
	ret = lumen_generate(s, argv[2], strlen(argv[2]), &p, NULL);
	printf("\n");
	if (ret) {
		fprintf(stderr, "generate: %s: %s\n", lumen_strerror(ret),
			lumen_last_error());
		return 1;
	}
	lumen_session_free(s);
	lumen_model_free(m);
	lumen_device_close(dev);
	return 0;
}
