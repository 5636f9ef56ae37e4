#!/usr/bin/env bash
# Runs the whole test suite (unit, service over bufconn, end-to-end with the
# real binaries) with the race detector. Extra arguments go to `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/browsers.sh   # Chromium for the HTML rendering tests, when missing
# The end-to-end package builds the binaries, and release v0.3.0 for the
# compatibility test (docs/releases.md): more than go test's default 10m
# on a loaded machine.
go test -race -count=1 -timeout 30m "$@" ./...
