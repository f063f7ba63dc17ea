# Sourced by test scripts whose cases only read files: runs them two at a
# time, each one's output kept apart and printed in the order they started.
#   in_turn_start DIR     (a fresh directory for the outputs)
#   in_turn CMD...        (CMD in the background, after one of two finishes)
#   in_turn_finish        (waits for all, prints every output in order)
in_turn_start() {
    in_turn_dir=$1 in_turn_jobs=0 in_turn_n=0
    mkdir -p "$in_turn_dir"
}

in_turn() {
    [ "$in_turn_jobs" -lt 2 ] || { wait -n; in_turn_jobs=$((in_turn_jobs - 1)); }
    in_turn_n=$((in_turn_n + 1))
    "$@" >"$in_turn_dir/$(printf %04d "$in_turn_n")" 2>&1 &
    in_turn_jobs=$((in_turn_jobs + 1))
}

in_turn_finish() {
    wait
    [ "$in_turn_n" -eq 0 ] || cat "$in_turn_dir"/*
}
