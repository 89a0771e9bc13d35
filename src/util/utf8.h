/*
 * utf8.h - the small character helpers every text decoder needs: a hex
 * digit's value and a code point's UTF-8 bytes. One copy, so that JSON
 * \u escapes, XML character references and Zeek \x escapes agree.
 */
#ifndef KENCHI_UTIL_UTF8_H
#define KENCHI_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Value of a hexadecimal digit (either case), or -1. */
static inline int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Write code point cp (at most U+10FFFF; callers map surrogates to U+FFFD
 * first) as UTF-8 into o, which must have room for 4 bytes. Returns the
 * number of bytes written. */
static inline size_t utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF)
        cp = 0xFFFD;
    if (cp < 0x10000)
        return utf8_put(o, cp);
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

#endif
