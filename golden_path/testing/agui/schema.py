"""AG-UI's events one at a time: each against the official ``ag-ui-protocol`` model.

The schema layer of the AG-UI checker (:mod:`golden_path.testing.agui.contract`):
nothing of the schema is copied here; the package's own pydantic model for
each event type decides, by wire names (``messageId``, not ``message_id``).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from typing import Any

from ag_ui.core import Event as _AGUIEvent
from ag_ui.core import EventType
from pydantic import BaseModel, ValidationError

from golden_path.testing.violation import Violation

# The deprecated 0.x thinking events: gone from ag-ui-protocol 1.0 (no model), still sent
# by older producers and translated by the TypeScript client's compatibility layer.
LEGACY_THINKING_TYPES: frozenset[str] = frozenset(
    {
        "THINKING_START",
        "THINKING_END",
        "THINKING_TEXT_MESSAGE_START",
        "THINKING_TEXT_MESSAGE_CONTENT",
        "THINKING_TEXT_MESSAGE_END",
    }
)

MODELS: dict[str, type[BaseModel]] = {
    cls.model_fields["type"].default.value: cls
    for cls in typing.get_args(typing.get_args(_AGUIEvent)[0])
}
if set(MODELS) != {t.value for t in EventType}:  # pragma: no cover - a new package version
    raise RuntimeError("ag-ui-protocol's Event union and EventType disagree")


# Objects the protocol leaves open: RFC 6902 says an operation's members it does not
# define are ignored, so a remove carrying a leftover "value" is not undeclared material.
OPEN_MODELS: frozenset[type] = frozenset(
    typing.get_args(
        typing.get_args(typing.get_args(MODELS["STATE_DELTA"].model_fields["delta"].annotation)[0])[
            0
        ]
    )
)


def short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def got(value: object) -> str:
    return f"got {type(value).__name__} {short(value)}"


# Fields AG-UI 1.1 adds that ag-ui-protocol 1.0's models do not declare yet: (event
# type, wire name) -> what the value must be. Declared, so not "undeclared_property".
SPEC_1_1_FIELDS: Mapping[tuple[str, str], str] = {
    ("REASONING_ENCRYPTED_VALUE", "encryptedValueType"): "a non-empty string",
}


def _raw_path(raw: object, loc: Sequence[object]) -> list[str | int]:
    """The wire path of a pydantic error location (the union branch labels left out)."""
    path: list[str | int] = []
    node: Any = raw
    for part in loc:
        in_object = isinstance(node, Mapping) and isinstance(part, str) and part in node
        in_array = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        key = part if (in_object or in_array) and isinstance(part, (str, int)) else None
        if key is not None:
            node = node[key]
            path.append(key)
    return path


def pointer(path: Sequence[str | int]) -> str:
    """A JSON Pointer (``/messages/0/content/1``) for a wire path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _without(raw: Any, path: Sequence[str | int]) -> Any:
    """A copy of ``raw`` with the member at ``path`` left out."""
    if not path:
        return raw
    head, rest = path[0], path[1:]
    if isinstance(raw, Mapping):
        if not rest:
            return {k: v for k, v in raw.items() if k != head}
        return {k: (_without(v, rest) if k == head else v) for k, v in raw.items()}
    assert isinstance(raw, list)
    assert isinstance(head, int)
    if not rest:
        return raw[:head] + raw[head + 1 :]
    return [(_without(v, rest) if i == head else v) for i, v in enumerate(raw)]


def _walk(node: object, path: list[str | int], found: list[tuple[str, str]]) -> None:
    """Undeclared members and nulls-for-absent in a validated model tree, by wire path."""
    if isinstance(node, BaseModel):
        for name, info in type(node).model_fields.items():
            wire = info.alias or name
            value = getattr(node, name)
            if value is None:
                if name in node.model_fields_set and not info.is_required():
                    found.append(("null_for_absent", pointer([*path, wire])))
                continue
            _walk(value, [*path, wire], found)
        for key in {} if type(node) in OPEN_MODELS else node.model_extra or {}:
            found.append(("undeclared_property", pointer([*path, key])))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, [*path, i], found)
    elif isinstance(node, dict):
        for key, item in node.items():
            if isinstance(item, (BaseModel, list, dict)):
                _walk(item, [*path, key], found)


def _validation_problems(
    raw: Mapping[str, Any],
) -> tuple[str | None, list[str], list[tuple[str, str]]]:
    """``(type, problems, findings)``: the event's type when it names one, what its model
    rejects (errors), and ``(rule, detail)`` findings of the rules clients tolerate or
    1.1 adds (unrecognised union members, undeclared properties, nulls for absent)."""
    kind = raw.get("type")
    if not isinstance(kind, str):
        return None, [f"field 'type' must be a string naming an AG-UI event, {got(kind)}"], []
    if kind in LEGACY_THINKING_TYPES:
        if kind == "THINKING_TEXT_MESSAGE_CONTENT" and not isinstance(raw.get("delta"), str):
            return kind, [f"field 'delta' must be a string, {got(raw.get('delta'))}"], []
        return kind, [], []
    model = MODELS.get(kind)
    if model is None:
        return kind, [], []
    findings: list[tuple[str, str]] = []
    problems: list[str] = []
    body: Any = dict(raw)
    for (event_type, wire), what in SPEC_1_1_FIELDS.items():
        if event_type == kind and wire in body:
            value = body.pop(wire)
            if not (isinstance(value, str) and value):
                problems.append(f"field {wire!r} (AG-UI 1.1) must be {what}, {got(value)}")
    for _ in range(8):  # each round strips the unrecognised union members pydantic names
        try:
            validated_model = model.model_validate(body, by_alias=True, by_name=False)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            tags = [_raw_path(body, e["loc"]) for e in errors if e["type"] == "union_tag_invalid"]
            if tags:
                for path in sorted(tags, key=len, reverse=True)[:1]:
                    findings.append(("unknown_member", pointer(path)))
                    body = _without(body, path)
                continue
            for error in errors:
                where = ".".join(str(part) for part in error["loc"]) or "(event)"
                problems.append(f"field {where!r}: {error['msg']}")
            return kind, problems, findings
        else:
            _walk(validated_model, [], findings)
            return kind, problems, findings
    return kind, [*problems, "too many unrecognised members to strip"], findings


_FINDING_TEXT = {
    "unknown_member": "an unrecognised union member (a client strips it) at",
    "undeclared_property": "a property AG-UI does not declare (a client strips it) at",
    "null_for_absent": "null for an optional field (absent means absent: omit it) at",
}


def validated(
    events: Sequence[object], out: list[Violation]
) -> list[tuple[int, Mapping[str, Any]]]:
    good: list[tuple[int, Mapping[str, Any]]] = []
    for index, raw in enumerate(events):
        if not isinstance(raw, Mapping):
            out.append(
                Violation(
                    "not_an_object", f"event #{index}: not a JSON object, {got(raw)}", index, None
                )
            )
            continue
        kind, problems, findings = _validation_problems(raw)
        run = raw.get("runId") if isinstance(raw.get("runId"), str) else None
        if kind is not None and kind not in MODELS and kind not in LEGACY_THINKING_TYPES:
            out.append(
                Violation("unknown_type", f"event #{index}: unknown type {kind!r}", index, run)
            )
            continue
        for problem in problems:
            out.append(
                Violation(
                    "invalid_event",
                    f"event #{index}: {kind or 'event'} {problem}",
                    index,
                    run,
                )
            )
        for rule, where in findings:
            out.append(
                Violation(
                    rule, f"event #{index}: {kind} has {_FINDING_TEXT[rule]} {where}", index, run
                )
            )
        if not problems:
            good.append((index, raw))
    return good
