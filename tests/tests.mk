# The userspace test runner, linked into every test binary.
TEST_LIB := $(BUILD)/tests/lumen_test.o
TEST_LIB_SAN := $(BUILD)/tests/lumen_test.san.o

$(BUILD)/tests/lumen_test.o: tests/lib/lumen_test.c tests/lib/lumen_test.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/tests/lumen_test.san.o: tests/lib/lumen_test.c tests/lib/lumen_test.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -c $< -o $@
