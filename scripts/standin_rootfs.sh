#!/usr/bin/env bash
# Debootstrap (once) the Debian root the stand-in Lambda base image is built from, and cache it
# as a tar: Debian trixie carries Python 3.13 (the default image's), bookworm Python 3.11 (legacy).
# Usage: scripts/standin_rootfs.sh 3.13|3.11   -> prints the cached tar's path.
set -euo pipefail
version=${1:-3.13}
case "$version" in
  3.13) suite=trixie ;;
  3.11) suite=bookworm ;;
  *) echo "no Debian suite known for Python $version" >&2; exit 2 ;;
esac
cache=${STANDIN_CACHE:-$HOME/.cache/cervical-fracture-lambda}
tar_path=$cache/rootfs-$suite.tar
if [ -s "$tar_path" ]; then echo "$tar_path"; exit 0; fi
command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install debootstrap" >&2; exit 3; }
mkdir -p "$cache"
root=$(mktemp -d "$cache/root-$suite.XXXXXX")
trap 'rm -rf "$root"' EXIT
# libstdc++6: ai-edge-litert and tflite-runtime link against it (Amazon Linux's base image has it).
debootstrap --variant=minbase --include=python3,python3-pip,libstdc++6,ca-certificates \
  "$suite" "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -cf "$tar_path.tmp" . && mv "$tar_path.tmp" "$tar_path"
echo "$tar_path"
