/* The webhook and syslog outputs (output/output-webhook.c,
 * output/output-syslog.c) driven through their ops against the receivers
 * of tests/e2e/output_receiver.py, started here on 127.0.0.1: an HTTP(S)
 * receiver answering 200, 500 then 200, 429 with Retry-After, 400, 401;
 * syslog over UDP, TCP (both framings, and a receiver that drops every
 * connection) and TLS (a throwaway CA made by the openssl command, with
 * and without a client certificate). The receiver logs what it got, so
 * the tests check the bytes on the wire as well as the results.
 * Also: configuration checks of both kinds. Skips with the reason when
 * python3 (or, for TLS, openssl) is missing. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "output/output-webhook.h"
#include "output/output.h"
#include "util/timeconv.h"

static struct {
    bool up, tls;
    char why[200];
    pid_t pid;
    int in_fd;
    char dir[64];
    char log[128];
    int http, https, udp, tcp, tcpdrop, tlsport, tlsmutual;
} srv;

static int start_server(void **state)
{
    (void)state;
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    setenv("NO_PROXY", "127.0.0.1,localhost", 1);
    snprintf(srv.dir, sizeof(srv.dir), "/tmp/kenchi-out-XXXXXX");
    if (!mkdtemp(srv.dir)) {
        snprintf(srv.why, sizeof(srv.why), "cannot make a temporary directory");
        return 0;
    }
    snprintf(srv.log, sizeof(srv.log), "%s/received.jsonl", srv.dir);
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
        execlp("python3", "python3", "tests/e2e/output_receiver.py", "--serve", "--dir", srv.dir,
               "--lifetime", "300", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    srv.in_fd = in[1];
    static const struct {
        const char *name;
        int *port;
    } names[] = {
        {"http", &srv.http},
        {"https", &srv.https},
        {"udp", &srv.udp},
        {"tcp", &srv.tcp},
        {"tcpdrop", &srv.tcpdrop},
        {"tls", &srv.tlsport},
        {"tlsmutual", &srv.tlsmutual},
    };
    char acc[1024];
    size_t len = 0;
    struct pollfd p = {out[0], POLLIN, 0};
    /* the poll time-out guards against a receiver that never starts */
    while (!srv.up && len < sizeof(acc) - 1 && poll(&p, 1, 120000) > 0) {
        ssize_t n = read(out[0], acc + len, sizeof(acc) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        acc[len] = '\0';
        char *nl;
        while ((nl = strchr(acc, '\n'))) {
            *nl = '\0';
            char name[32];
            int port;
            if (sscanf(acc, "%31s %d", name, &port) == 2)
                for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                    if (!strcmp(name, names[i].name))
                        *names[i].port = port;
            if (!strcmp(acc, "ready"))
                srv.up = srv.http > 0 && srv.udp > 0 && srv.tcp > 0;
            len -= (size_t)(nl + 1 - acc);
            memmove(acc, nl + 1, len + 1);
        }
    }
    close(out[0]);
    srv.tls = srv.https > 0 && srv.tlsport > 0 && srv.tlsmutual > 0;
    if (!srv.up)
        snprintf(srv.why, sizeof(srv.why), "the output test receiver did not start (python3?)");
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    if (srv.pid > 0) {
        close(srv.in_fd);
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

static void need_server(bool tls)
{
    if (!srv.up) {
        printf("# %s\n", srv.why);
        skip();
    }
    if (tls && !srv.tls) {
        printf("# no TLS receiver (openssl missing?)\n");
        skip();
    }
}

/* ---- the receiver's log ---- */

/* Records logged so far, the first skip ones left out; a new array. */
static json_t *records_from(size_t skip)
{
    json_t *all = json_array();
    FILE *f = fopen(srv.log, "r");
    if (!f)
        return all;
    char *line = NULL;
    size_t cap = 0, i = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *r = json_loads(line, 0, NULL);
        if (!r) /* a line being written */
            break;
        if (i++ >= skip)
            json_array_append_new(all, r);
        else
            json_decref(r);
    }
    free(line);
    fclose(f);
    return all;
}

static size_t logged(void)
{
    json_t *a = records_from(0);
    size_t n = json_array_size(a);
    json_decref(a);
    return n;
}

/* Wait until n more records than mark are logged; the records after mark.
 * (The wait is bounded as a guard, not measured.) */
static json_t *await(size_t mark, size_t n)
{
    for (int i = 0; i < 600; i++) {
        json_t *a = records_from(mark);
        if (json_array_size(a) >= n)
            return a;
        json_decref(a);
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    return records_from(mark);
}

static const char *rec_str(json_t *a, size_t i, const char *key)
{
    const char *s = json_string_value(json_object_get(json_array_get(a, i), key));
    return s ? s : "";
}

static const char *rec_header(json_t *a, size_t i, const char *name)
{
    json_t *h = json_object_get(json_array_get(a, i), "headers");
    const char *s = json_string_value(json_object_get(h, name));
    return s ? s : "";
}

/* ---- configuring an output from YAML text ---- */

struct out {
    const struct output_ops *ops;
    void *state;
    struct yaml_file f;
    struct conf_ctx c;
    char *msgs;
    size_t msgn;
    FILE *mf;
    int rc;
};

/* Configure kind from text (printf-style); returns configure's result. */
static int configure(struct out *o, const char *kind, const char *fmt, ...)
{
    memset(o, 0, sizeof(*o));
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    struct yaml_error err;
    assert_int_equal(yaml_parse(text, strlen(text), &o->f, &err), 0);
    o->mf = open_memstream(&o->msgs, &o->msgn);
    conf_ctx_init(&o->c, "k.yml", o->mf, &o->f.arena);
    o->ops = output_find(kind);
    assert_non_null(o->ops);
    o->rc = o->ops->configure(&o->c, o->f.docs[0], &o->state);
    fflush(o->mf);
    return o->rc;
}

static const char *messages(struct out *o)
{
    fflush(o->mf);
    return o->msgs ? o->msgs : "";
}

static void open_ok(struct out *o, const char *kind, const char *fmt, ...)
{
    memset(o, 0, sizeof(*o));
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (configure(o, kind, "%s", text) != 0)
        fail_msg("configure: %s", messages(o));
    char err[256] = "";
    if (o->ops->open(o->state, err, sizeof(err)) != 0)
        fail_msg("open: %s", err);
}

static void finish(struct out *o)
{
    o->ops->close(o->state);
    fclose(o->mf);
    free(o->msgs);
    yaml_file_free(&o->f);
}

/* ---- alerts ---- */

#define ALERT_JSON                                                                                 \
    "{\"@timestamp\":\"2024-03-04T10:00:05.000000000Z\",\"kind\":\"sigma\",\"rule\":{\"id\":"      \
    "\"r\\\"]\\\\x\",\"name\":\"Test rule\",\"level\":\"high\"},\"entity\":{\"source\":{\"ip\":"   \
    "\"203.0.113.9\"}},\"note\":\"caf\u00e9\"}"

static struct alert_msg alert(uint64_t seq, const char *id, const char *level, const char *json)
{
    struct alert_msg m = {
        .seq = seq,
        .ts_ns = time_from_utc(2024, 3, 4, 10, 0, 5, 0),
        .id = id,
        .kind = "sigma",
        .rule_id = "r\"]\\x",
        .rule_name = "Test rule",
        .level = level,
        .json = json,
        .n = strlen(json),
    };
    return m;
}

/* A port nothing listens on (bound, then closed). */
static int dead_port(int type)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- webhook ---- */

static void test_webhook_delivered(void **state)
{
    (void)state;
    need_server(false);
    struct out o;
    open_ok(&o, "webhook",
            "type: webhook\nurl: http://127.0.0.1:%d/ok\nheaders:\n  X-Tenant: blue\n"
            "timeout: 20s\nretry: {initial: 2s, max: 1m}\n",
            srv.http);
    size_t mark = logged();
    char err[256] = "";
    struct alert_msg m1 = alert(41, "a-41", "high", ALERT_JSON);
    struct alert_msg m2 = alert(42, "a-42", "low", "{\"kind\":\"intel\"}");
    assert_int_equal(o.ops->deliver(o.state, &m1, err, sizeof(err)), 0);
    assert_int_equal(o.ops->deliver(o.state, &m2, err, sizeof(err)), 0);
    json_t *r = await(mark, 2);
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(rec_str(r, 0, "path"), "/ok");
    assert_string_equal(rec_header(r, 0, "content-type"), "application/json");
    assert_string_equal(rec_header(r, 0, "x-kenchi-alert-id"), "a-41");
    assert_string_equal(rec_header(r, 0, "x-kenchi-alert-seq"), "41");
    assert_string_equal(rec_header(r, 0, "x-tenant"), "blue");
    assert_string_equal(rec_header(r, 0, "user-agent"), "kenchi");
    assert_string_equal(rec_str(r, 0, "body"), ALERT_JSON);
    assert_string_equal(rec_header(r, 1, "x-kenchi-alert-id"), "a-42");
    assert_string_equal(rec_str(r, 1, "body"), "{\"kind\":\"intel\"}");
    /* one connection, kept alive */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "port")),
                     json_integer_value(json_object_get(json_array_get(r, 1), "port")));
    json_decref(r);
    /* the retry settings, as the daemon reads them */
    struct output_retry rs;
    assert_int_equal(output_retry_settings(&o.c, o.f.docs[0], &rs), 0);
    assert_int_equal(rs.initial_ns, 2 * NS_PER_SEC);
    assert_int_equal(rs.max_ns, 60 * NS_PER_SEC);
    finish(&o);
}

static void test_webhook_later(void **state)
{
    (void)state;
    need_server(false);
    char err[256] = "";
    struct alert_msg m = alert(7, "a-7", "high", ALERT_JSON);
    struct out o;
    /* 500, then 200 for the same alert offered again */
    open_ok(&o, "webhook", "type: webhook\nurl: http://127.0.0.1:%d/flaky\n", srv.http);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EAGAIN);
    assert_non_null(strstr(err, "HTTP 500"));
    assert_int_equal(o.ops->retry_after_ns(o.state), 0);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    finish(&o);
    /* 429 with Retry-After in seconds */
    open_ok(&o, "webhook", "type: webhook\nurl: http://127.0.0.1:%d/busy\n", srv.http);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EAGAIN);
    assert_non_null(strstr(err, "HTTP 429"));
    assert_int_equal(o.ops->retry_after_ns(o.state), 7 * NS_PER_SEC);
    finish(&o);
    /* 503 with Retry-After as a date two minutes ahead */
    open_ok(&o, "webhook", "type: webhook\nurl: http://127.0.0.1:%d/busydate\n", srv.http);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EAGAIN);
    int64_t ra = o.ops->retry_after_ns(o.state);
    assert_true(ra >= 60 * NS_PER_SEC && ra <= 121 * NS_PER_SEC);
    finish(&o);
    /* nothing listening */
    open_ok(&o, "webhook", "type: webhook\nurl: http://127.0.0.1:%d/ok\n", dead_port(SOCK_STREAM));
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EAGAIN);
    assert_int_equal(o.ops->retry_after_ns(o.state), 0);
    finish(&o);
}

static void test_webhook_refused(void **state)
{
    (void)state;
    need_server(false);
    char err[256] = "";
    struct alert_msg m = alert(8, "a-8", "high", ALERT_JSON);
    struct out o;
    /* messages name the receiver without the url's user, path or query */
    open_ok(&o, "webhook", "type: webhook\nurl: http://u:pw@127.0.0.1:%d/bad?key=zzz\n", srv.http);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "HTTP 400"));
    assert_non_null(strstr(err, "http://127.0.0.1:"));
    assert_null(strstr(err, "pw"));
    assert_null(strstr(err, "zzz"));
    assert_null(strstr(err, "/bad"));
    assert_non_null(strstr(err, "no such tenant"));
    assert_null(strstr(err, "second line"));
    finish(&o);
    /* 401 without credentials */
    open_ok(&o, "webhook", "type: webhook\nurl: http://127.0.0.1:%d/auth\n", srv.http);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "HTTP 401"));
    finish(&o);
}

static void test_webhook_auth(void **state)
{
    (void)state;
    need_server(false);
    char err[256] = "", path[160];
    struct alert_msg m = alert(9, "a-9", "high", ALERT_JSON);
    snprintf(path, sizeof(path), "%s/token", srv.dir);
    FILE *f = fopen(path, "w");
    fputs("s3cret\n", f);
    fclose(f);
    struct out o;
    open_ok(&o, "webhook", "type: webhook\nurl: http://127.0.0.1:%d/auth\nbearer_token_file: %s\n",
            srv.http, path);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    /* a rotated token is read again on reopen */
    f = fopen(path, "w");
    fputs("wrong\n", f);
    fclose(f);
    assert_int_equal(o.ops->reopen(o.state), 0);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EPROTO);
    finish(&o);
    open_ok(&o, "webhook", "type: webhook\nurl: http://127.0.0.1:%d/auth\nbearer_token: s3cret\n",
            srv.http);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    finish(&o);
    open_ok(&o, "webhook",
            "type: webhook\nurl: http://127.0.0.1:%d/auth\nbasic: {user: ops, password: pw}\n",
            srv.http);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    finish(&o);
    /* a missing secret file stops open() with its name */
    assert_int_equal(configure(&o, "webhook",
                               "type: webhook\nurl: http://127.0.0.1:%d/auth\n"
                               "bearer_token_file: %s/nope\n",
                               srv.http, srv.dir),
                     0);
    assert_true(o.ops->open(o.state, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "nope"));
    finish(&o);
}

static void test_webhook_https(void **state)
{
    (void)state;
    need_server(true);
    char err[256] = "";
    struct alert_msg m = alert(10, "a-10", "high", ALERT_JSON);
    struct out o;
    size_t mark = logged();
    open_ok(&o, "webhook", "type: webhook\nurl: https://127.0.0.1:%d/ok\nca_file: %s/ca.pem\n",
            srv.https, srv.dir);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    json_t *r = await(mark, 1);
    assert_true(json_is_true(json_object_get(json_array_get(r, 0), "tls")));
    json_decref(r);
    finish(&o);
    /* a certificate from another CA: wait (it may be fixed), never send */
    open_ok(&o, "webhook", "type: webhook\nurl: https://127.0.0.1:%d/ok\nca_file: %s/other.pem\n",
            srv.https, srv.dir);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EAGAIN);
    finish(&o);
    open_ok(&o, "webhook",
            "type: webhook\nurl: https://127.0.0.1:%d/ok\nca_file: %s/other.pem\n"
            "tls_verify: false\n",
            srv.https, srv.dir);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    finish(&o);
}

static void test_webhook_retry_after(void **state)
{
    (void)state;
#define RA(s, now) webhook_retry_after_s(s, strlen(s), now)
    const int64_t now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    assert_int_equal(RA("7", now), 7);
    assert_int_equal(RA(" 120 \r\n", now), 120);
    assert_int_equal(RA("0", now), 0);
    assert_int_equal(RA("99999999999999999999999", now), WEBHOOK_RETRY_AFTER_CAP_S);
    assert_int_equal(RA("Wed, 21 Oct 2015 07:30:00 GMT", now), 120);
    assert_int_equal(RA("Wed, 21 Oct 2015 07:00:00 GMT", now), 0); /* past */
    assert_int_equal(RA("Thu, 22 Oct 2015 07:28:00 GMT", now), WEBHOOK_RETRY_AFTER_CAP_S);
    assert_int_equal(RA("12a", now), -1);
    assert_int_equal(RA("-5", now), -1);
    assert_int_equal(RA("soon", now), -1);
    assert_int_equal(RA("", now), -1);
#undef RA
}

static void test_webhook_config(void **state)
{
    (void)state;
    struct out o;
    assert_int_equal(configure(&o, "webhook",
                               "type: webhook\nname: x\nurl: ftp://h/\nheaders:\n"
                               "  Content-Type: text/plain\n  'Bad Name': x\n"
                               "  Authorization: y\n  X-Ok: \"a\\nb\"\n"
                               "bearer_token: t\nbasic: {user: u}\ntimout: 5s\n"
                               "retry: {initial: 10m, max: 1m}\n"),
                     -1);
    const char *msg = messages(&o);
    assert_non_null(strstr(msg, "url: 'ftp://h/' is not an http"));
    assert_non_null(strstr(msg, "Content-Type is set by kenchi"));
    assert_non_null(strstr(msg, "'Bad Name' is not a header name"));
    assert_non_null(strstr(msg, "Authorization with bearer_token"));
    assert_non_null(strstr(msg, "X-Ok: the value must be one line"));
    assert_non_null(strstr(msg, "basic: give one of password or password_file"));
    assert_non_null(strstr(msg, "only one of bearer_token"));
    assert_non_null(strstr(msg, "unknown key 'timout' (did you mean 'timeout'?)"));
    assert_non_null(strstr(msg, "initial (600s) is longer than max (60s)"));
    finish(&o);
    assert_int_equal(configure(&o, "webhook", "type: webhook\n"), -1);
    assert_non_null(strstr(messages(&o), "url: missing"));
    finish(&o);
    assert_int_equal(configure(&o, "webhook", "type: webhook\nurl: 'http://exa mple/x'\n"), -1);
    assert_non_null(strstr(messages(&o), "url: http://exa mple: "));
    finish(&o);
}

/* ---- syslog ---- */

static void check_syslog_message(const char *msg, const char *pri, const char *level)
{
    char want[512];
    snprintf(want, sizeof(want),
             "%s1 2024-03-04T10:00:05.000000Z testhost kenchi %ld sigma [kenchi@32473 "
             "alert_id=\"a-1\" seq=\"1\" rule_id=\"r\\\"\\]\\\\x\" level=\"%s\"] \xEF\xBB\xBF",
             pri, (long)getpid(), level);
    assert_memory_equal(msg, want, strlen(want));
    assert_string_equal(msg + strlen(want), ALERT_JSON);
}

static void test_syslog_udp(void **state)
{
    (void)state;
    need_server(false);
    char err[256] = "";
    struct out o;
    size_t mark = logged();
    open_ok(&o, "syslog", "type: syslog\naddress: 127.0.0.1:%d\nhostname: testhost\n", srv.udp);
    struct alert_msg m = alert(1, "a-1", "high", ALERT_JSON);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    json_t *r = await(mark, 1);
    assert_int_equal(json_array_size(r), 1);
    assert_string_equal(rec_str(r, 0, "t"), "udp");
    check_syslog_message(rec_str(r, 0, "msg"), "<131>", "high"); /* local0.err */
    json_decref(r);
    finish(&o);

    /* longer than max_message: cut on a character boundary, and said */
    char big[3000];
    size_t n = (size_t)snprintf(big, sizeof(big), "{\"x\":\"");
    while (n < 2000) {
        memcpy(big + n, "\xC3\xA9", 2); /* é */
        n += 2;
    }
    snprintf(big + n, sizeof(big) - n, "\"}");
    mark = logged();
    open_ok(&o, "syslog",
            "type: syslog\naddress: 127.0.0.1:%d\nhostname: testhost\nmax_message: 481\n"
            "facility: mail\n",
            srv.udp);
    m = alert(2, "a-2", "critical", big);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    r = await(mark, 1);
    const char *msg = rec_str(r, 0, "msg");
    assert_true(strlen(msg) <= 481 && strlen(msg) >= 478);
    assert_memory_equal(msg, "<18>1 ", 6); /* mail.crit */
    assert_non_null(strstr(msg, " truncated=\"true\"] \xEF\xBB\xBF{\"x\":\""));
    assert_null(strstr(msg, "\xEF\xBF\xBD")); /* no character was split */
    json_decref(r);
    /* a long rule id: its first 256 bytes in the structured data */
    char long_id[1001];
    memset(long_id, 'x', 1000);
    long_id[1000] = '\0';
    m = alert(3, "a-3", "high", ALERT_JSON);
    m.rule_id = long_id;
    mark = logged();
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    r = await(mark, 1);
    msg = rec_str(r, 0, "msg");
    assert_true(strlen(msg) <= 481);
    const char *v = strstr(msg, "rule_id=\"");
    assert_non_null(v);
    assert_int_equal(strspn(v + 9, "x"), 256);
    assert_int_equal(v[9 + 256], '"');
    json_decref(r);
    finish(&o);
}

static void test_syslog_tcp(void **state)
{
    (void)state;
    need_server(false);
    char err[256] = "";
    struct out o;
    size_t mark = logged();
    open_ok(&o, "syslog",
            "type: syslog\ntransport: tcp\naddress: 127.0.0.1:%d\nhostname: testhost\n", srv.tcp);
    struct alert_msg m = alert(1, "a-1", "informational", ALERT_JSON);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    m.level = "medium";
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    json_t *r = await(mark, 2);
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(rec_str(r, 0, "framing"), "octet");
    check_syslog_message(rec_str(r, 0, "msg"), "<134>", "informational");
    check_syslog_message(rec_str(r, 1, "msg"), "<132>", "medium");
    json_decref(r);
    finish(&o);

    mark = logged();
    open_ok(&o, "syslog",
            "type: syslog\ntransport: tcp\nframing: lf\naddress: 127.0.0.1:%d\n"
            "hostname: testhost\nfacility: auth\n",
            srv.tcp);
    m.level = "low";
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    r = await(mark, 1);
    assert_string_equal(rec_str(r, 0, "framing"), "lf");
    check_syslog_message(rec_str(r, 0, "msg"), "<37>", "low"); /* auth.notice */
    json_decref(r);
    finish(&o);
}

static void test_syslog_reconnect(void **state)
{
    (void)state;
    need_server(false);
    char err[256] = "";
    struct out o;
    /* the receiver closes each connection after one message: each next
     * alert finds the connection gone and makes a new one */
    size_t mark = logged();
    open_ok(&o, "syslog",
            "type: syslog\ntransport: tcp\naddress: 127.0.0.1:%d\nhostname: testhost\n",
            srv.tcpdrop);
    for (uint64_t i = 1; i <= 3; i++) {
        char id[16];
        snprintf(id, sizeof(id), "d-%" PRIu64, i);
        struct alert_msg m = alert(i, id, "high", ALERT_JSON);
        assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
        json_t *r = await(mark, (size_t)i);
        assert_int_equal(json_array_size(r), i);
        assert_non_null(strstr(rec_str(r, i - 1, "msg"), id));
        json_decref(r);
    }
    finish(&o);
    /* nothing listening: later, again and again, and open() is not an error */
    open_ok(&o, "syslog", "type: syslog\ntransport: tcp\naddress: 127.0.0.1:%d\n",
            dead_port(SOCK_STREAM));
    struct alert_msg m = alert(1, "a-1", "high", ALERT_JSON);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EAGAIN);
    assert_non_null(strstr(err, "refused"));
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EAGAIN);
    finish(&o);
}

static void test_syslog_tls(void **state)
{
    (void)state;
    need_server(true);
    char err[256] = "";
    struct out o;
    struct alert_msg m = alert(1, "a-1", "high", ALERT_JSON);
    size_t mark = logged();
    open_ok(&o, "syslog",
            "type: syslog\ntransport: tls\naddress: 127.0.0.1:%d\nhostname: testhost\n"
            "ca_file: %s/ca.pem\n",
            srv.tlsport, srv.dir);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    json_t *r = await(mark, 2);
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(rec_str(r, 0, "t"), "tls");
    assert_string_equal(rec_str(r, 0, "framing"), "octet");
    check_syslog_message(rec_str(r, 1, "msg"), "<131>", "high");
    json_decref(r);
    /* SIGHUP: the context is made again, the connection anew */
    assert_int_equal(o.ops->reopen(o.state), 0);
    mark = logged();
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    r = await(mark, 1);
    assert_int_equal(json_array_size(r), 1);
    json_decref(r);
    finish(&o);

    /* the server's certificate is not from the configured CA */
    open_ok(&o, "syslog",
            "type: syslog\ntransport: tls\naddress: 127.0.0.1:%d\nca_file: %s/other.pem\n",
            srv.tlsport, srv.dir);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), -EAGAIN);
    assert_non_null(strstr(err, "certificate"));
    finish(&o);

    /* a client certificate for a receiver that asks for one */
    mark = logged();
    open_ok(&o, "syslog",
            "type: syslog\ntransport: tls\naddress: 127.0.0.1:%d\nhostname: testhost\n"
            "ca_file: %s/ca.pem\ncert_file: %s/client.pem\nkey_file: %s/client.key\n"
            "framing: lf\n",
            srv.tlsmutual, srv.dir, srv.dir, srv.dir);
    assert_int_equal(o.ops->deliver(o.state, &m, err, sizeof(err)), 0);
    r = await(mark, 1);
    assert_string_equal(rec_str(r, 0, "t"), "tlsmutual");
    assert_string_equal(rec_str(r, 0, "peer"), "kenchi-client");
    assert_string_equal(rec_str(r, 0, "framing"), "lf");
    check_syslog_message(rec_str(r, 0, "msg"), "<131>", "high");
    json_decref(r);
    finish(&o);

    /* a key that does not fit its certificate stops open() */
    assert_int_equal(configure(&o, "syslog",
                               "type: syslog\ntransport: tls\naddress: 127.0.0.1:%d\n"
                               "cert_file: %s/client.pem\nkey_file: %s/server.key\n",
                               srv.tlsmutual, srv.dir, srv.dir),
                     0);
    assert_true(o.ops->open(o.state, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "key_file"));
    finish(&o);
}

static void test_syslog_config(void **state)
{
    (void)state;
    struct out o;
    assert_int_equal(configure(&o, "syslog",
                               "type: syslog\naddress: nowhere\nfacility: local9\n"
                               "ca_file: /x\nframing: lf\ncert_file: /c\nsd_id: 'a b'\n"
                               "max_message: 100\n"),
                     -1);
    const char *msg = messages(&o);
    assert_non_null(strstr(msg, "address: 'nowhere' is not an address"));
    assert_non_null(strstr(msg, "facility: 'local9' is not one of"));
    assert_non_null(strstr(msg, "ca_file: only for transport: tls"));
    assert_non_null(strstr(msg, "framing: only for transport: tcp or tls"));
    assert_non_null(strstr(msg, "cert_file and key_file go together"));
    assert_non_null(strstr(msg, "sd_id: NAME@NUMBER"));
    assert_non_null(strstr(msg, "max_message: 100 is out of range"));
    finish(&o);
    assert_int_equal(configure(&o, "syslog",
                               "type: syslog\ntransport: tcp\naddress: 127.0.0.1:514\n"
                               "max_message: 1000\ntransprot: x\n"),
                     -1);
    msg = messages(&o);
    assert_non_null(strstr(msg, "max_message: only for transport: udp"));
    assert_non_null(strstr(msg, "did you mean 'transport'"));
    finish(&o);
    assert_int_equal(configure(&o, "syslog",
                               "type: syslog\ntransport: tls\naddress: '[::1]:6514'\n"
                               "cert_file: /c\nkey_file: /k\nretry: {max: 10s}\n"),
                     0);
    assert_string_equal(messages(&o), "");
    finish(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_config),   cmocka_unit_test(test_webhook_retry_after),
        cmocka_unit_test(test_syslog_config),    cmocka_unit_test(test_webhook_delivered),
        cmocka_unit_test(test_webhook_later),    cmocka_unit_test(test_webhook_refused),
        cmocka_unit_test(test_webhook_auth),     cmocka_unit_test(test_webhook_https),
        cmocka_unit_test(test_syslog_udp),       cmocka_unit_test(test_syslog_tcp),
        cmocka_unit_test(test_syslog_reconnect), cmocka_unit_test(test_syslog_tls),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
