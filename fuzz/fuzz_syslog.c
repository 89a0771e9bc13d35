/*
 * fuzz_syslog.c - the syslog envelope on one line, with automatic routing
 * to whichever syslog application claims the program name: the input is
 * one record exactly as the line reader would hand it over.
 */
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init_tz();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct decoder *d = decoder_find("syslog");
    if (!d || !d->decode_line)
        return 0;
    char *raw = fuzz_exact_copy(data, size);
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "fuzz.log", FUZZ_REF_TIME_NS, 0);
    struct event ev;
    event_init(&ev, &a);
    ev.raw = str_make(raw, size);
    ev.file = "fuzz.log";
    ev.line = 1;
    if (d->decode_line(&ctx, &ev) < 0)
        fuzz_make_unparsed(&ev);
    event_assign_id(&ev);
    fuzz_check_event(&ev);
    decode_ctx_fini(&ctx);
    arena_free(&a);
    free(raw);
    return 0;
}
