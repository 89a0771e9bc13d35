/*
 * fuzz_sigma_rule.c - libFuzzer target for the Sigma rule loader.
 *
 * The input is any YAML text, loaded as a rule file into a set with a small
 * log source mapping; whatever loads is then matched against a fixed event
 * with a few fields (string, number, JSON array), so the compiled matchers
 * run too. Refusals are fine; crashes, leaks and hangs are not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/sigma.h"
#include "util/arena.h"

static char mapping_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char mapping[] = "logsources:\n"
                                  "  - rule: {product: windows}\n"
                                  "    events: {logsource.product: windows}\n"
                                  "  - rule: {product: windows, category: process_creation}\n"
                                  "    events: {Channel: Security, EventID: 4688}\n"
                                  "    fieldmappings: {Image: NewProcessName}\n";
    strcpy(mapping_path, "/tmp/kenchi-fuzz-ls-XXXXXX");
    int fd = mkstemp(mapping_path);
    if (fd < 0 || write(fd, mapping, sizeof(mapping) - 1) < 0)
        abort();
    close(fd);
    return 0;
}

static int on_match(void *opaque, const struct sigma_rule *r, const struct event *ev,
                    const struct sigma_hit_field *f, size_t nf)
{
    (void)r;
    (void)ev;
    (void)f;
    (void)nf;
    (*(int *)opaque)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sigma_opts o = {mapping_path, NULL};
    struct sigma_set *s;
    if (sigma_set_new(&o, &s, stderr))
        abort();
    sigma_set_load_text(s, "fuzz.yml", (const char *)data, size);
    sigma_set_finish(s);
    struct arena a;
    arena_init(&a, 4096);
    struct event ev;
    event_init(&ev, &a);
    ev.ls.product = "windows";
    event_add_copy(&ev, "Channel", "Security", 8, VT_STRING);
    event_add_copy(&ev, "EventID", "4688", 4, VT_NUMBER);
    event_add_copy(&ev, "NewProcessName", "C:\\Windows\\System32\\cmd.exe", 27, VT_STRING);
    event_add_copy(&ev, "CommandLine", "cmd.exe /c whoami -all", 22, VT_STRING);
    event_add_copy(&ev, "Tags", "[\"a\",\"b\\u00e9\",3]", 17, VT_JSON);
    ev.message = str_make("free text message", 17);
    struct sigma_matcher *m = sigma_matcher_new(s);
    int hits = 0;
    if (m)
        sigma_match(m, &ev, on_match, &hits);
    sigma_matcher_free(m);
    arena_free(&a);
    sigma_set_free(s);
    return 0;
}
