/*
 * uuid.h - RFC 4122 UUIDs: parsing, formatting, and name-based version 5
 * UUIDs (SHA-1 over a namespace UUID and a name).
 *
 * STIX identifiers are "type--UUID"; kenchi reads them from bundles and
 * writes its own as version 5 UUIDs, so that the same content always gets
 * the same id (see docs/intel.md, "Sharing back").
 */
#ifndef KENCHI_UTIL_UUID_H
#define KENCHI_UTIL_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UUID_TEXT_LEN 36 /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */

/* Parse exactly the 36 characters s[0..n) (hex digits of either case and
 * four hyphens at 8, 13, 18, 23) into out. Returns 0 or -EINVAL. */
int uuid_parse(const char *s, size_t n, uint8_t out[16]);

/* Write u as 36 lower-case characters and a NUL. */
void uuid_format(const uint8_t u[16], char out[UUID_TEXT_LEN + 1]);

/* The version nibble (1..8 for RFC 4122 UUIDs; 0 for the nil UUID). */
static inline int uuid_version(const uint8_t u[16])
{
    return u[6] >> 4;
}

/* True if the variant bits say RFC 4122 (10xx). */
static inline bool uuid_variant_rfc4122(const uint8_t u[16])
{
    return (u[8] & 0xC0) == 0x80;
}

/* The version 5 UUID of name[0..n) in namespace ns (RFC 4122 section 4.3:
 * SHA-1 of the namespace's 16 bytes followed by the name). */
void uuid_v5(const uint8_t ns[16], const void *name, size_t n, uint8_t out[16]);

#endif
