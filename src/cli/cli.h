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
#include <stdio.h>

#include "pipeline/pipeline.h"

#define EXIT_USAGE 2
#define EXIT_RUNTIME 3

int cmd_parse(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_search(int argc, char **argv);

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
#define READ_LONG_OPTS                                                                          \
    {"format", required_argument, NULL, OPT_FORMAT},                                            \
        {"timezone", required_argument, NULL, OPT_TIMEZONE},                                    \
        {"year", required_argument, NULL, OPT_YEAR}

/* True when stdout is a terminal (tables) rather than a pipe (JSON lines). */
bool stdout_is_tty(void);

#endif
