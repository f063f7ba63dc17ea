# Sourced by both /init scripts (KVM's outer Linux, Xen's dom0): the host
# load a scenario asks for.
# start_loops N [CPU]: N busy shell loops, pinned to CPU if given; their PIDs
# go to $loops for stop_loops.
start_loops() {
    loops=""
    i=0
    while [ "$i" -lt "$1" ]; do
        if [ -n "${2:-}" ]; then
            taskset -c "$2" sh -c 'while :; do :; done' &
        else
            sh -c 'while :; do :; done' &
        fi
        loops="$loops $!"
        i=$((i + 1))
    done
}

stop_loops() {
    # shellcheck disable=SC2086 # a PID list by design
    [ -z "$loops" ] || kill $loops 2>/dev/null
}
