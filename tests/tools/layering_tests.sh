#!/usr/bin/env bash
# The build's layering rules can fail: tests/tools/layers.sh and calls.sh on
# small trees made here, each breaking one rule, and on trees that keep them.
# Prints "PASS layering.NAME" or "FAIL layering.NAME: why" per case.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CC=${CC:-cc}

# expect NAME STATUS PATTERN CMD...: CMD exits STATUS and, if PATTERN is not
# empty, says it on stderr.
expect() {
    local name=$1 want=$2 pattern=$3
    shift 3
    local err status
    err=$("$@" 2>&1 >/dev/null)
    status=$?
    if [ "$status" -ne "$want" ]; then
        echo "FAIL layering.$name: exit status $status, expected $want (${err:-no message})"
    elif [ -n "$pattern" ] && ! grep -q -- "$pattern" <<<"$err"; then
        echo "FAIL layering.$name: no '$pattern' in: $err"
    else
        echo "PASS layering.$name"
    fi
}

# A source file at kernel/PATH with the given text.
src() {
    mkdir -p "$(dirname "$tmp/$1/kernel/$2")"
    printf '%s\n' "$3" >"$tmp/$1/kernel/$2"
}

# --- includes (layers.sh) ----------------------------------------------
src ok live/a.h '/* a */'
src ok checks/shared/h.h '#include "live/a.h"'
src ok checks/one/one.c '#include "checks/shared/h.h"
#include "checks/one/one.h"
#include "live/a.h"'
src ok checks/one/one.h '/* one */'
expect includes_kept 0 "" "$top/tests/tools/layers.sh" "$tmp/ok/kernel"

src suite checks/one/one.c '#include "checks/two/two.h"'
src suite checks/two/two.h '/* two */'
expect include_other_suite 1 "another suite's header" "$top/tests/tools/layers.sh" "$tmp/suite/kernel"

src up live/a.c '#include "checks/shared/h.h"'
src up checks/shared/h.h '/* h */'
expect include_up 1 "a layer above it" "$top/tests/tools/layers.sh" "$tmp/up/kernel"

src shared checks/shared/h.c '#include "checks/one/one.h"'
src shared checks/one/one.h '/* one */'
expect shared_includes_suite 1 "a layer above it" "$top/tests/tools/layers.sh" "$tmp/shared/kernel"

src stray stray/x.c '/* x */'
expect file_in_no_layer 1 "in no layer" "$top/tests/tools/layers.sh" "$tmp/stray/kernel"

mkdir -p "$tmp/long/kernel/lib"
for i in $(seq 401); do echo "/* $i */"; done >"$tmp/long/kernel/lib/long.c"
expect file_over_400_lines 1 "401 lines, over 400" "$top/tests/tools/layers.sh" "$tmp/long/kernel"
sed -i '$d' "$tmp/long/kernel/lib/long.c"
expect file_of_400_lines 0 "" "$top/tests/tools/layers.sh" "$tmp/long/kernel"

# --- calls (calls.sh over objects) -------------------------------------
# obj TREE PATH CODE: compiles CODE into TREE/PATH.o (PATH like live/a.c).
obj() {
    mkdir -p "$(dirname "$tmp/$1/o/$2")"
    printf '%s\n' "$3" >"$tmp/$1/src.c"
    "$CC" -c -o "$tmp/$1/o/$2.o" "$tmp/$1/src.c"
}
objs() { find "$tmp/$1/o" -name '*.o' | sort; }
calls() { "$top/tests/tools/calls.sh" "$tmp/$1/o" $(objs "$1"); }

obj fine live/a.c 'int live_a(void) { return 1; }'
obj fine checks/one/one.c 'int live_a(void); int one(void) { return live_a(); }'
obj fine checks/two/two.c 'int live_a(void); int two(void) { return live_a() + 1; }'
expect calls_kept 0 "" calls fine

obj cross checks/one/one.c 'int two(void); int one(void) { return two(); }'
obj cross checks/two/two.c 'int two(void) { return 2; }'
expect call_other_suite 1 "a suite reaches into another" calls cross

obj data checks/one/one.c 'extern int two_state; int one(void) { return two_state; }'
obj data checks/two/two.c 'int two_state = 2;'
expect read_other_suite_data 1 "a suite reaches into another" calls data

obj upcall platform/p.c 'int live_a(void); int p(void) { return live_a(); }'
obj upcall live/a.c 'int live_a(void) { return 1; }'
expect call_up 1 "a layer above it" calls upcall

obj pair platform/p.c 'int q(void); int p(void) { return q(); }'
obj pair platform/q.c 'int p(void); int q(void) { return p() + 1; }'
expect files_call_each_other 1 "call each other" calls pair

obj inpair checks/one/a.c 'int b(void); int a(void) { return b(); }'
obj inpair checks/one/b.c 'int a(void); int b(void) { return a() + 1; }'
expect suite_files_call_each_other 1 "call each other" calls inpair

expect calls_no_objects 2 "no objects" "$top/tests/tools/calls.sh" "$tmp/fine/o"
expect calls_object_elsewhere 2 "is not under" "$top/tests/tools/calls.sh" "$tmp/fine/o" "$tmp/pair/o/platform/p.c.o"
exit 0
