// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * lumen_fuzz: a coverage-guided fuzzer of the Lumen accel driver, run
 * inside a guest of the debug kernel (tests/fuzz-driver/run-fuzz-driver).
 *
 * Inputs (fuzz_calls.h) run in batches of up to BATCH in a forked child
 * with KCOV enabled, each input closing all it opened; the PCs they
 * reach in the lumen module's text, and the edges between consecutive
 * ones, go into sets shared with the parent, and an input that adds to
 * them joins the corpus later inputs are mutated from. The parent reads /dev/kmsg after every batch: a kernel report
 * stops the run and prints the batch's inputs up to the last one run.
 *
 *   lumen_fuzz [--seed N] [--time S] [--inputs N] [--sections FILE]
 *              [--corpus DIR] [--dump-corpus] [--no-feedback] [--log-batches]
 *   lumen_fuzz --replay FILE	run the inputs in FILE (one per line, at most
 *				16, in one process, in order), traced
 *   lumen_fuzz --seed N --print-input K   input K of a --no-feedback run
 *
 * With --no-feedback every input is a fresh one drawn from (seed, index):
 * the same seed makes the same calls, and --print-input gives any one of
 * them back. With feedback the calls also depend on the coverage seen.
 * Output: "# " progress lines, then FUZZ-STAT key=value lines, FUZZ-PC
 * section+offset lines, FUZZ-CORPUS lines with --dump-corpus, and
 * FUZZ-REPORT / FUZZ-REPRO lines when the kernel reported something.
 * Exit status: 0, 1 on usage or setup errors, 3 on a kernel report.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_calls.h"
#include "fuzz_kcov.h"
#include "fuzz_rand.h"

#define CORPUS_CAP		2048
#define CHILD_WATCHDOG_S	30
#define PROGRESS_S		30

#define BATCH			16

struct shared {
	struct fz_stats st;
	uint32_t batch_n;		/* inputs in batch[] */
	uint32_t started;		/* inputs the child began */
	uint64_t new_pcs[BATCH];
	struct fz_input batch[BATCH];
	struct fz_pcset pcs;
	struct fz_pcset edges;		/* the feedback: PCs alone plateau early */
};

static struct fz_input *corpus;
static unsigned int corpus_n;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void input_print(FILE *f, const char *tag, const struct fz_input *in)
{
	uint32_t i;

	fprintf(f, "%s", tag);
	for (i = 0; i < in->n; i++) {
		const struct fz_call *c = &in->call[i];

		fprintf(f, "%02x%02x%016llx%016llx%016llx", c->kind & 0xff,
			c->odd & 0xff, (unsigned long long)c->a,
			(unsigned long long)c->b, (unsigned long long)c->c);
	}
	fputc('\n', f);
}

static int hexval(const char *s, int n, uint64_t *v)
{
	char buf[17];
	char *end;

	memcpy(buf, s, n);
	buf[n] = 0;
	*v = strtoull(buf, &end, 16);
	return *end ? -1 : 0;
}

/* One input from its text (input_print()); return 0 or -1. */
static int input_parse(const char *line, struct fz_input *in)
{
	size_t len = strcspn(line, "\r\n"), at;
	uint64_t k, o;

	memset(in, 0, sizeof(*in));
	if (len % 52 || !len)
		return -1;
	for (at = 0; at < len && in->n < FZ_MAX_CALLS; at += 52) {
		struct fz_call *c = &in->call[in->n++];

		if (hexval(line + at, 2, &k) || hexval(line + at + 2, 2, &o) ||
		    hexval(line + at + 4, 16, &c->a) ||
		    hexval(line + at + 20, 16, &c->b) ||
		    hexval(line + at + 36, 16, &c->c))
			return -1;
		c->kind = (uint32_t)k % FZ_KIND_COUNT;
		c->odd = (uint32_t)o;
	}
	return 0;
}

static void input_fresh(struct fz_rng *r, struct fz_input *in)
{
	uint32_t i;

	memset(in, 0, sizeof(*in));
	in->n = 4 + fz_below(r, FZ_MAX_CALLS - 4);
	for (i = 0; i < in->n; i++)
		fz_call_random(r, &in->call[i]);
}

static void input_mutate(struct fz_rng *r, struct fz_input *in)
{
	unsigned int rounds = 1 + fz_below(r, 4), i, j;
	const struct fz_input *other;
	struct fz_call t;

	while (rounds--) {
		switch (fz_below(r, 7)) {
		case 0:
		case 1:
			fz_call_mutate(r, &in->call[fz_below(r, in->n)]);
			break;
		case 2:
			if (in->n == FZ_MAX_CALLS)
				break;
			i = fz_below(r, in->n + 1);
			memmove(&in->call[i + 1], &in->call[i],
				(in->n - i) * sizeof(in->call[0]));
			fz_call_random(r, &in->call[i]);
			in->n++;
			break;
		case 3:
			if (in->n < 2)
				break;
			i = fz_below(r, in->n);
			memmove(&in->call[i], &in->call[i + 1],
				(in->n - i - 1) * sizeof(in->call[0]));
			in->n--;
			break;
		case 4:
			/* Splice: our head, another input's tail. */
			other = &corpus[fz_below(r, corpus_n)];
			i = fz_below(r, in->n);
			j = fz_below(r, other->n);
			while (i < FZ_MAX_CALLS && j < other->n)
				in->call[i++] = other->call[j++];
			if (i > in->n)
				in->n = i;
			break;
		case 5:
			if (in->n == FZ_MAX_CALLS)
				break;
			i = fz_below(r, in->n);
			memmove(&in->call[i + 1], &in->call[i],
				(in->n - i) * sizeof(in->call[0]));
			in->n++;
			break;
		default:
			i = fz_below(r, in->n);
			j = fz_below(r, in->n);
			t = in->call[i];
			in->call[i] = in->call[j];
			in->call[j] = t;
			break;
		}
	}
}

static void corpus_add(struct fz_rng *r, const struct fz_input *in)
{
	if (corpus_n < CORPUS_CAP)
		corpus[corpus_n++] = *in;
	else
		corpus[fz_below(r, CORPUS_CAP)] = *in;
}

static unsigned int corpus_load(const char *dir, struct fz_input *out,
				unsigned int cap)
{
	char path[512], line[FZ_MAX_CALLS * 52 + 8];
	unsigned int n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);
	FILE *f;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < cap) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && !input_parse(line, &out[n]))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Kernel messages that are reports of a bug (scripts/check-dmesg's list). */
static const char *const report_patterns[] = {
	"BUG: ", "WARNING: ", "kernel BUG at", "Oops", "general protection fault",
	"Call Trace", "Kernel panic", "UBSAN:", "ODEBUG:", "list_add corruption",
	"list_del corruption", "possible circular locking",
	"possible recursive locking", "inconsistent lock state",
	"suspicious RCU usage", "DEBUG_LOCKS_WARN_ON", "unreferenced object",
};

/* A report among the kernel messages since the last call, or NULL. */
static const char *kmsg_report(int fd)
{
	static char rec[8192];
	ssize_t n;
	size_t i;
	char *msg;

	if (fd < 0)
		return NULL;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			return NULL;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (strstr(msg, "ODEBUG: selftest passed"))
			continue;
		for (i = 0; i < sizeof(report_patterns) / sizeof(report_patterns[0]); i++)
			if (strstr(msg, report_patterns[i]))
				return msg;
	}
}

/*
 * The driver's live objects (debugfs "objects": files, vms, bos,
 * mappings, programs, jobs); return 0 or -1.
 */
#define OBJECT_KINDS	6

static int objects_read(long v[OBJECT_KINDS])
{
	static char path[300];
	char name[32];
	struct dirent *e;
	long x;
	int n = 0;
	DIR *d;
	FILE *f;

	if (!path[0]) {
		d = opendir("/sys/kernel/debug/accel");
		if (!d)
			return -1;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				snprintf(path, sizeof(path),
					 "/sys/kernel/debug/accel/%.64s/objects",
					 e->d_name);
				break;
			}
		closedir(d);
	}
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < OBJECT_KINDS && fscanf(f, "%31s %ld", name, &x) == 2)
		v[n++] = x;
	fclose(f);
	return n == OBJECT_KINDS ? 0 : -1;
}

/*
 * Every input closes what it opened: once its jobs and io_uring teardown
 * are done, the objects are back where they were. Objects that stay for
 * LEAK_WAIT_S are a leak (reported; later batches compare to the new
 * counts). Return: true on a leak.
 */
#define LEAK_WAIT_S	10

static bool objects_leaked(long base[OBJECT_KINDS])
{
	static const char *const names[OBJECT_KINDS] = {
		"files", "vms", "bos", "mappings", "programs", "jobs",
	};
	long now[OBJECT_KINDS];
	double until = now_s() + LEAK_WAIT_S;
	int k;

	for (;;) {
		if (objects_read(now))
			return false;
		if (!memcmp(now, base, sizeof(now)))
			return false;
		if (now_s() > until)
			break;
		usleep(50000);
	}
	printf("FUZZ-LEAK objects after %d s:", LEAK_WAIT_S);
	for (k = 0; k < OBJECT_KINDS; k++)
		printf(" %s %ld (was %ld)", names[k], now[k], base[k]);
	printf("\n");
	memcpy(base, now, sizeof(now));
	return true;
}

static void print_stats(const struct shared *sh, double secs,
			unsigned int corpus_size)
{
	const struct fz_stats *st = &sh->st;
	unsigned int k;

	printf("FUZZ-STAT seconds=%.0f\n", secs);
	printf("FUZZ-STAT inputs=%llu\n", (unsigned long long)st->inputs);
	printf("FUZZ-STAT records=%llu\n", (unsigned long long)st->records);
	printf("FUZZ-STAT calls=%llu\n", (unsigned long long)st->syscalls);
	printf("FUZZ-STAT programs_generated=%llu\n", (unsigned long long)st->progs_generated);
	printf("FUZZ-STAT programs_accepted=%llu\n", (unsigned long long)st->progs_accepted);
	printf("FUZZ-STAT programs_mutated=%llu\n", (unsigned long long)st->progs_mutated);
	printf("FUZZ-STAT programs_mutated_accepted=%llu\n", (unsigned long long)st->progs_mutated_accepted);
	printf("FUZZ-STAT verdict_mismatch=%llu\n", (unsigned long long)st->verdict_mismatch);
	if (st->mismatch[0])
		printf("FUZZ-STAT first_mismatch=%s\n", st->mismatch);
	printf("FUZZ-STAT submits=%llu\n", (unsigned long long)st->submits);
	printf("FUZZ-STAT submits_ok=%llu\n", (unsigned long long)st->submits_ok);
	printf("FUZZ-STAT uring_cmds=%llu\n", (unsigned long long)st->uring_cmds);
	printf("FUZZ-STAT uring_async=%llu\n", (unsigned long long)st->uring_async);
	printf("FUZZ-STAT cqes=%llu\n", (unsigned long long)st->cqes);
	printf("FUZZ-STAT cqes_ok=%llu\n", (unsigned long long)st->cqes_ok);
	printf("FUZZ-STAT jobs_done=%llu\n", (unsigned long long)st->job_status[1]);
	printf("FUZZ-STAT jobs_fault=%llu\n", (unsigned long long)st->job_status[2]);
	printf("FUZZ-STAT jobs_timeout=%llu\n", (unsigned long long)st->job_status[3]);
	printf("FUZZ-STAT hangs=%llu\n", (unsigned long long)st->hangs);
	printf("FUZZ-STAT child_crashes=%llu\n", (unsigned long long)st->child_crashes);
	printf("FUZZ-STAT leaks=%llu\n", (unsigned long long)st->leaks);
	printf("FUZZ-STAT pcs=%llu\n", (unsigned long long)sh->pcs.count);
	printf("FUZZ-STAT edges=%llu\n", (unsigned long long)sh->edges.count);
	printf("FUZZ-STAT corpus=%u\n", corpus_size);
	for (k = 0; k < FZ_KIND_COUNT; k++)
		printf("FUZZ-KIND %s %llu %llu %llu\n", fz_kind_name(k),
		       (unsigned long long)st->kind[k],
		       (unsigned long long)st->kind_ok[k],
		       (unsigned long long)(st->kind_ns[k] / 1000000));
}

static void print_pcs(const struct shared *sh, const struct fz_text *t)
{
	uint32_t i;
	int s;

	for (i = 0; i < FZ_PCSET_CAP; i++) {
		if (!sh->pcs.slot[i])
			continue;
		s = fz_text_find(t, sh->pcs.slot[i]);
		if (s >= 0)
			printf("FUZZ-PC %s 0x%llx\n", t->name[s],
			       (unsigned long long)(sh->pcs.slot[i] - t->start[s]));
	}
}

struct options {
	uint64_t seed;
	double time_s;
	uint64_t inputs;
	const char *sections;
	const char *corpus_dir;
	const char *replay;
	long print_input;
	int dump_corpus;
	int feedback;
	int log_batches;
};

/*
 * Run the batch in a child; return 0, or -1 when the child did not end
 * well (then batch[started - 1] is the input it was running).
 */
static int run_batch(struct shared *sh, struct fz_kcov *kcov,
		     const struct fz_text *text, FILE *trace)
{
	struct fz_cover cov = { NULL, text, &sh->pcs, &sh->edges };
	uint32_t j;
	int status;
	pid_t pid;

	fflush(stdout);
	sh->started = 0;
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (!pid) {
		if (kcov && !fz_kcov_enable(kcov))
			cov.kcov = kcov;
		for (j = 0; j < sh->batch_n; j++) {
			sh->started = j + 1;
			alarm(CHILD_WATCHDOG_S);
			if (trace)
				fprintf(trace, "# input %u: %u calls\n", j,
					sh->batch[j].n);
			fz_run_input(&sh->batch[j], &sh->st, &cov, trace);
			sh->new_pcs[j] = sh->st.new_pcs;
		}
		if (trace)
			fflush(trace);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sh->st.inputs += sh->started;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
		sh->st.hangs++;
		printf("# an input hung for %d s (watchdog)\n", CHILD_WATCHDOG_S);
	} else {
		sh->st.child_crashes++;
		printf("# the child running an input ended with status 0x%x\n",
		       status);
	}
	if (sh->started)
		input_print(stdout, "FUZZ-ODD ", &sh->batch[sh->started - 1]);
	return -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: lumen_fuzz [--seed N] [--time S] [--inputs N] [--sections FILE]\n"
		"                  [--corpus DIR] [--dump-corpus] [--no-feedback]\n"
		"       lumen_fuzz --replay FILE\n"
		"       lumen_fuzz --seed N --print-input K\n");
	exit(1);
}

static void parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "time", required_argument, NULL, 't' },
		{ "inputs", required_argument, NULL, 'n' },
		{ "sections", required_argument, NULL, 'S' },
		{ "corpus", required_argument, NULL, 'c' },
		{ "dump-corpus", no_argument, NULL, 'd' },
		{ "no-feedback", no_argument, NULL, 'F' },
		{ "replay", required_argument, NULL, 'r' },
		{ "print-input", required_argument, NULL, 'p' },
		{ "log-batches", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*o = (struct options){ .seed = 1, .feedback = 1, .print_input = -1 };
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 't': o->time_s = strtod(optarg, NULL); break;
		case 'n': o->inputs = strtoull(optarg, NULL, 0); break;
		case 'S': o->sections = optarg; break;
		case 'c': o->corpus_dir = optarg; break;
		case 'd': o->dump_corpus = 1; break;
		case 'F': o->feedback = 0; break;
		case 'r': o->replay = optarg; break;
		case 'p': o->print_input = strtol(optarg, NULL, 0); break;
		case 'L': o->log_batches = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
}

static int replay(const char *path, struct shared *sh, struct fz_kcov *kcov,
		  const struct fz_text *text)
{
	static char line[FZ_MAX_CALLS * 52 + 64];
	long objects[OBJECT_KINDS];
	FILE *f = fopen(path, "r");
	int watch, ret;
	char *hex;

	if (!f) {
		perror(path);
		return 1;
	}
	/* In one child, in order: as the batch that found them ran. */
	sh->batch_n = 0;
	while (fgets(line, sizeof(line), f) && sh->batch_n < BATCH) {
		hex = strrchr(line, ' ');
		hex = hex ? hex + 1 : line;
		if (!input_parse(hex, &sh->batch[sh->batch_n]))
			sh->batch_n++;
	}
	fclose(f);
	watch = !objects_read(objects);
	ret = run_batch(sh, kcov, text, stdout) ? 2 : 0;
	if (watch && objects_leaked(objects)) {
		printf("FUZZ-LEAK after the replay\n");
		ret = 4;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct options o;
	struct shared *sh;
	struct fz_kcov kcov_store, *kcov = &kcov_store;
	struct fz_text text;
	struct fz_rng rng;
	double start, last_progress;
	const char *report;
	uint64_t index;
	long objects[OBJECT_KINDS];
	int kmsg, ret, watch_objects;

	parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.print_input >= 0) {
		struct fz_input in;

		fz_seed(&rng, o.seed, (uint64_t)o.print_input);
		input_fresh(&rng, &in);
		input_print(stdout, "", &in);
		return 0;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	corpus = calloc(CORPUS_CAP, sizeof(*corpus));
	if (sh == MAP_FAILED || !corpus) {
		perror("memory");
		return 1;
	}
	ret = fz_text_load(&text, "lumen", o.sections);
	if (ret) {
		fprintf(stderr, "lumen_fuzz: the lumen module's text: %s\n", strerror(-ret));
		return 1;
	}
	ret = fz_kcov_open(kcov);
	if (ret) {
		fprintf(stderr, "lumen_fuzz: no KCOV (%s): running without coverage\n",
			strerror(-ret));
		kcov = NULL;
	}
	printf("# lumen_fuzz: seed %llu, %s, module text %u section(s) at 0x%llx..0x%llx\n",
	       (unsigned long long)o.seed, o.feedback ? "KCOV feedback" : "no feedback",
	       text.count, (unsigned long long)text.lo, (unsigned long long)text.hi);
	if (o.replay)
		return replay(o.replay, sh, kcov, &text);

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	fz_seed(&rng, o.seed, 0x6d61696e);	/* "main" */
	watch_objects = !objects_read(objects);
	start = last_progress = now_s();

	/* The kept corpus first: what it reaches is the starting point. */
	if (o.corpus_dir) {
		struct fz_input *loaded = calloc(CORPUS_CAP, sizeof(*loaded));
		unsigned int n = loaded ? corpus_load(o.corpus_dir, loaded, CORPUS_CAP) : 0, i;

		for (i = 0; i < n; i += sh->batch_n) {
			uint32_t j;

			sh->batch_n = n - i < BATCH ? n - i : BATCH;
			memcpy(sh->batch, &loaded[i], sh->batch_n * sizeof(*loaded));
			run_batch(sh, kcov, &text, NULL);
			for (j = 0; j < sh->started; j++)
				if (sh->new_pcs[j] && o.feedback)
					corpus_add(&rng, &sh->batch[j]);
		}
		printf("# corpus: %u input(s) loaded, %u kept, %llu PCs\n", n,
		       corpus_n, (unsigned long long)sh->pcs.count);
		free(loaded);
	}

	for (index = 0;;) {
		double t = now_s();
		uint32_t j;

		if (o.inputs && index >= o.inputs)
			break;
		if (o.time_s > 0 && t - start >= o.time_s)
			break;
		sh->batch_n = BATCH;
		if (o.inputs && o.inputs - index < BATCH)
			sh->batch_n = o.inputs - index;
		for (j = 0; j < sh->batch_n; j++) {
			struct fz_input *in = &sh->batch[j];

			if (!o.feedback) {
				struct fz_rng r;

				fz_seed(&r, o.seed, index + j);
				input_fresh(&r, in);
			} else if (!corpus_n || fz_pct(&rng, 20)) {
				input_fresh(&rng, in);
			} else {
				*in = corpus[fz_below(&rng, corpus_n)];
				input_mutate(&rng, in);
			}
		}
		/*
		 * A report that kills the guest leaves no FUZZ-REPRO: with
		 * --log-batches each batch is printed before it runs.
		 */
		if (o.log_batches) {
			printf("FUZZ-BATCH %llu\n", (unsigned long long)index);
			for (j = 0; j < sh->batch_n; j++)
				input_print(stdout, "FUZZ-RUN ", &sh->batch[j]);
		}
		run_batch(sh, kcov, &text, NULL);
		for (j = 0; j < sh->started; j++)
			if (sh->new_pcs[j] && o.feedback)
				corpus_add(&rng, &sh->batch[j]);
		if (watch_objects && objects_leaked(objects)) {
			sh->st.leaks++;
			printf("FUZZ-LEAK after inputs %llu..%llu (seed %llu)\n",
			       (unsigned long long)index,
			       (unsigned long long)(index + sh->started - 1),
			       (unsigned long long)o.seed);
			for (j = 0; j < sh->started; j++)
				input_print(stdout, "FUZZ-LEAKED ", &sh->batch[j]);
		}
		report = kmsg_report(kmsg);
		if (report) {
			printf("FUZZ-REPORT inputs %llu..%llu (seed %llu): %s\n",
			       (unsigned long long)index,
			       (unsigned long long)(index + sh->started - 1),
			       (unsigned long long)o.seed, report);
			for (j = 0; j < sh->started; j++)
				input_print(stdout, "FUZZ-REPRO ", &sh->batch[j]);
			print_stats(sh, now_s() - start, corpus_n);
			print_pcs(sh, &text);
			return 3;
		}
		index += sh->batch_n;
		if (t - last_progress >= PROGRESS_S) {
			last_progress = t;
			printf("# %.0f s: %llu inputs, %llu calls, %llu/%llu programs accepted, %llu PCs, %llu edges, corpus %u\n",
			       t - start, (unsigned long long)sh->st.inputs,
			       (unsigned long long)sh->st.syscalls,
			       (unsigned long long)sh->st.progs_accepted,
			       (unsigned long long)sh->st.progs_generated,
			       (unsigned long long)sh->pcs.count,
			       (unsigned long long)sh->edges.count, corpus_n);
		}
	}
	print_stats(sh, now_s() - start, corpus_n);
	print_pcs(sh, &text);
	if (o.dump_corpus) {
		unsigned int i;

		for (i = 0; i < corpus_n; i++)
			input_print(stdout, "FUZZ-CORPUS ", &corpus[i]);
	}
	return 0;
}
