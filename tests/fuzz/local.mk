# tests/fuzz/: the binlog decoder's fuzz target. Every `make check` replays the checked-in corpus
# through it (test_fuzz_corpus, no libFuzzer needed); --enable-fuzzers (with CC=clang) also builds
# the libFuzzer program tests/fuzz/fuzz_decoder that scripts/fuzz runs.
EXTRA_DIST += tests/fuzz scripts/fuzz

check_PROGRAMS += tests/unit/test_fuzz_corpus
tests_unit_test_fuzz_corpus_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_decoder.c tests/unit/tap.h
tests_unit_test_fuzz_corpus_CPPFLAGS = $(AM_CPPFLAGS) -DBT_TEST_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_fuzz_corpus_LDADD = agent/libbtagent.a $(BT_CODECS_LIBS) $(LIBDEFLATE_LIBS) -lm

if FUZZERS
# The decoder's own sources, compiled again with the fuzzer's coverage instrumentation.
noinst_PROGRAMS += tests/fuzz/fuzz_decoder
tests_fuzz_fuzz_decoder_SOURCES = tests/fuzz/fuzz_decoder.c $(BT_DECODER_SOURCES) $(BT_LIB_SOURCES) \
	$(BT_CODECS_SOURCES)
tests_fuzz_fuzz_decoder_CFLAGS = $(AM_CFLAGS) $(BT_FUZZ_CFLAGS) $(ZSTD_CFLAGS) $(LZ4_CFLAGS) $(SNAPPY_CFLAGS) \
	$(ZLIB_CFLAGS)
tests_fuzz_fuzz_decoder_LDFLAGS = $(AM_LDFLAGS) $(BT_FUZZ_CFLAGS)
tests_fuzz_fuzz_decoder_LDADD = $(ZSTD_LIBS) $(LZ4_LIBS) $(SNAPPY_LIBS) $(ZLIB_LIBS) $(LIBDEFLATE_LIBS) -lm
endif
