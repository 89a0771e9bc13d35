/*
 * taxii-config.c - the `taxii:` part of the intelligence configuration; see
 * taxii.h for the API and docs/intel.md for what each key means.
 *
 *   taxii:
 *     defaults: {timeout: 20s, ca_file: partner-ca.pem}   # optional
 *     sources:
 *       - name: partner
 *         url: https://taxii.partner.example/taxii2/
 *         collection: all
 *         auth: {type: basic, user: kenchi, password_file: partner.pw}
 *
 * Every key of a source is one row of source_keys[] (name, kind, bounds,
 * where it goes in struct taxii_source): the table is the single place a
 * key is named, checked and converted, and `defaults:` reads through the
 * same table as a source does. Errors name the file, line and column of the
 * offending node; the first error stops the load (a configuration is
 * either right or refused, so a typo never silently drops a source).
 *
 * Secrets written in the file (password, token) are kept in heap strings
 * that taxii_config_free wipes; *_file keys are only checked for
 * readability here and read at every pull, so a rotated token is picked up
 * without a restart.
 */
#include "intel/taxii.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/timeconv.h"
#include "util/yaml.h"

#define CONFIG_MAX_BYTES  (1u << 20)
#define CONFIG_MAX_SOURCE 1000
#define NAME_MAX_LEN      64
#define URL_MAX_LEN       2048

struct ctx {
    const char *origin;
    char *err;
    size_t errlen;
    FILE *warn;
};

static int fail(struct ctx *c, const struct ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const struct ynode *at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (at)
        snprintf(c->err, c->errlen, "%s:%u:%u: %s", c->origin, at->mark.line, at->mark.col, msg);
    else
        snprintf(c->err, c->errlen, "%s: %s", c->origin, msg);
    return -EINVAL;
}

void taxii_source_init(struct taxii_source *s)
{
    memset(s, 0, sizeof(*s));
    s->auth = TAXII_AUTH_NONE;
    s->verify = true;
    s->timeout_s = TAXII_DEFAULT_TIMEOUT_S;
    s->connect_timeout_s = TAXII_DEFAULT_CONNECT_TIMEOUT_S;
    s->max_bytes = TAXII_DEFAULT_MAX_BYTES;
    s->max_pages = TAXII_DEFAULT_MAX_PAGES;
    s->retries = TAXII_DEFAULT_RETRIES;
    s->retry_max_wait_s = TAXII_DEFAULT_RETRY_MAX_WAIT_S;
    s->poll_interval_s = TAXII_DEFAULT_POLL_INTERVAL_S;
}

/* ---- value readers ---------------------------------------------------- */

/* A non-empty scalar without NUL bytes, as a malloc'd string. */
static int read_string(struct ctx *c, const struct ynode *v, const char *key, char **out)
{
    if (!v || v->kind != YNODE_SCALAR || ynode_is_null(v) || !v->scalar.n)
        return fail(c, v, "%s: expected a non-empty string, got %s", key, ynode_kind_name(v));
    if (memchr(v->scalar.s, '\0', v->scalar.n) || v->scalar.n > URL_MAX_LEN)
        return fail(c, v, "%s: the value is longer than %d bytes or holds a NUL", key, URL_MAX_LEN);
    char *s = strdup(v->scalar.s);
    if (!s)
        return fail(c, v, "out of memory");
    free(*out);
    *out = s;
    return 0;
}

/* "90", "90s", "15m", "1h", "2d" -> seconds in [lo, hi]. */
static int read_seconds(struct ctx *c, const struct ynode *v, const char *key, long lo, long hi,
                        long *out)
{
    long long n;
    if (ynode_int(v, &n)) {
        /* plain number of seconds */
    } else if (v && v->kind == YNODE_SCALAR && v->scalar.n >= 2 && v->scalar.n < 24) {
        char unit = v->scalar.s[v->scalar.n - 1];
        int64_t mult = time_unit_seconds(unit);
        char num[24];
        memcpy(num, v->scalar.s, v->scalar.n - 1);
        num[v->scalar.n - 1] = '\0';
        char *end;
        long long k = strtoll(num, &end, 10);
        if (!mult || end == num || *end || k < 0 || k > hi)
            return fail(c, v, "%s: expected a duration such as 30, 30s, 5m or 1h", key);
        n = k * mult;
    } else {
        return fail(c, v, "%s: expected a duration such as 30, 30s, 5m or 1h, got %s", key,
                    ynode_kind_name(v));
    }
    if (n < lo || n > hi)
        return fail(c, v, "%s: %lld seconds is out of range (%ld to %ld)", key, n, lo, hi);
    *out = (long)n;
    return 0;
}

/* "1048576", "512KiB", "64MiB", "1GiB" (K, M, G, KB, MB, GB read as powers
 * of 1024 too) -> bytes in [lo, hi]. */
static int read_bytes(struct ctx *c, const struct ynode *v, const char *key, long long lo,
                      long long hi, size_t *out)
{
    long long n;
    if (!ynode_int(v, &n)) {
        if (!v || v->kind != YNODE_SCALAR || v->scalar.n > 32 || !v->scalar.n)
            return fail(c, v, "%s: expected a size such as 1048576, 512KiB or 64MiB", key);
        char *end;
        long long k = strtoll(v->scalar.s, &end, 10);
        while (*end == ' ')
            end++;
        static const struct {
            const char *suffix;
            int shift;
        } units[] = {{"B", 0},   {"K", 10},   {"KB", 10}, {"KiB", 10}, {"M", 20},
                     {"MB", 20}, {"MiB", 20}, {"G", 30},  {"GB", 30},  {"GiB", 30}};
        int shift = -1;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (!strcasecmp(end, units[i].suffix))
                shift = units[i].shift;
        if (end == v->scalar.s || shift < 0 || k < 0 || k > (hi >> shift))
            return fail(c, v, "%s: expected a size such as 1048576, 512KiB or 64MiB", key);
        n = k << shift;
    }
    if (n < lo || n > hi)
        return fail(c, v, "%s: %lld bytes is out of range (%lld to %lld)", key, n, lo, hi);
    *out = (size_t)n;
    return 0;
}

static int read_count(struct ctx *c, const struct ynode *v, const char *key, long lo, long hi,
                      long *out)
{
    long long n;
    if (!ynode_int(v, &n))
        return fail(c, v, "%s: expected a whole number, got %s", key,
                    v && v->kind == YNODE_SCALAR ? v->scalar.s : ynode_kind_name(v));
    if (n < lo || n > hi)
        return fail(c, v, "%s: %lld is out of range (%ld to %ld)", key, n, lo, hi);
    *out = (long)n;
    return 0;
}

/* ---- the keys of a source ---------------------------------------------- */

enum key_kind { K_STRING, K_BOOL, K_SECONDS, K_BYTES, K_COUNT, K_INT, K_AUTH };

struct key_def {
    const char *name;
    enum key_kind kind;
    size_t off; /* in struct taxii_source */
    long long lo, hi;
    bool per_source; /* not allowed under defaults: */
};

#define OFF(f) offsetof(struct taxii_source, f)
static const struct key_def source_keys[] = {
    {"name", K_STRING, OFF(name), 0, 0, true},
    {"url", K_STRING, OFF(url), 0, 0, true},
    {"collection", K_STRING, OFF(collection), 0, 0, false},
    {"auth", K_AUTH, 0, 0, 0, false},
    {"ca_file", K_STRING, OFF(ca_file), 0, 0, false},
    {"verify", K_BOOL, OFF(verify), 0, 0, false},
    {"timeout", K_SECONDS, OFF(timeout_s), 1, 3600, false},
    {"connect_timeout", K_SECONDS, OFF(connect_timeout_s), 1, 600, false},
    {"max_bytes", K_BYTES, OFF(max_bytes), 4096, 4LL << 30, false},
    {"limit", K_COUNT, OFF(limit), 1, 1000000, false},
    {"max_pages", K_COUNT, OFF(max_pages), 1, 10000000, false},
    {"retries", K_INT, OFF(retries), 0, 10, false},
    {"retry_max_wait", K_SECONDS, OFF(retry_max_wait_s), 0, 3600, false},
    {"poll_interval", K_SECONDS, OFF(poll_interval_s), 10, 30L * 86400, false},
};
#undef OFF

#define FIELD(s, k, type) ((type *)((char *)(s) + (k)->off))

static int read_auth(struct ctx *c, const struct ynode *v, struct taxii_source *s)
{
    if (!v || v->kind != YNODE_MAP)
        return fail(c, v, "auth: expected a mapping (type: basic or bearer, ...), got %s",
                    ynode_kind_name(v));
    const struct ynode *type = ynode_get(v, "type");
    enum taxii_auth a;
    if (ynode_scalar_is(type, "basic"))
        a = TAXII_AUTH_BASIC;
    else if (ynode_scalar_is(type, "bearer"))
        a = TAXII_AUTH_BEARER;
    else if (ynode_scalar_is(type, "none"))
        a = TAXII_AUTH_NONE;
    else
        return fail(c, type ? type : v, "auth: type must be basic, bearer or none");
    /* a source's auth replaces the defaults' as a whole */
    free(s->user);
    free(s->password);
    free(s->password_file);
    free(s->token);
    free(s->token_file);
    s->user = s->password = s->password_file = s->token = s->token_file = NULL;
    s->auth = a;
    static const struct {
        const char *key;
        enum taxii_auth for_auth;
        size_t off;
    } keys[] = {
        {"user", TAXII_AUTH_BASIC, offsetof(struct taxii_source, user)},
        {"password", TAXII_AUTH_BASIC, offsetof(struct taxii_source, password)},
        {"password_file", TAXII_AUTH_BASIC, offsetof(struct taxii_source, password_file)},
        {"token", TAXII_AUTH_BEARER, offsetof(struct taxii_source, token)},
        {"token_file", TAXII_AUTH_BEARER, offsetof(struct taxii_source, token_file)},
    };
    for (size_t i = 0; i < v->map.n; i++) {
        const struct ynode *k = v->map.pairs[i].key;
        if (ynode_scalar_is(k, "type"))
            continue;
        size_t j = 0;
        while (j < sizeof(keys) / sizeof(keys[0]) && !ynode_scalar_is(k, keys[j].key))
            j++;
        if (j == sizeof(keys) / sizeof(keys[0]))
            return fail(c, k,
                        "auth: unknown key '%s' (user, password, password_file, token, "
                        "token_file)",
                        k->kind == YNODE_SCALAR ? k->scalar.s : "?");
        if (keys[j].for_auth != a)
            return fail(c, k, "auth: %s does not go with type %s", keys[j].key,
                        a == TAXII_AUTH_BASIC    ? "basic"
                        : a == TAXII_AUTH_BEARER ? "bearer"
                                                 : "none");
        int rc =
            read_string(c, v->map.pairs[i].val, keys[j].key, (char **)((char *)s + keys[j].off));
        if (rc)
            return rc;
    }
    if (a == TAXII_AUTH_BASIC) {
        if (!s->user)
            return fail(c, v, "auth: basic needs a user");
        if (!s->password == !s->password_file)
            return fail(c, v, "auth: basic needs a password or a password_file (one of them)");
        if (strchr(s->user, ':'))
            return fail(c, v, "auth: a basic user name cannot hold ':'");
    } else if (a == TAXII_AUTH_BEARER) {
        if (!s->token == !s->token_file)
            return fail(c, v, "auth: bearer needs a token or a token_file (one of them)");
    }
    return 0;
}

/* Read the keys of mapping m into s (a source, or the defaults). */
static int read_keys(struct ctx *c, const struct ynode *m, struct taxii_source *s, bool defaults)
{
    for (size_t i = 0; i < m->map.n; i++) {
        const struct ynode *k = m->map.pairs[i].key;
        const struct ynode *v = m->map.pairs[i].val;
        const struct key_def *d = NULL;
        for (size_t j = 0; j < sizeof(source_keys) / sizeof(source_keys[0]); j++)
            if (ynode_scalar_is(k, source_keys[j].name))
                d = &source_keys[j];
        if (!d) {
            char known[400];
            size_t kl = 0;
            for (size_t j = 0; j < sizeof(source_keys) / sizeof(source_keys[0]); j++)
                kl += (size_t)snprintf(known + kl, sizeof(known) - kl, "%s%s", j ? ", " : "",
                                       source_keys[j].name);
            return fail(c, k, "unknown key '%.64s' (known: %s)",
                        k->kind == YNODE_SCALAR ? k->scalar.s : "?", known);
        }
        if (defaults && d->per_source)
            return fail(c, k, "%s belongs to each source, not under defaults", d->name);
        int rc = 0;
        switch (d->kind) {
        case K_STRING:
            rc = read_string(c, v, d->name, FIELD(s, d, char *));
            break;
        case K_BOOL:
            if (!ynode_bool(v, FIELD(s, d, bool)))
                rc = fail(c, v, "%s: expected true or false", d->name);
            break;
        case K_SECONDS:
            rc = read_seconds(c, v, d->name, (long)d->lo, (long)d->hi, FIELD(s, d, long));
            break;
        case K_BYTES:
            rc = read_bytes(c, v, d->name, d->lo, d->hi, FIELD(s, d, size_t));
            break;
        case K_COUNT:
            rc = read_count(c, v, d->name, (long)d->lo, (long)d->hi, FIELD(s, d, long));
            break;
        case K_INT: {
            long n;
            rc = read_count(c, v, d->name, (long)d->lo, (long)d->hi, &n);
            if (!rc)
                *FIELD(s, d, int) = (int)n;
            break;
        }
        case K_AUTH:
            rc = read_auth(c, v, s);
            break;
        }
        if (rc)
            return rc;
    }
    return 0;
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

/* s = a copy of the defaults (strings duplicated). */
static int copy_defaults(struct taxii_source *s, const struct taxii_source *d)
{
    bool oom = false;
    *s = *d;
    s->collection = dup_or_null(d->collection, &oom);
    s->user = dup_or_null(d->user, &oom);
    s->password = dup_or_null(d->password, &oom);
    s->password_file = dup_or_null(d->password_file, &oom);
    s->token = dup_or_null(d->token, &oom);
    s->token_file = dup_or_null(d->token_file, &oom);
    s->ca_file = dup_or_null(d->ca_file, &oom);
    return oom ? -ENOMEM : 0;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void source_free(struct taxii_source *s)
{
    free(s->name);
    free(s->url);
    free(s->collection);
    free(s->user);
    wipe_free(s->password);
    free(s->password_file);
    wipe_free(s->token);
    free(s->token_file);
    free(s->ca_file);
    memset(s, 0, sizeof(*s));
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return true;
}

/* Check the URL's form: http(s), a host, no credentials, no fragment. */
static int check_url(struct ctx *c, const struct ynode *at, const char *url, bool *plain)
{
    const char *rest;
    if (!strncasecmp(url, "https://", 8)) {
        rest = url + 8;
        *plain = false;
    } else if (!strncasecmp(url, "http://", 7)) {
        rest = url + 7;
        *plain = true;
    } else {
        return fail(c, at, "url: must start with https:// (or http://)");
    }
    size_t auth_len = strcspn(rest, "/?#");
    if (!auth_len)
        return fail(c, at, "url: no host");
    if (memchr(rest, '@', auth_len))
        return fail(c, at, "url: credentials belong under auth:, not in the URL");
    if (strchr(url, '#'))
        return fail(c, at, "url: a TAXII URL has no #fragment");
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return fail(c, at, "url: blanks and control characters must be percent-encoded");
    return 0;
}

static int finish_source(struct ctx *c, const struct ynode *m, struct taxii_source *s,
                         const struct taxii_config *cfg)
{
    if (!s->name)
        return fail(c, m, "a source needs a name");
    if (!name_ok(s->name))
        return fail(c, ynode_get(m, "name"),
                    "name: '%.80s' must be 1 to %d letters, digits, '-', '_' or '.'", s->name,
                    NAME_MAX_LEN);
    for (size_t i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->sources[i].name, s->name))
            return fail(c, ynode_get(m, "name"),
                        "name: '%s' is already the name of the source "
                        "at line %u",
                        s->name, cfg->sources[i].line);
    if (!s->url)
        return fail(c, m, "source '%s' needs a url (discovery endpoint or API root)", s->name);
    if (!s->collection)
        return fail(c, m, "source '%s' needs a collection (an id, a title, or all)", s->name);
    bool plain = false;
    int rc = check_url(c, ynode_get(m, "url"), s->url, &plain);
    if (rc)
        return rc;
    if (s->connect_timeout_s > s->timeout_s)
        s->connect_timeout_s = s->timeout_s;
    if (c->warn && !s->verify)
        fprintf(c->warn,
                "kenchi: WARNING: %s:%u: source '%s' has verify: false: the server's "
                "certificate is NOT checked, so anyone on the network path can pose as it and "
                "feed you indicators (set ca_file to trust a private CA instead)\n",
                c->origin, s->line, s->name);
    if (c->warn && plain)
        fprintf(c->warn,
                "kenchi: warning: %s:%u: source '%s' uses plain http://: what is pulled can be "
                "read and changed on the way%s\n",
                c->origin, s->line, s->name,
                s->auth != TAXII_AUTH_NONE ? ", and the credentials travel in clear" : "");
    return 0;
}

static int read_config(struct ctx *c, const struct ynode *root, struct taxii_config *cfg)
{
    if (!root || ynode_is_null(root))
        return 0;
    if (root->kind != YNODE_MAP)
        return fail(c, root, "expected a mapping at the top, got %s", ynode_kind_name(root));
    const struct ynode *t = ynode_get(root, "taxii");
    if (!t || ynode_is_null(t))
        return 0;
    if (t->kind != YNODE_MAP)
        return fail(c, t, "taxii: expected a mapping (sources:, defaults:), got %s",
                    ynode_kind_name(t));
    for (size_t i = 0; i < t->map.n; i++) {
        const struct ynode *k = t->map.pairs[i].key;
        if (!ynode_scalar_is(k, "sources") && !ynode_scalar_is(k, "defaults"))
            return fail(c, k, "taxii: unknown key '%.64s' (sources, defaults)",
                        k->kind == YNODE_SCALAR ? k->scalar.s : "?");
    }
    struct taxii_source defaults;
    taxii_source_init(&defaults);
    int rc = 0;
    const struct ynode *d = ynode_get(t, "defaults");
    if (d && !ynode_is_null(d)) {
        if (d->kind != YNODE_MAP)
            rc = fail(c, d, "defaults: expected a mapping, got %s", ynode_kind_name(d));
        else
            rc = read_keys(c, d, &defaults, true);
    }
    const struct ynode *list = ynode_get(t, "sources");
    if (!rc && list && !ynode_is_null(list) && list->kind != YNODE_SEQ)
        rc = fail(c, list, "sources: expected a list, got %s", ynode_kind_name(list));
    if (!rc && list && list->kind == YNODE_SEQ) {
        if (list->seq.n > CONFIG_MAX_SOURCE)
            rc = fail(c, list, "sources: %zu sources (at most %d)", list->seq.n, CONFIG_MAX_SOURCE);
        else if (list->seq.n && !(cfg->sources = calloc(list->seq.n, sizeof(*cfg->sources))))
            rc = fail(c, list, "out of memory");
        for (size_t i = 0; !rc && i < list->seq.n; i++) {
            const struct ynode *m = list->seq.items[i];
            if (m->kind != YNODE_MAP) {
                rc = fail(c, m, "sources: each source is a mapping, got %s", ynode_kind_name(m));
                break;
            }
            struct taxii_source s;
            if (copy_defaults(&s, &defaults)) {
                source_free(&s);
                rc = fail(c, m, "out of memory");
                break;
            }
            s.file = cfg->path;
            s.line = m->mark.line;
            rc = read_keys(c, m, &s, false);
            if (!rc)
                rc = finish_source(c, m, &s, cfg);
            if (rc) {
                source_free(&s);
                break;
            }
            cfg->sources[cfg->n++] = s;
        }
    }
    source_free(&defaults);
    return rc;
}

int taxii_config_parse(const char *origin, const char *text, size_t n, struct taxii_config *cfg,
                       FILE *warn, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    struct ctx c = {origin, err, errlen, warn};
    err[0] = '\0';
    cfg->path = strdup(origin);
    if (!cfg->path)
        return fail(&c, NULL, "out of memory");
    if (n > CONFIG_MAX_BYTES)
        return fail(&c, NULL, "%zu bytes is too large for a configuration (at most %u)", n,
                    CONFIG_MAX_BYTES);
    struct yaml_file f;
    struct yaml_error ye;
    int rc = yaml_parse(text, n, &f, &ye);
    if (rc) {
        snprintf(err, errlen, "%s:%u:%u: %s", origin, ye.mark.line, ye.mark.col, ye.msg);
    } else if (f.ndocs > 1) {
        rc = fail(&c, f.docs[1], "one YAML document expected, found %zu", f.ndocs);
    } else if (f.ndocs == 1) {
        rc = read_config(&c, f.docs[0], cfg);
    }
    yaml_file_free(&f);
    return rc ? -EINVAL : 0;
}

/* Make a relative file name relative to dir (malloc'd in *path). */
static int resolve(char **path, const char *dir)
{
    if (!*path || (*path)[0] == '/' || !dir)
        return 0;
    size_t n = strlen(dir) + strlen(*path) + 2;
    char *p = malloc(n);
    if (!p)
        return -ENOMEM;
    snprintf(p, n, "%s/%s", dir, *path);
    free(*path);
    *path = p;
    return 0;
}

static int check_file(struct taxii_config *cfg, const struct taxii_source *s, const char *key,
                      const char *path, char *err, size_t errlen)
{
    if (!path)
        return 0;
    struct stat st;
    if (access(path, R_OK) || stat(path, &st)) {
        int e = errno;
        snprintf(err, errlen, "%s:%u: source '%s': %s %s: %s", cfg->path, s->line, s->name, key,
                 path, strerror(e));
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s:%u: source '%s': %s %s is not a regular file", cfg->path, s->line,
                 s->name, key, path);
        return -EINVAL;
    }
    return 0;
}

int taxii_config_load(const char *path, struct taxii_config *cfg, FILE *warn, char *err,
                      size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    char *text = malloc(CONFIG_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, CONFIG_MAX_BYTES + 1, f) : 0;
    bool bad = !text || ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        snprintf(err, errlen, "%s: cannot read", path);
        return -EIO;
    }
    int rc = taxii_config_parse(path, text, n, cfg, warn, err, errlen);
    free(text);
    if (rc)
        return rc;
    /* file names are relative to the configuration's directory */
    char *dir = strdup(path);
    if (!dir)
        return -ENOMEM;
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    for (size_t i = 0; !rc && i < cfg->n; i++) {
        struct taxii_source *s = &cfg->sources[i];
        const char *d = slash ? (dir[0] ? dir : "/") : NULL;
        if (resolve(&s->ca_file, d) || resolve(&s->password_file, d) ||
            resolve(&s->token_file, d)) {
            rc = -ENOMEM;
            snprintf(err, errlen, "out of memory");
            break;
        }
        rc = check_file(cfg, s, "ca_file", s->ca_file, err, errlen);
        if (!rc)
            rc = check_file(cfg, s, "password_file", s->password_file, err, errlen);
        if (!rc)
            rc = check_file(cfg, s, "token_file", s->token_file, err, errlen);
    }
    free(dir);
    return rc;
}

void taxii_config_free(struct taxii_config *cfg)
{
    for (size_t i = 0; i < cfg->n; i++)
        source_free(&cfg->sources[i]);
    free(cfg->sources);
    free(cfg->path);
    memset(cfg, 0, sizeof(*cfg));
}

const struct taxii_source *taxii_config_find(const struct taxii_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (!strcmp(cfg->sources[i].name, name))
            return &cfg->sources[i];
    return NULL;
}
