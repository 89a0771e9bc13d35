/* Unit tests for intel/stix-export: kenchi's findings as a STIX 2.1 bundle.
 * The bundles written here are also held to the specification by
 * tests/e2e/stix_check.py (python3), and read back with the bundle reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "intel/stix-bundle.h"
#include "intel/stix-export.h"
#include "util/timeconv.h"
#include "util/uuid.h"

static const char *const sectors[] = {"government-national", NULL};
static const char *const internal[] = {"agency.example", NULL};

static struct stix_export *new_export(enum tlp tlp)
{
    struct stix_export_opts o = {
        .identity_name = "Example Agency CSIRT",
        .sectors = sectors,
        .contact = "csirt@agency.example",
        .tlp = tlp,
        .created = time_from_utc(2024, 3, 5, 12, 0, 0, 0),
        .internal_domains = internal,
    };
    struct stix_export *x = stix_export_new(&o);
    assert_non_null(x);
    return x;
}

static const char alert_sigma[] =
    "{\"@timestamp\":\"2024-03-04T10:00:05.000000000Z\",\"kind\":\"sigma\","
    "\"rule\":{\"id\":\"0a1b\",\"name\":\"SASL failure from outside\",\"level\":\"low\","
    "\"tags\":[\"TA0006\",\"T1110.001\"],\"sigma_tags\":[\"attack.credential_access\","
    "\"attack.t1110.001\"]},\"events\":[{\"id\":\"9f1c\"}],"
    "\"entity\":{\"source\":{\"ip\":\"203.0.113.9\"},\"host\":{\"name\":\"mx1\"},"
    "\"user\":{\"name\":\"alice\"}},"
    "\"matched\":{\"email.from.address\":\"Boss@Agency.Example\",\"event.action\":\"sasl-auth\"}}";
static const char alert_corr[] =
    "{\"@timestamp\":\"2024-03-04T09:00:00.000000000Z\",\"kind\":\"correlation\","
    "\"rule\":{\"name\":\"Brute force from one address\",\"level\":\"high\",\"tags\":[\"TA0006\"],"
    "\"sigma_tags\":[\"attack.credential_access\",\"attack.initial_access\"]},"
    "\"correlation\":{\"type\":\"event_count\",\"group_by\":{\"source.ip\":\"203.0.113.9\"}},"
    "\"entity\":{\"source\":{\"ip\":\"10.1.2.3\"}}}";
static const char alert_mail[] =
    "{\"@timestamp\":null,\"kind\":\"sigma\",\"rule\":{\"name\":\"Lookalike sender\","
    "\"level\":\"medium\"},\"matched\":{\"email.from.address\":\"ceo@agency-example.net\","
    "\"url.full\":[\"https://agency-example.net/login?x='1'\"],\"file.hash.md5\":"
    "\"D41D8CD98F00B204E9800998ECF8427E\",\"dns.question.name\":\"mail.agency.example\"}}";

/* Add the same findings, in the given order. */
static void add_findings(struct stix_export *x, bool reverse)
{
    struct ioc_meta stix;
    ioc_meta_init(&stix);
    stix.ref = "indicator--33fe3b22-0201-47cf-85d0-97c02164528d";
    stix.tlp = TLP_GREEN;
    struct ioc net = {.type = IOC_IP, .value = "198.51.100.0/24"};
    const char *seen[] = {"198.51.100.7", "198.51.100.9", "::ffff:198.51.100.7", "junk"};
    struct ioc_meta misp;
    ioc_meta_init(&misp);
    misp.ref = "5f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f";
    misp.name = "Phishing wave";
    misp.tlp = TLP_RED;
    misp.valid_from = time_from_utc(2024, 2, 1, 0, 0, 0, 0);
    struct ioc file = {.type = IOC_FILENAME, .value = "it's a \\x.exe"};
    struct ioc hash = {.type = IOC_SHA256,
                       .value = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
    for (int k = 0; k < 4; k++) {
        int i = reverse ? 3 - k : k;
        switch (i) {
        case 0:
            assert_int_equal(
                stix_export_add_sighting(x, &net, &stix, 12, time_from_utc(2024, 3, 1, 10, 0, 0, 0),
                                         time_from_utc(2024, 3, 4, 8, 30, 0, 0), seen, 4),
                0);
            break;
        case 1:
            assert_int_equal(stix_export_add_sighting(x, &file, &misp, 1,
                                                      time_from_utc(2024, 3, 2, 0, 0, 0, 0),
                                                      TIME_NONE, NULL, 0),
                             0);
            break;
        case 2:
            assert_int_equal(
                stix_export_add_sighting(x, &hash, NULL, 2, time_from_utc(2024, 3, 3, 0, 0, 0, 0),
                                         time_from_utc(2024, 3, 2, 0, 0, 0, 0), NULL, 0),
                0);
            break;
        case 3:
            assert_int_equal(stix_export_add_alert(x, alert_corr, strlen(alert_corr)), 1);
            assert_int_equal(stix_export_add_alert(x, alert_sigma, strlen(alert_sigma)), 1);
            assert_int_equal(stix_export_add_alert(x, alert_mail, strlen(alert_mail)), 3);
            break;
        }
    }
}

static void test_patterns(void **state)
{
    (void)state;
    static const struct {
        enum ioc_type t;
        const char *v, *want;
    } cases[] = {
        {IOC_IP, "192.0.2.1", "[ipv4-addr:value = '192.0.2.1']"},
        {IOC_IP, "2001:db8::/32", "[ipv6-addr:value = '2001:db8::/32']"},
        {IOC_DOMAIN, "evil.example", "[domain-name:value = 'evil.example']"},
        {IOC_EMAIL, "o'brien@example.org", "[email-addr:value = 'o\\'brien@example.org']"},
        {IOC_URL, "example.org/a?b='c'",
         "[url:value = 'http://example.org/a?b=\\'c\\'' OR "
         "url:value = 'https://example.org/a?b=\\'c\\'']"},
        {IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e",
         "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
        {IOC_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
         "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
        {IOC_SHA256, "ab", "[file:hashes.'SHA-256' = 'ab']"},
        {IOC_FILENAME, "it's\\x.exe", "[file:name = 'it\\'s\\\\x.exe']"},
        {IOC_USER_AGENT, "Mozilla/5.0 'x'",
         "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = "
         "'Mozilla/5.0 \\'x\\'']"},
        {IOC_PATTERN, "[a:b = 1]", "[a:b = 1]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b;
        buf_init(&b);
        assert_int_equal(stix_pattern_for_value(cases[i].t, cases[i].v, strlen(cases[i].v), &b), 0);
        assert_string_equal(b.data, cases[i].want);
        buf_free(&b);
    }
    struct buf b;
    buf_init(&b);
    assert_int_equal(stix_pattern_for_value(IOC__COUNT, "x", 1, &b), -22);
    buf_free(&b);
}

static void test_deterministic(void **state)
{
    (void)state;
    struct buf a, b;
    buf_init(&a);
    buf_init(&b);
    struct stix_export *x = new_export(TLP_UNMARKED);
    add_findings(x, false);
    stix_export_write(x, &a);
    stix_export_free(x);
    x = new_export(TLP_UNMARKED);
    add_findings(x, true);
    stix_export_write(x, &b);
    /* writing twice gives the same bundle too */
    struct buf c;
    buf_init(&c);
    stix_export_write(x, &c);
    stix_export_free(x);
    assert_string_equal(a.data, b.data);
    assert_string_equal(b.data, c.data);
    /* a different count is a different sighting */
    x = new_export(TLP_UNMARKED);
    struct ioc hash = {.type = IOC_SHA256,
                       .value = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
    stix_export_add_sighting(x, &hash, NULL, 3, time_from_utc(2024, 3, 2, 0, 0, 0, 0),
                             time_from_utc(2024, 3, 3, 0, 0, 0, 0), NULL, 0);
    buf_clear(&c);
    stix_export_write(x, &c);
    stix_export_free(x);
    const char *sa = strstr(a.data, "\"count\":2,");
    assert_non_null(sa);
    assert_non_null(strstr(c.data, "\"count\":3,"));
    assert_null(strstr(c.data, "\"count\":2,"));
    buf_free(&a);
    buf_free(&b);
    buf_free(&c);
}

/* The object line holding needle, copied into out. */
static bool line_with(const char *text, const char *needle, char *out, size_t outn)
{
    const char *p = strstr(text, needle);
    if (!p)
        return false;
    const char *s = p;
    while (s > text && s[-1] != '\n')
        s--;
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n >= outn)
        n = outn - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static void test_content(void **state)
{
    (void)state;
    struct stix_export *x = new_export(TLP_UNMARKED);
    add_findings(x, false);
    struct buf out;
    buf_init(&out);
    assert_int_equal(stix_export_write(x, &out), 0);
    struct stix_export_stats st;
    stix_export_get_stats(x, &st);
    stix_export_free(x);
    const char *t = out.data;
    char line[4096];

    assert_true(line_with(t, "\"value\":\"198.51.100.7\"", line, sizeof(line)));
    assert_non_null(strstr(line, "\"type\":\"ipv4-addr\""));

    /* the sighting of a STIX indicator names it; no indicator of kenchi's for it */
    assert_true(line_with(t,
                          "\"sighting_of_ref\":\"indicator--33fe3b22-0201-47cf-85d0-"
                          "97c02164528d\"",
                          line, sizeof(line)));
    assert_non_null(strstr(line, "\"count\":12,"));
    assert_non_null(strstr(line, "\"first_seen\":\"2024-03-01T10:00:00.000Z\""));
    assert_non_null(strstr(line, "\"last_seen\":\"2024-03-04T08:30:00.000Z\""));
    assert_non_null(strstr(line, "\"where_sighted_refs\":[\"identity--"));
    assert_non_null(strstr(line, "\"observed_data_refs\":[\"observed-data--"));
    /* green at the source, amber for the export: amber (TLP 2.0 and 1.0 ids) */
    assert_non_null(strstr(line, "\"object_marking_refs\":[\"marking-definition--55d920b0-5e8b-"
                                 "4f79-9ee9-91f868d9b421\",\"marking-definition--f88d31f6-486f-"
                                 "44da-b317-01333bde0b82\"]"));
    /* what was seen: two addresses (the mapped one folds, junk is left out) */
    assert_true(line_with(t, "\"number_observed\":12", line, sizeof(line)));
    assert_non_null(strstr(line, "\"first_observed\":\"2024-03-01T10:00:00.000Z\""));
    assert_non_null(strstr(line, "\"object_refs\":[\"ipv4-addr--"));
    /* "junk", and from alerts 10.1.2.3, boss@ and mail. under agency.example */
    assert_int_equal(st.values_skipped, 4);

    /* a MISP value: kenchi's own indicator, escaped pattern, red kept */
    assert_true(line_with(t, "\"pattern\":\"[file:name = 'it\\\\'s a \\\\\\\\x.exe']\"", line,
                          sizeof(line)));
    assert_non_null(strstr(line, "\"name\":\"Phishing wave\""));
    assert_non_null(strstr(line, "\"valid_from\":\"2024-02-01T00:00:00.000Z\""));
    assert_non_null(strstr(line, "\"created_by_ref\":\"identity--"));
    assert_non_null(strstr(line, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"));
    assert_non_null(strstr(t, "\"tlp_2_0\":\"red\""));
    assert_non_null(strstr(t, "\"definition\":{\"tlp\":\"red\"}"));

    /* times given backwards are put in order */
    assert_true(line_with(t, "\"count\":2,", line, sizeof(line)));
    assert_non_null(strstr(line, "\"first_seen\":\"2024-03-02T00:00:00.000Z\",\"last_seen\":"
                                 "\"2024-03-03T00:00:00.000Z\""));

    /* alerts: one indicator per value, rules merged, earliest time, phases from both tag forms;
     * internal values (10/8, agency.example) never leave */
    assert_true(
        line_with(t, "\"pattern\":\"[ipv4-addr:value = '203.0.113.9']\"", line, sizeof(line)));
    assert_non_null(strstr(line, "\"name\":\"Brute force from one address; SASL failure from "
                                 "outside\""));
    assert_non_null(strstr(line, "\"indicator_types\":[\"malicious-activity\"]"));
    assert_non_null(strstr(line, "\"valid_from\":\"2024-03-04T09:00:00.000Z\""));
    assert_non_null(strstr(line, "\"kill_chain_phases\":[{\"kill_chain_name\":\"mitre-attack\","
                                 "\"phase_name\":\"credential-access\"},{\"kill_chain_name\":"
                                 "\"mitre-attack\",\"phase_name\":\"initial-access\"}]"));
    assert_non_null(strstr(line, "\"labels\":[\"T1110.001\",\"TA0006\"]"));
    assert_null(strstr(t, "10.1.2.3"));
    assert_null(strstr(t, "agency.example'"));
    assert_null(strstr(t, "mx1"));
    assert_null(strstr(t, "alice"));
    assert_true(line_with(t, "ceo@agency-example.net", line, sizeof(line)));
    assert_non_null(strstr(line, "\"indicator_types\":[\"anomalous-activity\"]"));
    assert_non_null(strstr(line, "\"valid_from\":\"2024-03-05T12:00:00.000Z\""));
    assert_non_null(strstr(t, "[url:value = 'http://agency-example.net/login?x=\\\\'1\\\\'' OR "));
    assert_non_null(strstr(t, "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"));

    /* the identity from the options */
    assert_true(line_with(t, "\"type\":\"identity\"", line, sizeof(line)));
    assert_non_null(strstr(line, "\"name\":\"Example Agency CSIRT\",\"identity_class\":"
                                 "\"organization\",\"sectors\":[\"government-national\"],"
                                 "\"contact_information\":\"csirt@agency.example\""));

    assert_int_equal(st.sightings, 3);
    assert_int_equal(st.indicators, 2 + 4);
    assert_int_equal(st.observed, 3);
    assert_int_equal(st.alerts_used, 3);
    buf_free(&out);
}

static void test_alert_kinds(void **state)
{
    (void)state;
    struct stix_export *x = new_export(TLP_AMBER_STRICT);
    static const char intel[] = "{\"kind\":\"intel\",\"entity\":{\"source\":{\"ip\":\"1.2.3.4\"}}}";
    assert_int_equal(stix_export_add_alert(x, intel, strlen(intel)), 0);
    static const char nothing[] = "{\"kind\":\"sigma\",\"rule\":{\"name\":\"x\"},\"entity\":"
                                  "{\"user\":{\"name\":\"bob\"},\"source\":{\"ip\":\"fe80::1\"}}}";
    assert_int_equal(stix_export_add_alert(x, nothing, strlen(nothing)), 0);
    assert_int_equal(stix_export_add_alert(x, "{\"kind\":", 8), -22);
    assert_int_equal(stix_export_add_alert(x, "[1,2]", 5), -22);
    assert_int_equal(stix_export_add_alert(x, "{}", 2), -22);
    struct ioc pat = {.type = IOC_PATTERN, .value = "[ipv4-addr:value = '192.0.2.5']"};
    const char *seen[] = {"192.0.2.5",
                          "a@b.example",
                          "http://c.example/x",
                          "d.example",
                          "0123456789abcdef0123456789abcdef",
                          "no observable here"};
    assert_int_equal(stix_export_add_sighting(x, &pat, NULL, 6,
                                              time_from_utc(2024, 1, 1, 0, 0, 0, 0), TIME_NONE,
                                              seen, 6),
                     0);
    /* looked for, not seen: a sighting with count 0 and no observed-data */
    struct ioc never = {.type = IOC_DOMAIN, .value = "never.example"};
    assert_int_equal(stix_export_add_sighting(x, &never, NULL, 0,
                                              time_from_utc(2024, 1, 1, 0, 0, 0, 0),
                                              time_from_utc(2024, 2, 1, 0, 0, 0, 0), NULL, 0),
                     0);
    struct ioc ua = {.type = IOC_USER_AGENT, .value = "curl/8"};
    assert_int_equal(stix_export_add_sighting(x, &ua, NULL, 1, TIME_NONE, TIME_NONE, NULL, 0), 0);
    struct stix_export_stats st;
    stix_export_get_stats(x, &st);
    assert_int_equal(st.alerts_ignored, 2);
    assert_int_equal(st.values_skipped, 2); /* fe80::1, "no observable here" */
    struct buf out;
    buf_init(&out);
    stix_export_write(x, &out);
    const char *t = out.data;
    /* amber+strict has no TLP 1.0 id: only the 2.0 marking */
    assert_non_null(strstr(t, "\"object_marking_refs\":[\"marking-definition--939a9414-2ddd-4d32-"
                              "a0cd-375ea402b003\"]"));
    assert_null(strstr(t, "\"definition_type\":\"tlp\""));
    /* a pattern indicator's observables, typed by their shape */
    assert_non_null(strstr(t, "\"type\":\"email-addr\""));
    assert_non_null(strstr(t, "\"type\":\"url\""));
    assert_non_null(strstr(t, "\"type\":\"domain-name\""));
    assert_non_null(strstr(t, "\"hashes\":{\"MD5\":"));
    /* a sighting without times: no observed-data, no first/last seen */
    assert_non_null(strstr(t, "User-Agent' = 'curl/8'"));
    assert_non_null(strstr(t, "\"count\":0,"));
    assert_non_null(strstr(t, "[domain-name:value = 'never.example']"));
    assert_null(strstr(t, "\"value\":\"never.example\""));
    buf_free(&out);
    stix_export_free(x);

    /* the same value, count and times under two indicators: two sightings,
     * one observed-data, counted as written */
    x = new_export(TLP_AMBER);
    struct ioc a1 = {.type = IOC_FILENAME, .value = "stage2.bin"};
    struct ioc_meta m1 = {.ref = "indicator--6b1c9e1e-4d0b-4d3b-9f5e-1a2b3c4d5e61"};
    struct ioc_meta m2 = {.ref = "indicator--6b1c9e1e-4d0b-4d3b-9f5e-1a2b3c4d5e62"};
    const char *name[] = {"stage2.bin"};
    int64_t t0 = time_from_utc(2024, 3, 1, 0, 0, 0, 0);
    assert_int_equal(stix_export_add_sighting(x, &a1, &m1, 2, t0, t0, name, 1), 0);
    assert_int_equal(stix_export_add_sighting(x, &a1, &m2, 2, t0, t0, name, 1), 0);
    buf_init(&out);
    stix_export_write(x, &out);
    stix_export_get_stats(x, &st);
    assert_int_equal(st.sightings, 2);
    assert_int_equal(st.observed, 1);
    const char *od = strstr(out.data, "\"type\":\"observed-data\"");
    assert_non_null(od);
    assert_null(strstr(od + 1, "\"type\":\"observed-data\""));
    buf_free(&out);
    stix_export_free(x);
}

/* Write a bundle and hold it to the specification with the checker. */
static void test_checker_and_roundtrip(void **state)
{
    (void)state;
    struct stix_export *x = new_export(TLP_UNMARKED);
    add_findings(x, false);
    struct buf out;
    buf_init(&out);
    stix_export_write(x, &out);
    stix_export_free(x);

    /* read back: kenchi's indicators are indicators again, with their TLP */
    struct ioc_batch b;
    struct stix_read_stats st = {0};
    ioc_batch_init(&b, "export", "stix");
    assert_int_equal(stix_objects_read_ex(out.data, out.len, "export", NULL, &b, &st), 0);
    assert_int_equal(st.imported, 6);
    assert_int_equal(st.malformed, 0);
    assert_int_equal(b.nproblems, 0);
    bool red = false;
    for (size_t i = 0; i < b.niocs; i++)
        if (strstr(b.iocs[i].value, "file:name"))
            red = b.metas[b.iocs[i].meta].tlp == TLP_RED;
    assert_true(red);
    ioc_batch_free(&b);

    if (system("command -v python3 >/dev/null 2>&1") != 0) {
        print_message("skipping the checker: no python3\n");
        buf_free(&out);
        skip();
    }
    char path[] = "/tmp/kenchi-stix-export-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, out.data, out.len), (ssize_t)out.len);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "python3 tests/e2e/stix_check.py --strict %s", path);
    int rc = system(cmd);
    unlink(path);
    buf_free(&out);
    assert_int_equal(rc, 0);
}

static void test_uuid5(void **state)
{
    (void)state;
    /* the specification's example: ipv4-addr 198.51.100.3 */
    uint8_t ns[16], u[16];
    assert_int_equal(uuid_parse("00abedb4-aa42-466c-9c01-fed23315a9b7", 36, ns), 0);
    const char name[] = "{\"value\":\"198.51.100.3\"}";
    uuid_v5(ns, name, strlen(name), u);
    char s[37];
    uuid_format(u, s);
    assert_string_equal(s, "28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    assert_int_equal(uuid_version(u), 5);
    assert_true(uuid_variant_rfc4122(u));
    assert_int_equal(uuid_parse("28BB3599-77CD-5A82-A950-B5BC3CAF07C4", 36, u), 0);
    assert_int_equal(uuid_parse("28bb3599-77cd-5a82-a950-b5bc3caf07c", 35, u), -22);
    assert_int_equal(uuid_parse("28bb3599x77cd-5a82-a950-b5bc3caf07c4", 36, u), -22);
    assert_int_equal(uuid_parse("28bb3599-77cd-5a82-a950-b5bc3caf07cg", 36, u), -22);

    /* and through the export */
    struct stix_export *x = new_export(TLP_CLEAR);
    struct ioc ip = {.type = IOC_IP, .value = "198.51.100.3"};
    stix_export_add_sighting(x, &ip, NULL, 1, time_from_utc(2024, 1, 1, 0, 0, 0, 0), TIME_NONE,
                             NULL, 0);
    struct buf out;
    buf_init(&out);
    stix_export_write(x, &out);
    assert_non_null(strstr(out.data, "\"id\":\"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4\""));
    assert_non_null(strstr(out.data, "\"tlp_2_0\":\"clear\""));
    assert_non_null(strstr(out.data, "\"definition\":{\"tlp\":\"white\"}"));
    buf_free(&out);
    stix_export_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patterns), cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_content),  cmocka_unit_test(test_alert_kinds),
        cmocka_unit_test(test_uuid5),    cmocka_unit_test(test_checker_and_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
