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
#include "intel/ioc.h"
#include "pipeline/pipeline.h"
#include "util/buf.h"

/* The store verbs use when none is named (DESIGN: --store FILE). */
#define STORE_DEFAULT_PATH "kenchi.db"

/* The schema version this build writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 5

struct store;

struct store_opts {
    bool read_only;       /* open an existing store for queries only */
    size_t queue_batches; /* bound of the writer's queue, in batches (default 8) */
    size_t commit_rows;   /* rows per transaction at most (default 16384) */
    int zstd_level;       /* zstd level of stored documents (default 1: with the
                             dictionary as small as level 3, and 25 % faster) */
    int busy_timeout_ms;  /* wait for another process's lock (default 5000) */
    uint64_t max_bytes;   /* refuse to grow the file past this (-ENOSPC); 0: no limit */
    size_t hunt_entries;  /* index entries a hunt holds to read the index in one
                             sweep (default 4 Mi: 96 MiB); past it, probe by probe */
    size_t wal_pages;     /* WAL pages past which the writer restarts the WAL
                             (default 16384: 64 MiB; store-sqlite.c, "checkpoints") */
    bool hold_events;     /* keep added events in the writer's open transaction
                             until store_live_commit() commits them together
                             with their alerts (the live daemon); default
                             false: committed when the queue runs dry */
    size_t hunt_threads;  /* threads reading a hunt's pages, the caller's
                             included: the others read for it (see
                             store_ahead_rows); 1 reads one page at a time;
                             0: $KENCHI_HUNT_THREADS, else 64; at most 129 */
    size_t hunt_defer;    /* with hold_events: hunting entries inserted into the
                             index in sorted batches of this many (default
                             256 Ki), or of what 10 s logged (store-sqlite.c,
                             "Deferred hunting entries") */
};

void store_opts_default(struct store_opts *o);

/* Open (and, unless read_only, create or migrate) the store at path. On
 * success *out owns the connection and, when writing, the writer thread.
 * On failure *out is still set when it could be allocated, so that
 * store_errmsg() can explain (store_errmsg(NULL) says "out of memory");
 * free it with store_close(). Returns 0, -ENOENT (read_only and no such
 * file), -EISDIR, -EBADMSG (not a kenchi store, or damaged),
 * -EPROTONOSUPPORT (written by a newer kenchi), -EACCES, -EBUSY, -ENOSPC,
 * -EIO, -ENOMEM. Opening for writing upgrades an older store (one
 * transaction); opened read_only, an older store can be searched, and what
 * needs the newer schema (intelligence, hunts) fails with -EPROTONOSUPPORT
 * and says how to upgrade. */
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
    uint64_t ckpt_cpu_ns;   /* CPU time the checkpointer thread has used */
};

/* Counters so far (of committed work; call store_sync() first for exact
 * figures). */
void store_get_stats(struct store *s, struct store_stats *st);

/* Size of the store on disk: the file and its write-ahead log. */
int64_t store_file_bytes(const char *path);

/* The schema version of the open store's file: STORE_SCHEMA_VERSION, or
 * older for a store opened read_only that was not upgraded yet. */
int store_schema_version(const struct store *s);

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
    const char *email_from; /* email.from.address */
    const char *email_to;   /* email.to.address */
    const char *file;       /* origin path ("-" for standard input) */
    uint64_t line;          /* line, or record number */
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
/* ---- intelligence --------------------------------------------------------
 *
 * Indicators are kept with their provenance: every import (one
 * store_intel_import() call: one file, URL or TAXII page) is a row with
 * its counts; every metadata record (struct ioc_meta: one STIX indicator
 * object, one MISP event, one feed file) a row; every indicator a row
 * pointing at both. The identity of an indicator is (feed, ref, type,
 * value): the metadata record is identified by (feed, ref) (a missing ref
 * counts as ""), the indicator by its type and normalised value under it.
 * Re-importing a record replaces its indicator set: values still present
 * keep their identity and are updated (detect flag, warning, metadata,
 * validity), new ones are added, those no longer present are removed - so
 * importing the same feed again never duplicates anything.
 *
 * These calls may run while the store's writer stores events: writes go
 * through the writer thread between its transactions (SQLite allows one
 * writer; nothing waits on a lock), reads use the query connection (WAL:
 * readers never block the writer). A store opened read_only can be read. */

struct store_intel_import {
    int64_t id;
    int64_t time_ns; /* when it was imported (UTC) */
    const char *source;
    const char *format;
    uint64_t indicators; /* in the batch */
    uint64_t added;      /* new to the store */
    uint64_t updated;    /* already there (same feed, ref, type, value) */
    uint64_t removed;    /* dropped from a re-imported record */
    uint64_t problems;   /* problems the reader reported (kept and dropped) */
    uint64_t warned;     /* on a warning list: kept, never alerting */
};

/* Store the batch b (its metas and indicators; its problems are only
 * counted) in one transaction: on any error (disk full, max_bytes
 * reached) nothing of it is written. *import_id (may be NULL) receives the
 * new import's id, *counts (may be NULL) its row. Returns 0, -EROFS when
 * read-only, -ENOSPC, -EPROTONOSUPPORT, or another negative errno. */
int store_intel_import(struct store *s, const struct ioc_batch *b, int64_t *import_id,
                       struct store_intel_import *counts);

/* A streamed import, for feeds too large to hold as one batch: fn runs on
 * the store's writer thread (the caller waits) and hands the store one
 * chunk after another with store_intel_stream_add(), then ends the import
 * with store_intel_stream_end(); all of one import is one transaction, so
 * nothing of it is written unless it ends well. fn may run several imports
 * one after the other. Chunks follow intel_read_opts' chunk_fn contract:
 * metas[i] is the same record in every chunk of an import (a chunk may add
 * records), iocs and problems are new in each. fn must not call other
 * store functions; what it returns is returned (an import left open is
 * rolled back). On an error of the add/end calls store_errmsg() explains
 * once fn has returned. */
struct store_intel_stream;
typedef int (*store_intel_stream_fn)(void *opaque, struct store_intel_stream *x);
int store_intel_import_stream(struct store *s, store_intel_stream_fn fn, void *opaque);
/* Store the indicators of b in the current import (begun by the first
 * call). Returns 0 or a negative errno (the import is then rolled back). */
int store_intel_stream_add(struct store_intel_stream *x, const struct ioc_batch *b);
/* Store b (NULL: nothing more) and commit the import; its id and counts
 * (source and format NULL: they are b's) as store_intel_import(). */
int store_intel_stream_end(struct store_intel_stream *x, const struct ioc_batch *b,
                           int64_t *import_id, struct store_intel_import *counts);
/* Roll back the current import, if any. */
void store_intel_stream_cancel(struct store_intel_stream *x);

/* Called per stored indicator: ioc->meta is 0 (meaningless here), meta_id
 * identifies the metadata record (equal ids: the same record, so a caller
 * can share it); everything is valid only during the call. Return 0 to go
 * on, a negative errno to stop (then returned). */
typedef int (*store_intel_cb)(void *opaque, const struct ioc *ioc, const struct ioc_meta *meta,
                              int64_t meta_id);

/* Stream the indicators of import import_id (the ones it added or last
 * updated), or of all imports when import_id is 0, in storage order.
 * Revoked and expired ones included (meta says so). Returns 0, -ENOENT
 * (no such import), or a negative errno. */
int store_intel_load(struct store *s, int64_t import_id, store_intel_cb cb, void *opaque);

/* The imports, oldest first. Strings are valid during the call. */
int store_intel_imports(struct store *s,
                        int (*cb)(void *opaque, const struct store_intel_import *imp),
                        void *opaque);

/* Remove the indicators import_id added or last updated (an indicator
 * re-imported by a later import belongs to that one), the metadata left
 * without indicators, and the import. Returns 0, -ENOENT, or a negative
 * errno. */
int store_intel_remove(struct store *s, int64_t import_id);

/* Number of stored indicators, or a negative errno. */
int64_t store_intel_count(struct store *s);

/* ---- state ----------------------------------------------------------------
 * A small key/value table for what must survive restarts (the TAXII
 * puller's cursors: "taxii:<collection url>" -> added_after). */

/* *value receives a malloc'ed copy (the caller frees it). Returns 0,
 * -ENOENT when key is not set, or a negative errno. */
int store_state_get(struct store *s, const char *key, char **value);
/* Set (value non-NULL) or delete (value NULL) key. Returns 0, -EROFS, or
 * a negative errno. */
int store_state_set(struct store *s, const char *key, const char *value);

/* ---- retro-hunt reads -----------------------------------------------------
 * What src/hunt/ builds on: indicator values through the day summary and
 * the hunting index (every ioc type but IOC_PATTERN), events by row id. */

struct store_probe {
    enum ioc_type type;
    const char *value; /* normalised as ioc_normalise() does */
    int64_t since_ns;  /* events at or after; TIME_NONE: no bound */
    int64_t until_ns;  /* events before; TIME_NONE: no bound. With either
                          bound, events without a time are left out */
};

struct store_hit {
    size_t probe; /* index into the probes */
    int64_t ts_ns;
    int64_t ev; /* the event's row id (store_event_get) */
};

/* Progress of store_hunt: phase 1 reads the day summary (done/total in
 * days), phase 2 the index (in probes). */
typedef void (*store_progress_cb)(void *opaque, int phase, uint64_t done, uint64_t total);

/* Find the events of every probe: an IP (or CIDR block) as source.ip or
 * destination.ip, an e-mail address as sender or recipient, a domain as
 * itself or any subdomain (in DNS questions, URL hosts, Zeek http host and
 * ssl server_name, e-mail addresses), a URL, a hash, a file name, a user
 * agent. cb gets each (probe, event) once, grouped by probe in probe
 * order, within a probe in time order. A probe whose value is not of its
 * type (or IOC_PATTERN) finds nothing. Never reads the events table; never
 * decodes a document. Returns 0 or a negative errno (cb's included). */
int store_hunt(struct store *s, const struct store_probe *probes, size_t n,
               int (*cb)(void *opaque, const struct store_hit *h), store_progress_cb progress,
               void *opaque);

/* What the last store_hunt() read. */
struct store_hunt_stats {
    uint64_t days;            /* days of the summary read */
    uint64_t summary_entries; /* their (fingerprint, hours) entries */
    uint64_t candidates;      /* (probe, hour) pairs the summary named */
    uint64_t reads;           /* index range reads (one per key kind and hour) */
    uint64_t entries;         /* index entries read */
    uint64_t workers;         /* the most threads one read had reading for it (store_ahead_*;
                                 kept across hunts until the store is closed) */
};
void store_hunt_stats(const struct store *s, struct store_hunt_stats *st);

/* Append the query plans of the statements store_hunt runs (EXPLAIN
 * QUERY PLAN, one step a line), for tests. */
int store_hunt_explain(struct store *s, struct buf *out);

/* Hold one read snapshot on the query connection across the calls that
 * follow (store_hunt, store_event_get, ...) until store_read_end(): they
 * see the same data, and skip taking SQLite's lock per statement. While it
 * is held on a live store the write-ahead log cannot be folded back, so
 * hold it for one hunt, not longer. Returns 0 or a negative errno. */
int store_read_begin(struct store *s);
void store_read_end(struct store *s);

/* The event with row id ev into *r (json too when with_doc). Everything is
 * valid until the next call on s. Returns 0, -ENOENT, or a negative errno. */
int store_event_get(struct store *s, int64_t ev, bool with_doc, struct store_row *r);

/* The events of the Postfix message with queue id qid logged around time
 * ts_ns (from an hour before to an hour after its hour) that name an
 * account, address or mailbox, through the hunting index: cb(opaque, ev,
 * ts). Returns 0 or a negative errno (cb's included). */
int store_message_events(struct store *s, const char *qid, int64_t ts_ns,
                         int (*cb)(void *opaque, int64_t ev, int64_t ts_ns), void *opaque);

/* The row ids of the events of [since, until) (events without a time are
 * never part of a window), in time order then row order: cb(opaque, ev,
 * ts); cb may read events (store_event_get) meanwhile. For what no hunting
 * key answers (a STIX pattern without an indexable value): its cost grows
 * with the window. Returns 0 or a negative errno (cb's included). */
int store_window_events(struct store *s, int64_t since_ns, int64_t until_ns,
                        int (*cb)(void *opaque, int64_t ev, int64_t ts_ns), void *opaque);

/* About how many events were stored before the store was upgraded to
 * schema 2 (they have no domain, URL, hash, file name, user agent or
 * queue id keys): 0 for a store created with schema 2. Negative errno on
 * error. */
int64_t store_events_before_v2(struct store *s);

/* Reading ahead and handing over. A hunt on a store larger than memory
 * waits on the disk, one scattered page at a time; the disk serves several
 * requests at once. So worker threads with read-only connections of their
 * own read the caller's events ids[i] (or the lines of the messages
 * qids[i] around ts_ns[i]) in that order, a little ahead of it, and hand
 * what they read over: store_ahead_row() and store_ahead_message() give
 * item i as store_event_get(s, ids[i], with_doc, r) and
 * store_message_events(s, qids[i], ts_ns[i], cb, opaque) would, and read
 * it themselves when no worker could (also when a is NULL). The caller
 * takes the items in order, 0, 1, 2, ...; a row stays valid until the
 * next call. Rows are never changed once stored, so a row read on a
 * worker's snapshot is the caller's; a message's lines are cut to the
 * rows the caller's snapshot held when the workers started. docs[i]
 * (NULL: none) says that the caller may ask for the document of row i.
 * store_ahead_end() stops and frees (NULL is fine). NULL when
 * opts.hunt_threads is 1, n is small, or on no memory. The arrays are
 * copied. */
struct store_ahead;
struct store_ahead *store_ahead_rows(struct store *s, const int64_t *ids, const bool *docs,
                                     size_t n);
int store_ahead_row(struct store *s, struct store_ahead *a, size_t i, int64_t ev, bool with_doc,
                    struct store_row *r);
struct store_ahead *store_ahead_messages(struct store *s, const char *const *qids,
                                         const int64_t *ts_ns, size_t n);
int store_ahead_message(struct store *s, struct store_ahead *a, size_t i, const char *qid,
                        int64_t ts_ns, int (*cb)(void *opaque, int64_t ev, int64_t ts_ns),
                        void *opaque);
void store_ahead_end(struct store_ahead *a);

/* ---- live daemon (store-live.c) -------------------------------------------
 * Schema 3: the alerts of `kenchi run` (each with a seq, its commit order,
 * and a stable id: an alert already held is not added again), the read
 * offsets of tailed files, and the outputs' cursors. */

struct store_alert {
    int64_t ts_ns;  /* TIME_NONE: none */
    const char *id; /* stable (docs/alerts.md) */
    const char *kind;
    const char *rule_id;
    const char *rule_name;
    const char *level;
    const char *json; /* the alert, one JSON object */
    size_t n;
};

/* A tailed file's identity and how far its events are committed. */
struct store_offset {
    uint64_t dev, ino;
    uint64_t fp; /* XXH3-64 of the file's first fplen bytes */
    uint32_t fplen;
    const char *name; /* the events' source.file */
    uint64_t offset;  /* bytes read and committed */
    uint64_t line;    /* lines up to offset */
};

/* In one transaction (on the writer thread): add the alerts whose id is
 * new, in order, and save the offsets. Call after store_sync(), so that
 * the events the offsets cover are committed first. *added: alerts added;
 * *last_seq: the highest seq in the store. Returns 0 or a negative errno. */
int store_live_commit(struct store *s, const struct store_alert *a, size_t na,
                      const struct store_offset *o, size_t no, uint64_t *added, uint64_t *last_seq);
/* The same, also saving the Sigma correlation engine's state (a blob of
 * corr_engine_save; NULL: leave the saved one as it is) in the same
 * transaction: the state then always matches the offsets. */
int store_live_commit_state(struct store *s, const struct store_alert *a, size_t na,
                            const struct store_offset *o, size_t no, const void *state,
                            size_t nstate, uint64_t *added, uint64_t *last_seq);
/* After a write failed (the disk full, an I/O error): forget the error and
 * what the failed transaction left (its events, alerts and offsets are
 * gone: the caller hands them in again), then try a small write. Returns 0
 * when the store takes writes again, else the error (the store stays as
 * it was; call again later). */
int store_recover(struct store *s);
/* The last saved correlation state (malloc'd into *data, *n bytes), or
 * -ENOENT when none was saved. */
#define STORE_CORR_STATE_KEY "sigma.correlation_state"
int store_corr_state_get(struct store *s, void **data, size_t *n);
/* Every saved offset. cb returns 0 to go on. */
int store_offsets_load(struct store *s, int (*cb)(void *opaque, const struct store_offset *o),
                       void *opaque);
/* An output's cursor: the seq of the last alert it delivered (0: none). */
int store_cursor_get(struct store *s, const char *output, uint64_t *seq);
int store_cursor_set(struct store *s, const char *output, uint64_t seq);
/* Number of stored alerts, or a negative errno. */
int64_t store_alert_count(struct store *s);

/* A reader of the alerts table on a connection of its own (one per
 * delivery thread). On failure *out is set for the message. */
struct store_alert_reader;
struct alert_msg; /* output/output.h */
int store_alert_reader_open(const char *path, struct store_alert_reader **out);
/* Up to max alerts with seq > after, in seq order, to cb (everything valid
 * during the call; cb returns 0 to go on). Returns the number handed on,
 * or a negative errno (cb's). */
int store_alert_reader_next(struct store_alert_reader *r, uint64_t after, size_t max,
                            int (*cb)(void *opaque, const struct alert_msg *a), void *opaque);
const char *store_alert_reader_errmsg(const struct store_alert_reader *r);
void store_alert_reader_close(struct store_alert_reader *r);

/* ---- baselines (store-baseline.c) -----------------------------------------
 * Schema 4: the profiles of the baseline modules (one versioned blob per
 * module and entity, the module's own format) and the facts timeline
 * (every fact the engine kept, with the fact's JSON as alerts show it). */

struct store_bl_profile {
    const char *module; /* "account", "application", "host", "spraying" */
    const char *kind;   /* bl_kind_name(): "account", "application", ... */
    const char *entity;
    const void *blob;
    size_t n;
    int64_t updated; /* event time (s) of the engine when saved */
};

struct store_bl_fact {
    int64_t ts_ns; /* TIME_NONE: none */
    const char *kind;
    const char *entity;
    const char *detector;
    const char *feature;
    const char *value;
    double score;
    const char *text;
    uint64_t event_id;
    const char *json; /* the fact as alerts list it (one JSON object) */
};

/* What one save writes: profiles replace the saved ones of the same
 * (module, kind, entity); facts are added (a fact already saved, same
 * entity, time, detector, feature and event, is not added twice). */
struct store_bl_rows {
    const struct store_bl_profile *p;
    size_t np;
    const struct store_bl_fact *f;
    size_t nf;
};

/* Save r in one transaction (on the writer thread). Returns 0, -EROFS,
 * -EPROTONOSUPPORT, or a negative errno. */
int store_baseline_save(struct store *s, const struct store_bl_rows *r);
/* store_live_commit_state() that also saves r (NULL: nothing) in the same
 * transaction: the profiles then always match the saved offsets. */
int store_live_commit_baseline(struct store *s, const struct store_alert *a, size_t na,
                               const struct store_offset *o, size_t no, const void *state,
                               size_t nstate, const struct store_bl_rows *r, uint64_t *added,
                               uint64_t *last_seq);
/* The saved profiles of kind (NULL: any) and entity (NULL: any), by
 * kind, entity and module. With an entity, the module-wide profiles of
 * that kind come too: what a module learns across entities is saved under
 * a name in parentheses ("(organisation)"), which no entity id has. cb
 * returns 0 to go on. A store of an older schema has none (0). */
int store_baseline_profiles(struct store *s, const char *kind, const char *entity,
                            int (*cb)(void *opaque, const struct store_bl_profile *p),
                            void *opaque);
/* The newest `limit` facts (0: all) of kind (NULL: any) and entity (NULL:
 * any), oldest first. */
int store_baseline_facts(struct store *s, const char *kind, const char *entity, size_t limit,
                         int (*cb)(void *opaque, const struct store_bl_fact *f), void *opaque);
/* The saved facts within window_ns of the newest one (by time), oldest
 * first: what a restarted engine stacks new facts with. Reads back from
 * the newest saved (facts are saved roughly in time order) and stops
 * past twice the window. */
int store_baseline_recent_facts(struct store *s, int64_t window_ns,
                                int (*cb)(void *opaque, const struct store_bl_fact *f),
                                void *opaque);
/* The entities with a saved profile or fact, of kind (NULL: any), by kind
 * and entity: the modules that keep a profile, the facts saved, and the
 * last update (event time, s). */
struct store_bl_entity {
    const char *kind;
    const char *entity;
    const char *modules; /* comma-separated */
    uint64_t facts;
    int64_t updated;
};
int store_baseline_entities(struct store *s, const char *kind,
                            int (*cb)(void *opaque, const struct store_bl_entity *e), void *opaque);

#endif
