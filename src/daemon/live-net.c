/*
 * live-net.c - the network parts of the live daemon: syslog sources (the
 * receivers of source/syslog-net.c feeding the daemon's queue) and the
 * metrics endpoint (daemon/http.c) as a service beside the pipeline.
 *
 * Each `type: syslog` source has its own receiver set and I/O thread.
 * Every sending host is one stream ("syslog:SOURCE:HOST", the events'
 * source.file), numbered by the daemon (live_push with pos 0), so the
 * events of one host keep their order and their ids stay unique across
 * restarts. Back-pressure: a TCP or TLS message that finds the queue full
 * pauses its connection (live_push_pausable; the receiver stops reading
 * it, so the sender's TCP window closes) until the worker has made room;
 * a UDP datagram that finds the queue full is dropped and counted
 * (kenchi_dropped_total{reason="queue_full"}).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "daemon/http.h"
#include "daemon/live.h"
#include "daemon/log.h"
#include "source/syslog-net.h"
#include "util/strmap.h"

/* Streams kept per source; past this, further hosts share one stream. */
#define MAX_PEER_STREAMS 4096

struct syslog_source {
    struct syslog_listener_conf conf;
    struct syslog_net *net;
    struct live *l;
    char *name;
    char *format;
    struct strmap peers; /* host -> index into streams */
    struct live_stream **streams;
    size_t nstreams;
    struct live_stream *shared; /* for hosts past MAX_PEER_STREAMS */
};

static int syslog_configure(struct conf_ctx *c, const struct ynode *node, void **state)
{
    struct syslog_source *ss = calloc(1, sizeof(*ss));
    if (!ss)
        return -1;
    *state = ss;
    strmap_init(&ss->peers);
    return syslog_listener_configure(c, node, &ss->conf) < 0 ? -1 : 0;
}

/* The host part of "ip:port" or "[v6]:port". */
static size_t peer_host(const char *peer, const char **host)
{
    if (peer[0] == '[') {
        const char *close = strchr(peer, ']');
        *host = peer + 1;
        return close ? (size_t)(close - peer - 1) : strlen(peer + 1);
    }
    const char *colon = strrchr(peer, ':');
    *host = peer;
    return colon ? (size_t)(colon - peer) : strlen(peer);
}

static struct live_stream *stream_for(struct syslog_source *ss, const char *peer)
{
    const char *host;
    size_t n = peer_host(peer, &host);
    uint64_t *idx = strmap_get(&ss->peers, host, n);
    if (idx)
        return ss->streams[*idx];
    char label[600];
    if (ss->nstreams >= MAX_PEER_STREAMS) {
        if (!ss->shared) {
            snprintf(label, sizeof(label), "syslog:%s:other-hosts", ss->name);
            ss->shared = live_stream_open(ss->l, ss->name, label, ss->format);
        }
        return ss->shared;
    }
    struct live_stream **grown = realloc(ss->streams, (ss->nstreams + 1) * sizeof(*ss->streams));
    if (!grown)
        return NULL;
    ss->streams = grown;
    snprintf(label, sizeof(label), "syslog:%s:%.*s", ss->name, (int)n, host);
    struct live_stream *s = live_stream_open(ss->l, ss->name, label, ss->format);
    if (!s)
        return NULL;
    bool found;
    uint64_t *slot = strmap_put(&ss->peers, host, n, &found);
    if (!slot) {
        live_stream_close(ss->l, s);
        return NULL;
    }
    *slot = ss->nstreams;
    ss->streams[ss->nstreams++] = s;
    return s;
}

static void room(void *opaque)
{
    struct syslog_source *ss = opaque;
    syslog_net_resume(ss->net);
}

static int on_message(void *opaque, const struct syslog_msg *m)
{
    struct syslog_source *ss = opaque;
    struct live_stream *s = stream_for(ss, m->peer);
    if (!s)
        return 0; /* out of memory: the message is lost, as with a full UDP socket */
    /* UDP: never wait (a full queue drops and counts the datagram) */
    if (m->proto == SYSLOG_PROTO_UDP) {
        live_push(ss->l, s, m->data, m->len, 0, true);
        return 0;
    }
    /* streams: a full queue pauses the connection, which is resumed when
     * the worker has made room (so this thread goes on serving the other
     * connections and the listener meanwhile) */
    int rc = live_push_pausable(ss->l, s, m->data, m->len, room, ss);
    return rc == -EAGAIN ? -EAGAIN : 0;
}

static void on_log(void *opaque, const char *line)
{
    (void)opaque;
    klog(LOGL_WARNING, "%s", line);
}

static int syslog_start(void *state, struct live *l, const char *name, const char *format,
                        char *err, size_t errn)
{
    struct syslog_source *ss = state;
    ss->l = l;
    ss->name = strdup(name);
    ss->format = format ? strdup(format) : NULL;
    if (!ss->name || (format && !ss->format))
        return -ENOMEM;
    ss->net = syslog_net_new(on_message, ss, live_metrics(l));
    if (!ss->net)
        return -ENOMEM;
    syslog_net_set_log(ss->net, on_log, ss);
    int rc = syslog_net_add(ss->net, &ss->conf, err, errn);
    if (rc < 0)
        return rc;
    rc = syslog_net_start(ss->net);
    if (rc < 0) {
        snprintf(err, errn, "starting the receiver thread: %s", strerror(-rc));
        return rc;
    }
    klog(LOGL_INFO, "source %s: syslog over %s on %s:%u", name,
         ss->conf.protocol == SYSLOG_PROTO_UDP   ? "UDP"
         : ss->conf.protocol == SYSLOG_PROTO_TCP ? "TCP"
                                                 : "TLS",
         ss->conf.listen.host, (unsigned)syslog_net_port(ss->net, rc));
    return 0;
}

static void syslog_stop(void *state)
{
    struct syslog_source *ss = state;
    if (!ss->net)
        return;
    syslog_net_stop(ss->net);
    live_room_forget(ss->l, ss);
    for (size_t i = 0; i < ss->nstreams; i++)
        live_stream_close(ss->l, ss->streams[i]);
    if (ss->shared)
        live_stream_close(ss->l, ss->shared);
    ss->nstreams = 0;
    ss->shared = NULL;
}

static void syslog_free(void *state)
{
    struct syslog_source *ss = state;
    if (!ss)
        return;
    syslog_net_free(ss->net);
    strmap_free(&ss->peers);
    free(ss->streams);
    free(ss->name);
    free(ss->format);
    free(ss);
}

const struct source_ops source_syslog = {
    .type = "syslog",
    .configure = syslog_configure,
    .start = syslog_start,
    .stop = syslog_stop,
    .free = syslog_free,
};

/* ---- the metrics endpoint ------------------------------------------------ */

static int metrics_start(struct live *l, const struct config *cf, void **state, char *err,
                         size_t errn)
{
    *state = NULL;
    if (!cf->metrics_enabled)
        return 0;
    struct http_server *h = http_server_start(cf->metrics_listen.host, cf->metrics_listen.port,
                                              live_metrics(l), NULL, NULL, err, errn);
    if (!h)
        return -EADDRNOTAVAIL;
    klog(LOGL_INFO, "metrics on http://%s:%u/metrics", cf->metrics_listen.host,
         (unsigned)http_server_port(h));
    *state = h;
    return 0;
}

static void metrics_stop(void *state)
{
    http_server_stop(state);
}

const struct live_service live_metrics_service = {
    .name = "metrics",
    .start = metrics_start,
    .stop = metrics_stop,
};
