/*
 * intel-read.h - read a file of indicators, whatever its format, into an
 * ioc_batch.
 *
 * One table of readers, one row per format: {name, sniff, read}. The format
 * is given (o->format) or sniffed from the file's first bytes: the reader
 * whose sniff() scores highest reads it. A new format is one reader (its
 * own file, declaring its two functions in its own header) plus one row in
 * intel_readers[] (intel-read.c).
 *
 * The readers here: Zeek Intel framework files ("zeek"), CSV with a header
 * ("csv"), plain one-per-line lists of a declared type ("list"). The
 * formats, columns and rules are in docs/intel.md.
 *
 * Every reader streams (memory grows with the indicators kept, not with the
 * file), refuses lines longer than o->max_line and stops adding at
 * o->max_indicators, and reports each problem in the batch with its place
 * ("file:line") and reason, and counts it per reason in the stats; the
 * rest of the file is still read.
 */
#ifndef KENCHI_INTEL_INTEL_READ_H
#define KENCHI_INTEL_INTEL_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "intel/ioc.h"

struct input;

/* o->type for plain lists: an enum ioc_type, or one of these. */
#define INTEL_TYPE_NONE (-1) /* not declared */
#define INTEL_TYPE_HASH (-2) /* MD5, SHA-1 or SHA-256 by length */

#define INTEL_READ_REASONS 32

/* What reading gave, accumulated over files. Reasons are static strings
 * ("invalid ip", "value cut short by the feed", ...). */
struct intel_read_stats {
    uint64_t files;         /* files read */
    uint64_t files_skipped; /* files of a directory that hold no indicators kenchi reads */
    uint64_t records;       /* data lines or rows (not comments, headers, blank lines) */
    uint64_t indicators;    /* added to batches */
    uint64_t skipped;       /* records or values that gave no indicator */
    uint64_t refanged;      /* defanged values read back ("evil[.]example") */
    struct intel_read_reason {
        const char *reason;
        uint64_t count;
    } reasons[INTEL_READ_REASONS];
    unsigned nreasons;
};

struct intel_read_opts {
    const char *format;             /* NULL or "auto": sniff; else a reader's name */
    int type;                       /* plain lists: enum ioc_type, INTEL_TYPE_HASH or _NONE */
    size_t max_line;                /* longest line read (bytes); longer ones are skipped */
    uint64_t max_indicators;        /* per file; the rest of the file is counted, not kept */
    struct intel_read_stats *stats; /* NULL: not kept */
    /* Optional, for consumers that copy the indicators (the matcher, a
     * streamed import into the store): every `chunk` indicators (default
     * 1,000,000) the batch (its STIX patterns expanded, as
     * intel_read_path() does) is handed to chunk_fn, then reading goes on
     * into an empty batch that keeps the metadata records (same indexes)
     * but not the indicators and problems handed over, so that a long
     * feed is never held whole nor twice. A file whose metadata records
     * outnumber an eighth of its indicators is not cut. chunk_fn returns 0
     * or a negative errno (reading stops). NULL: one batch per file. The
     * last part of a file is the batch intel_read_path() returns. */
    int (*chunk_fn)(void *opaque, struct ioc_batch *b);
    void *chunk_opaque;
    size_t chunk;
};

/* max_line 64 KiB, max_indicators 50,000,000, type INTEL_TYPE_NONE. */
void intel_read_opts_default(struct intel_read_opts *o);

/* What a reader gets. */
struct intel_read_ctx {
    struct input *in; /* positioned at the start (decompressed) */
    const char *path; /* for messages and the default feed name */
    const struct intel_read_opts *o;
    struct ioc_batch *out;
    struct intel_read_stats *st; /* never NULL */
    bool limit_reported;
    uint64_t added;  /* indicators of this file, chunks included */
    int chunk_error; /* what chunk_fn returned, when negative */
};

struct intel_reader {
    const char *name;
    /* How well head[0..n) (the file's first bytes, decompressed) fits: 0 not
     * at all, 1 possibly (text), 2 or more: this format. */
    int (*sniff)(const char *head, size_t n, const char *path);
    /* Read c->in to the end into c->out. Returns 0, or a negative errno
     * when the file could not be read as this format at all or reading
     * failed (what was read stays in c->out, with a problem saying why). */
    int (*read)(struct intel_read_ctx *c);
};

/* The readers, NULL-terminated. */
extern const struct intel_reader *const intel_readers[];
const struct intel_reader *intel_reader_find(const char *name);

/* Read one file ("-": standard input, which needs o->format) into out,
 * which this initialises (source path, format name); the caller frees it
 * with ioc_batch_free() whatever the result. Returns 0, or a negative errno
 * (unreadable file, unknown format, a list without a type: a problem in out
 * says which). gzip and zstd files are read decompressed. */
int intel_read_path(const char *path, const struct intel_read_opts *o, struct ioc_batch *out);

/* Read path: a file (whatever it sniffs as), or a directory, recursively
 * in name order, skipping hidden files and the files that do not sniff as
 * an indicator format (plain lists: only *.txt, *.list, *.lst with a
 * declared type). fn gets each file's batch (and intel_read_path's result)
 * and returns 0 to go on or a negative errno to stop; the batch is freed
 * after fn returns. Returns 0, the first negative fn result, or a negative
 * errno if path cannot be read. */
typedef int (*intel_batch_fn)(void *opaque, struct ioc_batch *b, int rc);
int intel_read_tree(const char *path, const struct intel_read_opts *o, intel_batch_fn fn,
                    void *opaque);

/* Turn the STIX patterns of b that only list values (one observation, ORs of
 * `=` / IN on paths that map to an indicator type) into indicators of those
 * values under the same metadata, so the set matches them and the hunting
 * index finds them; report the patterns the grammar refuses (they match
 * nothing) and drop them; keep the others as IOC_PATTERN for the stream
 * matcher. intel_read_path() calls it on every batch. Returns the number of
 * patterns turned into values. (intel-pattern.c) */
size_t intel_expand_patterns(struct ioc_batch *b);

/* ---- for readers ------------------------------------------------------ */

/* Count one skipped record or value under reason (a static string). */
void intel_read_skip(struct intel_read_ctx *c, const char *reason);
/* Add value[0..n) as type t (INTEL_TYPE_HASH: by length) under meta, or
 * record why not (a problem at where, a reason counted). Defanged values
 * ("hxxp://evil[.]example") are read back; values a feed cut short ("…")
 * are refused. Honours max_indicators. Returns 0 or -EINVAL (not added). */
int intel_read_add(struct intel_read_ctx *c, int t, const char *value, size_t n, uint32_t meta,
                   bool detect, const char *where);
/* The file's base name without its extensions ("feeds/tor-exit.intel.gz"
 * -> "tor-exit"), into buf. */
const char *intel_read_feed_name(const char *path, char *buf, size_t size);
/* A type name as feeds write it: kenchi's names and aliases
 * (ioc_type_by_name), Zeek's ("Intel::ADDR", "FILE_HASH": INTEL_TYPE_HASH),
 * MISP attribute types ("ip-dst", "hostname", "filename|md5" is not one).
 * Returns the type, INTEL_TYPE_HASH, or INTEL_TYPE_NONE. Sets *unsupported
 * for types known but not matched by kenchi (Zeek's USER_NAME, CERT_HASH,
 * PUBKEY_HASH, JA3 ...). */
int intel_type_by_name(const char *name, size_t n, bool *unsupported);

/* Metadata records by content: readers whose lines each carry metadata
 * (a source, a description) keep one record per distinct content. *mc
 * starts NULL. Returns the record's index in b (added if new). */
struct intel_meta_cache;
uint32_t intel_meta_cache_get(struct intel_meta_cache **mc, struct ioc_batch *b,
                              const struct ioc_meta *m);
void intel_meta_cache_free(struct intel_meta_cache *mc);

/* The readers of this module (intel-read-zeek.c, intel-read-csv.c,
 * intel-read.c). */
int intel_zeek_sniff(const char *head, size_t n, const char *path);
int intel_zeek_read(struct intel_read_ctx *c);
int intel_csv_sniff(const char *head, size_t n, const char *path);
int intel_csv_read(struct intel_read_ctx *c);
int intel_list_sniff(const char *head, size_t n, const char *path);
int intel_list_read(struct intel_read_ctx *c);
/* STIX 2.1 bundles and MISP events (intel-read-json.c). */
int intel_stix_sniff(const char *head, size_t n, const char *path);
int intel_stix_read(struct intel_read_ctx *c);
int intel_misp_sniff(const char *head, size_t n, const char *path);
int intel_misp_read(struct intel_read_ctx *c);

#endif
