#!/usr/bin/env bash
# Prints the report card (docs/report-card.md): one column per real hypervisor pvcheck has
# been run on, one row per check, each cell what the recorded runs of that
# hypervisor gave (a failure in any of its scenarios wins, naming it and its
# first FAIL line). The columns come from the recorded fixtures, which the
# harness's judging tests also read:
#   tests/kvm/fixtures/results.txt        Linux 6.1 KVM (QEMU 7.2)
#   tests/kvm/fixtures-6.12/results.txt   Linux 6.12 KVM (QEMU 10.0), and its
#                                         Xen emulation (scenarios xen_on_kvm*)
#   tests/kvm/fixtures-7.3/results.txt    Linux 7.3 KVM (QEMU 11.1), and its Xen emulation
#   (each)                                QEMU's microvm on that KVM (scenarios microvm*)
#   tests/xen/fixtures/results.txt        Xen 4.17 (PVH domU), and Xen 4.17 HVM
#                                         (scenarios hvm*, with viridian)
#   tests/xen/fixtures-4.20/results.txt   Xen 4.20 (PVH domU, trixie's tools), and
#                                         Xen 4.20 HVM (scenarios hvm*, with viridian)
#   tests/local/expect-KERNEL.txt         a local /dev/kvm (PVM), where recorded
#   tests/tcg/fixtures/results.txt        QEMU TCG
# Each verdict is run.sh --check-log's; a log it rejects stops the card.
# Every failing cell links to its section of docs/findings.md (the section
# whose "<!-- finding: COLUMN CHECK... -->" line names that column's id and
# the check); a failing cell with no such section fails the card.
#   tests/report_card.sh             the full card (docs/report-card.md)
#   tests/report_card.sh --summary   one line per column, for the README
set -u
mode=card
[ "${1:-}" != --summary ] || mode=summary
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# column ID LABEL RESULTS AWK_FILTER: one file $tmp/cols/N with lines
# "suite.check verdict scenario reason".
ncol=0
labels=()
ids=()
column() {
    local id=$1 label=$2 results=$3 filter=$4 log name
    ncol=$((ncol + 1))
    labels+=("$label")
    ids+=("$id")
    mkdir -p "$tmp/logs$ncol"
    awk -v dir="$tmp/logs$ncol" '
        { sub(/\r$/, "") }
        /^@@@ BEGIN / { name = ""; if ('"$filter"') name = dir "/" $3 ".log"; next }
        name == "" { next }
        /^\| / { print substr($0, 3) > name; next }
        /^\|$/ { print "" > name }' "$results"
    : >"$tmp/col$ncol"
    for log in "$tmp/logs$ncol"/*.log; do
        [ -e "$log" ] || continue
        name=$(basename "$log" .log)
        ./run.sh --check-log "$log" >"$tmp/verdicts" 2>"$tmp/judge"
        [ $? -ne 2 ] && [ -s "$tmp/verdicts" ] ||
            { echo "report_card: $results: $name: run.sh rejects its log: $(head -c 300 "$tmp/judge")" >&2; exit 2; }
        # The first FAIL line of each failed check, by the check's name.
        awk -v scen="$name" '
            FNR == NR { if (NF == 2 && $2 ~ /^(ok|fail|skip)$/) { v[$1] = $2; order[++n] = $1 }; next }
            /^    # Subtest: / { suite = substr($0, 16); first = ""; next }
            /^    # FAIL: / { if (first == "") first = substr($0, 13); next }
            /^    (not )?ok [0-9]+ / { split($0, w, " "); name = (w[1] == "not") ? w[4] : w[3]
                                       reason[suite "." name] = first; first = ""; next }
            END { for (i = 1; i <= n; i++) print order[i], v[order[i]], scen, reason[order[i]] }' \
            "$tmp/verdicts" "$log" >>"$tmp/col$ncol"
    done
}
# verdicts ID LABEL FILE: a column from a verdict list ("suite.check verdict").
verdicts() {
    local file=$3
    ncol=$((ncol + 1))
    ids+=("$1")
    labels+=("$2")
    # Its verdicts are written pass/fail/skip, the card's ok/fail/skip.
    awk -v f="$file" '$1 ~ /^[a-z_]+\.[a-z0-9_]+$/ {
        print $1, ($2 == "pass" ? "ok" : $2), "local", ($2 == "fail" ? "evidence in " f : "") }' \
        "$file" >"$tmp/col$ncol"
}

column kvm61 "Linux 6.1 KVM" tests/kvm/fixtures/results.txt '$3 !~ /^microvm/'
column kvm61micro "QEMU microvm on Linux 6.1 KVM" tests/kvm/fixtures/results.txt '$3 ~ /^microvm/'
column kvm612 "Linux 6.12 KVM" tests/kvm/fixtures-6.12/results.txt '$3 !~ /^(xen_on_kvm|microvm)/'
column kvm612micro "QEMU microvm on Linux 6.12 KVM" tests/kvm/fixtures-6.12/results.txt '$3 ~ /^microvm/'
column kvmxen612 "KVM's Xen emulation (6.12)" tests/kvm/fixtures-6.12/results.txt '$3 ~ /^xen_on_kvm/'
column kvm73 "Linux 7.3 KVM" tests/kvm/fixtures-7.3/results.txt '$3 !~ /^(xen_on_kvm|microvm)/'
column kvm73micro "QEMU microvm on Linux 7.3 KVM" tests/kvm/fixtures-7.3/results.txt '$3 ~ /^microvm/'
column kvmxen73 "KVM's Xen emulation (7.3)" tests/kvm/fixtures-7.3/results.txt '$3 ~ /^xen_on_kvm/'
column xen417 "Xen 4.17" tests/xen/fixtures/results.txt '$3 !~ /^hvm/'
column xen417hvm "Xen 4.17 HVM" tests/xen/fixtures/results.txt '$3 ~ /^hvm/'
column xen420 "Xen 4.20" tests/xen/fixtures-4.20/results.txt '$3 !~ /^hvm/'
column xen420hvm "Xen 4.20 HVM" tests/xen/fixtures-4.20/results.txt '$3 ~ /^hvm/'
pvm=""
for f in tests/local/expect-*.txt; do
    [ -e "$f" ] || continue
    kernel=$(basename "$f" .txt | sed 's/^expect-//')
    verdicts "local-$kernel" "local KVM $kernel" "$f"
    pvm=1
done
column tcg "QEMU TCG" tests/tcg/fixtures/results.txt 1

# Rows in the order checks first appear; a cell is fail (with the scenario
# and reason) if any scenario failed, else pass if any passed, else skip.
# The findings: GitHub's anchor of each heading of docs/findings.md, and the
# "<!-- finding: ID CHECK... -->" lines under it.
findings=${PVCHECK_FINDINGS:-docs/findings.md}
[ -r "$findings" ] || { echo "report_card: cannot read $findings" >&2; exit 2; }
awk -v ncol="$ncol" -v labels="$(printf '%s\t' "${labels[@]}")" -v ids="$(printf '%s\t' "${ids[@]}")" \
    -v mode="$mode" -v findings="$findings" '
    function md(s) { gsub(/\|/, "\\|", s); gsub(/[<>]/, "", s); return s }
    function slug(h) { h = tolower(h); gsub(/[^a-z0-9 _-]/, "", h); gsub(/ /, "-", h); return h }
    BEGIN {
        while ((getline l < findings) > 0) {
            if (l ~ /^#+ /) { title = l; sub(/^#+ /, "", title); anchor = slug(title); continue }
            if (l ~ /^<!-- finding: [^ ]+ .* -->$/) {
                n = split(l, w, " ")
                for (j = 4; j < n; j++) { where[w[3], w[j]] = anchor; named[w[3], w[j]] = title }
            }
        }
    }
    {
        c = FILENAME; sub(/.*col/, "", c); c += 0
        check = $1; v = $2; scen = $3
        reason = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ ?/, "", reason)
        if (!(check in seen)) { seen[check] = 1; rows[++nrows] = check }
        if (v == "fail") { if (!((c, check) in failed)) { failed[c, check] = scen; why[c, check] = reason } }
        else if (v == "ok") passed[c, check] = 1
        else if (v == "skip") skipped[c, check] = 1
    }
    END {
        split(labels, L, "\t"); split(ids, I, "\t")
        for (r = 1; r <= nrows; r++) for (c = 1; c <= ncol; c++) {
            check = rows[r]
            if ((c, check) in failed) {
                count[c, "fail"]++
                if (!((I[c], check) in where)) {
                    printf "report_card: %s fails %s, and no section of %s says \"<!-- finding: %s %s -->\"\n", \
                        L[c], check, findings, I[c], check > "/dev/stderr"
                    missing = 1
                } else if (!((c, where[I[c], check]) in listed)) {
                    listed[c, where[I[c], check]] = 1; fl[c] = fl[c] (fl[c] == "" ? "" : "; ") \
                        "[" named[I[c], check] "](docs/findings.md#" where[I[c], check] ")"
                }
            } else if ((c, check) in passed) count[c, "pass"]++
            else if ((c, check) in skipped) count[c, "skip"]++
        }
        if (missing) exit 1
        if (mode == "summary") {
            for (c = 1; c <= ncol; c++)
                printf "- **%s**: of %d checks, %d passed, %d failed, %d skipped%s\n", L[c], \
                    count[c, "pass"] + count[c, "fail"] + count[c, "skip"], count[c, "pass"], count[c, "fail"], \
                    count[c, "skip"], (fl[c] != "" ? ". Findings: " fl[c] : "")
            exit 0
        }
        printf "| check |"; for (c = 1; c <= ncol; c++) printf " %s |", L[c]; printf "\n"
        printf "|---|"; for (c = 1; c <= ncol; c++) printf "---|"; printf "\n"
        for (r = 1; r <= nrows; r++) {
            check = rows[r]; printf "| `%s` |", check
            for (c = 1; c <= ncol; c++) {
                if ((c, check) in failed) {
                    reason = why[c, check]
                    if (length(reason) > 90) reason = substr(reason, 1, 87) "..."
                    printf " **fail** (%s): %s [finding](findings.md#%s) |", failed[c, check], md(reason), where[I[c], check]
                } else if ((c, check) in passed) printf " pass |"
                else if ((c, check) in skipped) printf " skip |"
                else printf " - |"
            }
            printf "\n"
        }
    }' $(for ((i = 1; i <= ncol; i++)); do echo "$tmp/col$i"; done) || exit 1
[ "$mode" = card ] || exit 0
echo
echo "A cell is the verdict over every recorded scenario of that hypervisor: **fail** if any failed"
echo "(the scenario and its first \`FAIL\` line, and the finding that explains it), pass if any"
echo "passed, skip if every one skipped, - if no recorded scenario ran the check."
[ -n "$pvm" ] || echo "No local \`/dev/kvm\` (PVM) run has been recorded yet (\`tests/local/expect-KERNEL.txt\`)."
