/*
 * intel-read-csv.c - indicators in CSV with a header line.
 *
 * RFC 4180: fields separated by ',' (or ';' or a tab, whichever the header
 * line uses most), optionally in double quotes, "" for a quote inside
 * quotes, line breaks inside quotes. Lines starting with '#' before the
 * header are comments. Column names are matched without regard to case,
 * with '-' and ' ' read as '_':
 *
 *   value       value, indicator, ioc, observable, ioc_value (required)
 *   type        type, indicator_type, ioc_type (else --intel-type)
 *   feed        source, feed, provider (else the file's name)
 *   name        description, desc, name, comment, title
 *   ref         ref, reference, id, uuid
 *   confidence  confidence (0..100)
 *   tlp         tlp ("TLP:AMBER", "amber", "white" ...)
 *   valid_from  valid_from, first_seen (RFC 3339 or epoch seconds)
 *   valid_until valid_until, expiration, expires
 *   labels      labels, tags (separated by ',', ';' or '|')
 *   related     related, malware, threat_actor, intrusion_set, campaign
 *   detect      detect, to_ids (false, 0, no: not for alerting)
 *   revoked     revoked (true, 1, yes)
 *
 * Other columns are ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intel/intel-read.h"
#include "source/reader.h"
#include "util/buf.h"
#include "util/timeconv.h"

#define CSV_MAX_COLS 256

enum ccol {
    CC_VALUE,
    CC_TYPE,
    CC_FEED,
    CC_NAME,
    CC_REF,
    CC_CONF,
    CC_TLP,
    CC_FROM,
    CC_UNTIL,
    CC_LABELS,
    CC_RELATED,
    CC_DETECT,
    CC_REVOKED,
    CC__COUNT
};

static const struct {
    const char *name;
    enum ccol c;
} csv_names[] = {
    {"value", CC_VALUE},
    {"indicator", CC_VALUE},
    {"ioc", CC_VALUE},
    {"observable", CC_VALUE},
    {"ioc_value", CC_VALUE},
    {"indicator_value", CC_VALUE},
    {"type", CC_TYPE},
    {"indicator_type", CC_TYPE},
    {"ioc_type", CC_TYPE},
    {"source", CC_FEED},
    {"feed", CC_FEED},
    {"provider", CC_FEED},
    {"description", CC_NAME},
    {"desc", CC_NAME},
    {"name", CC_NAME},
    {"comment", CC_NAME},
    {"title", CC_NAME},
    {"ref", CC_REF},
    {"reference", CC_REF},
    {"id", CC_REF},
    {"uuid", CC_REF},
    {"confidence", CC_CONF},
    {"tlp", CC_TLP},
    {"valid_from", CC_FROM},
    {"first_seen", CC_FROM},
    {"valid_until", CC_UNTIL},
    {"expiration", CC_UNTIL},
    {"expires", CC_UNTIL},
    {"labels", CC_LABELS},
    {"tags", CC_LABELS},
    {"related", CC_RELATED},
    {"malware", CC_RELATED},
    {"threat_actor", CC_RELATED},
    {"intrusion_set", CC_RELATED},
    {"campaign", CC_RELATED},
    {"detect", CC_DETECT},
    {"to_ids", CC_DETECT},
    {"revoked", CC_REVOKED},
};

/* The column a header name stands for, or -1. */
static int column_of(const char *p, size_t n)
{
    char b[32];
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    if (n == 0 || n >= sizeof(b))
        return -1;
    for (size_t i = 0; i < n; i++)
        b[i] = p[i] == '-' || p[i] == ' ' ? '_' : p[i];
    b[n] = '\0';
    for (size_t i = 0; i < sizeof(csv_names) / sizeof(csv_names[0]); i++)
        if (!strcasecmp(b, csv_names[i].name))
            return (int)csv_names[i].c;
    return -1;
}

/* The delimiter the header line uses most (outside quotes). */
static char pick_delim(const char *p, size_t n)
{
    size_t comma = 0, semi = 0, tab = 0;
    bool q = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"')
            q = !q;
        else if (!q && p[i] == ',')
            comma++;
        else if (!q && p[i] == ';')
            semi++;
        else if (!q && p[i] == '\t')
            tab++;
    }
    if (tab > comma && tab > semi)
        return '\t';
    if (semi > comma)
        return ';';
    return ',';
}

/* Split one record into fields, unquoting into out (NUL-separated).
 * Returns the number of fields (offsets into out in off[]), or -1 when a
 * quoted field is still open at the end (the record goes on on the next
 * line). */
static int split_record(const char *p, size_t n, char delim, struct buf *out, size_t *off, int max)
{
    buf_clear(out);
    int nf = 0;
    size_t i = 0;
    for (;;) {
        if (nf < max)
            off[nf] = out->len;
        nf++;
        if (i < n && p[i] == '"') {
            i++;
            for (;;) {
                if (i >= n)
                    return -1;
                if (p[i] == '"') {
                    if (i + 1 < n && p[i + 1] == '"') {
                        buf_putc(out, '"');
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                buf_putc(out, p[i++]);
            }
            /* text after the closing quote, up to the delimiter, is kept */
            while (i < n && p[i] != delim)
                buf_putc(out, p[i++]);
        } else {
            while (i < n && p[i] != delim)
                buf_putc(out, p[i++]);
        }
        buf_putc(out, '\0');
        if (i >= n)
            break;
        i++; /* the delimiter */
    }
    return nf;
}

int intel_csv_sniff(const char *head, size_t n, const char *path)
{
    (void)path;
    if (n >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3))
        head += 3, n -= 3;
    if (memchr(head, '\0', n))
        return 0;
    size_t i = 0;
    for (;;) {
        while (i < n && (head[i] == '\n' || head[i] == '\r' || head[i] == ' '))
            i++;
        if (i < n && head[i] == '#') {
            const char *nl = memchr(head + i, '\n', n - i);
            if (!nl)
                return 0;
            i = (size_t)(nl - head) + 1;
            continue;
        }
        break;
    }
    const char *nl = memchr(head + i, '\n', n - i);
    size_t e = nl ? (size_t)(nl - head) : n;
    const char *l = head + i;
    size_t ln = e - i;
    char delim = pick_delim(l, ln);
    for (size_t k = 0; k <= ln;) {
        size_t s = k;
        while (k < ln && l[k] != delim)
            k++;
        const char *f = l + s;
        size_t fl = k - s;
        if (fl >= 2 && f[0] == '"' && f[fl - 1] == '"')
            f++, fl -= 2;
        if (column_of(f, fl) == CC_VALUE)
            return 2;
        k++;
    }
    return 0;
}

struct csv_state {
    struct intel_read_ctx *c;
    char delim;
    bool have_header;
    int col[CC__COUNT];
    struct buf pending; /* a record whose quoted field spans lines */
    uint64_t pending_line;
    bool pending_on;
    struct buf fields;
    struct buf labels, related;
    struct intel_meta_cache *mc;
    char feed[256];
    char where[512];
    int stop; /* negative errno: no usable header */
};

/* "a, b; c|d" as a JSON array of strings, into b. */
static const char *list_json(struct buf *b, const char *s)
{
    buf_clear(b);
    buf_putc(b, '[');
    bool first = true;
    while (*s) {
        size_t l = strcspn(s, ",;|");
        const char *t = s;
        size_t tl = l;
        while (tl && (*t == ' ' || *t == '\t'))
            t++, tl--;
        while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
            tl--;
        if (tl) {
            if (!first)
                buf_putc(b, ',');
            json_put_string(b, t, tl);
            first = false;
        }
        if (!s[l])
            break;
        s += l + 1;
    }
    buf_putc(b, ']');
    return first ? NULL : b->data;
}

static bool word_in(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (!strcasecmp(s, words[i]))
            return true;
    return false;
}

static int64_t parse_time(const char *s, bool *ok)
{
    *ok = true;
    size_t n = strlen(s);
    if (n == 0)
        return TIME_NONE;
    bool digits = true;
    for (size_t i = 0; i < n; i++)
        digits &= s[i] >= '0' && s[i] <= '9';
    if (digits && n <= 11)
        return time_from_unix(strtoll(s, NULL, 10), 0);
    int64_t t;
    if (time_parse_iso(s, n, NULL, &t) == n)
        return t;
    /* a bare date */
    if (n == 10 && s[4] == '-' && s[7] == '-') {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%sT00:00:00Z", s);
        if (time_parse_iso(tmp, strlen(tmp), NULL, &t) == strlen(tmp))
            return t;
    }
    *ok = false;
    return TIME_NONE;
}

static void header(struct csv_state *cs, const char *p, size_t n)
{
    struct intel_read_ctx *c = cs->c;
    cs->delim = pick_delim(p, n);
    size_t off[CSV_MAX_COLS];
    int nf = split_record(p, n, cs->delim, &cs->fields, off, CSV_MAX_COLS);
    for (int i = 0; i < CC__COUNT; i++)
        cs->col[i] = -1;
    for (int i = 0; i < nf && i < CSV_MAX_COLS; i++) {
        const char *f = cs->fields.data + off[i];
        int k = column_of(f, strlen(f));
        if (k >= 0 && cs->col[k] < 0)
            cs->col[k] = i;
    }
    cs->have_header = true;
    if (cs->col[CC_VALUE] < 0) {
        ioc_batch_problem(c->out, cs->where,
                          "the header line names no value column (value, indicator, ioc, "
                          "observable)");
        cs->stop = -EINVAL;
    }
}

static void row(struct csv_state *cs, const char *p, size_t n)
{
    struct intel_read_ctx *c = cs->c;
    size_t off[CSV_MAX_COLS];
    int nf = split_record(p, n, cs->delim, &cs->fields, off, CSV_MAX_COLS);
    if (nf < 0)
        return; /* cannot happen: callers join lines first */
    c->st->records++;
    const char *f[CC__COUNT];
    for (int i = 0; i < CC__COUNT; i++)
        f[i] = cs->col[i] >= 0 && cs->col[i] < nf && cs->col[i] < CSV_MAX_COLS
                   ? cs->fields.data + off[cs->col[i]]
                   : "";
    if (cs->col[CC_VALUE] >= nf) {
        ioc_batch_problem(c->out, cs->where, "%d fields: no value column (column %d)", nf,
                          cs->col[CC_VALUE] + 1);
        intel_read_skip(c, "row without the value column");
        return;
    }
    const char *v = f[CC_VALUE];
    size_t vn = strlen(v);
    while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
        vn--;
    while (vn && (*v == ' ' || *v == '\t'))
        v++, vn--;
    if (vn == 0) {
        intel_read_skip(c, "empty value");
        return;
    }
    int t = c->o->type;
    if (*f[CC_TYPE]) {
        bool unsupported;
        t = intel_type_by_name(f[CC_TYPE], strlen(f[CC_TYPE]), &unsupported);
        if (t == INTEL_TYPE_NONE) {
            if (unsupported) {
                ioc_batch_problem(c->out, cs->where,
                                  "indicator type %.60s is not matched by kenchi", f[CC_TYPE]);
                intel_read_skip(c, "indicator type kenchi does not match");
            } else {
                ioc_batch_problem(c->out, cs->where, "unknown indicator type '%.60s'", f[CC_TYPE]);
                intel_read_skip(c, "unknown indicator type");
            }
            return;
        }
    } else if (t == INTEL_TYPE_NONE) {
        ioc_batch_problem(c->out, cs->where, "no type (no type column, no --intel-type)");
        intel_read_skip(c, "no type");
        return;
    }
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = *f[CC_FEED] ? f[CC_FEED] : cs->feed;
    m.name = *f[CC_NAME] ? f[CC_NAME] : NULL;
    m.ref = *f[CC_REF] ? f[CC_REF] : NULL;
    if (*f[CC_CONF]) {
        char *end;
        long x = strtol(f[CC_CONF], &end, 10);
        if (*end || x < 0 || x > 100)
            ioc_batch_problem(c->out, cs->where, "confidence '%.40s' is not 0..100", f[CC_CONF]);
        else
            m.confidence = (int)x;
    }
    if (*f[CC_TLP]) {
        int tl = tlp_by_name(f[CC_TLP]);
        if (tl < 0)
            ioc_batch_problem(c->out, cs->where, "'%.40s' is not a TLP level", f[CC_TLP]);
        else
            m.tlp = (enum tlp)tl;
    }
    bool ok;
    m.valid_from = parse_time(f[CC_FROM], &ok);
    if (!ok)
        ioc_batch_problem(c->out, cs->where, "valid_from '%.40s' is not a time", f[CC_FROM]);
    m.valid_until = parse_time(f[CC_UNTIL], &ok);
    if (!ok)
        ioc_batch_problem(c->out, cs->where, "valid_until '%.40s' is not a time", f[CC_UNTIL]);
    m.labels_json = list_json(&cs->labels, f[CC_LABELS]);
    m.related_json = list_json(&cs->related, f[CC_RELATED]);
    static const char *const no[] = {"false", "0", "no", "f", "n", NULL};
    static const char *const yes[] = {"true", "1", "yes", "t", "y", NULL};
    bool detect = !word_in(f[CC_DETECT], no);
    m.revoked = word_in(f[CC_REVOKED], yes);
    uint32_t meta = intel_meta_cache_get(&cs->mc, c->out, &m);
    intel_read_add(c, t, v, vn, meta, detect, cs->where);
}

static int csv_line(void *opaque, const struct record *rec)
{
    struct csv_state *cs = opaque;
    struct intel_read_ctx *c = cs->c;
    const char *p = rec->p;
    size_t n = rec->n;
    if (rec->line == 1 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
        p += 3, n -= 3;
    while (n && p[n - 1] == '\r')
        n--;
    if (rec->status == RECORD_TRUNCATED) {
        snprintf(cs->where, sizeof(cs->where), "%s:%llu", c->path,
                 (unsigned long long)(cs->pending_on ? cs->pending_line : rec->line));
        ioc_batch_problem(c->out, cs->where, "line longer than %zu bytes, skipped", c->o->max_line);
        intel_read_skip(c, "line longer than the limit");
        cs->pending_on = false;
        return 0;
    }
    if (!cs->pending_on) {
        snprintf(cs->where, sizeof(cs->where), "%s:%llu", c->path, (unsigned long long)rec->line);
        size_t k = 0;
        while (k < n && (p[k] == ' ' || p[k] == '\t'))
            k++;
        if (k == n)
            return 0;
        if (!cs->have_header && p[k] == '#')
            return 0;
    }
    const char *rp = p;
    size_t rn = n;
    if (cs->pending_on) {
        buf_putc(&cs->pending, '\n');
        buf_append(&cs->pending, p, n);
        rp = cs->pending.data;
        rn = cs->pending.len;
    }
    /* a quoted field still open: the record goes on on the next line */
    bool q = false;
    for (size_t i = 0; i < rn; i++)
        if (rp[i] == '"')
            q = !q;
    if (q) {
        if (!cs->pending_on) {
            buf_clear(&cs->pending);
            buf_append(&cs->pending, p, n);
            cs->pending_on = true;
            cs->pending_line = rec->line;
        } else if (cs->pending.len > c->o->max_line) {
            ioc_batch_problem(c->out, cs->where, "a quoted field runs on past %zu bytes, skipped",
                              c->o->max_line);
            intel_read_skip(c, "unterminated quote");
            cs->pending_on = false;
        }
        return 0;
    }
    cs->pending_on = false;
    if (!cs->have_header)
        header(cs, rp, rn);
    else
        row(cs, rp, rn);
    return cs->stop;
}

int intel_csv_read(struct intel_read_ctx *c)
{
    struct csv_state cs;
    memset(&cs, 0, sizeof(cs));
    cs.c = c;
    cs.delim = ',';
    buf_init(&cs.pending);
    buf_init(&cs.fields);
    buf_init(&cs.labels);
    buf_init(&cs.related);
    intel_read_feed_name(c->path, cs.feed, sizeof(cs.feed));
    int rc = reader_lines(c->in, c->o->max_line, csv_line, &cs);
    if (cs.pending_on) {
        ioc_batch_problem(c->out, cs.where, "a quoted field is still open at the end of the file");
        intel_read_skip(c, "unterminated quote");
    }
    if (!cs.have_header && rc == 0) {
        ioc_batch_problem(c->out, c->path, "no header line");
        rc = -EINVAL;
    }
    if (rc < 0 && rc != cs.stop)
        ioc_batch_problem(c->out, c->path, "reading stopped: %s", strerror(-rc));
    intel_meta_cache_free(cs.mc);
    buf_free(&cs.pending);
    buf_free(&cs.fields);
    buf_free(&cs.labels);
    buf_free(&cs.related);
    return rc < 0 ? rc : 0;
}
