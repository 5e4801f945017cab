"""The server under test: the team's app or command (``own``), golden-path's reference
server (``reference``), or a deployment by ``--gp-url``; each gives tests an ``endpoint``.

May import: ``services``, ``identity`` (its key), ``model`` (its URLs) and ``options`` of
the harness, and the process runner and
settings of ``golden_path.server`` (to start servers). Never a protocol's contract or client.
"""
