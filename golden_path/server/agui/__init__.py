"""AG-UI on the reference server: ``POST /agui`` streams a run of the server as AG-UI events.

``mapping`` turns protocol v1's persisted run events (and refusals) into AG-UI
events, ``inputs`` reads a ``RunAgentInput`` into what the run service takes,
``feed`` follows one run's events as the hub delivers them, and ``route`` is
the HTTP endpoint. An AG-UI run is an ordinary run: admitted, limited, billed
and persisted by the run service exactly as a socket's (docs/protocol.md §12).
"""
