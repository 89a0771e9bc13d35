/*
 * cmd-rules.c - `kenchi rules check|list`, and the rule options that
 * `scan` shares (--rules, --logsources, --placeholders).
 *
 * check: load paths, print every refusal and warning as
 *        file:line:column: refused: reason, then the counts; exit 1 if
 *        anything was refused.
 * list:  the loaded rules, active or inactive (and why), as a table or
 *        JSON lines.
 *
 * Default rules: when no --rules/PATH is given, the repository's rules/
 * directory: ./rules if it exists, else rules/ two levels above the binary
 * (build/<kind>/kenchi in a source tree).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "detect/sigma.h"
#include "util/buf.h"

int rule_opts_handle(struct rule_opts *ro, int opt, const char *arg)
{
    switch (opt) {
    case OPT_RULES:
        if (ro->npaths == RULE_PATHS_MAX) {
            fprintf(stderr, "kenchi: too many --rules (at most %d)\n", RULE_PATHS_MAX);
            return -1;
        }
        ro->paths[ro->npaths++] = arg;
        return 1;
    case OPT_NO_RULES:
        ro->none = true;
        return 1;
    case OPT_LOGSOURCES:
        ro->logsources = arg;
        return 1;
    case OPT_PLACEHOLDERS:
        ro->placeholders = arg;
        return 1;
    default:
        return 0;
    }
}

void rule_opts_help(FILE *out)
{
    fputs("Rule options:\n"
          "      --rules PATH        Sigma rules: a file or a directory (recursive); may be\n"
          "                          repeated (default: the repository's rules/ directory)\n"
          "      --logsources FILE   log source mapping (default: config/logsources.yml)\n"
          "      --placeholders FILE values of %placeholders% for the expand modifier\n",
          out);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *default_rules_dir(void)
{
    static char path[4200];
    if (is_dir("rules"))
        return "rules";
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    snprintf(path, sizeof(path), "%.*s/../../rules", (int)(slash - exe), exe);
    return is_dir(path) ? path : NULL;
}

int rules_open(const struct rule_opts *ro, struct sigma_set **out, const char *verb)
{
    *out = NULL;
    const char *def = NULL;
    if (ro->none)
        return 0;
    if (ro->npaths == 0) {
        def = default_rules_dir();
        if (!def)
            return 0;
    }
    struct sigma_opts so = {ro->logsources, ro->placeholders};
    struct sigma_set *s;
    int rc = sigma_set_new(&so, &s, stderr);
    if (rc)
        return EXIT_USAGE;
    for (int i = 0; i < ro->npaths; i++) {
        if (sigma_set_load_path(s, ro->paths[i]) == -ENOENT) {
            fprintf(stderr, "kenchi %s: %s: no such file or directory\n", verb, ro->paths[i]);
            sigma_set_free(s);
            return EXIT_USAGE;
        }
    }
    if (def)
        sigma_set_load_path(s, def);
    sigma_set_finish(s);
    *out = s;
    return 0;
}

static void print_diags(const struct sigma_set *s, FILE *out, bool json, bool warnings)
{
    size_t n;
    const struct sigma_diag *d = sigma_set_diags(s, &n);
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (d[i].kind == SIGMA_WARNING && !warnings)
            continue;
        const char *kind = d[i].kind == SIGMA_REFUSED ? "refused" : "warning";
        if (json) {
            buf_clear(&b);
            buf_puts(&b, "{\"kind\":");
            json_put_string(&b, kind, strlen(kind));
            buf_puts(&b, ",\"file\":");
            json_put_string(&b, d[i].file, strlen(d[i].file));
            buf_printf(&b, ",\"line\":%u,\"column\":%u,\"message\":", d[i].line, d[i].col);
            json_put_string(&b, d[i].msg, strlen(d[i].msg));
            buf_puts(&b, "}\n");
            fputs(b.data, out);
        } else if (d[i].line) {
            fprintf(out, "%s:%u:%u: %s: %s\n", d[i].file, d[i].line, d[i].col, kind, d[i].msg);
        } else {
            fprintf(out, "%s: %s: %s\n", d[i].file, kind, d[i].msg);
        }
    }
    buf_free(&b);
}

void rules_report_problems(const struct sigma_set *s, const char *verb, FILE *out)
{
    struct sigma_counts c;
    sigma_set_counts(s, &c);
    if (!c.refused)
        return;
    fprintf(out, "kenchi %s: %u rule document%s refused (the rest is loaded):\n", verb, c.refused,
            c.refused == 1 ? "" : "s");
    print_diags(s, out, false, false);
}

static void check_usage(FILE *out)
{
    fputs("Usage: kenchi rules check [OPTIONS] [PATH...]\n"
          "Load Sigma rules (files or directories, recursively) and report every rule that\n"
          "cannot be loaded with its file:line:column and the reason, then the counts.\n"
          "Exit status 1 if any rule was refused. Without PATH, the default rules.\n\n"
          "  -o, --output F       table (default) or jsonl\n"
          "  -q, --quiet          do not print warnings\n",
          out);
    rule_opts_help(out);
}

static void list_usage(FILE *out)
{
    fputs("Usage: kenchi rules list [OPTIONS] [PATH...]\n"
          "List the loaded Sigma rules with their level, log source and whether any event\n"
          "kenchi reads can reach them (active) or not (inactive, with the reason).\n\n"
          "  -o, --output F       table (default on a terminal) or jsonl\n",
          out);
    rule_opts_help(out);
}

static int parse_opts(int argc, char **argv, struct rule_opts *ro, const char **output, bool *quiet,
                      void (*usage)(FILE *))
{
    static const struct option longopts[] = {
        RULE_LONG_OPTS,
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        int r = rule_opts_handle(ro, c, optarg);
        if (r == 1)
            continue;
        if (r < 0)
            return EXIT_USAGE;
        switch (c) {
        case 'o':
            *output = optarg;
            break;
        case 'q':
            *quiet = true;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (*output && strcmp(*output, "table") && strcmp(*output, "jsonl")) {
        fprintf(stderr, "kenchi rules: --output must be table or jsonl\n");
        return EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++) {
        if (ro->npaths == RULE_PATHS_MAX) {
            fprintf(stderr, "kenchi rules: too many paths\n");
            return EXIT_USAGE;
        }
        ro->paths[ro->npaths++] = argv[i];
    }
    return 0;
}

static int rules_check(int argc, char **argv)
{
    struct rule_opts ro = {0};
    const char *output = NULL;
    bool quiet = false;
    int rc = parse_opts(argc, argv, &ro, &output, &quiet, check_usage);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct sigma_set *s;
    rc = rules_open(&ro, &s, "rules check");
    if (rc)
        return rc;
    if (!s) {
        fprintf(stderr, "kenchi rules check: no PATH given and no rules/ directory found\n");
        return EXIT_USAGE;
    }
    bool json = output && !strcmp(output, "jsonl");
    print_diags(s, stdout, json, !quiet);
    for (size_t i = 0; i < sigma_set_ncorrelations(s) && !quiet; i++) {
        struct sigma_correlation_view k;
        sigma_set_correlation(s, i, &k);
        if (json) {
            struct buf b;
            buf_init(&b);
            buf_puts(&b, "{\"kind\":\"correlation\",\"file\":");
            json_put_string(&b, k.file, strlen(k.file));
            buf_printf(&b, ",\"line\":%u,\"type\":\"%s\",\"title\":", k.line, k.type);
            json_put_string(&b, k.title ? k.title : "", k.title ? strlen(k.title) : 0);
            buf_puts(&b, ",\"message\":\"correlation loaded\"}\n");
            fputs(b.data, stdout);
            buf_free(&b);
        } else {
            printf("%s:%u:1: note: %s correlation '%s' loaded\n", k.file, k.line, k.type,
                   k.title ? k.title : "");
        }
    }
    struct sigma_counts c;
    sigma_set_counts(s, &c);
    if (json) {
        printf("{\"kind\":\"summary\",\"files\":%u,\"rules\":%u,\"active\":%u,\"inactive\":%u,"
               "\"filters\":%u,\"correlations\":%u,\"refused\":%u,\"warnings\":%u}\n",
               c.files, c.rules, c.active, c.inactive, c.filters, c.correlations, c.refused,
               c.warnings);
    } else {
        printf("%u files: %u rules loaded (%u active, %u inactive), %u filters, %u "
               "correlations, %u refused, %u warnings\n",
               c.files, c.rules, c.active, c.inactive, c.filters, c.correlations, c.refused,
               c.warnings);
        printf("log source mapping: %s\n", sigma_set_logsources_path(s));
    }
    sigma_set_free(s);
    return c.refused ? 1 : 0;
}

static void put_opt(struct buf *b, const char *key, const char *v, bool comma)
{
    if (comma)
        buf_putc(b, ',');
    buf_printf(b, "\"%s\":", key);
    if (v)
        json_put_string(b, v, strlen(v));
    else
        buf_puts(b, "null");
}

static int rules_list(int argc, char **argv)
{
    struct rule_opts ro = {0};
    const char *output = NULL;
    bool quiet = false;
    int rc = parse_opts(argc, argv, &ro, &output, &quiet, list_usage);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct sigma_set *s;
    rc = rules_open(&ro, &s, "rules list");
    if (rc)
        return rc;
    if (!s) {
        fprintf(stderr, "kenchi rules list: no PATH given and no rules/ directory found\n");
        return EXIT_USAGE;
    }
    rules_report_problems(s, "rules list", stderr);
    bool json = output ? !strcmp(output, "jsonl") : !stdout_is_tty();
    struct buf b;
    buf_init(&b);
    if (!json)
        printf("%-8s  %-13s  %-36s  %-40s  %s\n", "STATE", "LEVEL", "ID", "LOGSOURCE", "TITLE");
    size_t n = sigma_set_nrules(s);
    for (size_t i = 0; i < n; i++) {
        struct sigma_rule_view v;
        sigma_rule_view(sigma_set_rule(s, i), &v);
        if (json) {
            buf_clear(&b);
            buf_putc(&b, '{');
            put_opt(&b, "id", v.id, false);
            put_opt(&b, "title", v.title, true);
            put_opt(&b, "level", v.level, true);
            put_opt(&b, "status", v.status, true);
            buf_puts(&b, ",\"logsource\":{");
            put_opt(&b, "product", v.product, false);
            put_opt(&b, "service", v.service, true);
            put_opt(&b, "category", v.category, true);
            buf_puts(&b, "},\"tags\":[");
            for (uint32_t k = 0; k < v.nattack; k++) {
                if (k)
                    buf_putc(&b, ',');
                json_put_string(&b, v.attack[k], strlen(v.attack[k]));
            }
            buf_printf(&b, "],\"active\":%s", v.active ? "true" : "false");
            put_opt(&b, "inactive_reason", v.inactive_why, true);
            put_opt(&b, "file", v.file, true);
            buf_printf(&b, ",\"line\":%u}\n", v.line);
            fputs(b.data, stdout);
        } else {
            char ls[128];
            snprintf(ls, sizeof(ls), "%s/%s/%s", v.product ? v.product : "*",
                     v.service ? v.service : "*", v.category ? v.category : "*");
            printf("%-8s  %-13s  %-36s  %-40.40s  %s\n", v.active ? "active" : "inactive",
                   v.level ? v.level : "-", v.id ? v.id : "-", ls, v.title ? v.title : "-");
        }
    }
    buf_free(&b);
    struct sigma_counts c;
    sigma_set_counts(s, &c);
    if (!json)
        printf("\n%u rules (%u active, %u inactive), %u correlations\n", c.rules, c.active,
               c.inactive, c.correlations);
    sigma_set_free(s);
    return 0;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subverbs[] = {
    {"check", rules_check, "load rules and report each refused rule with its place and reason"},
    {"list", rules_list, "list loaded rules, active or inactive"},
};

int cmd_rules(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof(subverbs) / sizeof(subverbs[0]); i++)
            if (!strcmp(argv[1], subverbs[i].name))
                return subverbs[i].run(argc - 1, argv + 1);
    }
    FILE *out =
        argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout : stderr;
    fputs("Usage: kenchi rules <check|list> [OPTIONS] [PATH...]\n\n", out);
    for (size_t i = 0; i < sizeof(subverbs) / sizeof(subverbs[0]); i++)
        fprintf(out, "  %-8s %s\n", subverbs[i].name, subverbs[i].summary);
    return out == stdout ? 0 : EXIT_USAGE;
}
