/*
 * Unit tests for event ids: event_assign_id() hashes short records in one
 * call and long ones in streaming form; both must give the id the layout in
 * event.h promises (XXH3-64 over path, NUL, line and record numbers, raw
 * text), so that re-reading a file never changes an id.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "event/event.h"
#include "util/arena.h"

/* The id as specified, computed the long way. */
static uint64_t reference_id(const char *file, uint64_t line, uint64_t record, const char *raw,
                             size_t n)
{
    XXH3_state_t *st = XXH3_createState();
    XXH3_64bits_reset(st);
    if (file)
        XXH3_64bits_update(st, file, strlen(file) + 1);
    uint64_t pos[2] = {line, record};
    XXH3_64bits_update(st, pos, sizeof(pos));
    XXH3_64bits_update(st, raw, n);
    uint64_t id = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return id;
}

static void test_id_layout(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    static const size_t sizes[] = {0, 1, 100, 200, 990, 1000, 1008, 1100, 5000, 200000};
    char *raw = malloc(200000);
    assert_non_null(raw);
    for (size_t i = 0; i < 200000; i++)
        raw[i] = (char)('a' + i % 26);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (int withfile = 0; withfile < 2; withfile++) {
            struct event ev;
            event_init(&ev, &a);
            ev.file = withfile ? "/var/log/mail.log" : NULL;
            ev.line = 12345 + k;
            ev.record = k;
            ev.raw = str_make(raw, sizes[k]);
            event_assign_id(&ev);
            assert_true(ev.id == reference_id(ev.file, ev.line, ev.record, raw, sizes[k]));
        }
    }
    free(raw);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
