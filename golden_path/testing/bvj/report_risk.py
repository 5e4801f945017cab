"""Revenue at risk: the value of each segment whose golden path has a failing cell.

``gp_segment_value`` gives each of the project's segments its value (its ARR, say)::

    gp_segment_value = free=0 early=120000 mid=180000 enterprise=200000

A segment × stage cell fails when one of its tests failed (a quarantined failure does not
count: it is reported, not gated). A segment counts once however many of its stages fail:
one broken stage breaks its path. Without the setting nothing of this is computed or shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from golden_path.testing.markers import vocabulary

if TYPE_CHECKING:
    import pytest

    from golden_path.testing.bvj.report_records import ReportView as Report

INI_NAME = "gp_segment_value"
_ITEM = re.compile(r"^([A-Za-z0-9_-]+)=(.*)$")


class SegmentValueError(ValueError):
    """``gp_segment_value`` names an unknown segment, lacks one, or gives no number."""


def project_segments(config: pytest.Config) -> tuple[str, ...]:
    """The project's customer segments (``gp_segments``), in order."""
    return vocabulary(config).segments


def parse_segment_value(
    lines: Iterable[str], segments: tuple[str, ...], where: Any = None
) -> dict[str, float]:
    """``{segment: value}`` from ``name=value`` fields (any number per line).

    ``where(field)`` says where a field is written (``file:line``), for the error message.
    """

    def fail(field: str, problem: str) -> SegmentValueError:
        place = where(field) if where is not None else INI_NAME
        return SegmentValueError(f"{place}: {INI_NAME}, field {field!r}: {problem}")

    values: dict[str, float] = {}
    for line in lines:
        for field in line.split():
            if not segments:
                raise fail(field, "set gp_segments first: the segments these values are for")
            match = _ITEM.match(field)
            if match is None:
                raise fail(field, "expected segment=value, such as enterprise=200000")
            name, text = match[1], match[2]
            if name not in segments:
                raise fail(field, f"no segment {name!r}; the segments are {', '.join(segments)}")
            if name in values:
                raise fail(field, f"{name} is given a value twice")
            try:
                value = float(text.replace("_", ""))
            except ValueError:
                raise fail(field, f"{text!r} is not a number") from None
            if value < 0 or value != value or value == float("inf"):
                raise fail(field, f"{text!r}: a value is a finite number >= 0")
            values[name] = value
    missing = [s for s in segments if s not in values]
    if values and missing:
        raise fail(", ".join(missing), "no value given (write 0 for a segment worth nothing)")
    return values


def _ini_place(config: pytest.Config) -> Any:
    """``where`` for :func:`parse_segment_value`: the ini file's line holding a field."""
    path = Path(config.inipath) if config.inipath else None
    lines: list[str] = []
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
    start = next((i for i, line in enumerate(lines) if INI_NAME in line), None)

    def where(field: str) -> str:
        if path is None or start is None:
            return f"-o {INI_NAME}"
        first = field.split(", ")[0]
        for index in range(start, len(lines)):
            if first in lines[index] and (index == start or not lines[index][:1].isalpha()):
                return f"{path}:{index + 1}"
        return f"{path}:{start + 1}"

    return where


def read_segment_value(config: pytest.Config) -> dict[str, float]:
    """The run's ``gp_segment_value`` (empty when unset); :class:`SegmentValueError` if bad."""
    raw = config.getini(INI_NAME) or []
    lines = [raw] if isinstance(raw, str) else [str(line) for line in raw]
    return parse_segment_value(lines, project_segments(config), _ini_place(config))


# -- the report's figures -------------------------------------------------------------------------


def failing_cells(report: Report) -> dict[tuple[str, str], list[str]]:
    """The segment × stage cells with a failed (not quarantined) test: cell → its node ids."""
    cells: dict[tuple[str, str], list[str]] = {}
    for (segment, stage), members in report.cells().items():
        failed = [t.nodeid for t in members if t.outcome == "failed" and not t.quarantine]
        if failed:
            cells[(segment, stage)] = failed
    return cells


def risk_json(report: Report) -> dict[str, Any] | None:
    """The value behind each failing cell and the total at risk; ``None`` without values."""
    values: Mapping[str, float] = report.settings.segment_value
    if not values:
        return None
    cells = failing_cells(report)
    at_risk = [s for s in values if any(segment == s for segment, _ in cells)]
    return {
        "segment_value": dict(values),
        "cells": [
            {"segment": segment, "stage": stage, "value": values.get(segment, 0.0), "failed": ids}
            for (segment, stage), ids in sorted(
                cells.items(), key=lambda item: (list(values).index(item[0][0]), item[0][1])
            )
            if stage in report.stages
        ],
        "segments_at_risk": at_risk,
        "total": sum(values[s] for s in at_risk),
    }


def risk_problems(report: Report) -> list[str]:
    limit = report.settings.gate_max_risk
    risk = risk_json(report)
    if limit is None or risk is None or risk["total"] <= limit:
        return []
    return [
        f"value at risk {money(risk['total'])} exceeds the gate's maximum {money(limit)} "
        f"(failing segments: {', '.join(risk['segments_at_risk'])})"
    ]


def money(value: float) -> str:
    """``120000`` as ``120,000``; a fraction kept to two places."""
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
