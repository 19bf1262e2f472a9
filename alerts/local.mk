# alerts/: alert rules over the agent's state and webhooks sent through libcurl multi (alerts.h).
noinst_LIBRARIES += alerts/libbtalerts.a
alerts_libbtalerts_a_SOURCES = alerts/alerts.h alerts/internal.h alerts/alerts.c alerts/rules.c \
	alerts/body.c alerts/hmac.c alerts/sender.c
alerts_libbtalerts_a_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(OPENSSL_CFLAGS)
# Link line for programs using the library (its own libraries after it).
BT_ALERTS_LIBS = alerts/libbtalerts.a lib/libbtlib.a $(CURL_LIBS) $(OPENSSL_LIBS) $(AX_PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_alerts
tests_unit_test_alerts_SOURCES = tests/unit/test_alerts.c
tests_unit_test_alerts_CPPFLAGS = $(AM_CPPFLAGS) -DBT_TEST_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_alerts_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_alerts_LDADD = $(BT_ALERTS_LIBS)
