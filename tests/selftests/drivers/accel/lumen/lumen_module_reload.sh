#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR MIT
#
# Unload and load lumen.ko COUNT times (default 100). After every load the
# NPU must have been probed again: one more "Lumen NPU" line in the kernel
# log, the accel node back, and the node must open. Prints one TAP line.
#
#   lumen_module_reload.sh [LUMEN_KO [COUNT [PARAM=VALUE...]]]
#
# LUMEN_KO defaults to what modinfo finds for "lumen".
#
# Nothing may hold the device open: run it after the other tests.

ko=${1:-$(modinfo -n lumen 2>/dev/null)}
count=${2:-100}
if [ $# -ge 2 ]; then shift 2; else shift $#; fi
name="module_reload_${count}_times"

if [ ! -f "$ko" ]; then
	echo "1..1"
	echo "ok 1 $name # SKIP lumen.ko not found (pass its path)"
	exit 4	# kselftest's skip
fi

probes() {
	dmesg | grep -c 'Lumen NPU [0-9]'
}

fail() {
	echo "# cycle $i: $*"
	echo "not ok 1 $name"
	exit 1
}

echo "1..1"
first=$(probes)
i=0
while [ "$i" -lt "$count" ]; do
	if grep -q '^lumen ' /proc/modules; then
		rmmod lumen || fail "rmmod failed"
	fi
	[ ! -e /sys/class/accel/accel0 ] || fail "accel0 left after rmmod"
	# shellcheck disable=SC2068 # module parameters, one word each
	insmod "$ko" $@ || fail "insmod failed"
	[ -c /dev/accel/accel0 ] || fail "no /dev/accel/accel0 after insmod"
	[ "$(probes)" -eq $((first + i + 1)) ] || fail "the NPU was not probed"
	{ exec 3<>/dev/accel/accel0; } 2>/dev/null || fail "cannot open accel0"
	exec 3>&-
	i=$((i + 1))
done
echo "ok 1 $name"
