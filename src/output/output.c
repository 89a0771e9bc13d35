/*
 * output.c - the table of output kinds (see output.h). Each kind is one
 * output-TYPE.c exporting its `const struct output_ops output_TYPE`.
 */
#include "output/output.h"

#include <string.h>

extern const struct output_ops output_jsonl;

static const struct output_ops *const kinds[] = {
    &output_jsonl, NULL, /* kinds are added here as they are written */
};

const char *const output_types[] = {
    "jsonl",
    NULL,
};

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
