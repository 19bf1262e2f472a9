# codecs/: zstd, LZ4 frame, snappy framing and gzip behind one streaming interface (codecs.h).
noinst_LIBRARIES += codecs/libbtcodecs.a
BT_CODECS_SOURCES = codecs/codecs.h codecs/codecs.c codecs/compress.c codecs/decompress.c
codecs_libbtcodecs_a_SOURCES = $(BT_CODECS_SOURCES)
codecs_libbtcodecs_a_CFLAGS = $(AM_CFLAGS) $(ZSTD_CFLAGS) $(LZ4_CFLAGS) $(SNAPPY_CFLAGS) $(ZLIB_CFLAGS)
# Link line for programs using the library (the codecs' own libraries after it).
BT_CODECS_LIBS = codecs/libbtcodecs.a lib/libbtlib.a $(ZSTD_LIBS) $(LZ4_LIBS) $(SNAPPY_LIBS) $(ZLIB_LIBS)

check_PROGRAMS += tests/unit/test_codecs
tests_unit_test_codecs_SOURCES = tests/unit/test_codecs.c
tests_unit_test_codecs_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_test_codecs_LDADD = $(BT_CODECS_LIBS)
