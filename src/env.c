/*
 * env.c — GODEBUG, GOTRACEBACK and GOMAXPROCS, read once at start-up.
 *
 * Parsing is Go's (runtime1.go parsedebugvars/setTraceback, proc.go
 * schedinit): GODEBUG is comma-separated key=value, applied left to right so
 * a later duplicate wins; fields without '=' and unknown keys are ignored;
 * a value that is not a valid int32 (Go's atoi32: optional '-', digits, no
 * overflow) leaves the setting alone, unless the knob takes that word
 * (dbgwords: gcdirty=off|uffd|mprotect).  GOTRACEBACK maps to a level with
 * "all" and "crash" flags.  GOMAXPROCS is used only when valid and > 0.
 *
 * Every knob lives in `debug` (or the traceback globals); nothing else in
 * the runtime reads the environment.  Knobs this build does not act on yet
 * are still parsed so that programs written for Go keep working; the table
 * below says which subsystem reads each one.
 */
#include "runtime.h"

#include <stdlib.h>

struct debugvars debug = {
    .invalidptr = 1,
    .gcdirty = 1,
};
int32_t traceback_level = 1;
bool traceback_all = false;
bool traceback_crash = false;
int32_t env_gomaxprocs = 0;

bool gort_atoi32(const char *s, int32_t *out)
{
    bool neg = false;
    if (*s == '-') {
        neg = true;
        s++;
    }
    if (*s == '\0')
        return false;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
        if (v > (int64_t)INT32_MAX + (neg ? 1 : 0))
            return false;
    }
    *out = (int32_t)(neg ? -v : v);
    return true;
}

static const struct {
    const char *name;
    int32_t *value;
} dbgvars[] = {
    {"allocfreetrace", &debug.allocfreetrace},
    {"asyncpreemptoff", &debug.asyncpreemptoff},
    {"gccheckmark", &debug.gccheckmark},
    {"gcstoptheworld", &debug.gcstoptheworld},
    {"gcstress", &debug.gcstress},
    {"gcdirty", &debug.gcdirty},
    {"gctrace", &debug.gctrace},
    {"invalidptr", &debug.invalidptr},
    {"madvdontneed", &debug.madvdontneed},
    {"panicnil", &debug.panicnil},
    {"scheddetail", &debug.scheddetail},
    {"schedtrace", &debug.schedtrace},
    {"tracebackancestors", &debug.tracebackancestors},
    {"tracefpunwindoff", &debug.tracefpunwindoff},
};

/* Knobs whose values may be words (the numbers are accepted too). */
static const struct {
    const char *name, *word;
    int32_t value;
} dbgwords[] = {
    {"gcdirty", "off", 0},
    {"gcdirty", "uffd", 2},
    {"gcdirty", "mprotect", 3},
};

static bool dbgword(const char *name, const char *word, int32_t *out)
{
    for (size_t i = 0; i < sizeof dbgwords / sizeof dbgwords[0]; i++) {
        if (strcmp(dbgwords[i].name, name) == 0 && strcmp(dbgwords[i].word, word) == 0) {
            *out = dbgwords[i].value;
            return true;
        }
    }
    return false;
}

static void parse_godebug(const char *s)
{
    while (*s) {
        const char *end = s;
        while (*end && *end != ',')
            end++;
        const char *eq = s;
        while (eq < end && *eq != '=')
            eq++;
        if (eq < end) {
            size_t klen = (size_t)(eq - s);
            char val[32];
            size_t vlen = (size_t)(end - eq - 1);
            if (vlen < sizeof val) {
                memcpy(val, eq + 1, vlen);
                val[vlen] = '\0';
                for (size_t i = 0; i < sizeof dbgvars / sizeof dbgvars[0]; i++) {
                    if (strlen(dbgvars[i].name) == klen && memcmp(dbgvars[i].name, s, klen) == 0) {
                        int32_t v;
                        if (gort_atoi32(val, &v) || dbgword(dbgvars[i].name, val, &v))
                            *dbgvars[i].value = v;
                    }
                }
            }
        }
        s = *end ? end + 1 : end;
    }
}

/* Go's setTraceback. */
static void set_traceback(const char *level)
{
    traceback_crash = false;
    if (strcmp(level, "none") == 0) {
        traceback_level = 0;
        traceback_all = false;
    } else if (strcmp(level, "single") == 0 || level[0] == '\0') {
        traceback_level = 1;
        traceback_all = false;
    } else if (strcmp(level, "all") == 0) {
        traceback_level = 1;
        traceback_all = true;
    } else if (strcmp(level, "system") == 0) {
        traceback_level = 2;
        traceback_all = true;
    } else if (strcmp(level, "crash") == 0) {
        traceback_level = 2;
        traceback_all = true;
        traceback_crash = true;
    } else {
        int32_t n;
        traceback_all = true;
        traceback_level = gort_atoi32(level, &n) && n >= 0 ? n : 0;
    }
}

void env_init(void)
{
    const char *s = getenv("GODEBUG");
    if (s != NULL)
        parse_godebug(s);
    s = getenv("GOTRACEBACK");
    set_traceback(s != NULL ? s : "");
    s = getenv("GOMAXPROCS");
    int32_t n;
    if (s != NULL && gort_atoi32(s, &n) && n > 0)
        env_gomaxprocs = n;
}
