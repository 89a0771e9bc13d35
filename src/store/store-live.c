/*
 * store-live.c - what the live daemon keeps in the store beside events:
 * alerts (the outputs' queue on disk), read offsets of tailed files, and
 * the outputs' cursors (see store.h, "live daemon").
 *
 * Schema 3 adds
 *   alerts(seq, id UNIQUE, ts, kind, rule_id, rule_name, level, doc,
 *          created_ns)        seq AUTOINCREMENT: never reused
 *   tail_offsets(dev, ino, fp, fplen, name, offset, line, updated_ns)
 *                             PRIMARY KEY(dev, ino)
 * and keeps cursors in the state table ("output.NAME.cursor"), as well as
 * the Sigma correlation engine's saved state ("sigma.correlation_state",
 * a BLOB: see sigma-corr.h), written in the commit transaction so that it
 * always matches the offsets saved with it.
 *
 * Writes run as jobs on the writer thread (writer_run_job), each in one
 * transaction: a commit of the daemon (alerts and offsets together) is
 * all or nothing. The caller syncs the store first, so the events the
 * offsets cover are committed before the offsets say so.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "output/output.h"
#include "store/store-private.h"
#include "store/store.h"

const char store_live_schema_v3[] =
    "CREATE TABLE alerts(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
    " ts INTEGER, kind TEXT NOT NULL, rule_id TEXT, rule_name TEXT, level TEXT,"
    " doc TEXT NOT NULL, created_ns INTEGER NOT NULL);"
    "CREATE TABLE tail_offsets(dev INTEGER NOT NULL, ino INTEGER NOT NULL,"
    " fp INTEGER NOT NULL, fplen INTEGER NOT NULL, name TEXT NOT NULL,"
    " offset INTEGER NOT NULL, line INTEGER NOT NULL, updated_ns INTEGER NOT NULL,"
    " PRIMARY KEY(dev, ino));";

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

struct commit_job {
    const struct store_alert *a;
    size_t na;
    const struct store_offset *o;
    size_t no;
    const void *state; /* NULL: unchanged */
    size_t nstate;
    const struct store_bl_rows *bl; /* baseline profiles and facts, or NULL */
    uint64_t added;
    uint64_t last_seq;
};

static int commit_job(struct store *s, void *arg)
{
    struct commit_job *j = arg;
    sqlite3_stmt *ins = NULL, *off = NULL, *last = NULL;
    /* with hold_events, the events of the alerts are in this transaction */
    int rc = store_txn_begin(s);
    if (rc < 0)
        return rc;
    int r = sqlite3_prepare_v2(s->db,
                               /* not INSERT OR IGNORE: a refused row would still
                                * take a seq, and seqs are to have no gaps */
                               "INSERT INTO alerts(id, ts, kind, rule_id, rule_name, level, doc,"
                               " created_ns) SELECT ?1,?2,?3,?4,?5,?6,?7,?8"
                               " WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE id=?1)",
                               -1, &ins, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_prepare_v2(s->db,
                               "INSERT OR REPLACE INTO tail_offsets(dev, ino, fp, fplen, name, "
                               "offset, line, updated_ns) VALUES(?,?,?,?,?,?,?,?)",
                               -1, &off, NULL);
    if (r == SQLITE_OK)
        r = sqlite3_prepare_v2(s->db, "SELECT coalesce(max(seq), 0) FROM alerts", -1, &last, NULL);
    if (r != SQLITE_OK)
        rc = sql_err(s, s->db, r, "saving alerts");
    int64_t now = wall_ns();
    for (size_t i = 0; rc == 0 && i < j->na; i++) {
        const struct store_alert *a = &j->a[i];
        sqlite3_bind_text(ins, 1, a->id, -1, SQLITE_STATIC);
        if (a->ts_ns == TIME_NONE)
            sqlite3_bind_null(ins, 2);
        else
            sqlite3_bind_int64(ins, 2, a->ts_ns);
        sqlite3_bind_text(ins, 3, a->kind && *a->kind ? a->kind : "unknown", -1, SQLITE_STATIC);
        bind_text(ins, 4, a->rule_id);
        bind_text(ins, 5, a->rule_name);
        bind_text(ins, 6, a->level);
        sqlite3_bind_text(ins, 7, a->json, (int)a->n, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 8, now);
        r = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (r != SQLITE_DONE)
            rc = sql_err(s, s->db, r, "saving alerts");
        else
            j->added += (uint64_t)sqlite3_changes(s->db);
    }
    for (size_t i = 0; rc == 0 && i < j->no; i++) {
        const struct store_offset *o = &j->o[i];
        sqlite3_bind_int64(off, 1, (int64_t)o->dev);
        sqlite3_bind_int64(off, 2, (int64_t)o->ino);
        sqlite3_bind_int64(off, 3, (int64_t)o->fp);
        sqlite3_bind_int64(off, 4, o->fplen);
        sqlite3_bind_text(off, 5, o->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(off, 6, (int64_t)o->offset);
        sqlite3_bind_int64(off, 7, (int64_t)o->line);
        sqlite3_bind_int64(off, 8, now);
        r = sqlite3_step(off);
        sqlite3_reset(off);
        if (r != SQLITE_DONE)
            rc = sql_err(s, s->db, r, "saving read offsets");
    }
    if (rc == 0 && j->state) {
        sqlite3_stmt *st = NULL;
        r = sqlite3_prepare_v2(s->db,
                               "INSERT OR REPLACE INTO state(key, value, updated_ns)"
                               " VALUES('" STORE_CORR_STATE_KEY "', ?, ?)",
                               -1, &st, NULL);
        if (r == SQLITE_OK) {
            sqlite3_bind_blob64(st, 1, j->state, j->nstate, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, now);
            r = sqlite3_step(st);
        }
        if (r != SQLITE_DONE)
            rc = sql_err(s, s->db, r, "saving the correlation state");
        sqlite3_finalize(st);
    }
    if (rc == 0 && j->bl)
        rc = store_baseline_write(s, j->bl);
    if (rc == 0) {
        r = sqlite3_step(last);
        if (r == SQLITE_ROW)
            j->last_seq = (uint64_t)sqlite3_column_int64(last, 0);
        else
            rc = sql_err(s, s->db, r, "saving alerts");
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(off);
    sqlite3_finalize(last);
    if (rc == 0)
        rc = store_txn_commit(s);
    if (rc < 0 && s->in_txn) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->in_txn = false;
    }
    return rc;
}

int store_live_commit(struct store *s, const struct store_alert *a, size_t na,
                      const struct store_offset *o, size_t no, uint64_t *added, uint64_t *last_seq)
{
    return store_live_commit_state(s, a, na, o, no, NULL, 0, added, last_seq);
}

int store_live_commit_state(struct store *s, const struct store_alert *a, size_t na,
                            const struct store_offset *o, size_t no, const void *state,
                            size_t nstate, uint64_t *added, uint64_t *last_seq)
{
    return store_live_commit_baseline(s, a, na, o, no, state, nstate, NULL, added, last_seq);
}

int store_live_commit_baseline(struct store *s, const struct store_alert *a, size_t na,
                               const struct store_offset *o, size_t no, const void *state,
                               size_t nstate, const struct store_bl_rows *bl, uint64_t *added,
                               uint64_t *last_seq)
{
    int rc = store_need_version(s, bl ? 4 : 3, "the live daemon");
    struct commit_job j = {a, na, o, no, state, nstate, bl, 0, 0};
    rc = rc ? rc : writer_run_job(s, commit_job, &j);
    if (added)
        *added = j.added;
    if (last_seq)
        *last_seq = j.last_seq;
    return rc;
}

/* Clean the writer's memory, then prove that a transaction commits. */
static int recover_job(struct store *s, void *arg)
{
    (void)arg;
    writer_forget_txn(s);
    int rc = writer_pending_recover(s);
    if (rc < 0) {
        writer_forget_txn(s);
        return rc;
    }
    rc = store_txn_begin(s);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(s->db,
                               "INSERT OR REPLACE INTO state(key, value, updated_ns)"
                               " VALUES('store.recovered', 'yes', ?)",
                               -1, &st, NULL);
    if (r == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, wall_ns());
        r = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (r != SQLITE_DONE)
        rc = sql_err(s, s->db, r, "trying a write");
    if (rc == 0)
        rc = store_txn_commit(s);
    if (rc < 0)
        writer_forget_txn(s);
    return rc;
}

int store_recover(struct store *s)
{
    if (!s->thread_started)
        return set_err(s, -EROFS, "%s: the store is open read-only", s->path);
    /* the writer drops what was queued after its error; wait for it */
    pthread_mutex_lock(&s->mu);
    while (s->qlen || s->busy)
        pthread_cond_wait(&s->cv_idle, &s->mu);
    int had = s->err;
    s->err = 0;
    pthread_mutex_unlock(&s->mu);
    int rc = writer_run_job(s, recover_job, NULL);
    if (rc < 0 && had) {
        /* keep refusing batches until a recovery succeeds */
        pthread_mutex_lock(&s->mu);
        if (!s->err)
            s->err = rc;
        memcpy(s->werrmsg, s->errmsg, sizeof(s->werrmsg));
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

int store_offsets_load(struct store *s, int (*cb)(void *opaque, const struct store_offset *o),
                       void *opaque)
{
    int rc = store_need_version(s, 3, "the live daemon");
    sqlite3 *db;
    rc = rc ? rc : query_db(s, &db);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st;
    int r = sqlite3_prepare_v2(
        db, "SELECT dev, ino, fp, fplen, name, offset, line FROM tail_offsets", -1, &st, NULL);
    if (r != SQLITE_OK)
        return sql_err(s, db, r, "reading read offsets");
    while ((r = sqlite3_step(st)) == SQLITE_ROW && rc == 0) {
        const char *name = (const char *)sqlite3_column_text(st, 4);
        struct store_offset o = {(uint64_t)sqlite3_column_int64(st, 0),
                                 (uint64_t)sqlite3_column_int64(st, 1),
                                 (uint64_t)sqlite3_column_int64(st, 2),
                                 (uint32_t)sqlite3_column_int64(st, 3),
                                 name ? name : "",
                                 (uint64_t)sqlite3_column_int64(st, 5),
                                 (uint64_t)sqlite3_column_int64(st, 6)};
        rc = cb(opaque, &o);
    }
    if (rc == 0 && r != SQLITE_DONE && r != SQLITE_ROW)
        rc = sql_err(s, db, r, "reading read offsets");
    sqlite3_finalize(st);
    return rc;
}

int store_corr_state_get(struct store *s, void **data, size_t *n)
{
    *data = NULL;
    *n = 0;
    int rc = store_need_version(s, 3, "the live daemon");
    sqlite3 *db;
    rc = rc ? rc : query_db(s, &db);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st;
    int r = sqlite3_prepare_v2(db, "SELECT value FROM state WHERE key='" STORE_CORR_STATE_KEY "'",
                               -1, &st, NULL);
    if (r != SQLITE_OK)
        return sql_err(s, db, r, "reading the correlation state");
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        *data = malloc(len ? len : 1);
        if (!*data) {
            rc = set_err(s, -ENOMEM, "out of memory");
        } else {
            if (len)
                memcpy(*data, p, len);
            *n = len;
        }
    } else {
        rc = r == SQLITE_DONE ? -ENOENT : sql_err(s, db, r, "reading the correlation state");
    }
    sqlite3_finalize(st);
    return rc;
}

int store_cursor_get(struct store *s, const char *output, uint64_t *seq)
{
    char key[300];
    snprintf(key, sizeof(key), "output.%s.cursor", output);
    char *v = NULL;
    *seq = 0;
    int rc = store_state_get(s, key, &v);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    *seq = strtoull(v, NULL, 10);
    free(v);
    return 0;
}

int store_cursor_set(struct store *s, const char *output, uint64_t seq)
{
    char key[300], val[32];
    snprintf(key, sizeof(key), "output.%s.cursor", output);
    snprintf(val, sizeof(val), "%llu", (unsigned long long)seq);
    return store_state_set(s, key, val);
}

/* ---- alert readers: one connection per delivery thread ---------------- */

struct store_alert_reader {
    sqlite3 *db;
    sqlite3_stmt *next;
    char err[512];
};

int store_alert_reader_open(const char *path, struct store_alert_reader **out)
{
    struct store_alert_reader *r = calloc(1, sizeof(*r));
    *out = r;
    if (!r)
        return -ENOMEM;
    int rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(r->db, 5000);
        rc = sqlite3_prepare_v2(r->db,
                                "SELECT seq, ts, id, kind, rule_id, rule_name, level, doc FROM "
                                "alerts WHERE seq > ? ORDER BY seq LIMIT ?",
                                -1, &r->next, NULL);
    }
    if (rc != SQLITE_OK) {
        snprintf(r->err, sizeof(r->err), "%s: %s", path,
                 r->db ? sqlite3_errmsg(r->db) : "out of memory");
        return -EIO;
    }
    return 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    return v ? v : "";
}

int store_alert_reader_next(struct store_alert_reader *r, uint64_t after, size_t max,
                            int (*cb)(void *opaque, const struct alert_msg *a), void *opaque)
{
    sqlite3_bind_int64(r->next, 1, (int64_t)after);
    sqlite3_bind_int64(r->next, 2, (int64_t)max);
    int n = 0, rc = 0, s;
    while ((s = sqlite3_step(r->next)) == SQLITE_ROW) {
        struct alert_msg a = {(uint64_t)sqlite3_column_int64(r->next, 0),
                              sqlite3_column_type(r->next, 1) == SQLITE_NULL
                                  ? TIME_NONE
                                  : sqlite3_column_int64(r->next, 1),
                              col_text(r->next, 2),
                              col_text(r->next, 3),
                              col_text(r->next, 4),
                              col_text(r->next, 5),
                              col_text(r->next, 6),
                              col_text(r->next, 7),
                              (size_t)sqlite3_column_bytes(r->next, 7)};
        rc = cb(opaque, &a);
        if (rc < 0)
            break;
        n++;
    }
    if (rc == 0 && s != SQLITE_DONE && s != SQLITE_ROW) {
        snprintf(r->err, sizeof(r->err), "reading alerts: %s", sqlite3_errmsg(r->db));
        rc = -EIO;
    }
    sqlite3_reset(r->next);
    return rc < 0 ? rc : n;
}

const char *store_alert_reader_errmsg(const struct store_alert_reader *r)
{
    return r ? r->err : "out of memory";
}

void store_alert_reader_close(struct store_alert_reader *r)
{
    if (!r)
        return;
    sqlite3_finalize(r->next);
    sqlite3_close(r->db);
    free(r);
}

int64_t store_alert_count(struct store *s)
{
    int rc = store_need_version(s, 3, "alerts");
    sqlite3 *db;
    rc = rc ? rc : query_db(s, &db);
    if (rc < 0)
        return rc;
    sqlite3_stmt *st;
    int r = sqlite3_prepare_v2(db, "SELECT count(*) FROM alerts", -1, &st, NULL);
    if (r != SQLITE_OK)
        return sql_err(s, db, r, "counting alerts");
    r = sqlite3_step(st);
    int64_t n = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -EIO;
    sqlite3_finalize(st);
    return n;
}
