#!/usr/bin/env bash
# Validates the Prometheus configuration, the alert rules and their unit
# tests with promtool (Debian: apt-get install prometheus). Run from
# anywhere; exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v promtool >/dev/null 2>&1; then
  echo "check.sh: promtool not found (install the 'prometheus' package)" >&2
  exit 2
fi

promtool check config prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts_test.yml
