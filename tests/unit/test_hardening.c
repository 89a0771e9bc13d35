/*
 * Unit tests for the problems fuzzing found in the core: each test is one
 * finding, written as the contract the code must now keep.
 *
 *   - times outside what int64 nanoseconds hold (ISO years, TAI64N labels,
 *     file times, relative ages) overflowed; they are now "no time";
 *   - raw JSON arrays were rendered as read: with line breaks (pretty input),
 *     invalid escapes and invalid UTF-8, breaking one-line valid JSON output;
 *   - reader_json handed over complete values longer than max_record.
 */
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

#include "decode/decode.h"
#include "event/event.h"
#include "source/input.h"
#include "source/reader.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/timeconv.h"

static void test_time_range(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_true(time_from_utc(4048, 3, 5, 2, 6, 28, 0) == TIME_NONE);
    assert_true(time_from_utc(1600, 1, 1, 0, 0, 0, 0) == TIME_NONE);
    assert_true(time_from_utc(2261, 12, 31, 23, 59, 59, 999999999) != TIME_NONE);
    assert_true(time_from_utc(1678, 1, 1, 0, 0, 0, 0) != TIME_NONE);
    const char *s = "4048-03-05T02:06:28.123456+01:00";
    assert_int_equal(time_parse_iso(s, strlen(s), NULL, &t), 0);
    s = "2261-12-31T23:59:59-23:59";
    assert_int_equal(time_parse_iso(s, strlen(s), NULL, &t), strlen(s));
    assert_true(t > 0);
    struct tz_ctx tz;
    tz_ctx_init(&tz);
    assert_true(time_from_local(&tz, 9999, 1, 1, 0, 0, 0, 0) == TIME_NONE);
    /* file times from far away are clamped, not overflowed */
    assert_true(time_from_unix(INT64_MAX / 2, 0) > 0);
    assert_true(time_from_unix(-(INT64_MAX / 2), 0) < 0);
    assert_true(time_from_unix(1709596800, 5) == 1709596800LL * NS_PER_SEC + 5);
    /* ages beyond a century are refused */
    assert_int_equal(time_parse_user("99999999999w", 0, &t), -EINVAL);
    assert_int_equal(time_parse_user("4048-03-05", 0, &t), -EINVAL);
    assert_int_equal(time_parse_user("7d", 1709596800LL * NS_PER_SEC, &t), 0);
}

static int decode_syslog(const char *line, struct event *ev, struct arena *a)
{
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "t.log", 1709596800LL * NS_PER_SEC, 0);
    event_init(ev, a);
    ev->raw = str_make(line, strlen(line));
    int rc = decoder_find("syslog")->decode_line(&ctx, ev);
    decode_ctx_fini(&ctx);
    return rc;
}

static void test_tai64n_range(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    /* a label from beyond 2262 is no time stamp, hence no header */
    assert_int_equal(decode_syslog("@7fffffffffffffff00000000 dovecot: x", &ev, &a), -EINVAL);
    /* 2024-03-05T02:06:28Z + 10 s TAI offset */
    assert_int_equal(decode_syslog("@4000000065e67e2e00000000 dovecot: x", &ev, &a), 0);
    char out[32];
    time_format(ev.ts_ns, out);
    assert_string_equal(out, "2024-03-05T02:06:28.000000000Z");
    /* RFC 3164 with a year kenchi cannot represent: not a header */
    assert_int_equal(decode_syslog("Mar  5 9999 02:06:28 mx1 sshd[1]: x", &ev, &a), -EINVAL);
    arena_free(&a);
}

/* Flatten text; return the rendered value of native field key. */
static int flatten_field(const char *text, const char *key, char *out, size_t cap)
{
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    event_init(&ev, &a);
    int rc = json_flatten(&ev, text, strlen(text));
    if (rc == 0) {
        const struct field *f = event_get(&ev, key);
        assert_non_null(f);
        assert_int_equal(f->type, VT_JSON);
        assert_true(f->val.n < cap);
        memcpy(out, f->val.p, f->val.n);
        out[f->val.n] = '\0';
    }
    arena_free(&a);
    return rc;
}

static void test_json_raw_arrays(void **state)
{
    (void)state;
    char out[256];
    /* invalid escapes make the record invalid, in arrays as elsewhere */
    assert_int_equal(flatten_field("{\"a\":[\"\\q\"]}", "a", out, sizeof(out)), -EINVAL);
    assert_int_equal(flatten_field("{\"a\":[\"\\u12G4\"]}", "a", out, sizeof(out)), -EINVAL);
    assert_int_equal(flatten_field("{\"a\":[\"\\", "a", out, sizeof(out)), -EINVAL);
    /* valid escapes are kept as written */
    assert_int_equal(flatten_field("{\"a\":[\"\\u00e9\\n\\\"\"]}", "a", out, sizeof(out)), 0);
    assert_string_equal(out, "[\"\\u00e9\\n\\\"\"]");
    /* line breaks outside strings go, spaces inside strings stay */
    assert_int_equal(
        flatten_field("{\"a\":[\n  {\"k\": \"x  y\"},\n  2\n]}", "a", out, sizeof(out)), 0);
    assert_string_equal(out, "[{\"k\":\"x  y\"},2]");
    /* invalid UTF-8 becomes U+FFFD; valid multi-byte sequences stay */
    assert_int_equal(flatten_field("{\"a\":[\"\xff\xc3\xa9\"]}", "a", out, sizeof(out)), 0);
    assert_string_equal(out, "[\"\xEF\xBF\xBD\xc3\xa9\"]");
    /* one-line, valid arrays are untouched */
    assert_int_equal(flatten_field("{\"a\":[1, 2]}", "a", out, sizeof(out)), 0);
    assert_string_equal(out, "[1, 2]");
}

struct collect {
    int n;
    size_t len[8];
    enum record_status st[8];
};

static int collect(void *opaque, const struct record *r)
{
    struct collect *c = opaque;
    if (c->n < 8) {
        c->len[c->n] = r->n;
        c->st[c->n] = r->status;
    }
    c->n++;
    return 0;
}

static void test_reader_json_limit(void **state)
{
    (void)state;
    char path[] = "/tmp/kenchi-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\"a\":\"0123456789abcdef\"}\n{\"b\":2}\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct input *in;
    assert_int_equal(input_open(path, &in), 0);
    struct collect c = {0};
    assert_int_equal(reader_json(in, 9, collect, &c), 0);
    input_close(in);
    unlink(path);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.st[0], RECORD_TRUNCATED);
    assert_int_equal(c.len[0], 9);
    assert_int_equal(c.st[1], RECORD_OK);
    assert_int_equal(c.len[1], 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_range),
        cmocka_unit_test(test_tai64n_range),
        cmocka_unit_test(test_json_raw_arrays),
        cmocka_unit_test(test_reader_json_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
