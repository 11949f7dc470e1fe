# The userspace test runner, linked into every test binary.
TEST_LIB := $(BUILD)/tests/lib/lumen_test.o
TEST_LIB_SAN := $(BUILD)/tests/lib/lumen_test.san.o
