// SPDX-License-Identifier: MIT
/*
 * The NPU backend through lumen.ko, in the QEMU guest
 * (runtime/tests/npu-guest.sh runs it): what the device reports, one job
 * and one system call per generated token on the io_uring path, checked
 * against the driver's own job counter (fdinfo) and against the system
 * calls the process really makes (ptrace), the ioctl fallback producing
 * the same tokens, and device faults reported and survived on both paths.
 *
 * Needs LUMEN_MODEL_DIR (stories260K-q8_0.lnpu) and a Lumen NPU.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <drm/lumen_isa.h>
#include <lumen/lumen.h>
#include "lumen_test.h"

#define N_TOKENS 64
#define PROMPT "Once upon a time, there was a little girl named Lily."

struct npu {
	struct lumen_device *dev;
	struct lumen_model *m;
	struct lumen_session *s;
};

static int npu_open(struct npu *n, const char *submit)
{
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_NPU };
	const char *dir = getenv("LUMEN_MODEL_DIR");
	char path[512];

	memset(n, 0, sizeof(*n));
	if (submit)
		setenv("LUMEN_NPU_SUBMIT", submit, 1);
	else
		unsetenv("LUMEN_NPU_SUBMIT");
	snprintf(path, sizeof(path), "%s/stories260K-q8_0.lnpu", dir ? dir : ".");
	if (lumen_device_open(&n->dev, &o) ||
	    lumen_model_load(n->dev, path, NULL, &n->m) ||
	    lumen_session_create(n->m, 0, &n->s)) {
		fprintf(stderr, "# %s\n", lumen_last_error());
		return -1;
	}
	return 0;
}

static void npu_close(struct npu *n)
{
	lumen_session_free(n->s);
	lumen_model_free(n->m);
	lumen_device_close(n->dev);
}

/* the driver's count of this process's finished jobs, over its Lumen files */
static long long driver_jobs_done(void)
{
	DIR *d = opendir("/proc/self/fdinfo");
	long long total = 0;
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], line[256];
		long long jobs = -1;
		bool lumen = false;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (!strcmp(line, "drm-driver:\tlumen\n"))
				lumen = true;
			sscanf(line, "lumen-jobs-done: %lld", &jobs);
		}
		fclose(f);
		if (lumen && jobs >= 0)
			total += jobs;
	}
	closedir(d);
	return total;
}

struct recorder {
	int32_t ids[N_TOKENS];
	size_t n;
};

static int record(void *data, int32_t id, const char *piece, size_t len)
{
	struct recorder *r = data;

	if (r->n < N_TOKENS)
		r->ids[r->n++] = id;
	return 0;
}

static int generate(struct npu *n, struct recorder *r,
		    struct lumen_generate_stats *st)
{
	struct lumen_generate_params p = lumen_generate_default_params();

	p.sampling.temperature = 0;
	p.n_predict = N_TOKENS;
	p.stop_at_eos = false;
	p.on_token = record;
	p.data = r;
	r->n = 0;
	return lumen_generate(n->s, PROMPT, strlen(PROMPT), &p, st);
}

TEST(npu_device_and_model)
{
	struct lumen_device_info di;
	struct lumen_model_info mi;
	struct npu n;

	REQUIRE(!npu_open(&n, NULL));
	lumen_device_get_info(n.dev, &di);
	CHECK(!strcmp(di.backend, "npu"));
	CHECK_MSG(strstr(di.name, "/dev/accel/accel") && strstr(di.name, "io_uring"),
		  "device name '%s'", di.name);
	CHECK_EQ(di.isa_version, LUMEN_ISA_VERSION);
	CHECK(di.cores >= 1);
	CHECK(di.max_regions >= 5);
	CHECK(di.dtypes & 1u << LUMEN_DTYPE_Q8_0);
	lumen_model_get_info(n.m, &mi);
	/* the weights went into one buffer, copied exactly once */
	CHECK(mi.weight_bytes > 0);
	CHECK_EQ(mi.weight_bytes_copied, mi.weight_bytes);
	npu_close(&n);
}

/* jobs per token: the runtime's counts against the driver's */
static void jobs_per_token(const char *submit)
{
	struct lumen_counters c0, c1;
	struct lumen_generate_stats st;
	struct lumen_model_info mi;
	struct recorder r;
	long long jobs0, jobs1;
	uint64_t chunks;
	struct npu n;

	REQUIRE(!npu_open(&n, submit));
	lumen_model_get_info(n.m, &mi);
	lumen_device_get_counters(n.dev, &c0);
	jobs0 = driver_jobs_done();
	REQUIRE_MSG(!generate(&n, &r, &st), "%s", lumen_last_error());
	jobs1 = driver_jobs_done();
	lumen_device_get_counters(n.dev, &c1);
	chunks = (st.n_prompt + mi.prefill_chunk - 1) / mi.prefill_chunk;
	CHECK_EQ(st.n_generated, N_TOKENS);
	/* greedy: each job took its token from the one before on the device */
	CHECK(st.chained);
	CHECK_EQ(st.n_ran_ahead, 0);
	CHECK_EQ(st.submissions, chunks + N_TOKENS - 1);
	CHECK_EQ(c1.submissions - c0.submissions, st.submissions);
	CHECK_MSG(jobs0 >= 0 && jobs1 - jobs0 == (long long)st.submissions,
		  "the driver finished %lld jobs, the runtime submitted %llu",
		  jobs1 - jobs0, (unsigned long long)st.submissions);
	CHECK_MSG(c1.busy_ns > c0.busy_ns, "busy time %llu -> %llu ns",
		  (unsigned long long)c0.busy_ns, (unsigned long long)c1.busy_ns);
	fprintf(stderr, "# %s: %u prompt tokens in %llu chunks, %u generated, %llu jobs, NPU busy %.3f ms\n",
		submit ? submit : "io_uring", st.n_prompt,
		(unsigned long long)chunks, st.n_generated,
		(unsigned long long)st.submissions,
		(double)(c1.busy_ns - c0.busy_ns) / 1e6);
	npu_close(&n);
}

/*
 * The device's energy counter and the runtime's modeled energy are the
 * same silicon model (glasses) over the same jobs: they agree to the
 * rounding (the device counts whole nanojoules, reported in microjoules;
 * the runtime truncates each job to a nanojoule).
 */
TEST(npu_device_energy_is_the_runtime_modeled_energy)
{
	struct lumen_counters c0, c1;
	struct lumen_generate_stats st;
	struct recorder r;
	double device_nj, modeled_nj;
	struct npu n;

	REQUIRE(!npu_open(&n, NULL));
	lumen_device_get_counters(n.dev, &c0);
	REQUIRE_MSG(!generate(&n, &r, &st), "%s", lumen_last_error());
	lumen_device_get_counters(n.dev, &c1);
	device_nj = 1000.0 * (double)(c1.energy_uj - c0.energy_uj);
	modeled_nj = (double)(c1.modeled_energy_nj - c0.modeled_energy_nj);
	REQUIRE(modeled_nj > 100000);
	CHECK_MSG(device_nj >= modeled_nj - 1000 - st.submissions &&
		  device_nj <= modeled_nj + 1000 + st.submissions,
		  "the device counted %.0f nJ, the runtime modeled %.0f nJ over %llu jobs",
		  device_nj, modeled_nj, (unsigned long long)st.submissions);
	fprintf(stderr, "# %llu jobs: device %.0f nJ, runtime %.0f nJ\n",
		(unsigned long long)st.submissions, device_nj, modeled_nj);
	npu_close(&n);
}

TEST(npu_uring_one_job_per_token)
{
	jobs_per_token(NULL);
}

TEST(npu_ioctl_one_job_per_token)
{
	jobs_per_token("ioctl");
}

TEST(npu_ioctl_fallback_gives_the_same_tokens)
{
	struct lumen_device_info di;
	struct recorder a, b;
	struct npu n;

	REQUIRE(!npu_open(&n, NULL));
	REQUIRE_MSG(!generate(&n, &a, NULL), "%s", lumen_last_error());
	npu_close(&n);
	REQUIRE(!npu_open(&n, "ioctl"));
	lumen_device_get_info(n.dev, &di);
	CHECK_MSG(strstr(di.name, "(ioctl)"), "device name '%s'", di.name);
	REQUIRE_MSG(!generate(&n, &b, NULL), "%s", lumen_last_error());
	npu_close(&n);
	CHECK_EQ(a.n, N_TOKENS);
	CHECK_EQ(b.n, a.n);
	for (size_t i = 0; i < a.n && i < b.n; i++)
		CHECK_MSG(a.ids[i] == b.ids[i], "token %zu: %d by ioctl, %d by io_uring",
			  i, b.ids[i], a.ids[i]);
}

/*
 * The traced child: set up, then decode N_TOKENS tokens between two
 * getppid() calls that mark the window the parent counts in.
 */
static void traced_decoder(const char *submit, bool chained)
{
	struct npu n;
	int32_t id;

	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		_exit(10);
	raise(SIGSTOP);
	if (npu_open(&n, submit))
		_exit(11);
	if (lumen_session_prefill(n.s, (const int32_t[]){ 1, 100 }, 2))
		_exit(12);
	id = lumen_session_argmax(n.s);
	/* the chained program and its args buffers are made at first use */
	if (chained && lumen_session_decode_greedy(n.s, id, 1, &id))
		_exit(14);
	syscall(SYS_getppid);
	if (chained) {
		/* job n + 1 queued before the wait for job n */
		if (lumen_session_decode_greedy(n.s, id, N_TOKENS, NULL))
			_exit(13);
	} else {
		for (int i = 0; i < N_TOKENS; i++) {
			if (lumen_session_decode(n.s, id))
				_exit(13);
			id = lumen_session_argmax(n.s);
		}
	}
	syscall(SYS_getppid);
	npu_close(&n);
	_exit(0);
}

struct syscall_count {
	long total, uring_enter, ioctl;
};

/* system calls the child makes between its two getppid() markers */
static int count_syscalls(pid_t pid, struct syscall_count *c)
{
	bool entry = true, inside = false;
	int status, markers = 0, sig = 0;

	memset(c, 0, sizeof(*c));
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return -1;
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)PTRACE_O_TRACESYSGOOD);
	for (;;) {
		struct user_regs_struct regs;

		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig))
			return -1;
		sig = 0;
		if (waitpid(pid, &status, 0) != pid)
			return -1;
		if (WIFEXITED(status))
			return markers == 2 ? WEXITSTATUS(status) : -1;
		if (!WIFSTOPPED(status))
			return -1;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			sig = WSTOPSIG(status);
			continue;
		}
		if (entry) {
			ptrace(PTRACE_GETREGS, pid, NULL, &regs);
			if (regs.orig_rax == SYS_getppid) {
				markers++;
				inside = markers == 1;
			} else if (inside) {
				c->total++;
				c->uring_enter += regs.orig_rax == SYS_io_uring_enter;
				c->ioctl += regs.orig_rax == SYS_ioctl;
			}
		}
		entry = !entry;
	}
}

static void syscalls_per_token(const char *submit, bool chained,
			       long want_uring, long want_ioctl)
{
	struct syscall_count c;
	pid_t pid = fork();
	int ret;

	REQUIRE(pid >= 0);
	if (!pid)
		traced_decoder(submit, chained);
	ret = count_syscalls(pid, &c);
	CHECK_MSG(ret == 0, "the traced decoder failed (%d)", ret);
	fprintf(stderr, "# %s%s: %d tokens: %ld system calls, %ld io_uring_enter, %ld ioctl\n",
		submit ? submit : "io_uring", chained ? ", chained" : "",
		N_TOKENS, c.total, c.uring_enter,
		c.ioctl);
	CHECK_EQ(c.uring_enter, want_uring);
	CHECK_EQ(c.ioctl, want_ioctl);
	CHECK_EQ(c.total, want_uring + want_ioctl);
}

TEST(npu_uring_one_syscall_per_token)
{
	syscalls_per_token(NULL, false, N_TOKENS, 0);
}

/* the fallback: SUBMIT, then JOB_WAIT */
TEST(npu_ioctl_two_syscalls_per_token)
{
	syscalls_per_token("ioctl", false, 0, 2 * N_TOKENS);
}

/*
 * Chained greedy decode keeps one job queued ahead, still one
 * io_uring_enter per token: it issues job n + 1 and waits for job n.
 */
TEST(npu_uring_chained_one_syscall_per_token)
{
	syscalls_per_token(NULL, true, N_TOKENS, 0);
}

TEST(npu_ioctl_chained_two_syscalls_per_token)
{
	syscalls_per_token("ioctl", true, 0, 2 * N_TOKENS);
}

/* chained and plain greedy decode give the same ids on the NPU */
TEST(npu_chained_decode_gives_the_plain_tokens)
{
	int32_t chained[N_TOKENS], id0;
	struct npu n;

	REQUIRE(!npu_open(&n, NULL));
	REQUIRE_EQ(lumen_session_prefill(n.s, (const int32_t[]){ 1, 100 }, 2), 0);
	id0 = lumen_session_argmax(n.s);
	REQUIRE_MSG(!lumen_session_decode_greedy(n.s, id0, N_TOKENS, chained), "%s",
		    lumen_last_error());
	CHECK_EQ(lumen_session_pos(n.s), 2 + N_TOKENS);
	CHECK_EQ(lumen_session_argmax(n.s), chained[N_TOKENS - 1]);
	lumen_session_reset(n.s);
	REQUIRE_EQ(lumen_session_prefill(n.s, (const int32_t[]){ 1, 100 }, 2), 0);
	CHECK_EQ(lumen_session_argmax(n.s), id0);
	for (int i = 0; i < N_TOKENS; i++) {
		int32_t id = i ? chained[i - 1] : id0;

		REQUIRE_EQ(lumen_session_decode(n.s, id), 0);
		CHECK_MSG(lumen_session_argmax(n.s) == chained[i],
			  "token %d: %d chained, %d plain", i, chained[i],
			  lumen_session_argmax(n.s));
	}
	npu_close(&n);
}

/* arm one of the device's test hooks through the driver's debugfs */
static int arm_hook(const char *hook)
{
	DIR *d = opendir("/sys/kernel/debug/accel");
	struct dirent *e;
	int ok = 0;

	while (d && !ok && (e = readdir(d))) {
		char path[300];
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/debug/accel/%s/%s",
			 e->d_name, hook);
		fd = open(path, O_WRONLY);
		if (fd >= 0) {
			ok = write(fd, "1", 1) == 1;
			close(fd);
		}
	}
	if (d)
		closedir(d);
	return ok;
}

static void fault_is_reported(const char *submit)
{
	char want[32];
	struct npu n;
	int32_t id;

	REQUIRE(!npu_open(&n, submit));
	REQUIRE_EQ(lumen_session_prefill(n.s, (const int32_t[]){ 1, 100 }, 2), 0);
	id = lumen_session_argmax(n.s);
	REQUIRE_MSG(arm_hook("fault_next"),
		    "cannot arm /sys/kernel/debug/accel/*/fault_next");
	CHECK_EQ(lumen_session_decode(n.s, id), LUMEN_E_FAULT);
	snprintf(want, sizeof(want), "(code %d)", LUMEN_FAULT_INJECTED);
	CHECK_MSG(strstr(lumen_last_error(), "decode program faulted") &&
		  strstr(lumen_last_error(), want),
		  "error: %s, want the injected fault %s", lumen_last_error(), want);
	fprintf(stderr, "# %s: %s\n", submit ? submit : "io_uring",
		lumen_last_error());
	/* the position did not move; the next job runs normally */
	CHECK_EQ(lumen_session_pos(n.s), 2);
	CHECK_EQ(lumen_session_decode(n.s, id), 0);
	CHECK_EQ(lumen_session_pos(n.s), 3);
	npu_close(&n);
}

TEST(npu_uring_fault_is_reported)
{
	fault_is_reported(NULL);
}

TEST(npu_ioctl_fault_is_reported)
{
	fault_is_reported("ioctl");
}

/*
 * The NPU hangs in the middle of a generation: the driver's timeout resets
 * it, the step fails with a message that says so, and the session goes on.
 */
static void hang_is_recovered(const char *submit)
{
	struct npu n;
	int32_t id;

	REQUIRE(!npu_open(&n, submit));
	REQUIRE_EQ(lumen_session_prefill(n.s, (const int32_t[]){ 1, 100 }, 2), 0);
	id = lumen_session_argmax(n.s);
	REQUIRE_EQ(lumen_session_decode(n.s, id), 0);
	REQUIRE_MSG(arm_hook("hang_next"),
		    "cannot arm /sys/kernel/debug/accel/*/hang_next");
	CHECK_EQ(lumen_session_decode(n.s, id), LUMEN_E_DEVICE);
	CHECK_MSG(strstr(lumen_last_error(), "hung; the NPU was reset"),
		  "error: %s", lumen_last_error());
	fprintf(stderr, "# %s: %s\n", submit ? submit : "io_uring",
		lumen_last_error());
	CHECK_EQ(lumen_session_pos(n.s), 3);
	CHECK_EQ(lumen_session_decode(n.s, id), 0);
	CHECK_EQ(lumen_session_pos(n.s), 4);
	npu_close(&n);
}

TEST(npu_uring_reset_during_generation)
{
	hang_is_recovered(NULL);
}

TEST(npu_ioctl_reset_during_generation)
{
	hang_is_recovered("ioctl");
}

TEST(npu_device_by_path)
{
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_NPU,
					  .path = "/dev/accel/accel0" };
	struct lumen_device *dev = NULL;

	REQUIRE_MSG(!lumen_device_open(&dev, &o), "%s", lumen_last_error());
	lumen_device_close(dev);
	/* a device node of another driver is refused, by name */
	o.path = "/dev/null";
	CHECK_EQ(lumen_device_open(&dev, &o), LUMEN_E_NODEV);
	CHECK(dev == NULL);
	CHECK_MSG(!strcmp(lumen_last_error(), "/dev/null: not a Lumen NPU"),
		  "error: %s", lumen_last_error());
	o.path = "/dev/accel/accel9";
	CHECK_EQ(lumen_device_open(&dev, &o), LUMEN_E_NODEV);
	CHECK_MSG(strstr(lumen_last_error(), "/dev/accel/accel9: No such file"),
		  "error: %s", lumen_last_error());
}
