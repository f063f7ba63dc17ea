#!/usr/bin/env bash
# The matrix's own rules, on small matrix files: a fault row fails when a
# check fails that it does not list, a =may check may pass, a listed check
# that passes fails the row; malformed files are refused (status 2) naming
# the line.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
m=build/host/matrix

result() { # NAME PROBLEM-OR-EMPTY
    if [ -z "$2" ]; then echo "PASS matrix_rules.$1"; else echo "FAIL matrix_rules.$1: $2"; fi
}

# FILE-CONTENT WANT-STATUS WANT-TEXT
run() {
    printf '%s\n' "$1" >"$tmp/m.txt"
    out=$("$m" "$tmp/m.txt" 2>&1)
    status=$?
    if [ "$status" -ne "$2" ]; then
        echo "status $status, want $2: $(grep -m1 'FAIL\|matrix' <<<"$out")"
    elif ! grep -q -- "$3" <<<"$out"; then
        echo "no '$3' in: $(head -c 300 <<<"$out")"
    fi
}

# clock_flags trips kvmclock.fields, legacy_registration and page_crossing.
result unlisted_failure_fails_the_row \
    "$(run 'clock_flags | kvmclock.fields | - |' 1 'kvmclock.legacy_registration failed, not listed')"
result every_check_listed_passes \
    "$(run 'clock_flags | kvmclock.fields,kvmclock.legacy_registration,kvmclock.page_crossing | - |' 0 '1 passed, 0 failed')"
result may_check_may_pass \
    "$(run 'time_back_10ns | kvmclock.continuity,kvmclock.masterclock_update,kvmclock.rate=may | - |' 0 '1 passed, 0 failed')"
result listed_check_that_passes_fails_the_row \
    "$(run 'time_back_10ns | kvmclock.continuity,kvmclock.masterclock_update,kvmclock.rate | - |' 1 'kvmclock.rate did not catch it')"
result unknown_mark_refused \
    "$(run 'time_back_10ns | kvmclock.continuity=maybe | - |' 2 'm.txt:1: .kvmclock.continuity=maybe.: a check may be marked only')"
result unknown_fault_refused "$(run 'no_such_fault | - | - |' 2 "m.txt:1: unknown fault 'no_such_fault'")"
result missing_fields_refused "$(run 'correct | - ' 2 'm.txt:1: expected 4 fields')"
long=$(printf 'kvmclock.fields,%.0s' $(seq 40))
result long_list_refused "$(run "clock_flags | ${long}kvmclock.fields | - |" 2 'm.txt:1: check list too long')"
