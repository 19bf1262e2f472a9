# agent/binlog/: the pure decoder (binlog.h), one fragment for the whole folder.

# agent/binlog events decoder: framing checks, CRC32, every event family, TABLE_MAP metadata,
# row images, TRANSACTION_PAYLOAD and MariaDB compressed events.
BT_DECODER_SOURCES = \
	agent/binlog/binlog.h agent/binlog/decoder_internal.h \
	agent/binlog/decoder.c \
	agent/binlog/ev_control.c \
	agent/binlog/ev_query.c \
	agent/binlog/ev_gtid.c \
	agent/binlog/table_map.c \
	agent/binlog/rows.c \
	agent/binlog/payload.c \
	agent/binlog/gtid_set.c agent/binlog/gtid_set.h

check_PROGRAMS += tests/unit/test_decoder
tests_unit_test_decoder_SOURCES = tests/unit/test_decoder.c tests/unit/tap.h
tests_unit_test_decoder_LDADD = agent/libbtagent.a $(BT_CODECS_LIBS) lib/libbtlib.a $(LIBDEFLATE_LIBS) -lm

EXTRA_DIST += tests/lib/crosscheck_mysqlbinlog.py

# agent/binlog values: decoding one cell of a row image (value.h), MySQL binary JSON and partial
# JSON updates, charsets, and rendering values as typed JSON / text / type names (binlog.h).
BT_DECODER_SOURCES += \
	agent/binlog/value.h agent/binlog/value_internal.h \
	agent/binlog/value_decode.c agent/binlog/value_render.c \
	agent/binlog/decimal.c agent/binlog/temporal.c agent/binlog/charset.c \
	agent/binlog/json_binary.c agent/binlog/json_diff.c
# (named so the fuzz target in tests/fuzz can compile the same sources with its instrumentation)
agent_libbtagent_a_SOURCES += $(BT_DECODER_SOURCES)

check_PROGRAMS += tests/unit/test_values tests/unit/test_json_binary
tests_unit_test_values_SOURCES = tests/unit/test_values.c tests/unit/tap.h
tests_unit_test_values_LDADD = agent/libbtagent.a $(BT_CODECS_LIBS) $(ZLIB_LIBS) $(LIBDEFLATE_LIBS) -lm
tests_unit_test_json_binary_SOURCES = tests/unit/test_json_binary.c tests/unit/tap.h
tests_unit_test_json_binary_LDADD = agent/libbtagent.a lib/libbtlib.a $(ZLIB_LIBS) $(LIBDEFLATE_LIBS) -lm

check_PROGRAMS += tests/unit/test_gtid_set
tests_unit_test_gtid_set_SOURCES = tests/unit/test_gtid_set.c tests/unit/tap.h
tests_unit_test_gtid_set_LDADD = agent/libbtagent.a lib/libbtlib.a -lm
