/*
 * cli.h - the verbs of the kenchi command, and what they share.
 *
 * Each verb is one cli/cmd-VERB.c exporting `int cmd_VERB(int argc, char **argv)`
 * (argv[0] is the verb) and one row in the verb table of main.c. Verbs return
 * the process exit status: 0 success, 1 findings/problems in the input that
 * the user should look at, 2 usage errors, 3 runtime failure.
 */
#ifndef KENCHI_CLI_CLI_H
#define KENCHI_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline/pipeline.h"

#define EXIT_USAGE   2
#define EXIT_RUNTIME 3

int cmd_parse(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_scope(int argc, char **argv);
int cmd_hunt(int argc, char **argv);
int cmd_intel(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_baseline(int argc, char **argv);

/* Options shared by every verb that reads logs. */
struct read_opts {
    const char *format;
    const char *timezone;
    int year;
};

/* Parse one shared reading option at getopt's current position. Returns 1
 * if the option was one of them, 0 if not, -1 on a bad value (reported). */
int read_opts_handle(struct read_opts *ro, int opt, const char *arg);
/* Apply: select the zone, check the format. Returns 0 or EXIT_USAGE. */
int read_opts_apply(const struct read_opts *ro, struct pipeline_opts *po);
/* Help text lines for the shared options, and the list of formats. */
void read_opts_help(FILE *out);

/* getopt_long values for the shared options */
enum { OPT_FORMAT = 'f', OPT_TIMEZONE = 0x100, OPT_YEAR, OPT_CLI_LAST };
#define READ_LONG_OPTS                                                                             \
    {"format", required_argument, NULL, OPT_FORMAT},                                               \
        {"timezone", required_argument, NULL, OPT_TIMEZONE},                                       \
    {                                                                                              \
        "year", required_argument, NULL, OPT_YEAR                                                  \
    }

/* Options of the verbs that load Sigma rules (cmd-rules.c). */
#define RULE_PATHS_MAX 64
struct rule_opts {
    const char *paths[RULE_PATHS_MAX];
    int npaths;
    bool none; /* --no-rules */
    const char *logsources;
    const char *placeholders;
};
enum { OPT_RULES = 0x180, OPT_NO_RULES, OPT_LOGSOURCES, OPT_PLACEHOLDERS };
#define RULE_LONG_OPTS                                                                             \
    {"rules", required_argument, NULL, OPT_RULES}, {"no-rules", no_argument, NULL, OPT_NO_RULES},  \
        {"logsources", required_argument, NULL, OPT_LOGSOURCES},                                   \
    {                                                                                              \
        "placeholders", required_argument, NULL, OPT_PLACEHOLDERS                                  \
    }
/* 1 if handled, 0 if not a rule option, -1 on error (reported). */
int rule_opts_handle(struct rule_opts *ro, int opt, const char *arg);
void rule_opts_help(FILE *out);
/* The default rules directory (./rules, or rules/ of the source tree the
 * binary lives in), or NULL. */
const char *default_rules_dir(void);
struct sigma_set;
/* Load the rules ro names (or the default directory) into a finished set.
 * Returns 0 with *out NULL when there are no rules to load, 0 with a set,
 * or an exit status (reported). */
int rules_open(const struct rule_opts *ro, struct sigma_set **out, const char *verb);
/* Print refused rules (if any) to out, prefixed by the verb. */
void rules_report_problems(const struct sigma_set *s, const char *verb, FILE *out);

/* Options of the verbs that match indicators from files (intel-opts.c). */
#define INTEL_PATHS_MAX 64
struct intel_opts {
    const char *paths[INTEL_PATHS_MAX]; /* --intel */
    int npaths;
    int type; /* --intel-type: enum ioc_type or INTEL_TYPE_* (intel/intel-read.h) */
    const char *warninglists[INTEL_PATHS_MAX]; /* --warninglists */
    int nwarninglists;
};
enum { OPT_INTEL = 0x1c0, OPT_INTEL_TYPE, OPT_WARNINGLISTS };
#define INTEL_LONG_OPTS                                                                            \
    {"intel", required_argument, NULL, OPT_INTEL},                                                 \
        {"intel-type", required_argument, NULL, OPT_INTEL_TYPE},                                   \
    {                                                                                              \
        "warninglists", required_argument, NULL, OPT_WARNINGLISTS                                  \
    }
void intel_opts_init(struct intel_opts *io);
/* 1 if handled, 0 if not an intel option, -1 on error (reported). */
int intel_opts_handle(struct intel_opts *io, int opt, const char *arg);
void intel_opts_help(FILE *out);
/* What intel_open loaded, for the summaries. */
struct intel_load_summary {
    uint64_t files, indicators, values, skipped, problems, warned;
    size_t bytes;
    double seconds;
};
struct intel_set;
/* Read the --intel paths (with the --warninglists applied) into a new set,
 * reporting problems on diag (the first 20 with their place, then a
 * count) and a summary line. Returns 0 with *out NULL when there is no
 * --intel, 0 with a set, or an exit status (reported). */
int intel_open(const struct intel_opts *io, struct intel_set **out, const char *verb, FILE *diag,
               struct intel_load_summary *sum);
/* Read the --intel paths (warning lists applied) into one batch, which
 * this initialises (the caller frees it whatever the result); problems as
 * intel_open reports them. Returns 0 or an exit status (reported). */
struct ioc_batch;
/* Add the indicators store s keeps (kenchi intel import) to *set (made
 * when NULL and the store keeps some), with a line on diag; sum's totals
 * are updated. Returns 0 or an exit status (reported). */
struct store;
int intel_load_store(struct store *s, struct intel_set **set, const char *verb, FILE *diag,
                     struct intel_load_summary *sum);
int intel_read_batch(const struct intel_opts *io, struct ioc_batch *out, const char *verb,
                     FILE *diag);

/* Parse a --since/--until value (time_parse_user, ages counted back from
 * now) into *out; on a bad value say so ("kenchi VERB: OPT: ...") and return
 * -EINVAL. */
int cli_parse_time(const char *verb, const char *opt, const char *arg, int64_t *out);

/* True when stdout is a terminal (tables) rather than a pipe (JSON lines). */
bool stdout_is_tty(void);

#endif
