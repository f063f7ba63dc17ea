#!/usr/bin/env bash
# run.sh --junit and --json: the JUnit XML validates against tests/junit/junit.xsd
# (xmllint), the JSON parses (jq), both agree with the log's own summary, and
# failures, crashes, broken logs and hostile bytes come out as they should.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
xsd=tests/junit/junit.xsd

result() { # NAME PROBLEMS...
    local name=$1
    shift
    if [ $# -eq 0 ]; then echo "PASS report.$name"; else echo "FAIL report.$name: $*"; fi
}
valid_xml() { xmllint --noout --schema "$xsd" "$1" >/dev/null 2>&1; }
valid_json() { jq -e . "$1" >/dev/null 2>&1; }
attr() { # FILE ELEMENT ATTRIBUTE: the first element's attribute
    xmllint --xpath "string((//$2)[1]/@$3)" "$1" 2>/dev/null
}

# A whole TCG run with 2 vCPUs: counts agree with the summary line.
./run.sh --quiet --accel tcg --smp 2 --log "$tmp/run.log" --junit "$tmp/run.xml" --json "$tmp/run.json" >/dev/null 2>&1
read -r passed failed skipped < <(sed -n 's/^# pvcheck: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p' "$tmp/run.log")
p=()
valid_xml "$tmp/run.xml" || p+=("XML does not validate")
valid_json "$tmp/run.json" || p+=("JSON does not parse")
[ "$(attr "$tmp/run.xml" testsuites tests)" = "$((passed + failed + skipped))" ] || p+=("tests=$(attr "$tmp/run.xml" testsuites tests), log has $((passed + failed + skipped))")
[ "$(attr "$tmp/run.xml" testsuites skipped)" = "$skipped" ] || p+=("skipped differs")
[ "$(jq -r '.totals | "\(.passed) \(.failed) \(.skipped)"' "$tmp/run.json")" = "$passed $failed $skipped" ] || p+=("JSON totals differ")
[ "$(jq -r '.suites | length' "$tmp/run.json")" = "$(grep -c '^    # Subtest: ' "$tmp/run.log")" ] || p+=("JSON suite count differs")
jq -e '.exit_costs_tsc_cycles.register_loop_iteration >= 0 and (.boot | test("boot=multiboot1"))' "$tmp/run.json" >/dev/null || p+=("no exit costs or boot information")
jq -e '(.tick | length) >= 1 and (.tick[0] | test("^pit ")) and (.reference | test("^hpet hz=")) and (.left_by | test("^isa-debug-exit"))' "$tmp/run.json" >/dev/null || p+=("no tick, reference or way out")
[ "$(xmllint --xpath 'count(//testcase[@classname="pvcheck.smp"][@name="bringup"]/system-out)' "$tmp/run.xml")" = 1 ] || p+=("smp.bringup lacks its figures")
result tcg_run "${p[@]}"

# A failing check: a failure element with the FAIL line.
./run.sh --check-log tests/logs/status1_check_failed.log --junit "$tmp/f.xml" --json "$tmp/f.json" >/dev/null 2>&1
p=()
valid_xml "$tmp/f.xml" || p+=("XML does not validate")
[ "$(xmllint --xpath 'string(//testcase[@name="hypervisor_blocks"]/failure/@message)' "$tmp/f.xml")" = "FAIL: expected 1, saw 2" ] || p+=("no failure message")
[ "$(jq -r '.suites[0].checks[1].verdict' "$tmp/f.json")" = fail ] || p+=("JSON verdict not fail")
result failed_check "${p[@]}"

# A crash: the check is an error (once: not again as a bail-out), and the
# suites it left unrun are skipped, saying so.
./run.sh --quiet --accel tcg --append selftest=fault --junit "$tmp/c.xml" --json "$tmp/c.json" >/dev/null 2>&1
p=()
valid_xml "$tmp/c.xml" || p+=("XML does not validate")
xmllint --xpath 'string(//testcase[@classname="pvcheck.selftest"][@name="trigger"]/error/@message)' "$tmp/c.xml" | grep -q '^FAIL: unexpected exception #UD' || p+=("the crashed check is not an error")
[ "$(attr "$tmp/c.xml" testsuites errors)" = 1 ] || p+=("errors=$(attr "$tmp/c.xml" testsuites errors), want 1")
[ "$(xmllint --xpath 'string(//testsuite[@name="cpuid"]/testcase[@name="cpuid"]/skipped/@message)' "$tmp/c.xml")" = "not run: guest bailed out" ] ||
    p+=("the unrun cpuid suite is not skipped as not run")
jq -e '.bail_out | test("unexpected exception")' "$tmp/c.json" >/dev/null || p+=("JSON lacks the bail-out")
jq -e '[.suites[] | select(.name == "smp")][0].checks[0].verdict == "skip"' "$tmp/c.json" >/dev/null || p+=("JSON: smp not skipped")
result crash "${p[@]}"

# A refused command line: every suite is an error, none a pass or a skip.
./run.sh --quiet --accel tcg --append bogus --junit "$tmp/b.xml" --json "$tmp/b.json" >/dev/null 2>&1
p=()
valid_xml "$tmp/b.xml" || p+=("XML does not validate")
n=$(xmllint --xpath 'count(//testsuite)' "$tmp/b.xml")
[ "$n" -ge 5 ] && [ "$(attr "$tmp/b.xml" testsuites errors)" = "$n" ] || p+=("$n suites, errors=$(attr "$tmp/b.xml" testsuites errors)")
jq -e '.totals.passed == 0 and .totals.skipped == 0 and .totals.errors >= 5' "$tmp/b.json" >/dev/null || p+=("JSON totals: $(jq -c .totals "$tmp/b.json")")
result refused "${p[@]}"

# Every recorded and hand-broken log: valid files, and a log run.sh rejects
# (status 2) is an error in both, never a clean report.
p=()
for f in tests/logs/*.log; do
    ./run.sh --check-log "$f" --junit "$tmp/l.xml" --json "$tmp/l.json" >/dev/null 2>&1
    status=$?
    valid_xml "$tmp/l.xml" || p+=("$f: XML does not validate")
    valid_json "$tmp/l.json" || p+=("$f: JSON does not parse")
    if [ "$status" -eq 2 ]; then
        [ "$(attr "$tmp/l.xml" testsuites errors)" -ge 1 ] 2>/dev/null || p+=("$f: status 2 but no error in the XML")
        jq -e '.bail_out != null or .run_error != null' "$tmp/l.json" >/dev/null || p+=("$f: status 2 but no error in the JSON")
    else
        [ "$(attr "$tmp/l.xml" testsuites errors)" = 0 ] || p+=("$f: status $status with an error")
    fi
done
result recorded_logs "${p[@]}"

# Hostile bytes in a figure and a check name are escaped, not passed through.
sed 's/^    ok 1 hypervisor_bit$/    # evil=<\/system-out><x a="1">\&amp; "q" \\ \x01\x1b]0;t\x07\n    ok 1 hypervisor_bit/' \
    tests/logs/status0_tcg_pass.log >"$tmp/evil.log"
./run.sh --check-log "$tmp/evil.log" --junit "$tmp/e.xml" --json "$tmp/e.json" >/dev/null 2>&1
p=()
grep -q 'evil=' "$tmp/evil.log" || p+=("the hostile line was not made")
valid_xml "$tmp/e.xml" || p+=("XML does not validate")
valid_json "$tmp/e.json" || p+=("JSON does not parse")
jq -e '.suites[0].checks[0].figures | test("evil=</system-out><x a=\"1\">&amp; \"q\"")' "$tmp/e.json" >/dev/null || p+=("JSON lost the figure's text")
result hostile_log "${p[@]}"

# A report file that cannot be written is an error before any run; QEMU
# missing still writes a report saying so.
p=()
out=$(./run.sh --accel tcg --junit /nonexistent/dir/r.xml 2>&1)
[ $? -eq 2 ] && grep -q "cannot write '/nonexistent/dir/r.xml'" <<<"$out" || p+=("unwritable: $out")
./run.sh --qemu /nonexistent/qemu --junit "$tmp/q.xml" --json "$tmp/q.json" >/dev/null 2>&1
valid_xml "$tmp/q.xml" || p+=("QEMU missing: XML does not validate")
jq -e '.run_error | test("QEMU not found")' "$tmp/q.json" >/dev/null || p+=("QEMU missing: no run error")
result run_errors "${p[@]}"
