#!/usr/bin/env bash
# Instructions per alloc + release pair, counted by callgrind (repeatable on a
# noisy machine, unlike time): the xfrag bulk path and the free-stack baseline.
#   scripts/callgrind-alloc.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
bin=$build/user/bench/xfrag-bench
ops=2000000
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" alloc --case single \
	--repeat 1 --ops $ops >/dev/null 2>&1
callgrind_annotate "$out" 2>/dev/null | awk -v ops=$ops '
	# self cost of the allocator files ("=>" lines are call edges)
	!/=>/ && /frag.h:|cache.c:|pool.c:|umem.c:/ { gsub(",", "", $1); x += $1 }
	END { printf "xfrag alloc+release: %.1f instructions per pair (inline fast path + slow paths)\n", x / (ops + 64000) }'
