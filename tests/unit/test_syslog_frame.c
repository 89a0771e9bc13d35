/* Unit tests for the RFC 6587 framing state machine (source/syslog-frame.h):
 * LF and octet-counted streams fed whole, byte by byte and in every split,
 * the automatic choice from the first byte, oversized messages cut and
 * flagged with the rest of their frame skipped, malformed counts, and the
 * last message of a stream that ends without its LF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "source/syslog-frame.h"

/* Feed s in chunks of `step` bytes (0: whole); write "msg|" per message
 * ("msg~|" when truncated) into out; returns the feed's last error or 0. */
static int run(enum syslog_framing mode, size_t max, const char *s, size_t n, size_t step,
               bool finish, char *out, size_t outn)
{
    struct syslog_framer f;
    syslog_framer_init(&f, mode, max);
    size_t o = 0;
    out[0] = 0;
    int rc = 0;
    size_t pos = 0;
    while (pos < n && rc == 0) {
        size_t k = step && n - pos > step ? step : n - pos;
        const char *p = s + pos;
        size_t left = k;
        while (left) {
            struct syslog_frame fr;
            size_t used = 0;
            int r = syslog_framer_feed(&f, p, left, &used, &fr);
            assert_true(used <= left);
            if (r < 0) {
                rc = r;
                break;
            }
            if (r == 1)
                o += (size_t)snprintf(out + o, outn - o, "%.*s%s|", (int)fr.len, fr.data,
                                      fr.truncated ? "~" : "");
            else
                assert_int_equal(used, left);
            p += used;
            left -= used;
        }
        pos += k;
    }
    if (finish && rc == 0) {
        struct syslog_frame fr;
        int r = syslog_framer_finish(&f, &fr);
        if (r == 1)
            o += (size_t)snprintf(out + o, outn - o, "%.*s%s|", (int)fr.len, fr.data,
                                  fr.truncated ? "~" : "");
        else
            rc = r;
    }
    syslog_framer_free(&f);
    return rc;
}

/* The same result for every chunk size from 1 to the whole input. */
static void check_all_splits(enum syslog_framing mode, size_t max, const char *s, bool finish,
                             int want_rc, const char *want)
{
    char out[4096];
    size_t n = strlen(s);
    for (size_t step = 0; step <= n; step++) {
        int rc = run(mode, max, s, n, step, finish, out, sizeof(out));
        if (rc != want_rc || strcmp(out, want)) {
            print_error("step %zu: rc %d, got '%s', want '%s'\n", step, rc, out, want);
            fail();
        }
    }
}

static void test_lf(void **state)
{
    (void)state;
    check_all_splits(SYSLOG_FRAMING_LF, 100, "<13>a\n<13>bb\r\n\n\n<13>c\n", true, 0,
                     "<13>a|<13>bb|<13>c|");
    /* the last message without its LF comes out at the end of the stream */
    check_all_splits(SYSLOG_FRAMING_LF, 100, "<13>a\n<13>tail", true, 0, "<13>a|<13>tail|");
    check_all_splits(SYSLOG_FRAMING_LF, 100, "<13>a\n<13>tail", false, 0, "<13>a|");
    /* a digit first is fine when LF framing is forced */
    check_all_splits(SYSLOG_FRAMING_LF, 100, "12 ab\n", true, 0, "12 ab|");
}

static void test_octet(void **state)
{
    (void)state;
    check_all_splits(SYSLOG_FRAMING_OCTET, 100, "5 <13>a3 x\ny11 hello world", true, 0,
                     "<13>a|x\ny|hello world|");
    /* stray line ends between frames are tolerated */
    check_all_splits(SYSLOG_FRAMING_OCTET, 100, "2 ab\n2 cd\r\n", true, 0, "ab|cd|");
    /* a frame cut short by the end of the stream is an error */
    check_all_splits(SYSLOG_FRAMING_OCTET, 100, "2 ab5 abc", true, -EPROTO, "ab|");
}

static void test_auto(void **state)
{
    (void)state;
    check_all_splits(SYSLOG_FRAMING_AUTO, 100, "3 abc3 def", true, 0, "abc|def|");
    check_all_splits(SYSLOG_FRAMING_AUTO, 100, "<1>x\n3 abc\n", true, 0, "<1>x|3 abc|");
}

static void test_oversize(void **state)
{
    (void)state;
    /* LF: cut at 4 bytes, flagged, the rest of the line skipped */
    check_all_splits(SYSLOG_FRAMING_LF, 4, "abcdefgh\nabcd\nab\n", true, 0, "abcd~|abcd|ab|");
    check_all_splits(SYSLOG_FRAMING_LF, 4, "abcd\r\nabcde\r\n", true, 0, "abcd|abcd~|");
    /* octet: the same, the rest of the frame skipped whatever it holds */
    check_all_splits(SYSLOG_FRAMING_OCTET, 4, "10 abcdef\n\n\n\n4 wxyz", true, 0, "abcd~|wxyz|");
    /* the largest count is accepted and skipped, one digit more is refused */
    char out[256];
    struct syslog_framer f;
    syslog_framer_init(&f, SYSLOG_FRAMING_OCTET, 8);
    struct syslog_frame fr;
    size_t used;
    assert_int_equal(syslog_framer_feed(&f, "999999999 abcdefghij", 20, &used, &fr), 1);
    assert_true(fr.truncated);
    assert_int_equal(fr.len, 8);
    assert_int_equal(used, 18);
    assert_int_equal(syslog_framer_feed(&f, "ij", 2, &used, &fr), 0);
    assert_true(syslog_framer_held(&f) <= 9); /* bounded by max_message + 1 */
    syslog_framer_free(&f);
    assert_int_equal(run(SYSLOG_FRAMING_OCTET, 8, "1000000000 a", 12, 0, true, out, sizeof(out)),
                     -EPROTO);
}

static void test_malformed(void **state)
{
    (void)state;
    check_all_splits(SYSLOG_FRAMING_OCTET, 100, "3 abc<13>x\n", true, -EPROTO, "abc|");
    check_all_splits(SYSLOG_FRAMING_OCTET, 100, "03 abc", true, -EPROTO, "");
    check_all_splits(SYSLOG_FRAMING_OCTET, 100, "3x abc", true, -EPROTO, "");
    check_all_splits(SYSLOG_FRAMING_AUTO, 100, "2 ab 2 cd", true, -EPROTO, "ab|");
    /* the offending byte is not consumed */
    struct syslog_framer f;
    syslog_framer_init(&f, SYSLOG_FRAMING_OCTET, 100);
    struct syslog_frame fr;
    size_t used = 99;
    assert_int_equal(syslog_framer_feed(&f, "12a", 3, &used, &fr), -EPROTO);
    assert_int_equal(used, 2);
    syslog_framer_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lf),        cmocka_unit_test(test_octet),
        cmocka_unit_test(test_auto),      cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
