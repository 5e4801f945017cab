"""The BVJ report: what ran, by test tier × segment × stage, and the coverage matrix.

Test facts travel on each report's ``user_properties`` (set at collection), so
the report is complete under pytest-xdist, where only workers see the items.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from golden_path.testing.bvj import SEGMENTS
from golden_path.testing.markers import STAGES, TEST_TIERS

MATRIX_SEGMENTS: tuple[str, ...] = tuple(s for s in SEGMENTS if s != "all")
MATRIX_TIERS: tuple[str, ...] = ("integration", "e2e")
PROPERTY = "golden_path"
_RANK = {"unknown": 0, "passed": 1, "skipped": 2, "failed": 3}


@dataclass
class TestFacts:
    nodeid: str
    test_tier: str = "unknown"
    segment: str = ""
    goal: str = ""
    stages: tuple[str, ...] = ()
    customer_tiers: tuple[str, ...] = ()
    bvj_problem: str = ""
    outcome: str = "unknown"
    duration_s: float = 0.0

    @property
    def matrix_segments(self) -> tuple[str, ...]:
        """The segments a test counts for: its BVJ's, or the tiers it is about."""
        if self.segment in MATRIX_SEGMENTS:
            return (self.segment,)
        return tuple(t for t in self.customer_tiers if t in MATRIX_SEGMENTS)


@dataclass
class Report:
    tests: dict[str, TestFacts] = field(default_factory=dict)

    def record(self, nodeid: str, when: str, outcome: str, duration: float, props: Any) -> None:
        """Fold one phase's report in: failed beats skipped beats passed."""
        facts = self.tests.get(nodeid)
        if facts is None:
            data = dict(props).get(PROPERTY, {}) if props else {}
            facts = TestFacts(
                nodeid=nodeid,
                test_tier=data.get("test_tier", "unknown"),
                segment=data.get("segment", ""),
                goal=data.get("goal", ""),
                stages=tuple(data.get("stages", ())),
                customer_tiers=tuple(data.get("customer_tiers", ())),
                bvj_problem=data.get("bvj_problem", ""),
            )
            self.tests[nodeid] = facts
        facts.duration_s += duration
        counts = when == "call" or outcome != "passed"
        if counts and _RANK.get(outcome, 0) > _RANK[facts.outcome]:
            facts.outcome = outcome

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
        """Passing integration and e2e tests per segment × stage."""
        cells = {s: dict.fromkeys(STAGES, 0) for s in MATRIX_SEGMENTS}
        for facts in self.tests.values():
            if facts.outcome != "passed" or facts.test_tier not in MATRIX_TIERS:
                continue
            for segment in facts.matrix_segments:
                for stage in facts.stages:
                    if stage in cells[segment]:
                        cells[segment][stage] += 1
        return cells

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
        return sorted(t.nodeid for t in self.tests.values() if t.outcome == "failed")

    def gate_problems(self) -> list[str]:
        problems = [f"failed: {nodeid}" for nodeid in self.failed()]
        problems += [f"no passing integration/e2e test for {cell}" for cell in self.empty_cells()]
        problems += [f"no BVJ: {line}" for line in self.without_bvj()]
        return problems

    # -- output ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "totals": dict(self.totals()),
            "by_tier_segment_stage": self.by_tier_segment_stage(),
            "matrix": self.matrix(),
            "empty_cells": self.empty_cells(),
            "without_bvj": self.without_bvj(),
            "failed": self.failed(),
            "by_test_tier": {
                tier: dict(Counter(t.outcome for t in self.tests.values() if t.test_tier == tier))
                for tier in (*TEST_TIERS, "unknown")
                if tier != "unknown" or any(t.test_tier == tier for t in self.tests.values())
            },
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
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.json").write_text(json.dumps(self.to_json(), indent=2) + "\n")
        (folder / "report.md").write_text(self.to_markdown())

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
        return lines
