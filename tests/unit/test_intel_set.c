/* Unit tests for the indicator matcher (intel-set.h) and the intel alerts
 * (intel-detector.h): every type, IPv4 and IPv6 networks, subdomains,
 * validity windows, revoked, warning-listed and not-for-alerting
 * indicators, duplicates and several feeds for one value, the event fields
 * looked up, and the alert JSON. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detect/intel-detector.h"
#include "intel/intel-set.h"
#include "util/arena.h"
#include "util/timeconv.h"

/* after util/buf.h: jansson defines a json_is_number macro */
#include <jansson.h>

#define T(y, mo, d) time_from_utc(y, mo, d, 0, 0, 0, 0)

/* A batch with one meta per (feed, confidence) and the values given as
 * "type value" strings. */
static void add(struct ioc_batch *b, uint32_t meta, enum ioc_type t, const char *v)
{
    assert_int_equal(ioc_batch_add(b, t, v, strlen(v), meta, true, "test"), 0);
}

static uint32_t meta(struct ioc_batch *b, const char *feed, int confidence)
{
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = feed;
    m.confidence = confidence;
    return ioc_batch_add_meta(b, &m);
}

static struct intel_set *set_of_all_types(void)
{
    struct ioc_batch b;
    ioc_batch_init(&b, "t", "list");
    uint32_t m = meta(&b, "feed-a", 70);
    add(&b, m, IOC_IP, "203.0.113.9");
    add(&b, m, IOC_IP, "10.0.0.0/8");
    add(&b, m, IOC_IP, "10.1.0.0/16");
    add(&b, m, IOC_IP, "10.1.2.3");
    add(&b, m, IOC_IP, "2001:db8::/32");
    add(&b, m, IOC_IP, "2001:db8:1::/48");
    add(&b, m, IOC_IP, "2001:db8:1::7");
    add(&b, m, IOC_DOMAIN, "evil.example");
    add(&b, m, IOC_DOMAIN, "example"); /* one label: exact names only */
    add(&b, m, IOC_URL, "http://phish.example/login?x=1");
    add(&b, m, IOC_EMAIL, "Drop@Mail.example");
    add(&b, m, IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e");
    add(&b, m, IOC_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    add(&b, m, IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    add(&b, m, IOC_FILENAME, "C:\\Temp\\Invoice.TAR");
    add(&b, m, IOC_USER_AGENT, "python-requests/2.31.0");
    struct intel_set *s = intel_set_new();
    assert_non_null(s);
    assert_int_equal(intel_set_add_batch(s, &b), 0);
    ioc_batch_free(&b);
    return s;
}

static void test_types(void **state)
{
    (void)state;
    struct intel_set *s = set_of_all_types();
    struct intel_set_stats st;
    intel_set_get_stats(s, &st);
    assert_int_equal(st.indicators, 16);
    assert_int_equal(st.by_type[IOC_IP], 7);
    assert_int_equal(st.networks, 4);
    assert_true(st.bytes > 0);
    static const struct {
        enum ioc_type t;
        const char *v;
    } exact[] = {
        {IOC_DOMAIN, "evil.example"},
        {IOC_URL, "phish.example/login?x=1"},
        {IOC_EMAIL, "drop@mail.example"},
        {IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e"},
        {IOC_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {IOC_FILENAME, "invoice.tar"},
        {IOC_USER_AGENT, "python-requests/2.31.0"},
    };
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
        uint32_t id = intel_set_find(s, exact[i].t, exact[i].v, strlen(exact[i].v));
        assert_int_not_equal(id, INTEL_NONE);
        struct intel_indicator in;
        intel_set_get(s, id, &in);
        assert_int_equal(in.type, exact[i].t);
        assert_string_equal(in.value, exact[i].v);
        assert_string_equal(in.meta->feed, "feed-a");
        assert_int_equal(intel_set_next(s, id), INTEL_NONE);
    }
    /* same text, other type: no */
    assert_int_equal(intel_set_find(s, IOC_FILENAME, "evil.example", 12), INTEL_NONE);
    assert_int_equal(intel_set_find(s, IOC_DOMAIN, "evil.exampl", 11), INTEL_NONE);
    intel_set_free(s);
}

static void test_cidr(void **state)
{
    (void)state;
    struct intel_set *s = set_of_all_types();
    struct intel_found f[8];
    uint8_t a[16] = {10, 1, 2, 3};
    unsigned n = intel_set_find_ip(s, a, false, 32, f, 8);
    assert_int_equal(n, 3); /* longest first */
    assert_int_equal(f[0].depth, 32);
    assert_int_equal(f[1].depth, 16);
    assert_int_equal(f[2].depth, 8);
    struct intel_indicator in;
    intel_set_get(s, f[1].head, &in);
    assert_string_equal(in.value, "10.1.0.0/16");
    intel_set_get(s, f[0].head, &in);
    assert_string_equal(in.value, "10.1.2.3");
    /* networks at most /16 */
    assert_int_equal(intel_set_find_ip(s, a, false, 16, f, 8), 2);
    uint8_t b[4] = {10, 2, 0, 1};
    assert_int_equal(intel_set_find_ip(s, b, false, 32, f, 8), 1);
    uint8_t c[4] = {11, 1, 2, 3};
    assert_int_equal(intel_set_find_ip(s, c, false, 32, f, 8), 0);
    /* IPv6 */
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    n = intel_set_find_ip(s, v6, true, 128, f, 8);
    assert_int_equal(n, 3);
    assert_int_equal(f[0].depth, 128);
    assert_int_equal(f[1].depth, 48);
    assert_int_equal(f[2].depth, 32);
    intel_set_get(s, f[1].head, &in);
    assert_string_equal(in.value, "2001:db8:1::/48");
    v6[5] = 2;
    assert_int_equal(intel_set_find_ip(s, v6, true, 128, f, 8), 1);
    v6[3] = 0xb9;
    assert_int_equal(intel_set_find_ip(s, v6, true, 128, f, 8), 0);
    /* host bits set: refused */
    uint32_t mi = intel_set_add_meta(
        s, &(struct ioc_meta){.confidence = -1, .valid_from = TIME_NONE, .valid_until = TIME_NONE});
    uint8_t bad[4] = {192, 0, 2, 7};
    assert_int_equal(intel_set_add_ip(s, bad, false, 24, mi, true, NULL), -EINVAL);
    assert_int_equal(intel_set_add(s, IOC_IP, "192.0.2.0/33", 12, mi, true, NULL), -EINVAL);
    intel_set_free(s);
}

static void test_domains(void **state)
{
    (void)state;
    struct intel_set *s = set_of_all_types();
    struct intel_found f[8];
    const char *name = "a.b.evil.example";
    unsigned n = intel_set_find_domain(s, name, strlen(name), 2, f, 8);
    assert_int_equal(n, 1);
    assert_int_equal(f[0].depth, 2);
    assert_int_equal(intel_set_find_domain(s, "evil.example", 12, 2, f, 8), 1);
    assert_int_equal(f[0].depth, 0);
    assert_int_equal(intel_set_find_domain(s, "notevil.example", 15, 2, f, 8), 0);
    /* "example" is an indicator of one label: it matches itself only */
    assert_int_equal(intel_set_find_domain(s, "other.example", 13, 2, f, 8), 0);
    assert_int_equal(intel_set_find_domain(s, "example", 7, 2, f, 8), 1);
    /* min_labels 1 walks to the last label */
    assert_int_equal(intel_set_find_domain(s, "other.example", 13, 1, f, 8), 1);
    intel_set_free(s);
}

/* ---- events ----------------------------------------------------------- */

struct evs {
    struct arena arena;
    struct event ev[16];
    size_t n;
};

static struct event *new_event(struct evs *e, int64_t ts, const char *product)
{
    struct event *ev = &e->ev[e->n];
    event_init(ev, &e->arena);
    ev->ts_ns = ts;
    ev->ls.product = product;
    ev->file = "test.log";
    ev->line = ++e->n;
    ev->id = e->n;
    return ev;
}

static void core(struct event *ev, enum core_field f, const char *v)
{
    ev->core[f] = str_make(v, strlen(v));
}

static size_t match(struct intel_matcher *m, const struct event *ev, const struct intel_hit **h)
{
    return intel_match_event(m, ev, h);
}

static void test_event_fields(void **state)
{
    (void)state;
    struct intel_set *s = set_of_all_types();
    struct intel_matcher *m = intel_matcher_new(s);
    struct evs e = {.n = 0};
    arena_init(&e.arena, 4096);
    const struct intel_hit *h;

    struct event *ev = new_event(&e, T(2024, 3, 4), "postfix");
    core(ev, CORE_SOURCE_IP, "203.0.113.9");
    core(ev, CORE_DESTINATION_IP, "::ffff:10.1.2.3"); /* mapped: 3 values */
    assert_int_equal(match(m, ev, &h), 4);
    assert_string_equal(h[0].field[0].name, "source.ip");
    assert_string_equal(h[1].field[0].name, "destination.ip");
    assert_int_equal(h[1].field[0].value.n, strlen("::ffff:10.1.2.3"));

    /* the same value in two fields: one hit, both fields */
    ev = new_event(&e, T(2024, 3, 4), "postfix");
    core(ev, CORE_SOURCE_IP, "203.0.113.9");
    core(ev, CORE_DESTINATION_IP, "203.0.113.9");
    assert_int_equal(match(m, ev, &h), 1);
    assert_int_equal(h[0].nfields, 2);

    /* names: DNS, URL host, mail domain, Zeek http host with a port */
    ev = new_event(&e, T(2024, 3, 4), "zeek");
    core(ev, CORE_DNS_QUESTION_NAME, "WWW.Evil.Example.");
    assert_int_equal(match(m, ev, &h), 1);
    ev = new_event(&e, T(2024, 3, 4), "zeek");
    event_add_str(ev, "host", STR_LIT("cdn.evil.example:8080"));
    event_add_str(ev, "server_name", STR_LIT("evil.example"));
    assert_int_equal(match(m, ev, &h), 1);
    assert_int_equal(h[0].nfields, 2);
    /* the same native name of another source is not read */
    ev = new_event(&e, T(2024, 3, 4), "linux");
    event_add_str(ev, "host", STR_LIT("evil.example"));
    assert_int_equal(match(m, ev, &h), 0);

    ev = new_event(&e, T(2024, 3, 4), "zeek");
    core(ev, CORE_URL_FULL, "HTTP://Phish.Example/login?x=1#frag");
    assert_int_equal(match(m, ev, &h), 1);
    struct intel_indicator in;
    intel_set_get(s, h[0].head, &in);
    assert_int_equal(in.type, IOC_URL);
    ev = new_event(&e, T(2024, 3, 4), "zeek");
    core(ev, CORE_URL_FULL, "https://x.evil.example/other");
    assert_int_equal(match(m, ev, &h), 1); /* the host's parent domain */
    ev = new_event(&e, T(2024, 3, 4), "zeek");
    core(ev, CORE_URL_FULL, "http://10.1.2.3:8080/x");
    assert_int_equal(match(m, ev, &h), 3); /* an address as host */

    ev = new_event(&e, T(2024, 3, 4), "postfix");
    core(ev, CORE_EMAIL_FROM_ADDRESS, "Someone <drop@MAIL.example>");
    core(ev, CORE_EMAIL_TO_ADDRESS, "bob@sub.evil.example");
    assert_int_equal(match(m, ev, &h), 2); /* the address; a domain's subdomain */

    ev = new_event(&e, T(2024, 3, 4), "zeek");
    core(ev, CORE_FILE_HASH_MD5, "D41D8CD98F00B204E9800998ECF8427E");
    core(ev, CORE_FILE_HASH_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    core(ev, CORE_FILE_HASH_SHA256,
         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    core(ev, CORE_FILE_NAME, "invoice.tar");
    assert_int_equal(match(m, ev, &h), 4);

    ev = new_event(&e, T(2024, 3, 4), "m365");
    event_add_str(ev, "UserAgent", STR_LIT("python-requests/2.31.0"));
    assert_int_equal(match(m, ev, &h), 1);
    assert_string_equal(h[0].field[0].name, "UserAgent");
    ev = new_event(&e, T(2024, 3, 4), "zeek");
    event_add_str(ev, "user_agent", STR_LIT("python-requests/2.31.0 "));
    assert_int_equal(match(m, ev, &h), 1);

    /* nothing of it */
    ev = new_event(&e, T(2024, 3, 4), "postfix");
    core(ev, CORE_SOURCE_IP, "198.51.100.1");
    core(ev, CORE_EMAIL_FROM_ADDRESS, "alice@example.org");
    core(ev, CORE_DNS_QUESTION_NAME, "not a name at all");
    core(ev, CORE_URL_FULL, "::::");
    assert_int_equal(match(m, ev, &h), 0);

    struct intel_match_stats ms;
    intel_matcher_stats(m, &ms);
    assert_int_equal(ms.events, e.n);
    intel_matcher_free(m);
    intel_set_free(s);
    arena_free(&e.arena);
}

/* An empty set: nothing is looked up. */
static void test_empty(void **state)
{
    (void)state;
    struct intel_set *s = intel_set_new();
    struct intel_matcher *m = intel_matcher_new(s);
    struct evs e = {.n = 0};
    arena_init(&e.arena, 4096);
    struct event *ev = new_event(&e, T(2024, 3, 4), "postfix");
    core(ev, CORE_SOURCE_IP, "203.0.113.9");
    const struct intel_hit *h;
    assert_int_equal(match(m, ev, &h), 0);
    struct intel_match_stats ms;
    intel_matcher_stats(m, &ms);
    assert_int_equal(ms.lookups, 0);
    assert_int_equal(intel_set_count(s), 0);
    intel_matcher_free(m);
    intel_set_free(s);
    arena_free(&e.arena);
}

/* ---- the detector and its alerts -------------------------------------- */

/* Run events through a detector with only the intel source, and return the
 * alerts (JSON lines) as one malloc'd string. */
static char *detect(const struct intel_set *s, struct event *evs, size_t n,
                    struct intel_detector_stats *st)
{
    struct detector *d = detector_new_opts(NULL, NULL);
    struct intel_detector *x = intel_detector_new(s);
    assert_non_null(d);
    assert_non_null(x);
    struct alert_source src = intel_detector_source(x);
    assert_int_equal(detector_add_source(d, &src), 0);
    struct event_sink sink = detector_sink(d);
    assert_int_equal(sink.on_batch(sink.opaque, evs, n), 0);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_int_equal(detector_write(d, f, true), 0);
    fclose(f);
    intel_detector_stats(x, st);
    intel_detector_free(x);
    detector_free(d);
    return out;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_validity_revoked_warnings(void **state)
{
    (void)state;
    struct ioc_batch b;
    ioc_batch_init(&b, "t", "csv");
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = "windowed";
    m.valid_from = T(2024, 3, 1);
    m.valid_until = T(2024, 3, 10);
    add(&b, ioc_batch_add_meta(&b, &m), IOC_IP, "192.0.2.1");
    ioc_meta_init(&m);
    m.feed = "revoked";
    m.revoked = true;
    add(&b, ioc_batch_add_meta(&b, &m), IOC_IP, "192.0.2.2");
    uint32_t plain = meta(&b, "plain", -1);
    add(&b, plain, IOC_IP, "192.0.2.3");
    b.iocs[b.niocs - 1].warning = "List of RFC 5737 addresses";
    assert_int_equal(ioc_batch_add(&b, IOC_IP, "192.0.2.4", 9, plain, false, "t"), 0);
    struct intel_set *s = intel_set_new();
    assert_int_equal(intel_set_add_batch(s, &b), 0);
    ioc_batch_free(&b);
    struct intel_set_stats ss;
    intel_set_get_stats(s, &ss);
    assert_int_equal(ss.indicators, 3);
    assert_int_equal(ss.revoked, 1);

    struct evs e = {.n = 0};
    arena_init(&e.arena, 4096);
    const char *ips[] = {"192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1",
                         "192.0.2.2", "192.0.2.3", "192.0.2.4"};
    int64_t ts[] = {T(2024, 2, 29), T(2024, 3, 1), T(2024, 3, 10), TIME_NONE,
                    T(2024, 3, 5),  T(2024, 3, 5), T(2024, 3, 5)};
    for (size_t i = 0; i < 7; i++)
        core(new_event(&e, ts[i], "postfix"), CORE_SOURCE_IP, ips[i]);
    struct intel_detector_stats st;
    char *out = detect(s, e.ev, e.n, &st);
    /* only the event inside the window alerts: valid_from is inside,
     * valid_until is not, an event without time is outside any window */
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "\"@timestamp\":\"2024-03-01T00:00:00.000000000Z\""));
    assert_non_null(strstr(out, "\"valid_until\":\"2024-03-10T00:00:00.000000000Z\""));
    assert_int_equal(st.alerts, 1);
    assert_int_equal(st.outside_window, 3);
    assert_int_equal(st.suppressed, 2); /* warning-listed; detect false */
    free(out);
    intel_set_free(s);
    arena_free(&e.arena);
}

static void test_duplicates_and_alert(void **state)
{
    (void)state;
    struct ioc_batch b;
    ioc_batch_init(&b, "t", "csv");
    uint32_t low = meta(&b, "low-feed", 20);
    add(&b, low, IOC_DOMAIN, "evil.example");
    add(&b, low, IOC_DOMAIN, "EVIL.example."); /* the same value, same meta */
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = "partner \"cert\"";
    m.ref = "indicator--11111111-2222-4333-8444-555555555555";
    m.name = "C2 domain";
    m.confidence = 85;
    m.tlp = TLP_AMBER;
    m.labels_json = "[\"malicious-activity\"]";
    m.kill_chain_json = "[\"lockheed-martin-cyber-kill-chain:command-and-control\"]";
    m.related_json = "[\"APT-Example\"]";
    add(&b, ioc_batch_add_meta(&b, &m), IOC_DOMAIN, "evil.example");
    struct intel_set *s = intel_set_new();
    assert_int_equal(intel_set_add_batch(s, &b), 0);
    /* the same batch again: every indicator is a duplicate */
    assert_int_equal(intel_set_add_batch(s, &b), 0);
    ioc_batch_free(&b);
    struct intel_set_stats ss;
    intel_set_get_stats(s, &ss);
    assert_int_equal(ss.indicators, 2);
    assert_int_equal(ss.values, 1);
    assert_int_equal(ss.duplicates, 4);
    assert_int_equal(ss.metas, 2);

    struct evs e = {.n = 0};
    arena_init(&e.arena, 4096);
    struct event *ev = new_event(&e, T(2024, 3, 5), "zeek");
    ev->ls.service = "dns";
    core(ev, CORE_DNS_QUESTION_NAME, "c2.evil.example");
    core(ev, CORE_SOURCE_IP, "192.0.2.10");
    core(ev, CORE_USER_NAME, "alice");
    struct intel_detector_stats st;
    char *out = detect(s, e.ev, e.n, &st);
    assert_int_equal(count_lines(out), 1);
    json_error_t err;
    json_t *a = json_loads(out, JSON_DECODE_ANY, &err);
    assert_non_null(a);
    assert_string_equal(json_string_value(json_object_get(a, "kind")), "intel");
    json_t *rule = json_object_get(a, "rule");
    assert_string_equal(json_string_value(json_object_get(rule, "id")), m.ref);
    assert_string_equal(json_string_value(json_object_get(rule, "name")),
                        "domain indicator from partner \"cert\"");
    assert_string_equal(json_string_value(json_object_get(rule, "level")), "high");
    /* the most confident first, the other feed after */
    json_t *in = json_object_get(a, "indicator");
    assert_string_equal(json_string_value(json_object_get(in, "value")), "evil.example");
    assert_string_equal(json_string_value(json_object_get(in, "type")), "domain");
    assert_int_equal(json_integer_value(json_object_get(in, "confidence")), 85);
    assert_string_equal(json_string_value(json_object_get(in, "tlp")), "TLP:AMBER");
    assert_string_equal(json_string_value(json_array_get(json_object_get(in, "related"), 0)),
                        "APT-Example");
    assert_true(json_is_array(json_object_get(in, "kill_chain")));
    assert_true(json_is_null(json_object_get(in, "valid_from")));
    json_t *more = json_object_get(a, "indicators_more");
    assert_int_equal(json_array_size(more), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(more, 0), "feed")),
                        "low-feed");
    assert_int_equal(json_integer_value(json_object_get(a, "indicators_omitted")), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(a, "matched"), "dns.question.name")),
        "c2.evil.example");
    json_t *ev0 = json_array_get(json_object_get(a, "events"), 0);
    assert_string_equal(json_string_value(json_object_get(ev0, "id")), "0000000000000001");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ev0, "source"), "line")),
                     1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(a, "entity"), "user"), "name")),
                        "alice");
    json_t *ls = json_object_get(a, "logsource");
    assert_string_equal(json_string_value(json_object_get(ls, "product")), "zeek");
    assert_string_equal(json_string_value(json_object_get(ls, "service")), "dns");
    json_decref(a);
    free(out);
    intel_set_free(s);
    arena_free(&e.arena);
}

static void test_levels_and_many_feeds(void **state)
{
    (void)state;
    struct ioc_batch b;
    ioc_batch_init(&b, "t", "csv");
    char feed[32];
    for (int i = 0; i < 15; i++) {
        snprintf(feed, sizeof(feed), "feed-%02d", i);
        add(&b, meta(&b, feed, i == 7 ? 39 : 10), IOC_IP, "198.51.100.7");
    }
    add(&b, meta(&b, "unknown-confidence", -1), IOC_IP, "198.51.100.8");
    struct intel_set *s = intel_set_new();
    assert_int_equal(intel_set_add_batch(s, &b), 0);
    ioc_batch_free(&b);
    struct evs e = {.n = 0};
    arena_init(&e.arena, 4096);
    core(new_event(&e, T(2024, 3, 5), "postfix"), CORE_SOURCE_IP, "198.51.100.7");
    core(new_event(&e, T(2024, 3, 6), "postfix"), CORE_SOURCE_IP, "198.51.100.8");
    struct intel_detector_stats st;
    char *out = detect(s, e.ev, e.n, &st);
    assert_int_equal(count_lines(out), 2);
    json_error_t err;
    char *nl = strchr(out, '\n');
    json_t *a = json_loadb(out, (size_t)(nl - out), 0, &err);
    json_t *a2 = json_loads(nl + 1, JSON_DECODE_ANY, &err);
    assert_non_null(a);
    assert_non_null(a2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "indicator"), "feed")),
                        "feed-07");
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "rule"), "level")),
                        "low");
    assert_int_equal(json_array_size(json_object_get(a, "indicators_more")),
                     INTEL_ALERT_MAX_INDICATORS - 1);
    assert_int_equal(json_integer_value(json_object_get(a, "indicators_omitted")),
                     15 - INTEL_ALERT_MAX_INDICATORS);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a2, "rule"), "level")),
                        "medium");
    json_decref(a);
    json_decref(a2);
    free(out);
    intel_set_free(s);
    arena_free(&e.arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_event_fields),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_validity_revoked_warnings),
        cmocka_unit_test(test_duplicates_and_alert),
        cmocka_unit_test(test_levels_and_many_feeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
