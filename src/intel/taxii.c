/*
 * taxii.c - the TAXII 2.1 client: one pull of one source; see taxii.h.
 *
 * A pull is a short, strictly sequential conversation over one libcurl
 * easy handle (so the TLS session and the connection are reused):
 *
 *   GET url                      discovery ({api_roots, default}) or an API
 *                                root ({versions, max_content_length})
 *   GET <root>/                  the API root, when url was discovery
 *   GET <root>/collections/      pick the collection(s): id, title or all
 *   GET <root>/collections/ID/objects/?added_after=CURSOR&limit=N[&next=T]
 *                                page after page while the envelope says
 *                                `more`, handing each page to the caller
 *
 * Trust and bounds. Certificates and host names are checked unless the
 * source says verify: false; ca_file adds the CAs a partner's private
 * server needs. Every request has a total time-out, a connect time-out and
 * a low-speed limit (a server that stops sending is dropped long before the
 * total expires); every response body is capped at max_bytes, whether the
 * server announces its length or not (and after decompression); at most
 * five redirects are followed, never from https to http, and credentials
 * are never sent to another host than the one asked (libcurl's rule for
 * redirects). Only http and https URLs are fetched whatever a discovery
 * document lists. 429, 5xx and dropped connections are retried a bounded
 * number of times, waiting the server's Retry-After (up to retry_max_wait)
 * or 1, 2, 4... seconds; a time-out is not retried (a server that did not
 * answer in `timeout` seconds is down or overloaded, and the next pull will
 * try again).
 *
 * Resumption. Objects come in the order the server added them, so after
 * every page handed over, the cursor moves to that page's
 * X-TAXII-Date-Added-Last: whatever fails later, nothing before it needs
 * asking again, and nothing after it was skipped.
 *
 * max_content_length (API root) is the largest request body the server
 * accepts; a pull sends no bodies, so it is read and checked for form only.
 */
#include "intel/taxii.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intel/taxii-resp.h"
#include "util/buf.h"

#define SECRET_MAX    4096
#define MAX_REDIRECTS 5
#define URL_SHOWN     300 /* bytes of a URL quoted in a message */
#define LOW_SPEED_S   30  /* at most this long under 1 byte/s */
/* Discovery, API root and collections documents are read into a jansson
 * DOM (several times their size): they are small, and held to this. */
#define DOC_MAX_BYTES (8u << 20)

struct resp {
    long status;
    struct buf body;
    size_t cap; /* max_bytes */
    bool too_big;
    char ctype[256];
    char added_last[TAXII_TIMESTAMP_MAX];
    bool added_last_bad; /* header present but not a timestamp */
    char retry_after[64];
    bool no_answer; /* the exchange failed below HTTP (no answer, or cut off) */
};

struct session {
    const struct taxii_source *src;
    CURL *curl;
    struct curl_slist *headers;
    char *secret; /* password or token for this pull, wiped at the end */
    char curl_err[CURL_ERROR_SIZE];
    char *err;
    size_t errlen;
    char warning[512]; /* for the caller on success */
};

/* Write "source 'NAME': " + message into the session's err; returns rc. */
static int serr(struct session *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int serr(struct session *s, int rc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(s->err, s->errlen, "source '%s': %s", s->src->name ? s->src->name : "?", msg);
    return rc;
}

/* ---- the HTTP exchange ------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *opaque)
{
    struct resp *r = opaque;
    size_t n = size * nmemb;
    if (r->body.len + n > r->cap) {
        r->too_big = true;
        return 0; /* libcurl stops with CURLE_WRITE_ERROR */
    }
    buf_append(&r->body, p, n);
    return n;
}

/* Copy a header's value (blanks trimmed) into out. */
static void header_value(const char *v, size_t n, char *out, size_t outlen)
{
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *opaque)
{
    struct resp *r = opaque;
    size_t n = size * nmemb;
    if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
        /* a new response (after a redirect or a 100): forget the last one's */
        r->ctype[0] = r->added_last[0] = r->retry_after[0] = '\0';
        r->added_last_bad = false;
        return n;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return n;
    size_t kl = (size_t)(colon - p), vl = n - kl - 1;
    if (kl == 12 && !strncasecmp(p, "Content-Type", 12)) {
        header_value(colon + 1, vl, r->ctype, sizeof(r->ctype));
    } else if (kl == 11 && !strncasecmp(p, "Retry-After", 11)) {
        header_value(colon + 1, vl, r->retry_after, sizeof(r->retry_after));
    } else if (kl == 23 && !strncasecmp(p, "X-TAXII-Date-Added-Last", 23)) {
        char v[128];
        int64_t t;
        header_value(colon + 1, vl, v, sizeof(v));
        r->added_last_bad = !taxii_timestamp_read(v, strlen(v), &t);
        if (!r->added_last_bad)
            memcpy(r->added_last, v, strlen(v) + 1);
    }
    return n;
}

static const struct {
    long status;
    int rc;
    const char *reason;
    const char *hint; /* what the user can do, or NULL */
} http_statuses[] = {
    {400, -EIO, "Bad Request", "the server refused the request's parameters"},
    {401, -EACCES, "Unauthorized", "check auth: (user and password, or token)"},
    {403, -EACCES, "Forbidden", "these credentials may not read this; ask the server's operator"},
    {404, -ENOENT, "Not Found", "check url: and collection:"},
    {406, -EPROTO, "Not Acceptable",
     "the server does not offer TAXII 2.1 (" TAXII_MEDIA_TYPE ") here"},
    {408, -EIO, "Request Timeout", NULL},
    {413, -EIO, "Content Too Large", "set a smaller limit:"},
    {415, -EPROTO, "Unsupported Media Type", "the server does not speak TAXII 2.1"},
    {416, -EPROTO, "Range Not Satisfiable", "a TAXII 2.0 server? kenchi speaks TAXII 2.1"},
    {422, -EIO, "Unprocessable Content", NULL},
    {429, -EIO, "Too Many Requests", "the server limits the request rate"},
    {500, -EIO, "Internal Server Error", NULL},
    {501, -EIO, "Not Implemented", "the server does not implement this TAXII endpoint"},
    {502, -EIO, "Bad Gateway", NULL},
    {503, -EIO, "Service Unavailable", NULL},
    {504, -EIO, "Gateway Timeout", NULL},
};

static bool transient_status(long st)
{
    return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* Quote url for a message: at most URL_SHOWN bytes. */
static void shown_url(const char *url, char out[URL_SHOWN + 4])
{
    size_t n = strlen(url);
    if (n > URL_SHOWN) {
        memcpy(out, url, URL_SHOWN);
        strcpy(out + URL_SHOWN, "...");
    } else {
        memcpy(out, url, n + 1);
    }
}

/* One GET. Returns 0 for a 200 answer (r holds it), or a negative errno
 * with the message in the session's err; *transient tells whether trying
 * again may help. */
static int http_get_once(struct session *s, const char *url, struct resp *r, bool *transient)
{
    char u[URL_SHOWN + 4];
    shown_url(url, u);
    *transient = false;
    buf_clear(&r->body);
    r->status = 0;
    r->too_big = false;
    r->ctype[0] = r->added_last[0] = r->retry_after[0] = '\0';
    r->added_last_bad = false;
    s->curl_err[0] = '\0';
    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, r);
    CURLcode cc = curl_easy_perform(s->curl);
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &r->status);
    const char *why = s->curl_err[0] ? s->curl_err : curl_easy_strerror(cc);
    r->no_answer = cc != CURLE_OK && !r->too_big && cc != CURLE_FILESIZE_EXCEEDED;
    switch (cc) {
    case CURLE_OK:
        break;
    case CURLE_OPERATION_TIMEDOUT:
        return serr(s, -ETIMEDOUT, "GET %s: no complete answer in time (timeout %lds): %s", u,
                    s->src->timeout_s, why);
    case CURLE_FILESIZE_EXCEEDED:
        return serr(s, -EFBIG, "GET %s: the response is larger than max_bytes (%zu bytes)", u,
                    s->src->max_bytes);
    case CURLE_WRITE_ERROR:
        if (r->too_big)
            return serr(s, -EFBIG,
                        "GET %s: the response is larger than max_bytes (%zu bytes); stopped "
                        "reading",
                        u, s->src->max_bytes);
        return serr(s, -EIO, "GET %s: %s", u, why);
    case CURLE_TOO_MANY_REDIRECTS:
        return serr(s, -EIO, "GET %s: more than %d redirects (a redirect loop?)", u, MAX_REDIRECTS);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return serr(s, -EIO,
                    "GET %s: the server's certificate cannot be verified: %s (a private CA? "
                    "name it in ca_file)",
                    u, why);
    case CURLE_UNSUPPORTED_PROTOCOL:
        return serr(s, -EIO, "GET %s: %s (kenchi follows https:// sources to https:// only)", u,
                    why);
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        *transient = true;
        return serr(s, -EIO, "GET %s: the connection broke: %s", u, why);
    default:
        return serr(s, -EIO, "GET %s: %s", u, why);
    }
    if (r->status == 200)
        return 0;
    *transient = transient_status(r->status);
    const char *reason = "", *hint = NULL;
    int rc = -EIO;
    for (size_t i = 0; i < sizeof(http_statuses) / sizeof(http_statuses[0]); i++) {
        if (http_statuses[i].status == r->status) {
            reason = http_statuses[i].reason;
            hint = http_statuses[i].hint;
            rc = http_statuses[i].rc;
        }
    }
    char said[640];
    bool has = taxii_error_text(r->body.data ? r->body.data : "", r->body.len, said, sizeof(said));
    return serr(s, rc, "GET %s: HTTP %ld%s%s%s%s%s%s", u, r->status, reason[0] ? " " : "", reason,
                has ? "; the server says: " : "", has ? said : "", hint ? " - " : "",
                hint ? hint : "");
}

/* Seconds to wait before the next try: the server's Retry-After (seconds
 * or an HTTP date), or 2^attempt. -1 when the server asks for longer than
 * the source allows (*asked receives what it asked). */
static long retry_wait(const struct session *s, const struct resp *r, int attempt, long *asked)
{
    long w = -1;
    if (r->retry_after[0]) {
        char *end;
        long long v = strtoll(r->retry_after, &end, 10);
        if (end != r->retry_after && !*end && v >= 0) {
            w = v > 1000000 ? 1000000 : (long)v;
        } else {
            time_t when = curl_getdate(r->retry_after, NULL);
            if (when != -1) {
                time_t now = time(NULL);
                w = when > now ? (long)(when - now) : 0;
            }
        }
    }
    if (w < 0) {
        w = 1L << (attempt < 10 ? attempt : 10);
        if (w > s->src->retry_max_wait_s)
            w = s->src->retry_max_wait_s;
        return w;
    }
    *asked = w;
    return w > s->src->retry_max_wait_s ? -1 : w;
}

static void sleep_s(long sec)
{
    struct timespec ts = {sec, 0};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* GET with retries (see the file comment). Returns 0 with a 200 answer in
 * r, or a negative errno (err set). */
static int http_get(struct session *s, const char *url, struct resp *r)
{
    for (int attempt = 0;; attempt++) {
        bool transient;
        int rc = http_get_once(s, url, r, &transient);
        if (!rc || !transient)
            return rc;
        if (attempt >= s->src->retries) {
            if (attempt > 0) {
                size_t l = strlen(s->err);
                snprintf(s->err + l, s->errlen - l, " (gave up after %d tries)", attempt + 1);
            }
            return rc;
        }
        long asked = 0;
        long w = retry_wait(s, r, attempt, &asked);
        if (w < 0) {
            size_t l = strlen(s->err);
            snprintf(s->err + l, s->errlen - l,
                     " (the server asks to retry after %lds, more than retry_max_wait %lds: "
                     "not waiting)",
                     asked, s->src->retry_max_wait_s);
            return rc;
        }
        sleep_s(w);
    }
}

/* A 200 answer that must be TAXII JSON: check its Content-Type (and, for
 * the small documents, doc, its size). */
static int check_answer(struct session *s, const char *url, const struct resp *r, bool doc)
{
    char why[300];
    if (doc && r->body.len > DOC_MAX_BYTES) {
        char u[URL_SHOWN + 4];
        shown_url(url, u);
        return serr(s, -EFBIG, "GET %s: %zu bytes is too large for a TAXII document (at most %u)",
                    u, r->body.len, DOC_MAX_BYTES);
    }
    if (taxii_check_media_type(r->ctype, why, sizeof(why))) {
        char u[URL_SHOWN + 4];
        shown_url(url, u);
        return serr(s, -EPROTO, "GET %s: %s", u, why);
    }
    return 0;
}

/* ---- set-up -------------------------------------------------------------- */

/* Read a secret file: a regular file of at most SECRET_MAX bytes, one
 * line; trailing blanks and the line end are dropped. Returns 0 with a
 * malloc'd string in *out, or a negative errno (err set). */
static int read_secret(struct session *s, const char *key, const char *path, char **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return serr(s, -e, "%s %s: %s", key, path, strerror(e));
    }
    struct stat st;
    char *buf = NULL;
    int rc = 0;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        rc = serr(s, -EINVAL, "%s %s: not a regular file", key, path);
    } else if (!(buf = malloc(SECRET_MAX + 2))) {
        rc = serr(s, -ENOMEM, "out of memory");
    } else {
        ssize_t n = read(fd, buf, SECRET_MAX + 1);
        if (n < 0) {
            int e = errno;
            rc = serr(s, -e, "%s %s: %s", key, path, strerror(e));
        } else if (n > SECRET_MAX) {
            rc = serr(s, -EINVAL, "%s %s: larger than %d bytes", key, path, SECRET_MAX);
        } else {
            while (n > 0 && strchr(" \t\r\n", buf[n - 1]))
                n--;
            buf[n] = '\0';
            if (!n)
                rc = serr(s, -EINVAL, "%s %s: empty", key, path);
            else if (memchr(buf, '\0', (size_t)n) || strpbrk(buf, "\r\n"))
                rc = serr(s, -EINVAL, "%s %s: holds more than one line", key, path);
        }
    }
    close(fd);
    if (rc && buf) {
        explicit_bzero(buf, SECRET_MAX + 2);
        free(buf);
        buf = NULL;
    }
    *out = buf;
    return rc;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool is_https(const char *url)
{
    return !strncasecmp(url, "https://", 8);
}

static int session_open(struct session *s)
{
    const struct taxii_source *src = s->src;
    pthread_once(&curl_once, curl_init_once);
    const char *inline_secret = NULL, *file = NULL, *key = NULL;
    if (src->auth == TAXII_AUTH_BASIC) {
        inline_secret = src->password;
        file = src->password_file;
        key = "password_file";
    } else if (src->auth == TAXII_AUTH_BEARER) {
        inline_secret = src->token;
        file = src->token_file;
        key = "token_file";
    }
    if (file) {
        int rc = read_secret(s, key, file, &s->secret);
        if (rc)
            return rc;
    } else if (src->auth != TAXII_AUTH_NONE) {
        s->secret = strdup(inline_secret ? inline_secret : "");
        if (!s->secret)
            return serr(s, -ENOMEM, "out of memory");
    }
    s->curl = curl_easy_init();
    if (!s->curl)
        return serr(s, -ENOMEM, "cannot start libcurl");
    CURL *c = s->curl;
    s->headers = curl_slist_append(NULL, "Accept: " TAXII_MEDIA_TYPE);
    if (!s->headers)
        return serr(s, -ENOMEM, "out of memory");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "kenchi-taxii/2.1");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->curl_err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, is_https(src->url) ? "https" : "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, src->timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, src->connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                     src->timeout_s < LOW_SPEED_S ? src->timeout_s : (long)LOW_SPEED_S);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)src->max_bytes);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, src->verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, src->verify ? 2L : 0L);
    if (src->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, src->ca_file);
    if (src->auth == TAXII_AUTH_BASIC) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, src->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret);
    } else if (src->auth == TAXII_AUTH_BEARER) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, s->secret);
    }
    return 0;
}

static void session_close(struct session *s)
{
    if (s->curl)
        curl_easy_cleanup(s->curl);
    curl_slist_free_all(s->headers);
    if (s->secret) {
        explicit_bzero(s->secret, strlen(s->secret));
        free(s->secret);
    }
}

/* ---- URLs ---------------------------------------------------------------- */

/* rel resolved against base (both may be absolute), with a trailing '/'.
 * Returns a malloc'd URL or NULL (err set). */
static char *resolve_url(struct session *s, const char *base, const char *rel)
{
    CURLU *h = curl_url();
    char *out = NULL, *res = NULL;
    if (!h || curl_url_set(h, CURLUPART_URL, base, 0) || curl_url_set(h, CURLUPART_URL, rel, 0) ||
        curl_url_get(h, CURLUPART_URL, &out, 0)) {
        char shown[URL_SHOWN + 4];
        shown_url(rel, shown);
        serr(s, -EPROTO, "the discovery document names an API root that is not a URL: %s", shown);
    } else if (strncasecmp(out, "https://", 8) && strncasecmp(out, "http://", 7)) {
        serr(s, -EPROTO, "the discovery document names an API root that is not http(s)");
    } else if (is_https(base) && !is_https(out)) {
        serr(s, -EPROTO, "the discovery document (https) names a plain http API root: refused");
    } else {
        size_t n = strlen(out);
        res = malloc(n + 2);
        if (res) {
            memcpy(res, out, n + 1);
            if (!n || res[n - 1] != '/')
                strcpy(res + n, "/");
        }
    }
    curl_free(out);
    curl_url_cleanup(h);
    return res;
}

static char *with_slash(const char *url)
{
    size_t n = strlen(url);
    char *o = malloc(n + 2);
    if (o) {
        memcpy(o, url, n + 1);
        if (!n || o[n - 1] != '/')
            strcpy(o + n, "/");
    }
    return o;
}

/* ---- the conversation ---------------------------------------------------- */

/* GET url as a discovery document or an API root into d. */
static int get_root_doc(struct session *s, const char *url, struct resp *r,
                        struct taxii_root_doc *d)
{
    char why[512], u[URL_SHOWN + 4];
    memset(d, 0, sizeof(*d));
    int rc = http_get(s, url, r);
    if (!rc)
        rc = check_answer(s, url, r, true);
    if (!rc && (rc = taxii_parse_root(r->body.data, r->body.len, d, why, sizeof(why)))) {
        shown_url(url, u);
        rc = serr(s, rc, "%s: %s", u, why);
    }
    return rc;
}

/* The API root the source's url leads to: the url itself, or the default
 * (or only) root of the discovery document it serves. The root must offer
 * TAXII 2.1. *root receives its URL with a trailing '/' (malloc'd). */
static int find_api_root(struct session *s, struct resp *r, char **root)
{
    const char *url = s->src->url;
    char u[URL_SHOWN + 4];
    struct taxii_root_doc d;
    char *at = NULL;
    int rc = get_root_doc(s, url, r, &d);
    if (!rc && d.discovery) {
        const char *pick = d.default_root;
        if (!pick && d.nroots == 1)
            pick = d.roots[0];
        if (pick) {
            at = resolve_url(s, url, pick);
            rc = at ? 0 : -EPROTO;
        } else {
            char list[600] = "";
            size_t l = 0;
            for (size_t i = 0; i < d.nroots && l < sizeof(list) - 1; i++)
                l +=
                    (size_t)snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", d.roots[i]);
            shown_url(url, u);
            rc = serr(s, -ENOENT,
                      "%s: the discovery document names %s API root%s and no default: set url "
                      "to one of them%s%s",
                      u, d.nroots ? "several" : "no", d.nroots == 1 ? "" : "s",
                      d.nroots ? ": " : "", list);
        }
        taxii_root_doc_free(&d);
        if (!rc && !(rc = get_root_doc(s, at, r, &d)) && d.discovery) {
            shown_url(at, u);
            rc = serr(s, -EPROTO, "%s: the API root answers with a discovery document", u);
        }
    } else if (!rc) {
        at = with_slash(url);
        if (!at)
            rc = serr(s, -ENOMEM, "out of memory");
    }
    if (!rc && !d.speaks_21) {
        shown_url(at, u);
        rc = serr(s, -EPROTO, "%s: the API root offers %s, not TAXII 2.1", u,
                  d.versions && d.versions[0] ? d.versions : "no TAXII version");
    }
    taxii_root_doc_free(&d);
    if (rc) {
        free(at);
        return rc;
    }
    *root = at;
    return 0;
}

/* The collections the source names: indexes into c->v, in *pick. */
static int choose_collections(struct session *s, const struct taxii_collections *c,
                              const char *root, size_t *pick, size_t *npick)
{
    const char *want = s->src->collection;
    char u[URL_SHOWN + 4];
    shown_url(root, u);
    *npick = 0;
    if (!strcmp(want, "all")) {
        for (size_t i = 0; i < c->n; i++)
            if (c->v[i].can_read)
                pick[(*npick)++] = i;
        if (!*npick)
            return serr(s, -ENOENT, "%scollections/: no readable collection (of %zu)", u, c->n);
        return 0;
    }
    size_t found = c->n;
    for (size_t i = 0; i < c->n && found == c->n; i++)
        if (!strcmp(c->v[i].id, want))
            found = i;
    for (size_t i = 0; i < c->n && found == c->n; i++) {
        if (c->v[i].title && !strcmp(c->v[i].title, want)) {
            for (size_t j = i + 1; j < c->n; j++)
                if (c->v[j].title && !strcmp(c->v[j].title, want))
                    return serr(s, -EINVAL,
                                "%scollections/: several collections have the title '%s': name "
                                "the one meant by its id",
                                u, want);
            found = i;
        }
    }
    if (found == c->n) {
        char list[600] = "";
        size_t l = 0;
        for (size_t i = 0; i < c->n && l < sizeof(list) - 1; i++)
            l += (size_t)snprintf(list + l, sizeof(list) - l, "%s%s (%s)", i ? ", " : "",
                                  c->v[i].id, c->v[i].title ? c->v[i].title : "no title");
        return serr(s, -ENOENT, "%scollections/: no collection with the id or title '%s'%s%s", u,
                    want, c->n ? "; there are: " : " (the server lists none)", list);
    }
    if (!c->v[found].can_read)
        return serr(s, -EACCES, "%scollections/: collection '%s' is not readable (can_read false)",
                    u, want);
    pick[(*npick)++] = found;
    return 0;
}

struct pull {
    struct session *s;
    struct taxii_cursor *cur;
    int (*on_objects)(void *opaque, const char *json, size_t n, const char *url);
    void *opaque;
    bool stop; /* the reader refused a page, or the server cannot be reached */
};

static void add_query(struct buf *b, const char *key, const char *value)
{
    char *v = taxii_escape(value);
    buf_puts(b, b->len && strchr(b->data, '?') ? "&" : "?");
    buf_puts(b, key);
    buf_putc(b, '=');
    buf_puts(b, v ? v : "");
    free(v);
}

/* Pull one collection's pages. */
static int pull_collection(struct pull *p, const char *root, const char *id, struct resp *r)
{
    struct session *s = p->s;
    const struct taxii_source *src = s->src;
    char *eid = taxii_escape(id);
    if (!eid)
        return serr(s, -ENOMEM, "out of memory");
    struct buf objects_url, url;
    buf_init(&objects_url);
    buf_init(&url);
    buf_printf(&objects_url, "%scollections/%s/objects/", root, eid);
    free(eid);

    char after[TAXII_TIMESTAMP_MAX] = "";
    const char *start = taxii_cursor_get(p->cur, id);
    if (start) {
        snprintf(after, sizeof(after), "%s", start);
        taxii_cursor_set(p->cur, id, start); /* kept in the cursor even if nothing new */
    }
    char *next = NULL;
    int rc = 0;
    bool warned_no_date = false;
    for (long page = 0;; page++) {
        if (page >= src->max_pages) {
            snprintf(s->warning, sizeof(s->warning),
                     "source '%s': stopped after max_pages (%ld) pages of %s; the next pull "
                     "continues from there",
                     src->name, src->max_pages, objects_url.data);
            break;
        }
        buf_clear(&url);
        buf_puts(&url, objects_url.data);
        if (after[0])
            add_query(&url, "added_after", after);
        if (src->limit > 0) {
            char lim[24];
            snprintf(lim, sizeof(lim), "%ld", src->limit);
            add_query(&url, "limit", lim);
        }
        if (next)
            add_query(&url, "next", next);
        rc = http_get(s, url.data, r);
        if (!rc)
            rc = check_answer(s, url.data, r, false);
        if (rc) {
            p->stop = r->no_answer; /* the server is unreachable: no use going on */
            break;
        }
        char why[512], u[URL_SHOWN + 4];
        struct taxii_envelope env;
        rc = taxii_parse_envelope(r->body.data, r->body.len, &env, why, sizeof(why));
        if (rc) {
            shown_url(url.data, u);
            rc = serr(s, rc, "%s: %s", u, why);
            taxii_envelope_free(&env);
            break;
        }
        if (r->added_last_bad)
            snprintf(s->warning, sizeof(s->warning),
                     "source '%s': the server's X-TAXII-Date-Added-Last is not a timestamp; "
                     "ignored",
                     src->name);
        const char *page_last = r->added_last[0]      ? r->added_last
                                : env.newest_added[0] ? env.newest_added
                                                      : NULL;
        if (env.nobjects) {
            rc = p->on_objects(p->opaque, r->body.data, r->body.len, objects_url.data);
            if (rc) {
                p->stop = true;
                rc = serr(s, rc < 0 ? rc : -ECANCELED,
                          "%s: the objects were refused by the reader; stopped", objects_url.data);
                taxii_envelope_free(&env);
                break;
            }
            if (!page_last && !warned_no_date) {
                warned_no_date = true;
                snprintf(s->warning, sizeof(s->warning),
                         "source '%s': the server sent no X-TAXII-Date-Added-Last, so the "
                         "cursor cannot move: the next pull fetches these objects again",
                         src->name);
            }
        }
        if (page_last)
            taxii_cursor_set(p->cur, id, page_last);
        if (!env.more) {
            taxii_envelope_free(&env);
            break;
        }
        shown_url(url.data, u);
        if (env.next) {
            if (next && !strcmp(next, env.next)) {
                rc = serr(s, -EPROTO, "%s: the server sent the same `next` again (a loop)", u);
                taxii_envelope_free(&env);
                break;
            }
            free(next);
            next = env.next;
            env.next = NULL;
        } else if (page_last && taxii_timestamp_later(after, page_last)) {
            /* TAXII 2.1: no `next`, so go on from the last date added */
            free(next);
            next = NULL;
            snprintf(after, sizeof(after), "%s", page_last);
        } else {
            rc = serr(s, -EPROTO,
                      "%s: `more` is true but there is no `next` and no later "
                      "X-TAXII-Date-Added-Last to go on from",
                      u);
            taxii_envelope_free(&env);
            break;
        }
        taxii_envelope_free(&env);
    }
    free(next);
    buf_free(&url);
    buf_free(&objects_url);
    return rc;
}

int taxii_pull(const struct taxii_source *src, const char *cursor_in,
               int (*on_objects)(void *opaque, const char *json, size_t n, const char *url),
               void *opaque, char **cursor_out, char *err, size_t errlen)
{
    struct session s = {.src = src, .err = err, .errlen = errlen};
    struct taxii_cursor cur;
    struct resp r = {.cap = src->max_bytes};
    struct taxii_collections cols = {0};
    char *root = NULL;
    size_t *pick = NULL, npick = 0;
    bool single = src->collection && strcmp(src->collection, "all");
    char single_id[TAXII_MAX_STRING + 1] = "";
    *cursor_out = NULL;
    err[0] = '\0';
    buf_init(&r.body);

    char why[512];
    int rc = taxii_cursor_parse(cursor_in, &cur, why, sizeof(why));
    if (rc) {
        serr(&s, rc, "%s", why);
        memset(&cur, 0, sizeof(cur));
        /* keep the caller's cursor as it was: it is not ours to drop */
        *cursor_out = cursor_in ? strdup(cursor_in) : NULL;
        return rc;
    }
    if (!src->name || !src->url || !src->collection || !on_objects) {
        rc = serr(&s, -EINVAL, "the source needs a name, a url and a collection");
        goto out;
    }
    rc = session_open(&s);
    if (rc)
        goto out;
    rc = find_api_root(&s, &r, &root);
    if (rc)
        goto out;

    struct buf cols_url;
    buf_init(&cols_url);
    buf_printf(&cols_url, "%scollections/", root);
    rc = http_get(&s, cols_url.data, &r);
    if (!rc)
        rc = check_answer(&s, cols_url.data, &r, true);
    if (!rc) {
        rc = taxii_parse_collections(r.body.data, r.body.len, &cols, why, sizeof(why));
        if (rc) {
            char u[URL_SHOWN + 4];
            shown_url(cols_url.data, u);
            rc = serr(&s, rc, "%s: %s", u, why);
        }
    }
    buf_free(&cols_url);
    if (rc)
        goto out;
    pick = calloc(cols.n ? cols.n : 1, sizeof(*pick));
    if (!pick) {
        rc = serr(&s, -ENOMEM, "out of memory");
        goto out;
    }
    rc = choose_collections(&s, &cols, root, pick, &npick);
    if (rc)
        goto out;
    if (single)
        snprintf(single_id, sizeof(single_id), "%s", cols.v[pick[0]].id);

    struct pull p = {&s, &cur, on_objects, opaque, false};
    char first_err[1024] = "";
    int first_rc = 0;
    for (size_t i = 0; i < npick; i++) {
        rc = pull_collection(&p, root, cols.v[pick[i]].id, &r);
        if (rc && !first_rc) {
            first_rc = rc;
            snprintf(first_err, sizeof(first_err), "%s", err);
        }
        if (p.stop)
            break;
    }
    rc = first_rc;
    if (rc)
        snprintf(err, errlen, "%s", first_err);

out:
    if (!rc)
        snprintf(err, errlen, "%s", s.warning);
    if (single && single_id[0])
        *cursor_out = taxii_cursor_format(&cur, single_id);
    else if (single)
        /* the collection was not reached: give back what came in */
        *cursor_out = cursor_in && cursor_in[0] ? strdup(cursor_in) : NULL;
    else
        *cursor_out = taxii_cursor_format(&cur, NULL);
    taxii_cursor_free(&cur);
    taxii_collections_free(&cols);
    free(pick);
    free(root);
    buf_free(&r.body);
    session_close(&s);
    return rc;
}
