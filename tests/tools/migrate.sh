#!/bin/sh
# Runs a QEMU guest and moves it once while it runs, through QMP (POSIX sh:
# run.sh uses it, and so does the nested harness's busybox system).
#
#   migrate.sh MODE QMP LOG DIR TIMEOUT QEMU-COMMAND...
#
# MODE live: a second QEMU started with -incoming on a unix socket takes the
# VM over by live migration, its switchover held 100 ms (the VM stopped).
# MODE snapshot: the VM is stopped, saved to a file, its QEMU quits, and a
# new QEMU restores the file and continues it.
# MODE pause: the VM is stopped for 1 s and continued in the same QEMU (a
# host's stop and continue; KVM updates its master clock at the continue).
# MODE hotplug: a vCPU is added (device_add of the first free slot that
# query-hotpluggable-cpus lists) while the VM runs; nothing stops.
# QMP is the static qmp client; LOG the serial log both QEMUs write (the
# second appends); DIR a private directory for sockets and the image.
# The move starts 2 s after the guest prints "# migration: capture started"
# (the migration suite samples from then on), the vCPU is added 2 s after
# "# hotplug: capture started"; the guest is told nothing.
# Prints what it measured on stderr ("migrate: ..."); exits with the second
# QEMU's status, or 125 if the move itself failed.
mode=$1 qmp=$2 log=$3 dir=$4 limit=$5
shift 5
say() { echo "migrate: $*" >&2; }
SWITCHOVER_HOLD_S=0.1
case "$mode" in
live | snapshot | pause) suite=migration ;;
hotplug) suite=hotplug ;;
*) say "mode must be live, snapshot, pause or hotplug, not '$mode'"; exit 125 ;;
esac

serial() { echo "file,id=serial0,path=$log$1"; }
timeout -s KILL "$limit" "$@" -chardev "$(serial '')" -serial chardev:serial0 \
    -qmp "unix:$dir/src.qmp,server=on,wait=off" </dev/null 2>"$dir/src.err" &
src=$!
start=$("$qmp" -now)

# Waits for the guest's cue (or for the source to end: then there is
# nothing to move).
while ! grep -q "# $suite: capture started" "$log" 2>/dev/null; do
    kill -0 "$src" 2>/dev/null || { wait "$src"; s=$?; say "QEMU ended (status $s) before the $suite suite started"; cat "$dir/src.err" >&2; exit 125; }
    [ $(($("$qmp" -now) - start)) -lt $((limit * 1000)) ] || { say "no $suite suite started within ${limit}s"; kill "$src" 2>/dev/null; exit 125; }
    sleep 0.1
done
sleep 2

left=$((limit - ($("$qmp" -now) - start) / 1000))
[ "$left" -gt 5 ] || { say "no time left for the move"; kill "$src" 2>/dev/null; exit 125; }
# The QMP client, its complaints kept for failed().
q() { "$qmp" "$@" 2>>"$dir/qmp.err"; }
failed() {
    say "$1"
    # Asked before the kill below, which would end it anyway.
    kill -0 "$src" 2>/dev/null || { wait "$src"; say "the source QEMU had ended, status $?"; }
    kill "$src" "${dst:-}" 2>/dev/null
    [ ! -s "$dir/qmp.err" ] || sed 's/^/migrate: /' "$dir/qmp.err" >&2
    sed 's/^/migrate: source: /' "$dir/src.err" >&2
    [ ! -s "$dir/dst.err" ] || sed 's/^/migrate: destination: /' "$dir/dst.err" >&2
    exit 125
}
start_destination() {
    timeout -s KILL "$left" "$@" -chardev "$(serial ',append=on')" -serial chardev:serial0 \
        -qmp "unix:$dir/dst.qmp,server=on,wait=off" -incoming "$incoming" </dev/null 2>"$dir/dst.err" &
    dst=$!
}

if [ "$mode" = live ]; then
    incoming="unix:$dir/mig.sock"
    start_destination "$@"
    # The destination listens once its QMP socket answers.
    q -t 30 "$dir/dst.qmp" '{"execute": "query-status"}' >/dev/null ||
        failed "the destination QEMU did not start"
    # QEMU's own stop for the switchover can be a millisecond, under what
    # the guest can tell from its clocks' error: it is held SWITCHOVER_HOLD_S
    # (the VM already stopped), so that the guest sees every move.
    q -t 10 "$dir/src.qmp" "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": [{\"capability\": \"pause-before-switchover\", \"state\": true}]}}" >/dev/null ||
        failed "the source QEMU refused pause-before-switchover"
    q -t "$left" "$dir/src.qmp" \
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"$incoming\"}}" wait-switchover >/dev/null ||
        failed "live migration failed before the switchover"
    sleep "$SWITCHOVER_HOLD_S"
    reply=$(q -t "$left" "$dir/src.qmp" \
        '{"execute": "migrate-continue", "arguments": {"state": "pre-switchover"}}' wait-migration) ||
        failed "live migration failed"
    q -t 10 "$dir/src.qmp" '{"execute": "quit"}' >/dev/null
    downtime=$(echo "$reply" | sed -n 's/.*"downtime": \([0-9]*\).*/\1/p')
    total=$(echo "$reply" | sed -n 's/.*"total-time": \([0-9]*\).*/\1/p')
    say "live migration completed: downtime_ms=${downtime:-?} total_ms=${total:-?} (QEMU's figures)"
elif [ "$mode" = hotplug ]; then
    slots=$(q -t 10 "$dir/src.qmp" '{"execute": "query-hotpluggable-cpus"}') ||
        failed "query-hotpluggable-cpus failed"
    # One slot per line; the first without a qom-path is free.
    slot=$(printf '%s\n' "$slots" | sed 's/{"props"/@{"props"/g' | tr '@' '\n' |
        grep '^{"props"' | grep -v '"qom-path"' | head -n 1)
    props=$(printf '%s' "$slot" | sed -n 's/^{"props": {\([^{}]*\)}.*/\1/p')
    type=$(printf '%s' "$slot" | sed -n 's/.*"type": "\([A-Za-z0-9_.-]*\)".*/\1/p')
    case "$props" in
    "" | *[!A-Za-z0-9\"\ :,_-]*) failed "no free vCPU slot in QEMU's answer: $slots" ;;
    esac
    [ -n "$type" ] || failed "no CPU type in QEMU's answer: $slots"
    added=$("$qmp" -now)
    q -t 10 "$dir/src.qmp" "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"$type\", \"id\": \"hotplug0\", $props}}" >/dev/null ||
        failed "device_add of a $type failed"
    say "vCPU added while the VM ran: $type {$props}, $(($("$qmp" -now) - added)) ms"
    wait "$src"
    exit $?
elif [ "$mode" = pause ]; then
    stopped=$("$qmp" -now)
    q -t "$left" "$dir/src.qmp" '{"execute": "stop"}' >/dev/null || failed "stopping the VM failed"
    sleep 1
    q -t "$left" "$dir/src.qmp" '{"execute": "cont"}' >/dev/null || failed "continuing the VM failed"
    resumed=$("$qmp" -now)
    say "stopped and continued in the same QEMU: stopped_ms=$((resumed - stopped))"
    wait "$src"
    exit $?
else
    image=$dir/snapshot.img
    stopped=$("$qmp" -now)
    q -t "$left" "$dir/src.qmp" '{"execute": "stop"}' \
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:cat > $image\"}}" \
        wait-migration '{"execute": "quit"}' >/dev/null || failed "saving the snapshot failed"
    wait "$src" 2>/dev/null
    saved=$("$qmp" -now)
    incoming="exec:cat $image"
    start_destination "$@"
    # Restored once the incoming migration completes; then continued.
    q -t 60 "$dir/dst.qmp" wait-migration '{"execute": "cont"}' >/dev/null ||
        failed "restoring the snapshot failed"
    resumed=$("$qmp" -now)
    say "snapshot restored in a new QEMU: stopped_ms=$((resumed - stopped)) (save $((saved - stopped)) ms, restore $((resumed - saved)) ms, $(wc -c <"$image") bytes)"
fi
wait "$src" 2>/dev/null
wait "$dst"
status=$?
[ ! -s "$dir/dst.err" ] || sed 's/^/migrate: destination: /' "$dir/dst.err" >&2
exit "$status"
