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

from golden_path.testing.bvj.report_gate import (
    extra_gate_problems,
    extra_json,
    extra_markdown,
    extra_summary_lines,
)
from golden_path.testing.bvj.report_records import (
    _RANK,
    ALWAYS_SHOWN_TIERS,
    FORMAT,
    LEGACY_STAGES,
    MATRIX_SEGMENTS,
    MATRIX_TIERS,
    READABLE_FORMATS,
    Failure,
    ReportSettings,
    RunRecord,
    TestFacts,
    facts_from_properties,
    failure_of,
    properties_for,
    settings_from_json,
)

# Read from here by the report's users (hooks, files, merge, tests) as before the split.
__all__ = [
    "FORMAT",
    "MATRIX_SEGMENTS",
    "READABLE_FORMATS",
    "Failure",
    "Report",
    "TestFacts",
    "facts_from_properties",
    "failure_of",
    "properties_for",
]
from golden_path.testing.markers import STAGES, TEST_TIERS


@dataclass
class Report:
    tests: dict[str, TestFacts] = field(default_factory=dict)
    settings: ReportSettings = field(default_factory=ReportSettings)
    history: list[RunRecord] | None = None  # the kept runs before this one; None: no history
    revision: str = ""  # the code this run tested (report_history.code_revision)
    segments: tuple[str, ...] = ()  # gp_segments; empty: the segments the tests name
    stages: tuple[str, ...] = STAGES  # gp_stages

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
        legacy = int(data.get("format", FORMAT)) < 4  # written for golden-path's own four
        return cls(
            tests={t.nodeid: t for t in tests},
            settings=settings_from_json(data),
            segments=MATRIX_SEGMENTS if legacy else tuple(data.get("segments", ())),
            stages=LEGACY_STAGES if legacy else tuple(data.get("stages", STAGES)),
        )

    def matrix_segments(self) -> tuple[str, ...]:
        """The matrix's rows: the project's segments, else every segment a test names."""
        if self.segments:
            return self.segments
        named = {s for t in self.tests.values() for s in t.named_segments()}
        return tuple(sorted(named))

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
        segments = self.matrix_segments()
        cells = {s: dict.fromkeys(self.stages, 0) for s in segments}
        for facts in self.tests.values():
            if facts.outcome != "passed" or facts.test_tier not in MATRIX_TIERS:
                continue
            for segment in facts.segments_in(segments):
                for stage in facts.stages:
                    if stage in cells[segment]:
                        cells[segment][stage] += 1
        return cells

    def cells(self) -> dict[tuple[str, str], list[TestFacts]]:
        """Every integration, e2e and browser test of each segment × stage cell, any outcome."""
        segments = self.matrix_segments()
        cells: dict[tuple[str, str], list[TestFacts]] = {
            (segment, stage): [] for segment in segments for stage in self.stages
        }
        for facts in sorted(self.tests.values(), key=lambda t: t.nodeid):
            if not facts.in_matrix:
                continue
            for segment in facts.segments_in(segments):
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
            "segments": list(self.segments),
            "stages": list(self.stages),
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
        lines = ["| segment \\ stage | " + " | ".join(self.stages) + " |"]
        lines.append("|---" * (len(self.stages) + 1) + "|")
        for segment, row in matrix.items():
            lines.append(f"| {segment} | " + " | ".join(str(row[s]) for s in self.stages) + " |")
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
        lines.append("  " + " " * 11 + "".join(f"{s:>13}" for s in self.stages))
        for segment, row in self.matrix().items():
            lines.append(f"  {segment:<11}" + "".join(f"{row[s]:>13}" for s in self.stages))
        empty = self.empty_cells()
        if empty:
            lines.append(f"empty cells: {', '.join(empty)}")
        missing = self.without_bvj()
        if missing:
            lines.append(f"{len(missing)} tests without a valid BVJ")
        return lines + extra_summary_lines(self)
