/* Unit tests for the live daemon's parts: alerts in the store (each id
 * once, seq in commit order), read offsets and output cursors kept across
 * a reopen, the jsonl output (kenchi.seq first, last_delivered from the
 * file, a cut last line removed), the line splitter (lines whatever the
 * pieces, cut lines, "\r\n") and the configuration's defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <errno.h>
#include <sqlite3.h>

#include "config/config.h"
#include "output/output.h"
#include "source/tail.h"
#include "store/store.h"
#include "util/timeconv.h"

struct fx {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/kenchi-test-live-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/k.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static struct store_alert alert(const char *id, const char *level)
{
    static char json[4][128];
    static int k;
    char *j = json[k++ % 4];
    snprintf(j, 128, "{\"kind\":\"sigma\",\"rule\":{\"level\":\"%s\"},\"x\":\"%s\"}", level, id);
    return (struct store_alert){1000, id, "sigma", "r1", "rule one", level, j, strlen(j)};
}

struct seen {
    uint64_t seqs[16];
    char ids[16][40];
    size_t n;
};

static int on_alert(void *opaque, const struct alert_msg *a)
{
    struct seen *s = opaque;
    s->seqs[s->n] = a->seq;
    snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", a->id);
    s->n++;
    return 0;
}

static int on_offset(void *opaque, const struct store_offset *o)
{
    struct store_offset *out = opaque;
    *out = *o;
    out->name = strdup(o->name);
    return 0;
}

static void test_alerts_and_offsets(void **state)
{
    struct fx *f = *state;
    struct store *s;
    assert_int_equal(store_open(f->path, NULL, &s), 0);
    assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
    struct store_alert a[3] = {alert("a1", "low"), alert("a2", "high"), alert("a1", "low")};
    struct store_offset o = {7, 42, 0xabcdef, 100, "/var/log/mail.log", 5000, 77};
    uint64_t added = 0, last = 0;
    assert_int_equal(store_live_commit(s, a, 3, &o, 1, &added, &last), 0);
    assert_int_equal(added, 2); /* the repeated id is not added twice */
    assert_int_equal(last, 2);
    /* a replay after a crash adds nothing */
    assert_int_equal(store_live_commit(s, a, 2, NULL, 0, &added, &last), 0);
    assert_int_equal(added, 0);
    assert_int_equal(last, 2);
    struct store_alert b = alert("a3", "medium");
    o.offset = 6000;
    o.line = 90;
    assert_int_equal(store_live_commit(s, &b, 1, &o, 1, &added, &last), 0);
    assert_int_equal(last, 3);
    assert_int_equal(store_alert_count(s), 3);
    assert_int_equal(store_cursor_set(s, "alerts", 2), 0);
    assert_int_equal(store_close(s), 0);

    assert_int_equal(store_open(f->path, NULL, &s), 0);
    uint64_t cur = 99;
    assert_int_equal(store_cursor_get(s, "alerts", &cur), 0);
    assert_int_equal(cur, 2);
    assert_int_equal(store_cursor_get(s, "other", &cur), 0);
    assert_int_equal(cur, 0);
    struct store_offset got = {0};
    assert_int_equal(store_offsets_load(s, on_offset, &got), 0);
    assert_int_equal(got.dev, 7);
    assert_int_equal(got.ino, 42);
    assert_int_equal(got.fp, 0xabcdef);
    assert_int_equal(got.fplen, 100);
    assert_int_equal(got.offset, 6000);
    assert_int_equal(got.line, 90);
    assert_string_equal(got.name, "/var/log/mail.log");
    free((char *)got.name);
    assert_int_equal(store_close(s), 0);

    struct store_alert_reader *r;
    assert_int_equal(store_alert_reader_open(f->path, &r), 0);
    struct seen seen = {0};
    assert_int_equal(store_alert_reader_next(r, 1, 10, on_alert, &seen), 2);
    assert_int_equal(seen.seqs[0], 2);
    assert_int_equal(seen.seqs[1], 3);
    assert_string_equal(seen.ids[0], "a2");
    assert_string_equal(seen.ids[1], "a3");
    store_alert_reader_close(r);
}

/* A schema 2 store (as the previous kenchi left it) is upgraded in place. */
static void test_upgrade_from_v2(void **state)
{
    struct fx *f = *state;
    struct store *s;
    assert_int_equal(store_open(f->path, NULL, &s), 0);
    assert_int_equal(store_state_set(s, "keep", "me"), 0);
    assert_int_equal(store_close(s), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "DROP TABLE alerts; DROP TABLE tail_offsets;"
                     "DROP TABLE bl_profiles; DROP TABLE bl_facts; DROP TABLE hunt_pending;"
                     "DELETE FROM sqlite_sequence; PRAGMA user_version=2;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    /* read-only: still version 2, alerts refused with a way out */
    struct store_opts ro;
    store_opts_default(&ro);
    ro.read_only = true;
    assert_int_equal(store_open(f->path, &ro, &s), 0);
    assert_int_equal(store_schema_version(s), 2);
    assert_int_equal(store_alert_count(s), -EPROTONOSUPPORT);
    assert_non_null(strstr(store_errmsg(s), "needs store schema version 3"));
    store_close(s);
    /* for writing: upgraded, the state kept */
    assert_int_equal(store_open(f->path, NULL, &s), 0);
    assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
    assert_int_equal(store_alert_count(s), 0);
    char *v = NULL;
    assert_int_equal(store_state_get(s, "keep", &v), 0);
    assert_string_equal(v, "me");
    free(v);
    struct store_alert a = alert("u1", "low");
    uint64_t last = 0;
    assert_int_equal(store_live_commit(s, &a, 1, NULL, 0, NULL, &last), 0);
    assert_int_equal(last, 1);
    assert_int_equal(store_close(s), 0);
}

static void test_jsonl_output(void **state)
{
    struct fx *f = *state;
    char out[160], yml[256];
    snprintf(out, sizeof(out), "%s/a.jsonl", f->dir);
    snprintf(yml, sizeof(yml), "type: jsonl\npath: %s\nfsync: false\n", out);
    struct yaml_file yf;
    struct yaml_error err;
    assert_int_equal(yaml_parse(yml, strlen(yml), &yf, &err), 0);
    struct conf_ctx c;
    conf_ctx_init(&c, "t.yml", NULL, &yf.arena);
    const struct output_ops *ops = output_find("jsonl");
    assert_non_null(ops);
    void *st = NULL;
    assert_int_equal(ops->configure(&c, yf.docs[0], &st), 0);
    char e[256];
    assert_int_equal(ops->open(st, e, sizeof(e)), 0);
    uint64_t seq = 9;
    assert_int_equal(ops->last_delivered(st, &seq), 0);
    assert_int_equal(seq, 0);
    const char *j = "{\"kind\":\"sigma\"}";
    struct alert_msg m = {41, 0, "id", "sigma", "", "", "low", j, strlen(j)};
    assert_int_equal(ops->deliver(st, &m, e, sizeof(e)), 0);
    m.seq = 42;
    assert_int_equal(ops->deliver(st, &m, e, sizeof(e)), 0);
    assert_int_equal(ops->last_delivered(st, &seq), 0);
    assert_int_equal(seq, 42);
    ops->close(st);
    /* a crash cut the last line short: removed at open */
    FILE *fp = fopen(out, "a");
    fputs("{\"kenchi\":{\"seq\":43},\"kind\":\"sig", fp);
    fclose(fp);
    st = NULL;
    assert_int_equal(ops->configure(&c, yf.docs[0], &st), 0);
    assert_int_equal(ops->open(st, e, sizeof(e)), 0);
    assert_int_equal(ops->last_delivered(st, &seq), 0);
    assert_int_equal(seq, 42);
    ops->close(st);
    fp = fopen(out, "r");
    char line[128];
    assert_non_null(fgets(line, sizeof(line), fp));
    assert_string_equal(line, "{\"kenchi\":{\"seq\":41},\"kind\":\"sigma\"}\n");
    assert_non_null(fgets(line, sizeof(line), fp));
    assert_null(fgets(line, sizeof(line), fp));
    fclose(fp);
    yaml_file_free(&yf);
}

struct lines {
    char text[512];
    size_t len;
    uint64_t lines[16], ends[16];
    bool cut[16];
    size_t n;
};

static int on_line(void *opaque, const char *p, size_t n, uint64_t line, uint64_t end_off,
                   bool truncated)
{
    struct lines *l = opaque;
    memcpy(l->text + l->len, p, n);
    l->len += n;
    l->text[l->len++] = '|';
    l->lines[l->n] = line;
    l->ends[l->n] = end_off;
    l->cut[l->n] = truncated;
    l->n++;
    return 0;
}

static void split(const char *in, size_t piece, size_t max, struct lines *l)
{
    memset(l, 0, sizeof(*l));
    struct line_splitter sp;
    line_splitter_init(&sp, max, 10);
    size_t n = strlen(in), off = 0;
    while (off < n) {
        size_t k = n - off < piece ? n - off : piece;
        assert_int_equal(line_splitter_feed(&sp, in + off, k, 100 + off, on_line, l), 0);
        off += k;
    }
    assert_int_equal(line_splitter_finish(&sp, 100 + off, on_line, l), 0);
    line_splitter_free(&sp);
}

static void test_line_splitter(void **state)
{
    (void)state;
    const char *in = "one\r\n\ntwo\nthis one is too long\nend";
    for (size_t piece = 1; piece <= 40; piece++) {
        struct lines l;
        split(in, piece, 8, &l);
        assert_int_equal(l.n, 4);
        l.text[l.len] = '\0';
        assert_string_equal(l.text, "one|two|this one|end|");
        /* numbered from the given start, blank lines counted */
        assert_int_equal(l.lines[0], 11);
        assert_int_equal(l.lines[1], 13);
        assert_int_equal(l.lines[2], 14);
        assert_int_equal(l.lines[3], 15);
        assert_true(l.cut[2]);
        assert_false(l.cut[0]);
        assert_int_equal(l.ends[0], 105);
        assert_int_equal(l.ends[1], 110);
        assert_int_equal(l.ends[3], 100 + strlen(in));
    }
}

static void test_config_defaults(void **state)
{
    (void)state;
    const char *text = "sources: [{type: stdin}]\n";
    struct config *cf;
    assert_int_equal(config_parse("t.yml", text, strlen(text), NULL, &cf), 0);
    assert_string_equal(cf->store, "/var/lib/kenchi/kenchi.db");
    assert_int_equal(cf->queue_bytes, 64u << 20);
    assert_int_equal(cf->commit_interval_ns, 200 * 1000000LL);
    assert_int_equal(cf->nsources, 1);
    assert_string_equal(cf->sources[0].name, "stdin-1");
    assert_false(cf->metrics_enabled);
    assert_true(cf->stored_intel);
    config_free(cf);
    const char *bad = "sources:\n  - type: file\n    paths: [/a]\n    name: 'a b'\n"
                      "  - {type: stdin}\n  - {type: stdin}\n";
    char *msgs = NULL;
    size_t msgn = 0;
    FILE *out = open_memstream(&msgs, &msgn);
    assert_int_equal(config_parse("b.yml", bad, strlen(bad), out, &cf), 2);
    fclose(out);
    assert_null(cf);
    assert_non_null(strstr(msgs, "b.yml:4:11: name: 'a b' must be"));
    assert_non_null(strstr(msgs, "b.yml:6:5: sources: standard input can be read by one"));
    free(msgs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alerts_and_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonl_output, setup, teardown),
        cmocka_unit_test(test_line_splitter),
        cmocka_unit_test(test_config_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
