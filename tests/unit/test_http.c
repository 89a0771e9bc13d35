/* Tests of the metrics endpoint (daemon/http.h), the Prometheus text reader
 * (daemon/prom-text.h) and `kenchi status`: the server on 127.0.0.1 (any
 * free port) asked by curl (when installed) and by raw sockets for what curl
 * will not send (bad request lines, oversized heads, other methods, slow
 * clients); `kenchi status` (the binary in $KENCHI, default
 * build/debug/kenchi) summarising a registry with every kenchi_* series, and
 * failing with exit status 3 on a port where nothing listens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/conf.h"
#include "daemon/http.h"
#include "daemon/metrics.h"
#include "daemon/prom-text.h"

/* ---- the request parser ----------------------------------------------- */

static void test_parse_request(void **state)
{
    (void)state;
    struct http_request r;
    const char *ok = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
    assert_int_equal(http_parse_request(ok, strlen(ok), &r), 1);
    assert_int_equal(r.method, HTTP_GET);
    assert_int_equal(r.path_len, 8);
    assert_memory_equal(r.path, "/metrics", 8);
    assert_int_equal(r.minor, 1);
    /* every prefix is incomplete, never an error */
    for (size_t i = 0; i < strlen(ok); i++)
        assert_int_equal(http_parse_request(ok, i, &r), 0);
    assert_int_equal(http_parse_request("HEAD / HTTP/1.0\n\n", 17, &r), 1);
    assert_int_equal(r.method, HTTP_HEAD);
    assert_int_equal(http_parse_request("POST /x HTTP/1.1\r\n\r\n", 20, &r), 1);
    assert_int_equal(r.method, HTTP_OTHER);
    assert_int_equal(http_parse_request("GET /x HTTP/2.0\r\n\r\n", 19, &r), 505);
    assert_int_equal(http_parse_request("GET x HTTP/1.1\r\n\r\n", 18, &r), 400);
    assert_int_equal(http_parse_request("GET /x\r\n\r\n", 10, &r), 400);
    assert_int_equal(http_parse_request("GET /x HTTP/1.1\r\nno colon\r\n\r\n", 29, &r), 400);
    assert_int_equal(http_parse_request("GET /a\tb HTTP/1.1\r\n\r\n", 21, &r), 400);
    assert_int_equal(http_parse_request("G(T / HTTP/1.1\r\n\r\n", 18, &r), 400);
}

/* ---- the text format reader ------------------------------------------- */

struct seen {
    char lines[16][256];
    size_t n;
};

static void on_sample(void *opaque, const struct prom_sample *s)
{
    struct seen *sn = opaque;
    char src[64] = "-";
    prom_label(s, "source", src, sizeof(src));
    if (sn->n < 16)
        snprintf(sn->lines[sn->n++], 256, "%.*s|%s|%g", (int)s->name_len, s->name, src, s->value);
}

static void test_prom_text(void **state)
{
    (void)state;
    const char *text = "# HELP a_total Things.\n"
                       "# TYPE a_total counter\n"
                       "a_total 3\n"
                       "a_total{source=\"x\\\"y\",reason=\"full\"} 4 1700000000000\n"
                       "\n"
                       "b{source=\"m\\\\n\\n\"} -1.5e3\r\n"
                       "c +Inf\n"
                       "bad{source=\"x} 1\n"
                       "bad 1 2 3\n"
                       "9bad 1\n"
                       "bad{=\"x\"} 1\n"
                       "nolf{source=\"last\"} 7";
    struct seen sn = {.n = 0};
    assert_int_equal(prom_parse(text, strlen(text), on_sample, &sn), 4);
    assert_int_equal(sn.n, 5);
    assert_string_equal(sn.lines[0], "a_total|-|3");
    assert_string_equal(sn.lines[1], "a_total|x\"y|4");
    assert_string_equal(sn.lines[2], "b|m\\n\n|-1500");
    assert_string_equal(sn.lines[3], "c|-|inf");
    assert_string_equal(sn.lines[4], "nolf|last|7");
}

/* ---- the server ------------------------------------------------------- */

static int health_state;

static int health(void *opaque, char *reason, size_t n)
{
    (void)opaque;
    if (!health_state)
        return 0;
    snprintf(reason, n, "queue full for 30s");
    return 1;
}

static struct metrics *sample_registry(void)
{
    struct metrics *m = metrics_new();
    metric_add(metrics_counter(m, "kenchi_events_in_total", "Events read.", "source=postfix"),
               1200);
    metric_add(
        metrics_counter(m, "kenchi_events_decoded_total", "Events decoded.", "source=postfix"),
        1150);
    metric_add(
        metrics_counter(m, "kenchi_events_unparsed_total", "Events unparsed.", "source=postfix"),
        50);
    metric_add(metrics_counter(m, "kenchi_events_in_total", "Events read.", "source=edge"), 77);
    metric_add(
        metrics_counter(m, "kenchi_dropped_total", "Drops.", "source=edge,reason=queue_full"), 5);
    metric_add(metrics_counter(m, "kenchi_dropped_total", "Drops.", "source=edge,reason=too_long"),
               2);
    metric_add(metrics_counter(m, "kenchi_alerts_total", "Alerts.", "level=high"), 3);
    metric_add(metrics_counter(m, "kenchi_alerts_total", "Alerts.", "level=low"), 4);
    metric_set(metrics_gauge(m, "kenchi_lag_seconds", "Lag.", "source=postfix", 1e-3), 250);
    metric_set(metrics_gauge(m, "kenchi_queue_bytes", "Queue.", "", 1), 1 << 20);
    metric_set(metrics_gauge(m, "kenchi_queue_limit_bytes", "Queue limit.", "", 1), 4 << 20);
    metric_set(metrics_gauge(m, "kenchi_store_bytes", "Store.", "", 1), 3LL << 30);
    metric_set(metrics_gauge(m, "kenchi_start_time_seconds", "Start.", "", 1), 1700000000);
    metric_add(metrics_counter(m, "kenchi_syslog_messages_total", "Msgs.", "source=edge"), 77);
    metric_set(metrics_gauge(m, "kenchi_syslog_connections_open", "Open.", "source=edge", 1), 2);
    return m;
}

/* Run a shell command, its stdout into out; returns its exit status. */
static int run(const char *cmd, char *out, size_t outn)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, outn - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int connect_port(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Send req raw and read the whole answer until the server closes. */
static void raw(uint16_t port, const char *req, size_t n, char *out, size_t outn)
{
    int fd = connect_port(port);
    if (n)
        assert_true(send(fd, req, n, MSG_NOSIGNAL) == (ssize_t)n);
    size_t o = 0;
    for (;;) {
        ssize_t r = recv(fd, out + o, outn - 1 - o, 0);
        if (r <= 0)
            break;
        o += (size_t)r;
    }
    out[o] = 0;
    close(fd);
}

static void test_server(void **state)
{
    (void)state;
    struct metrics *m = sample_registry();
    char err[256];
    struct http_server *s = http_server_start("127.0.0.1", 0, m, health, NULL, err, sizeof(err));
    assert_non_null(s);
    uint16_t port = http_server_port(s);
    char out[65536];
    char req[HTTP_MAX_REQUEST + 100];

    raw(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 34, out, sizeof(out));
    assert_true(!strncmp(out, "HTTP/1.1 200 OK\r\n", 17));
    assert_non_null(strstr(out, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(out, "\r\n\r\n# HELP kenchi_events_in_total Events read.\n"));
    assert_non_null(strstr(out, "kenchi_lag_seconds{source=\"postfix\"} 0.25\n"));
    raw(port, "HEAD /metrics HTTP/1.1\r\n\r\n", 26, out, sizeof(out));
    assert_true(!strncmp(out, "HTTP/1.1 200 OK\r\n", 17));
    assert_non_null(strstr(out, "Content-Length: "));
    assert_null(strstr(out, "# HELP")); /* no body */
    raw(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 46, out, sizeof(out));
    assert_true(!strncmp(out, "HTTP/1.1 405 ", 13));
    assert_non_null(strstr(out, "Allow: GET, HEAD\r\n"));
    raw(port, "GET /nothing HTTP/1.1\r\n\r\n", 25, out, sizeof(out));
    assert_true(!strncmp(out, "HTTP/1.1 404 ", 13));
    raw(port, "GARBAGE\r\n\r\n", 11, out, sizeof(out));
    assert_true(!strncmp(out, "HTTP/1.1 400 ", 13));
    raw(port, "GET / HTTP/3.0\r\n\r\n", 18, out, sizeof(out));
    assert_true(!strncmp(out, "HTTP/1.1 505 ", 13));
    /* a head larger than the bound */
    size_t n = (size_t)snprintf(req, sizeof(req), "GET /metrics HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', sizeof(req) - n);
    raw(port, req, sizeof(req), out, sizeof(out));
    assert_true(!strncmp(out, "HTTP/1.1 431 ", 13));
    /* health, both ways */
    raw(port, "GET /health HTTP/1.0\r\n\r\n", 24, out, sizeof(out));
    assert_true(!strncmp(out, "HTTP/1.1 200 OK\r\n", 17));
    assert_non_null(strstr(out, "\r\n\r\nok\n"));
    health_state = 1;
    raw(port, "GET /health HTTP/1.1\r\n\r\n", 24, out, sizeof(out));
    assert_true(!strncmp(out, "HTTP/1.1 503 ", 13));
    assert_non_null(strstr(out, "\r\n\r\nqueue full for 30s\n"));
    health_state = 0;
    /* a client that sends half a request and waits: closed by the timeout,
     * while another is served meanwhile */
    int slow = connect_port(port);
    assert_int_equal(send(slow, "GET /met", 8, 0), 8);
    raw(port, "GET /health HTTP/1.1\r\n\r\n", 24, out, sizeof(out));
    assert_true(!strncmp(out, "HTTP/1.1 200 OK\r\n", 17));
    char b[64];
    assert_int_equal(recv(slow, b, sizeof(b), 0), 0);
    close(slow);

    /* curl, when installed */
    char cmd[512];
    if (system("curl --version >/dev/null 2>&1") == 0) {
        snprintf(cmd, sizeof(cmd),
                 "curl -s -S --noproxy '*' -w '%%{http_code} %%{content_type}\\n' "
                 "http://127.0.0.1:%u/metrics",
                 port);
        assert_int_equal(run(cmd, out, sizeof(out)), 0);
        assert_non_null(strstr(out, "kenchi_store_bytes 3221225472\n"));
        assert_non_null(strstr(out, "200 text/plain; version=0.0.4; charset=utf-8\n"));
        snprintf(cmd, sizeof(cmd),
                 "curl -s --noproxy '*' -o /dev/null -w '%%{http_code}' -X DELETE "
                 "http://127.0.0.1:%u/metrics",
                 port);
        assert_int_equal(run(cmd, out, sizeof(out)), 0);
        assert_string_equal(out, "405");
    } else {
        fprintf(stderr, "# curl is not installed: its part is skipped\n");
    }

    /* kenchi status against the live endpoint */
    const char *kenchi = getenv("KENCHI") ? getenv("KENCHI") : "build/debug/kenchi";
    if (access(kenchi, X_OK) == 0) {
        snprintf(cmd, sizeof(cmd), "%s status --metrics 127.0.0.1:%u", kenchi, port);
        assert_int_equal(run(cmd, out, sizeof(out)), 0);
        assert_non_null(strstr(out, "kenchi at 127.0.0.1:"));
        assert_non_null(strstr(out, "up since   2023-11-14T22:13:20Z ("));
        assert_non_null(strstr(out, "queue      1.0 MiB of 4.0 MiB (25%)"));
        assert_non_null(strstr(out, "store      3.0 GiB"));
        assert_non_null(
            strstr(out, "alerts     7 (critical 0, high 3, medium 0, low 4, informational 0)"));
        assert_non_null(strstr(out, "postfix                          1200         1150"
                                    "           50          0      0.2s"));
        assert_non_null(strstr(out, "edge                               77            0"
                                    "            0          7         -"));
        assert_non_null(strstr(out, "syslog listener"));
    } else {
        fprintf(stderr, "# %s is not built: the status part is skipped\n", kenchi);
    }
    http_server_stop(s);

    /* nothing listens there any more: exit status 3 and a clear message */
    if (access(kenchi, X_OK) == 0) {
        snprintf(cmd, sizeof(cmd), "%s status --metrics 127.0.0.1:%u 2>&1", kenchi, port);
        assert_int_equal(run(cmd, out, sizeof(out)), 3);
        assert_non_null(strstr(out, "kenchi status: cannot reach kenchi at http://127.0.0.1:"));
        assert_non_null(strstr(out, "is `kenchi run` running"));
        snprintf(cmd, sizeof(cmd), "%s status --metrics nowhere:x 2>&1", kenchi);
        assert_int_equal(run(cmd, out, sizeof(out)), 2);
    }
    metrics_free(m);
}

static void test_configure(void **state)
{
    (void)state;
    struct yaml_file f;
    struct yaml_error yerr;
    const char *yaml = "metrics:\n  listen: 9100\n  enabled: no\n  lisen: x\n";
    assert_int_equal(yaml_parse(yaml, strlen(yaml), &f, &yerr), 0);
    char *msgs = NULL;
    size_t msgn = 0;
    FILE *out = open_memstream(&msgs, &msgn);
    struct conf_ctx c;
    conf_ctx_init(&c, "k.yml", out, &f.arena);
    struct http_conf hc;
    assert_int_equal(http_configure(&c, ynode_get(f.docs[0], "metrics"), &hc), -EINVAL);
    fclose(out);
    assert_string_equal(hc.listen.host, "127.0.0.1");
    assert_int_equal(hc.listen.port, 9100);
    assert_false(hc.enabled);
    assert_non_null(strstr(msgs, "k.yml:4:3: unknown key 'lisen' (did you mean 'listen'?)"));
    free(msgs);
    assert_int_equal(http_configure(&c, NULL, &hc), 0);
    assert_true(hc.enabled);
    assert_int_equal(hc.listen.port, METRICS_DEFAULT_PORT);
    yaml_file_free(&f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_request),
        cmocka_unit_test(test_prom_text),
        cmocka_unit_test(test_server),
        cmocka_unit_test(test_configure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
