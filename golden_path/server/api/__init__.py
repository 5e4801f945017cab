"""The HTTP API of protocol v1: authentication, billing, threads, runs, events, search, usage."""
