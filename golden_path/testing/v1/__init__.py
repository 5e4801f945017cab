"""Protocol v1 (``golden-path.v1``, docs/protocol.md): its event contract (``contract``, with
``fields`` and ``rules``), hypothesis strategies of valid and broken streams
(``strategies``) and hostile frames (``attacks``).

May import: ``golden_path.protocol``, identifiers, tiers and the harness's ``violation``.
Never the reference server, the services or the report: a protocol checker is pure.
"""
