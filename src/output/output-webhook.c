/*
 * output-webhook.c - alerts POSTed as JSON to an HTTP(S) endpoint.
 *
 * Each alert is one POST of its JSON (Content-Type: application/json) to
 * the configured url, with two headers a receiver can rely on:
 * X-Kenchi-Alert-Id (the alert's stable id: a receiver drops repeats with
 * it, since a POST whose answer was lost is sent again) and
 * X-Kenchi-Alert-Seq (the alert's place in commit order).
 *
 * The answer decides: 2xx is delivered; 408, 425, 429, 5xx, a connection
 * that fails or a time-out mean "later" (-EAGAIN: the delivery thread
 * offers the same alert again after its back-off, or after the
 * Retry-After the receiver sent when that is longer); any other status
 * (3xx: redirects are not followed; 4xx) means this alert will never be
 * accepted (-EPROTO, with the status and the first bytes of the answer),
 * and the thread moves on.
 *
 * One curl handle per output, reused: the connection is kept alive between
 * alerts. Secrets given as files (bearer_token_file, basic.password_file)
 * are read by open() and again by reopen() (SIGHUP), so a rotated token is
 * picked up without a restart. The answer's body is kept up to
 * WEBHOOK_BODY_KEEP bytes and the rest thrown away; curl never writes a
 * file and follows no redirect.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output/output-webhook.h"
#include "output/output.h"

#define WEBHOOK_BODY_KEEP  512  /* bytes of an answer kept for messages */
#define WEBHOOK_SECRET_MAX 4096 /* bytes of a secret file */

/* Credentials as sent, both malloc'd or NULL. */
struct secrets {
    char *auth_header; /* "Authorization: Bearer ..." */
    char *userpwd;     /* "user:password" */
};

static void secrets_free(struct secrets *s)
{
    free(s->auth_header);
    free(s->userpwd);
    s->auth_header = s->userpwd = NULL;
}

struct webhook {
    /* settings (strings point into the configuration's arena) */
    const char *url;
    const char **header_lines; /* "Name: value", NULL-terminated, or NULL */
    const char *bearer_token;
    const char *bearer_token_file;
    const char *basic_user;
    const char *basic_password;
    const char *basic_password_file;
    const char *ca_file;
    bool tls_verify;
    int64_t timeout_ns;
    /* running */
    CURL *curl;
    bool curl_global;
    const char *shown; /* the url as messages show it: scheme://host[:port] */
    struct secrets cur;
    /* reopen() (any thread) leaves newly read secrets here; deliver()
     * takes them before its next request */
    pthread_mutex_t lock;
    bool lock_made;
    bool has_next;
    struct secrets next;
    char body[WEBHOOK_BODY_KEEP + 1];
    size_t body_n;
    int64_t retry_after_s; /* from the last answer, -1 when none */
    int64_t retry_after_ns;
};

static const char *const webhook_keys[] = {
    OUTPUT_COMMON_KEYS, OUTPUT_RETRY_KEY,    "url",   "headers",
    "bearer_token",     "bearer_token_file", "basic", "ca_file",
    "tls_verify",       "timeout",           NULL,
};

/* A header name as RFC 9110 allows (a token); values must hold no CR, LF
 * or NUL, so nothing can be smuggled into the request. */
static bool header_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return false;
    return true;
}

static bool header_value_ok(const char *s)
{
    return !strpbrk(s, "\r\n");
}

/* Headers kenchi sets itself: configuring them is refused. */
static bool header_reserved(const char *name)
{
    static const char *const reserved[] = {
        "content-type",       "content-length",    "host", "x-kenchi-alert-id",
        "x-kenchi-alert-seq", "transfer-encoding", NULL};
    for (size_t i = 0; reserved[i]; i++)
        if (!strcasecmp(name, reserved[i]))
            return true;
    return false;
}

static void read_headers(struct conf_ctx *c, const struct ynode *node, struct webhook *w)
{
    const struct ynode *h = ynode_get(node, "headers");
    if (!h)
        return;
    if (!conf_is_map(c, h, "headers"))
        return;
    const char **lines = arena_alloc(c->arena, (h->map.n + 1) * sizeof(*lines));
    size_t n = 0;
    for (size_t i = 0; i < h->map.n; i++) {
        const struct ynode *k = h->map.pairs[i].key, *v = h->map.pairs[i].val;
        if (k->kind != YNODE_SCALAR || !header_name_ok(k->scalar.s)) {
            conf_error(c, k, "headers: '%s' is not a header name",
                       k->kind == YNODE_SCALAR ? k->scalar.s : "?");
            continue;
        }
        if (header_reserved(k->scalar.s)) {
            conf_error(c, k, "headers: %s is set by kenchi and cannot be configured", k->scalar.s);
            continue;
        }
        if (!strcasecmp(k->scalar.s, "authorization")) {
            conf_error(c, k,
                       "headers: give Authorization with bearer_token, bearer_token_file or "
                       "basic (kept out of messages)");
            continue;
        }
        if (v->kind != YNODE_SCALAR || strlen(v->scalar.s) != v->scalar.n ||
            !header_value_ok(v->scalar.s)) {
            conf_error(c, v, "headers: %s: the value must be one line of text", k->scalar.s);
            continue;
        }
        size_t len = strlen(k->scalar.s) + 2 + v->scalar.n + 1;
        char *line = arena_alloc(c->arena, len);
        snprintf(line, len, "%s: %s", k->scalar.s, v->scalar.s);
        lines[n++] = line;
    }
    lines[n] = NULL;
    w->header_lines = lines;
}

static void read_basic(struct conf_ctx *c, const struct ynode *node, struct webhook *w)
{
    const struct ynode *b = ynode_get(node, "basic");
    if (!b || !conf_is_map(c, b, "basic"))
        return;
    static const char *const keys[] = {"user", "password", "password_file", NULL};
    conf_check_keys(c, b, keys);
    if (conf_need(c, b, "user"))
        conf_str(c, b, "user", &w->basic_user);
    conf_str(c, b, "password", &w->basic_password);
    conf_str(c, b, "password_file", &w->basic_password_file);
    if (w->basic_user && strchr(w->basic_user, ':'))
        conf_error(c, ynode_get(b, "user"), "basic: user: a user name cannot hold ':'");
    if (!!w->basic_password + !!w->basic_password_file != 1)
        conf_error(c, b, "basic: give one of password or password_file");
}

/* The url without what may be secret (user, path, query): messages name
 * the receiver by scheme://host[:port] only. In the configuration's
 * arena. */
static const char *shown_url(struct conf_ctx *c, const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t hn = strcspn(host, "/?#");
    const char *at = memrchr(host, '@', hn);
    size_t scheme_n = (size_t)(host - url);
    if (at) {
        hn -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    char *out = arena_alloc(c->arena, scheme_n + hn + 1);
    memcpy(out, url, scheme_n);
    memcpy(out + scheme_n, host, hn);
    out[scheme_n + hn] = '\0';
    return out;
}

static int webhook_configure(struct conf_ctx *c, const struct ynode *node, void **state)
{
    *state = NULL;
    if (!conf_is_map(c, node, "output"))
        return -1;
    unsigned before = c->nerrors;
    struct webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return -1;
    w->tls_verify = true;
    w->timeout_ns = 10LL * 1000000000;
    conf_check_keys(c, node, webhook_keys);
    if (conf_need(c, node, "url") && conf_str(c, node, "url", &w->url) == 1 &&
        strncasecmp(w->url, "http://", 7) && strncasecmp(w->url, "https://", 8))
        conf_error(c, ynode_get(node, "url"), "url: '%s' is not an http:// or https:// URL",
                   w->url);
    if (w->url) {
        w->shown = shown_url(c, w->url);
        CURLU *u = curl_url();
        CURLUcode uc = u ? curl_url_set(u, CURLUPART_URL, w->url, 0) : CURLUE_OUT_OF_MEMORY;
        if (uc != CURLUE_OK)
            conf_error(c, ynode_get(node, "url"), "url: %s: %s", w->shown, curl_url_strerror(uc));
        curl_url_cleanup(u);
    }
    read_headers(c, node, w);
    conf_str(c, node, "bearer_token", &w->bearer_token);
    conf_str(c, node, "bearer_token_file", &w->bearer_token_file);
    read_basic(c, node, w);
    if (w->bearer_token && !header_value_ok(w->bearer_token))
        conf_error(c, ynode_get(node, "bearer_token"), "bearer_token: must be one line");
    int nauth = !!w->bearer_token + !!w->bearer_token_file + !!ynode_get(node, "basic");
    if (nauth > 1)
        conf_error(c, node, "give only one of bearer_token, bearer_token_file and basic");
    conf_str(c, node, "ca_file", &w->ca_file);
    conf_bool(c, node, "tls_verify", &w->tls_verify);
    conf_duration(c, node, "timeout", 100LL * 1000000, 3600LL * 1000000000, &w->timeout_ns);
    struct output_retry r;
    output_retry_settings(c, node, &r);
    *state = w;
    return c->nerrors == before ? 0 : -1;
}

/* The first line of a secret file, without its line end, in a malloc'd
 * string; NULL with err set on failure. */
static char *read_secret(const char *path, const char *what, char *err, size_t errn)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errn, "%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    char *s = malloc(WEBHOOK_SECRET_MAX + 2);
    size_t n = s ? fread(s, 1, WEBHOOK_SECRET_MAX + 1, f) : 0;
    fclose(f);
    if (!s) {
        snprintf(err, errn, "out of memory");
        return NULL;
    }
    s[n] = '\0';
    s[strcspn(s, "\r\n")] = '\0';
    n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    if (n > WEBHOOK_SECRET_MAX || !n) {
        snprintf(err, errn, "%s %s: %s", what, path,
                 n ? "longer than 4096 bytes" : "empty (the first line is the secret)");
        free(s);
        return NULL;
    }
    return s;
}

/* Read the credentials (secret files included) into *out. Returns 0, or a
 * negative errno with err set (*out then empty). Touches nothing shared. */
static int load_secrets(const struct webhook *w, struct secrets *out, char *err, size_t errn)
{
    char *token = NULL, *password = NULL;
    memset(out, 0, sizeof(*out));
    if (w->bearer_token_file &&
        !(token = read_secret(w->bearer_token_file, "bearer_token_file", err, errn)))
        return -EACCES;
    if (w->basic_password_file &&
        !(password = read_secret(w->basic_password_file, "basic.password_file", err, errn))) {
        free(token);
        return -EACCES;
    }
    const char *t = token ? token : w->bearer_token;
    int rc = 0;
    if (t && asprintf(&out->auth_header, "Authorization: Bearer %s", t) < 0) {
        out->auth_header = NULL;
        rc = -ENOMEM;
    }
    const char *p = password ? password : w->basic_password;
    if (w->basic_user && p && asprintf(&out->userpwd, "%s:%s", w->basic_user, p) < 0) {
        out->userpwd = NULL;
        rc = -ENOMEM;
    }
    if (token)
        explicit_bzero(token, strlen(token));
    if (password)
        explicit_bzero(password, strlen(password));
    free(token);
    free(password);
    if (rc) {
        secrets_free(out);
        snprintf(err, errn, "out of memory");
    }
    return rc;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct webhook *w = userp;
    size_t n = size * nmemb, room = WEBHOOK_BODY_KEEP - w->body_n;
    size_t keep = n < room ? n : room;
    memcpy(w->body + w->body_n, data, keep);
    w->body_n += keep;
    w->body[w->body_n] = '\0';
    return n; /* the rest is read and dropped */
}

int64_t webhook_retry_after_s(const char *v, size_t n, int64_t now_s)
{
    char buf[128];
    while (n && isspace((unsigned char)*v))
        v++, n--;
    while (n && isspace((unsigned char)v[n - 1]))
        n--;
    if (!n || n >= sizeof(buf) || memchr(v, '\0', n))
        return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    if (isdigit((unsigned char)buf[0])) {
        int64_t s = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)buf[i]))
                return -1;
            if (s < WEBHOOK_RETRY_AFTER_CAP_S)
                s = s * 10 + (buf[i] - '0');
        }
        return s < WEBHOOK_RETRY_AFTER_CAP_S ? s : WEBHOOK_RETRY_AFTER_CAP_S;
    }
    time_t t = curl_getdate(buf, NULL);
    if (t == -1)
        return -1;
    int64_t d = (int64_t)t - now_s;
    return d <= 0 ? 0 : d < WEBHOOK_RETRY_AFTER_CAP_S ? d : WEBHOOK_RETRY_AFTER_CAP_S;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct webhook *w = userp;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof(name) - 1 && !strncasecmp(data, name, sizeof(name) - 1))
        w->retry_after_s = webhook_retry_after_s(data + sizeof(name) - 1, n - (sizeof(name) - 1),
                                                 (int64_t)time(NULL));
    return n;
}

static int webhook_open(void *state, char *err, size_t errn)
{
    struct webhook *w = state;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errn, "libcurl could not start");
        return -EIO;
    }
    w->curl_global = true;
    if (pthread_mutex_init(&w->lock, NULL)) {
        snprintf(err, errn, "cannot make a lock");
        return -ENOMEM;
    }
    w->lock_made = true;
    int rc = load_secrets(w, &w->cur, err, errn);
    if (rc)
        return rc;
    CURL *c = w->curl = curl_easy_init();
    if (!c) {
        snprintf(err, errn, "libcurl could not make a handle");
        return -ENOMEM;
    }
    long timeout_ms = (long)(w->timeout_ns / 1000000);
    curl_easy_setopt(c, CURLOPT_URL, w->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "kenchi");
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, w);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, w->tls_verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, w->tls_verify ? 2L : 0L);
    if (w->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, w->ca_file);
    if (w->cur.userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, w->cur.userpwd);
    }
    return 0;
}

/* SIGHUP, from any thread: the secret files are read again now (a file
 * that cannot be read keeps the credentials in use, and says so by the
 * result); deliver() switches to them at its next alert. */
static int webhook_reopen(void *state)
{
    struct webhook *w = state;
    char err[256];
    if (!w->curl || (!w->bearer_token_file && !w->basic_password_file))
        return 0;
    struct secrets fresh;
    int rc = load_secrets(w, &fresh, err, sizeof(err));
    if (rc)
        return rc;
    pthread_mutex_lock(&w->lock);
    secrets_free(&w->next);
    w->next = fresh;
    w->has_next = true;
    pthread_mutex_unlock(&w->lock);
    return 0;
}

/* In deliver(): take the secrets reopen() left. */
static void take_next_secrets(struct webhook *w)
{
    pthread_mutex_lock(&w->lock);
    if (w->has_next) {
        secrets_free(&w->cur);
        w->cur = w->next;
        memset(&w->next, 0, sizeof(w->next));
        w->has_next = false;
        curl_easy_setopt(w->curl, CURLOPT_USERPWD, w->cur.userpwd);
    }
    pthread_mutex_unlock(&w->lock);
}

/* The first line of the answer's kept bytes, made printable, for messages. */
static void answer_excerpt(const struct webhook *w, char *out, size_t outn)
{
    size_t j = 0;
    for (size_t i = 0; i < w->body_n && j + 1 < outn && i < 200; i++) {
        unsigned char ch = (unsigned char)w->body[i];
        if (ch == '\n' || ch == '\r') {
            if (j)
                break;
            continue;
        }
        out[j++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    out[j] = '\0';
}

static bool status_is_later(long status)
{
    return status == 408 || status == 425 || status == 429 || (status >= 500 && status <= 599);
}

static int webhook_deliver(void *state, const struct alert_msg *m, char *err, size_t errn)
{
    struct webhook *w = state;
    if (!w->curl) {
        snprintf(err, errn, "not open");
        return -EAGAIN;
    }
    take_next_secrets(w);
    struct curl_slist *hdr = NULL, *tmp;
    char id_line[300], seq_line[64];
    snprintf(id_line, sizeof(id_line), "X-Kenchi-Alert-Id: %.256s", m->id);
    if (!header_value_ok(id_line))
        snprintf(id_line, sizeof(id_line), "X-Kenchi-Alert-Id:");
    snprintf(seq_line, sizeof(seq_line), "X-Kenchi-Alert-Seq: %" PRIu64, m->seq);
    const char *fixed[] = {"Content-Type: application/json", "Expect:", id_line, seq_line,
                           w->cur.auth_header};
    bool nomem = false;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && !nomem; i++) {
        if (!fixed[i])
            continue;
        if (!(tmp = curl_slist_append(hdr, fixed[i])))
            nomem = true;
        else
            hdr = tmp;
    }
    for (size_t i = 0; w->header_lines && w->header_lines[i] && !nomem; i++) {
        if (!(tmp = curl_slist_append(hdr, w->header_lines[i])))
            nomem = true;
        else
            hdr = tmp;
    }
    if (nomem) {
        curl_slist_free_all(hdr);
        snprintf(err, errn, "out of memory");
        return -EAGAIN;
    }
    char cerr[CURL_ERROR_SIZE];
    cerr[0] = '\0';
    w->body_n = 0;
    w->body[0] = '\0';
    w->retry_after_s = -1;
    w->retry_after_ns = 0;
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, m->json);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)m->n);
    curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(w->curl);
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(w->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdr);
    if (cc != CURLE_OK) {
        /* connection refused, time-out, TLS failure: all wait for the
         * receiver (or its certificate) to be fixed, alerts kept */
        snprintf(err, errn, "%s: %s", w->shown, cerr[0] ? cerr : curl_easy_strerror(cc));
        return -EAGAIN;
    }
    long status = 0;
    curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status <= 299)
        return 0;
    char excerpt[208];
    answer_excerpt(w, excerpt, sizeof(excerpt));
    if (status_is_later(status)) {
        if (w->retry_after_s >= 0)
            w->retry_after_ns = w->retry_after_s * 1000000000LL;
        snprintf(err, errn, "%s: HTTP %ld, later%s%s%s", w->shown, status,
                 w->retry_after_s >= 0 ? " (Retry-After given)" : "", excerpt[0] ? ": " : "",
                 excerpt);
        return -EAGAIN;
    }
    snprintf(err, errn, "%s: HTTP %ld, alert %s refused%s%s", w->shown, status, m->id,
             excerpt[0] ? ": " : "", excerpt);
    return -EPROTO;
}

static int64_t webhook_retry_after_ns(void *state)
{
    struct webhook *w = state;
    return w->retry_after_ns;
}

static void webhook_close(void *state)
{
    struct webhook *w = state;
    if (!w)
        return;
    if (w->curl)
        curl_easy_cleanup(w->curl);
    if (w->curl_global)
        curl_global_cleanup();
    secrets_free(&w->cur);
    secrets_free(&w->next);
    if (w->lock_made)
        pthread_mutex_destroy(&w->lock);
    free(w);
}

const struct output_ops output_webhook = {
    .type = "webhook",
    .configure = webhook_configure,
    .open = webhook_open,
    .last_delivered = NULL,
    .deliver = webhook_deliver,
    .reopen = webhook_reopen,
    .close = webhook_close,
    .retry_after_ns = webhook_retry_after_ns,
};
