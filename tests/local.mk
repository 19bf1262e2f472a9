# tests/: the local broker, unit test programs (added by each component's local.mk) and the runner.
noinst_PROGRAMS += tests/bt-mockbroker
tests_bt_mockbroker_SOURCES = tests/mockbroker.c
tests_bt_mockbroker_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
tests_bt_mockbroker_LDADD = $(RDKAFKA_LIBS) -lpthread
EXTRA_DIST += tests/run tests/unit/tap.h

check_PROGRAMS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_LDADD = lib/libbtlib.a
