/*
 * sigma-corr.c - the correlation engine; see sigma-corr.h for the contract
 * and docs/sigma.md ("Correlations") for the semantics.
 *
 * Layout:
 *   - At build time each correlation's `rules` are resolved to subscriptions:
 *     rule index -> (correlation, slot) and correlation -> (correlation,
 *     slot), slot being the position in `rules` (temporal types need it).
 *     Reference cycles are found by computing each correlation's depth; a
 *     correlation whose depth does not settle is in a cycle and disabled.
 *   - Groups live in one chained hash table keyed by (correlation, group
 *     key), and in one list per correlation in update order. Because updates
 *     come in (roughly) event-time order, the head of a list is the group
 *     most likely to have expired: each feed frees expired heads, and the
 *     eviction victim, when the group cap is reached, is the head with the
 *     oldest time over all lists.
 *   - The group key is the group-by values, each as a 4-byte length and its
 *     bytes; the values are read back from it for alerts.
 *   - A count-like group (event_count, value_*) keeps its window as an array
 *     of entries sorted by time (append in the usual case, insertion from
 *     the back for an event that arrives late but inside the window),
 *     consumed from the front as it expires, plus a ring of the last
 *     max_alert_events event references. Distinct counts and value shares
 *     come from a per-group table of value hash -> entries in the window,
 *     updated as entries enter and leave (O(1) per event). Sums, averages
 *     and percentiles are recomputed over the window on each event: the
 *     window is bounded, and a running sum would drift with floating-point
 *     removal.
 *   - temporal keeps, per slot, the newest time and event reference;
 *     temporal_ordered keeps, per slot, the best (latest-starting) chain of
 *     events that completes the slots 0..i in order.
 */
#include "detect/sigma-corr.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma-model.h"
#include "util/timeconv.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define CORR_MAX_DEPTH 16

struct sub {
    uint32_t corr, slot;
};

struct subs {
    struct sub *v;
    uint32_t n, cap;
};

/* An event reference as stored: the file is an index into the engine's
 * file table (UINT32_MAX: none), so the state holds no pointers. */
struct ref {
    int64_t ts_ns;
    uint64_t id, line, record;
    uint32_t file;
    uint32_t slot;
};

struct entry {
    int64_t ts_ns;
    uint64_t hash; /* value_count: the value tuple; percentile: the value */
    double num;    /* value_sum / value_avg / value_percentile */
};

struct group {
    struct group *hnext;       /* hash chain */
    struct group *prev, *next; /* per-correlation list, update order */
    uint32_t corr;
    uint64_t hash;
    char *key;
    uint32_t keylen;
    int64_t last_ns; /* newest event time taken */
    bool fired;      /* condition true at the last evaluation that fired */
    /* count-like window */
    struct entry *e;
    uint32_t off, n, cap; /* live entries are e[off .. n) */
    struct ref *ring;     /* last refs, ring of max_alert_events */
    /* value_count and value shares: how many window entries carry each
     * value hash (open addressing; a slot whose count fell to 0 keeps its
     * hash until the table is rebuilt) */
    struct vslot {
        uint64_t hash; /* 0: never used (hashes are made non-zero) */
        uint32_t count;
    } * vt;
    uint32_t vmask, vused, distinct;
    uint32_t rhead, rn;
    /* temporal / temporal_ordered, nrules slots */
    int64_t *slot_ns;     /* temporal: newest time; ordered: chain start (INT64_MIN: none) */
    struct ref *slot_ref; /* temporal: nrules; ordered: nrules x nrules chains */
};

struct corr_state {
    const struct sigma_correlation *k;
    uint32_t idx;
    bool disabled;
    bool emits;                /* its alerts are written (not only fed to another correlation) */
    bool percentile_of_values; /* value_percentile with `percentile:` */
    struct subs out;           /* correlations that name this one */
    struct group *head, *tail;
    int64_t watermark_ns; /* newest event time fed */
    uint32_t depth;
    uint64_t shape; /* corr_shape(), for the saved state */
};

struct corr_engine {
    const struct sigma_set *set;
    struct corr_opts o;
    struct corr_state *c;
    uint32_t nc;
    struct subs *rule_subs; /* per rule index */
    bool *rule_emits;
    uint32_t nrules;
    struct group **ht;
    uint32_t htmask;
    uint64_t live;
    char **files; /* interned file names */
    uint32_t nfiles, capfiles;
    const char *last_file_ptr; /* cache: the last pointer interned */
    uint32_t last_file;
    /* scratch, reused */
    struct buf key;
    double *sd;
    uint32_t scap;
    struct corr_event_ref *outrefs;
    uint32_t outcap;
    struct corr_stats st;
    uint64_t gen; /* moves whenever the state may have changed */
};

void corr_opts_default(struct corr_opts *o)
{
    o->max_groups = 10000;
    o->max_window_events = 1000;
    o->max_alert_events = 20;
}

static int subs_push(struct subs *s, uint32_t corr, uint32_t slot)
{
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 4;
        struct sub *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (struct sub){corr, slot};
    return 0;
}

static bool names(const char *ref, const char *id, const char *name)
{
    return (id && !strcmp(ref, id)) || (name && !strcmp(ref, name));
}

/* Depth of every correlation (1 + deepest correlation it names); those in
 * or behind a cycle never settle below CORR_MAX_DEPTH and are disabled. */
static void compute_depths(struct corr_engine *e)
{
    for (uint32_t i = 0; i < e->nc; i++)
        e->c[i].depth = 1;
    for (uint32_t round = 0; round <= CORR_MAX_DEPTH; round++) {
        bool changed = false;
        for (uint32_t i = 0; i < e->nc; i++)
            for (uint32_t j = 0; j < e->c[i].out.n; j++) {
                struct corr_state *outer = &e->c[e->c[i].out.v[j].corr];
                if (outer->depth < e->c[i].depth + 1 && outer->depth <= CORR_MAX_DEPTH) {
                    outer->depth = e->c[i].depth + 1;
                    changed = true;
                }
            }
        if (!changed)
            break;
    }
    for (uint32_t i = 0; i < e->nc; i++)
        if (e->c[i].depth > CORR_MAX_DEPTH) {
            e->c[i].disabled = true;
            e->st.disabled++;
        }
}

static uint64_t corr_shape(const struct corr_state *c);

int corr_engine_new(const struct sigma_set *s, const struct corr_opts *o, struct corr_engine **out)
{
    *out = NULL;
    if (!s->ncorrs)
        return 0;
    struct corr_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->set = s;
    if (o)
        e->o = *o;
    else
        corr_opts_default(&e->o);
    if (e->o.max_groups == 0)
        e->o.max_groups = 1;
    if (e->o.max_window_events == 0)
        e->o.max_window_events = 1;
    if (e->o.max_alert_events > 1000)
        e->o.max_alert_events = 1000; /* the references are copied on the stack */
    e->nc = s->ncorrs;
    e->nrules = s->nrules;
    e->c = calloc(e->nc, sizeof(*e->c));
    e->rule_subs = calloc(e->nrules + 1, sizeof(*e->rule_subs));
    e->rule_emits = calloc(e->nrules + 1, sizeof(*e->rule_emits));
    uint32_t nb = 64;
    while (nb < e->o.max_groups * 2 && nb < (1u << 24))
        nb <<= 1;
    e->ht = calloc(nb, sizeof(*e->ht));
    e->htmask = nb - 1;
    buf_init(&e->key);
    if (!e->c || !e->rule_subs || !e->rule_emits || !e->ht)
        goto nomem;
    bool *referenced = calloc(e->nrules + 1, sizeof(bool));
    bool *corr_ref = calloc(e->nc, sizeof(bool)), *corr_gen = calloc(e->nc, sizeof(bool));
    if (!referenced || !corr_ref || !corr_gen) {
        free(referenced);
        free(corr_ref);
        free(corr_gen);
        goto nomem;
    }
    for (uint32_t i = 0; i < e->nc; i++) {
        const struct sigma_correlation *k = s->corrs[i];
        e->c[i].k = k;
        e->c[i].idx = i;
        e->c[i].watermark_ns = INT64_MIN;
        e->c[i].percentile_of_values = k->type == CORR_VALUE_PERCENTILE && k->has_percentile;
        e->c[i].shape = corr_shape(&e->c[i]);
        e->st.correlations++;
        /* slots in descending order, so that one event that several slots
         * name is offered to the later step first (temporal_ordered) */
        for (uint32_t q = k->nrules; q-- > 0;) {
            for (uint32_t j = 0; j < s->nrules; j++) {
                const struct sigma_rule *r = s->rules[j];
                if (!names(k->rules[q], r->id, r->name))
                    continue;
                if (subs_push(&e->rule_subs[j], i, q))
                    goto nomem2;
                referenced[j] = true;
                e->rule_emits[j] |= k->generate;
            }
            for (uint32_t j = 0; j < s->ncorrs; j++) {
                const struct sigma_correlation *ok = s->corrs[j];
                if (j == i || !names(k->rules[q], ok->id, ok->name))
                    continue;
                if (subs_push(&e->c[j].out, i, q))
                    goto nomem2;
                corr_ref[j] = true;
                corr_gen[j] |= k->generate;
            }
        }
    }
    for (uint32_t j = 0; j < e->nrules; j++)
        if (!referenced[j])
            e->rule_emits[j] = true;
    for (uint32_t i = 0; i < e->nc; i++)
        e->c[i].emits = !corr_ref[i] || corr_gen[i];
    free(referenced);
    free(corr_ref);
    free(corr_gen);
    compute_depths(e);
    *out = e;
    return 0;
nomem2:
    free(referenced);
    free(corr_ref);
    free(corr_gen);
nomem:
    corr_engine_free(e);
    return -ENOMEM;
}

static void group_free(struct group *g)
{
    free(g->key);
    free(g->e);
    free(g->ring);
    free(g->vt);
    free(g->slot_ns);
    free(g->slot_ref);
    free(g);
}

void corr_engine_free(struct corr_engine *e)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < e->nc; i++) {
        for (struct group *g = e->c[i].head, *n; g; g = n) {
            n = g->next;
            group_free(g);
        }
        free(e->c[i].out.v);
    }
    for (uint32_t j = 0; e->rule_subs && j < e->nrules; j++)
        free(e->rule_subs[j].v);
    for (uint32_t i = 0; i < e->nfiles; i++)
        free(e->files[i]);
    free(e->files);
    free(e->rule_subs);
    free(e->rule_emits);
    free(e->c);
    free(e->ht);
    buf_free(&e->key);
    free(e->sd);
    free(e->outrefs);
    free(e);
}

bool corr_rule_emits(const struct corr_engine *e, const struct sigma_rule *r)
{
    return !e || r->index >= e->nrules || e->rule_emits[r->index];
}

void corr_engine_stats(const struct corr_engine *e, struct corr_stats *st)
{
    if (!e) {
        memset(st, 0, sizeof(*st));
        return;
    }
    *st = e->st;
    st->groups_live = e->live;
}

/* ---- groups ---------------------------------------------------------- */

static void list_unlink(struct corr_state *c, struct group *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else
        c->head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else
        c->tail = g->prev;
    g->prev = g->next = NULL;
}

static void list_append(struct corr_state *c, struct group *g)
{
    g->prev = c->tail;
    g->next = NULL;
    if (c->tail)
        c->tail->next = g;
    else
        c->head = g;
    c->tail = g;
}

static void group_drop(struct corr_engine *e, struct group *g)
{
    struct group **pp = &e->ht[g->hash & e->htmask];
    while (*pp != g)
        pp = &(*pp)->hnext;
    *pp = g->hnext;
    list_unlink(&e->c[g->corr], g);
    group_free(g);
    e->live--;
}

/* Free the groups of c whose whole window lies before its watermark. */
static void expire(struct corr_engine *e, struct corr_state *c)
{
    int64_t ts = c->k->timespan_ns;
    while (c->head && c->watermark_ns != INT64_MIN && c->head->last_ns < c->watermark_ns - ts) {
        group_drop(e, c->head);
        e->st.groups_expired++;
    }
}

/* Make room for one group: the least recently updated group (by event
 * time) over all correlations goes. */
static void evict_one(struct corr_engine *e)
{
    struct group *victim = NULL;
    for (uint32_t i = 0; i < e->nc; i++) {
        struct group *h = e->c[i].head;
        if (h && (!victim || h->last_ns < victim->last_ns))
            victim = h;
    }
    if (victim) {
        group_drop(e, victim);
        e->st.groups_evicted++;
    }
}

static struct group *group_get(struct corr_engine *e, struct corr_state *c, const char *key,
                               uint32_t keylen)
{
    uint64_t h = XXH3_64bits_withSeed(key, keylen, c->idx);
    for (struct group *g = e->ht[h & e->htmask]; g; g = g->hnext)
        if (g->hash == h && g->corr == c->idx && g->keylen == keylen &&
            !memcmp(g->key, key, keylen))
            return g;
    if (e->live >= e->o.max_groups)
        evict_one(e);
    struct group *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->corr = c->idx;
    g->hash = h;
    g->keylen = keylen;
    g->key = malloc(keylen + 1);
    g->last_ns = INT64_MIN;
    uint32_t nr = c->k->nrules;
    bool temporal = c->k->type == CORR_TEMPORAL || c->k->type == CORR_TEMPORAL_ORDERED;
    if (temporal) {
        g->slot_ns = malloc(nr * sizeof(*g->slot_ns));
        size_t nref = c->k->type == CORR_TEMPORAL ? nr : (size_t)nr * nr;
        g->slot_ref = calloc(nref, sizeof(*g->slot_ref));
        if (g->slot_ns)
            for (uint32_t i = 0; i < nr; i++)
                g->slot_ns[i] = INT64_MIN;
    } else {
        g->ring = calloc(e->o.max_alert_events ? e->o.max_alert_events : 1, sizeof(*g->ring));
    }
    if (!g->key || (temporal && (!g->slot_ns || !g->slot_ref)) || (!temporal && !g->ring)) {
        group_free(g);
        return NULL;
    }
    memcpy(g->key, key, keylen);
    g->hnext = e->ht[h & e->htmask];
    e->ht[h & e->htmask] = g;
    list_append(c, g);
    e->live++;
    e->st.groups_created++;
    return g;
}

/* ---- fields ---------------------------------------------------------- */

/* Field names compare without regard to ASCII case and spaces, as in rule
 * matching. */
static bool loose_eq(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < an && a[i] == ' ')
            i++;
        while (j < bn && b[j] == ' ')
            j++;
        if (i == an || j == bn)
            return i == an && j == bn;
        char x = a[i], y = b[j];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return false;
        i++;
        j++;
    }
}

/* A field of ev by name: native fields, then the ECS core, then the log
 * source. */
static bool event_field(const struct event *ev, const char *name, struct str *out)
{
    size_t nl = strlen(name);
    for (uint32_t i = 0; i < ev->nfields; i++)
        if (loose_eq(ev->fields[i].key.p, ev->fields[i].key.n, name, nl) &&
            ev->fields[i].type != VT_NULL) {
            *out = ev->fields[i].val;
            return true;
        }
    int cf = core_field_by_name(name, nl);
    if (cf >= 0 && ev->core[cf].n) {
        *out = ev->core[cf];
        return true;
    }
    static const struct {
        const char *name;
        size_t off;
    } ls[] = {
        {"logsource.product", offsetof(struct logsource, product)},
        {"logsource.service", offsetof(struct logsource, service)},
        {"logsource.category", offsetof(struct logsource, category)},
    };
    for (size_t i = 0; i < sizeof(ls) / sizeof(ls[0]); i++)
        if (loose_eq(ls[i].name, strlen(ls[i].name), name, nl)) {
            const char *v = *(const char *const *)((const char *)&ev->ls + ls[i].off);
            if (!v)
                return false;
            *out = str_make(v, strlen(v));
            return true;
        }
    return false;
}

/* What feeds a correlation: a rule match, or another correlation that
 * fired (whose group-by values come first when fields are looked up). */
struct input {
    const struct event *ev;
    const char *id, *name; /* of the rule or correlation that matched */
    const struct sigma_correlation *inner;
    const struct str *inner_groups;
};

static bool input_field(const struct input *in, const char *name, struct str *out)
{
    if (in->inner)
        for (uint32_t i = 0; i < in->inner->ngroup_by; i++)
            if (loose_eq(in->inner->group_by[i], strlen(in->inner->group_by[i]), name,
                         strlen(name))) {
                *out = in->inner_groups[i];
                return true;
            }
    return event_field(in->ev, name, out);
}

/* The field a group-by name stands for, for events of the matched rule:
 * an alias maps it per rule (by name or id); otherwise it is the name. */
static const char *group_field(const struct sigma_correlation *k, const char *gb,
                               const struct input *in)
{
    for (uint32_t a = 0; a < k->naliases; a++) {
        const struct corr_alias *al = &k->aliases[a];
        if (strcmp(al->name, gb))
            continue;
        for (uint32_t j = 0; j < al->n; j++)
            if (names(al->rule_names[j], in->id, in->name))
                return al->fields[j];
    }
    return gb;
}

/* Build the group key of in into e->key; false if a group-by field is
 * missing. */
static bool build_key(struct corr_engine *e, const struct sigma_correlation *k,
                      const struct input *in)
{
    buf_clear(&e->key);
    for (uint32_t i = 0; i < k->ngroup_by; i++) {
        struct str v;
        if (!input_field(in, group_field(k, k->group_by[i], in), &v))
            return false;
        uint32_t n = (uint32_t)v.n;
        buf_append(&e->key, (const char *)&n, sizeof(n));
        buf_append(&e->key, v.p, v.n);
    }
    return true;
}

static void key_values(const struct group *g, struct str *out, uint32_t n)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < n && pos + 4 <= g->keylen; i++) {
        uint32_t l;
        memcpy(&l, g->key + pos, 4);
        out[i] = str_make(g->key + pos + 4, l);
        pos += 4 + l;
    }
}

static uint32_t intern_file(struct corr_engine *e, const char *f)
{
    if (!f)
        return UINT32_MAX;
    /* the pointer alone is not enough: a closed stream's name may be freed
     * and another's allocated at the same address */
    if (f == e->last_file_ptr && e->last_file < e->nfiles && !strcmp(e->files[e->last_file], f))
        return e->last_file;
    uint32_t i = 0;
    for (; i < e->nfiles; i++)
        if (!strcmp(e->files[i], f))
            break;
    if (i == e->nfiles) {
        if (e->nfiles == e->capfiles) {
            uint32_t cap = e->capfiles ? e->capfiles * 2 : 16;
            char **v = realloc(e->files, cap * sizeof(*v));
            if (!v)
                return UINT32_MAX;
            e->files = v;
            e->capfiles = cap;
        }
        char *d = strdup(f);
        if (!d)
            return UINT32_MAX;
        e->files[e->nfiles++] = d;
    }
    e->last_file_ptr = f;
    e->last_file = i;
    return i;
}

static struct ref make_ref(struct corr_engine *e, const struct event *ev, uint32_t slot)
{
    return (struct ref){ev->ts_ns, ev->id, ev->line, ev->record, intern_file(e, ev->file), slot};
}

/* ---- value counts (value_count, shares of value_percentile) ---------- */

static bool uses_values(const struct corr_state *c)
{
    return c->k->type == CORR_VALUE_COUNT ||
           (c->k->type == CORR_VALUE_PERCENTILE && !c->percentile_of_values);
}

static struct vslot *vt_find(const struct group *g, uint64_t h)
{
    for (uint32_t i = (uint32_t)h & g->vmask;; i = (i + 1) & g->vmask)
        if (g->vt[i].hash == h || g->vt[i].hash == 0)
            return &g->vt[i];
}

/* Rebuild the table with room for at least want live values. */
static int vt_rebuild(struct group *g, uint32_t want)
{
    uint32_t cap = 16;
    while (cap < want * 2 + 2)
        cap <<= 1;
    struct vslot *old = g->vt;
    uint32_t oldcap = old ? g->vmask + 1 : 0;
    g->vt = calloc(cap, sizeof(*g->vt));
    if (!g->vt) {
        g->vt = old;
        return -ENOMEM;
    }
    g->vmask = cap - 1;
    g->vused = 0;
    for (uint32_t i = 0; i < oldcap; i++)
        if (old[i].count) {
            *vt_find(g, old[i].hash) = old[i];
            g->vused++;
        }
    free(old);
    return 0;
}

static int vt_add(struct group *g, uint64_t h)
{
    if (!g->vt || (g->vused + 1) * 4 > (g->vmask + 1) * 3) {
        int rc = vt_rebuild(g, g->distinct + 1);
        if (rc)
            return rc;
    }
    struct vslot *v = vt_find(g, h);
    if (v->hash == 0) {
        v->hash = h;
        g->vused++;
    }
    if (v->count++ == 0)
        g->distinct++;
    return 0;
}

static void vt_remove(struct group *g, uint64_t h)
{
    struct vslot *v = vt_find(g, h);
    if (v->hash == h && v->count && --v->count == 0)
        g->distinct--;
}

static uint32_t vt_count(const struct group *g, uint64_t h)
{
    const struct vslot *v = vt_find(g, h);
    return v->hash == h ? v->count : 0;
}

/* Drop the oldest window entry. */
static void drop_front(const struct corr_state *c, struct group *g)
{
    if (uses_values(c))
        vt_remove(g, g->e[g->off].hash);
    g->off++;
}

/* ---- conditions and aggregates ---------------------------------------- */

static bool cond_holds(const struct sigma_correlation *k, double v, double dflt_gte)
{
    bool any = false;
    for (int i = 0; i < 6; i++)
        any |= k->has_cmp[i];
    if (!any)
        return v >= dflt_gte;
    static const int8_t want[6][3] = {
        /* result of compare(v, x): <, ==, > */
        {0, 0, 1}, /* gt */
        {0, 1, 1}, /* gte */
        {1, 0, 0}, /* lt */
        {1, 1, 0}, /* lte */
        {0, 1, 0}, /* eq */
        {1, 0, 1}, /* neq */
    };
    for (int i = 0; i < 6; i++) {
        if (!k->has_cmp[i])
            continue;
        double x = k->cmp_val[i];
        int c = v < x ? 0 : v == x ? 1 : 2;
        if (!want[i][c])
            return false;
    }
    return true;
}

static int scratch_reserve(struct corr_engine *e, uint32_t n)
{
    if (n <= e->scap)
        return 0;
    uint32_t cap = e->scap ? e->scap : 64;
    while (cap < n)
        cap *= 2;
    double *d = realloc(e->sd, cap * sizeof(*d));
    if (!d)
        return -ENOMEM;
    e->sd = d;
    e->scap = cap;
    return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The aggregate of a count-like window; cur is the entry just added. */
static int aggregate(struct corr_engine *e, const struct corr_state *c, const struct group *g,
                     const struct entry *cur, double *out)
{
    uint32_t n = g->n - g->off;
    const struct entry *w = g->e + g->off;
    switch (c->k->type) {
    case CORR_EVENT_COUNT:
        *out = n;
        return 0;
    case CORR_VALUE_SUM:
    case CORR_VALUE_AVG: {
        double sum = 0;
        for (uint32_t i = 0; i < n; i++)
            sum += w[i].num;
        *out = c->k->type == CORR_VALUE_SUM ? sum : sum / n;
        return 0;
    }
    default:
        break;
    }
    if (c->k->type == CORR_VALUE_COUNT) {
        *out = g->distinct;
        return 0;
    }
    if (scratch_reserve(e, n))
        return -ENOMEM;
    if (c->percentile_of_values) {
        /* nearest-rank percentile of the numeric values */
        for (uint32_t i = 0; i < n; i++)
            e->sd[i] = w[i].num;
        qsort(e->sd, n, sizeof(*e->sd), cmp_dbl);
        double p = c->k->percentile; /* 0..100, checked at load */
        uint32_t rank = (uint32_t)ceil(p / 100.0 * n);
        *out = e->sd[rank ? rank - 1 : 0];
        return 0;
    }
    /* share (percent) of the window's events with the current value */
    *out = 100.0 * vt_count(g, cur->hash) / n;
    return 0;
}

/* ---- firing ----------------------------------------------------------- */

static int feed_corr(struct corr_engine *e, uint32_t ci, uint32_t slot, const struct input *in,
                     uint32_t depth, corr_fire_fn fn, void *opaque);

static int cmp_outref(const void *a, const void *b)
{
    const struct corr_event_ref *x = a, *y = b;
    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    if (x->line != y->line) /* same time: reading order within a file */
        return x->line < y->line ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Report a fired correlation (when it emits) and feed the correlations
 * naming it. refs are the events behind it, nmore those left out. */
static int fire(struct corr_engine *e, struct corr_state *c, struct group *g,
                const struct input *in, double value, int64_t start_ns, const struct ref *refs,
                uint32_t nrefs, uint64_t nmore, uint32_t depth, corr_fire_fn fn, void *opaque)
{
    const struct sigma_correlation *k = c->k;
    e->st.fired++;
    struct str groups[k->ngroup_by + 1];
    key_values(g, groups, k->ngroup_by);
    if (c->emits && fn) {
        if (nrefs > e->outcap) {
            struct corr_event_ref *v = realloc(e->outrefs, nrefs * sizeof(*v));
            if (!v)
                return -ENOMEM;
            e->outrefs = v;
            e->outcap = nrefs;
        }
        for (uint32_t i = 0; i < nrefs; i++) {
            const struct ref *r = &refs[i];
            e->outrefs[i] = (struct corr_event_ref){
                r->ts_ns, r->id,     r->file == UINT32_MAX ? NULL : e->files[r->file],
                r->line,  r->record, r->slot < k->nrules ? k->rules[r->slot] : NULL};
        }
        if (nrefs > 1)
            qsort(e->outrefs, nrefs, sizeof(*e->outrefs), cmp_outref);
        struct corr_fire f = {k,          in->ev,     groups, value, start_ns,
                              g->last_ns, e->outrefs, nrefs,  nmore};
        int rc = fn(opaque, &f);
        if (rc < 0)
            return rc;
    }
    struct input next = {in->ev, k->id, k->name, k, groups};
    for (uint32_t i = 0; i < c->out.n; i++) {
        int rc = feed_corr(e, c->out.v[i].corr, c->out.v[i].slot, &next, depth + 1, fn, opaque);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Fire on a false -> true edge of the condition; a false evaluation
 * re-arms the group. */
static int edge(struct corr_engine *e, struct corr_state *c, struct group *g,
                const struct input *in, bool holds, double value, int64_t start_ns,
                const struct ref *refs, uint32_t nrefs, uint64_t nmore, uint32_t depth,
                corr_fire_fn fn, void *opaque)
{
    if (!holds) {
        g->fired = false;
        return 0;
    }
    if (g->fired)
        return 0;
    g->fired = true;
    return fire(e, c, g, in, value, start_ns, refs, nrefs, nmore, depth, fn, opaque);
}

/* ---- per-type updates ------------------------------------------------- */

static int update_count(struct corr_engine *e, struct corr_state *c, struct group *g,
                        const struct input *in, uint32_t slot, uint32_t depth, corr_fire_fn fn,
                        void *opaque)
{
    const struct sigma_correlation *k = c->k;
    struct entry cur = {in->ev->ts_ns, 0, 0};
    if (k->type != CORR_EVENT_COUNT) {
        /* value_count: the tuple of every field; the rest: the first field,
         * a number unless value_percentile counts shares of values */
        bool numeric = k->type != CORR_VALUE_COUNT &&
                       (k->type != CORR_VALUE_PERCENTILE || c->percentile_of_values);
        uint32_t nf = k->type == CORR_VALUE_COUNT ? k->nfields : 1;
        for (uint32_t i = 0; i < nf; i++) {
            struct str v;
            if (!input_field(in, k->fields[i], &v) ||
                (numeric && !parse_number(v.p, v.n, &cur.num))) {
                e->st.no_value++;
                return 0;
            }
            cur.hash = XXH3_64bits_withSeed(v.p, v.n, cur.hash + i);
        }
        cur.hash |= 1; /* 0 marks an unused slot of the value table */
    }
    int64_t start = g->last_ns - k->timespan_ns;
    /* drop what left the window, then insert in time order */
    while (g->off < g->n && g->e[g->off].ts_ns < start)
        drop_front(c, g);
    if (g->n - g->off >= e->o.max_window_events) {
        drop_front(c, g);
        e->st.window_overflow++;
    }
    if (uses_values(c) && vt_add(g, cur.hash))
        return -ENOMEM;
    if (g->off && (g->n == g->cap || g->off > g->n / 2)) {
        memmove(g->e, g->e + g->off, (g->n - g->off) * sizeof(*g->e));
        g->n -= g->off;
        g->off = 0;
    }
    if (g->n == g->cap) {
        uint32_t cap = g->cap ? g->cap * 2 : 8;
        struct entry *v = realloc(g->e, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        g->e = v;
        g->cap = cap;
    }
    uint32_t pos = g->n;
    while (pos > g->off && g->e[pos - 1].ts_ns > cur.ts_ns)
        pos--;
    memmove(g->e + pos + 1, g->e + pos, (g->n - pos) * sizeof(*g->e));
    g->e[pos] = cur;
    g->n++;
    /* the ring of recent references */
    uint32_t rc = e->o.max_alert_events;
    if (rc) {
        g->ring[(g->rhead + g->rn) % rc] = make_ref(e, in->ev, slot);
        if (g->rn < rc)
            g->rn++;
        else
            g->rhead = (g->rhead + 1) % rc;
    }
    double value;
    int err = aggregate(e, c, g, &cur, &value);
    if (err)
        return err;
    bool holds = cond_holds(k, value, 1);
    if (!holds || g->fired) {
        g->fired = holds && g->fired;
        return 0;
    }
    struct ref refs[rc ? rc : 1];
    uint32_t nrefs = 0;
    for (uint32_t i = 0; i < g->rn; i++) {
        const struct ref *r = &g->ring[(g->rhead + i) % rc];
        if (r->ts_ns >= start)
            refs[nrefs++] = *r;
    }
    uint32_t inwin = g->n - g->off;
    uint64_t nmore = inwin > nrefs ? inwin - nrefs : 0;
    return edge(e, c, g, in, holds, value, g->e[g->off].ts_ns, refs, nrefs, nmore, depth, fn,
                opaque);
}

static int update_temporal(struct corr_engine *e, struct corr_state *c, struct group *g,
                           const struct input *in, uint32_t slot, uint32_t depth, corr_fire_fn fn,
                           void *opaque)
{
    const struct sigma_correlation *k = c->k;
    int64_t t = in->ev->ts_ns;
    if (t >= g->slot_ns[slot]) {
        g->slot_ns[slot] = t;
        g->slot_ref[slot] = make_ref(e, in->ev, slot);
    }
    int64_t start = g->last_ns - k->timespan_ns;
    struct ref refs[k->nrules];
    uint32_t n = 0;
    int64_t oldest = g->last_ns;
    for (uint32_t i = 0; i < k->nrules; i++)
        if (g->slot_ns[i] != INT64_MIN && g->slot_ns[i] >= start) {
            refs[n++] = g->slot_ref[i];
            if (g->slot_ns[i] < oldest)
                oldest = g->slot_ns[i];
        }
    bool holds = cond_holds(k, n, k->nrules);
    return edge(e, c, g, in, holds, n, oldest, refs, n, 0, depth, fn, opaque);
}

/* temporal_ordered: slot_ns[i] is the start time of the best chain that
 * matched slots 0..i in order, slot_ref[i*nr .. i*nr+i] its events. An
 * event extends the chain of the slot before its own when it is not older
 * than that chain's last event and the chain started within the timespan;
 * slots are visited from the last so one event never fills two steps. */
static int update_ordered(struct corr_engine *e, struct corr_state *c, struct group *g,
                          const struct input *in, uint32_t slot, uint32_t depth, corr_fire_fn fn,
                          void *opaque)
{
    const struct sigma_correlation *k = c->k;
    uint32_t nr = k->nrules;
    int64_t t = in->ev->ts_ns;
    struct ref r = make_ref(e, in->ev, slot);
    if (slot == 0) {
        if (g->slot_ns[0] == INT64_MIN || t >= g->slot_ns[0]) {
            g->slot_ns[0] = t;
            g->slot_ref[0] = r;
        }
    } else {
        int64_t ps = g->slot_ns[slot - 1];
        const struct ref *prev = &g->slot_ref[(size_t)(slot - 1) * nr];
        if (ps != INT64_MIN && t >= prev[slot - 1].ts_ns && t - ps <= k->timespan_ns &&
            (g->slot_ns[slot] == INT64_MIN || ps >= g->slot_ns[slot])) {
            struct ref *mine = &g->slot_ref[(size_t)slot * nr];
            memcpy(mine, prev, slot * sizeof(*mine));
            mine[slot] = r;
            g->slot_ns[slot] = ps;
        }
    }
    int64_t start = g->last_ns - k->timespan_ns;
    uint32_t best = 0; /* steps completed in order within the window */
    for (uint32_t i = 0; i < nr; i++)
        if (g->slot_ns[i] != INT64_MIN && g->slot_ns[i] >= start)
            best = i + 1;
    if (!best || !cond_holds(k, best, nr))
        return 0;
    /* fire and consume the sequence */
    struct ref refs[nr];
    memcpy(refs, &g->slot_ref[(size_t)(best - 1) * nr], best * sizeof(*refs));
    int64_t s0 = g->slot_ns[best - 1];
    for (uint32_t i = 0; i < nr; i++)
        g->slot_ns[i] = INT64_MIN;
    return fire(e, c, g, in, best, s0, refs, best, 0, depth, fn, opaque);
}

static int feed_corr(struct corr_engine *e, uint32_t ci, uint32_t slot, const struct input *in,
                     uint32_t depth, corr_fire_fn fn, void *opaque)
{
    struct corr_state *c = &e->c[ci];
    if (c->disabled || depth > CORR_MAX_DEPTH)
        return 0;
    const struct sigma_correlation *k = c->k;
    int64_t t = in->ev->ts_ns;
    if (t == TIME_NONE) {
        e->st.no_time++;
        return 0;
    }
    if (!build_key(e, k, in)) {
        e->st.no_group++;
        return 0;
    }
    e->st.fed++;
    e->gen++;
    if (t > c->watermark_ns)
        c->watermark_ns = t;
    expire(e, c);
    /* no group-by: the empty key (the buffer has no data yet) */
    struct group *g = group_get(e, c, e->key.data ? e->key.data : "", (uint32_t)e->key.len);
    if (!g)
        return -ENOMEM;
    if (g->last_ns != INT64_MIN && t < g->last_ns - k->timespan_ns) {
        e->st.late++;
        return 0;
    }
    if (t > g->last_ns)
        g->last_ns = t;
    /* most recently updated last: the list head is the next to expire */
    list_unlink(c, g);
    list_append(c, g);
    static int (*const update[])(struct corr_engine *, struct corr_state *, struct group *,
                                 const struct input *, uint32_t, uint32_t, corr_fire_fn, void *) = {
        [CORR_EVENT_COUNT] = update_count,      [CORR_VALUE_COUNT] = update_count,
        [CORR_TEMPORAL] = update_temporal,      [CORR_TEMPORAL_ORDERED] = update_ordered,
        [CORR_VALUE_SUM] = update_count,        [CORR_VALUE_AVG] = update_count,
        [CORR_VALUE_PERCENTILE] = update_count,
    };
    return update[k->type](e, c, g, in, slot, depth, fn, opaque);
}

int corr_feed(struct corr_engine *e, const struct sigma_rule *r, const struct event *ev,
              corr_fire_fn fn, void *opaque)
{
    if (!e || r->index >= e->nrules)
        return 0;
    const struct subs *s = &e->rule_subs[r->index];
    struct input in = {ev, r->id, r->name, NULL, NULL};
    for (uint32_t i = 0; i < s->n; i++) {
        int rc = feed_corr(e, s->v[i].corr, s->v[i].slot, &in, 1, fn, opaque);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- saved state ------------------------------------------------------
 *
 * The blob (all integers little-endian):
 *   "KCS\\0" u32 version, u64 payload length, u64 XXH3-64 of the payload
 *   payload:
 *     u32 nfiles, nfiles x str           file names the references use
 *     u32 ncorr, ncorr x correlation     those with live groups
 *   correlation: str id, str name, str title, u8 type, u32 nrules,
 *     u64 shape, i64 watermark, u32 ngroups, ngroups x group (update order)
 *   group: str key, i64 last_ns, u8 fired, then
 *     count-like: u32 n, n x (i64 ts, u64 hash, f64 num); u32 n, n x ref
 *     temporal: nrules x i64, nrules x ref
 *     temporal_ordered: nrules x i64, nrules*nrules x ref
 *   ref: i64 ts, u64 id, u64 line, u64 record, u32 file, u32 slot
 *   str: u32 length (UINT32_MAX: none) and the bytes
 */

#define STATE_MAGIC   "KCS"
#define STATE_VERSION 1u
#define STATE_HEAD    24

static void put_u32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    buf_append(b, x, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f64(struct buf *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof(v));
    put_u64(b, v);
}

static void put_bytes(struct buf *b, const char *p, size_t n)
{
    put_u32(b, (uint32_t)n);
    buf_append(b, p, n);
}

static void put_cstr(struct buf *b, const char *s)
{
    if (!s)
        put_u32(b, UINT32_MAX);
    else
        put_bytes(b, s, strlen(s));
}

/* What a correlation's saved groups depend on: a changed shape makes them
 * meaningless (a reload then drops them). The timespan and the condition
 * are not part of it: the groups stay valid when they change. */
static uint64_t corr_shape(const struct corr_state *c)
{
    const struct sigma_correlation *k = c->k;
    XXH3_state_t *h = XXH3_createState();
    if (!h)
        return 0;
    XXH3_64bits_reset(h);
    uint32_t head[5] = {k->type, k->nrules, k->ngroup_by, k->nfields, c->percentile_of_values};
    XXH3_64bits_update(h, head, sizeof(head));
    const char *const *lists[3] = {k->rules, k->group_by, k->fields};
    uint32_t ns[3] = {k->nrules, k->ngroup_by, k->nfields};
    for (int l = 0; l < 3; l++)
        for (uint32_t i = 0; i < ns[l]; i++)
            XXH3_64bits_update(h, lists[l][i], strlen(lists[l][i]) + 1);
    uint64_t v = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return v;
}

static bool is_temporal(uint8_t t)
{
    return t == CORR_TEMPORAL || t == CORR_TEMPORAL_ORDERED;
}

/* File table indices of the blob: interned on first use. */
struct filemap {
    uint32_t *to; /* engine index -> blob index (UINT32_MAX: not yet) */
    uint32_t n;
};

static uint32_t map_file(struct filemap *fm, uint32_t f)
{
    if (f == UINT32_MAX || !fm->to)
        return UINT32_MAX;
    if (fm->to[f] == UINT32_MAX)
        fm->to[f] = fm->n++;
    return fm->to[f];
}

static void put_ref(struct buf *b, struct filemap *fm, const struct ref *r)
{
    put_u64(b, (uint64_t)r->ts_ns);
    put_u64(b, r->id);
    put_u64(b, r->line);
    put_u64(b, r->record);
    put_u32(b, map_file(fm, r->file));
    put_u32(b, r->slot);
}

uint64_t corr_engine_generation(const struct corr_engine *e)
{
    return e ? e->gen : 0;
}

int corr_engine_save(const struct corr_engine *e, struct buf *out)
{
    struct filemap fm = {NULL, 0};
    if (e && e->nfiles) {
        fm.to = malloc(e->nfiles * sizeof(*fm.to));
        if (!fm.to)
            return -ENOMEM;
        memset(fm.to, 0xff, e->nfiles * sizeof(*fm.to));
    }
    struct buf body;
    buf_init(&body);
    uint32_t ncorr = 0;
    for (uint32_t i = 0; e && i < e->nc; i++)
        ncorr += e->c[i].head != NULL;
    put_u32(&body, ncorr);
    for (uint32_t i = 0; e && i < e->nc; i++) {
        const struct corr_state *c = &e->c[i];
        if (!c->head)
            continue;
        const struct sigma_correlation *k = c->k;
        put_cstr(&body, k->id);
        put_cstr(&body, k->name);
        put_cstr(&body, k->title);
        buf_putc(&body, (char)k->type);
        put_u32(&body, k->nrules);
        put_u64(&body, c->shape);
        put_u64(&body, (uint64_t)c->watermark_ns);
        uint32_t ng = 0;
        for (const struct group *g = c->head; g; g = g->next)
            ng++;
        put_u32(&body, ng);
        for (const struct group *g = c->head; g; g = g->next) {
            put_bytes(&body, g->key, g->keylen);
            put_u64(&body, (uint64_t)g->last_ns);
            buf_putc(&body, g->fired);
            uint32_t nr = k->nrules;
            if (is_temporal(k->type)) {
                for (uint32_t s = 0; s < nr; s++)
                    put_u64(&body, (uint64_t)g->slot_ns[s]);
                size_t nref = k->type == CORR_TEMPORAL ? nr : (size_t)nr * nr;
                for (size_t r = 0; r < nref; r++)
                    put_ref(&body, &fm, &g->slot_ref[r]);
                continue;
            }
            put_u32(&body, g->n - g->off);
            for (uint32_t j = g->off; j < g->n; j++) {
                put_u64(&body, (uint64_t)g->e[j].ts_ns);
                put_u64(&body, g->e[j].hash);
                put_f64(&body, g->e[j].num);
            }
            put_u32(&body, g->rn);
            for (uint32_t j = 0; j < g->rn; j++)
                put_ref(&body, &fm, &g->ring[(g->rhead + j) % e->o.max_alert_events]);
        }
    }
    /* the file table, in blob index order */
    struct buf files;
    buf_init(&files);
    put_u32(&files, fm.n);
    if (fm.n) {
        const char **names = calloc(fm.n, sizeof(*names));
        if (!names) {
            free(fm.to);
            buf_free(&body);
            buf_free(&files);
            return -ENOMEM;
        }
        for (uint32_t f = 0; f < e->nfiles; f++)
            if (fm.to[f] != UINT32_MAX)
                names[fm.to[f]] = e->files[f];
        for (uint32_t f = 0; f < fm.n; f++)
            put_cstr(&files, names[f]);
        free(names);
    }
    free(fm.to);
    XXH3_state_t *h = XXH3_createState();
    if (!h) {
        buf_free(&body);
        buf_free(&files);
        return -ENOMEM;
    }
    XXH3_64bits_reset(h);
    XXH3_64bits_update(h, files.data, files.len);
    XXH3_64bits_update(h, body.data, body.len);
    uint64_t sum = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    buf_append(out, STATE_MAGIC, 4); /* with its NUL */
    put_u32(out, STATE_VERSION);
    put_u64(out, files.len + body.len);
    put_u64(out, sum);
    buf_append(out, files.data, files.len);
    buf_append(out, body.data, body.len);
    buf_free(&files);
    buf_free(&body);
    return 0;
}

/* ---- restoring ---- */

struct rd {
    const uint8_t *p;
    size_t n, off;
    const char *bad; /* the first problem */
    size_t bad_at;
};

static bool rd_fail(struct rd *r, const char *why)
{
    if (!r->bad) {
        r->bad = why;
        r->bad_at = r->off;
    }
    return false;
}

static bool rd_need(struct rd *r, size_t n)
{
    if (r->bad)
        return false;
    if (r->n - r->off < n)
        return rd_fail(r, "truncated");
    return true;
}

static uint32_t get_u32(struct rd *r)
{
    if (!rd_need(r, 4))
        return 0;
    const uint8_t *p = r->p + r->off;
    r->off += 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(struct rd *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

static uint8_t get_u8(struct rd *r)
{
    if (!rd_need(r, 1))
        return 0;
    return r->p[r->off++];
}

static double get_f64(struct rd *r)
{
    uint64_t v = get_u64(r);
    double d;
    memcpy(&d, &v, sizeof(d));
    return d;
}

/* A string: *p NULL for none (not NUL-terminated; *n its length). */
static bool get_str(struct rd *r, const char **p, uint32_t *n)
{
    *p = NULL;
    *n = get_u32(r);
    if (r->bad)
        return false;
    if (*n == UINT32_MAX) {
        *n = 0;
        return true;
    }
    if (!rd_need(r, *n))
        return false;
    *p = (const char *)r->p + r->off;
    r->off += *n;
    return true;
}

static bool str_is(const char *p, uint32_t n, const char *s)
{
    return p && s && strlen(s) == n && !memcmp(p, s, n);
}

/* The correlation of e a saved one is: by id, else by name, else by
 * title; -1 if none. */
static int64_t match_corr(const struct corr_engine *e, const char *id, uint32_t idn,
                          const char *name, uint32_t namen, const char *title, uint32_t titlen)
{
    for (uint32_t i = 0; i < e->nc; i++) {
        const struct sigma_correlation *k = e->c[i].k;
        if (id && k->id) {
            if (str_is(id, idn, k->id))
                return i;
        } else if (name && k->name) {
            if (str_is(name, namen, k->name))
                return i;
        } else if (!id && !k->id && !name && !k->name && str_is(title, titlen, k->title)) {
            return i;
        }
    }
    return -1;
}

/* Does key hold exactly n length-prefixed values? */
static bool key_valid(const char *key, uint32_t keylen, uint32_t n)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (keylen - pos < 4)
            return false;
        uint32_t l;
        memcpy(&l, key + pos, 4);
        if (keylen - pos - 4 < l)
            return false;
        pos += 4 + (size_t)l;
    }
    return pos == keylen;
}

/* A time from the blob: INT64_MIN (none) or far enough from the ends that
 * window arithmetic cannot overflow. */
static bool time_ok(int64_t t)
{
    return t == INT64_MIN || (t > -(INT64_C(1) << 62) && t < (INT64_C(1) << 62));
}

static struct ref get_ref(struct rd *r, uint32_t nfiles, const uint32_t *files, uint32_t nrules)
{
    struct ref x;
    x.ts_ns = (int64_t)get_u64(r);
    x.id = get_u64(r);
    x.line = get_u64(r);
    x.record = get_u64(r);
    uint32_t f = get_u32(r);
    x.slot = get_u32(r);
    if (f != UINT32_MAX && f >= nfiles)
        rd_fail(r, "event reference to an unknown file");
    if (!time_ok(x.ts_ns) || x.ts_ns == INT64_MIN)
        rd_fail(r, "time out of range");
    if (x.slot >= nrules)
        rd_fail(r, "event reference to an unknown rule");
    x.file = f == UINT32_MAX || r->bad ? UINT32_MAX : files[f];
    return x;
}

/* Drop every group and forget the event times. */
static void engine_clear(struct corr_engine *e)
{
    for (uint32_t i = 0; i < e->nc; i++) {
        while (e->c[i].head)
            group_drop(e, e->c[i].head);
        e->c[i].watermark_ns = INT64_MIN;
    }
    e->gen++;
}

/* One saved group into g (NULL: read and check only). */
static int read_group(struct corr_engine *e, struct rd *r, uint8_t type, uint32_t nr,
                      struct corr_state *c, struct corr_restore_report *rep, uint32_t nfiles,
                      const uint32_t *files, int64_t wm)
{
    const char *key;
    uint32_t keylen;
    get_str(r, &key, &keylen);
    int64_t last_ns = (int64_t)get_u64(r);
    uint8_t fired = get_u8(r);
    if (r->bad)
        return -EINVAL;
    if (!key)
        return (rd_fail(r, "group without a key"), -EINVAL);
    if (fired > 1)
        return (rd_fail(r, "bad flag"), -EINVAL);
    if (!time_ok(last_ns) || last_ns == INT64_MIN)
        return (rd_fail(r, "time out of range"), -EINVAL);
    struct group *g = NULL;
    if (c) {
        if (!key_valid(key, keylen, c->k->ngroup_by))
            return (rd_fail(r, "malformed group key"), -EINVAL);
        uint64_t h = XXH3_64bits_withSeed(key, keylen, c->idx);
        for (struct group *o = e->ht[h & e->htmask]; o; o = o->hnext)
            if (o->hash == h && o->corr == c->idx && o->keylen == keylen &&
                !memcmp(o->key, key, keylen))
                return (rd_fail(r, "group saved twice"), -EINVAL);
        if (wm != INT64_MIN && last_ns < wm - c->k->timespan_ns) {
            c = NULL; /* its window has passed: it would expire at once */
            rep->groups_dropped++;
        } else {
            if (e->live >= e->o.max_groups) {
                /* max_groups is lower than it was: the least recently
                 * updated group goes, as in feeding */
                evict_one(e);
                rep->groups--;
                rep->groups_dropped++;
            }
            g = group_get(e, c, key, keylen);
            if (!g)
                return -ENOMEM;
            g->last_ns = last_ns;
            g->fired = fired;
            rep->groups++;
        }
    }
    if (is_temporal(type)) {
        if (!rd_need(r, (size_t)nr * 8))
            return -EINVAL;
        for (uint32_t s = 0; s < nr; s++) {
            int64_t t = (int64_t)get_u64(r);
            if (!time_ok(t))
                return (rd_fail(r, "time out of range"), -EINVAL);
            if (g)
                g->slot_ns[s] = t;
        }
        size_t nref = type == CORR_TEMPORAL ? nr : (size_t)nr * nr;
        if (!rd_need(r, nref * 40))
            return -EINVAL;
        for (size_t i = 0; i < nref; i++) {
            struct ref x = get_ref(r, nfiles, files, nr);
            if (g)
                g->slot_ref[i] = x;
        }
        return r->bad ? -EINVAL : 0;
    }
    uint32_t n = get_u32(r);
    if (!rd_need(r, (size_t)n * 24))
        return -EINVAL;
    /* keep the newest max_window_events */
    uint32_t skip = g && n > e->o.max_window_events ? n - e->o.max_window_events : 0;
    if (g && n - skip) {
        g->e = malloc((n - skip) * sizeof(*g->e));
        if (!g->e)
            return -ENOMEM;
        g->cap = n - skip;
    }
    int64_t prev = INT64_MIN;
    for (uint32_t i = 0; i < n; i++) {
        struct entry x;
        x.ts_ns = (int64_t)get_u64(r);
        x.hash = get_u64(r);
        x.num = get_f64(r);
        if (!time_ok(x.ts_ns) || x.ts_ns == INT64_MIN || x.num != x.num)
            return (rd_fail(r, "bad window entry"), -EINVAL);
        if (x.ts_ns < prev)
            return (rd_fail(r, "window out of time order"), -EINVAL);
        prev = x.ts_ns;
        if (!g || i < skip)
            continue;
        if (uses_values(c)) {
            if (!(x.hash & 1))
                return (rd_fail(r, "bad value hash"), -EINVAL);
            if (vt_add(g, x.hash))
                return -ENOMEM;
        }
        g->e[g->n++] = x;
    }
    uint32_t nring = get_u32(r);
    if (!rd_need(r, (size_t)nring * 40))
        return -EINVAL;
    uint32_t rc = e->o.max_alert_events;
    for (uint32_t i = 0; i < nring; i++) {
        struct ref x = get_ref(r, nfiles, files, nr);
        if (!g || !rc)
            continue;
        /* as update_count keeps them: the newest rc */
        g->ring[(g->rhead + g->rn) % rc] = x;
        if (g->rn < rc)
            g->rn++;
        else
            g->rhead = (g->rhead + 1) % rc;
    }
    return r->bad ? -EINVAL : 0;
}

static int restore(struct corr_engine *e, struct rd *r, struct corr_restore_report *rep)
{
    uint32_t nfiles = get_u32(r);
    if (!rd_need(r, (size_t)nfiles * 4))
        return -EINVAL;
    uint32_t *files = nfiles ? malloc(nfiles * sizeof(*files)) : NULL;
    char *name = NULL;
    bool *seen = calloc(e->nc, sizeof(*seen));
    int rc = 0;
    if ((nfiles && !files) || !seen)
        rc = -ENOMEM;
    for (uint32_t f = 0; rc == 0 && f < nfiles; f++) {
        const char *p;
        uint32_t n;
        if (!get_str(r, &p, &n) || !p || memchr(p, '\0', n)) {
            rc = (rd_fail(r, "bad file name"), -EINVAL);
            break;
        }
        free(name);
        name = malloc((size_t)n + 1);
        if (name) {
            memcpy(name, p, n);
            name[n] = '\0';
        }
        files[f] = name ? intern_file(e, name) : UINT32_MAX;
        if (files[f] == UINT32_MAX)
            rc = -ENOMEM;
    }
    /* the cache must not keep a pointer that is about to be freed */
    e->last_file_ptr = NULL;
    free(name);
    uint32_t ncorr = rc ? 0 : get_u32(r);
    for (uint32_t i = 0; rc == 0 && i < ncorr && !r->bad; i++) {
        const char *id, *nm, *title;
        uint32_t idn, nmn, titlen;
        get_str(r, &id, &idn);
        get_str(r, &nm, &nmn);
        get_str(r, &title, &titlen);
        uint8_t type = get_u8(r);
        uint32_t nr = get_u32(r);
        uint64_t shape = get_u64(r);
        int64_t wm = (int64_t)get_u64(r);
        uint32_t ng = get_u32(r);
        if (r->bad) {
            rc = -EINVAL;
            break;
        }
        if (type > CORR_VALUE_PERCENTILE || nr == 0 || nr > 4096 || !time_ok(wm)) {
            rc = (rd_fail(r, "bad correlation record"), -EINVAL);
            break;
        }
        int64_t ci = match_corr(e, id, idn, nm, nmn, title, titlen);
        struct corr_state *c = ci >= 0 ? &e->c[ci] : NULL;
        if (c && (c->disabled || seen[ci] || c->k->type != type || c->k->nrules != nr ||
                  c->shape != shape)) {
            c = NULL;
            rep->corrs_changed++;
        } else if (!c) {
            rep->corrs_gone++;
        }
        if (c) {
            seen[ci] = true;
            rep->corrs++;
            if (wm > c->watermark_ns)
                c->watermark_ns = wm;
        }
        for (uint32_t j = 0; rc == 0 && j < ng; j++) {
            rc = read_group(e, r, type, nr, c, rep, nfiles, files, wm);
            if (!c && rc == 0)
                rep->groups_dropped++;
        }
    }
    if (rc == 0 && r->off != r->n)
        rc = (rd_fail(r, "trailing bytes"), -EINVAL);
    free(files);
    free(seen);
    return rc;
}

int corr_engine_restore(struct corr_engine *e, const void *data, size_t n,
                        struct corr_restore_report *rep, char *err, size_t errn)
{
    memset(rep, 0, sizeof(*rep));
    if (errn)
        err[0] = '\0';
    if (!e)
        return 0;
    engine_clear(e);
    struct rd r = {data, n, 0, NULL, 0};
    if (n < STATE_HEAD || memcmp(data, STATE_MAGIC, 4)) {
        snprintf(err, errn, "not a correlation state");
        return -EINVAL;
    }
    r.off = 4;
    uint32_t version = get_u32(&r);
    uint64_t len = get_u64(&r);
    uint64_t sum = get_u64(&r);
    if (version != STATE_VERSION) {
        snprintf(err, errn, "correlation state of version %u (this kenchi reads %u)", version,
                 STATE_VERSION);
        return -EINVAL;
    }
    if (len != n - STATE_HEAD || XXH3_64bits(r.p + STATE_HEAD, n - STATE_HEAD) != sum) {
        snprintf(err, errn, "correlation state damaged (length or checksum)");
        return -EINVAL;
    }
    int rc = corr_engine_restore_payload(e, r.p + STATE_HEAD, n - STATE_HEAD, rep, err, errn);
    return rc;
}

int corr_engine_restore_payload(struct corr_engine *e, const void *data, size_t n,
                                struct corr_restore_report *rep, char *err, size_t errn)
{
    struct rd r = {data, n, 0, NULL, 0};
    memset(rep, 0, sizeof(*rep));
    if (!e)
        return 0;
    engine_clear(e);
    int rc = restore(e, &r, rep);
    if (rc < 0) {
        if (rc == -ENOMEM)
            snprintf(err, errn, "out of memory");
        else
            snprintf(err, errn, "correlation state damaged at byte %zu: %s", r.bad_at + STATE_HEAD,
                     r.bad ? r.bad : "invalid");
        engine_clear(e);
        memset(rep, 0, sizeof(*rep));
    }
    return rc;
}
