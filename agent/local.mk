# agent/: the bintail daemon.
bin_PROGRAMS += agent/bintail
agent_bintail_SOURCES = agent/main.c
