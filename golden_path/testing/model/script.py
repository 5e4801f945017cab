"""Scripts: what the model does for the requests that match (the Python API and the file's).

A :class:`Script` has a :class:`Match` (every condition given must hold) and an
ordered list of :class:`Step` s. Output steps (``thinking``, ``text``,
``tool_call``) become the answer, in any wire format; fault steps (``error``,
``hang``, ``cut_after``, ``malformed_at``, ``pace``) change how it is delivered.
``times`` bounds how many requests a script answers; the first script (in the order
they were added) that matches and is not used up answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from golden_path.testing.model.conversation import WIRES, Conversation


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolCallStep(_Strict):
    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ErrorStep(_Strict):
    status: int = Field(ge=400, le=599)
    message: str = "scripted error"
    retry_after: float | None = Field(default=None, ge=0)
    type: str | None = None  # the provider's error type; derived from the status when absent


class PaceStep(_Strict):
    ttft: float = Field(default=0.0, ge=0, le=600)  # seconds before the first event
    tps: float | None = Field(default=None, gt=0)  # events per second after it


OUTPUT_KINDS = ("thinking", "text", "tool_call")
FAULT_KINDS = ("error", "hang", "cut_after", "malformed_at", "pace")


class Step(_Strict):
    """Exactly one of the fields."""

    thinking: str | None = None
    text: str | None = None
    tool_call: ToolCallStep | None = None
    error: ErrorStep | None = None
    hang: float | None = Field(default=None, ge=0, le=600)  # seconds before the first byte
    cut_after: int | None = Field(default=None, ge=0)  # close the connection after N events
    malformed_at: int | None = Field(default=None, ge=0)  # a broken event after N events
    pace: PaceStep | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Step:
        given = [name for name in (*OUTPUT_KINDS, *FAULT_KINDS) if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "a step is exactly one of thinking, text, tool_call, error, hang, cut_after, "
                f"malformed_at, pace (got {', '.join(given) or 'none'})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(n for n in (*OUTPUT_KINDS, *FAULT_KINDS) if getattr(self, n) is not None)


class Match(_Strict):
    """Which requests a script answers: every condition given must hold."""

    user: str | None = None  # a substring of the last user message
    user_regex: str | None = None  # a regular expression searched in it
    system: str | None = None  # a substring of the system prompt
    tools: list[str] | None = None  # each of these tools is offered
    tool_result: str | None = None  # a result of this tool came back (since the last user turn)
    turn: int | None = Field(default=None, ge=1)  # the model's turn: 1 + earlier assistant turns
    wire: str | None = None  # openai_chat, openai_responses or anthropic

    @model_validator(mode="after")
    def _valid(self) -> Match:
        if self.user_regex is not None:
            try:
                re.compile(self.user_regex)
            except re.error as exc:
                raise ValueError(f"user_regex is not a regular expression: {exc}") from None
        if self.wire is not None and self.wire not in WIRES:
            raise ValueError(f"wire must be one of {', '.join(WIRES)}")
        return self

    def failures(self, conv: Conversation) -> list[str]:
        """The conditions ``conv`` does not meet (empty: it matches)."""
        failed: list[str] = []
        if self.user is not None and self.user not in conv.last_user:
            failed.append(f"user {self.user!r} not in {conv.last_user[:80]!r}")
        if self.user_regex is not None and not re.search(self.user_regex, conv.last_user):
            failed.append(f"user_regex {self.user_regex!r} finds nothing")
        if self.system is not None and self.system not in conv.system:
            failed.append(f"system {self.system!r} not in the system prompt")
        if self.tools is not None:
            missing = [name for name in self.tools if name not in conv.tool_names]
            if missing:
                failed.append(f"tools {missing} not offered (offered: {conv.tool_names})")
        if self.tool_result is not None and not any(
            r.name == self.tool_result for r in conv.tool_results
        ):
            failed.append(f"no result of tool {self.tool_result!r}")
        if self.turn is not None and self.turn != conv.turn:
            failed.append(f"turn {self.turn} (this is turn {conv.turn})")
        if self.wire is not None and self.wire != conv.wire:
            failed.append(f"wire {self.wire} (this is {conv.wire})")
        return failed

    def conditions(self) -> int:
        return sum(
            getattr(self, name) is not None
            for name in ("user", "user_regex", "system", "tools", "tool_result", "turn", "wire")
        )


class Script(_Strict):
    name: str | None = None
    match: Match = Field(default_factory=Match)
    steps: list[Step] = Field(min_length=1)
    times: int | None = Field(default=None, ge=1)


class ScriptFile(_Strict):
    """The script file's top level (docs/model.md)."""

    scripts: list[Script] = Field(default_factory=list)


@dataclass
class Entry:
    """A script in a namespace, with how often it answered."""

    script: Script
    label: str
    used: int = 0

    @property
    def exhausted(self) -> bool:
        return self.script.times is not None and self.used >= self.script.times


def choose(entries: Sequence[Entry], conv: Conversation) -> Entry | None:
    """The first script that matches ``conv`` and is not used up."""
    for entry in entries:
        if not entry.exhausted and not entry.script.match.failures(conv):
            return entry
    return None


def closest(entries: Sequence[Entry], conv: Conversation) -> str:
    """Names the script nearest to matching ``conv`` and what it missed."""
    if not entries:
        return "no script is loaded"
    best: tuple[float, int] | None = None
    best_text = ""
    for index, entry in enumerate(entries):
        failures = entry.script.match.failures(conv)
        if entry.exhausted:
            failures = [*failures, f"used up (times={entry.script.times})"]
        total = max(entry.script.match.conditions(), 1)
        score = (len(failures) / total, index)
        if best is None or score < best:
            best = score
            best_text = f"closest script {entry.label}: " + "; ".join(failures)
    return best_text


# -- the Python API's step builders --------------------------------------------------------


def text(value: str) -> Step:
    return Step(text=value)


def thinking(value: str) -> Step:
    return Step(thinking=value)


def tool_call(name: str, arguments: dict[str, Any] | None = None, **kwargs: Any) -> Step:
    return Step(tool_call=ToolCallStep(name=name, arguments={**(arguments or {}), **kwargs}))


def error(
    status: int, message: str = "scripted error", *, retry_after: float | None = None
) -> Step:
    return Step(error=ErrorStep(status=status, message=message, retry_after=retry_after))


def hang(seconds: float) -> Step:
    return Step(hang=seconds)


def cut_after(events: int) -> Step:
    return Step(cut_after=events)


def malformed_at(events: int) -> Step:
    return Step(malformed_at=events)


def pace(ttft: float = 0.0, tps: float | None = None) -> Step:
    return Step(pace=PaceStep(ttft=ttft, tps=tps))
