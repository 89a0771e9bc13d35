/*
 * http.h - the metrics endpoint: a minimal HTTP/1.1 server for Prometheus
 * and health checks.
 *
 * It serves two paths, on its own thread, one request per connection
 * ("Connection: close"):
 *
 *   GET /metrics   the metrics registry in the Prometheus text format
 *                  (Content-Type: text/plain; version=0.0.4)
 *   GET /health    200 "ok", or 503 with the reason the health callback
 *                  gives (a full queue, a store that cannot write...)
 *
 * HEAD is answered like GET without the body; other methods get 405, other
 * paths 404. It is meant for a loopback address (the default is
 * 127.0.0.1:9464): there is no authentication and no TLS. Everything is
 * bounded: HTTP_MAX_REQUEST bytes of request (more: 431), HTTP_TIMEOUT_MS to
 * send the request and read the answer, HTTP_MAX_CONNS connections at once
 * (more are closed at once).
 */
#ifndef KENCHI_DAEMON_HTTP_H
#define KENCHI_DAEMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/conf.h"

#define HTTP_MAX_REQUEST     8192
#define HTTP_TIMEOUT_MS      5000
#define HTTP_MAX_CONNS       16
#define METRICS_DEFAULT_PORT 9464

/* The `metrics:` section of the configuration. */
struct http_conf {
    bool enabled;            /* enabled: default true */
    struct conf_addr listen; /* listen: default 127.0.0.1:9464 */
};

/* Read the `metrics:` mapping (node may be NULL: the defaults). Returns 0
 * or -EINVAL (problems reported through c). */
int http_configure(struct conf_ctx *c, const struct ynode *node, struct http_conf *out);

/* Health: 0 when healthy; otherwise non-zero with a one-line reason
 * written into reason[0..n). Called on the server's thread. */
typedef int (*http_health_fn)(void *opaque, char *reason, size_t n);

struct http_server;
struct metrics;

/* Bind host:port (port 0: any free port) and start serving m. health may
 * be NULL (always healthy). Returns the server, or NULL with the reason in
 * err ("127.0.0.1:9464: Address already in use"). */
struct http_server *http_server_start(const char *host, uint16_t port, struct metrics *m,
                                      http_health_fn health, void *opaque, char *err, size_t errn);

/* The port the server is bound to. */
uint16_t http_server_port(const struct http_server *s);

/* Stop the thread, close every connection, free. NULL is fine. */
void http_server_stop(struct http_server *s);

/* ---- the request parser (exposed for its fuzz target) ---- */

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_request {
    enum http_method method;
    const char *path; /* into the buffer; without the query string */
    size_t path_len;
    int minor; /* HTTP/1.minor */
};

/* Parse the request head in buf[0..n). Returns 1 when the head is complete
 * (*req filled), 0 when more bytes are needed, or the status to answer:
 * 400 (malformed), 505 (not HTTP/1.x). */
int http_parse_request(const char *buf, size_t n, struct http_request *req);

#endif
