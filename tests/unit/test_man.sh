#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# xfrag-bench(8): the man page the build generates from the option tables
#  - renders without a troff warning;
#  - lists, in each subcommand's section, every option that subcommand's
#    --help lists, with the same short flag;
#  - holds the options the CLI promises (below: a row dropped from a table
#    would vanish from --help and the page alike, so they are named here),
#    existing short flags with their meaning (-c is --copy, gen's -s is --size);
#  - is installed by `meson install` (into a scratch DESTDIR).
#
# usage: test_man.sh XFRAG_BENCH MAN_PAGE BUILD_DIR
set -u
bench=$(realpath "$1") page=$(realpath "$2") build=$(realpath "$3")
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }
command -v groff >/dev/null || { echo "FAIL: groff is missing (scripts/setup-deps.sh installs it)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The promise: today's options of each subcommand, short flag first where
# there is one ("-c:--copy"), "-N" for a short flag alone.
declare -A promised=(
	[alloc]="-c:--case -n:--ops -b:--batch -s:--size -B:--block-size -u:--umem-size
		 -r:--repeat -j:--json -h:--help"
	[rx]="-i:--iface -q:--queue --queues -F:--frame-size --headroom --block-size
	      -u:--umem-size -r:--ring-size -b:--batch --copybreak --filter --xdp-mode -N -S
	      --replace -z:--zerocopy -c:--copy --busy-poll -d:--duration --count
	      --workload -w:--write --snaplen --write-queue --write-cpu
	      --fixed-frames --cpu --latency-every --no-latency --no-devtune --interval --timeline
	      --latency-hist --quiet --json -h:--help"
	[gen]="-i:--iface -q:--queue -n:--count -d:--duration -R:--rate -s:--size --flows
	       --src-mac --dst-mac --src-ip --dst-ip --src-port --dst-port -m:--mode --cpu
	       -b:--batch -F:--frame-size -r:--ring-size -u:--umem-size -z:--zerocopy
	       -c:--copy --json --quiet -h:--help"
	[xdp-drop]="-i:--iface -d:--duration --filter --xdp-mode -N -S --replace --interval
		    --quiet --timeline --json -h:--help"
	[restore]="-i:--iface --state-dir -h:--help"
)
# Fewer options than this in a command's --help means this test's parser
# of --help is broken (commands with few options say so here).
declare -A min_opts=([restore]=3)

[ -s "$page" ] || { echo "FAIL: $page is missing or empty"; exit 1; }
if groff -man -Tascii -ww -z "$page" 2>"$tmp/warn" && [ ! -s "$tmp/warn" ]; then
	ok "the page renders without warnings"
else
	fail "groff warns: $(head -5 "$tmp/warn")"
fi
groff -man -Tascii -P-cbou "$page" 2>/dev/null >"$tmp/page.txt"
grep -q '^NAME' "$tmp/page.txt" && grep -q '^SYNOPSIS' "$tmp/page.txt" ||
	fail "no NAME or SYNOPSIS section"

# The subcommands this binary has, from its own list.
cmds=$("$bench" --help | awk '/^commands:/ { on = 1; next } on && NF { print $1 }')
[ -n "$cmds" ] || fail "xfrag-bench --help lists no command"

# tag_in SECTION TAG: the option's tag line ("       -b, --batch N") is there
tag_in() {
	grep -qE -- "^ {7}$2( |\\[|\$)" "$1"
}
for cmd in $cmds; do
	# The subcommand's section: from its heading to the next one.
	awk -v h="   xfrag-bench $cmd" '$0 == h { on = 1; next }
		on && (/^   xfrag-bench / || /^[A-Z]/) { exit } on' "$tmp/page.txt" >"$tmp/$cmd.txt"
	if [ ! -s "$tmp/$cmd.txt" ]; then
		fail "$cmd: no section in the page"
		continue
	fi
	# Every option --help lists, as --help pairs it.
	"$bench" "$cmd" --help >"$tmp/$cmd.help"
	n=0 missing=
	while read -r tag; do
		n=$((n + 1))
		tag_in "$tmp/$cmd.txt" "$tag" || missing="$missing '$tag'"
	done < <(sed -nE 's/^  (-[[:alnum:]], --[[:alnum:]-]+|-[[:alnum:]]|    --[[:alnum:]-]+)([ [].*|$)/\1/p' \
		 "$tmp/$cmd.help" | sed 's/^ *//')
	if [ "$n" -lt "${min_opts[$cmd]:-5}" ]; then
		fail "$cmd: only $n options in --help: the parser of this test is broken"
	elif [ -z "$missing" ]; then
		ok "$cmd: all $n options of --help are in the page"
	else
		fail "$cmd: in --help, not in the page:$missing"
	fi
	# The promised options, short flags with their meaning.
	missing=
	for p in ${promised[$cmd]:-}; do
		case $p in
		-?:--*) tag="${p%%:*}, ${p#*:}" ;;
		*) tag=$p ;;
		esac
		tag_in "$tmp/$cmd.txt" "$tag" || missing="$missing '$tag'"
		grep -qE -- "^  $tag([ [].*|\$)|^      $tag([ [].*|\$)" "$tmp/$cmd.help" ||
			missing="$missing '$tag' (--help)"
	done
	[ -n "${promised[$cmd]:-}" ] || fail "$cmd: a command this test does not know"
	if [ -z "$missing" ]; then
		ok "$cmd: the promised options and short flags are there"
	else
		fail "$cmd: missing:$missing"
	fi
done

# meson install puts it in man8.
if meson install -C "$build" --destdir "$tmp/dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1; then
	inst=$(find "$tmp/dest" -path '*/man8/xfrag-bench.8' | head -1)
	if [ -n "$inst" ] && cmp -s "$inst" "$page"; then
		ok "meson install: ${inst#"$tmp/dest"}"
	else
		fail "meson install did not install xfrag-bench.8 (found '${inst:-nothing}')"
	fi
else
	fail "meson install failed: $(tail -3 "$tmp/install.log")"
fi

[ "$fails" = 0 ] && { echo "all checks passed"; exit 0; }
echo "$fails check(s) failed"
exit 1
