/*
 * stix-export.c - kenchi's findings as a STIX 2.1 bundle; see
 * stix-export.h.
 *
 * Objects are serialised as soon as they are added and kept as text with
 * their id, a sort rank (identity, markings, indicators, observed data,
 * cyber-observables, sightings) and their TLP level. Indicators made from
 * alerts are the exception: alerts naming the same value merge into one
 * indicator (rule names, labels, phases, earliest time), so they are kept
 * as a table keyed by pattern and serialised at write time.
 *
 * Ids. A cyber-observable's id is the UUIDv5 STIX section 2.9 defines
 * (namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 over the RFC 8785
 * canonical JSON of its ID contributing properties), so it equals the id
 * any other producer computes for the same address or hash. Every other
 * object's id is a UUIDv5 in kenchi's own namespace
 * 8874afdf-9873-55e9-9f3a-d26886c84932 (itself the UUIDv5 of the name
 * "urn:kenchi:stix-export" in RFC 4122's URL namespace) over its type, a
 * newline, and its properties other than type, id, spec_version, created
 * and modified, as serialised. So the same findings give the same ids
 * whenever they are exported, and a changed finding (another count, a
 * later last sighting) a new object.
 */
#include "intel/stix-export.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "intel/intel-json.h"
#include "intel/stix-tlp.h"
#include "util/strmap.h"
#include "util/timeconv.h"
#include "util/uuid.h"

#define SCO_NAMESPACE    "00abedb4-aa42-466c-9c01-fed23315a9b7"
#define KENCHI_NAMESPACE "8874afdf-9873-55e9-9f3a-d26886c84932"
#define OBSERVED_MAX     100
#define STIX_COUNT_MAX   999999999ULL
#define ALERT_MAX_BYTES  ((size_t)16 << 20)
#define NAME_MAX_BYTES   1000

/* Sort order of objects in the bundle. */
enum rank { R_IDENTITY, R_MARKING, R_INDICATOR, R_OBSERVED, R_SCO, R_SIGHTING };

struct xobj {
    char *id;
    int rank;
    int tlp;
    char *json;
    size_t len;
};

/* An indicator from alerts, merged by pattern. */
struct alert_ind {
    char *pattern;
    int64_t valid_from;
    int level; /* highest rule level seen: 0 informational .. 4 critical, -1 none */
    struct intel_jlist names, labels, phases;
};

struct stix_export {
    char *identity_name, *identity_class, *contact;
    char **sectors, **internal;
    enum tlp tlp;
    char created[32];
    char identity_id[80];
    uint8_t ns_sco[16], ns_kenchi[16];
    struct xobj *objs;
    size_t nobjs, capobjs;
    struct strmap ids;              /* object id -> index into objs */
    struct strmap alert_by_pattern; /* pattern -> index into ai */
    struct alert_ind *ai;
    size_t nai, capai;
    struct arena arena;
    struct stix_export_stats st;
};

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 32;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, nc * elem);
    if (!q)
        abort();
    *cap = nc;
    return q;
}

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static char **xstrvdup(const char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    char **d = calloc(n + 1, sizeof(*d));
    if (!d)
        abort();
    for (size_t i = 0; i < n; i++)
        d[i] = xstrdup(v[i]);
    return d;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* RFC 3339 with milliseconds and Z, as STIX wants. */
static void ts_format(int64_t t, char out[32])
{
    char full[32];
    time_format(t, full); /* YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ */
    memcpy(out, full, 23);
    out[23] = 'Z';
    out[24] = '\0';
}

/* s[0..n) with every byte that is not part of valid UTF-8 replaced by
 * U+FFFD, as json_put_string() writes it: the canonical form (for ids) and
 * the written form then hold the same characters. */
static void clean_utf8(const char *s, size_t n, struct buf *out)
{
    buf_clear(out);
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t l = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, n - i);
        if (!l) {
            buf_append(out, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            buf_append(out, s + i, l);
            i += l;
        }
    }
}

/* A string as RFC 8785 (JSON canonicalisation) writes it; s must be valid
 * UTF-8. */
static void canon_string(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            buf_puts(b, "\\\"");
            break;
        case '\\':
            buf_puts(b, "\\\\");
            break;
        case '\b':
            buf_puts(b, "\\b");
            break;
        case '\f':
            buf_puts(b, "\\f");
            break;
        case '\n':
            buf_puts(b, "\\n");
            break;
        case '\r':
            buf_puts(b, "\\r");
            break;
        case '\t':
            buf_puts(b, "\\t");
            break;
        default:
            if (c < 0x20) {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                buf_append(b, e, 6);
            } else {
                buf_putc(b, (char)c);
            }
        }
    }
    buf_putc(b, '"');
}

static void put_key_str(struct buf *b, const char *key, const char *v, size_t n)
{
    buf_printf(b, ",\"%s\":", key);
    json_put_string(b, v, n);
}

static void put_key_cstr(struct buf *b, const char *key, const char *v)
{
    put_key_str(b, key, v, strlen(v));
}

static void put_markings(struct buf *b, int tlp)
{
    const struct stix_tlp_marking *mk = stix_tlp_marking((enum tlp)tlp);
    buf_printf(b, ",\"object_marking_refs\":[\"%s\"", mk->v2_id);
    if (mk->v1_id)
        buf_printf(b, ",\"%s\"", mk->v1_id);
    buf_putc(b, ']');
}

/* Make the object of type with the properties body (each ",\"key\":value";
 * for an SCO canon is its ID contributing properties as canonical JSON)
 * and keep it. Its id goes to id_out. */
static void obj_make(struct stix_export *x, const char *type, int rank, int tlp,
                     const struct buf *body, const struct buf *canon, char id_out[80],
                     struct xobj *out)
{
    uint8_t u[16];
    if (canon) {
        uuid_v5(x->ns_sco, canon->data, canon->len, u);
    } else {
        struct buf h;
        buf_init(&h);
        buf_printf(&h, "%s\n", type);
        buf_append(&h, body->data ? body->data : "", body->len);
        uuid_v5(x->ns_kenchi, h.data, h.len, u);
        buf_free(&h);
    }
    char us[UUID_TEXT_LEN + 1];
    uuid_format(u, us);
    snprintf(id_out, 80, "%s--%s", type, us);
    struct buf j;
    buf_init(&j);
    buf_printf(&j, "{\"type\":\"%s\",\"spec_version\":\"2.1\",\"id\":\"%s\"", type, id_out);
    if (!canon)
        buf_printf(&j, ",\"created\":\"%s\",\"modified\":\"%s\"", x->created, x->created);
    buf_append(&j, body->data ? body->data : "", body->len);
    buf_putc(&j, '}');
    out->id = xstrdup(id_out);
    out->rank = rank;
    out->tlp = tlp;
    out->json = j.data;
    out->len = j.len;
}

/* Make an object and keep it, once per id: the same observable seen in two
 * sightings is one object, with the stricter of their markings. */
static void obj_add(struct stix_export *x, const char *type, int rank, int tlp,
                    const struct buf *body, const struct buf *canon, char id_out[80])
{
    struct xobj o;
    obj_make(x, type, rank, tlp, body, canon, id_out, &o);
    bool found;
    uint64_t *slot = strmap_put(&x->ids, o.id, strlen(o.id), &found);
    if (found) {
        struct xobj *old = &x->objs[*slot];
        if (o.tlp > old->tlp) {
            free(old->json);
            old->json = o.json;
            old->len = o.len;
            old->tlp = o.tlp;
            o.json = NULL;
        }
        free(o.id);
        free(o.json);
        return;
    }
    *slot = x->nobjs;
    x->objs = grow(x->objs, &x->capobjs, x->nobjs + 1, sizeof(*x->objs));
    x->objs[x->nobjs++] = o;
}

/* ---- patterns --------------------------------------------------------- */

/* A pattern string literal: quotes, with ' and \ escaped (STIX 2.1
 * section 9.2). */
static void pattern_string(struct buf *b, const char *s, size_t n)
{
    buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            buf_putc(b, '\\');
        buf_putc(b, s[i]);
    }
    buf_putc(b, '\'');
}

int stix_pattern_for_value(enum ioc_type t, const char *v, size_t n, struct buf *out)
{
    const char *path = NULL;
    switch (t) {
    case IOC_IP:
        path = memchr(v, ':', n) ? "ipv6-addr:value" : "ipv4-addr:value";
        break;
    case IOC_DOMAIN:
        path = "domain-name:value";
        break;
    case IOC_EMAIL:
        path = "email-addr:value";
        break;
    case IOC_MD5:
        path = "file:hashes.MD5";
        break;
    case IOC_SHA1:
        path = "file:hashes.'SHA-1'";
        break;
    case IOC_SHA256:
        path = "file:hashes.'SHA-256'";
        break;
    case IOC_FILENAME:
        path = "file:name";
        break;
    case IOC_USER_AGENT:
        path = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'";
        break;
    case IOC_URL: {
        /* kenchi's URL values have no scheme ("host/path"), and match
         * whichever scheme a log shows */
        bool has_scheme = false;
        for (size_t i = 0; i + 2 < n && i < 16; i++)
            if (v[i] == ':' && v[i + 1] == '/' && v[i + 2] == '/')
                has_scheme = true;
        buf_puts(out, "[url:value = ");
        if (has_scheme) {
            pattern_string(out, v, n);
        } else {
            struct buf u;
            buf_init(&u);
            buf_puts(&u, "http://");
            buf_append(&u, v, n);
            pattern_string(out, u.data, u.len);
            buf_puts(out, " OR url:value = ");
            buf_clear(&u);
            buf_puts(&u, "https://");
            buf_append(&u, v, n);
            pattern_string(out, u.data, u.len);
            buf_free(&u);
        }
        buf_putc(out, ']');
        return 0;
    }
    case IOC_PATTERN:
        buf_append(out, v, n);
        return 0;
    default:
        return -EINVAL;
    }
    buf_printf(out, "[%s = ", path);
    pattern_string(out, v, n);
    buf_putc(out, ']');
    return 0;
}

/* ---- the export ------------------------------------------------------- */

struct stix_export *stix_export_new(const struct stix_export_opts *o)
{
    struct stix_export *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->identity_name = xstrdup(o && o->identity_name ? o->identity_name : "kenchi");
    x->identity_class = xstrdup(o && o->identity_class ? o->identity_class : "organization");
    x->contact = xstrdup(o ? o->contact : NULL);
    x->sectors = xstrvdup(o ? o->sectors : NULL);
    x->internal = xstrvdup(o ? o->internal_domains : NULL);
    x->tlp = o && o->tlp != TLP_UNMARKED ? o->tlp : TLP_AMBER;
    int64_t created = o ? o->created : TIME_NONE;
    if (created == TIME_NONE) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        created = time_from_unix(ts.tv_sec, ts.tv_nsec);
    }
    ts_format(created, x->created);
    uuid_parse(SCO_NAMESPACE, UUID_TEXT_LEN, x->ns_sco);
    uuid_parse(KENCHI_NAMESPACE, UUID_TEXT_LEN, x->ns_kenchi);
    strmap_init(&x->ids);
    strmap_init(&x->alert_by_pattern);
    arena_init(&x->arena, 64 * 1024);

    /* the identity every object is created by */
    struct buf body, clean;
    buf_init(&body);
    buf_init(&clean);
    clean_utf8(x->identity_name, strlen(x->identity_name), &clean);
    put_key_str(&body, "name", clean.data, clean.len);
    put_key_cstr(&body, "identity_class", x->identity_class);
    if (x->sectors[0]) {
        buf_puts(&body, ",\"sectors\":[");
        for (size_t i = 0; x->sectors[i]; i++) {
            if (i)
                buf_putc(&body, ',');
            json_put_string(&body, x->sectors[i], strlen(x->sectors[i]));
        }
        buf_putc(&body, ']');
    }
    if (x->contact)
        put_key_cstr(&body, "contact_information", x->contact);
    put_markings(&body, x->tlp);
    obj_add(x, "identity", R_IDENTITY, x->tlp, &body, NULL, x->identity_id);
    buf_free(&body);
    buf_free(&clean);
    return x;
}

void stix_export_free(struct stix_export *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->nobjs; i++) {
        free(x->objs[i].id);
        free(x->objs[i].json);
    }
    free(x->objs);
    free(x->ai);
    strmap_free(&x->ids);
    strmap_free(&x->alert_by_pattern);
    arena_free(&x->arena);
    free(x->identity_name);
    free(x->identity_class);
    free(x->contact);
    strv_free(x->sectors);
    strv_free(x->internal);
    free(x);
}

void stix_export_get_stats(const struct stix_export *x, struct stix_export_stats *st)
{
    *st = x->st;
    st->indicators += x->nai; /* one per value named by alerts */
}

static bool indicator_id_ok(const char *ref)
{
    uint8_t u[16];
    return !strncmp(ref, "indicator--", 11) && uuid_parse(ref + 11, strlen(ref + 11), u) == 0;
}

/* An address that says nothing outside the organisation: private,
 * loopback, link-local, shared (CGNAT), unspecified, multicast. */
static bool ip_is_internal(const char *v)
{
    char a[64];
    size_t n = strcspn(v, "/");
    if (n >= sizeof(a))
        return false;
    memcpy(a, v, n);
    a[n] = '\0';
    unsigned char b[16];
    if (inet_pton(AF_INET, a, b) == 1) {
        return b[0] == 10 || b[0] == 127 || b[0] == 0 || (b[0] == 172 && (b[1] & 0xF0) == 16) ||
               (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254) ||
               (b[0] == 100 && (b[1] & 0xC0) == 64) || b[0] >= 224;
    }
    if (inet_pton(AF_INET6, a, b) == 1) {
        static const unsigned char zero[15] = {0};
        return (b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) || b[0] == 0xFF ||
               (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1));
    }
    return false;
}

/* Is host (lower-case) one of the internal domains or under one? */
static bool host_is_internal(const struct stix_export *x, const char *host, size_t n)
{
    for (size_t i = 0; x->internal[i]; i++) {
        const char *d = x->internal[i];
        size_t dn = strlen(d);
        if (n == dn && !strncasecmp(host, d, n))
            return true;
        if (n > dn && host[n - dn - 1] == '.' && !strncasecmp(host + n - dn, d, dn))
            return true;
    }
    return false;
}

/* Is a normalised value of type t internal (never to be shared as a new
 * indicator)? */
static bool value_is_internal(const struct stix_export *x, enum ioc_type t, const char *v)
{
    switch (t) {
    case IOC_IP:
        return ip_is_internal(v);
    case IOC_DOMAIN:
        return host_is_internal(x, v, strlen(v));
    case IOC_EMAIL: {
        const char *at = strrchr(v, '@');
        return at && host_is_internal(x, at + 1, strlen(at + 1));
    }
    case IOC_URL: {
        /* "host[:port]/path": the host, or the address in [brackets] */
        size_t h = strcspn(v, "/?#");
        const char *p = v;
        size_t hn;
        if (*p == '[') {
            p++;
            hn = strcspn(p, "]");
        } else {
            const char *colon = memchr(v, ':', h);
            hn = colon ? (size_t)(colon - v) : h;
        }
        char host[300];
        if (hn >= sizeof(host))
            return false;
        memcpy(host, p, hn);
        host[hn] = '\0';
        return ip_is_internal(host) || host_is_internal(x, host, hn);
    }
    default:
        return false;
    }
}

/* ---- cyber-observables ------------------------------------------------ */

/* Guess the type of a value seen for a pattern indicator. */
static int guess_type(const char *v, size_t n)
{
    char out[600];
    const char *why;
    if (n > 500)
        return -1;
    if (ioc_normalise(IOC_IP, v, n, out, &why) >= 0)
        return IOC_IP;
    if (memchr(v, '@', n))
        return IOC_EMAIL;
    for (size_t i = 0; i + 2 < n && i < 16; i++)
        if (v[i] == ':' && v[i + 1] == '/' && v[i + 2] == '/')
            return IOC_URL;
    bool hex = true;
    for (size_t i = 0; i < n && hex; i++)
        hex = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f') ||
              (v[i] >= 'A' && v[i] <= 'F');
    if (hex && n == 32)
        return IOC_MD5;
    if (hex && n == 40)
        return IOC_SHA1;
    if (hex && n == 64)
        return IOC_SHA256;
    if (memchr(v, '.', n) && ioc_normalise(IOC_DOMAIN, v, n, out, &why) >= 0)
        return IOC_DOMAIN;
    return -1;
}

/* Add the cyber-observable for a value seen (type t, or guessed for
 * patterns). Its id goes to id_out. Returns 0, or -EINVAL when the value
 * has no observable (a user agent, a URL without scheme, junk). */
static int sco_add(struct stix_export *x, int t, const char *v, size_t n, int tlp, char id_out[80])
{
    if (t == IOC_PATTERN)
        t = guess_type(v, n);
    if (t < 0 || t == IOC_USER_AGENT || t == IOC_PATTERN || n > 8192)
        return -EINVAL;
    char *norm = malloc(n + 64);
    if (!norm)
        abort();
    const char *why;
    int len;
    const char *type = NULL;
    struct buf clean, body, canon;
    buf_init(&clean);
    buf_init(&body);
    buf_init(&canon);
    int rc = 0;
    if (t == IOC_URL) {
        bool has_scheme = false;
        for (size_t i = 0; i + 2 < n && i < 16; i++)
            if (v[i] == ':' && v[i + 1] == '/' && v[i + 2] == '/')
                has_scheme = true;
        if (!has_scheme || ioc_normalise(IOC_URL, v, n, norm, &why) < 0) {
            rc = -EINVAL;
            goto out;
        }
        memcpy(norm, v, n); /* the URL as seen, not kenchi's matching form */
        len = (int)n;
        type = "url";
    } else if (t == IOC_FILENAME) {
        size_t s = n;
        while (s && v[s - 1] != '/' && v[s - 1] != '\\')
            s--;
        if (s == n) {
            rc = -EINVAL;
            goto out;
        }
        len = (int)(n - s);
        memcpy(norm, v + s, (size_t)len);
        type = "file";
    } else {
        len = ioc_normalise((enum ioc_type)t, v, n, norm, &why);
        if (len < 0) {
            rc = -EINVAL;
            goto out;
        }
        type = t == IOC_IP       ? (memchr(norm, ':', (size_t)len) ? "ipv6-addr" : "ipv4-addr")
               : t == IOC_DOMAIN ? "domain-name"
               : t == IOC_EMAIL  ? "email-addr"
                                 : "file";
    }
    clean_utf8(norm, (size_t)len, &clean);
    if (t == IOC_MD5 || t == IOC_SHA1 || t == IOC_SHA256) {
        const char *alg = t == IOC_MD5 ? "MD5" : t == IOC_SHA1 ? "SHA-1" : "SHA-256";
        buf_printf(&canon, "{\"hashes\":{\"%s\":", alg);
        canon_string(&canon, clean.data, clean.len);
        buf_puts(&canon, "}}");
        buf_printf(&body, ",\"hashes\":{\"%s\":", alg);
        json_put_string(&body, clean.data, clean.len);
        buf_putc(&body, '}');
    } else {
        const char *key = t == IOC_FILENAME ? "name" : "value";
        buf_printf(&canon, "{\"%s\":", key);
        canon_string(&canon, clean.data, clean.len);
        buf_putc(&canon, '}');
        put_key_str(&body, key, clean.data, clean.len);
    }
    put_markings(&body, tlp);
    obj_add(x, type, R_SCO, tlp, &body, &canon, id_out);
out:
    free(norm);
    buf_free(&clean);
    buf_free(&body);
    buf_free(&canon);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An indicator of kenchi's for a value that has no STIX indicator. */
static int value_indicator(struct stix_export *x, const struct ioc *ioc, const struct ioc_meta *m,
                           int64_t first_seen, int tlp, char id_out[80])
{
    struct buf pat, body, clean;
    buf_init(&pat);
    buf_init(&body);
    buf_init(&clean);
    size_t vn = strlen(ioc->value);
    if (stix_pattern_for_value(ioc->type, ioc->value, vn, &pat) < 0) {
        buf_free(&pat);
        buf_free(&body);
        buf_free(&clean);
        return -EINVAL;
    }
    put_key_cstr(&body, "created_by_ref", x->identity_id);
    if (m && m->name && *m->name) {
        clean_utf8(m->name, strlen(m->name), &clean);
    } else {
        buf_printf(&clean, "%s ", ioc_type_name(ioc->type));
        struct buf v;
        buf_init(&v);
        clean_utf8(ioc->value, vn > 200 ? 200 : vn, &v);
        buf_append(&clean, v.data, v.len);
        buf_free(&v);
    }
    put_key_str(&body, "name", clean.data, clean.len);
    buf_puts(&body, ",\"indicator_types\":[\"malicious-activity\"]");
    clean_utf8(pat.data, pat.len, &clean);
    put_key_str(&body, "pattern", clean.data, clean.len);
    buf_puts(&body, ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\"");
    char vf[32], vu[32];
    int64_t from = m && m->valid_from != TIME_NONE ? m->valid_from : first_seen;
    if (from == TIME_NONE)
        memcpy(vf, x->created, sizeof(vf));
    else
        ts_format(from, vf);
    put_key_cstr(&body, "valid_from", vf);
    if (m && m->valid_until != TIME_NONE && (from == TIME_NONE || m->valid_until > from)) {
        ts_format(m->valid_until, vu);
        if (strcmp(vu, vf) > 0)
            put_key_cstr(&body, "valid_until", vu);
    }
    put_markings(&body, tlp);
    obj_add(x, "indicator", R_INDICATOR, tlp, &body, NULL, id_out);
    x->st.indicators++;
    buf_free(&pat);
    buf_free(&body);
    buf_free(&clean);
    return 0;
}

int stix_export_add_sighting(struct stix_export *x, const struct ioc *ioc, const struct ioc_meta *m,
                             uint64_t count, int64_t first_seen, int64_t last_seen,
                             const char *const *observed, size_t nobserved)
{
    if (!ioc || !ioc->value)
        return -EINVAL;
    int tlp = x->tlp;
    if (m && (int)m->tlp > tlp)
        tlp = (int)m->tlp;
    if (first_seen != TIME_NONE && last_seen != TIME_NONE && last_seen < first_seen) {
        int64_t t = first_seen;
        first_seen = last_seen;
        last_seen = t;
    }
    char target[80];
    if (m && m->ref && indicator_id_ok(m->ref) && strlen(m->ref) < sizeof(target)) {
        strcpy(target, m->ref);
    } else if (value_indicator(x, ioc, m, first_seen, tlp, target) < 0) {
        return -EINVAL;
    }

    /* what was seen: observables in one observed-data */
    char od[80] = "";
    int64_t fo = first_seen != TIME_NONE ? first_seen : last_seen;
    int64_t lo = last_seen != TIME_NONE ? last_seen : first_seen;
    if (fo != TIME_NONE && count > 0) {
        const char *self[1] = {ioc->value};
        if (!observed || !nobserved) {
            observed = self;
            nobserved = 1;
        }
        char **ids = calloc(OBSERVED_MAX, sizeof(*ids));
        if (!ids)
            abort();
        size_t nids = 0;
        for (size_t i = 0; i < nobserved && nids < OBSERVED_MAX; i++) {
            char id[80];
            if (!observed[i] ||
                sco_add(x, (int)ioc->type, observed[i], strlen(observed[i]), tlp, id) < 0) {
                x->st.values_skipped++;
                continue;
            }
            bool dup = false;
            for (size_t k = 0; k < nids && !dup; k++)
                dup = !strcmp(ids[k], id);
            if (!dup)
                ids[nids++] = xstrdup(id);
        }
        if (nids) {
            qsort(ids, nids, sizeof(*ids), cmp_str);
            struct buf body;
            buf_init(&body);
            char f[32], l[32];
            ts_format(fo, f);
            ts_format(lo, l);
            put_key_cstr(&body, "created_by_ref", x->identity_id);
            put_key_cstr(&body, "first_observed", f);
            put_key_cstr(&body, "last_observed", l);
            buf_printf(&body, ",\"number_observed\":%llu",
                       (unsigned long long)(count > STIX_COUNT_MAX ? STIX_COUNT_MAX : count));
            buf_puts(&body, ",\"object_refs\":[");
            for (size_t k = 0; k < nids; k++)
                buf_printf(&body, "%s\"%s\"", k ? "," : "", ids[k]);
            buf_putc(&body, ']');
            put_markings(&body, tlp);
            obj_add(x, "observed-data", R_OBSERVED, tlp, &body, NULL, od);
            x->st.observed++;
            buf_free(&body);
        }
        for (size_t k = 0; k < nids; k++)
            free(ids[k]);
        free(ids);
    }

    struct buf body;
    buf_init(&body);
    put_key_cstr(&body, "created_by_ref", x->identity_id);
    put_key_cstr(&body, "sighting_of_ref", target);
    char t[32];
    if (first_seen != TIME_NONE) {
        ts_format(first_seen, t);
        put_key_cstr(&body, "first_seen", t);
    }
    if (last_seen != TIME_NONE) {
        ts_format(last_seen, t);
        put_key_cstr(&body, "last_seen", t);
    }
    buf_printf(&body, ",\"count\":%llu",
               (unsigned long long)(count > STIX_COUNT_MAX ? STIX_COUNT_MAX : count));
    buf_printf(&body, ",\"where_sighted_refs\":[\"%s\"]", x->identity_id);
    if (*od)
        buf_printf(&body, ",\"observed_data_refs\":[\"%s\"]", od);
    put_markings(&body, tlp);
    char sid[80];
    obj_add(x, "sighting", R_SIGHTING, tlp, &body, NULL, sid);
    x->st.sightings++;
    buf_free(&body);
    return 0;
}

/* ---- alerts ----------------------------------------------------------- */

/* The event fields whose values are outside entities worth sharing. */
static const struct {
    const char *field;
    enum ioc_type type;
} alert_fields[] = {
    {"source.ip", IOC_IP},
    {"client.ip", IOC_IP},
    {"destination.ip", IOC_IP},
    {"email.from.address", IOC_EMAIL},
    {"email.sender.address", IOC_EMAIL},
    {"email.reply_to.address", IOC_EMAIL},
    {"url.full", IOC_URL},
    {"url.original", IOC_URL},
    {"url.domain", IOC_DOMAIN},
    {"dns.question.name", IOC_DOMAIN},
    {"destination.domain", IOC_DOMAIN},
    {"file.hash.md5", IOC_MD5},
    {"file.hash.sha1", IOC_SHA1},
    {"file.hash.sha256", IOC_SHA256},
};

/* ATT&CK tactics: their ids, their Sigma tag names, their STIX phase
 * names (kill chain "mitre-attack"). */
static const struct {
    const char *id, *sigma, *phase;
} tactics[] = {
    {"TA0043", "reconnaissance", "reconnaissance"},
    {"TA0042", "resource_development", "resource-development"},
    {"TA0001", "initial_access", "initial-access"},
    {"TA0002", "execution", "execution"},
    {"TA0003", "persistence", "persistence"},
    {"TA0004", "privilege_escalation", "privilege-escalation"},
    {"TA0005", "defense_evasion", "defense-evasion"},
    {"TA0006", "credential_access", "credential-access"},
    {"TA0007", "discovery", "discovery"},
    {"TA0008", "lateral_movement", "lateral-movement"},
    {"TA0009", "collection", "collection"},
    {"TA0011", "command_and_control", "command-and-control"},
    {"TA0010", "exfiltration", "exfiltration"},
    {"TA0040", "impact", "impact"},
};

static int level_of(const char *s)
{
    static const char *const levels[] = {"informational", "low", "medium", "high", "critical"};
    for (int i = 0; s && i < 5; i++)
        if (!strcmp(s, levels[i]))
            return i;
    return -1;
}

struct alert_ctx {
    struct stix_export *x;
    const char *rule;
    int level;
    int64_t t;
    const json_t *tags, *sigma_tags;
    int given;
};

static void alert_value(struct alert_ctx *c, enum ioc_type t, const char *v, size_t n)
{
    struct stix_export *x = c->x;
    char *norm = malloc(n + 64);
    if (!norm)
        abort();
    const char *why;
    int len = ioc_normalise(t, v, n, norm, &why);
    struct buf pat;
    buf_init(&pat);
    if (len < 0 || value_is_internal(x, t, norm) ||
        stix_pattern_for_value(t, norm, (size_t)len, &pat) < 0) {
        x->st.values_skipped++;
        goto out;
    }
    bool found;
    uint64_t *slot = strmap_put(&x->alert_by_pattern, pat.data, pat.len, &found);
    struct alert_ind *a;
    if (!found) {
        *slot = x->nai;
        x->ai = grow(x->ai, &x->capai, x->nai + 1, sizeof(*x->ai));
        a = &x->ai[x->nai++];
        memset(a, 0, sizeof(*a));
        a->pattern = arena_strndup(&x->arena, pat.data, pat.len);
        a->valid_from = c->t;
        a->level = c->level;
        intel_jlist_init(&a->names, &x->arena);
        intel_jlist_init(&a->labels, &x->arena);
        intel_jlist_init(&a->phases, &x->arena);
    } else {
        a = &x->ai[*slot];
        if (c->t != TIME_NONE && (a->valid_from == TIME_NONE || c->t < a->valid_from))
            a->valid_from = c->t;
        if (c->level > a->level)
            a->level = c->level;
    }
    intel_jlist_add(&a->names, c->rule, strlen(c->rule));
    size_t i;
    const json_t *tag;
    json_array_foreach(c->tags, i, tag)
    {
        if (!json_is_string(tag))
            continue;
        const char *s = json_string_value(tag);
        intel_jlist_add(&a->labels, s, strlen(s));
        for (size_t k = 0; k < sizeof(tactics) / sizeof(tactics[0]); k++)
            if (!strcmp(s, tactics[k].id))
                intel_jlist_add(&a->phases, tactics[k].phase, strlen(tactics[k].phase));
    }
    json_array_foreach(c->sigma_tags, i, tag)
    {
        const char *s = json_is_string(tag) ? json_string_value(tag) : "";
        if (strncmp(s, "attack.", 7))
            continue;
        for (size_t k = 0; k < sizeof(tactics) / sizeof(tactics[0]); k++)
            if (!strcmp(s + 7, tactics[k].sigma))
                intel_jlist_add(&a->phases, tactics[k].phase, strlen(tactics[k].phase));
    }
    c->given++;
out:
    buf_free(&pat);
    free(norm);
}

/* Values of one field (a string, a number, or a list of them). */
static void alert_field(struct alert_ctx *c, const char *field, const json_t *v)
{
    for (size_t k = 0; k < sizeof(alert_fields) / sizeof(alert_fields[0]); k++) {
        if (strcmp(field, alert_fields[k].field))
            continue;
        if (json_is_string(v)) {
            alert_value(c, alert_fields[k].type, json_string_value(v), json_string_length(v));
        } else if (json_is_array(v)) {
            size_t i;
            const json_t *e;
            json_array_foreach(v, i, e)
            {
                if (json_is_string(e))
                    alert_value(c, alert_fields[k].type, json_string_value(e),
                                json_string_length(e));
            }
        }
        return;
    }
}

/* Walk an object whose keys are ECS names, dotted ("source.ip") or nested
 * ({"source":{"ip":...}}), a few levels deep. */
static void alert_fields_of(struct alert_ctx *c, const json_t *o, const char *prefix, int depth)
{
    if (!json_is_object(o) || depth > 4)
        return;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        char name[200];
        int len = snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", k);
        if (len < 0 || (size_t)len >= sizeof(name))
            continue;
        if (json_is_object(v))
            alert_fields_of(c, v, name, depth + 1);
        else
            alert_field(c, name, v);
    }
}

int stix_export_add_alert(struct stix_export *x, const char *alert_json, size_t n)
{
    char why[256];
    if (n > ALERT_MAX_BYTES)
        return -EINVAL;
    json_t *a = intel_json_parse(alert_json, n, 32, 1, why, sizeof(why));
    const char *kind = intel_json_str(a, "kind");
    if (!a || !json_is_object(a) || !kind) {
        json_decref(a);
        return -EINVAL;
    }
    if (strcmp(kind, "sigma") && strcmp(kind, "correlation")) {
        x->st.alerts_ignored++;
        json_decref(a);
        return 0;
    }
    const json_t *rule = json_object_get(a, "rule");
    const char *name = intel_json_str(rule, "name");
    if (!name || !*name)
        name = intel_json_str(rule, "id");
    char rname[NAME_MAX_BYTES + 1];
    struct buf clean;
    buf_init(&clean);
    clean_utf8(name && *name ? name : "kenchi detection", name && *name ? strlen(name) : 16,
               &clean);
    size_t rn = clean.len > NAME_MAX_BYTES ? NAME_MAX_BYTES : clean.len;
    while (rn < clean.len && rn && ((unsigned char)clean.data[rn] & 0xC0) == 0x80)
        rn--;
    memcpy(rname, clean.data, rn);
    rname[rn] = '\0';
    buf_free(&clean);
    struct alert_ctx c = {
        .x = x,
        .rule = rname,
        .level = level_of(intel_json_str(rule, "level")),
        .t = TIME_NONE,
        .tags = json_object_get(rule, "tags"),
        .sigma_tags = json_object_get(rule, "sigma_tags"),
    };
    const char *ts = intel_json_str(a, "@timestamp");
    int64_t t;
    if (ts && time_parse_iso(ts, strlen(ts), NULL, &t) == strlen(ts))
        c.t = t;
    alert_fields_of(&c, json_object_get(a, "entity"), "", 0);
    alert_fields_of(&c, json_object_get(a, "matched"), "", 0);
    alert_fields_of(&c, json_object_get(json_object_get(a, "correlation"), "group_by"), "", 0);
    if (c.given)
        x->st.alerts_used++;
    else
        x->st.alerts_ignored++;
    json_decref(a);
    return c.given;
}

/* ---- writing ---------------------------------------------------------- */

static void sorted_items(const struct intel_jlist *l, const char **out)
{
    for (size_t i = 0; i < l->n; i++)
        out[i] = l->item[i];
    qsort(out, l->n, sizeof(*out), cmp_str);
}

static void alert_indicator(struct stix_export *x, const struct alert_ind *a, struct xobj *out)
{
    const char *items[INTEL_JLIST_MAX];
    struct buf body, name;
    buf_init(&body);
    buf_init(&name);
    put_key_cstr(&body, "created_by_ref", x->identity_id);
    sorted_items(&a->names, items);
    for (size_t i = 0; i < a->names.n && name.len < NAME_MAX_BYTES; i++) {
        if (i)
            buf_puts(&name, "; ");
        buf_puts(&name, items[i]);
    }
    put_key_str(&body, "name", name.data, name.len);
    buf_printf(&body, ",\"indicator_types\":[\"%s\"]",
               a->level >= 3 ? "malicious-activity" : "anomalous-activity");
    put_key_cstr(&body, "pattern", a->pattern);
    buf_puts(&body, ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\"");
    char vf[32];
    if (a->valid_from == TIME_NONE)
        memcpy(vf, x->created, sizeof(vf));
    else
        ts_format(a->valid_from, vf);
    put_key_cstr(&body, "valid_from", vf);
    if (a->phases.n) {
        sorted_items(&a->phases, items);
        buf_puts(&body, ",\"kill_chain_phases\":[");
        for (size_t i = 0; i < a->phases.n; i++)
            buf_printf(&body, "%s{\"kill_chain_name\":\"mitre-attack\",\"phase_name\":\"%s\"}",
                       i ? "," : "", items[i]);
        buf_putc(&body, ']');
    }
    if (a->labels.n) {
        sorted_items(&a->labels, items);
        buf_puts(&body, ",\"labels\":[");
        for (size_t i = 0; i < a->labels.n; i++) {
            if (i)
                buf_putc(&body, ',');
            json_put_string(&body, items[i], strlen(items[i]));
        }
        buf_putc(&body, ']');
    }
    put_markings(&body, x->tlp);
    char id[80];
    obj_make(x, "indicator", R_INDICATOR, x->tlp, &body, NULL, id, out);
    buf_free(&body);
    buf_free(&name);
}

static int cmp_obj(const void *pa, const void *pb)
{
    const struct xobj *a = *(const struct xobj *const *)pa, *b = *(const struct xobj *const *)pb;
    if (a->rank != b->rank)
        return a->rank - b->rank;
    int c = strcmp(a->id, b->id);
    if (c)
        return c;
    return b->tlp - a->tlp; /* markings: a level's two ids are distinct anyway */
}

static void marking_objects(unsigned used, struct xobj *out, size_t *n)
{
    for (int t = TLP_CLEAR; t <= TLP_RED; t++) {
        if (!(used & (1u << t)))
            continue;
        const struct stix_tlp_marking *mk = stix_tlp_marking((enum tlp)t);
        struct buf j;
        buf_init(&j);
        buf_printf(&j,
                   "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                   "\"created\":\"%s\",\"name\":\"%s\",\"extensions\":{\"%s\":{\"extension_type\":"
                   "\"property-extension\",\"tlp_2_0\":\"%s\"}}}",
                   mk->v2_id, STIX_TLP2_CREATED, mk->v2_name, STIX_TLP2_EXTENSION_ID, mk->v2_word);
        out[*n] = (struct xobj){xstrdup(mk->v2_id), R_MARKING, t, j.data, j.len};
        (*n)++;
        if (!mk->v1_id)
            continue;
        buf_init(&j);
        buf_printf(&j,
                   "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                   "\"created\":\"%s\",\"definition_type\":\"tlp\",\"name\":\"%s\","
                   "\"definition\":{\"tlp\":\"%s\"}}",
                   mk->v1_id, STIX_TLP1_CREATED, mk->v1_name, mk->v1_word);
        out[*n] = (struct xobj){xstrdup(mk->v1_id), R_MARKING, t, j.data, j.len};
        (*n)++;
    }
}

int stix_export_write(struct stix_export *x, struct buf *out)
{
    /* the objects of this write: the kept ones, indicators from alerts,
     * the marking definitions used */
    size_t extra = x->nai + 2 * 5;
    struct xobj *made = calloc(extra, sizeof(*made));
    const struct xobj **all = calloc(x->nobjs + extra, sizeof(*all));
    if (!made || !all)
        abort();
    size_t nmade = 0, nall = 0;
    for (size_t i = 0; i < x->nai; i++)
        alert_indicator(x, &x->ai[i], &made[nmade++]);
    unsigned used = 0;
    for (size_t i = 0; i < x->nobjs; i++)
        used |= 1u << x->objs[i].tlp;
    for (size_t i = 0; i < nmade; i++)
        used |= 1u << made[i].tlp;
    marking_objects(used, made, &nmade);
    for (size_t i = 0; i < x->nobjs; i++)
        all[nall++] = &x->objs[i];
    for (size_t i = 0; i < nmade; i++)
        all[nall++] = &made[i];
    qsort(all, nall, sizeof(*all), cmp_obj);

    /* the bundle's id: over the ids it holds */
    struct buf ids;
    buf_init(&ids);
    buf_puts(&ids, "bundle\n");
    for (size_t i = 0; i < nall; i++)
        if (!i || strcmp(all[i]->id, all[i - 1]->id))
            buf_printf(&ids, "%s\n", all[i]->id);
    uint8_t u[16];
    uuid_v5(x->ns_kenchi, ids.data, ids.len, u);
    char us[UUID_TEXT_LEN + 1];
    uuid_format(u, us);
    buf_free(&ids);

    buf_printf(out, "{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", us);
    bool first = true;
    size_t nobserved = 0;
    for (size_t i = 0; i < nall; i++) {
        if (i && !strcmp(all[i]->id, all[i - 1]->id))
            continue; /* the same observable (or observed-data) from two sightings */
        buf_puts(out, first ? "\n" : ",\n");
        buf_append(out, all[i]->json, all[i]->len);
        first = false;
        nobserved += all[i]->rank == R_OBSERVED;
    }
    x->st.observed = nobserved; /* as written: the same one from two sightings once */
    buf_puts(out, "\n]}\n");
    for (size_t i = 0; i < nmade; i++) {
        free(made[i].id);
        free(made[i].json);
    }
    free(made);
    free(all);
    return 0;
}
