/*
 * fuzz_m365.c - libFuzzer target for the M365 audit-log decoder.
 *
 * The input is one JSON record: flattened as the pipeline does, then
 * decoded by the M365 decoder whether or not its probe claims it (a forced
 * --format m365 does the same), which also exercises the AuditData
 * unfolding and every Name/Value list walk.
 */
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "util/arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct decoder *m = decoder_find("m365");
    struct arena arena;
    struct decode_ctx ctx;
    struct event ev;
    arena_init(&arena, 64 * 1024);
    decode_ctx_init(&ctx, "-", 0, 0);
    event_init(&ev, &arena);
    ev.raw = str_make(arena_strndup(&arena, (const char *)data, size), size);
    if (json_flatten(&ev, ev.raw.p, ev.raw.n) == 0) {
        m->probe_json(&ev);
        m->decode_json(&ctx, &ev);
    }
    decode_ctx_fini(&ctx);
    arena_free(&arena);
    return 0;
}
