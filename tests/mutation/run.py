#!/usr/bin/env python3
"""Mutation testing of pvcheck's verdict code.

Each mutant in tests/mutation/mutants.txt replaces one expression (named by
its text, which must occur exactly once in its file) with another. The
script copies the tracked files (as they stand in the working tree, so
uncommitted edits count; untracked files do not) to a scratch directory,
checks that the
unmutated copy passes, then for each mutant in turn applies it, builds the
host tests and the fault matrix (make unit), and runs them: the mutant is
killed when a build fails, a host test fails or the matrix reports a FAIL
row. It prints KILLED or SURVIVED per mutant, with what killed it, and the
score. Mutants marked "equivalent = <why>" are not run: they cannot change a
verdict, and why is written down. A mutant marked "survives = <why>" is run;
if it survives, that reason is printed with it.

  tests/mutation/run.py [-j JOBS] [--only NAME[,NAME...]] [--list] [MUTANTS_FILE]

Exit status: 0 when every mutant run was killed or survived for its stated
reason, 1 when another survived, 2 on bad input (a mutant whose text is missing or ambiguous) or
when the unmutated tree does not pass.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYS = {"file", "from", "to", "why", "equivalent", "survives"}


def die(msg):
    print(f"mutation: {msg}", file=sys.stderr)
    sys.exit(2)


def parse(path):
    mutants, cur = [], None
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        die(f"cannot read {path}: {e.strerror}")
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = {"name": line[1:-1].strip(), "line": n}
            if not cur["name"] or any(m["name"] == cur["name"] for m in mutants):
                die(f"{path}:{n}: empty or repeated mutant name")
            mutants.append(cur)
            continue
        key, sep, value = raw.partition(" = ")
        key = key.strip()
        if cur is None or not sep or key not in KEYS or key in cur:
            die(f"{path}:{n}: cannot parse '{raw}'")
        cur[key] = value
    for m in mutants:
        for key in ("file", "from", "to", "why"):
            if key not in m:
                die(f"{path}:{m['line']}: mutant {m['name']} has no '{key}'")
        target = os.path.join(TOP, m["file"])
        if not os.path.isfile(target):
            die(f"{path}:{m['line']}: {m['file']} does not exist")
        count = open(target, encoding="utf-8").read().count(m["from"])
        if count != 1:
            die(f"{path}:{m['line']}: '{m['from']}' occurs {count} times in {m['file']}, "
                "not once")
        if m["from"] == m["to"]:
            die(f"{path}:{m['line']}: mutant {m['name']} changes nothing")
    return mutants


def copy_tree(dst):
    files = subprocess.run(["git", "ls-files", "-z"], cwd=TOP, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = os.path.join(TOP, f)
        if not os.path.isfile(src):
            continue
        os.makedirs(os.path.dirname(os.path.join(dst, f)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, f))


def run_tests(work, jobs):
    """None when everything passes, else what failed first."""
    build = subprocess.run(["make", "-s", "unit"], cwd=work, capture_output=True, text=True)
    if build.returncode != 0:
        return "build: " + (build.stderr.strip().splitlines() or ["make failed"])[-1]
    host = os.path.join(work, "build", "host")
    for t in sorted(os.listdir(host)):
        if not t.startswith("test_"):
            continue
        try:
            r = subprocess.run([os.path.join(host, t)], cwd=work, capture_output=True,
                               text=True, timeout=600)
        except subprocess.TimeoutExpired:
            return f"{t}: timed out"
        if r.returncode != 0:
            fails = [l for l in r.stdout.splitlines() if l.startswith("FAIL")]
            detail = (r.stderr.strip().splitlines() or [""])[0].strip()
            return (fails[0] if fails else f"{t} exited {r.returncode}") + \
                (f" ({detail[:160]})" if detail else "")
    # The matrix: stop at its first FAIL row.
    p = subprocess.Popen([os.path.join(host, "matrix"), "-j", str(jobs)], cwd=work,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = None
    for line in p.stdout:
        if line.startswith("FAIL "):
            first = line.strip()
            p.kill()
            break
    p.wait()
    if first:
        return first[:200]
    if p.returncode != 0:
        return f"matrix exited {p.returncode}"
    return None


def main():
    args, jobs, only, listing, path = sys.argv[1:], 2, None, False, None
    while args:
        a = args.pop(0)
        if a == "-j" and args:
            v = args.pop(0)
            if not v.isdigit() or not 1 <= int(v) <= 16:
                die("-j must be a number from 1 to 16")
            jobs = int(v)
        elif a == "--only" and args:
            only = args.pop(0)
        elif a == "--list":
            listing = True
        elif a.startswith("-") or path:
            die(f"unknown argument '{a}'")
        else:
            path = a
    mutants = parse(path or os.path.join(TOP, "tests", "mutation", "mutants.txt"))
    if only:
        names = only.split(",")
        for name in names:
            if not any(m["name"] == name for m in mutants):
                die(f"no mutant named '{name}'")
        mutants = [m for m in mutants if m["name"] in names]
    if listing:
        for m in mutants:
            print(f"{m['name']}: {m['file']}: {m['why']}")
        return 0
    work = tempfile.mkdtemp(prefix="pvcheck-mutation.")
    try:
        copy_tree(work)
        started = time.time()
        why = run_tests(work, jobs)
        if why:
            die(f"the unmutated tree does not pass: {why}")
        print(f"# unmutated tree passes ({time.time() - started:.0f} s)", flush=True)
        killed = survived = explained = equivalent = 0
        for m in mutants:
            if "equivalent" in m:
                equivalent += 1
                print(f"EQUIVALENT {m['name']}: {m['equivalent']}", flush=True)
                continue
            target = os.path.join(work, m["file"])
            original = open(target, encoding="utf-8").read()
            open(target, "w", encoding="utf-8").write(original.replace(m["from"], m["to"]))
            started = time.time()
            try:
                why = run_tests(work, jobs)
            finally:
                open(target, "w", encoding="utf-8").write(original)
            took = time.time() - started
            if why:
                killed += 1
                print(f"KILLED {m['name']} ({took:.0f} s): {why}", flush=True)
            elif "survives" in m:
                explained += 1
                print(f"SURVIVED {m['name']} ({took:.0f} s), as stated: {m['survives']}",
                      flush=True)
            else:
                survived += 1
                print(f"SURVIVED {m['name']} ({took:.0f} s): {m['file']}: {m['why']}",
                      flush=True)
        judged = killed + survived + explained
        score = 100.0 * killed / judged if judged else 0.0
        print(f"{killed} killed, {explained} survived as stated, {survived} survived "
              f"unexplained, {equivalent} equivalent (not run): score {score:.0f}% of {judged}")
        return 1 if survived else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
