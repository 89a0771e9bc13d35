/*
 * decode-zeek.c - Zeek logs, in both of Zeek's ASCII forms.
 *
 * TSV (Zeek's default writer): a file is one or more header blocks, each
 *
 *     #separator \x09            (always first; starts a new block)
 *     #set_separator  ,
 *     #empty_field    (empty)
 *     #unset_field    -
 *     #path           conn
 *     #open           2024-03-04-09-00-00
 *     #fields         ts  uid  id.orig_h ...
 *     #types          time string addr ...
 *
 * followed by data lines and an optional "#close". The header lines are
 * kept in per-file state (ctx->state) and answered with DECODE_SKIP: they
 * describe the file, they are not events. A data line is cut at the
 * separator, each column is unescaped (Zeek writes "\\" for a backslash and
 * "\xNN" for the separator and every byte outside printable ASCII), and
 * typed by its #types entry: numbers stay bare, T/F become booleans, sets
 * and vectors become JSON arrays, the unset field is omitted and the empty
 * field is an empty string (an empty array for sets).
 *
 * JSON (LogAscii::use_json, or a shipper's output): one object per record,
 * already flattened by the framework, so the names are already Zeek's.
 *
 * Which log a record belongs to (the Sigma service: conn, dns, smtp...) is
 * #path for TSV; for JSON the "_path" member when a shipper added it, else
 * the file's name when it is a Zeek log name ("dns.log",
 * "conn.2024-03-04-10-00-00.log.gz"), else the set of fields the record
 * has (query + qtype_name is dns, mailfrom/rcptto/helo is smtp...).
 *
 * Both forms map names to the ECS core through one table of Zeek field
 * names (zeek_names[], sorted for binary search). TSV resolves each column
 * once per header block, so a data line costs one pass over its bytes; JSON
 * resolves each member once per record.
 *
 * Event keys must outlive the file state (events wait in the batch after
 * the file is closed), so each TSV event copies the header's names into its
 * arena in one block.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "decode/json-scan.h"
#include "util/utf8.h"

/* ---- Zeek log names -------------------------------------------------- */

/* Log paths Zeek and its common packages write; the Sigma service of a
 * record is one of these (static strings), or an arena copy of an unknown
 * path. Sorted for bsearch. */
/* clang-format off */
static const char *const zeek_paths[] = {
    "analyzer", "bacnet", "broker", "capture_loss", "cluster", "config", "conn", "conn_long",
    "dce_rpc", "dhcp", "dnp3", "dns", "dpd", "files", "ftp", "http", "intel", "irc", "kerberos",
    "known_certs", "known_hosts", "known_services", "ldap", "ldap_search", "loaded_scripts",
    "modbus", "mqtt_connect", "mqtt_publish", "mqtt_subscribe", "mysql", "notice",
    "notice_alarm", "ntlm", "ntp", "ocsp", "packet_filter", "pe", "quic", "radius", "rdp",
    "reporter", "rfb", "signatures", "sip", "smb_files", "smb_mapping", "smtp", "snmp", "socks",
    "software", "ssh", "ssl", "stats", "syslog", "traceroute", "tunnel", "websocket", "weird",
    "x509",
};
/* clang-format on */
#define N_PATHS (sizeof(zeek_paths) / sizeof(zeek_paths[0]))

static int cmp_path(const void *key, const void *elem)
{
    const struct str *k = key;
    const char *e = *(const char *const *)elem;
    size_t el = strlen(e);
    int c = memcmp(k->p, e, k->n < el ? k->n : el);
    if (c)
        return c;
    return k->n < el ? -1 : k->n > el;
}

/* The static name of a known log path, or NULL. */
static const char *known_path(struct str p)
{
    const char *const *hit = bsearch(&p, zeek_paths, N_PATHS, sizeof(zeek_paths[0]), cmp_path);
    return hit ? *hit : NULL;
}

/* A log path as a NUL-terminated string that lives as long as ev: the
 * static name when known, else a copy in the arena (only names made of
 * [A-Za-z0-9_.-], at most 64 bytes; anything else is not a path). */
static const char *path_string(struct event *ev, struct str p)
{
    const char *k = known_path(p);
    if (k)
        return k;
    if (!p.n || p.n > 64)
        return NULL;
    for (size_t i = 0; i < p.n; i++) {
        char c = p.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return NULL;
    }
    return arena_strndup(ev->arena, p.p, p.n);
}

/* The log path named by a file name: "conn.log", "dns.2024-03-04-10-00-00.log.gz",
 * "smtp.09:00:00-10:00:00.log.gz" -> the known name before the first dot. */
static const char *path_from_file(const char *file)
{
    if (!file)
        return NULL;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    const char *dot = strchr(base, '.');
    if (!dot || !strstr(dot, ".log"))
        return NULL;
    return known_path(str_make(base, (size_t)(dot - base)));
}

/* ---- the name table: ECS core roles and log signatures ----------------- */

enum role {
    R_NONE,
    R_TS,
    R_PATH,
    R_SRC_IP,
    R_SRC_PORT,
    R_DST_IP,
    R_DST_PORT,
    R_SRC_BYTES,
    R_DST_BYTES,
    R_ACTION,
    R_DNS_QUERY,
    R_HTTP_HOST,
    R_HTTP_URI,
    R_USER,
    R_MAIL_FROM,
    R_RCPT_TO,
    R_SUBJECT,
    R_MSG_ID,
    R_FILE_NAME,
    R_MD5,
    R_SHA1,
    R_SHA256,
    R_SRC_IP_ALT, /* notice's src/dst: used when id.* is absent */
    R_DST_IP_ALT,
};

/* Fields whose presence tells which log a path-less JSON record is. */
enum sig {
    S_CONN_STATE = 1 << 0,
    S_QUERY = 1 << 1,
    S_QTYPE_NAME = 1 << 2,
    S_MAILFROM = 1 << 3,
    S_RCPTTO = 1 << 4,
    S_HELO = 1 << 5,
    S_FUID = 1 << 6,
    S_MIME_TYPE = 1 << 7,
    S_METHOD = 1 << 8,
    S_URI = 1 << 9,
    S_CIPHER = 1 << 10,
    S_SERVER_NAME = 1 << 11,
    S_VERSION = 1 << 12,
    S_NOTE = 1 << 13,
    S_MSG = 1 << 14,
    S_UID = 1 << 15,
    S_ORIG_H = 1 << 16,
};

struct zname {
    const char *name;
    const char *path; /* the role applies only in this log; NULL: any */
    enum role role;
    unsigned sig;
};

/* Sorted by name (bytewise) for bsearch. */
static const struct zname zeek_names[] = {
    {"_path", NULL, R_PATH, 0},
    {"cipher", NULL, R_NONE, S_CIPHER},
    {"conn_state", "conn", R_ACTION, S_CONN_STATE},
    {"dst", "notice", R_DST_IP_ALT, 0},
    {"filename", "files", R_FILE_NAME, 0},
    {"fuid", NULL, R_NONE, S_FUID},
    {"helo", NULL, R_NONE, S_HELO},
    {"host", "http", R_HTTP_HOST, 0},
    {"id.orig_h", NULL, R_SRC_IP, S_ORIG_H},
    {"id.orig_p", NULL, R_SRC_PORT, 0},
    {"id.resp_h", NULL, R_DST_IP, 0},
    {"id.resp_p", NULL, R_DST_PORT, 0},
    {"mailfrom", "smtp", R_MAIL_FROM, S_MAILFROM},
    {"md5", "files", R_MD5, 0},
    {"method", "http", R_ACTION, S_METHOD},
    {"mime_type", NULL, R_NONE, S_MIME_TYPE},
    {"msg", NULL, R_NONE, S_MSG},
    {"msg_id", "smtp", R_MSG_ID, 0},
    {"name", "weird", R_ACTION, 0},
    {"note", "notice", R_ACTION, S_NOTE},
    {"orig_bytes", "conn", R_SRC_BYTES, 0},
    {"qtype_name", NULL, R_NONE, S_QTYPE_NAME},
    {"query", "dns", R_DNS_QUERY, S_QUERY},
    {"rcptto", "smtp", R_RCPT_TO, S_RCPTTO},
    {"resp_bytes", "conn", R_DST_BYTES, 0},
    {"server_name", NULL, R_NONE, S_SERVER_NAME},
    {"sha1", "files", R_SHA1, 0},
    {"sha256", "files", R_SHA256, 0},
    {"src", "notice", R_SRC_IP_ALT, 0},
    {"subject", "smtp", R_SUBJECT, 0},
    {"ts", NULL, R_TS, 0},
    {"uid", NULL, R_NONE, S_UID},
    {"uri", "http", R_HTTP_URI, S_URI},
    {"user", "ftp", R_USER, 0},
    {"username", "http", R_USER, 0},
    {"version", NULL, R_NONE, S_VERSION},
};
#define N_NAMES (sizeof(zeek_names) / sizeof(zeek_names[0]))

static int cmp_name(const void *key, const void *elem)
{
    const struct str *k = key;
    const char *e = ((const struct zname *)elem)->name;
    size_t el = strlen(e);
    int c = memcmp(k->p, e, k->n < el ? k->n : el);
    if (c)
        return c;
    return k->n < el ? -1 : k->n > el;
}

static const struct zname *zname_find(struct str name)
{
    if (!name.n)
        return NULL;
    return bsearch(&name, zeek_names, N_NAMES, sizeof(zeek_names[0]), cmp_name);
}

/* The role of a field in log path (a static path name or NULL). */
static enum role role_in(const struct zname *z, const char *path)
{
    if (!z)
        return R_NONE;
    if (z->path && (!path || strcmp(z->path, path)))
        return R_NONE;
    return z->role;
}

/* Which log a record is, from its signature bits; NULL if unsure. */
static const char *path_from_sig(unsigned s)
{
    if ((s & S_NOTE) && (s & S_MSG))
        return "notice";
    if (s & S_CONN_STATE)
        return "conn";
    if ((s & S_QUERY) && (s & S_QTYPE_NAME))
        return "dns";
    if (s & (S_MAILFROM | S_RCPTTO | S_HELO))
        return "smtp";
    if ((s & S_METHOD) && (s & S_URI))
        return "http";
    if ((s & S_CIPHER) || ((s & S_VERSION) && (s & S_SERVER_NAME)))
        return "ssl";
    if ((s & S_FUID) && (s & S_MIME_TYPE))
        return "files";
    return NULL;
}

/* ---- mapping to the core ----------------------------------------------- */

/* What one record contributes to the core, gathered while its fields are
 * walked and applied at the end (url.full needs two fields; notice's src is
 * only a fallback). */
struct zcore {
    struct str host, uri, src_alt, dst_alt;
};

static struct str strip_angle(struct str s)
{
    s = str_trim(s);
    if (s.n >= 2 && s.p[0] == '<' && s.p[s.n - 1] == '>')
        s = str_make(s.p + 1, s.n - 2);
    return s;
}

#define ZEEK_MAX_EPOCH 9000000000LL /* seconds; int64 ns end in 2262 */

/* Epoch seconds with an optional fraction ("1709543102.123456"), or whole
 * milliseconds ("1709543102123"), to ns. Returns false if s is neither. */
static bool parse_epoch(struct str s, int64_t *out)
{
    size_t i = 0;
    int64_t sec = 0;
    int64_t ns = 0;
    if (!s.n || s.n > 32)
        return false;
    while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9') {
        if (sec > 100000000000000LL)
            return false;
        sec = sec * 10 + (s.p[i] - '0');
        i++;
    }
    if (i == 0)
        return false;
    if (i < s.n && s.p[i] == '.') {
        int nd = 0;
        for (i++; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
            if (nd < 9) {
                ns = ns * 10 + (s.p[i] - '0');
                nd++;
            }
        }
        while (nd++ < 9)
            ns *= 10;
    } else if (i == s.n && sec > 100000000000LL) {
        /* LogAscii::json_timestamps = JSON::TS_MILLIS */
        if (sec / 1000 > ZEEK_MAX_EPOCH)
            return false;
        *out = (sec / 1000) * NS_PER_SEC + (sec % 1000) * 1000000;
        return true;
    }
    if (i != s.n || sec > ZEEK_MAX_EPOCH)
        return false; /* exponents, junk, or beyond what int64 ns can hold */
    *out = sec * NS_PER_SEC + ns;
    return true;
}

/* Apply one field's role. v is the field's decoded text (for R_RCPT_TO,
 * already the first recipient). */
static void apply_role(struct event *ev, struct zcore *zc, enum role r, struct str v,
                       enum value_type t)
{
    switch (r) {
    case R_NONE:
    case R_PATH:
        break;
    case R_TS: {
        int64_t ts;
        if (t == VT_STRING && time_parse_iso(v.p, v.n, NULL, &ts) == v.n && v.n)
            ev->ts_ns = ts;
        else if (parse_epoch(v, &ts))
            ev->ts_ns = ts;
        break;
    }
    case R_SRC_IP:
        event_set_core(ev, CORE_SOURCE_IP, v);
        break;
    case R_SRC_PORT:
        event_set_core(ev, CORE_SOURCE_PORT, v);
        break;
    case R_DST_IP:
        event_set_core(ev, CORE_DESTINATION_IP, v);
        break;
    case R_DST_PORT:
        event_set_core(ev, CORE_DESTINATION_PORT, v);
        break;
    case R_SRC_BYTES:
        event_set_core(ev, CORE_SOURCE_BYTES, v);
        break;
    case R_DST_BYTES:
        event_set_core(ev, CORE_DESTINATION_BYTES, v);
        break;
    case R_ACTION:
        event_set_core(ev, CORE_EVENT_ACTION, v);
        break;
    case R_DNS_QUERY:
        event_set_core(ev, CORE_DNS_QUESTION_NAME, v);
        break;
    case R_HTTP_HOST:
        zc->host = v;
        break;
    case R_HTTP_URI:
        zc->uri = v;
        break;
    case R_USER:
        event_set_core(ev, CORE_USER_NAME, v);
        break;
    case R_MAIL_FROM:
        event_set_core(ev, CORE_EMAIL_FROM_ADDRESS, strip_angle(v));
        break;
    case R_RCPT_TO:
        event_set_core(ev, CORE_EMAIL_TO_ADDRESS, strip_angle(v));
        break;
    case R_SUBJECT:
        event_set_core(ev, CORE_EMAIL_SUBJECT, v);
        break;
    case R_MSG_ID:
        event_set_core(ev, CORE_EMAIL_MESSAGE_ID, strip_angle(v));
        break;
    case R_FILE_NAME:
        event_set_core(ev, CORE_FILE_NAME, v);
        break;
    case R_MD5:
        event_set_core(ev, CORE_FILE_HASH_MD5, v);
        break;
    case R_SHA1:
        event_set_core(ev, CORE_FILE_HASH_SHA1, v);
        break;
    case R_SHA256:
        event_set_core(ev, CORE_FILE_HASH_SHA256, v);
        break;
    case R_SRC_IP_ALT:
        zc->src_alt = v;
        break;
    case R_DST_IP_ALT:
        zc->dst_alt = v;
        break;
    }
}

/* Finish the core: url.full = "http://" host uri (a proxy's absolute URI
 * as is), notice src/dst when the record had no connection, log source. */
static void finish_core(struct event *ev, const struct zcore *zc, const char *service)
{
    if (zc->uri.n && (str_starts(zc->uri, "http://") || str_starts(zc->uri, "https://"))) {
        ev->core[CORE_URL_FULL] = zc->uri;
    } else if (zc->host.n) {
        size_t n = 7 + zc->host.n + zc->uri.n;
        char *u = arena_alloc(ev->arena, n + 1);
        memcpy(u, "http://", 7);
        memcpy(u + 7, zc->host.p, zc->host.n);
        if (zc->uri.n)
            memcpy(u + 7 + zc->host.n, zc->uri.p, zc->uri.n);
        u[n] = '\0';
        ev->core[CORE_URL_FULL] = str_make(u, n);
    }
    if (!ev->core[CORE_SOURCE_IP].n)
        event_set_core(ev, CORE_SOURCE_IP, zc->src_alt);
    if (!ev->core[CORE_DESTINATION_IP].n)
        event_set_core(ev, CORE_DESTINATION_IP, zc->dst_alt);
    ev->format = "zeek";
    ev->ls = (struct logsource){"zeek", service, NULL};
}

/* ---- TSV ------------------------------------------------------------- */

enum zkind { ZK_STRING, ZK_NUMBER, ZK_BOOL, ZK_LIST };

struct zcol {
    uint32_t name_off; /* into zeek_tsv.names */
    uint32_t name_len;
    uint8_t kind; /* enum zkind */
    uint8_t elem; /* element kind of a ZK_LIST */
    uint8_t role; /* enum role, for the current #path */
};

#define ZEEK_MAX_COLS  1024
#define ZEEK_MAX_NAMES (64 * 1024)
#define ZEEK_MAX_META  64

/* One file's header state (ctx->state). */
struct zeek_tsv {
    char sep[ZEEK_MAX_META];
    size_t sep_n;
    char set_sep[ZEEK_MAX_META];
    size_t set_sep_n;
    char empty[ZEEK_MAX_META];
    size_t empty_n;
    char unset[ZEEK_MAX_META];
    size_t unset_n;
    char path[ZEEK_MAX_META + 1];
    size_t path_n;
    const char *path_static; /* known_path(path), or NULL */
    char *names;             /* the #fields names, back to back */
    size_t names_n;
    struct zcol *cols;
    size_t ncols;
    bool roles_ok;      /* cols[].role matches the current #path */
    struct buf scratch; /* JSON text of set/vector values */
};

static void zeek_tsv_free(void *p)
{
    struct zeek_tsv *z = p;
    if (!z)
        return;
    free(z->names);
    free(z->cols);
    buf_free(&z->scratch);
    free(z);
}

/* Forget the block's header and go back to Zeek's defaults. */
static void zeek_tsv_reset(struct zeek_tsv *z)
{
    free(z->names);
    free(z->cols);
    z->names = NULL;
    z->cols = NULL;
    z->names_n = z->ncols = 0;
    z->sep[0] = '\t';
    z->sep_n = 1;
    z->set_sep[0] = ',';
    z->set_sep_n = 1;
    memcpy(z->empty, "(empty)", 7);
    z->empty_n = 7;
    z->unset[0] = '-';
    z->unset_n = 1;
    z->path_n = 0;
    z->path[0] = '\0';
    z->path_static = NULL;
    z->roles_ok = false;
}

static struct zeek_tsv *zeek_tsv_get(struct decode_ctx *ctx)
{
    if (ctx->state && ctx->state_free == zeek_tsv_free)
        return ctx->state;
    if (ctx->state && ctx->state_free)
        ctx->state_free(ctx->state); /* another decoder's: not ours to read */
    struct zeek_tsv *z = calloc(1, sizeof(*z));
    if (!z)
        return NULL;
    buf_init(&z->scratch);
    zeek_tsv_reset(z);
    ctx->state = z;
    ctx->state_free = zeek_tsv_free;
    return z;
}

/* Undo Zeek's escaping of s into out (room for s.n bytes): "\xNN" is the
 * byte NN, "\c" is c. Returns the length written. */
static size_t zeek_unescape_into(struct str s, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] != '\\' || i + 1 >= s.n) {
            out[o++] = s.p[i];
            continue;
        }
        if (s.p[i + 1] == 'x' && i + 3 < s.n && hex_digit(s.p[i + 2]) >= 0 &&
            hex_digit(s.p[i + 3]) >= 0) {
            out[o++] = (char)(hex_digit(s.p[i + 2]) << 4 | hex_digit(s.p[i + 3]));
            i += 3;
        } else {
            out[o++] = s.p[i + 1];
            i += 1;
        }
    }
    return o;
}

/* s unescaped: s itself when it has no backslash, else a copy in arena. */
static struct str zeek_unescape(struct arena *a, struct str s)
{
    if (!memchr(s.p, '\\', s.n))
        return s;
    char *o = arena_alloc(a, s.n + 1);
    size_t n = zeek_unescape_into(s, o);
    o[n] = '\0';
    return str_make(o, n);
}

/* A header value (#separator, #set_separator, ...) unescaped into a
 * fixed buffer. Returns false if it is empty or too long. */
static bool meta_value(struct str v, char *out, size_t *n)
{
    if (!v.n || v.n >= ZEEK_MAX_META)
        return false;
    *n = zeek_unescape_into(v, out);
    return *n > 0;
}

/* Find sep in s from i; returns its index or s.n. */
static size_t find_sep(struct str s, size_t i, const char *sep, size_t sep_n)
{
    if (sep_n == 1) {
        const char *p = i < s.n ? memchr(s.p + i, sep[0], s.n - i) : NULL;
        return p ? (size_t)(p - s.p) : s.n;
    }
    while (i + sep_n <= s.n) {
        const char *p = memchr(s.p + i, sep[0], s.n - i - sep_n + 1);
        if (!p)
            break;
        if (!memcmp(p, sep, sep_n))
            return (size_t)(p - s.p);
        i = (size_t)(p - s.p) + 1;
    }
    return s.n;
}

static enum zkind kind_of(struct str t)
{
    static const char *const numeric[] = {"time",   "interval", "count",  "int",
                                          "double", "port",     "counter"};
    for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++)
        if (str_eq(t, numeric[i]))
            return ZK_NUMBER;
    if (str_eq(t, "bool"))
        return ZK_BOOL;
    return ZK_STRING;
}

/* "#fields": remember the column names. */
static int parse_fields(struct zeek_tsv *z, struct str list)
{
    free(z->names);
    free(z->cols);
    z->names = NULL;
    z->cols = NULL;
    z->names_n = z->ncols = 0;
    z->roles_ok = false;
    if (!list.n || list.n > ZEEK_MAX_NAMES)
        return -EINVAL;
    size_t cap = 1;
    for (size_t i = find_sep(list, 0, z->sep, z->sep_n); i < list.n;
         i = find_sep(list, i + z->sep_n, z->sep, z->sep_n))
        cap++;
    if (cap > ZEEK_MAX_COLS)
        return -EINVAL;
    z->names = malloc(list.n + 1);
    z->cols = calloc(cap, sizeof(*z->cols));
    if (!z->names || !z->cols)
        return -ENOMEM;
    size_t b = 0;
    while (z->ncols < cap) {
        size_t e = find_sep(list, b, z->sep, z->sep_n);
        struct str name = str_make(list.p + b, e - b);
        size_t n = zeek_unescape_into(name, z->names + z->names_n);
        z->cols[z->ncols++] =
            (struct zcol){(uint32_t)z->names_n, (uint32_t)n, ZK_STRING, ZK_STRING, R_NONE};
        z->names_n += n;
        if (e >= list.n)
            break;
        b = e + z->sep_n;
    }
    return 0;
}

/* "#types": the kind of each column ("set[string]" is a list of strings). */
static void parse_types(struct zeek_tsv *z, struct str list)
{
    size_t b = 0;
    for (size_t c = 0; c < z->ncols && b <= list.n; c++) {
        size_t e = find_sep(list, b, z->sep, z->sep_n);
        struct str t = str_make(list.p + b, e - b);
        struct zcol *col = &z->cols[c];
        long lb = str_find(t, "[");
        if (lb > 0 && t.p[t.n - 1] == ']') {
            col->kind = ZK_LIST;
            col->elem = (uint8_t)kind_of(str_make(t.p + lb + 1, t.n - (size_t)lb - 2));
        } else {
            col->kind = (uint8_t)kind_of(t);
        }
        b = e + z->sep_n;
    }
}

static void resolve_roles(struct zeek_tsv *z)
{
    for (size_t c = 0; c < z->ncols; c++) {
        struct str name = str_make(z->names + z->cols[c].name_off, z->cols[c].name_len);
        z->cols[c].role = (uint8_t)role_in(zname_find(name), z->path_static);
    }
    z->roles_ok = true;
}

/* A header line (it starts with '#'). Always DECODE_SKIP: a header line
 * that cannot be used leaves the block without columns, and its data lines
 * then come out unparsed, each counted. */
static int zeek_header(struct decode_ctx *ctx, struct str line)
{
    struct zeek_tsv *z = zeek_tsv_get(ctx);
    if (!z)
        return -ENOMEM;
    if (str_starts(line, "#separator ")) {
        zeek_tsv_reset(z);
        if (!meta_value(str_make(line.p + 11, line.n - 11), z->sep, &z->sep_n)) {
            z->sep[0] = '\t';
            z->sep_n = 1;
        }
        return DECODE_SKIP;
    }
    size_t e = find_sep(line, 0, z->sep, z->sep_n);
    struct str key = str_make(line.p, e);
    struct str val = e < line.n ? str_make(line.p + e + z->sep_n, line.n - e - z->sep_n)
                                : str_make(line.p + line.n, 0);
    if (str_eq(key, "#set_separator")) {
        if (!meta_value(val, z->set_sep, &z->set_sep_n)) {
            z->set_sep[0] = ',';
            z->set_sep_n = 1;
        }
    } else if (str_eq(key, "#empty_field")) {
        if (!meta_value(val, z->empty, &z->empty_n))
            z->empty_n = 0;
    } else if (str_eq(key, "#unset_field")) {
        if (!meta_value(val, z->unset, &z->unset_n))
            z->unset_n = 0;
    } else if (str_eq(key, "#path")) {
        z->path_n = 0;
        if (meta_value(val, z->path, &z->path_n))
            z->path[z->path_n] = '\0';
        z->path_static = known_path(str_make(z->path, z->path_n));
        z->roles_ok = false;
    } else if (str_eq(key, "#fields")) {
        int rc = parse_fields(z, val);
        if (rc == -ENOMEM)
            return rc;
    } else if (str_eq(key, "#types")) {
        parse_types(z, val);
    }
    /* #open, #close and any other comment: nothing to keep */
    return DECODE_SKIP;
}

/* A set or vector column as a JSON array, in the arena. */
static struct str tsv_list(struct zeek_tsv *z, struct event *ev, struct str v, enum zkind elem,
                           struct str *first)
{
    struct buf *b = &z->scratch;
    buf_clear(b);
    buf_putc(b, '[');
    size_t i = 0;
    bool any = false;
    for (;;) {
        size_t e = find_sep(v, i, z->set_sep, z->set_sep_n);
        struct str raw = str_make(v.p + i, e - i);
        if (any)
            buf_putc(b, ',');
        if (z->unset_n && raw.n == z->unset_n && !memcmp(raw.p, z->unset, raw.n)) {
            buf_puts(b, "null");
        } else {
            struct str x = zeek_unescape(ev->arena, raw);
            if (!any && first)
                *first = x;
            if (elem == ZK_NUMBER && json_is_number(x.p, x.n))
                buf_append(b, x.p, x.n);
            else if (elem == ZK_BOOL && (str_eq(x, "T") || str_eq(x, "F")))
                buf_puts(b, x.p[0] == 'T' ? "true" : "false");
            else
                json_put_string(b, x.p, x.n);
        }
        any = true;
        if (e >= v.n)
            break;
        i = e + z->set_sep_n;
    }
    buf_putc(b, ']');
    return str_make(arena_strndup(ev->arena, b->data, b->len), b->len);
}

static int zeek_decode_line(struct decode_ctx *ctx, struct event *ev)
{
    struct str line = ev->raw;
    while (line.n && (line.p[line.n - 1] == '\r' || line.p[line.n - 1] == '\n'))
        line.n--;
    if (line.n && line.p[0] == '#')
        return zeek_header(ctx, line);
    struct zeek_tsv *z = ctx->state_free == zeek_tsv_free ? ctx->state : NULL;
    if (!z || !z->ncols || !line.n)
        return -EINVAL; /* data before any #fields: nothing to name it by */

    /* the line must have exactly the header's columns */
    size_t ncols = 1;
    for (size_t i = find_sep(line, 0, z->sep, z->sep_n); i < line.n;
         i = find_sep(line, i + z->sep_n, z->sep, z->sep_n))
        ncols++;
    if (ncols != z->ncols)
        return -EINVAL;
    if (!z->roles_ok)
        resolve_roles(z);

    char *names = arena_alloc(ev->arena, z->names_n + 1);
    memcpy(names, z->names, z->names_n);
    const char *service = z->path_static;
    if (!service && z->path_n)
        service = path_string(ev, str_make(z->path, z->path_n));

    struct zcore zc = {0};
    size_t b = 0;
    for (size_t c = 0; c < z->ncols; c++) {
        size_t e = find_sep(line, b, z->sep, z->sep_n);
        struct str raw = str_make(line.p + b, e - b);
        b = e + z->sep_n;
        const struct zcol *col = &z->cols[c];
        if (z->unset_n && raw.n == z->unset_n && !memcmp(raw.p, z->unset, raw.n))
            continue;
        struct str key = str_make(names + col->name_off, col->name_len);
        bool empty = z->empty_n && raw.n == z->empty_n && !memcmp(raw.p, z->empty, raw.n);
        struct str v, first = {0};
        enum value_type t;
        switch (col->kind) {
        case ZK_LIST:
            v = empty ? STR_LIT("[]") : tsv_list(z, ev, raw, (enum zkind)col->elem, &first);
            t = VT_JSON;
            break;
        case ZK_NUMBER:
            v = empty ? STR_LIT("") : raw;
            t = empty ? VT_STRING : VT_NUMBER;
            break;
        case ZK_BOOL:
            if (str_eq(raw, "T") || str_eq(raw, "F")) {
                v = raw.p[0] == 'T' ? STR_LIT("true") : STR_LIT("false");
                t = VT_BOOL;
            } else {
                v = empty ? STR_LIT("") : zeek_unescape(ev->arena, raw);
                t = VT_STRING;
            }
            break;
        default:
            v = empty ? STR_LIT("") : zeek_unescape(ev->arena, raw);
            t = VT_STRING;
        }
        event_add(ev, key, v, t);
        if (col->role != R_NONE)
            apply_role(ev, &zc, (enum role)col->role, col->kind == ZK_LIST ? first : v, t);
    }
    finish_core(ev, &zc, service);
    ev->parsed = true;
    return 0;
}

/* ---- JSON ------------------------------------------------------------ */

static int zeek_probe_json(const struct event *ev)
{
    bool ts = false, path = false, conn = false;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        struct str k = ev->fields[i].key;
        switch (k.n ? k.p[0] : 0) {
        case 't':
            ts |= str_eq(k, "ts");
            break;
        case '_':
            path |= str_eq(k, "_path");
            break;
        case 'u':
            conn |= str_eq(k, "uid");
            break;
        case 'f':
            conn |= str_eq(k, "fuid");
            break;
        case 'i':
            conn |= str_eq(k, "id.orig_h");
            break;
        }
    }
    if (!ts)
        return 0;
    if (path)
        return 60;
    if (conn)
        return 50;
    /* x509, ssh... records carry no uid: a Zeek log name vouches for them */
    return path_from_file(ev->file) ? 40 : 0;
}

/* The first string of a raw JSON array (rcptto), or the value itself. */
static struct str first_of(struct event *ev, struct str v, enum value_type t)
{
    if (t != VT_JSON)
        return v;
    struct json_iter it;
    struct str el, out;
    if (json_iter_init(&it, v) == 0 && json_iter_next(&it, NULL, &el) == 1 &&
        json_raw_type(el) == VT_STRING && json_string_decode(ev->arena, el, &out) == 0)
        return out;
    return (struct str){0};
}

static int zeek_decode_json(struct decode_ctx *ctx, struct event *ev)
{
    (void)ctx;
    /* one pass: which known names are here, and the record's signature */
    uint32_t at[N_NAMES];
    unsigned sig = 0;
    for (size_t i = 0; i < N_NAMES; i++)
        at[i] = UINT32_MAX;
    for (uint32_t i = 0; i < ev->nfields; i++) {
        const struct zname *zn = zname_find(ev->fields[i].key);
        if (!zn)
            continue;
        size_t k = (size_t)(zn - zeek_names);
        if (at[k] == UINT32_MAX)
            at[k] = i;
        sig |= zn->sig;
    }
    const char *service = NULL;
    const struct zname *pz = zname_find(STR_LIT("_path"));
    uint32_t pi = at[pz - zeek_names];
    if (pi != UINT32_MAX && ev->fields[pi].type == VT_STRING)
        service = path_string(ev, ev->fields[pi].val);
    if (!service)
        service = path_from_file(ev->file);
    if (!service)
        service = path_from_sig(sig);
    /* the role table keys on static names; an unknown _path has none */
    const char *known = service ? known_path(str_make(service, strlen(service))) : NULL;

    struct zcore zc = {0};
    for (size_t k = 0; k < N_NAMES; k++) {
        if (at[k] == UINT32_MAX)
            continue;
        enum role r = role_in(&zeek_names[k], known);
        if (r == R_NONE || r == R_PATH)
            continue;
        const struct field *f = &ev->fields[at[k]];
        if (f->type == VT_NULL)
            continue;
        struct str v = r == R_RCPT_TO ? first_of(ev, f->val, f->type) : f->val;
        if (r != R_RCPT_TO && f->type == VT_JSON)
            continue;
        apply_role(ev, &zc, r, v, f->type);
    }
    finish_core(ev, &zc, service);
    return 0;
}

const struct decoder decoder_zeek = {
    .name = "zeek",
    .description = "Zeek logs: TSV with #fields headers, or JSON (conn, dns, smtp, http, "
                   "ssl, files, notice, ...)",
    .decode_line = zeek_decode_line,
    .probe_json = zeek_probe_json,
    .decode_json = zeek_decode_json,
};
