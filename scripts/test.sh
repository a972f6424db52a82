#!/usr/bin/env bash
# The test command (`npm test`): type check, then every tap test (unit and integration),
# then one plain closing line "N passed, N failed" (the type check counts as one).
# Extra arguments go to tap, e.g. `npm test -- test/unit`.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0 failed=0
echo "# type check: tsc --noEmit"
if node_modules/.bin/tsc --noEmit -p .; then passed=1; else failed=1; fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
node_modules/.bin/tap --reporter=tap "$@" 2>&1 | tee "$out"
tap_rc=${PIPESTATUS[0]}

# tap's own summary: "# { total: 12, pass: 10, fail: 1, skip: 1 }"
summary=$(grep -E '^# \{ total: [0-9]+' "$out" | tail -n 1)
num() { echo "$summary" | grep -oE "$1: [0-9]+" | grep -oE '[0-9]+' || echo 0; }
total=$(num total) pass=$(num pass) fail=$(num fail) skip=$(num skip)
passed=$((passed + pass))
failed=$((failed + fail))
# A run that crashed before reporting, or reported nothing, is a failure too.
if [ "$tap_rc" -ne 0 ] && [ "$fail" -eq 0 ]; then failed=$((failed + 1)); fi
[ -n "$summary" ] || failed=$((failed + 1))

if [ "$skip" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skip skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
