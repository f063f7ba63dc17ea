# Sourced by both /init scripts (KVM's outer Linux, Xen's dom0): the host
# load a scenario asks for.
# start_loops N [CPU] [NICE]: N busy shell loops, pinned to CPU if given (""
# for none), at that nice level (default 0); their PIDs go to $loops for
# stop_loops.
start_loops() {
    loops=""
    i=0
    while [ "$i" -lt "$1" ]; do
        if [ -n "${2:-}" ]; then
            taskset -c "$2" sh -c 'while :; do :; done' &
        else
            sh -c 'while :; do :; done' &
        fi
        # busybox has renice but no nice.
        [ "${3:-0}" = 0 ] || renice -n "$3" -p $! >/dev/null || echo "renice failed" >&2
        loops="$loops $!"
        i=$((i + 1))
    done
}

stop_loops() {
    # shellcheck disable=SC2086 # a PID list by design
    [ -z "$loops" ] || kill $loops 2>/dev/null
}

# loops_running: how many of the loops are still alive (a loop that never
# started or died leaves the host less loaded than the scenario says).
loops_running() {
    alive_loops=0
    for p in $loops; do
        kill -0 "$p" 2>/dev/null && alive_loops=$((alive_loops + 1))
    done
    echo "$alive_loops"
}
