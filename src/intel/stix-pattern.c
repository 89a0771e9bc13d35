/*
 * stix-pattern.c - the STIX 2.1 pattern parser (hand-written recursive
 * descent over the specification's ANTLR grammar, STIXPattern.g4) and the
 * operations on one compiled pattern.
 *
 * Grammar, least to most binding:
 *
 *   pattern   := obs_fb EOF
 *   obs_fb    := obs_or  ("FOLLOWEDBY" obs_or)*
 *   obs_or    := obs_and ("OR" obs_and)*
 *   obs_and   := obs_qual ("AND" obs_qual)*
 *   obs_qual  := obs_prim (START t'..' STOP t'..' | WITHIN n SECONDS
 *                          | REPEATS n TIMES)*
 *   obs_prim  := "[" cmp_or "]" | "(" obs_fb ")"
 *   cmp_or    := cmp_and ("OR" cmp_and)*
 *   cmp_and   := cmp_prim ("AND" cmp_prim)*
 *   cmp_prim  := "(" cmp_or ")" | ["NOT"] "EXISTS" path
 *              | path ["NOT"] (op literal | "IN" set | LIKE/MATCHES/
 *                ISSUBSET/ISSUPERSET string)
 *   path      := type ":" name ("." name | "[" int "]" | "[*]")*
 *
 * Keywords are upper case, true/false lower case, as in the grammar.
 * Chains of one operator become one n-ary node, so a list of 10,000 ORed
 * values is a flat node, not a 10,000-deep tree; only parentheses nest, and
 * at most STIX_PATTERN_MAX_DEPTH deep. Whitespace is any Unicode White_Space
 * character; /comments/ and // comments are skipped as the grammar does.
 *
 * Errors name the column (code points from 1; "line L, column C" when the
 * pattern spans lines) and what was expected and found.
 */
#include "intel/stix-pattern.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/stix-pattern-impl.h"
#include "util/timeconv.h"

/* ---- growable arrays --------------------------------------------------- */

static void *grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    uint32_t nc = *cap ? *cap : 8;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, (size_t)nc * elem);
    if (!q)
        abort();
    *cap = nc;
    return q;
}

struct u32vec {
    uint32_t *v;
    uint32_t n, cap;
};

static void u32_push(struct u32vec *a, uint32_t x)
{
    a->v = grow(a->v, &a->cap, a->n + 1, sizeof(uint32_t));
    a->v[a->n++] = x;
}

/* ---- lexer ------------------------------------------------------------- */

enum tk {
    TK_EOF,
    TK_LBRACK,
    TK_RBRACK,
    TK_LPAREN,
    TK_RPAREN,
    TK_COLON,
    TK_DOT,
    TK_COMMA,
    TK_STAR,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_IDENT,
    TK_STRING,
    TK_HEX,
    TK_BIN,
    TK_TS,
    TK_INT,
    TK_FLOAT,
};

struct tok {
    uint8_t kind;
    size_t pos, end; /* the token's bytes */
};

struct parser {
    const char *s;
    size_t n;
    size_t pos; /* next byte to lex */
    struct tok cur;
    struct stix_pattern *p;
    uint32_t capon, capokids, capleaves, capcn, capckids, captests, capconsts;
    char *err;
    size_t errlen;
    bool failed;
    int depth;
};

#define NONE UINT32_MAX

static void fail(struct parser *P, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct parser *P, size_t pos, const char *fmt, ...)
{
    if (P->failed)
        return;
    P->failed = true;
    if (!P->err || !P->errlen)
        return;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < P->n; i++) {
        unsigned char ch = (unsigned char)P->s[i];
        if (ch == '\n') {
            line++;
            col = 1;
        } else if ((ch & 0xC0) != 0x80) {
            col++;
        }
    }
    int k = line > 1 ? snprintf(P->err, P->errlen, "line %zu, column %zu: ", line, col)
                     : snprintf(P->err, P->errlen, "column %zu: ", col);
    if (k < 0 || (size_t)k >= P->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(P->err + k, P->errlen - (size_t)k, fmt, ap);
    va_end(ap);
}

/* Bytes of a White_Space character at s[0..n), 0 if none. */
static size_t ws_len(const unsigned char *s, size_t n)
{
    if (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))
        return 1;
    if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
        return 2;
    if (n >= 3) {
        if (s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
            return 3;
        if (s[0] == 0xE2 && s[1] == 0x80 &&
            ((s[2] >= 0x80 && s[2] <= 0x8A) || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))
            return 3;
        if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
            return 3;
        if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
            return 3;
    }
    return 0;
}

static bool is_ident_start(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_ident_char(char ch)
{
    return is_ident_start(ch) || (ch >= '0' && ch <= '9') || ch == '-';
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* A short printable form of the bytes at pos, for messages. */
static void describe(const struct parser *P, const struct tok *t, char *out, size_t cap)
{
    if (t->kind == TK_EOF) {
        snprintf(out, cap, "the end of the pattern");
        return;
    }
    size_t len = t->end - t->pos;
    int shown = len > 24 ? 24 : (int)len;
    snprintf(out, cap, "'%.*s%s'", shown, P->s + t->pos, len > 24 ? "..." : "");
}

/* Scan a quoted body starting at the quote q; returns the index after the
 * closing quote, or 0 (error set). Strings take \' and \\ escapes. */
static size_t scan_quoted(struct parser *P, size_t q, bool escapes, const char *what)
{
    size_t i = q + 1;
    while (i < P->n) {
        char ch = P->s[i];
        if (ch == '\'')
            return i + 1;
        if (ch == '\\' && escapes) {
            if (i + 1 < P->n && (P->s[i + 1] == '\'' || P->s[i + 1] == '\\')) {
                i += 2;
                continue;
            }
            fail(P, i, "'\\%c' is not an escape: a string only takes \\' and \\\\",
                 i + 1 < P->n ? P->s[i + 1] : ' ');
            return 0;
        }
        i++;
    }
    fail(P, q, "%s is not closed with a quote (')", what);
    return 0;
}

static void lex(struct parser *P)
{
    const unsigned char *u = (const unsigned char *)P->s;
    size_t i = P->pos;
    /* whitespace and comments */
    for (;;) {
        if (i >= P->n)
            break;
        size_t w = ws_len(u + i, P->n - i);
        if (w) {
            i += w;
            continue;
        }
        if (u[i] == '/' && i + 1 < P->n && u[i + 1] == '*') {
            const char *end = NULL;
            for (size_t j = i + 2; j + 1 < P->n; j++)
                if (u[j] == '*' && u[j + 1] == '/') {
                    end = P->s + j;
                    break;
                }
            if (!end) {
                fail(P, i, "a comment '/*' is not closed with '*/'");
                P->cur = (struct tok){TK_EOF, i, i};
                return;
            }
            i = (size_t)(end - P->s) + 2;
            continue;
        }
        if (u[i] == '/' && i + 1 < P->n && u[i + 1] == '/') {
            while (i < P->n && u[i] != '\n' && u[i] != '\r')
                i++;
            continue;
        }
        break;
    }
    struct tok t = {TK_EOF, i, i};
    if (i >= P->n) {
        P->cur = t;
        P->pos = i;
        return;
    }
    char ch = P->s[i];
    size_t j = i + 1;
    switch (ch) {
    case '[':
        t.kind = TK_LBRACK;
        break;
    case ']':
        t.kind = TK_RBRACK;
        break;
    case '(':
        t.kind = TK_LPAREN;
        break;
    case ')':
        t.kind = TK_RPAREN;
        break;
    case ':':
        t.kind = TK_COLON;
        break;
    case ',':
        t.kind = TK_COMMA;
        break;
    case '*':
        t.kind = TK_STAR;
        break;
    case '=':
        t.kind = TK_EQ;
        if (j < P->n && P->s[j] == '=')
            j++;
        break;
    case '!':
        if (j < P->n && P->s[j] == '=') {
            t.kind = TK_NE;
            j++;
        } else {
            fail(P, i, "'!' must be followed by '=' (!=)");
            P->cur = (struct tok){TK_EOF, i, i};
            return;
        }
        break;
    case '<':
        t.kind = TK_LT;
        if (j < P->n && P->s[j] == '=')
            t.kind = TK_LE, j++;
        else if (j < P->n && P->s[j] == '>')
            t.kind = TK_NE, j++;
        break;
    case '>':
        t.kind = TK_GT;
        if (j < P->n && P->s[j] == '=')
            t.kind = TK_GE, j++;
        break;
    case '\'':
        t.kind = TK_STRING;
        j = scan_quoted(P, i, true, "a string");
        break;
    default:
        if (ch == '.' && !(j < P->n && is_digit(P->s[j]))) {
            t.kind = TK_DOT;
            break;
        }
        if (is_digit(ch) || ch == '.' || ch == '+' || ch == '-') {
            j = i;
            if (ch == '+' || ch == '-')
                j++;
            size_t d0 = j;
            while (j < P->n && is_digit(P->s[j]))
                j++;
            bool ints = j > d0;
            t.kind = TK_INT;
            if (j < P->n && P->s[j] == '.' && j + 1 < P->n && is_digit(P->s[j + 1])) {
                j++;
                while (j < P->n && is_digit(P->s[j]))
                    j++;
                t.kind = TK_FLOAT;
            } else if (!ints) {
                fail(P, i, "'%c' must be followed by a number", ch);
                P->cur = (struct tok){TK_EOF, i, i};
                return;
            }
            break;
        }
        if (is_ident_start(ch)) {
            while (j < P->n && is_ident_char(P->s[j]))
                j++;
            if (j == i + 1 && j < P->n && P->s[j] == '\'' &&
                (ch == 'h' || ch == 'b' || ch == 't')) {
                t.kind = ch == 'h' ? TK_HEX : ch == 'b' ? TK_BIN : TK_TS;
                j = scan_quoted(P, j, false,
                                ch == 'h'   ? "a hex constant"
                                : ch == 'b' ? "a binary constant"
                                            : "a timestamp");
                break;
            }
            t.kind = TK_IDENT;
            break;
        }
        if ((unsigned char)ch >= 0x80) {
            uint32_t cp = 0;
            unsigned char c0 = (unsigned char)ch;
            int len = c0 >= 0xF0 ? 4 : c0 >= 0xE0 ? 3 : c0 >= 0xC0 ? 2 : 1;
            cp = len == 1 ? c0 : (c0 & (0x3F >> (len - 1)));
            for (int k = 1; k < len && i + (size_t)k < P->n; k++)
                cp = (cp << 6) | (u[i + (size_t)k] & 0x3F);
            fail(P, i, "unexpected character U+%04X", (unsigned)cp);
        } else if ((unsigned char)ch < 0x20 || ch == 0x7f) {
            fail(P, i, "unexpected control character 0x%02X", (unsigned)(unsigned char)ch);
        } else {
            fail(P, i, "unexpected character '%c'", ch);
        }
        P->cur = (struct tok){TK_EOF, i, i};
        return;
    }
    if (P->failed) {
        P->cur = (struct tok){TK_EOF, i, i};
        return;
    }
    t.end = j;
    P->pos = j;
    P->cur = t;
}

static bool is_kw(const struct parser *P, const char *kw)
{
    size_t n = strlen(kw);
    return P->cur.kind == TK_IDENT && P->cur.end - P->cur.pos == n &&
           !memcmp(P->s + P->cur.pos, kw, n);
}

/* The current identifier in any case equals kw (for hints). */
static bool is_kw_ci(const struct parser *P, const char *kw)
{
    size_t n = strlen(kw);
    if (P->cur.kind != TK_IDENT || P->cur.end - P->cur.pos != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = P->s[P->cur.pos + i];
        if (a >= 'a' && a <= 'z')
            a = (char)(a - 'a' + 'A');
        if (a != kw[i])
            return false;
    }
    return true;
}

static void expected(struct parser *P, const char *what)
{
    char found[64];
    describe(P, &P->cur, found, sizeof(found));
    static const char *const kws[] = {
        "AND",    "OR", "NOT",   "FOLLOWEDBY", "LIKE",   "MATCHES", "ISSUBSET", "ISSUPERSET",
        "EXISTS", "IN", "START", "STOP",       "WITHIN", "SECONDS", "REPEATS",  "TIMES"};
    for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
        if (is_kw_ci(P, kws[i])) {
            fail(P, P->cur.pos, "expected %s, found %s (keywords are upper case: %s)", what, found,
                 kws[i]);
            return;
        }
    fail(P, P->cur.pos, "expected %s, found %s", what, found);
}

/* ---- node construction -------------------------------------------------- */

static uint32_t add_onode(struct parser *P, uint8_t kind)
{
    struct stix_pattern *p = P->p;
    p->on = grow(p->on, &P->capon, p->non + 1, sizeof(*p->on));
    memset(&p->on[p->non], 0, sizeof(p->on[0]));
    p->on[p->non].kind = kind;
    p->on[p->non].parent = NONE;
    return p->non++;
}

static uint32_t add_okids(struct parser *P, const struct u32vec *kids)
{
    struct stix_pattern *p = P->p;
    p->okids = grow(p->okids, &P->capokids, p->nokids + kids->n, sizeof(uint32_t));
    uint32_t first = p->nokids;
    memcpy(p->okids + first, kids->v, kids->n * sizeof(uint32_t));
    p->nokids += kids->n;
    return first;
}

static uint32_t add_cnode(struct parser *P, uint8_t kind, uint32_t a, uint32_t n)
{
    struct stix_pattern *p = P->p;
    p->cn = grow(p->cn, &P->capcn, p->ncn + 1, sizeof(*p->cn));
    p->cn[p->ncn] = (struct sp_cnode){kind, a, n};
    return p->ncn++;
}

static uint32_t add_const(struct parser *P)
{
    struct stix_pattern *p = P->p;
    p->consts = grow(p->consts, &P->capconsts, p->nconsts + 1, sizeof(*p->consts));
    memset(&p->consts[p->nconsts], 0, sizeof(p->consts[0]));
    return p->nconsts++;
}

/* ---- constants ---------------------------------------------------------- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int b64val(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* Decode the current literal token into constant k. Returns false (error
 * set) on an invalid constant. */
static bool read_literal(struct parser *P, struct sp_const *k)
{
    struct stix_pattern *p = P->p;
    const struct tok *t = &P->cur;
    const char *s = P->s + t->pos;
    size_t len = t->end - t->pos;
    switch (t->kind) {
    case TK_STRING: {
        char *d = arena_alloc(&p->arena, len);
        size_t o = 0;
        for (size_t i = 1; i + 1 < len; i++) {
            if (s[i] == '\\')
                i++;
            d[o++] = s[i];
        }
        d[o] = '\0';
        k->type = CT_STR;
        k->s = k->raw = d;
        k->n = k->rawn = (uint32_t)o;
        return true;
    }
    case TK_HEX: {
        size_t body = len - 3; /* h'..' */
        if (body % 2) {
            fail(P, t->pos, "a hex constant needs an even number of digits");
            return false;
        }
        char *d = arena_alloc(&p->arena, body / 2 + 1);
        for (size_t i = 0; i < body; i += 2) {
            int hi = hexval(s[2 + i]), lo = hexval(s[3 + i]);
            if (hi < 0 || lo < 0) {
                fail(P, t->pos + 2 + i + (hi >= 0), "'%c' is not a hex digit",
                     hi < 0 ? s[2 + i] : s[3 + i]);
                return false;
            }
            d[i / 2] = (char)(hi * 16 + lo);
        }
        k->type = CT_BIN;
        k->s = d;
        k->n = (uint32_t)(body / 2);
        return true;
    }
    case TK_BIN: {
        /* base64; line feeds are ignored, as the specification asks */
        char *d = arena_alloc(&p->arena, len);
        size_t o = 0, nchars = 0, pad = 0;
        uint32_t acc = 0;
        for (size_t i = 2; i + 1 < len; i++) {
            char ch = s[i];
            if (ch == '\n' || ch == '\r')
                continue;
            if (ch == '=') {
                pad++;
                nchars++;
                continue;
            }
            int v = b64val(ch);
            if (v < 0 || pad) {
                fail(P, t->pos + i, "'%c' does not belong in a base64 constant", ch);
                return false;
            }
            acc = (acc << 6) | (uint32_t)v;
            nchars++;
            if (nchars % 4 == 0) {
                d[o++] = (char)(acc >> 16);
                d[o++] = (char)(acc >> 8);
                d[o++] = (char)acc;
                acc = 0;
            }
        }
        if (nchars == 0 || nchars % 4 || pad > 2) {
            fail(P, t->pos, "a binary constant is base64 in groups of 4 characters");
            return false;
        }
        if (pad) {
            acc <<= 6 * pad;
            d[o++] = (char)(acc >> 16);
            if (pad == 1)
                d[o++] = (char)(acc >> 8);
        }
        k->type = CT_BIN;
        k->s = d;
        k->n = (uint32_t)o;
        return true;
    }
    case TK_TS: {
        /* YYYY-MM-DDTHH:MM:SS[.frac]Z exactly */
        const char *b = s + 2;
        size_t bl = len - 3;
        int64_t ts = 0;
        bool ok = bl >= 20 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' &&
                  b[16] == ':' && b[bl - 1] == 'Z';
        static const int digits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
        for (size_t i = 0; ok && i < sizeof(digits) / sizeof(digits[0]); i++)
            ok = is_digit(b[digits[i]]);
        if (ok && bl > 20) {
            ok = b[19] == '.' && bl > 21;
            for (size_t i = 20; ok && i < bl - 1; i++)
                ok = is_digit(b[i]);
        } else if (ok) {
            ok = bl == 20;
        }
        if (!ok) {
            fail(P, t->pos, "a timestamp is t'YYYY-MM-DDTHH:MM:SS[.fraction]Z' (UTC, with the Z)");
            return false;
        }
        int y = (b[0] - '0') * 1000 + (b[1] - '0') * 100 + (b[2] - '0') * 10 + (b[3] - '0');
        int mo = (b[5] - '0') * 10 + (b[6] - '0');
        int d = (b[8] - '0') * 10 + (b[9] - '0');
        int h = (b[11] - '0') * 10 + (b[12] - '0');
        int mi = (b[14] - '0') * 10 + (b[15] - '0');
        int se = (b[17] - '0') * 10 + (b[18] - '0');
        if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
            se > 60) {
            fail(P, t->pos, "'%.*s' is not a valid date and time", (int)bl, b);
            return false;
        }
        if (y < TIME_YEAR_MIN || y > TIME_YEAR_MAX) {
            fail(P, t->pos, "year %d is outside %d..%d", y, TIME_YEAR_MIN, TIME_YEAR_MAX);
            return false;
        }
        int64_t ns = 0;
        int nd = 0;
        for (size_t i = 20; bl > 21 && i < bl - 1; i++)
            if (nd < 9) {
                ns = ns * 10 + (b[i] - '0');
                nd++;
            }
        while (nd++ < 9 && bl > 21)
            ns *= 10;
        ts = time_from_utc(y, mo, d, h, mi, se, ns);
        k->type = CT_TS;
        k->ts = ts;
        return true;
    }
    case TK_INT: {
        errno = 0;
        char buf[32];
        if (len >= sizeof(buf)) {
            fail(P, t->pos, "the integer %.*s is out of range", (int)(len > 40 ? 40 : len), s);
            return false;
        }
        memcpy(buf, s, len);
        buf[len] = '\0';
        char *end;
        long long v = strtoll(buf, &end, 10);
        if (errno || *end) {
            fail(P, t->pos, "the integer %s is out of range", buf);
            return false;
        }
        k->type = CT_INT;
        k->is_int = true;
        k->i = v;
        k->f = (double)v;
        return true;
    }
    case TK_FLOAT: {
        char buf[64];
        if (len >= sizeof(buf)) {
            fail(P, t->pos, "the number %.*s is too long", (int)(len > 40 ? 40 : len), s);
            return false;
        }
        memcpy(buf, s, len);
        buf[len] = '\0';
        k->type = CT_FLOAT;
        k->f = strtod(buf, NULL);
        return true;
    }
    case TK_IDENT:
        if (is_kw(P, "true") || is_kw(P, "false")) {
            k->type = CT_BOOL;
            k->b = is_kw(P, "true");
            return true;
        }
        break;
    default:
        break;
    }
    expected(P, "a constant ('string', 123, 1.5, true, h'ff', b'AA==', t'2024-01-01T00:00:00Z')");
    return false;
}

/* ---- object paths ------------------------------------------------------- */

/* Parse type:prop.prop[..]... into a test. The canonical path is built in
 * lower case without quotes and indexes; an index is remembered. */
static bool parse_path(struct parser *P, struct sp_test *t)
{
    char canon[512];
    size_t cl = 0;
    bool toolong = false;
    t->pos = (uint32_t)P->cur.pos;
    if (P->cur.kind != TK_IDENT) {
        expected(P, "an object path (type:property), '(' or EXISTS");
        return false;
    }
    size_t tlen = P->cur.end - P->cur.pos;
    t->otype = sp_otype_by_name(P->s + P->cur.pos, tlen);
    if (tlen < sizeof(canon) - 2) {
        memcpy(canon, P->s + P->cur.pos, tlen);
        cl = tlen;
    } else {
        toolong = true;
    }
    lex(P);
    if (P->cur.kind != TK_COLON) {
        expected(P, "':' after the object type");
        return false;
    }
    if (cl < sizeof(canon))
        canon[cl++] = ':';
    lex(P);
    int nidx = 0;
    int32_t index = SP_INDEX_NONE;
    bool first = true;
    char prev[32] = "";
    for (;;) {
        if (first || P->cur.kind == TK_DOT) {
            if (!first)
                lex(P);
            const char *name;
            size_t nl;
            size_t at = P->cur.pos;
            if (P->cur.kind == TK_IDENT) {
                name = P->s + P->cur.pos;
                nl = P->cur.end - P->cur.pos;
                if (memchr(name, '-', nl)) {
                    fail(P, at, "the property name '%.*s' has a '-': write it in quotes ('%.*s')",
                         (int)nl, name, (int)nl, name);
                    return false;
                }
            } else if (P->cur.kind == TK_STRING) {
                name = P->s + P->cur.pos + 1;
                nl = P->cur.end - P->cur.pos - 2;
                /* a key with escapes or a dot is no mapped path
                 * (file:'hashes.md5' is one key, not hashes then md5) */
                if (memchr(name, '\\', nl) || memchr(name, '.', nl))
                    toolong = true;
            } else {
                expected(P, first ? "a property name after ':'" : "a property name after '.'");
                return false;
            }
            /* hashes.sha1 / sha256 are written both ways in the wild */
            char key[32];
            size_t kl = nl < sizeof(key) ? nl : 0;
            for (size_t i = 0; i < kl; i++)
                key[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
            if (!strcmp(prev, "hashes")) {
                if (kl == 4 && !memcmp(key, "sha1", 4))
                    name = "sha-1", nl = 5;
                else if (kl == 6 && !memcmp(key, "sha256", 6))
                    name = "sha-256", nl = 7;
                else if (kl == 6 && !memcmp(key, "sha512", 6))
                    name = "sha-512", nl = 7;
            }
            if (kl)
                snprintf(prev, sizeof(prev), "%.*s", (int)kl, key);
            else
                prev[0] = '\0';
            if (!first && cl < sizeof(canon))
                canon[cl++] = '.';
            if (cl + nl < sizeof(canon) - 1) {
                for (size_t i = 0; i < nl; i++) {
                    char ch = name[i];
                    canon[cl++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
                }
            } else {
                toolong = true;
            }
            first = false;
            lex(P);
            continue;
        }
        if (P->cur.kind == TK_LBRACK) {
            lex(P);
            if (P->cur.kind == TK_STAR) {
                index = SP_INDEX_ALL;
            } else if (P->cur.kind == TK_INT) {
                struct sp_const k;
                memset(&k, 0, sizeof(k));
                if (!read_literal(P, &k))
                    return false;
                index = k.i < 0 ? SP_INDEX_BAD : k.i > INT32_MAX ? SP_INDEX_BAD : (int32_t)k.i;
            } else {
                expected(P, "a list index (0, 1, ... or *)");
                return false;
            }
            lex(P);
            if (P->cur.kind != TK_RBRACK) {
                expected(P, "']' to close the list index");
                return false;
            }
            nidx++;
            lex(P);
            continue;
        }
        break;
    }
    canon[cl < sizeof(canon) ? cl : sizeof(canon) - 1] = '\0';
    t->prop = SP_PROP_NONE;
    t->index = SP_INDEX_NONE;
    if (t->otype == OT_NONE || toolong)
        return true;
    uint32_t prop = sp_prop_by_path(canon);
    if (prop == SP_PROP_NONE)
        return true;
    const struct sp_prop *pr = &sp_props[prop];
    if (pr->list) {
        if (nidx > 1)
            return true;
        t->index = nidx ? index : SP_INDEX_ALL;
    } else if (nidx) {
        return true; /* an index on a single value: nothing there */
    }
    t->prop = prop;
    return true;
}

/* ---- comparison expressions -------------------------------------------- */

static bool const_mode(struct parser *P, struct sp_test *t, struct sp_const *k)
{
    k->mode = CM_INCOMPAT;
    if (t->prop == SP_PROP_NONE)
        return true;
    const struct sp_prop *pr = &sp_props[t->prop];
    struct stix_pattern *p = P->p;
    bool eqish = t->op == OP_EQ || t->op == OP_NE || t->op == OP_IN;
    switch (k->type) {
    case CT_STR:
        switch (pr->kind) {
        case PK_STR: {
            struct sp_val v = sp_normalise(&p->arena, pr->norm, k->s, k->n);
            k->mode = CM_STR;
            k->s = v.p;
            k->n = v.n;
            break;
        }
        case PK_NUM:
            if (sp_parse_number(k->s, k->n, &k->is_int, &k->i, &k->f))
                k->mode = CM_NUM;
            break;
        case PK_IP:
            if (eqish && sp_net_parse(k->s, k->n, &k->net))
                k->mode = CM_IP;
            else
                k->mode = CM_STR;
            break;
        case PK_TIME:
            if (sp_parse_time(k->s, k->n, &k->ts))
                k->mode = CM_TIME;
            break;
        }
        break;
    case CT_INT:
    case CT_FLOAT:
        if (pr->kind == PK_STR || pr->kind == PK_NUM)
            k->mode = CM_NUM;
        break;
    case CT_BOOL:
        if (pr->kind == PK_STR)
            k->mode = CM_BOOL;
        break;
    case CT_BIN:
        if (pr->kind == PK_STR || pr->kind == PK_IP)
            k->mode = CM_BYTES;
        break;
    case CT_TS:
        if (pr->kind == PK_TIME || pr->kind == PK_STR)
            k->mode = CM_TIME;
        break;
    }
    return true;
}

static const char *ctype_name(uint8_t t)
{
    switch (t) {
    case CT_STR:
        return "a string";
    case CT_INT:
    case CT_FLOAT:
        return "a number";
    case CT_BOOL:
        return "a boolean";
    case CT_BIN:
        return "a binary constant";
    default:
        return "a timestamp";
    }
}

static uint32_t parse_cmp_level(struct parser *P, int level);

static uint32_t add_test(struct parser *P, const struct sp_test *t)
{
    struct stix_pattern *p = P->p;
    p->tests = grow(p->tests, &P->captests, p->ntests + 1, sizeof(*p->tests));
    p->tests[p->ntests] = *t;
    return add_cnode(P, CN_TEST, p->ntests++, 0);
}

static uint32_t parse_test(struct parser *P)
{
    struct stix_pattern *p = P->p;
    struct sp_test t;
    memset(&t, 0, sizeof(t));
    if (is_kw(P, "NOT") || is_kw(P, "EXISTS")) {
        size_t at = P->cur.pos;
        if (is_kw(P, "NOT")) {
            t.negated = true;
            lex(P);
            if (!is_kw(P, "EXISTS")) {
                fail(P, at, "NOT goes before the operator (file:name NOT = 'x') or before EXISTS");
                return NONE;
            }
        }
        lex(P);
        if (!parse_path(P, &t))
            return NONE;
        t.op = OP_EXISTS;
        return add_test(P, &t);
    }
    if (!parse_path(P, &t))
        return NONE;
    if (is_kw(P, "NOT")) {
        t.negated = true;
        lex(P);
    }
    size_t oppos = P->cur.pos;
    switch (P->cur.kind) {
    case TK_EQ:
        t.op = OP_EQ;
        break;
    case TK_NE:
        t.op = OP_NE;
        break;
    case TK_LT:
        t.op = OP_LT;
        break;
    case TK_LE:
        t.op = OP_LE;
        break;
    case TK_GT:
        t.op = OP_GT;
        break;
    case TK_GE:
        t.op = OP_GE;
        break;
    default:
        if (is_kw(P, "IN"))
            t.op = OP_IN;
        else if (is_kw(P, "LIKE"))
            t.op = OP_LIKE;
        else if (is_kw(P, "MATCHES"))
            t.op = OP_MATCHES;
        else if (is_kw(P, "ISSUBSET"))
            t.op = OP_ISSUBSET;
        else if (is_kw(P, "ISSUPERSET"))
            t.op = OP_ISSUPERSET;
        else {
            expected(P, "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, "
                        "ISSUBSET, ISSUPERSET)");
            return NONE;
        }
    }
    lex(P);
    t.c0 = p->nconsts;
    if (t.op == OP_IN) {
        if (P->cur.kind != TK_LPAREN) {
            expected(P, "'(' to open the set of IN");
            return NONE;
        }
        size_t open = P->cur.pos;
        lex(P);
        uint8_t first_type = 0xff;
        while (P->cur.kind != TK_RPAREN) {
            if (t.nc) {
                if (P->cur.kind != TK_COMMA) {
                    expected(P, "',' or ')' in the set of IN");
                    return NONE;
                }
                lex(P);
            }
            size_t at = P->cur.pos;
            uint32_t ki = add_const(P);
            if (!read_literal(P, &p->consts[ki]))
                return NONE;
            uint8_t ty = p->consts[ki].type;
            uint8_t cls = ty == CT_FLOAT ? CT_INT : ty;
            if (first_type == 0xff) {
                first_type = cls;
            } else if (cls != first_type) {
                fail(P, at, "the values of an IN set must be of one type: %s after %s",
                     ctype_name(ty), ctype_name(first_type));
                return NONE;
            }
            t.nc++;
            lex(P);
            if (P->failed)
                return NONE;
            if (P->cur.kind == TK_EOF) {
                fail(P, open, "the set opened here is not closed with ')'");
                return NONE;
            }
        }
        lex(P);
    } else {
        uint32_t ki = add_const(P);
        size_t at = P->cur.pos;
        if (!read_literal(P, &p->consts[ki]))
            return NONE;
        t.nc = 1;
        struct sp_const *k = &p->consts[ki];
        if ((t.op == OP_LIKE || t.op == OP_MATCHES || t.op == OP_ISSUBSET ||
             t.op == OP_ISSUPERSET) &&
            k->type != CT_STR) {
            static const char *const names[] = {[OP_LIKE] = "LIKE",
                                                [OP_MATCHES] = "MATCHES",
                                                [OP_ISSUBSET] = "ISSUBSET",
                                                [OP_ISSUPERSET] = "ISSUPERSET"};
            fail(P, at, "%s takes a string in quotes, not %s", names[t.op], ctype_name(k->type));
            return NONE;
        }
        if (t.op >= OP_LT && t.op <= OP_GE && k->type == CT_BOOL) {
            fail(P, at, "a boolean has no order: use = or !=");
            return NONE;
        }
        lex(P);
    }
    if (P->failed)
        return NONE;
    /* operator-specific checks and compilation */
    const struct sp_prop *pr = t.prop == SP_PROP_NONE ? NULL : &sp_props[t.prop];
    struct sp_const *k0 = t.nc ? &p->consts[t.c0] : NULL;
    if (t.op == OP_ISSUBSET || t.op == OP_ISSUPERSET) {
        if (!sp_net_parse(k0->s, k0->n, &k0->net)) {
            fail(P, oppos, "'%.*s' is not an IP address or CIDR network",
                 (int)(k0->n > 60 ? 60 : k0->n), k0->s);
            return NONE;
        }
        if (pr && pr->kind != PK_IP) {
            fail(P, t.pos, "%s compares IP addresses, and %s is not one",
                 t.op == OP_ISSUBSET ? "ISSUBSET" : "ISSUPERSET", pr->path);
            return NONE;
        }
        k0->mode = CM_IP;
    } else if (t.op == OP_LIKE) {
        struct sp_val v = {k0->s, k0->n};
        if (pr && sp_norm_folds_case(pr->norm))
            v = sp_normalise(&p->arena, NM_LOWER, k0->s, k0->n);
        t.like = v.p;
        t.likelen = v.n;
    } else if (t.op == OP_MATCHES) {
        uint32_t flags = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_UCP | PCRE2_DOTALL;
        if (pr && sp_norm_folds_case(pr->norm))
            flags |= PCRE2_CASELESS;
        int ec;
        PCRE2_SIZE off;
        t.re = pcre2_compile((PCRE2_SPTR)k0->s, k0->n, flags, &ec, &off, NULL);
        if (!t.re) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(ec, msg, sizeof(msg));
            fail(P, oppos, "invalid regular expression (at its offset %zu): %s", (size_t)off,
                 (const char *)msg);
            return NONE;
        }
        pcre2_jit_compile(t.re, PCRE2_JIT_COMPLETE); /* the interpreter if no JIT */
    } else {
        for (uint32_t i = 0; i < t.nc; i++)
            const_mode(P, &t, &p->consts[t.c0 + i]);
    }
    return add_test(P, &t);
}

static uint32_t parse_cmp_prim(struct parser *P)
{
    if (P->cur.kind == TK_LPAREN) {
        size_t open = P->cur.pos;
        if (++P->depth > STIX_PATTERN_MAX_DEPTH) {
            fail(P, open, "parentheses nested deeper than %d", STIX_PATTERN_MAX_DEPTH);
            return NONE;
        }
        lex(P);
        uint32_t c = parse_cmp_level(P, 0);
        if (c == NONE)
            return NONE;
        if (P->cur.kind != TK_RPAREN) {
            expected(P, "')' to close the parenthesis");
            return NONE;
        }
        P->depth--;
        lex(P);
        return c;
    }
    return parse_test(P);
}

/* level 0: OR of ANDs; level 1: AND of primaries. */
static uint32_t parse_cmp_level(struct parser *P, int level)
{
    static const char *const kw[] = {"OR", "AND"};
    uint32_t first = level == 0 ? parse_cmp_level(P, 1) : parse_cmp_prim(P);
    if (first == NONE || P->failed)
        return NONE;
    if (!is_kw(P, kw[level]))
        return first;
    struct u32vec kids = {0};
    u32_push(&kids, first);
    while (is_kw(P, kw[level])) {
        lex(P);
        uint32_t c = level == 0 ? parse_cmp_level(P, 1) : parse_cmp_prim(P);
        if (c == NONE || P->failed) {
            free(kids.v);
            return NONE;
        }
        u32_push(&kids, c);
    }
    struct stix_pattern *p = P->p;
    p->ckids = grow(p->ckids, &P->capckids, p->nckids + kids.n, sizeof(uint32_t));
    memcpy(p->ckids + p->nckids, kids.v, kids.n * sizeof(uint32_t));
    uint32_t node = add_cnode(P, level == 0 ? CN_OR : CN_AND, p->nckids, kids.n);
    p->nckids += kids.n;
    free(kids.v);
    return node;
}

/* ---- observation expressions ------------------------------------------- */

static uint32_t parse_obs_level(struct parser *P, int level);

static uint32_t parse_obs_prim(struct parser *P)
{
    struct stix_pattern *p = P->p;
    if (P->cur.kind == TK_LBRACK) {
        lex(P);
        uint32_t t0 = p->ntests;
        uint32_t c = parse_cmp_level(P, 0);
        if (c == NONE || P->failed)
            return NONE;
        if (P->cur.kind != TK_RBRACK) {
            expected(P, is_kw(P, "FOLLOWEDBY") ? "']' (FOLLOWEDBY joins observation expressions)"
                                               : "']' to close the observation expression");
            return NONE;
        }
        lex(P);
        p->leaves = grow(p->leaves, &P->capleaves, p->nleaves + 1, sizeof(*p->leaves));
        struct sp_leaf *L = &p->leaves[p->nleaves];
        memset(L, 0, sizeof(*L));
        L->croot = c;
        L->t0 = t0;
        L->nt = p->ntests - t0;
        uint32_t node = add_onode(P, ON_LEAF);
        p->on[node].a = p->nleaves;
        L->onode = node;
        p->nleaves++;
        return node;
    }
    if (P->cur.kind == TK_LPAREN) {
        size_t open = P->cur.pos;
        if (++P->depth > STIX_PATTERN_MAX_DEPTH) {
            fail(P, open, "parentheses nested deeper than %d", STIX_PATTERN_MAX_DEPTH);
            return NONE;
        }
        lex(P);
        uint32_t node = parse_obs_level(P, 0);
        if (node == NONE || P->failed)
            return NONE;
        if (P->cur.kind != TK_RPAREN) {
            expected(P, "')' to close the parenthesis");
            return NONE;
        }
        P->depth--;
        lex(P);
        return node;
    }
    expected(P, "'[' (an observation expression) or '('");
    return NONE;
}

static uint32_t wrap(struct parser *P, uint8_t kind, uint32_t child)
{
    uint32_t node = add_onode(P, kind);
    P->p->on[node].a = child;
    P->p->on[child].parent = node;
    return node;
}

static uint32_t parse_obs_qual(struct parser *P)
{
    uint32_t node = parse_obs_prim(P);
    bool seen_ss = false, seen_w = false, seen_r = false;
    while (node != NONE && !P->failed) {
        size_t at = P->cur.pos;
        if (is_kw(P, "START")) {
            if (seen_ss) {
                fail(P, at, "a second START/STOP on the same observation expression");
                return NONE;
            }
            seen_ss = true;
            lex(P);
            struct sp_const a, b;
            memset(&a, 0, sizeof(a));
            memset(&b, 0, sizeof(b));
            if (P->cur.kind != TK_TS) {
                expected(P, "a timestamp t'...' after START");
                return NONE;
            }
            if (!read_literal(P, &a))
                return NONE;
            lex(P);
            if (!is_kw(P, "STOP")) {
                expected(P, "STOP after the START time");
                return NONE;
            }
            lex(P);
            if (P->cur.kind != TK_TS) {
                expected(P, "a timestamp t'...' after STOP");
                return NONE;
            }
            if (!read_literal(P, &b))
                return NONE;
            if (b.ts <= a.ts) {
                fail(P, P->cur.pos, "STOP must be later than START");
                return NONE;
            }
            lex(P);
            node = wrap(P, ON_STARTSTOP, node);
            P->p->on[node].start_ns = a.ts;
            P->p->on[node].stop_ns = b.ts;
        } else if (is_kw(P, "WITHIN")) {
            if (seen_w) {
                fail(P, at, "a second WITHIN on the same observation expression");
                return NONE;
            }
            seen_w = true;
            lex(P);
            struct sp_const k;
            memset(&k, 0, sizeof(k));
            if ((P->cur.kind != TK_INT && P->cur.kind != TK_FLOAT) || !read_literal(P, &k)) {
                if (!P->failed)
                    expected(P, "a number of seconds after WITHIN");
                return NONE;
            }
            double secs = k.type == CT_INT ? (double)k.i : k.f;
            if (!(secs > 0)) {
                fail(P, P->cur.pos, "WITHIN needs a positive number of seconds");
                return NONE;
            }
            if (secs > 1e9) /* ~31 years: beyond, no window */
                secs = 1e9;
            lex(P);
            if (!is_kw(P, "SECONDS")) {
                expected(P, "SECONDS after the WITHIN number");
                return NONE;
            }
            lex(P);
            node = wrap(P, ON_WITHIN, node);
            int64_t ns = (int64_t)(secs * 1e9);
            P->p->on[node].within_ns = ns > 0 ? ns : 1;
        } else if (is_kw(P, "REPEATS")) {
            if (seen_r) {
                fail(P, at, "a second REPEATS on the same observation expression");
                return NONE;
            }
            seen_r = true;
            lex(P);
            struct sp_const k;
            memset(&k, 0, sizeof(k));
            if (P->cur.kind != TK_INT || !read_literal(P, &k)) {
                if (!P->failed)
                    expected(P, "a whole number after REPEATS");
                return NONE;
            }
            if (k.i < 1) {
                fail(P, P->cur.pos, "REPEATS needs a positive whole number");
                return NONE;
            }
            if (k.i > STIX_PATTERN_MAX_OBS) {
                fail(P, P->cur.pos, "REPEATS %lld TIMES: at most %d observations are supported",
                     (long long)k.i, STIX_PATTERN_MAX_OBS);
                return NONE;
            }
            lex(P);
            if (!is_kw(P, "TIMES")) {
                expected(P, "TIMES after the REPEATS number");
                return NONE;
            }
            lex(P);
            if (k.i > 1) {
                node = wrap(P, ON_REPEATS, node);
                P->p->on[node].n = (uint32_t)k.i;
            }
        } else {
            break;
        }
    }
    return P->failed ? NONE : node;
}

/* level 0: FOLLOWEDBY, 1: OR, 2: AND */
static uint32_t parse_obs_level(struct parser *P, int level)
{
    static const char *const kw[] = {"FOLLOWEDBY", "OR", "AND"};
    static const uint8_t kinds[] = {ON_FOLLOWEDBY, ON_OR, ON_AND};
    uint32_t first = level < 2 ? parse_obs_level(P, level + 1) : parse_obs_qual(P);
    if (first == NONE || P->failed)
        return NONE;
    if (!is_kw(P, kw[level]))
        return first;
    struct u32vec kids = {0};
    u32_push(&kids, first);
    while (is_kw(P, kw[level])) {
        lex(P);
        uint32_t c = level < 2 ? parse_obs_level(P, level + 1) : parse_obs_qual(P);
        if (c == NONE || P->failed) {
            free(kids.v);
            return NONE;
        }
        u32_push(&kids, c);
    }
    uint32_t node = add_onode(P, kinds[level]);
    struct stix_pattern *p = P->p;
    p->on[node].a = add_okids(P, &kids);
    p->on[node].n = kids.n;
    for (uint32_t i = 0; i < kids.n; i++)
        p->on[kids.v[i]].parent = node;
    free(kids.v);
    return node;
}

/* ---- after parsing ------------------------------------------------------ */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* Fill leaf ranges, under_repeats, and the fewest / most observations a
 * match of node needs. Recursion depth is bounded by the nesting limit. */
static void finish_onode(struct stix_pattern *p, uint32_t i, bool under_rep, uint64_t *mn,
                         uint64_t *mx)
{
    struct sp_onode *o = &p->on[i];
    o->under_repeats = under_rep;
    switch (o->kind) {
    case ON_LEAF:
        o->lfirst = o->a;
        o->lend = o->a + 1;
        *mn = *mx = 1;
        return;
    case ON_WITHIN:
    case ON_STARTSTOP:
    case ON_REPEATS: {
        bool r = under_rep || o->kind == ON_REPEATS;
        finish_onode(p, o->a, r, mn, mx);
        o->lfirst = p->on[o->a].lfirst;
        o->lend = p->on[o->a].lend;
        if (o->kind == ON_REPEATS) {
            *mn = sat_mul(*mn, o->n);
            *mx = sat_mul(*mx, o->n);
            p->stateful = true;
        }
        return;
    }
    default: {
        uint64_t tmn = o->kind == ON_OR ? UINT64_MAX : 0, tmx = 0;
        for (uint32_t k = 0; k < o->n; k++) {
            uint64_t a, b;
            finish_onode(p, p->okids[o->a + k], under_rep, &a, &b);
            if (o->kind == ON_OR) {
                tmn = a < tmn ? a : tmn;
                tmx = b > tmx ? b : tmx;
            } else {
                tmn = sat_add(tmn, a);
                tmx = sat_add(tmx, b);
            }
        }
        o = &p->on[i];
        o->lfirst = p->on[p->okids[o->a]].lfirst;
        o->lend = p->on[p->okids[o->a + o->n - 1]].lend;
        *mn = tmn;
        *mx = tmx;
        if (o->kind != ON_OR)
            p->stateful = true;
        return;
    }
    }
}

static void finish_leaves(struct stix_pattern *p)
{
    for (uint32_t li = 0; li < p->nleaves; li++) {
        struct sp_leaf *L = &p->leaves[li];
        /* instanced object types read by two tests or more are bound */
        uint32_t count[OT__COUNT] = {0};
        for (uint32_t t = L->t0; t < L->t0 + L->nt; t++)
            if (p->tests[t].prop != SP_PROP_NONE && sp_otype_instanced(p->tests[t].otype))
                count[p->tests[t].otype]++;
        for (uint8_t ty = 0; ty < OT__COUNT; ty++)
            if (count[ty] >= 2 && L->nbind < sizeof(L->bind)) {
                L->bprop[L->nbind] = (uint16_t)sp_otype_instance_prop(ty);
                L->bind[L->nbind++] = ty;
            }
        /* START/STOP of the ancestors */
        L->start_ns = INT64_MIN;
        L->stop_ns = INT64_MAX;
        for (uint32_t n = p->on[L->onode].parent; n != NONE; n = p->on[n].parent)
            if (p->on[n].kind == ON_STARTSTOP) {
                if (p->on[n].start_ns > L->start_ns)
                    L->start_ns = p->on[n].start_ns;
                if (p->on[n].stop_ns < L->stop_ns)
                    L->stop_ns = p->on[n].stop_ns;
            }
    }
}

void stix_pattern_free(struct stix_pattern *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->ntests; i++)
        if (p->tests[i].re)
            pcre2_code_free(p->tests[i].re);
    free(p->on);
    free(p->okids);
    free(p->leaves);
    free(p->cn);
    free(p->ckids);
    free(p->tests);
    free(p->consts);
    free(p->text);
    arena_free(&p->arena);
    free(p);
}

int stix_pattern_compile(const char *text, size_t n, struct stix_pattern **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    struct parser P = {.s = text, .n = n, .err = err, .errlen = errlen};
    if (n > STIX_PATTERN_MAX_BYTES) {
        fail(&P, 0, "the pattern is %zu bytes long; at most %u are read", n,
             STIX_PATTERN_MAX_BYTES);
        return -EINVAL;
    }
    struct stix_pattern *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    arena_init(&p->arena, 4096);
    P.p = p;
    lex(&P);
    uint32_t root = P.failed ? NONE : parse_obs_level(&P, 0);
    if (root != NONE && !P.failed && P.cur.kind != TK_EOF) {
        if (is_kw(&P, "AND") || is_kw(&P, "OR") || is_kw(&P, "FOLLOWEDBY") ||
            P.cur.kind == TK_LBRACK)
            expected(&P, "the end of the pattern");
        else
            expected(&P, "AND, OR, FOLLOWEDBY, a qualifier (START, WITHIN, REPEATS) or the end "
                         "of the pattern");
    }
    if (root == NONE || P.failed) {
        if (!P.failed)
            fail(&P, P.cur.pos, "invalid pattern");
        stix_pattern_free(p);
        return -EINVAL;
    }
    p->oroot = root;
    uint64_t mn, mx;
    finish_onode(p, root, false, &mn, &mx);
    if (mx > STIX_PATTERN_MAX_OBS) {
        fail(&P, 0, "a match of this pattern can need %llu observations; at most %d are supported",
             (unsigned long long)mx, STIX_PATTERN_MAX_OBS);
        stix_pattern_free(p);
        return -EINVAL;
    }
    p->min_obs = (uint32_t)mn;
    p->max_obs = (uint32_t)mx;
    finish_leaves(p);
    p->text = malloc(n + 1);
    if (!p->text)
        abort();
    memcpy(p->text, text, n);
    p->text[n] = '\0';
    p->len = n;
    *out = p;
    return 0;
}

const char *stix_pattern_text(const struct stix_pattern *p)
{
    return p->text;
}

uint32_t stix_pattern_observations(const struct stix_pattern *p)
{
    return p->nleaves;
}

/* ---- simple values ------------------------------------------------------ */

/* Every test under cnode i is = or IN on an indicator path (or ISSUBSET on
 * an address path), joined by OR. */
static bool simple_tree(const struct stix_pattern *p, uint32_t i)
{
    const struct sp_cnode *c = &p->cn[i];
    if (c->kind == CN_AND)
        return false;
    if (c->kind == CN_OR) {
        for (uint32_t k = 0; k < c->n; k++)
            if (!simple_tree(p, p->ckids[c->a + k]))
                return false;
        return true;
    }
    const struct sp_test *t = &p->tests[c->a];
    if (t->negated || t->prop == SP_PROP_NONE)
        return false;
    int ioc = sp_props[t->prop].ioc;
    if (ioc < 0)
        return false;
    /* an address inside a network is what an IP indicator with a prefix
     * matches, so ISSUBSET on an address path is a value too */
    if (t->op != OP_EQ && t->op != OP_IN && !(t->op == OP_ISSUBSET && ioc == IOC_IP))
        return false;
    for (uint32_t k = 0; k < t->nc; k++) {
        const struct sp_const *kc = &p->consts[t->c0 + k];
        if (kc->type != CT_STR)
            return false;
    }
    return true;
}

int stix_pattern_simple_values(const struct stix_pattern *p,
                               void (*cb)(void *opaque, enum ioc_type t, const char *v, size_t n),
                               void *opaque)
{
    const struct sp_onode *root = &p->on[p->oroot];
    if (root->kind != ON_LEAF)
        return 0;
    const struct sp_leaf *L = &p->leaves[root->a];
    if (!simple_tree(p, L->croot))
        return 0;
    /* the values as written, and each a valid indicator */
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t ti = L->t0; ti < L->t0 + L->nt; ti++) {
            const struct sp_test *t = &p->tests[ti];
            enum ioc_type ty = (enum ioc_type)sp_props[t->prop].ioc;
            for (uint32_t k = 0; k < t->nc; k++) {
                const struct sp_const *kc = &p->consts[t->c0 + k];
                const char *v = kc->raw;
                size_t vn = kc->rawn;
                if (pass == 0) {
                    char stackbuf[512];
                    char *buf = vn + 64 <= sizeof(stackbuf) ? stackbuf : malloc(vn + 64);
                    if (!buf)
                        abort();
                    const char *why;
                    int r = ioc_normalise(ty, v, vn, buf, &why);
                    if (buf != stackbuf)
                        free(buf);
                    if (r < 0)
                        return 0;
                } else {
                    cb(opaque, ty, v, vn);
                }
            }
        }
    return 1;
}

/* ---- one observation on one event --------------------------------------- */

bool stix_pattern_match_event(const struct stix_pattern *p, const struct event *ev)
{
    uint32_t i = p->oroot;
    for (;;) {
        const struct sp_onode *o = &p->on[i];
        if (o->kind == ON_WITHIN) {
            i = o->a;
        } else if (o->kind == ON_STARTSTOP) {
            if (ev->ts_ns == TIME_NONE || ev->ts_ns < o->start_ns || ev->ts_ns >= o->stop_ns)
                return false;
            i = o->a;
        } else if (o->kind == ON_LEAF) {
            break;
        } else {
            return false;
        }
    }
    struct sp_ctx c;
    sp_ctx_init(&c);
    sp_ctx_event(&c, ev);
    bool r = sp_eval_leaf(&c, p, p->on[i].a);
    sp_ctx_free(&c);
    return r;
}

/* ---- values for an index ------------------------------------------------ */

/* The indicator type the hunting index keys a test's path by, or -1: the
 * paths of stix_pattern_simple_values, and the network-traffic and
 * email-message references to the same addresses. */
static int index_type(const struct sp_test *t)
{
    if (t->prop == SP_PROP_NONE)
        return -1;
    const struct sp_prop *pr = &sp_props[t->prop];
    if (pr->ioc >= 0)
        return pr->ioc;
    static const struct {
        const char *path;
        int type;
    } refs[] = {
        {"network-traffic:src_ref.value", IOC_IP},
        {"network-traffic:dst_ref.value", IOC_IP},
        {"email-message:from_ref.value", IOC_EMAIL},
        {"email-message:sender_ref.value", IOC_EMAIL},
        {"email-message:to_refs.value", IOC_EMAIL},
        {"email-message:cc_refs.value", IOC_EMAIL},
        {"email-message:bcc_refs.value", IOC_EMAIL},
        {"user-account:user_id", IOC_ACCOUNT_KEY},
        {"user-account:account_login", IOC_ACCOUNT_KEY},
        {"process:creator_user_ref.user_id", IOC_ACCOUNT_KEY},
        {"process:creator_user_ref.account_login", IOC_ACCOUNT_KEY},
    };
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
        if (!strcmp(pr->path, refs[i].path))
            return refs[i].type;
    return -1;
}

/* A test's constant as a normalised indicator value into buf (cap >= rawn
 * + 64), or -1 when it is none. */
static int index_value(const struct sp_const *kc, int type, char *buf, const char **why)
{
    if (kc->type != CT_STR)
        return -1;
    return ioc_normalise((enum ioc_type)type, kc->raw, kc->rawn, buf, why);
}

/* Number of values that cover comparison node i (an event satisfies it
 * only if it holds one of them), or -1 when none do. */
static long index_count(const struct stix_pattern *p, uint32_t i)
{
    const struct sp_cnode *c = &p->cn[i];
    if (c->kind == CN_OR || c->kind == CN_AND) {
        long best = -1, sum = 0;
        for (uint32_t k = 0; k < c->n; k++) {
            long n = index_count(p, p->ckids[c->a + k]);
            if (c->kind == CN_OR && n < 0)
                return -1;
            sum += n;
            if (n >= 0 && (best < 0 || n < best))
                best = n;
        }
        return c->kind == CN_OR ? sum : best;
    }
    const struct sp_test *t = &p->tests[c->a];
    int type = index_type(t);
    if (t->negated || type < 0 || t->nc == 0)
        return -1;
    if (t->op != OP_EQ && t->op != OP_IN && !(t->op == OP_ISSUBSET && type == IOC_IP))
        return -1;
    for (uint32_t k = 0; k < t->nc; k++) {
        const struct sp_const *kc = &p->consts[t->c0 + k];
        char stackbuf[512];
        char *buf = kc->rawn + 64 <= sizeof(stackbuf) ? stackbuf : malloc(kc->rawn + 64);
        if (!buf)
            abort();
        const char *why;
        int r = index_value(kc, type, buf, &why);
        if (buf != stackbuf)
            free(buf);
        if (r < 0)
            return -1;
    }
    return (long)t->nc;
}

static void index_emit(const struct stix_pattern *p, uint32_t i,
                       void (*cb)(void *opaque, uint32_t obs, enum ioc_type t, const char *v,
                                  size_t n),
                       void *opaque, uint32_t obs)
{
    const struct sp_cnode *c = &p->cn[i];
    if (c->kind == CN_OR) {
        for (uint32_t k = 0; k < c->n; k++)
            index_emit(p, p->ckids[c->a + k], cb, opaque, obs);
        return;
    }
    if (c->kind == CN_AND) {
        long best = -1;
        uint32_t pick = 0;
        for (uint32_t k = 0; k < c->n; k++) {
            long n = index_count(p, p->ckids[c->a + k]);
            if (n >= 0 && (best < 0 || n < best)) {
                best = n;
                pick = p->ckids[c->a + k];
            }
        }
        index_emit(p, pick, cb, opaque, obs);
        return;
    }
    const struct sp_test *t = &p->tests[c->a];
    int type = index_type(t);
    for (uint32_t k = 0; k < t->nc; k++) {
        const struct sp_const *kc = &p->consts[t->c0 + k];
        char *buf = malloc(kc->rawn + 64);
        if (!buf)
            abort();
        const char *why;
        int n = index_value(kc, type, buf, &why);
        if (n >= 0)
            cb(opaque, obs, (enum ioc_type)type, buf, (size_t)n);
        free(buf);
    }
}

int stix_pattern_index_values(const struct stix_pattern *p,
                              void (*cb)(void *opaque, uint32_t obs, enum ioc_type t, const char *v,
                                         size_t n),
                              void *opaque)
{
    for (uint32_t l = 0; l < p->nleaves; l++)
        if (index_count(p, p->leaves[l].croot) < 0)
            return 0;
    for (uint32_t l = 0; l < p->nleaves; l++)
        index_emit(p, p->leaves[l].croot, cb, opaque, l);
    return 1;
}
