/* Unit tests for hunt/scope: how --indicator and --entity values are read,
 * and the store's window scan (filters, order, plan) that the mail step
 * of a scope runs on. The whole report is tested end to end in
 * tests/e2e/scope.py. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "event/event.h"
#include "hunt/scope.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

static void test_parse_target(void **state)
{
    (void)state;
    static const struct {
        const char *arg;
        bool entity;
        int kind; /* -1: refused */
        const char *value;
    } cases[] = {
        {"203.0.113.129", false, SCOPE_IP, "203.0.113.129"},
        {"::ffff:192.0.2.1", false, SCOPE_IP, "192.0.2.1"},
        {"203.0.113.0/24", false, SCOPE_IP, "203.0.113.0/24"},
        {"2001:DB8::/32", false, SCOPE_IP, "2001:db8::/32"},
        {"ip:192.0.2.7", false, SCOPE_IP, "192.0.2.7"},
        {"cidr:10.0.0.0/8", false, SCOPE_IP, "10.0.0.0/8"},
        {"Evil.EXAMPLE.", false, SCOPE_DOMAIN, "evil.example"},
        {"domain:exfil.test", false, SCOPE_DOMAIN, "exfil.test"},
        {"Mallory@Evil.Example", false, SCOPE_EMAIL, "mallory@evil.example"},
        {"email:a@b.example", false, SCOPE_EMAIL, "a@b.example"},
        {"999.1.1.1", false, -1, NULL},       /* not an address, not a domain */
        {"1.2.3.4/33", false, -1, NULL},      /* prefix too long */
        {"192.0.2.7/24", false, -1, NULL},    /* host bits set */
        {"localhost", false, -1, NULL},       /* one label: nothing to sniff */
        {"ip:evil.example", false, -1, NULL}, /* forced type that does not fit */
        {"user:alice", false, -1, NULL},      /* an entity prefix on an indicator */
        {"domain:", false, -1, NULL},         /* empty */
        {"a@@b", false, -1, NULL},
        {"alice", true, SCOPE_ACCOUNT, "alice"},
        {"Alice@Example.org", true, SCOPE_EMAIL, "alice@example.org"},
        {"mx1.example.org", true, SCOPE_HOST, "mx1.example.org"},
        {"host:mx1", true, SCOPE_HOST, "mx1"},
        {"account:svc.backup", true, SCOPE_ACCOUNT, "svc.backup"},
        {"192.0.2.10", true, SCOPE_IP, "192.0.2.10"},
        {"domain:example.org", true, -1, NULL}, /* an indicator prefix on an entity */
        {"user:bad\x01name", true, -1, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scope_target t;
        const char *why = NULL;
        int rc = scope_parse_target(cases[i].arg, cases[i].entity, &t, &why);
        if (cases[i].kind < 0) {
            if (rc != -EINVAL || !why)
                fail_msg("'%s' should be refused with a reason", cases[i].arg);
            continue;
        }
        if (rc != 0)
            fail_msg("'%s' refused: %s", cases[i].arg, why);
        assert_int_equal(t.kind, cases[i].kind);
        assert_string_equal(t.value, cases[i].value);
        assert_int_equal(t.entity, cases[i].entity);
    }
}

/* ---- window scans -------------------------------------------------------- */

struct fx {
    char dir[64];
    char path[128];
    struct arena arena;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/kenchi-test-scope-XXXXXX");
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

#define T0 time_from_utc(2024, 6, 11, 0, 0, 0, 0)

/* Event i: one a minute from T0 (every 10th without a time), module postfix
 * for even i, dovecot for odd; action delivery, queued or login by i % 3;
 * host MX<i % 2>. */
static void make_event(struct fx *f, struct event *ev, unsigned i)
{
    static const char *const actions[] = {"delivery", "queued", "login"};
    event_init(ev, &f->arena);
    ev->file = "/var/log/mail.log";
    ev->line = i + 1;
    ev->parsed = true;
    ev->format = i % 2 ? "dovecot" : "postfix";
    ev->ts_ns = i % 10 == 9 ? TIME_NONE : T0 + (int64_t)i * 60 * NS_PER_SEC;
    ev->core[CORE_EVENT_ACTION] = str_make(actions[i % 3], strlen(actions[i % 3]));
    ev->core[CORE_HOST_NAME] = i % 2 ? STR_LIT("MX1") : STR_LIT("mx0");
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "line %u", i);
    ev->message = str_make(arena_strndup(&f->arena, tmp, (size_t)n), (size_t)n);
    ev->raw = ev->message;
    event_assign_id(ev);
}

struct seen {
    unsigned n;
    int64_t last;
    bool ordered;
    unsigned lines[128];
};

static int seen_row(void *opaque, const struct store_row *r)
{
    struct seen *s = opaque;
    if (s->n && r->ts_ns < s->last)
        s->ordered = false;
    s->last = r->ts_ns;
    const char *m = strstr(r->json, "\"line ");
    if (s->n < 128 && m)
        s->lines[s->n] = (unsigned)atoi(m + 6);
    s->n++;
    return 0;
}

static unsigned scan(struct store *s, const struct store_scan *q, struct seen *out)
{
    memset(out, 0, sizeof(*out));
    out->ordered = true;
    int rc = store_scan(s, q, seen_row, out);
    if (rc < 0)
        fail_msg("store_scan: %s", store_errmsg(s));
    return out->n;
}

static void test_store_scan(void **state)
{
    struct fx *f = *state;
    struct store *s = NULL;
    assert_int_equal(store_open(f->path, NULL, &s), 0);
    struct event evs[100];
    for (unsigned i = 0; i < 100; i++)
        make_event(f, &evs[i], i);
    assert_int_equal(store_add_batch(s, evs, 100), 0);
    assert_int_equal(store_close(s), 0);
    arena_reset(&f->arena);
    struct store_opts o;
    store_opts_default(&o);
    o.read_only = true;
    assert_int_equal(store_open(f->path, &o, &s), 0);

    struct seen seen;
    /* no filter, no bound: the 90 timed events, in time order */
    struct store_scan q = {TIME_NONE, TIME_NONE, NULL, NULL, NULL, 0};
    assert_int_equal(scan(s, &q, &seen), 90);
    assert_true(seen.ordered);
    /* [T0 + 10 min, T0 + 20 min): events 10..19 less the untimed 19 */
    q.since_ns = T0 + 10 * 60 * NS_PER_SEC;
    q.until_ns = T0 + 20 * 60 * NS_PER_SEC;
    assert_int_equal(scan(s, &q, &seen), 9);
    assert_int_equal(seen.lines[0], 10);
    assert_int_equal(seen.lines[8], 18);
    /* module and actions: postfix (even) with delivery or login (i % 3 != 1) */
    static const char *const acts[] = {"delivery", "login"};
    struct store_scan q2 = {TIME_NONE, TIME_NONE, "postfix", NULL, acts, 2};
    unsigned want = 0;
    for (unsigned i = 0; i < 100; i++)
        want += i % 10 != 9 && i % 2 == 0 && i % 3 != 1;
    assert_int_equal(scan(s, &q2, &seen), want);
    for (unsigned k = 0; k < seen.n && k < 128; k++)
        assert_true(seen.lines[k] % 2 == 0 && seen.lines[k] % 3 != 1);
    /* host, case-insensitive: MX1 holds the odd events (40 of them timed) */
    struct store_scan q3 = {TIME_NONE, TIME_NONE, NULL, "mx1", NULL, 0};
    assert_int_equal(scan(s, &q3, &seen), 40);
    struct store_scan q4 = {TIME_NONE, TIME_NONE, "postfix", "mx1", NULL, 0};
    assert_int_equal(scan(s, &q4, &seen), 0);
    /* too many actions is refused, not truncated */
    const char *many[17];
    for (int i = 0; i < 17; i++)
        many[i] = "x";
    struct store_scan q5 = {TIME_NONE, TIME_NONE, NULL, NULL, many, 17};
    assert_int_equal(store_scan(s, &q5, seen_row, &seen), -EINVAL);

    /* the time index drives; no table scan, no sort */
    struct buf plan;
    buf_init(&plan);
    assert_int_equal(store_scan_explain(s, &q2, &plan), 0);
    assert_non_null(strstr(plan.data, "USING INDEX events_ts"));
    assert_null(strstr(plan.data, "SCAN e"));
    assert_null(strstr(plan.data, "TEMP B-TREE"));
    buf_clear(&plan);
    assert_int_equal(store_scan_explain(s, &q, &plan), 0);
    assert_non_null(strstr(plan.data, "SEARCH e USING INDEX events_ts (ts>? AND ts<?)"));
    buf_free(&plan);
    assert_int_equal(store_close(s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_target),
        cmocka_unit_test_setup_teardown(test_store_scan, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
