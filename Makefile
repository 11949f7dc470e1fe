# Lumen: the user's entry points. Each part adds its own rules in a
# fragment (hw/core/core.mk, compiler/compiler.mk, ...) and its test
# suites to CHECK_SUITES; "make check" runs them all through
# scripts/run-suites, which ends with "N passed, N failed".

TOP := $(CURDIR)
BUILD := $(TOP)/build
LUMEN_CACHE ?= $(HOME)/.cache/lumen
export LUMEN_CACHE
SHARED ?= $(abspath $(TOP)/../shared)
export SHARED

CC ?= cc
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
USER_CFLAGS := -std=gnu11 $(WARN) -I$(TOP) -I$(TOP)/uapi -MMD -MP $(CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g

CHECK_SUITES :=
BENCH_TARGETS :=
ALL_TARGETS :=

.PHONY: all check bench clean setup
all: build-all

include tests/tests.mk
include hw/core/core.mk
-include compiler/compiler.mk
-include hw/qemu/qemu.mk
-include drivers/accel/lumen/driver.mk
-include runtime/runtime.mk
-include tests/guest/guest.mk

build-all: $(ALL_TARGETS)

# Installs what is missing (Debian packages); a second run takes about a second.
setup:
	@scripts/setup-deps all

check: setup
	@scripts/run-suites $(CHECK_SUITES)

bench: $(BENCH_TARGETS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
