/*
 * cmd-config.c - `kenchi config check FILE`: read the daemon's
 * configuration (docs/configuration.md) as `kenchi run` would, without
 * opening anything, and list every problem with its file:line:col. A file
 * with a `baselines:` section and no sources is checked as `kenchi scan
 * --config FILE` reads it (docs/baselines.md).
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
          "is good (a summary is printed), 2 when it has problems. A file with a\n"
          "`baselines:` section and no sources is checked as `kenchi scan --config`\n"
          "reads it.\n",
          out);
}

static void print_baselines(const struct bl_config *c)
{
    if (!c->enabled) {
        printf("  baselines: off\n");
        return;
    }
    printf("  baselines: learning %lld d, window %lld s, levels %g/%g/%g/%g, %zu internal "
           "domain%s, %zu internal network%s, %zu server%s, %zu suppression%s%s\n",
           (long long)(c->learning_s / 86400), (long long)c->window_s, c->level_low,
           c->level_medium, c->level_high, c->level_critical, c->ninternal_domains,
           c->ninternal_domains == 1 ? "" : "s", c->ninternal_networks,
           c->ninternal_networks == 1 ? "" : "s", c->nservers, c->nservers == 1 ? "" : "s",
           c->nsuppress, c->nsuppress == 1 ? "" : "s",
           c->geoip_asn || c->geoip_country ? ", geoip" : "");
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
    struct bl_config blc;
    struct config_sections sec;
    int rc = config_load_baselines(argv[2], NULL, &blc, &sec);
    if (rc >= 0 && !sec.sources && sec.baselines) {
        bl_config_free(&blc);
        rc = config_load_baselines(argv[2], stderr, &blc, NULL);
        if (rc != 0) {
            if (rc > 0)
                fprintf(stderr, "kenchi config: %s: %d problem%s\n", argv[2], rc,
                        rc == 1 ? "" : "s");
            return EXIT_USAGE;
        }
        printf("%s: good (baselines only: for kenchi scan --config; kenchi run needs sources)\n",
               argv[2]);
        print_baselines(&blc);
        bl_config_free(&blc);
        return 0;
    }
    bl_config_free(&blc);
    struct config *cf = NULL;
    rc = config_load(argv[2], stderr, &cf);
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
    print_baselines(&cf->baselines);
    config_free(cf);
    return 0;
}
