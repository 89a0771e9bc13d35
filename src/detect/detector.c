/*
 * detector.c - the detection sink and the alert form; see detector.h and
 * docs/alerts.md.
 *
 * Each (rule, event) match is first written as a `sigma` alert (unless a
 * correlation takes the rule over, see `generate`), then fed to the
 * correlation engine, whose alerts (`correlation`) are rendered here too,
 * at the time of the event that completed them. Other detectors (threat
 * intelligence: intel-detector.c) see every event after the rules, as
 * alert sources, and keep their alerts in the same list.
 */
#include "detect/detector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma-corr.h"
#include "detect/sigma-model.h"
#include "util/buf.h"
#include "util/timeconv.h"

struct alert {
    int64_t ts_ns;
    uint64_t seq; /* reading order */
    char *json;   /* one line, without newline */
    char *row;    /* table row */
};

#define DETECTOR_MAX_SOURCES 4

struct detector {
    const struct sigma_set *set; /* NULL: no Sigma rules, other sources only */
    struct sigma_matcher *m;
    struct corr_engine *ce; /* NULL without correlations */
    struct alert *a;
    size_t n, cap;
    uint64_t seq;
    uint64_t taken; /* alerts handed on by detector_take() */
    struct buf scratch;
    int error;
    struct alert_source src[DETECTOR_MAX_SOURCES];
    size_t nsrc;
};

struct detector *detector_new_opts(const struct sigma_set *set, const struct corr_opts *co)
{
    struct detector *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->set = set;
    if (set) {
        d->m = sigma_matcher_new(set);
        if (!d->m || corr_engine_new(set, co, &d->ce)) {
            sigma_matcher_free(d->m);
            free(d);
            return NULL;
        }
    }
    buf_init(&d->scratch);
    return d;
}

struct detector *detector_new(const struct sigma_set *set)
{
    return detector_new_opts(set, NULL);
}

void detector_free(struct detector *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->a[i].json);
        free(d->a[i].row);
    }
    free(d->a);
    buf_free(&d->scratch);
    sigma_matcher_free(d->m);
    corr_engine_free(d->ce);
    free(d);
}

static void put_str(struct buf *b, const char *s)
{
    if (s)
        json_put_string(b, s, strlen(s));
    else
        buf_puts(b, "null");
}

void alert_render_json(const struct sigma_rule *r, const struct event *ev,
                       const struct sigma_hit_field *hits, size_t nhits, struct buf *b)
{
    struct sigma_rule_view v;
    sigma_rule_view(r, &v);
    char t[32];
    buf_puts(b, "{\"@timestamp\":");
    if (ev->ts_ns != TIME_NONE) {
        time_format(ev->ts_ns, t);
        json_put_string(b, t, strlen(t));
    } else {
        buf_puts(b, "null");
    }
    buf_puts(b, ",\"kind\":\"sigma\",\"rule\":{\"id\":");
    put_str(b, v.id);
    buf_puts(b, ",\"name\":");
    put_str(b, v.title);
    buf_puts(b, ",\"level\":");
    put_str(b, v.level);
    buf_puts(b, ",\"tags\":[");
    for (uint32_t i = 0; i < v.nattack; i++) {
        if (i)
            buf_putc(b, ',');
        put_str(b, v.attack[i]);
    }
    buf_puts(b, "],\"sigma_tags\":[");
    for (uint32_t i = 0; i < v.ntags; i++) {
        if (i)
            buf_putc(b, ',');
        put_str(b, v.tags[i]);
    }
    buf_puts(b, "],\"file\":");
    put_str(b, v.file);
    buf_puts(b, "},");
    alert_put_events(b, ev);
    buf_puts(b, ",\"entity\":");
    alert_put_entity(b, ev);
    buf_puts(b, ",\"matched\":{");
    for (size_t i = 0; i < nhits; i++) {
        if (i)
            buf_putc(b, ',');
        json_put_string(b, hits[i].name.p, hits[i].name.n);
        buf_putc(b, ':');
        json_put_string(b, hits[i].value.p, hits[i].value.n);
    }
    buf_puts(b, "},\"logsource\":{");
    bool first = true;
    const char *ls[3][2] = {
        {"product", v.product}, {"service", v.service}, {"category", v.category}};
    for (int i = 0; i < 3; i++) {
        if (!ls[i][1])
            continue;
        if (!first)
            buf_putc(b, ',');
        first = false;
        buf_printf(b, "\"%s\":", ls[i][0]);
        put_str(b, ls[i][1]);
    }
    buf_puts(b, "}}");
}

char *alert_row(const struct event *ev, const char *level, const char *title)
{
    char t[32] = "-";
    if (ev->ts_ns != TIME_NONE) {
        time_format(ev->ts_ns, t);
        t[19] = '\0'; /* seconds are enough on a terminal */
    }
    char where[96];
    const char *f = ev->file ? ev->file : "-";
    size_t fl = strlen(f);
    if (fl > 40)
        f += fl - 40;
    snprintf(where, sizeof(where), "%s:%llu%s", f,
             (unsigned long long)(ev->record ? ev->record : ev->line), ev->record ? "(rec)" : "");
    char ent[64] = "";
    struct str u = ev->core[CORE_USER_NAME], h = ev->core[CORE_HOST_NAME];
    if (u.n || h.n)
        snprintf(ent, sizeof(ent), "%.*s%s%.*s", (int)(u.n > 24 ? 24 : u.n), u.p,
                 u.n && h.n ? "@" : "", (int)(h.n > 24 ? 24 : h.n), h.p);
    char *row = NULL;
    if (asprintf(&row, "%-19s  %-8.8s  %-50.50s  %-20.20s  %s", t, level ? level : "-",
                 title ? title : "-", ent[0] ? ent : "-", where) < 0)
        return NULL;
    return row;
}

static char *render_row(const struct sigma_rule *r, const struct event *ev)
{
    struct sigma_rule_view v;
    sigma_rule_view(r, &v);
    return alert_row(ev, v.level, v.title);
}

static void put_number(struct buf *b, double v)
{
    if (v == (double)(int64_t)v && v > -9e15 && v < 9e15)
        buf_put_i64(b, (int64_t)v);
    else
        buf_printf(b, "%.17g", v);
}

static void put_event_id(struct buf *b, uint64_t id)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    for (int i = 0; i < 16; i++)
        buf_putc(b, hex[(id >> (60 - 4 * i)) & 15]);
    buf_putc(b, '"');
}

void alert_put_entity(struct buf *b, const struct event *ev)
{
    static const struct {
        enum core_field f;
        const char *open, *close;
    } ent[] = {
        {CORE_USER_NAME, "\"user\":{\"name\":", "}"},
        {CORE_SOURCE_IP, "\"source\":{\"ip\":", "}"},
        {CORE_HOST_NAME, "\"host\":{\"name\":", "}"},
    };
    bool first = true;
    buf_putc(b, '{');
    for (size_t i = 0; i < sizeof(ent) / sizeof(ent[0]); i++) {
        struct str s = ev->core[ent[i].f];
        if (!s.n)
            continue;
        if (!first)
            buf_putc(b, ',');
        first = false;
        buf_puts(b, ent[i].open);
        json_put_string(b, s.p, s.n);
        buf_puts(b, ent[i].close);
    }
    buf_putc(b, '}');
}

void alert_put_events(struct buf *b, const struct event *ev)
{
    buf_puts(b, "\"events\":[{\"id\":");
    put_event_id(b, ev->id);
    buf_puts(b, ",\"source\":{\"file\":");
    put_str(b, ev->file ? ev->file : "-");
    if (ev->record) {
        buf_puts(b, ",\"record\":");
        buf_put_u64(b, ev->record);
    } else {
        buf_puts(b, ",\"line\":");
        buf_put_u64(b, ev->line);
    }
    buf_puts(b, "}}]");
}

void corr_alert_render_json(const struct corr_fire *f, struct buf *b)
{
    const struct sigma_correlation *k = f->k;
    buf_puts(b, "{\"@timestamp\":");
    json_put_time(b, f->ev->ts_ns);
    buf_puts(b, ",\"kind\":\"correlation\",\"rule\":{\"id\":");
    put_str(b, k->id);
    buf_puts(b, ",\"name\":");
    put_str(b, k->title);
    buf_puts(b, ",\"level\":");
    put_str(b, k->level);
    buf_puts(b, ",\"tags\":[");
    for (uint32_t i = 0; i < k->nattack; i++) {
        if (i)
            buf_putc(b, ',');
        put_str(b, k->attack[i]);
    }
    buf_puts(b, "],\"sigma_tags\":[");
    for (uint32_t i = 0; i < k->ntags; i++) {
        if (i)
            buf_putc(b, ',');
        put_str(b, k->tags[i]);
    }
    buf_puts(b, "],\"file\":");
    put_str(b, k->file);
    buf_puts(b, "},\"correlation\":{\"type\":");
    put_str(b, sigma_corr_type_name(k->type));
    buf_puts(b, ",\"group_by\":{");
    for (uint32_t i = 0; i < k->ngroup_by; i++) {
        if (i)
            buf_putc(b, ',');
        put_str(b, k->group_by[i]);
        buf_putc(b, ':');
        json_put_string(b, f->groups[i].p, f->groups[i].n);
    }
    buf_putc(b, '}');
    if (k->nfields) {
        buf_puts(b, ",\"field\":");
        put_str(b, k->fields[0]);
    }
    buf_puts(b, ",\"value\":");
    put_number(b, f->value);
    buf_puts(b, ",\"condition\":{");
    static const char *const cmp[6] = {"gt", "gte", "lt", "lte", "eq", "neq"};
    bool first = true;
    for (int i = 0; i < 6; i++) {
        if (!k->has_cmp[i])
            continue;
        buf_printf(b, "%s\"%s\":", first ? "" : ",", cmp[i]);
        put_number(b, k->cmp_val[i]);
        first = false;
    }
    buf_puts(b, "},\"timespan_s\":");
    buf_put_i64(b, k->timespan_ns / 1000000000);
    buf_puts(b, ",\"window\":{\"start\":");
    json_put_time(b, f->start_ns);
    buf_puts(b, ",\"end\":");
    json_put_time(b, f->end_ns);
    buf_puts(b, "}},\"events\":[");
    for (uint32_t i = 0; i < f->nevents; i++) {
        const struct corr_event_ref *r = &f->events[i];
        if (i)
            buf_putc(b, ',');
        buf_puts(b, "{\"id\":");
        put_event_id(b, r->id);
        buf_puts(b, ",\"@timestamp\":");
        json_put_time(b, r->ts_ns);
        buf_puts(b, ",\"rule\":");
        put_str(b, r->rule);
        buf_puts(b, ",\"source\":{\"file\":");
        put_str(b, r->file ? r->file : "-");
        if (r->record) {
            buf_puts(b, ",\"record\":");
            buf_put_u64(b, r->record);
        } else {
            buf_puts(b, ",\"line\":");
            buf_put_u64(b, r->line);
        }
        buf_puts(b, "}}");
    }
    buf_puts(b, "],\"events_omitted\":");
    buf_put_u64(b, f->nmore);
    buf_puts(b, ",\"entity\":");
    alert_put_entity(b, f->ev);
    buf_putc(b, '}');
}

static char *render_corr_row(const struct corr_fire *f)
{
    char t[32] = "-";
    if (f->ev->ts_ns != TIME_NONE) {
        time_format(f->ev->ts_ns, t);
        t[19] = '\0';
    }
    char grp[64] = "";
    size_t gl = 0;
    for (uint32_t i = 0; i < f->k->ngroup_by && gl + 1 < sizeof(grp); i++) {
        int w = snprintf(grp + gl, sizeof(grp) - gl, "%s%.*s", i ? "," : "",
                         (int)(f->groups[i].n > 30 ? 30 : f->groups[i].n), f->groups[i].p);
        if (w < 0)
            break;
        gl += (size_t)w;
        if (gl >= sizeof(grp))
            gl = sizeof(grp) - 1;
    }
    char *row = NULL;
    if (asprintf(&row, "%-19s  %-8.8s  %-50.50s  %-20.20s  %s=%.15g (%u events)", t,
                 f->k->level ? f->k->level : "-", f->k->title ? f->k->title : "-",
                 grp[0] ? grp : "-", sigma_corr_type_name(f->k->type), f->value,
                 (unsigned)(f->nevents + f->nmore)) < 0)
        return NULL;
    return row;
}

int detector_push(struct detector *d, int64_t ts_ns, const char *json, char *row)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        struct alert *a = realloc(d->a, cap * sizeof(*a));
        if (!a) {
            free(row);
            return -ENOMEM;
        }
        d->a = a;
        d->cap = cap;
    }
    struct alert *a = &d->a[d->n];
    a->ts_ns = ts_ns;
    a->seq = d->seq++;
    a->json = strdup(json);
    a->row = row;
    if (!a->json || !a->row) {
        free(a->json);
        free(a->row);
        return -ENOMEM;
    }
    d->n++;
    return 0;
}

/* Keep one alert: the JSON in d->scratch and row (taken over). */
static int alert_push(struct detector *d, int64_t ts_ns, char *row)
{
    return detector_push(d, ts_ns, d->scratch.data, row);
}

int detector_add_source(struct detector *d, const struct alert_source *src)
{
    if (d->nsrc == DETECTOR_MAX_SOURCES)
        return -ENOSPC;
    d->src[d->nsrc++] = *src;
    return 0;
}

static int on_corr_fire(void *opaque, const struct corr_fire *f)
{
    struct detector *d = opaque;
    buf_clear(&d->scratch);
    corr_alert_render_json(f, &d->scratch);
    return alert_push(d, f->ev->ts_ns, render_corr_row(f));
}

static int on_match(void *opaque, const struct sigma_rule *r, const struct event *ev,
                    const struct sigma_hit_field *hits, size_t nhits)
{
    struct detector *d = opaque;
    if (corr_rule_emits(d->ce, r)) {
        buf_clear(&d->scratch);
        alert_render_json(r, ev, hits, nhits, &d->scratch);
        int rc = alert_push(d, ev->ts_ns, render_row(r, ev));
        if (rc < 0)
            return rc;
    }
    return corr_feed(d->ce, r, ev, on_corr_fire, d);
}

static int on_batch(void *opaque, struct event *evs, size_t n)
{
    struct detector *d = opaque;
    for (size_t i = 0; i < n; i++) {
        if (d->m) {
            int rc = sigma_match(d->m, &evs[i], on_match, d);
            if (rc < 0)
                return rc;
        }
        for (size_t k = 0; k < d->nsrc; k++) {
            int rc = d->src[k].on_event(d->src[k].opaque, d, &evs[i]);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

struct event_sink detector_sink(struct detector *d)
{
    return (struct event_sink){"sigma", on_batch, d};
}

static int cmp_alert(const void *x, const void *y)
{
    const struct alert *a = x, *b = y;
    bool an = a->ts_ns == TIME_NONE, bn = b->ts_ns == TIME_NONE;
    if (an != bn)
        return an ? 1 : -1; /* alerts without a time go last */
    if (!an && a->ts_ns != b->ts_ns)
        return a->ts_ns < b->ts_ns ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int detector_write(struct detector *d, FILE *out, bool json)
{
    if (d->n > 1)
        qsort(d->a, d->n, sizeof(*d->a), cmp_alert);
    if (!json && d->n)
        fprintf(out, "%-19s  %-8s  %-50s  %-20s  %s\n", "TIME (UTC)", "LEVEL", "RULE", "ENTITY",
                "WHERE");
    for (size_t i = 0; i < d->n; i++) {
        fputs(json ? d->a[i].json : d->a[i].row, out);
        fputc('\n', out);
    }
    if (!json)
        fprintf(out, "%s%zu alert%s\n", d->n ? "\n" : "", d->n, d->n == 1 ? "" : "s");
    return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

int detector_take(struct detector *d, int (*cb)(void *opaque, int64_t ts_ns, const char *json),
                  void *opaque)
{
    if (d->n > 1)
        qsort(d->a, d->n, sizeof(*d->a), cmp_alert);
    int rc = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (rc == 0)
            rc = cb(opaque, d->a[i].ts_ns, d->a[i].json);
        free(d->a[i].json);
        free(d->a[i].row);
    }
    d->taken += d->n;
    d->n = 0;
    return rc;
}

uint64_t detector_alert_count(const struct detector *d)
{
    return d->taken + d->n;
}

void detector_stats(const struct detector *d, struct sigma_match_stats *st)
{
    if (d->m)
        sigma_matcher_stats(d->m, st);
    else
        memset(st, 0, sizeof(*st));
}

void detector_corr_stats(const struct detector *d, struct corr_stats *st)
{
    corr_engine_stats(d->ce, st);
}

struct corr_engine *detector_corr_engine(struct detector *d)
{
    return d ? d->ce : NULL;
}
