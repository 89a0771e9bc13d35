/*
 * detector.c - the detection sink and the alert form; see detector.h and
 * docs/alerts.md.
 */
#include "detect/detector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/timeconv.h"

struct alert {
    int64_t ts_ns;
    uint64_t seq; /* reading order */
    char *json;   /* one line, without newline */
    char *row;    /* table row */
};

struct detector {
    const struct sigma_set *set;
    struct sigma_matcher *m;
    struct alert *a;
    size_t n, cap;
    uint64_t seq;
    struct buf scratch;
    int error;
};

struct detector *detector_new(const struct sigma_set *set)
{
    struct detector *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->set = set;
    d->m = sigma_matcher_new(set);
    if (!d->m) {
        free(d);
        return NULL;
    }
    buf_init(&d->scratch);
    return d;
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
    buf_puts(b, "},\"events\":[{\"id\":\"");
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        buf_putc(b, hex[(ev->id >> (60 - 4 * i)) & 15]);
    buf_puts(b, "\",\"source\":{\"file\":");
    put_str(b, ev->file ? ev->file : "-");
    if (ev->record) {
        buf_puts(b, ",\"record\":");
        buf_put_u64(b, ev->record);
    } else {
        buf_puts(b, ",\"line\":");
        buf_put_u64(b, ev->line);
    }
    buf_puts(b, "}}],\"entity\":{");
    bool first = true;
    static const struct {
        enum core_field f;
        const char *open, *close;
    } ent[] = {
        {CORE_USER_NAME, "\"user\":{\"name\":", "}"},
        {CORE_SOURCE_IP, "\"source\":{\"ip\":", "}"},
        {CORE_HOST_NAME, "\"host\":{\"name\":", "}"},
    };
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
    buf_puts(b, "},\"matched\":{");
    for (size_t i = 0; i < nhits; i++) {
        if (i)
            buf_putc(b, ',');
        json_put_string(b, hits[i].name.p, hits[i].name.n);
        buf_putc(b, ':');
        json_put_string(b, hits[i].value.p, hits[i].value.n);
    }
    buf_puts(b, "},\"logsource\":{");
    first = true;
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

static char *render_row(const struct sigma_rule *r, const struct event *ev)
{
    struct sigma_rule_view v;
    sigma_rule_view(r, &v);
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
    if (asprintf(&row, "%-19s  %-8.8s  %-50.50s  %-20.20s  %s", t, v.level ? v.level : "-",
                 v.title ? v.title : "-", ent[0] ? ent : "-", where) < 0)
        return NULL;
    return row;
}

static int on_match(void *opaque, const struct sigma_rule *r, const struct event *ev,
                    const struct sigma_hit_field *hits, size_t nhits)
{
    struct detector *d = opaque;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        struct alert *a = realloc(d->a, cap * sizeof(*a));
        if (!a)
            return -ENOMEM;
        d->a = a;
        d->cap = cap;
    }
    buf_clear(&d->scratch);
    alert_render_json(r, ev, hits, nhits, &d->scratch);
    struct alert *a = &d->a[d->n];
    a->ts_ns = ev->ts_ns;
    a->seq = d->seq++;
    a->json = strdup(d->scratch.data);
    a->row = render_row(r, ev);
    if (!a->json || !a->row) {
        free(a->json);
        free(a->row);
        return -ENOMEM;
    }
    d->n++;
    return 0;
}

static int on_batch(void *opaque, struct event *evs, size_t n)
{
    struct detector *d = opaque;
    for (size_t i = 0; i < n; i++) {
        int rc = sigma_match(d->m, &evs[i], on_match, d);
        if (rc < 0)
            return rc;
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

uint64_t detector_alert_count(const struct detector *d)
{
    return d->n;
}

void detector_stats(const struct detector *d, struct sigma_match_stats *st)
{
    sigma_matcher_stats(d->m, st);
}
