// SPDX-License-Identifier: MIT
#include "lumen_test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static struct lumen_test_case *head, **tail = &head;
unsigned long lumen_test_checks;
static int case_failed;

void lumen_test_register(struct lumen_test_case *tc)
{
	/* constructors run in link order; keep it */
	*tail = tc;
	tail = &tc->next;
}

void lumen_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: check failed: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	case_failed = 1;
}

/* exit codes of the child */
enum { CHILD_PASS = 0, CHILD_FAIL = 1, CHILD_SKIP = 77, CHILD_EMPTY = 78 };

void lumen_test_skip(const char *why)
{
	printf("# skip: %s\n", why);
	fflush(stdout);
	exit(CHILD_SKIP);
}

static int run_child(struct lumen_test_case *tc)
{
	fflush(stdout);
	pid_t pid = fork();

	if (pid == 0) {
		tc->fn();
		fflush(stdout);
		if (case_failed)
			_exit(CHILD_FAIL);
		/* a case that checked nothing proves nothing */
		_exit(lumen_test_checks ? CHILD_PASS : CHILD_EMPTY);
	}
	if (pid < 0)
		return -1;
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFSIGNALED(status)) {
		printf("# killed by signal %d\n", WTERMSIG(status));
		return CHILD_FAIL;
	}
	return WEXITSTATUS(status);
}

int lumen_test_main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int n = 0, passed = 0, failed = 0, skipped = 0;
	struct lumen_test_case *tc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (tc = head; tc; tc = tc->next)
		if (!filter || strstr(tc->name, filter))
			n++;
	printf("TAP version 13\n1..%d\n", n);
	n = 0;
	for (tc = head; tc; tc = tc->next) {
		if (filter && !strstr(tc->name, filter))
			continue;
		n++;
		int rc = run_child(tc);

		if (rc == CHILD_PASS) {
			printf("ok %d - %s\n", n, tc->name);
			passed++;
		} else if (rc == CHILD_SKIP) {
			printf("ok %d - %s # SKIP\n", n, tc->name);
			skipped++;
		} else {
			if (rc == CHILD_EMPTY)
				printf("# %s made no checks\n", tc->name);
			printf("not ok %d - %s\n", n, tc->name);
			failed++;
		}
	}
	printf("%d passed, %d failed", passed, failed);
	if (skipped)
		printf(", %d skipped", skipped);
	printf("\n");
	return failed || skipped ? 1 : 0;
}
