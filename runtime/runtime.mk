# runtime/: liblumen (the library), its tests and the demos. The library
# carries everything it needs: the runtime's own objects, formats/ (the
# .lnpu reader), isa/ and the hw/exec executor (the CPU backend), so a
# program links -llumen alone (see lumen.pc). The CLI is tools/lumen/.
#
# Its ABI is the functions of include/lumen/*.h, listed in
# runtime/liblumen.map; everything else is local in both libraries:
# - liblumen.so.$(RUNTIME_VERSION) (SONAME liblumen.so.0): linked from -fPIC
#   objects with the map as version script;
# - liblumen.a: one relocatable object (ld -r of all the objects) whose
#   symbols outside the map are made local (objcopy --keep-global-symbols),
#   so an application can neither bind to nor clash with an internal
#   (lumen_exec_*, gguf_*, lnpu_*, ...). This does not depend on how the
#   lower floors are compiled (no -fvisibility needed in isa/, formats/,
#   hw/exec).
# liblumen-internal.a keeps every symbol global, for the white-box tests
# (tokenizer internals, the GGUF reader), like the sanitizer archive.

# the NPU backend: libdrm and liburing (Debian's libdrm-dev, liburing-dev)
RUNTIME_CFLAGS := -pthread -I/usr/include/libdrm -I$(TOP)/runtime $(EXEC_INCLUDES)
RUNTIME_LDLIBS := -ldrm -luring -pthread -lm

# tokenizer (SentencePiece BPE, BPE with llama.cpp's pre-tokenizers) and
# sampling: plain C11
RUNTIME_SRCS := \
	runtime/unicode.c \
	runtime/unicode_data.c \
	runtime/pretok.c \
	runtime/tokenizer_vocab.c \
	runtime/tokenizer_merge.c \
	runtime/tokenizer_spm.c \
	runtime/tokenizer_bpe.c \
	runtime/tokenizer.c \
	runtime/sampling.c
# devices, backends, models, sessions, generation
RUNTIME_SRCS += \
	runtime/error.c \
	runtime/device.c \
	runtime/backend_cpu.c \
	runtime/host_memory.c \
	runtime/backend_npu.c \
	runtime/backend_npu_submit.c \
	runtime/model.c \
	runtime/model_dtypes.c \
	runtime/kv_resize.c \
	runtime/decode_chain.c \
	runtime/memory.c \
	runtime/session.c \
	runtime/modeled.c \
	runtime/generate.c \
	runtime/chat.c \
	runtime/speculative.c \
	runtime/speculative_accept.c \
	runtime/speculative_ngram.c \
	runtime/speculative_draft.c

RUNTIME_TEST_SRCS := \
	runtime/tests/test_main.c \
	runtime/tests/vocab_gguf.c \
	runtime/tests/test_tokenizer.c \
	runtime/tests/test_sampling.c \
	runtime/tests/test_chat.c \
	runtime/tests/test_speculative.c \
	runtime/tests/test_modeled.c \
	runtime/tests/test_model_dtypes.c \
	runtime/tests/test_decode_chain.c \
	runtime/tests/test_host_memory.c

RUNTIME_GOLDEN_SRCS := \
	runtime/tests/golden.c \
	runtime/tests/test_golden.c

RUNTIME_API_SRCS := \
	runtime/tests/test_main.c \
	runtime/tests/test_api.c \
	runtime/tests/test_spec_api.c

RUNTIME_NPU_TEST_SRCS := \
	runtime/tests/test_main.c \
	runtime/tests/test_npu.c

RUNTIME_OBJS = $(RUNTIME_SRCS:%.c=$(BUILD)/%.o) $(FORMATS_SRCS:%.c=$(BUILD)/%.o) \
	$(ISA_SRCS:%.c=$(BUILD)/%.o) $(EXEC_SRCS:%.c=$(BUILD)/%.o)
RUNTIME_SAN_OBJS = $(RUNTIME_SRCS:%.c=$(BUILD)/%.san.o) \
	$(FORMATS_SRCS:%.c=$(BUILD)/%.san.o) $(ISA_SRCS:%.c=$(BUILD)/%.san.o) \
	$(EXEC_SRCS:%.c=$(BUILD)/%.san.o)
RUNTIME_PIC_OBJS = $(RUNTIME_OBJS:%.o=%.pic.o)
RUNTIME_VERSION := $(shell sed -n 's/.*LUMEN_VERSION_STRING "\(.*\)"/\1/p' include/lumen/lumen.h)
RUNTIME_SOVERSION := 0
RUNTIME_MAP := runtime/liblumen.map
RUNTIME_SYMS := $(BUILD)/runtime/liblumen.syms
RUNTIME_LIB := $(BUILD)/runtime/liblumen.a
RUNTIME_LIB_OBJ := $(BUILD)/runtime/liblumen.o
RUNTIME_LIB_INTERNAL := $(BUILD)/runtime/liblumen-internal.a
RUNTIME_LIB_SAN := $(BUILD)/runtime/liblumen.san.a
RUNTIME_SONAME := liblumen.so.$(RUNTIME_SOVERSION)
RUNTIME_SO_FILE := liblumen.so.$(RUNTIME_VERSION)
RUNTIME_SO := $(BUILD)/runtime/$(RUNTIME_SO_FILE)
RUNTIME_SO_LINKS := $(BUILD)/runtime/$(RUNTIME_SONAME) $(BUILD)/runtime/liblumen.so
RUNTIME_PC := $(BUILD)/runtime/lumen.pc
OBJCOPY ?= objcopy
RUNTIME_TEST := $(BUILD)/runtime/runtime-unit-tests
RUNTIME_TEST_SAN := $(BUILD)/runtime/runtime-unit-tests.san
RUNTIME_GOLDEN := $(BUILD)/runtime/runtime-golden-tests
RUNTIME_API := $(BUILD)/runtime/runtime-api-tests
RUNTIME_API_SAN := $(BUILD)/runtime/runtime-api-tests.san

# stories260K compiled by lumenc, for the tests and the demo
RUNTIME_QUANTS := f32 f16 q8_0 q4_0
RUNTIME_MODEL_DIR := $(BUILD)/runtime/models
# synthetic models live apart from the test models: the guest suites copy
# the whole test-model directory into the guest
RUNTIME_SYNTH_DIR := $(BUILD)/runtime/synthetic
RUNTIME_MODELS := $(RUNTIME_QUANTS:%=$(RUNTIME_MODEL_DIR)/stories260K-%.lnpu)
# for the speculative-decoding API tests: a file without a verify program,
# a model of another vocabulary, and one whose verify program leaves no
# top-k (sampled verification then reads whole rows)
RUNTIME_SPEC_MODELS := $(RUNTIME_MODEL_DIR)/stories260K-q8_0-noverify.lnpu \
	$(RUNTIME_MODEL_DIR)/llama-2-tiny-random.lnpu \
	$(RUNTIME_MODEL_DIR)/stories260K-f32-notopk.lnpu
# every model of $(SHARED)/golden-arch, from the one list the golden
# tests use (tests/lib/golden_arch.h)
RUNTIME_ARCH_MODELS := $(patsubst %,$(RUNTIME_MODEL_DIR)/%.lnpu,$(shell \
	sed -n 's/^.*X([a-z0-9_]*, "\([^"]*\)", [01]).*$$/\1/p' tests/lib/golden_arch.h))

ALL_TARGETS += $(RUNTIME_LIB) $(RUNTIME_SO) $(RUNTIME_SO_LINKS) $(RUNTIME_PC) \
	$(RUNTIME_TEST)
CHECK_SUITES += runtime-unit runtime-unit-asan runtime-api runtime-api-asan \
	runtime-golden runtime-install runtime-valgrind
INSTALL_TARGETS += install-runtime

$(BUILD)/runtime/%.o: PART_CFLAGS := $(RUNTIME_CFLAGS)
$(BUILD)/runtime/%.san.o: PART_CFLAGS := $(RUNTIME_CFLAGS)

# position-independent objects of any part, for liblumen.so
$(BUILD)/%.pic.o: %.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(PART_CFLAGS) -pthread -fPIC -c $< -o $@

# the map's names, one a line: what liblumen.a keeps global
$(RUNTIME_SYMS): $(RUNTIME_MAP)
	@mkdir -p $(@D)
	sed -n 's/^[[:space:]]*\(lumen_[a-z0-9_]*\);.*/\1/p' $< > $@

$(RUNTIME_LIB): $(RUNTIME_OBJS) $(RUNTIME_SYMS)
	@rm -f $@ $(RUNTIME_LIB_OBJ)
	$(CC) -r -nostdlib -o $(RUNTIME_LIB_OBJ) $(RUNTIME_OBJS)
	$(OBJCOPY) --keep-global-symbols=$(RUNTIME_SYMS) $(RUNTIME_LIB_OBJ)
	$(AR) rcs $@ $(RUNTIME_LIB_OBJ)

$(RUNTIME_LIB_INTERNAL): $(RUNTIME_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(RUNTIME_SO): $(RUNTIME_PIC_OBJS) $(RUNTIME_MAP)
	$(CC) -shared -Wl,-soname,$(RUNTIME_SONAME) \
		-Wl,--version-script=$(RUNTIME_MAP) -Wl,--no-undefined \
		-o $@ $(RUNTIME_PIC_OBJS) $(RUNTIME_LDLIBS)

$(BUILD)/runtime/$(RUNTIME_SONAME): $(RUNTIME_SO)
	ln -sf $(RUNTIME_SO_FILE) $@

$(BUILD)/runtime/liblumen.so: $(BUILD)/runtime/$(RUNTIME_SONAME)
	ln -sf $(RUNTIME_SONAME) $@

$(RUNTIME_LIB_SAN): $(RUNTIME_SAN_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# lumen.pc from lumen.pc.in: $(call lumen_pc,prefix,libdir,includedir)
lumen_pc = sed -e 's|@prefix@|$(1)|' -e 's|@libdir@|$(2)|' \
	-e 's|@includedir@|$(3)|' -e 's|@version@|$(RUNTIME_VERSION)|' \
	runtime/lumen.pc.in

# uninstalled: points at the checkout and the build directory
$(RUNTIME_PC): runtime/lumen.pc.in runtime/runtime.mk include/lumen/lumen.h
	@mkdir -p $(@D)
	$(call lumen_pc,$(TOP),$(BUILD)/runtime,$(TOP)/include) > $@

# installed: the headers as <lumen/...>, both libraries, lumen.pc with
# paths under ${prefix}, liblumen(3)
PC_LIBDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR := $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

.PHONY: install-runtime
install-runtime: $(RUNTIME_LIB) $(RUNTIME_SO) runtime/lumen.pc.in
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/lumen $(DESTDIR)$(MANDIR)/man3
	install -m 644 include/lumen/*.h $(DESTDIR)$(INCLUDEDIR)/lumen/
	install -m 644 $(RUNTIME_LIB) $(DESTDIR)$(LIBDIR)/liblumen.a
	install -m 755 $(RUNTIME_SO) $(DESTDIR)$(LIBDIR)/$(RUNTIME_SO_FILE)
	ln -sf $(RUNTIME_SO_FILE) $(DESTDIR)$(LIBDIR)/$(RUNTIME_SONAME)
	ln -sf $(RUNTIME_SONAME) $(DESTDIR)$(LIBDIR)/liblumen.so
	$(call lumen_pc,$(PREFIX),$(PC_LIBDIR),$(PC_INCLUDEDIR)) \
		> $(DESTDIR)$(PKGCONFIGDIR)/lumen.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/lumen.pc
	install -m 644 runtime/man/liblumen.3 \
		runtime/man/lumen_chat_apply_template.3 $(DESTDIR)$(MANDIR)/man3/

$(RUNTIME_TEST): $(RUNTIME_TEST_SRCS:%.c=$(BUILD)/%.o) $(RUNTIME_LIB_INTERNAL) $(TEST_LIB)
	$(CC) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_TEST_SAN): $(RUNTIME_TEST_SRCS:%.c=$(BUILD)/%.san.o) \
		$(RUNTIME_LIB_SAN) $(TEST_LIB_SAN)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_GOLDEN): $(RUNTIME_GOLDEN_SRCS:%.c=$(BUILD)/%.o) $(RUNTIME_LIB) $(TEST_LIB)
	$(CC) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_API): $(RUNTIME_API_SRCS:%.c=$(BUILD)/%.o) $(RUNTIME_LIB) $(TEST_LIB)
	$(CC) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_API_SAN): $(RUNTIME_API_SRCS:%.c=$(BUILD)/%.san.o) $(RUNTIME_LIB_SAN) \
		$(TEST_LIB_SAN)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(RUNTIME_LDLIBS)

$(RUNTIME_MODEL_DIR)/stories260K-%.lnpu: $(SHARED)/models/stories260K-%.gguf $(LUMENC)
	@mkdir -p $(@D)
	$(LUMENC) $< -o $@ --quiet

$(RUNTIME_MODEL_DIR)/stories260K-q8_0-noverify.lnpu: \
		$(SHARED)/models/stories260K-q8_0.gguf $(LUMENC)
	@mkdir -p $(@D)
	$(LUMENC) $< -o $@ --quiet --draft-max 0

$(RUNTIME_MODEL_DIR)/stories260K-f32-notopk.lnpu: \
		$(SHARED)/models/stories260K-f32.gguf $(LUMENC)
	@mkdir -p $(@D)
	$(LUMENC) $< -o $@ --quiet --verify-topk 0

$(RUNTIME_MODEL_DIR)/llama-2-tiny-random.lnpu: \
		$(SHARED)/models/llama-2-tiny-random.gguf $(LUMENC)
	@mkdir -p $(@D)
	$(LUMENC) $< -o $@ --quiet

$(RUNTIME_MODEL_DIR)/%.lnpu: $(SHARED)/golden-arch/%.gguf $(LUMENC)
	@mkdir -p $(@D)
	$(LUMENC) $< -o $@ --quiet

# the tests read $(SHARED) (tokenizer vectors, models, golden outputs)
.PHONY: suite-runtime-unit suite-runtime-unit-asan suite-runtime-golden \
	suite-runtime-api suite-runtime-api-asan suite-runtime-install runtime-models
runtime-models: $(RUNTIME_MODELS)

suite-runtime-unit: $(RUNTIME_TEST)
	SHARED=$(SHARED) $(RUNTIME_TEST)

# the tokenizer tests under valgrind, over a few vocabularies (SentencePiece,
# byte-level BPE, Gemma's BPE form) and the pre-tokenizers, and one model
# load: memcheck sees what ASan's instrumentation does not (reads past
# token texts that are not NUL-terminated, in uninstrumented libc such as
# sscanf, once at every model load)
RUNTIME_VALGRIND_FILTERS := _llama_spm _gpt2 _qwen2 _gemma3 pretok special_tokens chat_template
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite
.PHONY: suite-runtime-valgrind
suite-runtime-valgrind: $(RUNTIME_TEST) $(RUNTIME_API) $(RUNTIME_MODELS)
	@set -e; for f in $(RUNTIME_VALGRIND_FILTERS); do \
		SHARED=$(SHARED) $(VALGRIND) $(RUNTIME_TEST) $$f; \
	done
	LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) $(VALGRIND) $(RUNTIME_API) weights_are_used

suite-runtime-unit-asan: $(RUNTIME_TEST_SAN)
	SHARED=$(SHARED) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(RUNTIME_TEST_SAN)

suite-runtime-golden: $(RUNTIME_GOLDEN) $(RUNTIME_MODELS) $(RUNTIME_ARCH_MODELS)
	SHARED=$(SHARED) LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) $(RUNTIME_GOLDEN)

suite-runtime-api: $(RUNTIME_API) $(RUNTIME_MODELS) $(RUNTIME_SPEC_MODELS)
	LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) $(RUNTIME_API)

# make install into a temporary prefix, the ABI of both libraries, a
# program built with pkg-config alone (shared, static, uninstalled)
suite-runtime-install: $(RUNTIME_LIB) $(RUNTIME_SO_LINKS) $(RUNTIME_PC) \
		$(LUMEN_CLI) $(LUMENC) $(RUNTIME_MODELS)
	TOP=$(TOP) BUILD=$(BUILD) MAKE="$(MAKE)" CC="$(CC)" SHARED=$(SHARED) \
		LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) runtime/tests/install-tests

suite-runtime-api-asan: $(RUNTIME_API_SAN) $(RUNTIME_MODELS) $(RUNTIME_SPEC_MODELS)
	LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1 $(RUNTIME_API_SAN)


# ---- fuzzing (clang's libFuzzer; FUZZ_CC, FUZZ_FLAGS in compiler/compiler.mk) ----
# fuzz-tokenizer: fuzzed vocabularies and texts through <lumen/tokenizer.h>
# only (the tokenizer internals are not part of the contract). The
# committed corpus in runtime/fuzz/corpus/tokenizer seeds it.
RUNTIME_FUZZ_TOK := $(BUILD)/runtime/fuzz-tokenizer
RUNTIME_FUZZ_TOK_SRCS := runtime/fuzz/fuzz_tokenizer.c runtime/unicode.c \
	runtime/unicode_data.c runtime/pretok.c $(wildcard runtime/tokenizer*.c) runtime/error.c
CHECK_SUITES += runtime-fuzz

$(RUNTIME_FUZZ_TOK): $(RUNTIME_FUZZ_TOK_SRCS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -I$(TOP)/runtime -I$(TOP)/hw/exec -o $@ $^ -pthread -lm

.PHONY: fuzz-tokenizer suite-runtime-fuzz
# a long run: make fuzz-tokenizer FUZZ_SECONDS=3600
fuzz-tokenizer: $(RUNTIME_FUZZ_TOK)
	@mkdir -p $(BUILD)/runtime/corpus-tokenizer
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix=$(BUILD)/runtime/fuzz-tokenizer- \
		$(BUILD)/runtime/corpus-tokenizer runtime/fuzz/corpus/tokenizer

suite-runtime-fuzz: $(RUNTIME_FUZZ_TOK)
	@scripts/run-fuzz-suite $(FUZZ_CHECK_SECONDS) $(BUILD)/runtime - \
		tokenizer=runtime/fuzz/corpus/tokenizer:runtime/fuzz/known
