/*
 * arena.c - bump allocator; see arena.h.
 *
 * Blocks are chained newest-first. A request larger than a quarter of the
 * block size gets a block of its own so that a single 10 MB line does not make
 * every later block 10 MB. arena_reset() keeps only the oldest normal-sized
 * block, so a batch arena stays at one block in the steady state.
 */
#include "util/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

static struct arena_block *block_new(size_t size)
{
    struct arena_block *b = malloc(sizeof(*b) + size);
    if (!b) {
        fprintf(stderr, "kenchi: out of memory (arena block of %zu bytes)\n", size);
        abort();
    }
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

void arena_init(struct arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->bytes_used = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        if (n > a->block_size / 4) {
            /* Oversized: a private block, inserted behind the current one so
             * the current block keeps serving small requests. */
            struct arena_block *big = block_new(n);
            big->used = n;
            if (b) {
                big->next = b->next;
                b->next = big;
            } else {
                a->head = big;
            }
            a->bytes_used += n;
            return big->data;
        }
        struct arena_block *nb = block_new(a->block_size);
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->bytes_used += n;
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *arena_realloc(struct arena *a, void *p, size_t old_n, size_t new_n)
{
    if (new_n <= old_n)
        return p;
    struct arena_block *b = a->head;
    size_t old_r = (old_n + 15) & ~(size_t)15;
    size_t new_r = (new_n + 15) & ~(size_t)15;
    /* Extend in place when p is the last allocation of the current block. */
    if (p && b && (unsigned char *)p + old_r == b->data + b->used &&
        b->size - b->used >= new_r - old_r) {
        b->used += new_r - old_r;
        a->bytes_used += new_r - old_r;
        return p;
    }
    void *q = arena_alloc(a, new_n);
    if (p && old_n)
        memcpy(q, p, old_n);
    return q;
}

void arena_reset(struct arena *a)
{
    struct arena_block *keep = NULL;
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        if (!next && b->size == a->block_size) {
            keep = b; /* the oldest block, if it is a normal one */
        } else {
            free(b);
        }
        b = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->bytes_used = 0;
}

void arena_free(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->bytes_used = 0;
}
