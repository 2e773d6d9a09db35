#!/usr/bin/env bash
# RX path end to end: run one rx-test scenario on a fresh veth lab.
#   test_rx.sh RX_TEST_BINARY SCENARIO
# Frame sizes 2048, 2304, 3000 and 4096 (with headrooms) each run 'frame';
# 'queues' gets a 2-queue veth; 'sigterm' checks the exit leaves no XDP.
set -u
bin=$1 scen=$2
if [ "$(id -u)" -ne 0 ]; then
	echo "test_rx.sh: FAIL: needs root (CAP_NET_ADMIN, CAP_BPF) to create namespaces and attach XDP" >&2
	exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lab.sh
source "$here/../../scripts/lab.sh"

no_xdp_left() {
	ip link show dev "$LAB_HOST_IF" >/dev/null 2>&1 || return 0 # deleted by the test
	if lab_has_xdp "$LAB_HOST_IF"; then
		echo "FAIL: an XDP program is still attached to $LAB_HOST_IF" >&2
		ip link show dev "$LAB_HOST_IF" >&2
		return 1
	fi
}

rc=0
case $scen in
queues)
	lab_up -q 2 || exit 1
	"$bin" queues "$LAB_HOST_IF" "$LAB_NS" "$LAB_NS_IF" || rc=1
	;;
huge)
	# Reserve 8 more 2 MiB pages for the run, and give them back after.
	old=$(cat /proc/sys/vm/nr_hugepages)
	trap 'echo "$old" > /proc/sys/vm/nr_hugepages' EXIT
	echo $((old + 8)) > /proc/sys/vm/nr_hugepages
	lab_up || exit 1
	if [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" -lt 8 ]; then
		echo "SKIP: could not reserve 8 hugepages" >&2
		exit 77
	fi
	"$bin" huge "$LAB_HOST_IF" "$LAB_NS" "$LAB_NS_IF" || rc=1
	;;
jumbo)
	lab_up -m 9000 || exit 1
	"$bin" jumbo "$LAB_HOST_IF" "$LAB_NS" "$LAB_NS_IF" || rc=1
	;;
frame)
	lab_up || exit 1
	# frame size:headroom; the frame must land at chunk + 256 + headroom
	for spec in 2048:0 2304:128 3000:200 4096:1000; do
		echo "--- frame size ${spec%:*}, headroom ${spec#*:}"
		"$bin" frame "$LAB_HOST_IF" "$LAB_NS" "$LAB_NS_IF" "${spec%:*}" "${spec#*:}" || rc=1
	done
	;;
sigterm)
	lab_up || exit 1
	out=$(mktemp)
	"$bin" sigterm "$LAB_HOST_IF" "$LAB_NS" "$LAB_NS_IF" >"$out" 2>&1 &
	pid=$!
	for _ in $(seq 100); do grep -q ready "$out" && break; sleep 0.1; done
	grep -q ready "$out" || { echo "FAIL: receiver did not start" >&2; cat "$out"; rc=1; }
	lab_has_xdp "$LAB_HOST_IF" || { echo "FAIL: no XDP program while running" >&2; rc=1; }
	kill -TERM "$pid"
	wait "$pid" || { echo "FAIL: receiver exit status $? after SIGTERM" >&2; rc=1; }
	cat "$out"
	rm -f "$out"
	no_xdp_left || rc=1
	;;
*)
	lab_up || exit 1
	"$bin" "$scen" "$LAB_HOST_IF" "$LAB_NS" "$LAB_NS_IF" || rc=1
	;;
esac
# Normal exit too: nothing may stay attached.
no_xdp_left || rc=1
exit $rc
