# agent/binlog values: decoding one cell of a row image (value.h), MySQL binary JSON and partial
# JSON updates, charsets, and rendering values as typed JSON / text / type names (binlog.h).
agent_libbtagent_a_SOURCES += \
	agent/binlog/value.h agent/binlog/value_internal.h \
	agent/binlog/value_decode.c agent/binlog/value_render.c \
	agent/binlog/decimal.c agent/binlog/temporal.c agent/binlog/charset.c \
	agent/binlog/json_binary.c agent/binlog/json_diff.c

check_PROGRAMS += tests/unit/test_values tests/unit/test_json_binary
tests_unit_test_values_SOURCES = tests/unit/test_values.c tests/unit/tap.h
tests_unit_test_values_LDADD = agent/libbtagent.a $(ZLIB_LIBS) $(LIBDEFLATE_LIBS) -lm
tests_unit_test_json_binary_SOURCES = tests/unit/test_json_binary.c tests/unit/tap.h
tests_unit_test_json_binary_LDADD = agent/libbtagent.a $(ZLIB_LIBS) $(LIBDEFLATE_LIBS) -lm
