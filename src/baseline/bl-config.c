/*
 * bl-config.c - entity kinds and the baseline settings' defaults
 * (docs/baselines.md lists them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline/baseline.h"
#include "baseline/bl-prim.h"

static const char *const kind_names[BL_KIND__COUNT] = {
    [BL_ACCOUNT] = "account",
    [BL_APPLICATION] = "application",
    [BL_HOST] = "host",
    [BL_SOURCE] = "source",
};

const char *bl_kind_name(enum bl_kind k)
{
    return (unsigned)k < BL_KIND__COUNT ? kind_names[k] : "unknown";
}

int bl_kind_by_name(const char *s)
{
    for (int k = 0; k < BL_KIND__COUNT; k++)
        if (!strcmp(s, kind_names[k]))
            return k;
    return -1;
}

void bl_config_default(struct bl_config *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = true;
    c->learning_s = 7 * 86400;
    c->max_age_s = 90 * 86400;
    c->window_s = 3600;
    c->level_low = 0.6;
    c->level_medium = 1.2;
    c->level_high = 2.0;
    c->level_critical = 3.0;
    c->max_entities = 200000;
    c->account = (struct bl_account_conf){
        .max_values = 64,
        .volume_factor = 10,
        .volume_min = 1.0,
        .volume_min_days = 14,
        .hour_width = 1,
        .hour_min_events = 50,
        .weekday_min_days = 21,
    };
    c->host = (struct bl_host_conf){
        .max_destinations = 4096,
        .max_pairs = 200000,
        .beacon_min_connections = 12,
        .beacon_min_score = 0.8,
        .dns_ttl_s = 86400,
        .bytes_factor = 10,
        .bytes_min = 100u * 1000 * 1000,
    };
    c->spraying = (struct bl_spray_conf){
        .min_accounts = 10,
        .max_attempts_per_account = 3,
        .window_s = 7 * 86400,
        .max_sources = 100000,
    };
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void bl_config_free(struct bl_config *c)
{
    free_list(c->internal_domains, c->ninternal_domains);
    free_list(c->internal_networks, c->ninternal_networks);
    free_list(c->servers, c->nservers);
    free(c->geoip_asn);
    free(c->geoip_country);
    for (size_t i = 0; i < c->nsuppress; i++) {
        struct bl_suppress *s = &c->suppress[i];
        free(s->entity);
        free(s->network);
        free(s->application);
        free(s->detector);
        free(s->feature);
    }
    free(c->suppress);
    memset(c, 0, sizeof *c);
}

static int copy_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -ENOMEM;
}

static int copy_list(char ***dst, size_t *ndst, char *const *src, size_t n)
{
    *dst = NULL;
    *ndst = 0;
    if (!n)
        return 0;
    *dst = calloc(n, sizeof **dst);
    if (!*dst)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (copy_str(&(*dst)[i], src[i]) < 0)
            return -ENOMEM;
        *ndst = i + 1;
    }
    return 0;
}

int bl_config_copy(struct bl_config *dst, const struct bl_config *src)
{
    *dst = *src;
    dst->internal_domains = dst->internal_networks = dst->servers = NULL;
    dst->ninternal_domains = dst->ninternal_networks = dst->nservers = 0;
    dst->geoip_asn = dst->geoip_country = NULL;
    dst->suppress = NULL;
    dst->nsuppress = 0;
    int rc = copy_list(&dst->internal_domains, &dst->ninternal_domains, src->internal_domains,
                       src->ninternal_domains);
    rc = rc ? rc
            : copy_list(&dst->internal_networks, &dst->ninternal_networks, src->internal_networks,
                        src->ninternal_networks);
    rc = rc ? rc : copy_list(&dst->servers, &dst->nservers, src->servers, src->nservers);
    rc = rc ? rc : copy_str(&dst->geoip_asn, src->geoip_asn);
    rc = rc ? rc : copy_str(&dst->geoip_country, src->geoip_country);
    if (!rc && src->nsuppress) {
        dst->suppress = calloc(src->nsuppress, sizeof *dst->suppress);
        rc = dst->suppress ? 0 : -ENOMEM;
        for (size_t i = 0; !rc && i < src->nsuppress; i++) {
            const struct bl_suppress *a = &src->suppress[i];
            struct bl_suppress *b = &dst->suppress[i];
            dst->nsuppress = i + 1;
            b->kind = a->kind;
            rc = copy_str(&b->entity, a->entity);
            rc = rc ? rc : copy_str(&b->network, a->network);
            rc = rc ? rc : copy_str(&b->application, a->application);
            rc = rc ? rc : copy_str(&b->detector, a->detector);
            rc = rc ? rc : copy_str(&b->feature, a->feature);
        }
    }
    if (rc)
        bl_config_free(dst);
    return rc;
}

static bool cidr_ok(const char *s)
{
    struct bl_cidr c;
    return s && bl_cidr_parse(s, &c);
}

char *bl_config_problem(const struct bl_config *c)
{
    char *msg = NULL;
    if (!(c->level_low > 0 && c->level_low < c->level_medium && c->level_medium < c->level_high &&
          c->level_high < c->level_critical)) {
        if (asprintf(&msg, "levels must ascend above 0: low %g < medium %g < high %g < critical %g",
                     c->level_low, c->level_medium, c->level_high, c->level_critical) < 0)
            msg = NULL;
        return msg ? msg : strdup("levels must ascend");
    }
    for (size_t i = 0; i < c->ninternal_networks; i++)
        if (!cidr_ok(c->internal_networks[i]))
            return asprintf(&msg, "internal_networks: '%s' is not an address or CIDR",
                            c->internal_networks[i]) < 0
                       ? NULL
                       : msg;
    for (size_t i = 0; i < c->nservers; i++)
        if (!cidr_ok(c->servers[i]))
            return asprintf(&msg, "servers: '%s' is not an address or CIDR", c->servers[i]) < 0
                       ? NULL
                       : msg;
    for (size_t i = 0; i < c->nsuppress; i++) {
        const struct bl_suppress *s = &c->suppress[i];
        if (s->network && !cidr_ok(s->network))
            return asprintf(&msg, "suppress: '%s' is not an address or CIDR", s->network) < 0 ? NULL
                                                                                              : msg;
        if (s->kind >= BL_KIND__COUNT || s->kind < -1)
            return strdup("suppress: unknown kind");
    }
    return NULL;
}
