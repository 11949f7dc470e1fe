#!/bin/sh
# In-guest half of suite runtime-npu (busybox sh, started by
# runtime/tests/run-npu through scripts/vm-run). Prints "ok - ..." /
# "not ok - ..." lines, which the host numbers, and "# ..." comments.
# Exit status: the number of failed checks.
#
# The image holds, under /lumen: bin/ (static lumen, runtime-npu-tests,
# runtime-golden-tests), lumen.ko (not loaded yet), models/ (stories260K
# .lnpu files), golden/ ($SHARED/golden) and expect/ (two prompts and the
# text llama.cpp generated for them).

L=/lumen
failed=0
export LUMEN_MODEL_DIR=$L/models SHARED=$L
# speculative decoding's golden checks: each model's first prompt only
export LUMEN_GOLDEN_SPEC_FIRST=1

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

# tap NAME CMD...: run a TAP test binary; its cases become our checks
# (named "NAME: case"), everything else a comment; a binary that fails
# without a failing case (a crash) is a failed check of its own.
tap() {
	name=$1
	shift
	"$@" >/tmp/tap.out 2>&1
	rc=$?
	sed -e "s/^ok [0-9]* - /ok - $name: /" \
		-e "s/^not ok [0-9]* - /not ok - $name: /" \
		-e '/^ok - /b' -e '/^not ok - /b' -e '/^#/b' -e 's/^/# /' /tmp/tap.out
	bad=$(grep -c '^not ok ' /tmp/tap.out)
	failed=$((failed + bad))
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "not ok - $name: exited $rc without a failing case"
		failed=$((failed + 1))
	fi
}

# shellcheck disable=SC2317 # called through check
fails_with() {
	pattern=$1
	shift
	"$@" >/tmp/out 2>/tmp/err
	rc=$?
	sed 's/^/# stderr: /' /tmp/err
	[ "$rc" -ne 0 ] && grep -q -e "$pattern" /tmp/err
}

# shellcheck disable=SC2317 # called through check
same_text() {
	cmp -s "$1" "$2" || {
		echo "# got:  $(head -c 200 "$1")"
		echo "# want: $(head -c 200 "$2")"
		return 1
	}
}

q8=$L/models/stories260K-q8_0.lnpu
f32=$L/models/stories260K-f32.lnpu

# --device npu before the driver is there
check "no lumen.ko: no /dev/accel node" [ ! -e /dev/accel/accel0 ]
check "no lumen.ko: lumen run --device npu fails naming the missing NPU" \
	fails_with "no Lumen NPU found" $L/bin/lumen run --device npu -m "$q8" -p hi
check "no lumen.ko: the message says to load lumen.ko" grep -q "lumen.ko" /tmp/err
check "no lumen.ko: lumen bench --device npu fails too" \
	fails_with "no Lumen NPU found" $L/bin/lumen bench --device npu -m "$q8" -r 1
check "insmod lumen.ko" insmod $L/lumen.ko
check "lumen.ko created /dev/accel/accel0" [ -c /dev/accel/accel0 ]
check "lumen info shows the NPU, its counters and its power state" \
	sh -c "$L/bin/lumen info --device npu >/tmp/info && grep -q '^backend: *npu' /tmp/info &&
		grep -q '^counters: *busy' /tmp/info && grep -Eq '^power: *(active|suspended)' /tmp/info"

tap npu $L/bin/runtime-npu-tests
tap "golden npu" $L/bin/runtime-golden-tests --device npu
# the CPU backend under TCG is slow: stories260K here, every golden-arch
# case on the host (suite runtime-golden)
[ -e $L/expect/npu-only ] ||
	tap "golden cpu" $L/bin/runtime-golden-tests --device cpu stories260K

# two processes share the NPU, each with its own address space and jobs
run_npu() {
	$L/bin/lumen run --device npu -m "$f32" -p "$(cat "$1")" -n 64 --temp 0 \
		--ignore-eos --no-stats
}
run_npu $L/expect/prompt1 >/tmp/run1 2>/tmp/err1 &
p1=$!
run_npu $L/expect/prompt4 >/tmp/run4 2>/tmp/err4 &
p4=$!
wait $p1
r1=$?
wait $p4
r4=$?
sed 's/^/# run 1: /' /tmp/err1
sed 's/^/# run 2: /' /tmp/err4
check "two lumen run at once on the NPU: both exit 0 ($r1, $r4)" [ "$r1" -eq 0 -a "$r4" -eq 0 ]
check "two lumen run at once on the NPU: the first gives its golden text" \
	same_text /tmp/run1 $L/expect/text1
check "two lumen run at once on the NPU: the second gives its golden text" \
	same_text /tmp/run4 $L/expect/text4

# speculative decoding on the NPU: one verify job per round, the same text
# shellcheck disable=SC2317 # called through check
run_spec() {
	$L/bin/lumen run --device npu -m "$f32" -p "$(cat "$L/expect/prompt1")" -n 64 \
		--temp 0 --ignore-eos "$@" >/tmp/spec.out 2>/tmp/spec.err
	rc=$?
	grep -E "speculative|tokens/submission" /tmp/spec.err | sed 's/^/# /'
	[ "$rc" -eq 0 ] && same_text /tmp/spec.out "$L/expect/text1"
}
check "lumen run --spec ngram on the NPU gives the golden text" run_spec --spec ngram
check "lumen run --draft (Q4_0 for F32) on the NPU gives the golden text" \
	run_spec --draft "$L/models/stories260K-q4_0.lnpu"

# the NPU hangs under lumen run: the driver resets it, lumen says so and exits 1
for hook in /sys/kernel/debug/accel/*/hang_next; do echo 1 >"$hook"; done
check "NPU reset during lumen run: exits non-zero saying the NPU was reset" \
	fails_with "hung; the NPU was reset" $L/bin/lumen run --device npu -m "$q8" -p hi -n 8
check "after the reset the next lumen run works" \
	$L/bin/lumen run --device npu -m "$q8" -p hi -n 8 --no-stats

# over the driver's per-file memory limit: refused with what to do
echo 1 >/sys/module/lumen/parameters/file_mem_mb
check "a model over lumen.ko's file_mem_mb is refused, naming the parameter" \
	fails_with "over what lumen.ko lets one open file pin (module parameter file_mem_mb" \
	$L/bin/lumen run --device npu -m "$f32" -p hi -n 8
echo 0 >/sys/module/lumen/parameters/file_mem_mb
check "with the limit back at half of RAM the same run works" \
	$L/bin/lumen run --device npu -m "$f32" -p hi -n 8 --no-stats

# the driver's log, for whoever reads a failure
if [ "$failed" -ne 0 ]; then
	dmesg | grep -i -E "lumen|accel|drm" | tail -n 60 | sed 's/^/# dmesg: /'
fi
exit "$failed"
