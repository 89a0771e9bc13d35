/*
 * fuzz_syslog_app.c - every syslog application decoder (syslog_apps[] in
 * decode/registry.c), forced as `--format NAME` forces it: the first input
 * byte picks the application (or, one past the last, automatic routing),
 * the rest is the line, with or without a syslog header.
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
    if (!d || !d->decode_line || size < 1)
        return 0;
    size_t napps;
    FUZZ_TABLE_LEN(syslog_apps, napps);
    size_t pick = data[0] % (napps + 1);
    data++, size--;
    char *raw = fuzz_exact_copy(data, size);
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "fuzz.log", FUZZ_REF_TIME_NS, 0);
    ctx.force_app = pick < napps ? syslog_apps[pick] : NULL;
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
