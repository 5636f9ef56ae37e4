#!/usr/bin/env bash
# Runs every fuzz target for a bounded budget each (CI uses this). The
# default is a count of executions, not a duration: with a duration, Go's
# fuzz coordinator can report a spurious "context deadline exceeded" when
# the time runs out on a busy machine (golang/go#75804), which failed CI once.
# Longer: FUZZTIME=10m bash scripts/fuzz.sh (a duration is fine by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
t=${FUZZTIME:-50000x}
for target in FuzzReadAnswers FuzzReadCases FuzzReadJudgements; do
  go test ./internal/interchange -run '^$' -fuzz "^$target\$" -fuzztime "$t"
done
for target in FuzzLoad FuzzCheckAnswer; do
  go test ./internal/framework -run '^$' -fuzz "^$target\$" -fuzztime "$t"
done
