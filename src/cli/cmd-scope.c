/*
 * cmd-scope.c - `kenchi scope`: what did a compromise touch, from the store.
 *
 * Options name the window and the starting points (indicators, entities);
 * hunt/scope.c asks the store and builds the report, hunt/scope-report.c
 * writes it: a sectioned table on a terminal, one JSON object, or the
 * notification list as CSV (docs/intel.md, "Scope").
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "hunt/scope.h"
#include "store/store.h"
#include "util/timeconv.h"

#define SCOPE_TARGETS_MAX 256
#define SCOPE_DOMAINS_MAX 64

static void usage(FILE *out)
{
    fputs("Usage: kenchi scope --since T [--until T] (--indicator X | --entity E)... [OPTIONS]\n"
          "What did a compromise touch in the window: the accounts that logged in from the\n"
          "indicators' addresses, what they read, the mail they sent, received and forwarded,\n"
          "the rules and permissions they changed, and the external correspondents to notify.\n\n"
          "  -s, --store FILE      the store to read (default: " STORE_DEFAULT_PATH ")\n"
          "      --since T         start of the window (required): RFC 3339 time, a date\n"
          "                        (2024-03-01, midnight UTC), or an age such as 36h, 7d, 2w\n"
          "      --until T         end of the window, exclusive (default: no end)\n"
          "  -i, --indicator X     an address or CIDR block, a domain, or an e-mail address;\n"
          "                        ip:, cidr:, domain:, email: force the type (repeatable)\n"
          "  -e, --entity E        an account (user name), an e-mail address (its account and\n"
          "                        mailbox), or a host name (the mail it handled, the logins\n"
          "                        on it); account:, email:, host:, ip: force the type\n"
          "                        (repeatable)\n"
          "  -d, --domain D        one of the organisation's own domains (repeatable); without\n"
          "                        any they are inferred and the report says which\n"
          "  -o, --output F        table (default on a terminal), json (default otherwise),\n"
          "                        or csv (the external correspondents, one per row)\n"
          "      --mail-scan       read the window's mail by a scan of every Postfix line\n"
          "                        (default: the messages the index names, see docs/intel.md)\n"
          "  -h, --help            show this help\n\n"
          "Exit status: 0 success (whether or not anything was touched), 2 usage error,\n"
          "3 the store could not be read.\n",
          out);
}

int cmd_scope(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"store", required_argument, NULL, 's'},  {"since", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'U'},  {"indicator", required_argument, NULL, 'i'},
        {"entity", required_argument, NULL, 'e'}, {"domain", required_argument, NULL, 'd'},
        {"output", required_argument, NULL, 'o'}, {"mail-scan", no_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *path = STORE_DEFAULT_PATH, *output = NULL;
    static struct scope_target targets[SCOPE_TARGETS_MAX];
    const char *domains[SCOPE_DOMAINS_MAX];
    size_t ntargets = 0, ndomains = 0;
    struct scope_opts so = {.since_ns = TIME_NONE, .until_ns = TIME_NONE};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:i:e:d:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            path = optarg;
            break;
        case 'M':
            so.mail_scan = true;
            break;
        case 'S':
            if (cli_parse_time("scope", "--since", optarg, &so.since_ns) < 0)
                return EXIT_USAGE;
            break;
        case 'U':
            if (cli_parse_time("scope", "--until", optarg, &so.until_ns) < 0)
                return EXIT_USAGE;
            break;
        case 'i':
        case 'e': {
            if (ntargets == SCOPE_TARGETS_MAX) {
                fprintf(stderr, "kenchi scope: at most %d indicators and entities\n",
                        SCOPE_TARGETS_MAX);
                return EXIT_USAGE;
            }
            const char *why;
            if (scope_parse_target(optarg, c == 'e', &targets[ntargets], &why) < 0) {
                fprintf(stderr, "kenchi scope: %s: '%s' is not usable: %s\n",
                        c == 'e' ? "--entity" : "--indicator", optarg, why);
                return EXIT_USAGE;
            }
            ntargets++;
            break;
        }
        case 'd': {
            const char *why;
            struct scope_target dt;
            const char *d = optarg[0] == '@' ? optarg + 1 : optarg;
            if (scope_parse_target(d, false, &dt, &why) < 0 || dt.kind != SCOPE_DOMAIN) {
                fprintf(stderr, "kenchi scope: --domain: '%s' is not a domain name\n", optarg);
                return EXIT_USAGE;
            }
            if (ndomains == SCOPE_DOMAINS_MAX) {
                fprintf(stderr, "kenchi scope: at most %d domains\n", SCOPE_DOMAINS_MAX);
                return EXIT_USAGE;
            }
            domains[ndomains++] = d;
            break;
        }
        case 'o':
            output = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kenchi scope: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (so.since_ns == TIME_NONE) {
        fprintf(stderr, "kenchi scope: --since is required (the start of the compromise)\n");
        return EXIT_USAGE;
    }
    if (so.until_ns != TIME_NONE && so.until_ns <= so.since_ns) {
        fprintf(stderr, "kenchi scope: --until must be later than --since\n");
        return EXIT_USAGE;
    }
    if (!ntargets) {
        fprintf(stderr, "kenchi scope: name at least one --indicator or --entity\n");
        return EXIT_USAGE;
    }
    enum scope_format fmt = stdout_is_tty() ? SCOPE_OUT_TABLE : SCOPE_OUT_JSON;
    if (output) {
        if (!strcmp(output, "table"))
            fmt = SCOPE_OUT_TABLE;
        else if (!strcmp(output, "json"))
            fmt = SCOPE_OUT_JSON;
        else if (!strcmp(output, "csv"))
            fmt = SCOPE_OUT_CSV;
        else {
            fprintf(stderr, "kenchi scope: --output must be table, json or csv\n");
            return EXIT_USAGE;
        }
    }
    so.targets = targets;
    so.ntargets = ntargets;
    so.domains = domains;
    so.ndomains = ndomains;

    struct store_opts sto;
    store_opts_default(&sto);
    sto.read_only = true;
    struct store *s;
    int rc = store_open(path, &sto, &s);
    if (rc < 0) {
        fprintf(stderr, "kenchi scope: %s\n", store_errmsg(s));
        store_close(s);
        return EXIT_RUNTIME;
    }
    struct scope_report *r;
    rc = scope_run(s, &so, &r);
    if (rc == 0) {
        rc = scope_write(r, fmt, stdout);
        scope_report_free(r);
        if (fflush(stdout) == EOF && rc == 0)
            rc = -errno;
    }
    int status = 0;
    if (rc == -EPIPE) {
        status = 0; /* the reader went away (| head): not an error */
    } else if (rc < 0) {
        const char *m = store_errmsg(s);
        fprintf(stderr, "kenchi scope: %s\n", *m ? m : strerror(-rc));
        status = EXIT_RUNTIME;
    }
    store_close(s);
    return status;
}
