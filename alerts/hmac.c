/* hmac.c: the X-Bintail-Signature value: HMAC-SHA256 (OpenSSL) of the exact body bytes, as
 * lowercase hex, so receivers can check that a notification came from an agent holding the
 * shared secret and was not altered on the way. */
#include "alerts/internal.h"

#include <limits.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

int bt_alerts_hmac_sha256_hex(const unsigned char *key, size_t keylen, const void *data, size_t len,
                              char out[65]) {
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    if (keylen > (size_t)INT_MAX)
        return -1;
    /* HMAC() with a NULL md buffer would use a static one, which is not thread-safe. */
    if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &mdlen) || mdlen != 32)
        return -1;
    for (unsigned i = 0; i < mdlen; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return 0;
}
