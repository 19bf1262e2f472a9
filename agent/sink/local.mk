# agent/sink/: where messages go: Kafka (librdkafka), stdout and files (codecs/).
agent_libbtagent_a_SOURCES += \
	agent/sink/sink.h agent/sink/sink.c agent/sink/sink_stream.c agent/sink/sink_kafka.c
