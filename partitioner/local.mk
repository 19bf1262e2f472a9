# partitioner/: placeholder until the library lands.
