#!/usr/bin/env bash
# Formats and lints the protos and regenerates internal/gen with the plugins
# pinned in go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/tools.sh
PATH="$(go env GOPATH)/bin:$PATH"
buf format -w
buf lint
buf generate
