# lib/: what every part may use and that depends on nothing else of ours (lib.h): the capped
# buffer, arena, error helper, logging, byte readers, clocks, the out-of-memory policy and the
# JSON writer. Linked last, after every library that uses it.
noinst_LIBRARIES += lib/libbtlib.a
BT_LIB_SOURCES = lib/lib.h lib/buf.c lib/arena.c lib/err.c lib/log.c lib/clock.c lib/xalloc.c lib/jsonw.c
lib_libbtlib_a_SOURCES = $(BT_LIB_SOURCES)
BT_LIB_LIBS = lib/libbtlib.a -lm

check_PROGRAMS += tests/unit/test_jsonw
tests_unit_test_jsonw_SOURCES = tests/unit/test_jsonw.c
tests_unit_test_jsonw_LDADD = $(BT_LIB_LIBS)
