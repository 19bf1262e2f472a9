# partitioner/: Kafka-compatible murmur2 partitioning and the --partition-by strategies.
noinst_LIBRARIES += partitioner/libbtpartitioner.a
partitioner_libbtpartitioner_a_SOURCES = partitioner/partitioner.h partitioner/partitioner.c
BT_PARTITIONER_LIBS = partitioner/libbtpartitioner.a

check_PROGRAMS += tests/unit/test_partitioner
tests_unit_test_partitioner_SOURCES = tests/unit/test_partitioner.c
tests_unit_test_partitioner_LDADD = $(BT_PARTITIONER_LIBS)
