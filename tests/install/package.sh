#!/bin/sh
# package.sh BUILD_DIR SOURCE_DIR: the Debian package of BUILD_DIR (cmake/PkPackage.cmake),
# made with cpack into ./package-out, then unpacked into a throw-away root without dpkg -i:
#   - dpkg-deb --info lists the dependencies, and every shared library that the program and
#     libparkit need (ELF NEEDED, resolved by the loader) belongs to one of those packages
#   - the unpacked usr/bin/parkit runs: --version, and a verified sumsq
#   - docs/example_pool.c compiles against the unpacked headers and parkit.pc and runs
set -eu
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
out=$PWD/package-out root=$PWD/package-root
fail() { echo "package.sh: $*" >&2; exit 1; }
command -v dpkg-deb > /dev/null || { echo "skipped: no dpkg-deb"; exit 77; }
rm -rf "$out" "$root"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" > package.log 2>&1 \
    || { cat package.log; fail "cpack failed"; }
deb=$(ls "$out"/parkit_*.deb) || fail "no .deb in $out"
dpkg-deb --info "$deb"
depends=$(dpkg-deb --field "$deb" Depends)
[ -n "$depends" ] || fail "the package has no Depends"
dpkg-deb -x "$deb" "$root"

# which installed package holds a library: dpkg knows /lib and /usr/lib paths apart
owner() {
    for p in "$1" "$(readlink -f "$1")" "/usr$1" "${1#/usr}"; do
        o=$(dpkg -S "$p" 2> /dev/null | head -n 1 | cut -d: -f1) && [ -n "$o" ] && { echo "$o"; return; }
    done
}
for elf in "$root/usr/bin/parkit" "$root"/usr/lib/libparkit.so.*.*.*; do
    for lib in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        case $lib in libparkit.so*) continue ;; esac
        path=$(LD_LIBRARY_PATH="$root/usr/lib" ldd "$elf" | awk -v l="$lib" '$1 == l { print $3 } $1 ~ "/" l "$" { print $1 }')
        [ -n "$path" ] || fail "$(basename "$elf") needs $lib, which the loader does not find"
        pkg=$(owner "$path")
        [ -n "$pkg" ] || fail "no Debian package holds $path ($lib)"
        echo "$depends" | tr ',' '\n' | sed 's/ *(.*//; s/ //g' | grep -qx "$pkg" \
            || fail "$(basename "$elf") needs $lib from $pkg, which Depends does not list: $depends"
        echo "$(basename "$elf"): $lib <- $pkg"
    done
done

"$root/usr/bin/parkit" --version | grep -q "^parkit [0-9]" || fail "the unpacked parkit --version failed"
"$root/usr/bin/parkit" sumsq --range 1000 --reps 1 --warmup 0 -t 1 > package-sumsq.out \
    || { cat package-sumsq.out; fail "the unpacked parkit sumsq failed"; }
grep -Eq 'verified +yes' package-sumsq.out || fail "the unpacked parkit did not verify"

PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" pkg-config --cflags --libs parkit > package-pc.txt
cc -std=c17 -Wall -Wextra -Werror "$src/docs/example_pool.c" -o package-example $(cat package-pc.txt)
LD_LIBRARY_PATH="$root/usr/lib" ./package-example || fail "example_pool against the package failed"
rm -rf "$root"
