"""Protocol v1's events one at a time: each field against its type, format and range.

The schema half of the v1 checker: which fields each event type carries
(:mod:`golden_path.protocol`) and what a valid value of each is. The sequence
rules across events live in :mod:`golden_path.testing.v1.rules`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from golden_path.ids import (
    EventID,
    MessageID,
    RequestID,
    RunID,
    ThreadID,
    ToolCallID,
    UserID,
)
from golden_path.protocol import (
    COMMON_EVENT_FIELDS,
    EVENT_FIELDS,
    AgentErrorCode,
    EventType,
)
from golden_path.testing.violation import Violation
from golden_path.tiers import Tier

# Fields that all events of one run must agree on (besides run_id itself).
RUN_SCOPED_FIELDS: tuple[str, ...] = ("user_id", "thread_id", "request_id", "agent_name")

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_OPTIONAL = "?"


# --- field validators: each returns None when the value is fine, else what was expected.

_Check = Callable[[object], str | None]


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def got(value: object) -> str:
    return f"got {type(value).__name__} {_short(value)}"


def _identifier(kind: Callable[[object], bool], name: str, describe: str) -> _Check:
    def check(value: object) -> str | None:
        if kind(value):
            return None
        return f"must be a valid {name} ({describe}), {got(value)}"

    return check


_IdType = type[UserID | ThreadID | RunID | MessageID | EventID | ToolCallID | RequestID]


def _id_check(cls: _IdType) -> _Check:
    return _identifier(cls.is_valid, cls.kind, cls.describe())


def _string(value: object) -> str | None:
    return None if isinstance(value, str) else f"must be a string, {got(value)}"


def _name(value: object) -> str | None:
    if isinstance(value, str) and value:
        return None
    return f"must be a non-empty string, {got(value)}"


def _boolean(value: object) -> str | None:
    return None if isinstance(value, bool) else f"must be a boolean, {got(value)}"


def _object(value: object) -> str | None:
    return None if isinstance(value, Mapping) else f"must be an object, {got(value)}"


def _positive_int(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return None
    return f"must be an integer ≥ 1, {got(value)}"


def _non_negative_int(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return f"must be an integer ≥ 0, {got(value)}"


def _non_negative_number(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a finite number ≥ 0, {got(value)}"
    if math.isfinite(value) and value >= 0:
        return None
    return f"must be a finite number ≥ 0, {got(value)}"


def _timestamp(value: object) -> str | None:
    expected = "must be an RFC 3339 UTC timestamp with milliseconds (2026-11-24T03:10:00.123Z)"
    if not isinstance(value, str) or _TIMESTAMP.fullmatch(value) is None:
        return f"{expected}, {got(value)}"
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return f"{expected}, got an impossible date {_short(value)}"
    return None


def _error_code(value: object) -> str | None:
    codes = [c.value for c in AgentErrorCode]
    if isinstance(value, str) and value in codes:
        return None
    return f"must be one of {', '.join(codes)}, {got(value)}"


def _usage(value: object) -> str | None:
    if not isinstance(value, Mapping):
        return _object(value)
    parts: dict[str, _Check] = {
        "input_tokens": _non_negative_int,
        "output_tokens": _non_negative_int,
        "cost_usd": _non_negative_number,
    }
    for key, check in parts.items():
        if key not in value:
            return f"is missing {key!r}"
        problem = check(value[key])
        if problem is not None:
            return f"{key!r} {problem}"
    return None


def _upgrade(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return f"must be an object or null, {got(value)}"
    tiers = [t.value for t in Tier]
    parts: dict[str, _Check] = {
        "required_tier": lambda v: (
            None
            if isinstance(v, str) and v in tiers
            else f"must be one of {', '.join(tiers)}, {got(v)}"
        ),
        "feature": _name,
        "message": _string,
    }
    for key, check in parts.items():
        if key not in value:
            return f"is missing {key!r}"
        problem = check(value[key])
        if problem is not None:
            return f"{key!r} {problem}"
    return None


_FIELD_CHECKS: dict[str, _Check] = {
    # common
    "type": _string,
    "seq": _positive_int,
    "event_id": _id_check(EventID),
    "user_id": _id_check(UserID),
    "thread_id": _id_check(ThreadID),
    "run_id": _id_check(RunID),
    "request_id": _id_check(RequestID),
    "agent_name": _name,
    "timestamp": _timestamp,
    # per type
    "message_id": _id_check(MessageID),
    "reasoning": _string,
    "step": _positive_int,
    "tool_call_id": _id_check(ToolCallID),
    "tool_name": _name,
    "parameters": _object,
    "results": _object,
    "success": _boolean,
    "duration_ms": _non_negative_number,
    "final_response": _string,
    "result": _object,
    "usage": _usage,
    "upgrade": _upgrade,
    "code": _error_code,
    "message": _string,
    "retryable": _boolean,
}


def _field_name(spec: str) -> tuple[str, bool]:
    """``("upgrade", False)`` for ``"upgrade?"``: the name and whether it is required."""
    if spec.endswith(_OPTIONAL):
        return spec[: -len(_OPTIONAL)], False
    return spec, True


_unchecked = {_field_name(spec)[0] for specs in EVENT_FIELDS.values() for spec in specs} | set(
    COMMON_EVENT_FIELDS
)
_unchecked -= set(_FIELD_CHECKS)
if _unchecked or not set(RUN_SCOPED_FIELDS) <= set(COMMON_EVENT_FIELDS):  # pragma: no cover
    raise RuntimeError(f"contract checker has no check for protocol fields {sorted(_unchecked)}")
del _unchecked

_TYPES: dict[str, EventType] = {t.value: t for t in EventType}


# --- the checker


@dataclass
class Event:
    """What the run checks need from one well-formed-enough event."""

    index: int
    raw: Mapping[str, Any]
    type: EventType | None
    run_id: str | None  # valid RunID or None


def valid(raw: Mapping[str, Any], field: str) -> bool:
    return field in raw and _FIELD_CHECKS[field](raw[field]) is None


def located(raw: Mapping[str, Any]) -> str:
    """`` (agent_started of run run_…)`` or less, for field messages."""
    kind = raw.get("type")
    run = raw.get("run_id")
    kind_s = kind if isinstance(kind, str) and kind in _TYPES else None
    run_s = run if isinstance(run, str) else None
    if kind_s and run_s:
        return f" ({kind_s} of run {run_s})"
    if run_s:
        return f" (run {run_s})"
    if kind_s:
        return f" ({kind_s})"
    return ""


def run_of(raw: Mapping[str, Any]) -> str | None:
    run = raw.get("run_id")
    return run if isinstance(run, str) else None


def check_fields(index: int, raw: Mapping[str, Any], out: list[Violation]) -> EventType | None:
    place = located(raw)
    run = run_of(raw)
    kind: EventType | None = None
    specs: list[str] = list(COMMON_EVENT_FIELDS)
    raw_type = raw.get("type")
    if isinstance(raw_type, str):
        kind = _TYPES.get(raw_type)
        if kind is None:
            out.append(
                Violation(
                    "unknown_type",
                    f"event #{index}: unknown type {raw_type!r}{place}",
                    index,
                    run,
                )
            )
        else:
            specs += EVENT_FIELDS[kind]
    for spec in specs:
        field, required = _field_name(spec)
        if field not in raw:
            if required:
                out.append(
                    Violation(
                        "missing_field",
                        f"event #{index}: missing field {field!r}{place}",
                        index,
                        run,
                    )
                )
            continue
        problem = _FIELD_CHECKS[field](raw[field])
        if problem is not None:
            out.append(
                Violation(
                    "bad_field",
                    f"event #{index}: field {field!r} {problem}{place}",
                    index,
                    run,
                )
            )
    return kind
