/*
 * output-syslog.c - alerts forwarded as RFC 5424 syslog messages over UDP,
 * TCP or TLS.
 *
 * One alert is one message:
 *
 *   <PRI>1 TIMESTAMP HOSTNAME kenchi PROCID MSGID [SD-ID alert_id=".." seq=".."
 *   rule_id=".." level=".."] BOM{"@timestamp":...}
 *
 * PRI is the configured facility (default local0) with a severity from the
 * alert's level (critical: crit, high: err, medium: warning, low: notice,
 * informational: info; none: notice); MSGID is the alert's kind;
 * TIMESTAMP is the alert's time (the time of sending when it has none);
 * the structured data's values are escaped as RFC 5424 §6.3.3 says ('"',
 * '\' and ']' take a backslash); MSG is the alert's JSON, marked UTF-8
 * by the BOM.
 *
 * Transports: udp (RFC 5426: one datagram each; a message longer than
 * max_message is cut to it, on a UTF-8 character boundary, and says so
 * with truncated="true" in its structured data: the JSON is then
 * incomplete), tcp and tls (RFC 6587 octet counting, "LEN SP MSG", or LF
 * after each message; TLS is RFC 5425, OpenSSL, the server's certificate
 * checked against ca_file or the system's CAs and against the address's
 * host or server_name, an optional client certificate).
 *
 * The connection is made at the first alert and again whenever it is gone: when
 * connecting fails deliver() says -EAGAIN and the delivery thread tries
 * again later, so alerts wait in the store while the receiver is down.
 * Before each message on a stream, the socket is polled: a peer that has
 * closed its end is noticed and the connection made anew, so a message is
 * not written into a connection the receiver already dropped. A message
 * whose write fails is offered again after reconnecting: the receiver may
 * see it twice (alert_id tells).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "output/output.h"
#include "output/sigpipe.h"

enum transport { T_UDP, T_TCP, T_TLS };
enum framing { F_OCTET, F_LF };

#define SYSLOG_UDP_MIN      480   /* RFC 5426: every receiver takes this much */
#define SYSLOG_UDP_MAX      65507 /* the largest UDP payload over IPv4 */
#define SYSLOG_UDP_DEFAULT  8192
#define SYSLOG_SD_VALUE_MAX 256 /* bytes of a structured data value sent */

struct syslog_out {
    /* settings */
    int transport;
    int framing;
    int facility;
    struct conf_addr addr;
    char hostname[256];
    const char *sd_id;
    const char *ca_file, *cert_file, *key_file, *server_name;
    bool tls_verify;
    int64_t timeout_ns;
    uint64_t max_message;
    /* running */
    pthread_mutex_t lock; /* guards what reopen() leaves for deliver() */
    bool lock_made;
    bool reconnect;    /* reopen() asked for a new connection */
    SSL_CTX *next_ctx; /* made by reopen(), taken by deliver() */
    int fd;            /* -1: not connected */
    SSL_CTX *ctx;
    SSL *ssl;
    char *buf;
    size_t cap;
    long pid;
};

static const char *const transport_names[] = {"udp", "tcp", "tls", NULL};
static const char *const framing_names[] = {"octet-counting", "lf", NULL};
static const char *const facility_names[] = {
    "kern",   "user",     "mail",   "daemon", "auth",   "syslog", "lpr",   "news",   "uucp",
    "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock", "local0", "local1",
    "local2", "local3",   "local4", "local5", "local6", "local7", NULL,
};

static const char *const syslog_keys[] = {
    OUTPUT_COMMON_KEYS, OUTPUT_RETRY_KEY, "address",     "transport", "framing",  "facility",
    "hostname",         "sd_id",          "ca_file",     "cert_file", "key_file", "server_name",
    "tls_verify",       "timeout",        "max_message", NULL,
};

/* RFC 5424 PRINTUSASCII (%d33-126), 1 to max bytes; extra excludes more
 * (SD-NAME: '=', ' ', ']', '"'). */
static bool printusascii(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (!n || n > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 33 || (unsigned char)*s > 126 || (extra && strchr(extra, *s)))
            return false;
    return true;
}

static int syslog_configure(struct conf_ctx *c, const struct ynode *node, void **state)
{
    *state = NULL;
    if (!conf_is_map(c, node, "output"))
        return -1;
    unsigned before = c->nerrors;
    struct syslog_out *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->fd = -1;
    s->transport = T_UDP;
    s->framing = F_OCTET;
    s->facility = 16; /* local0 */
    s->sd_id = "kenchi@32473";
    s->tls_verify = true;
    s->timeout_ns = 10LL * 1000000000;
    s->max_message = SYSLOG_UDP_DEFAULT;
    *state = s;
    conf_check_keys(c, node, syslog_keys);
    conf_enum(c, node, "transport", transport_names, &s->transport);
    if (conf_need(c, node, "address"))
        conf_addr(c, node, "address", "127.0.0.1", &s->addr);
    conf_enum(c, node, "framing", framing_names, &s->framing);
    conf_enum(c, node, "facility", facility_names, &s->facility);
    const char *host = NULL;
    if (conf_str(c, node, "hostname", &host) == 1) {
        if (!printusascii(host, 255, NULL))
            conf_error(c, ynode_get(node, "hostname"),
                       "hostname: 1 to 255 printable ASCII characters, no spaces");
        else
            snprintf(s->hostname, sizeof(s->hostname), "%s", host);
    }
    if (conf_str(c, node, "sd_id", &s->sd_id) == 1 &&
        (!printusascii(s->sd_id, 32, "= ]\"") || !strchr(s->sd_id, '@')))
        conf_error(c, ynode_get(node, "sd_id"),
                   "sd_id: NAME@NUMBER (an enterprise number), up to 32 printable ASCII "
                   "characters without '=', ']', '\"' or spaces");
    conf_str(c, node, "ca_file", &s->ca_file);
    conf_str(c, node, "cert_file", &s->cert_file);
    conf_str(c, node, "key_file", &s->key_file);
    conf_str(c, node, "server_name", &s->server_name);
    conf_bool(c, node, "tls_verify", &s->tls_verify);
    if (!s->cert_file != !s->key_file)
        conf_error(c, node, "cert_file and key_file go together");
    if (s->transport != T_TLS) {
        static const char *const tls_only[] = {"ca_file",     "cert_file",  "key_file",
                                               "server_name", "tls_verify", NULL};
        for (size_t i = 0; tls_only[i]; i++)
            if (ynode_get(node, tls_only[i]))
                conf_error(c, ynode_get(node, tls_only[i]), "%s: only for transport: tls",
                           tls_only[i]);
    }
    if (s->transport == T_UDP && ynode_get(node, "framing"))
        conf_error(c, ynode_get(node, "framing"), "framing: only for transport: tcp or tls");
    if (s->transport != T_UDP && ynode_get(node, "max_message"))
        conf_error(c, ynode_get(node, "max_message"), "max_message: only for transport: udp");
    conf_size(c, node, "max_message", SYSLOG_UDP_MIN, SYSLOG_UDP_MAX, &s->max_message);
    conf_duration(c, node, "timeout", 100LL * 1000000, 3600LL * 1000000000, &s->timeout_ns);
    struct output_retry r;
    output_retry_settings(c, node, &r);
    return c->nerrors == before ? 0 : -1;
}

/* OpenSSL's latest error as text, or fallback. */
static const char *ssl_error_text(char *buf, size_t n, const char *fallback)
{
    unsigned long e = ERR_get_error();
    if (!e)
        return fallback;
    ERR_error_string_n(e, buf, n);
    ERR_clear_error();
    return buf;
}

/* A client context from the settings; NULL with err set. */
static SSL_CTX *make_ctx(const struct syslog_out *s, char *err, size_t errn)
{
    char e[256];
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errn, "TLS: %s", ssl_error_text(e, sizeof(e), "cannot start"));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, s->tls_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (s->ca_file && SSL_CTX_load_verify_locations(ctx, s->ca_file, NULL) != 1) {
        snprintf(err, errn, "ca_file %s: %s", s->ca_file,
                 ssl_error_text(e, sizeof(e), "cannot be read"));
        goto fail;
    }
    if (!s->ca_file && s->tls_verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(err, errn, "TLS: the system's CA certificates: %s",
                 ssl_error_text(e, sizeof(e), "cannot be read"));
        goto fail;
    }
    if (s->cert_file) {
        if (SSL_CTX_use_certificate_chain_file(ctx, s->cert_file) != 1) {
            snprintf(err, errn, "cert_file %s: %s", s->cert_file,
                     ssl_error_text(e, sizeof(e), "cannot be read"));
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, s->key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(err, errn, "key_file %s: %s", s->key_file,
                     ssl_error_text(e, sizeof(e), "does not fit cert_file"));
            goto fail;
        }
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static void disconnect(struct syslog_out *s)
{
    if (s->ssl) {
        struct sigpipe_guard g;
        sigpipe_block(&g);
        int rc = SSL_shutdown(s->ssl); /* our close_notify; the peer's is not awaited */
        sigpipe_unblock(&g, rc < 0 && errno == EPIPE);
        SSL_free(s->ssl);
        s->ssl = NULL;
        ERR_clear_error();
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* connect() with a time-out; fd blocking again afterwards, with send and
 * receive time-outs. Returns 0 or a negative errno. */
static int connect_timed(int fd, const struct sockaddr *sa, socklen_t len, int64_t timeout_ns)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    int rc = connect(fd, sa, len);
    if (rc < 0 && errno != EINPROGRESS)
        return -errno;
    if (rc < 0) {
        struct pollfd p = {fd, POLLOUT, 0};
        int pr;
        do
            pr = poll(&p, 1, (int)(timeout_ns / 1000000));
        while (pr < 0 && errno == EINTR);
        if (pr == 0)
            return -ETIMEDOUT;
        if (pr < 0)
            return -errno;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            return -errno;
        if (soerr)
            return -soerr;
    }
    if (fcntl(fd, F_SETFL, fl) < 0)
        return -errno;
    struct timeval tv = {(time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) / 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return 0;
}

static int tls_handshake(struct syslog_out *s, char *err, size_t errn)
{
    char e[256];
    ERR_clear_error();
    s->ssl = SSL_new(s->ctx);
    if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1) {
        snprintf(err, errn, "TLS: %s", ssl_error_text(e, sizeof(e), "cannot start"));
        return -ENOMEM;
    }
    const char *name = s->server_name ? s->server_name : s->addr.host;
    unsigned char ipbuf[16];
    bool is_ip = inet_pton(AF_INET, name, ipbuf) == 1 || inet_pton(AF_INET6, name, ipbuf) == 1;
    if (s->tls_verify) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(s->ssl);
        if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1
                  : SSL_set1_host(s->ssl, name) != 1) {
            snprintf(err, errn, "TLS: cannot check the name %s", name);
            return -EINVAL;
        }
    }
    if (!is_ip)
        SSL_set_tlsext_host_name(s->ssl, name);
    struct sigpipe_guard g;
    sigpipe_block(&g);
    int rc = SSL_connect(s->ssl);
    int saved = errno;
    sigpipe_unblock(&g, rc != 1 && saved == EPIPE);
    if (rc == 1)
        return 0;
    long vr = SSL_get_verify_result(s->ssl);
    if (vr != X509_V_OK)
        snprintf(err, errn, "TLS handshake with %s:%u: the certificate is refused: %s",
                 s->addr.host, s->addr.port, X509_verify_cert_error_string(vr));
    else
        snprintf(
            err, errn, "TLS handshake with %s:%u: %s", s->addr.host, s->addr.port,
            ssl_error_text(e, sizeof(e), saved ? strerror(saved) : "the connection was closed"));
    return -ECONNREFUSED;
}

/* Connect to the receiver (every address the name gives, in turn).
 * Returns 0, or a negative errno with err set. */
static int connect_out(struct syslog_out *s, char *err, size_t errn)
{
    disconnect(s);
    char port[8];
    snprintf(port, sizeof(port), "%u", s->addr.port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = s->transport == T_UDP ? SOCK_DGRAM : SOCK_STREAM;
    int gai = getaddrinfo(s->addr.host, port, &hints, &res);
    if (gai) {
        snprintf(err, errn, "%s: %s", s->addr.host, gai_strerror(gai));
        return -EHOSTUNREACH;
    }
    int rc = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        rc = connect_timed(fd, ai->ai_addr, ai->ai_addrlen, s->timeout_ns);
        if (rc == 0) {
            s->fd = fd;
            break;
        }
        close(fd);
    }
    freeaddrinfo(res);
    if (rc) {
        snprintf(err, errn, "%s %s:%u: %s", transport_names[s->transport], s->addr.host,
                 s->addr.port, strerror(-rc));
        return rc;
    }
    if (s->transport != T_UDP) {
        int one = 1;
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(s->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    }
    if (s->transport == T_TLS && (rc = tls_handshake(s, err, errn)) != 0) {
        disconnect(s);
        return rc;
    }
    return 0;
}

static int syslog_open(void *state, char *err, size_t errn)
{
    struct syslog_out *s = state;
    s->pid = (long)getpid();
    if (!s->hostname[0]) {
        if (gethostname(s->hostname, sizeof(s->hostname) - 1) < 0 || !s->hostname[0])
            snprintf(s->hostname, sizeof(s->hostname), "-");
        for (char *p = s->hostname; *p; p++)
            if ((unsigned char)*p < 33 || (unsigned char)*p > 126)
                *p = '-';
    }
    if (pthread_mutex_init(&s->lock, NULL)) {
        snprintf(err, errn, "cannot make a lock");
        return -ENOMEM;
    }
    s->lock_made = true;
    if (s->transport == T_TLS && !(s->ctx = make_ctx(s, err, errn)))
        return -EINVAL;
    /* the connection is made by the first deliver(), in the delivery
     * thread: a receiver that does not answer does not hold up the start */
    return 0;
}

/* SIGHUP, from any thread: for tls the certificate files are read again
 * now into a new context (a failure keeps the one in use, and says so by
 * the result); deliver() closes the connection at its next alert and
 * makes a new one (with the new context; to a changed address of the
 * name). */
static int syslog_reopen(void *state)
{
    struct syslog_out *s = state;
    if (!s->lock_made)
        return 0;
    SSL_CTX *ctx = NULL;
    if (s->transport == T_TLS) {
        char err[256];
        if (!(ctx = make_ctx(s, err, sizeof(err))))
            return -EINVAL;
    }
    pthread_mutex_lock(&s->lock);
    if (ctx) {
        SSL_CTX_free(s->next_ctx);
        s->next_ctx = ctx;
    }
    s->reconnect = true;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* In deliver(): act on what reopen() asked. */
static void take_reopen(struct syslog_out *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->reconnect) {
        disconnect(s);
        if (s->next_ctx) {
            SSL_CTX_free(s->ctx);
            s->ctx = s->next_ctx;
            s->next_ctx = NULL;
        }
        s->reconnect = false;
    }
    pthread_mutex_unlock(&s->lock);
}

/* Severity (RFC 5424 table 2) of an alert level. */
static int severity_of(const char *level)
{
    static const struct {
        const char *level;
        int severity;
    } map[] = {
        {"critical", 2}, {"high", 3}, {"medium", 4}, {"low", 5}, {"informational", 6},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(level, map[i].level))
            return map[i].severity;
    return 5;
}

static int reserve(struct syslog_out *s, size_t need)
{
    if (need <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < need)
        cap *= 2;
    char *b = realloc(s->buf, cap);
    if (!b)
        return -ENOMEM;
    s->buf = b;
    s->cap = cap;
    return 0;
}

/* The length of s[0..n) cut back so that no UTF-8 sequence is split. */
static size_t utf8_cut(const char *s, size_t n)
{
    size_t back = 0;
    while (back < 4 && back < n && ((unsigned char)s[n - 1 - back] & 0xC0) == 0x80)
        back++;
    if (back < n) {
        unsigned char lead = (unsigned char)s[n - 1 - back];
        size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (len != back + 1)
            return n - 1 - back; /* the last character is incomplete: drop it */
    }
    return n;
}

/* Append an SD-PARAM ` name="value"`, the value's first SYSLOG_SD_VALUE_MAX
 * bytes (on a character boundary) escaped (RFC 5424 §6.3.3). buf has room
 * (reserved by the caller: 2 bytes per value byte). */
static size_t put_param(char *buf, const char *name, const char *value)
{
    size_t n = (size_t)sprintf(buf, " %s=\"", name);
    size_t vn = strlen(value);
    if (vn > SYSLOG_SD_VALUE_MAX)
        vn = utf8_cut(value, SYSLOG_SD_VALUE_MAX);
    for (size_t i = 0; i < vn; i++) {
        if (value[i] == '"' || value[i] == '\\' || value[i] == ']')
            buf[n++] = '\\';
        buf[n++] = value[i];
    }
    buf[n++] = '"';
    return n;
}

/* Build the message for m in s->buf (framing left to the sender), with
 * room for an octet-count prefix before it: returns the message's offset
 * and sets *len. A negative errno on failure. */
static long build(struct syslog_out *s, const struct alert_msg *m, size_t *len)
{
    const size_t prefix = 24; /* "LEN " of octet counting */
    size_t fields = strlen(m->id) + strlen(m->rule_id) + strlen(m->level) + 64;
    if (reserve(s, prefix + 512 + strlen(s->hostname) + 2 * fields + m->n + 8) < 0)
        return -ENOMEM;
    char *b = s->buf + prefix;
    int64_t ts = m->ts_ns;
    if (ts == INT64_MIN) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ts = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    }
    time_t secs = (time_t)(ts >= 0 ? ts / 1000000000 : (ts - 999999999) / 1000000000);
    long usec = (long)((ts - (int64_t)secs * 1000000000) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char msgid[33];
    snprintf(msgid, sizeof(msgid), "%s", m->kind[0] ? m->kind : "-");
    if (!printusascii(msgid, 32, NULL))
        snprintf(msgid, sizeof(msgid), "-");
    size_t n = (size_t)sprintf(b, "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s kenchi %ld %s [%s",
                               s->facility * 8 + severity_of(m->level), tm.tm_year + 1900,
                               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec,
                               s->hostname, s->pid, msgid, s->sd_id);
    char seq[24];
    snprintf(seq, sizeof(seq), "%" PRIu64, m->seq);
    n += put_param(b + n, "alert_id", m->id);
    n += put_param(b + n, "seq", seq);
    if (m->rule_id[0])
        n += put_param(b + n, "rule_id", m->rule_id);
    if (m->level[0])
        n += put_param(b + n, "level", m->level);
    size_t json_n = m->n;
    static const char trunc[] = " truncated=\"true\"";
    /* after the parameters: "] " and the BOM, 5 bytes */
    if (s->transport == T_UDP && n + 5 + json_n > s->max_message) {
        n += (size_t)sprintf(b + n, "%s", trunc);
        size_t room = s->max_message > n + 5 ? s->max_message - n - 5 : 0;
        json_n = utf8_cut(m->json, room < json_n ? room : json_n);
    }
    b[n++] = ']';
    b[n++] = ' ';
    memcpy(b + n, "\xEF\xBB\xBF", 3);
    n += 3;
    memcpy(b + n, m->json, json_n);
    n += json_n;
    if (s->transport == T_UDP && n > s->max_message) /* the header alone is longer */
        n = utf8_cut(b, s->max_message);
    *len = n;
    return (long)prefix;
}

/* Is the stream still open at the other end? Reads (and drops) what the
 * receiver sent, which a syslog receiver does not, TLS session tickets
 * aside. */
static bool stream_alive(struct syslog_out *s)
{
    struct pollfd p = {s->fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0)
        return true;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
        return false;
    char scratch[512];
    if (!s->ssl) {
        ssize_t r = recv(s->fd, scratch, sizeof(scratch), MSG_DONTWAIT);
        return r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }
    int fl = fcntl(s->fd, F_GETFL);
    fcntl(s->fd, F_SETFL, fl | O_NONBLOCK);
    bool alive = true;
    for (int i = 0; i < 8; i++) {
        int r = SSL_read(s->ssl, scratch, sizeof(scratch));
        if (r > 0)
            continue;
        int e = SSL_get_error(s->ssl, r);
        alive = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
        break;
    }
    ERR_clear_error();
    fcntl(s->fd, F_SETFL, fl);
    return alive;
}

/* Write all of b[0..n) to the stream. 0 or a negative errno. */
static int send_stream(struct syslog_out *s, const char *b, size_t n, char *err, size_t errn)
{
    if (s->ssl) {
        struct sigpipe_guard g;
        sigpipe_block(&g);
        ERR_clear_error();
        int r = SSL_write(s->ssl, b, (int)n);
        int saved = errno;
        sigpipe_unblock(&g, r <= 0 && saved == EPIPE);
        if (r == (int)n)
            return 0;
        char e[256];
        snprintf(err, errn, "tls %s:%u: %s", s->addr.host, s->addr.port,
                 ssl_error_text(e, sizeof(e), saved ? strerror(saved) : "write failed"));
        return -EIO;
    }
    while (n) {
        ssize_t w = send(s->fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            snprintf(err, errn, "tcp %s:%u: %s", s->addr.host, s->addr.port, strerror(e));
            return -e;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int syslog_deliver(void *state, const struct alert_msg *m, char *err, size_t errn)
{
    struct syslog_out *s = state;
    size_t n;
    long off = build(s, m, &n);
    if (off < 0) {
        snprintf(err, errn, "out of memory");
        return -EAGAIN;
    }
    char *b = s->buf + off;
    if (s->lock_made)
        take_reopen(s);
    if (s->fd >= 0 && s->transport != T_UDP && !stream_alive(s))
        disconnect(s);
    if (s->fd < 0 && connect_out(s, err, errn) < 0)
        return -EAGAIN;
    if (s->transport == T_UDP) {
        ssize_t w = send(s->fd, b, n, MSG_NOSIGNAL);
        if (w == (ssize_t)n)
            return 0;
        /* an ICMP refusal of an earlier datagram shows here: the receiver
         * is down; the datagram was not sent */
        snprintf(err, errn, "udp %s:%u: %s", s->addr.host, s->addr.port,
                 w < 0 ? strerror(errno) : "short write");
        disconnect(s);
        return -EAGAIN;
    }
    if (s->framing == F_OCTET) {
        char len[24];
        int ln = snprintf(len, sizeof(len), "%zu ", n);
        b -= ln;
        memcpy(b, len, (size_t)ln);
        n += (size_t)ln;
    } else {
        b[n++] = '\n';
    }
    if (send_stream(s, b, n, err, errn) < 0) {
        disconnect(s);
        return -EAGAIN;
    }
    return 0;
}

static void syslog_close(void *state)
{
    struct syslog_out *s = state;
    if (!s)
        return;
    disconnect(s);
    SSL_CTX_free(s->ctx);
    SSL_CTX_free(s->next_ctx);
    if (s->lock_made)
        pthread_mutex_destroy(&s->lock);
    free(s->buf);
    free(s);
}

const struct output_ops output_syslog = {
    .type = "syslog",
    .configure = syslog_configure,
    .open = syslog_open,
    .last_delivered = NULL,
    .deliver = syslog_deliver,
    .reopen = syslog_reopen,
    .close = syslog_close,
    .retry_after_ns = NULL,
};
