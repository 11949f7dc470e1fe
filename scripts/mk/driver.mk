# drivers/accel/lumen: the kernel module lumen.ko and its test suites.
#
#   make driver             build $(LUMEN_KO) against Debian's 6.12 headers
#   make driver-export      the self-contained driver tree, in $(DRIVER_EXPORT)
#   make suite-driver-build W=1 build, sparse, kernel-doc, checkpatch --strict
#                       of the exported tree, as TAP (scripts/driver-build-tap)
#   make suite-kunit        KUnit under UML, on the exported tree
#                       (scripts/run-kunit)
#   make suite-driver-kselftest  lumen.ko + the kselftests of
#                       tests/selftests/drivers/accel/lumen in a QEMU guest
#   make bench-driver   NOP job round trips and throughput in the guest
#
# The driver shares isa/lumen_regs.h, isa/lumen_ops.[ch] and
# isa/lumen_validate.[ch] with the device model and userspace; every build
# and check runs on the tree scripts/export-kernel makes, where copies of
# them sit beside the driver's own files, as they would upstream. The
# kernel comes from scripts/fetch-kernel (cached).

DRIVER_DIR := drivers/accel/lumen
KSELFTEST_DIR := tests/selftests/drivers/accel/lumen
DRIVER_BUILD := $(BUILD)/driver
LUMEN_KO := $(DRIVER_BUILD)/src/lumen.ko
DRIVER_EXPORT := $(DRIVER_BUILD)/export
DRIVER_ISA := isa/lumen_regs.h isa/lumen_ops.c isa/lumen_ops.h \
	isa/lumen_validate.c isa/lumen_validate.h
DRIVER_UAPI := include/uapi/drm/lumen_accel.h include/uapi/drm/lumen_isa.h
DRIVER_SRCS := $(wildcard $(DRIVER_DIR)/*.[ch]) $(DRIVER_DIR)/Makefile \
	$(DRIVER_ISA) $(DRIVER_UAPI) scripts/export-kernel
# Besides the exported tree, which driver-build-tap checks file by file.
DRIVER_CHECKPATCH := $(DRIVER_ISA) $(wildcard $(KSELFTEST_DIR)/*.[ch])

KSELFTEST_BUILD := $(DRIVER_BUILD)/kselftest
KSELFTEST_NAMES := bo program query submit uring isolation recovery lifetime \
	race reset unplug \
	pm concurrency
LUMEN_KSELFTESTS := $(KSELFTEST_NAMES:%=$(KSELFTEST_BUILD)/lumen_%_test)
LUMEN_BENCH := $(KSELFTEST_BUILD)/lumen_bench
# As tools/testing/selftests builds: kselftest_harness.h trips -Wextra's
# sign-compare, clobbered and unused-parameter checks. The uapi alone, as
# an installed kernel's headers would give it, plus libdrm's drm.h.
KSELFTEST_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wno-sign-compare \
	-Wno-clobbered -Wno-unused-parameter -O2 -g -I$(TOP)/include/uapi \
	-I/usr/include/libdrm
KSELFTEST_DEPS := $(KSELFTEST_DIR)/lumen_util.c $(KSELFTEST_DIR)/lumen_util.h \
	$(DRIVER_UAPI)

.PHONY: driver driver-export suite-driver-build suite-kunit \
	suite-driver-kselftest suite-driver-kselftest-debug bench-driver

driver: $(LUMEN_KO)

driver-export:
	@rm -rf $(DRIVER_EXPORT)
	@scripts/export-kernel $(DRIVER_EXPORT)
	@echo "exported to $(DRIVER_EXPORT)"

$(LUMEN_KO): $(DRIVER_SRCS)
	@scripts/driver-build-tap --build-only $(DRIVER_BUILD)

suite-driver-build:
	@scripts/driver-build-tap $(DRIVER_BUILD) $(DRIVER_CHECKPATCH)

suite-kunit:
	@scripts/run-kunit

# Static, so the guest image needs no library; drm.h comes from libdrm,
# kselftest_harness.h from the kernel source tree.
$(KSELFTEST_BUILD)/%: $(KSELFTEST_DIR)/%.c $(KSELFTEST_DEPS)
	@mkdir -p $(@D)
	@eval "$$(scripts/fetch-kernel --print-env)" && \
		$(CC) -static $(KSELFTEST_CFLAGS) -I"$$KSRC/tools/testing/selftests" \
		-o $@ $< $(KSELFTEST_DIR)/lumen_util.c -luring

suite-driver-kselftest: $(LUMEN_KO) $(LUMEN_KSELFTESTS)
	@scripts/run-kselftests $(LUMEN_KO) $(KSELFTEST_BUILD)

# The same lumen.ko sources and kselftests on the debug kernel, whose log
# must come back clean (scripts/run-kselftests-debug).
DRIVER_DEBUG_BUILD := $(DRIVER_BUILD)/debug
LUMEN_KO_DEBUG := $(DRIVER_DEBUG_BUILD)/src/lumen.ko

$(LUMEN_KO_DEBUG): $(DRIVER_SRCS)
	@eval "$$(scripts/build-debug-kernel --print-env)" && \
		scripts/driver-build-tap --build-only --kbuild "$$DBG_KBUILD" \
		$(DRIVER_DEBUG_BUILD)

suite-driver-kselftest-debug: $(LUMEN_KO_DEBUG) $(LUMEN_KSELFTESTS)
	@scripts/run-kselftests-debug $(LUMEN_KO_DEBUG) $(KSELFTEST_BUILD) \
		$(DRIVER_DEBUG_BUILD)/dmesg.log

bench-driver: $(LUMEN_KO) $(LUMEN_BENCH)
	@scripts/vm-run --timeout 400 --module $(LUMEN_KO) \
		--add $(LUMEN_BENCH):/bin/lumen_bench -- /bin/lumen_bench

BENCH_TARGETS += bench-driver
CHECK_SUITES += driver-build kunit driver-kselftest driver-kselftest-debug
