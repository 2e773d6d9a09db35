/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Command-line options as tables, after xdp-tools' params.c: a subcommand
 * lists each option once, as a row of struct opt (long and short form,
 * type, where the value goes, help text, limits). params_parse() reads argv
 * against the rows with one validation path and one error style, and the
 * same rows print --help (params_usage()) and the man page (man.c), so the
 * three cannot drift apart.
 *
 * Errors, all on stderr and prefixed with the subcommand:
 *	rx: bad batch 'x'                     value that does not parse
 *	rx: batch 300 out of range 1..256     number outside [lo, hi]
 *	rx: ring size 1000 is not a power of two in 64..65536
 *	rx: unknown option '--bogus'          followed by the usage line
 */
#ifndef XFRAG_BENCH_PARAMS_H
#define XFRAG_BENCH_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
	OPT_BOOL,    /* no value: the bool field becomes true */
	OPT_SET,     /* no value: the integer field becomes .set (modes, enums) */
	OPT_STR,     /* const char *: the argument itself */
	OPT_UINT,    /* unsigned, K/M/G suffixes (x1024), in [lo, hi] */
	OPT_SI,      /* unsigned, k/M/G suffixes (x1000), in [lo, hi] */
	OPT_SECONDS, /* double, > 0 and at most 1e7 */
	OPT_CPU,     /* int: one CPU this process may run on */
	OPT_FUNC,    /* .parse() reads the argument into the config */
};

/*
 * opt_parse_fn - the parser of an OPT_FUNC row
 * @field: the row's field (.off): a member, a struct of several, or the
 *	whole configuration (offset 0) when the option sets more than one
 * @arg: the argument; NULL for an optional value that was not given
 * @why: on failure, a full message ("CPU 7 is not available ...") or ""
 *	for the row's own "bad WHAT 'ARG'HINT"
 * Return: 0, or -1.
 */
typedef int (*opt_parse_fn)(void *field, const char *arg, char *why, size_t len);

struct opt {
	const char *name;    /* long form without "--"; NULL: short form only */
	int short_opt;       /* 0: long form only */
	enum opt_type type;
	size_t off, size;    /* the field, see OPT_FIELD() */
	const char *metavar; /* the value's name in --help; NULL: no value */
	const char *help;    /* '\n' starts a new line in --help */
	const char *what;    /* the value in messages: "bad WHAT 'ARG'" */
	const char *hint;    /* appended to that message, e.g. " (frames > 0)" */
	uint64_t lo, hi;     /* OPT_UINT, OPT_SI; hi 0: as large as the field */
	int64_t set;         /* OPT_SET: the value stored */
	opt_parse_fn parse;  /* OPT_FUNC */
	const char *missing; /* required: what to say when it is not given */
	bool pow2;           /* the number must be a power of two */
	bool positive;       /* 0 does not parse ("bad count '0'") */
	bool optional;       /* --name[=VALUE]: the value may be left out */
};

/* .off and .size of a member of the configuration struct */
#define OPT_FIELD(type, member) \
	.off = offsetof(type, member), .size = sizeof(((type *)0)->member)

/* One subcommand's options and the words around them. */
struct opt_table {
	const char *cmd;      /* "rx" */
	const char *synopsis; /* after "xfrag-bench rx ": "-i IFACE [options]" */
	const char *about;    /* what the command does: --help and the man page */
	const struct opt *opts;
	unsigned int n;
	const char *notes;    /* after the options */
};

#define OPT_TABLE_LEN(a) ((unsigned int)(sizeof(a) / sizeof((a)[0])))

/**
 * params_parse() - read argv into @cfg as @t describes
 * @t: the subcommand's table
 * @argc: argument count, argv[0] being the subcommand's name
 * @argv: arguments
 * @cfg: the configuration the rows point into, holding the defaults
 *
 * Return: 0 (parsed), 1 (--help printed to stdout: exit 0) or 2 (an error
 * was printed: exit 2, bad usage).
 */
int params_parse(const struct opt_table *t, int argc, char **argv, void *cfg);

/** params_usage() - print @t as --help does */
void params_usage(const struct opt_table *t, FILE *f);

/*
 * Parsers the rows share. Each returns 0, or -1 if @s is not a number of
 * that kind (empty, junk after it, negative, too large for 64 bits).
 */
/* K/M/G suffixes as powers of 1024, optional "i"/"B" after them */
int parse_size(const char *s, uint64_t *out);
/* k/M/G suffixes as powers of 1000, whole numbers only */
int parse_si(const char *s, uint64_t *out);
/* seconds: > 0, finite, at most 1e7 */
int parse_seconds(const char *s, double *out);
/* "0,1,3" into @out (at most @max numbers, each < 2^32); @n counts them */
int parse_u32_list(const char *s, uint32_t *out, unsigned int max, unsigned int *n);

/**
 * cpu_check() - may this process run on @cpu?
 * @cpu: CPU number
 * @why: receives "CPU 7 is not available: this process may run on CPUs 0-1"
 * @len: its size
 *
 * Return: 0, or -1 with @why set.
 */
int cpu_check(long cpu, char *why, size_t len);

#endif
