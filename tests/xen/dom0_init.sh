#!/bin/sh
# /init of the Linux dom0 under Xen: start the Xen tools, then run every
# scenario listed in /scenarios.run ("name|load|pin|timeout|migrate|memory_max|xl
# settings|guest options"; migrate is always empty here) as a PVH domU (or an
# HVM one: the xl settings come last, and xl keeps a setting's last value),
# and write each guest's log to ttyS1 between markers.
# The guest logs through port 0xe9, which Xen prints as "(dN) line"; only that
# domain's lines are kept, prefixed with "| " so that no guest output can fake
# a marker.
# The Xen tools' folder is named by Xen's version (4.17 or 4.20).
export PATH=/bin:/sbin:/usr/bin:$(echo /usr/lib/xen-*/bin | tr ' ' :)
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /dev/pts /var/lock /var/lib/xen /var/lib/xenstored /var/log/xen /run/xen /run/xenstored
mount -t devpts devpts /dev/pts
ln -s /run /var/run
out=/dev/ttyS1
# dom0's own console is hvc0; ttyS1 is the second UART, passed through by Xen
# only when Xen does not own it: fall back to hvc0 with the same markers.
[ -w "$out" ] && echo >"$out" 2>/dev/null || out=/dev/hvc0

. /busy_loops.sh

say() { echo "@@@ $*" >"$out"; }

for m in xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc; do
    insmod /modules/$m.ko 2>/tmp/insmod.err ||
        say "MODULE $m failed: $(cat /tmp/insmod.err)"
done
mount -t xenfs xenfs /proc/xen || say "xenfs mount failed"
xenstored --pid-file /run/xenstored.pid || say "xenstored failed"
xenconsoled --pid-file /run/xenconsoled.pid || say "xenconsoled failed"
xen-init-dom0 >/tmp/init-dom0.log 2>&1 || say "xen-init-dom0 failed: $(tail -1 /tmp/init-dom0.log)"
if xl info >/tmp/xlinfo 2>&1; then
    say "XEN ready $(grep -E '^(xen_version|nr_cpus)' /tmp/xlinfo | tr -s ' ' | tr '\n' ' ')"
else
    say "XEN missing: $(tail -1 /tmp/xlinfo)"
fi

# xl exits 1 for a domain that is gone; a crashed xl (seen under load:
# "Segmentation fault") says nothing, so the domain counts as alive.
alive() {
    xl domid "$1" >/dev/null 2>&1
    rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]
}

# The domain's id, asking again while xl crashes (at most 10 times).
domid_of() {
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        id=$(xl domid "$1" 2>/dev/null)
        case "$id" in
        '' | *[!0-9]*) sleep 1 ;;
        *) echo "$id"; return ;;
        esac
    done
    echo unknown
}

# What a RETRY shows of the paused domain that never started pvcheck.
retry_record() {
    xenctx -a "$domid" 0 | sed 's/^/state /'
    local look
    for look in 1 2 3; do
        xl unpause "$1"
        sleep 1
        xl pause "$1"
        echo "state look $look: $(xenctx "$domid" 0 | grep -E '^ *(rip|cs:eip|flags):' | tr -s ' \t\n' ' ')"
    done
    firmware_tail
}
# Whether the domain's console has pvcheck's first line yet.
first_line_seen() { xl dmesg 2>/dev/null | grep -q "(d$domid) KTAP version 1"; }
firmware_tail() {
    xl dmesg | sed -n "s/^(XEN) *(d$domid) \{0,1\}//p; s/^(d$domid) \{0,1\}//p" | tail -n 60 |
        sed 's/^/firmware /'
}

# run_domu DOM FIRST_S: creates the domain of /tmp/DOM.cfg and waits for it
# to end, for $limit seconds of real time (under load one "xl domid" can take
# seconds: a count of rounds let the harness's silence limit come first).
# Sets domid and status: 0 it ended, 137 destroyed at the limit, 126 not
# created, 125 destroyed FIRST_S seconds in because pvcheck had not printed
# its first line, or ended before printing it (retry_regs: where its vCPU
# was, or when it ended; /tmp/retry.out: its registers, three looks at its
# RIP a second apart, and the guest's last console lines, hvmloader's and
# SeaBIOS's); FIRST_S 0: no such check.
run_domu() {
    local dom=$1 first=$2 started now
    xl dmesg -c >/dev/null
    # Created paused, so that its id is known before it can run and be gone.
    if ! xl create -p /tmp/$dom.cfg >>/tmp/xl.out 2>&1; then
        domid=none status=126
        return
    fi
    domid=$(domid_of "$dom")
    xl unpause "$dom" >>/tmp/xl.out 2>&1
    started=$(date +%s)
    status=0
    while alive "$dom"; do
        sleep 1
        now=$(($(date +%s) - started))
        if [ "$first" -gt 0 ] && [ "$now" -ge "$first" ]; then
            first=0
            if ! first_line_seen; then
                xl pause "$dom"
                retry_regs="no first line after ${now}s: $(xenctx "$domid" 0 2>&1 |
                    grep -E '^ *(rip|cs:eip|flags|cr0):' | tr -s ' \t\n' ' ')"
                retry_record "$dom" >/tmp/retry.out 2>&1
                xl destroy "$dom" 2>/dev/null
                status=125
                return
            fi
        fi
        if [ "$now" -ge "$limit" ]; then
            # Evidence for the judge: alive by xl's answer, or by its crash?
            { echo "timeout: last 'xl domid' status $rc; xl list:"
              xl list 2>&1
              # Where each vCPU of a hung guest was.
              xl pause "$dom" && xenctx -a "$domid" 0 2>&1 | head -40; } >>/tmp/xl.out
            xl destroy "$dom" 2>/dev/null
            status=137
            return
        fi
    done
    # Gone before its first line and before the deadline: it never started
    # either (a firmware gone astray can crash the domain as well as loop).
    if [ "$first" -gt 0 ] && ! first_line_seen; then
        retry_regs="ended ${now:-0}s in, before its first line"
        firmware_tail >/tmp/retry.out 2>&1
        xl destroy "$dom" 2>/dev/null # should xl only have failed to see it
        status=125
    fi
}

n=0
while IFS='|' read -r name load pin limit _migrate _memmax xlset gopts; do
    [ -n "$name" ] || continue
    n=$((n + 1))
    # Xen sees dom0's vCPUs busy whatever the loops' nice level inside dom0;
    # at 19 they leave dom0's own tools (xl, xenstored) the CPU they need
    # (at 0, xl starved or crashed and the domain's log was lost).
    start_loops "$load" "$pin" 19
    dom="pv$n"
    {
        echo "name=\"$dom\""
        echo 'type="pvh"'
        echo 'kernel="/pvcheck.elf"'
        echo "cmdline=\"$gopts wallclock=$(date +%s)\""
        echo 'memory=32'
        echo 'on_poweroff="destroy"'
        echo 'on_crash="destroy"'
        echo 'on_reboot="destroy"'
        echo "$xlset" | tr ';' '\n'
    } >/tmp/$dom.cfg
    say "BEGIN $name"
    : >/tmp/xl.out
    # A boot whose guest has not printed pvcheck's first line a quarter of
    # its limit in never ran a check (an HVM guest was seen looping in
    # SeaBIOS for its whole limit): said with its registers as "@@@ RETRY"
    # and booted once more; that boot runs to its end or its limit.
    run_domu "$dom" $((limit / 4))
    if [ "$status" = 125 ]; then
        say "RETRY $name $retry_regs"
        sed 's/^/! /' /tmp/retry.out >"$out"
        : >/tmp/xl.out
        sed -i "s/wallclock=[0-9]*/wallclock=$(date +%s)/" /tmp/$dom.cfg
        run_domu "$dom" 0
    fi
    say "LOAD $name $(loops_running) of ${load:-0}"
    stop_loops
    # xl itself has crashed here after a loaded run, cutting the domain's
    # log short: read Xen's ring into a file until xl exits 0, and say so.
    for try in 1 2 3 4 5; do
        xl dmesg >/tmp/dmesg.out 2>>/tmp/xl.out && break
        echo "xl dmesg exited $? (try $try)" >>/tmp/xl.out
        sleep 1
    done
    sed -n "s/^(XEN) *(d$domid) \{0,1\}//p; s/^(d$domid) \{0,1\}//p" /tmp/dmesg.out |
        sed 's/^/| /' >"$out"
    sed 's/^/! /' /tmp/xl.out >"$out"
    # An HVM guest's device model (QEMU in dom0) logs apart.
    [ -r "/var/log/xen/qemu-dm-$dom.log" ] && sed 's/^/! dm: /' "/var/log/xen/qemu-dm-$dom.log" >"$out"
    say "STATUS $name $status"
    say "END $name"
done </scenarios.run
say "DONE"
xl dmesg | tail -40 | sed 's/^/@@@ XEN /' >"$out"
poweroff -f
