"""AG-UI: its event contract (``contract``: ``schema``, ``chunks``, ``rules``, ``stages``),
a client of any AG-UI endpoint (``client``), its fixtures and strategies.

May import: ``ag_ui``, the harness's ``violation``, ``markers``, ``options`` (where the
endpoint is) and ``transcripts``. Never the reference server, the services, protocol v1 or
the report: any team's AG-UI endpoint is judged alike.
"""
