# formats/: the userspace file formats every tool uses: the .lnpu container
# (reader, writer pieces, CRC32C), GGUF (reader, writer, the one
# GGUF->vocabulary extraction) and their shared byte helpers. Needs isa/.
FORMATS_SRCS := $(wildcard formats/*.c)
FORMATS_LIB := $(BUILD)/formats/liblumenformats.a
FORMATS_LIB_SAN := $(BUILD)/formats/liblumenformats.san.a

$(FORMATS_LIB): $(FORMATS_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(FORMATS_LIB_SAN): $(FORMATS_SRCS:%.c=$(BUILD)/%.san.o)
	@rm -f $@
	$(AR) rcs $@ $^

FORMATS_TEST_SRCS := $(wildcard formats/tests/*.c)
FORMATS_TEST := $(BUILD)/formats/formats-tests
FORMATS_TEST_SAN := $(BUILD)/formats/formats-tests.san

ALL_TARGETS += $(FORMATS_TEST)
CHECK_SUITES += formats formats-asan

$(FORMATS_TEST): $(FORMATS_TEST_SRCS:%.c=$(BUILD)/%.o) $(FORMATS_LIB) $(ISA_LIB) $(TEST_LIB)
	$(CC) -o $@ $^ -lm

$(FORMATS_TEST_SAN): $(FORMATS_TEST_SRCS:%.c=$(BUILD)/%.san.o) $(FORMATS_LIB_SAN) \
		$(ISA_LIB_SAN) $(TEST_LIB_SAN)
	$(CC) $(SAN_FLAGS) -o $@ $^ -lm

.PHONY: suite-formats suite-formats-asan
suite-formats: $(FORMATS_TEST)
	$(FORMATS_TEST)

suite-formats-asan: $(FORMATS_TEST_SAN)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(FORMATS_TEST_SAN)
