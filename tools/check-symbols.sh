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
echo "symbols: all gort_"
