# isa/: the chip's contract, below every part: the register map, the one
# program validator, the per-opcode table, the dtype row code and the
# program builders. Userspace links it as liblumenisa.a; the kernel driver
# and the QEMU device get exported copies (scripts/export-kernel,
# scripts/build-qemu).
ISA_SRCS := isa/lumen_validate.c isa/lumen_ops.c isa/lumen_dtype.c
ISA_LIB := $(BUILD)/isa/liblumenisa.a
ISA_LIB_SAN := $(BUILD)/isa/liblumenisa.san.a

$(ISA_LIB): $(ISA_SRCS:%.c=$(BUILD)/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(ISA_LIB_SAN): $(ISA_SRCS:%.c=$(BUILD)/%.san.o)
	@rm -f $@
	$(AR) rcs $@ $^
