# hw/qemu: QEMU 7.2 with the lumen-npu device, laid out as QEMU's tree
# (hw/qemu/README). scripts/build-qemu builds it (cached under
# $(LUMEN_CACHE)/qemu, keyed by a hash of hw/qemu/, the isa/, hw/exec/ and
# uapi sources it exports into QEMU's tree, and the script) together with
# the device's qtests, which run as suite qemu-qtest.
QEMU_BUILD := scripts/build-qemu

CHECK_SUITES += qemu-qtest

.PHONY: qemu suite-qemu-qtest
qemu:
	@$(QEMU_BUILD) --print-path

# glib's --tap prints the plan and one "ok N" / "not ok N" line per case.
suite-qemu-qtest:
	@qemu=$$($(QEMU_BUILD) --print-path) && \
	qtest=$$($(QEMU_BUILD) --print-qtest-path) && \
	QTEST_QEMU_BINARY=$$qemu $$qtest --tap -k

# ---- the device under a hostile guest (issue 10) ----
# hw/qemu/tests/qtest/lumen-npu-fuzz.c: seeded random MMIO, page tables,
# descriptors, programs and resets; the device must survive every seed.
# suite-qemu-fuzz is the short seeded slice make check runs, against the
# normal build (the sanitizer build costs a cold build of its own).
# fuzz-device runs seeds for FUZZ_TIME seconds against the ASan+UBSan+gcov
# build (build-qemu --sanitize) and prints gcov line coverage of the
# device's files:   make fuzz-device FUZZ_TIME=3600 [FUZZ_SEED=N]
CHECK_SUITES += qemu-fuzz
QEMU_FUZZ_SEEDS ?= 6
QEMU_FUZZ_ACTIONS ?= 1500
FUZZ_TIME ?= 300
FUZZ_SEED ?= $(shell date +%s)
# Leaks are not checked: QEMU 7.2 itself leaks at exit, and a leak report
# would fail every seed. A guest-triggerable leak still shows as RSS.
QEMU_SAN_ENV := ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1

.PHONY: suite-qemu-fuzz fuzz-device qtest-sanitize
suite-qemu-fuzz:
	@qemu=$$($(QEMU_BUILD) --print-path) && \
	fuzz=$$($(QEMU_BUILD) --print-fuzz-path) && \
	QTEST_QEMU_BINARY=$$qemu $$fuzz --tap --seed 1 \
		--seeds $(QEMU_FUZZ_SEEDS) --actions $(QEMU_FUZZ_ACTIONS)

fuzz-device:
	@qemu=$$($(QEMU_BUILD) --sanitize --print-path) && \
	fuzz=$$($(QEMU_BUILD) --sanitize --print-fuzz-path) && \
	build=$$($(QEMU_BUILD) --sanitize --print-build-dir) && \
	find "$$build" -name '*lumen*.gcda' -delete && \
	$(QEMU_SAN_ENV) QTEST_QEMU_BINARY=$$qemu $$fuzz --seed $(FUZZ_SEED) \
		--time $(FUZZ_TIME) && \
	scripts/qemu-coverage "$$build"

# The qtests against the sanitizer build: the only way a silent memory
# error (e.g. dma-while-memory-map-changes) fails them. Not in make check.
qtest-sanitize:
	@qemu=$$($(QEMU_BUILD) --sanitize --print-path) && \
	qtest=$$($(QEMU_BUILD) --sanitize --print-qtest-path) && \
	$(QEMU_SAN_ENV) QTEST_QEMU_BINARY=$$qemu $$qtest --tap -k
