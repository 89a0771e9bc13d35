/*
 * fuzz_reader_json.c - the JSON framer (reader_json: NDJSON, concatenated,
 * pretty-printed, top-level arrays) over the input layer, from a memory
 * file. The first input byte sets the record limit as in
 * fuzz_reader_lines.c. Every complete record is also flattened, as the
 * pipeline would.
 */
#include "fuzz-common.h"
#include "source/input.h"
#include "source/reader.h"

struct check {
    size_t max_record;
    uint64_t last_line;
    struct arena arena;
};

static int on_record(void *opaque, const struct record *r)
{
    struct check *c = opaque;
    if (r->n > c->max_record)
        abort();
    if (r->line < c->last_line)
        abort(); /* records come in file order */
    c->last_line = r->line;
    char *copy = fuzz_exact_copy((const uint8_t *)r->p, r->n);
    struct event ev;
    event_init(&ev, &c->arena);
    ev.raw = str_make(copy, r->n);
    ev.line = r->line;
    if (r->status == RECORD_OK) {
        if (r->n == 0 || (r->p[0] != '{' && r->p[0] != '['))
            abort(); /* a complete record is an object or an array */
        (void)json_flatten(&ev, copy, r->n);
    }
    arena_reset(&c->arena);
    free(copy);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_record = data[0] == 255 ? 16 * 1024 * 1024 : (size_t)data[0] + 1;
    char path[64];
    int fd = fuzz_memfd(data + 1, size - 1, path);
    if (fd < 0)
        return 0;
    struct input *in;
    if (input_open(path, &in) == 0) {
        struct check c = {max_record, 0, {0}};
        arena_init(&c.arena, 64 * 1024);
        (void)reader_json(in, max_record, on_record, &c);
        arena_free(&c.arena);
        input_close(in);
    }
    close(fd);
    return 0;
}
