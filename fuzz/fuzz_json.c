/*
 * fuzz_json.c - JSON flattening and every JSON decoder (decoders[] rows
 * with decode_json). The input is one JSON record as the JSON reader would
 * frame it. It is flattened once per decoder and handed to that decoder as
 * `--format NAME` would (probe or not), then once more to the decoder that
 * automatic detection picks.
 */
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init_tz();
    return 0;
}

/* Flatten and decode with d (NULL: the detected decoder). */
static void run_one(const struct decoder *d, const char *text, size_t size)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "fuzz.json", FUZZ_REF_TIME_NS, 0);
    struct event ev;
    event_init(&ev, &a);
    ev.raw = str_make(text, size);
    ev.file = "fuzz.json";
    ev.line = 1;
    int rc = json_flatten(&ev, text, size);
    if (rc == 0) {
        if (!d)
            d = decoder_for_json(&ev);
        else if (d->probe_json)
            (void)d->probe_json(&ev);
        rc = d->decode_json(&ctx, &ev);
        if (rc == 0) {
            ev.parsed = true;
            if (!ev.format)
                ev.format = d->name;
        }
    }
    if (rc < 0)
        fuzz_make_unparsed(&ev);
    event_assign_id(&ev);
    fuzz_check_event(&ev);
    decode_ctx_fini(&ctx);
    arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_exact_copy(data, size);
    for (size_t i = 0; decoders[i]; i++)
        if (decoders[i]->decode_json)
            run_one(decoders[i], text, size);
    run_one(NULL, text, size);
    free(text);
    return 0;
}
