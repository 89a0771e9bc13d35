/*
 * reader.c - see reader.h.
 *
 * Both readers work over one buffer of READ_CHUNK bytes plus the partial
 * record carried over from the previous read; a record larger than the
 * buffer grows it up to max_record and no further.
 */
#include "source/reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK (1024 * 1024)

struct rbuf {
    char *data;
    size_t len; /* valid bytes */
    size_t pos; /* start of the unconsumed part */
    size_t cap;
    uint64_t base_offset; /* stream offset of data[0] */
    int eof;
};

static int rbuf_fill(struct input *in, struct rbuf *b, size_t max_cap)
{
    if (b->pos > 0) {
        memmove(b->data, b->data + b->pos, b->len - b->pos);
        b->len -= b->pos;
        b->base_offset += b->pos;
        b->pos = 0;
    }
    if (b->cap - b->len < READ_CHUNK / 2 && b->cap < max_cap) {
        size_t ncap = b->cap * 2;
        if (ncap > max_cap)
            ncap = max_cap;
        char *p = realloc(b->data, ncap);
        if (!p)
            return -ENOMEM;
        b->data = p;
        b->cap = ncap;
    }
    if (b->len == b->cap)
        return 0; /* full: the caller must consume or cut */
    ssize_t r = input_read(in, b->data + b->len, b->cap - b->len);
    if (r < 0)
        return (int)r;
    if (r == 0)
        b->eof = 1;
    b->len += (size_t)r;
    return 0;
}

static int rbuf_init(struct rbuf *b)
{
    memset(b, 0, sizeof(*b));
    b->cap = READ_CHUNK;
    b->data = malloc(b->cap);
    return b->data ? 0 : -ENOMEM;
}

int reader_lines(struct input *in, size_t max_record, record_fn fn, void *opaque)
{
    struct rbuf b;
    if (rbuf_init(&b) < 0)
        return -ENOMEM;
    size_t max_cap = max_record + READ_CHUNK;
    uint64_t line = 1;
    int skipping = 0; /* inside the tail of a truncated line */
    int rc = 0;
    for (;;) {
        char *nl = b.pos < b.len ? memchr(b.data + b.pos, '\n', b.len - b.pos) : NULL;
        if (!nl) {
            size_t have = b.len - b.pos;
            if (skipping) {
                b.pos = b.len; /* drop the tail */
            } else if (have >= max_record) {
                struct record r = {b.data + b.pos, max_record, line, b.base_offset + b.pos,
                                   RECORD_TRUNCATED};
                if ((rc = fn(opaque, &r)) < 0)
                    break;
                b.pos = b.len;
                skipping = 1;
            }
            if (b.eof) {
                if (!skipping && b.pos < b.len) {
                    size_t n = b.len - b.pos;
                    if (n && b.data[b.pos + n - 1] == '\r')
                        n--;
                    struct record r = {b.data + b.pos, n, line, b.base_offset + b.pos, RECORD_OK};
                    if (n)
                        rc = fn(opaque, &r);
                }
                break;
            }
            if ((rc = rbuf_fill(in, &b, max_cap)) < 0)
                break;
            continue;
        }
        size_t n = (size_t)(nl - (b.data + b.pos));
        if (skipping) {
            skipping = 0;
        } else {
            size_t rn = n;
            if (rn && b.data[b.pos + rn - 1] == '\r')
                rn--;
            enum record_status st = RECORD_OK;
            if (rn > max_record) {
                rn = max_record;
                st = RECORD_TRUNCATED;
            }
            struct record r = {b.data + b.pos, rn, line, b.base_offset + b.pos, st};
            if (rn && (rc = fn(opaque, &r)) < 0)
                break;
        }
        b.pos += n + 1;
        line++;
    }
    free(b.data);
    return rc;
}

/* JSON framing state machine. */
int reader_json(struct input *in, size_t max_record, record_fn fn, void *opaque)
{
    struct rbuf b;
    if (rbuf_init(&b) < 0)
        return -ENOMEM;
    size_t max_cap = max_record + READ_CHUNK;
    uint64_t line = 1; /* line at b.pos */
    int rc = 0;
    int in_array = 0; /* inside a top-level array */
    int ndjson = -1;  /* -1 unknown, 1 every record so far on one line */

    for (;;) {
        /* skip whitespace and separators between values */
        while (b.pos < b.len) {
            char c = b.data[b.pos];
            if (c == '\n') {
                line++;
                b.pos++;
            } else if (c == ' ' || c == '\t' || c == '\r' || (in_array && c == ',')) {
                b.pos++;
            } else if (c == '[' && !in_array) {
                in_array = 1;
                b.pos++;
            } else if (c == ']' && in_array) {
                in_array = 0;
                b.pos++;
            } else {
                break;
            }
        }
        if (b.pos >= b.len) {
            if (b.eof)
                break;
            if ((rc = rbuf_fill(in, &b, max_cap)) < 0)
                break;
            continue;
        }
        /* scan one value from b.pos */
        size_t i = b.pos;
        int depth = 0, in_str = 0, esc = 0;
        uint64_t lines_in = 0;
        int complete = 0, broken = 0;
        char first = b.data[i];
        if (first != '{' && first != '[') {
            broken = 1; /* text that is not a JSON object: up to end of line */
        }
        while (!broken && i < b.len) {
            char c = b.data[i];
            if (in_str) {
                if (esc)
                    esc = 0;
                else if (c == '\\')
                    esc = 1;
                else if (c == '"')
                    in_str = 0;
                else if (c == '\n') {
                    broken = 1; /* raw newline inside a string */
                    break;
                }
            } else if (c == '"') {
                in_str = 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) {
                    i++;
                    complete = 1;
                    break;
                }
            } else if (c == '\n') {
                lines_in++;
                if (ndjson == 1) {
                    broken = 1; /* one-record-a-line file: the line ended early */
                    break;
                }
            }
            i++;
        }
        if (!complete && !broken) {
            if (i - b.pos >= max_record) {
                broken = 1;
            } else if (b.eof) {
                /* truncated at end of file: the whole rest is one bad record */
                size_t n = b.len - b.pos;
                struct record r = {b.data + b.pos, n > max_record ? max_record : n, line,
                                   b.base_offset + b.pos, RECORD_BAD_JSON};
                rc = fn(opaque, &r);
                break;
            } else {
                if ((rc = rbuf_fill(in, &b, max_cap)) < 0)
                    break;
                continue; /* rescan with more data */
            }
        }
        if (complete) {
            struct record r = {b.data + b.pos, i - b.pos, line, b.base_offset + b.pos, RECORD_OK};
            if (r.n > max_record) {
                /* whole but too long (it fit in the buffer's slack): its
                 * first max_record bytes stand for it, the rest is skipped */
                r.n = max_record;
                r.status = RECORD_TRUNCATED;
            }
            if (ndjson == -1)
                ndjson = lines_in == 0;
            else if (lines_in)
                ndjson = 0;
            if ((rc = fn(opaque, &r)) < 0)
                break;
            line += lines_in;
            b.pos = i;
            continue;
        }
        /* broken: report up to the end of the current line and resync */
        char *nl = memchr(b.data + b.pos, '\n', b.len - b.pos);
        size_t end = nl ? (size_t)(nl - b.data) : b.len;
        if (!nl && !b.eof && end - b.pos < max_record) {
            if ((rc = rbuf_fill(in, &b, max_cap)) < 0)
                break;
            continue;
        }
        size_t n = end - b.pos;
        if (n > max_record)
            n = max_record;
        size_t rn = n;
        if (rn && b.data[b.pos + rn - 1] == '\r')
            rn--;
        struct record r = {b.data + b.pos, rn, line, b.base_offset + b.pos, RECORD_BAD_JSON};
        if ((rc = fn(opaque, &r)) < 0)
            break;
        b.pos = end;
        if (!nl && b.eof)
            break;
    }
    free(b.data);
    return rc;
}

long reader_sniff(const char *path, char *buf, size_t n)
{
    struct input *in;
    int rc = input_open(path, &in);
    if (rc < 0)
        return rc;
    size_t got = 0;
    while (got < n) {
        ssize_t r = input_read(in, buf + got, n - got);
        if (r < 0 && got == 0) {
            input_close(in);
            return r;
        }
        if (r < 0)
            break; /* what came before the damage is sniffed; the read proper
                      delivers it and then reports the error */
        if (r == 0)
            break;
        got += (size_t)r;
    }
    input_close(in);
    return (long)got;
}
