// SPDX-License-Identifier: MIT
/*
 * lumen_session_set_priority() on the NPU (run by suite serve-npu in the
 * guest): each priority's jobs run, and HIGH reaches the driver, which
 * refuses it without CAP_SYS_NICE. Prints "ok - " / "not ok - " lines.
 *
 *   npu-priority-test MODEL.lnpu high-ok|high-refused
 */
#include <stdio.h>
#include <string.h>

#include <lumen/lumen.h>

static int failed;

static void check(bool ok, const char *what, const char *detail)
{
	printf("%s - %s%s%s\n", ok ? "ok" : "not ok", what, ok ? "" : ": ",
	       ok ? "" : detail);
	failed += !ok;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "low", "normal", "high" };
	struct lumen_device_options o = { .backend = LUMEN_BACKEND_NPU };
	struct lumen_device *dev;
	struct lumen_model *m;
	struct lumen_session *s;
	bool high_ok;
	char what[160];

	if (argc != 3) {
		fprintf(stderr, "usage: %s MODEL.lnpu high-ok|high-refused\n", argv[0]);
		return 2;
	}
	high_ok = !strcmp(argv[2], "high-ok");
	if (lumen_device_open(&dev, &o) || lumen_model_load(dev, argv[1], NULL, &m) ||
	    lumen_session_create(m, 0, &s)) {
		check(false, "open the NPU, load the model, make a session", lumen_last_error());
		return 1;
	}
	for (int p = LUMEN_PRIORITY_LOW; p <= LUMEN_PRIORITY_HIGH; p++) {
		int32_t id = lumen_tokenizer_bos(lumen_model_tokenizer(m));
		int ret;

		lumen_session_reset(s);
		ret = lumen_session_set_priority(s, (enum lumen_priority)p);
		if (!ret)
			ret = lumen_session_prefill(s, &id, 1);
		if (p != LUMEN_PRIORITY_HIGH || high_ok) {
			snprintf(what, sizeof(what), "a %s-priority session's job runs on the NPU%s",
				 names[p], high_ok && p == LUMEN_PRIORITY_HIGH ?
				 " (CAP_SYS_NICE)" : "");
			check(ret == 0, what, lumen_last_error());
		} else {
			check(ret == LUMEN_E_DEVICE &&
			      strstr(lumen_last_error(), "Permission denied"),
			      "without CAP_SYS_NICE the driver refuses a high-priority job: the priority reaches it",
			      ret ? lumen_last_error() : "it ran");
		}
	}
	lumen_session_free(s);
	lumen_model_free(m);
	lumen_device_close(dev);
	return failed;
}
