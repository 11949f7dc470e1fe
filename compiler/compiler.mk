# compiler: lumenc (GGUF -> .lnpu), its library, tests and fuzzers;
# models: the synthetic-model generator.
LUMENC_LIB_SRCS := compiler/gguf.c compiler/model.c compiler/llama2c.c \
	compiler/weights.c compiler/plan.c compiler/lower.c \
	compiler/crc32c.c compiler/lnpu_write.c compiler/lnpu_read.c \
	compiler/disasm.c compiler/compile.c compiler/util.c
SYNTH_SRCS := models/synth.c models/gguf_writer.c

LUMENC_LIB := $(BUILD)/compiler/liblumenc.a
LUMENC_LIB_SAN := $(BUILD)/compiler/liblumenc.san.a
LUMENC := $(BUILD)/compiler/lumenc
GEN_SYNTHETIC := $(BUILD)/models/gen-synthetic
COMPILER_TEST := $(BUILD)/compiler/compiler-tests
COMPILER_TEST_SAN := $(BUILD)/compiler/compiler-tests.san
COMPILER_GOLDEN := $(BUILD)/compiler/compiler-golden
COMPILER_BENCH := $(BUILD)/compiler/bench-compile

COMPILER_UNIT_SRCS := compiler/tests/main.c compiler/tests/test_gguf.c \
	compiler/tests/test_malformed.c compiler/tests/test_lnpu.c \
	compiler/tests/test_models.c compiler/tests/tutil.c \
	compiler/tests/gguf_bytes.c compiler/tests/runner.c
COMPILER_GOLDEN_SRCS := compiler/tests/main.c compiler/tests/test_golden.c \
	compiler/tests/test_prefill.c compiler/tests/tutil.c \
	compiler/tests/runner.c compiler/tests/json.c

ALL_TARGETS += $(LUMENC) $(GEN_SYNTHETIC) $(COMPILER_TEST) $(COMPILER_GOLDEN)
CHECK_SUITES += compiler compiler-asan compiler-golden compiler-fuzz
BENCH_TARGETS += bench-compile

# scratch files of the tests stay under the build directory
COMPILER_TEST_ENV := LUMENC_TEST_TMP=$(BUILD)/compiler/tmp

LUMENC_LDLIBS := $(CORE_LDLIBS)

$(BUILD)/compiler/%.o: compiler/%.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -c $< -o $@

$(BUILD)/compiler/%.san.o: compiler/%.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread $(SAN_FLAGS) -c $< -o $@

$(BUILD)/models/%.o: models/%.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread -c $< -o $@

$(BUILD)/models/%.san.o: models/%.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -pthread $(SAN_FLAGS) -c $< -o $@

$(LUMENC_LIB): $(LUMENC_LIB_SRCS:%.c=$(BUILD)/%.o)
	$(AR) rcs $@ $^

$(LUMENC_LIB_SAN): $(LUMENC_LIB_SRCS:%.c=$(BUILD)/%.san.o)
	$(AR) rcs $@ $^

$(LUMENC): $(BUILD)/compiler/main.o $(LUMENC_LIB) $(CORE_LIB)
	$(CC) -pthread -o $@ $^ $(LUMENC_LDLIBS)

$(GEN_SYNTHETIC): $(BUILD)/models/gen_synthetic.o $(SYNTH_SRCS:%.c=$(BUILD)/%.o) \
		$(LUMENC_LIB) $(CORE_LIB)
	$(CC) -pthread -o $@ $^ $(LUMENC_LDLIBS)

$(COMPILER_TEST): $(COMPILER_UNIT_SRCS:%.c=$(BUILD)/%.o) \
		$(SYNTH_SRCS:%.c=$(BUILD)/%.o) $(LUMENC_LIB) $(CORE_LIB) $(TEST_LIB)
	$(CC) -pthread -o $@ $^ $(LUMENC_LDLIBS)

$(COMPILER_TEST_SAN): $(COMPILER_UNIT_SRCS:%.c=$(BUILD)/%.san.o) \
		$(SYNTH_SRCS:%.c=$(BUILD)/%.san.o) $(LUMENC_LIB_SAN) \
		$(CORE_LIB_SAN) $(TEST_LIB_SAN)
	$(CC) -pthread $(SAN_FLAGS) -o $@ $^ $(LUMENC_LDLIBS)

$(COMPILER_GOLDEN): $(COMPILER_GOLDEN_SRCS:%.c=$(BUILD)/%.o) \
		$(LUMENC_LIB) $(CORE_LIB) $(TEST_LIB)
	$(CC) -pthread -o $@ $^ $(LUMENC_LDLIBS)

$(COMPILER_BENCH): $(BUILD)/compiler/tests/bench_compile.o \
		$(SYNTH_SRCS:%.c=$(BUILD)/%.o) $(LUMENC_LIB) $(CORE_LIB)
	$(CC) -pthread -o $@ $^ $(LUMENC_LDLIBS)

# ---- fuzzing: clang's libFuzzer (Debian package libclang-rt-14-dev) ----
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -std=gnu11 -I$(TOP) -I$(TOP)/uapi -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_GGUF := $(BUILD)/compiler/fuzz-gguf
FUZZ_LNPU := $(BUILD)/compiler/fuzz-lnpu
FUZZ_SEEDS := $(BUILD)/compiler/fuzz-seeds
FUZZ_LIB_SRCS := compiler/gguf.c compiler/model.c compiler/lnpu_read.c compiler/util.c \
	compiler/crc32c.c hw/core/lumen_validate.c

$(FUZZ_GGUF): compiler/fuzz/fuzz_gguf.c $(FUZZ_LIB_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ -pthread

$(FUZZ_LNPU): compiler/fuzz/fuzz_lnpu.c $(FUZZ_LIB_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ -pthread

# seeds are made by the test binary at build time, never copied from ../shared
$(FUZZ_SEEDS)/.stamp: $(COMPILER_TEST)
	@rm -rf $(FUZZ_SEEDS) && mkdir -p $(FUZZ_SEEDS)/gguf $(FUZZ_SEEDS)/lnpu
	@mkdir -p $(BUILD)/compiler/tmp
	$(COMPILER_TEST_ENV) LUMENC_SEED_DIR=$(FUZZ_SEEDS) $(COMPILER_TEST) write_fuzz_seeds >/dev/null
	@touch $@

.PHONY: fuzz fuzz-gguf fuzz-lnpu suite-compiler suite-compiler-asan \
	suite-compiler-golden suite-compiler-fuzz bench-compile synthetic-models

fuzz: fuzz-gguf fuzz-lnpu

fuzz-gguf fuzz-lnpu: fuzz-%: $(BUILD)/compiler/fuzz-% $(FUZZ_SEEDS)/.stamp
	@mkdir -p $(BUILD)/compiler/corpus-$*
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix=$(BUILD)/compiler/fuzz-$*- \
		$(BUILD)/compiler/corpus-$* $(FUZZ_SEEDS)/$*

suite-compiler: $(COMPILER_TEST)
	@mkdir -p $(BUILD)/compiler/tmp
	$(COMPILER_TEST_ENV) $(COMPILER_TEST)

suite-compiler-asan: $(COMPILER_TEST_SAN)
	@mkdir -p $(BUILD)/compiler/tmp
	$(COMPILER_TEST_ENV) ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1 $(COMPILER_TEST_SAN)

suite-compiler-golden: $(COMPILER_GOLDEN)
	@mkdir -p $(BUILD)/compiler/tmp
	$(COMPILER_TEST_ENV) $(COMPILER_GOLDEN)

suite-compiler-fuzz: $(FUZZ_GGUF) $(FUZZ_LNPU) $(FUZZ_SEEDS)/.stamp
	@compiler/fuzz/run-fuzz-suite $(FUZZ_SECONDS) $(BUILD)/compiler $(FUZZ_SEEDS)

# The scale check: generate the Llama-3.2-1B-like shape (F16) under
# $(LUMEN_CACHE) and compile it, reporting time and peak RSS.
bench-compile: $(COMPILER_BENCH)
	@mkdir -p $(LUMEN_CACHE)
	$(COMPILER_BENCH) $(LUMEN_CACHE)/synthetic

# All synthetic shapes x {F16, Q8_0, Q4_0}, under $(LUMEN_CACHE)/synthetic.
synthetic-models: $(GEN_SYNTHETIC)
	$(GEN_SYNTHETIC) --all --vocab $(SHARED)/tokenizer/ggml-vocab-llama-spm.gguf \
		-d $(LUMEN_CACHE)/synthetic
