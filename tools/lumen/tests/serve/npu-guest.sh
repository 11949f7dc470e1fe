#!/bin/sh
# In-guest half of suite serve-npu (busybox sh, started by run-npu through
# scripts/vm-run with lumen.ko loaded): lumen serve on the NPU, and the
# openai client (node, npu-client.mjs) talking to it over the guest's
# loopback. The project's QEMU is built without user networking (slirp),
# so the client runs in the guest rather than on the host. Then the server
# is stopped and must exit cleanly. Prints "ok - " / "not ok - " lines and
# "# " comments; exits with the number of failures.
L=/lumen
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

ip link set lo up
check "lumen.ko found the NPU" test -e /dev/accel/accel0
run() {
	$L/lib/ld-linux-x86-64.so.2 --library-path $L/lib "$@"
}

# lumen_session_set_priority(): as root every priority runs; in a user
# namespace (root there, but without CAP_SYS_NICE in the initial one) the
# driver refuses HIGH: the priority reaches it
if [ -x $L/bin/npu-priority-test ]; then
	run $L/bin/npu-priority-test $L/models/stories260K-f32.lnpu high-ok
	failed=$((failed + $?))
	unshare -r $L/lib/ld-linux-x86-64.so.2 --library-path $L/lib \
		$L/bin/npu-priority-test $L/models/stories260K-f32.lnpu high-refused
	failed=$((failed + $?))
fi

# the host's lumen and the libraries it links (libmicrohttpd, jansson, ...)
$L/lib/ld-linux-x86-64.so.2 --library-path $L/lib $L/bin/lumen serve -m "$L/models/stories260K-f32.lnpu" --device npu \
	--port 8080 --parallel 2 --api-key "$SERVE_KEY" \
	>/tmp/serve.out 2>/tmp/serve.err &
pid=$!
up=0
for _ in $(seq 1 600); do
	if wget -q -O /tmp/health http://127.0.0.1:8080/health 2>/dev/null; then
		up=1
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
check "lumen serve listens on the NPU" test "$up" = 1
check "/health says the backend is the NPU" grep -q '"backend":"npu"' /tmp/health

SERVE_URL=http://127.0.0.1:8080/v1 SERVE_KEY=$SERVE_KEY GOLDEN_DIR=$L/golden \
	LUMEN_OPENAI_DIR=$L/openai $L/lib/ld-linux-x86-64.so.2 --library-path $L/lib \
	$L/bin/node $L/serve-tests/npu-client.mjs >/tmp/client.out 2>&1
crc=$?
sed -e 's/^ok - /ok - client: /' -e 's/^not ok - /not ok - client: /' /tmp/client.out
failed=$((failed + $(grep -c '^not ok - ' /tmp/client.out)))
check "the openai client ran to its end (exit $crc)" test "$crc" = 0
wget -q -O /tmp/health http://127.0.0.1:8080/health 2>/dev/null
echo "# health: $(cat /tmp/health)"
check "the server counts the client's 5 answers served" grep -q '"served":5,' /tmp/health

# the NPU hangs under a request: the driver resets it; that request gets
# 503 (retry later), and the server goes on with the next one
post() {
	wget -q -O /tmp/post.out --header "Authorization: Bearer $SERVE_KEY" \
		--header "Content-Type: application/json" \
		--post-data '{"prompt": "Once upon a time", "max_tokens": 8, "temperature": 0}' \
		http://127.0.0.1:8080/v1/completions 2>/tmp/post.err
}
for hook in /sys/kernel/debug/accel/*/hang_next; do echo 1 >"$hook"; done
post
check "a request whose NPU job hangs gets 503" grep -q 503 /tmp/post.err
sed 's/^/# /' /tmp/post.err
post
check "after the NPU's reset the next request is served" grep -q '"finish_reason":"length"' /tmp/post.out
kill -TERM "$pid"
wait "$pid"
rc=$?
check "lumen serve stopped cleanly on SIGTERM (exit $rc)" test "$rc" = 0
sed 's/^/# serve: /' /tmp/serve.out /tmp/serve.err

# in a user namespace (a container's root: no CAP_SYS_NICE in the initial
# one) the driver refuses HIGH jobs: the server finds it out at start and
# still serves "high" requests, first in its own order, as NORMAL jobs
unshare -r $L/lib/ld-linux-x86-64.so.2 --library-path $L/lib $L/bin/lumen serve \
	-m "$L/models/stories260K-f32.lnpu" --device npu --port 8081 \
	>/tmp/serve2.out 2>/tmp/serve2.err &
pid=$!
for _ in $(seq 1 600); do
	wget -q -O /dev/null http://127.0.0.1:8081/health 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
wget -q -O /tmp/post.out --post-data \
	'{"prompt": "Once upon a time", "max_tokens": 8, "temperature": 0, "priority": "high"}' \
	http://127.0.0.1:8081/v1/completions 2>/tmp/post.err
check "without CAP_SYS_NICE, a high-priority request is served" \
	grep -q '"priority":"high"' /tmp/post.out
check "and the server said the driver takes no high-priority job" \
	grep -q "runs no high-priority job" /tmp/serve2.err
kill -TERM "$pid"
wait "$pid"
rc=$?
check "that server stopped cleanly too (exit $rc)" test "$rc" = 0
sed 's/^/# serve: /' /tmp/post.err /tmp/serve2.err
exit "$failed"
