/*
 * config-baselines.c - the `baselines:` section of the configuration
 * (struct bl_config, src/baseline/baseline.h; every setting and its
 * default in docs/baselines.md).
 *
 * The plain settings are rows of tables (key, type, where in struct
 * bl_config, range): one place names each setting, checks it and stores
 * it. Lists (networks, servers, suppressions) and files (geoip) have
 * checks of their own. Everything is reported with its file:line:col, and
 * nothing is opened beyond checking that the files named exist.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline/baseline.h"
#include "baseline/bl-module.h"
#include "baseline/bl-prim.h"
#include "config/config.h"
#include "util/timeconv.h"

enum setting_type { ST_BOOL, ST_SECONDS, ST_U32, ST_SIZE, ST_NUMBER };

struct setting {
    const char *key;
    enum setting_type type;
    size_t off;      /* in struct bl_config */
    double min, max; /* seconds for ST_SECONDS */
};

#define DAY (86400.0)

static const struct setting top_settings[] = {
    {"enabled", ST_BOOL, offsetof(struct bl_config, enabled), 0, 0},
    {"learning", ST_SECONDS, offsetof(struct bl_config, learning_s), 0, 3650 * DAY},
    {"max_age", ST_SECONDS, offsetof(struct bl_config, max_age_s), DAY, 3650 * DAY},
    {"window", ST_SECONDS, offsetof(struct bl_config, window_s), 60, 7 * DAY},
    {"max_entities", ST_U32, offsetof(struct bl_config, max_entities), 1, 100000000},
    {NULL, 0, 0, 0, 0},
};

static const struct setting level_settings[] = {
    {"low", ST_NUMBER, offsetof(struct bl_config, level_low), 0.01, 100},
    {"medium", ST_NUMBER, offsetof(struct bl_config, level_medium), 0.01, 100},
    {"high", ST_NUMBER, offsetof(struct bl_config, level_high), 0.01, 100},
    {"critical", ST_NUMBER, offsetof(struct bl_config, level_critical), 0.01, 100},
    {NULL, 0, 0, 0, 0},
};

static const struct setting account_settings[] = {
    {"max_values", ST_U32, offsetof(struct bl_config, account.max_values), 1, 100000},
    {"volume_factor", ST_NUMBER, offsetof(struct bl_config, account.volume_factor), 1, 1e6},
    {"volume_min", ST_NUMBER, offsetof(struct bl_config, account.volume_min), 0, 1e6},
    {"volume_min_days", ST_U32, offsetof(struct bl_config, account.volume_min_days), 1, 3650},
    {"hour_width", ST_U32, offsetof(struct bl_config, account.hour_width), 0, 11},
    {"hour_min_events", ST_U32, offsetof(struct bl_config, account.hour_min_events), 1, 1e9},
    {"weekday_min_days", ST_U32, offsetof(struct bl_config, account.weekday_min_days), 7, 3650},
    {NULL, 0, 0, 0, 0},
};

static const struct setting host_settings[] = {
    {"max_destinations", ST_U32, offsetof(struct bl_config, host.max_destinations), 1, 1e6},
    {"max_pairs", ST_U32, offsetof(struct bl_config, host.max_pairs), 1, 1e8},
    {"beacon_min_connections", ST_U32, offsetof(struct bl_config, host.beacon_min_connections), 3,
     1e6},
    {"beacon_min_score", ST_NUMBER, offsetof(struct bl_config, host.beacon_min_score), 0, 1},
    {"dns_ttl", ST_SECONDS, offsetof(struct bl_config, host.dns_ttl_s), 1, 30 * DAY},
    {"bytes_factor", ST_NUMBER, offsetof(struct bl_config, host.bytes_factor), 1, 1e6},
    {"bytes_min", ST_SIZE, offsetof(struct bl_config, host.bytes_min), 0, 1e15},
    {NULL, 0, 0, 0, 0},
};

static const struct setting spray_settings[] = {
    {"min_accounts", ST_U32, offsetof(struct bl_config, spraying.min_accounts), 2, 1e6},
    {"max_attempts_per_account", ST_U32,
     offsetof(struct bl_config, spraying.max_attempts_per_account), 1, 1e6},
    {"window", ST_SECONDS, offsetof(struct bl_config, spraying.window_s), 3600, 90 * DAY},
    {"max_sources", ST_U32, offsetof(struct bl_config, spraying.max_sources), 1, 1e8},
    {NULL, 0, 0, 0, 0},
};

/* Read the settings of table t from map into c; extra keys are allowed
 * (the caller checks the keys). */
static void read_settings(struct conf_ctx *cx, const struct ynode *map, const struct setting *t,
                          struct bl_config *c)
{
    for (; t->key; t++) {
        char *p = (char *)c + t->off;
        uint64_t u;
        int64_t ns;
        switch (t->type) {
        case ST_BOOL:
            conf_bool(cx, map, t->key, (bool *)p);
            break;
        case ST_SECONDS:
            if (conf_duration(cx, map, t->key, (int64_t)t->min * NS_PER_SEC,
                              (int64_t)t->max * NS_PER_SEC, &ns) == 1)
                *(int64_t *)p = ns / NS_PER_SEC;
            break;
        case ST_U32:
            if (conf_uint(cx, map, t->key, (uint64_t)t->min, (uint64_t)t->max, &u) == 1)
                *(uint32_t *)p = (uint32_t)u;
            break;
        case ST_SIZE:
            if (conf_size(cx, map, t->key, (uint64_t)t->min, (uint64_t)t->max, &u) == 1)
                *(uint64_t *)p = u;
            break;
        case ST_NUMBER:
            conf_number(cx, map, t->key, t->min, t->max, (double *)p);
            break;
        }
    }
}

/* The keys of a table plus extra ones, for conf_check_keys. */
static void check_keys(struct conf_ctx *cx, const struct ynode *map, const struct setting *t,
                       const char *const *extra)
{
    const char *keys[32];
    size_t n = 0;
    for (; t->key && n < 24; t++)
        keys[n++] = t->key;
    for (; extra && *extra && n < 31; extra++)
        keys[n++] = *extra;
    keys[n] = NULL;
    conf_check_keys(cx, map, keys);
}

/* A section that must be a mapping, or NULL when absent. */
static const struct ynode *section(struct conf_ctx *cx, const struct ynode *map, const char *key)
{
    const struct ynode *n = ynode_get(map, key);
    if (!n)
        return NULL;
    char what[64];
    snprintf(what, sizeof(what), "baselines: %s", key);
    return conf_is_map(cx, n, what) ? n : NULL;
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/* A list of strings into a malloc'd array; CIDRs checked when cidr. */
static void read_list(struct conf_ctx *cx, const struct ynode *map, const char *key, bool cidr,
                      bool lower, char ***out, size_t *nout)
{
    const char **v = NULL;
    size_t n = 0;
    if (conf_strlist(cx, map, key, &v, &n) != 1)
        return;
    if (n > 4096) {
        conf_error(cx, ynode_get(map, key), "%s: at most 4096 entries", key);
        return;
    }
    char **l = calloc(n ? n : 1, sizeof(*l));
    if (!l) {
        conf_error(cx, ynode_get(map, key), "%s: out of memory", key);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct bl_cidr c;
        if (cidr && !bl_cidr_parse(v[i], &c)) {
            conf_error(cx, ynode_get(map, key),
                       "%s: '%s' is not an address or network (a.b.c.d/n, x:y::/n)", key, v[i]);
            continue;
        }
        l[k] = lower ? lower_dup(v[i]) : strdup(v[i]);
        if (l[k])
            k++;
    }
    for (size_t i = 0; i < *nout; i++) /* a key given twice: the last wins */
        free((*out)[i]);
    free(*out);
    *out = l;
    *nout = k;
}

static void read_file(struct conf_ctx *cx, const struct ynode *map, const char *key, char **out)
{
    const char *path = NULL;
    if (conf_str(cx, map, key, &path) != 1)
        return;
    if (access(path, R_OK) < 0) {
        conf_error(cx, ynode_get(map, key), "%s: %s: %s", key, path, strerror(errno));
        return;
    }
    free(*out);
    *out = strdup(path);
}

static const char *const detector_names[] = {
    BL_DET_FIRST_SEEN, BL_DET_VOLUME,   BL_DET_TIME, BL_DET_BEACONING,
    BL_DET_EGRESS,     BL_DET_SPRAYING, NULL,
};

static void read_suppress(struct conf_ctx *cx, const struct ynode *list, struct bl_config *c)
{
    if (list->kind != YNODE_SEQ) {
        conf_error(cx, list, "suppress: must be a list (lines starting with '- '), not %s",
                   ynode_kind_name(list));
        return;
    }
    if (list->seq.n > 4096) {
        conf_error(cx, list, "suppress: at most 4096 suppressions");
        return;
    }
    c->suppress = calloc(list->seq.n ? list->seq.n : 1, sizeof(*c->suppress));
    if (!c->suppress)
        return;
    static const char *const keys[] = {"kind",     "entity",  "network", "application",
                                       "detector", "feature", NULL};
    static const char *const kinds[] = {"account", "application", "host", "source", NULL};
    for (size_t i = 0; i < list->seq.n; i++) {
        const struct ynode *m = list->seq.items[i];
        if (!conf_is_map(cx, m, "suppress: each suppression"))
            continue;
        conf_check_keys(cx, m, keys);
        struct bl_suppress *s = &c->suppress[c->nsuppress++];
        s->kind = -1;
        conf_enum(cx, m, "kind", kinds, &s->kind);
        const char *v;
        if (conf_str(cx, m, "entity", &v) == 1)
            s->entity = lower_dup(v);
        if (conf_str(cx, m, "application", &v) == 1)
            s->application = lower_dup(v);
        if (conf_str(cx, m, "feature", &v) == 1)
            s->feature = strdup(v);
        int det;
        if (conf_enum(cx, m, "detector", detector_names, &det) == 1)
            s->detector = strdup(detector_names[det]);
        if (conf_str(cx, m, "network", &v) == 1) {
            struct bl_cidr cidr;
            if (!bl_cidr_parse(v, &cidr))
                conf_error(cx, ynode_get(m, "network"),
                           "network: '%s' is not an address or network (a.b.c.d/n, x:y::/n)", v);
            else
                s->network = strdup(v);
        }
        bool named = false;
        for (size_t k = 0; keys[k]; k++)
            named |= ynode_get(m, keys[k]) != NULL;
        if (!named)
            conf_error(cx, m,
                       "suppress: a suppression names at least one of kind, entity, network, "
                       "application, detector, feature (an empty one would drop every fact)");
    }
}

void config_read_baselines(struct conf_ctx *cx, const struct ynode *node, struct bl_config *c)
{
    if (!conf_is_map(cx, node, "baselines"))
        return;
    static const char *const extra[] = {
        "levels", "internal_domains", "internal_networks", "servers", "geoip", "accounts",
        "hosts",  "spraying",         "suppress",          NULL};
    check_keys(cx, node, top_settings, extra);
    read_settings(cx, node, top_settings, c);
    const struct ynode *m;
    if ((m = section(cx, node, "levels"))) {
        check_keys(cx, m, level_settings, NULL);
        unsigned before = cx->nerrors;
        read_settings(cx, m, level_settings, c);
        if (cx->nerrors == before &&
            !(c->level_low < c->level_medium && c->level_medium < c->level_high &&
              c->level_high < c->level_critical))
            conf_error(cx, m,
                       "levels: must ascend (low < medium < high < critical), not %g, %g, %g, "
                       "%g",
                       c->level_low, c->level_medium, c->level_high, c->level_critical);
    }
    read_list(cx, node, "internal_domains", false, true, &c->internal_domains,
              &c->ninternal_domains);
    read_list(cx, node, "internal_networks", true, false, &c->internal_networks,
              &c->ninternal_networks);
    read_list(cx, node, "servers", true, false, &c->servers, &c->nservers);
    if ((m = section(cx, node, "geoip"))) {
        static const char *const gk[] = {"asn", "country", NULL};
        conf_check_keys(cx, m, gk);
        read_file(cx, m, "asn", &c->geoip_asn);
        read_file(cx, m, "country", &c->geoip_country);
    }
    if ((m = section(cx, node, "accounts"))) {
        check_keys(cx, m, account_settings, NULL);
        read_settings(cx, m, account_settings, c);
    }
    if ((m = section(cx, node, "hosts"))) {
        check_keys(cx, m, host_settings, NULL);
        read_settings(cx, m, host_settings, c);
    }
    if ((m = section(cx, node, "spraying"))) {
        check_keys(cx, m, spray_settings, NULL);
        read_settings(cx, m, spray_settings, c);
    }
    if ((m = ynode_get(node, "suppress")))
        read_suppress(cx, m, c);
}
