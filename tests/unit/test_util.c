/* Unit tests for util/: time conversion, JSON escaping, arena, case folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/casefold.h"
#include "util/timeconv.h"

static void test_civil_roundtrip(void **state)
{
    (void)state;
    char out[32];
    time_format(time_from_utc(2024, 2, 29, 23, 59, 59, 123456789), out);
    assert_string_equal(out, "2024-02-29T23:59:59.123456789Z");
    time_format(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000000000Z");
    time_format(time_from_utc(1969, 12, 31, 23, 59, 59, 500000000), out);
    assert_string_equal(out, "1969-12-31T23:59:59.500000000Z");
    assert_int_equal(time_year(time_from_utc(2023, 12, 31, 23, 0, 0, 0)), 2023);
}

static void test_iso_parse(void **state)
{
    (void)state;
    int64_t t;
    char out[32];
    const char *s = "2024-03-01T10:00:00.5+01:00";
    assert_int_equal(time_parse_iso(s, strlen(s), NULL, &t), strlen(s));
    time_format(t, out);
    assert_string_equal(out, "2024-03-01T09:00:00.500000000Z");
    s = "2024-03-01 10:00:00 rest";
    assert_int_equal(time_parse_iso(s, strlen(s), NULL, &t), 19);
    s = "2024-13-01T10:00:00Z";
    assert_int_equal(time_parse_iso(s, strlen(s), NULL, &t), 0);
    s = "2024-03-01T10:00:00.1234567891234Z"; /* digits beyond ns are dropped */
    assert_int_equal(time_parse_iso(s, strlen(s), NULL, &t), strlen(s));
    time_format(t, out);
    assert_string_equal(out, "2024-03-01T10:00:00.123456789Z");
}

static void test_local_zone(void **state)
{
    (void)state;
    assert_int_equal(tz_select("Europe/Berlin"), 0);
    struct tz_ctx tz;
    tz_ctx_init(&tz);
    char out[32];
    time_format(time_from_local(&tz, 2024, 1, 15, 12, 0, 0, 0), out);
    assert_string_equal(out, "2024-01-15T11:00:00.000000000Z"); /* CET */
    time_format(time_from_local(&tz, 2024, 7, 15, 12, 0, 0, 0), out);
    assert_string_equal(out, "2024-07-15T10:00:00.000000000Z"); /* CEST */
    assert_int_equal(tz_select("Not/AZone"), -22);
    assert_int_equal(tz_select("UTC"), 0);
}

static void test_user_time(void **state)
{
    (void)state;
    int64_t t, now = time_from_utc(2024, 3, 10, 0, 0, 0, 0);
    assert_int_equal(time_parse_user("7d", now, &t), 0);
    assert_true(t == time_from_utc(2024, 3, 3, 0, 0, 0, 0));
    assert_int_equal(time_parse_user("2024-03-01", now, &t), 0);
    assert_true(t == time_from_utc(2024, 3, 1, 0, 0, 0, 0));
    assert_int_equal(time_parse_user("yesterday", now, &t), -22);
}

static void test_json_escape(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    json_put_string(&b, "a\"b\\c\n\x01\0z", 9);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\\u0000z\"");
    buf_clear(&b);
    json_put_string(&b, "\xff\xc3\xa9\xe2\x82", 5); /* bad, é, truncated seq */
    assert_string_equal(b.data, "\"\xEF\xBF\xBD\xc3\xa9\xEF\xBF\xBD\xEF\xBF\xBD\"");
    buf_clear(&b);
    json_put_number_text(&b, "01", 2);
    assert_string_equal(b.data, "\"01\"");
    buf_clear(&b);
    json_put_number_text(&b, "-1.5e3", 6);
    assert_string_equal(b.data, "-1.5e3");
    buf_free(&b);
}

/* The escaper skips plain bytes 8 at a time: every byte that needs care
 * (quote, backslash, control, NUL, bytes >= 0x80) at every offset of a
 * word, and at the ends, gives what a byte-by-byte escaper gives. */
static void ref_escape(struct buf *b, const unsigned char *p, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        char e[8];
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else if (c == '\n') {
            buf_puts(b, "\\n");
        } else if (c == '\r') {
            buf_puts(b, "\\r");
        } else if (c == '\t') {
            buf_puts(b, "\\t");
        } else if (c < 0x20) {
            snprintf(e, sizeof(e), "\\u%04x", c);
            buf_puts(b, e);
        } else if (c >= 0x80) {
            buf_puts(b, "\xEF\xBF\xBD"); /* only lone bytes >= 0x80 below */
        } else {
            buf_putc(b, (char)c);
        }
    }
    buf_putc(b, '"');
}

static void test_json_escape_words(void **state)
{
    (void)state;
    static const unsigned char special[] = {'"', '\\', 0, 1, '\n', 0x1f, 0x80, 0xff, ' ', '~'};
    struct buf got, want;
    buf_init(&got);
    buf_init(&want);
    unsigned char s[40];
    for (size_t len = 0; len <= sizeof(s); len++)
        for (size_t at = 0; at < len; at++)
            for (size_t k = 0; k < sizeof(special); k++) {
                for (size_t i = 0; i < len; i++)
                    s[i] = (unsigned char)('a' + i % 26);
                s[at] = special[k];
                buf_clear(&got);
                buf_clear(&want);
                json_put_string(&got, (const char *)s, len);
                ref_escape(&want, s, len);
                assert_int_equal(got.len, want.len);
                assert_memory_equal(got.data, want.data, got.len);
            }
    buf_free(&got);
    buf_free(&want);
}

/* time_format writes its digits by hand for years 0..9999: the same text
 * as the printf format it replaces, over a spread of times. */
static void test_time_format_digits(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* years about 1843..2096, and now and then 0..9999 */
        int64_t t = (int64_t)(x % (8000000000ULL * NS_PER_SEC)) - 4000000000LL * NS_PER_SEC;
        if (i % 10 == 0)
            t = time_from_utc((int)(x % 10000), 1 + (int)(x % 12), 1 + (int)(x % 28), (int)(x % 24),
                              (int)(x % 60), (int)(x % 60), (long)(x % 1000000000));
        char got[32], want[64];
        time_format(t, got);
        int64_t secs = t / NS_PER_SEC, ns = t % NS_PER_SEC;
        if (ns < 0) {
            ns += NS_PER_SEC;
            secs--;
        }
        int64_t days = secs / 86400, rem = secs % 86400;
        if (rem < 0) {
            rem += 86400;
            days--;
        }
        /* the reference: days back to a date the long way (month lengths) */
        int64_t y = 1970;
        for (;;) {
            int64_t yd = (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 366 : 365;
            if (days >= yd) {
                days -= yd;
                y++;
            } else if (days < 0) {
                y--;
                days += (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 366 : 365;
            } else {
                break;
            }
        }
        int ml[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
            ml[1] = 29;
        int m = 0;
        while (days >= ml[m])
            days -= ml[m++];
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", (int)y, m + 1,
                 (int)days + 1, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)ns);
        assert_string_equal(got, want);
    }
}

static void test_arena(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    char *p = arena_alloc(&a, 10);
    memset(p, 'x', 10);
    char *big = arena_alloc(&a, 100000); /* oversized: own block */
    memset(big, 'y', 100000);
    char *q = arena_realloc(&a, NULL, 0, 64);
    assert_non_null(q);
    for (int i = 0; i < 1000; i++)
        arena_strndup(&a, "hello", 5);
    arena_reset(&a);
    assert_int_equal(a.bytes_used, 0);
    arena_free(&a);
}

static void test_casefold(void **state)
{
    (void)state;
    /* code points: ASCII, Latin-1, Latin Extended-A/B, Greek, Cyrillic, Armenian */
    assert_int_equal(casefold_cp('A'), 'a');
    assert_int_equal(casefold_cp('a'), 'a');
    assert_int_equal(casefold_cp(0xC4), 0xE4);     /* Ä */
    assert_int_equal(casefold_cp(0xD7), 0xD7);     /* multiplication sign */
    assert_int_equal(casefold_cp(0xDF), 0xDF);     /* ß: no simple folding */
    assert_int_equal(casefold_cp(0xB5), 0x3BC);    /* micro sign: Greek mu */
    assert_int_equal(casefold_cp(0x100), 0x101);   /* Ā */
    assert_int_equal(casefold_cp(0x130), 0x130);   /* İ: no simple folding */
    assert_int_equal(casefold_cp(0x178), 0xFF);    /* Ÿ */
    assert_int_equal(casefold_cp(0x17F), 0x17F);   /* long s: folds to ASCII, left */
    assert_int_equal(casefold_cp(0x1C5), 0x1C6);   /* titlecase Dž */
    assert_int_equal(casefold_cp(0x23A), 0x23A);   /* folds to three bytes: left */
    assert_int_equal(casefold_cp(0x391), 0x3B1);   /* Α */
    assert_int_equal(casefold_cp(0x3A2), 0x3A2);   /* unassigned */
    assert_int_equal(casefold_cp(0x3C2), 0x3C3);   /* final sigma */
    assert_int_equal(casefold_cp(0x3D1), 0x3B8);   /* theta symbol */
    assert_int_equal(casefold_cp(0x401), 0x451);   /* Ё */
    assert_int_equal(casefold_cp(0x41F), 0x43F);   /* П */
    assert_int_equal(casefold_cp(0x4C0), 0x4CF);   /* palochka */
    assert_int_equal(casefold_cp(0x531), 0x561);   /* Armenian Ayb */
    assert_int_equal(casefold_cp(0x1E9E), 0x1E9E); /* three bytes: left */
    /* every folding is its own folding, and keeps the two-byte length */
    for (uint32_t c = 0; c < 0x800; c++) {
        uint32_t f = casefold_cp(c);
        assert_int_equal(casefold_cp(f), f);
        assert_true((c < 0x80) == (f < 0x80));
    }
    /* text: lengths kept; longer characters and invalid bytes left alone */
    const char in[] =
        "\xd0\x9f\xd0\x90\xd0\xa0\xd0\x9e\xd0\x9b\xd0\xac \xc3\x84RGER \xe2\x80\x93 \xc3";
    const char want[] =
        "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c \xc3\xa4rger \xe2\x80\x93 \xc3";
    char out[sizeof(in)];
    assert_true(casefold_utf8(out, in, sizeof(in) - 1));
    out[sizeof(in) - 1] = '\0';
    assert_string_equal(out, want);
    assert_false(casefold_utf8(out, want, sizeof(want) - 1));
    /* long ASCII runs go eight bytes at a time, in place too */
    char mixed[] =
        "C:\\WINDOWS\\System32\\CMD.EXE /c \xd0\x9f\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c=ZZ";
    assert_true(casefold_utf8(mixed, mixed, strlen(mixed)));
    assert_string_equal(mixed, "c:\\windows\\system32\\cmd.exe /c "
                               "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c=zz");
    assert_true(casefold_needed(in, sizeof(in) - 1));
    const char *lower = "c:\\windows\\system32\\cmd.exe", *upper = "c:\\windows\\system32\\Cmd.exe";
    assert_false(casefold_needed(lower, strlen(lower)));
    assert_true(casefold_needed(upper, strlen(upper)));
    assert_true(casefold_needed("cmd.exE", 7));
    assert_true(casefold_non_ascii("abcdefgh\xc3\x84", 10));
    assert_false(casefold_non_ascii("ABCDEFGHIJ", 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_roundtrip),   cmocka_unit_test(test_iso_parse),
        cmocka_unit_test(test_local_zone),        cmocka_unit_test(test_user_time),
        cmocka_unit_test(test_json_escape),       cmocka_unit_test(test_arena),
        cmocka_unit_test(test_json_escape_words), cmocka_unit_test(test_time_format_digits),
        cmocka_unit_test(test_casefold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
