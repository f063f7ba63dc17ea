# run.sh --compare OLD NEW (sourced by run.sh): what changed between two
# runs, as Markdown for a merge request. Each side is a serial log or a
# --json file. Verdicts are matched by suite.check, figures by suite.check
# and key (a key a check repeats is numbered key#2, key#3, ... as in the
# JSON's "values"), the exit costs as exit_costs.tsc_cycles. Only numbers
# are figures: key=VALUE pairs whose value is not one are not compared.

# compare_flatten FILE: "B boot line", "V suite.check verdict" and
# "F suite.check key value" lines; returns 2 (saying why on stderr) when
# FILE is neither a pvcheck log nor a pvcheck JSON report. A log is read
# through its JSON report (write_reports, run.sh's).
compare_flatten() {
    local file=$1 first
    [ -r "$file" ] || { echo "run.sh: --compare: cannot read '$file'" >&2; return 2; }
    first=$(tr -d ' \t\r\n' <"$file" | head -c 1)
    if [ "$first" = "{" ]; then
        command -v jq >/dev/null || { echo "run.sh: --compare: reading JSON needs jq" >&2; return 2; }
        jq -e '.tool == "pvcheck" and (.suites | type == "array")' "$file" >/dev/null 2>&1 ||
            { echo "run.sh: --compare: '$file' is not a pvcheck JSON report" >&2; return 2; }
        jq -e '[.suites[].checks[] | has("values")] | all' "$file" >/dev/null 2>&1 ||
            { echo "run.sh: --compare: '$file' has no typed figures (\"values\"; an older pvcheck): compare its log instead" >&2; return 2; }
        jq -r '"B " + (.boot // "-"),
            (.suites[] | .name as $s | .checks[] | .name as $c | "V \($s).\($c) \(.verdict)",
                (.values // {} | to_entries[] | select(.value.value | type == "number")
                    | "F \($s).\($c) \(.key) \(.value.value)")),
            (.exit_costs_tsc_cycles // {} | to_entries[] | select(.value | type == "number")
                | "F exit_costs.tsc_cycles \(.key) \(.value)")' "$file" 2>/dev/null ||
            { echo "run.sh: --compare: '$file' is malformed JSON" >&2; return 2; }
        return 0
    fi
    # A log: its JSON report first, so that both sides go through one
    # reader of figures (write_reports' "values").
    grep -q '^KTAP version 1'$'\r''*$' "$file" ||
        { echo "run.sh: --compare: $file is not a pvcheck log (no \"KTAP version 1\" line)" >&2; return 2; }
    local json
    json=$(mktemp) || return 2
    write_reports "$file" "" "$json" 0 ""
    compare_flatten "$json"
    local rc=$?
    rm -f "$json"
    return "$rc"
}

# compare_runs OLD NEW THRESHOLD: the Markdown report on stdout; returns 0
# when no verdict changed, 1 when one did, 2 on bad input.
compare_runs() {
    local old=$1 new=$2 threshold=$3 tmp rc
    tmp=$(mktemp -d) || return 2
    compare_flatten "$old" >"$tmp/old" && compare_flatten "$new" >"$tmp/new" || { rm -rf "$tmp"; return 2; }
    awk -v oldname="$old" -v newname="$new" -v threshold="$threshold" '
    function md(s) { gsub(/[|`\\]/, "\\\\&", s); gsub(/[^ -~]/, "?", s); return s }
    function abs(x) { return x < 0 ? -x : x }
    FILENAME == ARGV[1] { side = "old" } FILENAME == ARGV[2] { side = "new" }
    $1 == "B" { boot[side] = substr($0, 3); next }
    $1 == "V" { v[side, $2] = $3; if (!(($2) in seen)) { seen[$2] = 1; order[++nchecks] = $2 } next }
    $1 == "F" { f[side, $2, $3] = $4 + 0; raw[side, $2, $3] = $4
                if (!(($2 SUBSEP $3) in fseen)) { fseen[$2, $3] = 1; forder[++nfig] = $2 SUBSEP $3 } next }
    END {
        printf "## pvcheck: %s -> %s\n\n", md(oldname), md(newname)
        printf "- old: %s\n- new: %s\n", md(boot["old"] == "" ? "-" : boot["old"]), md(boot["new"] == "" ? "-" : boot["new"])
        split(boot["old"], bo, " "); split(boot["new"], bn, " ")
        if (bo[2] != bn[2]) printf "- note: different pvcheck versions (%s, %s): checks and figures may differ for that reason alone\n", md(bo[2]), md(bn[2])
        changed = 0
        for (i = 1; i <= nchecks; i++) {
            c = order[i]; a = ((("old", c) in v) ? v["old", c] : "absent"); b = ((("new", c) in v) ? v["new", c] : "absent")
            if (a != b) vc[++changed] = "| `" md(c) "` | " a " | " b " |"
        }
        printf "\n### Verdicts that changed: %d\n\n", changed
        if (changed) { print "| check | old | new |"; print "|---|---|---|"; for (i = 1; i <= changed; i++) print vc[i] }
        moved = 0
        for (i = 1; i <= nfig; i++) {
            split(forder[i], k, SUBSEP)
            if (!((("old", k[1], k[2]) in f) && (("new", k[1], k[2]) in f))) continue
            a = f["old", k[1], k[2]]; b = f["new", k[1], k[2]]
            if (a == b) continue
            pct = a != 0 ? (b - a) * 100 / abs(a) : 0
            if (a != 0 && abs(pct) <= threshold + 0) continue
            fc[++moved] = sprintf("| `%s` | %s | %s | %s | %s |", md(k[1]), md(k[2]), raw["old", k[1], k[2]], raw["new", k[1], k[2]], \
                a != 0 ? sprintf("%+.1f%%", pct) : "from 0")
        }
        printf "\n### Figures that changed by more than %s%%: %d\n\n", threshold, moved
        if (moved) { print "| check | figure | old | new | change |"; print "|---|---|---|---|---|"; for (i = 1; i <= moved; i++) print fc[i] }
        exit changed ? 1 : 0
    }' "$tmp/old" "$tmp/new"
    rc=$?
    rm -rf "$tmp"
    return "$rc"
}
