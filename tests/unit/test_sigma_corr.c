/* Unit tests for Sigma correlations: each type on hand-made event sequences
 * (times in seconds), window borders, re-arming, temporal_ordered order
 * violations, chaining, aliases, `generate`, late events, reference cycles
 * and group eviction. Events go through the real matcher, then the engine. */
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

#include "detect/sigma-corr.h"
#include "detect/sigma-model.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

static char mapping_path[64];

static const char mapping[] = "logsources:\n"
                              "  - rule: {product: test}\n"
                              "    events: {logsource.product: test}\n";

/* Base rules: each matches events whose `act` is its name. */
static const char base_rules[] =
    "title: fail\nname: fail\nid: 11111111-0000-4000-8000-000000000001\n"
    "logsource: {product: test}\n"
    "detection: {sel: {act: fail}, condition: sel}\n"
    "---\n"
    "title: ok\nname: ok\n"
    "logsource: {product: test}\n"
    "detection: {sel: {act: ok}, condition: sel}\n"
    "---\n"
    "title: a\nname: a\n"
    "logsource: {product: test}\n"
    "detection: {sel: {act: a}, condition: sel}\n"
    "---\n"
    "title: b\nname: b\n"
    "logsource: {product: test}\n"
    "detection: {sel: {act: b}, condition: sel}\n"
    "---\n"
    "title: c\nname: c\n"
    "logsource: {product: test}\n"
    "detection: {sel: {act: c}, condition: sel}\n";

static int setup(void **state)
{
    (void)state;
    strcpy(mapping_path, "/tmp/kenchi-ls-XXXXXX");
    int fd = mkstemp(mapping_path);
    if (fd < 0)
        return -1;
    if (write(fd, mapping, sizeof(mapping) - 1) != (ssize_t)(sizeof(mapping) - 1))
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(mapping_path);
    return 0;
}

#define T0 1700000000LL

struct ctx {
    struct sigma_set *s;
    struct sigma_matcher *m;
    struct corr_engine *e;
    struct arena a;
    uint64_t line;
    int fires;
    int sigma_alerts;
    char titles[512]; /* titles of the fired correlations, ';'-separated */
    double value;
    char groups[256];
    char rules[256]; /* rules of the listed events, in order */
    uint32_t nevents;
    uint64_t nmore;
    int64_t start_s, end_s;
};

static struct ctx *ctx_new(const char *corr, const struct corr_opts *o)
{
    struct ctx *c = calloc(1, sizeof(*c));
    struct sigma_opts so = {mapping_path, NULL};
    assert_int_equal(sigma_set_new(&so, &c->s, stderr), 0);
    sigma_set_load_text(c->s, "base.yml", base_rules, strlen(base_rules));
    sigma_set_load_text(c->s, "corr.yml", corr, strlen(corr));
    sigma_set_finish(c->s);
    struct sigma_counts n;
    sigma_set_counts(c->s, &n);
    if (n.refused) {
        size_t nd;
        const struct sigma_diag *d = sigma_set_diags(c->s, &nd);
        for (size_t i = 0; i < nd; i++)
            fprintf(stderr, "# %s:%u %s\n", d[i].file, d[i].line, d[i].msg);
    }
    assert_int_equal(n.refused, 0);
    c->m = sigma_matcher_new(c->s);
    assert_int_equal(corr_engine_new(c->s, o, &c->e), 0);
    assert_non_null(c->e);
    arena_init(&c->a, 4096);
    return c;
}

static void ctx_free(struct ctx *c)
{
    corr_engine_free(c->e);
    sigma_matcher_free(c->m);
    sigma_set_free(c->s);
    arena_free(&c->a);
    free(c);
}

static int on_fire(void *opaque, const struct corr_fire *f)
{
    struct ctx *c = opaque;
    c->fires++;
    size_t l = strlen(c->titles);
    snprintf(c->titles + l, sizeof(c->titles) - l, "%s;", f->k->title);
    c->value = f->value;
    c->groups[0] = '\0';
    for (uint32_t i = 0; i < f->k->ngroup_by; i++) {
        l = strlen(c->groups);
        snprintf(c->groups + l, sizeof(c->groups) - l, "%s%.*s", i ? "," : "", (int)f->groups[i].n,
                 f->groups[i].p);
    }
    c->rules[0] = '\0';
    for (uint32_t i = 0; i < f->nevents; i++) {
        l = strlen(c->rules);
        snprintf(c->rules + l, sizeof(c->rules) - l, "%s%s", i ? "," : "",
                 f->events[i].rule ? f->events[i].rule : "?");
    }
    c->nevents = f->nevents;
    c->nmore = f->nmore;
    c->start_s = f->start_ns / 1000000000 - T0;
    c->end_s = f->end_ns / 1000000000 - T0;
    return 0;
}

static int on_match(void *opaque, const struct sigma_rule *r, const struct event *ev,
                    const struct sigma_hit_field *f, size_t nf)
{
    (void)f;
    (void)nf;
    struct ctx *c = opaque;
    if (corr_rule_emits(c->e, r))
        c->sigma_alerts++;
    return corr_feed(c->e, r, ev, on_fire, c);
}

/* Feed one event at T0 + sec with key, value pairs (NULL-ended). */
static void feed(struct ctx *c, int64_t sec, ...)
{
    struct event ev;
    arena_reset(&c->a);
    event_init(&ev, &c->a);
    ev.ls.product = "test";
    ev.ts_ns = (T0 + sec) * 1000000000LL;
    ev.file = "test.log";
    ev.line = ++c->line;
    ev.id = c->line;
    va_list ap;
    va_start(ap, sec);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        event_add_copy(&ev, k, v, strlen(v), VT_STRING);
    }
    va_end(ap);
    assert_int_equal(sigma_match(c->m, &ev, on_match, c), 0);
}

static struct corr_stats stats(struct ctx *c)
{
    struct corr_stats st;
    corr_engine_stats(c->e, &st);
    return st;
}

#define COUNT_3_IN_60S                                                                             \
    "title: many fails\ncorrelation:\n  type: event_count\n  rules: [fail]\n"                      \
    "  group-by: [ip]\n  timespan: 60s\n  condition: {gte: 3}\n"

static void test_event_count(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(COUNT_3_IN_60S, NULL);
    feed(c, 0, "act", "fail", "ip", "192.0.2.1", NULL);
    feed(c, 5, "act", "fail", "ip", "192.0.2.2", NULL);
    feed(c, 10, "act", "fail", "ip", "192.0.2.1", NULL);
    feed(c, 11, "act", "ok", "ip", "192.0.2.1", NULL); /* another rule: not counted */
    assert_int_equal(c->fires, 0);
    feed(c, 20, "act", "fail", "ip", "192.0.2.1", NULL);
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 3);
    assert_string_equal(c->groups, "192.0.2.1");
    assert_int_equal(c->nevents, 3);
    assert_int_equal(c->nmore, 0);
    assert_int_equal(c->start_s, 0);
    assert_int_equal(c->end_s, 20);
    assert_string_equal(c->rules, "fail,fail,fail");
    /* still above the threshold: no second alert */
    feed(c, 30, "act", "fail", "ip", "192.0.2.1", NULL);
    assert_int_equal(c->fires, 1);
    feed(c, 31, "act", "fail", "ip", "192.0.2.2", NULL);
    assert_int_equal(c->fires, 1);
    /* generate defaults to false: the base rule `fail` is silent, `ok` not */
    assert_int_equal(c->sigma_alerts, 1);
    /* an event without the group-by field is counted, not grouped */
    feed(c, 32, "act", "fail", NULL);
    assert_int_equal(stats(c).no_group, 1);
    ctx_free(c);
}

static void test_window_borders(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(COUNT_3_IN_60S, NULL);
    /* exactly the timespan apart: inside */
    feed(c, 0, "act", "fail", "ip", "A", NULL);
    feed(c, 30, "act", "fail", "ip", "A", NULL);
    feed(c, 60, "act", "fail", "ip", "A", NULL);
    assert_int_equal(c->fires, 1);
    assert_int_equal(c->start_s, 0);
    /* one second more: the first has left the window */
    feed(c, 0, "act", "fail", "ip", "B", NULL);
    feed(c, 30, "act", "fail", "ip", "B", NULL);
    feed(c, 61, "act", "fail", "ip", "B", NULL);
    assert_int_equal(c->fires, 1);
    ctx_free(c);
}

static void test_rearm(void **state)
{
    (void)state;
    struct ctx *c = ctx_new("title: two\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
                            "  group-by: [ip]\n  timespan: 60s\n  condition: {gte: 2}\n",
                            NULL);
    feed(c, 0, "act", "fail", "ip", "A", NULL);
    feed(c, 10, "act", "fail", "ip", "A", NULL);
    assert_int_equal(c->fires, 1);
    feed(c, 20, "act", "fail", "ip", "A", NULL);
    feed(c, 70, "act", "fail", "ip", "A", NULL); /* 20 and 70 still within 60 s */
    assert_int_equal(c->fires, 1);
    feed(c, 200, "act", "fail", "ip", "A", NULL); /* alone: under, re-armed */
    assert_int_equal(c->fires, 1);
    feed(c, 210, "act", "fail", "ip", "A", NULL);
    assert_int_equal(c->fires, 2);
    assert_int_equal(c->start_s, 200);
    ctx_free(c);
}

static void test_range_condition(void **state)
{
    (void)state;
    struct ctx *c = ctx_new("title: range\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
                            "  group-by: [ip]\n  timespan: 1h\n  condition: {gt: 1, lte: 2}\n",
                            NULL);
    feed(c, 0, "act", "fail", "ip", "A", NULL);
    assert_int_equal(c->fires, 0);
    feed(c, 1, "act", "fail", "ip", "A", NULL);
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 2);
    feed(c, 2, "act", "fail", "ip", "A", NULL); /* 3: out of range, re-armed */
    feed(c, 3, "act", "fail", "ip", "A", NULL);
    assert_int_equal(c->fires, 1);
    ctx_free(c);
}

static void test_late_event(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(COUNT_3_IN_60S, NULL);
    feed(c, 100, "act", "fail", "ip", "A", NULL);
    feed(c, 110, "act", "fail", "ip", "A", NULL);
    feed(c, 10, "act", "fail", "ip", "A", NULL); /* before the window: late */
    assert_int_equal(c->fires, 0);
    assert_int_equal(stats(c).late, 1);
    feed(c, 50, "act", "fail", "ip", "A", NULL); /* out of order but inside */
    assert_int_equal(c->fires, 1);
    assert_int_equal(c->start_s, 50);
    assert_int_equal(c->end_s, 110);
    ctx_free(c);
}

static void test_value_count(void **state)
{
    (void)state;
    struct ctx *c = ctx_new("title: spray\ncorrelation:\n  type: value_count\n  rules: [fail]\n"
                            "  group-by: [ip]\n  timespan: 10m\n"
                            "  condition: {field: user, gte: 3}\n",
                            NULL);
    feed(c, 0, "act", "fail", "ip", "A", "user", "alice", NULL);
    feed(c, 1, "act", "fail", "ip", "A", "user", "alice", NULL);
    feed(c, 2, "act", "fail", "ip", "A", "user", "bob", NULL);
    feed(c, 3, "act", "fail", "ip", "B", "user", "carol", NULL);
    feed(c, 4, "act", "fail", "ip", "A", NULL); /* no user: not a value */
    assert_int_equal(c->fires, 0);
    assert_int_equal(stats(c).no_value, 1);
    feed(c, 5, "act", "fail", "ip", "A", "user", "carol", NULL);
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 3);
    assert_int_equal(c->nevents, 4);
    ctx_free(c);
}

static void test_value_count_window_moves(void **state)
{
    (void)state;
    struct ctx *c = ctx_new("title: spray\ncorrelation:\n  type: value_count\n  rules: [fail]\n"
                            "  group-by: [ip]\n  timespan: 60s\n"
                            "  condition: {field: user, gte: 2}\n",
                            NULL);
    feed(c, 0, "act", "fail", "ip", "A", "user", "u1", NULL);
    feed(c, 10, "act", "fail", "ip", "A", "user", "u2", NULL);
    assert_int_equal(c->fires, 1);
    feed(c, 100, "act", "fail", "ip", "A", "user", "u3", NULL); /* u1, u2 left */
    feed(c, 105, "act", "fail", "ip", "A", "user", "u3", NULL);
    assert_int_equal(c->fires, 1);
    feed(c, 110, "act", "fail", "ip", "A", "user", "u1", NULL);
    assert_int_equal(c->fires, 2);
    assert_true(c->value == 2);
    /* many values enter and leave (the value table grows and is rebuilt) */
    char u[16];
    for (int i = 0; i < 200; i++) {
        snprintf(u, sizeof(u), "v%d", i);
        feed(c, 1000 + i * 2, "act", "fail", "ip", "B", "user", u, NULL);
    }
    assert_true(c->value == 2); /* fired once for B, at its second value */
    assert_int_equal(c->fires, 3);
    feed(c, 5000, "act", "fail", "ip", "B", "user", "v0", NULL);
    feed(c, 5001, "act", "fail", "ip", "B", "user", "v0", NULL);
    assert_int_equal(c->fires, 3);
    feed(c, 5002, "act", "fail", "ip", "B", "user", "v1", NULL);
    assert_int_equal(c->fires, 4);
    assert_true(c->value == 2);
    ctx_free(c);
}

static void test_value_sum_avg(void **state)
{
    (void)state;
    struct ctx *c = ctx_new("title: sum\ncorrelation:\n  type: value_sum\n  rules: [ok]\n"
                            "  group-by: [user]\n  timespan: 1h\n"
                            "  condition: {field: bytes, gt: 100}\n"
                            "---\n"
                            "title: avg\ncorrelation:\n  type: value_avg\n  rules: [a]\n"
                            "  group-by: [user]\n  timespan: 1h\n"
                            "  condition: {field: n, gte: 10}\n",
                            NULL);
    feed(c, 0, "act", "ok", "user", "u", "bytes", "50", NULL);
    feed(c, 1, "act", "ok", "user", "u", "bytes", "40", NULL);
    feed(c, 2, "act", "ok", "user", "u", "bytes", "lots", NULL); /* not a number */
    assert_int_equal(c->fires, 0);
    feed(c, 3, "act", "ok", "user", "u", "bytes", "20.5", NULL);
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 110.5);
    feed(c, 10, "act", "a", "user", "u", "n", "5", NULL);
    assert_int_equal(c->fires, 1);
    feed(c, 11, "act", "a", "user", "u", "n", "15", NULL);
    assert_int_equal(c->fires, 2);
    assert_true(c->value == 10);
    assert_string_equal(c->titles, "sum;avg;");
    ctx_free(c);
}

static void test_value_percentile(void **state)
{
    (void)state;
    /* with `percentile`: the nearest-rank percentile of the numbers */
    struct ctx *c = ctx_new("title: p90\ncorrelation:\n  type: value_percentile\n  rules: [ok]\n"
                            "  group-by: [user]\n  timespan: 1h\n"
                            "  condition: {field: ms, percentile: 90, gte: 1000}\n",
                            NULL);
    static const char *const ms[] = {"10", "20", "30", "40", "50", "60", "70", "80", "5000"};
    for (int i = 0; i < 9; i++)
        feed(c, i, "act", "ok", "user", "u", "ms", ms[i], NULL);
    /* 9 values: rank ceil(0.9 * 9) = 9 -> 5000 */
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 5000);
    ctx_free(c);
    /* percentile 0 is the minimum */
    c = ctx_new("title: p0\ncorrelation:\n  type: value_percentile\n  rules: [ok]\n"
                "  group-by: [user]\n  timespan: 1h\n"
                "  condition: {field: ms, percentile: 0, lte: 10}\n",
                NULL);
    feed(c, 0, "act", "ok", "user", "u", "ms", "50", NULL);
    assert_int_equal(c->fires, 0);
    feed(c, 1, "act", "ok", "user", "u", "ms", "7", NULL);
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 7);
    ctx_free(c);
    /* without: the share (percent) of the window's events with this value */
    c = ctx_new("title: rare\ncorrelation:\n  type: value_percentile\n  rules: [ok]\n"
                "  group-by: [host]\n  timespan: 24h\n"
                "  condition: {field: image, lte: 10}\n",
                NULL);
    for (int i = 0; i < 9; i++)
        feed(c, i, "act", "ok", "host", "h", "image", "sshd", NULL);
    assert_int_equal(c->fires, 0);
    feed(c, 9, "act", "ok", "host", "h", "image", "nc", NULL);
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 10);
    ctx_free(c);
}

static void test_temporal(void **state)
{
    (void)state;
    struct ctx *c = ctx_new("title: abc\ncorrelation:\n  type: temporal\n  rules: [a, b, c]\n"
                            "  group-by: [host]\n  timespan: 60s\n",
                            NULL);
    feed(c, 0, "act", "c", "host", "h1", NULL);
    feed(c, 10, "act", "a", "host", "h1", NULL);
    feed(c, 15, "act", "a", "host", "h2", NULL);
    assert_int_equal(c->fires, 0);
    feed(c, 20, "act", "b", "host", "h1", NULL);
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 3);
    assert_string_equal(c->rules, "c,a,b");
    assert_int_equal(c->start_s, 0);
    /* too far apart */
    feed(c, 30, "act", "b", "host", "h3", NULL);
    feed(c, 40, "act", "c", "host", "h3", NULL);
    feed(c, 100, "act", "a", "host", "h3", NULL);
    assert_int_equal(c->fires, 1);
    ctx_free(c);
}

#define ORDERED_ABC                                                                                \
    "title: abc in order\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b, c]\n"            \
    "  group-by: [host]\n  timespan: 60s\n"

static void test_temporal_ordered(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(ORDERED_ABC, NULL);
    feed(c, 0, "act", "a", "host", "h1", NULL);
    feed(c, 10, "act", "b", "host", "h1", NULL);
    feed(c, 20, "act", "c", "host", "h1", NULL);
    assert_int_equal(c->fires, 1);
    assert_string_equal(c->rules, "a,b,c");
    /* consumed: another c alone does not fire again */
    feed(c, 21, "act", "c", "host", "h1", NULL);
    assert_int_equal(c->fires, 1);
    /* order violation: b before a */
    feed(c, 0, "act", "b", "host", "h2", NULL);
    feed(c, 10, "act", "a", "host", "h2", NULL);
    feed(c, 20, "act", "c", "host", "h2", NULL);
    assert_int_equal(c->fires, 1);
    /* in order but a to c longer than the timespan */
    feed(c, 0, "act", "a", "host", "h3", NULL);
    feed(c, 10, "act", "b", "host", "h3", NULL);
    feed(c, 61, "act", "c", "host", "h3", NULL);
    assert_int_equal(c->fires, 1);
    /* a later a restarts the chain inside the window */
    feed(c, 0, "act", "a", "host", "h4", NULL);
    feed(c, 30, "act", "a", "host", "h4", NULL);
    feed(c, 40, "act", "b", "host", "h4", NULL);
    feed(c, 85, "act", "c", "host", "h4", NULL);
    assert_int_equal(c->fires, 2);
    assert_int_equal(c->start_s, 30);
    ctx_free(c);
}

static void test_ordered_same_rule_twice(void **state)
{
    (void)state;
    /* one event never fills two steps */
    struct ctx *c = ctx_new("title: a then a\ncorrelation:\n  type: temporal_ordered\n"
                            "  rules: [a, a]\n  group-by: [host]\n  timespan: 60s\n",
                            NULL);
    feed(c, 0, "act", "a", "host", "h", NULL);
    assert_int_equal(c->fires, 0);
    feed(c, 5, "act", "a", "host", "h", NULL);
    assert_int_equal(c->fires, 1);
    ctx_free(c);
}

static void test_chaining(void **state)
{
    (void)state;
    struct ctx *c = ctx_new("title: brute force then login\nlevel: high\ncorrelation:\n"
                            "  type: temporal_ordered\n  rules: [many_fails, ok]\n"
                            "  group-by: [user]\n  timespan: 10m\n"
                            "---\n"
                            "title: many fails\nname: many_fails\ncorrelation:\n"
                            "  type: event_count\n  rules: [fail]\n  group-by: [user, ip]\n"
                            "  timespan: 10m\n  condition: {gte: 3}\n",
                            NULL);
    feed(c, 0, "act", "fail", "user", "bob", "ip", "A", NULL);
    feed(c, 1, "act", "fail", "user", "bob", "ip", "A", NULL);
    feed(c, 2, "act", "ok", "user", "bob", "ip", "A", NULL); /* too early */
    feed(c, 3, "act", "fail", "user", "bob", "ip", "A", NULL);
    assert_int_equal(c->fires, 0); /* the inner one fired, but only feeds the outer */
    assert_int_equal(stats(c).fired, 1);
    feed(c, 4, "act", "ok", "user", "alice", "ip", "A", NULL); /* another user */
    assert_int_equal(c->fires, 0);
    feed(c, 60, "act", "ok", "user", "bob", "ip", "B", NULL);
    assert_int_equal(c->fires, 1);
    assert_string_equal(c->titles, "brute force then login;");
    assert_string_equal(c->groups, "bob");
    assert_string_equal(c->rules, "many_fails,ok");
    assert_int_equal(c->start_s, 3);
    /* neither `fail` nor `ok` emits: both are named by a correlation */
    assert_int_equal(c->sigma_alerts, 0);
    ctx_free(c);
}

static void test_generate(void **state)
{
    (void)state;
    struct ctx *c = ctx_new("title: g\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
                            "  group-by: [ip]\n  timespan: 60s\n  condition: {gte: 2}\n"
                            "  generate: true\n",
                            NULL);
    feed(c, 0, "act", "fail", "ip", "A", NULL);
    feed(c, 1, "act", "fail", "ip", "A", NULL);
    assert_int_equal(c->sigma_alerts, 2);
    assert_int_equal(c->fires, 1);
    ctx_free(c);
}

static void test_aliases(void **state)
{
    (void)state;
    struct ctx *c = ctx_new("title: aliased\ncorrelation:\n  type: temporal\n  rules: [a, b]\n"
                            "  group-by: [addr]\n  timespan: 10s\n"
                            "  aliases:\n    addr:\n      a: source.ip\n      b: dst\n",
                            NULL);
    feed(c, 0, "act", "a", "source.ip", "192.0.2.7", "dst", "198.51.100.1", NULL);
    feed(c, 1, "act", "b", "source.ip", "198.51.100.1", "dst", "192.0.2.8", NULL);
    assert_int_equal(c->fires, 0);
    feed(c, 2, "act", "b", "source.ip", "198.51.100.1", "dst", "192.0.2.7", NULL);
    assert_int_equal(c->fires, 1);
    assert_string_equal(c->groups, "192.0.2.7");
    ctx_free(c);
}

static void test_eviction(void **state)
{
    (void)state;
    struct corr_opts o;
    corr_opts_default(&o);
    o.max_groups = 2;
    struct ctx *c = ctx_new("title: two\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
                            "  group-by: [ip]\n  timespan: 1h\n  condition: {gte: 2}\n",
                            &o);
    feed(c, 0, "act", "fail", "ip", "A", NULL);
    feed(c, 1, "act", "fail", "ip", "B", NULL);
    feed(c, 2, "act", "fail", "ip", "C", NULL); /* A goes */
    feed(c, 3, "act", "fail", "ip", "A", NULL); /* B goes; A starts again at 1 */
    assert_int_equal(c->fires, 0);
    struct corr_stats st = stats(c);
    assert_int_equal(st.groups_evicted, 2);
    assert_int_equal(st.groups_live, 2);
    feed(c, 4, "act", "fail", "ip", "C", NULL);
    assert_int_equal(c->fires, 1);
    assert_string_equal(c->groups, "C");
    ctx_free(c);
}

static void test_expiry_and_alert_cap(void **state)
{
    (void)state;
    struct corr_opts o;
    corr_opts_default(&o);
    o.max_alert_events = 2;
    o.max_window_events = 4;
    struct ctx *c = ctx_new(COUNT_3_IN_60S, &o);
    feed(c, 0, "act", "fail", "ip", "A", NULL);
    feed(c, 1, "act", "fail", "ip", "B", NULL);
    feed(c, 1000, "act", "fail", "ip", "C", NULL); /* A and B have passed */
    struct corr_stats st = stats(c);
    assert_int_equal(st.groups_expired, 2);
    assert_int_equal(st.groups_live, 1);
    feed(c, 1001, "act", "fail", "ip", "C", NULL);
    feed(c, 1002, "act", "fail", "ip", "C", NULL);
    assert_int_equal(c->fires, 1);
    assert_int_equal(c->nevents, 2);
    assert_int_equal(c->nmore, 1);
    for (int i = 0; i < 3; i++)
        feed(c, 1003 + i, "act", "fail", "ip", "C", NULL);
    assert_int_equal(stats(c).window_overflow, 2);
    ctx_free(c);
}

static void test_cycle(void **state)
{
    (void)state;
    struct ctx *c = ctx_new("title: x\nname: x\ncorrelation:\n  type: event_count\n"
                            "  rules: [y, fail]\n  group-by: [ip]\n  timespan: 1m\n"
                            "  condition: {gte: 1}\n"
                            "---\n"
                            "title: y\nname: y\ncorrelation:\n  type: event_count\n"
                            "  rules: [x]\n  group-by: [ip]\n  timespan: 1m\n"
                            "  condition: {gte: 1}\n",
                            NULL);
    assert_int_equal(stats(c).disabled, 2);
    size_t nd, cyc = 0;
    const struct sigma_diag *d = sigma_set_diags(c->s, &nd);
    for (size_t i = 0; i < nd; i++)
        cyc += d[i].kind == SIGMA_WARNING && strstr(d[i].msg, "in a cycle") != NULL;
    assert_int_equal(cyc, 2);
    feed(c, 0, "act", "fail", "ip", "A", NULL);
    assert_int_equal(c->fires, 0);
    ctx_free(c);
}

static void test_no_group_by(void **state)
{
    (void)state;
    /* without group-by every event is in one group */
    struct ctx *c = ctx_new("title: all\ncorrelation:\n  type: event_count\n  rules: [fail]\n"
                            "  timespan: 60s\n  condition: {eq: 2}\n",
                            NULL);
    feed(c, 0, "act", "fail", "ip", "A", NULL);
    feed(c, 1, "act", "fail", "ip", "B", NULL);
    assert_int_equal(c->fires, 1);
    assert_string_equal(c->groups, "");
    ctx_free(c);
}

static void test_temporal_condition(void **state)
{
    (void)state;
    /* two of the three rules suffice */
    struct ctx *c = ctx_new("title: 2 of abc\ncorrelation:\n  type: temporal\n"
                            "  rules: [a, b, c]\n  group-by: [host]\n  timespan: 60s\n"
                            "  condition: {gte: 2}\n",
                            NULL);
    feed(c, 0, "act", "a", "host", "h", NULL);
    feed(c, 1, "act", "a", "host", "h", NULL); /* the same rule again: still one */
    assert_int_equal(c->fires, 0);
    feed(c, 2, "act", "c", "host", "h", NULL);
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 2);
    assert_string_equal(c->rules, "a,c");
    ctx_free(c);
}

static void test_value_count_tuple_and_neq(void **state)
{
    (void)state;
    /* distinct (user, domain) pairs; neq 1 fires on the second distinct */
    struct ctx *c = ctx_new("title: pairs\ncorrelation:\n  type: value_count\n  rules: [fail]\n"
                            "  group-by: [ip]\n  timespan: 60s\n"
                            "  condition: {field: [user, domain], neq: 1}\n",
                            NULL);
    feed(c, 0, "act", "fail", "ip", "A", "user", "ab", "domain", "c", NULL);
    feed(c, 1, "act", "fail", "ip", "A", "user", "ab", "domain", "c", NULL);
    assert_int_equal(c->fires, 0);
    feed(c, 2, "act", "fail", "ip", "A", "user", "a", "domain", "bc", NULL);
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 2);
    ctx_free(c);
}

static void test_no_time(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(COUNT_3_IN_60S, NULL);
    struct event ev;
    arena_reset(&c->a);
    event_init(&ev, &c->a);
    ev.ls.product = "test";
    ev.ts_ns = TIME_NONE;
    event_add_copy(&ev, "act", "fail", 4, VT_STRING);
    event_add_copy(&ev, "ip", "A", 1, VT_STRING);
    assert_int_equal(sigma_match(c->m, &ev, on_match, c), 0);
    assert_int_equal(stats(c).no_time, 1);
    assert_int_equal(stats(c).groups_live, 0);
    ctx_free(c);
}

/* Many pseudo-random events, out of order, over every type at once with
 * tiny caps: the state stays within its bounds (and ASan sees no fault). */
static void test_stress_bounds(void **state)
{
    (void)state;
    struct corr_opts o = {.max_groups = 12, .max_window_events = 4, .max_alert_events = 2};
    struct ctx *c = ctx_new(
        "title: ec\nname: ec\ncorrelation: {type: event_count, rules: [fail], group-by: [ip],"
        " timespan: 300s, condition: {gte: 3}}\n---\n"
        "title: vc\ncorrelation: {type: value_count, rules: [fail, ok], group-by: [ip],"
        " timespan: 300s, condition: {field: user, gte: 2}}\n---\n"
        "title: vs\ncorrelation: {type: value_sum, rules: [ok], group-by: [ip],"
        " timespan: 300s, condition: {field: n, gt: 10}}\n---\n"
        "title: vp\ncorrelation: {type: value_percentile, rules: [ok], group-by: [ip],"
        " timespan: 300s, condition: {field: n, percentile: 50, gte: 5}}\n---\n"
        "title: tp\ncorrelation: {type: temporal, rules: [a, b, c], group-by: [ip],"
        " timespan: 30s}\n---\n"
        "title: to\ncorrelation: {type: temporal_ordered, rules: [ec, a, b], group-by: [ip],"
        " timespan: 60s}\n",
        &o);
    static const char *const acts[] = {"fail", "ok", "a", "b", "c"};
    static const char *const ips[] = {"A", "B", "C", "D"};
    static const char *const users[] = {"u1", "u2", "u3"};
    uint32_t x = 12345;
    int64_t t = 0;
    for (int i = 0; i < 3000; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t r = x >> 8;
        /* mostly forward, sometimes back, now and then far back (late) */
        t += r % 97 == 0 ? -100 : (int64_t)(r % 7) - 2;
        char num[16];
        snprintf(num, sizeof(num), "%u", r % 13);
        feed(c, t, "act", acts[r % 5], "ip", ips[(r / 5) % 4], "user", users[(r / 25) % 3], "n",
             num, NULL);
        assert_true(stats(c).groups_live <= 12);
    }
    struct corr_stats st = stats(c);
    assert_true(st.groups_evicted > 0);
    assert_true(st.window_overflow > 0);
    assert_true(st.late > 0);
    assert_true(c->fires > 0);
    ctx_free(c);
}

/* ---- saved state ------------------------------------------------------ */

/* One event of a script: act, then field/value pairs (up to 3). */
struct sev {
    int64_t sec;
    const char *kv[8];
};

static void feed_sev(struct ctx *c, const struct sev *e)
{
    const char *const *k = e->kv;
    feed(c, e->sec, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], NULL);
}

static void save(struct ctx *c, struct buf *b)
{
    buf_clear(b);
    assert_int_equal(corr_engine_save(c->e, b), 0);
}

/* The script fed whole to one engine, and cut at `cut` with the state
 * saved, restored into a fresh engine (a restart) that takes the rest:
 * the same alerts, the same final state byte for byte. */
static void roundtrip(const char *corr, const struct sev *evs, size_t n, size_t cut, int fires)
{
    struct ctx *whole = ctx_new(corr, NULL), *before = ctx_new(corr, NULL);
    for (size_t i = 0; i < n; i++)
        feed_sev(whole, &evs[i]);
    for (size_t i = 0; i < cut; i++)
        feed_sev(before, &evs[i]);
    struct buf b;
    buf_init(&b);
    save(before, &b);
    struct ctx *after = ctx_new(corr, NULL);
    after->line = before->line;
    struct corr_restore_report rep;
    char err[200];
    assert_int_equal(corr_engine_restore(after->e, b.data, b.len, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.corrs_gone + rep.corrs_changed, 0);
    assert_int_equal(rep.groups, stats(before).groups_live);
    for (size_t i = cut; i < n; i++)
        feed_sev(after, &evs[i]);
    assert_int_equal(before->fires + after->fires, fires);
    assert_int_equal(whole->fires, fires);
    if (fires && after->fires) {
        assert_true(after->value == whole->value);
        assert_string_equal(after->groups, whole->groups);
        assert_string_equal(after->rules, whole->rules);
        assert_int_equal(after->nevents, whole->nevents);
        assert_int_equal(after->nmore, whole->nmore);
        assert_int_equal(after->start_s, whole->start_s);
        assert_int_equal(after->end_s, whole->end_s);
    }
    struct buf w;
    buf_init(&w);
    save(whole, &w);
    save(after, &b);
    assert_int_equal(b.len, w.len);
    assert_memory_equal(b.data, w.data, b.len);
    buf_free(&w);
    buf_free(&b);
    ctx_free(whole);
    ctx_free(before);
    ctx_free(after);
}

#define SPRAY_5_IN_10M                                                                             \
    "title: spray\nid: 22222222-0000-4000-8000-000000000001\ncorrelation:\n"                       \
    "  type: event_count\n  rules: [fail]\n  group-by: [ip]\n  timespan: 10m\n"                    \
    "  condition: {gte: 5}\n"

static void test_state_event_count(void **state)
{
    (void)state;
    static const struct sev evs[] = {
        {0, {"act", "fail", "ip", "A"}},   {10, {"act", "fail", "ip", "B"}},
        {20, {"act", "fail", "ip", "A"}},  {30, {"act", "fail", "ip", "A"}},
        {40, {"act", "fail", "ip", "B"}},  {50, {"act", "fail", "ip", "A"}},
        {60, {"act", "fail", "ip", "A"}},  {70, {"act", "fail", "ip", "A"}},
        {900, {"act", "fail", "ip", "B"}}, {901, {"act", "fail", "ip", "B"}},
    };
    size_t n = sizeof(evs) / sizeof(evs[0]);
    for (size_t cut = 0; cut <= n; cut++)
        roundtrip(SPRAY_5_IN_10M, evs, n, cut, 1);
}

static void test_state_value_count(void **state)
{
    (void)state;
    static const struct sev evs[] = {
        {0, {"act", "fail", "ip", "A", "user", "u1"}},
        {1, {"act", "fail", "ip", "A", "user", "u2"}},
        {2, {"act", "fail", "ip", "A", "user", "u1"}},
        {3, {"act", "fail", "ip", "B", "user", "u1"}},
        {4, {"act", "fail", "ip", "A", "user", "u3"}},
        {5, {"act", "fail", "ip", "A", "user", "u4"}},
    };
    size_t n = sizeof(evs) / sizeof(evs[0]);
    for (size_t cut = 0; cut <= n; cut++)
        roundtrip("title: users\ncorrelation:\n  type: value_count\n  rules: [fail]\n"
                  "  group-by: [ip]\n  timespan: 10m\n  condition: {field: user, gte: 3}\n",
                  evs, n, cut, 1);
}

static void test_state_temporal(void **state)
{
    (void)state;
    static const struct sev evs[] = {
        {0, {"act", "c", "host", "h1"}},  {10, {"act", "a", "host", "h1"}},
        {15, {"act", "a", "host", "h2"}}, {20, {"act", "b", "host", "h1"}},
        {30, {"act", "b", "host", "h2"}}, {40, {"act", "c", "host", "h2"}},
    };
    size_t n = sizeof(evs) / sizeof(evs[0]);
    for (size_t cut = 0; cut <= n; cut++)
        roundtrip("title: abc\ncorrelation:\n  type: temporal\n  rules: [a, b, c]\n"
                  "  group-by: [host]\n  timespan: 60s\n",
                  evs, n, cut, 2);
    for (size_t cut = 0; cut <= n; cut++)
        roundtrip(ORDERED_ABC, evs, n, cut, 1);
}

static void test_state_values(void **state)
{
    (void)state;
    static const struct sev evs[] = {
        {0, {"act", "ok", "user", "u", "ms", "10"}},   {1, {"act", "ok", "user", "v", "ms", "30"}},
        {2, {"act", "ok", "user", "u", "ms", "20"}},   {3, {"act", "ok", "user", "u", "ms", "40"}},
        {4, {"act", "ok", "user", "u", "ms", "5000"}}, {5, {"act", "ok", "user", "v", "ms", "9"}},
    };
    size_t n = sizeof(evs) / sizeof(evs[0]);
    for (size_t cut = 0; cut <= n; cut++) {
        roundtrip("title: sum\ncorrelation:\n  type: value_sum\n  rules: [ok]\n"
                  "  group-by: [user]\n  timespan: 1h\n  condition: {field: ms, gt: 70}\n",
                  evs, n, cut, 1);
        roundtrip("title: avg\ncorrelation:\n  type: value_avg\n  rules: [ok]\n"
                  "  group-by: [user]\n  timespan: 1h\n  condition: {field: ms, gte: 1000}\n",
                  evs, n, cut, 1);
        roundtrip("title: p80\ncorrelation:\n  type: value_percentile\n  rules: [ok]\n"
                  "  group-by: [user]\n  timespan: 1h\n"
                  "  condition: {field: ms, percentile: 80, gte: 1000}\n",
                  evs, n, cut, 1);
        /* shares of values: the value table is rebuilt from the window */
        roundtrip("title: rare\ncorrelation:\n  type: value_percentile\n  rules: [ok]\n"
                  "  group-by: [act]\n  timespan: 1h\n  condition: {field: user, lte: 40}\n",
                  evs, n, cut, 1);
    }
}

/* A window that has passed while the daemon was down still expires by
 * event time after the restart; one still open keeps counting. */
static void test_state_expiry(void **state)
{
    (void)state;
    struct ctx *a = ctx_new(SPRAY_5_IN_10M, NULL);
    for (int i = 0; i < 3; i++)
        feed(a, i, "act", "fail", "ip", "A", NULL);
    for (int i = 0; i < 3; i++)
        feed(a, 500 + i, "act", "fail", "ip", "B", NULL);
    struct buf b;
    buf_init(&b);
    save(a, &b);
    struct ctx *c = ctx_new(SPRAY_5_IN_10M, NULL);
    struct corr_restore_report rep;
    char err[200];
    assert_int_equal(corr_engine_restore(c->e, b.data, b.len, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.groups, 2);
    /* 700 s: A's window (0..2) is over, B's (500..502) is not */
    feed(c, 700, "act", "fail", "ip", "A", NULL);
    feed(c, 701, "act", "fail", "ip", "A", NULL);
    assert_int_equal(stats(c).groups_expired, 1);
    assert_int_equal(c->fires, 0);
    feed(c, 700, "act", "fail", "ip", "B", NULL);
    assert_int_equal(c->fires, 0);
    feed(c, 701, "act", "fail", "ip", "B", NULL);
    assert_int_equal(c->fires, 1);
    assert_string_equal(c->groups, "B");
    assert_int_equal(c->start_s, 500);
    /* a fired group stays fired across a restart: no second alert */
    save(c, &b);
    struct ctx *d = ctx_new(SPRAY_5_IN_10M, NULL);
    assert_int_equal(corr_engine_restore(d->e, b.data, b.len, &rep, err, sizeof(err)), 0);
    feed(d, 702, "act", "fail", "ip", "B", NULL);
    assert_int_equal(d->fires, 0);
    buf_free(&b);
    ctx_free(a);
    ctx_free(c);
    ctx_free(d);
}

/* Another rule set (a reload, or a restart with changed rules): matched by
 * id or name; correlations gone or changed lose their groups. */
static void test_state_rules_changed(void **state)
{
    (void)state;
    const char *old = SPRAY_5_IN_10M "---\n"
                                     "title: by name\nname: users\ncorrelation:\n"
                                     "  type: value_count\n  rules: [fail]\n  group-by: [ip]\n"
                                     "  timespan: 10m\n  condition: {field: user, gte: 3}\n"
                                     "---\n"
                                     "title: gone\nname: gone\ncorrelation:\n"
                                     "  type: event_count\n  rules: [ok]\n  group-by: [ip]\n"
                                     "  timespan: 10m\n  condition: {gte: 2}\n";
    struct ctx *a = ctx_new(old, NULL);
    for (int i = 0; i < 4; i++) {
        char u[16];
        snprintf(u, sizeof(u), "u%d", i);
        feed(a, i, "act", "fail", "ip", "A", "user", i < 2 ? u : "u0", NULL);
    }
    feed(a, 5, "act", "ok", "ip", "A", NULL);
    assert_int_equal(stats(a).groups_live, 3);
    struct buf b;
    buf_init(&b);
    save(a, &b);
    /* the spray keeps its id under a new title and threshold; `users`
     * now counts by user; `gone` is gone */
    const char *now = "title: spray (renamed)\nid: 22222222-0000-4000-8000-000000000001\n"
                      "correlation:\n  type: event_count\n  rules: [fail]\n"
                      "  group-by: [ip]\n  timespan: 10m\n  condition: {gte: 6}\n"
                      "---\n"
                      "title: by name\nname: users\ncorrelation:\n"
                      "  type: value_count\n  rules: [fail]\n  group-by: [user]\n"
                      "  timespan: 10m\n  condition: {field: ip, gte: 3}\n";
    struct ctx *c = ctx_new(now, NULL);
    struct corr_restore_report rep;
    char err[200];
    assert_int_equal(corr_engine_restore(c->e, b.data, b.len, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.corrs, 1);
    assert_int_equal(rep.corrs_gone, 1);
    assert_int_equal(rep.corrs_changed, 1);
    assert_int_equal(rep.groups, 1);
    assert_int_equal(rep.groups_dropped, 2);
    feed(c, 6, "act", "fail", "ip", "A", "user", "x", NULL);
    assert_int_equal(c->fires, 0);
    feed(c, 7, "act", "fail", "ip", "A", "user", "x", NULL);
    assert_int_equal(c->fires, 1);
    assert_true(c->value == 6);
    buf_free(&b);
    ctx_free(a);
    ctx_free(c);
}

/* Damaged, foreign or truncated blobs are refused whole: the engine is
 * left empty, with a reason. Lower limits keep the newest. */
static void test_state_damaged_and_limits(void **state)
{
    (void)state;
    struct ctx *a = ctx_new(SPRAY_5_IN_10M, NULL);
    for (int i = 0; i < 4; i++)
        feed(a, i, "act", "fail", "ip", i % 2 ? "A" : "B", NULL);
    struct buf b;
    buf_init(&b);
    save(a, &b);
    struct ctx *c = ctx_new(SPRAY_5_IN_10M, NULL);
    struct corr_restore_report rep;
    char err[200];
    for (size_t i = 0; i < b.len; i++) {
        b.data[i] ^= 0x20;
        assert_int_equal(corr_engine_restore(c->e, b.data, b.len, &rep, err, sizeof(err)), -EINVAL);
        assert_true(err[0] != '\0');
        assert_int_equal(stats(c).groups_live, 0);
        b.data[i] ^= 0x20;
    }
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(corr_engine_restore(c->e, b.data, n, &rep, err, sizeof(err)), -EINVAL);
    b.data[4] = 9; /* version 9 */
    assert_int_equal(corr_engine_restore(c->e, b.data, b.len, &rep, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "version 9"));
    b.data[4] = 1;
    assert_int_equal(corr_engine_restore(c->e, b.data, b.len, &rep, err, sizeof(err)), 0);
    assert_int_equal(stats(c).groups_live, 2);
    /* a daemon restarted with max_groups 1 and 1 window entry */
    struct corr_opts o;
    corr_opts_default(&o);
    o.max_groups = 1;
    o.max_window_events = 1;
    struct ctx *d = ctx_new(SPRAY_5_IN_10M, &o);
    assert_int_equal(corr_engine_restore(d->e, b.data, b.len, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.groups, 1);
    assert_int_equal(rep.groups_dropped, 1);
    buf_free(&b);
    ctx_free(a);
    ctx_free(c);
    ctx_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_count),
        cmocka_unit_test(test_window_borders),
        cmocka_unit_test(test_rearm),
        cmocka_unit_test(test_range_condition),
        cmocka_unit_test(test_late_event),
        cmocka_unit_test(test_value_count),
        cmocka_unit_test(test_value_count_window_moves),
        cmocka_unit_test(test_value_sum_avg),
        cmocka_unit_test(test_value_percentile),
        cmocka_unit_test(test_temporal),
        cmocka_unit_test(test_temporal_ordered),
        cmocka_unit_test(test_ordered_same_rule_twice),
        cmocka_unit_test(test_chaining),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_expiry_and_alert_cap),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_no_group_by),
        cmocka_unit_test(test_temporal_condition),
        cmocka_unit_test(test_value_count_tuple_and_neq),
        cmocka_unit_test(test_no_time),
        cmocka_unit_test(test_stress_bounds),
        cmocka_unit_test(test_state_event_count),
        cmocka_unit_test(test_state_value_count),
        cmocka_unit_test(test_state_temporal),
        cmocka_unit_test(test_state_values),
        cmocka_unit_test(test_state_expiry),
        cmocka_unit_test(test_state_rules_changed),
        cmocka_unit_test(test_state_damaged_and_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
