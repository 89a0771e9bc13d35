/*
 * hunt.c - the retro-hunt (see hunt.h for what it answers).
 *
 * Steps:
 *   1. Indicators become probes: (type, value, window, warned), the window
 *      being the hunt's narrowed by the indicator's validity. Equal probes
 *      (the same value from several feeds) are looked up once.
 *   2. store_hunt() finds each probe's events through the day summary and
 *      the hunting index, probe by probe, each in time order. Counts,
 *      first and last seen and events per day come from those index
 *      entries alone; the first timeline_events are kept.
 *   3. When a probe's events are complete, its events are read by row id
 *      in row order (neighbours share pages) for their accounts, hosts and
 *      addresses: the first max_rows of them (1,000 by default: a page
 *      of the store each), so a value found in millions
 *      of events costs bounded time (its counts stay exact). Postfix events
 *      lead to their messages (queue id, store_message_events) for the
 *      other addresses and the account of each message (joined after the
 *      rows). Warning-listed indicators skip this step. Threads read the
 *      rows and messages for it (store_ahead_rows, store_ahead_messages).
 *   4. Every indicator gets its probe's answer; hits are sorted by first
 *      seen, warned ones follow.
 * Memory per probe is bounded by max_rows event ids plus the kept values.
 */
#include "hunt/hunt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "hunt/stored-event.h"
#include "intel/stix-pattern.h"
#include "util/timeconv.h"

#define DAY_NS (86400 * NS_PER_SEC)

void hunt_opts_default(struct hunt_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->since_ns = TIME_NONE;
    o->until_ns = TIME_NONE;
    o->timeline_events = 10;
    o->max_values = 100;
    o->max_messages = 100;
    o->max_rows = 1000;
    o->max_pattern_events = 1000000;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort(); /* as the arena does: no sane recovery */
    return d;
}

/* ---- distinct values ------------------------------------------------------ */

/* A set of 64-bit hashes (of lower-cased values), to count distinct
 * values beyond those kept. */
struct hset {
    uint64_t *h;
    size_t cap, n;
};

static uint64_t hash_folded(const char *s)
{
    char tmp[512];
    size_t n = strlen(s);
    if (n > sizeof(tmp))
        n = sizeof(tmp);
    for (size_t i = 0; i < n; i++)
        tmp[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 'a' - 'A') : s[i];
    uint64_t h = XXH3_64bits(tmp, n);
    return h ? h : 1; /* 0 marks a free slot */
}

/* Add h; true if it was new. */
static bool hset_add(struct hset *s, uint64_t h)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *t = calloc(cap, sizeof(*t));
        if (!t)
            abort();
        for (size_t i = 0; i < s->cap; i++)
            if (s->h[i]) {
                size_t j = s->h[i] & (cap - 1);
                while (t[j])
                    j = (j + 1) & (cap - 1);
                t[j] = s->h[i];
            }
        free(s->h);
        s->h = t;
        s->cap = cap;
    }
    size_t j = h & (s->cap - 1);
    while (s->h[j]) {
        if (s->h[j] == h)
            return false;
        j = (j + 1) & (s->cap - 1);
    }
    s->h[j] = h;
    s->n++;
    return true;
}

static void hset_free(struct hset *s)
{
    free(s->h);
    memset(s, 0, sizeof(*s));
}

struct vlist {
    struct hunt_list l;
    struct hset seen;
};

static void vlist_add(struct vlist *v, const char *s, size_t max)
{
    if (!s || !*s || !hset_add(&v->seen, hash_folded(s)))
        return;
    if (v->l.n >= max) {
        v->l.more++;
        return;
    }
    char **a = realloc(v->l.v, (v->l.n + 1) * sizeof(*a));
    if (!a)
        abort();
    v->l.v = a;
    a[v->l.n++] = dup_or_null(s);
}

static void list_free(struct hunt_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void list_copy(struct hunt_list *d, const struct hunt_list *s)
{
    *d = *s;
    d->v = s->n ? malloc(s->n * sizeof(*d->v)) : NULL;
    if (s->n && !d->v)
        abort();
    for (size_t i = 0; i < s->n; i++)
        d->v[i] = dup_or_null(s->v[i]);
}

/* ---- probes ---------------------------------------------------------------- */

struct pkey {
    enum ioc_type type;
    const char *value;
    int64_t since, until;
    bool warned;
    size_t ioc;
};

static int cmp_pkey(const void *a, const void *b)
{
    const struct pkey *x = a, *y = b;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    int c = strcmp(x->value, y->value);
    if (c)
        return c;
    if (x->since != y->since)
        return x->since < y->since ? -1 : 1;
    if (x->until != y->until)
        return x->until < y->until ? -1 : 1;
    if (x->warned != y->warned)
        return x->warned ? 1 : -1;
    return (x->ioc > y->ioc) - (x->ioc < y->ioc);
}

static bool same_probe(const struct pkey *x, const struct pkey *y)
{
    return x->type == y->type && !strcmp(x->value, y->value) && x->since == y->since &&
           x->until == y->until && x->warned == y->warned;
}

/* What one probe found. The answer (res) fills as its hits come in
 * (counts, times, days, the timeline's event ids) and as the row sweeps
 * read its events (entities, messages, the timeline's events). */
struct agg {
    bool warned;
    struct hunt_result res; /* ioc unset */
    size_t capdays;
    int64_t *tl_ev; /* the timeline's event ids, in time order */
    size_t ntl;
    struct vlist acc, hosts, mail;
    struct hset qids;
    uint64_t rows; /* events queued for their entities */
};

/* An event row to read, for a probe. */
struct pair {
    int64_t ev;
    uint32_t probe;
    uint8_t flags;
};
enum { PF_ENTITY = 1, PF_TIMELINE = 2, PF_JOINED = 4 };
#define PAIRS_MAX (1u << 20) /* rows queued before a sweep (16 MiB) */

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->ev != y->ev)
        return x->ev < y->ev ? -1 : 1;
    return (x->probe > y->probe) - (x->probe < y->probe);
}

/* The state while store_hunt() hands over hits. */
struct run {
    struct store *s;
    const struct hunt_opts *o;
    struct agg *aggs;
    struct pair *pairs, *joined;
    size_t npairs, cappairs, njoined, capjoined;
};

static int reserve(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static void event_copy(struct hunt_event *d, const struct store_row *r)
{
    d->ts_ns = r->ts_ns;
    d->host = dup_or_null(r->host);
    d->user = dup_or_null(r->user);
    d->action = dup_or_null(r->action);
    d->outcome = dup_or_null(r->outcome);
    d->module = dup_or_null(r->module);
    d->file = dup_or_null(r->file);
    d->source_ip = dup_or_null(r->source_ip);
    d->destination_ip = dup_or_null(r->destination_ip);
    d->email_from = dup_or_null(r->email_from);
    d->email_to = dup_or_null(r->email_to);
    d->line = r->line;
}

static void event_free(struct hunt_event *e)
{
    free(e->host);
    free(e->user);
    free(e->action);
    free(e->outcome);
    free(e->module);
    free(e->file);
    free(e->source_ip);
    free(e->destination_ip);
    free(e->email_from);
    free(e->email_to);
}

/* The Postfix queue id of a stored event's JSON, into out ("" if none). */
static void queue_id_of(const char *json, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    static const char pat[] = "\"queue_id\":\"";
    const char *p = memmem(json, n, pat, sizeof(pat) - 1);
    if (!p)
        return;
    p += sizeof(pat) - 1;
    size_t k = 0;
    while (p + k < json + n && p[k] != '"' && p[k] != '\\' && k + 1 < cap)
        k++;
    memcpy(out, p, k);
    out[k] = '\0';
}

/* Joining a message: its events, queued for the probe being swept. */
struct msg_join {
    struct run *u;
    uint32_t probe;
};

static int on_message_event(void *opaque, int64_t ev, int64_t ts)
{
    (void)ts;
    struct msg_join *m = opaque;
    struct run *u = m->u;
    if (reserve((void **)&u->joined, &u->capjoined, u->njoined + 1, sizeof(*u->joined)) < 0)
        return -ENOMEM;
    u->joined[u->njoined++] = (struct pair){ev, m->probe, PF_JOINED};
    return 0;
}

static void add_entities(struct agg *a, const struct store_row *r, size_t max)
{
    vlist_add(&a->acc, r->user, max);
    vlist_add(&a->hosts, r->host, max);
    vlist_add(&a->mail, r->email_from, max);
    vlist_add(&a->mail, r->email_to, max);
}

/* A message to join for a probe: its queue id and the time of the event
 * that named it. */
struct join {
    char qid[64];
    int64_t ts;
    uint32_t probe;
};

/* Read the rows of pairs p[0..n) in row order (neighbours share pages, and
 * a sweep front to back lets the system read ahead; threads read them for
 * it, store_ahead_rows) and give each probe what it asked of them.
 * Messages found are joined after the rows (by threads too) and their
 * events queued in u->joined. */
static int read_rows(struct run *u, struct pair *p, size_t n)
{
    const struct hunt_opts *o = u->o;
    if (!n)
        return 0;
    qsort(p, n, sizeof(*p), cmp_pair);
    /* the distinct rows, for the threads reading them, and whether their
     * documents may be wanted (for a queue id) */
    int64_t *ids = malloc(n * sizeof(*ids));
    bool *docs = malloc(n * sizeof(*docs));
    size_t nids = 0;
    for (size_t i = 0; ids && docs && i < n; i++) {
        if (!nids || ids[nids - 1] != p[i].ev) {
            ids[nids] = p[i].ev;
            docs[nids++] = false;
        }
        docs[nids - 1] |= (p[i].flags & PF_ENTITY) != 0;
    }
    struct store_ahead *ah = ids && docs ? store_ahead_rows(u->s, ids, docs, nids) : NULL;
    free(ids);
    free(docs);
    struct join *joins = NULL;
    size_t njoins = 0, capjoins = 0, row = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; row++) {
        size_t j = i;
        bool join = false;
        while (j < n && p[j].ev == p[i].ev) {
            join |= (p[j].flags & PF_ENTITY) && u->aggs[p[j].probe].qids.n < o->max_messages;
            j++;
        }
        struct store_row r;
        rc = store_ahead_row(u->s, ah, row, p[i].ev, false, &r);
        if (rc == 0 && join && r.module && !strcmp(r.module, "postfix"))
            rc =
                store_ahead_row(u->s, ah, row, p[i].ev, true, &r); /* its queue id is in the JSON */
        else
            join = false;
        if (rc == -ENOENT) {
            rc = 0;
            i = j;
            continue;
        }
        char qid[64] = "";
        if (rc == 0 && join)
            queue_id_of(r.json, r.json_len, qid, sizeof(qid));
        for (size_t k = i; k < j && rc == 0; k++) {
            struct agg *a = &u->aggs[p[k].probe];
            if (p[k].flags & PF_TIMELINE)
                for (size_t t = 0; t < a->ntl; t++)
                    if (a->tl_ev[t] == p[k].ev && !a->res.timeline[t].file) {
                        event_copy(&a->res.timeline[t], &r);
                        if (!a->res.timeline[t].file)
                            a->res.timeline[t].file = dup_or_null("-");
                        break;
                    }
            if (p[k].flags & (PF_ENTITY | PF_JOINED))
                add_entities(a, &r, o->max_values);
            if ((p[k].flags & PF_ENTITY) && *qid && a->qids.n < o->max_messages &&
                hset_add(&a->qids, XXH3_64bits(qid, strlen(qid)) | 1)) {
                if (reserve((void **)&joins, &capjoins, njoins + 1, sizeof(*joins)) < 0) {
                    rc = -ENOMEM;
                    break;
                }
                struct join *jn = &joins[njoins++];
                memcpy(jn->qid, qid, sizeof(qid));
                jn->ts = r.ts_ns;
                jn->probe = p[k].probe;
            }
        }
        i = j;
    }
    store_ahead_end(ah);
    /* the messages: their events are queued in u->joined, which is read
     * (and sorted) after this, so joining them here rather than as each
     * was found changes nothing */
    if (rc == 0 && njoins) {
        const char **qids = malloc(njoins * sizeof(*qids));
        int64_t *ts = malloc(njoins * sizeof(*ts));
        for (size_t k = 0; qids && ts && k < njoins; k++) {
            qids[k] = joins[k].qid;
            ts[k] = joins[k].ts;
        }
        ah = qids && ts ? store_ahead_messages(u->s, qids, ts, njoins) : NULL;
        free(qids);
        free(ts);
        for (size_t k = 0; k < njoins && rc == 0; k++) {
            struct msg_join m = {u, joins[k].probe};
            rc = store_ahead_message(u->s, ah, k, joins[k].qid, joins[k].ts, on_message_event, &m);
        }
        store_ahead_end(ah);
    }
    free(joins);
    return rc;
}

/* Read the queued rows, then the rows of the messages they led to. */
static int sweep(struct run *u)
{
    int rc = read_rows(u, u->pairs, u->npairs);
    u->npairs = 0;
    if (rc == 0 && u->njoined)
        rc = read_rows(u, u->joined, u->njoined);
    u->njoined = 0;
    return rc;
}

static int queue_row(struct run *u, int64_t ev, uint32_t probe, uint8_t flags)
{
    if (reserve((void **)&u->pairs, &u->cappairs, u->npairs + 1, sizeof(*u->pairs)) < 0)
        return -ENOMEM;
    u->pairs[u->npairs++] = (struct pair){ev, probe, flags};
    return u->npairs >= PAIRS_MAX ? sweep(u) : 0;
}

static int on_hit(void *opaque, const struct store_hit *h)
{
    struct run *u = opaque;
    struct agg *a = &u->aggs[h->probe];
    struct hunt_result *res = &a->res;
    if (!res->events) {
        res->first_ns = res->last_ns = TIME_NONE;
        if (u->o->timeline_events) {
            a->tl_ev = calloc(u->o->timeline_events, sizeof(*a->tl_ev));
            res->timeline = calloc(u->o->timeline_events, sizeof(*res->timeline));
            if (!a->tl_ev || !res->timeline)
                return -ENOMEM;
        }
    }
    res->events++;
    if (h->ts_ns != TIME_NONE) {
        if (res->first_ns == TIME_NONE || h->ts_ns < res->first_ns)
            res->first_ns = h->ts_ns;
        if (res->last_ns == TIME_NONE || h->ts_ns > res->last_ns)
            res->last_ns = h->ts_ns;
    }
    int64_t day = h->ts_ns == TIME_NONE ? TIME_NONE
                  : h->ts_ns >= 0       ? h->ts_ns / DAY_NS * DAY_NS
                                        : -((-h->ts_ns + DAY_NS - 1) / DAY_NS) * DAY_NS;
    if (res->ndays && res->days[res->ndays - 1].day_ns == day) {
        res->days[res->ndays - 1].events++;
    } else {
        if (reserve((void **)&res->days, &a->capdays, res->ndays + 1, sizeof(*res->days)) < 0)
            return -ENOMEM;
        res->days[res->ndays++] = (struct hunt_day){day, 1};
    }
    uint8_t flags = 0;
    if (a->ntl < u->o->timeline_events) {
        a->tl_ev[a->ntl++] = h->ev;
        flags |= PF_TIMELINE;
    }
    if (!a->warned) {
        if (a->rows < u->o->max_rows) {
            a->rows++;
            flags |= PF_ENTITY;
        } else {
            res->entities_partial = true;
        }
    }
    return flags ? queue_row(u, h->ev, (uint32_t)h->probe, flags) : 0;
}

/* After the last sweep: the probe's lists and timeline into its answer. */
static void finish_agg(struct agg *a)
{
    a->res.accounts = a->acc.l;
    a->res.hosts = a->hosts.l;
    a->res.mailboxes = a->mail.l;
    a->res.messages = a->qids.n;
    memset(&a->acc.l, 0, sizeof(a->acc.l));
    memset(&a->hosts.l, 0, sizeof(a->hosts.l));
    memset(&a->mail.l, 0, sizeof(a->mail.l));
    hset_free(&a->acc.seen);
    hset_free(&a->hosts.seen);
    hset_free(&a->mail.seen);
    hset_free(&a->qids);
    /* the timeline's events that were read, in time order */
    size_t o = 0;
    for (size_t t = 0; t < a->ntl; t++)
        if (a->res.timeline[t].file)
            a->res.timeline[o++] = a->res.timeline[t];
    a->res.ntimeline = o;
    free(a->tl_ev);
    a->tl_ev = NULL;
}

/* ---- results ---------------------------------------------------------------- */

static void result_free(struct hunt_result *r)
{
    list_free(&r->accounts);
    list_free(&r->hosts);
    list_free(&r->mailboxes);
    free(r->days);
    for (size_t i = 0; i < r->ntimeline; i++)
        event_free(&r->timeline[i]);
    free(r->timeline);
    memset(r, 0, sizeof(*r));
}

static void result_copy(struct hunt_result *d, const struct hunt_result *s)
{
    *d = *s;
    list_copy(&d->accounts, &s->accounts);
    list_copy(&d->hosts, &s->hosts);
    list_copy(&d->mailboxes, &s->mailboxes);
    d->days = s->ndays ? malloc(s->ndays * sizeof(*d->days)) : NULL;
    if (s->ndays)
        memcpy(d->days, s->days, s->ndays * sizeof(*d->days));
    d->timeline = s->ntimeline ? calloc(s->ntimeline, sizeof(*d->timeline)) : NULL;
    for (size_t i = 0; i < s->ntimeline; i++) {
        const struct hunt_event *e = &s->timeline[i];
        struct hunt_event *t = &d->timeline[i];
        *t = *e;
        t->host = dup_or_null(e->host);
        t->user = dup_or_null(e->user);
        t->action = dup_or_null(e->action);
        t->outcome = dup_or_null(e->outcome);
        t->module = dup_or_null(e->module);
        t->file = dup_or_null(e->file);
        t->source_ip = dup_or_null(e->source_ip);
        t->destination_ip = dup_or_null(e->destination_ip);
        t->email_from = dup_or_null(e->email_from);
        t->email_to = dup_or_null(e->email_to);
    }
}

static int cmp_result(const void *a, const void *b, void *batch)
{
    const struct hunt_result *x = a, *y = b;
    const struct ioc_batch *sort_batch = batch;
    if (x->warned != y->warned)
        return x->warned ? 1 : -1;
    /* events without a time last */
    int64_t fx = x->first_ns == TIME_NONE ? INT64_MAX : x->first_ns;
    int64_t fy = y->first_ns == TIME_NONE ? INT64_MAX : y->first_ns;
    if (fx != fy)
        return fx < fy ? -1 : 1;
    int c = strcmp(sort_batch->iocs[x->ioc].value, sort_batch->iocs[y->ioc].value);
    return c ? c : (x->ioc > y->ioc) - (x->ioc < y->ioc);
}

/* ---- STIX patterns ------------------------------------------------------------ */

/* One pattern being hunted. */
struct hpat {
    size_t ioc;
    struct stix_pattern *sp;
    struct stix_matcher *m;
    int64_t since, until;
    bool warned, indexed, partial;
    uint64_t candidates; /* events of the index for it */
    uint64_t matches;
    struct phit {
        int64_t ts, ev;
    } * hits; /* the events of its matches */
    size_t nhits, caphits;
};

struct cand {
    int64_t ts, ev;
    uint32_t pat;
};

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    if (x->ev != y->ev)
        return x->ev < y->ev ? -1 : 1;
    return (x->pat > y->pat) - (x->pat < y->pat);
}

static int cmp_phit(const void *a, const void *b)
{
    const struct phit *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->ev > y->ev) - (x->ev < y->ev);
}

/* Everything the pattern hunt holds. */
struct prun {
    struct store *s;
    const struct hunt_opts *o;
    struct hunt_report *r;
    struct hpat *pats;
    size_t npats;
    /* the index's probes: one per (pattern, value) */
    struct store_probe *probes;
    uint32_t *probe_pat;
    size_t nprobes, capprobes;
    struct arena values;
    uint32_t cur; /* the pattern whose values are being listed */
    int error;
    struct cand *cands;
    size_t ncands, capcands;
    /* the event being fed */
    struct arena evarena;
    struct event ev;
};

static void on_index_value(void *opaque, uint32_t obs, enum ioc_type t, const char *v, size_t n)
{
    (void)obs;
    struct prun *pr = opaque;
    const struct hpat *hp = &pr->pats[pr->cur];
    if (pr->error)
        return;
    if (reserve((void **)&pr->probes, &pr->capprobes, pr->nprobes + 1, sizeof(*pr->probes)) < 0 ||
        !(pr->probe_pat = realloc(pr->probe_pat, pr->capprobes * sizeof(*pr->probe_pat)))) {
        pr->error = -ENOMEM;
        return;
    }
    pr->probes[pr->nprobes] =
        (struct store_probe){t, arena_strndup(&pr->values, v, n), hp->since, hp->until};
    pr->probe_pat[pr->nprobes++] = pr->cur;
}

static int on_pattern_candidate(void *opaque, const struct store_hit *h)
{
    struct prun *pr = opaque;
    uint32_t pi = pr->probe_pat[h->probe];
    struct hpat *hp = &pr->pats[pi];
    if (hp->candidates >= pr->o->max_pattern_events) {
        hp->partial = true;
        return 0;
    }
    hp->candidates++;
    if (reserve((void **)&pr->cands, &pr->capcands, pr->ncands + 1, sizeof(*pr->cands)) < 0)
        return -ENOMEM;
    pr->cands[pr->ncands++] = (struct cand){h->ts_ns, h->ev, pi};
    return 0;
}

static int on_pattern_match(void *opaque, void *user, const struct stix_evref *evs, size_t nevs)
{
    (void)opaque;
    struct hpat *hp = user;
    hp->matches++;
    for (size_t i = 0; i < nevs; i++) {
        if (reserve((void **)&hp->hits, &hp->caphits, hp->nhits + 1, sizeof(*hp->hits)) < 0)
            return -ENOMEM;
        hp->hits[hp->nhits++] = (struct phit){evs[i].ts_ns, (int64_t)evs[i].id};
    }
    return 0;
}

/* Read stored event ev into pr->ev. Returns 0, 1 when it cannot be read
 * back (gone, or not an event's JSON: skipped), or a negative errno. */
static int load_event(struct prun *pr, int64_t ev)
{
    struct store_row row;
    int rc = store_event_get(pr->s, ev, true, &row);
    if (rc == -ENOENT)
        return 1;
    if (rc < 0)
        return rc;
    arena_reset(&pr->evarena);
    return stored_event_read(&row, (uint64_t)ev, &pr->evarena, &pr->ev) < 0 ? 1 : 0;
}

static int feed(struct prun *pr, struct hpat *hp)
{
    int rc = stix_matcher_feed(hp->m, &pr->ev, on_pattern_match, pr);
    return rc < 0 ? rc : 0;
}

/* A window scan: every event of the window, to every pattern that needs
 * it. */
static int on_window_event(void *opaque, int64_t ev, int64_t ts)
{
    struct prun *pr = opaque;
    bool wanted = false;
    for (size_t i = 0; i < pr->npats && !wanted; i++) {
        const struct hpat *hp = &pr->pats[i];
        wanted = !hp->indexed && hp->m && (hp->since == TIME_NONE || ts >= hp->since) &&
                 (hp->until == TIME_NONE || ts < hp->until);
    }
    if (!wanted)
        return 0;
    int rc = load_event(pr, ev);
    if (rc)
        return rc < 0 ? rc : 0;
    pr->r->window_events++;
    for (size_t i = 0; i < pr->npats && rc == 0; i++) {
        struct hpat *hp = &pr->pats[i];
        if (!hp->indexed && hp->m && (hp->since == TIME_NONE || ts >= hp->since) &&
            (hp->until == TIME_NONE || ts < hp->until))
            rc = feed(pr, hp);
    }
    return rc;
}

/* Hunt the STIX patterns pats[0..n) (compiled, windows set) and append
 * the answers of those that matched to r->results. */
static int hunt_patterns(struct store *s, const struct hunt_opts *o, struct hpat *pats, size_t n,
                         struct hunt_report *r)
{
    struct prun pr = {.s = s, .o = o, .r = r, .pats = pats, .npats = n};
    arena_init(&pr.values, 1 << 14);
    arena_init(&pr.evarena, 1 << 16);
    int rc = 0;
    bool scan = false;
    int64_t wsince = INT64_MAX, wuntil = INT64_MIN;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct hpat *hp = &pats[i];
        hp->m = stix_matcher_new(NULL);
        if (!hp->m || stix_matcher_add(hp->m, hp->sp, hp) < 0) {
            /* a pattern that needs more observations than can be kept
             * never matches */
            stix_matcher_free(hp->m);
            hp->m = NULL;
            continue;
        }
        pr.cur = (uint32_t)i;
        hp->indexed = stix_pattern_index_values(hp->sp, on_index_value, &pr) == 1;
        rc = pr.error;
        if (hp->indexed) {
            r->patterns_indexed++;
        } else {
            r->patterns_scanned++;
            scan = true;
            wsince = hp->since == TIME_NONE ? INT64_MIN : (hp->since < wsince ? hp->since : wsince);
            wuntil = hp->until == TIME_NONE ? INT64_MAX : (hp->until > wuntil ? hp->until : wuntil);
        }
    }
    /* 1. the indexed patterns: their candidates, in time order */
    if (rc == 0 && pr.nprobes)
        rc = store_hunt(s, pr.probes, pr.nprobes, on_pattern_candidate, NULL, &pr);
    if (rc == 0 && pr.ncands) {
        qsort(pr.cands, pr.ncands, sizeof(*pr.cands), cmp_cand);
        int64_t cur = 0;
        bool have = false, ok = false;
        for (size_t i = 0; i < pr.ncands && rc == 0; i++) {
            const struct cand *c = &pr.cands[i];
            if (i && c->ev == pr.cands[i - 1].ev && c->pat == pr.cands[i - 1].pat)
                continue; /* two values of the pattern in one event */
            if (!have || c->ev != cur) {
                cur = c->ev;
                have = true;
                int lr = load_event(&pr, c->ev);
                rc = lr < 0 ? lr : 0;
                ok = lr == 0;
                r->pattern_candidates += ok;
            }
            if (ok && rc == 0)
                rc = feed(&pr, &pats[c->pat]);
        }
    }
    /* 2. the others: every event of their window */
    if (rc == 0 && scan)
        rc = store_window_events(s, wsince == INT64_MIN ? TIME_NONE : wsince,
                                 wuntil == INT64_MAX ? TIME_NONE : wuntil, on_window_event, &pr);
    /* 3. the events of the matches: answers as for values */
    size_t nm = 0;
    for (size_t i = 0; i < n; i++)
        nm += pats[i].nhits != 0;
    struct agg *aggs = calloc(nm + 1, sizeof(*aggs));
    size_t *of = calloc(nm + 1, sizeof(*of));
    struct run u = {.s = s, .o = o, .aggs = aggs};
    if (rc == 0 && (!aggs || !of))
        rc = -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct hpat *hp = &pats[i];
        r->patterns_partial += hp->partial;
        if (!hp->nhits)
            continue;
        qsort(hp->hits, hp->nhits, sizeof(*hp->hits), cmp_phit);
        aggs[k].warned = hp->warned;
        of[k] = i;
        for (size_t j = 0; j < hp->nhits && rc == 0; j++) {
            struct store_hit h = {k, hp->hits[j].ts, hp->hits[j].ev};
            rc = on_hit(&u, &h);
        }
        k++;
    }
    if (rc == 0)
        rc = sweep(&u);
    for (size_t i = 0; i < k; i++)
        finish_agg(&aggs[i]);
    for (size_t i = 0; i < k && rc == 0; i++) {
        struct hunt_result *nr = realloc(r->results, (r->nresults + 1) * sizeof(*nr));
        if (!nr) {
            rc = -ENOMEM;
            break;
        }
        r->results = nr;
        struct hunt_result *res = &r->results[r->nresults++];
        *res = aggs[i].res; /* moved */
        memset(&aggs[i].res, 0, sizeof(aggs[i].res));
        res->ioc = pats[of[i]].ioc;
        res->warned = aggs[i].warned;
        res->matches = pats[of[i]].matches;
        if (res->warned) {
            r->warned_seen++;
        } else {
            r->hits++;
            r->events += res->events;
        }
    }
    for (size_t i = 0; i < k; i++) {
        list_free(&aggs[i].acc.l);
        list_free(&aggs[i].hosts.l);
        list_free(&aggs[i].mail.l);
        hset_free(&aggs[i].acc.seen);
        hset_free(&aggs[i].hosts.seen);
        hset_free(&aggs[i].mail.seen);
        hset_free(&aggs[i].qids);
        free(aggs[i].tl_ev);
        result_free(&aggs[i].res);
    }
    free(aggs);
    free(of);
    free(u.pairs);
    free(u.joined);
    for (size_t i = 0; i < n; i++) {
        stix_matcher_free(pats[i].m);
        pats[i].m = NULL;
    }
    free(pr.probes);
    free(pr.probe_pat);
    free(pr.cands);
    arena_free(&pr.values);
    arena_free(&pr.evarena);
    return rc;
}

/* ---- the hunt ----------------------------------------------------------------- */

static int64_t max_bound(int64_t a, int64_t b)
{
    return a == TIME_NONE ? b : b == TIME_NONE ? a : a > b ? a : b;
}
static int64_t min_bound(int64_t a, int64_t b)
{
    return a == TIME_NONE ? b : b == TIME_NONE ? a : a < b ? a : b;
}

static void progress_adapter(void *opaque, int phase, uint64_t done, uint64_t total)
{
    const struct run *u = opaque;
    if (u->o->progress)
        u->o->progress(u->o->progress_opaque, phase, done, total);
}

/* The hunt of b into r (initialised by the caller). */
static int hunt_run(struct store *s, const struct ioc_batch *b, const struct hunt_opts *opts,
                    struct hunt_report *r)
{
    double t0 = now_s();
    struct hunt_opts o;
    if (opts)
        o = *opts;
    else
        hunt_opts_default(&o);
    r->batch = b;
    r->indicators = b->niocs;

    /* 1. probes */
    struct pkey *keys = calloc(b->niocs + 1, sizeof(*keys));
    size_t nk = 0, npats = 0;
    struct hpat *pats = NULL;
    if (!keys)
        return -ENOMEM;
    for (size_t i = 0; i < b->niocs; i++) {
        const struct ioc *c = &b->iocs[i];
        const struct ioc_meta *m = c->meta < b->nmetas ? &b->metas[c->meta] : NULL;
        if (!c->value)
            continue;
        if (m && m->revoked) {
            r->skipped_revoked++;
            continue;
        }
        int64_t since = max_bound(o.since_ns, m ? m->valid_from : TIME_NONE);
        int64_t until = min_bound(o.until_ns, m ? m->valid_until : TIME_NONE);
        if (since != TIME_NONE && until != TIME_NONE && until <= since) {
            r->skipped_window++;
            continue;
        }
        if (c->type == IOC_PATTERN) {
            struct stix_pattern *sp = NULL;
            char err[256];
            if (stix_pattern_compile(c->value, strlen(c->value), &sp, err, sizeof(err)) < 0) {
                r->skipped_pattern++; /* the import reported why */
                continue;
            }
            struct hpat *np_ = realloc(pats, (npats + 1) * sizeof(*np_));
            if (!np_) {
                stix_pattern_free(sp);
                break;
            }
            pats = np_;
            pats[npats++] = (struct hpat){
                .ioc = i, .sp = sp, .since = since, .until = until, .warned = c->warning != NULL};
            r->patterns++;
            r->hunted++;
            continue;
        }
        switch (c->type) {
        case IOC_DOMAIN:
        case IOC_URL:
        case IOC_MD5:
        case IOC_SHA1:
        case IOC_SHA256:
        case IOC_FILENAME:
        case IOC_USER_AGENT:
            r->needs_v2_keys = true;
            break;
        default:
            break;
        }
        keys[nk++] = (struct pkey){c->type, c->value, since, until, c->warning != NULL, i};
        r->hunted++;
    }
    qsort(keys, nk, sizeof(*keys), cmp_pkey);
    size_t np = 0;
    size_t *probe_of = calloc(nk + 1, sizeof(*probe_of));
    struct store_probe *probes = calloc(nk + 1, sizeof(*probes));
    struct agg *aggs = calloc(nk + 1, sizeof(*aggs));
    struct run u = {.s = s, .o = &o, .aggs = aggs};
    int rc = probe_of && probes && aggs ? 0 : -ENOMEM;
    for (size_t i = 0; i < nk && rc == 0; i++) {
        if (!i || !same_probe(&keys[i], &keys[i - 1])) {
            probes[np] =
                (struct store_probe){keys[i].type, keys[i].value, keys[i].since, keys[i].until};
            aggs[np].warned = keys[i].warned;
            np++;
        }
        probe_of[i] = np - 1;
    }

    /* 2, 3. the index, then each probe's events, in one read snapshot */
    bool snapshot = rc == 0 && store_read_begin(s) == 0;
    if (rc == 0)
        rc = store_hunt(s, probes, np, on_hit, progress_adapter, &u);
    /* the rows still queued */
    if (rc == 0)
        rc = sweep(&u);
    for (size_t i = 0; i < np; i++)
        finish_agg(&aggs[i]);
    /* the STIX patterns, in the same snapshot */
    if (rc == 0 && npats)
        rc = hunt_patterns(s, &o, pats, npats, r);
    if (snapshot)
        store_read_end(s);

    /* 4. every indicator gets its probe's answer */
    for (size_t i = 0; i < nk && rc == 0; i++) {
        struct agg *a = &aggs[probe_of[i]];
        if (!a->res.events)
            continue;
        struct hunt_result *nr = realloc(r->results, (r->nresults + 1) * sizeof(*nr));
        if (!nr) {
            rc = -ENOMEM;
            break;
        }
        r->results = nr;
        struct hunt_result *res = &r->results[r->nresults++];
        result_copy(res, &a->res);
        res->ioc = keys[i].ioc;
        res->warned = a->warned;
        if (a->warned) {
            r->warned_seen++;
        } else {
            r->hits++;
            r->events += a->res.events;
        }
    }
    if (rc == 0 && r->nresults) {
        qsort_r(r->results, r->nresults, sizeof(*r->results), cmp_result, (void *)b);
    }
    if (rc == 0 && r->needs_v2_keys) {
        int64_t n = store_events_before_v2(s);
        r->events_before_v2 = n > 0 ? n : 0;
    }
    for (size_t i = 0; i < np; i++) {
        if (aggs[i].tl_ev) /* an error before finish_agg */
            finish_agg(&aggs[i]);
        list_free(&aggs[i].acc.l);
        list_free(&aggs[i].hosts.l);
        list_free(&aggs[i].mail.l);
        hset_free(&aggs[i].acc.seen);
        hset_free(&aggs[i].hosts.seen);
        hset_free(&aggs[i].mail.seen);
        hset_free(&aggs[i].qids);
        result_free(&aggs[i].res);
    }
    free(aggs);
    free(probes);
    free(probe_of);
    free(keys);
    for (size_t i = 0; i < npats; i++) {
        stix_pattern_free(pats[i].sp);
        free(pats[i].hits);
    }
    free(pats);
    free(u.pairs);
    free(u.joined);
    r->seconds = now_s() - t0;
    return rc;
}

int hunt_batch(struct store *s, const struct ioc_batch *b, const struct hunt_opts *o,
               struct hunt_report *r)
{
    memset(r, 0, sizeof(*r));
    return hunt_run(s, b, o, r);
}

/* ---- the store's intelligence ---------------------------------------------------- */

struct loader {
    struct ioc_batch *b;
    int64_t *ids; /* meta_id of each batch meta, for the lookup below */
    uint32_t *slot;
    size_t cap; /* open addressing: meta_id -> batch meta index + 1 */
};

static int load_one(void *opaque, const struct ioc *ioc, const struct ioc_meta *meta,
                    int64_t meta_id)
{
    struct loader *l = opaque;
    struct ioc_batch *b = l->b;
    if ((size_t)b->nmetas * 2 + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        int64_t *ids = calloc(cap, sizeof(*ids));
        uint32_t *slot = calloc(cap, sizeof(*slot));
        if (!ids || !slot) {
            free(ids);
            free(slot);
            return -ENOMEM;
        }
        for (size_t i = 0; i < l->cap; i++)
            if (l->slot[i]) {
                size_t j = (size_t)XXH3_64bits(&l->ids[i], sizeof(int64_t)) & (cap - 1);
                while (slot[j])
                    j = (j + 1) & (cap - 1);
                ids[j] = l->ids[i];
                slot[j] = l->slot[i];
            }
        free(l->ids);
        free(l->slot);
        l->ids = ids;
        l->slot = slot;
        l->cap = cap;
    }
    size_t j = (size_t)XXH3_64bits(&meta_id, sizeof(meta_id)) & (l->cap - 1);
    while (l->slot[j] && l->ids[j] != meta_id)
        j = (j + 1) & (l->cap - 1);
    if (!l->slot[j]) {
        l->ids[j] = meta_id;
        l->slot[j] = ioc_batch_add_meta(b, meta) + 1;
    }
    /* the value is stored normalised: append it as it is */
    if (b->niocs == b->capiocs) {
        size_t cap = b->capiocs ? b->capiocs * 2 : 1024;
        struct ioc *n = realloc(b->iocs, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        b->iocs = n;
        b->capiocs = cap;
    }
    struct ioc *c = &b->iocs[b->niocs++];
    *c = *ioc;
    c->meta = l->slot[j] - 1;
    c->value = ioc_batch_strdup(b, ioc->value);
    c->warning = ioc_batch_strdup(b, ioc->warning);
    return 0;
}

int hunt_store(struct store *s, int64_t import_id, const struct hunt_opts *o, struct hunt_report *r)
{
    memset(r, 0, sizeof(*r));
    ioc_batch_init(&r->owned, "store", "store");
    r->owns = true;
    struct loader l = {.b = &r->owned};
    int rc = store_intel_load(s, import_id, load_one, &l);
    free(l.ids);
    free(l.slot);
    if (rc < 0)
        return rc;
    return hunt_run(s, &r->owned, o, r);
}

void hunt_report_free(struct hunt_report *r)
{
    for (size_t i = 0; i < r->nresults; i++)
        result_free(&r->results[i]);
    free(r->results);
    if (r->owns)
        ioc_batch_free(&r->owned);
    memset(r, 0, sizeof(*r));
}
