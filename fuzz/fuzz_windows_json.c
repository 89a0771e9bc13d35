/* libFuzzer target: Windows events as JSON (decode-windows.c), through the
 * same flatten-probe-decode path the pipeline takes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode.h"

extern const struct decoder decoder_windows;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "fuzz", 0, 0);
    struct event ev;
    event_init(&ev, &a);
    char *raw = arena_alloc(&a, size ? size : 1);
    memcpy(raw, data, size);
    ev.raw = str_make(raw, size);
    if (json_flatten(&ev, raw, size) == 0) {
        /* decode whatever the probe says, so every shape is exercised */
        decoder_windows.probe_json(&ev);
        decoder_windows.decode_json(&ctx, &ev);
        struct buf out;
        buf_init(&out);
        event_to_json(&ev, &out);
        buf_free(&out);
    }
    arena_free(&a);
    return 0;
}
