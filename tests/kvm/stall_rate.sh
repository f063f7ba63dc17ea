#!/usr/bin/env bash
# Measures how often a nested inner boot never prints pvcheck's first line
# (the harness's RETRY): N short boots (only=cpuid) in one outer system.
#   tests/kvm/stall_rate.sh [--outer 6.1|6.12|7.3] [--emulator system|10.0|11.1] [--boots N]
#                           [--loaded] [--log FILE]
# --loaded boots each one as the loaded scenarios do: two busy loops on the
# outer Linux and the inner QEMU pinned to outer CPU 0 beside one of them.
# --log keeps the harness's whole output (each RETRY's state and trace lines).
# Prints one line: "stall_rate outer=.. emulator=.. boots=N stalls=S judged=J",
# where judged counts the boots whose verdicts were the expected ones. Exit
# status 0 when every boot was judged (a stall is a measurement, not an
# error); 1 when a boot went wrong otherwise; 2 when the harness could not run.
set -u
cd "$(dirname "$0")/../.."
outer=6.1 emulator=10.0 boots=50 load="" loaded=no log=""
while [ $# -gt 0 ]; do
    case "$1" in
    --outer) outer=$2; shift 2 ;;
    --emulator) emulator=$2; shift 2 ;;
    --boots) boots=$2; shift 2 ;;
    --loaded) load=$'load = 2\npin = 0\n' loaded=yes; shift ;;
    --log) log=$2; shift 2 ;;
    *) echo "stall_rate: unknown argument '$1'" >&2; exit 64 ;;
    esac
done
[[ "$boots" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "stall_rate: --boots must be 1 to 999" >&2; exit 64; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq -w 1 "$boots"); do
    printf '[boot%s]\nqemu = -cpu host\nappend = only=cpuid\n%sexpect default = skip\nexpect cpuid.* = pass\nexpect cpuid.tsc_frequency_leaves = skip\n' "$i" "$load"
done >"$tmp/boots.txt"
PVCHECK_INNER_TIMEOUT=${PVCHECK_INNER_TIMEOUT:-40} \
    tests/kvm/harness.sh --outer "$outer" --emulator "$emulator" --scenarios "$tmp/boots.txt" >"$tmp/out" 2>&1
status=$?
[ -z "$log" ] || cp "$tmp/out" "$log"
stalls=$(grep -c '^RETRY ' "$tmp/out")
judged=$(grep -c '^PASS ' "$tmp/out")
grep -E '^(RETRY|FAIL) ' "$tmp/out" | cut -c1-400
echo "stall_rate outer=$outer emulator=$emulator loaded=$loaded boots=$boots stalls=$stalls judged=$judged"
[ "$status" -ne 2 ] || exit 2
[ "$judged" -eq "$boots" ]
