/*
 * fuzz_output_fields.c - what the outputs read from outside: the webhook's
 * reading of a receiver's Retry-After value, and the exec output's
 * argument templates (checked as configure does, then expanded against an
 * alert's JSON whatever the check said).
 *
 * Input: TEMPLATE '\n' ALERT-JSON. The whole input is also read as a
 * Retry-After value. Contracts: the wait is -1 or within 0 ..
 * WEBHOOK_RETRY_AFTER_CAP_S; an expansion is a string of at most
 * EXEC_ARG_MAX bytes.
 */
#include "fuzz-common.h"

#include <jansson.h>

#include "output/output-exec.h"
#include "output/output-webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t wait = webhook_retry_after_s((const char *)data, size, 1709596800);
    if (wait < -1 || wait > WEBHOOK_RETRY_AFTER_CAP_S)
        fuzz_fail("Retry-After wait out of range", (const char *)data, size);

    const uint8_t *nl = memchr(data, '\n', size);
    size_t tn = nl ? (size_t)(nl - data) : size;
    char *tmpl = malloc(tn + 1);
    if (!tmpl)
        return 0;
    memcpy(tmpl, data, tn);
    tmpl[tn] = '\0'; /* a NUL inside ends the template, as in YAML's checked strings */
    size_t nph = 0;
    (void)exec_template_check(tmpl, &nph);
    json_t *alert = nl ? json_loadb((const char *)nl + 1, size - tn - 1, 0, NULL) : NULL;
    char *out = exec_template_expand(tmpl, alert);
    if (out && strlen(out) > EXEC_ARG_MAX)
        fuzz_fail("argument longer than EXEC_ARG_MAX", out, strlen(out));
    free(out);
    json_decref(alert);
    free(tmpl);
    return 0;
}
