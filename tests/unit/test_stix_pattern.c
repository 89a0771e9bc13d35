/* Unit tests for the STIX pattern engine: the parser (valid patterns, the
 * specification's examples, errors with their columns), every comparison
 * operator and constant, object paths on hand-built events of each source,
 * simple values, and the stream matcher's observation operators and
 * qualifiers. The example bundles under $KENCHI_SHARED are compiled too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "decode/decode.h"
#include "intel/stix-pattern-impl.h"
#include "intel/stix-pattern.h"
#include "util/arena.h"
#include "util/timeconv.h"

#include <jansson.h> /* after buf.h: its json_is_number macro */

/* ---- helpers ------------------------------------------------------------- */

static struct arena A;

static int setup(void **state)
{
    (void)state;
    arena_init(&A, 64 * 1024);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(&A);
    return 0;
}

/* Build an event from key, value pairs (NULL-ended). "@product",
 * "@service", "@category" set the log source, "@ts" the time (RFC 3339); an
 * ECS core name fills the core; other keys are native fields (a value
 * starting with '[' is a JSON array). */
static struct event *mkv(va_list ap)
{
    struct event *ev = arena_alloc(&A, sizeof(*ev));
    event_init(ev, &A);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        const char *cv = arena_strndup(&A, v, strlen(v));
        if (!strcmp(k, "@product"))
            ev->ls.product = cv;
        else if (!strcmp(k, "@service"))
            ev->ls.service = cv;
        else if (!strcmp(k, "@category"))
            ev->ls.category = cv;
        else if (!strcmp(k, "@ts"))
            assert_int_equal(time_parse_iso(v, strlen(v), NULL, &ev->ts_ns), strlen(v));
        else if (core_field_by_name(k, strlen(k)) >= 0)
            ev->core[core_field_by_name(k, strlen(k))] = str_make(cv, strlen(cv));
        else
            event_add_copy(ev, k, v, strlen(v), v[0] == '[' ? VT_JSON : VT_STRING);
    }
    return ev;
}

#define EV(...) ev_build(0, __VA_ARGS__, (const char *)NULL)
static struct event *ev_build(int dummy, ...)
{
    va_list ap;
    va_start(ap, dummy);
    struct event *ev = mkv(ap);
    va_end(ap);
    return ev;
}

static char errbuf[512];

static struct stix_pattern *compile(const char *text)
{
    struct stix_pattern *p = NULL;
    int rc = stix_pattern_compile(text, strlen(text), &p, errbuf, sizeof(errbuf));
    if (rc) {
        print_message("# refused: %s\n#   %s\n", text, errbuf);
        return NULL;
    }
    return p;
}

/* 1 when the single-observation pattern matches ev, 0 when not, -1 when it
 * does not compile. */
static int m1(const char *text, const struct event *ev)
{
    struct stix_pattern *p = compile(text);
    if (!p)
        return -1;
    int r = stix_pattern_match_event(p, ev) ? 1 : 0;
    stix_pattern_free(p);
    return r;
}

/* The compile error of text ("" when it compiles). */
static const char *err_of(const char *text)
{
    struct stix_pattern *p = NULL;
    errbuf[0] = '\0';
    if (stix_pattern_compile(text, strlen(text), &p, errbuf, sizeof(errbuf)) == 0) {
        stix_pattern_free(p);
        return "";
    }
    assert_null(p);
    return errbuf;
}

#define assert_match(pat, ev)    assert_int_equal(m1((pat), (ev)), 1)
#define assert_no_match(pat, ev) assert_int_equal(m1((pat), (ev)), 0)

static void assert_error(const char *text, const char *want)
{
    const char *e = err_of(text);
    if (!strstr(e, want)) {
        print_error("pattern: %s\n  error: '%s'\n  wanted: '%s'\n", text, e, want);
        fail();
    }
}

/* ---- parsing ---------------------------------------------------------------- */

static void test_selftest(void **state)
{
    (void)state;
    assert_int_equal(sp_map_selftest(), 0);
}

static const char *const spec_examples[] = {
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND "
    "email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' "
    "AND file:mime_type = 'application/x-pdf']",
    "[file:hashes.'SHA-256' = 'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c' "
    "OR file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']\nAND "
    "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
    "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY "
    "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
    "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND "
    "user-account:account_login = 'Peter'] AND [user-account:account_type = 'unix' AND "
    "user-account:user_id = '1008' AND user-account:account_login = 'Paul'] AND "
    "[user-account:account_type = 'unix' AND user-account:user_id = '1009' AND "
    "user-account:account_login = 'Mary']",
    "[artifact:mime_type = 'application/vnd.tcpdump.pcap' AND artifact:payload_bin MATCHES "
    "'\\\\xd4\\\\xc3\\\\xb2\\\\xa1\\\\x02\\\\x00\\\\x04\\\\x00']",
    "[file:name = 'foo.dll' AND file:parent_directory_ref.path = 'C:\\\\Windows\\\\System32']",
    "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]",
    "[file:mime_type = 'image/bmp' AND file:magic_number_hex = h'ffd8']",
    "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = "
    "'203.0.113.33/32']",
    "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = "
    "'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
    "[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = "
    "'198.51.100.1/32']",
    "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
    "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = "
    "'4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
    "[windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\CryptoLocker\\\\Files' OR "
    "windows-registry-key:key = "
    "'HKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\CurrentVersion\\\\Run\\\\CryptoLocker_0388']",
    "[(file:name = 'pdf.exe' OR file:size = 371712) AND file:created = t'2014-01-13T07:03:17Z']",
    "[email-message:sender_ref.value = 'jdoe@example.com' AND email-message:subject = "
    "'Conference Info']",
    "[x-usb-device:usbdrive.serial_number = '575833314133343231313937']",
    "[process:command_line MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachine Root$'] "
    "FOLLOWEDBY [process:command_line MATCHES'^.+>-add GlobalSign.cer -c -s -r "
    "localMachineTrustedPublisher$'] WITHIN 300 SECONDS",
    "[network-traffic:dst_ref.value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']",
    "([file:name = 'foo.dll'] AND [windows-registry-key:key = "
    "'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:image_ref.name = 'fooproc' OR "
    "process:image_ref.name = 'procfoo']",
    /* the examples of the definitions and of 9.3 */
    "[ipv4-addr:value = '198.51.100.1/32']",
    "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR "
    "ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128']",
    "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR "
    "ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128'] REPEATS 5 TIMES",
    "([ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32' OR "
    "ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128'] FOLLOWEDBY "
    "[domain-name:value = 'example.com']) WITHIN 600 SECONDS",
    "[file:name = 'foo.dll'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    "([ipv4-addr:value = '198.51.100.5' ] AND [ipv4-addr:value = '198.51.100.10']) WITHIN 300 "
    "SECONDS",
    "[ network-traffic:src_ref.value = '203.0.113.10' AND network-traffic:dst_ref.value = "
    "'198.51.100.58' ]",
    "([file:hashes.'SHA-256' = '13987239847'] AND [windows-registry-key:key = 'hkey']) WITHIN "
    "120 SECONDS",
    "[file:size = 25536]",
    "[file:size != 4112]",
    "[file:size > 256]",
    "[file:size < 1024]",
    "[file:size <= 25145]",
    "[file:size >= 33312]",
    "[process:name IN ('proccy', 'proximus', 'badproc')]",
    "[directory:path LIKE 'C:\\\\Windows\\\\%\\\\foo']",
    "[directory:path MATCHES '^C:\\\\\\\\Windows\\\\w+$']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[ipv4-addr:value ISSUPERSET '198.51.100.0/24']",
    "[EXISTS windows-registry-key:values]",
    "[network-traffic:protocols[0] = 'ipv4']",
    "[file:hashes.ssdeep = 'x']",
    "[file:extensions.'raster-image-ext'.image_height > 10]",
    "[email-message:from_ref.value = 'a@b.c']",
    "[directory:contains_refs[*].name = 'x']",
    "[artifact:payload_bin = 'this is a test']",
    "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
    "[artifact:payload_bin = h'7468697320697320612074657374']",
};

static void test_spec_examples(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(spec_examples) / sizeof(spec_examples[0]); i++) {
        struct stix_pattern *p = compile(spec_examples[i]);
        if (!p)
            fail_msg("example %zu refused: %s", i, errbuf);
        stix_pattern_free(p);
    }
}

static void test_parse_forms(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "[a:b = 1]",
        "[a:b == 1]",
        "[a:b <> 1]",
        "[a:b = +1]",
        "[a:b = -1]",
        "[a:b = .5]",
        "[a:b = -0.5]",
        "[a:b = true] AND [a:b = false]",
        "[a:b IN ()]",
        "[a:b IN (1, 2.5, -3)]",
        "[a:b NOT IN ('x')]",
        "[a:b NOT LIKE 'x%'] OR [NOT EXISTS a:c]",
        "[a:'quoted-key'.'x.y'[0][*] = 'v']",
        "[a:b[-1] = 'v']",
        "[ a : b = 'v' ]",
        "/* comment */ [a:b = 'v'] // trailing comment",
        "[a:b = 'v']\u00a0AND\u3000[a:c = 'w']",
        "[a:b = 'it\\'s \\\\ fine']",
        "[a:b = t'2016-02-29T23:59:60.123456789Z']",
        "[a:b = h''] OR [a:b = b'AA==' ] OR [a:b = b'AAA=' ] OR [a:b = b'AAAA']",
        "[a:b = b'AA\nAA']",
        "(([a:b = 1] OR [a:c = 2]) FOLLOWEDBY [a:d = 3]) WITHIN 2.5 SECONDS",
        "[a:b = 1] REPEATS 2 TIMES WITHIN 10 SECONDS START t'2020-01-01T00:00:00Z' STOP "
        "t'2021-01-01T00:00:00Z'",
        "([a:b = 1] WITHIN 5 SECONDS) WITHIN 10 SECONDS",
        "[((a:b = 1))]",
        "[x509-certificate:hashes.'SHA-1' = 'aa' AND x509-certificate:version = 3]",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct stix_pattern *p = compile(ok[i]);
        if (!p)
            fail_msg("refused: %s: %s", ok[i], errbuf);
        assert_string_equal(stix_pattern_text(p), ok[i]);
        stix_pattern_free(p);
    }
    struct stix_pattern *p = compile("[a:b = 1] AND ([a:c = 2] OR [a:d = 3]) FOLLOWEDBY [a:e = 4]");
    assert_non_null(p);
    assert_int_equal(stix_pattern_observations(p), 4);
    stix_pattern_free(p);
}

static void test_parse_errors(void **state)
{
    (void)state;
    assert_error("", "column 1: expected '[' (an observation expression) or '(', found the end");
    assert_error("[file:name = 'x'", "column 17: expected ']' to close the observation expression");
    assert_error("[file:name = 'x'] [file:name = 'y']",
                 "column 19: expected the end of the pattern");
    assert_error("[file:name 'x']", "column 12: expected a comparison operator");
    assert_error("[file:name = ]", "column 14: expected a constant");
    assert_error("[file:name = 'x' and file:size = 1]", "keywords are upper case: AND");
    assert_error("[file:name = 'x]", "column 14: a string is not closed");
    assert_error("[file:name = 'a\\nb']", "column 16: '\\n' is not an escape");
    assert_error("[file:name = h'abc']", "column 14: a hex constant needs an even number");
    assert_error("[file:name = h'zz']", "column 16: 'z' is not a hex digit");
    assert_error("[file:name = b'A===']", "base64");
    assert_error("[file:name = b'A*==']", "'*' does not belong in a base64 constant");
    assert_error("[file:name = t'2016-13-01T00:00:00Z']", "not a valid date");
    assert_error("[file:name = t'2016-02-30T00:00:00Z']", "not a valid date");
    assert_error("[file:name = t'2016-01-01T00:00:00']", "with the Z");
    assert_error("[file:name = t'2016-01-01 00:00:00Z']", "with the Z");
    assert_error("[file:size > true]", "a boolean has no order");
    assert_error("[file:name LIKE 5]", "LIKE takes a string in quotes");
    assert_error("[file:name MATCHES '(']", "invalid regular expression");
    assert_error("[ipv4-addr:value ISSUBSET 'nope']", "not an IP address or CIDR network");
    assert_error("[file:name ISSUBSET '10.0.0.0/8']", "ISSUBSET compares IP addresses");
    assert_error("[file:name IN ('a', 1)]",
                 "column 21: the values of an IN set must be of one type");
    assert_error("[file:name IN ('a' 'b')]", "expected ',' or ')' in the set of IN");
    assert_error("[file:name IN ('a'", "not closed with ')'");
    assert_error("[file:name = 'a'] WITHIN 0 SECONDS", "WITHIN needs a positive number");
    assert_error("[file:name = 'a'] WITHIN 5", "expected SECONDS");
    assert_error("[file:name = 'a'] REPEATS 0 TIMES", "REPEATS needs a positive whole number");
    assert_error("[file:name = 'a'] REPEATS 1.5 TIMES", "a whole number after REPEATS");
    assert_error("[file:name = 'a'] REPEATS 2", "expected TIMES");
    assert_error("[file:name = 'a'] REPEATS 2 TIMES REPEATS 3 TIMES", "a second REPEATS");
    assert_error("[file:name = 'a'] WITHIN 2 SECONDS WITHIN 3 SECONDS", "a second WITHIN");
    assert_error("[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:00Z'",
                 "STOP must be later than START");
    assert_error("[a:b = 1] START t'2020-01-01T00:00:00Z'", "expected STOP");
    assert_error("[file-name = 'x']", "column 12: expected ':' after the object type");
    assert_error("[file:na-me = 'x']", "column 7: the property name 'na-me' has a '-'");
    assert_error("[file:name = 'x'] AND", "expected '[' (an observation expression)");
    assert_error("[file:name = 'x' AND]", "expected an object path");
    assert_error("[NOT file:name = 'x']", "column 2: NOT goes before the operator");
    assert_error("[file:name ! 'x']", "'!' must be followed by '='");
    assert_error("[file:name = 'x'] /* open", "a comment '/*' is not closed");
    assert_error("[file:name = 'x' ; ]", "column 18: unexpected character ';'");
    assert_error("[file:name = 'x' \xc3\xa9]", "unexpected character U+00E9");
    assert_error("[a:b = 1]\n  FOLLOWEDBY [a:c = ]", "line 2, column 21: expected a constant");
    assert_error("[a:b = 99999999999999999999]", "out of range");
    assert_error("[a:b = 1] REPEATS 5000 TIMES", "at most 1000 observations");
    assert_error("([a:b = 1] REPEATS 100 TIMES) REPEATS 100 TIMES", "at most 1000");
    assert_error("[a:b = 'x'] FOLLOWEDBY", "expected '['");
    assert_error("[a:b[x] = 'x']", "expected a list index");
    assert_error("[a:b = -]", "'-' must be followed by a number");
    /* nesting is bounded */
    char deep[1024];
    size_t o = 0;
    for (int i = 0; i < 150; i++)
        deep[o++] = '(';
    memcpy(deep + o, "[a:b = 1]", 9);
    o += 9;
    for (int i = 0; i < 150; i++)
        deep[o++] = ')';
    deep[o] = '\0';
    assert_error(deep, "parentheses nested deeper than 100");
    /* NUL bytes are not whitespace */
    struct stix_pattern *p = NULL;
    assert_int_equal(stix_pattern_compile("[a:b = 1]\0", 10, &p, errbuf, sizeof(errbuf)), -EINVAL);
    assert_non_null(strstr(errbuf, "control character 0x00"));
    /* a tiny error buffer is fine */
    char tiny[8];
    assert_int_equal(stix_pattern_compile("[", 1, &p, tiny, sizeof(tiny)), -EINVAL);
    assert_int_equal(strlen(tiny), 7);
    assert_int_equal(stix_pattern_compile("[", 1, &p, NULL, 0), -EINVAL);
}

/* ---- operators on events ---------------------------------------------------------- */

static struct event *conn_event(void)
{
    return EV("@product", "zeek", "@service", "conn", "@ts", "2024-03-04T10:00:00Z", "source.ip",
              "192.0.2.7", "source.port", "51514", "destination.ip", "198.51.100.25",
              "destination.port", "443", "source.bytes", "1200", "destination.bytes", "48213",
              "proto", "tcp", "service", "ssl,http", "orig_pkts", "12", "resp_pkts", "40",
              "orig_l2_addr", "00:1A:2b:3c:4d:5e");
}

static void test_equality_and_order(void **state)
{
    (void)state;
    struct event *ev = conn_event();
    assert_match("[network-traffic:dst_port = 443]", ev);
    assert_match("[network-traffic:dst_port == 443]", ev);
    assert_no_match("[network-traffic:dst_port = 80]", ev);
    assert_match("[network-traffic:dst_port != 80]", ev);
    assert_match("[network-traffic:dst_port <> 80]", ev);
    assert_no_match("[network-traffic:dst_port != 443]", ev);
    assert_match("[network-traffic:dst_port NOT = 80]", ev);
    assert_no_match("[network-traffic:dst_port NOT = 443]", ev);
    assert_match("[network-traffic:dst_port > 442]", ev);
    assert_no_match("[network-traffic:dst_port > 443]", ev);
    assert_match("[network-traffic:dst_port >= 443]", ev);
    assert_match("[network-traffic:dst_port < 444]", ev);
    assert_no_match("[network-traffic:dst_port < 443]", ev);
    assert_match("[network-traffic:dst_port <= 443]", ev);
    assert_match("[network-traffic:dst_port NOT < 443]", ev);
    assert_match("[network-traffic:dst_port = 443.0]", ev);
    assert_no_match("[network-traffic:dst_port = 443.5]", ev);
    assert_match("[network-traffic:dst_port < 443.5]", ev);
    /* a number written as a string compares as the number */
    assert_match("[network-traffic:dst_port = '443']", ev);
    /* incompatible types: false, but true under != */
    assert_no_match("[network-traffic:dst_port = 'https']", ev);
    assert_match("[network-traffic:dst_port != 'https']", ev);
    assert_no_match("[network-traffic:dst_port = true]", ev);
    assert_match("[network-traffic:dst_port != true]", ev);
    assert_no_match("[network-traffic:dst_port > t'2020-01-01T00:00:00Z']", ev);
    assert_match("[network-traffic:dst_byte_count > 48212 AND network-traffic:src_byte_count < "
                 "1201]",
                 ev);
    assert_match("[network-traffic:src_packets = 12 AND network-traffic:dst_packets = 40]", ev);
    /* strings: code point order; longer greater */
    struct event *s = EV("file.name", "oz");
    assert_match("[file:name > 'o']", s);
    assert_match("[file:name < 'z']", s);
    assert_match("[file:name < 'o\xcc\x80']", s); /* 'oz' < 'o' U+0300 */
    assert_no_match("[file:name = 'OZ']", s);     /* case counts */
    assert_match("[file:name >= 'oz' AND file:name <= 'oz']", s);
    /* IN */
    assert_match("[network-traffic:dst_port IN (22, 443, 8443)]", ev);
    assert_no_match("[network-traffic:dst_port IN (22, 25)]", ev);
    assert_match("[network-traffic:dst_port NOT IN (22, 25)]", ev);
    assert_no_match("[network-traffic:dst_port IN ()]", ev);
    assert_match("[file:name IN ('a', 'oz')]", s);
}

static void test_like_matches(void **state)
{
    (void)state;
    struct event *ev = EV("process.command_line", "C:\\Windows\\System32\\cmd.exe /c whoami",
                          "@product", "windows", "Image", "C:\\Windows\\System32\\cmd.exe",
                          "file.name", "r\xc3\xa9sum\xc3\xa9.pdf");
    assert_match("[process:command_line LIKE 'C:\\\\Windows\\\\%\\\\cmd.exe%']", ev);
    assert_match("[process:command_line LIKE '%whoami']", ev);
    assert_no_match("[process:command_line LIKE 'whoami']", ev);
    assert_match("[process:command_line LIKE '%who_mi']", ev);
    assert_no_match("[process:command_line LIKE '%who_i']", ev);
    assert_match("[process:command_line NOT LIKE '%powershell%']", ev);
    assert_match("[file:name LIKE 'r_sum_.pdf']", ev); /* '_' is one character, not a byte */
    assert_match("[file:name LIKE '%%%']", ev);
    assert_match("[process:command_line MATCHES 'cmd\\\\.exe /c (whoami|net)']", ev);
    assert_no_match("[process:command_line MATCHES '^cmd']", ev); /* search, anchors work */
    assert_match("[process:command_line MATCHES '^C:.*whoami$']", ev);
    assert_no_match("[process:command_line MATCHES 'WHOAMI']", ev);
    assert_match("[process:command_line MATCHES '(?i)WHOAMI']", ev);
    assert_match("[process:command_line NOT MATCHES 'mimikatz']", ev);
    assert_match("[file:name MATCHES '^r.sum.\\\\.pdf$']", ev); /* UTF-8 aware */
    struct event *nl = EV("email.subject", "line one\nline two");
    assert_match("[email-message:subject MATCHES 'one.line']", nl); /* DOTALL */
    /* case-insensitive properties fold both sides */
    struct event *d = EV("dns.question.name", "Evil.EXAMPLE.com.");
    assert_match("[domain-name:value = 'evil.example.com']", d);
    assert_match("[domain-name:value = 'EVIL.example.COM']", d);
    assert_match("[domain-name:value LIKE '%.EXAMPLE.com']", d);
    assert_match("[domain-name:value MATCHES 'example\\\\.com$']", d);
    /* a catastrophic regular expression stops at the match limit */
    struct event *big =
        EV("email.subject", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!");
    assert_no_match("[email-message:subject MATCHES '^(a+)+$']", big);
}

static void test_ip_sets(void **state)
{
    (void)state;
    struct event *ev = conn_event();
    assert_match("[ipv4-addr:value = '192.0.2.7']", ev);
    assert_match("[ipv4-addr:value = '198.51.100.25']", ev); /* either address */
    assert_match("[ipv4-addr:value = '192.0.2.0/24']", ev);  /* a network holds the address */
    assert_match("[ipv4-addr:value = '192.0.2.7/32']", ev);
    assert_no_match("[ipv4-addr:value = '192.0.3.0/24']", ev);
    assert_no_match("[ipv6-addr:value = '::/0']", ev);
    assert_match("[ipv4-addr:value ISSUBSET '192.0.2.0/24']", ev);
    assert_match("[ipv4-addr:value ISSUBSET '0.0.0.0/0']", ev);
    assert_no_match("[network-traffic:src_ref.value ISSUBSET '198.51.100.0/24']", ev);
    assert_match("[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24']", ev);
    assert_match("[network-traffic:dst_ref.value NOT ISSUBSET '10.0.0.0/8']", ev);
    assert_match("[ipv4-addr:value ISSUPERSET '192.0.2.7']", ev);
    assert_match("[ipv4-addr:value ISSUPERSET '192.0.2.7/32']", ev);
    assert_no_match("[ipv4-addr:value ISSUPERSET '192.0.2.0/24']", ev);
    assert_match("[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = "
                 "'198.51.100.25']",
                 ev);
    /* IPv6, and IPv4-mapped IPv6 folded to IPv4 */
    struct event *v6 =
        EV("source.ip", "2001:db8:dead:beef::1", "destination.ip", "::ffff:203.0.113.9");
    assert_match("[ipv6-addr:value = '2001:0db8:dead:beef:0000:0000:0000:0001']", v6);
    assert_match("[ipv6-addr:value ISSUBSET '2001:0db8:dead:beef:0000:0000:0000:0000/64']", v6);
    assert_match("[network-traffic:src_ref.value ISSUBSET '2001:db8::/32']", v6);
    assert_match("[ipv4-addr:value = '203.0.113.9']", v6);
    assert_match("[network-traffic:dst_ref.type = 'ipv4-addr']", v6);
    assert_match("[network-traffic:src_ref.type = 'ipv6-addr']", v6);
    assert_no_match("[ipv6-addr:value = '::ffff:203.0.113.9']", v6);
    assert_match("[ipv4-addr:value = '::ffff:203.0.113.9']", v6);
}

static void test_constants(void **state)
{
    (void)state;
    struct event *ev =
        EV("email.subject", "true", "@product", "windows", "ProcessId", "-7", "file.name", "1e3");
    /* booleans against a string property holding true / false */
    assert_match("[email-message:subject = true]", ev);
    assert_no_match("[email-message:subject = false]", ev);
    assert_match("[email-message:subject != false]", ev);
    /* negative numbers, floats, exponents in event values */
    assert_match("[process:pid = -7]", ev);
    assert_match("[process:pid < -6.5]", ev);
    assert_match("[process:pid > -7.5]", ev);
    assert_match("[file:name = 1000]", ev);
    assert_match("[file:name = '1e3']", ev);
    /* numbers against non-numeric values do not compare */
    struct event *w = EV("file.name", "abc");
    assert_no_match("[file:name = 1]", w);
    assert_match("[file:name != 1]", w);
    assert_no_match("[file:name > 1]", w);
}

static void test_binary(void **state)
{
    (void)state;
    struct event *ev = EV("email.subject", "this is a test", "file.name", "caf\xc3\xa9");
    assert_match("[email-message:subject = h'7468697320697320612074657374']", ev);
    assert_match("[email-message:subject = b'dGhpcyBpcyBhIHRlc3Q=']", ev);
    assert_no_match("[email-message:subject = 'dGhpcyBpcyBhIHRlc3Q=']", ev);
    assert_match("[email-message:subject > h'74']", ev);
    assert_match("[file:name = h'636166e9']", ev); /* U+00E9 is the byte e9 */
    assert_no_match("[file:name = h'636166c3a9']", ev);
    struct event *wide = EV("file.name", "\xe2\x82\xac"); /* U+20AC cannot be binary */
    assert_no_match("[file:name = h'e282ac']", wide);
    assert_match("[file:name != h'e282ac']", wide);
}

static void test_strings_and_escapes(void **state)
{
    (void)state;
    struct event *ev = EV("email.subject", "it's a \\ test");
    assert_match("[email-message:subject = 'it\\'s a \\\\ test']", ev);
    assert_no_match("[email-message:subject = 'its a \\\\ test']", ev);
}

static void test_timestamps(void **state)
{
    (void)state;
    struct event *ev =
        EV("@product", "zeek", "@service", "x509", "@ts", "2024-03-04T10:00:00Z",
           "certificate.not_valid_before", "1700000000.5", "certificate.not_valid_after",
           "1800000000", "source.ip", "192.0.2.1", "@category", "x");
    assert_match("[x509-certificate:validity_not_before = t'2023-11-14T22:13:20.5Z']", ev);
    assert_match("[x509-certificate:validity_not_after > t'2026-01-01T00:00:00Z']", ev);
    assert_no_match("[x509-certificate:validity_not_after < t'2026-01-01T00:00:00Z']", ev);
    assert_match("[x509-certificate:validity_not_before < '2024-01-01T00:00:00Z']", ev);
    assert_match("[network-traffic:start = t'2024-03-04T10:00:00Z']", ev);
    assert_match("[network-traffic:start >= t'2024-03-04T10:00:00.000Z']", ev);
    assert_no_match("[network-traffic:start > t'2024-03-04T10:00:00Z']", ev);
    assert_no_match("[network-traffic:start = 5]", ev);
    assert_match("[network-traffic:start != 5]", ev);
    struct event *proc = EV("@product", "windows", "@category", "process_creation", "@ts",
                            "2024-03-04T10:00:00Z", "process.command_line", "a.exe");
    assert_match("[process:created_time = t'2024-03-04T10:00:00Z']", proc);
}

static void test_absent(void **state)
{
    (void)state;
    struct event *ev = conn_event();
    /* a property the event does not have: false, NOT included */
    assert_no_match("[file:name = 'x']", ev);
    assert_no_match("[file:name != 'x']", ev);
    assert_no_match("[file:name NOT = 'x']", ev);
    assert_no_match("[file:name NOT LIKE '%']", ev);
    assert_no_match("[file:name NOT IN ('x')]", ev);
    assert_no_match("[x-custom:thing = 'x']", ev);
    assert_no_match("[x-custom:thing != 'x']", ev);
    assert_no_match("[ipv4-addr:value[0] = '192.0.2.7']", ev); /* not a list: nothing there */
    struct event *h = EV("file.hash.md5", "79054025255fb1a26e4bc422aef54eb4");
    assert_match("[file:hashes.md5 = '79054025255fb1a26e4bc422aef54eb4']", h);
    assert_no_match("[file:'hashes.md5' = '79054025255fb1a26e4bc422aef54eb4']", h);
    /* EXISTS */
    assert_match("[EXISTS network-traffic:dst_port]", ev);
    assert_no_match("[EXISTS file:name]", ev);
    assert_no_match("[NOT EXISTS network-traffic:dst_port]", ev);
    /* NOT EXISTS: the object is there without the property */
    assert_match("[NOT EXISTS network-traffic:extensions.'http-request-ext'.request_method]", ev);
    assert_no_match("[NOT EXISTS file:size]", ev); /* no file object at all */
    struct event *f = EV("file.name", "a.exe");
    assert_match("[NOT EXISTS file:hashes.MD5]", f);
    assert_match("[file:name = 'a.exe' AND NOT EXISTS file:hashes.MD5]", f);
    /* OR with an absent side */
    assert_match("[file:name = 'x' OR network-traffic:dst_port = 443]", ev);
    assert_no_match("[file:name = 'x' AND network-traffic:dst_port = 443]", ev);
}

static void test_lists_and_refs(void **state)
{
    (void)state;
    struct event *ev = conn_event();
    assert_match("[network-traffic:protocols[*] = 'tcp']", ev);
    assert_match("[network-traffic:protocols[*] = 'http']", ev);
    assert_match("[network-traffic:protocols[*] = 'TCP']", ev);
    assert_match("[network-traffic:protocols[0] = 'ipv4']", ev);
    assert_match("[network-traffic:protocols[1] = 'tcp']", ev);
    assert_match("[network-traffic:protocols[2] = 'ssl']", ev);
    assert_no_match("[network-traffic:protocols[9] = 'tcp']", ev);
    assert_no_match("[network-traffic:protocols[-1] = 'tcp']", ev);
    assert_match("[network-traffic:protocols = 'tcp']", ev); /* no index: any */
    /* [*] and !=: some value differs; NOT =: per value too */
    assert_match("[network-traffic:protocols[*] != 'tcp']", ev);
    assert_match("[network-traffic:protocols[*] NOT = 'tcp']", ev);
    assert_no_match("[network-traffic:protocols[*] NOT LIKE '%']", ev);

    struct event *mail = EV(
        "@product", "zeek", "@service", "smtp", "@ts", "2024-03-04T01:55:31Z", "source.ip",
        "198.51.100.42", "destination.ip", "198.51.100.25", "email.from.address",
        "noreply@lists.example.net", "email.to.address", "karl.neumann@example.org", "mailfrom",
        "noreply@lists.example.net", "rcptto", "[\"karl.neumann@example.org\",\"b@example.org\"]",
        "from", "Lists Example <NoReply@Lists.example.net>", "to",
        "[\"Karl <karl.neumann@example.org>\",\"c@example.com\"]", "cc", "[\"d@example.net\"]",
        "reply_to", "owner@example.net", "email.subject", "[members] March programme",
        "email.message_id", "6b827da5ad52.65e51c05@lists.example.net", "msg_id",
        "<6b827da5ad52.65e51c05@lists.example.net>", "x_originating_ip", "192.0.2.140",
        "user_agent", "Microsoft Outlook 16.0", "in_reply_to", "<prev@example.net>");
    assert_match("[email-message:from_ref.value = 'noreply@lists.example.net']", mail);
    assert_match("[email-message:from_ref.value MATCHES '.+\\\\@lists\\\\.example\\\\.net$']",
                 mail);
    assert_match("[email-message:sender_ref.value = 'noreply@lists.example.net']", mail);
    assert_match("[email-message:to_refs[*].value = 'c@example.com']", mail);
    assert_match("[email-message:to_refs[0].value = 'karl.neumann@example.org']", mail);
    assert_no_match("[email-message:to_refs[0].value = 'c@example.com']", mail);
    assert_match("[email-message:to_refs[1].value = 'c@example.com']", mail);
    assert_match("[email-message:cc_refs[*].value = 'd@example.net']", mail);
    assert_no_match("[email-message:bcc_refs[*].value = 'd@example.net']", mail);
    assert_match("[email-message:subject = '[members] March programme']", mail);
    assert_match("[email-message:message_id = '<6b827da5ad52.65e51c05@lists.example.net>']", mail);
    assert_match("[email-message:message_id = '6b827da5ad52.65e51c05@lists.example.net']", mail);
    assert_match("[email-message:additional_header_fields.'Message-ID' = "
                 "'<6b827da5ad52.65e51c05@lists.example.net>']",
                 mail);
    assert_match("[email-message:additional_header_fields.'message-id'[0] = "
                 "'6b827da5ad52.65e51c05@lists.example.net']",
                 mail);
    assert_match("[email-message:additional_header_fields.'Reply-To' = 'owner@example.net']", mail);
    assert_match("[email-message:additional_header_fields.'X-Originating-IP' = '192.0.2.140']",
                 mail);
    assert_match("[email-message:additional_header_fields.'User-Agent' = 'Microsoft Outlook "
                 "16.0']",
                 mail);
    assert_match("[email-message:additional_header_fields.'In-Reply-To' = 'prev@example.net']",
                 mail);
    assert_no_match("[email-message:is_multipart = false]", mail);
    /* email-addr objects: every address of the message */
    assert_match("[email-addr:value = 'b@example.org']", mail);
    assert_match("[email-addr:value = 'NOREPLY@lists.example.net']", mail);
    assert_match("[email-addr:value = 'owner@example.net']", mail);
    /* domain-name objects: the domains of the addresses */
    assert_match("[domain-name:value = 'lists.example.net']", mail);
    assert_match("[domain-name:value = 'example.com']", mail);
    assert_no_match("[domain-name:value = 'example.invalid']", mail);
}

static void test_object_binding(void **state)
{
    (void)state;
    struct event *ev = conn_event();
    /* two tests on ipv4-addr hold for the same object */
    assert_no_match("[ipv4-addr:value = '192.0.2.7' AND ipv4-addr:value = '198.51.100.25']", ev);
    assert_match("[ipv4-addr:value = '192.0.2.7' AND ipv4-addr:value ISSUBSET '192.0.2.0/24']", ev);
    assert_match("[ipv4-addr:value = '192.0.2.7' OR ipv4-addr:value = '198.51.100.25']", ev);
    assert_match("[ipv4-addr:value != '192.0.2.7']", ev); /* the other object */
    assert_no_match("[ipv4-addr:value != '192.0.2.7' AND ipv4-addr:value != '198.51.100.25']", ev);
    assert_match("[ipv4-addr:value = '198.51.100.25' AND ipv4-addr:value NOT ISSUBSET "
                 "'192.0.2.0/24']",
                 ev);
    assert_no_match("[ipv4-addr:value = '192.0.2.7' AND ipv4-addr:value NOT ISSUBSET "
                    "'192.0.2.0/24']",
                    ev);
    /* the network-traffic object references both */
    assert_match("[network-traffic:src_ref.value = '192.0.2.7' AND network-traffic:dst_ref.value = "
                 "'198.51.100.25']",
                 ev);
    /* different types bind independently */
    assert_match("[ipv4-addr:value = '192.0.2.7' AND network-traffic:dst_port = 443]", ev);
    /* domain names: the DNS question owns the answers */
    struct event *dns =
        EV("@product", "zeek", "@service", "dns", "dns.question.name", "www.5z8.info", "answers",
           "[\"cdn.5z8.info\",\"198.51.100.1\"]", "email.from.address", "x@other.example");
    assert_match("[domain-name:value = 'www.5z8.info' AND domain-name:resolves_to_refs[*].value = "
                 "'198.51.100.1/32']",
                 dns);
    assert_match("[domain-name:resolves_to_refs[*].value = 'cdn.5z8.info']", dns);
    assert_no_match("[domain-name:value = 'other.example' AND "
                    "domain-name:resolves_to_refs[*].value = '198.51.100.1']",
                    dns);
    assert_match("[domain-name:value = 'other.example']", dns);
}

/* ---- the mapping, source by source ------------------------------------------------- */

static void test_map_zeek(void **state)
{
    (void)state;
    struct event *http =
        EV("@product", "zeek", "@service", "http", "source.ip", "192.0.2.7", "destination.ip",
           "203.0.113.5", "url.full", "http://Evil.Example.com:8080/a/b?c=1", "host",
           "Evil.Example.com:8080", "uri", "/a/b?c=1", "method", "GET", "version", "1.1",
           "referrer", "http://ref.example/", "user_agent", "Mozilla/5.0 (evil)");
    assert_match("[url:value = 'http://Evil.Example.com:8080/a/b?c=1']", http);
    assert_match("[url:value = 'https://evil.example.com:8080/a/b?c=1']", http); /* normalised */
    assert_no_match("[url:value = 'http://evil.example.com:8080/a/B?c=1']", http);
    assert_match("[url:value LIKE 'http://Evil.Example.com:8080/%']", http);
    assert_match("[domain-name:value = 'evil.example.com']", http);
    assert_match("[network-traffic:extensions.'http-request-ext'.request_method = 'GET']", http);
    assert_match("[network-traffic:extensions.'http-request-ext'.request_value = '/a/b?c=1']",
                 http);
    assert_match("[network-traffic:extensions.'http-request-ext'.request_version = '1.1']", http);
    assert_match("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = "
                 "'Mozilla/5.0 (evil)']",
                 http);
    assert_match("[network-traffic:extensions.'http-request-ext'.request_header.'user-agent' LIKE "
                 "'Mozilla%']",
                 http);
    assert_match("[network-traffic:extensions.'http-request-ext'.request_header.Host = "
                 "'evil.example.com:8080']",
                 http);
    assert_match("[network-traffic:extensions.'http-request-ext'.request_header.Referer = "
                 "'http://ref.example/']",
                 http);
    /* "host" of another product is not an HTTP host */
    struct event *other = EV("@product", "json", "host", "evil.example.com");
    assert_no_match("[network-traffic:extensions.'http-request-ext'.request_header.Host = "
                    "'evil.example.com']",
                    other);

    struct event *ssl =
        EV("@product", "zeek", "@service", "ssl", "server_name", "Mail.Example.ORG", "subject",
           "CN=mail.example.org", "issuer", "CN=WEBMAIL", "cert_chain_fps",
           "[\""
           "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
           "\",\""
           "bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c"
           "\"]");
    assert_match("[domain-name:value = 'mail.example.org']", ssl);
    assert_match("[x509-certificate:issuer = 'CN=WEBMAIL']", ssl);
    assert_match("[x509-certificate:subject = 'CN=mail.example.org']", ssl);
    assert_match("[x509-certificate:hashes.'SHA-256' = "
                 "'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F']",
                 ssl);
    assert_no_match("[x509-certificate:hashes.'SHA-256' = "
                    "'bf07a7fbb825fc0aae7bf4a1177b2b31fcf8a3feeaf7092761e18c859ee52a9c']",
                    ssl); /* only the server's own certificate */

    struct event *x509 = EV("@product", "zeek", "@service", "x509", "certificate.subject",
                            "CN=WEBMAIL", "certificate.issuer", "CN=WEBMAIL", "certificate.serial",
                            "4C0B1D197486A766B41ABF4027217628", "certificate.version", "3",
                            "certificate.sig_alg", "sha256WithRSAEncryption", "certificate.key_alg",
                            "rsaEncryption", "certificate.exponent", "65537", "fingerprint",
                            "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_match("[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = "
                 "'4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
                 x509);
    assert_match("[x509-certificate:version = '3' AND x509-certificate:version = 3]", x509);
    assert_match("[x509-certificate:signature_algorithm = 'sha256WithRSAEncryption']", x509);
    assert_match("[x509-certificate:subject_public_key_algorithm = 'rsaEncryption']", x509);
    assert_match("[x509-certificate:subject_public_key_exponent = 65537]", x509);
    assert_match("[x509-certificate:hashes.'SHA-1' = 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709']",
                 x509);
    assert_match("[x509-certificate:hashes.SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
                 x509);
    assert_no_match(
        "[x509-certificate:hashes.'SHA-256' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']", x509);

    struct event *files = EV("@product", "zeek", "@service", "files", "file.name", "invoice.pdf",
                             "file.hash.md5", "79054025255fb1a26e4bc422aef54eb4", "file.hash.sha1",
                             "da39a3ee5e6b4b0d3255bfef95601890afd80709", "file.hash.sha256",
                             "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f",
                             "total_bytes", "371712", "mime_type", "application/pdf");
    assert_match("[file:name = 'invoice.pdf']", files);
    assert_match("[file:hashes.MD5 = '79054025255FB1A26E4BC422AEF54EB4']", files);
    assert_match("[file:hashes.md5 = '79054025255fb1a26e4bc422aef54eb4']", files);
    assert_match("[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']", files);
    assert_match("[file:hashes.SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']", files);
    assert_match("[file:hashes.'SHA-256' = "
                 "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
                 files);
    assert_match("[file:hashes.SHA256 = "
                 "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
                 files);
    assert_match("[(file:name = 'pdf.exe' OR file:size = 371712) AND file:mime_type = "
                 "'application/pdf']",
                 files);

    struct event *mac = EV("@product", "zeek", "@service", "dhcp", "mac", "00-1A-2B-3C-4D-5E");
    assert_match("[mac-addr:value = '00:1a:2b:3c:4d:5e']", mac);
    assert_match("[mac-addr:value = '00:1a:2b:3c:4d:5e']", conn_event());

    struct event *sw = EV("@product", "zeek", "@service", "software", "name", "OpenSSH",
                          "unparsed_version", "OpenSSH_9.6p1");
    assert_match("[software:name = 'OpenSSH' AND software:version LIKE 'OpenSSH_9%']", sw);
}

static void test_map_mail_logs(void **state)
{
    (void)state;
    struct event *pf = EV("@product", "postfix", "@service", "smtpd", "source.ip", "203.0.113.50",
                          "client_hostname", "mail.Bad.example", "user.name", "alice@example.org",
                          "email.from.address", "Alice@Example.org", "email.to.address",
                          "bob@partner.example", "orig_to", "accounts@example.org", "relay_host",
                          "unknown", "program", "postfix/smtpd", "pid", "4242");
    assert_match("[domain-name:value = 'mail.bad.example']", pf);
    assert_match("[domain-name:value = 'partner.example']", pf);
    assert_no_match("[domain-name:value = 'unknown']", pf);
    assert_match("[email-addr:value = 'alice@example.org']", pf);
    assert_match("[email-addr:value = 'accounts@example.org']", pf);
    assert_match("[email-message:from_ref.value = 'alice@example.org']", pf);
    assert_match("[email-message:to_refs[*].value = 'bob@partner.example']", pf);
    assert_match("[user-account:user_id = 'alice@example.org']", pf);
    assert_match("[user-account:account_login = 'alice@example.org']", pf);
    assert_match("[ipv4-addr:value = '203.0.113.50']", pf);
    assert_match("[process:name = 'postfix/smtpd' AND process:pid = 4242]", pf);
    /* m365 user agent */
    struct event *m365 = EV("@product", "m365", "UserAgent", "python-requests/2.31", "user.name",
                            "bob@example.org", "source.ip", "203.0.113.9");
    assert_match("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = "
                 "'python-requests/2.31']",
                 m365);
}

static void test_map_windows(void **state)
{
    (void)state;
    struct event *sysmon =
        EV("@product", "windows", "@service", "sysmon", "@category", "process_creation", "EventID",
           "1", "Image", "C:\\Windows\\System32\\certutil.exe", "process.command_line",
           "certutil.exe -urlcache -f http://x/y.exe", "ProcessId", "4321", "ParentProcessId",
           "1000", "ParentImage", "C:\\Windows\\explorer.exe", "ParentCommandLine",
           "C:\\Windows\\explorer.exe", "CurrentDirectory", "C:\\Users\\bob\\", "user.name", "bob",
           "file.hash.sha256", "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f");
    assert_match("[process:name = 'certutil.exe']", sysmon);
    assert_match("[process:image_ref.name = 'certutil.exe']", sysmon);
    assert_match("[process:command_line LIKE '%urlcache%']", sysmon);
    assert_match("[process:pid = 4321 AND process:parent_ref.pid = 1000]", sysmon);
    assert_match("[process:parent_ref.name = 'explorer.exe']", sysmon);
    assert_match("[process:parent_ref.command_line = 'C:\\\\Windows\\\\explorer.exe']", sysmon);
    assert_match("[process:cwd = 'C:\\\\Users\\\\bob\\\\']", sysmon);
    assert_match("[process:creator_user_ref.account_login = 'bob']", sysmon);
    assert_match("[process:image_ref.hashes.'SHA-256' = "
                 "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
                 sysmon);
    assert_match("[process:name IN ('proccy', 'certutil.exe')]", sysmon);
    /* Security 4688: NewProcessId is the process, ProcessId its creator (hex) */
    struct event *sec = EV("@product", "windows", "@service", "security", "EventID", "4688",
                           "NewProcessName", "C:\\Tools\\evil.exe", "NewProcessId", "0x1a2c",
                           "ProcessId", "0x3e8", "process.command_line", "evil.exe -x");
    assert_match("[process:name = 'evil.exe' AND process:pid = 6700 AND process:parent_ref.pid = "
                 "1000]",
                 sec);
    /* a command line alone still names the process */
    struct event *cmd = EV("process.command_line", "\"C:\\Program Files\\a b\\tool.exe\" /q");
    assert_match("[process:name = 'tool.exe']", cmd);
    /* registry */
    struct event *reg =
        EV("@product", "windows", "@service", "sysmon", "EventID", "13", "EventType", "SetValue",
           "TargetObject", "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Evil",
           "Details", "C:\\evil.exe");
    assert_match(
        "[windows-registry-key:key = "
        "'HKEY_LOCAL_MACHINE\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run']",
        reg);
    assert_match("[windows-registry-key:key = "
                 "'hklm\\\\software\\\\microsoft\\\\windows\\\\currentversion\\\\run']",
                 reg);
    assert_match("[windows-registry-key:values[*].name = 'Evil']", reg);
    assert_match("[windows-registry-key:values[*].data = 'C:\\\\evil.exe']", reg);
    assert_match("[EXISTS windows-registry-key:values]", reg);
    struct event *key = EV("@product", "windows", "EventID", "12", "EventType", "CreateKey",
                           "TargetObject", "HKU\\S-1-5-21\\Software\\CryptoLocker\\Files");
    assert_match("[windows-registry-key:key = "
                 "'HKEY_USERS\\\\S-1-5-21\\\\Software\\\\CryptoLocker\\\\Files']",
                 key);
    assert_no_match("[windows-registry-key:values[*].name = 'Files']", key);
    struct event *s4657 =
        EV("@product", "windows", "EventID", "4657", "ObjectName",
           "\\REGISTRY\\MACHINE\\SOFTWARE\\Run", "ObjectValueName", "x", "NewValue", "y");
    assert_match("[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Run' AND "
                 "windows-registry-key:values[*].name = 'x' AND "
                 "windows-registry-key:values[*].data = 'y']",
                 s4657);
    /* ObjectName of other events is not a registry key */
    struct event *s4663 = EV("@product", "windows", "EventID", "4663", "ObjectName",
                             "\\REGISTRY\\MACHINE\\SOFTWARE\\Run");
    assert_no_match("[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Run']", s4663);
    /* file events */
    struct event *fe = EV("@product", "windows", "TargetFilename", "C:\\Users\\bob\\evil.dll",
                          "file.name", "evil.dll");
    assert_match("[file:name = 'evil.dll' AND file:parent_directory_ref.path = "
                 "'C:\\\\Users\\\\bob']",
                 fe);
    assert_match("[directory:path = 'C:\\\\Users\\\\bob']", fe);
    struct event *net = EV("@product", "windows", "Protocol", "tcp", "source.ip", "10.0.0.5");
    assert_match("[network-traffic:protocols[*] = 'tcp']", net);
}

/* ---- events from kenchi's own decoders ----------------------------------- */

/* Decode TSV text line by line with the Zeek decoder; returns the data
 * events (up to max). */
static size_t zeek_tsv(const char *text, struct event **out, size_t max)
{
    const struct decoder *z = decoder_find("zeek");
    assert_non_null(z);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "smtp.log", 0, 0);
    size_t n = 0;
    for (const char *p = text; *p && n < max;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        struct event *ev = arena_alloc(&A, sizeof(*ev));
        event_init(ev, &A);
        ev->file = "smtp.log";
        ev->raw = str_make(arena_strndup(&A, p, len), len);
        if (z->decode_line(&ctx, ev) == 0)
            out[n++] = ev;
        p += len + (nl ? 1 : 0);
    }
    decode_ctx_fini(&ctx);
    return n;
}

/* Decode one JSON object with the decoder that claims it. */
static struct event *json_event(const char *text)
{
    struct event *ev = arena_alloc(&A, sizeof(*ev));
    event_init(ev, &A);
    ev->raw = str_make(arena_strndup(&A, text, strlen(text)), strlen(text));
    assert_int_equal(json_flatten(ev, ev->raw.p, ev->raw.n), 0);
    const struct decoder *d = decoder_for_json(ev);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "x.json", 0, 0);
    assert_int_equal(d->decode_json(&ctx, ev), 0);
    decode_ctx_fini(&ctx);
    return ev;
}

/* One syslog line through the syslog decoder and its applications. */
static struct event *syslog_event(const char *line)
{
    const struct decoder *d = decoder_find("syslog");
    assert_non_null(d);
    struct event *ev = arena_alloc(&A, sizeof(*ev));
    event_init(ev, &A);
    ev->raw = str_make(arena_strndup(&A, line, strlen(line)), strlen(line));
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "mail.log", 1709596800LL * NS_PER_SEC, 2024);
    assert_int_equal(d->decode_line(&ctx, ev), 0);
    decode_ctx_fini(&ctx);
    return ev;
}

static void test_real_decoders(void **state)
{
    (void)state;
    static const char smtp[] =
        "#separator \\x09\n"
        "#set_separator\t,\n"
        "#empty_field\t(empty)\n"
        "#unset_field\t-\n"
        "#path\tsmtp\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\thelo\t"
        "mailfrom\trcptto\tdate\tfrom\tto\tcc\treply_to\tmsg_id\tin_reply_to\tsubject\t"
        "x_originating_ip\tuser_agent\n"
        "#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\t"
        "set[string]\tstring\tstring\tset[string]\tset[string]\tstring\tstring\tstring\t"
        "string\taddr\tstring\n"
        "1709539473.402977\tC7mJq2pWz9Lk4Rt8Ue\t192.0.2.33\t46212\t198.51.100.25\t25\t1\t"
        "mail.partner.example.net\torders@partner.example.net\tinfo@example.org,sales@example.org\t"
        "Mon, 4 Mar 2024 09:04:30 +0100\tPartner Orders <orders@partner.example.net>\t"
        "info@example.org\tboss@example.org\t-\t<8044b1fb@partner.example.net>\t-\t"
        "Order 2024-0311 confirmation\t192.0.2.140\tMicrosoft Outlook 16.0\n";
    struct event *evs[4];
    assert_int_equal(zeek_tsv(smtp, evs, 4), 1);
    struct event *ev = evs[0];
    assert_match("[email-message:from_ref.value = 'orders@partner.example.net']", ev);
    assert_match("[email-message:sender_ref.value = 'orders@partner.example.net']", ev);
    assert_match("[email-message:to_refs[*].value = 'info@example.org']", ev);
    assert_match("[email-message:cc_refs[*].value = 'boss@example.org']", ev);
    assert_match("[email-addr:value = 'sales@example.org']", ev); /* the second RCPT */
    assert_match("[domain-name:value = 'partner.example.net']", ev);
    assert_match("[email-message:subject LIKE 'Order %']", ev);
    assert_match("[email-message:message_id = '<8044b1fb@partner.example.net>']", ev);
    assert_match("[email-message:additional_header_fields.'X-Originating-IP' ISSUBSET "
                 "'192.0.2.0/24']",
                 ev);
    assert_match("[network-traffic:dst_port = 25 AND network-traffic:src_ref.value = "
                 "'192.0.2.33']",
                 ev);
    assert_match("[email-message:additional_header_fields.'User-Agent' = 'Microsoft Outlook 16.0']",
                 ev);

    struct event *http = json_event(
        "{\"_path\":\"http\",\"ts\":1709539473.4,\"uid\":\"CX\",\"id.orig_h\":\"10.0.0.5\","
        "\"id.orig_p\":50000,\"id.resp_h\":\"203.0.113.80\",\"id.resp_p\":80,\"method\":\"POST\","
        "\"host\":\"upd.evil.example\",\"uri\":\"/gate.php\",\"user_agent\":\"Mozilla/4.0 "
        "(compatible)\",\"status_code\":200}");
    assert_match("[url:value = 'http://upd.evil.example/gate.php']", http);
    assert_match("[domain-name:value = 'upd.evil.example' AND "
                 "network-traffic:extensions.'http-request-ext'.request_method = 'POST']",
                 http);
    assert_match("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' "
                 "LIKE 'Mozilla/4.0%']",
                 http);
    assert_match("[network-traffic:dst_ref.value = '203.0.113.80' AND network-traffic:dst_port "
                 "= 80]",
                 http);

    struct event *conn = json_event(
        "{\"_path\":\"conn\",\"ts\":1709539473.4,\"uid\":\"CY\",\"id.orig_h\":\"10.0.0.5\","
        "\"id.orig_p\":50000,\"id.resp_h\":\"203.0.113.80\",\"id.resp_p\":443,\"proto\":\"tcp\","
        "\"service\":\"ssl\",\"orig_bytes\":1200,\"resp_bytes\":48213,\"conn_state\":\"SF\"}");
    assert_match("[network-traffic:protocols[*] = 'ssl' AND network-traffic:dst_byte_count > "
                 "40000]",
                 conn);

    struct event *pf = syslog_event("Mar  4 00:03:22 mx1 postfix/smtpd[1388]: connect from "
                                    "mail.bad.example[203.0.113.202]");
    assert_match("[domain-name:value = 'mail.bad.example' AND ipv4-addr:value = "
                 "'203.0.113.202']",
                 pf);
    assert_match("[process:name = 'postfix/smtpd' AND process:pid = 1388]", pf);
    struct event *pf2 =
        syslog_event("Mar  4 00:03:25 mx1 postfix/smtpd[1388]: 3F1A22C0456: client=unknown[203.0."
                     "113.202], sasl_method=PLAIN, sasl_username=alice@example.org");
    assert_match("[user-account:user_id = 'alice@example.org']", pf2);
    assert_no_match("[domain-name:value = 'unknown']", pf2);

    struct event *win = json_event(
        "{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"Computer\":"
        "\"ws1\",\"Image\":\"C:\\\\Windows\\\\System32\\\\certutil.exe\",\"CommandLine\":"
        "\"certutil -urlcache -f http://x/y.exe\",\"ProcessId\":4321,\"ParentImage\":"
        "\"C:\\\\Windows\\\\explorer.exe\",\"User\":\"CORP\\\\bob\",\"Hashes\":"
        "\"MD5=79054025255FB1A26E4BC422AEF54EB4,SHA256="
        "AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F\"}");
    assert_match("[process:name = 'certutil.exe' AND process:command_line LIKE '%urlcache%']", win);
    assert_match("[process:image_ref.hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4']", win);
    assert_match("[file:hashes.'SHA-256' = "
                 "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
                 win);
    assert_match("[process:parent_ref.name = 'explorer.exe' AND process:pid = 4321 AND "
                 "user-account:user_id = 'bob']",
                 win);
}

/* ---- simple values ----------------------------------------------------------------- */

struct sv {
    int n;
    char buf[1024];
};

static void sv_cb(void *opaque, enum ioc_type t, const char *v, size_t n)
{
    struct sv *s = opaque;
    size_t l = strlen(s->buf);
    snprintf(s->buf + l, sizeof(s->buf) - l, "%s%s=%.*s", s->n ? " " : "", ioc_type_name(t), (int)n,
             v);
    s->n++;
}

static const char *simple(const char *text, int *rc)
{
    static struct sv s;
    memset(&s, 0, sizeof(s));
    struct stix_pattern *p = compile(text);
    assert_non_null(p);
    *rc = stix_pattern_simple_values(p, sv_cb, &s);
    stix_pattern_free(p);
    return s.buf;
}

static void iv_cb(void *opaque, uint32_t obs, enum ioc_type t, const char *v, size_t n)
{
    struct sv *s = opaque;
    size_t l = strlen(s->buf);
    snprintf(s->buf + l, sizeof(s->buf) - l, "%s%u:%s=%.*s", s->n ? " " : "", obs, ioc_type_name(t),
             (int)n, v);
    s->n++;
}

static const char *index_values(const char *text, int *rc)
{
    static struct sv s;
    memset(&s, 0, sizeof(s));
    struct stix_pattern *p = compile(text);
    assert_non_null(p);
    *rc = stix_pattern_index_values(p, iv_cb, &s);
    stix_pattern_free(p);
    return s.buf;
}

/* The values a search through an index of values needs, per observation. */
static void test_index_values(void **state)
{
    (void)state;
    int rc;
    /* AND: the operand with the fewest values; OR: all; values normalised */
    assert_string_equal(
        index_values("([network-traffic:dst_port = 993 AND network-traffic:src_ref.value = "
                     "'203.0.113.129'] FOLLOWEDBY [domain-name:value IN ('A.example.', "
                     "'b.example') AND email-addr:value = 'X@Y.example']) WITHIN 60 SECONDS",
                     &rc),
        "0:ip=203.0.113.129 1:email=x@y.example");
    assert_int_equal(rc, 1);
    assert_string_equal(index_values("[ipv4-addr:value ISSUBSET '10.0.0.0/8' OR url:value = "
                                     "'http://Evil.example/x'] REPEATS 3 TIMES",
                                     &rc),
                        "0:ip=10.0.0.0/8 0:url=evil.example/x");
    assert_int_equal(rc, 1);
    /* accounts: user.name as the index keys it (lower-cased, not trimmed) */
    assert_string_equal(index_values("[user-account:user_id = 'Alice' OR "
                                     "user-account:account_login = ' bob'] FOLLOWEDBY "
                                     "[process:creator_user_ref.user_id IN ('C', 'd')]",
                                     &rc),
                        "0:account=alice 0:account= bob 1:account=c 1:account=d");
    assert_int_equal(rc, 1);
    /* an observation without such a value: the whole window is needed */
    static const char *const scan[] = {
        "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [network-traffic:dst_port = 4190]",
        "[ipv4-addr:value != '1.2.3.4']",
        "[ipv4-addr:value = '1.2.3.4' OR network-traffic:dst_port = 22]",
        "[domain-name:value LIKE '%.example']",
        "[ipv4-addr:value = 'not an address']",
        "[x-custom:value = 'a']",
    };
    for (size_t i = 0; i < sizeof(scan) / sizeof(scan[0]); i++) {
        assert_string_equal(index_values(scan[i], &rc), "");
        assert_int_equal(rc, 0);
    }
}

static void test_simple_values(void **state)
{
    (void)state;
    int rc;
    assert_string_equal(
        simple("[domain-name:value = 'av.ddns.us' OR ipv4-addr:value = '60.2.148.167']", &rc),
        "domain=av.ddns.us ip=60.2.148.167");
    assert_int_equal(rc, 1);
    assert_string_equal(simple("[ipv4-addr:value = '112.64.0.0/15']", &rc), "ip=112.64.0.0/15");
    assert_int_equal(rc, 1);
    /* an address inside a network: the network is an IP indicator */
    assert_string_equal(simple("[ipv4-addr:value ISSUBSET '10.0.0.0/8' OR "
                               "ipv6-addr:value ISSUBSET '2001:db8::/32']",
                               &rc),
                        "ip=10.0.0.0/8 ip=2001:db8::/32");
    assert_int_equal(rc, 1);
    assert_string_equal(simple("[file:hashes.'SHA-256' = "
                               "'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c' "
                               "OR file:hashes.md5 = '001dd76872d80801692ff942308c64e6' OR "
                               "file:hashes.SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
                               &rc),
                        "sha256=ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c "
                        "md5=001dd76872d80801692ff942308c64e6 "
                        "sha1=da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_int_equal(rc, 1);
    assert_string_equal(simple("[url:value IN ('http://a.example/x', 'http://b.example/')] ", &rc),
                        "url=http://a.example/x url=http://b.example/");
    assert_int_equal(rc, 1);
    assert_string_equal(simple("[email-addr:value = 'A@B.example' OR file:name = 'CBricksDoc' OR "
                               "network-traffic:extensions.'http-request-ext'.request_header."
                               "'User-Agent' = 'evil/1.0' OR ipv6-addr:value = '2001:db8::1']",
                               &rc),
                        "email=A@B.example filename=CBricksDoc user-agent=evil/1.0 ip=2001:db8::1");
    assert_int_equal(rc, 1);
    /* not simple: AND, !=, NOT, qualifiers, several observations, other paths,
     * invalid indicator values, non-string constants */
    static const char *const not_simple[] = {
        "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'a.example']",
        "[ipv4-addr:value != '1.2.3.4']",
        "[ipv4-addr:value NOT = '1.2.3.4']",
        "[ipv4-addr:value = '1.2.3.4'] REPEATS 2 TIMES",
        "[ipv4-addr:value = '1.2.3.4'] START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'",
        "[ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value = '1.2.3.5']",
        "[network-traffic:dst_ref.value = '1.2.3.4']",
        "[ipv4-addr:value = '999.1.1.1']",
        "[domain-name:value = 'domain autuo.xicp.net' OR ipv4-addr:value = '60.10.1.115']",
        "[file:hashes.md5 = 'nothex']",
        "[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']",
        "[x509-certificate:issuer = 'CN=WEBMAIL']",
        "[file:name = h'6162']",
        "[domain-name:value LIKE '%.example']",
    };
    for (size_t i = 0; i < sizeof(not_simple) / sizeof(not_simple[0]); i++) {
        const char *out = simple(not_simple[i], &rc);
        if (rc != 0 || out[0])
            fail_msg("simple: %s -> %d %s", not_simple[i], rc, out);
    }
}

/* ---- match_event and qualifiers on one event ---------------------------------------- */

static void test_match_event_qualifiers(void **state)
{
    (void)state;
    struct event *ev = conn_event(); /* 2024-03-04T10:00:00Z */
    assert_match("[ipv4-addr:value = '192.0.2.7'] WITHIN 5 SECONDS", ev);
    assert_match("[ipv4-addr:value = '192.0.2.7'] START t'2024-03-04T00:00:00Z' STOP "
                 "t'2024-03-05T00:00:00Z'",
                 ev);
    assert_match("[ipv4-addr:value = '192.0.2.7'] START t'2024-03-04T10:00:00Z' STOP "
                 "t'2024-03-05T00:00:00Z'",
                 ev);
    assert_no_match("[ipv4-addr:value = '192.0.2.7'] START t'2024-03-03T00:00:00Z' STOP "
                    "t'2024-03-04T10:00:00Z'",
                    ev); /* STOP excluded */
    assert_no_match("[ipv4-addr:value = '192.0.2.7'] REPEATS 2 TIMES", ev);
    assert_match("[ipv4-addr:value = '192.0.2.7'] REPEATS 1 TIMES", ev);
    assert_no_match("[ipv4-addr:value = '192.0.2.7'] AND [network-traffic:dst_port = 443]", ev);
    assert_match("([ipv4-addr:value = '192.0.2.7'])", ev);
}

/* ---- the stream matcher -------------------------------------------------------------- */

struct hit {
    void *user;
    size_t nevs;
    uint64_t ids[16];
};

struct hits {
    int n;
    struct hit h[64];
};

static int on_match(void *opaque, void *user, const struct stix_evref *evs, size_t nevs)
{
    struct hits *hs = opaque;
    assert_true(nevs > 0);
    for (size_t i = 1; i < nevs; i++)
        assert_true(evs[i - 1].ts_ns <= evs[i].ts_ns);
    if (hs->n < 64) {
        struct hit *h = &hs->h[hs->n];
        h->user = user;
        h->nevs = nevs;
        for (size_t i = 0; i < nevs && i < 16; i++)
            h->ids[i] = evs[i].id;
    }
    hs->n++;
    return 0;
}

/* An event with id, time (seconds after 2024-03-04T00:00:00Z) and one
 * native field "k" (product "t"), under the path x-t... no: under
 * user-account:user_id (user.name) so patterns read it. */
static struct event *uev(uint64_t id, int64_t sec, const char *user)
{
    struct event *ev = EV("user.name", user, "@product", "t");
    ev->id = id;
    ev->ts_ns = 1709510400LL * NS_PER_SEC + sec * NS_PER_SEC;
    ev->file = "log";
    ev->line = id;
    return ev;
}

struct stream {
    struct stix_matcher *m;
    struct stix_pattern *p[8];
    int np;
    struct hits hs;
};

static void st_open(struct stream *s, const char *pattern, uint32_t max_kept)
{
    memset(s, 0, sizeof(*s));
    struct stix_matcher_opts o = {max_kept, 0, false};
    s->m = stix_matcher_new(&o);
    assert_non_null(s->m);
    if (pattern) {
        s->p[0] = compile(pattern);
        assert_non_null(s->p[0]);
        assert_int_equal(stix_matcher_add(s->m, s->p[0], (void *)(uintptr_t)1), 0);
        s->np = 1;
    }
}

static void st_feed(struct stream *s, uint64_t id, int64_t sec, const char *user)
{
    assert_int_equal(stix_matcher_feed(s->m, uev(id, sec, user), on_match, &s->hs), 0);
}

static void st_close(struct stream *s)
{
    stix_matcher_free(s->m);
    for (int i = 0; i < s->np; i++)
        stix_pattern_free(s->p[i]);
}

#define A_ "[user-account:user_id = 'a']"
#define B_ "[user-account:user_id = 'b']"
#define C_ "[user-account:user_id = 'c']"

static void test_stream_single(void **state)
{
    (void)state;
    struct stream s;
    st_open(&s, A_, 0);
    st_feed(&s, 1, 0, "a");
    st_feed(&s, 2, 1, "b");
    st_feed(&s, 3, 2, "a");
    assert_int_equal(s.hs.n, 2);
    assert_int_equal(s.hs.h[0].ids[0], 1);
    assert_int_equal(s.hs.h[1].ids[0], 3);
    assert_ptr_equal(s.hs.h[0].user, (void *)(uintptr_t)1);
    struct stix_matcher_stats st;
    stix_matcher_stats(s.m, &st);
    assert_int_equal(st.events, 3);
    assert_int_equal(st.matches, 2);
    assert_int_equal(st.kept, 0);
    st_close(&s);
    /* OR of observations: one match per event */
    st_open(&s, A_ " OR " B_, 0);
    st_feed(&s, 1, 0, "a");
    st_feed(&s, 2, 1, "b");
    st_feed(&s, 3, 2, "c");
    assert_int_equal(s.hs.n, 2);
    st_close(&s);
}

static void test_stream_and(void **state)
{
    (void)state;
    struct stream s;
    st_open(&s, A_ " AND " B_, 0);
    st_feed(&s, 1, 0, "a");
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 2, 100, "a");
    st_feed(&s, 3, 200, "b"); /* pairs with the newest a */
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].nevs, 2);
    assert_int_equal(s.hs.h[0].ids[0], 2);
    assert_int_equal(s.hs.h[0].ids[1], 3);
    st_feed(&s, 4, 300, "b"); /* with the remaining a */
    assert_int_equal(s.hs.n, 2);
    assert_int_equal(s.hs.h[1].ids[0], 1);
    st_feed(&s, 5, 400, "b"); /* no a left: kept */
    assert_int_equal(s.hs.n, 2);
    st_feed(&s, 6, 500, "a");
    assert_int_equal(s.hs.n, 3);
    assert_int_equal(s.hs.h[2].ids[0], 5);
    assert_int_equal(s.hs.h[2].ids[1], 6);
    st_close(&s);
    /* AND of the same observation needs two distinct events */
    st_open(&s, A_ " AND " A_, 0);
    st_feed(&s, 1, 0, "a");
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 2, 1, "a");
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].nevs, 2);
    st_feed(&s, 3, 2, "a");
    assert_int_equal(s.hs.n, 1);
    st_close(&s);
}

static void test_stream_followedby(void **state)
{
    (void)state;
    struct stream s;
    st_open(&s, A_ " FOLLOWEDBY " B_, 0);
    st_feed(&s, 1, 0, "b");
    st_feed(&s, 2, 10, "a");
    assert_int_equal(s.hs.n, 0); /* b came first */
    st_feed(&s, 3, 20, "b");
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].ids[0], 2);
    assert_int_equal(s.hs.h[0].ids[1], 3);
    st_feed(&s, 4, 30, "b"); /* the a was consumed */
    assert_int_equal(s.hs.n, 1);
    st_close(&s);
    /* equal times count as following */
    st_open(&s, A_ " FOLLOWEDBY " B_, 0);
    st_feed(&s, 1, 5, "a");
    st_feed(&s, 2, 5, "b");
    assert_int_equal(s.hs.n, 1);
    st_close(&s);
    /* three in a row, left-associative */
    st_open(&s, A_ " FOLLOWEDBY " B_ " FOLLOWEDBY " C_, 0);
    st_feed(&s, 1, 0, "a");
    st_feed(&s, 2, 1, "c");
    st_feed(&s, 3, 2, "b");
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 4, 3, "c");
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].nevs, 3);
    assert_int_equal(s.hs.h[0].ids[0], 1);
    assert_int_equal(s.hs.h[0].ids[1], 3);
    assert_int_equal(s.hs.h[0].ids[2], 4);
    st_close(&s);
}

static void test_stream_within(void **state)
{
    (void)state;
    struct stream s;
    st_open(&s, "(" A_ " AND " B_ ") WITHIN 60 SECONDS", 0);
    st_feed(&s, 1, 0, "a");
    st_feed(&s, 2, 60, "b"); /* exactly 60 s apart: not within */
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 3, 100, "a"); /* 40 s after b */
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].ids[0], 2);
    assert_int_equal(s.hs.h[0].ids[1], 3);
    st_feed(&s, 4, 1000, "b");
    struct stix_matcher_stats st;
    stix_matcher_stats(s.m, &st);
    assert_true(st.expired >= 1); /* the a at 0 s was dropped by its window */
    st_close(&s);
    /* FOLLOWEDBY within a window, as in the specification's example */
    st_open(&s, "(" A_ " FOLLOWEDBY " B_ ") WITHIN 300 SECONDS", 0);
    st_feed(&s, 1, 0, "a");
    st_feed(&s, 2, 400, "b");
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 3, 500, "a");
    st_feed(&s, 4, 501, "b");
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].ids[0], 3);
    st_close(&s);
    /* WITHIN on the right operand only (qualifiers bind tightly) */
    st_open(&s, A_ " FOLLOWEDBY " B_ " WITHIN 1 SECONDS", 0);
    st_feed(&s, 1, 0, "a");
    st_feed(&s, 2, 5000, "b");
    assert_int_equal(s.hs.n, 1);
    st_close(&s);
    /* fractional windows */
    st_open(&s, "(" A_ " AND " B_ ") WITHIN 0.5 SECONDS", 0);
    struct event *e1 = uev(1, 0, "a"), *e2 = uev(2, 0, "b");
    e2->ts_ns += 600000000;
    assert_int_equal(stix_matcher_feed(s.m, e1, on_match, &s.hs), 0);
    assert_int_equal(stix_matcher_feed(s.m, e2, on_match, &s.hs), 0);
    assert_int_equal(s.hs.n, 0);
    struct event *e3 = uev(3, 0, "a");
    e3->ts_ns += 900000000;
    assert_int_equal(stix_matcher_feed(s.m, e3, on_match, &s.hs), 0);
    assert_int_equal(s.hs.n, 1);
    st_close(&s);
}

static void test_stream_repeats(void **state)
{
    (void)state;
    struct stream s;
    st_open(&s, A_ " REPEATS 3 TIMES", 0);
    for (int i = 1; i <= 7; i++)
        st_feed(&s, (uint64_t)i, i, "a");
    assert_int_equal(s.hs.n, 2); /* events 1-3 and 4-6 */
    assert_int_equal(s.hs.h[0].nevs, 3);
    assert_int_equal(s.hs.h[0].ids[0], 1);
    assert_int_equal(s.hs.h[0].ids[2], 3);
    assert_int_equal(s.hs.h[1].ids[0], 4);
    st_close(&s);
    /* REPEATS with WITHIN: the beaconing example */
    st_open(&s, A_ " REPEATS 3 TIMES WITHIN 10 SECONDS", 0);
    st_feed(&s, 1, 0, "a");
    st_feed(&s, 2, 8, "a");
    st_feed(&s, 3, 12, "a"); /* 0..12: too wide */
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 4, 13, "a"); /* 8, 12, 13 */
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].ids[0], 2);
    st_close(&s);
    /* b then 3 c after it; the REPEATS binds to c only */
    st_open(&s, A_ " FOLLOWEDBY " B_ " REPEATS 2 TIMES", 0);
    st_feed(&s, 1, 0, "b");
    st_feed(&s, 2, 1, "a");
    st_feed(&s, 3, 2, "b");
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 4, 3, "b");
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].nevs, 3);
    assert_int_equal(s.hs.h[0].ids[0], 2);
    st_close(&s);
    /* pairs repeated: 5 a's and 5 b's, here 2 of each */
    st_open(&s, "(" A_ " AND " B_ ") REPEATS 2 TIMES", 0);
    st_feed(&s, 1, 0, "a");
    st_feed(&s, 2, 1, "b");
    st_feed(&s, 3, 2, "a");
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 4, 3, "b");
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].nevs, 4);
    st_close(&s);
    /* a pair of a FOLLOWEDBY b, twice */
    st_open(&s, "(" A_ " FOLLOWEDBY " B_ ") REPEATS 2 TIMES", 0);
    st_feed(&s, 1, 0, "b");
    st_feed(&s, 2, 1, "a");
    st_feed(&s, 3, 2, "b");
    st_feed(&s, 4, 3, "a");
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 5, 4, "b");
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].nevs, 4);
    st_close(&s);
    /* OR under REPEATS spreads over the operands */
    st_open(&s, "(" A_ " OR " B_ ") REPEATS 2 TIMES", 0);
    st_feed(&s, 1, 0, "a");
    st_feed(&s, 2, 1, "b");
    assert_int_equal(s.hs.n, 1);
    st_close(&s);
}

static void test_stream_startstop(void **state)
{
    (void)state;
    struct stream s;
    st_open(&s, A_ " START t'2024-03-04T00:00:10Z' STOP t'2024-03-04T00:00:20Z'", 0);
    st_feed(&s, 1, 9, "a");
    st_feed(&s, 2, 10, "a");
    st_feed(&s, 3, 19, "a");
    st_feed(&s, 4, 20, "a");
    assert_int_equal(s.hs.n, 2);
    assert_int_equal(s.hs.h[0].ids[0], 2);
    assert_int_equal(s.hs.h[1].ids[0], 3);
    st_close(&s);
    st_open(&s, "(" A_ " AND " B_ " START t'2024-03-04T00:00:10Z' STOP t'2024-03-04T00:00:20Z')",
            0);
    st_feed(&s, 1, 0, "a");
    st_feed(&s, 2, 5, "b"); /* b outside its window */
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 3, 15, "b");
    assert_int_equal(s.hs.n, 1);
    st_close(&s);
}

static void test_stream_consumption_and_nesting(void **state)
{
    (void)state;
    struct stream s;
    /* the spec's example: both file and registry key, or one process */
    st_open(&s, "(" A_ " AND " B_ ") OR " C_, 0);
    st_feed(&s, 1, 0, "c");
    assert_int_equal(s.hs.n, 1);
    st_feed(&s, 2, 1, "a");
    st_feed(&s, 3, 2, "b");
    assert_int_equal(s.hs.n, 2);
    assert_int_equal(s.hs.h[1].nevs, 2);
    st_close(&s);
    /* one event matching two leaves is used once */
    st_open(&s, "[user-account:user_id LIKE '%'] AND " A_, 0);
    st_feed(&s, 1, 0, "a");
    assert_int_equal(s.hs.n, 0);
    st_feed(&s, 2, 1, "a");
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].nevs, 2);
    st_close(&s);
    /* several patterns, one matcher */
    st_open(&s, NULL, 0);
    const char *pats[] = {A_, A_ " AND " B_, "(" A_ " FOLLOWEDBY " C_ ") WITHIN 5 SECONDS",
                          "[user-account:user_id IN ('a', 'b')] REPEATS 2 TIMES"};
    for (int i = 0; i < 4; i++) {
        s.p[i] = compile(pats[i]);
        assert_non_null(s.p[i]);
        assert_int_equal(stix_matcher_add(s.m, s.p[i], (void *)(uintptr_t)(i + 1)), 0);
    }
    s.np = 4;
    st_feed(&s, 1, 0, "a"); /* pattern 1 */
    st_feed(&s, 2, 1, "b"); /* pattern 2 (a+b), pattern 4 (a, b) */
    st_feed(&s, 3, 2, "c"); /* pattern 3 (a, c) */
    int per[5] = {0};
    for (int i = 0; i < s.hs.n; i++)
        per[(uintptr_t)s.hs.h[i].user]++;
    assert_int_equal(per[1], 1);
    assert_int_equal(per[2], 1);
    assert_int_equal(per[3], 1);
    assert_int_equal(per[4], 1);
    st_close(&s);
}

static void test_stream_bounds(void **state)
{
    (void)state;
    struct stream s;
    /* the cap keeps the most recent observations */
    st_open(&s, A_ " AND " B_, 5);
    for (int i = 1; i <= 20; i++)
        st_feed(&s, (uint64_t)i, i, "a");
    struct stix_matcher_stats st;
    stix_matcher_stats(s.m, &st);
    assert_int_equal(st.kept, 5);
    assert_int_equal(st.dropped, 15);
    st_feed(&s, 21, 21, "b");
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].ids[0], 20);
    st_close(&s);
    /* a pattern that needs more observations than the cap is refused */
    st_open(&s, NULL, 5);
    struct stix_pattern *p = compile(A_ " REPEATS 6 TIMES");
    assert_int_equal(stix_matcher_add(s.m, p, NULL), -E2BIG);
    stix_pattern_free(p);
    st_close(&s);
    /* leaves that join nothing keep nothing */
    st_open(&s, A_ " OR (" B_ " AND " C_ ")", 0);
    for (int i = 1; i <= 10; i++)
        st_feed(&s, (uint64_t)i, i, "a");
    stix_matcher_stats(s.m, &st);
    assert_int_equal(st.kept, 0);
    assert_int_equal(s.hs.n, 10);
    st_close(&s);
    /* the prefilter skips events that carry nothing the patterns read */
    st_open(&s, A_ " AND " B_, 0);
    struct event *other = EV("file.name", "x");
    assert_int_equal(stix_matcher_feed(s.m, other, on_match, &s.hs), 0);
    st_feed(&s, 2, 0, "zzz"); /* user.name but no such value */
    stix_matcher_stats(s.m, &st);
    assert_int_equal(st.events_skipped, 2);
    assert_int_equal(st.evaluations, 0);
    st_close(&s);
    /* a search stopped by its budget is counted, nothing breaks */
    struct stix_matcher_opts o = {0, 50, false};
    struct stix_matcher *m = stix_matcher_new(&o);
    p = compile("([user-account:user_id = 'a'] AND [user-account:user_id = 'b']) FOLLOWEDBY "
                "[user-account:user_id = 'x'] FOLLOWEDBY [user-account:user_id = 'c']");
    assert_int_equal(stix_matcher_add(m, p, NULL), 0);
    struct hits hs = {0};
    for (int i = 0; i < 40; i++)
        stix_matcher_feed(m, uev((uint64_t)i, 100 + i, i % 2 ? "a" : "b"), on_match, &hs);
    stix_matcher_feed(m, uev(100, 0, "x"), on_match, &hs); /* before all: useless */
    for (int i = 0; i < 5; i++)
        stix_matcher_feed(m, uev((uint64_t)(200 + i), 500 + i, "c"), on_match, &hs);
    stix_matcher_stats(m, &st);
    assert_true(st.searches_cut > 0);
    assert_int_equal(hs.n, 0);
    stix_matcher_free(m);
    stix_pattern_free(p);
}

/* The largest pattern the engine takes, on as many events: the search
 * nests one call per pick, so this bounds its stack. */
static void test_stream_deep(void **state)
{
    (void)state;
    struct stream s;
    st_open(&s, "[user-account:user_id = 'a'] REPEATS 1000 TIMES", 0);
    for (int i = 1; i <= 2500; i++)
        st_feed(&s, (uint64_t)i, i, "a");
    assert_int_equal(s.hs.n, 2);
    assert_int_equal(s.hs.h[0].nevs, 1000);
    struct stix_matcher_stats st;
    stix_matcher_stats(s.m, &st);
    assert_int_equal(st.kept, 500);
    st_close(&s);
    st_open(&s,
            "([user-account:user_id = 'a'] FOLLOWEDBY [user-account:user_id = 'b']) REPEATS "
            "500 TIMES",
            0);
    for (int i = 1; i <= 1000; i++)
        st_feed(&s, (uint64_t)i, i, i % 2 ? "a" : "b");
    assert_int_equal(s.hs.n, 1);
    assert_int_equal(s.hs.h[0].nevs, 1000);
    st_close(&s);
}

/* The prefilter never loses a match: the same stream through a matcher
 * with and without it gives the same matches, pattern by pattern. */
static int count_per_user(void *opaque, void *user, const struct stix_evref *evs, size_t nevs)
{
    (void)evs;
    (void)nevs;
    ((int *)opaque)[(uintptr_t)user]++;
    return 0;
}

static void test_prefilter_agrees(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "[ipv4-addr:value = '192.0.2.7']",
        "[ipv4-addr:value = '192.0.2.0/24']",
        "[ipv4-addr:value != '192.0.2.7']",
        "[ipv4-addr:value NOT = '198.51.100.25' AND network-traffic:dst_port = '443']",
        "[network-traffic:dst_port IN (25, 443)]",
        "[network-traffic:dst_port = 443.0]",
        "[network-traffic:protocols[*] = 'TCP']",
        "[domain-name:value = 'Lists.Example.NET.']",
        "[email-addr:value = 'NoReply@lists.example.net' OR file:name = 'x']",
        "[email-message:subject LIKE '%March%' AND email-message:from_ref.value = "
        "'noreply@lists.example.net']",
        "[NOT EXISTS network-traffic:extensions.'http-request-ext'.request_method]",
        "[EXISTS email-message:cc_refs]",
        "[process:pid = 4321 OR process:pid = '0x10']",
        "[user-account:user_id = 'a'] AND [user-account:user_id = 'b']",
        "([user-account:user_id = 'a'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.7']) WITHIN 100 "
        "SECONDS",
        "[user-account:user_id IN ('a', 'b')] REPEATS 3 TIMES",
        "[x509-certificate:version = 3 OR x509-certificate:version = '3']",
        "[mac-addr:value = '00-1a-2b-3c-4d-5e']",
        "[url:value = 'HTTP://evil.example:80/a']",
        "[domain-name:resolves_to_refs[*].value = '198.51.100.1']",
        "[file:hashes.MD5 = '79054025255FB1A26E4BC422AEF54EB4']",
        "[x-custom:x = 1] OR [file:name != 'y']",
    };
    const size_t np = sizeof(pats) / sizeof(pats[0]);
    struct stix_pattern *ps[32];
    struct stix_matcher_opts with = {0, 0, false}, without = {0, 0, true};
    struct stix_matcher *m1 = stix_matcher_new(&with), *m2 = stix_matcher_new(&without);
    for (size_t i = 0; i < np; i++) {
        ps[i] = compile(pats[i]);
        assert_non_null(ps[i]);
        assert_int_equal(stix_matcher_add(m1, ps[i], (void *)(uintptr_t)i), 0);
        assert_int_equal(stix_matcher_add(m2, ps[i], (void *)(uintptr_t)i), 0);
    }
    struct event *evs[] = {
        conn_event(),
        EV("@product", "zeek", "@service", "smtp", "email.from.address",
           "noreply@lists.example.net", "from", "Lists <NOREPLY@lists.example.net>", "cc",
           "[\"d@example.net\"]", "email.subject", "[members] March programme", "source.ip",
           "192.0.2.7"),
        EV("@product", "zeek", "@service", "dns", "dns.question.name", "x.example", "answers",
           "[\"198.51.100.1\"]"),
        EV("@product", "zeek", "@service", "x509", "certificate.version", "3"),
        EV("@product", "zeek", "@service", "files", "file.name", "a", "file.hash.md5",
           "79054025255fb1a26e4bc422aef54eb4"),
        EV("@product", "zeek", "@service", "http", "url.full", "http://Evil.example/a", "method",
           "GET"),
        EV("@product", "windows", "ProcessId", "4321"),
        EV("@product", "windows", "ProcessId", "4321.0"),
        EV("@product", "zeek", "@service", "conn", "destination.port", "443.0", "source.ip",
           "::ffff:192.0.2.7", "proto", "TCP"),
        EV("@product", "postfix", "pid", "16", "program", "postfix/smtpd"),
        EV("user.name", "a"),
        EV("user.name", "b"),
        EV("user.name", "a", "source.ip", "192.0.2.7"),
        EV("file.name", "y"),
    };
    const size_t ne = sizeof(evs) / sizeof(evs[0]);
    int c1[32] = {0}, c2[32] = {0};
    unsigned seed = 7;
    int64_t t = 1709510400LL * NS_PER_SEC;
    for (int i = 0; i < 400; i++) {
        seed = seed * 1103515245u + 12345u;
        struct event *ev = evs[(seed >> 8) % ne];
        t += (int64_t)((seed >> 4) % 20) * NS_PER_SEC;
        ev->ts_ns = t;
        ev->id = (uint64_t)i;
        stix_matcher_feed(m1, ev, count_per_user, c1);
        stix_matcher_feed(m2, ev, count_per_user, c2);
    }
    for (size_t i = 0; i < np; i++) {
        if (c1[i] != c2[i])
            fail_msg("%s: %d matches with the prefilter, %d without", pats[i], c1[i], c2[i]);
    }
    int total = 0;
    for (size_t i = 0; i < np; i++)
        total += c1[i] > 0;
    assert_true(total >= (int)np - 2); /* the patterns do match something */
    struct stix_matcher_stats st1, st2;
    stix_matcher_stats(m1, &st1);
    stix_matcher_stats(m2, &st2);
    assert_true(st1.evaluations * 3 < st2.evaluations);
    stix_matcher_free(m1);
    stix_matcher_free(m2);
    for (size_t i = 0; i < np; i++)
        stix_pattern_free(ps[i]);
}

static void test_stream_on_match_stop(void **state)
{
    (void)state;
    struct stix_matcher *m = stix_matcher_new(NULL);
    struct stix_pattern *p = compile(A_);
    stix_matcher_add(m, p, NULL);
    int rc = stix_matcher_feed(m, uev(1, 0, "a"), NULL, NULL);
    assert_int_equal(rc, 0);
    struct stix_matcher_stats st;
    stix_matcher_stats(m, &st);
    assert_int_equal(st.matches, 1);
    stix_matcher_free(m);
    stix_pattern_free(p);
}

/* ---- the example bundles --------------------------------------------------------------- */

static int nbundle_patterns, nbundle_bad;

static void bundle_walk(json_t *v)
{
    if (json_is_object(v)) {
        json_t *pat = json_object_get(v, "pattern");
        json_t *pt = json_object_get(v, "pattern_type");
        if (json_is_string(pat) &&
            (!pt || (json_is_string(pt) && !strcmp(json_string_value(pt), "stix")))) {
            const char *text = json_string_value(pat);
            struct stix_pattern *p = NULL;
            char e[256];
            nbundle_patterns++;
            if (stix_pattern_compile(text, strlen(text), &p, e, sizeof(e))) {
                print_error("bundle pattern refused: %s: %s\n", text, e);
                nbundle_bad++;
            }
            stix_pattern_free(p);
        }
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) bundle_walk(x);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) bundle_walk(x);
    }
}

static void bundle_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat sb;
        if (stat(path, &sb))
            continue;
        if (S_ISDIR(sb.st_mode)) {
            bundle_dir(path);
        } else if (strstr(de->d_name, ".json")) {
            json_error_t je;
            json_t *root = json_load_file(path, 0, &je);
            if (root) {
                bundle_walk(root);
                json_decref(root);
            }
        }
    }
    closedir(d);
}

static void test_example_bundles(void **state)
{
    (void)state;
    const char *shared = getenv("KENCHI_SHARED");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/specs/stix/examples", shared ? shared : "../shared");
    struct stat sb;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) {
        print_message("# skipped: no STIX example bundles at %s\n", dir);
        skip();
    }
    nbundle_patterns = nbundle_bad = 0;
    bundle_dir(dir);
    print_message("# %d patterns in the example bundles\n", nbundle_patterns);
    assert_true(nbundle_patterns > 0);
    assert_int_equal(nbundle_bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selftest),
        cmocka_unit_test(test_spec_examples),
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_equality_and_order),
        cmocka_unit_test(test_like_matches),
        cmocka_unit_test(test_ip_sets),
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_strings_and_escapes),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_lists_and_refs),
        cmocka_unit_test(test_object_binding),
        cmocka_unit_test(test_map_zeek),
        cmocka_unit_test(test_map_mail_logs),
        cmocka_unit_test(test_map_windows),
        cmocka_unit_test(test_real_decoders),
        cmocka_unit_test(test_simple_values),
        cmocka_unit_test(test_index_values),
        cmocka_unit_test(test_match_event_qualifiers),
        cmocka_unit_test(test_stream_single),
        cmocka_unit_test(test_stream_and),
        cmocka_unit_test(test_stream_followedby),
        cmocka_unit_test(test_stream_within),
        cmocka_unit_test(test_stream_repeats),
        cmocka_unit_test(test_stream_startstop),
        cmocka_unit_test(test_stream_consumption_and_nesting),
        cmocka_unit_test(test_stream_bounds),
        cmocka_unit_test(test_stream_deep),
        cmocka_unit_test(test_prefilter_agrees),
        cmocka_unit_test(test_stream_on_match_stop),
        cmocka_unit_test(test_example_bundles),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
