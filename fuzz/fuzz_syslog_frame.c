/*
 * fuzz_syslog_frame.c - the RFC 6587 framer on a byte stream as a TCP or
 * TLS peer would send it. The first byte picks the framing (auto, LF,
 * octet) and the largest message (1 to 64 bytes, small so that truncation
 * is reached); the second the size of the reads the stream is cut into.
 * Besides the sanitizers, the framer's contract is checked: it never
 * consumes more than it is given, it consumes everything when it returns 0,
 * and no message is longer than the limit or empty.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "source/syslog-frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    enum syslog_framing mode = (enum syslog_framing)(data[0] % 3);
    size_t max = (size_t)(data[0] >> 2) + 1;
    size_t step = (size_t)data[1] + 1;
    data += 2;
    size -= 2;
    struct syslog_framer f;
    syslog_framer_init(&f, mode, max);
    size_t pos = 0;
    int rc = 0;
    while (pos < size && rc >= 0) {
        size_t k = size - pos < step ? size - pos : step;
        /* an exact-size copy: a read past the chunk is caught by ASan */
        char *chunk = malloc(k);
        if (!chunk)
            abort();
        memcpy(chunk, data + pos, k);
        size_t off = 0;
        while (off < k) {
            struct syslog_frame fr;
            size_t used = 0;
            rc = syslog_framer_feed(&f, chunk + off, k - off, &used, &fr);
            if (used > k - off)
                abort();
            if (rc < 0)
                break;
            if (rc == 0 && used != k - off)
                abort();
            if (rc == 1 && (fr.len == 0 || fr.len > max))
                abort();
            off += used;
        }
        free(chunk);
        pos += k;
    }
    if (rc >= 0) {
        struct syslog_frame fr;
        rc = syslog_framer_finish(&f, &fr);
        if (rc == 1 && (fr.len == 0 || fr.len > max))
            abort();
    }
    syslog_framer_free(&f);
    return 0;
}
