"""A :class:`Reply`: what the model answers (outputs) and how it is delivered (faults).

Built from a script's steps or by the autopilot; the wire modules render its
outputs in their provider's shapes, ``faults`` delivers them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from golden_path.testing.model.script import ErrorStep, PaceStep, Step


@dataclass(frozen=True)
class Output:
    kind: str  # thinking, text or tool_call
    text: str = ""  # the text, or the tool call's JSON arguments
    name: str = ""  # the tool's name
    call_id: str = ""


@dataclass
class Reply:
    outputs: list[Output] = field(default_factory=list)
    error: ErrorStep | None = None
    hang: float = 0.0
    cut_after: int | None = None
    malformed_at: int | None = None
    pace: PaceStep | None = None

    @property
    def tool_calls(self) -> list[Output]:
        return [o for o in self.outputs if o.kind == "tool_call"]

    @property
    def text(self) -> str:
        return "".join(o.text for o in self.outputs if o.kind == "text")

    @property
    def thinking(self) -> str:
        return "".join(o.text for o in self.outputs if o.kind == "thinking")


def call_id(seed: str, index: int) -> str:
    """The ``index``-th tool call's id in the response ``seed`` names."""
    return "call_" + hashlib.sha256(f"{seed}/{index}".encode()).hexdigest()[:24]


def reply_from_steps(steps: Sequence[Step], seed: str) -> Reply:
    reply = Reply()
    for step in steps:
        if step.thinking is not None:
            reply.outputs.append(Output("thinking", step.thinking))
        elif step.text is not None:
            reply.outputs.append(Output("text", step.text))
        elif step.tool_call is not None:
            index = len(reply.tool_calls)
            reply.outputs.append(
                Output(
                    "tool_call",
                    json.dumps(step.tool_call.arguments, separators=(",", ":")),
                    step.tool_call.name,
                    step.tool_call.id or call_id(seed, index),
                )
            )
        elif step.error is not None:
            reply.error = step.error
        elif step.hang is not None:
            reply.hang += step.hang
        elif step.cut_after is not None:
            reply.cut_after = step.cut_after
        elif step.malformed_at is not None:
            reply.malformed_at = step.malformed_at
        elif step.pace is not None:
            reply.pace = step.pace
    return reply


_TOKEN = re.compile(r"\s*\S+|\s+")


def pieces(text: str) -> list[str]:
    """A text cut into the pieces a stream sends it in (a word with its leading space)."""
    found = _TOKEN.findall(text)
    return found or [""]


def json_pieces(arguments: str, size: int = 8) -> list[str]:
    """A tool call's JSON arguments cut into pieces of ``size`` characters."""
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]


def usage_numbers(prompt_words: int, reply: Reply) -> tuple[int, int]:
    """(input, output) token counts: words, a stable stand-in for a tokenizer."""
    out = sum(len(pieces(o.text)) for o in reply.outputs)
    return max(prompt_words, 1), max(out, 1)


def stable_id(prefix: str, payload: Any) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return f"{prefix}{digest[:24]}"
