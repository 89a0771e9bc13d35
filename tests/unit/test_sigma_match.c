/* Unit tests for the Sigma engine: wildcards and escapes, every value
 * modifier, keywords, null/empty/exists, JSON arrays, field mappings and
 * filters, evaluated against hand-built events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "detect/sigma.h"
#include "util/arena.h"

static char mapping_path[64];

static const char mapping[] = "logsources:\n"
                              "  - rule: {product: test}\n"
                              "    events: {logsource.product: test}\n"
                              "  - rule: {product: test, category: proc}\n"
                              "    events: {logsource.product: test, EventID: 1}\n"
                              "  - rule: {product: test, category: proc}\n"
                              "    events: {logsource.product: test, EventID: 4688}\n"
                              "    fieldmappings: {Image: NewProcessName}\n";

static int setup(void **state)
{
    (void)state;
    strcpy(mapping_path, "/tmp/kenchi-ls-XXXXXX");
    int fd = mkstemp(mapping_path);
    if (fd < 0)
        return -1;
    if (write(fd, mapping, sizeof(mapping) - 1) != (ssize_t)(sizeof(mapping) - 1))
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(mapping_path);
    return 0;
}

static struct sigma_set *load_text(const char *text)
{
    struct sigma_opts o = {mapping_path, NULL};
    struct sigma_set *s;
    if (sigma_set_new(&o, &s, stderr))
        return NULL;
    sigma_set_load_text(s, "t.yml", text, strlen(text));
    sigma_set_finish(s);
    return s;
}

static int count_cb(void *opaque, const struct sigma_rule *r, const struct event *ev,
                    const struct sigma_hit_field *f, size_t nf)
{
    (void)r;
    (void)ev;
    (void)f;
    (void)nf;
    (*(int *)opaque)++;
    return 0;
}

/* Build an event of product "test" from key, value pairs (NULL-ended); a
 * value starting with "[" is stored as a JSON array; "\x01null" as null. */
static void build(struct event *ev, struct arena *a, va_list ap)
{
    event_init(ev, a);
    ev->ls.product = "test";
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        enum value_type t = VT_STRING;
        if (v[0] == '[')
            t = VT_JSON;
        if (!strcmp(v, "\x01null")) {
            t = VT_NULL;
            v = "";
        }
        event_add_copy(ev, k, v, strlen(v), t);
    }
}

/* Number of matches of the rule whose detection (flow YAML) is det. */
static int run(const char *det, ...)
{
    char text[4096];
    snprintf(text, sizeof(text), "title: t\nlogsource: {product: test}\ndetection: %s\n", det);
    struct sigma_set *s = load_text(text);
    if (!s)
        return -100;
    struct sigma_counts c;
    sigma_set_counts(s, &c);
    if (c.rules != 1) {
        size_t n;
        const struct sigma_diag *d = sigma_set_diags(s, &n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "# %u:%u %s\n", d[i].line, d[i].col, d[i].msg);
        sigma_set_free(s);
        return -1;
    }
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    va_list ap;
    va_start(ap, det);
    build(&ev, &a, ap);
    va_end(ap);
    struct sigma_matcher *m = sigma_matcher_new(s);
    int hits = 0;
    sigma_match(m, &ev, count_cb, &hits);
    sigma_matcher_free(m);
    arena_free(&a);
    sigma_set_free(s);
    return hits;
}

/* The refusal message of a rule (or "" if it loads). */
static const char *refusal(const char *text, unsigned *line, unsigned *col)
{
    static char msg[1024];
    msg[0] = '\0';
    struct sigma_set *s = load_text(text);
    size_t n;
    const struct sigma_diag *d = sigma_set_diags(s, &n);
    for (size_t i = 0; i < n; i++) {
        if (d[i].kind == SIGMA_REFUSED) {
            snprintf(msg, sizeof(msg), "%s", d[i].msg);
            if (line)
                *line = d[i].line;
            if (col)
                *col = d[i].col;
            break;
        }
    }
    sigma_set_free(s);
    return msg;
}

#define DET(x) "{sel: " x ", condition: sel}"

static void test_plain_and_case(void **state)
{
    (void)state;
    assert_int_equal(run(DET("{A: foo}"), "A", "foo", NULL), 1);
    assert_int_equal(run(DET("{A: foo}"), "A", "FOO", NULL), 1);
    assert_int_equal(run(DET("{A: foo}"), "A", "foox", NULL), 0);
    assert_int_equal(run(DET("{A: foo}"), "B", "foo", NULL), 0);
    assert_int_equal(run(DET("{a: foo}"), "A", "foo", NULL), 1); /* field names too */
    assert_int_equal(run(DET("{ThreatName: x}"), "Threat Name", "x", NULL), 1); /* no spaces */
    assert_int_equal(run(DET("{ThreatName: x}"), "Threat Names", "x", NULL), 0);
    assert_int_equal(run(DET("{A|cased: Foo}"), "A", "foo", NULL), 0);
    assert_int_equal(run(DET("{A|cased: Foo}"), "A", "Foo", NULL), 1);
    assert_int_equal(run(DET("{EventID: 4688}"), "EventID", "4688", NULL), 1);
    assert_int_equal(run(DET("{EventID: 4688}"), "EventID", "4689", NULL), 0);
    assert_int_equal(run(DET("{N: 16}"), "N", "0x10", NULL), 1);   /* numbers compare */
    assert_int_equal(run(DET("{N: 16}"), "N", "16.0", NULL), 1);   /* as numbers */
    assert_int_equal(run(DET("{N: '16'}"), "N", "0x10", NULL), 0); /* strings do not */
    assert_int_equal(run(DET("{A: [x, y, foo]}"), "A", "foo", NULL), 1);
    assert_int_equal(run(DET("{A: foo, B: bar}"), "A", "foo", "B", "bar", NULL), 1);
    assert_int_equal(run(DET("{A: foo, B: bar}"), "A", "foo", "B", "baz", NULL), 0);
    assert_int_equal(run(DET("[{A: foo}, {B: bar}]"), "B", "bar", NULL), 1);
}

/* Case-insensitive matching folds the two-byte UTF-8 letters (Latin-1,
 * Latin Extended, Greek, Cyrillic, Armenian) like ASCII, in every kind of
 * string comparison; |cased stays exact; nothing beyond simple folding. */
static void test_unicode_case(void **state)
{
    (void)state;
    /* exact, both ways */
    assert_int_equal(run(DET("{A: \"\u00c4RGER\"}"), "A", "\xc3\xa4rger", NULL), 1);
    assert_int_equal(run(DET("{A: \"\u00e4rger\"}"), "A", "\xc3\x84RGER", NULL), 1);
    assert_int_equal(run(DET("{A: \"\u00e4rger\"}"), "A", "\xc3\x84RGERN", NULL), 0);
    /* Cyrillic: contains, startswith, endswith, in a JSON array */
    assert_int_equal(
        run(DET("{A|contains: '\xd0\x9f\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c'}"), "A",
            "\xd0\xbc\xd0\xbe\xd0\xb9 \xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c: 1", NULL),
        1); /* Пароль in "мой пароль: 1" */
    assert_int_equal(run(DET("{A|contains: '\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c'}"),
                         "A", "\xd0\x9f\xd0\x90\xd0\xa0\xd0\x9e\xd0\x9b\xd0\xac", NULL),
                     1); /* пароль in ПАРОЛЬ */
    assert_int_equal(run(DET("{A|startswith: '\xd0\x9f\xd0\xb0\xd1\x80'}"), "A",
                         "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c", NULL),
                     1);
    assert_int_equal(run(DET("{A|endswith: '\xd0\xbe\xd0\xbb\xd1\x8c'}"), "A",
                         "\xd0\x9f\xd0\x90\xd0\xa0\xd0\x9e\xd0\x9b\xd0\xac", NULL),
                     1);
    assert_int_equal(run(DET("{A: '\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c'}"), "A",
                         "[\"x\", \"\xd0\x9f\xd0\x90\xd0\xa0\xd0\x9e\xd0\x9b\xd0\xac\"]", NULL),
                     1);
    /* Greek: final sigma and capital sigma fold to sigma; tonos letters */
    assert_int_equal(run(DET("{A|endswith: '\xce\x86\xce\xa3'}"), "A",
                         "\xce\xb5\xce\xbb\xce\xbb\xce\xac\xcf\x82", NULL),
                     1); /* ΆΣ ends ελλάς */
    /* wildcards: '?' is one character, '*' any run */
    assert_int_equal(run(DET("{A: '\xd0\xbf?\xd1\x80\xd0\xbe*'}"), "A",
                         "\xd0\x9f\xd0\x90\xd0\xa0\xd0\x9e\xd0\x9b\xd0\xac", NULL),
                     1);
    assert_int_equal(run(DET("{A: '*\xc3\x96L*'}"), "A", "c:\\\xc3\xb6l\\x", NULL), 1);
    /* keywords, field references */
    assert_int_equal(
        run("{kw: ['\xc3\xa4rger'], condition: kw}", "X", "GRO\xc3\x9f \xc3\x84RGER", NULL), 1);
    assert_int_equal(run(DET("{A|fieldref: B}"), "A", "\xc3\x84rger", "B", "\xc3\xa4RGER", NULL),
                     1);
    assert_int_equal(
        run(DET("{A|fieldref|cased: B}"), "A", "\xc3\x84rger", "B", "\xc3\xa4rger", NULL), 0);
    /* |cased stays exact */
    assert_int_equal(run(DET("{A|cased: '\xd0\x9f\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c'}"), "A",
                         "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c", NULL),
                     0);
    assert_int_equal(run(DET("{A|cased: '\xd0\x9f\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c'}"), "A",
                         "\xd0\x9f\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c", NULL),
                     1);
    assert_int_equal(run(DET("{A|contains|cased: '\xc3\x84'}"), "A", "x\xc3\xa4x", NULL), 0);
    /* simple folding only: sharp s is not "ss"; three-byte letters are left */
    assert_int_equal(run(DET("{A: 'stra\xc3\x9f\x65'}"), "A", "STRASSE", NULL), 0);
    assert_int_equal(run(DET("{A: 'stra\xc3\x9f\x65'}"), "A", "STRA\xc3\x9f\x45", NULL), 1);
    assert_int_equal(run(DET("{A: '\xef\xbd\x81'}"), "A", "\xef\xbc\xa1", NULL), 0); /* fullwidth */
    /* caseless regexes fold Unicode too (PCRE2) */
    assert_int_equal(run(DET("{A|re|i: '\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c'}"), "A",
                         "\xd0\x9f\xd0\x90\xd0\xa0\xd0\x9e\xd0\x9b\xd0\xac", NULL),
                     1);
    assert_int_equal(run(DET("{A|re: '\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c'}"), "A",
                         "\xd0\x9f\xd0\x90\xd0\xa0\xd0\x9e\xd0\x9b\xd0\xac", NULL),
                     0);
}

static void test_wildcards_and_escapes(void **state)
{
    (void)state;
    assert_int_equal(run(DET("{A: 'foo*'}"), "A", "foobar", NULL), 1);
    assert_int_equal(run(DET("{A: '*bar'}"), "A", "foobar", NULL), 1);
    assert_int_equal(run(DET("{A: '*ob*'}"), "A", "foobar", NULL), 1);
    assert_int_equal(run(DET("{A: 'f?o'}"), "A", "fao", NULL), 1);
    assert_int_equal(run(DET("{A: 'f?o'}"), "A", "fo", NULL), 0);
    assert_int_equal(run(DET("{A: 'f?o'}"), "A", "f\xc3\xa9o", NULL), 1); /* ? = one UTF-8 char */
    assert_int_equal(run(DET("{A: 'a*b*c'}"), "A", "aXXbYYbZc", NULL), 1);
    assert_int_equal(run(DET("{A: 'a*b*c'}"), "A", "aXXbYYbZ", NULL), 0);
    /* \* and \? are literal */
    assert_int_equal(run(DET("{A: 'foo\\*'}"), "A", "foo*", NULL), 1);
    assert_int_equal(run(DET("{A: 'foo\\*'}"), "A", "foobar", NULL), 0);
    assert_int_equal(run(DET("{A: 'wh\\?'}"), "A", "wh?", NULL), 1);
    assert_int_equal(run(DET("{A: 'wh\\?'}"), "A", "why", NULL), 0);
    /* a plain backslash, single or doubled, is one backslash */
    assert_int_equal(run(DET("{A: 'C:\\Windows'}"), "A", "C:\\Windows", NULL), 1);
    assert_int_equal(run(DET("{A: 'C:\\\\Windows'}"), "A", "C:\\Windows", NULL), 1);
    /* \\* is a backslash followed by a wildcard */
    assert_int_equal(run(DET("{A: 'dir\\\\*'}"), "A", "dir\\file", NULL), 1);
    /* \\\* is a backslash and a literal star */
    assert_int_equal(run(DET("{A: 'dir\\\\\\*'}"), "A", "dir\\*", NULL), 1);
    assert_int_equal(run(DET("{A: 'dir\\\\\\*'}"), "A", "dir\\file", NULL), 0);
    /* \\\\ is two backslashes */
    assert_int_equal(run(DET("{A: 'a\\\\\\\\b'}"), "A", "a\\\\b", NULL), 1);
    assert_int_equal(run(DET("{A: 'a\\\\\\\\b'}"), "A", "a\\b", NULL), 0);
}

static void test_string_modifiers(void **state)
{
    (void)state;
    assert_int_equal(run(DET("{A|contains: OB}"), "A", "foobar", NULL), 1);
    assert_int_equal(run(DET("{A|startswith: foo}"), "A", "foobar", NULL), 1);
    assert_int_equal(run(DET("{A|startswith: bar}"), "A", "foobar", NULL), 0);
    assert_int_equal(run(DET("{A|endswith: bar}"), "A", "foobar", NULL), 1);
    assert_int_equal(run(DET("{A|endswith: foo}"), "A", "foobar", NULL), 0);
    assert_int_equal(run(DET("{A|contains|all: [foo, bar]}"), "A", "foo-bar", NULL), 1);
    assert_int_equal(run(DET("{A|contains|all: [foo, baz]}"), "A", "foo-bar", NULL), 0);
    assert_int_equal(run(DET("{A|contains|cased: Foo}"), "A", "xfoo", NULL), 0);
    assert_int_equal(run(DET("{A|contains: 'a*c'}"), "A", "xxabbbcxx", NULL), 1);
    /* windash: a dash or slash starting a word takes any of five dashes */
    assert_int_equal(run(DET("{A|windash|contains: ' -enc '}"), "A", "ps /enc x", NULL), 1);
    assert_int_equal(run(DET("{A|windash|contains: ' -enc '}"), "A",
                         "ps \xe2\x80\x93"
                         "enc x",
                         NULL),
                     1);
    assert_int_equal(run(DET("{A|windash|contains: ' -enc '}"), "A", "ps -enc x", NULL), 1);
    assert_int_equal(run(DET("{A|windash|contains: ' -enc '}"), "A", "ps +enc x", NULL), 0);
    /* a dash inside a word is not a flag */
    assert_int_equal(run(DET("{A|windash: 'a-b'}"), "A", "a/b", NULL), 0);
    assert_int_equal(run(DET("{A|neq: foo}"), "A", "bar", NULL), 1);
    assert_int_equal(run(DET("{A|neq: foo}"), "A", "FOO", NULL), 0);
    assert_int_equal(run(DET("{A|neq: [foo, bar]}"), "A", "bar", NULL), 0);
    assert_int_equal(run(DET("{A|neq: foo}"), "B", "x", NULL), 0); /* absent: no */
}

static void test_regex(void **state)
{
    (void)state;
    assert_int_equal(run(DET("{A|re: '^fo+b'}"), "A", "fooobar", NULL), 1);
    assert_int_equal(run(DET("{A|re: '^FO+B'}"), "A", "fooobar", NULL), 0); /* case-sensitive */
    assert_int_equal(run(DET("{A|re|i: '^FO+B'}"), "A", "fooobar", NULL), 1);
    assert_int_equal(run(DET("{A|re: '^b.r$'}"), "A", "foo\nbar", NULL), 0);
    assert_int_equal(run(DET("{A|re|m: '^b.r$'}"), "A", "foo\nbar", NULL), 1);
    assert_int_equal(run(DET("{A|re: 'o.b'}"), "A", "foo\nbar", NULL), 0);
    assert_int_equal(run(DET("{A|re|s: 'o.b'}"), "A", "foo\nbar", NULL), 1);
    unsigned line = 0, col = 0;
    const char *m = refusal("title: t\nlogsource: {product: test}\ndetection:\n  sel:\n"
                            "    A|re: '(a+)+$'\n  condition: sel\n",
                            &line, &col);
    assert_non_null(strstr(m, "catastrophically"));
    assert_int_equal(line, 5);
    assert_int_equal(col, 11);
    m = refusal("title: t\nlogsource: {product: test}\ndetection:\n  sel:\n"
                "    A|re: 'a(b'\n  condition: sel\n",
                &line, &col);
    assert_non_null(strstr(m, "invalid regular expression"));
    assert_int_equal(line, 5);
}

static void test_encodings(void **state)
{
    (void)state;
    /* base64("cmd") = "Y21k" */
    assert_int_equal(run(DET("{A|base64: cmd}"), "A", "Y21k", NULL), 1);
    assert_int_equal(run(DET("{A|base64|contains: cmd}"), "A", "xxY21kxx", NULL), 1);
    /* base64offset: "cmd" at any of three alignments inside a longer text */
    const char *enc[] = {"Y21kIC9j",  /* "cmd /c" */
                         "eGNtZCAv",  /* "xcmd /" */
                         "eHhjbWQg"}; /* "xxcmd " */
    for (int i = 0; i < 3; i++)
        assert_int_equal(run(DET("{A|base64offset|contains: cmd}"), "A", enc[i], NULL), 1);
    assert_int_equal(run(DET("{A|base64offset|contains: cmd}"), "A", "aGVsbG8=", NULL), 0);
    /* utf16le("ab") base64 = "YQBiAA==" */
    assert_int_equal(run(DET("{A|utf16le|base64: ab}"), "A", "YQBiAA==", NULL), 1);
    assert_int_equal(run(DET("{A|wide|base64: ab}"), "A", "YQBiAA==", NULL), 1);
    /* utf16be("ab") = 00 61 00 62 -> "AGEAYg==" */
    assert_int_equal(run(DET("{A|utf16be|base64: ab}"), "A", "AGEAYg==", NULL), 1);
    /* utf16: BOM FF FE then LE: ff fe 61 00 62 00 -> "//5hAGIA" */
    assert_int_equal(run(DET("{A|utf16|base64: ab}"), "A", "//5hAGIA", NULL), 1);
    assert_int_equal(run(DET("{A|base64|cased: cmd}"), "A", "y21k", NULL), 0);
}

static void test_numeric_time_cidr(void **state)
{
    (void)state;
    assert_int_equal(run(DET("{N|gt: 10}"), "N", "11", NULL), 1);
    assert_int_equal(run(DET("{N|gt: 10}"), "N", "10", NULL), 0);
    assert_int_equal(run(DET("{N|gte: 10}"), "N", "10", NULL), 1);
    assert_int_equal(run(DET("{N|lt: 10}"), "N", "9.5", NULL), 1);
    assert_int_equal(run(DET("{N|lte: 10}"), "N", "11", NULL), 0);
    assert_int_equal(run(DET("{N|lt: 10}"), "N", "abc", NULL), 0);
    assert_int_equal(run(DET("{N|gt: 15}"), "N", "0x10", NULL), 1);
    assert_int_equal(run(DET("{T|hour: 3}"), "T", "2024-03-01T03:15:00Z", NULL), 1);
    assert_int_equal(run(DET("{T|hour: 3}"), "T", "2024-03-01T04:15:00Z", NULL), 0);
    assert_int_equal(run(DET("{T|minute: 15}"), "T", "2024-03-01 03:15:00", NULL), 1);
    assert_int_equal(run(DET("{T|day: 1}"), "T", "2024-03-01T03:15:00Z", NULL), 1);
    assert_int_equal(run(DET("{T|month: 3}"), "T", "2024-03-01T03:15:00Z", NULL), 1);
    assert_int_equal(run(DET("{T|year: 2024}"), "T", "2024-03-01T03:15:00Z", NULL), 1);
    assert_int_equal(run(DET("{T|week: 9}"), "T", "2024-03-01T03:15:00Z", NULL), 1);
    assert_int_equal(run(DET("{T|week: 1}"), "T", "2024-12-30T00:00:00Z", NULL), 1);
    assert_int_equal(run(DET("{T|hour|gte: 20}"), "T", "2024-03-01T22:00:00Z", NULL), 1);
    assert_int_equal(run(DET("{IP|cidr: 10.0.0.0/8}"), "IP", "10.20.30.40", NULL), 1);
    assert_int_equal(run(DET("{IP|cidr: 10.0.0.0/8}"), "IP", "11.0.0.1", NULL), 0);
    assert_int_equal(run(DET("{IP|cidr: 192.168.1.0/25}"), "IP", "192.168.1.127", NULL), 1);
    assert_int_equal(run(DET("{IP|cidr: 192.168.1.0/25}"), "IP", "192.168.1.128", NULL), 0);
    assert_int_equal(run(DET("{IP|cidr: 'fe80::/10'}"), "IP", "fe80::1", NULL), 1);
    assert_int_equal(run(DET("{IP|cidr: 'fe80::/10'}"), "IP", "2001:db8::1", NULL), 0);
    assert_int_equal(run(DET("{IP|cidr: 10.0.0.0/8}"), "IP", "::ffff:10.1.2.3", NULL), 1);
    assert_int_equal(run(DET("{IP|cidr: 10.0.0.0/8}"), "IP", "not an ip", NULL), 0);
}

static void test_null_empty_exists_fieldref(void **state)
{
    (void)state;
    assert_int_equal(run(DET("{A: null}"), "B", "x", NULL), 1);
    assert_int_equal(run(DET("{A: null}"), "A", "\x01null", NULL), 1);
    assert_int_equal(run(DET("{A: null}"), "A", "x", NULL), 0);
    assert_int_equal(run(DET("{A: ''}"), "A", "", NULL), 1);
    assert_int_equal(run(DET("{A: ''}"), "A", "x", NULL), 0);
    assert_int_equal(run(DET("{A: ''}"), "B", "", NULL), 0);
    assert_int_equal(run(DET("{A|exists: true}"), "A", "", NULL), 1);
    assert_int_equal(run(DET("{A|exists: true}"), "B", "", NULL), 0);
    assert_int_equal(run(DET("{A|exists: false}"), "B", "", NULL), 1);
    assert_int_equal(run(DET("{A|fieldref: B}"), "A", "x", "B", "X", NULL), 1);
    assert_int_equal(run(DET("{A|fieldref: B}"), "A", "x", "B", "y", NULL), 0);
    assert_int_equal(run(DET("{A|fieldref|cased: B}"), "A", "x", "B", "X", NULL), 0);
    assert_int_equal(run(DET("{A|fieldref|contains: B}"), "A", "xyz", "B", "y", NULL), 1);
    assert_int_equal(run(DET("{A|fieldref|neq: B}"), "A", "x", "B", "y", NULL), 1);
    assert_int_equal(run(DET("{A|fieldref: B}"), "A", "x", NULL), 0);
}

static void test_keywords_and_arrays(void **state)
{
    (void)state;
    assert_int_equal(run("{kw: [evil, bad], condition: kw}", "A", "an EVIL thing", NULL), 1);
    assert_int_equal(run("{kw: [evil, bad], condition: kw}", "A", "fine", NULL), 0);
    assert_int_equal(
        run("{kw: {'|all': [evil, thing]}, condition: kw}", "A", "evil", "B", "a thing", NULL), 1);
    assert_int_equal(run("{kw: {'|all': [evil, other]}, condition: kw}", "A", "evil thing", NULL),
                     0);
    assert_int_equal(run("{kw: 'ev*ng', condition: kw}", "A", "an evil thing", NULL), 1);
    /* JSON arrays: any element */
    assert_int_equal(run(DET("{A: b}"), "A", "[\"a\",\"b\"]", NULL), 1);
    assert_int_equal(run(DET("{A|endswith: '.exe'}"), "A", "[\"x.dll\",\"C:\\\\y.EXE\"]", NULL), 1);
    assert_int_equal(run(DET("{A: c}"), "A", "[\"a\",\"b\"]", NULL), 0);
    assert_int_equal(run(DET("{A: 3}"), "A", "[1, 2, 3]", NULL), 1);
}

static void test_expand(void **state)
{
    (void)state;
    char ph[] = "/tmp/kenchi-ph-XXXXXX";
    int fd = mkstemp(ph);
    const char *txt = "Admins: ['adm_*', root]\n";
    assert_int_equal(write(fd, txt, strlen(txt)), (ssize_t)strlen(txt));
    close(fd);
    const char *rule = "title: t\nlogsource: {product: test}\ndetection: "
                       "{sel: {U|expand: '%Admins%'}, condition: sel}\n";
    struct sigma_opts o = {mapping_path, ph};
    struct sigma_set *s;
    assert_int_equal(sigma_set_new(&o, &s, stderr), 0);
    sigma_set_load_text(s, "t.yml", rule, strlen(rule));
    sigma_set_finish(s);
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    event_init(&ev, &a);
    ev.ls.product = "test";
    event_add_copy(&ev, "U", "adm_bob", 7, VT_STRING);
    struct sigma_matcher *m = sigma_matcher_new(s);
    int hits = 0;
    sigma_match(m, &ev, count_cb, &hits);
    assert_int_equal(hits, 1);
    sigma_matcher_free(m);
    sigma_set_free(s);
    unlink(ph);
    /* without the placeholder: loaded, inactive, with the reason */
    s = load_text(rule);
    struct sigma_counts c;
    sigma_set_counts(s, &c);
    assert_int_equal(c.rules, 1);
    assert_int_equal(c.inactive, 1);
    struct sigma_rule_view v;
    sigma_rule_view(sigma_set_rule(s, 0), &v);
    assert_non_null(strstr(v.inactive_why, "%Admins%"));
    sigma_set_free(s);
    arena_free(&a);
}

static void test_fieldmapping_and_index(void **state)
{
    (void)state;
    const char *rule = "title: t\nlogsource: {product: test, category: proc}\ndetection: "
                       "{sel: {Image|endswith: '\\cmd.exe'}, condition: sel}\n";
    struct sigma_set *s = load_text(rule);
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    struct sigma_matcher *m = sigma_matcher_new(s);
    int hits = 0;
    /* EventID 1: Image */
    event_init(&ev, &a);
    ev.ls.product = "test";
    event_add_copy(&ev, "EventID", "1", 1, VT_NUMBER);
    event_add_copy(&ev, "Image", "C:\\cmd.exe", 10, VT_STRING);
    sigma_match(m, &ev, count_cb, &hits);
    assert_int_equal(hits, 1);
    /* EventID 4688: NewProcessName through the field mapping */
    event_init(&ev, &a);
    ev.ls.product = "test";
    event_add_copy(&ev, "EventID", "4688", 4, VT_NUMBER);
    event_add_copy(&ev, "NewProcessName", "C:\\cmd.exe", 10, VT_STRING);
    sigma_match(m, &ev, count_cb, &hits);
    assert_int_equal(hits, 2);
    /* event ids written otherwise are the same numbers (the entries are
     * found by a hash of the event id: its text, then its number) */
    event_init(&ev, &a);
    ev.ls.product = "test";
    event_add_copy(&ev, "EventID", "0x1", 3, VT_STRING);
    event_add_copy(&ev, "Image", "C:\\cmd.exe", 10, VT_STRING);
    sigma_match(m, &ev, count_cb, &hits);
    assert_int_equal(hits, 3);
    event_init(&ev, &a);
    ev.ls.product = "test";
    event_add_copy(&ev, "EventID", "4.688e3", 7, VT_STRING);
    event_add_copy(&ev, "NewProcessName", "C:\\cmd.exe", 10, VT_STRING);
    sigma_match(m, &ev, count_cb, &hits);
    assert_int_equal(hits, 4);
    /* another event id: not of the category, not tested */
    event_init(&ev, &a);
    ev.ls.product = "test";
    event_add_copy(&ev, "EventID", "3", 1, VT_NUMBER);
    event_add_copy(&ev, "Image", "C:\\cmd.exe", 10, VT_STRING);
    sigma_match(m, &ev, count_cb, &hits);
    assert_int_equal(hits, 4);
    /* "01" is the number 1 too */
    event_init(&ev, &a);
    ev.ls.product = "test";
    event_add_copy(&ev, "EventID", "01", 2, VT_STRING);
    event_add_copy(&ev, "Image", "C:\\cmd.exe", 10, VT_STRING);
    sigma_match(m, &ev, count_cb, &hits);
    assert_int_equal(hits, 5);
    struct sigma_match_stats st;
    sigma_matcher_stats(m, &st);
    assert_int_equal(st.rule_evals, 5);
    sigma_matcher_free(m);
    sigma_set_free(s);
    arena_free(&a);
}

static void test_filters(void **state)
{
    (void)state;
    const char *text = "title: r\nid: 11111111-1111-1111-1111-111111111111\n"
                       "logsource: {product: test}\n"
                       "detection: {sel: {A: x}, condition: sel}\n"
                       "---\n"
                       "title: f\nlogsource: {product: test}\n"
                       "filter:\n  rules: [11111111-1111-1111-1111-111111111111]\n"
                       "  selection: {U|startswith: adm_}\n  condition: not selection\n";
    struct sigma_set *s = load_text(text);
    struct sigma_counts c;
    sigma_set_counts(s, &c);
    assert_int_equal(c.rules, 1);
    assert_int_equal(c.filters, 1);
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    struct sigma_matcher *m = sigma_matcher_new(s);
    int hits = 0;
    event_init(&ev, &a);
    ev.ls.product = "test";
    event_add_copy(&ev, "A", "x", 1, VT_STRING);
    event_add_copy(&ev, "U", "adm_bob", 7, VT_STRING);
    sigma_match(m, &ev, count_cb, &hits);
    assert_int_equal(hits, 0);
    event_init(&ev, &a);
    ev.ls.product = "test";
    event_add_copy(&ev, "A", "x", 1, VT_STRING);
    event_add_copy(&ev, "U", "bob", 3, VT_STRING);
    sigma_match(m, &ev, count_cb, &hits);
    assert_int_equal(hits, 1);
    sigma_matcher_free(m);
    sigma_set_free(s);
    arena_free(&a);
}

static void test_documents(void **state)
{
    (void)state;
    const char *text = "title: a\nname: a\nlogsource: {product: test}\ndetection: {s: {A: x}, "
                       "condition: s}\n---\n"
                       "title: broken\nlogsource: {product: test}\ndetection: {s: {A|nope: x}, "
                       "condition: s}\n---\n"
                       "title: corr\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                       "  group-by: [A]\n  timespan: 5m\n  condition: {gte: 3}\n---\n"
                       "title: never\nlogsource: {product: nothing}\ndetection: {s: {A: x}, "
                       "condition: s}\n";
    struct sigma_set *s = load_text(text);
    struct sigma_counts c;
    sigma_set_counts(s, &c);
    assert_int_equal(c.rules, 2);
    assert_int_equal(c.active, 1);
    assert_int_equal(c.inactive, 1);
    assert_int_equal(c.correlations, 1);
    assert_int_equal(c.refused, 1);
    size_t n;
    const struct sigma_diag *d = sigma_set_diags(s, &n);
    assert_int_equal(n, 1); /* the correlation names rule 'a', which is loaded */
    assert_int_equal(d[0].line, 8);
    assert_non_null(strstr(d[0].msg, "unknown modifier 'nope'"));
    sigma_set_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_case),
        cmocka_unit_test(test_wildcards_and_escapes),
        cmocka_unit_test(test_unicode_case),
        cmocka_unit_test(test_string_modifiers),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_numeric_time_cidr),
        cmocka_unit_test(test_null_empty_exists_fieldref),
        cmocka_unit_test(test_keywords_and_arrays),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_fieldmapping_and_index),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_documents),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
