#!/usr/bin/env bash
# Runs the project's tests: unit tests, TCG boot tests, the KVM harness's
# judging tests and, with --kvm and --xen, the real-KVM and real-Xen
# scenarios. Each prints "PASS name" or "FAIL name"; the last line counts them.
#   tests/check.sh [--tcg] [--kvm] [--xen]      (default: all three)
set -u
want_tcg=0 want_kvm=0 want_xen=0
for a in "$@"; do
    case "$a" in
    --tcg) want_tcg=1 ;;
    --kvm) want_kvm=1 ;;
    --xen) want_xen=1 ;;
    *) echo "check.sh: unknown argument '$a'" >&2; exit 64 ;;
    esac
done
[ $# -gt 0 ] || { want_tcg=1; want_kvm=1; want_xen=1; }
cd "$(dirname "$0")/.."

results=$(mktemp)
trap 'rm -f "$results"' EXIT
# How long each part took, for a CI that has a time limit.
mark=$SECONDS
took() { echo "# $1 took $((SECONDS - mark)) s"; mark=$SECONDS; }

if [ "$want_tcg" = 1 ]; then
    for t in build/host/test_*; do
        "$t" 2>&1 | tee -a "$results" | grep -v '^PASS '
        status=${PIPESTATUS[0]}
        # A crashing test binary counts as a failure even if it printed no FAIL.
        [ "$status" -eq 0 ] || echo "FAIL $(basename "$t") exited with status $status" | tee -a "$results"
    done
    tests/tools/layering_tests.sh 2>&1 | tee -a "$results" | grep -v '^PASS '
    tests/boot_tests.sh 2>&1 | tee -a "$results" | grep -v '^PASS '
    took "unit and boot tests"
    # The harness's guard tests boot an outer Linux whose inner QEMU is
    # paused: no check runs in it and its limits are tens of seconds, so it
    # runs beside the judging and report tests, which only read files.
    stall_out=$(mktemp)
    if [ "$want_kvm" = 1 ]; then
        tests/kvm/stall_test.sh >"$stall_out" 2>&1 &
        stall_pid=$!
    fi
    tests/kvm/judge_tests.sh 2>&1 | tee -a "$results" | grep -v '^PASS '
    tests/junit/report_tests.sh 2>&1 | tee -a "$results" | grep -v '^PASS '
    tests/junit/matrix_tests.sh 2>&1 | tee -a "$results" | grep -v '^PASS '
    tests/junit/expect_tests.sh 2>&1 | tee -a "$results" | grep -v '^PASS '
    tests/ci/ci_tests.sh 2>&1 | tee -a "$results" | grep -v '^PASS '
    tests/model/matrix_rules.sh 2>&1 | tee -a "$results" | grep -v '^PASS '
    tests/ktap/consumers.sh 2>&1 | tee -a "$results" | grep -v '^PASS '
    if [ "$want_kvm" = 1 ]; then
        wait "$stall_pid"
        tee -a "$results" <"$stall_out"
    fi
    rm -f "$stall_out"
    took "judge and report tests, and the harness's stall tests beside them"
    # The checks against the KVM model, one fault at a time, three rows at
    # once. The fuzzers run beside it: its rows are proven to keep their
    # verdicts with three at once beside two busy loops (tests/under_load.sh
    # --matrix-args "-j 3"), more than this asks, and their windows leave the
    # CPU part idle.
    fuzz_out=$(mktemp)
    tests/fuzz/run.sh >"$fuzz_out" 2>&1 &
    fuzz_pid=$!
    build/host/matrix -j 3 --markdown build/matrix.md 2>&1 | grep -v '^[0-9]* passed, [0-9]* failed$' |
        tee -a "$results" | grep -v '^PASS '
    [ "${PIPESTATUS[0]}" -eq 0 ] || echo "FAIL matrix exited non-zero" | tee -a "$results"
    wait "$fuzz_pid" || echo "FAIL fuzz: tests/fuzz/run.sh exited non-zero" | tee -a "$results"
    tee -a "$results" <"$fuzz_out" | grep -v '^PASS '
    rm -f "$fuzz_out"
    took "matrix, and the fuzzers beside it"
    # The same rows on a hypervisor whose exits cost 100 us: the time budgets
    # must give every check its verdict well inside its watchdog. Its exits
    # sleep, so six rows at once still leave the CPUs half idle; it runs
    # alone: beside the matrix and the fuzzers, the matrix's pv_eoi_interrupts
    # and clock_pairing.realtime rows failed once.
    build/host/matrix -j 6 --slow-exits 2>&1 | grep -v '^[0-9]* passed, [0-9]* failed$' |
        tee -a "$results" | grep -v '^PASS '
    [ "${PIPESTATUS[0]}" -eq 0 ] || echo "FAIL matrix --slow-exits exited non-zero" | tee -a "$results"
    took "matrix --slow-exits"
    # The matrix table in docs/testing.md is generated; it must match the
    # model's run. The report card, the README's summary of it, docs/checks.md
    # and the links are tests/docs_tests.sh's.
    if ! diff build/matrix.md \
        <(sed -n '/<!-- matrix:begin -->/,/<!-- matrix:end -->/p' docs/testing.md | sed '1d;$d') >/dev/null; then
        echo "FAIL docs.matrix: docs/testing.md's table differs from 'build/host/matrix --markdown'" | tee -a "$results"
    else
        echo "PASS docs.matrix" >>"$results"
    fi
    tests/docs_tests.sh 2>&1 | tee -a "$results" | grep -v '^PASS '
fi
# One harness run (LABEL, then its arguments): its PASS/FAIL lines kept,
# not its own last line. A harness that cannot run (its "error:" and exit
# status 2, or 64 for a command line it refuses) is a failure too, never just
# an absence of results.
run_harness() {
    local label=$1 status
    shift
    tests/kvm/harness.sh "$@" 2>&1 | grep -v '^[0-9]* passed, [0-9]* failed$' | tee -a "$results"
    status=${PIPESTATUS[0]}
    [ "$status" -le 1 ] || echo "FAIL harness $label could not run (exit status $status)" | tee -a "$results"
}
# The Xen outer systems, one after the other (4.17, then 4.20: on each the
# PVH scenarios and the HVM guests, whose device model's HPET judges Xen's
# clock and Xen's own Hyper-V clocks).
run_xen() {
    run_harness "--hypervisor xen" --hypervisor xen
    run_harness "--hypervisor xen --outer 4.20" --hypervisor xen --outer 4.20
}
# Every scenario on every outer system. The KVM outer systems run one after
# the other: pinned side by side (PVCHECK_OUTER_CPUS, a core each), two of
# them changed a verdict (6.12's smp4, steal_each_vcpu). The Xen ones run
# beside Linux 6.1, each outer QEMU pinned to a core of its own: KVM beside
# Xen kept every verdict in three runs (docs/testing.md, "Two outer systems
# at once").
xen_beside=0
[ "$want_kvm" = 1 ] && [ "$want_xen" = 1 ] && [ "$(nproc)" -ge 2 ] && xen_beside=1
if [ "$want_kvm" = 1 ]; then
    if [ "$xen_beside" = 1 ]; then
        xen_out=$(mktemp)
        (
            results=$xen_out begun=$SECONDS
            export PVCHECK_OUTER_CPUS=1
            run_xen >/dev/null
            echo "# Xen 4.17 and 4.20 harnesses took $((SECONDS - begun)) s beside Linux 6.1" >>"$xen_out"
        ) &
        xen_pid=$!
        PVCHECK_OUTER_CPUS=0 run_harness "(Linux 6.1)"
        took "KVM harness, Linux 6.1"
        wait "$xen_pid"
        grep '^# Xen' "$xen_out"
        grep -v '^# Xen' "$xen_out" | tee -a "$results" | grep -v '^PASS '
        rm -f "$xen_out"
        mark=$SECONDS
    else
        run_harness "(Linux 6.1)"
        took "KVM harness, Linux 6.1"
    fi
    # Linux 6.12 and QEMU 10.0 from bookworm-backports.
    run_harness "--outer 6.12" --outer 6.12
    took "KVM harness, Linux 6.12"
    # Linux 7.3 and QEMU 11.1 from trixie-backports, on trixie's libraries.
    run_harness "--outer 7.3" --outer 7.3
    took "KVM harness, Linux 7.3"
    # The harness's stall tests ran beside the judging tests (--tcg); alone,
    # they run here.
    [ "$want_tcg" = 1 ] || tests/kvm/stall_test.sh 2>&1 | tee -a "$results"
    # This machine's own /dev/kvm, where it has one (otherwise a SKIP line).
    tests/local/kvm.sh 2>&1 | tee -a "$results"
    took "local KVM"
fi
if [ "$want_xen" = 1 ] && [ "$xen_beside" = 0 ]; then
    run_xen
    took "Xen harnesses"
fi

# Nested boots in which pvcheck never started were booted once more (the
# harness's RETRY lines): counted here, never as results.
retried=$(grep -c '^RETRY ' "$results")
[ "$retried" -eq 0 ] || echo "# $retried nested boot(s) retried because pvcheck never started in them (RETRY lines above)"
passed=$(grep -c '^PASS ' "$results")
failed=$(grep -c '^FAIL ' "$results")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
