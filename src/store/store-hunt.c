/*
 * store-hunt.c - retro-hunt reads: indicator values through the day
 * summary and the hunting index, events by row id (see store.h).
 *
 * A hunt of n probes runs in two phases:
 *
 *   1. Summary. Every probe becomes index reads (store-keys.c:
 *      key_probe_of): the key kinds to read, an exact key or a key range,
 *      and the fingerprints that name it in the day summary. The
 *      fingerprints of all probes are sorted per summary class; then, for
 *      every day that holds events (from hunt_hours), the day's sorted
 *      summary array of each needed class is merged with them: each match
 *      adds the day's hour mask to the probe's ranges it names (the source
 *      range for a source-class match, ...). Cost: the size of the
 *      summaries of the classes asked (a few bytes per distinct value per
 *      day) plus n log n, whatever the number of probes.
 *   2. Index. In each candidate hour of a probe (inside its time window),
 *      one range read of the hunt table per key kind named there:
 *      "SEARCH hunt USING PRIMARY KEY (hour=? AND key>? AND key<?)". The
 *      reads of all probes are made in hour order (index_chunk: one sweep
 *      of the file instead of a seek all over it per probe), their entries
 *      (ts, event row id) held, then handed over per probe in time order,
 *      an event found by two kinds (a CIDR block as source and
 *      destination) once.
 *
 * The index reads, and the callers' reads of event rows and messages, are
 * made by worker threads that hand over what they read; the summary is
 * read ahead by them (store_ahead_*, "reading ahead, handing over"
 * below): it pays when the store is not in the page cache, where the disk
 * serves many requests at once.
 *
 * A probe too wide for fingerprints (an IPv4 block shorter than /8, IPv6
 * shorter than /24) reads every hour. Nothing here reads the events table or a document:
 * store_event_get() does that for the events the caller wants to see.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "store/store-private.h"

#define HUNT_READ_SQL                                                                              \
    "SELECT ts, ev, key FROM hunt WHERE hour=?1 AND key>=?2 AND key<=?3 AND ts>=?4 AND ts<?5"
#define DAYS_SQL "SELECT hour FROM hunt_hours ORDER BY hour"
#define ROW_READ_SQL                                                                               \
    ("SELECT ts, id, ls, host, user, sip, dip, action, outcome, efrom, eto, file, pos, doc"        \
     " FROM events WHERE rowid = ?")

/* A probe's candidate hours: per day (in day order), the hours to read
 * for each of its ranges. */
struct cand {
    int64_t day;
    uint32_t mask[3];
};

/* A probe while hunting; its index reads (struct key_probe, 5 kB) are
 * made again when needed rather than kept for every probe. */
struct hprobe {
    enum ioc_type type;
    const char *value;
    bool ok;
    bool all_hours;
    int64_t hour_lo, hour_hi; /* its window in hours, inclusive */
    int64_t ts_lo, ts_hi;     /* its window in ns: ts_lo <= ts < ts_hi */
    struct cand *cands;
    size_t ncands, capcands;
};

/* One (fingerprint, probe) pair of a class, and the probe's ranges the
 * fingerprint names hours for. */
struct fpp {
    uint32_t fp;
    uint32_t probe;
    uint8_t ranges;
};

static int cmp_fpp(const void *a, const void *b)
{
    const struct fpp *x = a, *y = b;
    if (x->fp != y->fp)
        return x->fp < y->fp ? -1 : 1;
    return (x->probe > y->probe) - (x->probe < y->probe);
}

static int add_cand(struct hprobe *p, int64_t day, uint8_t ranges, uint32_t mask)
{
    if (!(p->ncands && p->cands[p->ncands - 1].day == day)) {
        if (p->ncands == p->capcands) {
            size_t cap = p->capcands ? p->capcands * 2 : 8;
            struct cand *c = realloc(p->cands, cap * sizeof(*c));
            if (!c)
                return -ENOMEM;
            p->cands = c;
            p->capcands = cap;
        }
        p->cands[p->ncands++] = (struct cand){day, {0, 0, 0}};
    }
    for (int r = 0; r < 3; r++)
        if (ranges & (1u << r))
            p->cands[p->ncands - 1].mask[r] |= mask;
    return 0;
}

/* An index entry found for a probe. */
struct ent {
    int64_t ts;
    int64_t ev;
    uint32_t probe;
};

static int cmp_ent(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    if (x->probe != y->probe)
        return x->probe < y->probe ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->ev > y->ev) - (x->ev < y->ev);
}

/* A probe's ranges as bound keys (the kind byte first), kept while its
 * chunk is read: a struct key_probe is 5 kB. */
struct pranges {
    struct key_range r[3]; /* lo, hi of r[k] point into key[k] + 1 */
    uint8_t *key[3][2];
    int nr;
};

/* A read: the ranges `which` of a probe in an hour. */
struct req {
    int64_t hour;
    uint32_t probe;
    uint8_t which;
};

static int cmp_req_hour(const void *a, const void *b)
{
    const struct req *x = a, *y = b;
    if (x->hour != y->hour)
        return x->hour < y->hour ? -1 : 1;
    return (x->probe > y->probe) - (x->probe < y->probe);
}

static int cmp_req_probe(const void *a, const void *b)
{
    const struct req *x = a, *y = b;
    if (x->probe != y->probe)
        return x->probe < y->probe ? -1 : 1;
    return (x->hour > y->hour) - (x->hour < y->hour);
}

struct hunt_ctx {
    struct store *s;
    sqlite3 *db;
    sqlite3_stmt *read;
    struct ent *ents;
    size_t nents, capents;
    struct key_probe kp; /* scratch */
};

static void pranges_free(struct pranges *p)
{
    for (int k = 0; k < 3; k++) {
        free(p->key[k][0]);
        free(p->key[k][1]);
    }
    memset(p, 0, sizeof(*p));
}

/* ---- reading ahead, handing over ---------------------------------------------
 * On a store larger than memory a hunt waits on the disk: every summary
 * day, index read, event row and message join is a page somewhere in the
 * file, read one after another (about 55 us each on a VM's disk). The disk
 * serves several requests at once, so worker threads, each with a
 * read-only connection of its own, make the caller's reads for it, in its
 * order, a little ahead of it. Workers claim items in chunks (neighbours
 * share pages). AHEAD_START workers start; one whose chunk went to the
 * disk (its thread's block-input count moved) doubles them, up to the
 * configured number, so a store in the page cache is read by a few and
 * one on the disk with many requests in flight.
 *
 * Handing over (index reads, event rows, message joins): a worker keeps
 * what it read in the item's slot and the caller takes it from there
 * instead of reading again. Each cold page then costs its kernel work
 * once, on a worker, and the caller's own CPU goes to the hunt; with the
 * store in the page cache the workers' reads run on every core. At most
 * HAND_WINDOW items are read and not yet taken. Workers' snapshots begin
 * after the caller's: rows never change once stored, and index entries of
 * rows past the caller's last row (max_ev, read on its snapshot) are
 * dropped, so a worker's answer is the caller's. Any error, or a row a
 * worker does not find, and the caller reads the item itself.
 *
 * Reading ahead only (the day summary, whose arrays the caller merges as
 * it reads them): workers make the reads and discard them, so the pages
 * are in the page cache when the caller reads; they skip what the caller
 * has passed, stay at most AHEAD_WINDOW items ahead of it, and pause when
 * everything they read came from the page cache (the caller then needs no
 * help, and reading the same pages again would take its CPU). */
#define AHEAD_MAX             128      /* threads at most */
#define AHEAD_CHUNK           4        /* items a worker claims at a time */
#define AHEAD_WINDOW          65536    /* items ahead of the caller at most */
#define HAND_WINDOW           2048     /* items read and not yet taken, at most */
#define HAND_BUSY             2        /* workers that never pause when handing over */
#define HAND_PAUSE_MAX_NS     64000000 /* the others' longest pause */
#define AHEAD_MIN             64       /* fewer items are read by the caller alone */
#define AHEAD_THREADS_DEFAULT 64
#define AHEAD_START           7       /* workers started at first; more while reads are slow */
#define AHEAD_PAUSE_NS        2000000 /* a worker's pause after a chunk all cached */

/* A (day, class) of the summary phase. */
struct sum_item {
    int64_t day;
    char cls;
};

enum ahead_kind { AH_ROWS, AH_MESSAGES, AH_INDEX, AH_SUMMARY };

struct aworker {
    struct store_ahead *a;
    pthread_t th;
};

/* An event row as a worker read it: its numbers, and its strings in b. */
enum { RS_USER, RS_SIP, RS_DIP, RS_ACTION, RS_OUTCOME, RS_FROM, RS_TO, RS_DOC, RS__N };
#define RS_NULL UINT32_MAX

/* An item a worker read for the caller. */
struct aslot {
    atomic_size_t seq; /* item + 1 once it is in */
    int rc;            /* 0; else the caller reads the item itself */
    /* AH_ROWS: ts (NULL: TIME_NONE), id, ls, host (NULL: 0), file, pos;
     * off[RS_x]: the strings in b (RS_NULL: NULL); doc_blob: the doc is
     * zstd (else JSON text) */
    int64_t ts, id, ls, host, file, pos;
    uint32_t off[RS__N], len[RS__N];
    bool doc_blob;
    /* AH_INDEX: what the caller's read_hour() counts */
    uint64_t reads, entries;
    struct buf b; /* AH_ROWS: strings; AH_MESSAGES: (ev, ts) pairs; AH_INDEX: (ts, ev) pairs */
};

struct store_ahead {
    struct store *s;
    const char *path;
    enum ahead_kind kind;
    bool hand; /* handing over (else reading ahead only) */
    size_t n;
    atomic_size_t next; /* the next item to claim */
    atomic_size_t at;   /* the caller's item */
    atomic_bool stop;
    atomic_int alive;   /* workers still running */
    atomic_size_t want; /* the item (+ 1) the caller waits for; 0: none */
    pthread_mutex_t mu; /* with cv: the caller's wait */
    pthread_cond_t cv;
    atomic_size_t nth; /* workers started (more while reads are slow) */
    size_t max_nth;
    struct aworker w[AHEAD_MAX];
    struct aslot *slots; /* hand: HAND_WINDOW of them */
    int64_t max_ev;      /* hand: the caller's last row */
    int64_t *ids;        /* AH_ROWS: row ids; AH_MESSAGES: times */
    bool *docs;          /* AH_ROWS: the doc may be asked for */
    char **qids;         /* AH_MESSAGES */
    /* AH_INDEX: the reads of index_chunk, probes from a */
    const struct req *reqs;
    const struct pranges *pr;
    const struct hprobe *hp;
    size_t a;
    /* AH_SUMMARY: (day, class) pairs */
    const struct sum_item *sum;
};

static size_t hunt_threads(const struct store *s)
{
    size_t n = s->o.hunt_threads;
    if (!n) {
        const char *e = getenv("KENCHI_HUNT_THREADS");
        n = e && *e ? strtoul(e, NULL, 10) : AHEAD_THREADS_DEFAULT;
    }
    return n < 1 ? 1 : n > AHEAD_MAX + 1 ? AHEAD_MAX + 1 : n;
}

/* Blocks this thread has read from the disk so far: what it read came
 * from the page cache when this did not move. */
static uint64_t disk_blocks(void)
{
    struct rusage u;
    return getrusage(RUSAGE_THREAD, &u) == 0 ? (uint64_t)u.ru_inblock : 0;
}

static void step_all(sqlite3_stmt *st, int blob_col)
{
    while (sqlite3_step(st) == SQLITE_ROW)
        if (blob_col >= 0)
            (void)sqlite3_column_blob(st, blob_col); /* its overflow pages too */
    sqlite3_reset(st);
}

/* Make the reads of item i on st, discarding them (reading ahead only). */
static void ahead_item(struct store_ahead *a, sqlite3_stmt *st, size_t i)
{
    sqlite3_bind_int64(st, 1, a->sum[i].day);
    sqlite3_bind_int(st, 2, (unsigned char)a->sum[i].cls);
    step_all(st, 0);
}

static void slot_str(struct aslot *sl, int k, const void *p, size_t n)
{
    if (!p) {
        sl->off[k] = RS_NULL;
        sl->len[k] = 0;
        return;
    }
    sl->off[k] = (uint32_t)sl->b.len;
    sl->len[k] = (uint32_t)n;
    buf_append(&sl->b, p, n);
    buf_append(&sl->b, "", 1); /* NUL-terminated */
}

static void slot_pair(struct aslot *sl, int64_t x, int64_t y)
{
    int64_t v[2] = {x, y};
    buf_append(&sl->b, v, sizeof(v));
}

/* Read item i on st into sl (handing over). Returns 0, or nonzero when
 * the caller is to read it itself. */
static int hand_item(struct store_ahead *a, sqlite3_stmt *st, size_t i, struct aslot *sl)
{
    buf_clear(&sl->b);
    int rc = SQLITE_DONE;
    switch (a->kind) {
    case AH_ROWS: {
        sqlite3_bind_int64(st, 1, a->ids[i]);
        if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
            rc = rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc; /* not on this snapshot */
            break;
        }
        char ip[2][64];
        sl->ts =
            sqlite3_column_type(st, 0) == SQLITE_NULL ? TIME_NONE : sqlite3_column_int64(st, 0);
        sl->id = sqlite3_column_int64(st, 1);
        sl->ls = sqlite3_column_int64(st, 2);
        sl->host = sqlite3_column_type(st, 3) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 3);
        sl->file = sqlite3_column_int64(st, 11);
        sl->pos = sqlite3_column_int64(st, 12);
        static const int col[RS__N] = {4, 5, 6, 7, 8, 9, 10, 13};
        for (int k = 0; k < RS__N; k++) {
            const char *p;
            size_t n;
            if (k == RS_SIP || k == RS_DIP) {
                p = ip_text(st, col[k], ip[k - RS_SIP]);
                n = p ? strlen(p) : 0;
            } else if (k == RS_DOC) {
                if (!a->docs[i]) {
                    p = NULL;
                    n = 0;
                } else {
                    sl->doc_blob = sqlite3_column_type(st, col[k]) == SQLITE_BLOB;
                    p = sqlite3_column_blob(st, col[k]);
                    n = (size_t)sqlite3_column_bytes(st, col[k]);
                    p = p ? p : "";
                }
            } else {
                p = (const char *)sqlite3_column_text(st, col[k]);
                n = (size_t)sqlite3_column_bytes(st, col[k]);
            }
            slot_str(sl, k, p, n);
        }
        rc = SQLITE_DONE;
        break;
    }
    case AH_MESSAGES: {
        size_t n = strlen(a->qids[i]);
        uint8_t key[KEY_VALUE_MAX + 1];
        if (n == 0 || n > KEY_VALUE_MAX)
            break;
        key[0] = KEY_QUEUE_ID;
        memcpy(key + 1, a->qids[i], n);
        int64_t h0 = hour_of(a->ids[i]);
        for (int64_t d = -1; d <= 1 && rc == SQLITE_DONE; d++) {
            if (h0 == HOUR_NONE && d != 0)
                continue;
            sqlite3_bind_int64(st, 1, h0 == HOUR_NONE ? HOUR_NONE : h0 + d);
            sqlite3_bind_blob(st, 2, key, (int)n + 1, SQLITE_STATIC);
            while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if (sqlite3_column_int64(st, 1) <= a->max_ev)
                    slot_pair(sl, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 0));
            sqlite3_reset(st);
        }
        break;
    }
    case AH_INDEX: {
        const struct req *q = &a->reqs[i];
        const struct pranges *p = &a->pr[q->probe - a->a];
        const struct hprobe *hp = &a->hp[q->probe];
        sl->reads = sl->entries = 0;
        for (int k = 0; k < p->nr && rc == SQLITE_DONE; k++) {
            if (!(q->which & (1u << k)))
                continue;
            sqlite3_bind_int64(st, 1, q->hour);
            sqlite3_bind_blob(st, 2, p->key[k][0], (int)p->r[k].lolen + 1, SQLITE_STATIC);
            sqlite3_bind_blob(st, 3, p->key[k][1], (int)p->r[k].hilen + 1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, hp->ts_lo);
            sqlite3_bind_int64(st, 5, hp->ts_hi);
            sl->reads++;
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                sl->entries++;
                const uint8_t *key = sqlite3_column_blob(st, 2);
                size_t kn = (size_t)sqlite3_column_bytes(st, 2);
                int64_t ev = sqlite3_column_int64(st, 1);
                if (ev <= a->max_ev && key_range_matches(&p->r[k], key, kn))
                    slot_pair(sl, sqlite3_column_int64(st, 0), ev);
            }
            sqlite3_reset(st);
        }
        break;
    }
    case AH_SUMMARY:
        break;
    }
    sqlite3_reset(st);
    return rc != SQLITE_DONE;
}

/* Put item i into its slot, or mark it for the caller to read. */
static void hand_over_item(struct store_ahead *a, sqlite3_stmt *st, size_t i)
{
    struct aslot *sl = &a->slots[i % HAND_WINDOW];
    sl->rc = hand_item(a, st, i, sl);
    atomic_store(&sl->seq, i + 1);
    if (atomic_load(&a->want) == i + 1) {
        pthread_mutex_lock(&a->mu);
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
    }
}

static void grow(struct store_ahead *a, size_t k);

static void *ahead_main(void *arg)
{
    struct aworker *w = arg;
    struct store_ahead *a = w->a;
    static const char *const sql[] = {
        [AH_ROWS] = ROW_READ_SQL,
        [AH_MESSAGES] = "SELECT ts, ev FROM hunt WHERE hour=? AND key=?",
        [AH_INDEX] = HUNT_READ_SQL,
        [AH_SUMMARY] = "SELECT fps FROM hunt_days WHERE day=? AND class=?",
    };
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t window = a->hand ? HAND_WINDOW - AHEAD_CHUNK : AHEAD_WINDOW;
    int64_t pause_ns = 0;
    if (sqlite3_open_v2(a->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, sql[a->kind], -1, &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_busy_timeout(db, 1000);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL); /* one snapshot, not a lock per read */
    for (;;) {
        size_t k = atomic_fetch_add(&a->next, AHEAD_CHUNK);
        if (k >= a->n)
            break;
        /* handing over: slot k % HAND_WINDOW is free once the caller has
         * taken item k - HAND_WINDOW, that is, is past it */
        while (!atomic_load_explicit(&a->stop, memory_order_relaxed) &&
               k > atomic_load(&a->at) + window)
            nanosleep(&(struct timespec){0, 200000}, NULL);
        size_t end = k + AHEAD_CHUNK < a->n ? k + AHEAD_CHUNK : a->n;
        size_t done = 0; /* items read */
        uint64_t blocks = disk_blocks();
        for (size_t i = k; i < end; i++) {
            if (atomic_load_explicit(&a->stop, memory_order_relaxed))
                goto out;
            if (!a->hand && i < atomic_load_explicit(&a->at, memory_order_relaxed))
                continue;
            if (a->hand)
                hand_over_item(a, st, i);
            else
                ahead_item(a, st, i);
            done++;
        }
        /* The chunk's reads went to the disk: more requests in flight
         * pay, up to max_nth workers (doubling). They came from the page
         * cache: reading ahead, the caller needs no help, and reading the
         * same pages again would take the CPU it needs; handing over, the
         * first HAND_BUSY workers keep the cores busy and more would only
         * wait for a core. Pause (the others take what lies ahead
         * meanwhile). */
        bool cached = disk_blocks() == blocks;
        if (done && !cached && atomic_load(&a->nth) < a->max_nth)
            grow(a, atomic_load(&a->nth));
        if (done && cached && !a->hand) {
            nanosleep(&(struct timespec){0, AHEAD_PAUSE_NS}, NULL);
        } else if (done && cached && w - a->w >= HAND_BUSY) {
            /* a pause that doubles while everything comes from the cache:
             * many idle workers would otherwise still take most items */
            pause_ns = pause_ns ? pause_ns * 2 : AHEAD_PAUSE_NS / 2;
            pause_ns = pause_ns > HAND_PAUSE_MAX_NS ? HAND_PAUSE_MAX_NS : pause_ns;
            nanosleep(&(struct timespec){pause_ns / 1000000000, pause_ns % 1000000000}, NULL);
        } else {
            pause_ns = 0;
        }
    }
out:
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    atomic_fetch_sub(&a->alive, 1);
    pthread_mutex_lock(&a->mu);
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static const char *id_name(struct store *s, sqlite3 *db, int kind, int64_t id);

/* The caller's last row on its snapshot (handing over). */
static int64_t last_row(struct store *s)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = INT64_MAX; /* no bound if it cannot be read */
    if (query_db(s, &db) == 0 &&
        sqlite3_prepare_v2(db, "SELECT max(rowid) FROM events", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

/* Start up to k more workers (fewer when max_nth is near, or a thread
 * cannot be made). */
static void grow(struct store_ahead *a, size_t k)
{
    pthread_mutex_lock(&a->mu);
    size_t n = atomic_load(&a->nth);
    for (size_t t = n; t < n + k && t < a->max_nth && !atomic_load(&a->stop); t++) {
        a->w[t].a = a;
        atomic_fetch_add(&a->alive, 1);
        if (pthread_create(&a->w[t].th, NULL, ahead_main, &a->w[t]) != 0) {
            atomic_fetch_sub(&a->alive, 1);
            break;
        }
        atomic_store(&a->nth, t + 1);
    }
    pthread_mutex_unlock(&a->mu);
}

/* Start the workers over a->n items (a filled by the caller); NULL (a
 * freed) when there are too few items or threads. */
static struct store_ahead *ahead_start(struct store *s, struct store_ahead *a)
{
    size_t nth = hunt_threads(s) - 1;
    if (nth > a->n / (4 * AHEAD_CHUNK))
        nth = a->n / (4 * AHEAD_CHUNK); /* a few items need few workers */
    a->max_nth = nth;
    a->hand = a->kind != AH_SUMMARY;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    if (nth == 0 || a->n < AHEAD_MIN ||
        (a->hand && !(a->slots = calloc(HAND_WINDOW, sizeof(*a->slots))))) {
        store_ahead_end(a);
        return NULL;
    }
    a->s = s;
    a->path = s->path;
    a->max_ev = a->hand ? last_row(s) : INT64_MAX;
    atomic_init(&a->next, 0);
    atomic_init(&a->at, 0);
    atomic_init(&a->stop, false);
    atomic_init(&a->want, 0);
    atomic_init(&a->alive, 0);
    atomic_init(&a->nth, 0);
    grow(a, nth < AHEAD_START ? nth : AHEAD_START);
    return a;
}

static void ahead_at(struct store_ahead *a, size_t i)
{
    if (a)
        atomic_store_explicit(&a->at, i, memory_order_relaxed);
}

/* Item i's slot once a worker has read it, NULL when the caller is to
 * read it itself. The caller is at i from here on. */
static struct aslot *take(struct store_ahead *a, size_t i)
{
    if (!a)
        return NULL;
    atomic_store(&a->at, i);
    struct aslot *sl = &a->slots[i % HAND_WINDOW];
    if (atomic_load(&sl->seq) != i + 1) {
        pthread_mutex_lock(&a->mu);
        atomic_store(&a->want, i + 1);
        while (atomic_load(&sl->seq) != i + 1 && atomic_load(&a->alive) > 0) {
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            t.tv_nsec += 1000000;
            if (t.tv_nsec >= 1000000000) {
                t.tv_sec++;
                t.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&a->cv, &a->mu, &t);
        }
        atomic_store(&a->want, 0);
        pthread_mutex_unlock(&a->mu);
        if (atomic_load(&sl->seq) != i + 1)
            return NULL; /* no worker left to read it */
    }
    return sl->rc ? NULL : sl;
}

void store_ahead_end(struct store_ahead *a)
{
    if (!a)
        return;
    atomic_store(&a->stop, true);
    pthread_mutex_lock(&a->mu); /* no worker starts another from here */
    size_t nth = atomic_load(&a->nth);
    pthread_mutex_unlock(&a->mu);
    if (a->s && nth > a->s->hunt_stats.workers)
        a->s->hunt_stats.workers = nth;
    for (size_t t = 0; t < nth; t++)
        pthread_join(a->w[t].th, NULL);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    if (a->slots)
        for (size_t i = 0; i < HAND_WINDOW; i++)
            buf_free(&a->slots[i].b);
    free(a->slots);
    free(a->ids);
    free(a->docs);
    if (a->qids)
        for (size_t i = 0; i < a->n; i++)
            free(a->qids[i]);
    free(a->qids);
    free(a);
}

struct store_ahead *store_ahead_rows(struct store *s, const int64_t *ids, const bool *docs,
                                     size_t n)
{
    if (n < AHEAD_MIN || hunt_threads(s) < 2)
        return NULL;
    struct store_ahead *a = calloc(1, sizeof(*a));
    if (!a || !(a->ids = malloc(n * sizeof(*ids))) || !(a->docs = calloc(n, sizeof(*docs)))) {
        if (a)
            free(a->ids);
        free(a);
        return NULL;
    }
    memcpy(a->ids, ids, n * sizeof(*ids));
    if (docs)
        memcpy(a->docs, docs, n * sizeof(*docs));
    a->kind = AH_ROWS;
    a->n = n;
    return ahead_start(s, a);
}

int store_ahead_row(struct store *s, struct store_ahead *a, size_t i, int64_t ev, bool with_doc,
                    struct store_row *r)
{
    struct aslot *sl = take(a, i);
    if (!sl || a->ids[i] != ev || (with_doc && sl->off[RS_DOC] == RS_NULL))
        return store_event_get(s, ev, with_doc, r);
    sqlite3 *db;
    int rc = query_db(s, &db);
    if (rc < 0)
        return rc;
    memset(r, 0, sizeof(*r));
    const char *str[RS__N];
    for (int k = 0; k < RS__N; k++)
        str[k] = sl->off[k] == RS_NULL ? NULL : sl->b.data + sl->off[k];
    r->ts_ns = sl->ts;
    r->id = (uint64_t)sl->id;
    r->module = id_name(s, db, 1, sl->ls);
    r->host = sl->host ? id_name(s, db, 2, sl->host) : NULL;
    r->user = str[RS_USER];
    r->source_ip = str[RS_SIP];
    r->destination_ip = str[RS_DIP];
    r->action = str[RS_ACTION];
    r->outcome = str[RS_OUTCOME];
    r->email_from = str[RS_FROM];
    r->email_to = str[RS_TO];
    r->file = id_name(s, db, 0, sl->file);
    r->line = (uint64_t)sl->pos;
    if (with_doc) {
        rc = doc_decode(s, db, str[RS_DOC], sl->len[RS_DOC], sl->doc_blob);
        if (rc < 0)
            return rc;
        r->json = s->rjson.data;
        r->json_len = s->rjson.len;
    }
    return 0;
}

struct store_ahead *store_ahead_messages(struct store *s, const char *const *qids,
                                         const int64_t *ts_ns, size_t n)
{
    if (n < AHEAD_MIN || hunt_threads(s) < 2)
        return NULL;
    struct store_ahead *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->kind = AH_MESSAGES;
    a->ids = malloc(n * sizeof(*ts_ns));
    a->qids = calloc(n, sizeof(*a->qids));
    bool ok = a->ids && a->qids;
    for (size_t i = 0; i < n && ok; i++)
        ok = (a->qids[i] = strdup(qids[i])) != NULL;
    a->n = n; /* store_ahead_end frees what was copied */
    if (!ok) {
        store_ahead_end(a);
        return NULL;
    }
    memcpy(a->ids, ts_ns, n * sizeof(*ts_ns));
    return ahead_start(s, a);
}

int store_ahead_message(struct store *s, struct store_ahead *a, size_t i, const char *qid,
                        int64_t ts_ns, int (*cb)(void *opaque, int64_t ev, int64_t ts_ns),
                        void *opaque)
{
    struct aslot *sl = take(a, i);
    if (!sl || strcmp(a->qids[i], qid) != 0 || a->ids[i] != ts_ns)
        return store_message_events(s, qid, ts_ns, cb, opaque);
    const int64_t *v = (const int64_t *)(const void *)sl->b.data;
    int rc = 0;
    for (size_t k = 0; k + 1 < sl->b.len / sizeof(int64_t) && rc == 0; k += 2)
        rc = cb(opaque, v[k], v[k + 1]);
    return rc;
}

/* The ranges of probe hp as bound keys into *out. */
static int pranges_of(struct hunt_ctx *c, const struct hprobe *hp, struct pranges *out)
{
    memset(out, 0, sizeof(*out));
    if (key_probe_of(hp->type, hp->value, &c->kp) < 0)
        return 0; /* out->nr 0: reads nothing */
    for (int k = 0; k < c->kp.nr; k++) {
        const struct key_range *r = &c->kp.r[k];
        out->key[k][0] = malloc(r->lolen + 1);
        out->key[k][1] = malloc(r->hilen + 1);
        if (!out->key[k][0] || !out->key[k][1]) {
            pranges_free(out);
            return set_err(c->s, -ENOMEM, "out of memory");
        }
        out->key[k][0][0] = out->key[k][1][0] = (uint8_t)r->kind;
        memcpy(out->key[k][0] + 1, r->lo, r->lolen);
        memcpy(out->key[k][1] + 1, r->hi, r->hilen);
        out->r[k] = *r;
        out->r[k].lo = out->key[k][0] + 1;
        out->r[k].hi = out->key[k][1] + 1;
        out->nr++;
    }
    return 0;
}

/* Read the ranges `which` (bit k: range k) of a probe in hour, appending
 * its entries to ctx->ents. */
static int read_hour(struct hunt_ctx *c, const struct hprobe *hp, const struct pranges *p,
                     uint32_t probe, int64_t hour, unsigned which)
{
    sqlite3_stmt *st = c->read;
    for (int k = 0; k < p->nr; k++) {
        if (!(which & (1u << k)))
            continue;
        const struct key_range *r = &p->r[k];
        sqlite3_bind_int64(st, 1, hour);
        sqlite3_bind_blob(st, 2, p->key[k][0], (int)r->lolen + 1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, p->key[k][1], (int)r->hilen + 1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, hp->ts_lo);
        sqlite3_bind_int64(st, 5, hp->ts_hi);
        int rc;
        c->s->hunt_stats.reads++;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            c->s->hunt_stats.entries++;
            const uint8_t *key = sqlite3_column_blob(st, 2);
            size_t kn = (size_t)sqlite3_column_bytes(st, 2);
            if (!key_range_matches(r, key, kn))
                continue;
            if (c->nents == c->capents) {
                size_t cap = c->capents ? c->capents * 2 : 256;
                struct ent *e = realloc(c->ents, cap * sizeof(*e));
                if (!e) {
                    sqlite3_reset(st);
                    return set_err(c->s, -ENOMEM, "out of memory");
                }
                c->ents = e;
                c->capents = cap;
            }
            c->ents[c->nents++] =
                (struct ent){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), probe};
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return sql_err(c->s, c->db, rc, "hunting");
    }
    return 0;
}

/* The entries a worker read for probe (handing over), as read_hour would
 * have appended them. */
static int take_entries(struct hunt_ctx *c, const struct aslot *sl, uint32_t probe)
{
    const int64_t *v = (const int64_t *)(const void *)sl->b.data;
    size_t n = sl->b.len / (2 * sizeof(int64_t));
    c->s->hunt_stats.reads += sl->reads;
    c->s->hunt_stats.entries += sl->entries;
    if (c->nents + n > c->capents) {
        size_t cap = c->capents ? c->capents : 256;
        while (cap < c->nents + n)
            cap *= 2;
        struct ent *e = realloc(c->ents, cap * sizeof(*e));
        if (!e)
            return set_err(c->s, -ENOMEM, "out of memory");
        c->ents = e;
        c->capents = cap;
    }
    for (size_t i = 0; i < n; i++)
        c->ents[c->nents++] = (struct ent){v[2 * i], v[2 * i + 1], probe};
    return 0;
}

/* The hours that hold entries, from hunt_hours. */
static int load_hours(struct store *s, sqlite3 *db, int64_t **hours, size_t *n)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, DAYS_SQL, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, db, rc, "hunting");
    size_t cap = 0;
    *n = 0;
    *hours = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *h = realloc(*hours, cap * sizeof(*h));
            if (!h) {
                sqlite3_finalize(st);
                return set_err(s, -ENOMEM, "out of memory");
            }
            *hours = h;
        }
        (*hours)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sql_err(s, db, rc, "hunting");
}

static int64_t day_of(int64_t hour)
{
    if (hour == HOUR_NONE)
        return DAY_NONE;
    return hour >= 0 ? hour / 24 : -((-hour + 23) / 24);
}

/* Phase 1: candidate days and hours of every probe from the summary. */
static int summary_phase(struct store *s, sqlite3 *db, struct hprobe *hp, size_t n,
                         const int64_t *hours, size_t nhours, store_progress_cb progress,
                         void *opaque)
{
    /* fingerprints per class */
    static const char classes[] = {KEY_SRC_IP, KEY_DST_IP, KEY_FROM,     KEY_TO,         KEY_DOMAIN,
                                   KEY_URL,    KEY_HASH,   KEY_FILENAME, KEY_USER_AGENT, KEY_USER};
    enum { NCLS = sizeof(classes) };
    struct fpp *fp[NCLS] = {0};
    size_t nfp[NCLS] = {0}, capfp[NCLS] = {0};
    int rc = 0;
    struct key_probe *kp = malloc(sizeof(*kp));
    if (!kp)
        return set_err(s, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!hp[i].ok)
            continue;
        if (key_probe_of(hp[i].type, hp[i].value, kp) < 0) {
            hp[i].ok = false;
            continue;
        }
        hp[i].all_hours = kp->all_hours;
        if (kp->all_hours)
            continue;
        for (unsigned k = 0; k < kp->nfps; k++) {
            int c = 0;
            while (c < NCLS && classes[c] != kp->fps[k].cls)
                c++;
            if (c == NCLS)
                continue;
            if (nfp[c] == capfp[c]) {
                size_t cap = capfp[c] ? capfp[c] * 2 : 256;
                struct fpp *f = realloc(fp[c], cap * sizeof(*f));
                if (!f) {
                    rc = set_err(s, -ENOMEM, "out of memory");
                    break;
                }
                fp[c] = f;
                capfp[c] = cap;
            }
            fp[c][nfp[c]++] = (struct fpp){kp->fps[k].fp, (uint32_t)i, kp->fps[k].ranges};
        }
    }
    free(kp);
    for (int c = 0; c < NCLS && rc == 0; c++)
        if (nfp[c])
            qsort(fp[c], nfp[c], sizeof(struct fpp), cmp_fpp);

    /* the days, and the hours each probe could want from them */
    struct sum_read r = {0};
    sqlite3_stmt *rd = NULL;
    uint64_t ndays = 0;
    for (size_t h = 0; h < nhours; h++)
        ndays += h == 0 || day_of(hours[h]) != day_of(hours[h - 1]);
    uint64_t done = 0;
    /* the (day, class) reads in the order they are made, read ahead */
    size_t ncls = 0, nitems = 0, item = 0;
    for (int c = 0; c < NCLS; c++)
        ncls += nfp[c] != 0;
    struct sum_item *items = rc == 0 ? malloc(ndays * ncls * sizeof(*items) + 1) : NULL;
    struct store_ahead *ah = NULL;
    if (items && ndays * ncls >= AHEAD_MIN && hunt_threads(s) > 1) {
        for (size_t h = 0; h < nhours; h++)
            for (int c = 0; c < NCLS && !(h && day_of(hours[h]) == day_of(hours[h - 1])); c++)
                if (nfp[c])
                    items[nitems++] = (struct sum_item){day_of(hours[h]), classes[c]};
        if ((ah = calloc(1, sizeof(*ah))) != NULL) {
            ah->kind = AH_SUMMARY;
            ah->sum = items;
            ah->n = nitems;
            ah = ahead_start(s, ah);
        }
    }
    for (size_t h = 0; h < nhours && rc == 0; h++) {
        int64_t day = day_of(hours[h]);
        if (h && day == day_of(hours[h - 1]))
            continue;
        for (int c = 0; c < NCLS && rc == 0; c++) {
            if (!nfp[c])
                continue;
            ahead_at(ah, item++);
            rc = summary_read(s, db, &rd, day, classes[c], &r);
            s->hunt_stats.summary_entries += r.n;
            /* merge two sorted lists */
            size_t i = 0, j = 0;
            while (rc == 0 && i < r.n && j < nfp[c]) {
                uint32_t a = (uint32_t)(r.v[i] >> 32), b = fp[c][j].fp;
                if (a < b) {
                    i++;
                } else if (a > b) {
                    j++;
                } else {
                    for (size_t k = j; k < nfp[c] && fp[c][k].fp == a && rc == 0; k++)
                        if (add_cand(&hp[fp[c][k].probe], day, fp[c][k].ranges, (uint32_t)r.v[i]) <
                            0)
                            rc = set_err(s, -ENOMEM, "out of memory");
                    i++;
                }
            }
        }
        done++;
        s->hunt_stats.days++;
        if (progress && (done % 16 == 0 || done == ndays))
            progress(opaque, 1, done, ndays);
    }
    store_ahead_end(ah);
    free(items);
    sqlite3_finalize(rd);
    free(r.v);
    for (int c = 0; c < NCLS; c++)
        free(fp[c]);
    return rc;
}

/* Hand over ents[*i..n) of probe p (sorted by probe, then time), each
 * event once; advances *i past them. */
static int hand_over(const struct ent *ents, size_t n, size_t *i, uint32_t p,
                     int (*cb)(void *opaque, const struct store_hit *h), void *opaque)
{
    int rc = 0;
    size_t k = *i;
    for (; k < n && ents[k].probe == p && rc == 0; k++) {
        /* same ts and ev sort together: an event found twice */
        if (k > *i && ents[k].ev == ents[k - 1].ev && ents[k].ts == ents[k - 1].ts)
            continue;
        struct store_hit hit = {p, ents[k].ts, ents[k].ev};
        rc = cb(opaque, &hit);
    }
    *i = k;
    return rc;
}

/* A probe that reads every hour (a very short CIDR block), streamed hour
 * by hour. */
static int all_hours_probe(struct hunt_ctx *c, struct hprobe *hp, uint32_t probe,
                           const int64_t *hours, size_t nhours,
                           int (*cb)(void *opaque, const struct store_hit *h), void *opaque)
{
    struct pranges pr;
    int rc = pranges_of(c, hp, &pr);
    for (size_t h = 0; h < nhours && rc == 0; h++) {
        if (hours[h] < hp->hour_lo || hours[h] > hp->hour_hi)
            continue;
        c->nents = 0;
        c->s->hunt_stats.candidates++;
        rc = read_hour(c, hp, &pr, probe, hours[h], 7);
        if (rc == 0 && c->nents) {
            qsort(c->ents, c->nents, sizeof(*c->ents), cmp_ent);
            size_t i = 0;
            rc = hand_over(c->ents, c->nents, &i, probe, cb, opaque);
        }
    }
    pranges_free(&pr);
    return rc;
}

/* The reads of probe hp: its candidate hours inside its window. */
static int add_reqs(struct hunt_ctx *c, const struct hprobe *hp, uint32_t probe, struct req **v,
                    size_t *n, size_t *cap)
{
    for (size_t k = 0; k < hp->ncands; k++) {
        const struct cand *cd = &hp->cands[k];
        for (unsigned bit = 0; bit < 24; bit++) {
            unsigned which = 0;
            for (int r = 0; r < 3; r++)
                if (cd->mask[r] & (1u << bit))
                    which |= 1u << r;
            if (!which)
                continue;
            int64_t hour = cd->day == DAY_NONE ? HOUR_NONE : cd->day * 24 + bit;
            if (hour < hp->hour_lo || hour > hp->hour_hi)
                continue;
            if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 1024;
                struct req *q = realloc(*v, nc * sizeof(*q));
                if (!q)
                    return set_err(c->s, -ENOMEM, "out of memory");
                *v = q;
                *cap = nc;
            }
            (*v)[(*n)++] = (struct req){hour, probe, (uint8_t)which};
            if (cd->day == DAY_NONE)
                break;
        }
    }
    return 0;
}

/* Phase 2 for the probes [a, b): all their reads in hour order, so that the
 * index is swept once, front to back, however many probes read it (read
 * probe by probe, each would seek all over the file: on a store larger
 * than memory, a disk read per seek). Entries are kept until the chunk is
 * read, then handed over probe by probe; when they outgrow
 * opts.hunt_entries the hour-major read stops at an hour boundary, what
 * was read is handed over, and each probe's remaining hours are read and
 * handed over in turn, so memory stays bounded and every probe's events
 * still come in time order. */
#define READS_MAX (2u << 20) /* reads planned per chunk */
static int index_chunk(struct hunt_ctx *c, struct hprobe *hp, size_t a, size_t b,
                       int (*cb)(void *opaque, const struct store_hit *h), void *opaque)
{
    struct req *reqs = NULL;
    size_t nreq = 0, capreq = 0;
    struct pranges *pr = calloc(b - a, sizeof(*pr));
    int rc = pr ? 0 : set_err(c->s, -ENOMEM, "out of memory");
    for (size_t i = a; i < b && rc == 0; i++)
        if (hp[i].ok) {
            rc = pranges_of(c, &hp[i], &pr[i - a]);
            rc = rc ? rc : add_reqs(c, &hp[i], (uint32_t)i, &reqs, &nreq, &capreq);
        }
    if (rc == 0 && nreq)
        qsort(reqs, nreq, sizeof(*reqs), cmp_req_hour);
    c->nents = 0;
    struct store_ahead *ah = NULL;
    if (rc == 0 && nreq >= AHEAD_MIN && hunt_threads(c->s) > 1 &&
        (ah = calloc(1, sizeof(*ah))) != NULL) {
        ah->kind = AH_INDEX;
        ah->reqs = reqs;
        ah->pr = pr;
        ah->hp = hp;
        ah->a = a;
        ah->n = nreq;
        ah = ahead_start(c->s, ah);
    }
    size_t k = 0;
    for (; k < nreq && rc == 0; k++) {
        if (k && reqs[k].hour != reqs[k - 1].hour && c->nents >= c->s->o.hunt_entries)
            break; /* at an hour boundary: the rest probe by probe */
        c->s->hunt_stats.candidates++;
        const struct aslot *sl = take(ah, k);
        if (sl)
            rc = take_entries(c, sl, reqs[k].probe);
        else
            rc = read_hour(c, &hp[reqs[k].probe], &pr[reqs[k].probe - a], reqs[k].probe,
                           reqs[k].hour, reqs[k].which);
    }
    store_ahead_end(ah);
    size_t rest = k;
    if (rc == 0 && rest < nreq)
        qsort(reqs + rest, nreq - rest, sizeof(*reqs), cmp_req_probe);
    if (rc == 0 && c->nents)
        qsort(c->ents, c->nents, sizeof(*c->ents), cmp_ent);
    /* hand over, probe by probe: what was read, then (after a stop) the rest */
    size_t e = 0;
    struct ent *held = c->ents; /* read_hour appends to c->ents: keep these apart */
    size_t nheld = c->nents;
    c->ents = NULL;
    c->nents = c->capents = 0;
    for (size_t i = a; i < b && rc == 0; i++) {
        rc = hand_over(held, nheld, &e, (uint32_t)i, cb, opaque);
        while (rc == 0 && rest < nreq && reqs[rest].probe == i) {
            c->nents = 0;
            c->s->hunt_stats.candidates++;
            rc = read_hour(c, &hp[i], &pr[i - a], (uint32_t)i, reqs[rest].hour, reqs[rest].which);
            if (rc == 0 && c->nents) {
                qsort(c->ents, c->nents, sizeof(*c->ents), cmp_ent);
                size_t j = 0;
                rc = hand_over(c->ents, c->nents, &j, (uint32_t)i, cb, opaque);
            }
            rest++;
        }
    }
    free(held);
    for (size_t i = a; pr && i < b; i++)
        pranges_free(&pr[i - a]);
    free(pr);
    free(reqs);
    return rc;
}

int store_hunt(struct store *s, const struct store_probe *probes, size_t n,
               int (*cb)(void *opaque, const struct store_hit *h), store_progress_cb progress,
               void *opaque)
{
    int rc = store_need_version(s, 2, "hunting");
    sqlite3 *db;
    rc = rc ? rc : query_db(s, &db);
    if (rc < 0)
        return rc;
    uint64_t workers = s->hunt_stats.workers; /* kept: see store.h */
    memset(&s->hunt_stats, 0, sizeof(s->hunt_stats));
    s->hunt_stats.workers = workers;
    struct hprobe *hp = calloc(n + 1, sizeof(*hp));
    if (!hp)
        return set_err(s, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct store_probe *p = &probes[i];
        hp[i].type = p->type;
        hp[i].value = p->value;
        hp[i].ok = p->value != NULL;
        bool bounded = p->since_ns != TIME_NONE || p->until_ns != TIME_NONE;
        hp[i].hour_lo = p->since_ns != TIME_NONE ? hour_of(p->since_ns)
                        : bounded                ? HOUR_NONE + 1
                                                 : HOUR_NONE;
        hp[i].hour_hi = p->until_ns != TIME_NONE ? hour_of(p->until_ns - 1) : INT64_MAX;
        hp[i].ts_lo = p->since_ns != TIME_NONE ? p->since_ns : bounded ? INT64_MIN + 1 : INT64_MIN;
        hp[i].ts_hi = p->until_ns != TIME_NONE ? p->until_ns : INT64_MAX;
        if (p->since_ns != TIME_NONE && p->until_ns != TIME_NONE && p->until_ns <= p->since_ns)
            hp[i].ok = false; /* an empty window */
    }
    bool own_read = sqlite3_get_autocommit(db);
    if (own_read && (rc = store_read_begin(s)) < 0) {
        free(hp);
        return rc;
    }
    int64_t *hours = NULL;
    size_t nhours = 0;
    rc = load_hours(s, db, &hours, &nhours);
    rc = rc ? rc : summary_phase(s, db, hp, n, hours, nhours, progress, opaque);
    struct hunt_ctx *c = calloc(1, sizeof(*c)); /* holds a key_probe: not on the stack */
    if (!c)
        rc = rc ? rc : set_err(s, -ENOMEM, "out of memory");
    if (rc == 0) {
        c->s = s;
        c->db = db;
        if (sqlite3_prepare_v2(db, HUNT_READ_SQL, -1, &c->read, NULL) != SQLITE_OK)
            rc = sql_err(s, db, sqlite3_errcode(db), "hunting");
    }
    /* chunks of probes with at most READS_MAX reads; a probe that reads
     * every hour goes alone, streamed */
    size_t a = 0;
    while (a < n && rc == 0) {
        if (hp[a].ok && hp[a].all_hours) {
            rc = all_hours_probe(c, &hp[a], (uint32_t)a, hours, nhours, cb, opaque);
            a++;
        } else {
            size_t b = a, reads = 0;
            while (b < n && !(hp[b].ok && hp[b].all_hours) && (b == a || reads < READS_MAX)) {
                for (size_t k = 0; k < hp[b].ncands; k++)
                    for (int r = 0; r < 3; r++)
                        reads += (size_t)__builtin_popcount(hp[b].cands[k].mask[r]);
                b++;
            }
            rc = index_chunk(c, hp, a, b, cb, opaque);
            a = b;
        }
        if (progress)
            progress(opaque, 2, a, n);
    }
    if (c) {
        sqlite3_finalize(c->read);
        free(c->ents);
        free(c);
    }
    for (size_t i = 0; i < n; i++)
        free(hp[i].cands);
    free(hp);
    free(hours);
    if (own_read)
        store_read_end(s);
    return rc;
}

void store_hunt_stats(const struct store *s, struct store_hunt_stats *st)
{
    *st = s->hunt_stats;
}

int store_hunt_explain(struct store *s, struct buf *out)
{
    int rc = store_need_version(s, 2, "hunting");
    sqlite3 *db;
    rc = rc ? rc : query_db(s, &db);
    if (rc < 0)
        return rc;
    static const char *const sqls[] = {
        "EXPLAIN QUERY PLAN " DAYS_SQL,
        "EXPLAIN QUERY PLAN SELECT fps FROM hunt_days WHERE day=? AND class=?",
        "EXPLAIN QUERY PLAN " HUNT_READ_SQL,
    };
    for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]) && rc == 0; i++) {
        sqlite3_stmt *st;
        int r = sqlite3_prepare_v2(db, sqls[i], -1, &st, NULL);
        if (r != SQLITE_OK)
            return sql_err(s, db, r, "explaining the hunt");
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
            buf_puts(out, (const char *)sqlite3_column_text(st, 3));
            buf_putc(out, '\n');
        }
        rc = r == SQLITE_DONE ? 0 : sql_err(s, db, r, "explaining the hunt");
        sqlite3_finalize(st);
    }
    return rc;
}

/* ---- events ------------------------------------------------------------------- */

int store_read_begin(struct store *s)
{
    sqlite3 *db;
    int rc = query_db(s, &db);
    if (rc < 0)
        return rc;
    return sqlite3_get_autocommit(db) ? store_exec(s, db, "BEGIN", "starting a read") : 0;
}

void store_read_end(struct store *s)
{
    sqlite3 *db;
    if (query_db(s, &db) == 0 && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

/* The name of interned id (kind 0 files, 1 log source modules, 2 hosts),
 * read once; NULL if absent. */
static const char *id_name(struct store *s, sqlite3 *db, int kind, int64_t id)
{
    static const char *const sql[3] = {"SELECT path FROM files WHERE id=?",
                                       "SELECT module FROM logsources WHERE id=?",
                                       "SELECT name FROM hosts WHERE id=?"};
    struct id_names *t = &s->names[kind];
    if (id <= 0 || id > (1 << 24))
        return NULL; /* not one kenchi assigned */
    if ((size_t)id < t->cap && t->v[id])
        return t->v[id];
    if ((size_t)id >= t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap <= (size_t)id)
            cap *= 2;
        char **v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        memset(v + t->cap, 0, (cap - t->cap) * sizeof(*v));
        t->v = v;
        t->cap = cap;
    }
    if (!t->get && sqlite3_prepare_v3(db, sql[kind], -1, SQLITE_PREPARE_PERSISTENT, &t->get,
                                      NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64(t->get, 1, id);
    if (sqlite3_step(t->get) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(t->get, 0);
        t->v[id] = strdup(n ? n : "");
    }
    sqlite3_reset(t->get);
    return t->v[id];
}

void store_names_free(struct store *s)
{
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < s->names[k].cap; i++)
            free(s->names[k].v[i]);
        free(s->names[k].v);
        sqlite3_finalize(s->names[k].get);
        memset(&s->names[k], 0, sizeof(s->names[k]));
    }
}

int store_event_get(struct store *s, int64_t ev, bool with_doc, struct store_row *r)
{
    sqlite3 *db;
    int rc = query_db(s, &db);
    if (rc < 0)
        return rc;
    if (!s->ev_get && (rc = sqlite3_prepare_v3(db, ROW_READ_SQL, -1, SQLITE_PREPARE_PERSISTENT,
                                               &s->ev_get, NULL)) != SQLITE_OK)
        return sql_err(s, db, rc, "reading an event");
    sqlite3_stmt *st = s->ev_get;
    sqlite3_reset(st); /* the previous row's strings die here */
    sqlite3_bind_int64(st, 1, ev);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? -ENOENT : sql_err(s, db, rc, "reading an event");
    }
    memset(r, 0, sizeof(*r));
    r->ts_ns = sqlite3_column_type(st, 0) == SQLITE_NULL ? TIME_NONE : sqlite3_column_int64(st, 0);
    r->id = (uint64_t)sqlite3_column_int64(st, 1);
    r->module = id_name(s, db, 1, sqlite3_column_int64(st, 2));
    r->host = sqlite3_column_type(st, 3) == SQLITE_NULL
                  ? NULL
                  : id_name(s, db, 2, sqlite3_column_int64(st, 3));
    r->user = (const char *)sqlite3_column_text(st, 4);
    r->source_ip = ip_text(st, 5, s->ev_ip[0]);
    r->destination_ip = ip_text(st, 6, s->ev_ip[1]);
    r->action = (const char *)sqlite3_column_text(st, 7);
    r->outcome = (const char *)sqlite3_column_text(st, 8);
    r->email_from = (const char *)sqlite3_column_text(st, 9);
    r->email_to = (const char *)sqlite3_column_text(st, 10);
    r->file = id_name(s, db, 0, sqlite3_column_int64(st, 11));
    r->line = (uint64_t)sqlite3_column_int64(st, 12);
    if (with_doc) {
        rc = doc_decode(s, db, sqlite3_column_blob(st, 13), (size_t)sqlite3_column_bytes(st, 13),
                        sqlite3_column_type(st, 13) == SQLITE_BLOB);
        if (rc < 0)
            return rc;
        r->json = s->rjson.data;
        r->json_len = s->rjson.len;
    }
    return 0;
}

int store_message_events(struct store *s, const char *qid, int64_t ts_ns,
                         int (*cb)(void *opaque, int64_t ev, int64_t ts_ns), void *opaque)
{
    int rc = store_need_version(s, 2, "joining messages");
    sqlite3 *db;
    rc = rc ? rc : query_db(s, &db);
    if (rc < 0)
        return rc;
    size_t n = strlen(qid);
    if (n == 0 || n > KEY_VALUE_MAX)
        return 0;
    sqlite3_stmt *st;
    rc = sqlite3_prepare_v2(db, "SELECT ts, ev FROM hunt WHERE hour=? AND key=?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, db, rc, "joining messages");
    uint8_t key[KEY_VALUE_MAX + 1];
    key[0] = KEY_QUEUE_ID;
    memcpy(key + 1, qid, n);
    int64_t h0 = hour_of(ts_ns);
    rc = 0;
    for (int64_t d = -1; d <= 1 && rc == 0; d++) {
        if (h0 == HOUR_NONE && d != 0)
            continue;
        sqlite3_bind_int64(st, 1, h0 == HOUR_NONE ? HOUR_NONE : h0 + d);
        sqlite3_bind_blob(st, 2, key, (int)n + 1, SQLITE_STATIC);
        int r = SQLITE_DONE;
        while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW)
            rc = cb(opaque, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 0));
        if (rc == 0 && r != SQLITE_DONE)
            rc = sql_err(s, db, r, "joining messages");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

int store_window_events(struct store *s, int64_t since_ns, int64_t until_ns,
                        int (*cb)(void *opaque, int64_t ev, int64_t ts_ns), void *opaque)
{
    sqlite3 *db;
    int rc = query_db(s, &db);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st;
    rc = sqlite3_prepare_v2(db,
                            "SELECT rowid, ts FROM events WHERE ts >= ?1 AND ts < ?2"
                            " ORDER BY ts, rowid",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, db, rc, "scanning a time window");
    sqlite3_bind_int64(st, 1, since_ns == TIME_NONE ? INT64_MIN + 1 : since_ns);
    sqlite3_bind_int64(st, 2, until_ns == TIME_NONE ? INT64_MAX : until_ns);
    int r = SQLITE_DONE;
    rc = 0;
    while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW)
        rc = cb(opaque, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
    if (rc == 0 && r != SQLITE_DONE)
        rc = sql_err(s, db, r, "scanning a time window");
    sqlite3_finalize(st);
    return rc;
}
