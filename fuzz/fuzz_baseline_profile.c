/*
 * fuzz_baseline_profile.c - saved baseline profiles (the blobs of the
 * store's bl_profiles table, src/baseline/bl-module.h "load") on arbitrary
 * bytes, through the engine, for every module of the build. Input: one
 * byte choosing the module, one the kind, the entity up to a NUL, then the
 * blob. A module must refuse what it cannot read (-EINVAL) and leave
 * itself usable: what it took is shown (`kenchi baseline show`) and saved
 * again, and what it saves it must take back.
 */
#include "fuzz-common.h"

#include "baseline/baseline.h"
#include "baseline/bl-module.h"
#include "store/store.h"

static struct baseline *engine(void)
{
    static struct baseline *b;
    if (!b) {
        struct bl_config c;
        bl_config_default(&c);
        c.max_entities = 64; /* memory stays bounded however many inputs */
        char *err = NULL;
        b = baseline_new(&c, &err);
        if (!b)
            abort();
    }
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3 || size > 1 << 20)
        return 0;
    struct baseline *b = engine();
    struct baseline_stats st;
    baseline_stats(b, &st);
    if (!st.nmodules)
        return 0;
    const char *module = st.module[data[0] % st.nmodules].name;
    const char *kind = bl_kind_name((enum bl_kind)(data[1] % BL_KIND__COUNT));
    const uint8_t *p = data + 2, *end = data + size;
    const uint8_t *nul = memchr(p, 0, (size_t)(end - p) < 65 ? (size_t)(end - p) : 65);
    if (!nul || nul == p)
        return 0;
    char entity[65];
    memcpy(entity, p, (size_t)(nul - p) + 1);
    const uint8_t *blob = nul + 1;
    size_t n = (size_t)(end - blob);
    if (baseline_load_blob(b, module, kind, entity, blob, n) < 0)
        return 0;
    struct buf j;
    buf_init(&j);
    buf_putc(&j, '{');
    baseline_show(b, -1, entity, &j);
    buf_putc(&j, '}');
    size_t pos = 0;
    if (!fj_value(j.data, j.len, &pos, 0) || pos != j.len)
        fuzz_fail("invalid JSON from show", j.data, j.len);
    buf_free(&j);
    /* what a module took it saves again, and takes back */
    struct store_bl_rows r;
    if (baseline_take_rows(b, BL_SAVE_PROFILES, &r) < 0)
        abort();
    for (size_t i = 0; i < r.np; i++)
        if (baseline_load_blob(b, r.p[i].module, r.p[i].kind, r.p[i].entity, r.p[i].blob,
                               r.p[i].n) < 0)
            abort();
    return 0;
}
