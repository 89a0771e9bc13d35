/*
 * store-intel.c - intelligence kept in the store with its provenance, and
 * the state table (see store.h for the contract).
 *
 *   intel_imports(id, time_ns, source, format, indicators, added, updated,
 *                 removed, problems, warned)      one row per import
 *   intel_metas(id, import, feed, ref, name, confidence, tlp, valid_from,
 *               valid_until, revoked, labels, kill_chain, related)
 *               UNIQUE(feed, ref)                 struct ioc_meta
 *   intel(id, import, first_import, meta, type, value, detect, warning)
 *         UNIQUE(meta, type, value), INDEX (type, value), INDEX (import)
 *   state(key, value, updated_ns)
 *
 * The identity of an indicator is (feed, ref, type, value): UNIQUE(feed,
 * ref) on the metadata and UNIQUE(meta, type, value) on the indicators.
 * `import` is the import that last wrote a row, `first_import` the one
 * that created it. Types are stored by name (ioc_type_name), TLP as its
 * 2.0 name, times as UTC nanoseconds (NULL: no bound).
 *
 * Writes run as writer jobs (store-sqlite.c): the whole import in one
 * transaction on the writer's connection, between event transactions, so
 * a concurrent event stream neither blocks on SQLite's lock nor fails with
 * SQLITE_BUSY. Reads use the query connection. Loading streams rows; a
 * metadata record is read only when the next indicator names another one.
 *
 * A streamed import (store_intel_import_stream) runs its producer on the
 * writer thread inside the job: each chunk is written as it comes, into
 * the one open transaction, and only the per-record state (row id, was it
 * known, how many indicators) is kept between chunks, so memory does not
 * grow with the feed; SQLite spills what the transaction holds to the
 * write-ahead log. Any error rolls the whole import back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store-private.h"

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * NS_PER_SEC + t.tv_nsec;
}

static int prep(struct store *s, sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : sql_err(s, db, rc, "preparing an intelligence statement");
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t t)
{
    if (t == TIME_NONE)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, t);
}

static int step_done(struct store *s, sqlite3 *db, sqlite3_stmt *st, const char *doing)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sql_err(s, db, rc, doing);
}

/* ---- import --------------------------------------------------------------- */

enum {
    ST_IMP_PUT,
    ST_IMP_UPD,
    ST_META_GET,
    ST_META_PUT,
    ST_META_UPD,
    ST_IOC_PUT,
    ST_STALE,
    ST_META_EMPTY,
    ST_COUNT,
    ST__N
};

static const char *const import_sql[ST__N] = {
    [ST_IMP_PUT] = "INSERT INTO intel_imports(time_ns, source, format, indicators, added, updated,"
                   " removed, problems, warned) VALUES(?,'','',0,0,0,0,0,0)",
    [ST_IMP_UPD] = "UPDATE intel_imports SET indicators=?, added=?, updated=?, removed=?,"
                   " problems=?, warned=?, source=?, format=? WHERE id=?",
    [ST_META_GET] = "SELECT id FROM intel_metas WHERE feed=? AND ref=?",
    [ST_META_PUT] = "INSERT INTO intel_metas(import, feed, ref, name, confidence, tlp, valid_from,"
                    " valid_until, revoked, labels, kill_chain, related)"
                    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
    [ST_META_UPD] = "UPDATE intel_metas SET import=?1, name=?4, confidence=?5, tlp=?6,"
                    " valid_from=?7, valid_until=?8, revoked=?9, labels=?10, kill_chain=?11,"
                    " related=?12 WHERE feed=?2 AND ref=?3",
    [ST_IOC_PUT] = "INSERT INTO intel(import, first_import, meta, type, value, detect, warning)"
                   " VALUES(?1,?1,?2,?3,?4,?5,?6) ON CONFLICT(meta, type, value) DO UPDATE"
                   " SET import=excluded.import, detect=excluded.detect, warning=excluded.warning",
    [ST_STALE] = "DELETE FROM intel WHERE meta=? AND import<>?",
    [ST_META_EMPTY] = "DELETE FROM intel_metas WHERE id=?1 AND NOT EXISTS"
                      " (SELECT 1 FROM intel WHERE meta=?1)",
    [ST_COUNT] = "SELECT count(*), coalesce(sum(first_import=?1), 0) FROM intel WHERE import=?1",
};

/* What an import knows of a metadata record of its batches. */
struct meta_state {
    int64_t id;    /* its row; 0 while not stored */
    bool old;      /* it was in the store before this import */
    uint64_t iocs; /* indicators of it stored by this import */
};

/* One import in progress: a transaction open on the writer's connection. */
struct store_intel_stream {
    struct store *s;
    sqlite3_stmt *st[ST__N];
    bool open;
    int64_t id;
    struct meta_state *metas;
    uint32_t nmetas, capmetas; /* records looked up so far (batch indexes) */
    struct store_intel_import counts;
    char *source, *format;
};

static void bind_meta(sqlite3_stmt *st, int64_t import_id, const struct ioc_meta *m)
{
    sqlite3_bind_int64(st, 1, import_id);
    sqlite3_bind_text(st, 2, m->feed ? m->feed : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->ref ? m->ref : "", -1, SQLITE_STATIC);
    bind_text_or_null(st, 4, m->name);
    sqlite3_bind_int(st, 5, m->confidence);
    sqlite3_bind_text(st, 6, tlp_name(m->tlp), -1, SQLITE_STATIC);
    bind_time(st, 7, m->valid_from);
    bind_time(st, 8, m->valid_until);
    sqlite3_bind_int(st, 9, m->revoked);
    bind_text_or_null(st, 10, m->labels_json);
    bind_text_or_null(st, 11, m->kill_chain_json);
    bind_text_or_null(st, 12, m->related_json);
}

static void stream_reset(struct store_intel_stream *x)
{
    for (int k = 0; k < ST__N; k++) {
        sqlite3_finalize(x->st[k]);
        x->st[k] = NULL;
    }
    free(x->metas);
    free(x->source);
    free(x->format);
    struct store *s = x->s;
    memset(x, 0, sizeof(*x));
    x->s = s;
}

static void stream_abort(struct store_intel_stream *x)
{
    if (x->open)
        sqlite3_exec(x->s->db, "ROLLBACK", NULL, NULL, NULL);
    stream_reset(x);
}

/* Open the transaction and the import's row. */
static int stream_begin(struct store_intel_stream *x)
{
    struct store *s = x->s;
    const char *doing = "importing intelligence";
    int rc = store_exec(s, s->db, "BEGIN IMMEDIATE", doing);
    if (rc < 0)
        return rc;
    x->open = true;
    for (int k = 0; k < ST__N && rc == 0; k++)
        rc = prep(s, s->db, &x->st[k], import_sql[k]);
    if (rc == 0) {
        sqlite3_bind_int64(x->st[ST_IMP_PUT], 1, now_ns());
        rc = step_done(s, s->db, x->st[ST_IMP_PUT], doing);
    }
    if (rc < 0) {
        stream_abort(x);
        return rc;
    }
    x->id = sqlite3_last_insert_rowid(s->db);
    sqlite3_bind_int64(x->st[ST_IOC_PUT], 1, x->id);
    return 0;
}

/* Store the indicators of b (and the records they name) in the open
 * import. */
static int stream_chunk(struct store_intel_stream *x, const struct ioc_batch *b)
{
    struct store *s = x->s;
    sqlite3 *db = s->db;
    const char *doing = "importing intelligence";
    int rc = 0;
    if (b->nmetas > x->capmetas) {
        uint32_t cap = x->capmetas ? x->capmetas : 16;
        while (cap < b->nmetas)
            cap = cap > UINT32_MAX / 2 ? b->nmetas : cap * 2;
        struct meta_state *nm = realloc(x->metas, (size_t)cap * sizeof(*nm));
        if (!nm)
            return set_err(s, -ENOMEM, "out of memory");
        memset(nm + x->capmetas, 0, (size_t)(cap - x->capmetas) * sizeof(*nm));
        x->metas = nm;
        x->capmetas = cap;
    }
    /* records new to this import: update the known ones */
    for (uint32_t m = x->nmetas; m < b->nmetas && rc == 0; m++) {
        const struct ioc_meta *mm = &b->metas[m];
        sqlite3_stmt *g = x->st[ST_META_GET];
        sqlite3_bind_text(g, 1, mm->feed ? mm->feed : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(g, 2, mm->ref ? mm->ref : "", -1, SQLITE_STATIC);
        int r = sqlite3_step(g);
        x->metas[m].id = r == SQLITE_ROW ? sqlite3_column_int64(g, 0) : 0;
        sqlite3_reset(g);
        if (r != SQLITE_ROW && r != SQLITE_DONE)
            return sql_err(s, db, r, doing);
        x->metas[m].old = x->metas[m].id != 0;
        if (x->metas[m].old) {
            bind_meta(x->st[ST_META_UPD], x->id, mm);
            rc = step_done(s, db, x->st[ST_META_UPD], doing);
        }
    }
    if (b->nmetas > x->nmetas)
        x->nmetas = b->nmetas;
    sqlite3_stmt *ip = x->st[ST_IOC_PUT];
    for (size_t i = 0; i < b->niocs && rc == 0; i++) {
        const struct ioc *c = &b->iocs[i];
        if (c->meta >= b->nmetas || !c->value)
            continue; /* a reader's bug: no record to hang it on */
        struct meta_state *ms = &x->metas[c->meta];
        if (!ms->id) {
            /* a new record gets its row with its first indicator, unless
             * another record of the batches with the same (feed, ref) got
             * it first */
            const struct ioc_meta *mm = &b->metas[c->meta];
            sqlite3_stmt *g = x->st[ST_META_GET];
            sqlite3_bind_text(g, 1, mm->feed ? mm->feed : "", -1, SQLITE_STATIC);
            sqlite3_bind_text(g, 2, mm->ref ? mm->ref : "", -1, SQLITE_STATIC);
            int r = sqlite3_step(g);
            ms->id = r == SQLITE_ROW ? sqlite3_column_int64(g, 0) : 0;
            sqlite3_reset(g);
            if (r != SQLITE_ROW && r != SQLITE_DONE) {
                rc = sql_err(s, db, r, doing);
                break;
            }
            if (!ms->id) {
                bind_meta(x->st[ST_META_PUT], x->id, mm);
                rc = step_done(s, db, x->st[ST_META_PUT], doing);
                if (rc < 0)
                    break;
                ms->id = sqlite3_last_insert_rowid(db);
            }
        }
        ms->iocs++;
        sqlite3_bind_int64(ip, 2, ms->id);
        sqlite3_bind_text(ip, 3, ioc_type_name(c->type), -1, SQLITE_STATIC);
        sqlite3_bind_text(ip, 4, c->value, -1, SQLITE_STATIC);
        sqlite3_bind_int(ip, 5, c->detect);
        bind_text_or_null(ip, 6, c->warning);
        rc = step_done(s, db, ip, doing);
        x->counts.warned += c->warning != NULL;
        x->counts.indicators++;
    }
    x->counts.problems += b->nproblems + b->nproblems_dropped;
    const char *src = b->source ? b->source : "", *fmt = b->format ? b->format : "";
    if (rc == 0 && (!x->source || strcmp(x->source, src))) {
        free(x->source);
        x->source = strdup(src);
    }
    if (rc == 0 && (!x->format || strcmp(x->format, fmt))) {
        free(x->format);
        x->format = strdup(fmt);
    }
    if (rc == 0 && (!x->source || !x->format))
        rc = set_err(s, -ENOMEM, "out of memory");
    return rc;
}

/* Drop what re-imported records no longer hold, count, commit. */
static int stream_commit(struct store_intel_stream *x)
{
    struct store *s = x->s;
    sqlite3 *db = s->db;
    sqlite3_stmt **st = x->st;
    const char *doing = "importing intelligence";
    int rc = 0;
    for (uint32_t m = 0; m < x->nmetas && rc == 0; m++) {
        if (!x->metas[m].old)
            continue;
        sqlite3_bind_int64(st[ST_STALE], 1, x->metas[m].id);
        sqlite3_bind_int64(st[ST_STALE], 2, x->id);
        rc = step_done(s, db, st[ST_STALE], doing);
        x->counts.removed += (uint64_t)sqlite3_changes(db);
        if (rc == 0 && !x->metas[m].iocs) {
            sqlite3_bind_int64(st[ST_META_EMPTY], 1, x->metas[m].id);
            rc = step_done(s, db, st[ST_META_EMPTY], doing);
        }
    }
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st[ST_COUNT], 1, x->id);
    int r = sqlite3_step(st[ST_COUNT]);
    uint64_t total = 0, added = 0;
    if (r == SQLITE_ROW) {
        total = (uint64_t)sqlite3_column_int64(st[ST_COUNT], 0);
        added = (uint64_t)sqlite3_column_int64(st[ST_COUNT], 1);
    }
    sqlite3_reset(st[ST_COUNT]);
    if (r != SQLITE_ROW)
        return sql_err(s, db, r, doing);
    x->counts.id = x->id;
    x->counts.added = added;
    x->counts.updated = total - added;
    sqlite3_stmt *u = st[ST_IMP_UPD];
    sqlite3_bind_int64(u, 1, (int64_t)x->counts.indicators);
    sqlite3_bind_int64(u, 2, (int64_t)x->counts.added);
    sqlite3_bind_int64(u, 3, (int64_t)x->counts.updated);
    sqlite3_bind_int64(u, 4, (int64_t)x->counts.removed);
    sqlite3_bind_int64(u, 5, (int64_t)x->counts.problems);
    sqlite3_bind_int64(u, 6, (int64_t)x->counts.warned);
    sqlite3_bind_text(u, 7, x->source ? x->source : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(u, 8, x->format ? x->format : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(u, 9, x->id);
    rc = step_done(s, db, u, doing);
    for (int k = 0; k < ST__N; k++) {
        sqlite3_finalize(st[k]);
        st[k] = NULL;
    }
    return rc ? rc : store_exec(s, db, "COMMIT", doing);
}

int store_intel_stream_add(struct store_intel_stream *x, const struct ioc_batch *b)
{
    int rc = x->open ? 0 : stream_begin(x);
    if (rc == 0)
        rc = stream_chunk(x, b);
    if (rc < 0)
        stream_abort(x);
    return rc;
}

int store_intel_stream_end(struct store_intel_stream *x, const struct ioc_batch *b,
                           int64_t *import_id, struct store_intel_import *counts)
{
    int rc = b ? store_intel_stream_add(x, b) : x->open ? 0 : stream_begin(x);
    if (rc < 0)
        return rc;
    rc = stream_commit(x);
    if (rc < 0) {
        stream_abort(x);
        return rc;
    }
    x->open = false;
    if (import_id)
        *import_id = x->id;
    if (counts) {
        *counts = x->counts;
        counts->source = counts->format = NULL; /* freed below */
    }
    stream_reset(x);
    return 0;
}

void store_intel_stream_cancel(struct store_intel_stream *x)
{
    stream_abort(x);
}

struct stream_job {
    store_intel_stream_fn fn;
    void *opaque;
};

static int stream_job(struct store *s, void *arg)
{
    struct stream_job *j = arg;
    struct store_intel_stream x = {.s = s};
    int rc = j->fn(j->opaque, &x);
    stream_abort(&x); /* an import fn left open is not kept */
    return rc;
}

int store_intel_import_stream(struct store *s, store_intel_stream_fn fn, void *opaque)
{
    int rc = store_need_version(s, 2, "keeping intelligence");
    struct stream_job j = {fn, opaque};
    return rc ? rc : writer_run_job(s, stream_job, &j);
}

struct import_job {
    const struct ioc_batch *b;
    int64_t id;
    struct store_intel_import counts;
};

static int import_one(void *opaque, struct store_intel_stream *x)
{
    struct import_job *j = opaque;
    return store_intel_stream_end(x, j->b, &j->id, &j->counts);
}

int store_intel_import(struct store *s, const struct ioc_batch *b, int64_t *import_id,
                       struct store_intel_import *counts)
{
    struct import_job j = {.b = b};
    int rc = store_intel_import_stream(s, import_one, &j);
    if (rc < 0)
        return rc;
    if (import_id)
        *import_id = j.id;
    if (counts) {
        *counts = j.counts;
        counts->source = b->source;
        counts->format = b->format;
    }
    return 0;
}

/* ---- load ------------------------------------------------------------------ */

/* The current metadata record of a load, its strings copied. */
struct meta_cache {
    int64_t id;
    struct ioc_meta m;
    struct buf strs;
};

static const char *col_str(sqlite3_stmt *st, int c, struct buf *strs, size_t *off)
{
    if (sqlite3_column_type(st, c) == SQLITE_NULL) {
        *off = SIZE_MAX;
        return NULL;
    }
    *off = strs->len;
    const unsigned char *t = sqlite3_column_text(st, c);
    buf_append(strs, t, (size_t)sqlite3_column_bytes(st, c));
    buf_putc(strs, '\0');
    return NULL;
}

static int64_t col_time(sqlite3_stmt *st, int c)
{
    return sqlite3_column_type(st, c) == SQLITE_NULL ? TIME_NONE : sqlite3_column_int64(st, c);
}

static int meta_fetch(struct store *s, sqlite3 *db, sqlite3_stmt *mq, int64_t id,
                      struct meta_cache *mc)
{
    sqlite3_bind_int64(mq, 1, id);
    int rc = sqlite3_step(mq);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(mq);
        return rc == SQLITE_DONE ? set_err(s, -EBADMSG, "%s: indicator metadata %lld is missing",
                                           s->path, (long long)id)
                                 : sql_err(s, db, rc, "loading intelligence");
    }
    buf_clear(&mc->strs);
    size_t off[6];
    for (int c = 0; c < 6; c++)
        col_str(mq, c, &mc->strs, &off[c]); /* feed ref name labels kill_chain related */
    ioc_meta_init(&mc->m);
    const char **dst[6] = {
        &mc->m.feed,        &mc->m.ref, &mc->m.name, &mc->m.labels_json, &mc->m.kill_chain_json,
        &mc->m.related_json};
    for (int c = 0; c < 6; c++)
        *dst[c] = off[c] == SIZE_MAX ? NULL : mc->strs.data + off[c];
    if (mc->m.ref && !*mc->m.ref)
        mc->m.ref = NULL;
    mc->m.confidence = sqlite3_column_int(mq, 6);
    const char *tlp = (const char *)sqlite3_column_text(mq, 7);
    int t = tlp && *tlp ? tlp_by_name(tlp) : -1;
    mc->m.tlp = t < 0 ? TLP_UNMARKED : (enum tlp)t;
    mc->m.valid_from = col_time(mq, 8);
    mc->m.valid_until = col_time(mq, 9);
    mc->m.revoked = sqlite3_column_int(mq, 10) != 0;
    mc->id = id;
    sqlite3_reset(mq);
    return 0;
}

/* The type of a stored type name (ioc_type_name), -1 if unknown. */
static int type_of(const char *name)
{
    static const char *const names[IOC__COUNT] = {"ip",         "domain",      "url",    "email",
                                                  "md5",        "sha1",        "sha256", "filename",
                                                  "user-agent", "stix-pattern"};
    for (int t = 0; t < IOC__COUNT; t++)
        if (names[t][0] == name[0] && !strcmp(names[t], name))
            return t;
    return ioc_type_by_name(name);
}

int store_intel_load(struct store *s, int64_t import_id, store_intel_cb cb, void *opaque)
{
    int rc = store_need_version(s, 2, "intelligence");
    sqlite3 *db;
    rc = rc ? rc : query_db(s, &db);
    if (rc < 0)
        return rc;
    sqlite3_stmt *q = NULL, *mq = NULL;
    rc = prep(s, db, &q,
              import_id ? "SELECT meta, type, value, detect, warning FROM intel WHERE import=?"
                        : "SELECT meta, type, value, detect, warning FROM intel");
    rc = rc ? rc
            : prep(s, db, &mq,
                   "SELECT feed, ref, name, labels, kill_chain, related, confidence, tlp,"
                   " valid_from, valid_until, revoked FROM intel_metas WHERE id=?");
    if (rc < 0) {
        sqlite3_finalize(q);
        return rc;
    }
    if (import_id) {
        /* an import that added nothing still exists: tell it from a typo */
        sqlite3_stmt *e;
        rc = prep(s, db, &e, "SELECT 1 FROM intel_imports WHERE id=?");
        if (rc == 0) {
            sqlite3_bind_int64(e, 1, import_id);
            int r = sqlite3_step(e);
            rc = r == SQLITE_ROW    ? 0
                 : r == SQLITE_DONE ? set_err(s, -ENOENT, "%s: no import %lld in the store",
                                              s->path, (long long)import_id)
                                    : sql_err(s, db, r, "loading intelligence");
            sqlite3_finalize(e);
        }
        sqlite3_bind_int64(q, 1, import_id);
    }
    struct meta_cache mc = {.id = 0};
    buf_init(&mc.strs);
    while (rc == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t meta = sqlite3_column_int64(q, 0);
        rc = 0;
        if (meta != mc.id && (rc = meta_fetch(s, db, mq, meta, &mc)) < 0)
            break;
        const char *type = (const char *)sqlite3_column_text(q, 1);
        int t = type ? type_of(type) : -1;
        if (t < 0)
            continue; /* a type of a newer kenchi */
        struct ioc c = {
            .type = (enum ioc_type)t,
            .detect = sqlite3_column_int(q, 3) != 0,
            .meta = 0,
            .value = (const char *)sqlite3_column_text(q, 2),
            .warning = (const char *)sqlite3_column_text(q, 4),
        };
        if (!c.value)
            continue;
        rc = cb(opaque, &c, &mc.m, meta);
    }
    if (rc == SQLITE_DONE)
        rc = 0;
    else if (rc > 0)
        rc = sql_err(s, db, rc, "loading intelligence");
    buf_free(&mc.strs);
    sqlite3_finalize(q);
    sqlite3_finalize(mq);
    return rc;
}

int store_intel_imports(struct store *s,
                        int (*cb)(void *opaque, const struct store_intel_import *imp), void *opaque)
{
    int rc = store_need_version(s, 2, "intelligence");
    sqlite3 *db;
    rc = rc ? rc : query_db(s, &db);
    sqlite3_stmt *q = NULL;
    rc = rc ? rc
            : prep(s, db, &q,
                   "SELECT id, time_ns, source, format, indicators, added, updated, removed,"
                   " problems, warned FROM intel_imports ORDER BY id");
    if (rc < 0)
        return rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct store_intel_import imp = {
            .id = sqlite3_column_int64(q, 0),
            .time_ns = sqlite3_column_int64(q, 1),
            .source = (const char *)sqlite3_column_text(q, 2),
            .format = (const char *)sqlite3_column_text(q, 3),
            .indicators = (uint64_t)sqlite3_column_int64(q, 4),
            .added = (uint64_t)sqlite3_column_int64(q, 5),
            .updated = (uint64_t)sqlite3_column_int64(q, 6),
            .removed = (uint64_t)sqlite3_column_int64(q, 7),
            .problems = (uint64_t)sqlite3_column_int64(q, 8),
            .warned = (uint64_t)sqlite3_column_int64(q, 9),
        };
        int e = cb(opaque, &imp);
        if (e < 0) {
            sqlite3_finalize(q);
            return e;
        }
    }
    int ret = rc == SQLITE_DONE ? 0 : sql_err(s, db, rc, "listing imports");
    sqlite3_finalize(q);
    return ret;
}

int64_t store_intel_count(struct store *s)
{
    int rc = store_need_version(s, 2, "intelligence");
    sqlite3 *db;
    rc = rc ? rc : query_db(s, &db);
    sqlite3_stmt *q = NULL;
    rc = rc ? rc : prep(s, db, &q, "SELECT count(*) FROM intel");
    if (rc < 0)
        return rc;
    int r = sqlite3_step(q);
    int64_t n = r == SQLITE_ROW ? sqlite3_column_int64(q, 0) : sql_err(s, db, r, "counting");
    sqlite3_finalize(q);
    return n;
}

/* ---- remove ------------------------------------------------------------------ */

static int remove_job(struct store *s, void *arg)
{
    int64_t id = *(int64_t *)arg;
    const char *doing = "removing an import";
    int rc = store_exec(s, s->db, "BEGIN IMMEDIATE", doing);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = prep(s, s->db, &st, "SELECT 1 FROM intel_imports WHERE id=?");
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, id);
        int r = sqlite3_step(st);
        rc = r == SQLITE_ROW ? 0
             : r == SQLITE_DONE
                 ? set_err(s, -ENOENT, "%s: no import %lld in the store", s->path, (long long)id)
                 : sql_err(s, s->db, r, doing);
        sqlite3_finalize(st);
    }
    static const char *const steps[] = {
        "CREATE TEMP TABLE IF NOT EXISTS intel_gone(meta INTEGER PRIMARY KEY)",
        "DELETE FROM temp.intel_gone",
        "INSERT OR IGNORE INTO temp.intel_gone SELECT meta FROM intel WHERE import=?1",
        "DELETE FROM intel WHERE import=?1",
        ("DELETE FROM intel_metas WHERE id IN (SELECT meta FROM temp.intel_gone) AND NOT EXISTS"
         " (SELECT 1 FROM intel WHERE intel.meta=intel_metas.id)"),
        "DELETE FROM intel_imports WHERE id=?1",
        "DELETE FROM temp.intel_gone",
    };
    for (size_t i = 0; rc == 0 && i < sizeof(steps) / sizeof(steps[0]); i++) {
        rc = prep(s, s->db, &st, steps[i]);
        if (rc < 0)
            break;
        if (sqlite3_bind_parameter_count(st))
            sqlite3_bind_int64(st, 1, id);
        rc = step_done(s, s->db, st, doing);
        sqlite3_finalize(st);
    }
    rc = rc ? rc : store_exec(s, s->db, "COMMIT", doing);
    if (rc < 0)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int store_intel_remove(struct store *s, int64_t import_id)
{
    int rc = store_need_version(s, 2, "intelligence");
    return rc ? rc : writer_run_job(s, remove_job, &import_id);
}

/* ---- state -------------------------------------------------------------------- */

struct state_job {
    const char *key, *value;
};

static int state_job(struct store *s, void *arg)
{
    struct state_job *j = arg;
    sqlite3_stmt *st;
    int rc = prep(s, s->db, &st,
                  j->value ? "INSERT OR REPLACE INTO state(key, value, updated_ns) VALUES(?,?,?)"
                           : "DELETE FROM state WHERE key=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, j->key, -1, SQLITE_STATIC);
    if (j->value) {
        sqlite3_bind_text(st, 2, j->value, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now_ns());
    }
    rc = step_done(s, s->db, st, "saving state"); /* autocommit: one transaction */
    sqlite3_finalize(st);
    return rc;
}

int store_state_set(struct store *s, const char *key, const char *value)
{
    int rc = store_need_version(s, 2, "state");
    struct state_job j = {key, value};
    return rc ? rc : writer_run_job(s, state_job, &j);
}

int store_state_get(struct store *s, const char *key, char **value)
{
    *value = NULL;
    int rc = store_need_version(s, 2, "state");
    sqlite3 *db;
    rc = rc ? rc : query_db(s, &db);
    sqlite3_stmt *st = NULL;
    rc = rc ? rc : prep(s, db, &st, "SELECT value FROM state WHERE key=?");
    if (rc < 0)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        *value = strdup(v ? v : "");
        rc = *value ? 0 : set_err(s, -ENOMEM, "out of memory");
    } else {
        rc = r == SQLITE_DONE ? -ENOENT : sql_err(s, db, r, "reading state");
    }
    sqlite3_finalize(st);
    return rc;
}

int64_t store_events_before_v2(struct store *s)
{
    char *v = NULL;
    int rc = store_state_get(s, "store.v1_last_event", &v);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    int64_t n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

void intel_finalize(struct store *s)
{
    (void)s; /* statements are prepared per call */
}
