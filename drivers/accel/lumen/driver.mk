# drivers/accel/lumen: the kernel module lumen.ko and its test suites.
#
#   make driver             build $(LUMEN_KO) against Debian's 6.12 headers
#   make suite-driver-build W=1 build, sparse, checkpatch --strict, as TAP
#   make suite-kunit        KUnit under UML (drivers/accel/lumen/tests/run-kunit)
#   make suite-driver-kselftest  lumen.ko + the kselftests of
#                       tests/selftests/drivers/accel/lumen in a QEMU guest
#   make bench-driver   NOP job round trips and throughput in the guest
#
# Kbuild writes objects next to the sources, so the module is built from a
# copy under $(BUILD)/driver/src; the copy finds hw/core and uapi/ through
# lumen_top. The kernel comes from scripts/fetch-kernel (cached).

DRIVER_DIR := drivers/accel/lumen
KSELFTEST_DIR := tests/selftests/drivers/accel/lumen
DRIVER_BUILD := $(BUILD)/driver
LUMEN_KO := $(DRIVER_BUILD)/src/lumen.ko
DRIVER_SRCS := $(wildcard $(DRIVER_DIR)/*.[ch]) $(DRIVER_DIR)/Kbuild \
	hw/core/lumen_validate.c hw/core/lumen_validate.h \
	uapi/drm/lumen_accel.h uapi/drm/lumen_isa.h
DRIVER_CHECKPATCH := $(wildcard $(DRIVER_DIR)/*.[ch] $(DRIVER_DIR)/tests/*.[ch] \
	$(KSELFTEST_DIR)/*.[ch]) \
	uapi/drm/lumen_accel.h uapi/drm/lumen_isa.h \
	hw/core/lumen_validate.c

KSELFTEST_BUILD := $(DRIVER_BUILD)/kselftest
KSELFTEST_NAMES := bo program submit uring isolation recovery lifetime pm \
	concurrency
LUMEN_KSELFTESTS := $(KSELFTEST_NAMES:%=$(KSELFTEST_BUILD)/lumen_%_test)
LUMEN_BENCH := $(KSELFTEST_BUILD)/lumen_bench
# As tools/testing/selftests builds: kselftest_harness.h trips -Wextra's
# sign-compare, clobbered and unused-parameter checks.
KSELFTEST_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wno-sign-compare \
	-Wno-clobbered -Wno-unused-parameter -O2 -g -I$(TOP) -I$(TOP)/uapi \
	-I/usr/include/libdrm
KSELFTEST_DEPS := $(KSELFTEST_DIR)/lumen_util.c $(KSELFTEST_DIR)/lumen_util.h \
	uapi/drm/lumen_accel.h uapi/drm/lumen_isa.h hw/core/lumen_validate.h

.PHONY: driver suite-driver-build suite-kunit suite-driver-kselftest \
	bench-driver

driver: $(LUMEN_KO)

$(LUMEN_KO): $(DRIVER_SRCS)
	@$(DRIVER_DIR)/tests/driver-build-tap --build-only $(DRIVER_BUILD)

suite-driver-build:
	@$(DRIVER_DIR)/tests/driver-build-tap $(DRIVER_BUILD) $(DRIVER_CHECKPATCH)

suite-kunit:
	@$(DRIVER_DIR)/tests/run-kunit

# Static, so the guest image needs no library; drm.h comes from libdrm,
# kselftest_harness.h from the kernel source tree.
$(KSELFTEST_BUILD)/%: $(KSELFTEST_DIR)/%.c $(KSELFTEST_DEPS)
	@mkdir -p $(@D)
	@eval "$$(scripts/fetch-kernel --print-env)" && \
		$(CC) -static $(KSELFTEST_CFLAGS) -I"$$KSRC/tools/testing/selftests" \
		-o $@ $< $(KSELFTEST_DIR)/lumen_util.c -luring

suite-driver-kselftest: $(LUMEN_KO) $(LUMEN_KSELFTESTS)
	@$(DRIVER_DIR)/tests/run-kselftests $(LUMEN_KO) $(KSELFTEST_BUILD)

bench-driver: $(LUMEN_KO) $(LUMEN_BENCH)
	@scripts/vm-run --timeout 400 --module $(LUMEN_KO) \
		--add $(LUMEN_BENCH):/bin/lumen_bench -- /bin/lumen_bench

BENCH_TARGETS += bench-driver
CHECK_SUITES += driver-build kunit driver-kselftest
