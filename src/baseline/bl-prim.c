/*
 * bl-prim.c - seen-sets, series, hour histograms, addresses, and their
 * serialisation (see bl-prim.h).
 */
#include "baseline/bl-prim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

uint64_t bl_hash(const void *p, size_t n)
{
    uint64_t h = XXH3_64bits(p, n);
    return h ? h : 1; /* 0 marks an empty slot */
}

uint32_t bl_time(int64_t ts_ns)
{
    if (ts_ns <= 0)
        return 0;
    int64_t s = ts_ns / 1000000000;
    return s > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* ---- labels ------------------------------------------------------------- */

void bl_labels_init(struct bl_labels *l, uint32_t limit)
{
    memset(l, 0, sizeof *l);
    strmap_init(&l->map);
    l->limit = limit ? limit : 1u << 22;
}

void bl_labels_free(struct bl_labels *l)
{
    strmap_free(&l->map);
    free(l->text);
    memset(l, 0, sizeof *l);
}

uint32_t bl_label(struct bl_labels *l, const char *s, size_t n)
{
    if (!n)
        return 0;
    uint64_t *slot = strmap_get(&l->map, s, n);
    if (slot)
        return (uint32_t)*slot;
    if (l->n + 1 >= l->limit) {
        l->refused++;
        return 0;
    }
    if (l->n + 2 > l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 256;
        const char **t = realloc(l->text, cap * sizeof *t);
        if (!t) {
            l->refused++;
            return 0;
        }
        l->text = t;
        l->cap = cap;
        if (l->n == 0)
            l->text[l->n++] = ""; /* id 0 */
    }
    slot = strmap_put(&l->map, s, n, NULL);
    uint32_t id = l->n++;
    *slot = id;
    l->text[id] = strmap_key_of(&l->map, slot);
    return id;
}

const char *bl_label_text(const struct bl_labels *l, uint32_t id)
{
    return id && id < l->n ? l->text[id] : "";
}

size_t bl_labels_bytes(const struct bl_labels *l)
{
    return l->map.cap * sizeof(struct strmap_slot) + l->map.keys.bytes_used +
           l->cap * sizeof(char *);
}

/* ---- seen-sets ---------------------------------------------------------- */

void bl_seen_init(struct bl_seen *s, uint32_t limit)
{
    memset(s, 0, sizeof *s);
    s->limit = limit ? limit : 64;
}

void bl_seen_free(struct bl_seen *s)
{
    free(s->slot);
    s->slot = NULL;
    s->n = s->size = 0;
}

static struct bl_seen_ent *seen_find(const struct bl_seen *s, uint64_t h)
{
    if (!s->size)
        return NULL;
    uint32_t mask = s->size - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        struct bl_seen_ent *e = &s->slot[i];
        if (e->h == h)
            return e;
        if (!e->h)
            return NULL;
    }
}

const struct bl_seen_ent *bl_seen_get(const struct bl_seen *s, uint64_t h)
{
    return seen_find(s, h);
}

static void seen_put_raw(struct bl_seen_ent *slot, uint32_t size, const struct bl_seen_ent *e)
{
    uint32_t mask = size - 1;
    uint32_t i = (uint32_t)e->h & mask;
    while (slot[i].h)
        i = (i + 1) & mask;
    slot[i] = *e;
}

static int seen_resize(struct bl_seen *s, uint32_t size)
{
    struct bl_seen_ent *ns = calloc(size, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (uint32_t i = 0; i < s->size; i++)
        if (s->slot[i].h)
            seen_put_raw(ns, size, &s->slot[i]);
    free(s->slot);
    s->slot = ns;
    s->size = size;
    return 0;
}

/* Rebuild without the entries rejected by keep (backward-shift deletion is
 * fiddly; sets are small and removals rare). */
static void seen_filter(struct bl_seen *s, bool (*keep)(const struct bl_seen_ent *, uint32_t),
                        uint32_t arg)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < s->size; i++)
        if (s->slot[i].h && keep(&s->slot[i], arg))
            kept++;
    if (kept == s->n)
        return;
    struct bl_seen_ent *old = s->slot;
    uint32_t osize = s->size;
    /* Reinsert in place: take the live entries out, clear, put back. */
    struct bl_seen_ent *tmp = malloc((kept ? kept : 1) * sizeof *tmp);
    if (!tmp)
        return; /* keep the set as it is */
    uint32_t k = 0;
    for (uint32_t i = 0; i < osize; i++)
        if (old[i].h && keep(&old[i], arg))
            tmp[k++] = old[i];
    memset(old, 0, osize * sizeof *old);
    for (uint32_t i = 0; i < k; i++)
        seen_put_raw(old, osize, &tmp[i]);
    free(tmp);
    s->n = kept;
}

static bool keep_not_oldest(const struct bl_seen_ent *e, uint32_t oldest_h_lo)
{
    return (uint32_t)e->h != oldest_h_lo;
}

static void seen_evict_one(struct bl_seen *s)
{
    const struct bl_seen_ent *old = NULL;
    for (uint32_t i = 0; i < s->size; i++) {
        const struct bl_seen_ent *e = &s->slot[i];
        if (e->h && (!old || e->last < old->last || (e->last == old->last && e->h < old->h)))
            old = e;
    }
    if (!old)
        return;
    /* Filtering by the low 32 bits may take a second entry with them: a
     * rare extra eviction, harmless. */
    seen_filter(s, keep_not_oldest, (uint32_t)old->h);
    if (s->evicted < UINT32_MAX)
        s->evicted++;
}

int bl_seen_touch(struct bl_seen *s, uint64_t h, uint32_t t, uint32_t label,
                  struct bl_seen_ent *prev)
{
    if (!h)
        h = 1;
    struct bl_seen_ent *e = seen_find(s, h);
    if (e) {
        if (prev)
            *prev = *e;
        if (t > e->last)
            e->last = t;
        if (t && (t < e->first || !e->first))
            e->first = t;
        if (e->count < UINT32_MAX)
            e->count++;
        if (!e->label)
            e->label = label;
        return 0;
    }
    if (prev)
        memset(prev, 0, sizeof *prev);
    if (s->n >= s->limit)
        seen_evict_one(s);
    if ((s->n + 1) * 2 > s->size) {
        int rc = seen_resize(s, s->size ? s->size * 2 : 8);
        if (rc < 0)
            return rc;
    }
    struct bl_seen_ent ne = {.h = h, .first = t, .last = t, .count = 1, .label = label};
    seen_put_raw(s->slot, s->size, &ne);
    s->n++;
    return 1;
}

static bool keep_recent(const struct bl_seen_ent *e, uint32_t before)
{
    return e->last >= before;
}

void bl_seen_age(struct bl_seen *s, uint32_t before)
{
    seen_filter(s, keep_recent, before);
}

static int cmp_seen(const void *a, const void *b)
{
    const struct bl_seen_ent *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->h < y->h ? -1 : x->h > y->h;
}

struct bl_seen_ent *bl_seen_sorted(const struct bl_seen *s, size_t *n)
{
    *n = 0;
    if (!s->n)
        return NULL;
    struct bl_seen_ent *v = malloc(s->n * sizeof *v);
    if (!v)
        return NULL;
    size_t k = 0;
    for (uint32_t i = 0; i < s->size; i++)
        if (s->slot[i].h)
            v[k++] = s->slot[i];
    qsort(v, k, sizeof *v, cmp_seen);
    *n = k;
    return v;
}

size_t bl_seen_bytes(const struct bl_seen *s)
{
    return (size_t)s->size * sizeof(struct bl_seen_ent);
}

/* ---- series ------------------------------------------------------------- */

void bl_series_init(struct bl_series *s, uint32_t period, uint32_t cap)
{
    memset(s, 0, sizeof *s);
    s->period = period ? period : 86400;
    s->cap = cap ? cap : 1;
}

void bl_series_free(struct bl_series *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static float *series_slot(const struct bl_series *s, uint32_t p)
{
    return &s->v[p % s->cap];
}

double bl_series_add(struct bl_series *s, uint32_t t, double amount)
{
    uint32_t p = t / s->period;
    if (!s->v) {
        s->v = calloc(s->cap, sizeof *s->v);
        if (!s->v)
            return -1;
    }
    if (!s->n) {
        s->newest = p;
        s->n = 1;
        s->v[p % s->cap] = 0;
    } else if (p > s->newest) {
        uint32_t adv = p - s->newest;
        if (adv >= s->cap) {
            memset(s->v, 0, s->cap * sizeof *s->v);
        } else {
            for (uint32_t q = s->newest + 1; q <= p; q++)
                *series_slot(s, q) = 0;
        }
        uint64_t nn = (uint64_t)s->n + adv;
        s->n = nn > s->cap ? s->cap : (uint32_t)nn;
        s->newest = p;
    } else if (s->newest - p >= s->cap || s->newest - p >= s->n) {
        /* Older than the ring, or before the entity's first period. */
        if (s->newest - p >= s->cap)
            return 0;
        /* Extend history backwards inside the ring. */
        s->n = s->newest - p + 1;
    }
    float *v = series_slot(s, p);
    *v += (float)amount;
    return *v;
}

double bl_series_at(const struct bl_series *s, uint32_t t)
{
    uint32_t p = t / s->period;
    if (!s->n || p > s->newest || s->newest - p >= s->n)
        return 0;
    return *series_slot(s, p);
}

/* The complete periods before t's period, at most cap of them and none
 * before the entity's first period: values into out (cap doubles). */
static uint32_t series_history(const struct bl_series *s, uint32_t t, double *out)
{
    if (!s->n)
        return 0;
    uint32_t p = t / s->period;
    uint32_t oldest = s->newest - (s->n - 1);
    if (p <= oldest)
        return 0;
    uint32_t from = p - oldest > s->cap ? p - s->cap : oldest;
    uint32_t k = 0;
    for (uint32_t q = from; q < p; q++)
        out[k++] = q <= s->newest ? *series_slot(s, q) : 0.0;
    return k;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile_sorted(const double *v, uint32_t n, double q)
{
    if (n == 1)
        return v[0];
    double pos = q * (n - 1);
    uint32_t i = (uint32_t)pos;
    if (i + 1 >= n)
        return v[n - 1];
    double f = pos - i;
    return v[i] + (v[i + 1] - v[i]) * f;
}

uint32_t bl_series_quantile(const struct bl_series *s, uint32_t t, double q, double *out)
{
    double buf[s->cap ? s->cap : 1];
    uint32_t n = series_history(s, t, buf);
    if (!n)
        return 0;
    qsort(buf, n, sizeof *buf, cmp_double);
    *out = quantile_sorted(buf, n, q);
    return n;
}

uint32_t bl_series_median_mad(const struct bl_series *s, uint32_t t, double *median, double *mad)
{
    double buf[s->cap ? s->cap : 1];
    uint32_t n = series_history(s, t, buf);
    if (!n)
        return 0;
    qsort(buf, n, sizeof *buf, cmp_double);
    double m = quantile_sorted(buf, n, 0.5);
    for (uint32_t i = 0; i < n; i++)
        buf[i] = fabs(buf[i] - m);
    qsort(buf, n, sizeof *buf, cmp_double);
    *median = m;
    *mad = quantile_sorted(buf, n, 0.5);
    return n;
}

uint32_t bl_series_active(const struct bl_series *s, uint32_t t)
{
    double buf[s->cap ? s->cap : 1];
    uint32_t n = series_history(s, t, buf), k = 0;
    for (uint32_t i = 0; i < n; i++)
        k += buf[i] != 0;
    return k;
}

size_t bl_series_bytes(const struct bl_series *s)
{
    return s->v ? s->cap * sizeof(float) : 0;
}

/* ---- hours -------------------------------------------------------------- */

void bl_hours_add(struct bl_hours *h, uint32_t t)
{
    unsigned i = bl_weekday(t) * 24 + bl_hour(t);
    if (h->c[i] < UINT16_MAX)
        h->c[i]++;
    if (h->total < UINT32_MAX)
        h->total++;
}

uint32_t bl_hours_near(const struct bl_hours *h, uint32_t t, unsigned width)
{
    if (width >= 12)
        return h->total;
    uint32_t sum = 0;
    int hod = (int)bl_hour(t);
    for (int d = -(int)width; d <= (int)width; d++) {
        int hh = ((hod + d) % 24 + 24) % 24;
        for (unsigned wd = 0; wd < 7; wd++)
            sum += h->c[wd * 24 + (unsigned)hh];
    }
    return sum;
}

uint32_t bl_hours_weekday(const struct bl_hours *h, uint32_t t)
{
    uint32_t sum = 0;
    unsigned wd = bl_weekday(t);
    for (unsigned i = 0; i < 24; i++)
        sum += h->c[wd * 24 + i];
    return sum;
}

/* ---- addresses ---------------------------------------------------------- */

bool bl_addr_parse(const char *s, size_t n, struct bl_addr *a)
{
    char tmp[64];
    if (!n || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    memset(a, 0, sizeof *a);
    struct in_addr v4;
    if (inet_pton(AF_INET, tmp, &v4) == 1) {
        a->b[10] = a->b[11] = 0xff;
        memcpy(a->b + 12, &v4, 4);
        a->v4 = true;
        return true;
    }
    if (inet_pton(AF_INET6, tmp, a->b) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        a->v4 = memcmp(a->b, mapped, 12) == 0;
        return true;
    }
    return false;
}

void bl_addr_text(const struct bl_addr *a, char *out)
{
    if (a->v4)
        inet_ntop(AF_INET, a->b + 12, out, 64);
    else
        inet_ntop(AF_INET6, a->b, out, 64);
}

void bl_addr_net(const struct bl_addr *a, char *out)
{
    struct bl_addr n = *a;
    if (a->v4) {
        n.b[15] = 0;
        inet_ntop(AF_INET, n.b + 12, out, 64);
        strcat(out, "/24");
    } else {
        memset(n.b + 6, 0, 10);
        inet_ntop(AF_INET6, n.b, out, 64);
        strcat(out, "/48");
    }
}

bool bl_addr_is_private(const struct bl_addr *a)
{
    const uint8_t *b = a->b;
    if (a->v4) {
        const uint8_t *q = b + 12;
        return q[0] == 10 || q[0] == 127 || q[0] == 0 || (q[0] == 172 && (q[1] & 0xf0) == 16) ||
               (q[0] == 192 && q[1] == 168) || (q[0] == 169 && q[1] == 254) ||
               (q[0] == 100 && (q[1] & 0xc0) == 64) || q[0] >= 224;
    }
    static const uint8_t zero[16] = {0};
    if (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1))
        return true;                                  /* :: and ::1 */
    return (b[0] & 0xfe) == 0xfc ||                   /* fc00::/7 unique local */
           (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || /* fe80::/10 */
           b[0] == 0xff;                              /* multicast */
}

bool bl_cidr_parse(const char *s, struct bl_cidr *c)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (!bl_addr_parse(s, n, &c->net))
        return false;
    unsigned max = c->net.v4 ? 32 : 128;
    unsigned bits = max;
    if (slash) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || v > max)
            return false;
        bits = (unsigned)v;
    }
    c->bits = c->net.v4 ? bits + 96 : bits;
    /* Clear host bits so that matching is a plain prefix compare. */
    for (unsigned i = c->bits; i < 128; i++)
        c->net.b[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    return true;
}

static bool cidr_match(const struct bl_cidr *c, const struct bl_addr *a)
{
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->net.b, a->b, full))
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (c->net.b[full] & mask) == (a->b[full] & mask);
}

bool bl_cidrs_match(const struct bl_cidrs *l, const struct bl_addr *a)
{
    for (size_t i = 0; i < l->n; i++)
        if (cidr_match(&l->v[i], a))
            return true;
    return false;
}

const char *bl_mail_domain(const char *addr, size_t n, size_t *dn)
{
    for (size_t i = n; i > 0; i--)
        if (addr[i - 1] == '@') {
            *dn = n - i;
            return addr + i;
        }
    *dn = 0;
    return addr + n;
}

/* ---- serialisation ------------------------------------------------------ */

void bl_w_u64(struct buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t k = 0;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        tmp[k++] = (uint8_t)(byte | (v ? 0x80 : 0));
    } while (v);
    buf_append(b, tmp, k);
}

void bl_w_f64(struct buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    uint8_t tmp[8];
    for (int i = 0; i < 8; i++)
        tmp[i] = (uint8_t)(u >> (8 * i));
    buf_append(b, tmp, 8);
}

void bl_w_str(struct buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    bl_w_u64(b, n);
    buf_append(b, s ? s : "", n);
}

uint64_t bl_r_u64(struct bl_r *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = true;
            return 0;
        }
        uint8_t byte = *r->p++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

double bl_r_f64(struct bl_r *r)
{
    if (r->end - r->p < 8) {
        r->bad = true;
        r->p = r->end;
        return 0;
    }
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

const char *bl_r_str(struct bl_r *r, size_t *n)
{
    uint64_t len = bl_r_u64(r);
    if (r->bad || len > (uint64_t)(r->end - r->p)) {
        r->bad = true;
        *n = 0;
        return "";
    }
    const char *s = (const char *)r->p;
    r->p += len;
    *n = (size_t)len;
    return s;
}

uint32_t bl_r_u32(struct bl_r *r)
{
    uint64_t v = bl_r_u64(r);
    if (v > UINT32_MAX) {
        r->bad = true;
        return 0;
    }
    return (uint32_t)v;
}

void bl_seen_write(struct buf *b, const struct bl_seen *s, const struct bl_labels *l)
{
    bl_w_u64(b, s->n);
    bl_w_u64(b, s->evicted);
    for (uint32_t i = 0; i < s->size; i++) {
        const struct bl_seen_ent *e = &s->slot[i];
        if (!e->h)
            continue;
        bl_w_u64(b, e->h);
        bl_w_u64(b, e->first);
        bl_w_u64(b, e->last);
        bl_w_u64(b, e->count);
        bl_w_str(b, bl_label_text(l, e->label));
    }
}

void bl_seen_read(struct bl_r *r, struct bl_seen *s, struct bl_labels *l)
{
    uint64_t n = bl_r_u64(r);
    uint32_t evicted = bl_r_u32(r);
    if (n > (uint64_t)(r->end - r->p)) {
        r->bad = true;
        return;
    }
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        uint64_t h = bl_r_u64(r);
        uint32_t first = bl_r_u32(r), last = bl_r_u32(r), count = bl_r_u32(r);
        size_t ln;
        const char *lt = bl_r_str(r, &ln);
        if (r->bad || !h)
            break;
        if (bl_seen_touch(s, h, first, bl_label(l, lt, ln), NULL) < 0) {
            r->bad = true;
            break;
        }
        struct bl_seen_ent *e = seen_find(s, h);
        if (e) {
            e->first = first;
            e->last = last > first ? last : first;
            e->count = count;
        }
    }
    s->evicted = evicted;
}

void bl_series_write(struct buf *b, const struct bl_series *s)
{
    bl_w_u64(b, s->period);
    bl_w_u64(b, s->newest);
    bl_w_u64(b, s->n);
    for (uint32_t i = 0; i < s->n; i++)
        bl_w_f64(b, *series_slot(s, s->newest - i));
}

void bl_series_read(struct bl_r *r, struct bl_series *s)
{
    uint32_t period = bl_r_u32(r), newest = bl_r_u32(r), n = bl_r_u32(r);
    /* n beyond the ring (or the input) would size the array below from
     * outside data; a newest period whose start does not fit in 32 bits
     * would wrap. */
    if (r->bad || period != s->period || n > s->cap || n > (uint32_t)(r->end - r->p) / 8u + 1u ||
        newest > UINT32_MAX / s->period) {
        r->bad = true;
        return;
    }
    double vals[n ? n : 1];
    for (uint32_t i = 0; i < n; i++) {
        vals[i] = bl_r_f64(r);
        /* totals: not negative, finite, and within the ring's float */
        if (!(vals[i] >= 0 && vals[i] <= FLT_MAX))
            r->bad = true;
    }
    if (r->bad || !n || newest < n - 1)
        return;
    for (uint32_t i = n; i-- > 0;) {
        uint32_t p = newest - i;
        if (bl_series_add(s, p * s->period, vals[i]) < 0) {
            r->bad = true;
            return;
        }
    }
}

void bl_hours_write(struct buf *b, const struct bl_hours *h)
{
    for (unsigned i = 0; i < 168; i++)
        bl_w_u64(b, h->c[i]);
}

void bl_hours_read(struct bl_r *r, struct bl_hours *h)
{
    h->total = 0;
    for (unsigned i = 0; i < 168; i++) {
        uint64_t v = bl_r_u64(r);
        h->c[i] = v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
        h->total += h->c[i];
    }
}
