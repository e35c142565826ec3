"""The reliability and security harness: faults, secrets, TLS, bad input, soak, concurrency."""
