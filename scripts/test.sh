#!/usr/bin/env bash
# Set up, build and run every xfrag test suite, then print one summary:
# per build and suite the tests passed, failed and skipped and the time it
# took, the skipped tests with their reasons, and last the line
#   xfrag: N passed, M failed, K skipped
# Exit status non-zero when anything failed, was missing or did not run.
#
# Builds (all with -Dbpf=enabled, so that a missing clang, bpftool, libbpf
# or libxdp fails the setup instead of silently dropping the AF_XDP tests;
# the ASan trees at -O1, ASan's usual setting, with UBSan findings fatal):
#   default       unit, stress, integration, soak
#   asan+ubsan    unit, fuzz (standalone driver, gcc)
#   tsan          unit, stress
#   debug_frags   unit, integration
#   libfuzzer     fuzz (clang, ASan+UBSan)
#
# Two lanes share the 2 CPUs. The network lane runs the integration and soak
# suites one after the other (they create veth labs and check host-wide
# state); they mostly wait, so the CPU lane (nice 19) builds the other trees
# and runs the CPU-bound suites beside them. Whatever depends on machine
# speed is bounded by time, not by count (fuzz_seconds, XFRAG_STRESS_SECONDS;
# XFRAG_STRESS_OPS is only an upper bound).
#
# Budgets, in wall seconds on a 2-core machine (the summary prints each
# step's time next to its budget and warns, without failing, when a step or
# the whole run goes over; the whole run must stay within 6 minutes):
#   lane  build         step          budget  bounded by
#   -     -             setup-deps        20  (the first install is extra)
#   -     default       build             40
#   net   default       unit              20
#   net   default       integration      110  the tests' own waits
#   net   default       soak              80  60 s of traffic
#   net   debug_frags   build             90  (in the CPU lane's shadow)
#   net   debug_frags   unit              20
#   net   debug_frags   integration      110
#   cpu   default       stress            25  XFRAG_STRESS_SECONDS=8
#   cpu   asan+ubsan    build            110  (nice 19)
#   cpu   asan+ubsan    unit              20
#   cpu   asan+ubsan    fuzz              40  fuzz_seconds=20, 2 targets at once
#   cpu   tsan          build            110
#   cpu   tsan          unit              30  the zero-copy double's threads
#   cpu   tsan          stress            40  XFRAG_STRESS_SECONDS=15
#   cpu   libfuzzer     build            110
#   cpu   libfuzzer     fuzz              40  fuzz_seconds=20
#   total                                360  (the network lane's sum + setup)
#
# Environment: XFRAG_TEST_QUICK=1 runs only the default build.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

CAP=360
STRESS_SECONDS=8 STRESS_OPS=400000000
TSAN_STRESS_SECONDS=15 TSAN_STRESS_OPS=40000000
FUZZ_SECONDS=20
# Every option in which the trees differ is given in full for each, so
# that an old build directory (reconfigured, not wiped) gives the same tree.
BASE=(-Dbpf=enabled -Dtests=true -Dfuzz=auto -Ddebug_frags=false
	-Dfuzz_seconds="$FUZZ_SECONDS" -Dbuildtype=debugoptimized
	-Db_sanitize=none -Db_lundef=true -Dc_args=)
# ASan+UBSan at -O1, UBSan findings fatal (by default they only print).
ASAN_ARGS=("${BASE[@]}" "-Db_sanitize=address,undefined" -Db_lundef=false
	-Doptimization=1 -Dc_args=-fno-sanitize-recover=all)
# TSan at -O1 too.
TSAN_ARGS=("${BASE[@]}" -Db_sanitize=thread -Db_lundef=false -Doptimization=1)
QUICK=${XFRAG_TEST_QUICK:-0}

budget() { # budget LABEL STEP
	case "$1 $2" in
	"- setup-deps") echo 20 ;;
	"default build") echo 40 ;;
	"debug_frags build") echo 90 ;; # beside the CPU lane's builds
	"asan+ubsan build" | "tsan build" | "libfuzzer build") echo 110 ;;
	"tsan unit") echo 30 ;;
	*" unit") echo 20 ;;
	*" integration") echo 110 ;;
	"default soak") echo 80 ;;
	"default stress") echo 25 ;;
	"tsan stress" | *" fuzz") echo 40 ;;
	*) echo 0 ;;
	esac
}
# Every step a full run must have, in the order of the summary.
STEPS=("- setup-deps" "default build" "default unit" "default stress"
	"default integration" "default soak")
[ "$QUICK" = 1 ] || STEPS+=("asan+ubsan build" "asan+ubsan unit" "asan+ubsan fuzz"
	"tsan build" "tsan unit" "tsan stress" "debug_frags build" "debug_frags unit"
	"debug_frags integration" "libfuzzer build" "libfuzzer fuzz")

STATE=$(mktemp -d)
# kill_tree PID: a lane and everything it started (Meson passes the TERM on
# to its tests, whose traps delete their labs).
kill_tree() {
	local kids k
	kids=$(pgrep -P "$1")
	kill -TERM "$1" 2>/dev/null
	for k in $kids; do kill_tree "$k"; done
}
cleanup() {
	local p
	for p in $(pgrep -P $$); do kill_tree "$p"; done
	wait 2>/dev/null
	rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
T0=$SECONDS

# say LINE...: one line to the console, never inside another lane's block.
say() { { flock 9; printf '%s\n' "$@"; } 9>"$STATE/lock"; }
# show FILE: a finished step's output, in one piece.
show() { { flock 9; cat "$1"; } 9>"$STATE/lock"; }
# record LABEL STEP STATUS SECONDS [DIR LOGBASE RC]
record() {
	local IFS=$'\t'
	echo "$*" >>"$STATE/records"
}
clock() { date +%T; }

# build DIR LABEL [meson setup args...]: configure (or reconfigure) and build.
build() {
	local dir=$1 label=$2 t=$SECONDS log="$1.ninja.log"
	shift 2
	if [ "${*:1:${#BASE[@]}}" = "${BASE[*]}" ]; then
		say "=== $(clock) $label: meson setup $dir \${BASE[@]} ${*:${#BASE[@]}+1}"
	else
		say "=== $(clock) $label: meson setup $dir $*"
	fi
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >"$log" 2>&1 &
		wait $! || rm -rf "$dir"
	fi
	if [ ! -f "$dir/build.ninja" ] && ! { meson setup "$dir" "$@" >"$log" 2>&1 & wait $!; }; then
		show "$log"
		record "$label" build "setup failed" $((SECONDS - t))
		return 1
	fi
	if ! { ninja -C "$dir" >>"$log" 2>&1 & wait $!; }; then
		show "$log"
		record "$label" build "build failed" $((SECONDS - t))
		return 1
	fi
	record "$label" build ok $((SECONDS - t))
	say "=== $(clock) $label: built in $((SECONDS - t)) s"
}

# suite DIR LABEL SUITE: run one suite; its log is meson-logs/testlog-SUITE.*
suite() {
	local dir=$1 label=$2 s=$3 t=$SECONDS out="$STATE/out.$2.$3" rc
	say "=== $(clock) $label: $s suite started"
	rm -f "$dir/meson-logs/testlog-$s.json" # never count an old run's results
	# In the background and waited for, so that a signal to this script is
	# handled at once, not when the suite ends.
	meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 \
		--suite "$s" --logbase "testlog-$s" >"$out" 2>&1 &
	wait $!
	rc=$?
	meson test -C "$dir" --no-rebuild --list --suite "$s" 2>/dev/null |
		grep ' / ' >"$STATE/list.$label.$s"
	record "$label" "$s" ran $((SECONDS - t)) "$dir" "testlog-$s" "$rc"
	echo "=== $(clock) $label: $s suite took $((SECONDS - t)) s" >>"$out"
	show "$out"
}

# A lane: a build and its suites, stopping at a failed build.
tree() { # tree DIR LABEL "SUITES" [meson setup args...]
	local dir=$1 label=$2 suites=$3 s
	shift 3
	build "$dir" "$label" "$@" || return 0
	for s in $suites; do suite "$dir" "$label" "$s"; done
}

t=$SECONDS
bash scripts/setup-deps.sh
rc=$?
record - setup-deps "$([ "$rc" = 0 ] && echo ok || echo failed)" $((SECONDS - t))
[ "$rc" = 0 ] || { echo "test.sh: installing dependencies failed" >&2; exit 1; }

say "=== BASE: ${BASE[*]}"
if build build default "${BASE[@]}"; then
	# The CPU lane: everything that computes rather than waits, at the
	# lowest priority so that the network lane's tests keep their timing.
	(
		renice -n 19 -p "$BASHPID" >/dev/null
		XFRAG_STRESS_SECONDS=$STRESS_SECONDS XFRAG_STRESS_OPS=$STRESS_OPS \
			suite build default stress
		[ "$QUICK" = 1 ] && exit 0
		tree build-asan asan+ubsan "unit fuzz" "${ASAN_ARGS[@]}"
		XFRAG_STRESS_SECONDS=$TSAN_STRESS_SECONDS XFRAG_STRESS_OPS=$TSAN_STRESS_OPS \
		TSAN_OPTIONS="halt_on_error=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}" \
			tree build-tsan tsan "unit stress" "${TSAN_ARGS[@]}"
		CC=clang tree build-fuzz libfuzzer fuzz "${ASAN_ARGS[@]}" -Dfuzz=enabled
	) </dev/null &
	CPU_LANE=$!
	if [ "$QUICK" != 1 ]; then
		(
			renice -n 19 -p "$BASHPID" >/dev/null
			build build-debug debug_frags "${BASE[@]}" -Ddebug_frags=true
		) </dev/null &
		DEBUG_BUILD=$!
	fi

	# The network lane, at normal priority, one suite after the other.
	suite build default unit
	suite build default integration
	suite build default soak
	if [ "$QUICK" != 1 ]; then
		wait "$DEBUG_BUILD"
		if grep -q $'^debug_frags\tbuild\tok\t' "$STATE/records"; then
			suite build-debug debug_frags unit
			suite build-debug debug_frags integration
		fi
	fi
	wait "$CPU_LANE"
fi
TOTAL=$((SECONDS - T0))

# ---- summary, from the records and Meson's test logs alone ----
row() { printf '  %-12s %-12s %-32s %5s %6s\n' "$@"; }
PASS=0 FAIL=0 SKIP=0
ROWS=() SKIPPED=() FAILED=() NOTES=() OVER=()
for step in "${STEPS[@]}"; do
	label=${step% *} what=${step#* }
	rec=$(awk -F'\t' -v l="$label" -v w="$what" '$1 == l && $2 == w' "$STATE/records" 2>/dev/null | tail -n 1)
	if [ -z "$rec" ]; then
		FAIL=$((FAIL + 1))
		FAILED+=("$label $what: did not run")
		ROWS+=("$(row "$label" "$what" "did not run" - "$(budget "$label" "$what")")")
		continue
	fi
	IFS=$'\t' read -r _ _ status secs dir logbase rc <<<"$rec"
	b=$(budget "$label" "$what")
	[ "$secs" -le "$b" ] || OVER+=("$label $what: ${secs} s, budget ${b} s")
	if [ "$status" != ran ]; then
		[ "$status" = ok ] || { FAIL=$((FAIL + 1)); FAILED+=("$label $what: $status"); }
		ROWS+=("$(row "$label" "$what" "$status" "$secs" "$b")")
		continue
	fi
	log="$dir/meson-logs/$logbase.json"
	p=0 f=0 k=0
	if [ -f "$log" ]; then
		p=$(jq -s '[.[] | select(.result == "OK" or .result == "EXPECTEDFAIL")] | length' "$log")
		k=$(jq -s '[.[] | select(.result == "SKIP")] | length' "$log")
		f=$(jq -s '[.[] | select(.result != "OK" and .result != "EXPECTEDFAIL" and .result != "SKIP")] | length' "$log")
		while IFS= read -r l; do FAILED+=("$label $l"); done < <(jq -r \
			'select(.result != "OK" and .result != "EXPECTEDFAIL" and .result != "SKIP") | "\(.name | sub(".*/ "; "")): \(.result)"' "$log")
		# The reason: the first line of its output that says SKIP: (or skipped:).
		while IFS= read -r l; do SKIPPED+=("$label $l"); done < <(jq -r 'select(.result == "SKIP") |
			(.name | sub(".*/ "; "")) + ": " + (((.stdout // "") + "\n" + (.stderr // "")) | split("\n") |
			map(select(test("(^|[^A-Za-z])(SKIP|[Ss]kipped):"))) |
			if length > 0 then (.[0] | sub("^.*?(SKIP|[Ss]kipped): *"; "")) else "(no reason printed)" end)' "$log")
		# What the long runs moved, and how many inputs the time-bounded ones got through.
		while IFS= read -r l; do NOTES+=("$l"); done < <(jq -r --arg b "$label" \
			'(.name | sub(".*/ "; "")) as $n | ((.stdout // "") + "\n" + (.stderr // "")) | split("\n")[] |
			select(test("^soak:|^frags [0-9]+, corrupt|^UMEM per held|inputs ok in|^Done [0-9]+ runs in")) |
			"\($b) \($n): \(.)"' "$log")
	fi
	# Every test the suite has must have a result: none may vanish.
	want=$(wc -l <"$STATE/list.$label.$what")
	if [ "$want" -eq 0 ]; then
		f=$((f + 1))
		FAILED+=("$label $what: the suite has no tests")
	elif [ ! -f "$log" ]; then
		f=$((f + 1))
		FAILED+=("$label $what: no test log ($log)")
	else
		while IFS= read -r n; do
			[ -n "$n" ] || continue
			f=$((f + 1))
			FAILED+=("$label ${n##*/ }: no result (listed, but did not run)")
		done < <(comm -23 <(sort "$STATE/list.$label.$what") <(jq -r .name "$log" | sort))
	fi
	if [ "$rc" != 0 ] && [ "$f" -eq 0 ]; then
		f=1
		FAILED+=("$label $what: meson test exited $rc")
	fi
	PASS=$((PASS + p)) FAIL=$((FAIL + f)) SKIP=$((SKIP + k))
	ROWS+=("$(row "$label" "$what" "$p passed, $f failed, $k skipped" "$secs" "$b")")
done
[ "$TOTAL" -le "$CAP" ] || OVER+=("the whole run: ${TOTAL} s, cap ${CAP} s")

echo
echo "=== summary (wall seconds per build and step; the CPU lane runs beside the network lane)"
row build step result time budget
for l in "${ROWS[@]}"; do echo "$l"; done
row total "" "" "$TOTAL" "$CAP"
for l in "${NOTES[@]}"; do echo "  $l"; done
for l in "${OVER[@]}"; do echo "  over budget: $l"; done
for l in "${FAILED[@]}"; do echo "  FAILED: $l"; done
echo "skipped: ${#SKIPPED[@]}"
for l in "${SKIPPED[@]}"; do echo "  SKIPPED: $l"; done
echo "xfrag: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" -eq 0 ]
