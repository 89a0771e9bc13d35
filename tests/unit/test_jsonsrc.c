/* Unit tests for the JSON-array walker and the M365 and Zeek decoders:
 * the cases golden files cannot show (malformed headers, hostile arrays,
 * every address form) and a deterministic mutation loop that feeds both
 * decoders damaged input under the sanitizers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/decode.h"
#include "decode/json-scan.h"
#include "util/arena.h"

/* ---- helpers ----------------------------------------------------------- */

struct fixture {
    struct arena arena;
    struct event ev;
    struct decode_ctx ctx;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    arena_init(&f->arena, 64 * 1024);
    decode_ctx_init(&f->ctx, "-", 0, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    decode_ctx_fini(&f->ctx);
    arena_free(&f->arena);
    free(f);
    return 0;
}

/* A fresh event whose raw text is a copy of s in the arena. */
static struct event *fresh(struct fixture *f, const char *s)
{
    event_init(&f->ev, &f->arena);
    size_t n = strlen(s);
    f->ev.raw = str_make(arena_strndup(&f->arena, s, n), n);
    return &f->ev;
}

static const char *native(const struct event *ev, const char *key)
{
    const struct field *fl = event_get(ev, key);
    static char buf[4096];
    if (!fl)
        return NULL;
    size_t n = fl->val.n < sizeof(buf) - 1 ? fl->val.n : sizeof(buf) - 1;
    memcpy(buf, fl->val.p, n);
    buf[n] = '\0';
    return buf;
}

static const char *core(const struct event *ev, enum core_field c)
{
    static char buf[1024];
    size_t n = ev->core[c].n < sizeof(buf) - 1 ? ev->core[c].n : sizeof(buf) - 1;
    if (!ev->core[c].n)
        return NULL;
    memcpy(buf, ev->core[c].p, n);
    buf[n] = '\0';
    return buf;
}

/* Decode one JSON record with the decoder the registry picks; returns its
 * name. */
static const char *decode_json_text(struct fixture *f, const char *s)
{
    struct event *ev = fresh(f, s);
    if (json_flatten(ev, ev->raw.p, ev->raw.n) < 0)
        return NULL;
    const struct decoder *d = decoder_for_json(ev);
    assert_int_equal(d->decode_json(&f->ctx, ev), 0);
    return d->name;
}

static int zeek_line(struct fixture *f, const char *s)
{
    return decoder_find("zeek")->decode_line(&f->ctx, fresh(f, s));
}

/* ---- json-scan ----------------------------------------------------------- */

static void test_iter_array_and_object(void **state)
{
    (void)state;
    struct json_iter it;
    struct str k, v;
    const char *a = " [ 1 , \"x\\\"y\" ,{\"a\":[1,{\"b\":\"]\"}]}, true ,null ] ";
    assert_int_equal(json_iter_init(&it, str_make(a, strlen(a))), 0);
    const char *want[] = {"1", "\"x\\\"y\"", "{\"a\":[1,{\"b\":\"]\"}]}", "true", "null"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(json_iter_next(&it, NULL, &v), 1);
        assert_int_equal(v.n, strlen(want[i]));
        assert_memory_equal(v.p, want[i], v.n);
    }
    assert_int_equal(json_iter_next(&it, NULL, &v), 0);
    assert_int_equal(json_iter_next(&it, NULL, &v), 0);

    const char *o = "{\"Name\" : \"RuleName\", \"Value\":\"x\"}";
    assert_int_equal(json_iter_init(&it, str_make(o, strlen(o))), 0);
    assert_int_equal(json_iter_next(&it, &k, &v), 1);
    assert_true(json_key_is(k, "Name"));
    assert_int_equal(json_raw_type(v), VT_STRING);
    assert_int_equal(json_iter_next(&it, &k, &v), 1);
    assert_true(json_key_is(k, "Value"));
    assert_int_equal(json_iter_next(&it, &k, &v), 0);
}

static void test_iter_malformed(void **state)
{
    (void)state;
    struct json_iter it;
    struct str v, k;
    const char *bad[] = {"[1 2]", "[1,", "[\"open", "{\"a\" 1}", "{1:2}", "[,]", "[1,]x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(json_iter_init(&it, str_make(bad[i], strlen(bad[i]))), 0);
        int rc;
        int guard = 0;
        while ((rc = json_iter_next(&it, bad[i][0] == '{' ? &k : NULL, &v)) == 1)
            assert_true(++guard < 10);
        assert_int_equal(rc, -EINVAL);
        /* the walk stays over */
        assert_int_equal(json_iter_next(&it, NULL, &v), -EINVAL);
    }
    assert_int_equal(json_iter_init(&it, STR_LIT("\"str\"")), -EINVAL);
    assert_int_equal(json_iter_init(&it, STR_LIT("   ")), -EINVAL);
}

static void test_string_decode(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct str out;
    assert_int_equal(json_string_decode(&a, STR_LIT("\"plain\""), &out), 0);
    assert_int_equal(out.n, 5);
    assert_int_equal(
        json_string_decode(&a, STR_LIT("\"\\\\Inbox\\/x\\u00e4\\ud83d\\ude00\""), &out), 0);
    assert_int_equal(out.n, strlen("\\Inbox/x\xc3\xa4\xf0\x9f\x98\x80"));
    assert_memory_equal(out.p, "\\Inbox/x\xc3\xa4\xf0\x9f\x98\x80", out.n);
    /* a lone surrogate becomes U+FFFD */
    assert_int_equal(json_string_decode(&a, STR_LIT("\"\\ud800x\""), &out), 0);
    assert_memory_equal(out.p, "\xef\xbf\xbdx", 4);
    assert_int_equal(json_string_decode(&a, STR_LIT("\"\\q\""), &out), -EINVAL);
    assert_int_equal(json_string_decode(&a, STR_LIT("\"\\u12\""), &out), -EINVAL);
    assert_int_equal(json_string_decode(&a, STR_LIT("\"\\"), &out), -EINVAL);
    assert_int_equal(json_string_decode(&a, STR_LIT("x"), &out), -EINVAL);
    arena_free(&a);
}

/* ---- Zeek ------------------------------------------------------------------ */

static const char *conn_header[] = {
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tconn",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tconn_"
    "state\ttunnel_parents\tlocal_orig",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tstring\tset[string]\tbool",
};

static void feed_header(struct fixture *f)
{
    for (size_t i = 0; i < sizeof(conn_header) / sizeof(conn_header[0]); i++)
        assert_int_equal(zeek_line(f, conn_header[i]), DECODE_SKIP);
}

static void test_zeek_tsv_values(void **state)
{
    struct fixture *f = *state;
    feed_header(f);
    assert_int_equal(zeek_line(f, "1709543642.5\tCa\t10.0.0.1\t5\t10.0.0.2\t25\ttcp\t-\tS0\t"
                                  "(empty)"),
                     -EINVAL); /* one column short */
    assert_int_equal(zeek_line(f, "1709543642.5\tCa\t10.0.0.1\t5\t10.0.0.2\t25\ttcp\t-\tS0\t"
                                  "a\\x2cb,c\\\\d,-\tT"),
                     0);
    struct event *ev = &f->ev;
    assert_true(ev->parsed);
    assert_string_equal(ev->ls.product, "zeek");
    assert_string_equal(ev->ls.service, "conn");
    assert_int_equal(ev->ts_ns, 1709543642500000000LL);
    assert_null(event_get(ev, "service")); /* unset: omitted */
    assert_string_equal(native(ev, "tunnel_parents"), "[\"a,b\",\"c\\\\d\",null]");
    assert_string_equal(native(ev, "local_orig"), "true");
    assert_int_equal(event_get(ev, "local_orig")->type, VT_BOOL);
    assert_string_equal(core(ev, CORE_EVENT_ACTION), "S0");
    assert_string_equal(core(ev, CORE_DESTINATION_PORT), "25");

    /* empty set, empty string */
    assert_int_equal(zeek_line(f, "1709543642\tCb\t10.0.0.1\t5\t10.0.0.2\t25\ttcp\t(empty)\tS0\t("
                                  "empty)\tF"),
                     0);
    assert_string_equal(native(ev, "service"), "");
    assert_string_equal(native(ev, "tunnel_parents"), "[]");
}

static void test_zeek_header_edge_cases(void **state)
{
    struct fixture *f = *state;
    /* data before any header cannot be named */
    assert_int_equal(zeek_line(f, "1709543642\tCa\t10.0.0.1"), -EINVAL);
    /* a comment is metadata too */
    assert_int_equal(zeek_line(f, "# written by hand"), DECODE_SKIP);
    /* another separator: '|' */
    assert_int_equal(zeek_line(f, "#separator \\x7c"), DECODE_SKIP);
    assert_int_equal(zeek_line(f, "#path|my_custom_log"), DECODE_SKIP);
    assert_int_equal(zeek_line(f, "#fields|ts|id.orig_h|note"), DECODE_SKIP);
    assert_int_equal(zeek_line(f, "#types|time|addr|string"), DECODE_SKIP);
    assert_int_equal(zeek_line(f, "1709543642.000001|192.0.2.1|tab\\x09here"), 0);
    struct event *ev = &f->ev;
    assert_string_equal(ev->ls.service, "my_custom_log");
    assert_string_equal(native(ev, "note"), "tab\there");
    assert_string_equal(core(ev, CORE_SOURCE_IP), "192.0.2.1");
    /* "note" is notice's action, not a custom log's */
    assert_null(core(ev, CORE_EVENT_ACTION));
    /* a new block resets everything: the old columns are gone */
    assert_int_equal(zeek_line(f, "#separator \\x09"), DECODE_SKIP);
    assert_int_equal(zeek_line(f, "1709543642.000001|192.0.2.1|x"), -EINVAL);
    /* #fields with no names, an empty separator, a path that is no name */
    assert_int_equal(zeek_line(f, "#fields"), DECODE_SKIP);
    assert_int_equal(zeek_line(f, "x"), -EINVAL);
    assert_int_equal(zeek_line(f, "#separator "), DECODE_SKIP);
    assert_int_equal(zeek_line(f, "#path\t../../etc"), DECODE_SKIP);
    assert_int_equal(zeek_line(f, "#fields\tts\tquery"), DECODE_SKIP);
    assert_int_equal(zeek_line(f, "1.5\texample.org"), 0);
    assert_null(f->ev.ls.service);
    assert_int_equal(f->ev.ts_ns, 1500000000);
}

static void test_zeek_json(void **state)
{
    struct fixture *f = *state;
    /* the field set tells the log: dns */
    assert_string_equal(decode_json_text(f, "{\"ts\":1709543642123,\"uid\":\"Cx\",\"id.orig_h\":"
                                            "\"10.0.0.1\",\"query\":\"a.example\","
                                            "\"qtype_name\":\"A\"}"),
                        "zeek");
    assert_string_equal(f->ev.ls.service, "dns");
    assert_int_equal(f->ev.ts_ns, 1709543642123000000LL); /* milliseconds */
    assert_string_equal(core(&f->ev, CORE_DNS_QUESTION_NAME), "a.example");
    /* _path wins; rcptto's first element, brackets stripped from msg_id */
    assert_string_equal(
        decode_json_text(f, "{\"_path\":\"smtp\",\"ts\":\"2024-03-04T09:14:03.5Z\","
                            "\"uid\":\"C1\",\"rcptto\":[\"a\\u0040x.example\",\"b@x.example\"],"
                            "\"msg_id\":\"<m1@x>\",\"mailfrom\":\"<s@y>\"}"),
        "zeek");
    assert_string_equal(f->ev.ls.service, "smtp");
    assert_string_equal(core(&f->ev, CORE_EMAIL_TO_ADDRESS), "a@x.example");
    assert_string_equal(core(&f->ev, CORE_EMAIL_MESSAGE_ID), "m1@x");
    assert_string_equal(core(&f->ev, CORE_EMAIL_FROM_ADDRESS), "s@y");
    /* a proxy's absolute URI is the URL */
    decode_json_text(f, "{\"ts\":1.0,\"uid\":\"C2\",\"method\":\"GET\",\"host\":\"h\","
                        "\"uri\":\"http://other.example/x\"}");
    assert_string_equal(core(&f->ev, CORE_URL_FULL), "http://other.example/x");
    /* times beyond int64 nanoseconds are no times (found by fuzzing) */
    decode_json_text(f, "{\"ts\":9709543642.5,\"uid\":\"C3\"}");
    assert_int_equal(f->ev.ts_ns, TIME_NONE);
    decode_json_text(f, "{\"ts\":\"9999-12-31T23:59:59Z\",\"uid\":\"C3\"}");
    assert_int_equal(f->ev.ts_ns, TIME_NONE);
    /* not Zeek: no ts */
    assert_string_equal(decode_json_text(f, "{\"uid\":\"C\",\"id.orig_h\":\"10.0.0.1\"}"), "json");
}

/* ---- M365 ------------------------------------------------------------------ */

static void test_m365_addresses(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *client_ip, *ip, *port;
    } cases[] = {
        {"198.51.100.23:50412", "198.51.100.23", "50412"},
        {"[2001:db8::1]:443", "2001:db8::1", "443"},
        {"[2001:db8::1]", "2001:db8::1", NULL},
        {"2001:db8::1", "2001:db8::1", NULL},
        {" 203.0.113.9 ", "203.0.113.9", NULL},
        {"10.0.0.1:http", "10.0.0.1", NULL},
        {"[::1", NULL, NULL},
    };
    char rec[512];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(rec, sizeof(rec),
                 "{\"CreationTime\":\"2024-03-04T10:21:47\",\"Id\":\"x\",\"Operation\":"
                 "\"Set-Mailbox\",\"Workload\":\"Exchange\",\"ClientIP\":\"%s\"}",
                 cases[i].client_ip);
        assert_string_equal(decode_json_text(f, rec), "m365");
        if (cases[i].ip)
            assert_string_equal(core(&f->ev, CORE_SOURCE_IP), cases[i].ip);
        else
            assert_null(core(&f->ev, CORE_SOURCE_IP));
        if (cases[i].port)
            assert_string_equal(core(&f->ev, CORE_SOURCE_PORT), cases[i].port);
        else
            assert_null(core(&f->ev, CORE_SOURCE_PORT));
    }
}

static void test_m365_lists(void **state)
{
    struct fixture *f = *state;
    const char *rec =
        "{\"CreationTime\":\"2024-03-04T10:21:47\",\"Id\":\"x\",\"Operation\":\"New-InboxRule\","
        "\"RecordType\":1,\"ResultStatus\":\"False\",\"Workload\":\"Exchange\",\"Parameters\":["
        "{\"Name\":\"Name\",\"Value\":\"a \\\"b\\\"\"},{\"Name\":\"Name\",\"Value\":\"dup\"},"
        "{\"Value\":\"no name\"},{\"Name\":\"\",\"Value\":\"empty\"},\"junk\",7,"
        "{\"Name\":\"Priority\",\"Value\":3},{\"Name\":\"Cond\",\"Value\":{\"x\":[1]}}],"
        "\"ExtendedProperties\":[{\"Name\":\"Workload\",\"Value\":\"shadow\"},"
        "{\"Name\":\"RequestType\",\"Value\":\"Cmsi:Cmsi\"}]}";
    assert_string_equal(decode_json_text(f, rec), "m365");
    struct event *ev = &f->ev;
    assert_string_equal(native(ev, "Parameters.Name"), "a \"b\"");
    int names = 0;
    for (uint32_t i = 0; i < ev->nfields; i++)
        names += str_eq(ev->fields[i].key, "Parameters.Name");
    assert_int_equal(names, 1);
    assert_string_equal(native(ev, "Parameters.Priority"), "3");
    assert_int_equal(event_get(ev, "Parameters.Priority")->type, VT_NUMBER);
    assert_int_equal(event_get(ev, "Parameters.Cond")->type, VT_JSON);
    assert_string_equal(native(ev, "Payload"),
                        "New-InboxRule -Name \"a \"b\"\" -Priority 3 -Cond {\"x\":[1]}");
    /* a bare alias never shadows a field the record has */
    assert_string_equal(native(ev, "Workload"), "Exchange");
    assert_string_equal(native(ev, "ExtendedProperties.Workload"), "shadow");
    assert_string_equal(native(ev, "RequestType"), "Cmsi:Cmsi");
    assert_string_equal(core(ev, CORE_EVENT_OUTCOME), "failure");
    assert_string_equal(native(ev, "status"), "failure");

    /* lists that are not lists are left alone */
    rec = "{\"CreationTime\":\"2024-03-04T10:21:47\",\"Id\":\"x\",\"Operation\":\"Set-Mailbox\","
          "\"Workload\":\"Exchange\",\"Parameters\":{\"Name\":\"x\"},\"Folders\":\"none\","
          "\"OperationProperties\":[]}";
    assert_string_equal(decode_json_text(f, rec), "m365");
    assert_null(event_get(&f->ev, "Payload"));
    assert_null(event_get(&f->ev, "Folders.Count"));
}

static void test_m365_export_shapes(void **state)
{
    struct fixture *f = *state;
    /* AuditData that is JSON: unfolded, export columns prefixed */
    const char *rec = "{\"CreationDate\":\"/Date(1709547707000)/\",\"Operations\":\"Send\","
                      "\"AuditData\":\"{\\\"CreationTime\\\":\\\"2024-03-04T10:21:47\\\","
                      "\\\"Operation\\\":\\\"Send\\\",\\\"Workload\\\":\\\"Exchange\\\"}\"}";
    assert_string_equal(decode_json_text(f, rec), "m365");
    assert_null(event_get(&f->ev, "AuditData"));
    assert_string_equal(native(&f->ev, "AuditSearch.Operations"), "Send");
    assert_string_equal(f->ev.ls.service, "exchange");
    /* AuditData that is not: kept, the export's columns used */
    rec = "{\"CreationDate\":\"/Date(1709547707000)/\",\"Operations\":\"Send\","
          "\"UserIds\":\"u@example.org\",\"AuditData\":\"{\\\"Creat\"}";
    assert_string_equal(decode_json_text(f, rec), "m365");
    assert_non_null(event_get(&f->ev, "AuditData"));
    assert_string_equal(core(&f->ev, CORE_EVENT_ACTION), "Send");
    assert_string_equal(core(&f->ev, CORE_USER_NAME), "u@example.org");
    assert_int_equal(f->ev.ts_ns, 1709547707000000000LL);
    assert_string_equal(f->ev.ls.service, "audit");
    /* the login failure that says Success */
    rec = "{\"CreationTime\":\"2024-03-04T10:02:11\",\"Id\":\"x\",\"Operation\":"
          "\"UserLoginFailed\",\"ResultStatus\":\"Success\",\"Workload\":"
          "\"AzureActiveDirectory\",\"ClientIP\":null,\"ActorIpAddress\":\"192.0.2.5\"}";
    assert_string_equal(decode_json_text(f, rec), "m365");
    assert_string_equal(core(&f->ev, CORE_EVENT_OUTCOME), "failure");
    assert_string_equal(core(&f->ev, CORE_SOURCE_IP), "192.0.2.5");
    assert_string_equal(f->ev.ls.service, "audit");
    /* times beyond int64 nanoseconds are no times (found by fuzzing) */
    rec = "{\"CreationTime\":\"4048-03-04T10:02:11\",\"Id\":\"x\",\"Operation\":\"Send\","
          "\"Workload\":\"Exchange\",\"CreationDate\":\"/Date(99999999999999)/\"}";
    assert_string_equal(decode_json_text(f, rec), "m365");
    assert_int_equal(f->ev.ts_ns, TIME_NONE);
    /* too little to be an audit record */
    assert_string_equal(decode_json_text(f, "{\"Operation\":\"x\",\"CreationTime\":\"y\"}"),
                        "json");
}

/* ---- damaged input ------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Mutate seeds byte by byte (flip, cut, duplicate, insert a metacharacter)
 * and decode each result; the sanitizers judge. The seed of the generator
 * is fixed, so a failure reproduces. */
static void test_mutations(void **state)
{
    struct fixture *f = *state;
    static const char *json_seeds[] = {
        "{\"CreationTime\":\"2024-03-04T10:31:15\",\"Id\":\"1\",\"Operation\":"
        "\"MailItemsAccessed\",\"Workload\":\"Exchange\",\"ClientIP\":\"[2001:db8::1]:4\","
        "\"Folders\":[{\"Path\":\"\\\\Inbox\",\"FolderItems\":[{\"Id\":\"a\"},{}]}],"
        "\"AffectedItems\":[{}],\"recipientList\":[{\"Address\":\"a@b\"}],"
        "\"OperationProperties\":[{\"Name\":\"MailAccessType\",\"Value\":\"Bind\"}],"
        "\"ModifiedProperties\":[{\"Name\":\"X\",\"NewValue\":\"1\",\"OldValue\":\"\"}],"
        "\"Parameters\":[{\"Name\":\"Identity\",\"Value\":\"x y\"}]}",
        "{\"CreationDate\":\"/Date(1)/\",\"Operations\":\"Send\",\"AuditData\":\"{\\\"Operation"
        "\\\":\\\"Send\\\",\\\"Folders\\\":[{\\\"Path\\\":\\\"x\\\"}]}\"}",
        "{\"_path\":\"smtp\",\"ts\":1709543642.1,\"uid\":\"C\",\"rcptto\":[\"a@b\"],"
        "\"host\":\"h\",\"uri\":\"/\"}",
    };
    static const char *tsv[] = {
        "#separator \\x09",
        "#set_separator\t,",
        "#path\tsmtp",
        "#fields\tts\tuid\tid.orig_h\trcptto\tmsg_id\tsubject",
        "#types\ttime\tstring\taddr\tset[string]\tstring\tstring",
        "1709543642.1\tC\t10.0.0.1\ta@b,c\\x2cd@e\t<m@x>\tGr\\xc3\\xbc\\\\\\x09e",
    };
    static const char meta[] = "\"\\[]{},:\t\\x#-";
    char buf[1024];
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    for (int round = 0; round < 3000; round++) {
        bool is_json = round % 3 != 2;
        const char *seed = is_json ? json_seeds[round % 2              ? 1
                                                : (round / 3) % 3 == 0 ? 2
                                                                       : 0]
                                   : tsv[round % 6];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        for (int m = 0; m < 1 + (int)(rng_next(&rng) % 4); m++) {
            size_t at = n ? rng_next(&rng) % n : 0;
            switch (rng_next(&rng) % 4) {
            case 0:
                buf[at] ^= (char)(1 << (rng_next(&rng) % 8));
                break;
            case 1:
                n = at;
                break;
            case 2:
                if (n + 1 < sizeof(buf)) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = meta[rng_next(&rng) % (sizeof(meta) - 1)];
                    n++;
                }
                break;
            default:
                if (n * 2 < sizeof(buf)) {
                    memcpy(buf + n, buf, n);
                    n *= 2;
                }
            }
        }
        buf[n] = '\0';
        if (is_json) {
            struct event *ev = fresh(f, buf);
            if (json_flatten(ev, ev->raw.p, ev->raw.n) == 0) {
                decoder_find("m365")->decode_json(&f->ctx, ev);
                ev = fresh(f, buf);
                if (json_flatten(ev, ev->raw.p, ev->raw.n) == 0)
                    decoder_find("zeek")->decode_json(&f->ctx, ev);
            }
        } else {
            for (int h = 0; h < 5 && round % 7 == 0; h++)
                zeek_line(f, tsv[h]);
            int rc = zeek_line(f, buf);
            assert_true(rc == 0 || rc == DECODE_SKIP || rc == -EINVAL);
        }
        if (round % 64 == 0)
            arena_reset(&f->arena);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iter_array_and_object),
        cmocka_unit_test(test_iter_malformed),
        cmocka_unit_test(test_string_decode),
        cmocka_unit_test_setup_teardown(test_zeek_tsv_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeek_header_edge_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeek_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_m365_addresses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_m365_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_m365_export_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
