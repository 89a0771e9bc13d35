/*
 * output.c - the table of output kinds (see output.h). Each kind is one
 * output-TYPE.c exporting its `const struct output_ops output_TYPE`.
 */
#include "output/output.h"

#include <string.h>

static const struct output_ops *const kinds[] = {
    NULL, /* kinds are added here as they are written */
};

const char *const output_types[] = {
    NULL,
};

const struct output_ops *output_find(const char *type)
{
    for (size_t i = 0; kinds[i]; i++)
        if (!strcmp(kinds[i]->type, type))
            return kinds[i];
    return NULL;
}
