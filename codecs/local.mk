# codecs/: placeholder until the library lands.
