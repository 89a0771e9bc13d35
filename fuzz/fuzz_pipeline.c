/*
 * fuzz_pipeline.c - the whole read path on one file: format detection
 * (sniffing, EVTX / JSON / Zeek / syslog), the input layer, framing,
 * decoding, batching and statistics. The first input byte picks the format
 * as --format would ("auto", every decoder, every syslog application) and
 * whether --year is given; the rest is the file. Every event delivered to
 * the sink must render as one line of valid JSON.
 */
#include "fuzz-common.h"
#include "pipeline/pipeline.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init_tz();
    return 0;
}

static int check_batch(void *opaque, struct event *evs, size_t n)
{
    uint64_t *count = opaque;
    for (size_t i = 0; i < n; i++)
        fuzz_check_event(&evs[i]);
    *count += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *formats[128];
    size_t nf = 0;
    formats[nf++] = "auto";
    for (size_t i = 0; decoders[i] && nf < 64; i++)
        formats[nf++] = decoders[i]->name;
    for (size_t i = 0; syslog_apps[i] && nf < 128; i++)
        formats[nf++] = syslog_apps[i]->name;
    const char *format = formats[(data[0] >> 1) % nf];
    int year = data[0] & 1 ? 2024 : 0;
    char path[64];
    int fd = fuzz_memfd(data + 1, size - 1, path);
    if (fd < 0)
        return 0;
    struct pipeline_opts o;
    pipeline_opts_default(&o);
    o.format = format;
    o.year = year;
    o.batch_size = 7; /* many batch boundaries */
    o.max_line = 300; /* truncation within reach of small inputs */
    o.max_json = 2000;
    o.diag = NULL;
    struct pipeline *p = pipeline_new(&o);
    if (!p)
        abort();
    uint64_t count = 0;
    struct event_sink sink = {"check", check_batch, &count};
    pipeline_add_sink(p, &sink);
    (void)pipeline_run_path(p, path);
    (void)pipeline_flush(p);
    const struct pipeline_stats *st = pipeline_stats(p);
    if (st->events != count || st->unparsed > st->events)
        abort(); /* every counted event reached the sink */
    pipeline_free(p);
    close(fd);
    return 0;
}
