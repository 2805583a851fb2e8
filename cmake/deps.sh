#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages parkit needs to build and test, when they are missing.
# As root (or with password-less sudo) it runs apt-get; otherwise it prints the exact command
# and exits 1, changing nothing.
set -euo pipefail
pkgs=(gcc g++ make cmake ninja-build pkg-config git libgsl-dev libgmp-dev libjansson-dev
      openmpi-bin libopenmpi-dev clang-14 libomp-14-dev libcurl4-openssl-dev curl
      libsleef-dev libuv1-dev gnuplot-nox libpng-dev libjpeg62-turbo-dev libhwloc-dev
      libflint-dev groff-base zsh chromium tidy)
missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
line="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
    sudo=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo="sudo"
else
    echo "parkit: missing packages: ${missing[*]}" >&2
    echo "parkit: run as root:  apt-get update && $line" >&2
    exit 1
fi
echo "parkit: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -q
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
