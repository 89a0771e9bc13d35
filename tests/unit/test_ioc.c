/* Unit tests for the indicator model (intel/ioc.h): normalisation of every
 * type (what is accepted, in which normal form, and what is refused with
 * which reason), normalising twice giving the same value, type and TLP
 * names, and the import batch (problems kept and counted, appending). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intel/ioc.h"

static const struct {
    enum ioc_type t;
    const char *in;
    const char *out; /* NULL: refused */
} cases[] = {
    {IOC_IP, "192.0.2.1", "192.0.2.1"},
    {IOC_IP, " 192.0.2.1\r\n", "192.0.2.1"},
    {IOC_IP, "999.1.1.1", NULL},
    {IOC_IP, "1.2.3", NULL},
    {IOC_IP, "01.2.3.4", NULL},
    {IOC_IP, "10.0.0.0/8", "10.0.0.0/8"},
    {IOC_IP, "10.0.0.0/33", NULL},
    {IOC_IP, "10.0.0.1/8", NULL}, /* host bits set: ambiguous */
    {IOC_IP, "10.0.0.0/", NULL},
    {IOC_IP, "10.0.0.0/x", NULL},
    {IOC_IP, "192.0.2.7/32", "192.0.2.7"},
    {IOC_IP, "::ffff:192.0.2.1", "192.0.2.1"},
    {IOC_IP, "::ffff:10.0.0.0/104", "10.0.0.0/8"},
    {IOC_IP, "2001:DB8::1", "2001:db8::1"},
    {IOC_IP, "[2001:db8::1]", "2001:db8::1"},
    {IOC_IP, "2001:db8::/32", "2001:db8::/32"},
    {IOC_IP, "2001:db8::/129", NULL},
    {IOC_IP, "2001:db8::1/128", "2001:db8::1"},
    {IOC_IP, "evil.example", NULL},
    {IOC_DOMAIN, "Evil.EXAMPLE.", "evil.example"},
    {IOC_DOMAIN, "*.evil.example", "evil.example"},
    {IOC_DOMAIN, ".evil.example", "evil.example"},
    {IOC_DOMAIN, "evil..example", NULL},
    {IOC_DOMAIN, "evil example", NULL},
    {IOC_DOMAIN, "http://evil.example/", NULL},
    {IOC_DOMAIN, "", NULL},
    {IOC_DOMAIN, "xn--bcher-kva.example", "xn--bcher-kva.example"},
    {IOC_URL, "HTTPS://User@Evil.Example:443/a?b#c", "evil.example/a?b"},
    {IOC_URL, "http://evil.example:80/x", "evil.example/x"},
    {IOC_URL, "http://evil.example:8080/x", "evil.example:8080/x"},
    {IOC_URL, "evil.example/", "evil.example"},
    {IOC_URL, "http:///path", NULL},
    {IOC_URL, "http://evil.example/a b", NULL},
    {IOC_EMAIL, "Bob <Bob@Example.ORG>", "bob@example.org"},
    {IOC_EMAIL, "bob@example.org", "bob@example.org"},
    {IOC_EMAIL, "bob", NULL},
    {IOC_EMAIL, "@example.org", NULL},
    {IOC_EMAIL, "a@b@c", NULL},
    {IOC_MD5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"},
    {IOC_MD5, "d41d8cd98f00b204e9800998ecf8427", NULL},
    {IOC_MD5, "g41d8cd98f00b204e9800998ecf8427e", NULL},
    {IOC_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
     "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", NULL},
    {IOC_FILENAME, "C:\\Users\\x\\EVIL.exe", "evil.exe"},
    {IOC_FILENAME, "/tmp/ payload.sh", "payload.sh"},
    {IOC_FILENAME, "/tmp/", NULL},
    {IOC_USER_AGENT, "python-requests/2.31", "python-requests/2.31"},
};

static void normalise_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[600];
        const char *why = NULL;
        int n = ioc_normalise(cases[i].t, cases[i].in, strlen(cases[i].in), out, &why);
        if (!cases[i].out) {
            if (n >= 0)
                fail_msg("%s '%s' was accepted as '%s'", ioc_type_name(cases[i].t), cases[i].in,
                         out);
            assert_non_null(why);
            continue;
        }
        if (n < 0)
            fail_msg("%s '%s' was refused: %s", ioc_type_name(cases[i].t), cases[i].in, why);
        assert_int_equal(n, strlen(cases[i].out));
        assert_string_equal(out, cases[i].out);
        /* normal form is a fixed point (URLs: a scheme-less form stays) */
        char again[600];
        int m = ioc_normalise(cases[i].t, out, (size_t)n, again, &why);
        assert_true(m >= 0);
        assert_string_equal(again, out);
    }
}

static void reasons(void **state)
{
    (void)state;
    char out[128];
    const char *why;
    assert_true(ioc_normalise(IOC_IP, "10.0.0.0/33", 11, out, &why) < 0);
    assert_non_null(strstr(why, "32"));
    assert_true(ioc_normalise(IOC_IP, "999.1.1.1", 9, out, &why) < 0);
    assert_non_null(strstr(why, "address"));
    assert_true(ioc_normalise(IOC_SHA1, "abc", 3, out, &why) < 0);
    assert_non_null(strstr(why, "40"));
}

static void names(void **state)
{
    (void)state;
    for (int t = 0; t < IOC__COUNT; t++)
        assert_int_equal(ioc_type_by_name(ioc_type_name((enum ioc_type)t)), t);
    assert_int_equal(ioc_type_by_name("ip-dst"), IOC_IP);
    assert_int_equal(ioc_type_by_name("hostname"), IOC_DOMAIN);
    assert_int_equal(ioc_type_by_name("SHA-256"), IOC_SHA256);
    assert_int_equal(ioc_type_by_name("nonsense"), -1);
    assert_int_equal(tlp_by_name("TLP:AMBER+STRICT"), TLP_AMBER_STRICT);
    assert_int_equal(tlp_by_name("white"), TLP_CLEAR);
    assert_int_equal(tlp_by_name("tlp:red"), TLP_RED);
    assert_int_equal(tlp_by_name("purple"), -1);
    assert_string_equal(tlp_name(TLP_GREEN), "TLP:GREEN");
    assert_string_equal(tlp_name(TLP_UNMARKED), "");
}

static void batch(void **state)
{
    (void)state;
    struct ioc_batch a, b;
    ioc_batch_init(&a, "a.json", "stix");
    ioc_batch_init(&b, "b.json", "misp");
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = "partner";
    m.name = "spray";
    m.confidence = 70;
    uint32_t mi = ioc_batch_add_meta(&a, &m);
    assert_int_equal(ioc_batch_add(&a, IOC_IP, "192.0.2.1", 9, mi, true, "a.json:1"), 0);
    assert_int_equal(ioc_batch_add(&a, IOC_IP, "999.1.1.1", 9, mi, true, "a.json:2"), -22);
    assert_int_equal(a.niocs, 1);
    assert_int_equal(a.nproblems, 1);
    assert_string_equal(a.problems[0].where, "a.json:2");
    assert_non_null(strstr(a.problems[0].why, "999.1.1.1"));
    for (int i = 0; i < 1200; i++)
        ioc_batch_problem(&a, "x", "problem %d", i);
    assert_int_equal(a.nproblems, 1000);
    assert_int_equal(a.nproblems_dropped, 201);

    ioc_meta_init(&m);
    m.feed = "other";
    uint32_t mb = ioc_batch_add_meta(&b, &m);
    assert_int_equal(ioc_batch_add(&b, IOC_DOMAIN, "Evil.Example", 12, mb, false, "b"), 0);
    ioc_batch_append(&a, &b);
    ioc_batch_free(&b); /* the copy owns its strings */
    assert_int_equal(a.niocs, 2);
    assert_int_equal(a.nmetas, 2);
    assert_string_equal(a.iocs[1].value, "evil.example");
    assert_false(a.iocs[1].detect);
    assert_string_equal(a.metas[a.iocs[1].meta].feed, "other");
    assert_string_equal(a.metas[a.iocs[0].meta].name, "spray");
    ioc_batch_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalise_cases),
        cmocka_unit_test(reasons),
        cmocka_unit_test(names),
        cmocka_unit_test(batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
