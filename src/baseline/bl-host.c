/*
 * bl-host.c - the host profile module: what every internal host, server
 * and gateway talks to on the Internet (docs/baselines-hosts.md).
 *
 * Input: Zeek conn records (id.orig_h -> id.resp_h:id.resp_p, proto,
 * service, orig_bytes) and dns records (id.orig_h asked, `answers` gave
 * addresses). A host is internal when its address is private, inside
 * `internal_networks` or `servers`, or Zeek marks it local (local_orig); a
 * destination is public when none of that holds for it (local_resp).
 *
 * Per host the profile keeps
 *   - its public destinations (address:port) with first/last time, count,
 *     bytes out and whether a DNS answer covered the first connection, at
 *     most max_destinations (the least recently seen go first, a sixteenth
 *     at a time);
 *   - the addresses DNS answered it (first and last answer time), bounded
 *     the same way; a resolver's answers (a host other internal hosts ask,
 *     or that asks without recursion) cover every host;
 *   - bytes out per hour (a 28-day series) and its protocols/services.
 * Beacon candidates live in one table for all hosts, keyed by (host,
 * address, port), at most max_pairs (least recently seen go first), each
 * with the start times and sizes of its last 32 connections.
 *
 * Detectors: first-seen destination (0.4), egress without resolution (0.8
 * for servers, 0.4 for other hosts), bytes-out volume (0.8, 0.9 at 30x),
 * beaconing (RITA-like score; 1.5 to a new destination, 1.0 while the
 * host is learning, 0.5 to a long-known one).
 *
 * Event order. `scan` reads one file after the other: a Zeek directory's
 * conn.log comes before its dns.log, so the answer that preceded a
 * connection may be read after it. A new destination with no answer yet
 * is therefore kept pending (bounded) until the DNS records read reach
 * its time plus a grace: resolved by then, nothing is said; else the fact
 * is emitted with the connection's own time and origin. Hosts whose DNS
 * kenchi never sees never leave the pending list with a fact.
 *
 * Everything is event time; tables are iterated in insertion order, so the
 * same input in the same order gives the same facts.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline/bl-index.h"
#include "baseline/bl-module.h"
#include "util/arena.h"
#include "util/timeconv.h"

#define HOST_BLOB_VERSION 1
#define RING_MAX          32    /* connections kept per beacon pair */
#define PROTO_MAX         16    /* protocols/services kept per host */
#define FACTS_PER_HOUR    32    /* first-seen / egress facts per host and hour */
#define PENDING_MAX       65536 /* connections waiting for their DNS records */
#define DNS_GRACE_S       60    /* DNS records read this far past a connection decide it */
#define DNS_AFTER_S       5     /* an answer this much after the connection still counts */
#define RESOLVERS_MAX     8
#define BEACON_MIN_SPAN_S 3600 /* a rhythm lasts: shorter series are bursts */
#define RESOLVER_FACTOR   16   /* a resolver keeps this many more answers */
#define OUT_HOURS         (28 * 24)
#define TOP_SHOWN         20
#define MALLOC_OVERHEAD   16

enum { HOST_SERVER = 1, HOST_RESOLVER = 2, HOST_DIRTY = 4 };
enum {
    DEST_V4 = 1,
    DEST_RESOLVED = 2,
    DEST_FS = 4, /* its first-seen fact was emitted (memory only) */
};

struct dest {
    uint64_t h;
    uint8_t addr[16];
    uint16_t port;
    uint8_t flags;
    uint32_t first, last, count;
    uint64_t bytes;
};

struct dnsent {
    uint64_t h; /* hash of the 16-byte address */
    uint32_t first, last;
};

struct host {
    char *id;
    uint64_t h;
    uint32_t first, last;
    uint8_t flags;
    struct dest *d;
    uint32_t nd, capd;
    struct bl_idx didx;
    struct dnsent *dn;
    uint32_t ndn, capdn;
    struct bl_idx dnidx;
    uint32_t dns_last; /* the last answer it got (0: none seen) */
    struct bl_series out_h;
    struct bl_seen protos;
    uint32_t pair_head, npairs;
    uint32_t vol_hour; /* hour+1 of the last volume fact */
    uint32_t p95_hour; /* hour+1 the cached p95 is for */
    double p95;
    uint32_t p95_n;
    uint32_t fact_hour; /* hour+1 the fact counters are for */
    uint16_t nfirst, negress;
};

struct pair {
    uint64_t key; /* 0: free slot */
    uint64_t host_h;
    uint32_t host; /* index in hosts */
    uint8_t addr[16];
    uint16_t port;
    uint8_t v4;
    uint8_t n, cap; /* ring: n of cap used, sorted by time */
    uint32_t first, last, count;
    uint32_t fact_day; /* day+1 of the last beaconing fact */
    uint32_t *t;       /* cap times then cap sizes, one allocation */
    uint32_t hnext, hprev;
};

struct pending {
    uint64_t host_h, addr_h;
    uint32_t prev; /* older pending of the same address (seq), or BL_IDX_NONE */
    uint32_t t;
    bool resolved;
    uint8_t addr[16];
    uint8_t v4;
    uint16_t port;
    int64_t ts_ns;
    uint64_t ev_id, line, record;
    char *file;
};

struct host_mod {
    const struct bl_config *cfg;
    struct bl_labels *labels;
    struct bl_cidrs internal, servers;
    struct host **hosts;
    uint32_t nhosts, caphosts;
    struct bl_idx hidx;
    struct pair *pairs;
    uint32_t npairs_used, cappairs, pair_free;
    struct bl_idx pidx;
    uint32_t resolvers[RESOLVERS_MAX];
    unsigned nresolvers;
    struct pending *pend;
    uint32_t pcap, phead, ptail; /* seqs; live: [phead, ptail) */
    struct bl_idx pend_by_addr;  /* addr hash -> newest pending seq */
    uint32_t dns_now;            /* the newest DNS record time read */
    uint64_t facts, aged, evicted, pending_dropped;
    struct arena arena; /* synthetic events of deferred facts */
};

/* ---- small helpers ------------------------------------------------------ */

static bool str_is(struct str s, const char *lit)
{
    return s.p && str_eq(s, lit);
}

static bool field_true(const struct event *ev, const char *key)
{
    const struct field *f = event_get(ev, key);
    return f && (str_is(f->val, "true") || str_is(f->val, "T"));
}

static bool field_false(const struct event *ev, const char *key)
{
    const struct field *f = event_get(ev, key);
    return f && (str_is(f->val, "false") || str_is(f->val, "F"));
}

static uint64_t parse_u64(struct str s)
{
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            break;
        uint64_t nv = v * 10 + (uint64_t)(s.p[i] - '0');
        if (nv < v)
            return UINT64_MAX;
        v = nv;
    }
    return v;
}

static uint64_t addr_hash(const uint8_t addr[16])
{
    return bl_hash(addr, 16);
}

static uint64_t dest_hash(const uint8_t addr[16], uint16_t port)
{
    uint8_t k[18];
    memcpy(k, addr, 16);
    k[16] = (uint8_t)(port >> 8);
    k[17] = (uint8_t)port;
    return bl_hash(k, sizeof k);
}

static uint64_t pair_hash(uint64_t host_h, const uint8_t addr[16], uint16_t port)
{
    uint8_t k[26];
    memcpy(k, &host_h, 8);
    memcpy(k + 8, addr, 16);
    k[24] = (uint8_t)(port >> 8);
    k[25] = (uint8_t)port;
    return bl_hash(k, sizeof k);
}

static void dest_text(const uint8_t addr[16], bool v4, uint16_t port, char out[80])
{
    struct bl_addr a;
    memcpy(a.b, addr, 16);
    a.v4 = v4;
    char t[64];
    bl_addr_text(&a, t);
    if (v4)
        snprintf(out, 80, "%s:%u", t, (unsigned)port);
    else
        snprintf(out, 80, "[%s]:%u", t, (unsigned)port);
}

/* 1234567 -> "1,234,567" */
static void fmt_thousands(uint64_t v, char out[32])
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    int k = 0;
    for (int i = 0; i < n; i++) {
        out[k++] = tmp[i];
        int rest = n - 1 - i;
        if (rest > 0 && rest % 3 == 0)
            out[k++] = ',';
    }
    out[k] = '\0';
}

/* Bytes in SI units: "310 B", "2.1 kB", "68 MB", "2.1 GB". */
static void fmt_bytes(double v, char out[32])
{
    static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    unsigned u = 0;
    while (v >= 1000 && u < 5) {
        v /= 1000;
        u++;
    }
    if (u == 0)
        snprintf(out, 32, "%.0f B", v);
    else
        snprintf(out, 32, v < 10 ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* A duration: "45 s", "40 min", "19 h", "3 days". */
static void fmt_span(uint32_t s, char out[32])
{
    if (s < 120)
        snprintf(out, 32, "%u s", s);
    else if (s < 2 * 3600)
        snprintf(out, 32, "%u min", (s + 30) / 60);
    else if (s < 72 * 3600)
        snprintf(out, 32, "%u h", (s + 1800) / 3600);
    else
        snprintf(out, 32, "%u days", (s + 43200) / 86400);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The k-th smallest of v[0..n) (k < n); v is sorted in place. */
static uint32_t kth(uint32_t *v, uint32_t n, uint32_t k)
{
    qsort(v, n, sizeof *v, cmp_u32);
    return v[k];
}

/* ---- configuration ------------------------------------------------------- */

static void cidrs_parse(struct bl_cidrs *l, char **v, size_t n)
{
    l->v = n ? calloc(n, sizeof *l->v) : NULL;
    l->n = 0;
    if (!l->v)
        return;
    for (size_t i = 0; i < n; i++)
        if (v[i] && bl_cidr_parse(v[i], &l->v[l->n]))
            l->n++;
}

static bool addr_internal(const struct host_mod *m, const struct bl_addr *a)
{
    return bl_addr_is_private(a) || bl_cidrs_match(&m->internal, a) ||
           bl_cidrs_match(&m->servers, a);
}

/* ---- hosts --------------------------------------------------------------- */

static uint32_t max_dests(const struct host_mod *m)
{
    return m->cfg->host.max_destinations ? m->cfg->host.max_destinations : 4096;
}

static uint32_t max_dns(const struct host_mod *m, const struct host *h)
{
    return max_dests(m) * (h->flags & HOST_RESOLVER ? RESOLVER_FACTOR : 1);
}

static struct host *host_new(const char *id, size_t n)
{
    struct host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->id = malloc(n + 1);
    if (!h->id) {
        free(h);
        return NULL;
    }
    memcpy(h->id, id, n);
    h->id[n] = '\0';
    h->h = bl_hash(id, n);
    bl_idx_init(&h->didx);
    bl_idx_init(&h->dnidx);
    bl_series_init(&h->out_h, 3600, OUT_HOURS);
    bl_seen_init(&h->protos, PROTO_MAX);
    h->pair_head = BL_IDX_NONE;
    return h;
}

static void host_free(struct host *h)
{
    if (!h)
        return;
    free(h->id);
    free(h->d);
    bl_idx_free(&h->didx);
    free(h->dn);
    bl_idx_free(&h->dnidx);
    bl_series_free(&h->out_h);
    bl_seen_free(&h->protos);
    free(h);
}

static size_t host_bytes(const struct host *h)
{
    return sizeof *h + strlen(h->id) + 1 + (size_t)h->capd * sizeof(struct dest) +
           bl_idx_bytes(&h->didx) + (size_t)h->capdn * sizeof(struct dnsent) +
           bl_idx_bytes(&h->dnidx) + bl_series_bytes(&h->out_h) + bl_seen_bytes(&h->protos) +
           7 * MALLOC_OVERHEAD;
}

/* Destinations: keep those keep() accepts, rebuild the index. */
static void dests_filter(struct host *h, bool (*keep)(const struct dest *, uint32_t), uint32_t arg)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->nd; i++)
        if (keep(&h->d[i], arg))
            h->d[k++] = h->d[i];
    if (k == h->nd)
        return;
    h->nd = k;
    bl_idx_free(&h->didx);
    bl_idx_init(&h->didx);
    for (uint32_t i = 0; i < k; i++)
        if (bl_idx_put(&h->didx, h->d[i].h, i) < 0)
            break;
}

static bool dest_recent(const struct dest *d, uint32_t before)
{
    return d->last >= before;
}

static void dns_filter(struct host *h, uint32_t before)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->ndn; i++)
        if (h->dn[i].last >= before)
            h->dn[k++] = h->dn[i];
    if (k == h->ndn)
        return;
    h->ndn = k;
    bl_idx_free(&h->dnidx);
    bl_idx_init(&h->dnidx);
    for (uint32_t i = 0; i < k; i++)
        if (bl_idx_put(&h->dnidx, h->dn[i].h, i) < 0)
            break;
}

/* The time below which a sixteenth (at least one) of lasts[0..n) lies. */
static uint32_t evict_threshold(uint32_t *lasts, uint32_t n)
{
    uint32_t k = n / 16;
    return kth(lasts, n, k) + (k == 0); /* k == 0: drop the oldest ones */
}

static void dests_make_room(struct host *h, uint32_t limit)
{
    if (h->nd < limit)
        return;
    uint32_t *v = malloc(h->nd * sizeof *v);
    if (!v)
        return;
    for (uint32_t i = 0; i < h->nd; i++)
        v[i] = h->d[i].last;
    uint32_t thr = evict_threshold(v, h->nd);
    free(v);
    dests_filter(h, dest_recent, thr);
    if (h->nd >= limit) { /* all of one time: drop the first inserted */
        uint32_t drop = h->nd - limit + 1;
        memmove(h->d, h->d + drop, (h->nd - drop) * sizeof *h->d);
        h->nd -= drop;
        bl_idx_free(&h->didx);
        bl_idx_init(&h->didx);
        for (uint32_t i = 0; i < h->nd; i++)
            bl_idx_put(&h->didx, h->d[i].h, i);
    }
}

static void dns_make_room(struct host *h, uint32_t limit)
{
    if (h->ndn < limit)
        return;
    uint32_t *v = malloc(h->ndn * sizeof *v);
    if (!v)
        return;
    for (uint32_t i = 0; i < h->ndn; i++)
        v[i] = h->dn[i].last;
    uint32_t thr = evict_threshold(v, h->ndn);
    free(v);
    dns_filter(h, thr);
    if (h->ndn >= limit) {
        uint32_t drop = h->ndn - limit + 1;
        memmove(h->dn, h->dn + drop, (h->ndn - drop) * sizeof *h->dn);
        h->ndn -= drop;
        bl_idx_free(&h->dnidx);
        bl_idx_init(&h->dnidx);
        for (uint32_t i = 0; i < h->ndn; i++)
            bl_idx_put(&h->dnidx, h->dn[i].h, i);
    }
}

static struct dest *dest_get(struct host *h, uint64_t dh)
{
    uint32_t i = bl_idx_get(&h->didx, dh);
    return i == BL_IDX_NONE ? NULL : &h->d[i];
}

static struct dest *dest_add(struct host_mod *m, struct host *h, uint64_t dh)
{
    dests_make_room(h, max_dests(m));
    if (h->nd == h->capd) {
        uint32_t cap = h->capd ? h->capd * 2 : 8;
        struct dest *d = realloc(h->d, cap * sizeof *d);
        if (!d)
            return NULL;
        h->d = d;
        h->capd = cap;
    }
    if (bl_idx_put(&h->didx, dh, h->nd) < 0)
        return NULL;
    struct dest *d = &h->d[h->nd++];
    memset(d, 0, sizeof *d);
    d->h = dh;
    return d;
}

static const struct dnsent *dns_get(const struct host *h, uint64_t ah)
{
    uint32_t i = bl_idx_get(&h->dnidx, ah);
    return i == BL_IDX_NONE ? NULL : &h->dn[i];
}

static int dns_touch(struct host_mod *m, struct host *h, uint64_t ah, uint32_t t)
{
    uint32_t i = bl_idx_get(&h->dnidx, ah);
    if (i != BL_IDX_NONE) {
        struct dnsent *e = &h->dn[i];
        if (t < e->first)
            e->first = t;
        if (t > e->last)
            e->last = t;
        return 0;
    }
    dns_make_room(h, max_dns(m, h));
    if (h->ndn == h->capdn) {
        uint32_t cap = h->capdn ? h->capdn * 2 : 8;
        struct dnsent *d = realloc(h->dn, cap * sizeof *d);
        if (!d)
            return -ENOMEM;
        h->dn = d;
        h->capdn = cap;
    }
    if (bl_idx_put(&h->dnidx, ah, h->ndn) < 0)
        return -ENOMEM;
    h->dn[h->ndn++] = (struct dnsent){ah, t, t};
    return 0;
}

/* An answer in h's cache covers a connection at t. */
static bool dns_covers(const struct host_mod *m, const struct host *h, uint64_t ah, uint32_t t)
{
    const struct dnsent *e = dns_get(h, ah);
    int64_t ttl = m->cfg->host.dns_ttl_s > 0 ? m->cfg->host.dns_ttl_s : 86400;
    return e && (int64_t)e->first <= (int64_t)t + DNS_AFTER_S && (int64_t)e->last + ttl >= t;
}

static bool resolved_for(const struct host_mod *m, const struct host *h, uint64_t ah, uint32_t t)
{
    if (dns_covers(m, h, ah, t))
        return true;
    for (unsigned i = 0; i < m->nresolvers; i++) {
        const struct host *r = m->hosts[m->resolvers[i]];
        if (r != h && dns_covers(m, r, ah, t))
            return true;
    }
    return false;
}

static void resolver_add(struct host_mod *m, uint32_t hi)
{
    struct host *h = m->hosts[hi];
    if (h->flags & HOST_RESOLVER)
        return;
    if (m->nresolvers >= RESOLVERS_MAX)
        return;
    h->flags |= HOST_RESOLVER | HOST_DIRTY;
    m->resolvers[m->nresolvers++] = hi;
}

/* ---- beacon pairs --------------------------------------------------------- */

static void pair_unlink(struct host_mod *m, struct pair *p)
{
    uint32_t pi = (uint32_t)(p - m->pairs);
    if (p->hprev != BL_IDX_NONE)
        m->pairs[p->hprev].hnext = p->hnext;
    else if (p->host < m->nhosts && m->hosts[p->host]->pair_head == pi)
        m->hosts[p->host]->pair_head = p->hnext;
    if (p->hnext != BL_IDX_NONE)
        m->pairs[p->hnext].hprev = p->hprev;
    if (p->host < m->nhosts && m->hosts[p->host]->npairs)
        m->hosts[p->host]->npairs--;
}

static void pair_release(struct host_mod *m, uint32_t pi)
{
    struct pair *p = &m->pairs[pi];
    pair_unlink(m, p);
    bl_idx_del(&m->pidx, p->key);
    free(p->t);
    memset(p, 0, sizeof *p);
    p->hnext = m->pair_free;
    m->pair_free = pi;
    m->npairs_used--;
}

static void pairs_make_room(struct host_mod *m)
{
    uint32_t limit = m->cfg->host.max_pairs ? m->cfg->host.max_pairs : 200000;
    if (m->npairs_used < limit)
        return;
    uint32_t *v = malloc(m->npairs_used * sizeof *v);
    if (!v)
        return;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->cappairs; i++)
        if (m->pairs[i].key)
            v[k++] = m->pairs[i].last;
    uint32_t thr = evict_threshold(v, k);
    free(v);
    for (uint32_t i = 0; i < m->cappairs && m->npairs_used >= limit; i++)
        if (m->pairs[i].key && m->pairs[i].last < thr)
            pair_release(m, i);
    for (uint32_t i = 0; i < m->cappairs && m->npairs_used >= limit; i++)
        if (m->pairs[i].key)
            pair_release(m, i);
}

static struct pair *pair_get_or_add(struct host_mod *m, uint32_t hi, const uint8_t addr[16],
                                    bool v4, uint16_t port, bool *created)
{
    struct host *h = m->hosts[hi];
    uint64_t key = pair_hash(h->h, addr, port);
    *created = false;
    uint32_t pi = bl_idx_get(&m->pidx, key);
    if (pi != BL_IDX_NONE)
        return &m->pairs[pi];
    pairs_make_room(m);
    if (m->pair_free == BL_IDX_NONE) {
        uint32_t cap = m->cappairs ? m->cappairs * 2 : 64;
        struct pair *np = realloc(m->pairs, cap * sizeof *np);
        if (!np)
            return NULL;
        m->pairs = np;
        for (uint32_t i = cap; i-- > m->cappairs;) {
            memset(&np[i], 0, sizeof np[i]);
            np[i].hnext = m->pair_free;
            m->pair_free = i;
        }
        m->cappairs = cap;
    }
    pi = m->pair_free;
    if (bl_idx_put(&m->pidx, key, pi) < 0)
        return NULL;
    struct pair *p = &m->pairs[pi];
    m->pair_free = p->hnext;
    memset(p, 0, sizeof *p);
    p->key = key;
    p->host_h = h->h;
    p->host = hi;
    memcpy(p->addr, addr, 16);
    p->v4 = v4;
    p->port = port;
    p->hprev = BL_IDX_NONE;
    p->hnext = h->pair_head;
    if (h->pair_head != BL_IDX_NONE)
        m->pairs[h->pair_head].hprev = pi;
    h->pair_head = pi;
    h->npairs++;
    m->npairs_used++;
    *created = true;
    return p;
}

/* Add a connection start t of size bytes; same-second starts merge (a burst
 * of parallel connections is one beat). The ring stays sorted by time. */
static int pair_add(struct pair *p, uint32_t t, uint64_t size)
{
    uint32_t sz = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    if (p->count < UINT32_MAX)
        p->count++;
    if (!p->first || t < p->first)
        p->first = t;
    if (t > p->last)
        p->last = t;
    uint32_t *ts = p->t, *ss = p->t ? p->t + p->cap : NULL;
    for (unsigned i = 0; i < p->n; i++)
        if (ts[i] == t) {
            ss[i] = ss[i] > UINT32_MAX - sz ? UINT32_MAX : ss[i] + sz;
            return 0;
        }
    if (p->n == p->cap && p->cap < RING_MAX) {
        unsigned cap = p->cap ? p->cap * 2u : 4u;
        uint32_t *nt = malloc(2u * cap * sizeof *nt);
        if (!nt)
            return -ENOMEM;
        if (p->n) {
            memcpy(nt, ts, p->n * sizeof *nt);
            memcpy(nt + cap, ss, p->n * sizeof *nt);
        }
        free(p->t);
        p->t = nt;
        p->cap = (uint8_t)cap;
        ts = nt;
        ss = nt + cap;
    }
    if (p->n == p->cap) { /* full: forget the oldest */
        if (t <= ts[0])
            return 0;
        memmove(ts, ts + 1, (p->n - 1u) * sizeof *ts);
        memmove(ss, ss + 1, (p->n - 1u) * sizeof *ss);
        p->n--;
    }
    unsigned i = p->n;
    while (i > 0 && ts[i - 1] > t) {
        ts[i] = ts[i - 1];
        ss[i] = ss[i - 1];
        i--;
    }
    ts[i] = t;
    ss[i] = sz;
    p->n++;
    return 0;
}

/* ---- the beacon score ------------------------------------------------------
 * After RITA's: perfect beacons have symmetric, tightly packed intervals
 * and sizes. Over the ring's n starts (n-1 intervals):
 *   interval skew    1 - |Bowley skewness| (0 when quartiles coincide with
 *                    the median on one side only)
 *   interval spread  1 - MAD / (10 % of the median interval), at least 0
 *   steadiness       min(1, (n-1) x median interval / time spanned): a
 *                    rhythm, not bursts separated by long silences
 *   size skew        1 - |Bowley skewness| of the sizes
 *   size spread      1 - MAD / max(32 B, 5 % of the median size)
 *   smallness        1 - mode / 65,535 B, at least 0
 * The score is their mean (0..1). */
struct beacon {
    double score;
    uint32_t interval; /* median interval (s) */
    double spread_pct; /* 90th percentile of |interval - median|, % of the median */
    uint32_t size_lo, size_hi, size_mode;
};

/* Insertion sort: the rings hold at most 32 values, and qsort's calls
 * through a comparator cost more than the sorting itself. */
static void sort_small(uint32_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        uint32_t x = v[i];
        unsigned j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static double bowley(const uint32_t *v, unsigned n)
{
    double q1 = v[(unsigned)lround(0.25 * (n - 1))], q2 = v[(unsigned)lround(0.5 * (n - 1))],
           q3 = v[(unsigned)lround(0.75 * (n - 1))];
    if (q3 == q1 || q2 == q1 || q2 == q3)
        return 0;
    return (q1 + q3 - 2 * q2) / (q3 - q1);
}

static double mad(const uint32_t *sorted, unsigned n, uint32_t *tmp)
{
    uint32_t med = sorted[(unsigned)lround(0.5 * (n - 1))];
    for (unsigned i = 0; i < n; i++)
        tmp[i] = sorted[i] > med ? sorted[i] - med : med - sorted[i];
    sort_small(tmp, n);
    return tmp[(unsigned)lround(0.5 * (n - 1))];
}

static bool beacon_score(const struct pair *p, struct beacon *b)
{
    unsigned n = p->n;
    memset(b, 0, sizeof *b);
    if (n < 3)
        return false;
    uint32_t iv[RING_MAX], sz[RING_MAX], tmp[RING_MAX];
    for (unsigned i = 0; i + 1 < n; i++)
        iv[i] = p->t[i + 1] - p->t[i];
    unsigned ni = n - 1;
    sort_small(iv, ni);
    memcpy(sz, p->t + p->cap, n * sizeof *sz);
    sort_small(sz, n);

    uint32_t med = iv[(unsigned)lround(0.5 * (ni - 1))];
    double ts_skew = 1 - fabs(bowley(iv, ni));
    double ts_mad = med ? 1 - mad(iv, ni, tmp) / (0.1 * med) : 0;
    if (ts_mad < 0)
        ts_mad = 0;
    uint32_t span = p->t[n - 1] - p->t[0];
    double steady = span ? (double)(n - 1) * med / span : 0;
    if (steady > 1)
        steady = 1;
    uint32_t smed = sz[(unsigned)lround(0.5 * (n - 1))];
    double ds_skew = 1 - fabs(bowley(sz, n));
    double allow = 0.05 * smed > 32 ? 0.05 * smed : 32;
    double ds_mad = 1 - mad(sz, n, tmp) / allow;
    if (ds_mad < 0)
        ds_mad = 0;
    uint32_t mode = sz[0], best = 0;
    for (unsigned i = 0; i < n;) {
        unsigned j = i;
        while (j < n && sz[j] == sz[i])
            j++;
        if (j - i > best) {
            best = j - i;
            mode = sz[i];
        }
        i = j;
    }
    double small = 1 - mode / 65535.0;
    if (small < 0)
        small = 0;
    b->score = (ts_skew + ts_mad + steady + ds_skew + ds_mad + small) / 6;

    for (unsigned i = 0; i < ni; i++)
        tmp[i] = iv[i] > med ? iv[i] - med : med - iv[i];
    sort_small(tmp, ni);
    b->interval = med;
    b->spread_pct = med ? 100.0 * tmp[(unsigned)lround(0.9 * (ni - 1))] / med : 0;
    b->size_lo = sz[(unsigned)lround(0.25 * (n - 1))];
    b->size_hi = sz[(unsigned)lround(0.75 * (n - 1))];
    b->size_mode = mode;
    return true;
}

/* ---- the module ------------------------------------------------------------ */

static void *host_create(const struct bl_config *c, struct bl_labels *labels)
{
    struct host_mod *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cfg = c;
    m->labels = labels;
    cidrs_parse(&m->internal, c->internal_networks, c->ninternal_networks);
    cidrs_parse(&m->servers, c->servers, c->nservers);
    bl_idx_init(&m->hidx);
    bl_idx_init(&m->pidx);
    bl_idx_init(&m->pend_by_addr);
    m->pair_free = BL_IDX_NONE;
    arena_init(&m->arena, 4096);
    return m;
}

static void pending_pop(struct host_mod *m)
{
    struct pending *p = &m->pend[m->phead & (m->pcap - 1)];
    if (bl_idx_get(&m->pend_by_addr, p->addr_h) == m->phead)
        bl_idx_del(&m->pend_by_addr, p->addr_h);
    free(p->file);
    p->file = NULL;
    m->phead++;
}

static void host_destroy(void *mp)
{
    struct host_mod *m = mp;
    if (!m)
        return;
    while (m->phead != m->ptail)
        pending_pop(m);
    free(m->pend);
    bl_idx_free(&m->pend_by_addr);
    for (uint32_t i = 0; i < m->cappairs; i++)
        free(m->pairs[i].t);
    free(m->pairs);
    bl_idx_free(&m->pidx);
    for (uint32_t i = 0; i < m->nhosts; i++)
        host_free(m->hosts[i]);
    free(m->hosts);
    bl_idx_free(&m->hidx);
    free(m->internal.v);
    free(m->servers.v);
    arena_free(&m->arena);
    free(m);
}

/* Remove host hi: its pairs go, the last host takes its place. */
static void host_remove(struct host_mod *m, uint32_t hi)
{
    struct host *h = m->hosts[hi];
    while (h->pair_head != BL_IDX_NONE)
        pair_release(m, h->pair_head);
    for (unsigned i = 0; i < m->nresolvers; i++)
        if (m->resolvers[i] == hi) {
            m->resolvers[i] = m->resolvers[--m->nresolvers];
            break;
        }
    bl_idx_del(&m->hidx, h->h);
    host_free(h);
    uint32_t last = --m->nhosts;
    if (hi != last) {
        struct host *mv = m->hosts[last];
        m->hosts[hi] = mv;
        bl_idx_put(&m->hidx, mv->h, hi);
        for (uint32_t pi = mv->pair_head; pi != BL_IDX_NONE; pi = m->pairs[pi].hnext)
            m->pairs[pi].host = hi;
        for (unsigned i = 0; i < m->nresolvers; i++)
            if (m->resolvers[i] == last)
                m->resolvers[i] = hi;
    }
}

static void hosts_make_room(struct host_mod *m)
{
    uint32_t limit = m->cfg->max_entities ? m->cfg->max_entities : 200000;
    if (m->nhosts < limit)
        return;
    uint32_t *v = malloc(m->nhosts * sizeof *v);
    if (!v)
        return;
    for (uint32_t i = 0; i < m->nhosts; i++)
        v[i] = m->hosts[i]->last;
    uint32_t thr = evict_threshold(v, m->nhosts);
    free(v);
    for (uint32_t i = m->nhosts; i-- > 0 && m->nhosts >= limit;)
        if (m->hosts[i]->last < thr) {
            host_remove(m, i);
            m->evicted++;
        }
    while (m->nhosts >= limit) {
        host_remove(m, 0);
        m->evicted++;
    }
}

/* The host of id (created when create), or BL_IDX_NONE. */
static uint32_t host_find(struct host_mod *m, const char *id, size_t n, bool create)
{
    uint64_t h = bl_hash(id, n);
    uint32_t hi = bl_idx_get(&m->hidx, h);
    if (hi != BL_IDX_NONE) {
        const char *s = m->hosts[hi]->id;
        return strlen(s) == n && !memcmp(s, id, n) ? hi : BL_IDX_NONE;
    }
    if (!create)
        return BL_IDX_NONE;
    hosts_make_room(m);
    if (m->nhosts == m->caphosts) {
        uint32_t cap = m->caphosts ? m->caphosts * 2 : 64;
        struct host **nh = realloc(m->hosts, cap * sizeof *nh);
        if (!nh)
            return BL_IDX_NONE;
        m->hosts = nh;
        m->caphosts = cap;
    }
    struct host *ho = host_new(id, n);
    if (!ho)
        return BL_IDX_NONE;
    if (bl_idx_put(&m->hidx, ho->h, m->nhosts) < 0) {
        host_free(ho);
        return BL_IDX_NONE;
    }
    m->hosts[m->nhosts] = ho;
    return m->nhosts++;
}

static void host_seen(struct host *h, uint32_t t)
{
    if (!h->first || (t && t < h->first))
        h->first = t;
    if (t > h->last)
        h->last = t;
    h->flags |= HOST_DIRTY;
}

static bool host_mature(const struct host_mod *m, const struct host *h, uint32_t t)
{
    return h->first && (int64_t)t - (int64_t)h->first >= m->cfg->learning_s;
}

/* Rate limit: at most FACTS_PER_HOUR of each kind per host and hour. */
static bool fact_allowed(struct host *h, uint32_t t, bool egress)
{
    uint32_t hour = t / 3600 + 1;
    if (h->fact_hour != hour) {
        h->fact_hour = hour;
        h->nfirst = h->negress = 0;
    }
    uint16_t *c = egress ? &h->negress : &h->nfirst;
    if (*c >= FACTS_PER_HOUR)
        return false;
    (*c)++;
    return true;
}

static int emit(struct host_mod *m, struct bl_ctx *ctx, const struct host *h, const char *det,
                const char *feature, const char *value, double score, const char *text,
                const char *tags, const char *network, const struct event *ev)
{
    struct bl_fact f = {
        .kind = BL_HOST,
        .entity = h->id,
        .detector = det,
        .feature = feature,
        .value = value,
        .network = network,
        .score = score,
        .text = text,
        .tags = tags,
        .ev = ev,
    };
    m->facts++;
    return bl_emit(ctx, &f);
}

static void history_text(const struct host *h, uint32_t t, char out[48])
{
    uint32_t days = t > h->first ? (t - h->first) / 86400 : 0;
    snprintf(out, 48, "%u day%s", days, days == 1 ? "" : "s");
}

/* late: the connection waited for the DNS records to be read (scan reads
 * conn.log before dns.log), so the first-seen fact made when it was read
 * may have left the entity's timeline since: it is given again (the store
 * keeps it once). */
static int emit_egress(struct host_mod *m, struct bl_ctx *ctx, struct host *h,
                       const uint8_t addr[16], bool v4, uint16_t port, uint32_t t,
                       const struct event *ev, bool late)
{
    char dt[80], hist[48], text[320], net[64], ttl[32];
    dest_text(addr, v4, port, dt);
    history_text(h, t, hist);
    /* an unresolved new destination is rare: its first-seen fact goes with
     * it even when the hour's quota of first-seen facts was spent on the
     * ordinary new destinations of a busy host */
    struct dest *d = dest_get(h, dest_hash(addr, port));
    if (d && (late || !(d->flags & DEST_FS))) {
        struct bl_addr na;
        memcpy(na.b, addr, 16);
        na.v4 = v4;
        bl_addr_net(&na, net);
        snprintf(text, sizeof text, "first connection to %s in %s of history", dt, hist);
        int rc = emit(m, ctx, h, BL_DET_FIRST_SEEN, "destination", dt, 0.4, text, "T1071", net, ev);
        if (rc)
            return rc;
        d->flags |= DEST_FS;
    }
    int64_t ttl_s = m->cfg->host.dns_ttl_s > 0 ? m->cfg->host.dns_ttl_s : 86400;
    fmt_span(ttl_s > UINT32_MAX ? UINT32_MAX : (uint32_t)ttl_s, ttl);
    bool server = h->flags & HOST_SERVER;
    snprintf(text, sizeof text,
             "%s %s connected to %s, an address no DNS answer gave it in the %s before, in %s "
             "of history",
             server ? "server" : "host", h->id, dt, ttl, hist);
    struct bl_addr a;
    memcpy(a.b, addr, 16);
    a.v4 = v4;
    bl_addr_net(&a, net);
    return emit(m, ctx, h, BL_DET_EGRESS, "destination", dt, server ? 0.8 : 0.4, text,
                "T1071,T1041", net, ev);
}

/* ---- pending connections (DNS not read yet) ------------------------------- */

static void pending_push(struct host_mod *m, const struct host *h, const uint8_t addr[16], bool v4,
                         uint16_t port, uint32_t t, const struct event *ev)
{
    if (m->ptail - m->phead >= PENDING_MAX) {
        pending_pop(m);
        m->pending_dropped++;
    }
    if (m->ptail - m->phead >= m->pcap) {
        uint32_t cap = m->pcap ? m->pcap * 2 : 256;
        struct pending *np = malloc(cap * sizeof *np);
        if (!np)
            return;
        for (uint32_t s = m->phead; s != m->ptail; s++)
            np[s & (cap - 1)] = m->pend[s & (m->pcap - 1)];
        free(m->pend);
        m->pend = np;
        m->pcap = cap;
    }
    uint32_t seq = m->ptail;
    struct pending *p = &m->pend[seq & (m->pcap - 1)];
    memset(p, 0, sizeof *p);
    p->host_h = h->h;
    p->addr_h = addr_hash(addr);
    memcpy(p->addr, addr, 16);
    p->v4 = v4;
    p->port = port;
    p->t = t;
    p->ts_ns = ev->ts_ns;
    p->ev_id = ev->id;
    p->line = ev->line;
    p->record = ev->record;
    p->file = ev->file ? strdup(ev->file) : NULL;
    p->prev = bl_idx_get(&m->pend_by_addr, p->addr_h);
    bl_idx_put(&m->pend_by_addr, p->addr_h, seq);
    m->ptail++;
}

static bool seq_live(const struct host_mod *m, uint32_t seq)
{
    return seq != BL_IDX_NONE && (int32_t)(seq - m->phead) >= 0 && (int32_t)(m->ptail - seq) > 0;
}

/* An answer for address ah reached host h at t: pending connections it
 * covers are resolved. */
static void pending_answer(struct host_mod *m, const struct host *h, uint64_t ah, uint32_t t)
{
    int64_t ttl = m->cfg->host.dns_ttl_s > 0 ? m->cfg->host.dns_ttl_s : 86400;
    uint32_t seq = bl_idx_get(&m->pend_by_addr, ah);
    while (seq_live(m, seq)) {
        struct pending *p = &m->pend[seq & (m->pcap - 1)];
        if (p->addr_h != ah)
            break;
        if ((p->host_h == h->h || (h->flags & HOST_RESOLVER)) &&
            (int64_t)t <= (int64_t)p->t + DNS_AFTER_S && (int64_t)t + ttl >= p->t)
            p->resolved = true;
        seq = p->prev;
    }
}

/* Decide the pending connections the DNS records read so far settle. */
static int pending_settle(struct host_mod *m, struct bl_ctx *ctx)
{
    int rc = 0;
    while (m->phead != m->ptail && rc == 0) {
        struct pending *p = &m->pend[m->phead & (m->pcap - 1)];
        if ((int64_t)p->t + DNS_GRACE_S >= m->dns_now)
            break;
        uint32_t hi = bl_idx_get(&m->hidx, p->host_h);
        if (hi != BL_IDX_NONE) {
            struct host *h = m->hosts[hi];
            struct dest *d = dest_get(h, dest_hash(p->addr, p->port));
            if (p->resolved || resolved_for(m, h, p->addr_h, p->t)) {
                if (d)
                    d->flags |= DEST_RESOLVED;
            } else if ((h->dns_last || m->nresolvers) && fact_allowed(h, p->t, true)) {
                /* The connection's own time and origin. */
                struct event ev;
                arena_reset(&m->arena);
                event_init(&ev, &m->arena);
                ev.ts_ns = p->ts_ns;
                ev.id = p->ev_id;
                ev.file = p->file;
                ev.line = p->line;
                ev.record = p->record;
                ev.ls = (struct logsource){"zeek", "conn", NULL};
                ev.format = "zeek";
                ev.parsed = true;
                char src[64], dst[64];
                struct bl_addr a;
                memcpy(a.b, p->addr, 16);
                a.v4 = p->v4;
                bl_addr_text(&a, dst);
                snprintf(src, sizeof src, "%s", h->id);
                ev.core[CORE_SOURCE_IP] = (struct str){src, strlen(src)};
                ev.core[CORE_DESTINATION_IP] = (struct str){dst, strlen(dst)};
                rc = emit_egress(m, ctx, h, p->addr, p->v4, p->port, p->t, &ev, true);
            }
        }
        pending_pop(m);
    }
    return rc;
}

/* ---- events ---------------------------------------------------------------- */

static int volume_check(struct host_mod *m, struct bl_ctx *ctx, struct host *h, uint32_t t,
                        double total, const struct event *ev)
{
    const struct bl_host_conf *hc = &m->cfg->host;
    uint32_t hour = t / 3600 + 1;
    if (total <= (double)hc->bytes_min || h->vol_hour == hour)
        return 0;
    int64_t min_days = m->cfg->account.volume_min_days ? m->cfg->account.volume_min_days : 14;
    if ((int64_t)t - (int64_t)h->first < min_days * 86400)
        return 0;
    if (h->p95_hour != hour) {
        h->p95 = 0;
        h->p95_n = bl_series_quantile(&h->out_h, t, 0.95, &h->p95);
        h->p95_hour = hour;
    }
    double factor = hc->bytes_factor > 0 ? hc->bytes_factor : 10;
    if (!h->p95_n || total <= factor * h->p95)
        return 0;
    h->vol_hour = hour;
    double ratio = h->p95 >= 1 ? total / h->p95 : INFINITY;
    char tot[32], p95[32], text[320], value[32];
    fmt_bytes(total, tot);
    fmt_bytes(h->p95, p95);
    snprintf(value, sizeof value, "%.0f", total);
    if (isinf(ratio))
        snprintf(text, sizeof text,
                 "sent %s out in one hour; the host's 95th percentile per hour is %s over %u days",
                 tot, p95, h->p95_n / 24);
    else
        snprintf(
            text, sizeof text,
            "sent %s out in one hour, %.0f\xc3\x97 the host's 95th percentile (%s) over %u days",
            tot, ratio, p95, h->p95_n / 24);
    return emit(m, ctx, h, BL_DET_VOLUME, "bytes-out", value, ratio >= 30 ? 0.9 : 0.8, text,
                "T1041,T1048", NULL, ev);
}

static int beacon_check(struct host_mod *m, struct bl_ctx *ctx, struct host *h, struct pair *p,
                        uint32_t t, const struct event *ev)
{
    const struct bl_host_conf *hc = &m->cfg->host;
    uint32_t min_conns = hc->beacon_min_connections ? hc->beacon_min_connections : 12;
    uint32_t day = bl_day(t) + 1;
    if (p->count < min_conns || p->n < min_conns || p->fact_day >= day ||
        p->last - p->first < BEACON_MIN_SPAN_S)
        return 0;
    struct beacon b;
    if (!beacon_score(p, &b) || b.score < hc->beacon_min_score)
        return 0;
    p->fact_day = day;
    /* Grading by novelty: new to a host with history 1.5; a host still
     * learning 1.0 (novelty unknown); a long-known destination 0.5, so
     * that periodic normal traffic stays a timeline fact. */
    struct dest *d = dest_get(h, dest_hash(p->addr, p->port));
    uint32_t dfirst = d ? d->first : p->first;
    double score;
    const char *how;
    if ((int64_t)t - (int64_t)dfirst >= m->cfg->learning_s) {
        score = 0.5;
        how = ", a long-known destination";
    } else if (host_mature(m, h, dfirst)) {
        score = 1.5;
        how = ", a new destination";
    } else {
        score = 1.0;
        how = "";
    }
    char dt[80], iv[32], span[32], sz[80], lo[32], hi[32], text[400], value[112];
    dest_text(p->addr, p->v4, p->port, dt);
    fmt_thousands(b.interval, iv);
    fmt_span(p->last - p->first, span);
    if (b.size_lo == b.size_hi) {
        fmt_bytes(b.size_mode, lo);
        snprintf(sz, sizeof sz, "%s each", lo);
    } else {
        fmt_bytes(b.size_lo, lo);
        fmt_bytes(b.size_hi, hi);
        snprintf(sz, sizeof sz, "%s to %s", lo, hi);
    }
    snprintf(text, sizeof text,
             "every %s s \xc2\xb1 %.0f %% for %s (%u connections of %s) to %s%s; beacon score "
             "%.2f",
             iv, b.spread_pct, span, p->count, sz, dt, how, b.score);
    snprintf(value, sizeof value, "%s every %u s", dt, b.interval);
    char net[64];
    struct bl_addr a;
    memcpy(a.b, p->addr, 16);
    a.v4 = p->v4;
    bl_addr_net(&a, net);
    return emit(m, ctx, h, BL_DET_BEACONING, "destination", value, score, text, "T1071,T1573", net,
                ev);
}

/* NTP and DNS are periodic by design; so is SMTP relaying (queue runs,
 * deferred mail retried at a fixed backoff, a list expanded to one MX). */
static bool beacon_port(uint16_t port)
{
    return port != 123 && port != 53 && port != 25;
}

static int on_conn(struct host_mod *m, struct bl_ctx *ctx, const struct event *ev, uint32_t t)
{
    struct str src = ev->core[CORE_SOURCE_IP], dst = ev->core[CORE_DESTINATION_IP];
    struct bl_addr sa, da;
    if (!src.n || !dst.n || !bl_addr_parse(src.p, src.n, &sa) || !bl_addr_parse(dst.p, dst.n, &da))
        return 0;
    bool src_in = addr_internal(m, &sa) || field_true(ev, "local_orig");
    bool dst_in = addr_internal(m, &da) || field_true(ev, "local_resp");
    if (!src_in || dst_in)
        return 0;
    uint16_t port = (uint16_t)parse_u64(ev->core[CORE_DESTINATION_PORT]);
    uint64_t bytes = parse_u64(ev->core[CORE_SOURCE_BYTES]);
    if (bytes == UINT64_MAX)
        bytes = 0;

    char sid[64];
    bl_addr_text(&sa, sid);
    uint32_t hi = host_find(m, sid, strlen(sid), true);
    if (hi == BL_IDX_NONE)
        return -ENOMEM;
    struct host *h = m->hosts[hi];
    bool mature = host_mature(m, h, t);
    host_seen(h, t);
    if (bl_cidrs_match(&m->servers, &sa) || !bl_addr_is_private(&sa))
        h->flags |= HOST_SERVER;

    /* protocol/service */
    const struct field *pf = event_get(ev, "proto"), *sf = event_get(ev, "service");
    char proto[48];
    snprintf(proto, sizeof proto, "%.*s%s%.*s", pf ? (int)(pf->val.n > 8 ? 8 : pf->val.n) : 0,
             pf ? pf->val.p : "", sf && sf->val.n ? "/" : "",
             sf ? (int)(sf->val.n > 30 ? 30 : sf->val.n) : 0, sf ? sf->val.p : "");
    if (proto[0])
        bl_seen_touch(&h->protos, bl_hash_str(proto), t, bl_label(m->labels, proto, strlen(proto)),
                      NULL);

    /* destination */
    uint64_t dh = dest_hash(da.b, port);
    struct dest *d = dest_get(h, dh);
    bool is_new = !d;
    if (!d) {
        d = dest_add(m, h, dh);
        if (!d)
            return -ENOMEM;
        memcpy(d->addr, da.b, 16);
        d->port = port;
        d->flags = da.v4 ? DEST_V4 : 0;
        d->first = t;
    }
    if (t < d->first)
        d->first = t;
    if (t > d->last)
        d->last = t;
    if (d->count < UINT32_MAX)
        d->count++;
    d->bytes += bytes;
    uint64_t ah = addr_hash(da.b);
    bool resolved = resolved_for(m, h, ah, t);
    if (resolved)
        d->flags |= DEST_RESOLVED;

    int rc = 0;
    if (is_new && mature) {
        /* a gateway reaches new MX hosts every day, found through DNS:
         * those are no news; an unresolved one is, and gets its first-seen
         * fact with the egress fact once the DNS records are read */
        bool known_dns = resolved || (int64_t)m->dns_now > (int64_t)t + DNS_GRACE_S;
        bool smtp = port == 25;
        if (!(smtp && (resolved || !known_dns)) && fact_allowed(h, t, false)) {
            char dt[80], hist[48], text[320], net[64];
            dest_text(da.b, da.v4, port, dt);
            history_text(h, t, hist);
            bl_addr_net(&da, net);
            snprintf(text, sizeof text, "first connection to %s%s%s%s in %s of history", dt,
                     proto[0] ? " (" : "", proto, proto[0] ? ")" : "", hist);
            rc = emit(m, ctx, h, BL_DET_FIRST_SEEN, "destination", dt, 0.4, text, "T1071", net, ev);
            d->flags |= DEST_FS;
        }
        if (rc == 0 && !resolved) {
            if ((int64_t)m->dns_now > (int64_t)t + DNS_GRACE_S) {
                if ((h->dns_last || m->nresolvers) && fact_allowed(h, t, true))
                    rc = emit_egress(m, ctx, h, da.b, da.v4, port, t, ev, false);
            } else {
                pending_push(m, h, da.b, da.v4, port, t, ev);
            }
        }
    }
    if (rc)
        return rc;

    /* bytes out per hour */
    double total = bl_series_add(&h->out_h, t, (double)bytes);
    if (total > 0) {
        rc = volume_check(m, ctx, h, t, total, ev);
        if (rc)
            return rc;
    }

    /* beaconing */
    if (beacon_port(port)) {
        bool created;
        struct pair *p = pair_get_or_add(m, hi, da.b, da.v4, port, &created);
        h = m->hosts[hi];
        if (p) {
            if (pair_add(p, t, bytes) < 0)
                return -ENOMEM;
            rc = beacon_check(m, ctx, h, p, t, ev);
        }
    }
    return rc;
}

/* Call fn on every address among the answers (a JSON array of strings, or
 * a comma-separated list). */
static void each_answer(struct str v, void (*fn)(void *, const struct bl_addr *), void *arg)
{
    size_t i = 0;
    bool json = v.n && v.p[0] == '[';
    while (i < v.n) {
        const char *s;
        size_t n;
        if (json) {
            while (i < v.n && v.p[i] != '"')
                i++;
            if (i >= v.n)
                break;
            s = v.p + ++i;
            while (i < v.n && v.p[i] != '"')
                i += v.p[i] == '\\' ? 2 : 1;
            n = (size_t)(v.p + (i < v.n ? i : v.n) - s);
            i++;
        } else {
            s = v.p + i;
            while (i < v.n && v.p[i] != ',')
                i++;
            n = (size_t)(v.p + i - s);
            i++;
        }
        struct bl_addr a;
        if (n && n < 64 && bl_addr_parse(s, n, &a))
            fn(arg, &a);
    }
}

struct answer_ctx {
    struct host_mod *m;
    struct host *h;
    uint32_t t;
    int rc;
};

static void on_answer(void *arg, const struct bl_addr *a)
{
    struct answer_ctx *c = arg;
    uint64_t ah = addr_hash(a->b);
    if (dns_touch(c->m, c->h, ah, c->t) < 0)
        c->rc = -ENOMEM;
    pending_answer(c->m, c->h, ah, c->t);
}

static int on_dns(struct host_mod *m, struct bl_ctx *ctx, const struct event *ev, uint32_t t)
{
    struct str src = ev->core[CORE_SOURCE_IP], dst = ev->core[CORE_DESTINATION_IP];
    struct bl_addr sa, da = {0};
    if (!src.n || !bl_addr_parse(src.p, src.n, &sa))
        return 0;
    bool src_in = addr_internal(m, &sa) || field_true(ev, "local_orig");
    if (t > m->dns_now)
        m->dns_now = t;
    int rc = 0;
    if (src_in) {
        bool dst_in = dst.n && bl_addr_parse(dst.p, dst.n, &da) &&
                      (addr_internal(m, &da) || field_true(ev, "local_resp"));
        bool multicast = da.v4 ? da.b[12] >= 224 : da.b[0] == 0xff;
        if (dst_in && !multicast && memcmp(sa.b, da.b, 16)) {
            /* An internal host answers others: a resolver. */
            char rid[64];
            bl_addr_text(&da, rid);
            uint32_t ri = host_find(m, rid, strlen(rid), true);
            if (ri != BL_IDX_NONE) {
                host_seen(m->hosts[ri], t);
                resolver_add(m, ri);
            }
        }
        const struct field *ans = event_get(ev, "answers");
        bool rd_off = field_false(ev, "RD");
        if ((ans && ans->val.n) || rd_off) {
            char sid[64];
            bl_addr_text(&sa, sid);
            uint32_t hi = host_find(m, sid, strlen(sid), true);
            if (hi == BL_IDX_NONE)
                return -ENOMEM;
            struct host *h = m->hosts[hi];
            host_seen(h, t);
            if (rd_off && !dst_in) /* iterative queries to the Internet */
                resolver_add(m, hi);
            if (ans && ans->val.n) {
                if (t > h->dns_last)
                    h->dns_last = t;
                struct answer_ctx c = {m, h, t, 0};
                each_answer(ans->val, on_answer, &c);
                rc = c.rc;
            }
        }
    }
    int rc2 = pending_settle(m, ctx);
    return rc ? rc : rc2;
}

static int host_on_event(void *mp, struct bl_ctx *ctx, const struct event *ev)
{
    struct host_mod *m = mp;
    if (!ev->ls.product || strcmp(ev->ls.product, "zeek") || !ev->ls.service)
        return 0;
    uint32_t t = bl_time(ev->ts_ns);
    if (!t)
        return 0;
    if (!strcmp(ev->ls.service, "conn"))
        return on_conn(m, ctx, ev, t);
    if (!strcmp(ev->ls.service, "dns"))
        return on_dns(m, ctx, ev, t);
    return 0;
}

/* ---- save / load ------------------------------------------------------------
 * Blob (version 1), every number a LEB128 varint:
 *   version, flags (server, resolver), first, last, dns_last, vol_hour
 *   ndest, then per destination: address (16-byte string), v4, port,
 *     first, last, count, bytes, resolved
 *   ndns, then per answer: address hash, first, last
 *   bytes-out series (bl_series_write), protocols (bl_seen_write)
 *   npairs, then per pair: address, v4, port, first, last, count,
 *     fact_day, n, then n times (first absolute, then deltas) and n sizes
 * Pending connections are not saved (they settle within minutes). */

static void host_write(const struct host_mod *m, const struct host *h, struct buf *b)
{
    bl_w_u64(b, HOST_BLOB_VERSION);
    bl_w_u64(b, h->flags & (HOST_SERVER | HOST_RESOLVER));
    bl_w_u64(b, h->first);
    bl_w_u64(b, h->last);
    bl_w_u64(b, h->dns_last);
    bl_w_u64(b, h->vol_hour);
    bl_w_u64(b, h->nd);
    for (uint32_t i = 0; i < h->nd; i++) {
        const struct dest *d = &h->d[i];
        bl_w_u64(b, 16);
        buf_append(b, d->addr, 16);
        bl_w_u64(b, d->flags & DEST_V4 ? 1 : 0);
        bl_w_u64(b, d->port);
        bl_w_u64(b, d->first);
        bl_w_u64(b, d->last);
        bl_w_u64(b, d->count);
        bl_w_u64(b, d->bytes);
        bl_w_u64(b, d->flags & DEST_RESOLVED ? 1 : 0);
    }
    bl_w_u64(b, h->ndn);
    for (uint32_t i = 0; i < h->ndn; i++) {
        bl_w_u64(b, h->dn[i].h);
        bl_w_u64(b, h->dn[i].first);
        bl_w_u64(b, h->dn[i].last);
    }
    bl_series_write(b, &h->out_h);
    bl_seen_write(b, &h->protos, m->labels);
    bl_w_u64(b, h->npairs);
    for (uint32_t pi = h->pair_head; pi != BL_IDX_NONE; pi = m->pairs[pi].hnext) {
        const struct pair *p = &m->pairs[pi];
        bl_w_u64(b, 16);
        buf_append(b, p->addr, 16);
        bl_w_u64(b, p->v4);
        bl_w_u64(b, p->port);
        bl_w_u64(b, p->first);
        bl_w_u64(b, p->last);
        bl_w_u64(b, p->count);
        bl_w_u64(b, p->fact_day);
        bl_w_u64(b, p->n);
        for (unsigned i = 0; i < p->n; i++)
            bl_w_u64(b, i ? p->t[i] - p->t[i - 1] : p->t[0]);
        for (unsigned i = 0; i < p->n; i++)
            bl_w_u64(b, p->t[p->cap + i]);
    }
}

static int host_save(void *mp, bool all,
                     int (*put)(void *o, enum bl_kind kind, const char *entity, const void *blob,
                                size_t n),
                     void *o)
{
    struct host_mod *m = mp;
    struct buf b;
    buf_init(&b);
    int rc = 0;
    for (uint32_t i = 0; i < m->nhosts && rc == 0; i++) {
        struct host *h = m->hosts[i];
        if (!all && !(h->flags & HOST_DIRTY))
            continue;
        buf_clear(&b);
        host_write(m, h, &b);
        rc = put(o, BL_HOST, h->id, b.data, b.len);
        if (rc == 0)
            h->flags &= (uint8_t)~HOST_DIRTY;
    }
    buf_free(&b);
    return rc;
}

static uint32_t r32(struct bl_r *r)
{
    uint64_t v = bl_r_u64(r);
    if (v > UINT32_MAX)
        r->bad = true;
    return (uint32_t)v;
}

static bool r_addr(struct bl_r *r, uint8_t out[16])
{
    size_t n;
    const char *s = bl_r_str(r, &n);
    if (r->bad || n != 16) {
        r->bad = true;
        return false;
    }
    memcpy(out, s, 16);
    return true;
}

static int host_load(void *mp, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct host_mod *m = mp;
    size_t idn = entity ? strlen(entity) : 0;
    struct bl_addr ea;
    if (kind != BL_HOST || !idn || !bl_addr_parse(entity, idn, &ea))
        return -EINVAL;
    struct bl_r r;
    bl_r_init(&r, blob, n);
    if (bl_r_u64(&r) != HOST_BLOB_VERSION || r.bad)
        return -EINVAL;
    struct host *h = host_new(entity, idn);
    if (!h)
        return -ENOMEM;
    h->flags = (uint8_t)(r32(&r) & (HOST_SERVER | HOST_RESOLVER));
    h->first = r32(&r);
    h->last = r32(&r);
    h->dns_last = r32(&r);
    h->vol_hour = r32(&r);
    uint64_t nd = bl_r_u64(&r);
    if (r.bad || nd > (uint64_t)(r.end - r.p) / 20 || h->last < h->first)
        goto bad;
    for (uint64_t i = 0; i < nd && !r.bad; i++) {
        struct dest d = {0};
        r_addr(&r, d.addr);
        d.flags = bl_r_u64(&r) ? DEST_V4 : 0;
        uint64_t port = bl_r_u64(&r);
        d.first = r32(&r);
        d.last = r32(&r);
        d.count = r32(&r);
        d.bytes = bl_r_u64(&r);
        if (bl_r_u64(&r))
            d.flags |= DEST_RESOLVED;
        if (r.bad || port > 65535 || d.last < d.first)
            goto bad;
        d.port = (uint16_t)port;
        d.h = dest_hash(d.addr, d.port);
        if (dest_get(h, d.h))
            goto bad;
        struct dest *nd2 = dest_add(m, h, d.h);
        if (!nd2)
            goto bad;
        *nd2 = d;
    }
    uint64_t ndn = bl_r_u64(&r);
    if (r.bad || ndn > (uint64_t)(r.end - r.p) / 3)
        goto bad;
    for (uint64_t i = 0; i < ndn && !r.bad; i++) {
        uint64_t ah = bl_r_u64(&r);
        uint32_t first = r32(&r), last = r32(&r);
        if (r.bad || last < first || dns_get(h, ah))
            goto bad;
        if (dns_touch(m, h, ah, first) < 0 || dns_touch(m, h, ah, last) < 0)
            goto bad;
    }
    bl_series_read(&r, &h->out_h);
    bl_seen_read(&r, &h->protos, m->labels);
    uint64_t np = bl_r_u64(&r);
    if (r.bad || np > (uint64_t)(r.end - r.p) / 24)
        goto bad;
    /* Pairs are checked into a list first, so that a bad blob adds none. */
    struct lp {
        uint8_t addr[16];
        uint8_t v4;
        uint16_t port;
        uint32_t first, last, count, fact_day;
        unsigned n;
        uint32_t t[RING_MAX], sz[RING_MAX];
    } *lps = np ? calloc((size_t)np, sizeof *lps) : NULL;
    if (np && !lps)
        goto bad;
    for (uint64_t i = 0; i < np && !r.bad; i++) {
        struct lp *q = &lps[i];
        r_addr(&r, q->addr);
        q->v4 = bl_r_u64(&r) ? 1 : 0;
        uint64_t port = bl_r_u64(&r);
        q->first = r32(&r);
        q->last = r32(&r);
        q->count = r32(&r);
        q->fact_day = r32(&r);
        uint64_t k = bl_r_u64(&r);
        if (r.bad || port > 65535 || k > RING_MAX || q->last < q->first) {
            r.bad = true;
            break;
        }
        q->port = (uint16_t)port;
        q->n = (unsigned)k;
        uint64_t acc = 0;
        for (unsigned j = 0; j < q->n; j++) {
            uint64_t v = bl_r_u64(&r);
            acc += v;
            if ((j && !v) || acc > UINT32_MAX)
                r.bad = true;
            q->t[j] = (uint32_t)acc;
        }
        for (unsigned j = 0; j < q->n; j++)
            q->sz[j] = r32(&r);
    }
    if (r.bad || r.p != r.end) {
        free(lps);
        goto bad;
    }
    /* Replace a profile of the same host. */
    uint32_t old = bl_idx_get(&m->hidx, h->h);
    if (old != BL_IDX_NONE)
        host_remove(m, old);
    hosts_make_room(m);
    if (m->nhosts == m->caphosts) {
        uint32_t cap = m->caphosts ? m->caphosts * 2 : 64;
        struct host **nh = realloc(m->hosts, cap * sizeof *nh);
        if (!nh) {
            free(lps);
            goto bad;
        }
        m->hosts = nh;
        m->caphosts = cap;
    }
    if (bl_idx_put(&m->hidx, h->h, m->nhosts) < 0) {
        free(lps);
        goto bad;
    }
    uint32_t hi = m->nhosts++;
    m->hosts[hi] = h;
    if (h->flags & HOST_RESOLVER) {
        h->flags &= (uint8_t)~HOST_RESOLVER;
        resolver_add(m, hi);
    }
    for (uint64_t i = np; i-- > 0;) { /* reversed: the list keeps its order */
        struct lp *q = &lps[i];
        bool created;
        struct pair *p = pair_get_or_add(m, hi, q->addr, q->v4, q->port, &created);
        if (!p)
            continue;
        for (unsigned j = 0; j < q->n; j++)
            if (pair_add(p, q->t[j], q->sz[j]) < 0)
                break;
        p->first = q->first;
        p->last = q->last;
        p->count = q->count;
        p->fact_day = q->fact_day;
    }
    free(lps);
    h->flags &= (uint8_t)~HOST_DIRTY;
    return 0;
bad:
    host_free(h);
    return -EINVAL;
}

/* ---- show, age, stats --------------------------------------------------------- */

static int cmp_dest(const void *a, const void *b)
{
    const struct dest *x = *(const struct dest *const *)a, *y = *(const struct dest *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->h < y->h ? -1 : x->h > y->h;
}

/* Whether connections to d were resolved: as recorded, or by an answer
 * read after them (`scan` reads a conn.log before its dns.log: the flag
 * is set as connections come, the answers may come later) that covers
 * its last connection. */
static bool dest_resolved(const struct host_mod *m, const struct host *h, const struct dest *d)
{
    return (d->flags & DEST_RESOLVED) || resolved_for(m, h, addr_hash(d->addr), d->last);
}

static int host_show(void *mp, enum bl_kind kind, const char *entity, struct buf *j)
{
    struct host_mod *m = mp;
    if (kind != BL_HOST || !entity)
        return 0;
    uint32_t hi = host_find(m, entity, strlen(entity), false);
    if (hi == BL_IDX_NONE)
        return 0;
    const struct host *h = m->hosts[hi];
    buf_puts(j, "\"first\":");
    json_put_time(j, (int64_t)NS_PER_SEC * h->first);
    buf_puts(j, ",\"last\":");
    json_put_time(j, (int64_t)NS_PER_SEC * h->last);
    buf_printf(j, ",\"server\":%s,\"resolver\":%s,\"destinations\":%u",
               h->flags & HOST_SERVER ? "true" : "false",
               h->flags & HOST_RESOLVER ? "true" : "false", h->nd);
    uint64_t conns = 0, resolved = 0;
    for (uint32_t i = 0; i < h->nd; i++) {
        conns += h->d[i].count;
        if (dest_resolved(m, h, &h->d[i]))
            resolved += h->d[i].count;
    }
    buf_printf(j, ",\"resolved_share\":%.3f", conns ? (double)resolved / (double)conns : 0.0);
    buf_puts(j, ",\"top_destinations\":[");
    const struct dest **v = h->nd ? malloc(h->nd * sizeof *v) : NULL;
    if (v) {
        for (uint32_t i = 0; i < h->nd; i++)
            v[i] = &h->d[i];
        qsort(v, h->nd, sizeof *v, cmp_dest);
        for (uint32_t i = 0; i < h->nd && i < TOP_SHOWN; i++) {
            char dt[80];
            dest_text(v[i]->addr, v[i]->flags & DEST_V4, v[i]->port, dt);
            buf_puts(j, i ? ",{\"destination\":" : "{\"destination\":");
            json_put_string(j, dt, strlen(dt));
            buf_puts(j, ",\"first\":");
            json_put_time(j, (int64_t)NS_PER_SEC * v[i]->first);
            buf_puts(j, ",\"last\":");
            json_put_time(j, (int64_t)NS_PER_SEC * v[i]->last);
            buf_printf(j, ",\"count\":%u,\"bytes_out\":%llu,\"resolved\":%s}", v[i]->count,
                       (unsigned long long)v[i]->bytes,
                       dest_resolved(m, h, v[i]) ? "true" : "false");
        }
        free(v);
    }
    buf_puts(j, "],\"protocols\":[");
    size_t np;
    struct bl_seen_ent *pe = bl_seen_sorted(&h->protos, &np);
    for (size_t i = 0; i < np; i++) {
        const char *lt = bl_label_text(m->labels, pe[i].label);
        buf_puts(j, i ? ",{\"protocol\":" : "{\"protocol\":");
        json_put_string(j, lt, strlen(lt));
        buf_printf(j, ",\"count\":%u}", pe[i].count);
    }
    free(pe);
    buf_puts(j, "]");
    double p50 = 0, p95 = 0;
    uint32_t hours = bl_series_quantile(&h->out_h, h->last + 3600, 0.5, &p50);
    bl_series_quantile(&h->out_h, h->last + 3600, 0.95, &p95);
    buf_printf(j, ",\"bytes_out_per_hour\":{\"hours\":%u,\"p50\":%.0f,\"p95\":%.0f}", hours, p50,
               p95);
    buf_puts(j, ",\"beacon_pairs\":[");
    unsigned k = 0;
    for (uint32_t pi = h->pair_head; pi != BL_IDX_NONE; pi = m->pairs[pi].hnext) {
        const struct pair *p = &m->pairs[pi];
        if (p->n < 3)
            continue;
        struct beacon b;
        beacon_score(p, &b);
        char dt[80];
        dest_text(p->addr, p->v4, p->port, dt);
        buf_puts(j, k++ ? ",{\"destination\":" : "{\"destination\":");
        json_put_string(j, dt, strlen(dt));
        buf_printf(j, ",\"connections\":%u,\"kept\":%u,\"interval_s\":%u,\"score\":%.3f}", p->count,
                   p->n, b.interval, b.score);
    }
    buf_puts(j, "]");
    return 1;
}

static bool pair_dead(const struct pair *p, uint32_t before)
{
    return p->last < before;
}

static void host_age(void *mp, uint32_t before)
{
    struct host_mod *m = mp;
    for (uint32_t i = m->nhosts; i-- > 0;) {
        struct host *h = m->hosts[i];
        if (h->last < before) {
            host_remove(m, i);
            m->aged++;
            continue;
        }
        uint32_t nd = h->nd, ndn = h->ndn;
        dests_filter(h, dest_recent, before);
        dns_filter(h, before);
        if (nd != h->nd || ndn != h->ndn)
            h->flags |= HOST_DIRTY;
        bl_seen_age(&h->protos, before);
    }
    for (uint32_t i = 0; i < m->cappairs; i++)
        if (m->pairs[i].key && pair_dead(&m->pairs[i], before)) {
            uint32_t hi = m->pairs[i].host;
            if (hi < m->nhosts)
                m->hosts[hi]->flags |= HOST_DIRTY;
            pair_release(m, i);
        }
}

static void host_stats(void *mp, struct bl_module_stats *st)
{
    struct host_mod *m = mp;
    uint64_t bytes = sizeof *m + bl_idx_bytes(&m->hidx) + bl_idx_bytes(&m->pidx) +
                     bl_idx_bytes(&m->pend_by_addr) + (uint64_t)m->caphosts * sizeof(void *) +
                     (uint64_t)m->cappairs * sizeof(struct pair) +
                     (uint64_t)m->pcap * sizeof(struct pending) + 4096;
    for (uint32_t i = 0; i < m->nhosts; i++)
        bytes += host_bytes(m->hosts[i]);
    for (uint32_t i = 0; i < m->cappairs; i++)
        if (m->pairs[i].t)
            bytes += 2u * m->pairs[i].cap * sizeof(uint32_t) + MALLOC_OVERHEAD;
    for (uint32_t s = m->phead; s != m->ptail; s++) {
        const struct pending *p = &m->pend[s & (m->pcap - 1)];
        if (p->file)
            bytes += strlen(p->file) + 1 + MALLOC_OVERHEAD;
    }
    st->entities = m->nhosts;
    st->bytes = bytes;
    st->facts = m->facts;
    st->aged = m->aged;
    st->evicted = m->evicted;
}

const struct bl_module_ops bl_host_module = {
    .name = "host",
    .create = host_create,
    .destroy = host_destroy,
    .on_event = host_on_event,
    .save = host_save,
    .load = host_load,
    .show = host_show,
    .age = host_age,
    .stats = host_stats,
};
