/*
 * uuid.c - see uuid.h. SHA-1 comes from OpenSSL (EVP), already linked for
 * TLS and hashing.
 */
#include "util/uuid.h"

#include <errno.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "util/utf8.h"

int uuid_parse(const char *s, size_t n, uint8_t out[16])
{
    if (n != UUID_TEXT_LEN)
        return -EINVAL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -EINVAL;
            i++;
            continue;
        }
        int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[o++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return 0;
}

void uuid_format(const uint8_t u[16], char out[UUID_TEXT_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u[i] >> 4];
        out[o++] = hex[u[i] & 15];
    }
    out[o] = '\0';
}

void uuid_v5(const uint8_t ns[16], const void *name, size_t n, uint8_t out[16])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) || !EVP_DigestUpdate(ctx, ns, 16) ||
        !EVP_DigestUpdate(ctx, name, n) || !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen < 16)
        abort(); /* SHA-1 is always there; no sane recovery */
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 16; i++)
        out[i] = md[i];
    out[6] = (uint8_t)((out[6] & 0x0F) | 0x50); /* version 5 */
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80); /* RFC 4122 variant */
}
