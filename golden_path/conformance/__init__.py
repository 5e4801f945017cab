"""The conformance suites golden-path ships: pytest modules that judge any server by URL.

``golden_path.conformance.v1``: protocol v1 (docs/protocol.md), over HTTP, the
WebSocket and ``POST /agui``. ``golden_path.conformance.agui``: the AG-UI protocol,
against any endpoint a ``RunAgentInput`` is POSTed to. ``golden-path conformance
--protocol v1|ag-ui --url URL`` runs one (``golden_path.conformance.command``);
this repository's own suite also collects them against the harness's servers
(pytest.ini ``testpaths``). ``support`` holds the helpers the modules share.
"""
