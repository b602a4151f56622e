#!/usr/bin/env bash
# Builds the Kafnus container image from the Containerfile with docker or
# podman (scripts/container-engine.sh picks one), naming the version and the
# git revision it is built from (labels and `kafnus --version`).
#   scripts/image.sh [TAG]       default: kafnus:<version> and kafnus:latest
# A second build on the same machine reuses the engine's layer cache and a
# compiler cache. Prints the image's size.
set -euo pipefail

kafnus_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/container-engine.sh
source "$kafnus_root/scripts/container-engine.sh"

version="$(sed -n 's/^project(kafnus VERSION \([0-9.]*\).*/\1/p' "$kafnus_root/CMakeLists.txt")"
revision="$(git -C "$kafnus_root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ "$revision" != unknown ] && [ -n "$(git -C "$kafnus_root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  revision="$revision-dirty"
fi
source_url="$(git -C "$kafnus_root" remote get-url origin 2>/dev/null || true)"
tags=("${1:-kafnus:$version}")
[ $# -eq 0 ] && tags+=(kafnus:latest)

ensure_base_images
tag_args=()
for t in "${tags[@]}"; do tag_args+=(-t "$t"); done

echo "[image] building ${tags[*]} (version $version, revision $revision) with $engine_name"
"${engine[@]}" build "${engine_build_flags[@]}" -f "$kafnus_root/Containerfile" "${tag_args[@]}" \
  --build-arg BUILD_BASE="$build_base" --build-arg RUNTIME_BASE="$runtime_base" \
  --build-arg VERSION="$version" --build-arg REVISION="$revision" --build-arg SOURCE="$source_url" \
  "$kafnus_root"
size="$("${engine[@]}" image inspect --format '{{.Size}}' "${tags[0]}")"
echo "[image] ${tags[0]}: $((size / 1000000)) MB"
