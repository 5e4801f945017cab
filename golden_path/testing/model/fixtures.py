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

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from golden_path.testing.model.files import load_scripts
from golden_path.testing.model.journal import JournalEntry, Namespace
from golden_path.testing.model.script import Match, Script, Step
from golden_path.testing.model.server import (
    ModelServer,
    anthropic_url,
    openai_url,
    worker_model_server,
)

StepLike = Step | dict[str, Any]


class ModelHandle:
    """What a test sees of the model: its scripts, its journal and its URLs."""

    def __init__(self, server: ModelServer, namespace: Namespace) -> None:
        self.server = server
        self.namespace = namespace

    @property
    def api_key(self) -> str:
        return self.server.api_key or ""

    @property
    def openai_base_url(self) -> str:
        """This test's own OpenAI ``base_url`` (``.../t/<namespace>/v1``)."""
        return openai_url(self.server.base_url, self.namespace.name)

    @property
    def anthropic_base_url(self) -> str:
        """This test's own Anthropic ``base_url`` (``.../t/<namespace>``)."""
        return anthropic_url(self.server.base_url, self.namespace.name)

    def script(
        self,
        steps: Sequence[StepLike],
        *,
        name: str | None = None,
        times: int | None = None,
        match: Match | dict[str, Any] | None = None,
        **conditions: Any,
    ) -> Script:
        """Answer the requests that match with ``steps``; conditions are :class:`Match` fields
        (``user=``, ``user_regex=``, ``system=``, ``tools=``, ``tool_result=``, ``turn=``,
        ``wire=``), given as keywords or as ``match``."""
        fields = match.model_dump(exclude_none=True) if isinstance(match, Match) else match
        script = Script(
            name=name,
            match=Match(**{**(fields or {}), **conditions}),
            steps=[s if isinstance(s, Step) else Step.model_validate(s) for s in steps],
            times=times,
        )
        self.namespace.add(script)
        return script

    def load(self, path: Path | str) -> list[Script]:
        """Add the scripts of a script file (docs/model.md)."""
        scripts = load_scripts(path)
        for script in scripts:
            self.namespace.add(script)
        return scripts

    @property
    def journal(self) -> list[JournalEntry]:
        with self.namespace.lock:
            return list(self.namespace.journal)

    @property
    def requests(self) -> list[Any]:
        """The bodies of the requests received, oldest first."""
        return [entry.body for entry in self.journal]

    @property
    def problems(self) -> list[str]:
        with self.namespace.lock:
            return list(self.namespace.problems)

    def format_journal(self) -> str:
        return self.namespace.format()


@pytest.fixture
def gp_model(request: pytest.FixtureRequest) -> Iterator[ModelHandle]:
    """The model at the wire for this test: ``gp_model.script(user="weather",
    steps=[tool_call("get_weather", city="Paris")])``, ``gp_model.journal``; the team's
    server reaches it through ``{openai_base_url}`` / ``{anthropic_base_url}``."""
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
