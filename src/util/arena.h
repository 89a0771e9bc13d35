/*
 * arena.h - bump allocator for per-batch event data.
 *
 * Every event of a batch (its raw text, decoded values, field arrays) lives in
 * the batch's arena; the whole batch is released at once with arena_reset().
 * The hot path therefore never calls malloc() per field, and nothing of an
 * event can outlive its batch by accident.
 */
#ifndef KENCHI_UTIL_ARENA_H
#define KENCHI_UTIL_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head; /* current block; older blocks chained behind */
    size_t block_size;        /* size of a normal block */
    size_t bytes_used;        /* sum over blocks, for accounting */
};

/* Initialise an empty arena; no memory is taken until the first allocation. */
void arena_init(struct arena *a, size_t block_size);

/* Return n bytes aligned to 16, valid until arena_reset()/arena_free().
 * Aborts the process on out-of-memory (there is no sane recovery mid-batch). */
void *arena_alloc(struct arena *a, size_t n);

/* Copy s[0..n) into the arena and NUL-terminate it. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* Grow the most recent allocation p (of old_n bytes) to new_n bytes. */
void *arena_realloc(struct arena *a, void *p, size_t old_n, size_t new_n);

/* Forget every allocation but keep the first block for reuse. */
void arena_reset(struct arena *a);

/* Release all memory. */
void arena_free(struct arena *a);

#endif
