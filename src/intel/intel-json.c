/*
 * intel-json.c - see intel-json.h.
 */
#include "intel/intel-json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct intel_json_limits intel_json_limits_of(const struct intel_json_limits *l)
{
    struct intel_json_limits r = {INTEL_JSON_MAX_BYTES_DEFAULT, INTEL_JSON_MAX_DEPTH_DEFAULT};
    if (l && l->max_bytes)
        r.max_bytes = l->max_bytes;
    if (l && l->max_depth > 0)
        r.max_depth = l->max_depth > 2000 ? 2000 : l->max_depth;
    return r;
}

int intel_file_load(const char *path, size_t max_bytes, char **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return -EISDIR;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes) {
        close(fd);
        return -EFBIG;
    }
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 64 * 1024;
    char *b = malloc(cap);
    size_t len = 0;
    if (!b) {
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > max_bytes + 1) {
                free(b);
                close(fd);
                return -EFBIG;
            }
            size_t nc = cap * 2;
            char *nb = realloc(b, nc);
            if (!nb) {
                free(b);
                close(fd);
                return -ENOMEM;
            }
            b = nb;
            cap = nc;
        }
        ssize_t r = read(fd, b + len, cap - len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            free(b);
            close(fd);
            return e;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > max_bytes) {
            free(b);
            close(fd);
            return -EFBIG;
        }
    }
    close(fd);
    b[len] = '\0';
    *out = b;
    *n = len;
    return 0;
}

size_t intel_json_skip_ws(const char *s, size_t n, size_t i)
{
    if (i == 0 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Index just past the string token at s[i] == '"', or 0 if it is cut. */
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

/* Index just past the value at s[i], or 0 if it is malformed or cut short.
 * Nesting deeper than max_depth sets *too_deep (the end is still found:
 * the count is a counter, not recursion). */
static size_t value_end(const char *s, size_t n, size_t i, int max_depth, bool *too_deep)
{
    if (i >= n)
        return 0;
    char c = s[i];
    if (c == '"')
        return string_end(s, n, i);
    if (c == '{' || c == '[') {
        long depth = 0;
        while (i < n) {
            c = s[i];
            if (c == '"') {
                i = string_end(s, n, i);
                if (!i)
                    return 0;
                continue;
            }
            if (c == '{' || c == '[') {
                if (++depth > max_depth && too_deep)
                    *too_deep = true;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
            i++;
        }
        return 0;
    }
    size_t b = i;
    while (i < n && !strchr(",}] \t\r\n:[{\"", s[i]))
        i++;
    return i > b ? i : 0;
}

int intel_json_member(const char *s, size_t n, size_t i, const char *key, size_t *val)
{
    size_t klen = strlen(key);
    if (i >= n || s[i] != '{')
        return -EINVAL;
    i++;
    for (bool first = true;; first = false) {
        i = intel_json_skip_ws(s, n, i);
        if (i >= n)
            return -EINVAL;
        if (s[i] == '}')
            return -ENOENT;
        if (!first) {
            if (s[i] != ',')
                return -EINVAL;
            i = intel_json_skip_ws(s, n, i + 1);
        }
        if (i >= n || s[i] != '"')
            return -EINVAL;
        size_t ke = string_end(s, n, i);
        if (!ke)
            return -EINVAL;
        bool match = ke - i - 2 == klen && !memcmp(s + i + 1, key, klen);
        i = intel_json_skip_ws(s, n, ke);
        if (i >= n || s[i] != ':')
            return -EINVAL;
        i = intel_json_skip_ws(s, n, i + 1);
        if (match) {
            *val = i;
            return 0;
        }
        size_t ve = value_end(s, n, i, 1 << 30, NULL);
        if (!ve)
            return -EINVAL;
        i = ve;
    }
}

int intel_json_array_open(struct intel_json_cursor *c, const char *s, size_t n, size_t i,
                          int max_depth)
{
    memset(c, 0, sizeof(*c));
    if (i >= n || s[i] != '[')
        return -EINVAL;
    c->s = s;
    c->n = n;
    c->i = i + 1;
    c->line = intel_json_line_of(s, n, i);
    c->line_at = i;
    c->max_depth = max_depth;
    c->first = true;
    return 0;
}

static void count_lines(struct intel_json_cursor *c, size_t upto)
{
    const char *p = c->s + c->line_at, *e = c->s + upto;
    while (p < e && (p = memchr(p, '\n', (size_t)(e - p)))) {
        c->line++;
        p++;
    }
    c->line_at = upto;
}

int intel_json_array_next(struct intel_json_cursor *c, struct intel_json_elem *e)
{
    memset(e, 0, sizeof(*e));
    if (c->over)
        return 0;
    size_t i = intel_json_skip_ws(c->s, c->n, c->i);
    if (i < c->n && c->s[i] == ']') {
        c->over = true;
        return 0;
    }
    if (!c->first) {
        if (i >= c->n || c->s[i] != ',')
            goto bad;
        i = intel_json_skip_ws(c->s, c->n, i + 1);
    }
    c->first = false;
    count_lines(c, i < c->n ? i : c->n);
    e->off = i;
    e->line = c->line;
    e->index = c->index;
    size_t end = value_end(c->s, c->n, i, c->max_depth, &e->too_deep);
    if (!end)
        goto bad;
    e->len = end - i;
    c->i = end;
    c->index++;
    return 1;
bad:
    count_lines(c, i < c->n ? i : c->n);
    e->off = i;
    e->line = c->line;
    e->index = c->index;
    c->over = true;
    return -EINVAL;
}

json_t *intel_json_parse(const char *s, size_t n, int max_depth, size_t first_line, char *why,
                         size_t whylen)
{
    size_t i = intel_json_skip_ws(s, n, 0);
    bool deep = false;
    size_t end = max_depth > 0 ? value_end(s, n, i, max_depth, &deep) : 0;
    if (end && deep) {
        snprintf(why, whylen, "nested deeper than %d levels", max_depth);
        return NULL;
    }
    json_error_t err;
    json_t *v = json_loadb(s + i, n - i, JSON_DECODE_ANY, &err);
    if (!v) {
        snprintf(why, whylen, "invalid JSON at line %zu column %d: %s",
                 first_line + intel_json_line_of(s, n, i) - 1 +
                     (size_t)(err.line > 0 ? err.line - 1 : 0),
                 err.column, err.text);
        return NULL;
    }
    return v;
}

size_t intel_json_line_of(const char *s, size_t n, size_t off)
{
    size_t line = 1;
    const char *p = s, *e = s + (off < n ? off : n);
    while (p < e && (p = memchr(p, '\n', (size_t)(e - p)))) {
        line++;
        p++;
    }
    return line;
}

const char *intel_json_str(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long long intel_json_int(const json_t *obj, const char *key, long long def)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v)) {
        const char *p = json_string_value(v);
        if (!*p || strlen(p) > 18)
            return def;
        long long r = 0;
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                return def;
            r = r * 10 + (*p - '0');
        }
        return r;
    }
    return def;
}

void intel_jlist_init(struct intel_jlist *l, struct arena *a)
{
    memset(l, 0, sizeof(*l));
    l->arena = a;
}

void intel_jlist_add(struct intel_jlist *l, const char *s, size_t n)
{
    if (l->n >= INTEL_JLIST_MAX)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (l->len[i] == n && !memcmp(l->item[i], s, n))
            return;
    l->item[l->n] = arena_strndup(l->arena, s, n);
    l->len[l->n++] = n;
}

void intel_jlist_add_all(struct intel_jlist *l, const struct intel_jlist *from)
{
    for (size_t i = 0; i < from->n; i++)
        intel_jlist_add(l, from->item[i], from->len[i]);
}

const char *intel_jlist_json(const struct intel_jlist *l)
{
    if (!l->n)
        return NULL;
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < l->n; i++) {
        buf_putc(&b, i ? ',' : '[');
        json_put_string(&b, l->item[i], l->len[i]);
    }
    buf_putc(&b, ']');
    const char *r = arena_strndup(l->arena, b.data, b.len);
    buf_free(&b);
    return r;
}
