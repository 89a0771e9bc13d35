/*
 * fuzz_scope_target.c - libFuzzer target for the reading of `kenchi scope`
 * --indicator and --entity values (scope_parse_target).
 *
 * The first byte chooses indicator or entity; the rest is the argument.
 * A value is either refused with a reason, or accepted with a known type
 * and a NUL-terminated, non-empty normalised value that reads back as the
 * same type and value (normalising is idempotent).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hunt/scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    bool entity = data[0] & 1;
    char *arg = malloc(size);
    if (!arg)
        return 0;
    memcpy(arg, data + 1, size - 1);
    arg[size - 1] = '\0';
    struct scope_target t;
    const char *why = NULL;
    int rc = scope_parse_target(arg, entity, &t, &why);
    if (rc < 0) {
        if (!why)
            abort();
    } else {
        size_t n = strnlen(t.value, SCOPE_VALUE_MAX);
        if (rc != 0 || n == 0 || n == SCOPE_VALUE_MAX || t.kind > SCOPE_HOST || t.entity != entity)
            abort();
        /* the normalised value, with its type forced, reads back the same */
        static const char *const prefix[] = {"ip:", "domain:", "email:", "account:", "host:"};
        bool forced_ok = entity ? t.kind != SCOPE_DOMAIN : t.kind <= SCOPE_EMAIL;
        if (forced_ok) {
            char again[SCOPE_VALUE_MAX + 16];
            snprintf(again, sizeof(again), "%s%s", prefix[t.kind], t.value);
            struct scope_target u;
            if (scope_parse_target(again, entity, &u, &why) != 0 || u.kind != t.kind ||
                strcmp(u.value, t.value))
                abort();
        }
    }
    free(arg);
    return 0;
}
