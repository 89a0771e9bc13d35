/*
 * output.h - where alerts go: the interface every kind of output implements.
 *
 * The daemon keeps every alert in the store, durably and in commit order,
 * each with a sequence number (seq: 1, 2, ... never reused). The store is
 * also the outputs' queue on disk: each configured output has a cursor
 * there, the seq of the last alert it delivered, and one delivery thread
 * that reads the alerts after its cursor and hands them to deliver() one
 * at a time, in order. When deliver() says the destination is unavailable
 * (-EAGAIN) the thread waits (exponential back-off, the output's
 * `retry` settings) and offers the same alert again: alerts wait in the
 * store while a receiver is down and arrive in order when it is back.
 *
 * Delivery is at least once in general and exactly once where the output
 * can tell what its destination already holds (last_delivered: a file
 * output reads its own last line after a crash). Outputs that cannot tell
 * send the alert's stable id so the receiver can drop repeats.
 *
 * Configuration: an output is one mapping of the `outputs:` list of the
 * configuration file (docs/configuration.md). The keys every output takes
 * (OUTPUT_COMMON_KEYS: type, name, min_level, kinds, retry) are read by the
 * daemon;
 * configure() reads the rest and must accept the common ones
 * (output_check_keys).
 */
#ifndef KENCHI_OUTPUT_OUTPUT_H
#define KENCHI_OUTPUT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "config/conf.h"

/* One alert as stored. Strings are NUL-terminated; "" when absent. */
struct alert_msg {
    uint64_t seq;          /* commit order, from 1 */
    int64_t ts_ns;         /* the alert's @timestamp */
    const char *id;        /* stable: the same detection of the same events, the same id */
    const char *kind;      /* sigma, correlation, intel, anomaly */
    const char *rule_id;   /* rule.id, or the indicator for intel alerts */
    const char *rule_name; /* rule.name */
    const char *level;     /* informational, low, medium, high, critical */
    const char *json;      /* the alert: one JSON object, no newline (docs/alerts.md) */
    size_t n;              /* strlen(json) */
};

struct output_ops {
    const char *type; /* the `type:` value: "jsonl", "webhook", "syslog", "exec" */
    /* Read and check the output's mapping; nothing is opened (`kenchi
     * config check` calls only this). Problems are reported through c.
     * Returns 0 with *state holding the settings, or -1 (*state then NULL,
     * or a state that close() frees). */
    int (*configure)(struct conf_ctx *c, const struct ynode *node, void **state);
    /* Open files and connections. Returns 0, or a negative errno with a
     * sentence in err. A destination that is down at start is not an
     * error: deliver() then returns -EAGAIN until it is back. */
    int (*open)(void *state, char *err, size_t errn);
    /* Exactly-once outputs: the seq of the last alert the destination
     * already holds (0: none). NULL when the output cannot tell. */
    int (*last_delivered)(void *state, uint64_t *seq);
    /* Deliver one alert. Returns 0 when delivered; -EAGAIN when the
     * destination is unavailable now (the same alert is offered again
     * after a back-off); another negative errno when this alert can never
     * be delivered (reported with err, counted, and skipped). */
    int (*deliver)(void *state, const struct alert_msg *m, char *err, size_t errn);
    /* SIGHUP: reopen files (log rotation). NULL when nothing to do. */
    int (*reopen)(void *state);
    /* Flush, close and free the state (also after configure() alone). */
    void (*close)(void *state);
    /* After a run of deliveries, before the cursor is saved: make what
     * was delivered durable (fsync). Returns 0 or a negative errno. NULL
     * when deliver() is durable by itself. */
    int (*flush)(void *state);
    /* After deliver() returned -EAGAIN: how long the destination asked to
     * be left alone (HTTP Retry-After), in nanoseconds; 0 when it did not
     * say. The delivery thread waits the longer of this and its back-off.
     * NULL when the kind never asks. */
    int64_t (*retry_after_ns)(void *state);
};

/* Keys every output mapping may have, read by the daemon. */
#define OUTPUT_COMMON_KEYS "type", "name", "min_level", "kinds", "retry"

/* Report every key of an output mapping that is neither common nor one of
 * extra (NULL-terminated); returns their number (conf_check_keys). */
unsigned output_check_keys(struct conf_ctx *c, const struct ynode *node, const char *const *extra);

/* Back-off of an output's delivery thread after -EAGAIN: the first wait
 * is initial_ns, each next one doubled, up to max_ns. */
struct output_retry {
    int64_t initial_ns;
    int64_t max_ns;
};
#define OUTPUT_RETRY_INITIAL_NS 1000000000LL   /* 1s */
#define OUTPUT_RETRY_MAX_NS     300000000000LL /* 5m */
/* The key of those settings in an output mapping (`retry: {initial: 1s,
 * max: 5m}`); the kinds that retry list it among their keys. */
#define OUTPUT_RETRY_KEY "retry"

/* Read the `retry` mapping of an output's mapping node into *r, defaults
 * first (so an absent key gives the defaults). Returns 0, or -1 with the
 * problems reported through c (initial above max, unknown keys...). */
int output_retry_settings(struct conf_ctx *c, const struct ynode *node, struct output_retry *r);

/* The output kind named type, or NULL. */
const struct output_ops *output_find(const char *type);
/* The i-th kind (0, 1, ...), NULL past the last: for messages that list
 * them. */
const struct output_ops *output_kind(size_t i);

#endif
