/*
 * json-scan.c - see json-scan.h.
 *
 * Values are skipped with a bracket counter rather than by recursion, so a
 * hostile nesting depth costs nothing but time linear in its length. The
 * counter does not check that brackets pair up by kind; the text was
 * validated by json_flatten() before any decoder walks it, and on
 * unvalidated text the worst outcome is an odd slice, never a read out of
 * bounds.
 */
#include "decode/json-scan.h"
#include "util/utf8.h"

#include <errno.h>
#include <string.h>

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Index just past the string token starting at s[i] == '"', or 0. */
static size_t string_end(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return 0;
}

/* Index just past the value starting at s[i], or 0 if it is malformed. */
static size_t value_end(const char *s, size_t n, size_t i)
{
    if (i >= n)
        return 0;
    char c = s[i];
    if (c == '"')
        return string_end(s, n, i);
    if (c == '{' || c == '[') {
        size_t depth = 0;
        while (i < n) {
            c = s[i];
            if (c == '"') {
                i = string_end(s, n, i);
                if (!i)
                    return 0;
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
            i++;
        }
        return 0;
    }
    size_t b = i;
    while (i < n && !strchr(",}] \t\r\n:", s[i]))
        i++;
    return i > b ? i : 0;
}

int json_iter_init(struct json_iter *it, struct str v)
{
    size_t i = skip_ws(v.p, v.n, 0);
    size_t e = v.n;
    while (e > i &&
           (v.p[e - 1] == ' ' || v.p[e - 1] == '\t' || v.p[e - 1] == '\n' || v.p[e - 1] == '\r'))
        e--;
    if (i >= e || (v.p[i] != '[' && v.p[i] != '{'))
        return -EINVAL;
    it->s = v.p;
    it->n = e;
    it->close = v.p[i] == '[' ? ']' : '}';
    it->i = i + 1;
    it->first = true;
    it->over = false;
    it->end = 0;
    return 0;
}

int json_iter_next(struct json_iter *it, struct str *key, struct str *val)
{
    if (it->over)
        return it->end; /* the walk is over: say so again */
    const char *s = it->s;
    size_t n = it->n;
    size_t i = skip_ws(s, n, it->i);
    if (i >= n)
        goto bad;
    if (s[i] == it->close) {
        it->over = true;
        return 0;
    }
    if (!it->first) {
        if (s[i] != ',')
            goto bad;
        i = skip_ws(s, n, i + 1);
    }
    it->first = false;
    if (it->close == '}') {
        if (i >= n || s[i] != '"')
            goto bad;
        size_t ke = string_end(s, n, i);
        if (!ke)
            goto bad;
        if (key)
            *key = str_make(s + i, ke - i);
        i = skip_ws(s, n, ke);
        if (i >= n || s[i] != ':')
            goto bad;
        i = skip_ws(s, n, i + 1);
    }
    size_t ve = value_end(s, n, i);
    if (!ve)
        goto bad;
    *val = str_make(s + i, ve - i);
    it->i = ve;
    return 1;
bad:
    it->over = true;
    it->end = -EINVAL;
    return -EINVAL;
}

enum value_type json_raw_type(struct str v)
{
    if (!v.n)
        return VT_NULL;
    switch (v.p[0]) {
    case '"':
        return VT_STRING;
    case '{':
    case '[':
        return VT_JSON;
    case 't':
    case 'f':
        return VT_BOOL;
    case 'n':
        return VT_NULL;
    default:
        return VT_NUMBER;
    }
}

/* Four hex digits at s[i..i+4) (i + 4 <= n checked by the caller). */
static long hex4(const char *s)
{
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hex_digit(s[k]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

int json_string_decode(struct arena *a, struct str tok, struct str *out)
{
    if (tok.n < 2 || tok.p[0] != '"' || tok.p[tok.n - 1] != '"')
        return -EINVAL;
    const char *s = tok.p + 1;
    size_t n = tok.n - 2;
    if (!memchr(s, '\\', n)) {
        *out = str_make(s, n);
        return 0;
    }
    /* every escape shrinks or keeps its length: \uXXXX (6) -> at most 3
     * bytes, a surrogate pair (12) -> 4 */
    char *o = arena_alloc(a, n + 1);
    size_t ol = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            o[ol++] = s[i];
            continue;
        }
        if (++i >= n)
            return -EINVAL;
        switch (s[i]) {
        case '"':
        case '\\':
        case '/':
            o[ol++] = s[i];
            break;
        case 'b':
            o[ol++] = '\b';
            break;
        case 'f':
            o[ol++] = '\f';
            break;
        case 'n':
            o[ol++] = '\n';
            break;
        case 'r':
            o[ol++] = '\r';
            break;
        case 't':
            o[ol++] = '\t';
            break;
        case 'u': {
            if (i + 5 > n)
                return -EINVAL;
            long cp = hex4(s + i + 1);
            if (cp < 0)
                return -EINVAL;
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 7 <= n && s[i + 1] == '\\' && s[i + 2] == 'u') {
                long lo = hex4(s + i + 3);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD;
            ol += utf8_put(o + ol, (uint32_t)cp);
            break;
        }
        default:
            return -EINVAL;
        }
    }
    o[ol] = '\0';
    *out = str_make(o, ol);
    return 0;
}

int json_value_decode(struct arena *a, struct str raw, struct str *out, enum value_type *type)
{
    *type = json_raw_type(raw);
    if (*type == VT_STRING)
        return json_string_decode(a, raw, out);
    *out = raw;
    return 0;
}

bool json_key_is(struct str key, const char *lit)
{
    size_t l = strlen(lit);
    return key.n == l + 2 && key.p[0] == '"' && !memcmp(key.p + 1, lit, l) && key.p[l + 1] == '"';
}
