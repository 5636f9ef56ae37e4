#!/usr/bin/env bash
# Fails if proto/ breaks the wire contract of the previous commit (buf
# breaking, FILE rules). Skipped when there is no previous commit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/tools.sh
PATH="$(go env GOPATH)/bin:$PATH"
if git rev-parse -q --verify HEAD~1 >/dev/null; then
  buf breaking --against ".git#ref=HEAD~1"
fi
