/*
 * fuzz_line_splitter.c - the tailer's line splitter (source/tail.h) fed
 * the input in pieces of the sizes the first bytes name, as a file that
 * grows is read: the records must be the same whatever the pieces, never
 * empty, never longer than the limit, numbered in order, without newlines,
 * and their end offsets must increase.
 */
#include "fuzz-common.h"
#include "source/tail.h"

struct check {
    size_t max;
    uint64_t last_line, last_end, sum, count;
};

static int on_line(void *opaque, const char *p, size_t n, uint64_t line, uint64_t end_off,
                   bool truncated)
{
    struct check *c = opaque;
    if (n == 0 || n > c->max || memchr(p, '\n', n) || line <= c->last_line ||
        end_off < c->last_end || (truncated && n != c->max))
        abort();
    c->last_line = line;
    c->last_end = end_off;
    for (size_t i = 0; i < n; i++)
        c->sum = c->sum * 31 + (unsigned char)p[i];
    c->count++;
    return 0;
}

static void run(const uint8_t *d, size_t n, size_t max, size_t piece, struct check *c)
{
    struct line_splitter sp;
    line_splitter_init(&sp, max, 0);
    memset(c, 0, sizeof(*c));
    c->max = max;
    size_t off = 0;
    while (off < n) {
        size_t k = n - off < piece ? n - off : piece;
        line_splitter_feed(&sp, (const char *)d + off, k, off, on_line, c);
        off += k;
    }
    line_splitter_finish(&sp, off, on_line, c);
    line_splitter_free(&sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max = (size_t)data[0] + 1, piece = (size_t)data[1] + 1;
    struct check whole, pieces;
    run(data + 2, size - 2, max, size, &whole);
    run(data + 2, size - 2, max, piece, &pieces);
    if (whole.count != pieces.count || whole.sum != pieces.sum ||
        whole.last_line != pieces.last_line)
        abort(); /* the same records however the bytes arrive */
    return 0;
}
