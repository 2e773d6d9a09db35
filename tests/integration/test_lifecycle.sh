#!/usr/bin/env bash
# Queue life cycle on veth: restart one queue of two under load; receive
# through the test's own XDP program. See lifecycle_test.c.
#   test_lifecycle.sh LIFECYCLE_TEST XFRAG_BENCH SCENARIO
set -u
bin=$(realpath "$1") bench=$(realpath "$2") scen=$3
if [ "$(id -u)" -ne 0 ]; then
	echo "test_lifecycle.sh: FAIL: needs root (CAP_NET_ADMIN, CAP_BPF) to create namespaces and attach XDP" >&2
	exit 1
fi
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/lab.sh
source "$here/../../scripts/lab.sh"
lab_up -q 2 || exit 1
"$bin" "$scen" "$LAB_HOST_IF" "$LAB_NS" "$LAB_NS_IF" "$bench"
rc=$?
if lab_has_xdp "$LAB_HOST_IF"; then
	echo "FAIL: an XDP program is still attached to $LAB_HOST_IF" >&2
	rc=1
fi
exit $rc
