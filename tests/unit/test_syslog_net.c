/* End-to-end tests of the syslog receivers (source/syslog-net.h) over
 * 127.0.0.1 (and ::1 when the host has it): UDP datagrams, TCP with LF and
 * octet-counted framing (frames split across writes, many frames in one
 * write), TLS with a throwaway CA, server and client certificate made by the
 * openssl command in a temporary directory (client certificate required and
 * missing), oversized messages, malformed counts, the connection limit, the
 * idle and handshake timeouts, and back-pressure: while the consumer refuses,
 * a TCP sender is blocked and nothing is lost; UDP datagrams are counted as
 * dropped.
 *
 * Waiting for the I/O thread is a poll on a condition with a generous guard
 * (20 s) that only fails a test that hangs; nothing is timed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/conf.h"
#include "daemon/metrics.h"
#include "source/syslog-net.h"

#define GUARD_MS 20000

/* ---- the consumer ----------------------------------------------------- */

struct got {
    pthread_mutex_t lock;
    char **msgs;
    bool *trunc;
    char **peers;
    size_t n, cap;
    _Atomic bool refuse;
    _Atomic unsigned refusals;
    /* hold: the callback blocks (a stuck consumer) until released */
    pthread_cond_t cv;
    bool hold, holding;
    char log[8192]; /* the receivers' own log lines, one per line */
    size_t log_len;
};

static void on_log(void *opaque, const char *line)
{
    struct got *g = opaque;
    pthread_mutex_lock(&g->lock);
    int k = snprintf(g->log + g->log_len, sizeof(g->log) - g->log_len, "%s\n", line);
    if (k > 0 && g->log_len + (size_t)k < sizeof(g->log))
        g->log_len += (size_t)k;
    pthread_mutex_unlock(&g->lock);
}

static bool logged(struct got *g, const char *what)
{
    pthread_mutex_lock(&g->lock);
    bool found = strstr(g->log, what) != NULL;
    pthread_mutex_unlock(&g->lock);
    return found;
}

static int on_msg(void *opaque, const struct syslog_msg *m)
{
    struct got *g = opaque;
    if (atomic_load(&g->refuse)) {
        atomic_fetch_add(&g->refusals, 1);
        return -EAGAIN;
    }
    assert_true(m->received_ns > 0);
    assert_non_null(m->listener);
    pthread_mutex_lock(&g->lock);
    if (g->hold) {
        g->holding = true;
        while (g->hold)
            pthread_cond_wait(&g->cv, &g->lock);
    }
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->msgs = realloc(g->msgs, g->cap * sizeof(*g->msgs));
        g->trunc = realloc(g->trunc, g->cap * sizeof(*g->trunc));
        g->peers = realloc(g->peers, g->cap * sizeof(*g->peers));
    }
    g->msgs[g->n] = strndup(m->data, m->len);
    g->peers[g->n] = strdup(m->peer);
    g->trunc[g->n] = m->truncated;
    g->n++;
    pthread_mutex_unlock(&g->lock);
    return 0;
}

static size_t got_n(struct got *g)
{
    pthread_mutex_lock(&g->lock);
    size_t n = g->n;
    pthread_mutex_unlock(&g->lock);
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Poll until cond(arg) holds; fail after the guard. */
#define WAIT_UNTIL(cond)                                                                           \
    do {                                                                                           \
        int waited_ = 0;                                                                           \
        while (!(cond)) {                                                                          \
            if (waited_ >= GUARD_MS) {                                                             \
                print_error("gave up waiting for: %s\n", #cond);                                   \
                fail();                                                                            \
            }                                                                                      \
            sleep_ms(2);                                                                           \
            waited_ += 2;                                                                          \
        }                                                                                          \
    } while (0)

struct fixture {
    struct got g;
    struct metrics *m;
    struct syslog_net *net;
    uint16_t port;
    const char *name;
};

static struct syslog_listener_conf conf_from(const char *yaml)
{
    struct yaml_file f;
    struct yaml_error err;
    assert_int_equal(yaml_parse(yaml, strlen(yaml), &f, &err), 0);
    struct conf_ctx c;
    conf_ctx_init(&c, "test.yml", stderr, &f.arena);
    struct syslog_listener_conf conf;
    assert_int_equal(syslog_listener_configure(&c, f.docs[0], &conf), 0);
    /* the strings live in the YAML arena: keep them */
    static char keep[8][256];
    static int k;
    const char **s[] = {&conf.name, &conf.tls_cert, &conf.tls_key, &conf.tls_ca};
    for (size_t i = 0; i < 4; i++) {
        if (*s[i]) {
            snprintf(keep[k % 8], sizeof(keep[0]), "%s", *s[i]);
            *s[i] = keep[k++ % 8];
        }
    }
    yaml_file_free(&f);
    conf.listen.port = 0; /* any free port */
    return conf;
}

static void start(struct fixture *fx, const char *yaml)
{
    memset(fx, 0, sizeof(*fx));
    pthread_mutex_init(&fx->g.lock, NULL);
    pthread_cond_init(&fx->g.cv, NULL);
    fx->m = metrics_new();
    fx->net = syslog_net_new(on_msg, &fx->g, fx->m);
    assert_non_null(fx->net);
    syslog_net_set_log(fx->net, on_log, &fx->g);
    struct syslog_listener_conf conf = conf_from(yaml);
    char err[256];
    int idx = syslog_net_add(fx->net, &conf, err, sizeof(err));
    if (idx < 0)
        print_error("add: %s\n", err);
    assert_true(idx >= 0);
    fx->port = syslog_net_port(fx->net, idx);
    assert_true(fx->port > 0);
    fx->name = conf.name;
    assert_int_equal(syslog_net_start(fx->net), 0);
}

static void stop(struct fixture *fx)
{
    syslog_net_free(fx->net);
    metrics_free(fx->m);
    for (size_t i = 0; i < fx->g.n; i++) {
        free(fx->g.msgs[i]);
        free(fx->g.peers[i]);
    }
    free(fx->g.msgs);
    free(fx->g.trunc);
    free(fx->g.peers);
    pthread_mutex_destroy(&fx->g.lock);
    pthread_cond_destroy(&fx->g.cv);
}

static bool holding(struct got *g)
{
    pthread_mutex_lock(&g->lock);
    bool h = g->holding;
    pthread_mutex_unlock(&g->lock);
    return h;
}

static bool got_prefix(struct got *g, const char *prefix)
{
    pthread_mutex_lock(&g->lock);
    bool found = false;
    for (size_t i = 0; i < g->n && !found; i++)
        found = !strncmp(g->msgs[i], prefix, strlen(prefix));
    pthread_mutex_unlock(&g->lock);
    return found;
}

static uint64_t counter(struct fixture *fx, const char *name, const char *extra)
{
    char labels[256];
    snprintf(labels, sizeof(labels), "source=%s%s", fx->name, extra ? extra : "");
    return atomic_load(metrics_counter(fx->m, name, "", labels));
}

static int64_t gauge(struct fixture *fx, const char *name)
{
    char labels[256];
    snprintf(labels, sizeof(labels), "source=%s", fx->name);
    return atomic_load(metrics_gauge(fx->m, name, "", labels, 1));
}

/* ---- clients ---------------------------------------------------------- */

static int connect_to(int family, uint16_t port, int type)
{
    int fd = socket(family, type, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = GUARD_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int r;
    if (family == AF_INET6) {
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
        a.sin6_addr = in6addr_loopback;
        r = connect(fd, (struct sockaddr *)&a, sizeof(a));
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        r = connect(fd, (struct sockaddr *)&a, sizeof(a));
    }
    assert_int_equal(r, 0);
    return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

/* Wait until the server closes fd (end of stream or reset). */
static void wait_closed(int fd)
{
    char b[256];
    for (;;) {
        ssize_t r = recv(fd, b, sizeof(b), 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            print_error("the server did not close the connection\n");
            fail();
        }
    }
}

/* ---- tests ------------------------------------------------------------ */

static void test_configure(void **state)
{
    (void)state;
    const char *yaml = "type: syslog\nname: edge\nformat: syslog\ntimezone: UTC\n"
                       "protocol: tcp\nlisten: '[::1]:1514'\nframing: octet\n"
                       "max_message: 8KiB\nmax_connections: 10\nidle_timeout: 30s\n"
                       "receive_buffer: 1MiB\n";
    struct yaml_file f;
    struct yaml_error yerr;
    assert_int_equal(yaml_parse(yaml, strlen(yaml), &f, &yerr), 0);
    struct conf_ctx c;
    conf_ctx_init(&c, "k.yml", NULL, &f.arena);
    struct syslog_listener_conf conf;
    assert_int_equal(syslog_listener_configure(&c, f.docs[0], &conf), 0);
    assert_string_equal(conf.name, "edge");
    assert_int_equal(conf.protocol, SYSLOG_PROTO_TCP);
    assert_string_equal(conf.listen.host, "::1");
    assert_int_equal(conf.listen.port, 1514);
    assert_int_equal(conf.framing, SYSLOG_FRAMING_OCTET);
    assert_int_equal(conf.max_message, 8192);
    assert_int_equal(conf.max_connections, 10);
    assert_int_equal(conf.idle_timeout_ns, 30000000000LL);
    assert_int_equal(conf.receive_buffer, 1 << 20);
    yaml_file_free(&f);

    /* defaults */
    yaml = "type: syslog\n";
    assert_int_equal(yaml_parse(yaml, strlen(yaml), &f, &yerr), 0);
    conf_ctx_init(&c, "k.yml", NULL, &f.arena);
    assert_int_equal(syslog_listener_configure(&c, f.docs[0], &conf), 0);
    assert_null(conf.name);
    assert_int_equal(conf.protocol, SYSLOG_PROTO_UDP);
    assert_string_equal(conf.listen.host, "127.0.0.1");
    assert_int_equal(conf.listen.port, 514);
    assert_int_equal(conf.max_message, SYSLOG_DEFAULT_MAX_MESSAGE);
    yaml_file_free(&f);

    /* every problem, with its place */
    yaml = "type: syslog\nprotocol: tls\nframing: lf\nlisten: nowhere\n"
           "tls:\n  cert: /nonexistent/cert.pem\n  require_client_cert: true\n  keyy: x\n"
           "max_mesage: 1\n";
    assert_int_equal(yaml_parse(yaml, strlen(yaml), &f, &yerr), 0);
    char *msgs = NULL;
    size_t msgn = 0;
    FILE *out = open_memstream(&msgs, &msgn);
    conf_ctx_init(&c, "k.yml", out, &f.arena);
    assert_int_equal(syslog_listener_configure(&c, f.docs[0], &conf), -EINVAL);
    fclose(out);
    assert_non_null(
        strstr(msgs, "k.yml:9:1: unknown key 'max_mesage' (did you mean 'max_message'?)"));
    assert_non_null(strstr(msgs, "k.yml:4:9: listen: 'nowhere' is not an address"));
    assert_non_null(strstr(msgs, "k.yml:6:9: cert: cannot read '/nonexistent/cert.pem'"));
    assert_non_null(strstr(msgs, "k.yml:8:3: unknown key 'keyy' (did you mean 'key'?)"));
    assert_non_null(strstr(msgs, "require_client_cert: needs tls.ca"));
    assert_non_null(strstr(msgs, "protocol tls needs tls.cert and tls.key"));
    free(msgs);
    yaml_file_free(&f);

    yaml = "type: syslog\nprotocol: udp\nframing: lf\ntls: {cert: x}\n";
    assert_int_equal(yaml_parse(yaml, strlen(yaml), &f, &yerr), 0);
    msgs = NULL;
    out = open_memstream(&msgs, &msgn);
    conf_ctx_init(&c, "k.yml", out, &f.arena);
    assert_int_equal(syslog_listener_configure(&c, f.docs[0], &conf), -EINVAL);
    fclose(out);
    assert_non_null(strstr(msgs, "k.yml:3:10: framing: only for protocol tcp or tls"));
    assert_non_null(strstr(msgs, "k.yml:4:6: tls: only for protocol tls"));
    free(msgs);
    yaml_file_free(&f);
}

static void test_port_taken(void **state)
{
    (void)state;
    struct fixture fx;
    start(&fx, "type: syslog\nprotocol: tcp\nname: first\n");
    struct syslog_net *other = syslog_net_new(on_msg, NULL, NULL);
    struct syslog_listener_conf conf = conf_from("type: syslog\nprotocol: tcp\n");
    conf.listen.port = fx.port;
    char err[256];
    assert_int_equal(syslog_net_add(other, &conf, err, sizeof(err)), -EADDRINUSE);
    assert_non_null(strstr(err, "127.0.0.1:"));
    assert_non_null(strstr(err, "Address already in use"));
    syslog_net_free(other);
    stop(&fx);
}

static void test_udp(void **state)
{
    (void)state;
    struct fixture fx;
    start(&fx, "type: syslog\nname: udp-in\nprotocol: udp\nmax_message: 480\n");
    int fd = connect_to(AF_INET, fx.port, SOCK_DGRAM);
    send_all(fd, "<13>one", 7);
    send_all(fd, "<13>two\n", 8);
    char big[1000];
    memset(big, 'x', sizeof(big));
    memcpy(big, "<13>", 4);
    send_all(fd, big, sizeof(big));
    WAIT_UNTIL(got_n(&fx.g) == 3);
    assert_string_equal(fx.g.msgs[0], "<13>one");
    assert_string_equal(fx.g.msgs[1], "<13>two");
    assert_int_equal(strlen(fx.g.msgs[2]), 480);
    assert_false(fx.g.trunc[0]);
    assert_true(fx.g.trunc[2]);
    struct sockaddr_in me;
    socklen_t sl = sizeof(me);
    getsockname(fd, (struct sockaddr *)&me, &sl);
    char peer[64];
    snprintf(peer, sizeof(peer), "127.0.0.1:%u", ntohs(me.sin_port));
    assert_string_equal(fx.g.peers[0], peer);
    assert_int_equal(counter(&fx, "kenchi_syslog_messages_total", NULL), 3);
    assert_int_equal(counter(&fx, "kenchi_syslog_truncated_total", NULL), 1);
    assert_int_equal(counter(&fx, "kenchi_syslog_bytes_total", NULL), 7 + 8 + 1000);

    /* back-pressure on UDP: the consumer refuses, the datagrams are counted */
    atomic_store(&fx.g.refuse, true);
    for (int i = 0; i < 10; i++)
        send_all(fd, "<13>dropped", 11);
    WAIT_UNTIL(atomic_load(&fx.g.refusals) == 10);
    assert_int_equal(counter(&fx, "kenchi_dropped_total", ",reason=queue_full"), 10);
    atomic_store(&fx.g.refuse, false);
    send_all(fd, "<13>after", 9);
    WAIT_UNTIL(got_n(&fx.g) == 4);
    assert_string_equal(fx.g.msgs[3], "<13>after");
    assert_int_equal(counter(&fx, "kenchi_syslog_messages_total", NULL), 4);
    close(fd);
    stop(&fx);
}

/* Datagrams the kernel drops (the socket buffer full while the consumer is
 * stuck) are counted from SO_RXQ_OVFL. */
static void test_udp_kernel_drops(void **state)
{
    (void)state;
    struct fixture fx;
    start(&fx, "type: syslog\nname: udp-small\nprotocol: udp\nreceive_buffer: 4096\n");
    int fd = connect_to(AF_INET, fx.port, SOCK_DGRAM);
    pthread_mutex_lock(&fx.g.lock);
    fx.g.hold = true;
    pthread_mutex_unlock(&fx.g.lock);
    send_all(fd, "<13>first", 9);
    WAIT_UNTIL(holding(&fx.g));
    char dgram[1000];
    memset(dgram, 'z', sizeof(dgram));
    memcpy(dgram, "<13>", 4);
    int sent = 1;
    for (int i = 0; i < 300; i++, sent++)
        send_all(fd, dgram, sizeof(dgram));
    pthread_mutex_lock(&fx.g.lock);
    fx.g.hold = false;
    pthread_cond_broadcast(&fx.g.cv);
    pthread_mutex_unlock(&fx.g.lock);
    /* the drop count comes with the next datagram read: send one until
     * one gets through */
    int waited = 0;
    while (!got_prefix(&fx.g, "<13>last")) {
        send_all(fd, "<13>last", 8);
        sent++;
        sleep_ms(20);
        waited += 20;
        assert_true(waited < GUARD_MS);
    }
    uint64_t drops = counter(&fx, "kenchi_dropped_total", ",reason=socket_buffer");
    size_t got = got_n(&fx.g);
    assert_true(drops > 0);
    assert_true(got + drops >= 302);
    assert_true(got + drops <= (size_t)sent);
    assert_int_equal(counter(&fx, "kenchi_dropped_total", ",reason=queue_full"), 0);
    close(fd);
    stop(&fx);
}

/* Many idle connections do not stall a busy one. */
static void test_many_idle(void **state)
{
    (void)state;
    struct fixture fx;
    start(&fx, "type: syslog\nname: crowd\nprotocol: tcp\nmax_connections: 300\n");
    int idle[200];
    for (int i = 0; i < 200; i++)
        idle[i] = connect_to(AF_INET, fx.port, SOCK_STREAM);
    /* some of them send half a message and stop */
    for (int i = 0; i < 200; i += 10)
        send_all(idle[i], "<13>half a mess", 15);
    int busy = connect_to(AF_INET, fx.port, SOCK_STREAM);
    for (int i = 0; i < 100; i++) {
        char m[32];
        int k = snprintf(m, sizeof(m), "<13>busy %d\n", i);
        send_all(busy, m, (size_t)k);
    }
    WAIT_UNTIL(got_n(&fx.g) == 100);
    WAIT_UNTIL(gauge(&fx, "kenchi_syslog_connections_open") == 201);
    assert_string_equal(fx.g.msgs[99], "<13>busy 99");
    close(busy);
    for (int i = 0; i < 200; i++)
        close(idle[i]);
    /* the half messages come out when their senders close */
    WAIT_UNTIL(got_n(&fx.g) == 120);
    WAIT_UNTIL(gauge(&fx, "kenchi_syslog_connections_open") == 0);
    stop(&fx);
}

static void test_tcp_lf(void **state)
{
    (void)state;
    struct fixture fx;
    start(&fx, "type: syslog\nname: tcp-in\nprotocol: tcp\n");
    int fd = connect_to(AF_INET, fx.port, SOCK_STREAM);
    /* split across writes, byte by byte */
    const char *s = "<13>first\r\n<13>second\n";
    for (size_t i = 0; s[i]; i++)
        send_all(fd, s + i, 1);
    WAIT_UNTIL(got_n(&fx.g) == 2);
    /* many frames in one write */
    char buf[64 * 1000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "<13>msg %d\n", i);
    send_all(fd, buf, n);
    /* the last line without its LF comes out when the sender closes */
    send_all(fd, "<13>tail", 8);
    shutdown(fd, SHUT_WR);
    WAIT_UNTIL(got_n(&fx.g) == 1003);
    wait_closed(fd);
    close(fd);
    assert_string_equal(fx.g.msgs[0], "<13>first");
    assert_string_equal(fx.g.msgs[1], "<13>second");
    for (int i = 0; i < 1000; i++) {
        char want[32];
        snprintf(want, sizeof(want), "<13>msg %d", i);
        assert_string_equal(fx.g.msgs[2 + i], want);
    }
    assert_string_equal(fx.g.msgs[1002], "<13>tail");
    assert_int_equal(counter(&fx, "kenchi_syslog_connections_total", NULL), 1);
    WAIT_UNTIL(gauge(&fx, "kenchi_syslog_connections_open") == 0);
    stop(&fx);
}

static void test_tcp_octet(void **state)
{
    (void)state;
    struct fixture fx;
    start(&fx, "type: syslog\nname: tcp-oc\nprotocol: tcp\nmax_message: 480\n");
    int fd = connect_to(AF_INET, fx.port, SOCK_STREAM);
    const char *s = "11 <13>a\nb c d11 <13>second!";
    for (size_t i = 0; s[i]; i++)
        send_all(fd, s + i, 1);
    WAIT_UNTIL(got_n(&fx.g) == 2);
    assert_string_equal(fx.g.msgs[0], "<13>a\nb c d");
    assert_string_equal(fx.g.msgs[1], "<13>second!");
    char buf[32 * 500];
    size_t n = 0;
    for (int i = 0; i < 500; i++) {
        char m[32];
        int k = snprintf(m, sizeof(m), "<13>octet %d", i);
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%d %s", k, m);
    }
    send_all(fd, buf, n);
    /* an oversized frame: cut, flagged, the rest skipped */
    char big[2000];
    int k = snprintf(big, sizeof(big), "1500 <13>");
    memset(big + k, 'y', 1500 - 4);
    k += 1500 - 4;
    k += snprintf(big + k, sizeof(big) - (size_t)k, "6 <13>ok");
    send_all(fd, big, (size_t)k);
    WAIT_UNTIL(got_n(&fx.g) == 504);
    for (int i = 0; i < 500; i++) {
        char want[32];
        snprintf(want, sizeof(want), "<13>octet %d", i);
        assert_string_equal(fx.g.msgs[2 + i], want);
    }
    assert_int_equal(strlen(fx.g.msgs[502]), 480);
    assert_true(fx.g.trunc[502]);
    assert_string_equal(fx.g.msgs[503], "<13>ok");
    assert_false(fx.g.trunc[503]);
    /* a malformed count closes the connection, counted */
    send_all(fd, "5 <13>x", 7);
    send_all(fd, "garbage", 7);
    wait_closed(fd);
    close(fd);
    assert_int_equal(got_n(&fx.g), 505);
    assert_int_equal(counter(&fx, "kenchi_syslog_frame_errors_total", NULL), 1);
    WAIT_UNTIL(logged(&fx.g, "syslog source 'tcp-oc': 127.0.0.1:"));
    assert_true(logged(&fx.g, ": malformed octet count (byte 0x67 'g'): connection closed"));
    stop(&fx);
}

struct blast {
    int fd;
    int count;
};

static void test_tcp_backpressure(void **state)
{
    (void)state;
    struct fixture fx;
    start(&fx, "type: syslog\nname: bp\nprotocol: tcp\n");
    atomic_store(&fx.g.refuse, true);
    int fd = connect_to(AF_INET, fx.port, SOCK_STREAM);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    fcntl(fd, F_SETFL, O_NONBLOCK);
    /* write until the sender is blocked: the receiver stopped reading */
    int sent = 0;
    char line[128];
    size_t pos = 0, len = 0;
    for (;;) {
        if (pos == len) {
            len = (size_t)snprintf(line, sizeof(line), "<13>backpressure message %08d\n", sent);
            pos = 0;
        }
        ssize_t w = send(fd, line + pos, len - pos, MSG_NOSIGNAL);
        if (w < 0) {
            assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
            /* blocked: make sure it stays so once the receiver paused */
            if (atomic_load(&fx.g.refusals) > 0 && gauge(&fx, "kenchi_syslog_connections_paused"))
                break;
            sleep_ms(2);
            continue;
        }
        pos += (size_t)w;
        if (pos == len)
            sent++;
        assert_true(sent < 10000000); /* the sender must be stopped long before */
    }
    assert_int_equal(got_n(&fx.g), 0);
    /* a resume while the consumer still refuses: offered again, still paused */
    unsigned before = atomic_load(&fx.g.refusals);
    syslog_net_resume(fx.net);
    WAIT_UNTIL(atomic_load(&fx.g.refusals) > before);
    assert_int_equal(gauge(&fx, "kenchi_syslog_connections_paused"), 1);
    /* room again: everything arrives, in order, nothing lost */
    atomic_store(&fx.g.refuse, false);
    syslog_net_resume(fx.net);
    fcntl(fd, F_SETFL, 0);
    if (pos < len)
        send_all(fd, line + pos, len - pos), sent++;
    shutdown(fd, SHUT_WR);
    WAIT_UNTIL(got_n(&fx.g) == (size_t)sent);
    wait_closed(fd);
    close(fd);
    for (int i = 0; i < sent; i++) {
        char want[64];
        snprintf(want, sizeof(want), "<13>backpressure message %08d", i);
        if (strcmp(fx.g.msgs[i], want)) {
            print_error("message %d: '%s'\n", i, fx.g.msgs[i]);
            fail();
        }
    }
    assert_true(sent > 100); /* kernel buffers held far more than one read */
    assert_int_equal(counter(&fx, "kenchi_dropped_total", ",reason=queue_full"), 0);
    assert_int_equal(gauge(&fx, "kenchi_syslog_connections_paused"), 0);
    stop(&fx);
}

static void test_limits(void **state)
{
    (void)state;
    struct fixture fx;
    start(&fx, "type: syslog\nname: lim\nprotocol: tcp\nmax_connections: 2\n"
               "idle_timeout: 200ms\n");
    int a = connect_to(AF_INET, fx.port, SOCK_STREAM);
    int b = connect_to(AF_INET, fx.port, SOCK_STREAM);
    WAIT_UNTIL(gauge(&fx, "kenchi_syslog_connections_open") == 2);
    int c = connect_to(AF_INET, fx.port, SOCK_STREAM);
    wait_closed(c); /* refused: accepted and closed at once */
    close(c);
    assert_int_equal(counter(&fx, "kenchi_syslog_connections_refused_total", NULL), 1);
    assert_true(logged(&fx.g, "connection refused: max_connections (2) reached"));
    /* idle: closed by the timeout; a connection in use is kept meanwhile */
    send_all(b, "<13>x\n", 6);
    wait_closed(a);
    wait_closed(b);
    close(a);
    close(b);
    assert_int_equal(counter(&fx, "kenchi_syslog_timeouts_total", NULL), 2);
    assert_int_equal(got_n(&fx.g), 1);
    stop(&fx);
}

static void test_ipv6(void **state)
{
    (void)state;
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    a.sin6_addr = in6addr_loopback;
    bool have = probe >= 0 && bind(probe, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (probe >= 0)
        close(probe);
    if (!have)
        skip(); /* no ::1 on this host */
    struct fixture fx;
    start(&fx, "type: syslog\nname: v6\nprotocol: tcp\nlisten: '[::1]:1'\n");
    int fd = connect_to(AF_INET6, fx.port, SOCK_STREAM);
    send_all(fd, "<13>over ipv6\n", 14);
    WAIT_UNTIL(got_n(&fx.g) == 1);
    assert_string_equal(fx.g.msgs[0], "<13>over ipv6");
    assert_true(!strncmp(fx.g.peers[0], "[::1]:", 6));
    close(fd);
    stop(&fx);
}

/* ---- TLS -------------------------------------------------------------- */

static char tls_dir[256];

static int make_certs(void **state)
{
    (void)state;
    if (system("openssl version >/dev/null 2>&1") != 0)
        return 0; /* the TLS tests skip */
    snprintf(tls_dir, sizeof(tls_dir), "%s/kenchi-tls-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tls_dir)) {
        tls_dir[0] = 0;
        return 0;
    }
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && exec >log 2>&1 && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj /CN=kenchi-test-ca && "
             "for who in server client; do "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout $who.key -out $who.csr -subj /CN=localhost && "
             "openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out $who.pem -days 2 || exit 1; done",
             tls_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "# making test certificates failed (see %s/log)\n", tls_dir);
        tls_dir[0] = 0;
    }
    return 0;
}

static int remove_certs(void **state)
{
    (void)state;
    if (tls_dir[0]) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tls_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "# could not remove %s\n", tls_dir);
    }
    return 0;
}

static void start_tls(struct fixture *fx, bool require, const char *extra)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "type: syslog\nname: tls-in\nprotocol: tls\n%s"
             "tls:\n  cert: %s/server.pem\n  key: %s/server.key\n  ca: %s/ca.pem\n"
             "  require_client_cert: %s\n  handshake_timeout: 200ms\n",
             extra, tls_dir, tls_dir, tls_dir, require ? "true" : "false");
    start(fx, yaml);
}

/* A TLS client; with_cert: present the client certificate. */
static SSL *tls_connect(uint16_t port, bool with_cert, SSL_CTX **ctxp, int *fdp)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    char path[512], key[512];
    snprintf(path, sizeof(path), "%s/ca.pem", tls_dir);
    assert_int_equal(SSL_CTX_load_verify_locations(ctx, path, NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (with_cert) {
        snprintf(path, sizeof(path), "%s/client.pem", tls_dir);
        snprintf(key, sizeof(key), "%s/client.key", tls_dir);
        assert_int_equal(SSL_CTX_use_certificate_file(ctx, path, SSL_FILETYPE_PEM), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
    }
    int fd = connect_to(AF_INET, port, SOCK_STREAM);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set1_host(ssl, "localhost");
    *ctxp = ctx;
    *fdp = fd;
    return ssl;
}

static void tls_done(SSL *ssl, SSL_CTX *ctx, int fd)
{
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
}

static void test_tls(void **state)
{
    (void)state;
    if (!tls_dir[0])
        skip(); /* no openssl command to make certificates */
    struct fixture fx;
    start_tls(&fx, false, "");
    SSL_CTX *ctx;
    int fd;
    SSL *ssl = tls_connect(fx.port, false, &ctx, &fd);
    assert_int_equal(SSL_connect(ssl), 1);
    assert_true(SSL_version(ssl) >= TLS1_2_VERSION);
    /* RFC 5425: octet counting; split and batched */
    const char *s = "9 <13>hello12 <13>second!!";
    for (size_t i = 0; s[i]; i++)
        assert_int_equal(SSL_write(ssl, s + i, 1), 1);
    char buf[40000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) {
        char m[32];
        int k = snprintf(m, sizeof(m), "<13>tls %d", i);
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%d %s", k, m);
    }
    assert_int_equal(SSL_write(ssl, buf, (int)n), (int)n);
    WAIT_UNTIL(got_n(&fx.g) == 1002);
    assert_string_equal(fx.g.msgs[0], "<13>hello");
    assert_string_equal(fx.g.msgs[1], "<13>second!!");
    assert_string_equal(fx.g.msgs[1001], "<13>tls 999");
    SSL_shutdown(ssl);
    tls_done(ssl, ctx, fd);
    WAIT_UNTIL(gauge(&fx, "kenchi_syslog_connections_open") == 0);

    /* a client that never finishes the handshake is closed by the timeout */
    int idle = connect_to(AF_INET, fx.port, SOCK_STREAM);
    wait_closed(idle);
    close(idle);
    assert_int_equal(counter(&fx, "kenchi_syslog_tls_handshake_failures_total", NULL), 1);
    assert_int_equal(counter(&fx, "kenchi_syslog_timeouts_total", NULL), 1);
    assert_true(logged(&fx.g, "TLS handshake not finished within 0.2s: connection closed"));
    /* garbage instead of a ClientHello */
    int bad = connect_to(AF_INET, fx.port, SOCK_STREAM);
    send_all(bad, "<13>plain text, not TLS\n", 24);
    wait_closed(bad);
    close(bad);
    assert_int_equal(counter(&fx, "kenchi_syslog_tls_handshake_failures_total", NULL), 2);
    assert_true(logged(&fx.g, "TLS handshake failed: "));
    assert_int_equal(got_n(&fx.g), 1002);
    stop(&fx);
}

struct tls_sender {
    SSL *ssl;
    int count;
    bool ok;
};

static void *tls_send(void *arg)
{
    struct tls_sender *t = arg;
    t->ok = true;
    for (int i = 0; i < t->count; i++) {
        char m[64];
        int k = snprintf(m, sizeof(m), "<13>tls backpressure %06d\n", i);
        if (SSL_write(t->ssl, m, k) != k) {
            t->ok = false;
            break;
        }
    }
    return NULL;
}

/* Back-pressure over TLS: records OpenSSL has already decrypted while the
 * connection pauses are kept and delivered after the resume, in order. */
static void test_tls_backpressure(void **state)
{
    (void)state;
    if (!tls_dir[0])
        skip();
    struct fixture fx;
    start_tls(&fx, false, "framing: lf\n");
    atomic_store(&fx.g.refuse, true);
    SSL_CTX *ctx;
    int fd;
    SSL *ssl = tls_connect(fx.port, false, &ctx, &fd);
    assert_int_equal(SSL_connect(ssl), 1);
    struct tls_sender t = {ssl, 20000, false};
    pthread_t th;
    pthread_create(&th, NULL, tls_send, &t);
    WAIT_UNTIL(gauge(&fx, "kenchi_syslog_connections_paused") == 1);
    assert_int_equal(got_n(&fx.g), 0);
    atomic_store(&fx.g.refuse, false);
    syslog_net_resume(fx.net);
    pthread_join(th, NULL);
    assert_true(t.ok);
    WAIT_UNTIL(got_n(&fx.g) == 20000);
    for (int i = 0; i < 20000; i++) {
        char want[64];
        snprintf(want, sizeof(want), "<13>tls backpressure %06d", i);
        if (strcmp(fx.g.msgs[i], want)) {
            print_error("message %d: '%s'\n", i, fx.g.msgs[i]);
            fail();
        }
    }
    SSL_shutdown(ssl);
    tls_done(ssl, ctx, fd);
    stop(&fx);
}

static void test_tls_client_cert(void **state)
{
    (void)state;
    if (!tls_dir[0])
        skip();
    struct fixture fx;
    start_tls(&fx, true, "framing: lf\n");
    SSL_CTX *ctx;
    int fd;
    /* with the certificate: accepted */
    SSL *ssl = tls_connect(fx.port, true, &ctx, &fd);
    assert_int_equal(SSL_connect(ssl), 1);
    assert_int_equal(SSL_write(ssl, "<13>with cert\n", 14), 14);
    WAIT_UNTIL(got_n(&fx.g) == 1);
    assert_string_equal(fx.g.msgs[0], "<13>with cert");
    SSL_shutdown(ssl);
    tls_done(ssl, ctx, fd);
    /* without: the handshake fails, nothing is taken */
    ssl = tls_connect(fx.port, false, &ctx, &fd);
    if (SSL_connect(ssl) == 1) {
        /* TLS 1.3: the client learns of the refusal on its next read */
        SSL_write(ssl, "<13>no cert\n", 12);
        char b[16];
        assert_true(SSL_read(ssl, b, sizeof(b)) <= 0);
    }
    ERR_clear_error();
    tls_done(ssl, ctx, fd);
    WAIT_UNTIL(counter(&fx, "kenchi_syslog_tls_handshake_failures_total", NULL) == 1);
    WAIT_UNTIL(logged(&fx.g, "TLS handshake failed: peer did not return a certificate"));
    WAIT_UNTIL(gauge(&fx, "kenchi_syslog_connections_open") == 0);
    assert_int_equal(got_n(&fx.g), 1);
    stop(&fx);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_configure),
        cmocka_unit_test(test_port_taken),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_udp_kernel_drops),
        cmocka_unit_test(test_many_idle),
        cmocka_unit_test(test_tcp_lf),
        cmocka_unit_test(test_tcp_octet),
        cmocka_unit_test(test_tcp_backpressure),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_tls_backpressure),
        cmocka_unit_test(test_tls_client_cert),
    };
    return cmocka_run_group_tests(tests, make_certs, remove_certs);
}
