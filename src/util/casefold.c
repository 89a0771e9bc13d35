/*
 * casefold.c - the length-keeping simple case folding of casefold.h.
 *
 * The two-byte mappings are kept as runs: code points first..last, every
 * step-th one, fold to code point + delta (step 2, delta 1: the alternating
 * capital / small pairs of the Latin, Greek and Cyrillic extensions). A
 * table of the 2,048 code points below U+0800 is filled from them once.
 */
#include "util/casefold.h"

#include <pthread.h>

struct fold_run {
    uint16_t first, last;
    int16_t delta;
    uint8_t step;
};

/* Unicode simple case folding (C and S status) of U+0080..U+07FF where the
 * folding is in U+0080..U+07FF too. */
static const struct fold_run runs[] = {
    {0x00B5, 0x00B5, 775, 1},  {0x00C0, 0x00D6, 32, 1},   {0x00D8, 0x00DE, 32, 1},
    {0x0100, 0x012E, 1, 2},    {0x0132, 0x0136, 1, 2},    {0x0139, 0x0147, 1, 2},
    {0x014A, 0x0176, 1, 2},    {0x0178, 0x0178, -121, 1}, {0x0179, 0x017D, 1, 2},
    {0x0181, 0x0181, 210, 1},  {0x0182, 0x0184, 1, 2},    {0x0186, 0x0186, 206, 1},
    {0x0187, 0x0187, 1, 1},    {0x0189, 0x018A, 205, 1},  {0x018B, 0x018B, 1, 1},
    {0x018E, 0x018E, 79, 1},   {0x018F, 0x018F, 202, 1},  {0x0190, 0x0190, 203, 1},
    {0x0191, 0x0191, 1, 1},    {0x0193, 0x0193, 205, 1},  {0x0194, 0x0194, 207, 1},
    {0x0196, 0x0196, 211, 1},  {0x0197, 0x0197, 209, 1},  {0x0198, 0x0198, 1, 1},
    {0x019C, 0x019C, 211, 1},  {0x019D, 0x019D, 213, 1},  {0x019F, 0x019F, 214, 1},
    {0x01A0, 0x01A4, 1, 2},    {0x01A6, 0x01A6, 218, 1},  {0x01A7, 0x01A7, 1, 1},
    {0x01A9, 0x01A9, 218, 1},  {0x01AC, 0x01AC, 1, 1},    {0x01AE, 0x01AE, 218, 1},
    {0x01AF, 0x01AF, 1, 1},    {0x01B1, 0x01B2, 217, 1},  {0x01B3, 0x01B5, 1, 2},
    {0x01B7, 0x01B7, 219, 1},  {0x01B8, 0x01B8, 1, 1},    {0x01BC, 0x01BC, 1, 1},
    {0x01C4, 0x01C4, 2, 1},    {0x01C5, 0x01C5, 1, 1},    {0x01C7, 0x01C7, 2, 1},
    {0x01C8, 0x01C8, 1, 1},    {0x01CA, 0x01CA, 2, 1},    {0x01CB, 0x01DB, 1, 2},
    {0x01DE, 0x01EE, 1, 2},    {0x01F1, 0x01F1, 2, 1},    {0x01F2, 0x01F4, 1, 2},
    {0x01F6, 0x01F6, -97, 1},  {0x01F7, 0x01F7, -56, 1},  {0x01F8, 0x021E, 1, 2},
    {0x0220, 0x0220, -130, 1}, {0x0222, 0x0232, 1, 2},    {0x023B, 0x023B, 1, 1},
    {0x023D, 0x023D, -163, 1}, {0x0241, 0x0241, 1, 1},    {0x0243, 0x0243, -195, 1},
    {0x0244, 0x0244, 69, 1},   {0x0245, 0x0245, 71, 1},   {0x0246, 0x024E, 1, 2},
    {0x0345, 0x0345, 116, 1},  {0x0370, 0x0372, 1, 2},    {0x0376, 0x0376, 1, 1},
    {0x037F, 0x037F, 116, 1},  {0x0386, 0x0386, 38, 1},   {0x0388, 0x038A, 37, 1},
    {0x038C, 0x038C, 64, 1},   {0x038E, 0x038F, 63, 1},   {0x0391, 0x03A1, 32, 1},
    {0x03A3, 0x03AB, 32, 1},   {0x03C2, 0x03C2, 1, 1},    {0x03CF, 0x03CF, 8, 1},
    {0x03D0, 0x03D0, -30, 1},  {0x03D1, 0x03D1, -25, 1},  {0x03D5, 0x03D5, -15, 1},
    {0x03D6, 0x03D6, -22, 1},  {0x03D8, 0x03EE, 1, 2},    {0x03F0, 0x03F0, -54, 1},
    {0x03F1, 0x03F1, -48, 1},  {0x03F4, 0x03F4, -60, 1},  {0x03F5, 0x03F5, -64, 1},
    {0x03F7, 0x03F7, 1, 1},    {0x03F9, 0x03F9, -7, 1},   {0x03FA, 0x03FA, 1, 1},
    {0x03FD, 0x03FF, -130, 1}, {0x0400, 0x040F, 80, 1},   {0x0410, 0x042F, 32, 1},
    {0x0460, 0x0480, 1, 2},    {0x048A, 0x04BE, 1, 2},    {0x04C0, 0x04C0, 15, 1},
    {0x04C1, 0x04CD, 1, 2},    {0x04D0, 0x052E, 1, 2},    {0x0531, 0x0556, 48, 1},
};

static uint16_t table[0x800];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_fill(void)
{
    for (uint32_t c = 0; c < 0x800; c++)
        table[c] = (uint16_t)((unsigned)(c - 'A') < 26u ? c + 32 : c);
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
        for (uint32_t c = runs[i].first; c <= runs[i].last; c += runs[i].step)
            table[c] = (uint16_t)((int32_t)c + runs[i].delta);
}

uint32_t casefold_cp(uint32_t cp)
{
    if (cp >= 0x800)
        return cp;
    pthread_once(&table_once, table_fill);
    return table[cp];
}

bool casefold_utf8(char *o, const char *s, size_t n)
{
    bool changed = false;
    pthread_once(&table_once, table_fill);
    for (size_t i = 0; i < n; i++) {
        if (i + 8 <= n) { /* eight ASCII bytes at once */
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (!(x & 0x8080808080808080ull)) {
                uint64_t upper = (x + 0x3f3f3f3f3f3f3f3full) & ~(x + 0x2525252525252525ull) &
                                 0x8080808080808080ull; /* 0x80 in each byte 'A'..'Z' */
                changed |= upper != 0;
                x |= upper >> 2;
                memcpy(o + i, &x, 8);
                i += 7;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if ((unsigned)(c - 'A') < 26u) {
                c = (unsigned char)(c + 32);
                changed = true;
            }
            o[i] = (char)c;
            continue;
        }
        unsigned char d = i + 1 < n ? (unsigned char)s[i + 1] : 0;
        if (c >= 0xC2 && c <= 0xDF && (d & 0xC0) == 0x80) { /* two bytes: U+0080..U+07FF */
            uint32_t cp = (uint32_t)(c & 0x1F) << 6 | (d & 0x3F);
            uint32_t f = table[cp];
            if (f != cp) {
                c = (unsigned char)(0xC0 | f >> 6);
                d = (unsigned char)(0x80 | (f & 0x3F));
                changed = true;
            }
            o[i] = (char)c;
            o[++i] = (char)d;
            continue;
        }
        o[i] = (char)c; /* longer characters, continuation and invalid bytes */
    }
    return changed;
}
