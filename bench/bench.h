/*
 * bench.h — what every gort peer benchmark shares with its Go twin.
 *
 * A gort benchmark is only comparable with its peer in
 * shared/peers/go/cmd/NAME if both read the same flags and print the same
 * line, so this header copies the peers' internal packages rather than
 * inventing its own conventions:
 *   flags    Go's flag package: -name value, -name=value, --name value;
 *            "--" or the first non-flag argument ends the flags; errors
 *            print Go's messages and the usage, and exit 2.
 *   report   internal/report: one JSON object on one line, keys bench,
 *            impl, gomaxprocs, the workload's own fields in the order they
 *            were added, max_rss_kib; floats rounded to 6 significant
 *            digits and printed without an exponent (Go's
 *            FormatFloat(ParseFloat(FormatFloat(x,'g',6)),'f',-1)).
 *   fail     "FAIL: why" on stderr, no line, exit status 1.
 *   rng      internal/rng: splitmix64 and its Fisher-Yates Perm.
 *   stats    internal/stats: percentile q of m samples is element
 *            floor(q*m) of the sorted samples, clamped to m-1.
 *   rss      the resident field of /proc/self/statm, in bytes.
 *
 * Every program is one .c file that the build links on its own, so the
 * helpers are static inline (unused ones cost nothing and draw no warning).
 */
#ifndef GORT_BENCH_H
#define GORT_BENCH_H

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gort.h"

/* ---- failure ------------------------------------------------------------ */

static inline void bench_fail(const char *why)
{
	fprintf(stderr, "FAIL: %s\n", why);
	exit(1);
}

/* ---- clock -------------------------------------------------------------- */

/* Seconds since t0 (a gort_nanotime reading), as Go's time.Since(t0).Seconds(). */
static inline double bench_since(int64_t t0)
{
	return (double)(gort_nanotime() - t0) / 1e9;
}

/* Go's report.PerOp: nanoseconds per operation. */
static inline double bench_per_op(double seconds, int64_t ops)
{
	return seconds * 1e9 / (double)ops;
}

/* ---- flags -------------------------------------------------------------- */

enum flag_kind { FLAG_INT, FLAG_STRING };

struct flag {
	const char *name;
	enum flag_kind kind;
	void *value; /* int64_t * for FLAG_INT, const char ** for FLAG_STRING;
	                holds the default on entry to flags_parse */
	const char *usage;
};

#define FLAG_INT(name, var, usage) { name, FLAG_INT, &(var), usage }
#define FLAG_STRING(name, var, usage) { name, FLAG_STRING, &(var), usage }
#define countof(a) ((int)(sizeof(a) / sizeof((a)[0])))

static inline void flags_usage(const char *prog, const struct flag *flags, int nflags,
                               const char **defaults)
{
	int order[16]; /* Go lists the flags sorted by name */
	for (int i = 0; i < nflags; i++) {
		int j = i;
		for (; j > 0 && strcmp(flags[order[j - 1]].name, flags[i].name) > 0; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	fprintf(stderr, "Usage of %s:\n", prog);
	for (int o = 0; o < nflags; o++) {
		int i = order[o];
		const struct flag *f = &flags[i];
		fprintf(stderr, "  -%s %s\n    \t%s", f->name,
		        f->kind == FLAG_INT ? "int" : "string", f->usage);
		/* Go leaves out a zero default */
		if (f->kind == FLAG_INT && strcmp(defaults[i], "0") != 0)
			fprintf(stderr, " (default %s)", defaults[i]);
		else if (f->kind == FLAG_STRING && defaults[i][0] != '\0')
			fprintf(stderr, " (default \"%s\")", defaults[i]);
		fputc('\n', stderr);
	}
}

/* Go's strconv.ParseInt(s, 0, 64), less the underscores. */
static inline bool flags_parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (*s == '\0' || *end != '\0' || errno != 0)
		return false;
	*out = v;
	return true;
}

/* Parses argv[1..] into flags as Go's flag.Parse does with ExitOnError.  The
 * arguments after the flags are ignored: no workload takes any. */
static inline void flags_parse(int argc, char **argv, const struct flag *flags, int nflags)
{
	const char *prog = argc > 0 ? argv[0] : "bench";
	const char *defaults[16];
	char defbuf[16][24];
	if (nflags > 16)
		bench_fail("flags_parse: more than 16 flags");
	for (int i = 0; i < nflags; i++) {
		if (flags[i].kind == FLAG_INT) {
			snprintf(defbuf[i], sizeof defbuf[i], "%" PRId64, *(int64_t *)flags[i].value);
			defaults[i] = defbuf[i];
		} else {
			defaults[i] = *(const char **)flags[i].value;
		}
	}

	for (int a = 1; a < argc; a++) {
		const char *s = argv[a];
		if (strlen(s) < 2 || s[0] != '-')
			return;
		const char *name = s + 1;
		if (s[1] == '-') {
			if (s[2] == '\0')
				return;
			name = s + 2;
		}
		if (name[0] == '\0' || name[0] == '-' || name[0] == '=') {
			fprintf(stderr, "bad flag syntax: %s\n", s);
			flags_usage(prog, flags, nflags, defaults);
			exit(2);
		}
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct flag *f = NULL;
		for (int i = 0; i < nflags && !f; i++)
			if (strlen(flags[i].name) == len && memcmp(flags[i].name, name, len) == 0)
				f = &flags[i];
		if (!f) {
			if ((len == 1 && name[0] == 'h') || (len == 4 && memcmp(name, "help", 4) == 0)) {
				flags_usage(prog, flags, nflags, defaults);
				exit(0);
			}
			fprintf(stderr, "flag provided but not defined: -%.*s\n", (int)len, name);
			flags_usage(prog, flags, nflags, defaults);
			exit(2);
		}
		const char *val;
		if (eq) {
			val = eq + 1;
		} else if (a + 1 < argc) {
			val = argv[++a];
		} else {
			fprintf(stderr, "flag needs an argument: -%s\n", f->name);
			flags_usage(prog, flags, nflags, defaults);
			exit(2);
		}
		if (f->kind == FLAG_STRING) {
			*(const char **)f->value = val;
		} else if (!flags_parse_int(val, f->value)) {
			fprintf(stderr, "invalid value \"%s\" for flag -%s: %s\n", val, f->name,
			        errno == ERANGE ? "value out of range" : "parse error");
			flags_usage(prog, flags, nflags, defaults);
			exit(2);
		}
	}
}

/* ---- report ------------------------------------------------------------- */

struct report {
	const char *bench;
	size_t len;       /* bytes used in fields */
	char fields[960]; /* ,"key":value ... in the order added */
};

/* x as Go's report prints it: rounded to 6 significant digits, then the
 * shortest decimal of that double, never with an exponent.  A decimal of at
 * most 15 significant digits is the shortest form of the double it parses
 * to, so the %.5e digits less their trailing zeros are Go's digits (a
 * denormal may have a shorter form: the loop finds it); both sides round
 * the exact binary value half-to-even. */
static inline void report_format_float(char *out, size_t cap, double x)
{
	if (isnan(x) || isinf(x)) {
		snprintf(out, cap, "null");
		return;
	}
	char e[32], digits[8];
	snprintf(e, sizeof e, "%.5e", x);
	double r = strtod(e, NULL);
	for (int prec = 0; prec < 5; prec++) {
		char s[32];
		snprintf(s, sizeof s, "%.*e", prec, r);
		if (strtod(s, NULL) == r) {
			memcpy(e, s, sizeof s);
			break;
		}
	}
	const char *p = e;
	bool neg = *p == '-';
	if (neg)
		p++;
	int k = 0;
	for (; *p != 'e'; p++)
		if (*p != '.')
			digits[k++] = *p;
	int exp = atoi(p + 1);
	while (k > 1 && digits[k - 1] == '0')
		k--;

	char *o = out, *end = out + cap - 1;
#define PUT(c) do { if (o < end) *o++ = (c); } while (0)
	if (neg)
		PUT('-');
	if (exp >= k - 1) {
		for (int i = 0; i < k; i++)
			PUT(digits[i]);
		for (int i = 0; i < exp - (k - 1); i++)
			PUT('0');
	} else if (exp >= 0) {
		for (int i = 0; i < k; i++) {
			PUT(digits[i]);
			if (i == exp)
				PUT('.');
		}
	} else {
		PUT('0');
		PUT('.');
		for (int i = 0; i < -exp - 1; i++)
			PUT('0');
		for (int i = 0; i < k; i++)
			PUT(digits[i]);
	}
#undef PUT
	*o = '\0';
}

static inline void report_append(struct report *r, const char *key, const char *val)
{
	int n = snprintf(r->fields + r->len, sizeof r->fields - r->len, ",\"%s\":%s", key, val);
	if (n < 0 || (size_t)n >= sizeof r->fields - r->len)
		bench_fail("report line too long");
	r->len += (size_t)n;
}

static inline void report_int(struct report *r, const char *key, int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%" PRId64, v);
	report_append(r, key, buf);
}

static inline void report_float(struct report *r, const char *key, double v)
{
	char buf[400];
	report_format_float(buf, sizeof buf, v);
	report_append(r, key, buf);
}

/* Strings here are flag values and names: quote and escape as JSON does. */
static inline void report_string(struct report *r, const char *key, const char *v)
{
	char buf[256];
	size_t n = 0;
	buf[n++] = '"';
	for (; *v && n < sizeof buf - 8; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			n += (size_t)snprintf(buf + n, sizeof buf - n, "\\u%04x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
	report_append(r, key, buf);
}

/* Peak resident set size, KiB: getrusage(RUSAGE_SELF).ru_maxrss. */
static inline int64_t bench_max_rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Writes the line; gomaxprocs and max_rss_kib are read now, as in Go. */
static inline void report_print(const struct report *r)
{
	char line[1100];
	int n = snprintf(line, sizeof line,
	                 "{\"bench\":\"%s\",\"impl\":\"gort\",\"gomaxprocs\":%d%s,\"max_rss_kib\":%" PRId64 "}\n",
	                 r->bench, gort_gomaxprocs(0), r->fields, bench_max_rss_kib());
	if (n < 0 || (size_t)n >= sizeof line)
		bench_fail("report line too long");
	fwrite(line, 1, (size_t)n, stdout);
	fflush(stdout);
}

/* ---- resident memory ---------------------------------------------------- */

/* Resident bytes now: field 2 of /proc/self/statm times the page size. */
static inline int64_t bench_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long long size, resident;
	if (!f)
		bench_fail("cannot read /proc/self/statm");
	if (fscanf(f, "%lld %lld", &size, &resident) != 2)
		bench_fail("cannot read /proc/self/statm");
	fclose(f);
	return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

/* ---- splitmix64 --------------------------------------------------------- */

struct splitmix64 {
	uint64_t s;
};

static inline uint64_t splitmix64_next(struct splitmix64 *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* p[0..n) = a permutation of 0..n-1, drawn as rng.Perm draws it. */
static inline void splitmix64_perm(struct splitmix64 *r, int64_t *p, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		p[i] = i;
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)(splitmix64_next(r) % (uint64_t)(i + 1));
		int64_t t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
}

/* ---- stats -------------------------------------------------------------- */

static inline int stats_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static inline void stats_sort(double *xs, size_t n)
{
	qsort(xs, n, sizeof *xs, stats_cmp);
}

/* The q-quantile (0..1) of the sorted s[0..n). */
static inline double stats_at(const double *s, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)((double)n * q);
	return s[i < n ? i : n - 1];
}

/* Sorts xs in place and returns its mean, p99 and max. */
static inline void stats_summary(double *xs, size_t n, double *mean, double *p99, double *max)
{
	*mean = *p99 = *max = 0;
	if (n == 0)
		return;
	stats_sort(xs, n);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += xs[i];
	*mean = sum / (double)n;
	*p99 = stats_at(xs, n, 0.99);
	*max = xs[n - 1];
}

#endif /* GORT_BENCH_H */
