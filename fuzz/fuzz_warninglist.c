/*
 * fuzz_warninglist.c - the MISP warning list loader: the input is one
 * list.json (read from a memory file), loaded and then applied to a fixed
 * batch of indicators of every type. Besides the sanitizers, a flagged
 * indicator must name a list that was loaded, and the per-list counts must
 * add up to what warninglist_apply() says it flagged. The first input byte
 * chooses Hyperscan or the plain substring scan.
 */
#include "fuzz-common.h"
#include "intel/warninglist.h"

static const struct {
    enum ioc_type t;
    const char *v;
} indicators[] = {
    {IOC_IP, "192.0.2.53"},
    {IOC_IP, "198.51.100.0/24"},
    {IOC_IP, "2001:db8::1"},
    {IOC_DOMAIN, "www.example.com"},
    {IOC_DOMAIN, "example"},
    {IOC_URL, "https://www.example.com/path?q=1"},
    {IOC_EMAIL, "abuse@mailinator.com"},
    {IOC_MD5, "d41d8cd98f00b204e9800998ecf8427e"},
    {IOC_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {IOC_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {IOC_FILENAME, "invoice.tar"},
    {IOC_USER_AGENT, "python-requests/2.31.0"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char path[64];
    int fd = fuzz_memfd(data + 1, size - 1, path);
    if (fd < 0)
        return 0;
    struct warninglist_opts o;
    warninglist_opts_default(&o);
    o.no_hyperscan = data[0] & 1;
    o.max_entries = 10000;
    struct warninglists *wl = warninglists_new(&o);
    if (!wl)
        abort();
    int loaded = warninglists_load(wl, path);
    close(fd);
    if (loaded > 1 || (size_t)(loaded > 0 ? loaded : 0) != warninglists_count(wl))
        abort();
    struct ioc_batch b;
    ioc_batch_init(&b, "fuzz", "list");
    struct ioc_meta m;
    ioc_meta_init(&m);
    uint32_t mi = ioc_batch_add_meta(&b, &m);
    for (size_t i = 0; i < sizeof(indicators) / sizeof(indicators[0]); i++)
        if (ioc_batch_add(&b, indicators[i].t, indicators[i].v, strlen(indicators[i].v), mi, true,
                          "fuzz") < 0)
            abort();
    uint64_t flagged = warninglist_apply(wl, &b);
    uint64_t sum = 0;
    for (size_t i = 0; i < warninglists_count(wl); i++) {
        struct warninglist_info in;
        warninglists_info(wl, i, &in);
        sum += in.flagged;
    }
    if (sum != flagged)
        abort();
    for (size_t i = 0; i < b.niocs; i++) {
        const char *w = b.iocs[i].warning;
        if (!w)
            continue;
        bool known = false;
        for (size_t k = 0; k < warninglists_count(wl); k++) {
            struct warninglist_info in;
            warninglists_info(wl, k, &in);
            known |= !strcmp(in.name, w);
        }
        if (!known)
            abort();
    }
    for (size_t i = 0; i < warninglists_nproblems(wl); i++)
        if (!warninglists_problem(wl, i)->where || !warninglists_problem(wl, i)->why)
            abort();
    ioc_batch_free(&b);
    warninglists_free(wl);
    return 0;
}
