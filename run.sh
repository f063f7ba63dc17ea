#!/usr/bin/env bash
# Boots pvcheck in QEMU, shows the serial log live, checks it, and exits with
#   0 every check passed (skips allowed)   1 a check failed
#   2 the run went wrong (crash, timeout, malformed log, QEMU missing)   64 bad usage
set -u

here=$(cd "$(dirname "$0")" && pwd)

usage() {
    cat <<'EOF'
usage: run.sh [options] [-- extra QEMU arguments]

  --accel kvm|tcg|auto  accelerator (default auto: kvm when /dev/kvm is usable)
  --cpu MODEL           QEMU -cpu (default: host with KVM, max with TCG; with KVM,
                        models QEMU cannot start are followed by host,-arch-capabilities,
                        then max; an explicit --cpu is never changed)
  --smp N               vCPUs (default 1)
  --mem SIZE            guest memory, e.g. 128M (default 128M)
  --machine TYPE[,OPT]  QEMU machine: pc (default), q35 or microvm, with QEMU's machine
                        options (microvm,pic=off,pit=off,rtc=off,acpi=off, ...); microvm
                        boots -kernel or --image only
  --no-debug-exit       leave out QEMU's isa-debug-exit, as minimal VMMs have none: the
                        guest leaves by ACPI power-off, the i8042 reset or a halt, the
                        log decides the status, and run.sh stops a halted guest
  --iso                 boot the GRUB ISO (multiboot) instead of -kernel
  --iso-multiboot2      boot the GRUB ISO through its multiboot2 entry
  --uefi                boot the GRUB ISO on UEFI firmware (OVMF) through multiboot2
  --image FILE          boot this ELF with -kernel (default build/pvcheck.elf)
  --append "OPTIONS"    guest options (docs/running.md: only=, skip=, verbose, ...)
  --timeout SECONDS     kill QEMU after this long (default 120; 240 with --migrate,
                        --snapshot, --pause or --hotplug, where the guest waits for
                        the move half of it at most, up to 120 s, so that a move it
                        does not see still ends in a verdict)
  --log FILE            keep the serial log here (default: a temporary file)
  --qemu PATH           QEMU binary (default qemu-system-x86_64)
  --junit FILE          also write the verdicts as JUnit XML (GitLab, Jenkins)
  --json FILE           also write them as JSON, with the boot information and exit costs
  --check-log FILE      only check an existing serial log and print its verdicts
  --matrix FILE         run every configuration of FILE (docs/running.md), one log
                        each in --out DIR, one JUnit file (--junit, default
                        DIR/junit.xml); exits with the worst status
  -j N                  with --matrix: N configurations at a time (default 1)
  --out DIR             with --matrix: where the logs go (default pvcheck-matrix)
  --guest-status N      with --check-log: QEMU's exit status for that log, checked too
  --expect FILE         judge the verdicts against FILE's expected ones ("suite.check
                        pass|fail|skip" lines, docs/running.md): exit 0 when all match, 1 on
                        a regression or an unexpected pass, 2 when FILE names no such check
  --expect-scope NAME   with --expect: also apply FILE's lines scoped to NAME
  --record-expect FILE  write the run's verdicts as an expectation file, each failure
                        with its first FAIL line as evidence (with a run or --check-log)
  --compare OLD NEW     compare two logs (or two --json files): the verdicts and the
                        figures that changed, as Markdown; exit 1 if a verdict changed
  --threshold PERCENT   with --compare: a figure's change that counts (default 10)
  --list-checks         every suite and check with the rule it enforces, read from the
                        image's check tables (boots nothing)
  --migrate             live-migrate the running guest once to a second QEMU (over a
                        unix socket, through QMP) while its migration suite samples;
                        adds the guest option migration
  --snapshot            the same with a snapshot: stop, save to a file, quit, restore
                        in a new QEMU, continue
  --pause               the same with a stop of 1 s and a continue in the same QEMU
  --hotplug             add a vCPU to the running guest (QMP device_add; -smp N becomes
                        -smp N,maxcpus=N+1) while its hotplug suite samples; adds the
                        guest option hotplug
  --quiet               do not echo the serial log while it runs
  -h, --help            this text
EOF
}

usage_error() {
    echo "run.sh: $*" >&2
    usage >&2
    exit 64
}

run_error() {
    echo "run.sh: error: $*" >&2
    report_run_error "error: $*"
    exit 2
}

accel=auto cpu="" smp=1 mem=128M machine="" boot=kernel image="" append="" timeout=""
log="" qemu=qemu-system-x86_64 check_log="" guest_status=none quiet=0 extra=()
junit="" json="" matrix="" jobs=1 out=pvcheck-matrix migrate_mode=""
expect="" expect_scope="" record_expect="" compare=() threshold=10 list_checks=0
debug_exit=1

. "$here/tests/tools/expect.sh"

need_value() {
    [ $# -ge 2 ] || usage_error "$1 needs a value"
}

while [ $# -gt 0 ]; do
    case "$1" in
    --accel) need_value "$@"; accel=$2; shift 2 ;;
    --cpu) need_value "$@"; cpu=$2; shift 2 ;;
    --smp) need_value "$@"; smp=$2; shift 2 ;;
    --mem) need_value "$@"; mem=$2; shift 2 ;;
    --machine) need_value "$@"; machine=$2; shift 2 ;;
    --no-debug-exit) debug_exit=0; shift ;;
    --iso) boot=iso1; shift ;;
    --iso-multiboot2) boot=iso2; shift ;;
    --uefi) boot=uefi; shift ;;
    --image) need_value "$@"; image=$2; shift 2 ;;
    --append) need_value "$@"; append=$2; shift 2 ;;
    --timeout) need_value "$@"; timeout=$2; shift 2 ;;
    --log) need_value "$@"; log=$2; shift 2 ;;
    --qemu) need_value "$@"; qemu=$2; shift 2 ;;
    --check-log) need_value "$@"; check_log=$2; shift 2 ;;
    --junit) need_value "$@"; junit=$2; shift 2 ;;
    --json) need_value "$@"; json=$2; shift 2 ;;
    --guest-status) need_value "$@"; guest_status=$2; shift 2 ;;
    --expect) need_value "$@"; expect=$2; shift 2 ;;
    --expect-scope) need_value "$@"; expect_scope=$2; shift 2 ;;
    --record-expect) need_value "$@"; record_expect=$2; shift 2 ;;
    --compare) [ $# -ge 3 ] || usage_error "--compare needs two files"; compare=("$2" "$3"); shift 3 ;;
    --threshold) need_value "$@"; threshold=$2; shift 2 ;;
    --list-checks) list_checks=1; shift ;;
    --matrix) need_value "$@"; matrix=$2; shift 2 ;;
    -j | --jobs) need_value "$@"; jobs=$2; shift 2 ;;
    --out) need_value "$@"; out=$2; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --migrate) migrate_mode=live; shift ;;
    --snapshot) migrate_mode=snapshot; shift ;;
    --pause) migrate_mode=pause; shift ;;
    --hotplug) migrate_mode=hotplug; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) usage_error "unknown argument '$1'" ;;
    esac
done

case "$accel" in kvm | tcg | auto) ;; *) usage_error "--accel must be kvm, tcg or auto" ;; esac
[[ "$smp" =~ ^[0-9]+$ ]] && [ "$smp" -ge 1 ] && [ "$smp" -le 288 ] ||
    usage_error "--smp must be a number from 1 to 288"
# A moved guest waits up to 120 s (migration_wait_s) for the move: QEMU's
# limit leaves it that and the rest of its run, so that a move it cannot
# see ends in its own verdict rather than in a timeout.
[ -n "$timeout" ] || { [ -n "$migrate_mode" ] && timeout=240 || timeout=120; }
[[ "$timeout" =~ ^[0-9]+$ ]] && [ "$timeout" -ge 1 ] || usage_error "--timeout must be a positive number of seconds"
[[ "$mem" =~ ^[0-9]+[MG]?$ ]] || usage_error "--mem must look like 128M or 1G"
[[ "$append" != *$'\n'* ]] || usage_error "--append must be one line"
[ -z "$machine" ] || [[ "$machine" =~ ^(pc|q35|microvm)(,[a-z0-9_-]+=[A-Za-z0-9_.-]+)*$ ]] ||
    usage_error "--machine must be pc, q35 or microvm, then ,OPTION=VALUE pairs"
[ "$migrate_mode" != hotplug ] || [[ "$machine" != microvm* ]] ||
    usage_error "--hotplug needs a machine with CPU hotplug (pc or q35); microvm has none"
if [[ "$machine" == microvm* ]] && [ "$boot" != kernel ]; then
    usage_error "--machine microvm has no disk to boot an ISO from: use -kernel (the default) or --image"
fi
if [ -n "$matrix" ] && [ -n "$check_log$json" ]; then
    usage_error "--matrix writes one JSON file per configuration in --out; it excludes --check-log and --json"
fi
if [ -n "$migrate_mode" ] && [ -n "$matrix$check_log" ]; then
    usage_error "--migrate, --snapshot, --pause and --hotplug run one guest; they exclude --matrix and --check-log"
fi
if [ -n "$image" ] && [ "$boot" != kernel ]; then
    usage_error "--image and --iso exclude each other"
fi
[[ "$threshold" =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage_error "--threshold must be a percentage, like 10 or 2.5"
[ -z "$expect_scope" ] || [ -n "$expect" ] || usage_error "--expect-scope goes with --expect"
[[ "$expect_scope" =~ ^[A-Za-z0-9_.-]*$ ]] || usage_error "--expect-scope must be a configuration name"
if [ -n "$matrix" ] && [ -n "$expect$record_expect" ]; then
    usage_error "--matrix takes its expectation files per configuration ('expect = FILE'); it excludes --expect and --record-expect"
fi
if [ "$list_checks" = 1 ]; then
    make -s -C "$here" build/pvcheck.syms.elf build/host/list_checks >&2 ||
        { echo "run.sh: error: building pvcheck failed" >&2; exit 2; }
    exec "$here/build/host/list_checks" "$here/build/pvcheck.syms.elf"
fi
# A malformed expectation file is bad usage, found before anything runs.
if [ -n "$expect" ]; then
    expect_rules "$expect" "$expect_scope" >/dev/null || exit 64
fi
# The file --record-expect will write must be writable; it is written only
# from a run that reached a verdict.
if [ -n "$record_expect" ]; then
    if [ -e "$record_expect" ]; then [ -f "$record_expect" ] && [ -w "$record_expect" ]; else [ -w "$(dirname "$record_expect")" ]; fi ||
        { echo "run.sh: cannot write '$record_expect'" >&2; exit 64; }
fi

# Reads a serial log and prints one line per finding:
#   V suite.check ok|fail|skip     a check's verdict
#   S passed failed skipped        the guest's summary line
#   B reason                       the guest bailed out
#   E message                      the log breaks the output contract
ktap_check() {
    awk '
    function err(msg) { print "E line " NR ": " msg; bad = 1 }
    {
        sub(/\r$/, "")
        line = $0
    }
    !started {
        if (line == "KTAP version 1") { started = 1; state = "top" }
        next
    }
    done {
        if (line ~ /^ *(ok|not ok) [0-9]/ || line ~ /^ *Bail out!/ || line ~ /^# pvcheck:/)
            err("result after the summary line: " line)
        next
    }
    /^Bail out!/ {
        bail = substr(line, 11); print "B " bail; bailed = 1; done = 1
        # The guest closes every open level before bailing out.
        if (!have_plan) err("bail-out before the plan")
        else if (state != "top" || suites != plan) err("bail-out leaves the plan open (" suites " of " plan " suites closed)")
        next
    }
    /^# pvcheck: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ {
        split(line, w, /[ ,]+/)
        if (state != "top") err("summary inside a subtest")
        if (!have_plan) err("summary before the plan")
        if (suites != plan) err("plan announced " plan " suites, saw " suites)
        if (w[3] != npass || w[5] != nfail || w[7] != nskip)
            err("summary says " w[3] "/" w[5] "/" w[7] " but results were " npass+0 "/" nfail+0 "/" nskip+0)
        print "S " w[3] " " w[5] " " w[7]
        done = 1
        next
    }
    /^#/ { next }
    /^1\.\.[0-9]+$/ {
        if (have_plan) err("second top-level plan")
        plan = substr(line, 4) + 0; have_plan = 1; next
    }
    /^    KTAP version 1$/ {
        if (!have_plan) err("subtest before the plan")
        if (state == "sub") err("subtest opened inside a subtest")
        state = "sub"; sub_name = ""; sub_plan = -1; sub_n = 0; sub_fail = 0; sub_pass = 0; next
    }
    /^    # Subtest: / {
        if (state != "sub") err("subtest header outside a subtest")
        sub_name = substr(line, 16); next
    }
    /^    #/ { next }
    /^    1\.\.[0-9]+$/ {
        if (state != "sub") err("plan outside a subtest")
        sub_plan = substr(line, 8) + 0; next
    }
    /^    (ok|not ok) [0-9]+ [A-Za-z0-9_]+( # .*)?$/ {
        if (state != "sub" || sub_name == "" || sub_plan < 0) { err("check result outside a subtest"); next }
        rest = substr(line, 5)
        failed = (rest ~ /^not ok/)
        sub(/^(not ok|ok) /, "", rest)
        num = rest; sub(/ .*/, "", num)
        name = rest; sub(/^[0-9]+ /, "", name); sub(/ .*/, "", name)
        # KTAP: a SKIP directive skips, whether "ok" or "not ok".
        skipped = (rest ~ /^[0-9]+ [A-Za-z0-9_]+ # SKIP/)
        if (skipped) failed = 0
        if (num != sub_n + 1) err("check numbered " num ", expected " sub_n + 1)
        sub_n++
        if (failed) { v = "fail"; nfail++; sub_fail++ }
        else if (skipped) { v = "skip"; nskip++ }
        else { v = "ok"; npass++; sub_pass++ }
        print "V " sub_name "." name " " v
        next
    }
    /^(ok|not ok) [0-9]+ [A-Za-z0-9_]+( # .*)?$/ {
        failed = (line ~ /^not ok/)
        num = line; sub(/^(not ok|ok) /, "", num); sub(/ .*/, "", num)
        rest = line; sub(/^(not ok|ok) [0-9]+ /, "", rest)
        directive = ""; if (index(rest, " # ")) directive = substr(rest, index(rest, " # ") + 3)
        sub(/ .*/, "", rest)
        if (num != suites + 1) err("suite numbered " num ", expected " suites + 1)
        # Closed without running (refused command line, after a crash):
        # only "not ok" with a directive saying why.
        aborted = (failed && directive ~ /^(ERROR|TIMEOUT|SKIP)/)
        if (state != "sub") {
            if (!aborted) err("suite result without a subtest")
            suites++; next
        }
        if (rest != sub_name) err("suite result names " rest ", subtest was " sub_name)
        if (sub_n != sub_plan) err("suite " sub_name " planned " sub_plan " checks, saw " sub_n)
        if (failed != (sub_fail > 0) && !aborted) err("suite " sub_name " result disagrees with its checks")
        suites++; state = "top"; next
    }
    /^$/ { next }
    { err("not KTAP: " substr(line, 1, 80)) }
    END {
        if (!started) print "E no \"KTAP version 1\" line: pvcheck never reported"
        else if (!done) print "E log ends without the summary line (truncated: guest stopped or hung)"
    }'
}

# Prints the verdict of a log and of QEMU's status; returns 0, 1 or 2.
judge() {
    local logfile=$1 qemu_status=$2 findings
    findings=$(ktap_check <"$logfile")
    local errors bail summary
    errors=$(grep '^E ' <<<"$findings" | cut -c3-)
    bail=$(grep '^B ' <<<"$findings" | cut -c3-)
    summary=$(grep '^S ' <<<"$findings" | cut -c3-)

    if [ -n "$bail" ]; then
        echo "run.sh: guest bailed out: $bail" >&2
        sed -n 's/\r$//; s/^ *# \(error\|FAIL\): /  /p' "$logfile" >&2
        [ -z "$errors" ] || { echo "run.sh: and the serial log breaks the KTAP contract:" >&2; sed 's/^/  /' <<<"$errors" >&2; }
        return 2
    fi
    if [ -n "$errors" ]; then
        echo "run.sh: the serial log breaks the KTAP contract:" >&2
        sed 's/^/  /' <<<"$errors" >&2
        return 2
    fi
    local passed failed skipped
    read -r passed failed skipped <<<"$summary"
    # The guest's exit code must agree with its own summary.
    case "$qemu_status" in
    3) [ "$failed" -eq 0 ] || { echo "run.sh: guest exited 'pass' but reported $failed failures" >&2; return 2; } ;;
    5) [ "$failed" -gt 0 ] || { echo "run.sh: guest exited 'fail' but reported no failure" >&2; return 2; } ;;
    7) echo "run.sh: guest exited with its error code" >&2; return 2 ;;
    0 | none) ;; # no debug-exit device (ACPI power-off), or only a log: the log decides
    *) echo "run.sh: unexpected QEMU status $qemu_status" >&2; return 2 ;;
    esac
    grep '^V .* fail$' <<<"$findings" | sed 's/^V \(.*\) fail$/run.sh: failed: \1/' >&2
    echo "pvcheck: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ] && return 0 || return 1
}

# Writes the JUnit XML ($2, or nothing) and JSON ($3, or nothing) of the
# serial log $1; $4 is run.sh's verdict status for it, $5 a file with what
# run.sh said was wrong (status 2). One testsuite per
# suite and one testcase per check: a failure carries the FAIL and rule
# lines, a skip its reason, a crash or a watchdog expiry is an error, and the
# figures go to system-out. The log is untrusted: every byte that reaches
# the files is escaped, and lines that are not KTAP are ignored.
write_reports() {
    local logfile=$1 junit=$2 json=$3 verdict=$4 problem=""
    [ -z "${5:-}" ] || problem=$(sed 's/^run.sh: //' "$5" | tr '\n' ' ' | cut -c1-2000)
    awk -v junit="$junit" -v json="$json" -v verdict="$verdict" -v problem="$problem" \
        -v outcomes="${6:-}" -v expect_file="$expect" '
    function xml(s) {
        gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
        gsub(/"/, "\\&quot;", s); gsub(/[\001-\010\013\014\016-\037\177]/, "?", s)
        return s
    }
    function js(s) {
        gsub(/\\/, "\\\\\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); gsub(/\n/, "\\n", s)
        gsub(/[\001-\010\013\014\016-\037\177]/, "?", s)
        return "\"" s "\""
    }
    # A check'"'"'s figures as typed numbers: every key=NUMBER of its # lines
    # (a repeated key numbered key#2, key#3, ...), with the unit its name
    # ends in, or null.
    function unit(key) {
        if (key ~ /_ns$/) return "ns"; if (key ~ /_us$/) return "us"; if (key ~ /_ms$/) return "ms"
        if (key ~ /_s$/) return "s"; if (key ~ /_ppm$/) return "ppm"; if (key ~ /_ppb$/) return "ppb"
        if (key ~ /_cycles$/) return "cycles"; if (key ~ /_percent$/) return "percent"
        if (key ~ /_permille$/) return "permille"; if (key ~ /_khz$/) return "kHz"; if (key ~ /_hz$/) return "Hz"
        return ""
    }
    function values(text,   n, t, j, kv, key, seenk, out, sep, u, num, neg) {
        n = split(text, t, /[ \n]+/); out = ""; sep = ""; delete seenk
        for (j = 1; j <= n; j++) {
            if (t[j] !~ /^[a-z_][a-z0-9_]*=-?[0-9]+(\.[0-9]+)?$/) continue
            split(t[j], kv, "="); key = kv[1]
            if (++seenk[key] > 1) key = key "#" seenk[key]
            u = unit(kv[1]); num = kv[2]
            # JSON numbers have no leading zeros.
            neg = sub(/^-/, "", num); sub(/^0+/, "", num)
            if (num == "" || num ~ /^\./) num = "0" num
            if (neg) num = "-" num
            out = out sep js(key) ": {\"value\": " num ", \"unit\": " (u == "" ? "null" : js(u)) "}"; sep = ", "
        }
        return out
    }
    # The outcomes of --expect (expect_judge), by check.
    BEGIN {
        if (outcomes != "") while ((getline l < outcomes) > 0) {
            split(l, o, "\t"); if (o[1] == "unknown") continue
            oc[o[1]] = o[2]; owant[o[1]] = o[3]
            owhere[o[1]] = expect_file (o[5] != "" ? " line " o[5] : "") (o[6] != "" ? ": " o[6] : "")
            ohow[o[1]] = "expected " o[3] " (" owhere[o[1]] ")"
        }
    }
    # One testcase of suite i: a SKIP directive skips ("ok" or "not ok"), an
    # ERROR or TIMEOUT is an error, any other "not ok" a failure. With
    # --expect, an expected failure is skipped as known, and a verdict that
    # differs from the file is a failure saying so.
    function add(i, name, failed, directive, fails, out,   k, c, msg) {
        k = ++nc[i]; cname[i, k] = name; cout[i, k] = out; cfail[i, k] = fails; cdir[i, k] = directive
        if (directive ~ /^SKIP/) { ckind[i, k] = "skipped"; creason[i, k] = substr(directive, 6) }
        else if (failed && directive ~ /^(ERROR|TIMEOUT)/) ckind[i, k] = "error"
        else if (failed) ckind[i, k] = "failure"
        else ckind[i, k] = "pass"
        creal[i, k] = ckind[i, k] == "failure" ? "fail" : ckind[i, k] == "skipped" ? "skip" : ckind[i, k]
        c = sname[i] "." name
        if (!(c in oc)) return
        coutcome[i, k] = oc[c]; cwant[i, k] = owant[c]
        if (oc[c] == "expected_failure" && ckind[i, k] == "failure") {
            ckind[i, k] = "skipped"; msg = fails; sub(/\n.*/, "", msg)
            creason[i, k] = "expected failure (" owhere[c] ")" (msg != "" ? "; " msg : "")
        } else if (oc[c] == "unexpected_pass" || oc[c] == "now_skips" || oc[c] == "now_runs") {
            ckind[i, k] = "failure"
            cfail[i, k] = (oc[c] == "unexpected_pass" ? "unexpected pass" : oc[c] == "now_skips" ? "now skips" : "now runs") \
                ": " ohow[c] (oc[c] == "unexpected_pass" ? "; the bug is fixed or the check went blind: update the file" : "") "\n" fails
            cdir[i, k] = ""
        }
    }
    { sub(/\r$/, ""); line = $0 }
    !started { if (line == "KTAP version 1") started = 1; next }
    /^# pvcheck [0-9]/ { boot = substr(line, 3); next }
    /^# cmdline:/ { cmdline = substr(line, 12); next }
    /^# tick: / { tick[++ntick] = substr(line, 9); next }
    /^# reference: / { reference = substr(line, 14); next }
    /^# leaving: / { leaving = substr(line, 12); next }
    /^# exit_costs tsc_cycles: / { costs = substr(line, 26); next }
    /^# pvcheck: [0-9]+ passed/ { summary = substr(line, 12); next }
    /^Bail out!/ { bail = substr(line, 11); if (bail == "") bail = "bailed out"; next }
    /^    # Subtest: / {
        ns++; sname[ns] = substr(line, 16); nc[ns] = 0; out = ""; fails = ""; open = 1; next
    }
    /^ *# FAIL: / { lastfail = line; sub(/^ *# /, "", lastfail) }
    /^    # / && ns {
        text = substr(line, 7)
        if (text ~ /^(FAIL|rule):/) fails = fails text "\n"; else out = out text "\n"
        next
    }
    /^    (ok|not ok) [0-9]+ [A-Za-z0-9_]+/ && open {
        rest = line; sub(/^    /, "", rest)
        failed = rest ~ /^not ok/
        sub(/^(not ok|ok) [0-9]+ /, "", rest)
        name = rest; sub(/ .*/, "", name)
        directive = ""; if (index(rest, " # ")) directive = substr(rest, index(rest, " # ") + 3)
        add(ns, name, failed, directive, fails, out)
        out = ""; fails = ""
        next
    }
    # A suite closed by a directive: never opened (refused, or after a
    # crash), or with the crash between its checks.
    /^(ok|not ok) [0-9]+ [A-Za-z0-9_]+ # (SKIP|ERROR|TIMEOUT)/ {
        rest = line; failed = rest ~ /^not ok/
        sub(/^(not ok|ok) [0-9]+ /, "", rest)
        name = rest; sub(/ .*/, "", name)
        directive = substr(rest, index(rest, " # ") + 3)
        if (!open) { ns++; sname[ns] = name; nc[ns] = 0; add(ns, name, failed, directive, "", "") }
        else if (directive !~ /^SKIP/) add(ns, name, failed, directive, lastfail "\n", "")
        open = 0; next
    }
    /^(ok|not ok) [0-9]/ { open = 0; next }
    END {
        for (i = 1; i <= ns; i++) for (k = 1; k <= nc[i]; k++) {
            total++; kinds[ckind[i, k]]++; per[i, ckind[i, k]]++
        }
        # A bail-out that no check or suite carries as its error (an old or
        # broken log) is an error of the last suite; a run that went wrong
        # otherwise (a broken log, QEMU failing) is an error of the run.
        lone = (bail != "" && kinds["error"] == 0)
        if (lone) kinds["error"]++
        runerr = (verdict == 2 && bail == "")
        if (runerr && problem == "") problem = "the run went wrong (run.sh status 2)"
        if (runerr) kinds["error"]++
        if (junit != "") {
            printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" > junit
            printf "<testsuites name=\"pvcheck\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\">\n", \
                total + lone + runerr, kinds["failure"], kinds["error"], kinds["skipped"] > junit
            for (i = 1; i <= ns; i++) {
                last = (i == ns && lone)
                printf "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\">\n", \
                    xml(sname[i]), nc[i] + last, per[i, "failure"], per[i, "error"] + last, per[i, "skipped"] > junit
                for (k = 1; k <= nc[i]; k++) {
                    printf "    <testcase classname=\"pvcheck.%s\" name=\"%s\">\n", xml(sname[i]), xml(cname[i, k]) > junit
                    if (ckind[i, k] == "failure" || ckind[i, k] == "error") {
                        msg = cfail[i, k]; sub(/\n.*/, "", msg); if (msg == "") msg = cdir[i, k]
                        printf "      <%s message=\"%s\">%s</%s>\n", ckind[i, k], xml(msg), xml(cfail[i, k] cdir[i, k]), ckind[i, k] > junit
                    } else if (ckind[i, k] == "skipped")
                        printf "      <skipped message=\"%s\"/>\n", xml(creason[i, k]) > junit
                    if (cout[i, k] != "") printf "      <system-out>%s</system-out>\n", xml(cout[i, k]) > junit
                    printf "    </testcase>\n" > junit
                }
                if (last) printf "    <testcase classname=\"pvcheck.%s\" name=\"bail_out\">\n      <error message=\"%s\">%s</error>\n    </testcase>\n", \
                    xml(sname[i]), xml(bail), xml(bail) > junit
                printf "  </testsuite>\n" > junit
            }
            if (runerr)
                printf "  <testsuite name=\"run\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    <testcase classname=\"pvcheck.run\" name=\"log_and_exit\">\n      <error message=\"%s\">%s</error>\n    </testcase>\n  </testsuite>\n", xml(problem), xml(problem) > junit
            if (lone && ns == 0)
                printf "  <testsuite name=\"pvcheck\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    <testcase classname=\"pvcheck\" name=\"bail_out\">\n      <error message=\"%s\">%s</error>\n    </testcase>\n  </testsuite>\n", xml(bail), xml(bail) > junit
            printf "</testsuites>\n" > junit
            close(junit)
        }
        if (json != "") {
            printf "{\n  \"tool\": \"pvcheck\",\n  \"verdict_status\": %d,\n  \"boot\": %s,\n  \"cmdline\": %s,\n", verdict, js(boot), js(cmdline) > json
            printf "  \"tick\": [" > json
            for (j = 1; j <= ntick; j++) printf "%s%s", (j > 1 ? ", " : ""), js(tick[j]) > json
            printf "],\n  \"reference\": %s,\n  \"left_by\": %s,\n", (reference == "" ? "null" : js(reference)), (leaving == "" ? "null" : js(leaving)) > json
            printf "  \"exit_costs_tsc_cycles\": {" > json
            n = split(costs, kv, " "); sep = ""
            for (j = 1; j <= n; j++) if (split(kv[j], p, "=") == 2 && p[2] ~ /^[0-9]+$/) { printf "%s%s: %s", sep, js(p[1]), p[2] > json; sep = ", " }
            printf "},\n  \"summary\": %s,\n  \"bail_out\": %s,\n  \"run_error\": %s,\n", js(summary), (bail == "" ? "null" : js(bail)), (runerr ? js(problem) : "null") > json
            printf "  \"totals\": {\"checks\": %d, \"passed\": %d, \"failed\": %d, \"errors\": %d, \"skipped\": %d},\n", \
                total, kinds["pass"], kinds["failure"], kinds["error"] - lone - runerr, kinds["skipped"] > json
            printf "  \"suites\": [" > json
            for (i = 1; i <= ns; i++) {
                printf "%s\n    {\"name\": %s, \"checks\": [", (i > 1 ? "," : ""), js(sname[i]) > json
                for (k = 1; k <= nc[i]; k++) {
                    v = ckind[i, k] == "failure" ? "fail" : ckind[i, k] == "skipped" ? "skip" : ckind[i, k]
                    if (coutcome[i, k] != "") v = creal[i, k]
                    printf "%s\n      {\"name\": %s, \"verdict\": %s, \"reason\": %s, \"fail\": %s, \"figures\": %s", \
                        (k > 1 ? "," : ""), js(cname[i, k]), js(v), js(creason[i, k]), js(cfail[i, k]), js(cout[i, k]) > json
                    printf ", \"values\": {%s}", values(cout[i, k]) > json
                    if (outcomes != "")
                        printf ", \"expected\": %s, \"outcome\": %s", (cwant[i, k] == "" ? "null" : js(cwant[i, k])), \
                            (coutcome[i, k] == "" ? "null" : js(coutcome[i, k])) > json
                    printf "}" > json
                }
                printf "]}" > json
            }
            printf "\n  ]\n}\n" > json
            close(json)
        }
    }' "$logfile"
}

# The report files, when asked for, can be written: checked before any run.
for f in "$junit" "$json"; do
    [ -z "$f" ] || : >"$f" 2>/dev/null || { junit="" json=""; run_error "cannot write '$f'"; }
done

# A run that went wrong before or outside the log's judging (QEMU missing,
# failing or timing out) still gets its report files, saying what happened.
report_run_error() {
    [ -n "$junit$json" ] || return 0
    local f
    f=$(mktemp) || return 0
    echo "$1" >"$f"
    write_reports "${log:-/dev/null}" "$junit" "$json" 2 "$f"
    rm -f "$f"
}

# Judges the log, writes the report files, and exits with the verdict. A
# run that went wrong (status 2) is an error in the reports too, with
# run.sh's own words, so that no consumer reads a broken log as green.
finish() {
    local rc problems verdicts outcomes=""
    problems=$(mktemp) && verdicts=$(mktemp) || run_error "cannot make a temporary file"
    judge "$1" "$2" 2>"$problems"
    rc=$?
    cat "$problems" >&2
    [ "$rc" -ne 2 ] || [ -z "$record_expect" ] ||
        echo "run.sh: no expectation file written to '$record_expect': the run reached no verdict" >&2
    if [ "$rc" -ne 2 ] && [ -n "$expect$record_expect" ]; then
        ktap_check <"$1" | sed -n 's/^V //p' >"$verdicts"
        [ -z "$record_expect" ] || expect_record "$1" "$verdicts" >"$record_expect"
        if [ -n "$expect" ]; then
            outcomes=$(mktemp) || run_error "cannot make a temporary file"
            expect_rules "$expect" "$expect_scope" >"$outcomes.rules" || exit 64
            expect_judge "$outcomes.rules" "$verdicts" >"$outcomes"
            rc=$?
            expect_say "$outcomes" "$expect" 2>"$outcomes.said"
            cat "$outcomes.said" >&2
            cat "$outcomes.said" >>"$problems"
            rm -f "$outcomes.rules" "$outcomes.said"
        fi
    fi
    [ -z "$junit$json" ] || write_reports "$1" "$junit" "$json" "$rc" "$problems" "$outcomes"
    rm -f "$problems" "$verdicts" ${outcomes:+"$outcomes"}
    exit "$rc"
}

# --matrix FILE: blocks of "[name]" then "key = value" lines (accel, cpu,
# smp, mem, boot, append, timeout, qemu, expect), each a run of this script in the
# background, at most $jobs at a time. Values become single arguments (qemu's
# is split on blanks), never shell code.
matrix_error() {
    echo "run.sh: $matrix: $*" >&2
    exit 64
}

# Reads the matrix file into names[] and argv_NAME arrays (as lines of one
# argument each in $out/NAME.args).
matrix_read() {
    local lineno=0 line key value name="" words
    names=()
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        line=${line%$'\r'}
        [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
        if [[ "$line" =~ ^\[([A-Za-z0-9_.-]{1,64})\]$ ]]; then
            name=${BASH_REMATCH[1]}
            [ ! -e "$out/$name.args" ] || matrix_error "line $lineno: configuration '$name' given twice"
            names+=("$name")
            : >"$out/$name.args"
            continue
        fi
        [[ "$line" =~ ^[[:space:]]*([a-z]+)[[:space:]]*=[[:space:]]*(.*[^[:space:]])[[:space:]]*$ ]] ||
            matrix_error "line $lineno: expected '[name]' or 'key = value', saw '${line:0:80}'"
        key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
        [ -n "$name" ] || matrix_error "line $lineno: '$key' before the first [name]"
        case "$key" in
        accel | cpu | smp | mem | append | timeout) printf -- '--%s\n%s\n' "$key" "$value" >>"$out/$name.args" ;;
        boot)
            case "$value" in
            kernel) ;;
            iso) echo --iso >>"$out/$name.args" ;;
            iso-multiboot2) echo --iso-multiboot2 >>"$out/$name.args" ;;
            uefi) echo --uefi >>"$out/$name.args" ;;
            *) matrix_error "line $lineno: boot must be kernel, iso, iso-multiboot2 or uefi" ;;
            esac
            ;;
        expect)
            # Its lines scoped to this configuration apply too.
            expect_rules "$value" "$name" >/dev/null || matrix_error "line $lineno: expectation file '$value' (above)"
            printf -- '--expect\n%s\n--expect-scope\n%s\n' "$value" "$name" >>"$out/$name.args"
            ;;
        qemu)
            read -r -a words <<<"$value"
            printf 'QEMU\n%s\n' "${words[@]}" >>"$out/$name.args"
            ;;
        *) matrix_error "line $lineno: unknown key '$key' (accel, cpu, smp, mem, boot, append, timeout, qemu, expect)" ;;
        esac
    done <"$matrix"
    [ "${#names[@]}" -gt 0 ] || matrix_error "no [name] block"
}

# One configuration: run.sh with its arguments, its QEMU extras after '--'.
matrix_one() {
    local name=$1 a args=() extras=() q=0
    while IFS= read -r a; do
        if [ "$a" = QEMU ]; then q=1; continue; fi
        if [ "$q" = 1 ]; then extras+=("$a"); q=0; else args+=("$a"); fi
    done <"$out/$name.args"
    "$here/run.sh" --quiet "${args[@]}" --log "$out/$name.log" --junit "$out/$name.xml" \
        --json "$out/$name.json" -- "${extras[@]}" >"$out/$name.out" 2>&1
    echo $? >"$out/$name.status"
}

# The configurations' JUnit files as one: suites renamed NAME/suite, classes
# pvcheck.NAME.suite, totals summed. A configuration that left no report
# (run.sh refused its arguments) is an error with run.sh's words.
matrix_junit() {
    local name msg
    for name in "${names[@]}"; do
        [ -s "$out/$name.xml" ] && grep -q '^<testsuites name="pvcheck" ' "$out/$name.xml" && continue
        msg=$(head -c 2000 "$out/$name.out" | tr -d '\000-\010\013-\037' | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g' | tr '\n' ' ')
        printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
            '<testsuites name="pvcheck" tests="1" failures="0" errors="1" skipped="0">' \
            '  <testsuite name="run" tests="1" failures="0" errors="1" skipped="0">' \
            '    <testcase classname="pvcheck.run" name="arguments">' \
            "      <error message=\"status $(cat "$out/$name.status")\">$msg</error>" \
            '    </testcase>' '  </testsuite>' '</testsuites>' >"$out/$name.xml"
    done
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        for name in "${names[@]}"; do
            sed -n 's/^<testsuites name="pvcheck" \(tests="[0-9]*" failures="[0-9]*" errors="[0-9]*" skipped="[0-9]*"\)>$/\1/p' "$out/$name.xml"
        done | awk -F'"' '{ t += $2; f += $4; e += $6; s += $8 }
            END { printf "<testsuites name=\"pvcheck matrix\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\">\n", t, f, e, s }'
        for name in "${names[@]}"; do
            sed -e '1,2d' -e '$d' -e "s/^  <testsuite name=\"/  <testsuite name=\"$name\//" \
                -e "s/ classname=\"pvcheck\./ classname=\"pvcheck.$name./" "$out/$name.xml"
        done
        echo '</testsuites>'
    } >"$1"
}

run_matrix() {
    [ -r "$matrix" ] || matrix_error "cannot read it"
    [[ "$jobs" =~ ^[0-9]+$ ]] && [ "$jobs" -ge 1 ] && [ "$jobs" -le 64 ] || usage_error "-j must be a number from 1 to 64"
    mkdir -p "$out" || { echo "run.sh: cannot make '$out'" >&2; exit 2; }
    rm -f "$out"/*.args "$out"/*.status
    matrix_read
    make -s -C "$here" build/pvcheck.elf >&2 || { echo "run.sh: error: building pvcheck failed" >&2; exit 2; }
    local name running=0 worst=0 status
    for name in "${names[@]}"; do
        matrix_one "$name" &
        running=$((running + 1))
        if [ "$running" -ge "$jobs" ]; then
            wait -n
            running=$((running - 1))
        fi
    done
    wait
    for name in "${names[@]}"; do
        status=$(cat "$out/$name.status" 2>/dev/null || echo 2)
        [ "$status" -le "$worst" ] || worst=$status
        printf '%-24s status %s  %s\n' "$name" "$status" \
            "$(grep -h '^pvcheck: \|^run.sh: \(error\|guest\)' "$out/$name.out" | head -n 1)"
    done
    matrix_junit "${junit:-$out/junit.xml}"
    echo "run.sh: matrix: ${#names[@]} configurations, logs in $out, JUnit in ${junit:-$out/junit.xml}, worst status $worst"
    exit "$worst"
}
# --compare reads its two files through write_reports, so it comes after it.
if [ "${#compare[@]}" -gt 0 ]; then
    [ -z "$matrix$check_log$migrate_mode$expect$record_expect$junit$json" ] ||
        usage_error "--compare only reads its two files; it excludes running, --check-log, --expect and the report files"
    . "$here/tests/tools/compare.sh"
    compare_runs "${compare[0]}" "${compare[1]}" "$threshold"
    exit $?
fi
[ -z "$matrix" ] || run_matrix

if [ -n "$check_log" ]; then
    [ -r "$check_log" ] || run_error "cannot read log '$check_log'"
    ktap_check <"$check_log" | grep '^V ' | cut -c3-
    finish "$check_log" "$guest_status"
fi

command -v "$qemu" >/dev/null 2>&1 || run_error "QEMU not found: '$qemu' (install qemu-system-x86, or pass --qemu PATH)"

if [ "$accel" = auto ]; then
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then accel=kvm; else accel=tcg; fi
fi
# Under KVM some hosts reject what QEMU sets up for a model (PVM's KVM
# refuses MSR 0x10a, IA32_ARCH_CAPABILITIES, which -cpu host and max carry,
# and QEMU aborts): without --cpu the next model of this list is tried.
cpu_models=("$cpu")
if [ -z "$cpu" ]; then
    if [ "$accel" = kvm ]; then cpu_models=(host host,-arch-capabilities max); else cpu_models=(max); fi
fi

workdir=$(mktemp -d) || run_error "cannot make a temporary directory"
trap 'rm -rf "$workdir"' EXIT
[ -n "$log" ] || log=$workdir/serial.log
: >"$log" || run_error "cannot write log '$log'"

if [ -z "$image" ]; then
    make -s -C "$here" build/pvcheck.elf >&2 || run_error "building pvcheck failed"
    image=$here/build/pvcheck.elf
fi
[ -r "$image" ] || run_error "no image at '$image'"

# A migration run: the guest's migration suite samples while
# tests/tools/migrate.sh moves it, through the static QMP client.
if [ -n "$migrate_mode" ]; then
    make -s -C "$here" build/host/qmp >&2 || run_error "building the QMP client failed"
    suite_option=migration
    [ "$migrate_mode" != hotplug ] || suite_option=hotplug
    case " $append " in *" $suite_option "*) ;; *) append="${append:+$append }$suite_option" ;; esac
    wait_s=$((10#$timeout / 2 > 120 ? 120 : 10#$timeout / 2))
    case " $append " in
    *" ${suite_option}_wait_s="*) ;;
    *) append="$append ${suite_option}_wait_s=$((wait_s > 0 ? wait_s : 1))" ;;
    esac
fi

# The guest checks the hypervisor's wall clock against the host's.
case " $append " in
*" wallclock="*) ;;
*) append="${append:+$append }wallclock=$(date +%s)" ;;
esac

# UEFI: Debian's OVMF (package ovmf) as flash, with a private copy of its
# variable store; the ISO needs GRUB's EFI image (grub-efi-amd64-bin).
uefi_firmware() {
    local code vars
    for code in /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_CODE.fd; do
        vars=${code/CODE/VARS}
        [ -r "$code" ] && [ -r "$vars" ] && break
        code=""
    done
    [ -n "$code" ] || run_error "no OVMF firmware in /usr/share/OVMF (install ovmf)"
    [ -d /usr/lib/grub/x86_64-efi ] || run_error "GRUB's EFI image is missing (install grub-efi-amd64-bin)"
    cp "$vars" "$workdir/vars.fd" || run_error "cannot copy '$vars'"
    boot_args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
        -drive "if=pflash,format=raw,unit=1,file=$workdir/vars.fd")
}

boot_args=()
case "$boot" in
kernel)
    boot_args=(-kernel "$image")
    [ -z "$append" ] || boot_args+=(-append "$append")
    ;;
iso1 | iso2 | uefi)
    [ "$boot" != uefi ] || uefi_firmware
    command -v grub-mkrescue >/dev/null || run_error "grub-mkrescue not found (install grub-pc-bin, grub-common, xorriso, mtools)"
    mkdir -p "$workdir/iso/boot/grub"
    cp "$image" "$workdir/iso/boot/pvcheck.elf"
    entry=0
    [ "$boot" = iso1 ] || entry=1
    # GRUB reads the options verbatim; '\' and ';' would be GRUB syntax.
    [[ "$append" != *[\\\;\$\"\']* ]] || usage_error "--append with --iso must not contain \\ ; \$ or quotes"
    sed -e "s|PVCHECK_OPTIONS|$append|" -e "s/^set default=0/set default=$entry/" \
        "$here/boot/grub.cfg" >"$workdir/iso/boot/grub/grub.cfg"
    grub-mkrescue -o "$workdir/pvcheck.iso" "$workdir/iso" >"$workdir/grub.log" 2>&1 ||
        { cat "$workdir/grub.log" >&2; run_error "grub-mkrescue failed"; }
    boot_args+=(-cdrom "$workdir/pvcheck.iso")
    ;;
esac

# QEMU's stderr goes to a file; the subshell's own is dropped, where bash
# would announce a QEMU killed by a signal ("Aborted"): run.sh says that.
# A guest that halted after its last line, or whose log has been complete
# for LOG_DONE_GRACE seconds while QEMU still runs, is stopped then: its
# log decides, and stopped_by says why QEMU did not quit by itself.
LOG_DONE_GRACE=5
run_qemu() {
    (timeout -k 5 "$timeout" "${cmd[@]}" </dev/null 2>"$workdir/qemu.err"; exit $?) 2>/dev/null &
    local pid=$! done_at=""
    stopped_by=""
    while kill -0 "$pid" 2>/dev/null; do
        if grep -q '^# leaving: halted' "$log"; then
            stopped_by="the guest halted after its last line"
        elif [ -z "$done_at" ] && grep -Eq '^(# pvcheck: [0-9]+ passed|Bail out!)' "$log"; then
            done_at=$SECONDS
        elif [ -n "$done_at" ] && [ $((SECONDS - done_at)) -ge "$LOG_DONE_GRACE" ]; then
            stopped_by="the log was complete ${LOG_DONE_GRACE}s before and QEMU still ran"
        fi
        if [ -n "$stopped_by" ]; then
            pkill -TERM -P "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            return 0
        fi
        sleep 0.1
    done
    wait "$pid"
}

# How the guest left, from QEMU's status and the guest's last "# leaving:" line.
say_how_left() {
    local last
    last=$(sed -n 's/\r$//; s/^# leaving: //p' "$log" | tail -n 1)
    case "$status" in
    3 | 5 | 7) echo "run.sh: the guest left through isa-debug-exit (QEMU status $status)" >&2 ;;
    0)
        if [ -n "$stopped_by" ]; then
            echo "run.sh: stopped QEMU: $stopped_by${last:+ (last: $last)}" >&2
        elif [ -n "$last" ]; then
            echo "run.sh: the guest left by: $last" >&2
        fi
        ;;
    esac
}

event_name() {
    if [ "$migrate_mode" = hotplug ]; then echo "vCPU hot-add"; else echo "$migrate_mode migration"; fi
}

# Runs the QEMU pair that migrate.sh drives; its "migrate:" lines (the
# downtime it measured) are shown, QEMU's own errors kept for failures.
run_migration() {
    "$here/tests/tools/migrate.sh" "$migrate_mode" "$here/build/host/qmp" "$log" "$workdir" \
        "$timeout" "${cmd[@]}" </dev/null 2>"$workdir/qemu.err"
    local rc=$?
    grep '^migrate: \(live migration completed\|snapshot restored\|stopped and continued\|vCPU added\)' \
        "$workdir/qemu.err" | sed 's/^/run.sh: /' >&2
    return "$rc"
}

# Runs QEMU with CPU model $1; sets status, and cmd for the messages.
launch() {
    : >"$log"
    local smp_arg=$smp
    [ "$migrate_mode" != hotplug ] || smp_arg="$smp,maxcpus=$((smp + 1))"
    cmd=("$qemu" -accel "$accel" -cpu "$1" -smp "$smp_arg" -m "$mem"
        -nodefaults -no-user-config -display none -no-reboot
        ${machine:+-M "$machine"})
    [ "$debug_exit" = 0 ] || cmd+=(-device isa-debug-exit,iobase=0xf4,iosize=0x01)
    cmd+=("${boot_args[@]}" "${extra[@]}")
    local run=run_qemu
    if [ -n "$migrate_mode" ]; then
        run=run_migration
        [ "$quiet" = 1 ] || echo "run.sh: $(event_name) of: ${cmd[*]}" >&2
    else
        cmd+=(-chardev "file,id=serial0,path=$log" -serial chardev:serial0)
        [ "$quiet" = 1 ] || echo "run.sh: ${cmd[*]}" >&2
    fi
    if [ "$quiet" = 1 ]; then
        $run
        status=$?
    else
        tail -n +1 -F "$log" 2>/dev/null &
        local tailpid=$!
        $run
        status=$?
        sleep 0.2
        kill "$tailpid" 2>/dev/null
        wait "$tailpid" 2>/dev/null
    fi
}

# QEMU stopped on its own (an error or a signal, not the timeout) before
# the guest printed anything: the model, not the guest, is what failed.
model_refused() {
    case "$status" in 0 | 3 | 5 | 7 | 124 | 137 | 126 | 127) return 1 ;; esac
    ! grep -q '^KTAP version 1' "$log"
}

signal_name() {
    local n=$(($1 - 128)) name
    name=$(kill -l "$n" 2>/dev/null) && echo "SIG$name" || echo "signal $n"
}

for i in "${!cpu_models[@]}"; do
    cpu=${cpu_models[i]}
    launch "$cpu"
    model_refused || break
    next=${cpu_models[i + 1]:-}
    [ -n "$next" ] || break
    echo "run.sh: QEMU could not run CPU model '$cpu' under $accel (status $status); its stderr:" >&2
    sed 's/^/  | /' "$workdir/qemu.err" | tail -n 5 >&2
    echo "run.sh: trying CPU model '$next'" >&2
done
[ "${#cpu_models[@]}" -eq 1 ] || echo "run.sh: CPU model: $cpu" >&2

case "$status" in
125)
    [ -z "$migrate_mode" ] || { sed -n 's/^migrate: /run.sh: /p' "$workdir/qemu.err" >&2; run_error "the $(event_name) itself failed"; }
    ;;
124 | 137)
    echo "run.sh: error: QEMU timed out after ${timeout}s (guest hung with interrupts off, or too slow: raise --timeout)" >&2
    judge "$log" none >/dev/null 2>&1
    report_run_error "QEMU timed out after ${timeout}s"
    exit 2
    ;;
126 | 127)
    run_error "could not execute '$qemu'"
    ;;
1)
    cat "$workdir/qemu.err" >&2
    run_error "QEMU failed (status 1) before the guest finished"
    ;;
12[89] | 1[3-9][0-9] | 2[0-9][0-9])
    cat "$workdir/qemu.err" >&2
    run_error "QEMU died from $(signal_name "$status") (status $status) with CPU model '$cpu'"
    ;;
esac
[ -n "$migrate_mode" ] || say_how_left
finish "$log" "$status"
