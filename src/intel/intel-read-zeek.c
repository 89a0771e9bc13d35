/*
 * intel-read-zeek.c - Zeek Intel framework files.
 *
 *   #fields<TAB>indicator<TAB>indicator_type<TAB>meta.source<TAB>meta.desc ...
 *   203.0.113.9<TAB>Intel::ADDR<TAB>partner<TAB>C2 server ...
 *
 * The #fields line names the columns (a file may hold several header
 * blocks); `indicator` and `indicator_type` are required, the meta.*
 * columns optional: meta.source becomes the feed (else the file's name),
 * meta.desc the name, meta.url the reference, meta.cif_confidence the
 * confidence (CIF's 0..10 scale is multiplied by ten), meta.cif_tags the
 * labels. Other columns (meta.do_notice, meta.if_in ...) are Zeek's policy
 * and are ignored. "-" is an unset field, "(empty)" an empty one, "\xHH"
 * escapes are undone. Types: ADDR and SUBNET (ip), DOMAIN, URL, EMAIL,
 * FILE_HASH (md5, sha1 or sha256 by length), FILE_NAME, SOFTWARE
 * (user-agent); USER_NAME, CERT_HASH, PUBKEY_HASH and JA3 are reported as
 * not matched by kenchi.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/intel-read.h"
#include "source/reader.h"
#include "util/buf.h"

#define ZEEK_MAX_COLS 64

enum zcol { ZC_INDICATOR, ZC_TYPE, ZC_SOURCE, ZC_DESC, ZC_URL, ZC_CONF, ZC_TAGS, ZC__COUNT };
static const char *const zcol_names[ZC__COUNT] = {
    "indicator", "indicator_type",      "meta.source",   "meta.desc",
    "meta.url",  "meta.cif_confidence", "meta.cif_tags",
};

struct zeek_state {
    struct intel_read_ctx *c;
    char sep;
    bool have_fields;
    int ncols;
    int col[ZC__COUNT]; /* -1: absent */
    struct intel_meta_cache *mc;
    char feed[256];
    char where[512];
    /* the type column of the previous line, and what it gave */
    char last_type[64];
    size_t last_type_n;
    int last_t;
    bool last_unsupported;
    struct buf scratch; /* unescaped values, NUL-separated */
    struct buf labels;
};

int intel_zeek_sniff(const char *head, size_t n, const char *path)
{
    (void)path;
    if (n >= 3 && !memcmp(head, "\xEF\xBB\xBF", 3))
        head += 3, n -= 3;
    if (n < 7 || head[0] != '#')
        return 0;
    /* the #fields line, among the first header lines */
    for (size_t i = 0; i + 7 <= n;) {
        const char *nl = memchr(head + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - head) : n;
        if (head[i] != '#')
            break;
        if (e - i > 8 && !memcmp(head + i, "#fields", 7)) {
            const char *l = head + i;
            size_t ln = e - i;
            bool ind = false, typ = false;
            for (size_t k = 7; k < ln;) {
                while (k < ln && (l[k] == '\t' || l[k] == ' '))
                    k++;
                size_t s = k;
                while (k < ln && l[k] != '\t' && l[k] != ' ' && l[k] != '\r')
                    k++;
                if (k - s == 9 && !memcmp(l + s, "indicator", 9))
                    ind = true;
                if (k - s == 14 && !memcmp(l + s, "indicator_type", 14))
                    typ = true;
                if (k < ln && l[k] == '\r')
                    k++;
            }
            return ind && typ ? 3 : 0;
        }
        if (!nl)
            break;
        i = e + 1;
    }
    return 0;
}

/* "\x09" or a literal character. */
static char parse_sep(const char *p, size_t n)
{
    while (n && (*p == ' '))
        p++, n--;
    while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
        n--;
    if (n == 4 && p[0] == '\\' && p[1] == 'x') {
        unsigned v = 0;
        for (int i = 2; i < 4; i++) {
            char h = p[i];
            v = v * 16 + (unsigned)(h >= '0' && h <= '9'   ? h - '0'
                                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                           : 0);
        }
        return v ? (char)v : '\t';
    }
    if (n == 1)
        return p[0];
    return '\t';
}

static void parse_fields(struct zeek_state *z, const char *p, size_t n)
{
    for (int i = 0; i < ZC__COUNT; i++)
        z->col[i] = -1;
    z->ncols = 0;
    size_t k = 0;
    while (k <= n) {
        size_t s = k;
        while (k < n && p[k] != z->sep)
            k++;
        size_t e = k;
        while (e > s && p[e - 1] == '\r')
            e--;
        if (z->ncols < ZEEK_MAX_COLS) {
            for (int i = 0; i < ZC__COUNT; i++)
                if (e - s == strlen(zcol_names[i]) && !memcmp(p + s, zcol_names[i], e - s))
                    z->col[i] = z->ncols;
        }
        z->ncols++;
        k++;
    }
    z->have_fields = z->col[ZC_INDICATOR] >= 0 && z->col[ZC_TYPE] >= 0;
    if (!z->have_fields)
        ioc_batch_problem(z->c->out, z->where,
                          "the #fields line names no 'indicator' or no 'indicator_type' column");
}

/* Copy a field, unescaping "\xHH", into the scratch; returns its offset.
 * Unset ("-") and empty ("(empty)") fields give "". */
static size_t field_copy(struct zeek_state *z, const char *p, size_t n)
{
    size_t off = z->scratch.len;
    if ((n == 1 && p[0] == '-') || (n == 7 && !memcmp(p, "(empty)", 7))) {
        buf_putc(&z->scratch, '\0');
        return off;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 3 < n && p[i + 1] == 'x') {
            int v = 0, ok = 1;
            for (int k = 2; k < 4; k++) {
                char h = p[i + (size_t)k];
                if (h >= '0' && h <= '9')
                    v = v * 16 + (h - '0');
                else if (h >= 'a' && h <= 'f')
                    v = v * 16 + (h - 'a' + 10);
                else if (h >= 'A' && h <= 'F')
                    v = v * 16 + (h - 'A' + 10);
                else
                    ok = 0;
            }
            if (ok && v) {
                buf_putc(&z->scratch, (char)v);
                i += 3;
                continue;
            }
        }
        buf_putc(&z->scratch, p[i]);
    }
    buf_putc(&z->scratch, '\0');
    return off;
}

/* A comma-separated set as a JSON array of strings. */
static const char *labels_json(struct zeek_state *z, const char *s)
{
    if (!*s)
        return NULL;
    buf_clear(&z->labels);
    buf_putc(&z->labels, '[');
    bool first = true;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        while (l && *s == ' ')
            s++, l--;
        while (l && s[l - 1] == ' ')
            l--;
        if (l) {
            if (!first)
                buf_putc(&z->labels, ',');
            json_put_string(&z->labels, s, l);
            first = false;
        }
        if (!e)
            break;
        s = e + 1;
    }
    buf_putc(&z->labels, ']');
    return first ? NULL : z->labels.data;
}

static int resolve_type(struct zeek_state *z, const char *p, size_t n, bool *unsupported)
{
    if (n == z->last_type_n && n < sizeof(z->last_type) && !memcmp(p, z->last_type, n)) {
        *unsupported = z->last_unsupported;
        return z->last_t;
    }
    int t = intel_type_by_name(p, n, unsupported);
    if (n < sizeof(z->last_type)) {
        memcpy(z->last_type, p, n);
        z->last_type_n = n;
        z->last_t = t;
        z->last_unsupported = *unsupported;
    }
    return t;
}

static int zeek_line(void *opaque, const struct record *rec)
{
    struct zeek_state *z = opaque;
    struct intel_read_ctx *c = z->c;
    snprintf(z->where, sizeof(z->where), "%s:%llu", c->path, (unsigned long long)rec->line);
    const char *p = rec->p;
    size_t n = rec->n;
    if (rec->line == 1 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
        p += 3, n -= 3;
    while (n && p[n - 1] == '\r')
        n--;
    if (n == 0)
        return 0;
    if (p[0] == '#') {
        if (rec->status == RECORD_TRUNCATED) {
            ioc_batch_problem(c->out, z->where, "header line longer than %zu bytes, skipped",
                              c->o->max_line);
            return 0;
        }
        if (n > 11 && !memcmp(p, "#separator ", 11))
            z->sep = parse_sep(p + 11, n - 11);
        else if (n > 8 && !memcmp(p, "#fields", 7) && p[7] == z->sep)
            parse_fields(z, p + 8, n - 8);
        return 0;
    }
    c->st->records++;
    if (rec->status == RECORD_TRUNCATED) {
        ioc_batch_problem(c->out, z->where, "line longer than %zu bytes, skipped", c->o->max_line);
        intel_read_skip(c, "line longer than the limit");
        return 0;
    }
    if (!z->have_fields) {
        ioc_batch_problem(c->out, z->where, "a data line before a usable #fields line");
        intel_read_skip(c, "no #fields line before the data");
        return 0;
    }
    const char *col[ZEEK_MAX_COLS];
    size_t len[ZEEK_MAX_COLS];
    int nc = 0;
    for (size_t k = 0; k <= n;) {
        size_t s = k;
        const char *e = memchr(p + k, z->sep, n - k);
        k = e ? (size_t)(e - p) : n;
        if (nc < ZEEK_MAX_COLS) {
            col[nc] = p + s;
            len[nc] = k - s;
        }
        nc++;
        k++;
    }
    if (nc != z->ncols) {
        ioc_batch_problem(c->out, z->where, "%d columns where the #fields line names %d", nc,
                          z->ncols);
        intel_read_skip(c, "wrong number of columns");
        return 0;
    }
    int ci = z->col[ZC_INDICATOR];
    if (len[ci] == 0 || (len[ci] == 1 && col[ci][0] == '-') ||
        (len[ci] == 7 && !memcmp(col[ci], "(empty)", 7))) {
        ioc_batch_problem(c->out, z->where, "no indicator");
        intel_read_skip(c, "empty value");
        return 0;
    }
    int ct = z->col[ZC_TYPE];
    bool unsupported;
    int t = resolve_type(z, col[ct], len[ct], &unsupported);
    if (t == INTEL_TYPE_NONE) {
        int shown = len[ct] > 60 ? 60 : (int)len[ct];
        if (unsupported) {
            ioc_batch_problem(c->out, z->where, "indicator type %.*s is not matched by kenchi",
                              shown, col[ct]);
            intel_read_skip(c, "indicator type kenchi does not match");
        } else {
            ioc_batch_problem(c->out, z->where, "unknown indicator type '%.*s'", shown, col[ct]);
            intel_read_skip(c, "unknown indicator type");
        }
        return 0;
    }
    buf_clear(&z->scratch);
    size_t off[ZC__COUNT];
    for (int i = 0; i < ZC__COUNT; i++)
        off[i] = z->col[i] >= 0 ? field_copy(z, col[z->col[i]], len[z->col[i]]) : SIZE_MAX;
    const char *sc = z->scratch.data;
    struct ioc_meta m;
    ioc_meta_init(&m);
    m.feed = off[ZC_SOURCE] != SIZE_MAX && sc[off[ZC_SOURCE]] ? sc + off[ZC_SOURCE] : z->feed;
    if (off[ZC_DESC] != SIZE_MAX && sc[off[ZC_DESC]])
        m.name = sc + off[ZC_DESC];
    if (off[ZC_URL] != SIZE_MAX && sc[off[ZC_URL]])
        m.ref = sc + off[ZC_URL];
    if (off[ZC_CONF] != SIZE_MAX && sc[off[ZC_CONF]]) {
        char *end;
        double v = strtod(sc + off[ZC_CONF], &end);
        if (*end || v < 0 || v > 100 || v != v)
            ioc_batch_problem(c->out, z->where, "meta.cif_confidence '%.40s' is not 0..100",
                              sc + off[ZC_CONF]);
        else
            m.confidence = (int)(v <= 10 ? v * 10 + 0.5 : v + 0.5);
    }
    if (off[ZC_TAGS] != SIZE_MAX)
        m.labels_json = labels_json(z, sc + off[ZC_TAGS]);
    uint32_t meta = intel_meta_cache_get(&z->mc, c->out, &m);
    const char *v = sc + off[ZC_INDICATOR];
    intel_read_add(c, t, v, strlen(v), meta, true, z->where);
    return 0;
}

int intel_zeek_read(struct intel_read_ctx *c)
{
    struct zeek_state z;
    memset(&z, 0, sizeof(z));
    z.c = c;
    z.sep = '\t';
    z.last_type_n = SIZE_MAX;
    buf_init(&z.scratch);
    buf_init(&z.labels);
    intel_read_feed_name(c->path, z.feed, sizeof(z.feed));
    int rc = reader_lines(c->in, c->o->max_line, zeek_line, &z);
    if (rc < 0)
        ioc_batch_problem(c->out, c->path, "reading stopped: %s", strerror(-rc));
    intel_meta_cache_free(z.mc);
    buf_free(&z.scratch);
    buf_free(&z.labels);
    return rc < 0 ? rc : 0;
}
