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
 *     mu), Latin Extended-A and -B (to their small letters, some in the
 *     IPA block), Greek and Coptic (final sigma to sigma, the symbol forms
 *     ϐ ϑ ϕ ϖ ϰ ϱ ϵ to their letters), Cyrillic and Cyrillic Supplement,
 *     Armenian.
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

/* The bytes of s[0..n) ORed together, a word at a time (the last word,
 * or two half words, overlapping the ones before). */
static inline uint64_t casefold_or_bytes(const char *s, size_t n, uint64_t (*f)(uint64_t))
{
    uint64_t acc = 0, x;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, s + i, 8);
            acc |= f(x);
        }
        memcpy(&x, s + n - 8, 8);
        return acc | f(x);
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        return f((uint64_t)a << 32 | b);
    }
    x = 0;
    for (size_t i = 0; i < n; i++)
        x = x << 8 | (unsigned char)s[i];
    return f(x);
}

static inline uint64_t casefold_word_id(uint64_t x)
{
    return x;
}

/* 0x80 in each byte of x that is 'A'..'Z' or >= 0x80. */
static inline uint64_t casefold_word_marks(uint64_t x)
{
    uint64_t low7 = x & 0x7f7f7f7f7f7f7f7full;
    uint64_t upper = ~x & (low7 + 0x3f3f3f3f3f3f3f3full) & ~(low7 + 0x2525252525252525ull);
    return upper | x;
}

/* Could folding change s[0..n)? True when it holds an ASCII capital or any
 * byte >= 0x80 (then casefold_utf8() decides); false means the text is its
 * own folding. */
static inline bool casefold_needed(const char *s, size_t n)
{
    return (casefold_or_bytes(s, n, casefold_word_marks) & 0x8080808080808080ull) != 0;
}

/* Does s[0..n) hold a byte >= 0x80 (text that is not plain ASCII)? */
static inline bool casefold_non_ascii(const char *s, size_t n)
{
    return (casefold_or_bytes(s, n, casefold_word_id) & 0x8080808080808080ull) != 0;
}

#endif
