#!/usr/bin/env bash
# Runs every Go fuzz target in the given package patterns for $FUZZTIME each.
set -euo pipefail
fuzztime=${FUZZTIME:-10s}
for pkg in $(go list "$@"); do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
    echo "== $pkg $target ($fuzztime)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime "${FUZZMINTIME:-5s}" "$pkg"
  done
done
