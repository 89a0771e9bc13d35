/*
 * common.c - options and helpers shared by the verbs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <time.h>
#include "cli/cli.h"
#include "decode/decode.h"
#include "util/timeconv.h"

int read_opts_handle(struct read_opts *ro, int opt, const char *arg)
{
    switch (opt) {
    case OPT_FORMAT:
        ro->format = arg;
        return 1;
    case OPT_TIMEZONE:
        ro->timezone = arg;
        return 1;
    case OPT_YEAR: {
        char *end;
        long y = strtol(arg, &end, 10);
        if (*end || y < 1970 || y > TIME_YEAR_MAX) {
            fprintf(stderr, "kenchi: --year: '%s' is not a year (1970..%d)\n", arg, TIME_YEAR_MAX);
            return -1;
        }
        ro->year = (int)y;
        return 1;
    }
    default:
        return 0;
    }
}

int read_opts_apply(const struct read_opts *ro, struct pipeline_opts *po)
{
    if (ro->timezone && tz_select(ro->timezone) < 0) {
        fprintf(stderr,
                "kenchi: --timezone: unknown zone '%s' (use a name such as "
                "Europe/Berlin or UTC)\n",
                ro->timezone);
        return EXIT_USAGE;
    }
    if (ro->format && pipeline_check_format(ro->format) < 0) {
        fprintf(stderr, "kenchi: --format: unknown format '%s'; known formats:\n", ro->format);
        read_opts_help(stderr);
        return EXIT_USAGE;
    }
    po->format = ro->format;
    po->year = ro->year;
    return 0;
}

void read_opts_help(FILE *out)
{
    fputs("Reading options:\n"
          "  -f, --format F     read every file as format F instead of detecting it\n"
          "      --timezone Z   zone of timestamps that carry none (default: this machine's)\n"
          "      --year Y       year of RFC 3164 timestamps (default: from each file's\n"
          "                     modification time)\n"
          "Formats:\n"
          "  auto               detect per file (and per line in mixed syslog files)\n",
          out);
    for (size_t i = 0; decoders[i]; i++)
        fprintf(out, "  %-18s %s\n", decoders[i]->name, decoders[i]->description);
    for (size_t i = 0; syslog_apps[i]; i++)
        fprintf(out, "  %-18s %s messages in syslog lines (or bare, without header)\n",
                syslog_apps[i]->name, syslog_apps[i]->name);
}

bool stdout_is_tty(void)
{
    return isatty(STDOUT_FILENO) == 1;
}

int cli_parse_time(const char *verb, const char *opt, const char *arg, int64_t *out)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (time_parse_user(arg, (int64_t)now.tv_sec * NS_PER_SEC + now.tv_nsec, out) == 0)
        return 0;
    fprintf(stderr,
            "kenchi %s: %s: '%s' is not a time (use 2024-03-01T10:00:00Z, 2024-03-01, "
            "or an age such as 7d)\n",
            verb, opt, arg);
    return -EINVAL;
}
