#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# xfrag-bench rx / xdp-drop driven through a lab (scripts/lab.sh) with
# xfrag-bench gen as the sender:
#   - --count runs account for every frame: delivered + each named drop =
#     what the XDP program redirected (xfrag path, fixed-frame baseline,
#     touch, hold, workers, a starved UMEM that must drop);
#   - --json parses (jq) and agrees with the program's counters;
#   - every bad flag or impossible value exits non-zero, names the problem
#     and leaves no XDP program, socket or namespace behind;
#   - SIGTERM/SIGINT during a run: exit 0, a summary, nothing left attached;
#   - a program left by a killed run is reported as stale; --replace fixes it.
#
# The test runs in a network namespace of its own, so that the AF_XDP socket
# count in /proc/net/protocols is ours alone (other runs may share the host).
#
# usage: test_rx_cli.sh path/to/xfrag-bench
set -u

BENCH=${1:?usage: $0 path/to/xfrag-bench}
case $BENCH in /*) ;; *) BENCH=$PWD/$BENCH ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: this integration test needs root (CAP_NET_ADMIN, CAP_BPF," \
	     "CAP_SYS_ADMIN) to create namespaces, attach XDP programs and open" \
	     "AF_XDP sockets; run it as root" >&2
	exit 1
fi
for tool in jq ip; do
	command -v "$tool" >/dev/null || {
		echo "FAIL: '$tool' is missing (scripts/setup-deps.sh installs it)" >&2
		exit 1
	}
done
[ -x "$BENCH" ] || { echo "FAIL: $BENCH is not executable" >&2; exit 1; }
"$BENCH" rx --help >/dev/null 2>&1 || {
	echo "FAIL: $BENCH has no rx command (built without AF_XDP support?)" >&2
	exit 1
}

# Re-run ourselves inside a fresh network namespace.
# shellcheck source=cli_lib.sh
. "$HERE/cli_lib.sh"
cli_own_netns XFRAG_RXCLI_NS xfrag-rxcli "$0" "$BENCH"
cli_begin
# shellcheck source=../../scripts/lab.sh
. "$ROOT/scripts/lab.sh"
lab_up -q 2 || { echo "FAIL: lab_up" >&2; exit 1; }
IF=$LAB_HOST_IF

xdp_attached() {
	ip -d link show dev "$IF" | grep -qE 'prog/xdp|xdpgeneric|xdpdrv|xdpoffload'
}
xsk_sockets() { # AF_XDP sockets open in this namespace
	awk '$1 == "XDP" { print $3 }' /proc/net/protocols
}
our_namespaces() { # namespaces this test created and still has
	ip netns list | awk '{print $1}' | grep -c -E "^(xfrag-lab-$$-|$XFRAG_RXCLI_NS\$)"
}
NS_BEFORE=$(our_namespaces)
# expect_clean WHAT: nothing attached, no socket, no extra namespace
expect_clean() {
	local n
	if xdp_attached; then
		fail "$1: XDP program left on $IF: $(ip -d link show dev "$IF" | grep -E 'prog/xdp')"
		ip link set dev "$IF" xdp off 2>/dev/null
	fi
	n=$(xsk_sockets)
	[ "$n" = 0 ] || fail "$1: $n AF_XDP socket(s) left"
	[ "$(our_namespaces)" = "$NS_BEFORE" ] || fail "$1: namespaces changed: $(ip netns list)"
}
gen() { # gen ARGS...: send test frames from the lab namespace to $IF
	ip netns exec "$LAB_NS" "$BENCH" gen -i "$LAB_NS_IF" --dst-ip "$LAB_HOST_IP" \
		--dst-mac "$LAB_HOST_MAC" --quiet --json "$@" >"$TMP/gen.out" 2>"$TMP/gen.err"
}

# start_rx NAME ARGS...: the receiver in the background, waits until ready
start_rx() {
	local name=$1
	shift
	"$BENCH" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	RX_PID=$!
	if ! wait_ready "$TMP/$name.err" "$RX_PID"; then
		fail "$name: receiver never became ready: $(cat "$TMP/$name.err")"
		kill -KILL "$RX_PID" 2>/dev/null
		wait "$RX_PID" 2>/dev/null
		RX_PID=
		return 1
	fi
}
# stop_rx: wait for the receiver; its exit code in RX_RC
stop_rx() {
	{ wait "$RX_PID"; } 2>/dev/null   # no "Segmentation fault" job notice
	RX_RC=$?
	RX_PID=
}

# check_books NAME SENT: the JSON balances and agrees with the counters
check_books() {
	local f=$TMP/$1.out sent=$2 red del drops seen
	if ! tail -n 1 "$f" | jq -e . >/dev/null 2>&1; then
		fail "$1: the last stdout line is not JSON: $(tail -n 1 "$f")"
		return
	fi
	red=$(json "$f" .xdp.redirected)
	del=$(json "$f" .rx_packets)
	seen=$(json "$f" .xdp.seen)
	drops=$(json "$f" '.drops.rx_dropped + .drops.rx_ring_full + .drops.rx_invalid_descs')
	if [ "$seen" = "$sent" ]; then ok "$1: the program saw all $sent frames"; else
		fail "$1: the program saw $seen frames, gen sent $sent"; fi
	if [ "$red" = "$sent" ]; then ok "$1: redirected $red"; else
		fail "$1: redirected $red, expected $sent (filter)"; fi
	if [ $((del + drops)) = "$red" ]; then
		ok "$1: delivered $del + dropped $drops = redirected $red"
	else
		fail "$1: delivered $del + dropped $drops != redirected $red"
	fi
	[ "$(json "$f" .accounting.balanced)" = true ] || fail "$1: accounting.balanced is not true"
	[ "$(json "$f" .accounting.delivered)" = "$del" ] || fail "$1: accounting.delivered != rx_packets"
	# Every key the report promises.
	for k in rx_packets rx_bytes seconds rx_pps drops umem_bytes umem_peak_bytes \
		 latency_ns.p50 latency_ns.p99 latency_ns.p999 corrupt frame_size geometry mode \
		 drops.rx_dropped drops.rx_ring_full drops.rx_fill_ring_empty \
		 drops.rx_invalid_descs drops.xdp_redirect_failed xdp.redirect_failed; do
		json "$f" ".$k" >/dev/null 2>&1 || fail "$1: JSON has no '$k'"
	done
	# The byte count matches the program's.
	[ "$(json "$f" .xdp.redirected_bytes)" = "$(json "$f" .rx_bytes)" ] || [ "$drops" != 0 ] ||
		fail "$1: rx_bytes $(json "$f" .rx_bytes) != redirected_bytes $(json "$f" .xdp.redirected_bytes)"
}

# count_run NAME SENT RXARGS... -- GENARGS...
count_run() {
	local name=$1 sent=$2 rxargs=() genargs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do rxargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	genargs=("$@")
	echo "# $name"
	start_rx "$name" rx -i "$IF" --count "$sent" -d 60 --json --quiet "${rxargs[@]}" || return
	if ! gen --count "$sent" "${genargs[@]}"; then
		fail "$name: gen failed: $(cat "$TMP/gen.err")"
		kill -TERM "$RX_PID"
	fi
	local gsent
	gsent=$(json "$TMP/gen.out" .sent 2>/dev/null)
	[ "$gsent" = "$sent" ] || fail "$name: gen sent '$gsent', not $sent: $(cat "$TMP/gen.err")"
	stop_rx
	[ "$RX_RC" = 0 ] || fail "$name: rx exited $RX_RC: $(cat "$TMP/$name.err")"
	check_books "$name" "$sent"
	expect_clean "$name"
}

echo "# 1. bad flags and impossible values: non-zero exit, a message, nothing left"
# bad NAME PATTERN ARGS...: the command fails and stderr matches PATTERN
bad() {
	local name=$1 pat=$2 rc
	shift 2
	"$BENCH" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"
	rc=$?
	if [ "$rc" = 0 ]; then
		fail "$name: exit 0 for: $*"
	elif grep -qiE "$pat" "$TMP/bad.err"; then
		ok "$name: exit $rc, '$(head -n 1 "$TMP/bad.err")'"
	else
		fail "$name: exit $rc but no message matching '$pat': $(cat "$TMP/bad.err")"
	fi
	expect_clean "$name"
}
bad "unknown interface" "unknown interface 'nosuch0'" rx -i nosuch0 -d 1
bad "no interface" "interface is required" rx -d 1
bad "queue beyond the device" "queue 7 is out of range.*2 rx queues" rx -i "$IF" -q 7 -d 1
bad "queue list beyond" "queue 2 is out of range" rx -i "$IF" --queues 0,2 -d 1
bad "bad queue" "bad queue" rx -i "$IF" -q x -d 1
bad "frame size too small" "frame size 1024 out of range" rx -i "$IF" -F 1024 -d 1
bad "frame size too large" "frame size 8192 out of range" rx -i "$IF" -F 8192 -d 1
bad "fixed frame size" "frame size 3000 out of range.*2048 or 4096" rx -i "$IF" --fixed-frames -F 3000 -d 1
bad "block size" "block size 3000 is not a power of two" rx -i "$IF" --block-size 3000 -d 1
bad "block size too big" "block size 4194304 is not a power of two in" rx -i "$IF" --block-size 4M -d 1
bad "UMEM too small" "UMEM too small for the rings" rx -i "$IF" -u 1M -d 1
bad "UMEM too small (fixed)" "UMEM too small for the rings" rx -i "$IF" --fixed-frames -u 1M -d 1
bad "headroom" "headroom 4000 too large" rx -i "$IF" -F 4096 --headroom 4000 -d 1
bad "ring size" "ring size 1000 is not a power of two" rx -i "$IF" -r 1000 -d 1
bad "batch" "batch 0 out of range" rx -i "$IF" -b 0 -d 1
bad "filter" "bad filter 'udp:0'" rx -i "$IF" --filter udp:0 -d 1
bad "filter range" "bad filter 'udp:9100-9000'" rx -i "$IF" --filter udp:9100-9000 -d 1
bad "workload" "bad workload 'hold:0'" rx -i "$IF" --workload hold:0 -d 1
bad "workload name" "bad workload 'sleep'" rx -i "$IF" --workload sleep -d 1
bad "workers with fixed frames" "not workers" rx -i "$IF" --fixed-frames --workload workers:2 -d 1
bad "duration" "bad duration '-1'" rx -i "$IF" -d -1
bad "count" "bad count '0'" rx -i "$IF" --count 0
bad "xdp mode" "bad XDP mode 'fast'" rx -i "$IF" --xdp-mode fast -d 1
NCPU=$(nproc)
bad "CPU beyond the machine" "CPU $NCPU is not available" rx -i "$IF" --cpu "$NCPU" -d 1
bad "CPU list beyond the machine" "CPU $((NCPU + 6)) is not available" rx -i "$IF" --cpu "0,$((NCPU + 6))" -d 1
bad "busy-poll" "bad busy-poll" rx -i "$IF" --busy-poll=abc -d 1
bad "unknown option" "unrecognized option|usage" rx -i "$IF" --bogus
bad "extra argument" "unexpected argument 'extra'" rx -i "$IF" -d 1 extra
bad "timeline path" "cannot write the timeline" rx -i "$IF" -d 1 --timeline /nonexistent/dir/t
# Sizes that overflow or are too small for what the command must hold.
bad "UMEM size overflow" "bad UMEM size '17179869185G'" rx -i "$IF" -u 17179869185G -d 1
bad "block size overflow" "bad block size '17179869185G'" rx -i "$IF" --block-size 17179869185G -d 1
bad "batch overflow" "bad batch '17179869184G'" rx -i "$IF" -b 17179869184G -d 1
bad "alloc UMEM too small" "UMEM size 65536 is too small.*batches of 64" \
	alloc --umem-size 65536 --batch 64 --case single --ops 1000 --repeat 1
bad "alloc UMEM too small (mixed)" "UMEM size 262144 is too small" \
	alloc --umem-size 256K --case mixed --ops 1000 --repeat 1
bad "alloc UMEM overflow" "bad .*'17179869185G'" \
	alloc -u 17179869185G --case single --ops 1000 --repeat 1
bad "alloc block size" "block size 3000 is not a power of two" alloc --block-size 3000 --ops 1000 --repeat 1
bad "alloc size" "size 5000 .*at most" alloc --size 5000 --ops 1000 --repeat 1
bad "alloc repeat" "repeat 100 out of range" alloc --repeat 100 --ops 1000
# Capture (-w): what cannot be written or combined is refused before anything is attached.
bad "capture path" "cannot write the capture to '/nonexistent/dir/c.pcap'" \
	rx -i "$IF" -d 1 -w /nonexistent/dir/c.pcap
bad "capture with fixed frames" "write needs the frag allocator" \
	rx -i "$IF" -d 1 -w "$TMP/c.pcap" --fixed-frames
bad "capture with a workload" "does not combine with --workload hold:10" \
	rx -i "$IF" -d 1 -w "$TMP/c.pcap" --workload hold:10
bad "snaplen without -w" "need --write FILE" rx -i "$IF" -d 1 --snaplen 100
bad "snaplen" "snaplen 300000 out of range 0..262144" rx -i "$IF" -d 1 -w "$TMP/c.pcap" --snaplen 300000
bad "fill target beyond the ring" "fill target 5000 is larger than the ring" rx -i "$IF" -d 1 --fill-target 5000
bad "fill target with fixed frames" "fill-target needs the frag allocator" rx -i "$IF" -d 1 --fixed-frames --fill-target 64
bad "write queue" "write queue 100 is not a power of two" rx -i "$IF" -d 1 -w "$TMP/c.pcap" --write-queue 100
bad "writer CPU" "CPU $NCPU is not available" rx -i "$IF" -d 1 -w "$TMP/c.pcap" --write-cpu "$NCPU"
[ -e "$TMP/c.pcap" ] && fail "a refused capture left $TMP/c.pcap behind"
bad "xdp-drop interface" "unknown interface 'nosuch0'" xdp-drop -i nosuch0 -d 1
bad "xdp-drop duration" "bad duration" xdp-drop -i "$IF" -d 0
bad "xdp-drop filter" "bad filter" xdp-drop -i "$IF" --filter tcp:70000 -d 1

echo "# 2. --count runs: every frame delivered or its drop counted"
count_run "xfrag drop" 20000 --cpu 1 -- --cpu 0
count_run "xfrag fixed-frames" 20000 --fixed-frames --cpu 1 -- --cpu 0
count_run "xfrag touch 1500 B" 5000 --workload touch -- --size 1500
if [ "$(json "$TMP/xfrag touch 1500 B.out" .corrupt)" = 0 ] &&
   [ "$(json "$TMP/xfrag touch 1500 B.out" .verified)" = "$(json "$TMP/xfrag touch 1500 B.out" .rx_packets)" ]; then
	ok "touch: every delivered frame verified, none corrupt"
else
	fail "touch: corrupt $(json "$TMP/xfrag touch 1500 B.out" .corrupt), verified $(json "$TMP/xfrag touch 1500 B.out" .verified)"
fi
count_run "fixed touch imix" 5000 --fixed-frames --workload touch -- --size imix
[ "$(json "$TMP/fixed touch imix.out" .corrupt)" = 0 ] || fail "fixed touch: corrupt frames"
count_run "hold" 10000 --workload hold:3000 -- --rate 200k
count_run "workers" 20000 --workload workers:2 -- --rate 300k
count_run "fixed hold" 10000 --fixed-frames --workload hold:500 -- --rate 200k
count_run "copybreak" 10000 --copybreak 256 --workload hold:5000 -- --rate 200k
count_run "two queues" 10000 --queues 0,1 -- --rate 200k
count_run "port filter" 3000 --filter udp:9000-9100 -- --rate 100k
# A fixed fill target: the queue keeps exactly that many in the kernel.
count_run "fill target" 5000 --fill-target 300 -- --rate 100k
ft=$(json "$TMP/fill target.out" .fill_target)
kc=$(json "$TMP/fill target.out" .kernel_chunks)
if [ "$ft" = 300 ] && [ "$kc" -le 300 ]; then ok "fill target: 300, $kc chunks in the kernel"
else fail "fill target: target '$ft', kernel chunks '$kc' (want 300, <= 300)"; fi

# A UMEM that the hold workload pins entirely: the fill ring runs dry and
# the kernel must drop (and count) the rest.
echo "# starved UMEM"
start_rx starved rx -i "$IF" --count 5000 -d 60 --json --quiet -r 256 -u 2M \
	--workload hold:100000 || true
if [ -n "$RX_PID" ]; then
	gen --count 5000 --rate 100k || fail "starved: gen failed"
	stop_rx
	[ "$RX_RC" = 0 ] || fail "starved: rx exited $RX_RC: $(cat "$TMP/starved.err")"
	check_books starved 5000
	d=$(json "$TMP/starved.out" .drops.rx_fill_ring_empty)
	[ "$d" -gt 0 ] && ok "starved: $d drops for an empty fill ring" ||
		fail "starved: no fill-ring drops ($d)"
	expect_clean starved
fi

echo "# 3. --json numbers against the program's own counters"
# --count, not a SIGINT after gen: a receiver that lags on a loaded
# machine would leave frames to the drain at stop, which takes no stamps.
start_rx jsonrun rx -i "$IF" --count 3000 -d 60 --json --quiet --fixed-frames || true
if [ -n "$RX_PID" ]; then
	gen --count 3000 --rate 100k --cpu 0
	stop_rx
	f=$TMP/jsonrun.out
	[ "$RX_RC" = 0 ] || fail "json: rx exited $RX_RC"
	[ "$(json "$f" .cmd)" = rx ] && [ "$(json "$f" .impl)" = fixed ] &&
		[ "$(json "$f" .mode)" = copy ] && [ "$(json "$f" .frame_size)" = 4096 ] &&
		ok "json: impl fixed, copy mode, 4096-byte frames" ||
		fail "json: impl/mode/frame_size wrong: $(tail -n 1 "$f")"
	check_books jsonrun 3000
	p=$(json "$f" .rx_pps)
	awk -v p="$p" 'BEGIN { exit !(p > 0) }' && ok "json: rx_pps $p" || fail "json: rx_pps '$p'"
	# One frame in 64 is stamped, chosen by the program's per-CPU count of
	# the frames it saw (all on the sender's CPU here): exactly 3000 / 64.
	[ "$(json "$f" .accounting.drained_at_stop)" = 0 ] || fail "json: $(json "$f" .accounting.drained_at_stop) frames drained at stop"
	s=$(json "$f" .latency_ns.samples)
	[ "$s" = $((3000 / 64)) ] && [ "$(json "$f" .latency_ns.every)" = 64 ] &&
		ok "json: $s latency samples, one frame in 64" || fail "json: $s latency samples"
	expect_clean json
fi

echo "# 4. SIGTERM and SIGINT during a run"
for sig in TERM INT; do
	start_rx "sig$sig" rx -i "$IF" --quiet --workload hold:1000 || continue
	gen --duration 3 --rate 50k &
	GEN=$!
	sleep 1
	kill -"$sig" "$RX_PID"
	stop_rx
	wait "$GEN"
	f=$TMP/sig$sig.out
	[ "$RX_RC" = 0 ] && ok "SIG$sig: exit 0" || fail "SIG$sig: exit $RX_RC: $(cat "$TMP/sig$sig.err")"
	grep -q "accounting redirected" "$f" && ok "SIG$sig: summary printed" ||
		fail "SIG$sig: no summary: $(cat "$f")"
	grep -q "balanced" "$f" || fail "SIG$sig: accounting not balanced: $(grep accounting "$f")"
	expect_clean "SIG$sig"
done

echo "# 4b. a crash (SIGSEGV, SIGABRT) still detaches the program"
for sig in SEGV ABRT; do
	start_rx "crash$sig" rx -i "$IF" --quiet --fixed-frames || continue
	kill -"$sig" "$RX_PID"
	stop_rx
	[ "$RX_RC" -gt 128 ] && ok "SIG$sig: died of the signal ($RX_RC)" ||
		fail "SIG$sig: exit $RX_RC"
	expect_clean "SIG$sig"
done

echo "# 5. a killed run leaves nothing: the kernel detaches its bpf_link"
start_rx killed rx -i "$IF" --quiet || true
if [ -n "$RX_PID" ]; then
	xdp_attached || fail "no program while rx runs?"
	kill -KILL "$RX_PID"
	wait "$RX_PID" 2>/dev/null
	RX_PID=
	xdp_attached && fail "SIGKILL left the program attached" ||
		ok "SIGKILL: no program left on $IF"
	if "$BENCH" rx -i "$IF" -d 0.5 --quiet >"$TMP/after.out" 2>"$TMP/after.err"; then
		ok "the next start needs no flag"
	else
		fail "rx after a SIGKILL failed: $(cat "$TMP/after.err")"
	fi
	if "$BENCH" rx -i "$IF" -d 0.5 --replace --quiet >"$TMP/replace.out" 2>&1; then
		ok "--replace with nothing to replace"
	else
		fail "--replace failed: $(cat "$TMP/replace.out")"
	fi
	expect_clean replace
fi

echo "# 5b. --busy-poll tunes the interface for the run and restores it"
napi() { # napi: "napi_defer_hard_irqs gro_flush_timeout" of $IF
	echo "$(cat "/sys/class/net/$IF/napi_defer_hard_irqs") $(cat "/sys/class/net/$IF/gro_flush_timeout")"
}
STATE=$TMP/devtune
ORIG=$(napi)
start_rx bp rx -i "$IF" --busy-poll --quiet --json || true
if [ -n "$RX_PID" ]; then
	[ "$(napi)" = "2 50000" ] && ok "busy-poll: napi_defer_hard_irqs 2, gro_flush_timeout 50000 during the run" ||
		fail "busy-poll: settings during the run: $(napi)"
	gen --count 2000 --cpu 0
	kill -INT "$RX_PID"
	stop_rx
	[ "$RX_RC" = 0 ] || fail "busy-poll: exit $RX_RC: $(cat "$TMP/bp.err")"
	check_books bp 2000
	# veth links no NAPI instance to its queues: nothing to busy-poll.
	w=$(tail -n 1 "$TMP/bp.out" | jq -r .wakeups)
	grep -q "busy polling cannot run here" "$TMP/bp.err" && [ "$w" = 0 ] &&
		ok "busy-poll: veth has no NAPI for the queue: said so, no kicks" ||
		fail "busy-poll: kicks $w: $(cat "$TMP/bp.err")"
	[ "$(napi)" = "$ORIG" ] && ok "busy-poll: settings restored on SIGINT ($ORIG)" ||
		fail "busy-poll: after SIGINT: $(napi), was $ORIG"
fi
# A SIGKILL cannot restore: the saved state can, by command or next start.
# killed_bp NAME: a --busy-poll receiver, SIGKILLed once ready (1: never was).
killed_bp() {
	start_rx "$1" rx -i "$IF" --busy-poll --quiet || return 1
	kill -KILL "$RX_PID"
	wait "$RX_PID" 2>/dev/null
	RX_PID=
}
if killed_bp bpk; then
	[ "$(napi)" = "2 50000" ] && ok "busy-poll: SIGKILL leaves the settings (nothing can catch it)" ||
		fail "busy-poll: after SIGKILL: $(napi)"
	if "$BENCH" restore -i "$IF" >"$TMP/restore.out" 2>&1 && [ "$(napi)" = "$ORIG" ]; then
		ok "restore: settings back ($(tail -n 1 "$TMP/restore.out"))"
	else
		fail "restore: $(napi), was $ORIG: $(cat "$TMP/restore.out")"
	fi
	"$BENCH" restore -i "$IF" 2>&1 | grep -q "nothing to restore" &&
		ok "restore: a second time there is nothing to restore" ||
		fail "restore: the saved state is still there"
fi
if killed_bp bpk2; then
	if "$BENCH" rx -i "$IF" --busy-poll -d 0.3 --quiet >"$TMP/bpk3.out" 2>&1 &&
	   [ "$(napi)" = "$ORIG" ]; then
		ok "busy-poll: the next start restored what a SIGKILL left, and its own on exit"
	else
		fail "busy-poll after a SIGKILL: $(napi), was $ORIG: $(tail -n 3 "$TMP/bpk3.out")"
	fi
fi
"$BENCH" rx -i "$IF" --busy-poll --no-devtune -d 0.3 --quiet >/dev/null 2>&1 &&
	[ "$(napi)" = "$ORIG" ] && ok "--no-devtune: the device untouched" ||
	fail "--no-devtune: $(napi), was $ORIG"
expect_clean busy-poll

echo "# 6. xdp-drop: the XDP_DROP ceiling"
"$BENCH" xdp-drop -i "$IF" -d 60 --json --quiet >"$TMP/drop.out" 2>"$TMP/drop.err" &
RX_PID=$!
if wait_ready "$TMP/drop.err" "$RX_PID"; then
	gen --count 20000 --cpu 0
	kill -TERM "$RX_PID"
	stop_rx
	[ "$RX_RC" = 0 ] || fail "xdp-drop exited $RX_RC"
	d=$(json "$TMP/drop.out" .dropped)
	[ "$d" = 20000 ] && ok "xdp-drop: dropped all 20000" || fail "xdp-drop: dropped '$d'"
	p=$(json "$TMP/drop.out" .drop_pps)
	awk -v p="$p" 'BEGIN { exit !(p > 0) }' && ok "xdp-drop: $p pps" || fail "xdp-drop: pps '$p'"
else
	fail "xdp-drop never became ready: $(cat "$TMP/drop.err")"
	kill -KILL "$RX_PID" 2>/dev/null
	RX_PID=
fi
expect_clean xdp-drop

echo "# 7. the lab goes away"
lab_down
if ip netns list | grep -q "^xfrag-lab-$$-"; then fail "lab namespace left"; else ok "lab removed"; fi

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "all checks passed"
exit 0
