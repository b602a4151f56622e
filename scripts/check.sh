#!/usr/bin/env bash
# What a developer runs before committing: the format check (.clang-format),
# clang-tidy (.clang-tidy) on every source file of the project, and the
# repeated-code report for the uncommitted change (when `duplicates` is on
# the PATH). Needs a configured build/ (scripts/build.sh) for clang-tidy's
# compile commands. Exits non-zero when the format or clang-tidy finds
# something.
#   scripts/check.sh            all three
#   scripts/check.sh --fix      reformat the files instead of only checking them
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

folders=(app actors admin telemetry kafka postgis messages ngsi config text test bench)
mapfile -t files < <(git ls-files -- "${folders[@]/%//*.cpp}" "${folders[@]/%//*.hpp}")

if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  echo "[check] reformatted ${#files[@]} files"
  exit 0
fi

echo "[check] format (.clang-format)"
clang-format --dry-run -Werror "${files[@]}"

echo "[check] clang-tidy (.clang-tidy) on the project's sources"
[ -f build/compile_commands.json ] || "$root/scripts/build.sh" >/dev/null
mapfile -t sources < <(git ls-files -- "${folders[@]/%//*.cpp}" | grep -v '^test/fuzz/')
run-clang-tidy -quiet -p build -j "$(nproc)" "${sources[@]/#/$root/}" >/tmp/kafnus-clang-tidy.log 2>&1 || {
  grep -E 'warning:|error:' /tmp/kafnus-clang-tidy.log | sort -u
  echo "[check] clang-tidy found problems (full output: /tmp/kafnus-clang-tidy.log)"
  exit 1
}

if command -v duplicates >/dev/null 2>&1; then
  echo "[check] repeated code in the uncommitted change"
  duplicates --change
fi
echo "[check] clean"
