#!/usr/bin/env bash
# The documents stay true: docs/checks.md's tables are the image's check
# tables; every check a recorded log reports has its entry there; the report
# card (docs/report-card.md) and the README's summary of it are what
# tests/report_card.sh makes of the recorded runs, and a failing cell with no
# finding fails it; every relative link and anchor resolves; the README stays
# short. Prints "PASS docs.NAME" or "FAIL docs.NAME: why".
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

result() { # NAME PROBLEMS...
    local name=$1
    shift
    if [ $# -eq 0 ]; then echo "PASS docs.$name"; else echo "FAIL docs.$name: $*"; fi
}
block() { # FILE NAME: the lines between <!-- NAME:begin --> and <!-- NAME:end -->
    sed -n "/<!-- $2:begin -->/,/<!-- $2:end -->/p" "$1" | sed '1d;$d'
}

make -s build/pvcheck.syms.elf build/host/list_checks >/dev/null 2>&1 ||
    { result checks_generated "cannot build the image or list_checks"; exit 0; }
if ! tests/tools/checks_doc.sh docs/checks.md build/host/list_checks build/pvcheck.syms.elf >"$tmp/checks.md" 2>"$tmp/err"; then
    result checks_generated "$(tr '\n' ' ' <"$tmp/err")"
elif ! diff -q "$tmp/checks.md" docs/checks.md >/dev/null; then
    result checks_generated "docs/checks.md differs from tests/tools/checks_doc.sh's output (regenerate it)"
else
    result checks_generated
fi

# Every check of every recorded run (nested KVM, Xen, TCG) is documented.
p=()
for r in tests/kvm/fixtures/results.txt tests/kvm/fixtures-6.12/results.txt tests/kvm/fixtures-7.3/results.txt tests/xen/fixtures/results.txt tests/xen/fixtures-4.20/results.txt tests/tcg/fixtures/results.txt; do
    while read -r check; do
        grep -q "^| \`$check\` |" docs/checks.md || p+=("$check ($r)")
    done < <(tr -d '\r' <"$r" | awk '/^\| +# Subtest: / { s = $4 }
        /^\|     (not )?ok [0-9]+ / { n = ($2 == "not") ? $5 : $4; print s "." n }' | sort -u)
done
result every_logged_check_documented "${p[@]}"

if ! tests/report_card.sh >"$tmp/card.md" 2>"$tmp/err"; then
    result report_card "tests/report_card.sh failed: $(tr '\n' ' ' <"$tmp/err")"
elif ! diff -q "$tmp/card.md" <(block docs/report-card.md report-card) >/dev/null; then
    result report_card "docs/report-card.md differs from tests/report_card.sh's card"
else
    result report_card
fi
if ! tests/report_card.sh --summary >"$tmp/summary.md" 2>"$tmp/err"; then
    result readme_summary "tests/report_card.sh --summary failed: $(tr '\n' ' ' <"$tmp/err")"
elif ! diff -q "$tmp/summary.md" <(block README.md report-summary) >/dev/null; then
    result readme_summary "README's report card summary differs from tests/report_card.sh --summary"
else
    result readme_summary
fi
# A failing cell that no finding explains fails the card.
sed '/<!-- finding: kvmxen612 runstate.blocked/d' docs/findings.md >"$tmp/findings.md"
out=$(PVCHECK_FINDINGS=$tmp/findings.md tests/report_card.sh 2>&1 >/dev/null)
status=$?
[ "$status" -ne 0 ] && grep -q "fails runstate.blocked, and no section of .* says" <<<"$out"
result unexplained_failure_refused $([ $? -eq 0 ] || echo "status $status: $out")

out=$(python3 tests/tools/links.py README.md docs/*.md 2>&1)
result links $([ $? -eq 0 ] || echo "$out" | tr '\n' ' ')
# The checker itself: a missing file and a missing anchor are caught.
printf '# Top\n\n## A `code` part\n\n[ok](#a-code-part) [ok](#top) [bad](#nowhere) [gone](missing.md)\n' >"$tmp/t.md"
out=$(python3 tests/tools/links.py "$tmp/t.md" 2>&1)
[ $? -eq 1 ] && grep -q 'no heading #nowhere' <<<"$out" && grep -q 'no such file' <<<"$out" &&
    [ "$(wc -l <<<"$out")" -eq 2 ]
result links_checker_catches $([ $? -eq 0 ] || echo "$out" | tr '\n' ' ')

lines=$(wc -l <README.md)
result readme_short $([ "$lines" -le 250 ] || echo "README.md has $lines lines, over 250")
exit 0
