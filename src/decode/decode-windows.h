/*
 * decode-windows.h - the Windows event model shared by the Windows decoders.
 *
 * A Windows event reaches kenchi in three forms: JSON as exporters write it
 * (nested {"Event":{"System":..,"EventData":..}} or flat lines), the XML
 * rendering of a record, and binary EVTX files (read through libevtx, which
 * renders each record as XML). Whatever the form, the event must come out the
 * same: the same native field names in the same order, the same log source
 * and the same ECS core. So the form-specific readers (decode-windows.c for
 * JSON, decode-winxml.c for XML, decode-evtx.c for EVTX) only walk their
 * syntax and hand every value to the win_add_*() functions below
 * (decode-winevent.c), which own the naming; win_finish() then derives time,
 * log source and core from the native fields. docs/fields.md ("## Windows")
 * documents the result.
 *
 * Naming (the names SigmaHQ rules use):
 *   System      element text under the element's name (EventID, Channel,
 *               Computer, Level, ...); an attribute under Element_Attribute
 *               (Provider_Name, Provider_Guid, Security_UserID,
 *               Execution_ProcessID, Correlation_ActivityID, ...), except
 *               TimeCreated's SystemTime, which is plain "TimeCreated".
 *               Empty elements add nothing.
 *   EventData   <Data Name="N">v</Data> as N; unnamed <Data> values as one
 *               field "Data" (a string when there is one, else a JSON array
 *               of strings); other children (Binary) under their name.
 *   UserData and other parts (ProcessingErrorData, DebugData, ...): every
 *               leaf element under its own name, its attributes as
 *               Leaf_Attribute; namespace declarations are dropped.
 */
#ifndef KENCHI_DECODE_DECODE_WINDOWS_H
#define KENCHI_DECODE_DECODE_WINDOWS_H

#include "decode/decode.h"

/* Add a value of <System>: the text of element elem (attr.n == 0) or its
 * attribute attr. Numeric System values (EventID, Level, ...) made of
 * decimal digits are typed VT_NUMBER whatever the form said. Empty and null
 * values add nothing. */
void win_add_system(struct event *ev, struct str elem, struct str attr, struct str val,
                    enum value_type t);

/* The type a System value name gets: VT_NUMBER for the numeric System
 * names (EventID, Level, ...) when val is made of decimal digits, else t. */
enum value_type win_system_type(struct str name, struct str val, enum value_type t);

/* True if s is a plain decimal number (no sign, no leading zero). */
bool win_is_decimal(struct str s);

/* Add a named <EventData> value (a null becomes the empty string). */
void win_add_data(struct event *ev, struct str name, struct str val, enum value_type t);

/* Add a leaf of <UserData> or another part: element elem's text (attr.n ==
 * 0) or its attribute attr. xmlns attributes are dropped; a null becomes the
 * empty string. */
void win_add_leaf(struct event *ev, struct str elem, struct str attr, struct str val,
                  enum value_type t);

/* The values of unnamed <Data> elements, collected while reading EventData
 * and added as one field by win_data_list_flush(). Storage is in the event's
 * arena. */
struct win_data_list {
    struct str *v;
    size_t n, cap;
};
void win_data_list_push(struct event *ev, struct win_data_list *l, struct str v);
/* Add the collected values as native "Data" (nothing if there were none)
 * and empty the list. */
void win_data_list_flush(struct event *ev, struct win_data_list *l);

/* The native fields are complete: set @timestamp, the log source (product
 * windows, service from the Channel, category from the event id), the ECS
 * core and the message. Returns 0, or -EINVAL if the event has no EventID
 * (it is then not a Windows event). */
int win_finish(struct decode_ctx *ctx, struct event *ev);

/* Decode ev->raw, the XML rendering of one event (<Event>...</Event>), into
 * ev. The reader is strict about structure (balanced tags, ASCII names,
 * quoted attributes, nothing after the root) and lenient about text (any
 * bytes; unknown entities kept literally). Returns 0, or -EINVAL if the text
 * is not a well-formed Event document; the event's fields are then as they
 * were before the call. */
int win_xml_decode(struct decode_ctx *ctx, struct event *ev);

#endif
