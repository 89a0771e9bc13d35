/*
 * fuzz_postfix.c - libFuzzer target for the Postfix decoder.
 *
 * Each input is one record, decoded twice: as a syslog line with Postfix
 * forced (so bare messages reach the decoder too), and as the message of a
 * "postfix/smtpd" line directly. The input is copied into a buffer of its
 * exact size so that ASan sees any read past the end. Every event is also
 * rendered to JSON, which walks every slice the decoder produced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct arena arena;
    static struct buf out;
    static int ready;
    if (!ready) {
        arena_init(&arena, 1 << 16);
        buf_init(&out);
        ready = 1;
    }
    const struct syslog_app *app = syslog_app_find("postfix");
    const struct decoder *syslog = decoder_find("syslog");
    char *copy = malloc(size ? size : 1);
    if (!copy || !app || !syslog)
        abort();
    memcpy(copy, data, size);

    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "-", 0, 2024);
    ctx.force_app = app;
    struct event ev;
    event_init(&ev, &arena);
    ev.raw = str_make(copy, size);
    (void)syslog->decode_line(&ctx, &ev);
    buf_clear(&out);
    event_to_json(&ev, &out);

    event_init(&ev, &arena);
    ev.raw = str_make(copy, size);
    ev.message = ev.raw;
    (void)app->decode(&ctx, &ev, STR_LIT("postfix/smtpd"));
    buf_clear(&out);
    event_to_json(&ev, &out);

    decode_ctx_fini(&ctx);
    arena_reset(&arena);
    free(copy);
    return 0;
}
