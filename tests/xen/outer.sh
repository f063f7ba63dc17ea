# Sourced by tests/kvm/harness.sh --hypervisor xen: fetch Debian's Xen and its
# tools (cached in build/kvm) and build dom0's initramfs.
xen_elf=""
prepare_xen() {
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
    local gz
    gz=$(ls "$dir"/root/boot/xen-4.17-amd64.gz 2>/dev/null | head -1)
    [ -n "$gz" ] || die "no Xen image in $dir/root/boot"
    xen_elf=$dir/xen.elf
    [ -s "$xen_elf" ] || gzip -dc "$gz" >"$xen_elf" || die "cannot unpack $gz"
}

build_initramfs_xen() {
    local root=$cache/initramfs-xen xr=$cache/xen/root m f lib bin
    rm -rf "$root"
    mkdir -p "$root"/{bin,sbin,modules,proc,sys,dev,tmp,run,etc/xen,usr/lib/x86_64-linux-gnu} || die "mkdir"
    local bb
    bb=$(command -v busybox) || die "busybox not found (install busybox-static)"
    cp "$bb" "$root/bin/busybox"
    for a in $("$bb" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
    for m in xen-evtchn xen-privcmd xenfs/xenfs xen-gntdev xen-gntalloc; do
        f=$(ls "$moddir/drivers/xen/$m.ko"* 2>/dev/null | head -1)
        [ -r "$f" ] || die "module $m missing"
        case "$f" in
        *.xz) xz -dc "$f" >"$root/modules/$(basename "$m").ko" ;;
        *.zst) zstd -dcq "$f" >"$root/modules/$(basename "$m").ko" ;;
        *) cp "$f" "$root/modules/" ;;
        esac
    done
    mkdir -p "$root/usr/lib/xen-4.17/bin"
    for bin in xl xenstored xenconsoled xenconsole xen-init-dom0; do
        cp "$xr/usr/lib/xen-4.17/bin/$bin" "$root/usr/lib/xen-4.17/bin/" || die "no $bin in the Xen tools"
    done
    cp -a "$xr/usr/lib/x86_64-linux-gnu/." "$root/usr/lib/x86_64-linux-gnu/"
    cp -a "$xr/etc/xen/." "$root/etc/xen/"
    # System libraries the tools need; libgcc_s is dlopen()ed by xl at exit.
    for lib in $(for bin in "$root"/usr/lib/xen-4.17/bin/*; do
        LD_LIBRARY_PATH=$xr/usr/lib/x86_64-linux-gnu ldd "$bin"; done |
        awk '/=>/ && $3 ~ /^\// {print $3} /^\t\/lib/ {print $1}' | sort -u) \
        /lib/x86_64-linux-gnu/libgcc_s.so.1; do
        case "$lib" in "$xr"/*) continue ;; esac
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
    cp "$top/build/pvcheck.elf" "$root/pvcheck.elf"
    cp "$top/tests/xen/dom0_init.sh" "$root/init"
    chmod +x "$root/init"
    local i
    : >"$root/scenarios.run"
    for i in "${!names[@]}"; do
        [ -z "$only" ] || [ "$only" = "${names[i]}" ] || continue
        printf '%s|%s|%s|%s|%s|%s\n' "${names[i]}" "${loads[i]}" "${pins[i]}" "$inner_timeout" \
            "${qargs[i]}" "${appends[i]}" >>"$root/scenarios.run"
    done
    (cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$cache/initramfs-xen.gz" ||
        die "cannot build the dom0 initramfs"
}
