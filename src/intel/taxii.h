/*
 * taxii.h - the TAXII 2.1 client: where shared intelligence is pulled from.
 *
 * A TAXII source is a server (its discovery endpoint or one API root), one
 * collection (or every readable one), credentials and transport limits; the
 * sources are configured in YAML (taxii_config_load, taxii-config.c) and
 * pulled with taxii_pull (taxii.c), which walks discovery -> API root ->
 * collections -> objects, pages through the objects with the envelope's
 * `more`/`next` (or `added_after` = X-TAXII-Date-Added-Last when a server
 * gives no `next`), and hands every envelope's raw JSON text to a callback.
 *
 * The cursor is what makes a pull incremental: the X-TAXII-Date-Added-Last
 * of the last page handed over (the time the server added the newest object
 * the caller has). The next pull sends it as `added_after` and gets only
 * what was added since. The text is opaque to the caller, who stores it per
 * source between pulls:
 *   - a bare timestamp ("2024-05-01T08:00:02.000Z") for a source that
 *     names one collection; a bare timestamp given in is also read as the
 *     starting point of every collection (so a user may write one by hand);
 *   - for `collection: all`, one "ID=TIMESTAMP" per collection, separated
 *     by single spaces, the ID percent-encoded.
 */
#ifndef KENCHI_INTEL_TAXII_H
#define KENCHI_INTEL_TAXII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The media type of every TAXII 2.1 request and response. */
#define TAXII_MEDIA_TYPE "application/taxii+json;version=2.1"

enum taxii_auth { TAXII_AUTH_NONE, TAXII_AUTH_BASIC, TAXII_AUTH_BEARER };

/* One configured source. Strings are NUL-terminated and owned by the
 * struct taxii_config that holds the source (NULL when not set). */
struct taxii_source {
    char *name;       /* unique among the sources; names the cursor */
    char *url;        /* discovery endpoint (…/taxii2/) or an API root */
    char *collection; /* collection id or title, or "all" (readable ones) */
    enum taxii_auth auth;
    char *user;             /* basic */
    char *password;         /* basic, written in the configuration */
    char *password_file;    /* basic, read at every pull */
    char *token;            /* bearer, written in the configuration */
    char *token_file;       /* bearer, read at every pull */
    char *ca_file;          /* extra CA certificates (PEM) */
    bool verify;            /* check the server's certificate and name */
    long timeout_s;         /* one request, start to end */
    long connect_timeout_s; /* TCP + TLS handshake */
    size_t max_bytes;       /* one response body */
    long limit;             /* objects per page asked for; 0: the server's choice */
    long max_pages;         /* pages per collection per pull */
    int retries;            /* after a 429, 5xx or dropped connection */
    long retry_max_wait_s;  /* longest wait before a retry */
    long poll_interval_s;   /* for the live daemon: time between pulls */
    const char *file;       /* where it was configured (for messages) */
    unsigned line;
};

/* Defaults (docs/intel.md lists every key). */
#define TAXII_DEFAULT_TIMEOUT_S         30
#define TAXII_DEFAULT_CONNECT_TIMEOUT_S 10
#define TAXII_DEFAULT_MAX_BYTES         (64u << 20)
#define TAXII_DEFAULT_MAX_PAGES         10000
#define TAXII_DEFAULT_RETRIES           3
#define TAXII_DEFAULT_RETRY_MAX_WAIT_S  60
#define TAXII_DEFAULT_POLL_INTERVAL_S   3600

/* Set every field of s to its default (verify on, no auth, all limits). */
void taxii_source_init(struct taxii_source *s);

struct taxii_config {
    struct taxii_source *sources;
    size_t n;
    char *path; /* the file read, for messages */
};

/* Read the TAXII sources of the intelligence configuration PATH (the list
 * under its top-level `taxii:` key; other top-level keys belong to other
 * parts and are left alone). Relative file names (ca_file, password_file,
 * token_file) are taken from the configuration's directory, and must be
 * readable now. Warnings (verify: false, credentials over plain HTTP) are
 * printed to warn (may be NULL). Returns 0, or -EINVAL / -errno with
 * "PATH:LINE:COL: reason" in err. cfg is to be freed with taxii_config_free
 * whatever the result. */
int taxii_config_load(const char *path, struct taxii_config *cfg, FILE *warn, char *err,
                      size_t errlen);

/* The same from text[0..n); origin names it in messages. Reads no file:
 * relative file names are kept as written, nothing is checked on disk. */
int taxii_config_parse(const char *origin, const char *text, size_t n, struct taxii_config *cfg,
                       FILE *warn, char *err, size_t errlen);

/* Free everything (secrets are wiped first). */
void taxii_config_free(struct taxii_config *cfg);

/* The source called name, or NULL. */
const struct taxii_source *taxii_config_find(const struct taxii_config *cfg, const char *name);

/*
 * Pull what the source's collection(s) gained since cursor_in (NULL or "":
 * everything). For every page that holds objects, on_objects(opaque, json,
 * n, url) gets the envelope's raw JSON text (json[n] is NUL; {"more":…,
 * "next":…, "objects":[…]}, already checked to be valid JSON whose
 * `objects` is a list of objects) and the collection's objects URL
 * (…/collections/ID/objects/, no query), in the order the server added
 * them. The text is the caller's only during the call. A non-zero return
 * stops the pull: taxii_pull then returns it (-ECANCELED for a positive
 * value), with the cursor of the pages before.
 *
 * *cursor_out receives a malloc'd cursor (the caller frees it), on success
 * and on failure alike: after a failure midway it is the cursor of the last
 * page fully handed over, so the next pull skips nothing. It is NULL only
 * when there is no cursor at all (nothing pulled, no cursor_in).
 *
 * Returns 0, or a negative errno with a message in err naming the source,
 * the URL and the reason (HTTP status and the server's TAXII error title and
 * description; bad JSON with its line and column; timeouts; certificate
 * failures): -EACCES (401/403), -ENOENT (404), -ETIMEDOUT, -EPROTO (not
 * TAXII 2.1, bad JSON, wrong content type), -EFBIG (response over
 * max_bytes), -EIO (other transport and HTTP failures), -EINVAL (bad source
 * or cursor). With `collection: all`, a collection that fails does not stop
 * the others (the first error is returned). On success err holds "" or a
 * warning to show the user (a server that sent no X-TAXII-Date-Added-Last,
 * a pull stopped at max_pages that the next pull continues).
 */
int taxii_pull(const struct taxii_source *src, const char *cursor_in,
               int (*on_objects)(void *opaque, const char *json, size_t n, const char *url),
               void *opaque, char **cursor_out, char *err, size_t errlen);

#endif
