#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Where the sender's CPU spends its time: `perf record -e cpu-clock` of the
# CPU that runs the generator (and, on veth, NAPI, the XDP program and the
# kernel's copy into the chunks) while one receiver of scripts/measure.sh
# runs, then the symbols that take more than 0.5 %, in percent of the
# samples. Run it for the bare XDP_DROP ceiling and for a receiver and the
# difference is what that receiver's path costs the sender.
#
# usage: scripts/profile.sh [-b BUILD] [-t SECONDS] [-s SIZE] [-o DIR] KIND...
#	KIND as for scripts/bench.sh -k (ceiling, xfrag, xfrag-bp, dpdk, ...)
# Environment: PROFILE_LIMIT (default 0.5) is the smallest percentage
# reported (0.01 shows the XDP program's JIT addresses too).
# Writes DIR/KIND.SIZE.perf.txt (the report) and prints a table of the top
# symbols per kind side by side.
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=build SECS=5 SIZE=64 OUT=""
while getopts "b:t:s:o:h" opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	t) SECS=$OPTARG ;;
	s) SIZE=$OPTARG ;;
	o) OUT=$OPTARG ;;
	h) sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "profile: name at least one receiver kind" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "profile: needs root" >&2; exit 1; }
command -v perf >/dev/null || { echo "profile: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
case " $* " in
*" dpdk"*) bash scripts/setup-deps.sh --bench >/dev/null ;;
*) bash scripts/setup-deps.sh >/dev/null ;;
esac
OUT=${OUT:-results/profile-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ninja -C "$BUILD" user/bench/xfrag-bench >/dev/null
# shellcheck source=scripts/lab.sh
. scripts/lab.sh
lab_up >/dev/null || { echo "profile: could not create the lab" >&2; exit 1; }
# shellcheck source=scripts/measure.sh
. scripts/measure.sh
MEASURE_BENCH=$ROOT/$BUILD/user/bench/xfrag-bench

for kind in "$@"; do
	p=$OUT/$kind.$SIZE
	# The whole measurement under perf; the generator runs on
	# MEASURE_GEN_CPU, the CPU that is profiled.
	perf record -q -e cpu-clock -C "$MEASURE_GEN_CPU" -o "$p.perf.data" -- \
		sleep $((${SECS%.*} + 3)) 2>/dev/null &
	perf_pid=$!
	sleep 0.3
	pps=$(measure "$kind" "$SIZE" "$SECS" "$p") || pps=failed
	wait "$perf_pid" || true
	perf report -q -i "$p.perf.data" --sort symbol --percent-limit ${PROFILE_LIMIT:-0.5} --stdio 2>/dev/null |
		sed -n 's/^ *\([0-9.]*\)% *\[.\] *\(.*\)$/\1 \2/p' >"$p.perf.txt"
	rm -f "$p.perf.data"
	echo "== $kind at $SIZE B: $pps frames/s (CPU $MEASURE_GEN_CPU, top symbols, % of samples)"
	head -n 25 "$p.perf.txt" | awk '{ printf "   %6.2f  %s\n", $1, $2 }'
done
lab_down
echo "reports: $OUT"
