#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The receive benchmark: the XDP_DROP ceiling, xfrag rx and the fixed-frame
# baseline, interleaved (the order rotates every round), at each frame size,
# on a veth lab with `xfrag-bench gen` in the namespace on CPU 0 and the
# receiver on CPU 1. Writes into the results directory:
#	runs.jsonl     one JSON object per measurement: round, size, kind, pps,
#	               the receiver's and the generator's JSON
#	KIND.SIZE.ROUND.{rx,rx.err,gen,gen.err,timeline,hist}   raw outputs
#	summary.json   medians per size and kind; ratio = median of the
#	               per-round ratios to that round's ceiling
#	summary.md     the same as a Markdown table
# Then scripts/plot.sh DIR draws the plots.
#
# usage: scripts/bench.sh [-r ROUNDS] [-t SECONDS] [-s "64 1500"] [-o DIR]
#                         [-b BUILD] [-k "ceiling xfrag fixed"] [-m MTU] [-q] [-R DIR]
#	-k  receivers: ceiling (a bare XDP_DROP program), xdpdrop (xfrag's program
#	    in DROP mode), xfrag, xfrag-bp (--busy-poll), fixed (4096-byte frames),
#	    fixed2k (2048), dpdk and dpdk0 (DPDK's af_xdp PMD, busy_budget 64 / 0;
#	    scripts/setup-deps.sh --bench), xfrag-cb, xfrag-r256, xfrag-r512,
#	    xfrag-r1k, xfrag-b16k, xfrag-b2m, capture, capture-w0 (rx -w to
#	    /dev/shm; frames written/s) (scripts/measure.sh)
#	-m  lab MTU (e.g. 9000 for jumbo frames; gen then sends them with AF_PACKET)
#	-R DIR  only recompute DIR/summary.{json,md} from DIR/runs.jsonl
#	-q  wait (up to BENCH_QUIET_WAIT seconds, default 300) before each
#	    measurement until the CPUs are < 5 % busy: for shared machines
# Environment: MEASURE_RX_ARGS adds receiver flags (see scripts/measure.sh).
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
ROOT=$PWD

summarize() { # OUT: summary.json and summary.md from runs.jsonl
	local OUT=$1
	# Medians per (size, kind); the ratio is the median of per-round ratios to
	# the same round's ceiling, which cancels slow drifts of the machine.
	jq -s '
		def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
			else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		. as $runs
		| [ $runs | group_by(.size)[] | . as $s
		    | ($s | map(select(.kind == "ceiling")) | map({key: (.round | tostring), value: .pps}) | from_entries) as $ceil
		    | $s | group_by(.kind)[]
		    | { size: .[0].size, kind: .[0].kind, runs: length,
		        pps_median: (map(.pps) | median),
		        pps_min: (map(.pps) | min), pps_max: (map(.pps) | max),
		        ratio_median: (map(select($ceil[.round | tostring] != null) | .pps / $ceil[.round | tostring]) | median),
		        gen_pps_median: (map(.gen_pps) | median),
		        lat_p50_median: (map(.rx.latency_ns.p50 // empty) | median),
		        lat_p99_median: (map(.rx.latency_ns.p99 // empty) | median),
		        lat_p999_median: (map(.rx.latency_ns.p999 // empty) | median),
		        umem_peak_median: (map(.rx.umem_peak_bytes // empty) | median),
		        drops_total: (map((.rx.drops.rx_dropped // 0) + (.rx.drops.rx_ring_full // 0)
					+ (.rx.capture.dropped // 0)) | add),
		        frame_size: (.[0].rx.frame_size // null),
		        kernel_bytes_median: (map(.rx.kernel_bytes // empty) | median),
		        softirq_ms_median: (if .[0].cpu then [range(.[0].cpu.softirq_ms | length) as $i
				| map(.cpu.softirq_ms[$i]) | median] else null end) } ]' "$OUT/runs.jsonl" >"$OUT/summary.json"

	{
		echo "| frame | receiver | frames/s (median) | min .. max | vs XDP_DROP ceiling | latency p50 / p99 / p99.9 | UMEM peak | drops |"
		echo "|---:|---|---:|---:|---:|---:|---:|---:|"
		jq -r '
			def kname: {ceiling: "XDP_DROP ceiling (bare program)", xdpdrop: "xfrag program, DROP mode",
				    xfrag: "xfrag rx", "xfrag-bp": "xfrag rx --busy-poll", fixed: "fixed-frames rx (4096)",
				    dpdk: "DPDK af_xdp PMD, testpmd rxonly", dpdk0: "DPDK af_xdp PMD, busy_budget=0",
				    fixed2k: "fixed-frames rx (2048)", "xfrag-cb": "xfrag rx --copybreak 256",
				    "xfrag-r256": "xfrag rx, rings of 256", "xfrag-r512": "xfrag rx, rings of 512",
				    "xfrag-r1k": "xfrag rx, rings of 1024", "xfrag-b16k": "xfrag rx, 16 KiB blocks",
				    "xfrag-b2m": "xfrag rx, 2 MiB blocks",
				    capture: "xfrag rx -w /dev/shm (writer on the rx CPU)",
				    "capture-w0": "xfrag rx -w /dev/shm (writer on CPU 0)"}[.] // .;
			def k: {ceiling: 0, xdpdrop: 1, xfrag: 2, "xfrag-bp": 3, dpdk: 4, dpdk0: 5, fixed: 6, fixed2k: 7}[.] // 8;
			def n: if . == null then "-" else (. | floor | tostring) end;
			def r2: if . == null then "-" else (. * 100 | round | tostring) as $s
				| if ($s | length) < 3 then "0." + ("00" + $s)[-2:] else $s[:-2] + "." + $s[-2:] end end;
			def mib: if . == null then "-" else ((. / 1048576 * 10 | floor) / 10 | tostring) + " MiB" end;
			sort_by(.size, (.kind | k))[]
			| "| \(.size) B | \(.kind | kname) | \(.pps_median | n) | \(.pps_min | n) .. \(.pps_max | n) | "
			  + (if .kind == "ceiling" then "1.00" else (.ratio_median | r2) end)
			  + " | "
			  + (if .kind == "ceiling" then "-" else "\(.lat_p50_median | n) / \(.lat_p99_median | n) / \(.lat_p999_median | n) ns" end)
			  + " | \(.umem_peak_median | mib) | \(if .kind == "ceiling" then "-" else .drops_total end) |"' \
			"$OUT/summary.json"
	} >"$OUT/summary.md"
}

ROUNDS=5 SECS=10 SIZES="64 1500" OUT="" BUILD=build KINDS="ceiling xfrag fixed" QUIET=0
RESUM="" MTU=""
while getopts "r:t:s:o:b:k:m:qR:h" opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	t) SECS=$OPTARG ;;
	s) SIZES=$OPTARG ;;
	o) OUT=$OPTARG ;;
	b) BUILD=$OPTARG ;;
	k) KINDS=$OPTARG ;;
	m) MTU=$OPTARG ;;
	q) QUIET=1 ;;
	R) RESUM=$OPTARG ;;
	h) sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) exit 2 ;;
	esac
done
die() {
	echo "bench: $*" >&2
	exit 1
}
if [ -n "$RESUM" ]; then
	[ -f "$RESUM/runs.jsonl" ] || die "$RESUM/runs.jsonl not found"
	summarize "$RESUM"
	cat "$RESUM/summary.md"
	exit 0
fi
case $ROUNDS in ''|0|*[!0-9]*) die "-r wants a positive number of rounds" ;; esac
case $SECS in ''|*[!0-9.]*) die "-t wants seconds" ;; esac
[ "$(id -u)" = 0 ] || die "needs root (namespaces, XDP)"
# The packages, DPDK's too when a DPDK receiver is asked for.
case " $KINDS " in
*" dpdk"*) bash scripts/setup-deps.sh --bench >/dev/null || die "installing the packages failed" ;;
*) bash scripts/setup-deps.sh >/dev/null || die "installing the packages failed" ;;
esac
command -v jq >/dev/null || die "jq is missing (scripts/setup-deps.sh)"
OUT=${OUT:-results/bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" >/dev/null || die "meson setup $BUILD failed"
fi
ninja -C "$BUILD" user/bench/xfrag-bench >/dev/null || die "the build failed"
BENCH=$ROOT/$BUILD/user/bench/xfrag-bench
"$BENCH" rx --help >/dev/null 2>&1 || die "$BENCH has no rx command (no AF_XDP support)"

# shellcheck source=scripts/lab.sh
. scripts/lab.sh
lab_up ${MTU:+-m "$MTU"} || die "could not create the lab"
# shellcheck source=scripts/measure.sh
. scripts/measure.sh
MEASURE_BENCH=$BENCH

# CPU jiffies (all, idle) from /proc/stat, and ours from /proc/PID/stat.
cpu_all() {
	awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6 }' /proc/stat
}
# busy_frac SECONDS: the share of CPU time not idle (between our runs)
busy_frac() {
	local a1 i1 a2 i2
	read -r a1 i1 <<<"$(cpu_all)"
	sleep "$1"
	read -r a2 i2 <<<"$(cpu_all)"
	awk -v a=$((a2 - a1)) -v i=$((i2 - i1)) 'BEGIN { printf "%.3f", (a > 0 ? 1 - i / a : 0) }'
}
# Where the kernel's RX work ran: NET_RX softirqs raised and softirq time
# (jiffies) per CPU, as JSON {net_rx: [...], si: [...]}.
cpu_work() {
	local nr si
	nr=$(awk '/NET_RX:/ { for (i = 2; i <= NF; i++) printf "%s%s", (i > 2 ? "," : ""), $i }' /proc/softirqs)
	si=$(awk '/^cpu[0-9]/ { printf "%s%s", (n++ ? "," : ""), $8 }' /proc/stat)
	echo "{\"net_rx\": [$nr], \"si\": [$si]}"
}
wait_quiet() {
	local i b
	for ((i = 0; i < ${BENCH_QUIET_WAIT:-300}; i++)); do
		b=$(busy_frac 1)
		awk -v b="$b" 'BEGIN { exit !(b < 0.05) }' && return 0
		[ "$i" = 0 ] && echo "   (waiting for other processes to quiet down: ${b} busy)" >&2
	done
	echo "   (still busy after ${BENCH_QUIET_WAIT:-300} s; measuring anyway)" >&2
}

{
	echo "# xfrag receive benchmark"
	echo "date: $(date -u +%FT%TZ)"
	echo "kernel: $(uname -r)"
	echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs"
	echo "rounds: $ROUNDS, seconds: $SECS, sizes: $SIZES, kinds: $KINDS"
	echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+dirty')"
	echo "receiver extra args: ${MEASURE_RX_ARGS:-none}"
} >"$OUT/env.txt"
cat "$OUT/env.txt"
: >"$OUT/runs.jsonl"

read -r -a K <<<"$KINDS"
NK=${#K[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	for size in $SIZES; do
		for ((k = 0; k < NK; k++)); do
			kind=${K[$(((k + r - 1) % NK))]}
			p=$OUT/$kind.$size.$r
			[ "$QUIET" = 1 ] && wait_quiet
			cpu0=$(cpu_work)
			if ! pps=$(measure "$kind" "$size" "$SECS" "$p"); then
				echo "bench: round $r $kind $size B failed; going on" >&2
				continue
			fi
			cpu1=$(cpu_work)
			jq -c -n --argjson round "$r" --argjson size "$size" --arg kind "$kind" \
				--argjson pps "$pps" --argjson c0 "$cpu0" --argjson c1 "$cpu1" \
				--slurpfile rx <(tail -n 1 "$p.rx") --slurpfile gen <(tail -n 1 "$p.gen") \
				'{round: $round, size: $size, kind: $kind, pps: $pps,
				  gen_pps: $gen[0].pps, rx: $rx[0], gen: $gen[0],
				  cpu: {net_rx_softirqs: [range($c0.net_rx | length) | $c1.net_rx[.] - $c0.net_rx[.]],
					softirq_ms: [range($c0.si | length) | ($c1.si[.] - $c0.si[.]) * 10]}}' >>"$OUT/runs.jsonl"
			printf '   round %d  %5s B  %-8s %10s pps  (gen %s pps)\n' "$r" "$size" "$kind" "$pps" \
				"$(jq -r '.pps | floor' "$p.gen")"
		done
	done
done
lab_down

summarize "$OUT"
echo
cat "$OUT/summary.md"
echo
echo "results: $OUT   (plots: scripts/plot.sh $OUT)"
