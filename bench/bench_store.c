/*
 * bench_store.c - how fast events go into the store, and how big they get.
 *
 * Generates N synthetic mail-log events (Postfix smtpd/qmgr/smtp and Dovecot
 * login shapes with realistic field sizes: addresses, queue ids, messages
 * of 60-150 bytes; about 600-700 bytes of JSON each) and inserts them
 *
 *   1. through the store API (store_add_batch: JSON serialisation, zstd with
 *      a trained dictionary, bounded queue, writer thread, six indexes,
 *      INSERT OR IGNORE on the unique event id), and
 *   2. as the baseline, in the same run: a plain SQLite table with the same
 *      columns as text and the JSON uncompressed, no index, one transaction
 *      per 10,000 rows, WAL and synchronous=NORMAL like the store, on one
 *      thread (serialisation included, so both pay for event_to_json).
 *
 * It prints events/s and bytes/event of both and their ratios, the CPU time
 * per event of the caller and of the writer thread (stable on a shared
 * machine, where wall rates are not), and the store's bytes per table and
 * index. Usage:
 *   bench_store [N] [DIR]      (defaults: 1000000, $TMPDIR or /tmp)
 *   BENCH_STORE_ONLY=1 bench_store ...   skips the baseline
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zstd.h>

#include "bench-maillog.h"
#include "event/event.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

static int64_t file_bytes(const char *path)
{
    return store_file_bytes(path);
}

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double producer_cpu; /* CPU seconds of the calling thread in run_store() */

/* Bytes per event of each table and index of the store (dbstat), into
 * out; empty when this SQLite lacks the dbstat table. */
static void breakdown(sqlite3 *db, uint64_t n, struct buf *out)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, sum(pgsize) FROM dbstat GROUP BY name "
                           "ORDER BY 2 DESC LIMIT 5",
                           -1, &q, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(q) == SQLITE_ROW)
        buf_printf(out, "%s%s %.1f", out->len ? ", " : "", (const char *)sqlite3_column_text(q, 0),
                   (double)sqlite3_column_int64(q, 1) / (double)n);
    sqlite3_finalize(q);
}

static struct buf store_breakdown;

static double run_store(struct pool *p, uint64_t nbatches, const char *path, int64_t *bytes,
                        struct store_stats *st)
{
    double c0 = thread_cpu_s();
    struct store *s;
    struct store_opts o;
    store_opts_default(&o);
    double t0 = now_s();
    if (store_open(path, &o, &s) < 0) {
        fprintf(stderr, "bench_store: %s\n", store_errmsg(s));
        exit(1);
    }
    for (uint64_t k = 0; k < nbatches; k++)
        if (store_add_batch(s, round_batch(p, k), BATCH) < 0) {
            fprintf(stderr, "bench_store: %s\n", store_errmsg(s));
            exit(1);
        }
    producer_cpu = thread_cpu_s() - c0;
    store_sync(s);
    store_get_stats(s, st);
    if (store_close(s) < 0) {
        fprintf(stderr, "bench_store: close failed\n");
        exit(1);
    }
    double secs = now_s() - t0;
    *bytes = file_bytes(path);
    /* what the documents take once every row is compressed (the counters
     * count the first rows as written, before the dictionary existed) */
    sqlite3 *db;
    sqlite3_stmt *q;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT sum(length(doc)) FROM events", -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            st->doc_bytes_out = (uint64_t)sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        breakdown(db, nbatches * BATCH, &store_breakdown);
    }
    sqlite3_close(db);
    return secs;
}

static void die_sql(sqlite3 *db, const char *what)
{
    fprintf(stderr, "bench_store: baseline: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
}

static void bind_str(sqlite3_stmt *st, int i, struct str v)
{
    if (v.n)
        sqlite3_bind_text(st, i, v.p, (int)v.n, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static double run_baseline(struct pool *p, uint64_t nbatches, const char *path, int64_t *bytes)
{
    sqlite3 *db;
    double t0 = now_s();
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die_sql(db, "open");
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE events(ts INTEGER, id INTEGER, file TEXT, line INTEGER,"
                     " module TEXT, product TEXT, service TEXT, host TEXT, user TEXT, sip TEXT,"
                     " dip TEXT, efrom TEXT, eto TEXT, action TEXT, outcome TEXT, doc TEXT)",
                     NULL, NULL, NULL) != SQLITE_OK)
        die_sql(db, "schema");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO events VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
                           &st, NULL) != SQLITE_OK)
        die_sql(db, "prepare");
    struct buf json;
    buf_init(&json);
    uint64_t rows = 0;
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (uint64_t k = 0; k < nbatches; k++) {
        struct event *b = round_batch(p, k);
        for (size_t i = 0; i < BATCH; i++) {
            const struct event *ev = &b[i];
            buf_clear(&json);
            event_to_json(ev, &json);
            sqlite3_bind_int64(st, 1, ev->ts_ns);
            sqlite3_bind_int64(st, 2, (int64_t)ev->id);
            sqlite3_bind_text(st, 3, ev->file, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 4, (int64_t)ev->line);
            sqlite3_bind_text(st, 5, ev->format, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 6, ev->ls.product, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 7, ev->ls.service, -1, SQLITE_STATIC);
            bind_str(st, 8, ev->core[CORE_HOST_NAME]);
            bind_str(st, 9, ev->core[CORE_USER_NAME]);
            bind_str(st, 10, ev->core[CORE_SOURCE_IP]);
            bind_str(st, 11, ev->core[CORE_DESTINATION_IP]);
            bind_str(st, 12, ev->core[CORE_EMAIL_FROM_ADDRESS]);
            bind_str(st, 13, ev->core[CORE_EMAIL_TO_ADDRESS]);
            bind_str(st, 14, ev->core[CORE_EVENT_ACTION]);
            bind_str(st, 15, ev->core[CORE_EVENT_OUTCOME]);
            sqlite3_bind_text(st, 16, json.data, (int)json.len, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                die_sql(db, "insert");
            sqlite3_reset(st);
            if (++rows % 10000 == 0) {
                sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
                sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
            }
        }
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        die_sql(db, "commit");
    sqlite3_finalize(st);
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_close(db);
    buf_free(&json);
    double secs = now_s() - t0;
    *bytes = file_bytes(path);
    return secs;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    uint64_t nbatches = (n + BATCH - 1) / BATCH;
    n = nbatches * BATCH;

    static struct pool pool;
    arena_init(&pool.arena, 1 << 20);
    for (size_t k = 0; k < POOL_BATCHES; k++)
        for (size_t i = 0; i < BATCH; i++)
            gen_event(&pool.evs[k][i], &pool.arena, k * BATCH + i);
    /* the document sizes, and what plain per-row zstd would make of them */
    struct buf j;
    buf_init(&j);
    uint64_t json_total = 0, zstd_total = 0;
    static char zbuf[1 << 16];
    for (size_t k = 0; k < POOL_BATCHES; k++)
        for (size_t i = 0; i < BATCH; i++) {
            buf_clear(&j);
            event_to_json(&pool.evs[k][i], &j);
            json_total += j.len;
            size_t z = ZSTD_compress(zbuf, sizeof(zbuf), j.data, j.len, 3);
            zstd_total += ZSTD_isError(z) ? j.len : z;
        }
    buf_free(&j);

    char spath[4096], bpath[4096];
    snprintf(spath, sizeof(spath), "%s/kenchi-bench-store-%d.db", dir, (int)getpid());
    snprintf(bpath, sizeof(bpath), "%s/kenchi-bench-baseline-%d.db", dir, (int)getpid());
    const char *sfx[] = {"", "-wal", "-shm"};
    char tmp[4200];
    for (int i = 0; i < 3; i++) {
        snprintf(tmp, sizeof(tmp), "%s%s", spath, sfx[i]);
        unlink(tmp);
        snprintf(tmp, sizeof(tmp), "%s%s", bpath, sfx[i]);
        unlink(tmp);
    }

    int64_t sbytes, bbytes;
    struct store_stats st;
    /* BENCH_STORE_ONLY=1 skips the baseline (for profiling the store) */
    bool only = getenv("BENCH_STORE_ONLY") != NULL;
    double bsecs = only ? 1 : run_baseline(&pool, nbatches, bpath, &bbytes);
    if (only)
        bbytes = 1;
    double ssecs = run_store(&pool, nbatches, spath, &sbytes, &st);
    double srate = (double)n / ssecs, brate = (double)n / bsecs;
    double sbpe = (double)sbytes / (double)n, bbpe = (double)bbytes / (double)n;

    printf("bench_store: %llu synthetic mail-log events, JSON %.0f bytes/event on average "
           "(%.0f bytes with zstd -3 per row, no dictionary)\n",
           (unsigned long long)n, (double)json_total / (POOL_BATCHES * BATCH),
           (double)zstd_total / (POOL_BATCHES * BATCH));
    printf("  store    (zstd+dict docs, hunting index, dedup): %9.0f events/s  %6.1f bytes/event"
           "  (doc %.0f -> %.0f bytes, %llu stored, %llu transactions)\n",
           srate, sbpe, st.events_stored ? (double)st.doc_bytes_in / st.events_stored : 0.0,
           st.events_stored ? (double)st.doc_bytes_out / st.events_stored : 0.0,
           (unsigned long long)st.events_stored, (unsigned long long)st.transactions);
    if (store_breakdown.len)
        printf("  store bytes/event by table and index: %s\n", store_breakdown.data);
    double pus = producer_cpu * 1e6 / (double)n, wus = (double)st.writer_cpu_ns / 1e3 / (double)n;
    double cus = (double)st.ckpt_cpu_ns / 1e3 / (double)n;
    /* caller and writer each on a core, the checkpoints on either */
    double bound = pus > wus ? pus : wus;
    if ((pus + wus + cus) / 2 > bound)
        bound = (pus + wus + cus) / 2;
    printf("  store CPU per event: %.2f us copying/serialising/compressing (caller), %.2f us "
           "in the writer thread, %.2f us in checkpoints: an idle 2-core machine bounds the "
           "store at %.0f events/s\n",
           pus, wus, cus, 1e6 / bound);
    if (!only) {
        printf("  baseline (plain SQLite, no index, 10k/txn): %9.0f events/s  %6.1f bytes/event\n",
               brate, bbpe);
        printf("  ratio store/baseline: speed %.2fx, size %.2fx\n", srate / brate, sbpe / bbpe);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(tmp, sizeof(tmp), "%s%s", spath, sfx[i]);
        unlink(tmp);
        snprintf(tmp, sizeof(tmp), "%s%s", bpath, sfx[i]);
        unlink(tmp);
    }
    arena_free(&pool.arena);
    return st.events_stored == n ? 0 : 1;
}
