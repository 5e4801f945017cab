"""What a test holds of the model at the wire: its scripts, its journal and its URLs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from golden_path.testing.model.files import load_scripts
from golden_path.testing.model.journal import JournalEntry, Namespace
from golden_path.testing.model.script import Match, Script, Step
from golden_path.testing.model.server import ModelServer, anthropic_url, openai_url

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
