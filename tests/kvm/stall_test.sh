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

# An inner boot that never starts pvcheck (SeaBIOS waiting a minute at its
# boot menu): booted once more after a quarter of its limit, said with the
# vCPUs' registers and the firmware's last lines, and the second boot, held
# there too, fails as a killed guest: a retry never turns into a pass. A
# migration scenario whose source never starts pvcheck (QEMU paused) is
# retried the same way, and so is a boot that ends before pvcheck's first line
# (here a QEMU that refuses its options; a firmware gone astray can shut the
# machine down).
printf '[ends_early]\nqemu = -cpu host -no-such-option\nexpect default = pass\n[never_starts]\nqemu = -cpu host -boot menu=on,splash-time=60000\nexpect default = pass\n[never_starts_migrate]\nmigrate = live\nqemu = -cpu host -S\nexpect default = pass\n' >"$tmp/never.txt"
start=$(date +%s)
out=$(PVCHECK_INNER_TIMEOUT=24 PVCHECK_STALL_LIMIT=100 \
    tests/kvm/harness.sh --scenarios "$tmp/never.txt" 2>&1)
status=$? elapsed=$(($(date +%s) - start))
if [ "$status" -eq 1 ] &&
    grep -q '^RETRY kvm.never_starts: the first boot never started pvcheck (no first line after 6s: regs CPU#0' <<<"$out" &&
    grep -q '^    firmware SeaBIOS (version' <<<"$out" &&
    grep -q '^    firmware Press ESC for boot menu' <<<"$out" &&
    grep -q '^FAIL kvm.never_starts: guest killed after 24s' <<<"$out" &&
    grep -q '^RETRY kvm.never_starts_migrate: the first boot never started pvcheck (no first line after 6s: regs CPU#0' <<<"$out" &&
    grep -q '^FAIL kvm.never_starts_migrate: guest status .125.' <<<"$out" &&
    grep -Eq '^RETRY kvm.ends_early: the first boot never started pvcheck \(ended with status 1 after [0-9]+s, before its first line\)' <<<"$out" &&
    grep -q '^FAIL kvm.ends_early: ' <<<"$out" &&
    grep -q '^harness: 3 boot(s) retried' <<<"$out"; then
    echo "PASS kvmharness.never_started_retried_once: in ${elapsed}s"
else
    echo "FAIL kvmharness.never_started_retried_once: status $status after ${elapsed}s: $(grep -E '^(RETRY|FAIL|harness)' <<<"$out" | head -5 | tr '\n' ' ')"
fi
