# agent/source/: where raw events come from: the binlog files (the shared file walker, the
# transaction gate and the block reader of `bintail decode`), the replication protocol and the
# --mysql URL and connection helper, and --start resolution; their unit tests and the
# bt-repl-dump tool.
agent_libbtagent_a_SOURCES += \
	agent/source/source.h agent/source/binlog_walk.c agent/source/binlog_walk.h \
	agent/source/source_file.c agent/source/txn_gate.c agent/source/txn_gate.h \
	agent/source/startpos.c agent/source/startpos_gtid.c agent/source/startpos.h \
	agent/source/event_blocks.c agent/source/event_blocks.h \
	agent/source/source_repl.c agent/source/repl_conn.c agent/source/repl_reader.c \
	agent/source/repl_internal.h agent/source/repl_gtid.c agent/source/repl_gtid.h \
	agent/source/mysql_url.c agent/source/mysql_url.h

check_PROGRAMS += tests/unit/test_source_file
tests_unit_test_source_file_SOURCES = tests/unit/test_source_file.c
tests_unit_test_source_file_LDADD = $(BT_AGENT_LIBS)

check_PROGRAMS += tests/unit/test_mysql_url
tests_unit_test_mysql_url_SOURCES = tests/unit/test_mysql_url.c
tests_unit_test_mysql_url_CFLAGS = $(AM_CFLAGS) $(MARIADB_CFLAGS)
tests_unit_test_mysql_url_LDADD = $(BT_AGENT_LIBS)

# bt-repl-dump: reads a server over the replication protocol and prints every event and row
# (used by tests/integration/source_repl.sh; handy when debugging a server's stream).
noinst_PROGRAMS += tests/bt-repl-dump
tests_bt_repl_dump_SOURCES = tests/bt-repl-dump.c
tests_bt_repl_dump_CFLAGS = $(AM_CFLAGS) $(MARIADB_CFLAGS)
tests_bt_repl_dump_LDADD = $(BT_AGENT_LIBS)
