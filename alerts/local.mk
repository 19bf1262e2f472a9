# alerts/: placeholder until the library lands.
