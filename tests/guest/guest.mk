# Guest tests: boot the device image (Debian's kernel, the DRM modules)
# in the QEMU that scripts/build-qemu builds, through scripts/vm-run.
CHECK_SUITES += guest-smoke

.PHONY: suite-guest-smoke
suite-guest-smoke:
	@$(TOP)/tests/guest/run-smoke
