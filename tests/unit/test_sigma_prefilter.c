/* Unit tests for the Sigma prefilter: rules whose conditions mix
 * and / or / not, N-of, |all, globs, windash, regexes (with their literals,
 * caseless with Unicode folding, alternatives at the top level and inside
 * groups, escapes), numbers, |cased, exact values looked up by field (as
 * text and as numbers, in JSON arrays, on a field that a log source entry
 * renames), two-byte literals, keywords and JSON arrays with escapes,
 * non-ASCII values in other cases (folded atoms, folded event values), and a
 * rule let through by a common literal whose other values are absent,
 * matched against hand-built events with the prefilter on and off: the rules
 * that match must be the same, the expected ones must match, and with
 * Hyperscan built in the prefilter must actually skip rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "detect/sigma-model.h"
#include "detect/sigma-prefilter.h"
#include "detect/sigma.h"
#include "util/arena.h"

static char mapping_path[64];

static const char mapping[] = "logsources:\n"
                              "  - rule: {product: test}\n"
                              "    events: {logsource.product: test}\n"
                              "  - rule: {product: test}\n"
                              "    events: {logsource.product: test, Kind: mapped}\n"
                              "    fieldmappings: {Image: NewImage}\n";

static const char rules[] =
    "title: and-not\nlogsource: {product: test}\ndetection:\n"
    "  sel: {Image|endswith: '\\evil.exe'}\n  filter: {CommandLine|contains: 'harmless'}\n"
    "  condition: sel and not filter\n---\n"
    "title: or-regex\nlogsource: {product: test}\ndetection:\n"
    "  sel1: {CommandLine|contains: 'mimikatz'}\n  sel2: {CommandLine|re: 'in[v]oke-x'}\n"
    "  condition: sel1 or sel2\n---\n"
    "title: all-values\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|contains|all: ['alpha', 'beta'], Image|endswith: '.exe'}\n"
    "  condition: sel\n---\n"
    "title: two-of\nlogsource: {product: test}\ndetection:\n"
    "  sel_a: {CommandLine|contains: 'aaa1'}\n  sel_b: {CommandLine|contains: 'bbb2'}\n"
    "  sel_c: {CommandLine|contains: 'ccc3'}\n  condition: 2 of sel_*\n---\n"
    "title: windash\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|contains|windash: ' -encodedcommand'}\n  condition: sel\n---\n"
    "title: glob\nlogsource: {product: test}\ndetection:\n"
    "  sel: {Image: '*\\power*shell.exe'}\n  condition: sel\n---\n"
    "title: numeric\nlogsource: {product: test}\ndetection:\n"
    "  sel: {EventID: 4688}\n  condition: sel\n---\n"
    "title: cased\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|contains|cased: 'SeCret'}\n  condition: sel\n---\n"
    "title: keyword\nlogsource: {product: test}\ndetection:\n"
    "  kw: ['kwtoken']\n  condition: kw\n---\n"
    "title: array\nlogsource: {product: test}\ndetection:\n"
    "  sel: {Tags|contains: 'qaz'}\n  condition: sel\n---\n"
    "title: short\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|contains: 'zq'}\n  condition: sel\n---\n"
    "title: not-only\nlogsource: {product: test}\ndetection:\n"
    "  filter: {Image|endswith: '.exe'}\n  condition: not filter\n---\n"
    "title: regex-lit\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|re: 'cmd.{0,5}/c.+power[s]hell\\.exe?'}\n  condition: sel\n---\n"
    "title: regex-caseless\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|re|i: 'kelvin-test'}\n  condition: sel\n---\n"
    "title: exact-text\nlogsource: {product: test}\ndetection:\n"
    "  sel: {Status: 'Failed Logon', LogonType: [3, 10]}\n  condition: sel\n---\n"
    "title: exact-array\nlogsource: {product: test}\ndetection:\n"
    "  sel: {Groups: 'admins'}\n  condition: sel\n---\n"
    "title: exact-mapped\nlogsource: {product: test}\ndetection:\n"
    "  sel: {Image: 'c:\\tools\\x.exe'}\n  condition: sel\n---\n"
    "title: regex-alt\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|re: 'foo\\.bar|(?:x|y)baz\\b'}\n  condition: sel\n---\n"
    "title: regex-group-alt\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|re: 'cmd.{0,5}(?:/c|/r).+pow\\x65rgrid'}\n  condition: sel\n---\n"
    "title: two-bytes\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|contains: ['^^', \"\\u00a0\"]}\n  condition: sel\n---\n"
    "title: confirm\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|contains: 'common', ParentImage|endswith: ['\\rare.exe', '\\odd.exe']}\n"
    "  filter: {ParentImage|contains: '\\ok\\'}\n  condition: sel and not filter\n---\n"
    "title: re-need\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|re: '(?i)go&&STOP'}\n  condition: sel\n---\n"
    "title: re-case\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|re: 'Zed[0-9]+q'}\n  condition: sel\n---\n"
    "title: anchored\nlogsource: {product: test}\ndetection:\n"
    "  sel: {User|endswith: '$', Path|startswith: 'c:\\program files (x86)\\vendor\\',\n"
    "        Tool|endswith: '\\some-long-tool-name.exe'}\n  condition: sel\n---\n"
    "title: re-escape\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|re: 'x\\x2dy\\tz'}\n  condition: sel\n---\n"
    "title: or-of-and\nlogsource: {product: test}\ndetection:\n"
    "  sel_a: {Image|contains: 'comm', CommandLine|contains: 'rareone'}\n"
    "  sel_b: {CommandLine|contains: 'raretwo'}\n  condition: 1 of sel_*\n---\n"
    "title: field-scoped\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|contains: 'zeta-lit', Note|contains: ['one-lit', 'two-lit']}\n"
    "  condition: sel\n---\n"
    /* non-ASCII values: atoms of folded text, found in folded event values */
    "title: uni-contains\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|contains: '\xd0\x9f\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c'}\n"
    "  condition: sel\n---\n"
    "title: uni-exact\nlogsource: {product: test}\ndetection:\n"
    "  sel: {User: '\xc3\x84RGER'}\n  condition: sel\n---\n"
    "title: uni-prefix\nlogsource: {product: test}\ndetection:\n"
    "  sel: {Path|startswith: 'c:\\\xd0\xbf\xd0\xbe\xd0\xbb\xd1\x8c\xd0\xb7\xd0\xbe\xd0\xb2\xd0\xb0"
    "\xd1\x82\xd0\xb5\xd0\xbb\xd0\xb8\\'}\n  condition: sel\n---\n"
    "title: uni-keyword\nlogsource: {product: test}\ndetection:\n"
    "  kw: ['\xc3\xa4rger-kw']\n  condition: kw\n---\n"
    "title: uni-cased\nlogsource: {product: test}\ndetection:\n"
    "  sel: {CommandLine|contains|cased: '\xc3\x84rger'}\n  condition: sel\n---\n"
    "title: uni-homoglyph\nlogsource: {product: test}\ndetection:\n"
    "  sel: {Image|contains: '\xd0\xb0'}\n  condition: sel\n";

struct ev_case {
    const char *kv[12]; /* key, value pairs, NULL-ended */
    const char *expect; /* titles that match, in rule order, ';'-separated */
};

static const struct ev_case cases[] = {
    {{"Image", "C:\\X\\EVIL.EXE", "CommandLine", "run it", NULL}, "and-not;"},
    {{"Image", "C:\\X\\evil.exe", "CommandLine", "HARMLESS run", NULL}, ""},
    {{"Image", "a.exe", "CommandLine", "invoke-x now", NULL}, "or-regex;"},
    {{"Image", "a.exe", "CommandLine", "MimiKatz", NULL}, "or-regex;"},
    {{"Image", "a.exe", "CommandLine", "BETA then Alpha", NULL}, "all-values;"},
    {{"Image", "a.exe", "CommandLine", "alpha only", NULL}, ""},
    {{"Image", "a.exe", "CommandLine", "x CCC3 y aaa1", NULL}, "two-of;"},
    {{"Image", "a.exe", "CommandLine", "x bbb2 only", NULL}, ""},
    {{"Image", "p.exe", "CommandLine", "p /EncodedCommand AAA", NULL}, "windash;"},
    {{"Image", "C:\\Windows\\PowerNOTShell.exe", NULL}, "glob;"},
    {{"Image", "a.exe", "EventID", "0x1250", NULL}, "numeric;"},
    {{"Image", "a.exe", "CommandLine", "the SeCret", NULL}, "cased;"},
    {{"Image", "a.exe", "CommandLine", "the secret", NULL}, ""},
    {{"Image", "a.exe", "Note", "has KWTOKEN inside", NULL}, "keyword;"},
    {{"Image", "a.exe", "Tags", "[\"x\", \"q\\u0041Z\"]", NULL}, "array;"},
    {{"Image", "a.exe", "CommandLine", "ZQ", NULL}, "short;"},
    {{"Image", "a.dll", NULL}, "not-only;"},
    {{"Image", "a.exe", "CommandLine", "nothing to see", NULL}, ""},
    {{"Image", "a.exe", "CommandLine", "cmd.exe /c powershell.ex", NULL}, "regex-lit;"},
    {{"Image", "a.exe", "CommandLine", "cmd.exe /c Powershell.exe", NULL}, ""},
    {{"Image", "a.exe", "CommandLine",
      "x \xe2\x84\xaa"
      "ELVIN-TE\xc5\xbfT",
      NULL},
     "regex-caseless;"},
    {{"Image", "a.exe", "Status", "FAILED LOGON", "LogonType", "0x3", NULL}, "exact-text;"},
    {{"Image", "a.exe", "Status", "failed logon", "LogonType", "10.0", NULL}, "exact-text;"},
    {{"Image", "a.exe", "Status", "failed logon ", "LogonType", "3", NULL}, ""},
    {{"Image", "a.exe", "Status", "Failed Logon", "LogonType", "4", NULL}, ""},
    {{"Image", "a.exe", "Groups", "[\"users\", \"ADMINS\"]", NULL}, "exact-array;"},
    {{"Image", "a.exe", "Groups", "[\"users\", \"admins2\"]", NULL}, ""},
    {{"Kind", "mapped", "NewImage", "C:\\Tools\\X.exe", "Image", "a.exe", NULL}, "exact-mapped;"},
    {{"Kind", "other", "NewImage", "C:\\Tools\\X.exe", "Image", "a.exe", NULL}, ""},
    {{"Image", "C:\\tools\\X.EXE", NULL}, "exact-mapped;"},
    {{"Image", "a.exe", "CommandLine", "run foo.bar now", NULL}, "regex-alt;"},
    {{"Image", "a.exe", "CommandLine", "run ybaz", NULL}, "regex-alt;"},
    {{"Image", "a.exe", "CommandLine", "run zbaz FOO.BAR", NULL}, ""},
    {{"Image", "a.exe", "CommandLine", "cmd.exe /r x powergrid", NULL}, "regex-group-alt;"},
    {{"Image", "a.exe", "CommandLine", "cmd.exe /k x powergrid", NULL}, ""},
    {{"Image", "a.exe", "CommandLine", "a^^b", NULL}, "two-bytes;"},
    {{"Image", "a.exe", "CommandLine",
      "a\xc2\xa0"
      "b",
      NULL},
     "two-bytes;"},
    {{"Image", "a.exe", "CommandLine", "a^b^", NULL}, ""},
    {{"Image", "a.exe", "CommandLine", "common", "ParentImage", "C:\\x\\ODD.exe", NULL},
     "confirm;"},
    {{"Image", "a.exe", "CommandLine", "common", "ParentImage", "C:\\ok\\odd.exe", NULL}, ""},
    {{"Image", "a.exe", "CommandLine", "common", "ParentImage", "C:\\x\\even.exe", NULL}, ""},
    {{"Image", "a.exe", "CommandLine", "x GO&&stop", NULL}, "re-need;"},
    {{"Image", "a.exe", "CommandLine", "x go stop", NULL}, ""},
    {{"Image", "a.exe", "CommandLine", "Zed12q", NULL}, "re-case;"},
    {{"Image", "a.exe", "CommandLine", "zed12q", NULL}, ""},
    {{"Image", "a.exe", "User", "HOST$", "Path", "C:\\Program Files (x86)\\Vendor\\x", "Tool",
      "D:\\SOME-long-tool-name.EXE", NULL},
     "anchored;"},
    {{"Image", "a.exe", "User", "HOST$", "Path", "C:\\Program Files (x86)\\Vendor\\x", "Tool",
      "D:\\some-other-tool-name.exe", NULL},
     ""},
    {{"Image", "a.exe", "User", "HOST", "Path", "C:\\Program Files (x86)\\Vendor\\x", "Tool",
      "D:\\some-long-tool-name.exe", NULL},
     ""},
    {{"Image", "a.exe", "CommandLine", "x-y\tz", NULL}, "re-escape;"},
    {{"Image", "a.exe", "CommandLine", "x-y z", NULL}, ""},
    {{"Image", "comm.exe", "CommandLine", "RAREONE", NULL}, "or-of-and;"},
    {{"Image", "comm.exe", "CommandLine", "none", NULL}, ""},
    {{"Image", "a.exe", "CommandLine", "raretwo", NULL}, "or-of-and;"},
    {{"Image", "a.exe", "CommandLine", "x zeta-lit", "Note", "[\"two-lit\"]", NULL},
     "field-scoped;"},
    {{"Image", "zeta-lit.exe", "CommandLine", "x", "Note", "one-lit zeta-lit", NULL}, ""},
    {{"Image", "a.exe", "CommandLine",
      "\xd0\xbc\xd0\xbe\xd0\xb9 \xd0\x9f\xd0\x90\xd0\xa0\xd0\x9e\xd0\x9b\xd0\xac", NULL},
     "uni-contains;"},
    {{"Image", "a.exe", "CommandLine", "\xd0\x9f\xd0\x90\xd0\xa0\xd0\x9e\xd0\x9b", NULL}, ""},
    {{"Image", "a.exe", "User", "\xc3\xa4rger", NULL}, "uni-exact;"},
    {{"Image", "a.exe", "User", "\xc3\xa4rgerlich", NULL}, ""},
    {{"Image", "a.exe", "Path",
      "C:\\\xd0\x9f\xd0\x9e\xd0\x9b\xd0\xac\xd0\x97\xd0\x9e\xd0\x92\xd0\x90\xd0\xa2\xd0\x95"
      "\xd0\x9b\xd0\x98\\x",
      NULL},
     "uni-prefix;"},
    {{"Image", "a.exe", "Path", "C:\\\xd0\x9f\xd0\x9e\xd0\x9b\xd0\xac\\x", NULL}, ""},
    {{"Image", "a.exe", "Note", "GRO\xc3\x9f \xc3\x84RGER-KW", NULL}, "uni-keyword;"},
    {{"Image", "a.exe", "CommandLine", "das \xc3\x84rger", NULL}, "uni-cased;"},
    {{"Image", "a.exe", "CommandLine", "das \xc3\xa4rger", NULL}, ""},
    {{"Image", "C:\\x\\svchost\xd0\x90.exe", NULL}, "uni-homoglyph;"},
};

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

static int titles_cb(void *opaque, const struct sigma_rule *r, const struct event *ev,
                     const struct sigma_hit_field *f, size_t nf)
{
    (void)ev;
    (void)f;
    (void)nf;
    struct sigma_rule_view v;
    sigma_rule_view(r, &v);
    char *out = opaque;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s;", v.title);
    return 0;
}

static void build(struct event *ev, struct arena *a, const struct ev_case *c)
{
    event_init(ev, a);
    ev->ls.product = "test";
    for (int i = 0; c->kv[i]; i += 2) {
        const char *v = c->kv[i + 1];
        event_add_copy(ev, c->kv[i], v, strlen(v), v[0] == '[' ? VT_JSON : VT_STRING);
    }
}

static void test_same_matches(void **state)
{
    (void)state;
    struct sigma_opts o = {mapping_path, NULL};
    struct sigma_set *s;
    assert_int_equal(sigma_set_new(&o, &s, stderr), 0);
    sigma_set_load_text(s, "t.yml", rules, strlen(rules));
    sigma_set_finish(s);
    struct sigma_counts cnt;
    sigma_set_counts(s, &cnt);
    assert_int_equal(cnt.rules, 33);
    struct sigma_matcher *on = sigma_matcher_new(s), *off = sigma_matcher_new(s);
    assert_non_null(on);
    assert_non_null(off);
    sigma_matcher_set_prefilter(on, true);
    sigma_matcher_set_prefilter(off, false);
    struct arena a;
    arena_init(&a, 4096);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct event ev;
        char got_on[512] = "", got_off[512] = "";
        arena_reset(&a);
        build(&ev, &a, &cases[i]);
        assert_int_equal(sigma_match(on, &ev, titles_cb, got_on), 0);
        assert_int_equal(sigma_match(off, &ev, titles_cb, got_off), 0);
        if (strcmp(got_on, got_off) || strcmp(got_off, cases[i].expect))
            print_error("case %zu: prefilter '%s', exact '%s', expected '%s'\n", i, got_on, got_off,
                        cases[i].expect);
        assert_string_equal(got_on, got_off);
        assert_string_equal(got_off, cases[i].expect);
    }
    struct sigma_match_stats st_on, st_off;
    sigma_matcher_stats(on, &st_on);
    sigma_matcher_stats(off, &st_off);
    assert_int_equal(st_off.rule_evals, 33 * (sizeof(cases) / sizeof(cases[0])));
#ifdef KENCHI_HAVE_HS
    assert_true(st_on.rule_evals < st_off.rule_evals);
    /* only "short" (a two-letter literal), "not-only" and "uni-cased" (|cased
     * non-ASCII text) have no atom */
    struct sigma_pf_counts pc;
    sigma_prefilter_counts(s->pf, &pc);
    assert_int_equal(pc.always, 3);
#endif
    arena_free(&a);
    sigma_matcher_free(on);
    sigma_matcher_free(off);
    sigma_set_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_matches),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
