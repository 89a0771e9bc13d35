/*
 * prom-text.c - the Prometheus text format reader (see prom-text.h).
 */
#include "daemon/prom-text.h"

#include <stdlib.h>
#include <string.h>

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* Scan a label set from p (just after '{') to its '}' within [p, end).
 * Returns the position of the '}' or NULL when malformed. */
static const char *scan_labels(const char *p, const char *end)
{
    for (;;) {
        while (p < end && (*p == ' ' || *p == ','))
            p++;
        if (p >= end)
            return NULL;
        if (*p == '}')
            return p;
        if (!name_start(*p))
            return NULL;
        while (p < end && name_char(*p))
            p++;
        if (p >= end || *p != '=' || p + 1 >= end || p[1] != '"')
            return NULL;
        p += 2;
        while (p < end && *p != '"') {
            if (*p == '\\') {
                if (p + 1 >= end)
                    return NULL;
                p++;
            }
            p++;
        }
        if (p >= end)
            return NULL;
        p++; /* closing quote */
        if (p < end && *p != ',' && *p != '}' && *p != ' ')
            return NULL;
    }
}

/* Parse one line (without its LF); false when malformed. */
static bool parse_line(const char *p, const char *end, struct prom_sample *s)
{
    if (p >= end || !name_start(*p))
        return false;
    s->name = p;
    while (p < end && name_char(*p))
        p++;
    s->name_len = (size_t)(p - s->name);
    if (s->name_len > PROM_MAX_NAME)
        return false;
    s->labels = p;
    s->labels_len = 0;
    if (p < end && *p == '{') {
        const char *close = scan_labels(p + 1, end);
        if (!close || (size_t)(close - p - 1) > PROM_MAX_LABELS)
            return false;
        s->labels = p + 1;
        s->labels_len = (size_t)(close - p - 1);
        p = close + 1;
    }
    if (p >= end || (*p != ' ' && *p != '\t'))
        return false;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *v = p;
    while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
        p++;
    size_t vl = (size_t)(p - v);
    char num[64];
    if (vl == 0 || vl >= sizeof(num))
        return false;
    memcpy(num, v, vl);
    num[vl] = 0;
    char *stop;
    s->value = strtod(num, &stop);
    if (*stop)
        return false;
    /* an optional timestamp, ignored */
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p < end && *p == '-')
        p++;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    return p == end;
}

size_t prom_parse(const char *text, size_t n, prom_sample_fn fn, void *opaque)
{
    size_t bad = 0;
    const char *p = text, *end = text + n;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        const char *le = lf ? lf : end;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t'))
            q++;
        if (q < le && *q != '#' && !(le - q == 1 && *q == '\r')) {
            struct prom_sample s;
            if (parse_line(q, le, &s))
                fn(opaque, &s);
            else
                bad++;
        }
        p = lf ? lf + 1 : end;
    }
    return bad;
}

bool prom_label(const struct prom_sample *s, const char *key, char *out, size_t outn)
{
    size_t kl = strlen(key);
    const char *p = s->labels, *end = s->labels + s->labels_len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ','))
            p++;
        const char *k = p;
        while (p < end && *p != '=')
            p++;
        bool match = (size_t)(p - k) == kl && !memcmp(k, key, kl);
        if (p + 1 >= end)
            return false;
        p += 2; /* '="' */
        size_t o = 0;
        while (p < end && *p != '"') {
            char ch = *p;
            if (ch == '\\' && p + 1 < end) {
                p++;
                ch = *p == 'n' ? '\n' : *p;
            }
            if (match && o + 1 < outn)
                out[o++] = ch;
            p++;
        }
        p++;
        if (match) {
            if (outn)
                out[o] = 0;
            return true;
        }
    }
    return false;
}

bool prom_is(const struct prom_sample *s, const char *name)
{
    size_t l = strlen(name);
    return s->name_len == l && !memcmp(s->name, name, l);
}
