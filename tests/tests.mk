# The userspace test runner, linked into every test binary.
TEST_LIB := $(BUILD)/tests/lib/lumen_test.o
TEST_LIB_SAN := $(BUILD)/tests/lib/lumen_test.san.o

# The security review's proof-of-concept harnesses ($(SHARED)/reviews/poc),
# rebuilt against this tree under ASan and UBSan: none may report.
CHECK_SUITES += review-pocs
.PHONY: suite-review-pocs
suite-review-pocs:
	@SHARED=$(SHARED) scripts/tests/review-pocs
