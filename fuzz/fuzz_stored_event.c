/*
 * fuzz_stored_event.c - libFuzzer target for reading a stored event's
 * document back into a struct event (hunt/stored-event.h), which the
 * retro-hunt of STIX patterns does for every event it feeds the matcher.
 *
 * The input is the document. Whatever it holds, reading must either refuse
 * it or give an event that event_to_json() writes as one line of valid
 * JSON, and the STIX pattern evaluator must be able to look at it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "hunt/stored-event.h"
#include "intel/stix-pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20) + 16)
        return 0;
    static struct stix_pattern *p;
    if (!p) {
        static const char pat[] = "[ipv4-addr:value = '203.0.113.129' OR domain-name:value LIKE "
                                  "'%.example' OR network-traffic:dst_port > 100]";
        char err[256];
        if (stix_pattern_compile(pat, sizeof(pat) - 1, &p, err, sizeof(err)) < 0)
            abort();
    }
    struct store_row r;
    memset(&r, 0, sizeof(r));
    r.ts_ns = FUZZ_REF_TIME_NS;
    r.file = "fuzz.log";
    r.line = 1;
    r.json = (const char *)data;
    r.json_len = size;
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    if (stored_event_read(&r, 7, &a, &ev) == 0) {
        fuzz_check_event(&ev);
        (void)stix_pattern_match_event(p, &ev);
    }
    arena_free(&a);
    return 0;
}
