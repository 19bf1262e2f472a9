# agent/snapshot: full sync (the initial snapshot), see agent/snapshot.h. Its sources go into
# the agent library; the integration test is tests/integration/snapshot.sh.
agent_libbtagent_a_SOURCES += \
	agent/snapshot.h agent/snapshot_internal.h \
	agent/snapshot.c \
	agent/snapshot_schema.c \
	agent/snapshot_value.c \
	agent/snapshot_conn.c
