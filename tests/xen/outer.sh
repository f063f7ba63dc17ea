# Sourced by tests/kvm/harness.sh --hypervisor xen: fetch Debian's Xen and its
# tools (cached in build/kvm) and build dom0's initramfs. Xen 4.17 is Debian
# 12's, run on this machine's libraries; Xen 4.20 is trixie's, whose tools
# run on trixie's libraries under trixie's loader inside dom0.
xen_elf="" xen_root="" dm_root=""
prepare_xen() {
    local gz
    if [ "$xen_version" = 4.20 ]; then
        state_setup "$trixie" trixie trixie-backports
        local libs
        libs=$(trixie_lib_packages xen-utils-4.20)
        [ -n "$libs" ] || die "cannot resolve xen-utils-4.20's libraries in trixie"
        # shellcheck disable=SC2086 # one package per word
        fetch_debs "$cache/xen-4.20" trixie xen-hypervisor-4.20-amd64 xen-utils-4.20 xen-utils-common $libs
        xen_root=$cache/xen-4.20
    else
        local dir=$cache/xen pkgs="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common
            libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenmisc4.17 libxenstore4
            libxentoollog1 libxendevicemodel1 libxenhypfs1 libxentoolcore1 libyajl2"
        if [ ! -d "$dir/root" ]; then
            echo "harness: downloading Xen 4.17" >&2
            rm -rf "$dir" && mkdir -p "$dir/debs" || die "cannot create $dir"
            # shellcheck disable=SC2086 # a word list by design
            (cd "$dir/debs" && apt-get download $pkgs >/dev/null 2>&1) || die "apt-get download of Xen failed"
            local d
            for d in "$dir"/debs/*.deb; do dpkg -x "$d" "$dir/root.tmp" || die "cannot unpack $d"; done
            mv "$dir/root.tmp" "$dir/root" && rm -rf "$dir/debs"
        fi
        xen_root=$dir/root
    fi
    gz=$(ls "$xen_root/boot/xen-$xen_version-amd64.gz" 2>/dev/null | head -1)
    [ -n "$gz" ] || die "no Xen $xen_version image in $xen_root/boot"
    xen_elf=$cache/xen-$xen_version.elf
    [ -s "$xen_elf" ] || gzip -dc "$gz" >"$xen_elf" || die "cannot unpack $gz"
}

build_initramfs_xen() {
    local root=$cache/initramfs-xen-$xen_version xr=$xen_root bin bindir=usr/lib/xen-$xen_version/bin
    initramfs_base "$root"
    mkdir -p "$root"/{run,etc/xen,usr/lib/x86_64-linux-gnu,$bindir} || die "mkdir"
    add_modules "$root" drivers/xen/xen-evtchn drivers/xen/xen-privcmd drivers/xen/xenfs/xenfs \
        drivers/xen/xen-gntdev drivers/xen/xen-gntalloc
    for bin in xl xenstored xenconsoled xenconsole xen-init-dom0 xenctx; do
        cp "$xr/$bindir/$bin" "$root/$bindir/" || die "no $bin in the Xen tools"
    done
    cp -a "$xr/etc/xen/." "$root/etc/xen/"
    if [ "$xen_version" = 4.20 ]; then
        # Trixie's loader, and every library the tools load, from trixie
        # (libgcc_s too: xl dlopen()s it at exit, so no listing names it).
        local libs=$xr/usr/lib/x86_64-linux-gnu
        add_trixie_runtime "$root" "$xr/usr/lib64/ld-linux-x86-64.so.2" "$libs" "$root/$bindir"/*
        cp -L "$libs/libgcc_s.so.1" "$root/usr/lib/x86_64-linux-gnu/" || die "no libgcc_s in $libs"
    else
        cp -a "$xr/usr/lib/x86_64-linux-gnu/." "$root/usr/lib/x86_64-linux-gnu/"
        # System libraries the tools need (their own come from the Xen packages);
        # libgcc_s is dlopen()ed by xl at exit, so ldd does not list it.
        # shellcheck disable=SC2046 # one path per word
        add_files "$root" $(for bin in "$root/$bindir"/*; do
            LD_LIBRARY_PATH=$xr/usr/lib/x86_64-linux-gnu ldd "$bin"; done |
            awk '/=>/ && $3 ~ /^\// {print $3} /^\t\/lib/ {print $1}' | grep -v "^$xr/" | sort -u) \
            /lib/x86_64-linux-gnu/libgcc_s.so.1
    fi
    local i
    for i in "${!names[@]}"; do
        selected "$i" && [[ "${qargs[i]}" == *'type="hvm"'* ]] && { add_device_model "$root"; break; }
    done
    pack_initramfs "$root" "$top/tests/xen/dom0_init.sh" "$cache/initramfs-xen-$xen_version.gz"
}

# The HVM guests' device model, fetched once: on Xen 4.20 trixie's QEMU
# built for Xen, its firmware and every library it loads, from trixie; on
# 4.17 bookworm-backports' QEMU 10, built against bookworm's Xen 4.17
# libraries, with those this machine lacks from bookworm (bookworm's own
# QEMU 7.2 hangs the -kernel boot: its multiboot option ROM waits forever
# for its first fw_cfg DMA transfer).
dm_libs=""
prepare_device_model() {
    local libs="" lib qver
    if [ "$xen_version" = 4.20 ]; then
        libs=$(trixie_lib_packages qemu-system-xen)
        [ -n "$libs" ] || die "cannot resolve qemu-system-xen's libraries in trixie"
        # shellcheck disable=SC2086 # one package per word
        fetch_debs "$cache/xen-dm-4.20" trixie qemu-system-xen qemu-system-data seabios $libs
        dm_root=$cache/xen-dm-4.20
        return
    fi
    state_setup "$bpo" bookworm-backports
    qver=$(bpo_apt apt-cache policy qemu-system-xen 2>/dev/null | awk '/Candidate:/ {print $2}')
    [[ "$qver" == 1:1[0-9].* ]] || die "bookworm-backports offers no QEMU 10 or later for Xen (candidate '$qver')"
    dm_root=$cache/xen-dm-4.17-qemu-${qver//[:~+]/_}
    fetch_debs "$dm_root" bpo qemu-system-xen qemu-system-data seabios
    for lib in $(lib_packages command qemu-system-xen); do
        dpkg -s "$lib" >/dev/null 2>&1 || libs="$libs $lib"
    done
    dm_libs=$cache/xen-dm-4.17-libs
    # shellcheck disable=SC2086 # one package per word
    if [ -n "$libs" ]; then fetch_debs "$dm_libs" system $libs; else mkdir -p "$dm_libs"; fi
}

# What libxl starts for an HVM guest (only when a scenario is one): hvmloader,
# QEMU at the path it was built to run (/usr/libexec/xen-qemu-system-i386),
# SeaBIOS for hvmloader, and QEMU's option ROMs for the -kernel boot.
add_device_model() {
    prepare_device_model
    local root=$1 dm=$dm_root/usr/libexec/xen-qemu-system-i386 f
    [ -x "$dm" ] || die "no QEMU for Xen at $dm"
    local boot=usr/lib/xen-$xen_version/boot
    mkdir -p "$root/usr/libexec" "$root/usr/share/qemu" "$root/usr/share/seabios" "$root/$boot"
    cp -L "$xen_root/$boot/hvmloader" "$root/$boot/" || die "no hvmloader in the Xen tools"
    cp -L "$dm" "$root/usr/libexec/xen-qemu-system-i386"
    cp -L "$dm_root/usr/share/seabios/bios-256k.bin" "$root/usr/share/seabios/" || die "no SeaBIOS in $dm_root"
    # QEMU reads a keymap even with no display (-vnc none).
    cp -rL "$dm_root/usr/share/qemu/keymaps" "$root/usr/share/qemu/" || die "no QEMU keymaps in $dm_root"
    for f in linuxboot_dma.bin multiboot_dma.bin multiboot.bin pvh.bin kvmvapic.bin; do
        [ -r "$dm_root/usr/share/qemu/$f" ] && cp -L "$dm_root/usr/share/qemu/$f" "$root/usr/share/qemu/"
    done
    if [ "$xen_version" = 4.20 ]; then
        add_trixie_runtime "$root" "$xen_root/usr/lib64/ld-linux-x86-64.so.2" \
            "$dm_root/usr/lib/x86_64-linux-gnu" "$root/usr/libexec/xen-qemu-system-i386"
        return
    fi
    # This machine's libraries, and those it lacks from the packages fetched.
    local dl=$dm_libs/usr/lib/x86_64-linux-gnu:$dm_libs/lib/x86_64-linux-gnu list lib
    list=$(LD_LIBRARY_PATH=$dl ldd "$dm") && ! grep -q 'not found' <<<"$list" ||
        die "$dm lacks libraries: $(grep 'not found' <<<"$list" | head -3 | tr '\n' ' ')"
    for lib in $(awk '/=>/ && $3 ~ /^\// {print $3} /^\t\/lib/ {print $1}' <<<"$list"); do
        case "$lib" in
        "$dm_libs"/*) cp -L "$lib" "$root/usr/lib/x86_64-linux-gnu/" ;;
        *) add_files "$root" "$lib" ;;
        esac
    done
}

