#!/bin/sh
# Runs in the debug-kernel guest (scripts/tests/debug-kernel-smoke): one
# line "CHECK <ok|fail> <name>" per property of the debug kernel.
# $1: the kernel release the host built.
check() {
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "CHECK ok $name"
	else
		echo "CHECK fail $name"
	fi
}

check "runs the debug kernel ($1)" test "$(uname -r)" = "$1"
check "KASAN initialized (dmesg)" sh -c 'dmesg | grep -q "KernelAddressSanitizer initialized"'
check "kmemleak is on (/sys/kernel/debug/kmemleak)" test -w /sys/kernel/debug/kmemleak
check "KCOV (/sys/kernel/debug/kcov)" test -e /sys/kernel/debug/kcov
check "lockdep (/proc/lockdep)" test -r /proc/lockdep
check "lockdep is still on (debug_locks=1)" sh -c 'grep -q "^ *debug_locks: *1$" /proc/lockdep_stats'
check "failslab (/sys/kernel/debug/failslab)" test -d /sys/kernel/debug/failslab
check "fail_page_alloc (/sys/kernel/debug/fail_page_alloc)" test -d /sys/kernel/debug/fail_page_alloc
check "KFENCE (/sys/kernel/debug/kfence)" test -d /sys/kernel/debug/kfence
check "DMA-API debugging (/sys/kernel/debug/dma-api)" test -d /sys/kernel/debug/dma-api
check "DRM accel class (/sys/class/accel)" test -d /sys/class/accel
# shellcheck disable=SC2016 # expanded by the inner sh
check "the lumen-npu PCI device (1234:11ec)" sh -c 'for d in /sys/bus/pci/devices/*; do [ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11ec ] && exit 0; done; exit 1'

# failslab really injects: one failure (times=1) into a task that asked
# for it (task-filter, make-it-fail), quietly (verbose=0: no stack dump
# in the log), sleeping allocations included (ignore-gfp-wait=N).
failslab_injects() {
	d=/sys/kernel/debug/failslab
	echo N >$d/ignore-gfp-wait && echo 0 >$d/verbose &&
		echo Y >$d/task-filter && echo 1 >$d/times &&
		echo 100 >$d/probability || return 1
	sh -c 'echo 1 >/proc/self/make-it-fail && exec cat /proc/version' >/dev/null 2>&1
	left=$(cat $d/times)
	echo 0 >$d/probability
	[ "$left" = 0 ]
}
check "failslab injects a slab allocation failure" failslab_injects
