# agent/: the bintail daemon. The sources go into agent/libbtagent.a (which unit tests link
# too); agent/bintail is main.c plus that library. Each sub-folder's local.mk builds exactly that
# folder; this one builds the top level: the commands, options, control endpoint and alerting.
noinst_LIBRARIES += agent/libbtagent.a
agent_libbtagent_a_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS) $(MARIADB_CFLAGS) $(CURL_CFLAGS) $(PCRE2_CFLAGS)
agent_libbtagent_a_SOURCES = \
	agent/options.c agent/options_table.c agent/options_help.c agent/options.h \
	agent/cmd_run.c agent/cmd_ctl.c agent/cmd_decode.c agent/commands.h \
	agent/control.c agent/control.h agent/alerting.c agent/alerting.h agent/cmd_alert_test.c

# Everything a program linking the agent library needs, in link order.
BT_AGENT_LIBS = agent/libbtagent.a alerts/libbtalerts.a throttle/libbtthrottle.a \
	partitioner/libbtpartitioner.a codecs/libbtcodecs.a lib/libbtlib.a \
	$(RDKAFKA_LIBS) $(MARIADB_LIBS) $(CURL_LIBS) $(OPENSSL_LIBS) $(PCRE2_LIBS) \
	$(ZSTD_LIBS) $(LZ4_LIBS) $(SNAPPY_LIBS) $(ZLIB_LIBS) $(LIBDEFLATE_LIBS) -lpthread -lm

include $(top_srcdir)/agent/binlog/local.mk
include $(top_srcdir)/agent/format/local.mk
include $(top_srcdir)/agent/source/local.mk
include $(top_srcdir)/agent/stream/local.mk
include $(top_srcdir)/agent/sink/local.mk
include $(top_srcdir)/agent/snapshot/local.mk

check_PROGRAMS += tests/unit/test_options
tests_unit_test_options_SOURCES = tests/unit/test_options.c
tests_unit_test_options_CFLAGS = $(agent_libbtagent_a_CFLAGS)
tests_unit_test_options_LDADD = $(BT_AGENT_LIBS)

bin_PROGRAMS += agent/bintail
agent_bintail_SOURCES = agent/main.c
agent_bintail_CFLAGS = $(agent_libbtagent_a_CFLAGS)
agent_bintail_LDADD = $(BT_AGENT_LIBS)
