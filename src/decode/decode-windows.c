/*
 * decode-windows.c - the decoder for Windows events written as JSON.
 *
 * The event model it feeds (names, log source, core) is decode-winevent.c,
 * shared with the XML and EVTX readers; see decode-windows.h.
 *
 * The decoder recognises two shapes after json_flatten():
 *   nested  {"Event":{"System":{...},"EventData":{...}}} as exporters of
 *           EVTX write it: XML attributes under "#attributes" (or "@Name"),
 *           element text beside them under "#text", unnamed <Data> as an
 *           array (or {"#text":[...]}), <Data Name=..> objects in an array
 *           ({"@Name":..,"#text":..}). The "Event" wrapper may be missing.
 *   flat    one object per event with EventID, Channel or a provider name,
 *           and the EventData names at top level (Sigma-style events,
 *           NXLog's JSON, PowerShell's Get-WinEvent | ConvertTo-Json). A few
 *           exporter names are renamed to the System names (SourceName ->
 *           Provider_Name, Hostname -> Computer, ...; see flat_renames[]),
 *           everything else keeps its name.
 * Both rebuild the native field array: the flattened keys are walked once and
 * each value is handed to win_add_*() with zero-copy slices of the keys, so
 * the nested form yields exactly the fields the XML and EVTX forms yield.
 */
#include "decode/decode-windows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- JSON: shapes ------------------------------------------------------- */

/* Split key at '.' into at most max components; returns the count, or 0 if
 * the key has more. */
static size_t split_key(struct str key, struct str *c, size_t max)
{
    size_t n = 0, b = 0;
    for (size_t i = 0; i <= key.n; i++) {
        if (i == key.n || key.p[i] == '.') {
            if (n == max)
                return 0;
            c[n++] = str_make(key.p + b, i - b);
            b = i + 1;
        }
    }
    return n;
}

static bool is_attr_marker(struct str c)
{
    return str_eq(c, "#attributes");
}

/* "@Name" (xmltodict-style attribute) -> "Name", or empty. */
static struct str at_attr(struct str c)
{
    if (c.n > 1 && c.p[0] == '@')
        return str_make(c.p + 1, c.n - 1);
    return str_make(NULL, 0);
}

/* Calls fn for each element of the JSON array text arr (already validated by
 * json_flatten). Returns 0, or -EINVAL if arr is not an array. */
static int json_array_each(struct str arr, void (*fn)(void *, struct str), void *opaque)
{
    size_t i = 0;
    while (i < arr.n && arr.p[i] != '[')
        i++;
    if (i == arr.n)
        return -EINVAL;
    i++;
    for (;;) {
        while (i < arr.n && is_ws(arr.p[i]))
            i++;
        if (i >= arr.n)
            return -EINVAL;
        if (arr.p[i] == ']')
            return 0;
        size_t b = i;
        int depth = 0;
        while (i < arr.n) {
            char c = arr.p[i];
            if (c == '"') {
                i++;
                while (i < arr.n && arr.p[i] != '"')
                    i += arr.p[i] == '\\' ? 2 : 1;
                i++;
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (depth == 0)
                    break;
                depth--;
            } else if (c == ',' && depth == 0) {
                break;
            }
            i++;
        }
        if (i >= arr.n)
            return -EINVAL;
        size_t e = i;
        while (e > b && is_ws(arr.p[e - 1]))
            e--;
        fn(opaque, str_make(arr.p + b, e - b));
        if (arr.p[i] == ',')
            i++;
    }
}

/* Unfolding one element of an EventData "Data" array. */
struct data_unfold {
    struct event *ev;
    struct win_data_list *list;
};

static void unfold_data_elem(void *opaque, struct str e)
{
    struct data_unfold *u = opaque;
    struct event *ev = u->ev;
    /* Reuse the one JSON unescaper: flatten {"v":<element>} into a scratch
     * event sharing the arena. */
    char *w = arena_alloc(ev->arena, e.n + 8);
    memcpy(w, "{\"v\":", 5);
    memcpy(w + 5, e.p, e.n);
    w[5 + e.n] = '}';
    struct event tmp;
    event_init(&tmp, ev->arena);
    if (json_flatten(&tmp, w, e.n + 6) < 0)
        return;
    struct str name = {NULL, 0}, text = STR_LIT("");
    bool have_text = false;
    for (uint32_t i = 0; i < tmp.nfields; i++) {
        struct field *f = &tmp.fields[i];
        struct str k = f->key;
        if (str_eq(k, "v") || str_eq(k, "v.#text") || str_eq(k, "v.Value")) {
            if (f->type != VT_NULL && f->type != VT_JSON)
                text = f->val;
            have_text = true;
        } else if (str_eq(k, "v.@Name") || str_eq(k, "v.#attributes.Name") || str_eq(k, "v.Name")) {
            name = f->val;
        }
    }
    if (name.n)
        win_add_data(ev, name, text, VT_STRING);
    else if (have_text || tmp.nfields == 0)
        win_data_list_push(ev, u->list, text);
}

/* Unnamed Data: a scalar, or an array of strings or of {"@Name","#text"}. */
static void eventdata_data(struct event *ev, struct win_data_list *list, const struct field *f)
{
    if (f->type == VT_JSON && f->val.n && f->val.p[0] == '[') {
        struct data_unfold u = {ev, list};
        json_array_each(f->val, unfold_data_elem, &u);
    } else if (f->type == VT_NULL) {
        win_data_list_push(ev, list, STR_LIT(""));
    } else {
        win_data_list_push(ev, list, f->val);
    }
}

/* State carried across the fields of one nested event. */
struct nested {
    struct event *ev;
    struct win_data_list list;
    struct str pending_name; /* xmltodict: Data.@Name seen, Data.#text to come */
    bool pending;
};

static void flush_pending(struct nested *st)
{
    if (st->pending)
        win_add_data(st->ev, st->pending_name, STR_LIT(""), VT_STRING);
    st->pending = false;
}

static void map_system(struct event *ev, const struct field *f, const struct str *r, size_t m)
{
    struct str none = {NULL, 0};
    if (m == 1) {
        win_add_system(ev, r[0], none, f->val, f->type);
    } else if (m == 2 && str_eq(r[1], "#text")) {
        win_add_system(ev, r[0], none, f->val, f->type);
    } else if (m == 2 && at_attr(r[1]).n) {
        win_add_system(ev, r[0], at_attr(r[1]), f->val, f->type);
    } else if (m == 3 && is_attr_marker(r[1])) {
        win_add_system(ev, r[0], r[2], f->val, f->type);
    } else if (m > 0) {
        win_add_leaf(ev, r[m - 1], none, f->val, f->type);
    }
}

static void map_eventdata(struct nested *st, const struct field *f, struct str key,
                          const struct str *r, size_t m)
{
    struct event *ev = st->ev;
    bool data = m >= 1 && str_eq(r[0], "Data");
    if (!(data && m == 2 && str_eq(r[1], "#text")))
        flush_pending(st);
    if (m == 0) {
        if (f->type == VT_STRING && f->val.n)
            win_add_data(ev, STR_LIT("EventData"), f->val, f->type);
        return;
    }
    if (m == 2 && is_attr_marker(r[0])) {
        win_add_leaf(ev, STR_LIT("EventData"), r[1], f->val, f->type);
    } else if (m == 1 && at_attr(r[0]).n) {
        win_add_leaf(ev, STR_LIT("EventData"), at_attr(r[0]), f->val, f->type);
    } else if (data && m == 1) {
        eventdata_data(ev, &st->list, f);
    } else if (data && m == 2 && str_eq(r[1], "#text")) {
        if (st->pending) {
            win_add_data(ev, st->pending_name, f->val, f->type);
            st->pending = false;
        } else {
            eventdata_data(ev, &st->list, f);
        }
    } else if (data && ((m == 2 && str_eq(r[1], "@Name")) ||
                        (m == 3 && is_attr_marker(r[1]) && str_eq(r[2], "Name")))) {
        st->pending_name = f->val;
        st->pending = f->type == VT_STRING && f->val.n;
    } else if (m == 2 && str_eq(r[1], "#text")) {
        win_add_data(ev, r[0], f->val, f->type);
    } else if (m == 3 && is_attr_marker(r[1])) {
        win_add_leaf(ev, r[0], r[2], f->val, f->type);
    } else {
        /* a name holding dots: everything after "EventData." */
        size_t off = (size_t)(r[0].p - key.p);
        win_add_data(ev, str_make(r[0].p, key.n - off), f->val, f->type);
    }
}

/* UserData and the other parts: leaf names. part is the part's own name. */
static void map_leaf(struct event *ev, const struct field *f, struct str part, const struct str *r,
                     size_t m)
{
    struct str none = {NULL, 0};
    if (m == 0) {
        if (f->type != VT_NULL && !(f->type == VT_JSON && str_eq(f->val, "{}")))
            win_add_leaf(ev, part, none, f->val, f->type);
        return;
    }
    struct str last = r[m - 1];
    if (str_eq(last, "#text")) {
        win_add_leaf(ev, m >= 2 ? r[m - 2] : part, none, f->val, f->type);
    } else if (m >= 2 && is_attr_marker(r[m - 2])) {
        win_add_leaf(ev, m >= 3 ? r[m - 3] : part, last, f->val, f->type);
    } else if (at_attr(last).n) {
        win_add_leaf(ev, m >= 2 ? r[m - 2] : part, at_attr(last), f->val, f->type);
    } else if (!(f->type == VT_JSON && str_eq(f->val, "{}"))) {
        win_add_leaf(ev, last, none, f->val, f->type);
    }
}

#define MAX_KEY_PARTS 16

static void map_nested(struct nested *st, const struct field *f, size_t prefix)
{
    struct event *ev = st->ev;
    struct str key = f->key;
    if (prefix && !str_starts(key, "Event.")) {
        event_add(ev, f->key, f->val, f->type); /* beside the Event object */
        return;
    }
    struct str rest = str_make(key.p + prefix, key.n - prefix);
    struct str c[MAX_KEY_PARTS];
    size_t n = split_key(rest, c, MAX_KEY_PARTS);
    if (n == 0) {
        flush_pending(st);
        event_add(ev, f->key, f->val, f->type);
        return;
    }
    if (!str_eq(c[0], "EventData")) {
        flush_pending(st);
        win_data_list_flush(ev, &st->list);
    }
    if (is_attr_marker(c[0]) || at_attr(c[0]).n)
        return; /* the Event element's own attributes: xmlns */
    if (str_eq(c[0], "System"))
        map_system(ev, f, c + 1, n - 1);
    else if (str_eq(c[0], "EventData"))
        map_eventdata(st, f, rest, c + 1, n - 1);
    else if (str_eq(c[0], "RenderingInfo")) {
        /* the rendered strings of System values; only the message is new */
        if (n == 2 && str_eq(c[1], "Message") && f->type == VT_STRING)
            ev->message = f->val;
    } else
        map_leaf(ev, f, c[0], c + 1, n - 1);
}

/* Exporter names -> System names, applied when the target is absent. */
static const struct {
    const char *from, *to;
} flat_renames[] = {
    {"ProviderName", "Provider_Name"},
    {"SourceName", "Provider_Name"},
    {"ProviderGuid", "Provider_Guid"},
    {"Hostname", "Computer"},
    {"ComputerName", "Computer"},
    {"MachineName", "Computer"},
    {"LogName", "Channel"},
    {"RecordNumber", "EventRecordID"},
    {"RecordId", "EventRecordID"},
    {"UserID", "Security_UserID"},
    {"UserId", "Security_UserID"},
    {"ActivityID", "Correlation_ActivityID"},
    {"RelatedActivityID", "Correlation_RelatedActivityID"},
    {"ExecutionProcessID", "Execution_ProcessID"},
    {"ExecutionThreadID", "Execution_ThreadID"},
    {"TaskValue", "Task"},
};

static void map_flat(struct event *ev, const struct field *old, uint32_t n)
{
    /* Get-WinEvent names the event id "Id"; only trust it beside LogName. */
    bool winevent = false;
    for (uint32_t i = 0; i < n; i++)
        if (str_eq(old[i].key, "LogName"))
            winevent = true;
    for (uint32_t i = 0; i < n; i++) {
        const struct field *f = &old[i];
        struct str key = f->key;
        enum value_type t = f->type;
        if (str_starts(key, "EventData.") && key.n > 10) {
            win_add_data(ev, str_make(key.p + 10, key.n - 10), f->val, t);
            continue;
        }
        const char *to = NULL;
        if (winevent && str_eq(key, "Id"))
            to = "EventID";
        for (size_t r = 0; !to && r < sizeof(flat_renames) / sizeof(flat_renames[0]); r++)
            if (str_eq(key, flat_renames[r].from))
                to = flat_renames[r].to;
        if (to) {
            bool taken = false;
            for (uint32_t j = 0; j < n && !taken; j++)
                taken = str_eq(old[j].key, to);
            for (uint32_t j = 0; j < ev->nfields && !taken; j++)
                taken = str_eq(ev->fields[j].key, to);
            if (!taken)
                key = str_make(to, strlen(to));
        }
        event_add(ev, key, f->val, win_system_type(key, f->val, t));
    }
}

/* Length of the prefix before "System." of a nested event ("Event." or ""),
 * or -1 for a flat one. */
static long nested_prefix(const struct event *ev)
{
    for (uint32_t i = 0; i < ev->nfields && i < 8; i++) {
        struct str k = ev->fields[i].key;
        if (str_starts(k, "Event.System."))
            return 6;
        if (str_starts(k, "System.EventID") || str_starts(k, "System.Provider"))
            return 0;
    }
    return -1;
}

/* Does the nested event (prefix "Event." or "") carry an EventID? */
static bool nested_has_eventid(const struct event *ev, size_t prefix)
{
    for (uint32_t i = 0; i < ev->nfields; i++) {
        struct str k = ev->fields[i].key;
        if (k.n < prefix + 14)
            continue;
        struct str r = str_make(k.p + prefix, k.n - prefix);
        if (str_eq(r, "System.EventID") || str_eq(r, "System.EventID.#text"))
            return true;
    }
    return false;
}

static int windows_probe(const struct event *ev)
{
    long p = nested_prefix(ev);
    if (p >= 0 && !nested_has_eventid(ev, (size_t)p))
        return 0; /* an Event without an id: leave it to the generic decoder */
    if (p == 6)
        return 100;
    if (p == 0)
        return 90;
    const struct field *id = event_get(ev, "EventID");
    if (!id) {
        id = event_get(ev, "Id");
        if (!id || !event_get(ev, "LogName"))
            return 0;
    }
    if (!(id->type == VT_NUMBER || (id->type == VT_STRING && win_is_decimal(id->val))))
        return 0;
    static const char *const marks[] = {"Channel", "Provider_Name", "ProviderName", "SourceName",
                                        "LogName"};
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
        if (event_get(ev, marks[i]))
            return 60;
    return 0;
}

static int windows_decode_json(struct decode_ctx *ctx, struct event *ev)
{
    struct field *old = ev->fields;
    uint32_t n = ev->nfields, cap = ev->capfields;
    long prefix = nested_prefix(ev);
    ev->fields = NULL;
    ev->nfields = ev->capfields = 0;
    if (prefix >= 0) {
        struct nested st = {.ev = ev};
        for (uint32_t i = 0; i < n; i++)
            map_nested(&st, &old[i], (size_t)prefix);
        flush_pending(&st);
        win_data_list_flush(ev, &st.list);
    } else {
        map_flat(ev, old, n);
    }
    int rc = win_finish(ctx, ev);
    if (rc < 0) {
        ev->fields = old;
        ev->nfields = n;
        ev->capfields = cap;
        ev->message = str_make(NULL, 0);
    }
    return rc;
}

const struct decoder decoder_windows = {
    .name = "windows",
    .description = "Windows events as JSON: nested Event/System/EventData exports and flat "
                   "lines (Sigma-style, NXLog, Get-WinEvent)",
    .probe_json = windows_probe,
    .decode_json = windows_decode_json,
};
