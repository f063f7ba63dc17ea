#!/usr/bin/env bash
# pvcheck on this machine's own /dev/kvm, where there is one (some machines
# of this project's kind have Linux 6.18's kvm_pvm): the default suite with 1
# and 2 vCPUs through plain run.sh, as a user runs it, and the migration
# suite across run.sh --migrate and --snapshot. Each run must reach a
# verdict (run.sh exits 0 or 1, never 2) with every suite reported, within
# a minute; where tests/local/expect-KERNEL.txt exists for this kernel
# (uname -r), every check's verdict must be the recorded one (run.sh
# --expect, with the run's name as the scope).
#   tests/local/kvm.sh      prints PASS/FAIL per run, or one SKIP line
set -u
cd "$(dirname "$0")/../.."
if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
    echo "SKIP local_kvm: no usable /dev/kvm on this machine ($(uname -r)); the nested KVM and Xen scenarios stand in"
    exit 0
fi
kernel=$(uname -r)
expect=tests/local/expect-$kernel.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
limit=${PVCHECK_LOCAL_LIMIT:-60}

for run in smp1 smp2 migrate snapshot; do
    case "$run" in
    smp*) args=(--smp "${run#smp}") ;;
    *) args=(--"$run" --append only=migration) ;;
    esac
    name=local_kvm.$run
    log=$tmp/$run.log
    start=$(date +%s)
    ./run.sh --quiet "${args[@]}" --timeout $((limit + 30)) --log "$log" >"$tmp/out" 2>&1
    status=$? took=$(($(date +%s) - start))
    problems=()
    [ "$status" -eq 0 ] || [ "$status" -eq 1 ] ||
        problems+=("run.sh exited $status: $(tail -n 3 "$tmp/out" | tr '\n' ' ')")
    [ "$took" -le "$limit" ] || problems+=("took ${took}s, over ${limit}s")
    # The verdicts, judged against the expectation file where one is
    # recorded (run.sh --expect, its lines scoped to this run applying too).
    expect_args=()
    [ ! -r "$expect" ] || expect_args=(--expect "$expect" --expect-scope "$run")
    ./run.sh --check-log "$log" "${expect_args[@]}" >"$tmp/verdicts" 2>"$tmp/expect.err"
    expect_status=$?
    grep -q ' passed, .* failed, .* skipped$' "$tmp/verdicts" || problems+=("no summary line")
    [ ! -r "$expect" ] || [ "$expect_status" -eq 0 ] ||
        problems+=("against $expect (status $expect_status): $(grep -E '^run.sh: (regression|unexpected pass|now (skips|runs)|.* line [0-9]+)' "$tmp/expect.err" | tr '\n' ' ')")
    if [ ${#problems[@]} -eq 0 ]; then
        echo "PASS $name: $(grep ' passed, .* failed, .* skipped$' "$tmp/verdicts" | tail -n 1) in ${took}s on $kernel$([ -r "$expect" ] || echo ", no recorded expectations for this kernel: add $expect")"
    else
        echo "FAIL $name on $kernel: ${problems[*]}"
        grep -E '^ *# (exit_costs|FAIL)|^ *not ok|Bail out' "$log" | head -20 | sed 's/^/    | /'
    fi
done
