/*
 * live.h - the live daemon (`kenchi run`): sources -> queue -> worker ->
 * store and detectors -> alerts in the store -> one delivery thread per
 * output.
 *
 * Sources (tailed files and standard input in source/tail.c, network
 * syslog through config_source_kinds) run on threads of their own. Each
 * opens one stream per origin (a file, a connection) and pushes records
 * into one bounded queue (limits.queue_bytes); a full queue makes
 * live_push() wait (back-pressure: files), or refuse the record and call
 * back when there is room (live_push_pausable: TCP and TLS connections
 * pause), or, asked not to wait, drop it (counted: UDP). The worker thread decodes records
 * with the pipeline's stream API (the same decoders as `scan`), runs the
 * same sinks (Sigma detector, intel detector, store), and commits every
 * commit_interval while records keep coming, at once when the queue runs
 * dry: the events written since the last commit (held in the store's open
 * transaction), the alerts made since then (sorted by event time, each
 * once by its stable id) and the read offsets of the files whose events
 * they are become durable in one transaction. Delivery threads then hand the new
 * alerts to their outputs (output/output.h). A crash at any moment loses
 * nothing and repeats nothing: re-read events are dropped by the store,
 * re-made alerts by their id, re-delivered ones by the output's cursor
 * (and, for files, by the output's own last line).
 *
 * Control: SIGHUP reads the configuration file again and applies the
 * difference (reload_config in live.c: outputs and network sources
 * started, stopped or restarted by name, file sources restarted from
 * committed offsets, settings that need a restart reported and kept; a
 * file with problems changes nothing), reloads rules and intelligence from
 * the paths in use (a rule set with refused documents is reported and the
 * old one stays) and reopens outputs;
 * SIGTERM and SIGINT stop the sources, drain the queue, commit, let the
 * outputs deliver what is committed, and exit 0.
 */
#ifndef KENCHI_DAEMON_LIVE_H
#define KENCHI_DAEMON_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/metrics.h"

struct live;
struct live_stream;

/* Run the daemon on a loaded configuration until SIGTERM/SIGINT (or, when
 * every source is finite, such as standard input, until they end).
 * Returns the exit status: 0, or 3 on a runtime failure (logged). */
int live_run(struct config *cf);

/* ---- services beside the pipeline (the metrics endpoint) ----------------
 * Started after the outputs and sources, stopped first; the table lives in
 * live.c (one line per service). start() returns 0, or a negative errno
 * with a sentence in err (the daemon then does not start). A service that
 * has nothing to do for cf (metrics not enabled) returns 0 with *state
 * NULL. stop() is called for every started service, also when a later
 * part failed. */
struct live_service {
    const char *name;
    int (*start)(struct live *l, const struct config *cf, void **state, char *err, size_t errn);
    void (*stop)(void *state);
};
extern const struct live_service *const live_services[];

/* ---- for sources --------------------------------------------------------- */

/* Open a stream of records from one origin: name is the events'
 * source.file ("syslog:NAME:PEER", a path, "-"), format as the source's
 * `format` (NULL: auto), source the configured source's name (metrics
 * label). Safe from any thread. NULL on ENOMEM. */
struct live_stream *live_stream_open(struct live *l, const char *source, const char *name,
                                     const char *format);
/* Hand one record (without its line ending) to the worker. pos is its
 * position, part of the event's stable id: the line number for files and
 * standard input; 0 lets the daemon number the stream's records (starting
 * at the time the stream is opened in microseconds, and above the numbers
 * of streams closed before, so that numbers are not reused across
 * restarts, nor by a stream of the same name a reload opens again). Waits while the queue is full,
 * unless nowait: then returns -EAGAIN and the record is counted as dropped. Returns 0, -EAGAIN, or
 * -ECANCELED when the daemon is stopping and the worker is gone. */
int live_push(struct live *l, struct live_stream *s, const char *data, size_t n, uint64_t pos,
              bool nowait);
/* For sources that can pause their sender (TCP, TLS): like live_push
 * with nowait, but a full queue is no drop: the record is refused
 * (-EAGAIN, not counted) and room(opaque) is called once, from the worker,
 * when the queue is at most half full again. The source pauses its
 * sender until then and offers the same record again. */
int live_push_pausable(struct live *l, struct live_stream *s, const char *data, size_t n,
                       void (*room)(void *opaque), void *opaque);
/* Forget a room() callback (the source is stopping): after it returns,
 * room(opaque) is not called, nor running. */
void live_room_forget(struct live *l, void *opaque);
/* The stream's last record was pushed; s is not used by the caller after
 * this. */
void live_stream_close(struct live *l, struct live_stream *s);

/* The registry every part registers its series in (daemon/metrics.h). */
struct metrics *live_metrics(struct live *l);
/* True once a stop was asked: sources return from their loops. */
bool live_stopping(const struct live *l);
/* The longest record kept (limits.max_line); longer ones are cut. */
size_t live_max_record(const struct live *l);

/* ---- for the file tailer (source/tail.c) --------------------------------- */

/* A file stream's identity and where it starts: its records' positions
 * are offsets into the file (end_off: the offset after the record). */
struct live_file_id {
    uint64_t dev, ino, fp;
    uint32_t fplen;
};
void live_stream_set_file(struct live *l, struct live_stream *s, const struct live_file_id *id);
/* Update the fingerprint (the file grew past a short one). */
void live_stream_set_fp(struct live *l, struct live_stream *s, uint64_t fp, uint32_t fplen);
/* Like live_push, with the offset just after the record (its newline). */
int live_push_file(struct live *l, struct live_stream *s, const char *data, size_t n, uint64_t line,
                   uint64_t end_off, bool truncated);
/* The first bytes of a stream, to tell its format (Zeek TSV headers):
 * pushed before its first record. */
void live_stream_set_head(struct live *l, struct live_stream *s, const char *head, size_t n);

#endif
