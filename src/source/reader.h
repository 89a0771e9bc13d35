/*
 * reader.h - cut a byte stream into records: text lines, or JSON values.
 *
 * Memory is bounded by max_record: a longer line is cut there (the record is
 * marked truncated and the rest of the line skipped), a longer JSON value is
 * reported as bad and skipped. Records are handed to a callback as slices of
 * the reader's buffer, valid only during the call.
 */
#ifndef KENCHI_SOURCE_READER_H
#define KENCHI_SOURCE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source/input.h"

enum record_status {
    RECORD_OK,
    RECORD_TRUNCATED, /* longer than max_record: the first max_record bytes
                         (a text line, or a complete JSON value) */
    RECORD_BAD_JSON,  /* not a complete JSON value (kept as text) */
};

struct record {
    const char *p;
    size_t n;
    uint64_t line;   /* 1-based line of the first byte */
    uint64_t offset; /* byte offset of the first byte (decompressed) */
    enum record_status status;
};

/* Called per record; return 0 to go on, negative to stop reading. */
typedef int (*record_fn)(void *opaque, const struct record *rec);

/* Read all lines of in. Empty lines are skipped; "\r\n" is accepted. */
int reader_lines(struct input *in, size_t max_record, record_fn fn, void *opaque);

/* Read all JSON values of in: NDJSON, concatenated or pretty-printed
 * objects, or the elements of top-level arrays. Text between values that is
 * not JSON becomes RECORD_BAD_JSON records, one per line. */
int reader_json(struct input *in, size_t max_record, record_fn fn, void *opaque);

/* Read the first up to n bytes of path (decompressed) to sniff its format.
 * Returns the count, or a negative errno if not even one byte could be read
 * (a read error after some bytes ends the sniff early). */
long reader_sniff(const char *path, char *buf, size_t n);

#endif
