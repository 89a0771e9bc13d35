/* Unit tests for the baseline profile primitives (baseline/bl-prim.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "baseline/bl-prim.h"

#define DAY 86400u
/* 2026-03-02 00:00:00 UTC, a Monday. */
#define T0 1772409600u

static void test_time(void **state)
{
    (void)state;
    assert_int_equal(bl_weekday(T0), 0);
    assert_int_equal(bl_weekday(T0 + 6 * DAY), 6);
    assert_int_equal(bl_hour(T0 + 3 * 3600 + 59), 3);
    assert_int_equal(bl_time(-5), 0);
    assert_int_equal(bl_time((int64_t)T0 * 1000000000 + 999999999), T0);
}

static void test_seen_touch_and_limit(void **state)
{
    (void)state;
    struct bl_labels l;
    bl_labels_init(&l, 0);
    struct bl_seen s;
    bl_seen_init(&s, 4);
    struct bl_seen_ent prev;
    assert_int_equal(bl_seen_touch(&s, bl_hash_str("a"), T0, bl_label(&l, "a", 1), &prev), 1);
    assert_int_equal(prev.h, 0);
    assert_int_equal(bl_seen_touch(&s, bl_hash_str("a"), T0 + 10, 0, &prev), 0);
    assert_int_equal(prev.count, 1);
    assert_int_equal(prev.first, T0);
    const struct bl_seen_ent *e = bl_seen_get(&s, bl_hash_str("a"));
    assert_non_null(e);
    assert_int_equal(e->count, 2);
    assert_int_equal(e->last, T0 + 10);
    assert_string_equal(bl_label_text(&l, e->label), "a");
    /* Fill to the limit; the least recently seen goes first. */
    bl_seen_touch(&s, bl_hash_str("b"), T0 + 1, 0, NULL);
    bl_seen_touch(&s, bl_hash_str("c"), T0 + 20, 0, NULL);
    bl_seen_touch(&s, bl_hash_str("d"), T0 + 30, 0, NULL);
    assert_int_equal(s.n, 4);
    assert_int_equal(bl_seen_touch(&s, bl_hash_str("e"), T0 + 40, 0, NULL), 1);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.evicted, 1);
    assert_null(bl_seen_get(&s, bl_hash_str("b")));
    assert_non_null(bl_seen_get(&s, bl_hash_str("a")));
    /* Ageing. */
    bl_seen_age(&s, T0 + 25);
    assert_int_equal(s.n, 2);
    assert_null(bl_seen_get(&s, bl_hash_str("a")));
    assert_non_null(bl_seen_get(&s, bl_hash_str("d")));
    assert_non_null(bl_seen_get(&s, bl_hash_str("e")));
    bl_seen_free(&s);
    bl_labels_free(&l);
}

static void test_seen_many_and_roundtrip(void **state)
{
    (void)state;
    struct bl_labels l;
    bl_labels_init(&l, 0);
    struct bl_seen s;
    bl_seen_init(&s, 1000);
    char name[32];
    for (unsigned i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "10.0.%u.0/24", i);
        for (unsigned k = 0; k <= i % 3; k++)
            bl_seen_touch(&s, bl_hash_str(name), T0 + i + k, bl_label(&l, name, strlen(name)),
                          NULL);
    }
    assert_int_equal(s.n, 500);
    struct buf b;
    buf_init(&b);
    bl_seen_write(&b, &s, &l);

    struct bl_labels l2;
    bl_labels_init(&l2, 0);
    struct bl_seen s2;
    bl_seen_init(&s2, 1000);
    struct bl_r r;
    bl_r_init(&r, b.data, b.len);
    bl_seen_read(&r, &s2, &l2);
    assert_false(r.bad);
    assert_int_equal(s2.n, 500);
    for (unsigned i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "10.0.%u.0/24", i);
        const struct bl_seen_ent *a = bl_seen_get(&s, bl_hash_str(name));
        const struct bl_seen_ent *c = bl_seen_get(&s2, bl_hash_str(name));
        assert_non_null(c);
        assert_int_equal(a->count, c->count);
        assert_int_equal(a->first, c->first);
        assert_int_equal(a->last, c->last);
        assert_string_equal(bl_label_text(&l2, c->label), name);
    }
    size_t n;
    struct bl_seen_ent *v = bl_seen_sorted(&s2, &n);
    assert_int_equal(n, 500);
    assert_int_equal(v[0].count, 3);
    assert_int_equal(v[n - 1].count, 1);
    free(v);

    /* Every truncation of the bytes is refused, none crashes. */
    for (size_t cut = 0; cut < b.len; cut += 7) {
        struct bl_seen s3;
        bl_seen_init(&s3, 1000);
        bl_r_init(&r, b.data, cut);
        bl_seen_read(&r, &s3, &l2);
        assert_true(r.bad);
        bl_seen_free(&s3);
    }
    buf_free(&b);
    bl_seen_free(&s);
    bl_seen_free(&s2);
    bl_labels_free(&l);
    bl_labels_free(&l2);
}

static void test_series(void **state)
{
    (void)state;
    struct bl_series s;
    bl_series_init(&s, DAY, 28);
    double q, med, mad;
    assert_int_equal(bl_series_quantile(&s, T0, 0.95, &q), 0);
    /* 20 days: 100 a day, day 5 and 10 quiet (0). */
    for (unsigned d = 0; d < 20; d++)
        if (d != 5 && d != 10) {
            assert_true(bl_series_add(&s, T0 + d * DAY + 3600, 60) == 60);
            assert_true(bl_series_add(&s, T0 + d * DAY + 7200, 40) == 100);
        }
    assert_int_equal(bl_series_active(&s, T0 + 20 * DAY), 18);
    assert_int_equal(bl_series_quantile(&s, T0 + 20 * DAY, 0.95, &q), 20);
    assert_true(q == 100);
    assert_int_equal(bl_series_median_mad(&s, T0 + 20 * DAY, &med, &mad), 20);
    assert_true(med == 100 && mad == 0);
    /* Today's period is not history. */
    assert_int_equal(bl_series_quantile(&s, T0 + 19 * DAY + 5, 0.5, &q), 19);
    assert_true(bl_series_at(&s, T0 + 19 * DAY) == 100);
    assert_true(bl_series_at(&s, T0 + 5 * DAY) == 0);
    /* An idle month: the history is the ring's length of zeros. */
    assert_int_equal(bl_series_quantile(&s, T0 + 80 * DAY, 0.95, &q), 28);
    assert_true(q == 0);
    bl_series_add(&s, T0 + 80 * DAY, 7);
    assert_true(bl_series_at(&s, T0 + 80 * DAY) == 7);
    assert_true(bl_series_at(&s, T0 + 19 * DAY) == 0);
    /* Round trip. */
    struct buf b;
    buf_init(&b);
    bl_series_write(&b, &s);
    struct bl_series s2;
    bl_series_init(&s2, DAY, 28);
    struct bl_r r;
    bl_r_init(&r, b.data, b.len);
    bl_series_read(&r, &s2);
    assert_false(r.bad);
    for (unsigned d = 50; d <= 80; d++)
        assert_true(bl_series_at(&s, T0 + d * DAY) == bl_series_at(&s2, T0 + d * DAY));
    /* A different period is refused. */
    struct bl_series s3;
    bl_series_init(&s3, 3600, 28);
    bl_r_init(&r, b.data, b.len);
    bl_series_read(&r, &s3);
    assert_true(r.bad);
    buf_free(&b);
    bl_series_free(&s);
    bl_series_free(&s2);
    bl_series_free(&s3);
}

static void test_hours(void **state)
{
    (void)state;
    struct bl_hours h;
    memset(&h, 0, sizeof h);
    for (unsigned d = 0; d < 10; d++)
        for (unsigned hr = 8; hr < 18; hr++)
            bl_hours_add(&h, T0 + d * DAY + hr * 3600);
    assert_int_equal(h.total, 100);
    assert_int_equal(bl_hours_near(&h, T0 + 3 * 3600, 1), 0);
    assert_int_equal(bl_hours_near(&h, T0 + 7 * 3600, 1), 10);
    assert_int_equal(bl_hours_near(&h, T0 + 12 * 3600, 0), 10);
    assert_int_equal(bl_hours_near(&h, T0, 12), 100);
    assert_int_equal(bl_hours_weekday(&h, T0 + 7 * DAY), 20); /* two Mondays */
    struct buf b;
    buf_init(&b);
    bl_hours_write(&b, &h);
    struct bl_hours h2;
    struct bl_r r;
    bl_r_init(&r, b.data, b.len);
    bl_hours_read(&r, &h2);
    assert_false(r.bad);
    assert_memory_equal(h.c, h2.c, sizeof h.c);
    assert_int_equal(h2.total, 100);
    buf_free(&b);
}

static void test_addresses(void **state)
{
    (void)state;
    struct bl_addr a;
    char out[64];
    assert_true(bl_addr_parse("203.0.113.77", 12, &a));
    assert_true(a.v4);
    bl_addr_net(&a, out);
    assert_string_equal(out, "203.0.113.0/24");
    assert_false(bl_addr_is_private(&a));
    assert_true(bl_addr_parse("2001:db8:1:2::5", 15, &a));
    assert_false(a.v4);
    bl_addr_net(&a, out);
    assert_string_equal(out, "2001:db8:1::/48");
    assert_true(bl_addr_parse("::ffff:10.1.2.3", 15, &a));
    assert_true(a.v4);
    assert_true(bl_addr_is_private(&a));
    bl_addr_text(&a, out);
    assert_string_equal(out, "10.1.2.3");
    assert_false(bl_addr_parse("999.1.1.1", 9, &a));
    assert_false(bl_addr_parse("", 0, &a));
    assert_true(bl_addr_parse("100.64.1.1", 10, &a) && bl_addr_is_private(&a));
    assert_true(bl_addr_parse("fd00::1", 7, &a) && bl_addr_is_private(&a));

    struct bl_cidr c[2];
    assert_true(bl_cidr_parse("192.0.2.0/24", &c[0]));
    assert_true(bl_cidr_parse("2001:db8::/32", &c[1]));
    struct bl_cidr bad;
    assert_false(bl_cidr_parse("192.0.2.0/33", &bad));
    assert_false(bl_cidr_parse("192.0.2.0/", &bad));
    assert_false(bl_cidr_parse("nope", &bad));
    struct bl_cidrs l = {c, 2};
    assert_true(bl_addr_parse("192.0.2.200", 11, &a) && bl_cidrs_match(&l, &a));
    assert_true(bl_addr_parse("192.0.3.1", 9, &a) && !bl_cidrs_match(&l, &a));
    assert_true(bl_addr_parse("2001:db8:ffff::1", 16, &a) && bl_cidrs_match(&l, &a));
    assert_true(bl_addr_parse("2001:db9::1", 11, &a) && !bl_cidrs_match(&l, &a));
    struct bl_cidr host;
    assert_true(bl_cidr_parse("10.0.0.25", &host));
    struct bl_cidrs hl = {&host, 1};
    assert_true(bl_addr_parse("10.0.0.25", 9, &a) && bl_cidrs_match(&hl, &a));
    assert_true(bl_addr_parse("10.0.0.26", 9, &a) && !bl_cidrs_match(&hl, &a));

    size_t dn;
    const char *d = bl_mail_domain("alice@Mail.Example.org", 22, &dn);
    assert_int_equal(dn, 16);
    assert_memory_equal(d, "Mail.Example.org", 16);
    bl_mail_domain("nobody", 6, &dn);
    assert_int_equal(dn, 0);
}

static void test_varints(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    const uint64_t vals[] = {0, 1, 127, 128, 300, UINT32_MAX, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
        bl_w_u64(&b, vals[i]);
    bl_w_f64(&b, 2.5);
    bl_w_str(&b, "x@y");
    struct bl_r r;
    bl_r_init(&r, b.data, b.len);
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
        assert_true(bl_r_u64(&r) == vals[i]);
    assert_true(bl_r_f64(&r) == 2.5);
    size_t n;
    const char *s = bl_r_str(&r, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "x@y", 3);
    assert_false(r.bad);
    bl_r_u64(&r);
    assert_true(r.bad);
    /* An over-long varint. */
    const uint8_t ff[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    bl_r_init(&r, ff, sizeof ff);
    bl_r_u64(&r);
    assert_true(r.bad);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_seen_touch_and_limit),
        cmocka_unit_test(test_seen_many_and_roundtrip),
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_hours),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_varints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
