#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Plots of a scripts/bench.sh results directory, as SVG and PNG:
#	bench-pps       median frames/s per receiver and frame size, with the
#	                ratio to the XDP_DROP ceiling
#	bench-timeline  frames/s over time in one round (from the receivers'
#	                --timeline files), one panel per frame size
#	bench-latency   the XDP-to-user-space latency distribution (from rx
#	                --latency-hist, all rounds merged): the share of frames
#	                slower than x, log-log, one panel per frame size
#
# usage: scripts/plot.sh RESULTS_DIR [OUT_DIR]   (OUT_DIR default: docs)
# Environment: PLOT_ROUND picks the round of the timeline plot (default:
# the middle one).
set -euo pipefail
exec </dev/null

RES=${1:?usage: $0 RESULTS_DIR [OUT_DIR]}
OUT=${2:-$(cd "$(dirname "$0")/.." && pwd)/docs}
[ -f "$RES/summary.json" ] || { echo "plot: $RES/summary.json not found (run scripts/bench.sh)" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot: gnuplot is missing (scripts/setup-deps.sh)" >&2; exit 1; }
mkdir -p "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

SIZES=$(jq -r '[.[].size] | unique | map(tostring) | join(" ")' "$RES/summary.json")
ROUNDS=$(jq -r '[.[].runs] | max' "$RES/summary.json")
ROUND=${PLOT_ROUND:-$(((ROUNDS + 1) / 2))}
NS=$(wc -w <<<"$SIZES")

declare -A TITLE=([ceiling]="XDP_DROP ceiling" [xdpdrop]="xfrag program, DROP"
		 [xfrag]="xfrag rx" [xfrag-bp]="xfrag rx --busy-poll"
		 [dpdk]="DPDK af_xdp" [dpdk0]="DPDK af_xdp, busy_budget=0"
		 [fixed]="fixed-frames rx (4096)" [fixed2k]="fixed-frames rx (2048)")
declare -A COLOR=([ceiling]="#555555" [xdpdrop]="#999999" [xfrag]="#1f77b4"
		 [xfrag-bp]="#17becf" [dpdk]="#2ca02c" [dpdk0]="#98df8a"
		 [fixed]="#d62728" [fixed2k]="#ff9896")
KORDER='def k: {ceiling: 0, xdpdrop: 1, xfrag: 2, "xfrag-bp": 3, dpdk: 4, dpdk0: 5, fixed: 6, fixed2k: 7}[.] // 8;'
read -r -a KINDS <<<"$(jq -r "$KORDER"' [.[].kind] | unique | sort_by(k) | join(" ")' "$RES/summary.json")"
RXKINDS=()
for kind in "${KINDS[@]}"; do [ "$kind" = ceiling ] || RXKINDS+=("$kind"); done
NK=${#KINDS[@]}

# ---- bench-pps: clustered bars of the medians, one column pair per kind
jq -r --arg kinds "${KINDS[*]}" '
	($kinds | split(" ")) as $ks
	| group_by(.size)[] | . as $g
	| "\"\(.[0].size) B\" " + ($ks | map(. as $k | ($g | map(select(.kind == $k))[0])
		| "\(.pps_median // 0) \(.ratio_median // 1)") | join(" "))' \
	"$RES/summary.json" >"$TMP/pps.dat"

# ---- bench-timeline: one round's progress lines
for size in $SIZES; do
	for kind in "${KINDS[@]}"; do
		f=$RES/$kind.$size.$ROUND.timeline
		# Periods with traffic, less the first and last (partial) ones.
		[ -f "$f" ] && awk '!/^#/ && $2 > 0 { print $1, $2 }' "$f" |
			awk '{ l[NR] = $0 } END { for (i = (NR > 3 ? 2 : 1); i <= (NR > 3 ? NR - 1 : NR); i++) print l[i] }' \
			>"$TMP/tl.$kind.$size" || : >"$TMP/tl.$kind.$size"
		# Start each curve at its first second of traffic.
		awk 'NR == 1 { t0 = $1 - 1 } { print $1 - t0, $2 }' "$TMP/tl.$kind.$size" \
			>"$TMP/tl.$kind.$size.dat"
	done
done

# ---- bench-latency: merged histograms -> share of frames slower than x
for size in $SIZES; do
	for kind in "${RXKINDS[@]}"; do
		# Receivers without a histogram (the ceiling, DPDK) have no files.
		{ cat "$RES/$kind.$size".*.hist 2>/dev/null || true; } | awk '!/^#/ { n[$1] += $2; t += $2 }
			END { for (v in n) print v, n[v], t }' | sort -n |
			awk '{ c += $2; s = 1 - c / $3; if (s > 0) print $1, s }' >"$TMP/lat.$kind.$size.dat"
	done
done

# plot_lines FILE_PREFIX SIZE STYLE KIND...: one "plot" command, a curve a kind
plot_lines() {
	local pre=$1 size=$2 style=$3 kind sep="plot"
	shift 3
	for kind in "$@"; do
		printf "%s '%s' with %s lc rgb '%s' title '%s'" "$sep" "$TMP/$pre.$kind.$size.dat" \
			"$style" "${COLOR[$kind]:-#8c564b}" "${TITLE[$kind]:-$kind}"
		sep=", \\"$'\n'"    "
	done
	echo
}

plot_all() { # TERMINAL SUFFIX
	local term=$1 ext=$2 size j col
	{
		echo "set terminal $term"
		echo "set key noenhanced"
		echo "set output '$OUT/bench-pps.$ext'"
		echo "set title 'Receive rate, median of $ROUNDS interleaved runs (veth, copy mode, 2 CPUs); labels: ratio to the ceiling'"
		echo "set style data histograms; set style histogram clustered gap 1"
		echo "set style fill solid 0.85 border -1; set boxwidth 0.9"
		echo "set ylabel 'frames per second'; set format y '%.0s%c'; set yrange [0:*]"
		echo "set grid ytics; set key top right"
		printf "plot"
		for ((j = 0; j < NK; j++)); do
			col=$((2 + 2 * j))
			[ "$j" = 0 ] && printf " '%s' using %d:xtic(1)" "$TMP/pps.dat" "$col" ||
				printf ", '' using %d" "$col"
			printf " title '%s' lc rgb '%s'" "${TITLE[${KINDS[$j]}]:-${KINDS[$j]}}" "${COLOR[${KINDS[$j]}]:-#8c564b}"
		done
		# Bar j of NK in a cluster (gap 1) sits at (j - (NK - 1) / 2) / (NK + 1).
		for ((j = 1; j < NK; j++)); do
			col=$((2 + 2 * j))
			printf ", '' using (\$0 + %s):%d:(sprintf('%%.2f', \$%d)) with labels offset 0,0.7 notitle" \
				"$(awk -v j=$j -v n=$NK 'BEGIN { printf "%.4f", (j - (n - 1) / 2) / (n + 1) }')" \
				"$col" "$((col + 1))"
		done
		echo
		echo "set style data lines; set xtics auto"

		echo "set output '$OUT/bench-timeline.$ext'"
		echo "set multiplot layout 1,$NS title 'Frames per second over time (round $ROUND)'"
		for size in $SIZES; do
			echo "set title '$size-byte frames'; set xlabel 'seconds'; set ylabel 'frames/s'"
			echo "set yrange [0:*]; set grid; set key bottom right"
			plot_lines tl "$size" linespoints "${KINDS[@]}"
		done
		echo "unset multiplot"

		echo "set output '$OUT/bench-latency.$ext'"
		echo "set multiplot layout 1,$NS title 'XDP program to user space: share of frames slower than x (all rounds)'"
		for size in $SIZES; do
			echo "set title '$size-byte frames'; set logscale xy; set format x '10^{%L}'; set format y '10^{%L}'"
			echo "set xlabel 'latency (ns)'; set ylabel 'P(latency > x)'; set grid; set key top right"
			echo "set xrange [100:*]; set yrange [1e-6:1]"
			plot_lines lat "$size" "steps lw 2" "${RXKINDS[@]}"
		done
		echo "unset multiplot"
	} >"$TMP/plot.$ext.gp"
	gnuplot "$TMP/plot.$ext.gp" || { echo "plot: gnuplot failed on $TMP/plot.$ext.gp:" >&2; cat -n "$TMP/plot.$ext.gp" >&2; exit 1; }
}
plot_all "svg size $((500 * NS)),420 dynamic font 'sans,11'" svg
plot_all "pngcairo size $((520 * NS)),440 font 'sans,10'" png
echo "plot: wrote $OUT/bench-pps, bench-timeline and bench-latency (.svg, .png)"
