/*
 * cmd-config.c - `kenchi config check FILE`: read the daemon's
 * configuration (docs/configuration.md) as `kenchi run` would, without
 * opening anything, and list every problem with its file:line:col.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config/config.h"

static void usage(FILE *out)
{
    fputs("Usage: kenchi config check FILE\n\n"
          "Check the configuration of `kenchi run`: every problem is printed with\n"
          "its file:line:column, unknown keys by name. Exit status 0 when the file\n"
          "is good (a summary is printed), 2 when it has problems.\n",
          out);
}

int cmd_config(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "check")) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct config *cf = NULL;
    int rc = config_load(argv[2], stderr, &cf);
    if (rc != 0) {
        if (rc > 0)
            fprintf(stderr, "kenchi config: %s: %d problem%s\n", argv[2], rc, rc == 1 ? "" : "s");
        return EXIT_USAGE;
    }
    printf("%s: good\n", argv[2]);
    printf("  store: %s\n", cf->store);
    printf("  rules: %zu path%s, intel: %zu file%s (%s stored indicators)\n", cf->nrules,
           cf->nrules == 1 ? "" : "s", cf->nintel, cf->nintel == 1 ? "" : "s",
           cf->stored_intel ? "with" : "without");
    for (size_t i = 0; i < cf->nsources; i++) {
        const struct config_source *s = &cf->sources[i];
        printf("  source %s: %s, format %s", s->name, s->type_name, s->format ? s->format : "auto");
        for (size_t k = 0; k < s->npaths; k++)
            printf("%s%s", k ? ", " : ", paths ", s->paths[k]);
        putchar('\n');
    }
    for (size_t i = 0; i < cf->noutputs; i++)
        printf("  output %s: %s, alerts of level %s and above\n", cf->outputs[i].name,
               cf->outputs[i].type, config_levels[cf->outputs[i].min_level]);
    if (!cf->noutputs)
        printf("  no outputs: alerts are kept in the store only\n");
    if (cf->metrics_enabled)
        printf("  metrics: %s:%u\n", cf->metrics_listen.host, cf->metrics_listen.port);
    config_free(cf);
    return 0;
}
