/* Unit tests for the store's intelligence and state tables and the
 * migration from schema 1: import, load, list, remove, re-import without
 * duplicates, one transaction per import (a size limit stands in for a full
 * disk), imports beside the event writer, state, a schema 1 store written
 * with the old statements. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "intel/ioc.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/timeconv.h"

struct fx {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/kenchi-test-intel-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/k.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static struct store *open_store(struct fx *f, const struct store_opts *o)
{
    struct store *s = NULL;
    if (store_open(f->path, o, &s) < 0)
        fail_msg("store_open: %s", store_errmsg(s));
    return s;
}

static struct store *open_ro(struct fx *f)
{
    struct store_opts o;
    store_opts_default(&o);
    o.read_only = true;
    return open_store(f, &o);
}

static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

/* A feed file with two records: a STIX-like indicator (ref, validity,
 * related) with two values, and a list record with three (one
 * warning-listed, one not for detection). */
static void feed_batch(struct ioc_batch *b, const char *feed)
{
    ioc_batch_init(b, feed, "stix");
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = feed;
    m.ref = "indicator--0001";
    m.name = "spray infrastructure";
    m.confidence = 80;
    m.tlp = TLP_AMBER;
    m.valid_from = time_from_utc(2024, 3, 1, 0, 0, 0, 0);
    m.valid_until = time_from_utc(2024, 4, 1, 0, 0, 0, 0);
    m.labels_json = "[\"malicious-activity\"]";
    m.related_json = "[\"APT-Test\",\"Backdoor X\"]";
    uint32_t m0 = ioc_batch_add_meta(b, &m);
    ioc_meta_init(&m);
    m.feed = feed;
    uint32_t m1 = ioc_batch_add_meta(b, &m);
    assert_int_equal(ioc_batch_add(b, IOC_IP, "203.0.113.66", 12, m0, true, "f:1"), 0);
    assert_int_equal(ioc_batch_add(b, IOC_DOMAIN, "Evil.Example.", 13, m0, true, "f:2"), 0);
    assert_int_equal(ioc_batch_add(b, IOC_IP, "8.8.8.8", 7, m1, true, "f:3"), 0);
    b->iocs[b->niocs - 1].warning = ioc_batch_strdup(b, "public DNS resolvers");
    assert_int_equal(ioc_batch_add(b, IOC_EMAIL, "x@evil.example", 14, m1, false, "f:4"), 0);
    assert_int_equal(
        ioc_batch_add(b, IOC_SHA256,
                      "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", 64, m1,
                      true, "f:5"),
        0);
    /* a reader's problem is counted, not stored */
    assert_int_equal(ioc_batch_add(b, IOC_IP, "999.1.1.1", 9, m1, true, "f:6"), -EINVAL);
}

struct loaded {
    int n;
    char rows[16][200];
    int64_t meta_ids[16];
};

static int collect(void *opaque, const struct ioc *c, const struct ioc_meta *m, int64_t meta_id)
{
    struct loaded *l = opaque;
    if (l->n < 16) {
        snprintf(l->rows[l->n], sizeof(l->rows[0]), "%s %s %d %s | %s %s %s %d %s %lld %lld %d %s",
                 ioc_type_name(c->type), c->value, c->detect, c->warning ? c->warning : "-",
                 m->feed, m->ref ? m->ref : "-", m->name ? m->name : "-", m->confidence,
                 tlp_name(m->tlp), (long long)m->valid_from, (long long)m->valid_until, m->revoked,
                 m->related_json ? m->related_json : "-");
        l->meta_ids[l->n] = meta_id;
    }
    l->n++;
    return 0;
}

static bool has_row(const struct loaded *l, const char *prefix)
{
    for (int i = 0; i < l->n && i < 16; i++)
        if (!strncmp(l->rows[i], prefix, strlen(prefix)))
            return true;
    return false;
}

static void test_import_load_list(void **state)
{
    struct fx *f = *state;
    struct store *s = open_store(f, NULL);
    struct ioc_batch b;
    feed_batch(&b, "feeds/partner.json");
    int64_t id = 0;
    struct store_intel_import c;
    assert_int_equal(store_intel_import(s, &b, &id, &c), 0);
    assert_true(id > 0);
    assert_int_equal(c.indicators, 5);
    assert_int_equal(c.added, 5);
    assert_int_equal(c.updated, 0);
    assert_int_equal(c.removed, 0);
    assert_int_equal(c.problems, 1);
    assert_int_equal(c.warned, 1);
    assert_int_equal(store_intel_count(s), 5);

    struct loaded l = {0};
    assert_int_equal(store_intel_load(s, 0, collect, &l), 0);
    assert_int_equal(l.n, 5);
    char want[256];
    snprintf(want, sizeof(want),
             "ip 203.0.113.66 1 - | feeds/partner.json indicator--0001 spray infrastructure 80 "
             "TLP:AMBER %lld %lld 0 [\"APT-Test\",\"Backdoor X\"]",
             (long long)time_from_utc(2024, 3, 1, 0, 0, 0, 0),
             (long long)time_from_utc(2024, 4, 1, 0, 0, 0, 0));
    assert_true(has_row(&l, want));
    assert_true(has_row(&l, "domain evil.example 1 -"));
    assert_true(has_row(&l, "ip 8.8.8.8 1 public DNS resolvers | feeds/partner.json - - -1  "));
    assert_true(has_row(&l, "email x@evil.example 0 -"));
    assert_true(
        has_row(&l, "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    /* the two values of one record share its id */
    assert_true(l.meta_ids[0] == l.meta_ids[1]);
    assert_true(l.meta_ids[0] != l.meta_ids[2]);

    struct loaded l2 = {0};
    assert_int_equal(store_intel_load(s, id, collect, &l2), 0);
    assert_int_equal(l2.n, 5);
    assert_int_equal(store_intel_load(s, id + 100, collect, &l2), -ENOENT);
    ioc_batch_free(&b);
    assert_int_equal(store_close(s), 0);

    /* read-only: readable, not writable */
    s = open_ro(f);
    struct loaded l3 = {0};
    assert_int_equal(store_intel_load(s, 0, collect, &l3), 0);
    assert_int_equal(l3.n, 5);
    feed_batch(&b, "x");
    assert_int_equal(store_intel_import(s, &b, NULL, NULL), -EROFS);
    assert_int_equal(store_state_set(s, "k", "v"), -EROFS);
    ioc_batch_free(&b);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM intel_imports"), 1);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM intel_metas"), 2);
}

static int count_imports(void *opaque, const struct store_intel_import *imp)
{
    int *n = opaque;
    (*n)++;
    assert_non_null(imp->source);
    return 0;
}

static void test_reimport_no_duplicates(void **state)
{
    struct fx *f = *state;
    struct store *s = open_store(f, NULL);
    struct ioc_batch b;
    feed_batch(&b, "feeds/partner.json");
    int64_t id1, id2, id3;
    struct store_intel_import c;
    assert_int_equal(store_intel_import(s, &b, &id1, &c), 0);
    /* the same feed again: nothing new, everything refreshed */
    assert_int_equal(store_intel_import(s, &b, &id2, &c), 0);
    assert_int_equal(c.added, 0);
    assert_int_equal(c.updated, 5);
    assert_int_equal(c.removed, 0);
    assert_int_equal(store_intel_count(s), 5);
    /* what import 1 brought now belongs to import 2 */
    struct loaded l = {0};
    assert_int_equal(store_intel_load(s, id1, collect, &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(store_intel_load(s, id2, collect, &l), 0);
    assert_int_equal(l.n, 5);
    ioc_batch_free(&b);

    /* the record changed: a value dropped, one added, validity moved */
    ioc_batch_init(&b, "feeds/partner.json", "stix");
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = "feeds/partner.json";
    m.ref = "indicator--0001";
    m.name = "spray infrastructure (revised)";
    m.valid_until = time_from_utc(2024, 5, 1, 0, 0, 0, 0);
    m.revoked = true;
    uint32_t m0 = ioc_batch_add_meta(&b, &m);
    assert_int_equal(ioc_batch_add(&b, IOC_IP, "203.0.113.66", 12, m0, true, NULL), 0);
    assert_int_equal(ioc_batch_add(&b, IOC_IP, "203.0.113.67", 12, m0, true, NULL), 0);
    assert_int_equal(store_intel_import(s, &b, &id3, &c), 0);
    assert_int_equal(c.added, 1);
    assert_int_equal(c.updated, 1);
    assert_int_equal(c.removed, 1); /* evil.example */
    assert_int_equal(store_intel_count(s), 5);
    memset(&l, 0, sizeof(l));
    assert_int_equal(store_intel_load(s, id3, collect, &l), 0);
    assert_int_equal(l.n, 2);
    assert_true(has_row(&l, "ip 203.0.113.66 1 - | feeds/partner.json indicator--0001 spray "
                            "infrastructure (revised) -1  "));
    assert_non_null(strstr(l.rows[0], " 1 -")); /* revoked */
    ioc_batch_free(&b);

    /* the same value under another feed is another indicator */
    feed_batch(&b, "feeds/other.json");
    assert_int_equal(store_intel_import(s, &b, NULL, &c), 0);
    assert_int_equal(c.added, 5);
    assert_int_equal(store_intel_count(s), 10);
    ioc_batch_free(&b);
    int n = 0;
    assert_int_equal(store_intel_imports(s, count_imports, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM intel WHERE value='203.0.113.66'"), 2);
}

static void test_remove(void **state)
{
    struct fx *f = *state;
    struct store *s = open_store(f, NULL);
    struct ioc_batch a, b;
    feed_batch(&a, "feeds/a.json");
    feed_batch(&b, "feeds/b.json");
    int64_t ida, idb;
    assert_int_equal(store_intel_import(s, &a, &ida, NULL), 0);
    assert_int_equal(store_intel_import(s, &b, &idb, NULL), 0);
    assert_int_equal(store_intel_count(s), 10);
    assert_int_equal(store_intel_remove(s, ida), 0);
    assert_int_equal(store_intel_count(s), 5);
    assert_int_equal(store_intel_remove(s, ida), -ENOENT);
    assert_non_null(strstr(store_errmsg(s), "no import"));
    struct loaded l = {0};
    assert_int_equal(store_intel_load(s, 0, collect, &l), 0);
    assert_int_equal(l.n, 5);
    assert_non_null(strstr(l.rows[0], "feeds/b.json"));
    ioc_batch_free(&a);
    ioc_batch_free(&b);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM intel_metas"), 2);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM intel_imports"), 1);
}

static void test_state(void **state)
{
    struct fx *f = *state;
    struct store *s = open_store(f, NULL);
    char *v = NULL;
    assert_int_equal(store_state_get(s, "taxii:https://x/c1", &v), -ENOENT);
    assert_null(v);
    assert_int_equal(store_state_set(s, "taxii:https://x/c1", "2024-03-01T00:00:00Z"), 0);
    assert_int_equal(store_state_set(s, "taxii:https://x/c2", "a"), 0);
    assert_int_equal(store_state_set(s, "taxii:https://x/c1", "2024-03-02T00:00:00Z"), 0);
    assert_int_equal(store_state_get(s, "taxii:https://x/c1", &v), 0);
    assert_string_equal(v, "2024-03-02T00:00:00Z");
    free(v);
    assert_int_equal(store_state_set(s, "taxii:https://x/c2", NULL), 0);
    assert_int_equal(store_state_get(s, "taxii:https://x/c2", &v), -ENOENT);
    assert_int_equal(store_close(s), 0);
    s = open_ro(f);
    assert_int_equal(store_state_get(s, "taxii:https://x/c1", &v), 0);
    assert_string_equal(v, "2024-03-02T00:00:00Z");
    free(v);
    assert_int_equal(store_close(s), 0);
}

/* An import that does not fit leaves nothing behind; the store goes on. */
static void test_import_is_one_transaction(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.max_bytes = 512 * 1024; /* a size limit stands in for a full disk */
    struct store *s = open_store(f, &o);
    struct ioc_batch b;
    feed_batch(&b, "small.json");
    assert_int_equal(store_intel_import(s, &b, NULL, NULL), 0);
    ioc_batch_free(&b);

    ioc_batch_init(&b, "big.txt", "list");
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = "big.txt";
    uint32_t mi = ioc_batch_add_meta(&b, &m);
    char v[64];
    for (unsigned i = 0; i < 40000; i++) {
        int n = snprintf(v, sizeof(v), "host%u.bad-domain-number-%u.example", i, i * 7919);
        assert_int_equal(ioc_batch_add(&b, IOC_DOMAIN, v, (size_t)n, mi, true, NULL), 0);
    }
    assert_int_equal(store_intel_import(s, &b, NULL, NULL), -ENOSPC);
    assert_non_null(strstr(store_errmsg(s), "disk is full"));
    ioc_batch_free(&b);
    /* nothing of it: the first import only */
    assert_int_equal(store_intel_count(s), 5);
    feed_batch(&b, "small2.json");
    assert_int_equal(store_intel_import(s, &b, NULL, NULL), 0);
    ioc_batch_free(&b);
    assert_int_equal(store_intel_count(s), 10);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM intel_imports"), 2);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM intel_metas WHERE feed='big.txt'"), 0);
}

/* A streamed import: chunks as intel-read.h hands them over (the same
 * records, new indicators), chunk_total indicators each, nchunks of them;
 * fail_at: a chunk whose store fails (the import must leave nothing). */
struct chunks {
    unsigned nchunks, per_chunk;
    int64_t id;
    struct store_intel_import counts;
    int rc_add;  /* first error of an add */
    bool no_end; /* never end the import */
};

static void chunk_fill(struct ioc_batch *b, unsigned k, unsigned per)
{
    ioc_batch_init(b, "stream.txt", "list");
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = "stream.txt";
    ioc_batch_add_meta(b, &m);
    if (k >= 1) { /* a second record appears in the second chunk */
        m.ref = "second";
        ioc_batch_add_meta(b, &m);
    }
    char v[96];
    for (unsigned i = 0; i < per; i++) {
        int n = snprintf(v, sizeof(v), "host%u-%u.streamed-domain-with-a-long-name.example", k, i);
        assert_int_equal(ioc_batch_add(b, IOC_DOMAIN, v, (size_t)n, k >= 1 ? i % 2 : 0, true, NULL),
                         0);
    }
}

static int stream_chunks(void *opaque, struct store_intel_stream *x)
{
    struct chunks *c = opaque;
    for (unsigned k = 0; k < c->nchunks; k++) {
        struct ioc_batch b;
        chunk_fill(&b, k, c->per_chunk);
        int rc = k + 1 < c->nchunks || c->no_end
                     ? store_intel_stream_add(x, &b)
                     : store_intel_stream_end(x, &b, &c->id, &c->counts);
        ioc_batch_free(&b);
        if (rc < 0) {
            c->rc_add = rc;
            return rc;
        }
    }
    return 0;
}

static void test_import_streamed(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.max_bytes = 1024 * 1024;
    struct store *s = open_store(f, &o);
    struct chunks c = {.nchunks = 3, .per_chunk = 1000};
    assert_int_equal(store_intel_import_stream(s, stream_chunks, &c), 0);
    assert_int_equal(c.counts.indicators, 3000);
    assert_int_equal(c.counts.added, 3000);
    assert_int_equal(store_intel_count(s), 3000);
    /* again: nothing new, nothing twice */
    assert_int_equal(store_intel_import_stream(s, stream_chunks, &c), 0);
    assert_int_equal(c.counts.added, 0);
    assert_int_equal(c.counts.updated, 3000);
    assert_int_equal(store_intel_count(s), 3000);
    /* a feed that does not fit: written chunk by chunk, then rolled back */
    struct chunks big = {.nchunks = 40, .per_chunk = 1000};
    assert_int_equal(store_intel_import_stream(s, stream_chunks, &big), -ENOSPC);
    assert_int_equal(big.rc_add, -ENOSPC);
    assert_non_null(strstr(store_errmsg(s), "disk is full"));
    assert_int_equal(store_intel_count(s), 3000);
    /* an import left open by its producer is not kept */
    struct chunks open = {.nchunks = 2, .per_chunk = 10, .no_end = true};
    assert_int_equal(store_intel_import_stream(s, stream_chunks, &open), 0);
    assert_int_equal(store_intel_count(s), 3000);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM intel_imports"), 2);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM intel_metas"), 2);
    assert_int_equal(sql_int(f->path, "SELECT sum(indicators) FROM intel_imports"), 6000);
}

/* Imports run while the writer stores events. */
static void test_import_beside_writer(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.commit_rows = 100;
    struct store *s = open_store(f, &o);
    struct arena a;
    arena_init(&a, 1 << 16);
    char line[64];
    for (unsigned k = 0; k < 20; k++) {
        struct event evs[50];
        for (unsigned i = 0; i < 50; i++) {
            struct event *ev = &evs[i];
            event_init(ev, &a);
            ev->file = "/var/log/x.log";
            ev->line = k * 50 + i + 1;
            ev->parsed = true;
            ev->format = "json";
            ev->ts_ns = time_from_utc(2024, 3, 1, 0, 0, 0, 0) + (int64_t)(k * 50 + i) * NS_PER_SEC;
            int n = snprintf(line, sizeof(line), "192.0.2.%u", i);
            ev->core[CORE_SOURCE_IP] = str_make(arena_strndup(&a, line, (size_t)n), (size_t)n);
            ev->raw = ev->core[CORE_SOURCE_IP];
            event_assign_id(ev);
        }
        assert_int_equal(store_add_batch(s, evs, 50), 0);
        arena_reset(&a);
        struct ioc_batch b;
        snprintf(line, sizeof(line), "feed-%u", k);
        feed_batch(&b, line);
        assert_int_equal(store_intel_import(s, &b, NULL, NULL), 0);
        ioc_batch_free(&b);
        assert_int_equal(store_state_set(s, "cursor", line), 0);
    }
    assert_int_equal(store_sync(s), 0);
    assert_int_equal(store_count(s), 1000);
    assert_int_equal(store_intel_count(s), 100);
    assert_int_equal(store_close(s), 0);
    arena_free(&a);
}

/* ---- schema 1 ---------------------------------------------------------------- */

/* The statements of schema version 1, as kenchi 0.1 wrote them. */
static const char v1_schema[] =
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
    "CREATE TABLE hunt_hours(hour INTEGER PRIMARY KEY);"
    "PRAGMA application_id=1802396520; PRAGMA user_version=1;";

/* Write a schema 1 store by hand: 48 events over two days, user u<i%3>,
 * source 198.51.100.<i%4>, sender S<i%2>@Mail.Example.ORG, with the
 * hunting entries version 1 wrote (mail keys lower-cased as written). */
static void write_v1_store(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, v1_schema, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "BEGIN; INSERT INTO files VALUES(1, '/var/log/v1.jsonl');"
                                  "INSERT INTO logsources VALUES(1, 'json', '', '', '');"
                                  "INSERT INTO hosts VALUES(1, 'mx1');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *ev, *hu, *hh;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO events(ts, file, pos, id, ls, host, user, "
                                        "sip, dip, efrom, eto, action, outcome, doc) "
                                        "VALUES(?,1,?,?,1,1,?,?,NULL,?,NULL,'login',NULL,?)",
                                        -1, &ev, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO hunt VALUES(?,?,?,?)", -1, &hu, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO hunt_hours VALUES(?)", -1, &hh, NULL),
        SQLITE_OK);
    int64_t t0 = time_from_utc(2024, 3, 1, 0, 0, 0, 0);
    for (int i = 0; i < 48; i++) {
        int64_t ts = t0 + (int64_t)i * 3600 * NS_PER_SEC;
        int64_t hour = ts / (3600 * NS_PER_SEC);
        char user[8], from[32], doc[256];
        snprintf(user, sizeof(user), "u%d", i % 3);
        snprintf(from, sizeof(from), "S%d@Mail.Example.ORG", i % 2);
        uint8_t ip[4] = {198, 51, 100, (uint8_t)(i % 4)};
        snprintf(doc, sizeof(doc),
                 "{\"@timestamp\":null,\"event\":{\"id\":\"%016x\",\"module\":\"json\"},"
                 "\"message\":\"v1 event %d\"}",
                 i + 1, i);
        sqlite3_bind_int64(ev, 1, ts);
        sqlite3_bind_int64(ev, 2, i + 1);
        sqlite3_bind_int64(ev, 3, i + 1);
        sqlite3_bind_text(ev, 4, user, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(ev, 5, ip, 4, SQLITE_TRANSIENT);
        sqlite3_bind_text(ev, 6, from, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ev, 7, doc, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(ev), SQLITE_DONE);
        sqlite3_reset(ev);
        int64_t row = sqlite3_last_insert_rowid(db);
        char keys[3][40];
        size_t kl[3];
        kl[0] = (size_t)snprintf(keys[0], sizeof(keys[0]), "u%s", user);
        keys[1][0] = 's';
        memcpy(keys[1] + 1, ip, 4);
        kl[1] = 5;
        kl[2] = (size_t)snprintf(keys[2], sizeof(keys[2]), "fs%d@mail.example.org", i % 2);
        for (int k = 0; k < 3; k++) {
            sqlite3_bind_int64(hu, 1, hour);
            sqlite3_bind_blob(hu, 2, keys[k], (int)kl[k], SQLITE_TRANSIENT);
            sqlite3_bind_int64(hu, 3, ts);
            sqlite3_bind_int64(hu, 4, row);
            assert_int_equal(sqlite3_step(hu), SQLITE_DONE);
            sqlite3_reset(hu);
        }
        sqlite3_bind_int64(hh, 1, hour);
        assert_int_equal(sqlite3_step(hh), SQLITE_DONE);
        sqlite3_reset(hh);
    }
    sqlite3_finalize(ev);
    sqlite3_finalize(hu);
    sqlite3_finalize(hh);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int count_rows(void *opaque, const struct store_row *r)
{
    (void)r;
    (*(int *)opaque)++;
    return 0;
}

static int count_hits(void *opaque, const struct store_hit *h)
{
    (void)h;
    (*(int *)opaque)++;
    return 0;
}

static void test_migration_from_v1(void **state)
{
    struct fx *f = *state;
    write_v1_store(f->path);
    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 1);

    /* read-only: still searchable; what needs schema 2 says how to upgrade */
    struct store *s = open_ro(f);
    assert_int_equal(store_schema_version(s), 1);
    struct store_query q;
    store_query_init(&q);
    q.user = "U1";
    int n = 0;
    assert_int_equal(store_search(s, &q, count_rows, &n), 0);
    assert_int_equal(n, 16);
    store_query_init(&q);
    q.email = "S1@mail.example.org"; /* the keys as version 1 wrote them */
    n = 0;
    assert_int_equal(store_search(s, &q, count_rows, &n), 0);
    assert_int_equal(n, 24);
    struct store_probe p = {IOC_IP, "198.51.100.1", TIME_NONE, TIME_NONE};
    assert_int_equal(store_hunt(s, &p, 1, count_hits, NULL, &n), -EPROTONOSUPPORT);
    assert_non_null(strstr(store_errmsg(s), "upgrade"));
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 1); /* not altered */

    /* opening for writing upgrades, in one go */
    s = open_store(f, NULL);
    assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    /* mail keys are domain first now; nothing lost */
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM hunt"), 48 * 3);
    assert_int_equal(
        sql_int(f->path,
                "SELECT count(*) FROM hunt WHERE key=CAST('forg.example.mail@s1' AS BLOB)"),
        24);
    assert_true(sql_int(f->path, "SELECT count(*) FROM hunt_days") > 0);
    assert_int_equal(sql_int(f->path, "SELECT value FROM state WHERE key='store.v1_last_event'"),
                     48);

    s = open_ro(f);
    /* search: the same answers as before */
    store_query_init(&q);
    q.user = "U1";
    n = 0;
    assert_int_equal(store_search(s, &q, count_rows, &n), 0);
    assert_int_equal(n, 16);
    store_query_init(&q);
    q.email = "s1@mail.example.org";
    n = 0;
    assert_int_equal(store_search(s, &q, count_rows, &n), 0);
    assert_int_equal(n, 24);
    store_query_init(&q);
    q.ip = "198.51.100.0/30";
    n = 0;
    assert_int_equal(store_search(s, &q, count_rows, &n), 0);
    assert_int_equal(n, 48);
    /* hunts: addresses, mail addresses, and their domains through the
     * rewritten mail keys */
    struct store_probe probes[] = {
        {IOC_IP, "198.51.100.1", TIME_NONE, TIME_NONE},
        {IOC_IP, "198.51.100.0/24", TIME_NONE, TIME_NONE},
        {IOC_EMAIL, "s0@mail.example.org", TIME_NONE, TIME_NONE},
        {IOC_DOMAIN, "example.org", TIME_NONE, TIME_NONE},
        {IOC_DOMAIN, "example.net", TIME_NONE, TIME_NONE},
    };
    const int want[] = {12, 48, 24, 48, 0};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        n = 0;
        assert_int_equal(store_hunt(s, &probes[i], 1, count_hits, NULL, &n), 0);
        assert_int_equal(n, want[i]);
    }
    assert_int_equal(store_events_before_v2(s), 48);
    assert_int_equal(store_close(s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_load_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reimport_no_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_is_one_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_beside_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_streamed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
