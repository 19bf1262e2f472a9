# agent/source/repl.mk: the replication-protocol source, the --mysql URL and connection helper,
# their unit test and the bt-repl-dump debugging tool (included from agent/local.mk).
agent_libbtagent_a_SOURCES += \
	agent/source/source_repl.c \
	agent/mysql_url.c agent/mysql_url.h

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
