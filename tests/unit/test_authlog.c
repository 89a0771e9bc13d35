/* Unit tests for decode/authlog.c: the address check that guards
 * source.ip, the string helpers, and PAM messages with injected text. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/authlog.h"
#include "decode/decode.h"

static struct str S(const char *s) {
    return str_make(s, strlen(s));
}

static void
test_ip_text_valid(void **state)
{
    (void)state;
    static const char *const good[] = {
        "192.0.2.1",
        "0.0.0.0",
        "255.255.255.255",
        "10.0.0.40",
        "::1",
        "2001:db8::1",
        "aaaa:bbbb:cccc:1234::1:1",
        "::ffff:192.0.2.1",
        "fe80::1%eth0",
        "2606:2800:220:1:248:1893:25c8:1946",
    };
    static const char *const bad[] = {
        "",
        "1",
        "192.0.2",
        "192.0.2.1.",
        "192.0.2.256",
        "192.030.0.6",
        "01.2.3.4",
        "1.2.3.4 ",
        " 1.2.3.4",
        "example.com",
        "1.2.3.4:22",
        "::1%",
        "2001:db8::g",
        "1.2.3.-4",
        "999.1.1.1",
        "not-an-ip",
        "1:2:3:4:5:6:7:8:9",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(ip_text_valid(S(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ip_text_valid(S(bad[i])));
    /* not NUL-terminated: the check must stop at n */
    assert_true(ip_text_valid(str_make("192.0.2.12345", 9)));
}

static void test_set_ip_unmaps_v4(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    event_init(&ev, &a);
    assert_true(event_set_ip(&ev, CORE_SOURCE_IP, S("::ffff:203.0.113.5")));
    assert_true(str_eq(ev.core[CORE_SOURCE_IP], "203.0.113.5"));
    assert_true(event_set_ip(&ev, CORE_SOURCE_IP, S("::FFFF:203.0.113.6")));
    assert_true(str_eq(ev.core[CORE_SOURCE_IP], "203.0.113.6"));
    assert_true(event_set_ip(&ev, CORE_DESTINATION_IP, S("::ffff:c000:201")));
    assert_true(str_eq(ev.core[CORE_DESTINATION_IP], "::ffff:c000:201"));
    assert_false(event_set_ip(&ev, CORE_SOURCE_IP, S("scanner.example.net")));
    assert_true(str_eq(ev.core[CORE_SOURCE_IP], "203.0.113.6")); /* unchanged */
    arena_free(&a);
}

static void test_numbers_and_rfind(void **state)
{
    (void)state;
    assert_true(str_is_uint(S("0")));
    assert_true(str_is_uint(S("999999999999999999")));
    assert_false(str_is_uint(S("9999999999999999999"))); /* 19 digits: may not fit */
    assert_false(str_is_uint(S("")));
    assert_false(str_is_uint(S("-1")));
    assert_true(str_is_port(S("65535")));
    assert_false(str_is_port(S("65536")));
    assert_false(str_is_port(S("000022")));
    assert_int_equal(str_rfind(S("a, rip=1, rip=2"), ", rip="), 8);
    assert_int_equal(str_rfind(S(", rip="), ", rip="), 0);
    assert_int_equal(str_rfind(S("rip="), ", rip="), -1);
    assert_int_equal(str_rfind(S("xxxx"), "x"), 3);
    assert_int_equal(str_rfind(S(""), "x"), -1);
}

static const char *native(const struct event *ev, const char *key)
{
    static char buf[256];
    const struct field *f = event_get(ev, key);
    if (!f)
        return NULL;
    snprintf(buf, sizeof(buf), "%.*s", (int)f->val.n, f->val.p);
    return buf;
}

static const char *core(const struct event *ev, enum core_field c)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "%.*s", (int)ev->core[c].n, ev->core[c].p);
    return buf;
}

static void test_pam_messages(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;

    /* the address is the one the service wrote, not the one in ruser */
    event_init(&ev, &a);
    assert_int_equal(pam_message_decode(&ev, S("pam_unix(dovecot:auth): authentication failure; "
                                               "logname= uid=0 euid=0 tty=dovecot "
                                               "ruser=rhost=1.2.3.4 rhost=192.0.2.10")),
                     0);
    assert_string_equal(core(&ev, CORE_SOURCE_IP), "192.0.2.10");
    assert_string_equal(native(&ev, "ruser"), "rhost=1.2.3.4");
    assert_string_equal(core(&ev, CORE_EVENT_ACTION), "auth-failure");
    assert_string_equal(core(&ev, CORE_EVENT_OUTCOME), "failure");

    /* ruser with spaces and a planted rhost */
    event_init(&ev, &a);
    assert_int_equal(pam_message_decode(&ev, S("pam_unix(dovecot:auth): authentication failure; "
                                               "logname= uid=0 euid=0 tty=dovecot "
                                               "ruser=a rhost=1.2.3.4 rhost=192.0.2.11  "
                                               "user=root")),
                     0);
    assert_string_equal(core(&ev, CORE_SOURCE_IP), "192.0.2.11");
    assert_string_equal(core(&ev, CORE_USER_NAME), "root");

    /* a planted rhost in the user part comes after the real one */
    event_init(&ev, &a);
    assert_int_equal(pam_message_decode(&ev, S("pam_unix(sshd:auth): authentication failure; "
                                               "logname= uid=0 euid=0 tty=ssh ruser= "
                                               "rhost=192.0.2.12  user=x rhost=1.2.3.4")),
                     0);
    assert_string_equal(core(&ev, CORE_SOURCE_IP), "192.0.2.12");
    assert_string_equal(core(&ev, CORE_USER_NAME), "x rhost=1.2.3.4");

    /* a host name stays out of source.ip */
    event_init(&ev, &a);
    assert_int_equal(pam_message_decode(&ev, S("pam_unix(sshd:auth): authentication failure; "
                                               "logname= uid=0 euid=0 tty=ssh ruser= "
                                               "rhost=scanner.example.net")),
                     0);
    assert_int_equal(ev.core[CORE_SOURCE_IP].n, 0);
    assert_string_equal(native(&ev, "rhost"), "scanner.example.net");

    event_init(&ev, &a);
    assert_int_equal(pam_message_decode(&ev, S("pam_unix(sshd:session): session opened for user "
                                               "bob(uid=1001) by (uid=0)")),
                     0);
    assert_string_equal(core(&ev, CORE_USER_NAME), "bob");
    assert_string_equal(core(&ev, CORE_EVENT_ACTION), "session-opened");

    /* not PAM messages, or truncated ones */
    static const char *const no[] = {
        "pam_unix(sshd:session): session opened for user ",
        "pam_unix(sshd:auth",
        "pam_unix(sshd:auth):",
        "pam_unix(sshd:auth): something else",
        "pam_(x): authentication failure; ",
        "pam",
    };
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        event_init(&ev, &a);
        assert_int_equal(pam_message_decode(&ev, S(no[i])), -EINVAL);
        assert_int_equal(ev.core[CORE_EVENT_ACTION].n, 0);
    }
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip_text_valid),
        cmocka_unit_test(test_set_ip_unmaps_v4),
        cmocka_unit_test(test_numbers_and_rfind),
        cmocka_unit_test(test_pam_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
