#!/usr/bin/env bash
# Fails when the guest's objects call across the layering: a suite calling
# (or reading a symbol of) another suite, a lower layer calling a higher
# one, or two files that call each other. It reads who defines and who uses
# each symbol with nm, so a declaration written by hand cannot hide a call.
#   tests/tools/calls.sh OBJ_DIR OBJ...   (OBJ_DIR: where kernel/'s objects are
#                                         built, e.g. build/guest/kernel)
set -u
dir=${1:?usage: calls.sh OBJ_DIR OBJ...}
shift
[ -d "$dir" ] || { echo "calls: no directory $dir" >&2; exit 2; }
[ $# -gt 0 ] || { echo "calls: no objects given" >&2; exit 2; }
command -v nm >/dev/null || { echo "calls: nm not found" >&2; exit 2; }
objs=""
for o in "$@"; do
    case "$o" in
    "$dir"/*) objs="$objs ${o#"$dir"/}" ;;
    *) echo "calls: $o is not under $dir" >&2; exit 2 ;;
    esac
done
# One line per symbol: D OBJ SYM (defined) or U OBJ SYM (used).
table=$(cd "$dir" && for o in $objs; do
    nm "$o" | awk -v o="$o" '$1 == "U" { print "U", o, $2; next }
                             NF == 3 && $2 ~ /^[TDBRCV]$/ { print "D", o, $3 }'
done)
echo "$table" | awk '
function unit(p) {
    if (p ~ /^lib\//) return "lib"
    if (p ~ /^platform\//) return "platform"
    if (p ~ /^iface\//) return "iface"
    if (p ~ /^live\//) return "live"
    if (p ~ /^checks\/shared\//) return "shared"
    if (p ~ /^checks\/[^\/]+\//) { split(p, a, "/"); return "suite:" a[2] }
    if (p ~ /^main\.c\.o$/) return "main"
    return "none"
}
function rank(u) {
    if (u == "lib") return 0
    if (u == "platform") return 1
    if (u == "iface") return 2
    if (u == "live") return 3
    if (u == "shared") return 4
    if (u ~ /^suite:/) return 5
    if (u == "main") return 6
    return 9
}
function src(o) { sub(/\.o$/, "", o); return o }
$1 == "D" { def[$3] = $2; next }
$1 == "U" { n++; user[n] = $2; sym[n] = $3 }
END {
    bad = 0
    for (i = 1; i <= n; i++) {
        u = user[i]; s = sym[i]
        if (!(s in def)) continue # the linker script, or not ours
        d = def[s]
        if (d == u) continue
        uu = unit(u); du = unit(d)
        if (uu ~ /^suite:/ && du ~ /^suite:/ && uu != du) {
            printf "calls: %s uses %s of %s: a suite reaches into another\n", src(u), s, src(d) > "/dev/stderr"
            bad = 1
        } else if (rank(du) > rank(uu)) {
            printf "calls: %s (%s) uses %s of %s (%s), a layer above it\n", src(u), uu, s, src(d), du > "/dev/stderr"
            bad = 1
        }
        edge[u SUBSEP d] = s
    }
    for (k in edge) {
        split(k, p, SUBSEP)
        if (p[1] < p[2] && ((p[2] SUBSEP p[1]) in edge)) {
            printf "calls: %s and %s call each other (%s, %s)\n", src(p[1]), src(p[2]), edge[k], edge[p[2] SUBSEP p[1]] > "/dev/stderr"
            bad = 1
        }
    }
    exit bad
}'
