#!/usr/bin/env bash
# Boots pvcheck under QEMU TCG through run.sh on every boot path and failure
# path, asserting on run.sh's exit status and on the serial log.
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# boot_case NAME STATUS 'pattern;pattern;...' RUN.SH ARGS...
# Every pattern (grep -E) must match the serial log; a pattern starting
# with '!' must not match.
boot_case() {
    local name=$1 want=$2 patterns=$3
    shift 3
    local log=$tmp/$name.log out=$tmp/$name.out
    ./run.sh --quiet --log "$log" "$@" >"$out" 2>&1
    local status=$? problems=""
    [ "$status" -eq "$want" ] || problems="status $status, want $want;"
    local IFS=';'
    for p in $patterns; do
        if [ "${p#!}" != "$p" ]; then
            grep -Eq -- "${p#!}" "$log" "$out" && problems="$problems log matches '${p#!}';"
        else
            grep -Eq -- "$p" "$log" "$out" || problems="$problems log lacks '$p';"
        fi
    done
    if [ -z "$problems" ]; then
        echo "PASS boot.$name"
    else
        echo "FAIL boot.$name: $problems"
        sed 's/^/    | /' "$log" "$out" | tail -25
    fi
}

# The boot cases run two at a time (tests/tools/in_turn.sh), each with its
# own log; their results are printed, in order, before the checks that read
# every log.
. tests/tools/in_turn.sh
in_turn_start "$tmp/turns"

no_kvm='# SKIP no KVM signature in any hypervisor CPUID block'
tcg_cpuid="TCGTCGTCGTCG;ok 1 cpuid;kvm_features # SKIP no KVMKVMKVM;ok 2 kvmclock $no_kvm;ok 3 steal_time $no_kvm;ok 4 pv_enforce $no_kvm;ok 5 smp$;ok 1 every_clock # SKIP 0 clocks computed from KVM's master clock offered;ok 1 async_pf $no_kvm;^# pvcheck: 3 passed, 0 failed, [0-9]+ skipped"

exit_costs='^# exit_costs tsc_cycles: register_loop_iteration=[0-9]+ memory_read=[0-9]+ cpuid=[1-9][0-9]* rdtsc=[1-9][0-9]* rdmsr_kvm_system_time=0 out_port_0x80=[1-9][0-9]* irq_to_after_hlt=[1-9][0-9]*$'
in_turn boot_case kernel_max 0 "boot=multiboot1 loader=qemu firmware=-;acpi: rsdp=0x[0-9a-f]+ from=bios-scan$;$tcg_cpuid;$exit_costs;!instructions appear to be emulated" --accel tcg --cpu max
in_turn boot_case kernel_qemu64 0 "$tcg_cpuid" --accel tcg --cpu qemu64
in_turn boot_case kernel_smp1 0 "$tcg_cpuid" --accel tcg --smp 1
in_turn boot_case kernel_smp4 0 "$tcg_cpuid" --accel tcg --smp 4
for n in 1 2 4 8; do
    in_turn boot_case smp$n 0 "madt_cpus=$n online=$n failed=0;ok 1 bringup;ok 2 kvmclock_each_vcpu # SKIP no KVM" --accel tcg --smp $n
done
in_turn boot_case smp8_pvh 0 "boot=pvh;madt_cpus=8 online=8 failed=0" --accel tcg --smp 8 --image build/pvcheck-pvh.elf
in_turn boot_case smp8_iso 0 "loader=GRUB;madt_cpus=8 online=8 failed=0" --accel tcg --smp 8 --iso
in_turn boot_case smp64 0 "madt_cpus=64 online=64 failed=0" --accel tcg --smp 64 --append "only=smp.bringup"
in_turn boot_case smp66 0 "madt_cpus=66 online=64 failed=0 not_used=2" --accel tcg --smp 66 --append "only=smp.bringup"
in_turn boot_case pvh 0 "boot=pvh;acpi: rsdp=0x[0-9a-f]+ from=pvh$;$tcg_cpuid" --accel tcg --image build/pvcheck-pvh.elf
in_turn boot_case iso_multiboot 0 "boot=multiboot1 loader=GRUB;$tcg_cpuid" --accel tcg --iso
in_turn boot_case iso_multiboot2 0 "boot=multiboot2 loader=GRUB.* firmware=-;acpi: rsdp=0x[0-9a-f]+ from=multiboot2$;$tcg_cpuid" --accel tcg --iso-multiboot2
# UEFI (OVMF, GRUB's EFI image, multiboot2): ACPI from the tags, never the BIOS areas.
uefi='boot=multiboot2 loader=GRUB.* firmware=uefi$;acpi: rsdp=0x[0-9a-f]+ from=multiboot2$'
in_turn boot_case uefi_smp1 0 "$uefi;$tcg_cpuid;madt_cpus=1 online=1 failed=0" --accel tcg --uefi
in_turn boot_case uefi_smp4 0 "$uefi;$tcg_cpuid;madt_cpus=4 online=4 failed=0" --accel tcg --uefi --smp 4

# QEMU's microvm, the shape minimal VMMs give: each way to a tick, named in
# the log with the rate reference, and every suite reported. With no HPET,
# PM timer or port 0x61 the APIC timer ticks and the PIT's channel 0, polled,
# is the reference; tick=pit takes the PIT's interrupt instead (its firmware
# leaves LINT0 masked; its MADT has no override for IRQ0, which QEMU's IOAPIC
# takes at pin 2) and leaves the CMOS clock as the reference. Without ACPI,
# qboot's MP table lists the vCPUs and routes IRQ0; without a PIT the CMOS
# clock's seconds edges time the TSC and are the reference.
lint0='tick: pit \(IRQ0 through the 8259, once the APIC.s LINT0 was set to ExtINT'
pit_ref='^# reference: pit_ticks hz=100 \(rate checks skip: pit_ticks count the PIT.s interrupts, which a host may delay, merge or drop'
in_turn boot_case microvm 0 "tick: the APIC timer, keeping the PIT.s channel 0 \(if any\) as the rate reference: no HPET, PM timer or port 0x61;^# reference: pit_channel0 hz=1193182$;madt_cpus=1 online=1 failed=0 not_used=0 apic_mode=[a-z0-9]+ cpus_from=madt;$tcg_cpuid" --accel tcg --machine microvm
in_turn boot_case microvm_pvh 0 "boot=pvh;^# reference: pit_channel0 hz=1193182$;$tcg_cpuid" --accel tcg --image build/pvcheck-pvh.elf --machine microvm
in_turn boot_case microvm_tick_pit 0 "$lint0;^# reference: cmos_rtc hz=1$;$tcg_cpuid" --accel tcg --machine microvm --append "tick=pit"
in_turn boot_case microvm_smp2 0 "madt_cpus=2 online=2 failed=0;$tcg_cpuid" --accel tcg --smp 2 --machine microvm
in_turn boot_case microvm_no_pic 0 "tick: pit_ioapic \(IRQ0 at GSI 2: nothing came where the MADT says;^# reference: cmos_rtc hz=1$;$tcg_cpuid" --accel tcg --machine microvm,pic=off --append "tick=pit"
in_turn boot_case microvm_no_acpi_smp2 0 "acpi: rsdp=0x0 from=none;^# reference: pit_channel0 hz=1193182$;madt_cpus=2 online=2 failed=0 not_used=0 apic_mode=[a-z0-9]+ cpus_from=mp_table;entry count is not the number of entries;$tcg_cpuid" --accel tcg --smp 2 --machine microvm,acpi=off
in_turn boot_case microvm_no_acpi_no_pic 0 "tick: pit_ioapic \(IRQ0 through the IOAPIC, where the firmware.s MADT or MP table says\);^# reference: cmos_rtc hz=1$;$tcg_cpuid" --accel tcg --machine microvm,acpi=off,pic=off --append "tick=pit"
in_turn boot_case microvm_no_pit 0 "pit_channel0: its OUT was high right after a count was loaded: no PIT;TSC rate measured: tsc_khz=[0-9]+ against cmos_rtc over 1000000000 ns;^# reference: cmos_rtc hz=1$;$tcg_cpuid" --accel tcg --machine microvm,pic=off,pit=off
in_turn boot_case microvm_no_rtc 0 "$lint0;$pit_ref;$tcg_cpuid" --accel tcg --machine microvm,rtc=off --append "tick=pit"
in_turn boot_case microvm_no_rtc_auto 0 "^# reference: pit_channel0 hz=1193182$;$tcg_cpuid" --accel tcg --machine microvm,rtc=off
# With no PIT, no CMOS clock, no CPUID leaf for the TSC's rate and no
# hypervisor clock (TCG has none), nothing times anything: checks are bounded
# by time, so every one is reported skipped, and the log says what was tried.
nothing='pit_channel0: its OUT was high right after a count was loaded: no PIT;tick: cmos_rtc: no CMOS clock;^# tick: none: no clock of known rate: no CPUID leaf, PIT, CMOS clock or hypervisor clock gives the TSC.s \(no Hyper-V; no kvmclock\);^# reference: none;ok 11 pv_msrs # SKIP no clock of known rate;^# pvcheck: 0 passed, 0 failed, [0-9]+ skipped'
in_turn boot_case microvm_nothing 0 "$nothing" --accel tcg --machine microvm,acpi=off,pic=off,pit=off,rtc=off
in_turn boot_case microvm_legacy_off 0 "acpi: rsdp=0x[0-9a-f]+;$nothing" --accel tcg --machine microvm,pic=off,pit=off,rtc=off
# tick=measured: the APIC timer on a PC, the TSC's rate measured against the
# PIT counted down (its OUT read back) whatever CPUID says; the HPET stays the
# reference. q35 keeps the PC's tick and reference.
in_turn boot_case tick_measured 0 "tick: the APIC timer, as tick=measured asks;TSC rate measured: tsc_khz=[0-9]+ against pit_channel0 over 4999[0-9]{4} ns, uncertainty_ppm=[0-9]+;^# reference: hpet;$tcg_cpuid" --accel tcg --append "tick=measured"
in_turn boot_case q35 0 "^# tick: pit \(IRQ0 through the 8259\)$;^# reference: hpet;$tcg_cpuid" --accel tcg --machine q35
# Without an HPET or PM timer a PIT channel, polled, is the rate reference:
# channel 2 where port 0x61 raises its gate (a PC's speaker port), channel 0
# where the tick is the APIC timer's: on microvm (no port 0x61) the tick
# leaves channel 0 to the reference unless tick=pit asks for it (above).
in_turn boot_case pc_pit_reference 0 "^# tick: pit \(IRQ0 through the 8259\)$;^# reference: pit_channel2 hz=1193182$;$tcg_cpuid" --accel tcg --machine pc,hpet=off,acpi=off

# The guest's own TSC writes (tsc_writes): QEMU TCG breaks both of the SDM's
# rules pvcheck checks, a real implementation failing them: it answers MSR
# 0x3b without advertising it, and a write to IA32_TSC does not move the TSC
# (on the second vCPU too).
in_turn boot_case tsc_writes_tcg 1 "FAIL: IA32_TSC_ADJUST is not advertised, yet rdmsr\(0x3b\) gave -1;not ok 1 adjust_msr;FAIL: forward: wrote [0-9]+ to IA32_TSC, then read;not ok 2 tsc_write;FAIL: vCPU 1, IA32_TSC forward;not ok 4 each_vcpu;ok 5 kvmclock_across # SKIP no KVM;ok 6 clocks_across # SKIP no Hyper-V reference page or counter, no Xen time;ok 7 stable_bit # SKIP no KVM" --accel tcg --smp 2 --append "tsc_writes only=tsc"


# An emulating hypervisor, made with TCG's icount (each instruction 2^10 ns of
# the guest's time, about what PVM's KVM charges): the exit-cost line says
# so, and the run still reaches its verdict with every suite reported.
in_turn boot_case emulated_instructions 0 "instructions appear to be emulated one by one;ok 5 smp$;madt_cpus=2 online=2 failed=0;^# pvcheck: 3 passed, 0 failed" \
    --accel tcg --smp 2 -- -icount shift=10

# The command line arrives through every protocol.
only='cmdline: only=cpuid.hypervisor_bit verbose wallclock=[0-9]+$;ok 1 hypervisor_bit$;ok 2 hypervisor_blocks # SKIP not selected by only=;ok 1 registration # SKIP not selected by only=;^# pvcheck: 1 passed, 0 failed, [0-9]+ skipped'
in_turn boot_case cmdline_kernel 0 "$only" --accel tcg --append "only=cpuid.hypervisor_bit verbose"
in_turn boot_case cmdline_pvh 0 "$only" --accel tcg --image build/pvcheck-pvh.elf --append "only=cpuid.hypervisor_bit verbose"
in_turn boot_case cmdline_iso 0 "$only" --accel tcg --iso --append "only=cpuid.hypervisor_bit verbose"
in_turn boot_case cmdline_iso2 0 "$only" --accel tcg --iso-multiboot2 --append "only=cpuid.hypervisor_bit verbose"
in_turn boot_case skip_suite 0 'ok 1 cpuid # SKIP every check skipped;^# pvcheck: 1 passed, 0 failed, [0-9]+ skipped' --accel tcg --append "skip=cpuid"

# Bad options: guest-error exit, the problem named, the valid options listed.
# The plan is printed and closed, every suite an error, so parsers see no gap.
refused='^1\.\.[0-9]+$;^not ok 1 cpuid # ERROR not run: bad command line$;^not ok [0-9]+ smp # ERROR not run: bad command line$;Bail out! bad command line;!^# pvcheck:'
in_turn boot_case bad_option 2 "option 'bogus': unknown option;valid options: only=;$refused" --accel tcg --append "bogus"
in_turn boot_case bad_value 2 "option 'check_timeout=ten': not a whole number;Bail out! bad command line" --accel tcg --append "check_timeout=ten"
in_turn boot_case bad_name 2 "only=: no suite or check named 'nosuch'; suites: cpuid;$refused" --accel tcg --append "only=nosuch"
in_turn boot_case bad_name_pvh 2 "Bail out! bad command line" --accel tcg --image build/pvcheck-pvh.elf --append "skip=cpuid.nosuch"

in_turn boot_case new_options 0 "cmdline: host_loaded expect_pv_enforce rate_window_ms=50 halt_ms=20 wallclock=1795000000$" --accel tcg --append "host_loaded expect_pv_enforce rate_window_ms=50 halt_ms=20 wallclock=1795000000"
in_turn boot_case wallclock_added 0 "cmdline: verbose wallclock=[0-9]{10}$" --accel tcg --append "verbose"
in_turn boot_case bad_wallclock 2 "option 'wallclock=12': not a Unix time" --accel tcg --append "wallclock=12"

# The crash path, the guest watchdog, and the host timeout.
# selftest runs first: after its crash every other suite is closed as not run.
closed='^not ok 1 selftest$;^not ok 2 cpuid # SKIP not run: guest bailed out$;^not ok [0-9]+ smp # SKIP not run: guest bailed out$;!^# pvcheck:'
in_turn boot_case fault 2 "exception: vector 6 \(#UD\).*during selftest.trigger;# rip=0x[0-9a-f]{16} .* cr2=;# rax=;^    not ok 1 trigger # ERROR exception$;Bail out! unexpected exception #UD;$closed" --accel tcg --append "selftest=fault"
in_turn boot_case fault_iso 2 "^    not ok 1 trigger # ERROR exception$;$closed;Bail out!" --accel tcg --iso --append "selftest=fault"
in_turn boot_case ap_fault 2 "exception: vector 6 \(#UD\).* on cpu 1 during selftest.trigger;^    not ok 1 trigger # ERROR exception$;$closed;Bail out! .* on cpu 1" --accel tcg --smp 2 --append "selftest=ap_fault"
in_turn boot_case ap_hang 1 'vCPU 1 \(APIC ID 1\) did not finish within 1000 ms: inside its job, [0-9]+ wake-up IPIs taken; one more IPI: still late;not ok 1 trigger' --accel tcg --smp 2 --append "selftest=ap_hang only=selftest"
# A late vCPU is told apart: halted with its job waiting, started by one more IPI.
in_turn boot_case ap_no_ipi 1 'vCPU 1 \(APIC ID 1\) did not finish within 1000 ms: halted, 0 wake-up IPIs taken; one more IPI: job done;not ok 1 trigger' --accel tcg --smp 2 --append "selftest=ap_no_ipi only=selftest"
# An instruction the hypervisor re-enters forever is ended after 1 s of ticks, not by the watchdog.
in_turn boot_case stuck 1 '# FAIL: ud2 ended with vector 256$;^    not ok 1 trigger$;!Bail out' --accel tcg --append "selftest=stuck only=selftest"
in_turn boot_case watchdog 2 "^    not ok 1 trigger # TIMEOUT$;$closed;Bail out! the check did not finish within 1 s \(watchdog\)" --accel tcg --append "selftest=hang check_timeout=1"
in_turn boot_case run_watchdog 2 "^    not ok 1 trigger # TIMEOUT$;$closed;Bail out! the run did not finish within 1 s \(watchdog\)" --accel tcg --append "selftest=hang run_timeout=1"
in_turn boot_case host_timeout 2 'QEMU timed out after 2s;spinning with interrupts disabled' --accel tcg --timeout 2 --append "selftest=hang_cli"

# Time across a live migration and a snapshot restored in a new QEMU, driven
# through QMP by run.sh: under TCG there is no kvmclock, so the guest finds the
# event by the CMOS clock's seconds against its reference clock. A run whose
# host never migrates fails; a guest that never reaches the suite is run.sh's error.
# run.sh sets the guest's wait to half its time limit (120 s at most) unless
# the guest options set it.
migrated='signal=cmos_edges unaccounted_ns=[1-9];ok 1 event;ok 2 monotonic;ok 3 step;ok 4 tsc;ok 5 areas # SKIP no kvmclock or steal area;^# pvcheck: 4 passed, 0 failed'
in_turn boot_case migrate_live 0 "$migrated;wait_s=120\);live migration completed: downtime_ms=[0-9]+" --accel tcg --migrate --append "only=migration"
in_turn boot_case migrate_snapshot 0 "$migrated;wait_s=50\);snapshot restored in a new QEMU: stopped_ms=[0-9]+" --accel tcg --snapshot --timeout 100 --append "only=migration"
in_turn boot_case migrate_pause 0 "$migrated;wait_s=7\);stopped and continued in the same QEMU: stopped_ms=[0-9]+" --accel tcg --pause --timeout 100 --append "only=migration migration_wait_s=7"
in_turn boot_case migrate_iso 0 "$migrated;loader=GRUB" --accel tcg --iso --migrate --append "only=migration"
in_turn boot_case migration_never 1 "no migration, snapshot or stop seen within migration_wait_s=2;not ok 1 event;ok 2 monotonic # SKIP no migration was seen" --accel tcg --append "migration only=migration migration_wait_s=2"
# A vCPU added while the hotplug suite samples: the guest starts it from the
# MADT's absent entry and proves its TSC in step (TCG: no kvmclock). No
# absent entry, or no add within the wait, fails the event.
in_turn boot_case hotplug 0 "hotplug: capture started \(clock=none hv_page=no absent=1 online=1;ok 1 event;ok 2 tsc_in_step;tsc cycles: rounds=20 outside=0;ok 3 kvmclock # SKIP no kvmclock;vCPU added while the VM ran: max-x86_64-cpu;^# pvcheck: 2 passed, 0 failed" --accel tcg --hotplug --append "only=hotplug"
in_turn boot_case hotplug_never 1 "no added vCPU came up within hotplug_wait_s=2;not ok 1 event;ok 2 tsc_in_step # SKIP no vCPU was added" --accel tcg --append "hotplug only=hotplug hotplug_wait_s=2" -- -smp 1,maxcpus=2
in_turn boot_case hotplug_no_slot 1 "MADT lists no absent processor;not ok 1 event" --accel tcg --append "hotplug only=hotplug hotplug_wait_s=2"
in_turn boot_case migrate_no_suite 2 "QEMU ended \(status 3\) before the migration suite started;the live migration itself failed" --accel tcg --migrate --append "only=cpuid"

# Without isa-debug-exit the guest powers off through ACPI (QEMU exits 0) and
# the log alone decides; without ACPI it resets through the keyboard
# controller (QEMU with -no-reboot quits, status 0; Firecracker stops the VM);
# microvm's hardware-reduced ACPI through its sleep control register; with
# none of these (microvm without ACPI) it halts, and run.sh stops it.
# quits_cleanly NAME HOW QEMU_ARGS...: with no isa-debug-exit, QEMU must quit
# with status 0 (through HOW) and run.sh must accept the log.
quits_cleanly() {
    local name=$1 how=$2
    shift 2
    timeout 30 qemu-system-x86_64 -accel tcg -cpu max -m 128M -nodefaults -no-user-config \
        -display none -no-reboot "$@" -serial "file:$tmp/$name.log" -kernel build/pvcheck.elf \
        -append "only=cpuid" 2>/dev/null
    local status=$?
    if [ "$status" -eq 0 ] && ./run.sh --check-log "$tmp/$name.log" --guest-status 0 >/dev/null 2>&1; then
        echo "PASS boot.$name"
    else
        echo "FAIL boot.$name: QEMU status $status (want 0 from $how), log: $(tail -1 "$tmp/$name.log")"
    fi
}
quits_cleanly acpi_poweroff "ACPI S5"
quits_cleanly i8042_reset "the keyboard controller's reset" -machine acpi=off
quits_cleanly acpi_hw_reduced "the hardware-reduced sleep control register" -M microvm
# No way out at all: run.sh stops the halted guest at once, not at its
# timeout, and the log decides.
start=$SECONDS
out=$(./run.sh --accel tcg --quiet --no-debug-exit --machine microvm,acpi=off --timeout 60 \
    --append "only=cpuid" 2>&1)
status=$?
if [ "$status" -eq 0 ] && [ $((SECONDS - start)) -lt 30 ] &&
    grep -q '^run.sh: stopped QEMU: the guest halted after its last line' <<<"$out"; then
    echo "PASS boot.halt_without_exit_device"
else
    echo "FAIL boot.halt_without_exit_device: status $status after $((SECONDS - start))s, output: $(head -c 300 <<<"$out")"
fi
for way in "ACPI power-off (hardware-reduced)" "isa-debug-exit"; do
    case $way in isa*) flag="" name=debug_exit ;; *) flag=--no-debug-exit name=acpi_hw_reduced ;; esac
    out=$(./run.sh --accel tcg --quiet $flag --machine microvm --append "only=cpuid" 2>&1)
    status=$?
    if [ "$status" -eq 0 ] && grep -q "^run.sh: the guest left \(by: \|through \)$way" <<<"$out"; then
        echo "PASS runsh.says_how_left.$name"
    else
        echo "FAIL runsh.says_how_left.$name: status $status, output: $(head -c 300 <<<"$out")"
    fi
done

# No UART at all: the log goes to the debug port 0xe9 (QEMU's isa-debugcon).
timeout 30 qemu-system-x86_64 -accel tcg -cpu max -m 128M -nodefaults -no-user-config \
    -display none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x01 \
    -chardev "file,id=dbg,path=$tmp/e9.log" -device isa-debugcon,iobase=0xe9,chardev=dbg \
    -kernel build/pvcheck.elf -append "only=cpuid" 2>/dev/null
status=$?
if [ "$status" -eq 3 ] && ./run.sh --check-log "$tmp/e9.log" --guest-status 3 >/dev/null 2>&1; then
    echo "PASS boot.debugcon_without_uart"
else
    echo "FAIL boot.debugcon_without_uart: status $status, log: $(head -c 200 "$tmp/e9.log")"
fi

# run.sh's own failure modes.
status_case() {
    local name=$1 want=$2 pattern=$3
    shift 3
    local out
    out=$("$@" 2>&1)
    local status=$?
    if [ "$status" -eq "$want" ] && grep -Eq -- "$pattern" <<<"$out"; then
        echo "PASS runsh.$name"
    else
        echo "FAIL runsh.$name: status $status (want $want), output: $(head -c 300 <<<"$out")"
    fi
}
# The QMP client sends a command and its newline in one write: QEMU acts on
# a quit at its closing brace and closes the socket, and a newline written
# after it failed the snapshot path now and then. strace stalls 300 ms after
# every write, as a preempted client would be; without ptrace it cannot, and
# the case says so.
qmp_quit_one_write() {
    local d=$tmp/qmp_quit out status
    make -s build/host/qmp || { echo "FAIL tools.qmp_quit_one_write: building qmp failed"; return; }
    if ! strace -o /dev/null true 2>/dev/null; then
        echo "SKIP tools.qmp_quit_one_write: strace cannot trace here (no ptrace)"
        return
    fi
    mkdir -p "$d"
    timeout 30 qemu-system-x86_64 -accel tcg -S -nodefaults -display none -m 32 \
        -qmp "unix:$d/q,server=on,wait=off" </dev/null >/dev/null 2>&1 &
    local qemu_pid=$!
    out=$(strace -o /dev/null -e trace=write -e inject=write:delay_exit=300000 \
        build/host/qmp -t 20 "$d/q" '{"execute": "quit"}' 2>&1)
    status=$?
    wait "$qemu_pid"
    if [ "$status" -eq 0 ] && grep -q '^{"return": {}}' <<<"$out"; then
        echo "PASS tools.qmp_quit_one_write"
    else
        echo "FAIL tools.qmp_quit_one_write: status $status, output: $(head -c 300 <<<"$out")"
    fi
}
qmp_quit_one_write

status_case no_qemu 2 "QEMU not found: '/nonexistent/qemu'" ./run.sh --qemu /nonexistent/qemu
status_case unknown_arg 64 "unknown argument '--bogus'" ./run.sh --bogus
status_case bad_smp 64 "--smp must be" ./run.sh --smp 0
status_case bad_timeout 64 "--timeout must be" ./run.sh --timeout x
status_case bad_accel 64 "--accel must be" ./run.sh --accel xen
status_case missing_value 64 "--append needs a value" ./run.sh --append
status_case help 0 "usage: run.sh" ./run.sh -h
status_case machine_iso 64 "microvm has no disk to boot an ISO from" ./run.sh --machine microvm --iso
status_case hotplug_microvm 64 "microvm has none" ./run.sh --machine microvm --hotplug
status_case machine_bad 64 "--machine must be pc, q35 or microvm" ./run.sh --machine "microvm,pic=off;x"
status_case machine_unknown 64 "--machine must be pc, q35 or microvm" ./run.sh --machine isapc
status_case qemu_fails 2 "QEMU failed \(status 1\)" ./run.sh --accel tcg -- -device no-such-device

# A KVM that rejects a CPU model (tests/tools/qemu_rejects_host.sh aborts as
# QEMU does on PVM's KVM for -cpu host and max): without --cpu, run.sh moves
# on to the next model and says which one ran; an explicit --cpu is kept, and
# QEMU's death by a signal is reported with its own message.
standin=tests/tools/qemu_rejects_host.sh
in_turn boot_case cpu_fallback 0 "could not run CPU model 'host' under kvm \(status 134\);failed to set MSR 0x10a;trying CPU model 'host,-arch-capabilities';CPU model: host,-arch-capabilities;^# pvcheck: 2 passed" \
    --accel kvm --qemu "$standin" --append "only=cpuid"
in_turn boot_case cpu_explicit_kept 2 "failed to set MSR 0x10a;QEMU died from SIGABRT \(status 134\) with CPU model 'host'$;!trying CPU model" \
    --accel kvm --cpu host --qemu "$standin" --append "only=cpuid"
PVCHECK_STANDIN_REJECT_ALL=1 boot_case cpu_all_refused 2 "trying CPU model 'host,-arch-capabilities';trying CPU model 'max';QEMU died from SIGABRT \(status 134\) with CPU model 'max'$" \
    --accel kvm --qemu "$standin" --append "only=cpuid"
status_case cpu_tcg_no_fallback 2 "QEMU died from SIGABRT" \
    env PVCHECK_STANDIN_REJECT_ALL=1 ./run.sh --quiet --accel tcg --qemu "$standin" --append "only=cpuid"

# The log checker on recorded and hand-broken logs (tests/logs).
for f in tests/logs/*.log; do
    base=$(basename "$f" .log)
    want=${base%%_*}
    want=${want#status}
    status_case "log_$base" "$want" "" ./run.sh --check-log "$f"
done

in_turn_finish
# Xen's console splits a guest's line at 199 characters (DOMAIN_PBUF_SIZE),
# which breaks the KTAP contract: no line pvcheck printed in any boot of this file
# may come near that.
long=$(cat "$tmp"/*.log | tr -d '\r' | awk 'length($0) > 190 { print length($0) ": " substr($0, 1, 80); exit }')
if [ -z "$long" ]; then
    echo "PASS boot.line_length"
else
    echo "FAIL boot.line_length: a line over 190 characters: $long"
fi

# Mutants of a complete log: every truncation before its summary line, every
# deleted result line and every check flipped to "not ok" must be rejected
# (status 2), never judged.
mutant_case() {
    local src=$1 n bad=0 total=0 i
    # rejected DESCRIPTION: the mutant in $tmp/mutant.log must get status 2.
    rejected() {
        total=$((total + 1))
        ./run.sh --check-log "$tmp/mutant.log" >/dev/null 2>&1
        [ $? -eq 2 ] || { bad=$((bad + 1)); echo "    | $1: accepted"; }
    }
    # Cut anywhere before the summary line; the "# leaving:" lines after it
    # are the guest's way out, not part of the verdict.
    n=$(grep -n '^# pvcheck: [0-9]* passed' "$src" | cut -d: -f1)
    for ((i = 1; i < ${n:-0}; i++)); do
        head -n "$i" "$src" >"$tmp/mutant.log"
        rejected "truncated to $i lines"
    done
    for i in $(grep -n -E '^ *(not )?ok [0-9]' "$src" | cut -d: -f1); do
        sed "${i}d" "$src" >"$tmp/mutant.log"
        rejected "line $i deleted"
    done
    for i in $(grep -n -E '^    ok [0-9]+ [a-z0-9_]+$' "$src" | cut -d: -f1); do
        sed "${i}s/^    ok /    not ok /" "$src" >"$tmp/mutant.log"
        rejected "line $i flipped to not ok"
    done
    if [ "$bad" -eq 0 ] && [ "$total" -gt 0 ]; then
        echo "PASS logcheck.mutants_$(basename "$src" .log): $total mutants rejected"
    else
        echo "FAIL logcheck.mutants_$(basename "$src" .log): $bad of $total mutants accepted"
    fi
}
mutant_case tests/logs/status0_tcg_pass.log
mutant_case "$tmp/smp4.log"
