#!/usr/bin/env bash
# Install what the benchmarks need beyond scripts/setup-deps.sh: DPDK 22.11
# (dpdk-testpmd (package dpdk-dev) with the af_xdp PMD for scripts/bench.sh, the mempool
# library for `xfrag-bench alloc`'s DPDK rows). Not needed by the tests.
# Idempotent: does nothing when everything is already present.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh

PKGS=(dpdk dpdk-dev librte-net-af-xdp23 libdpdk-dev librte-mempool-ring23)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && { echo "setup-bench-deps: all ${#PKGS[@]} packages present"; exit 0; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "setup-bench-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
	SUDO="sudo"
fi
echo "setup-bench-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
