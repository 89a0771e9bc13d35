/*
 * casefold.h - case folding of UTF-8 text for case-insensitive matching.
 *
 * The folding is Unicode simple case folding (the C and S mappings of the
 * Unicode Character Database's CaseFolding.txt) restricted to mappings that
 * keep a character's UTF-8 length:
 *
 *   - ASCII A-Z to a-z;
 *   - every code point of U+0080..U+07FF (two bytes in UTF-8) whose simple
 *     folding is also in that range: Latin-1 Supplement (À-Þ, µ to Greek
 *     mu), Latin Extended-A and -B, IPA, Greek and Coptic (final sigma to
 *     sigma, the symbol forms ϐ ϑ ϕ ϖ ϰ ϱ ϵ to their letters), Cyrillic and
 *     Cyrillic Supplement, Armenian.
 *
 * Left as they are: code points of three and four bytes (Latin Extended
 * Additional, Greek Extended, Georgian, Cherokee, Glagolitic, fullwidth
 * forms, Deseret ...) and the few two-byte ones whose folding changes the
 * length: U+017F LATIN SMALL LETTER LONG S (to "s"), U+023A and U+023E
 * (to three-byte letters); U+0130 (capital I with dot) and U+00DF (sharp s)
 * have no simple folding. Invalid UTF-8 is left byte for byte.
 *
 * Because lengths are kept, a folded text has the same byte offsets as the
 * original: a prefix, suffix or substring of the folded text is the folded
 * prefix, suffix or substring, and the folded text can stand for the
 * original wherever offsets matter.
 */
#ifndef KENCHI_UTIL_CASEFOLD_H
#define KENCHI_UTIL_CASEFOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The simple case folding of code point cp when it and the result are both
 * in U+0000..U+07FF (see above); cp itself otherwise. */
uint32_t casefold_cp(uint32_t cp);

/* Fold s[0..n) into o[0..n) (o may be s). Returns true if a byte changed. */
bool casefold_utf8(char *o, const char *s, size_t n);

/* Could folding change s[0..n)? True when it holds an ASCII capital or any
 * byte >= 0x80 (then casefold_utf8() decides); false means the text is its
 * own folding. Eight bytes at a time. */
static inline bool casefold_needed(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t low7 = x & 0x7f7f7f7f7f7f7f7full;
        /* 0x80 in each byte 'A'..'Z' (below 0x80), or in each byte >= 0x80 */
        uint64_t upper = ~x & (low7 + 0x3f3f3f3f3f3f3f3full) & ~(low7 + 0x2525252525252525ull);
        if ((upper | x) & 0x8080808080808080ull)
            return true;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || (unsigned)(c - 'A') < 26u)
            return true;
    }
    return false;
}

/* Does s[0..n) hold a byte >= 0x80 (text that is not plain ASCII)? */
static inline bool casefold_non_ascii(const char *s, size_t n)
{
    size_t i = 0;
    uint64_t acc = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        acc |= x;
    }
    for (; i < n; i++)
        acc |= (unsigned char)s[i];
    return (acc & 0x8080808080808080ull) != 0;
}

#endif
