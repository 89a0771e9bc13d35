/*
 * ioc.c - indicator types, TLP names, normalisation and the import batch.
 */
#include "intel/ioc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/timeconv.h"

static const char *const type_names[IOC__COUNT] = {
    [IOC_IP] = "ip",
    [IOC_DOMAIN] = "domain",
    [IOC_URL] = "url",
    [IOC_EMAIL] = "email",
    [IOC_MD5] = "md5",
    [IOC_SHA1] = "sha1",
    [IOC_SHA256] = "sha256",
    [IOC_FILENAME] = "filename",
    [IOC_USER_AGENT] = "user-agent",
    [IOC_PATTERN] = "stix-pattern",
};

const char *ioc_type_name(enum ioc_type t)
{
    if (t == IOC_ACCOUNT_KEY)
        return "account";
    return (unsigned)t < IOC__COUNT ? type_names[t] : "?";
}

static const struct {
    const char *name;
    enum ioc_type t;
} type_aliases[] = {
    {"ipv4", IOC_IP},
    {"ipv6", IOC_IP},
    {"ip-src", IOC_IP},
    {"ip-dst", IOC_IP},
    {"addr", IOC_IP},
    {"cidr", IOC_IP},
    {"ipv4-addr", IOC_IP},
    {"ipv6-addr", IOC_IP},
    {"hostname", IOC_DOMAIN},
    {"fqdn", IOC_DOMAIN},
    {"domain-name", IOC_DOMAIN},
    {"email-src", IOC_EMAIL},
    {"email-dst", IOC_EMAIL},
    {"email-addr", IOC_EMAIL},
    {"sha-1", IOC_SHA1},
    {"sha-256", IOC_SHA256},
    {"file", IOC_FILENAME},
    {"file-name", IOC_FILENAME},
    {"ua", IOC_USER_AGENT},
    {"useragent", IOC_USER_AGENT},
    {"pattern", IOC_PATTERN},
};

int ioc_type_by_name(const char *name)
{
    for (int i = 0; i < IOC__COUNT; i++)
        if (!strcasecmp(name, type_names[i]))
            return i;
    for (size_t i = 0; i < sizeof(type_aliases) / sizeof(type_aliases[0]); i++)
        if (!strcasecmp(name, type_aliases[i].name))
            return (int)type_aliases[i].t;
    return -1;
}

const char *tlp_name(enum tlp t)
{
    switch (t) {
    case TLP_CLEAR:
        return "TLP:CLEAR";
    case TLP_GREEN:
        return "TLP:GREEN";
    case TLP_AMBER:
        return "TLP:AMBER";
    case TLP_AMBER_STRICT:
        return "TLP:AMBER+STRICT";
    case TLP_RED:
        return "TLP:RED";
    default:
        return "";
    }
}

int tlp_by_name(const char *s)
{
    if (!strncasecmp(s, "tlp:", 4))
        s += 4;
    else if (!strncasecmp(s, "tlp-", 4))
        s += 4;
    if (!strcasecmp(s, "clear") || !strcasecmp(s, "white"))
        return TLP_CLEAR;
    if (!strcasecmp(s, "green"))
        return TLP_GREEN;
    if (!strcasecmp(s, "amber"))
        return TLP_AMBER;
    if (!strcasecmp(s, "amber+strict") || !strcasecmp(s, "amber-strict"))
        return TLP_AMBER_STRICT;
    if (!strcasecmp(s, "red"))
        return TLP_RED;
    return -1;
}

void ioc_meta_init(struct ioc_meta *m)
{
    memset(m, 0, sizeof(*m));
    m->confidence = -1;
    m->valid_from = TIME_NONE;
    m->valid_until = TIME_NONE;
}

/* ---- normalisation --------------------------------------------------- */

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Trim blanks (and a UTF-8 BOM) around in[0..n). */
static void trim(const char **in, size_t *n)
{
    const char *p = *in;
    size_t k = *n;
    for (;;) {
        if (k >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
            p += 3, k -= 3;
        else if (k && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++, k--;
        else
            break;
    }
    while (k && (p[k - 1] == ' ' || p[k - 1] == '\t' || p[k - 1] == '\r' || p[k - 1] == '\n'))
        k--;
    *in = p;
    *n = k;
}

static int norm_ip(const char *in, size_t n, char *out, const char **why)
{
    char tmp[64];
    const char *slash = memchr(in, '/', n);
    size_t alen = slash ? (size_t)(slash - in) : n;
    if (alen == 0 || alen >= sizeof(tmp)) {
        *why = "not an IPv4 or IPv6 address";
        return -EINVAL;
    }
    /* Zeek and some feeds write IPv6 in brackets. */
    if (alen > 2 && in[0] == '[' && in[alen - 1] == ']') {
        memcpy(tmp, in + 1, alen - 2);
        tmp[alen - 2] = '\0';
    } else {
        memcpy(tmp, in, alen);
        tmp[alen] = '\0';
    }
    unsigned char a[16];
    int v6 = 0;
    if (inet_pton(AF_INET, tmp, a) == 1) {
        v6 = 0;
    } else if (inet_pton(AF_INET6, tmp, a) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        v6 = 1;
        if (!memcmp(a, mapped, 12)) {
            memmove(a, a + 12, 4);
            v6 = 0;
            if (slash) {
                /* ::ffff:0:0/104 and the like: the prefix counts the
                 * mapped part; fold it. */
                long pl = strtol(slash + 1, NULL, 10);
                if (pl < 96) {
                    *why = "an IPv4-mapped network shorter than /96";
                    return -EINVAL;
                }
            }
        }
    } else {
        *why = "not an IPv4 or IPv6 address";
        return -EINVAL;
    }
    int maxlen = v6 ? 128 : 32;
    int plen = maxlen;
    if (slash) {
        const char *p = slash + 1;
        size_t k = n - alen - 1;
        if (k == 0 || k > 3) {
            *why = "not a prefix length after '/'";
            return -EINVAL;
        }
        int v = 0;
        for (size_t i = 0; i < k; i++) {
            if (p[i] < '0' || p[i] > '9') {
                *why = "not a prefix length after '/'";
                return -EINVAL;
            }
            v = v * 10 + (p[i] - '0');
        }
        /* an IPv4-mapped prefix counts from the IPv6 side */
        if (!v6 && inet_pton(AF_INET, tmp, (unsigned char[4]){0}) != 1)
            v -= 96;
        if (v > maxlen || v < 0) {
            *why = v6 ? "prefix length is more than 128" : "prefix length is more than 32";
            return -EINVAL;
        }
        plen = v;
        int bytes = v6 ? 16 : 4;
        for (int i = 0; i < bytes; i++) {
            int bits = plen - i * 8;
            unsigned char mask = bits >= 8   ? 0xff
                                 : bits <= 0 ? 0
                                             : (unsigned char)(0xff << (8 - bits));
            if (a[i] & ~mask) {
                *why = "host bits set after the prefix (not a network address)";
                return -EINVAL;
            }
        }
    }
    if (!inet_ntop(v6 ? AF_INET6 : AF_INET, a, out, 64)) {
        *why = "not an IPv4 or IPv6 address";
        return -EINVAL;
    }
    size_t len = strlen(out);
    if (plen != maxlen)
        len += (size_t)snprintf(out + len, 8, "/%d", plen);
    return (int)len;
}

/* A host name: labels of letters, digits, '-' and '_' (and UTF-8 bytes,
 * kept as written), 1..63 bytes each, 253 in all. */
static int norm_domain(const char *in, size_t n, char *out, const char **why)
{
    if (n >= 2 && in[0] == '*' && in[1] == '.')
        in += 2, n -= 2;
    else if (n >= 1 && in[0] == '.')
        in += 1, n -= 1;
    trim(&in, &n); /* what followed the dot; keeps normalising idempotent */
    while (n && in[n - 1] == '.')
        n--;
    if (n == 0 || n > 253) {
        *why = n ? "a domain name longer than 253 bytes" : "an empty domain name";
        return -EINVAL;
    }
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '.') {
            if (label == 0) {
                *why = "an empty label in a domain name";
                return -EINVAL;
            }
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c >= 0x80) {
            if (++label > 63) {
                *why = "a domain label longer than 63 bytes";
                return -EINVAL;
            }
        } else {
            *why = "a character that no domain name holds";
            return -EINVAL;
        }
        out[i] = lower((char)c);
    }
    out[n] = '\0';
    return (int)n;
}

static int norm_url(const char *in, size_t n, char *out, const char **why)
{
    const char *p = in;
    size_t k = n;
    /* drop the scheme */
    for (size_t i = 0; i < k && i < 16; i++) {
        if (p[i] == ':' && i + 2 < k && p[i + 1] == '/' && p[i + 2] == '/') {
            p += i + 3;
            k -= i + 3;
            break;
        }
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || p[i] == '+' || p[i] == '-' || p[i] == '.'))
            break;
    }
    /* drop user info */
    size_t hend = 0;
    while (hend < k && p[hend] != '/' && p[hend] != '?' && p[hend] != '#')
        hend++;
    const char *at = memchr(p, '@', hend);
    if (at) {
        size_t skip = (size_t)(at - p) + 1;
        p += skip, k -= skip, hend -= skip;
    }
    if (hend == 0) {
        *why = "a URL without a host";
        return -EINVAL;
    }
    for (size_t i = 0; i < k; i++)
        if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f) {
            *why = "a blank or control character in a URL";
            return -EINVAL;
        }
    size_t o = 0;
    size_t hostlen = hend;
    /* drop a default port */
    if (hostlen > 3 && !memcmp(p + hostlen - 3, ":80", 3) && p[hostlen - 4] != ':')
        hostlen -= 3;
    else if (hostlen > 4 && !memcmp(p + hostlen - 4, ":443", 4))
        hostlen -= 4;
    for (size_t i = 0; i < hostlen; i++)
        out[o++] = lower(p[i]);
    while (hostlen && out[o - 1] == '.' && o > 1)
        o--, hostlen--;
    size_t rest = k - hend;
    /* "host/" and "host" are the same resource */
    if (rest == 1 && p[hend] == '/')
        rest = 0;
    /* a fragment never reaches the server */
    const char *frag = memchr(p + hend, '#', rest);
    if (frag)
        rest = (size_t)(frag - (p + hend));
    memcpy(out + o, p + hend, rest);
    o += rest;
    out[o] = '\0';
    return (int)o;
}

static int norm_email(const char *in, size_t n, char *out, const char **why)
{
    /* "Name <a@b>" */
    const char *lt = memchr(in, '<', n);
    if (lt && in[n - 1] == '>') {
        n -= (size_t)(lt - in) + 2;
        in = lt + 1;
    }
    const char *at = memchr(in, '@', n);
    if (!at || at == in || at == in + n - 1 || memchr(at + 1, '@', n - (size_t)(at - in) - 1)) {
        *why = "not an e-mail address (local@domain)";
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';') {
            *why = "a character that no e-mail address holds";
            return -EINVAL;
        }
        out[i] = lower((char)c);
    }
    out[n] = '\0';
    return (int)n;
}

static int norm_hash(const char *in, size_t n, size_t want, char *out, const char **why)
{
    if (n != want) {
        *why = want == 32   ? "an MD5 hash is 32 hexadecimal digits"
               : want == 40 ? "a SHA-1 hash is 40 hexadecimal digits"
                            : "a SHA-256 hash is 64 hexadecimal digits";
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = lower(in[i]);
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            *why = "a hash holds hexadecimal digits only";
            return -EINVAL;
        }
        out[i] = c;
    }
    out[n] = '\0';
    return (int)n;
}

int ioc_normalise(enum ioc_type t, const char *in, size_t n, char *out, const char **why)
{
    *why = NULL;
    if (t == IOC_ACCOUNT_KEY) { /* as the store keys user.name: not trimmed */
        if (n == 0 || memchr(in, '\0', n)) {
            *why = n ? "a NUL byte in the value" : "an empty value";
            return -EINVAL;
        }
        for (size_t i = 0; i < n; i++)
            out[i] = in[i] >= 'A' && in[i] <= 'Z' ? (char)(in[i] + 'a' - 'A') : in[i];
        out[n] = '\0';
        return (int)n;
    }
    trim(&in, &n);
    if (n == 0) {
        *why = "an empty value";
        return -EINVAL;
    }
    if (memchr(in, '\0', n)) {
        *why = "a NUL byte in the value";
        return -EINVAL;
    }
    switch (t) {
    case IOC_IP:
        return norm_ip(in, n, out, why);
    case IOC_DOMAIN:
        return norm_domain(in, n, out, why);
    case IOC_URL:
        return norm_url(in, n, out, why);
    case IOC_EMAIL:
        return norm_email(in, n, out, why);
    case IOC_MD5:
        return norm_hash(in, n, 32, out, why);
    case IOC_SHA1:
        return norm_hash(in, n, 40, out, why);
    case IOC_SHA256:
        return norm_hash(in, n, 64, out, why);
    case IOC_FILENAME: {
        /* keep the last path component */
        size_t s = n;
        while (s && in[s - 1] != '/' && in[s - 1] != '\\')
            s--;
        const char *base = in + s;
        size_t bn = n - s;
        trim(&base, &bn); /* "dir/ x.exe": the blank belongs to no name */
        if (bn == 0) {
            *why = "an empty file name";
            return -EINVAL;
        }
        for (size_t i = 0; i < bn; i++)
            out[i] = lower(base[i]);
        out[bn] = '\0';
        return (int)bn;
    }
    case IOC_USER_AGENT:
    case IOC_PATTERN:
        memcpy(out, in, n);
        out[n] = '\0';
        return (int)n;
    default:
        *why = "an unknown indicator type";
        return -EINVAL;
    }
}

/* ---- the batch ------------------------------------------------------- */

void ioc_batch_init(struct ioc_batch *b, const char *source, const char *format)
{
    memset(b, 0, sizeof(*b));
    arena_init(&b->arena, 256 * 1024);
    b->source = ioc_batch_strdup(b, source);
    b->format = ioc_batch_strdup(b, format);
}

void ioc_batch_free(struct ioc_batch *b)
{
    free(b->metas);
    free(b->iocs);
    free(b->problems);
    arena_free(&b->arena);
    memset(b, 0, sizeof(*b));
}

const char *ioc_batch_strdup(struct ioc_batch *b, const char *s)
{
    return s ? arena_strndup(&b->arena, s, strlen(s)) : NULL;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, nc * elem);
    if (!q)
        abort();
    *cap = nc;
    return q;
}

uint32_t ioc_batch_add_meta(struct ioc_batch *b, const struct ioc_meta *m)
{
    size_t cap = b->capmetas;
    b->metas = grow(b->metas, &cap, (size_t)b->nmetas + 1, sizeof(*b->metas));
    b->capmetas = (uint32_t)cap;
    struct ioc_meta *d = &b->metas[b->nmetas];
    *d = *m;
    d->feed = ioc_batch_strdup(b, m->feed);
    d->ref = ioc_batch_strdup(b, m->ref);
    d->name = ioc_batch_strdup(b, m->name);
    d->labels_json = ioc_batch_strdup(b, m->labels_json);
    d->kill_chain_json = ioc_batch_strdup(b, m->kill_chain_json);
    d->related_json = ioc_batch_strdup(b, m->related_json);
    return b->nmetas++;
}

void ioc_batch_problem(struct ioc_batch *b, const char *where, const char *fmt, ...)
{
    if (b->nproblems >= 1000) {
        b->nproblems_dropped++;
        return;
    }
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    b->problems = grow(b->problems, &b->capproblems, b->nproblems + 1, sizeof(*b->problems));
    b->problems[b->nproblems].where = ioc_batch_strdup(b, where ? where : b->source);
    b->problems[b->nproblems].why = ioc_batch_strdup(b, why);
    b->nproblems++;
}

int ioc_batch_add(struct ioc_batch *b, enum ioc_type t, const char *value, size_t n, uint32_t meta,
                  bool detect, const char *where)
{
    char stackbuf[512];
    char *out = n + 64 <= sizeof(stackbuf) ? stackbuf : malloc(n + 64);
    if (!out)
        abort();
    const char *why;
    int len = ioc_normalise(t, value, n, out, &why);
    if (len < 0) {
        int shown = n > 80 ? 80 : (int)n;
        ioc_batch_problem(b, where, "%s '%.*s%s' refused: %s", ioc_type_name(t), shown, value,
                          n > 80 ? "..." : "", why);
        if (out != stackbuf)
            free(out);
        return -EINVAL;
    }
    b->iocs = grow(b->iocs, &b->capiocs, b->niocs + 1, sizeof(*b->iocs));
    struct ioc *d = &b->iocs[b->niocs++];
    d->type = t;
    d->detect = detect;
    d->meta = meta;
    d->value = arena_strndup(&b->arena, out, (size_t)len);
    d->warning = NULL;
    if (out != stackbuf)
        free(out);
    return 0;
}

void ioc_batch_append(struct ioc_batch *dst, const struct ioc_batch *src)
{
    uint32_t base = dst->nmetas;
    for (uint32_t i = 0; i < src->nmetas; i++)
        ioc_batch_add_meta(dst, &src->metas[i]);
    dst->iocs = grow(dst->iocs, &dst->capiocs, dst->niocs + src->niocs, sizeof(*dst->iocs));
    for (size_t i = 0; i < src->niocs; i++) {
        struct ioc c = src->iocs[i];
        c.meta += base;
        c.value = ioc_batch_strdup(dst, c.value);
        c.warning = ioc_batch_strdup(dst, c.warning);
        dst->iocs[dst->niocs++] = c;
    }
    for (size_t i = 0; i < src->nproblems; i++)
        ioc_batch_problem(dst, src->problems[i].where, "%s", src->problems[i].why);
    dst->nproblems_dropped += src->nproblems_dropped;
}
