"""``gp_model``: the model at the wire for one test, and what a failing test's report shows.

One server per worker (:func:`worker_model_server`, the one ``{openai_base_url}``
points the team's server at); each test gets a namespace of its own, made the
*current* one (bare ``/v1/...`` paths reach it) while the test runs and removed when
it ends, with its scripts and journal. ``gp_model.openai_base_url`` and
``gp_model.anthropic_base_url`` name the namespace in the path, for clients a test
builds itself. A request no script matched, or a script calling a tool the request
did not offer, fails the test with the journal in its report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

# The model server is imported when a test first asks for it: a run that never scripts a
# model loads none of it.
if TYPE_CHECKING:
    from golden_path.testing.model.handle import ModelHandle


@pytest.fixture
def gp_model(request: pytest.FixtureRequest) -> Iterator[ModelHandle]:
    """The model at the wire for this test: ``gp_model.script(user="weather",
    steps=[tool_call("get_weather", city="Paris")])``, ``gp_model.journal``; the team's
    server reaches it through ``{openai_base_url}`` / ``{anthropic_base_url}``."""
    from golden_path.testing.model.handle import ModelHandle
    from golden_path.testing.model.server import worker_model_server

    server = worker_model_server()  # one per worker, stopped when the worker exits
    state = server.state
    namespace = state.open()
    state.current = namespace
    handle = ModelHandle(server, namespace)
    request.node.gp_model = handle
    try:
        yield handle
    finally:
        state.close(namespace)


def model_report(item: pytest.Item, report: pytest.TestReport) -> None:
    """The call report of a test that used ``gp_model``: failed when the model saw a
    problem (a request no script matched, an unoffered tool called), and, when failed,
    with the model's journal as a section."""
    handle: ModelHandle | None = getattr(item, "gp_model", None)
    if handle is None or report.when != "call":
        return
    problems = handle.problems
    if problems and report.passed:
        report.outcome = "failed"
        report.longrepr = "golden-path model: " + "\n".join(problems)
    if report.failed:
        report.sections.append(("golden-path model journal", handle.format_journal()))
