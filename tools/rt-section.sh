#!/bin/sh
# Compiler launcher for the runtime's own objects (RULE_LAUNCH_COMPILE of
# gort_obj): runs the compile, then moves every .text* section of the object
# into one section, gort_text.  The linker then brackets all runtime code
# with __start_gort_text/__stop_gort_text, which is how the preemption signal
# handler tells a safe point in program code from a PC inside the runtime.
"$@" || exit $?
out= prev=
for a in "$@"; do
    [ "$prev" = "-o" ] && out=$a
    prev=$a
done
case "$out" in *.o) ;; *) exit 0 ;; esac
args=
for s in $(objdump -h "$out" | awk '$2 ~ /^\.text/ { print $2 }'); do
    args="$args --rename-section $s=gort_text"
done
[ -z "$args" ] || exec objcopy $args "$out"
