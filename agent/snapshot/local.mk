# agent/snapshot/: full sync (the initial snapshot), see snapshot.h. Its sources go into the
# agent library; the integration test is tests/integration/snapshot.sh.
agent_libbtagent_a_SOURCES += \
	agent/snapshot/snapshot.h agent/snapshot/internal.h \
	agent/snapshot/snapshot.c \
	agent/snapshot/point.c \
	agent/snapshot/chunk.c \
	agent/snapshot/queue.c \
	agent/snapshot/progress.c \
	agent/snapshot/table.c \
	agent/snapshot/value.c \
	agent/snapshot/conn.c
