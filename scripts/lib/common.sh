# shellcheck shell=bash
# Shared helpers for the Lumen scripts; source it, do not run it.
#
# Every script keeps its big outputs under $LUMEN_CACHE, outside the
# checkout, in directories named after a hash of what produced them, so a
# fresh clone reuses them and a changed script rebuilds instead of reusing
# a stale result.

# shellcheck disable=SC2034 # used by the scripts that source this
LUMEN_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LUMEN_CACHE=${LUMEN_CACHE:-$HOME/.cache/lumen}
LUMEN_PROG=$(basename "$0")

die() {
	printf '%s: error: %s\n' "$LUMEN_PROG" "$*" >&2
	exit "${LUMEN_DIE_STATUS:-1}"	# a script may set its own
}

note() {
	printf '%s: %s\n' "$LUMEN_PROG" "$*" >&2
}

# need_cmd CMD GROUP: fail with the setup-deps group that provides CMD.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' not found; run: scripts/setup-deps $2"
}

# hash_inputs ARG...: a short stable key over files (by content) and
# plain strings (by value), in the order given.
hash_inputs() {
	local arg
	for arg in "$@"; do
		if [ -f "$arg" ]; then
			printf 'file %s\n' "$(basename "$arg")"
			cat "$arg"
		else
			printf 'value %s\n' "$arg"
		fi
	done | sha256sum | cut -c1-16
}

# quietly LOG CMD...: run CMD with its output in LOG; show the end of LOG
# and fail if CMD fails, so successful runs stay silent.
quietly() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		printf '%s: error: command failed: %s\n' "$LUMEN_PROG" "$*" >&2
		tail -n 25 "$log" | sed 's/^/  | /' >&2
		printf '%s: full log: %s\n' "$LUMEN_PROG" "$log" >&2
		exit 1
	fi
}

# cache_lock NAME: serialize concurrent runs (e.g. make -j) that fill the
# same cache entry; the lock is released when the script exits.
cache_lock() {
	mkdir -p "$LUMEN_CACHE"
	exec {LUMEN_LOCK_FD}>"$LUMEN_CACHE/.$1.lock"
	flock "$LUMEN_LOCK_FD"
}
