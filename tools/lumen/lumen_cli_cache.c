// SPDX-License-Identifier: MIT
/*
 * The compiled-model cache: a .gguf given to lumen is compiled by lumenc
 * on first use into $LUMEN_CACHE/models/<key>.lnpu, with <key>.info
 * describing it (`lumen models` lists them, `lumen rm` removes them).
 *
 * The key is the GGUF's identity, found without reading the file: its
 * real path, device, inode, size, mtime and ctime (ctime changes with any
 * write and cannot be set back), its first KiBs (the header's
 * metadata), the compiler's identity (path, size, mtime) and the options.
 * The content is read only when compiling: its SHA-256 goes into the
 * .info, and a file whose content is already compiled (a copy, a touched
 * file) reuses that compile instead of running lumenc again.
 *
 * A compile writes <key>.tmp.<pid>.lnpu (lumenc adds its own .tmp.<pid>)
 * and renames it into place: an interrupted compile leaves no .lnpu, and
 * its temporary files are removed when lumen is interrupted or, if it
 * was killed, by the next lumen that finds them (their pid is gone).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lumen_cli.h"
#include "sha256.h"

#define HEADER_BYTES	(64u << 10)	/* of the GGUF, in the key */

double cli_compile_ms;

/* @dir/@name@suffix; -1 when it does not fit */
static int join(char *out, size_t len, const char *dir, const char *name,
		const char *suffix)
{
	size_t a = strlen(dir), b = strlen(name), c = strlen(suffix);

	if (a + 1 + b + c + 1 > len)
		return -1;
	memcpy(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b);
	memcpy(out + a + 1 + b, suffix, c + 1);
	return 0;
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

int cli_cache_dir(char *out, size_t len, bool create)
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
	if (create && mkdirs(out)) {
		cli_error("cannot create %s: %s", out, strerror(errno));
		return -1;
	}
	return 0;
}

/* the first bytes say what a file is; the name does not */
static int file_magic(const char *path, char magic[4], struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		cli_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
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

static void hash_u64(struct lumen_sha256 *c, const char *name, uint64_t v)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%s=%llu;", name,
			 (unsigned long long)v);

	lumen_sha256_update(c, buf, (size_t)n);
}

static void hash_str(struct lumen_sha256 *c, const char *name, const char *s)
{
	lumen_sha256_update(c, name, strlen(name));
	lumen_sha256_update(c, "=", 1);
	lumen_sha256_update(c, s, strlen(s) + 1);
}

static uint64_t ns_of(struct timespec t)
{
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* the GGUF's identity and the compiler's: no read past the header */
static int identity_key(const char *path, const struct stat *st,
			const char *lumenc, const char *options, char hex[65])
{
	static uint8_t head[HEADER_BYTES];
	char real[PATH_MAX];
	struct lumen_sha256 c;
	struct stat cs;
	uint8_t digest[32];
	ssize_t n;
	int fd;

	if (!realpath(path, real) || stat(lumenc, &cs)) {
		cli_error("%s: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, head, sizeof(head))) < 0) {
		cli_error("%s: cannot read: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	lumen_sha256_init(&c);
	hash_str(&c, "gguf", real);
	hash_u64(&c, "dev", (uint64_t)st->st_dev);
	hash_u64(&c, "ino", (uint64_t)st->st_ino);
	hash_u64(&c, "size", (uint64_t)st->st_size);
	hash_u64(&c, "mtime", ns_of(st->st_mtim));
	hash_u64(&c, "ctime", ns_of(st->st_ctim));
	lumen_sha256_update(&c, head, (size_t)n);
	hash_str(&c, "lumenc", lumenc);
	hash_u64(&c, "lumenc.size", (uint64_t)cs.st_size);
	hash_u64(&c, "lumenc.mtime", ns_of(cs.st_mtim));
	hash_u64(&c, "lumenc.ino", (uint64_t)cs.st_ino);
	hash_str(&c, "options", options);
	lumen_sha256_final(&c, digest);
	lumen_sha256_hex(digest, hex);
	return 0;
}

/* ---- interrupted compiles ---- */

static volatile sig_atomic_t compile_interrupted;

static void on_compile_signal(int sig)
{
	compile_interrupted = sig;
}

/* "<key>.tmp.<pid>..." of a process that is gone: a compile that died */
static bool stale_temp(const char *name)
{
	const char *t = strstr(name, ".tmp.");
	char *end;
	long pid;

	if (!t)
		return false;
	pid = strtol(t + 5, &end, 10);
	if (end == t + 5 || pid <= 0 || pid > INT_MAX)
		return false;
	return kill((pid_t)pid, 0) && errno == ESRCH;
}

static void remove_stale_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (stale_temp(e->d_name)) {
			join(p, sizeof(p), dir, e->d_name, "");
			unlink(p);
		}
	closedir(d);
}

/* our own temporary files (lumenc's included), after a failed compile */
static void remove_own_temps(const char *dir, const char *key)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char prefix[128], p[PATH_MAX];

	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), "%s.tmp.%d.", key, (int)getpid());
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix))) {
			join(p, sizeof(p), dir, e->d_name, "");
			unlink(p);
		}
	closedir(d);
}

/* ---- the .info files ---- */

struct cache_info {
	char source[PATH_MAX];
	char sha256[65];
	uint64_t size, mtime_ns, compiled_at;
	double compile_ms;
	char options[64];
	char compiler[PATH_MAX + 64];	/* lumenc's path, size, mtime */
};

static int read_info(const char *path, struct cache_info *ci)
{
	FILE *f = fopen(path, "r");
	char line[PATH_MAX + 32];

	memset(ci, 0, sizeof(*ci));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = 0;
		v[strcspn(v, "\n")] = 0;
		if (!strcmp(line, "source"))
			snprintf(ci->source, sizeof(ci->source), "%s", v);
		else if (!strcmp(line, "sha256"))
			snprintf(ci->sha256, sizeof(ci->sha256), "%s", v);
		else if (!strcmp(line, "options"))
			snprintf(ci->options, sizeof(ci->options), "%s", v);
		else if (!strcmp(line, "compiler"))
			snprintf(ci->compiler, sizeof(ci->compiler), "%s", v);
		else if (!strcmp(line, "size"))
			ci->size = strtoull(v, NULL, 10);
		else if (!strcmp(line, "mtime_ns"))
			ci->mtime_ns = strtoull(v, NULL, 10);
		else if (!strcmp(line, "compiled_at"))
			ci->compiled_at = strtoull(v, NULL, 10);
		else if (!strcmp(line, "compile_ms"))
			ci->compile_ms = strtod(v, NULL);
	}
	fclose(f);
	return 0;
}

static int write_info(const char *dir, const char *key,
		      const struct cache_info *ci)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32];
	FILE *f;

	join(path, sizeof(path), dir, key, ".info");
	char suffix[32];

	snprintf(suffix, sizeof(suffix), ".tmp.%d.info", (int)getpid());
	if (join(tmp, sizeof(tmp), dir, key, suffix))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "source=%s\nsha256=%s\nsize=%llu\nmtime_ns=%llu\noptions=%s\n"
		"compiler=%s\ncompiled_at=%llu\ncompile_ms=%.1f\n", ci->source,
		ci->sha256, (unsigned long long)ci->size,
		(unsigned long long)ci->mtime_ns, ci->options, ci->compiler,
		(unsigned long long)ci->compiled_at, ci->compile_ms);
	if (fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* the content's SHA-256: the one full read, done when compiling */
static int hash_content(const char *path, char hex[65], bool tty)
{
	static uint8_t buf[1 << 20];
	struct lumen_sha256 c;
	uint8_t digest[32];
	uint64_t done = 0, last = 0;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	lumen_sha256_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		lumen_sha256_update(&c, buf, (size_t)n);
		done += (uint64_t)n;
		if (tty && lumen_now_ns() - last > 100000000ull) {
			last = lumen_now_ns();
			fprintf(stderr, "\r\033[Klumen: checking %3d%%",
				st.st_size ? (int)(done * 100 / (uint64_t)st.st_size) : 100);
		}
	}
	close(fd);
	if (tty)
		fputs("\r\033[K", stderr);
	if (n < 0)
		return -1;
	lumen_sha256_final(&c, digest);
	lumen_sha256_hex(digest, hex);
	return 0;
}

/* a compile of the same content, options and compiler, under another key */
static bool find_same_content(const char *dir, const struct cache_info *want,
			      char *key_out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char p[PATH_MAX], lnpu[PATH_MAX];
		struct cache_info ci;

		if (l != 64 + 5 || strcmp(e->d_name + 64, ".info"))
			continue;
		join(p, sizeof(p), dir, e->d_name, "");
		char k[65];

		memcpy(k, e->d_name, 64);
		k[64] = 0;
		join(lnpu, sizeof(lnpu), dir, k, ".lnpu");
		if (read_info(p, &ci) || strcmp(ci.sha256, want->sha256) ||
		    strcmp(ci.options, want->options) ||
		    strcmp(ci.compiler, want->compiler) || access(lnpu, R_OK))
			continue;
		snprintf(key_out, len, "%.64s", e->d_name);
		found = true;
	}
	closedir(d);
	return found;
}

/*
 * lumenc, with progress while it writes: the bytes of its output so far
 * (redrawn on a terminal only). Ctrl-C stops it and removes its files.
 */
static int compile(const char *lumenc, const char *path, const char *dir,
		   const char *key, uint32_t ctx, const char *tmp, bool tty)
{
	struct sigaction sa = { 0 }, old_int, old_term;
	char ctx_arg[16], out_tmp[PATH_MAX] = "";
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	uint64_t t0 = lumen_now_ns();
	int status = -1;
	pid_t pid;

	snprintf(ctx_arg, sizeof(ctx_arg), "%u", ctx);
	sa.sa_handler = on_compile_signal;
	sigemptyset(&sa.sa_mask);
	compile_interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char *args[] = { (char *)lumenc, (char *)path, "-o", (char *)tmp,
				 "--quiet", ctx ? "--ctx" : NULL, ctx_arg, NULL };

		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		execv(lumenc, args);
		fprintf(stderr, "lumen: cannot run %s: %s\n", lumenc, strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		cli_error("cannot start %s: %s", lumenc, strerror(errno));
		goto out;
	}
	for (;;) {
		int w = waitpid(pid, &status, WNOHANG);
		struct timespec tick = { 0, 100000000 };

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if (compile_interrupted)
			kill(pid, SIGTERM);
		if (tty) {
			/* lumenc writes <tmp>.tmp.<its pid>, then renames */
			struct stat st;
			uint64_t written = 0;
			char sz[32];

			char suffix[32];

			snprintf(suffix, sizeof(suffix), ".tmp.%d", (int)pid);
			if (strlen(tmp) + strlen(suffix) < sizeof(out_tmp)) {
				strcpy(out_tmp, tmp);
				strcat(out_tmp, suffix);
			}
			if (!stat(out_tmp, &st))
				written = (uint64_t)st.st_size;
			cli_format_size(written, sz, sizeof(sz));
			fprintf(stderr, "\r\033[Klumen: compiling %s: %s written, %.1f s",
				base, sz, (double)(lumen_now_ns() - t0) / 1e9);
		}
		nanosleep(&tick, NULL);
	}
	if (tty)
		fputs("\r\033[K", stderr);
	if (WIFEXITED(status))
		status = WEXITSTATUS(status);
	else if (status >= 0)
		status = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (status)
		remove_own_temps(dir, key);
	if (compile_interrupted) {
		fprintf(stderr, "lumen: compile interrupted; nothing was kept\n");
		exit(128 + compile_interrupted);
	}
	return status;
}

int cli_resolve_model(const char *path, uint32_t ctx, char *out, size_t len)
{
	char magic[4], lumenc[PATH_MAX], dir[PATH_MAX], key[65], same[65];
	char tmp[PATH_MAX + 64], options[64];
	struct cache_info ci = { 0 };
	bool tty = isatty(STDERR_FILENO), reused = false;
	struct stat st;
	uint64_t t0;
	int status;

	cli_compile_ms = 0;
	if (file_magic(path, magic, &st))
		return -1;
	if (memcmp(magic, "GGUF", 4)) {
		snprintf(out, len, "%s", path);	/* the loader says what is wrong */
		return 0;
	}
	if (cli_find_lumenc(lumenc, sizeof(lumenc)) ||
	    cli_cache_dir(dir, sizeof(dir), true))
		return -1;
	snprintf(options, sizeof(options), "ctx=%u", ctx);
	if (identity_key(path, &st, lumenc, options, key))
		return -1;
	if (join(out, len, dir, key, ".lnpu")) {
		cli_error("%s: the cache path is too long", dir);
		return -1;
	}
	if (!access(out, R_OK))
		return 0;

	remove_stale_temps(dir);
	t0 = lumen_now_ns();
	fprintf(stderr, "lumen: compiling %s (first use; cached in %s)\n", path, dir);
	if (!realpath(path, ci.source) || hash_content(path, ci.sha256, tty)) {
		cli_error("%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	ci.size = (uint64_t)st.st_size;
	ci.mtime_ns = ns_of(st.st_mtim);
	snprintf(ci.options, sizeof(ci.options), "%s", options);
	{
		char suffix[32];

		snprintf(suffix, sizeof(suffix), ".tmp.%d.lnpu", (int)getpid());
		join(tmp, sizeof(tmp), dir, key, suffix);
	}
	{
		struct stat cs;

		if (stat(lumenc, &cs)) {
			cli_error("%s: %s", lumenc, strerror(errno));
			return -1;
		}
		snprintf(ci.compiler, sizeof(ci.compiler), "%s %llu %llu", lumenc,
			 (unsigned long long)cs.st_size,
			 (unsigned long long)ns_of(cs.st_mtim));
	}
	if (find_same_content(dir, &ci, same, sizeof(same))) {
		/* the same bytes compiled by this lumenc: share that file */
		char src[PATH_MAX];

		join(src, sizeof(src), dir, same, ".lnpu");
		if (link(src, tmp) == 0) {
			fprintf(stderr, "lumen: the same content was compiled before: reused\n");
			reused = true;
			goto store;
		}
	}
	status = compile(lumenc, path, dir, key, ctx, tmp, tty);
	if (status) {
		unlink(tmp);
		cli_error("%s: lumenc failed (exit status %d)", path, status);
		return -1;
	}
store:
	ci.compile_ms = (double)(lumen_now_ns() - t0) / 1e6;
	ci.compiled_at = (uint64_t)time(NULL);
	if (write_info(dir, key, &ci) || rename(tmp, out)) {
		int e = errno;

		unlink(tmp);
		cli_error("cannot store %s: %s", out, strerror(e));
		return -1;
	}
	cli_compile_ms = ci.compile_ms;
	if (!reused)
		fprintf(stderr, "lumen: compiled in %.1f s\n", ci.compile_ms / 1e3);
	return 0;
}

/* ---- lumen models, lumen rm ---- */

struct entry {
	char key[65];
	struct cache_info ci;
	bool has_info;
	uint64_t lnpu_size;
	time_t lnpu_mtime;
};

/* every <key>.lnpu of the cache, with its .info when there is one */
static int list_entries(const char *dir, struct entry **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char p[PATH_MAX];
		struct stat st;
		struct entry *en;

		if (l <= 5 || strcmp(e->d_name + l - 5, ".lnpu") ||
		    strstr(e->d_name, ".tmp."))
			continue;
		if (*n == cap) {
			struct entry *ne = realloc(*out, (cap = cap ? 2 * cap : 16) *
						   sizeof(**out));

			if (!ne) {
				closedir(d);
				return -1;
			}
			*out = ne;
		}
		en = &(*out)[(*n)++];
		memset(en, 0, sizeof(*en));
		snprintf(en->key, sizeof(en->key), "%.*s", (int)(l - 5), e->d_name);
		join(p, sizeof(p), dir, e->d_name, "");
		if (!stat(p, &st)) {
			en->lnpu_size = (uint64_t)st.st_size;
			en->lnpu_mtime = st.st_mtime;
		}
		join(p, sizeof(p), dir, en->key, ".info");
		en->has_info = !read_info(p, &en->ci);
	}
	closedir(d);
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int cmd_models(int argc, char **argv)
{
	char dir[PATH_MAX];
	struct entry *e;
	size_t n;

	if (argc > 1) {
		bool help = !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help");

		fprintf(help ? stdout : stderr,
			"usage: lumen models\nlists the compiled models of the cache ($LUMEN_CACHE/models)\n");
		return help ? CLI_OK : CLI_USAGE;
	}
	if (cli_cache_dir(dir, sizeof(dir), false))
		return CLI_FAIL;
	if (list_entries(dir, &e, &n)) {
		cli_error("%s: %s", dir, strerror(errno));
		return CLI_FAIL;
	}
	printf("%-32s %-12s %10s %-8s %-16s %s\n", "NAME", "ID", "SIZE", "OPTIONS",
	       "COMPILED", "SOURCE");
	for (size_t i = 0; i < n; i++) {
		char sz[32], when[32];
		time_t t = e[i].has_info ? (time_t)e[i].ci.compiled_at : e[i].lnpu_mtime;
		struct tm tm;
		struct stat st;
		const char *state = "";

		cli_format_size(e[i].lnpu_size, sz, sizeof(sz));
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		if (e[i].has_info && stat(e[i].ci.source, &st))
			state = " (gone)";
		else if (e[i].has_info && ((uint64_t)st.st_size != e[i].ci.size ||
					   ns_of(st.st_mtim) != e[i].ci.mtime_ns))
			state = " (changed since)";
		printf("%-32s %-12.12s %10s %-8s %-16s %s%s\n",
		       e[i].has_info ? base_name(e[i].ci.source) : "?", e[i].key,
		       sz, e[i].has_info ? e[i].ci.options : "?", when,
		       e[i].has_info ? e[i].ci.source : "(compiled by an older lumen)",
		       state);
	}
	free(e);
	return CLI_OK;
}

/* NAME: a source's file name or path, or an ID (a key prefix of 6+) */
static bool matches(const struct entry *e, const char *name)
{
	size_t l = strlen(name);

	if (l >= 6 && l <= 64 && !strncmp(e->key, name, l))
		return true;
	if (!e->has_info)
		return false;
	return !strcmp(name, e->ci.source) || !strcmp(name, base_name(e->ci.source));
}

int cmd_rm(int argc, char **argv)
{
	char dir[PATH_MAX];
	struct entry *e;
	size_t n;
	int ret = CLI_OK;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: lumen rm NAME|ID... | --all\n"
			"removes compiled models from the cache: NAME is the .gguf's file name or\n"
			"path, ID the start (6 or more characters) of the ID `lumen models` shows\n");
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (cli_cache_dir(dir, sizeof(dir), false))
		return CLI_FAIL;
	if (list_entries(dir, &e, &n)) {
		cli_error("%s: %s", dir, strerror(errno));
		return CLI_FAIL;
	}
	for (int a = 1; a < argc; a++) {
		bool all = !strcmp(argv[a], "--all");
		size_t removed = 0;

		for (size_t i = 0; i < n; i++) {
			char p[PATH_MAX];

			if (!all && !matches(&e[i], argv[a]))
				continue;
			join(p, sizeof(p), dir, e[i].key, ".lnpu");
			if (unlink(p) && errno != ENOENT) {
				cli_error("cannot remove %s: %s", p, strerror(errno));
				ret = CLI_FAIL;
				continue;
			}
			join(p, sizeof(p), dir, e[i].key, ".info");
			unlink(p);
			printf("deleted '%s' (%.12s)\n", e[i].has_info ?
			       base_name(e[i].ci.source) : "?", e[i].key);
			removed++;
		}
		if (!removed && !all) {
			cli_error("rm: '%s' is not a cached model (lumen models lists them)",
				  argv[a]);
			ret = CLI_FAIL;
		}
	}
	free(e);
	return ret;
}
