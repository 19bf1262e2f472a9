# agent/: the bintail daemon. The sources go into agent/libbtagent.a (which unit tests link
# too); agent/bintail is main.c plus that library. Sub-folders keep their own fragments.
noinst_LIBRARIES += agent/libbtagent.a
agent_libbtagent_a_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS) $(MARIADB_CFLAGS) $(CURL_CFLAGS) $(PCRE2_CFLAGS)
agent_libbtagent_a_SOURCES = \
	agent/util/buf.c agent/util/buf.h \
	agent/util/arena.c agent/util/arena.h agent/util/utf8.h \
	agent/util/err.c agent/util/err.h \
	agent/json/jsonw.c agent/json/jsonw.h \
	agent/util/log.c agent/util/log.h \
	agent/options.c agent/options.h \
	agent/checkpoint.c agent/checkpoint.h agent/xa_spill.c agent/xa_spill.h \
	agent/route.c agent/route.h \
	agent/schema.c agent/schema.h \
	agent/pipeline.c agent/pipeline.h \
	agent/cmd_run.c agent/cmd_ctl.c agent/commands.h \
	agent/control.c agent/control.h agent/alerting.c agent/alerting.h \
	agent/state_lock.c agent/state_lock.h \
	agent/source/source.h agent/source/source_file.c agent/source/txn_gate.c agent/source/txn_gate.h \
	agent/source/startpos.c agent/source/startpos.h \
	agent/sink/sink.h agent/sink/sink_stream.c agent/sink/sink_kafka.c

# Everything a program linking the agent library needs, in link order.
BT_AGENT_LIBS = agent/libbtagent.a alerts/libbtalerts.a throttle/libbtthrottle.a \
	partitioner/libbtpartitioner.a codecs/libbtcodecs.a \
	$(RDKAFKA_LIBS) $(MARIADB_LIBS) $(CURL_LIBS) $(OPENSSL_LIBS) $(PCRE2_LIBS) \
	$(ZSTD_LIBS) $(LZ4_LIBS) $(SNAPPY_LIBS) $(ZLIB_LIBS) $(LIBDEFLATE_LIBS) -lpthread -lm

include $(top_srcdir)/agent/binlog/events.mk
include $(top_srcdir)/agent/binlog/values.mk
include $(top_srcdir)/agent/format/local.mk
include $(top_srcdir)/agent/snapshot/local.mk
include $(top_srcdir)/agent/source/repl.mk

bin_PROGRAMS += agent/bintail
agent_bintail_SOURCES = agent/main.c
agent_bintail_CFLAGS = $(agent_libbtagent_a_CFLAGS)
agent_bintail_LDADD = $(BT_AGENT_LIBS)

check_PROGRAMS += tests/unit/test_checkpoint tests/unit/test_route tests/unit/test_jsonw tests/unit/test_source_file
tests_unit_test_checkpoint_SOURCES = tests/unit/test_checkpoint.c
tests_unit_test_checkpoint_LDADD = agent/libbtagent.a -lm
tests_unit_test_source_file_SOURCES = tests/unit/test_source_file.c
tests_unit_test_source_file_LDADD = $(BT_AGENT_LIBS)
tests_unit_test_route_SOURCES = tests/unit/test_route.c
tests_unit_test_route_LDADD = agent/libbtagent.a $(PCRE2_LIBS) -lm
tests_unit_test_jsonw_SOURCES = tests/unit/test_jsonw.c
tests_unit_test_jsonw_LDADD = agent/libbtagent.a -lm
