#!/usr/bin/env bash
# Two harness runs (results.txt of --keep, or a fixture's) compared scenario
# by scenario through run.sh --compare: a line per scenario found in both,
#   SCENARIO verdicts_changed=N figures_moved=M [check:old->new ...]
# where M figures moved by more than the threshold (10% unless told). Exit status 1 when
# a verdict changed, 2 on bad input. Used to show that running the outer
# systems side by side leaves the judged results as they are.
#   compare_results.sh [--threshold PERCENT] OLD_RESULTS NEW_RESULTS
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
threshold=10
if [ "${1:-}" = --threshold ]; then
    [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "compare_results: --threshold needs a whole percentage" >&2; exit 64; }
    threshold=$2
    shift 2
fi
[ $# -eq 2 ] || { echo "usage: compare_results.sh [--threshold PERCENT] OLD_RESULTS NEW_RESULTS" >&2; exit 64; }
for f in "$1" "$2"; do
    [ -r "$f" ] || { echo "compare_results: cannot read '$f'" >&2; exit 2; }
    grep -aq '^@@@ BEGIN [A-Za-z0-9_]*'$'\r''*$' "$f" ||
        { echo "compare_results: '$f' has no scenario (no \"@@@ BEGIN\" line): not a harness run" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# split RESULTS DIR: each scenario's serial log (its "| " lines) as DIR/NAME.
split_run() {
    mkdir -p "$2"
    tr -d '\r' <"$1" | awk -v dir="$2" '
        /^@@@ BEGIN [A-Za-z0-9_]+$/ { name = $3; out = dir "/" name; printf "" >out; next }
        /^@@@ END / { if (out != "") close(out); out = ""; next }
        out != "" && /^\| / { print substr($0, 3) >>out }'
}
split_run "$1" "$tmp/old"
split_run "$2" "$tmp/new"

status=0 compared=0
for old in "$tmp"/old/*; do
    name=${old##*/}
    new=$tmp/new/$name
    [ -f "$new" ] || continue
    # A scenario that printed no KTAP on either side has nothing to compare.
    if ! grep -q '^KTAP version 1' "$old" || ! grep -q '^KTAP version 1' "$new"; then
        echo "$name no-log: $(grep -c '^KTAP version 1' "$old") and $(grep -c '^KTAP version 1' "$new") KTAP logs"
        status=1
        continue
    fi
    report=$("$top/run.sh" --compare "$old" "$new" --threshold "$threshold" 2>&1)
    rc=$?
    [ "$rc" -le 1 ] || { echo "compare_results: $name: $report" >&2; exit 2; }
    [ "$rc" -eq 0 ] || status=1
    compared=$((compared + 1))
    changed=$(sed -n 's/^### Verdicts that changed: //p' <<<"$report")
    moved=$(sed -n 's/^### Figures that changed by more than [0-9]*%: //p' <<<"$report")
    which=$(awk -F' \\| ' '/^\| `/ && NF == 3 { gsub(/[`| ]/, "", $1); gsub(/ \|$/, "", $3); printf " %s:%s->%s", $1, $2, $3 }' <<<"$report")
    echo "$name verdicts_changed=$changed figures_moved=$moved$which"
done
[ "$compared" -gt 0 ] || { echo "compare_results: no scenario in both runs" >&2; exit 2; }
exit "$status"
