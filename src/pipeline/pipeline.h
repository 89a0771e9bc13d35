/*
 * pipeline.h - files in, decoded events out, in batches.
 *
 * The pipeline walks the paths it is given (directories recursively, in
 * sorted order, loops detected), picks each file's format (or takes the
 * forced one), frames records, decodes them into events and hands each full
 * batch to the sinks in order: detectors, the store, printers. A batch and
 * everything its events point to is valid only during the sink call; sinks
 * that keep data copy it.
 *
 * Nothing is dropped silently: every record becomes an event (unparsed ones
 * keep their raw text), and every problem is counted and reported with its
 * file:line.
 */
#ifndef KENCHI_PIPELINE_PIPELINE_H
#define KENCHI_PIPELINE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode/decode.h"
#include "event/event.h"

struct event_sink {
    const char *name;
    /* Consume n events. Return 0, or a negative errno to stop the run. */
    int (*on_batch)(void *opaque, struct event *evs, size_t n);
    void *opaque;
};

/* Per (module, product, service) event counts. */
struct ls_count {
    const char *module;
    const char *product;
    const char *service;
    uint64_t events;
};

struct file_stats {
    char *path;
    const char *format; /* detected or forced */
    uint64_t events;
    uint64_t unparsed;
    uint64_t truncated;
    uint64_t meta_lines; /* format metadata lines, no event (DECODE_SKIP) */
    int error;           /* negative errno if the file could not be read to the end */
};

struct pipeline_stats {
    uint64_t files_read;
    uint64_t files_failed;
    uint64_t events;
    uint64_t unparsed;
    uint64_t truncated;
    uint64_t meta_lines; /* see file_stats */
    uint64_t bytes;
    int64_t ts_min, ts_max; /* TIME_NONE when no event had a time */
    struct ls_count *ls;
    size_t nls;
    struct file_stats *files;
    size_t nfiles;
};

struct pipeline_opts {
    const char *format;         /* NULL or "auto": detect per file */
    int year;                   /* --year, or 0 */
    size_t max_line;            /* longest text record kept (bytes) */
    size_t max_json;            /* longest JSON record (bytes) */
    size_t batch_size;          /* events per batch */
    unsigned max_diag_per_file; /* problems printed per file before summarising */
    FILE *diag;                 /* where problems are reported (stderr) */
};

struct pipeline;

void pipeline_opts_default(struct pipeline_opts *o);

/* Check that o->format names a decoder or syslog application. Returns 0 or
 * -EINVAL. */
int pipeline_check_format(const char *format);

/* Create a pipeline. Returns NULL on allocation failure. */
struct pipeline *pipeline_new(const struct pipeline_opts *o);

/* Add a sink; sinks run in the order added. At most 8. */
int pipeline_add_sink(struct pipeline *p, const struct event_sink *s);

/* Read path ("-" is standard input; directories recursively). Problems with
 * single files are reported and counted; returns 0 unless a sink stopped the
 * run (its error) . */
int pipeline_run_path(struct pipeline *p, const char *path);

/* Deliver the last partial batch. */
int pipeline_flush(struct pipeline *p);

/* Drop the events of the partial batch and forget a sink's error, so that
 * the pipeline takes records again (the live daemon, after the store
 * failed and came back: it hands the records of the lost batches in
 * again). */
void pipeline_discard(struct pipeline *p);

const struct pipeline_stats *pipeline_stats(const struct pipeline *p);

/* ---- live streams ----------------------------------------------------------
 * Records that arrive one by one (a tailed file, a syslog connection,
 * standard input) go through the same decoding as files: each source opens
 * a stream and hands its records in; events reach the sinks in batches as
 * with files (pipeline_flush delivers a partial batch). Streams may be
 * interleaved; each keeps its own decoding state. name is the events'
 * source.file (and is in pipeline_stats' files); format NULL or "auto"
 * tells the format from head (the first bytes of a file, may be empty:
 * Zeek TSV by its header, else syslog lines with JSON objects told apart
 * per line). ref_time_ns is the time year-less timestamps are placed
 * near (now, for live data). Returns NULL on ENOMEM or an unusable
 * format. */
struct pipeline_stream;
struct pipeline_stream *pipeline_stream_open(struct pipeline *p, const char *name,
                                             const char *format, const char *head, size_t nhead,
                                             int64_t ref_time_ns);
void pipeline_stream_ref_time(struct pipeline_stream *s, int64_t ref_time_ns);
/* One record (a line without its newline) at line (1-based; the event's
 * position and part of its id). truncated: the line was cut at the size
 * limit. Returns 0, or a sink's error. */
int pipeline_stream_record(struct pipeline *p, struct pipeline_stream *s, const char *data,
                           size_t n, uint64_t line, bool truncated);
/* Counts of the stream so far. */
const struct file_stats *pipeline_stream_stats(const struct pipeline *p,
                                               const struct pipeline_stream *s);
void pipeline_stream_close(struct pipeline *p, struct pipeline_stream *s);

void pipeline_free(struct pipeline *p);

#endif
