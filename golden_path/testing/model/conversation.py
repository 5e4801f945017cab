"""What the model at the wire knows of a request, whatever the wire: the :class:`Conversation`.

Each wire module (``wire_openai_chat``, ``wire_openai_responses``, ``wire_anthropic``)
reads its provider's request body into one of these; scripts match on it and the
autopilot answers from it, so one script drives all three wire formats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

WIRES = ("openai_chat", "openai_responses", "anthropic")


class BadRequest(ValueError):
    """The request body is not what the provider accepts: answered with its 400 shape."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolResult:
    name: str
    call_id: str
    content: str


@dataclass
class Conversation:
    wire: str
    model: str
    stream: bool = False
    include_usage: bool = False
    system: str = ""
    last_user: str = ""
    turn: int = 1
    tools: list[Tool] = field(default_factory=list)
    # The tool results sent back since the last user message, oldest first.
    tool_results: list[ToolResult] = field(default_factory=list)
    words: int = 0

    @property
    def tool_names(self) -> list[str]:
        return [tool.name for tool in self.tools]


class ConversationBuilder:
    """Collects messages in order (the wire modules call it) into a :class:`Conversation`."""

    def __init__(self, wire: str, model: str, stream: bool) -> None:
        self.conversation = Conversation(wire=wire, model=model, stream=stream)
        self._call_names: dict[str, str] = {}
        self._assistant_turns = 0
        self._last_was_assistant = False

    def system(self, text: str) -> None:
        conv = self.conversation
        conv.system = f"{conv.system}\n{text}" if conv.system else text
        self._count(text)

    def user(self, text: str) -> None:
        self.conversation.last_user = text
        self.conversation.tool_results = []
        self._last_was_assistant = False
        self._count(text)

    def assistant(self, text: str = "") -> None:
        if not self._last_was_assistant:
            self._assistant_turns += 1
        self._last_was_assistant = True
        self._count(text)

    def tool_call(self, call_id: str, name: str, arguments: str = "") -> None:
        self.assistant(arguments)
        self._call_names[call_id] = name

    def tool_result(self, call_id: str, content: Any) -> None:
        text = content if isinstance(content, str) else json.dumps(content)
        name = self._call_names.get(call_id, call_id)
        self.conversation.tool_results.append(ToolResult(name, call_id, text))
        self._last_was_assistant = False
        self._count(text)

    def tool(self, name: Any, description: Any, parameters: Any) -> None:
        if not isinstance(name, str) or not name:
            raise BadRequest("every tool needs a name")
        params = parameters if isinstance(parameters, dict) else {}
        desc = description if isinstance(description, str) else ""
        self.conversation.tools.append(Tool(name, desc, params))

    def _count(self, text: str) -> None:
        self.conversation.words += len(text.split())

    def build(self) -> Conversation:
        self.conversation.turn = self._assistant_turns + 1
        return self.conversation


def text_of(content: Any, kinds: tuple[str, ...] = ("text", "input_text", "output_text")) -> str:
    """The text of a message's content: a string, or a list of typed parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") in kinds
        ]
        return "".join(parts)
    raise BadRequest(f"content must be a string or a list of parts, not {type(content).__name__}")


def require(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """``body[name]``, which must be there and of ``kind``; else a :class:`BadRequest`."""
    if name not in body:
        raise BadRequest(f"missing required field {name!r}")
    value = body[name]
    if not isinstance(value, kind):
        raise BadRequest(f"field {name!r} has the wrong type ({type(value).__name__})")
    return value
