#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# xfrag-bench rx -w: capture to pcap, read back with tcpdump, on a lab
# (scripts/lab.sh) with two senders: xfrag-bench gen, and frame-craft's
# hand-made IPv4, IPv6, VLAN, QinQ and short (14..59-byte) frames, then
# jumbo frames on an MTU 9000 lab (multi-buffer chains).
#   - tcpdump -r reads every file whole; the frame count equals what was
#     sent, the bytes written equal the bytes sent, the crafted frames are
#     byte for byte what frame-craft sent (its own reference pcap);
#   - nanosecond time stamps, on the wall clock, in order;
#   - --snaplen cuts each frame at N and keeps its length;
#   - -w - writes the pcap to stdout and the reports to stderr;
#   - a writer that cannot keep up (its pipe is not read) makes the rx
#     thread drop and count, never wait: written + dropped = delivered;
#   - SIGINT, --duration and --count end a capture with a complete file, frames drained
#     from the RX ring at the stop included; a failed write ends it with
#     exit 1 and a message;
#   - nothing is left attached, no socket stays open.
#
# usage: test_capture.sh path/to/xfrag-bench path/to/frame-craft
set -u

BENCH=${1:?usage: $0 path/to/xfrag-bench path/to/frame-craft}
CRAFT=${2:?usage: $0 path/to/xfrag-bench path/to/frame-craft}
case $BENCH in /*) ;; *) BENCH=$PWD/$BENCH ;; esac
case $CRAFT in /*) ;; *) CRAFT=$PWD/$CRAFT ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: this integration test needs root (namespaces, XDP, AF_XDP); run it as root" >&2
	exit 1
fi
for tool in jq ip tcpdump; do
	command -v "$tool" >/dev/null || {
		echo "FAIL: '$tool' is missing (scripts/setup-deps.sh installs it)" >&2
		exit 1
	}
done

# In a namespace of our own: the AF_XDP socket count is ours alone.
# shellcheck source=cli_lib.sh
. "$HERE/cli_lib.sh"
cli_own_netns XFRAG_CAPTURE_NS xfrag-capture "$0" "$BENCH" "$CRAFT"
cli_begin
# shellcheck source=../../scripts/lab.sh
. "$ROOT/scripts/lab.sh"

expect_clean() {
	local n
	if lab_has_xdp "$LAB_HOST_IF"; then
		fail "$1: XDP program left on $LAB_HOST_IF"
		ip link set dev "$LAB_HOST_IF" xdp off 2>/dev/null
	fi
	n=$(awk '$1 == "XDP" { print $3 }' /proc/net/protocols)
	[ "$n" = 0 ] || fail "$1: $n AF_XDP socket(s) left"
}
gen() { # gen ARGS...: xfrag's generator, JSON in $TMP/gen.out
	ip netns exec "$LAB_NS" "$BENCH" gen -i "$LAB_NS_IF" --dst-ip "$LAB_HOST_IP" \
		--dst-mac "$LAB_HOST_MAC" --quiet --json "$@" >"$TMP/gen.out" 2>"$TMP/gen.err" ||
		fail "gen $*: $(cat "$TMP/gen.err")"
	json "$TMP/gen.out" .bytes
}
craft() { # craft NAME SPEC...: frame-craft; "frames bytes" on stdout
	local name=$1 out
	shift
	out=$(ip netns exec "$LAB_NS" "$CRAFT" "$LAB_NS_IF" "$LAB_HOST_MAC" "$TMP/$name.ref.pcap" "$@") ||
		fail "frame-craft $*: $out"
	sed -n 's/^sent \([0-9]*\) frames, \([0-9]*\) bytes$/\1 \2/p' <<<"$out"
}
# start_rx NAME ARGS...: xfrag-bench rx in the background, stdout and
# stderr in $TMP/NAME.{out,err}; waits until it is ready
start_rx() {
	local name=$1
	shift
	"$BENCH" rx -i "$LAB_HOST_IF" --quiet --json "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	RX_PID=$!
	wait_ready "$TMP/$name.err" "$RX_PID" && return 0
	fail "$name: receiver never became ready: $(cat "$TMP/$name.err")"
	kill -KILL "$RX_PID" 2>/dev/null
	RX_PID=
	return 1
}
stop_rx() {
	{ wait "$RX_PID"; } 2>/dev/null
	RX_RC=$?
	RX_PID=
}
# pcap_frames FILE: frames tcpdump reads (fails the test if it cannot);
# one line per frame starts with its time stamp (others are hex dumps of
# frames tcpdump cannot decode)
pcap_frames() {
	local n
	n=$(tcpdump -r "$1" -nn -tt --time-stamp-precision=nano 2>"$TMP/tcpdump.err" |
		grep -c '^[0-9]\+\.[0-9]\{9\} ')
	if ! grep -q '^reading from file' "$TMP/tcpdump.err" ||
	   grep -qiE 'truncated|error|bad dump' "$TMP/tcpdump.err"; then
		fail "tcpdump -r $(basename "$1"): $(cat "$TMP/tcpdump.err")"
	fi
	echo "$n"
}
# pcap_bytes FILE FRAMES: frame bytes in the file (24-byte file header,
# a 16-byte header per record)
pcap_bytes() {
	echo $(($(stat -c %s "$1") - 24 - 16 * $2))
}
# check_file NAME FILE FRAMES BYTES: count, bytes, magic, time stamps
check_file() {
	local name=$1 f=$2 want=$3 bytes=$4 n b first now
	n=$(pcap_frames "$f")
	[ "$n" = "$want" ] && ok "$name: tcpdump reads $n frames" ||
		fail "$name: tcpdump reads $n frames, $want were sent"
	b=$(pcap_bytes "$f" "$n")
	[ "$b" = "$bytes" ] && ok "$name: $b frame bytes written = bytes sent" ||
		fail "$name: $b frame bytes written, $bytes sent"
	[ "$(od -An -tx4 -N4 "$f" | tr -d ' ')" = a1b23c4d ] &&
		ok "$name: nanosecond pcap (magic a1b23c4d)" ||
		fail "$name: not a nanosecond pcap: $(od -An -tx4 -N4 "$f")"
	# Wall-clock stamps of the last minute, never going back (one queue).
	tcpdump -r "$f" -nn -tt --time-stamp-precision=nano 2>/dev/null |
		sed -n 's/^\([0-9]\+\.[0-9]\{9\}\) .*/\1/p' >"$TMP/ts"
	first=$(head -n 1 "$TMP/ts")
	now=$(date +%s)
	if awk -v t="$first" -v now="$now" 'BEGIN { exit !(t > now - 120 && t <= now + 1) }' &&
	   sort -c -n "$TMP/ts" 2>/dev/null; then
		ok "$name: time stamps on the wall clock ($first), in order"
	else
		fail "$name: time stamps: first $first (now $now), sorted: $(sort -c -n "$TMP/ts" 2>&1 | head -1)"
	fi
	grep -q '\.[0-9]\{9\}$' "$TMP/ts" || fail "$name: no nanosecond digits in $(head -n 1 "$TMP/ts")"
}
# same_frames NAME CAPTURE REF N: the first N frames of CAPTURE are REF's
same_frames() {
	tcpdump -r "$2" -c "$4" -nn -t -xx 2>/dev/null >"$TMP/cap.hex"
	tcpdump -r "$3" -nn -t -xx 2>/dev/null >"$TMP/ref.hex"
	if [ -s "$TMP/ref.hex" ] && cmp -s "$TMP/cap.hex" "$TMP/ref.hex"; then
		ok "$1: the $4 crafted frames are byte for byte what was sent"
	else
		fail "$1: crafted frames differ: $(diff "$TMP/ref.hex" "$TMP/cap.hex" | head -4)"
	fi
}
# check_json NAME FRAMES BYTES: the receiver's own account
check_json() {
	local f=$TMP/$1.out
	[ "$RX_RC" = 0 ] || fail "$1: rx exited $RX_RC: $(tail -n 3 "$TMP/$1.err")"
	[ "$(json "$f" .capture.frames)" = "$2" ] && [ "$(json "$f" .capture.bytes)" = "$3" ] &&
	[ "$(json "$f" .capture.dropped)" = 0 ] && [ "$(json "$f" .accounting.balanced)" = true ] &&
		ok "$1: JSON: $2 frames, $3 bytes written, 0 dropped, books balanced" ||
		fail "$1: JSON: $(tail -n 1 "$f" | jq -c '{capture, accounting}')"
}

CRAFTED=(ipv4:60 ipv4:128 ipv4:1514 ipv6:62 ipv6:100 ipv6:1514 vlan:64 vlan:1518
	 qinq:68 qinq:1000 raw:14-59)

echo "# 1. gen and crafted frames (IPv4, IPv6, VLAN, QinQ, 14..59 bytes), --filter all"
lab_up || { echo "FAIL: lab_up" >&2; exit 1; }
expect=$((46 + 10 + 3000))
start_rx all --filter all -w "$TMP/all.pcap" --count "$expect" -d 60 &&
{
	read -r cn cb < <(craft all "${CRAFTED[@]}")
	# At a bounded rate: what these sections check is the file, frame for
	# frame; at full rate a busy machine drops some in the kernel (counted
	# and balanced, section 3's business), and the count would depend on it.
	gb=$(gen --count 3000 --size 64,1500,594 --rate 20k)
	stop_rx
	[ "$cn" = 56 ] || fail "frame-craft sent $cn frames, not 56"
	check_json all "$expect" $((cb + gb))
	check_file all "$TMP/all.pcap" "$expect" $((cb + gb))
	same_frames all "$TMP/all.pcap" "$TMP/all.ref.pcap" "$cn"
}
expect_clean all

echo "# 2. -w -: the capture on stdout, the reports on stderr"
start_rx stdout --filter all -w - --count 2000 -d 60 &&
{
	gb=$(gen --count 2000 --size 64,1500 --rate 20k)
	stop_rx
	cp "$TMP/stdout.out" "$TMP/stdout.pcap"
	mv "$TMP/stdout.err" "$TMP/stdout.out" # check_json reads the last line of .out
	check_json stdout 2000 "$gb"
	check_file stdout "$TMP/stdout.pcap" 2000 "$gb"
	grep -q '^  capture    2000 frames' "$TMP/stdout.out" && ok "stdout: the summary went to stderr" ||
		fail "stdout: no summary on stderr"
}
expect_clean stdout

echo "# 3. a writer that cannot keep up: drop and count, never wait"
# The pipe is not read for 3 s: the writer blocks in write(), its queue
# (64 frames) fills, and the rx thread must drop and count the rest.
"$BENCH" rx -i "$LAB_HOST_IF" --quiet --json --filter all -w - --write-queue 64 \
	--count 5000 -d 60 2>"$TMP/slow.err" | { sleep 3; cat >"$TMP/slow.pcap"; } &
RX_PID=$!
if wait_ready "$TMP/slow.err" "$(pgrep -f -n "xfrag-bench rx -i $LAB_HOST_IF")"; then
	gen --count 5000 --size 1500 >/dev/null
	stop_rx
	f=$TMP/slow.err
	w=$(json "$f" .capture.frames) d=$(json "$f" .capture.dropped)
	del=$(json "$f" .rx_packets) kd=$(json "$f" .accounting.dropped)
	n=$(pcap_frames "$TMP/slow.pcap")
	if [ "$d" -gt 0 ] && [ $((w + d)) = "$del" ] && [ "$n" = "$w" ] &&
	   [ "$(json "$f" .accounting.balanced)" = true ]; then
		ok "slow writer: $w written + $d dropped = $del delivered (kernel drops $kd), the file has $n"
	else
		fail "slow writer: written $w, dropped $d, delivered $del, kernel drops $kd, in the file $n"
	fi
else
	fail "slow writer: receiver never became ready: $(cat "$TMP/slow.err")"
	kill -KILL "$RX_PID" 2>/dev/null
	RX_PID=
fi
expect_clean slow

echo "# 4. SIGINT ends a capture with a complete file"
start_rx sigint --filter all -w "$TMP/sigint.pcap" &&
{
	gen --count 40000 --rate 20k >/dev/null &
	sleep 1
	kill -INT "$RX_PID"
	stop_rx
	wait
	f=$TMP/sigint.out
	w=$(json "$f" .capture.frames)
	[ "$RX_RC" = 0 ] || fail "SIGINT: exit $RX_RC"
	n=$(pcap_frames "$TMP/sigint.pcap")
	[ "$n" = "$w" ] && [ "$w" -gt 0 ] &&
	[ $((w + $(json "$f" .capture.dropped))) = "$(json "$f" .rx_packets)" ] &&
		ok "SIGINT: $w frames written, all $n in the file, written + dropped = delivered" ||
		fail "SIGINT: written $w, in the file $n: $(tail -n 1 "$f" | jq -c .capture)"
	[ "$(pcap_bytes "$TMP/sigint.pcap" "$n")" = "$(json "$f" .capture.bytes)" ] ||
		fail "SIGINT: the file holds $(pcap_bytes "$TMP/sigint.pcap" "$n") frame bytes, the summary says $(json "$f" .capture.bytes)"
}
expect_clean sigint

echo "# 4a. --duration ends a capture with a complete file"
start_rx dur --filter all -w "$TMP/dur.pcap" -d 1 &&
{
	gen --count 30000 --rate 20k >/dev/null &
	stop_rx
	wait
	f=$TMP/dur.out
	w=$(json "$f" .capture.frames)
	n=$(pcap_frames "$TMP/dur.pcap")
	[ "$RX_RC" = 0 ] && [ "$w" -gt 0 ] && [ "$n" = "$w" ] &&
	[ $((w + $(json "$f" .capture.dropped))) = "$(json "$f" .rx_packets)" ] &&
		ok "duration: exit 0, $w frames written, all in the file" ||
		fail "duration: exit $RX_RC, written $w, in the file $n"
}
expect_clean dur

echo "# 4b. --count: the thread stops at N, what its RX ring holds then is written too"
start_rx count --filter all -w "$TMP/count.pcap" --count 1000 -d 60 &&
{
	gen --count 4000 >/dev/null
	stop_rx
	f=$TMP/count.out
	w=$(json "$f" .capture.frames) dr=$(json "$f" .accounting.drained_at_stop)
	n=$(pcap_frames "$TMP/count.pcap")
	[ "$dr" -gt 0 ] && [ "$n" = "$w" ] &&
	[ $((w + $(json "$f" .capture.dropped))) = "$(json "$f" .rx_packets)" ] &&
		ok "count: $w written ($dr of them drained from the RX ring at the stop), all in the file" ||
		fail "count: written $w, drained $dr, in the file $n: $(tail -n 1 "$f" | jq -c '{rx_packets, capture, accounting}')"
}
expect_clean count

echo "# 4c. a write that fails ends the run: a message, exit 1, nothing left"
start_rx full --filter all -w /dev/full -d 30 &&
{
	gen --count 3000 --size 1500 >/dev/null
	stop_rx
	[ "$RX_RC" = 1 ] && grep -q "writing the capture to /dev/full failed: No space left on device" "$TMP/full.err" &&
	[ "$(json "$TMP/full.out" .capture.failed)" -gt 0 ] &&
		ok "/dev/full: exit 1, '$(grep failed: "$TMP/full.err")', $(json "$TMP/full.out" .capture.failed) frames counted as failed" ||
		fail "/dev/full: exit $RX_RC: $(cat "$TMP/full.err")"
}
expect_clean full

echo "# 5. jumbo frames on MTU 9000: multi-buffer chains written whole"
lab_up -m 9000 || { echo "FAIL: lab_up -m 9000" >&2; exit 1; }
JUMBO=(ipv4:9014 ipv6:9014 ipv4:4200 ipv4:8192 vlan:9000 raw:20 ipv4:60)
start_rx jumbo --filter all -w "$TMP/jumbo.pcap" --count 507 -d 60 &&
{
	read -r cn cb < <(craft jumbo "${JUMBO[@]}")
	gb=$(gen --count 500 --size 9000,1500 --mode packet --rate 10k)
	stop_rx
	check_json jumbo 507 $((cb + gb))
	check_file jumbo "$TMP/jumbo.pcap" 507 $((cb + gb))
	same_frames jumbo "$TMP/jumbo.pcap" "$TMP/jumbo.ref.pcap" "$cn"
	c=$(json "$TMP/jumbo.out" .geometry.frame_size)
	[ "$c" -lt 9014 ] && ok "jumbo: $c-byte chunks, so 9014-byte frames came as chains" ||
		fail "jumbo: frame size $c"
}
expect_clean jumbo

echo "# 6. --snaplen 100: every frame cut at 100 bytes, its length kept"
SNAP=(ipv4:9014 ipv4:3000 ipv4:1514 ipv6:101 ipv4:100 raw:20 ipv4:60)
start_rx snap --filter all -w "$TMP/snap.pcap" --snaplen 100 --count 7 -d 60 &&
{
	craft snap "${SNAP[@]}" >/dev/null
	stop_rx
	# a chain, two single buffers and 101 bytes cut to 100; 100, 20, 60 whole
	want=$((5 * 100 + 20 + 60))
	[ "$(pcap_frames "$TMP/snap.pcap")" = 7 ] && [ "$(pcap_bytes "$TMP/snap.pcap" 7)" = "$want" ] &&
	[ "$(json "$TMP/snap.out" .capture.bytes)" = "$want" ] &&
		ok "snaplen: 7 frames, $want bytes written" ||
		fail "snaplen: $(pcap_frames "$TMP/snap.pcap") frames, $(pcap_bytes "$TMP/snap.pcap" 7) bytes, want $want"
	lens=$(tcpdump -r "$TMP/snap.pcap" -nn -e 2>/dev/null | sed -n 's/.*, length \([0-9]*\):.*/\1/p' | head -n 1)
	[ "$lens" = 9014 ] && ok "snaplen: the record keeps the frame's length (9014)" ||
		fail "snaplen: first record's length '$lens', not 9014"
	tcpdump -r "$TMP/snap.pcap" 2>&1 | grep -q 'snapshot length 100' ||
		fail "snaplen: the file header does not say snapshot length 100"
}
expect_clean snap

lab_down
if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "all checks passed"
exit 0
