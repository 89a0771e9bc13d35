/*
 * fuzz_zeek.c - libFuzzer target for the Zeek decoder.
 *
 * The input is a file: each line goes through decode_line with the file's
 * header state carried from line to line, as the pipeline does (so header
 * blocks, separators and data lines mix freely), and each line that looks
 * like a JSON object also goes through json_flatten and decode_json.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct decoder *z = decoder_find("zeek");
    struct arena arena;
    struct decode_ctx ctx;
    struct event ev;
    arena_init(&arena, 64 * 1024);
    decode_ctx_init(&ctx, "conn.log", 0, 0);
    size_t b = 0;
    while (b < size) {
        const uint8_t *nl = memchr(data + b, '\n', size - b);
        size_t e = nl ? (size_t)(nl - data) : size;
        event_init(&ev, &arena);
        ev.file = "dns.2024-03-04-09-00-00.log.gz";
        ev.raw = str_make(arena_strndup(&arena, (const char *)data + b, e - b), e - b);
        z->decode_line(&ctx, &ev);
        if (e > b && data[b] == '{') {
            event_init(&ev, &arena);
            ev.raw = str_make(arena_strndup(&arena, (const char *)data + b, e - b), e - b);
            if (json_flatten(&ev, ev.raw.p, ev.raw.n) == 0 && z->probe_json(&ev) >= 0)
                z->decode_json(&ctx, &ev);
        }
        b = e + 1;
    }
    decode_ctx_fini(&ctx);
    arena_free(&arena);
    return 0;
}
