/*
 * syslog-net.h - syslog receivers: UDP (RFC 5426), TCP (RFC 6587) and TLS
 * (RFC 5425), all served by one I/O thread.
 *
 * Each `sources:` entry of `type: syslog` becomes one listener
 * (docs/syslog.md lists the keys). The listeners and every connection they
 * accept share one epoll loop on one thread; each complete message is
 * handed to the consumer's callback on that thread, one at a time, without
 * its framing.
 *
 * Back-pressure: the callback returns 0 when it took the message, -EAGAIN
 * when the consumer's queue is full. A TCP or TLS connection is then paused:
 * nothing more is read from it, so the kernel's buffers fill and the sender
 * slows down; the same message is offered again after syslog_net_resume().
 * Nothing is lost on a stream. A UDP datagram has no sender to slow: it is
 * dropped and counted (kenchi_dropped_total{source,reason="queue_full"});
 * datagrams the kernel dropped because the socket's buffer was full are
 * counted too (reason="socket_buffer", from SO_RXQ_OVFL).
 *
 * Bounds: messages longer than max_message are cut and flagged truncated
 * (the rest of their frame skipped); at most max_connections connections per
 * listener (more are accepted and closed at once, counted as refused); a
 * connection holds at most one message buffer (max_message + 1 bytes) and,
 * while paused, the unread rest of one read (64 KiB); idle connections and
 * TLS handshakes that do not finish are closed after their timeouts; a
 * malformed octet count closes its connection (counted as a frame error).
 *
 * Metrics per listener (docs/metrics.md): kenchi_syslog_* series labelled
 * source="NAME".
 *
 * The process must ignore SIGPIPE (kenchi's main does): OpenSSL writes its
 * close_notify with plain write() on sockets the peer may have reset.
 */
#ifndef KENCHI_SOURCE_SYSLOG_NET_H
#define KENCHI_SOURCE_SYSLOG_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/conf.h"
#include "source/syslog-frame.h"

enum syslog_proto { SYSLOG_PROTO_UDP, SYSLOG_PROTO_TCP, SYSLOG_PROTO_TLS };

#define SYSLOG_DEFAULT_MAX_MESSAGE     (64 * 1024)
#define SYSLOG_DEFAULT_MAX_CONNECTIONS 512
#define SYSLOG_DEFAULT_IDLE_TIMEOUT_NS (600LL * 1000000000LL)
#define SYSLOG_DEFAULT_HANDSHAKE_NS    (10LL * 1000000000LL)

/* One listener's settings. Strings point into the configuration's YAML
 * arena (syslog_net_add copies what it keeps). */
struct syslog_listener_conf {
    const char *name;             /* the source's name; NULL: "syslog-PROTO-PORT" */
    enum syslog_proto protocol;   /* protocol: udp | tcp | tls (default udp) */
    struct conf_addr listen;      /* listen: default 127.0.0.1:514 (tls: 6514) */
    enum syslog_framing framing;  /* framing: auto | lf | octet (default auto) */
    size_t max_message;           /* max_message: a size, 64KiB */
    unsigned max_connections;     /* max_connections: 512 */
    int64_t idle_timeout_ns;      /* idle_timeout: 10m; 0 = never */
    size_t receive_buffer;        /* receive_buffer: SO_RCVBUF; 0 = the system's */
    int64_t handshake_timeout_ns; /* tls.handshake_timeout: 10s */
    const char *tls_cert;         /* tls.cert: PEM chain, server certificate first */
    const char *tls_key;          /* tls.key: PEM private key */
    const char *tls_ca;           /* tls.ca: PEM CA bundle for client certificates */
    bool require_client_cert;     /* tls.require_client_cert (needs tls.ca) */
};

/* Read one `sources:` entry of type syslog into *out (defaults first).
 * The common source keys (type, name, format, timezone) are accepted;
 * name is taken when it is a plain string, the others are the caller's.
 * Problems are reported through c with their places. Returns 0, or -EINVAL
 * when the entry has problems (all of them reported). */
int syslog_listener_configure(struct conf_ctx *c, const struct ynode *node,
                              struct syslog_listener_conf *out);

/* One received message, valid for the duration of the callback. */
struct syslog_msg {
    const char *listener; /* the source's name */
    const char *peer;     /* "ip:port" or "[ipv6]:port" */
    const char *data;     /* one message, without its framing */
    size_t len;
    int64_t received_ns; /* wall clock, ns since the epoch */
    bool truncated;      /* cut to max_message */
    enum syslog_proto proto;
};

/* Called on the I/O thread: 0 when the message was taken, -EAGAIN when the
 * consumer cannot take it now (see back-pressure above). */
typedef int (*syslog_msg_fn)(void *opaque, const struct syslog_msg *msg);

struct syslog_net;
struct metrics;

/* A receiver set with no listener yet; m may be NULL (no metrics). */
struct syslog_net *syslog_net_new(syslog_msg_fn fn, void *opaque, struct metrics *m);

/* Bind a listener now (so that a taken port or a bad certificate shows at
 * start), before syslog_net_start. Returns the listener's index (>= 0), or
 * a negative errno with the reason in err ("127.0.0.1:514: Address already
 * in use"). */
int syslog_net_add(struct syslog_net *n, const struct syslog_listener_conf *conf, char *err,
                   size_t errn);

/* The port listener idx is bound to (useful when configured as port 0). */
uint16_t syslog_net_port(const struct syslog_net *n, int idx);

/* kenchi's own log lines about the receivers' problems, each with the
 * source's name, the peer and the reason: a TLS handshake refused (with
 * OpenSSL's reason) or not finished in time, a malformed frame, a
 * connection refused at max_connections, no file descriptor left. At most
 * SYSLOG_NET_LOG_PER_S lines per listener and second (the rest are counted
 * and summed up). Called on the I/O thread; set before syslog_net_start. */
#define SYSLOG_NET_LOG_PER_S 10
typedef void (*syslog_log_fn)(void *opaque, const char *line);
void syslog_net_set_log(struct syslog_net *n, syslog_log_fn fn, void *opaque);

/* Start the I/O thread. Returns 0 or a negative errno. */
int syslog_net_start(struct syslog_net *n);

/* The consumer has room again: paused connections are offered their
 * pending message and read again. Any thread; cheap when nothing is
 * paused. The consumer calls it whenever it makes room after having
 * refused a message (a resume that comes before the refusal it answers is
 * not remembered). */
void syslog_net_resume(struct syslog_net *n);

/* Close every listener and connection and join the thread. Messages not
 * yet taken (paused connections, an unterminated last line) are lost with
 * the connection, as with any syslog sender that has no acknowledgement. */
void syslog_net_stop(struct syslog_net *n);

/* Stop if needed, then free. NULL is fine. */
void syslog_net_free(struct syslog_net *n);

#endif
