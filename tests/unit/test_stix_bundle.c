/* Unit tests for intel/stix-bundle: STIX 2.1 bundles into an ioc_batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "intel/intel-json.h"
#include "intel/stix-bundle.h"
#include "util/timeconv.h"

#define FIX "tests/intel/stix/"

static int read_file(const char *path, struct ioc_batch *b, struct stix_read_stats *st)
{
    ioc_batch_init(b, path, "stix");
    memset(st, 0, sizeof(*st));
    return stix_bundle_read_ex(path, NULL, b, st);
}

static int read_text(const char *text, struct ioc_batch *b, struct stix_read_stats *st,
                     const struct stix_read_opts *o)
{
    ioc_batch_init(b, "mem", "stix");
    memset(st, 0, sizeof(*st));
    return stix_objects_read_ex(text, strlen(text), "mem", o, b, st);
}

/* The meta of the ioc whose meta ref is ref, or NULL. */
static const struct ioc_meta *meta_of(const struct ioc_batch *b, const char *ref,
                                      const struct ioc **ioc)
{
    for (size_t i = 0; i < b->niocs; i++) {
        const struct ioc_meta *m = &b->metas[b->iocs[i].meta];
        if (m->ref && !strcmp(m->ref, ref)) {
            if (ioc)
                *ioc = &b->iocs[i];
            return m;
        }
    }
    return NULL;
}

/* Is there a problem whose place contains where and reason contains why? */
static bool has_problem(const struct ioc_batch *b, const char *where, const char *why)
{
    for (size_t i = 0; i < b->nproblems; i++)
        if (strstr(b->problems[i].where, where) && strstr(b->problems[i].why, why))
            return true;
    return false;
}

static void test_tlp_forms(void **state)
{
    (void)state;
    struct ioc_batch b;
    struct stix_read_stats st;
    assert_int_equal(read_file(FIX "tlp.json", &b, &st), 0);
    static const struct {
        const char *id_tail;
        enum tlp tlp;
    } want[] = {
        {"000000000101", TLP_CLEAR}, /* TLP 1.0 white reads as CLEAR */
        {"000000000102", TLP_GREEN},        {"000000000103", TLP_AMBER},
        {"000000000104", TLP_RED},          {"000000000201", TLP_CLEAR},
        {"000000000202", TLP_GREEN},        {"000000000203", TLP_AMBER},
        {"000000000204", TLP_AMBER_STRICT}, {"000000000205", TLP_RED},
        {"000000000301", TLP_GREEN},        /* bundle-defined, TLP 1.0 style, defined later */
        {"000000000302", TLP_AMBER_STRICT}, /* bundle-defined with the TLP 2.0 extension */
        {"000000000303", TLP_UNMARKED},     /* a statement marking only */
        {"000000000304", TLP_AMBER},        /* green and amber: the stricter */
        {"000000000305", TLP_RED},          /* granular red beats object green */
        {"000000000306", TLP_UNMARKED},
    };
    assert_int_equal(b.niocs, sizeof(want) / sizeof(want[0]));
    assert_int_equal(st.imported, b.niocs);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char id[80];
        snprintf(id, sizeof(id), "indicator--7d1c0f00-0000-4000-8000-%s", want[i].id_tail);
        const struct ioc_meta *m = meta_of(&b, id, NULL);
        assert_non_null(m);
        if (m->tlp != want[i].tlp)
            fail_msg("%s: TLP %d, want %d", id, m->tlp, want[i].tlp);
    }
    assert_int_equal(b.nproblems, 0);
    ioc_batch_free(&b);
}

static void test_relationships(void **state)
{
    (void)state;
    struct ioc_batch b;
    struct stix_read_stats st;
    assert_int_equal(read_file(FIX "valid-relationships.json", &b, &st), 0);
    assert_int_equal(st.imported, 5);
    assert_int_equal(st.objects, 25);
    assert_int_equal(st.unknown, 1);    /* x-example-note */
    assert_int_equal(st.superseded, 2); /* an intrusion set's and a relationship's old version */
    assert_int_equal(st.other, 25 - 5 - 1 - 0);
    const char *pre = "indicator--5e1a7e00-0000-4000-8000-00000000000";
    char id[80];
    /* A: indicates malware, authored by a set (latest name), attributed to an actor;
     * relationships come before the objects they name */
    snprintf(id, sizeof(id), "%sa", pre);
    assert_string_equal(meta_of(&b, id, NULL)->related_json,
                        "[\"GateKeeper\",\"Gateway Crew\",\"Unit Zero\"]");
    /* B: indicates a campaign attributed to the set */
    snprintf(id, sizeof(id), "%sb", pre);
    assert_string_equal(meta_of(&b, id, NULL)->related_json,
                        "[\"Operation Tarball\",\"Gateway Crew\",\"Unit Zero\"]");
    /* C: indicates a tool and nothing else: the set that uses the tool */
    snprintf(id, sizeof(id), "%sc", pre);
    assert_string_equal(meta_of(&b, id, NULL)->related_json, "[\"tunnelr\",\"Second Set\"]");
    /* D: the latest version of its only relationship is revoked */
    snprintf(id, sizeof(id), "%sd", pre);
    assert_null(meta_of(&b, id, NULL)->related_json);
    /* E: a campaign's related-to pointing at the indicator */
    snprintf(id, sizeof(id), "%se", pre);
    assert_string_equal(meta_of(&b, id, NULL)->related_json,
                        "[\"Operation Tarball\",\"Gateway Crew\",\"Unit Zero\"]");
    assert_int_equal(b.nproblems, 0);
    ioc_batch_free(&b);
}

static void test_windows_versions_kill_chains(void **state)
{
    (void)state;
    struct ioc_batch b;
    struct stix_read_stats st;
    assert_int_equal(read_file(FIX "windows.json", &b, &st), 0);
    assert_int_equal(st.imported, 6);
    assert_int_equal(st.revoked, 1);
    assert_int_equal(st.superseded, 2);
    const char *pre = "indicator--3a7f0c00-0000-4000-8000-00000000000";
    char id[80];
    const struct ioc *ioc;

    snprintf(id, sizeof(id), "%s1", pre);
    const struct ioc_meta *m = meta_of(&b, id, &ioc);
    assert_string_equal(m->name, "Sender of the March wave"); /* from the description */
    assert_int_equal(m->confidence, 80);
    assert_true(m->valid_from == time_from_utc(2024, 3, 1, 8, 0, 0, 250000000));
    assert_true(m->valid_until == time_from_utc(2024, 6, 1, 0, 0, 0, 0));
    assert_false(m->revoked);
    assert_string_equal(m->labels_json, "[\"phishing\",\"wave-3\",\"malicious-activity\"]");
    assert_string_equal(m->kill_chain_json, "[\"lockheed-martin-cyber-kill-chain:delivery\","
                                            "\"mitre-attack:initial-access\"]");
    assert_int_equal(ioc->type, IOC_PATTERN);
    assert_true(ioc->detect);
    assert_string_equal(ioc->value, "[email-message:from_ref.value = 'payroll@example.org']");
    assert_string_equal(m->feed, FIX "windows.json");
    assert_true(has_problem(&b, id, "kill_chain_phases[3] lacks"));

    snprintf(id, sizeof(id), "%s2", pre);
    assert_true(meta_of(&b, id, NULL)->revoked);

    /* of three versions the latest counts, wherever it is in the file */
    snprintf(id, sizeof(id), "%s3", pre);
    meta_of(&b, id, &ioc);
    assert_string_equal(ioc->value, "[domain-name:value = 'c2-v2.example.net']");

    /* STIX 2.0: no pattern_type means a STIX pattern */
    snprintf(id, sizeof(id), "%s4", pre);
    assert_non_null(meta_of(&b, id, NULL));

    /* bad descriptive properties are reported and left out; the rest stays */
    snprintf(id, sizeof(id), "%s5", pre);
    m = meta_of(&b, id, NULL);
    assert_int_equal(m->confidence, -1);
    assert_string_equal(m->labels_json, "[\"ok\"]");
    assert_true(m->valid_from == time_from_utc(2024, 2, 29, 22, 0, 0, 0));
    assert_true(has_problem(&b, id, "confidence is not an integer"));
    assert_true(has_problem(&b, id, "labels is not a list"));
    assert_true(has_problem(&b, id, "indicator_types[1] is not a string"));

    snprintf(id, sizeof(id), "%s6", pre);
    m = meta_of(&b, id, NULL);
    assert_true(m->valid_from == TIME_NONE && m->valid_until == TIME_NONE);
    ioc_batch_free(&b);
}

static void test_errors_reported_with_ids(void **state)
{
    (void)state;
    struct ioc_batch b;
    struct stix_read_stats st;
    assert_int_equal(read_file(FIX "errors.json", &b, &st), 0);
    assert_int_equal(st.objects, 18);
    assert_int_equal(st.imported, 2);
    assert_int_equal(st.skipped_pattern_type, 2);
    assert_int_equal(st.malformed, 12);
    assert_int_equal(st.unknown, 1);
    const char *pre = "indicator--e1e1e1e1-0000-4000-8000-0000000000";
    char id[80];
    snprintf(id, sizeof(id), "%s18", pre);
    assert_non_null(meta_of(&b, id, NULL)); /* the last one is still read */
    assert_true(has_problem(&b, "errors.json:2: objects[0]", "indicator without a valid id"));
    assert_true(
        has_problem(&b, "malware--e1e1e1e1-0000-4000-8000-000000000002", "without a valid id"));
    assert_true(has_problem(&b, "indicator--not-a-uuid", "without a valid id"));
    assert_true(
        has_problem(&b, "indicator--e1e1e1e1-0000-4000-8000-000000000004", "without a type"));
    snprintf(id, sizeof(id), "%s05", pre);
    assert_true(has_problem(&b, id, "no pattern"));
    snprintf(id, sizeof(id), "%s06", pre);
    assert_true(has_problem(&b, id, "valid_until is not after valid_from"));
    snprintf(id, sizeof(id), "%s07", pre);
    assert_true(has_problem(&b, id, "valid_from is not an RFC 3339 timestamp"));
    snprintf(id, sizeof(id), "%s08", pre);
    assert_true(has_problem(&b, id, "pattern_type 'snort' is not imported"));
    assert_true(has_problem(&b, "errors.json:14: objects[10]", "not a JSON object"));
    assert_true(has_problem(&b, "errors.json:15: objects[11]", "invalid JSON at line 15"));
    snprintf(id, sizeof(id), "%s13", pre);
    assert_true(has_problem(&b, id, "revoked is not a boolean"));
    assert_true(has_problem(&b, "relationship--e1e1e1e1-0000-4000-8000-000000000014",
                            "relationship without"));
    ioc_batch_free(&b);
}

static void test_nesting_bounded(void **state)
{
    (void)state;
    struct buf t;
    buf_init(&t);
    buf_puts(&t, "{\"type\":\"bundle\",\"objects\":[{\"type\":\"indicator\",\"id\":"
                 "\"indicator--00000000-0000-4000-8000-000000000001\",\"pattern\":\"[a:b = 1]\"},"
                 "{\"type\":\"note\",\"x\":");
    for (int i = 0; i < 100000; i++)
        buf_putc(&t, '[');
    for (int i = 0; i < 100000; i++)
        buf_putc(&t, ']');
    buf_puts(&t, "},{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-8000-"
                 "000000000002\",\"pattern\":\"[a:b = 2]\"}]}");
    struct ioc_batch b;
    struct stix_read_stats st;
    assert_int_equal(read_text(t.data, &b, &st, NULL), 0);
    assert_int_equal(st.imported, 2);
    assert_int_equal(st.malformed, 1);
    assert_true(has_problem(&b, "objects[1]", "nested deeper than 64 levels"));
    ioc_batch_free(&b);

    /* a configured bound */
    struct stix_read_opts o = {.limits = {.max_depth = 2}};
    assert_int_equal(read_text("[{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-"
                               "8000-000000000003\",\"pattern\":\"[a:b = 3]\",\"labels\":[\"x\"]}]",
                               &b, &st, &o),
                     0);
    assert_int_equal(st.imported, 1);
    ioc_batch_free(&b);
    assert_int_equal(read_text("[{\"type\":\"indicator\",\"id\":\"indicator--00000000-0000-4000-"
                               "8000-000000000003\",\"pattern\":\"[a:b = 3]\",\"x\":[[1]]}]",
                               &b, &st, &o),
                     0);
    assert_int_equal(st.imported, 0);
    assert_int_equal(st.malformed, 1);
    ioc_batch_free(&b);
    buf_free(&t);
}

static void test_cut_short(void **state)
{
    (void)state;
    char *text;
    size_t n;
    assert_int_equal(intel_file_load(FIX "windows.json", 1 << 20, &text, &n), 0);
    /* cut inside the fourth object: the three before are read */
    char *cut = strstr(text, "C2 (first version)");
    assert_non_null(cut);
    *cut = '\0';
    struct ioc_batch b;
    struct stix_read_stats st;
    assert_int_equal(read_text(text, &b, &st, NULL), 0);
    assert_int_equal(st.imported, 3);
    assert_true(has_problem(&b, "mem:25", "objects[3] is malformed or cut short"));
    ioc_batch_free(&b);
    free(text);
}

static void test_containers(void **state)
{
    (void)state;
    static const char ind[] =
        "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-4000-"
        "8000-00000000000a\",\"pattern\":\"[domain-name:value = 'a.example']\","
        "\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00Z\"}";
    char text[1024];
    struct ioc_batch b;
    struct stix_read_stats st;
    /* a TAXII envelope */
    snprintf(text, sizeof(text), "{\"more\":false,\"next\":\"x\",\"objects\":[%s]}", ind);
    assert_int_equal(read_text(text, &b, &st, NULL), 0);
    assert_int_equal(st.imported, 1);
    ioc_batch_free(&b);
    /* a bare list */
    snprintf(text, sizeof(text), "\xEF\xBB\xBF [%s,%s] ", ind, ind);
    assert_int_equal(read_text(text, &b, &st, NULL), 0);
    assert_int_equal(st.imported, 1);
    assert_int_equal(st.superseded, 1);
    ioc_batch_free(&b);
    /* one object */
    assert_int_equal(read_text(ind, &b, &st, NULL), 0);
    assert_int_equal(st.imported, 1);
    ioc_batch_free(&b);
    /* empty */
    assert_int_equal(read_text("{\"type\":\"bundle\",\"objects\":[]}", &b, &st, NULL), 0);
    assert_int_equal(b.niocs, 0);
    ioc_batch_free(&b);
    /* not STIX at all */
    assert_int_equal(read_text("hello", &b, &st, NULL), -22);
    assert_true(has_problem(&b, "mem", "not a STIX bundle"));
    ioc_batch_free(&b);
    assert_int_equal(read_text("{\"objects\":{}}", &b, &st, NULL), -22);
    ioc_batch_free(&b);
    assert_int_equal(read_text("", &b, &st, NULL), -22);
    ioc_batch_free(&b);
    /* larger than the limit */
    struct stix_read_opts o = {.limits = {.max_bytes = 100}};
    assert_int_equal(read_text(text, &b, &st, &o), -27);
    assert_true(has_problem(&b, "mem", "larger than the limit of 100 bytes"));
    ioc_batch_free(&b);
    /* several reads add to one batch */
    ioc_batch_init(&b, "taxii:https://example.org/c1", "stix");
    assert_int_equal(stix_objects_read(ind, strlen(ind), "page 1", &b), 0);
    assert_int_equal(stix_objects_read(ind, strlen(ind), "page 2", &b), 0);
    assert_int_equal(b.niocs, 2);
    assert_string_equal(b.metas[0].feed, "taxii:https://example.org/c1");
    ioc_batch_free(&b);
    /* a missing file */
    ioc_batch_init(&b, "x", "stix");
    assert_int_equal(stix_bundle_read(FIX "no-such-file.json", &b), -2);
    assert_true(has_problem(&b, "no-such-file.json", "cannot read"));
    ioc_batch_free(&b);
}

static void test_stats_line(void **state)
{
    (void)state;
    struct stix_read_stats st = {.objects = 9,
                                 .imported = 3,
                                 .revoked = 1,
                                 .skipped_pattern_type = 1,
                                 .malformed = 2,
                                 .unknown = 1,
                                 .other = 2};
    struct buf o;
    buf_init(&o);
    stix_read_stats_format(&st, &o);
    assert_string_equal(o.data, "3 indicators imported (1 revoked), 1 skipped (not a STIX "
                                "pattern), 2 malformed objects skipped; 9 objects read, 2 of "
                                "other STIX types, 1 of unknown types");
    buf_free(&o);
}

/* Every example bundle of the specification, with the counts it must give. */
static void test_spec_examples(void **state)
{
    (void)state;
    const char *shared = getenv("KENCHI_SHARED");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/specs/stix/examples", shared ? shared : "../shared");
    static const struct {
        const char *file;
        size_t objects, imported, other;
        const char *related; /* of the first indicator */
    } ex[] = {
        {"indicator-for-c2-ip-address.json", 1, 1, 0, NULL},
        {"indicator-to-campaign-relationship.json", 3, 1, 2, "[\"Operation Omega\"]"},
        {"indicators-for-C2-with-COA.json", 8, 2, 6, "[\"Poison Ivy\"]"},
        {"infrastructure.json", 10, 0, 10, NULL},
        {"interop-objectmarking-test.json", 1, 0, 1, NULL},
        {"malicious-email-indicator-with-attachment.json", 6, 2, 4, NULL},
        {"threat-reports/apt1.json", 76, 12, 64, "[\"HUC Packet Transmit Tool (HTRAN)\"]"},
        {"threat-reports/poisonivy.json", 155, 25, 130,
         "[\"PIVY Variant (808e21d6efa2884811fbd0adf67fda78)\",\"admin@338\"]"},
    };
    char path[700];
    snprintf(path, sizeof(path), "%s/%s", dir, ex[0].file);
    FILE *f = fopen(path, "r");
    if (!f) {
        print_message("skipping: %s is absent\n", dir);
        skip();
    }
    fclose(f);
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, ex[i].file);
        struct ioc_batch b;
        struct stix_read_stats st;
        assert_int_equal(read_file(path, &b, &st), 0);
        if (st.objects != ex[i].objects || st.imported != ex[i].imported ||
            st.other != ex[i].other || st.malformed || st.unknown || b.nproblems)
            fail_msg("%s: %zu objects, %zu imported, %zu other, %zu malformed, %zu problems",
                     ex[i].file, st.objects, st.imported, st.other, st.malformed, b.nproblems);
        if (ex[i].imported) {
            const char *rel = b.metas[b.iocs[0].meta].related_json;
            if (ex[i].related ? !rel || strcmp(rel, ex[i].related) : rel != NULL)
                fail_msg("%s: related %s", ex[i].file, rel ? rel : "(none)");
        }
        ioc_batch_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tlp_forms),
        cmocka_unit_test(test_relationships),
        cmocka_unit_test(test_windows_versions_kill_chains),
        cmocka_unit_test(test_errors_reported_with_ids),
        cmocka_unit_test(test_nesting_bounded),
        cmocka_unit_test(test_cut_short),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_stats_line),
        cmocka_unit_test(test_spec_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
