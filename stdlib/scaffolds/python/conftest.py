# Makes the service directory importable in tests, however pytest is started.
