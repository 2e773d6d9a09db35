#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# xfrag-bench gen on a veth lab (scripts/lab.sh): the generator runs in the
# lab's namespace and sends to the host end, whose receive counter must
# grow by exactly --count (the lab links carry nothing else), for AF_XDP
# and AF_PACKET; a frame sink on the host end checks every frame's payload
# and sequence number. Then pacing, duration, signals, jumbo frames and
# refused flags. Addresses from 198.18.0.0/15 only; nothing outside the lab.
#
# usage: test_gen.sh path/to/xfrag-bench path/to/frame-sink [path/to/txq-test]
set -u

USAGE="usage: $0 path/to/xfrag-bench path/to/frame-sink [path/to/txq-test]"
BENCH=${1:?$USAGE}
SINK=${2:?$USAGE}
TXQ_TEST=${3:-}
case $BENCH in /*) ;; *) BENCH=$PWD/$BENCH ;; esac
case $SINK in /*) ;; *) SINK=$PWD/$SINK ;; esac
case $TXQ_TEST in /*|'') ;; *) TXQ_TEST=$PWD/$TXQ_TEST ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: test_gen.sh needs root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN)" \
	     "to create a namespace, a veth pair and AF_XDP/AF_PACKET sockets; run it as root" >&2
	exit 1
fi

FAILS=0
TMP=$(mktemp -d)
SINK_PID=
GEN_PID=

# Our cleanup first; lab_up chains its own in front of it.
cleanup() {
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	[ -n "$GEN_PID" ] && kill "$GEN_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# shellcheck source=../../scripts/lab.sh
. "$HERE/../../scripts/lab.sh"

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
ok() {
	echo "ok   $*"
}
# json_field FILE KEY: a value from the JSON object on the file's last line
json_field() {
	tail -n 1 "$1" | sed -n "s/.*\"$2\":\"\\{0,1\\}\\([^,\"}]*\\).*/\\1/p"
}
sink_field() { # sink_field KEY
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$TMP/sink.out" | tail -n 1
}

# start_sink COUNT [TIMEOUT_MS]: a verifying receiver on the host end
start_sink() {
	: >"$TMP/sink.out"
	"$SINK" "$LAB_HOST_IF" "$1" "${2:-20000}" >"$TMP/sink.out" 2>&1 &
	SINK_PID=$!
	for _ in $(seq 100); do
		grep -q ready "$TMP/sink.out" && return 0
		sleep 0.05
	done
	fail "frame-sink did not start: $(cat "$TMP/sink.out")"
	return 1
}
wait_sink() {
	wait "$SINK_PID"
	local rc=$?
	SINK_PID=
	return $rc
}

# gen ARGS...: run the generator in the lab namespace toward the host end
gen() {
	ip netns exec "$LAB_NS" "$BENCH" gen -i "$LAB_NS_IF" \
		--dst-ip "$LAB_HOST_IP" --dst-mac "$LAB_HOST_MAC" --quiet "$@" \
		>"$TMP/gen.out" 2>"$TMP/gen.err"
}

# exact_run NAME COUNT GEN-ARGS...: the host end receives exactly COUNT
# frames, all intact, one copy of each
exact_run() {
	local name=$1 count=$2 before after rc
	shift 2
	start_sink "$count" || return
	before=$(lab_counter "$LAB_HOST_IF" rx_packets)
	gen --count "$count" --json "$@"
	rc=$?
	wait_sink
	after=$(lab_counter "$LAB_HOST_IF" rx_packets)
	if [ $rc -ne 0 ]; then
		fail "$name: gen exited $rc: $(cat "$TMP/gen.err")"
		return
	fi
	[ "$(json_field "$TMP/gen.out" sent)" = "$count" ] &&
		ok "$name: gen reports sent=$count (mode $(json_field "$TMP/gen.out" mode))" ||
		fail "$name: gen reports sent=$(json_field "$TMP/gen.out" sent), want $count"
	[ "$((after - before))" -eq "$count" ] &&
		ok "$name: $LAB_HOST_IF rx_packets grew by exactly $count" ||
		fail "$name: $LAB_HOST_IF rx_packets grew by $((after - before)), want $count (dropped $(json_field "$TMP/gen.out" dropped))"
	case $(json_field "$TMP/gen.out" umem_blocks_in_use) in
	''|0) ;;
	*) fail "$name: $(json_field "$TMP/gen.out" umem_blocks_in_use) UMEM blocks still pinned after the run" ;;
	esac
	[ "$(sink_field distinct)" = "$count" ] && [ "$(sink_field bad)" = 0 ] &&
	[ "$(sink_field dups)" = 0 ] &&
		ok "$name: sink verified $count intact frames, no duplicates" ||
		fail "$name: sink: $(tail -n 1 "$TMP/sink.out")"
}

lab_up || { echo "FAIL: lab_up failed" >&2; exit 1; }
echo "# lab: $LAB_NS: $LAB_NS_IF ($LAB_NS_IP) -> $LAB_HOST_IF ($LAB_HOST_IP)"

echo "# 1. exact counts, AF_XDP and AF_PACKET, 64-byte frames"
exact_run "xdp 64" 10000 --mode xdp
exact_run "packet 64" 10000 --mode packet

echo "# 2. other sizes and flows"
exact_run "xdp 1500 x4 flows" 10000 --mode xdp --size 1500 --flows 4
exact_run "xdp imix (1518 clamped to 1514)" 6000 --mode xdp --size imix
exact_run "packet 62,128,1514" 3000 --mode packet --size 62,128,1514 --batch 7
exact_run "auto" 2000 --mode auto
grep -q '"mode":"xdp"' "$TMP/gen.out" && ok "auto picks xdp" || fail "auto: $(tail -n 1 "$TMP/gen.out")"

echo "# 3. --rate paces, --duration bounds"
if gen --count 5000 --rate 10k --json; then
	secs=$(json_field "$TMP/gen.out" seconds)
	awk -v s="$secs" 'BEGIN { exit !(s >= 0.45 && s < 5) }' &&
		ok "5000 frames at 10 kpps took $secs s" || fail "5000 frames at 10 kpps took $secs s"
else
	fail "rate run exited non-zero: $(cat "$TMP/gen.err")"
fi
if gen --duration 1 --rate 1000 --json; then
	secs=$(json_field "$TMP/gen.out" seconds)
	sent=$(json_field "$TMP/gen.out" sent)
	[ "$(json_field "$TMP/gen.out" stopped)" = duration ] &&
	awk -v s="$secs" -v n="$sent" 'BEGIN { exit !(s >= 0.99 && s < 2 && n >= 900 && n <= 1100) }' &&
		ok "--duration 1 --rate 1000: $sent frames in $secs s" ||
		fail "--duration 1 --rate 1000: $(tail -n 1 "$TMP/gen.out")"
else
	fail "duration run exited non-zero: $(cat "$TMP/gen.err")"
fi

echo "# 4. SIGTERM and SIGINT stop a run cleanly with a summary"
for sig in TERM INT; do
	ip netns exec "$LAB_NS" "$BENCH" gen -i "$LAB_NS_IF" --duration 30 --rate 100k \
		--json --quiet >"$TMP/gen.out" 2>"$TMP/gen.err" &
	GEN_PID=$!
	sleep 1
	kill -s "$sig" "$GEN_PID"
	t0=$(date +%s)
	wait "$GEN_PID"
	rc=$?
	GEN_PID=
	if [ $rc -eq 0 ] && [ "$(json_field "$TMP/gen.out" stopped)" = signal ] &&
	   [ $(($(date +%s) - t0)) -le 3 ]; then
		ok "SIG$sig: exit 0, stopped=signal, sent=$(json_field "$TMP/gen.out" sent)"
	else
		fail "SIG$sig: rc=$rc, $(tail -n 1 "$TMP/gen.out") $(cat "$TMP/gen.err")"
	fi
done

echo "# 5. refused flags: non-zero exit and a message"
refuse() { # refuse PATTERN ARGS...: gen ARGS fails, stderr matches PATTERN
	local pat=$1 rc
	shift
	ip netns exec "$LAB_NS" "$BENCH" gen "$@" >"$TMP/gen.out" 2>"$TMP/gen.err"
	rc=$?
	if [ $rc -ne 0 ] && grep -qi -- "$pat" "$TMP/gen.err"; then
		ok "gen $* -> exit $rc, '$(head -n 1 "$TMP/gen.err")'"
	else
		fail "gen $*: exit $rc, stderr '$(cat "$TMP/gen.err")' (wanted /$pat/)"
	fi
}
refuse "not found" -i "nosuch$$" --count 1
refuse "required" --count 1
refuse "out of range" -i "$LAB_NS_IF" --size 10 --count 1
refuse "out of range" -i "$LAB_NS_IF" --size 64,20000 --count 1
refuse "exceeds" -i "$LAB_NS_IF" --size 1600 --count 1
refuse "bad size" -i "$LAB_NS_IF" --size abc --count 1
refuse "unknown option" -i "$LAB_NS_IF" --bogus
refuse "bad mode" -i "$LAB_NS_IF" --mode foo --count 1
refuse "bad count" -i "$LAB_NS_IF" --count 0
refuse "bad duration" -i "$LAB_NS_IF" --duration -1
refuse "bad rate" -i "$LAB_NS_IF" --rate fast --count 1
refuse "bad MAC" -i "$LAB_NS_IF" --dst-mac 11:22:33 --count 1
refuse "bad IPv4" -i "$LAB_NS_IF" --dst-ip 1.2.3 --count 1
refuse "needs a value" -i "$LAB_NS_IF" --count
refuse "out of range" -i "$LAB_NS_IF" --mode xdp --queue 3 --count 1
refuse "batch" -i "$LAB_NS_IF" --batch 0 --count 1
refuse "CPU $(nproc) is not available" -i "$LAB_NS_IF" --cpu "$(nproc)" --count 1
refuse "bad UMEM size '17179869185G'" -i "$LAB_NS_IF" --umem-size 17179869185G --count 1
refuse "UMEM size 4096 is too small" -i "$LAB_NS_IF" --mode xdp --umem-size 4K --count 1
ip -n "$LAB_NS" link set dev "$LAB_NS_IF" down
refuse "down" -i "$LAB_NS_IF" --count 1
ip -n "$LAB_NS" link set dev "$LAB_NS_IF" up

echo "# 6. jumbo frames (MTU 9000): AF_PACKET; AF_XDP refuses them"
lab_up -m 9000 || { echo "FAIL: lab_up -m 9000 failed" >&2; exit 1; }
refuse "mode packet" -i "$LAB_NS_IF" --mode xdp --size 9000 --count 1
exact_run "auto 64,1500,9000 (-> packet)" 999 --mode auto --size 64,1500,9000
grep -q '"mode":"packet"' "$TMP/gen.out" && ok "auto picks packet for 9000" ||
	fail "auto with 9000: $(tail -n 1 "$TMP/gen.out")"
exact_run "packet 9014" 500 --mode packet --size 9014
# The largest AF_XDP frame is the chunk size; small batches and rings.
exact_run "xdp 4096,70, batch 3, ring 64" 3000 --mode xdp --size 4096,70 --batch 3 --ring-size 64
exact_run "xdp 3000, frame size 3008" 2000 --mode xdp --size 3000 --frame-size 3008
refuse "frame size" -i "$LAB_NS_IF" --mode xdp --size 3100 --frame-size 3008 --count 1

echo "# 7. two queues: AF_XDP on queue 1"
lab_up -q 2 || { echo "FAIL: lab_up -q 2 failed" >&2; exit 1; }
exact_run "xdp queue 1" 5000 --mode xdp --queue 1

if [ -n "$TXQ_TEST" ]; then
	echo "# 8. the tx queue API (txq-test)"
	if ip netns exec "$LAB_NS" "$TXQ_TEST" "$LAB_NS_IF" >"$TMP/txq.out" 2>&1; then
		sed 's/^/     | /' "$TMP/txq.out"
		ok "txq-test passed"
	else
		sed 's/^/     | /' "$TMP/txq.out"
		fail "txq-test failed"
	fi
fi

lab_down
if ip netns list 2>/dev/null | grep -q "xfrag-lab-$$-"; then
	fail "lab namespaces left: $(ip netns list 2>/dev/null | grep "xfrag-lab-$$-")"
fi
if ip -o link show 2>/dev/null | grep -q "xfh$$x"; then
	fail "lab links left: $(ip -o link show 2>/dev/null | grep "xfh$$x")"
fi

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "all checks passed"
exit 0
