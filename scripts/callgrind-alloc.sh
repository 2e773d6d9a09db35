#!/usr/bin/env bash
# Instructions per op (one buffer allocated and released) of the
# single-thread rows of `xfrag-bench alloc`, counted by callgrind: counts
# are repeatable on a noisy machine, unlike time. Each row runs alone
# (--only ROW) twice, with N and 2N ops; the difference over N is the cost
# of one more op, everything included (inline fast paths, slow paths, the
# benchmark's own loop) and set-up, warm-up and EAL start excluded.
# xfrag and DPDK rows come from the same compiler with the same flags
# (user/bench/meson.build).
#   scripts/callgrind-alloc.sh [BUILD_DIR] [ROWS] [-- extra xfrag-bench alloc options]
# ROWS defaults to "single bound owner stack dpdk dpdk-nocache mixed stack-mixed"
# (the DPDK rows where the benchmark was built with DPDK). The cross-thread rows are left
# out: valgrind runs one thread at a time, so their spin-waits would count.
set -euo pipefail
build=${1:-build}
rows=${2:-}
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
bin=$build/user/bench/xfrag-bench
n=${CALLGRIND_OPS:-1000000}
if [ -z "$rows" ]; then
	rows="single bound owner stack"
	"$bin" alloc --help | grep -q "dpdk" && grep -q XFRAG_BENCH_DPDK "$build/build.ninja" &&
		rows="$rows dpdk dpdk-nocache"
	rows="$rows mixed stack-mixed"
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ir() { # OPS ROW [options] -> the instructions of the whole run
	local ops=$1 row=$2
	shift 2
	valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" alloc --only "$row" \
		--repeat 1 --ops "$ops" "$@" >/dev/null 2>&1 </dev/null
	awk '/^summary:/ { print $2 }' "$out"
}
extra=("$@")
for row in $rows; do
	a=$(ir "$n" "$row" ${extra[@]+"${extra[@]}"})
	b=$(ir $((2 * n)) "$row" ${extra[@]+"${extra[@]}"})
	awk -v a="$a" -v b="$b" -v n="$n" -v r="$row" \
		'BEGIN { printf "%-12s %6.2f instructions per op\n", r, (b - a) / n }'
done
