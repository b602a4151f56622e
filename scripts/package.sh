#!/usr/bin/env bash
# Builds the Debian package kafnus_<version>_amd64.deb with CPack: the daemon
# (release build), /etc/kafnus/kafnus.yaml as a conffile, the systemd unit,
# the monitoring files under /usr/share/kafnus; Depends: from dpkg-shlibdeps.
#   scripts/package.sh                     release build in build-release/, package in dist/
#   scripts/package.sh --build-dir DIR     package an already built tree (the tests do)
#   scripts/package.sh --out DIR           where the .deb goes (default dist/)
# Install it with: apt-get install ./dist/kafnus_<version>_amd64.deb
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir=""
out="$root/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$(cd "$2" && pwd)"; shift 2 ;;
    --out) mkdir -p "$2"; out="$(cd "$2" && pwd)"; shift 2 ;;
    *) echo "usage: scripts/package.sh [--build-dir DIR] [--out DIR]" >&2; exit 2 ;;
  esac
done
command -v dpkg-shlibdeps >/dev/null || { echo "dpkg-shlibdeps is missing: apt-get install dpkg-dev" >&2; exit 2; }

if [ -z "$build_dir" ]; then
  cmake --preset release -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
  build_dir="$root/build-release"
  cmake --build "$build_dir" --target kafnus -- -j"$(nproc)"
fi
mkdir -p "$out"
(cd "$build_dir" && cpack -G DEB -B "$out/.cpack" >/dev/null)
deb="$(find "$out/.cpack" -maxdepth 1 -name 'kafnus_*.deb' | head -1)"
[ -n "$deb" ] || { echo "cpack made no package (see $out/.cpack)" >&2; exit 1; }
mv -f "$deb" "$out/"
rm -rf "$out/.cpack"
deb="$out/$(basename "$deb")"
echo "[package] $deb"
dpkg-deb --field "$deb" Package Version Architecture Depends
