/*
 * decode-json.c - JSON object flattening, shared by every JSON decoder, and
 * the generic JSON-lines decoder for objects no specific decoder claims.
 *
 * json_flatten() is a single-pass recursive-descent reader over the record's
 * text (which lives in the batch arena). Nested objects become dotted keys
 * ("Event.System.EventID"); arrays are kept whole as raw JSON values, since
 * their meaning (a list of recipients, of folders, of Name/Value pairs) is
 * for the specific decoder to unfold. Strings without escapes are not copied.
 * Depth is limited so hostile nesting cannot exhaust the stack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/json-scan.h"
#include "util/utf8.h"

#define JSON_MAX_DEPTH 64
#define JSON_MAX_KEY   512

struct jp {
    const char *s;
    size_t n;
    size_t i;
    struct event *ev;
    char key[JSON_MAX_KEY];
    size_t keylen;
};

static void ws(struct jp *p)
{
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->i++;
    }
}

/* Parse a string at p->i (on the opening quote): find its end, then let
 * json_string_decode() unescape it (into the arena only when needed). */
static int parse_string(struct jp *p, struct str *out)
{
    size_t start = p->i++;
    while (p->i < p->n) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"')
            break;
        if (c == '\\') {
            p->i += 2;
            continue;
        }
        if (c < 0x20)
            return -EINVAL; /* raw control character */
        p->i++;
    }
    if (p->i >= p->n)
        return -EINVAL;
    p->i++;
    return json_string_decode(p->ev->arena, str_make(p->s + start, p->i - start), out);
}

/* Skip any JSON value (used for arrays, kept raw). */
static int skip_value(struct jp *p, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return -EINVAL;
    ws(p);
    if (p->i >= p->n)
        return -EINVAL;
    char c = p->s[p->i];
    if (c == '"') {
        /* scan only: arrays are kept raw, nothing to unescape; the escapes
         * must be valid all the same, as raw text is rendered as is */
        p->i++;
        while (p->i < p->n && p->s[p->i] != '"') {
            if ((unsigned char)p->s[p->i] < 0x20)
                return -EINVAL;
            if (p->s[p->i] == '\\') {
                char e = p->i + 1 < p->n ? p->s[p->i + 1] : '\0';
                if (e == 'u' && p->i + 6 <= p->n && hex_digit(p->s[p->i + 2]) >= 0 &&
                    hex_digit(p->s[p->i + 3]) >= 0 && hex_digit(p->s[p->i + 4]) >= 0 &&
                    hex_digit(p->s[p->i + 5]) >= 0)
                    p->i += 6;
                else if (e && strchr("\"\\/bfnrt", e))
                    p->i += 2;
                else
                    return -EINVAL;
                continue;
            }
            p->i++;
        }
        if (p->i >= p->n)
            return -EINVAL;
        p->i++;
        return 0;
    }
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        p->i++;
        ws(p);
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                ws(p);
                if (p->i >= p->n || p->s[p->i] != '"' || skip_value(p, depth + 1) < 0)
                    return -EINVAL;
                ws(p);
                if (p->i >= p->n || p->s[p->i] != ':')
                    return -EINVAL;
                p->i++;
            }
            if (skip_value(p, depth + 1) < 0)
                return -EINVAL;
            ws(p);
            if (p->i >= p->n)
                return -EINVAL;
            if (p->s[p->i] == ',') {
                p->i++;
                continue;
            }
            if (p->s[p->i] == close) {
                p->i++;
                return 0;
            }
            return -EINVAL;
        }
    }
    size_t b = p->i;
    while (p->i < p->n && !strchr(",}] \t\r\n", p->s[p->i]))
        p->i++;
    struct str lit = str_make(p->s + b, p->i - b);
    if (str_eq(lit, "true") || str_eq(lit, "false") || str_eq(lit, "null") ||
        json_is_number(lit.p, lit.n))
        return 0;
    return -EINVAL;
}

static int parse_object(struct jp *p, int depth);

static void emit(struct jp *p, struct str val, enum value_type t)
{
    struct str key;
    key.p = arena_strndup(p->ev->arena, p->key, p->keylen);
    key.n = p->keylen;
    event_add(p->ev, key, val, t);
}

/* A raw array as it is kept. It is rendered as is, so it must be one line
 * of valid JSON: pretty-printed input spreads it over lines (whitespace
 * outside strings is dropped) and strings may hold invalid UTF-8 (each bad
 * byte becomes U+FFFD, as json_put_string() does for other values). Only
 * then is it rewritten, into the arena; the usual array stays a slice of the
 * record. */
static struct str clean_raw(struct jp *p, struct str v)
{
    bool multiline = memchr(v.p, '\n', v.n) || memchr(v.p, '\r', v.n);
    bool bad_utf8 = false;
    for (size_t i = 0; i < v.n && !bad_utf8;) {
        if ((unsigned char)v.p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq_len((const unsigned char *)v.p + i, v.n - i);
        bad_utf8 = l == 0;
        i += l;
    }
    if (!multiline && !bad_utf8)
        return v;
    char *o = arena_alloc(p->ev->arena, v.n * 3 + 1); /* a bad byte grows to 3 */
    size_t ol = 0;
    bool in_str = false;
    for (size_t i = 0; i < v.n;) {
        unsigned char c = (unsigned char)v.p[i];
        if (c >= 0x80) {
            size_t l = utf8_seq_len((const unsigned char *)v.p + i, v.n - i);
            if (l) {
                memcpy(o + ol, v.p + i, l);
                ol += l;
                i += l;
            } else {
                memcpy(o + ol, "\xEF\xBF\xBD", 3);
                ol += 3;
                i++;
            }
            continue;
        }
        i++;
        if (in_str) {
            o[ol++] = (char)c;
            if (c == '\\' && i < v.n)
                o[ol++] = v.p[i++]; /* escapes are ASCII (checked by skip_value) */
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
            o[ol++] = (char)c;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            o[ol++] = (char)c;
        }
    }
    o[ol] = '\0';
    return str_make(o, ol);
}

static int parse_member_value(struct jp *p, int depth)
{
    ws(p);
    if (p->i >= p->n)
        return -EINVAL;
    char c = p->s[p->i];
    if (c == '"') {
        struct str v;
        if (parse_string(p, &v) < 0)
            return -EINVAL;
        emit(p, v, VT_STRING);
        return 0;
    }
    if (c == '{')
        return parse_object(p, depth + 1);
    size_t b = p->i;
    if (skip_value(p, depth + 1) < 0)
        return -EINVAL;
    struct str v = str_make(p->s + b, p->i - b);
    if (c == '[')
        emit(p, clean_raw(p, v), VT_JSON);
    else if (c == 't' || c == 'f')
        emit(p, v, VT_BOOL);
    else if (c == 'n')
        emit(p, v, VT_NULL);
    else
        emit(p, v, VT_NUMBER);
    return 0;
}

static int parse_object(struct jp *p, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return -EINVAL;
    ws(p);
    if (p->i >= p->n || p->s[p->i] != '{')
        return -EINVAL;
    p->i++;
    ws(p);
    size_t base = p->keylen;
    if (p->i < p->n && p->s[p->i] == '}') {
        p->i++;
        if (depth > 0)
            emit(p, STR_LIT("{}"), VT_JSON); /* keep empty objects visible */
        return 0;
    }
    for (;;) {
        ws(p);
        if (p->i >= p->n || p->s[p->i] != '"')
            return -EINVAL;
        struct str k;
        if (parse_string(p, &k) < 0)
            return -EINVAL;
        size_t need = (base ? base + 1 : 0) + k.n;
        if (need >= JSON_MAX_KEY)
            return -EINVAL;
        p->keylen = base;
        if (base)
            p->key[p->keylen++] = '.';
        memcpy(p->key + p->keylen, k.p, k.n);
        p->keylen += k.n;
        ws(p);
        if (p->i >= p->n || p->s[p->i] != ':')
            return -EINVAL;
        p->i++;
        if (parse_member_value(p, depth) < 0)
            return -EINVAL;
        p->keylen = base;
        ws(p);
        if (p->i >= p->n)
            return -EINVAL;
        if (p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->s[p->i] == '}') {
            p->i++;
            return 0;
        }
        return -EINVAL;
    }
}

int json_flatten(struct event *ev, const char *text, size_t n)
{
    struct jp p = {.s = text, .n = n, .i = 0, .ev = ev, .keylen = 0};
    uint32_t nf = ev->nfields;
    if (parse_object(&p, 0) < 0) {
        ev->nfields = nf;
        return -EINVAL;
    }
    ws(&p);
    if (p.i != n) {
        ev->nfields = nf;
        return -EINVAL;
    }
    return 0;
}

/* Generic JSON: keep every field; take a time from the usual names. */
static const char *const time_keys[] = {"@timestamp", "timestamp", "time",      "ts",
                                        "date",       "datetime",  "eventTime", NULL};

static int json_decode(struct decode_ctx *ctx, struct event *ev)
{
    for (size_t i = 0; time_keys[i] && ev->ts_ns == TIME_NONE; i++) {
        const struct field *f = event_get(ev, time_keys[i]);
        if (!f)
            continue;
        int64_t t;
        if (f->type == VT_STRING && time_parse_iso(f->val.p, f->val.n, NULL, &t) == f->val.n) {
            ev->ts_ns = t;
        } else if (f->type == VT_NUMBER && f->val.n) {
            /* epoch seconds (with fraction) or milliseconds */
            double d = 0;
            char tmp[40];
            size_t l = f->val.n < sizeof(tmp) - 1 ? f->val.n : sizeof(tmp) - 1;
            memcpy(tmp, f->val.p, l);
            tmp[l] = '\0';
            d = strtod(tmp, NULL);
            if (d > 1e11)
                d /= 1000.0;      /* milliseconds */
            if (d > 0 && d < 9e9) /* int64 nanoseconds end in 2262 */
                ev->ts_ns = (int64_t)(d * 1e9);
        }
    }
    (void)ctx;
    static const struct {
        const char *key;
        enum core_field f;
    } core_map[] = {
        {"host", CORE_HOST_NAME},        {"hostname", CORE_HOST_NAME},
        {"user", CORE_USER_NAME},        {"username", CORE_USER_NAME},
        {"src_ip", CORE_SOURCE_IP},      {"client_ip", CORE_SOURCE_IP},
        {"dst_ip", CORE_DESTINATION_IP}, {"message", CORE__COUNT},
    };
    for (size_t i = 0; i < sizeof(core_map) / sizeof(core_map[0]); i++) {
        const struct field *f = event_get(ev, core_map[i].key);
        if (!f || f->type != VT_STRING)
            continue;
        if (core_map[i].f == CORE__COUNT)
            ev->message = f->val;
        else if (!ev->core[core_map[i].f].n)
            ev->core[core_map[i].f] = f->val;
    }
    /* ECS-shaped input keeps its own names */
    for (uint32_t i = 0; i < ev->nfields; i++) {
        int c = core_field_by_name(ev->fields[i].key.p, ev->fields[i].key.n);
        if (c >= 0 && ev->fields[i].type != VT_JSON && ev->fields[i].type != VT_NULL)
            ev->core[c] = ev->fields[i].val;
    }
    ev->ls = (struct logsource){NULL, NULL, NULL};
    return 0;
}

const struct decoder decoder_json = {
    .name = "json",
    .description = "any other JSON (one object per record, NDJSON or concatenated or in an "
                   "array) as generic events",
    .probe_json = NULL,
    .decode_json = json_decode,
};
