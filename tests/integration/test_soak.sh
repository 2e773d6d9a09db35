#!/usr/bin/env bash
# Soak: cycle lab up -> mixed-size traffic -> receiver restart -> lab down,
# for SOAK_SECONDS (default 60), asserting on every cycle that every frame
# sent was seen by the XDP program, redirected frames = delivered + named
# drops, nothing was corrupted, and that afterwards no XDP program,
# namespace, veth, receiver process or hugepage is left behind.
#   test_soak.sh XFRAG_BENCH [SECONDS]
set -u
bench=$(realpath "$1")
secs=${2:-${SOAK_SECONDS:-60}}
if [ "$(id -u)" -ne 0 ]; then
	echo "test_soak.sh: FAIL: needs root (CAP_NET_ADMIN, CAP_BPF)" >&2
	exit 1
fi
command -v jq >/dev/null || { echo "test_soak.sh: FAIL: jq missing (scripts/setup-deps.sh installs it)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lab.sh
source "$here/../../scripts/lab.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
huge0=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
end=$((SECONDS + secs))
cycles=0 runs=0 sent=0 seen=0 delivered=0 dropped=0 lost=0 corrupt=0 fails=0

fail() { echo "FAIL (cycle $cycles): $*" >&2; fails=$((fails + 1)); }

while [ $SECONDS -lt $end ] || [ $cycles -lt 2 ]; do
	cycles=$((cycles + 1))
	if [ $((cycles % 3)) -eq 0 ]; then
		lab_up -m 9000 || { fail "lab_up"; break; }
		sizes=64,1500,9000,594
	else
		lab_up || { fail "lab_up"; break; }
		sizes=imix
	fi
	for restart in 1 2; do
		n=$((3000 + RANDOM % 3000))
		runs=$((runs + 1))
		"$bench" rx -i "$LAB_HOST_IF" --filter udp --workload touch --count "$n" \
			--duration 20 --quiet --json >"$work/rx.json" 2>"$work/rx.err" &
		rxpid=$!
		# Start sending once the program is attached.
		lab_wait_xdp "$LAB_HOST_IF"
		sleep 0.2
		ip netns exec "$LAB_NS" "$bench" gen -i "$LAB_NS_IF" --count "$n" --size "$sizes" \
			--rate 100k --flows 4 --dst-mac "$LAB_HOST_MAC" --mode packet --quiet --json \
			>"$work/gen.json" 2>"$work/gen.err" || fail "gen: $(tail -1 "$work/gen.err")"
		wait "$rxpid" || fail "rx exited $?: $(tail -2 "$work/rx.err")"
		rx=$(tail -1 "$work/rx.json")
		g=$(tail -1 "$work/gen.json")
		s=$(jq -r '.sent // 0' <<<"$g")
		x=$(jq -r '.xdp.seen // 0' <<<"$rx")
		r=$(jq -r '.xdp.redirected // 0' <<<"$rx")
		d=$(jq -r '.accounting.delivered // .rx_packets // 0' <<<"$rx")
		# The kernel's drops of redirected frames, as test_rx_cli.sh counts
		# them: rx_fill_ring_empty is not one more (a frame dropped for an
		# empty fill ring counts in rx_dropped too), nor are the XDP
		# program's own failures (never redirected).
		k=$(jq -r '.drops | .rx_dropped + .rx_ring_full + .rx_invalid_descs' <<<"$rx")
		c=$(jq -r '.corrupt // 0' <<<"$rx")
		b=$(jq -r '.accounting.balanced' <<<"$rx")
		sent=$((sent + s)) seen=$((seen + x)) delivered=$((delivered + d))
		dropped=$((dropped + k)) corrupt=$((corrupt + c))
		[ "$s" -eq "$n" ] || fail "gen sent $s of $n"
		[ "$x" -eq "$s" ] || { fail "sent $s but the XDP program saw $x"; lost=$((lost + s - x)); }
		[ "$b" = true ] || fail "accounting not balanced: $(jq -c .accounting <<<"$rx")"
		[ "$r" -eq $((d + k)) ] || fail "redirected $r != delivered $d + drops $k"
		[ "$c" -eq 0 ] || fail "$c corrupt frames"
		lab_has_xdp "$LAB_HOST_IF" && fail "XDP program left after rx exit"
	done
	ns=$LAB_NS hif=$LAB_HOST_IF
	lab_down
	pgrep -f "xfrag-bench rx -i $hif" >/dev/null && fail "receiver still running"
	ip netns list | grep -q "^$ns\b" && fail "namespace $ns left"
	ip link show dev "$hif" >/dev/null 2>&1 && fail "veth $hif left"
done

huge1=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "$huge0" = "$huge1" ] || fail "hugepages free $huge0 -> $huge1"
leftover=$(ip -br link | grep -c "xf[hn]$$x" || true)
echo "soak: $cycles cycles, $runs receiver runs, $sent frames sent, $seen seen by XDP," \
	"$delivered delivered, $dropped counted drops, $lost lost unexplained," \
	"$corrupt corrupted, $leftover lab links left, hugepages free $huge0 -> $huge1"
if [ "$fails" -eq 0 ]; then
	echo "1 passed, 0 failed"
	exit 0
fi
echo "0 passed, 1 failed"
exit 1
