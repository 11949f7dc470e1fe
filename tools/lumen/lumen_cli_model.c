// SPDX-License-Identifier: MIT
/*
 * The compiler: lumenc is $LUMENC, or the one beside lumen (installed), or
 * the build tree's (../../compiler/lumenc), or lumenc on $PATH; lumen
 * compile runs it. The cache of compiled .gguf files is lumen_cli_cache.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lumen_cli.h"

static int executable(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISREG(st.st_mode) && !access(p, X_OK);
}

int cli_find_lumenc(char *out, size_t len)
{
	const char *env = getenv("LUMENC");
	const char *path = getenv("PATH");

	if (env && *env) {
		if (!executable(env)) {
			cli_error("$LUMENC=%s is not an executable file", env);
			return -1;
		}
		snprintf(out, len, "%s", env);
		return 0;
	}
	snprintf(out, len, "%s/lumenc", cli_argv0_dir);
	if (executable(out))
		return 0;
	snprintf(out, len, "%s/../../compiler/lumenc", cli_argv0_dir);
	if (executable(out))
		return 0;
	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(out, len, "%.*s/lumenc", (int)n, path);
		if (n && executable(out))
			return 0;
		path += n + (path[n] == ':');
	}
	cli_error("cannot find lumenc (the compiler): set $LUMENC, or put it beside lumen or on $PATH");
	return -1;
}

int cli_run_lumenc(char *const *args)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cli_error("cannot start %s: %s", args[0], strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execv(args[0], args);
		fprintf(stderr, "lumen: cannot run %s: %s\n", args[0],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int cmd_compile(int argc, char **argv)
{
	char lumenc[PATH_MAX];
	char **args;
	int status;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: lumen compile MODEL.gguf -o MODEL.lnpu [--ctx N] [--quant q8_0|q4_0]\n"
			"                     [--prefill-chunk N] [--kv f16|f32]\n"
			"runs lumenc with these arguments (see lumenc --help)\n");
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (cli_find_lumenc(lumenc, sizeof(lumenc)))
		return CLI_FAIL;
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args) {
		cli_error("out of memory");
		return CLI_FAIL;
	}
	args[0] = lumenc;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	status = cli_run_lumenc(args);
	free(args);
	if (status == CLI_USAGE)
		return CLI_USAGE;
	return status ? CLI_FAIL : CLI_OK;
}
