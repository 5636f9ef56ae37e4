#!/usr/bin/env bash
# Fails if the protos are not buf-formatted or internal/gen is not what
# `buf generate` makes from them (CI runs this).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/tools.sh
PATH="$(go env GOPATH)/bin:$PATH"
buf format --diff --exit-code
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r internal/gen "$tmp/before"
buf generate
if ! diff -r "$tmp/before" internal/gen >/dev/null; then
  diff -r "$tmp/before" internal/gen | head -40 >&2
  echo "internal/gen is stale: run scripts/gen.sh and commit the result" >&2
  exit 1
fi
