/*
 * fuzz_prom_text.c - the Prometheus text reader (`kenchi status` reads a
 * metrics page from the network with it) on any page. Besides the
 * sanitizers: every sample's name and labels lie inside the input, and
 * label lookups stay within their output buffer and NUL-terminate it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/prom-text.h"

struct span {
    const char *start;
    size_t n;
};

static void check(void *opaque, const struct prom_sample *s)
{
    const struct span *in = opaque;
    if (s->name < in->start || s->name + s->name_len > in->start + in->n || !s->name_len)
        abort();
    if (s->labels < in->start || s->labels + s->labels_len > in->start + in->n)
        abort();
    char out[16];
    static const char *const keys[] = {"source", "level", "reason", "a", ""};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (prom_label(s, keys[i], out, sizeof(out)) && strlen(out) >= sizeof(out))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    struct span in = {buf, size};
    prom_parse(buf, size, check, &in);
    free(buf);
    return 0;
}
