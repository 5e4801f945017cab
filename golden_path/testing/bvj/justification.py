"""Business Value Justification: why a test exists, in the terms the business uses.

A test declares it with a marker::

    @pytest.mark.bvj(segment="enterprise", goal="retention",
                     value_impact="...", revenue_impact="...")

or with a block in its docstring (or its module's docstring)::

    Business Value Justification (BVJ):
    - Segment: Enterprise
    - Business Goal: Retention
    - Value Impact: ...
    - Revenue Impact: ...

Both parse to the same :class:`BVJ`. A marker on the test, its class or its
module (``pytestmark``) counts; the closest one wins.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from golden_path.errors import GoldenPathError

# A segment is one of the project's (gp_segments) or "all"; without gp_segments, any name.
ALL = "all"
GOALS: tuple[str, ...] = ("conversion", "expansion", "retention", "stability")
FIELDS: tuple[str, ...] = ("segment", "goal", "value_impact", "revenue_impact")
_DOC_LABELS: dict[str, str] = {
    "segment": "segment",
    "business goal": "goal",
    "goal": "goal",
    "value impact": "value_impact",
    "revenue impact": "revenue_impact",
}
_DOC_HEADER = re.compile(r"business\s+value\s+justification(\s*\(bvj\))?\s*:?", re.IGNORECASE)
_DOC_LINE = re.compile(r"^\s*[-*]\s*([A-Za-z][A-Za-z -]*?)\s*:\s*(.*?)\s*$")


class BVJError(GoldenPathError, ValueError):
    """The BVJ is missing something or names an unknown segment or goal."""


@dataclass(frozen=True, slots=True)
class BVJ:
    segment: str
    goal: str
    value_impact: str
    revenue_impact: str

    def to_dict(self) -> dict[str, str]:
        return {
            "segment": self.segment,
            "goal": self.goal,
            "value_impact": self.value_impact,
            "revenue_impact": self.revenue_impact,
        }


def _choice(field: str, value: object, choices: tuple[str, ...]) -> str:
    """``value`` when it is one of ``choices``; with none (an open vocabulary), any name."""
    text = str(value).strip().lower() if value is not None else ""
    if text in choices or (field == "segment" and len(choices) == 1 and text):
        return text
    close = difflib.get_close_matches(text, choices, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise BVJError(f"{field} {value!r} is not one of {', '.join(choices)}{hint}")


def from_fields(fields: Mapping[str, Any], segments: tuple[str, ...] = ()) -> BVJ:
    """A BVJ from its four fields; :class:`BVJError` says what is missing or misspelt.

    ``segments``: the project's (``gp_segments``); the segment must be one of them or
    ``all``. Empty: any name.
    """
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise BVJError(
            f"unknown BVJ field(s) {', '.join(unknown)}; the fields are {', '.join(FIELDS)}"
        )
    missing = [f for f in FIELDS if not str(fields.get(f) or "").strip()]
    if missing:
        raise BVJError(f"BVJ is missing {', '.join(missing)}")
    return BVJ(
        segment=_choice("segment", fields["segment"], (*segments, ALL)),
        goal=_choice("goal", fields["goal"], GOALS),
        value_impact=str(fields["value_impact"]).strip(),
        revenue_impact=str(fields["revenue_impact"]).strip(),
    )


def from_docstring(doc: str | None, segments: tuple[str, ...] = ()) -> BVJ | None:
    """The BVJ block of a docstring, or ``None`` when it has none (errors if it is malformed).

    The block is the header line and the bullet lines under it, up to the first blank
    line; an indented line that is not a bullet continues the bullet above it.
    """
    if not doc:
        return None
    lines = doc.splitlines()
    for index, line in enumerate(lines):
        if _DOC_HEADER.fullmatch(line.strip()):
            return from_fields(_block_fields(lines[index + 1 :]), segments)
    return None


def _block_fields(lines: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    current: str | None = None
    for item in lines:
        if not item.strip():
            if fields:
                break  # a blank line ends the block (a blank right after the header does not)
            continue
        match = _DOC_LINE.match(item)
        if match is None:
            if current is None:
                break
            fields[current] = f"{fields[current]} {item.strip()}".strip()
            continue
        label = match[1].strip().lower()
        if label not in _DOC_LABELS:
            raise BVJError(
                f"unknown BVJ line {match[1].strip()!r}; expected "
                "Segment, Business Goal, Value Impact, Revenue Impact"
            )
        current = _DOC_LABELS[label]
        if current in fields:
            raise BVJError(f"the BVJ block names {match[1].strip()!r} twice")
        fields[current] = match[2]
    return fields


def from_marker(
    args: tuple[Any, ...], kwargs: Mapping[str, Any], segments: tuple[str, ...] = ()
) -> BVJ:
    if args:
        raise BVJError("@pytest.mark.bvj takes keyword arguments only")
    return from_fields(kwargs, segments)
