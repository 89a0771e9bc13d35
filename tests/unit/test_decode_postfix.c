/*
 * Unit tests for decode/decode-postfix.c: program matching, queue ids, the
 * rollback contract (a message the decoder does not understand leaves no
 * field and no core value behind), and robustness: every prefix of every
 * sample message, and seeded byte mutations of them, decode without
 * reading outside the message (each input sits in a heap buffer of its
 * exact size, so ASan catches any over-read).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/decode.h"

/* One message per shape the decoder knows, plus near misses. */
static const char *const samples[] = {
    "connect from mail.example.net[198.51.100.7]",
    "connect from unknown[2001:db8::7]:40112",
    "disconnect from unknown[198.51.100.7] ehlo=1 auth=0/1 rset=1 xyzzy=2/3 commands=2/3",
    "3F1A22C0456: client=unknown[198.51.100.7]:5123, sasl_method=PLAIN, sasl_username=alice",
    "3F1A22C0456: message-id=<a@b>",
    "3F1A22C0456: resent-message-id=<a@b>",
    "3F1A22C0456: from=<a@example.org>, size=12, nrcpt=1 (queue active)",
    "3F1A22C0456: from=<>, status=expired, returned to sender",
    "3F1A22C0456: to=<b@example.org>, orig_to=<c@example.org>, relay=mx.example.org[192.0.2.1]:25,"
    " conn_use=2, delay=1, delays=0.1/0/0.5/0.4, tls=may, dsn=2.0.0, status=sent (250 Ok (x))",
    "3F1A22C0456: to=<b@example.org>, relay=h[private/lmtp], delay=1, dsn=2.0.0, status=sent",
    "3F1A22C0456: removed",
    "4Tq9xK0bQmz2Wd1: placed on hold",
    "3F1A22C0456: skipped, still being delivered",
    "3F1A22C0456: uid=0 from=<root>",
    "3F1A22C0456: sender non-delivery notification: 4B2A33D0567",
    "3F1A22C0456: host mx[192.0.2.1] said: 550 5.1.1 no (in reply to RCPT TO command)",
    "3F1A22C0456: host mx[192.0.2.1] refused to talk to me: 421 busy",
    "3F1A22C0456: lost connection with mx[192.0.2.1] while sending RCPT TO",
    "3F1A22C0456: conversation with mx[192.0.2.1] timed out while receiving the greeting",
    "3F1A22C0456: SASL authentication failed; server mx[192.0.2.1] said: 535 5.7.8 no",
    "3F1A22C0456: enabling PIX workarounds: disable_esmtp for mx[192.0.2.1]:25",
    "NOQUEUE: reject: RCPT from h[192.0.2.9]: 554 5.7.1 <x@y>: Relay access denied; "
    "from=<a@b> to=<x@y> proto=ESMTP helo=<h>",
    "NOQUEUE: reject: CONNECT from [192.0.2.9]:1337: too many connections",
    "NOQUEUE: milter-reject: END-OF-MESSAGE from h[192.0.2.9]: 5.7.1 spam; from=<a@b>",
    "NOQUEUE: lost connection after CONNECT from unknown[192.0.2.9]",
    "3F1A22C0456: reject: header Subject: hi from h[192.0.2.9]; from=<a@b> to=<c@d>: 5.7.1 no",
    "3F1A22C0456: warning: header Subject: hi from local; from=<a@b>",
    "3F1A22C0456: warning: something else entirely",
    "3F1A22C0456: Cannot start TLS: handshake failure",
    "warning: 3F1A22C0456: map lookup problem",
    "warning: unknown[192.0.2.9]:25: SASL LOGIN authentication failed: x, sasl_username=bob",
    "warning: hostname h.example does not resolve to address 192.0.2.9: not known",
    "warning: 192.0.2.9: hostname h.example verification failed: not known",
    "warning: 192.0.2.9: address not listed for hostname h.example",
    "warning: non-SMTP command from h[192.0.2.9]: GET / HTTP/1.1",
    "warning: Illegal address syntax from h[192.0.2.9] in MAIL command: <a@@b>",
    "warning: Connection rate limit exceeded: 31 from h[192.0.2.9] for service smtp",
    "error: open database /etc/postfix/x.db: No such file or directory",
    "lost connection after DATA (12 bytes) from h[192.0.2.9]",
    "timeout after END-OF-MESSAGE from h[192.0.2.9]",
    "improper command pipelining after EHLO from h[192.0.2.9]: QUIT\\r\\n",
    "SSL_accept error from h[192.0.2.9]: -1",
    "SSL_connect error to h[192.0.2.9]:25: lost connection",
    "certificate verification failed for h[192.0.2.9]:25: self-signed certificate",
    "connect to h[192.0.2.9]:25: Connection refused",
    "Anonymous TLS connection established from h[192.0.2.9]: TLSv1.3 with cipher X (256/256 bits) "
    "key-exchange X25519 server-signature ECDSA (P-256) server-digest SHA256",
    "Verified TLS connection established to h[192.0.2.9]:25: TLSv1.2 with cipher Y (128/128 bits)",
    "proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok; from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
    "discarding EHLO keywords: CHUNKING",
    "CONNECT from [192.0.2.9]:4000 to [192.0.2.1]:25",
    "PASS NEW [192.0.2.9]:4000",
    "DENYLISTED [192.0.2.9]:4000",
    "PREGREET 11 after 0.15 from [192.0.2.9]:4000: EHLO x\\r\\n",
    "HANGUP after 3 from [192.0.2.9]:4000 in tests after SMTP handshake",
    "DNSBL rank 3 for [192.0.2.9]:4000",
    "NON-SMTP COMMAND from [192.0.2.9]:4000 after CONNECT: GET /",
    "cache btree:/var/lib/postfix/postscreen_cache full cleanup: retained=1 dropped=2 entries",
    "addr 192.0.2.9 listed by domain zen.example as 127.0.0.2",
    "statistics: max connection rate 1/60s for (127.0.0.1:2525:2001:db8::1) at Oct 1 10:00:00",
    "statistics: max simultaneous domains=1 addresses=1 connection=1",
    "statistics: start interval Dec  6 21:20:35",
    "daemon started -- version 3.7.11, configuration /etc/postfix",
    "terminating on signal 15",
    "Deleted: 115 messages",
    "not a postfix message at all",
    "",
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static const enum core_field touched[] = {
    CORE_USER_NAME,        CORE_SOURCE_IP,          CORE_SOURCE_PORT,      CORE_DESTINATION_IP,
    CORE_DESTINATION_PORT, CORE_EMAIL_FROM_ADDRESS, CORE_EMAIL_TO_ADDRESS, CORE_EMAIL_MESSAGE_ID,
    CORE_EVENT_ACTION,     CORE_EVENT_OUTCOME,
};

struct fixture {
    struct arena arena;
    struct decode_ctx ctx;
    const struct syslog_app *app;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    arena_init(&f->arena, 1 << 16);
    decode_ctx_init(&f->ctx, "-", 0, 2024);
    f->app = syslog_app_find("postfix");
    *state = f;
    return f->app ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    decode_ctx_fini(&f->ctx);
    arena_free(&f->arena);
    free(f);
    return 0;
}

/* Is s text of the message lo[0..n)? (A slice of it, or a static string
 * equal to a part of it, such as a rule's prefix.) */
static bool within(struct str s, const char *lo, size_t n)
{
    return s.n == 0 || (s.p >= lo && s.p + s.n <= lo + n) || memmem(lo, n, s.p, s.n) != NULL;
}

/* Decode msg[0..n) (copied to an exact-size heap buffer) as a message of
 * program; check the decoder's contract; return its result. */
static int decode_checked(struct fixture *f, const char *msg, size_t n, const char *program)
{
    char *buf = malloc(n ? n : 1);
    assert_non_null(buf);
    memcpy(buf, msg, n);
    struct event ev;
    event_init(&ev, &f->arena);
    ev.raw = ev.message = str_make(buf, n);
    event_add(&ev, STR_LIT("program"), str_make(program, strlen(program)), VT_STRING);
    int rc = f->app->decode(&f->ctx, &ev, str_make(program, strlen(program)));
    assert_true(rc == 0 || rc == -EINVAL);
    assert_non_null(ev.ls.product);
    assert_string_equal(ev.ls.product, "postfix");
    assert_non_null(ev.ls.service);
    if (rc < 0) {
        assert_int_equal(ev.nfields, 1); /* only what the envelope added */
        for (size_t i = 0; i < sizeof(touched) / sizeof(touched[0]); i++)
            assert_int_equal(ev.core[touched[i]].n, 0);
    } else {
        for (uint32_t i = 1; i < ev.nfields; i++) {
            assert_true(ev.fields[i].key.n > 0);
            /* values are text of the message */
            assert_true(within(ev.fields[i].val, buf, n));
        }
        for (size_t i = 0; i < sizeof(touched) / sizeof(touched[0]); i++) {
            struct str v = ev.core[touched[i]];
            if (touched[i] != CORE_EVENT_ACTION && touched[i] != CORE_EVENT_OUTCOME)
                assert_true(within(v, buf, n));
        }
    }
    struct buf out;
    buf_init(&out);
    event_to_json(&ev, &out);
    buf_free(&out);
    free(buf);
    arena_reset(&f->arena);
    return rc;
}

static void test_program_match(void **state)
{
    struct fixture *f = *state;
    assert_true(f->app->match(STR_LIT("postfix/smtpd")));
    assert_true(f->app->match(STR_LIT("postfix-out/smtp")));
    assert_true(f->app->match(STR_LIT("postfix/submission/smtpd")));
    assert_false(f->app->match(STR_LIT("postfix")));
    assert_false(f->app->match(STR_LIT("postfix/")));
    assert_false(f->app->match(STR_LIT("postfixadmin")));
    assert_false(f->app->match(STR_LIT("sshd")));
    assert_false(f->app->match((struct str){0}));
}

/* The service is the daemon: the last component of the program name, or
 * for bare messages what the message shape says. */
static void test_service(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *program, *msg, *service;
    } cases[] = {
        {"postfix/submission/smtpd", "connect from h[192.0.2.1]", "smtpd"},
        {"postfix-in/cleanup", "ABCDE12: message-id=<x>", "cleanup"},
        {"postfix/custom-daemon", "connect from h[192.0.2.1]", "custom-daemon"},
        {"", "connect from h[192.0.2.1]", "smtpd"},
        {"", "ABCDE12: message-id=<x>", "cleanup"},
        {"", "ABCDE12: to=<a@b>, relay=local, status=sent (ok)", "local"},
        {"", "ABCDE12: to=<a@b>, relay=none, status=bounced (no)", "postfix"},
        {"", "warning: something", "postfix"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct event ev;
        event_init(&ev, &f->arena);
        ev.raw = ev.message = str_make(cases[i].msg, strlen(cases[i].msg));
        struct str prog = str_make(cases[i].program, strlen(cases[i].program));
        assert_int_equal(f->app->decode(&f->ctx, &ev, prog), 0);
        assert_string_equal(ev.ls.service, cases[i].service);
        arena_reset(&f->arena);
    }
}

/* Queue ids: short (hex), long (no vowels, a 'z'), NOQUEUE; words that
 * merely look like one are not. */
static void test_queue_id(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *msg, *qid;
    } cases[] = {
        {"3F1A22C0456: removed", "3F1A22C0456"},
        {"4Tq9xK0bQmz2Wd1: removed", "4Tq9xK0bQmz2Wd1"},
        {"NOQUEUE: lost connection after CONNECT from h[192.0.2.1]", "NOQUEUE"},
        {"Deleted: 1 message", NULL},
        {"BEEF: removed", NULL}, /* too short */
        {"statistics: start interval x", NULL},
        {"Requeued: 2 messages", NULL},
        {"warning: ABCDEF0123: text", "ABCDEF0123"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct event ev;
        event_init(&ev, &f->arena);
        ev.raw = ev.message = str_make(cases[i].msg, strlen(cases[i].msg));
        (void)f->app->decode(&f->ctx, &ev, STR_LIT("postfix/qmgr"));
        const struct field *q = event_get(&ev, "queue_id");
        if (cases[i].qid) {
            assert_non_null(q);
            assert_int_equal(q->val.n, strlen(cases[i].qid));
            assert_memory_equal(q->val.p, cases[i].qid, q->val.n);
        } else {
            assert_null(q);
        }
        arena_reset(&f->arena);
    }
}

/* A message about a queue entry that the decoder does not know keeps its
 * queue id and gets no action; one without a queue id is refused. */
static void test_unknown(void **state)
{
    struct fixture *f = *state;
    const char *m = "3F1A22C0456: Cannot start TLS: handshake failure";
    assert_int_equal(decode_checked(f, m, strlen(m), "postfix/smtp"), 0);
    struct event ev;
    event_init(&ev, &f->arena);
    ev.raw = ev.message = str_make(m, strlen(m));
    assert_int_equal(f->app->decode(&f->ctx, &ev, STR_LIT("postfix/smtp")), 0);
    assert_non_null(event_get(&ev, "queue_id"));
    assert_int_equal(ev.core[CORE_EVENT_ACTION].n, 0);
    arena_reset(&f->arena);
    m = "connect from nowhere"; /* known prefix, broken shape */
    assert_int_equal(decode_checked(f, m, strlen(m), "postfix/smtpd"), -EINVAL);
    m = "refreshing the Postfix mail system";
    assert_int_equal(decode_checked(f, m, strlen(m), "postfix/postfix-script"), -EINVAL);
}

/* Every sample decodes, and every prefix of every sample is handled
 * within bounds, with both a program name and none. */
static void test_all_prefixes(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < NSAMPLES; i++) {
        size_t n = strlen(samples[i]);
        int rc = decode_checked(f, samples[i], n, "postfix/smtpd");
        if (i + 2 < NSAMPLES) /* all but the two near misses at the end */
            assert_int_equal(rc, 0);
        for (size_t k = 0; k <= n; k++) {
            decode_checked(f, samples[i], k, "postfix/smtpd");
            decode_checked(f, samples[i], k, "");
        }
    }
}

/* Seeded byte mutations (a fixed xorshift sequence, so the test is the same
 * on every run): replace, insert-like overwrite with separators, and cut. */
static void test_mutations(void **state)
{
    struct fixture *f = *state;
    static const char hot[] = " :;,=<>[]()/.\0\r\n";
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    char buf[1024];
    for (size_t round = 0; round < 200; round++) {
        for (size_t i = 0; i < NSAMPLES; i++) {
            size_t n = strlen(samples[i]);
            memcpy(buf, samples[i], n);
            for (int m = 0; m < 3 && n; m++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                size_t at = (size_t)(x % n);
                buf[at] = (x >> 32) & 1 ? hot[(x >> 40) % (sizeof(hot) - 1)] : (char)(x >> 48);
            }
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t len = n && (x & 3) == 0 ? (size_t)(x >> 20) % n : n;
            decode_checked(f, buf, len, (x & 8) ? "postfix/smtpd" : "");
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_program_match), cmocka_unit_test(test_service),
        cmocka_unit_test(test_queue_id),      cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_all_prefixes),  cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
