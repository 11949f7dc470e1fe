# The demo, the benchmarks and the end-to-end suites on the NPU: the
# runtime, the CLI (tools/lumen), lumen.ko and the QEMU device together.
CHECK_SUITES += runtime-npu
BENCH_TARGETS += bench-runtime

# stories260K, and the synthetic stories15M shape (random weights, real
# size) compiled through the .gguf cache
RUNTIME_SYNTH_15M := $(LUMEN_CACHE)/synthetic/stories15M-q8_0.gguf
# (made by the synthetic-model rules further down)

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

$(RUNTIME_GUEST_BIN)/lumen: $(LUMEN_CLI_OBJS) $(RUNTIME_LIB)
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

.PHONY: suite-runtime-npu runtime-guest bench-runtime demo-cpu
runtime-guest: $(RUNTIME_GUEST)

# one boot: the error without lumen.ko, then the NPU tests, the 20 golden
# cases on the NPU and on the CPU backend, two processes at once
suite-runtime-npu: $(RUNTIME_GUEST) $(LUMEN_KO) $(RUNTIME_MODELS) $(RUNTIME_ARCH_MODELS)
	@GUEST_BIN=$(RUNTIME_GUEST_BIN) LUMEN_KO=$(LUMEN_KO) \
		LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) SHARED=$(SHARED) \
		runtime/tests/run-npu

# The same on the debug kernel: lumen.ko built against it, the guest's log
# checked for KASAN, lockdep, kmemleak and DEBUG_OBJECTS reports.
CHECK_SUITES += runtime-npu-debug
.PHONY: suite-runtime-npu-debug
suite-runtime-npu-debug: $(RUNTIME_GUEST) $(LUMEN_KO_DEBUG) $(RUNTIME_MODELS) $(RUNTIME_ARCH_MODELS)
	@GUEST_BIN=$(RUNTIME_GUEST_BIN) LUMEN_KO=$(LUMEN_KO_DEBUG) \
		LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) SHARED=$(SHARED) \
		LUMEN_NPU_DEBUG_DMESG=$(DRIVER_DEBUG_BUILD)/runtime-npu-dmesg.log \
		runtime/tests/run-npu

# ---- a 1B-class model in a 2 GiB guest (runtime/tests/run-npu-big) ----
# The Llama-3.2-1B shape in Q4_K_M with random weights (808 MB), cached
# with the other synthetic models; compiled for the default context (4096),
# run with a smaller session.
RUNTIME_BIG_MODEL := $(RUNTIME_SYNTH_DIR)/Llama-3.2-1B-q4_k_m.lnpu

$(LUMEN_CACHE)/synthetic/Llama-3.2-1B-%.gguf: | $(GEN_SYNTHETIC)
	$(GEN_SYNTHETIC) --shape Llama-3.2-1B --type $* \
		--vocab $(SHARED)/tokenizer/ggml-vocab-llama-bpe.gguf -d $(@D)
$(LUMEN_CACHE)/synthetic/Qwen2.5-0.5B-%.gguf: | $(GEN_SYNTHETIC)
	$(GEN_SYNTHETIC) --shape Qwen2.5-0.5B --type $* \
		--vocab $(SHARED)/tokenizer/ggml-vocab-qwen2.gguf -d $(@D)
$(LUMEN_CACHE)/synthetic/stories15M-%.gguf: | $(GEN_SYNTHETIC)
	$(GEN_SYNTHETIC) --shape stories15M --type $* \
		--vocab $(SHARED)/tokenizer/ggml-vocab-llama-spm.gguf -d $(@D)
$(LUMEN_CACHE)/synthetic/SmolLM2-135M-%.gguf: | $(GEN_SYNTHETIC)
	$(GEN_SYNTHETIC) --shape SmolLM2-135M --type $* \
		--vocab $(SHARED)/tokenizer/ggml-vocab-gpt-2.gguf -d $(@D)

$(RUNTIME_SYNTH_DIR)/%.lnpu: $(LUMEN_CACHE)/synthetic/%.gguf $(LUMENC)
	@mkdir -p $(@D)
	$(LUMENC) $< -o $@ --quiet

CHECK_SUITES += runtime-npu-big
.PHONY: suite-runtime-npu-big
suite-runtime-npu-big: $(RUNTIME_GUEST_BIN)/lumen $(LUMEN_CLI) $(LUMEN_KO) $(RUNTIME_BIG_MODEL)
	@LUMEN=$(LUMEN_CLI) GUEST_LUMEN=$(RUNTIME_GUEST_BIN)/lumen LUMEN_KO=$(LUMEN_KO) \
		MODEL=$(RUNTIME_BIG_MODEL) runtime/tests/run-npu-big

# ---- make bench-models: real shapes, host executor and NPU, one table ----
# scripts/bench-models: tg64/pp64 on the host at 1 and 2 threads and on
# the NPU in a 2 GiB guest reading the models from disk. PEER_BENCH=path
# of a llama-bench built outside the checkout adds a side-by-side table;
# BENCH_BEFORE=LUMEN,LUMENC (an earlier build's) adds that build to it.
BENCH_MODEL_DIR := $(BUILD)/runtime/bench-models-lnpu
BENCH_MODEL_NAMES := stories15M-q8_0 stories15M-q4_0 \
	SmolLM2-135M-q8_0 SmolLM2-135M-q4_0 SmolLM2-135M-q4_k_m \
	Qwen2.5-0.5B-q8_0 Qwen2.5-0.5B-q4_0 Qwen2.5-0.5B-q4_k_m \
	Llama-3.2-1B-q8_0 Llama-3.2-1B-q4_0 Llama-3.2-1B-q4_k_m
BENCH_MODELS := $(RUNTIME_MODEL_DIR)/stories260K-q8_0.lnpu \
	$(BENCH_MODEL_NAMES:%=$(BENCH_MODEL_DIR)/%.lnpu)
BENCH_TARGETS += bench-models

$(BENCH_MODEL_DIR)/%.lnpu: $(LUMEN_CACHE)/synthetic/%.gguf $(LUMENC)
	@mkdir -p $(@D)
	$(LUMENC) $< -o $@ --quiet

# The peer reads the GGUFs, which make otherwise deletes once compiled.
BENCH_GGUFS := $(BENCH_MODEL_NAMES:%=$(LUMEN_CACHE)/synthetic/%.gguf)

.PHONY: bench-models
bench-models: $(BENCH_MODELS) $(LUMEN_CLI) $(LUMENC) $(EXEC_BENCH) $(RUNTIME_GUEST_BIN)/lumen $(LUMEN_KO) \
		$(if $(PEER_BENCH),$(BENCH_GGUFS))
	@scripts/bench-models --lumen $(LUMEN_CLI) --guest-lumen $(RUNTIME_GUEST_BIN)/lumen \
		--ko $(LUMEN_KO) --bench-hw $(EXEC_BENCH) --lumenc $(LUMENC) \
		$(if $(PEER_BENCH),--peer $(PEER_BENCH)) \
		$(if $(BENCH_BEFORE),--before $(BENCH_BEFORE)) \
		--gguf-dir $(SHARED)/models --gguf-dir $(LUMEN_CACHE)/synthetic \
		$(BENCH_MODELS)

# ---- make bench-spec: speculative decoding against plain decoding ----
# scripts/bench-spec: lumen bench --spec rows (plain and speculative side
# by side) for stories260K F32/F16/Q8_0 with its Q4_0 draft and n-gram
# lookup, and the Llama-3.2-1B shape's Q8_0 with its Q4_0 self-draft; on
# the host, on the NPU in the guest (the 1B pair in a 4 GiB one) and on
# the modeled glasses NPU. BENCH_SPEC_ARGS="--reps 3 --no-guest ..." to
# shorten it.
BENCH_TARGETS += bench-spec
BENCH_SPEC_BIG := $(BENCH_MODEL_DIR)/Llama-3.2-1B-q8_0.lnpu:$(BENCH_MODEL_DIR)/Llama-3.2-1B-q4_0.lnpu
BENCH_SPEC_ARGS ?=

.PHONY: bench-spec
bench-spec: $(RUNTIME_MODELS) $(subst :, ,$(BENCH_SPEC_BIG)) $(LUMEN_CLI) \
		$(RUNTIME_GUEST_BIN)/lumen $(LUMEN_KO)
	@scripts/bench-spec --lumen $(LUMEN_CLI) --guest-lumen $(RUNTIME_GUEST_BIN)/lumen \
		--ko $(LUMEN_KO) --models $(RUNTIME_MODEL_DIR) --big $(BENCH_SPEC_BIG) \
		$(BENCH_SPEC_ARGS)

# ---- make bench-roundtrip: decode through lumen.ko against the host executor ----
# scripts/bench-roundtrip: tg64 of stories260K and the SmolLM2-135M shape
# (Q8_0, Q4_0, Q4_K_M) on the host executor at 2 threads (the device's cores)
# and on the NPU in the guest, rounds alternating, medians and NPU/host;
# then one traced boot per model: where a token's time goes.
# ROUNDTRIP_GUESTS=LUMEN,KO[,QEMU]=NAME adds another stack (e.g. main's).
ROUNDTRIP_MODELS := $(RUNTIME_MODEL_DIR)/stories260K-q8_0.lnpu \
	$(BENCH_MODEL_DIR)/SmolLM2-135M-q8_0.lnpu $(BENCH_MODEL_DIR)/SmolLM2-135M-q4_0.lnpu \
	$(BENCH_MODEL_DIR)/SmolLM2-135M-q4_k_m.lnpu
BENCH_TARGETS += bench-roundtrip

.PHONY: bench-roundtrip
bench-roundtrip: $(ROUNDTRIP_MODELS) $(LUMEN_CLI) $(RUNTIME_GUEST_BIN)/lumen $(LUMEN_KO)
	@scripts/bench-roundtrip --lumen $(LUMEN_CLI) \
		--guest $(RUNTIME_GUEST_BIN)/lumen,$(LUMEN_KO)=tree \
		$(ROUNDTRIP_GUESTS:%=--guest %) \
		--trace $(BUILD)/runtime/roundtrip-trace $(ROUNDTRIP_MODELS)

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
