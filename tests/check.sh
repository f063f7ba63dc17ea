#!/usr/bin/env bash
# Runs every host-side test: unit tests, then TCG boot tests. Each prints
# "PASS name" or "FAIL name"; the last line counts them.
set -u
cd "$(dirname "$0")/.."

results=$(mktemp)
trap 'rm -f "$results"' EXIT

for t in build/host/test_*; do
    "$t" 2>&1 | tee -a "$results" | grep -v '^PASS '
    status=${PIPESTATUS[0]}
    # A crashing test binary counts as a failure even if it printed no FAIL.
    [ "$status" -eq 0 ] || echo "FAIL $(basename "$t") exited with status $status" | tee -a "$results"
done

tests/boot_tests.sh 2>&1 | tee -a "$results" | grep -v '^PASS '

passed=$(grep -c '^PASS ' "$results")
failed=$(grep -c '^FAIL ' "$results")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
