# hw/core: the op executor library, its tests and its benchmark.
CORE_SRCS := $(wildcard hw/core/*.c)
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
CORE_SAN_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.san.o)
CORE_LIB := $(BUILD)/hw/core/liblumencore.a
CORE_LIB_SAN := $(BUILD)/hw/core/liblumencore.san.a
CORE_LDLIBS := -pthread -lm
CORE_CFLAGS := -pthread

CORE_TEST_SRCS := $(wildcard hw/core/tests/*.c)
CORE_TEST := $(BUILD)/hw/core/hw-core-tests
CORE_TEST_SAN := $(BUILD)/hw/core/hw-core-tests.san
CORE_BENCH := $(BUILD)/hw/core/bench-hw

ALL_TARGETS += $(CORE_LIB) $(CORE_TEST)
CHECK_SUITES += hw-core hw-core-asan
BENCH_TARGETS += bench-hw

$(BUILD)/hw/core/%.o: hw/core/%.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CORE_CFLAGS) -c $< -o $@

$(BUILD)/hw/core/%.san.o: hw/core/%.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CORE_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	$(AR) rcs $@ $^

$(CORE_LIB_SAN): $(CORE_SAN_OBJS)
	$(AR) rcs $@ $^

$(CORE_TEST): $(CORE_TEST_SRCS:%.c=$(BUILD)/%.o) $(CORE_LIB) $(TEST_LIB)
	$(CC) $(CORE_CFLAGS) -o $@ $^ $(CORE_LDLIBS)

$(CORE_TEST_SAN): $(CORE_TEST_SRCS:%.c=$(BUILD)/%.san.o) $(CORE_LIB_SAN) $(TEST_LIB_SAN)
	$(CC) $(CORE_CFLAGS) $(SAN_FLAGS) -o $@ $^ $(CORE_LDLIBS)

$(CORE_BENCH): hw/core/bench/bench_hw.c $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(CORE_CFLAGS) -o $@ $^ $(CORE_LDLIBS)

.PHONY: suite-hw-core suite-hw-core-asan bench-hw
suite-hw-core: $(CORE_TEST)
	$(CORE_TEST)

suite-hw-core-asan: $(CORE_TEST_SAN)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(CORE_TEST_SAN)

bench-hw: $(CORE_BENCH)
	$(CORE_BENCH)
