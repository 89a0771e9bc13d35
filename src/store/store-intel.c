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
 * Writes run as writer jobs (store-sqlite.c): the whole batch in one
 * transaction on the writer's connection, between event transactions, so
 * a concurrent event stream neither blocks on SQLite's lock nor fails with
 * SQLITE_BUSY. Reads use the query connection. Loading streams rows; a
 * metadata record is read only when the next indicator names another one.
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

struct import_job {
    const struct ioc_batch *b;
    int64_t id;
    struct store_intel_import counts;
};

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
                   " removed, problems, warned) VALUES(?,?,?,0,0,0,0,0,0)",
    [ST_IMP_UPD] = "UPDATE intel_imports SET indicators=?, added=?, updated=?, removed=?,"
                   " problems=?, warned=? WHERE id=?",
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

static int import_run(struct store *s, struct import_job *j, sqlite3_stmt **st, int64_t *meta_ids,
                      bool *meta_old, const size_t *per_meta)
{
    sqlite3 *db = s->db;
    const struct ioc_batch *b = j->b;
    const char *doing = "importing intelligence";
    int rc = 0;
    for (int k = 0; k < ST__N && rc == 0; k++)
        rc = prep(s, db, &st[k], import_sql[k]);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st[ST_IMP_PUT], 1, now_ns());
    sqlite3_bind_text(st[ST_IMP_PUT], 2, b->source ? b->source : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st[ST_IMP_PUT], 3, b->format ? b->format : "", -1, SQLITE_STATIC);
    rc = step_done(s, db, st[ST_IMP_PUT], doing);
    if (rc < 0)
        return rc;
    j->id = sqlite3_last_insert_rowid(db);

    /* the metadata records: update the known ones, add the new ones that
     * have indicators */
    for (uint32_t m = 0; m < b->nmetas && rc == 0; m++) {
        const struct ioc_meta *mm = &b->metas[m];
        sqlite3_stmt *g = st[ST_META_GET];
        sqlite3_bind_text(g, 1, mm->feed ? mm->feed : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(g, 2, mm->ref ? mm->ref : "", -1, SQLITE_STATIC);
        int r = sqlite3_step(g);
        meta_ids[m] = r == SQLITE_ROW ? sqlite3_column_int64(g, 0) : 0;
        sqlite3_reset(g);
        if (r != SQLITE_ROW && r != SQLITE_DONE)
            return sql_err(s, db, r, doing);
        meta_old[m] = meta_ids[m] != 0;
        if (meta_old[m]) {
            bind_meta(st[ST_META_UPD], j->id, mm);
            rc = step_done(s, db, st[ST_META_UPD], doing);
        } else if (per_meta[m]) {
            bind_meta(st[ST_META_PUT], j->id, mm);
            rc = step_done(s, db, st[ST_META_PUT], doing);
            meta_ids[m] = sqlite3_last_insert_rowid(db);
        }
    }
    uint64_t warned = 0;
    sqlite3_stmt *ip = st[ST_IOC_PUT];
    sqlite3_bind_int64(ip, 1, j->id);
    for (size_t i = 0; i < b->niocs && rc == 0; i++) {
        const struct ioc *c = &b->iocs[i];
        if (c->meta >= b->nmetas || !c->value)
            continue; /* a reader's bug: no record to hang it on */
        sqlite3_bind_int64(ip, 2, meta_ids[c->meta]);
        sqlite3_bind_text(ip, 3, ioc_type_name(c->type), -1, SQLITE_STATIC);
        sqlite3_bind_text(ip, 4, c->value, -1, SQLITE_STATIC);
        sqlite3_bind_int(ip, 5, c->detect);
        bind_text_or_null(ip, 6, c->warning);
        rc = step_done(s, db, ip, doing);
        warned += c->warning != NULL;
    }
    /* a re-imported record keeps only what it holds now */
    for (uint32_t m = 0; m < b->nmetas && rc == 0; m++) {
        if (!meta_old[m])
            continue;
        sqlite3_bind_int64(st[ST_STALE], 1, meta_ids[m]);
        sqlite3_bind_int64(st[ST_STALE], 2, j->id);
        rc = step_done(s, db, st[ST_STALE], doing);
        j->counts.removed += (uint64_t)sqlite3_changes(db);
        if (rc == 0 && !per_meta[m]) {
            sqlite3_bind_int64(st[ST_META_EMPTY], 1, meta_ids[m]);
            rc = step_done(s, db, st[ST_META_EMPTY], doing);
        }
    }
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(st[ST_COUNT], 1, j->id);
    int r = sqlite3_step(st[ST_COUNT]);
    uint64_t total = 0, added = 0;
    if (r == SQLITE_ROW) {
        total = (uint64_t)sqlite3_column_int64(st[ST_COUNT], 0);
        added = (uint64_t)sqlite3_column_int64(st[ST_COUNT], 1);
    }
    sqlite3_reset(st[ST_COUNT]);
    if (r != SQLITE_ROW)
        return sql_err(s, db, r, doing);
    j->counts.id = j->id;
    j->counts.indicators = b->niocs;
    j->counts.added = added;
    j->counts.updated = total - added;
    j->counts.problems = b->nproblems + b->nproblems_dropped;
    j->counts.warned = warned;
    sqlite3_stmt *u = st[ST_IMP_UPD];
    sqlite3_bind_int64(u, 1, (int64_t)j->counts.indicators);
    sqlite3_bind_int64(u, 2, (int64_t)j->counts.added);
    sqlite3_bind_int64(u, 3, (int64_t)j->counts.updated);
    sqlite3_bind_int64(u, 4, (int64_t)j->counts.removed);
    sqlite3_bind_int64(u, 5, (int64_t)j->counts.problems);
    sqlite3_bind_int64(u, 6, (int64_t)j->counts.warned);
    sqlite3_bind_int64(u, 7, j->id);
    return step_done(s, db, u, doing);
}

static int import_job(struct store *s, void *arg)
{
    struct import_job *j = arg;
    const struct ioc_batch *b = j->b;
    int64_t *meta_ids = calloc(b->nmetas + 1, sizeof(*meta_ids));
    bool *meta_old = calloc(b->nmetas + 1, sizeof(*meta_old));
    size_t *per_meta = calloc(b->nmetas + 1, sizeof(*per_meta));
    if (!meta_ids || !meta_old || !per_meta) {
        free(meta_ids);
        free(meta_old);
        free(per_meta);
        return set_err(s, -ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < b->niocs; i++)
        if (b->iocs[i].meta < b->nmetas)
            per_meta[b->iocs[i].meta]++;
    sqlite3_stmt *st[ST__N] = {0};
    int rc = store_exec(s, s->db, "BEGIN IMMEDIATE", "importing intelligence");
    if (rc == 0) {
        rc = import_run(s, j, st, meta_ids, meta_old, per_meta);
        for (int k = 0; k < ST__N; k++)
            sqlite3_finalize(st[k]);
        rc = rc ? rc : store_exec(s, s->db, "COMMIT", "importing intelligence");
        if (rc < 0)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    free(meta_ids);
    free(meta_old);
    free(per_meta);
    return rc;
}

int store_intel_import(struct store *s, const struct ioc_batch *b, int64_t *import_id,
                       struct store_intel_import *counts)
{
    int rc = store_need_version(s, 2, "keeping intelligence");
    if (rc < 0)
        return rc;
    struct import_job j = {.b = b};
    rc = writer_run_job(s, import_job, &j);
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
