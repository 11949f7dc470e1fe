# hw/qemu: QEMU 7.2 with the lumen-npu device, laid out as QEMU's tree
# (hw/qemu/README). scripts/build-qemu builds it (cached under
# $(LUMEN_CACHE)/qemu, keyed by a hash of hw/qemu/, the isa/, hw/exec/ and
# uapi sources it exports into QEMU's tree, and the script) together with
# the device's qtests, which run as suite qemu-qtest.
QEMU_BUILD := scripts/build-qemu

CHECK_SUITES += qemu-qtest

.PHONY: qemu suite-qemu-qtest
qemu:
	@$(QEMU_BUILD) --print-path

# glib's --tap prints the plan and one "ok N" / "not ok N" line per case.
suite-qemu-qtest:
	@qemu=$$($(QEMU_BUILD) --print-path) && \
	qtest=$$($(QEMU_BUILD) --print-qtest-path) && \
	QTEST_QEMU_BINARY=$$qemu $$qtest --tap -k
