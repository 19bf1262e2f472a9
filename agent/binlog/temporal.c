/* temporal.c: DATE, TIME, DATETIME and TIMESTAMP cells in every format the servers write, and
 * their text forms.
 *
 * Formats (all without printf or the arena: they run for every temporal cell):
 *   DATE / NEWDATE   3 bytes LE: day | month << 5 | year << 9
 *   TIME (old)       3 bytes LE signed: [-]HHMMSS as a decimal number
 *   DATETIME (old)   8 bytes LE: YYYYMMDDhhmmss as a decimal number
 *   TIMESTAMP (old)  4 bytes LE: seconds since the epoch (0 = the zero timestamp)
 *   TIMESTAMP2(n)    4 bytes BE seconds, then ceil(n/2) bytes BE fraction
 *   DATETIME2(n)     5 bytes BE: 0x8000000000 + (sign | (year*13+month) << 22 | day << 17 |
 *                    hour << 12 | minute << 6 | second), then the fraction as TIMESTAMP2
 *   TIME2(n)         3 bytes BE: 0x800000 + (hour << 12 | minute << 6 | second), negative values
 *                    stored as their two's complement; with n > 0 the fraction follows, and for
 *                    negative times it counts down from the next second (MySQL's
 *                    my_time_packed_from_binary()).
 * MariaDB 5.3 hi-res formats (type codes 7/12/11 with decimals n > 0, see value.h):
 *   TIMESTAMP(n)     4 bytes BE seconds + {1,1,2,2,3,3}[n-1] bytes BE fraction / 10^(6-n)
 *   DATETIME(n)      {6,6,7,7,7,8}[n-1] bytes BE: packed / 10^(6-n), where packed =
 *                    ((((year*13+month)*32+day)*24+hour)*60+minute)*60+second)*10^6+usec
 *   TIME(n)          {4,4,5,5,5,6}[n-1] bytes BE: (signed packed time) / 10^(6-n) + zero point
 *                    (839 hours in the same unit), packed = ((hour*60+minute)*60+second)*10^6+usec
 * Impossible field values (month 13, minute 60, fraction >= 1 s) are errors, not guesses. */
#include "agent/binlog/value_internal.h"

static const uint32_t pow10_6[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};

/* Two decimal digits of v (< 100). */
static inline char *put2(char *o, unsigned v) {
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

size_t bt_fmt_date(char *o, unsigned year, unsigned month, unsigned day) {
    char *s = o;
    o = put2(o, year / 100 % 100);
    o = put2(o, year % 100);
    *o++ = '-';
    o = put2(o, month % 100);
    *o++ = '-';
    o = put2(o, day % 100);
    return (size_t)(o - s);
}

size_t bt_fmt_hms(char *o, bool neg, uint32_t hour, unsigned minute, unsigned second, uint32_t usec,
                  unsigned fsp) {
    char *s = o;
    if (neg) *o++ = '-';
    if (hour >= 100) {
        char tmp[10];
        int n = 0;
        while (hour) {
            tmp[n++] = (char)('0' + hour % 10);
            hour /= 10;
        }
        while (n) *o++ = tmp[--n];
    } else {
        o = put2(o, hour);
    }
    *o++ = ':';
    o = put2(o, minute % 100);
    *o++ = ':';
    o = put2(o, second % 100);
    if (fsp > 6) fsp = 6;
    if (fsp) {
        uint32_t f = usec / pow10_6[6 - fsp];
        *o++ = '.';
        for (unsigned i = fsp; i > 0; i--) {
            o[i - 1] = (char)('0' + f % 10);
            f /= 10;
        }
        o += fsp;
    }
    return (size_t)(o - s);
}

void bt_civil_from_unix(int64_t secs, bt_time_t *t) {
    /* Days to civil date: Howard Hinnant's algorithm (proleptic Gregorian, any era). */
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    t->year = (uint16_t)y;
    t->month = (uint8_t)m;
    t->day = (uint8_t)d;
    t->hour = (uint32_t)(rem / 3600);
    t->minute = (uint8_t)(rem / 60 % 60);
    t->second = (uint8_t)(rem % 60);
}

void bt_time_from_packed_datetime(int64_t packed, bt_time_t *t, bool *neg) {
    uint64_t v = packed < 0 ? 0 - (uint64_t)packed : (uint64_t)packed;
    *neg = packed < 0;
    t->usec = (uint32_t)(v & 0xFFFFFF);
    uint64_t ymdhms = v >> 24, ymd = ymdhms >> 17, ym = ymd >> 5, hms = ymdhms & 0x1FFFF;
    t->day = (uint8_t)(ymd & 31);
    t->month = (uint8_t)(ym % 13);
    t->year = (uint16_t)(ym / 13);
    t->second = (uint8_t)(hms & 63);
    t->minute = (uint8_t)((hms >> 6) & 63);
    t->hour = (uint32_t)(hms >> 12);
}

void bt_time_from_packed_time(int64_t packed, bt_time_t *t, bool *neg) {
    uint64_t v = packed < 0 ? 0 - (uint64_t)packed : (uint64_t)packed;
    *neg = packed < 0;
    t->year = 0;
    t->month = t->day = 0;
    t->usec = (uint32_t)(v & 0xFFFFFF);
    uint64_t hms = v >> 24;
    t->hour = (uint32_t)((hms >> 12) & 1023);
    t->minute = (uint8_t)((hms >> 6) & 63);
    t->second = (uint8_t)(hms & 63);
}

/* Fraction of a TIMESTAMP2/DATETIME2 (unsigned reading; always positive for valid values). */
static uint32_t frac_usec(const uint8_t *p, unsigned fsp) {
    switch (fsp) {
    case 1: case 2: return (uint32_t)p[0] * 10000;
    case 3:
    case 4: return (uint32_t)bt_be(p, 2) * 100;
    case 5:
    case 6: return (uint32_t)bt_be(p, 3);
    default: return 0;
    }
}

static int check_date(const bt_time_t *t, const char *tname, char *err, size_t errlen) {
    if (t->month > 12 || t->day > 31 || t->year > 9999)
        return bt_errf(err, errlen, "%s: impossible date %u-%u-%u", tname, t->year, t->month, t->day);
    return 0;
}

static int check_clock(const bt_time_t *t, uint32_t max_hour, const char *tname, char *err, size_t errlen) {
    if (t->hour > max_hour || t->minute > 59 || t->second > 59 || t->usec > 999999)
        return bt_errf(err, errlen, "%s: impossible time %u:%u:%u.%u", tname, t->hour, t->minute, t->second,
                       t->usec);
    return 0;
}

#define NEED(n, tname)                                                                               \
    do {                                                                                             \
        if (avail < (size_t)(n))                                                                     \
            return bt_errf(err, errlen, "%s: value needs %u bytes, only %zu left in the row image", \
                           tname, (unsigned)(n), avail);                                             \
    } while (0)

int bt_temporal_decode(const bt_column_t *col, const uint8_t *p, size_t avail, bt_value_t *out, size_t *used,
                       char *err, size_t errlen) {
    bt_time_t *t = &out->t;
    unsigned fsp = col->meta;
    switch (col->type) {
    case BT_TYPE_DATE:
    case BT_TYPE_NEWDATE: {
        NEED(3, "DATE");
        uint32_t v = bt_le24(p);
        out->kind = BT_VAL_DATE;
        t->day = (uint8_t)(v & 31);
        t->month = (uint8_t)((v >> 5) & 15);
        t->year = (uint16_t)(v >> 9);
        *used = 3;
        return check_date(t, "DATE", err, errlen);
    }
    case BT_TYPE_TIMESTAMP2: {
        if (fsp > 6) return bt_errf(err, errlen, "TIMESTAMP2: fractional digits %u in metadata (0-6)", fsp);
        size_t n = 4 + (fsp + 1) / 2;
        NEED(n, "TIMESTAMP2");
        out->kind = BT_VAL_TIMESTAMP;
        out->fsp = (uint8_t)fsp;
        out->i = (int64_t)bt_be(p, 4);
        t->usec = frac_usec(p + 4, fsp);
        *used = n;
        return check_clock(t, 0, "TIMESTAMP2", err, errlen);
    }
    case BT_TYPE_TIMESTAMP: {
        if (fsp > 6) return bt_errf(err, errlen, "TIMESTAMP: fractional digits %u (0-6)", fsp);
        static const uint8_t sec_part_bytes[7] = {0, 1, 1, 2, 2, 3, 3};
        size_t n = 4 + sec_part_bytes[fsp];
        NEED(n, "TIMESTAMP");
        out->kind = BT_VAL_TIMESTAMP;
        out->fsp = (uint8_t)fsp;
        if (fsp == 0) {
            out->i = (int64_t)bt_le32(p); /* the classic format is little-endian */
        } else {
            out->i = (int64_t)bt_be(p, 4); /* MariaDB hi-res: big-endian */
            t->usec = (uint32_t)bt_be(p + 4, sec_part_bytes[fsp]) * pow10_6[6 - fsp];
        }
        *used = n;
        return check_clock(t, 0, "TIMESTAMP", err, errlen);
    }
    case BT_TYPE_DATETIME2: {
        if (fsp > 6) return bt_errf(err, errlen, "DATETIME2: fractional digits %u in metadata (0-6)", fsp);
        size_t n = 5 + (fsp + 1) / 2;
        NEED(n, "DATETIME2");
        uint64_t raw = bt_be(p, 5);
        if (raw < 0x8000000000ull) return bt_errf(err, errlen, "DATETIME2: negative value");
        uint64_t v = raw - 0x8000000000ull, ymd = v >> 17, ym = ymd >> 5, hms = v & 0x1FFFF;
        out->kind = BT_VAL_DATETIME;
        out->fsp = (uint8_t)fsp;
        t->day = (uint8_t)(ymd & 31);
        t->month = (uint8_t)(ym % 13);
        t->year = (uint16_t)(ym / 13 > 65535 ? 65535 : ym / 13);
        t->second = (uint8_t)(hms & 63);
        t->minute = (uint8_t)((hms >> 6) & 63);
        t->hour = (uint32_t)(hms >> 12);
        t->usec = frac_usec(p + 5, fsp);
        *used = n;
        if (check_date(t, "DATETIME2", err, errlen)) return -1;
        return check_clock(t, 23, "DATETIME2", err, errlen);
    }
    case BT_TYPE_DATETIME: {
        if (fsp > 6) return bt_errf(err, errlen, "DATETIME: fractional digits %u (0-6)", fsp);
        out->kind = BT_VAL_DATETIME;
        out->fsp = (uint8_t)fsp;
        if (fsp == 0) {
            NEED(8, "DATETIME");
            uint64_t v = bt_le64(p); /* YYYYMMDDhhmmss */
            uint64_t d = v / 1000000, c = v % 1000000;
            if (d / 10000 > 9999) return bt_errf(err, errlen, "DATETIME: impossible value %llu",
                                                 (unsigned long long)v);
            t->year = (uint16_t)(d / 10000);
            t->month = (uint8_t)(d / 100 % 100);
            t->day = (uint8_t)(d % 100);
            t->hour = (uint32_t)(c / 10000);
            t->minute = (uint8_t)(c / 100 % 100);
            t->second = (uint8_t)(c % 100);
            *used = 8;
        } else {
            static const uint8_t datetime_hires_bytes[7] = {5, 6, 6, 7, 7, 7, 8};
            size_t n = datetime_hires_bytes[fsp];
            NEED(n, "DATETIME");
            uint64_t v = bt_be(p, n) * pow10_6[6 - fsp];
            t->usec = (uint32_t)(v % 1000000);
            v /= 1000000;
            t->second = (uint8_t)(v % 60);
            v /= 60;
            t->minute = (uint8_t)(v % 60);
            v /= 60;
            t->hour = (uint32_t)(v % 24);
            v /= 24;
            t->day = (uint8_t)(v % 32);
            v /= 32;
            t->month = (uint8_t)(v % 13);
            v /= 13;
            if (v > 9999) return bt_errf(err, errlen, "DATETIME(%u): impossible year %llu", fsp,
                                         (unsigned long long)v);
            t->year = (uint16_t)v;
            *used = n;
        }
        if (check_date(t, "DATETIME", err, errlen)) return -1;
        return check_clock(t, 23, "DATETIME", err, errlen);
    }
    case BT_TYPE_TIME2: {
        if (fsp > 6) return bt_errf(err, errlen, "TIME2: fractional digits %u in metadata (0-6)", fsp);
        size_t n = 3 + (fsp + 1) / 2;
        NEED(n, "TIME2");
        int64_t intpart = (int64_t)bt_be(p, 3) - 0x800000;
        int64_t packed; /* MySQL's packed time: intpart << 24 | microseconds, signed */
        switch (fsp) {
        case 0:
            packed = intpart * (1 << 24);
            break;
        case 1:
        case 2: {
            int64_t frac = p[3];
            if (intpart < 0 && frac) {
                intpart++;
                frac -= 0x100;
            }
            packed = intpart * (1 << 24) + frac * 10000;
            break;
        }
        case 3:
        case 4: {
            int64_t frac = (int64_t)bt_be(p + 3, 2);
            if (intpart < 0 && frac) {
                intpart++;
                frac -= 0x10000;
            }
            packed = intpart * (1 << 24) + frac * 100;
            break;
        }
        default: packed = (int64_t)bt_be(p, 6) - 0x800000000000ll; break;
        }
        bool neg;
        bt_time_from_packed_time(packed, t, &neg);
        out->kind = BT_VAL_TIME;
        out->neg = neg;
        out->fsp = (uint8_t)fsp;
        *used = n;
        return check_clock(t, 838, "TIME2", err, errlen);
    }
    case BT_TYPE_TIME: {
        if (fsp > 6) return bt_errf(err, errlen, "TIME: fractional digits %u (0-6)", fsp);
        out->kind = BT_VAL_TIME;
        out->fsp = (uint8_t)fsp;
        if (fsp == 0) {
            NEED(3, "TIME");
            int32_t v = (int32_t)bt_le24(p); /* [-]HHMMSS, 24-bit two's complement */
            if (v & 0x800000) v -= 0x1000000;
            uint32_t a = v < 0 ? (uint32_t)-v : (uint32_t)v;
            out->neg = v < 0;
            t->hour = a / 10000;
            t->minute = (uint8_t)(a / 100 % 100);
            t->second = (uint8_t)(a % 100);
            *used = 3;
        } else {
            static const uint8_t time_hires_bytes[7] = {3, 4, 4, 5, 5, 5, 6};
            size_t n = time_hires_bytes[fsp];
            NEED(n, "TIME");
            int64_t zero = 3020400ll * 1000000 / pow10_6[6 - fsp]; /* 839 hours */
            int64_t v = ((int64_t)bt_be(p, n) - zero) * pow10_6[6 - fsp];
            uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            out->neg = v < 0;
            t->usec = (uint32_t)(a % 1000000);
            a /= 1000000;
            t->second = (uint8_t)(a % 60);
            a /= 60;
            t->minute = (uint8_t)(a % 60);
            a /= 60;
            if (a > 838) return bt_errf(err, errlen, "TIME(%u): impossible hour %llu", fsp, (unsigned long long)a);
            t->hour = (uint32_t)a;
            *used = n;
        }
        return check_clock(t, 838, "TIME", err, errlen);
    }
    default:
        return bt_errf(err, errlen, "type %u is not a temporal type", col->type);
    }
}
