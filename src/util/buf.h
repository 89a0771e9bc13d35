/*
 * buf.h - growable byte buffer and the JSON writer built on it.
 *
 * Output paths (JSON lines, tables, SQLite documents) append into a struct buf
 * and flush it in large writes. The JSON string escaper is the one place where
 * outside bytes become JSON: invalid UTF-8 becomes U+FFFD and control bytes
 * (NUL included) become \u escapes, so every line kenchi writes is valid JSON
 * whatever the input was.
 */
#ifndef KENCHI_UTIL_BUF_H
#define KENCHI_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
    char *data; /* owned; NUL-terminated after every append */
    size_t len;
    size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
static inline void buf_clear(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}
/* The slow path of buf_reserve: grow the buffer. Aborts on OOM. */
void buf_grow(struct buf *b, size_t n);
/* Make room for n more bytes (plus the terminating NUL). Aborts on OOM.
 * Inline, like buf_putc and buf_append: JSON rendering calls them for
 * every token. */
static inline void buf_reserve(struct buf *b, size_t n)
{
    if (b->len + n + 1 > b->cap)
        buf_grow(b, n);
}
static inline void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        __builtin_memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}
static inline void buf_putc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_put_u64(struct buf *b, uint64_t v);
void buf_put_i64(struct buf *b, int64_t v);

/* Append s[0..n) as a quoted JSON string (always valid UTF-8 JSON). */
void json_put_string(struct buf *b, const char *s, size_t n);
/* Append the raw bytes s[0..n) if they form a valid JSON number, otherwise
 * as a JSON string. */
void json_put_number_text(struct buf *b, const char *s, size_t n);
/* True if s[0..n) is a JSON number literal. */
bool json_is_number(const char *s, size_t n);
/* Length of the valid UTF-8 sequence at s[0..n) (1..4; no overlongs, no
 * surrogates), or 0 if it is invalid or cut short. n must be at least 1. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

#endif
