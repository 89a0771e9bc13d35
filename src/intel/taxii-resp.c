/*
 * taxii-resp.c - reading TAXII 2.1 response bodies and headers; see
 * taxii-resp.h.
 *
 * The small documents (discovery, API root, collections, error messages)
 * are read with jansson into a DOM, checked, and only the fields the client
 * needs are copied out. The objects envelope, which can be as large as the
 * configured max_bytes (64 MiB by default), is not: a one-pass scanner
 * proves it is JSON and notes `more`, `next` and `date_added` without
 * building anything, and its raw text is what goes on to the STIX reader.
 *
 * Messages quote server-supplied strings only through clean_copy(), which
 * bounds their length and replaces control characters, so a hostile server
 * cannot break a terminal or a log line through kenchi's messages.
 */
#include "intel/taxii-resp.h"

/* before jansson.h, whose json_is_number macro would clash with buf.h */
#include "util/buf.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/timeconv.h"
#include "util/utf8.h"

/* Copy s into out (outlen > 0) with control bytes as '?' and at most
 * outlen - 1 bytes (cut at a UTF-8 boundary). */
static void clean_copy(char *out, size_t outlen, const char *s)
{
    size_t o = 0;
    for (; *s && o + 1 < outlen; s++)
        out[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    /* do not leave half a UTF-8 sequence at the cut */
    if (*s)
        while (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
            o--;
    if (*s && o > 0 && (unsigned char)out[o - 1] >= 0xC0)
        o--;
    out[o] = '\0';
}

static json_t *load(const char *json, size_t n, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(json, n, JSON_DECODE_ANY, &je);
    if (!root) {
        char why[160];
        clean_copy(why, sizeof(why), je.text);
        snprintf(err, errlen, "bad JSON at line %d, column %d: %s", je.line, je.column, why);
    }
    return root;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

/* How get_string treats control characters: keep them (a token that is
 * only ever percent-encoded), refuse them (ids and URLs, which are also
 * quoted in messages), or replace them with '?' (titles). */
enum ctl { CTL_KEEP, CTL_REFUSE, CTL_CLEAN };

/* Optional bounded string member: 0 (out NULL when absent or null), or
 * -EPROTO. */
static int get_string(const json_t *obj, const char *key, char **out, enum ctl ctl,
                      const char *what, char *err, size_t errlen)
{
    *out = NULL;
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "%s`%s` is %s, not a string", what, key, type_name(v));
        return -EPROTO;
    }
    size_t len = json_string_length(v);
    const char *sv = json_string_value(v);
    if (len > TAXII_MAX_STRING) {
        snprintf(err, errlen, "%s`%s` is %zu bytes long (at most %d)", what, key, len,
                 TAXII_MAX_STRING);
        return -EPROTO;
    }
    if (memchr(sv, '\0', len) || (ctl == CTL_REFUSE && has_control(sv, len))) {
        snprintf(err, errlen, "%s`%s` holds control characters", what, key);
        return -EPROTO;
    }
    *out = strdup(sv);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (ctl == CTL_CLEAN)
        for (char *p = *out; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
    return 0;
}

static int not_object(const json_t *root, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "the %s is %s, not a JSON object", what, type_name(root));
    return -EPROTO;
}

int taxii_parse_root(const char *json, size_t n, struct taxii_root_doc *out, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->max_length = -1;
    json_t *root = load(json, n, err, errlen);
    if (!root)
        return -EPROTO;
    int rc = 0;
    if (!json_is_object(root)) {
        rc = not_object(root, "response", err, errlen);
        goto done;
    }
    const json_t *versions = json_object_get(root, "versions");
    const json_t *roots = json_object_get(root, "api_roots");
    const json_t *def = json_object_get(root, "default");
    if ((rc = get_string(root, "title", &out->title, CTL_CLEAN, "", err, errlen)))
        goto done;
    if (versions) {
        /* an API root */
        if (!json_is_array(versions)) {
            snprintf(err, errlen, "API root: `versions` is %s, not a list", type_name(versions));
            rc = -EPROTO;
            goto done;
        }
        size_t cap = 1, len = 0;
        out->versions = malloc(cap);
        if (!out->versions) {
            rc = -ENOMEM;
            goto done;
        }
        out->versions[0] = '\0';
        out->speaks_21 = json_array_size(versions) == 0;
        size_t i;
        const json_t *v;
        json_array_foreach(versions, i, v)
        {
            if (!json_is_string(v) || i >= 32)
                continue;
            char one[128];
            clean_copy(one, sizeof(one), json_string_value(v));
            if (taxii_media_is_21(one))
                out->speaks_21 = true;
            size_t add = strlen(one) + 2;
            char *grown = realloc(out->versions, cap + add);
            if (!grown) {
                rc = -ENOMEM;
                goto done;
            }
            out->versions = grown;
            cap += add;
            len += (size_t)snprintf(out->versions + len, cap - len, "%s%s", len ? ", " : "", one);
        }
        const json_t *mcl = json_object_get(root, "max_content_length");
        if (mcl && !json_is_integer(mcl)) {
            snprintf(err, errlen, "API root: `max_content_length` is %s, not an integer",
                     type_name(mcl));
            rc = -EPROTO;
            goto done;
        }
        if (mcl)
            out->max_length = json_integer_value(mcl) < 0 ? 0 : json_integer_value(mcl);
        goto done;
    }
    if (!roots && !def) {
        snprintf(err, errlen,
                 "neither a TAXII discovery document (no `api_roots`) nor an API root "
                 "(no `versions`)");
        rc = -EPROTO;
        goto done;
    }
    out->discovery = true;
    if ((rc = get_string(root, "default", &out->default_root, CTL_REFUSE, "discovery: ", err,
                         errlen)))
        goto done;
    if (roots) {
        if (!json_is_array(roots)) {
            snprintf(err, errlen, "discovery: `api_roots` is %s, not a list", type_name(roots));
            rc = -EPROTO;
            goto done;
        }
        size_t nr = json_array_size(roots);
        if (nr > TAXII_MAX_ROOTS) {
            snprintf(err, errlen, "discovery: %zu API roots (at most %d are read)", nr,
                     TAXII_MAX_ROOTS);
            rc = -EPROTO;
            goto done;
        }
        out->roots = calloc(nr ? nr : 1, sizeof(*out->roots));
        if (!out->roots) {
            rc = -ENOMEM;
            goto done;
        }
        for (size_t i = 0; i < nr; i++) {
            const json_t *v = json_array_get(roots, i);
            if (!json_is_string(v) || json_string_length(v) > TAXII_MAX_STRING ||
                has_control(json_string_value(v), json_string_length(v))) {
                snprintf(err, errlen, "discovery: `api_roots` item %zu is not a URL string", i);
                rc = -EPROTO;
                goto done;
            }
            out->roots[i] = strdup(json_string_value(v));
            if (!out->roots[i]) {
                rc = -ENOMEM;
                goto done;
            }
            out->nroots++;
        }
    }
done:
    if (rc == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    json_decref(root);
    return rc;
}

void taxii_root_doc_free(struct taxii_root_doc *d)
{
    free(d->title);
    free(d->default_root);
    for (size_t i = 0; i < d->nroots; i++)
        free(d->roots[i]);
    free(d->roots);
    free(d->versions);
    memset(d, 0, sizeof(*d));
}

int taxii_parse_collections(const char *json, size_t n, struct taxii_collections *out, char *err,
                            size_t errlen)
{
    memset(out, 0, sizeof(*out));
    json_t *root = load(json, n, err, errlen);
    if (!root)
        return -EPROTO;
    int rc = 0;
    if (!json_is_object(root)) {
        rc = not_object(root, "collections response", err, errlen);
        goto done;
    }
    const json_t *list = json_object_get(root, "collections");
    if (!list || json_is_null(list))
        goto done; /* {}: no collections */
    if (!json_is_array(list)) {
        snprintf(err, errlen, "`collections` is %s, not a list", type_name(list));
        rc = -EPROTO;
        goto done;
    }
    size_t nc = json_array_size(list);
    if (nc > TAXII_MAX_COLLECTIONS) {
        snprintf(err, errlen, "%zu collections (at most %d are read)", nc, TAXII_MAX_COLLECTIONS);
        rc = -EPROTO;
        goto done;
    }
    out->v = calloc(nc ? nc : 1, sizeof(*out->v));
    if (!out->v) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < nc; i++) {
        const json_t *c = json_array_get(list, i);
        char what[48];
        snprintf(what, sizeof(what), "collection %zu: ", i);
        if (!json_is_object(c)) {
            snprintf(err, errlen, "collection %zu is %s, not an object", i, type_name(c));
            rc = -EPROTO;
            goto done;
        }
        struct taxii_collection *t = &out->v[out->n];
        out->n++;
        if ((rc = get_string(c, "id", &t->id, CTL_REFUSE, what, err, errlen)) ||
            (rc = get_string(c, "title", &t->title, CTL_CLEAN, what, err, errlen)))
            goto done;
        if (!t->id || !t->id[0]) {
            snprintf(err, errlen, "collection %zu has no `id`", i);
            rc = -EPROTO;
            goto done;
        }
        const json_t *cr = json_object_get(c, "can_read");
        if (cr && !json_is_boolean(cr)) {
            snprintf(err, errlen, "collection %zu: `can_read` is %s, not true or false", i,
                     type_name(cr));
            rc = -EPROTO;
            goto done;
        }
        t->can_read = cr && json_is_true(cr);
    }
done:
    json_decref(root);
    return rc;
}

void taxii_collections_free(struct taxii_collections *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].id);
        free(c->v[i].title);
    }
    free(c->v);
    memset(c, 0, sizeof(*c));
}

/* ---- the objects envelope: checked in one pass, without a DOM ----------
 *
 * An envelope can be tens of megabytes; a jansson DOM of one costs about
 * six times its size and runs at ~25 MB/s. The client needs only `more`,
 * `next` and the objects' `date_added`, plus the proof that the text is
 * JSON the STIX reader will take. So envelopes are read by this scanner:
 * strict JSON (RFC 8259: UTF-8, escapes, surrogate pairs, no NUL escapes,
 * as jansson checks), iterative with an explicit bounded stack, remembering
 * where the few wanted values are. */

#define ENV_MAX_DEPTH 512

enum role { R_OTHER, R_ROOT, R_OBJECTS, R_ITEM };

struct scan {
    const char *s;
    size_t n, i;
    char *err;
    size_t errlen;
};

static int scan_fail(struct scan *sc, size_t at, const char *why)
{
    unsigned line = 1, col = 1;
    for (size_t k = 0; k < at && k < sc->n; k++) {
        if (sc->s[k] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(sc->err, sc->errlen, "bad JSON at line %u, column %u: %s", line, col, why);
    return -EPROTO;
}

static void scan_ws(struct scan *sc)
{
    while (sc->i < sc->n) {
        char c = sc->s[sc->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        sc->i++;
    }
}

static long hex4_at(const char *s)
{
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hex_digit(s[k]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* A string token at sc->i (on its quote); sc->i moves past it. */
static int scan_string(struct scan *sc)
{
    const unsigned char *u = (const unsigned char *)sc->s;
    size_t i = sc->i + 1;
    while (i < sc->n) {
        unsigned char c = u[i];
        if (c == '"') {
            sc->i = i + 1;
            return 0;
        }
        if (c < 0x20)
            return scan_fail(sc, i, "control character in a string");
        if (c == '\\') {
            if (i + 1 >= sc->n)
                break;
            char e = sc->s[i + 1];
            if (e != 'u') {
                if (!strchr("\"\\/bfnrt", e) || !e)
                    return scan_fail(sc, i, "invalid escape in a string");
                i += 2;
                continue;
            }
            long cp = i + 6 <= sc->n ? hex4_at(sc->s + i + 2) : -1;
            if (cp < 0)
                return scan_fail(sc, i, "invalid \\u escape");
            if (cp == 0)
                return scan_fail(sc, i, "\\u0000 is not allowed");
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return scan_fail(sc, i, "lone Unicode surrogate");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                long lo = i + 12 <= sc->n && sc->s[i + 6] == '\\' && sc->s[i + 7] == 'u'
                              ? hex4_at(sc->s + i + 8)
                              : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return scan_fail(sc, i, "lone Unicode surrogate");
                i += 6;
            }
            i += 6;
            continue;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq_len(u + i, sc->n - i);
        if (!l)
            return scan_fail(sc, i, "invalid UTF-8");
        i += l;
    }
    return scan_fail(sc, sc->n, "unterminated string");
}

static int scan_number(struct scan *sc)
{
    size_t i = sc->i, n = sc->n;
    const char *s = sc->s;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return scan_fail(sc, sc->i, "invalid value");
    }
    if (i < n && s[i] == '.') {
        if (++i >= n || s[i] < '0' || s[i] > '9')
            return scan_fail(sc, i, "invalid number");
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return scan_fail(sc, i, "invalid number");
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    sc->i = i;
    return 0;
}

static const char *raw_type_name(char c)
{
    switch (c) {
    case '"':
        return "a string";
    case '{':
        return "an object";
    case '[':
        return "a list";
    case 't':
    case 'f':
        return "a boolean";
    case 'n':
        return "null";
    default:
        return "a number";
    }
}

/* Decode the string token s[0..n) (quotes included) into a malloc'd
 * string; NULL if it holds a NUL or is not a string. */
static char *token_string(const char *s, size_t n)
{
    if (!memchr(s, '\\', n)) {
        char *o = malloc(n - 1);
        if (o) {
            memcpy(o, s + 1, n - 2);
            o[n - 2] = '\0';
        }
        return o;
    }
    json_error_t je;
    json_t *v = json_loadb(s, n, JSON_DECODE_ANY, &je);
    char *o = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
    json_decref(v);
    return o;
}

int taxii_parse_envelope(const char *json, size_t n, struct taxii_envelope *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof(*out));
    struct scan sc = {json, n, 0, err, errlen};
    struct {
        char close;
        enum role role;
        bool first;
    } stack[ENV_MAX_DEPTH];
    int depth = 0;
    size_t next_at = 0, next_len = 0; /* the `next` token, if any */
    int64_t newest = TIME_NONE;
    char key = 0; /* the member being read: 'm'ore, 'n'ext, 'o'bjects, 'd'ate_added, 0 */

    scan_ws(&sc);
    if (sc.i >= n)
        return scan_fail(&sc, n, "empty text");
    for (;;) {
        /* a value starts at sc.i */
        scan_ws(&sc);
        if (sc.i >= n)
            return scan_fail(&sc, n, "unexpected end of text");
        char c = json[sc.i];
        size_t at = sc.i;
        enum role parent = depth ? stack[depth - 1].role : R_OTHER;
        enum role role = R_OTHER;
        /* what the envelope's shape asks of this value */
        if (!depth && c != '{') {
            snprintf(err, errlen, "the envelope is %s, not a JSON object", raw_type_name(c));
            if (!strchr("\"{[tfn-0123456789", c))
                return scan_fail(&sc, at, "invalid value");
            return -EPROTO;
        }
        if (!depth) {
            role = R_ROOT;
        } else if (parent == R_ROOT && key == 'm' && c != 't' && c != 'f' && c != 'n') {
            snprintf(err, errlen, "envelope: `more` is %s, not true or false", raw_type_name(c));
            return -EPROTO;
        } else if (parent == R_ROOT && key == 'n' && c != '"' && c != 'n') {
            snprintf(err, errlen, "envelope: `next` is %s, not a string", raw_type_name(c));
            return -EPROTO;
        } else if (parent == R_ROOT && key == 'o') {
            if (c != '[' && c != 'n') {
                snprintf(err, errlen, "envelope: `objects` is %s, not a list", raw_type_name(c));
                return -EPROTO;
            }
            role = R_OBJECTS;
        } else if (parent == R_OBJECTS) {
            if (c != '{') {
                snprintf(err, errlen, "envelope: object %zu is %s, not a JSON object",
                         out->nobjects, raw_type_name(c));
                return -EPROTO;
            }
            out->nobjects++;
            role = R_ITEM;
        }
        if (c == '{' || c == '[') {
            if (depth >= ENV_MAX_DEPTH)
                return scan_fail(&sc, at, "nested deeper than 512 levels");
            stack[depth].close = c == '{' ? '}' : ']';
            stack[depth].role = role;
            stack[depth].first = true;
            depth++;
            sc.i++;
        } else {
            int rc;
            if (c == '"') {
                rc = scan_string(&sc);
            } else if (c == 't' || c == 'f' || c == 'n') {
                const char *lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
                size_t l = strlen(lit);
                rc = n - sc.i >= l && !memcmp(json + sc.i, lit, l)
                         ? 0
                         : scan_fail(&sc, at, "invalid value");
                sc.i += l;
            } else {
                rc = scan_number(&sc);
            }
            if (rc)
                return rc;
            if (parent == R_ROOT && key == 'm')
                out->more = c == 't';
            if (parent == R_ROOT && key == 'n') {
                next_at = c == '"' ? at : 0;
                next_len = c == '"' ? sc.i - at : 0;
            }
            if (parent == R_ITEM && key == 'd' && c == '"' && sc.i - at < TAXII_TIMESTAMP_MAX) {
                char *ts = token_string(json + at, sc.i - at);
                int64_t t;
                if (ts && taxii_timestamp_read(ts, strlen(ts), &t) && t > newest) {
                    newest = t;
                    snprintf(out->newest_added, sizeof(out->newest_added), "%s", ts);
                }
                free(ts);
            }
        }
        /* after a value: close containers, or move to the next member */
        for (;;) {
            key = 0;
            scan_ws(&sc);
            if (!depth) {
                if (sc.i < n)
                    return scan_fail(&sc, sc.i, "text after the end of the envelope");
                goto done;
            }
            if (sc.i >= n)
                return scan_fail(&sc, n, "unexpected end of text");
            char d = json[sc.i];
            if (d == stack[depth - 1].close) {
                sc.i++;
                depth--;
                continue;
            }
            if (!stack[depth - 1].first) {
                if (d != ',')
                    return scan_fail(&sc, sc.i,
                                     stack[depth - 1].close == '}' ? "',' or '}' expected"
                                                                   : "',' or ']' expected");
                sc.i++;
                scan_ws(&sc);
            } else if (d == ',') {
                return scan_fail(&sc, sc.i, "value expected");
            }
            stack[depth - 1].first = false;
            if (stack[depth - 1].close == '}') {
                if (sc.i >= n || json[sc.i] != '"')
                    return scan_fail(&sc, sc.i, "string or '}' expected");
                size_t ks = sc.i;
                int rc = scan_string(&sc);
                if (rc)
                    return rc;
                size_t kl = sc.i - ks;
                enum role r = stack[depth - 1].role;
                if (r == R_ROOT && kl == 6 && !memcmp(json + ks, "\"more\"", 6))
                    key = 'm';
                else if (r == R_ROOT && kl == 6 && !memcmp(json + ks, "\"next\"", 6))
                    key = 'n';
                else if (r == R_ROOT && kl == 9 && !memcmp(json + ks, "\"objects\"", 9))
                    key = 'o';
                else if (r == R_ITEM && kl == 12 && !memcmp(json + ks, "\"date_added\"", 12))
                    key = 'd';
                scan_ws(&sc);
                if (sc.i >= n || json[sc.i] != ':')
                    return scan_fail(&sc, sc.i, "':' expected");
                sc.i++;
            }
            break; /* a value follows */
        }
    }
done:
    if (next_len > 2) {
        if (next_len - 2 > TAXII_MAX_STRING) {
            snprintf(err, errlen, "envelope: `next` is %zu bytes long (at most %d)", next_len - 2,
                     TAXII_MAX_STRING);
            return -EPROTO;
        }
        out->next = token_string(json + next_at, next_len);
        if (!out->next || !out->next[0]) {
            free(out->next);
            out->next = NULL;
        }
    }
    return 0;
}

void taxii_envelope_free(struct taxii_envelope *e)
{
    free(e->next);
    e->next = NULL;
}

bool taxii_error_text(const char *json, size_t n, char *out, size_t outlen)
{
    if (outlen)
        out[0] = '\0';
    if (!n || outlen < 8)
        return false;
    json_error_t je;
    json_t *root = json_loadb(json, n, 0, &je);
    if (!root)
        return false;
    const json_t *title = json_object_get(root, "title");
    const json_t *desc = json_object_get(root, "description");
    const json_t *code = json_object_get(root, "error_code");
    bool found = json_is_string(title) || json_is_string(desc);
    if (found) {
        char t[200] = "", d[400] = "", c[64] = "";
        if (json_is_string(title))
            clean_copy(t, sizeof(t), json_string_value(title));
        if (json_is_string(desc))
            clean_copy(d, sizeof(d), json_string_value(desc));
        if (json_is_string(code))
            clean_copy(c, sizeof(c), json_string_value(code));
        else if (json_is_integer(code))
            snprintf(c, sizeof(c), "%lld", (long long)json_integer_value(code));
        snprintf(out, outlen, "%s%s%s%s%s%s%s%s", t[0] ? "\"" : "", t, t[0] ? "\"" : "",
                 t[0] && d[0] ? ": " : "", d, c[0] ? " (error_code " : "", c, c[0] ? ")" : "");
    }
    json_decref(root);
    return found;
}

/* Skip blanks (spaces and tabs). */
static const char *blanks(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

enum media { MEDIA_OTHER, MEDIA_JSON, MEDIA_TAXII };

/* Read a media type ("application/taxii+json; version=2.1"): its kind, and
 * the version parameter into ver ("" when none; quotes removed). */
static enum media media_read(const char *s, char ver[16])
{
    ver[0] = '\0';
    s = blanks(s);
    size_t base = strcspn(s, ";");
    size_t bl = base;
    while (bl > 0 && (s[bl - 1] == ' ' || s[bl - 1] == '\t'))
        bl--;
    enum media m = MEDIA_OTHER;
    if (bl == 22 && !strncasecmp(s, "application/taxii+json", 22))
        m = MEDIA_TAXII;
    else if (bl == 16 && !strncasecmp(s, "application/json", 16))
        m = MEDIA_JSON;
    const char *p = s + base;
    while (*p == ';') {
        p = blanks(p + 1);
        size_t nl = strcspn(p, "=;");
        if (nl == 7 && !strncasecmp(p, "version", 7) && p[nl] == '=') {
            const char *v = blanks(p + nl + 1);
            bool q = *v == '"';
            v += q;
            size_t vl = strcspn(v, q ? "\"" : "; \t");
            if (vl > 15)
                vl = 15;
            memcpy(ver, v, vl);
            ver[vl] = '\0';
        }
        p += strcspn(p, ";");
    }
    return m;
}

bool taxii_media_is_21(const char *media_type)
{
    char ver[16];
    return media_read(media_type, ver) == MEDIA_TAXII && !strcmp(ver, "2.1");
}

int taxii_check_media_type(const char *ct, char *err, size_t errlen)
{
    char got[128], ver[16];
    if (!ct || !*blanks(ct)) {
        snprintf(err, errlen, "the response has no Content-Type (expected %s)",
                 "application/taxii+json;version=2.1");
        return -EPROTO;
    }
    enum media m = media_read(ct, ver);
    if (m == MEDIA_JSON || (m == MEDIA_TAXII && (!ver[0] || !strcmp(ver, "2.1"))))
        return 0;
    clean_copy(got, sizeof(got), ct);
    if (m == MEDIA_TAXII)
        snprintf(err, errlen,
                 "the server answers TAXII of another version (Content-Type %s; kenchi speaks "
                 "2.1)",
                 got);
    else
        snprintf(err, errlen, "unexpected Content-Type %s (expected %s)", got,
                 "application/taxii+json;version=2.1");
    return -EPROTO;
}

bool taxii_timestamp_read(const char *s, size_t n, int64_t *t_ns)
{
    if (!n || n >= TAXII_TIMESTAMP_MAX || memchr(s, '\0', n))
        return false;
    int64_t t;
    if (time_parse_iso(s, n, NULL, &t) != n)
        return false;
    *t_ns = t;
    return true;
}

bool taxii_timestamp_later(const char *a, const char *b)
{
    int64_t ta, tb;
    if (!b || !b[0] || !taxii_timestamp_read(b, strlen(b), &tb))
        return false;
    if (!a || !a[0] || !taxii_timestamp_read(a, strlen(a), &ta))
        return true;
    return tb > ta;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

char *taxii_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            o[k++] = (char)c;
        } else {
            o[k++] = '%';
            o[k++] = hex[c >> 4];
            o[k++] = hex[c & 15];
        }
    }
    o[k] = '\0';
    return o;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode the percent-encoded s[0..n) into a malloc'd string; NULL when it
 * is malformed or decodes to a NUL. */
static char *unescape(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            o[k++] = s[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(o);
            return NULL;
        }
        o[k++] = (char)(hi << 4 | lo);
        i += 2;
    }
    o[k] = '\0';
    return o;
}

#define CURSOR_MAX_TEXT (4u << 20)

static int cursor_add(struct taxii_cursor *c, char *id, const char *ts)
{
    if (c->n >= TAXII_MAX_COLLECTIONS)
        return -E2BIG;
    struct taxii_cursor_entry *e = realloc(c->e, (c->n + 1) * sizeof(*e));
    if (!e)
        return -ENOMEM;
    c->e = e;
    c->e[c->n].id = id;
    snprintf(c->e[c->n].ts, sizeof(c->e[c->n].ts), "%s", ts);
    c->n++;
    return 0;
}

static struct taxii_cursor_entry *cursor_find(const struct taxii_cursor *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->e[i].id, id))
            return &c->e[i];
    return NULL;
}

int taxii_cursor_parse(const char *text, struct taxii_cursor *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (!text || !text[0])
        return 0;
    size_t len = strlen(text);
    if (len > CURSOR_MAX_TEXT) {
        snprintf(err, errlen, "cursor: %zu bytes is too long", len);
        return -EINVAL;
    }
    int64_t t;
    if (!strchr(text, '=')) {
        if (!taxii_timestamp_read(text, len, &t)) {
            char shown[80];
            clean_copy(shown, sizeof(shown), text);
            snprintf(err, errlen, "cursor: '%s' is not a timestamp", shown);
            return -EINVAL;
        }
        memcpy(c->all, text, len + 1);
        return 0;
    }
    const char *p = text;
    while (*p) {
        size_t wl = strcspn(p, " ");
        const char *eq = memchr(p, '=', wl);
        size_t tl = eq ? wl - (size_t)(eq + 1 - p) : 0;
        if (!eq || eq == p || !taxii_timestamp_read(eq + 1, tl, &t)) {
            snprintf(err, errlen, "cursor: entry %zu is not ID=TIMESTAMP", c->n + 1);
            taxii_cursor_free(c);
            return -EINVAL;
        }
        char ts[TAXII_TIMESTAMP_MAX];
        memcpy(ts, eq + 1, tl);
        ts[tl] = '\0';
        /* an entry given twice keeps its later time */
        if (eq - p == 1 && *p == '*') {
            if (taxii_timestamp_later(c->all, ts))
                memcpy(c->all, ts, tl + 1);
        } else {
            char *id = unescape(p, (size_t)(eq - p));
            struct taxii_cursor_entry *dup = id ? cursor_find(c, id) : NULL;
            int rc = !id ? -EINVAL : dup ? 0 : cursor_add(c, id, ts);
            if (dup) {
                if (taxii_timestamp_later(dup->ts, ts))
                    memcpy(dup->ts, ts, tl + 1);
                free(id);
            }
            if (rc) {
                free(id);
                snprintf(err, errlen, "cursor: entry %zu: %s", c->n + 1,
                         rc == -EINVAL ? "bad percent-encoding" : "too many entries");
                taxii_cursor_free(c);
                return -EINVAL;
            }
        }
        p += wl;
        while (*p == ' ')
            p++;
    }
    return 0;
}

const char *taxii_cursor_get(const struct taxii_cursor *c, const char *id)
{
    const struct taxii_cursor_entry *e = cursor_find(c, id);
    if (e)
        return e->ts;
    return c->all[0] ? c->all : NULL;
}

int taxii_cursor_set(struct taxii_cursor *c, const char *id, const char *ts)
{
    int64_t t;
    if (!ts || !taxii_timestamp_read(ts, strlen(ts), &t))
        return -EINVAL;
    struct taxii_cursor_entry *e = cursor_find(c, id);
    if (e) {
        if (taxii_timestamp_later(e->ts, ts))
            snprintf(e->ts, sizeof(e->ts), "%s", ts);
        return 0;
    }
    char *copy = strdup(id);
    if (!copy)
        return -ENOMEM;
    int rc = cursor_add(c, copy, ts);
    if (rc)
        free(copy);
    return rc;
}

char *taxii_cursor_format(const struct taxii_cursor *c, const char *only_id)
{
    if (only_id) {
        const char *ts = taxii_cursor_get(c, only_id);
        return ts ? strdup(ts) : NULL;
    }
    if (!c->n && !c->all[0])
        return NULL;
    size_t cap = 1 + (c->all[0] ? strlen(c->all) + 3 : 0);
    for (size_t i = 0; i < c->n; i++)
        cap += 3 * strlen(c->e[i].id) + strlen(c->e[i].ts) + 2;
    char *o = malloc(cap);
    if (!o)
        return NULL;
    size_t k = 0;
    if (c->all[0])
        k += (size_t)snprintf(o + k, cap - k, "*=%s", c->all);
    for (size_t i = 0; i < c->n; i++) {
        char *id = taxii_escape(c->e[i].id);
        if (!id) {
            free(o);
            return NULL;
        }
        k += (size_t)snprintf(o + k, cap - k, "%s%s=%s", k ? " " : "", id, c->e[i].ts);
        free(id);
    }
    return o;
}

void taxii_cursor_free(struct taxii_cursor *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->e[i].id);
    free(c->e);
    memset(c, 0, sizeof(*c));
}
