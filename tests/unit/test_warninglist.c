/* Unit tests for MISP warning lists (warninglist.h) over the handwritten
 * lists of tests/intel/warninglists/: every list type, the types a list
 * applies to, the first list winning, broken files reported, and the
 * substring lists with and without Hyperscan giving the same answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intel/warninglist.h"

static const char *dir(void)
{
    const char *d = getenv("KENCHI_TEST_WARNINGLISTS_DIR");
    return d ? d : "tests/intel/warninglists";
}

static const struct {
    enum ioc_type t;
    const char *value;
    const char *list; /* NULL: none */
} cases[] = {
    {IOC_IP, "192.0.2.53", "Public resolvers"}, /* also in i-dup: the first list wins */
    {IOC_IP, "192.0.2.54", "Resolvers again"},
    {IOC_IP, "198.51.100.7", "Public resolvers"},
    {IOC_IP, "198.51.100.0/25", "Public resolvers"}, /* a network inside one */
    {IOC_IP, "198.51.0.0/16", NULL},                 /* a network around one */
    {IOC_IP, "100.100.0.1", "Public resolvers"},     /* the list wrote 100.64.1.7/10 */
    {IOC_IP, "2001:db8:53::1", "Public resolvers"},
    {IOC_IP, "2001:db8:54::1", NULL},
    {IOC_DOMAIN, "popular.example", "Top sites"},
    {IOC_DOMAIN, "www.popular.example", NULL}, /* string lists: exact values */
    {IOC_URL, "https://popular.example/", "Top sites"},
    {IOC_URL, "https://popular.example/evil/path", NULL},
    {IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e", "Top sites"},
    {IOC_DOMAIN, "img.cdn.example", "CDN hosts"}, /* hostname: subdomains too */
    {IOC_DOMAIN, "cdn.example", "CDN hosts"},
    {IOC_URL, "http://x.cdn.example/payload.bin", "CDN hosts"}, /* the URL's host */
    {IOC_EMAIL, "user@cdn.example", NULL}, /* c-hosts does not apply to e-mail */
    {IOC_EMAIL, "foo@MAILINATOR.com", "Disposable mail"},
    {IOC_DOMAIN, "x.10minutemail.net", "Disposable mail"}, /* via domain|ip */
    {IOC_URL, "http://mailinator.com/x", NULL},
    {IOC_EMAIL, "Abuse@corp.example", "Role addresses"},
    {IOC_EMAIL, "alice@corp.example", NULL},
    {IOC_DOMAIN, "clean.example", NULL},
    {IOC_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", NULL},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void run(bool no_hs)
{
    struct warninglist_opts o;
    warninglist_opts_default(&o);
    o.no_hyperscan = no_hs;
    struct warninglists *wl = warninglists_new(&o);
    assert_non_null(wl);
    /* a-dns, b-top, c-hosts, d-sub, e-regex, f-phone, i-dup */
    assert_int_equal(warninglists_load(wl, dir()), 7);
    assert_int_equal(warninglists_count(wl), 7);
    /* problems: g-broken (not JSON), h-notalist, the bad entries */
    bool broken = false, notalist = false, badhost = false, badcidr = false, badre = false;
    for (size_t i = 0; i < warninglists_nproblems(wl); i++) {
        const struct ioc_problem *p = warninglists_problem(wl, i);
        broken |= strstr(p->where, "g-broken/list.json:") && strstr(p->why, "not JSON");
        notalist |= strstr(p->where, "h-notalist") && strstr(p->why, "no \"name\"");
        badhost |= strstr(p->where, "c-hosts/list.json: list[1]") != NULL;
        badcidr |= strstr(p->where, "a-dns/list.json: list[4]") != NULL;
        badre |= strstr(p->where, "e-regex/list.json: list[1]") != NULL;
        /* b-top's SHA-512 is of a type kenchi has no use for: no problem */
        assert_null(strstr(p->where, "b-top"));
    }
    assert_true(broken && notalist && badhost && badcidr && badre);

    struct ioc_batch b;
    ioc_batch_init(&b, "t", "list");
    struct ioc_meta m;
    ioc_meta_init(&m);
    uint32_t mi = ioc_batch_add_meta(&b, &m);
    for (size_t i = 0; i < NCASES; i++)
        assert_int_equal(
            ioc_batch_add(&b, cases[i].t, cases[i].value, strlen(cases[i].value), mi, true, "t"),
            0);
    b.iocs[NCASES - 1].warning = "set before"; /* left as it is */
    uint64_t flagged = warninglist_apply(wl, &b);
    uint64_t want = 0;
    for (size_t i = 0; i < NCASES - 1; i++) {
        if (cases[i].list) {
            want++;
            if (!b.iocs[i].warning || strcmp(b.iocs[i].warning, cases[i].list))
                fail_msg("%s: '%s', want '%s'", cases[i].value,
                         b.iocs[i].warning ? b.iocs[i].warning : "(none)", cases[i].list);
        } else if (b.iocs[i].warning) {
            fail_msg("%s: '%s', want none", cases[i].value, b.iocs[i].warning);
        }
    }
    assert_int_equal(flagged, want);
    assert_string_equal(b.iocs[NCASES - 1].warning, "set before");
    /* per-list counts */
    uint64_t sum = 0;
    for (size_t i = 0; i < warninglists_count(wl); i++) {
        struct warninglist_info in;
        warninglists_info(wl, i, &in);
        sum += in.flagged;
        if (!strcmp(in.name, "Public resolvers")) {
            assert_int_equal(in.flagged, 5);
            assert_int_equal(in.entries, 4);
            assert_int_equal(in.skipped, 1);
            assert_string_equal(in.type, "cidr");
        }
        if (!strcmp(in.name, "Phone numbers"))
            assert_false(in.applicable);
    }
    assert_int_equal(sum, flagged);
    ioc_batch_free(&b);
    warninglists_free(wl);
}

static void test_lists(void **state)
{
    (void)state;
    run(false);
}

static void test_lists_without_hyperscan(void **state)
{
    (void)state;
    run(true);
}

static void test_paths(void **state)
{
    (void)state;
    struct warninglists *wl = warninglists_new(NULL);
    char p[512];
    /* one list by its file, one by its directory */
    snprintf(p, sizeof(p), "%s/a-dns/list.json", dir());
    assert_int_equal(warninglists_load(wl, p), 1);
    snprintf(p, sizeof(p), "%s/c-hosts", dir());
    assert_int_equal(warninglists_load(wl, p), 1);
    assert_int_equal(warninglists_count(wl), 2);
    assert_true(warninglists_load(wl, "/nonexistent/kenchi") < 0);
    warninglists_free(wl);
    /* the limit on the number of lists */
    struct warninglist_opts o;
    warninglist_opts_default(&o);
    o.max_lists = 2;
    wl = warninglists_new(&o);
    assert_int_equal(warninglists_load(wl, dir()), 2);
    bool said = false;
    for (size_t i = 0; i < warninglists_nproblems(wl); i++)
        said |= strstr(warninglists_problem(wl, i)->why, "more than 2 lists") != NULL;
    assert_true(said);
    warninglists_free(wl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_lists_without_hyperscan),
        cmocka_unit_test(test_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
