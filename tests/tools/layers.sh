#!/usr/bin/env bash
# Fails when a file of kernel/ includes a header of a layer above its own.
# The layers, lowest first: lib (formatting, options, the KTAP report and the
# runner), platform (the runtime), iface (the interfaces' readers), checks
# (the suites); main.c sits on top. A layer may include its own and lower
# layers only, so the runtime never calls up into an interface or a check.
#   tests/tools/layers.sh [KERNEL_DIR]
set -u
dir=${1:-$(dirname "$0")/../../kernel}
rank() {
    case "$1" in
    lib) echo 0 ;;
    platform) echo 1 ;;
    iface) echo 2 ;;
    checks) echo 3 ;;
    *) echo 9 ;;
    esac
}
bad=0
for f in "$dir"/*/*.[chS]; do
    layer=$(basename "$(dirname "$f")")
    own=$(rank "$layer")
    if [ "$own" = 9 ]; then
        echo "layers: $f is in no layer (lib, platform, iface, checks)" >&2
        bad=1
        continue
    fi
    while IFS= read -r inc; do
        target=${inc%%/*}
        [ "$target" != "$inc" ] || continue # boot.h, model_cpu.h: not kernel/
        if [ "$(rank "$target")" -gt "$own" ]; then
            echo "layers: $f ($layer) includes $inc, a layer above it" >&2
            bad=1
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
exit $bad
