/*
 * event.h - the one shape every log record takes inside kenchi.
 *
 * An event has:
 *   - a time (UTC nanoseconds) and a stable id (the same input always gives
 *     the same id, so re-reading a file never creates new identities);
 *   - its origin: the file and line, or the file and record number;
 *   - its Sigma log source (product / service / category);
 *   - the common core, a fixed set of ECS fields (enum core_field) that
 *     cross-source logic uses, held in fixed slots for O(1) access;
 *   - the source's own ("native") fields under the names analysts and Sigma
 *     rules use for that source, in an ordered key/value array.
 *
 * Memory: an event never owns anything. Its strings point into the arena of
 * the batch it belongs to (see pipeline/batch.h) and die with the batch.
 * Values are kept as text exactly as the source wrote them; the type tag says
 * how to render them in JSON.
 */
#ifndef KENCHI_EVENT_EVENT_H
#define KENCHI_EVENT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/buf.h"

/* A byte slice; not NUL-terminated unless documented. */
struct str {
    const char *p;
    size_t n;
};
#define STR_LIT(s) ((struct str){(s), sizeof(s) - 1})
static inline struct str str_make(const char *p, size_t n)
{
    return (struct str){p, n};
}
static inline bool str_eq(struct str s, const char *lit)
{
    size_t i = 0;
    for (; i < s.n; i++)
        if (lit[i] != s.p[i] || !lit[i])
            return false;
    return lit[i] == '\0';
}

/* The common core, under ECS names (see event.c for the name table). */
enum core_field {
    CORE_HOST_NAME,
    CORE_USER_NAME,
    CORE_SOURCE_IP,
    CORE_SOURCE_PORT,
    CORE_SOURCE_BYTES,
    CORE_DESTINATION_IP,
    CORE_DESTINATION_PORT,
    CORE_DESTINATION_BYTES,
    CORE_EVENT_ACTION,
    CORE_EVENT_OUTCOME,
    CORE_EMAIL_FROM_ADDRESS,
    CORE_EMAIL_TO_ADDRESS,
    CORE_EMAIL_SUBJECT,
    CORE_EMAIL_MESSAGE_ID,
    CORE_PROCESS_COMMAND_LINE,
    CORE_FILE_NAME,
    CORE_FILE_HASH_MD5,
    CORE_FILE_HASH_SHA1,
    CORE_FILE_HASH_SHA256,
    CORE_URL_FULL,
    CORE_DNS_QUESTION_NAME,
    CORE__COUNT
};

enum value_type {
    VT_STRING = 0, /* rendered as a JSON string */
    VT_NUMBER,     /* rendered bare if it is a valid JSON number, else as a string */
    VT_BOOL,       /* "true" / "false" */
    VT_NULL,       /* null */
    VT_JSON,       /* raw, valid JSON text (an array or object) rendered as is */
};

struct core_field_def {
    const char *name; /* ECS dotted name, e.g. "source.ip" */
    enum value_type type;
};
extern const struct core_field_def core_fields[CORE__COUNT];

/* Look up a core field by its ECS name; returns -1 if it is not one. */
int core_field_by_name(const char *name, size_t n);

struct field {
    struct str key;
    struct str val;
    enum value_type type;
};

struct logsource {
    const char *product; /* NULL when unknown */
    const char *service;
    const char *category;
};

struct event {
    int64_t ts_ns;       /* TIME_NONE if the record had no usable time */
    uint64_t id;         /* stable id, see event_assign_id() */
    const char *file;    /* origin path, owned by the source; NULL for stdin */
    uint64_t line;       /* 1-based line of the record's first byte, or 0 */
    uint64_t record;     /* record number (EVTX), or 0 */
    struct logsource ls; /* strings are static or in the arena */
    const char *format;  /* static name of the decoder that produced it */
    bool parsed;         /* false: no decoder understood it (raw kept) */
    bool truncated;      /* the raw record exceeded the size limit */
    struct str raw;      /* the record as read (line text or JSON text) */
    struct str message;  /* the free-text message part, if the format has one */
    struct str core[CORE__COUNT];
    struct field *fields; /* native fields, in the order the decoder added them */
    uint32_t nfields;
    uint32_t capfields;
    struct arena *arena; /* where everything above lives */
};

/* Reset ev to an empty event whose data will live in arena. */
void event_init(struct event *ev, struct arena *arena);

/* Append a native field. key and val must outlive the event (arena or
 * static); use event_add_copy() for transient bytes. */
void event_add(struct event *ev, struct str key, struct str val, enum value_type type);
void event_add_copy(struct event *ev, const char *key, const char *val, size_t vlen,
                    enum value_type type);
/* Convenience for a static key and a slice value (string type). */
static inline void event_add_str(struct event *ev, const char *key, struct str val)
{
    event_add(ev, (struct str){key, __builtin_strlen(key)}, val, VT_STRING);
}

/* A native field holding a number / the boolean true (static key). */
static inline void event_add_num(struct event *ev, const char *key, struct str val)
{
    event_add(ev, (struct str){key, __builtin_strlen(key)}, val, VT_NUMBER);
}
static inline void event_add_true(struct event *ev, const char *key)
{
    event_add(ev, (struct str){key, __builtin_strlen(key)}, (struct str){"true", 4}, VT_BOOL);
}

/* Set event.action and, unless outcome is NULL, event.outcome (static
 * strings). */
static inline void event_set_action(struct event *ev, const char *action, const char *outcome)
{
    ev->core[CORE_EVENT_ACTION] = (struct str){action, __builtin_strlen(action)};
    if (outcome)
        ev->core[CORE_EVENT_OUTCOME] = (struct str){outcome, __builtin_strlen(outcome)};
}

/* Native field lookup (first match), or NULL. */
const struct field *event_get(const struct event *ev, const char *key);
/* Native or core field lookup by name: native first, then ECS core. Returns
 * false if absent. */
bool event_lookup(const struct event *ev, const char *key, struct str *out);

static inline void event_set_core(struct event *ev, enum core_field f, struct str v)
{
    if (v.n)
        ev->core[f] = v;
}

/* Compute the stable id from origin and raw text. */
void event_assign_id(struct event *ev);

/* Append ev as one line of JSON (no trailing newline) to out. Layout:
 * {"@timestamp", "event":{"id",...}, "source":{"file","line"|"record",...},
 *  "logsource":{...}, the other ECS core objects, "native":{...},
 *  "message", "raw" (only when not parsed)} */
void event_to_json(const struct event *ev, struct buf *out);

#endif
