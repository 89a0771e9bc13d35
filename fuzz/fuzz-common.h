/*
 * fuzz-common.h - what kenchi's libFuzzer targets share.
 *
 * Every target is generic over the registry tables (decoders[],
 * syslog_apps[]), so a decoder added to decode/registry.c is fuzzed without
 * touching fuzz/. Besides the sanitizers' own checks, the targets hold the
 * decoded event to kenchi's output contract: event_to_json() must produce
 * exactly one line of valid JSON (UTF-8, escaped control characters, proper
 * nesting) whatever the input was. fuzz_check_json() is a small strict
 * validator for that; it aborts (a finding) on the first violation.
 *
 * Inputs that the code under test reads from a file are handed over through
 * a memfd and its /proc/self/fd path, so no target touches the disk.
 */
#ifndef KENCHI_FUZZ_COMMON_H
#define KENCHI_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "decode/decode.h"
#include "event/event.h"
#include "util/buf.h"

/* Fixed reference time (2024-03-05T00:00:00Z) for RFC 3164 year inference,
 * so that a finding replays the same way on any day. */
#define FUZZ_REF_TIME_NS (1709596800LL * NS_PER_SEC)

static inline void fuzz_fail(const char *what, const char *text, size_t n)
{
    fprintf(stderr, "fuzz: %s in output: %.*s\n", what, (int)(n > 2000 ? 2000 : n), text);
    abort();
}

/* Strict JSON validator over s[*i..n); returns false at the first error. */
static inline bool fj_value(const char *s, size_t n, size_t *i, int depth);

static inline void fj_ws(const char *s, size_t n, size_t *i)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
        (*i)++;
}

static inline bool fj_string(const char *s, size_t n, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    if (*i >= n || s[*i] != '"')
        return false;
    (*i)++;
    while (*i < n) {
        unsigned char c = u[*i];
        if (c == '"') {
            (*i)++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (*i + 1 >= n)
                return false;
            char e = s[*i + 1];
            if (e == 'u') {
                if (*i + 6 > n)
                    return false;
                for (int k = 2; k < 6; k++) {
                    char h = s[*i + k];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F')))
                        return false;
                }
                *i += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return false;
            *i += 2;
            continue;
        }
        if (c < 0x80) {
            (*i)++;
            continue;
        }
        /* UTF-8: well-formed, no overlongs, no surrogates */
        size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xF0 && c <= 0xF4 ? 4
                                              : 0;
        if (!len || *i + len > n)
            return false;
        for (size_t k = 1; k < len; k++)
            if ((u[*i + k] & 0xC0) != 0x80)
                return false;
        if ((c == 0xE0 && u[*i + 1] < 0xA0) || (c == 0xED && u[*i + 1] >= 0xA0) ||
            (c == 0xF0 && u[*i + 1] < 0x90) || (c == 0xF4 && u[*i + 1] >= 0x90))
            return false;
        *i += len;
    }
    return false;
}

static inline bool fj_number(const char *s, size_t n, size_t *i)
{
    size_t j = *i;
    if (j < n && s[j] == '-')
        j++;
    if (j >= n)
        return false;
    if (s[j] == '0') {
        j++;
    } else if (s[j] >= '1' && s[j] <= '9') {
        while (j < n && s[j] >= '0' && s[j] <= '9')
            j++;
    } else {
        return false;
    }
    if (j < n && s[j] == '.') {
        j++;
        if (j >= n || s[j] < '0' || s[j] > '9')
            return false;
        while (j < n && s[j] >= '0' && s[j] <= '9')
            j++;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j >= n || s[j] < '0' || s[j] > '9')
            return false;
        while (j < n && s[j] >= '0' && s[j] <= '9')
            j++;
    }
    *i = j;
    return true;
}

static inline bool fj_value(const char *s, size_t n, size_t *i, int depth)
{
    if (depth > 200)
        return false;
    fj_ws(s, n, i);
    if (*i >= n)
        return false;
    char c = s[*i];
    if (c == '"')
        return fj_string(s, n, i);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        (*i)++;
        fj_ws(s, n, i);
        if (*i < n && s[*i] == close) {
            (*i)++;
            return true;
        }
        for (;;) {
            if (c == '{') {
                fj_ws(s, n, i);
                if (!fj_string(s, n, i))
                    return false;
                fj_ws(s, n, i);
                if (*i >= n || s[*i] != ':')
                    return false;
                (*i)++;
            }
            if (!fj_value(s, n, i, depth + 1))
                return false;
            fj_ws(s, n, i);
            if (*i >= n)
                return false;
            if (s[*i] == ',') {
                (*i)++;
                continue;
            }
            if (s[*i] == close) {
                (*i)++;
                return true;
            }
            return false;
        }
    }
    static const char *const lits[] = {"true", "false", "null"};
    for (size_t k = 0; k < 3; k++) {
        size_t l = strlen(lits[k]);
        if (n - *i >= l && !memcmp(s + *i, lits[k], l)) {
            *i += l;
            return true;
        }
    }
    return fj_number(s, n, i);
}

/* Render ev and check it is one line holding one valid JSON object. */
static inline void fuzz_check_event(const struct event *ev)
{
    struct buf b;
    buf_init(&b);
    event_to_json(ev, &b);
    size_t i = 0;
    if (memchr(b.data, '\n', b.len) || memchr(b.data, '\r', b.len))
        fuzz_fail("line break", b.data, b.len);
    if (b.len == 0 || b.data[0] != '{' || !fj_value(b.data, b.len, &i, 0))
        fuzz_fail("invalid JSON", b.data, b.len);
    fj_ws(b.data, b.len, &i);
    if (i != b.len)
        fuzz_fail("trailing bytes", b.data, b.len);
    buf_free(&b);
}

/* Put data in an anonymous memory file. Returns the fd (the caller closes
 * it) and its path in path[], or -1. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char path[64])
{
    int fd = memfd_create("kenchi-fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

/* Number of rows of a NULL-terminated registry table. */
#define FUZZ_TABLE_LEN(tab, out)                                                                   \
    do {                                                                                           \
        size_t n_ = 0;                                                                             \
        while ((tab)[n_])                                                                          \
            n_++;                                                                                  \
        (out) = n_;                                                                                \
    } while (0)

/* What the pipeline does with a record no decoder understood: keep only
 * the raw text (see make_unparsed() in pipeline/pipeline.c). */
static inline void fuzz_make_unparsed(struct event *ev)
{
    struct str raw = ev->raw;
    const char *file = ev->file;
    uint64_t line = ev->line;
    event_init(ev, ev->arena);
    ev->raw = raw;
    ev->message = raw;
    ev->file = file;
    ev->line = line;
}

/* Copy data into an exact-size heap block (no terminator), so that a
 * decoder reading past the end of a record is caught by ASan. */
static inline char *fuzz_exact_copy(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    if (!p)
        abort();
    if (size)
        memcpy(p, data, size);
    return p;
}

/* Keep the process zone fixed so that findings replay anywhere. */
static inline void fuzz_init_tz(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
}

#endif
