"""``golden-path report merge``: the reports of a suite's shards as one, gated as one.

Each CI job runs a part of the suite with ``--gp-report=DIR``; the merge reads every
``DIR/report.json`` back (each lists every test it ran), joins them and writes the
union's report. A matrix cell covered in any shard is covered; a test that two shards
both ran is an error, since the split was then not a split and its counts would lie.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from golden_path.testing.bvj.report import Report
from golden_path.testing.bvj.report_files import ReportFileError, read_report, write_report
from golden_path.testing.bvj.report_history import (
    DEFAULT_RUNS,
    HistoryError,
    code_revision,
    read_history,
    record_of,
    write_run,
)
from golden_path.testing.bvj.report_records import QuarantineEntry, ReportSettings


class MergeError(ValueError):
    """A shard's report cannot be read, or the shards overlap."""


def load(folder: Path) -> Report:
    """A shard's report; what is wrong with it as a :class:`MergeError`."""
    try:
        return read_report(folder)
    except ReportFileError as exc:
        raise MergeError(str(exc)) from None


def merge(shards: Sequence[tuple[str, Report]]) -> Report:
    """The union of the shards' tests; :class:`MergeError` names any test run twice."""
    merged = Report()
    seen: dict[str, str] = {}
    twice: list[str] = []
    for label, report in shards:
        for nodeid, facts in report.tests.items():
            if nodeid in seen:
                twice.append(f"{nodeid} (in {seen[nodeid]} and {label})")
                continue
            seen[nodeid] = label
            merged.tests[nodeid] = facts
    merged.settings = merged_settings(shards)
    merged.segments, merged.stages = merged_vocabulary(shards)
    if twice:
        shown = "\n  ".join(twice[:50])
        more = f"\n  … and {len(twice) - 50} more" if len(twice) > 50 else ""
        raise MergeError(
            f"{len(twice)} tests ran in more than one shard, so the shards overlap and their "
            f"counts cannot be added:\n  {shown}{more}"
        )
    return merged


def merged_vocabulary(
    shards: Sequence[tuple[str, Report]],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The segments and stages every shard was run with, which must be the same."""
    if not shards:
        return (), Report().stages
    first_label, first = shards[0]
    for label, report in shards[1:]:
        if (report.segments, report.stages) != (first.segments, first.stages):
            raise MergeError(
                f"{label} was run with segments {' '.join(report.segments) or '(any)'} and "
                f"stages {' '.join(report.stages)}, {first_label} with "
                f"{' '.join(first.segments) or '(any)'} and {' '.join(first.stages)}: "
                "shards of one run share gp_segments and gp_stages"
            )
    return first.segments, first.stages


def merged_settings(shards: Sequence[tuple[str, Report]]) -> ReportSettings:
    """The shards' quarantine entries united; their segment values, which must agree."""
    settings = ReportSettings()
    entries: dict[str, QuarantineEntry] = {}
    values_from = ""
    for label, report in shards:
        for entry in report.settings.quarantine:
            entries.setdefault(entry.test, entry)
        settings.quarantine_file = settings.quarantine_file or report.settings.quarantine_file
        values = report.settings.segment_value
        if values and settings.segment_value and values != settings.segment_value:
            raise MergeError(
                f"the shards were run with different gp_segment_value: {values_from} has "
                f"{settings.segment_value}, {label} has {values}"
            )
        if values and not settings.segment_value:
            settings.segment_value, values_from = dict(values), label
    settings.quarantine = tuple(entries.values())
    return settings


def merge_folders(folders: Sequence[Path]) -> Report:
    if not folders:
        raise MergeError("name at least one report folder to merge")
    return merge([(str(folder), load(folder)) for folder in folders])


def run(
    folders: Sequence[str],
    out: str,
    gate: bool,
    *,
    gate_flaky: str = "pass",
    gate_max_risk: float | None = None,
    history: str | None = None,
    history_runs: int = DEFAULT_RUNS,
) -> int:
    """The command: merge, write ``out``, print the summary; 1 if the gate fails, 2 on error.

    With ``history`` the union is kept there as one run (the shards are one run).
    """
    try:
        report = merge_folders([Path(f) for f in folders])
        if gate_max_risk is not None and not report.settings.segment_value:
            raise MergeError("--gate-max-risk needs shards run with gp_segment_value")
        if history_runs < 1:
            raise MergeError(f"--history-runs={history_runs}: keep at least 1 run")
        if history:
            report.history = read_history(Path(history), history_runs)
            report.revision = code_revision(Path.cwd())
    except (MergeError, HistoryError) as exc:
        print(f"golden-path report merge: {exc}", file=sys.stderr, flush=True)
        return 2
    report.settings.gate_flaky = gate_flaky
    report.settings.gate_max_risk = gate_max_risk
    write_report(report, Path(out))
    if history:
        write_run(Path(history), record_of(report, report.revision), history_runs)
    for line in report.summary_lines():
        print(line)
    print(f"merged {len(folders)} reports: {Path(out) / 'report.html'}")
    if not gate:
        return 0
    problems = report.gate_problems()
    if problems:
        print(f"gate FAILED ({len(problems)} problems):")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("gate passed")
    return 0
