# throttle/: placeholder until the library lands.
