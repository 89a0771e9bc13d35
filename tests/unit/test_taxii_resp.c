/* Unit tests for the TAXII readers without a server (intel/taxii-resp.c)
 * and the TAXII configuration (intel/taxii-config.c). */
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

#include "intel/taxii-resp.h"
#include "intel/taxii.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_root_documents(void **state)
{
    (void)state;
    char err[512];
    struct taxii_root_doc d;
    assert_int_equal(taxii_parse_root(S("{\"title\":\"hub\",\"default\":\"https://x/api1/\","
                                        "\"api_roots\":[\"https://x/api1/\",\"/api2/\"]}"),
                                      &d, err, sizeof(err)),
                     0);
    assert_true(d.discovery);
    assert_string_equal(d.default_root, "https://x/api1/");
    assert_int_equal(d.nroots, 2);
    assert_string_equal(d.roots[1], "/api2/");
    taxii_root_doc_free(&d);

    assert_int_equal(taxii_parse_root(S("{\"title\":\"r\",\"versions\":[\"application/"
                                        "taxii+json; version=\\\"2.1\\\"\"],"
                                        "\"max_content_length\":1000}"),
                                      &d, err, sizeof(err)),
                     0);
    assert_false(d.discovery);
    assert_true(d.speaks_21);
    assert_int_equal(d.max_length, 1000);
    taxii_root_doc_free(&d);

    assert_int_equal(taxii_parse_root(S("{\"versions\":[\"application/taxii+json;version=2.0\","
                                        "\"application/json\"]}"),
                                      &d, err, sizeof(err)),
                     0);
    assert_false(d.speaks_21);
    assert_string_equal(d.versions, "application/taxii+json;version=2.0, application/json");
    taxii_root_doc_free(&d);

    assert_int_equal(taxii_parse_root(S("{\"title\":\"nothing\"}"), &d, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "neither a TAXII discovery document"));
    taxii_root_doc_free(&d);
    assert_int_equal(taxii_parse_root(S("{\"api_roots\":\"https://x/\"}"), &d, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "`api_roots` is a string, not a list"));
    taxii_root_doc_free(&d);
    assert_int_equal(taxii_parse_root(S("{\"api_roots\": [1]}"), &d, err, sizeof(err)), -EPROTO);
    taxii_root_doc_free(&d);
    assert_int_equal(taxii_parse_root(S("{\"title\": \n  tru}"), &d, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "bad JSON at line 2, column"));
    taxii_root_doc_free(&d);
    assert_int_equal(taxii_parse_root(S("[]"), &d, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "a list, not a JSON object"));
    taxii_root_doc_free(&d);
}

static void test_collections(void **state)
{
    (void)state;
    char err[512];
    struct taxii_collections c;
    assert_int_equal(taxii_parse_collections(S("{\"collections\":[{\"id\":\"a\",\"title\":\"A\","
                                               "\"can_read\":true},{\"id\":\"b\",\"can_read\":"
                                               "false},{\"id\":\"c\"}]}"),
                                             &c, err, sizeof(err)),
                     0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.v[0].title, "A");
    assert_true(c.v[0].can_read);
    assert_false(c.v[1].can_read);
    assert_null(c.v[1].title);
    assert_false(c.v[2].can_read);
    taxii_collections_free(&c);
    assert_int_equal(taxii_parse_collections(S("{}"), &c, err, sizeof(err)), 0);
    assert_int_equal(c.n, 0);
    taxii_collections_free(&c);
    assert_int_equal(
        taxii_parse_collections(S("{\"collections\":[{\"title\":\"x\"}]}"), &c, err, sizeof(err)),
        -EPROTO);
    assert_non_null(strstr(err, "collection 0 has no `id`"));
    taxii_collections_free(&c);
    assert_int_equal(taxii_parse_collections(S("{\"collections\":[{\"id\":\"a\",\"can_read\":"
                                               "\"yes\"}]}"),
                                             &c, err, sizeof(err)),
                     -EPROTO);
    assert_non_null(strstr(err, "`can_read` is a string"));
    taxii_collections_free(&c);
}

static void test_envelope(void **state)
{
    (void)state;
    char err[512];
    struct taxii_envelope e;
    assert_int_equal(taxii_parse_envelope(S("{\"more\":true,\"next\":\"p2\",\"objects\":[{\"type\":"
                                            "\"indicator\"},{\"type\":\"x\",\"date_added\":"
                                            "\"2024-01-01T00:00:01.5Z\"},{\"date_added\":"
                                            "\"2023-01-01T00:00:00Z\"}]}"),
                                          &e, err, sizeof(err)),
                     0);
    assert_true(e.more);
    assert_string_equal(e.next, "p2");
    assert_int_equal(e.nobjects, 3);
    assert_string_equal(e.newest_added, "2024-01-01T00:00:01.5Z");
    taxii_envelope_free(&e);

    assert_int_equal(taxii_parse_envelope(S("{}"), &e, err, sizeof(err)), 0);
    assert_false(e.more);
    assert_null(e.next);
    assert_int_equal(e.nobjects, 0);
    taxii_envelope_free(&e);
    assert_int_equal(
        taxii_parse_envelope(S("{\"more\":false,\"next\":\"\"}"), &e, err, sizeof(err)), 0);
    assert_null(e.next);
    taxii_envelope_free(&e);

    static const struct {
        const char *json, *why;
    } bad[] = {
        {"{\"more\":\"true\"}", "`more` is a string, not true or false"},
        {"{\"next\":5}", "`next` is a number, not a string"},
        {"{\"objects\":{}}", "`objects` is an object, not a list"},
        {"{\"objects\":[1]}", "object 0 is a number"},
        {"{\"objects\":[", "bad JSON at line 1"},
        {"", "bad JSON"},
        {"\"x\"", "a string, not a JSON object"},
        {"{\"a\":1} trailing", "bad JSON at line 1, column 9: text after the end"},
        {"{\"a\":[1,]}", "bad JSON at line 1, column 9: invalid value"},
        {"{\"a\":1,}", "string or '}' expected"},
        {"{\"a\" 1}", "':' expected"},
        {"{\"a\":[1 2]}", "',' or ']' expected"},
        {"{\"a\":\"\xff\"}", "invalid UTF-8"},
        {"{\"a\":\"\\ud800\"}", "lone Unicode surrogate"},
        {"{\"a\":\"\\udc00\\ud800\"}", "lone Unicode surrogate"},
        {"{\"a\":\"\\u0000\"}", "\\u0000 is not allowed"},
        {"{\"a\":\"\\x\"}", "invalid escape"},
        {"{\"a\":\"tab\there\"}", "control character in a string"},
        {"{\"a\":01}", "',' or '}' expected"},
        {"{\"a\":1.}", "invalid number"},
        {"{\"a\":-}", "invalid value"},
        {"{\"a\":tru}", "invalid value"},
        {"{\"a\":\"x}", "unterminated string"},
        {"{\n\"objects\": [\n  {\"type\": \"x\"},\n  {\"type\": \"y\",\n", "line 5, column 1"},
        {"  ", "empty text"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            taxii_parse_envelope(bad[i].json, strlen(bad[i].json), &e, err, sizeof(err)), -EPROTO);
        if (!strstr(err, bad[i].why))
            fail_msg("%s: got '%s'", bad[i].json, err);
        taxii_envelope_free(&e);
    }
    /* escapes are decoded; nesting is bounded */
    assert_int_equal(taxii_parse_envelope(S("{\"next\":\"a\\u00e9\\ud83d\\ude00\\n\","
                                            "\"objects\":[{\"date_added\":\"2024-01-01T00:00:0"
                                            "\\u0031Z\",\"x\":{\"date_added\":\"2030-01-01T00:"
                                            "00:00Z\"}}],\"more\":null}"),
                                          &e, err, sizeof(err)),
                     0);
    assert_string_equal(e.next, "a\xc3\xa9\xf0\x9f\x98\x80\n");
    assert_string_equal(e.newest_added, "2024-01-01T00:00:01Z"); /* not the nested one */
    assert_false(e.more);
    taxii_envelope_free(&e);
    char deep[1200];
    size_t dl = 0;
    dl += (size_t)sprintf(deep, "{\"a\":");
    for (int i = 0; i < 520; i++)
        deep[dl++] = '[';
    for (int i = 0; i < 520; i++)
        deep[dl++] = ']';
    deep[dl++] = '}';
    assert_int_equal(taxii_parse_envelope(deep, dl, &e, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "nested deeper than 512 levels"));
    taxii_envelope_free(&e);

    /* a huge `next` is refused, not copied */
    size_t n = TAXII_MAX_STRING + 100;
    char *big = malloc(n + 20);
    int k = sprintf(big, "{\"next\":\"");
    memset(big + k, 'a', n);
    strcpy(big + k + n, "\"}");
    assert_int_equal(taxii_parse_envelope(big, strlen(big), &e, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "bytes long"));
    taxii_envelope_free(&e);
    free(big);
}

static void test_error_text(void **state)
{
    (void)state;
    char out[256];
    assert_true(taxii_error_text(S("{\"title\":\"Auth\",\"description\":\"bad\\npassword\","
                                   "\"error_code\":\"A1\"}"),
                                 out, sizeof(out)));
    assert_string_equal(out, "\"Auth\": bad?password (error_code A1)");
    assert_true(taxii_error_text(S("{\"description\":\"only this\"}"), out, sizeof(out)));
    assert_string_equal(out, "only this");
    assert_false(taxii_error_text(S("<html>"), out, sizeof(out)));
    assert_string_equal(out, "");
    assert_false(taxii_error_text(S("{\"message\":\"x\"}"), out, sizeof(out)));
    assert_false(taxii_error_text(S("[1]"), out, sizeof(out)));
}

static void test_media_type(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(taxii_check_media_type("application/taxii+json;version=2.1", err, 256), 0);
    assert_int_equal(
        taxii_check_media_type("Application/TAXII+JSON ; Version=\"2.1\"; x=y", err, 256), 0);
    assert_int_equal(taxii_check_media_type("application/taxii+json", err, 256), 0);
    assert_int_equal(taxii_check_media_type("application/json; charset=utf-8", err, 256), 0);
    assert_int_equal(taxii_check_media_type("application/taxii+json;version=2.0", err, 256),
                     -EPROTO);
    assert_non_null(strstr(err, "another version"));
    assert_int_equal(taxii_check_media_type("text/html; charset=utf-8", err, 256), -EPROTO);
    assert_non_null(strstr(err, "unexpected Content-Type text/html"));
    assert_int_equal(taxii_check_media_type("", err, 256), -EPROTO);
    assert_non_null(strstr(err, "no Content-Type"));
    assert_int_equal(taxii_check_media_type("application/taxii+jsonx", err, 256), -EPROTO);
    assert_true(taxii_media_is_21("application/taxii+json;version=2.1"));
    assert_false(taxii_media_is_21("application/taxii+json"));
    assert_false(taxii_media_is_21("application/json;version=2.1"));
}

static void test_cursor(void **state)
{
    (void)state;
    char err[256];
    struct taxii_cursor c;
    assert_int_equal(taxii_cursor_parse(NULL, &c, err, sizeof(err)), 0);
    assert_null(taxii_cursor_get(&c, "a"));
    assert_null(taxii_cursor_format(&c, NULL));
    assert_null(taxii_cursor_format(&c, "a"));
    /* times only move forward */
    assert_int_equal(taxii_cursor_set(&c, "a b", "2024-05-01T08:00:02.000000Z"), 0);
    assert_int_equal(taxii_cursor_set(&c, "a b", "2024-05-01T08:00:01Z"), 0);
    assert_string_equal(taxii_cursor_get(&c, "a b"), "2024-05-01T08:00:02.000000Z");
    assert_int_equal(taxii_cursor_set(&c, "a b", "2024-05-01T08:00:02.5Z"), 0);
    assert_int_equal(taxii_cursor_set(&c, "c", "yesterday"), -EINVAL);
    assert_int_equal(taxii_cursor_set(&c, "c=d", "2024-05-02T00:00:00Z"), 0);
    char *text = taxii_cursor_format(&c, NULL);
    assert_string_equal(text, "a%20b=2024-05-01T08:00:02.5Z c%3Dd=2024-05-02T00:00:00Z");
    char *one = taxii_cursor_format(&c, "c=d");
    assert_string_equal(one, "2024-05-02T00:00:00Z");
    free(one);
    taxii_cursor_free(&c);

    /* round trip */
    assert_int_equal(taxii_cursor_parse(text, &c, err, sizeof(err)), 0);
    assert_string_equal(taxii_cursor_get(&c, "a b"), "2024-05-01T08:00:02.5Z");
    assert_string_equal(taxii_cursor_get(&c, "c=d"), "2024-05-02T00:00:00Z");
    assert_null(taxii_cursor_get(&c, "other"));
    char *again = taxii_cursor_format(&c, NULL);
    assert_string_equal(again, text);
    free(again);
    free(text);
    taxii_cursor_free(&c);

    /* a bare timestamp is every collection's start, and is kept as "*" */
    assert_int_equal(taxii_cursor_parse("2024-01-01T00:00:00Z", &c, err, sizeof(err)), 0);
    assert_string_equal(taxii_cursor_get(&c, "any"), "2024-01-01T00:00:00Z");
    assert_int_equal(taxii_cursor_set(&c, "x", "2024-02-01T00:00:00Z"), 0);
    text = taxii_cursor_format(&c, NULL);
    assert_string_equal(text, "*=2024-01-01T00:00:00Z x=2024-02-01T00:00:00Z");
    taxii_cursor_free(&c);
    assert_int_equal(taxii_cursor_parse(text, &c, err, sizeof(err)), 0);
    assert_string_equal(taxii_cursor_get(&c, "new"), "2024-01-01T00:00:00Z");
    assert_string_equal(taxii_cursor_get(&c, "x"), "2024-02-01T00:00:00Z");
    taxii_cursor_free(&c);
    free(text);

    /* an entry given twice keeps its later time */
    assert_int_equal(taxii_cursor_parse("a=2024-01-02T00:00:00Z *=2024-01-01T00:00:00Z "
                                        "a=2024-01-01T00:00:00Z *=2024-01-03T00:00:00Z",
                                        &c, err, sizeof(err)),
                     0);
    assert_int_equal(c.n, 1);
    assert_string_equal(taxii_cursor_get(&c, "a"), "2024-01-02T00:00:00Z");
    assert_string_equal(c.all, "2024-01-03T00:00:00Z");
    taxii_cursor_free(&c);

    static const char *const bad[] = {"not a time",
                                      "x=",
                                      "=2024-01-01T00:00:00Z",
                                      "a=2024-01-01T00:00:00Z b",
                                      "a%zz=2024-01-01T00:00:00Z",
                                      "a%00=2024-01-01T00:00:00Z",
                                      "2024-13-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (taxii_cursor_parse(bad[i], &c, err, sizeof(err)) != -EINVAL)
            fail_msg("cursor '%s' was accepted", bad[i]);
        assert_non_null(strstr(err, "cursor"));
        taxii_cursor_free(&c);
    }
    assert_true(taxii_timestamp_later("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000001Z"));
    assert_false(taxii_timestamp_later("2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00.5Z"));
    assert_true(taxii_timestamp_later("", "2024-01-01T00:00:00Z"));
    assert_false(taxii_timestamp_later("2024-01-01T00:00:00Z", ""));
    char *e = taxii_escape("id/1 ~x");
    assert_string_equal(e, "id%2F1%20~x");
    free(e);
}

/* ---- configuration ---- */

static int parse(const char *yaml, struct taxii_config *cfg, char *err, char *warn, size_t wlen)
{
    FILE *w = fmemopen(warn, wlen, "w");
    int rc = taxii_config_parse("intel.yml", yaml, strlen(yaml), cfg, w, err, 512);
    fclose(w);
    return rc;
}

static void test_config_good(void **state)
{
    (void)state;
    char err[512], warn[2048] = "";
    struct taxii_config cfg;
    const char *yaml = "other_section: {x: 1}\n"
                       "taxii:\n"
                       "  defaults:\n"
                       "    timeout: 1m\n"
                       "    ca_file: certs/partner-ca.pem\n"
                       "    auth: {type: bearer, token_file: tok}\n"
                       "  sources:\n"
                       "    - name: partner\n"
                       "      url: https://taxii.partner.example/taxii2/\n"
                       "      collection: all\n"
                       "    - name: isac.mail-2\n"
                       "      url: https://isac.example/api1/\n"
                       "      collection: 5b4cf6a0-1d2e-4c5b-9a7e-2f1e3d4c5b6a\n"
                       "      auth:\n"
                       "        type: basic\n"
                       "        user: kenchi\n"
                       "        password: \"p:w\"\n"
                       "      verify: false\n"
                       "      timeout: 45\n"
                       "      connect_timeout: 90s\n"
                       "      max_bytes: 8MiB\n"
                       "      limit: 500\n"
                       "      max_pages: 20\n"
                       "      retries: 0\n"
                       "      retry_max_wait: 2m\n"
                       "      poll_interval: 15m\n";
    assert_int_equal(parse(yaml, &cfg, err, warn, sizeof(warn)), 0);
    assert_int_equal(cfg.n, 2);
    const struct taxii_source *a = taxii_config_find(&cfg, "partner");
    assert_non_null(a);
    assert_string_equal(a->collection, "all");
    assert_int_equal(a->timeout_s, 60);
    assert_int_equal(a->connect_timeout_s, TAXII_DEFAULT_CONNECT_TIMEOUT_S);
    assert_string_equal(a->ca_file, "certs/partner-ca.pem");
    assert_int_equal(a->auth, TAXII_AUTH_BEARER);
    assert_string_equal(a->token_file, "tok");
    assert_true(a->verify);
    assert_int_equal(a->max_bytes, TAXII_DEFAULT_MAX_BYTES);
    assert_int_equal(a->limit, 0);
    assert_int_equal(a->retries, TAXII_DEFAULT_RETRIES);
    assert_int_equal(a->poll_interval_s, TAXII_DEFAULT_POLL_INTERVAL_S);
    assert_int_equal(a->line, 8);
    const struct taxii_source *b = taxii_config_find(&cfg, "isac.mail-2");
    assert_non_null(b);
    assert_int_equal(b->auth, TAXII_AUTH_BASIC); /* replaces the defaults' bearer */
    assert_null(b->token_file);
    assert_string_equal(b->password, "p:w");
    assert_false(b->verify);
    assert_int_equal(b->timeout_s, 45);
    assert_int_equal(b->connect_timeout_s, 45); /* never more than timeout */
    assert_int_equal(b->max_bytes, 8u << 20);
    assert_int_equal(b->limit, 500);
    assert_int_equal(b->max_pages, 20);
    assert_int_equal(b->retries, 0);
    assert_int_equal(b->retry_max_wait_s, 120);
    assert_int_equal(b->poll_interval_s, 900);
    assert_null(taxii_config_find(&cfg, "nope"));
    /* verify: false is loud */
    assert_non_null(strstr(warn, "WARNING: intel.yml:11: source 'isac.mail-2' has verify: false"));
    taxii_config_free(&cfg);

    /* no taxii section, or an empty file: no sources */
    assert_int_equal(parse("scope: {}\n", &cfg, err, warn, sizeof(warn)), 0);
    assert_int_equal(cfg.n, 0);
    taxii_config_free(&cfg);
    assert_int_equal(parse("", &cfg, err, warn, sizeof(warn)), 0);
    taxii_config_free(&cfg);

    /* plain http with credentials warns */
    warn[0] = '\0';
    assert_int_equal(parse("taxii:\n  sources:\n  - {name: a, url: 'http://h/taxii2/', "
                           "collection: c, auth: {type: bearer, token: t}}\n",
                           &cfg, err, warn, sizeof(warn)),
                     0);
    assert_non_null(strstr(warn, "plain http://"));
    assert_non_null(strstr(warn, "credentials travel in clear"));
    taxii_config_free(&cfg);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *why;
    } bad[] = {
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, tmeout: 3}\n",
         "intel.yml:3:49: unknown key 'tmeout' (known: name, url"},
        {"taxii:\n  sources:\n  - {url: 'https://h/', collection: c}\n",
         "intel.yml:3:5: a source needs a name"},
        {"taxii:\n  sources:\n  - {name: a, collection: c}\n", "needs a url"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/'}\n", "needs a collection"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c}\n"
         "  - {name: a, url: 'https://g/', collection: c}\n",
         "intel.yml:4:12: name: 'a' is already the name of the source at line 3"},
        {"taxii:\n  sources:\n  - {name: 'a b', url: 'https://h/', collection: c}\n",
         "name: 'a b' must be"},
        {"taxii:\n  sources:\n  - {name: a, url: 'ftp://h/', collection: c}\n",
         "url: must start with https://"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://u:p@h/', collection: c}\n",
         "credentials belong under auth:"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https:///x', collection: c}\n", "no host"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, auth: {type: "
         "basic, user: u}}\n",
         "basic needs a password or a password_file"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, auth: {type: "
         "basic, user: u, password: x, password_file: y}}\n",
         "(one of them)"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, auth: {type: "
         "basic, password: x}}\n",
         "basic needs a user"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, auth: {type: "
         "bearer, user: u, token: t}}\n",
         "user does not go with type bearer"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, auth: {type: "
         "digest}}\n",
         "type must be basic, bearer or none"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, verify: maybe}\n",
         "verify: expected true or false"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, timeout: 0}\n",
         "timeout: 0 seconds is out of range (1 to 3600)"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, timeout: 5x}\n",
         "timeout: expected a duration"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, max_bytes: 5TB}\n",
         "max_bytes: expected a size"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, max_bytes: 100}\n",
         "max_bytes: 100 bytes is out of range"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, limit: -1}\n",
         "limit: -1 is out of range"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: c, retries: 99}\n",
         "retries: 99 is out of range (0 to 10)"},
        {"taxii:\n  sources:\n  - {name: a, url: 'https://h/', collection: [c]}\n",
         "collection: expected a non-empty string, got a list"},
        {"taxii:\n  defaults: {name: x}\n", "name belongs to each source, not under defaults"},
        {"taxii:\n  source: []\n", "taxii: unknown key 'source' (sources, defaults)"},
        {"taxii: [a]\n", "taxii: expected a mapping"},
        {"taxii:\n  sources: {name: a}\n", "sources: expected a list, got a mapping"},
        {"taxii:\n  sources:\n  - just-a-name\n", "each source is a mapping"},
        {"taxii:\n  sources: [\n", "intel.yml:3:1: YAML syntax"},
        {"a: 1\n---\nb: 2\n", "one YAML document expected"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[512] = "", warn[512];
        struct taxii_config cfg;
        int rc = parse(bad[i].yaml, &cfg, err, warn, sizeof(warn));
        taxii_config_free(&cfg);
        if (rc != -EINVAL || !strstr(err, bad[i].why))
            fail_msg("case %zu: rc %d, err '%s', expected '%s'", i, rc, err, bad[i].why);
    }
}

static void test_config_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/kenchi-taxii-cfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], pw[128], err[512];
    snprintf(path, sizeof(path), "%s/intel.yml", dir);
    snprintf(pw, sizeof(pw), "%s/pw", dir);
    FILE *f = fopen(pw, "w");
    fputs("secret\n", f);
    fclose(f);
    f = fopen(path, "w");
    fputs("taxii:\n  sources:\n  - name: a\n    url: https://h/taxii2/\n    collection: all\n"
          "    auth: {type: basic, user: u, password_file: pw}\n",
          f);
    fclose(f);
    struct taxii_config cfg;
    assert_int_equal(taxii_config_load(path, &cfg, NULL, err, sizeof(err)), 0);
    assert_int_equal(cfg.n, 1);
    assert_string_equal(cfg.sources[0].password_file, pw);
    assert_string_equal(cfg.sources[0].file, path);
    taxii_config_free(&cfg);

    f = fopen(path, "w");
    fputs("taxii:\n  sources:\n  - name: a\n    url: https://h/taxii2/\n    collection: all\n"
          "    ca_file: missing.pem\n",
          f);
    fclose(f);
    assert_int_equal(taxii_config_load(path, &cfg, NULL, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "intel.yml:3: source 'a': ca_file "));
    assert_non_null(strstr(err, "missing.pem: No such file or directory"));
    taxii_config_free(&cfg);

    snprintf(pw, sizeof(pw), "%s/none.yml", dir);
    assert_int_equal(taxii_config_load(pw, &cfg, NULL, err, sizeof(err)), -ENOENT);
    taxii_config_free(&cfg);

    snprintf(pw, sizeof(pw), "%s/pw", dir);
    unlink(pw);
    unlink(path);
    rmdir(dir);
}

/* The shipped example loads (file names checked only for form). */
static void test_example_config(void **state)
{
    (void)state;
    FILE *f = fopen("config/intel.example.yml", "rb");
    if (!f)
        skip();
    static char text[65536];
    size_t n = fread(text, 1, sizeof(text), f);
    fclose(f);
    char err[512], warn[2048];
    struct taxii_config cfg;
    FILE *w = fmemopen(warn, sizeof(warn), "w");
    int rc = taxii_config_parse("config/intel.example.yml", text, n, &cfg, w, err, sizeof(err));
    fclose(w);
    if (rc)
        fail_msg("%s", err);
    assert_true(cfg.n >= 2);
    taxii_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_documents), cmocka_unit_test(test_collections),
        cmocka_unit_test(test_envelope),       cmocka_unit_test(test_error_text),
        cmocka_unit_test(test_media_type),     cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_config_good),    cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_load),    cmocka_unit_test(test_example_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
