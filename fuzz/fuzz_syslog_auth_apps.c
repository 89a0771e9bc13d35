/*
 * fuzz_syslog_auth_apps.c - libFuzzer target for the Dovecot and sshd
 * decoders. Each input becomes the rest of a syslog line behind a fixed,
 * valid header, three ways:
 *   "Mar  4 08:15:02 mail1 dovecot: " + input    (Dovecot via syslog)
 *   "Mar  4 08:15:02 mail1 sshd[1]: " + input    (sshd)
 *   "Mar  4 08:15:02 " + input                   (the input names the
 *                                                 program: "auth-worker(1):")
 * so that the fuzzer spends its time in the applications, not in the time
 * stamp parsers (which have targets of their own).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/decode.h"

extern const struct decoder decoder_syslog;

static void run(const char *header, const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a, 64 * 1024);
    struct decode_ctx ctx;
    decode_ctx_init(&ctx, "fuzz", 0, 2024);
    struct event ev;
    event_init(&ev, &a);
    /* exactly the line's bytes, so ASan sees any over-read */
    size_t hl = strlen(header);
    char *line = arena_alloc(&a, hl + size + 1);
    memcpy(line, header, hl);
    memcpy(line + hl, data, size);
    ev.raw = str_make(line, hl + size);
    (void)decoder_syslog.decode_line(&ctx, &ev);
    decode_ctx_fini(&ctx);
    arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run("Mar  4 08:15:02 mail1 dovecot: ", data, size);
    run("Mar  4 08:15:02 mail1 sshd[1]: ", data, size);
    run("Mar  4 08:15:02 ", data, size);
    return 0;
}
