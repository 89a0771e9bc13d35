/*
 * decode-m365.c - Microsoft 365 unified audit log records.
 *
 * Input: the records of the Office 365 Management Activity API, or of a
 * Purview audit search, as JSON (an array, NDJSON or concatenated objects;
 * the framework cuts and flattens them). Two shapes:
 *
 *   the record itself  {"CreationTime":..., "Id":..., "Operation":...,
 *                       "Workload":..., "RecordType":..., ...}
 *   a search export    {"CreationDate":..., "Operations":..., "AuditData":
 *                       "{\"CreationTime\":...}", ...} where the record is a
 *                       JSON *string* (Purview's CSV columns or the
 *                       Search-UnifiedAuditLog objects, converted to JSON).
 *
 * An export's AuditData string is parsed and flattened in turn; the record's
 * fields then come first under their own names, and the export's columns
 * follow under "AuditSearch.<column>" (they repeat the record's Operation,
 * UserId and RecordType in another form and must not collide with them).
 * AuditData itself is dropped once unfolded; when it is not valid JSON it is
 * kept and the export's columns are used as they are.
 *
 * Native names stay the schema's. The lists the schema defines as
 * Name/Value pairs are also unfolded into one field per pair, so that rules
 * can name them: Parameters.<Name> (Exchange admin cmdlets),
 * OperationProperties.<Name> (mailbox audit), ExtendedProperties.<Name> and
 * DeviceProperties.<Name> (Entra sign-ins), ModifiedProperties.<Name>.NewValue
 * and .OldValue. The original arrays are kept too. Folders (MailItemsAccessed)
 * gains a count, its paths and its item count; AffectedItems a count.
 *
 * SigmaHQ's m365 rules name a few fields the audit log does not have
 * (eventSource, eventName, status, Payload) and the bare ExtendedProperties
 * names (RequestType); kenchi adds them, derived from the record, so those
 * rules load unchanged (see docs/fields.md).
 *
 * All recognised names are found in one pass over the flattened fields with
 * a binary search in m365_names[]; the arrays are walked only when present.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/decode.h"
#include "decode/json-scan.h"

enum m365_role {
    M_ACTOR_IP,
    M_ACTOR_IP_ADDRESS,
    M_AFFECTED_ITEMS,
    M_AUDIT_DATA,
    M_CLIENT_IP,
    M_CLIENT_IP_ADDRESS,
    M_CREATION_DATE,
    M_CREATION_TIME,
    M_DEVICE_PROPERTIES,
    M_EXTENDED_PROPERTIES,
    M_FOLDERS,
    M_ID,
    M_INTERNET_MESSAGE_ID,
    M_ITEM_MESSAGE_ID,
    M_ITEM_SUBJECT,
    M_MAILBOX_OWNER_UPN,
    M_MODIFIED_PROPERTIES,
    M_NAME,
    M_OPERATION,
    M_OPERATION_PROPERTIES,
    M_OPERATIONS,
    M_ORGANIZATION_ID,
    M_P1_SENDER,
    M_PARAMETERS,
    M_RECIPIENTS,
    M_RECORD_ID,
    M_RECORD_TYPE,
    M_RESULT_STATUS,
    M_SEND_AS_SMTP,
    M_SEND_ON_BEHALF_SMTP,
    M_SENDER_IP,
    M_SUBJECT,
    M_USER_ID,
    M_USER_IDS,
    M_USER_KEY,
    M_WORKLOAD,
    M_RECIPIENT_LIST,
    M__COUNT
};

struct m365_name {
    const char *name;
    enum m365_role role;
};

/* Sorted by name (bytewise) for bsearch; one row per role. */
static const struct m365_name m365_names[] = {
    {"ActorIP", M_ACTOR_IP},
    {"ActorIpAddress", M_ACTOR_IP_ADDRESS},
    {"AffectedItems", M_AFFECTED_ITEMS},
    {"AuditData", M_AUDIT_DATA},
    {"ClientIP", M_CLIENT_IP},
    {"ClientIPAddress", M_CLIENT_IP_ADDRESS},
    {"CreationDate", M_CREATION_DATE},
    {"CreationTime", M_CREATION_TIME},
    {"DeviceProperties", M_DEVICE_PROPERTIES},
    {"ExtendedProperties", M_EXTENDED_PROPERTIES},
    {"Folders", M_FOLDERS},
    {"Id", M_ID},
    {"InternetMessageId", M_INTERNET_MESSAGE_ID},
    {"Item.InternetMessageId", M_ITEM_MESSAGE_ID},
    {"Item.Subject", M_ITEM_SUBJECT},
    {"MailboxOwnerUPN", M_MAILBOX_OWNER_UPN},
    {"ModifiedProperties", M_MODIFIED_PROPERTIES},
    {"Name", M_NAME},
    {"Operation", M_OPERATION},
    {"OperationProperties", M_OPERATION_PROPERTIES},
    {"Operations", M_OPERATIONS},
    {"OrganizationId", M_ORGANIZATION_ID},
    {"P1Sender", M_P1_SENDER},
    {"Parameters", M_PARAMETERS},
    {"Recipients", M_RECIPIENTS},
    {"RecordId", M_RECORD_ID},
    {"RecordType", M_RECORD_TYPE},
    {"ResultStatus", M_RESULT_STATUS},
    {"SendAsUserSmtp", M_SEND_AS_SMTP},
    {"SendOnBehalfOfUserSmtp", M_SEND_ON_BEHALF_SMTP},
    {"SenderIp", M_SENDER_IP},
    {"Subject", M_SUBJECT},
    {"UserId", M_USER_ID},
    {"UserIds", M_USER_IDS},
    {"UserKey", M_USER_KEY},
    {"Workload", M_WORKLOAD},
    {"recipientList", M_RECIPIENT_LIST},
};
#define N_NAMES (sizeof(m365_names) / sizeof(m365_names[0]))

static int cmp_name(const void *key, const void *elem)
{
    const struct str *k = key;
    const char *e = ((const struct m365_name *)elem)->name;
    size_t el = strlen(e);
    int c = memcmp(k->p, e, k->n < el ? k->n : el);
    if (c)
        return c;
    return k->n < el ? -1 : k->n > el;
}

static int role_of(struct str key)
{
    if (!key.n || key.n > 22)
        return -1; /* longer than any name in the table */
    const struct m365_name *m = bsearch(&key, m365_names, N_NAMES, sizeof(m365_names[0]), cmp_name);
    return m ? (int)m->role : -1;
}

/* Index of each role's first field in ev->fields, or -1. */
struct m365_index {
    int32_t at[M__COUNT];
};

static void index_fields(const struct event *ev, struct m365_index *ix)
{
    for (int i = 0; i < M__COUNT; i++)
        ix->at[i] = -1;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        int r = role_of(ev->fields[i].key);
        if (r >= 0 && ix->at[r] < 0)
            ix->at[r] = (int32_t)i;
    }
}

/* The field of role r, or NULL. */
static const struct field *fld(const struct event *ev, const struct m365_index *ix, int r)
{
    return ix->at[r] >= 0 ? &ev->fields[ix->at[r]] : NULL;
}

/* The text of role r's field when it is a non-empty string (or a number
 * or boolean), else an empty slice. */
static struct str text(const struct event *ev, const struct m365_index *ix, int r)
{
    const struct field *f = fld(ev, ix, r);
    if (!f || f->type == VT_JSON || f->type == VT_NULL)
        return (struct str){0};
    return f->val;
}

static bool text_is(struct str s, const char *lit)
{
    size_t l = strlen(lit);
    return s.n == l && !strncasecmp(s.p, lit, l);
}

/* ---- probe --------------------------------------------------------------- */

static int m365_probe_json(const struct event *ev)
{
    unsigned seen = 0;
    enum { CT = 1, OP = 2, WL = 4, TENANT = 8, AD = 16, EXPORT = 32 };
    for (uint32_t i = 0; i < ev->nfields; i++) {
        struct str k = ev->fields[i].key;
        /* cheap reject before the search: every name starts upper-case */
        if (!k.n || k.p[0] < 'A' || k.p[0] > 'Z')
            continue;
        switch (role_of(k)) {
        case M_CREATION_TIME:
            seen |= CT;
            break;
        case M_OPERATION:
            seen |= OP;
            break;
        case M_WORKLOAD:
        case M_RECORD_TYPE:
            seen |= WL;
            break;
        case M_ORGANIZATION_ID:
        case M_USER_KEY:
        case M_ID:
            seen |= TENANT;
            break;
        case M_AUDIT_DATA:
            if (ev->fields[i].type == VT_STRING)
                seen |= AD;
            break;
        case M_CREATION_DATE:
        case M_OPERATIONS:
        case M_RECORD_ID:
        case M_USER_IDS:
            seen |= EXPORT;
            break;
        default:
            break;
        }
    }
    if ((seen & (CT | OP | WL | TENANT)) == (CT | OP | WL | TENANT))
        return 100;
    if ((seen & AD) && (seen & (EXPORT | OP | WL)))
        return 100;
    return 0;
}

/* ---- the search-export shape ----------------------------------------------- */

/* ev has an AuditData string at index ad: flatten it, put its fields first
 * and the export's columns after them as "AuditSearch.<name>". On failure
 * ev is left as it was. */
static void unfold_audit_data(struct event *ev, uint32_t ad)
{
    struct str s = str_trim(ev->fields[ad].val);
    if (!s.n || s.p[0] != '{')
        return;
    uint32_t outer = ev->nfields;
    if (json_flatten(ev, s.p, s.n) < 0)
        return;
    uint32_t inner = ev->nfields - outer;
    struct field *nf = arena_alloc(ev->arena, (size_t)ev->nfields * sizeof(*nf));
    memcpy(nf, ev->fields + outer, inner * sizeof(*nf));
    uint32_t n = inner;
    for (uint32_t i = 0; i < outer; i++) {
        if (i == ad)
            continue;
        struct field f = ev->fields[i];
        size_t kl = 12 + f.key.n;
        char *k = arena_alloc(ev->arena, kl + 1);
        memcpy(k, "AuditSearch.", 12);
        memcpy(k + 12, f.key.p, f.key.n);
        k[kl] = '\0';
        f.key = str_make(k, kl);
        nf[n++] = f;
    }
    ev->fields = nf;
    ev->nfields = n;
    ev->capfields = outer + inner;
}

/* ---- Name/Value lists -------------------------------------------------------- */

#define M365_MAX_LIST 256 /* elements unfolded per list; the array stays whole */
#define M365_MAX_NAME 256

/* "prefix.name[.suffix]" in the arena. */
static struct str make_key(struct arena *a, const char *prefix, struct str name, const char *suffix)
{
    size_t pl = strlen(prefix), sl = suffix ? strlen(suffix) : 0;
    size_t n = pl + 1 + name.n + (sl ? sl + 1 : 0);
    char *k = arena_alloc(a, n + 1);
    memcpy(k, prefix, pl);
    k[pl] = '.';
    memcpy(k + pl + 1, name.p, name.n);
    if (sl) {
        k[pl + 1 + name.n] = '.';
        memcpy(k + pl + 2 + name.n, suffix, sl);
    }
    k[n] = '\0';
    return str_make(k, n);
}

static bool key_among(const struct event *ev, uint32_t from, uint32_t to, struct str key)
{
    for (uint32_t i = from; i < to; i++)
        if (ev->fields[i].key.n == key.n && !memcmp(ev->fields[i].key.p, key.p, key.n))
            return true;
    return false;
}

/* Add prefix.Name = Value for each {"Name":...,"Value":...} of the raw
 * array arr; with mod_props, prefix.Name.NewValue and .OldValue instead.
 * A name already added from this list is skipped (no duplicate keys).
 * Returns the index of the first field added. */
static uint32_t unfold_pairs(struct event *ev, struct str arr, const char *prefix, bool mod_props)
{
    uint32_t start = ev->nfields;
    struct json_iter it;
    struct str el;
    if (json_iter_init(&it, arr) < 0)
        return start;
    for (int count = 0; count < M365_MAX_LIST && json_iter_next(&it, NULL, &el) == 1; count++) {
        struct json_iter m;
        struct str k, v, name = {0}, val = {0}, oldv = {0};
        bool has_val = false, has_old = false;
        if (json_iter_init(&m, el) < 0 || el.p[0] != '{')
            continue;
        while (json_iter_next(&m, &k, &v) == 1) {
            if (json_key_is(k, "Name") && json_raw_type(v) == VT_STRING)
                name = v;
            else if (json_key_is(k, mod_props ? "NewValue" : "Value"))
                val = v, has_val = true;
            else if (mod_props && json_key_is(k, "OldValue"))
                oldv = v, has_old = true;
        }
        struct str nm;
        if (!name.n || json_string_decode(ev->arena, name, &nm) < 0 || !nm.n ||
            nm.n > M365_MAX_NAME)
            continue;
        for (int pass = 0; pass < 2; pass++) {
            bool have = pass == 0 ? has_val : has_old;
            struct str raw = pass == 0 ? val : oldv;
            if (!have)
                continue;
            struct str key = make_key(ev->arena, prefix, nm,
                                      mod_props ? (pass ? "OldValue" : "NewValue") : NULL);
            struct str dv;
            enum value_type t;
            if (key_among(ev, start, ev->nfields, key) ||
                json_value_decode(ev->arena, raw, &dv, &t) < 0)
                continue;
            event_add(ev, key, dv, t);
        }
    }
    return start;
}

/* For each field added by unfold_pairs() from index start, also add the
 * bare name ("RequestType" beside "ExtendedProperties.RequestType") unless
 * the record already has a field of that name. */
static void add_bare_aliases(struct event *ev, uint32_t start, size_t prefix_len)
{
    uint32_t end = ev->nfields;
    for (uint32_t i = start; i < end; i++) {
        struct field f = ev->fields[i];
        struct str bare = str_make(f.key.p + prefix_len + 1, f.key.n - prefix_len - 1);
        if (!key_among(ev, 0, start, bare) && !key_among(ev, end, ev->nfields, bare))
            event_add(ev, bare, f.val, f.type);
    }
}

#define PARAMS_PREFIX 11 /* strlen("Parameters.") */

/* Payload: the cmdlet as a command line, "<Operation> -Name Value ...",
 * from the Parameters.<Name> fields [from, to). Values with blanks (or
 * empty) are double-quoted. */
static struct str cmdlet_line(struct event *ev, struct str op, uint32_t from, uint32_t to)
{
    size_t n = op.n;
    for (uint32_t i = from; i < to; i++)
        n += 2 + (ev->fields[i].key.n - PARAMS_PREFIX) + 1 + ev->fields[i].val.n + 2;
    char *o = arena_alloc(ev->arena, n + 1);
    size_t l = 0;
    memcpy(o, op.p, op.n);
    l = op.n;
    for (uint32_t i = from; i < to; i++) {
        struct str name =
            str_make(ev->fields[i].key.p + PARAMS_PREFIX, ev->fields[i].key.n - PARAMS_PREFIX);
        struct str v = ev->fields[i].val;
        bool quote = !v.n || memchr(v.p, ' ', v.n) || memchr(v.p, '\t', v.n);
        o[l++] = ' ';
        o[l++] = '-';
        memcpy(o + l, name.p, name.n);
        l += name.n;
        o[l++] = ' ';
        if (quote)
            o[l++] = '"';
        memcpy(o + l, v.p, v.n);
        l += v.n;
        if (quote)
            o[l++] = '"';
    }
    o[l] = '\0';
    return str_make(o, l);
}

/* Folders of MailItemsAccessed and friends: Folders.Count, Folders.Path (a
 * JSON array of the folder paths) and, when the folders list their items,
 * Folders.ItemCount. */
static void unfold_folders(struct event *ev, struct str arr)
{
    struct json_iter it;
    struct str el;
    if (json_iter_init(&it, arr) < 0)
        return;
    /* the paths are copied as raw JSON string tokens: at most arr.n bytes */
    char *paths = arena_alloc(ev->arena, arr.n + 3);
    size_t pl = 0;
    paths[pl++] = '[';
    unsigned long folders = 0, items = 0;
    bool listed = false;
    int rc;
    while ((rc = json_iter_next(&it, NULL, &el)) == 1) {
        folders++;
        struct json_iter m;
        struct str k, v;
        if (json_iter_init(&m, el) < 0 || el.p[0] != '{')
            continue;
        while (json_iter_next(&m, &k, &v) == 1) {
            if (json_key_is(k, "Path") && json_raw_type(v) == VT_STRING) {
                if (pl > 1)
                    paths[pl++] = ',';
                memcpy(paths + pl, v.p, v.n);
                pl += v.n;
            } else if (json_key_is(k, "FolderItems")) {
                struct json_iter fi;
                struct str x;
                listed = true;
                if (json_iter_init(&fi, v) == 0)
                    while (json_iter_next(&fi, NULL, &x) == 1)
                        items++;
            }
        }
    }
    if (rc < 0)
        return;
    paths[pl++] = ']';
    paths[pl] = '\0';
    char num[24];
    int nl = snprintf(num, sizeof(num), "%lu", folders);
    event_add(ev, STR_LIT("Folders.Count"),
              str_make(arena_strndup(ev->arena, num, (size_t)nl), (size_t)nl), VT_NUMBER);
    event_add(ev, STR_LIT("Folders.Path"), str_make(paths, pl), VT_JSON);
    if (listed) {
        nl = snprintf(num, sizeof(num), "%lu", items);
        event_add(ev, STR_LIT("Folders.ItemCount"),
                  str_make(arena_strndup(ev->arena, num, (size_t)nl), (size_t)nl), VT_NUMBER);
    }
}

/* AffectedItems.Count for the group operations (MoveToDeletedItems,
 * SoftDelete, HardDelete, Move...). */
static void count_affected(struct event *ev, struct str arr)
{
    struct json_iter it;
    struct str el;
    unsigned long n = 0;
    int rc;
    if (json_iter_init(&it, arr) < 0)
        return;
    while ((rc = json_iter_next(&it, NULL, &el)) == 1)
        n++;
    if (rc < 0)
        return;
    char num[24];
    int nl = snprintf(num, sizeof(num), "%lu", n);
    event_add(ev, STR_LIT("AffectedItems.Count"),
              str_make(arena_strndup(ev->arena, num, (size_t)nl), (size_t)nl), VT_NUMBER);
}

/* First Address of recipientList ([{"Address":...,"Name":...}]). */
static struct str first_recipient(struct event *ev, struct str arr)
{
    struct json_iter it, m;
    struct str el, k, v, out;
    if (json_iter_init(&it, arr) < 0 || json_iter_next(&it, NULL, &el) != 1 ||
        json_iter_init(&m, el) < 0)
        return (struct str){0};
    while (json_iter_next(&m, &k, &v) == 1)
        if (json_key_is(k, "Address") && json_string_decode(ev->arena, v, &out) == 0)
            return out;
    return (struct str){0};
}

/* First element of a raw array of strings (Recipients). */
static struct str first_string(struct event *ev, struct str arr)
{
    struct json_iter it;
    struct str el, out;
    if (json_iter_init(&it, arr) == 0 && json_iter_next(&it, NULL, &el) == 1 &&
        json_raw_type(el) == VT_STRING && json_string_decode(ev->arena, el, &out) == 0)
        return out;
    return (struct str){0};
}

/* ---- core fields ------------------------------------------------------------ */

/* "1.2.3.4:5678" -> 1.2.3.4 and 5678; "[2001:db8::1]:443" -> 2001:db8::1
 * and 443; a bare IPv6 address is kept whole. */
static struct str split_ip_port(struct str s, struct str *port)
{
    s = str_trim(s);
    *port = (struct str){0};
    struct str p = {0};
    if (!s.n)
        return s;
    if (s.n && s.p[0] == '[') {
        const char *rb = memchr(s.p, ']', s.n);
        if (!rb)
            return (struct str){0};
        size_t at = (size_t)(rb - s.p);
        if (at + 1 < s.n && s.p[at + 1] == ':')
            p = str_make(rb + 2, s.n - at - 2);
        s = str_make(s.p + 1, at - 1);
    } else {
        const char *c = memchr(s.p, ':', s.n);
        if (c && !memchr(c + 1, ':', s.n - (size_t)(c - s.p) - 1)) {
            p = str_make(c + 1, s.n - (size_t)(c - s.p) - 1);
            s = str_make(s.p, (size_t)(c - s.p));
        }
    }
    bool digits = p.n > 0 && p.n <= 5;
    for (size_t i = 0; digits && i < p.n; i++)
        digits = p.p[i] >= '0' && p.p[i] <= '9';
    if (digits)
        *port = p;
    return s;
}

static struct str strip_angle(struct str s)
{
    s = str_trim(s);
    if (s.n >= 2 && s.p[0] == '<' && s.p[s.n - 1] == '>')
        s = str_make(s.p + 1, s.n - 2);
    return s;
}

/* ECS outcome of ResultStatus (NULL when it says nothing). */
static const char *outcome_of(struct str rs)
{
    static const struct {
        const char *status;
        const char *outcome;
    } map[] = {
        {"Succeeded", "success"},
        {"Success", "success"},
        {"True", "success"},
        {"Failed", "failure"},
        {"Failure", "failure"},
        {"False", "failure"},
        {"PartiallySucceeded", "unknown"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (text_is(rs, map[i].status))
            return map[i].outcome;
    return NULL;
}

/* "/Date(1709543102000)/" (PowerShell's JSON dates) or RFC 3339. */
static bool parse_time(struct str s, int64_t *out)
{
    if (s.n && time_parse_iso(s.p, s.n, NULL, out) == s.n)
        return true;
    if (str_starts(s, "/Date(")) {
        int64_t ms = 0;
        size_t i = 6;
        bool neg = i < s.n && s.p[i] == '-';
        i += neg;
        size_t b = i;
        while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && i - b < 13)
            ms = ms * 10 + (s.p[i++] - '0');
        /* 13 digits at most, and int64 ns end in 2262 */
        if (i == b || i >= s.n || (s.p[i] != ')' && s.p[i] != '+' && s.p[i] != '-') ||
            ms > 9000000000000LL)
            return false;
        *out = (neg ? -ms : ms) * 1000000;
        return true;
    }
    return false;
}

/* Sigma log source service of a Workload (see docs/fields.md). A search
 * export whose AuditData could not be read has no Workload; its RecordType
 * column names the record type ("ExchangeItemAggregated"), which tells. */
static const char *service_of(struct str workload, struct str record_type)
{
    if (text_is(workload, "Exchange"))
        return "exchange";
    if (text_is(workload, "SecurityComplianceCenter"))
        return "threat_management";
    if (!workload.n && str_starts(record_type, "Exchange"))
        return "exchange";
    if (!workload.n && str_starts(record_type, "SecurityCompliance"))
        return "threat_management";
    return "audit";
}

static int m365_decode_json(struct decode_ctx *ctx, struct event *ev)
{
    (void)ctx;
    struct m365_index ix;
    index_fields(ev, &ix);
    const struct field *ad = fld(ev, &ix, M_AUDIT_DATA);
    if (ad && ad->type == VT_STRING) {
        const struct field *before = ev->fields;
        unfold_audit_data(ev, (uint32_t)ix.at[M_AUDIT_DATA]);
        if (ev->fields != before)
            index_fields(ev, &ix); /* unfolded: a new field array */
    }

    /* time, action, user */
    struct str t = text(ev, &ix, M_CREATION_TIME);
    int64_t ts;
    if (!(t.n && parse_time(t, &ts))) {
        t = text(ev, &ix, M_CREATION_DATE);
        if (!(t.n && parse_time(t, &ts)))
            ts = TIME_NONE;
    }
    ev->ts_ns = ts;
    struct str op = text(ev, &ix, M_OPERATION);
    if (!op.n)
        op = text(ev, &ix, M_OPERATIONS);
    event_set_core(ev, CORE_EVENT_ACTION, op);
    struct str user = text(ev, &ix, M_USER_ID);
    event_set_core(ev, CORE_USER_NAME, user.n ? user : text(ev, &ix, M_USER_IDS));

    /* source address: the first of these that has one */
    static const int ip_roles[] = {M_CLIENT_IP, M_CLIENT_IP_ADDRESS, M_ACTOR_IP_ADDRESS, M_ACTOR_IP,
                                   M_SENDER_IP};
    for (size_t i = 0; i < sizeof(ip_roles) / sizeof(ip_roles[0]); i++) {
        struct str port, ip = split_ip_port(text(ev, &ix, ip_roles[i]), &port);
        if (ip.n) {
            ev->core[CORE_SOURCE_IP] = ip;
            event_set_core(ev, CORE_SOURCE_PORT, port);
            break;
        }
    }

    /* outcome: ResultStatus, except that an Entra STS record says Success
     * for the HTTP exchange even when the sign-in failed */
    const char *outcome = outcome_of(text(ev, &ix, M_RESULT_STATUS));
    if (text_is(op, "UserLoginFailed"))
        outcome = "failure";
    if (outcome)
        ev->core[CORE_EVENT_OUTCOME] = str_make(outcome, strlen(outcome));

    /* mail: the mailbox item, else the message a Defender record is about */
    struct str subject = text(ev, &ix, M_ITEM_SUBJECT);
    struct str msgid = text(ev, &ix, M_ITEM_MESSAGE_ID);
    event_set_core(ev, CORE_EMAIL_SUBJECT, subject.n ? subject : text(ev, &ix, M_SUBJECT));
    event_set_core(ev, CORE_EMAIL_MESSAGE_ID,
                   strip_angle(msgid.n ? msgid : text(ev, &ix, M_INTERNET_MESSAGE_ID)));
    event_set_core(ev, CORE_EMAIL_FROM_ADDRESS, text(ev, &ix, M_P1_SENDER));
    if (text_is(op, "SendAs"))
        event_set_core(ev, CORE_EMAIL_FROM_ADDRESS, text(ev, &ix, M_SEND_AS_SMTP));
    else if (text_is(op, "SendOnBehalf"))
        event_set_core(ev, CORE_EMAIL_FROM_ADDRESS, text(ev, &ix, M_SEND_ON_BEHALF_SMTP));
    else if (text_is(op, "Send"))
        event_set_core(ev, CORE_EMAIL_FROM_ADDRESS, text(ev, &ix, M_MAILBOX_OWNER_UPN));
    const struct field *f = fld(ev, &ix, M_RECIPIENT_LIST);
    if (f && f->type == VT_JSON)
        event_set_core(ev, CORE_EMAIL_TO_ADDRESS, first_recipient(ev, f->val));
    f = fld(ev, &ix, M_RECIPIENTS);
    if (f && f->type == VT_JSON)
        event_set_core(ev, CORE_EMAIL_TO_ADDRESS, first_string(ev, f->val));

    /* Unfolding below appends fields, so ev->fields may move: keep
     * copies of the fields still needed, never pointers into the array
     * (the strings themselves do not move). */
    struct str workload = text(ev, &ix, M_WORKLOAD);
    struct str record_type = text(ev, &ix, M_RECORD_TYPE);
    struct str alert_name = text(ev, &ix, M_NAME);
    struct field params = {.type = VT_NULL}, list;
    if ((f = fld(ev, &ix, M_PARAMETERS)))
        params = *f;

    /* Name/Value lists */
    static const struct {
        int role;
        const char *prefix;
        bool mod_props, bare;
    } lists[] = {
        {M_PARAMETERS, "Parameters", false, false},
        {M_OPERATION_PROPERTIES, "OperationProperties", false, false},
        {M_EXTENDED_PROPERTIES, "ExtendedProperties", false, true},
        {M_DEVICE_PROPERTIES, "DeviceProperties", false, false},
        {M_MODIFIED_PROPERTIES, "ModifiedProperties", true, false},
    };
    uint32_t params_from = 0, params_to = 0;
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (ix.at[lists[i].role] < 0)
            continue;
        list = ev->fields[ix.at[lists[i].role]];
        if (list.type != VT_JSON)
            continue;
        uint32_t from = unfold_pairs(ev, list.val, lists[i].prefix, lists[i].mod_props);
        if (lists[i].role == M_PARAMETERS)
            params_from = from, params_to = ev->nfields;
        if (lists[i].bare)
            add_bare_aliases(ev, from, strlen(lists[i].prefix));
    }
    if (ix.at[M_FOLDERS] >= 0 && ev->fields[ix.at[M_FOLDERS]].type == VT_JSON)
        unfold_folders(ev, ev->fields[ix.at[M_FOLDERS]].val);
    if (ix.at[M_AFFECTED_ITEMS] >= 0 && ev->fields[ix.at[M_AFFECTED_ITEMS]].type == VT_JSON)
        count_affected(ev, ev->fields[ix.at[M_AFFECTED_ITEMS]].val);

    /* names SigmaHQ's m365 rules use */
    bool alert =
        text_is(workload, "SecurityComplianceCenter") && alert_name.n && str_starts(op, "Alert");
    if (workload.n)
        event_add_str(ev, "eventSource", workload);
    if (alert || op.n)
        event_add_str(ev, "eventName", alert ? alert_name : op);
    if (outcome && strcmp(outcome, "unknown"))
        event_add_str(ev, "status", str_make(outcome, strlen(outcome)));
    if (params.type == VT_JSON && params_to > params_from && op.n)
        event_add_str(ev, "Payload", cmdlet_line(ev, op, params_from, params_to));
    else if (params.type == VT_STRING && params.val.n && op.n) {
        size_t n = op.n + 1 + params.val.n;
        char *p = arena_alloc(ev->arena, n + 1);
        memcpy(p, op.p, op.n);
        p[op.n] = ' ';
        memcpy(p + op.n + 1, params.val.p, params.val.n);
        p[n] = '\0';
        event_add_str(ev, "Payload", str_make(p, n));
    }

    ev->format = "m365";
    ev->ls = (struct logsource){"m365", service_of(workload, record_type), NULL};
    return 0;
}

const struct decoder decoder_m365 = {
    .name = "m365",
    .description = "Microsoft 365 unified audit log (Management Activity API records, "
                   "Purview audit search exports with AuditData)",
    .probe_json = m365_probe_json,
    .decode_json = m365_decode_json,
};
