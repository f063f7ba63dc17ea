#!/usr/bin/env bash
# The real-KVM harness's judging, on a capture recorded from a real run
# (tests/kvm/fixtures/results.txt, with the scenario file it was run with):
# the right expectations pass, and each kind of wrong one fails.
set -u
cd "$(dirname "$0")/../.."
fx=tests/kvm/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# judge_case [--xen | --xen420 | --612 | --73] NAME WANT_STATUS PATTERN SED_SCRIPT: re-judge the
# recorded capture of tests/kvm/fixtures (tests/xen/fixtures with --xen, the
# Linux 6.12 outer system's tests/kvm/fixtures-6.12 with --612, Linux 7.3's
# tests/kvm/fixtures-7.3 with --73) against its
# scenario file edited by SED_SCRIPT.
judge_case() {
    local hv=kvm label=kvm dir=tests/kvm/fixtures outer=6.1
    case "$1" in
    --xen) hv=xen label=xen dir=tests/xen/fixtures; shift ;;
    --xen420) hv=xen label=xen420 dir=tests/xen/fixtures-4.20 outer=4.20; shift ;;
    --612) label=kvm612 dir=tests/kvm/fixtures-6.12 outer=6.12; shift ;;
    --73) label=kvm73 dir=tests/kvm/fixtures-7.3 outer=7.3; shift ;;
    esac
    local name=$1 want=$2 pattern=$3 edit=$4
    sed -e "$edit" "$dir/scenarios.txt" >"$tmp/$label.$name.txt"
    # A case that expects one scenario's failure judges that scenario alone.
    local out status only=()
    [[ "$pattern" =~ ^FAIL\ [a-z0-9]+\.([A-Za-z0-9_]+): ]] && only=(--only "${BASH_REMATCH[1]}")
    out=$(tests/kvm/harness.sh --hypervisor "$hv" --outer "$outer" --judge "$dir/results.txt" \
        --scenarios "$tmp/$label.$name.txt" "${only[@]}" 2>&1)
    status=$?
    if [ "$status" -eq "$want" ] && grep -Eq -- "$pattern" <<<"$out"; then
        echo "PASS ${label}judge.$name"
    else
        echo "FAIL ${label}judge.$name: status $status (want $want): $(tail -3 <<<"$out" | tr '\n' ' ')"
    fi
}

# Each case is judged beside one other (they only read files).
. tests/tools/in_turn.sh
in_turn_start "$tmp/results"

in_turn judge_case recorded 0 '^28 passed, 0 failed$' ''
in_turn judge_case wrong_verdict 1 'FAIL kvm.default: cpuid.kvm_features: expected skip, got pass' \
    '/^\[default\]/a expect cpuid.kvm_features = skip'
in_turn judge_case no_expectation 1 "FAIL kvm.smp2: cpuid.hypervisor_bit: no expectation for verdict 'pass'" \
    '/^\[smp2\]/,/^\[smp4\]/{/expect default/d}'
in_turn judge_case never_reported 1 'FAIL kvm.loaded: cpuid.nosuch: expected pass, but it never reported' \
    '/^\[loaded\]/a expect cpuid.nosuch = pass'
in_turn judge_case log_pattern 1 'FAIL kvm.steal_off: log matches /feature bit 3 CLOCKSOURCE2/' \
    '/^\[steal_off\]/a log !~ feature bit 3 CLOCKSOURCE2'
in_turn judge_case missing_scenario 1 'FAIL kvm.ghost: no result' '$a [ghost]\nexpect default = pass'
in_turn judge_case bad_file 2 'cannot parse' '$a nonsense line'
in_turn judge_case bad_migrate 2 "cannot parse 'migrate = sideways'" '/^\[migrate_live\]/a migrate = sideways'
# A migration scenario's verdicts are judged like any other's.
in_turn judge_case migration_verdict 1 'FAIL kvm.migrate_live: migration.event: expected fail, got pass' \
    '/^\[migrate_live\]/a expect migration.event = fail'
# Scenarios name their outer systems: one for 6.12 only is not judged on a
# 6.1 capture, and expect@OUTER overrides only on its own outer system.
in_turn judge_case outer_elsewhere 0 '^27 passed, 0 failed$' '/^\[default\]/a outer = 6.12'
in_turn judge_case outer_here 0 '^28 passed, 0 failed$' '/^\[default\]/a outer = 6.1 6.12'
in_turn judge_case override_here 1 'FAIL kvm.default: cpuid.kvm_features: expected skip, got pass' \
    '/^\[default\]/a expect@6.1 cpuid.kvm_features = skip'
in_turn judge_case override_elsewhere 0 '^28 passed, 0 failed$' \
    '/^\[default\]/a expect@6.12 cpuid.kvm_features = skip'
# A manual scenario is judged where the capture holds it (its recorded
# failure is the expectation), and is no missing result where it does not.
in_turn judge_case manual_verdict 1 'FAIL kvm.async_pf_swap: pv_msrs.async_pf_swap: expected pass, got fail' \
    '/^\[async_pf_swap\]/,$s/expect pv_msrs.async_pf_swap = fail/expect pv_msrs.async_pf_swap = pass/'
manual_not_captured() {
    sed '/^@@@ BEGIN async_pf_swap/,/^@@@ END async_pf_swap/d' "$fx/results.txt" >"$tmp/no_manual.txt"
    local out
    out=$(tests/kvm/harness.sh --judge "$tmp/no_manual.txt" --scenarios "$fx/scenarios.txt" 2>&1)
    if [ $? -eq 0 ] && grep -q '^27 passed, 0 failed$' <<<"$out"; then
        echo "PASS kvmjudge.manual_not_captured"
    else
        echo "FAIL kvmjudge.manual_not_captured: $(tail -3 <<<"$out" | tr '\n' ' ')"
    fi
}
in_turn manual_not_captured

# KVM's Xen emulation on Linux 6.12 + QEMU 10.0 (tests/kvm/fixtures-6.12): its
# recorded findings are the expectations, and a clean verdict is not accepted.
in_turn judge_case --612 recorded 0 '^34 passed, 0 failed$' ''
in_turn judge_case --612 halt_blocked 1 'FAIL kvm612.xen_on_kvm: runstate.blocked: expected pass, got fail' \
    '/^\[xen_on_kvm\]/,/^\[xen_on_kvm_loaded\]/s/expect runstate.blocked = fail/expect runstate.blocked = pass/'
in_turn judge_case --612 leaf_clean 1 'FAIL kvm612.xen_on_kvm: xen.clock_rate: expected pass, got fail' \
    '/^\[xen_on_kvm\]/,/^\[xen_on_kvm_loaded\]/s/expect xen.clock_rate = fail/expect xen.clock_rate = pass/'
# Linux 7.3 + QEMU 11.1: KVM no longer writes its TSC figures into the time
# leaf, so the rate passes there (expect@7.3), and only there; the halt is
# still accounted as running.
in_turn judge_case --73 recorded 0 '^34 passed, 0 failed$' ''
in_turn judge_case --73 leaf_as_612 1 'FAIL kvm73.xen_on_kvm: xen.clock_rate: expected fail, got pass' \
    '/^expect@7.3 xen.clock_rate = pass/d'
in_turn judge_case --73 halt_blocked 1 'FAIL kvm73.xen_on_kvm: runstate.blocked: expected pass, got fail' \
    '/^\[xen_on_kvm\]/,/^\[xen_on_kvm_loaded\]/s/expect runstate.blocked = fail/expect runstate.blocked = pass/'

# A known failure: accepted when every FAIL line of the check matches, said
# so; refused when one does not, or where the rule is for another outer system.
in_turn judge_case --73 known_failure 0 '^KNOWN kvm73.xen_on_kvm: runstate.blocked failed as its known failure does$' \
    '/^\[xen_on_kvm\]/,/^\[xen_on_kvm_loaded\]/s/expect runstate.blocked = fail/expect runstate.blocked = pass\nknown@7.3 runstate.blocked ~ ^blocked time grew 0 ns over [0-9]+ ns halted/'
in_turn judge_case --73 known_other_failure 1 'FAIL kvm73.xen_on_kvm: runstate.blocked: expected pass, got fail' \
    '/^\[xen_on_kvm\]/,/^\[xen_on_kvm_loaded\]/s/expect runstate.blocked = fail/expect runstate.blocked = pass\nknown runstate.blocked ~ ^blocked time grew 1 ns/'
in_turn judge_case --73 known_elsewhere 1 'FAIL kvm73.xen_on_kvm: runstate.blocked: expected pass, got fail' \
    '/^\[xen_on_kvm\]/,/^\[xen_on_kvm_loaded\]/s/expect runstate.blocked = fail/expect runstate.blocked = pass\nknown@6.12 runstate.* ~ ^blocked time grew/'

# --only with several names judges those and no others; a name the
# scenario file lacks is refused.
only_list() {
    local out status
    out=$(tests/kvm/harness.sh --judge "$fx/results.txt" --scenarios "$fx/scenarios.txt" --only smp2,default 2>&1)
    status=$?
    if [ "$status" -eq 0 ] && grep -q '^2 passed, 0 failed$' <<<"$out" &&
        [ "$(grep -c '^PASS kvm\.\(default\|smp2\)$' <<<"$out")" -eq 2 ]; then
        echo "PASS kvmjudge.only_list"
    else
        echo "FAIL kvmjudge.only_list: status $status: $(tail -3 <<<"$out" | tr '\n' ' ')"
    fi
    out=$(tests/kvm/harness.sh --judge "$fx/results.txt" --scenarios "$fx/scenarios.txt" --only default,ghost 2>&1)
    status=$?
    if [ "$status" -eq 2 ] && grep -q "error: --only: no scenario 'ghost'" <<<"$out"; then
        echo "PASS kvmjudge.only_unknown_refused"
    else
        echo "FAIL kvmjudge.only_unknown_refused: status $status: $(tail -2 <<<"$out" | tr '\n' ' ')"
    fi
}
in_turn only_list

# A truncated capture: the inner log of the last scenario cut short.
truncated_capture() {
    local last out status
    last=$(sed -n 's/^@@@ BEGIN \([A-Za-z0-9_]*\)\r*$/\1/p' "$fx/results.txt" | tail -n 1)
    head -n -6 "$fx/results.txt" >"$tmp/truncated.txt"
    out=$(tests/kvm/harness.sh --judge "$tmp/truncated.txt" --scenarios "$fx/scenarios.txt" 2>&1)
    status=$?
    if [ -n "$last" ] && [ "$status" -eq 1 ] && grep -q "FAIL kvm.$last: no result" <<<"$out"; then
        echo "PASS kvmjudge.truncated_capture"
    else
        echo "FAIL kvmjudge.truncated_capture: $(tail -3 <<<"$out" | tr '\n' ' ')"
    fi
}
in_turn truncated_capture

# A guest killed at its limit: the failure carries what the outer system saw
# just before (load, vCPU threads, each vCPU's registers), nothing else.
killed_guest() {
    sed -e 's/^@@@ STATUS smp2 5\r*$/@@@ STATUS smp2 137/' \
        -e '/^@@@ END smp2\r*$/i ! DIAG 1 loadavg 2.84 2.10 1.00 3/70 200\n! DIAG 1 task 90 comm=worker state=S utime=0 stime=0 wchan=0\n! DIAG 1 task 91 comm=CPU_0/KVM state=R utime=2725 stime=998 wchan=0\n! DIAG 1 regs CPU#0 RIP=000000000010c606 RFL=00000002 [-------] CPL=0 II=0 A20=1 SMM=0 HLT=0' \
        "$fx/results.txt" >"$tmp/killed.txt"
    local out status want
    out=$(tests/kvm/harness.sh --judge "$tmp/killed.txt" --scenarios "$fx/scenarios.txt" --only smp2 2>&1)
    status=$?
    want='FAIL kvm.smp2: guest killed after 120s \(hung guest; just before: 1 loadavg 2.84 2.10 1.00 3/70 200; 1 task 91 comm=CPU_0/KVM state=R utime=2725 stime=998 wchan=0; 1 regs CPU#0 RIP=000000000010c606 RFL=00000002 \[-------\] CPL=0 II=0 A20=1 SMM=0 HLT=0; \)'
    if [ "$status" -eq 1 ] && grep -Eq -- "$want" <<<"$out"; then
        echo "PASS kvmjudge.killed_guest"
    else
        echo "FAIL kvmjudge.killed_guest: $(head -3 <<<"$out" | tr '\n' ' ')"
    fi
}
in_turn killed_guest

# A first boot that never started pvcheck (outer_init.sh's or dom0_init.sh's
# RETRY): said and counted, and only the second boot is judged: a good one
# passes, a hung one fails as a killed guest, never as a pass.
#   retried_boot ID LABEL FIXTURES SCENARIO WHY OLD_STATUS NAME NEW_STATUS WANT PATTERN [HARNESS ARGS...]
retried_boot() {
    local id=$1 label=$2 dir=$3 sc=$4 why=$5 old=$6 name=$7 new=$8 want=$9 pattern=${10} out status
    shift 10
    sed -e "/^@@@ BEGIN $sc\r*$/a @@@ RETRY $sc $why" \
        -e "s/^@@@ STATUS $sc $old\r*$/@@@ STATUS $sc $new/" "$dir/results.txt" >"$tmp/retry.$id.$name.txt"
    out=$(tests/kvm/harness.sh "$@" --judge "$tmp/retry.$id.$name.txt" --scenarios "$dir/scenarios.txt" --only "$sc" 2>&1)
    status=$?
    if [ "$status" -eq "$want" ] && grep -Eq -- "$pattern" <<<"$out" &&
        grep -F -- "RETRY $label.$sc: the first boot never started pvcheck ($why" <<<"$out" | grep -q '^RETRY ' &&
        grep -q '^harness: 1 boot(s) retried because pvcheck never started in them$' <<<"$out"; then
        echo "PASS $id.retried_boot_$name"
    else
        echo "FAIL $id.retried_boot_$name: status $status: $(tr '\n' ' ' <<<"$out" | head -c 600)"
    fi
}
kvm_retried() {
    retried_boot kvmjudge kvm "$fx" smp2 \
        'no first line after 30s: regs CPU#0 EIP=0000ff53 EFL=00000013 [----A-C] CPL=0 II=0 A20=1 SMM=0 HLT=0;' 5 "$@"
}
in_turn kvm_retried passes 5 0 '^PASS kvm.smp2$'
in_turn kvm_retried then_hangs 137 1 '^FAIL kvm.smp2: guest killed after 120s'

# The same judging on a capture from real Xen: a domU has no exit status, so
# the log alone carries the verdicts.
in_turn judge_case --xen recorded 0 '^6 passed, 0 failed$' ''
in_turn judge_case --xen wrong_verdict 1 'FAIL xen.loaded: runstate.under_load: expected skip, got pass' \
    '/^\[loaded\]/a expect runstate.under_load = skip'
in_turn judge_case --xen rate_must_skip 1 'FAIL xen.idle: xen.clock_rate: expected pass, got skip' \
    '/^\[idle\]/,/^\[loaded\]/{/expect xen.clock_rate/d}'

# Xen 4.20 (trixie's, its tools on trixie's libraries): the same scenarios,
# the same verdicts, and its HVM guests.
in_turn judge_case --xen420 recorded 0 '^6 passed, 0 failed$' ''
in_turn judge_case --xen420 rate_must_skip 1 'FAIL xen420.idle: xen.clock_rate: expected pass, got skip' \
    '/^\[idle\]/,/^\[loaded\]/{/expect xen.clock_rate/d}'
# An HVM guest has the HPET: its Xen clock rate was judged, and passed.
in_turn judge_case --xen420 hvm_rate_judged 1 'FAIL xen420.hvm: xen.clock_rate: expected skip, got pass' \
    '/^\[hvm\]/a expect xen.clock_rate = skip'
# Xen's own Hyper-V page, invalid under TCG: its checks skipped, not passed.
in_turn judge_case --xen420 viridian_page_skipped 1 'FAIL xen420.hvm_viridian: hyperv.tsc_page: expected pass, got skip' \
    '/^\[hvm_viridian\]/,${/expect hyperv.tsc_page = skip/d}'

# The same for a domU (an HVM guest seen in SeaBIOS).
xen_retried() {
    retried_boot xenjudge xen420 tests/xen/fixtures-4.20 hvm \
        'no first line after 75s: cs:eip: f000:0000f3c3 flags: 00000002 nz cr0: 00000010' 0 "$@" \
        --hypervisor xen --outer 4.20
}
in_turn xen_retried passes 0 0 '^PASS xen420.hvm$'
in_turn xen_retried then_hangs 137 1 '^FAIL xen420.hvm: guest killed after 300s'

# tests/kvm/compare_results.sh: a run against itself changes nothing; one
# verdict turned in one scenario is named, with exit status 1; a file that is
# no harness run is refused.
compare_case() {
    local out status
    out=$(tests/kvm/compare_results.sh tests/xen/fixtures/results.txt tests/xen/fixtures/results.txt 2>&1)
    status=$?
    [ "$status" -eq 0 ] && [ "$(grep -c ' verdicts_changed=0 ' <<<"$out")" -eq 6 ] ||
        { echo "FAIL kvmjudge.compare_results: same run: status $status: $(head -c 300 <<<"$out")"; return; }
    sed '/^@@@ BEGIN smp2\r*$/,/^@@@ END smp2/s/^|     ok 1 hypervisor_bit/|     not ok 1 hypervisor_bit/' \
        tests/xen/fixtures/results.txt >"$tmp/turned.txt"
    out=$(tests/kvm/compare_results.sh tests/xen/fixtures/results.txt "$tmp/turned.txt" 2>&1)
    status=$?
    [ "$status" -eq 1 ] && grep -q '^smp2 verdicts_changed=1 .* cpuid.hypervisor_bit:pass->fail' <<<"$out" &&
        grep -q '^idle verdicts_changed=0 ' <<<"$out" ||
        { echo "FAIL kvmjudge.compare_results: one turned verdict: status $status: $(head -c 300 <<<"$out")"; return; }
    out=$(tests/kvm/compare_results.sh tests/xen/scenarios.txt tests/xen/fixtures/results.txt 2>&1)
    status=$?
    [ "$status" -eq 2 ] && grep -q 'not a harness run' <<<"$out" ||
        { echo "FAIL kvmjudge.compare_results: not a run: status $status: $out"; return; }
    echo "PASS kvmjudge.compare_results"
}
in_turn compare_case

# The host load: a scenario whose busy loops did not all run to its end
# fails, whatever the guest reported; all of them running changes nothing.
load_case() {
    local name=$1 line=$2 want=$3 pattern=$4 out
    grep -v '^@@@ LOAD loaded ' tests/xen/fixtures/results.txt |
        sed "/^@@@ END loaded\r*$/i $line" >"$tmp/load.$name.txt"
    out=$(tests/kvm/harness.sh --hypervisor xen --judge "$tmp/load.$name.txt" \
        --scenarios tests/xen/fixtures/scenarios.txt 2>&1)
    if [ $? -eq "$want" ] && grep -Eq -- "$pattern" <<<"$out"; then
        echo "PASS xenjudge.$name"
    else
        echo "FAIL xenjudge.$name: $(tail -3 <<<"$out" | tr '\n' ' ')"
    fi
}
in_turn load_case load_missing '@@@ LOAD loaded 1 of 2' 1 'FAIL xen.loaded: only 1 of 2 busy loops'
in_turn load_case load_complete '@@@ LOAD loaded 2 of 2' 0 '^6 passed, 0 failed$'
in_turn load_case load_unreported '@@@ NOTE no load line' 1 'FAIL xen.loaded: only 0 of 2 busy loops'
in_turn_finish
