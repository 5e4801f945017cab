"""The model at the wire: a scripted LLM server a team's real server calls over HTTP.

It speaks OpenAI Chat Completions, OpenAI Responses and Anthropic Messages (plain and
streamed), answers from per-test scripts (or the deterministic autopilot), delivers
faults on cue and keeps a journal of every request. ``gp_model`` is its fixture;
``golden-path model serve`` runs it standalone. docs/model.md describes it all.

May import: the process runner of ``golden_path.server`` (to serve on a port). Never the
services, a protocol's contract or the report: any team's server calls it alike.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Match",
    "Script",
    "Step",
    "cut_after",
    "error",
    "hang",
    "malformed_at",
    "pace",
    "text",
    "thinking",
    "tool_call",
]


def __getattr__(name: str) -> Any:
    """The step builders, loaded on first use: the plugin imports this package at start."""
    if name not in __all__:
        raise AttributeError(f"module 'golden_path.testing.model' has no attribute {name!r}")
    value = getattr(importlib.import_module("golden_path.testing.model.script"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from golden_path.testing.model.script import (
        Match,
        Script,
        Step,
        cut_after,
        error,
        hang,
        malformed_at,
        pace,
        text,
        thinking,
        tool_call,
    )
