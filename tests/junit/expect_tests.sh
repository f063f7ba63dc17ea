#!/usr/bin/env bash
# run.sh --expect, --record-expect and --compare: every malformed line of an
# expectation file gets 64 with its line number; each exit status (0 every
# verdict as expected, 1 a regression, an unexpected pass or a check that
# now skips, 2 a line naming no check or a broken log); the JUnit and JSON
# marks; a recorded file judging its own run green; TCG boots for each
# status; --compare on the recorded Linux 6.1 and 6.12 KVM runs, on JSON,
# and on hostile input. Prints "PASS expect.NAME" or "FAIL expect.NAME: why".
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
xsd=tests/junit/junit.xsd
failed_log=tests/logs/status1_check_failed.log

result() { # NAME PROBLEMS...
    local name=$1
    shift
    if [ $# -eq 0 ]; then echo "PASS expect.$name"; else echo "FAIL expect.$name: $*"; fi
}

# status_case NAME WANT PATTERN RUN.SH-ARGS...: run.sh exits WANT and says
# PATTERN (stdout and stderr together).
status_case() {
    local name=$1 want=$2 pattern=$3 out status
    shift 3
    out=$(./run.sh "$@" 2>&1)
    status=$?
    if [ "$status" -ne "$want" ]; then
        result "$name" "exit status $status, expected $want: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
    elif ! grep -Eq -- "$pattern" <<<"$out"; then
        result "$name" "no /$pattern/ in: $(tr '\n' ' ' <<<"$out" | head -c 400)"
    else
        result "$name"
    fi
}

# --- the file's form: 64 and the line number, before anything runs -------
malformed() { # NAME LINE-TEXT PATTERN
    printf 'cpuid.hypervisor_bit pass\n%s\n' "$2" >"$tmp/bad.$1.txt"
    status_case "malformed_$1" 64 "bad\.$1\.txt line 2: $3" --check-log "$failed_log" --expect "$tmp/bad.$1.txt"
}
malformed one_field 'cpuid.kvm_features' 'expected "suite.check verdict \[scope\]", got 1 field'
malformed four_fields 'cpuid.kvm_features pass smp1 extra' '.*got 4 fields'
malformed no_dot 'cpuid pass' '"cpuid" is not a check name'
malformed upper_case 'CPUID.kvm_features pass' '"CPUID.kvm_features" is not a check name'
malformed bad_wildcard 'cpuid.kvm* pass' '"cpuid.kvm\*" is not a check name'
malformed bad_verdict 'cpuid.kvm_features ok' 'verdict "ok" is not pass, fail or skip'
malformed bad_scope 'cpuid.kvm_features pass smp/1' 'scope "smp/1" is not a configuration name'
malformed repeated 'cpuid.hypervisor_bit fail' 'cpuid.hypervisor_bit is already expected on line 1'
malformed control_byte $'cpuid.kvm_features\x01 pass' 'a byte that is not printable ASCII'
malformed long_line "cpuid.kvm_features pass # $(head -c 2100 /dev/zero | tr '\0' x)" 'a line over 2000 characters'
status_case unreadable_file 64 "cannot read expectation file" --check-log "$failed_log" --expect "$tmp/none.txt"
status_case scope_without_expect 64 "--expect-scope goes with --expect" --check-log "$failed_log" --expect-scope smp1
status_case matrix_excludes_expect 64 "excludes --expect" --matrix /dev/null --expect "$tmp/none.txt"

# --- the statuses on a recorded log with one failure ----------------------
printf '%s\n' '# the TCG block is not what the check wants' 'cpuid.hypervisor_blocks fail' >"$tmp/known.txt"
status_case known_failure 0 'expectations: 4 as expected \(1 expected failures\), 0 mismatched' \
    --check-log "$failed_log" --expect "$tmp/known.txt"
status_case regression 1 'regression: cpuid.hypervisor_blocks expected pass or skip, got fail' \
    --check-log "$failed_log" --expect /dev/null
printf '%s\n' '# evidence of the old bug' 'cpuid.hypervisor_bit fail' 'cpuid.hypervisor_blocks fail' >"$tmp/fixed.txt"
status_case unexpected_pass 1 "unexpected pass: cpuid.hypervisor_bit expected fail, got pass \(.*fixed.txt line 2: evidence of the old bug\); the bug is fixed or the check went blind: update the file" \
    --check-log "$failed_log" --expect "$tmp/fixed.txt"
printf '%s\n' 'cpuid.hypervisor_blocks fail' 'cpuid.kvm_features pass' >"$tmp/runs.txt"
status_case now_skips 1 'now skips: cpuid.kvm_features expected pass, got skip' \
    --check-log "$failed_log" --expect "$tmp/runs.txt"
printf '%s\n' 'cpuid.hypervisor_blocks fail' 'cpuid.no_such_check pass' >"$tmp/unknown.txt"
status_case unknown_check 2 'line 2 expects cpuid.no_such_check, which names no check pvcheck reported' \
    --check-log "$failed_log" --expect "$tmp/unknown.txt"
printf '%s\n' 'cpuid.hypervisor_blocks fail' 'nosuite.* pass' >"$tmp/unknown_suite.txt"
status_case unknown_suite 2 'expects nosuite.\*, which names no check' \
    --check-log "$failed_log" --expect "$tmp/unknown_suite.txt"
status_case broken_log_stays_2 2 'breaks the KTAP contract' \
    --check-log tests/logs/status2_truncated.log --expect "$tmp/known.txt"
# An exact line beats "suite.*"; a scoped line applies only in its scope,
# and beats an unscoped one there.
printf '%s\n' 'cpuid.* skip' 'cpuid.hypervisor_bit pass' 'cpuid.hypervisor_blocks fail' >"$tmp/wild.txt"
status_case exact_beats_wildcard 0 '4 as expected' --check-log "$failed_log" --expect "$tmp/wild.txt"
printf '%s\n' 'cpuid.hypervisor_blocks pass' 'cpuid.hypervisor_blocks fail other' >"$tmp/scoped.txt"
status_case scope_elsewhere 1 'regression: cpuid.hypervisor_blocks expected pass' \
    --check-log "$failed_log" --expect "$tmp/scoped.txt" --expect-scope mine
printf '%s\n' 'cpuid.hypervisor_blocks pass' 'cpuid.hypervisor_blocks fail mine' >"$tmp/scoped.txt"
status_case scope_here 0 '1 expected failures' --check-log "$failed_log" --expect "$tmp/scoped.txt" --expect-scope mine

# --- the reports ----------------------------------------------------------
./run.sh --check-log "$failed_log" --expect "$tmp/known.txt" --junit "$tmp/k.xml" --json "$tmp/k.json" >/dev/null 2>&1
p=()
xmllint --noout --schema "$xsd" "$tmp/k.xml" >/dev/null 2>&1 || p+=("XML does not validate")
[ "$(xmllint --xpath 'string(/testsuites/@failures)' "$tmp/k.xml")" = 0 ] || p+=("an expected failure counts as a failure")
xmllint --xpath 'string(//testcase[@name="hypervisor_blocks"]/skipped/@message)' "$tmp/k.xml" |
    grep -q '^expected failure (.*known.txt line 2: the TCG block is not what the check wants); FAIL: expected 1, saw 2$' ||
    p+=("no expected-failure mark")
jq -e '.suites[0].checks[1] | .verdict == "fail" and .expected == "fail" and .outcome == "expected_failure"' "$tmp/k.json" >/dev/null ||
    p+=("JSON lacks the outcome")
result reports_expected_failure "${p[@]}"
./run.sh --check-log "$failed_log" --expect "$tmp/fixed.txt" --junit "$tmp/u.xml" --json "$tmp/u.json" >/dev/null 2>&1
p=()
xmllint --noout --schema "$xsd" "$tmp/u.xml" >/dev/null 2>&1 || p+=("XML does not validate")
xmllint --xpath 'string(//testcase[@name="hypervisor_bit"]/failure/@message)' "$tmp/u.xml" | grep -q '^unexpected pass: expected fail' ||
    p+=("an unexpected pass is no failure")
jq -e '.suites[0].checks[0] | .verdict == "pass" and .outcome == "unexpected_pass"' "$tmp/u.json" >/dev/null ||
    p+=("JSON lacks the unexpected pass")
result reports_unexpected_pass "${p[@]}"
./run.sh --check-log "$failed_log" --json "$tmp/v.json" >/dev/null 2>&1
jq -e '.suites[0].checks[1].values.max_leaf == null and (.suites[0].checks[0].values.hypervisor_bit.value == 1)
       and (.suites[0].checks[0].values.hypervisor_bit.unit == null)' "$tmp/v.json" >/dev/null
result json_typed_figures $([ $? -eq 0 ] || echo "values are not typed numbers")

# --- recorded from a run, then judging it green ---------------------------
./run.sh --check-log "$failed_log" --record-expect "$tmp/rec.txt" >/dev/null 2>&1
p=()
grep -q '^cpuid.hypervisor_blocks fail$' "$tmp/rec.txt" || p+=("no failure line")
grep -B1 '^cpuid.hypervisor_blocks fail$' "$tmp/rec.txt" | grep -q '^# FAIL: expected 1, saw 2$' || p+=("no evidence")
./run.sh --check-log "$failed_log" --expect "$tmp/rec.txt" >/dev/null 2>&1 || p+=("the recorded file does not judge its own run green")
result recorded_round_trip "${p[@]}"

# A run that reaches no verdict writes no file; an unwritable one is bad usage.
status_case record_broken_log 2 'no expectation file written to .*: the run reached no verdict' \
    --check-log tests/logs/status2_truncated.log --record-expect "$tmp/broken_rec.txt"
[ ! -e "$tmp/broken_rec.txt" ]
result record_broken_log_writes_nothing $([ $? -eq 0 ] || echo "a file was written")
status_case record_unwritable 64 "cannot write '$tmp/no/such/dir.txt'" \
    --check-log "$failed_log" --record-expect "$tmp/no/such/dir.txt"

# --- TCG boots: each status from a real run -------------------------------
printf '%s\n' 'cpuid.* pass' 'cpuid.kvm_features skip' 'cpuid.tsc_frequency_leaves skip' 'kvmclock.* skip' >"$tmp/tcg.txt"
status_case tcg_as_expected 0 'expectations: [0-9]+ as expected .*, 0 mismatched' \
    --quiet --accel tcg --append only=cpuid --expect "$tmp/tcg.txt"
printf '%s\n' 'cpuid.hypervisor_bit fail' >"$tmp/tcg_fixed.txt"
status_case tcg_unexpected_pass 1 'unexpected pass: cpuid.hypervisor_bit' \
    --quiet --accel tcg --append only=cpuid --expect "$tmp/tcg_fixed.txt"
printf '%s\n' 'cpuid.hypervisor_bit pass' 'cpuid.gone pass' >"$tmp/tcg_unknown.txt"
status_case tcg_unknown_check 2 'expects cpuid.gone, which names no check' \
    --quiet --accel tcg --append only=cpuid --expect "$tmp/tcg_unknown.txt"
printf 'cpuid.hypervisor_bit yes\n' >"$tmp/tcg_bad.txt"
status_case tcg_malformed_before_boot 64 'tcg_bad.txt line 1' \
    --quiet --accel tcg --append only=cpuid --expect "$tmp/tcg_bad.txt"
printf '[mine]\naccel = tcg\nappend = only=cpuid\nexpect = %s\n' "$tmp/matrix_expect.txt" >"$tmp/matrix.txt"
printf '%s\n' 'cpuid.hypervisor_bit pass' 'cpuid.hypervisor_bit fail mine' >"$tmp/matrix_expect.txt"
status_case matrix_expect_scoped 1 'mine +status 1' --matrix "$tmp/matrix.txt" --out "$tmp/m"
grep -q 'unexpected pass: cpuid.hypervisor_bit expected fail' "$tmp/m/mine.out"
result matrix_expect_says $([ $? -eq 0 ] || echo "the configuration's output lacks the mismatch")

# --- --compare -------------------------------------------------------------
scenario_log() { # RESULTS NAME: one scenario's serial log from a capture
    tr -d '\r' <"$1" | awk -v n="$2" '$0 == "@@@ BEGIN " n { on = 1; next } $0 == "@@@ END " n { on = 0 }
        on && /^\| / { print substr($0, 3) }'
}
scenario_log tests/kvm/fixtures/results.txt smp2 >"$tmp/61.log"
scenario_log tests/kvm/fixtures-6.12/results.txt smp2 >"$tmp/612.log"
status_case compare_61_612 0 '\| `smp.wall_clock_each_vcpu` \| epoch_spread_ns \| 321 \| 1 \| -99.7% \|' \
    --compare "$tmp/61.log" "$tmp/612.log"
./run.sh --check-log "$tmp/61.log" --json "$tmp/61.json" >/dev/null 2>&1
./run.sh --check-log "$tmp/612.log" --json "$tmp/612.json" >/dev/null 2>&1
diff <(./run.sh --compare "$tmp/61.log" "$tmp/612.log" | sed 1d) \
    <(./run.sh --compare "$tmp/61.json" "$tmp/612.json" | sed 1d) >/dev/null
result compare_json_as_log $([ $? -eq 0 ] || echo "JSON and log comparisons differ")
status_case compare_threshold 0 'Figures that changed by more than 1000%: [1-9]' \
    --compare "$tmp/61.log" "$tmp/612.log" --threshold 1000
status_case compare_bad_threshold 64 '--threshold must be a percentage' \
    --compare "$tmp/61.log" "$tmp/612.log" --threshold ten
status_case compare_verdict_changed 1 '\| `cpuid.hypervisor_blocks` \| pass \| fail \|' \
    --compare "$tmp/61.log" "$failed_log"
# Hostile input: missing suites, another version, a figure that is not a
# number, files that are no pvcheck output.
sed '/# Subtest: smp/,/^ok [0-9]* smp/d' "$tmp/612.log" >"$tmp/nosmp.log"
status_case compare_missing_suite 1 '\| `smp.bringup` \| pass \| absent \|' --compare "$tmp/61.log" "$tmp/nosmp.log"
sed 's/^# pvcheck 0.1 /# pvcheck 9.9 /; s/epoch_spread_ns=[0-9]*/epoch_spread_ns=abc/' "$tmp/612.log" >"$tmp/other.log"
status_case compare_other_version 0 'note: different pvcheck versions \(0.1, 9.9\)' --compare "$tmp/61.log" "$tmp/other.log"
./run.sh --compare "$tmp/61.log" "$tmp/other.log" | grep -q 'epoch_spread_ns'
result compare_figure_not_a_number $([ $? -ne 0 ] || echo "a figure that is not a number was compared")
printf 'hello\n' >"$tmp/not.log"
status_case compare_not_a_log 2 'is not a pvcheck log' --compare "$tmp/not.log" "$tmp/61.log"
printf '{"tool": "other"}\n' >"$tmp/not.json"
status_case compare_not_pvcheck_json 2 'is not a pvcheck JSON report' --compare "$tmp/61.log" "$tmp/not.json"
printf '{"tool": "pvcheck", "suites": [' >"$tmp/cut.json"
status_case compare_cut_json 2 'is not a pvcheck JSON report' --compare "$tmp/cut.json" "$tmp/61.log"
status_case compare_missing_file 2 'cannot read' --compare "$tmp/61.log" "$tmp/nothing.log"
status_case compare_one_file 64 '--compare needs two files' --compare "$tmp/61.log"
exit 0
