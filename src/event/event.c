/*
 * event.c - event fields, stable ids and the JSON form of an event.
 *
 * The JSON form nests ECS dotted names into objects ("source.ip" becomes
 * "source":{"ip":...}) so that jq paths read like ECS. Native fields stay
 * flat under "native", keyed exactly as the source names them (Windows
 * EventData names, Zeek's "id.orig_h", M365's "Parameters.ForwardTo").
 */
#include "event/event.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "util/timeconv.h"

const struct core_field_def core_fields[CORE__COUNT] = {
    [CORE_HOST_NAME] = {"host.name", VT_STRING},
    [CORE_USER_NAME] = {"user.name", VT_STRING},
    [CORE_SOURCE_IP] = {"source.ip", VT_STRING},
    [CORE_SOURCE_PORT] = {"source.port", VT_NUMBER},
    [CORE_SOURCE_BYTES] = {"source.bytes", VT_NUMBER},
    [CORE_DESTINATION_IP] = {"destination.ip", VT_STRING},
    [CORE_DESTINATION_PORT] = {"destination.port", VT_NUMBER},
    [CORE_DESTINATION_BYTES] = {"destination.bytes", VT_NUMBER},
    [CORE_EVENT_ACTION] = {"event.action", VT_STRING},
    [CORE_EVENT_OUTCOME] = {"event.outcome", VT_STRING},
    [CORE_EMAIL_FROM_ADDRESS] = {"email.from.address", VT_STRING},
    [CORE_EMAIL_TO_ADDRESS] = {"email.to.address", VT_STRING},
    [CORE_EMAIL_SUBJECT] = {"email.subject", VT_STRING},
    [CORE_EMAIL_MESSAGE_ID] = {"email.message_id", VT_STRING},
    [CORE_PROCESS_COMMAND_LINE] = {"process.command_line", VT_STRING},
    [CORE_FILE_NAME] = {"file.name", VT_STRING},
    [CORE_FILE_HASH_MD5] = {"file.hash.md5", VT_STRING},
    [CORE_FILE_HASH_SHA1] = {"file.hash.sha1", VT_STRING},
    [CORE_FILE_HASH_SHA256] = {"file.hash.sha256", VT_STRING},
    [CORE_URL_FULL] = {"url.full", VT_STRING},
    [CORE_DNS_QUESTION_NAME] = {"dns.question.name", VT_STRING},
};

int core_field_by_name(const char *name, size_t n)
{
    for (int i = 0; i < CORE__COUNT; i++)
        if (strlen(core_fields[i].name) == n && !memcmp(core_fields[i].name, name, n))
            return i;
    return -1;
}

void event_init(struct event *ev, struct arena *arena)
{
    memset(ev, 0, sizeof(*ev));
    ev->ts_ns = TIME_NONE;
    ev->arena = arena;
}

void event_add(struct event *ev, struct str key, struct str val, enum value_type type)
{
    if (ev->nfields == ev->capfields) {
        uint32_t cap = ev->capfields ? ev->capfields * 2 : 16;
        ev->fields = arena_realloc(ev->arena, ev->fields, ev->capfields * sizeof(struct field),
                                   cap * sizeof(struct field));
        ev->capfields = cap;
    }
    ev->fields[ev->nfields++] = (struct field){key, val, type};
}

void event_add_copy(struct event *ev, const char *key, const char *val, size_t vlen,
                    enum value_type type)
{
    size_t kl = strlen(key);
    struct str k = {arena_strndup(ev->arena, key, kl), kl};
    struct str v = {arena_strndup(ev->arena, val, vlen), vlen};
    event_add(ev, k, v, type);
}

const struct field *event_get(const struct event *ev, const char *key)
{
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct field *f = &ev->fields[i];
        if (f->key.n == kl && !memcmp(f->key.p, key, kl))
            return f;
    }
    return NULL;
}

bool event_lookup(const struct event *ev, const char *key, struct str *out)
{
    const struct field *f = event_get(ev, key);
    if (f) {
        *out = f->val;
        return true;
    }
    int c = core_field_by_name(key, strlen(key));
    if (c >= 0 && ev->core[c].n) {
        *out = ev->core[c];
        return true;
    }
    return false;
}

void event_assign_id(struct event *ev)
{
    /* The id is XXH3-64 of file path, NUL, line and record numbers, raw
     * text. XXH3's streaming form equals the one-shot hash of the
     * concatenation, so short records (nearly all) are hashed in one call
     * from a stack buffer: no 576-byte state to reset, no buffering. */
    size_t flen = ev->file ? strlen(ev->file) + 1 : 0;
    uint64_t pos[2] = {ev->line, ev->record};
    unsigned char one[1024];
    if (flen + sizeof(pos) + ev->raw.n <= sizeof(one)) {
        if (flen)
            memcpy(one, ev->file, flen);
        memcpy(one + flen, pos, sizeof(pos));
        if (ev->raw.n)
            memcpy(one + flen + sizeof(pos), ev->raw.p, ev->raw.n);
        ev->id = XXH3_64bits(one, flen + sizeof(pos) + ev->raw.n);
        return;
    }
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    if (ev->file)
        XXH3_64bits_update(&st, ev->file, flen);
    XXH3_64bits_update(&st, pos, sizeof(pos));
    XXH3_64bits_update(&st, ev->raw.p ? ev->raw.p : "", ev->raw.n);
    ev->id = XXH3_64bits_digest(&st);
}

/* ---- JSON rendering ---------------------------------------------------- */

/* Emits dotted names as nested objects. Entries must arrive grouped so that
 * names sharing a prefix are adjacent (the caller's fixed order ensures it). */
struct nest {
    struct buf *out;
    const char *open[4]; /* open path components */
    size_t open_len[4];
    int depth;
    bool first[5]; /* per depth: no member written yet */
};

static void nest_key(struct nest *w, const char *k, size_t n)
{
    if (!w->first[w->depth])
        buf_putc(w->out, ',');
    w->first[w->depth] = false;
    json_put_string(w->out, k, n);
    buf_putc(w->out, ':');
}

static void nest_enter(struct nest *w, const char *name)
{
    /* Split name into components; close what differs, open what is new. */
    const char *comp[5];
    size_t clen[5];
    int nc = 0;
    const char *p = name;
    while (nc < 5) {
        const char *dot = strchr(p, '.');
        comp[nc] = p;
        clen[nc] = dot ? (size_t)(dot - p) : strlen(p);
        nc++;
        if (!dot)
            break;
        p = dot + 1;
    }
    int common = 0;
    while (common < w->depth && common < nc - 1 && w->open_len[common] == clen[common] &&
           !memcmp(w->open[common], comp[common], clen[common]))
        common++;
    while (w->depth > common) {
        buf_putc(w->out, '}');
        w->depth--;
    }
    for (int i = common; i < nc - 1 && w->depth < 4; i++) {
        nest_key(w, comp[i], clen[i]);
        buf_putc(w->out, '{');
        w->open[w->depth] = comp[i];
        w->open_len[w->depth] = clen[i];
        w->depth++;
        w->first[w->depth] = true;
    }
    nest_key(w, comp[nc - 1], clen[nc - 1]);
}

/* Raw JSON (an array kept whole from a pretty-printed record) without the
 * blanks and newlines between tokens: an event must stay on one line. */
static void put_json_compact(struct buf *out, struct str v)
{
    size_t i = 0, run = 0;
    bool in_str = false;
    for (; i < v.n; i++) {
        char c = v.p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            buf_append(out, v.p + run, i - run);
            run = i + 1;
        }
    }
    if (run < v.n)
        buf_append(out, v.p + run, v.n - run);
}

static void put_value(struct buf *out, struct str v, enum value_type t)
{
    switch (t) {
    case VT_NUMBER:
        json_put_number_text(out, v.p, v.n);
        break;
    case VT_BOOL:
        buf_puts(out, (v.n == 4 && !memcmp(v.p, "true", 4)) ? "true" : "false");
        break;
    case VT_NULL:
        buf_puts(out, "null");
        break;
    case VT_JSON:
        if (v.n)
            put_json_compact(out, v);
        else
            buf_puts(out, "null");
        break;
    default:
        json_put_string(out, v.p, v.n);
    }
}

static void nest_str(struct nest *w, const char *name, struct str v, enum value_type t)
{
    nest_enter(w, name);
    put_value(w->out, v, t);
}

static void nest_core(struct nest *w, const struct event *ev, enum core_field f)
{
    if (ev->core[f].n)
        nest_str(w, core_fields[f].name, ev->core[f], core_fields[f].type);
}

static void nest_close(struct nest *w)
{
    while (w->depth > 0) {
        buf_putc(w->out, '}');
        w->depth--;
    }
}

void event_to_json(const struct event *ev, struct buf *out)
{
    struct nest w = {.out = out, .depth = 0, .first = {true}};
    char tbuf[32];
    char idbuf[17];

    buf_putc(out, '{');
    nest_enter(&w, "@timestamp");
    if (ev->ts_ns != TIME_NONE) {
        time_format(ev->ts_ns, tbuf);
        json_put_string(out, tbuf, strlen(tbuf));
    } else {
        buf_puts(out, "null");
    }

    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        idbuf[i] = hex[(ev->id >> (60 - 4 * i)) & 15];
    nest_str(&w, "event.id", str_make(idbuf, 16), VT_STRING);
    if (ev->format)
        nest_str(&w, "event.module", str_make(ev->format, strlen(ev->format)), VT_STRING);
    nest_core(&w, ev, CORE_EVENT_ACTION);
    nest_core(&w, ev, CORE_EVENT_OUTCOME);
    if (!ev->parsed)
        nest_str(&w, "event.original", ev->raw, VT_STRING);
    if (ev->truncated)
        nest_str(&w, "event.truncated", STR_LIT("true"), VT_BOOL);

    if (ev->file)
        nest_str(&w, "source.file", str_make(ev->file, strlen(ev->file)), VT_STRING);
    else
        nest_str(&w, "source.file", STR_LIT("-"), VT_STRING);
    if (ev->record) {
        nest_enter(&w, "source.record");
        buf_put_u64(out, ev->record);
    } else {
        nest_enter(&w, "source.line");
        buf_put_u64(out, ev->line);
    }
    nest_core(&w, ev, CORE_SOURCE_IP);
    nest_core(&w, ev, CORE_SOURCE_PORT);
    nest_core(&w, ev, CORE_SOURCE_BYTES);

    if (ev->ls.product)
        nest_str(&w, "logsource.product", str_make(ev->ls.product, strlen(ev->ls.product)),
                 VT_STRING);
    if (ev->ls.service)
        nest_str(&w, "logsource.service", str_make(ev->ls.service, strlen(ev->ls.service)),
                 VT_STRING);
    if (ev->ls.category)
        nest_str(&w, "logsource.category", str_make(ev->ls.category, strlen(ev->ls.category)),
                 VT_STRING);

    static const enum core_field rest[] = {
        CORE_HOST_NAME,         CORE_USER_NAME,
        CORE_DESTINATION_IP,    CORE_DESTINATION_PORT,
        CORE_DESTINATION_BYTES, CORE_EMAIL_FROM_ADDRESS,
        CORE_EMAIL_TO_ADDRESS,  CORE_EMAIL_SUBJECT,
        CORE_EMAIL_MESSAGE_ID,  CORE_PROCESS_COMMAND_LINE,
        CORE_FILE_NAME,         CORE_FILE_HASH_MD5,
        CORE_FILE_HASH_SHA1,    CORE_FILE_HASH_SHA256,
        CORE_URL_FULL,          CORE_DNS_QUESTION_NAME,
    };
    for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
        nest_core(&w, ev, rest[i]);
    nest_close(&w);

    if (ev->nfields) {
        buf_puts(out, ",\"native\":{");
        for (uint32_t i = 0; i < ev->nfields; i++) {
            const struct field *f = &ev->fields[i];
            if (i)
                buf_putc(out, ',');
            json_put_string(out, f->key.p, f->key.n);
            buf_putc(out, ':');
            put_value(out, f->val, f->type);
        }
        buf_putc(out, '}');
    }
    if (ev->message.n) {
        buf_puts(out, ",\"message\":");
        json_put_string(out, ev->message.p, ev->message.n);
    }
    buf_putc(out, '}');
}
