# compiler: lumenc (GGUF / llama2.c -> .lnpu), its library, tests and fuzzers.
LUMENC_LIB_SRCS := compiler/model.c compiler/llama2c.c compiler/weights.c \
	compiler/plan.c compiler/lower.c compiler/lnpu_write.c compiler/disasm.c \
	compiler/compile.c

LUMENC_LIB := $(BUILD)/compiler/liblumenc.a
LUMENC_LIB_SAN := $(BUILD)/compiler/liblumenc.san.a
LUMENC := $(BUILD)/compiler/lumenc
COMPILER_TEST := $(BUILD)/compiler/compiler-tests
COMPILER_TEST_SAN := $(BUILD)/compiler/compiler-tests.san
COMPILER_GOLDEN := $(BUILD)/compiler/compiler-golden
COMPILER_BENCH := $(BUILD)/compiler/bench-compile

COMPILER_UNIT_SRCS := compiler/tests/main.c compiler/tests/test_gguf.c \
	compiler/tests/test_malformed.c compiler/tests/test_lnpu.c \
	compiler/tests/test_models.c compiler/tests/tutil.c \
	compiler/tests/gguf_bytes.c compiler/tests/runner.c \
	compiler/tests/test_rope_scaling.c
COMPILER_GOLDEN_SRCS := compiler/tests/main.c compiler/tests/test_golden.c \
	compiler/tests/test_prefill.c compiler/tests/tutil.c \
	compiler/tests/runner.c compiler/tests/json.c

ALL_TARGETS += $(LUMENC) $(COMPILER_TEST) $(COMPILER_GOLDEN)
CHECK_SUITES += compiler compiler-asan compiler-golden compiler-fuzz
BENCH_TARGETS += bench-compile

# scratch files of the tests stay under the build directory
COMPILER_TEST_ENV := LUMENC_TEST_TMP=$(BUILD)/compiler/tmp

# the compiler stands on formats/ and isa/; its tests also run programs on
# the executor (tests/runner.c) and make models with the generator
LUMENC_DEPS := $(LUMENC_LIB) $(FORMATS_LIB) $(ISA_LIB)
LUMENC_DEPS_SAN := $(LUMENC_LIB_SAN) $(FORMATS_LIB_SAN) $(ISA_LIB_SAN)
LUMENC_LDLIBS := -pthread -lm
$(BUILD)/compiler/tests/%.o: PART_CFLAGS := -I$(TOP)/compiler $(EXEC_INCLUDES) $(SYNTH_INCLUDES)
$(BUILD)/compiler/tests/%.san.o: PART_CFLAGS := -I$(TOP)/compiler $(EXEC_INCLUDES) $(SYNTH_INCLUDES)

$(LUMENC_LIB): $(LUMENC_LIB_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(LUMENC_LIB_SAN): $(LUMENC_LIB_SRCS:%.c=$(BUILD)/%.san.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(LUMENC): $(BUILD)/compiler/main.o $(LUMENC_DEPS)
	$(CC) -pthread -o $@ $^ $(LUMENC_LDLIBS)

$(COMPILER_TEST): $(COMPILER_UNIT_SRCS:%.c=$(BUILD)/%.o) $(SYNTH_OBJS) \
		$(LUMENC_DEPS) $(EXEC_LIB) $(ISA_LIB) $(TEST_LIB)
	$(CC) -pthread -o $@ $^ $(LUMENC_LDLIBS)

$(COMPILER_TEST_SAN): $(COMPILER_UNIT_SRCS:%.c=$(BUILD)/%.san.o) $(SYNTH_SAN_OBJS) \
		$(LUMENC_DEPS_SAN) $(EXEC_LIB_SAN) $(ISA_LIB_SAN) $(TEST_LIB_SAN)
	$(CC) -pthread $(SAN_FLAGS) -o $@ $^ $(LUMENC_LDLIBS)

$(COMPILER_GOLDEN): $(COMPILER_GOLDEN_SRCS:%.c=$(BUILD)/%.o) \
		$(LUMENC_DEPS) $(EXEC_LIB) $(ISA_LIB) $(TEST_LIB)
	$(CC) -pthread -o $@ $^ $(LUMENC_LDLIBS)

$(COMPILER_BENCH): $(BUILD)/compiler/tests/bench_compile.o $(SYNTH_OBJS) $(LUMENC_DEPS)
	$(CC) -pthread -o $@ $^ $(LUMENC_LDLIBS)

# ---- fuzzing: clang's libFuzzer (Debian package libclang-rt-14-dev) ----
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -std=gnu11 $(FLOOR_INCLUDES) -I$(TOP)/compiler -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $(FUZZ_EXTRA_FLAGS)
FUZZ_GGUF := $(BUILD)/compiler/fuzz-gguf
FUZZ_LNPU := $(BUILD)/compiler/fuzz-lnpu
FUZZ_SEEDS := $(BUILD)/compiler/fuzz-seeds
FUZZ_LIB_SRCS := compiler/model.c $(FORMATS_SRCS) $(ISA_SRCS)

$(FUZZ_GGUF): compiler/fuzz/fuzz_gguf.c $(FUZZ_LIB_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ -pthread -lm

$(FUZZ_LNPU): compiler/fuzz/fuzz_lnpu.c $(FUZZ_LIB_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ -pthread -lm

# the llama2.c reader (+ lowering) and the whole compile round trip
# GGUF -> model -> lower -> .lnpu write -> read; corpora committed in
# compiler/fuzz/corpus/<target>, the round trip also seeded by the GGUF seeds
FUZZ_CHECK_SECONDS ?= 25
FUZZ_LLAMA2C := $(BUILD)/compiler/fuzz-llama2c
FUZZ_LOWER := $(BUILD)/compiler/fuzz-lower
FUZZ_PIPE_SRCS := $(filter-out compiler/main.c,$(wildcard compiler/*.c)) \
	$(FORMATS_SRCS) $(ISA_SRCS)

$(FUZZ_LLAMA2C): compiler/fuzz/fuzz_llama2c.c $(FUZZ_PIPE_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ -pthread -lm

# structured inputs are small models written by gen-synthetic's synth.c
$(FUZZ_LOWER): compiler/fuzz/fuzz_lower.c tools/gen-synthetic/synth.c $(FUZZ_PIPE_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -I$(TOP)/tools/gen-synthetic \
		-DLUMEN_FUZZ_VOCAB='"$(SHARED)/tokenizer/ggml-vocab-llama-spm.gguf"' \
		-o $@ $^ -pthread -lm

# seeds are made by the test binary at build time, never copied from ../shared
$(FUZZ_SEEDS)/.stamp: $(COMPILER_TEST)
	@rm -rf $(FUZZ_SEEDS) && mkdir -p $(FUZZ_SEEDS)/gguf $(FUZZ_SEEDS)/lnpu
	@mkdir -p $(BUILD)/compiler/tmp
	$(COMPILER_TEST_ENV) LUMENC_SEED_DIR=$(FUZZ_SEEDS) $(COMPILER_TEST) write_fuzz_seeds >/dev/null
	@touch $@

.PHONY: fuzz fuzz-gguf fuzz-lnpu fuzz-llama2c fuzz-lower suite-compiler suite-compiler-asan \
	suite-compiler-golden suite-compiler-fuzz bench-compile

fuzz: fuzz-gguf fuzz-lnpu fuzz-llama2c fuzz-lower fuzz-exec fuzz-tokenizer

# the lines and branches the host fuzzers reach, per directory
# (make fuzz-coverage FUZZ_SECONDS=600: each target that long)
.PHONY: fuzz-coverage
fuzz-coverage:
	@scripts/fuzz-coverage --seconds $(FUZZ_SECONDS) $(BUILD)/fuzz-coverage

# long runs: make fuzz-llama2c FUZZ_SECONDS=3600 (new inputs stay in $(BUILD))
fuzz-llama2c fuzz-lower: fuzz-%: $(BUILD)/compiler/fuzz-% $(FUZZ_SEEDS)/.stamp
	@mkdir -p $(BUILD)/compiler/corpus-$*
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix=$(BUILD)/compiler/fuzz-$*- \
		$(BUILD)/compiler/corpus-$* compiler/fuzz/corpus/$* \
		$(if $(filter lower,$*),$(FUZZ_SEEDS)/gguf)

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

suite-compiler-fuzz: $(FUZZ_GGUF) $(FUZZ_LNPU) $(FUZZ_LLAMA2C) $(FUZZ_LOWER) $(FUZZ_SEEDS)/.stamp
	@scripts/run-fuzz-suite $(FUZZ_SECONDS) $(BUILD)/compiler $(FUZZ_SEEDS) gguf lnpu
	@scripts/run-fuzz-suite $(FUZZ_CHECK_SECONDS) $(BUILD)/compiler - \
		llama2c=compiler/fuzz/corpus/llama2c \
		lower=compiler/fuzz/corpus/lower:$(FUZZ_SEEDS)/gguf

# The scale check: generate the Llama-3.2-1B shape (F16) under
# $(LUMEN_CACHE) and compile it, reporting time and peak RSS.
bench-compile: $(COMPILER_BENCH)
	@mkdir -p $(LUMEN_CACHE)
	$(COMPILER_BENCH) $(LUMEN_CACHE)/synthetic
