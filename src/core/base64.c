#include "core/base64.h"

#include <openssl/evp.h>

int gw_b64_encode(const void *p, size_t n, gw_buf_t *out)
{
    const unsigned char *in = p;
    size_t need = 4 * ((n + 2) / 3);
    char *at;

    if (n > (size_t)1 << 30)
        return GW_ETOOBIG;
    at = gw_buf_extend(out, need);
    if (at == NULL)
        return GW_ETOOBIG;
    EVP_EncodeBlock((unsigned char *)at, in, (int)n);
    return 0;
}

int gw_b64_decode(const char *s, size_t n, gw_buf_t *out)
{
    size_t at = out->len;
    size_t pad = 0;
    char *dst;
    int got;

    if (n % 4 != 0 || n > (size_t)1 << 31)
        return GW_EINVAL;
    if (n == 0)
        return 0;
    if (s[n - 1] == '=')
        pad++;
    if (s[n - 2] == '=')
        pad++;
    dst = gw_buf_extend(out, n / 4 * 3);
    if (dst == NULL)
        return GW_ETOOBIG;
    got = EVP_DecodeBlock((unsigned char *)dst, (const unsigned char *)s, (int)n);
    if (got < 0 || (size_t)got != n / 4 * 3) {
        out->len = at;
        out->ptr[at] = '\0';
        return GW_EINVAL;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    out->len -= pad;
    out->ptr[out->len] = '\0';
    return 0;
}
