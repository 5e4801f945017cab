"""What the BVJ report is made of: each test's facts and failures, the run's settings, the
history's records, and the view of a report its parts read.

Everything here is data with its JSON form; it imports nothing of the report's own
modules, so the report (``report``) and its parts (flaky tests, quarantine, value at
risk, history, the gate) can all depend on it without depending on each other.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from golden_path.testing.bvj.justification import ALL
from golden_path.testing.markers import STAGES

HISTORY_FORMAT = 1
XFAIL_PREFIX = "quarantined"  # how a quarantined failure's wasxfail reason starts

# The segments and stages a report.json of format 2 or 3 was written for: golden-path's own
# four tiers and five stages (later formats say theirs).
MATRIX_SEGMENTS: tuple[str, ...] = ("free", "early", "mid", "enterprise")
LEGACY_STAGES: tuple[str, ...] = STAGES
MATRIX_TIERS: tuple[str, ...] = ("integration", "e2e", "browser")
# Counted in every report, even at 0; the browser tier and "unknown" only where they occur.
ALWAYS_SHOWN_TIERS: frozenset[str] = frozenset({"unit", "integration", "e2e"})
# report.json's layout; 2 added "tests" (every test, what a merge reads back); 3 added each
# test's failed attempts ("reruns") and quarantine, and "flaky", "quarantine", "risk", "history";
# 4 added the project's "segments" and "stages" (gp_segments, gp_stages).
FORMAT = 4
READABLE_FORMATS = (2, 3, 4)
_RANK = {"unknown": 0, "passed": 1, "skipped": 2, "failed": 3}
# Kept of a failure: the traceback's and each section's last characters (a section is
# captured output or a gp_client socket transcript), so a report stays small.
MAX_LONGREPR = 20_000
MAX_SECTION = 20_000

# The user_properties a test carries (and --junitxml writes): name → TestFacts field.
# Repeatable ones (a test may have several stages or customer tiers) become tuples.
SINGLE_PROPERTIES: dict[str, str] = {
    "gp.test_tier": "test_tier",
    "bvj.segment": "segment",
    "bvj.goal": "goal",
    "bvj.value_impact": "value_impact",
    "bvj.revenue_impact": "revenue_impact",
    "bvj.problem": "bvj_problem",
    "gp.quarantine": "quarantine",
}
REPEATED_PROPERTIES: dict[str, str] = {"gp.stage": "stages", "gp.customer_tier": "customer_tiers"}


@dataclass
class Failure:
    """One failed phase of a test: where, the one-line reason, the traceback, the sections."""

    when: str
    message: str
    longrepr: str = ""
    sections: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "when": self.when,
            "message": self.message,
            "longrepr": self.longrepr,
            "sections": [{"title": title, "text": text} for title, text in self.sections],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Failure:
        return cls(
            when=str(data["when"]),
            message=str(data["message"]),
            longrepr=str(data.get("longrepr", "")),
            sections=[(str(s["title"]), str(s["text"])) for s in data.get("sections", ())],
        )


@dataclass
class TestFacts:
    __test__ = False  # not a pytest test class, wherever it is imported

    nodeid: str
    test_tier: str = "unknown"
    segment: str = ""
    goal: str = ""
    value_impact: str = ""
    revenue_impact: str = ""
    stages: tuple[str, ...] = ()
    customer_tiers: tuple[str, ...] = ()
    bvj_problem: str = ""
    outcome: str = "unknown"
    duration_s: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    reruns: list[Failure] = field(default_factory=list)  # failed attempts (pytest-rerunfailures)
    quarantine: str = ""  # the ``test`` of the quarantine entry it is under

    def segments_in(self, segments: tuple[str, ...]) -> tuple[str, ...]:
        """The segments of ``segments`` a test counts for: its BVJ's, or the ones it is
        about (``tier`` markers)."""
        if self.segment in segments:
            return (self.segment,)
        return tuple(t for t in self.customer_tiers if t in segments)

    def named_segments(self) -> tuple[str, ...]:
        """Every segment the test names (for a run whose gp_segments is unset)."""
        named = (self.segment, *self.customer_tiers)
        return tuple(s for s in named if s and s not in (ALL, "-"))

    @property
    def in_matrix(self) -> bool:
        return self.test_tier in MATRIX_TIERS

    def to_json(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "test_tier": self.test_tier,
            "segment": self.segment,
            "goal": self.goal,
            "value_impact": self.value_impact,
            "revenue_impact": self.revenue_impact,
            "stages": list(self.stages),
            "customer_tiers": list(self.customer_tiers),
            "bvj_problem": self.bvj_problem,
            "outcome": self.outcome,
            "duration_s": round(self.duration_s, 6),
            "failures": [f.to_json() for f in self.failures],
            "attempts": len(self.reruns) + 1,
            "reruns": [f.to_json() for f in self.reruns],
            "quarantine": self.quarantine,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TestFacts:
        return cls(
            nodeid=str(data["nodeid"]),
            test_tier=str(data.get("test_tier", "unknown")),
            segment=str(data.get("segment", "")),
            goal=str(data.get("goal", "")),
            value_impact=str(data.get("value_impact", "")),
            revenue_impact=str(data.get("revenue_impact", "")),
            stages=tuple(str(s) for s in data.get("stages", ())),
            customer_tiers=tuple(str(t) for t in data.get("customer_tiers", ())),
            bvj_problem=str(data.get("bvj_problem", "")),
            outcome=str(data.get("outcome", "unknown")),
            duration_s=float(data.get("duration_s", 0.0)),
            failures=[Failure.from_json(f) for f in data.get("failures", ())],
            reruns=[Failure.from_json(f) for f in data.get("reruns", ())],
            quarantine=str(data.get("quarantine", "")),
        )


def properties_for(facts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ``user_properties`` for a test's facts (field name → value, as collected)."""
    props: list[tuple[str, str]] = []
    for name, key in SINGLE_PROPERTIES.items():
        value = facts.get(key)
        if value:
            props.append((name, str(value)))
    for name, key in REPEATED_PROPERTIES.items():
        props.extend((name, str(value)) for value in facts.get(key, ()))
    return props


def facts_from_properties(nodeid: str, props: Iterable[tuple[str, object]]) -> TestFacts:
    """A test's facts back from its ``user_properties`` (other properties are ignored)."""
    single: dict[str, str] = {}
    repeated: dict[str, list[str]] = defaultdict(list)
    for name, value in props:
        if name in SINGLE_PROPERTIES:
            single[SINGLE_PROPERTIES[name]] = str(value)
        elif name in REPEATED_PROPERTIES:
            repeated[REPEATED_PROPERTIES[name]].append(str(value))
    return TestFacts(
        nodeid=nodeid,
        test_tier=single.get("test_tier", "unknown"),
        segment=single.get("segment", ""),
        goal=single.get("goal", ""),
        value_impact=single.get("value_impact", ""),
        revenue_impact=single.get("revenue_impact", ""),
        stages=tuple(repeated["stages"]),
        customer_tiers=tuple(repeated["customer_tiers"]),
        bvj_problem=single.get("bvj_problem", ""),
        quarantine=single.get("quarantine", ""),
    )


def _tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"[… {len(text) - limit} characters cut …]\n" + text[-limit:]


def failure_of(report: Any) -> Failure:
    """What a failed ``pytest.TestReport`` says: its crash line, traceback and sections."""
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    longrepr = str(getattr(report, "longreprtext", "") or "")
    message = str(getattr(crash, "message", "") or "")
    if not message:
        lines = [line for line in longrepr.splitlines() if line.strip()]
        message = lines[-1].strip() if lines else f"failed at {report.when}"
    return Failure(
        when=str(report.when),
        message=message,
        longrepr=_tail(longrepr, MAX_LONGREPR),
        sections=[(str(t), _tail(str(c), MAX_SECTION)) for t, c in report.sections],
    )


@dataclass
class RunRecord:
    time: str
    revision: str
    tests: dict[str, str] = field(default_factory=dict)  # node id → passed/failed/skipped
    # "overall" and "segment × stage" → passed, failed, skipped, duration_s
    cells: dict[str, dict[str, float]] = field(default_factory=dict)
    seq: int = 0

    def pass_rate(self, cell: str) -> float | None:
        counts = self.cells.get(cell, {})
        ran = counts.get("passed", 0) + counts.get("failed", 0)
        return counts.get("passed", 0) / ran if ran else None

    def duration(self, cell: str) -> float:
        return float(self.cells.get(cell, {}).get("duration_s", 0.0))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": HISTORY_FORMAT,
            "time": self.time,
            "revision": self.revision,
            "cells": self.cells,
            "tests": self.tests,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], seq: int) -> RunRecord:
        return cls(
            time=str(data["time"]),
            revision=str(data.get("revision", "")),
            tests={str(k): str(v) for k, v in data["tests"].items()},
            cells={
                str(k): {str(n): float(x) for n, x in v.items()} for k, v in data["cells"].items()
            },
            seq=seq,
        )


@dataclass(frozen=True)
class QuarantineEntry:
    test: str
    owner: str
    reason: str
    expires: date
    link: str = ""
    line: int = 0  # where the entry starts in its file

    def matches(self, nodeid: str) -> bool:
        """The test itself, a test under a file or class it names, or a ``*`` pattern."""
        if "*" in self.test:
            pattern = ".*".join(re.escape(part) for part in self.test.split("*"))
            return re.fullmatch(pattern, nodeid) is not None
        return nodeid == self.test or nodeid.startswith((f"{self.test}::", f"{self.test}["))

    def expired(self, today: date) -> bool:
        return self.expires < today

    def reason_line(self) -> str:
        """The xfail reason pytest shows for a quarantined failure."""
        return f"{XFAIL_PREFIX}: {self.reason} (owner {self.owner}, until {self.expires})"

    def to_json(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "owner": self.owner,
            "reason": self.reason,
            "link": self.link,
            "expires": self.expires.isoformat(),
            "line": self.line,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuarantineEntry:
        return cls(
            test=str(data["test"]),
            owner=str(data["owner"]),
            reason=str(data["reason"]),
            expires=date.fromisoformat(str(data["expires"])),
            link=str(data.get("link", "")),
            line=int(data.get("line", 0)),
        )


@dataclass
class ReportSettings:
    quarantine: tuple[QuarantineEntry, ...] = ()
    quarantine_file: str = ""
    segment_value: dict[str, float] = field(default_factory=dict)
    gate_flaky: str = "pass"  # or "fail": a flaky test fails the gate
    gate_max_risk: float | None = None


def settings_from_json(data: Mapping[str, Any]) -> ReportSettings:
    """The project's settings a ``report.json`` carries (for a merge to gate with)."""
    quarantine = data.get("quarantine") or {}
    risk = data.get("risk") or {}
    return ReportSettings(
        quarantine=tuple(QuarantineEntry.from_json(e) for e in quarantine.get("entries", ())),
        quarantine_file=str(quarantine.get("file", "")),
        segment_value={str(k): float(v) for k, v in risk.get("segment_value", {}).items()},
    )


class ReportView(Protocol):
    """What the report's parts read of a :class:`~golden_path.testing.bvj.report.Report`."""

    tests: dict[str, TestFacts]
    settings: ReportSettings
    history: list[RunRecord] | None
    revision: str
    stages: tuple[str, ...]

    def cells(self) -> dict[tuple[str, str], list[TestFacts]]: ...
