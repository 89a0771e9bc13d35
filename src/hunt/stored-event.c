/*
 * stored-event.c - an event of the store back into a struct event (see
 * stored-event.h).
 *
 * The document is walked with the allocation-free iterator of
 * decode/json-scan.h (a window scan reads every event of its window: a DOM
 * per event cost more than everything else together). Nested objects give
 * dotted names ("email" {"from" {"address"}} is email.from.address), which
 * are matched against the core field names.
 */
#include "hunt/stored-event.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "decode/json-scan.h"

#define DOC_MAX   (1u << 20)
#define NAME_MAX_ 128

struct walk {
    struct arena *a;
    struct event *ev;
};

static bool is(const char *path, size_t n, const char *lit)
{
    return strlen(lit) == n && !memcmp(path, lit, n);
}

/* A scalar at path[0..n) of the document (not under "native"). */
static void put_scalar(struct walk *w, const char *path, size_t n, struct str raw)
{
    struct event *ev = w->ev;
    struct str v;
    enum value_type t;
    if (json_value_decode(w->a, raw, &v, &t) < 0 || t == VT_NULL || t == VT_JSON)
        return;
    if (is(path, n, "event.module")) {
        ev->format = arena_strndup(w->a, v.p, v.n);
    } else if (is(path, n, "event.original")) {
        ev->parsed = false;
        ev->raw = v;
    } else if (is(path, n, "source.record")) {
        unsigned long long rec = 0;
        for (size_t i = 0; i < v.n && v.p[i] >= '0' && v.p[i] <= '9'; i++)
            rec = rec * 10 + (unsigned)(v.p[i] - '0');
        ev->record = rec;
        ev->line = 0;
    } else if (is(path, n, "logsource.product")) {
        ev->ls.product = arena_strndup(w->a, v.p, v.n);
    } else if (is(path, n, "logsource.service")) {
        ev->ls.service = arena_strndup(w->a, v.p, v.n);
    } else if (is(path, n, "logsource.category")) {
        ev->ls.category = arena_strndup(w->a, v.p, v.n);
    } else if (is(path, n, "message")) {
        ev->message = v;
    } else {
        int f = core_field_by_name(path, n);
        if (f >= 0)
            ev->core[f] = v;
    }
}

/* Is v an object (not an array: the iterator walks both)? */
static bool is_object(struct str v)
{
    size_t i = 0;
    while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == '\n' || v.p[i] == '\r'))
        i++;
    return i < v.n && v.p[i] == '{';
}

/* A JSON number, strictly. */
static bool number_ok(struct str v)
{
    size_t i = 0;
    if (i < v.n && v.p[i] == '-')
        i++;
    if (i >= v.n || v.p[i] < '0' || v.p[i] > '9')
        return false;
    if (v.p[i] == '0')
        i++;
    else
        while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9')
            i++;
    if (i < v.n && v.p[i] == '.') {
        size_t d = ++i;
        while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < v.n && (v.p[i] == 'e' || v.p[i] == 'E')) {
        i++;
        if (i < v.n && (v.p[i] == '+' || v.p[i] == '-'))
            i++;
        size_t d = i;
        while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == v.n;
}

/* A string token as JSON writes it: no control characters, UTF-8. */
static bool token_ok(struct str v)
{
    const unsigned char *p = (const unsigned char *)v.p;
    for (size_t i = 0; i < v.n;) {
        unsigned c = p[i];
        if (c < 0x20)
            return false;
        size_t len = c < 0x80             ? 1
                     : (c & 0xe0) == 0xc0 ? 2
                     : (c & 0xf0) == 0xe0 ? 3
                     : (c & 0xf8) == 0xf0 ? 4
                                          : 0;
        if (!len || i + len > v.n || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
            return false;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
        if (len == 3 && ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0)))
            return false; /* overlong, surrogate */
        if (len == 4 && ((c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90)))
            return false;
        i += len;
    }
    return true;
}

/* Is the raw value v valid JSON (nested at most 32 deep)? A document the
 * store did not write may hold anything; nested values are written back
 * as they are, so they must be. */
static bool raw_ok(struct arena *a, struct str v, int depth)
{
    while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\n' || v.p[v.n - 1] == '\t' ||
                   v.p[v.n - 1] == '\r'))
        v.n--;
    while (v.n && (v.p[0] == ' ' || v.p[0] == '\n' || v.p[0] == '\t' || v.p[0] == '\r'))
        v.p++, v.n--;
    if (!v.n || depth > 32)
        return false;
    struct str out;
    switch (v.p[0]) {
    case '"':
        return token_ok(v) && json_string_decode(a, v, &out) == 0;
    case '{':
    case '[': {
        bool obj = v.p[0] == '{';
        struct json_iter it;
        if (json_iter_init(&it, v) < 0)
            return false;
        struct str k, e;
        int r;
        while ((r = json_iter_next(&it, obj ? &k : NULL, &e)) == 1)
            if ((obj && (!token_ok(k) || json_string_decode(a, k, &out) < 0)) ||
                !raw_ok(a, e, depth + 1))
                return false;
        return r == 0;
    }
    case 't':
        return v.n == 4 && !memcmp(v.p, "true", 4);
    case 'f':
        return v.n == 5 && !memcmp(v.p, "false", 5);
    case 'n':
        return v.n == 4 && !memcmp(v.p, "null", 4);
    default:
        return number_ok(v);
    }
}

static int walk_object(struct walk *w, struct str obj, char *path, size_t plen, int depth)
{
    struct json_iter it;
    if (!is_object(obj) || json_iter_init(&it, obj) < 0)
        return -EBADMSG;
    struct str k, v;
    int r;
    while ((r = json_iter_next(&it, &k, &v)) == 1) {
        struct str key;
        if (json_string_decode(w->a, k, &key) < 0)
            return -EBADMSG;
        if (depth == 0 && json_key_is(k, "native")) {
            struct json_iter nt;
            if (!is_object(v) || json_iter_init(&nt, v) < 0)
                continue;
            struct str nk, nv;
            while (json_iter_next(&nt, &nk, &nv) == 1) {
                struct str name, val;
                enum value_type t;
                if (json_string_decode(w->a, nk, &name) < 0 ||
                    json_value_decode(w->a, nv, &val, &t) < 0)
                    return -EBADMSG;
                if (t != VT_STRING && !raw_ok(w->a, nv, 0))
                    t = VT_STRING; /* not JSON: kept as text */
                event_add(w->ev, name, val, t);
            }
            continue;
        }
        size_t n = plen + (plen ? 1 : 0) + key.n;
        if (n >= NAME_MAX_)
            continue; /* no core name is that long */
        if (plen)
            path[plen] = '.';
        memcpy(path + plen + (plen ? 1 : 0), key.p, key.n);
        enum value_type t = json_raw_type(v);
        if (t == VT_JSON) {
            if (is_object(v) && depth < 4 && walk_object(w, v, path, n, depth + 1) < 0)
                return -EBADMSG;
        } else {
            put_scalar(w, path, n, v);
        }
    }
    return r < 0 ? -EBADMSG : 0;
}

int stored_event_read(const struct store_row *r, uint64_t id, struct arena *a, struct event *ev)
{
    event_init(ev, a);
    ev->ts_ns = r->ts_ns;
    ev->id = id;
    ev->file = r->file && strcmp(r->file, "-") ? arena_strndup(a, r->file, strlen(r->file)) : NULL;
    ev->line = r->line;
    ev->parsed = true;
    if (!r->json || r->json_len > DOC_MAX)
        return -EBADMSG;
    char path[NAME_MAX_];
    struct walk w = {a, ev};
    return walk_object(&w, str_make(r->json, r->json_len), path, 0, 0);
}
