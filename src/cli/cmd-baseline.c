/*
 * cmd-baseline.c - `kenchi baseline show ENTITY` and `kenchi baseline
 * list`: what kenchi believes is normal for an entity and why, read from
 * the store (docs/baselines.md).
 *
 * show loads the entity's saved profiles into the baseline modules (the
 * same code that learnt them, so what is printed is what detection uses)
 * and asks each module what it holds (its values with counts and first and
 * last times, history length, volumes), then prints the entity's recent
 * facts from the store's timeline. list prints the entities the store
 * knows, with the modules that keep a profile and the number of facts.
 *
 * Output: a readable table on a terminal, JSON otherwise (--output).
 * Exit status 0, 1 when the store knows nothing of the entity, 2 usage, 3
 * when the store cannot be read.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline/baseline.h"
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/timeconv.h"

#include <jansson.h> /* after buf.h: its json_is_number is a macro */

static void usage(FILE *out)
{
    fputs("Usage: kenchi baseline show [OPTIONS] ENTITY\n"
          "       kenchi baseline list [OPTIONS]\n\n"
          "show: what kenchi believes is normal for ENTITY (an account, an application\n"
          "id, a host or source address) and why: each profile's values with their\n"
          "counts and first/last times, its history, and the entity's recent facts.\n"
          "list: the entities the store keeps profiles or facts of.\n\n"
          "  -s, --store FILE   the store (default: " STORE_DEFAULT_PATH ")\n"
          "  -k, --kind K       account, application, host or source (default: any)\n"
          "  -n, --facts N      recent facts shown (default 20; 0: all)\n"
          "      --config FILE  the baselines' settings (the `baselines:` section)\n"
          "  -o, --output F     table (default on a terminal) or json\n"
          "  -h, --help         show this help\n",
          out);
}

/* ---- printing a module's JSON for people ------------------------------------ */

static void print_scalar(const json_t *v)
{
    if (json_is_string(v))
        fputs(json_string_value(v), stdout);
    else if (json_is_integer(v))
        printf("%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        printf("%g", json_real_value(v));
    else if (json_is_true(v))
        fputs("yes", stdout);
    else if (json_is_false(v))
        fputs("no", stdout);
    else if (json_is_null(v))
        fputs("-", stdout);
}

static void print_inline(const json_t *o)
{
    const char *k;
    json_t *v;
    bool first = true;
    json_object_foreach((json_t *)o, k, v)
    {
        printf("%s%s=", first ? "" : "  ", k);
        first = false;
        if (json_is_object(v) || json_is_array(v)) {
            char *t = json_dumps(v, JSON_COMPACT);
            fputs(t ? t : "?", stdout);
            free(t);
        } else {
            print_scalar(v);
        }
    }
}

static void print_value(const char *key, const json_t *v, int depth)
{
    printf("%*s%s:", depth * 2, "", key);
    if (json_is_object(v)) {
        putchar('\n');
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) print_value(k, x, depth + 1);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        bool scalars = true;
        json_array_foreach(v, i, x) scalars &= !json_is_object(x) && !json_is_array(x);
        if (scalars) {
            json_array_foreach(v, i, x)
            {
                fputs(i ? ", " : " ", stdout);
                print_scalar(x);
            }
            putchar('\n');
        } else {
            putchar('\n');
            json_array_foreach(v, i, x)
            {
                printf("%*s- ", depth * 2 + 2, "");
                if (json_is_object(x))
                    print_inline(x);
                else
                    print_scalar(x);
                putchar('\n');
            }
        }
    } else {
        putchar(' ');
        print_scalar(v);
        putchar('\n');
    }
}

/* ---- show ----------------------------------------------------------------- */

struct facts {
    json_t *arr;
};

static int collect_fact(void *opaque, const struct store_bl_fact *f)
{
    struct facts *fs = opaque;
    json_t *j = json_loads(f->json, 0, NULL);
    if (!j)
        j = json_object();
    json_object_set_new(j, "kind", json_string(f->kind));
    json_object_set_new(j, "entity", json_string(f->entity));
    json_array_append_new(fs->arr, j);
    return 0;
}

static int show(struct store *s, const struct bl_config *blc, int kind, const char *entity,
                size_t nfacts, bool json)
{
    char *err = NULL;
    struct baseline *b = baseline_new(blc, &err);
    if (!b) {
        fprintf(stderr, "kenchi baseline: %s\n", err ? err : "out of memory");
        free(err);
        return EXIT_USAGE;
    }
    int rc = baseline_load_entity(b, s, kind, entity);
    struct buf members;
    buf_init(&members);
    buf_putc(&members, '{');
    int known = rc < 0 ? 0 : baseline_show(b, kind, entity, &members);
    buf_putc(&members, '}');
    struct baseline_stats bs;
    baseline_stats(b, &bs);
    baseline_free(b);
    struct facts fs = {json_array()};
    const char *kname = kind >= 0 ? bl_kind_name((enum bl_kind)kind) : NULL;
    if (rc == 0)
        rc = store_baseline_facts(s, kname, entity, nfacts, collect_fact, &fs);
    if (rc < 0) {
        fprintf(stderr, "kenchi baseline: %s\n", store_errmsg(s));
        buf_free(&members);
        json_decref(fs.arr);
        return EXIT_RUNTIME;
    }
    json_t *profiles = json_loads(members.data, 0, NULL);
    buf_free(&members);
    if (!profiles)
        profiles = json_object();
    int status = known || json_array_size(fs.arr) ? 0 : 1;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "entity", json_string(entity));
        json_object_set_new(o, "kind", kname ? json_string(kname) : json_null());
        json_object_set_new(o, "known", json_boolean(status == 0));
        json_object_set(o, "profiles", profiles);
        json_object_set(o, "facts", fs.arr);
        json_object_set_new(o, "profiles_refused", json_integer((json_int_t)bs.profiles_refused));
        char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        puts(t ? t : "{}");
        free(t);
        json_decref(o);
    } else if (status) {
        printf("%s: nothing known%s%s (no profile, no fact)\n", entity, kname ? " as " : "",
               kname ? kname : "");
    } else {
        printf("%s\n", entity);
        const char *k;
        json_t *v;
        json_object_foreach(profiles, k, v)
        {
            const char *pk = json_string_value(json_object_get(v, "kind"));
            printf("\n%s profile (%s):\n", k, pk ? pk : "?");
            const char *k2;
            json_t *v2;
            json_object_foreach(v, k2, v2) if (strcmp(k2, "kind")) print_value(k2, v2, 1);
        }
        if (!known)
            printf("\nno profile: %s\n",
                   bs.nmodules ? "the modules keep none for it" : "no baseline modules run");
        if (bs.profiles_refused)
            printf("(%llu saved profiles could not be read)\n",
                   (unsigned long long)bs.profiles_refused);
        size_t i;
        json_t *f;
        printf("\nrecent facts (%zu):\n", json_array_size(fs.arr));
        json_array_foreach(fs.arr, i, f)
        {
            const char *ts = json_string_value(json_object_get(f, "@timestamp"));
            printf("  %.19s  %-5g %-18s %-16s %s\n", ts ? ts : "-",
                   json_number_value(json_object_get(f, "score")),
                   json_string_value(json_object_get(f, "detector")),
                   json_string_value(json_object_get(f, "feature")),
                   json_string_value(json_object_get(f, "text")));
        }
    }
    json_decref(profiles);
    json_decref(fs.arr);
    return status;
}

/* ---- list ----------------------------------------------------------------- */

static int list_row(void *opaque, const struct store_bl_entity *e)
{
    bool json = *(bool *)opaque;
    char t[32] = "-";
    if (e->updated > 0) {
        time_format(e->updated * NS_PER_SEC, t);
        t[19] = '\0';
    }
    if (json) {
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "{\"kind\":");
        json_put_string(&b, e->kind, strlen(e->kind));
        buf_puts(&b, ",\"entity\":");
        json_put_string(&b, e->entity, strlen(e->entity));
        buf_puts(&b, ",\"modules\":[");
        const char *p = e->modules;
        bool first = true;
        while (p && *p) {
            size_t l = strcspn(p, ",");
            if (l) {
                if (!first)
                    buf_putc(&b, ',');
                first = false;
                json_put_string(&b, p, l);
            }
            p += l + (p[l] == ',');
        }
        buf_printf(&b, "],\"facts\":%llu,\"updated\":", (unsigned long long)e->facts);
        if (e->updated > 0)
            json_put_string(&b, t, strlen(t));
        else
            buf_puts(&b, "null");
        buf_puts(&b, "}\n");
        fputs(b.data, stdout);
        buf_free(&b);
    } else {
        printf("%-12s %-40s %-28s %7llu  %s\n", e->kind, e->entity, *e->modules ? e->modules : "-",
               (unsigned long long)e->facts, t);
    }
    return 0;
}

/* ---- the verb ------------------------------------------------------------- */

int cmd_baseline(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"store", required_argument, NULL, 's'},
        {"kind", required_argument, NULL, 'k'},
        {"facts", required_argument, NULL, 'n'},
        {"config", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || (strcmp(argv[1], "show") && strcmp(argv[1], "list"))) {
        usage(stderr);
        return EXIT_USAGE;
    }
    bool is_show = !strcmp(argv[1], "show");
    const char *path = STORE_DEFAULT_PATH, *output = NULL, *config_path = NULL;
    int kind = -1;
    size_t nfacts = 20;
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "s:k:n:c:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            path = optarg;
            break;
        case 'k':
            kind = bl_kind_by_name(optarg);
            if (kind < 0) {
                fprintf(stderr,
                        "kenchi baseline: --kind: '%s' is not account, application, host or "
                        "source\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case 'n': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (end == optarg || *end || optarg[0] == '-' || v > 1000000) {
                fprintf(stderr, "kenchi baseline: --facts needs a number from 0 to 1000000\n");
                return EXIT_USAGE;
            }
            nfacts = v;
            break;
        }
        case 'c':
            config_path = optarg;
            break;
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
    if (output && strcmp(output, "table") && strcmp(output, "json")) {
        fprintf(stderr, "kenchi baseline: --output must be table or json\n");
        return EXIT_USAGE;
    }
    bool json = output ? !strcmp(output, "json") : !stdout_is_tty();
    if (is_show ? optind != argc - 1 : optind != argc) {
        fprintf(stderr, is_show ? "kenchi baseline show: one ENTITY is needed\n"
                                : "kenchi baseline list: no arguments beyond the options\n");
        return EXIT_USAGE;
    }
    struct bl_config blc;
    bl_config_default(&blc);
    if (config_path) {
        int rc = config_load_baselines(config_path, stderr, &blc, NULL);
        if (rc) {
            if (rc > 0)
                fprintf(stderr, "kenchi baseline: %s: %d problem%s\n", config_path, rc,
                        rc == 1 ? "" : "s");
            return EXIT_USAGE;
        }
    }
    struct store_opts so;
    store_opts_default(&so);
    so.read_only = true;
    struct store *s;
    int rc = store_open(path, &so, &s);
    if (rc < 0) {
        fprintf(stderr, "kenchi baseline: %s\n", store_errmsg(s));
        store_close(s);
        bl_config_free(&blc);
        return EXIT_RUNTIME;
    }
    int status = 0;
    if (is_show) {
        /* entities are kept lower-cased (account names, application ids,
         * IPv6 addresses) */
        char *entity = strdup(argv[optind]);
        for (char *p = entity; p && *p; p++)
            *p = (char)tolower((unsigned char)*p);
        status = entity ? show(s, &blc, kind, entity, nfacts, json) : EXIT_RUNTIME;
        free(entity);
    } else {
        if (!json)
            printf("%-12s %-40s %-28s %7s  %s\n", "KIND", "ENTITY", "MODULES", "FACTS", "UPDATED");
        rc = store_baseline_entities(s, kind >= 0 ? bl_kind_name((enum bl_kind)kind) : NULL,
                                     list_row, &json);
        if (rc < 0) {
            fprintf(stderr, "kenchi baseline: %s\n", store_errmsg(s));
            status = EXIT_RUNTIME;
        }
    }
    store_close(s);
    bl_config_free(&blc);
    return status;
}
