/*
 * taxii-resp.h - reading what a TAXII 2.1 server answers, apart from HTTP.
 *
 * The client (taxii.c) fetches; these functions read the bodies and headers
 * it fetched: the discovery and API root documents, the collections list,
 * the objects envelope, a TAXII error message, the Content-Type, the date
 * headers, and the cursor text the caller keeps between pulls. They do no
 * I/O, so the fuzz target (fuzz/fuzz_taxii.c) and the unit tests call them
 * directly. Every reader takes untrusted text, bounds what it keeps, and
 * says what is wrong in err ("bad JSON at line 3, column 7: ...",
 * "`more` is a string, not true or false").
 */
#ifndef KENCHI_INTEL_TAXII_RESP_H
#define KENCHI_INTEL_TAXII_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what is kept from a response. */
#define TAXII_MAX_ROOTS       1000
#define TAXII_MAX_COLLECTIONS 10000
#define TAXII_MAX_STRING      4096 /* ids, titles, `next` tokens, URLs */
#define TAXII_TIMESTAMP_MAX   64   /* a timestamp's text, NUL included */

/* A discovery document (GET …/taxii2/) or an API root (GET <root>/). */
struct taxii_root_doc {
    bool discovery;       /* true: discovery (api_roots/default) */
    char *title;          /* NULL when absent */
    char *default_root;   /* discovery: `default`, NULL when absent */
    char **roots;         /* discovery: `api_roots` */
    size_t nroots;        /* discovery */
    bool speaks_21;       /* API root: `versions` lists TAXII 2.1 (or is absent) */
    char *versions;       /* API root: `versions` joined by ", " (messages) */
    long long max_length; /* API root: `max_content_length`, -1 when absent */
};

/* Read a discovery or API root document. Returns 0 or -EPROTO (err set);
 * out is to be freed with taxii_root_doc_free whatever the result. */
int taxii_parse_root(const char *json, size_t n, struct taxii_root_doc *out, char *err,
                     size_t errlen);
void taxii_root_doc_free(struct taxii_root_doc *d);

struct taxii_collection {
    char *id;
    char *title; /* NULL when absent */
    bool can_read;
};

struct taxii_collections {
    struct taxii_collection *v;
    size_t n;
};

/* Read GET <root>/collections/ ({"collections": [...]}, or {} for none).
 * Returns 0 or -EPROTO (err set); free out with taxii_collections_free. */
int taxii_parse_collections(const char *json, size_t n, struct taxii_collections *out, char *err,
                            size_t errlen);
void taxii_collections_free(struct taxii_collections *c);

/* What the client needs from an objects envelope. */
struct taxii_envelope {
    bool more;
    char *next;      /* NULL when absent or empty */
    size_t nobjects; /* length of `objects` (0 when absent) */
    /* newest `date_added` found on the objects, "" when none (TAXII puts it
     * in manifests and headers; a few servers add it to objects too) */
    char newest_added[TAXII_TIMESTAMP_MAX];
};

/* Check and read an envelope: a JSON object whose `more` is a boolean,
 * `next` a string and `objects` a list of objects (each optional). Returns
 * 0 or -EPROTO (err set); free out with taxii_envelope_free. */
int taxii_parse_envelope(const char *json, size_t n, struct taxii_envelope *out, char *err,
                         size_t errlen);
void taxii_envelope_free(struct taxii_envelope *e);

/* The TAXII error message in a failed response's body, written into out as
 * `"TITLE": DESCRIPTION (error_code CODE)` (the parts there are, control
 * characters replaced). Returns false (out = "") when the body is not a
 * TAXII error message. */
bool taxii_error_text(const char *json, size_t n, char *out, size_t outlen);

/* Check a response's Content-Type: application/taxii+json with no version
 * or version=2.1 (any case, blanks and other parameters allowed), or plain
 * application/json, which some servers send. Returns 0, or -EPROTO with err
 * naming what came instead. */
int taxii_check_media_type(const char *content_type, char *err, size_t errlen);

/* Is media_type application/taxii+json with version=2.1? */
bool taxii_media_is_21(const char *media_type);

/* A timestamp as TAXII writes them (RFC 3339, e.g. X-TAXII-Date-Added-Last,
 * "2024-05-01T08:00:02.123456Z"), all of s[0..n): *t_ns receives the time. */
bool taxii_timestamp_read(const char *s, size_t n, int64_t *t_ns);

/* Percent-encode s for a URL path segment or a query value (everything but
 * A-Z a-z 0-9 - . _ ~). Returns a malloc'd string. */
char *taxii_escape(const char *s);

/* The cursor kept between pulls (format in taxii.h). */
struct taxii_cursor_entry {
    char *id; /* the collection id as given (decoded) */
    char ts[TAXII_TIMESTAMP_MAX];
};

struct taxii_cursor {
    char all[TAXII_TIMESTAMP_MAX]; /* a bare timestamp: every collection; "" */
    struct taxii_cursor_entry *e;
    size_t n;
};

/* Read cursor text (NULL or "" is the empty cursor). Returns 0, or -EINVAL
 * with err saying what is wrong; free c with taxii_cursor_free. */
int taxii_cursor_parse(const char *text, struct taxii_cursor *c, char *err, size_t errlen);

/* The timestamp to send as added_after for collection id, or NULL. */
const char *taxii_cursor_get(const struct taxii_cursor *c, const char *id);

/* Record ts as collection id's cursor (a later time only: an older one
 * leaves the entry as it is). Returns 0, or -EINVAL if ts is not a
 * timestamp. */
int taxii_cursor_set(struct taxii_cursor *c, const char *id, const char *ts);

/* The cursor as text (malloc'd; NULL when empty). With only_id set (a
 * source naming one collection), the bare timestamp of that collection. */
char *taxii_cursor_format(const struct taxii_cursor *c, const char *only_id);

void taxii_cursor_free(struct taxii_cursor *c);

/* The later of two timestamps (either may be ""): true when b is later
 * than a (a "" is earlier than everything). */
bool taxii_timestamp_later(const char *a, const char *b);

#endif
