#!/bin/sh
# /init of the outer Linux: load KVM, then run every scenario listed in
# /scenarios.run ("name|load|pin|timeout|migrate|memory_max|qemu args|guest
# options") with QEMU on /dev/kvm, and write each inner serial log to ttyS1 between
# markers. A scenario with migrate (live, snapshot, pause or hotplug) runs through
# /migrate.sh, which moves the VM (or adds a vCPU) once while it samples;
# what it measured goes out with QEMU's messages.
# Log lines are prefixed with "| " so that no guest output can fake a marker.
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
out=/dev/ttyS1

. /busy_loops.sh

say() { echo "@@@ $*" >"$out"; }

# Each vCPU's RIP, flags, halt state, code segment and CR0, the bytes at
# vCPU 0's RIP, and the 8259s' request, mask and service registers, from the
# inner QEMU's QMP socket (the first of a migration), to tell where a guest
# that went quiet is, in which mode, and whether an interrupt keeps coming
# (guests stuck in the firmware sat on SeaBIOS's default handler's IRET).
guest_regs() {
    for sock in /tmp/inner.qmp /tmp/mig/src.qmp; do
        [ -S "$sock" ] || continue
        /qmp -t 3 "$sock" '{"execute":"human-monitor-command","arguments":{"command-line":"info registers -a"}}' \
            '{"execute":"human-monitor-command","arguments":{"command-line":"x /12xb $pc"}}' \
            '{"execute":"human-monitor-command","arguments":{"command-line":"info pic"}}' 2>&1 |
            sed 's/\\r\\n/\n/g' |
            awk '/CPU#[0-9]+/ {match($0, /CPU#[0-9]+/); cpu = substr($0, RSTART, RLENGTH)}
                 /^[RE]IP=/ {print "regs " cpu " " $0}
                 /^(CS =|CR0=)/ {print "regs " cpu " " substr($0, 1, 60)}
                 /[0-9a-f]+: 0x/ {sub(/^.*"return": "/, ""); sub(/"}.*$/, ""); print "code " $0}
                 /pic[01]: irr=/ {sub(/^.*"return": "/, ""); sub(/"}.*$/, ""); print "pic " substr($0, 1, 60)}'
        return
    done
}

# With PVCHECK_KVM_TRACE set on the host (/kvm_trace here), KVM's own
# events go to ftrace's ring buffer, emptied before each boot, so that a
# RETRY can show what KVM last did to the guest that never started.
trace=/sys/kernel/tracing
kvm_trace_start() {
    [ -e /kvm_trace ] || return 0
    [ -e $trace/trace ] || mount -t tracefs tracefs $trace 2>/dev/null || return 0
    echo 0 >$trace/tracing_on
    echo 8192 >$trace/buffer_size_kb
    echo 1 >$trace/events/kvm/enable
    # The first exception KVM injects ends the record: a firmware gone astray
    # loops on one (an undefined opcode), and the way into it is what counts.
    echo '!traceoff' >$trace/events/kvm/kvm_inj_exception/trigger 2>/dev/null
    echo traceoff >$trace/events/kvm/kvm_inj_exception/trigger
    : >$trace/trace
    echo 1 >$trace/tracing_on
}
kvm_trace_dump() {
    [ -e /kvm_trace ] && [ -e $trace/trace ] || return 0
    echo 0 >$trace/tracing_on
    grep -v '^#' $trace/trace | tail -n 300 | sed 's/^/trace /'
}

# Everything a RETRY shows of the guest that never started: vCPU 0's
# registers, its interrupt table, the BIOS data area, the 8259s, the
# firmware's own last words (SeaBIOS writes its log to port 0x402), and
# KVM's last events when traced.
retry_dump() {
    for sock in /tmp/inner.qmp /tmp/mig/src.qmp; do
        [ -S "$sock" ] || continue
        hmp() { printf '{"execute":"human-monitor-command","arguments":{"command-line":"%s"}}' "$1"; }
        /qmp -t 3 "$sock" "$(hmp 'info registers')" "$(hmp 'xp /32xw 0')" "$(hmp 'xp /16xw 0x400')" \
            "$(hmp 'info pic')" 2>&1 | sed 's/\\r\\n/\n/g' | sed 's/^/state /'
        break
    done
    firmware_tail
    kvm_trace_dump
}
firmware_tail() { tail -n 60 /tmp/firmware.log 2>/dev/null | sed 's/^/firmware /'; }

# Just before a scenario's limit: what its QEMU's threads are doing (state,
# CPU ticks, wait channel) twice 2 s apart, the load, and the guest's
# registers, into /tmp/diag.txt, to tell a QEMU starved of CPU from one
# blocked in the kernel, and a guest halted from one spinning.
diagnose() {
    sleep "$1"
    for round in 1 2; do
        echo "DIAG $round loadavg $(cat /proc/loadavg)"
        for p in $(pidof qemu-system-x86_64); do
            for t in /proc/$p/task/*; do
                # stat: pid (comm) state ... utime(14) stime(15); comm may hold spaces.
                rest=$(sed 's/^.*) //' "$t/stat" 2>/dev/null) || continue
                # shellcheck disable=SC2086 # split into fields on purpose
                set -- $rest
                echo "DIAG $round task ${t##*/} comm=$(tr ' ' _ <"$t/comm") state=$1 utime=${12} stime=${13} wchan=$(cat "$t/wchan" 2>/dev/null)"
            done
        done
        guest_regs | sed "s/^/DIAG $round /"
        sleep 2
    done >/tmp/diag.txt 2>&1
}

for m in irqbypass kvm ccp kvm-amd; do
    insmod /modules/$m.ko 2>/tmp/insmod.err || { say "MODULE $m failed: $(cat /tmp/insmod.err)"; }
done
if [ -c /dev/kvm ]; then say "KVM ready cpus=$(nproc)"; else say "KVM missing"; fi
# A swap disk (harness.sh attaches one for memory_max scenarios): such a
# scenario's QEMU runs in a memory cgroup of that size, so the outer kernel
# swaps guest memory out to it and KVM must fetch it back.
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
    [ -e /modules/$m.ko ] || continue
    insmod /modules/$m.ko 2>/tmp/insmod.err || say "HOST module $m: $(cat /tmp/insmod.err)"
done
mkdir -p /sys/fs/cgroup
mount -t cgroup2 none /sys/fs/cgroup && echo +memory >/sys/fs/cgroup/cgroup.subtree_control
# A disk on the virtio bus may show up a moment after its driver loads.
if [ -n "$(ls /sys/bus/virtio/devices 2>/dev/null)" ]; then
    for _ in 1 2 3 4 5; do [ -b /dev/vda ] && break; sleep 1; done
fi
if [ -b /dev/vda ]; then
    mkswap /dev/vda >/tmp/swap.err 2>&1 && swapon /dev/vda 2>>/tmp/swap.err &&
        say "HOST swap on /dev/vda: $(tail -n 1 /proc/swaps | tr -s ' \t' ' ')" ||
        say "HOST swap failed: $(tr '\n' ' ' </tmp/swap.err)"
else
    say "HOST swap: no /dev/vda ($(ls /sys/block | tr '\n' ' '))"
fi

# The outer host's timekeeping decides how KVM builds kvmclock: record it.
say "HOST clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
dmesg | grep -Ei 'tsc|clocksource' | sed 's/^/@@@ HOST /' >"$out"

# The outer kernel's TSC rate, for scenarios that pass it on (@HOST_TSC_HZ@
# in their QEMU arguments): the refined calibration, else the first.
host_tsc_hz=$(dmesg | sed -n 's/.*Refined TSC clocksource calibration: \([0-9]*\)\.\([0-9]*\) MHz.*/\1\2000/p' | head -n 1)
[ -n "$host_tsc_hz" ] || host_tsc_hz=$(dmesg | sed -n 's/.*tsc: Detected \([0-9]*\)\.\([0-9]*\) MHz processor.*/\1\2000/p' | head -n 1)
say "HOST tsc_hz=${host_tsc_hz:-unknown}"

# /tmp/in_memcg SIZE CMD...: CMD in a fresh memory cgroup limited to SIZE.
cat >/tmp/in_memcg <<'EOF'
#!/bin/sh
cg=/sys/fs/cgroup/inner
rmdir $cg 2>/dev/null
mkdir $cg && echo "$1" >$cg/memory.max || { echo "memory cgroup of $1 not made" >&2; exit 125; }
shift
echo $$ >$cg/cgroup.procs && exec "$@"
EOF
chmod +x /tmp/in_memcg

# The memory cgroup's figures after a memory_max scenario.
memcg_report() {
    cg=/sys/fs/cgroup/inner
    echo "MEMCG max=$(cat $cg/memory.max) peak_swap=$(cat $cg/memory.swap.peak 2>/dev/null || echo -)" \
        "swap_now=$(cat $cg/memory.swap.current) $(tr '\n' ' ' <$cg/memory.events)"
    echo "MEMCG vmstat $(grep -E '^(pswpin|pswpout) ' /proc/vmstat | tr '\n' ' ')"
}

# SeaBIOS's log (its debug port, 0x402), kept for a RETRY; appended to, so
# that a migration's destination, opened later, leaves the source's alone.
firmware_log="-chardev file,id=fwlog,path=/tmp/firmware.log,append=on -device isa-debugcon,iobase=0x402,chardev=fwlog"

# One migration scenario's run through /migrate.sh: its status, 125 when
# the move itself failed (or the suite never started).
migrate_inner() {
    rm -rf /tmp/mig && mkdir -p /tmp/mig && : >/tmp/serial.log
    suite_option=migration
    [ "$migrate" != hotplug ] || suite_option=hotplug
    # shellcheck disable=SC2086 # qargs and accel are word lists by design
    /migrate.sh "$migrate" /qmp /tmp/serial.log /tmp/mig "$limit" $pin_cmd qemu-system-x86_64 \
        -L /usr/share/qemu $accel -nodefaults -no-user-config -display none -no-reboot -m 64M -name pvcheck,debug-threads=on \
        -device isa-debug-exit,iobase=0xf4,iosize=0x01 $firmware_log \
        -kernel /pvcheck.elf -append "$gopts $suite_option wallclock=$(date +%s)" $qargs </dev/null >/tmp/qemu.out 2>&1
}

# One inner boot of the scenario, its serial log in /tmp/serial.log; the
# exit status of QEMU under timeout (137: killed at the limit).
boot_inner() {
    # shellcheck disable=SC2086 # memcg_cmd, qargs and accel are word lists by design
    $memcg_cmd timeout -s KILL "$limit" $pin_cmd qemu-system-x86_64 -L /usr/share/qemu $accel \
        -nodefaults -no-user-config -display none -no-reboot -m 64M -name pvcheck,debug-threads=on \
        -device isa-debug-exit,iobase=0xf4,iosize=0x01 $firmware_log \
        -chardev file,id=s0,path=/tmp/serial.log -serial chardev:s0 \
        -qmp unix:/tmp/inner.qmp,server=on,wait=off \
        -kernel /pvcheck.elf -append "$gopts wallclock=$(date +%s)" $qargs </dev/null >/tmp/qemu.out 2>&1
}

# The scenario's boot through BOOT (boot_inner, or migrate_inner for a
# migration scenario's source and its move). A boot whose guest has not
# printed pvcheck's first line ("KTAP version 1") a quarter of its limit in
# (30 s at most), or that ended before printing it, never ran a check (the
# guest was seen stuck in the firmware, and a firmware gone astray may as
# well shut the machine down): it is ended, reported with each vCPU's
# registers (while it runs) as "@@@ RETRY", and booted once more. The second
# boot runs to its verdict or its limit, whatever it prints.
#   run_watched NAME BOOT
run_watched() {
    local start_s=$((limit / 4 < 30 ? limit / 4 : 30))
    : >/tmp/serial.log
    : >/tmp/firmware.log
    kvm_trace_start
    $2 &
    local boot=$! waited=0
    while kill -0 "$boot" 2>/dev/null && [ "$waited" -lt "$start_s" ]; do
        grep -q 'KTAP version 1' /tmp/serial.log && break
        sleep 1
        waited=$((waited + 1))
    done
    if ! grep -q 'KTAP version 1' /tmp/serial.log; then
        if kill -0 "$boot" 2>/dev/null; then
            say "RETRY $1 no first line after ${start_s}s: $(guest_regs | tr '\n' ';')"
            retry_dump | sed 's/^/! /' >"$out"
            kill -KILL $(pidof qemu-system-x86_64) 2>/dev/null
            wait "$boot"
        else
            wait "$boot"
            say "RETRY $1 ended with status $? after ${waited}s, before its first line"
            { firmware_tail; kvm_trace_dump; } | sed 's/^/! /' >"$out"
            sed 's/^/! qemu: /' /tmp/qemu.out >"$out"
        fi
        rm -f /tmp/inner.qmp /tmp/diag.txt
        : >/tmp/serial.log
        : >/tmp/firmware.log
        # The record just before the limit is of the boot that counts.
        kill "$diag_pid" 2>/dev/null
        diagnose $((limit > 8 ? limit - 6 : 1)) &
        diag_pid=$!
        $2
        return
    fi
    wait "$boot"
}

while IFS='|' read -r name load pin limit migrate memmax qargs gopts; do
    [ -n "$name" ] || continue
    start_loops "$load" "$pin"
    pin_cmd=""
    [ -n "$pin" ] && pin_cmd="taskset -c $pin"
    memcg_cmd=""
    [ -n "$memmax" ] && memcg_cmd="/tmp/in_memcg $memmax"
    say "BEGIN $name"
    # A scenario may name its own accelerator options (KVM's Xen emulation).
    accel="-accel kvm"
    qargs=$(printf '%s' "$qargs" | sed "s/@HOST_TSC_HZ@/$host_tsc_hz/g")
    case " $qargs " in *" -accel "*) accel="" ;; esac
    rm -f /tmp/diag.txt /tmp/inner.qmp /tmp/mig/src.qmp
    diagnose $((limit > 8 ? limit - 6 : 1)) &
    diag_pid=$!
    if [ -n "$migrate" ]; then
        run_watched "$name" migrate_inner
        status=$?
    else
        run_watched "$name" boot_inner
        status=$?
    fi
    kill "$diag_pid" 2>/dev/null
    say "LOAD $name $(loops_running) of ${load:-0}"
    stop_loops
    # awk ends the last line even when the guest's was cut off: QEMU 10's
    # isa-debug-exit stops the VM a little after the write, not at once.
    awk '{ print "| " $0 }' /tmp/serial.log >"$out"
    sed 's/^/! /' /tmp/qemu.out >"$out"
    [ -s /tmp/diag.txt ] && sed 's/^/! /' /tmp/diag.txt >"$out"
    [ -n "$memmax" ] && memcg_report | sed 's/^/! /' >"$out"
    say "STATUS $name $status"
    say "END $name"
    rm -f /tmp/serial.log /tmp/qemu.out
done </scenarios.run
say "DONE"
poweroff -f
