#!/usr/bin/env bash
# Runs the whole test suite (unit, service over bufconn, end-to-end with the
# real binaries) with the race detector. Extra arguments go to `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/browsers.sh   # Chromium, LibreOffice Calc, poppler-utils for the rendering tests, when missing
go test -race -count=1 -timeout 30m "$@" ./...   # the e2e package runs the real binaries and Chromium: minutes, not the default 10-minute cap
