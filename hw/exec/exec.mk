# hw/exec: the NPU's op executor (what the device model runs and the
# runtime's CPU backend links), its tests and its benchmark.
EXEC_SRCS := $(wildcard hw/exec/*.c)
EXEC_LIB := $(BUILD)/hw/exec/liblumenexec.a
EXEC_LIB_SAN := $(BUILD)/hw/exec/liblumenexec.san.a
EXEC_LDLIBS := -pthread -lm
EXEC_INCLUDES := -I$(TOP)/hw/exec

EXEC_TEST_SRCS := $(wildcard hw/exec/tests/*.c)
EXEC_TEST := $(BUILD)/hw/exec/hw-exec-tests
EXEC_TEST_SAN := $(BUILD)/hw/exec/hw-exec-tests.san
EXEC_BENCH := $(BUILD)/hw/exec/bench-hw

ALL_TARGETS += $(EXEC_LIB) $(EXEC_TEST)
CHECK_SUITES += hw-exec hw-exec-asan
BENCH_TARGETS += bench-hw

$(BUILD)/hw/exec/%.o: PART_CFLAGS := $(EXEC_INCLUDES)
# float -> int conversions of guest data are checked too (gcc leaves them
# out of -fsanitize=undefined)
$(BUILD)/hw/exec/%.san.o: PART_CFLAGS := $(EXEC_INCLUDES) -fsanitize=float-cast-overflow

$(EXEC_LIB): $(EXEC_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(EXEC_LIB_SAN): $(EXEC_SRCS:%.c=$(BUILD)/%.san.o)
	@rm -f $@
	$(AR) rcs $@ $^

# the golden dequantization test reads GGUFs (formats/) and JSON (compiler/tests/json.c)
$(EXEC_TEST): $(EXEC_TEST_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/compiler/tests/json.o \
		$(EXEC_LIB) $(FORMATS_LIB) $(ISA_LIB) $(TEST_LIB)
	$(CC) -pthread -o $@ $^ $(EXEC_LDLIBS)

$(EXEC_TEST_SAN): $(EXEC_TEST_SRCS:%.c=$(BUILD)/%.san.o) $(BUILD)/compiler/tests/json.san.o \
		$(EXEC_LIB_SAN) $(FORMATS_LIB_SAN) $(ISA_LIB_SAN) $(TEST_LIB_SAN)
	$(CC) -pthread $(SAN_FLAGS) -o $@ $^ $(EXEC_LDLIBS)

$(EXEC_BENCH): $(BUILD)/hw/exec/bench/bench_hw.o $(EXEC_LIB) $(ISA_LIB)
	$(CC) -pthread -o $@ $^ $(EXEC_LDLIBS)

.PHONY: suite-hw-exec suite-hw-exec-asan bench-hw
suite-hw-exec: $(EXEC_TEST)
	$(EXEC_TEST)

suite-hw-exec-asan: $(EXEC_TEST_SAN)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(EXEC_TEST_SAN)

bench-hw: $(EXEC_BENCH)
	$(EXEC_BENCH)

# ---- fuzzing (clang's libFuzzer; FUZZ_CC, FUZZ_FLAGS in compiler/compiler.mk) ----
# fuzz-exec: structured programs through the validator and the executor,
# every kernel level the CPU has, 1 and 2 threads. The committed corpus in
# hw/exec/fuzz/corpus/exec seeds it; new inputs go to $(BUILD) only.
EXEC_FUZZ := $(BUILD)/hw/exec/fuzz-exec
EXEC_FUZZ_CORPUS := hw/exec/fuzz/corpus/exec
CHECK_SUITES += hw-exec-fuzz

$(EXEC_FUZZ): hw/exec/fuzz/fuzz_exec.c $(EXEC_SRCS) $(ISA_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(EXEC_INCLUDES) -o $@ $^ -pthread -lm

.PHONY: fuzz-exec suite-hw-exec-fuzz
# a long run: make fuzz-exec FUZZ_SECONDS=3600
fuzz-exec: $(EXEC_FUZZ)
	@mkdir -p $(BUILD)/hw/exec/corpus-exec
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix=$(BUILD)/hw/exec/fuzz-exec- \
		$(BUILD)/hw/exec/corpus-exec $(EXEC_FUZZ_CORPUS)

suite-hw-exec-fuzz: $(EXEC_FUZZ)
	@scripts/run-fuzz-suite $(FUZZ_CHECK_SECONDS) $(BUILD)/hw/exec - exec=$(EXEC_FUZZ_CORPUS)
