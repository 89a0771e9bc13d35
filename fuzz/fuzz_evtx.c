/* libFuzzer target: EVTX files (decode-evtx.c and libevtx beneath it). The
 * input is written to an in-memory file that the decoder opens by path. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decode/decode.h"

extern const struct decoder decoder_evtx;

/* libevtx (Debian 20181227) leaks a few hundred bytes inside its own open
 * path when a crafted chunk makes the open fail; kenchi cannot free them.
 * Leaks whose allocation stack is inside libevtx are not reported, every
 * other leak still is. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libevtx.so\n";
}

struct sink {
    struct arena arena;
    struct event ev;
    struct buf out;
};

static struct event *next(void *opaque)
{
    struct sink *s = opaque;
    event_init(&s->ev, &s->arena);
    return &s->ev;
}

static int done(void *opaque, struct event *ev)
{
    struct sink *s = opaque;
    buf_clear(&s->out);
    event_to_json(ev, &s->out);
    return 0;
}

static void quiet(void *opaque, const char *msg)
{
    (void)opaque, (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz.evtx", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    struct sink s;
    arena_init(&s.arena, 256 * 1024);
    buf_init(&s.out);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, path, 0, 0);
    ctx.report = quiet;
    struct event_emitter em = {next, done, &s};
    uint64_t bad = 0;
    decoder_evtx.decode_file(&ctx, path, &em, &bad);
    buf_free(&s.out);
    arena_free(&s.arena);
    close(fd);
    return 0;
}
