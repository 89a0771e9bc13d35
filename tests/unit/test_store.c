/* Unit tests for store/: schema, batched inserts, idempotent re-insert,
 * queries and their plans, compression round trip, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "event/event.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

struct fx {
    char dir[64];
    char path[128];
    struct arena arena;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/kenchi-test-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/k.db", f->dir);
    arena_init(&f->arena, 1 << 16);
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
    arena_free(&f->arena);
    free(f);
    return 0;
}

/* Event i of a synthetic set: user u<i%7>, source 192.0.2.<i%5>,
 * destination 2001:db8::<i%3>, sender s<i%4>@example.org, time 2024-03-01
 * plus i minutes; every 50th event has no time. */
static void make_event(struct fx *f, struct event *ev, const char *file, unsigned i)
{
    char tmp[128];
    event_init(ev, &f->arena);
    ev->file = file;
    ev->line = i + 1;
    ev->parsed = true;
    ev->format = "json";
    ev->ts_ns = i % 50 == 49 ? TIME_NONE
                             : time_from_utc(2024, 3, 1, 0, 0, 0, 0) + (int64_t)i * 60 * NS_PER_SEC;
#define SET(field, ...)                                                                            \
    do {                                                                                           \
        int n_ = snprintf(tmp, sizeof(tmp), __VA_ARGS__);                                          \
        ev->core[field] = str_make(arena_strndup(&f->arena, tmp, (size_t)n_), (size_t)n_);         \
    } while (0)
    SET(CORE_USER_NAME, "%s%u", i % 2 ? "U" : "u", i % 7);
    SET(CORE_SOURCE_IP, "192.0.2.%u", i % 5);
    SET(CORE_DESTINATION_IP, "2001:db8::%u", i % 3);
    SET(CORE_EMAIL_FROM_ADDRESS, "s%u@Example.org", i % 4);
    SET(CORE_HOST_NAME, "mx%u", i % 2);
    ev->core[CORE_EVENT_ACTION] = STR_LIT("login");
    ev->message = str_make(arena_strndup(&f->arena, tmp, strlen(tmp)), strlen(tmp));
    snprintf(tmp, sizeof(tmp), "%u", i * 7919);
    event_add_copy(ev, "serial", tmp, strlen(tmp), VT_NUMBER);
    ev->raw = ev->message;
    event_assign_id(ev);
#undef SET
}

static void make_batch(struct fx *f, struct event *evs, unsigned first, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        make_event(f, &evs[i], "/var/log/app.jsonl", first + i);
}

static struct store *open_rw(struct fx *f, const struct store_opts *o)
{
    struct store *s = NULL;
    int rc = store_open(f->path, o, &s);
    if (rc < 0)
        fail_msg("store_open: %s", store_errmsg(s));
    return s;
}

static struct store *open_ro(struct fx *f)
{
    struct store_opts o;
    store_opts_default(&o);
    o.read_only = true;
    struct store *s = NULL;
    int rc = store_open(f->path, &o, &s);
    if (rc < 0)
        fail_msg("store_open: %s", store_errmsg(s));
    return s;
}

static void insert(struct fx *f, struct store *s, unsigned first, unsigned n)
{
    struct event *evs = calloc(n, sizeof(*evs));
    make_batch(f, evs, first, n);
    assert_int_equal(store_add_batch(s, evs, n), 0);
    free(evs);
    arena_reset(&f->arena);
}

struct collect {
    unsigned n;
    int64_t last_ts;
    bool ordered;
    struct buf json; /* all rows' JSON, one a line */
    char users[64][16];
    char dips[64][48];
};

static int collect_row(void *opaque, const struct store_row *r)
{
    struct collect *c = opaque;
    if (c->n && r->ts_ns < c->last_ts)
        c->ordered = false;
    c->last_ts = r->ts_ns;
    if (c->n < 64) {
        snprintf(c->users[c->n], sizeof(c->users[0]), "%s", r->user ? r->user : "");
        snprintf(c->dips[c->n], sizeof(c->dips[0]), "%s",
                 r->destination_ip ? r->destination_ip : "");
    }
    c->n++;
    buf_append(&c->json, r->json, r->json_len);
    buf_putc(&c->json, '\n');
    return 0;
}

static unsigned search(struct store *s, struct store_query *q, struct collect *c)
{
    memset(c, 0, sizeof(*c));
    c->ordered = true;
    buf_init(&c->json);
    int rc = store_search(s, q, collect_row, c);
    if (rc < 0)
        fail_msg("store_search: %s", store_errmsg(s));
    return c->n;
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

static void test_create_and_schema(void **state)
{
    struct fx *f = *state;
    struct store *s = open_rw(f, NULL);
    assert_int_equal(store_count(s), 0);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(sql_int(f->path, "PRAGMA application_id"), 0x6b6e6368);
    assert_int_equal(sql_int(f->path, "PRAGMA journal_mode='wal'") >= 0, 1);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                      "('events','hunt','files','logsources','hosts','dicts',"
                                      "'events_origin','events_ts')"),
                     8);
    /* reopening an existing store neither fails nor migrates again */
    s = open_rw(f, NULL);
    assert_int_equal(store_close(s), 0);
    s = open_ro(f);
    assert_int_equal(store_count(s), 0);
    assert_int_equal(store_close(s), 0);
}

static void test_insert_batches_idempotent(void **state)
{
    struct fx *f = *state;
    struct store *s = open_rw(f, NULL);
    for (unsigned k = 0; k < 3; k++)
        insert(f, s, k * 100, 100);
    assert_int_equal(store_sync(s), 0);
    struct store_stats st;
    store_get_stats(s, &st);
    assert_int_equal(st.events_in, 300);
    assert_int_equal(st.events_stored, 300);
    assert_int_equal(st.events_dup, 0);
    assert_int_equal(store_count(s), 300);
    /* the same events again, and one batch overlapping old and new */
    insert(f, s, 0, 100);
    insert(f, s, 250, 100);
    assert_int_equal(store_sync(s), 0);
    store_get_stats(s, &st);
    assert_int_equal(st.events_stored, 350);
    assert_int_equal(st.events_dup, 150);
    assert_int_equal(store_count(s), 350);
    assert_int_equal(store_close(s), 0);
    /* and after reopening */
    s = open_rw(f, NULL);
    insert(f, s, 0, 350);
    assert_int_equal(store_sync(s), 0);
    store_get_stats(s, &st);
    assert_int_equal(st.events_stored, 0);
    assert_int_equal(st.events_dup, 350);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 350);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM files"), 1);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM hosts"), 2);
    /* five hunting keys per event (user, source, destination, sender) = 4 */
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM hunt"), 350 * 4);
}

static void test_queries(void **state)
{
    struct fx *f = *state;
    struct store *s = open_rw(f, NULL);
    insert(f, s, 0, 210); /* i = 0..209 */
    assert_int_equal(store_sync(s), 0);
    struct store_query q;
    struct collect c;

    store_query_init(&q);
    assert_int_equal(search(s, &q, &c), 210);
    assert_true(c.ordered);
    buf_free(&c.json);

    /* user u3 / U3: i % 7 == 3 -> 30 events, whatever the case */
    store_query_init(&q);
    q.user = "u3";
    assert_int_equal(search(s, &q, &c), 30);
    assert_true(c.ordered);
    assert_true(!strcmp(c.users[0], "u3") || !strcmp(c.users[0], "U3"));
    buf_free(&c.json);
    q.user = "U3";
    assert_int_equal(search(s, &q, &c), 30);
    buf_free(&c.json);

    /* ip: source 192.0.2.1 -> i % 5 == 1 -> 42 */
    store_query_init(&q);
    q.ip = "192.0.2.1";
    assert_int_equal(search(s, &q, &c), 42);
    buf_free(&c.json);
    /* destination 2001:db8::2 -> i % 3 == 2 -> 70 */
    q.ip = "2001:db8::2";
    assert_int_equal(search(s, &q, &c), 70);
    assert_string_equal(c.dips[0], "2001:db8::2");
    assert_string_equal(c.dips[69 < 64 ? 69 : 63], "2001:db8::2");
    buf_free(&c.json);
    /* CIDR over all sources; each event once although it has two addresses */
    q.ip = "192.0.2.0/24";
    assert_int_equal(search(s, &q, &c), 210);
    assert_true(c.ordered);
    buf_free(&c.json);
    q.ip = "192.0.2.2/31"; /* .2 and .3 */
    assert_int_equal(search(s, &q, &c), 84);
    buf_free(&c.json);
    q.ip = "2001:db8::/126";
    assert_int_equal(search(s, &q, &c), 210);
    buf_free(&c.json);
    q.ip = "192.0.2.0/40";
    assert_int_equal(store_search(s, &q, collect_row, &c), -EINVAL);

    /* e-mail, case-insensitive: i % 4 == 1 -> 53 (1, 5, ..., 209) */
    store_query_init(&q);
    q.email = "S1@EXAMPLE.ORG";
    assert_int_equal(search(s, &q, &c), 53);
    buf_free(&c.json);

    /* time: [00:10, 00:20) -> i = 10..19 -> 10 events */
    store_query_init(&q);
    q.since_ns = time_from_utc(2024, 3, 1, 0, 10, 0, 0);
    q.until_ns = time_from_utc(2024, 3, 1, 0, 20, 0, 0);
    assert_int_equal(search(s, &q, &c), 10);
    buf_free(&c.json);
    /* time with a user: u3 at i = 3, 10, 17 -> 10 and 17 */
    q.user = "u3";
    assert_int_equal(search(s, &q, &c), 2);
    buf_free(&c.json);
    /* only an upper bound: the events without a time are left out, whether
     * the time index (no entity filter) or the hunting index answers. u0
     * before 01:00: i = 0, 7, ..., 56 but not 49, which has no time */
    store_query_init(&q);
    q.until_ns = time_from_utc(2024, 3, 1, 1, 0, 0, 0);
    assert_int_equal(search(s, &q, &c), 59); /* i = 0..59 less i = 49 */
    buf_free(&c.json);
    q.user = "u0";
    assert_int_equal(search(s, &q, &c), 8);
    buf_free(&c.json);
    q.user = "u0";
    q.until_ns = TIME_NONE;
    assert_int_equal(search(s, &q, &c), 30);
    buf_free(&c.json);
    /* across hour buckets: [00:50, 02:10) with u3 -> i = 52, 59, ..., 129 */
    q.user = "u3";
    q.since_ns = time_from_utc(2024, 3, 1, 0, 50, 0, 0);
    q.until_ns = time_from_utc(2024, 3, 1, 2, 10, 0, 0);
    assert_int_equal(search(s, &q, &c), 12);
    assert_true(c.ordered);
    buf_free(&c.json);
    /* combined: user u0 and source 192.0.2.0: i % 35 == 0 -> 0,35,...,175 = 6 */
    store_query_init(&q);
    q.user = "u0";
    q.ip = "192.0.2.0";
    assert_int_equal(search(s, &q, &c), 6);
    buf_free(&c.json);
    /* limit, and events without time first (i = 49, 99, 149, 199) */
    store_query_init(&q);
    q.limit = 5;
    assert_int_equal(search(s, &q, &c), 5);
    assert_int_equal(c.last_ts, time_from_utc(2024, 3, 1, 0, 0, 0, 0));
    assert_non_null(strstr(c.json.data, "\"@timestamp\":null"));
    buf_free(&c.json);

    /* the stored JSON is exactly what event_to_json wrote */
    store_query_init(&q);
    q.since_ns = time_from_utc(2024, 3, 1, 0, 7, 0, 0);
    q.limit = 1;
    assert_int_equal(search(s, &q, &c), 1);
    struct event ev;
    make_event(f, &ev, "/var/log/app.jsonl", 7);
    struct buf want;
    buf_init(&want);
    event_to_json(&ev, &want);
    buf_putc(&want, '\n');
    assert_string_equal(c.json.data, want.data);
    buf_free(&want);
    buf_free(&c.json);
    assert_int_equal(store_close(s), 0);
}

static void test_query_plans(void **state)
{
    struct fx *f = *state;
    struct store *s = open_rw(f, NULL);
    insert(f, s, 0, 50);
    assert_int_equal(store_close(s), 0);
    s = open_ro(f);
    struct store_query q;
    struct buf plan;
    buf_init(&plan);

    store_query_init(&q);
    q.user = "u1";
    q.since_ns = 0;
    assert_int_equal(store_explain(s, &q, &plan), 0);
    assert_non_null(strstr(plan.data, "SEARCH x USING PRIMARY KEY (hour=? AND key=? AND ts>?)"));
    assert_null(strstr(plan.data, "SCAN"));
    assert_null(strstr(plan.data, "TEMP B-TREE")); /* streams in time order */

    buf_clear(&plan);
    store_query_init(&q);
    q.email = "a@b";
    assert_int_equal(store_explain(s, &q, &plan), 0);
    assert_non_null(strstr(plan.data, "SEARCH x USING PRIMARY KEY (hour=? AND key>? AND key<?)"));
    assert_null(strstr(plan.data, "SCAN x"));
    assert_null(strstr(plan.data, "SCAN e"));

    buf_clear(&plan);
    store_query_init(&q);
    q.since_ns = 0;
    q.until_ns = 1;
    assert_int_equal(store_explain(s, &q, &plan), 0);
    assert_non_null(strstr(plan.data, "SEARCH e USING INDEX events_ts (ts>? AND ts<?)"));
    buf_free(&plan);
    assert_int_equal(store_close(s), 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if the text blocks a and b hold the same lines in any order. */
static int sorted_lines_equal(char *a, char *b)
{
    char *la[8192], *lb[8192];
    size_t na = 0, nb = 0;
    for (char *t = strtok(a, "\n"); t && na < 8192; t = strtok(NULL, "\n"))
        la[na++] = t;
    for (char *t = strtok(b, "\n"); t && nb < 8192; t = strtok(NULL, "\n"))
        lb[nb++] = t;
    if (na != nb)
        return 0;
    qsort(la, na, sizeof(char *), cmp_str);
    qsort(lb, nb, sizeof(char *), cmp_str);
    for (size_t i = 0; i < na; i++)
        if (strcmp(la[i], lb[i]))
            return 0;
    return 1;
}

static void test_compression_roundtrip(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.commit_rows = 1000; /* the dictionary is trained between transactions */
    o.queue_batches = 2;  /* later batches are compressed by the caller */
    struct store *s = open_rw(f, &o);
    for (unsigned k = 0; k < 60; k++)
        insert(f, s, k * 100, 100);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM dicts"), 1);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events WHERE typeof(doc)='blob'"),
                     6000);
    /* compressed: well under the JSON's size */
    assert_true(sql_int(f->path, "SELECT sum(length(doc)) FROM events") < 6000 * 120);

    s = open_ro(f);
    struct store_query q;
    struct collect c;
    store_query_init(&q);
    q.user = "u5";
    unsigned n = search(s, &q, &c);
    assert_int_equal(n, 6000 / 7 + (6000 % 7 > 5));
    /* every document decompresses to the original JSON */
    struct buf want;
    buf_init(&want);
    for (unsigned i = 0; i < 6000; i++) {
        if (i % 7 != 5)
            continue;
        struct event ev;
        make_event(f, &ev, "/var/log/app.jsonl", i);
        event_to_json(&ev, &want);
        buf_putc(&want, '\n');
    }
    arena_reset(&f->arena);
    /* same set; order differs only for the events without a time */
    assert_int_equal(want.len, c.json.len);
    assert_int_equal(sorted_lines_equal(want.data, c.json.data), 1);
    buf_free(&want);
    buf_free(&c.json);
    assert_int_equal(store_close(s), 0);
}

static void test_small_store_trains_at_close(void **state)
{
    struct fx *f = *state;
    struct store *s = open_rw(f, NULL);
    insert(f, s, 0, 700);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events WHERE typeof(doc)='blob'"), 700);
    /* new events after reopening are compressed with the stored dictionary */
    s = open_rw(f, NULL);
    insert(f, s, 700, 100);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events WHERE typeof(doc)='text'"), 0);
    s = open_ro(f);
    assert_int_equal(store_count(s), 800);
    struct store_query q;
    struct collect c;
    store_query_init(&q);
    assert_int_equal(search(s, &q, &c), 800);
    buf_free(&c.json);
    assert_int_equal(store_close(s), 0);
}

static void test_backpressure(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.queue_batches = 1;
    o.commit_rows = 64;
    struct store *s = open_rw(f, &o);
    for (unsigned k = 0; k < 40; k++)
        insert(f, s, k * 50, 50);
    assert_int_equal(store_close(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 2000);
}

static int64_t wal_bytes(const struct fx *f)
{
    char p[160];
    snprintf(p, sizeof(p), "%s-wal", f->path);
    struct stat sb;
    return stat(p, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

/* Checkpoints run on a thread of their own, beside the writer; the WAL
 * still stays bounded (the writer restarts it past opts.wal_pages), and
 * what store_sync() has returned for is committed: another connection
 * sees it. Without the restart this WAL would grow to the whole store
 * (20,000 events, several MB). */
static void test_wal_bounded(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.commit_rows = 200;
    o.wal_pages = 32;
    struct store *s = open_rw(f, &o);
    int64_t max_wal = 0;
    for (unsigned k = 0; k < 100; k++) {
        insert(f, s, k * 200, 200);
        assert_int_equal(store_sync(s), 0);
        assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), (k + 1) * 200);
        int64_t w = wal_bytes(f);
        if (w > max_wal)
            max_wal = w;
    }
    int64_t db_bytes = store_file_bytes(f->path);
    assert_int_equal(store_close(s), 0);
    assert_true(max_wal > 0);
    assert_true(max_wal < 2 * 1024 * 1024);
    assert_true(db_bytes > 4 * max_wal); /* a WAL that never restarted holds all of it */
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 20000);
    assert_int_equal(wal_bytes(f), 0); /* folded back at close */
}

static void test_open_errors(void **state)
{
    struct fx *f = *state;
    struct store_opts ro;
    store_opts_default(&ro);
    ro.read_only = true;
    struct store *s;

    assert_int_equal(store_open(f->path, &ro, &s), -ENOENT);
    assert_non_null(strstr(store_errmsg(s), "no such store"));
    store_close(s);
    assert_int_equal(access(f->path, F_OK), -1); /* not created */

    char p[256];
    snprintf(p, sizeof(p), "%s/garbage.db", f->dir);
    FILE *fp = fopen(p, "w");
    for (int i = 0; i < 4096; i++)
        fputc((i * 131) & 0xff, fp);
    fclose(fp);
    assert_int_equal(store_open(p, &ro, &s), -EBADMSG);
    assert_non_null(strstr(store_errmsg(s), "not a kenchi store"));
    store_close(s);
    assert_int_equal(store_open(p, NULL, &s), -EBADMSG);
    store_close(s);

    snprintf(p, sizeof(p), "%s/dir.db", f->dir);
    mkdir(p, 0700);
    assert_int_equal(store_open(p, NULL, &s), -EISDIR);
    store_close(s);

    snprintf(p, sizeof(p), "%s/no/such/dir.db", f->dir);
    assert_true(store_open(p, NULL, &s) < 0);
    assert_non_null(strstr(store_errmsg(s), p));
    store_close(s);

    /* a store written by a newer kenchi is refused, not altered */
    s = open_rw(f, NULL);
    store_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->path, NULL, &s), -EPROTONOSUPPORT);
    assert_non_null(strstr(store_errmsg(s), "newer"));
    store_close(s);
    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 99);
}

static void test_disk_full(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.max_bytes = 1024 * 1024; /* a size limit stands in for a full disk */
    o.commit_rows = 200;
    struct store *s = open_rw(f, &o);
    int rc = 0;
    for (unsigned k = 0; k < 100 && rc == 0; k++) {
        struct event evs[100];
        make_batch(f, evs, k * 100, 100);
        rc = store_add_batch(s, evs, 100);
        arena_reset(&f->arena);
    }
    if (rc == 0)
        rc = store_sync(s);
    assert_int_equal(rc, -ENOSPC);
    assert_non_null(strstr(store_errmsg(s), "disk is full"));
    /* further batches fail the same way, close reports it */
    struct event ev;
    make_event(f, &ev, "/x", 1);
    assert_int_equal(store_add_batch(s, &ev, 1), -ENOSPC);
    assert_int_equal(store_close(s), -ENOSPC);
    /* what was committed before is intact and readable */
    s = open_ro(f);
    int64_t n = store_count(s);
    assert_in_range(n, 1, 9999);
    struct store_query q;
    struct collect c;
    store_query_init(&q);
    assert_int_equal(search(s, &q, &c), (unsigned)n);
    buf_free(&c.json);
    store_close(s);
}

/* hold_events (the live daemon): added events are not committed until
 * store_live_commit() commits them with the alerts; a state write in
 * between joins their transaction. */
static void test_hold_events(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.hold_events = true;
    struct store *s = open_rw(f, &o);
    insert(f, s, 0, 100);
    assert_int_equal(store_sync(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 0);
    assert_int_equal(store_cursor_set(s, "out", 7), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM state"), 0);
    uint64_t added = 9, last = 9;
    assert_int_equal(store_live_commit(s, NULL, 0, NULL, 0, &added, &last), 0);
    assert_int_equal(added, 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 100);
    /* their hunting entries committed with them, deferred (one row) */
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM hunt_pending"), 1);
    assert_int_equal(sql_int(f->path, "SELECT value FROM state WHERE key='output.out.cursor'"), 7);
    /* with nothing held, a state write commits by itself */
    assert_int_equal(store_cursor_set(s, "out", 8), 0);
    assert_int_equal(sql_int(f->path, "SELECT value FROM state WHERE key='output.out.cursor'"), 8);
    insert(f, s, 100, 50);
    assert_int_equal(store_sync(s), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 100);
    assert_int_equal(store_live_commit(s, NULL, 0, NULL, 0, NULL, NULL), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 150);
    assert_int_equal(store_close(s), 0);
    /* closing inserts every deferred entry */
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM hunt"), 150 * 4);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM hunt_pending"), 0);
}

/* Wait (bounded) until sql on the store gives want; returns what it gave. */
static int64_t sql_wait(const char *path, const char *sql, int64_t want)
{
    int64_t v = sql_int(path, sql);
    for (int i = 0; i < 3000 && v != want; i++) {
        usleep(10000);
        v = sql_int(path, sql);
    }
    return v;
}

/* hold_events: the writer inserts deferred hunting entries by itself once
 * hunt_defer are pending, in the open transaction of held events or in
 * its own; a hunt then finds the events. */
static void test_hold_defer(void **state)
{
    struct fx *f = *state;
    struct store_opts o;
    store_opts_default(&o);
    o.hold_events = true;
    o.hunt_defer = 300;
    struct store *s = open_rw(f, &o);
    insert(f, s, 0, 50); /* 200 entries: not yet */
    assert_int_equal(store_sync(s), 0);
    assert_int_equal(store_live_commit(s, NULL, 0, NULL, 0, NULL, NULL), 0);
    insert(f, s, 50, 50); /* 400 logged at the commit: due */
    assert_int_equal(store_sync(s), 0);
    assert_int_equal(store_live_commit(s, NULL, 0, NULL, 0, NULL, NULL), 0);
    assert_int_equal(sql_wait(f->path, "SELECT count(*) FROM hunt", 400), 400);
    assert_int_equal(sql_wait(f->path, "SELECT count(*) FROM hunt_pending", 0), 0);
    struct store_query q;
    struct collect c;
    store_query_init(&q);
    q.user = "u3"; /* i % 7 == 3: 14 of 100 */
    assert_int_equal(search(s, &q, &c), 14);
    assert_true(c.ordered);
    buf_free(&c.json);
    assert_int_equal(store_close(s), 0);
}

/* A crash (the process ends without store_close) leaves deferred hunting
 * entries in hunt_pending; opening the store for writing inserts them. */
static void test_hold_crash(void **state)
{
    struct fx *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store_opts o;
        store_opts_default(&o);
        o.hold_events = true;
        struct store *s = NULL;
        if (store_open(f->path, &o, &s) < 0)
            _exit(1);
        struct event *evs = calloc(100, sizeof(*evs));
        if (!evs)
            _exit(4);
        make_batch(f, evs, 0, 100);
        if (store_add_batch(s, evs, 100) < 0 || store_sync(s) < 0 ||
            store_live_commit(s, NULL, 0, NULL, 0, NULL, NULL) < 0)
            _exit(2);
        make_batch(f, evs, 100, 100); /* held, never committed */
        if (store_add_batch(s, evs, 100) < 0 || store_sync(s) < 0)
            _exit(3);
        _exit(0); /* no store_close: as kill -9 */
    }
    int st = -1;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 100);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM hunt"), 0);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM hunt_pending"), 1);
    /* read-only: searchable through the time index, not yet by key */
    struct store *s = open_ro(f);
    struct store_query q;
    struct collect c;
    store_query_init(&q);
    assert_int_equal(search(s, &q, &c), 100);
    buf_free(&c.json);
    store_close(s);
    /* for writing: the entries go in */
    s = open_rw(f, NULL);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM hunt"), 400);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM hunt_pending"), 0);
    store_query_init(&q);
    q.user = "u3";
    assert_int_equal(search(s, &q, &c), 14);
    buf_free(&c.json);
    assert_int_equal(store_close(s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_batches_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_plans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compression_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_store_trains_at_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_defer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_crash, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
