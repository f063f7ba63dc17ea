#!/usr/bin/env bash
# run.sh --matrix FILE -j N: every configuration runs (in parallel), leaves
# its log, and the one JUnit file validates, names each configuration, sums
# their totals and carries the worst status; bad matrix files are refused
# (64) naming the line, and values never reach a shell.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
xsd=tests/junit/junit.xsd

result() { # NAME PROBLEMS...
    local name=$1
    shift
    if [ $# -eq 0 ]; then echo "PASS matrix_runner.$name"; else echo "FAIL matrix_runner.$name: $*"; fi
}

cat >"$tmp/m.txt" <<'EOF'
# three configurations: two that pass, one that crashes on purpose
[one_vcpu]
accel = tcg
append = only=cpuid

[two_vcpus]
accel = tcg
smp = 2
mem = 64M
append = only=cpuid,smp
qemu = -machine q35

[crash]
accel = tcg
append = selftest=fault only=selftest
EOF
start=$(date +%s%N)
./run.sh --matrix "$tmp/m.txt" -j 3 --out "$tmp/out" >"$tmp/stdout" 2>"$tmp/stderr"
status=$?
p=()
[ "$status" -eq 2 ] || p+=("status $status, want 2 (the crash is the worst)")
for n in one_vcpu two_vcpus crash; do
    [ -s "$tmp/out/$n.log" ] || p+=("no log for $n")
done
grep -q '^# cmdline: only=cpuid,smp ' "$tmp/out/two_vcpus.log" || p+=("two_vcpus did not get its options")
grep -q 'online=2' "$tmp/out/two_vcpus.log" || p+=("two_vcpus did not run 2 vCPUs")
grep -q 'status 0' <(grep '^two_vcpus ' "$tmp/stdout") || p+=("two_vcpus not status 0: $(grep '^two_vcpus ' "$tmp/stdout")")
xml=$tmp/out/junit.xml
xmllint --noout --schema "$xsd" "$xml" >/dev/null 2>&1 || p+=("merged JUnit does not validate")
[ "$(xmllint --xpath 'count(//testsuite[@name="two_vcpus/cpuid" or @name="two_vcpus/smp"])' "$xml" 2>/dev/null)" = 2 ] ||
    p+=("two_vcpus/cpuid and two_vcpus/smp are not both there")
[ "$(xmllint --xpath 'count(//testcase[@classname="pvcheck.two_vcpus.smp"][@name="bringup"][not(*[not(self::system-out)])])' "$xml" 2>/dev/null)" = 1 ] ||
    p+=("two_vcpus: smp.bringup did not pass")
[ "$(xmllint --xpath 'count(//testcase[@classname="pvcheck.crash.selftest"]/error)' "$xml" 2>/dev/null)" = 1 ] ||
    p+=("the crash is not an error of crash/selftest")
sum=0
for n in one_vcpu two_vcpus crash; do
    sum=$((sum + $(xmllint --xpath 'string(/testsuites/@tests)' "$tmp/out/$n.xml")))
done
[ "$(xmllint --xpath 'string(/testsuites/@tests)' "$xml")" = "$sum" ] || p+=("tests= is not the sum $sum")
[ "$(xmllint --xpath 'count(//testcase)' "$xml")" = "$sum" ] || p+=("testcases are not the sum $sum")
result three_configurations "${p[@]}"

# A figure, not judged: timing is no test on a shared machine.
echo "# matrix -j 3 took $((($(date +%s%N) - start) / 1000000)) ms for 3 configurations"

# A configuration run.sh refuses is an error in the JUnit file, status 64.
printf '[bad_smp]\naccel = tcg\nsmp = 0\n[fine]\naccel = tcg\nappend = only=cpuid\n' >"$tmp/bad.txt"
./run.sh --matrix "$tmp/bad.txt" --out "$tmp/bad" >/dev/null 2>&1
status=$?
p=()
[ "$status" -eq 64 ] || p+=("status $status, want 64")
xmllint --noout --schema "$xsd" "$tmp/bad/junit.xml" >/dev/null 2>&1 || p+=("JUnit does not validate")
xmllint --xpath '//testsuite[@name="bad_smp/run"]//error' "$tmp/bad/junit.xml" 2>/dev/null | grep -q 'smp must be' ||
    p+=("the refused configuration is not an error with run.sh's words")
result refused_configuration "${p[@]}"

# Bad matrix files: refused before anything runs, naming the line.
bad_file() { # NAME PATTERN CONTENT
    printf '%b' "$3" >"$tmp/f.txt"
    local out
    out=$(./run.sh --matrix "$tmp/f.txt" --out "$tmp/f" 2>&1)
    local status=$?
    if [ "$status" -eq 64 ] && grep -q -- "$2" <<<"$out"; then
        result "file_$1"
    else
        result "file_$1" "status $status: $out"
    fi
}
bad_file unknown_key "line 2: unknown key 'cpus'" '[a]\ncpus = 2\n'
bad_file before_name "line 1: 'smp' before the first" 'smp = 2\n[a]\n'
bad_file duplicate "line 3: configuration 'a' given twice" '[a]\nsmp = 1\n[a]\n'
bad_file bad_name "expected '\[name\]'" '[a b]\nsmp = 1\n'
bad_file empty "no \[name\] block" '# nothing\n'
bad_file bad_boot "boot must be" '[a]\nboot = floppy\n'
out=$(./run.sh --matrix "$tmp/m.txt" -j 0 2>&1)
[ $? -eq 64 ] && grep -q -- '-j must be' <<<"$out" && result jobs_zero || result jobs_zero "$out"

# Values are arguments, never shell: a command substitution stays text.
printf '[evil]\naccel = tcg\nappend = only=cpuid $(touch %s/pwned)\nqemu = -name `touch %s/pwned2`\n' "$tmp" "$tmp" >"$tmp/evil.txt"
./run.sh --matrix "$tmp/evil.txt" --out "$tmp/evil" >/dev/null 2>&1
p=()
[ ! -e "$tmp/pwned" ] && [ ! -e "$tmp/pwned2" ] || p+=("a value was run by a shell")
xmllint --noout --schema "$xsd" "$tmp/evil/junit.xml" >/dev/null 2>&1 || p+=("JUnit does not validate")
result values_not_shell "${p[@]}"
