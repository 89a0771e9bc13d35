/*
 * fuzz_misp.c - the MISP event reader (intel/misp.c): an event, a list of
 * events or a restSearch answer. Besides the sanitizers, the batch must
 * keep its contract: every ioc points at a meta and has a value, the
 * counts add up, and every JSON field of a meta is one valid JSON array.
 */
#include "fuzz-common.h"

#include "intel/misp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init_tz();
    return 0;
}

static void check_json_array(const char *s)
{
    if (!s)
        return;
    size_t n = strlen(s), i = 0;
    if (s[0] != '[' || !fj_value(s, n, &i, 0) || i != n)
        fuzz_fail("meta JSON field", s, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_exact_copy(data, size);
    struct ioc_batch b;
    ioc_batch_init(&b, "fuzz.json", "misp");
    struct misp_read_stats st = {0};
    struct misp_read_opts o = {.limits = {.max_depth = 16}};
    misp_json_read_ex(text, size, "fuzz.json", &o, &b, &st);
    if (st.imported != b.niocs || st.not_ids > st.imported)
        fuzz_fail("counts", text, size);
    for (size_t i = 0; i < b.niocs; i++) {
        const struct ioc *c = &b.iocs[i];
        if (c->meta >= b.nmetas || !c->value || (unsigned)c->type >= IOC__COUNT)
            fuzz_fail("ioc", text, size);
    }
    for (uint32_t i = 0; i < b.nmetas; i++) {
        check_json_array(b.metas[i].labels_json);
        check_json_array(b.metas[i].related_json);
    }
    ioc_batch_free(&b);
    free(text);
    return 0;
}
