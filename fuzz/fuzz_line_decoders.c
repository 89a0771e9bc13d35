/*
 * fuzz_line_decoders.c - every decoder that reads text lines (decoders[]
 * rows with decode_line: syslog, Zeek TSV, ...) over a whole file's worth of
 * lines sharing one decode context, so that per-file state (Zeek's header
 * lines, which name the columns of the rows after them) is fuzzed too. The
 * first input byte picks the decoder; the rest is split at newlines.
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
    const struct decoder *line_decoders[64];
    size_t nd = 0;
    for (size_t i = 0; decoders[i] && nd < 64; i++)
        if (decoders[i]->decode_line)
            line_decoders[nd++] = decoders[i];
    if (nd == 0 || size < 1)
        return 0;
    const struct decoder *d = line_decoders[data[0] % nd];
    data++, size--;
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "fuzz.log", FUZZ_REF_TIME_NS, 0);
    uint64_t line = 0;
    size_t pos = 0;
    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t n = nl ? (size_t)(nl - (data + pos)) : size - pos;
        line++;
        if (n) {
            char *raw = fuzz_exact_copy(data + pos, n);
            struct event ev;
            event_init(&ev, &a);
            ev.raw = str_make(raw, n);
            ev.file = "fuzz.log";
            ev.line = line;
            if (d->decode_line(&ctx, &ev) < 0)
                fuzz_make_unparsed(&ev);
            event_assign_id(&ev);
            fuzz_check_event(&ev);
            free(raw);
        }
        pos += n + 1;
        if (line % 64 == 0)
            arena_reset(&a); /* a batch boundary: per-file state must survive it */
    }
    decode_ctx_fini(&ctx);
    arena_free(&a);
    return 0;
}
