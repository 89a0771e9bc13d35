/*
 * stored-event.h - an event of the store back into a struct event, for
 * what evaluates events (the STIX pattern matcher) over stored history.
 *
 * The store keeps each event as the JSON event_to_json() wrote; this reads
 * that JSON back: the core ECS fields into their slots, the native fields
 * (strings, numbers as their text, booleans, null, nested JSON as its raw
 * text) in
 * their order, the log source, the module, the message. Time, file and
 * line come from the store's row.
 */
#ifndef KENCHI_HUNT_STORED_EVENT_H
#define KENCHI_HUNT_STORED_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "store/store.h"

/* Fill ev (its strings in arena a) from row r (read with its document).
 * ev->id is set to id (the caller's choice: the row id lets a matcher's
 * report lead back to the row). Values without escapes point into r->json:
 * ev is valid while the row is (until the next call on the store).
 * Returns 0, or -EBADMSG when the document is not an event's JSON object
 * (a document of more than 1 MiB is refused too). */
int stored_event_read(const struct store_row *r, uint64_t id, struct arena *a, struct event *ev);

#endif
