/*
 * syslog-net.c - the syslog listeners and their one I/O thread (see
 * syslog-net.h).
 *
 * One epoll set holds the listening sockets, every accepted connection and
 * an eventfd through which other threads wake the loop (resume, stop). It is
 * level-triggered: a connection that still has bytes after its read budget
 * is simply reported again, so one busy sender cannot starve the others.
 * TLS is the exception: OpenSSL may hold decrypted bytes the socket no
 * longer signals, so such a connection is marked ready and served on the
 * next turn without waiting.
 *
 * Every connection reads into one shared 64 KiB buffer and frames it with
 * its own syslog_framer. When the consumer refuses a message (-EAGAIN) the
 * connection keeps that message (inside its framer) and copies the unread
 * rest of the buffer aside, leaves the epoll set, and waits for
 * syslog_net_resume(). A paused connection is never timed out: the wait is
 * kenchi's, not the peer's.
 *
 * Timeouts (idle connections, TLS handshakes) are checked by a sweep over
 * all connections a few times per shortest timeout (at most once a
 * second), which costs O(connections) per sweep and nothing per message.
 */
#include "source/syslog-net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/metrics.h"

#define READ_CHUNK    (64 * 1024)
#define READ_BUDGET   16 /* reads per connection per turn */
#define ACCEPT_BUDGET 64
#define UDP_BUDGET    256
#define MAX_LISTENERS 64

enum item_kind { ITEM_WAKE, ITEM_LISTENER, ITEM_CONN };

/* The first member of everything registered in the epoll set. */
struct item {
    enum item_kind kind;
};

struct listener {
    struct item item;
    struct syslog_net *net;
    int fd;
    char *name;
    enum syslog_proto proto;
    enum syslog_framing framing;
    size_t max_message;
    unsigned max_connections;
    int64_t idle_ns, handshake_ns;
    SSL_CTX *ssl;
    uint16_t port;
    unsigned nconn;
    bool accept_paused;    /* out of file descriptors: retried at the next sweep */
    uint32_t kernel_drops; /* UDP: the socket's drop count last seen */
    int64_t log_window_ns; /* start of the current second of log lines */
    unsigned log_lines, log_suppressed;
    _Atomic uint64_t *messages, *bytes, *conns_total, *refused, *dropped, *dropped_kernel,
        *frame_errors, *tls_failures, *truncated, *timeouts;
    _Atomic int64_t *conns_open, *conns_paused;
};

struct conn {
    struct item item;
    struct conn *prev, *next;
    struct listener *l;
    int fd;
    SSL *ssl;
    bool handshaking;
    bool ssl_fatal;  /* OpenSSL failed: no close_notify may be sent */
    bool registered; /* in the epoll set */
    uint32_t events; /* what it is registered for */
    bool paused;     /* a message is pending (the framer holds it) */
    bool ready;      /* TLS: may have buffered bytes, serve next turn */
    bool eof;        /* the peer closed; finish after the saved bytes */
    struct syslog_frame pending;
    int64_t pending_ns;
    char *rest; /* unread input kept while paused */
    size_t rest_len, rest_off;
    int64_t recv_ns; /* wall time of the read being framed */
    int64_t last_ns; /* monotonic time of the last activity */
    int64_t start_ns;
    struct syslog_framer fr;
    char peer[64];
};

struct syslog_net {
    syslog_msg_fn fn;
    void *opaque;
    syslog_log_fn log;
    void *log_opaque;
    struct metrics *metrics;
    int ep;
    struct item wake;
    int wake_fd;
    struct listener *l[MAX_LISTENERS];
    int nl;
    struct conn *conns; /* every open connection */
    unsigned npaused, nready;
    int64_t sweep_ns, next_sweep;
    _Atomic bool stop_req, resume_req;
    pthread_t thread;
    bool running;
    char rbuf[READ_CHUNK];
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *proto_name(enum syslog_proto p)
{
    return p == SYSLOG_PROTO_UDP ? "udp" : p == SYSLOG_PROTO_TCP ? "tcp" : "tls";
}

/* A line for kenchi's own log, at most SYSLOG_NET_LOG_PER_S per listener
 * and second; the lines beyond are counted and summed up in the next
 * second's first line. */
static void net_log(struct syslog_net *n, struct listener *l, const char *peer, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
static void net_log(struct syslog_net *n, struct listener *l, const char *peer, const char *fmt,
                    ...)
{
    if (!n->log)
        return;
    int64_t now = mono_ns();
    char line[512];
    if (now - l->log_window_ns >= 1000000000LL) {
        if (l->log_suppressed) {
            snprintf(line, sizeof(line),
                     "syslog source '%s': %u more problem(s) not logged in the last second",
                     l->name, l->log_suppressed);
            n->log(n->log_opaque, line);
        }
        l->log_window_ns = now;
        l->log_lines = 0;
        l->log_suppressed = 0;
    }
    if (l->log_lines >= SYSLOG_NET_LOG_PER_S) {
        l->log_suppressed++;
        return;
    }
    l->log_lines++;
    int k = snprintf(line, sizeof(line), "syslog source '%s': %s%s", l->name, peer ? peer : "",
                     peer ? ": " : "");
    va_list ap;
    va_start(ap, fmt);
    if (k > 0 && (size_t)k < sizeof(line))
        vsnprintf(line + k, sizeof(line) - (size_t)k, fmt, ap);
    va_end(ap);
    n->log(n->log_opaque, line);
}

/* The reason OpenSSL gives for its last failure (the queue is cleared). */
static void ssl_reason(char *out, size_t outn)
{
    unsigned long e = ERR_get_error();
    unsigned long last;
    while ((last = ERR_get_error()))
        (void)last; /* keep the first, the root cause */
    if (!e) {
        snprintf(out, outn, "the connection ended");
        return;
    }
    const char *r = ERR_reason_error_string(e);
    snprintf(out, outn, "%s", r ? r : "unknown error");
}

/* ---- configuration ---------------------------------------------------- */

int syslog_listener_configure(struct conf_ctx *c, const struct ynode *node,
                              struct syslog_listener_conf *out)
{
    static const char *const keys[] = {
        "type",   "name",           "format",      "timezone",        "protocol",
        "listen", "framing",        "max_message", "max_connections", "idle_timeout",
        "tls",    "receive_buffer", NULL};
    static const char *const tls_keys[] = {
        "cert", "key", "ca", "require_client_cert", "handshake_timeout", NULL};
    static const char *const protos[] = {"udp", "tcp", "tls", NULL};
    static const char *const framings[] = {"auto", "lf", "octet", NULL};
    memset(out, 0, sizeof(*out));
    out->protocol = SYSLOG_PROTO_UDP;
    out->framing = SYSLOG_FRAMING_AUTO;
    out->max_message = SYSLOG_DEFAULT_MAX_MESSAGE;
    out->max_connections = SYSLOG_DEFAULT_MAX_CONNECTIONS;
    out->idle_timeout_ns = SYSLOG_DEFAULT_IDLE_TIMEOUT_NS;
    out->handshake_timeout_ns = SYSLOG_DEFAULT_HANDSHAKE_NS;
    unsigned before = c->nerrors;
    if (!conf_is_map(c, node, "syslog source"))
        return -EINVAL;
    conf_check_keys(c, node, keys);
    const struct ynode *name = ynode_get(node, "name");
    if (name && name->kind == YNODE_SCALAR && !ynode_is_null(name))
        out->name = name->scalar.s;
    int proto = SYSLOG_PROTO_UDP;
    if (conf_enum(c, node, "protocol", protos, &proto) == 1)
        out->protocol = (enum syslog_proto)proto;
    bool stream = out->protocol != SYSLOG_PROTO_UDP;
    snprintf(out->listen.host, sizeof(out->listen.host), "127.0.0.1");
    out->listen.port = out->protocol == SYSLOG_PROTO_TLS ? 6514 : 514;
    conf_addr(c, node, "listen", "127.0.0.1", &out->listen);
    int fr = SYSLOG_FRAMING_AUTO;
    if (conf_enum(c, node, "framing", framings, &fr) == 1) {
        out->framing = (enum syslog_framing)fr;
        if (!stream)
            conf_error(c, ynode_get(node, "framing"),
                       "framing: only for protocol tcp or tls (a UDP datagram is one message)");
    }
    uint64_t u;
    if (conf_size(c, node, "max_message", 480, 16 << 20, &u) == 1)
        out->max_message = (size_t)u;
    if (conf_size(c, node, "receive_buffer", 4096, 1u << 30, &u) == 1)
        out->receive_buffer = (size_t)u;
    if (conf_uint(c, node, "max_connections", 1, 100000, &u) == 1) {
        out->max_connections = (unsigned)u;
        if (!stream)
            conf_error(c, ynode_get(node, "max_connections"),
                       "max_connections: only for protocol tcp or tls");
    }
    int64_t ns;
    if (conf_duration(c, node, "idle_timeout", 0, 7 * 86400LL * 1000000000LL, &ns) == 1) {
        out->idle_timeout_ns = ns;
        if (!stream)
            conf_error(c, ynode_get(node, "idle_timeout"),
                       "idle_timeout: only for protocol tcp or tls");
    }
    const struct ynode *tls = ynode_get(node, "tls");
    if (tls && out->protocol != SYSLOG_PROTO_TLS)
        conf_error(c, tls, "tls: only for protocol tls");
    if (tls && conf_is_map(c, tls, "tls")) {
        conf_check_keys(c, tls, tls_keys);
        static const char *const files[] = {"cert", "key", "ca"};
        const char **dst[] = {&out->tls_cert, &out->tls_key, &out->tls_ca};
        for (size_t i = 0; i < 3; i++) {
            if (conf_str(c, tls, files[i], dst[i]) == 1 && access(*dst[i], R_OK) != 0)
                conf_error(c, ynode_get(tls, files[i]), "%s: cannot read '%s': %s", files[i],
                           *dst[i], strerror(errno));
        }
        conf_bool(c, tls, "require_client_cert", &out->require_client_cert);
        if (conf_duration(c, tls, "handshake_timeout", 100000000LL, 3600LL * 1000000000LL, &ns) ==
            1)
            out->handshake_timeout_ns = ns;
        if (out->require_client_cert && !out->tls_ca)
            conf_error(c, ynode_get(tls, "require_client_cert"),
                       "require_client_cert: needs tls.ca (the CA that signs client "
                       "certificates)");
    }
    if (out->protocol == SYSLOG_PROTO_TLS && (!out->tls_cert || !out->tls_key))
        conf_error(c, tls ? tls : node,
                   "protocol tls needs tls.cert and tls.key (the server's certificate and key)");
    return c->nerrors == before ? 0 : -EINVAL;
}

/* ---- set-up ----------------------------------------------------------- */

struct syslog_net *syslog_net_new(syslog_msg_fn fn, void *opaque, struct metrics *m)
{
    struct syslog_net *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->fn = fn;
    n->opaque = opaque;
    n->metrics = m;
    n->wake.kind = ITEM_WAKE;
    n->ep = epoll_create1(EPOLL_CLOEXEC);
    n->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->ep < 0 || n->wake_fd < 0) {
        if (n->ep >= 0)
            close(n->ep);
        if (n->wake_fd >= 0)
            close(n->wake_fd);
        free(n);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &n->wake};
    epoll_ctl(n->ep, EPOLL_CTL_ADD, n->wake_fd, &ev);
    n->sweep_ns = 1000000000LL;
    return n;
}

static _Atomic uint64_t *counter(struct listener *l, _Atomic uint64_t *sink, const char *name,
                                 const char *help, const char *extra)
{
    if (!l->net->metrics)
        return sink;
    char labels[512];
    snprintf(labels, sizeof(labels), "source=%s%s", l->name, extra ? extra : "");
    return metrics_counter(l->net->metrics, name, help, labels);
}

static void register_metrics(struct listener *l)
{
    /* without a registry the figures go to one private sink (never read) */
    static _Atomic uint64_t csink;
    static _Atomic int64_t gsink;
    l->messages = counter(l, &csink, "kenchi_syslog_messages_total",
                          "Syslog messages received and taken by the queue.", NULL);
    l->bytes = counter(l, &csink, "kenchi_syslog_bytes_total",
                       "Bytes received by a syslog listener (after TLS).", NULL);
    l->conns_total =
        counter(l, &csink, "kenchi_syslog_connections_total", "Syslog connections accepted.", NULL);
    l->refused = counter(l, &csink, "kenchi_syslog_connections_refused_total",
                         "Syslog connections refused (max_connections reached or no file "
                         "descriptor left).",
                         NULL);
    l->dropped = counter(l, &csink, "kenchi_dropped_total", "Events dropped, by source and reason.",
                         ",reason=queue_full");
    l->dropped_kernel = &csink;
    if (l->proto == SYSLOG_PROTO_UDP)
        l->dropped_kernel =
            counter(l, &csink, "kenchi_dropped_total", "Events dropped, by source and reason.",
                    ",reason=socket_buffer");
    l->frame_errors = counter(l, &csink, "kenchi_syslog_frame_errors_total",
                              "Syslog connections closed on a malformed or cut octet count.", NULL);
    l->tls_failures = counter(l, &csink, "kenchi_syslog_tls_handshake_failures_total",
                              "TLS handshakes that failed or timed out.", NULL);
    l->truncated = counter(l, &csink, "kenchi_syslog_truncated_total",
                           "Syslog messages cut to max_message.", NULL);
    l->timeouts = counter(l, &csink, "kenchi_syslog_timeouts_total",
                          "Syslog connections closed by the idle or handshake timeout.", NULL);
    if (l->net->metrics) {
        char labels[512];
        snprintf(labels, sizeof(labels), "source=%s", l->name);
        l->conns_open = metrics_gauge(l->net->metrics, "kenchi_syslog_connections_open",
                                      "Syslog connections open now.", labels, 1);
        l->conns_paused =
            metrics_gauge(l->net->metrics, "kenchi_syslog_connections_paused",
                          "Syslog connections paused because the queue is full.", labels, 1);
    } else {
        l->conns_open = l->conns_paused = &gsink;
    }
}

static void ssl_error(char *err, size_t errn, const char *what, const char *file)
{
    unsigned long e = ERR_get_error();
    char reason[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    snprintf(err, errn, "%s '%s': %s", what, file ? file : "", reason);
}

static SSL_CTX *tls_context(const struct syslog_listener_conf *conf, char *err, size_t errn)
{
    if (!conf->tls_cert || !conf->tls_key) {
        snprintf(err, errn, "protocol tls needs tls.cert and tls.key");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_error(err, errn, "TLS", "");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* idle connections hold no buffers */
    /* no server-side session cache: senders reconnect rarely, and thousands
     * of cached sessions would be memory for nothing (stateless tickets
     * still let a client resume) */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_use_certificate_chain_file(ctx, conf->tls_cert) != 1) {
        ssl_error(err, errn, "tls.cert", conf->tls_cert);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, conf->tls_key, SSL_FILETYPE_PEM) != 1) {
        ssl_error(err, errn, "tls.key", conf->tls_key);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_error(err, errn, "tls.key does not match tls.cert", conf->tls_key);
        goto fail;
    }
    if (conf->tls_ca) {
        if (SSL_CTX_load_verify_locations(ctx, conf->tls_ca, NULL) != 1) {
            ssl_error(err, errn, "tls.ca", conf->tls_ca);
            goto fail;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(conf->tls_ca);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx,
                           SSL_VERIFY_PEER |
                               (conf->require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                           NULL);
    } else if (conf->require_client_cert) {
        snprintf(err, errn, "tls.require_client_cert needs tls.ca");
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static int bind_socket(const struct syslog_listener_conf *conf, uint16_t *port, char *err,
                       size_t errn)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype =
                                 conf->protocol == SYSLOG_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", conf->listen.port);
    int g = getaddrinfo(conf->listen.host[0] ? conf->listen.host : NULL, portstr, &hints, &ai);
    if (g) {
        snprintf(err, errn, "%s: %s", conf->listen.host, gai_strerror(g));
        return -EINVAL;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int e = 0;
    if (fd < 0) {
        e = errno;
    } else {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (conf->protocol == SYSLOG_PROTO_UDP)
            setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
        if (conf->receive_buffer) {
            /* the kernel doubles it, and caps it at net.core.rmem_max */
            int sz = conf->receive_buffer > (1u << 30) ? 1 << 30 : (int)conf->receive_buffer;
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
            (conf->protocol != SYSLOG_PROTO_UDP && listen(fd, 128) < 0))
            e = errno;
    }
    if (e) {
        snprintf(err, errn, "%s%s%s:%u (%s): %s", ai->ai_family == AF_INET6 ? "[" : "",
                 conf->listen.host, ai->ai_family == AF_INET6 ? "]" : "", conf->listen.port,
                 proto_name(conf->protocol), strerror(e));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -e;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    *port = conf->listen.port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

int syslog_net_add(struct syslog_net *n, const struct syslog_listener_conf *conf, char *err,
                   size_t errn)
{
    err[0] = 0;
    if (n->running) {
        snprintf(err, errn, "listeners are added before the receivers start");
        return -EBUSY;
    }
    if (n->nl >= MAX_LISTENERS) {
        snprintf(err, errn, "more than %d syslog listeners", MAX_LISTENERS);
        return -ENOSPC;
    }
    struct listener *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->item.kind = ITEM_LISTENER;
    l->net = n;
    l->proto = conf->protocol;
    l->framing = conf->framing;
    l->max_message = conf->max_message ? conf->max_message : SYSLOG_DEFAULT_MAX_MESSAGE;
    l->max_connections = conf->max_connections ? conf->max_connections : 1;
    l->idle_ns = conf->idle_timeout_ns;
    l->handshake_ns =
        conf->handshake_timeout_ns > 0 ? conf->handshake_timeout_ns : SYSLOG_DEFAULT_HANDSHAKE_NS;
    if (conf->protocol == SYSLOG_PROTO_TLS && !(l->ssl = tls_context(conf, err, errn))) {
        free(l);
        return -EINVAL;
    }
    int fd = bind_socket(conf, &l->port, err, errn);
    if (fd < 0) {
        SSL_CTX_free(l->ssl);
        free(l);
        return fd;
    }
    l->fd = fd;
    if (conf->name) {
        l->name = strdup(conf->name);
    } else {
        char def[48];
        snprintf(def, sizeof(def), "syslog-%s-%u", proto_name(conf->protocol), l->port);
        l->name = strdup(def);
    }
    if (!l->name) {
        close(fd);
        SSL_CTX_free(l->ssl);
        free(l);
        return -ENOMEM;
    }
    register_metrics(l);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->item};
    epoll_ctl(n->ep, EPOLL_CTL_ADD, fd, &ev);
    /* sweep a few times per shortest timeout, at most once a second */
    int64_t shortest = l->handshake_ns;
    if (l->proto != SYSLOG_PROTO_TLS)
        shortest = l->idle_ns ? l->idle_ns : 1000000000LL * 4;
    else if (l->idle_ns && l->idle_ns < shortest)
        shortest = l->idle_ns;
    int64_t every = shortest / 4;
    if (every < 10000000LL)
        every = 10000000LL;
    if (every < n->sweep_ns)
        n->sweep_ns = every;
    n->l[n->nl] = l;
    return n->nl++;
}

uint16_t syslog_net_port(const struct syslog_net *n, int idx)
{
    return idx >= 0 && idx < n->nl ? n->l[idx]->port : 0;
}

/* ---- connections ------------------------------------------------------ */

static void set_events(struct syslog_net *n, struct conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = &c->item};
    if (!c->registered) {
        if (epoll_ctl(n->ep, EPOLL_CTL_ADD, c->fd, &ev) == 0)
            c->registered = true;
    } else if (c->events != events) {
        epoll_ctl(n->ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
    c->events = events;
}

static void unregister(struct syslog_net *n, struct conn *c)
{
    if (c->registered)
        epoll_ctl(n->ep, EPOLL_CTL_DEL, c->fd, NULL);
    c->registered = false;
}

static void conn_close(struct syslog_net *n, struct conn *c)
{
    struct listener *l = c->l;
    unregister(n, c);
    if (c->ssl) {
        if (!c->handshaking && !c->ssl_fatal)
            SSL_shutdown(c->ssl); /* best effort, non-blocking */
        SSL_free(c->ssl);
    }
    close(c->fd);
    if (c->paused) {
        n->npaused--;
        atomic_fetch_sub_explicit(l->conns_paused, 1, memory_order_relaxed);
    }
    if (c->ready)
        n->nready--;
    syslog_framer_free(&c->fr);
    free(c->rest);
    if (c->prev)
        c->prev->next = c->next;
    else
        n->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    l->nconn--;
    atomic_fetch_sub_explicit(l->conns_open, 1, memory_order_relaxed);
    free(c);
}

static void format_peer(const struct sockaddr_storage *ss, char *out, size_t outn)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        port = ntohs(s4->sin_port);
        snprintf(out, outn, "%s:%u", host, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        port = ntohs(s6->sin6_port);
        snprintf(out, outn, "[%s]:%u", host, port);
    } else {
        snprintf(out, outn, "?");
    }
}

/* Hand one message to the consumer: 0 taken, -EAGAIN refused. */
static int offer(struct syslog_net *n, struct listener *l, const char *peer, const char *data,
                 size_t len, bool truncated, int64_t recv_ns)
{
    struct syslog_msg m = {.listener = l->name,
                           .peer = peer,
                           .data = data,
                           .len = len,
                           .received_ns = recv_ns,
                           .truncated = truncated,
                           .proto = l->proto};
    if (n->fn(n->opaque, &m) == -EAGAIN)
        return -EAGAIN;
    metric_add(l->messages, 1);
    if (truncated)
        metric_add(l->truncated, 1);
    return 0;
}

static void pause_conn(struct syslog_net *n, struct conn *c, const struct syslog_frame *f)
{
    c->pending = *f;
    c->pending_ns = c->recv_ns;
    c->paused = true;
    n->npaused++;
    atomic_fetch_add_explicit(c->l->conns_paused, 1, memory_order_relaxed);
    unregister(n, c); /* no event at all while paused, not even a hang-up */
}

/* Frame buf[0..len) and offer its messages. Returns the bytes consumed
 * (all of them unless the connection paused), or -EPROTO (closed). */
static ssize_t feed(struct syslog_net *n, struct conn *c, const char *buf, size_t len)
{
    size_t off = 0;
    while (off < len) {
        struct syslog_frame f;
        size_t used = 0;
        int r = syslog_framer_feed(&c->fr, buf + off, len - off, &used, &f);
        off += used;
        if (r < 0) {
            metric_add(c->l->frame_errors, 1);
            unsigned char bad = (unsigned char)buf[off];
            net_log(n, c->l, c->peer, "malformed octet count (byte 0x%02x '%c'): connection closed",
                    bad, bad >= 0x20 && bad < 0x7f ? bad : '?');
            return -EPROTO;
        }
        if (r == 1 && offer(n, c->l, c->peer, f.data, f.len, f.truncated, c->recv_ns) == -EAGAIN) {
            pause_conn(n, c, &f);
            return (ssize_t)off;
        }
    }
    return (ssize_t)off;
}

/* Keep buf[off..len) for after the pause. */
static void save_rest(struct conn *c, const char *buf, size_t off, size_t len)
{
    size_t k = len - off;
    if (!k)
        return;
    char *p = malloc(k);
    if (!p)
        abort();
    memcpy(p, buf + off, k);
    free(c->rest);
    c->rest = p;
    c->rest_len = k;
    c->rest_off = 0;
}

/* One read from the socket or the TLS session into n->rbuf: > 0 bytes,
 * 0 would block, -1 end of stream, -2 error. */
static ssize_t conn_read(struct syslog_net *n, struct conn *c)
{
    if (!c->ssl) {
        ssize_t r = recv(c->fd, n->rbuf, sizeof(n->rbuf), MSG_DONTWAIT);
        if (r > 0)
            return r;
        if (r == 0)
            return -1;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -2;
    }
    size_t got = 0;
    if (SSL_read_ex(c->ssl, n->rbuf, sizeof(n->rbuf), &got) == 1)
        return (ssize_t)got;
    int e = SSL_get_error(c->ssl, 0);
    if (e != SSL_ERROR_SSL)
        ERR_clear_error();
    switch (e) {
    case SSL_ERROR_WANT_READ:
        set_events(n, c, EPOLLIN);
        return 0;
    case SSL_ERROR_WANT_WRITE:
        set_events(n, c, EPOLLOUT);
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        return -1;
    default: {
        char why[200];
        ssl_reason(why, sizeof(why));
        c->ssl_fatal = true;
        net_log(n, c->l, c->peer, "TLS error: %s: connection closed", why);
        return -2;
    }
    }
}

/* Serve a connection: the pending message, the saved bytes, then fresh
 * reads up to the budget. Closes it on end of stream or error. */
static void conn_serve(struct syslog_net *n, struct conn *c)
{
    if (c->paused) {
        if (offer(n, c->l, c->peer, c->pending.data, c->pending.len, c->pending.truncated,
                  c->pending_ns) == -EAGAIN)
            return;
        c->paused = false;
        n->npaused--;
        atomic_fetch_sub_explicit(c->l->conns_paused, 1, memory_order_relaxed);
    }
    if (c->rest) {
        int64_t keep_ns = c->recv_ns;
        c->recv_ns = c->pending_ns;
        ssize_t k = feed(n, c, c->rest + c->rest_off, c->rest_len - c->rest_off);
        c->recv_ns = keep_ns;
        if (k < 0) {
            conn_close(n, c);
            return;
        }
        c->rest_off += (size_t)k;
        if (c->paused)
            return;
        free(c->rest);
        c->rest = NULL;
        c->rest_len = c->rest_off = 0;
    }
    for (int i = 0; i < READ_BUDGET && !c->eof; i++) {
        ssize_t r = conn_read(n, c);
        if (r == 0)
            goto wait;
        if (r == -2) {
            conn_close(n, c);
            return;
        }
        if (r == -1) {
            c->eof = true;
            break;
        }
        c->recv_ns = real_ns();
        c->last_ns = mono_ns();
        metric_add(c->l->bytes, (uint64_t)r);
        ssize_t k = feed(n, c, n->rbuf, (size_t)r);
        if (k < 0) {
            conn_close(n, c);
            return;
        }
        if (c->paused) {
            save_rest(c, n->rbuf, (size_t)k, (size_t)r);
            return;
        }
    }
    if (c->eof) {
        struct syslog_frame f;
        int r = syslog_framer_finish(&c->fr, &f);
        if (r < 0) {
            metric_add(c->l->frame_errors, 1);
            net_log(n, c->l, c->peer, "the stream ended inside an octet-counted frame");
        } else if (r == 1 &&
                   offer(n, c->l, c->peer, f.data, f.len, f.truncated, c->recv_ns) == -EAGAIN) {
            pause_conn(n, c, &f);
            /* finish() was consumed: the pending message is the last one */
            return;
        }
        conn_close(n, c);
        return;
    }
    /* budget used up: more may be waiting (in OpenSSL's buffer for TLS) */
    if (!c->ready) {
        c->ready = true;
        n->nready++;
    }
wait:
    if (!c->registered)
        set_events(n, c, c->ssl && c->events ? c->events : EPOLLIN);
}

static void conn_handshake(struct syslog_net *n, struct conn *c)
{
    int r = SSL_accept(c->ssl);
    if (r == 1) {
        c->handshaking = false;
        c->last_ns = mono_ns();
        set_events(n, c, EPOLLIN);
        conn_serve(n, c);
        return;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        set_events(n, c, EPOLLIN);
    } else if (e == SSL_ERROR_WANT_WRITE) {
        set_events(n, c, EPOLLOUT);
    } else {
        char why[200];
        ssl_reason(why, sizeof(why));
        metric_add(c->l->tls_failures, 1);
        net_log(n, c->l, c->peer, "TLS handshake failed: %s", why);
        c->ssl_fatal = true;
        conn_close(n, c);
        return;
    }
    ERR_clear_error();
}

static void listener_accept(struct syslog_net *n, struct listener *l)
{
    for (int i = 0; i < ACCEPT_BUDGET; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* the pending connection stays queued; try again at the sweep */
                metric_add(l->refused, 1);
                net_log(n, l, NULL, "cannot accept a connection: %s (retried shortly)",
                        strerror(errno));
                epoll_ctl(n->ep, EPOLL_CTL_DEL, l->fd, NULL);
                l->accept_paused = true;
            }
            return;
        }
        if (l->nconn >= l->max_connections) {
            char peer[64];
            format_peer(&ss, peer, sizeof(peer));
            metric_add(l->refused, 1);
            net_log(n, l, peer, "connection refused: max_connections (%u) reached",
                    l->max_connections);
            close(fd);
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            metric_add(l->refused, 1);
            close(fd);
            continue;
        }
        c->item.kind = ITEM_CONN;
        c->l = l;
        c->fd = fd;
        c->start_ns = c->last_ns = mono_ns();
        format_peer(&ss, c->peer, sizeof(c->peer));
        syslog_framer_init(&c->fr, l->framing, l->max_message);
        if (l->ssl) {
            c->ssl = SSL_new(l->ssl);
            if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
                SSL_free(c->ssl);
                free(c);
                close(fd);
                metric_add(l->refused, 1);
                continue;
            }
            SSL_set_accept_state(c->ssl);
            c->handshaking = true;
        }
        c->next = n->conns;
        if (n->conns)
            n->conns->prev = c;
        n->conns = c;
        l->nconn++;
        metric_add(l->conns_total, 1);
        atomic_fetch_add_explicit(l->conns_open, 1, memory_order_relaxed);
        set_events(n, c, EPOLLIN);
    }
}

static void udp_receive(struct syslog_net *n, struct listener *l)
{
    for (int i = 0; i < UDP_BUDGET; i++) {
        struct sockaddr_storage ss;
        struct iovec iov = {.iov_base = n->rbuf, .iov_len = sizeof(n->rbuf)};
        union {
            struct cmsghdr align;
            char space[CMSG_SPACE(sizeof(uint32_t))];
        } ctl;
        struct msghdr mh = {.msg_name = &ss,
                            .msg_namelen = sizeof(ss),
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.space,
                            .msg_controllen = sizeof(ctl.space)};
        ssize_t r = recvmsg(l->fd, &mh, MSG_DONTWAIT);
        if (r < 0)
            return;
        metric_add(l->bytes, (uint64_t)r);
        /* the kernel's count of datagrams it dropped on this socket (its
         * buffer was full), cumulative, delivered with each datagram */
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
                uint32_t drops;
                memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
                if (drops != l->kernel_drops) {
                    metric_add(l->dropped_kernel, (uint32_t)(drops - l->kernel_drops));
                    l->kernel_drops = drops;
                }
            }
        }
        size_t len = (size_t)r;
        bool truncated = (mh.msg_flags & MSG_TRUNC) != 0;
        while (len &&
               (n->rbuf[len - 1] == '\n' || n->rbuf[len - 1] == '\r' || n->rbuf[len - 1] == '\0'))
            len--;
        if (!len)
            continue;
        if (len > l->max_message) {
            len = l->max_message;
            truncated = true;
        }
        char peer[64];
        format_peer(&ss, peer, sizeof(peer));
        if (offer(n, l, peer, n->rbuf, len, truncated, real_ns()) == -EAGAIN)
            metric_add(l->dropped, 1);
    }
}

/* ---- the loop --------------------------------------------------------- */

static void sweep(struct syslog_net *n, int64_t now)
{
    for (int i = 0; i < n->nl; i++) {
        struct listener *l = n->l[i];
        if (l->accept_paused) {
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &l->item};
            if (epoll_ctl(n->ep, EPOLL_CTL_ADD, l->fd, &ev) == 0)
                l->accept_paused = false;
        }
    }
    struct conn *next;
    for (struct conn *c = n->conns; c; c = next) {
        next = c->next;
        struct listener *l = c->l;
        if (c->handshaking && now - c->start_ns >= l->handshake_ns) {
            metric_add(l->tls_failures, 1);
            metric_add(l->timeouts, 1);
            net_log(n, l, c->peer, "TLS handshake not finished within %.1fs: connection closed",
                    (double)l->handshake_ns / 1e9);
            conn_close(n, c);
        } else if (!c->paused && !c->handshaking && l->idle_ns && now - c->last_ns >= l->idle_ns) {
            metric_add(l->timeouts, 1);
            conn_close(n, c);
        }
    }
}

/* Serve the connections marked ready (and, on a resume, the paused ones);
 * each is served once per call. */
static void serve_marked(struct syslog_net *n, bool resume)
{
    /* collect first: serving may close connections or mark others */
    size_t cap = n->nready + (resume ? n->npaused : 0), k = 0;
    if (!cap)
        return;
    struct conn **list = malloc(cap * sizeof(*list));
    if (!list)
        return;
    for (struct conn *c = n->conns; c && k < cap; c = c->next) {
        if (c->ready) {
            c->ready = false;
            n->nready--;
            list[k++] = c;
        } else if (resume && c->paused) {
            list[k++] = c;
        }
    }
    for (size_t i = 0; i < k; i++) {
        /* still open? (an earlier one cannot close another: each closes
         * only itself, so every pointer in the list is live) */
        struct conn *c = list[i];
        if (c->handshaking)
            conn_handshake(n, c);
        else
            conn_serve(n, c);
    }
    free(list);
}

static void *loop(void *arg)
{
    struct syslog_net *n = arg;
    struct epoll_event evs[64];
    n->next_sweep = mono_ns() + n->sweep_ns;
    while (!atomic_load(&n->stop_req)) {
        int64_t now = mono_ns();
        int timeout_ms = n->nready ? 0 : (int)((n->next_sweep - now + 999999) / 1000000);
        if (timeout_ms < 0)
            timeout_ms = 0;
        int ne = epoll_wait(n->ep, evs, 64, timeout_ms);
        if (ne < 0 && errno != EINTR)
            break;
        bool resume = false;
        for (int i = 0; i < ne; i++) {
            struct item *it = evs[i].data.ptr;
            if (it->kind == ITEM_WAKE) {
                uint64_t v;
                if (read(n->wake_fd, &v, sizeof(v)) < 0) {
                    /* nothing to read: another wake-up already took it */
                }
                resume = atomic_exchange(&n->resume_req, false);
            } else if (it->kind == ITEM_LISTENER) {
                struct listener *l = (struct listener *)it;
                if (l->proto == SYSLOG_PROTO_UDP)
                    udp_receive(n, l);
                else
                    listener_accept(n, l);
            }
        }
        /* connections after listeners: an accept never frees a connection,
         * but serving one may close it, and a closed connection must not be
         * reached through a later event of the same batch */
        for (int i = 0; i < ne; i++) {
            struct item *it = evs[i].data.ptr;
            if (it->kind != ITEM_CONN)
                continue;
            struct conn *c = (struct conn *)it;
            /* mark; served below, once, whatever happens to the others */
            if (!c->ready) {
                c->ready = true;
                n->nready++;
            }
        }
        if (resume && n->npaused)
            serve_marked(n, true);
        else
            serve_marked(n, false);
        now = mono_ns();
        if (now >= n->next_sweep) {
            sweep(n, now);
            n->next_sweep = now + n->sweep_ns;
        }
    }
    return NULL;
}

void syslog_net_set_log(struct syslog_net *n, syslog_log_fn fn, void *opaque)
{
    n->log = fn;
    n->log_opaque = opaque;
}

int syslog_net_start(struct syslog_net *n)
{
    if (n->running)
        return -EBUSY;
    int e = pthread_create(&n->thread, NULL, loop, n);
    if (e)
        return -e;
    n->running = true;
    return 0;
}

static void wake(struct syslog_net *n)
{
    uint64_t one = 1;
    if (write(n->wake_fd, &one, sizeof(one)) < 0) {
        /* the counter is already non-zero: the loop will wake anyway */
    }
}

void syslog_net_resume(struct syslog_net *n)
{
    if (!atomic_exchange(&n->resume_req, true))
        wake(n);
}

void syslog_net_stop(struct syslog_net *n)
{
    if (n->running) {
        atomic_store(&n->stop_req, true);
        wake(n);
        pthread_join(n->thread, NULL);
        n->running = false;
    }
    while (n->conns)
        conn_close(n, n->conns);
    for (int i = 0; i < n->nl; i++) {
        struct listener *l = n->l[i];
        if (l->fd >= 0) {
            close(l->fd);
            l->fd = -1;
        }
    }
}

void syslog_net_free(struct syslog_net *n)
{
    if (!n)
        return;
    syslog_net_stop(n);
    for (int i = 0; i < n->nl; i++) {
        SSL_CTX_free(n->l[i]->ssl);
        free(n->l[i]->name);
        free(n->l[i]);
    }
    close(n->ep);
    close(n->wake_fd);
    free(n);
}
