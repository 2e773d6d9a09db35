#!/usr/bin/env bash
# The installed library: `meson install` into a scratch DESTDIR, then
#  - every symbol libxfrag.so exports is listed in libxfrag.map and every
#    name the map lists is exported (the ABI is exactly what we say);
#  - the embedding example builds against the installed headers and
#    xfrag.pc alone, as a user's program would.
#   test_install.sh BUILD_DIR SOURCE_DIR
set -u
build=$(realpath "$1") src=$(realpath "$2")
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail=0

meson install -C "$build" --destdir "$dest" --quiet >/dev/null 2>&1 ||
	{ echo "FAIL: meson install"; exit 1; }
so=$(find "$dest" -name 'libxfrag.so.*.*' -type f | head -1)
[ -n "$so" ] || { echo "FAIL: no libxfrag.so installed"; exit 1; }

exported=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBR]/ { print $3 }' | sed 's/@.*//' | sort -u)
mapped=$(sed -n '/global:/,/local:/p' "$src/user/lib/libxfrag.map" | grep -E '^\s+[A-Za-z_]+;' | tr -d ' \t;' | sort -u)
extra=$(comm -23 <(echo "$exported") <(echo "$mapped"))
missing=$(comm -13 <(echo "$exported") <(echo "$mapped"))
[ -z "$extra" ] || { echo "FAIL: exported but not in libxfrag.map: $extra"; fail=1; }
[ -z "$missing" ] || { echo "FAIL: in libxfrag.map but not exported: $missing"; fail=1; }
echo "ok   $(echo "$exported" | wc -l) exported symbols match libxfrag.map"

pc=$(find "$dest" -name xfrag.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: no xfrag.pc installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
# Point pkg-config at the DESTDIR copy of the prefix.
sed "s|^prefix=.*|prefix=$dest$prefix|" "$pc" >"$dest/xfrag.pc"
for h in xfrag.h common.h frag.h xdp.h rxq.h txq.h; do
	[ -f "$dest$prefix/include/xfrag/$h" ] || { echo "FAIL: xfrag/$h not installed"; fail=1; }
done
if [ "$fail" = 0 ]; then
	flags=$(PKG_CONFIG_PATH="$dest" pkg-config --cflags --libs xfrag) ||
		{ echo "FAIL: pkg-config xfrag"; exit 1; }
	# shellcheck disable=SC2086
	if cc -std=gnu11 -Wall -Wextra -Werror -o "$dest/rx_min" "$src/docs/examples/rx_min.c" $flags \
		-Wl,-rpath,"$(dirname "$so")"; then
		echo "ok   docs/examples/rx_min.c builds against the installed headers and xfrag.pc"
	else
		echo "FAIL: the example does not build against the installed library"
		fail=1
	fi
fi
[ "$fail" = 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
