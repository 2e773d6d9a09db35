#!/usr/bin/env bash
# The embedding example (docs/examples/rx_min.c) receives what gen sends.
#   test_example.sh RX_MIN XFRAG_BENCH
set -u
rx_min=$(realpath "$1") bench=$(realpath "$2")
if [ "$(id -u)" -ne 0 ]; then
	echo "test_example.sh: FAIL: needs root (CAP_NET_ADMIN, CAP_BPF)" >&2
	exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lab.sh
source "$here/../../scripts/lab.sh"
lab_up || exit 1
out=$(mktemp)
"$rx_min" "$LAB_HOST_IF" 0 500 20 >"$out" 2>&1 &
pid=$!
lab_wait_xdp "$LAB_HOST_IF"
sleep 0.2
ip netns exec "$LAB_NS" "$bench" gen -i "$LAB_NS_IF" --count 500 --rate 50k \
	--dst-mac "$LAB_HOST_MAC" --quiet
wait "$pid"
rc=$?
cat "$out"
if [ $rc -ne 0 ] || ! grep -q "received 500 packets" "$out"; then
	echo "FAIL: rx_min exit $rc, expected 500 packets" >&2
	exit 1
fi
if lab_has_xdp "$LAB_HOST_IF"; then
	echo "FAIL: rx_min left its XDP program attached" >&2
	exit 1
fi
rm -f "$out"
echo "ok   example received 500 packets and detached"
