/*
 * bl-geo.h - the autonomous system and country of an address, from MMDB
 * files the user supplies (MaxMind's GeoLite2/GeoIP2 ASN and Country or
 * City databases, or any database of the same layout), read with
 * libmaxminddb. Either file may be absent; lookups then say nothing.
 */
#ifndef KENCHI_BASELINE_BL_GEO_H
#define KENCHI_BASELINE_BL_GEO_H

#include <stdbool.h>
#include <stdint.h>

#include "baseline/bl-prim.h"

struct bl_geo;

struct bl_geo_info {
    uint32_t asn;    /* 0: unknown */
    char org[64];    /* autonomous_system_organization, "" if unknown */
    char country[3]; /* ISO 3166 alpha-2 (country.iso_code), "" if unknown */
};

/* Open the databases (either path may be NULL). Returns 0, or a negative
 * errno with a malloc'd message naming the file in *err. */
int bl_geo_open(const char *asn_path, const char *country_path, struct bl_geo **out, char **err);
void bl_geo_close(struct bl_geo *g);
/* Look a up; false when no database knows it (info zeroed). */
bool bl_geo_lookup(const struct bl_geo *g, const struct bl_addr *a, struct bl_geo_info *info);

#endif
