/*
 * output.c - the table of output kinds (see output.h). Each kind is one
 * output-TYPE.c exporting its `const struct output_ops output_TYPE`.
 */
#include "output/output.h"

#include <string.h>

extern const struct output_ops output_jsonl;
extern const struct output_ops output_webhook;
extern const struct output_ops output_syslog;
extern const struct output_ops output_exec;

static const struct output_ops *const kinds[] = {
    &output_jsonl, &output_webhook, &output_syslog, &output_exec, NULL,
};

const struct output_ops *output_kind(size_t i)
{
    return i < sizeof(kinds) / sizeof(kinds[0]) ? kinds[i] : NULL;
}

const struct output_ops *output_find(const char *type)
{
    for (size_t i = 0; kinds[i]; i++)
        if (!strcmp(kinds[i]->type, type))
            return kinds[i];
    return NULL;
}

unsigned output_check_keys(struct conf_ctx *c, const struct ynode *node, const char *const *extra)
{
    static const char *const common[] = {OUTPUT_COMMON_KEYS};
    const char *all[64];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        all[n++] = common[i];
    for (size_t i = 0; extra && extra[i] && n + 1 < sizeof(all) / sizeof(all[0]); i++)
        all[n++] = extra[i];
    all[n] = NULL;
    return conf_check_keys(c, node, all);
}

int output_retry_settings(struct conf_ctx *c, const struct ynode *node, struct output_retry *r)
{
    r->initial_ns = OUTPUT_RETRY_INITIAL_NS;
    r->max_ns = OUTPUT_RETRY_MAX_NS;
    const struct ynode *m = ynode_get(node, OUTPUT_RETRY_KEY);
    if (!m)
        return 0;
    if (!conf_is_map(c, m, OUTPUT_RETRY_KEY))
        return -1;
    static const char *const keys[] = {"initial", "max", NULL};
    unsigned before = c->nerrors;
    conf_check_keys(c, m, keys);
    const int64_t ms = 1000000, day = 86400000000000LL;
    conf_duration(c, m, "initial", 10 * ms, day, &r->initial_ns);
    conf_duration(c, m, "max", 10 * ms, day, &r->max_ns);
    if (c->nerrors == before && r->initial_ns > r->max_ns)
        conf_error(c, m, "%s: initial (%.3gs) is longer than max (%.3gs)", OUTPUT_RETRY_KEY,
                   r->initial_ns / 1e9, r->max_ns / 1e9);
    return c->nerrors == before ? 0 : -1;
}
