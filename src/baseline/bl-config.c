/*
 * bl-config.c - entity kinds and the baseline settings' defaults
 * (docs/baselines.md lists them).
 */
#include <stdlib.h>
#include <string.h>

#include "baseline/baseline.h"

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
