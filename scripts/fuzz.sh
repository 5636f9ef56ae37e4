#!/usr/bin/env bash
# Runs every fuzz target for a bounded time each (default 5s; CI uses this).
# Longer: FUZZTIME=10m bash scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
t=${FUZZTIME:-5s}
for target in FuzzReadAnswers FuzzReadCases FuzzReadJudgements; do
  go test ./internal/interchange -run '^$' -fuzz "^$target\$" -fuzztime "$t"
done
for target in FuzzLoad FuzzCheckAnswer; do
  go test ./internal/framework -run '^$' -fuzz "^$target\$" -fuzztime "$t"
done
