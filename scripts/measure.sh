# shellcheck shell=bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# One receive-rate measurement on a lab (scripts/lab.sh), shared by
# scripts/demo.sh and scripts/bench.sh. Source it after lab_up:
#
#	MEASURE_BENCH=build/user/bench/xfrag-bench
#	measure KIND SIZE SECONDS PREFIX
#
# KIND is one of
#	ceiling  xfrag-bench xdp-drop: the XDP_DROP ceiling of the lab
#	xfrag    xfrag-bench rx (frag-carved chunks)
#	fixed    xfrag-bench rx --fixed-frames (the classic baseline, 4096-byte frames)
#	fixed2k  the same with 2048-byte frames (aligned mode's other size)
#	xfrag-cb           xfrag with --copybreak 256
#	xfrag-r256/r512/r1k  xfrag with fill and rx rings of 256/512/1024
#	xfrag-b16k/b2m     xfrag with 16 KiB / 2 MiB blocks
#	capture    xfrag rx -w FILE: every frame written to a pcap file in
#	           /dev/shm (tmpfs; removed after the run), the writer thread
#	           on the receiver's CPU; the rate printed is frames written/s
#	capture-w0 the same with the writer on the generator's CPU ($MEASURE_GEN_CPU)
# The receiver runs on $LAB_HOST_IF pinned to CPU $MEASURE_RX_CPU (default 1),
# `xfrag-bench gen` sends SIZE-byte frames from the lab namespace for
# SECONDS, pinned to CPU $MEASURE_GEN_CPU (default 0); then the receiver is
# stopped with SIGINT. Leaves PREFIX.rx (stdout; JSON on the last line),
# PREFIX.rx.err, PREFIX.gen (JSON), PREFIX.gen.err, PREFIX.timeline and
# (rx) PREFIX.hist, and prints the receiver's rate in frames per second.
# Extra receiver flags: MEASURE_RX_ARGS. Returns non-zero if a step failed.

MEASURE_RX_CPU=${MEASURE_RX_CPU:-1}
MEASURE_GEN_CPU=${MEASURE_GEN_CPU:-0}

# Pin only where there are two CPUs to pin to.
_MEASURE_RX_PIN=() _MEASURE_GEN_PIN=()
if [ "$(nproc)" -ge 2 ]; then
	_MEASURE_RX_PIN=(--cpu "$MEASURE_RX_CPU")
	_MEASURE_GEN_PIN=(--cpu "$MEASURE_GEN_CPU")
fi

measure() {
	local kind=$1 size=$2 secs=$3 prefix=$4 pid rc=0 rx=() cap=
	local bench=${MEASURE_BENCH:?MEASURE_BENCH is not set}
	case $kind in
	ceiling) rx=(xdp-drop -i "$LAB_HOST_IF") ;;
	xfrag) rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" --latency-hist "$prefix.hist") ;;
	fixed) rx=(rx -i "$LAB_HOST_IF" --fixed-frames "${_MEASURE_RX_PIN[@]}"
		  --latency-hist "$prefix.hist") ;;
	fixed2k) rx=(rx -i "$LAB_HOST_IF" --fixed-frames -F 2048 "${_MEASURE_RX_PIN[@]}"
		  --latency-hist "$prefix.hist") ;;
	xfrag-cb) rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" --copybreak 256) ;;
	xfrag-r256) rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" -r 256) ;;
	xfrag-r512) rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" -r 512) ;;
	xfrag-r1k) rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" -r 1024) ;;
	xfrag-b16k) rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" --block-size 16K) ;;
	xfrag-b2m) rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" --block-size 2M) ;;
	capture) cap=/dev/shm/xfrag-measure-$$.pcap
		 rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" -w "$cap") ;;
	capture-w0) cap=/dev/shm/xfrag-measure-$$.pcap
		 rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" -w "$cap")
		 if [ "$(nproc)" -ge 2 ]; then rx+=(--write-cpu "$MEASURE_GEN_CPU"); fi ;;
	*) echo "measure: unknown kind '$kind'" >&2; return 2 ;;
	esac
	# shellcheck disable=SC2206
	[ "$kind" != ceiling ] && rx+=(${MEASURE_RX_ARGS:-})
	"$bench" "${rx[@]}" --json --timeline "$prefix.timeline" --replace \
		>"$prefix.rx" 2>"$prefix.rx.err" </dev/null &
	pid=$!
	for _ in $(seq 100); do
		grep -q ': ready' "$prefix.rx.err" 2>/dev/null && break
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "measure: $kind receiver failed: $(cat "$prefix.rx.err")" >&2
			wait "$pid"
			return 1
		fi
		sleep 0.1
	done
	ip netns exec "$LAB_NS" "$bench" gen -i "$LAB_NS_IF" --dst-ip "$LAB_HOST_IP" \
		--dst-mac "$LAB_HOST_MAC" --size "$size" --duration "$secs" \
		"${_MEASURE_GEN_PIN[@]}" --json --quiet \
		>"$prefix.gen" 2>"$prefix.gen.err" </dev/null || rc=1
	sleep 0.2
	kill -INT "$pid" 2>/dev/null
	wait "$pid" || rc=1
	if [ -n "$cap" ]; then rm -f "$cap"; fi
	if [ "$rc" != 0 ] || ! tail -n 1 "$prefix.rx" | jq -e . >/dev/null 2>&1; then
		echo "measure: $kind at $size B failed:" >&2
		tail -n 3 "$prefix.rx.err" "$prefix.gen.err" >&2
		return 1
	fi
	tail -n 1 "$prefix.rx" | jq -r '(.capture.pps // .rx_pps // .drop_pps) | floor'
}
