/* The TAXII 2.1 client (intel/taxii.c) against a local server:
 * tests/e2e/taxii_server.py, started here on 127.0.0.1 (HTTP, and HTTPS
 * with a throwaway CA made by the openssl command), serving the recorded
 * responses of tests/fixtures/taxii/ and misbehaving on request. The
 * server logs every request, so the tests check what the client asked
 * (added_after, next, limit, Accept, Authorization) as well as what it got.
 * Skips with the reason when python3 (or, for HTTPS, openssl) is missing. */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <jansson.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "intel/taxii.h"

#define C1 "5b4cf6a0-1d2e-4c5b-9a7e-2f1e3d4c5b6a"
#define C2 "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"
/* the recorded pages' X-TAXII-Date-Added-Last */
#define D1  "2024-05-01T08:00:02.000000Z"
#define D2  "2024-05-01T08:00:06.000000Z"
#define D3  "2024-05-01T08:00:08.500000Z"
#define D4  "2024-05-02T08:00:00.250000Z"
#define DHV "2024-04-29T12:00:01.000000Z"

static struct {
    bool up;
    char why[200]; /* why not */
    pid_t pid;
    int in_fd;
    char dir[64];
    char log[128];
    char ca[128];
    int http, https, wrongname;
} srv;

static int start_server(void **state)
{
    (void)state;
    /* libcurl follows the proxy variables; the test server is local */
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    snprintf(srv.dir, sizeof(srv.dir), "/tmp/kenchi-taxii-XXXXXX");
    if (!mkdtemp(srv.dir)) {
        snprintf(srv.why, sizeof(srv.why), "cannot make a temporary directory");
        return 0;
    }
    snprintf(srv.log, sizeof(srv.log), "%s/requests.log", srv.dir);
    snprintf(srv.ca, sizeof(srv.ca), "%s/ca.pem", srv.dir);
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return -1;
    srv.pid = fork();
    if (srv.pid < 0)
        return -1;
    if (srv.pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execlp("python3", "python3", "tests/e2e/taxii_server.py", "--serve", "--tls", srv.dir,
               "--log", srv.log, "--lifetime", "300", "--slow", "6", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    srv.in_fd = in[1];
    /* read the ports until "ready" (the poll time-out is a guard against a
     * server that never starts, not a measurement) */
    char acc[1024];
    size_t len = 0;
    struct pollfd p = {out[0], POLLIN, 0};
    while (!srv.up && len < sizeof(acc) - 1 && poll(&p, 1, 120000) > 0) {
        ssize_t n = read(out[0], acc + len, sizeof(acc) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        acc[len] = '\0';
        char *nl;
        while ((nl = strchr(acc, '\n'))) {
            *nl = '\0';
            int port;
            if (sscanf(acc, "http %d", &port) == 1)
                srv.http = port;
            else if (sscanf(acc, "https-wrongname %d", &port) == 1)
                srv.wrongname = port;
            else if (sscanf(acc, "https %d", &port) == 1)
                srv.https = port;
            else if (!strcmp(acc, "ready"))
                srv.up = srv.http > 0;
            len -= (size_t)(nl + 1 - acc);
            memmove(acc, nl + 1, len + 1);
        }
    }
    close(out[0]);
    if (!srv.up)
        snprintf(srv.why, sizeof(srv.why), "the TAXII test server did not start (python3?)");
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    if (srv.pid > 0) {
        close(srv.in_fd); /* the server exits when its stdin closes */
        int st;
        kill(srv.pid, SIGTERM);
        waitpid(srv.pid, &st, 0);
    }
    if (srv.dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", srv.dir);
        if (system(cmd)) {
        }
    }
    return 0;
}

static void need_server(void)
{
    if (!srv.up) {
        printf("# %s\n", srv.why);
        skip();
    }
}

static void need_tls(void)
{
    need_server();
    if (!srv.https) {
        printf("# no HTTPS test server (the openssl command is missing)\n");
        skip();
    }
}

/* ---- what a pull hands over ---- */

struct got {
    int envelopes;
    int objects;
    int indicators;
    int refuse_at; /* envelope number whose delivery fails (0: none) */
    char urls[8][256];
    char names[32][80]; /* indicator names in delivery order */
};

static int collect(void *opaque, const char *json, size_t n, const char *url)
{
    struct got *g = opaque;
    g->envelopes++;
    assert_int_equal(json[n], '\0');
    if (g->envelopes <= 8)
        snprintf(g->urls[g->envelopes - 1], sizeof(g->urls[0]), "%s", url);
    if (g->refuse_at == g->envelopes)
        return -ENOSPC;
    json_error_t je;
    json_t *root = json_loadb(json, n, 0, &je);
    assert_non_null(root);
    json_t *objs = json_object_get(root, "objects");
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o)
    {
        g->objects++;
        if (!strcmp(json_string_value(json_object_get(o, "type")), "indicator")) {
            if (g->indicators < 32)
                snprintf(g->names[g->indicators], sizeof(g->names[0]), "%s",
                         json_string_value(json_object_get(o, "name")));
            g->indicators++;
        }
    }
    json_decref(root);
    return 0;
}

struct tsrc {
    struct taxii_source s;
    char url[256];
    char coll[128];
};

static void mk(struct tsrc *t, const char *scheme, int port, const char *mode, const char *path,
               const char *coll)
{
    taxii_source_init(&t->s);
    snprintf(t->url, sizeof(t->url), "%s://127.0.0.1:%d/%s/%s", scheme, port, mode,
             path ? path : "taxii2/");
    snprintf(t->coll, sizeof(t->coll), "%s", coll);
    t->s.name = "test";
    t->s.url = t->url;
    t->s.collection = t->coll;
    t->s.timeout_s = 20;
    t->s.connect_timeout_s = 10;
    t->s.retries = 0;
    t->s.retry_max_wait_s = 5;
}

static void clear_log(void)
{
    if (truncate(srv.log, 0) && errno != ENOENT)
        fail_msg("cannot truncate %s", srv.log);
}

/* Number of logged requests containing every given fragment (NULL-ended). */
static int logged(const char *frag, ...)
{
    FILE *f = fopen(srv.log, "r");
    if (!f)
        return 0;
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        va_list ap;
        va_start(ap, frag);
        bool all = true;
        for (const char *x = frag; x; x = va_arg(ap, const char *))
            if (!strstr(line, x))
                all = false;
        va_end(ap);
        n += all;
    }
    fclose(f);
    return n;
}

struct result {
    int rc;
    char err[2048];
    char *cursor;
};

static void pull(const struct tsrc *t, const char *cursor, struct got *g, struct result *r)
{
    r->rc = taxii_pull(&t->s, cursor, collect, g, &r->cursor, r->err, sizeof(r->err));
}

static void expect_ok(const struct result *r)
{
    if (r->rc)
        fail_msg("rc %d: %s", r->rc, r->err);
}

static void expect_err(const struct result *r, int rc, const char *frag)
{
    if (r->rc != rc)
        fail_msg("rc %d, expected %d: %s", r->rc, rc, r->err);
    if (!strstr(r->err, frag))
        fail_msg("message '%s' lacks '%s'", r->err, frag);
}

/* ---- the tests ---- */

static void test_pull_pages(void **state)
{
    (void)state;
    need_server();
    struct tsrc t;
    mk(&t, "http", srv.http, "ok", NULL, "Partner indicators"); /* by title */
    struct got g = {0};
    struct result r;
    clear_log();
    pull(&t, NULL, &g, &r);
    expect_ok(&r);
    assert_string_equal(r.err, "");
    assert_int_equal(g.envelopes, 3);
    assert_int_equal(g.objects, 9);
    assert_int_equal(g.indicators, 7);
    assert_string_equal(g.names[0], "Phishing sender relay");
    assert_string_equal(g.names[6], "Relay network");
    char want[256];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/ok/api1/collections/" C1 "/objects/",
             srv.http);
    assert_string_equal(g.urls[0], want);
    assert_string_equal(r.cursor, D3);
    /* discovery, API root, collections, three pages; every request asks for TAXII 2.1 */
    assert_int_equal(logged("ok /", NULL), 6);
    assert_int_equal(logged("accept=application/taxii+json;version=2.1", NULL), 6);
    assert_int_equal(logged("/ok/taxii2/", NULL), 1);
    assert_int_equal(logged("/objects/ ", NULL), 1); /* the first page: no query */
    assert_int_equal(logged("/objects/?next=page-2 ", NULL), 1);
    assert_int_equal(logged("/objects/?next=page-3 ", NULL), 1);
    assert_int_equal(logged("added_after", NULL), 0);
    free(r.cursor);
}

/* The second pull asks only for what is new, from where the first stopped. */
static void test_cursor_resumes(void **state)
{
    (void)state;
    need_server();
    struct tsrc t;
    mk(&t, "http", srv.http, "grown", NULL, C1); /* the same server, one page later */
    struct got g = {0};
    struct result r;
    clear_log();
    pull(&t, D3, &g, &r);
    expect_ok(&r);
    assert_int_equal(g.envelopes, 1);
    assert_int_equal(g.indicators, 1);
    assert_string_equal(g.names[0], "New phishing kit host");
    assert_int_equal(logged("/objects/?added_after=2024-05-01T08%3A00%3A08.500000Z ", NULL), 1);
    assert_int_equal(logged("/objects/", NULL), 1);
    assert_string_equal(r.cursor, D4);

    /* nothing newer: nothing handed over, the cursor stays */
    struct got g2 = {0};
    struct result r2;
    clear_log();
    pull(&t, r.cursor, &g2, &r2);
    expect_ok(&r2);
    assert_int_equal(g2.envelopes, 0);
    assert_string_equal(r2.cursor, D4);
    assert_int_equal(logged("added_after=2024-05-02T08%3A00%3A00.250000Z", NULL), 1);
    free(r.cursor);
    free(r2.cursor);

    /* pages after a next-less page go on with added_after, and limit is sent */
    mk(&t, "http", srv.http, "nonext", NULL, C1);
    t.s.limit = 3;
    struct got g3 = {0};
    clear_log();
    pull(&t, NULL, &g3, &r);
    expect_ok(&r);
    assert_int_equal(g3.envelopes, 3);
    assert_int_equal(g3.indicators, 7);
    assert_string_equal(r.cursor, D3);
    assert_int_equal(logged("/objects/?limit=3 ", NULL), 1);
    assert_int_equal(logged("/objects/?added_after=2024-05-01T08%3A00%3A02.000000Z&limit=3", NULL),
                     1);
    assert_int_equal(logged("/objects/?added_after=2024-05-01T08%3A00%3A06.000000Z&limit=3", NULL),
                     1);
    assert_int_equal(logged("next=", NULL), 0);
    free(r.cursor);
}

/* collection: all pulls every readable collection, each with its own cursor. */
static void test_all_collections(void **state)
{
    (void)state;
    need_server();
    struct tsrc t;
    mk(&t, "http", srv.http, "ok", "api1/", "all"); /* an API root URL */
    struct got g = {0};
    struct result r;
    clear_log();
    pull(&t, NULL, &g, &r);
    expect_ok(&r);
    assert_int_equal(g.envelopes, 4);
    assert_int_equal(g.indicators, 9);
    assert_string_equal(r.cursor, C1 "=" D3 " " C2 "=" DHV);
    assert_int_equal(logged("/ok/taxii2/", NULL), 0);
    assert_int_equal(logged("e1f2a3b4", NULL), 0); /* the write-only one */

    struct got g2 = {0};
    struct result r2;
    clear_log();
    pull(&t, r.cursor, &g2, &r2);
    expect_ok(&r2);
    assert_int_equal(g2.envelopes, 0);
    assert_string_equal(r2.cursor, r.cursor);
    assert_int_equal(logged(C1 "/objects/?added_after=2024-05-01T08%3A00%3A08.500000Z", NULL), 1);
    assert_int_equal(logged(C2 "/objects/?added_after=2024-04-29T12%3A00%3A01.000000Z", NULL), 1);
    free(r.cursor);
    free(r2.cursor);

    /* a bare timestamp starts every collection there */
    struct got g3 = {0};
    clear_log();
    pull(&t, "2024-05-01T08:00:06Z", &g3, &r);
    expect_ok(&r);
    assert_int_equal(g3.envelopes, 1); /* page 3 of C1; C2 has nothing that late */
    assert_string_equal(r.cursor,
                        "*=2024-05-01T08:00:06Z " C1 "=" D3 " " C2 "=2024-05-01T08:00:06Z");
    free(r.cursor);
}

/* A pull that fails midway keeps the cursor of the last page handed over. */
static void test_failure_midway(void **state)
{
    (void)state;
    need_server();
    struct tsrc t;
    mk(&t, "http", srv.http, "fail3", NULL, C1);
    struct got g = {0};
    struct result r;
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EIO, "HTTP 503 Service Unavailable");
    assert_non_null(strstr(r.err, "next=page-3"));
    assert_int_equal(g.envelopes, 2);
    assert_string_equal(r.cursor, D2);
    free(r.cursor);

    /* the reader refuses page 2: its error comes back, the cursor is page 1's */
    mk(&t, "http", srv.http, "ok", NULL, C1);
    struct got g2 = {.refuse_at = 2};
    pull(&t, "2024-01-01T00:00:00Z", &g2, &r);
    expect_err(&r, -ENOSPC, "refused by the reader");
    assert_string_equal(r.cursor, D1);
    free(r.cursor);

    /* the failure comes before anything was handed over: the cursor is the one given */
    mk(&t, "http", srv.http, "badjson", NULL, C1);
    struct got g3 = {0};
    pull(&t, D1, &g3, &r);
    expect_err(&r, -EPROTO, "bad JSON at line");
    assert_non_null(strstr(r.err, "/badjson/api1/collections/" C1 "/objects/?added_after="));
    assert_int_equal(g3.envelopes, 0);
    assert_string_equal(r.cursor, D1);
    free(r.cursor);
}

static void test_auth(void **state)
{
    (void)state;
    need_server();
    struct tsrc t;
    struct got g = {0};
    struct result r;
    mk(&t, "http", srv.http, "basic", NULL, C1);
    pull(&t, D3, &g, &r);
    expect_err(&r, -EACCES, "HTTP 401 Unauthorized");
    assert_non_null(strstr(r.err, "\"Authentication required\": Valid credentials"));
    assert_non_null(strstr(r.err, "check auth:"));
    assert_string_equal(r.cursor, D3); /* not reached: the cursor given back */
    free(r.cursor);

    t.s.auth = TAXII_AUTH_BASIC;
    t.s.user = "kenchi";
    t.s.password = "wrong";
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EACCES, "HTTP 401");
    free(r.cursor);
    t.s.password = "s3cret-pw";
    clear_log();
    pull(&t, NULL, &g, &r);
    expect_ok(&r);
    assert_int_equal(g.indicators, 7);
    assert_int_equal(logged("auth=basic", NULL), 6);
    free(r.cursor);

    /* the password from a file (read at each pull; its line end dropped) */
    char pw[160];
    snprintf(pw, sizeof(pw), "%s/pw", srv.dir);
    FILE *f = fopen(pw, "w");
    fputs("s3cret-pw\n", f);
    fclose(f);
    t.s.password = NULL;
    t.s.password_file = pw;
    pull(&t, D3, &g, &r);
    expect_ok(&r);
    free(r.cursor);
    t.s.password_file = "/nonexistent/pw";
    pull(&t, D3, &g, &r);
    expect_err(&r, -ENOENT, "password_file /nonexistent/pw: No such file");
    assert_string_equal(r.cursor, D3);
    free(r.cursor);

    /* credentials stay with the host they were given for: after a redirect
     * to another name the server sees none (and says 401) */
    mk(&t, "http", srv.http, "hop", NULL, C1);
    t.s.auth = TAXII_AUTH_BASIC;
    t.s.user = "kenchi";
    t.s.password = "s3cret-pw";
    clear_log();
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EACCES, "HTTP 401");
    assert_int_equal(logged("hop /hop/taxii2/ ", "auth=basic", NULL), 1);
    assert_int_equal(logged("basic /basic/taxii2/ ", "auth=none", NULL), 1);
    free(r.cursor);

    mk(&t, "http", srv.http, "bearer", NULL, C1);
    pull(&t, D3, &g, &r);
    expect_err(&r, -EACCES, "HTTP 401");
    free(r.cursor);
    t.s.auth = TAXII_AUTH_BEARER;
    t.s.token = "tok-7f3a9c";
    clear_log();
    pull(&t, D3, &g, &r);
    expect_ok(&r);
    assert_int_equal(logged("auth=bearer", NULL), 4);
    free(r.cursor);
}

static void test_https(void **state)
{
    (void)state;
    need_tls();
    struct tsrc t;
    struct got g = {0};
    struct result r;
    mk(&t, "https", srv.https, "ok", NULL, C1);
    t.s.ca_file = srv.ca;
    pull(&t, NULL, &g, &r);
    expect_ok(&r);
    assert_int_equal(g.indicators, 7);
    free(r.cursor);

    /* without the CA the certificate does not verify */
    t.s.ca_file = NULL;
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EIO, "certificate cannot be verified");
    free(r.cursor);
    /* a certificate for another name, even from the trusted CA */
    mk(&t, "https", srv.wrongname, "ok", NULL, C1);
    t.s.ca_file = srv.ca;
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EIO, "certificate cannot be verified");
    free(r.cursor);
    /* verify: false takes anything (the configuration warns) */
    t.s.ca_file = NULL;
    t.s.verify = false;
    pull(&t, D3, &g, &r);
    expect_ok(&r);
    free(r.cursor);

    /* never from https to http */
    mk(&t, "https", srv.https, "tohttp", NULL, C1);
    t.s.ca_file = srv.ca;
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EIO, "https:// sources to https:// only");
    free(r.cursor);
    mk(&t, "https", srv.https, "downgrade", NULL, C1);
    t.s.ca_file = srv.ca;
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EPROTO, "names a plain http API root: refused");
    free(r.cursor);
}

static void test_timeouts(void **state)
{
    (void)state;
    need_server();
    struct tsrc t;
    struct got g = {0};
    struct result r;
    /* answers after 6 s, later than the 2 s allowed */
    mk(&t, "http", srv.http, "slow", NULL, C1);
    t.s.timeout_s = 2;
    t.s.connect_timeout_s = 2;
    t.s.retries = 3; /* time-outs are not retried */
    clear_log();
    pull(&t, NULL, &g, &r);
    expect_err(&r, -ETIMEDOUT, "no complete answer in time (timeout 2s)");
    assert_int_equal(logged("slow /", NULL), 1);
    free(r.cursor);
    /* never answers */
    mk(&t, "http", srv.http, "hang", NULL, C1);
    t.s.timeout_s = 2;
    t.s.connect_timeout_s = 2;
    pull(&t, NULL, &g, &r);
    expect_err(&r, -ETIMEDOUT, "timeout 2s");
    free(r.cursor);
}

static void test_retries(void **state)
{
    (void)state;
    need_server();
    struct tsrc t;
    struct got g = {0};
    struct result r;
    /* 500 once per path: without retries it fails, with one it passes */
    mk(&t, "http", srv.http, "flaky", NULL, C1);
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EIO, "HTTP 500 Internal Server Error; the server says: \"Request failed\"");
    free(r.cursor);
    mk(&t, "http", srv.http, "flaky", "api1/", C2); /* paths not asked yet */
    t.s.retries = 2;
    clear_log();
    pull(&t, NULL, &g, &r);
    expect_ok(&r);
    assert_string_equal(r.cursor, DHV);
    assert_int_equal(logged("flaky /flaky/api1/ ", NULL), 2);
    assert_int_equal(logged("flaky /flaky/api1/collections/ ", NULL), 2);
    free(r.cursor);
    /* 429 with Retry-After: 1 (the server's first answer) */
    mk(&t, "http", srv.http, "busy", NULL, C1);
    t.s.retries = 1;
    clear_log();
    pull(&t, NULL, &g, &r);
    expect_ok(&r);
    assert_int_equal(logged("busy /busy/taxii2/ ", NULL), 2);
    free(r.cursor);
    /* Retry-After: 3600 is more than the source waits: no waiting, a clear error */
    mk(&t, "http", srv.http, "busylong", NULL, C1);
    t.s.retries = 3;
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EIO, "HTTP 503 Service Unavailable; the server says: \"Maintenance\"");
    assert_non_null(strstr(r.err, "retry after 3600s, more than retry_max_wait 5s"));
    free(r.cursor);
    /* and a server that keeps failing: bounded tries */
    mk(&t, "http", srv.http, "status-502", NULL, C1);
    t.s.retries = 1;
    t.s.retry_max_wait_s = 1;
    clear_log();
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EIO, "HTTP 502 Bad Gateway");
    assert_non_null(strstr(r.err, "gave up after 2 tries"));
    assert_int_equal(logged("status-502 /", NULL), 2);
    free(r.cursor);
}

static void test_bad_answers(void **state)
{
    (void)state;
    need_server();
    struct tsrc t;
    struct got g = {0};
    struct result r;
    mk(&t, "http", srv.http, "ctype", NULL, C1);
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EPROTO, "unexpected Content-Type text/html");
    free(r.cursor);

    mk(&t, "http", srv.http, "huge", NULL, C1);
    t.s.max_bytes = 1 << 20;
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EFBIG, "larger than max_bytes (1048576 bytes)");
    free(r.cursor);
    mk(&t, "http", srv.http, "hugestream", NULL, C1);
    t.s.max_bytes = 1 << 20;
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EFBIG, "larger than max_bytes (1048576 bytes); stopped reading");
    free(r.cursor);
    /* within the cap it is taken */
    t.s.max_bytes = 4 << 20;
    pull(&t, NULL, &g, &r);
    expect_ok(&r);
    free(r.cursor);

    mk(&t, "http", srv.http, "loop", NULL, C1);
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EIO, "more than 5 redirects");
    free(r.cursor);

    mk(&t, "http", srv.http, "multi", NULL, C1);
    pull(&t, NULL, &g, &r);
    expect_err(&r, -ENOENT, "several API roots and no default: set url to one of them: http");
    free(r.cursor);
    mk(&t, "http", srv.http, "rel", NULL, C1);
    clear_log();
    pull(&t, D3, &g, &r);
    expect_ok(&r);
    assert_int_equal(logged("rel /rel/api1/collections/ ", NULL), 1);
    free(r.cursor);
    mk(&t, "http", srv.http, "v20", NULL, C1);
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EPROTO, "offers application/vnd.oasis.taxii+json; version=2.0, not TAXII 2.1");
    free(r.cursor);

    mk(&t, "http", srv.http, "ok", NULL, "Submissions");
    pull(&t, NULL, &g, &r);
    expect_err(&r, -EACCES, "collection 'Submissions' is not readable");
    free(r.cursor);
    mk(&t, "http", srv.http, "ok", NULL, "nope");
    pull(&t, NULL, &g, &r);
    expect_err(&r, -ENOENT, "no collection with the id or title 'nope'; there are: " C1);
    free(r.cursor);
    mk(&t, "http", srv.http, "ok", "nothing-here/", C1);
    pull(&t, NULL, &g, &r);
    expect_err(&r, -ENOENT, "HTTP 404 Not Found; the server says: \"Not found\"");
    free(r.cursor);

    static const struct {
        const char *mode;
        int rc;
        const char *frag;
    } st[] = {
        {"status-403", -EACCES,
         "HTTP 403 Forbidden; the server says: \"Request failed\": The "
         "server could not serve this request (403 Forbidden)."},
        {"status-406", -EPROTO, "HTTP 406 Not Acceptable"},
        {"status-416", -EPROTO, "HTTP 416 Range Not Satisfiable"},
    };
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        mk(&t, "http", srv.http, st[i].mode, NULL, C1);
        pull(&t, NULL, &g, &r);
        expect_err(&r, st[i].rc, st[i].frag);
        free(r.cursor);
    }

    /* a cursor that is not one is refused, and given back as it was */
    mk(&t, "http", srv.http, "ok", NULL, C1);
    pull(&t, "last tuesday", &g, &r);
    expect_err(&r, -EINVAL, "cursor: 'last tuesday' is not a timestamp");
    assert_string_equal(r.cursor, "last tuesday");
    free(r.cursor);

    /* nothing listens: no answer at all (a port just closed) */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    mk(&t, "http", ntohs(a.sin_port), "ok", NULL, C1);
    pull(&t, NULL, &g, &r);
    assert_int_equal(r.rc, -EIO);
    free(r.cursor);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pull_pages),
        cmocka_unit_test(test_cursor_resumes),
        cmocka_unit_test(test_all_collections),
        cmocka_unit_test(test_failure_midway),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_https),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_retries),
        cmocka_unit_test(test_bad_answers),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
