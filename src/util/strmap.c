/*
 * strmap.c - see strmap.h.
 */
#include "util/strmap.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

void strmap_init(struct strmap *m)
{
    memset(m, 0, sizeof(*m));
    arena_init(&m->keys, 64 * 1024);
}

void strmap_free(struct strmap *m)
{
    free(m->slots);
    arena_free(&m->keys);
    memset(m, 0, sizeof(*m));
}

static size_t find(const struct strmap *m, const char *key, size_t n, uint64_t h)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    for (;;) {
        const struct strmap_slot *s = &m->slots[i];
        if (!s->key || (s->hash32 == (uint32_t)(h >> 32) && s->len == n && !memcmp(s->key, key, n)))
            return i;
        i = (i + 1) & mask;
    }
}

static void grow(struct strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    struct strmap_slot *old = m->slots;
    size_t ocap = m->cap;
    m->slots = calloc(ncap, sizeof(*m->slots));
    if (!m->slots)
        abort();
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].key)
            continue;
        uint64_t h = XXH3_64bits(old[i].key, old[i].len);
        m->slots[find(m, old[i].key, old[i].len, h)] = old[i];
    }
    free(old);
}

uint64_t *strmap_put(struct strmap *m, const char *key, size_t n, bool *found)
{
    if ((m->n + 1) * 2 > m->cap)
        grow(m);
    uint64_t h = XXH3_64bits(key, n);
    struct strmap_slot *s = &m->slots[find(m, key, n, h)];
    if (s->key) {
        if (found)
            *found = true;
        return &s->value;
    }
    s->key = arena_strndup(&m->keys, key, n);
    s->len = (uint32_t)n;
    s->hash32 = (uint32_t)(h >> 32);
    s->value = 0;
    m->n++;
    if (found)
        *found = false;
    return &s->value;
}

uint64_t *strmap_get(const struct strmap *m, const char *key, size_t n)
{
    if (!m->cap)
        return NULL;
    uint64_t h = XXH3_64bits(key, n);
    struct strmap_slot *s = &m->slots[find(m, key, n, h)];
    return s->key ? &s->value : NULL;
}

const char *strmap_key_of(const struct strmap *m, const uint64_t *slot)
{
    const struct strmap_slot *s =
        (const struct strmap_slot *)((const char *)slot - offsetof(struct strmap_slot, value));
    return s->key;
}
