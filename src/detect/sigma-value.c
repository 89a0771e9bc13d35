/*
 * sigma-value.c - value modifiers: from "field|mod|mod: values" in YAML to
 * compiled matchers, and the matching primitives they use.
 *
 * Compilation works on a "Sigma string": the value's bytes with a kind per
 * byte (literal, '*' wildcard, '?' wildcard, windash class). It follows the
 * specification's order: escapes and wildcards are read first (or
 * placeholders expanded, with |expand), then the modifiers transform the
 * value in the order written (windash, encodings), then the match mode
 * (contains / startswith / endswith) adds wildcards around it, and finally
 * the result is classified into the cheapest matcher: exact, prefix, suffix,
 * substring, or a token glob. Type modifiers (re, cidr, lt/gt..., time
 * parts, exists, fieldref) compile into their own matcher kinds.
 *
 * The modifier table below is the one place a modifier is named; the
 * combination rules are checked in check_mods().
 *
 * Case: matching is case-insensitive by default: literals are stored
 * case-folded (util/casefold.h: ASCII and the two-byte UTF-8 letters, Latin,
 * Greek, Cyrillic, Armenian) and compared with the event value folded once
 * per event (sigma-eval.c). Folding keeps byte lengths, so offsets agree.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sigma-model.h"
#include "util/casefold.h"
#include "util/timeconv.h"

enum mod {
    M_CONTAINS,
    M_STARTSWITH,
    M_ENDSWITH,
    M_ALL,
    M_EXISTS,
    M_CASED,
    M_NEQ,
    M_WINDASH,
    M_RE,
    M_RE_I,
    M_RE_M,
    M_RE_S,
    M_BASE64,
    M_BASE64OFFSET,
    M_UTF16LE,
    M_UTF16BE,
    M_UTF16,
    M_LT,
    M_LTE,
    M_GT,
    M_GTE,
    M_MINUTE,
    M_HOUR,
    M_DAY,
    M_WEEK,
    M_MONTH,
    M_YEAR,
    M_CIDR,
    M_EXPAND,
    M_FIELDREF,
    M__COUNT
};

static const struct {
    const char *name;
    enum mod mod;
} modifiers[] = {
    {"contains", M_CONTAINS},
    {"startswith", M_STARTSWITH},
    {"endswith", M_ENDSWITH},
    {"all", M_ALL},
    {"exists", M_EXISTS},
    {"cased", M_CASED},
    {"neq", M_NEQ},
    {"windash", M_WINDASH},
    {"re", M_RE},
    {"i", M_RE_I},
    {"ignorecase", M_RE_I},
    {"m", M_RE_M},
    {"multiline", M_RE_M},
    {"s", M_RE_S},
    {"dotall", M_RE_S},
    {"base64", M_BASE64},
    {"base64offset", M_BASE64OFFSET},
    {"utf16le", M_UTF16LE},
    {"wide", M_UTF16LE},
    {"utf16be", M_UTF16BE},
    {"utf16", M_UTF16},
    {"lt", M_LT},
    {"lte", M_LTE},
    {"gt", M_GT},
    {"gte", M_GTE},
    {"minute", M_MINUTE},
    {"hour", M_HOUR},
    {"day", M_DAY},
    {"week", M_WEEK},
    {"month", M_MONTH},
    {"year", M_YEAR},
    {"cidr", M_CIDR},
    {"expand", M_EXPAND},
    {"fieldref", M_FIELDREF},
};

#define MAX_MODS      16
#define MAX_EXPANSION 4096

/* Byte kinds of a Sigma string. */
enum { SB_LIT, SB_STAR, SB_ONE, SB_DASH };

struct sstr {
    char *b;
    uint8_t *k;
    size_t n, cap;
};

static void ss_push(struct sstr *s, char c, uint8_t kind)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char *b = realloc(s->b, cap);
        uint8_t *k = realloc(s->k, cap);
        if (!b || !k) {
            fprintf(stderr, "kenchi: out of memory\n");
            abort();
        }
        s->b = b;
        s->k = k;
        s->cap = cap;
    }
    s->b[s->n] = c;
    s->k[s->n++] = kind;
}

static void ss_free(struct sstr *s)
{
    free(s->b);
    free(s->k);
    memset(s, 0, sizeof(*s));
}

static bool ss_has_wild(const struct sstr *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->k[i] != SB_LIT)
            return true;
    return false;
}

/* Read Sigma string text: '\' escapes '*', '?' and '\'; any other
 * backslash is literal. Appends to out. */
static void ss_parse(struct sstr *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\' && i + 1 < n && (p[i + 1] == '*' || p[i + 1] == '?' || p[i + 1] == '\\')) {
            ss_push(out, p[++i], SB_LIT);
        } else if (c == '*') {
            ss_push(out, c, SB_STAR);
        } else if (c == '?') {
            ss_push(out, c, SB_ONE);
        } else {
            ss_push(out, c, SB_LIT);
        }
    }
}

static bool word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}

/* windash: a '-' or '/' at the start of a word (preceded by a non-word
 * character or the start, followed by a word character) matches any of the
 * five dash characters. */
static void ss_windash(struct sstr *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->k[i] != SB_LIT || (s->b[i] != '-' && s->b[i] != '/'))
            continue;
        bool prev_word = i > 0 && s->k[i - 1] == SB_LIT && word_byte((unsigned char)s->b[i - 1]);
        bool next_word =
            i + 1 < s->n && s->k[i + 1] == SB_LIT && word_byte((unsigned char)s->b[i + 1]);
        if (!prev_word && next_word)
            s->k[i] = SB_DASH;
    }
}

/* Decode one UTF-8 code point at p (n bytes left); invalid bytes are read
 * as Latin-1. Returns the length consumed. */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xE0) == 0xC0 ? 2
                 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4
                                      : 0;
    if (len <= 1 || len > n) {
        *cp = c;
        return 1;
    }
    uint32_t v = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *cp = c;
            return 1;
        }
        v = v << 6 | (p[i] & 0x3F);
    }
    *cp = v;
    return len;
}

static void ss_set_bytes(struct sstr *s, const unsigned char *b, size_t n)
{
    s->n = 0;
    for (size_t i = 0; i < n; i++)
        ss_push(s, (char)b[i], SB_LIT);
}

enum { UTF16_LE, UTF16_BE, UTF16_BOM };

static void ss_utf16(struct sstr *s, int how)
{
    size_t n = s->n;
    unsigned char *src = malloc(n + 1);
    unsigned char *dst = malloc(n * 4 + 4);
    if (!src || !dst) {
        fprintf(stderr, "kenchi: out of memory\n");
        abort();
    }
    memcpy(src, s->b, n);
    size_t o = 0;
    if (how == UTF16_BOM) {
        dst[o++] = 0xFF;
        dst[o++] = 0xFE;
    }
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += utf8_next(src + i, n - i, &cp);
        uint16_t units[2];
        int nu = 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units[0] = (uint16_t)(0xD800 | (cp >> 10));
            units[1] = (uint16_t)(0xDC00 | (cp & 0x3FF));
            nu = 2;
        } else {
            units[0] = (uint16_t)cp;
        }
        for (int u = 0; u < nu; u++) {
            if (how == UTF16_BE) {
                dst[o++] = (unsigned char)(units[u] >> 8);
                dst[o++] = (unsigned char)(units[u] & 0xFF);
            } else {
                dst[o++] = (unsigned char)(units[u] & 0xFF);
                dst[o++] = (unsigned char)(units[u] >> 8);
            }
        }
    }
    ss_set_bytes(s, dst, o);
    free(src);
    free(dst);
}

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = tbl[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

/* base64 (variant -1) or base64offset variant 0..2: the value shifted by
 * `variant` leading bytes, encoded, with the bytes that depend on the
 * unknown neighbours cut off at both ends. */
static void ss_base64(struct sstr *s, int variant)
{
    size_t shift = variant < 0 ? 0 : (size_t)variant;
    size_t n = s->n + shift;
    unsigned char *src = malloc(n + 1);
    char *dst = malloc(n / 3 * 4 + 8);
    if (!src || !dst) {
        fprintf(stderr, "kenchi: out of memory\n");
        abort();
    }
    memset(src, ' ', shift);
    memcpy(src + shift, s->b, s->n);
    size_t len = b64_encode(src, n, dst);
    size_t start = 0, end = len;
    if (variant >= 0) {
        static const size_t start_off[3] = {0, 2, 3};
        static const size_t end_cut[3] = {0, 3, 2};
        start = start_off[variant];
        size_t cut = end_cut[(s->n + shift) % 3];
        end = len >= cut ? len - cut : 0;
        if (start > end)
            start = end;
    }
    ss_set_bytes(s, (const unsigned char *)dst + start, end - start);
    free(src);
    free(dst);
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* The name's bytes without spaces, ASCII-folded, are taken 8 at a time
 * (little-endian, the last word zero-padded): most names have no space and
 * are read a word at a time, folded with word arithmetic. */
static inline uint64_t name_mix(uint64_t h, uint64_t w)
{
    return (h ^ w) * 0x9E3779B97F4A7C15ull;
}

static inline uint64_t fold_word(uint64_t x)
{
    uint64_t low7 = x & 0x7f7f7f7f7f7f7f7full;
    uint64_t upper = ~x & (low7 + 0x3f3f3f3f3f3f3f3full) & ~(low7 + 0x2525252525252525ull) &
                     0x8080808080808080ull; /* 0x80 in each byte 'A'..'Z' */
    return x | upper >> 2;
}

static inline uint64_t load_le(const char *p, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)(unsigned char)p[i] << (8 * i);
    return x;
}

uint32_t field_name_hash(const char *s, size_t n)
{
    uint64_t h = 0x243F6A8885A308D3ull;
    if (!memchr(s, ' ', n)) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            w = __builtin_bswap64(w);
#endif
            h = name_mix(h, fold_word(w));
        }
        if (i < n)
            h = name_mix(h, fold_word(load_le(s + i, n - i)));
    } else { /* "Threat Name" is ThreatName to a rule */
        uint64_t w = 0;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (s[i] == ' ')
                continue;
            w |= (uint64_t)(unsigned char)lower(s[i]) << (8 * k);
            if (++k == 8) {
                h = name_mix(h, w);
                w = 0;
                k = 0;
            }
        }
        if (k)
            h = name_mix(h, w);
    }
    h ^= h >> 32;
    return (uint32_t)h;
}

static int errf(struct sv_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int errf(struct sv_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, SIGMA_ERR_MAX, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Offset of the byte of s least likely to occur in log text, for
 * find_anchored(): letters rare in English and paths before common ones,
 * punctuation and spaces last. */
static uint32_t rare_byte(const char *s, size_t n)
{
    static const char common[] = " \\etaoinsrhldcu.-/:_mpfgwybv0123456789k\"=,";
    uint32_t best = 0;
    int best_rank = -1;
    for (size_t i = 0; i < n; i++) {
        const char *p = memchr(common, lower(s[i]), sizeof(common) - 1);
        int rank = p ? (int)(sizeof(common) - (size_t)(p - common)) : 1000;
        if (rank > best_rank) {
            best_rank = rank;
            best = (uint32_t)i;
        }
    }
    return best;
}

/* Turn a finished Sigma string into a matcher: exact / prefix / suffix /
 * contains when it is one literal between optional stars, else a glob. */
static void finish_string(struct sv_ctx *c, struct sstr *s, bool cased, struct sigma_value *v)
{
    size_t i = 0, e = s->n;
    bool lead = false, trail = false;
    while (i < e && s->k[i] == SB_STAR) {
        lead = true;
        i++;
    }
    while (e > i && s->k[e - 1] == SB_STAR) {
        trail = true;
        e--;
    }
    bool simple = true;
    for (size_t j = i; j < e; j++)
        if (s->k[j] != SB_LIT)
            simple = false;
    char *buf = arena_alloc(c->arena, s->n + 1);
    for (size_t j = 0; j < s->n; j++)
        buf[j] = cased ? s->b[j] : lower(s->b[j]);
    buf[s->n] = '\0';
    /* case folding of the two-byte characters of the literal runs (the
     * wildcards and windash classes around them are ASCII) */
    for (size_t j = 0; !cased && j + 1 < s->n; j++)
        if ((unsigned char)buf[j] >= 0x80 && s->k[j] == SB_LIT && s->k[j + 1] == SB_LIT) {
            size_t k = j + 2;
            while (k < s->n && (unsigned char)buf[k] >= 0x80 && s->k[k] == SB_LIT)
                k++;
            casefold_utf8(buf + j, buf + j, k - j);
            j = k - 1;
        }
    v->cased = cased;
    if (simple) {
        v->s = buf + i;
        v->n = (uint32_t)(e - i);
        v->kind = lead && trail ? SV_CONTAINS : lead ? SV_SUFFIX : trail ? SV_PREFIX : SV_EXACT;
        if ((lead || trail) && e == i)
            v->kind = SV_CONTAINS; /* "*" alone: any value */
        v->anchor = rare_byte(v->s, v->n);
        return;
    }
    /* tokens: runs of literals, and one token per wildcard (stars merged) */
    struct glob_tok *t = arena_alloc(c->arena, (s->n + 1) * sizeof(*t));
    uint32_t nt = 0;
    for (size_t j = 0; j < s->n;) {
        if (s->k[j] == SB_LIT) {
            size_t k = j;
            while (k < s->n && s->k[k] == SB_LIT)
                k++;
            t[nt++] = (struct glob_tok){GT_LIT, (uint32_t)j, (uint32_t)(k - j)};
            j = k;
        } else {
            uint8_t kind = s->k[j] == SB_STAR ? GT_STAR : s->k[j] == SB_ONE ? GT_ONE : GT_DASH;
            if (!(kind == GT_STAR && nt && t[nt - 1].kind == GT_STAR))
                t[nt++] = (struct glob_tok){kind, (uint32_t)j, 1};
            j++;
        }
    }
    v->kind = SV_GLOB;
    v->s = buf;
    v->n = (uint32_t)s->n;
    v->toks = t;
    v->ntoks = nt;
}

/* A regex with a group that repeats without bound and itself contains an
 * unbounded repetition ("(a+)+", "(.*a)*") can backtrack exponentially:
 * refuse it at load time. Atomic groups and possessive quantifiers are
 * safe and allowed. */
static bool re_nested_quantifier(const char *p, size_t n)
{
    bool inner[256] = {false}; /* per open group: contains an unbounded repeat */
    bool atomic[256] = {false};
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\\') {
            i++;
            continue;
        }
        if (c == '[') {
            i++;
            if (i < n && p[i] == '^')
                i++;
            if (i < n && p[i] == ']')
                i++;
            while (i < n && p[i] != ']') {
                if (p[i] == '\\')
                    i++;
                i++;
            }
            continue;
        }
        if (c == '(') {
            if (depth < 255) {
                depth++;
                inner[depth] = false;
                atomic[depth] = i + 2 < n && p[i + 1] == '?' && p[i + 2] == '>';
            }
            continue;
        }
        bool unbounded = false;
        size_t q = i;
        if (c == '*' || c == '+') {
            unbounded = true;
        } else if (c == '{') {
            size_t j = i + 1;
            while (j < n && p[j] >= '0' && p[j] <= '9')
                j++;
            if (j < n && p[j] == ',' && j + 1 < n && p[j + 1] == '}')
                unbounded = true;
            while (j < n && p[j] != '}')
                j++;
            q = j;
        }
        bool possessive = q + 1 < n && p[q + 1] == '+';
        if (c == ')') {
            bool had = depth > 0 && inner[depth] && !atomic[depth];
            if (depth > 0)
                depth--;
            size_t j = i + 1;
            bool rep = false;
            if (j < n && (p[j] == '*' || p[j] == '+'))
                rep = true;
            else if (j < n && p[j] == '{') {
                size_t k = j + 1;
                while (k < n && p[k] >= '0' && p[k] <= '9')
                    k++;
                rep = k < n && p[k] == ',' && k + 1 < n && p[k + 1] == '}';
            }
            if (rep && had)
                return true;
            if (had && depth > 0)
                inner[depth] = true;
            continue;
        }
        if (unbounded && !possessive && depth > 0)
            inner[depth] = true;
    }
    return false;
}

/* A pattern flagged by re_nested_quantifier() is tried on subjects made
 * to trigger backtracking: each literal character of the pattern (and a few
 * common ones) repeated, then a byte that matches nothing. A pattern that
 * runs into the match limit on such a short subject would do so on real
 * events: returns the character that triggered it, or 0. */
static char re_backtracks(pcre2_code *re, const char *pat, size_t n)
{
    char cand[64];
    size_t nc = 0;
    const char *extra = "a0 \\\"')/-.x";
    for (size_t i = 0; i < n + strlen(extra) && nc < sizeof(cand); i++) {
        char ch = i < n ? pat[i] : extra[i - n];
        if (i < n && strchr("()[]{}*+?|^$.", ch))
            continue;
        if (!memchr(cand, ch, nc))
            cand[nc++] = ch;
    }
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    char found = 0;
    if (mc && md) {
        pcre2_set_match_limit(mc, SIGMA_RE_MATCH_LIMIT);
        pcre2_set_depth_limit(mc, SIGMA_RE_DEPTH_LIMIT);
        char subj[66];
        for (size_t i = 0; i < nc && !found; i++) {
            memset(subj, cand[i], 64);
            subj[64] = '\x01';
            int rc = pcre2_match(re, (PCRE2_SPTR)subj, 65, 0, 0, md, mc);
            if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                rc == PCRE2_ERROR_JIT_STACKLIMIT)
                found = cand[i] ? cand[i] : '?';
        }
    }
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    return found;
}

/* Does the pattern set option letter opt inline, "(?i)" or "(?-x:..."? */
bool regex_inline_flag(const char *pat, uint32_t n, char opt)
{
    for (uint32_t i = 0; i + 2 < n; i++) {
        if (pat[i] == '\\') {
            i++;
            continue;
        }
        if (pat[i] != '(' || pat[i + 1] != '?')
            continue;
        for (uint32_t j = i + 2; j < n && pat[j] != ')' && pat[j] != ':'; j++)
            if (pat[j] == opt)
                return true;
    }
    return false;
}

/* What every match of re contains, from PCRE2's own analysis: a byte (its
 * last fixed code unit, else its first; a letter only when the pattern can
 * have no caseless part) and a length. Matching tests them before running
 * the regex: a subject without the byte, or shorter, cannot match. */
static void regex_needs(pcre2_code *re, bool maybe_caseless, struct sigma_value *v)
{
    v->re_need = -1;
    pcre2_pattern_info(re, PCRE2_INFO_MINLENGTH, &v->re_min);
    static const uint32_t what[2][2] = {{PCRE2_INFO_LASTCODETYPE, PCRE2_INFO_LASTCODEUNIT},
                                        {PCRE2_INFO_FIRSTCODETYPE, PCRE2_INFO_FIRSTCODEUNIT}};
    for (int k = 0; k < 2 && v->re_need < 0; k++) {
        uint32_t type = 0, unit = 0;
        if (pcre2_pattern_info(re, what[k][0], &type) != 0 || type != 1 ||
            pcre2_pattern_info(re, what[k][1], &unit) != 0 || unit >= 0x80)
            continue;
        bool letter = (unit | 32) >= 'a' && (unit | 32) <= 'z';
        if (!letter || !maybe_caseless)
            v->re_need = (int16_t)unit;
    }
}

static int compile_regex(struct sv_ctx *c, const char *pat, size_t n, bool ci, bool ml, bool dotall,
                         struct sigma_value *v)
{
    bool suspicious = re_nested_quantifier(pat, n);
    uint32_t flags = PCRE2_MATCH_INVALID_UTF | PCRE2_UCP;
    if (ci)
        flags |= PCRE2_CASELESS;
    if (ml)
        flags |= PCRE2_MULTILINE;
    if (dotall)
        flags |= PCRE2_DOTALL;
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, n, flags, &ec, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        return errf(c, "invalid regular expression at offset %zu: %s", (size_t)off,
                    (const char *)msg);
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter if no JIT */
    char trigger = suspicious ? re_backtracks(re, pat, n) : 0;
    if (trigger) {
        pcre2_code_free(re);
        return errf(c,
                    "regular expression '%.*s' nests unbounded repetitions and backtracks "
                    "catastrophically (a run of '%c' exhausts the match limit); rewrite it "
                    "without the nesting",
                    (int)(n > 80 ? 80 : n), pat, trigger);
    }
    pcre2_code **codes = realloc(*c->codes, (*c->ncodes + 1) * sizeof(*codes));
    if (!codes) {
        pcre2_code_free(re);
        return -ENOMEM;
    }
    *c->codes = codes;
    codes[(*c->ncodes)++] = re;
    v->kind = SV_RE;
    v->re = re;
    regex_needs(re, ci || regex_inline_flag(pat, (uint32_t)n, 'i'), v);
    v->s = arena_strndup(c->arena, pat, n); /* the prefilter reads its literals */
    v->n = (uint32_t)n;
    return 0;
}

static int parse_cidr(struct sv_ctx *c, const char *s, size_t n, struct sigma_value *v)
{
    char buf[64];
    if (n >= sizeof(buf))
        return errf(c, "'%.*s' is not a CIDR range", (int)(n > 60 ? 60 : n), s);
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        char *end;
        *slash = '\0';
        prefix = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1)
            return errf(c, "'%s/%s' is not a CIDR range", buf, slash + 1);
    }
    if (inet_pton(AF_INET, buf, v->addr) == 1) {
        v->family = 4;
        if (prefix < 0)
            prefix = 32;
        if (prefix > 32)
            return errf(c, "CIDR prefix /%ld is longer than 32 bits", prefix);
    } else if (inet_pton(AF_INET6, buf, v->addr) == 1) {
        v->family = 6;
        if (prefix < 0)
            prefix = 128;
        if (prefix > 128)
            return errf(c, "CIDR prefix /%ld is longer than 128 bits", prefix);
    } else {
        return errf(c, "'%.*s' is not a CIDR range (IPv4 or IPv6 address, optional /prefix)",
                    (int)n, s);
    }
    v->prefix = (uint8_t)prefix;
    v->kind = SV_CIDR;
    return 0;
}

/* Placeholder expansion: "%name%" is replaced by each of the name's values
 * (cartesian product over several placeholders); "\%" is a plain '%'.
 * Results are Sigma string texts, pushed to out[]. Returns the count, or -1
 * when a placeholder is not defined (recorded in ctx). */
static int expand_placeholders(struct sv_ctx *c, const char *p, size_t n, char ***out, size_t *nout)
{
    char **cur = malloc(sizeof(char *));
    size_t ncur = 1;
    cur[0] = strdup("");
    int rc = 0;
    size_t i = 0;
    while (i < n && rc == 0) {
        const char *lit_add = NULL;
        size_t lit_n = 0;
        const struct ph_entry *ph = NULL;
        if (p[i] == '\\' && i + 1 < n && p[i + 1] == '%') {
            lit_add = "%";
            lit_n = 1;
            i += 2;
        } else if (p[i] == '%') {
            size_t j = i + 1;
            while (j < n && p[j] != '%' && p[j] != ' ')
                j++;
            if (j < n && p[j] == '%' && j > i + 1) {
                size_t nl = j - i - 1;
                for (uint32_t k = 0; c->ph && k < c->ph->n; k++)
                    if (strlen(c->ph->e[k].name) == nl && !memcmp(c->ph->e[k].name, p + i + 1, nl))
                        ph = &c->ph->e[k];
                if (!ph) {
                    if (c->needs_placeholder && !*c->needs_placeholder) {
                        char *name = arena_alloc(c->arena, nl + 3);
                        snprintf(name, nl + 3, "%%%.*s%%", (int)nl, p + i + 1);
                        *c->needs_placeholder = name;
                    }
                    rc = -1;
                    break;
                }
                i = j + 1;
            } else {
                lit_add = p + i;
                lit_n = 1;
                i++;
            }
        } else {
            lit_add = p + i;
            lit_n = 1;
            i++;
        }
        if (lit_add) {
            for (size_t k = 0; k < ncur; k++) {
                size_t l = strlen(cur[k]);
                char *nn = realloc(cur[k], l + lit_n + 1);
                if (!nn)
                    abort();
                memcpy(nn + l, lit_add, lit_n);
                nn[l + lit_n] = '\0';
                cur[k] = nn;
            }
            continue;
        }
        size_t nnext = ncur * (ph->n ? ph->n : 0);
        if (nnext > MAX_EXPANSION) {
            rc = errf(c, "placeholder expansion gives more than %d values", MAX_EXPANSION);
            break;
        }
        char **next = malloc((nnext ? nnext : 1) * sizeof(char *));
        size_t o = 0;
        for (size_t k = 0; k < ncur; k++) {
            for (uint32_t m = 0; m < ph->n; m++) {
                size_t l = strlen(cur[k]), vl = strlen(ph->vals[m]);
                next[o] = malloc(l + vl + 1);
                memcpy(next[o], cur[k], l);
                memcpy(next[o] + l, ph->vals[m], vl + 1);
                o++;
            }
            free(cur[k]);
        }
        free(cur);
        cur = next;
        ncur = o;
    }
    if (rc) {
        for (size_t k = 0; k < ncur; k++)
            free(cur[k]);
        free(cur);
        return rc;
    }
    *out = cur;
    *nout = ncur;
    return 0;
}

struct modset {
    bool has[M__COUNT];
    enum mod order[MAX_MODS]; /* as written */
    int n;
};

static const char *mod_name(enum mod m)
{
    for (size_t i = 0; i < sizeof(modifiers) / sizeof(modifiers[0]); i++)
        if (modifiers[i].mod == m)
            return modifiers[i].name;
    return "?";
}

static int check_mods(struct sv_ctx *c, const struct modset *ms)
{
    const bool *h = ms->has;
    int modes = h[M_CONTAINS] + h[M_STARTSWITH] + h[M_ENDSWITH];
    int cmps = h[M_LT] + h[M_LTE] + h[M_GT] + h[M_GTE];
    int parts = h[M_MINUTE] + h[M_HOUR] + h[M_DAY] + h[M_WEEK] + h[M_MONTH] + h[M_YEAR];
    bool enc = h[M_BASE64] || h[M_BASE64OFFSET] || h[M_UTF16LE] || h[M_UTF16BE] || h[M_UTF16];
    if (modes > 1)
        return errf(c, "only one of contains, startswith and endswith may be used");
    if (h[M_BASE64] && h[M_BASE64OFFSET])
        return errf(c, "base64 and base64offset exclude each other");
    if (cmps > 1)
        return errf(c, "only one of lt, lte, gt and gte may be used");
    if (parts > 1)
        return errf(c, "only one time part modifier (minute, hour, day, week, month, year) "
                       "may be used");
    if ((h[M_RE_I] || h[M_RE_M] || h[M_RE_S]) && !h[M_RE])
        return errf(c, "the i, m and s modifiers apply to re only");
    if (h[M_RE] && (modes || enc || h[M_WINDASH] || cmps || parts || h[M_CIDR] || h[M_EXPAND] ||
                    h[M_FIELDREF] || h[M_EXISTS]))
        return errf(c, "re cannot be combined with string, encoding or type modifiers");
    if (h[M_EXISTS] && ms->n > 1)
        return errf(c, "exists cannot be combined with other modifiers");
    if (cmps && (modes || enc || h[M_WINDASH] || h[M_CIDR] || h[M_FIELDREF] || h[M_EXPAND]))
        return errf(c, "numeric comparisons (lt, lte, gt, gte) take a number, not a string "
                       "modifier");
    if (h[M_CIDR] && (modes || enc || h[M_WINDASH] || parts || h[M_FIELDREF]))
        return errf(c, "cidr cannot be combined with string or encoding modifiers");
    if (h[M_FIELDREF] && (enc || h[M_WINDASH] || parts || h[M_EXPAND]))
        return errf(c, "fieldref combines only with contains, startswith, endswith, cased, "
                       "neq and all");
    if (parts && (modes || enc || h[M_WINDASH]))
        return errf(c, "time part modifiers take a number");
    return 0;
}

/* Compile one YAML value of an item into out[] (one or more alternatives,
 * which get the same group number). */
static int compile_one(struct sv_ctx *c, const struct modset *ms, const struct ynode *vn,
                       bool keyword, struct sigma_value **vals, uint32_t *nvals, uint32_t *cap)
{
    const bool *h = ms->has;
#define NEWVAL()                                                                                   \
    ({                                                                                             \
        if (*nvals == *cap) {                                                                      \
            uint32_t nc = *cap ? *cap * 2 : 4;                                                     \
            struct sigma_value *nv = arena_alloc(c->arena, nc * sizeof(*nv));                      \
            if (*nvals)                                                                            \
                memcpy(nv, *vals, *nvals * sizeof(*nv));                                           \
            *vals = nv;                                                                            \
            *cap = nc;                                                                             \
        }                                                                                          \
        struct sigma_value *v_ = &(*vals)[(*nvals)++];                                             \
        memset(v_, 0, sizeof(*v_));                                                                \
        v_;                                                                                        \
    })
    if (vn->kind != YNODE_SCALAR)
        return errf(c, "a value must be a scalar, found %s", ynode_kind_name(vn));
    const char *s = vn->scalar.s;
    size_t n = vn->scalar.n;

    if (h[M_EXISTS]) {
        bool b;
        if (!ynode_bool(vn, &b))
            return errf(c, "exists takes true or false, not '%.*s'", (int)(n > 40 ? 40 : n), s);
        struct sigma_value *v = NEWVAL();
        v->kind = SV_EXISTS;
        v->num = b;
        return 0;
    }
    if (ynode_is_null(vn)) {
        if (keyword)
            return errf(c, "a keyword cannot be null");
        struct sigma_value *v = NEWVAL();
        v->kind = SV_NULL;
        return 0;
    }
    int cmp = h[M_LT] ? CMP_LT : h[M_LTE] ? CMP_LTE : h[M_GT] ? CMP_GT : h[M_GTE] ? CMP_GTE : -1;
    int part = h[M_MINUTE]  ? PART_MINUTE
               : h[M_HOUR]  ? PART_HOUR
               : h[M_DAY]   ? PART_DAY
               : h[M_WEEK]  ? PART_WEEK
               : h[M_MONTH] ? PART_MONTH
               : h[M_YEAR]  ? PART_YEAR
                            : -1;
    if (cmp >= 0 || part >= 0) {
        double d;
        char tmp[64];
        bool ok = ynode_float(vn, &d);
        if (!ok && n < sizeof(tmp)) { /* a quoted number is still a number */
            memcpy(tmp, s, n);
            tmp[n] = '\0';
            ok = parse_number(tmp, n, &d);
        }
        if (!ok)
            return errf(c, "%s takes a number, not '%.*s'",
                        part >= 0 ? "a time part modifier" : "a numeric comparison",
                        (int)(n > 40 ? 40 : n), s);
        struct sigma_value *v = NEWVAL();
        v->kind = part >= 0 ? SV_TIMEPART : SV_NUM;
        v->cmp = (uint8_t)(cmp >= 0 ? cmp : CMP_EQ);
        v->part = (uint8_t)(part >= 0 ? part : 0);
        v->num = d;
        return 0;
    }
    if (h[M_RE]) {
        struct sigma_value *v = NEWVAL();
        return compile_regex(c, s, n, h[M_RE_I], h[M_RE_M], h[M_RE_S], v);
    }
    if (h[M_CIDR]) {
        struct sigma_value *v = NEWVAL();
        return parse_cidr(c, s, n, v);
    }
    if (h[M_FIELDREF]) {
        struct sigma_value *v = NEWVAL();
        v->kind = SV_FIELDREF;
        v->s = arena_strndup(c->arena, s, n);
        v->n = (uint32_t)n;
        v->ref_hash = field_name_hash(s, n);
        v->cased = h[M_CASED];
        v->mode = h[M_CONTAINS]     ? SV_CONTAINS
                  : h[M_STARTSWITH] ? SV_PREFIX
                  : h[M_ENDSWITH]   ? SV_SUFFIX
                                    : SV_EXACT;
        return 0;
    }

    /* string values: Sigma strings (one, or several after |expand) */
    char **texts = NULL;
    size_t ntexts = 0;
    char *single[1];
    if (h[M_EXPAND]) {
        int rc = expand_placeholders(c, s, n, &texts, &ntexts);
        if (rc == -1) {
            struct sigma_value *v = NEWVAL();
            v->kind = SV_NOTHING;
            return 0;
        }
        if (rc < 0)
            return rc;
    } else {
        single[0] = (char *)s;
        texts = single;
        ntexts = 1;
    }
    int rc = 0;
    double numval = 0;
    bool numeric = !h[M_EXPAND] && !h[M_CONTAINS] && !h[M_STARTSWITH] && !h[M_ENDSWITH] &&
                   !keyword && ms->n == (h[M_CASED] + h[M_ALL] + h[M_NEQ]) &&
                   ynode_float(vn, &numval);
    for (size_t t = 0; t < ntexts && rc == 0; t++) {
        struct sstr base = {0};
        ss_parse(&base, texts[t], texts == single ? n : strlen(texts[t]));
        /* transformations, in the order written; base64offset multiplies */
        struct sstr vars[3] = {0};
        int nvars = 1;
        vars[0] = base;
        memset(&base, 0, sizeof(base));
        for (int m = 0; m < ms->n && rc == 0; m++) {
            enum mod md = ms->order[m];
            bool encoding = md == M_BASE64 || md == M_BASE64OFFSET || md == M_UTF16LE ||
                            md == M_UTF16BE || md == M_UTF16;
            if (encoding && ss_has_wild(&vars[0])) {
                rc = errf(c,
                          "%s cannot encode a value with wildcards ('%.*s'); escape them "
                          "with '\\'",
                          mod_name(md), (int)(n > 60 ? 60 : n), s);
                break;
            }
            switch (md) {
            case M_WINDASH:
                for (int k = 0; k < nvars; k++)
                    ss_windash(&vars[k]);
                break;
            case M_UTF16LE:
            case M_UTF16BE:
            case M_UTF16:
                for (int k = 0; k < nvars; k++)
                    ss_utf16(&vars[k], md == M_UTF16LE   ? UTF16_LE
                                       : md == M_UTF16BE ? UTF16_BE
                                                         : UTF16_BOM);
                break;
            case M_BASE64:
                for (int k = 0; k < nvars; k++)
                    ss_base64(&vars[k], -1);
                break;
            case M_BASE64OFFSET:
                if (nvars == 1) {
                    for (int k = 1; k < 3; k++) {
                        ss_set_bytes(&vars[k], (const unsigned char *)vars[0].b, vars[0].n);
                        ss_base64(&vars[k], k);
                    }
                    ss_base64(&vars[0], 0);
                    nvars = 3;
                }
                break;
            default:
                break;
            }
        }
        for (int k = 0; k < nvars; k++) {
            if (rc == 0) {
                struct sstr *vs = &vars[k];
                struct sstr full = {0};
                bool pre = h[M_CONTAINS] || h[M_ENDSWITH] || keyword;
                bool post = h[M_CONTAINS] || h[M_STARTSWITH] || keyword;
                if (pre)
                    ss_push(&full, '*', SB_STAR);
                for (size_t j = 0; j < vs->n; j++)
                    ss_push(&full, vs->b[j], vs->k[j]);
                if (post)
                    ss_push(&full, '*', SB_STAR);
                struct sigma_value *v = NEWVAL();
                finish_string(c, &full, h[M_CASED], v);
                if (numeric && v->kind == SV_EXACT) {
                    v->numeric = true;
                    v->num = numval;
                }
                ss_free(&full);
            }
            ss_free(&vars[k]);
        }
    }
    if (texts != single) {
        for (size_t t = 0; t < ntexts; t++)
            free(texts[t]);
        free(texts);
    }
#undef NEWVAL
    return rc;
}

int sigma_item_compile(struct sv_ctx *c, const char *key, size_t keylen,
                       const struct ynode *valnode, bool keyword, struct sigma_item *out,
                       const struct ynode **where)
{
    memset(out, 0, sizeof(*out));
    *where = NULL; /* errors in the key point at the key */
    struct modset ms = {0};
    const char *bar = memchr(key, '|', keylen);
    size_t flen = bar ? (size_t)(bar - key) : keylen;
    if (!keyword && flen == 0)
        keyword = true;
    if (!keyword) {
        out->field = arena_strndup(c->arena, key, flen);
        out->field_len = (uint32_t)flen;
        out->field_hash = field_name_hash(key, flen);
    }
    const char *p = bar;
    while (p && p < key + keylen) {
        const char *m = p + 1;
        const char *e = memchr(m, '|', (size_t)(key + keylen - m));
        if (!e)
            e = key + keylen;
        size_t ml = (size_t)(e - m);
        int found = -1;
        for (size_t i = 0; i < sizeof(modifiers) / sizeof(modifiers[0]); i++)
            if (strlen(modifiers[i].name) == ml && !memcmp(modifiers[i].name, m, ml))
                found = (int)modifiers[i].mod;
        if (found < 0)
            return errf(c, "unknown modifier '%.*s'", (int)(ml > 40 ? 40 : ml), m);
        if (ms.has[found])
            return errf(c, "modifier '%.*s' given twice", (int)ml, m);
        if (ms.n == MAX_MODS)
            return errf(c, "too many modifiers");
        ms.has[found] = true;
        ms.order[ms.n++] = (enum mod)found;
        p = e;
    }
    int rc = check_mods(c, &ms);
    if (rc)
        return rc;
    *where = valnode;
    out->all = ms.has[M_ALL];
    out->neq = ms.has[M_NEQ];
    if (keyword && (ms.has[M_EXISTS] || ms.has[M_FIELDREF] || ms.has[M_CIDR] || ms.has[M_NEQ] ||
                    ms.has[M_LT] || ms.has[M_LTE] || ms.has[M_GT] || ms.has[M_GTE]))
        return errf(c, "keywords (values without a field) take only string modifiers");
    uint32_t cap = 0;
    if (valnode->kind == YNODE_SEQ) {
        if (ms.has[M_EXISTS])
            return errf(c, "exists takes a single true or false");
        if (valnode->seq.n == 0) {
            /* an empty list matches nothing */
            out->vals = arena_alloc(c->arena, sizeof(*out->vals));
            memset(out->vals, 0, sizeof(*out->vals));
            out->vals[0].kind = SV_NOTHING;
            out->nvals = 1;
            return 0;
        }
        for (size_t i = 0; i < valnode->seq.n; i++) {
            uint32_t before = out->nvals;
            *where = valnode->seq.items[i];
            if (ynode_is_null(valnode->seq.items[i]) && valnode->seq.n > 1)
                return errf(c, "null cannot be part of a list of values; write a separate "
                               "selection with 'field: null'");
            rc = compile_one(c, &ms, valnode->seq.items[i], keyword, &out->vals, &out->nvals, &cap);
            if (rc)
                return rc;
            /* alternatives from one YAML value (base64offset, expand) form
             * a group: |all needs one match per group */
            for (uint32_t k = before; k < out->nvals; k++)
                out->vals[k].group = (uint32_t)i;
        }
    } else if (valnode->kind == YNODE_SCALAR) {
        rc = compile_one(c, &ms, valnode, keyword, &out->vals, &out->nvals, &cap);
        if (rc)
            return rc;
    } else {
        return errf(c, "the value of '%.*s' must be a scalar or a list, found %s",
                    (int)(keylen > 60 ? 60 : keylen), key, ynode_kind_name(valnode));
    }
    *where = valnode;
    return 0;
}

/* ---- matching primitives ------------------------------------------------ */

static size_t dash_at(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == '-' || c == '/')
        return 1;
    /* U+2013 en dash, U+2014 em dash, U+2015 horizontal bar */
    if (c == 0xE2 && i + 2 < n + 0 && (unsigned char)s[i + 1] == 0x80) {
        unsigned char d = (unsigned char)s[i + 2];
        if (d == 0x93 || d == 0x94 || d == 0x95)
            return 3;
    }
    return 0;
}

static size_t one_char_at(const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80             ? 1
                 : (c & 0xE0) == 0xC0 ? 2
                 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4
                                      : 1;
    if (i + len > n)
        len = 1;
    for (size_t k = 1; k < len; k++)
        if (((unsigned char)s[i + k] & 0xC0) != 0x80)
            return 1;
    return len;
}

/* Does token t match at s[i..]? Sets *adv to the bytes it covers. */
static bool tok_at(const struct sigma_value *v, const struct glob_tok *t, const char *s, size_t n,
                   size_t i, size_t *adv)
{
    switch (t->kind) {
    case GT_LIT:
        if (n - i < t->len || memcmp(s + i, v->s + t->off, t->len))
            return false;
        *adv = t->len;
        return true;
    case GT_ONE:
        if (i >= n)
            return false;
        *adv = one_char_at(s, n, i);
        return true;
    case GT_DASH:
        if (i >= n)
            return false;
        *adv = dash_at(s, n, i);
        return *adv != 0;
    default:
        return false;
    }
}

bool glob_match(const struct sigma_value *v, const char *s, size_t n)
{
    const struct glob_tok *t = v->toks;
    uint32_t nt = v->ntoks, ti = 0;
    size_t si = 0, star_si = 0;
    uint32_t star_ti = UINT32_MAX;
    for (;;) {
        if (ti < nt) {
            if (t[ti].kind == GT_STAR) {
                star_ti = ti++;
                star_si = si;
                /* jump to the next occurrence of a following literal */
                if (ti < nt && t[ti].kind == GT_LIT) {
                    const char *hit = memmem(s + si, n - si, v->s + t[ti].off, t[ti].len);
                    if (!hit)
                        return false;
                    si = (size_t)(hit - s);
                    star_si = si;
                }
                continue;
            }
            size_t adv;
            if (tok_at(v, &t[ti], s, n, si, &adv)) {
                ti++;
                si += adv;
                continue;
            }
        } else if (si == n) {
            return true;
        }
        if (star_ti == UINT32_MAX || star_si >= n)
            return false;
        si = ++star_si;
        ti = star_ti + 1;
        if (ti < nt && t[ti].kind == GT_LIT) {
            const char *hit = memmem(s + si, n - si, v->s + t[ti].off, t[ti].len);
            if (!hit)
                return false;
            si = star_si = (size_t)(hit - s);
        }
    }
}

/* Substring search: memchr for the needle's rarest byte, then compare the
 * whole needle around it. Cheaper than a general memmem for the short
 * needles of rules, which usually fail at the memchr. */
const char *find_anchored(const char *hay, size_t n, const char *needle, size_t len, size_t anchor)
{
    if (len > n)
        return NULL;
    const char c = needle[anchor];
    const char *p = hay + anchor;
    const char *end = hay + (n - len) + anchor + 1; /* last anchor position + 1 */
    while (p < end) {
        p = memchr(p, c, (size_t)(end - p));
        if (!p)
            return NULL;
        if (!memcmp(p - anchor, needle, len))
            return p - anchor;
        p++;
    }
    return NULL;
}

bool parse_number(const char *s, size_t n, double *out)
{
    char buf[64];
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (!n || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    if (n > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
        unsigned long long v = strtoull(buf + 2, &end, 16);
        if (*end || end == buf + 2)
            return false;
        *out = (double)v;
        return true;
    }
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c >= '0' && c <= '9')
            digit = true;
        else if (c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E')
            return false;
    }
    if (!digit)
        return false;
    double d = strtod(buf, &end);
    if (*end)
        return false;
    *out = d;
    return true;
}

bool date_part(const char *s, size_t n, uint8_t part, double *out)
{
    int64_t t;
    if (time_parse_iso(s, n, NULL, &t) == 0)
        return false;
    int64_t secs = t / NS_PER_SEC - (t % NS_PER_SEC < 0);
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    int64_t sod = secs - days * 86400;
    /* civil date from days (proleptic Gregorian) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    switch (part) {
    case PART_MINUTE:
        *out = (double)((sod / 60) % 60);
        break;
    case PART_HOUR:
        *out = (double)(sod / 3600);
        break;
    case PART_DAY:
        *out = (double)d;
        break;
    case PART_WEEK: {
        /* ISO 8601 week number */
        int64_t wday = ((days % 7) + 7 + 3) % 7; /* Monday = 0 */
        int64_t thursday = days - wday + 3;
        int64_t jan1 = days_from_civil(time_year(thursday * 86400 * NS_PER_SEC), 1, 1);
        *out = (double)((thursday - jan1) / 7 + 1);
        break;
    }
    case PART_MONTH:
        *out = (double)m;
        break;
    default:
        *out = (double)y;
    }
    return true;
}

bool ip_parse(const char *s, size_t n, struct ip_addr *ip)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *pct = strchr(buf, '%'); /* IPv6 zone id */
    if (pct)
        *pct = '\0';
    ip->has4 = inet_pton(AF_INET, buf, ip->a4) == 1;
    ip->has6 = !ip->has4 && inet_pton(AF_INET6, buf, ip->a6) == 1;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (ip->has6 && !memcmp(ip->a6, mapped, 12)) { /* IPv4-mapped IPv6 */
        ip->has4 = true;
        memcpy(ip->a4, ip->a6 + 12, 4);
    }
    return ip->has4 || ip->has6;
}

bool cidr_match_ip(const struct sigma_value *v, const struct ip_addr *ip)
{
    const uint8_t *addr = v->family == 4 ? ip->a4 : ip->a6;
    if (!(v->family == 4 ? ip->has4 : ip->has6))
        return false;
    unsigned full = v->prefix / 8, rest = v->prefix % 8;
    if (memcmp(addr, v->addr, full))
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xFF << (8 - rest));
        if ((addr[full] & mask) != (v->addr[full] & mask))
            return false;
    }
    return true;
}

bool cidr_match(const struct sigma_value *v, const char *s, size_t n)
{
    struct ip_addr ip;
    return ip_parse(s, n, &ip) && cidr_match_ip(v, &ip);
}

static bool cmp_num(double a, uint8_t cmp, double b)
{
    switch (cmp) {
    case CMP_LT:
        return a < b;
    case CMP_LTE:
        return a <= b;
    case CMP_GT:
        return a > b;
    case CMP_GTE:
        return a >= b;
    default:
        return a == b;
    }
}

bool sv_match_string(const struct sigma_value *v, const char *raw, size_t rn, const char *low,
                     size_t ln, struct re_state *rs)
{
    const char *s = v->cased ? raw : low;
    size_t n = v->cased ? rn : ln;
    switch (v->kind) {
    case SV_EXACT: {
        if (n == v->n && !memcmp(s, v->s, n))
            return true;
        if (!v->numeric || !rn)
            return false;
        /* a decimal without leading zeros that differs in text differs in value */
        bool canonical = raw[0] != '0' || rn == 1;
        for (size_t i = 0; i < rn && canonical; i++)
            canonical = (raw[i] >= '0' && raw[i] <= '9') || (i == 0 && raw[i] == '-');
        double d;
        return !canonical && parse_number(raw, rn, &d) && d == v->num;
    }
    case SV_PREFIX:
        return n >= v->n && !memcmp(s, v->s, v->n);
    case SV_SUFFIX:
        return n >= v->n && !memcmp(s + n - v->n, v->s, v->n);
    case SV_CONTAINS:
        return v->n == 0 || find_anchored(s, n, v->s, v->n, v->anchor) != NULL;
    case SV_GLOB:
        return glob_match(v, s, n);
    case SV_RE: {
        if (rn < v->re_min || (v->re_need >= 0 && !memchr(raw, v->re_need, rn)))
            return false; /* what every match contains is not there */
        int rc = pcre2_match(v->re, (PCRE2_SPTR)raw, rn, 0, 0, rs->md, rs->mc);
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
            rs->errors++; /* limit hit or bad subject: counted, no match */
        return rc >= 0;
    }
    case SV_CIDR:
        return cidr_match(v, raw, rn);
    case SV_NUM: {
        double d;
        return parse_number(raw, rn, &d) && cmp_num(d, v->cmp, v->num);
    }
    case SV_TIMEPART: {
        double d;
        return date_part(raw, rn, v->part, &d) && cmp_num(d, v->cmp, v->num);
    }
    default:
        return false;
    }
}
