/* Unit tests for the host baseline module (bl-host.c), driven directly
 * through struct bl_ctx: Zeek conn and dns events built by hand, facts
 * collected by the test's emit. Times are whole seconds of event time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "baseline/bl-module.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

#define T0  1709251200u /* 2024-03-01T00:00:00Z */
#define DAY 86400u

struct got {
    int kind;
    char entity[64], det[32], feature[40], value[128], text[400];
    double score;
    int64_t ts_ns;
};

struct env {
    struct bl_config cfg;
    struct bl_labels labels;
    struct bl_ctx ctx;
    void *m;
    struct arena a;
    struct got f[512];
    int n;
};

static char *servers[] = {"10.1.0.10"};
static char *internal[] = {"192.0.2.0/24"};

static int collect(void *o, const struct bl_fact *f)
{
    struct env *e = o;
    if (e->n >= 512)
        return 0;
    struct got *g = &e->f[e->n++];
    g->kind = (int)f->kind;
    snprintf(g->entity, sizeof g->entity, "%s", f->entity);
    snprintf(g->det, sizeof g->det, "%s", f->detector);
    snprintf(g->feature, sizeof g->feature, "%s", f->feature);
    snprintf(g->value, sizeof g->value, "%s", f->value ? f->value : "");
    snprintf(g->text, sizeof g->text, "%s", f->text);
    g->score = f->score;
    g->ts_ns = f->ev ? f->ev->ts_ns : 0;
    return 0;
}

static struct env *env_new(void)
{
    struct env *e = calloc(1, sizeof *e);
    bl_config_default(&e->cfg);
    e->cfg.servers = servers;
    e->cfg.nservers = 1;
    e->cfg.internal_networks = internal;
    e->cfg.ninternal_networks = 1;
    bl_labels_init(&e->labels, 0);
    e->ctx = (struct bl_ctx){.cfg = &e->cfg, .labels = &e->labels, .emit = collect, .opaque = e};
    e->m = bl_host_module.create(&e->cfg, &e->labels);
    assert_non_null(e->m);
    arena_init(&e->a, 4096);
    return e;
}

static void env_free(struct env *e)
{
    bl_host_module.destroy(e->m);
    bl_labels_free(&e->labels);
    arena_free(&e->a);
    free(e);
}

static struct str dup_str(struct env *e, const char *s)
{
    return (struct str){arena_strndup(&e->a, s, strlen(s)), strlen(s)};
}

static void conn(struct env *e, uint32_t t, const char *src, const char *dst, unsigned port,
                 uint64_t bytes, const char *service)
{
    struct event ev;
    char tmp[32];
    arena_reset(&e->a);
    event_init(&ev, &e->a);
    ev.ts_ns = (int64_t)t * NS_PER_SEC;
    ev.ls = (struct logsource){"zeek", "conn", NULL};
    ev.file = "conn.log";
    ev.line = t;
    ev.parsed = true;
    event_set_core(&ev, CORE_SOURCE_IP, dup_str(e, src));
    event_set_core(&ev, CORE_DESTINATION_IP, dup_str(e, dst));
    snprintf(tmp, sizeof tmp, "%u", port);
    event_set_core(&ev, CORE_DESTINATION_PORT, dup_str(e, tmp));
    snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)bytes);
    event_set_core(&ev, CORE_SOURCE_BYTES, dup_str(e, tmp));
    event_add_str(&ev, "proto", STR_LIT("tcp"));
    if (service)
        event_add_str(&ev, "service", dup_str(e, service));
    assert_int_equal(bl_host_module.on_event(e->m, &e->ctx, &ev), 0);
}

/* host asks resolver; answers is a JSON array text (or NULL). */
static void dns(struct env *e, uint32_t t, const char *host, const char *answers)
{
    struct event ev;
    arena_reset(&e->a);
    event_init(&ev, &e->a);
    ev.ts_ns = (int64_t)t * NS_PER_SEC;
    ev.ls = (struct logsource){"zeek", "dns", NULL};
    ev.parsed = true;
    event_set_core(&ev, CORE_SOURCE_IP, dup_str(e, host));
    event_set_core(&ev, CORE_DESTINATION_IP, STR_LIT("10.1.0.53"));
    event_set_core(&ev, CORE_DESTINATION_PORT, STR_LIT("53"));
    event_add_str(&ev, "query", STR_LIT("example.test"));
    event_add_true(&ev, "RD");
    if (answers)
        event_add(&ev, STR_LIT("answers"), dup_str(e, answers), VT_JSON);
    assert_int_equal(bl_host_module.on_event(e->m, &e->ctx, &ev), 0);
}

static int count(const struct env *e, const char *det, const char *entity)
{
    int k = 0;
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->f[i].det, det) && (!entity || !strcmp(e->f[i].entity, entity)))
            k++;
    return k;
}

static const struct got *find(const struct env *e, const char *det)
{
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->f[i].det, det))
            return &e->f[i];
    return NULL;
}

/* Ten days of the server's usual life: daily resolved connections to two
 * destinations. */
static void usual_life(struct env *e, const char *host, unsigned days)
{
    for (unsigned d = 0; d < days; d++) {
        uint32_t t = T0 + d * DAY + 3600;
        dns(e, t, host, "[\"mirror.example.test\",\"198.51.100.7\"]");
        conn(e, t + 1, host, "198.51.100.7", 443, 5000, "ssl");
        dns(e, t + 60, host, "[\"198.51.100.8\"]");
        conn(e, t + 61, host, "198.51.100.8", 80, 900, "http");
    }
}

static void test_resolved_vs_unresolved(void **state)
{
    (void)state;
    struct env *e = env_new();
    usual_life(e, "10.1.0.10", 10);
    assert_int_equal(e->n, 0);
    uint32_t t = T0 + 10 * DAY + 7200;
    /* a new destination a DNS answer gave: first-seen only */
    dns(e, t, "10.1.0.10", "[\"cdn.example.test\",\"203.0.113.5\"]");
    conn(e, t + 1, "10.1.0.10", "203.0.113.5", 443, 1000, "ssl");
    assert_int_equal(count(e, BL_DET_FIRST_SEEN, "10.1.0.10"), 1);
    assert_string_equal(e->f[0].value, "203.0.113.5:443");
    assert_float_equal(e->f[0].score, 0.4, 1e-9);
    assert_non_null(
        strstr(e->f[0].text, "first connection to 203.0.113.5:443 (tcp/ssl) in 10 days"));
    /* an address no answer gave: pending until the DNS records pass it */
    conn(e, t + 10, "10.1.0.10", "203.0.113.66", 8443, 1000, NULL);
    assert_int_equal(count(e, BL_DET_FIRST_SEEN, NULL), 2);
    assert_int_equal(count(e, BL_DET_EGRESS, NULL), 0);
    dns(e, t + 200, "10.1.0.10", "[\"198.51.100.7\"]");
    assert_int_equal(count(e, BL_DET_EGRESS, NULL), 1);
    const struct got *g = find(e, BL_DET_EGRESS);
    assert_string_equal(g->entity, "10.1.0.10");
    assert_string_equal(g->value, "203.0.113.66:8443");
    assert_float_equal(g->score, 0.8, 1e-9); /* a server */
    assert_int_equal(g->ts_ns, (int64_t)(t + 10) * NS_PER_SEC);
    /* an office client (not a server): 0.4 */
    usual_life(e, "10.2.0.40", 10);
    e->n = 0;
    conn(e, t + 300, "10.2.0.40", "203.0.113.67", 443, 1000, NULL);
    dns(e, t + 400, "10.2.0.40", NULL);
    dns(e, t + 500, "10.2.0.40", "[\"198.51.100.7\"]");
    g = find(e, BL_DET_EGRESS);
    assert_non_null(g);
    assert_float_equal(g->score, 0.4, 1e-9);
    env_free(e);
}

/* scan reads conn.log before dns.log: the answer arrives after the
 * connection it preceded. */
static void test_dns_read_after_conn(void **state)
{
    (void)state;
    struct env *e = env_new();
    usual_life(e, "10.1.0.10", 10);
    uint32_t t = T0 + 12 * DAY;
    conn(e, t, "10.1.0.10", "203.0.113.5", 443, 1000, "ssl");
    conn(e, t + 50, "10.1.0.10", "203.0.113.9", 443, 1000, "ssl");
    assert_int_equal(count(e, BL_DET_FIRST_SEEN, NULL), 2);
    dns(e, t - 1, "10.1.0.10", "[\"203.0.113.5\"]"); /* read later, time before */
    dns(e, t + 3600, "10.1.0.10", "[\"198.51.100.7\"]");
    assert_int_equal(count(e, BL_DET_EGRESS, NULL), 1);
    assert_string_equal(find(e, BL_DET_EGRESS)->value, "203.0.113.9:443");
    env_free(e);
}

static void test_known_quiet_and_learning(void **state)
{
    (void)state;
    struct env *e = env_new();
    /* learning: everything new and unresolved, no facts */
    for (unsigned d = 0; d < 6; d++) {
        char dst[32];
        snprintf(dst, sizeof dst, "203.0.113.%u", 10 + d);
        dns(e, T0 + d * DAY, "10.1.0.10", "[\"198.51.100.7\"]");
        conn(e, T0 + d * DAY + 5, "10.1.0.10", dst, 443, 1000, "ssl");
        conn(e, T0 + d * DAY + 7, "10.1.0.10", "198.51.100.7", 443, 1000, "ssl");
    }
    dns(e, T0 + 6 * DAY, "10.1.0.10", "[\"198.51.100.7\"]");
    assert_int_equal(e->n, 0);
    /* after learning, the known destinations stay quiet */
    for (unsigned d = 8; d < 20; d++) {
        dns(e, T0 + d * DAY, "10.1.0.10", "[\"198.51.100.7\"]");
        conn(e, T0 + d * DAY + 5, "10.1.0.10", "203.0.113.12", 443, 1000, "ssl");
        conn(e, T0 + d * DAY + 9, "10.1.0.10", "198.51.100.7", 443, 1000, "ssl");
    }
    dns(e, T0 + 21 * DAY, "10.1.0.10", "[\"198.51.100.7\"]");
    /* only the daily periodic checks, as timeline facts below level_low */
    for (int i = 0; i < e->n; i++) {
        assert_string_equal(e->f[i].det, BL_DET_BEACONING);
        assert_true(e->f[i].score < e->cfg.level_low);
        assert_non_null(strstr(e->f[i].text, "a long-known destination"));
    }
    env_free(e);
}

/* Every 3,600 s +- 2 % (deviations -72..72 s), 310 B each, to a new
 * destination of a server with history. */
static void test_beacon(void **state)
{
    (void)state;
    struct env *e = env_new();
    usual_life(e, "10.1.0.10", 10);
    static const int jitter[] = {-72, -36, 0, 36, 72};
    uint32_t t = T0 + 10 * DAY + 600;
    dns(e, t - 1, "10.1.0.10", "[\"203.0.113.170\"]");
    int at = -1;
    for (int i = 0; i < 20; i++) {
        conn(e, t, "10.1.0.10", "203.0.113.170", 443, 310, "ssl");
        if (at < 0 && count(e, BL_DET_BEACONING, NULL))
            at = i + 1;
        t = (uint32_t)((int)t + 3600 + jitter[i % 5]);
    }
    assert_int_equal(at, 12);                              /* beacon_min_connections */
    assert_int_equal(count(e, BL_DET_BEACONING, NULL), 1); /* one a day */
    const struct got *g = find(e, BL_DET_BEACONING);
    assert_string_equal(g->entity, "10.1.0.10");
    assert_float_equal(g->score, 1.5, 1e-9);
    assert_non_null(strstr(g->text, "every 3,600 s \xc2\xb1 2 % for 11 h (12 connections of 310 B "
                                    "each) to 203.0.113.170:443, a new destination"));
    /* the next day: one more */
    for (int i = 0; i < 20; i++) {
        conn(e, t, "10.1.0.10", "203.0.113.170", 443, 310, "ssl");
        t += 3600;
    }
    assert_int_equal(count(e, BL_DET_BEACONING, NULL), 2);
    env_free(e);
}

static void test_random_intervals(void **state)
{
    (void)state;
    struct env *e = env_new();
    usual_life(e, "10.1.0.10", 10);
    uint32_t t = T0 + 10 * DAY;
    uint32_t x = 12345;
    dns(e, t - 1, "10.1.0.10", "[\"203.0.113.171\"]");
    for (int i = 0; i < 40; i++) {
        x = x * 1103515245u + 12345u;
        uint32_t iv = 60 + (x >> 8) % 7200;
        x = x * 1103515245u + 12345u;
        uint32_t size = 200 + (x >> 8) % 20000;
        conn(e, t, "10.1.0.10", "203.0.113.171", 443, size, "ssl");
        t += iv;
    }
    assert_int_equal(count(e, BL_DET_BEACONING, NULL), 0);
    env_free(e);
}

/* Update checks every hour to a destination known since the first day:
 * facts stay below medium (1.2); once it is long-known, 0.5. */
static void test_periodic_known(void **state)
{
    (void)state;
    struct env *e = env_new();
    for (uint32_t t = T0; t < T0 + 20 * DAY; t += 3600) {
        if (t % DAY == T0 % DAY)
            dns(e, t, "10.1.0.10", "[\"198.51.100.9\"]");
        conn(e, t + 5, "10.1.0.10", "198.51.100.9", 443, 1200, "ssl");
        /* NTP by address: never watched */
        conn(e, t + 7, "10.1.0.10", "198.51.100.123", 123, 48, "ntp");
    }
    int beacons = 0;
    for (int i = 0; i < e->n; i++) {
        if (strcmp(e->f[i].det, BL_DET_BEACONING))
            continue;
        beacons++;
        assert_true(e->f[i].score < 1.2);
        assert_string_equal(e->f[i].value, "198.51.100.9:443 every 3600 s");
        if (e->f[i].ts_ns >= (int64_t)(T0 + 8 * DAY) * NS_PER_SEC)
            assert_float_equal(e->f[i].score, 0.5, 1e-9);
    }
    assert_int_equal(beacons, 20);
    env_free(e);
}

static void test_bytes_out_volume(void **state)
{
    (void)state;
    struct env *e = env_new();
    for (uint32_t t = T0; t < T0 + 20 * DAY; t += 3600) {
        if (t % DAY == T0 % DAY)
            dns(e, t, "10.1.0.10", "[\"198.51.100.7\"]");
        conn(e, t + 5, "10.1.0.10", "198.51.100.7", 443, 1000000 + (t / 3600 % 7) * 10000, "ssl");
    }
    assert_int_equal(count(e, BL_DET_VOLUME, NULL), 0);
    uint32_t t = T0 + 20 * DAY + 7200;
    dns(e, t, "10.1.0.10", "[\"198.51.100.7\"]");
    conn(e, t + 10, "10.1.0.10", "198.51.100.7", 443, 60000000, "ssl");
    assert_int_equal(count(e, BL_DET_VOLUME, NULL), 0); /* under bytes_min */
    conn(e, t + 20, "10.1.0.10", "198.51.100.7", 443, 60000000, "ssl");
    conn(e, t + 30, "10.1.0.10", "198.51.100.7", 443, 60000000, "ssl");
    assert_int_equal(count(e, BL_DET_VOLUME, NULL), 1); /* once per hour */
    const struct got *g = find(e, BL_DET_VOLUME);
    assert_string_equal(g->feature, "bytes-out");
    assert_float_equal(g->score, 0.9, 1e-9); /* 120x */
    assert_non_null(strstr(g->text, "sent 120 MB out in one hour, 113\xc3\x97 the host's 95th "
                                    "percentile (1.1 MB) over 20 days"));
    env_free(e);
}

struct blobs {
    int n;
    char entity[16][64];
    struct buf b[16];
};

static int put_blob(void *o, enum bl_kind kind, const char *entity, const void *blob, size_t n)
{
    struct blobs *bs = o;
    assert_int_equal(kind, BL_HOST);
    assert_true(bs->n < 16);
    snprintf(bs->entity[bs->n], 64, "%s", entity);
    buf_init(&bs->b[bs->n]);
    buf_append(&bs->b[bs->n], blob, n);
    bs->n++;
    return 0;
}

static void blobs_free(struct blobs *bs)
{
    for (int i = 0; i < bs->n; i++)
        buf_free(&bs->b[i]);
    bs->n = 0;
}

static void build_state(struct env *e)
{
    usual_life(e, "10.1.0.10", 10);
    usual_life(e, "10.2.0.40", 3);
    uint32_t t = T0 + 10 * DAY;
    for (int i = 0; i < 14; i++)
        conn(e, t + (uint32_t)i * 600, "10.1.0.10", "203.0.113.170", 443, 310, "ssl");
    dns(e, t + DAY, "10.1.0.10", "[\"198.51.100.7\"]");
}

/* `scan` reads a conn.log before its dns.log: an answer read after the
 * connections it preceded still makes them resolved in show. */
static void test_show_resolved_late(void **state)
{
    (void)state;
    struct env *e = env_new();
    conn(e, T0, "10.1.0.10", "198.51.100.9", 443, 100, "ssl");
    conn(e, T0 + 60, "10.1.0.10", "198.51.100.10", 443, 100, "ssl");
    dns(e, T0 - 5, "10.1.0.10", "[\"198.51.100.9\"]");
    struct buf j;
    buf_init(&j);
    assert_int_equal(bl_host_module.show(e->m, BL_HOST, "10.1.0.10", &j), 1);
    const char *a = strstr(j.data, "\"destination\":\"198.51.100.9:443\"");
    const char *b = strstr(j.data, "\"destination\":\"198.51.100.10:443\"");
    assert_non_null(a);
    assert_non_null(b);
    const char *ra = strstr(a, "\"resolved\":"), *rb = strstr(b, "\"resolved\":");
    assert_non_null(ra);
    assert_non_null(rb);
    assert_true(!strncmp(ra, "\"resolved\":true", 15));
    assert_true(!strncmp(rb, "\"resolved\":false", 16));
    assert_non_null(strstr(j.data, "\"resolved_share\":0.500"));
    buf_free(&j);
    env_free(e);
}

static void test_save_load(void **state)
{
    (void)state;
    struct env *e = env_new();
    build_state(e);
    struct blobs a = {0}, b = {0};
    assert_int_equal(bl_host_module.save(e->m, true, put_blob, &a), 0);
    assert_int_equal(a.n, 3); /* two hosts and the resolver */
    struct env *e2 = env_new();
    for (int i = 0; i < a.n; i++)
        assert_int_equal(bl_host_module.load(e2->m, BL_HOST, a.entity[i], a.b[i].data, a.b[i].len),
                         0);
    assert_int_equal(bl_host_module.save(e2->m, true, put_blob, &b), 0);
    assert_int_equal(b.n, a.n);
    for (int i = 0; i < a.n; i++) {
        assert_string_equal(a.entity[i], b.entity[i]);
        assert_int_equal(a.b[i].len, b.b[i].len);
        assert_memory_equal(a.b[i].data, b.b[i].data, a.b[i].len);
    }
    /* nothing changed since: an incremental save writes nothing */
    blobs_free(&b);
    assert_int_equal(bl_host_module.save(e2->m, false, put_blob, &b), 0);
    assert_int_equal(b.n, 0);
    /* show tells the same in both */
    struct buf j1, j2;
    buf_init(&j1);
    buf_init(&j2);
    assert_int_equal(bl_host_module.show(e->m, BL_HOST, "10.1.0.10", &j1), 1);
    assert_int_equal(bl_host_module.show(e2->m, BL_HOST, "10.1.0.10", &j2), 1);
    assert_string_equal(j1.data, j2.data);
    assert_non_null(strstr(j1.data, "\"destination\":\"198.51.100.7:443\""));
    assert_non_null(strstr(j1.data, "\"beacon_pairs\":[{\"destination\":\"203.0.113.170:443\""));
    assert_int_equal(bl_host_module.show(e->m, BL_HOST, "10.9.9.9", &j1), 0);
    /* both go on the same way */
    e->n = e2->n = 0;
    conn(e, T0 + 30 * DAY, "10.1.0.10", "203.0.113.99", 443, 1, NULL);
    conn(e2, T0 + 30 * DAY, "10.1.0.10", "203.0.113.99", 443, 1, NULL);
    assert_int_equal(e->n, 1);
    assert_int_equal(e2->n, 1);
    assert_string_equal(e->f[0].text, e2->f[0].text);
    struct bl_module_stats st;
    bl_host_module.stats(e2->m, &st);
    assert_int_equal(st.entities, 3);
    assert_true(st.bytes > 1000);
    bl_host_module.age(e2->m, T0 + 29 * DAY);
    bl_host_module.stats(e2->m, &st);
    assert_int_equal(st.entities, 1);
    buf_free(&j1);
    buf_free(&j2);
    blobs_free(&a);
    blobs_free(&b);
    env_free(e);
    env_free(e2);
}

static void test_malformed(void **state)
{
    (void)state;
    struct env *e = env_new();
    build_state(e);
    struct blobs a = {0};
    assert_int_equal(bl_host_module.save(e->m, true, put_blob, &a), 0);
    struct env *e2 = env_new();
    const struct buf *b = &a.b[0];
    /* every cut is refused */
    for (size_t n = 0; n < b->len; n++)
        assert_int_equal(bl_host_module.load(e2->m, BL_HOST, a.entity[0], b->data, n), -EINVAL);
    /* a trailing byte, a wrong version, kind or entity */
    struct buf x;
    buf_init(&x);
    buf_append(&x, b->data, b->len);
    buf_putc(&x, 0);
    assert_int_equal(bl_host_module.load(e2->m, BL_HOST, a.entity[0], x.data, x.len), -EINVAL);
    x.data[0] = 9;
    assert_int_equal(bl_host_module.load(e2->m, BL_HOST, a.entity[0], x.data, b->len), -EINVAL);
    assert_int_equal(bl_host_module.load(e2->m, BL_SOURCE, a.entity[0], b->data, b->len), -EINVAL);
    assert_int_equal(bl_host_module.load(e2->m, BL_HOST, "not-an-address", b->data, b->len),
                     -EINVAL);
    /* flipped bytes: refused or taken, never a crash */
    for (size_t i = 0; i < b->len; i++) {
        buf_clear(&x);
        buf_append(&x, b->data, b->len);
        x.data[i] ^= 0x5a;
        int rc = bl_host_module.load(e2->m, BL_HOST, a.entity[0], x.data, x.len);
        assert_true(rc == 0 || rc == -EINVAL);
    }
    struct bl_module_stats st;
    bl_host_module.stats(e2->m, &st);
    assert_true(st.entities <= 1);
    buf_free(&x);
    blobs_free(&a);
    env_free(e);
    env_free(e2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolved_vs_unresolved),
        cmocka_unit_test(test_show_resolved_late),
        cmocka_unit_test(test_dns_read_after_conn),
        cmocka_unit_test(test_known_quiet_and_learning),
        cmocka_unit_test(test_beacon),
        cmocka_unit_test(test_random_intervals),
        cmocka_unit_test(test_periodic_known),
        cmocka_unit_test(test_bytes_out_volume),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
