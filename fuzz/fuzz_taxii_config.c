/*
 * fuzz_taxii_config.c - libFuzzer target for the TAXII part of the
 * intelligence configuration (intel/taxii-config.c): any YAML text.
 *
 * The parser reads no file (file names are only kept), so the input is
 * all there is. Whatever loads must hold the configuration's promises: every
 * source has a unique, well-formed name, an http(s) URL and a collection,
 * limits within their ranges, and credentials that fit the auth type.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intel/taxii.h"

static void check(const struct taxii_source *s)
{
    if (!s->name || !s->url || !s->collection || !s->name[0] || strlen(s->name) > 64)
        abort();
    if (strncasecmp(s->url, "https://", 8) && strncasecmp(s->url, "http://", 7))
        abort();
    if (s->timeout_s < 1 || s->connect_timeout_s < 1 || s->connect_timeout_s > s->timeout_s)
        abort();
    if (s->max_bytes < 4096 || s->retries < 0 || s->retries > 10 || s->max_pages < 1)
        abort();
    if (s->auth == TAXII_AUTH_BASIC && (!s->user || !s->password == !s->password_file))
        abort();
    if (s->auth == TAXII_AUTH_BEARER && !s->token == !s->token_file)
        abort();
    if (s->auth != TAXII_AUTH_BASIC && (s->user || s->password || s->password_file))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct taxii_config cfg;
    char err[512];
    if (!taxii_config_parse("fuzz.yml", (const char *)data, size, &cfg, NULL, err, sizeof(err))) {
        for (size_t i = 0; i < cfg.n; i++) {
            check(&cfg.sources[i]);
            if (taxii_config_find(&cfg, cfg.sources[i].name) != &cfg.sources[i])
                abort(); /* names are unique */
        }
    } else if (!strstr(err, "fuzz.yml")) {
        abort(); /* every refusal names its place */
    }
    taxii_config_free(&cfg);
    return 0;
}
