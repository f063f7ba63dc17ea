#!/usr/bin/env bash
# Fails when a file of kernel/ includes a header above its own layer or of
# another suite, and when a guest file (kernel/, boot/) is over 400 lines.
# The layers, lowest first: lib (formatting, options, the KTAP report and the
# runner), platform (the runtime), iface (the interfaces' readers), live (the
# registered interfaces), checks/shared (the rule helpers), and the suites,
# one folder each under checks/; main.c sits on top. A file may include its
# own layer and lower ones, and a suite its own folder only of the suites.
#   tests/tools/layers.sh [KERNEL_DIR]
set -u
dir=${1:-$(dirname "$0")/../../kernel}
max_lines=400
# The unit a path below kernel/ belongs to: a layer, or suite:NAME.
unit_of() {
    case "$1" in
    lib/*) echo lib ;;
    platform/*) echo platform ;;
    iface/*) echo iface ;;
    live/*) echo live ;;
    checks/shared/*) echo shared ;;
    checks/*/*) local s=${1#checks/}; echo "suite:${s%%/*}" ;;
    main.c) echo main ;;
    *) echo none ;;
    esac
}
rank() {
    case "$1" in
    lib) echo 0 ;;
    platform) echo 1 ;;
    iface) echo 2 ;;
    live) echo 3 ;;
    shared) echo 4 ;;
    suite:*) echo 5 ;;
    main) echo 6 ;;
    *) echo 9 ;;
    esac
}
bad=0
while IFS= read -r f; do
    rel=${f#"$dir"/}
    own=$(unit_of "$rel")
    if [ "$own" = none ]; then
        echo "layers: $f is in no layer (lib, platform, iface, live, checks/shared, checks/SUITE)" >&2
        bad=1
        continue
    fi
    while IFS= read -r inc; do
        [ "${inc%%/*}" != "$inc" ] || continue # boot.h, model_cpu.h: not kernel/
        target=$(unit_of "$inc")
        case "$target" in none) continue ;; esac
        if [ "$(rank "$target")" -gt "$(rank "$own")" ]; then
            echo "layers: $f ($own) includes $inc, a layer above it" >&2
            bad=1
        elif [ "${own%%:*}" = suite ] && [ "${target%%:*}" = suite ] && [ "$target" != "$own" ]; then
            echo "layers: $f (${own#suite:}) includes $inc, another suite's header" >&2
            bad=1
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done < <(find "$dir" -name '*.[chS]' | sort)
# Small files: a guest file over the limit wants to be split.
while IFS= read -r f; do
    n=$(wc -l <"$f")
    if [ "$n" -gt "$max_lines" ]; then
        echo "layers: $f has $n lines, over $max_lines" >&2
        bad=1
    fi
done < <(find "$dir" $([ -d "$dir/../boot" ] && echo "$dir/../boot") -name '*.[chS]' | sort)
exit $bad
