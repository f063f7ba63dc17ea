#!/usr/bin/env bash
# The parsers people already use read every kind of log pvcheck prints with
# no parse error, and count what pvcheck counted:
#   - Linux's kunit.py (tools/testing/kunit from Debian's linux-source-6.1,
#     downloaded once into build/kunit): no "[ERROR]" line, and its passed,
#     failed and skipped counts equal run.sh's (the summary line where the
#     run finished);
#   - Perl's prove (TAP): no parse error, and PASS exactly when run.sh says 0.
# Logs: fresh TCG runs that pass, crash (on the boot vCPU and on another),
# time out (check and run watchdogs) and refuse their command line, the
# recorded logs that keep the contract, and every real-KVM and real-Xen log
# recorded in the harness fixtures.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/logs"

result() { # NAME PROBLEMS...
    local name=$1
    shift
    if [ $# -eq 0 ]; then echo "PASS ktap.$name"; else echo "FAIL ktap.$name: $*"; fi
}

# kunit.py comes from the kernel source Debian ships; where that package is
# out of reach (no network, not Debian), the kunit.py half says so and skips.
kunit_dir=build/kunit/linux-source-6.1/tools/testing/kunit
fetch_kunit() {
    [ -f "$kunit_dir/kunit.py" ] && return 0
    mkdir -p build/kunit
    (cd build/kunit && apt-get download linux-source-6.1 >download.log 2>&1) || return 1
    local deb
    deb=$(ls build/kunit/linux-source-6.1_*_all.deb 2>/dev/null | tail -n 1)
    [ -n "$deb" ] || return 1
    dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/src/linux-source-6.1.tar.xz | xz -dc |
        tar -xf - -C build/kunit --wildcards 'linux-source-6.1/tools/testing/kunit/*' || return 1
    rm -f "$deb"
    [ -f "$kunit_dir/kunit.py" ]
}

fresh() { # NAME RUN.SH ARGS...
    local name=$1
    shift
    ./run.sh --quiet --accel tcg --log "$tmp/logs/$name.log" "$@" >/dev/null 2>&1
}
fresh pass --append "only=cpuid,smp"
fresh fault --append "selftest=fault"
fresh ap_fault --smp 2 --append "selftest=ap_fault"
fresh check_watchdog --append "selftest=hang check_timeout=1"
fresh run_watchdog --append "selftest=hang run_timeout=1"
fresh bad_option --append "bogus"
fresh bad_name --append "only=nosuch"
cp tests/logs/status0_tcg_pass.log tests/logs/status1_check_failed.log tests/logs/status2_crash_closed.log \
    tests/logs/status2_refused.log "$tmp/logs/"
# The harness fixtures: "@@@ BEGIN name" opens a scenario, "| " prefixes its log.
for tag in kvm61 kvm612 kvm73 xen xen420; do
    case $tag in
    kvm61) f=tests/kvm/fixtures/results.txt ;;
    kvm612) f=tests/kvm/fixtures-6.12/results.txt ;;
    kvm73) f=tests/kvm/fixtures-7.3/results.txt ;;
    xen) f=tests/xen/fixtures/results.txt ;;
    xen420) f=tests/xen/fixtures-4.20/results.txt ;;
    esac
    awk -v dir="$tmp/logs" -v tag="$tag" '
        { sub(/\r$/, "") }
        /^@@@ BEGIN / { name = dir "/" tag "." $3 ".log"; next }
        /^\| / && name != "" { print substr($0, 3) > name }
        /^\|$/ && name != "" { print "" > name }' "$f"
done
# The first fresh runs must have crashed, timed out and refused as named,
# or this test would only prove that clean logs parse.
p=()
grep -q '^    not ok 1 trigger # ERROR exception$' "$tmp/logs/fault.log" || p+=("fault.log has no crashed check")
grep -q '# SKIP not run: guest bailed out$' "$tmp/logs/fault.log" || p+=("fault.log closes no suite as not run")
grep -q '^    not ok 1 trigger # TIMEOUT$' "$tmp/logs/check_watchdog.log" || p+=("check_watchdog.log has no timed-out check")
grep -q '^not ok 1 [a-z_]* # ERROR not run: bad command line$' "$tmp/logs/bad_option.log" || p+=("bad_option.log has no refused plan")
[ "$(ls "$tmp/logs" | wc -l)" -ge 20 ] || p+=("only $(ls "$tmp/logs" | wc -l) logs")
result logs_made "${p[@]}"

# What run.sh makes of a log: "STATUS PASSED FAILED SKIPPED", failures and
# errors (crashed, timed-out or refused) both counted as failed, as kunit.py
# counts them.
verdict() { # LOG JSON
    ./run.sh --check-log "$1" --json "$2" >/dev/null 2>&1
    local status=$?
    echo "$status $(jq -r '.totals | "\(.passed) \(.failed + .errors) \(.skipped)"' "$2")"
}

have_kunit=1
if ! command -v python3 >/dev/null; then
    echo "SKIP ktap.kunit_py: python3 is not installed"
    have_kunit=0
elif ! fetch_kunit; then
    echo "SKIP ktap.kunit_py: could not fetch Debian's linux-source-6.1 ($(tail -n 1 build/kunit/download.log 2>/dev/null))"
    have_kunit=0
fi
have_prove=1
command -v prove >/dev/null || { echo "SKIP ktap.prove: prove (Debian's perl) is not installed"; have_prove=0; }

# One log through run.sh, kunit.py and prove; its own files in $tmp/out.
read_log() {
    local log=$1 name status passed failed skipped summary p kstatus line kp kf kc ks
    name=$(basename "$log" .log)
    local o=$tmp/out/$name
    read -r status passed failed skipped < <(verdict "$log" "$o.json")
    summary=$(sed -n 's/\r$//; s/^# pvcheck: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$log")
    p=()
    [ -z "$summary" ] || [ "$summary" = "$passed $failed $skipped" ] ||
        p+=("run.sh counts $passed/$failed/$skipped, the summary line $summary")
    if [ "$have_kunit" = 1 ]; then
        python3 "$kunit_dir/kunit.py" parse "$log" >"$o.kunit" 2>&1
        kstatus=$?
        sed -i 's/\x1b\[[0-9;]*m//g' "$o.kunit"
        grep -q '\[ERROR\]\|Traceback' "$o.kunit" &&
            p+=("kunit.py: $(grep -m1 '\[ERROR\]\|Traceback' "$o.kunit")")
        line=$(grep -o 'Testing complete\. .*' "$o.kunit" | tail -n 1)
        kp=$(grep -o 'passed: [0-9]*' <<<"$line" | grep -o '[0-9]*')
        kf=$(grep -o 'failed: [0-9]*' <<<"$line" | grep -o '[0-9]*')
        kc=$(grep -o 'crashed: [0-9]*' <<<"$line" | grep -o '[0-9]*')
        ks=$(grep -o 'skipped: [0-9]*' <<<"$line" | grep -o '[0-9]*')
        [ "${kp:-0} $((${kf:-0} + ${kc:-0})) ${ks:-0}" = "$passed $failed $skipped" ] ||
            p+=("kunit.py counts '${line:-nothing}', run.sh $passed/$failed/$skipped")
        # kunit.py exits 0 only for a run without failures.
        { [ "$kstatus" -eq 0 ] && [ "$status" -eq 0 ]; } || { [ "$kstatus" -ne 0 ] && [ "$status" -ne 0 ]; } ||
            p+=("kunit.py exits $kstatus, run.sh $status")
    fi
    if [ "$have_prove" = 1 ]; then
        prove --exec cat "$log" >"$o.prove" 2>&1
        grep -qi 'parse error\|bad plan\|no plan found\|out of sequence' "$o.prove" &&
            p+=("prove: $(grep -i -m1 'parse error\|bad plan\|no plan found\|out of sequence' "$o.prove")")
        if [ "$status" -eq 0 ]; then
            grep -q '^Result: PASS' "$o.prove" || p+=("prove does not pass a passing log")
        else
            grep -q '^Result: PASS' "$o.prove" && p+=("prove passes a log run.sh judged $status")
        fi
    fi
    result "$name" "${p[@]}"
}

# Two logs at a time (nothing here is timed); results in the logs' order.
. tests/tools/in_turn.sh
mkdir -p "$tmp/out"
in_turn_start "$tmp/results"
for log in "$tmp"/logs/*.log; do
    in_turn read_log "$log"
done
in_turn_finish
