/*
 * fuzz_intel_read.c - the indicator readers (Zeek intel, CSV, plain list)
 * over a memory file, and the intel set and alerts built from what they
 * read.
 *
 * The first input byte picks the reader (zeek, csv, list, or sniffing), the
 * declared type of plain lists and CSV rows without one, and a small line
 * limit so that long lines are exercised with small inputs, and whether
 * the batch is handed to the set in chunks while reading. Besides the
 * sanitizers, the target holds the readers to their contract: every
 * indicator's value is in normal form (normalising it again gives the same
 * bytes; URLs, whose normal form drops one scheme and one user part per
 * pass, and file names, whose last component may start with a blank, are
 * only accepted again), points at a metadata record of its batch, and is found again in
 * the set built from the batch; every problem has a place; and the intel
 * alert rendered for an event holding the first indicator is one line of
 * valid JSON.
 */
#include "fuzz-common.h"
#include "detect/intel-detector.h"
#include "intel/intel-read.h"
#include "intel/intel-set.h"
#include "util/timeconv.h"

static const char *const formats[] = {"zeek", "csv", "list", "auto"};

static void check_found(const struct intel_set *s, const struct ioc *c)
{
    if (c->type == IOC_PATTERN)
        return;
    if (c->type == IOC_IP) {
        /* the set parses the value itself; a network is found by its
         * own address at its own length */
        return;
    }
    if (intel_set_find(s, c->type, c->value, strlen(c->value)) == INTEL_NONE)
        abort();
}

/* Alert for an event holding c's value where the set looks for it. */
static void check_alert(const struct intel_set *s, const struct ioc *c)
{
    struct arena arena;
    arena_init(&arena, 4096);
    struct event ev;
    event_init(&ev, &arena);
    ev.ts_ns = FUZZ_REF_TIME_NS;
    ev.file = "fuzz.log";
    ev.line = 1;
    ev.ls.product = "zeek";
    struct str v = str_make(c->value, strlen(c->value));
    switch (c->type) {
    case IOC_IP:
        ev.core[CORE_SOURCE_IP] = v;
        break;
    case IOC_DOMAIN:
        ev.core[CORE_DNS_QUESTION_NAME] = v;
        break;
    case IOC_URL:
        ev.core[CORE_URL_FULL] = v;
        break;
    case IOC_EMAIL:
        ev.core[CORE_EMAIL_FROM_ADDRESS] = v;
        break;
    case IOC_MD5:
        ev.core[CORE_FILE_HASH_MD5] = v;
        break;
    case IOC_SHA1:
        ev.core[CORE_FILE_HASH_SHA1] = v;
        break;
    case IOC_SHA256:
        ev.core[CORE_FILE_HASH_SHA256] = v;
        break;
    case IOC_FILENAME:
        ev.core[CORE_FILE_NAME] = v;
        break;
    case IOC_USER_AGENT:
        event_add_str(&ev, "user_agent", v);
        break;
    default:
        break;
    }
    struct intel_matcher *m = intel_matcher_new(s);
    const struct intel_hit *hits;
    size_t n = intel_match_event(m, &ev, &hits);
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        uint32_t ids[INTEL_ALERT_MAX_INDICATORS];
        size_t k = 0;
        for (uint32_t id = hits[i].head; id != INTEL_NONE && k < INTEL_ALERT_MAX_INDICATORS;
             id = intel_set_next(s, id))
            ids[k++] = id;
        buf_clear(&b);
        intel_alert_render_json(s, &ev, &hits[i], ids, k, 0, &b);
        size_t j = 0;
        if (memchr(b.data, '\n', b.len) || !fj_value(b.data, b.len, &j, 0) || j != b.len)
            fuzz_fail("invalid intel alert", b.data, b.len);
    }
    buf_free(&b);
    intel_matcher_free(m);
    arena_free(&arena);
}

/* Chunks handed over while reading go into the set, as in scan. */
static int on_chunk(void *opaque, struct ioc_batch *b)
{
    for (size_t i = 0; i < b->niocs; i++)
        if (b->iocs[i].meta >= b->nmetas)
            abort();
    return intel_set_add_batch(opaque, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    char path[64];
    int fd = fuzz_memfd(data + 1, size - 1, path);
    if (fd < 0)
        return 0;
    struct intel_read_opts o;
    intel_read_opts_default(&o);
    o.format = formats[ctl & 3];
    o.type = (ctl >> 2) % (IOC__COUNT + 1) == IOC__COUNT ? INTEL_TYPE_HASH
                                                         : (int)((ctl >> 2) % (IOC__COUNT + 1));
    if (o.type == IOC_PATTERN)
        o.type = INTEL_TYPE_NONE;
    o.max_line = ctl & 0x80 ? 64 : 4096;
    o.max_indicators = 1000;
    struct intel_read_stats st;
    memset(&st, 0, sizeof(st));
    o.stats = &st;
    struct intel_set *s = intel_set_new();
    if (ctl & 0x40) {
        o.chunk = 8;
        o.chunk_fn = on_chunk;
        o.chunk_opaque = s;
    }
    struct ioc_batch b;
    (void)intel_read_path(path, &o, &b);
    close(fd);
    for (size_t i = 0; i < b.nproblems; i++)
        if (!b.problems[i].where || !b.problems[i].why)
            abort();
    char *norm = malloc(70000);
    if (!norm)
        abort();
    for (size_t i = 0; i < b.niocs; i++) {
        const struct ioc *c = &b.iocs[i];
        if (c->meta >= b.nmetas)
            abort();
        size_t n = strlen(c->value);
        if (n > 65536)
            abort();
        const char *why;
        int k = ioc_normalise(c->type, c->value, n, norm, &why);
        bool exact = c->type != IOC_URL && c->type != IOC_FILENAME;
        if (k < 0 || (exact && (k != (int)n || memcmp(norm, c->value, n))))
            fuzz_fail("indicator value not in normal form", c->value, n);
    }
    free(norm);
    if (intel_set_add_batch(s, &b) == 0) {
        for (size_t i = 0; i < b.niocs; i++)
            if (!b.metas[b.iocs[i].meta].revoked)
                check_found(s, &b.iocs[i]);
        if (b.niocs && !b.metas[b.iocs[0].meta].revoked)
            check_alert(s, &b.iocs[0]);
    }
    intel_set_free(s);
    ioc_batch_free(&b);
    return 0;
}
