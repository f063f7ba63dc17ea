#!/usr/bin/env bash
# A stand-in for qemu-system-x86_64 on a KVM that rejects MSR 0x10a (as
# Linux 6.18's kvm_pvm does): with -accel kvm, a CPU model that carries
# IA32_ARCH_CAPABILITIES (host, max) makes it abort the way QEMU does;
# any other model boots, under TCG with -cpu max, since this machine may
# have no KVM. run.sh's CPU-model fallback is tested against it.
#   PVCHECK_REAL_QEMU: the QEMU to hand the boot to (default qemu-system-x86_64)
#   PVCHECK_STANDIN_REJECT_ALL=1: abort for every model and accelerator
set -u
real=${PVCHECK_REAL_QEMU:-qemu-system-x86_64}
args=() accel="" cpu=""
while [ $# -gt 0 ]; do
    case "$1" in
    -accel) accel=$2; shift 2 ;;
    -cpu) cpu=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
    esac
done
abort_like_qemu() {
    echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
    echo "qemu-system-x86_64: ../target/i386/kvm/kvm.c:3345: kvm_buf_set_msrs: Assertion \`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
    kill -ABRT $$
}
[ -z "${PVCHECK_STANDIN_REJECT_ALL:-}" ] || abort_like_qemu
if [ "$accel" = kvm ]; then
    case "$cpu" in
    host | max | host,* | max,*)
        case ",$cpu," in
        *,-arch-capabilities,*) ;;
        *) abort_like_qemu ;;
        esac
        ;;
    esac
    accel=tcg cpu=max
fi
exec "$real" -accel "$accel" -cpu "$cpu" "${args[@]}"
