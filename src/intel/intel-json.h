/*
 * intel-json.h - reading large JSON intelligence documents one object at a
 * time, with bounds.
 *
 * A STIX bundle, a TAXII envelope or a MISP restSearch answer is one JSON
 * document holding a long array of independent objects. Building a DOM of
 * the whole document (jansson) would cost several times its size in
 * memory; instead the array is walked with a byte scanner that finds each
 * element's extent, and only one element at a time is parsed with jansson.
 * Memory is then the input plus one object, and a malformed object (or one
 * nested too deep) is reported with its index and line and skipped while
 * its neighbours are still read.
 *
 * The scanner is string-aware and counts nesting but does not otherwise
 * validate: jansson checks each element it is given.
 */
#ifndef KENCHI_INTEL_INTEL_JSON_H
#define KENCHI_INTEL_INTEL_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* util/buf.h declares a function json_is_number(s, n) and jansson defines
 * a macro of that name: buf.h must come first, so it is included here. */
#include "util/arena.h"
#include "util/buf.h"
#include <jansson.h>

#define INTEL_JSON_MAX_BYTES_DEFAULT ((size_t)512 << 20) /* 512 MiB */
#define INTEL_JSON_MAX_DEPTH_DEFAULT 64

struct intel_json_limits {
    size_t max_bytes; /* 0: INTEL_JSON_MAX_BYTES_DEFAULT */
    int max_depth;    /* 0: INTEL_JSON_MAX_DEPTH_DEFAULT; at most 2000 */
};

/* Limits with the defaults filled in for zero fields (l may be NULL). */
struct intel_json_limits intel_json_limits_of(const struct intel_json_limits *l);

/* Read the whole file at path (at most max_bytes) into a malloc'd,
 * NUL-terminated buffer the caller frees. Returns 0, -EFBIG when the file
 * is larger than max_bytes, or another negative errno. */
int intel_file_load(const char *path, size_t max_bytes, char **out, size_t *n);

/* Index of the first byte after blanks (and a UTF-8 byte order mark at
 * the very start) at or after s[i]. */
size_t intel_json_skip_ws(const char *s, size_t n, size_t i);

/* In the object starting at s[i] == '{', find member key (compared
 * unescaped: the keys looked for have no escapes). Returns 0 and the index
 * of its value in *val, -ENOENT when absent, -EINVAL on malformed text
 * before it. Members before it are skipped without depth limit. */
int intel_json_member(const char *s, size_t n, size_t i, const char *key, size_t *val);

/* Walks the elements of one JSON array. */
struct intel_json_cursor {
    const char *s;
    size_t n;
    size_t i;       /* next byte to read */
    size_t line;    /* 1-based line of s[i] */
    size_t line_at; /* the byte offset line was counted up to */
    size_t index;   /* elements handed out so far */
    int max_depth;  /* nesting allowed in one element (an object of scalars is 1) */
    bool first, over;
};

/* Start walking the array whose '[' is at s[i]. Returns 0 or -EINVAL. */
int intel_json_array_open(struct intel_json_cursor *c, const char *s, size_t n, size_t i,
                          int max_depth);

/* One element of the walk. */
struct intel_json_elem {
    size_t off, len; /* its text */
    size_t index;    /* 0-based position in the array */
    size_t line;     /* 1-based line where it starts */
    bool too_deep;   /* nested deeper than max_depth: do not parse it */
};

/* The next element: 1 and *e, 0 at the end of the array, -EINVAL when the
 * text is malformed or cut short at e->off / e->line (the walk is then
 * over; the elements before were whole). */
int intel_json_array_next(struct intel_json_cursor *c, struct intel_json_elem *e);

/* Parse s[0..n) (one value, nothing after it but blanks) with jansson,
 * refusing nesting deeper than max_depth (0: the caller checked it; jansson
 * still stops at 2048 levels). first_line is the line s starts
 * on in its file, for the message. Returns the value (the caller
 * json_decref()s it) or NULL with a reason ("invalid JSON at line 3 column
 * 7: ...") in why[0..whylen). */
json_t *intel_json_parse(const char *s, size_t n, int max_depth, size_t first_line, char *why,
                         size_t whylen);

/* Line number (1-based) of byte offset off in s. */
size_t intel_json_line_of(const char *s, size_t n, size_t off);

/* jansson accessors that accept NULL and wrong types: a string member
 * (NULL unless it is a JSON string), an integer member (def unless it is a
 * JSON integer, or a string of digits as MISP writes them). */
const char *intel_json_str(const json_t *obj, const char *key);
long long intel_json_int(const json_t *obj, const char *key, long long def);

/* A JSON array of distinct strings under construction (labels, kill-chain
 * phases, related names): at most INTEL_JLIST_MAX, the rest dropped. The
 * strings are copied into the arena given at init. */
#define INTEL_JLIST_MAX 64
struct intel_jlist {
    struct arena *arena;
    size_t n;
    const char *item[INTEL_JLIST_MAX];
    size_t len[INTEL_JLIST_MAX];
};

void intel_jlist_init(struct intel_jlist *l, struct arena *a);
/* Add s[0..n) unless it is already there (or the list is full). */
void intel_jlist_add(struct intel_jlist *l, const char *s, size_t n);
/* Add every string of another list. */
void intel_jlist_add_all(struct intel_jlist *l, const struct intel_jlist *from);
/* The list as JSON array text, copied into the arena, or NULL when empty. */
const char *intel_jlist_json(const struct intel_jlist *l);

#endif
