/*
 * cmd-run.c - `kenchi run --config FILE`: the live daemon (daemon/live.h;
 * the configuration is described in docs/configuration.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"
#include "daemon/live.h"

static void usage(FILE *out)
{
    fputs("Usage: kenchi run --config FILE\n\n"
          "Run the live daemon: tail the configured files, read standard input or\n"
          "listen for syslog, detect with the same decoders, rules and intelligence\n"
          "as `kenchi scan`, keep events and alerts in the store and deliver alerts\n"
          "to the configured outputs. SIGHUP reloads rules and intelligence and\n"
          "reopens outputs; SIGTERM or SIGINT drain, commit and stop.\n\n"
          "  -c, --config FILE   the configuration (required; check it with\n"
          "                      `kenchi config check FILE`; docs/configuration.md)\n",
          out);
}

int cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!path || optind < argc) {
        fprintf(stderr, "kenchi run: %s\n",
                path ? "unexpected arguments after the options"
                     : "--config FILE is required: the daemon reads nothing it is not told to "
                       "(config/kenchi.example.yml is an example; docs/configuration.md "
                       "describes every setting)");
        return EXIT_USAGE;
    }
    struct config *cf = NULL;
    int rc = config_load(path, stderr, &cf);
    if (rc != 0) {
        if (rc > 0)
            fprintf(stderr, "kenchi run: %s: %d problem%s: not started\n", path, rc,
                    rc == 1 ? "" : "s");
        return EXIT_USAGE;
    }
    rc = live_run(cf);
    config_free(cf);
    return rc;
}
