"""The autopilot: a deterministic answer when no script is loaded.

Tools offered and no tool result yet (since the last user message): call the first
offered tool with arguments that satisfy its JSON schema (:func:`example_value`).
Tool results present: answer in text quoting each. No tools: a fixed text quoting
the last user message. The same request always gets the same answer (only its ids,
unique per response as a provider's are, differ).
"""

from __future__ import annotations

import json
from typing import Any

from golden_path.testing.model.conversation import Conversation
from golden_path.testing.model.reply import Output, Reply, call_id

MAX_DEPTH = 8


def autopilot(conv: Conversation, seed: str = "") -> Reply:
    """The answer; ``seed`` makes its tool call ids (unique per response, as a provider's)."""
    if conv.tools and not conv.tool_results:
        tool = conv.tools[0]
        arguments = example_value(tool.parameters or {"type": "object"}, tool.parameters)
        if not isinstance(arguments, dict):
            arguments = {}
        return Reply(
            [
                Output(
                    "tool_call",
                    json.dumps(arguments, separators=(",", ":")),
                    tool.name,
                    call_id(seed, 0),
                )
            ]
        )
    if conv.tool_results:
        quoted = "; ".join(f"{r.name} returned {r.content}" for r in conv.tool_results)
        return Reply([Output("text", f"The tools answered: {quoted}")])
    return Reply([Output("text", f'golden-path model (autopilot) heard: "{conv.last_user}"')])


def example_value(schema: Any, root: Any, depth: int = 0) -> Any:
    """A minimal value satisfying the JSON schema ``schema`` (``$ref`` s resolve in ``root``)."""
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    if "$ref" in schema:
        return example_value(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for combinator in ("anyOf", "oneOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            usable = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return example_value((usable or options)[0], root, depth + 1)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                merged.update(_resolve(part["$ref"], root) if "$ref" in part else part)
        return example_value(merged, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    return _by_type(kind, schema, root, depth)


def _by_type(kind: Any, schema: dict[str, Any], root: Any, depth: int) -> Any:
    if kind == "object":
        props = schema.get("properties") or {}
        return {
            name: example_value(props.get(name, {}), root, depth + 1)
            for name in schema.get("required", [])
        }
    if kind == "array":
        count = int(schema.get("minItems", 0))
        return [example_value(schema.get("items", {}), root, depth + 1) for _ in range(count)]
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return "example"


def _string(schema: dict[str, Any]) -> str:
    formats = {"date": "2026-01-01", "date-time": "2026-01-01T00:00:00Z", "email": "a@example.com"}
    value = formats.get(str(schema.get("format")), "example")
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if len(value) < low:
        value = value + "x" * (low - len(value))
    if isinstance(high, int):
        value = value[:high]
    return value


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    value: float = 0
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "exclusiveMinimum" in schema and isinstance(schema["exclusiveMinimum"], int | float):
        value = max(value, schema["exclusiveMinimum"] + 1)
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    return int(value) if integer else value


def _resolve(ref: Any, root: Any) -> Any:
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return {}
    node = root
    for part in ref[2:].split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node
