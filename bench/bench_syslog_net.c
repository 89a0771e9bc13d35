/*
 * bench_syslog_net.c - how fast the syslog receivers take a TCP stream,
 * beside the least any receiver must do, in the same run.
 *
 *   build/release/bench/bench_syslog_net [--messages N] [--runs R]
 *
 * A sender thread writes N RFC 3164 mail-log messages (about 120 bytes
 * each) over one TCP connection on 127.0.0.1, LF-framed, then the same as
 * octet-counted frames. Received by:
 *   baseline   one thread: recv() into 64 KiB and count the LFs (memchr);
 *   kenchi     syslog_net (epoll, framing, copy, one callback per message
 *              that counts it), LF and octet framing.
 * Figures are messages per CPU-second of the receiving side (the process's
 * CPU time minus the sender thread's), so they hold on a shared machine;
 * wall times beside. Best of R runs (default 3), alternating.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "source/syslog-net.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct stream {
    char *data;
    size_t len;
};

static struct stream make_stream(size_t n, bool octet)
{
    struct stream s = {malloc(n * 200), 0};
    for (size_t i = 0; i < n; i++) {
        char m[200];
        int k = snprintf(m, sizeof(m),
                         "<22>Nov 26 04:%02zu:%02zu mail postfix/smtpd[%zu]: %08zX: "
                         "client=unknown[192.0.2.%zu], sasl_method=LOGIN, sasl_username=u%zu",
                         i / 60 % 60, i % 60, 1000 + i % 5000, i * 2654435761u, i % 250, i % 977);
        if (octet)
            s.len += (size_t)sprintf(s.data + s.len, "%d %s", k, m);
        else
            s.len += (size_t)sprintf(s.data + s.len, "%s\n", m);
    }
    return s;
}

struct sender {
    uint16_t port;
    const struct stream *s;
    double cpu;
};

static void *send_all(void *arg)
{
    struct sender *sd = arg;
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(sd->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("connect");
        exit(3);
    }
    size_t off = 0;
    while (off < sd->s->len) {
        ssize_t w = send(fd, sd->s->data + off, sd->s->len - off, MSG_NOSIGNAL);
        if (w <= 0) {
            perror("send");
            exit(3);
        }
        off += (size_t)w;
    }
    close(fd);
    sd->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}

struct result {
    double cpu, wall;
    size_t msgs;
};

static struct result run_baseline(const struct stream *s)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(lfd, (struct sockaddr *)&a, sizeof(a));
    listen(lfd, 1);
    socklen_t sl = sizeof(a);
    getsockname(lfd, (struct sockaddr *)&a, &sl);
    struct sender sd = {ntohs(a.sin_port), s, 0};
    double p0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
    pthread_t t;
    pthread_create(&t, NULL, send_all, &sd);
    int fd = accept(lfd, NULL, NULL);
    static char buf[64 * 1024];
    size_t lines = 0;
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof(buf), 0);
        if (r <= 0)
            break;
        const char *p = buf, *end = buf + r;
        while ((p = memchr(p, '\n', (size_t)(end - p)))) {
            lines++;
            p++;
        }
    }
    pthread_join(t, NULL);
    struct result res = {clock_s(CLOCK_PROCESS_CPUTIME_ID) - p0 - sd.cpu,
                         clock_s(CLOCK_MONOTONIC) - w0, lines};
    close(fd);
    close(lfd);
    return res;
}

struct counter {
    _Atomic size_t n;
    _Atomic size_t bytes;
};

static int on_msg(void *opaque, const struct syslog_msg *m)
{
    struct counter *c = opaque;
    atomic_fetch_add_explicit(&c->n, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->bytes, m->len, memory_order_relaxed);
    return 0;
}

static struct result run_kenchi(const struct stream *s, size_t want, enum syslog_framing fr)
{
    struct counter c = {0, 0};
    struct syslog_net *n = syslog_net_new(on_msg, &c, NULL);
    struct syslog_listener_conf conf = {.protocol = SYSLOG_PROTO_TCP,
                                        .framing = fr,
                                        .max_message = SYSLOG_DEFAULT_MAX_MESSAGE,
                                        .max_connections = 4,
                                        .name = "bench"};
    snprintf(conf.listen.host, sizeof(conf.listen.host), "127.0.0.1");
    char err[256];
    int idx = syslog_net_add(n, &conf, err, sizeof(err));
    if (idx < 0) {
        fprintf(stderr, "bench_syslog_net: %s\n", err);
        exit(3);
    }
    struct sender sd = {syslog_net_port(n, idx), s, 0};
    double p0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
    syslog_net_start(n);
    pthread_t t;
    pthread_create(&t, NULL, send_all, &sd);
    pthread_join(t, NULL);
    while (atomic_load(&c.n) < want) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    struct result res = {clock_s(CLOCK_PROCESS_CPUTIME_ID) - p0 - sd.cpu,
                         clock_s(CLOCK_MONOTONIC) - w0, atomic_load(&c.n)};
    syslog_net_free(n);
    return res;
}

static void keep_best(struct result *best, struct result r)
{
    if (best->cpu == 0 || r.cpu < best->cpu)
        *best = r;
}

int main(int argc, char **argv)
{
    size_t n = 2000000;
    int runs = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--messages"))
            n = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
    }
    struct stream lf = make_stream(n, false), oc = make_stream(n, true);
    struct result base = {0}, klf = {0}, koc = {0};
    for (int r = 0; r < runs; r++) {
        keep_best(&base, run_baseline(&lf));
        keep_best(&klf, run_kenchi(&lf, n, SYSLOG_FRAMING_LF));
        keep_best(&koc, run_kenchi(&oc, n, SYSLOG_FRAMING_OCTET));
    }
    if (base.msgs != n || klf.msgs != n || koc.msgs != n) {
        fprintf(stderr, "bench_syslog_net: message counts differ (%zu %zu %zu, want %zu)\n",
                base.msgs, klf.msgs, koc.msgs, n);
        return 1;
    }
    printf("syslog TCP receive, %zu messages (%.0f MB LF-framed), best of %d; rates per "
           "receiver CPU-second\n",
           n, (double)lf.len / 1e6, runs);
    printf("  %-34s %12.0f msg/s  %6.1f MB/s  (cpu %.2fs, wall %.2fs)\n",
           "baseline recv+memchr (LF)", n / base.cpu, lf.len / base.cpu / 1e6, base.cpu, base.wall);
    printf("  %-34s %12.0f msg/s  %6.1f MB/s  (cpu %.2fs, wall %.2fs)  %.2fx baseline\n",
           "kenchi syslog_net, LF framing", n / klf.cpu, lf.len / klf.cpu / 1e6, klf.cpu, klf.wall,
           base.cpu / klf.cpu);
    printf("  %-34s %12.0f msg/s  %6.1f MB/s  (cpu %.2fs, wall %.2fs)  %.2fx baseline\n",
           "kenchi syslog_net, octet counting", n / koc.cpu, oc.len / koc.cpu / 1e6, koc.cpu,
           koc.wall, base.cpu / koc.cpu);
    free(lf.data);
    free(oc.data);
    return 0;
}
