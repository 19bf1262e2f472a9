/* decimal.c: MySQL's packed binary DECIMAL (NEWDECIMAL) to its exact text.
 *
 * Layout of DECIMAL(P,S), per MySQL's decimal2bin(): the integer part (P-S digits) and the
 * fraction (S digits) are each cut into groups of 9 decimal digits, stored big-endian in 4
 * bytes; a group of fewer digits takes dig2bytes[n] bytes. The integer part's short group comes
 * first (most significant), the fraction's short group last. The sign is the top bit of the
 * first byte, inverted (1 = positive); negative numbers have every byte inverted.
 *
 *   DECIMAL(14,4) 1234567890.1234 -> [0x81 0x0D 0xFB 0x38 0xD2] [0x04 0xD2]
 *                                     intg: 1 | 234567890      frac: 1234
 *
 * The text is what SELECT shows: no leading zeros, "0" before the point when the integer part
 * is zero, exactly S fraction digits ("1.50", "-0.000001", "0.00"). */
#include "agent/binlog/value_internal.h"

#include <string.h>

static const uint8_t dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t pow10_u32[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
                                       1000000000};

size_t bt_decimal_bin_size(unsigned precision, unsigned scale) {
    if (precision < 1 || precision > 65 || scale > 30 || scale > precision) return 0;
    unsigned intg = precision - scale;
    return (size_t)(intg / 9) * 4 + dig2bytes[intg % 9] + (size_t)(scale / 9) * 4 + dig2bytes[scale % 9];
}

/* Writes the `digits` decimal digits of v, zero-padded, at o. */
static char *put_group(char *o, uint32_t v, unsigned digits) {
    for (unsigned i = digits; i > 0; i--) {
        o[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    return o + digits;
}

/* Reads an n-byte group (1..4 bytes), undoing the sign inversion. */
static uint32_t read_group(const uint8_t *p, unsigned n, uint8_t mask, bool first) {
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (first && i == 0) b ^= 0x80;
        v = v << 8 | (uint8_t)(b ^ mask);
    }
    return v;
}

int bt_decimal_to_text(const uint8_t *p, unsigned precision, unsigned scale, char *out) {
    size_t size = bt_decimal_bin_size(precision, scale);
    if (!size) return -1;
    unsigned intg = precision - scale, intg0 = intg / 9, intg0x = intg % 9;
    unsigned frac0 = scale / 9, frac0x = scale % 9;
    uint8_t mask = (p[0] & 0x80) ? 0 : 0xFF; /* top bit clear: negative, bytes inverted */
    bool neg = mask != 0, first = true;

    /* Integer digits into digits[], then drop the leading zeros. */
    char digits[80];
    char *d = digits;
    if (intg0x) {
        unsigned n = dig2bytes[intg0x];
        uint32_t v = read_group(p, n, mask, first);
        if (v >= pow10_u32[intg0x]) return -1;
        d = put_group(d, v, intg0x);
        p += n;
        first = false;
    }
    for (unsigned i = 0; i < intg0; i++) {
        uint32_t v = read_group(p, 4, mask, first);
        if (v > 999999999u) return -1;
        d = put_group(d, v, 9);
        p += 4;
        first = false;
    }
    size_t nint = (size_t)(d - digits), skip = 0;
    while (skip < nint && digits[skip] == '0') skip++;

    char frac[40];
    char *f = frac;
    for (unsigned i = 0; i < frac0; i++) {
        uint32_t v = read_group(p, 4, mask, first);
        if (v > 999999999u) return -1;
        f = put_group(f, v, 9);
        p += 4;
        first = false;
    }
    if (frac0x) {
        unsigned n = dig2bytes[frac0x];
        uint32_t v = read_group(p, n, mask, first);
        if (v >= pow10_u32[frac0x]) return -1;
        f = put_group(f, v, frac0x);
    }
    size_t nfrac = (size_t)(f - frac);

    /* A negative zero is not something the server stores; print it as plain zero. */
    bool zero = skip == nint;
    for (size_t i = 0; zero && i < nfrac; i++) zero = frac[i] == '0';

    char *o = out;
    if (neg && !zero) *o++ = '-';
    if (skip == nint) {
        *o++ = '0';
    } else {
        memcpy(o, digits + skip, nint - skip);
        o += nint - skip;
    }
    if (nfrac) {
        *o++ = '.';
        memcpy(o, frac, nfrac);
        o += nfrac;
    }
    *o = 0;
    return (int)(o - out);
}
