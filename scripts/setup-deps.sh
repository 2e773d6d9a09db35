#!/usr/bin/env bash
# Install every Debian package xfrag needs to build, test, benchmark and plot.
# --bench adds what only the benchmarks compare with: DPDK 22.11
# (dpdk-testpmd with the af_xdp PMD for scripts/bench.sh; the mempool
# library for `xfrag-bench alloc`'s DPDK rows). The tests never need it.
# Idempotent: does nothing (no apt-get update) when everything is already present.
set -euo pipefail

PKGS=(
  build-essential pkg-config meson ninja-build
  clang llvm lld libclang-rt-14-dev
  libbpf-dev libxdp-dev libelf-dev zlib1g-dev
  bpftool xdp-tools iproute2 ethtool
  linux-libc-dev
  valgrind gnuplot-nox python3 jq procps util-linux binutils
  groff-base libpcap-dev tcpdump
)
if [ "${1:-}" = --bench ]; then
  PKGS+=(dpdk dpdk-dev librte-net-af-xdp23 libdpdk-dev librte-mempool-ring23)
elif [ $# -gt 0 ]; then
  echo "usage: $0 [--bench]" >&2
  exit 2
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi

echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
