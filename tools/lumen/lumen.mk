# tools/lumen: the lumen command (info, run, bench, compile), a program on
# top of liblumen like any other, and its tests.
LUMEN_CLI_SRCS := $(wildcard tools/lumen/*.c)
LUMEN_CLI_OBJS := $(LUMEN_CLI_SRCS:%.c=$(BUILD)/%.o)
LUMEN_CLI := $(BUILD)/tools/lumen/lumen
LUMEN_CLI_SAN := $(BUILD)/tools/lumen/lumen.san
LUMEN_CLI_TEST := $(BUILD)/tools/lumen/lumen-cli-unit-tests
LUMEN_CLI_TEST_SRCS := runtime/tests/test_main.c tools/lumen/tests/test_sha256.c \
	tools/lumen/tests/test_serve.c

# lumen serve (tools/lumen/serve/) on libmicrohttpd and jansson (Debian's
# libmicrohttpd-dev, libjansson-dev): in the host's lumen only, so the
# static guest lumen of npu-e2e.mk needs neither (cmd_serve is weak)
SERVE_SRCS := $(wildcard tools/lumen/serve/*.c)
SERVE_OBJS := $(SERVE_SRCS:%.c=$(BUILD)/%.o)
SERVE_LDLIBS := -lmicrohttpd -ljansson

ALL_TARGETS += $(LUMEN_CLI)
CHECK_SUITES += lumen-cli-unit runtime-cli lumen-chat
INSTALL_TARGETS += install-lumen

$(BUILD)/tools/lumen/%.o: PART_CFLAGS := -I$(TOP)/tools/lumen -I$(TOP)/tools/lumen/serve
$(BUILD)/tools/lumen/%.san.o: PART_CFLAGS := -I$(TOP)/tools/lumen -I$(TOP)/tools/lumen/serve

$(LUMEN_CLI): $(LUMEN_CLI_OBJS) $(SERVE_OBJS) $(RUNTIME_LIB)
	$(CC) -o $@ $^ $(RUNTIME_LDLIBS) $(SERVE_LDLIBS)

$(LUMEN_CLI_SAN): $(LUMEN_CLI_SRCS:%.c=$(BUILD)/%.san.o) \
		$(SERVE_SRCS:%.c=$(BUILD)/%.san.o) $(RUNTIME_LIB_SAN)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(RUNTIME_LDLIBS) $(SERVE_LDLIBS)

$(LUMEN_CLI_TEST): $(LUMEN_CLI_TEST_SRCS:%.c=$(BUILD)/%.o) \
		$(BUILD)/tools/lumen/sha256.o \
		$(filter-out %/serve.o %/serve_http.o %/serve_chat.o,$(SERVE_OBJS)) \
		$(RUNTIME_LIB) $(TEST_LIB)
	$(CC) -o $@ $^ $(RUNTIME_LDLIBS) -ljansson

.PHONY: suite-lumen-cli-unit suite-runtime-cli
suite-lumen-cli-unit: $(LUMEN_CLI_TEST) $(RUNTIME_MODEL_DIR)/stories260K-q8_0.lnpu
	LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) $(LUMEN_CLI_TEST)

# the CLI's error paths under ASan+UBSan, its output with the normal build
suite-runtime-cli: $(LUMEN_CLI) $(LUMEN_CLI_SAN) $(LUMENC) $(RUNTIME_MODELS) \
		$(RUNTIME_SPEC_MODELS) $(GEN_SYNTHETIC)
	SHARED=$(SHARED) LUMEN=$(LUMEN_CLI) LUMEN_SAN=$(LUMEN_CLI_SAN) \
		LUMENC=$(LUMENC) LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) \
		GEN_SYNTHETIC=$(GEN_SYNTHETIC) tools/lumen/tests/cli-tests

# lumen chat through a pseudo-terminal (python3's pty), as a person types
.PHONY: suite-lumen-chat
suite-lumen-chat: $(LUMEN_CLI) $(RUNTIME_MODELS)
	LUMEN=$(LUMEN_CLI) LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) \
		tools/lumen/tests/chat-tests

# lumen and the compiler it runs side by side in bin (the CLI looks for
# lumenc beside itself first, then in the build tree's ../../compiler),
# and lumen(1). lumen links liblumen.a: it needs no library at run time.
.PHONY: install-lumen
install-lumen: $(LUMEN_CLI) $(LUMENC)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(LUMEN_CLI) $(DESTDIR)$(BINDIR)/lumen
	install -m 755 $(LUMENC) $(DESTDIR)$(BINDIR)/lumenc
	install -m 644 runtime/man/lumen.1 $(DESTDIR)$(MANDIR)/man1/

# ---- lumen serve: its tests (the openai npm client, curl), load test, fuzzing ----
# The client is installed from npm outside the checkout by setup-client.
SERVE_TEST_DIR := tools/lumen/tests/serve
SERVE_MODEL := $(RUNTIME_MODEL_DIR)/stories260K-q8_0.lnpu
CHECK_SUITES += serve

.PHONY: suite-serve bench-serve
# the server under ASan+UBSan; it must stop cleanly (and leak nothing)
# (--spec: drafts from stories260K's other quantizations; another
# vocabulary and a file without a verify program are refused)
suite-serve: $(LUMEN_CLI_SAN) $(LUMEN_CLI) $(SERVE_MODEL) $(RUNTIME_MODELS) \
		$(RUNTIME_SPEC_MODELS)
	@dir=$$($(SERVE_TEST_DIR)/setup-client) && \
		LUMEN=$(LUMEN_CLI_SAN) LUMEN_MODEL=$(SERVE_MODEL) LUMEN_OPENAI_DIR=$$dir \
		LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		node --test --test-timeout=120000 --test-reporter=tap $(SERVE_TEST_DIR)/serve-tests.mjs

# 8 clients x 20 streamed requests, all normal, then one high-priority
# client among seven low ones: p50/p99 time to first token and total. On
# stories260K (a token costs about what the client's own work does) and
# on the synthetic stories15M shape (the device dominates).
BENCH_TARGETS += bench-serve
SERVE_BENCH_15M := $(LUMEN_CACHE)/synthetic/stories15M-q8_0.gguf
bench-serve: $(LUMEN_CLI) $(LUMENC) $(SERVE_MODEL) $(SERVE_BENCH_15M)
	@dir=$$($(SERVE_TEST_DIR)/setup-client) && \
		LUMEN_OPENAI_DIR=$$dir node $(SERVE_TEST_DIR)/load.mjs $(LUMEN_CLI) $(SERVE_MODEL) \
		--clients 8 --requests 20 --max-tokens 32 --parallel 4 -- --device cpu -t 1 && \
		LUMEN_OPENAI_DIR=$$dir node $(SERVE_TEST_DIR)/load.mjs $(LUMEN_CLI) $(SERVE_BENCH_15M) \
		--clients 8 --requests 20 --max-tokens 16 --parallel 4 -- --device cpu -t 1 --ctx 256

# lumen serve decoding plainly, with n-gram lookup and with a Q4_0 draft,
# chosen per request on one server, alternating (bench-spec.mjs)
BENCH_TARGETS += bench-serve-spec
.PHONY: bench-serve-spec
bench-serve-spec: $(LUMEN_CLI) $(RUNTIME_MODEL_DIR)/stories260K-f32.lnpu \
		$(RUNTIME_MODEL_DIR)/stories260K-q4_0.lnpu
	@dir=$$($(SERVE_TEST_DIR)/setup-client) && \
		LUMEN_OPENAI_DIR=$$dir node $(SERVE_TEST_DIR)/bench-spec.mjs $(LUMEN_CLI) \
		$(RUNTIME_MODEL_DIR)/stories260K-f32.lnpu $(RUNTIME_MODEL_DIR)/stories260K-q4_0.lnpu \
		-- --device cpu -t 1

# fuzz-serve-request: the request parser and the UTF-8 repair, alone (no
# model, no HTTP); seeded by the committed corpus
SERVE_FUZZ := $(BUILD)/tools/lumen/fuzz-serve-request
CHECK_SUITES += serve-fuzz

$(SERVE_FUZZ): tools/lumen/fuzz/fuzz_serve_request.c tools/lumen/serve/serve_request.c \
		tools/lumen/serve/serve_utf8.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -I$(TOP)/tools/lumen/serve -o $@ $^ -ljansson

.PHONY: fuzz-serve-request suite-serve-fuzz
# a long run: make fuzz-serve-request FUZZ_SECONDS=3600
fuzz-serve-request: $(SERVE_FUZZ)
	@mkdir -p $(BUILD)/tools/lumen/corpus-serve-request
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix=$(BUILD)/tools/lumen/fuzz-serve-request- \
		$(BUILD)/tools/lumen/corpus-serve-request tools/lumen/fuzz/corpus/serve-request

suite-serve-fuzz: $(SERVE_FUZZ)
	@scripts/run-fuzz-suite $(FUZZ_CHECK_SECONDS) $(BUILD)/tools/lumen - \
		serve-request=tools/lumen/fuzz/corpus/serve-request

# lumen serve on the NPU in the QEMU guest and the openai client talking
# to it there (one boot, under a minute); and lumen_session_set_priority()
# reaching the driver (npu-priority-test)
CHECK_SUITES += serve-npu
SERVE_NPU_PRIORITY := $(BUILD)/tools/lumen/npu-priority-test
.PHONY: suite-serve-npu
$(SERVE_NPU_PRIORITY): $(BUILD)/tools/lumen/tests/npu_priority.o $(RUNTIME_LIB)
	$(CC) -o $@ $^ $(RUNTIME_LDLIBS)

suite-serve-npu: $(LUMEN_CLI) $(SERVE_NPU_PRIORITY) $(LUMEN_KO) \
		$(RUNTIME_MODEL_DIR)/stories260K-f32.lnpu
	@dir=$$($(SERVE_TEST_DIR)/setup-client) && \
		LUMEN=$(LUMEN_CLI) NPU_PRIORITY_TEST=$(SERVE_NPU_PRIORITY) \
		LUMEN_KO=$(LUMEN_KO) LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) \
		SHARED=$(SHARED) LUMEN_OPENAI_DIR=$$dir $(SERVE_TEST_DIR)/run-npu

# the load test against lumen serve on the NPU in the QEMU guest (TCG:
# minutes; the client shares the guest's CPUs with QEMU's device model)
BENCH_TARGETS += bench-serve-npu
.PHONY: bench-serve-npu
bench-serve-npu: $(LUMEN_CLI) $(LUMEN_KO) $(RUNTIME_MODEL_DIR)/stories260K-f32.lnpu
	@dir=$$($(SERVE_TEST_DIR)/setup-client) && \
		LUMEN=$(LUMEN_CLI) LUMEN_KO=$(LUMEN_KO) LUMEN_MODEL_DIR=$(RUNTIME_MODEL_DIR) \
		SHARED=$(SHARED) LUMEN_OPENAI_DIR=$$dir $(SERVE_TEST_DIR)/run-npu --bench
