"""A team's own JSON WebSocket protocol: a declarative event contract (``contract``: the
first event, the terminal ones, the seq field, event -> stage), a client that keeps a
transcript and never stalls its close (``client``), and the ``gp_ws`` fixture
(``fixtures``).

May import: ``websockets``, the harness's ``options``, ``markers``, ``violation`` and
``transcripts``. Never the reference server, the services, protocol v1 or AG-UI: a team's
protocol is its own.
"""
