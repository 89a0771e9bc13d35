/*
 * fuzz_reader_lines.c - the line framer (reader_lines) over the input layer,
 * read from a memory file. The first input byte sets the record limit
 * (1..255 bytes, or the default 1 MiB for 255) so that truncation and the
 * skipping of a cut line's tail are exercised with small inputs.
 */
#include "fuzz-common.h"
#include "source/input.h"
#include "source/reader.h"

struct check {
    size_t max_record;
    uint64_t last_line;
    uint64_t sum;
};

static int on_record(void *opaque, const struct record *r)
{
    struct check *c = opaque;
    if (r->n > c->max_record || r->n == 0)
        abort(); /* records are never empty nor longer than the limit */
    if (r->line <= c->last_line)
        abort(); /* one record per line, in order */
    if (memchr(r->p, '\n', r->n))
        abort();
    c->last_line = r->line;
    for (size_t i = 0; i < r->n; i++)
        c->sum += (unsigned char)r->p[i]; /* touch every byte for ASan */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_record = data[0] == 255 ? 1024 * 1024 : (size_t)data[0] + 1;
    char path[64];
    int fd = fuzz_memfd(data + 1, size - 1, path);
    if (fd < 0)
        return 0;
    struct input *in;
    if (input_open(path, &in) == 0) {
        struct check c = {max_record, 0, 0};
        (void)reader_lines(in, max_record, on_record, &c);
        input_close(in);
    }
    close(fd);
    return 0;
}
