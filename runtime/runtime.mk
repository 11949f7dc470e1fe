# runtime/: liblumen (the library), the lumen CLI, their tests and the
# CPU demo. liblumen.a carries everything it needs: the runtime's own
# objects, the .lnpu reader of compiler/ and the hw/core executor (the CPU
# backend), so a program links -llumen alone (see lumen.pc).

# the NPU backend: libdrm and liburing (Debian's libdrm-dev, liburing-dev)
RUNTIME_CFLAGS := -pthread -I/usr/include/libdrm
RUNTIME_LDLIBS := -ldrm -luring -pthread -lm

# tokenizer (SentencePiece BPE, byte-level BPE) and sampling: plain C11
RUNTIME_SRCS := \
	runtime/unicode.c \
	runtime/unicode_data.c \
	runtime/tokenizer.c \
	runtime/tokenizer_merge.c \
	runtime/tokenizer_spm.c \
	runtime/tokenizer_bpe.c \
	runtime/sampling.c
# devices, backends, models, sessions, generation
RUNTIME_SRCS += \
	runtime/error.c \
	runtime/device.c \
	runtime/backend_cpu.c \
	runtime/backend_npu.c \
	runtime/backend_npu_submit.c \
	runtime/model.c \
	runtime/session.c \
	runtime/generate.c

# what liblumen takes from the compiler: the .lnpu reader
RUNTIME_LNPU_SRCS := compiler/lnpu_read.c compiler/crc32c.c

RUNTIME_CLI_SRCS := \
	runtime/lumen_cli.c \
	runtime/lumen_cli_opts.c \
	runtime/lumen_cli_model.c \
	runtime/lumen_cli_info.c \
	runtime/lumen_cli_run.c \
	runtime/lumen_cli_bench.c \
	runtime/sha256.c

RUNTIME_TEST_SRCS := \
	runtime/tests/test_main.c \
	runtime/tests/vocab_gguf.c \
	runtime/tests/test_tokenizer.c \
	runtime/tests/test_sampling.c \
	runtime/tests/test_sha256.c

RUNTIME_GOLDEN_SRCS := \
	runtime/tests/golden.c \
	runtime/tests/test_golden.c

RUNTIME_API_SRCS := \
	runtime/tests/test_main.c \
	runtime/tests/test_api.c

RUNTIME_NPU_TEST_SRCS := \
	runtime/tests/test_main.c \
	runtime/tests/test_npu.c

RUNTIME_OBJS = $(RUNTIME_SRCS:%.c=$(BUILD)/%.o) \
	$(RUNTIME_LNPU_SRCS:%.c=$(BUILD)/%.o) $(CORE_OBJS)
RUNTIME_SAN_OBJS = $(RUNTIME_SRCS:%.c=$(BUILD)/%.san.o) \
	$(RUNTIME_LNPU_SRCS:%.c=$(BUILD)/%.san.o) $(CORE_SAN_OBJS)
RUNTIME_LIB := $(BUILD)/runtime/liblumen.a
RUNTIME_LIB_SAN := $(BUILD)/runtime/liblumen.san.a
RUNTIME_PC := $(BUILD)/runtime/lumen.pc
LUMEN_CLI := $(BUILD)/runtime/lumen
LUMEN_CLI_SAN := $(BUILD)/runtime/lumen.san
RUNTIME_TEST := $(BUILD)/runtime/runtime-unit-tests
RUNTIME_TEST_SAN := $(BUILD)/runtime/runtime-unit-tests.san
RUNTIME_GOLDEN := $(BUILD)/runtime/runtime-golden-tests
RUNTIME_API := $(BUILD)/runtime/runtime-api-tests
RUNTIME_API_SAN := $(BUILD)/runtime/runtime-api-tests.san

# stories260K compiled by lumenc, for the tests and the demo
RUNTIME_QUANTS := f32 f16 q8_0 q4_0
RUNTIME_MODEL_DIR := $(BUILD)/runtime/models
# synthetic models live apart from the test models: the guest suites copy
# the whole test-model directory into the guest
RUNTIME_SYNTH_DIR := $(BUILD)/runtime/synthetic
RUNTIME_MODELS := $(RUNTIME_QUANTS:%=$(RUNTIME_MODEL_DIR)/stories260K-%.lnpu)

ALL_TARGETS += $(RUNTIME_LIB) $(RUNTIME_PC) $(LUMEN_CLI) $(RUNTIME_TEST)
CHECK_SUITES += runtime-unit runtime-unit-asan runtime-api runtime-api-asan \
	runtime-cli runtime-golden runtime-npu
BENCH_TARGETS += bench-runtime

$(BUILD)/runtime/%.o: runtime/%.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(RUNTIME_CFLAGS) -c $< -o $@

$(BUILD)/runtime/%.san.o: runtime/%.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(RUNTIME_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(RUNTIME_LIB): $(RUNTIME_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(RUNTIME_LIB_SAN): $(RUNTIME_SAN_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# uninstalled: points at the checkout and the build directory
$(RUNTIME_PC): runtime/lumen.pc.in runtime/runtime.mk
	@mkdir -p $(@D)
	sed -e 's|@includedir@|$(TOP)/runtime|' -e 's|@libdir@|$(BUILD)/runtime|' \
		-e 's|@version@|$(shell sed -n 's/.*LUMEN_VERSION_STRING "\(.*\)"/\1/p' runtime/lumen.h)|' \
		$< > $@

$(LUMEN_CLI): $(RUNTIME_CLI_SRCS:%.c=$(BUILD)/%.o) $(RUNTIME_LIB)
	$(CC) -o $@ $^ $(RUNTIME_LDLIBS)

$(LUMEN_CLI_SAN): $(RUNTIME_CLI_SRCS:%.c=$(BUILD)/%.san.o) $(RUNTIME_LIB_SAN)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_TEST): $(RUNTIME_TEST_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/runtime/sha256.o \
		$(RUNTIME_LIB) $(LUMENC_LIB) $(TEST_LIB)
	$(CC) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_TEST_SAN): $(RUNTIME_TEST_SRCS:%.c=$(BUILD)/%.san.o) \
		$(BUILD)/runtime/sha256.san.o $(RUNTIME_LIB_SAN) $(LUMENC_LIB_SAN) \
		$(TEST_LIB_SAN)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_GOLDEN): $(RUNTIME_GOLDEN_SRCS:%.c=$(BUILD)/%.o) $(RUNTIME_LIB) $(TEST_LIB)
	$(CC) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_API): $(RUNTIME_API_SRCS:%.c=$(BUILD)/%.o) $(RUNTIME_LIB) $(TEST_LIB)
	$(CC) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_API_SAN): $(RUNTIME_API_SRCS:%.c=$(BUILD)/%.san.o) $(RUNTIME_LIB_SAN) \
		$(TEST_LIB_SAN)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_MODEL_DIR)/stories260K-%.lnpu: $(SHARED)/models/stories260K-%.gguf $(LUMENC)
	@mkdir -p $(@D)
	$(LUMENC) $< -o $@ --quiet

# the tests read $(SHARED) (tokenizer vectors, models, golden outputs)
.PHONY: suite-runtime-unit suite-runtime-unit-asan suite-runtime-golden \
	suite-runtime-api suite-runtime-api-asan suite-runtime-cli \
	bench-runtime demo-cpu runtime-models
runtime-models: $(RUNTIME_MODELS)

suite-runtime-unit: $(RUNTIME_TEST)
	SHARED=$(SHARED) $(RUNTIME_TEST)

suite-runtime-unit-asan: $(RUNTIME_TEST_SAN)
	SHARED=$(SHARED) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(RUNTIME_TEST_SAN)

suite-runtime-golden: $(RUNTIME_GOLDEN) $(RUNTIME_MODELS)
	SHARED=$(SHARED) LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) $(RUNTIME_GOLDEN)

suite-runtime-api: $(RUNTIME_API) $(RUNTIME_MODELS)
	LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) $(RUNTIME_API)

suite-runtime-api-asan: $(RUNTIME_API_SAN) $(RUNTIME_MODELS)
	LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1 $(RUNTIME_API_SAN)

# the CLI's error paths under ASan+UBSan, its output with the normal build
suite-runtime-cli: $(LUMEN_CLI) $(LUMEN_CLI_SAN) $(LUMENC) $(RUNTIME_MODELS)
	SHARED=$(SHARED) LUMEN=$(LUMEN_CLI) LUMEN_SAN=$(LUMEN_CLI_SAN) \
		LUMENC=$(LUMENC) LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) \
		runtime/tests/cli-tests

# stories260K, and the synthetic stories15M shape (random weights, real
# size) compiled through the .gguf cache
RUNTIME_SYNTH_15M := $(LUMEN_CACHE)/synthetic/stories15M-q8_0.gguf

$(RUNTIME_SYNTH_15M): | $(GEN_SYNTHETIC)
	$(GEN_SYNTHETIC) --shape stories15M --type q8_0 \
		--vocab $(SHARED)/tokenizer/ggml-vocab-llama-spm.gguf -d $(@D)

bench-runtime: $(LUMEN_CLI) $(LUMENC) $(RUNTIME_MODEL_DIR)/stories260K-q8_0.lnpu \
		$(RUNTIME_MODEL_DIR)/stories260K-f32.lnpu $(RUNTIME_SYNTH_15M)
	$(LUMEN_CLI) bench -m $(RUNTIME_MODEL_DIR)/stories260K-q8_0.lnpu -t 1,2 -r 20
	$(LUMEN_CLI) bench -m $(RUNTIME_MODEL_DIR)/stories260K-f32.lnpu -t 1,2 -r 20
	LUMENC=$(LUMENC) $(LUMEN_CLI) bench -m $(RUNTIME_SYNTH_15M) -t 1,2

# one thread: a 260K-parameter model is too small to split
demo-cpu: $(LUMEN_CLI) $(RUNTIME_MODEL_DIR)/stories260K-q8_0.lnpu
	$(LUMEN_CLI) run --device cpu --threads 1 \
		-m $(RUNTIME_MODEL_DIR)/stories260K-q8_0.lnpu -p "Once upon a time" -n 100

# ---- the NPU in the QEMU guest ----
# Static binaries, so the device image needs no library (libdrm-dev and
# liburing-dev ship static archives).
RUNTIME_GUEST_BIN := $(BUILD)/runtime/guest-bin
RUNTIME_GUEST := $(RUNTIME_GUEST_BIN)/lumen $(RUNTIME_GUEST_BIN)/runtime-npu-tests \
	$(RUNTIME_GUEST_BIN)/runtime-golden-tests

$(RUNTIME_GUEST_BIN)/lumen: $(RUNTIME_CLI_SRCS:%.c=$(BUILD)/%.o) $(RUNTIME_LIB)
	@mkdir -p $(@D)
	$(CC) -static -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_GUEST_BIN)/runtime-npu-tests: $(RUNTIME_NPU_TEST_SRCS:%.c=$(BUILD)/%.o) \
		$(RUNTIME_LIB) $(TEST_LIB)
	@mkdir -p $(@D)
	$(CC) -static -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_GUEST_BIN)/runtime-golden-tests: $(RUNTIME_GOLDEN_SRCS:%.c=$(BUILD)/%.o) \
		$(RUNTIME_LIB) $(TEST_LIB)
	@mkdir -p $(@D)
	$(CC) -static -o $@ $^ $(RUNTIME_LDLIBS)

.PHONY: suite-runtime-npu runtime-guest
runtime-guest: $(RUNTIME_GUEST)

# one boot: the error without lumen.ko, then the NPU tests, the 20 golden
# cases on the NPU and on the CPU backend, two processes at once
suite-runtime-npu: $(RUNTIME_GUEST) $(LUMEN_KO) $(RUNTIME_MODELS)
	@GUEST_BIN=$(RUNTIME_GUEST_BIN) LUMEN_KO=$(LUMEN_KO) \
		LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) SHARED=$(SHARED) \
		runtime/tests/run-npu

# ---- make demo: a story from the NPU in the QEMU guest ----
# stories260K from $(SHARED)/models; without it, a synthetic model of the
# same shape (random weights: its text is noise).
DEMO_GGUF := $(wildcard $(SHARED)/models/stories260K-q8_0.gguf)
ifneq ($(DEMO_GGUF),)
DEMO_MODEL := $(RUNTIME_MODEL_DIR)/stories260K-q8_0.lnpu
else
DEMO_MODEL := $(RUNTIME_SYNTH_DIR)/stories260K-q8_0.lnpu
endif
DEMO_PROMPT := Once upon a time

$(RUNTIME_SYNTH_DIR)/%-q8_0.lnpu: $(GEN_SYNTHETIC) $(LUMENC)
	@mkdir -p $(@D)/gguf
	$(GEN_SYNTHETIC) --shape $* --type q8_0 \
		--vocab $(SHARED)/tokenizer/ggml-vocab-llama-spm.gguf -d $(@D)/gguf
	$(LUMENC) $(@D)/gguf/$*-q8_0.gguf -o $@ --quiet

.PHONY: demo demo-setup demo-npu
demo: demo-setup
	@$(MAKE) --no-print-directory demo-npu

demo-setup:
	@scripts/setup-deps base qemu kernel runtime

demo-npu: $(RUNTIME_GUEST_BIN)/lumen $(LUMEN_KO) $(DEMO_MODEL)
	@$(if $(DEMO_GGUF),,echo "demo: warning: $(SHARED)/models/stories260K-q8_0.gguf is missing;" \
		"running a synthetic model with random weights: its text is noise" >&2;)
	@echo "demo: booting the device image in QEMU (lumen.ko, the Lumen NPU)..."
	@scripts/vm-run --timeout 600 \
		--add $(RUNTIME_GUEST_BIN)/lumen:/bin/lumen \
		--add $(LUMEN_KO):/lumen.ko \
		--add $(DEMO_MODEL):/model.lnpu \
		-- sh -c 'set -e; insmod /lumen.ko; echo "guest: lumen.ko loaded"; \
			lumen info --device npu -m /model.lnpu; echo; \
			lumen run --device npu -m /model.lnpu -p "$(DEMO_PROMPT)" -n 128'

# ---- make bench: the NPU stack in the guest against the CPU backend ----
# Decode (tg64) and prefill (pp64) of stories260K (Q8_0, F32) and the
# synthetic stories15M shape, through lumen.ko + io_uring and through
# hw/core in the same guest (under TCG: the guest CPU is emulated), then
# hw/core on the host, one thread.
RUNTIME_BENCH_MODELS := $(RUNTIME_MODEL_DIR)/stories260K-q8_0.lnpu \
	$(RUNTIME_MODEL_DIR)/stories260K-f32.lnpu \
	$(RUNTIME_SYNTH_DIR)/stories15M-q8_0.lnpu \
	$(RUNTIME_SYNTH_DIR)/SmolLM2-135M-q8_0.lnpu
BENCH_TARGETS += bench-runtime-npu

bench-runtime-npu: $(RUNTIME_GUEST) $(LUMEN_KO) $(RUNTIME_BENCH_MODELS) $(LUMEN_CLI)
	@echo "== guest: NPU (lumen.ko, io_uring) and CPU backend (hw/core under TCG)"
	@mkdir -p $(BUILD)/runtime/bench-models
	@ln -sf $(RUNTIME_BENCH_MODELS) $(BUILD)/runtime/bench-models/
	@scripts/vm-run --timeout 1800 --module $(LUMEN_KO) \
		--add $(RUNTIME_GUEST_BIN)/lumen:/bin/lumen \
		--add $(BUILD)/runtime/bench-models:/models \
		-- sh -c 'set -o pipefail; for m in /models/*.lnpu; do \
			lumen bench --device npu -m $$m -p 64 -n 64 -r 5 2>&1 | cat || exit 1; \
			echo "(the same through the ioctl fallback, then the CPU backend in the guest)"; \
			LUMEN_NPU_SUBMIT=ioctl lumen bench --device npu -m $$m -p 64 -n 64 -r 5 2>&1 | tail -n 2 || exit 1; \
			case $$m in *135M*) cpu="-p 16 -n 16 -r 1";; *) cpu="-p 64 -n 64 -r 2";; esac; \
			lumen bench --device cpu -t 1 -m $$m $$cpu 2>&1 | tail -n 2 || exit 1; \
		done'
	@echo "== host: hw/core (the CPU backend), 1 thread"
	@for m in $(RUNTIME_BENCH_MODELS); do \
		$(LUMEN_CLI) bench --device cpu -t 1 -m $$m -p 64 -n 64 -r 5 || exit 1; done
