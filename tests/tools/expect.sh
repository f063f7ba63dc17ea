# Expected verdicts, for run.sh --expect and --record-expect (sourced by
# run.sh; tests/local and users' CI use the same files).
#
# An expectation file has one line per check, "suite.check verdict", or per
# suite, "suite.* verdict", with verdict pass, fail or skip; a third field
# scopes the line to one configuration (run.sh --expect-scope NAME, or the
# configuration's name in --matrix). Lines starting with '#' are comments;
# the comment lines directly above an expectation (no blank line between)
# are its evidence, and a mismatch is reported with the first of them. An
# exact name beats "suite.*", and a scoped line an unscoped one. A check the
# file does not name may pass or skip, but not fail.

# expect_rules FILE SCOPE: the file's lines that apply to SCOPE, one per
# line as "LINENO<TAB>CHECK<TAB>VERDICT<TAB>SCOPED<TAB>EVIDENCE"; a malformed
# file is said on stderr with its line number, and returns 64.
expect_rules() {
    [ -r "$1" ] || { echo "run.sh: cannot read expectation file '$1'" >&2; return 64; }
    awk -v file="$1" -v scope="$2" '
    function bad(msg) {
        printf "run.sh: %s line %d: %s\n", file, NR, msg > "/dev/stderr"
        failed = 1; exit 64
    }
    { sub(/\r$/, "") }
    /[^\t -~]/ { bad("a byte that is not printable ASCII") }
    length($0) > 2000 { bad("a line over 2000 characters") }
    /^[ \t]*$/ { evidence = ""; next }
    /^[ \t]*#/ {
        text = $0; sub(/^[ \t]*#[ \t]*/, "", text)
        if (evidence == "") evidence = text
        next
    }
    {
        line = $0; trail = ""
        if (match(line, /[ \t]#/)) {
            trail = substr(line, RSTART + 1); sub(/^#[ \t]*/, "", trail)
            line = substr(line, 1, RSTART - 1)
        }
        sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line)
        n = split(line, f, /[ \t]+/)
        if (n < 2 || n > 3)
            bad("expected \"suite.check verdict [scope]\", got " n " field" (n == 1 ? "" : "s"))
        if (f[1] !~ /^[a-z0-9_]+\.([a-z0-9_]+|\*)$/)
            bad("\"" f[1] "\" is not a check name (suite.check, or suite.* for every check of a suite)")
        if (f[2] !~ /^(pass|fail|skip)$/)
            bad("verdict \"" f[2] "\" is not pass, fail or skip")
        if (n == 3 && f[3] !~ /^[A-Za-z0-9_.-]+$/)
            bad("scope \"" f[3] "\" is not a configuration name")
        key = f[1] SUBSEP (n == 3 ? f[3] : "")
        if (key in seen) bad(f[1] (n == 3 ? " " f[3] : "") " is already expected on line " seen[key])
        seen[key] = NR
        if (n == 3 && f[3] != scope) { evidence = ""; next }
        printf "%d\t%s\t%s\t%d\t%s\n", NR, f[1], f[2], n == 3, (trail != "" ? trail : evidence)
        evidence = ""
    }
    END { if (failed) exit 64 }' "$1"
}

# expect_judge RULES VERDICTS: RULES from expect_rules, VERDICTS lines
# "suite.check ok|fail|skip". Prints one line per check,
#   CHECK<TAB>OUTCOME<TAB>WANT<TAB>GOT<TAB>LINENO<TAB>EVIDENCE
# with OUTCOME one of as_expected, expected_failure, regression,
# unexpected_pass, now_skips, now_runs; then one line per rule that names
# no check of the run, "unknown<TAB>CHECK<TAB>LINENO". Returns 0 when every
# verdict is as expected, 1 on a mismatch, 2 when a rule names no check.
expect_judge() {
    awk -F '\t' '
    FILENAME == ARGV[1] {
        k = $2; rank = ($2 ~ /\.\*$/ ? 0 : 2) + $4
        if (!(k in best) || rank > best[k]) { best[k] = rank; want[k] = $3; line[k] = $1; ev[k] = $5 }
        rules[$1] = $2; nr++
        next
    }
    {
        split($0, w, " "); check = w[1]; got = (w[2] == "ok" ? "pass" : w[2])
        suite = check; sub(/\..*/, "", suite); present[check] = 1; present[suite ".*"] = 1
        k = (check in want) ? check : ((suite ".*") in want) ? suite ".*" : ""
        if (k == "") {
            outcome = (got == "fail") ? "regression" : "as_expected"
            printf "%s\t%s\t%s\t%s\t\t\n", check, outcome, "pass or skip", got
        } else {
            wanted = want[k]
            if (wanted == got) outcome = (got == "fail") ? "expected_failure" : "as_expected"
            else if (got == "fail") outcome = "regression"
            else if (wanted == "fail" && got == "pass") outcome = "unexpected_pass"
            else if (got == "skip") outcome = "now_skips"
            else outcome = "now_runs"
            printf "%s\t%s\t%s\t%s\t%s\t%s\n", check, outcome, wanted, got, line[k], ev[k]
        }
        if (outcome != "as_expected" && outcome != "expected_failure") mismatches++
    }
    END {
        for (l in rules) if (!(rules[l] in present)) { printf "unknown\t%s\t%s\n", rules[l], l; unknown++ }
        exit unknown ? 2 : mismatches ? 1 : 0
    }' "$1" "$2"
}

# expect_say OUTCOMES FILE: run.sh's words on stderr for every mismatch and
# rule naming no check, and the count on stdout.
expect_say() {
    awk -F '\t' -v file="$2" '
    $1 == "unknown" {
        printf "run.sh: %s line %d expects %s, which names no check pvcheck reported\n", file, $3, $2 > "/dev/stderr"
        unknown++; next
    }
    $2 == "as_expected" { ok++; next }
    $2 == "expected_failure" { ok++; xfail++; next }
    {
        what = $2 == "regression" ? "regression" : $2 == "unexpected_pass" ? "unexpected pass" : \
               $2 == "now_skips" ? "now skips" : "now runs"
        printf "run.sh: %s: %s expected %s, got %s", what, $1, $3, $4 > "/dev/stderr"
        if ($5 != "") printf " (%s line %s%s)", file, $5, ($6 != "" ? ": " $6 : "") > "/dev/stderr"
        if ($2 == "unexpected_pass") printf "; the bug is fixed or the check went blind: update the file" > "/dev/stderr"
        printf "\n" > "/dev/stderr"
        bad++
    }
    END {
        printf "expectations: %d as expected (%d expected failures), %d mismatched", ok, xfail, bad
        if (unknown) printf ", %d naming no check", unknown
        printf "\n"
    }' "$1"
}

# expect_record LOG VERDICTS OUT: an expectation file from a run, every
# check's verdict, each failure with its first FAIL line as its evidence.
expect_record() {
    awk -v verdicts="$2" '
    BEGIN {
        while ((getline l < verdicts) > 0) { split(l, w, " "); order[++n] = w[1]; v[w[1]] = (w[2] == "ok" ? "pass" : w[2]) }
    }
    { sub(/\r$/, "") }
    /^# pvcheck [0-9]/ { boot = substr($0, 3) }
    /^    # Subtest: / { suite = substr($0, 16); first = ""; next }
    /^ *# FAIL: / { if (first == "") { first = $0; sub(/^ *# /, "", first) } next }
    /^    (ok|not ok) [0-9]+ [A-Za-z0-9_]+/ {
        name = $0; sub(/^    (ok|not ok) [0-9]+ /, "", name); sub(/ .*/, "", name)
        fail[suite "." name] = first; first = ""
    }
    END {
        printf "# pvcheck expected verdicts, recorded by run.sh --record-expect from\n# %s\n", boot
        printf "# Lines \"suite.check verdict\"; the comment directly above a line is its evidence.\n"
        for (i = 1; i <= n; i++) {
            c = order[i]
            if (v[c] == "fail") {
                e = fail[c]; gsub(/[^\t -~]/, "?", e)
                printf "\n# %s\n%s fail\n", (e != "" ? substr(e, 1, 1000) : "failed (no FAIL line)"), c
            } else
                printf "%s%s %s\n", (v[order[i - 1]] == "fail" ? "\n" : ""), c, v[c]
        }
    }' "$1"
}
