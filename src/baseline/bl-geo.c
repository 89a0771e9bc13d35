/*
 * bl-geo.c - autonomous system and country of an address, read from MMDB
 * files with libmaxminddb (see bl-geo.h).
 *
 * Two files at most: an ASN database (GeoLite2-ASN layout:
 * autonomous_system_number, autonomous_system_organization) and a country
 * database (GeoLite2-Country or City layout: country.iso_code, else
 * registered_country.iso_code, which is what addresses of anycast and
 * satellite networks carry). The same file may be given for both when it
 * holds both layouts. Files are memory-mapped by libmaxminddb; a lookup is a
 * walk of at most 128 tree nodes and allocates nothing, so it runs per event
 * (the account module asks only when an account shows a network it does
 * not know). Values from the file are outside input: the ASN must be an
 * unsigned integer, the country two ASCII letters, the organisation is cut
 * at a character boundary to fit.
 */
#include "baseline/bl-geo.h"
#include "util/buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct bl_geo {
    MMDB_s asn, country;
    bool has_asn, has_country;
};

static int open_one(const char *path, MMDB_s *db, char **err)
{
    int rc = MMDB_open(path, MMDB_MODE_MMAP, db);
    if (rc == MMDB_SUCCESS)
        return 0;
    const char *why = rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR ? strerror(errno) : "";
    char *m = NULL;
    if (asprintf(&m, "%s: cannot open the MaxMind database: %s%s%s", path, MMDB_strerror(rc),
                 *why ? ": " : "", why) < 0)
        m = NULL;
    *err = m;
    return rc == MMDB_OUT_OF_MEMORY_ERROR ? -ENOMEM : -EINVAL;
}

int bl_geo_open(const char *asn_path, const char *country_path, struct bl_geo **out, char **err)
{
    *out = NULL;
    *err = NULL;
    struct bl_geo *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    if (asn_path && *asn_path) {
        int rc = open_one(asn_path, &g->asn, err);
        if (rc < 0) {
            free(g);
            return rc;
        }
        g->has_asn = true;
    }
    if (country_path && *country_path) {
        int rc = open_one(country_path, &g->country, err);
        if (rc < 0) {
            bl_geo_close(g);
            return rc;
        }
        g->has_country = true;
    }
    *out = g;
    return 0;
}

void bl_geo_close(struct bl_geo *g)
{
    if (!g)
        return;
    if (g->has_asn)
        MMDB_close(&g->asn);
    if (g->has_country)
        MMDB_close(&g->country);
    free(g);
}

/* Look a up in db: true with *res when the database has an entry. */
static bool find(const MMDB_s *db, const struct bl_addr *a, MMDB_lookup_result_s *res)
{
    int mmdb_err = MMDB_SUCCESS;
    if (a->v4) {
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        memcpy(&sin.sin_addr, a->b + 12, 4);
        *res = MMDB_lookup_sockaddr(db, (const struct sockaddr *)&sin, &mmdb_err);
    } else {
        struct sockaddr_in6 sin6;
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        memcpy(&sin6.sin6_addr, a->b, 16);
        *res = MMDB_lookup_sockaddr(db, (const struct sockaddr *)&sin6, &mmdb_err);
    }
    return mmdb_err == MMDB_SUCCESS && res->found_entry;
}

static bool get_uint(MMDB_entry_s *e, const char *key, uint32_t *v)
{
    MMDB_entry_data_s d;
    if (MMDB_get_value(e, &d, key, NULL) != MMDB_SUCCESS || !d.has_data)
        return false;
    switch (d.type) {
    case MMDB_DATA_TYPE_UINT16:
        *v = d.uint16;
        return true;
    case MMDB_DATA_TYPE_UINT32:
        *v = d.uint32;
        return true;
    case MMDB_DATA_TYPE_UINT64:
        if (d.uint64 > UINT32_MAX)
            return false;
        *v = (uint32_t)d.uint64;
        return true;
    default:
        return false;
    }
}

/* Copy a UTF-8 string value into out (size n), cut at a character boundary;
 * control characters become spaces. */
static void copy_text(char *out, size_t n, const char *s, size_t len)
{
    size_t k = 0;
    while (k < len) {
        unsigned char c = (unsigned char)s[k];
        size_t step = c < 0x80 ? 1 : utf8_seq_len((const unsigned char *)s + k, len - k);
        if (!step)
            break; /* invalid UTF-8: stop there */
        if (k + step >= n)
            break;
        for (size_t i = 0; i < step; i++)
            out[k + i] = step == 1 && c < 0x20 ? ' ' : s[k + i];
        k += step;
    }
    out[k] = '\0';
}

static bool get_country(MMDB_entry_s *e, const char *where, char out[3])
{
    MMDB_entry_data_s d;
    if (MMDB_get_value(e, &d, where, "iso_code", NULL) != MMDB_SUCCESS || !d.has_data ||
        d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
        return false;
    char a = d.utf8_string[0], b = d.utf8_string[1];
    if (!((a >= 'A' && a <= 'Z') || (a >= 'a' && a <= 'z')) ||
        !((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z')))
        return false;
    out[0] = (char)(a & ~0x20);
    out[1] = (char)(b & ~0x20);
    out[2] = '\0';
    return true;
}

bool bl_geo_lookup(const struct bl_geo *g, const struct bl_addr *a, struct bl_geo_info *info)
{
    memset(info, 0, sizeof *info);
    if (!g)
        return false;
    bool any = false;
    MMDB_lookup_result_s res;
    if (g->has_asn && find(&g->asn, a, &res)) {
        uint32_t asn;
        if (get_uint(&res.entry, "autonomous_system_number", &asn)) {
            info->asn = asn;
            any = true;
        }
        MMDB_entry_data_s d;
        if (MMDB_get_value(&res.entry, &d, "autonomous_system_organization", NULL) ==
                MMDB_SUCCESS &&
            d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING) {
            copy_text(info->org, sizeof info->org, d.utf8_string, d.data_size);
            any = true;
        }
    }
    if (g->has_country && find(&g->country, a, &res)) {
        if (get_country(&res.entry, "country", info->country) ||
            get_country(&res.entry, "registered_country", info->country))
            any = true;
    }
    return any;
}
