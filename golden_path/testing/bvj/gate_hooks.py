"""The gate's settings read at start, and the quarantine's hooks.

Every setting is read and checked when the run starts (a malformed quarantine file or
``gp_segment_value`` stops it with one message naming the file, line and field; a history
folder of a newer format stops it with that format's version). A quarantined test runs as
usual; if it fails, pytest shows it as xfailed with the entry's reason, owner and end, so the
run does not fail on it, and the report records it as failed under quarantine.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from golden_path.testing.bvj.report_flaky import FlakyJUnit, FlakyJUnitAfter
from golden_path.testing.bvj.report_history import (
    DEFAULT_RUNS,
    HistoryError,
    read_history,
)
from golden_path.testing.bvj.report_quarantine import (
    PROPERTY,
    QuarantineError,
    entry_for,
    load_quarantine,
)
from golden_path.testing.bvj.report_records import QuarantineEntry, ReportSettings, RunRecord
from golden_path.testing.bvj.report_risk import SegmentValueError, read_segment_value

_SETTINGS = pytest.StashKey[ReportSettings]()
_ENTRY = pytest.StashKey[QuarantineEntry]()


def _root(config: pytest.Config) -> Path:
    return Path(config.inipath).parent if config.inipath else Path(config.rootpath)


def report_settings(config: pytest.Config) -> ReportSettings:
    """The run's quarantine, segment values and gate flags, read and checked once."""
    cached = config.stash.get(_SETTINGS, None)
    if cached is not None:
        return cached
    settings = ReportSettings()
    name = str(config.getini("gp_quarantine") or "").strip()
    if name:
        path = _root(config) / name
        try:
            settings.quarantine = load_quarantine(path)
        except QuarantineError as exc:
            raise pytest.UsageError(f"gp_quarantine: {exc}") from None
        settings.quarantine_file = name
    try:
        settings.segment_value = read_segment_value(config)
    except SegmentValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    settings.gate_flaky = config.getoption("gp_gate_flaky")
    settings.gate_max_risk = config.getoption("gp_gate_max_risk")
    if settings.gate_max_risk is not None and not settings.segment_value:
        raise pytest.UsageError(
            "--gp-gate-max-risk needs gp_segment_value (each segment's value) in the ini file"
        )
    config.stash[_SETTINGS] = settings
    return settings


def history_runs(config: pytest.Config) -> int:
    text = str(config.getini("gp_history_runs") or DEFAULT_RUNS).strip()
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"gp_history_runs = {text!r}: expected a whole number >= 1")
    return int(text)


def read_history_option(config: pytest.Config) -> list[RunRecord] | None:
    """The kept runs of ``--gp-history=DIR`` (``None`` without it); a usage error if unreadable."""
    folder = config.getoption("gp_history")
    if not folder:
        return None
    try:
        return read_history(Path(folder), history_runs(config))
    except HistoryError as exc:
        raise pytest.UsageError(f"--gp-history: {exc}") from None


class QuarantineHooks:
    """Marks each quarantined test (a user property) and turns its failure into an xfail."""

    def __init__(self, entries: tuple[QuarantineEntry, ...]) -> None:
        self.entries = entries

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            entry = entry_for(self.entries, item.nodeid)
            if entry is not None:
                item.stash[_ENTRY] = entry
                item.user_properties.append((PROPERTY, entry.test))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        entry = item.stash.get(_ENTRY, None)
        if entry is not None and report.failed and report.when in ("setup", "call"):
            report.outcome = "skipped"
            report.wasxfail = entry.reason_line()
        return report


def register(config: pytest.Config) -> None:
    """The quarantine's hooks when ``gp_quarantine`` is set; the JUnit flaky writer always."""
    settings = report_settings(config)
    if settings.quarantine:
        hooks = QuarantineHooks(settings.quarantine)
        config.pluginmanager.register(hooks, "golden-path-quarantine")
    if config.getoption("xmlpath", None) and not hasattr(config, "workerinput"):
        junit = FlakyJUnit(config)
        config.pluginmanager.register(junit, "golden-path-flaky-junit")
        config.pluginmanager.register(FlakyJUnitAfter(junit), "golden-path-flaky-junit-after")
