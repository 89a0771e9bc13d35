/*
 * decode.h - the decoder interface and registry.
 *
 * A decoder turns one record (a text line, a JSON value, or for container
 * formats a whole file) into a struct event. It reads one or more of:
 *
 *   DECODER_LINE   a text line; the syslog decoder hands the message part to
 *                  the syslog application decoders (Postfix, Dovecot, sshd) of
 *                  syslog_apps[] in decode/registry.c;
 *   DECODER_JSON   one JSON object, already flattened into the event's native
 *                  fields by json_flatten(); the decoder recognises its shape
 *                  (probe) and maps names, time and log source (decode);
 *   DECODER_FILE   a binary container (EVTX) that the decoder reads itself,
 *                  handing each record to the pipeline's callback.
 *
 * Adding a format is one new decode/decode-NAME.c plus one line in the tables
 * of decode/registry.c; nothing else changes.
 */
#ifndef KENCHI_DECODE_DECODE_H
#define KENCHI_DECODE_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "event/event.h"
#include "util/timeconv.h"

struct syslog_app;

/* Per-file decoding context, owned by the reader of one file. */
struct decode_ctx {
    const char *path;                   /* file being decoded (for messages), "-" for stdin */
    int64_t ref_time_ns;                /* file mtime (or now): year inference for RFC 3164 */
    int year_override;                  /* --year, or 0 */
    struct tz_ctx tz;                   /* zone for zone-less timestamps */
    const struct syslog_app *force_app; /* --format naming a syslog application */
    void *state;                        /* a decoder's per-file state (Zeek TSV headers) */
    void (*state_free)(void *state);
    /* Where a decoder reports a problem with the file it reads (a damaged
     * EVTX chunk, a record it cannot render); set by the pipeline, NULL
     * means standard error. msg names no file and ends with no newline. */
    void (*report)(void *opaque, const char *msg);
    void *report_opaque;
};

/* Callback through which file decoders deliver events. The event's arena is
 * the one given by the pipeline; returns 0 or a negative errno to stop. */
struct event_emitter {
    /* Return a fresh event (already event_init()ed) to fill. */
    struct event *(*next)(void *opaque);
    /* The event returned by next() is complete. */
    int (*done)(void *opaque, struct event *ev);
    void *opaque;
};

struct decoder {
    const char *name;        /* --format value and event.module */
    const char *description; /* one line for --help */
    /* Each decoder fills in the entry points for the inputs it reads; a
     * format with both a text and a JSON form (Zeek) has both. */
    /* LINE: decode ev->raw. Returns 0 if understood, -EINVAL if not (the
     * event then stays unparsed), other negative errno on failure, or
     * DECODE_SKIP for a line that is the format's own metadata. */
    int (*decode_line)(struct decode_ctx *ctx, struct event *ev);
    /* JSON: is this flattened object mine? Higher wins; 0 = no. */
    int (*probe_json)(const struct event *ev);
    /* JSON: map the flattened fields in place. 0 or negative errno. */
    int (*decode_json)(struct decode_ctx *ctx, struct event *ev);
    /* FILE: read the whole file at path, emitting events. Returns 0 or a
     * negative errno; bad records are reported and counted, not fatal. */
    int (*decode_file)(struct decode_ctx *ctx, const char *path, struct event_emitter *em,
                       uint64_t *records_bad);
};

/* Syslog application decoders: given the envelope already parsed into ev
 * (time, host.name, native "program", "pid"), decode ev->message. decode()
 * sets ev->ls first, then parses; it returns 0 if it understood the message,
 * -EINVAL if not, in which case the native fields it added are dropped (it
 * must not set core fields before it is sure). When the line had no syslog
 * header (--format forcing the application on bare messages) program is
 * empty. */
struct syslog_app {
    const char *name;                  /* event.module, e.g. "postfix" */
    bool (*match)(struct str program); /* does this program name belong? */
    int (*decode)(struct decode_ctx *ctx, struct event *ev, struct str program);
};

/* decode_line's answer for a line that describes the file rather than
 * recording anything (Zeek's "#fields" header block): the decoder kept what
 * it needed in ctx->state, no event is made, and the pipeline counts the
 * line in file_stats.meta_lines. */
#define DECODE_SKIP 1

extern const struct decoder *const decoders[];       /* NULL-terminated */
extern const struct syslog_app *const syslog_apps[]; /* NULL-terminated */

const struct decoder *decoder_find(const char *name);
const struct syslog_app *syslog_app_find(const char *name);

/* Pick the JSON decoder for a flattened object (never NULL: the generic
 * "json" decoder takes anything). */
const struct decoder *decoder_for_json(const struct event *ev);

void decode_ctx_init(struct decode_ctx *ctx, const char *path, int64_t ref_time_ns,
                     int year_override);
void decode_ctx_fini(struct decode_ctx *ctx);

/* Report a problem through ctx->report (see struct decode_ctx). */
void decode_report(struct decode_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Shared helpers for decoders ------------------------------------------ */

/* Flatten the JSON value at text[0..n) into ev's native fields (objects
 * become dotted keys; arrays are kept as raw JSON values, and arrays of
 * scalars also stay raw). Strings are unescaped into the arena. Returns 0, or
 * -EINVAL if the text is not a valid JSON object. */
int json_flatten(struct event *ev, const char *text, size_t n);

/* Find "key=" inside a message of comma/space separated key=value pairs
 * (Postfix and Dovecot style). The value ends at ',' or ' ' or ')' unless
 * it starts with '<' in which case it ends at '>', brackets excluded.
 * Returns true and sets *val if found. */
bool kv_find(struct str msg, const char *key, struct str *val);

/* Trim ASCII spaces at both ends. */
struct str str_trim(struct str s);

/* Starts-with test on a slice. */
static inline bool str_starts(struct str s, const char *lit)
{
    size_t n = __builtin_strlen(lit);
    return s.n >= n && __builtin_memcmp(s.p, lit, n) == 0;
}

/* Position of lit in s, or -1. */
long str_find(struct str s, const char *lit);

#endif
