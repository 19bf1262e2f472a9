# agent/binlog events decoder: framing checks, CRC32, every event family, TABLE_MAP metadata,
# row images, TRANSACTION_PAYLOAD and MariaDB compressed events; plus `bintail decode`.
agent_libbtagent_a_SOURCES += \
	agent/binlog/binlog.h agent/binlog/decoder_internal.h \
	agent/binlog/decoder.c \
	agent/binlog/ev_control.c \
	agent/binlog/ev_query.c \
	agent/binlog/ev_gtid.c \
	agent/binlog/table_map.c \
	agent/binlog/rows.c \
	agent/binlog/payload.c \
	agent/cmd_decode.c agent/event_blocks.h agent/event_blocks.c \
	agent/rows_change.h agent/rows_change.c

check_PROGRAMS += tests/unit/test_decoder
tests_unit_test_decoder_SOURCES = tests/unit/test_decoder.c tests/unit/tap.h
tests_unit_test_decoder_LDADD = agent/libbtagent.a $(BT_CODECS_LIBS) $(LIBDEFLATE_LIBS) -lm

EXTRA_DIST += tests/fuzz scripts/fuzz tests/lib/crosscheck_mysqlbinlog.py
