/*
 * intel-set.c - the indicator matcher; see intel-set.h.
 *
 * Layout (what one indicator costs):
 *
 *   ent[]    16 bytes per indicator: its value (an offset into the string
 *            pool, the IPv4 address itself, or an index into the IPv6
 *            address array), its metadata index, the next indicator with
 *            the same value, its warning (an index into the warning names),
 *            type, flags and prefix length.
 *   pool     the values of the string types, NUL-terminated, each once
 *            (indicators that share a value share its bytes).
 *   tables   open addressing with linear probing, at most 80 % full, of
 *            64-bit slots: a 32-bit tag and the head's id + 1 (0: empty).
 *            One table holds every string type (the hash is seeded with the
 *            type); the tag is the upper half of the value's XXH3 hash and
 *            also picks the bucket, so growing needs no rehash of the
 *            values. Addresses live in one table per prefix length in use:
 *            IPv4 with the (masked) address as the tag, so a probe compares
 *            integers only; IPv6 with a hash tag, confirmed against the
 *            address array. A bit map says which prefix lengths hold
 *            anything, so an event's address costs one probe per length in
 *            use (one when the feeds hold only addresses).
 *
 * So a million addresses take about 16 + 8 / 0.6 bytes each and a million
 * domain names 16 + 13 + their length: the figures are in
 * docs/performance.md (bench_intel).
 *
 * Metadata records are copied once per distinct content (a feed's hundred
 * thousand lines share one), their strings interned; warning names too.
 *
 * Event matching (intel_match_event) reads a fixed table of fields; every
 * value is normalised into the matcher's scratch buffer exactly as the
 * indicators were (ioc_normalise), addresses are parsed to bytes; names walk
 * from the full name to their parents. Fields whose indicator types the set
 * does not hold are not even read.
 */
#include "intel/intel-set.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "util/arena.h"
#include "util/timeconv.h"

struct ent {
    uint32_t value;   /* string: pool offset; IPv4: address; IPv6: index into v6 */
    uint32_t meta;    /* index into metas */
    uint32_t next;    /* next indicator with the same value, or INTEL_NONE */
    uint16_t warning; /* 0: none, else index + 1 into warn */
    uint8_t tf;       /* type (low 4 bits), ENT_V6, ENT_DETECT */
    uint8_t plen;     /* IP prefix length */
};
#define ENT_TYPE(e) ((enum ioc_type)((e)->tf & 0x0f))
#define ENT_V6      0x10
#define ENT_DETECT  0x80
_Static_assert(sizeof(struct ent) == 16, "an indicator entry is 16 bytes");
_Static_assert(IOC__COUNT <= 16, "the type fits in 4 bits");

struct htab {
    uint64_t *slot; /* tag << 32 | (id + 1); 0 empty */
    uint32_t mask;
    uint32_t used;
};

struct v6addr {
    uint8_t b[16];
};

struct intel_set {
    struct ent *ent;
    uint32_t nent, capent;
    char *pool;
    size_t npool, cappool;
    struct v6addr *v6;
    uint32_t nv6, capv6;
    struct htab strs;   /* every string type */
    struct htab v4[33]; /* by prefix length */
    struct htab v6t[129];
    uint64_t v4bits; /* prefix lengths in use */
    uint64_t v6bits[3];
    /* metadata */
    struct ioc_meta *metas;
    uint32_t nmetas, capmetas;
    struct htab metatab;
    /* interned strings (metadata, warning names) */
    struct arena sarena;
    const char **istr;
    uint32_t nistr, capistr;
    struct htab itab;
    const char **warn;
    uint32_t nwarn, capwarn;
    struct {
        const char *key; /* a caller's pointer seen before */
        uint16_t idx;
    } wcache[8];
    /* STIX patterns beyond single values: kept for the stream matcher */
    struct intel_pattern *pats;
    size_t npats, cappats;
    struct intel_set_stats st;
};

static inline uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* ---- tables ----------------------------------------------------------- */

/* n zeroed slots. Tables of 2 MiB and more are asked for huge pages:
 * lookups hit random slots, and with 4 KiB pages nearly every probe of a
 * large table also misses the TLB. */
static uint64_t *slots_alloc(uint64_t n)
{
    size_t bytes = (size_t)n * sizeof(uint64_t);
    const size_t huge = 2u << 20;
    if (bytes >= huge) {
        void *p = NULL;
        if (posix_memalign(&p, huge, bytes) == 0) {
            madvise(p, bytes, MADV_HUGEPAGE);
            memset(p, 0, bytes);
            return p;
        }
    }
    return calloc(n, sizeof(uint64_t));
}

/* Make room for one more slot. mix: the bucket is mix32(tag) (IPv4
 * tables, whose tag is the address) rather than the tag itself. */
static int htab_reserve(struct htab *t, bool mix)
{
    if (t->slot && ((uint64_t)t->used + 1) * 5 <= ((uint64_t)t->mask + 1) * 4)
        return 0;
    uint64_t ncap = t->slot ? ((uint64_t)t->mask + 1) * 2 : 16;
    if (ncap > (1ull << 32))
        return -E2BIG;
    uint64_t *ns = slots_alloc(ncap);
    if (!ns)
        return -ENOMEM;
    uint32_t nmask = (uint32_t)(ncap - 1);
    if (t->slot) {
        for (uint64_t i = 0; i <= t->mask; i++) {
            uint64_t x = t->slot[i];
            if (!x)
                continue;
            uint32_t tag = (uint32_t)(x >> 32);
            uint32_t j = (mix ? mix32(tag) : tag) & nmask;
            while (ns[j])
                j = (j + 1) & nmask;
            ns[j] = x;
        }
        free(t->slot);
    }
    t->slot = ns;
    t->mask = nmask;
    return 0;
}

static void htab_put(struct htab *t, uint32_t tag, uint32_t id, bool mix)
{
    uint32_t j = (mix ? mix32(tag) : tag) & t->mask;
    while (t->slot[j])
        j = (j + 1) & t->mask;
    t->slot[j] = (uint64_t)tag << 32 | ((uint64_t)id + 1);
    t->used++;
}

static size_t htab_bytes(const struct htab *t)
{
    return t->slot ? ((size_t)t->mask + 1) * sizeof(uint64_t) : 0;
}

static void *grow_array(void *p, uint32_t *cap, uint64_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    if (need > UINT32_MAX - 1)
        return NULL;
    uint64_t nc = *cap ? (uint64_t)*cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    if (nc > UINT32_MAX - 1)
        nc = UINT32_MAX - 1;
    void *q = realloc(p, nc * elem);
    if (!q)
        return NULL;
    *cap = (uint32_t)nc;
    return q;
}

/* ---- interned strings ------------------------------------------------- */

static bool json_array_text(const char *s)
{
    json_error_t err;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &err);
    bool ok = j && json_is_array(j);
    json_decref(j);
    return ok;
}

/* The set's copy of str (NULL stays NULL). json: str must be a JSON array,
 * else NULL is returned (a reader's bug must not break the alerts' JSON). */
static const char *intern(struct intel_set *s, const char *str, bool json)
{
    if (!str)
        return NULL;
    size_t n = strlen(str);
    uint64_t h = XXH3_64bits(str, n);
    uint32_t tag = (uint32_t)(h >> 32);
    if (s->itab.slot) {
        for (uint32_t j = tag & s->itab.mask;; j = (j + 1) & s->itab.mask) {
            uint64_t x = s->itab.slot[j];
            if (!x)
                break;
            if ((uint32_t)(x >> 32) == tag && !strcmp(s->istr[(uint32_t)x - 1], str))
                return s->istr[(uint32_t)x - 1];
        }
    }
    if (json && !json_array_text(str))
        return NULL;
    if (htab_reserve(&s->itab, false))
        return NULL;
    const char **ni = grow_array(s->istr, &s->capistr, (uint64_t)s->nistr + 1, sizeof(*ni));
    if (!ni)
        return NULL;
    s->istr = ni;
    const char *copy = arena_strndup(&s->sarena, str, n);
    s->istr[s->nistr] = copy;
    htab_put(&s->itab, tag, s->nistr++, false);
    return copy;
}

/* Index + 1 of warning name w in s->warn (0 for NULL), or -ENOMEM /
 * -E2BIG. */
static int warning_index(struct intel_set *s, const char *w)
{
    if (!w)
        return 0;
    unsigned c = (unsigned)(((uintptr_t)w >> 4) & 7);
    /* the pointer is a hint (a freed batch's address may come back with
     * another name): the text decides */
    if (s->wcache[c].key == w && !strcmp(s->warn[s->wcache[c].idx - 1], w))
        return s->wcache[c].idx;
    const char *iw = intern(s, w, false);
    if (!iw)
        return -ENOMEM;
    int idx = 0;
    for (uint32_t i = 0; i < s->nwarn; i++)
        if (s->warn[i] == iw) {
            idx = (int)i + 1;
            break;
        }
    if (!idx) {
        if (s->nwarn >= UINT16_MAX)
            return -E2BIG;
        const char **nw = grow_array(s->warn, &s->capwarn, (uint64_t)s->nwarn + 1, sizeof(*nw));
        if (!nw)
            return -ENOMEM;
        s->warn = nw;
        s->warn[s->nwarn++] = iw;
        idx = (int)s->nwarn;
    }
    s->wcache[c].key = w;
    s->wcache[c].idx = (uint16_t)idx;
    return idx;
}

/* ---- the set ---------------------------------------------------------- */

struct intel_set *intel_set_new(void)
{
    struct intel_set *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    arena_init(&s->sarena, 64 * 1024);
    return s;
}

void intel_set_free(struct intel_set *s)
{
    if (!s)
        return;
    free(s->ent);
    free(s->pool);
    free(s->v6);
    free(s->strs.slot);
    for (int i = 0; i < 33; i++)
        free(s->v4[i].slot);
    for (int i = 0; i < 129; i++)
        free(s->v6t[i].slot);
    free(s->metas);
    free(s->metatab.slot);
    free(s->istr);
    free(s->itab.slot);
    free(s->warn);
    free(s->pats);
    arena_free(&s->sarena);
    free(s);
}

static uint64_t meta_hash(const struct ioc_meta *m)
{
    struct {
        const char *p[6];
        int64_t from, until;
        int32_t conf, tlp, revoked;
    } k;
    memset(&k, 0, sizeof(k));
    k.p[0] = m->feed;
    k.p[1] = m->ref;
    k.p[2] = m->name;
    k.p[3] = m->labels_json;
    k.p[4] = m->kill_chain_json;
    k.p[5] = m->related_json;
    k.from = m->valid_from;
    k.until = m->valid_until;
    k.conf = m->confidence;
    k.tlp = (int32_t)m->tlp;
    k.revoked = m->revoked;
    return XXH3_64bits(&k, sizeof(k));
}

static bool meta_equal(const struct ioc_meta *a, const struct ioc_meta *b)
{
    return a->feed == b->feed && a->ref == b->ref && a->name == b->name &&
           a->labels_json == b->labels_json && a->kill_chain_json == b->kill_chain_json &&
           a->related_json == b->related_json && a->valid_from == b->valid_from &&
           a->valid_until == b->valid_until && a->confidence == b->confidence && a->tlp == b->tlp &&
           a->revoked == b->revoked;
}

uint32_t intel_set_add_meta(struct intel_set *s, const struct ioc_meta *m)
{
    struct ioc_meta c = *m;
    c.feed = intern(s, m->feed, false);
    c.ref = intern(s, m->ref, false);
    c.name = intern(s, m->name, false);
    c.labels_json = intern(s, m->labels_json, true);
    c.kill_chain_json = intern(s, m->kill_chain_json, true);
    c.related_json = intern(s, m->related_json, true);
    if (c.confidence > 100)
        c.confidence = 100;
    if (c.confidence < -1)
        c.confidence = -1;
    uint64_t h = meta_hash(&c);
    uint32_t tag = (uint32_t)(h >> 32);
    if (s->metatab.slot) {
        for (uint32_t j = tag & s->metatab.mask;; j = (j + 1) & s->metatab.mask) {
            uint64_t x = s->metatab.slot[j];
            if (!x)
                break;
            if ((uint32_t)(x >> 32) == tag && meta_equal(&s->metas[(uint32_t)x - 1], &c))
                return (uint32_t)x - 1;
        }
    }
    if (htab_reserve(&s->metatab, false))
        return INTEL_NONE;
    struct ioc_meta *nm = grow_array(s->metas, &s->capmetas, (uint64_t)s->nmetas + 1, sizeof(*nm));
    if (!nm)
        return INTEL_NONE;
    s->metas = nm;
    s->metas[s->nmetas] = c;
    htab_put(&s->metatab, tag, s->nmetas, false);
    s->st.metas++;
    return s->nmetas++;
}

const struct ioc_meta *intel_set_meta(const struct intel_set *s, uint32_t meta_index)
{
    return meta_index < s->nmetas ? &s->metas[meta_index] : NULL;
}

/* A new entry; its value is filled by the caller. Returns its id or
 * INTEL_NONE. */
static uint32_t ent_new(struct intel_set *s, enum ioc_type t, uint32_t meta, bool detect, int warn)
{
    struct ent *ne = grow_array(s->ent, &s->capent, (uint64_t)s->nent + 1, sizeof(*ne));
    if (!ne)
        return INTEL_NONE;
    s->ent = ne;
    uint32_t id = s->nent++;
    struct ent *e = &s->ent[id];
    memset(e, 0, sizeof(*e));
    e->meta = meta;
    e->next = INTEL_NONE;
    e->warning = (uint16_t)warn;
    e->tf = (uint8_t)((unsigned)t | (detect ? ENT_DETECT : 0));
    s->st.indicators++;
    s->st.by_type[t]++;
    return id;
}

/* Add an indicator to the chain of head (same value). Returns 0, 1 (not
 * added: duplicate or over the cap), or a negative errno. */
static int chain_add(struct intel_set *s, uint32_t head, uint32_t meta, bool detect, int warn)
{
    uint32_t last = head;
    unsigned n = 0;
    for (uint32_t id = head; id != INTEL_NONE; id = s->ent[id].next) {
        if (s->ent[id].meta == meta) {
            s->st.duplicates++;
            return 1;
        }
        last = id;
        n++;
    }
    if (n >= INTEL_MAX_PER_VALUE) {
        s->st.over_cap++;
        return 1;
    }
    uint32_t id = ent_new(s, ENT_TYPE(&s->ent[head]), meta, detect, warn);
    if (id == INTEL_NONE)
        return -ENOMEM;
    struct ent *h = &s->ent[head];
    s->ent[id].value = h->value;
    s->ent[id].plen = h->plen;
    s->ent[id].tf |= (uint8_t)(h->tf & ENT_V6);
    s->ent[last].next = id;
    return 0;
}

static uint32_t str_find(const struct intel_set *s, enum ioc_type t, const char *v, size_t n,
                         uint64_t h)
{
    const struct htab *tb = &s->strs;
    if (!tb->slot)
        return INTEL_NONE;
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint32_t j = tag & tb->mask;; j = (j + 1) & tb->mask) {
        uint64_t x = tb->slot[j];
        if (!x)
            return INTEL_NONE;
        if ((uint32_t)(x >> 32) != tag)
            continue;
        uint32_t id = (uint32_t)x - 1;
        const struct ent *e = &s->ent[id];
        const char *p = s->pool + e->value;
        /* strncmp stops at the stored value's NUL: never reads past it */
        if (ENT_TYPE(e) == t && !strncmp(p, v, n) && p[n] == '\0')
            return id;
    }
}

static inline uint64_t str_hash(enum ioc_type t, const char *v, size_t n)
{
    return XXH3_64bits_withSeed(v, n, (uint64_t)t + 1);
}

static inline uint32_t load_be32(const uint8_t *a)
{
    return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static inline uint32_t v4mask(unsigned plen)
{
    return plen ? ~(uint32_t)0 << (32 - plen) : 0;
}

static void v6_apply_mask(const uint8_t *in, unsigned plen, uint8_t *out)
{
    for (unsigned i = 0; i < 16; i++) {
        int bits = (int)plen - (int)i * 8;
        uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        out[i] = in[i] & m;
    }
}

static uint32_t v4_find(const struct intel_set *s, unsigned plen, uint32_t key)
{
    const struct htab *t = &s->v4[plen];
    if (!t->slot)
        return INTEL_NONE;
    for (uint32_t j = mix32(key) & t->mask;; j = (j + 1) & t->mask) {
        uint64_t x = t->slot[j];
        if (!x)
            return INTEL_NONE;
        if ((uint32_t)(x >> 32) == key)
            return (uint32_t)x - 1;
    }
}

static uint32_t v6_find(const struct intel_set *s, unsigned plen, const uint8_t *key, uint64_t h)
{
    const struct htab *t = &s->v6t[plen];
    if (!t->slot)
        return INTEL_NONE;
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint32_t j = tag & t->mask;; j = (j + 1) & t->mask) {
        uint64_t x = t->slot[j];
        if (!x)
            return INTEL_NONE;
        if ((uint32_t)(x >> 32) == tag) {
            uint32_t id = (uint32_t)x - 1;
            if (!memcmp(s->v6[s->ent[id].value].b, key, 16))
                return id;
        }
    }
}

int intel_set_add_ip(struct intel_set *s, const uint8_t *addr, bool v6, unsigned plen,
                     uint32_t meta, bool detect, const char *warning)
{
    if (meta >= s->nmetas || plen > (v6 ? 128u : 32u))
        return -EINVAL;
    if (s->metas[meta].revoked) {
        s->st.revoked++;
        return 1;
    }
    int warn = warning_index(s, warning);
    if (warn < 0)
        return warn;
    if (!v6) {
        uint32_t a = load_be32(addr);
        if (a & ~v4mask(plen))
            return -EINVAL;
        uint32_t head = v4_find(s, plen, a);
        if (head != INTEL_NONE)
            return chain_add(s, head, meta, detect, warn);
        int rc = htab_reserve(&s->v4[plen], true);
        if (rc)
            return rc;
        uint32_t id = ent_new(s, IOC_IP, meta, detect, warn);
        if (id == INTEL_NONE)
            return -ENOMEM;
        s->ent[id].value = a;
        s->ent[id].plen = (uint8_t)plen;
        htab_put(&s->v4[plen], a, id, true);
        s->v4bits |= 1ull << plen;
    } else {
        uint8_t m[16];
        v6_apply_mask(addr, plen, m);
        if (memcmp(m, addr, 16))
            return -EINVAL;
        uint64_t h = XXH3_64bits(m, 16);
        uint32_t head = v6_find(s, plen, m, h);
        if (head != INTEL_NONE)
            return chain_add(s, head, meta, detect, warn);
        int rc = htab_reserve(&s->v6t[plen], false);
        if (rc)
            return rc;
        struct v6addr *na = grow_array(s->v6, &s->capv6, (uint64_t)s->nv6 + 1, sizeof(*na));
        if (!na)
            return -ENOMEM;
        s->v6 = na;
        uint32_t id = ent_new(s, IOC_IP, meta, detect, warn);
        if (id == INTEL_NONE)
            return -ENOMEM;
        memcpy(s->v6[s->nv6].b, m, 16);
        s->ent[id].value = s->nv6++;
        s->ent[id].plen = (uint8_t)plen;
        s->ent[id].tf |= ENT_V6;
        htab_put(&s->v6t[plen], (uint32_t)(h >> 32), id, false);
        s->v6bits[plen / 64] |= 1ull << (plen % 64);
    }
    s->st.values++;
    if (plen != (v6 ? 128u : 32u))
        s->st.networks++;
    return 0;
}

/* Parse an address, "[v6]", or "addr/len" into 16 bytes (IPv4 in the first
 * four); IPv4-mapped IPv6 folds to IPv4. Returns 0 or -EINVAL. */
static int parse_ip(const char *v, size_t n, uint8_t *addr, bool *v6, unsigned *plen)
{
    char tmp[64];
    const char *slash = memchr(v, '/', n);
    const char *a = v;
    size_t alen = slash ? (size_t)(slash - v) : n;
    if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']')
        a++, alen -= 2;
    if (alen == 0 || alen >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, a, alen);
    tmp[alen] = '\0';
    unsigned maxlen;
    if (inet_pton(AF_INET, tmp, addr) == 1) {
        *v6 = false;
        maxlen = 32;
    } else if (inet_pton(AF_INET6, tmp, addr) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        *v6 = true;
        maxlen = 128;
        if (!memcmp(addr, mapped, 12)) {
            memmove(addr, addr + 12, 4);
            *v6 = false;
            maxlen = 32;
        }
    } else {
        return -EINVAL;
    }
    *plen = maxlen;
    if (slash) {
        const char *p = slash + 1;
        size_t k = n - (size_t)(p - v);
        if (k == 0 || k > 3)
            return -EINVAL;
        unsigned x = 0;
        for (size_t i = 0; i < k; i++) {
            if (p[i] < '0' || p[i] > '9')
                return -EINVAL;
            x = x * 10 + (unsigned)(p[i] - '0');
        }
        if (maxlen == 32 && *v6 == false && memchr(tmp, ':', alen)) {
            /* an IPv4-mapped network counts its prefix from the IPv6 side */
            if (x < 96)
                return -EINVAL;
            x -= 96;
        }
        if (x > maxlen)
            return -EINVAL;
        *plen = x;
    }
    return 0;
}

/* A pattern: its text in the string arena, for intel_set_pattern(). */
static int add_pattern(struct intel_set *s, const char *v, size_t n, uint32_t meta, bool detect,
                       const char *warning)
{
    if (s->npats == s->cappats) {
        size_t nc = s->cappats ? s->cappats * 2 : 16;
        struct intel_pattern *np = realloc(s->pats, nc * sizeof(*np));
        if (!np)
            return -ENOMEM;
        s->pats = np;
        s->cappats = nc;
    }
    struct intel_pattern *p = &s->pats[s->npats++];
    p->text = arena_strndup(&s->sarena, v, n);
    p->meta = &s->metas[meta];
    p->meta_id = meta;
    p->detect = detect;
    p->warning = warning ? intern(s, warning, false) : NULL;
    s->st.patterns++;
    return 0;
}

size_t intel_set_npatterns(const struct intel_set *s)
{
    return s->npats;
}

void intel_set_pattern(const struct intel_set *s, size_t i, struct intel_pattern *out)
{
    *out = s->pats[i];
    out->meta = &s->metas[out->meta_id]; /* the metas array may have moved since */
}

int intel_set_add(struct intel_set *s, enum ioc_type t, const char *v, size_t n, uint32_t meta,
                  bool detect, const char *warning)
{
    if ((unsigned)t >= IOC__COUNT || meta >= s->nmetas)
        return -EINVAL;
    if (s->metas[meta].revoked) {
        s->st.revoked++;
        return 1;
    }
    if (t == IOC_PATTERN)
        return add_pattern(s, v, n, meta, detect, warning);
    if (n == 0 || memchr(v, '\0', n))
        return -EINVAL;
    if (t == IOC_IP) {
        uint8_t a[16];
        bool v6;
        unsigned plen;
        if (parse_ip(v, n, a, &v6, &plen))
            return -EINVAL;
        return intel_set_add_ip(s, a, v6, plen, meta, detect, warning);
    }
    int warn = warning_index(s, warning);
    if (warn < 0)
        return warn;
    uint64_t h = str_hash(t, v, n);
    uint32_t head = str_find(s, t, v, n, h);
    if (head != INTEL_NONE)
        return chain_add(s, head, meta, detect, warn);
    if (s->npool + n + 1 > UINT32_MAX)
        return -E2BIG;
    int rc = htab_reserve(&s->strs, false);
    if (rc)
        return rc;
    if (s->npool + n + 1 > s->cappool) {
        size_t nc = s->cappool ? s->cappool * 2 : 64 * 1024;
        while (nc < s->npool + n + 1)
            nc *= 2;
        char *np = realloc(s->pool, nc);
        if (!np)
            return -ENOMEM;
        s->pool = np;
        s->cappool = nc;
    }
    uint32_t id = ent_new(s, t, meta, detect, warn);
    if (id == INTEL_NONE)
        return -ENOMEM;
    s->ent[id].value = (uint32_t)s->npool;
    memcpy(s->pool + s->npool, v, n);
    s->pool[s->npool + n] = '\0';
    s->npool += n + 1;
    htab_put(&s->strs, (uint32_t)(h >> 32), id, false);
    s->st.values++;
    return 0;
}

int intel_set_add_batch(struct intel_set *s, const struct ioc_batch *b)
{
    if (!b->niocs)
        return 0;
    uint32_t *map = malloc((size_t)(b->nmetas ? b->nmetas : 1) * sizeof(*map));
    if (!map)
        return -ENOMEM;
    for (uint32_t i = 0; i < b->nmetas; i++)
        map[i] = INTEL_NONE;
    int rc = 0;
    for (size_t i = 0; i < b->niocs; i++) {
        const struct ioc *c = &b->iocs[i];
        if (c->meta >= b->nmetas || !c->value) {
            s->st.invalid++;
            continue;
        }
        const struct ioc_meta *bm = &b->metas[c->meta];
        if (bm->revoked) {
            s->st.revoked++;
            continue;
        }
        if (map[c->meta] == INTEL_NONE) {
            map[c->meta] = intel_set_add_meta(s, bm);
            if (map[c->meta] == INTEL_NONE) {
                rc = -ENOMEM;
                break;
            }
        }
        int r = intel_set_add(s, c->type, c->value, strlen(c->value), map[c->meta], c->detect,
                              c->warning);
        if (r == -EINVAL) {
            s->st.invalid++;
        } else if (r < 0) {
            rc = r;
            break;
        }
    }
    free(map);
    return rc;
}

void intel_set_compact(struct intel_set *s)
{
    if (s->nent && s->nent < s->capent) {
        struct ent *e = realloc(s->ent, (size_t)s->nent * sizeof(*e));
        if (e) {
            s->ent = e;
            s->capent = s->nent;
        }
    }
    if (s->npool && s->npool < s->cappool) {
        char *p = realloc(s->pool, s->npool);
        if (p) {
            s->pool = p;
            s->cappool = s->npool;
        }
    }
    if (s->nv6 && s->nv6 < s->capv6) {
        struct v6addr *a = realloc(s->v6, (size_t)s->nv6 * sizeof(*a));
        if (a) {
            s->v6 = a;
            s->capv6 = s->nv6;
        }
    }
}

void intel_set_get_stats(const struct intel_set *s, struct intel_set_stats *st)
{
    *st = s->st;
    size_t b = sizeof(*s);
    b += (size_t)s->capent * sizeof(struct ent);
    b += s->cappool;
    b += (size_t)s->capv6 * sizeof(struct v6addr);
    b += htab_bytes(&s->strs);
    for (int i = 0; i < 33; i++)
        b += htab_bytes(&s->v4[i]);
    for (int i = 0; i < 129; i++)
        b += htab_bytes(&s->v6t[i]);
    b += (size_t)s->capmetas * sizeof(struct ioc_meta) + htab_bytes(&s->metatab);
    b += (size_t)s->capistr * sizeof(char *) + htab_bytes(&s->itab) + s->sarena.bytes_used;
    b += (size_t)s->capwarn * sizeof(char *);
    st->bytes = b;
}

uint64_t intel_set_count(const struct intel_set *s)
{
    return s->st.indicators;
}

void intel_set_get(const struct intel_set *s, uint32_t id, struct intel_indicator *out)
{
    const struct ent *e = &s->ent[id];
    out->type = ENT_TYPE(e);
    out->detect = (e->tf & ENT_DETECT) != 0;
    out->meta_index = e->meta;
    out->meta = &s->metas[e->meta];
    out->warning = e->warning ? s->warn[e->warning - 1] : NULL;
    out->plen = e->plen;
    if (out->type != IOC_IP) {
        out->value = s->pool + e->value;
        return;
    }
    bool v6 = (e->tf & ENT_V6) != 0;
    if (v6) {
        inet_ntop(AF_INET6, s->v6[e->value].b, out->buf, sizeof(out->buf));
    } else {
        uint8_t a[4] = {(uint8_t)(e->value >> 24), (uint8_t)(e->value >> 16),
                        (uint8_t)(e->value >> 8), (uint8_t)e->value};
        inet_ntop(AF_INET, a, out->buf, sizeof(out->buf));
    }
    if (e->plen != (v6 ? 128 : 32)) {
        size_t l = strlen(out->buf);
        snprintf(out->buf + l, sizeof(out->buf) - l, "/%u", (unsigned)e->plen);
    }
    out->value = out->buf;
}

uint32_t intel_set_next(const struct intel_set *s, uint32_t id)
{
    return s->ent[id].next;
}

bool intel_set_valid_at(const struct intel_set *s, uint32_t id, int64_t ts_ns)
{
    const struct ioc_meta *m = &s->metas[s->ent[id].meta];
    if (ts_ns == TIME_NONE)
        return m->valid_from == TIME_NONE && m->valid_until == TIME_NONE;
    if (m->valid_from != TIME_NONE && ts_ns < m->valid_from)
        return false;
    if (m->valid_until != TIME_NONE && ts_ns >= m->valid_until)
        return false;
    return true;
}

uint32_t intel_set_find(const struct intel_set *s, enum ioc_type t, const char *v, size_t n)
{
    if ((unsigned)t >= IOC__COUNT || t == IOC_IP || !s->st.by_type[t])
        return INTEL_NONE;
    return str_find(s, t, v, n, str_hash(t, v, n));
}

unsigned intel_set_find_ip(const struct intel_set *s, const uint8_t *addr, bool v6,
                           unsigned max_plen, struct intel_found *out, unsigned max)
{
    unsigned found = 0;
    if (!v6) {
        uint64_t bits = s->v4bits;
        if (max_plen < 32)
            bits &= (2ull << max_plen) - 1;
        uint32_t a = load_be32(addr);
        while (bits) {
            unsigned L = 63u - (unsigned)__builtin_clzll(bits);
            bits &= ~(1ull << L);
            uint32_t id = v4_find(s, L, a & v4mask(L));
            if (id != INTEL_NONE && found < max)
                out[found++] = (struct intel_found){id, (uint16_t)L};
        }
        return found;
    }
    if (max_plen > 128)
        max_plen = 128;
    for (int w = (int)max_plen / 64; w >= 0; w--) {
        uint64_t bits = s->v6bits[w];
        if (w == (int)max_plen / 64 && max_plen % 64 != 63)
            bits &= (2ull << (max_plen % 64)) - 1;
        while (bits) {
            unsigned b = 63u - (unsigned)__builtin_clzll(bits);
            bits &= ~(1ull << b);
            unsigned L = (unsigned)w * 64 + b;
            uint8_t m[16];
            v6_apply_mask(addr, L, m);
            uint32_t id = v6_find(s, L, m, XXH3_64bits(m, 16));
            if (id != INTEL_NONE && found < max)
                out[found++] = (struct intel_found){id, (uint16_t)L};
        }
    }
    return found;
}

unsigned intel_set_find_domain(const struct intel_set *s, const char *name, size_t n,
                               unsigned min_labels, struct intel_found *out, unsigned max)
{
    if (!s->st.by_type[IOC_DOMAIN] || n == 0)
        return 0;
    unsigned labels = 1;
    for (size_t i = 0; i < n; i++)
        labels += name[i] == '.';
    unsigned found = 0;
    const char *p = name;
    size_t k = n;
    for (uint16_t depth = 0;; depth++) {
        uint32_t id = str_find(s, IOC_DOMAIN, p, k, str_hash(IOC_DOMAIN, p, k));
        if (id != INTEL_NONE && found < max)
            out[found++] = (struct intel_found){id, depth};
        const char *dot = memchr(p, '.', k);
        if (!dot || --labels < min_labels || labels == 0)
            break;
        k -= (size_t)(dot + 1 - p);
        p = dot + 1;
    }
    return found;
}

/* ---- matching events -------------------------------------------------- */

/* Values longer than this are not looked up (no indicator is that long). */
#define SCRATCH_BYTES (64 * 1024)

enum look { L_IP, L_DOMAIN, L_URL, L_EMAIL, L_MD5, L_SHA1, L_SHA256, L_FILENAME, L_UA };

/* The fields looked up: the ECS core, and native fields of the sources
 * that have them (docs/intel.md lists them). */
static const struct field_rule {
    const char *name;
    int core;            /* enum core_field, or -1: a native field */
    const char *product; /* native fields: the log source product, or NULL: any */
    enum look how;
} field_rules[] = {
    {"source.ip", CORE_SOURCE_IP, NULL, L_IP},
    {"destination.ip", CORE_DESTINATION_IP, NULL, L_IP},
    {"dns.question.name", CORE_DNS_QUESTION_NAME, NULL, L_DOMAIN},
    {"url.full", CORE_URL_FULL, NULL, L_URL},
    {"email.from.address", CORE_EMAIL_FROM_ADDRESS, NULL, L_EMAIL},
    {"email.to.address", CORE_EMAIL_TO_ADDRESS, NULL, L_EMAIL},
    {"file.hash.md5", CORE_FILE_HASH_MD5, NULL, L_MD5},
    {"file.hash.sha1", CORE_FILE_HASH_SHA1, NULL, L_SHA1},
    {"file.hash.sha256", CORE_FILE_HASH_SHA256, NULL, L_SHA256},
    {"file.name", CORE_FILE_NAME, NULL, L_FILENAME},
    {"host", -1, "zeek", L_DOMAIN},         /* http: the Host header */
    {"server_name", -1, "zeek", L_DOMAIN},  /* ssl: SNI */
    {"helo", -1, "zeek", L_DOMAIN},         /* smtp */
    {"x_originating_ip", -1, "zeek", L_IP}, /* smtp */
    {"user_agent", -1, "zeek", L_UA},       /* http, smtp */
    {"client_hostname", -1, "postfix", L_DOMAIN},
    {"helo", -1, "postfix", L_DOMAIN},
    {"relay_host", -1, "postfix", L_DOMAIN},
    {"UserAgent", -1, "m365", L_UA},         /* Entra ID sign-ins */
    {"ClientInfoString", -1, "m365", L_UA},  /* Exchange mailbox audit */
    {"user_agent.original", -1, NULL, L_UA}, /* ECS, generic JSON */
};
#define NRULES (sizeof(field_rules) / sizeof(field_rules[0]))

/* One lookup an event asks for, queued so that the slots of all the
 * event's lookups are prefetched before any is probed: the probes of a
 * large set miss the cache, and overlapping those misses is what keeps the
 * cost per event nearly flat from ten thousand to a million indicators. */
enum probe_kind { PK_STR, PK_V4, PK_V6 };
struct probe {
    uint8_t kind;
    uint8_t type;    /* PK_STR: enum ioc_type */
    uint8_t plen;    /* PK_V4, PK_V6 */
    uint8_t rule;    /* index into field_rules */
    uint32_t v4;     /* PK_V4: masked address */
    uint64_t h;      /* PK_STR, PK_V6: hash */
    const char *key; /* PK_STR: normalised value (in keys); PK_V6: 16 bytes */
    uint32_t n;
    struct str value; /* the event's value */
};
#define MAX_PROBES 512
/* normalised values of one event; a field that does not fit is not looked up */
#define KEY_BYTES (4 * SCRATCH_BYTES)

struct intel_matcher {
    const struct intel_set *s;
    bool rule_on[NRULES];
    bool any;
    size_t nhits;
    struct intel_hit hits[INTEL_MAX_HITS];
    struct intel_match_stats st;
    struct probe probes[MAX_PROBES];
    size_t nprobes;
    char *keys; /* KEY_BYTES + 64 */
    size_t nkeys;
};

static bool has(const struct intel_set *s, enum ioc_type t)
{
    return s->st.by_type[t] != 0;
}

struct intel_matcher *intel_matcher_new(const struct intel_set *s)
{
    struct intel_matcher *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->keys = malloc(KEY_BYTES + 64);
    if (!m->keys) {
        free(m);
        return NULL;
    }
    m->s = s;
    for (size_t i = 0; i < NRULES; i++) {
        bool on;
        switch (field_rules[i].how) {
        case L_IP:
            on = has(s, IOC_IP);
            break;
        case L_DOMAIN:
            on = has(s, IOC_DOMAIN) || has(s, IOC_IP); /* a name may be an address */
            break;
        case L_URL:
            on = has(s, IOC_URL) || has(s, IOC_DOMAIN) || has(s, IOC_IP);
            break;
        case L_EMAIL:
            on = has(s, IOC_EMAIL) || has(s, IOC_DOMAIN);
            break;
        case L_MD5:
            on = has(s, IOC_MD5);
            break;
        case L_SHA1:
            on = has(s, IOC_SHA1);
            break;
        case L_SHA256:
            on = has(s, IOC_SHA256);
            break;
        case L_FILENAME:
            on = has(s, IOC_FILENAME);
            break;
        case L_UA:
            on = has(s, IOC_USER_AGENT);
            break;
        default:
            on = false;
        }
        m->rule_on[i] = on;
        m->any |= on;
    }
    return m;
}

void intel_matcher_free(struct intel_matcher *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m);
}

void intel_matcher_stats(const struct intel_matcher *m, struct intel_match_stats *st)
{
    *st = m->st;
}

static void add_hit(struct intel_matcher *m, uint32_t head, const char *name, struct str value)
{
    m->st.hits++;
    for (size_t i = 0; i < m->nhits; i++) {
        struct intel_hit *h = &m->hits[i];
        if (h->head != head)
            continue;
        m->st.hits--; /* the same value again: one hit */
        for (unsigned f = 0; f < h->nfields; f++)
            if (h->field[f].name == name)
                return;
        if (h->nfields < INTEL_HIT_FIELDS) {
            h->field[h->nfields].name = name;
            h->field[h->nfields].value = value;
            h->nfields++;
        }
        return;
    }
    if (m->nhits == INTEL_MAX_HITS) {
        m->st.hits--;
        m->st.hits_dropped++;
        return;
    }
    struct intel_hit *h = &m->hits[m->nhits++];
    h->head = head;
    h->nfields = 1;
    h->field[0].name = name;
    h->field[0].value = value;
}

/* A dotted quad, strictly (no leading zeros beyond one digit, 0..255). */
static bool parse_v4_fast(const char *p, size_t n, uint8_t *out)
{
    unsigned part = 0, digits = 0, val = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? p[i] : '.';
        if (c >= '0' && c <= '9') {
            if (digits && val == 0)
                return false;
            val = val * 10 + (unsigned)(c - '0');
            if (++digits > 3 || val > 255)
                return false;
        } else if (c == '.') {
            if (!digits || part > 3)
                return false;
            out[part++] = (uint8_t)val;
            val = digits = 0;
        } else {
            return false;
        }
    }
    return part == 4;
}

/* An event's address: blanks trimmed, "[v6]" and IPv4-mapped IPv6 accepted.
 * No prefix. */
static bool event_ip(const char *p, size_t n, uint8_t *a, bool *v6)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0 || n > 63)
        return false;
    if (parse_v4_fast(p, n, a)) {
        *v6 = false;
        return true;
    }
    if (!memchr(p, ':', n) || memchr(p, '/', n))
        return false;
    unsigned plen;
    return parse_ip(p, n, a, v6, &plen) == 0;
}

/* Room for a normalised value of n bytes in the event's key buffer, or
 * NULL. */
static char *key_room(struct intel_matcher *m, size_t n)
{
    if (n > SCRATCH_BYTES || m->nkeys + n + 64 > KEY_BYTES)
        return NULL;
    return m->keys + m->nkeys;
}

static struct probe *probe_new(struct intel_matcher *m, unsigned rule, struct str v)
{
    if (m->nprobes == MAX_PROBES)
        return NULL;
    struct probe *p = &m->probes[m->nprobes++];
    p->rule = (uint8_t)rule;
    p->value = v;
    m->st.lookups++;
    return p;
}

static void queue_str(struct intel_matcher *m, unsigned rule, struct str v, enum ioc_type t,
                      const char *key, size_t n)
{
    const struct htab *tb = &m->s->strs;
    struct probe *p = probe_new(m, rule, v);
    if (!p)
        return;
    p->kind = PK_STR;
    p->type = (uint8_t)t;
    p->key = key;
    p->n = (uint32_t)n;
    p->h = str_hash(t, key, n);
    __builtin_prefetch(&tb->slot[(uint32_t)(p->h >> 32) & tb->mask]);
}

static void queue_ip(struct intel_matcher *m, unsigned rule, struct str v, const uint8_t *a,
                     bool v6)
{
    const struct intel_set *s = m->s;
    if (!v6) {
        uint32_t x = load_be32(a);
        for (uint64_t bits = s->v4bits; bits;) {
            unsigned L = 63u - (unsigned)__builtin_clzll(bits);
            bits &= ~(1ull << L);
            struct probe *p = probe_new(m, rule, v);
            if (!p)
                return;
            p->kind = PK_V4;
            p->plen = (uint8_t)L;
            p->v4 = x & v4mask(L);
            __builtin_prefetch(&s->v4[L].slot[mix32(p->v4) & s->v4[L].mask]);
        }
        return;
    }
    for (int w = 2; w >= 0; w--) {
        for (uint64_t bits = s->v6bits[w]; bits;) {
            unsigned b = 63u - (unsigned)__builtin_clzll(bits);
            bits &= ~(1ull << b);
            unsigned L = (unsigned)w * 64 + b;
            char *k = key_room(m, 16);
            struct probe *p = k ? probe_new(m, rule, v) : NULL;
            if (!p)
                return;
            v6_apply_mask(a, L, (uint8_t *)k);
            m->nkeys += 16;
            p->kind = PK_V6;
            p->plen = (uint8_t)L;
            p->key = k;
            p->h = XXH3_64bits(k, 16);
            __builtin_prefetch(&s->v6t[L].slot[(uint32_t)(p->h >> 32) & s->v6t[L].mask]);
        }
    }
}

/* The name d[0..n) (normalised, in the key buffer) and its parents of two
 * labels or more. */
static void queue_domain(struct intel_matcher *m, unsigned rule, struct str v, const char *d,
                         size_t n)
{
    unsigned labels = 1;
    for (size_t i = 0; i < n; i++)
        labels += d[i] == '.';
    for (;;) {
        queue_str(m, rule, v, IOC_DOMAIN, d, n);
        const char *dot = memchr(d, '.', n);
        if (!dot || --labels < 2)
            break;
        n -= (size_t)(dot + 1 - d);
        d = dot + 1;
    }
}

/* A host as events write it: a name, an address, either with ":port". */
static void queue_host(struct intel_matcher *m, unsigned rule, struct str v, const char *h,
                       size_t n)
{
    const struct intel_set *s = m->s;
    uint8_t a[16];
    bool v6;
    if (n >= 2 && h[0] == '[') {
        const char *close = memchr(h, ']', n);
        if (close && has(s, IOC_IP) && event_ip(h + 1, (size_t)(close - h - 1), a, &v6))
            queue_ip(m, rule, v, a, v6);
        return;
    }
    const char *colon = memchr(h, ':', n);
    if (colon && memchr(colon + 1, ':', n - (size_t)(colon + 1 - h))) {
        /* more than one colon: a bare IPv6 address */
        if (has(s, IOC_IP) && event_ip(h, n, a, &v6))
            queue_ip(m, rule, v, a, v6);
        return;
    }
    if (colon)
        n = (size_t)(colon - h);
    if (parse_v4_fast(h, n, a)) {
        if (has(s, IOC_IP))
            queue_ip(m, rule, v, a, false);
        return;
    }
    if (!has(s, IOC_DOMAIN) || n > 253 + 2)
        return;
    char *d = key_room(m, n);
    const char *why;
    int dn = d ? ioc_normalise(IOC_DOMAIN, h, n, d, &why) : -1;
    if (dn > 0) {
        m->nkeys += (size_t)dn + 1;
        queue_domain(m, rule, v, d, (size_t)dn);
    }
}

/* v normalised as t into the key buffer; its length, or -1. */
static int normalise_key(struct intel_matcher *m, enum ioc_type t, struct str v, char **out)
{
    char *k = key_room(m, v.n);
    const char *why;
    int n = k ? ioc_normalise(t, v.p, v.n, k, &why) : -1;
    if (n <= 0)
        return -1;
    m->nkeys += (size_t)n + 1;
    *out = k;
    return n;
}

static void queue_exact(struct intel_matcher *m, unsigned rule, enum ioc_type t, struct str v)
{
    char *k;
    int n;
    if (has(m->s, t) && (n = normalise_key(m, t, v, &k)) > 0)
        queue_str(m, rule, v, t, k, (size_t)n);
}

static void queue_field(struct intel_matcher *m, unsigned rule, struct str v)
{
    const struct intel_set *s = m->s;
    char *k;
    int n;
    switch (field_rules[rule].how) {
    case L_IP: {
        uint8_t a[16];
        bool v6;
        if (event_ip(v.p, v.n, a, &v6))
            queue_ip(m, rule, v, a, v6);
        break;
    }
    case L_DOMAIN: {
        const char *p = v.p;
        size_t pn = v.n;
        while (pn && (*p == ' ' || *p == '\t'))
            p++, pn--;
        while (pn && (p[pn - 1] == ' ' || p[pn - 1] == '\t'))
            pn--;
        if (pn)
            queue_host(m, rule, v, p, pn);
        break;
    }
    case L_URL:
        if ((n = normalise_key(m, IOC_URL, v, &k)) <= 0)
            break;
        if (has(s, IOC_URL))
            queue_str(m, rule, v, IOC_URL, k, (size_t)n);
        size_t hl = 0;
        while (hl < (size_t)n && k[hl] != '/' && k[hl] != '?')
            hl++;
        queue_host(m, rule, v, k, hl);
        break;
    case L_EMAIL: {
        if ((n = normalise_key(m, IOC_EMAIL, v, &k)) <= 0)
            break;
        if (has(s, IOC_EMAIL))
            queue_str(m, rule, v, IOC_EMAIL, k, (size_t)n);
        const char *at = memchr(k, '@', (size_t)n);
        if (at && has(s, IOC_DOMAIN)) {
            size_t dl = (size_t)n - (size_t)(at + 1 - k);
            char *d = key_room(m, dl);
            const char *why;
            int dn = d && dl <= 253 + 1 ? ioc_normalise(IOC_DOMAIN, at + 1, dl, d, &why) : -1;
            if (dn > 0) {
                m->nkeys += (size_t)dn + 1;
                queue_domain(m, rule, v, d, (size_t)dn);
            }
        }
        break;
    }
    case L_MD5:
        queue_exact(m, rule, IOC_MD5, v);
        break;
    case L_SHA1:
        queue_exact(m, rule, IOC_SHA1, v);
        break;
    case L_SHA256:
        queue_exact(m, rule, IOC_SHA256, v);
        break;
    case L_FILENAME:
        queue_exact(m, rule, IOC_FILENAME, v);
        break;
    case L_UA:
        queue_exact(m, rule, IOC_USER_AGENT, v);
        break;
    }
}

static void resolve(struct intel_matcher *m)
{
    const struct intel_set *s = m->s;
    for (size_t i = 0; i < m->nprobes; i++) {
        const struct probe *p = &m->probes[i];
        uint32_t id;
        switch (p->kind) {
        case PK_STR:
            id = str_find(s, (enum ioc_type)p->type, p->key, p->n, p->h);
            break;
        case PK_V4:
            id = v4_find(s, p->plen, p->v4);
            break;
        default:
            id = v6_find(s, p->plen, (const uint8_t *)p->key, p->h);
            break;
        }
        if (id != INTEL_NONE)
            add_hit(m, id, field_rules[p->rule].name, p->value);
    }
}

size_t intel_match_event(struct intel_matcher *m, const struct event *ev,
                         const struct intel_hit **hits)
{
    m->nhits = 0;
    m->nprobes = 0;
    m->nkeys = 0;
    m->st.events++;
    *hits = m->hits;
    if (!m->any)
        return 0;
    for (size_t i = 0; i < NRULES; i++) {
        if (!m->rule_on[i])
            continue;
        const struct field_rule *r = &field_rules[i];
        struct str v;
        if (r->core >= 0) {
            v = ev->core[r->core];
        } else {
            if (r->product && (!ev->ls.product || strcmp(ev->ls.product, r->product)))
                continue;
            const struct field *f = event_get(ev, r->name);
            if (!f)
                continue;
            v = f->val;
        }
        if (v.n)
            queue_field(m, (unsigned)i, v);
    }
    resolve(m);
    return m->nhits;
}
