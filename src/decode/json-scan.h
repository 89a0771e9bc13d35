/*
 * json-scan.h - walking the raw JSON arrays that json_flatten() keeps whole.
 *
 * json_flatten() leaves arrays as raw JSON text (VT_JSON fields), because
 * their meaning is the format's: M365's Name/Value lists, its folder lists,
 * Zeek's address sets. A decoder that unfolds one walks it with these
 * helpers: an iterator over the elements of an array or the members of an
 * object, handing out raw slices of the text (no copy, no allocation), and a
 * string decoder that copies into the arena only when the string has escapes.
 *
 * The text is usually already validated by json_flatten(), but every helper
 * still checks its bounds and reports malformed text, so a decoder may hand
 * them anything.
 */
#ifndef KENCHI_DECODE_JSON_SCAN_H
#define KENCHI_DECODE_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "event/event.h"
#include "util/arena.h"

struct json_iter {
    const char *s;
    size_t n;
    size_t i;
    char close; /* ']' or '}' */
    bool first;
    bool over; /* the end or an error was reached */
    int end;   /* what every later call returns: 0 or -EINVAL */
};

/* Start walking the array or object whose raw text is v (leading and
 * trailing blanks allowed). Returns 0, or -EINVAL if v is neither. */
int json_iter_init(struct json_iter *it, struct str v);

/* Next element. For arrays *key is left alone (pass NULL); for objects
 * *key receives the raw key token (with its quotes). *val receives the raw
 * value text. Returns 1 for an element, 0 at the end, -EINVAL on malformed
 * text (the walk is then over). */
int json_iter_next(struct json_iter *it, struct str *key, struct str *val);

/* The value_type a raw JSON value renders as: VT_STRING for a string
 * token, VT_JSON for arrays and objects, VT_BOOL, VT_NULL, VT_NUMBER. */
enum value_type json_raw_type(struct str v);

/* Decode the raw string token tok (quotes included) into *out: a slice of
 * tok when it has no escapes, else a copy unescaped into arena a (\uXXXX
 * becomes UTF-8; lone surrogates become U+FFFD). Returns 0 or -EINVAL. */
int json_string_decode(struct arena *a, struct str tok, struct str *out);

/* A raw scalar as a field value: strings decoded (json_string_decode),
 * other values kept as their raw text; *type is json_raw_type(). Returns 0
 * or -EINVAL. */
int json_value_decode(struct arena *a, struct str raw, struct str *out, enum value_type *type);

/* Does the raw key token equal lit? (Keys are compared undecoded: the
 * names decoders look for have no escapes.) */
bool json_key_is(struct str key, const char *lit);

#endif
