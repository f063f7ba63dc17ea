#!/usr/bin/env bash
# The CI examples (tests/ci/gitlab-ci.yml, github-workflow.yml): each parses
# with a YAML parser, and the pvcheck commands it runs do what docs/running.md
# says, here on TCG (or this machine's /dev/kvm), in a copy of the tree:
# an expectation file recorded from a run judges the next run green, the
# same file edited to expect a failure that does not happen turns it red,
# and the comparison with a previous run's JSON says no verdict changed.
# The install and artifact-download commands are not run (no network).
# Prints "PASS ci.NAME" or "FAIL ci.NAME: why".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=python3
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import yaml' 2>/dev/null && py=/usr/bin/python3

result() { # NAME PROBLEMS...
    local name=$1
    shift
    if [ $# -eq 0 ]; then echo "PASS ci.$name"; else echo "FAIL ci.$name: $*"; fi
}

# The shell commands of a file, one per line: GitLab's script and
# after_script, GitHub's steps' run.
commands() {
    "$py" - "$1" <<'EOF'
import sys, yaml
with open(sys.argv[1]) as f:
    doc = yaml.safe_load(f)
job = doc["pvcheck"] if "pvcheck" in doc else doc["jobs"]["pvcheck"]
if "steps" in job:
    lines = [s["run"] for s in job["steps"] if "run" in s]
else:
    lines = job["script"] + job.get("after_script", [])
for line in lines:
    if "\n" in line.strip():
        sys.exit("a multi-line command: " + line)
    print(line.strip())
EOF
}

for ci in gitlab-ci github-workflow; do
    file=$top/tests/ci/$ci.yml
    if ! cmds=$(commands "$file" 2>"$tmp/$ci.err"); then
        result "$ci.parses" "$(tr '\n' ' ' <"$tmp/$ci.err")"
        continue
    fi
    result "$ci.parses"
    run=$(grep '^\./run\.sh .*--expect ' <<<"$cmds")
    compare=$(grep -e '--compare' <<<"$cmds")
    if [ "$(wc -l <<<"$run")" -ne 1 ] || [ -z "$run" ] || [ -z "$compare" ]; then
        result "$ci.commands" "no single './run.sh ... --expect' command, or no --compare: $cmds"
        continue
    fi
    # A copy of the tree (the build shared) in which the commands run.
    work=$tmp/$ci
    mkdir -p "$work"
    (cd "$top" && git ls-files -z | xargs -0 cp --parents -a -t "$work") 2>/dev/null
    ln -s "$top/build" "$work/build"
    mkdir -p "$work/ci"
    (cd "$work" && ./run.sh --quiet --record-expect ci/pvcheck-expect.txt >"$tmp/$ci.record" 2>&1)
    status=$?
    [ "$status" -le 1 ] && [ -s "$work/ci/pvcheck-expect.txt" ] ||
        { result "$ci.green" "recording the expectations exited $status"; continue; }
    (cd "$work" && bash -c "$run" >"$tmp/$ci.out" 2>&1)
    status=$?
    p=()
    [ "$status" -eq 0 ] || p+=("exit status $status: $(tail -n 3 "$tmp/$ci.out" | tr '\n' ' ')")
    grep -q ' 0 mismatched' "$tmp/$ci.out" || p+=("no '0 mismatched'")
    for f in pvcheck.xml pvcheck.json pvcheck.log; do [ -s "$work/$f" ] || p+=("no $f"); done
    result "$ci.green" "${p[@]}"
    # The previous run's JSON, where the download would put it.
    cp "$work/pvcheck.json" "$work/last.json"
    mkdir -p "$work/last" && cp "$work/pvcheck.json" "$work/last/pvcheck.json"
    (cd "$work" && GITHUB_STEP_SUMMARY=$tmp/$ci.summary bash -c "$compare" >"$tmp/$ci.compare" 2>&1)
    p=()
    grep -q '^### Verdicts that changed: 0$' "$tmp/$ci.compare" "$work/pvcheck-compare.md" 2>/dev/null ||
        p+=("no comparison saying 0 verdicts changed: $(head -c 300 "$tmp/$ci.compare")")
    result "$ci.compare" "${p[@]}"
    # A known failure that no longer happens turns the job red.
    check=$(grep -m1 -E '^[a-z0-9_]+\.[a-z0-9_]+ pass$' "$work/ci/pvcheck-expect.txt" | cut -d' ' -f1)
    sed -i "s/^$check pass$/# a bug the hypervisor had\n$check fail/" "$work/ci/pvcheck-expect.txt"
    (cd "$work" && bash -c "$run" >"$tmp/$ci.red" 2>&1)
    status=$?
    p=()
    [ "$status" -eq 1 ] || p+=("exit status $status, expected 1")
    grep -q "unexpected pass: $check expected fail, got pass" "$tmp/$ci.red" || p+=("no unexpected pass of $check")
    result "$ci.red_on_fixed" "${p[@]}"
done
exit 0
