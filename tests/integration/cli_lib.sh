# shellcheck shell=bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What the CLI integration tests (test_rx_cli.sh, test_capture.sh) share:
# cli_own_netns, then cli_begin (TMP, removed on exit; FAILS; RX_PID, a
# receiver killed on exit), and fail, ok, json, wait_ready.

# cli_own_netns VAR PREFIX SCRIPT ARGS...: unless $VAR is set, run SCRIPT
# ARGS in a network namespace of its own (so that the AF_XDP socket count
# in /proc/net/protocols is the test's alone), with VAR naming it, delete
# the namespace and exit with the script's status.
cli_own_netns() {
	local var=$1 ns=$2-$$ rc
	shift 2
	[ -n "${!var:-}" ] && return 0
	ip netns add "$ns" || { echo "FAIL: ip netns add $ns" >&2; exit 1; }
	# shellcheck disable=SC2064
	trap "ip netns del '$ns' 2>/dev/null" EXIT
	trap 'exit 1' INT TERM HUP
	ip netns exec "$ns" ip link set dev lo up
	env "$var=$ns" ip netns exec "$ns" bash "$@"
	rc=$?
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	exit $rc
}

cli_cleanup() {
	[ -n "$RX_PID" ] && kill -KILL "$RX_PID" 2>/dev/null
	rm -rf "$TMP"
}
cli_begin() {
	TMP=$(mktemp -d)
	FAILS=0
	RX_PID=
	trap cli_cleanup EXIT
}

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
ok() {
	echo "ok   $*"
}
json() { # json FILE FILTER: jq on the last line of FILE
	tail -n 1 "$1" | jq -e -r "$2"
}
wait_ready() { # wait_ready ERRFILE PID: until the receiver says "ready"
	local i
	for i in $(seq 100); do
		grep -q ': ready' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
