/* Unit tests for the indicator readers (intel-read.h): the Zeek intel,
 * CSV and plain list fixtures of tests/intel/feeds/ (handwritten; every line is
 * there for a reason, see the expectations below), format sniffing, the
 * directory walk, and the limits (line length, indicators per file). */
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

#include "intel/intel-read.h"
#include "util/timeconv.h"

static char path_buf[512];

/* tests/intel/feeds/NAME, from the repository root (tests/run.sh runs there). */
static const char *fixture(const char *name)
{
    const char *dir = getenv("KENCHI_TEST_INTEL_DIR");
    snprintf(path_buf, sizeof(path_buf), "%s/%s", dir ? dir : "tests/intel/feeds", name);
    return path_buf;
}

static const struct ioc *find_value(const struct ioc_batch *b, const char *v)
{
    for (size_t i = 0; i < b->niocs; i++)
        if (!strcmp(b->iocs[i].value, v))
            return &b->iocs[i];
    return NULL;
}

/* The problem recorded at file:line (suffix match on where), or NULL. */
static const char *problem_at(const struct ioc_batch *b, const char *file, int line)
{
    char want[600];
    snprintf(want, sizeof(want), "%s:%d", file, line);
    for (size_t i = 0; i < b->nproblems; i++) {
        const char *w = b->problems[i].where;
        size_t wl = strlen(w), l = strlen(want);
        if (wl >= l && !strcmp(w + wl - l, want))
            return b->problems[i].why;
    }
    return NULL;
}

static uint64_t reason_count(const struct intel_read_stats *st, const char *reason)
{
    for (unsigned i = 0; i < st->nreasons; i++)
        if (!strcmp(st->reasons[i].reason, reason))
            return st->reasons[i].count;
    return 0;
}

static void test_zeek(void **state)
{
    (void)state;
    struct intel_read_stats st;
    memset(&st, 0, sizeof(st));
    struct intel_read_opts o;
    intel_read_opts_default(&o);
    o.stats = &st;
    struct ioc_batch b;
    assert_int_equal(intel_read_path(fixture("feed.intel"), &o, &b), 0);
    assert_string_equal(b.format, "zeek");
    assert_int_equal(b.niocs, 15);
    assert_int_equal(st.records, 24);
    assert_int_equal(st.indicators, 15);
    assert_int_equal(st.skipped, 9);
    assert_int_equal(st.refanged, 1);
    /* types and normal forms */
    const struct ioc *c = find_value(&b, "203.0.113.129");
    assert_non_null(c);
    assert_int_equal(c->type, IOC_IP);
    const struct ioc_meta *m = &b.metas[c->meta];
    assert_string_equal(m->feed, "partner-cert");
    assert_string_equal(m->name, "Mailbox exfiltration host");
    assert_string_equal(m->ref, "https://cert.example/adv/1");
    assert_int_equal(m->confidence, -1);
    assert_non_null(find_value(&b, "203.0.113.64/28"));
    assert_non_null(find_value(&b, "2001:db8:bad::/48"));
    c = find_value(&b, "freemail.test");
    assert_non_null(c);
    assert_int_equal(c->type, IOC_DOMAIN);
    assert_null(b.metas[c->meta].ref); /* "-" is unset */
    assert_int_equal(find_value(&b, "mailbox.backup7@freemail.test")->type, IOC_EMAIL);
    assert_int_equal(find_value(&b, "login.freemail.test/owa/")->type, IOC_URL);
    assert_int_equal(find_value(&b, "d41d8cd98f00b204e9800998ecf8427e")->type, IOC_MD5);
    assert_int_equal(find_value(&b, "da39a3ee5e6b4b0d3255bfef95601890afd80709")->type, IOC_SHA1);
    assert_int_equal(
        find_value(&b, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")->type,
        IOC_SHA256);
    assert_int_equal(find_value(&b, "invoice.tar")->type, IOC_FILENAME); /* \x2e undone */
    assert_int_equal(find_value(&b, "python-requests/2.31.0")->type, IOC_USER_AGENT);
    /* the second #fields block: CIF confidence (0..10 scaled) and tags */
    c = find_value(&b, "198.51.100.200");
    assert_non_null(c);
    assert_int_equal(b.metas[c->meta].confidence, 80);
    assert_string_equal(b.metas[c->meta].labels_json, "[\"scanner\",\"bruteforce\"]");
    assert_string_equal(b.metas[c->meta].feed, "cif-feed");
    c = find_value(&b, "198.51.100.201");
    assert_int_equal(b.metas[c->meta].confidence, 85);
    assert_string_equal(b.metas[c->meta].feed, "feed"); /* the file's name */
    /* lines that share metadata share the record */
    assert_int_equal(find_value(&b, "203.0.113.64/28")->meta,
                     find_value(&b, "2001:db8:bad::/48")->meta);
    /* every problem at its line, with its reason */
    const char *f = "feed.intel";
    assert_non_null(strstr(problem_at(&b, f, 16), "USER_NAME is not matched"));
    assert_non_null(strstr(problem_at(&b, f, 17), "999.1.1.1"));
    assert_non_null(strstr(problem_at(&b, f, 18), "prefix length"));
    assert_non_null(strstr(problem_at(&b, f, 19), "6 characters"));
    assert_non_null(strstr(problem_at(&b, f, 20), "3 columns where the #fields line names 6"));
    assert_non_null(strstr(problem_at(&b, f, 21), "no indicator"));
    assert_non_null(strstr(problem_at(&b, f, 22), "cut short"));
    assert_non_null(strstr(problem_at(&b, f, 23), "domain"));
    assert_non_null(strstr(problem_at(&b, f, 24), "unknown indicator type 'Intel::MYSTERY'"));
    assert_null(problem_at(&b, f, 3));
    assert_int_equal(reason_count(&st, "invalid ip"), 2);
    assert_int_equal(reason_count(&st, "indicator type kenchi does not match"), 1);
    assert_int_equal(reason_count(&st, "unknown indicator type"), 1);
    assert_int_equal(reason_count(&st, "wrong number of columns"), 1);
    assert_int_equal(reason_count(&st, "hash of the wrong length"), 1);
    assert_int_equal(reason_count(&st, "value cut short by the feed"), 1);
    assert_int_equal(reason_count(&st, "invalid domain"), 1);
    assert_int_equal(reason_count(&st, "empty value"), 1);
    ioc_batch_free(&b);
}

static void test_csv(void **state)
{
    (void)state;
    struct intel_read_stats st;
    memset(&st, 0, sizeof(st));
    struct intel_read_opts o;
    intel_read_opts_default(&o);
    o.stats = &st;
    struct ioc_batch b;
    assert_int_equal(intel_read_path(fixture("feed.csv"), &o, &b), 0);
    assert_string_equal(b.format, "csv");
    assert_int_equal(b.niocs, 6);
    assert_int_equal(st.skipped, 2);
    const struct ioc *c = find_value(&b, "203.0.113.66");
    assert_non_null(c);
    const struct ioc_meta *m = &b.metas[c->meta];
    assert_string_equal(m->feed, "partner-csv");
    assert_string_equal(m->name, "Spraying, round 1");
    assert_int_equal(m->confidence, 90);
    assert_int_equal(m->tlp, TLP_AMBER);
    assert_int_equal(m->valid_from, time_from_utc(2024, 3, 1, 0, 0, 0, 0));
    assert_int_equal(m->valid_until, time_from_utc(2024, 4, 1, 0, 0, 0, 0));
    assert_string_equal(m->labels_json, "[\"spray\",\"imap\"]");
    assert_string_equal(m->related_json, "[\"APT-Example\"]");
    assert_true(c->detect);
    m = &b.metas[find_value(&b, "evil.example")->meta];
    assert_string_equal(m->name, "A \"quoted\" name");
    assert_int_equal(m->tlp, TLP_GREEN);
    /* a quoted field across two lines */
    m = &b.metas[find_value(&b, "multi.example")->meta];
    assert_string_equal(m->name, "two\nlines");
    assert_int_equal(m->confidence, 50);
    assert_true(b.metas[find_value(&b, "old.example")->meta].revoked);
    assert_false(find_value(&b, "quiet.example")->detect);
    /* bad metadata is reported, the indicator kept */
    c = find_value(&b, "8.8.8.8");
    assert_non_null(c);
    assert_int_equal(b.metas[c->meta].confidence, -1);
    assert_int_equal(b.metas[c->meta].tlp, TLP_UNMARKED);
    assert_int_equal(reason_count(&st, "no type"), 1);
    assert_int_equal(reason_count(&st, "indicator type kenchi does not match"), 1);
    assert_non_null(strstr(problem_at(&b, "feed.csv", 9), "no type"));
    assert_non_null(problem_at(&b, "feed.csv", 10));
    assert_non_null(strstr(problem_at(&b, "feed.csv", 11), "sha512"));
    ioc_batch_free(&b);

    /* no type column: the declared type; ';' as the separator */
    o.type = IOC_DOMAIN;
    assert_int_equal(intel_read_path(fixture("semicolon.csv"), &o, &b), 0);
    assert_string_equal(b.format, "csv");
    assert_int_equal(b.niocs, 2);
    assert_non_null(find_value(&b, "sub.evil.example"));
    assert_string_equal(b.metas[b.iocs[0].meta].name, "one");
    ioc_batch_free(&b);
}

static void test_list(void **state)
{
    (void)state;
    struct intel_read_stats st;
    memset(&st, 0, sizeof(st));
    struct intel_read_opts o;
    intel_read_opts_default(&o);
    o.stats = &st;
    struct ioc_batch b;
    /* without a type: refused, with the reason */
    assert_int_equal(intel_read_path(fixture("domains.txt"), &o, &b), -EINVAL);
    assert_int_equal(b.niocs, 0);
    assert_non_null(strstr(b.problems[0].why, "--intel-type"));
    ioc_batch_free(&b);
    o.type = IOC_DOMAIN;
    assert_int_equal(intel_read_path(fixture("domains.txt"), &o, &b), 0);
    assert_string_equal(b.format, "list");
    assert_int_equal(b.niocs, 4);
    assert_non_null(find_value(&b, "spaced.example"));
    assert_non_null(find_value(&b, "trailing.example"));
    assert_non_null(find_value(&b, "defanged.example"));
    assert_string_equal(b.metas[0].feed, "domains");
    assert_non_null(problem_at(&b, "domains.txt", 7));
    assert_int_equal(reason_count(&st, "invalid domain"), 1);
    ioc_batch_free(&b);
}

static void test_limits(void **state)
{
    (void)state;
    char path[] = "/tmp/kenchi-intel-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("a.example\n", f);
    for (int i = 0; i < 300; i++)
        fputc('x', f);
    fputs(".example\nb.example\nc.example\nd.example\n", f);
    fclose(f);
    struct intel_read_stats st;
    memset(&st, 0, sizeof(st));
    struct intel_read_opts o;
    intel_read_opts_default(&o);
    o.stats = &st;
    o.format = "list";
    o.type = IOC_DOMAIN;
    o.max_line = 100;
    o.max_indicators = 2;
    struct ioc_batch b;
    assert_int_equal(intel_read_path(path, &o, &b), 0);
    assert_int_equal(b.niocs, 2); /* a and b; c and d over the limit */
    assert_non_null(strstr(problem_at(&b, path, 2), "longer than 100 bytes"));
    assert_non_null(strstr(problem_at(&b, path, 4), "more than 2 indicators"));
    assert_int_equal(reason_count(&st, "line longer than the limit"), 1);
    assert_int_equal(reason_count(&st, "over the indicator limit"), 2);
    ioc_batch_free(&b);
    unlink(path);
}

struct chunks {
    size_t calls, iocs, problems;
    bool feed_ok;
};

static int on_chunk(void *opaque, struct ioc_batch *b)
{
    struct chunks *k = opaque;
    k->calls++;
    k->iocs += b->niocs;
    k->problems += b->nproblems;
    for (size_t i = 0; i < b->niocs; i++)
        k->feed_ok &= !strcmp(b->metas[b->iocs[i].meta].feed, "partner");
    return 0;
}

/* A long list handed over in chunks: every indicator once, the metadata
 * kept across chunks, problems handed over once. */
static void test_chunks(void **state)
{
    (void)state;
    char path[] = "/tmp/kenchi-intel-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("value,source\n", f);
    for (int i = 0; i < 20; i++)
        fprintf(f, "d%d.example,partner\n", i);
    fputs("not a domain!,partner\n", f);
    fclose(f);
    struct chunks k = {.feed_ok = true};
    struct intel_read_opts o;
    intel_read_opts_default(&o);
    o.type = IOC_DOMAIN;
    o.chunk = 8;
    o.chunk_fn = on_chunk;
    o.chunk_opaque = &k;
    struct ioc_batch b;
    assert_int_equal(intel_read_path(path, &o, &b), 0);
    assert_int_equal(k.calls, 2);
    assert_int_equal(k.iocs, 16);
    assert_int_equal(b.niocs, 4);
    assert_int_equal(b.nmetas, 1);
    assert_string_equal(b.metas[b.iocs[0].meta].feed, "partner");
    assert_true(k.feed_ok);
    assert_int_equal(k.problems + b.nproblems, 1);
    ioc_batch_free(&b);
    unlink(path);
}

static void test_sniff(void **state)
{
    (void)state;
    const char *zeek = "#fields\tindicator\tindicator_type\tmeta.source\n1.2.3.4\tIntel::ADDR\tx\n";
    const char *csv = "# c\nIndicator,Type\n1.2.3.4,ip\n";
    const char *list = "1.2.3.4\n5.6.7.8\n";
    assert_int_equal(intel_zeek_sniff(zeek, strlen(zeek), "x"), 3);
    assert_int_equal(intel_csv_sniff(zeek, strlen(zeek), "x"), 0);
    assert_int_equal(intel_csv_sniff(csv, strlen(csv), "x"), 2);
    assert_int_equal(intel_zeek_sniff(csv, strlen(csv), "x"), 0);
    assert_int_equal(intel_list_sniff(list, strlen(list), "x"), 1);
    assert_int_equal(intel_csv_sniff(list, strlen(list), "x"), 0);
    assert_int_equal(intel_list_sniff("{\"type\":\"bundle\"}", 17, "x"), 0);
    /* a Zeek log is not an intel file */
    const char *log = "#separator \\x09\n#fields\tts\tuid\tid.orig_h\n";
    assert_int_equal(intel_zeek_sniff(log, strlen(log), "x"), 0);
}

static int count_batch(void *opaque, struct ioc_batch *b, int rc)
{
    size_t *n = opaque;
    (void)rc;
    n[0]++;
    n[1] += b->niocs;
    return 0;
}

static void test_tree(void **state)
{
    (void)state;
    struct intel_read_stats st;
    memset(&st, 0, sizeof(st));
    struct intel_read_opts o;
    intel_read_opts_default(&o);
    o.stats = &st;
    size_t n[2] = {0, 0};
    /* without a type: feed.intel, feed.csv, semicolon.csv (its rows
     * refused: no type); domains.txt is skipped */
    assert_int_equal(intel_read_tree(fixture(""), &o, count_batch, n), 0);
    assert_int_equal(n[0], 3);
    assert_int_equal(n[1], 15 + 6);
    assert_int_equal(st.files_skipped, 1);
    /* with a type, the .txt list is read too */
    memset(&st, 0, sizeof(st));
    o.type = IOC_DOMAIN;
    n[0] = n[1] = 0;
    assert_int_equal(intel_read_tree(fixture(""), &o, count_batch, n), 0);
    assert_int_equal(n[0], 4);
    /* feed.csv's row without a type is read as a domain too */
    assert_int_equal(n[1], 15 + 7 + 2 + 4);
    assert_int_equal(intel_read_tree("/nonexistent/kenchi", &o, count_batch, n), -ENOENT);
}

static void test_type_names(void **state)
{
    (void)state;
    bool u;
    assert_int_equal(intel_type_by_name("Intel::ADDR", 11, &u), IOC_IP);
    assert_false(u);
    assert_int_equal(intel_type_by_name("ip-dst", 6, &u), IOC_IP);
    assert_int_equal(intel_type_by_name("hostname", 8, &u), IOC_DOMAIN);
    assert_int_equal(intel_type_by_name("FILE_HASH", 9, &u), INTEL_TYPE_HASH);
    assert_int_equal(intel_type_by_name("Intel::CERT_HASH", 16, &u), INTEL_TYPE_NONE);
    assert_true(u);
    assert_int_equal(intel_type_by_name("nonsense", 8, &u), INTEL_TYPE_NONE);
    assert_false(u);
    char buf[64];
    assert_string_equal(intel_read_feed_name("a/b/tor-exit.intel.gz", buf, sizeof(buf)),
                        "tor-exit");
    assert_string_equal(intel_read_feed_name("-", buf, sizeof(buf)), "stdin");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zeek),       cmocka_unit_test(test_csv),
        cmocka_unit_test(test_list),       cmocka_unit_test(test_limits),
        cmocka_unit_test(test_sniff),      cmocka_unit_test(test_tree),
        cmocka_unit_test(test_type_names), cmocka_unit_test(test_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
