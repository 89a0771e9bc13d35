/*
 * store-sqlite.c - the event store on SQLite (see store.h for the contract).
 *
 * Design
 * ------
 * One file, WAL mode, synchronous=NORMAL: a commit is an append to the
 * write-ahead log without fsync (a power cut may lose the last commits, never
 * corrupt the file); readers (hunts) run beside the writer. Checkpoints run
 * on a third thread with its own connection, so the writer only appends to
 * the WAL (see "checkpoints" below).
 *
 * Threads. The pipeline thread calls store_add_batch(): it serialises every
 * event (event_to_json), compresses the document, encodes the IP addresses
 * and copies the indexed columns into a batch buffer of the store's own -
 * the pipeline's batch dies when the call returns - and puts it on a queue
 * of at most opts.queue_batches batches. One writer thread takes batches off
 * the queue and inserts them with prepared statements inside transactions of
 * up to opts.commit_rows rows, committing when the queue runs dry (low
 * latency when live) or the transaction is full (throughput when replaying).
 * When the queue is full the pipeline waits (back-pressure): memory is
 * bounded by (queue_batches + 2) batches whatever the input rate. Batch
 * buffers are recycled, so steady state does no allocation.
 *
 * Schema (version 2, PRAGMA user_version; application_id 'knch')
 *
 *   files(id, path)                          interned origin paths
 *   logsources(id, module, product, service, category)   interned
 *   hosts(id, name)                          interned host.name
 *   dicts(id, created_ns, dict)              zstd dictionaries, id = dict id
 *   events(ts, file, pos, id, ls, host, user, sip, dip, efrom, eto,
 *          action, outcome, doc)             one row per event
 *   hunt(hour, key, ts, ev) WITHOUT ROWID    the hunting index
 *   hunt_hours(hour)                         the hour buckets hunt holds
 *   hunt_days(day, class, part, fps)         the day summary (store-summary.c)
 *   intel_imports, intel_metas, intel, state (store-intel.c)
 *   alerts, tail_offsets (schema 3, store-live.c)
 *   bl_profiles, bl_facts (schema 4, store-baseline.c)
 *   hunt_pending(id, entries)                hunting entries of committed
 *                                            events not yet in hunt (schema 5,
 *                                            "Deferred hunting entries")
 *
 * events has an implicit rowid in arrival order, so a time range read
 * touches neighbouring pages. ts is UTC nanoseconds (NULL: no time). pos is
 * the line (or record) number, id the event's 64-bit stable id (a hash of
 * path, position and text). UNIQUE(file, pos, id) makes re-reading a file a
 * no-op under INSERT OR IGNORE; unlike a unique index on id alone, its keys
 * arrive in ascending order while a file is read, so it costs an append, not
 * a random B-tree insert. events_ts(ts) serves time-only searches.
 *
 * user, sip, dip, efrom, eto, action, outcome are the hot core fields as
 * columns (plain SQL can filter on them). sip/dip hold an address as a
 * 4-byte (IPv4; IPv4-mapped IPv6 folded) or 16-byte (IPv6) BLOB: compact,
 * and a CIDR block is one BLOB range; a value that is not an address stays
 * TEXT, which SQLite orders apart from BLOBs.
 *
 * Hunting does not use one index per column. hunt holds one entry per
 * (event, entity): hour = the event's time bucket (floor(ts / 1 h); events
 * without a time in the lowest bucket), key = a kind byte ('u' user, 's'
 * source IP, 'd' destination IP, 'f' sender, 't' recipient, 'n' domain,
 * 'l' URL, 'h' hash, 'a' file name, 'g' user agent, 'q' Postfix queue id)
 * followed by the value as ioc_normalise() writes indicator values
 * (store-keys.c; the producer computes them), then ts and the event's
 * rowid. A search walks the hour buckets
 * of its time range (hunt_hours) and reads one key range in each, in time
 * order: one index seek per hour that holds events (4,400 for six months:
 * milliseconds), two for "this /24 as source or destination". Why buckets: the
 * writer's inserts go to the current hours' part of the B-tree, which stays
 * in the page cache however many months the store holds; one index over all
 * time would make every insert a random page read once the index outgrows
 * the cache. The writer collects a transaction's entries and inserts them
 * sorted (radix sort on hour and the key's first 8 bytes), so consecutive
 * inserts also hit the same pages. Each entry also notes its key's
 * fingerprints in the day summary (store-summary.c), which lets a
 * retro-hunt read only the hours a value occurs in. Measured against
 * five partial indexes (events_user(user, ts) WHERE user IS NOT NULL, ...)
 * on the same rows: about a third cheaper to maintain (docs/store.md).
 *
 * doc is the event's JSON, the same text `kenchi parse` prints. It is TEXT
 * (uncompressed) until the store holds TRAIN_ROWS events; then the writer
 * trains a zstd dictionary on them, keeps it in dicts, recompresses those
 * rows, and from then on every doc is a BLOB: a zstd frame whose header
 * names its dictionary. Per-row compression keeps a single event readable
 * without its neighbours; the dictionary is what makes 500-byte documents
 * compress about 5x (plain zstd per row: 1.6x). If training fails, a
 * dict row with an empty blob records "plain zstd". Measured sizes and
 * rates: docs/store.md.
 *
 * Migrations: the table migrations[] lists, per version, the SQL that brings
 * the previous version to it (and a C step where SQL is not enough: 2
 * rewrites mail keys and builds the day summary); opening a store for
 * writing applies the missing steps in one transaction. A store from a
 * newer kenchi is refused, never altered; an older one opened read-only is
 * searchable, and what needs the newer schema says how to upgrade.
 *
 * Jobs: intelligence imports and state updates (store-intel.c) run on the
 * writer thread between its transactions (writer_run_job), so the one
 * writing connection never waits on another's lock.
 *
 * Errors: SQLite result codes map to negative errno through one table
 * (disk full -> -ENOSPC, locked -> -EBUSY, not a database or damaged ->
 * -EBADMSG, ...); the first writer error stops the writer, is kept with a
 * message naming the file, and is returned by the next store_add_batch(),
 * store_sync() or store_close().
 */
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>
#include <zdict.h>
#include <zstd.h>

#include "store/store-private.h"
#include "util/timeconv.h"

#define STORE_APP_ID   0x6b6e6368 /* 'knch' */
#define TRAIN_ROWS     4096       /* train the dictionary once this many rows are stored */
#define TRAIN_MIN_ROWS 512        /* ... or at close, if at least this many */
#define DICT_BYTES     (64 * 1024)
#define INTERN_MAX     65536 /* entries per interning cache before it is cleared */
#define HUNT_ROWS      64    /* hunting entries per INSERT statement */
#define CKPT_FRAMES    1000  /* WAL frames that start a checkpoint (SQLite's default) */
#define WAL_RESTART    16384 /* default opts.wal_pages (64 MiB of 4 KiB pages) */
/* hold_events: hunting entries are inserted in sorted batches of up to
 * opts.hunt_defer entries (default HUNT_DEFER), or of what the last
 * HUNT_DEFER_NS logged, HUNT_SLICE entries at a time between the writer's
 * other work */
#define HUNT_DEFER    (256 * 1024)
#define HUNT_DEFER_NS (10 * NS_PER_SEC)
#define HUNT_SLICE    8192

/* ---- schema -------------------------------------------------------------- */

/* Forward: the C part of a migration step, run after its SQL in the same
 * transaction. */
static int migrate_v2(struct store *s, sqlite3 *db);

static const struct {
    int version;
    const char *sql;
    int (*then)(struct store *s, sqlite3 *db);
} migrations[] = {
    {1,
     "CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);"
     "CREATE TABLE logsources(id INTEGER PRIMARY KEY, module TEXT NOT NULL,"
     " product TEXT NOT NULL, service TEXT NOT NULL, category TEXT NOT NULL,"
     " UNIQUE(module, product, service, category));"
     "CREATE TABLE hosts(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
     "CREATE TABLE dicts(id INTEGER PRIMARY KEY, created_ns INTEGER NOT NULL,"
     " dict BLOB NOT NULL);"
     "CREATE TABLE events("
     " ts INTEGER,"
     " file INTEGER NOT NULL REFERENCES files(id),"
     " pos INTEGER NOT NULL,"
     " id INTEGER NOT NULL,"
     " ls INTEGER NOT NULL REFERENCES logsources(id),"
     " host INTEGER REFERENCES hosts(id),"
     " user TEXT,"
     " sip,"
     " dip,"
     " efrom TEXT,"
     " eto TEXT,"
     " action TEXT,"
     " outcome TEXT,"
     " doc NOT NULL);"
     "CREATE UNIQUE INDEX events_origin ON events(file, pos, id);"
     "CREATE INDEX events_ts ON events(ts);"
     "CREATE TABLE hunt(hour INTEGER NOT NULL, key BLOB NOT NULL, ts INTEGER NOT NULL,"
     " ev INTEGER NOT NULL, PRIMARY KEY(hour, key, ts, ev)) WITHOUT ROWID;"
     "CREATE TABLE hunt_hours(hour INTEGER PRIMARY KEY);",
     NULL},
    /* 2: the day summary, intelligence with its provenance, state; the
     * hunting keys of domains, URLs, hashes, file names, user agents and
     * queue ids (new events only; migrate_v2 summarises the old keys) */
    {2,
     "CREATE TABLE hunt_days(day INTEGER NOT NULL, class INTEGER NOT NULL,"
     " part INTEGER NOT NULL, fps BLOB NOT NULL, PRIMARY KEY(day, class, part))"
     " WITHOUT ROWID;"
     "CREATE TABLE intel_imports(id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL,"
     " source TEXT NOT NULL, format TEXT NOT NULL, indicators INTEGER NOT NULL,"
     " added INTEGER NOT NULL, updated INTEGER NOT NULL, removed INTEGER NOT NULL,"
     " problems INTEGER NOT NULL, warned INTEGER NOT NULL);"
     "CREATE TABLE intel_metas(id INTEGER PRIMARY KEY, import INTEGER NOT NULL,"
     " feed TEXT NOT NULL, ref TEXT NOT NULL, name TEXT, confidence INTEGER NOT NULL,"
     " tlp TEXT NOT NULL, valid_from INTEGER, valid_until INTEGER,"
     " revoked INTEGER NOT NULL, labels TEXT, kill_chain TEXT, related TEXT,"
     " UNIQUE(feed, ref));"
     "CREATE TABLE intel(id INTEGER PRIMARY KEY, import INTEGER NOT NULL,"
     " first_import INTEGER NOT NULL, meta INTEGER NOT NULL REFERENCES intel_metas(id),"
     " type TEXT NOT NULL, value TEXT NOT NULL, detect INTEGER NOT NULL, warning TEXT,"
     " UNIQUE(meta, type, value));"
     "CREATE INDEX intel_value ON intel(type, value);"
     "CREATE INDEX intel_import ON intel(import);"
     "CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT NOT NULL,"
     " updated_ns INTEGER NOT NULL);",
     migrate_v2},
    /* 3: alerts, read offsets (the live daemon, store-live.c) */
    {3, store_live_schema_v3, NULL},
    /* 4: baseline profiles and facts (store-baseline.c) */
    {4, store_baseline_schema_v4, NULL},
    /* 5: hunting entries of committed events not yet in hunt (the live
     * daemon's deferred index inserts, "Deferred hunting entries") */
    {5, "CREATE TABLE hunt_pending(id INTEGER PRIMARY KEY, entries BLOB NOT NULL);", NULL},
};

/* ---- errors -------------------------------------------------------------- */

static const struct {
    int sqlite_rc; /* primary result code */
    int err;       /* negative errno */
    const char *what;
} error_map[] = {
    {SQLITE_FULL, -ENOSPC, "the disk is full (or the store reached its size limit)"},
    {SQLITE_BUSY, -EBUSY, "the store is locked by another process"},
    {SQLITE_LOCKED, -EBUSY, "the store is locked"},
    {SQLITE_NOTADB, -EBADMSG, "not a kenchi store (not an SQLite database)"},
    {SQLITE_CORRUPT, -EBADMSG, "the store is damaged"},
    {SQLITE_READONLY, -EROFS, "the store is read-only"},
    {SQLITE_PERM, -EACCES, "permission denied"},
    {SQLITE_AUTH, -EACCES, "permission denied"},
    {SQLITE_CANTOPEN, -EACCES, "cannot open the file"},
    {SQLITE_IOERR, -EIO, "I/O error"},
    {SQLITE_NOMEM, -ENOMEM, "out of memory"},
    {SQLITE_TOOBIG, -E2BIG, "an event is too big to store"},
};

int set_err(struct store *s, int err, const char *fmt, ...)
{
    /* each thread writes its own buffer; the writer's message reaches
     * errmsg through report_writer_err() under the lock, a job's through
     * writer_run_job() */
    bool writer = s->thread_started && pthread_equal(pthread_self(), s->thread);
    char *msg = !writer ? s->errmsg : s->in_job ? s->jerrmsg : s->werrmsg;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(s->errmsg), fmt, ap);
    va_end(ap);
    return err;
}

int sql_err(struct store *s, sqlite3 *db, int rc, const char *doing)
{
    int primary = rc & 0xff;
    int err = -EIO;
    const char *what = "database error";
    for (size_t i = 0; i < sizeof(error_map) / sizeof(error_map[0]); i++)
        if (error_map[i].sqlite_rc == primary) {
            err = error_map[i].err;
            what = error_map[i].what;
            break;
        }
    if (primary == SQLITE_CANTOPEN && db && sqlite3_system_errno(db) > 0) {
        err = -sqlite3_system_errno(db);
        what = strerror(-err);
    }
    const char *detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return set_err(s, err, "%s: %s while %s (%s)", s->path, what, doing, detail);
}

/* With s->mu held: the writer's error, its message made the caller's. */
static int report_writer_err(struct store *s)
{
    if (s->err)
        memcpy(s->errmsg, s->werrmsg, sizeof(s->errmsg));
    return s->err;
}

const char *store_errmsg(const struct store *s)
{
    return s ? s->errmsg : "out of memory";
}

void store_opts_default(struct store_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->queue_batches = 8;
    o->commit_rows = 16384;
    o->zstd_level = 1;
    o->busy_timeout_ms = 5000;
    o->hunt_entries = 4u << 20;
    o->wal_pages = WAL_RESTART;
    o->hunt_defer = HUNT_DEFER;
}

void store_query_init(struct store_query *q)
{
    memset(q, 0, sizeof(*q));
    q->since_ns = TIME_NONE;
    q->until_ns = TIME_NONE;
}

int64_t store_file_bytes(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return -errno;
    int64_t total = sb.st_size;
    size_t l = strlen(path);
    char *wal = malloc(l + 5);
    if (!wal)
        return total;
    memcpy(wal, path, l);
    memcpy(wal + l, "-wal", 5);
    if (stat(wal, &sb) == 0)
        total += sb.st_size;
    free(wal);
    return total;
}

/* ---- IP addresses ------------------------------------------------------ */

const char *ip_text(sqlite3_stmt *st, int col, char out[64])
{
    int t = sqlite3_column_type(st, col);
    if (t == SQLITE_NULL)
        return NULL;
    if (t == SQLITE_BLOB) {
        const void *b = sqlite3_column_blob(st, col);
        int n = sqlite3_column_bytes(st, col);
        if ((n == 4 && inet_ntop(AF_INET, b, out, 64)) ||
            (n == 16 && inet_ntop(AF_INET6, b, out, 64)))
            return out;
        return "?";
    }
    return (const char *)sqlite3_column_text(st, col);
}

/* ---- interning --------------------------------------------------------- */

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: keys are short paths and names */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

static void intern_clear(struct intern *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->klen);
    free(t->ids);
    memset(t, 0, sizeof(*t));
}

/* Cached id of key, or -1. */
static int64_t intern_find(const struct intern *t, const char *k, size_t n)
{
    if (!t->cap)
        return -1;
    for (size_t i = hash_bytes(k, n) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->keys[i])
            return -1;
        if (t->klen[i] == n && !memcmp(t->keys[i], k, n))
            return t->ids[i];
    }
}

/* Remember key -> id. Returns 0 or -ENOMEM (the cache is only a cache). */
static int intern_put(struct intern *t, const char *k, size_t n, int64_t id)
{
    if (t->n >= INTERN_MAX)
        intern_clear(t); /* hostile input inventing names: start over */
    if ((t->n + 1) * 2 > t->cap) {
        struct intern g = {0};
        g.cap = t->cap ? t->cap * 2 : 64;
        g.keys = calloc(g.cap, sizeof(char *));
        g.klen = calloc(g.cap, sizeof(size_t));
        g.ids = calloc(g.cap, sizeof(int64_t));
        if (!g.keys || !g.klen || !g.ids) {
            intern_clear(&g);
            return -ENOMEM;
        }
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->keys[i])
                continue;
            size_t j = hash_bytes(t->keys[i], t->klen[i]) & (g.cap - 1);
            while (g.keys[j])
                j = (j + 1) & (g.cap - 1);
            g.keys[j] = t->keys[i];
            g.klen[j] = t->klen[i];
            g.ids[j] = t->ids[i];
        }
        g.n = t->n;
        free(t->keys);
        free(t->klen);
        free(t->ids);
        *t = g;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, k, n);
    copy[n] = '\0';
    size_t i = hash_bytes(k, n) & (t->cap - 1);
    while (t->keys[i])
        i = (i + 1) & (t->cap - 1);
    t->keys[i] = copy;
    t->klen[i] = n;
    t->ids[i] = id;
    t->n++;
    return 0;
}

/* ---- opening and the schema ----------------------------------------------- */

int store_exec(struct store *s, sqlite3 *db, const char *sql, const char *doing)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sql_err(s, db, rc, doing);
}

/* Read an integer PRAGMA into *v. */
static int pragma_int(struct store *s, sqlite3 *db, const char *name, int64_t *v)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA %s", name);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, db, rc, "reading the store's header");
    rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
                                                 : sql_err(s, db, rc, "reading the store's header");
}

/* Check that db is a kenchi store of a version this build can use, creating
 * or migrating it when writable. */
static int check_schema(struct store *s, sqlite3 *db, bool writable)
{
    int64_t app_id, version, ntables;
    int rc = pragma_int(s, db, "application_id", &app_id);
    if (rc < 0)
        return rc;
    rc = pragma_int(s, db, "user_version", &version);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st;
    rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, db, rc, "reading the store's schema");
    rc = sqlite3_step(st);
    ntables = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return sql_err(s, db, rc, "reading the store's schema");

    if (app_id != STORE_APP_ID && (app_id != 0 || ntables != 0))
        return set_err(s, -EBADMSG,
                       "%s: not a kenchi store (an SQLite database of another "
                       "application)",
                       s->path);
    if (version > STORE_SCHEMA_VERSION)
        return set_err(s, -EPROTONOSUPPORT,
                       "%s: store schema version %lld is newer than this kenchi's (%d); use a "
                       "newer kenchi",
                       s->path, (long long)version, STORE_SCHEMA_VERSION);
    s->version = (int)version;
    if (version == STORE_SCHEMA_VERSION)
        return 0;
    if (!writable) {
        if (ntables == 0)
            return set_err(s, -EBADMSG, "%s: empty file, not a kenchi store", s->path);
        /* an older store stays searchable read-only; what needs a newer
         * schema says so (store_need_version) */
        return 0;
    }
    rc = store_exec(s, db, "BEGIN IMMEDIATE", "creating the schema");
    s->version = (int)version; /* what the steps start from */
    for (size_t i = 0; rc == 0 && i < sizeof(migrations) / sizeof(migrations[0]); i++)
        if (migrations[i].version > version) {
            rc = store_exec(s, db, migrations[i].sql, "creating the schema");
            if (rc == 0 && migrations[i].then)
                rc = migrations[i].then(s, db);
        }
    if (rc == 0) {
        char sql[96];
        snprintf(sql, sizeof(sql), "PRAGMA application_id=%d; PRAGMA user_version=%d", STORE_APP_ID,
                 STORE_SCHEMA_VERSION);
        rc = store_exec(s, db, sql, "creating the schema");
    }
    if (rc == 0)
        rc = store_exec(s, db, "COMMIT", "creating the schema");
    if (rc == 0) {
        s->version = STORE_SCHEMA_VERSION;
        return 0;
    }
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Schema 2 on a store that had events: summarise its hunting index, and
 * remember how many events were stored without the keys schema 2 added
 * (domains, URLs, hashes, file names, user agents, queue ids), so that a
 * hunt can say so. */
/* SQL function kenchi_mail_key(key): a version 1 sender or recipient key
 * ('f' or 't' and the lower-cased address) in version 2's form (mail_key:
 * domain first); any other key unchanged. */
static void sql_mail_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *k = sqlite3_value_blob(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    if (!k || n < 2 || (k[0] != KEY_FROM && k[0] != KEY_TO) || n - 1 > KEY_VALUE_MAX) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    char out[KEY_VALUE_MAX + 1];
    out[0] = k[0];
    size_t len = mail_key(k + 1, (size_t)n - 1, out + 1);
    sqlite3_result_blob(ctx, out, (int)len + 1, SQLITE_TRANSIENT);
}

static int migrate_v2(struct store *s, sqlite3 *db)
{
    if (s->version < 1)
        return 0; /* a new store */
    /* mail keys become domain first: the hunting index is copied once,
     * hour by hour (its own order), with the mail keys rewritten */
    int rc = sqlite3_create_function_v2(db, "kenchi_mail_key", 1,
                                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                        sql_mail_key, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, db, rc, "upgrading the store");
    rc = store_exec(s, db,
                    "CREATE TABLE hunt_v2(hour INTEGER NOT NULL, key BLOB NOT NULL,"
                    " ts INTEGER NOT NULL, ev INTEGER NOT NULL, PRIMARY KEY(hour, key, ts, ev))"
                    " WITHOUT ROWID;"
                    "INSERT INTO hunt_v2 SELECT hour, kenchi_mail_key(key), ts, ev FROM hunt;"
                    "DROP TABLE hunt;"
                    "ALTER TABLE hunt_v2 RENAME TO hunt;",
                    "upgrading the hunting index");
    rc = rc ? rc : summary_build(s, db);
    if (rc == 0)
        rc = store_exec(s, db,
                        "INSERT OR REPLACE INTO state(key, value, updated_ns)"
                        " SELECT 'store.v1_last_event', coalesce(max(rowid), 0), 0 FROM events",
                        "upgrading the store");
    summary_free(s); /* the writer starts its own */
    return rc;
}

int store_schema_version(const struct store *s)
{
    return s->version;
}

int store_need_version(struct store *s, int version, const char *what)
{
    if (s->version >= version)
        return 0;
    return set_err(s, -EPROTONOSUPPORT,
                   "%s: %s needs store schema version %d, the store has %d; open it once "
                   "for writing (kenchi scan, or any kenchi command that writes) to upgrade it",
                   s->path, what, version, s->version);
}

static int prepare(struct store *s, sqlite3_stmt **st, const char *sql)
{
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    return rc == SQLITE_OK ? 0 : sql_err(s, s->db, rc, "preparing statements");
}

static int prepare_writer(struct store *s)
{
    int rc = 0;
    static const char ins[] =
        "INSERT OR IGNORE INTO events(ts, file, pos, id, ls, host, user, sip, dip, efrom, eto,"
        " action, outcome, doc) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    rc = rc ? rc : prepare(s, &s->ins, ins);
    rc = rc ? rc
            : prepare(s, &s->hunt_put,
                      "INSERT OR IGNORE INTO hunt(hour, key, ts, ev) VALUES(?,?,?,?)");
    rc = rc ? rc : prepare(s, &s->hour_put, "INSERT OR IGNORE INTO hunt_hours(hour) VALUES(?)");
    rc = rc ? rc : prepare(s, &s->pend_put, "INSERT INTO hunt_pending(entries) VALUES(?)");
    if (rc == 0) {
        struct buf sql;
        buf_init(&sql);
        buf_puts(&sql, "INSERT OR IGNORE INTO hunt(hour, key, ts, ev) VALUES(?,?,?,?)");
        for (int k = 1; k < HUNT_ROWS; k++)
            buf_puts(&sql, ",(?,?,?,?)");
        rc = prepare(s, &s->hunt_put_n, sql.data);
        buf_free(&sql);
    }
    rc = rc ? rc : prepare(s, &s->file_get, "SELECT id FROM files WHERE path=?");
    rc = rc ? rc : prepare(s, &s->file_put, "INSERT INTO files(path) VALUES(?)");
    rc = rc ? rc
            : prepare(s, &s->ls_get,
                      "SELECT id FROM logsources WHERE module=? AND product=? AND service=? "
                      "AND category=?");
    rc = rc ? rc
            : prepare(s, &s->ls_put,
                      "INSERT INTO logsources(module, product, service, category) "
                      "VALUES(?,?,?,?)");
    rc = rc ? rc : prepare(s, &s->host_get, "SELECT id FROM hosts WHERE name=?");
    rc = rc ? rc : prepare(s, &s->host_put, "INSERT INTO hosts(name) VALUES(?)");
    return rc;
}

/* Load the newest dictionary (if any) as the one to compress with. */
static int load_dict(struct store *s)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT id, dict FROM dicts ORDER BY created_ns DESC, "
                                "rowid DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, s->db, rc, "reading the dictionaries");
    rc = sqlite3_step(st);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        struct zdict *d = calloc(1, sizeof(*d));
        if (!d) {
            ret = -ENOMEM;
        } else {
            d->id = (uint32_t)sqlite3_column_int64(st, 0);
            int n = sqlite3_column_bytes(st, 1);
            if (n > 0) {
                d->cdict = ZSTD_createCDict(sqlite3_column_blob(st, 1), (size_t)n, s->o.zstd_level);
                if (!d->cdict) {
                    free(d);
                    d = NULL;
                    ret = set_err(s, -EBADMSG,
                                  "%s: the store's compression dictionary is "
                                  "damaged",
                                  s->path);
                }
            }
            atomic_store(&s->dict, d);
        }
    } else if (rc != SQLITE_DONE) {
        ret = sql_err(s, s->db, rc, "reading the dictionaries");
    }
    sqlite3_finalize(st);
    return ret;
}

static int count_rows(struct store *s, sqlite3 *db, int64_t *n)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, db, rc, "counting events");
    rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : sql_err(s, db, rc, "counting events");
}

static void *writer_main(void *arg);
static void ckpt_start(struct store *s);
static void ckpt_stop(struct store *s);

/* Open a connection to s->path; read-only ones must find a kenchi store. */
static int store_connect(struct store *s, bool read_only, sqlite3 **out)
{
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    flags |= SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(s->path, out, flags, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, *out, rc, "opening");
    sqlite3_extended_result_codes(*out, 1);
    sqlite3_busy_timeout(*out, s->o.busy_timeout_ms);
    if (read_only)
        /* queries: a larger page cache than SQLite's 2 MB default keeps
         * the indexes' inner pages while a hunt reads thousands of
         * scattered leaves (a memory map was measured slower: the page
         * faults and unmapping cost more than the copies they save) */
        sqlite3_exec(*out, "PRAGMA cache_size=-32768", NULL, NULL, NULL);
    return 0;
}

int store_open(const char *path, const struct store_opts *o, struct store **out)
{
    *out = NULL;
    struct store *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    *out = s;
    s->path = strdup(path);
    if (!s->path)
        return set_err(s, -ENOMEM, "out of memory");
    if (o)
        s->o = *o;
    else
        store_opts_default(&s->o);
    if (!s->o.queue_batches)
        s->o.queue_batches = 8;
    if (!s->o.commit_rows)
        s->o.commit_rows = 16384;
    if (!s->o.hunt_entries)
        s->o.hunt_entries = 4u << 20;
    if (!s->o.wal_pages)
        s->o.wal_pages = WAL_RESTART;
    if (!s->o.hunt_defer)
        s->o.hunt_defer = HUNT_DEFER;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv_work, NULL);
    pthread_cond_init(&s->cv_space, NULL);
    pthread_cond_init(&s->cv_idle, NULL);
    pthread_mutex_init(&s->ckmu, NULL);
    pthread_cond_init(&s->cv_ckpt, NULL);
    buf_init(&s->pjson);
    buf_init(&s->wtmp);
    buf_init(&s->rjson);
    buf_init(&s->hunt_keys);
    buf_init(&s->fl_keys);
    s->sum_max_hour = INT64_MIN;

    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode))
            return set_err(s, -EISDIR, "%s: is a directory, not a kenchi store", path);
    } else if (errno == ENOENT && s->o.read_only) {
        return set_err(s, -ENOENT, "%s: no such store (create it with kenchi scan)", path);
    }
    int rc = store_connect(s, s->o.read_only, &s->db);
    if (rc < 0)
        return rc;
    if (s->o.read_only)
        return check_schema(s, s->db, false);

    /* journal_mode=WAL also is the first write: it fails on a read-only
     * file system or a file that is not a database */
    rc = store_exec(s, s->db,
                    /* 256 MiB of page cache: the live store's indexes outgrow a
                     * smaller one within a minute at 50,000 events/s */
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-262144;"
                    "PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864",
                    "setting up");
    rc = rc ? rc : check_schema(s, s->db, true);
    if (rc == 0 && s->o.max_bytes) {
        int64_t page;
        rc = pragma_int(s, s->db, "page_size", &page);
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%llu",
                 (unsigned long long)(s->o.max_bytes / (uint64_t)(page > 0 ? page : 4096)));
        rc = rc ? rc : store_exec(s, s->db, sql, "setting the size limit");
    }
    rc = rc ? rc : prepare_writer(s);
    rc = rc ? rc : load_dict(s);
    rc = rc ? rc : writer_pending_recover(s);
    if (rc < 0)
        return rc;
    if (!atomic_load(&s->dict)) {
        int64_t n;
        rc = count_rows(s, s->db, &n);
        if (rc < 0)
            return rc;
        s->raw_rows = (uint64_t)n;
    }
    s->queue = calloc(s->o.queue_batches, sizeof(*s->queue));
    s->pcctx = ZSTD_createCCtx();
    s->wcctx = ZSTD_createCCtx();
    if (!s->queue || !s->pcctx || !s->wcctx)
        return set_err(s, -ENOMEM, "out of memory");
    ckpt_start(s);
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0)
        return set_err(s, -EAGAIN, "%s: cannot start the writer thread", path);
    s->thread_started = true;
    return 0;
}

/* ---- the producer side ------------------------------------------------- */

static struct sbatch *batch_new(void)
{
    struct sbatch *b = calloc(1, sizeof(*b));
    if (b)
        buf_init(&b->bytes);
    return b;
}

static void batch_free(struct sbatch *b)
{
    if (!b)
        return;
    free(b->rows);
    buf_free(&b->bytes);
    free(b);
}

static void put_col(struct sbatch *b, struct srow *r, enum col c, const char *p, size_t n)
{
    if (!p || !n) {
        r->len[c] = LEN_NULL;
        return;
    }
    r->off[c] = b->bytes.len;
    r->len[c] = n;
    buf_append(&b->bytes, p, n);
}

/* A NOT NULL text column: absent is ''. */
static void put_cstr(struct sbatch *b, struct srow *r, enum col c, const char *p)
{
    size_t n = p ? strlen(p) : 0;
    r->off[c] = b->bytes.len;
    r->len[c] = n;
    buf_append(&b->bytes, p ? p : "", n);
}

static void put_ip(struct sbatch *b, struct srow *r, enum col c, struct str v)
{
    uint8_t a[16];
    size_t n = ip_encode(v.p, v.n, a);
    if (n) {
        put_col(b, r, c, (const char *)a, n);
        r->blob_mask |= 1u << c;
    } else {
        put_col(b, r, c, v.p, v.n);
    }
}

/* Append the stored form of json[0..n) to out: a zstd frame made with
 * dictionary d (plain zstd when d has none), or the JSON itself when d is
 * NULL. Sets *off, *len and *blob. Returns 0 or -ENOMEM. */
static int doc_encode(struct buf *out, ZSTD_CCtx *cctx, const struct zdict *d, int level,
                      const char *json, size_t n, size_t *off, size_t *len, bool *blob)
{
    *off = out->len;
    *blob = d != NULL;
    if (!d) {
        buf_append(out, json, n);
        *len = n;
        return 0;
    }
    size_t cap = ZSTD_compressBound(n);
    buf_reserve(out, cap);
    char *dst = out->data + out->len;
    size_t z = d->cdict ? ZSTD_compress_usingCDict(cctx, dst, cap, json, n, d->cdict)
                        : ZSTD_compressCCtx(cctx, dst, cap, json, n, level);
    if (ZSTD_isError(z))
        return -ENOMEM;
    out->len += z;
    out->data[out->len] = '\0';
    *len = z;
    return 0;
}

static int copy_event(struct store *s, struct sbatch *b, const struct event *ev,
                      const struct zdict *d)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        struct srow *r = realloc(b->rows, cap * sizeof(*r));
        if (!r)
            return -ENOMEM;
        b->rows = r;
        b->cap = cap;
    }
    struct srow *r = &b->rows[b->n++];
    r->ts = ev->ts_ns;
    r->id = ev->id;
    r->pos = ev->record ? ev->record : ev->line;
    r->blob_mask = 0;
    put_cstr(b, r, C_FILE, ev->file ? ev->file : "-");
    put_cstr(b, r, C_MODULE, ev->format ? ev->format : (ev->parsed ? "" : "unparsed"));
    put_cstr(b, r, C_PRODUCT, ev->ls.product);
    put_cstr(b, r, C_SERVICE, ev->ls.service);
    put_cstr(b, r, C_CATEGORY, ev->ls.category);
    put_col(b, r, C_HOST, ev->core[CORE_HOST_NAME].p, ev->core[CORE_HOST_NAME].n);
    put_col(b, r, C_USER, ev->core[CORE_USER_NAME].p, ev->core[CORE_USER_NAME].n);
    put_ip(b, r, C_SIP, ev->core[CORE_SOURCE_IP]);
    put_ip(b, r, C_DIP, ev->core[CORE_DESTINATION_IP]);
    put_col(b, r, C_EFROM, ev->core[CORE_EMAIL_FROM_ADDRESS].p,
            ev->core[CORE_EMAIL_FROM_ADDRESS].n);
    put_col(b, r, C_ETO, ev->core[CORE_EMAIL_TO_ADDRESS].p, ev->core[CORE_EMAIL_TO_ADDRESS].n);
    put_col(b, r, C_ACTION, ev->core[CORE_EVENT_ACTION].p, ev->core[CORE_EVENT_ACTION].n);
    put_col(b, r, C_OUTCOME, ev->core[CORE_EVENT_OUTCOME].p, ev->core[CORE_EVENT_OUTCOME].n);
    r->off[C_KEYS] = b->bytes.len;
    keys_of_event(ev, &b->bytes);
    r->len[C_KEYS] = b->bytes.len - r->off[C_KEYS];
    buf_clear(&s->pjson);
    event_to_json(ev, &s->pjson);
    r->doc_raw = s->pjson.len;
    bool blob;
    int rc = doc_encode(&b->bytes, s->pcctx, d, s->o.zstd_level, s->pjson.data, s->pjson.len,
                        &r->off[C_DOC], &r->len[C_DOC], &blob);
    if (blob)
        r->blob_mask |= 1u << C_DOC;
    return rc;
}

int store_add_batch(struct store *s, const struct event *evs, size_t n)
{
    if (!s->thread_started)
        return set_err(s, -EBADF, "%s: the store is not open for writing", s->path);
    pthread_mutex_lock(&s->mu);
    int err = report_writer_err(s);
    struct sbatch *b = s->filling;
    if (!b && !err) {
        b = s->free_batches;
        if (b)
            s->free_batches = b->next;
    }
    pthread_mutex_unlock(&s->mu);
    if (err)
        return err;
    if (!b && !(b = batch_new()))
        return set_err(s, -ENOMEM, "out of memory");
    s->filling = b;
    b->n = 0;
    buf_clear(&b->bytes);
    const struct zdict *d = atomic_load(&s->dict);
    for (size_t i = 0; i < n; i++) {
        int rc = copy_event(s, b, &evs[i], d);
        if (rc < 0)
            return set_err(s, rc, "out of memory while copying events for the store");
    }

    pthread_mutex_lock(&s->mu);
    while (s->qlen == s->o.queue_batches && !s->err)
        pthread_cond_wait(&s->cv_space, &s->mu); /* back-pressure */
    err = report_writer_err(s);
    if (!err) {
        s->queue[(s->qhead + s->qlen) % s->o.queue_batches] = b;
        s->qlen++;
        s->filling = NULL;
        s->st.events_in += n;
        pthread_cond_signal(&s->cv_work);
    }
    pthread_mutex_unlock(&s->mu);
    return err;
}

int store_sync(struct store *s)
{
    if (!s->thread_started)
        return 0;
    pthread_mutex_lock(&s->mu);
    while ((s->qlen || s->busy) && !s->err)
        pthread_cond_wait(&s->cv_idle, &s->mu);
    int err = report_writer_err(s);
    pthread_mutex_unlock(&s->mu);
    return err;
}

static int sink_batch(void *opaque, struct event *evs, size_t n)
{
    return store_add_batch(opaque, evs, n);
}

struct event_sink store_sink(struct store *s)
{
    return (struct event_sink){"store", sink_batch, s};
}

void store_get_stats(struct store *s, struct store_stats *st)
{
    pthread_mutex_lock(&s->mu);
    *st = s->st;
    pthread_mutex_unlock(&s->mu);
}

/* ---- the writer -------------------------------------------------------- */

/* Step an interning statement pair: look key up, insert it if missing. */
static int intern_id(struct store *s, struct intern *cache, sqlite3_stmt *get, sqlite3_stmt *put,
                     const char *key, size_t keylen, const char *const *parts,
                     const size_t *partlen, int nparts, int64_t *id)
{
    int64_t v = intern_find(cache, key, keylen);
    if (v >= 0) {
        *id = v;
        return 0;
    }
    for (int i = 0; i < nparts; i++)
        sqlite3_bind_text(get, i + 1, parts[i], (int)partlen[i], SQLITE_STATIC);
    int rc = sqlite3_step(get);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(get, 0);
    sqlite3_reset(get);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_err(s, s->db, rc, "storing events");
    if (rc == SQLITE_DONE) {
        for (int i = 0; i < nparts; i++)
            sqlite3_bind_text(put, i + 1, parts[i], (int)partlen[i], SQLITE_STATIC);
        rc = sqlite3_step(put);
        sqlite3_reset(put);
        if (rc != SQLITE_DONE)
            return sql_err(s, s->db, rc, "storing events");
        v = sqlite3_last_insert_rowid(s->db);
    }
    intern_put(cache, key, keylen, v);
    *id = v;
    return 0;
}

static void bind_col(sqlite3_stmt *st, int idx, const struct sbatch *b, const struct srow *r,
                     enum col c)
{
    if (r->len[c] == LEN_NULL)
        sqlite3_bind_null(st, idx);
    else if (r->blob_mask & (1u << c))
        sqlite3_bind_blob(st, idx, b->bytes.data + r->off[c], (int)r->len[c], SQLITE_STATIC);
    else
        sqlite3_bind_text(st, idx, b->bytes.data + r->off[c], (int)r->len[c], SQLITE_STATIC);
}

/* ---- checkpoints -------------------------------------------------------
 *
 * A checkpoint copies the pages of committed transactions from the WAL into
 * the database file (reading the WAL, writing the file, two fsyncs). SQLite
 * runs it inside the commit that crosses wal_autocheckpoint, on the
 * writer's thread: about 0.5 us per event of CPU, and the fsyncs' waits.
 * Here a thread of its own runs it on its own connection (PASSIVE: it never
 * blocks the writer, and the writer never blocks it), woken by the wal hook
 * of the writer's connection after a commit leaves CKPT_FRAMES or more in
 * the WAL. The writer then only appends to the WAL.
 *
 * SQLite restarts the WAL from its beginning when a write transaction
 * starts with every frame copied; with checkpoints running beside the
 * writer that moment may never come and the WAL would grow without bound.
 * So once it holds opts.wal_pages frames, the writer waits for the running
 * checkpoint, copies the rest itself, and its next transaction restarts
 * the WAL (once every ~12 transactions of 16,384 rows). */

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    struct store *s = arg;
    pthread_mutex_lock(&s->ckmu);
    s->wal_frames = frames;
    if (frames >= CKPT_FRAMES && !s->ckpt_stop) {
        s->ckpt_want = true;
        pthread_cond_broadcast(&s->cv_ckpt);
    }
    pthread_mutex_unlock(&s->ckmu);
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    struct store *s = arg;
    pthread_mutex_lock(&s->ckmu);
    for (;;) {
        while (!s->ckpt_want && !s->ckpt_stop)
            pthread_cond_wait(&s->cv_ckpt, &s->ckmu);
        if (s->ckpt_stop)
            break;
        s->ckpt_want = false;
        s->ckpt_running = true;
        pthread_mutex_unlock(&s->ckmu);
        /* errors (busy: a reader holds old frames; I/O) leave the frames in
         * the WAL: readers still find them, the next checkpoint retries,
         * and store_close() reports what its own checkpoint meets */
        sqlite3_wal_checkpoint_v2(s->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        struct timespec cpu;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        pthread_mutex_lock(&s->mu);
        s->st.ckpt_cpu_ns = (uint64_t)cpu.tv_sec * NS_PER_SEC + (uint64_t)cpu.tv_nsec;
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_lock(&s->ckmu);
        s->ckpt_running = false;
        pthread_cond_broadcast(&s->cv_ckpt);
    }
    pthread_mutex_unlock(&s->ckmu);
    return NULL;
}

/* Start the checkpointer (a writing store). Without it (no thread, no
 * connection) SQLite's automatic checkpoints stay on. */
static void ckpt_start(struct store *s)
{
    /* a first read opens the WAL on the connection: before it, a
     * checkpoint on it finds no WAL and does nothing */
    if (store_connect(s, false, &s->cdb) < 0 ||
        sqlite3_exec(s->cdb, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(s->cdb);
        s->cdb = NULL;
        s->errmsg[0] = '\0';
        return;
    }
    if (pthread_create(&s->ckpt_thread, NULL, ckpt_main, s) != 0) {
        sqlite3_close(s->cdb);
        s->cdb = NULL;
        return;
    }
    s->ckpt_started = true;
    sqlite3_wal_hook(s->db, wal_hook, s); /* replaces wal_autocheckpoint */
}

static void ckpt_stop(struct store *s)
{
    if (!s->ckpt_started)
        return;
    pthread_mutex_lock(&s->ckmu);
    s->ckpt_stop = true;
    pthread_cond_broadcast(&s->cv_ckpt);
    pthread_mutex_unlock(&s->ckmu);
    pthread_join(s->ckpt_thread, NULL);
    s->ckpt_started = false;
    sqlite3_wal_hook(s->db, NULL, NULL);
    sqlite3_wal_autocheckpoint(s->db, CKPT_FRAMES);
    sqlite3_close(s->cdb);
    s->cdb = NULL;
}

/* Before a write transaction: restart a WAL grown past opts.wal_pages. */
static void wal_restart(struct store *s)
{
    if (!s->ckpt_started)
        return;
    pthread_mutex_lock(&s->ckmu);
    bool full = (size_t)s->wal_frames >= s->o.wal_pages;
    if (full) {
        while (s->ckpt_running || s->ckpt_want)
            pthread_cond_wait(&s->cv_ckpt, &s->ckmu);
    }
    pthread_mutex_unlock(&s->ckmu);
    if (full)
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

static int begin(struct store *s)
{
    if (s->in_txn)
        return 0;
    wal_restart(s);
    int rc = store_exec(s, s->db, "BEGIN IMMEDIATE", "starting a transaction");
    s->in_txn = rc == 0;
    return rc;
}

int store_txn_begin(struct store *s)
{
    return begin(s);
}

int64_t hour_of(int64_t ts)
{
    if (ts == TIME_NONE)
        return HOUR_NONE;
    return ts >= 0 ? ts / HOUR_NS : -((-ts + HOUR_NS - 1) / HOUR_NS);
}

/* Sort the transaction's hunting entries by hour, then by the first 8
 * bytes of their key (LSD radix sort, 8 bits a pass; passes where every
 * entry has the same byte are skipped). Entries whose first 8 bytes are
 * equal stay in arrival order: the order only serves the locality of the
 * inserts (they fall on the same few pages either way), never
 * correctness. About 5x cheaper than a comparison sort of the keys. */
static int sort_hunt(struct store *s, struct hunt_ent *ents, size_t n)
{
    if (n < 2)
        return 0;
    struct hunt_ent *tmp = malloc(n * sizeof(*tmp));
    if (!tmp)
        return set_err(s, -ENOMEM, "out of memory");
    struct hunt_ent *src = ents, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((src[i].prefix >> shift) & 0xff) + 1]++;
        bool one = false;
        for (int k = 1; k <= 256; k++)
            if (count[k] == n)
                one = true;
        if (one)
            continue;
        for (int k = 0; k < 256; k++)
            count[k + 1] += count[k];
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].prefix >> shift) & 0xff]++] = src[i];
        struct hunt_ent *t = src;
        src = dst;
        dst = t;
    }
    /* then by hour, stably: a transaction holds few hours */
    bool one_hour = true;
    for (size_t i = 1; i < n && one_hour; i++)
        one_hour = src[i].hour == src[0].hour;
    if (!one_hour) {
        size_t o = 0;
        int64_t prev = INT64_MIN;
        bool have_prev = false;
        for (;;) {
            /* the smallest hour above prev */
            bool found = false;
            int64_t h = 0;
            for (size_t i = 0; i < n; i++)
                if ((!have_prev || src[i].hour > prev) && (!found || src[i].hour < h)) {
                    h = src[i].hour;
                    found = true;
                }
            if (!found)
                break;
            for (size_t i = 0; i < n; i++)
                if (src[i].hour == h)
                    dst[o++] = src[i];
            prev = h;
            have_prev = true;
        }
        struct hunt_ent *t = src;
        src = dst;
        dst = t;
    }
    if (src != ents)
        memcpy(ents, src, n * sizeof(*src));
    free(tmp);
    return 0;
}

static void bind_hunt(sqlite3_stmt *st, int first, const struct buf *keys, const struct hunt_ent *h)
{
    sqlite3_bind_int64(st, first, h->hour);
    sqlite3_bind_blob(st, first + 1, keys->data + h->off, (int)h->len, SQLITE_STATIC);
    sqlite3_bind_int64(st, first + 2, h->ts);
    sqlite3_bind_int64(st, first + 3, h->ev);
}

/* Insert the sorted entries e[from..to) (keys in keys) into hunt, and
 * their hours into hunt_hours. INSERT OR IGNORE: an entry inserted before
 * (the deferred entries of a crash, inserted again) is no error. */
static int insert_entries(struct store *s, const struct hunt_ent *e, const struct buf *keys,
                          size_t from, size_t to)
{
    int rc = 0;
    for (size_t i = from; i < to && rc == 0; i++) {
        if (i > from && e[i].hour == e[i - 1].hour)
            continue;
        sqlite3_bind_int64(s->hour_put, 1, e[i].hour);
        rc = sqlite3_step(s->hour_put);
        sqlite3_reset(s->hour_put);
        rc = rc == SQLITE_DONE ? 0 : sql_err(s, s->db, rc, "indexing events");
    }
    size_t i = from;
    /* HUNT_ROWS entries per statement: fewer VM round trips */
    for (; i + HUNT_ROWS <= to && rc == 0; i += HUNT_ROWS) {
        for (int k = 0; k < HUNT_ROWS; k++)
            bind_hunt(s->hunt_put_n, 4 * k + 1, keys, &e[i + k]);
        rc = sqlite3_step(s->hunt_put_n);
        sqlite3_reset(s->hunt_put_n);
        rc = rc == SQLITE_DONE ? 0 : sql_err(s, s->db, rc, "indexing events");
    }
    for (; i < to && rc == 0; i++) {
        bind_hunt(s->hunt_put, 1, keys, &e[i]);
        rc = sqlite3_step(s->hunt_put);
        sqlite3_reset(s->hunt_put);
        rc = rc == SQLITE_DONE ? 0 : sql_err(s, s->db, rc, "indexing events");
    }
    return rc;
}

/* Insert the transaction's hunting entries in (hour, key) order: they then
 * land on the few B-tree pages of the current hours, which stay in the
 * cache however large the store grows, and consecutive inserts hit the same
 * pages (random-order inserts over the whole index cost several times more,
 * see docs/store.md). Also records each hour in hunt_hours. */
static int flush_hunt(struct store *s)
{
    int rc = sort_hunt(s, s->hunt, s->nhunt);
    rc = rc ? rc : insert_entries(s, s->hunt, &s->hunt_keys, 0, s->nhunt);
    s->nhunt = s->nlogged = 0;
    buf_clear(&s->hunt_keys);
    return rc;
}

/* ---- deferred hunting entries ------------------------------------------
 *
 * The live daemon (hold_events) commits every few milliseconds, a few
 * hundred events a transaction, and its events all fall into the current
 * hour. Inserted at each commit, their hunting entries land on as many
 * different leaves of that hour's part of the index, which grows by
 * millions of entries an hour at high rates: every entry dirties a page of
 * its own, and every dirty page is written to the WAL at the commit and
 * copied again by the checkpoint (measured: 15 KB written per event, three
 * quarters of the writer's time in the kernel's write path;
 * docs/performance.md, "The live store's hunting index").
 *
 * So with hold_events a commit does not insert its entries into hunt; it
 * appends them, packed, as one row of hunt_pending (a cheap append, in the
 * same transaction as their events: a crash keeps an event only with its
 * entries). Once HUNT_DEFER entries are pending, or the oldest is
 * HUNT_DEFER_NS old (at high rates the count comes first; the age bounds
 * what a quiet store's hunts miss, and is long enough that a writer that
 * falls behind still makes large batches), the writer sorts them and
 * inserts them into hunt a slice at a time between its other work
 * (HUNT_SLICE, or more to stay ahead of how full the next batch is: a
 * commit of the daemon never waits for a whole batch), the last slice
 * deleting their
 * hunt_pending rows. Sorted batches this large fill the leaves they touch
 * with many entries each. Until then a hunt does not see those events
 * (at most HUNT_DEFER_NS plus the insertion); a search
 * without entity filter (time index) does. Opening the store for writing
 * inserts what a crash left in hunt_pending (INSERT OR IGNORE: a batch
 * partly inserted before the crash is no error), and closing it inserts
 * everything. */

static void put_le64(struct buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    buf_append(b, (const char *)x, 8);
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Append an entry to the writer's collecting arrays (s->hunt, its key in
 * s->hunt_keys): the key is the byte kind then val[0..len), or val[0..len)
 * alone when kind is negative. */
static int hunt_push(struct store *s, int64_t hour, int64_t ts, int64_t ev, int kind,
                     const uint8_t *val, size_t len)
{
    if (s->nhunt == s->caphunt) {
        size_t cap = s->caphunt ? s->caphunt * 2 : 4096;
        struct hunt_ent *h = realloc(s->hunt, cap * sizeof(*h));
        if (!h)
            return set_err(s, -ENOMEM, "out of memory");
        s->hunt = h;
        s->caphunt = cap;
    }
    struct hunt_ent *h = &s->hunt[s->nhunt++];
    h->off = s->hunt_keys.len;
    h->len = len + (kind >= 0);
    h->ts = ts;
    h->hour = hour;
    h->ev = ev;
    if (kind >= 0)
        buf_putc(&s->hunt_keys, (char)kind);
    buf_append(&s->hunt_keys, (const char *)val, len);
    const uint8_t *key = (const uint8_t *)s->hunt_keys.data + h->off;
    uint64_t prefix = 0;
    for (size_t i = 0; i < 8; i++)
        prefix = prefix << 8 | (i < h->len ? key[i] : 0);
    h->prefix = prefix;
    return 0;
}

/* In the open transaction: the entries not yet logged, as one hunt_pending
 * row (each: hour, ts, ev as 8 bytes little-endian, key length as 2, the
 * key). */
static int pend_log(struct store *s)
{
    if (s->nlogged == s->nhunt)
        return 0;
    struct buf *b = &s->wtmp;
    buf_clear(b);
    for (size_t i = s->nlogged; i < s->nhunt; i++) {
        const struct hunt_ent *h = &s->hunt[i];
        put_le64(b, (uint64_t)h->hour);
        put_le64(b, (uint64_t)h->ts);
        put_le64(b, (uint64_t)h->ev);
        uint8_t l[2] = {(uint8_t)(h->len & 0xff), (uint8_t)(h->len >> 8)};
        buf_append(b, (const char *)l, 2);
        buf_append(b, s->hunt_keys.data + h->off, h->len);
    }
    sqlite3_bind_blob(s->pend_put, 1, b->data, (int)b->len, SQLITE_STATIC);
    int rc = sqlite3_step(s->pend_put);
    sqlite3_reset(s->pend_put);
    if (rc != SQLITE_DONE)
        return sql_err(s, s->db, rc, "indexing events");
    s->pending_last = sqlite3_last_insert_rowid(s->db);
    return 0;
}

static int64_t mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * NS_PER_SEC + t.tv_nsec;
}

/* Is a batch of logged entries due for insertion? */
static bool defer_due(const struct store *s)
{
    return !s->nfl && s->nlogged &&
           (s->nlogged >= s->o.hunt_defer || mono_now() - s->defer_since >= HUNT_DEFER_NS);
}

/* Make the logged entries the batch to insert (sorted); the others stay. */
static int defer_start(struct store *s)
{
    /* the arrays change places; the entries not logged yet are copied back */
    struct hunt_ent *e = s->fl;
    size_t cap = s->capfl;
    struct buf keys = s->fl_keys;
    s->fl = s->hunt;
    s->capfl = s->caphunt;
    s->fl_keys = s->hunt_keys;
    s->nfl = s->nlogged;
    s->flpos = 0;
    s->fl_pending = s->pending_last;
    size_t rest = s->nhunt - s->nlogged;
    s->hunt = e;
    s->caphunt = cap;
    s->hunt_keys = keys;
    buf_clear(&s->hunt_keys);
    s->nhunt = s->nlogged = 0;
    for (size_t i = 0; i < rest; i++) {
        const struct hunt_ent *h = &s->fl[s->nfl + i];
        int rc = hunt_push(s, h->hour, h->ts, h->ev, -1, (const uint8_t *)s->fl_keys.data + h->off,
                           h->len);
        if (rc < 0)
            return rc;
    }
    return sort_hunt(s, s->fl, s->nfl);
}

static int commit(struct store *s);

/* Writer, hold_events: start a due batch, insert its next slice (all of it
 * when the next batch is full already: memory stays bounded), and commit
 * when no held events are in the transaction. */
static int defer_step(struct store *s)
{
    int rc = 0;
    if (defer_due(s))
        rc = defer_start(s);
    if (rc < 0 || !s->nfl)
        return rc;
    /* at least a slice, and ahead of how full the next batch is, so that
     * this one is in before the next is due (never all at once under load) */
    size_t end = s->flpos + HUNT_SLICE;
    size_t ahead = s->nhunt >= s->o.hunt_defer
                       ? s->nfl
                       : (size_t)((double)s->nfl * (double)s->nhunt / (double)s->o.hunt_defer);
    if (end < ahead)
        end = ahead;
    if (end > s->nfl)
        end = s->nfl;
    rc = begin(s);
    rc = rc ? rc : insert_entries(s, s->fl, &s->fl_keys, s->flpos, end);
    if (rc < 0)
        return rc;
    s->flpos = end;
    if (end == s->nfl) {
        char sql[96];
        snprintf(sql, sizeof(sql), "DELETE FROM hunt_pending WHERE id <= %lld",
                 (long long)s->fl_pending);
        rc = store_exec(s, s->db, sql, "indexing events");
        s->nfl = s->flpos = 0;
        buf_clear(&s->fl_keys);
    }
    if (rc == 0 && !s->held_rows)
        rc = commit(s);
    return rc;
}

/* Opening for writing: insert the entries a crash left in hunt_pending. */
int writer_pending_recover(struct store *s)
{
    sqlite3_stmt *st;
    int rc =
        sqlite3_prepare_v2(s->db, "SELECT entries FROM hunt_pending ORDER BY id", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sql_err(s, s->db, rc, "reading deferred index entries");
    /* nothing to do (the usual case): no write lock taken */
    int64_t n = 0;
    sqlite3_stmt *cnt;
    rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM hunt_pending", -1, &cnt, NULL);
    if (rc == SQLITE_OK && sqlite3_step(cnt) == SQLITE_ROW)
        n = sqlite3_column_int64(cnt, 0);
    sqlite3_finalize(cnt);
    if (!n) {
        sqlite3_finalize(st);
        return 0;
    }
    rc = store_exec(s, s->db, "BEGIN IMMEDIATE", "indexing events");
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(st, 0);
        const uint8_t *end = p + sqlite3_column_bytes(st, 0);
        rc = 0;
        while (rc == 0 && p && end - p >= 26) {
            size_t len = (size_t)p[24] | (size_t)p[25] << 8;
            if ((size_t)(end - p - 26) < len)
                break;
            rc = hunt_push(s, (int64_t)get_le64(p), (int64_t)get_le64(p + 8),
                           (int64_t)get_le64(p + 16), -1, p + 26, len);
            p += 26 + len;
        }
        /* insert by parts: a crash may have left up to two batches */
        if (rc == 0 && s->nhunt >= s->o.hunt_defer)
            rc = flush_hunt(s);
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = sql_err(s, s->db, rc, "reading deferred index entries");
    sqlite3_finalize(st);
    rc = rc ? rc : flush_hunt(s);
    if (rc == 0)
        rc = store_exec(s, s->db, "DELETE FROM hunt_pending", "indexing events");
    rc = rc ? rc : store_exec(s, s->db, "COMMIT", "indexing events");
    if (rc < 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int commit(struct store *s)
{
    if (!s->in_txn)
        return 0;
    int rc = 0;
    if (s->o.hold_events && !s->closing) {
        /* deferred: logged now, inserted in sorted batches (defer_step) */
        size_t was = s->nlogged;
        rc = pend_log(s);
        if (rc == 0 && !was && s->nhunt)
            s->defer_since = mono_now();
    } else {
        /* a batch being inserted first: flush_hunt's entries may be newer */
        if (s->nfl > s->flpos)
            rc = insert_entries(s, s->fl, &s->fl_keys, s->flpos, s->nfl);
        s->nfl = s->flpos = 0;
        rc = rc ? rc : flush_hunt(s);
        if (rc == 0 && s->pending_last)
            rc = store_exec(s, s->db, "DELETE FROM hunt_pending", "indexing events");
        s->pending_last = 0;
    }
    rc = rc ? rc : summary_flush(s, false);
    rc = rc ? rc : store_exec(s, s->db, "COMMIT", "committing events");
    if (rc < 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    else if (s->o.hold_events && !s->closing)
        s->nlogged = s->nhunt;
    s->in_txn = false;
    s->held_rows = 0;
    return rc;
}

int store_txn_commit(struct store *s)
{
    return commit(s);
}

/* Queue the hunting entries of the row just stored as rowid ev (its keys
 * were made by the producer, keys_of_event), and their summary entries. */
static int add_hunt(struct store *s, const struct sbatch *b, const struct srow *r, int64_t ev)
{
    const uint8_t *p = (const uint8_t *)b->bytes.data + r->off[C_KEYS];
    const uint8_t *end = p + r->len[C_KEYS];
    int64_t hour = hour_of(r->ts);
    while (p < end) {
        struct key_rec k;
        key_read(&p, &k);
        /* TIME_NONE (INT64_MIN) sorts first, like NULL */
        if (hunt_push(s, hour, r->ts, ev, (unsigned char)k.kind, (const uint8_t *)k.val, k.len) < 0)
            return -ENOMEM;
        for (unsigned i = 0; i < k.nfps; i++)
            if (summary_add(s, hour, fp_class(k.fps, i), fp_at(k.fps, i)) < 0)
                return set_err(s, -ENOMEM, "out of memory");
    }
    return 0;
}

/* Do rows q and r of b have the same column c (both NULL, or equal bytes)? */
static bool col_equal(const struct sbatch *b, const struct srow *q, const struct srow *r,
                      enum col c)
{
    if (q->len[c] != r->len[c])
        return false;
    return q->len[c] == LEN_NULL ||
           !memcmp(b->bytes.data + q->off[c], b->bytes.data + r->off[c], r->len[c]);
}

/* Insert the rows of b. Adds to *stored / *dup / the doc byte counters. */
static int insert_batch(struct store *s, struct sbatch *b, struct store_stats *acc)
{
    struct zdict *d = atomic_load(&s->dict);
    int64_t file_id = 0, ls_id = 0, host_id = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct srow *r = &b->rows[i];
        /* the previous row's file, log source and host: usually the same */
        const struct srow *q = i ? &b->rows[i - 1] : NULL;
        bool same_file = q && col_equal(b, q, r, C_FILE);
        bool same_ls = q && col_equal(b, q, r, C_MODULE) && col_equal(b, q, r, C_PRODUCT) &&
                       col_equal(b, q, r, C_SERVICE) && col_equal(b, q, r, C_CATEGORY);
        bool same_host = q && col_equal(b, q, r, C_HOST);
        const char *fp = b->bytes.data + r->off[C_FILE];
        int rc = same_file ? 0
                           : intern_id(s, &s->files, s->file_get, s->file_put, fp, r->len[C_FILE],
                                       &fp, &r->len[C_FILE], 1, &file_id);
        if (rc == 0 && !same_ls) {
            /* cache key: each part behind its 2-byte length, so that no
             * choice of names can make two log sources collide */
            const char *parts[4];
            size_t plen[4];
            char key[2048];
            size_t kl = 0;
            for (int k = 0; k < 4; k++) {
                parts[k] = b->bytes.data + r->off[C_MODULE + k];
                plen[k] = r->len[C_MODULE + k];
                if (kl < sizeof(key) && plen[k] <= 0xffff && kl + plen[k] + 2 < sizeof(key)) {
                    key[kl++] = (char)(plen[k] >> 8);
                    key[kl++] = (char)(plen[k] & 0xff);
                    memcpy(key + kl, parts[k], plen[k]);
                    kl += plen[k];
                } else {
                    kl = sizeof(key); /* too long to cache: look up every time */
                }
            }
            if (kl >= sizeof(key)) {
                struct intern none = {0};
                rc = intern_id(s, &none, s->ls_get, s->ls_put, "", 0, parts, plen, 4, &ls_id);
                intern_clear(&none);
            } else {
                rc = intern_id(s, &s->sources, s->ls_get, s->ls_put, key, kl, parts, plen, 4,
                               &ls_id);
            }
        }
        if (rc == 0 && !same_host && r->len[C_HOST] == LEN_NULL)
            host_id = 0;
        else if (rc == 0 && !same_host) {
            const char *p = b->bytes.data + r->off[C_HOST];
            rc = intern_id(s, &s->hosts, s->host_get, s->host_put, p, r->len[C_HOST], &p,
                           &r->len[C_HOST], 1, &host_id);
        }
        if (rc < 0)
            return rc;

        /* a document still uncompressed though a dictionary now exists */
        size_t doc_out = r->len[C_DOC];
        if (d && !(r->blob_mask & (1u << C_DOC))) {
            size_t off;
            bool blob;
            buf_clear(&s->wtmp);
            if (doc_encode(&s->wtmp, s->wcctx, d, s->o.zstd_level, b->bytes.data + r->off[C_DOC],
                           r->len[C_DOC], &off, &doc_out, &blob) < 0)
                return set_err(s, -ENOMEM, "out of memory while compressing");
            sqlite3_bind_blob(s->ins, 14, s->wtmp.data + off, (int)doc_out, SQLITE_STATIC);
        } else {
            bind_col(s->ins, 14, b, r, C_DOC);
        }
        sqlite3_stmt *st = s->ins;
        if (r->ts == TIME_NONE)
            sqlite3_bind_null(st, 1);
        else
            sqlite3_bind_int64(st, 1, r->ts);
        sqlite3_bind_int64(st, 2, file_id);
        sqlite3_bind_int64(st, 3, (int64_t)r->pos);
        sqlite3_bind_int64(st, 4, (int64_t)r->id);
        sqlite3_bind_int64(st, 5, ls_id);
        if (host_id)
            sqlite3_bind_int64(st, 6, host_id);
        else
            sqlite3_bind_null(st, 6);
        bind_col(st, 7, b, r, C_USER);
        bind_col(st, 8, b, r, C_SIP);
        bind_col(st, 9, b, r, C_DIP);
        bind_col(st, 10, b, r, C_EFROM);
        bind_col(st, 11, b, r, C_ETO);
        bind_col(st, 12, b, r, C_ACTION);
        bind_col(st, 13, b, r, C_OUTCOME);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return sql_err(s, s->db, rc, "storing events");
        if (sqlite3_changes(s->db)) {
            s->held_rows++;
            rc = add_hunt(s, b, r, sqlite3_last_insert_rowid(s->db));
            if (rc < 0)
                return rc;
            acc->events_stored++;
            acc->doc_bytes_in += r->doc_raw;
            acc->doc_bytes_out += doc_out;
            if (!d)
                s->raw_rows++;
        } else {
            acc->events_dup++;
        }
    }
    return 0;
}

/* Train a dictionary on the newest stored (uncompressed) documents, keep it,
 * and recompress every uncompressed row with it. Runs in its own
 * transaction; training failures fall back to plain zstd. */
static int train_dict(struct store *s)
{
    sqlite3_stmt *st = NULL;
    struct buf samples;
    buf_init(&samples);
    size_t *sizes = calloc(TRAIN_ROWS, sizeof(size_t));
    unsigned nsamples = 0;
    int rc = sizes ? 0 : -ENOMEM;
    if (rc == 0 && (rc = sqlite3_prepare_v2(s->db,
                                            "SELECT doc FROM events WHERE typeof(doc)='text' "
                                            "ORDER BY rowid DESC LIMIT ?",
                                            -1, &st, NULL)) != SQLITE_OK)
        rc = sql_err(s, s->db, rc, "reading documents for compression");
    if (rc == 0) {
        sqlite3_bind_int(st, 1, TRAIN_ROWS);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int n = sqlite3_column_bytes(st, 0);
            buf_append(&samples, sqlite3_column_blob(st, 0), (size_t)n);
            sizes[nsamples++] = (size_t)n;
        }
        rc = rc == SQLITE_DONE ? 0 : sql_err(s, s->db, rc, "reading documents for compression");
        sqlite3_finalize(st);
        st = NULL;
    }
    void *dict = NULL;
    size_t dict_len = 0;
    if (rc == 0 && nsamples) {
        dict = malloc(DICT_BYTES);
        if (dict) {
            size_t z = ZDICT_trainFromBuffer(dict, DICT_BYTES, samples.data, sizes, nsamples);
            dict_len = ZDICT_isError(z) ? 0 : z;
        }
    }
    buf_free(&samples);
    free(sizes);
    if (rc < 0) {
        free(dict);
        return rc;
    }
    struct zdict *d = calloc(1, sizeof(*d));
    if (!d) {
        free(dict);
        return set_err(s, -ENOMEM, "out of memory");
    }
    if (dict_len) {
        d->id = ZDICT_getDictID(dict, dict_len);
        d->cdict = ZSTD_createCDict(dict, dict_len, s->o.zstd_level);
    }
    rc = begin(s);
    if (rc == 0 && (rc = sqlite3_prepare_v2(s->db,
                                            "INSERT INTO dicts(id, created_ns, dict) "
                                            "VALUES(?,?,?)",
                                            -1, &st, NULL)) != SQLITE_OK)
        rc = sql_err(s, s->db, rc, "storing the dictionary");
    if (rc == 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        sqlite3_bind_int64(st, 1, d->id);
        sqlite3_bind_int64(st, 2, (int64_t)now.tv_sec * NS_PER_SEC + now.tv_nsec);
        sqlite3_bind_blob(st, 3, dict_len ? dict : "", (int)dict_len, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? 0 : sql_err(s, s->db, rc, "storing the dictionary");
        sqlite3_finalize(st);
        st = NULL;
    }
    free(dict);
    /* recompress: read rowids first, then update each (rows <= a few
     * transactions' worth: training happens as soon as TRAIN_ROWS exist) */
    sqlite3_stmt *sel = NULL, *upd = NULL;
    if (rc == 0 &&
        (sqlite3_prepare_v2(s->db, "SELECT rowid, doc FROM events WHERE typeof(doc)='text'", -1,
                            &sel, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(s->db, "UPDATE events SET doc=? WHERE rowid=?", -1, &upd, NULL) !=
             SQLITE_OK))
        rc = sql_err(s, s->db, sqlite3_errcode(s->db), "compressing stored documents");
    /* updating the row being read is safe here: doc is in no index */
    while (rc == 0 && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
        size_t off, len;
        bool blob;
        buf_clear(&s->wtmp);
        if (doc_encode(&s->wtmp, s->wcctx, d, s->o.zstd_level, sqlite3_column_blob(sel, 1),
                       (size_t)sqlite3_column_bytes(sel, 1), &off, &len, &blob) < 0) {
            rc = set_err(s, -ENOMEM, "out of memory while compressing");
            break;
        }
        sqlite3_bind_blob(upd, 1, s->wtmp.data + off, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(upd, 2, sqlite3_column_int64(sel, 0));
        rc = sqlite3_step(upd);
        sqlite3_reset(upd);
        rc = rc == SQLITE_DONE ? 0 : sql_err(s, s->db, rc, "compressing stored documents");
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = sql_err(s, s->db, rc, "compressing stored documents");
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    rc = rc ? rc : commit(s);
    if (rc < 0) {
        if (s->in_txn)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->in_txn = false;
        ZSTD_freeCDict(d->cdict);
        free(d);
        return rc;
    }
    s->raw_rows = 0;
    atomic_store(&s->dict, d);
    return 0;
}

void writer_forget_txn(struct store *s)
{
    if (s->in_txn)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_txn = false;
    intern_clear(&s->files);
    intern_clear(&s->sources);
    intern_clear(&s->hosts);
    /* every hunting entry in memory: those of the rolled-back rows, and the
     * deferred ones, which hunt_pending holds (writer_pending_recover puts
     * them into hunt, as after a crash) */
    s->nhunt = s->nlogged = 0;
    buf_clear(&s->hunt_keys);
    s->nfl = s->flpos = 0;
    buf_clear(&s->fl_keys);
    s->fl_pending = s->pending_last = 0;
    s->held_rows = 0;
}

static void writer_fail(struct store *s, int err)
{
    if (s->in_txn)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_txn = false;
    pthread_mutex_lock(&s->mu);
    if (!s->err)
        s->err = err;
    pthread_cond_broadcast(&s->cv_space);
    pthread_cond_broadcast(&s->cv_idle);
    pthread_mutex_unlock(&s->mu);
}

static void *writer_main(void *arg)
{
    struct store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->qlen && !s->stop && !(s->job && !s->job->done) &&
               (s->err || (!s->nfl && !defer_due(s)))) {
            if (!s->nlogged || s->err) {
                pthread_cond_wait(&s->cv_work, &s->mu);
                continue;
            }
            /* deferred hunting entries: insert them when they are due */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t t = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec +
                        (s->defer_since + HUNT_DEFER_NS - mono_now());
            ts.tv_sec = t / NS_PER_SEC;
            ts.tv_nsec = t % NS_PER_SEC;
            pthread_cond_timedwait(&s->cv_work, &s->mu, &ts);
        }
        if (s->job && !s->job->done) {
            /* between batches: the job has the connection to itself (with
             * hold_events, inside the open transaction of held events) */
            struct wjob *j = s->job;
            s->busy = s->in_job = true;
            pthread_mutex_unlock(&s->mu);
            int jrc = j->fn(s, j->arg);
            /* held events were committed by the job: train now if due */
            if (jrc == 0 && s->o.hold_events && !s->in_txn && !atomic_load(&s->dict) &&
                s->raw_rows >= TRAIN_ROWS) {
                int trc = train_dict(s);
                if (trc < 0)
                    writer_fail(s, trc);
            }
            pthread_mutex_lock(&s->mu);
            j->rc = jrc;
            j->done = true;
            s->busy = s->in_job = false;
            pthread_cond_broadcast(&s->cv_idle);
            continue;
        }
        if (!s->qlen && !s->stop && !s->err) {
            /* a slice of the deferred hunting entries */
            s->busy = true;
            pthread_mutex_unlock(&s->mu);
            int drc = defer_step(s);
            if (drc < 0)
                writer_fail(s, drc);
            pthread_mutex_lock(&s->mu);
            s->busy = false;
            pthread_cond_broadcast(&s->cv_idle);
            continue;
        }
        if (!s->qlen)
            break; /* stop (or a failed writer), and nothing left */
        s->busy = true;
        struct store_stats acc = {0};
        size_t rows = 0;
        int rc = 0;
        /* a new store commits early once it has enough rows to train the
         * dictionary on: fewer rows are stored uncompressed and rewritten */
        while (s->qlen && rows < s->o.commit_rows &&
               (atomic_load(&s->dict) || s->raw_rows < TRAIN_ROWS || s->o.hold_events)) {
            struct sbatch *b = s->queue[s->qhead];
            s->qhead = (s->qhead + 1) % s->o.queue_batches;
            s->qlen--;
            bool failed = s->err != 0;
            pthread_cond_signal(&s->cv_space);
            pthread_mutex_unlock(&s->mu);
            if (!failed) {
                rc = begin(s);
                rc = rc ? rc : insert_batch(s, b, &acc);
                rows += b->n;
            }
            pthread_mutex_lock(&s->mu);
            b->next = s->free_batches;
            s->free_batches = b;
            if (rc < 0 || failed)
                break;
        }
        pthread_mutex_unlock(&s->mu);
        /* held events are committed by a job (store_live_commit) */
        if (rc == 0 && s->in_txn && !s->o.hold_events) {
            rc = commit(s);
            acc.transactions = 1;
        }
        if (rc == 0 && !s->in_txn && !atomic_load(&s->dict) && s->raw_rows >= TRAIN_ROWS)
            rc = train_dict(s);
        /* under load too, deferred hunting entries go in, a slice per round */
        if (rc == 0 && s->o.hold_events && !s->err)
            rc = defer_step(s);
        if (rc < 0)
            writer_fail(s, rc);
        struct timespec cpu;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
        pthread_mutex_lock(&s->mu);
        s->st.writer_cpu_ns = (uint64_t)cpu.tv_sec * NS_PER_SEC + (uint64_t)cpu.tv_nsec;
        if (rc == 0) {
            s->st.events_stored += acc.events_stored;
            s->st.events_dup += acc.events_dup;
            s->st.doc_bytes_in += acc.doc_bytes_in;
            s->st.doc_bytes_out += acc.doc_bytes_out;
            s->st.transactions += acc.transactions;
        }
        s->busy = false;
        pthread_cond_broadcast(&s->cv_idle);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int writer_run_job(struct store *s, int (*fn)(struct store *s, void *arg), void *arg)
{
    if (!s->thread_started)
        return set_err(s, -EROFS, "%s: the store is open read-only", s->path);
    struct wjob j = {fn, arg, 0, false};
    pthread_mutex_lock(&s->mu);
    while (s->job)
        pthread_cond_wait(&s->cv_idle, &s->mu); /* one job at a time */
    s->job = &j;
    pthread_cond_signal(&s->cv_work);
    while (!j.done)
        pthread_cond_wait(&s->cv_idle, &s->mu);
    s->job = NULL;
    if (j.rc < 0)
        memcpy(s->errmsg, s->jerrmsg, sizeof(s->errmsg));
    pthread_cond_broadcast(&s->cv_idle);
    pthread_mutex_unlock(&s->mu);
    return j.rc;
}

/* ---- closing ----------------------------------------------------------- */

static void finalize_all(struct store *s)
{
    sqlite3_stmt **stmts[] = {&s->ins,        &s->file_get, &s->file_put, &s->ls_get,
                              &s->ls_put,     &s->host_get, &s->host_put, &s->hunt_put,
                              &s->hunt_put_n, &s->hour_put, &s->pend_put};
    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        sqlite3_finalize(*stmts[i]);
        *stmts[i] = NULL;
    }
}

int store_close(struct store *s)
{
    if (!s)
        return 0;
    int err = 0;
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_signal(&s->cv_work);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        ckpt_stop(s);
        err = report_writer_err(s); /* the thread is joined: no lock needed */
        /* a small store still without dictionary: train now if worth it */
        if (!err && !atomic_load(&s->dict) && s->raw_rows >= TRAIN_MIN_ROWS)
            err = train_dict(s);
        if (!err && (s->nfl || s->nhunt || s->pending_last)) {
            /* the deferred hunting entries, all of them */
            s->closing = true;
            err = begin(s);
            err = err ? err : commit(s);
        }
        if (!err && s->nsump) {
            /* merge the summary parts of the days this writer touched */
            err = begin(s);
            err = err ? err : summary_flush(s, true);
            err = err ? err : commit(s);
            if (err < 0 && s->in_txn)
                sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        }
        if (!err) {
            /* fold the WAL back so the file is whole and its size honest */
            int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
            if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
                err = sql_err(s, s->db, rc, "checkpointing");
        }
    }
    ckpt_stop(s);
    finalize_all(s);
    summary_free(s);
    intel_finalize(s);
    sqlite3_finalize(s->ev_get);
    store_names_free(s);
    if (s->db && sqlite3_close(s->db) != SQLITE_OK && !err)
        err = sql_err(s, s->db, sqlite3_errcode(s->db), "closing");
    if (s->rdb)
        sqlite3_close(s->rdb);
    for (size_t i = 0; s->queue && i < s->qlen; i++)
        batch_free(s->queue[(s->qhead + i) % s->o.queue_batches]);
    free(s->queue);
    batch_free(s->filling);
    while (s->free_batches) {
        struct sbatch *b = s->free_batches;
        s->free_batches = b->next;
        batch_free(b);
    }
    struct zdict *d = atomic_load(&s->dict);
    if (d) {
        ZSTD_freeCDict(d->cdict);
        free(d);
    }
    for (size_t i = 0; i < s->nddicts; i++)
        ZSTD_freeDDict(s->ddicts[i].ddict);
    free(s->ddicts);
    ZSTD_freeCCtx(s->pcctx);
    ZSTD_freeCCtx(s->wcctx);
    ZSTD_freeDCtx(s->dctx);
    intern_clear(&s->files);
    intern_clear(&s->sources);
    intern_clear(&s->hosts);
    buf_free(&s->pjson);
    buf_free(&s->wtmp);
    buf_free(&s->rjson);
    buf_free(&s->hunt_keys);
    free(s->hunt);
    buf_free(&s->fl_keys);
    free(s->fl);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv_work);
    pthread_cond_destroy(&s->cv_space);
    pthread_cond_destroy(&s->cv_idle);
    pthread_mutex_destroy(&s->ckmu);
    pthread_cond_destroy(&s->cv_ckpt);
    free(s->path);
    free(s);
    return err;
}

/* ---- queries ----------------------------------------------------------- */

/* The connection queries run on: the only one of a read-only store, a
 * second one beside the writer's otherwise (WAL lets them run together). */
int query_db(struct store *s, sqlite3 **db)
{
    if (s->o.read_only) {
        *db = s->db;
        return 0;
    }
    if (!s->rdb) {
        int rc = store_connect(s, true, &s->rdb);
        if (rc < 0) {
            sqlite3_close(s->rdb);
            s->rdb = NULL;
            return rc;
        }
    }
    *db = s->rdb;
    return 0;
}

int doc_decode(struct store *s, sqlite3 *db, const void *p, size_t n, bool blob)
{
    buf_clear(&s->rjson);
    if (!blob) {
        buf_append(&s->rjson, p, n);
        return 0;
    }
    unsigned long long size = ZSTD_getFrameContentSize(p, n);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1u << 30))
        return set_err(s, -EBADMSG, "%s: a stored event is damaged", s->path);
    if (!s->dctx && !(s->dctx = ZSTD_createDCtx()))
        return -ENOMEM;
    uint32_t dict_id = ZSTD_getDictID_fromFrame(p, n);
    ZSTD_DDict *dd = NULL;
    if (dict_id) {
        for (size_t i = 0; i < s->nddicts && !dd; i++)
            if (s->ddicts[i].id == dict_id)
                dd = s->ddicts[i].ddict;
        if (!dd) {
            sqlite3_stmt *q;
            int rc = sqlite3_prepare_v2(db, "SELECT dict FROM dicts WHERE id=?", -1, &q, NULL);
            if (rc != SQLITE_OK)
                return sql_err(s, db, rc, "reading the dictionaries");
            sqlite3_bind_int64(q, 1, dict_id);
            if (sqlite3_step(q) == SQLITE_ROW)
                dd =
                    ZSTD_createDDict(sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0));
            sqlite3_finalize(q);
            if (!dd)
                return set_err(s, -EBADMSG, "%s: the dictionary of a stored event is missing",
                               s->path);
            struct ddict_entry *e = realloc(s->ddicts, (s->nddicts + 1) * sizeof(*e));
            if (!e) {
                ZSTD_freeDDict(dd);
                return -ENOMEM;
            }
            s->ddicts = e;
            e[s->nddicts++] = (struct ddict_entry){dict_id, dd};
        }
    }
    buf_reserve(&s->rjson, (size_t)size);
    size_t z = dd ? ZSTD_decompress_usingDDict(s->dctx, s->rjson.data, (size_t)size, p, n, dd)
                  : ZSTD_decompressDCtx(s->dctx, s->rjson.data, (size_t)size, p, n);
    if (ZSTD_isError(z) || z != size)
        return set_err(s, -EBADMSG, "%s: a stored event is damaged (%s)", s->path,
                       ZSTD_isError(z) ? ZSTD_getErrorName(z) : "short");
    s->rjson.len = z;
    s->rjson.data[z] = '\0';
    return 0;
}

/* Bound values of a query, in the order of its '?'s. */
struct qval {
    const void *p;
    int n;
    bool blob;
    int64_t i;
    bool is_int;
};
struct qbind {
    struct qval v[24];
    int n;
    char *owned[8]; /* hunting keys built for this query (at most 4) */
    int nowned;
};

static void qb_text(struct qbind *b, const char *s)
{
    b->v[b->n++] = (struct qval){s, (int)strlen(s), false, 0, false};
}
static void qb_blob(struct qbind *b, const void *p, int n)
{
    b->v[b->n++] = (struct qval){p, n, true, 0, false};
}
static void qb_int(struct qbind *b, int64_t i)
{
    b->v[b->n++] = (struct qval){NULL, 0, false, i, true};
}
/* Bind the hunting key: kind, then p[0..n) (ASCII lower-cased if fold). */
static int qb_key(struct qbind *b, char kind, const void *p, size_t n, bool fold)
{
    char *k = malloc(n + 1);
    if (!k)
        return -ENOMEM;
    k[0] = kind;
    memcpy(k + 1, p, n);
    for (size_t i = 1; fold && i <= n; i++)
        if (k[i] >= 'A' && k[i] <= 'Z')
            k[i] += 'a' - 'A';
    b->owned[b->nowned++] = k;
    qb_blob(b, k, (int)n + 1);
    return 0;
}
static void qb_free(struct qbind *b)
{
    for (int i = 0; i < b->nowned; i++)
        free(b->owned[i]);
}

/* Parse "ADDR/PREFIX" into the inclusive byte range [lo, hi]; returns the
 * address length, 0 if s has no '/', -EINVAL if it is not a CIDR block. */
static int cidr_range(const char *s, uint8_t lo[16], uint8_t hi[16])
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return 0;
    char *end;
    long prefix = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || *end)
        return -EINVAL;
    size_t len = ip_encode(s, (size_t)(slash - s), lo);
    if (!len || prefix < 0 || prefix > (long)len * 8)
        return -EINVAL;
    memcpy(hi, lo, len);
    for (size_t bit = (size_t)prefix; bit < len * 8; bit++) {
        lo[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
        hi[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
    }
    return (int)len;
}

/* A search filter on an entity: how it reads as a hunting-index range
 * (when it drives the query) and as a condition on the events row (when
 * another filter drives). */
enum qfilter { QF_USER, QF_EMAIL, QF_IP };

struct ipq {
    int cidr_len;    /* >0: CIDR block of that address length */
    size_t addr_len; /* exact: 4/16, or 0 for a value that is not an address */
    uint8_t lo[16], hi[16];
};

/* The driving filter as hunting-key SQL after "FROM hunt_hours b CROSS
 * JOIN": a user is one key; an e-mail address or IP is two (sender and
 * recipient, source and destination), read as two key ranges r per hour so
 * that each is an index range whatever the planner thinks of an OR (a CIDR
 * range also checks the key's length: an IPv6 key must not fall inside an
 * IPv4 range by its first bytes). */
static int filter_drive(struct buf *sql, struct qbind *b, int version, enum qfilter f,
                        const char *v, const struct ipq *ip)
{
    if (f == QF_USER) {
        buf_puts(sql, "hunt x ON x.hour = b.hour AND x.key = ?");
        return qb_key(b, 'u', v, strlen(v), true);
    }
    buf_puts(sql, "(SELECT ? AS lo, ? AS hi, ? AS len UNION ALL SELECT ?, ?, ?) r "
                  "CROSS JOIN hunt x ON x.hour = b.hour AND x.key BETWEEN r.lo AND r.hi "
                  "AND (r.len = 0 OR length(x.key) = r.len)");
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        char kind = f == QF_EMAIL ? (k ? 't' : 'f') : (k ? 'd' : 's');
        if (f == QF_EMAIL) {
            /* mail keys are domain first (mail_key); a version 1 store not
             * upgraded yet (read-only) has them as written, lower-cased */
            size_t n = strlen(v);
            char *mk = malloc(n + 1);
            if (!mk)
                return -ENOMEM;
            size_t kl = version >= 2 ? mail_key(v, n, mk) : n;
            if (version < 2)
                memcpy(mk, v, n);
            rc = qb_key(b, kind, mk, kl, version < 2);
            rc = rc ? rc : qb_key(b, kind, mk, kl, version < 2);
            free(mk);
            qb_int(b, 0);
        } else if (ip->cidr_len) {
            rc = qb_key(b, kind, ip->lo, (size_t)ip->cidr_len, false);
            rc = rc ? rc : qb_key(b, kind, ip->hi, (size_t)ip->cidr_len, false);
            qb_int(b, ip->cidr_len + 1);
        } else {
            const void *p = ip->addr_len ? (const void *)ip->lo : (const void *)v;
            size_t n = ip->addr_len ? ip->addr_len : strlen(v);
            rc = qb_key(b, kind, p, n, false);
            rc = rc ? rc : qb_key(b, kind, p, n, false);
            qb_int(b, 0);
        }
    }
    return rc;
}

static void filter_row(struct buf *sql, struct qbind *b, enum qfilter f, const char *v,
                       const struct ipq *ip)
{
    switch (f) {
    case QF_USER:
        buf_puts(sql, " AND e.user = ? COLLATE NOCASE");
        qb_text(b, v);
        break;
    case QF_EMAIL:
        buf_puts(sql, " AND (e.efrom = ? COLLATE NOCASE OR e.eto = ? COLLATE NOCASE)");
        qb_text(b, v);
        qb_text(b, v);
        break;
    case QF_IP:
        if (ip->cidr_len) {
            buf_printf(sql,
                       " AND ((e.sip BETWEEN ? AND ? AND length(e.sip) = %d) OR "
                       "(e.dip BETWEEN ? AND ? AND length(e.dip) = %d))",
                       ip->cidr_len, ip->cidr_len);
            for (int k = 0; k < 2; k++) {
                qb_blob(b, ip->lo, ip->cidr_len);
                qb_blob(b, ip->hi, ip->cidr_len);
            }
        } else {
            buf_puts(sql, " AND (e.sip = ? OR e.dip = ?)");
            for (int k = 0; k < 2; k++) {
                if (ip->addr_len)
                    qb_blob(b, ip->lo, (int)ip->addr_len);
                else
                    qb_text(b, v);
            }
        }
        break;
    }
}

#define SELECT_COLS                                                                                \
    "SELECT e.ts, e.id, l.module, h.name, e.user, e.sip, e.dip, e.action, e.outcome, e.doc, "      \
    "e.efrom, e.eto, fl.path, e.pos "

/* Build the SQL for q into sql and its bindings into b. The first entity
 * filter (user, then e-mail, then IP) drives the query through the hunting
 * index: for each hour bucket of the time range (hunt_hours), the key's
 * entries in time order; the other filters test the rows. With no entity
 * filter the time index drives. CROSS JOIN fixes the join order. */
static int build_query(struct store *s, const struct store_query *q, struct buf *sql,
                       struct qbind *b, struct ipq *ip)
{
    const char *vals[3] = {q->user, q->email, q->ip};
    if (q->ip) {
        ip->cidr_len = cidr_range(q->ip, ip->lo, ip->hi);
        if (ip->cidr_len < 0)
            return set_err(s, -EINVAL, "--ip: '%s' is not an address/prefix block", q->ip);
        if (!ip->cidr_len)
            ip->addr_len = ip_encode(q->ip, strlen(q->ip), ip->lo);
    }
    int drive = -1;
    for (int f = 0; f < 3 && drive < 0; f++)
        if (vals[f])
            drive = f;
    /* a user is one key; an IP or e-mail filter is two (source and
     * destination, sender and recipient), and an event matching both must
     * come once: those go through a DISTINCT subquery m */
    bool two_keys = drive == QF_IP || drive == QF_EMAIL;
    const char *tcol = drive >= 0 ? "x.ts" : "e.ts";
    if (drive >= 0) {
        buf_puts(sql, two_keys ? SELECT_COLS "FROM (SELECT DISTINCT x.hour, x.ts, x.ev "
                                             "FROM hunt_hours b CROSS JOIN "
                               : SELECT_COLS "FROM hunt_hours b CROSS JOIN ");
        int rc = filter_drive(sql, b, s->version, (enum qfilter)drive, vals[drive], ip);
        if (rc < 0)
            return set_err(s, rc, "out of memory");
        if (!two_keys)
            buf_puts(sql,
                     " CROSS JOIN events e ON e.rowid = x.ev "
                     "CROSS JOIN logsources l ON l.id = e.ls CROSS JOIN files fl ON fl.id = e.file "
                     "LEFT JOIN hosts h ON h.id = e.host");
        buf_puts(sql, " WHERE b.hour BETWEEN ? AND ?");
        /* any time bound leaves out the events without a time (their
         * bucket is HOUR_NONE), as the ts comparisons do on events */
        bool bounded = q->since_ns != TIME_NONE || q->until_ns != TIME_NONE;
        qb_int(b, q->since_ns != TIME_NONE ? hour_of(q->since_ns)
                  : bounded                ? HOUR_NONE + 1
                                           : HOUR_NONE);
        qb_int(b, q->until_ns != TIME_NONE ? hour_of(q->until_ns - 1) : INT64_MAX);
    } else {
        buf_puts(sql, SELECT_COLS "FROM events e CROSS JOIN logsources l ON l.id = e.ls "
                                  "CROSS JOIN files fl ON fl.id = e.file "
                                  "LEFT JOIN hosts h ON h.id = e.host WHERE 1");
    }
    if (q->since_ns != TIME_NONE) {
        buf_printf(sql, " AND %s >= ?", tcol);
        qb_int(b, q->since_ns);
    }
    if (q->until_ns != TIME_NONE) {
        buf_printf(sql, " AND %s < ?", tcol);
        qb_int(b, q->until_ns);
    }
    if (two_keys)
        buf_puts(sql,
                 ") m CROSS JOIN events e ON e.rowid = m.ev "
                 "CROSS JOIN logsources l ON l.id = e.ls CROSS JOIN files fl ON fl.id = e.file "
                 "LEFT JOIN hosts h ON h.id = e.host WHERE 1");
    for (int f = drive + 1; f < 3; f++)
        if (vals[f])
            filter_row(sql, b, (enum qfilter)f, vals[f], ip);
    buf_puts(sql, two_keys     ? " ORDER BY m.hour, m.ts, m.ev"
                  : drive >= 0 ? " ORDER BY b.hour, x.ts, x.ev"
                               : " ORDER BY e.ts, e.rowid");
    if (q->limit) {
        buf_puts(sql, " LIMIT ?");
        qb_int(b, q->limit > INT64_MAX ? INT64_MAX : (int64_t)q->limit);
    }
    return 0;
}

/* Prepare q on the query connection. */
static int prepare_query(struct store *s, const struct store_query *q, const char *prefix,
                         sqlite3 **dbp, sqlite3_stmt **st)
{
    sqlite3 *db;
    int rc = query_db(s, &db);
    if (rc < 0)
        return rc;
    struct buf sql;
    struct qbind b;
    struct ipq ip;
    buf_init(&sql);
    memset(&b, 0, sizeof(b));
    memset(&ip, 0, sizeof(ip));
    buf_puts(&sql, prefix);
    rc = build_query(s, q, &sql, &b, &ip);
    if (rc == 0 && (rc = sqlite3_prepare_v2(db, sql.data, -1, st, NULL)) != SQLITE_OK)
        rc = sql_err(s, db, rc, "preparing the search");
    buf_free(&sql);
    if (rc < 0) {
        qb_free(&b);
        return rc;
    }
    for (int i = 0; i < b.n; i++) {
        if (b.v[i].is_int)
            sqlite3_bind_int64(*st, i + 1, b.v[i].i);
        else if (b.v[i].blob)
            sqlite3_bind_blob(*st, i + 1, b.v[i].p, b.v[i].n, SQLITE_TRANSIENT);
        else
            sqlite3_bind_text(*st, i + 1, b.v[i].p, b.v[i].n, SQLITE_TRANSIENT);
    }
    qb_free(&b);
    *dbp = db;
    return 0;
}

/* Read the current row of a statement whose columns are SELECT_COLS into
 * r (its document decoded into s->rjson), and hand it to cb. sip and dip
 * hold the addresses' text. Returns 0, or cb's or the decoder's negative
 * errno. */
static int row_to_cb(struct store *s, sqlite3 *db, sqlite3_stmt *st, char sip[64], char dip[64],
                     int (*cb)(void *opaque, const struct store_row *r), void *opaque)
{
    struct store_row r = {0};
    r.ts_ns = sqlite3_column_type(st, 0) == SQLITE_NULL ? TIME_NONE : sqlite3_column_int64(st, 0);
    r.id = (uint64_t)sqlite3_column_int64(st, 1);
    r.module = (const char *)sqlite3_column_text(st, 2);
    r.host = (const char *)sqlite3_column_text(st, 3);
    r.user = (const char *)sqlite3_column_text(st, 4);
    r.source_ip = ip_text(st, 5, sip);
    r.destination_ip = ip_text(st, 6, dip);
    r.action = (const char *)sqlite3_column_text(st, 7);
    r.outcome = (const char *)sqlite3_column_text(st, 8);
    int e = doc_decode(s, db, sqlite3_column_blob(st, 9), (size_t)sqlite3_column_bytes(st, 9),
                       sqlite3_column_type(st, 9) == SQLITE_BLOB);
    if (e < 0)
        return e;
    r.json = s->rjson.data;
    r.json_len = s->rjson.len;
    r.email_from = (const char *)sqlite3_column_text(st, 10);
    r.email_to = (const char *)sqlite3_column_text(st, 11);
    r.file = (const char *)sqlite3_column_text(st, 12);
    r.line = (uint64_t)sqlite3_column_int64(st, 13);
    return cb(opaque, &r);
}

/* Step st to its end, handing every row to cb (row_to_cb); finalize it.
 * doing names the work in an error message. */
static int run_rows(struct store *s, sqlite3 *db, sqlite3_stmt *st, const char *doing,
                    int (*cb)(void *opaque, const struct store_row *r), void *opaque)
{
    char sip[64], dip[64];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int e = row_to_cb(s, db, st, sip, dip, cb, opaque);
        if (e < 0) {
            sqlite3_finalize(st);
            return e;
        }
    }
    int ret = rc == SQLITE_DONE ? 0 : sql_err(s, db, rc, doing);
    sqlite3_finalize(st);
    return ret;
}

/* Append the plan an EXPLAIN QUERY PLAN statement gives, a step a line;
 * finalize it. */
static int run_plan(struct store *s, sqlite3 *db, sqlite3_stmt *st, const char *doing,
                    struct buf *out)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        buf_puts(out, (const char *)sqlite3_column_text(st, 3));
        buf_putc(out, '\n');
    }
    int ret = rc == SQLITE_DONE ? 0 : sql_err(s, db, rc, doing);
    sqlite3_finalize(st);
    return ret;
}

int store_search(struct store *s, const struct store_query *q,
                 int (*cb)(void *opaque, const struct store_row *r), void *opaque)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = prepare_query(s, q, "", &db, &st);
    return rc < 0 ? rc : run_rows(s, db, st, "searching", cb, opaque);
}

int store_explain(struct store *s, const struct store_query *q, struct buf *out)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = prepare_query(s, q, "EXPLAIN QUERY PLAN ", &db, &st);
    return rc < 0 ? rc : run_plan(s, db, st, "explaining the search", out);
}

int64_t store_count(struct store *s)
{
    sqlite3 *db;
    int rc = query_db(s, &db);
    if (rc < 0)
        return rc;
    int64_t n;
    rc = count_rows(s, db, &n);
    return rc < 0 ? rc : n;
}

/* ---- window scans -------------------------------------------------------- */

/* The SQL of a window scan into sql, its bindings into b. The time index
 * (events_ts) drives: the rows of [since, until) in time order; module,
 * host and actions are tested on each row, and only rows that pass have
 * their document decompressed (by the caller of the statement). */
static int build_scan(struct store *s, const struct store_scan *q, struct buf *sql, struct qbind *b)
{
    if (q->nactions > 16)
        return set_err(s, -EINVAL, "a window scan takes at most 16 actions");
    buf_puts(sql, SELECT_COLS "FROM events e CROSS JOIN logsources l ON l.id = e.ls "
                              "CROSS JOIN files fl ON fl.id = e.file "
                              "LEFT JOIN hosts h ON h.id = e.host WHERE e.ts IS NOT NULL");
    if (q->since_ns != TIME_NONE) {
        buf_puts(sql, " AND e.ts >= ?");
        qb_int(b, q->since_ns);
    }
    if (q->until_ns != TIME_NONE) {
        buf_puts(sql, " AND e.ts < ?");
        qb_int(b, q->until_ns);
    }
    if (q->module) {
        buf_puts(sql, " AND l.module = ?");
        qb_text(b, q->module);
    }
    if (q->host) {
        buf_puts(sql, " AND e.host IN (SELECT id FROM hosts WHERE name = ? COLLATE NOCASE)");
        qb_text(b, q->host);
    }
    if (q->nactions) {
        buf_puts(sql, " AND e.action IN (");
        for (size_t i = 0; i < q->nactions; i++) {
            buf_puts(sql, i ? ", ?" : "?");
            qb_text(b, q->actions[i]);
        }
        buf_putc(sql, ')');
    }
    buf_puts(sql, " ORDER BY e.ts, e.rowid");
    return 0;
}

static int prepare_scan(struct store *s, const struct store_scan *q, const char *prefix,
                        sqlite3 **dbp, sqlite3_stmt **st)
{
    sqlite3 *db;
    int rc = query_db(s, &db);
    if (rc < 0)
        return rc;
    struct buf sql;
    struct qbind b;
    buf_init(&sql);
    memset(&b, 0, sizeof(b));
    buf_puts(&sql, prefix);
    rc = build_scan(s, q, &sql, &b);
    if (rc == 0 && (rc = sqlite3_prepare_v2(db, sql.data, -1, st, NULL)) != SQLITE_OK)
        rc = sql_err(s, db, rc, "preparing the window scan");
    buf_free(&sql);
    if (rc < 0)
        return rc;
    for (int i = 0; i < b.n; i++) {
        if (b.v[i].is_int)
            sqlite3_bind_int64(*st, i + 1, b.v[i].i);
        else
            sqlite3_bind_text(*st, i + 1, b.v[i].p, b.v[i].n, SQLITE_TRANSIENT);
    }
    *dbp = db;
    return 0;
}

int store_scan(struct store *s, const struct store_scan *q,
               int (*cb)(void *opaque, const struct store_row *r), void *opaque)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = prepare_scan(s, q, "", &db, &st);
    return rc < 0 ? rc : run_rows(s, db, st, "scanning a time window", cb, opaque);
}

int store_scan_explain(struct store *s, const struct store_scan *q, struct buf *out)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = prepare_scan(s, q, "EXPLAIN QUERY PLAN ", &db, &st);
    return rc < 0 ? rc : run_plan(s, db, st, "explaining the window scan", out);
}
