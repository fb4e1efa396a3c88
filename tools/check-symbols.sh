#!/bin/sh
# Fails if libgort exports any symbol whose name does not start with gort_.
# $1: libgort.a (every defined global symbol counts), $2: libgort.so (the
# dynamic symbol table).
set -eu
bad=$( { nm -g --defined-only "$1" | awk 'NF==3 {print $3}';
         nm -D --defined-only "$2" | awk 'NF==3 {print $3}'; } |
       grep -v '^gort_' | sort -u || true)
if [ -n "$bad" ]; then
    echo "symbols without the gort_ prefix:"; echo "$bad"; exit 1
fi
# Compiler support routines (libgcc's __popcountdi2, __udivti3, ...) are
# linked into the program's own .text, where the preemption handler would take
# a pc inside one, called from the runtime, for program code.  The runtime
# must not call them.
helpers=$(nm -u "$1" | awk '{print $2}' |
          grep -E '^__(popcount|parity|clz|ctz|ffs|bswap|u?div|u?mod|mul|neg|ash|lsh|u?cmp|float|fix|extend|trunc|powi)[a-z]*[0-9]$' |
          sort -u || true)
if [ -n "$helpers" ]; then
    echo "the runtime calls compiler support routines:"; echo "$helpers"; exit 1
fi
echo "symbols: all gort_"
