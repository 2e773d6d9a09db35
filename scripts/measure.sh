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
#	ceiling  a bare XDP_DROP program (two instructions): the lab's ceiling;
#	         its rate is the device's XDP drop count over gen's duration
#	xdpdrop  xfrag-bench xdp-drop: xfrag's own program in DROP mode
#	xfrag    xfrag-bench rx (frag-carved chunks)
#	fixed    xfrag-bench rx --fixed-frames (the classic baseline, 4096-byte frames)
#	fixed2k  the same with 2048-byte frames (aligned mode's other size)
#	xfrag-cb           xfrag with --copybreak 256
#	xfrag-r256/r512/r1k  xfrag with fill and rx rings of 256/512/1024
#	xfrag-b16k/b2m     xfrag with 16 KiB / 2 MiB blocks
#	xfrag-bp           xfrag with --busy-poll
#	dpdk, dpdk0        DPDK's af_xdp PMD, dpdk-testpmd rxonly (busy_budget 64
#	                   and 0: neither wins consistently, take the better); its
#	                   rate is RX-packets over gen's duration
#	                   (scripts/setup-deps.sh --bench installs it)
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

# The bare ceiling: an XDP program that is nothing but "return XDP_DROP",
# built once. veth counts its drops per rx queue (ethtool -S).
_measure_bare_obj() {
	local dir=$1 obj=$1/bare_drop.bpf.o
	if [ ! -f "$obj" ]; then
		# No headers: 1 is XDP_DROP.
		printf '%s\n' \
			'__attribute__((section("xdp"), used)) int bare_drop(void *ctx) { return 1; }' \
			'char _license[] __attribute__((section("license"), used)) = "GPL";' \
			>"$dir/bare_drop.bpf.c"
		clang -O2 -target bpf -c "$dir/bare_drop.bpf.c" -o "$obj" || return 1
	fi
	echo "$obj"
}
_measure_xdp_drops() {
	ethtool -S "$1" 2>/dev/null | awk '/rx_queue_[0-9]+_xdp_drops:/ { n += $2 } END { print n + 0 }'
}

# gen in the lab namespace for SECONDS: PREFIX.gen (JSON), PREFIX.gen.err
_measure_gen() {
	local bench=$1 size=$2 secs=$3 prefix=$4
	ip netns exec "$LAB_NS" "$bench" gen -i "$LAB_NS_IF" --dst-ip "$LAB_HOST_IP" \
		--dst-mac "$LAB_HOST_MAC" --size "$size" --duration "$secs" \
		"${_MEASURE_GEN_PIN[@]}" --json --quiet \
		>"$prefix.gen" 2>"$prefix.gen.err" </dev/null
}

# What the receiver saw over gen's time on the wire; PREFIX.rx gets JSON.
_measure_rate_json() { # PREFIX FRAMES IMPL
	local secs
	secs=$(jq -r '.seconds' "$1.gen")
	jq -c -n --argjson n "$2" --argjson s "$secs" --arg impl "$3" \
		'{cmd: "measure", impl: $impl, frames: $n, seconds: $s, rx_pps: ($n / $s)}' >"$1.rx"
	tail -n 1 "$1.rx" | jq -r '.rx_pps | floor'
}

_measure_bare() { # SIZE SECONDS PREFIX
	local bench=${MEASURE_BENCH:?} obj d0 d1 rc=0
	obj=$(_measure_bare_obj "$(dirname "$3")") || { echo "measure: cannot build the bare XDP_DROP program" >&2; return 1; }
	ip link set dev "$LAB_HOST_IF" xdpdrv off 2>/dev/null
	ip link set dev "$LAB_HOST_IF" xdpdrv obj "$obj" sec xdp 2>"$3.rx.err" || {
		echo "measure: attaching the bare XDP_DROP program failed: $(cat "$3.rx.err")" >&2; return 1; }
	d0=$(_measure_xdp_drops "$LAB_HOST_IF")
	_measure_gen "$bench" "$1" "$2" "$3" || rc=1
	sleep 0.2
	d1=$(_measure_xdp_drops "$LAB_HOST_IF")
	ip link set dev "$LAB_HOST_IF" xdpdrv off
	[ "$rc" = 0 ] || { tail -n 3 "$3.gen.err" >&2; return 1; }
	: >"$3.timeline"
	_measure_rate_json "$3" $((d1 - d0)) bare-xdp-drop
}

_measure_dpdk() { # BUSY_BUDGET SIZE SECONDS PREFIX
	local bench=${MEASURE_BENCH:?} pid rc=0 n cpu=${MEASURE_RX_CPU} budget=""
	command -v dpdk-testpmd >/dev/null ||
		{ echo "measure: dpdk-testpmd is missing (bash scripts/setup-deps.sh --bench)" >&2; return 1; }
	[ "$1" = 64 ] || budget=",busy_budget=$1"
	[ "$(nproc)" -ge 2 ] || cpu=0
	dpdk-testpmd --no-pci --no-huge -m 1024 --no-telemetry --file-prefix="xfrag-bench-$$" \
		--lcores "0@$cpu,1@$cpu" \
		--vdev "net_af_xdp0,iface=$LAB_HOST_IF,start_queue=0,queue_count=1$budget" \
		-- --forward-mode=rxonly --stats-period 1 --nb-cores=1 \
		>"$4.dpdk" 2>"$4.rx.err" </dev/null &
	pid=$!
	for _ in $(seq 100); do
		grep -q 'RX-packets' "$4.dpdk" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || { echo "measure: dpdk-testpmd failed: $(tail -n 5 "$4.rx.err")" >&2; return 1; }
		sleep 0.1
	done
	_measure_gen "$bench" "$2" "$3" "$4" || rc=1
	sleep 0.2
	kill -INT "$pid" 2>/dev/null
	wait "$pid" || true
	[ "$rc" = 0 ] || { tail -n 3 "$4.gen.err" >&2; return 1; }
	# The forward statistics printed when it stops: the total RX-packets.
	n=$(sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' "$4.dpdk" | tail -n 1)
	[ -n "$n" ] || { echo "measure: no RX-packets from dpdk-testpmd" >&2; return 1; }
	: >"$4.timeline"
	_measure_rate_json "$4" "$n" "dpdk-af_xdp-busy_budget-$1"
}

measure() {
	local kind=$1 size=$2 secs=$3 prefix=$4 pid rc=0 rx=() cap=
	local bench=${MEASURE_BENCH:?MEASURE_BENCH is not set}
	case $kind in
	ceiling) _measure_bare "$size" "$secs" "$prefix"; return ;;
	dpdk) _measure_dpdk 64 "$size" "$secs" "$prefix"; return ;;
	dpdk0) _measure_dpdk 0 "$size" "$secs" "$prefix"; return ;;
	xdpdrop) rx=(xdp-drop -i "$LAB_HOST_IF") ;;
	xfrag) rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" --latency-hist "$prefix.hist") ;;
	xfrag-bp) rx=(rx -i "$LAB_HOST_IF" "${_MEASURE_RX_PIN[@]}" --busy-poll --latency-hist "$prefix.hist") ;;
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
	[ "$kind" != xdpdrop ] && rx+=(${MEASURE_RX_ARGS:-})
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
	_measure_gen "$bench" "$size" "$secs" "$prefix" || rc=1
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
