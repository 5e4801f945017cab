"""The BVJ report: what ran, by test tier × segment × stage, and the coverage matrix.

Test facts travel on each report's ``user_properties`` (set at collection), so
the report is complete under pytest-xdist, where only workers see the items; the
same properties are what ``--junitxml`` writes as each test case's ``<properties>``.
``report.json`` carries every test (:meth:`Report.to_json`), so shards written by
separate CI jobs can be read back (:meth:`Report.from_json`) and merged.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from golden_path.testing.bvj.justification import SEGMENTS
from golden_path.testing.bvj.report_gate import (
    ReportSettings,
    extra_gate_problems,
    extra_json,
    extra_markdown,
    extra_summary_lines,
    settings_from_json,
)
from golden_path.testing.bvj.report_history import RunRecord
from golden_path.testing.markers import STAGES, TEST_TIERS

MATRIX_SEGMENTS: tuple[str, ...] = tuple(s for s in SEGMENTS if s != "all")
MATRIX_TIERS: tuple[str, ...] = ("integration", "e2e", "browser")
# Counted in every report, even at 0; the browser tier and "unknown" only where they occur.
ALWAYS_SHOWN_TIERS: frozenset[str] = frozenset({"unit", "integration", "e2e"})
# report.json's layout; 2 added "tests" (every test, what a merge reads back); 3 added each
# test's failed attempts ("reruns") and quarantine, and "flaky", "quarantine", "risk", "history".
FORMAT = 3
READABLE_FORMATS = (2, 3)
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

    @property
    def matrix_segments(self) -> tuple[str, ...]:
        """The segments a test counts for: its BVJ's, or the tiers it is about."""
        if self.segment in MATRIX_SEGMENTS:
            return (self.segment,)
        return tuple(t for t in self.customer_tiers if t in MATRIX_SEGMENTS)

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
class Report:
    tests: dict[str, TestFacts] = field(default_factory=dict)
    settings: ReportSettings = field(default_factory=ReportSettings)
    history: list[RunRecord] | None = None  # the kept runs before this one; None: no history
    revision: str = ""  # the code this run tested (report_history.code_revision)

    def record(
        self,
        nodeid: str,
        when: str,
        outcome: str,
        duration: float,
        props: Iterable[tuple[str, object]],
        failure: Failure | None = None,
    ) -> None:
        """Fold one phase's report in: failed beats skipped beats passed.

        A ``rerun`` (a failed attempt pytest-rerunfailures runs again) is kept apart: the
        outcome is the last attempt's.
        """
        facts = self.tests.get(nodeid)
        if facts is None:
            facts = facts_from_properties(nodeid, props or ())
            self.tests[nodeid] = facts
        facts.duration_s += duration
        if outcome == "rerun":
            if failure is not None:
                facts.reruns.append(failure)
            return
        counts = when == "call" or outcome != "passed"
        if counts and _RANK.get(outcome, 0) > _RANK[facts.outcome]:
            facts.outcome = outcome
        if failure is not None:
            facts.failures.append(failure)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        """The report a ``report.json`` describes (what :meth:`to_json` wrote)."""
        tests = (TestFacts.from_json(t) for t in data["tests"])
        return cls(tests={t.nodeid: t for t in tests}, settings=settings_from_json(data))

    # -- figures --------------------------------------------------------------------------

    def totals(self) -> Counter[str]:
        counts: Counter[str] = Counter(t.outcome for t in self.tests.values())
        counts["collected"] = len(self.tests)
        return counts

    def by_tier_segment_stage(self) -> list[dict[str, Any]]:
        groups: dict[tuple[str, str, str], list[TestFacts]] = defaultdict(list)
        for facts in self.tests.values():
            for stage in facts.stages or ("-",):
                groups[(facts.test_tier, facts.segment or "-", stage)].append(facts)
        rows = []
        for (tier, segment, stage), members in sorted(groups.items()):
            outcomes = Counter(m.outcome for m in members)
            rows.append(
                {
                    "test_tier": tier,
                    "segment": segment,
                    "stage": stage,
                    "collected": len(members),
                    "passed": outcomes["passed"],
                    "failed": outcomes["failed"],
                    "skipped": outcomes["skipped"],
                    "duration_s": round(sum(m.duration_s for m in members), 3),
                }
            )
        return rows

    def matrix(self) -> dict[str, dict[str, int]]:
        """Passing integration, e2e and browser tests per segment × stage."""
        cells = {s: dict.fromkeys(STAGES, 0) for s in MATRIX_SEGMENTS}
        for facts in self.tests.values():
            if facts.outcome != "passed" or facts.test_tier not in MATRIX_TIERS:
                continue
            for segment in facts.matrix_segments:
                for stage in facts.stages:
                    if stage in cells[segment]:
                        cells[segment][stage] += 1
        return cells

    def cells(self) -> dict[tuple[str, str], list[TestFacts]]:
        """Every integration, e2e and browser test of each segment × stage cell, any outcome."""
        cells: dict[tuple[str, str], list[TestFacts]] = {
            (segment, stage): [] for segment in MATRIX_SEGMENTS for stage in STAGES
        }
        for facts in sorted(self.tests.values(), key=lambda t: t.nodeid):
            if not facts.in_matrix:
                continue
            for segment in facts.matrix_segments:
                for stage in facts.stages:
                    if (segment, stage) in cells:
                        cells[(segment, stage)].append(facts)
        return cells

    def slowest(self, count: int = 20) -> list[TestFacts]:
        return sorted(self.tests.values(), key=lambda t: (-t.duration_s, t.nodeid))[:count]

    def failed_tests(self) -> list[TestFacts]:
        return sorted(
            (t for t in self.tests.values() if t.outcome == "failed"), key=lambda t: t.nodeid
        )

    def empty_cells(self) -> list[str]:
        return [
            f"{segment} × {stage}"
            for segment, row in self.matrix().items()
            for stage, count in row.items()
            if count == 0
        ]

    def without_bvj(self) -> list[str]:
        return sorted(f"{t.nodeid}: {t.bvj_problem}" for t in self.tests.values() if t.bvj_problem)

    def failed(self) -> list[str]:
        """The failed tests the gate counts: a quarantined one is reported, not gated."""
        return sorted(
            t.nodeid for t in self.tests.values() if t.outcome == "failed" and not t.quarantine
        )

    def gate_problems(self) -> list[str]:
        problems = [f"failed: {nodeid}" for nodeid in self.failed()]
        problems += [f"no passing integration/e2e test for {cell}" for cell in self.empty_cells()]
        problems += [f"no BVJ: {line}" for line in self.without_bvj()]
        return problems + extra_gate_problems(self)

    # -- output ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "totals": dict(self.totals()),
            "by_tier_segment_stage": self.by_tier_segment_stage(),
            "matrix": self.matrix(),
            "empty_cells": self.empty_cells(),
            "without_bvj": self.without_bvj(),
            "failed": self.failed(),
            "by_test_tier": {
                tier: dict(Counter(t.outcome for t in self.tests.values() if t.test_tier == tier))
                for tier in (*TEST_TIERS, "unknown")
                if tier in ALWAYS_SHOWN_TIERS
                or any(t.test_tier == tier for t in self.tests.values())
            },
            **extra_json(self),
            "tests": [self.tests[nodeid].to_json() for nodeid in sorted(self.tests)],
        }

    def matrix_markdown(self) -> list[str]:
        matrix = self.matrix()
        lines = ["| segment \\ stage | " + " | ".join(STAGES) + " |"]
        lines.append("|---" * (len(STAGES) + 1) + "|")
        for segment, row in matrix.items():
            lines.append(f"| {segment} | " + " | ".join(str(row[s]) for s in STAGES) + " |")
        return lines

    def to_markdown(self) -> str:
        totals = self.totals()
        lines = [
            "# golden-path test report",
            "",
            f"{totals['collected']} tests: {totals['passed']} passed, {totals['failed']} failed, "
            f"{totals['skipped']} skipped.",
            "",
            "## By test tier",
            "",
            "| test tier | passed | failed | skipped |",
            "|---|---|---|---|",
        ]
        for tier, counts in self.to_json()["by_test_tier"].items():
            lines.append(
                f"| {tier} | {counts.get('passed', 0)} | {counts.get('failed', 0)} "
                f"| {counts.get('skipped', 0)} |"
            )
        lines += [
            "",
            "## Coverage matrix (passing integration + e2e tests)",
            "",
            *self.matrix_markdown(),
        ]
        lines += ["", "## By test tier × segment × stage", ""]
        lines += [
            "| test tier | segment | stage | tests | passed | failed | skipped | seconds |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in self.by_tier_segment_stage():
            lines.append(
                f"| {row['test_tier']} | {row['segment']} | {row['stage']} | {row['collected']} "
                f"| {row['passed']} | {row['failed']} | {row['skipped']} | {row['duration_s']} |"
            )
        missing = self.without_bvj()
        lines += ["", "## Tests without a valid BVJ", ""]
        lines += [f"- {line}" for line in missing] or ["None."]
        return "\n".join(lines + extra_markdown(self)) + "\n"

    def summary_lines(self) -> list[str]:
        totals = self.totals()
        by_tier = self.to_json()["by_test_tier"]
        lines = [
            f"{totals['collected']} tests; "
            + ", ".join(
                f"{tier} {sum(counts.values())} ({counts.get('passed', 0)} passed)"
                for tier, counts in by_tier.items()
            )
        ]
        lines.append("coverage matrix (passing integration + e2e tests, segment × stage):")
        lines.append("  " + " " * 11 + "".join(f"{s:>13}" for s in STAGES))
        for segment, row in self.matrix().items():
            lines.append(f"  {segment:<11}" + "".join(f"{row[s]:>13}" for s in STAGES))
        empty = self.empty_cells()
        if empty:
            lines.append(f"empty cells: {', '.join(empty)}")
        missing = self.without_bvj()
        if missing:
            lines.append(f"{len(missing)} tests without a valid BVJ")
        return lines + extra_summary_lines(self)
