#!/usr/bin/env bash
# The harness's guard against an outer Linux that stops making progress: an
# inner QEMU started paused (-S) writes nothing; with the silence limit below
# the inner timeout, the harness must stop the outer run and fail the
# scenario, in bounded time.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '[paused]\nqemu = -cpu host -S\nexpect default = pass\n' >"$tmp/paused.txt"
start=$(date +%s)
out=$(PVCHECK_INNER_TIMEOUT=300 PVCHECK_STALL_LIMIT=20 \
    tests/kvm/harness.sh --scenarios "$tmp/paused.txt" 2>&1)
status=$? elapsed=$(($(date +%s) - start))
if [ "$status" -eq 1 ] && grep -q 'wrote nothing for 20s' <<<"$out" &&
    grep -q 'FAIL kvm.paused: no result' <<<"$out" && [ "$elapsed" -lt 120 ]; then
    echo "PASS kvmharness.stalled_outer_stopped: in ${elapsed}s"
else
    echo "FAIL kvmharness.stalled_outer_stopped: status $status after ${elapsed}s: $(tail -3 <<<"$out" | tr '\n' ' ')"
fi
