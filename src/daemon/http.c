/*
 * http.c - the metrics endpoint (see http.h).
 *
 * One thread polls the listening socket, a wake-up eventfd and at most
 * HTTP_MAX_CONNS connections. A connection reads its request head into a
 * fixed buffer, gets its whole answer rendered into a struct buf at once,
 * writes it as the socket accepts it, and is closed; one that has not
 * finished within HTTP_TIMEOUT_MS of its accept is closed where it stands.
 * No keep-alive: a Prometheus scrape every few seconds does not need it,
 * and one request per connection keeps the state machine three states long.
 */
#include "daemon/http.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/metrics.h"
#include "util/buf.h"

/* ---- configuration ---------------------------------------------------- */

int http_configure(struct conf_ctx *c, const struct ynode *node, struct http_conf *out)
{
    static const char *const keys[] = {"enabled", "listen", NULL};
    memset(out, 0, sizeof(*out));
    out->enabled = true;
    snprintf(out->listen.host, sizeof(out->listen.host), "127.0.0.1");
    out->listen.port = METRICS_DEFAULT_PORT;
    if (!node || ynode_is_null(node))
        return 0;
    unsigned before = c->nerrors;
    if (!conf_is_map(c, node, "metrics"))
        return -EINVAL;
    conf_check_keys(c, node, keys);
    conf_bool(c, node, "enabled", &out->enabled);
    conf_addr(c, node, "listen", "127.0.0.1", &out->listen);
    return c->nerrors == before ? 0 : -EINVAL;
}

/* ---- the request parser ----------------------------------------------- */

static bool is_tchar(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The end of the line starting at p (at its LF), or NULL. */
static const char *line_end(const char *p, const char *end)
{
    return memchr(p, '\n', (size_t)(end - p));
}

int http_parse_request(const char *buf, size_t n, struct http_request *req)
{
    const char *p = buf, *end = buf + n;
    /* tolerate empty lines before the request line (RFC 9112 2.2) */
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    const char *eol = line_end(p, end);
    if (!eol)
        return 0;
    const char *le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
    /* method */
    const char *m = p;
    while (p < le && is_tchar((unsigned char)*p))
        p++;
    if (p == m || p >= le || *p != ' ')
        return 400;
    size_t ml = (size_t)(p - m);
    req->method = ml == 3 && !memcmp(m, "GET", 3)    ? HTTP_GET
                  : ml == 4 && !memcmp(m, "HEAD", 4) ? HTTP_HEAD
                                                     : HTTP_OTHER;
    p++;
    /* target: origin-form only */
    const char *t = p;
    while (p < le && *p != ' ') {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 400;
        p++;
    }
    if (p == t || *t != '/' || p >= le)
        return 400;
    const char *q = memchr(t, '?', (size_t)(p - t));
    req->path = t;
    req->path_len = (size_t)((q ? q : p) - t);
    p++;
    /* version */
    if (le - p != 8 || memcmp(p, "HTTP/", 5) || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
        p[7] < '0' || p[7] > '9')
        return 400;
    if (p[5] != '1')
        return 505;
    req->minor = p[7] - '0';
    /* header fields up to the empty line: checked, not kept */
    p = eol + 1;
    for (;;) {
        eol = line_end(p, end);
        if (!eol)
            return 0;
        le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
        if (le == p)
            return 1;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (!colon || colon == p)
            return 400;
        for (const char *k = p; k < colon; k++)
            if (!is_tchar((unsigned char)*k))
                return 400;
        for (const char *v = colon + 1; v < le; v++)
            if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
                return 400;
        p = eol + 1;
    }
}

/* ---- the server ------------------------------------------------------- */

struct hconn {
    int fd; /* -1: free slot */
    int64_t deadline_ns;
    char in[HTTP_MAX_REQUEST];
    size_t in_len;
    struct buf out;
    size_t out_off;
    bool writing;
    bool draining; /* answer sent: read and drop until the client closes */
};

struct http_server {
    int fd;
    int wake_fd;
    uint16_t port;
    struct metrics *metrics;
    http_health_fn health;
    void *opaque;
    pthread_t thread;
    _Atomic bool stop;
    struct hconn conns[HTTP_MAX_CONNS];
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

/* Put the whole answer in c->out. */
static void respond(struct http_server *s, struct hconn *c, int status, const char *type,
                    const char *body, size_t body_len, bool head)
{
    buf_clear(&c->out);
    buf_printf(&c->out,
               "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
               "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
               "Connection: close\r\n%s\r\n",
               status, reason_phrase(status), type, body_len,
               status == 405 ? "Allow: GET, HEAD\r\n" : "");
    if (!head)
        buf_append(&c->out, body, body_len);
    c->out_off = 0;
    c->writing = true;
    (void)s;
}

static void respond_text(struct http_server *s, struct hconn *c, int status, const char *text,
                         bool head)
{
    respond(s, c, status, "text/plain; charset=utf-8", text, strlen(text), head);
}

static void answer(struct http_server *s, struct hconn *c, const struct http_request *req)
{
    bool head = req->method == HTTP_HEAD;
    if (req->method == HTTP_OTHER) {
        respond_text(s, c, 405, "only GET and HEAD\n", false);
        return;
    }
    if (req->path_len == 8 && !memcmp(req->path, "/metrics", 8)) {
        struct buf body;
        buf_init(&body);
        if (s->metrics)
            metrics_render(s->metrics, &body);
        respond(s, c, 200, "text/plain; version=0.0.4; charset=utf-8", body.data ? body.data : "",
                body.len, head);
        buf_free(&body);
        return;
    }
    if (req->path_len == 7 && !memcmp(req->path, "/health", 7)) {
        char reason[256] = "";
        if (s->health && s->health(s->opaque, reason, sizeof(reason)) != 0) {
            char text[300];
            snprintf(text, sizeof(text), "%s\n", reason[0] ? reason : "unhealthy");
            respond_text(s, c, 503, text, head);
        } else {
            respond_text(s, c, 200, "ok\n", head);
        }
        return;
    }
    respond_text(s, c, 404, "not found: try /metrics or /health\n", head);
}

static void hconn_close(struct hconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->in_len = 0;
    c->writing = false;
    c->draining = false;
    buf_free(&c->out);
}

static void hconn_read(struct http_server *s, struct hconn *c)
{
    ssize_t r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        hconn_close(c);
        return;
    }
    if (r < 0)
        return;
    c->in_len += (size_t)r;
    struct http_request req;
    int rc = http_parse_request(c->in, c->in_len, &req);
    if (rc == 1)
        answer(s, c, &req);
    else if (rc == 0 && c->in_len == sizeof(c->in))
        respond_text(s, c, 431, "request too large\n", false);
    else if (rc > 1)
        respond_text(s, c, rc, rc == 505 ? "HTTP/1.x only\n" : "bad request\n", false);
}

static void hconn_write(struct hconn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            break;
        }
        c->out_off += (size_t)w;
    }
    /* a lingering close: closing with unread request bytes (a body, the
     * rest of an oversized head) would reset the connection and could
     * destroy the answer before the client reads it */
    shutdown(c->fd, SHUT_WR);
    c->writing = false;
    c->draining = true;
}

static void hconn_drain(struct hconn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t r = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (r > 0)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        hconn_close(c); /* end of stream or error */
        return;
    }
}

static void server_accept(struct http_server *s, int64_t now)
{
    for (;;) {
        int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct hconn *c = NULL;
        for (size_t i = 0; i < HTTP_MAX_CONNS && !c; i++)
            if (s->conns[i].fd < 0)
                c = &s->conns[i];
        if (!c) {
            close(fd); /* all slots busy */
            continue;
        }
        c->fd = fd;
        c->in_len = 0;
        c->writing = false;
        c->draining = false;
        buf_init(&c->out);
        c->deadline_ns = now + (int64_t)HTTP_TIMEOUT_MS * 1000000;
    }
}

static void *serve(void *arg)
{
    struct http_server *s = arg;
    struct pollfd pfd[HTTP_MAX_CONNS + 2];
    struct hconn *who[HTTP_MAX_CONNS + 2];
    while (!atomic_load(&s->stop)) {
        int64_t now = mono_ns();
        int timeout_ms = -1;
        nfds_t np = 0;
        pfd[np++] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
        pfd[np++] = (struct pollfd){.fd = s->fd, .events = POLLIN};
        for (size_t i = 0; i < HTTP_MAX_CONNS; i++) {
            struct hconn *c = &s->conns[i];
            if (c->fd < 0)
                continue;
            if (now >= c->deadline_ns) {
                hconn_close(c);
                continue;
            }
            int left = (int)((c->deadline_ns - now) / 1000000) + 1;
            if (timeout_ms < 0 || left < timeout_ms)
                timeout_ms = left;
            who[np] = c;
            pfd[np++] = (struct pollfd){.fd = c->fd, .events = c->writing ? POLLOUT : POLLIN};
        }
        int r = poll(pfd, np, timeout_ms);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        now = mono_ns();
        for (nfds_t i = 2; i < np; i++) {
            struct hconn *c = who[i];
            if (!pfd[i].revents || c->fd < 0)
                continue;
            if (c->draining) {
                hconn_drain(c);
                continue;
            }
            if (!c->writing)
                hconn_read(s, c);
            if (c->fd >= 0 && c->writing)
                hconn_write(c);
        }
        if (pfd[1].revents)
            server_accept(s, now);
    }
    return NULL;
}

struct http_server *http_server_start(const char *host, uint16_t port, struct metrics *m,
                                      http_health_fn health, void *opaque, char *err, size_t errn)
{
    err[0] = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", port);
    int g = getaddrinfo(host, portstr, &hints, &ai);
    if (g) {
        snprintf(err, errn, "%s: %s", host, gai_strerror(g));
        return NULL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int e = fd < 0 ? errno : 0;
    if (!e) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0)
            e = errno;
    }
    bool v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (e) {
        snprintf(err, errn, "%s%s%s:%u: %s", v6 ? "[" : "", host, v6 ? "]" : "", port, strerror(e));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        snprintf(err, errn, "out of memory");
        return NULL;
    }
    s->fd = fd;
    s->metrics = m;
    s->health = health;
    s->opaque = opaque;
    for (size_t i = 0; i < HTTP_MAX_CONNS; i++)
        s->conns[i].fd = -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    s->port = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int pe = s->wake_fd < 0 ? errno : pthread_create(&s->thread, NULL, serve, s);
    if (pe) {
        snprintf(err, errn, "cannot start the metrics thread: %s", strerror(pe));
        if (s->wake_fd >= 0)
            close(s->wake_fd);
        close(fd);
        free(s);
        return NULL;
    }
    return s;
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    uint64_t one = 1;
    if (write(s->wake_fd, &one, sizeof(one)) < 0) {
        /* already signalled */
    }
    pthread_join(s->thread, NULL);
    for (size_t i = 0; i < HTTP_MAX_CONNS; i++)
        if (s->conns[i].fd >= 0)
            hconn_close(&s->conns[i]);
    close(s->fd);
    close(s->wake_fd);
    free(s);
}
