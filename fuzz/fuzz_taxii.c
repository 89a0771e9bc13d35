/*
 * fuzz_taxii.c - libFuzzer target for what a TAXII 2.1 server sends back
 * (intel/taxii-resp.c): the discovery / API root document, the collections
 * list, the objects envelope, TAXII error messages, the Content-Type and
 * date headers, and the cursor text kept between pulls.
 *
 * Every reader gets the same input. Refusals are fine; crashes, leaks,
 * hangs and broken contracts are not: a cursor that reads must write back
 * to text that reads to the same cursor, and whatever a reader keeps stays
 * within its bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>
#include <string.h>

#include "intel/taxii-resp.h"

static void check_cursor(const char *text)
{
    char err[256];
    struct taxii_cursor c;
    if (taxii_cursor_parse(text, &c, err, sizeof(err))) {
        taxii_cursor_free(&c);
        return;
    }
    /* a parsed cursor writes back to text that parses to the same cursor */
    char *out = taxii_cursor_format(&c, NULL);
    struct taxii_cursor d;
    if (out && taxii_cursor_parse(out, &d, err, sizeof(err))) {
        fprintf(stderr, "fuzz: cursor '%s' written back as '%s' does not read: %s\n", text, out,
                err);
        abort();
    }
    if (out) {
        if (d.n != c.n || strcmp(d.all, c.all))
            abort();
        for (size_t i = 0; i < c.n; i++)
            if (strcmp(taxii_cursor_get(&d, c.e[i].id), c.e[i].ts))
                abort();
        taxii_cursor_free(&d);
    }
    free(out);
    /* moving one entry on keeps the cursor readable */
    if (c.n && !taxii_cursor_set(&c, c.e[0].id, "2262-01-01T00:00:00Z")) {
        out = taxii_cursor_format(&c, c.e[0].id);
        if (!out || strcmp(out, "2262-01-01T00:00:00Z"))
            abort();
        free(out);
    }
    taxii_cursor_free(&c);
}

/* The envelope scanner against jansson: the same texts are JSON, and what
 * both read agrees. (jansson also refuses numbers too large for its types;
 * the scanner takes those, as the grammar does.) */
static void check_envelope_against_jansson(const char *s, size_t size, int erc,
                                           const struct taxii_envelope *e, const char *err)
{
    json_error_t je;
    json_t *root = json_loadb(s, size, JSON_DECODE_ANY, &je);
    if (!root) {
        if (!erc && !strstr(je.text, "too big") && !strstr(je.text, "overflow")) {
            fprintf(stderr, "fuzz: the envelope scanner took what jansson refuses: %s\n", je.text);
            abort();
        }
        return;
    }
    if (erc) {
        /* (jansson lets NUL bytes through between tokens; they are not JSON) */
        if (!strncmp(err, "bad JSON", 8) && !strstr(err, "nested deeper") &&
            !memchr(s, '\0', size)) {
            fprintf(stderr, "fuzz: the envelope scanner refused JSON: %s\n", err);
            abort();
        }
        json_decref(root);
        return;
    }
    const json_t *more = json_object_get(root, "more");
    const json_t *next = json_object_get(root, "next");
    const json_t *objs = json_object_get(root, "objects");
    if (e->more != (more && json_is_true(more)))
        abort();
    size_t nobj = json_is_array(objs) ? json_array_size(objs) : 0;
    if (e->nobjects != nobj)
        abort();
    const char *nv = json_is_string(next) ? json_string_value(next) : "";
    if (strcmp(e->next ? e->next : "", nv) && !memchr(nv, '\0', json_string_length(next)))
        abort();
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char err[512];

    struct taxii_root_doc d;
    if (!taxii_parse_root(s, size, &d, err, sizeof(err))) {
        if (d.discovery && d.nroots > TAXII_MAX_ROOTS)
            abort();
        for (size_t i = 0; i < d.nroots; i++)
            if (strlen(d.roots[i]) > TAXII_MAX_STRING)
                abort();
    }
    taxii_root_doc_free(&d);

    struct taxii_collections c;
    if (!taxii_parse_collections(s, size, &c, err, sizeof(err)))
        for (size_t i = 0; i < c.n; i++)
            if (!c.v[i].id || !c.v[i].id[0])
                abort();
    taxii_collections_free(&c);

    struct taxii_envelope e;
    int erc = taxii_parse_envelope(s, size, &e, err, sizeof(err));
    if (!erc) {
        int64_t t;
        if (e.newest_added[0] && !taxii_timestamp_read(e.newest_added, strlen(e.newest_added), &t))
            abort();
        if (e.next && (!e.next[0] || strlen(e.next) > TAXII_MAX_STRING))
            abort();
    }
    check_envelope_against_jansson(s, size, erc, &e, err);
    taxii_envelope_free(&e);

    char said[256];
    if (taxii_error_text(s, size, said, sizeof(said)))
        for (const char *p = said; *p; p++)
            if ((unsigned char)*p < 0x20)
                abort(); /* no control characters reach a message */

    /* header values and cursors are text lines */
    if (size < 1 << 16) {
        char *z = malloc(size + 1);
        if (!z)
            return 0;
        memcpy(z, data, size);
        z[size] = '\0';
        taxii_check_media_type(z, err, sizeof(err));
        taxii_media_is_21(z);
        int64_t t;
        taxii_timestamp_read(z, strlen(z), &t);
        check_cursor(z);
        char *esc = taxii_escape(z);
        free(esc);
        free(z);
    }
    return 0;
}
