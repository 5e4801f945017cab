"""The model at the wire: a scripted LLM server a team's real server calls over HTTP.

It speaks OpenAI Chat Completions, OpenAI Responses and Anthropic Messages (plain and
streamed), answers from per-test scripts (or the deterministic autopilot), delivers
faults on cue and keeps a journal of every request. ``gp_model`` is its fixture;
``golden-path model serve`` runs it standalone. docs/model.md describes it all.
"""

from __future__ import annotations

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
