/* Unit tests for intel/misp: MISP events, restSearch answers and feeds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intel/misp.h"
#include "util/timeconv.h"

#define FIX "tests/intel/"

static bool has_problem(const struct ioc_batch *b, const char *where, const char *why)
{
    for (size_t i = 0; i < b->nproblems; i++)
        if (strstr(b->problems[i].where, where) && strstr(b->problems[i].why, why))
            return true;
    return false;
}

static size_t count_problems(const struct ioc_batch *b, const char *why)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nproblems; i++)
        n += strstr(b->problems[i].why, why) != NULL;
    return n;
}

/* The ioc with this value, or NULL. */
static const struct ioc *find(const struct ioc_batch *b, const char *value)
{
    for (size_t i = 0; i < b->niocs; i++)
        if (!strcmp(b->iocs[i].value, value))
            return &b->iocs[i];
    return NULL;
}

static void test_event(void **state)
{
    (void)state;
    struct ioc_batch b;
    struct misp_read_stats st = {0};
    ioc_batch_init(&b, FIX "misp/event.json", "misp");
    assert_int_equal(misp_event_read_ex(FIX "misp/event.json", NULL, &b, &st), 0);
    assert_int_equal(st.events, 1);
    assert_int_equal(st.attributes, 24);
    assert_int_equal(st.imported, 17);
    assert_int_equal(st.not_ids, 4);
    assert_int_equal(st.deleted, 4); /* one attribute, one in an object, a deleted object's two */
    assert_int_equal(st.unsupported, 4);
    assert_int_equal(st.refused, 1);

    /* every attribute type kenchi matches, composites split in two */
    static const struct {
        const char *value;
        enum ioc_type type;
        bool detect;
    } want[] = {
        {"203.0.113.77", IOC_IP, true},
        {"198.51.100.23", IOC_IP, true}, /* ip-src|port: the port is dropped */
        {"mail-update.example.net", IOC_DOMAIN, true},
        {"192.0.2.55", IOC_IP, true},
        {"cdn.example.org/dl/update.tar?id=7", IOC_URL, true},
        {"billing@example.com", IOC_EMAIL, true},
        {"d41d8cd98f00b204e9800998ecf8427e", IOC_MD5, true},
        {"update.tar", IOC_FILENAME, true},
        {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", IOC_SHA256, true},
        {"payload.bin", IOC_FILENAME, false}, /* filename|ssdeep: the name only; to_ids false */
        {"Mozilla/4.0 (compatible; MSIE 6.0; gw-agent)", IOC_USER_AGENT, false},
        {"[network-traffic:dst_port = 25 AND network-traffic:dst_ref.value = '203.0.113.78']",
         IOC_PATTERN, true},
        {"c2.example.net", IOC_DOMAIN, true},
        {"relay.example.net", IOC_DOMAIN, true},
        {"reply@example.com", IOC_EMAIL, false}, /* to_ids "0" */
        {"svc.exe", IOC_FILENAME, false},
        {"da39a3ee5e6b4b0d3255bfef95601890afd80709", IOC_SHA1, true},
    };
    assert_int_equal(b.niocs, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < b.niocs; i++) {
        if (strcmp(b.iocs[i].value, want[i].value) || b.iocs[i].type != want[i].type ||
            b.iocs[i].detect != want[i].detect)
            fail_msg("ioc %zu: %s %s detect %d", i, ioc_type_name(b.iocs[i].type), b.iocs[i].value,
                     b.iocs[i].detect);
    }
    assert_null(find(&b, "old.example.net")); /* in a deleted object */
    assert_null(find(&b, "203.0.113.99"));    /* deleted */

    /* the event's meta */
    const struct ioc_meta *m = &b.metas[find(&b, "203.0.113.77")->meta];
    assert_string_equal(m->ref, "5f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f");
    assert_string_equal(m->name, "Phishing wave against ministries, gateway backdoor");
    assert_string_equal(m->feed, FIX "misp/event.json");
    assert_int_equal(m->confidence, 85); /* threat_level_id 1 */
    assert_int_equal(m->tlp, TLP_AMBER);
    assert_string_equal(m->related_json, "[\"Sea Turtle\",\"UNC4841\",\"SALTWATER\"]");
    assert_string_equal(m->labels_json,
                        "[\"type:OSINT\",\"misp-galaxy:mitre-attack-pattern=\\\"Phishing - "
                        "T1566\\\"\",\"misp-galaxy:mitre-attack-pattern=\\\"Exploit "
                        "Public-Facing Application - T1190\\\"\"]");
    assert_true(m->valid_from == TIME_NONE && m->valid_until == TIME_NONE);
    /* attributes without anything of their own share the event's meta */
    assert_int_equal(find(&b, "reply@example.com")->meta, find(&b, "203.0.113.77")->meta);

    /* an attribute's own tags: its TLP, a confidence tag, one more label */
    m = &b.metas[find(&b, "c2.example.net")->meta];
    assert_int_equal(m->tlp, TLP_RED);
    assert_int_equal(m->confidence, 25);
    assert_non_null(strstr(m->labels_json, "\"kill-chain:c2\""));
    assert_non_null(strstr(m->labels_json, "\"type:OSINT\""));
    assert_string_equal(m->ref, "5f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f");

    /* first_seen / last_seen as the validity window (offsets honoured) */
    m = &b.metas[find(&b, "relay.example.net")->meta];
    assert_true(m->valid_from == time_from_utc(2024, 2, 1, 8, 0, 0, 0));
    assert_true(m->valid_until == time_from_utc(2024, 2, 28, 17, 30, 0, 0));
    /* an object's first_seen applies to its attributes */
    m = &b.metas[find(&b, "svc.exe")->meta];
    assert_true(m->valid_from == time_from_utc(2024, 1, 15, 0, 0, 0, 0));
    assert_int_equal(find(&b, "svc.exe")->meta,
                     find(&b, "da39a3ee5e6b4b0d3255bfef95601890afd80709")->meta);

    /* problems: the refused value with its attribute, each unsupported type once */
    assert_true(has_problem(&b,
                            "event 5f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f, attribute "
                            "a1000000-0000-4000-8000-000000000016",
                            "'999.1.1.1' refused"));
    assert_true(has_problem(&b, "event.json", "2 attributes of type 'regkey' skipped"));
    assert_true(has_problem(&b, "event.json", "1 attribute of type 'uri' skipped"));
    assert_true(has_problem(&b, "event.json", "1 attribute of type 'link' skipped"));
    assert_true(has_problem(&b, "event.json", "type 'filename|ssdeep': only the file name"));
    assert_int_equal(count_problems(&b, "regkey"), 1);
    ioc_batch_free(&b);
}

static void test_restsearch(void **state)
{
    (void)state;
    struct ioc_batch b;
    struct misp_read_stats st = {0};
    ioc_batch_init(&b, "https://misp.example/events/restSearch", "misp");
    assert_int_equal(misp_event_read_ex(FIX "misp/restsearch.json", NULL, &b, &st), 0);
    assert_int_equal(st.events, 3);
    assert_int_equal(st.unpublished, 1);
    assert_int_equal(st.malformed, 4);
    assert_int_equal(st.imported, 4);
    /* the meta's feed is the batch's source */
    assert_string_equal(b.metas[0].feed, "https://misp.example/events/restSearch");
    assert_int_equal(b.metas[b.iocs[0].meta].confidence, 15);
    assert_int_equal(b.metas[b.iocs[0].meta].tlp, TLP_GREEN);
    assert_true(has_problem(&b, "attribute e5000000-0000-4000-8000-000000000002", "host bits set"));
    /* an unpublished event's indicators are kept, not alerting */
    const struct ioc *draft = find(&b, "draft-c2.example.net");
    assert_non_null(draft);
    assert_false(draft->detect);
    assert_int_equal(b.metas[draft->meta].confidence, -1); /* threat level 4: undefined */
    assert_true(has_problem(&b, "event 6b2f0c9a-1d3e-4f5a-8b7c-9d0e1f2a3b02", "not published"));
    /* "ip|port" written with a colon */
    assert_non_null(find(&b, "192.0.2.10"));
    /* broken events and attributes, by place */
    assert_true(has_problem(&b, "restsearch.json:12: event [2]", "not a MISP event"));
    assert_true(has_problem(&b, "event 6b2f0c9a-1d3e-4f5a-8b7c-9d0e1f2a3b03", "not a MISP event"));
    assert_true(has_problem(&b, "attribute e5000000-0000-4000-8000-000000000004",
                            "without a type and a value"));
    assert_true(has_problem(&b, "attribute e5000000-0000-4000-8000-000000000005",
                            "first_seen is not an ISO 8601 time"));
    assert_true(has_problem(&b, "attribute e5000000-0000-4000-8000-000000000007", "without '|'"));
    ioc_batch_free(&b);

    /* unpublished events may be let alert */
    struct misp_read_opts o = {.unpublished_detect = true};
    ioc_batch_init(&b, "x", "misp");
    assert_int_equal(misp_event_read_ex(FIX "misp/restsearch.json", &o, &b, NULL), 0);
    assert_true(find(&b, "draft-c2.example.net")->detect);
    assert_false(has_problem(&b, "", "not published"));
    ioc_batch_free(&b);
}

static void test_feed(void **state)
{
    (void)state;
    struct ioc_batch b;
    struct misp_read_stats st = {0};
    ioc_batch_init(&b, FIX "misp-feed", "misp-feed");
    assert_int_equal(misp_feed_read_ex(FIX "misp-feed/", NULL, &b, &st), 0);
    assert_int_equal(st.events, 2);
    assert_int_equal(st.imported, 6);
    assert_int_equal(st.unsupported, 3);
    /* events in uuid order: 3a9d... before 8c1e... */
    assert_string_equal(b.metas[b.iocs[0].meta].ref, "3a9d0c11-77e2-4f10-8a55-0b1c2d3e4f02");
    const struct ioc *name = &b.iocs[0];
    assert_int_equal(name->type, IOC_FILENAME);
    assert_string_equal(name->value, "'`cmd`.tar"); /* the quote-and-backtick name kept whole */
    assert_int_equal(b.iocs[1].type, IOC_MD5);
    assert_string_equal(b.iocs[1].value, "0123456789abcdef0123456789abcdef");
    assert_non_null(find(&b, "2001:db8::25"));
    const struct ioc_meta *m = &b.metas[name->meta];
    assert_int_equal(m->tlp, TLP_AMBER_STRICT);
    assert_int_equal(m->confidence, 75); /* the tag beats threat_level_id 1 */
    assert_string_equal(m->related_json, "[\"UNC4841 - G1010\"]");
    m = &b.metas[find(&b, "login-portal.example.com")->meta];
    assert_int_equal(m->tlp, TLP_CLEAR);
    assert_int_equal(m->confidence, 50);
    assert_string_equal(m->labels_json, "[\"phishing\"]");
    /* the manifest's troubles */
    assert_true(has_problem(&b, "manifest.json: \"../../etc/passwd\"", "not an event uuid"));
    assert_true(has_problem(&b, "0e0e0e0e-0000-4000-8000-00000000dead.json", "cannot read"));
    /* unsupported types once per type over the whole feed */
    assert_true(has_problem(&b, "misp-feed", "1 attribute of type 'regkey' skipped"));
    assert_true(has_problem(&b, "misp-feed", "1 attribute of type 'email-subject' skipped"));
    assert_true(has_problem(&b, "misp-feed", "1 attribute of type 'AS' skipped"));
    ioc_batch_free(&b);

    ioc_batch_init(&b, "x", "misp-feed");
    assert_int_equal(misp_feed_read(FIX "misp", &b), -2); /* no manifest.json */
    assert_true(has_problem(&b, "misp/manifest.json", "cannot read the feed's manifest"));
    ioc_batch_free(&b);
}

static int read_text(const char *text, struct ioc_batch *b, struct misp_read_stats *st)
{
    ioc_batch_init(b, "mem", "misp");
    memset(st, 0, sizeof(*st));
    return misp_json_read_ex(text, strlen(text), "mem", NULL, b, st);
}

static void test_shapes(void **state)
{
    (void)state;
    struct ioc_batch b;
    struct misp_read_stats st;
    static const char attrs[] =
        "\"Attribute\":[{\"type\":\"hostname|port\",\"value\":\"smtp.example.net|2525\"},"
        "{\"type\":\"filename|sha1\",\"value\":\"a|b.exe|"
        "da39a3ee5e6b4b0d3255bfef95601890afd80709\"},"
        "{\"type\":\"ip-dst|port\",\"value\":\"2001:db8::1|443\"},"
        "{\"type\":\"email-dst\",\"value\":\"Victim@Example.org\",\"to_ids\":1},"
        "{\"type\":\"domain\",\"value\":\"x.example\",\"deleted\":\"1\"}]";
    char text[2048];
    /* a bare event */
    snprintf(text, sizeof(text), "{\"uuid\":\"11111111-1111-4111-8111-111111111111\",%s}", attrs);
    assert_int_equal(read_text(text, &b, &st), 0);
    assert_int_equal(st.imported, 5);
    assert_int_equal(st.deleted, 1);
    assert_non_null(find(&b, "smtp.example.net"));
    assert_non_null(find(&b, "a|b.exe")); /* split at the last '|' */
    assert_non_null(find(&b, "da39a3ee5e6b4b0d3255bfef95601890afd80709"));
    assert_non_null(find(&b, "2001:db8::1"));
    assert_non_null(find(&b, "victim@example.org"));
    assert_null(b.metas[0].name);
    ioc_batch_free(&b);
    /* a list of wrapped events */
    snprintf(text, sizeof(text),
             "[{\"Event\":{\"info\":\"one\",%s}},{\"Event\":{\"info\":\"two\","
             "\"Attribute\":[]}}]",
             attrs);
    assert_int_equal(read_text(text, &b, &st), 0);
    assert_int_equal(st.events, 2);
    assert_true(has_problem(&b, "mem:1: event [0]", "without a uuid"));
    ioc_batch_free(&b);
    /* a restSearch answer holding one event */
    snprintf(text, sizeof(text), "{\"response\":{\"Event\":{\"uuid\":\"x\",%s}}}", attrs);
    assert_int_equal(read_text(text, &b, &st), 0);
    assert_int_equal(st.events, 1);
    ioc_batch_free(&b);
    /* not MISP */
    assert_int_equal(read_text("42", &b, &st), -22);
    assert_true(has_problem(&b, "mem", "not MISP JSON"));
    ioc_batch_free(&b);
    assert_int_equal(read_text("{\"Event\": ", &b, &st), -22);
    ioc_batch_free(&b);
    assert_int_equal(read_text("{\"hello\":\"world\"}", &b, &st), 0);
    assert_int_equal(st.malformed, 1);
    ioc_batch_free(&b);
}

static void test_threat_levels(void **state)
{
    (void)state;
    assert_int_equal(misp_threat_level_confidence(1), 85);
    assert_int_equal(misp_threat_level_confidence(2), 50);
    assert_int_equal(misp_threat_level_confidence(3), 15);
    assert_int_equal(misp_threat_level_confidence(4), -1);
    assert_int_equal(misp_threat_level_confidence(0), -1);
    struct misp_read_stats st = {.events = 2,
                                 .unpublished = 1,
                                 .imported = 10,
                                 .not_ids = 3,
                                 .attributes = 12,
                                 .deleted = 1,
                                 .unsupported = 1};
    struct buf o;
    buf_init(&o);
    misp_read_stats_format(&st, &o);
    assert_string_equal(o.data, "2 events (1 not published), 10 indicators imported (3 not for "
                                "alerting: to_ids false) from 12 attributes, 1 deleted, 1 of "
                                "types kenchi does not match");
    buf_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event),         cmocka_unit_test(test_restsearch),
        cmocka_unit_test(test_feed),          cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_threat_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
