/*
 * main.c - `kenchi <verb>`: the verb table and dispatch.
 *
 * The table below is the one place a verb is named; help text is generated
 * from it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/timeconv.h"

#ifndef KENCHI_VERSION
#define KENCHI_VERSION "0.1.0"
#endif

struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct verb verbs[] = {
    {"parse", cmd_parse, "decode log files and print events as JSON lines"},
    {"scan", cmd_scan, "run files through the pipeline (detect, store) and summarise"},
    {"rules", cmd_rules, "check and list Sigma rules (rules check PATH..., rules list)"},
    {"search", cmd_search, "find stored events by user, IP, e-mail address and time"},
    {"scope", cmd_scope,
     "what a compromise touched: accounts, mail read, sent, forwarded, who to notify"},
    {"hunt", cmd_hunt, "match the stored intelligence against every stored event (retro-hunt)"},
    {"intel", cmd_intel, "threat intelligence: import, pull (TAXII), list, remove, export (STIX)"},
    {"config", cmd_config, "check the configuration of kenchi run (config check FILE)"},
    {"run", cmd_run, "the live daemon: tail files and listen, detect, store, deliver alerts"},
    {"status", cmd_status, "a running daemon's health: events, alerts, queue, drops, lag"},
    {"baseline", cmd_baseline,
     "what kenchi believes is normal for an entity, and why (show, list)"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "kenchi %s - early-warning intrusion detection for mail infrastructure\n\n"
            "Usage: kenchi <verb> [OPTIONS] ...\n\nVerbs:\n",
            KENCHI_VERSION);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fputs("\nRun 'kenchi <verb> --help' for the options of a verb.\n", out);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is reported by write() */
    tz_pin_default();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("kenchi %s\n", KENCHI_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "kenchi: unknown verb '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
