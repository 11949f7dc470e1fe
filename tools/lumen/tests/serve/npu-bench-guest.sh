#!/bin/sh
# In-guest half of bench-serve-npu (see run-npu): lumen serve on the NPU
# with 4 sessions, and load.mjs (8 clients x 20 streamed requests, then one
# high-priority client among seven low ones) against it over loopback.
# Its table goes to stdout; the exit status is load.mjs's.
L=/lumen
ip link set lo up
$L/lib/ld-linux-x86-64.so.2 --library-path $L/lib $L/bin/lumen serve \
	-m "$L/models/stories260K-f32.lnpu" --device npu --port 8080 \
	--parallel 4 --queue 8 --api-key "$SERVE_KEY" >/tmp/serve.out 2>&1 &
pid=$!
for _ in $(seq 1 600); do
	wget -q -O /dev/null http://127.0.0.1:8080/health 2>/dev/null && break
	sleep 0.5
done
LUMEN_OPENAI_DIR=$L/openai SERVE_KEY=$SERVE_KEY $L/lib/ld-linux-x86-64.so.2 \
	--library-path $L/lib $L/bin/node $L/serve-tests/load.mjs \
	http://127.0.0.1:8080/v1 - --clients 8 --requests 20 --max-tokens 32
rc=$?
kill -TERM "$pid"
wait "$pid" || rc=1
exit "$rc"
