/* test_codecs.c: codecs library. Round-trips every codec through the library and through the real
 * command-line tools in both directions (zstd, lz4, gzip, python3 -m snappy), checks that output
 * truncated at a flush decodes cleanly, that corrupt input is an error with a message, that the
 * streaming decoder works with 1- and 7-byte output buffers, and the one-shot zlib inflate. */
#include "codecs/codecs.h"
#include "tests/unit/tap.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const bt_codec_t all_codecs[] = {BT_CODEC_ZSTD, BT_CODEC_LZ4, BT_CODEC_SNAPPY,
                                        BT_CODEC_GZIP};
#define NCODECS (sizeof all_codecs / sizeof all_codecs[0])

static char tmpdir[256];
static char snappy_cli[320];

/* python-snappy's own command line (`python3 -m snappy`), run through a wrapper because Debian
 * 12's python3-snappy 0.5.3 has a C CRC-32C helper that raises SystemError on Python >= 3.10
 * ("PY_SSIZE_T_CLEAN macro must be defined", intake/python-snappy#97). Only if it is broken is it
 * replaced with a plain-Python CRC-32C, itself checked against the standard check value; the
 * framing parser, snappy codec and CLI are python-snappy's. */
static const char snappy_cli_py[] =
    "import sys, snappy.snappy as s\n"
    "try:\n"
    "    s._crc32c(b'x')\n"
    "except SystemError:\n"
    "    T = []\n"
    "    for i in range(256):\n"
    "        c = i\n"
    "        for _ in range(8):\n"
    "            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1\n"
    "        T.append(c)\n"
    "    def crc32c(data):\n"
    "        c = 0xFFFFFFFF\n"
    "        for b in data:\n"
    "            c = T[(c ^ b) & 0xFF] ^ (c >> 8)\n"
    "        return c ^ 0xFFFFFFFF\n"
    "    assert crc32c(b'123456789') == 0xE3069283\n"
    "    s._crc32c = crc32c\n"
    "from snappy.__main__ import cmdline_main\n"
    "sys.argv[0] = 'snappy'\n"
    "cmdline_main()\n";

/* ---- helpers ---- */

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    size_t fail_at; /* fail the write that would pass this many bytes (0 = never) */
    size_t calls;
} sink_t;

static int sink_write(void *ctx, const void *buf, size_t len) {
    sink_t *s = ctx;
    s->calls++;
    if (len == 0)
        return 99; /* the API promises never to call with 0 bytes */
    if (s->fail_at && s->len + len > s->fail_at)
        return -7;
    if (s->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + len)
            cap *= 2;
        uint8_t *nb = realloc(s->buf, cap);
        if (!nb)
            return -1;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    return 0;
}

static void sink_free(sink_t *s) {
    free(s->buf);
    memset(s, 0, sizeof *s);
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* CDC-like JSON lines (compressible) with a stretch of random bytes (incompressible) in the
 * middle when len is large enough, so both stored and compressed blocks/chunks occur. */
static uint8_t *make_data(size_t len) {
    uint8_t *d = malloc(len ? len : 1);
    size_t pos = 0;
    size_t rnd_from = len / 3, rnd_to = len / 3 + (len > 300000 ? len / 6 : 0);
    while (pos < len) {
        if (pos >= rnd_from && pos < rnd_to) {
            d[pos++] = (uint8_t)rng();
            continue;
        }
        char line[160];
        int n = snprintf(line, sizeof line,
                         "{\"db\":\"shop\",\"table\":\"orders\",\"op\":\"u\",\"id\":%llu,"
                         "\"qty\":%u,\"note\":\"caf\xc3\xa9 #%u\"}\n",
                         (unsigned long long)(rng() % 100000), (unsigned)(rng() % 50),
                         (unsigned)(rng() % 1000));
        size_t take = (size_t)n < len - pos ? (size_t)n : len - pos;
        memcpy(d + pos, line, take);
        pos += take;
    }
    return d;
}

/* Compresses data through the library, writing in varying chunk sizes and flushing every
 * flush_every bytes (0 = never). Returns 0 and fills *out. */
static int compress_buf(bt_codec_t codec, int level, const uint8_t *data, size_t len,
                        size_t flush_every, sink_t *out) {
    char err[256];
    memset(out, 0, sizeof *out);
    bt_compressor_t *c = bt_compressor_new(codec, level, sink_write, out, err, sizeof err);
    if (!c) {
        printf("# compressor_new(%s): %s\n", bt_codec_name(codec), err);
        return -1;
    }
    static const size_t chunks[] = {1, 17, 4096, 100000, 65536, 3, 1 << 20};
    size_t pos = 0, i = 0, since_flush = 0;
    int rc = 0;
    while (pos < len && rc == 0) {
        size_t n = chunks[i++ % (sizeof chunks / sizeof chunks[0])];
        if (n > len - pos)
            n = len - pos;
        rc = bt_compressor_write(c, data + pos, n);
        pos += n;
        since_flush += n;
        if (rc == 0 && flush_every && since_flush >= flush_every) {
            rc = bt_compressor_flush(c);
            since_flush = 0;
        }
    }
    if (rc == 0)
        rc = bt_compressor_finish(c);
    uint64_t in_bytes = 0, out_bytes = 0;
    bt_compressor_stats(c, &in_bytes, &out_bytes);
    if (rc != 0)
        printf("# compress %s: %s\n", bt_codec_name(codec), bt_compressor_error(c));
    else if (in_bytes != len || out_bytes != out->len) {
        printf("# stats: in %llu (want %zu), out %llu (want %zu)\n", (unsigned long long)in_bytes,
               len, (unsigned long long)out_bytes, out->len);
        rc = -1;
    }
    bt_compressor_free(c);
    return rc;
}

enum { DEC_OK = 0, DEC_TRUNCATED = 1, DEC_ERROR = -1, DEC_STUCK = -2 };

/* Streams in[0..inlen) through a decompressor, offering in_chunk input bytes at a time and outcap
 * bytes of output space per call. Returns DEC_OK if the input ended exactly at the end of a frame
 * (snappy: a chunk), DEC_TRUNCATED if it ended inside one, DEC_ERROR on a decode error (message in
 * err). The decoded bytes go to *out. */
static int decompress_buf(bt_codec_t codec, const uint8_t *in, size_t inlen, size_t in_chunk,
                          size_t outcap, sink_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    bt_decompressor_t *d = bt_decompressor_new(codec, err, errlen);
    if (!d)
        return DEC_ERROR;
    uint8_t *tmp = malloc(outcap);
    size_t pos = 0;
    int complete = 0, result = DEC_OK, idle = 0;
    do {
        size_t feed = inlen - pos < in_chunk ? inlen - pos : in_chunk;
        const uint8_t *p = in + pos;
        size_t left = feed;
        for (;;) {
            size_t produced = 0, before = left;
            int rc = bt_decompressor_run(d, &p, &left, tmp, outcap, &produced, err, errlen);
            if (rc < 0) {
                result = DEC_ERROR;
                goto done;
            }
            if (produced)
                sink_write(out, tmp, produced);
            if (rc == 1)
                complete = 1;
            else if (produced || left != before)
                complete = 0;
            if (produced || left != before)
                idle = 0;
            else if (++idle > 2) {
                snprintf(err, errlen, "decoder made no progress at input byte %zu", pos);
                result = DEC_STUCK;
                goto done;
            }
            if (left == 0 && produced < outcap)
                break;
        }
        pos += feed;
    } while (pos < inlen);
    result = complete ? DEC_OK : DEC_TRUNCATED;
done:
    free(tmp);
    bt_decompressor_free(d);
    return result;
}

static int write_file(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = len ? fwrite(buf, 1, len, f) : 0;
    return fclose(f) == 0 && n == len ? 0 : -1;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static int have_tool(bt_codec_t codec) {
    switch (codec) {
    case BT_CODEC_ZSTD:
        return system("command -v zstd >/dev/null 2>&1") == 0;
    case BT_CODEC_LZ4:
        return system("command -v lz4 >/dev/null 2>&1") == 0;
    case BT_CODEC_GZIP:
        return system("command -v gzip >/dev/null 2>&1") == 0;
    case BT_CODEC_SNAPPY:
        return system("/usr/bin/python3 -c 'import snappy.snappy, snappy.__main__' "
                      ">/dev/null 2>&1") == 0;
    default:
        return 0;
    }
}

static const char *tool_name(bt_codec_t codec) {
    switch (codec) {
    case BT_CODEC_ZSTD:
        return "zstd -d";
    case BT_CODEC_LZ4:
        return "lz4 -d";
    case BT_CODEC_GZIP:
        return "gzip -d";
    default:
        return "python3 -m snappy -d";
    }
}

/* Decodes `comp` with the codec's own command-line tool. Returns the tool's exit status (0 = ok)
 * and the decoded bytes in *out (caller frees), or -1 if a file could not be written. */
static int tool_decompress(bt_codec_t codec, const uint8_t *comp, size_t len, uint8_t **out,
                           size_t *outlen) {
    char in[320], outp[320], cmd[1024];
    snprintf(in, sizeof in, "%s/in%s", tmpdir, bt_codec_suffix(codec));
    snprintf(outp, sizeof outp, "%s/out.raw", tmpdir);
    unlink(outp);
    if (write_file(in, comp, len) != 0)
        return -1;
    switch (codec) {
    case BT_CODEC_ZSTD:
        snprintf(cmd, sizeof cmd, "zstd -d -q -c '%s' > '%s' 2>/dev/null", in, outp);
        break;
    case BT_CODEC_LZ4:
        snprintf(cmd, sizeof cmd, "lz4 -d -q -c '%s' > '%s' 2>/dev/null", in, outp);
        break;
    case BT_CODEC_GZIP:
        snprintf(cmd, sizeof cmd, "gzip -d -c < '%s' > '%s' 2>/dev/null", in, outp);
        break;
    default:
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' -d -t framing '%s' '%s' 2>/dev/null",
                 snappy_cli, in, outp);
        break;
    }
    int st = system(cmd);
    *out = read_file(outp, outlen);
    if (!*out) {
        *out = malloc(1);
        *outlen = 0;
    }
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Compresses raw with the codec's tool. Returns 0 and the compressed bytes in *out. */
static int tool_compress(bt_codec_t codec, const uint8_t *raw, size_t len, uint8_t **out,
                         size_t *outlen) {
    char in[320], outp[320], cmd[1024];
    snprintf(in, sizeof in, "%s/plain.raw", tmpdir);
    snprintf(outp, sizeof outp, "%s/tool%s", tmpdir, bt_codec_suffix(codec));
    unlink(outp);
    if (write_file(in, raw, len) != 0)
        return -1;
    switch (codec) {
    case BT_CODEC_ZSTD:
        snprintf(cmd, sizeof cmd, "zstd -q -c '%s' > '%s'", in, outp);
        break;
    case BT_CODEC_LZ4:
        snprintf(cmd, sizeof cmd, "lz4 -q -c '%s' > '%s'", in, outp);
        break;
    case BT_CODEC_GZIP:
        snprintf(cmd, sizeof cmd, "gzip -c < '%s' > '%s'", in, outp);
        break;
    default:
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' -c -t framing '%s' '%s'", snappy_cli, in,
                 outp);
        break;
    }
    if (system(cmd) != 0)
        return -1;
    *out = read_file(outp, outlen);
    return *out ? 0 : -1;
}

static void skip(const char *why, const char *what) {
    printf("ok %d # skip %s: %s\n", ++tap_count, what, why);
}

/* ---- names ---- */

static void test_names(void) {
    bt_codec_t id = BT_CODEC_GZIP;
    static const char *names[] = {"none", "zstd", "lz4", "snappy", "gzip"};
    for (int i = 0; i < 5; i++) {
        ok(bt_codec_from_name(names[i], &id) == 0 && id == (bt_codec_t)i, "from_name(%s)",
           names[i]);
        is_str(bt_codec_name((bt_codec_t)i), names[i], "name(%d)", i);
    }
    ok(bt_codec_from_name("ZStd", &id) == 0 && id == BT_CODEC_ZSTD, "names ignore case");
    id = BT_CODEC_LZ4;
    ok(bt_codec_from_name("brotli", &id) == -1 && id == BT_CODEC_LZ4,
       "unknown name -> -1, output untouched");
    ok(bt_codec_from_name("", &id) == -1 && bt_codec_from_name(NULL, &id) == -1,
       "empty and NULL names -> -1");
    ok(bt_codec_from_name("zstd ", &id) == -1, "no trailing garbage");
    is_str(bt_codec_name((bt_codec_t)42), "unknown", "name of a bad id");

    static const struct {
        const char *path;
        bt_codec_t codec;
    } paths[] = {
        {"out/changes.json.zst", BT_CODEC_ZSTD},   {"a.lz4", BT_CODEC_LZ4},
        {"/var/x/y.snappy", BT_CODEC_SNAPPY},      {"binlog.000001.gz", BT_CODEC_GZIP},
        {"changes.json", BT_CODEC_NONE},           {"changes.zstd", BT_CODEC_NONE},
        {"a.GZ", BT_CODEC_NONE},                   {".gz", BT_CODEC_NONE},
        {"dir/.zst", BT_CODEC_NONE},               {"x.gz.tmp", BT_CODEC_NONE},
        {"", BT_CODEC_NONE},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        is_int(bt_codec_from_path(paths[i].path), paths[i].codec, "from_path(\"%s\")",
               paths[i].path);
    is_int(bt_codec_from_path(NULL), BT_CODEC_NONE, "from_path(NULL)");
    int round = 1;
    for (size_t i = 0; i < NCODECS; i++) {
        char p[64];
        snprintf(p, sizeof p, "file%s", bt_codec_suffix(all_codecs[i]));
        round &= bt_codec_from_path(p) == all_codecs[i];
    }
    ok(round, "suffix() and from_path() agree");

    is_uint(bt_codec_crc32c(0, "123456789", 9), 0xe3069283u, "crc32c check value");
    is_uint(bt_codec_crc32c(bt_codec_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u,
            "crc32c continues across buffers");
    is_uint(bt_codec_crc32c(0, NULL, 0), 0, "crc32c of nothing");
}

/* ---- round trips ---- */

static void test_roundtrip(bt_codec_t codec, const char *label, const uint8_t *data, size_t len,
                           int level, size_t flush_every) {
    const char *name = bt_codec_name(codec);
    sink_t comp, dec;
    char err[256] = "";
    int rc = compress_buf(codec, level, data, len, flush_every, &comp);
    ok(rc == 0 && comp.len > 0, "%s %s: compress %zu bytes -> %zu", name, label, len, comp.len);
    if (rc != 0) {
        sink_free(&comp);
        return;
    }
    rc = decompress_buf(codec, comp.buf, comp.len, 1 << 20, 1 << 16, &dec, err, sizeof err);
    ok(rc == DEC_OK && dec.len == len && (len == 0 || memcmp(dec.buf, data, len) == 0),
       "%s %s: library decodes it back (rc %d, %zu bytes) %s", name, label, rc, dec.len, err);
    sink_free(&dec);

    if (!have_tool(codec)) {
        skip("tool not installed", tool_name(codec));
    } else {
        uint8_t *out = NULL;
        size_t outlen = 0;
        int st = tool_decompress(codec, comp.buf, comp.len, &out, &outlen);
        ok(st == 0 && outlen == len && (len == 0 || memcmp(out, data, len) == 0),
           "%s %s: `%s` decodes it (exit %d, %zu bytes)", name, label, tool_name(codec), st,
           outlen);
        free(out);
    }
    sink_free(&comp);
}

/* Files written by the tools decode with the library. */
static void test_tool_to_library(bt_codec_t codec, const uint8_t *data, size_t len) {
    const char *name = bt_codec_name(codec);
    if (!have_tool(codec)) {
        skip("tool not installed", tool_name(codec));
        return;
    }
    uint8_t *comp = NULL;
    size_t clen = 0;
    int rc = tool_compress(codec, data, len, &comp, &clen);
    ok(rc == 0, "%s: the tool compressed %zu bytes to %zu", name, len, clen);
    if (rc == 0) {
        sink_t dec;
        char err[256] = "";
        rc = decompress_buf(codec, comp, clen, 4093, 1 << 16, &dec, err, sizeof err);
        ok(rc == DEC_OK && dec.len == len && memcmp(dec.buf, data, len) == 0,
           "%s: library decodes the tool's file (rc %d, %zu bytes) %s", name, rc, dec.len, err);
        sink_free(&dec);
    }
    free(comp);
}

/* Output cut at a flush decodes cleanly; a "crash" after further writes leaves the flushed part
 * readable. */
static void test_flush_truncate(bt_codec_t codec, const uint8_t *data, size_t alen, size_t blen) {
    const char *name = bt_codec_name(codec);
    char err[256] = "";
    sink_t s = {0};
    bt_compressor_t *c = bt_compressor_new(codec, 0, sink_write, &s, err, sizeof err);
    ok(c != NULL, "%s: new", name);
    if (!c)
        return;
    int rc = bt_compressor_write(c, data, alen / 2);
    rc |= bt_compressor_flush(c);
    rc |= bt_compressor_write(c, data + alen / 2, alen - alen / 2);
    rc |= bt_compressor_flush(c);
    size_t at_flush = s.len;
    rc |= bt_compressor_flush(c);
    ok(rc == 0 && s.len == at_flush, "%s: a flush with nothing new writes nothing", name);
    rc |= bt_compressor_write(c, data + alen, blen);
    ok(rc == 0 && s.len > at_flush,
       "%s: %zu more bytes without a flush reach the output (%zu -> %zu bytes)", name, blen,
       at_flush, s.len);
    bt_compressor_free(c); /* simulated crash: no finish */

    sink_t dec;
    rc = decompress_buf(codec, s.buf, at_flush, 1 << 20, 1 << 16, &dec, err, sizeof err);
    ok(rc == DEC_OK && dec.len == alen && memcmp(dec.buf, data, alen) == 0,
       "%s: cut at the flush, the library decodes exactly what was flushed (rc %d, %zu/%zu) %s",
       name, rc, dec.len, alen, err);
    sink_free(&dec);

    rc = decompress_buf(codec, s.buf, s.len, 1 << 20, 1 << 16, &dec, err, sizeof err);
    if (codec == BT_CODEC_SNAPPY)
        /* Snappy chunks stand alone: everything emitted decodes, and it ends on a chunk. */
        ok(rc == DEC_OK && dec.len > alen && dec.len < alen + blen &&
               memcmp(dec.buf, data, dec.len) == 0,
           "%s: the crashed output decodes up to its last whole chunk (%zu bytes)", name,
           dec.len);
    else
        ok(rc == DEC_TRUNCATED && dec.len >= alen && memcmp(dec.buf, data, dec.len) == 0,
           "%s: the crashed output is reported truncated after the flushed data (rc %d, %zu "
           "bytes)",
           name, rc, dec.len);
    sink_free(&dec);

    if (!have_tool(codec)) {
        skip("tool not installed", tool_name(codec));
    } else {
        uint8_t *out = NULL;
        size_t outlen = 0;
        int st = tool_decompress(codec, s.buf, at_flush, &out, &outlen);
        ok(st == 0 && outlen == alen && memcmp(out, data, alen) == 0,
           "%s: cut at the flush, `%s` exits 0 with exactly the flushed bytes (exit %d, %zu)",
           name, tool_name(codec), st, outlen);
        free(out);
    }
    sink_free(&s);
}

/* Tiny output buffers (and tiny input feeds) reproduce the input exactly. */
static void test_small_buffers(bt_codec_t codec, const uint8_t *data, size_t len) {
    const char *name = bt_codec_name(codec);
    sink_t comp, dec;
    char err[256] = "";
    if (compress_buf(codec, 0, data, len, len / 3, &comp) != 0) {
        ok(0, "%s: compress for the small-buffer test", name);
        return;
    }
    int rc = decompress_buf(codec, comp.buf, comp.len, 1000, 1, &dec, err, sizeof err);
    ok(rc == DEC_OK && dec.len == len && memcmp(dec.buf, data, len) == 0,
       "%s: 1-byte output buffer reproduces %zu bytes (rc %d, got %zu) %s", name, len, rc,
       dec.len, err);
    sink_free(&dec);
    rc = decompress_buf(codec, comp.buf, comp.len, 1, 7, &dec, err, sizeof err);
    ok(rc == DEC_OK && dec.len == len && memcmp(dec.buf, data, len) == 0,
       "%s: 7-byte output buffer with 1-byte input feed reproduces %zu bytes (rc %d, got %zu) %s",
       name, len, rc, dec.len, err);
    sink_free(&dec);

    /* outcap 0 only consumes headers and never writes. */
    bt_decompressor_t *d = bt_decompressor_new(codec, err, sizeof err);
    const uint8_t *p = comp.buf;
    size_t left = comp.len, produced = 99;
    rc = bt_decompressor_run(d, &p, &left, NULL, 0, &produced, err, sizeof err);
    ok(rc == 0 && produced == 0, "%s: zero-sized output buffer is accepted (rc %d)", name, rc);
    bt_decompressor_free(d);
    sink_free(&comp);
}

static void test_corrupt(bt_codec_t codec, const uint8_t *data, size_t len) {
    const char *name = bt_codec_name(codec);
    sink_t comp, dec;
    char err[256];
    if (compress_buf(codec, 0, data, len, 0, &comp) != 0) {
        ok(0, "%s: compress for the corruption test", name);
        return;
    }
    uint8_t *bad = malloc(comp.len);

    memcpy(bad, comp.buf, comp.len);
    bad[0] ^= 0x5a;
    err[0] = '\0';
    int rc = decompress_buf(codec, bad, comp.len, 1 << 20, 1 << 16, &dec, err, sizeof err);
    ok(rc == DEC_ERROR && strstr(err, name) && strstr(err, "decompressor"),
       "%s: bad magic -> -1: %s", name, err);
    sink_free(&dec);

    /* A byte flipped in the body: caught by the codec or by its checksum. */
    memcpy(bad, comp.buf, comp.len);
    bad[comp.len / 2] ^= 0x10;
    err[0] = '\0';
    rc = decompress_buf(codec, bad, comp.len, 1 << 20, 1 << 16, &dec, err, sizeof err);
    ok(rc == DEC_ERROR && strstr(err, "input byte"), "%s: flipped body byte -> -1: %s", name, err);
    sink_free(&dec);

    /* The failure is sticky until reset, then the decoder works again. */
    bt_decompressor_t *d = bt_decompressor_new(codec, err, sizeof err);
    uint8_t out[256];
    size_t produced, left = comp.len;
    const uint8_t *p = bad;
    bad[0] = comp.buf[0] ^ 0x5a;
    rc = bt_decompressor_run(d, &p, &left, out, sizeof out, &produced, err, sizeof err);
    err[0] = '\0';
    p = comp.buf;
    left = comp.len;
    int rc2 = bt_decompressor_run(d, &p, &left, out, sizeof out, &produced, err, sizeof err);
    ok(rc == -1 && rc2 == -1 && err[0] && left == comp.len,
       "%s: after an error every call fails without consuming: %s", name, err);
    bt_decompressor_reset(d);
    size_t total = 0;
    int ok_all = 1;
    do {
        rc = bt_decompressor_run(d, &p, &left, out, sizeof out, &produced, err, sizeof err);
        ok_all &= produced <= len - total && memcmp(out, data + total, produced) == 0;
        total += produced;
    } while (rc == 0 && (left > 0 || produced == sizeof out));
    ok(rc == 1 && ok_all && total == len, "%s: after reset the same decoder decodes good data",
       name);
    bt_decompressor_free(d);
    free(bad);
    sink_free(&comp);
}

/* A zstd frame header asking for a 2^30-byte window (above the 2^27 cap) followed by one raw
 * block; and the same with a 2^20 window, which must decode. Layout (RFC 8878): magic, frame
 * header descriptor 0x00 (no content size, not single-segment, no checksum), window descriptor
 * (exponent << 3: window log = 10 + exponent), block header (last, raw, size 5), 5 bytes. */
static void test_zstd_window_cap(void) {
    char err[256] = "";
    uint8_t frame[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3, 0x29, 0x00, 0x00,
                       'h',  'e',  'l',  'l',  'o'};
    sink_t dec;
    int rc = decompress_buf(BT_CODEC_ZSTD, frame, sizeof frame, 64, 64, &dec, err, sizeof err);
    ok(rc == DEC_ERROR && strstr(err, "window") && strstr(err, "2^27"),
       "zstd: a 2^30 window is refused: %s", err);
    sink_free(&dec);
    frame[5] = 10 << 3;
    rc = decompress_buf(BT_CODEC_ZSTD, frame, sizeof frame, 64, 64, &dec, err, sizeof err);
    ok(rc == DEC_OK && dec.len == 5 && memcmp(dec.buf, "hello", 5) == 0,
       "zstd: the same frame with a 2^20 window decodes");
    sink_free(&dec);
}

/* Several frames (from flushes) decode as one stream, and `1` comes back at each frame end. */
static void test_frame_boundaries(bt_codec_t codec) {
    const char *name = bt_codec_name(codec);
    char err[256];
    sink_t s = {0};
    bt_compressor_t *c = bt_compressor_new(codec, 0, sink_write, &s, err, sizeof err);
    bt_compressor_write(c, "first,", 6);
    bt_compressor_flush(c);
    bt_compressor_write(c, "second,", 7);
    bt_compressor_flush(c);
    bt_compressor_write(c, "third", 5);
    int rc = bt_compressor_finish(c);
    ok(rc == 0 && bt_compressor_finish(c) == 0, "%s: finish is idempotent", name);
    ok(bt_compressor_write(c, "x", 1) == -1 && strstr(bt_compressor_error(c), "after finish"),
       "%s: write after finish fails: %s", name, bt_compressor_error(c));
    bt_compressor_free(c);

    bt_decompressor_t *d = bt_decompressor_new(codec, err, sizeof err);
    const uint8_t *p = s.buf;
    size_t left = s.len, produced;
    uint8_t out[64];
    char got[64] = "";
    int ones = 0, calls = 0;
    while (left > 0 && calls++ < 20) {
        rc = bt_decompressor_run(d, &p, &left, out, sizeof out, &produced, err, sizeof err);
        if (rc < 0)
            break;
        strncat(got, (const char *)out, produced);
        ones += rc == 1;
    }
    is_str(got, "first,second,third", "%s: three flushed segments decode in order", name);
    if (codec == BT_CODEC_SNAPPY)
        ok(ones >= 1 && rc == 1, "%s: ends with 1 on a chunk boundary", name);
    else
        is_int(ones, 3, "%s: 1 is returned once per frame", name);
    bt_decompressor_free(d);
    sink_free(&s);
}

static void test_errors(void) {
    char err[256];
    sink_t s = {0};
    err[0] = '\0';
    ok(bt_compressor_new(BT_CODEC_ZSTD, 99, sink_write, &s, err, sizeof err) == NULL &&
           strstr(err, "level 99") && strstr(err, "zstd"),
       "zstd level 99 refused: %s", err);
    ok(bt_compressor_new(BT_CODEC_GZIP, 10, sink_write, &s, err, sizeof err) == NULL &&
           strstr(err, "gzip") && strstr(err, "1..9"),
       "gzip level 10 refused: %s", err);
    ok(bt_compressor_new(BT_CODEC_LZ4, 13, sink_write, &s, err, sizeof err) == NULL &&
           strstr(err, "lz4") && strstr(err, "13"),
       "lz4 level 13 refused: %s", err);
    ok(bt_compressor_new((bt_codec_t)42, 0, sink_write, &s, err, sizeof err) == NULL &&
           strstr(err, "42") && strstr(err, "zstd"),
       "unknown codec refused: %s", err);
    ok(bt_compressor_new(BT_CODEC_ZSTD, 0, NULL, &s, err, sizeof err) == NULL &&
           strstr(err, "callback"),
       "missing callback refused: %s", err);
    ok(bt_decompressor_new(BT_CODEC_NONE, err, sizeof err) == NULL && strstr(err, "none"),
       "no decompressor for none: %s", err);

    /* A failing callback fails the call and every later one, with a message. */
    uint8_t *data = make_data(1 << 20);
    for (size_t i = 0; i < NCODECS; i++) {
        sink_t f = {.fail_at = 1000};
        bt_compressor_t *c = bt_compressor_new(all_codecs[i], 0, sink_write, &f, err, sizeof err);
        int rc = bt_compressor_write(c, data, 1 << 20);
        if (rc == 0)
            rc = bt_compressor_finish(c);
        ok(rc == -1 && strstr(bt_compressor_error(c), "output callback failed (returned -7)") &&
               bt_compressor_write(c, "x", 1) == -1 && bt_compressor_flush(c) == -1 &&
               bt_compressor_finish(c) == -1,
           "%s: callback failure is reported and sticky: %s", bt_codec_name(all_codecs[i]),
           bt_compressor_error(c));
        bt_compressor_free(c);
        sink_free(&f);
    }
    free(data);

    /* Identity codec passes bytes through and never needs a frame. */
    sink_t idn = {0};
    bt_compressor_t *c = bt_compressor_new(BT_CODEC_NONE, 0, sink_write, &idn, err, sizeof err);
    ok(c && bt_compressor_write(c, "abc", 3) == 0 && bt_compressor_flush(c) == 0 &&
           bt_compressor_write(c, "de", 2) == 0 && bt_compressor_finish(c) == 0 && idn.len == 5 &&
           memcmp(idn.buf, "abcde", 5) == 0 && !bt_compressor_error(c)[0],
       "none: bytes pass through");
    bt_compressor_free(c);
    sink_free(&idn);
    c = bt_compressor_new(BT_CODEC_NONE, 0, sink_write, &idn, err, sizeof err);
    ok(bt_compressor_finish(c) == 0 && idn.len == 0 && idn.calls == 0,
       "none: empty input gives empty output");
    bt_compressor_free(c);
    bt_compressor_free(NULL);
    bt_decompressor_free(NULL);
}

/* ---- zlib one-shot ---- */

static void test_inflate_zlib(void) {
    char err[256];
    size_t len = 3 << 20;
    uint8_t *data = make_data(len);
    uLongf clen = compressBound(len);
    uint8_t *comp = malloc(clen + 1);
    ok(compress2(comp, &clen, data, len, 6) == Z_OK, "zlib compress2 of %zu bytes", len);
    uint8_t *dst = malloc(len + 16);

    ok(bt_codec_inflate_zlib(comp, clen, dst, len, err, sizeof err) == 0 &&
           memcmp(dst, data, len) == 0,
       "inflate %zu bytes exactly", len);
    err[0] = '\0';
    ok(bt_codec_inflate_zlib(comp, clen, dst, len + 1, err, sizeof err) == -1 &&
           strstr(err, "expected 3145729"),
       "expected one byte more -> -1: %s", err);
    err[0] = '\0';
    ok(bt_codec_inflate_zlib(comp, clen, dst, len - 1, err, sizeof err) == -1 &&
           strstr(err, "more than the expected 3145727"),
       "expected one byte less -> -1 without overrunning dst: %s", err);
    err[0] = '\0';
    ok(bt_codec_inflate_zlib(comp, clen - 3, dst, len, err, sizeof err) == -1 &&
           strstr(err, "truncated"),
       "truncated input -> -1: %s", err);
    err[0] = '\0';
    comp[clen] = 0;
    ok(bt_codec_inflate_zlib(comp, clen + 1, dst, len, err, sizeof err) == -1 &&
           strstr(err, "1 trailing byte"),
       "trailing byte -> -1: %s", err);
    err[0] = '\0';
    comp[clen / 2] ^= 0x44;
    ok(bt_codec_inflate_zlib(comp, clen, dst, len, err, sizeof err) == -1 && strstr(err, "zlib"),
       "corrupt input -> -1: %s", err);
    err[0] = '\0';
    ok(bt_codec_inflate_zlib((const uint8_t *)"\x00\x01", 2, dst, len, err, sizeof err) == -1 &&
           err[0],
       "garbage header -> -1: %s", err);

    clen = compressBound(0);
    ok(compress2(comp, &clen, (const Bytef *)"", 0, 6) == Z_OK &&
           bt_codec_inflate_zlib(comp, clen, NULL, 0, err, sizeof err) == 0,
       "empty stream into a NULL buffer of 0 bytes");
    clen = compressBound(5);
    compress2(comp, &clen, (const Bytef *)"hello", 5, 6);
    ok(bt_codec_inflate_zlib(comp, clen, NULL, 0, err, sizeof err) == -1 &&
           strstr(err, "more than the expected 0"),
       "5 bytes into an expected 0 -> -1: %s", err);
    free(comp);
    free(dst);
    free(data);
}

static int make_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/bt-codecs-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(snappy_cli, sizeof snappy_cli, "%s/snappy_cli.py", tmpdir);
    return write_file(snappy_cli, snappy_cli_py, sizeof snappy_cli_py - 1);
}

static void remove_tmpdir(void) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
}

int main(void) {
    if (make_tmpdir() != 0) {
        printf("not ok 1 - mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    test_names();
    test_errors();

    size_t big_len = 6 << 20;
    uint8_t *big = make_data(big_len);
    uint8_t *small = make_data(1000);
    for (size_t i = 0; i < NCODECS; i++) {
        bt_codec_t c = all_codecs[i];
        test_roundtrip(c, "empty", (const uint8_t *)"", 0, 0, 0);
        test_roundtrip(c, "1 byte", (const uint8_t *)"x", 1, 0, 0);
        test_roundtrip(c, "1000 bytes", small, 1000, 0, 0);
        test_roundtrip(c, "6 MiB", big, big_len, 0, 0);
        test_roundtrip(c, "6 MiB flushed every 500 KB", big, big_len, 0, 500000);
        int level = c == BT_CODEC_ZSTD ? 19 : c == BT_CODEC_LZ4 ? 9 : c == BT_CODEC_GZIP ? 9 : 0;
        test_roundtrip(c, "1 MiB at a high level", big, 1 << 20, level, 0);
        test_tool_to_library(c, big, big_len);
        test_flush_truncate(c, big, 300000, 2000000);
        test_small_buffers(c, big, 200000);
        test_corrupt(c, big, 100000);
        test_frame_boundaries(c);
    }
    test_zstd_window_cap();
    test_inflate_zlib();
    free(big);
    free(small);
    remove_tmpdir();
    return tap_done();
}
