#!/usr/bin/env bash
# Deploy test (label deploy): the Debian package. scripts/package.sh packages
# the tested build; inside a container of the Debian base image it installs
# with dpkg -i (its Depends: then fetched with apt-get -f install),
# `kafnus --version` and `kafnus check-config` work, the unit and the
# monitoring files are where the README says, `dpkg -r` removes the program
# and keeps the edited configuration (a conffile), `dpkg --purge` removes it.
# Usage: deb_test.sh <build dir>. Exit 77 (skipped) only where no container
# engine can run at all.
set -euo pipefail
kafnus_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:?usage: deb_test.sh <build dir>}"

# shellcheck source=test/deploy/engine-or-skip.sh
source "$kafnus_root/test/deploy/engine-or-skip.sh"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$kafnus_root/scripts/package.sh" --build-dir "$build" --out "$out"
deb="$(basename "$(find "$out" -maxdepth 1 -name 'kafnus_*_amd64.deb' | head -1)")"
[ -n "$deb" ] || { echo "FAIL - no kafnus_<version>_amd64.deb"; exit 1; }
version_line="$("$build/app/kafnus" --version)"  # what the packaged binary must say

# shellcheck disable=SC2016  # the script runs inside the container
"${engine[@]}" run --rm --network host "${engine_run_flags[@]}" -v "$out:/pkg:ro" -e DEB="$deb" -e VERSION_LINE="$version_line" \
  "$runtime_base" bash -euo pipefail -c '
failures=0
check() { local what="$1"; shift; if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if dpkg -i "/pkg/$DEB" >/tmp/dpkg.log 2>&1; then :; else
  grep -q "dependency problems" /tmp/dpkg.log
  apt-get install -f -y -qq --no-install-recommends >/dev/null
fi
check "dpkg -i then apt-get -f install: kafnus is installed" \
  bash -c "dpkg-query -W -f=\"\\\${Status}\" kafnus | grep -q \"install ok installed\""
check "kafnus --version says $VERSION_LINE" test "$(kafnus --version)" = "$VERSION_LINE"
check "kafnus check-config accepts the installed /etc/kafnus/kafnus.yaml" \
  bash -c "kafnus check-config --config /etc/kafnus/kafnus.yaml >/dev/null"
check "the systemd unit is installed" test -f /usr/lib/systemd/system/kafnus.service
check "the monitoring files are in /usr/share/kafnus" test -f /usr/share/kafnus/monitoring/grafana/dashboards/kafnus.json
check "/etc/kafnus/kafnus.yaml is a conffile" grep -qx /etc/kafnus/kafnus.yaml /var/lib/dpkg/info/kafnus.conffiles
echo "# edited by the operator" >> /etc/kafnus/kafnus.yaml
dpkg -r kafnus >/dev/null
check "dpkg -r removes the program" test ! -e /usr/bin/kafnus
check "dpkg -r keeps the edited configuration" grep -q "edited by the operator" /etc/kafnus/kafnus.yaml
dpkg --purge kafnus >/dev/null
check "dpkg --purge removes /etc/kafnus" test ! -e /etc/kafnus
echo "$failures failure(s)"
[ "$failures" = 0 ]
'
