/*
 * live.c - the live daemon; see live.h for the design.
 *
 * Threads: the main thread waits for signals; source threads push records
 * into the queue; the worker (one thread) decodes, detects, stores and
 * commits; one delivery thread per output. The queue holds each record in
 * one allocation with its stream and position, and counts their bytes
 * against limits.queue_bytes.
 *
 * Commit (worker): pipeline_flush (the last partial batch reaches the
 * detectors and the store), store_sync (every event is written into the
 * store's open transaction: the store is opened with hold_events), then
 * that transaction is committed with the alerts the detector made since
 * the last commit (detector_take: sorted by event time), the offsets of the
 * file streams that moved, and the correlation engine's state when it
 * changed: events, their alerts and the offsets are durable together, so
 * that a crash cannot keep an event whose alert is lost (a syslog message
 * is never read again), and the saved state is always the state as of the
 * saved offsets (after a crash, the events re-read from those offsets
 * rebuild what was lost, none counted twice). Only then are the outputs
 * woken up: they only see
 * committed alerts.
 *
 * Baselines (baseline/baseline.h): the engine is one more alert source of
 * the detector; it outlives reloads (its profiles are kept, its settings
 * replaced). Its facts are saved with every commit, the profiles that
 * changed at most once a BASELINE_SAVE_INTERVAL and at the last commit, in
 * the commit's transaction: after a crash what was learnt since the last
 * save is lost, never counted twice.
 */
#include "daemon/live.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <xxhash.h>

#include "baseline/baseline.h"
#include "cli/cli.h"
#include "daemon/log.h"
#include "detect/detector.h"
#include "detect/intel-detector.h"
#include "detect/sigma-corr.h"
#include "detect/sigma.h"
#include "intel/intel-set.h"
#include "output/output.h"
#include "pipeline/pipeline.h"
#include "source/tail.h"
#include "store/store.h"
#include "util/timeconv.h"

/* Services started beside the pipeline (see live.h): one line each. */
extern const struct live_service live_metrics_service;
const struct live_service *const live_services[] = {
    &live_metrics_service,
    NULL,
};

#define MAX_SERVICES 8

/* A correlation state up to this size is saved at every commit that
 * changed it (well under a millisecond: docs/performance.md); a larger one
 * at most every limits.correlation_state_interval. */
#define CORR_STATE_SMALL (64u << 10)

/* Changed baseline profiles are saved at most this often (and at the last
 * commit); their facts with every commit. */
#define BASELINE_SAVE_INTERVAL (60 * NS_PER_SEC)

/* ---- records and streams -------------------------------------------------- */

enum { REC_DATA, REC_TRUNCATED, REC_HEAD, REC_CLOSE, REC_BARRIER };

struct qrec {
    struct qrec *next;
    struct live_stream *s;
    uint64_t pos;
    uint64_t end_off; /* file streams: offset after the record; 0: none */
    int64_t t_ns;     /* when it was pushed */
    uint32_t n;
    uint8_t kind;
    char data[];
};

struct source_metrics {
    char *name;
    _Atomic uint64_t *in, *decoded, *unparsed, *dropped;
    _Atomic int64_t *lag_ms;
    struct source_metrics *next;
};

struct live_stream {
    struct live_stream *next; /* all streams, in open order */
    struct source_metrics *sm;
    char *name;
    char *format;
    uint64_t next_pos; /* numbering when the source gives none */
    /* file streams (under l->mu) */
    bool is_file;
    struct live_file_id id;
    /* worker only */
    struct pipeline_stream *ps;
    char head[4096];
    size_t nhead;
    bool closed;
    uint64_t done_off, done_line; /* processed (not yet committed) */
    bool dirty;                   /* done_off moved since the last commit */
    uint64_t unparsed_seen;
};

struct out_thread {
    struct live *l;
    struct config_output *co;
    pthread_t thread;
    bool started;
    uint64_t cursor;
    bool stop; /* this output alone (a reload removed it), under omu */
    _Atomic bool reopen;
    _Atomic uint64_t *delivered, *failed, *retries;
    _Atomic int64_t *behind;
};

struct live {
    /* cf: the configuration the daemon started with, whose settings that
     * need a restart (store, limits, metrics, log) stay in force; cur: the
     * one in use for rules, intelligence, sources and outputs (cf until a
     * SIGHUP loads another). Configurations replaced by a reload are kept
     * in retired until the end: running parts may point into them. */
    struct config *cf;
    struct config *cur;
    struct config **retired;
    size_t nretired;
    struct tailer *tailer;
    struct config_source **running; /* started network sources */
    size_t nrunning;
    struct metrics *m;
    struct store *store;
    int64_t start_us;

    /* queue, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv_items, cv_space;
    struct qrec *qhead, *qtail;
    uint64_t qbytes;
    bool worker_gone;
    struct live_stream *streams;
    struct source_metrics *smetrics;
    uint64_t pos_floor; /* the highest number a closed stream gave */

    _Atomic bool stopping;
    _Atomic bool reload;
    _Atomic bool sources_done;
    _Atomic int worker_rc;

    /* detection (worker) */
    struct sigma_set *set;
    struct intel_set *iset;
    struct detector *det;
    struct intel_detector *idet;
    struct baseline *bl; /* NULL: baselines off */
    int64_t bl_saved_at; /* mono_ns of the last profile save */
    struct pipeline *p;
    struct store_alert *alerts;
    size_t nalerts, capalerts;
    struct buf alert_text; /* the alerts' strings, NUL-separated */
    struct buf corr_state; /* the correlation state being saved */
    uint64_t corr_gen;     /* generation of the engine's state last saved */
    bool corr_dirty;       /* save it at the next commit whatever the generation */
    bool corr_final;       /* the last commit: save it whatever its size */
    bool corr_held;        /* the last commit held the state (and offsets) back */
    int64_t corr_saved_at; /* mono_ns of the last save */
    int64_t corr_due;      /* when a held-back state is to be saved */
    size_t corr_last_len;  /* bytes of the last saved state */

    /* outputs */
    pthread_mutex_t omu;
    pthread_cond_t ocv;
    uint64_t last_seq; /* committed, under omu */
    bool outputs_stop;
    struct out_thread **outs;
    size_t nouts;

    /* metrics */
    _Atomic int64_t *m_qbytes, *m_qrecords;
    _Atomic uint64_t *m_alerts[ALERT_LEVELS + 1];
    _Atomic uint64_t *m_commits, *m_stored, *m_dup, *m_reloads, *m_reload_failed;
    _Atomic uint64_t *m_store_failures;
    _Atomic int64_t *m_corr_bytes, *m_corr_groups, *m_corr_evicted;
    /* baselines, per module, updated at most every BL_METRICS_EVERY */
    _Atomic int64_t *m_bl_entities[BL_MAX_MODULES], *m_bl_bytes[BL_MAX_MODULES];
    _Atomic int64_t *m_bl_facts, *m_bl_suppressed, *m_bl_timelines;
    size_t bl_nmetrics;
    int64_t bl_metrics_at;
    _Atomic int64_t *m_store_writable;

    /* worker: the records processed since the last commit, kept until it
     * succeeds, to be handed in again when the store failed (disk full) */
    struct qrec *unc_head, *unc_tail;
    size_t unc_n;
    _Atomic int64_t *m_last_seq, *m_lag_ms;

    /* sources paused on a full queue (live_push_pausable): called when it
     * has room again; the list under mu, the calls under room_mu */
    pthread_mutex_t room_mu;

    /* barriers (REC_BARRIER): the worker has processed and committed
     * every record queued before barrier number barrier_done */
    pthread_cond_t cv_barrier;
    uint64_t barrier_asked, barrier_done;
    uint64_t barrier_seen; /* worker: the newest barrier record processed */
    struct room_waiter {
        void (*fn)(void *opaque);
        void *opaque;
    } * waiters;
    size_t nwaiters, capwaiters;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

struct metrics *live_metrics(struct live *l)
{
    return l->m;
}

bool live_stopping(const struct live *l)
{
    return atomic_load(&l->stopping);
}

size_t live_max_record(const struct live *l)
{
    return (size_t)l->cf->max_line;
}

static struct source_metrics *source_metrics(struct live *l, const char *source)
{
    /* under l->mu */
    for (struct source_metrics *sm = l->smetrics; sm; sm = sm->next)
        if (!strcmp(sm->name, source))
            return sm;
    struct source_metrics *sm = calloc(1, sizeof(*sm));
    if (!sm || !(sm->name = strdup(source))) {
        free(sm);
        return NULL;
    }
    char lab[300];
    snprintf(lab, sizeof(lab), "source=%s", source);
    sm->in = metrics_counter(l->m, "kenchi_events_in_total", "Records read per source", lab);
    sm->decoded = metrics_counter(l->m, "kenchi_events_decoded_total",
                                  "Events a decoder understood, per source", lab);
    sm->unparsed = metrics_counter(l->m, "kenchi_events_unparsed_total",
                                   "Events no decoder understood (kept raw), per source", lab);
    sm->lag_ms =
        metrics_gauge(l->m, "kenchi_lag_seconds",
                      "Now minus the time the newest processed record was read", lab, 1e-3);
    char dlab[340];
    snprintf(dlab, sizeof(dlab), "source=%s,reason=queue_full", source);
    sm->dropped = metrics_counter(l->m, "kenchi_dropped_total",
                                  "Records dropped, per source and reason", dlab);
    sm->next = l->smetrics;
    l->smetrics = sm;
    return sm;
}

struct live_stream *live_stream_open(struct live *l, const char *source, const char *name,
                                     const char *format)
{
    struct live_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->name = strdup(name);
    s->format = format ? strdup(format) : NULL;
    if (!s->name || (format && !s->format)) {
        free(s->name);
        free(s->format);
        free(s);
        return NULL;
    }
    pthread_mutex_lock(&l->mu);
    /* numbers follow the clock, and those of streams closed before (a
     * source a reload restarted has streams of the same names) */
    uint64_t now_us = (uint64_t)(now_ns() / 1000);
    s->next_pos = now_us > l->pos_floor ? now_us : l->pos_floor;
    s->sm = source_metrics(l, source);
    /* kept to the end: queued records point at it */
    s->next = l->streams;
    l->streams = s;
    pthread_mutex_unlock(&l->mu);
    return s;
}

void live_stream_set_file(struct live *l, struct live_stream *s, const struct live_file_id *id)
{
    pthread_mutex_lock(&l->mu);
    s->is_file = true;
    s->id = *id;
    pthread_mutex_unlock(&l->mu);
}

void live_stream_set_fp(struct live *l, struct live_stream *s, uint64_t fp, uint32_t fplen)
{
    pthread_mutex_lock(&l->mu);
    s->id.fp = fp;
    s->id.fplen = fplen;
    pthread_mutex_unlock(&l->mu);
}

/* How push() meets a full queue. */
enum full_mode { FULL_WAIT, FULL_DROP, FULL_PAUSE };

/* Under l->mu: remember that fn(opaque) wants to know when there is room. */
static void add_waiter(struct live *l, void (*fn)(void *), void *opaque)
{
    for (size_t i = 0; i < l->nwaiters; i++)
        if (l->waiters[i].opaque == opaque)
            return;
    if (l->nwaiters == l->capwaiters) {
        size_t cap = l->capwaiters ? l->capwaiters * 2 : 8;
        struct room_waiter *w = realloc(l->waiters, cap * sizeof(*w));
        if (!w)
            return; /* the source stays paused until the next refusal finds memory */
        l->waiters = w;
        l->capwaiters = cap;
    }
    l->waiters[l->nwaiters++] = (struct room_waiter){fn, opaque};
}

/* Worker: wake the paused sources once the queue is at most half full. */
static void wake_waiters(struct live *l)
{
    pthread_mutex_lock(&l->room_mu);
    pthread_mutex_lock(&l->mu);
    struct room_waiter w[16];
    size_t k = 0;
    if (l->qbytes <= l->cf->queue_bytes / 2) {
        while (l->nwaiters && k < 16)
            w[k++] = l->waiters[--l->nwaiters];
    }
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < k; i++)
        w[i].fn(w[i].opaque);
    pthread_mutex_unlock(&l->room_mu);
}

void live_room_forget(struct live *l, void *opaque)
{
    pthread_mutex_lock(&l->room_mu);
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->nwaiters;)
        if (l->waiters[i].opaque == opaque)
            l->waiters[i] = l->waiters[--l->nwaiters];
        else
            i++;
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_unlock(&l->room_mu);
}

static int push_full(struct live *l, struct live_stream *s, int kind, const char *data, size_t n,
                     uint64_t pos, uint64_t end_off, enum full_mode mode, void (*room)(void *),
                     void *opaque);

static int push(struct live *l, struct live_stream *s, int kind, const char *data, size_t n,
                uint64_t pos, uint64_t end_off, bool nowait)
{
    return push_full(l, s, kind, data, n, pos, end_off, nowait ? FULL_DROP : FULL_WAIT, NULL, NULL);
}

static int push_full(struct live *l, struct live_stream *s, int kind, const char *data, size_t n,
                     uint64_t pos, uint64_t end_off, enum full_mode mode, void (*room)(void *),
                     void *opaque)
{
    struct qrec *r = malloc(sizeof(*r) + n + 1);
    if (!r)
        return -ENOMEM;
    r->next = NULL;
    r->s = s;
    r->pos = pos;
    r->end_off = end_off;
    r->t_ns = now_ns();
    r->n = (uint32_t)n;
    r->kind = (uint8_t)kind;
    if (n)
        memcpy(r->data, data, n);
    r->data[n] = '\0';
    size_t cost = sizeof(*r) + n;
    pthread_mutex_lock(&l->mu);
    while (l->qbytes && l->qbytes + cost > l->cf->queue_bytes && !l->worker_gone) {
        if (mode == FULL_PAUSE && kind != REC_CLOSE) {
            add_waiter(l, room, opaque);
            pthread_mutex_unlock(&l->mu);
            free(r);
            return -EAGAIN;
        }
        if (mode == FULL_DROP && kind == REC_DATA) {
            pthread_mutex_unlock(&l->mu);
            free(r);
            if (s->sm)
                metric_add(s->sm->dropped, 1);
            return -EAGAIN;
        }
        pthread_cond_wait(&l->cv_space, &l->mu);
    }
    if (l->worker_gone) {
        pthread_mutex_unlock(&l->mu);
        free(r);
        return -ECANCELED;
    }
    if (kind == REC_DATA && pos == 0)
        r->pos = ++s->next_pos;
    if (l->qtail)
        l->qtail->next = r;
    else
        l->qhead = r;
    l->qtail = r;
    l->qbytes += cost;
    metric_set(l->m_qbytes, (int64_t)l->qbytes);
    pthread_cond_signal(&l->cv_items);
    pthread_mutex_unlock(&l->mu);
    if (kind == REC_DATA && s->sm)
        metric_add(s->sm->in, 1);
    return 0;
}

int live_push(struct live *l, struct live_stream *s, const char *data, size_t n, uint64_t pos,
              bool nowait)
{
    bool cut = n > l->cf->max_line;
    if (cut)
        n = l->cf->max_line;
    return push(l, s, cut ? REC_TRUNCATED : REC_DATA, data, n, pos, 0, nowait);
}

int live_push_pausable(struct live *l, struct live_stream *s, const char *data, size_t n,
                       void (*room)(void *opaque), void *opaque)
{
    bool cut = n > l->cf->max_line;
    if (cut)
        n = l->cf->max_line;
    return push_full(l, s, cut ? REC_TRUNCATED : REC_DATA, data, n, 0, 0, FULL_PAUSE, room, opaque);
}

int live_push_file(struct live *l, struct live_stream *s, const char *data, size_t n, uint64_t line,
                   uint64_t end_off, bool truncated)
{
    return push(l, s, truncated ? REC_TRUNCATED : REC_DATA, data, n, line, end_off, false);
}

void live_stream_set_head(struct live *l, struct live_stream *s, const char *head, size_t n)
{
    push(l, s, REC_HEAD, head, n, 0, 0, false);
}

void live_stream_close(struct live *l, struct live_stream *s)
{
    pthread_mutex_lock(&l->mu);
    if (s->next_pos > l->pos_floor)
        l->pos_floor = s->next_pos;
    pthread_mutex_unlock(&l->mu);
    push(l, s, REC_CLOSE, NULL, 0, 0, 0, false);
}

/* ---- detection ------------------------------------------------------------- */

/* The sink the pipeline calls: the current detector, then the store. */
static int live_sink(void *opaque, struct event *evs, size_t n)
{
    struct live *l = opaque;
    if (l->det) {
        struct event_sink ds = detector_sink(l->det);
        int rc = ds.on_batch(ds.opaque, evs, n);
        if (rc < 0)
            return rc;
    }
    int rc = store_add_batch(l->store, evs, n);
    if (rc < 0)
        klog(LOGL_ERROR, "%s", store_errmsg(l->store));
    return rc;
}

/* A baseline engine over bc with the profiles saved in the store, or NULL
 * (said in the log). */
static struct baseline *open_baselines(struct live *l, const struct bl_config *bc)
{
    char *err = NULL;
    struct baseline *b = baseline_new(bc, &err);
    if (!b) {
        klog(LOGL_ERROR, "baselines: %s", err ? err : "out of memory");
        free(err);
        return NULL;
    }
    baseline_keep_facts(b, true);
    if (baseline_load(b, l->store) < 0) {
        klog(LOGL_ERROR, "%s", store_errmsg(l->store));
        baseline_free(b);
        return NULL;
    }
    uint64_t restored = 0;
    if (baseline_restore(b, l->store, &restored) < 0) {
        klog(LOGL_ERROR, "%s", store_errmsg(l->store));
        baseline_free(b);
        return NULL;
    }
    struct baseline_stats bs;
    baseline_stats(b, &bs);
    if (bs.profiles_refused)
        klog(LOGL_WARNING, "baselines: %llu saved profiles could not be read (learnt again)",
             (unsigned long long)bs.profiles_refused);
    klog(LOGL_INFO, "baselines: %llu profiles loaded, %llu facts of the last stacking window",
         (unsigned long long)bs.profiles_loaded, (unsigned long long)restored);
    l->bl_saved_at = mono_ns();
    return b;
}

/* Load rules and intelligence as configured into set, iset and a detector. */
static int load_detection(struct live *l, bool reload, struct sigma_set **set,
                          struct intel_set **iset, struct detector **det,
                          struct intel_detector **idet)
{
    pthread_mutex_lock(&l->mu);
    const struct config *cf = l->cur;
    pthread_mutex_unlock(&l->mu);
    *set = NULL;
    *iset = NULL;
    *det = NULL;
    *idet = NULL;
    struct rule_opts ro = {0};
    for (size_t i = 0; i < cf->nrules && i < RULE_PATHS_MAX; i++)
        ro.paths[ro.npaths++] = cf->rules[i];
    int rc = rules_open(&ro, set, "run");
    if (rc)
        return -EINVAL;
    if (*set) {
        struct sigma_counts sc;
        sigma_set_counts(*set, &sc);
        if (sc.refused) {
            rules_report_problems(*set, "run", stderr);
            if (reload) {
                klog(LOGL_ERROR, "reload: %u rule documents refused (above): the rules in use stay",
                     sc.refused);
                sigma_set_free(*set);
                *set = NULL;
                return -EINVAL;
            }
        }
        klog(LOGL_INFO, "%u rules loaded (%u active), %u correlations", sc.rules, sc.active,
             sc.correlations);
    }
    struct intel_opts io;
    intel_opts_init(&io);
    for (size_t i = 0; i < cf->nintel && i < INTEL_PATHS_MAX; i++)
        io.paths[io.npaths++] = cf->intel[i];
    for (size_t i = 0; i < cf->nwarninglists && i < INTEL_PATHS_MAX; i++)
        io.warninglists[io.nwarninglists++] = cf->warninglists[i];
    struct intel_load_summary sum;
    rc = intel_open(&io, iset, "run", stderr, &sum);
    if (rc == 0 && cf->stored_intel)
        rc = intel_load_store(l->store, iset, "run", stderr, &sum);
    if (rc) {
        sigma_set_free(*set);
        intel_set_free(*iset);
        *set = NULL;
        *iset = NULL;
        return -EINVAL;
    }
    if (*set || *iset || l->bl) {
        *det = detector_new(*set);
        if (*iset)
            *idet = intel_detector_new(*iset);
        struct alert_source src, bsrc;
        if (*idet)
            src = intel_detector_source(*idet);
        if (l->bl)
            bsrc = baseline_source(l->bl);
        if (!*det || (*iset && (!*idet || detector_add_source(*det, &src) < 0)) ||
            (l->bl && detector_add_source(*det, &bsrc) < 0)) {
            detector_free(*det);
            intel_detector_free(*idet);
            intel_set_free(*iset);
            sigma_set_free(*set);
            *set = NULL;
            *iset = NULL;
            *det = NULL;
            *idet = NULL;
            return -ENOMEM;
        }
    }
    return 0;
}

static void free_detection(struct sigma_set *set, struct intel_set *iset, struct detector *det,
                           struct intel_detector *idet)
{
    detector_free(det);
    intel_detector_free(idet);
    intel_set_free(iset);
    sigma_set_free(set);
}

/* detector_take's callback: keep the alert for the commit. */
static int take_alert(void *opaque, int64_t ts_ns, const char *json)
{
    struct live *l = opaque;
    if (l->nalerts == l->capalerts) {
        size_t cap = l->capalerts ? l->capalerts * 2 : 64;
        struct store_alert *a = realloc(l->alerts, cap * sizeof(*a));
        if (!a)
            return -ENOMEM;
        l->alerts = a;
        l->capalerts = cap;
    }
    size_t n = strlen(json);
    /* the stable id: a hash of the alert as rendered, which holds the
     * rule and the events' ids (docs/alerts.md) */
    XXH128_hash_t h = XXH3_128bits(json, n);
    char id[33];
    snprintf(id, sizeof(id), "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    const char *kind = "", *rid = "", *rname = "", *level = "";
    json_t *root = json_loadb(json, n, 0, NULL);
    if (root) {
        json_t *k = json_object_get(root, "kind");
        json_t *r = json_object_get(root, "rule");
        if (json_is_string(k))
            kind = json_string_value(k);
        if (json_is_string(json_object_get(r, "id")))
            rid = json_string_value(json_object_get(r, "id"));
        if (json_is_string(json_object_get(r, "name")))
            rname = json_string_value(json_object_get(r, "name"));
        if (json_is_string(json_object_get(r, "level")))
            level = json_string_value(json_object_get(r, "level"));
    }
    /* offsets into alert_text, made pointers once every alert is in */
    struct store_alert *a = &l->alerts[l->nalerts++];
    a->ts_ns = ts_ns;
    const char *parts[] = {id, kind, rid, rname, level, json};
    size_t offs[6];
    for (int i = 0; i < 6; i++) {
        offs[i] = l->alert_text.len;
        buf_append(&l->alert_text, parts[i], strlen(parts[i]) + 1);
    }
    a->id = (const char *)offs[0];
    a->kind = (const char *)offs[1];
    a->rule_id = (const char *)offs[2];
    a->rule_name = (const char *)offs[3];
    a->level = (const char *)offs[4];
    a->json = (const char *)offs[5];
    a->n = n;
    int li = config_level_index(level);
    metric_add(l->m_alerts[li < 0 ? ALERT_LEVELS : li], 1);
    json_decref(root);
    return 0;
}

/* ---- commit ---------------------------------------------------------------- */

/* Every so often (module statistics walk their profiles): the baselines'
 * gauges (setup_baseline_metrics). */
#define BL_METRICS_EVERY (10 * NS_PER_SEC)
static void update_baseline_metrics(struct live *l, bool now)
{
    int64_t t = mono_ns();
    if (!l->bl || !l->bl_nmetrics || (!now && t < l->bl_metrics_at + BL_METRICS_EVERY))
        return;
    l->bl_metrics_at = t;
    struct baseline_stats bs;
    baseline_stats(l->bl, &bs);
    for (size_t i = 0; i < bs.nmodules && i < l->bl_nmetrics; i++) {
        metric_set(l->m_bl_entities[i], (int64_t)bs.module[i].entities);
        metric_set(l->m_bl_bytes[i], (int64_t)bs.module[i].bytes);
    }
    metric_set(l->m_bl_facts, (int64_t)bs.facts);
    metric_set(l->m_bl_suppressed, (int64_t)bs.suppressed);
    metric_set(l->m_bl_timelines, (int64_t)bs.entities);
}

static void unc_free(struct live *l)
{
    while (l->unc_head) {
        struct qrec *r = l->unc_head;
        l->unc_head = r->next;
        free(r);
    }
    l->unc_tail = NULL;
    l->unc_n = 0;
}

static void unc_keep(struct live *l, struct qrec *r)
{
    r->next = NULL;
    if (l->unc_tail)
        l->unc_tail->next = r;
    else
        l->unc_head = r;
    l->unc_tail = r;
    l->unc_n++;
}

static int commit(struct live *l)
{
    int rc = pipeline_flush(l->p);
    if (rc == 0)
        rc = store_sync(l->store);
    if (rc < 0) {
        klog(LOGL_ERROR, "%s", store_errmsg(l->store));
        return rc;
    }
    l->nalerts = 0;
    buf_clear(&l->alert_text);
    if (l->det)
        rc = detector_take(l->det, take_alert, l);
    if (rc < 0) {
        klog(LOGL_ERROR, "keeping alerts: %s", strerror(-rc));
        return rc;
    }
    for (size_t i = 0; i < l->nalerts; i++) {
        struct store_alert *a = &l->alerts[i];
        const char *base = l->alert_text.data;
        a->id = base + (size_t)a->id;
        a->kind = base + (size_t)a->kind;
        a->rule_id = base + (size_t)a->rule_id;
        a->rule_name = base + (size_t)a->rule_name;
        a->level = base + (size_t)a->level;
        a->json = base + (size_t)a->json;
    }
    /* offsets of the file streams that moved, oldest stream first: a file
     * truncated in place has a newer stream of the same identity, whose
     * offset must win */
    struct store_offset *offs = NULL;
    size_t noffs = 0, cap = 0;
    struct live_stream **order = NULL;
    pthread_mutex_lock(&l->mu);
    for (struct live_stream *s = l->streams; s; s = s->next)
        if (s->is_file && s->dirty)
            cap++;
    if (cap) {
        offs = calloc(cap, sizeof(*offs));
        order = calloc(cap, sizeof(*order));
    }
    for (struct live_stream *s = l->streams; s && offs && order; s = s->next)
        if (s->is_file && s->dirty)
            order[noffs++] = s; /* newest first */
    for (size_t i = 0; i < noffs; i++) {
        struct live_stream *s = order[noffs - 1 - i];
        offs[i] = (struct store_offset){s->id.dev, s->id.ino,   s->id.fp,    s->id.fplen,
                                        s->name,   s->done_off, s->done_line};
    }
    pthread_mutex_unlock(&l->mu);
    if (cap && (!offs || !order)) {
        free(offs);
        free(order);
        return -ENOMEM;
    }
    /* the correlation state, when it moved: every event read so far went
     * through the engine, as the offsets say */
    struct corr_engine *ce = detector_corr_engine(l->det);
    uint64_t gen = corr_engine_generation(ce);
    bool save_state = l->corr_dirty || gen != l->corr_gen;
    /* a large state is saved at most every correlation_state_interval; until
     * then the offsets stay where that state was saved (the events after
     * them are read again after a crash: the store drops them, the alerts
     * they make again are known by their id) */
    int64_t now = mono_ns(), every = l->cf->corr_state_interval_ns;
    l->corr_held = false;
    if (save_state && !l->corr_dirty && !l->corr_final && every &&
        l->corr_last_len > CORR_STATE_SMALL && now < l->corr_saved_at + every) {
        save_state = false;
        l->corr_held = true;
        l->corr_due = l->corr_saved_at + every;
        noffs = 0;
    }
    buf_clear(&l->corr_state);
    if (save_state && corr_engine_save(ce, &l->corr_state) < 0) {
        free(offs);
        free(order);
        return -ENOMEM;
    }
    /* the baselines' facts, and their changed profiles when due */
    struct store_bl_rows blr = {0};
    bool bl_profiles = l->bl && (l->corr_final || now >= l->bl_saved_at + BASELINE_SAVE_INTERVAL);
    if (l->bl) {
        rc = baseline_take_rows(l->bl, BL_SAVE_FACTS | (bl_profiles ? BL_SAVE_PROFILES : 0), &blr);
        if (rc < 0) {
            free(offs);
            free(order);
            return rc;
        }
    }
    /* even without alerts, offsets or state: the store holds the events of
     * the interval in its open transaction (hold_events) until this commit */
    uint64_t added = 0, last = 0;
    rc = store_live_commit_baseline(l->store, l->alerts, l->nalerts, offs, noffs,
                                    save_state ? l->corr_state.data : NULL, l->corr_state.len,
                                    l->bl ? &blr : NULL, &added, &last);
    if (rc < 0) {
        klog(LOGL_ERROR, "%s", store_errmsg(l->store));
    } else {
        if (save_state) {
            l->corr_gen = gen;
            l->corr_dirty = false;
            l->corr_saved_at = now;
            l->corr_last_len = l->corr_state.len;
            metric_set(l->m_corr_bytes, (int64_t)l->corr_state.len);
        }
        if (ce) {
            struct corr_stats cs;
            detector_corr_stats(l->det, &cs);
            metric_set(l->m_corr_groups, (int64_t)cs.groups_live);
            metric_set(l->m_corr_evicted, (int64_t)cs.groups_evicted);
        }
        for (size_t i = 0; i < noffs; i++)
            order[noffs - 1 - i]->dirty = false;
        unc_free(l);
        if (bl_profiles)
            l->bl_saved_at = now;
        update_baseline_metrics(l, l->corr_final || !l->bl_metrics_at);
        metric_add(l->m_commits, 1);
        metric_set(l->m_last_seq, (int64_t)last);
        if (added)
            klog(LOGL_DEBUG, "%llu new alerts (last seq %llu)", (unsigned long long)added,
                 (unsigned long long)last);
        pthread_mutex_lock(&l->omu);
        if (last > l->last_seq)
            l->last_seq = last;
        pthread_cond_broadcast(&l->ocv);
        pthread_mutex_unlock(&l->omu);
    }
    free(offs);
    free(order);
    return rc;
}

/* ---- worker ------------------------------------------------------------- */

static int process(struct live *l, struct qrec *r)
{
    if (r->kind == REC_BARRIER) {
        l->barrier_seen = r->pos;
        return 0;
    }
    struct live_stream *s = r->s;
    if (r->kind == REC_HEAD) {
        size_t n = r->n < sizeof(s->head) ? r->n : sizeof(s->head);
        memcpy(s->head, r->data, n);
        s->nhead = n;
        return 0;
    }
    if (r->kind == REC_CLOSE) {
        if (s->ps) {
            /* events of the batch may point into its decoding state */
            int rc = pipeline_flush(l->p);
            pipeline_stream_close(l->p, s->ps);
            s->ps = NULL;
            if (rc < 0)
                return rc;
        }
        s->closed = true;
        return 0;
    }
    if (!s->ps) {
        s->ps = pipeline_stream_open(l->p, s->name, s->format, s->head, s->nhead, now_ns());
        if (!s->ps) {
            klog(LOGL_ERROR, "%s: cannot decode (format %s)", s->name,
                 s->format ? s->format : "auto");
            return -ENOMEM;
        }
    }
    int64_t now = now_ns();
    pipeline_stream_ref_time(s->ps, now);
    if (s->sm)
        metric_set(s->sm->lag_ms, (now - r->t_ns) / 1000000);
    const struct file_stats *fs = pipeline_stream_stats(l->p, s->ps);
    uint64_t ev0 = fs->events, un0 = fs->unparsed;
    int rc = pipeline_stream_record(l->p, s->ps, r->data, r->n, r->pos, r->kind == REC_TRUNCATED);
    if (rc < 0)
        return rc;
    fs = pipeline_stream_stats(l->p, s->ps);
    if (s->sm) {
        uint64_t un = fs->unparsed - un0;
        metric_add(s->sm->decoded, fs->events - ev0 - un);
        metric_add(s->sm->unparsed, un);
    }
    if (r->end_off > s->done_off) {
        s->done_off = r->end_off;
        s->done_line = r->pos;
        s->dirty = true;
    }
    return 0;
}

/* The lag gauge: now minus the newest event time read (once per commit). */
static void update_lag(struct live *l)
{
    const struct pipeline_stats *st = pipeline_stats(l->p);
    if (st->ts_max == TIME_NONE)
        return;
    metric_set(l->m_lag_ms, (now_ns() - st->ts_max) / 1000000);
}

static void report_restore(const char *what, const struct corr_restore_report *rep)
{
    klog(LOGL_INFO,
         "%s: %u correlation groups taken over (%u correlations); %llu dropped (%u "
         "correlations gone, %u changed)",
         what, rep->groups, rep->corrs, (unsigned long long)rep->groups_dropped, rep->corrs_gone,
         rep->corrs_changed);
}

/* The correlation state saved at the last commit, into the engine (start). */
static int restore_corr_state(struct live *l)
{
    struct corr_engine *ce = detector_corr_engine(l->det);
    void *data = NULL;
    size_t n = 0;
    int rc = store_corr_state_get(l->store, &data, &n);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0) {
        klog(LOGL_ERROR, "%s", store_errmsg(l->store));
        return rc;
    }
    struct corr_restore_report rep;
    char err[256];
    rc = corr_engine_restore(ce, data, n, &rep, err, sizeof(err));
    free(data);
    if (rc == -EINVAL) {
        klog(LOGL_WARNING, "%s: ignored, correlations start empty", err);
        l->corr_dirty = true; /* replaced at the next commit */
        return 0;
    }
    if (rc < 0) {
        klog(LOGL_ERROR, "restoring the correlation state: %s", err);
        return rc;
    }
    if (ce)
        report_restore("correlation state restored", &rep);
    /* as good as saved just now */
    l->corr_saved_at = mono_ns();
    l->corr_last_len = n;
    if (!ce || rep.corrs_gone || rep.corrs_changed)
        l->corr_dirty = true; /* what was dropped leaves the store too */
    l->corr_gen = corr_engine_generation(ce);
    return 0;
}

/* A reload keeps the state of the correlations that remain. */
static void move_corr_state(struct live *l, struct corr_engine *from, struct corr_engine *to)
{
    l->corr_dirty = true;
    if (!from || !to)
        return;
    struct buf b;
    buf_init(&b);
    struct corr_restore_report rep;
    char err[256] = "";
    int rc = corr_engine_save(from, &b);
    if (rc == 0)
        rc = corr_engine_restore(to, b.data, b.len, &rep, err, sizeof(err));
    buf_free(&b);
    if (rc < 0)
        klog(LOGL_ERROR, "reload: correlation state lost: %s", err[0] ? err : strerror(-rc));
    else
        report_restore("reload", &rep);
}

static void do_reload(struct live *l)
{
    struct sigma_set *set;
    struct intel_set *iset;
    struct detector *det;
    struct intel_detector *idet;
    pthread_mutex_lock(&l->mu);
    const struct bl_config *bc = &l->cur->baselines;
    pthread_mutex_unlock(&l->mu);
    if (l->bl) {
        /* the new settings; the profiles stay */
        char *err = NULL;
        if (baseline_reconfigure(l->bl, bc, &err) < 0)
            klog(LOGL_ERROR, "reload: baselines: %s: the settings in use stay",
                 err ? err : "out of memory");
        free(err);
    } else if (bc->enabled) {
        klog(LOGL_WARNING, "reload: baselines turned on: that takes a restart");
    }
    if (load_detection(l, true, &set, &iset, &det, &idet) < 0) {
        metric_add(l->m_reload_failed, 1);
        klog(LOGL_ERROR, "reload failed: the rules and intelligence in use stay");
    } else {
        move_corr_state(l, detector_corr_engine(l->det), detector_corr_engine(det));
        free_detection(l->set, l->iset, l->det, l->idet);
        l->set = set;
        l->iset = iset;
        l->det = det;
        l->idet = idet;
        klog(LOGL_INFO, "reload done");
    }
}

/* Build detection anew and give it the state of the last commit: what
 * the detectors saw after it is handed in again. The baselines take the
 * profiles last saved (at most BASELINE_SAVE_INTERVAL old, as after a
 * crash). */
static int detection_from_store(struct live *l)
{
    struct sigma_set *set;
    struct intel_set *iset;
    struct detector *det;
    struct intel_detector *idet;
    struct baseline *old_bl = l->bl;
    if (old_bl) {
        pthread_mutex_lock(&l->mu);
        const struct bl_config *bc = &l->cur->baselines;
        pthread_mutex_unlock(&l->mu);
        if (!(l->bl = open_baselines(l, bc))) {
            l->bl = old_bl;
            return -EIO;
        }
    }
    if (load_detection(l, true, &set, &iset, &det, &idet) < 0) {
        if (old_bl) {
            baseline_free(l->bl);
            l->bl = old_bl;
        }
        return -EINVAL;
    }
    free_detection(l->set, l->iset, l->det, l->idet);
    baseline_free(old_bl);
    l->set = set;
    l->iset = iset;
    l->det = det;
    l->idet = idet;
    l->corr_dirty = false;
    return restore_corr_state(l);
}

/* How long the worker waits between attempts to write a full store. */
#define STORE_RETRY_NS (2 * NS_PER_SEC)

/* The store refused a write (rc -ENOSPC: the disk is full, or the store
 * reached its size limit). The worker stops taking records, so the queue
 * fills and the sources pause (TCP connections are no longer read, files
 * no longer followed, UDP datagrams are dropped and counted); it retries
 * until the store takes writes again, then hands in every record since
 * the last commit, through detection rebuilt from the state of that
 * commit, and commits. Other errors, and a stop asked for while waiting,
 * go to the caller. */
static int store_trouble(struct live *l, int rc)
{
    if (rc != -ENOSPC)
        return rc;
    metric_add(l->m_store_failures, 1);
    metric_set(l->m_store_writable, 0);
    klog(LOGL_ERROR,
         "%s: reading stopped (TCP senders wait, files wait, UDP is dropped); %zu records "
         "held; trying again every %d s",
         store_errmsg(l->store), l->unc_n, (int)(STORE_RETRY_NS / NS_PER_SEC));
    int64_t started = mono_ns(), next_note = started + 60 * NS_PER_SEC;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t t = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec + STORE_RETRY_NS;
        ts.tv_sec = t / NS_PER_SEC;
        ts.tv_nsec = t % NS_PER_SEC;
        if (!atomic_load(&l->stopping))
            pthread_cond_timedwait(&l->cv_items, &l->mu, &ts);
        pthread_mutex_unlock(&l->mu);
        rc = store_recover(l->store);
        if (rc == 0) {
            pipeline_discard(l->p);
            rc = detection_from_store(l);
            for (struct qrec *r = l->unc_head; r && rc == 0; r = r->next)
                rc = process(l, r);
            if (rc == 0)
                rc = commit(l);
            if (rc == 0) {
                metric_set(l->m_store_writable, 1);
                klog(LOGL_WARNING, "the store takes writes again after %lld s: reading resumed",
                     (long long)((mono_ns() - started) / NS_PER_SEC));
                return 0;
            }
        }
        if (rc != -ENOSPC)
            return rc;
        if (atomic_load(&l->stopping)) {
            klog(LOGL_ERROR, "stopping while the store cannot be written: %s",
                 store_errmsg(l->store));
            return rc;
        }
        if (mono_ns() >= next_note) {
            klog(LOGL_ERROR, "%s: still waiting (%lld s); %zu records held", store_errmsg(l->store),
                 (long long)((mono_ns() - started) / NS_PER_SEC), l->unc_n);
            next_note = mono_ns() + 60 * NS_PER_SEC;
        }
    }
}

static void *worker_main(void *arg)
{
    struct live *l = arg;
    int64_t interval = l->cf->commit_interval_ns;
    int64_t next_commit = mono_ns() + interval;
    bool pending = false, fresh = false;
    int rc = 0;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        while (!l->qhead && !atomic_load(&l->reload) &&
               !(atomic_load(&l->sources_done) && !pending)) {
            if (pending) {
                int64_t wait = next_commit - mono_ns();
                if (wait <= 0)
                    break;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                int64_t t = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec + wait;
                ts.tv_sec = t / NS_PER_SEC;
                ts.tv_nsec = t % NS_PER_SEC;
                pthread_cond_timedwait(&l->cv_items, &l->mu, &ts);
            } else {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                pthread_cond_timedwait(&l->cv_items, &l->mu, &ts);
                if (atomic_load(&l->sources_done))
                    break;
            }
        }
        /* take what is queued, up to a batch */
        struct qrec *take = l->qhead, *last = NULL;
        size_t k = 0;
        uint64_t bytes = 0;
        for (struct qrec *r = take; r && k < l->cf->batch; r = r->next, k++) {
            last = r;
            bytes += sizeof(*r) + r->n;
        }
        if (last) {
            l->qhead = last->next;
            if (!l->qhead)
                l->qtail = NULL;
            last->next = NULL;
            l->qbytes -= bytes;
            metric_set(l->m_qbytes, (int64_t)l->qbytes);
            pthread_cond_broadcast(&l->cv_space);
        } else {
            take = NULL;
        }
        bool idle = !l->qhead;
        bool drained = idle && atomic_load(&l->sources_done);
        bool waiters = l->nwaiters > 0;
        pthread_mutex_unlock(&l->mu);
        if (waiters)
            wake_waiters(l);

        while (take) {
            struct qrec *r = take;
            take = r->next;
            if (r->kind == REC_BARRIER) {
                if (rc == 0)
                    rc = process(l, r);
                free(r);
                continue;
            }
            /* kept (processed or not) until a commit covers it */
            unc_keep(l, r);
            if (rc == 0) {
                rc = process(l, r);
                pending = fresh = true;
            }
        }
        rc = store_trouble(l, rc);
        if (rc < 0)
            break;
        if (l->barrier_seen) {
            /* every record before the barrier is processed: commit, then
             * let the thread that asked go on */
            rc = store_trouble(l, commit(l));
            pending = false;
            next_commit = mono_ns() + interval;
            pthread_mutex_lock(&l->mu);
            l->barrier_done = l->barrier_seen;
            pthread_cond_broadcast(&l->cv_barrier);
            pthread_mutex_unlock(&l->mu);
            l->barrier_seen = 0;
            if (rc < 0)
                break;
        }
        /* commit when the interval is over, or at once when nothing
         * waits: a quiet stream's alert leaves within milliseconds, a busy
         * one commits once per interval */
        if (pending && (mono_ns() >= next_commit || (idle && fresh))) {
            rc = store_trouble(l, commit(l));
            update_lag(l);
            /* a held-back correlation state makes a commit when it is due */
            pending = l->corr_held;
            fresh = false;
            next_commit = mono_ns() + interval;
            if (l->corr_held && l->corr_due < next_commit)
                next_commit = l->corr_due;
            if (rc < 0)
                break;
        }
        if (atomic_load(&l->reload)) {
            atomic_store(&l->reload, false);
            rc = store_trouble(l, commit(l));
            if (rc < 0)
                break;
            do_reload(l);
        }
        if (drained && !fresh) /* a held-back state goes with the last commit */
            break;
    }
    l->corr_final = true;
    if (rc == 0)
        rc = store_trouble(l, commit(l));
    if (l->unc_n)
        klog(LOGL_ERROR, "%zu records read but not stored are lost", l->unc_n);
    unc_free(l);
    pthread_mutex_lock(&l->mu);
    l->worker_gone = true;
    /* what is left (after an error) is dropped */
    while (l->qhead) {
        struct qrec *r = l->qhead;
        l->qhead = r->next;
        free(r);
    }
    l->qtail = NULL;
    l->qbytes = 0;
    pthread_cond_broadcast(&l->cv_space);
    pthread_cond_broadcast(&l->cv_barrier);
    pthread_mutex_unlock(&l->mu);
    atomic_store(&l->worker_rc, rc);
    if (rc < 0) {
        atomic_store(&l->stopping, true);
        kill(getpid(), SIGTERM); /* wake the main thread */
    }
    return NULL;
}

/* ---- outputs ---------------------------------------------------------------- */

struct deliver_ctx {
    struct out_thread *o;
    uint64_t cursor;
    int rc;
};

static bool wanted(const struct config_output *co, const struct alert_msg *a)
{
    int li = config_level_index(a->level);
    if (co->min_level > 0 && li < co->min_level)
        return false;
    if (co->nkinds) {
        for (size_t i = 0; i < co->nkinds; i++)
            if (!strcmp(co->kinds[i], a->kind))
                return true;
        return false;
    }
    return true;
}

static int deliver_one(void *opaque, const struct alert_msg *a)
{
    struct deliver_ctx *d = opaque;
    struct out_thread *o = d->o;
    if (!wanted(o->co, a)) {
        d->cursor = a->seq;
        return 0;
    }
    char err[512] = "";
    int rc = o->co->ops->deliver(o->co->state, a, err, sizeof(err));
    if (rc == -EAGAIN) {
        d->rc = -EAGAIN;
        klog(LOGL_WARNING, "output %s: %s: will retry", o->co->name,
             err[0] ? err : "destination unavailable");
        return -EAGAIN;
    }
    if (rc < 0) {
        metric_add(o->failed, 1);
        klog(LOGL_ERROR, "output %s: alert %llu not deliverable, skipped: %s", o->co->name,
             (unsigned long long)a->seq, err[0] ? err : strerror(-rc));
    } else {
        metric_add(o->delivered, 1);
    }
    d->cursor = a->seq;
    return 0;
}

static void *output_main(void *arg)
{
    struct out_thread *o = arg;
    struct live *l = o->l;
    struct store_alert_reader *rd = NULL;
    if (store_alert_reader_open(l->cf->store, &rd) < 0) {
        klog(LOGL_ERROR, "output %s: %s", o->co->name, store_alert_reader_errmsg(rd));
        store_alert_reader_close(rd);
        return NULL;
    }
    int64_t backoff = 0, retry_at = 0;
    for (;;) {
        pthread_mutex_lock(&l->omu);
        for (;;) {
            bool stop = l->outputs_stop;
            bool work = l->last_seq > o->cursor && backoff == 0;
            if ((stop && (l->last_seq <= o->cursor || backoff)) || o->stop)
                break;
            if (work || atomic_load(&o->reopen))
                break;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t now = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
            if (backoff && now >= retry_at)
                break; /* time to try again (new alerts do not shorten the wait) */
            int64_t t = backoff ? retry_at : now + NS_PER_SEC;
            ts.tv_sec = t / NS_PER_SEC;
            ts.tv_nsec = t % NS_PER_SEC;
            pthread_cond_timedwait(&l->ocv, &l->omu, &ts);
        }
        bool stop = (l->outputs_stop && (l->last_seq <= o->cursor || backoff)) || o->stop;
        pthread_mutex_unlock(&l->omu);
        if (stop)
            break;
        if (atomic_exchange(&o->reopen, false) && o->co->ops->reopen) {
            int rc = o->co->ops->reopen(o->co->state);
            if (rc < 0)
                klog(LOGL_WARNING, "output %s: reopening: %s", o->co->name, strerror(-rc));
        }
        struct deliver_ctx d = {o, o->cursor, 0};
        int n = store_alert_reader_next(rd, o->cursor, 256, deliver_one, &d);
        if (n < 0 && n != -EAGAIN)
            klog(LOGL_ERROR, "output %s: %s", o->co->name, store_alert_reader_errmsg(rd));
        if (d.cursor > o->cursor) {
            if (o->co->ops->flush) {
                int rc = o->co->ops->flush(o->co->state);
                if (rc < 0)
                    klog(LOGL_WARNING, "output %s: flush: %s", o->co->name, strerror(-rc));
            }
            o->cursor = d.cursor;
            int rc = store_cursor_set(l->store, o->co->name, o->cursor);
            if (rc < 0)
                klog(LOGL_ERROR, "output %s: saving its cursor: %s", o->co->name,
                     store_errmsg(l->store));
        }
        pthread_mutex_lock(&l->omu);
        metric_set(o->behind, (int64_t)(l->last_seq - o->cursor));
        pthread_mutex_unlock(&l->omu);
        if (d.rc == -EAGAIN) {
            metric_add(o->retries, 1);
            backoff = backoff ? backoff * 2 : o->co->retry_min_ns;
            if (backoff > o->co->retry_max_ns)
                backoff = o->co->retry_max_ns;
            /* the destination may ask for longer (HTTP Retry-After) */
            int64_t wait = backoff;
            if (o->co->ops->retry_after_ns) {
                int64_t asked = o->co->ops->retry_after_ns(o->co->state);
                if (asked > wait)
                    wait = asked;
            }
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            retry_at = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec + wait;
        } else {
            backoff = 0;
        }
    }
    store_alert_reader_close(rd);
    return NULL;
}

/* Open one output and start its delivery thread. cursor: where it stands
 * when known (an output of the same name a reload replaced), else 0 (the
 * store's cursor). Returns 0 or a negative errno (logged). */
static int start_output(struct live *l, struct config_output *co, uint64_t cursor)
{
    struct out_thread *o = calloc(1, sizeof(*o));
    struct out_thread **grown = realloc(l->outs, (l->nouts + 1) * sizeof(*l->outs));
    if (!o || !grown) {
        free(o);
        if (grown)
            l->outs = grown;
        return -ENOMEM;
    }
    l->outs = grown;
    o->l = l;
    o->co = co;
    char err[512] = "";
    int rc = co->ops->open(co->state, err, sizeof(err));
    if (rc < 0) {
        klog(LOGL_ERROR, "output %s: %s", co->name, err[0] ? err : strerror(-rc));
        free(o);
        return rc;
    }
    if (cursor)
        o->cursor = cursor;
    else if ((rc = store_cursor_get(l->store, co->name, &o->cursor)) < 0) {
        klog(LOGL_ERROR, "output %s: %s", co->name, store_errmsg(l->store));
        free(o);
        return rc;
    }
    uint64_t held = 0;
    if (co->ops->last_delivered && co->ops->last_delivered(co->state, &held) == 0 &&
        held > o->cursor) {
        klog(LOGL_INFO, "output %s: holds alerts up to %llu already (cursor %llu)", co->name,
             (unsigned long long)held, (unsigned long long)o->cursor);
        o->cursor = held;
    }
    char lab[300];
    snprintf(lab, sizeof(lab), "output=%s", co->name);
    o->delivered =
        metrics_counter(l->m, "kenchi_output_delivered_total", "Alerts delivered per output", lab);
    o->failed = metrics_counter(l->m, "kenchi_output_failed_total",
                                "Alerts that could never be delivered (skipped)", lab);
    o->retries = metrics_counter(l->m, "kenchi_output_retries_total",
                                 "Deliveries put off because the destination was down", lab);
    o->behind = metrics_gauge(l->m, "kenchi_output_pending_alerts",
                              "Committed alerts not yet delivered", lab, 1);
    if (pthread_create(&o->thread, NULL, output_main, o) != 0) {
        free(o);
        return -EAGAIN;
    }
    o->started = true;
    l->outs[l->nouts++] = o;
    return 0;
}

static int start_outputs(struct live *l)
{
    for (size_t i = 0; i < l->cur->noutputs; i++) {
        int rc = start_output(l, &l->cur->outputs[i], 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Stop one output (a reload removed or changed it): its thread finishes
 * the delivery under way and saves its cursor; the output is closed.
 * Returns its cursor. */
static uint64_t stop_output(struct live *l, size_t i)
{
    struct out_thread *o = l->outs[i];
    pthread_mutex_lock(&l->omu);
    o->stop = true;
    pthread_cond_broadcast(&l->ocv);
    pthread_mutex_unlock(&l->omu);
    pthread_join(o->thread, NULL);
    o->co->ops->close(o->co->state);
    o->co->state = NULL;
    uint64_t cursor = o->cursor;
    free(o);
    l->outs[i] = l->outs[--l->nouts];
    return cursor;
}

static void stop_outputs(struct live *l)
{
    pthread_mutex_lock(&l->omu);
    l->outputs_stop = true;
    pthread_cond_broadcast(&l->ocv);
    pthread_mutex_unlock(&l->omu);
    for (size_t i = 0; i < l->nouts; i++)
        if (l->outs[i]->started)
            pthread_join(l->outs[i]->thread, NULL);
}

/* ---- SIGHUP: the configuration read again (main thread) --------------------- */

/* The same YAML (kinds, scalars, items, keys, values), places aside. */
static bool node_eq(const struct ynode *a, const struct ynode *b)
{
    if (!a || !b)
        return a == b;
    if (a->kind != b->kind || (a->tag == NULL) != (b->tag == NULL) ||
        (a->tag && strcmp(a->tag, b->tag)))
        return false;
    switch (a->kind) {
    case YNODE_SCALAR:
        return a->scalar.n == b->scalar.n && !memcmp(a->scalar.s, b->scalar.s, a->scalar.n);
    case YNODE_SEQ:
        if (a->seq.n != b->seq.n)
            return false;
        for (size_t i = 0; i < a->seq.n; i++)
            if (!node_eq(a->seq.items[i], b->seq.items[i]))
                return false;
        return true;
    case YNODE_MAP:
        if (a->map.n != b->map.n)
            return false;
        for (size_t i = 0; i < a->map.n; i++)
            if (!node_eq(a->map.pairs[i].key, b->map.pairs[i].key) ||
                !node_eq(a->map.pairs[i].val, b->map.pairs[i].val))
                return false;
        return true;
    default:
        return true;
    }
}

static bool same_str(const char *a, const char *b)
{
    return (!a || !b) ? a == b : !strcmp(a, b);
}

static bool is_tailed(const struct config_source *s)
{
    return s->type == SOURCE_FILE || s->type == SOURCE_STDIN;
}

/* The file and stdin sources of a and b are the same, in the same order. */
static bool tailed_eq(const struct config *a, const struct config *b, bool *stdin_seen)
{
    size_t i = 0, j = 0;
    bool eq = true;
    *stdin_seen = false;
    for (;;) {
        while (i < a->nsources && !is_tailed(&a->sources[i]))
            i++;
        while (j < b->nsources && !is_tailed(&b->sources[j]))
            j++;
        if (i < a->nsources && a->sources[i].type == SOURCE_STDIN)
            *stdin_seen = true;
        if (j < b->nsources && b->sources[j].type == SOURCE_STDIN)
            *stdin_seen = true;
        if (i == a->nsources || j == b->nsources) {
            /* the rest of either side must be empty */
            for (; i < a->nsources; i++)
                eq = eq && !is_tailed(&a->sources[i]);
            for (; j < b->nsources; j++)
                eq = eq && !is_tailed(&b->sources[j]);
            return eq;
        }
        if (!same_str(a->sources[i].name, b->sources[j].name) ||
            !node_eq(a->sources[i].node, b->sources[j].node))
            eq = false;
        i++;
        j++;
    }
}

/* Settings read once at start: a change is reported and waits for a
 * restart (the value in force stays). Returns the number of changes. */
static unsigned restart_only(const struct config *old, const struct config *nw)
{
    struct {
        const char *what;
        bool same;
    } k[] = {
        {"store", same_str(old->store, nw->store)},
        {"limits.queue_bytes", old->queue_bytes == nw->queue_bytes},
        {"limits.batch", old->batch == nw->batch},
        {"limits.commit_interval", old->commit_interval_ns == nw->commit_interval_ns},
        {"limits.max_line", old->max_line == nw->max_line},
        {"limits.store_max_bytes", old->store_max_bytes == nw->store_max_bytes},
        {"metrics", old->metrics_enabled == nw->metrics_enabled &&
                        old->metrics_listen.port == nw->metrics_listen.port &&
                        !strcmp(old->metrics_listen.host, nw->metrics_listen.host)},
        {"log", old->log_dest == nw->log_dest && old->log_level == nw->log_level &&
                    same_str(old->log_ident, nw->log_ident)},
        {"timezone", same_str(old->timezone, nw->timezone)},
    };
    unsigned n = 0;
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
        if (!k[i].same) {
            klog(LOGL_WARNING, "reload: %s changed: it takes a restart; the value in use stays",
                 k[i].what);
            n++;
        }
    return n;
}

/* Ask the worker to process and commit every record queued so far, and
 * wait until it has. */
static void barrier(struct live *l)
{
    pthread_mutex_lock(&l->mu);
    uint64_t id = ++l->barrier_asked;
    pthread_mutex_unlock(&l->mu);
    if (push(l, NULL, REC_BARRIER, NULL, 0, id, 0, false) < 0)
        return;
    pthread_mutex_lock(&l->mu);
    while (l->barrier_done < id && !l->worker_gone)
        pthread_cond_wait(&l->cv_barrier, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

static int start_source(struct live *l, struct config_source *s)
{
    char err[512] = "";
    int rc = s->ops->start(s->state, l, s->name, s->format, err, sizeof(err));
    if (rc < 0) {
        klog(LOGL_ERROR, "source %s: %s", s->name, err[0] ? err : strerror(-rc));
        return rc;
    }
    struct config_source **grown = realloc(l->running, (l->nrunning + 1) * sizeof(*grown));
    if (!grown) {
        s->ops->stop(s->state);
        return -ENOMEM;
    }
    l->running = grown;
    l->running[l->nrunning++] = s;
    return 0;
}

static void stop_source(struct live *l, size_t i)
{
    struct config_source *s = l->running[i];
    s->ops->stop(s->state);
    s->ops->free(s->state);
    s->state = NULL;
    l->running[i] = l->running[--l->nrunning];
}

/* SIGHUP: read the configuration file again and apply the difference.
 * A file with problems changes nothing (each problem is logged). Rules and
 * intelligence are loaded by the worker (do_reload) from the paths of the
 * configuration in use, output files are reopened either way. */
static void reload_config(struct live *l)
{
    metric_add(l->m_reloads, 1);
    klog(LOGL_INFO, "SIGHUP: reading %s again", l->cf->path);
    struct config *nw = NULL;
    char *diag = NULL;
    size_t ndiag = 0;
    FILE *df = open_memstream(&diag, &ndiag);
    int rc = config_load(l->cf->path, df, &nw);
    if (df)
        fclose(df);
    if (rc != 0) {
        for (char *line = diag, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            klog(LOGL_ERROR, "reload: %s", line);
        }
        klog(LOGL_ERROR, "reload refused: the configuration has %s; the one in use stays",
             rc > 0 ? "problems" : "not been read");
        metric_add(l->m_reload_failed, 1);
        nw = NULL;
    }
    free(diag);
    struct config *cur = l->cur;
    if (nw) {
        struct config **grown = realloc(l->retired, (l->nretired + 1) * sizeof(*grown));
        if (!grown) {
            klog(LOGL_ERROR, "reload refused: out of memory");
            config_free(nw);
            nw = NULL;
        } else {
            l->retired = grown;
        }
    }
    if (nw) {
        restart_only(l->cf, nw);
        /* file and standard input sources: one tailer for all of them */
        bool with_stdin;
        if (!tailed_eq(cur, nw, &with_stdin)) {
            if (with_stdin) {
                klog(LOGL_WARNING, "reload: file sources changed beside a stdin source: that "
                                   "takes a restart; the sources in use stay");
            } else {
                klog(LOGL_INFO, "reload: file sources changed: restarting the file readers");
                tailer_stop(l->tailer);
                l->tailer = NULL;
                /* the offsets of what was read are committed before the
                 * new readers load them */
                barrier(l);
                if (tailer_start(l, nw, l->store, &l->tailer) < 0) {
                    l->tailer = NULL;
                    klog(LOGL_ERROR, "reload: the file sources could not start");
                }
            }
        }
        /* network sources: the unchanged ones go on; the others stop
         * before the new ones start (a listener may be rebound) */
        bool *kept = calloc(nw->nsources + 1, sizeof(*kept));
        for (size_t i = 0; i < l->nrunning;) {
            struct config_source *s = l->running[i];
            size_t j = 0;
            for (; j < nw->nsources; j++)
                if (!strcmp(nw->sources[j].name, s->name))
                    break;
            if (kept && j < nw->nsources && nw->sources[j].type == SOURCE_OTHER &&
                node_eq(nw->sources[j].node, s->node)) {
                kept[j] = true;
                i++;
                continue;
            }
            klog(LOGL_INFO, "reload: source %s %s", s->name,
                 j < nw->nsources ? "changed: restarting it" : "removed: stopping it");
            stop_source(l, i);
        }
        for (size_t j = 0; j < nw->nsources; j++) {
            struct config_source *s = &nw->sources[j];
            if (s->type != SOURCE_OTHER || !s->ops)
                continue;
            if (kept && kept[j]) {
                s->ops->free(s->state);
                s->state = NULL;
                continue;
            }
            if (start_source(l, s) < 0) {
                klog(LOGL_ERROR, "reload: source %s not started", s->name);
            } else {
                klog(LOGL_INFO, "reload: source %s started", s->name);
            }
        }
        free(kept);
        /* outputs by name: cursors carried over */
        uint64_t *carry = calloc(nw->noutputs + 1, sizeof(*carry));
        for (size_t i = 0; i < l->nouts;) {
            struct config_output *co = l->outs[i]->co;
            size_t j = 0;
            for (; j < nw->noutputs; j++)
                if (!strcmp(nw->outputs[j].name, co->name))
                    break;
            if (j < nw->noutputs && node_eq(nw->outputs[j].node, co->node) &&
                !strcmp(nw->outputs[j].type, co->type)) {
                nw->outputs[j].ops->close(nw->outputs[j].state);
                nw->outputs[j].state = NULL; /* the running one goes on */
                i++;
                continue;
            }
            const char *name = co->name;
            bool changed = j < nw->noutputs;
            uint64_t cursor = stop_output(l, i);
            if (changed) {
                klog(LOGL_INFO, "reload: output %s changed: restarting it after alert %llu", name,
                     (unsigned long long)cursor);
                if (carry)
                    carry[j] = cursor;
            } else {
                klog(LOGL_INFO, "reload: output %s removed: stopped at alert %llu", name,
                     (unsigned long long)cursor);
            }
        }
        for (size_t j = 0; j < nw->noutputs; j++) {
            struct config_output *co = &nw->outputs[j];
            bool running = false;
            for (size_t i = 0; i < l->nouts; i++)
                running = running || l->outs[i]->co == co;
            if (running || !co->state)
                continue;
            if (start_output(l, co, carry ? carry[j] : 0) < 0)
                klog(LOGL_ERROR, "reload: output %s not started", co->name);
            else if (!carry || !carry[j])
                klog(LOGL_INFO, "reload: output %s started", co->name);
        }
        free(carry);
        pthread_mutex_lock(&l->mu);
        l->cur = nw;
        pthread_mutex_unlock(&l->mu);
        if (cur != l->cf) /* cf belongs to the caller */
            l->retired[l->nretired++] = cur;
        klog(LOGL_INFO, "reload: configuration applied (%zu sources, %zu outputs)", nw->nsources,
             nw->noutputs);
    }
    /* rules and intelligence (worker), output files reopened */
    atomic_store(&l->reload, true);
    pthread_mutex_lock(&l->mu);
    pthread_cond_signal(&l->cv_items);
    pthread_mutex_unlock(&l->mu);
    pthread_mutex_lock(&l->omu);
    for (size_t i = 0; i < l->nouts; i++)
        atomic_store(&l->outs[i]->reopen, true);
    pthread_cond_broadcast(&l->ocv);
    pthread_mutex_unlock(&l->omu);
}

/* ---- the daemon -------------------------------------------------------------- */

static int setup_metrics(struct live *l)
{
    l->m = metrics_new();
    if (!l->m)
        return -ENOMEM;
    l->m_qbytes = metrics_gauge(l->m, "kenchi_queue_bytes", "Bytes of records waiting", "", 1);
    for (int i = 0; i <= ALERT_LEVELS; i++) {
        char lab[64];
        snprintf(lab, sizeof(lab), "level=%s", i < ALERT_LEVELS ? config_levels[i] : "none");
        l->m_alerts[i] =
            metrics_counter(l->m, "kenchi_alerts_total", "Alerts made, per level", lab);
    }
    l->m_commits = metrics_counter(l->m, "kenchi_commits_total",
                                   "Commits (events, their alerts and read offsets, together)", "");
    l->m_store_writable =
        metrics_gauge(l->m, "kenchi_store_writable",
                      "1 while the store takes writes, 0 while it cannot (disk full)", "", 1);
    metric_set(l->m_store_writable, 1);
    l->m_store_failures = metrics_counter(l->m, "kenchi_store_write_failures_total",
                                          "Times the store refused a write (disk full, I/O)", "");
    l->m_corr_bytes = metrics_gauge(l->m, "kenchi_correlation_state_bytes",
                                    "Size of the correlation state last saved", "", 1);
    l->m_corr_groups = metrics_gauge(l->m, "kenchi_correlation_groups",
                                     "Correlation groups held (windows being counted)", "", 1);
    l->m_corr_evicted = metrics_gauge(
        l->m, "kenchi_correlation_groups_evicted",
        "Correlation groups dropped to keep the limit, since the rules were loaded", "", 1);
    l->m_reloads = metrics_counter(l->m, "kenchi_reloads_total", "SIGHUP reloads", "");
    l->m_reload_failed = metrics_counter(l->m, "kenchi_reload_failures_total",
                                         "Reloads refused (the old rules stayed)", "");
    l->m_last_seq = metrics_gauge(l->m, "kenchi_alert_last_seq", "Seq of the newest alert", "", 1);
    l->m_lag_ms = metrics_gauge(l->m, "kenchi_event_age_seconds",
                                "Now minus the time stamp of the newest event read", "", 1e-3);
    metric_set(metrics_gauge(l->m, "kenchi_start_time_seconds",
                             "When the daemon started, seconds since the epoch", "", 1e-3),
               now_ns() / 1000000);
    metric_set(metrics_gauge(l->m, "kenchi_queue_limit_bytes", "limits.queue_bytes", "", 1),
               (int64_t)l->cf->queue_bytes);
    return 0;
}

/* The baselines' gauges, one per module (their names are the engine's). */
static void setup_baseline_metrics(struct live *l)
{
    struct baseline_stats bs;
    baseline_stats(l->bl, &bs);
    for (size_t i = 0; i < bs.nmodules && i < BL_MAX_MODULES; i++) {
        char lab[64];
        snprintf(lab, sizeof(lab), "module=%s", bs.module[i].name);
        l->m_bl_entities[i] = metrics_gauge(l->m, "kenchi_baseline_profiles",
                                            "Entity profiles held, per baseline module", lab, 1);
        l->m_bl_bytes[i] = metrics_gauge(l->m, "kenchi_baseline_bytes",
                                         "Memory of the profiles, per baseline module", lab, 1);
    }
    l->bl_nmetrics = bs.nmodules < BL_MAX_MODULES ? bs.nmodules : BL_MAX_MODULES;
    l->m_bl_facts = metrics_gauge(l->m, "kenchi_baseline_facts",
                                  "Facts the baselines made since they were loaded", "", 1);
    l->m_bl_suppressed = metrics_gauge(l->m, "kenchi_baseline_facts_suppressed",
                                       "Of the facts, dropped by a suppression", "", 1);
    l->m_bl_timelines = metrics_gauge(l->m, "kenchi_baseline_timelines",
                                      "Entities with recent facts (stacking timelines)", "", 1);
}

static double store_bytes_fn(void *opaque)
{
    return (double)store_file_bytes(opaque);
}

int live_run(struct config *cf)
{
    klog_setup(cf->log_dest, cf->log_level, cf->log_ident);
    struct live *l = calloc(1, sizeof(*l));
    if (!l)
        return EXIT_RUNTIME;
    l->cf = cf;
    l->cur = cf;
    l->start_us = now_ns() / 1000;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv_items, NULL);
    pthread_cond_init(&l->cv_space, NULL);
    pthread_mutex_init(&l->omu, NULL);
    pthread_cond_init(&l->ocv, NULL);
    pthread_mutex_init(&l->room_mu, NULL);
    pthread_cond_init(&l->cv_barrier, NULL);
    buf_init(&l->alert_text);
    buf_init(&l->corr_state);
    int status = EXIT_RUNTIME;
    pthread_t worker;
    bool worker_started = false;
    void *svc_state[MAX_SERVICES] = {0};
    bool svc_started[MAX_SERVICES] = {0};

    /* signals: the main thread waits for them; every thread blocks them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if (setup_metrics(l) < 0)
        goto out;
    struct store_opts so;
    store_opts_default(&so);
    so.max_bytes = cf->store_max_bytes;
    so.hold_events = true; /* events become durable with their alerts */
    int rc = store_open(cf->store, &so, &l->store);
    if (rc < 0) {
        klog(LOGL_ERROR, "%s", store_errmsg(l->store));
        goto out;
    }
    metrics_gauge_fn(l->m, "kenchi_store_bytes", "Size of the store on disk (file and log)", "",
                     store_bytes_fn, (void *)cf->store);
    if (cf->baselines.enabled && !(l->bl = open_baselines(l, &cf->baselines)))
        goto out;
    if (l->bl)
        setup_baseline_metrics(l);
    if (load_detection(l, false, &l->set, &l->iset, &l->det, &l->idet) < 0 ||
        restore_corr_state(l) < 0)
        goto out;
    struct pipeline_opts po;
    pipeline_opts_default(&po);
    po.max_line = cf->max_line;
    po.batch_size = cf->batch;
    l->p = pipeline_new(&po);
    if (!l->p)
        goto out;
    struct event_sink sink = {"live", live_sink, l};
    pipeline_add_sink(l->p, &sink);

    if (start_outputs(l) < 0)
        goto stop;
    if (pthread_create(&worker, NULL, worker_main, l) != 0)
        goto stop;
    worker_started = true;
    rc = tailer_start(l, cf, l->store, &l->tailer);
    if (rc < 0)
        goto stop;
    for (size_t i = 0; i < cf->nsources; i++) {
        struct config_source *s = &cf->sources[i];
        if (s->type == SOURCE_OTHER && s->ops && start_source(l, s) < 0)
            goto stop;
    }
    for (size_t i = 0; live_services[i] && i < MAX_SERVICES; i++) {
        char err[512] = "";
        rc = live_services[i]->start(l, cf, &svc_state[i], err, sizeof(err));
        if (rc < 0) {
            klog(LOGL_ERROR, "%s: %s", live_services[i]->name, err[0] ? err : strerror(-rc));
            goto stop;
        }
        svc_started[i] = true;
    }
    klog(LOGL_INFO, "running: %zu sources, %zu outputs, store %s", cf->nsources, cf->noutputs,
         cf->store);

    /* wait for a signal, or for finite sources to end */
    for (;;) {
        struct timespec ts = {0, 200 * 1000000};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGHUP) {
            reload_config(l);
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            if (!atomic_load(&l->worker_rc))
                klog(LOGL_INFO, "%s: draining and stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        if (atomic_load(&l->worker_rc) < 0)
            break;
        if (l->tailer && tailer_finished(l->tailer)) {
            klog(LOGL_INFO, "every source has ended: stopping");
            break;
        }
    }
    status = 0;
stop:
    atomic_store(&l->stopping, true);
    for (size_t i = MAX_SERVICES; i-- > 0;)
        if (svc_started[i])
            live_services[i]->stop(svc_state[i]);
    for (size_t i = 0; i < l->nrunning; i++)
        l->running[i]->ops->stop(l->running[i]->state);
    tailer_stop(l->tailer);
    atomic_store(&l->sources_done, true);
    pthread_mutex_lock(&l->mu);
    pthread_cond_broadcast(&l->cv_items);
    pthread_mutex_unlock(&l->mu);
    if (worker_started)
        pthread_join(worker, NULL);
    else
        l->worker_gone = true;
    if (atomic_load(&l->worker_rc) < 0)
        status = EXIT_RUNTIME;
    stop_outputs(l);
    if (l->p) {
        const struct pipeline_stats *st = pipeline_stats(l->p);
        uint64_t alerts = l->det ? detector_alert_count(l->det) : 0;
        klog(LOGL_INFO, "read %llu events (%llu unparsed) from %llu streams; %llu alerts made",
             (unsigned long long)st->events, (unsigned long long)st->unparsed,
             (unsigned long long)st->files_read, (unsigned long long)alerts);
    }
out:
    if (l->store) {
        int crc = store_close(l->store);
        if (crc < 0) {
            klog(LOGL_ERROR, "closing the store: %s", strerror(-crc));
            status = EXIT_RUNTIME;
        }
    }
    if (l->p) {
        for (struct live_stream *s = l->streams; s; s = s->next)
            pipeline_stream_close(l->p, s->ps);
        pipeline_free(l->p);
    }
    while (l->streams) {
        struct live_stream *s = l->streams;
        l->streams = s->next;
        free(s->name);
        free(s->format);
        free(s);
    }
    while (l->smetrics) {
        struct source_metrics *sm = l->smetrics;
        l->smetrics = sm->next;
        free(sm->name);
        free(sm);
    }
    free_detection(l->set, l->iset, l->det, l->idet);
    baseline_free(l->bl);
    /* configurations a reload brought (everything in them is stopped) */
    for (size_t i = 0; i < l->nretired; i++)
        config_free(l->retired[i]);
    if (l->cur != cf)
        config_free(l->cur);
    free(l->retired);
    free(l->running);
    free(l->alerts);
    free(l->waiters);
    for (size_t i = 0; i < l->nouts; i++)
        free(l->outs[i]);
    free(l->outs);
    buf_free(&l->alert_text);
    buf_free(&l->corr_state);
    metrics_free(l->m);
    if (status == 0)
        klog(LOGL_INFO, "stopped");
    klog_close();
    free(l);
    return status;
}
