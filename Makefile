# Lumen: the user's entry points. Each part adds its own rules in a
# fragment (isa/isa.mk, formats/formats.mk, hw/exec/exec.mk, ...) and its
# test suites to CHECK_SUITES; "make check" runs them all through
# scripts/run-suites, which ends with "N passed, N failed".
#
# The floors, each building only on those below it (README, "Where things
# live"):   tools -> runtime, compiler -> hw, drivers, formats -> isa -> include

TOP := $(CURDIR)
BUILD := $(TOP)/build
LUMEN_CACHE ?= $(HOME)/.cache/lumen
export LUMEN_CACHE
SHARED ?= $(abspath $(TOP)/../shared)
export SHARED
# make install PREFIX=... [DESTDIR=...]: each part adds its install-*
# target to INSTALL_TARGETS (runtime: liblumen, headers, lumen.pc;
# tools/lumen: lumen and lumenc)
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CC ?= cc
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
# One spelling per header: <drm/lumen_*.h> (the uapi), <lumen/*.h>
# (liblumen's installed API), "lumen_*.h" (isa/), the format headers by
# name (formats/). A part's private headers are found beside its sources.
FLOOR_INCLUDES := -I$(TOP)/include/uapi -I$(TOP)/include -I$(TOP)/isa \
	-I$(TOP)/formats -I$(TOP)/tests/lib
USER_CFLAGS := -std=gnu11 $(WARN) $(FLOOR_INCLUDES) -MMD -MP $(CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g

CHECK_SUITES :=
BENCH_TARGETS :=
ALL_TARGETS :=
INSTALL_TARGETS :=

.PHONY: all check bench clean setup install
all: build-all

# Objects of any part: the part's fragment adds its own flags per target.
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(PART_CFLAGS) -pthread -c $< -o $@

$(BUILD)/%.san.o: %.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(PART_CFLAGS) -pthread $(SAN_FLAGS) -c $< -o $@

include tests/tests.mk
include isa/isa.mk
include formats/formats.mk
include hw/exec/exec.mk
include tools/gen-synthetic/gen-synthetic.mk
include compiler/compiler.mk
include scripts/mk/qemu.mk
include scripts/mk/driver.mk
include runtime/runtime.mk
include tools/lumen/lumen.mk
include tests/guest/guest.mk
include scripts/mk/npu-e2e.mk
include scripts/mk/debug-kernel.mk
include tests/fuzz-driver/fuzz-driver.mk

build-all: $(ALL_TARGETS)

# Installs what is missing (Debian packages); a second run takes about a second.
setup:
	@scripts/setup-deps all

check: setup
	@scripts/run-suites $(CHECK_SUITES)

bench: $(BENCH_TARGETS)

install: $(INSTALL_TARGETS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
