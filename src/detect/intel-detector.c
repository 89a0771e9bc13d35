/*
 * intel-detector.c - threat intelligence alerts; see intel-detector.h and
 * docs/alerts.md ("intel").
 */
#include "detect/intel-detector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/stix-pattern.h"
#include "util/buf.h"
#include "util/timeconv.h"

struct intel_detector {
    const struct intel_set *s;
    struct intel_matcher *m;
    /* STIX patterns beyond single values, on the event stream */
    struct stix_matcher *pm; /* NULL when the set has none */
    struct stix_pattern **pats;
    size_t npats;
    struct intel_detector_stats st;
    struct buf json;
};

/* Compile the set's patterns into a stream matcher. A pattern the grammar
 * refuses was reported when it was read (intel_expand_patterns) and is
 * counted here. */
static int add_patterns(struct intel_detector *x)
{
    size_t n = intel_set_npatterns(x->s);
    if (!n)
        return 0;
    x->pm = stix_matcher_new(NULL);
    x->pats = calloc(n, sizeof(*x->pats));
    if (!x->pm || !x->pats)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct intel_pattern ip;
        intel_set_pattern(x->s, i, &ip);
        char err[256];
        struct stix_pattern *p;
        if (stix_pattern_compile(ip.text, strlen(ip.text), &p, err, sizeof(err)) < 0 ||
            stix_matcher_add(x->pm, p, (void *)(uintptr_t)i) < 0) {
            x->st.patterns_refused++;
            if (p)
                stix_pattern_free(p);
            continue;
        }
        x->pats[x->npats++] = p;
        x->st.patterns++;
    }
    return 0;
}

struct intel_detector *intel_detector_new(const struct intel_set *s)
{
    struct intel_detector *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->s = s;
    x->m = intel_matcher_new(s);
    buf_init(&x->json);
    if (!x->m || add_patterns(x) < 0) {
        intel_detector_free(x);
        return NULL;
    }
    return x;
}

void intel_detector_free(struct intel_detector *x)
{
    if (!x)
        return;
    intel_matcher_free(x->m);
    stix_matcher_free(x->pm);
    for (size_t i = 0; i < x->npats; i++)
        stix_pattern_free(x->pats[i]);
    free(x->pats);
    buf_free(&x->json);
    free(x);
}

void intel_detector_stats(const struct intel_detector *x, struct intel_detector_stats *st)
{
    *st = x->st;
    struct intel_match_stats ms;
    intel_matcher_stats(x->m, &ms);
    st->hits_dropped = ms.hits_dropped;
}

static void put_str(struct buf *b, const char *s)
{
    if (s)
        json_put_string(b, s, strlen(s));
    else
        buf_puts(b, "null");
}

static void put_confidence(struct buf *b, int c)
{
    if (c < 0)
        buf_puts(b, "null");
    else
        buf_put_i64(b, c);
}

static void put_tlp(struct buf *b, enum tlp t)
{
    const char *n = tlp_name(t);
    put_str(b, *n ? n : NULL);
}

/* high when confidence >= 80, medium when >= 40 or unknown, low below */
static const char *level_of(int confidence)
{
    return confidence >= 80 ? "high" : confidence >= 40 || confidence < 0 ? "medium" : "low";
}

/* "indicator":{type, value, and what its metadata says} */
static void put_indicator(struct buf *b, const char *type, const char *value,
                          const struct ioc_meta *m)
{
    buf_puts(b, "\"indicator\":{\"type\":");
    put_str(b, type);
    buf_puts(b, ",\"value\":");
    put_str(b, value);
    buf_puts(b, ",\"feed\":");
    put_str(b, m->feed);
    buf_puts(b, ",\"ref\":");
    put_str(b, m->ref);
    buf_puts(b, ",\"name\":");
    put_str(b, m->name);
    buf_puts(b, ",\"confidence\":");
    put_confidence(b, m->confidence);
    buf_puts(b, ",\"tlp\":");
    put_tlp(b, m->tlp);
    buf_puts(b, ",\"labels\":");
    buf_puts(b, m->labels_json ? m->labels_json : "[]");
    buf_puts(b, ",\"kill_chain\":");
    buf_puts(b, m->kill_chain_json ? m->kill_chain_json : "[]");
    buf_puts(b, ",\"related\":");
    buf_puts(b, m->related_json ? m->related_json : "[]");
    buf_puts(b, ",\"valid_from\":");
    json_put_time(b, m->valid_from);
    buf_puts(b, ",\"valid_until\":");
    json_put_time(b, m->valid_until);
    buf_putc(b, '}');
}

void intel_alert_render_json(const struct intel_set *s, const struct event *ev,
                             const struct intel_hit *h, const uint32_t *ids, size_t n,
                             size_t omitted, struct buf *b)
{
    intel_alert_render_group_json(s, ev, &h, 1, ids, n, omitted, b);
}

void intel_alert_render_group_json(const struct intel_set *s, const struct event *ev,
                                   const struct intel_hit *const *hs, size_t nh,
                                   const uint32_t *ids, size_t n, size_t omitted, struct buf *b)
{
    struct intel_indicator in;
    intel_set_get(s, ids[0], &in);
    const struct ioc_meta *m = in.meta;
    const char *type = ioc_type_name(in.type);
    buf_puts(b, "{\"@timestamp\":");
    json_put_time(b, ev->ts_ns);
    buf_puts(b, ",\"kind\":\"intel\",\"rule\":{\"id\":");
    put_str(b, m->ref);
    char name[320];
    snprintf(name, sizeof(name), "%s indicator from %s", type, m->feed ? m->feed : "?");
    buf_puts(b, ",\"name\":");
    put_str(b, name);
    buf_puts(b, ",\"level\":");
    put_str(b, level_of(m->confidence));
    buf_puts(b, "},");
    put_indicator(b, type, in.value, m);
    buf_puts(b, ",\"indicators_more\":[");
    for (size_t i = 1; i < n; i++) {
        struct intel_indicator o;
        intel_set_get(s, ids[i], &o);
        buf_puts(b, i > 1 ? ",{\"feed\":" : "{\"feed\":");
        put_str(b, o.meta->feed);
        buf_puts(b, ",\"ref\":");
        put_str(b, o.meta->ref);
        buf_puts(b, ",\"name\":");
        put_str(b, o.meta->name);
        buf_puts(b, ",\"confidence\":");
        put_confidence(b, o.meta->confidence);
        buf_puts(b, ",\"tlp\":");
        put_tlp(b, o.meta->tlp);
        buf_puts(b, ",\"related\":");
        buf_puts(b, o.meta->related_json ? o.meta->related_json : "[]");
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"indicators_omitted\":");
    buf_put_u64(b, omitted);
    buf_puts(b, ",\"matched\":{");
    bool firstf = true;
    for (size_t k = 0; k < nh; k++)
        for (unsigned i = 0; i < hs[k]->nfields; i++) {
            const char *fname = hs[k]->field[i].name;
            bool dup = false; /* a field named twice keeps its first value */
            for (size_t k2 = 0; k2 <= k && !dup; k2++)
                for (unsigned i2 = 0; i2 < (k2 < k ? hs[k2]->nfields : i) && !dup; i2++)
                    dup = !strcmp(hs[k2]->field[i2].name, fname);
            if (dup)
                continue;
            if (!firstf)
                buf_putc(b, ',');
            firstf = false;
            put_str(b, fname);
            buf_putc(b, ':');
            json_put_string(b, hs[k]->field[i].value.p, hs[k]->field[i].value.n);
        }
    buf_puts(b, "},");
    alert_put_events(b, ev);
    buf_puts(b, ",\"entity\":");
    alert_put_entity(b, ev);
    buf_puts(b, ",\"logsource\":{");
    bool first = true;
    const char *ls[3][2] = {
        {"product", ev->ls.product}, {"service", ev->ls.service}, {"category", ev->ls.category}};
    for (int i = 0; i < 3; i++) {
        if (!ls[i][1] || !*ls[i][1])
            continue;
        if (!first)
            buf_putc(b, ',');
        first = false;
        buf_printf(b, "\"%s\":", ls[i][0]);
        put_str(b, ls[i][1]);
    }
    buf_puts(b, "}}");
}

/* Most confident first; equal confidence keeps load order (ids grow with
 * it). Insertion sort: at most a few hundred ids. */
static void sort_ids(const struct intel_set *s, uint32_t *ids, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t id = ids[i];
        struct intel_indicator v;
        intel_set_get(s, id, &v);
        int c = v.meta->confidence;
        size_t j = i;
        while (j > 0) {
            struct intel_indicator w;
            intel_set_get(s, ids[j - 1], &w);
            if (w.meta->confidence >= c)
                break;
            ids[j] = ids[j - 1];
            j--;
        }
        ids[j] = id;
    }
}

/* ---- STIX patterns on the stream ----------------------------------------- */

struct pattern_ctx {
    struct intel_detector *x;
    struct detector *d;
    const struct event *ev; /* the event that completed the match */
};

static void put_evref(struct buf *b, const struct stix_evref *r)
{
    char id[17];
    snprintf(id, sizeof(id), "%016llx", (unsigned long long)r->id);
    buf_printf(b, "{\"id\":\"%s\",\"@timestamp\":", id);
    json_put_time(b, r->ts_ns);
    buf_puts(b, ",\"source\":{\"file\":");
    put_str(b, r->file);
    if (r->record)
        buf_printf(b, ",\"record\":%llu}}", (unsigned long long)r->record);
    else
        buf_printf(b, ",\"line\":%llu}}", (unsigned long long)r->line);
}

static int on_pattern(void *opaque, void *user, const struct stix_evref *evs, size_t nevs)
{
    struct pattern_ctx *pc = opaque;
    struct intel_detector *x = pc->x;
    const struct event *ev = pc->ev;
    struct intel_pattern ip;
    intel_set_pattern(x->s, (size_t)(uintptr_t)user, &ip);
    const struct ioc_meta *m = ip.meta;
    /* validity at the time of the event that completed the pattern */
    if ((m->valid_from != TIME_NONE && ev->ts_ns != TIME_NONE && ev->ts_ns < m->valid_from) ||
        (m->valid_until != TIME_NONE && ev->ts_ns != TIME_NONE && ev->ts_ns >= m->valid_until)) {
        x->st.outside_window++;
        return 0;
    }
    if (!ip.detect || ip.warning) {
        x->st.suppressed++;
        return 0;
    }
    struct buf *b = &x->json;
    buf_clear(b);
    buf_puts(b, "{\"@timestamp\":");
    json_put_time(b, ev->ts_ns);
    buf_puts(b, ",\"kind\":\"intel\",\"rule\":{\"id\":");
    put_str(b, m->ref);
    buf_puts(b, ",\"name\":");
    if (m->name)
        put_str(b, m->name);
    else {
        char name[320];
        snprintf(name, sizeof(name), "STIX pattern from %s", m->feed ? m->feed : "?");
        put_str(b, name);
    }
    buf_puts(b, ",\"level\":");
    put_str(b, level_of(m->confidence));
    buf_puts(b, "},");
    put_indicator(b, "stix-pattern", ip.text, m);
    buf_puts(b, ",\"indicators_more\":[],\"indicators_omitted\":0,\"matched\":{},\"events\":[");
    for (size_t i = 0; i < nevs; i++) {
        if (i)
            buf_putc(b, ',');
        put_evref(b, &evs[i]);
    }
    buf_puts(b, "],\"entity\":");
    alert_put_entity(b, ev);
    buf_puts(b, "}");
    char title[160];
    snprintf(title, sizeof(title), "%s: STIX pattern %s", m->feed ? m->feed : "?",
             m->name ? m->name : (m->ref ? m->ref : ""));
    int rc =
        detector_push(pc->d, ev->ts_ns, b->data, alert_row(ev, level_of(m->confidence), title));
    if (rc < 0)
        return rc;
    x->st.alerts++;
    x->st.pattern_alerts++;
    return 0;
}

static int on_event(void *opaque, struct detector *d, const struct event *ev)
{
    struct intel_detector *x = opaque;
    x->st.events++;
    if (x->pm) {
        struct pattern_ctx pc = {x, d, ev};
        int rc = stix_matcher_feed(x->pm, ev, on_pattern, &pc);
        if (rc < 0)
            return rc;
    }
    const struct intel_hit *hits;
    size_t nh = intel_match_event(x->m, ev, &hits);
    /* per hit, its alerting indicators; hits whose most confident
     * indicator shares a metadata record with a reference (one STIX
     * indicator, one MISP event, one advisory) make one alert */
    struct {
        uint32_t best_meta;
        bool alert, grouped;
    } hv[INTEL_MAX_HITS];
    for (size_t i = 0; i < nh; i++) {
        hv[i].alert = hv[i].grouped = false;
        hv[i].best_meta = INTEL_NONE;
    }
    for (size_t i = 0; i < nh; i++) {
        const struct intel_hit *h = &hits[i];
        uint32_t ids[INTEL_MAX_PER_VALUE];
        size_t n = 0;
        bool valid = false;
        for (uint32_t id = h->head; id != INTEL_NONE; id = intel_set_next(x->s, id)) {
            if (!intel_set_valid_at(x->s, id, ev->ts_ns))
                continue;
            valid = true;
            struct intel_indicator v;
            intel_set_get(x->s, id, &v);
            if (!v.detect || v.warning)
                continue;
            if (n < INTEL_MAX_PER_VALUE)
                ids[n++] = id;
        }
        if (!n) {
            if (valid)
                x->st.suppressed++;
            else
                x->st.outside_window++;
            continue;
        }
        sort_ids(x->s, ids, n);
        struct intel_indicator best;
        intel_set_get(x->s, ids[0], &best);
        hv[i].alert = true;
        hv[i].best_meta = best.meta && best.meta->ref ? best.meta_index : INTEL_NONE;
        if (hv[i].grouped)
            continue; /* already in an earlier hit's alert */
        const struct intel_hit *group[INTEL_MAX_HITS];
        size_t ng = 0;
        group[ng++] = h;
        for (size_t j = i + 1; j < nh && hv[i].best_meta != INTEL_NONE; j++) {
            /* a later hit of the same record: its best alerting indicator */
            uint32_t bj = INTEL_NONE;
            int cj = -2;
            for (uint32_t id = hits[j].head; id != INTEL_NONE; id = intel_set_next(x->s, id)) {
                if (!intel_set_valid_at(x->s, id, ev->ts_ns))
                    continue;
                struct intel_indicator v;
                intel_set_get(x->s, id, &v);
                if (!v.detect || v.warning)
                    continue;
                if (v.meta->confidence > cj) {
                    cj = v.meta->confidence;
                    bj = v.meta_index;
                }
            }
            if (bj == hv[i].best_meta) {
                hv[j].grouped = true;
                group[ng++] = &hits[j];
                x->st.grouped++;
            }
        }
        size_t shown = n > INTEL_ALERT_MAX_INDICATORS ? INTEL_ALERT_MAX_INDICATORS : n;
        buf_clear(&x->json);
        intel_alert_render_group_json(x->s, ev, group, ng, ids, shown, n - shown, &x->json);
        char title[160];
        snprintf(title, sizeof(title), "%s: %s %s", best.meta->feed ? best.meta->feed : "?",
                 ioc_type_name(best.type), best.value);
        int rc = detector_push(d, ev->ts_ns, x->json.data,
                               alert_row(ev, level_of(best.meta->confidence), title));
        if (rc < 0)
            return rc;
        x->st.alerts++;
    }
    return 0;
}

struct alert_source intel_detector_source(struct intel_detector *x)
{
    return (struct alert_source){"intel", on_event, x};
}
