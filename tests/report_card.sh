#!/usr/bin/env bash
# Prints the README's report card: one column per real hypervisor pvcheck has
# been run on, one row per check, each cell what the recorded runs of that
# hypervisor gave (a failure in any of its scenarios wins, naming it and its
# first FAIL line). The columns come from the recorded fixtures, which the
# harness's judging tests also read:
#   tests/kvm/fixtures/results.txt        Linux 6.1 KVM (QEMU 7.2)
#   tests/kvm/fixtures-6.12/results.txt   Linux 6.12 KVM (QEMU 10.0), and its
#                                         Xen emulation (scenarios xen_on_kvm*)
#   tests/xen/fixtures/results.txt        Xen 4.17 (PVH domU)
#   tests/local/expect-KERNEL.txt         a local /dev/kvm (PVM), where recorded
#   tests/tcg/fixtures/results.txt        QEMU TCG
# Each verdict is run.sh --check-log's; a log it rejects stops the card.
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# column LABEL RESULTS AWK_FILTER LINK: one file $tmp/cols/N with lines
# "suite.check verdict scenario reason".
ncol=0
labels=()
links=()
column() {
    local label=$1 results=$2 filter=$3 link=$4 log name
    ncol=$((ncol + 1))
    labels+=("$label")
    links+=("$link")
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
# verdicts LABEL FILE LINK: a column from a verdict list ("suite.check verdict").
verdicts() {
    ncol=$((ncol + 1))
    labels+=("$1")
    links+=("$3")
    # Its verdicts are written pass/fail/skip, the card's ok/fail/skip.
    awk -v f="$2" '$1 ~ /^[a-z_]+\.[a-z0-9_]+$/ {
        print $1, ($2 == "pass" ? "ok" : $2), "local", ($2 == "fail" ? "evidence in " f : "") }' \
        "$2" >"$tmp/col$ncol"
}

column "Linux 6.1 KVM" tests/kvm/fixtures/results.txt 1 '#real-kvm-without-devkvm'
column "Linux 6.12 KVM" tests/kvm/fixtures-6.12/results.txt '$3 !~ /^xen_on_kvm/' '#real-kvm-without-devkvm'
column "KVM's Xen emulation (6.12)" tests/kvm/fixtures-6.12/results.txt '$3 ~ /^xen_on_kvm/' '#real-kvm-without-devkvm'
column "Xen 4.17" tests/xen/fixtures/results.txt 1 '#real-xen'
pvm=""
for f in tests/local/expect-*.txt; do
    [ -e "$f" ] || continue
    verdicts "local KVM $(basename "$f" .txt | sed 's/^expect-//')" "$f" '#slow-hypervisors-time-budgets-and-the-exit-cost-profile'
    pvm=1
done
column "QEMU TCG" tests/tcg/fixtures/results.txt 1 '#output-contract'

# Rows in the order checks first appear; a cell is fail (with the scenario
# and reason) if any scenario failed, else pass if any passed, else skip.
awk -v ncol="$ncol" -v labels="$(printf '%s\t' "${labels[@]}")" -v links="$(printf '%s\t' "${links[@]}")" '
    function md(s) { gsub(/\|/, "\\|", s); gsub(/[<>]/, "", s); return s }
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
        split(labels, L, "\t"); split(links, K, "\t")
        printf "| check |"; for (c = 1; c <= ncol; c++) printf " %s |", L[c]; printf "\n"
        printf "|---|"; for (c = 1; c <= ncol; c++) printf "---|"; printf "\n"
        for (r = 1; r <= nrows; r++) {
            check = rows[r]; printf "| `%s` |", check
            for (c = 1; c <= ncol; c++) {
                if ((c, check) in failed) {
                    reason = why[c, check]
                    if (length(reason) > 90) reason = substr(reason, 1, 87) "..."
                    printf " **fail** (%s): %s [finding](%s) |", failed[c, check], md(reason), K[c]
                } else if ((c, check) in passed) printf " pass |"
                else if ((c, check) in skipped) printf " skip |"
                else printf " - |"
            }
            printf "\n"
        }
    }' $(for ((i = 1; i <= ncol; i++)); do echo "$tmp/col$i"; done)
echo
echo "A cell is the verdict over every recorded scenario of that hypervisor: **fail** if any failed"
echo "(the scenario and its first \`FAIL\` line), pass if any passed, skip if every one skipped, - if"
echo "no recorded scenario ran the check."
[ -n "$pvm" ] || echo "No local \`/dev/kvm\` (PVM) run has been recorded yet (\`tests/local/expect-KERNEL.txt\`)."
