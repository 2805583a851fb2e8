#!/bin/sh
# The docs component installed into a temporary prefix: every page where man looks for it
# (share/man/man1) and rendered by `man -l` without a warning, the completions where
# bash-completion and zsh look for them. Usage: install_docs.sh BUILD_DIR
set -eu
build=$1
prefix=$(pwd)/docs_install
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" --component docs >/dev/null
fail=0
test -s "$prefix/share/bash-completion/completions/parkit" || { echo "no bash completion"; fail=1; }
test -s "$prefix/share/zsh/site-functions/_parkit" || { echo "no zsh completion"; fail=1; }
n=0
for page in "$build"/docs/*.1; do
    inst="$prefix/share/man/man1/$(basename "$page")"
    if ! cmp -s "$page" "$inst"; then
        echo "$(basename "$page"): not installed in share/man/man1"
        fail=1
        continue
    fi
    n=$((n + 1))
    if command -v man >/dev/null; then
        err=$(MAN_KEEP_STDERR=1 MANWIDTH=80 man --warnings -E UTF-8 -l "$inst" 2>&1 >/dev/null) || true
        [ -z "$err" ] || { echo "$(basename "$inst"): man -l: $err"; fail=1; }
    fi
done
[ "$n" -gt 1 ] || { echo "no pages installed"; fail=1; }
rm -rf "$prefix"
[ $fail = 0 ] && echo "installed $n pages and 2 completions"
exit $fail
