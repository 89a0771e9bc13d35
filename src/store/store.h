/*
 * store.h - the embedded event store: every event kept for months, hunts
 * answered from indexes.
 *
 * One store is one SQLite file (see store-sqlite.c for the schema and the
 * design). Writing is asynchronous: store_add_batch() copies a batch of
 * events into a buffer of its own and hands it to the store's writer
 * thread through a bounded queue, so the pipeline only waits when the queue
 * is full (back-pressure; memory stays bounded). Reading (store_search)
 * uses its own connection and can run while the writer writes.
 *
 * Every function returns 0 or a negative errno; store_errmsg() then holds a
 * sentence that names the file and the cause (disk full, not a kenchi store,
 * locked by another process, ...), ready to print after "kenchi: ".
 */
#ifndef KENCHI_STORE_STORE_H
#define KENCHI_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "pipeline/pipeline.h"
#include "util/buf.h"

/* The store verbs use when none is named (DESIGN: --store FILE). */
#define STORE_DEFAULT_PATH "kenchi.db"

/* The schema version this build writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 1

struct store;

struct store_opts {
    bool read_only;       /* open an existing store for queries only */
    size_t queue_batches; /* bound of the writer's queue, in batches (default 8) */
    size_t commit_rows;   /* rows per transaction at most (default 16384) */
    int zstd_level;       /* zstd level of stored documents (default 1: with the
                             dictionary as small as level 3, and 25 % faster) */
    int busy_timeout_ms;  /* wait for another process's lock (default 5000) */
    uint64_t max_bytes;   /* refuse to grow the file past this (-ENOSPC); 0: no limit */
};

void store_opts_default(struct store_opts *o);

/* Open (and, unless read_only, create or migrate) the store at path. On
 * success *out owns the connection and, when writing, the writer thread.
 * On failure *out is still set when it could be allocated, so that
 * store_errmsg() can explain (store_errmsg(NULL) says "out of memory");
 * free it with store_close(). Returns 0, -ENOENT (read_only and no such
 * file), -EISDIR, -EBADMSG (not a kenchi store, or damaged),
 * -EPROTONOSUPPORT (written by a newer kenchi; or, read_only, by an older
 * one), -EACCES, -EBUSY, -ENOSPC, -EIO, -ENOMEM. */
int store_open(const char *path, const struct store_opts *o, struct store **out);

/* Queue n events for storage. Copies everything it keeps before returning:
 * evs may be reused as soon as this returns. Blocks while the queue is full.
 * Returns 0, or the writer's first error (then nothing more is stored).
 * An event already stored (same file, line or record, and id) is not an
 * error: it is counted as a duplicate and not stored again. */
int store_add_batch(struct store *s, const struct event *evs, size_t n);

/* Wait until everything queued so far is committed. Returns 0 or the
 * writer's first error. */
int store_sync(struct store *s);

/* A pipeline sink that calls store_add_batch(). */
struct event_sink store_sink(struct store *s);

/* Flush, stop the writer, close. Returns 0 or the first error seen (a
 * write error that was not yet reported included). Frees s; NULL is a
 * no-op. */
int store_close(struct store *s);

/* The message of the last error ("" when none). Valid until the next call
 * on s or store_close(). */
const char *store_errmsg(const struct store *s);

struct store_stats {
    uint64_t events_in;     /* events handed to store_add_batch() */
    uint64_t events_stored; /* new rows committed */
    uint64_t events_dup;    /* already stored (same event id) */
    uint64_t doc_bytes_in;  /* JSON bytes of the stored events */
    uint64_t doc_bytes_out; /* bytes written for them (the first rows of a new
                               store are counted uncompressed, as first written) */
    uint64_t transactions;
    uint64_t writer_cpu_ns; /* CPU time the writer thread has used */
};

/* Counters so far (of committed work; call store_sync() first for exact
 * figures). */
void store_get_stats(struct store *s, struct store_stats *st);

/* Size of the store on disk: the file and its write-ahead log. */
int64_t store_file_bytes(const char *path);

/* Number of events in the store, or a negative errno. */
int64_t store_count(struct store *s);

/* ---- queries --------------------------------------------------------- */

struct store_query {
    const char *user;  /* user.name, case-insensitive; NULL: any */
    const char *ip;    /* source.ip or destination.ip: an address, an
                          address/prefix (CIDR), or any other text (exact) */
    const char *email; /* email.from.address or email.to.address,
                          case-insensitive */
    int64_t since_ns;  /* ts >= since; TIME_NONE: no bound */
    int64_t until_ns;  /* ts <  until; TIME_NONE: no bound */
    uint64_t limit;    /* 0: all */
};

void store_query_init(struct store_query *q);

/* One result row; every pointer is valid only during the callback. */
struct store_row {
    int64_t ts_ns; /* TIME_NONE when the event had no time */
    uint64_t id;
    const char *module;
    const char *host; /* NULL when absent (likewise below) */
    const char *user;
    const char *source_ip;
    const char *destination_ip;
    const char *action;
    const char *outcome;
    const char *json; /* the event as event_to_json() wrote it */
    size_t json_len;
};

/* Rows matching q, in time order (events without a time first), then in
 * storage order. cb returns 0 to go on, or a negative errno to stop (which
 * is then returned). Returns 0 or a negative errno; -EINVAL with a message
 * when q->ip is not usable. */
int store_search(struct store *s, const struct store_query *q,
                 int (*cb)(void *opaque, const struct store_row *r), void *opaque);

/* Append SQLite's plan for q (EXPLAIN QUERY PLAN, one step per line) to
 * out, for tests and `kenchi search --explain`. Returns 0 or a negative
 * errno. */
int store_explain(struct store *s, const struct store_query *q, struct buf *out);

/* ---- window scans ------------------------------------------------------ */

/* A time-bounded scan: every event of [since, until) that passes the
 * filters, read through the time index (no entity key). For questions no
 * hunting key answers, such as joining a mail's log lines by their Postfix
 * queue id; its cost grows with the window, not with the answer. */
struct store_scan {
    int64_t since_ns;           /* ts >= since; TIME_NONE: no bound */
    int64_t until_ns;           /* ts <  until; TIME_NONE: no bound */
    const char *module;         /* event.module (the decoder); NULL: any */
    const char *host;           /* host.name, case-insensitive; NULL: any */
    const char *const *actions; /* event.action is one of these (at most 16) */
    size_t nactions;            /* 0: any action */
};

/* Rows of q in time order, then storage order; events without a time are
 * never part of a window. cb as for store_search(). Returns 0 or a
 * negative errno (-EINVAL with a message for more than 16 actions). */
int store_scan(struct store *s, const struct store_scan *q,
               int (*cb)(void *opaque, const struct store_row *r), void *opaque);

/* SQLite's plan for q, as store_explain(). */
int store_scan_explain(struct store *s, const struct store_scan *q, struct buf *out);

#endif
