/*
 * conf.c - typed reading of configuration YAML (see conf.h).
 */
#include "config/conf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void conf_ctx_init(struct conf_ctx *c, const char *file, FILE *out, struct arena *arena)
{
    memset(c, 0, sizeof(*c));
    c->file = file;
    c->out = out;
    c->arena = arena;
}

void conf_error(struct conf_ctx *c, const struct ynode *n, const char *fmt, ...)
{
    c->nerrors++;
    if (!c->out)
        return;
    if (n)
        fprintf(c->out, "kenchi: %s:%u:%u: ", c->file, n->mark.line, n->mark.col);
    else
        fprintf(c->out, "kenchi: %s: ", c->file);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->out, fmt, ap);
    va_end(ap);
    fputc('\n', c->out);
}

bool conf_is_map(struct conf_ctx *c, const struct ynode *n, const char *what)
{
    if (n && n->kind == YNODE_MAP)
        return true;
    conf_error(c, n, "%s: must be a mapping (key: value lines), not %s", what,
               n ? ynode_kind_name(n) : "nothing");
    return false;
}

/* Edit distance, for "did you mean"; short keys only. */
static size_t distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 63 || nb > 63)
        return 64;
    size_t row[64];
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best =
                diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

unsigned conf_check_keys(struct conf_ctx *c, const struct ynode *map, const char *const *allowed)
{
    if (!map || map->kind != YNODE_MAP)
        return 0;
    unsigned bad = 0;
    for (size_t i = 0; i < map->map.n; i++) {
        const struct ynode *k = map->map.pairs[i].key;
        if (k->kind != YNODE_SCALAR) {
            conf_error(c, k, "keys must be plain names");
            bad++;
            continue;
        }
        bool known = false;
        const char *close = NULL;
        size_t best = 3;
        for (size_t j = 0; allowed[j]; j++) {
            if (!strcmp(k->scalar.s, allowed[j])) {
                known = true;
                break;
            }
            size_t d = distance(k->scalar.s, allowed[j]);
            if (d < best) {
                best = d;
                close = allowed[j];
            }
        }
        if (known)
            continue;
        bad++;
        if (close)
            conf_error(c, k, "unknown key '%s' (did you mean '%s'?)", k->scalar.s, close);
        else
            conf_error(c, k, "unknown key '%s'", k->scalar.s);
    }
    return bad;
}

const struct ynode *conf_need(struct conf_ctx *c, const struct ynode *map, const char *key)
{
    const struct ynode *v = ynode_get(map, key);
    if (!v || ynode_is_null(v)) {
        conf_error(c, map, "%s: missing (required)", key);
        return NULL;
    }
    return v;
}

/* The scalar at key, or NULL (absent: *rc 0; not a scalar: reported, -1). */
static const struct ynode *scalar_at(struct conf_ctx *c, const struct ynode *map, const char *key,
                                     int *rc)
{
    *rc = 0;
    const struct ynode *v = ynode_get(map, key);
    if (!v)
        return NULL;
    if (v->kind != YNODE_SCALAR || ynode_is_null(v)) {
        conf_error(c, v, "%s: needs a value, not %s", key,
                   v->kind == YNODE_SCALAR ? "nothing" : ynode_kind_name(v));
        *rc = -1;
        return NULL;
    }
    if (strlen(v->scalar.s) != v->scalar.n) {
        conf_error(c, v, "%s: contains a NUL byte", key);
        *rc = -1;
        return NULL;
    }
    return v;
}

int conf_str(struct conf_ctx *c, const struct ynode *map, const char *key, const char **out)
{
    int rc;
    const struct ynode *v = scalar_at(c, map, key, &rc);
    if (!v)
        return rc;
    *out = v->scalar.s;
    return 1;
}

int conf_bool(struct conf_ctx *c, const struct ynode *map, const char *key, bool *out)
{
    int rc;
    const struct ynode *v = scalar_at(c, map, key, &rc);
    if (!v)
        return rc;
    const char *s = v->scalar.s;
    bool b;
    if (ynode_bool(v, &b)) {
        *out = b;
        return 1;
    }
    if (v->plain && (!strcasecmp(s, "yes") || !strcasecmp(s, "on"))) {
        *out = true;
        return 1;
    }
    if (v->plain && (!strcasecmp(s, "no") || !strcasecmp(s, "off"))) {
        *out = false;
        return 1;
    }
    conf_error(c, v, "%s: '%s' is not true or false", key, s);
    return -1;
}

int conf_uint(struct conf_ctx *c, const struct ynode *map, const char *key, uint64_t min,
              uint64_t max, uint64_t *out)
{
    int rc;
    const struct ynode *v = scalar_at(c, map, key, &rc);
    if (!v)
        return rc;
    const char *s = v->scalar.s;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (!isdigit((unsigned char)*s) || *end || errno) {
        conf_error(c, v, "%s: '%s' is not a whole number", key, s);
        return -1;
    }
    if (x < min || x > max) {
        conf_error(c, v, "%s: %llu is out of range (%" PRIu64 " to %" PRIu64 ")", key, x, min, max);
        return -1;
    }
    *out = x;
    return 1;
}

int conf_parse_duration(const char *s, int64_t *ns)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    double x = strtod(s, &end);
    if (errno || end == s || x < 0)
        return -EINVAL;
    double mul;
    if (!strcmp(end, "ns"))
        mul = 1;
    else if (!strcmp(end, "us") || !strcmp(end, "µs"))
        mul = 1e3;
    else if (!strcmp(end, "ms"))
        mul = 1e6;
    else if (!strcmp(end, "s"))
        mul = 1e9;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        mul = 60e9;
    else if (!strcmp(end, "h"))
        mul = 3600e9;
    else if (!strcmp(end, "d"))
        mul = 86400e9;
    else
        return -EINVAL;
    double v = x * mul;
    if (v > 9.2e18)
        return -ERANGE;
    *ns = (int64_t)v;
    return 0;
}

int conf_duration(struct conf_ctx *c, const struct ynode *map, const char *key, int64_t min_ns,
                  int64_t max_ns, int64_t *out)
{
    int rc;
    const struct ynode *v = scalar_at(c, map, key, &rc);
    if (!v)
        return rc;
    int64_t ns;
    if (conf_parse_duration(v->scalar.s, &ns) < 0) {
        conf_error(c, v,
                   "%s: '%s' is not a duration (a number and a unit: ms, s, m, h, d; "
                   "e.g. 500ms, 5s)",
                   key, v->scalar.s);
        return -1;
    }
    if (ns < min_ns || ns > max_ns) {
        conf_error(c, v, "%s: %s is out of range (%.3gs to %.3gs)", key, v->scalar.s, min_ns / 1e9,
                   max_ns / 1e9);
        return -1;
    }
    *out = ns;
    return 1;
}

int conf_parse_size(const char *s, uint64_t *bytes)
{
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (errno || end == s || x < 0)
        return -EINVAL;
    while (*end == ' ')
        end++;
    static const struct {
        const char *unit;
        double mul;
    } units[] = {
        {"", 1},
        {"B", 1},
        {"k", 1e3},
        {"kB", 1e3},
        {"MB", 1e6},
        {"GB", 1e9},
        {"TB", 1e12},
        {"K", 1024.0},
        {"KB", 1024.0},
        {"KiB", 1024.0},
        {"M", 1048576.0},
        {"MiB", 1048576.0},
        {"G", 1073741824.0},
        {"GiB", 1073741824.0},
        {"T", 1099511627776.0},
        {"TiB", 1099511627776.0},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (!strcmp(end, units[i].unit)) {
            double v = x * units[i].mul;
            if (v > 1.8e19)
                return -ERANGE;
            *bytes = (uint64_t)v;
            return 0;
        }
    }
    return -EINVAL;
}

int conf_size(struct conf_ctx *c, const struct ynode *map, const char *key, uint64_t min,
              uint64_t max, uint64_t *out)
{
    int rc;
    const struct ynode *v = scalar_at(c, map, key, &rc);
    if (!v)
        return rc;
    uint64_t b;
    if (conf_parse_size(v->scalar.s, &b) < 0) {
        conf_error(c, v, "%s: '%s' is not a size (e.g. 4096, 64KiB, 64MiB, 1GiB)", key,
                   v->scalar.s);
        return -1;
    }
    if (b < min || b > max) {
        conf_error(c, v, "%s: %s is out of range (%" PRIu64 " to %" PRIu64 " bytes)", key,
                   v->scalar.s, min, max);
        return -1;
    }
    *out = b;
    return 1;
}

int conf_enum(struct conf_ctx *c, const struct ynode *map, const char *key,
              const char *const *names, int *out)
{
    int rc;
    const struct ynode *v = scalar_at(c, map, key, &rc);
    if (!v)
        return rc;
    for (int i = 0; names[i]; i++) {
        if (!strcmp(v->scalar.s, names[i])) {
            *out = i;
            return 1;
        }
    }
    char list[512];
    size_t used = 0;
    list[0] = 0;
    for (int i = 0; names[i] && used < sizeof(list); i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
    conf_error(c, v, "%s: '%s' is not one of: %s", key, v->scalar.s, list);
    return -1;
}

int conf_strlist(struct conf_ctx *c, const struct ynode *map, const char *key, const char ***out,
                 size_t *n)
{
    const struct ynode *v = ynode_get(map, key);
    if (!v)
        return 0;
    size_t cnt = v->kind == YNODE_SEQ ? v->seq.n : 1;
    if (v->kind == YNODE_MAP || (v->kind == YNODE_SCALAR && ynode_is_null(v))) {
        conf_error(c, v, "%s: needs a value or a list of values, not %s", key,
                   v->kind == YNODE_MAP ? "a mapping" : "nothing");
        return -1;
    }
    const char **list = arena_alloc(c->arena, (cnt + 1) * sizeof(*list));
    for (size_t i = 0; i < cnt; i++) {
        const struct ynode *it = v->kind == YNODE_SEQ ? v->seq.items[i] : v;
        if (it->kind != YNODE_SCALAR || ynode_is_null(it) || strlen(it->scalar.s) != it->scalar.n) {
            conf_error(c, it, "%s: each item must be a plain value", key);
            return -1;
        }
        list[i] = it->scalar.s;
    }
    list[cnt] = NULL;
    if (!cnt) {
        conf_error(c, v, "%s: the list is empty", key);
        return -1;
    }
    *out = list;
    *n = cnt;
    return 1;
}

int conf_parse_addr(const char *s, const char *def_host, struct conf_addr *out)
{
    const char *port;
    size_t hn;
    const char *host;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        host = s + 1;
        hn = (size_t)(close - host);
        port = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) {
            host = def_host;
            hn = strlen(def_host);
            port = s;
        } else {
            if (strchr(s, ':') != colon)
                return -EINVAL; /* a bare IPv6 address needs brackets */
            host = s;
            hn = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (!hn || hn >= sizeof(out->host) || !isdigit((unsigned char)*port))
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long p = strtoul(port, &end, 10);
    if (*end || errno || p == 0 || p > 65535)
        return -EINVAL;
    memcpy(out->host, host, hn);
    out->host[hn] = 0;
    out->port = (uint16_t)p;
    return 0;
}

int conf_addr(struct conf_ctx *c, const struct ynode *map, const char *key, const char *def_host,
              struct conf_addr *out)
{
    int rc;
    const struct ynode *v = scalar_at(c, map, key, &rc);
    if (!v)
        return rc;
    struct conf_addr a;
    if (conf_parse_addr(v->scalar.s, def_host, &a) < 0) {
        conf_error(c, v,
                   "%s: '%s' is not an address (HOST:PORT, [IPv6]:PORT or PORT; port 1 "
                   "to 65535)",
                   key, v->scalar.s);
        return -1;
    }
    *out = a;
    return 1;
}

int conf_number(struct conf_ctx *c, const struct ynode *map, const char *key, double min,
                double max, double *out)
{
    int rc;
    const struct ynode *v = scalar_at(c, map, key, &rc);
    if (!v)
        return rc;
    const char *s = v->scalar.s;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno || x != x) {
        conf_error(c, v, "%s: '%s' is not a number", key, s);
        return -1;
    }
    if (x < min || x > max) {
        conf_error(c, v, "%s: %g is out of range (%g to %g)", key, x, min, max);
        return -1;
    }
    *out = x;
    return 1;
}
