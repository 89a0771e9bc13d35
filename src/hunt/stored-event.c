/*
 * stored-event.c - an event of the store back into a struct event (see
 * stored-event.h).
 */
#include "hunt/stored-event.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define DOC_MAX (1u << 20)

/* The text of a scalar or nested value, in the arena; its type. */
static struct str value_text(struct arena *a, json_t *v, enum value_type *type)
{
    char tmp[64];
    int n;
    switch (json_typeof(v)) {
    case JSON_STRING:
        *type = VT_STRING;
        return str_make(arena_strndup(a, json_string_value(v), json_string_length(v)),
                        json_string_length(v));
    case JSON_INTEGER:
        *type = VT_NUMBER;
        n = snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
        return str_make(arena_strndup(a, tmp, (size_t)n), (size_t)n);
    case JSON_REAL:
        *type = VT_NUMBER;
        n = snprintf(tmp, sizeof(tmp), "%.17g", json_real_value(v));
        return str_make(arena_strndup(a, tmp, (size_t)n), (size_t)n);
    case JSON_TRUE:
        *type = VT_BOOL;
        return STR_LIT("true");
    case JSON_FALSE:
        *type = VT_BOOL;
        return STR_LIT("false");
    case JSON_NULL:
        *type = VT_NULL;
        return STR_LIT("null");
    default: {
        *type = VT_JSON;
        char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!d)
            return STR_LIT("null");
        size_t len = strlen(d);
        struct str s = str_make(arena_strndup(a, d, len), len);
        free(d);
        return s;
    }
    }
}

/* doc's value at a dotted path ("email.from.address"), or NULL. */
static json_t *at_path(json_t *doc, const char *path)
{
    json_t *cur = doc;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur))
            return NULL;
        cur = json_object_getn(cur, p, n);
        p += n + (dot != NULL);
    }
    return cur;
}

static const char *str_at(struct arena *a, json_t *doc, const char *path)
{
    json_t *v = at_path(doc, path);
    return json_is_string(v) ? arena_strndup(a, json_string_value(v), json_string_length(v)) : NULL;
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
    json_error_t err;
    json_t *doc = json_loadb(r->json, r->json_len, 0, &err);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return -EBADMSG;
    }
    json_t *rec = at_path(doc, "source.record");
    if (json_is_integer(rec)) {
        ev->record = (uint64_t)json_integer_value(rec);
        ev->line = 0;
    }
    ev->format = str_at(a, doc, "event.module");
    ev->ls.product = str_at(a, doc, "logsource.product");
    ev->ls.service = str_at(a, doc, "logsource.service");
    ev->ls.category = str_at(a, doc, "logsource.category");
    json_t *orig = at_path(doc, "event.original");
    if (json_is_string(orig)) {
        ev->parsed = false;
        ev->raw = str_make(arena_strndup(a, json_string_value(orig), json_string_length(orig)),
                           json_string_length(orig));
    }
    for (int f = 0; f < CORE__COUNT; f++) {
        json_t *v = at_path(doc, core_fields[f].name);
        if (!v || json_is_null(v))
            continue;
        enum value_type t;
        ev->core[f] = value_text(a, v, &t);
    }
    json_t *nat = json_object_get(doc, "native");
    if (json_is_object(nat)) {
        const char *k;
        size_t kl;
        json_t *v;
        json_object_keylen_foreach(nat, k, kl, v)
        {
            enum value_type t;
            struct str val = value_text(a, v, &t);
            event_add(ev, str_make(arena_strndup(a, k, kl), kl), val, t);
        }
    }
    json_t *msg = json_object_get(doc, "message");
    if (json_is_string(msg))
        ev->message = str_make(arena_strndup(a, json_string_value(msg), json_string_length(msg)),
                               json_string_length(msg));
    json_decref(doc);
    return 0;
}
