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
    local root=$cache/initramfs-xen xr=$cache/xen/root bin
    initramfs_base "$root"
    mkdir -p "$root"/{run,etc/xen,usr/lib/x86_64-linux-gnu,usr/lib/xen-4.17/bin} || die "mkdir"
    add_modules "$root" drivers/xen/xen-evtchn drivers/xen/xen-privcmd drivers/xen/xenfs/xenfs \
        drivers/xen/xen-gntdev drivers/xen/xen-gntalloc
    for bin in xl xenstored xenconsoled xenconsole xen-init-dom0; do
        cp "$xr/usr/lib/xen-4.17/bin/$bin" "$root/usr/lib/xen-4.17/bin/" || die "no $bin in the Xen tools"
    done
    cp -a "$xr/usr/lib/x86_64-linux-gnu/." "$root/usr/lib/x86_64-linux-gnu/"
    cp -a "$xr/etc/xen/." "$root/etc/xen/"
    # System libraries the tools need (their own come from the Xen packages);
    # libgcc_s is dlopen()ed by xl at exit, so ldd does not list it.
    # shellcheck disable=SC2046 # one path per word
    add_files "$root" $(for bin in "$root"/usr/lib/xen-4.17/bin/*; do
        LD_LIBRARY_PATH=$xr/usr/lib/x86_64-linux-gnu ldd "$bin"; done |
        awk '/=>/ && $3 ~ /^\// {print $3} /^\t\/lib/ {print $1}' | grep -v "^$xr/" | sort -u) \
        /lib/x86_64-linux-gnu/libgcc_s.so.1
    pack_initramfs "$root" "$top/tests/xen/dom0_init.sh" "$cache/initramfs-xen.gz"
}
