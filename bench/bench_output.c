/*
 * bench_output.c - alerts delivered per second by the webhook, syslog and
 * exec outputs, each beside the bare transport doing the same work in the
 * same run.
 *
 *   bench_output [--alerts N] [--spawns N] [--rounds R]
 *
 * Receivers are threads of this process on 127.0.0.1: a minimal HTTP/1.1
 * responder (reads a request and its body, answers 200 with no body, keeps
 * the connection) and a TCP sink that reads and drops. Baselines:
 *
 *   webhook    the same POST (same headers, same body) written by hand on
 *              one kept-alive socket, and its answer read: the ratio is what
 *              libcurl and the output add;
 *   syslog     send() of one message of the same length, prebuilt (UDP to
 *              a socket nobody reads; TCP to the sink): the ratio is the
 *              cost of building each RFC 5424 message;
 *   exec       posix_spawn() of /bin/true and waitpid(), nothing else: the
 *              ratio is what pipes, the alert on standard input, the
 *              environment and the supervision add.
 *
 * Rounds alternate output and baseline; the best round of each is kept
 * (the machine is shared). Prints one line per kind: rate of each, ratio.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "output/output.h"

extern char **environ;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int listen_local(int type, int *port)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
        getsockname(fd, (struct sockaddr *)&a, &l) || (type == SOCK_STREAM && listen(fd, 16)))
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static int connect_local(int type, int port)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
        return -1;
    int one = 1;
    if (type == SOCK_STREAM)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* HTTP responder: one thread per connection, every request answered 200. */
static void *http_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    char *buf = malloc(65536);
    size_t have = 0;
    while (buf) {
        char *end = memmem(buf, have, "\r\n\r\n", 4);
        if (end) {
            size_t head = (size_t)(end + 4 - buf), body = 0;
            for (char *p = buf; p < end; p++)
                if ((p == buf || p[-1] == '\n') && !strncasecmp(p, "content-length:", 15))
                    body = strtoul(p + 15, NULL, 10);
            if (have >= head + body) {
                if (write(fd, answer, sizeof(answer) - 1) < 0)
                    break;
                memmove(buf, buf + head + body, have - head - body);
                have -= head + body;
                continue;
            }
        }
        if (have == 65536)
            break;
        ssize_t r = read(fd, buf + have, 65536 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    free(buf);
    close(fd);
    return NULL;
}

static void *http_thread(void *arg)
{
    int lfd = *(int *)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_t th;
        if (pthread_create(&th, NULL, http_conn, (void *)(intptr_t)fd) == 0)
            pthread_detach(th);
        else
            close(fd);
    }
}

static void *sink_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[65536];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    close(fd);
    return NULL;
}

static void *sink_thread(void *arg)
{
    int lfd = *(int *)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_t th;
        if (pthread_create(&th, NULL, sink_conn, (void *)(intptr_t)fd) == 0)
            pthread_detach(th);
        else
            close(fd);
    }
}

struct out {
    const struct output_ops *ops;
    void *state;
    struct yaml_file f;
    struct conf_ctx c;
};

static int out_open(struct out *o, const char *kind, const char *text)
{
    struct yaml_error yerr;
    memset(o, 0, sizeof(*o));
    if (yaml_parse(text, strlen(text), &o->f, &yerr))
        return -1;
    conf_ctx_init(&o->c, "bench", stderr, &o->f.arena);
    o->ops = output_find(kind);
    char err[256];
    if (!o->ops || o->ops->configure(&o->c, o->f.docs[0], &o->state) ||
        o->ops->open(o->state, err, sizeof(err))) {
        fprintf(stderr, "bench: %s: cannot open\n", kind);
        return -1;
    }
    return 0;
}

static void out_close(struct out *o)
{
    o->ops->close(o->state);
    yaml_file_free(&o->f);
}

static const char ALERT[] =
    "{\"@timestamp\":\"2024-03-04T10:00:05.000000000Z\",\"kind\":\"sigma\",\"rule\":{\"id\":"
    "\"0a1b2c3d-1111-2222-3333-444455556666\",\"name\":\"SASL authentication failure from "
    "outside\",\"level\":\"low\",\"tags\":[\"TA0006\",\"T1110.001\"],\"sigma_tags\":[\"attack."
    "credential_access\",\"attack.t1110.001\"],\"file\":\"rules/mail/postfix_sasl_failure.yml\"},"
    "\"events\":[{\"id\":\"9f1c0c3e5a7b2d41\",\"source\":{\"file\":\"/var/log/mail.log\","
    "\"line\":12}}],\"entity\":{\"source\":{\"ip\":\"203.0.113.9\"},\"host\":{\"name\":\"mx1\"}},"
    "\"matched\":{\"event.action\":\"sasl-auth\",\"event.outcome\":\"failure\"},\"logsource\":"
    "{\"product\":\"postfix\",\"service\":\"smtpd\"}}";

static struct alert_msg alert(uint64_t seq)
{
    struct alert_msg m = {seq,
                          1709546405000000000LL,
                          "9f1c0c3e5a7b2d41aa",
                          "sigma",
                          "0a1b2c3d-1111-2222-3333-444455556666",
                          "SASL authentication failure from outside",
                          "low",
                          ALERT,
                          sizeof(ALERT) - 1};
    return m;
}

/* Deliver n alerts; seconds taken, or -1. */
static double run_output(struct out *o, size_t n)
{
    char err[256];
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        struct alert_msg m = alert(i + 1);
        if (o->ops->deliver(o->state, &m, err, sizeof(err))) {
            fprintf(stderr, "bench: deliver: %s\n", err);
            return -1;
        }
    }
    return now_s() - t0;
}

static double run_http_raw(int port, size_t n)
{
    int fd = connect_local(SOCK_STREAM, port);
    char req[4096];
    int rn = snprintf(req, sizeof(req),
                      "POST /hook HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: kenchi\r\n"
                      "Accept: */*\r\nContent-Type: application/json\r\n"
                      "X-Kenchi-Alert-Id: 9f1c0c3e5a7b2d41aa\r\nX-Kenchi-Alert-Seq: 1\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      port, sizeof(ALERT) - 1, ALERT);
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        char ans[256];
        if (write(fd, req, (size_t)rn) != rn || read(fd, ans, sizeof(ans)) <= 0) {
            close(fd);
            return -1;
        }
    }
    double t = now_s() - t0;
    close(fd);
    return t;
}

static double run_send_raw(int type, int port, size_t len, size_t n)
{
    int fd = connect_local(type, port);
    char *msg = malloc(len);
    memset(msg, 'x', len);
    double t0 = now_s();
    for (size_t i = 0; i < n; i++)
        if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
            break;
    double t = now_s() - t0;
    free(msg);
    close(fd);
    return t;
}

static double run_spawn_raw(size_t n)
{
    char *argv[] = {"/bin/true", NULL};
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        pid_t pid;
        int st;
        if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ))
            return -1;
        waitpid(pid, &st, 0);
    }
    return now_s() - t0;
}

static double best(double a, double b)
{
    return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

static void report(const char *what, size_t n, double t_out, double t_base, const char *base)
{
    printf("what=%-12s alerts=%zu out_per_s=%.0f base=%s base_per_s=%.0f ratio=%.2f\n", what, n,
           n / t_out, base, n / t_base, t_out / t_base);
}

int main(int argc, char **argv)
{
    size_t alerts = 20000, spawns = 1000;
    int rounds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--alerts"))
            alerts = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--spawns"))
            spawns = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--rounds"))
            rounds = atoi(argv[i + 1]);
    }
    signal(SIGPIPE, SIG_IGN);
    setenv("no_proxy", "127.0.0.1", 1);
    int http_port, sink_port, udp_port;
    int http_fd = listen_local(SOCK_STREAM, &http_port);
    int sink_fd = listen_local(SOCK_STREAM, &sink_port);
    int udp_fd = listen_local(SOCK_DGRAM, &udp_port); /* never read: datagrams dropped */
    if (http_fd < 0 || sink_fd < 0 || udp_fd < 0)
        return 3;
    pthread_t th;
    pthread_create(&th, NULL, http_thread, &http_fd);
    pthread_create(&th, NULL, sink_thread, &sink_fd);

    char cfg[512];
    struct out o;
    double t_out = -1, t_base = -1;
    snprintf(cfg, sizeof(cfg), "type: webhook\nurl: http://127.0.0.1:%d/hook\n", http_port);
    if (out_open(&o, "webhook", cfg))
        return 1;
    for (int r = 0; r < rounds; r++) {
        t_out = best(t_out, run_output(&o, alerts));
        t_base = best(t_base, run_http_raw(http_port, alerts));
    }
    out_close(&o);
    report("webhook", alerts, t_out, t_base, "raw-http-post");

    /* the syslog message of this alert: the JSON after about 180 bytes of
     * header and structured data (host name mx1); the raw send sends as
     * many bytes */
    size_t msg_len = sizeof(ALERT) - 1 + 180;
    static const char *const kinds[] = {"udp", "tcp"};
    for (int k = 0; k < 2; k++) {
        snprintf(cfg, sizeof(cfg),
                 "type: syslog\ntransport: %s\naddress: 127.0.0.1:%d\nhostname: mx1\n", kinds[k],
                 k == 0 ? udp_port : sink_port);
        if (out_open(&o, "syslog", cfg))
            return 1;
        t_out = t_base = -1;
        for (int r = 0; r < rounds; r++) {
            t_out = best(t_out, run_output(&o, alerts));
            t_base = best(t_base, run_send_raw(k == 0 ? SOCK_DGRAM : SOCK_STREAM,
                                               k == 0 ? udp_port : sink_port, msg_len, alerts));
        }
        out_close(&o);
        report(k == 0 ? "syslog-udp" : "syslog-tcp", alerts, t_out, t_base, "raw-send");
    }

    snprintf(cfg, sizeof(cfg), "type: exec\ncommand: [/bin/true, '{entity.source.ip}']\n");
    if (out_open(&o, "exec", cfg))
        return 1;
    t_out = t_base = -1;
    for (int r = 0; r < rounds; r++) {
        t_out = best(t_out, run_output(&o, spawns));
        t_base = best(t_base, run_spawn_raw(spawns));
    }
    out_close(&o);
    report("exec", spawns, t_out, t_base, "posix_spawn");
    return 0;
}
