#!/bin/bash
# Runs the host tests and the fault matrix RUNS times (default 20) beside
# BUSY busy loops (default 2), so that a test whose verdict rests on a thread
# getting the CPU in time shows up. Every run must pass; prints one line per
# run and the totals, exits 1 if any run failed. Needs `make unit` first.
# Not part of make check: about two minutes per run on two cores.
#   tests/under_load.sh [--runs N] [--busy N] [--matrix-args "..."] [--no-matrix]
set -u
cd "$(dirname "$0")/.."
runs=20 busy=2 margs="-j 2" matrix=1
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs="${2:?}"; shift 2 ;;
    --busy) busy="${2:?}"; shift 2 ;;
    --matrix-args) margs="${2?}"; shift 2 ;;
    --no-matrix) matrix=0; shift ;;
    *) echo "usage: $0 [--runs N] [--busy N] [--matrix-args ARGS] [--no-matrix]" >&2; exit 2 ;;
    esac
done
case "$runs$busy" in *[!0-9]*|'') echo "$0: --runs and --busy take numbers" >&2; exit 2 ;; esac
for b in build/host/matrix build/host/test_pvclock; do
    [ -x "$b" ] || { echo "$0: $b missing: run 'make unit' first" >&2; exit 2; }
done

pids=()
stop_busy() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_busy EXIT
for _ in $(seq "$busy"); do
    (while :; do :; done) &
    pids+=($!)
done

log=build/under_load.log
[ $matrix = 1 ] || log=build/under_load_host.log
: >"$log"
failed_runs=0
for r in $(seq "$runs"); do
    start=$(date +%s)
    fails=0
    for t in build/host/test_*; do
        out=$("$t" 2>&1); rc=$?
        n=$(grep -c '^FAIL ' <<<"$out")
        if [ $rc -ne 0 ] || [ "$n" -ne 0 ]; then
            fails=$((fails + (n > 0 ? n : 1)))
            { echo "run $r: $t"; grep -v '^PASS ' <<<"$out"; } >>"$log"
        fi
    done
    rows=0
    if [ $matrix = 1 ]; then
        # shellcheck disable=SC2086
        out=$(build/host/matrix $margs 2>&1); rc=$?
        n=$(grep -c '^FAIL ' <<<"$out")
        if [ $rc -ne 0 ] || [ "$n" -ne 0 ]; then
            fails=$((fails + (n > 0 ? n : 1)))
            { echo "run $r: matrix $margs"; grep -v '^PASS ' <<<"$out"; } >>"$log"
        fi
        rows=$(grep -c '^PASS \|^FAIL ' <<<"$out")
    fi
    echo "run $r of $runs: $fails failed ($rows matrix rows, $(($(date +%s) - start)) s, $busy busy loops)"
    [ $fails -eq 0 ] || failed_runs=$((failed_runs + 1))
done
echo "$((runs - failed_runs)) of $runs runs passed beside $busy busy loops (failures in $log)"
[ $failed_runs -eq 0 ]
