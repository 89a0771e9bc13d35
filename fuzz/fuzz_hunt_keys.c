/*
 * fuzz_hunt_keys.c - libFuzzer target for the store's hunting keys: the
 * keys of an event (domains reversed, mail addresses domain first, URLs,
 * hashes, file names, user agents, queue ids, their summary fingerprints)
 * and the index reads of an indicator value.
 *
 * The input's lines fill an event's fields (DNS question, URL, sender,
 * recipient, user, addresses, file name and hashes, and the native host,
 * server_name, queue_id and user_agent), with the first byte choosing the
 * decoder name (zeek, postfix, json). The keys are then read back and
 * checked: every key has a kind, a value of 1..KEY_VALUE_MAX bytes and at
 * most KEY_FPS_MAX fingerprints, and the list ends exactly at its end.
 * Each line is also normalised as every indicator type and turned into a
 * probe, whose ranges must match the keys they read (lo <= hi) without
 * reading past them. Every slice is an exact-size copy, so ASan sees any
 * read past an end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intel/ioc.h"
#include "store/store-private.h"

#define NLINES 14

static struct str copy_of(struct arena *a, const uint8_t *p, size_t n)
{
    char *c = arena_alloc(a, n ? n : 1);
    memcpy(c, p, n);
    return str_make(c, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena arena;
    static struct buf keys;
    static struct key_probe probe;
    static int ready;
    if (!ready) {
        arena_init(&arena, 1 << 16);
        buf_init(&keys);
        ready = 1;
    }
    if (size == 0)
        return 0;
    static const char *const formats[] = {"zeek", "postfix", "json"};
    struct event ev;
    event_init(&ev, &arena);
    ev.format = formats[data[0] % 3];
    ev.ts_ns = 0;
    struct str lines[NLINES] = {{0}};
    size_t nl = 0, start = 1;
    for (size_t i = 1; i <= size && nl < NLINES; i++)
        if (i == size || data[i] == '\n') {
            lines[nl++] = copy_of(&arena, data + start, i - start);
            start = i + 1;
        }
    static const enum core_field cores[] = {
        CORE_DNS_QUESTION_NAME, CORE_URL_FULL,  CORE_EMAIL_FROM_ADDRESS,
        CORE_EMAIL_TO_ADDRESS,  CORE_USER_NAME, CORE_SOURCE_IP,
        CORE_DESTINATION_IP,    CORE_FILE_NAME, CORE_FILE_HASH_MD5,
        CORE_FILE_HASH_SHA256,
    };
    for (size_t i = 0; i < sizeof(cores) / sizeof(cores[0]); i++)
        ev.core[cores[i]] = lines[i];
    event_add_str(&ev, "host", lines[10]);
    event_add_str(&ev, "server_name", lines[11]);
    event_add_str(&ev, "queue_id", lines[12]);
    event_add_str(&ev, "user_agent", lines[13]);

    buf_clear(&keys);
    keys_of_event(&ev, &keys);
    uint8_t *own = malloc(keys.len ? keys.len : 1); /* exact size: ASan bounds */
    if (keys.len)
        memcpy(own, keys.data, keys.len);
    const uint8_t *p = own, *end = own + keys.len;
    while (p < end) {
        struct key_rec k;
        if (end - p < 4)
            abort();
        key_read(&p, &k);
        if (p > end || !k.kind || k.len == 0 || k.len > KEY_VALUE_MAX || k.nfps > KEY_FPS_MAX)
            abort();
        for (unsigned i = 0; i < k.nfps; i++)
            (void)fp_at(k.fps, i);
    }
    free(own);

    /* every line as every indicator type */
    char norm[8192 + 64];
    for (size_t i = 0; i < nl; i++) {
        if (lines[i].n > 8192)
            continue;
        for (int t = 0; t < IOC__COUNT; t++) {
            const char *why;
            int n = ioc_normalise((enum ioc_type)t, lines[i].p, lines[i].n, norm, &why);
            if (n < 0 || key_probe_of(t, norm, &probe) < 0)
                continue;
            if (probe.nr < 1 || probe.nr > 3 || probe.nfps > 512)
                abort();
            for (int r = 0; r < probe.nr; r++) {
                const struct key_range *kr = &probe.r[r];
                size_t m = kr->lolen < kr->hilen ? kr->lolen : kr->hilen;
                int c = memcmp(kr->lo, kr->hi, m);
                if (c > 0 || (c == 0 && kr->lolen > kr->hilen))
                    abort(); /* an empty range */
                uint8_t key[KEY_VALUE_MAX + 2];
                key[0] = (uint8_t)kr->kind;
                memcpy(key + 1, kr->lo, kr->lolen);
                (void)key_range_matches(kr, key, kr->lolen + 1);
            }
        }
    }
    char mk[8192];
    for (size_t i = 0; i < nl; i++)
        if (lines[i].n <= sizeof(mk) && mail_key(lines[i].p, lines[i].n, mk) != lines[i].n)
            abort(); /* the same bytes, rearranged */
    arena_reset(&arena);
    return 0;
}
