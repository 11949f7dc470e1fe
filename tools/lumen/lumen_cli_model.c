// SPDX-License-Identifier: MIT
/*
 * Models given as .gguf: compiled by lumenc on first use and kept in
 * $LUMEN_CACHE/models/<sha256 of the GGUF, the lumenc binary and the
 * options>.lnpu, so a new compiler or other options never reuse a stale
 * file. lumenc is $LUMENC, or the one beside lumen (installed), or the
 * build tree's (../../compiler/lumenc), or lumenc on $PATH.
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
#include "sha256.h"

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

static int hash_file(struct lumen_sha256 *c, const char *path)
{
	static uint8_t buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		lumen_sha256_update(c, buf, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

static int mkdirs(char *dir)
{
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(dir, 0755) && errno != EEXIST ? -1 : 0;
}

static int cache_dir(char *out, size_t len)
{
	const char *cache = getenv("LUMEN_CACHE");
	const char *home = getenv("HOME");

	if (cache && *cache)
		snprintf(out, len, "%s/models", cache);
	else if (home && *home)
		snprintf(out, len, "%s/.cache/lumen/models", home);
	else {
		cli_error("set $LUMEN_CACHE (or $HOME) for compiled models");
		return -1;
	}
	if (mkdirs(out)) {
		cli_error("cannot create %s: %s", out, strerror(errno));
		return -1;
	}
	return 0;
}

/* the first bytes say what a file is; the name does not */
static int file_magic(const char *path, char magic[4])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	struct stat st;

	if (fd < 0) {
		cli_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		cli_error("%s: not a regular file", path);
		return -1;
	}
	n = read(fd, magic, 4);
	close(fd);
	if (n != 4)
		memset(magic, 0, 4);
	return 0;
}

int cli_resolve_model(const char *path, uint32_t ctx, char *out, size_t len)
{
	char magic[4], lumenc[PATH_MAX], dir[PATH_MAX], hex[65], tmp[PATH_MAX + 16];
	char ctx_arg[16];
	struct lumen_sha256 c;
	uint8_t digest[32];
	int status;

	if (file_magic(path, magic))
		return -1;
	if (memcmp(magic, "GGUF", 4)) {
		snprintf(out, len, "%s", path);	/* the loader says what is wrong */
		return 0;
	}
	if (cli_find_lumenc(lumenc, sizeof(lumenc)) ||
	    cache_dir(dir, sizeof(dir)))
		return -1;
	snprintf(ctx_arg, sizeof(ctx_arg), "%u", ctx);
	lumen_sha256_init(&c);
	if (hash_file(&c, path) || hash_file(&c, lumenc)) {
		cli_error("%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	lumen_sha256_update(&c, "ctx=", 4);
	lumen_sha256_update(&c, ctx_arg, strlen(ctx_arg));
	lumen_sha256_final(&c, digest);
	lumen_sha256_hex(digest, hex);
	snprintf(out, len, "%s/%s.lnpu", dir, hex);
	if (!access(out, R_OK))
		return 0;

	/* into a private name first: a failed or concurrent run leaves no half file */
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", out, (int)getpid());
	fprintf(stderr, "lumen: compiling %s (first use; cached in %s)\n", path, dir);
	{
		char *args[] = { lumenc, (char *)path, "-o", tmp, "--quiet",
				 ctx ? "--ctx" : NULL, ctx_arg, NULL };

		status = cli_run_lumenc(args);
	}
	if (status) {
		unlink(tmp);
		cli_error("%s: lumenc failed (exit status %d)", path, status);
		return -1;
	}
	if (rename(tmp, out)) {
		unlink(tmp);
		cli_error("cannot store %s: %s", out, strerror(errno));
		return -1;
	}
	return 0;
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
