/*
 * stix-matcher.c - many STIX patterns over a stream of events.
 *
 * Per event, three steps:
 *
 * 1. Prefilter. Each observation expression ("leaf") gets a key at add
 *    time: a set of (property, exact value) pairs from its = and IN tests,
 *    or else the set of event fields its tests read. A leaf can only hold
 *    on an event that has one of its key values (a hash lookup per value of
 *    the indexed properties) or one of its key fields (a posting list per
 *    field). AND takes its most selective operand's key, OR the union: a
 *    test on a missing property is false, so this never loses a match. A
 *    batch of patterns costs, per event, one pass over the event's fields,
 *    a few hash lookups, and the evaluation of the leaves that survive.
 *
 * 2. Evaluation of the surviving leaves (stix-pattern-eval.c).
 *
 * 3. Patterns. A pattern of one observation (OR of observations, with
 *    START/STOP or WITHIN) fires on the spot. A pattern that joins
 *    observations (AND, FOLLOWEDBY, REPEATS) keeps, per leaf, the events
 *    that matched it (time-ordered), and searches for a match that uses the
 *    new event: a depth-first search over the kept events, in
 *    continuation-passing style, that places the new event at one of the
 *    leaves it matched (the "pin") and fills the other leaves with distinct
 *    events under the pattern's constraints: FOLLOWEDBY (every event of the
 *    right operand at or after every event of the left), WITHIN (the span
 *    of the events under the qualifier below the window, turned into time
 *    bounds for each pick), REPEATS (n disjoint solutions of the operand,
 *    enumerated in one canonical order), START/STOP (time bounds). The
 *    events of a match are reported and removed: they never serve the same
 *    pattern twice. A step budget bounds each search (counted when cut).
 *
 * Bounded state: a leaf's events are dropped once no future event can join
 * them, i.e. once they are older than the largest WITHIN window binding
 * the leaf to another leaf (computed from the pattern's tree: the windows
 * above the node where two leaves meet); leaves joined by no window keep
 * their most recent events. Every pattern keeps at most max_kept events
 * (oldest dropped first, counted).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "intel/stix-pattern-impl.h"
#include "util/timeconv.h"

#define NONE32 UINT32_MAX
#define INF_NS INT64_MAX

/* ---- small vectors ------------------------------------------------------ */

struct u32s {
    uint32_t *v;
    uint32_t n, cap;
};

static void u32s_push(struct u32s *a, uint32_t x)
{
    if (a->n == a->cap) {
        uint32_t cap = a->cap ? a->cap * 2 : 8;
        uint32_t *v = realloc(a->v, cap * sizeof(*v));
        if (!v)
            abort();
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
}

/* ---- state --------------------------------------------------------------- */

struct kept {
    uint64_t seq; /* feed order: identifies the event */
    struct stix_evref ev;
};

struct lbuf {
    struct kept *v; /* live: v[head .. n), ordered by ev.ts_ns */
    uint32_t head, n, cap;
};

struct pstate {
    const struct stix_pattern *p;
    void *user;
    uint32_t gleaf0;   /* its first leaf in the matcher's leaf table */
    struct lbuf *bufs; /* per leaf (stateful patterns) */
    int64_t *horizon;  /* per leaf: ns a kept event stays useful, INF_NS, or -1 */
    uint32_t kept;
    bool active; /* in the matcher's active list */
};

struct gleaf {
    uint32_t pat, leaf;
    uint32_t stamp; /* last event it was a candidate for */
    bool timed;     /* under START/STOP: */
    int64_t start_ns, stop_ns;
};

/* Value index: (property, canonical value) -> leaves. */
struct ventry {
    uint64_t h;
    uint32_t prop;
    uint32_t n;
    char *text;
    uint32_t post; /* first posting, NONE32 */
};
struct posting {
    uint32_t gleaf, next;
};

struct stix_matcher {
    struct stix_matcher_opts o;
    struct sp_ctx ctx;
    struct pstate *pats;
    uint32_t npats, cappats;
    struct gleaf *gl;
    uint32_t ngl, capgl;
    uint32_t stamp;
    struct u32s field_post[SP_MAX_FIELDS];
    struct u32s always;
    struct ventry *vt; /* open addressing, capvt a power of two */
    uint32_t nvt, capvt;
    struct posting *posts;
    uint32_t nposts, capposts;
    struct u32s vprops;          /* properties with value keys */
    uint64_t (*vprop_fields)[2]; /* the fields of each */
    uint64_t vprop_mask[2];      /* their fields */
    struct u32s cand, hits;      /* per-event scratch */
    struct u32s active;          /* patterns holding kept events */
    char **files;                /* interned file names (open addressing) */
    uint32_t nfiles, capfiles;
    const char *last_file_in, *last_file;
    int64_t clock; /* latest event time seen */
    uint64_t seq;
    uint32_t since_sweep;
    struct stix_matcher_stats st;
    /* search scratch */
    struct chosen *ch;
    uint32_t capch;
};

/* ---- construction --------------------------------------------------------- */

struct stix_matcher *stix_matcher_new(const struct stix_matcher_opts *o)
{
    struct stix_matcher *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    if (o)
        m->o = *o;
    if (!m->o.max_kept)
        m->o.max_kept = 10000;
    if (!m->o.search_budget)
        m->o.search_budget = 10000;
    sp_ctx_init(&m->ctx);
    m->clock = TIME_NONE;
    return m;
}

static void lbuf_free(struct lbuf *b)
{
    free(b->v);
    memset(b, 0, sizeof(*b));
}

void stix_matcher_free(struct stix_matcher *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->npats; i++) {
        struct pstate *ps = &m->pats[i];
        if (ps->bufs)
            for (uint32_t l = 0; l < ps->p->nleaves; l++)
                lbuf_free(&ps->bufs[l]);
        free(ps->bufs);
        free(ps->horizon);
    }
    free(m->pats);
    free(m->gl);
    for (int f = 0; f < SP_MAX_FIELDS; f++)
        free(m->field_post[f].v);
    free(m->always.v);
    for (uint32_t i = 0; i < m->capvt; i++)
        free(m->vt[i].text);
    free(m->vt);
    free(m->posts);
    free(m->vprops.v);
    free(m->vprop_fields);
    free(m->cand.v);
    free(m->hits.v);
    free(m->active.v);
    for (uint32_t i = 0; i < m->capfiles; i++)
        free(m->files[i]);
    free(m->files);
    free(m->ch);
    sp_ctx_free(&m->ctx);
    free(m);
}

void stix_matcher_stats(const struct stix_matcher *m, struct stix_matcher_stats *out)
{
    *out = m->st;
    out->regex_limited = m->ctx.regex_limited;
}

/* ---- the value index ------------------------------------------------------ */

static uint64_t vhash(uint32_t prop, const char *s, size_t n)
{
    return XXH3_64bits_withSeed(s, n, prop + 1);
}

static void vt_grow(struct stix_matcher *m)
{
    uint32_t cap = m->capvt ? m->capvt * 2 : 1024;
    struct ventry *nv = calloc(cap, sizeof(*nv));
    if (!nv)
        abort();
    for (uint32_t i = 0; i < m->capvt; i++) {
        struct ventry *e = &m->vt[i];
        if (!e->text)
            continue;
        uint32_t j = (uint32_t)e->h & (cap - 1);
        while (nv[j].text)
            j = (j + 1) & (cap - 1);
        nv[j] = *e;
    }
    free(m->vt);
    m->vt = nv;
    m->capvt = cap;
}

static struct ventry *vt_find(const struct stix_matcher *m, uint32_t prop, const char *s, size_t n,
                              uint64_t h)
{
    if (!m->capvt)
        return NULL;
    uint32_t j = (uint32_t)h & (m->capvt - 1);
    while (m->vt[j].text) {
        struct ventry *e = &m->vt[j];
        if (e->h == h && e->prop == prop && e->n == n && !memcmp(e->text, s, n))
            return e;
        j = (j + 1) & (m->capvt - 1);
    }
    return NULL;
}

static void vt_add(struct stix_matcher *m, uint32_t prop, const char *s, size_t n, uint32_t gleaf)
{
    uint64_t h = vhash(prop, s, n);
    struct ventry *e = vt_find(m, prop, s, n, h);
    if (!e) {
        if ((m->nvt + 1) * 2 > m->capvt)
            vt_grow(m);
        uint32_t j = (uint32_t)h & (m->capvt - 1);
        while (m->vt[j].text)
            j = (j + 1) & (m->capvt - 1);
        e = &m->vt[j];
        e->h = h;
        e->prop = prop;
        e->n = (uint32_t)n;
        e->text = malloc(n + 1);
        if (!e->text)
            abort();
        memcpy(e->text, s, n);
        e->text[n] = '\0';
        e->post = NONE32;
        m->nvt++;
    }
    /* one posting per leaf and value */
    for (uint32_t q = e->post; q != NONE32; q = m->posts[q].next)
        if (m->posts[q].gleaf == gleaf)
            return;
    if (m->nposts == m->capposts) {
        uint32_t cap = m->capposts ? m->capposts * 2 : 1024;
        struct posting *np = realloc(m->posts, cap * sizeof(*np));
        if (!np)
            abort();
        m->posts = np;
        m->capposts = cap;
    }
    m->posts[m->nposts] = (struct posting){gleaf, e->post};
    e->post = m->nposts++;
    bool known = false;
    for (uint32_t i = 0; i < m->vprops.n; i++)
        known |= m->vprops.v[i] == prop;
    if (!known) {
        u32s_push(&m->vprops, prop);
        uint64_t(*nf)[2] = realloc(m->vprop_fields, m->vprops.cap * sizeof(*nf));
        if (!nf)
            abort();
        m->vprop_fields = nf;
        uint64_t *fm = m->vprop_fields[m->vprops.n - 1];
        sp_prop_fields(prop, fm);
        m->vprop_mask[0] |= fm[0];
        m->vprop_mask[1] |= fm[1];
    }
}

/* ---- leaf keys ------------------------------------------------------------- */

/* A necessary condition for a comparison tree: KEY_NEVER (cannot hold),
 * KEY_ANY (no usable key), or a set of value keys plus a field mask. */
enum { KEY_SET, KEY_NEVER, KEY_ANY };
struct vkey {
    uint32_t test, cidx; /* the constant p->consts[cidx] of test */
};
struct key {
    int kind;
    uint64_t fields[2];
    struct vkey *v;
    uint32_t nv, capv;
};

static void key_free(struct key *k)
{
    free(k->v);
    memset(k, 0, sizeof(*k));
}

static void key_addv(struct key *k, uint32_t test, uint32_t cidx)
{
    if (k->nv == k->capv) {
        uint32_t cap = k->capv ? k->capv * 2 : 8;
        struct vkey *nv = realloc(k->v, cap * sizeof(*nv));
        if (!nv)
            abort();
        k->v = nv;
        k->capv = cap;
    }
    k->v[k->nv++] = (struct vkey){test, cidx};
}

static int popcount2(const uint64_t f[2])
{
    return __builtin_popcountll(f[0]) + __builtin_popcountll(f[1]);
}

/* Cost of a key for choosing among AND operands: value keys are far more
 * selective than fields. */
static uint64_t key_cost(const struct key *k)
{
    if (k->kind == KEY_NEVER)
        return 0;
    if (k->kind == KEY_ANY)
        return UINT64_MAX;
    if (popcount2(k->fields) == 0)
        return k->nv;
    return 1000000ull + (uint64_t)popcount2(k->fields) * 1000 + k->nv;
}

static void key_of(const struct stix_pattern *p, uint32_t ci, struct key *out)
{
    memset(out, 0, sizeof(*out));
    const struct sp_cnode *c = &p->cn[ci];
    if (c->kind == CN_TEST) {
        const struct sp_test *t = &p->tests[c->a];
        if (t->prop == SP_PROP_NONE || t->index == SP_INDEX_BAD) {
            out->kind = KEY_NEVER;
            return;
        }
        const struct sp_prop *pr = &sp_props[t->prop];
        if (t->op == OP_EXISTS && t->negated) {
            /* the type is there without the property: any of its fields */
            for (uint32_t i = 0; i < sp_nprops; i++)
                if (sp_props[i].otype == t->otype) {
                    uint64_t fm[2];
                    sp_prop_fields(i, fm);
                    out->fields[0] |= fm[0];
                    out->fields[1] |= fm[1];
                }
            return;
        }
        if ((t->op == OP_EQ || t->op == OP_IN) && !t->negated) {
            bool all = true;
            char buf[64];
            struct sp_val kv;
            for (uint32_t i = 0; i < t->nc && all; i++)
                all = sp_const_key(pr, &p->consts[t->c0 + i], buf, sizeof(buf), &kv);
            if (all) {
                for (uint32_t i = 0; i < t->nc; i++)
                    key_addv(out, c->a, t->c0 + i);
                if (!t->nc)
                    out->kind = KEY_NEVER; /* IN () */
                return;
            }
        }
        sp_prop_fields(t->prop, out->fields);
        if (!popcount2(out->fields))
            out->kind = KEY_NEVER;
        return;
    }
    if (c->kind == CN_OR) {
        out->kind = KEY_NEVER;
        for (uint32_t k = 0; k < c->n; k++) {
            struct key sub;
            key_of(p, p->ckids[c->a + k], &sub);
            if (sub.kind == KEY_ANY) {
                key_free(out);
                key_free(&sub);
                out->kind = KEY_ANY;
                return;
            }
            if (sub.kind == KEY_SET) {
                out->kind = KEY_SET;
                out->fields[0] |= sub.fields[0];
                out->fields[1] |= sub.fields[1];
                for (uint32_t i = 0; i < sub.nv; i++)
                    key_addv(out, sub.v[i].test, sub.v[i].cidx);
            }
            key_free(&sub);
        }
        return;
    }
    /* AND: the cheapest operand */
    out->kind = KEY_ANY;
    uint64_t best = UINT64_MAX;
    for (uint32_t k = 0; k < c->n; k++) {
        struct key sub;
        key_of(p, p->ckids[c->a + k], &sub);
        uint64_t cost = key_cost(&sub);
        if (cost < best || (k == 0 && out->kind == KEY_ANY && sub.kind != KEY_ANY)) {
            best = cost;
            key_free(out);
            *out = sub;
            if (out->kind == KEY_NEVER)
                return;
        } else {
            key_free(&sub);
        }
    }
}

/* ---- horizons ------------------------------------------------------------- */

static uint32_t depth_of(const struct stix_pattern *p, uint32_t n)
{
    uint32_t d = 0;
    while (p->on[n].parent != NONE32)
        n = p->on[n].parent, d++;
    return d;
}

static uint32_t lca(const struct stix_pattern *p, uint32_t a, uint32_t b)
{
    uint32_t da = depth_of(p, a), db = depth_of(p, b);
    while (da > db)
        a = p->on[a].parent, da--;
    while (db > da)
        b = p->on[b].parent, db--;
    while (a != b)
        a = p->on[a].parent, b = p->on[b].parent;
    return a;
}

static uint32_t repeats_above(const struct stix_pattern *p, uint32_t n, bool inclusive)
{
    if (!inclusive)
        n = p->on[n].parent;
    for (; n != NONE32; n = p->on[n].parent)
        if (p->on[n].kind == ON_REPEATS)
            return n;
    return NONE32;
}

/* The smallest WITHIN window at or above node n, INF_NS if none. */
static int64_t window_above(const struct stix_pattern *p, uint32_t n)
{
    int64_t w = INF_NS;
    for (; n != NONE32; n = p->on[n].parent)
        if (p->on[n].kind == ON_WITHIN && p->on[n].within_ns < w)
            w = p->on[n].within_ns;
    return w;
}

/* horizon[l]: how long an event of leaf l can still join a future event;
 * -1 when leaf l joins no other leaf (it only ever matches alone). */
static void compute_horizons(const struct stix_pattern *p, int64_t *h)
{
    for (uint32_t l = 0; l < p->nleaves; l++)
        h[l] = -1;
    for (uint32_t a = 0; a < p->nleaves; a++)
        for (uint32_t b = a; b < p->nleaves; b++) {
            uint32_t na = p->leaves[a].onode, nb = p->leaves[b].onode;
            uint32_t meet;
            if (a == b) {
                meet = repeats_above(p, na, false);
            } else {
                meet = lca(p, na, nb);
                if (p->on[meet].kind == ON_OR)
                    meet = repeats_above(p, meet, false);
            }
            if (meet == NONE32)
                continue;
            int64_t w = window_above(p, meet);
            if (w > h[a])
                h[a] = w;
            if (w > h[b])
                h[b] = w;
        }
}

/* ---- adding a pattern ------------------------------------------------------- */

int stix_matcher_add(struct stix_matcher *m, const struct stix_pattern *p, void *user)
{
    if (p->min_obs > m->o.max_kept)
        return -E2BIG;
    if (m->npats == m->cappats) {
        uint32_t cap = m->cappats ? m->cappats * 2 : 64;
        struct pstate *np = realloc(m->pats, cap * sizeof(*np));
        if (!np)
            return -ENOMEM;
        m->pats = np;
        m->cappats = cap;
    }
    struct pstate *ps = &m->pats[m->npats];
    memset(ps, 0, sizeof(*ps));
    ps->p = p;
    ps->user = user;
    ps->gleaf0 = m->ngl;
    if (p->stateful) {
        ps->bufs = calloc(p->nleaves, sizeof(*ps->bufs));
        ps->horizon = malloc(p->nleaves * sizeof(*ps->horizon));
        if (!ps->bufs || !ps->horizon)
            abort();
        compute_horizons(p, ps->horizon);
    }
    for (uint32_t l = 0; l < p->nleaves; l++) {
        if (m->ngl == m->capgl) {
            uint32_t cap = m->capgl ? m->capgl * 2 : 256;
            struct gleaf *ng = realloc(m->gl, cap * sizeof(*ng));
            if (!ng)
                abort();
            m->gl = ng;
            m->capgl = cap;
        }
        uint32_t g = m->ngl++;
        const struct sp_leaf *L = &p->leaves[l];
        m->gl[g] = (struct gleaf){m->npats,    l,
                                  0,           L->start_ns != INT64_MIN || L->stop_ns != INT64_MAX,
                                  L->start_ns, L->stop_ns};
        struct key k;
        key_of(p, p->leaves[l].croot, &k);
        if (m->o.no_prefilter) {
            key_free(&k);
            k.kind = KEY_ANY;
        }
        if (k.kind == KEY_ANY) {
            u32s_push(&m->always, g);
        } else if (k.kind == KEY_SET) {
            for (uint32_t i = 0; i < k.nv; i++) {
                const struct sp_test *t = &p->tests[k.v[i].test];
                char buf[64];
                struct sp_val kv;
                if (sp_const_key(&sp_props[t->prop], &p->consts[k.v[i].cidx], buf, sizeof(buf),
                                 &kv))
                    vt_add(m, t->prop, kv.p, kv.n, g);
            }
            for (uint32_t f = 0; f < SP_MAX_FIELDS; f++)
                if (k.fields[f / 64] & (1ull << (f % 64)))
                    u32s_push(&m->field_post[f], g);
        }
        key_free(&k);
    }
    m->npats++;
    m->st.patterns++;
    return 0;
}

/* ---- interned file names ----------------------------------------------------- */

static const char *intern_file(struct stix_matcher *m, const char *f)
{
    if (!f)
        return NULL;
    if (f == m->last_file_in && m->last_file && !strcmp(f, m->last_file))
        return m->last_file;
    size_t n = strlen(f);
    uint64_t h = XXH3_64bits(f, n);
    if ((m->nfiles + 1) * 2 > m->capfiles) {
        uint32_t cap = m->capfiles ? m->capfiles * 2 : 64;
        char **nf = calloc(cap, sizeof(*nf));
        if (!nf)
            abort();
        for (uint32_t i = 0; i < m->capfiles; i++)
            if (m->files[i]) {
                uint32_t j = (uint32_t)XXH3_64bits(m->files[i], strlen(m->files[i])) & (cap - 1);
                while (nf[j])
                    j = (j + 1) & (cap - 1);
                nf[j] = m->files[i];
            }
        free(m->files);
        m->files = nf;
        m->capfiles = cap;
    }
    uint32_t j = (uint32_t)h & (m->capfiles - 1);
    while (m->files[j] && strcmp(m->files[j], f))
        j = (j + 1) & (m->capfiles - 1);
    if (!m->files[j]) {
        m->files[j] = strdup(f);
        if (!m->files[j])
            abort();
        m->nfiles++;
    }
    m->last_file_in = f;
    m->last_file = m->files[j];
    return m->files[j];
}

/* ---- kept events ------------------------------------------------------------- */

static void lbuf_compact(struct lbuf *b)
{
    if (b->head > 64 && b->head * 2 > b->n) {
        memmove(b->v, b->v + b->head, (b->n - b->head) * sizeof(*b->v));
        b->n -= b->head;
        b->head = 0;
    }
}

static void lbuf_insert(struct lbuf *b, const struct kept *k)
{
    lbuf_compact(b);
    if (b->n == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 16;
        struct kept *nv = realloc(b->v, cap * sizeof(*nv));
        if (!nv)
            abort();
        b->v = nv;
        b->cap = cap;
    }
    uint32_t i = b->n;
    while (i > b->head && b->v[i - 1].ev.ts_ns > k->ev.ts_ns)
        i--;
    memmove(b->v + i + 1, b->v + i, (b->n - i) * sizeof(*b->v));
    b->v[i] = *k;
    b->n++;
}

static uint32_t lbuf_count(const struct lbuf *b)
{
    return b->n - b->head;
}

/* Remove the entries whose seq is in seqs[0..n) (sorted); returns how many. */
static uint32_t lbuf_remove_seqs(struct lbuf *b, const uint64_t *seqs, uint32_t n)
{
    uint32_t o = b->head, removed = 0;
    for (uint32_t i = b->head; i < b->n; i++) {
        uint64_t s = b->v[i].seq;
        uint32_t lo = 0, hi = n;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (seqs[mid] < s)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n && seqs[lo] == s) {
            removed++;
            continue;
        }
        b->v[o++] = b->v[i];
    }
    b->n = o;
    return removed;
}

static bool drop_oldest(struct stix_matcher *m, struct pstate *ps)
{
    struct lbuf *best = NULL;
    for (uint32_t l = 0; l < ps->p->nleaves; l++) {
        struct lbuf *b = &ps->bufs[l];
        if (lbuf_count(b) && (!best || b->v[b->head].ev.ts_ns < best->v[best->head].ev.ts_ns))
            best = b;
    }
    if (!best)
        return false;
    best->head++;
    ps->kept--;
    m->st.kept--;
    m->st.dropped++;
    return true;
}

static void expire(struct stix_matcher *m, struct pstate *ps)
{
    if (m->clock == TIME_NONE)
        return;
    for (uint32_t l = 0; l < ps->p->nleaves; l++) {
        struct lbuf *b = &ps->bufs[l];
        int64_t h = ps->horizon[l];
        if (h == INF_NS)
            continue;
        while (b->head < b->n && (h < 0 || m->clock - b->v[b->head].ev.ts_ns >= h)) {
            b->head++;
            ps->kept--;
            m->st.kept--;
            m->st.expired++;
        }
        if (b->head == b->n)
            b->head = b->n = 0;
    }
}

/* ---- the search ---------------------------------------------------------------- */

struct chosen {
    uint64_t seq;
    int64_t ts;
    uint32_t leaf, idx;
};

struct win {
    uint32_t start;
    int64_t w;
};

#define MAX_WINS (STIX_PATTERN_MAX_DEPTH * 4)

struct search {
    struct stix_matcher *m;
    struct pstate *ps;
    const struct stix_pattern *p;
    struct chosen *ch;
    uint32_t n, cap;
    uint32_t pin_leaf;
    uint64_t pin_seq;
    bool pin_placed;
    int64_t budget;
    bool cut;
    struct win wins[MAX_WINS];
    uint32_t nwins;
    uint32_t rep_at;    /* a repetition starts at ch[rep_at] ... */
    uint64_t rep_bound; /* ... and its first event must have seq < rep_bound */
};

struct frame;
typedef bool (*kont)(struct search *s, const struct frame *f);
struct frame {
    kont fn;
    const struct frame *next;
    uint32_t node, i, start;
    int64_t lo, hi;
    uint32_t saved_at;
    uint64_t saved_bound;
};

static bool solve(struct search *s, uint32_t node, int64_t lo, int64_t hi, const struct frame *k);

static bool call(struct search *s, const struct frame *k)
{
    return k->fn(s, k);
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static bool k_final(struct search *s, const struct frame *f)
{
    (void)f;
    return s->pin_placed;
}

static bool k_check_pin(struct search *s, const struct frame *f)
{
    return s->pin_placed && call(s, f->next);
}

static bool chosen_has(const struct search *s, uint64_t seq)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->ch[i].seq == seq)
            return true;
    return false;
}

static void push(struct search *s, const struct kept *k, uint32_t leaf, uint32_t idx)
{
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 64;
        struct chosen *nc = realloc(s->ch, cap * sizeof(*nc));
        if (!nc)
            abort();
        s->ch = nc;
        s->cap = cap;
    }
    s->ch[s->n++] = (struct chosen){k->seq, k->ev.ts_ns, leaf, idx};
}

static bool solve_leaf(struct search *s, const struct sp_onode *o, int64_t lo, int64_t hi,
                       const struct frame *k)
{
    uint32_t leaf = o->a;
    struct lbuf *b = &s->ps->bufs[leaf];
    /* the open WITHIN windows bound this pick: every event under a window
     * lies in (latest - w, earliest + w) */
    for (uint32_t w = 0; w < s->nwins; w++) {
        if (s->n <= s->wins[w].start)
            continue;
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        for (uint32_t i = s->wins[w].start; i < s->n; i++) {
            if (s->ch[i].ts < mn)
                mn = s->ch[i].ts;
            if (s->ch[i].ts > mx)
                mx = s->ch[i].ts;
        }
        int64_t wl = sat_add(sat_add(mx, -s->wins[w].w), 1), wh = sat_add(mn, s->wins[w].w);
        if (wl > lo)
            lo = wl;
        if (wh < hi)
            hi = wh;
    }
    if (lo >= hi)
        return false;
    bool pinned_here = leaf == s->pin_leaf && !s->pin_placed && !o->under_repeats;
    /* the first entry at or after hi */
    uint32_t a = b->head, z = b->n;
    while (a < z) {
        uint32_t mid = a + (z - a) / 2;
        if (b->v[mid].ev.ts_ns < hi)
            a = mid + 1;
        else
            z = mid;
    }
    for (uint32_t i = a; i-- > b->head;) {
        const struct kept *e = &b->v[i];
        if (e->ev.ts_ns < lo)
            break;
        bool is_pin = e->seq == s->pin_seq;
        if (pinned_here && !is_pin)
            continue; /* the pin's leaf (picked once) takes the pinned event */
        if (is_pin && leaf != s->pin_leaf)
            continue; /* the pinned event serves at its leaf only */
        if (s->n == s->rep_at && e->seq >= s->rep_bound)
            continue;
        if (chosen_has(s, e->seq))
            continue;
        if (--s->budget < 0) {
            s->cut = true;
            return false;
        }
        push(s, e, leaf, i);
        bool placed = is_pin && !s->pin_placed;
        if (placed)
            s->pin_placed = true;
        if (call(s, k))
            return true; /* the solution stays in s->ch */
        s->n--;
        if (placed)
            s->pin_placed = false;
        if (s->cut)
            return false;
        if (pinned_here)
            break;
    }
    return false;
}

static int64_t max_ts(const struct search *s, uint32_t from)
{
    int64_t mx = INT64_MIN;
    for (uint32_t i = from; i < s->n; i++)
        if (s->ch[i].ts > mx)
            mx = s->ch[i].ts;
    return mx;
}

/* After operand i of an AND / FOLLOWEDBY: solve operand i + 1. */
static bool k_seq(struct search *s, const struct frame *f)
{
    const struct sp_onode *o = &s->p->on[f->node];
    uint32_t i = f->i + 1;
    if (i == o->n)
        return call(s, f->next);
    int64_t lo = f->lo;
    if (o->kind == ON_FOLLOWEDBY && s->n > f->start) {
        int64_t mx = max_ts(s, f->start);
        if (mx > lo)
            lo = mx;
    }
    struct frame g = *f;
    g.i = i;
    return solve(s, s->p->okids[o->a + i], lo, f->hi, &g);
}

static bool k_within(struct search *s, const struct frame *f)
{
    const struct sp_onode *o = &s->p->on[f->node];
    if (s->n > f->start) {
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        for (uint32_t i = f->start; i < s->n; i++) {
            mn = s->ch[i].ts < mn ? s->ch[i].ts : mn;
            mx = s->ch[i].ts > mx ? s->ch[i].ts : mx;
        }
        if (mx - mn >= o->within_ns)
            return false;
    }
    /* the window closes: later picks are outside it */
    struct win saved = s->wins[--s->nwins];
    bool r = call(s, f->next);
    s->wins[s->nwins++] = saved;
    return r;
}

static bool k_repeat(struct search *s, const struct frame *f)
{
    const struct sp_onode *o = &s->p->on[f->node];
    uint32_t at = s->rep_at;
    uint64_t bound = s->rep_bound;
    bool r;
    if (f->i == o->n) {
        s->rep_at = f->saved_at;
        s->rep_bound = f->saved_bound;
        r = call(s, f->next);
    } else {
        struct frame g = *f;
        g.i = f->i + 1;
        g.start = s->n;
        s->rep_at = s->n;
        s->rep_bound = s->ch[f->start].seq; /* canonical order: first events descend */
        r = solve(s, o->a, f->lo, f->hi, &g);
    }
    s->rep_at = at;
    s->rep_bound = bound;
    return r;
}

static bool solve(struct search *s, uint32_t node, int64_t lo, int64_t hi, const struct frame *k)
{
    const struct sp_onode *o = &s->p->on[node];
    struct frame chk;
    if (!s->pin_placed && !o->under_repeats && s->pin_leaf >= o->lfirst && s->pin_leaf < o->lend &&
        o->kind != ON_LEAF) {
        chk = (struct frame){.fn = k_check_pin, .next = k};
        k = &chk;
    }
    switch (o->kind) {
    case ON_LEAF:
        return solve_leaf(s, o, lo, hi, k);
    case ON_AND:
    case ON_FOLLOWEDBY: {
        struct frame f = {
            .fn = k_seq, .next = k, .node = node, .i = 0, .start = s->n, .lo = lo, .hi = hi};
        return solve(s, s->p->okids[o->a], lo, hi, &f);
    }
    case ON_OR: {
        /* the pin is placed in this OR or nowhere: try only its operand */
        bool pin_inside = !s->pin_placed && !o->under_repeats && s->pin_leaf >= o->lfirst &&
                          s->pin_leaf < o->lend;
        for (uint32_t i = 0; i < o->n; i++) {
            const struct sp_onode *kid = &s->p->on[s->p->okids[o->a + i]];
            if (pin_inside && (s->pin_leaf < kid->lfirst || s->pin_leaf >= kid->lend))
                continue;
            if (solve(s, s->p->okids[o->a + i], lo, hi, k))
                return true;
            if (s->cut)
                return false;
        }
        return false;
    }
    case ON_WITHIN: {
        if (s->nwins == MAX_WINS)
            return false;
        s->wins[s->nwins++] = (struct win){s->n, o->within_ns};
        struct frame f = {.fn = k_within, .next = k, .node = node, .start = s->n};
        bool r = solve(s, o->a, lo, hi, &f);
        s->nwins--;
        return r;
    }
    case ON_STARTSTOP:
        return solve(s, o->a, lo > o->start_ns ? lo : o->start_ns,
                     hi < o->stop_ns ? hi : o->stop_ns, k);
    case ON_REPEATS: {
        struct frame f = {.fn = k_repeat,
                          .next = k,
                          .node = node,
                          .i = 1,
                          .start = s->n,
                          .lo = lo,
                          .hi = hi,
                          .saved_at = s->rep_at,
                          .saved_bound = s->rep_bound};
        if (s->rep_at != s->n)
            s->rep_bound = UINT64_MAX; /* else inherit the enclosing repetition's bound */
        s->rep_at = s->n;
        bool r = solve(s, o->a, lo, hi, &f);
        s->rep_at = f.saved_at;
        s->rep_bound = f.saved_bound;
        return r;
    }
    default:
        return false;
    }
}

/* Cheap necessary condition: every leaf a match needs has events. */
static bool feasible(const struct stix_pattern *p, const struct pstate *ps, uint32_t node,
                     uint32_t need)
{
    const struct sp_onode *o = &p->on[node];
    switch (o->kind) {
    case ON_LEAF:
        return lbuf_count(&ps->bufs[o->a]) >= need;
    case ON_AND:
    case ON_FOLLOWEDBY:
        for (uint32_t i = 0; i < o->n; i++)
            if (!feasible(p, ps, p->okids[o->a + i], need))
                return false;
        return true;
    case ON_OR: /* n repetitions may spread over the operands */
        for (uint32_t i = 0; i < o->n; i++)
            if (feasible(p, ps, p->okids[o->a + i], 1))
                return true;
        return false;
    case ON_REPEATS:
        return feasible(p, ps, o->a, need * o->n);
    default:
        return feasible(p, ps, o->a, need);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_ref(const void *a, const void *b)
{
    const struct stix_evref *x = a, *y = b;
    return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

/* Report the solution in s->ch and remove its events from every leaf. */
static int fire(struct stix_matcher *m, struct pstate *ps, struct search *s,
                int (*on_match)(void *, void *, const struct stix_evref *, size_t), void *opaque)
{
    uint32_t n = s->n;
    struct stix_evref refs[64];
    struct stix_evref *r = n <= 64 ? refs : malloc(n * sizeof(*r));
    uint64_t seqs_stack[64];
    uint64_t *seqs = n <= 64 ? seqs_stack : malloc(n * sizeof(*seqs));
    if (!r || !seqs)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        r[i] = ps->bufs[s->ch[i].leaf].v[s->ch[i].idx].ev;
        seqs[i] = s->ch[i].seq;
    }
    qsort(r, n, sizeof(*r), cmp_ref); /* stable enough: equal times keep pick order rarely */
    qsort(seqs, n, sizeof(*seqs), cmp_u64);
    for (uint32_t l = 0; l < ps->p->nleaves; l++) {
        uint32_t gone = lbuf_remove_seqs(&ps->bufs[l], seqs, n);
        ps->kept -= gone;
        m->st.kept -= gone;
    }
    m->st.matches++;
    int rc = on_match ? on_match(opaque, ps->user, r, n) : 0;
    if (r != refs)
        free(r);
    if (seqs != seqs_stack)
        free(seqs);
    return rc;
}

static void set_active(struct stix_matcher *m, uint32_t pi)
{
    struct pstate *ps = &m->pats[pi];
    if (ps->kept && !ps->active) {
        ps->active = true;
        u32s_push(&m->active, pi);
    }
}

/* The event (already evaluated) matched leaves hits[0..nh) of pattern pi. */
static int feed_stateful(struct stix_matcher *m, uint32_t pi, const uint32_t *hits, uint32_t nh,
                         const struct stix_evref *ref,
                         int (*on_match)(void *, void *, const struct stix_evref *, size_t),
                         void *opaque)
{
    struct pstate *ps = &m->pats[pi];
    const struct stix_pattern *p = ps->p;
    expire(m, ps);
    struct kept k = {m->seq, *ref};
    k.ev.file = intern_file(m, ref->file);
    for (uint32_t i = 0; i < nh; i++) {
        while (ps->kept >= m->o.max_kept && drop_oldest(m, ps))
            ;
        lbuf_insert(&ps->bufs[hits[i]], &k);
        ps->kept++;
        m->st.kept++;
    }
    int rc = 0;
    if (feasible(p, ps, p->oroot, 1)) {
        struct search s = {.m = m,
                           .ps = ps,
                           .p = p,
                           .ch = m->ch,
                           .cap = m->capch,
                           .pin_seq = m->seq,
                           .budget = m->o.search_budget,
                           .rep_at = UINT32_MAX,
                           .rep_bound = UINT64_MAX};
        struct frame fin = {.fn = k_final};
        for (uint32_t i = 0; i < nh; i++) {
            s.pin_leaf = hits[i];
            s.n = 0;
            s.nwins = 0;
            s.pin_placed = false;
            if (solve(&s, p->oroot, INT64_MIN, INT64_MAX, &fin)) {
                rc = fire(m, ps, &s, on_match, opaque);
                break;
            }
            if (s.cut) {
                m->st.searches_cut++;
                break;
            }
        }
        m->ch = s.ch;
        m->capch = s.cap;
    }
    /* events of leaves that join nothing are not kept */
    uint64_t me = m->seq;
    for (uint32_t i = 0; i < nh; i++)
        if (ps->horizon[hits[i]] < 0) {
            uint32_t gone = lbuf_remove_seqs(&ps->bufs[hits[i]], &me, 1);
            ps->kept -= gone;
            m->st.kept -= gone;
        }
    set_active(m, pi);
    return rc;
}

static void sweep(struct stix_matcher *m)
{
    uint32_t o = 0;
    for (uint32_t i = 0; i < m->active.n; i++) {
        struct pstate *ps = &m->pats[m->active.v[i]];
        expire(m, ps);
        if (ps->kept)
            m->active.v[o++] = m->active.v[i];
        else
            ps->active = false;
    }
    m->active.n = o;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void candidate(struct stix_matcher *m, uint32_t g)
{
    if (m->gl[g].stamp == m->stamp)
        return;
    m->gl[g].stamp = m->stamp;
    u32s_push(&m->cand, g);
}

int stix_matcher_feed(struct stix_matcher *m, const struct event *ev,
                      int (*on_match)(void *opaque, void *user, const struct stix_evref *evs,
                                      size_t nevs),
                      void *opaque)
{
    m->st.events++;
    m->seq++;
    if (++m->stamp == 0) {
        for (uint32_t i = 0; i < m->ngl; i++)
            m->gl[i].stamp = 0;
        m->stamp = 1;
    }
    int64_t ts = ev->ts_ns;
    if (ts == TIME_NONE)
        ts = m->clock == TIME_NONE ? 0 : m->clock;
    else if (m->clock == TIME_NONE || ts > m->clock)
        m->clock = ts;
    if (++m->since_sweep >= 4096) {
        m->since_sweep = 0;
        sweep(m);
    }

    if (!m->ngl) {
        m->st.events_skipped++;
        return 0;
    }
    struct sp_ctx *c = &m->ctx;
    sp_ctx_event(c, ev);
    m->cand.n = 0;
    for (uint32_t i = 0; i < m->always.n; i++)
        candidate(m, m->always.v[i]);
    for (int w = 0; w < 2; w++) {
        uint64_t bits = c->present[w];
        while (bits) {
            int b = __builtin_ctzll(bits);
            bits &= bits - 1;
            const struct u32s *pl = &m->field_post[w * 64 + b];
            for (uint32_t i = 0; i < pl->n; i++)
                candidate(m, pl->v[i]);
        }
    }
    if ((c->present[0] & m->vprop_mask[0]) || (c->present[1] & m->vprop_mask[1])) {
        struct sp_val vals[64];
        for (uint32_t i = 0; i < m->vprops.n; i++) {
            uint32_t prop = m->vprops.v[i];
            const uint64_t *fm = m->vprop_fields[i];
            if (!(fm[0] & c->present[0]) && !(fm[1] & c->present[1]))
                continue;
            uint32_t nv = sp_prop_values(c, prop, vals, 64);
            for (uint32_t j = 0; j < nv; j++) {
                char buf[64];
                struct sp_val key;
                if (!sp_value_key(c, &sp_props[prop], vals[j], buf, sizeof(buf), &key))
                    continue;
                struct ventry *e = vt_find(m, prop, key.p, key.n, vhash(prop, key.p, key.n));
                if (!e)
                    continue;
                for (uint32_t q = e->post; q != NONE32; q = m->posts[q].next)
                    candidate(m, m->posts[q].gleaf);
            }
        }
    }
    if (!m->cand.n) {
        m->st.events_skipped++;
        return 0;
    }
    /* evaluate; the hits, sorted, come grouped per pattern, leaves in order */
    m->hits.n = 0;
    for (uint32_t i = 0; i < m->cand.n; i++) {
        const struct gleaf *g = &m->gl[m->cand.v[i]];
        if (g->timed &&
            (ev->ts_ns == TIME_NONE || ev->ts_ns < g->start_ns || ev->ts_ns >= g->stop_ns))
            continue;
        m->st.evaluations++;
        if (sp_eval_leaf(c, m->pats[g->pat].p, g->leaf)) {
            m->st.observations++;
            u32s_push(&m->hits, m->cand.v[i]);
        }
    }
    if (m->hits.n > 1)
        qsort(m->hits.v, m->hits.n, sizeof(uint32_t), cmp_u32);
    struct stix_evref ref = {ev->id, ts, ev->file, ev->line, ev->record};
    int rc = 0;
    for (uint32_t i = 0; i < m->hits.n && !rc;) {
        uint32_t pi = m->gl[m->hits.v[i]].pat;
        uint32_t j = i;
        uint32_t leaves[64];
        uint32_t nl = 0;
        while (j < m->hits.n && m->gl[m->hits.v[j]].pat == pi) {
            if (nl < 64)
                leaves[nl++] = m->gl[m->hits.v[j]].leaf;
            j++;
        }
        struct pstate *ps = &m->pats[pi];
        if (!ps->p->stateful) {
            struct stix_evref r = ref;
            r.file = intern_file(m, ev->file);
            m->st.matches++;
            rc = on_match ? on_match(opaque, ps->user, &r, 1) : 0;
        } else {
            rc = feed_stateful(m, pi, leaves, nl, &ref, on_match, opaque);
        }
        i = j;
    }
    return rc;
}
