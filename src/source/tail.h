/*
 * tail.h - the live daemon's file and standard input sources.
 *
 * Files: every `type: file` source's globs are expanded at start and again
 * on every change inotify reports in their directories (and every `poll`
 * interval, which also covers directories that do not exist yet and globs
 * in directory names). Each matching regular file whose name is not
 * excluded (compressed rotations by default) is read line by line from
 * where its events were last committed (the store's read offsets, matched
 * by device, inode and a fingerprint of the first bytes, so that a reused
 * inode is a new file), from its beginning when new, or (start_at: end)
 * from its end when found at start and never seen before.
 *
 * Rotation by rename (or removal): when the path names another file, or
 * none, the old file is still read for rotate_wait, then to its end, and
 * closed; the new file is read from its beginning. Its events keep the
 * name they were first read under, so a rotated file found again by a
 * glob is recognised and not read twice. Rotation by copy and truncate:
 * when a file shrinks below what was read, it is read again from 0.
 *
 * Standard input: read line by line until its end; the daemon stops when
 * every source has ended.
 */
#ifndef KENCHI_SOURCE_TAIL_H
#define KENCHI_SOURCE_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct live;
struct store;
struct tailer;

/* Start the threads of the file and stdin sources of cf (none: *out is a
 * tailer that has nothing to do). Read offsets come from store. Returns 0
 * or a negative errno (logged). */
int tailer_start(struct live *l, const struct config *cf, struct store *store, struct tailer **out);
/* True when every source of the configuration is finite and has ended
 * (standard input alone). */
bool tailer_finished(struct tailer *t);
/* Stop: the files are read to their current end once more (what was
 * written before the stop is not left behind), standard input is left
 * where it is; the threads are joined. t may be NULL. A partial last line
 * is left for the next start. */
void tailer_stop(struct tailer *t);

/* Split lines out of a byte stream (exposed for tests and the fuzzer). */
struct line_splitter {
    char *pend; /* the partial line */
    size_t npend, cap;
    size_t max;    /* longest line kept; longer ones are cut */
    bool skipping; /* inside a line already cut */
    uint64_t line; /* lines seen */
};
typedef int (*line_fn)(void *opaque, const char *p, size_t n, uint64_t line, uint64_t end_off,
                       bool truncated);
void line_splitter_init(struct line_splitter *sp, size_t max, uint64_t line);
/* Feed n bytes that start at file offset off. Empty lines are counted and
 * skipped; a "\r\n" ending is accepted. Returns 0 or fn's error. */
int line_splitter_feed(struct line_splitter *sp, const char *d, size_t n, uint64_t off, line_fn fn,
                       void *opaque);
/* The partial line as a record (the file ended without a newline). */
int line_splitter_finish(struct line_splitter *sp, uint64_t end_off, line_fn fn, void *opaque);
void line_splitter_free(struct line_splitter *sp);

#endif
