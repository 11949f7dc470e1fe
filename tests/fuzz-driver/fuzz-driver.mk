# tests/fuzz-driver: the ioctl + io_uring fuzzer of drivers/accel/lumen
# (issue 10). lumen_fuzz runs in a guest of the debug kernel against a
# lumen.ko built with KCOV_INSTRUMENT=y and keeps the inputs that reach
# new PCs of the module (run-fuzz-driver: the guest, the report, the
# source lines reached).
#
#   make fuzz-driver [FUZZ_TIME=s] [FUZZ_SEED=n] [FUZZ_CORPUS=dir]
#                           fuzz for FUZZ_TIME seconds (600); the corpus
#                           is kept in FUZZ_CORPUS, outside the checkout
#   make fuzz-driver-replay FUZZ_REPLAY=file
#                           run the inputs a report printed (its FUZZ-REPRO
#                           lines) again, tracing every call
#   suite-fuzz-driver-gen   host: the program generator against the
#                           validator (valid programs, >= 20% accepted)
#   suite-fuzz-driver       a seeded slice of FUZZ_SLICE_INPUTS inputs
#                           without feedback (the same calls each run; about
#                           60 s of an idle machine's guest time) on the debug
#                           kernel: a clean log, at least a minimum of calls
#                           made, programs accepted and PCs reached

FUZZ_DRIVER_DIR := tests/fuzz-driver
FUZZ_DRIVER_BUILD := $(BUILD)/fuzz-driver
LUMEN_FUZZ := $(FUZZ_DRIVER_BUILD)/lumen_fuzz
LUMEN_KO_KCOV := $(FUZZ_DRIVER_BUILD)/ko/src/lumen.ko
LUMEN_FUZZ_SRCS := $(addprefix $(FUZZ_DRIVER_DIR)/,fuzz_main.c fuzz_calls.c \
	fuzz_prog.c fuzz_kcov.c)
LUMEN_FUZZ_DEPS := $(LUMEN_FUZZ_SRCS) $(wildcard $(FUZZ_DRIVER_DIR)/*.h) \
	isa/lumen_validate.c isa/lumen_ops.c isa/lumen_build.h $(DRIVER_UAPI)
FUZZ_PROG_TEST := $(FUZZ_DRIVER_BUILD)/fuzz_prog_test
FUZZ_TIME ?= 600
FUZZ_SEED ?= 1
FUZZ_CORPUS ?= $(LUMEN_CACHE)/fuzz-driver/corpus
# The slice in make check: a count of inputs, not a time, so a loaded
# machine makes the same calls; the minimums are about half of what the
# seed's inputs make.
FUZZ_SLICE_INPUTS := 160
FUZZ_SLICE_MIN_CALLS := 3000
FUZZ_SLICE_MIN_ACCEPTED := 150
FUZZ_SLICE_MIN_PCS := 400

# Static like the kselftests: the guest image has no libraries.
$(LUMEN_FUZZ): $(LUMEN_FUZZ_DEPS)
	@mkdir -p $(@D)
	$(CC) -static -std=gnu11 $(WARN) -Wno-sign-compare -O2 -g \
		-I$(TOP)/include/uapi -I$(TOP)/isa -I/usr/include/libdrm \
		-pthread -o $@ $(LUMEN_FUZZ_SRCS) isa/lumen_validate.c isa/lumen_ops.c \
		-luring

# The debug kernel's lumen.ko with KCOV call sites (Kbuild instruments an
# external module only when asked) and line tables for addr2line (the
# debug kernel itself is built without debug info; -g changes no code).
$(LUMEN_KO_KCOV): $(DRIVER_SRCS)
	@eval "$$(scripts/build-debug-kernel --print-env)" && \
		scripts/driver-build-tap --build-only --kbuild "$$DBG_KBUILD" \
		$(FUZZ_DRIVER_BUILD)/ko KCOV_INSTRUMENT=y KCFLAGS=-g

$(FUZZ_PROG_TEST): $(FUZZ_DRIVER_DIR)/fuzz_prog_test.c $(FUZZ_DRIVER_DIR)/fuzz_prog.c \
		$(FUZZ_DRIVER_DIR)/fuzz_prog.h $(ISA_LIB_SAN) $(TEST_LIB_SAN)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -o $@ $(FUZZ_DRIVER_DIR)/fuzz_prog_test.c \
		$(FUZZ_DRIVER_DIR)/fuzz_prog.c $(TEST_LIB_SAN) $(ISA_LIB_SAN)

.PHONY: fuzz-driver fuzz-driver-replay suite-fuzz-driver-gen suite-fuzz-driver
fuzz-driver: $(LUMEN_KO_KCOV) $(LUMEN_FUZZ)
	@$(FUZZ_DRIVER_DIR)/run-fuzz-driver --time $(FUZZ_TIME) --seed $(FUZZ_SEED) \
		--corpus $(FUZZ_CORPUS) $(LUMEN_KO_KCOV) $(LUMEN_FUZZ) \
		$(FUZZ_DRIVER_BUILD)/run

fuzz-driver-replay: $(LUMEN_KO_KCOV) $(LUMEN_FUZZ)
	@test -n "$(FUZZ_REPLAY)" || { echo "usage: make fuzz-driver-replay FUZZ_REPLAY=file" >&2; exit 2; }
	@$(FUZZ_DRIVER_DIR)/run-fuzz-driver --replay $(abspath $(FUZZ_REPLAY)) \
		$(LUMEN_KO_KCOV) $(LUMEN_FUZZ) $(FUZZ_DRIVER_BUILD)/replay

suite-fuzz-driver-gen: $(FUZZ_PROG_TEST)
	@$(FUZZ_PROG_TEST)

suite-fuzz-driver: $(LUMEN_KO_KCOV) $(LUMEN_FUZZ)
	@$(FUZZ_DRIVER_DIR)/run-fuzz-driver --time 0 --inputs $(FUZZ_SLICE_INPUTS) \
		--seed 1 --no-feedback --min-calls $(FUZZ_SLICE_MIN_CALLS) \
		--min-accepted $(FUZZ_SLICE_MIN_ACCEPTED) --min-pcs $(FUZZ_SLICE_MIN_PCS) \
		$(LUMEN_KO_KCOV) $(LUMEN_FUZZ) $(FUZZ_DRIVER_BUILD)/slice

CHECK_SUITES += fuzz-driver-gen fuzz-driver
