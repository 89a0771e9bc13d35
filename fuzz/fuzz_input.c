/*
 * fuzz_input.c - the input layer: codec sniffing and streaming gzip / zstd
 * decompression (concatenated members and frames, trailing junk, truncated
 * data). The input is the file as stored; it is read back with read sizes
 * that vary from 1 byte upwards. Decompressed output is capped at 64 MiB per
 * input so that a small decompression bomb costs time, not a timeout.
 */
#include "fuzz-common.h"
#include "source/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[] = {1, 7, 512, 4096, 65536, 1 << 20};
    static char buf[1 << 20];
    char path[64];
    int fd = fuzz_memfd(data, size, path);
    if (fd < 0)
        return 0;
    struct input *in;
    if (input_open(path, &in) == 0) {
        size_t total = 0;
        for (size_t k = 0; total < (64u << 20); k++) {
            size_t cap = caps[(k + size) % (sizeof(caps) / sizeof(caps[0]))];
            ssize_t r = input_read(in, buf, cap);
            if (r <= 0)
                break;
            if ((size_t)r > cap)
                abort(); /* never more than asked for */
            total += (size_t)r;
        }
        input_close(in);
    }
    close(fd);
    return 0;
}
