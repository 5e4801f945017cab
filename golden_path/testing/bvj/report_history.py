"""History: the last N runs' outcomes, kept in a folder a CI job caches between runs.

``--gp-history=DIR`` (or ``golden-path report merge --history DIR``, where merged shards
count as one run) adds one ``run-NNNNNN.json`` per run and deletes the oldest beyond
``gp_history_runs`` (20). A run file holds each test's outcome, each segment × stage cell's
and the whole run's counts and duration, and the code revision it ran
(``$GOLDEN_PATH_REVISION``, else ``git rev-parse HEAD`` plus a hash of uncommitted changes).
A file of a newer history format is refused with its version, never misread.

A failing test is *new* (it did not fail in the previous run), *still failing*, or *flaky
across runs*: its outcome changed between two consecutive runs of the same revision.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from golden_path.testing.bvj.report_records import HISTORY_FORMAT, RunRecord

if TYPE_CHECKING:
    from golden_path.testing.bvj.report_records import ReportView as Report

DEFAULT_RUNS = 20
REVISION_ENV = "GOLDEN_PATH_REVISION"
_RUN_FILE = re.compile(r"^run-(\d{6,})\.json$")
OVERALL = "overall"


class HistoryError(ValueError):
    """A history folder holds a file this version cannot read (newer format, not JSON)."""


def cell_name(segment: str, stage: str) -> str:
    return f"{segment} × {stage}"


def _count(into: dict[str, float], outcome: str, duration: float) -> None:
    if outcome in ("passed", "failed", "skipped"):
        into[outcome] = into.get(outcome, 0) + 1
    into["duration_s"] = round(into.get("duration_s", 0.0) + duration, 6)


def record_of(report: Report, revision: str, time: datetime | None = None) -> RunRecord:
    """This run as a history entry."""
    when = (time or datetime.now(UTC)).isoformat(timespec="seconds")
    record = RunRecord(time=when, revision=revision)
    record.cells[OVERALL] = {"passed": 0, "failed": 0, "skipped": 0, "duration_s": 0.0}
    for (segment, stage), members in report.cells().items():
        counts = record.cells.setdefault(cell_name(segment, stage), {"passed": 0, "failed": 0})
        for facts in members:
            _count(counts, facts.outcome, facts.duration_s)
    for nodeid, facts in sorted(report.tests.items()):
        record.tests[nodeid] = facts.outcome
        _count(record.cells[OVERALL], facts.outcome, facts.duration_s)
    return record


def _run_files(folder: Path) -> list[tuple[int, Path]]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _RUN_FILE.match(path.name)
        if match:
            found.append((int(match[1]), path))
    return sorted(found)


def read_history(folder: Path, keep: int = DEFAULT_RUNS) -> list[RunRecord]:
    """The last ``keep - 1`` kept runs (with this one, ``keep``), oldest first.

    :class:`HistoryError` for a file of a newer format, or one that is not a history file.
    """
    if folder.exists() and not folder.is_dir():
        raise HistoryError(f"{folder}: not a folder (--gp-history names a folder)")
    runs = []
    for seq, path in _run_files(folder):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HistoryError(f"{path}: not a readable history file ({exc})") from None
        found = data.get("format") if isinstance(data, dict) else None
        if not isinstance(found, int) or found > HISTORY_FORMAT or found < 1:
            raise HistoryError(
                f"{path}: a history file of format {found!r}; this golden-path reads history "
                f"format {HISTORY_FORMAT} and refuses to misread it (upgrade golden-path, or "
                "point --gp-history at a new folder)"
            )
        try:
            runs.append(RunRecord.from_json(data, seq))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise HistoryError(f"{path}: a malformed history file ({exc!r})") from None
    return runs[max(0, len(runs) - (keep - 1)) :]


def write_run(folder: Path, record: RunRecord, keep: int = DEFAULT_RUNS) -> Path:
    """Add ``record`` as the newest run and delete the oldest beyond ``keep``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = _run_files(folder)
    record.seq = (files[-1][0] + 1) if files else 1
    path = folder / f"run-{record.seq:06d}.json"
    path.write_text(json.dumps(record.to_json(), ensure_ascii=False) + "\n", encoding="utf-8")
    for _, old in _run_files(folder)[: max(0, len(files) + 1 - keep)]:
        old.unlink()
    return path


def code_revision(root: Path) -> str:
    """``$GOLDEN_PATH_REVISION``, else the git commit plus a hash of uncommitted changes."""
    given = os.environ.get(REVISION_ENV, "").strip()
    if given:
        return given

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, timeout=30, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.decode(errors="replace") if done.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    if not head:
        return ""
    diff = git("diff", "HEAD", "--no-ext-diff", "--binary") or ""
    dirty = f"+{hashlib.sha256(diff.encode()).hexdigest()[:12]}" if diff else ""
    return head.strip() + dirty


def runs_with(report: Report) -> list[RunRecord]:
    """The kept runs then this one: what the trends and the statuses read."""
    return [*(report.history or ()), record_of(report, report.revision)]


def failing_status(report: Report) -> dict[str, str]:
    """Each failed test of this run: ``new``, ``still failing`` or ``flaky`` (across runs)."""
    if report.history is None:
        return {}
    runs = runs_with(report)
    previous = runs[-2] if len(runs) > 1 else None
    status: dict[str, str] = {}
    for nodeid in sorted(n for n, t in report.tests.items() if t.outcome == "failed"):
        seen = [
            (run.revision, run.tests[nodeid])
            for run in runs
            if run.tests.get(nodeid) in ("passed", "failed")
        ]
        flipped = any(
            a_rev and a_rev == b_rev and a != b for (a_rev, a), (b_rev, b) in pairwise(seen)
        )
        if flipped:
            status[nodeid] = "flaky"
        elif previous is not None and previous.tests.get(nodeid) == "failed":
            status[nodeid] = "still failing"
        else:
            status[nodeid] = "new"
    return status


def history_json(report: Report) -> dict[str, Any] | None:
    if report.history is None:
        return None
    runs = runs_with(report)
    return {
        "runs": len(runs),
        "revision": report.revision,
        "pass_rate": [run.pass_rate(OVERALL) for run in runs],
        "failing": failing_status(report),
    }
