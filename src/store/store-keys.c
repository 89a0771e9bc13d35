/*
 * store-keys.c - the hunting keys of an event, and the index reads of an
 * indicator.
 *
 * Every entity an analyst or an indicator may ask about becomes one key in
 * the hunt table: a kind byte, then the value normalised the way
 * ioc_normalise() normalises indicator values, so that an indicator's
 * normalised value is the key (see store-private.h for the kinds). The
 * producer thread computes them (it holds the event; the writer thread,
 * the store's bottleneck, only copies them).
 *
 * Domain names are stored with their labels reversed ("com.example.mail"),
 * so that a parent domain's indicator finds every subdomain with one key
 * range ("com.example" .. "com.example/"): '.' sorts just before '/'.
 * A domain key comes from dns.question.name, the host of url.full, and
 * Zeek's ssl server_name and http host; an event names each distinct
 * domain once. Mail addresses are keyed domain first the same way
 * ("org.example.mail@alice", mail_key()), so the sender and recipient keys
 * double as domain keys: a domain's indicator reads one more range per
 * kind, and the store writes no extra entry for the domains of the
 * addresses it indexes anyway (an entry costs the writer about 1 us).
 *
 * A Postfix delivery's orig_to (the address before alias or virtual
 * rewriting) is keyed as a recipient too: mail an alias forwards out names
 * the mailbox only there.
 *
 * Postfix queue ids ('q') join the events of one message. They are keyed
 * only on events that also name an account, address or mailbox: a
 * message's other events (cleanup's message-id, "removed") add nothing to
 * a hunt's answer, and skipping them saves the writer their entries.
 *
 * Each key also carries the fingerprints that the day summary keeps for it
 * (store-summary.c): 32 bits of XXH3 of the value, seeded with the summary
 * class and, for prefixes, the prefix length and address family. An
 * address gives its own and its prefixes' fingerprints (IPv4 /16, /24;
 * IPv6 /32, /48, /64), a domain (and a mail address's domain)
 * every parent's, so that a CIDR block or a parent domain finds its hours
 * without knowing the values.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xxhash.h>

#include "intel/ioc.h"
#include "store/store-private.h"

size_t ip_encode(const char *s, size_t n, uint8_t out[16])
{
    char tmp[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof(tmp))
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, tmp, out) != 1)
        return 0;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(out, mapped, 12)) {
        memmove(out, out + 12, 4);
        return 4;
    }
    return 16;
}

/* ---- fingerprints ------------------------------------------------------- */

static uint32_t fp_seeded(const void *p, size_t n, uint64_t seed)
{
    return (uint32_t)(XXH3_64bits_withSeed(p, n, seed) >> 32);
}

/* Seed of a prefix of `bits` bits of an address of family v6 (or of the
 * whole value when bits is 0). */
static uint64_t fp_seed(char cls, unsigned bits, bool v6)
{
    return (uint64_t)(unsigned char)cls | (uint64_t)bits << 8 | (uint64_t)v6 << 16;
}

/* The prefix lengths an address is summarised at (the last: the whole).
 * A CIDR block is found through at most 2^8 blocks of the next length;
 * one shorter than /8 (IPv4) or /24 (IPv6) reads every hour. */
static const unsigned v4_levels[] = {16, 24, 32};
static const unsigned v6_levels[] = {32, 48, 64, 128};

size_t mail_key(const char *a, size_t n, char *out)
{
    size_t at = n;
    for (size_t i = n; i > 0; i--)
        if (a[i - 1] == '@') {
            at = i - 1;
            break;
        }
    size_t o = 0;
    if (at < n) {
        /* the domain's labels, last first */
        size_t end = n;
        while (end > at + 1) {
            size_t start = end;
            while (start > at + 1 && a[start - 1] != '.')
                start--;
            for (size_t i = start; i < end; i++)
                out[o++] = a[i];
            if (start > at + 1)
                out[o++] = '.';
            end = start > at + 1 ? start - 1 : at + 1;
        }
        out[o++] = '@';
    }
    for (size_t i = 0; i < at; i++)
        out[o++] = a[i];
    for (size_t i = 0; i < o; i++)
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] += 'a' - 'A';
    return o;
}

/* Does d[0..n) look like a host name (letters, digits, '-', '_', dots,
 * UTF-8)? Only such domains are summarised as parents. */
static bool hostname_like(const char *d, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c >= 0x80))
            return false;
    }
    return true;
}

/* The fingerprints of the reversed domain r[0..n) and of its parents. */
static unsigned domain_fps(const char *r, size_t n, uint32_t *fps, char *cls, unsigned k)
{
    for (size_t i = 0; i < n && k < KEY_FPS_MAX - 1; i++)
        if (r[i] == '.') {
            cls[k] = KEY_DOMAIN;
            fps[k++] = fp_seeded(r, i, fp_seed(KEY_DOMAIN, 0, false));
        }
    cls[k] = KEY_DOMAIN;
    fps[k++] = fp_seeded(r, n, fp_seed(KEY_DOMAIN, 0, false));
    return k;
}

unsigned key_fps(char kind, const char *val, size_t len, uint32_t *fps, char *cls)
{
    unsigned n = 0;
    switch (kind) {
    case KEY_QUEUE_ID:
        return 0; /* read next to an event already found, never over all days */
    case KEY_SRC_IP:
    case KEY_DST_IP:
        if (len == 4 || len == 16) {
            bool v6 = len == 16;
            const unsigned *lv = v6 ? v6_levels : v4_levels;
            size_t nl = v6 ? sizeof(v6_levels) / sizeof(v6_levels[0])
                           : sizeof(v4_levels) / sizeof(v4_levels[0]);
            for (size_t i = 0; i < nl; i++) {
                cls[n] = kind;
                fps[n++] = fp_seeded(val, lv[i] / 8, fp_seed(kind, lv[i], v6));
            }
            return n;
        }
        cls[0] = kind;
        fps[0] = fp_seeded(val, len, fp_seed(kind, 0, false));
        return 1;
    case KEY_FROM:
    case KEY_TO: {
        cls[0] = kind;
        fps[0] = fp_seeded(val, len, fp_seed(kind, 0, false));
        const char *at = memchr(val, '@', len);
        if (at && hostname_like(val, (size_t)(at - val)))
            return domain_fps(val, (size_t)(at - val), fps, cls, 1);
        return 1;
    }
    case KEY_DOMAIN:
        return domain_fps(val, len, fps, cls, 0);
    default:
        cls[0] = kind;
        fps[0] = fp_seeded(val, len, fp_seed(kind, 0, false));
        return 1;
    }
}

/* ---- the keys of an event ------------------------------------------------- */

static void put_key(struct buf *out, char kind, const void *v, size_t n)
{
    if (n == 0 || n > KEY_VALUE_MAX)
        return;
    uint32_t fps[KEY_FPS_MAX];
    char cls[KEY_FPS_MAX];
    unsigned nfps = key_fps(kind, v, n, fps, cls);
    size_t need = 4 + n + 5 * (size_t)nfps;
    buf_reserve(out, need);
    uint8_t *p = (uint8_t *)out->data + out->len;
    p[0] = (uint8_t)kind;
    p[1] = (uint8_t)(n & 0xff);
    p[2] = (uint8_t)(n >> 8);
    memcpy(p + 3, v, n);
    p += 3 + n;
    *p++ = (uint8_t)nfps;
    for (unsigned i = 0; i < nfps; i++, p += 5) {
        p[0] = (uint8_t)cls[i];
        p[1] = (uint8_t)fps[i];
        p[2] = (uint8_t)(fps[i] >> 8);
        p[3] = (uint8_t)(fps[i] >> 16);
        p[4] = (uint8_t)(fps[i] >> 24);
    }
    out->len += need;
    out->data[out->len] = '\0';
}

void key_read(const uint8_t **pp, struct key_rec *k)
{
    const uint8_t *p = *pp;
    k->kind = (char)p[0];
    k->len = (size_t)p[1] | (size_t)p[2] << 8;
    k->val = (const char *)p + 3;
    k->nfps = p[3 + k->len];
    k->fps = p + 4 + k->len;
    *pp = k->fps + 5 * (size_t)k->nfps;
}

static void put_folded(struct buf *out, char kind, struct str v)
{
    char tmp[KEY_VALUE_MAX];
    if (v.n == 0 || v.n > KEY_VALUE_MAX)
        return;
    for (size_t i = 0; i < v.n; i++)
        tmp[i] = (v.p[i] >= 'A' && v.p[i] <= 'Z') ? (char)(v.p[i] + 'a' - 'A') : v.p[i];
    put_key(out, kind, tmp, v.n);
}

static void put_mail(struct buf *out, char kind, struct str v)
{
    char tmp[KEY_VALUE_MAX];
    if (v.n == 0 || v.n > KEY_VALUE_MAX)
        return;
    put_key(out, kind, tmp, mail_key(v.p, v.n, tmp));
}

static void put_ip(struct buf *out, char kind, struct str v)
{
    uint8_t a[16];
    size_t n = ip_encode(v.p, v.n, a);
    if (n)
        put_key(out, kind, a, n);
    else
        put_key(out, kind, v.p, v.n);
}

/* Put value v[0..n) normalised as type t (ioc_normalise) under kind. */
static void put_normalised(struct buf *out, char kind, int t, const char *v, size_t n)
{
    char tmp[KEY_VALUE_MAX + 64];
    const char *why;
    if (n == 0 || n > KEY_VALUE_MAX)
        return;
    int len = ioc_normalise((enum ioc_type)t, v, n, tmp, &why);
    if (len > 0)
        put_key(out, kind, tmp, (size_t)len);
}

/* Reverse the labels of the normalised domain d[0..n) into out. */
static void domain_reverse(const char *d, size_t n, char *out)
{
    size_t o = 0, end = n;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && d[start - 1] != '.')
            start--;
        memcpy(out + o, d + start, end - start);
        o += end - start;
        if (start > 0)
            out[o++] = '.';
        end = start ? start - 1 : 0;
    }
}

/* The distinct domain keys of one event. */
struct domains {
    char names[8][256];
    size_t lens[8];
    int n;
};

/* Add the domain v[0..n) (any case, maybe with a trailing dot) as a key,
 * unless it is not a host name, an address, or already added. */
static void add_domain(struct buf *out, struct domains *ds, const char *v, size_t n)
{
    char norm[256 + 64];
    const char *why;
    if (n == 0 || n > 253 + 2)
        return;
    uint8_t a[16];
    if (ip_encode(v, n, a))
        return; /* an address literal is no domain */
    int len = ioc_normalise(IOC_DOMAIN, v, n, norm, &why);
    if (len <= 0)
        return;
    char rev[256];
    domain_reverse(norm, (size_t)len, rev);
    for (int i = 0; i < ds->n; i++)
        if (ds->lens[i] == (size_t)len && !memcmp(ds->names[i], rev, (size_t)len))
            return;
    if (ds->n < 8) {
        memcpy(ds->names[ds->n], rev, (size_t)len);
        ds->lens[ds->n++] = (size_t)len;
    }
    put_key(out, KEY_DOMAIN, rev, (size_t)len);
}

/* The host of a normalised URL ("host[:port]/path"), as a length. */
static size_t url_host_len(const char *u, size_t n)
{
    if (n && u[0] == '[')
        return 0; /* an IPv6 literal */
    size_t i = 0;
    while (i < n && u[i] != ':' && u[i] != '/' && u[i] != '?')
        i++;
    return i;
}

static bool key_is(const struct field *f, const char *name, size_t n)
{
    return f->key.n == n && !memcmp(f->key.p, name, n);
}

void keys_of_event(const struct event *ev, struct buf *out)
{
    size_t start = out->len;
    put_folded(out, KEY_USER, ev->core[CORE_USER_NAME]);
    put_ip(out, KEY_SRC_IP, ev->core[CORE_SOURCE_IP]);
    put_ip(out, KEY_DST_IP, ev->core[CORE_DESTINATION_IP]);
    put_mail(out, KEY_FROM, ev->core[CORE_EMAIL_FROM_ADDRESS]);
    put_mail(out, KEY_TO, ev->core[CORE_EMAIL_TO_ADDRESS]);
    bool entity = out->len != start; /* an account, address or mailbox */

    struct domains ds;
    ds.n = 0;
    struct str v = ev->core[CORE_DNS_QUESTION_NAME];
    add_domain(out, &ds, v.p, v.n);
    v = ev->core[CORE_URL_FULL];
    if (v.n && v.n <= KEY_VALUE_MAX) {
        char u[KEY_VALUE_MAX + 64];
        const char *why;
        int len = ioc_normalise(IOC_URL, v.p, v.n, u, &why);
        if (len > 0) {
            put_key(out, KEY_URL, u, (size_t)len);
            add_domain(out, &ds, u, url_host_len(u, (size_t)len));
        }
    }

    static const struct {
        enum core_field f;
        enum ioc_type t;
    } hashes[] = {
        {CORE_FILE_HASH_MD5, IOC_MD5},
        {CORE_FILE_HASH_SHA1, IOC_SHA1},
        {CORE_FILE_HASH_SHA256, IOC_SHA256},
    };
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
        put_normalised(out, KEY_HASH, hashes[i].t, ev->core[hashes[i].f].p,
                       ev->core[hashes[i].f].n);
    put_normalised(out, KEY_FILENAME, IOC_FILENAME, ev->core[CORE_FILE_NAME].p,
                   ev->core[CORE_FILE_NAME].n);

    /* native fields: one pass, whatever the decoder */
    bool zeek = ev->format && !strcmp(ev->format, "zeek");
    bool postfix = entity && ev->format && !strcmp(ev->format, "postfix");
    bool have_ua = false;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct field *f = &ev->fields[i];
        if (f->type != VT_STRING)
            continue;
        if (zeek && (key_is(f, "server_name", 11) || key_is(f, "host", 4))) {
            add_domain(out, &ds, f->val.p, f->val.n);
        } else if (postfix && key_is(f, "orig_to", 7)) {
            /* an alias or virtual map's address: the mailbox whose mail a
             * delivery to `to` carries (scope's forwarding, a hunt for the
             * address); once when it is `to` itself */
            struct str to = ev->core[CORE_EMAIL_TO_ADDRESS];
            if (!(to.n == f->val.n && !strncasecmp(to.p, f->val.p, to.n)))
                put_mail(out, KEY_TO, f->val);
        } else if (postfix && key_is(f, "queue_id", 8)) {
            if (!(f->val.n == 7 && !memcmp(f->val.p, "NOQUEUE", 7)))
                put_key(out, KEY_QUEUE_ID, f->val.p, f->val.n);
        } else if (!have_ua && (key_is(f, "user_agent", 10) || key_is(f, "UserAgent", 9) ||
                                key_is(f, "user_agent.original", 19))) {
            size_t before = out->len;
            put_normalised(out, KEY_USER_AGENT, IOC_USER_AGENT, f->val.p, f->val.n);
            have_ua = out->len != before;
        }
    }
}

/* ---- the index reads of an indicator ---------------------------------------- */

static void add_fp(struct key_probe *p, char cls, uint8_t ranges, uint32_t fp)
{
    if (p->nfps < sizeof(p->fps) / sizeof(p->fps[0]))
        p->fps[p->nfps++] = (struct probe_fp){cls, ranges, fp};
}

/* The fingerprints of the CIDR block lo/prefix of an address of alen
 * bytes, as source (range 0) and destination (range 1): the blocks of the
 * next summarised length at or below it when there are at most 256, else
 * the one block of the summarised length above it. Sets all_hours when
 * neither works. */
static void cidr_fps(struct key_probe *p, const uint8_t *lo, size_t alen, unsigned prefix)
{
    bool v6 = alen == 16;
    const unsigned *lv = v6 ? v6_levels : v4_levels;
    size_t nl =
        v6 ? sizeof(v6_levels) / sizeof(v6_levels[0]) : sizeof(v4_levels) / sizeof(v4_levels[0]);
    for (size_t i = 0; i < nl; i++) {
        if (lv[i] < prefix)
            continue;
        if (lv[i] - prefix <= 8) {
            /* 2^(level - prefix) blocks; the varying bits are in the
             * level's last byte */
            uint8_t b[16];
            size_t bytes = lv[i] / 8;
            memcpy(b, lo, bytes);
            unsigned count = 1u << (lv[i] - prefix);
            for (unsigned k = 0; k < count; k++) {
                add_fp(p, KEY_SRC_IP, 1, fp_seeded(b, bytes, fp_seed(KEY_SRC_IP, lv[i], v6)));
                add_fp(p, KEY_DST_IP, 2, fp_seeded(b, bytes, fp_seed(KEY_DST_IP, lv[i], v6)));
                b[bytes - 1]++;
            }
            return;
        }
        break;
    }
    for (size_t i = nl; i > 0; i--)
        if (lv[i - 1] <= prefix) {
            size_t bytes = lv[i - 1] / 8;
            add_fp(p, KEY_SRC_IP, 1, fp_seeded(lo, bytes, fp_seed(KEY_SRC_IP, lv[i - 1], v6)));
            add_fp(p, KEY_DST_IP, 2, fp_seeded(lo, bytes, fp_seed(KEY_DST_IP, lv[i - 1], v6)));
            return;
        }
    p->all_hours = true;
}

static void add_range(struct key_probe *p, char kind, enum probe_match m, const uint8_t *lo,
                      size_t lolen, const uint8_t *hi, size_t hilen)
{
    p->r[p->nr++] = (struct key_range){kind, m, lo, hi, lolen, hilen};
}

static int probe_ip(const char *v, struct key_probe *p)
{
    const char *slash = strchr(v, '/');
    size_t alen = ip_encode(v, slash ? (size_t)(slash - v) : strlen(v), p->a);
    if (!alen)
        return -EINVAL;
    long prefix = (long)alen * 8;
    if (slash) {
        char *end;
        prefix = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || prefix < 0 || prefix > (long)alen * 8)
            return -EINVAL;
    }
    memcpy(p->b, p->a, alen);
    for (size_t bit = (size_t)prefix; bit < alen * 8; bit++) {
        p->a[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
        p->b[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
    }
    enum probe_match m = (size_t)prefix == alen * 8 ? PM_EXACT : PM_CIDR;
    add_range(p, KEY_SRC_IP, m, p->a, alen, p->b, alen);
    add_range(p, KEY_DST_IP, m, p->a, alen, p->b, alen);
    if (m == PM_EXACT) {
        char cls[KEY_FPS_MAX];
        uint32_t fps[KEY_FPS_MAX];
        /* the whole address: the last of each kind's fingerprints */
        unsigned n = key_fps(KEY_SRC_IP, (const char *)p->a, alen, fps, cls);
        add_fp(p, KEY_SRC_IP, 1, fps[n - 1]);
        n = key_fps(KEY_DST_IP, (const char *)p->a, alen, fps, cls);
        add_fp(p, KEY_DST_IP, 2, fps[n - 1]);
    } else {
        cidr_fps(p, p->a, alen, (unsigned)prefix);
    }
    return 0;
}

int key_probe_of(int t, const char *v, struct key_probe *p)
{
    p->nr = 0;
    p->nfps = 0;
    p->all_hours = false;
    size_t n = strlen(v);
    if (n == 0 || n > KEY_VALUE_MAX)
        return -EINVAL;
    char cls[KEY_FPS_MAX];
    uint32_t fps[KEY_FPS_MAX];
    char kind = 0;
    switch ((enum ioc_type)t) {
    case IOC_IP:
        return probe_ip(v, p);
    case IOC_DOMAIN:
        if (n > 253)
            return -EINVAL;
        /* a: the name reversed; b: a + "/" (after '.': every subdomain
         * sorts in between); c: a + "." and d: a + "A" (after '@'), the
         * range of its mail addresses */
        domain_reverse(v, n, (char *)p->a);
        for (size_t i = 0; i < n; i++)
            if (p->a[i] >= 'A' && p->a[i] <= 'Z')
                p->a[i] += 'a' - 'A';
        memcpy(p->b, p->a, n);
        p->b[n] = '/';
        memcpy(p->c, p->a, n);
        p->c[n] = '.';
        memcpy(p->d, p->a, n);
        p->d[n] = 'A';
        add_range(p, KEY_DOMAIN, PM_DOMAIN, p->a, n, p->b, n + 1);
        add_range(p, KEY_FROM, PM_MAILDOMAIN, p->c, n + 1, p->d, n + 1);
        add_range(p, KEY_TO, PM_MAILDOMAIN, p->c, n + 1, p->d, n + 1);
        add_fp(p, KEY_DOMAIN, 7, fp_seeded(p->a, n, fp_seed(KEY_DOMAIN, 0, false)));
        return 0;
    case IOC_EMAIL: {
        size_t k = mail_key(v, n, (char *)p->a);
        add_range(p, KEY_FROM, PM_EXACT, p->a, k, p->a, k);
        add_range(p, KEY_TO, PM_EXACT, p->a, k, p->a, k);
        key_fps(KEY_FROM, (const char *)p->a, k, fps, cls);
        add_fp(p, KEY_FROM, 1, fps[0]);
        key_fps(KEY_TO, (const char *)p->a, k, fps, cls);
        add_fp(p, KEY_TO, 2, fps[0]);
        return 0;
    }
    case IOC_URL:
        kind = KEY_URL;
        break;
    case IOC_MD5:
    case IOC_SHA1:
    case IOC_SHA256:
        kind = KEY_HASH;
        break;
    case IOC_FILENAME:
        kind = KEY_FILENAME;
        break;
    case IOC_USER_AGENT:
        kind = KEY_USER_AGENT;
        break;
    case IOC_ACCOUNT_KEY: /* user.name, folded as put_folded() keys it */
        for (size_t i = 0; i < n; i++)
            p->a[i] = v[i] >= 'A' && v[i] <= 'Z' ? (uint8_t)(v[i] + 'a' - 'A') : (uint8_t)v[i];
        add_range(p, KEY_USER, PM_EXACT, p->a, n, p->a, n);
        key_fps(KEY_USER, (const char *)p->a, n, fps, cls);
        add_fp(p, KEY_USER, 1, fps[0]);
        return 0;
    default:
        return -EINVAL; /* STIX patterns are not one value */
    }
    memcpy(p->a, v, n);
    add_range(p, kind, PM_EXACT, p->a, n, p->a, n);
    key_fps(kind, v, n, fps, cls);
    add_fp(p, kind, 1, fps[0]);
    return 0;
}

bool key_range_matches(const struct key_range *r, const uint8_t *k, size_t n)
{
    switch (r->match) {
    case PM_EXACT:
    case PM_CIDR:
        return n == r->lolen + 1;
    case PM_DOMAIN:
        return n == r->lolen + 1 || (n > r->lolen + 1 && k[1 + r->lolen] == '.');
    case PM_MAILDOMAIN:
        /* lo is the domain and '.'; the byte after the domain is the
         * separator */
        return n > r->lolen && (k[r->lolen] == '.' || k[r->lolen] == '@');
    }
    return false;
}
