#!/bin/sh
# In-guest half of the guest-smoke suite (busybox sh): prints one
# "ok - ..." or "not ok - ..." line per check; tests/guest/run-smoke
# numbers them. Exit status: the number of failed checks.
#
#   smoke-guest.sh KVER VENDOR DEVICE CLASS SHA256-OF-/smoke-data

kver=$1 vendor=$2 device=$3 class=$4 data_sum=$5
failed=0

check() {
	desc=$1
	shift
	if "$@"; then
		echo "ok - $desc"
	else
		echo "not ok - $desc"
		failed=$((failed + 1))
	fi
}

# pci_function VENDOR DEVICE: sysfs path of the first matching function.
pci_function() {
	for dev in /sys/bus/pci/devices/*; do
		if [ "$(cat "$dev/vendor")" = "$1" ] && [ "$(cat "$dev/device")" = "$2" ]; then
			echo "$dev"
			return 0
		fi
	done
	return 1
}

# shellcheck disable=SC2317 # called through check
module_loaded() {
	grep -q "^$1 " /proc/modules
}

# shellcheck disable=SC2317 # called through check
mounted() {
	awk -v dir="$1" -v type="$2" '$2 == dir && $3 == type { found = 1 } END { exit !found }' /proc/mounts
}

check "guest runs kernel $kver" [ "$(uname -r)" = "$kver" ]
check "devtmpfs is mounted on /dev" mounted /dev devtmpfs
check "debugfs is mounted on /sys/kernel/debug" mounted /sys/kernel/debug debugfs
for mod in drm drm_kms_helper drm_shmem_helper gpu_sched; do
	check "module $mod is loaded" module_loaded "$mod"
done

npu=$(pci_function "$vendor" "$device")
check "Lumen NPU $vendor:$device is a PCI function" [ -n "$npu" ]
check "Lumen NPU has PCI class $class" \
	[ "$(cat "${npu:-/nonexistent}/class" 2>/dev/null)" = "$class" ]
check "no PCI function 0xffff:0xffff (lookup can fail)" [ -z "$(pci_function 0xffff 0xffff)" ]

check "file added by vm-run --add arrives intact" \
	[ "$(sha256sum /smoke-data | cut -d' ' -f1)" = "$data_sum" ]

exit "$failed"
