#!/usr/bin/env bash
# Runs pvcheck on the real Linux KVM without /dev/kvm on this machine: QEMU
# TCG (-cpu max emulates AMD SVM with nested paging) boots Debian's Linux,
# which loads kvm-amd and runs every scenario of tests/kvm/scenarios.txt with
# qemu -enable-kvm. Then each inner serial log is judged against the
# scenario's expected verdicts.
#
# With --hypervisor xen the outer system is Debian's Xen 4.17 (or, with
# --outer 4.20, trixie's Xen 4.20 and its tools on trixie's libraries) with
# that Linux as PV dom0, and each scenario is a PVH domU created with xl
# (tests/xen/scenarios.txt, tests/xen/dom0_init.sh).
#
# With --outer 6.12 the outer system is Debian 12's backported Linux 6.12
# (CONFIG_KVM_XEN) with the backported QEMU 10.0 inside, fetched through a
# private apt state in build/kvm/bookworm-backports (the machine's own apt
# sources are not touched); --outer 7.3 is trixie-backports' Linux 7.3 with
# its QEMU 11.1, which runs on trixie's libraries, unpacked beside it, under
# trixie's loader (build/kvm/trixie); --outer 6.1 (the default) is Debian 12's
# Linux and this machine's QEMU.
#
#   harness.sh [--hypervisor kvm|xen] [--outer 6.1|6.12|7.3|4.17|4.20] [--emulator system|10.0] [--scenarios FILE] [--only NAME[,NAME...]] [--keep DIR]
#   harness.sh [--hypervisor kvm|xen] --judge RESULTS [--scenarios FILE]
#
# Prints "PASS kvm.NAME" (or xen.NAME) or "FAIL ...: why" per scenario and a
# last line "N passed, N failed". Downloads are cached in build/kvm (never
# committed).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=$top/build/kvm
scenarios=""
hv=kvm outer=6.1
judge_only="" only="" keep=""
outer_timeout=${PVCHECK_OUTER_TIMEOUT:-900}
inner_timeout=${PVCHECK_INNER_TIMEOUT:-120}
stall_limit=${PVCHECK_STALL_LIMIT:-$((inner_timeout + 60))}
# Multi-threaded TCG is faster, but has hung the outer Linux (soft lockups on
# both vCPUs while a nested guest ran); PVCHECK_OUTER_TCG_THREADS=multi opts in.
outer_tcg_threads=${PVCHECK_OUTER_TCG_THREADS:-single}
# The QEMU that emulates the outer machine: "10.0" (bookworm-backports', which
# runs on this machine's libraries with its own modules), "11.1" (trixie-
# backports', run with trixie's loader and libraries) or "system" (this
# machine's, 7.2 on Debian 12, whose TCG drops a nested guest's interrupt
# shadow at VMRUN: the rig_sti_shadow scenario fails under it).
emulator=${PVCHECK_OUTER_EMULATOR:-10.0}
# The host CPUs the outer QEMU may run on (taskset's list), so that two outer
# systems side by side keep a core each; empty: wherever the kernel puts it.
outer_cpus=${PVCHECK_OUTER_CPUS:-}
[[ -z "$outer_cpus" || "$outer_cpus" =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] ||
    { echo "harness: PVCHECK_OUTER_CPUS must be a CPU list such as 0 or 0-1, not '$outer_cpus'" >&2; exit 64; }

die() {
    echo "harness: error: $*" >&2
    echo "0 passed, 1 failed"
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --hypervisor) hv=$2; shift 2 ;;
    --outer) outer=$2; shift 2 ;;
    --emulator) emulator=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --judge) judge_only=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "harness: unknown argument '$1'" >&2; exit 64 ;;
    esac
done
case "$hv" in
kvm | xen) ;;
*) echo "harness: --hypervisor must be kvm or xen" >&2; exit 64 ;;
esac
# For Xen, --outer names Xen's version (its dom0 is Debian 12's Linux 6.1).
xen_version=""
case "$hv:$outer" in
xen:6.1 | xen:4.17) label=xen outer=4.17 xen_version=4.17 ;;
xen:4.20) label=xen420 xen_version=4.20 ;;
kvm:6.1) label=$hv ;;
kvm:6.12) label=kvm612 ;;
kvm:7.3) label=kvm73 ;;
*) echo "harness: --outer must be 6.1, 6.12 or 7.3 with --hypervisor kvm, 4.17 or 4.20 with xen" >&2; exit 64 ;;
esac
case "$emulator" in
system | 10.0 | 11.1) ;;
*) echo "harness: --emulator must be system, 10.0 or 11.1" >&2; exit 64 ;;
esac
[ -n "$scenarios" ] || scenarios=$top/tests/$hv/scenarios.txt
# Xen emulates RDTSC under TCG: its scenarios run several times longer.
if [ "$hv" = xen ] && [ -z "${PVCHECK_INNER_TIMEOUT:-}" ]; then
    inner_timeout=300
    stall_limit=${PVCHECK_STALL_LIMIT:-$((inner_timeout + 60))}
fi
[ -r "$scenarios" ] || die "cannot read scenario file '$scenarios'"

# --- the scenario file -------------------------------------------------------
# Parsed into parallel arrays indexed by scenario number.
names=() qargs=() appends=() loads=() pins=() rules=() outers=() migrates=()
parse_scenarios() {
    local n=-1 lineno=0 line key value
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        line=${line%%$'\r'}
        [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
        if [[ "$line" =~ ^\[([A-Za-z0-9_]+)\]$ ]]; then
            n=$((n + 1))
            names[n]=${BASH_REMATCH[1]} qargs[n]="" appends[n]="" loads[n]=0 pins[n]="" rules[n]=""
            outers[n]="" migrates[n]="" memmaxes[n]="" manuals[n]=""
            continue
        fi
        [ "$n" -ge 0 ] || die "$scenarios:$lineno: text before the first [scenario]"
        if [[ "$line" =~ ^outer[[:space:]]*=[[:space:]]*([0-9.]+([[:space:]]+[0-9.]+)*)$ ]]; then
            outers[n]=" ${BASH_REMATCH[1]} "
        elif [[ "$line" =~ ^migrate[[:space:]]*=[[:space:]]*(live|snapshot|pause|hotplug)$ ]]; then
            [ "$hv" = kvm ] || die "$scenarios:$lineno: migrate is for the KVM harness"
            migrates[n]=${BASH_REMATCH[1]}
        elif [[ "$line" =~ ^manual[[:space:]]*=[[:space:]]*yes$ ]]; then
            manuals[n]=1
        elif [[ "$line" =~ ^memory_max[[:space:]]*=[[:space:]]*([0-9]+[KMG])$ ]]; then
            [ "$hv" = kvm ] || die "$scenarios:$lineno: memory_max is for the KVM harness"
            memmaxes[n]=${BASH_REMATCH[1]}
        elif [[ "$line" =~ ^(qemu|xl|append|load|pin)[[:space:]]*=[[:space:]]*(.*)$ ]]; then
            key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
            [[ "$value" != *'|'* ]] || die "$scenarios:$lineno: '|' is not allowed"
            case "$key" in
            qemu | xl) qargs[n]=$value ;;
            append) appends[n]=$value ;;
            load) [[ "$value" =~ ^[0-9]+$ ]] || die "$scenarios:$lineno: load must be a number"
                loads[n]=$value ;;
            pin) [[ "$value" =~ ^[0-9]+$ ]] || die "$scenarios:$lineno: pin must be a CPU number"
                pins[n]=$value ;;
            esac
        elif [[ "$line" =~ ^expect(@([0-9.]+))?[[:space:]]+([A-Za-z0-9_.]+|[A-Za-z0-9_]+\.\*)[[:space:]]*=[[:space:]]*(pass|fail|skip)$ ]]; then
            # expect@OUTER: on that outer system only, over the plain one.
            if [ -z "${BASH_REMATCH[2]}" ]; then
                rules[n]+="E ${BASH_REMATCH[3]} ${BASH_REMATCH[4]}"$'\n'
            elif [ "${BASH_REMATCH[2]}" = "$outer" ]; then
                rules[n]+="O ${BASH_REMATCH[3]} ${BASH_REMATCH[4]}"$'\n'
            fi
        elif [[ "$line" =~ ^known(@([0-9.]+))?[[:space:]]+([A-Za-z0-9_.]+|[A-Za-z0-9_]+\.\*)[[:space:]]+~[[:space:]]+(.+)$ ]]; then
            if [ -z "${BASH_REMATCH[2]}" ] || [ "${BASH_REMATCH[2]}" = "$outer" ]; then
                rules[n]+="K ${BASH_REMATCH[3]} ${BASH_REMATCH[4]}"$'\n'
            fi
        elif [[ "$line" =~ ^log[[:space:]]+(~|!~)[[:space:]]+(.+)$ ]]; then
            rules[n]+="L ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"$'\n'
        else
            die "$scenarios:$lineno: cannot parse '$line'"
        fi
    done <"$scenarios"
    [ "${#names[@]}" -gt 0 ] || die "no scenarios in $scenarios"
}

# Runs on this outer system (its "outer =" list, or every one) and --only. A
# manual scenario runs only when --only names it, and is judged only where
# the capture holds it.
# --only takes one name or several, comma-separated.
named_by_only() { [[ ",$only," == *",$1,"* ]]; }
selected() {
    [ -z "$only" ] || named_by_only "${names[$1]}" || return 1
    if [ -n "${manuals[$1]}" ] && ! named_by_only "${names[$1]}"; then
        [ -n "$judge_only" ] && grep -q "^@@@ BEGIN ${names[$1]}"$'\r*$' "$judge_only" || return 1
    fi
    [ -z "${outers[$1]}" ] || [[ "${outers[$1]}" == *" $outer "* ]]
}

# --- preparing the outer Linux -----------------------------------------------
kernel_version=""
outer_qemu="" outer_firmware=(/usr/share/qemu /usr/share/seabios)
# apt-get and apt-cache with a private sources list and state, of the Debian
# mirror this machine already uses: suite bookworm-backports in $bpo, suites
# trixie and trixie-backports (preferred where it has the package) in $trixie.
bpo=$cache/bookworm-backports
trixie=$cache/trixie
state_apt() {
    local dir=$1 tool=$2
    shift 2
    local prefer=()
    [ "$dir" != "$trixie" ] || prefer=(-o APT::Default-Release=trixie-backports)
    "$tool" -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=/dev/null \
        -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" "${prefer[@]}" "$@"
}
bpo_apt() { state_apt "$bpo" "$@"; }
trixie_apt() { state_apt "$trixie" "$@"; }
# state_setup DIR SUITE...
state_setup() {
    local dir=$1 suite
    shift
    [ -s "$dir/sources.list" ] && ls "$dir/lists/"*_Packages* >/dev/null 2>&1 && return 0
    local mirror
    mirror=$(sed -n 's/^URIs: *\([^ ]*debian\/*\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    [ -n "$mirror" ] || die "cannot find the Debian mirror in this machine's apt sources"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    for suite in "$@"; do echo "deb ${mirror%/} $suite main"; done >"$dir/sources.list"
    echo "harness: apt-get update of $* (${mirror%/})" >&2
    state_apt "$dir" apt-get update >/dev/null 2>&1 || die "apt-get update of $* failed"
}
# lib_packages APT PKG: every library package (lib*, zlib1g) PKG depends on,
# by the archive APT reads (trixie_apt, or command for this machine's own).
lib_packages() {
    "$1" apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances --no-pre-depends "$2" 2>/dev/null |
        grep -E '^(lib|zlib1g)[a-z0-9.+-]*$' | sort -u
}
trixie_lib_packages() { lib_packages trixie_apt "$1"; }
# add_trixie_runtime ROOT LOADER LIBDIR FILE...: trixie's loader where the
# FILEs' interpreter path points, and every library they load, resolved by
# that loader from LIBDIR alone, in ROOT's /usr/lib/x86_64-linux-gnu (on the
# loader's default search path).
add_trixie_runtime() {
    local root=$1 loader=$2 libs=$3 f list lib
    shift 3
    [ -x "$loader" ] || die "no loader at $loader"
    mkdir -p "$root/lib64" "$root/usr/lib/x86_64-linux-gnu"
    cp -L "$loader" "$root/lib64/ld-linux-x86-64.so.2"
    for f in "$@"; do
        list=$("$loader" --library-path "$libs" --list "$f" 2>&1) && ! grep -q 'not found' <<<"$list" ||
            die "$f does not load with trixie's libraries: $(grep 'not found' <<<"$list" | head -3 | tr '\n' ' ')"
        for lib in $(awk '/=>/ && $1 !~ /ld-linux/ {print $3}' <<<"$list"); do
            [[ "$lib" == "$libs"/* ]] || die "$f would load $lib from outside trixie's libraries"
            cp -L "$lib" "$root/usr/lib/x86_64-linux-gnu/"
        done
    done
}
# Downloads and unpacks packages into the cache once: fetch_debs DIR APT PKG...
fetch_debs() {
    local dir=$1 apt=$2
    shift 2
    [ -d "$dir" ] && return 0
    echo "harness: downloading $*" >&2
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/debs" || die "cannot create $dir.tmp"
    if [ "$apt" = bpo ] || [ "$apt" = trixie ]; then
        (cd "$dir.tmp/debs" && state_apt "${!apt}" apt-get download "$@" >/dev/null 2>&1)
    else
        (cd "$dir.tmp/debs" && apt-get download "$@" >/dev/null 2>&1)
    fi || die "apt-get download $* failed"
    local d
    for d in "$dir.tmp/debs"/*.deb; do dpkg -x "$d" "$dir.tmp" || die "cannot unpack $d"; done
    rm -rf "$dir.tmp/debs"
    mv "$dir.tmp" "$dir"
}
prepare_outer() {
    mkdir -p "$cache"
    local pkg apt=system
    if [ "$outer" = 6.12 ]; then
        state_setup "$bpo" bookworm-backports
        apt=bpo
        pkg=$(bpo_apt apt-cache depends linux-image-amd64 2>/dev/null |
            awk '/Depends: linux-image-6\.12/ {print $2; exit}')
        [ -n "$pkg" ] || die "bookworm-backports offers no Linux 6.12 (linux-image-amd64)"
        local qver
        qver=$(bpo_apt apt-cache policy qemu-system-x86 2>/dev/null | awk '/Candidate:/ {print $2}')
        [ -n "$qver" ] || die "bookworm-backports offers no qemu-system-x86"
        local qdir=$cache/qemu-${qver//[:~+]/_}
        fetch_debs "$qdir" bpo qemu-system-x86 qemu-system-common qemu-system-data seabios
        outer_qemu=$qdir/usr/bin/qemu-system-x86_64
        outer_firmware=("$qdir/usr/share/qemu" "$qdir/usr/share/seabios")
        [ -x "$outer_qemu" ] || die "no qemu-system-x86_64 in $qdir"
    elif [ "$outer" = 7.3 ]; then
        prepare_outer_trixie
        return
    else
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
        [ -n "$pkg" ] || die "cannot resolve linux-image-amd64 (run apt-get update)"
        outer_qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 not found"
    fi
    fetch_debs "$cache/$pkg" "$apt" "$pkg"
    kernel_version=${pkg#linux-image-}
    vmlinuz=$cache/$pkg/boot/vmlinuz-$kernel_version
    moddir=$cache/$pkg/lib/modules/$kernel_version/kernel
    [ -r "$vmlinuz" ] || die "no kernel in $cache/$pkg"
}

# Linux 7.3 and QEMU 11.1 from trixie-backports. That QEMU is built against
# trixie's C library and friends: they are unpacked beside it (every library
# package it depends on, from trixie), and the outer initramfs carries them
# with trixie's loader; the machine's own packages are not touched.
trixie_loader="" trixie_libs=""
prepare_outer_trixie() {
    state_setup "$trixie" trixie trixie-backports
    local image binary modules
    image=$(trixie_apt apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-7\.3/ {print $2; exit}')
    [ -n "$image" ] || die "trixie-backports offers no Linux 7.3 (linux-image-amd64)"
    kernel_version=${image#linux-image-}
    binary=linux-binary-$kernel_version modules=linux-modules-$kernel_version
    fetch_debs "$cache/$image" trixie "$binary" "$modules"
    vmlinuz=$cache/$image/usr/lib/modules/$kernel_version/vmlinuz
    moddir=$cache/$image/usr/lib/modules/$kernel_version/kernel
    [ -r "$vmlinuz" ] || die "no kernel in $cache/$image"
    fetch_trixie_qemu
    local qdir=$trixie_qdir
    outer_qemu=$qdir/usr/bin/qemu-system-x86_64
    outer_firmware=("$qdir/usr/share/qemu" "$qdir/usr/share/seabios")
    trixie_loader=$qdir/usr/lib64/ld-linux-x86-64.so.2
    trixie_libs=$qdir/usr/lib/x86_64-linux-gnu
}

# trixie-backports' QEMU 11 with every library it loads, from trixie, checked
# to start with trixie's loader on this machine: sets trixie_qver and
# trixie_qdir (the unpacked tree: usr/bin, usr/lib64's loader, the libraries).
trixie_qver="" trixie_qdir=""
fetch_trixie_qemu() {
    state_setup "$trixie" trixie trixie-backports
    trixie_qver=$(trixie_apt apt-cache policy qemu-system-x86 2>/dev/null | awk '/Candidate:/ {print $2}')
    [[ "$trixie_qver" == 1:11.* ]] || die "trixie-backports offers no QEMU 11 (candidate '$trixie_qver')"
    trixie_qdir=$cache/qemu-${trixie_qver//[:~+]/_}
    local libs qemu=$trixie_qdir/usr/bin/qemu-system-x86_64 loader=$trixie_qdir/usr/lib64/ld-linux-x86-64.so.2
    libs=$(trixie_lib_packages qemu-system-x86)
    [ -n "$libs" ] || die "cannot resolve qemu-system-x86's libraries in trixie"
    # shellcheck disable=SC2086 # one package per word
    fetch_debs "$trixie_qdir" trixie qemu-system-x86 qemu-system-common qemu-system-data seabios $libs
    [ -x "$qemu" ] && [ -x "$loader" ] || die "no qemu-system-x86_64 or loader in $trixie_qdir"
    "$loader" --library-path "$trixie_qdir/usr/lib/x86_64-linux-gnu" "$qemu" --version >/dev/null 2>&1 ||
        die "$qemu does not start with trixie's loader and libraries"
}

# The outer emulator's command line start: emu=(QEMU ARGS...).
emu=()
prepare_emulator() {
    if [ "$emulator" = system ]; then
        emu=("$(command -v qemu-system-x86_64)") || die "qemu-system-x86_64 not found"
        return
    fi
    local qver qdir
    if [ "$emulator" = 11.1 ]; then
        fetch_trixie_qemu
        [[ "$trixie_qver" == 1:11.1* ]] || die "trixie-backports offers no QEMU 11.1 (candidate '$trixie_qver')"
        qdir=$trixie_qdir
        export QEMU_MODULE_DIR=$qdir/usr/lib/x86_64-linux-gnu/qemu
        emu=("$qdir/usr/lib64/ld-linux-x86-64.so.2" --library-path "$qdir/usr/lib/x86_64-linux-gnu"
            "$qdir/usr/bin/qemu-system-x86_64" -L "$qdir/usr/share/qemu" -L "$qdir/usr/share/seabios" -audio none)
        return
    fi
    state_setup "$bpo" bookworm-backports
    qver=$(bpo_apt apt-cache policy qemu-system-x86 2>/dev/null | awk '/Candidate:/ {print $2}')
    [[ "$qver" == 1:10.0* ]] || die "bookworm-backports offers no QEMU 10.0 (candidate '$qver')"
    qdir=$cache/qemu-${qver//[:~+]/_}
    fetch_debs "$qdir" bpo qemu-system-x86 qemu-system-common qemu-system-data seabios
    # Its own modules, not this machine's QEMU's; no audio backend to probe.
    export QEMU_MODULE_DIR=$qdir/usr/lib/x86_64-linux-gnu/qemu
    emu=("$qdir/usr/bin/qemu-system-x86_64" -L "$qdir/usr/share/qemu" -L "$qdir/usr/share/seabios" -audio none)
    "${emu[@]}" -version >/dev/null 2>&1 || die "${emu[0]} does not run on this machine"
}

# --- initramfs pieces shared by the KVM and Xen outer systems ---------------
# A fresh tree with busybox and its applets.
initramfs_base() {
    local root=$1 bb a
    rm -rf "$root"
    mkdir -p "$root"/{bin,sbin,modules,proc,sys,dev,tmp} || die "cannot create $root"
    bb=$(command -v busybox) || die "busybox not found (install busybox-static)"
    cp "$bb" "$root/bin/busybox"
    for a in $("$bb" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
}

# Kernel modules (paths under $moddir, without .ko), decompressed into /modules.
add_modules() {
    local root=$1 m f
    shift
    for m in "$@"; do
        f=$(ls "$moddir/$m.ko"* 2>/dev/null | head -1)
        [ -r "$f" ] || die "module $m missing"
        case "$f" in
        *.xz) xz -dc "$f" >"$root/modules/$(basename "$m").ko" ;;
        *.zst) zstd -dcq "$f" >"$root/modules/$(basename "$m").ko" ;;
        *) cp "$f" "$root/modules/" ;;
        esac
    done
}

# Host files, at the same paths inside.
add_files() {
    local root=$1 f
    shift
    for f in "$@"; do
        mkdir -p "$root$(dirname "$f")"
        cp -L "$f" "$root$f"
    done
}

# pvcheck, the /init script, the scenario list, and the packed archive.
pack_initramfs() {
    local root=$1 init=$2 out=$3 i
    cp "$top/build/pvcheck.elf" "$root/pvcheck.elf"
    cp "$init" "$root/init"
    chmod +x "$root/init"
    cp "$top/tests/kvm/busy_loops.sh" "$root/busy_loops.sh"
    cp "$top/tests/tools/migrate.sh" "$root/migrate.sh"
    cp "$top/build/host/qmp" "$root/qmp" || die "no build/host/qmp (make build/host/qmp)"
    rm -f "$root/kvm_trace"
    [ -z "${PVCHECK_KVM_TRACE:-}" ] || : >"$root/kvm_trace"
    : >"$root/scenarios.run"
    need_swap=""
    for i in "${!names[@]}"; do
        selected "$i" || continue
        [ -z "${memmaxes[i]}" ] || need_swap=1
        printf '%s|%s|%s|%s|%s|%s|%s|%s\n' "${names[i]}" "${loads[i]}" "${pins[i]}" "$inner_timeout" \
            "${migrates[i]}" "${memmaxes[i]}" "${qargs[i]}" "${appends[i]}" >>"$root/scenarios.run"
    done
    (cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$out" ||
        die "cannot build $out"
}

build_initramfs() {
    local root=$cache/initramfs-$outer f qemu
    initramfs_base "$root"
    mkdir -p "$root/usr/share/qemu"
    add_modules "$root" virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp arch/x86/kvm/kvm-amd
    # The swap disk's driver (memory_max scenarios); its virtio core is built in on 6.12.
    local m
    for m in drivers/virtio/virtio drivers/virtio/virtio_ring drivers/virtio/virtio_pci_legacy_dev \
        drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci drivers/block/virtio_blk; do
        ls "$moddir/$m.ko"* >/dev/null 2>&1 && add_modules "$root" "$m"
    done
    qemu=$outer_qemu
    cp "$qemu" "$root/bin/qemu-system-x86_64"
    if [ -n "$trixie_loader" ]; then
        add_trixie_runtime "$root" "$trixie_loader" "$trixie_libs" "$qemu"
    else
        ldd "$qemu" | grep -q 'not found' && die "$qemu lacks libraries here: $(ldd "$qemu" | grep 'not found' | head -3 | tr '\n' ' ')"
        # shellcheck disable=SC2046 # one path per word
        add_files "$root" $(ldd "$qemu" | awk '/=>/ {print $3} /^\t\/lib/ {print $1}')
    fi
    for f in bios-256k.bin bios-microvm.bin qboot.rom kvmvapic.bin linuxboot_dma.bin multiboot_dma.bin pvh.bin; do
        local src="" dir
        for dir in "${outer_firmware[@]}"; do
            [ -r "$dir/$f" ] && { src=$dir/$f; break; }
        done
        [ -n "$src" ] || die "firmware $f not found in ${outer_firmware[*]}"
        cp -L "$src" "$root/usr/share/qemu/$f"
    done
    pack_initramfs "$root" "$top/tests/kvm/outer_init.sh" "$cache/initramfs-$outer.gz"
}

# outer_registers SOCKET: where each vCPU of a silent outer system is, three
# times a second apart (a spinning vCPU stays put, a busy one moves).
outer_registers() {
    local round reply
    for round in 1 2 3; do
        reply=$("$top/build/host/qmp" -t 10 "$1" \
            '{"execute":"human-monitor-command","arguments":{"command-line":"info registers -a"}}' 2>&1)
        echo "harness: the outer vCPUs, look $round:"
        printf '%s\n' "$reply" | sed 's/\\r\\n/\n/g' |
            grep -oE '(CPU#[0-9]+|[RE]IP=[0-9a-f]+|CPL=[0-9]|HLT=[0-9]|CR3=[0-9a-f]+)' | paste -sd' ' |
            sed 's/ CPU#/\nCPU#/g' | sed 's/^/harness:   /'
        sleep 1
    done
}

boot_outer() {
    local results=$1 console=$2
    echo "harness: booting the outer Linux under TCG ($("${emu[@]}" -version | head -1), outer timeout ${outer_timeout}s)" >&2
    : >"$results"
    local pin=()
    [ -z "$outer_cpus" ] || pin=(taskset -c "$outer_cpus")
    # A QMP socket, for the vCPUs' registers if the outer system goes silent.
    local qmp=(-qmp "unix:$console.qmp,server=on,wait=off")
    if [ "$hv" = xen ]; then
        # Xen owns COM1 (its log and dom0's console); COM2 carries the results.
        # SMAP off: QEMU 7.2's TCG makes the PV dom0 fault on its own iretq.
        timeout -k 10 "$outer_timeout" "${pin[@]}" "${emu[@]}" "${qmp[@]}" -accel "tcg,thread=$outer_tcg_threads" \
            -cpu max,-smap -smp 2 -m 3072 -nodefaults -no-user-config -display none -no-reboot \
            -kernel "$xen_elf" -initrd "$vmlinuz console=hvc0 earlyprintk=xen quiet,$cache/initramfs-xen-$xen_version.gz" \
            -append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M guest_loglvl=all/all loglvl=all conring_size=4M noreboot" \
            -serial "file:$console" -serial "file:$results" </dev/null >/dev/null 2>"$console.err" &
    else
        # A swap disk for the scenarios that limit the inner QEMU's memory.
        local swap=()
        if [ -n "$need_swap" ]; then
            rm -f "$results.swap"
            truncate -s 1G "$results.swap"
            swap=(-drive "file=$results.swap,if=virtio,format=raw,cache=unsafe")
        fi
        timeout -k 10 "$outer_timeout" "${pin[@]}" "${emu[@]}" "${qmp[@]}" -accel "tcg,thread=$outer_tcg_threads" \
            -cpu max -smp 2 -m 2048 -nodefaults -no-user-config -display none -no-reboot "${swap[@]}" \
            -kernel "$vmlinuz" -initrd "$cache/initramfs-$outer.gz" \
            -append "console=ttyS0 panic=-1 quiet tsc=reliable" \
            -serial "file:$console" -serial "file:$results" </dev/null >/dev/null 2>"$console.err" &
    fi
    local pid=$! size=0 last_size=-1 still=0
    # Every scenario writes to the results port within the inner timeout: a
    # silent outer Linux for longer than that has hung (its console says why).
    while kill -0 "$pid" 2>/dev/null; do
        sleep 5
        size=$(stat -c %s "$results" 2>/dev/null || echo 0)
        if [ "$size" = "$last_size" ]; then
            still=$((still + 5))
        else
            still=0
            last_size=$size
        fi
        if [ "$still" -ge "$stall_limit" ]; then
            echo "harness: the outer Linux wrote nothing for ${still}s; stopping it. Its console ends with:" >&2
            tail -n 8 "$console" >&2
            outer_registers "$console.qmp" >&2
            kill "$pid" 2>/dev/null
            break
        fi
    done
    wait "$pid"
    local status=$?
    rm -f "$results.swap"
    [ "$status" -ne 124 ] && [ "$status" -ne 137 ] ||
        echo "harness: the outer QEMU timed out after ${outer_timeout}s" >&2
    return 0
}

# --- judging -----------------------------------------------------------------
passed=0 failed=0 retried=0
# One pass over the capture: each known scenario's serial log (.log), QEMU's
# and the outer system's lines (.err), and its STATUS, LOAD and END lines
# (.meta, the last of each counting). Only names from the scenario file
# become file names: the capture is untrusted.
split_results() {
    local results=$1 work=$2
    printf '%s\n' "${names[@]}" >"$work/names"
    awk -v dir="$work/split" '
        NR == FNR { known[$0] = 1; next }
        $1 == "@@@" && ($2 == "STATUS" || $2 == "LOAD") && ($3 in known) {
            meta[$3, $2] = $4; next }
        $1 == "@@@" && $2 == "RETRY" && ($3 in known) {
            why = $0; sub(/^@@@ RETRY [^ ]+ /, "", why); gsub(/[^ -~]/, "?", why)
            print substr(why, 1, 2000) >(dir "/" $3 ".retry"); next }
        $0 ~ /^@@@ BEGIN / && (substr($0, 11) in known) { cur = substr($0, 11); next }
        $0 ~ /^@@@ END / && (substr($0, 9) in known) {
            ended[substr($0, 9)] = 1; if (substr($0, 9) == cur) cur = ""; next }
        cur != "" && /^\| / { print substr($0, 3) >(dir "/" cur ".log") }
        cur != "" && /^! / { print substr($0, 3) >(dir "/" cur ".err") }
        END { for (n in known) if (n != "")
                  printf "%s\n%s\n%s\n", (n in ended) ? 1 : 0, meta[n, "STATUS"], meta[n, "LOAD"] >(dir "/" n ".meta") }
    ' "$work/names" "$results"
}

# The FAIL lines the guest printed for one check (suite.check) in LOG.
check_fail_lines() {
    awk -v suite="${1%%.*}" -v name="${1#*.}" '
        /# Subtest: / { cur = $NF; buf = ""; next }
        /# FAIL: / { line = $0; sub(/^.*# FAIL: /, "", line); buf = buf line "\n"; next }
        /^[ \t]*(not )?ok [0-9]+ / {
            n = $0
            sub(/^[ \t]*(not )?ok [0-9]+ /, "", n)
            sub(/ .*/, "", n)
            if (cur == suite && n == name && $0 ~ /not ok/) printf "%s", buf
            buf = ""
        }' "$2"
}

# Whether CHECK's failure in LOG is a known one: a "known" rule of RULES
# names it (or its suite), it printed FAIL lines, and every one matches.
known_failure() {
    local check=$1 log=$2 rules=$3 rule name pattern lines
    lines=$(check_fail_lines "$check" "$log")
    [ -n "$lines" ] || return 1
    while IFS= read -r rule; do
        [ "${rule:0:2}" = "K " ] || continue
        rule=${rule#K }
        name=${rule%% *} pattern=${rule#* }
        [ "$name" = "$check" ] || [ "$name" = "${check%%.*}.*" ] || continue
        ! grep -Evq -- "$pattern" <<<"$lines" && return 0
    done <<<"$rules"
    return 1
}

judge_scenario() {
    local i=$1 work=$2 name=${names[$1]}
    local problems=() log=$work/split/$name.log err=$work/split/$name.err
    local meta ended status ran
    mapfile -t meta <"$work/split/$name.meta"
    ended=${meta[0]:-} status=${meta[1]:-} ran=${meta[2]:-}
    if [ "$ended" != 1 ]; then
        problems+=("no result: the outer boot failed or stopped before this scenario")
        report "$name" "${problems[@]}"
        return
    fi
    touch "$log" "$err"
    # A first boot in which pvcheck never started (outer_init.sh's RETRY):
    # said here and counted; only the second boot is judged.
    if [ -s "$work/split/$name.retry" ]; then
        echo "RETRY $label.$name: the first boot never started pvcheck ($(head -c 2000 "$work/split/$name.retry")); booted once more, judged on that boot"
        # What the outer system read of that guest (outer_init.sh's retry_dump).
        grep -a -E '^(state|firmware|trace) ' "$err" | head -n 400 | tr -c '\n -~' '?' | sed 's/^/    /'
        retried=$((retried + 1))
    fi
    local qemu_err
    qemu_err=$(head -3 "$err")
    # The host load the scenario asks for must have run to its end.
    local wanted=${loads[i]}
    [[ "$ran" =~ ^[0-9]+$ ]] || ran=0
    [ "$ran" -ge "$wanted" ] ||
        problems+=("only $ran of $wanted busy loops on the host ran to the end")
    local guest_status=${status:-none}
    case "$hv:$status" in
    kvm:3 | kvm:5) ;;
    # A domU has no exit code: it shut itself down and its verdict is the log's.
    xen:0) guest_status=none ;;
    *:137)
        # What the outer system saw of QEMU just before the kill (outer_init.sh).
        local diag
        diag=$(awk '/^DIAG / && (/loadavg/ || /comm=CPU/ || / regs /) {sub(/^DIAG /, ""); printf "%s; ", $0}' "$err")
        problems+=("guest killed after ${inner_timeout}s (hung guest; just before: ${diag:-no record})") ;;
    *) problems+=("guest status '$status' ($qemu_err)") ;;
    esac

    local verdicts rc
    "$top/run.sh" --check-log "$log" --guest-status "$guest_status" \
        >"$work/$name.verdicts" 2>"$work/$name.judge"
    rc=$?
    verdicts=$(grep -E '^[A-Za-z0-9_]+\.[A-Za-z0-9_]+ (ok|fail|skip)$' "$work/$name.verdicts")
    [ "$rc" -ne 2 ] || problems+=("log rejected: $(tr '\n' ' ' <"$work/$name.judge")")

    local default="" check verdict want rule op pattern
    declare -A expected=() seen=() overrides=()
    local knowns=()
    while IFS= read -r rule; do
        [ -n "$rule" ] || continue
        set -- $rule
        if [ "$1" = E ]; then
            if [ "$2" = default ]; then default=$3; else expected[$2]=$3; fi
        elif [ "$1" = O ]; then
            overrides[$2]=$3
        fi
    done <<<"${rules[i]}"
    for check in "${!overrides[@]}"; do
        if [ "$check" = default ]; then default=${overrides[$check]}; else expected[$check]=${overrides[$check]}; fi
    done
    while read -r check verdict; do
        [ -n "$check" ] || continue
        seen[$check]=1
        [ "$verdict" = ok ] && verdict=pass
        # Exact name, then "suite.*", then the scenario's default.
        want=${expected[$check]:-${expected[${check%%.*}.*]:-$default}}
        if [ -z "$want" ]; then
            problems+=("$check: no expectation for verdict '$verdict'")
        elif [ "$want" != "$verdict" ]; then
            if [ "$verdict" = fail ] && known_failure "$check" "$log" "${rules[i]}"; then
                knowns+=("$check")
            else
                problems+=("$check: expected $want, got $verdict")
            fi
        fi
    done <<<"$verdicts"
    for check in "${!expected[@]}"; do
        if [[ "$check" == *'.*' ]]; then
            grep -q "^${check%.\*}\." <<<"$verdicts" ||
                problems+=("$check: expected ${expected[$check]}, but no check of that suite reported")
        elif [ -z "${seen[$check]:-}" ]; then
            problems+=("$check: expected ${expected[$check]}, but it never reported")
        fi
    done
    while IFS= read -r rule; do
        [ "${rule:0:2}" = "L " ] || continue
        op=${rule#L }
        pattern=${op#* }
        op=${op%% *}
        if [ "$op" = "~" ]; then
            grep -Eq -- "$pattern" "$log" || problems+=("log lacks /$pattern/")
        else
            ! grep -Eq -- "$pattern" "$log" || problems+=("log matches /$pattern/")
        fi
    done <<<"${rules[i]}"
    [ "${#knowns[@]}" -eq 0 ] || [ "${#problems[@]}" -ne 0 ] ||
        echo "KNOWN $label.$name: ${knowns[*]} failed as its known failure does"
    report "$name" "${problems[@]}"
    # The evidence behind a failure: the guest's own FAIL lines.
    [ "${#problems[@]}" -eq 0 ] || grep -E '# (FAIL|rule):' "$log" 2>/dev/null | head -10 | sed 's/^/    | /'
}

report() {
    local name=$1
    shift
    if [ $# -eq 0 ]; then
        echo "PASS $label.$name"
        passed=$((passed + 1))
    else
        echo "FAIL $label.$name: $(printf '%s; ' "$@")"
        failed=$((failed + 1))
    fi
}

parse_scenarios
if [ -n "$only" ]; then
    for o in ${only//,/ }; do
        [[ " ${names[*]} " == *" $o "* ]] || die "--only: no scenario '$o' in $scenarios"
    done
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "$judge_only" ]; then
    [ -r "$judge_only" ] || die "cannot read results '$judge_only'"
    results=$judge_only
else
    [ -r "$top/build/pvcheck.elf" ] || die "build pvcheck first (make)"
    # Runs side by side share build/kvm (trixie's libraries, apt's state):
    # one prepares at a time.
    mkdir -p "$cache" && exec 9>"$cache/prepare.lock" && flock 9 || die "cannot lock $cache/prepare.lock"
    prepare_outer
    prepare_emulator
    if [ "$hv" = xen ]; then
        . "$top/tests/xen/outer.sh"
        prepare_xen
        build_initramfs_xen
    else
        build_initramfs
    fi
    exec 9>&-
    results=$work/results.txt
    boot_outer "$results" "$work/console.txt"
    if ! grep -Eq '^@@@ (KVM|XEN) ready' "$results"; then
        echo "harness: $hv did not come up in the outer Linux; its console ends with:" >&2
        tail -n 20 "$work/console.txt" >&2; tail -n 5 "$work/console.txt.err" >&2
        grep '^@@@' "$results" >&2
    fi
    if [ -n "$keep" ]; then
        mkdir -p "$keep" && cp "$results" "$work/console.txt" "$keep/"
    fi
fi
# The outer tty turns "\n" into "\r\n".
tr -d '\r' <"$results" >"$work/results.clean"
mkdir -p "$work/split"
split_results "$work/results.clean" "$work"
for i in "${!names[@]}"; do
    selected "$i" || continue
    judge_scenario "$i" "$work"
done
[ "$retried" -eq 0 ] || echo "harness: $retried boot(s) retried because pvcheck never started in them"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
