/*
 * fuzz_config.c - the live daemon's configuration reader (config_parse:
 * YAML, typed values, every source and output kind's own keys, the
 * baselines section) on arbitrary text, and the reader of the baselines
 * section alone (config_parse_baselines, `kenchi scan --config`).
 * Problems are only counted (no output); a configuration that loads is
 * freed again.
 */
#include "fuzz-common.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    struct config *cf = NULL;
    int rc = config_parse("fuzz.yml", (const char *)data, size, NULL, &cf);
    if ((rc == 0) != (cf != NULL))
        abort(); /* a configuration exactly when there is no problem */
    config_free(cf);
    struct bl_config bc;
    rc = config_parse_baselines("fuzz.yml", (const char *)data, size, NULL, &bc, NULL);
    if (rc == 0 && bl_config_problem(&bc) != NULL)
        abort(); /* a section that loads is one the engine takes */
    bl_config_free(&bc);
    return 0;
}
