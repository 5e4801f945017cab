"""Quarantine: a known-broken test keeps running, reported but not gated, with an owner and an end.

``gp_quarantine = FILE`` names a TOML file of entries::

    [[quarantine]]
    test = "tests/e2e/test_chat.py::test_stream"   # a node id, a file or class, or a * pattern
    owner = "alice@example.com"
    reason = "the model provider times out under load"
    link = "https://tracker.example.com/GP-123"        # optional
    expires = 2026-12-31                               # a TOML date

A quarantined test that fails is reported as failed (and shown as xfailed by pytest, so
the run does not fail on it); the gate then fails on an entry past its ``expires`` date,
naming its owner, and on an entry that matches no test of the run. Any malformed entry
stops the run at start with one message naming the file, line and field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from golden_path.testing.bvj.report_records import QuarantineEntry

if TYPE_CHECKING:
    from golden_path.testing.bvj.report_records import ReportView as Report

PROPERTY = "gp.quarantine"  # the user_property naming a test's entry (its ``test``)
REQUIRED = ("test", "owner", "reason", "expires")
FIELDS = (*REQUIRED, "link")
_HEADER = re.compile(r"^\s*\[\[\s*quarantine\s*\]\]")


class QuarantineError(ValueError):
    """The quarantine file is missing, not TOML, or an entry is malformed."""


def entry_for(entries: Iterable[QuarantineEntry], nodeid: str) -> QuarantineEntry | None:
    """The entry that quarantines ``nodeid``: one naming it exactly, else the first that matches."""
    candidates = list(entries)
    for entry in candidates:
        if entry.test == nodeid:
            return entry
    return next((e for e in candidates if e.matches(nodeid)), None)


def _field_line(lines: list[str], start: int, end: int, name: str) -> int:
    """The 1-based line of ``name = …`` between lines ``start`` and ``end``, else ``start``."""
    key = re.compile(rf"^\s*{re.escape(name)}\s*=")
    for index in range(start, end):
        if key.match(lines[index]):
            return index + 1
    return start + 1


def _check_entry(raw: Any, where: str, locate: Any) -> QuarantineEntry:
    if not isinstance(raw, dict):
        raise QuarantineError(f"{where}: expected a [[quarantine]] table")
    for name in raw:
        if name not in FIELDS:
            raise QuarantineError(
                f"{locate(name)}, field {name!r}: unknown; the fields are {', '.join(FIELDS)}"
            )
    for name in REQUIRED:
        if name not in raw:
            raise QuarantineError(f"{locate(name)}, field {name!r}: missing")
    for name in ("test", "owner", "reason", "link"):
        value = raw.get(name, "")
        if not isinstance(value, str) or (name != "link" and not value.strip()):
            raise QuarantineError(f"{locate(name)}, field {name!r}: expected a non-empty string")
    expires = raw["expires"]
    if isinstance(expires, datetime) or not isinstance(expires, date):
        raise QuarantineError(
            f"{locate('expires')}, field 'expires': expected a date such as 2026-12-31 "
            f"(unquoted), not {expires!r}"
        )
    return QuarantineEntry(
        test=raw["test"].strip(),
        owner=raw["owner"].strip(),
        reason=raw["reason"].strip(),
        link=str(raw.get("link", "")).strip(),
        expires=expires,
    )


def load_quarantine(path: Path) -> tuple[QuarantineEntry, ...]:
    """The entries of ``path``; :class:`QuarantineError` names the file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QuarantineError(f"{path}: cannot read the quarantine file ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise QuarantineError(f"{path}: not valid TOML: {exc}") from None
    lines = text.splitlines()
    for key in data:
        if key != "quarantine":
            line = _field_line(lines, 0, len(lines), key)
            raise QuarantineError(
                f"{path}:{line}, field {key!r}: unknown; write each entry as a [[quarantine]] table"
            )
    raw_entries = data.get("quarantine", [])
    if not isinstance(raw_entries, list):
        line = _field_line(lines, 0, len(lines), "quarantine")
        raise QuarantineError(f"{path}:{line}: expected [[quarantine]] tables")
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    entries: list[QuarantineEntry] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_entries):
        start = headers[index] if index < len(headers) else 0
        end = headers[index + 1] if index + 1 < len(headers) else len(lines)

        def locate(name: str, start: int = start, end: int = end) -> str:
            return f"{path}:{_field_line(lines, start, end, name)}"

        entry = _check_entry(raw, f"{path}:{start + 1}", locate)
        entry = replace(entry, line=start + 1)
        if entry.test in seen:
            raise QuarantineError(
                f"{locate('test')}, field 'test': {entry.test!r} is quarantined twice "
                f"(first at line {seen[entry.test]})"
            )
        seen[entry.test] = entry.line
        entries.append(entry)
    return tuple(entries)


# -- the report's figures -------------------------------------------------------------------------


def quarantine_json(
    report: Report, today: date, history: Iterable[Mapping[str, str]] = ()
) -> dict[str, Any]:
    """Each entry with the tests it matched, and which entries are expired, stale or releasable.

    ``history`` is the kept runs' outcome per node id (oldest first). An entry is ready to
    release when each of its tests passed in this run and in every kept run that ran it.
    """
    settings = report.settings
    runs = list(history)
    entries: list[dict[str, Any]] = []
    for entry in settings.quarantine:
        tests = sorted(n for n, t in report.tests.items() if t.quarantine == entry.test)
        failed = [n for n in tests if report.tests[n].outcome == "failed"]
        ready = bool(tests) and all(
            report.tests[n].outcome == "passed"
            and all(run.get(n, "passed") == "passed" for run in runs)
            for n in tests
        )
        entries.append(
            {
                **entry.to_json(),
                "tests": tests,
                "failed": failed,
                "expired": entry.expired(today),
                "stale": not tests,
                "ready_to_release": ready,
            }
        )
    return {"file": settings.quarantine_file, "entries": entries}


def quarantine_problems(report: Report, today: date) -> list[str]:
    """What the gate says about the quarantine: expired entries (with owner) and stale ones."""
    problems: list[str] = []
    used = {t.quarantine for t in report.tests.values() if t.quarantine}
    for entry in report.settings.quarantine:
        if entry.expired(today):
            problems.append(
                f"quarantine expired on {entry.expires}: {entry.test} (owner {entry.owner}: "
                "fix it, or extend the entry)"
            )
        if entry.test not in used:
            problems.append(
                f"quarantine entry matches no test: {entry.test} (owner {entry.owner}, "
                f"{report.settings.quarantine_file}:{entry.line}; remove it)"
            )
    return problems
