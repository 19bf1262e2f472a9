# agent/stream/: the reader loop and what it owns: transactions, XA records, routing, row
# changes, the schema cache for MINIMAL metadata, the delivery tracker and checkpoint, and the
# lock that keeps the state directory to one agent.
agent_libbtagent_a_SOURCES += \
	agent/stream/pipeline.c agent/stream/pipeline.h agent/stream/internal.h \
	agent/stream/txn.c agent/stream/emit.c agent/stream/partition.c agent/stream/oversize.c \
	agent/stream/xa.c agent/stream/ddl.c \
	agent/stream/rows_change.c agent/stream/rows_change.h \
	agent/stream/route.c agent/stream/route.h \
	agent/stream/schema.c agent/stream/schema.h \
	agent/stream/checkpoint.c agent/stream/checkpoint.h \
	agent/stream/xa_spill.c agent/stream/xa_spill.h \
	agent/stream/state_lock.c agent/stream/state_lock.h

check_PROGRAMS += tests/unit/test_checkpoint tests/unit/test_route
tests_unit_test_checkpoint_SOURCES = tests/unit/test_checkpoint.c
tests_unit_test_checkpoint_LDADD = agent/libbtagent.a lib/libbtlib.a -lm
tests_unit_test_route_SOURCES = tests/unit/test_route.c
tests_unit_test_route_LDADD = agent/libbtagent.a lib/libbtlib.a $(PCRE2_LIBS) -lm
