/* libFuzzer target: the Windows event XML reader (decode-winxml.c) and the
 * event model behind it, on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode-windows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "fuzz", 0, 0);
    struct event ev;
    event_init(&ev, &a);
    /* a copy of exactly size bytes, so reads past the end are caught */
    char *raw = arena_alloc(&a, size ? size : 1);
    memcpy(raw, data, size);
    ev.raw = str_make(raw, size);
    win_xml_decode(&ctx, &ev);
    struct buf out;
    buf_init(&out);
    event_to_json(&ev, &out);
    buf_free(&out);
    arena_free(&a);
    return 0;
}
