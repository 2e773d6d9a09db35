#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# xfrag in one command: install what is missing, build, create a veth lab in
# a network namespace, and measure side by side at 64-byte frames
#	- the XDP_DROP ceiling of the lab (xfrag-bench xdp-drop),
#	- xfrag's receive path (xfrag-bench rx),
#	- the classic fixed-frame AF_XDP loop (xfrag-bench rx --fixed-frames),
# interleaved, with `xfrag-bench gen` (AF_XDP TX) in the namespace on CPU 0
# and the receiver on CPU 1. Prints a table; always removes the lab.
#
# Environment:
#	DEMO_SECONDS   seconds of traffic per receiver (default 10)
#	DEMO_ROUNDS    split them into this many interleaved rounds (default 2)
#	DEMO_SIZE      frame bytes (default 64)
#	DEMO_BUILD     build directory (default build)
#	DEMO_KEEP      directory to keep the raw results in (default: a temp dir,
#	               removed at the end)
# Needs root (namespaces, XDP). Runs without a terminal (CI=true, no stdin).
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
ROOT=$PWD

SECS=${DEMO_SECONDS:-10}
ROUNDS=${DEMO_ROUNDS:-2}
SIZE=${DEMO_SIZE:-64}
BUILD=${DEMO_BUILD:-build}

die() {
	echo "demo: $*" >&2
	exit 1
}
case $SECS in ''|*[!0-9.]*) die "DEMO_SECONDS must be a number of seconds, not '$SECS'" ;; esac
case $ROUNDS in ''|0|*[!0-9]*) die "DEMO_ROUNDS must be a positive integer, not '$ROUNDS'" ;; esac
[ "$(id -u)" = 0 ] || die "needs root: it creates a network namespace and attaches XDP programs (try: sudo $0)"

echo "== dependencies"
bash scripts/setup-deps.sh || die "installing dependencies failed (scripts/setup-deps.sh)"

echo "== build ($BUILD)"
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" >/dev/null || die "meson setup $BUILD failed"
fi
ninja -C "$BUILD" user/bench/xfrag-bench >"$ROOT/$BUILD.demo-ninja.log" 2>&1 || {
	tail -n 30 "$ROOT/$BUILD.demo-ninja.log" >&2
	die "the build failed (log: $BUILD.demo-ninja.log)"
}
rm -f "$ROOT/$BUILD.demo-ninja.log"
BENCH=$ROOT/$BUILD/user/bench/xfrag-bench
"$BENCH" rx --help >/dev/null 2>&1 ||
	die "$BENCH has no rx command: the build lacks AF_XDP support (clang, bpftool, libbpf, libxdp)"

OUT=${DEMO_KEEP:-}
if [ -n "$OUT" ]; then
	mkdir -p "$OUT"
else
	OUT=$(mktemp -d /tmp/xfrag-demo.XXXXXX)
fi
cleanup_out() {
	[ -n "${DEMO_KEEP:-}" ] || rm -rf "$OUT"
}
trap cleanup_out EXIT

echo "== lab"
# shellcheck source=scripts/lab.sh
. scripts/lab.sh
lab_up || die "could not create the lab (scripts/lab.sh)"
echo "   $LAB_HOST_IF ($LAB_HOST_IP) <-> $LAB_NS_IF ($LAB_NS_IP) in namespace $LAB_NS"

# shellcheck source=scripts/measure.sh
. scripts/measure.sh
MEASURE_BENCH=$BENCH
PER=$(awk -v s="$SECS" -v r="$ROUNDS" 'BEGIN { printf "%.3g", s / r }')
KINDS=(ceiling xfrag fixed)
declare -A LABEL=([ceiling]="XDP_DROP ceiling" [xfrag]="xfrag rx" [fixed]="fixed-frames rx")

echo "== measuring: $SIZE-byte frames, $ROUNDS round(s) of ${PER} s per receiver"
for ((r = 1; r <= ROUNDS; r++)); do
	for ((k = 0; k < 3; k++)); do
		# Rotate the order each round: no receiver always goes first.
		kind=${KINDS[$(((k + r - 1) % 3))]}
		if pps=$(measure "$kind" "$SIZE" "$PER" "$OUT/$kind.$r"); then
			printf '   round %d  %-18s %10s pps\n' "$r" "${LABEL[$kind]}" "$pps"
		else
			die "measuring $kind failed"
		fi
	done
done

# Medians over the rounds, then the table.
summary() { # KIND: "pps gen_pps p50 p99 drops"
	local kind=$1 f r files=()
	for ((r = 1; r <= ROUNDS; r++)); do files+=("$OUT/$kind.$r.rx"); done
	for f in "${files[@]}"; do tail -n 1 "$f"; done | jq -s -r '
		def median: sort | if length % 2 == 1 then .[length / 2 | floor]
			else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		[ (map(.rx_pps // .drop_pps) | median),
		  (map(.latency_ns.p50 // 0) | median),
		  (map(.latency_ns.p99 // 0) | median),
		  (map((.drops.rx_dropped // 0) + (.drops.rx_ring_full // 0)) | add) ]
		| map(floor) | @tsv'
}
read -r C_PPS _ _ _ <<<"$(summary ceiling)"
echo
printf 'xfrag demo: %d-byte frames, veth, AF_XDP copy mode, gen on CPU %s, receiver on CPU %s\n' \
	"$SIZE" "$MEASURE_GEN_CPU" "$MEASURE_RX_CPU"
printf '(median of %d interleaved round(s), %s s each)\n\n' "$ROUNDS" "$PER"
printf '%-18s %12s %11s %14s %14s %10s\n' "receiver" "frames/s" "vs ceiling" "latency p50" "latency p99" "drops"
printf '%-18s %12s %11s %14s %14s %10s\n' "------------------" "------------" "-----------" \
	"--------------" "--------------" "----------"
for kind in "${KINDS[@]}"; do
	read -r pps p50 p99 drops <<<"$(summary "$kind")"
	ratio=$(awk -v a="$pps" -v b="$C_PPS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	if [ "$kind" = ceiling ]; then
		printf '%-18s %12d %11s %14s %14s %10s\n' "${LABEL[$kind]}" "$pps" "1.00" "-" "-" "-"
	else
		printf '%-18s %12d %11s %11d ns %11d ns %10d\n' "${LABEL[$kind]}" "$pps" "$ratio" \
			"$p50" "$p99" "$drops"
	fi
done
echo
echo "Ratios between runs move by several percent on a shared 2-core VM; see"
echo "docs/bench.md and scripts/bench.sh for medians of more rounds."
[ -n "${DEMO_KEEP:-}" ] && echo "raw results: $OUT"
lab_down
exit 0
