# throttle/: token buckets taking the time as an argument, plus the clock/sleep helpers.
noinst_LIBRARIES += throttle/libbtthrottle.a
throttle_libbtthrottle_a_SOURCES = throttle/throttle.h throttle/throttle.c throttle/sleep.c
BT_THROTTLE_LIBS = throttle/libbtthrottle.a lib/libbtlib.a $(AX_PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_throttle
tests_unit_test_throttle_SOURCES = tests/unit/test_throttle.c
tests_unit_test_throttle_LDADD = $(BT_THROTTLE_LIBS)
