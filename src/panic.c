/*
 * panic.c — fatal errors and unrecovered panics (first slice: report and
 * exit; recover arrives with the defer/panic work).
 */
#include "runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

_Atomic uint32_t panicking;

static NORETURN void die(void)
{
    if (traceback_crash)
        abort();
    _exit(2);
}

void throw(const char *msg)
{
    atomic_fetch_add(&panicking, 1);
    printlock();
    print("fatal error: %s\n", msg);
    traceback_goroutines(getg() ? getg() : NULL, true, 2);
    printunlock();
    die();
}

void fatal(const char *msg)
{
    atomic_fetch_add(&panicking, 1);
    printlock();
    print("fatal error: %s\n", msg);
    if (traceback_level > 0)
        traceback_goroutines(getg(), true, traceback_level);
    printunlock();
    die();
}

void panic_plain(const char *msg)
{
    atomic_fetch_add(&panicking, 1);
    printlock();
    print("panic: %s\n", msg);
    if (traceback_level > 0)
        traceback_goroutines(getg(), traceback_all, traceback_level);
    printunlock();
    die();
}

void gort_panic(const char *msg)
{
    panic_plain(msg);
}

void gort_panicf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    panic_plain(buf);
}
