# agent/format: row changes -> Kafka key/value bytes (json, debezium, canal, maxwell, dataworks,
# upsert). All of it goes into the agent library; the unit test drives every format by hand.
agent_libbtagent_a_SOURCES += \
	agent/format/format.h agent/format/fmt_internal.h \
	agent/format/format.c \
	agent/format/fmt_json.c \
	agent/format/fmt_debezium.c \
	agent/format/fmt_canal.c \
	agent/format/fmt_maxwell.c \
	agent/format/fmt_dataworks.c \
	agent/format/fmt_upsert.c

check_PROGRAMS += tests/unit/test_formats
tests_unit_test_formats_SOURCES = tests/unit/test_formats.c tests/unit/tap.h
tests_unit_test_formats_LDADD = agent/libbtagent.a lib/libbtlib.a $(ZLIB_LIBS) $(LIBDEFLATE_LIBS) -lm
