# tools/gen-synthetic: seeded random-weight GGUF models of real shapes, for
# speed and scale work. The compiler's tests link its model maker (synth.c).
SYNTH_SRCS := tools/gen-synthetic/synth.c
SYNTH_OBJS := $(SYNTH_SRCS:%.c=$(BUILD)/%.o)
SYNTH_SAN_OBJS := $(SYNTH_SRCS:%.c=$(BUILD)/%.san.o)
SYNTH_INCLUDES := -I$(TOP)/tools/gen-synthetic
GEN_SYNTHETIC := $(BUILD)/tools/gen-synthetic/gen-synthetic

ALL_TARGETS += $(GEN_SYNTHETIC)

$(GEN_SYNTHETIC): $(BUILD)/tools/gen-synthetic/gen_synthetic.o $(SYNTH_OBJS) \
		$(FORMATS_LIB) $(ISA_LIB)
	$(CC) -o $@ $^ -lm

.PHONY: synthetic-models
# All synthetic shapes x {F16, Q8_0, Q4_0}, under $(LUMEN_CACHE)/synthetic.
synthetic-models: $(GEN_SYNTHETIC)
	$(GEN_SYNTHETIC) --all --vocab $(SHARED)/tokenizer/ggml-vocab-llama-spm.gguf \
		-d $(LUMEN_CACHE)/synthetic
