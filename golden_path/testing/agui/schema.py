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


def short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def got(value: object) -> str:
    return f"got {type(value).__name__} {short(value)}"


def _validation_problems(raw: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """``(type, problems)``: the event's type when it names one, and what its model rejects."""
    kind = raw.get("type")
    if not isinstance(kind, str):
        return None, [f"field 'type' must be a string naming an AG-UI event, {got(kind)}"]
    if kind in LEGACY_THINKING_TYPES:
        if kind == "THINKING_TEXT_MESSAGE_CONTENT" and not isinstance(raw.get("delta"), str):
            return kind, [f"field 'delta' must be a string, {got(raw.get('delta'))}"]
        return kind, []
    model = MODELS.get(kind)
    if model is None:
        return kind, []
    try:
        model.model_validate(dict(raw), by_alias=True, by_name=False)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "(event)"
            problems.append(f"field {where!r}: {error['msg']}")
        return kind, problems
    return kind, []


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
        kind, problems = _validation_problems(raw)
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
        if not problems:
            good.append((index, raw))
    return good
