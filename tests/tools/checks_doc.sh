#!/usr/bin/env bash
# docs/checks.md with every generated table filled in from the image's check
# tables (tests/tools/list_checks), on stdout: each block between
# "<!-- checks:SUITE:begin -->" and "<!-- checks:SUITE:end -->" becomes that
# suite's table. Fails when a suite of the image has no block, or a block
# names a suite the image lacks or comes twice. make check diffs the output
# against the file.
#   tests/tools/checks_doc.sh DOC LIST_CHECKS IMAGE
set -u
doc=$1 tool=$2 image=$3
suites=$("$tool" "$image" | sed -n 's/^## `\([a-z0-9_]*\)`$/\1/p') || exit 2
[ -n "$suites" ] || { echo "checks_doc: no suites in $image" >&2; exit 2; }
blocks=$(sed -n 's/^<!-- checks:\([a-z0-9_]*\):begin -->$/\1/p' "$doc")
bad=0
for s in $suites; do
    n=$(grep -cx "$s" <<<"$blocks")
    [ "$n" -eq 1 ] || { echo "checks_doc: suite $s has $n blocks in $doc (want 1)" >&2; bad=1; }
done
for b in $blocks; do
    grep -qx "$b" <<<"$suites" || { echo "checks_doc: $doc has a block for $b, which the image lacks" >&2; bad=1; }
done
[ "$bad" -eq 0 ] || exit 1
while IFS= read -r line; do
    if [[ "$line" =~ ^\<!--\ checks:([a-z0-9_]+):begin\ --\>$ ]]; then
        echo "$line"
        "$tool" "$image" "${BASH_REMATCH[1]}" || exit 2
        skipping=1
    elif [[ "$line" =~ ^\<!--\ checks:[a-z0-9_]+:end\ --\>$ ]]; then
        echo "$line"
        skipping=0
    elif [ "${skipping:-0}" = 0 ]; then
        echo "$line"
    fi
done <"$doc"
