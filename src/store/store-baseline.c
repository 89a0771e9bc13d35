/*
 * store-baseline.c - what the baseline engine keeps in the store: the
 * modules' profiles and the facts timeline (see store.h, "baselines", and
 * src/baseline/baseline.h).
 *
 * Schema 4 adds
 *   bl_profiles(kind, entity, module, blob, updated)
 *                   PRIMARY KEY(kind, entity, module), WITHOUT ROWID: one
 *                   row per module and entity, replaced at every save
 *   bl_facts(id, ts, kind, entity, detector, feature, value, score, text,
 *            event, doc)
 *                   UNIQUE(kind, entity, ts, detector, feature, event):
 *                   the timeline, read newest first per entity
 * Profiles are opaque blobs: each module writes its own versioned format
 * and refuses what it cannot read, so the store never interprets them.
 *
 * Writes run on the writer thread: store_baseline_save() as a job of its
 * own (one transaction), store_live_commit_baseline() inside the live
 * daemon's commit transaction (store-live.c calls store_baseline_write).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store-private.h"
#include "store/store.h"

const char store_baseline_schema_v4[] =
    "CREATE TABLE bl_profiles(kind TEXT NOT NULL, entity TEXT NOT NULL, module TEXT NOT NULL,"
    " blob BLOB NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY(kind, entity, module))"
    " WITHOUT ROWID;"
    "CREATE TABLE bl_facts(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,"
    " entity TEXT NOT NULL, detector TEXT NOT NULL, feature TEXT NOT NULL, value TEXT,"
    " score REAL NOT NULL, text TEXT NOT NULL, event INTEGER NOT NULL, doc TEXT NOT NULL);"
    "CREATE UNIQUE INDEX bl_facts_entity ON bl_facts(kind, entity, ts, detector, feature,"
    " event);";

static const char *nn(const char *s)
{
    return s ? s : "";
}

int store_baseline_write(struct store *s, const struct store_bl_rows *r)
{
    if (!r || (!r->np && !r->nf))
        return 0;
    sqlite3_stmt *pp = NULL, *fp = NULL;
    int rc = 0;
    int q = sqlite3_prepare_v2(s->db,
                               "INSERT OR REPLACE INTO bl_profiles(kind, entity, module, blob,"
                               " updated) VALUES(?,?,?,?,?)",
                               -1, &pp, NULL);
    if (q == SQLITE_OK)
        q = sqlite3_prepare_v2(s->db,
                               "INSERT OR IGNORE INTO bl_facts(ts, kind, entity, detector, "
                               "feature, value, score, text, event, doc)"
                               " VALUES(?,?,?,?,?,?,?,?,?,?)",
                               -1, &fp, NULL);
    if (q != SQLITE_OK)
        rc = sql_err(s, s->db, q, "saving baselines");
    for (size_t i = 0; rc == 0 && i < r->np; i++) {
        const struct store_bl_profile *p = &r->p[i];
        sqlite3_bind_text(pp, 1, nn(p->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(pp, 2, nn(p->entity), -1, SQLITE_STATIC);
        sqlite3_bind_text(pp, 3, nn(p->module), -1, SQLITE_STATIC);
        sqlite3_bind_blob64(pp, 4, p->n ? p->blob : "", p->n, SQLITE_STATIC);
        sqlite3_bind_int64(pp, 5, p->updated);
        q = sqlite3_step(pp);
        sqlite3_reset(pp);
        if (q != SQLITE_DONE)
            rc = sql_err(s, s->db, q, "saving baseline profiles");
    }
    for (size_t i = 0; rc == 0 && i < r->nf; i++) {
        const struct store_bl_fact *f = &r->f[i];
        sqlite3_bind_int64(fp, 1, f->ts_ns);
        sqlite3_bind_text(fp, 2, nn(f->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(fp, 3, nn(f->entity), -1, SQLITE_STATIC);
        sqlite3_bind_text(fp, 4, nn(f->detector), -1, SQLITE_STATIC);
        sqlite3_bind_text(fp, 5, nn(f->feature), -1, SQLITE_STATIC);
        if (f->value)
            sqlite3_bind_text(fp, 6, f->value, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(fp, 6);
        sqlite3_bind_double(fp, 7, f->score);
        sqlite3_bind_text(fp, 8, nn(f->text), -1, SQLITE_STATIC);
        sqlite3_bind_int64(fp, 9, (int64_t)f->event_id);
        sqlite3_bind_text(fp, 10, f->json ? f->json : "{}", -1, SQLITE_STATIC);
        q = sqlite3_step(fp);
        sqlite3_reset(fp);
        if (q != SQLITE_DONE)
            rc = sql_err(s, s->db, q, "saving baseline facts");
    }
    sqlite3_finalize(pp);
    sqlite3_finalize(fp);
    return rc;
}

static int save_job(struct store *s, void *arg)
{
    int rc = store_txn_begin(s);
    if (rc < 0)
        return rc;
    rc = store_baseline_write(s, arg);
    if (rc == 0)
        rc = store_txn_commit(s);
    if (rc < 0 && s->in_txn) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->in_txn = false;
    }
    return rc;
}

int store_baseline_save(struct store *s, const struct store_bl_rows *r)
{
    int rc = store_need_version(s, 4, "baselines");
    return rc ? rc : writer_run_job(s, save_job, (void *)r);
}

/* ---- reading ------------------------------------------------------------- */

/* sql prepared on the query connection into *st: 0, 1 when the store is
 * older than schema 4 (it holds no baselines: nothing to read), or a
 * negative errno naming what was being done. */
static int reader(struct store *s, const char *sql, const char *doing, sqlite3 **db,
                  sqlite3_stmt **st)
{
    if (store_schema_version(s) < 4)
        return 1;
    int rc = query_db(s, db);
    if (rc < 0)
        return rc;
    int q = sqlite3_prepare_v2(*db, sql, -1, st, NULL);
    return q == SQLITE_OK ? 0 : sql_err(s, *db, q, doing);
}

static const char *col(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? v : "";
}

/* Bind the optional filters ?1 (kind) and ?2 (entity): NULL matches any. */
static void bind_filter(sqlite3_stmt *st, const char *kind, const char *entity)
{
    if (kind)
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    if (entity)
        sqlite3_bind_text(st, 2, entity, -1, SQLITE_STATIC);
}

int store_baseline_profiles(struct store *s, const char *kind, const char *entity,
                            int (*cb)(void *opaque, const struct store_bl_profile *p), void *opaque)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = reader(s,
                    "SELECT module, kind, entity, blob, updated FROM bl_profiles"
                    " WHERE (?1 IS NULL OR kind=?1) AND (?2 IS NULL OR entity=?2"
                    " OR entity GLOB '(*')"
                    " ORDER BY kind, entity, module",
                    "reading baseline profiles", &db, &st);
    if (rc)
        return rc > 0 ? 0 : rc;
    int q = SQLITE_DONE;
    bind_filter(st, kind, entity);
    while (rc == 0 && (q = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_bl_profile p = {col(st, 0),
                                     col(st, 1),
                                     col(st, 2),
                                     sqlite3_column_blob(st, 3),
                                     (size_t)sqlite3_column_bytes(st, 3),
                                     sqlite3_column_int64(st, 4)};
        rc = cb(opaque, &p);
    }
    if (rc == 0 && q != SQLITE_DONE)
        rc = sql_err(s, db, q, "reading baseline profiles");
    sqlite3_finalize(st);
    return rc;
}

int store_baseline_facts(struct store *s, const char *kind, const char *entity, size_t limit,
                         int (*cb)(void *opaque, const struct store_bl_fact *f), void *opaque)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = reader(
        s,
        "SELECT * FROM (SELECT ts, kind, entity, detector, feature, value, score, text, event,"
        " doc, id FROM bl_facts WHERE (?1 IS NULL OR kind=?1) AND (?2 IS NULL OR entity=?2)"
        " ORDER BY ts DESC, id DESC LIMIT ?3) ORDER BY ts, id",
        "reading baseline facts", &db, &st);
    if (rc)
        return rc > 0 ? 0 : rc;
    int q = SQLITE_DONE;
    bind_filter(st, kind, entity);
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);
    while (rc == 0 && (q = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_bl_fact f = {sqlite3_column_int64(st, 0),
                                  col(st, 1),
                                  col(st, 2),
                                  col(st, 3),
                                  col(st, 4),
                                  (const char *)sqlite3_column_text(st, 5),
                                  sqlite3_column_double(st, 6),
                                  col(st, 7),
                                  (uint64_t)sqlite3_column_int64(st, 8),
                                  col(st, 9)};
        rc = cb(opaque, &f);
    }
    if (rc == 0 && q != SQLITE_DONE)
        rc = sql_err(s, db, q, "reading baseline facts");
    sqlite3_finalize(st);
    return rc;
}

/* A fact held while reading back: its row's strings, owned. */
struct held_fact {
    struct store_bl_fact f;
    int64_t id;
    char *str[7];
};

static int cmp_held(const void *a, const void *b)
{
    const struct held_fact *x = a, *y = b;
    if (x->f.ts_ns != y->f.ts_ns)
        return x->f.ts_ns < y->f.ts_ns ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int store_baseline_recent_facts(struct store *s, int64_t window_ns,
                                int (*cb)(void *opaque, const struct store_bl_fact *f),
                                void *opaque)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = reader(s,
                    "SELECT ts, kind, entity, detector, feature, value, score, text,"
                    " event, doc, id FROM bl_facts ORDER BY id DESC",
                    "reading baseline facts", &db, &st);
    if (rc)
        return rc > 0 ? 0 : rc;
    int q = SQLITE_DONE;
    struct held_fact *v = NULL;
    size_t n = 0, cap = 0;
    int64_t newest = INT64_MIN;
    while (rc == 0 && (q = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
            continue;
        int64_t ts = sqlite3_column_int64(st, 0);
        if (ts > newest)
            newest = ts;
        if (ts < newest - 2 * window_ns)
            break; /* older than anything still to stack with */
        if (ts < newest - window_ns)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct held_fact *nv = realloc(v, cap * sizeof(*nv));
            if (!nv) {
                rc = set_err(s, -ENOMEM, "out of memory");
                break;
            }
            v = nv;
        }
        struct held_fact *h = &v[n++];
        memset(h, 0, sizeof(*h));
        static const int cols[7] = {1, 2, 3, 4, 5, 7, 9};
        for (int k = 0; k < 7; k++) {
            const char *c = (const char *)sqlite3_column_text(st, cols[k]);
            if (c && !(h->str[k] = strdup(c)))
                rc = set_err(s, -ENOMEM, "out of memory");
        }
        h->f = (struct store_bl_fact){ts,
                                      h->str[0],
                                      h->str[1],
                                      h->str[2],
                                      h->str[3],
                                      h->str[4],
                                      sqlite3_column_double(st, 6),
                                      h->str[5],
                                      (uint64_t)sqlite3_column_int64(st, 8),
                                      h->str[6]};
        h->id = sqlite3_column_int64(st, 10);
    }
    if (rc == 0 && q != SQLITE_DONE && q != SQLITE_ROW)
        rc = sql_err(s, db, q, "reading baseline facts");
    sqlite3_finalize(st);
    /* newest - window may have risen after a fact was kept */
    if (n)
        qsort(v, n, sizeof(*v), cmp_held);
    for (size_t i = 0; i < n && rc == 0; i++)
        if (v[i].f.ts_ns >= newest - window_ns)
            rc = cb(opaque, &v[i].f);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 7; k++)
            free(v[i].str[k]);
    free(v);
    return rc;
}

int store_baseline_entities(struct store *s, const char *kind,
                            int (*cb)(void *opaque, const struct store_bl_entity *e), void *opaque)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc =
        reader(s,
               "SELECT kind, entity, group_concat(module), sum(facts), max(updated) FROM ("
               " SELECT kind, entity, module, 0 AS facts, updated FROM bl_profiles"
               "  WHERE ?1 IS NULL OR kind=?1"
               " UNION ALL SELECT kind, entity, NULL, count(*), max(ts) / 1000000000 FROM bl_facts"
               "  WHERE ?1 IS NULL OR kind=?1 GROUP BY kind, entity)"
               " GROUP BY kind, entity ORDER BY kind, entity",
               "listing baseline entities", &db, &st);
    if (rc)
        return rc > 0 ? 0 : rc;
    int q = SQLITE_DONE;
    bind_filter(st, kind, NULL);
    while (rc == 0 && (q = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_bl_entity e = {col(st, 0), col(st, 1), col(st, 2),
                                    (uint64_t)sqlite3_column_int64(st, 3),
                                    sqlite3_column_int64(st, 4)};
        rc = cb(opaque, &e);
    }
    if (rc == 0 && q != SQLITE_DONE)
        rc = sql_err(s, db, q, "listing baseline entities");
    sqlite3_finalize(st);
    return rc;
}
