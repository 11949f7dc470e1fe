# The debug guest kernel (issue 10): Debian's linux-source-6.12 with KASAN,
# lockdep, kmemleak, KFENCE, DEBUG_OBJECTS, fault injection and KCOV
# (scripts/build-debug-kernel, cached under $(LUMEN_CACHE)/debug-kernel by
# a hash of its inputs), and scripts/check-dmesg, which fails a guest
# whose kernel log holds a report.
#   debug-kernel-dmesg-check  check-dmesg on sample logs (seconds)
#   debug-kernel-smoke        builds and boots the kernel, checks that the
#                             debug features are on, that a clean boot
#                             passes and that a bad module is caught
CHECK_SUITES += debug-kernel-dmesg-check debug-kernel-smoke

.PHONY: debug-kernel suite-debug-kernel-dmesg-check suite-debug-kernel-smoke
debug-kernel:
	@scripts/build-debug-kernel --print-env

suite-debug-kernel-dmesg-check:
	@scripts/tests/check-dmesg-test

suite-debug-kernel-smoke:
	@scripts/tests/debug-kernel-smoke
