/*
 * fuzz_stix_bundle.c - the STIX bundle reader (intel/stix-bundle.c), and
 * kenchi's STIX export fed with what it read.
 *
 * The input is read as a bundle (or envelope, list, single object) with a
 * small nesting limit. Besides the sanitizers, the batch must keep its
 * contract: every ioc points at a meta, every JSON field of a meta is one
 * valid JSON array. Each imported indicator is then sighted into an export,
 * the input is also handed to the export as an alert line, and the bundle
 * written must be valid JSON.
 */
#include "fuzz-common.h"

#include "intel/stix-bundle.h"
#include "intel/stix-export.h"

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
    ioc_batch_init(&b, "fuzz.json", "stix");
    struct stix_read_stats st = {0};
    struct stix_read_opts o = {.limits = {.max_depth = 16}};
    stix_objects_read_ex(text, size, "fuzz.json", &o, &b, &st);
    if (st.imported != b.niocs)
        fuzz_fail("imported count", text, size);

    struct stix_export_opts xo = {.identity_name = "fuzz", .created = FUZZ_REF_TIME_NS};
    struct stix_export *x = stix_export_new(&xo);
    for (size_t i = 0; i < b.niocs; i++) {
        const struct ioc *c = &b.iocs[i];
        if (c->meta >= b.nmetas || !c->value || c->type != IOC_PATTERN)
            fuzz_fail("ioc", text, size);
        const struct ioc_meta *m = &b.metas[c->meta];
        check_json_array(m->labels_json);
        check_json_array(m->kill_chain_json);
        check_json_array(m->related_json);
        if (i < 16) {
            const char *seen[2] = {c->value, "192.0.2.1"};
            stix_export_add_sighting(x, c, m, i, m->valid_from, m->valid_until, seen, 2);
        }
    }
    stix_export_add_alert(x, text, size);
    struct buf out;
    buf_init(&out);
    stix_export_write(x, &out);
    size_t i = 0;
    if (!fj_value(out.data, out.len, &i, 0))
        fuzz_fail("invalid JSON", out.data, out.len);
    fj_ws(out.data, out.len, &i);
    if (i != out.len)
        fuzz_fail("trailing bytes", out.data, out.len);
    buf_free(&out);
    stix_export_free(x);
    ioc_batch_free(&b);
    free(text);
    return 0;
}
