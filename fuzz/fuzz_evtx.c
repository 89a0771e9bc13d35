/*
 * fuzz_evtx.c - the EVTX container decoder, when this build has one
 * (decoder_find("evtx") with decode_file); otherwise every input is a no-op.
 * The input is written to a memory file and decoded as a whole file; every
 * emitted event must render as one line of valid JSON.
 */
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init_tz();
    return 0;
}

struct emit_state {
    struct arena arena;
    struct event ev;
    uint64_t events;
};

static struct event *emit_next(void *opaque)
{
    struct emit_state *s = opaque;
    arena_reset(&s->arena);
    event_init(&s->ev, &s->arena);
    s->ev.file = "fuzz.evtx";
    return &s->ev;
}

static int emit_done(void *opaque, struct event *ev)
{
    struct emit_state *s = opaque;
    event_assign_id(ev);
    fuzz_check_event(ev);
    s->events++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct decoder *d = decoder_find("evtx");
    if (!d || !d->decode_file)
        return 0;
    char path[64];
    int fd = fuzz_memfd(data, size, path);
    if (fd < 0)
        return 0;
    struct emit_state s = {0};
    arena_init(&s.arena, 64 * 1024);
    struct event_emitter em = {emit_next, emit_done, &s};
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "fuzz.evtx", FUZZ_REF_TIME_NS, 0);
    uint64_t bad = 0;
    (void)d->decode_file(&ctx, path, &em, &bad);
    decode_ctx_fini(&ctx);
    arena_free(&s.arena);
    close(fd);
    return 0;
}
