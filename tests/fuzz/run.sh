#!/usr/bin/env bash
# Runs every fuzzer (build/fuzz/fuzz_*) for a bounded time from its committed
# corpus in tests/fuzz/corpus/NAME; any crash, leak, undefined behaviour or
# timeout is a failure. New inputs go to a temporary directory, not the corpus.
#   tests/fuzz/run.sh [SECONDS_EACH]     (default: $FUZZ_SECONDS or 15)
set -u
cd "$(dirname "$0")/../.."
seconds=${1:-${FUZZ_SECONDS:-15}}
found=0
for f in build/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    found=1
    name=$(basename "$f")
    name=${name#fuzz_}
    work=$(mktemp -d)
    log=build/fuzz/$name.log
    "$f" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
    if [ "$status" -eq 0 ] && [ -n "$runs" ]; then
        echo "PASS fuzz.$name: $runs runs in ${seconds}s"
    else
        echo "FAIL fuzz.$name: status $status (log $log)"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -5 | sed 's/^/    /'
    fi
    rm -rf "$work"
done
[ "$found" = 1 ] || echo "FAIL fuzz: no fuzzers built (make fuzzers)"
