#!/usr/bin/env bash
# Set up, build and run every xfrag test suite:
#   default build      unit, stress, fuzz (standalone driver), integration, soak (root)
#   ASan+UBSan build   unit, fuzz
#   TSan build         stress
#   debug_frags build  unit, integration
#   clang libFuzzer    fuzz (bounded runs)
# Ends with one line "xfrag: N passed, N failed" and a non-zero exit on failure.
# Environment: XFRAG_TEST_QUICK=1 runs only the default build.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

bash scripts/setup-deps.sh || { echo "test.sh: installing dependencies failed" >&2; exit 1; }

PASS=0 FAIL=0 FAILED_BUILDS=()
SUMMARY=()

count_results() { # build-dir label
	local log="$1/meson-logs/testlog.json" p f
	[ -f "$log" ] || { FAIL=$((FAIL + 1)); SUMMARY+=("$2: no test log"); return; }
	p=$(grep -c '"result": "OK"' "$log" || true)
	f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
	PASS=$((PASS + p)); FAIL=$((FAIL + f))
	SUMMARY+=("$(printf '%-22s %3d passed, %d failed' "$2" "$p" "$f")")
}

# run_build DIR LABEL "SUITES" [meson setup args...]
run_build() {
	local dir=$1 label=$2 suites=$3; shift 3
	local sargs=() s
	echo "=== $label: meson setup $dir $*"
	if [ -d "$dir" ] && [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null || { rm -rf "$dir"; }
	fi
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null || { FAIL=$((FAIL + 1)); SUMMARY+=("$label: setup failed"); return; }
	fi
	if ! ninja -C "$dir" >"$dir.ninja.log" 2>&1; then
		cat "$dir.ninja.log"
		FAIL=$((FAIL + 1)); SUMMARY+=("$label: build failed"); return
	fi
	for s in $suites; do sargs+=(--suite "$s"); done
	meson test -C "$dir" --print-errorlogs --num-processes 2 "${sargs[@]}" || FAILED_BUILDS+=("$label")
	count_results "$dir" "$label"
}

SUITES="unit stress fuzz integration soak"
run_build build default "$SUITES"

if [ "${XFRAG_TEST_QUICK:-0}" != 1 ]; then
	run_build build-asan asan+ubsan "unit fuzz" \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	XFRAG_STRESS_OPS=60000 TSAN_OPTIONS="halt_on_error=1" \
		run_build build-tsan tsan "stress" -Db_sanitize=thread -Db_lundef=false
	run_build build-debug debug_frags "unit integration" -Ddebug_frags=true
	if command -v clang >/dev/null; then
		CC=clang run_build build-fuzz libfuzzer "fuzz" -Dfuzz=enabled \
			-Db_sanitize=address,undefined -Db_lundef=false
	fi
fi

echo
echo "=== summary"
for l in "${SUMMARY[@]}"; do echo "  $l"; done
# The record of what the long run moved: frames sent, lost, corrupted, leaked.
grep -h '^soak:' build/meson-logs/testlog.txt 2>/dev/null | sed 's/^/  /'
grep -h -E '^(frags [0-9]+, corrupt|UMEM per held)' build/meson-logs/testlog.txt 2>/dev/null | sed 's/^/  /'
[ "${#FAILED_BUILDS[@]}" -eq 0 ] || echo "  failing: ${FAILED_BUILDS[*]}"
echo "xfrag: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ] && [ "${#FAILED_BUILDS[@]}" -eq 0 ]
