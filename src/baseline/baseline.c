/*
 * baseline.c - the baseline engine: runs the profile modules on every
 * event, and turns their facts into anomaly alerts (see baseline.h,
 * bl-module.h and docs/baselines.md).
 *
 * Facts. A module emits a fact when an event departs from an entity's
 * profile. The engine drops the facts a suppression matches (counted),
 * keeps the others in the entity's timeline (its last BL_TIMELINE facts,
 * rendered as JSON at once, since the event dies with its batch) and, with
 * a store, in a list of facts to save.
 *
 * Stacking. The score of an entity at a fact of time t is the sum, over
 * feature groups, of the highest score among the timeline's facts within
 * `window` of t (either side: `scan` reads one file after the other, so
 * facts of the same hour may come from files read apart). A group is the
 * fact's detector and feature, except that the first-seen location
 * features (network, asn, country) form one group: a new network in a new
 * country is one piece of evidence, not three. When the score reaches
 * level_low an alert is raised, listing the group maxima; on the same
 * entity, another alert comes within the window only when the level
 * rises, so a burst of facts pages once per level.
 *
 * After a restart, baseline_restore() puts the saved facts of the last
 * window back into the timelines with the levels they reached, so
 * stacking goes on where it stopped. With baseline_set_learnt() (kenchi
 * scan into a store), the events of lines an earlier run learnt are not
 * given to the modules again.
 *
 * Time is event time only: `now` is the newest event time seen, aging
 * runs when it enters a new day. The same input in the same order gives
 * the same alerts, byte for byte.
 *
 * Memory: the timelines are bounded by max_entities (the least recently
 * updated entity goes first) and by BL_TIMELINE facts each; the modules
 * bound their own profiles (bl-module.h). The facts kept for the store are
 * bounded by BL_PENDING_MAX between two saves.
 */
#include "baseline/baseline.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline/bl-geo.h"
#include "baseline/bl-module.h"
#include "baseline/bl-prim.h"
#include "detect/detector.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/timeconv.h"

/* ---- the modules ---------------------------------------------------------
 * The profile modules (bl-module.h), in the order they run, and the
 * geolocation (bl-geo.c). */
static const struct bl_module_ops *const builtin_modules[] = {
    &bl_account_module,
    &bl_application_module,
    &bl_host_module,
    &bl_spraying_module,
};
#define NBUILTIN (sizeof(builtin_modules) / sizeof(builtin_modules[0]))
static int geo_open(const char *asn, const char *country, struct bl_geo **out, char **err)
{
    *out = NULL;
    if (!asn && !country)
        return 0;
    return bl_geo_open(asn, country, out, err);
}
static void geo_close(struct bl_geo *g)
{
    if (g)
        bl_geo_close(g);
}

#define BL_LABELS_MAX  (1u << 22) /* interned value names, whole engine */
#define BL_PENDING_MAX (1u << 20) /* facts kept for the store between saves */
#define SCORE_EPS      1e-6       /* sums of decimal scores are not exact */

/* ---- entities and their timelines ----------------------------------------- */

/* One fact in a timeline: everything an alert or the store needs, in one
 * allocation (the strings follow the struct). */
struct efact {
    int64_t ts_ns;
    uint32_t t; /* event time (s) */
    double score;
    uint64_t group;  /* hash of the feature group */
    uint64_t seq;    /* emission order: ties */
    const char *det; /* into text[] */
    const char *text;
    const char *tags;  /* "" when none */
    const char *json;  /* the fact object as alerts list it */
    const char *evref; /* {"id":...,"source":{...}} */
    size_t bytes;
    char data[];
};

struct entity {
    struct entity *hnext;       /* hash chain */
    struct entity *prev, *next; /* recency list, most recent last */
    uint64_t h;
    uint8_t kind;
    uint8_t level;    /* level of the last alert (0: none) */
    uint32_t alert_t; /* its time */
    uint32_t last;    /* time of the newest fact */
    uint16_t n, head; /* ring of facts: f[(head + i) % BL_TIMELINE] */
    struct efact *f[BL_TIMELINE];
    char id[];
};

/* A fact waiting for the store: offsets into pend_text until taken. */
struct pending {
    int64_t ts_ns;
    double score;
    uint64_t event_id;
    uint8_t kind;
    size_t entity, det, feature, value, text, json; /* SIZE_MAX: NULL */
};

struct baseline {
    struct bl_config cfg;      /* current (baseline_reconfigure replaces it) */
    struct bl_config mcfg;     /* what the modules were created with: kept */
    struct bl_cidrs *supp_net; /* per suppression, its network parsed (n 0: none) */
    struct bl_labels labels;
    struct bl_geo *geo;
    const struct bl_module_ops *ops[BL_MAX_MODULES];
    void *mod[BL_MAX_MODULES];
    size_t nmod;
    size_t cur;                         /* the module running */
    uint64_t mod_facts[BL_MAX_MODULES]; /* facts each module emitted */
    struct bl_ctx ctx;
    uint32_t now;
    uint32_t aged_day; /* the event-time day aging last ran for */
    struct detector *d;
    int error;
    /* entities */
    struct entity **tab;
    size_t tabsize, nent;
    struct entity *lru_head, *lru_tail;
    uint64_t fact_seq;
    uint64_t bytes; /* timelines */
    /* the store */
    bool keep_facts;
    struct pending *pend;
    size_t npend, cappend;
    struct buf pend_text;
    /* rows handed out by baseline_take_rows */
    struct buf rows_text;
    struct store_bl_profile *rp;
    size_t nrp, caprp;
    struct store_bl_fact *rf;
    size_t caprf;
    struct baseline_stats st;
    struct buf scratch;
    /* the files read, when asked what an earlier run learnt of them */
    uint64_t (*learnt)(void *opaque, const char *path);
    void *learnt_opaque;
    struct bl_file {
        char *path;    /* the events' source.file */
        uint64_t skip; /* lines up to this were learnt before */
        uint64_t line; /* the last line learnt now */
        uint64_t skipped;
    } * files;
    size_t nfiles;
    struct bl_file *cur_file;
};

static void efact_free(struct baseline *b, struct efact *f)
{
    if (!f)
        return;
    b->bytes -= f->bytes;
    free(f);
}

static void entity_unlink(struct baseline *b, struct entity *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        b->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        b->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void entity_touch(struct baseline *b, struct entity *e)
{
    if (b->lru_tail == e)
        return;
    if (e->prev || e->next || b->lru_head == e)
        entity_unlink(b, e);
    e->prev = b->lru_tail;
    if (b->lru_tail)
        b->lru_tail->next = e;
    else
        b->lru_head = e;
    b->lru_tail = e;
}

static uint64_t entity_hash(int kind, const char *id)
{
    return bl_hash_str(id) * 31 + (uint64_t)kind;
}

static struct entity *entity_find(const struct baseline *b, int kind, const char *id)
{
    if (!b->tabsize)
        return NULL;
    uint64_t h = entity_hash(kind, id);
    for (struct entity *e = b->tab[h & (b->tabsize - 1)]; e; e = e->hnext)
        if (e->h == h && e->kind == kind && !strcmp(e->id, id))
            return e;
    return NULL;
}

static void entity_remove(struct baseline *b, struct entity *e)
{
    struct entity **pp = &b->tab[e->h & (b->tabsize - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    entity_unlink(b, e);
    for (unsigned i = 0; i < e->n; i++)
        efact_free(b, e->f[(e->head + i) % BL_TIMELINE]);
    b->bytes -= sizeof(*e) + strlen(e->id) + 1;
    b->nent--;
    free(e);
}

static int table_grow(struct baseline *b)
{
    size_t size = b->tabsize ? b->tabsize * 2 : 1024;
    struct entity **t = calloc(size, sizeof(*t));
    if (!t)
        return -ENOMEM;
    for (size_t i = 0; i < b->tabsize; i++)
        for (struct entity *e = b->tab[i], *next; e; e = next) {
            next = e->hnext;
            e->hnext = t[e->h & (size - 1)];
            t[e->h & (size - 1)] = e;
        }
    b->bytes += (size - b->tabsize) * sizeof(*t);
    free(b->tab);
    b->tab = t;
    b->tabsize = size;
    return 0;
}

static struct entity *entity_get(struct baseline *b, int kind, const char *id)
{
    struct entity *e = entity_find(b, kind, id);
    if (e)
        return e;
    while (b->cfg.max_entities && b->nent >= b->cfg.max_entities && b->lru_head) {
        entity_remove(b, b->lru_head);
        b->st.evicted++;
    }
    if (b->nent + 1 > b->tabsize / 2 && table_grow(b) < 0)
        return NULL;
    size_t n = strlen(id);
    e = calloc(1, sizeof(*e) + n + 1);
    if (!e)
        return NULL;
    memcpy(e->id, id, n + 1);
    e->kind = (uint8_t)kind;
    e->h = entity_hash(kind, id);
    e->hnext = b->tab[e->h & (b->tabsize - 1)];
    b->tab[e->h & (b->tabsize - 1)] = e;
    b->nent++;
    b->bytes += sizeof(*e) + n + 1;
    return e;
}

/* ---- rendering ------------------------------------------------------------- */

static void put_str(struct buf *b, const char *s)
{
    if (s)
        json_put_string(b, s, strlen(s));
    else
        buf_puts(b, "null");
}

/* A score with at most two decimals: 1.3, 0.45, 2. */
static void put_score(struct buf *b, double v)
{
    char t[32];
    snprintf(t, sizeof(t), "%.2f", round(v * 100) / 100);
    size_t n = strlen(t);
    while (n && t[n - 1] == '0')
        t[--n] = '\0';
    if (n && t[n - 1] == '.')
        t[--n] = '\0';
    buf_puts(b, t);
}

static void put_evref(struct buf *b, const struct event *ev)
{
    static const char hex[] = "0123456789abcdef";
    char id[19];
    id[0] = '"';
    for (int i = 0; i < 16; i++)
        id[1 + i] = hex[(ev->id >> (60 - 4 * i)) & 15];
    id[17] = '"';
    id[18] = '\0';
    buf_puts(b, "{\"id\":");
    buf_puts(b, id);
    buf_puts(b, ",\"source\":{\"file\":");
    put_str(b, ev->file ? ev->file : "-");
    if (ev->record) {
        buf_puts(b, ",\"record\":");
        buf_put_u64(b, ev->record);
    } else {
        buf_puts(b, ",\"line\":");
        buf_put_u64(b, ev->line);
    }
    buf_puts(b, "}}");
}

static const char *const level_names[] = {"", "low", "medium", "high", "critical"};

static int level_of(const struct bl_config *c, double score)
{
    score += SCORE_EPS;
    return score >= c->level_critical ? 4
           : score >= c->level_high   ? 3
           : score >= c->level_medium ? 2
           : score >= c->level_low    ? 1
                                      : 0;
}

/* The group of a fact's feature: the first-seen location features are
 * one group, and the time features (hour, weekday) another: a login at
 * an unusual hour of an unusual day is one piece of evidence. */
static uint64_t group_of(const char *det, const char *feature)
{
    const char *g = feature ? feature : "";
    if (det && !strcmp(det, BL_DET_FIRST_SEEN) &&
        (!strcmp(g, "network") || !strcmp(g, "asn") || !strcmp(g, "country")))
        g = "location";
    if (det && !strcmp(det, BL_DET_TIME))
        g = "time";
    return bl_hash_str(det ? det : "") * 1000003u ^ bl_hash_str(g);
}

/* ---- suppressions ---------------------------------------------------------- */

/* An address in text that may carry a port ("192.0.2.1:443",
 * "[2001:db8::1]:443") or a prefix length. */
static bool parse_addr_loose(const char *s, struct bl_addr *a)
{
    if (!s || !*s)
        return false;
    size_t n = strlen(s);
    const char *slash = strchr(s, '/');
    if (slash)
        n = (size_t)(slash - s);
    if (bl_addr_parse(s, n, a))
        return true;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        return close && bl_addr_parse(s + 1, (size_t)(close - s - 1), a);
    }
    const char *colon = memchr(s, ':', n);
    if (colon && !memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)))
        return bl_addr_parse(s, (size_t)(colon - s), a);
    return false;
}

static bool suppressed(const struct baseline *b, const struct bl_fact *f)
{
    for (size_t i = 0; i < b->cfg.nsuppress; i++) {
        const struct bl_suppress *s = &b->cfg.suppress[i];
        if (s->kind >= 0 && s->kind != (int)f->kind)
            continue;
        if (s->entity && (!f->entity || strcmp(s->entity, f->entity)))
            continue;
        if (s->application && (!f->application || strcasecmp(s->application, f->application)))
            continue;
        if (s->detector && (!f->detector || strcmp(s->detector, f->detector)))
            continue;
        if (s->feature && (!f->feature || strcmp(s->feature, f->feature)))
            continue;
        if (s->network) {
            const struct bl_cidrs *l = &b->supp_net[i];
            struct bl_addr a;
            bool in = false;
            if (f->network) {
                struct bl_cidr c;
                /* the fact's network lies inside: its address matches and
                 * it is no wider than the suppression's */
                in = bl_cidr_parse(f->network, &c) && l->n && c.bits >= l->v[0].bits &&
                     bl_cidrs_match(l, &c.net);
                if (!in && !strcmp(f->network, s->network))
                    in = true;
            }
            if (!in && parse_addr_loose(f->value, &a))
                in = bl_cidrs_match(l, &a);
            if (!in)
                continue;
        }
        return true;
    }
    return false;
}

static int parse_suppressions(struct baseline *b, char **err)
{
    free(b->supp_net ? b->supp_net[0].v : NULL);
    free(b->supp_net);
    b->supp_net = NULL;
    if (!b->cfg.nsuppress)
        return 0;
    b->supp_net = calloc(b->cfg.nsuppress, sizeof(*b->supp_net));
    struct bl_cidr *v = calloc(b->cfg.nsuppress, sizeof(*v));
    if (!b->supp_net || !v) {
        free(v);
        return -ENOMEM;
    }
    b->supp_net[0].v = v; /* one array; entry i uses v[i] */
    for (size_t i = 0; i < b->cfg.nsuppress; i++) {
        const char *net = b->cfg.suppress[i].network;
        if (!net)
            continue;
        if (!bl_cidr_parse(net, &v[i])) {
            if (asprintf(err, "suppress: '%s' is not an address or CIDR", net) < 0)
                *err = NULL;
            return -EINVAL;
        }
        b->supp_net[i].v = &v[i];
        b->supp_net[i].n = 1;
    }
    return 0;
}

/* ---- facts and alerts ------------------------------------------------------ */

static struct efact *efact_alloc(struct baseline *b, int64_t ts, uint32_t t, double score,
                                 const char *detector, const char *feature, const char *text,
                                 const char *tags, const char *json, size_t njson,
                                 const char *evref, size_t nref);

static struct efact *efact_make(struct baseline *b, const struct bl_fact *f, uint32_t t)
{
    struct buf *j = &b->scratch;
    buf_clear(j);
    const struct event *ev = f->ev;
    int64_t ts = ev ? ev->ts_ns : TIME_NONE;
    buf_puts(j, "{\"@timestamp\":");
    json_put_time(j, ts);
    buf_puts(j, ",\"detector\":");
    put_str(j, f->detector ? f->detector : "");
    buf_puts(j, ",\"feature\":");
    put_str(j, f->feature ? f->feature : "");
    buf_puts(j, ",\"value\":");
    put_str(j, f->value);
    buf_puts(j, ",\"score\":");
    put_score(j, f->score);
    buf_puts(j, ",\"text\":");
    put_str(j, f->text ? f->text : "");
    buf_puts(j, ",\"event\":");
    size_t evref_at = j->len;
    if (ev)
        put_evref(j, ev);
    else
        buf_puts(j, "null");
    size_t evref_end = j->len;
    buf_putc(j, '}');
    return efact_alloc(b, ts, t, f->score, f->detector, f->feature, f->text, f->tags, j->data,
                       j->len, j->data + evref_at, evref_end - evref_at);
}

/* A fact of the timeline from its parts (json: the fact object, evref:
 * its event reference, neither NUL-terminated). */
static struct efact *efact_alloc(struct baseline *b, int64_t ts, uint32_t t, double score,
                                 const char *detector, const char *feature, const char *text,
                                 const char *tags, const char *json, size_t njson,
                                 const char *evref, size_t nref)
{
    const char *det = detector ? detector : "";
    text = text ? text : "";
    tags = tags ? tags : "";
    size_t ldet = strlen(det) + 1, ltext = strlen(text) + 1, ltags = strlen(tags) + 1;
    size_t ljson = njson + 1, lref = nref + 1;
    size_t size = sizeof(struct efact) + ldet + ltext + ltags + ljson + lref;
    struct efact *e = malloc(size);
    if (!e)
        return NULL;
    e->ts_ns = ts;
    e->t = t;
    e->score = score;
    e->group = group_of(detector, feature);
    e->seq = b->fact_seq++;
    e->bytes = size;
    char *p = e->data;
    e->det = memcpy(p, det, ldet);
    p += ldet;
    e->text = memcpy(p, text, ltext);
    p += ltext;
    e->tags = memcpy(p, tags, ltags);
    p += ltags;
    memcpy(p, json, njson);
    p[njson] = '\0';
    e->json = p;
    p += ljson;
    memcpy(p, evref, nref);
    p[nref] = '\0';
    e->evref = p;
    b->bytes += size;
    return e;
}

static void timeline_push(struct baseline *b, struct entity *e, struct efact *f)
{
    if (e->n == BL_TIMELINE) {
        efact_free(b, e->f[e->head]);
        e->f[e->head] = f;
        e->head = (uint16_t)((e->head + 1) % BL_TIMELINE);
    } else {
        e->f[(e->head + e->n) % BL_TIMELINE] = f;
        e->n++;
    }
}

static bool within(uint32_t a, uint32_t b, int64_t window_s)
{
    int64_t d = (int64_t)a - (int64_t)b;
    return (d < 0 ? -d : d) < window_s;
}

static void put_tags(struct buf *j, struct efact *const *fs, size_t n)
{
    /* the union of the facts' ATT&CK ids, in order of first appearance */
    buf_putc(j, '[');
    size_t start = j->len;
    char item[64];
    for (size_t i = 0; i < n; i++) {
        const char *p = fs[i]->tags;
        while (*p) {
            while (*p == ',' || *p == ' ')
                p++;
            size_t l = strcspn(p, ", ");
            if (!l)
                break;
            if (l < sizeof(item) - 2) {
                item[0] = '"';
                memcpy(item + 1, p, l);
                item[l + 1] = '"';
                item[l + 2] = '\0';
                /* already listed? */
                bool dup = false;
                for (const char *q = j->data + start; !dup && (q = strstr(q, item)); q += l + 2)
                    dup = true;
                if (!dup) {
                    if (j->len > start)
                        buf_putc(j, ',');
                    json_put_string(j, p, l);
                }
            }
            p += l;
        }
    }
    buf_putc(j, ']');
}

/* The facts of e that stack at time t: the strongest of each feature
 * group within the window, into best[0..*nb); returns the level of their
 * sum (0: none) and the sum in *score. */
static int stacked(struct baseline *b, struct entity *e, uint32_t t, struct efact **best,
                   size_t *nbest, double *score_out)
{
    size_t nb = 0;
    for (unsigned i = 0; i < e->n; i++) {
        struct efact *f = e->f[(e->head + i) % BL_TIMELINE];
        if (!within(f->t, t, b->cfg.window_s))
            continue;
        size_t k = 0;
        while (k < nb && best[k]->group != f->group)
            k++;
        if (k == nb)
            best[nb++] = f;
        else if (f->score > best[k]->score)
            best[k] = f;
    }
    double score = 0;
    for (size_t k = 0; k < nb; k++)
        score += best[k]->score;
    *nbest = nb;
    *score_out = score;
    return level_of(&b->cfg, score);
}

/* Whether e alerts at level at time t: a level within the window of the
 * last alert pages again only when it rises. Notes the alert. */
static bool alerts_now(struct baseline *b, struct entity *e, uint32_t t, int level)
{
    if (!level)
        return false;
    if (e->level && within(e->alert_t, t, b->cfg.window_s) && level <= e->level)
        return false;
    e->level = (uint8_t)level;
    e->alert_t = t;
    return true;
}

/* Stack the facts of e around time t; raise an alert when the level
 * calls for one. */
static int stack(struct baseline *b, struct entity *e, uint32_t t, const struct event *ev)
{
    struct efact *best[BL_TIMELINE];
    size_t nb;
    double score;
    int level = stacked(b, e, t, best, &nb, &score);
    if (!alerts_now(b, e, t, level))
        return 0;
    /* contributing facts in time order (emission order on ties) */
    for (size_t i = 1; i < nb; i++)
        for (size_t k = i;
             k > 0 && (best[k]->ts_ns < best[k - 1]->ts_ns ||
                       (best[k]->ts_ns == best[k - 1]->ts_ns && best[k]->seq < best[k - 1]->seq));
             k--) {
            struct efact *x = best[k];
            best[k] = best[k - 1];
            best[k - 1] = x;
        }
    struct efact *strongest = best[0];
    for (size_t k = 1; k < nb; k++)
        if (best[k]->score > strongest->score)
            strongest = best[k];
    const char *kind = bl_kind_name((enum bl_kind)e->kind);
    struct buf *j = &b->scratch;
    buf_clear(j);
    buf_puts(j, "{\"@timestamp\":");
    json_put_time(j, ev->ts_ns);
    buf_puts(j, ",\"kind\":\"anomaly\",\"rule\":{\"id\":");
    char rid[96];
    snprintf(rid, sizeof(rid), "kenchi.baseline.%s", strongest->det);
    put_str(j, rid);
    buf_puts(j, ",\"name\":");
    char *name = NULL;
    if (asprintf(&name, "Anomalous %s %s", kind, e->id) < 0)
        return -ENOMEM;
    put_str(j, name);
    buf_puts(j, ",\"level\":");
    put_str(j, level_names[level]);
    buf_puts(j, ",\"tags\":");
    put_tags(j, best, nb);
    buf_puts(j, "},\"anomaly\":{\"entity\":{\"kind\":");
    put_str(j, kind);
    buf_puts(j, ",\"id\":");
    put_str(j, e->id);
    buf_puts(j, "},\"score\":");
    put_score(j, score);
    buf_puts(j, ",\"explanation\":");
    struct buf ex;
    buf_init(&ex);
    for (size_t k = 0; k < nb; k++) {
        if (k)
            buf_puts(&ex, "; ");
        buf_puts(&ex, best[k]->text);
    }
    json_put_string(j, ex.data ? ex.data : "", ex.len);
    buf_free(&ex);
    buf_puts(j, ",\"window\":{\"start\":");
    json_put_time(j, best[0]->ts_ns);
    buf_puts(j, ",\"end\":");
    json_put_time(j, best[nb - 1]->ts_ns);
    buf_puts(j, "},\"facts\":[");
    for (size_t k = 0; k < nb; k++) {
        if (k)
            buf_putc(j, ',');
        buf_puts(j, best[k]->json);
    }
    buf_puts(j, "]},\"events\":[");
    for (size_t k = 0; k < nb; k++) {
        bool dup = false;
        for (size_t i = 0; i < k && !dup; i++)
            dup = !strcmp(best[i]->evref, best[k]->evref);
        if (dup)
            continue;
        if (j->data[j->len - 1] != '[')
            buf_putc(j, ',');
        buf_puts(j, best[k]->evref);
    }
    buf_puts(j, "],\"entity\":");
    alert_put_entity(j, ev);
    buf_putc(j, '}');
    char title[200];
    snprintf(title, sizeof(title), "%s (score ", name);
    free(name);
    struct buf sc;
    buf_init(&sc);
    put_score(&sc, score);
    strncat(title, sc.data, sizeof(title) - strlen(title) - 2);
    strcat(title, ")");
    buf_free(&sc);
    int rc = b->d
                 ? detector_push(b->d, ev->ts_ns, j->data, alert_row(ev, level_names[level], title))
                 : 0;
    if (rc < 0)
        return rc;
    b->st.alerts++;
    return 0;
}

static size_t pend_str(struct baseline *b, const char *s)
{
    if (!s)
        return SIZE_MAX;
    size_t off = b->pend_text.len;
    buf_append(&b->pend_text, s, strlen(s) + 1);
    return off;
}

static int keep_pending(struct baseline *b, const struct bl_fact *f, const struct efact *e)
{
    if (b->npend >= BL_PENDING_MAX) {
        b->st.facts_unsaved++;
        return 0;
    }
    if (b->npend == b->cappend) {
        size_t cap = b->cappend ? b->cappend * 2 : 256;
        struct pending *p = realloc(b->pend, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        b->pend = p;
        b->cappend = cap;
    }
    struct pending *p = &b->pend[b->npend++];
    p->ts_ns = e->ts_ns;
    p->score = f->score;
    p->event_id = f->ev ? f->ev->id : 0;
    p->kind = (uint8_t)f->kind;
    p->entity = pend_str(b, f->entity);
    p->det = pend_str(b, e->det);
    p->feature = pend_str(b, f->feature ? f->feature : "");
    p->value = pend_str(b, f->value);
    p->text = pend_str(b, e->text);
    p->json = pend_str(b, e->json);
    return 0;
}

static int emit(void *opaque, const struct bl_fact *f)
{
    struct baseline *b = opaque;
    b->st.facts++;
    b->mod_facts[b->cur]++;
    if ((unsigned)f->kind >= BL_KIND__COUNT || !f->entity || !*f->entity)
        return 0;
    if (suppressed(b, f)) {
        b->st.suppressed++;
        return 0;
    }
    uint32_t t = f->ev ? bl_time(f->ev->ts_ns) : 0;
    if (!t)
        t = b->now;
    struct entity *e = entity_get(b, (int)f->kind, f->entity);
    if (!e)
        return -ENOMEM;
    entity_touch(b, e);
    struct efact *ef = efact_make(b, f, t);
    if (!ef)
        return -ENOMEM;
    timeline_push(b, e, ef);
    if (t > e->last)
        e->last = t;
    if (b->keep_facts) {
        int rc = keep_pending(b, f, ef);
        if (rc < 0)
            return rc;
    }
    return f->ev ? stack(b, e, t, f->ev) : 0;
}

/* ---- aging --------------------------------------------------------------- */

static void age(struct baseline *b)
{
    uint32_t day = bl_day(b->now);
    if (day == b->aged_day || !b->cfg.max_age_s || (int64_t)b->now <= b->cfg.max_age_s)
        return;
    b->aged_day = day;
    uint32_t before = (uint32_t)((int64_t)b->now - b->cfg.max_age_s);
    for (size_t i = 0; i < b->nmod; i++)
        if (b->ops[i]->age)
            b->ops[i]->age(b->mod[i], before);
    /* timelines idle that long; the recency list is by update order, not
     * by time, so look at all of them */
    for (size_t i = 0; i < b->tabsize; i++)
        for (struct entity *e = b->tab[i], *next; e; e = next) {
            next = e->hnext;
            if (e->last < before)
                entity_remove(b, e);
        }
}

/* ---- the alert source ------------------------------------------------------ */

/* The file entry of ev (asking what was learnt of it at first sight), or
 * NULL when no one asks. Names are compared, not pointers: the pipeline
 * may give a later file's name the memory of an earlier one's. */
static struct bl_file *file_of(struct baseline *b, const struct event *ev)
{
    if (!b->learnt || !ev->file)
        return NULL;
    if (b->cur_file && !strcmp(b->cur_file->path, ev->file))
        return b->cur_file;
    for (size_t i = 0; i < b->nfiles; i++)
        if (!strcmp(b->files[i].path, ev->file))
            return b->cur_file = &b->files[i];
    struct bl_file *nf = realloc(b->files, (b->nfiles + 1) * sizeof(*nf));
    if (!nf)
        return NULL;
    b->files = nf;
    b->cur_file = NULL; /* the array moved */
    struct bl_file *f = &nf[b->nfiles];
    *f = (struct bl_file){strdup(ev->file), 0, 0, 0};
    if (!f->path)
        return NULL;
    b->nfiles++;
    f->skip = b->learnt(b->learnt_opaque, ev->file);
    return b->cur_file = f;
}

static int on_event(void *opaque, struct detector *d, const struct event *ev)
{
    struct baseline *b = opaque;
    if (!b->cfg.enabled)
        return 0;
    b->st.events++;
    struct bl_file *f = file_of(b, ev);
    if (f && ev->line && ev->line <= f->skip) {
        f->skipped++;
        b->st.learnt_before++;
        return 0; /* an earlier run learnt it */
    }
    if (f && ev->line > f->line)
        f->line = ev->line;
    uint32_t t = bl_time(ev->ts_ns);
    if (t > b->now)
        b->now = t;
    age(b);
    b->d = d;
    b->ctx.cfg = &b->cfg;
    b->ctx.now = b->now;
    for (size_t i = 0; i < b->nmod; i++) {
        b->cur = i;
        int rc = b->ops[i]->on_event(b->mod[i], &b->ctx, ev);
        if (rc < 0)
            return rc;
    }
    return 0;
}

struct alert_source baseline_source(struct baseline *b)
{
    return (struct alert_source){"baseline", on_event, b};
}

/* ---- life ------------------------------------------------------------------ */

struct baseline *baseline_new_modules(const struct bl_config *c,
                                      const struct bl_module_ops *const *ops, size_t n, char **err)
{
    *err = NULL;
    char *problem = bl_config_problem(c);
    if (problem) {
        *err = problem;
        return NULL;
    }
    if (n > BL_MAX_MODULES) {
        *err = strdup("too many baseline modules");
        return NULL;
    }
    struct baseline *b = calloc(1, sizeof(*b));
    if (!b || bl_config_copy(&b->cfg, c) < 0 || bl_config_copy(&b->mcfg, c) < 0) {
        if (b) {
            bl_config_free(&b->cfg);
            free(b);
        }
        *err = strdup("out of memory");
        return NULL;
    }
    buf_init(&b->pend_text);
    buf_init(&b->rows_text);
    buf_init(&b->scratch);
    bl_labels_init(&b->labels, BL_LABELS_MAX);
    int rc = parse_suppressions(b, err);
    if (rc == 0)
        rc = geo_open(c->geoip_asn, c->geoip_country, &b->geo, err);
    b->ctx = (struct bl_ctx){&b->cfg, &b->labels, b->geo, 0, emit, b};
    for (size_t i = 0; rc == 0 && i < n; i++) {
        b->ops[i] = ops[i];
        b->mod[i] = ops[i]->create(&b->mcfg, &b->labels);
        if (!b->mod[i]) {
            if (asprintf(err, "baseline module %s: out of memory", ops[i]->name) < 0)
                *err = NULL;
            rc = -ENOMEM;
            break;
        }
        b->nmod = i + 1;
    }
    if (rc < 0) {
        if (!*err)
            *err = strdup("out of memory");
        baseline_free(b);
        return NULL;
    }
    return b;
}

struct baseline *baseline_new(const struct bl_config *c, char **err)
{
    return baseline_new_modules(c, builtin_modules, NBUILTIN, err);
}

void baseline_free(struct baseline *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nmod; i++)
        b->ops[i]->destroy(b->mod[i]);
    for (size_t i = 0; i < b->tabsize; i++)
        for (struct entity *e = b->tab[i], *next; e; e = next) {
            next = e->hnext;
            for (unsigned k = 0; k < e->n; k++)
                free(e->f[(e->head + k) % BL_TIMELINE]);
            free(e);
        }
    free(b->tab);
    geo_close(b->geo);
    bl_labels_free(&b->labels);
    free(b->supp_net ? b->supp_net[0].v : NULL);
    free(b->supp_net);
    free(b->pend);
    buf_free(&b->pend_text);
    buf_free(&b->rows_text);
    buf_free(&b->scratch);
    free(b->rp);
    free(b->rf);
    for (size_t i = 0; i < b->nfiles; i++)
        free(b->files[i].path);
    free(b->files);
    bl_config_free(&b->cfg);
    bl_config_free(&b->mcfg);
    free(b);
}

int baseline_reconfigure(struct baseline *b, const struct bl_config *c, char **err)
{
    *err = bl_config_problem(c);
    if (*err)
        return -EINVAL;
    struct bl_config old = b->cfg;
    struct bl_cidrs *old_net = b->supp_net;
    if (bl_config_copy(&b->cfg, c) < 0) {
        b->cfg = old;
        *err = strdup("out of memory");
        return -ENOMEM;
    }
    b->supp_net = NULL;
    int rc = parse_suppressions(b, err);
    if (rc < 0) {
        free(b->supp_net ? b->supp_net[0].v : NULL);
        free(b->supp_net);
        bl_config_free(&b->cfg);
        b->cfg = old;
        b->supp_net = old_net;
        return rc;
    }
    free(old_net ? old_net[0].v : NULL);
    free(old_net);
    bl_config_free(&old);
    return 0;
}

/* ---- persistence ------------------------------------------------------------ */

void baseline_keep_facts(struct baseline *b, bool on)
{
    b->keep_facts = on;
}

int baseline_load_blob(struct baseline *b, const char *module, const char *kind, const char *entity,
                       const void *blob, size_t n)
{
    int k = bl_kind_by_name(kind);
    for (size_t i = 0; i < b->nmod; i++) {
        if (strcmp(b->ops[i]->name, module))
            continue;
        if (k < 0 || b->ops[i]->load(b->mod[i], (enum bl_kind)k, entity, blob, n) < 0) {
            b->st.profiles_refused++;
            return -EINVAL;
        }
        b->st.profiles_loaded++;
        return 0;
    }
    return -ENOENT;
}

static int load_one(void *opaque, const struct store_bl_profile *p)
{
    /* a refused blob is counted; a module this build does not run is
     * skipped: neither stops the load */
    baseline_load_blob(opaque, p->module, p->kind, p->entity, p->blob, p->n);
    return 0;
}

int baseline_load(struct baseline *b, struct store *s)
{
    return store_baseline_profiles(s, NULL, NULL, load_one, b);
}

int baseline_load_entity(struct baseline *b, struct store *s, int kind, const char *entity)
{
    const char *k = kind >= 0 ? bl_kind_name((enum bl_kind)kind) : NULL;
    return store_baseline_profiles(s, k, entity, load_one, b);
}

/* ---- what earlier runs learnt ------------------------------------------------ */

void baseline_set_learnt(struct baseline *b, uint64_t (*learnt)(void *opaque, const char *path),
                         void *opaque)
{
    b->learnt = learnt;
    b->learnt_opaque = opaque;
}

void baseline_files(const struct baseline *b,
                    void (*cb)(void *opaque, const char *path, uint64_t line, uint64_t skipped),
                    void *opaque)
{
    for (size_t i = 0; i < b->nfiles; i++) {
        const struct bl_file *f = &b->files[i];
        cb(opaque, f->path, f->line > f->skip ? f->line : f->skip, f->skipped);
    }
}

/* ---- the stacking window after a restart -------------------------------- */

struct restore_ctx {
    struct baseline *b;
    uint64_t n;
};

/* A saved fact back into its entity's timeline; the entity's alert level
 * as stacking left it when the fact came (no alert is raised again). */
static int restore_one(void *opaque, const struct store_bl_fact *sf)
{
    struct restore_ctx *c = opaque;
    struct baseline *b = c->b;
    int kind = bl_kind_by_name(sf->kind);
    uint32_t t = sf->ts_ns == TIME_NONE ? 0 : bl_time(sf->ts_ns);
    size_t nj = sf->json ? strlen(sf->json) : 0;
    if (kind < 0 || !sf->entity || !*sf->entity || !t || nj < 2 || sf->json[nj - 1] != '}')
        return 0; /* not one this engine wrote */
    /* the event reference: the fact object's last member */
    static const char key[] = ",\"event\":";
    const char *ref = NULL;
    for (const char *p = sf->json; (p = strstr(p, key)); p++)
        ref = p + sizeof(key) - 1;
    if (!ref)
        return 0;
    struct entity *e = entity_get(b, kind, sf->entity);
    if (!e)
        return -ENOMEM;
    entity_touch(b, e);
    struct efact *ef = efact_alloc(b, sf->ts_ns, t, sf->score, sf->detector, sf->feature, sf->text,
                                   NULL, sf->json, nj, ref, (size_t)(sf->json + nj - 1 - ref));
    if (!ef)
        return -ENOMEM;
    timeline_push(b, e, ef);
    if (t > e->last)
        e->last = t;
    struct efact *best[BL_TIMELINE];
    size_t nb;
    double score;
    alerts_now(b, e, t, stacked(b, e, t, best, &nb, &score));
    c->n++;
    return 0;
}

int baseline_restore(struct baseline *b, struct store *s, uint64_t *restored)
{
    struct restore_ctx c = {b, 0};
    int rc = store_baseline_recent_facts(s, b->cfg.window_s * NS_PER_SEC, restore_one, &c);
    if (restored)
        *restored = c.n;
    return rc;
}

/* Profiles of one save, collected with offsets into rows_text. */
struct rows_ctx {
    struct baseline *b;
    const char *module;
};

static size_t rows_str(struct baseline *b, const void *p, size_t n)
{
    size_t off = b->rows_text.len;
    buf_append(&b->rows_text, p, n);
    buf_putc(&b->rows_text, '\0');
    return off;
}

static int put_profile(void *o, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct rows_ctx *rc = o;
    struct baseline *b = rc->b;
    if (b->nrp == b->caprp) {
        size_t cap = b->caprp ? b->caprp * 2 : 256;
        struct store_bl_profile *p = realloc(b->rp, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        b->rp = p;
        b->caprp = cap;
    }
    /* offsets for now (the text may move while it grows) */
    struct store_bl_profile *p = &b->rp[b->nrp++];
    p->module = rc->module;
    p->kind = bl_kind_name(kind);
    p->entity = (const char *)(uintptr_t)rows_str(b, entity, strlen(entity));
    p->blob = (const void *)(uintptr_t)rows_str(b, blob, n);
    p->n = n;
    p->updated = b->now;
    return 0;
}

int baseline_take_rows(struct baseline *b, unsigned what, struct store_bl_rows *out)
{
    memset(out, 0, sizeof(*out));
    buf_clear(&b->rows_text);
    b->nrp = 0;
    bool all = what & BL_SAVE_ALL;
    for (size_t i = 0; (what & (BL_SAVE_PROFILES | BL_SAVE_ALL)) && i < b->nmod; i++) {
        struct rows_ctx rc = {b, b->ops[i]->name};
        if (!b->ops[i]->save)
            continue;
        int r = b->ops[i]->save(b->mod[i], all, put_profile, &rc);
        if (r < 0)
            return r;
    }
    size_t nf = what & BL_SAVE_FACTS ? b->npend : 0;
    if (nf > b->caprf) {
        struct store_bl_fact *f = realloc(b->rf, b->npend * sizeof(*f));
        if (!f)
            return -ENOMEM;
        b->rf = f;
        b->caprf = b->npend;
    }
    /* the pending facts' text after the profiles'; then every offset
     * becomes a pointer (the text no longer moves) */
    size_t base = b->rows_text.len;
    if (nf && b->pend_text.len)
        buf_append(&b->rows_text, b->pend_text.data, b->pend_text.len);
    const char *t = b->rows_text.data;
    for (size_t i = 0; i < b->nrp; i++) {
        b->rp[i].entity = t + (uintptr_t)b->rp[i].entity;
        b->rp[i].blob = t + (uintptr_t)b->rp[i].blob;
    }
#define PSTR(off) ((off) == SIZE_MAX ? NULL : t + base + (off))
    for (size_t i = 0; i < nf; i++) {
        const struct pending *p = &b->pend[i];
        b->rf[i] = (struct store_bl_fact){p->ts_ns,         bl_kind_name((enum bl_kind)p->kind),
                                          PSTR(p->entity),  PSTR(p->det),
                                          PSTR(p->feature), PSTR(p->value),
                                          p->score,         PSTR(p->text),
                                          p->event_id,      PSTR(p->json)};
    }
#undef PSTR
    out->p = b->rp;
    out->np = b->nrp;
    out->f = b->rf;
    out->nf = nf;
    b->st.profiles_saved += b->nrp;
    b->st.facts_saved += nf;
    if (nf) {
        b->npend = 0;
        buf_clear(&b->pend_text);
    }
    return 0;
}

int baseline_save(struct baseline *b, struct store *s, bool all)
{
    struct store_bl_rows r;
    int rc = baseline_take_rows(b, BL_SAVE_FACTS | (all ? BL_SAVE_ALL : BL_SAVE_PROFILES), &r);
    if (rc < 0)
        return rc;
    return r.np || r.nf ? store_baseline_save(s, &r) : 0;
}

/* ---- what it knows --------------------------------------------------------- */

int baseline_show(struct baseline *b, int kind, const char *entity, struct buf *json)
{
    int known = 0;
    struct buf one;
    buf_init(&one);
    for (size_t i = 0; i < b->nmod; i++) {
        if (!b->ops[i]->show)
            continue;
        for (int k = 0; k < BL_KIND__COUNT; k++) {
            if (kind >= 0 && k != kind)
                continue;
            buf_clear(&one);
            if (b->ops[i]->show(b->mod[i], (enum bl_kind)k, entity, &one) != 1)
                continue;
            if (known++)
                buf_putc(json, ',');
            put_str(json, b->ops[i]->name);
            buf_puts(json, ":{\"kind\":");
            put_str(json, bl_kind_name((enum bl_kind)k));
            if (one.len)
                buf_putc(json, ',');
            buf_append(json, one.data ? one.data : "", one.len);
            buf_putc(json, '}');
            break; /* one kind per module */
        }
    }
    buf_free(&one);
    return known;
}

int baseline_timeline(struct baseline *b, int kind, const char *entity, struct buf *json)
{
    int n = 0;
    buf_putc(json, '[');
    for (int k = 0; k < BL_KIND__COUNT; k++) {
        if (kind >= 0 && k != kind)
            continue;
        struct entity *e = entity_find(b, k, entity);
        for (unsigned i = 0; e && i < e->n; i++) {
            if (n++)
                buf_putc(json, ',');
            buf_puts(json, e->f[(e->head + i) % BL_TIMELINE]->json);
        }
    }
    buf_putc(json, ']');
    return n;
}

void baseline_stats(const struct baseline *b, struct baseline_stats *st)
{
    *st = b->st;
    st->entities = b->nent;
    st->bytes = sizeof(*b) + b->bytes + bl_labels_bytes(&b->labels) +
                b->cappend * sizeof(*b->pend) + b->pend_text.cap + b->rows_text.cap +
                b->caprp * sizeof(*b->rp) + b->caprf * sizeof(*b->rf) + b->scratch.cap;
    st->nmodules = b->nmod;
    for (size_t i = 0; i < b->nmod; i++) {
        struct bl_module_stats ms = {0};
        if (b->ops[i]->stats)
            b->ops[i]->stats(b->mod[i], &ms);
        st->module[i].name = b->ops[i]->name;
        st->module[i].entities = ms.entities;
        st->module[i].bytes = ms.bytes;
        st->module[i].facts = b->mod_facts[i]; /* counted here, whatever the module counts */
        st->module[i].aged = ms.aged;
        st->module[i].evicted = ms.evicted;
    }
}
