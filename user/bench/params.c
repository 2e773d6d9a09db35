// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Option tables: parse argv, print --help. See params.h. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

#define HELP_COL 25 /* --help: where the help text starts */

/* getopt_long() returns this plus the row index for a long option. */
#define LONG_BASE 256

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	/* 17179869185G must not wrap to 1 GiB. */
	if (v > (UINT64_MAX >> shift))
		return -1;
	v <<= shift;
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int parse_si(const char *s, uint64_t *out)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0))
		return -1;
	switch (*end) {
	case 'k': case 'K': v *= 1e3; end++; break;
	case 'm': case 'M': v *= 1e6; end++; break;
	case 'g': case 'G': v *= 1e9; end++; break;
	default: break;
	}
	if (*end || v > 1e18 || v != floor(v))
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e7)
		return -1;
	*out = v;
	return 0;
}

int parse_u32_list(const char *s, uint32_t *out, unsigned int max, unsigned int *n)
{
	char buf[256], *tok, *save = NULL;
	uint64_t v;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= max || parse_size(tok, &v) || v > UINT32_MAX)
			return -1;
		out[(*n)++] = (uint32_t)v;
	}
	return 0;
}

/* "0-1,4" */
static void cpu_set_str(const cpu_set_t *set, char *buf, size_t len)
{
	size_t used = 0;
	int c, lo = -1;

	buf[0] = 0;
	for (c = 0; c <= CPU_SETSIZE; c++) {
		bool in = c < CPU_SETSIZE && CPU_ISSET(c, set);

		if (in && lo < 0)
			lo = c;
		if (!in && lo >= 0 && used < len) {
			used += (size_t)snprintf(buf + used, len - used, "%s%d", used ? "," : "", lo);
			if (c - 1 > lo && used < len)
				used += (size_t)snprintf(buf + used, len - used, "-%d", c - 1);
			lo = -1;
		}
	}
}

int cpu_check(long cpu, char *why, size_t len)
{
	cpu_set_t set;
	char cpus[128];

	if (sched_getaffinity(0, sizeof(set), &set)) {
		snprintf(why, len, "cannot read the CPUs this process may use: %s", strerror(errno));
		return -1;
	}
	if (cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET((int)cpu, &set))
		return 0;
	cpu_set_str(&set, cpus, sizeof(cpus));
	snprintf(why, len, "CPU %ld is not available: this process may run on CPU%s %s",
		 cpu, strpbrk(cpus, ",-") ? "s" : "", cpus);
	return -1;
}

static uint64_t field_max(size_t size)
{
	return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

static void store_uint(void *field, size_t size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)field = (uint8_t)v; break;
	case 2: *(uint16_t *)field = (uint16_t)v; break;
	case 4: *(uint32_t *)field = (uint32_t)v; break;
	default: *(uint64_t *)field = v; break;
	}
}

static const char *opt_what(const struct opt *o)
{
	return o->what ? o->what : o->name;
}

/* One row's value. Returns 0, or 2 after printing why not. */
static int take(const struct opt_table *t, const struct opt *o, const char *arg, void *cfg)
{
	void *field = (char *)cfg + o->off;
	char why[256] = "";
	uint64_t v, hi;
	double d;

	switch (o->type) {
	case OPT_BOOL:
		*(bool *)field = true;
		return 0;
	case OPT_SET:
		store_uint(field, o->size, (uint64_t)o->set);
		return 0;
	case OPT_STR:
		*(const char **)field = arg;
		return 0;
	case OPT_SECONDS:
		if (parse_seconds(arg, &d))
			break;
		*(double *)field = d;
		return 0;
	case OPT_CPU:
		if (parse_size(arg, &v) || v > INT32_MAX)
			break;
		if (cpu_check((long)v, why, sizeof(why)))
			break;
		*(int *)field = (int)v;
		return 0;
	case OPT_FUNC:
		if (o->parse(field, arg, why, sizeof(why)))
			break;
		return 0;
	case OPT_UINT:
	case OPT_SI:
		if ((o->type == OPT_UINT ? parse_size(arg, &v) : parse_si(arg, &v)) ||
		    v > field_max(o->size) || (o->positive && !v))
			break;
		hi = o->hi ? o->hi : field_max(o->size);
		if (o->pow2 && (!v || (v & (v - 1)) || v < o->lo || v > hi)) {
			fprintf(stderr, "%s: %s %llu is not a power of two in %llu..%llu\n",
				t->cmd, opt_what(o), (unsigned long long)v,
				(unsigned long long)o->lo, (unsigned long long)hi);
			return 2;
		}
		if (v < o->lo || v > hi) {
			fprintf(stderr, "%s: %s %llu out of range %llu..%llu\n", t->cmd,
				opt_what(o), (unsigned long long)v, (unsigned long long)o->lo,
				(unsigned long long)hi);
			return 2;
		}
		store_uint(field, o->size, v);
		return 0;
	}
	if (why[0])
		fprintf(stderr, "%s: %s\n", t->cmd, why);
	else
		fprintf(stderr, "%s: bad %s '%s'%s\n", t->cmd, opt_what(o), arg ? arg : "",
			o->hint ? o->hint : "");
	return 2;
}

static void usage_line(const struct opt_table *t, FILE *f)
{
	fprintf(f, "usage: xfrag-bench %s %s   (--help lists the options)\n", t->cmd, t->synopsis);
}

int params_parse(const struct opt_table *t, int argc, char **argv, void *cfg)
{
	struct option *lo = calloc(t->n + 2, sizeof(*lo));
	char *so = calloc(3 * t->n + 4, 1);
	bool *given = calloc(t->n + 1, sizeof(*given));
	unsigned int i, nl = 0;
	size_t ns = 0;
	int opt, rc = 0;

	if (!lo || !so || !given) {
		fprintf(stderr, "%s: out of memory\n", t->cmd);
		rc = 2;
		goto out;
	}
	/* ':' first: a missing value comes back as ':', not '?' */
	so[ns++] = ':';
	so[ns++] = 'h';
	for (i = 0; i < t->n; i++) {
		const struct opt *o = &t->opts[i];
		int has = !o->metavar ? no_argument : o->optional ? optional_argument :
			  required_argument;

		if (o->name)
			lo[nl++] = (struct option){ o->name, has, NULL, (int)(LONG_BASE + i) };
		if (o->short_opt) {
			so[ns++] = (char)o->short_opt;
			if (has != no_argument)
				so[ns++] = ':';
			if (has == optional_argument)
				so[ns++] = ':';
		}
	}
	lo[nl++] = (struct option){ "help", no_argument, NULL, 'h' };

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct opt *o = NULL;

		if (opt == 'h') {
			params_usage(t, stdout);
			rc = 1;
			goto out;
		}
		if (opt == '?' || opt == ':') {
			const char *w = argv[optind - 1];

			if (opt == ':')
				fprintf(stderr, "%s: option '%s' needs a value\n", t->cmd, w);
			else if (optopt >= LONG_BASE)
				fprintf(stderr, "%s: option '--%s' takes no value\n", t->cmd,
					t->opts[optopt - LONG_BASE].name);
			else if (optopt)
				fprintf(stderr, "%s: unknown option '-%c'\n", t->cmd, optopt);
			else
				fprintf(stderr, "%s: unknown option '%s'\n", t->cmd, w);
			usage_line(t, stderr);
			rc = 2;
			goto out;
		}
		if (opt >= LONG_BASE) {
			o = &t->opts[opt - LONG_BASE];
		} else {
			for (i = 0; i < t->n && !o; i++)
				if (t->opts[i].short_opt == opt)
					o = &t->opts[i];
		}
		if (!o) { /* a short flag in the string but in no row: cannot be */
			rc = 2;
			goto out;
		}
		given[o - t->opts] = true;
		rc = take(t, o, optarg, cfg);
		if (rc)
			goto out;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", t->cmd, argv[optind]);
		rc = 2;
		goto out;
	}
	for (i = 0; i < t->n; i++)
		if (t->opts[i].missing && !given[i]) {
			fprintf(stderr, "%s: %s\n", t->cmd, t->opts[i].missing);
			usage_line(t, stderr);
			rc = 2;
			goto out;
		}
out:
	free(lo);
	free(so);
	free(given);
	return rc;
}

static void usage_row(FILE *f, int short_opt, const char *name, const char *metavar,
		      bool optional, const char *help)
{
	char left[96];
	int n;

	if (short_opt && name)
		n = snprintf(left, sizeof(left), "  -%c, --%s", short_opt, name);
	else if (name)
		n = snprintf(left, sizeof(left), "      --%s", name);
	else
		n = snprintf(left, sizeof(left), "  -%c", short_opt);
	if (metavar)
		n += snprintf(left + n, sizeof(left) - (size_t)n, optional ? "[=%s]" : " %s",
			      metavar);
	fprintf(f, "%-*s", HELP_COL, left);
	if (n >= HELP_COL - 1)
		fputs(n >= HELP_COL ? "  " : " ", f);
	for (const char *p = help; *p; p++) {
		fputc(*p, f);
		if (*p == '\n')
			fprintf(f, "%*s", HELP_COL, "");
	}
	fputc('\n', f);
}

void params_usage(const struct opt_table *t, FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: xfrag-bench %s %s\n", t->cmd, t->synopsis);
	if (t->about)
		fprintf(f, "\n%s\n", t->about);
	fputc('\n', f);
	for (i = 0; i < t->n; i++) {
		const struct opt *o = &t->opts[i];

		usage_row(f, o->short_opt, o->name, o->metavar, o->optional, o->help);
	}
	usage_row(f, 'h', "help", NULL, false, "print this help");
	if (t->notes)
		fprintf(f, "\n%s\n", t->notes);
}
