"""The BVJ part of the plugin: read each test's BVJ, enforce it, report and gate on it."""

from __future__ import annotations

import inspect
import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from golden_path.testing.bvj.gate_hooks import (
    history_runs,
    read_history_option,
    report_settings,
)
from golden_path.testing.bvj.justification import BVJ, BVJError, from_docstring, from_marker
from golden_path.testing.bvj.report import Report, failure_of, properties_for
from golden_path.testing.bvj.report_files import write_report
from golden_path.testing.bvj.report_history import code_revision, record_of, write_run
from golden_path.testing.bvj.report_quarantine import PROPERTY as QUARANTINE_PROPERTY
from golden_path.testing.bvj.report_records import XFAIL_PREFIX
from golden_path.testing.markers import test_tier_of, vocabulary
from golden_path.testing.options import harness_options

_PROBLEM = pytest.StashKey[str]()


def item_bvj(item: pytest.Item, segments: tuple[str, ...] = ()) -> BVJ | None:
    """The item's BVJ: the closest marker, else the test's, class's or module's docstring."""
    marker = item.get_closest_marker("bvj")
    if marker is not None:
        return from_marker(marker.args, marker.kwargs, segments)
    owners: list[Any] = [getattr(item, "function", None), getattr(item, "cls", None)]
    module = getattr(item, "module", None)
    owners.append(module)
    for owner in owners:
        if owner is None:
            continue
        doc = inspect.getdoc(owner) if owner is not module else owner.__doc__
        found = from_docstring(doc, segments)
        if found is not None:
            return found
    return None


def customer_tiers(item: pytest.Item, segments: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The tiers a test is about: ``tier`` markers, or a ``tier`` parameter's value."""
    tiers = [str(m.args[0]) for m in item.iter_markers("tier") if m.args]
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        value = callspec.params.get("tier")
        if value is not None and (not segments or str(value) in segments):
            tiers.append(str(value))
    return tuple(dict.fromkeys(tiers))


def spaced_report_option(args: Sequence[str]) -> str | None:
    """The DIR of a ``--gp-report DIR`` written with a space instead of ``=``, else ``None``."""
    for index, arg in enumerate(args[:-1]):
        if arg == "--gp-report":
            return args[index + 1]
    return None


def refuse_spaced_report_option(config: pytest.Config) -> None:
    """A usage error for ``--gp-report DIR``: pytest took DIR as a test path at start-up.

    pytest chooses the rootdir and reads the ini file from the command line's paths
    before any plugin is loaded, so it cannot know yet that ``--gp-report`` takes a
    value: an existing DIR outside the project becomes the rootdir and the project's
    pytest.ini is skipped. By the time a plugin runs that choice is made, so the only
    honest answer is to stop and say which spelling works.
    """
    addopts = shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    for args, where in ((list(config.invocation_params.args), ""), (addopts, " in PYTEST_ADDOPTS")):
        folder = spaced_report_option(args)
        if folder is not None:
            raise pytest.UsageError(
                f"write --gp-report={folder}{where}, with '=': written as "
                f"'--gp-report {folder}', pytest takes {folder!r} for a test path while it "
                "chooses the rootdir and the ini file (before it knows the option takes a "
                "value), so it can skip the project's pytest.ini and its settings"
            )


class BVJPlugin:
    def __init__(self, config: pytest.Config) -> None:
        refuse_spaced_report_option(config)
        self.config = config
        self.mode: str = harness_options(config).bvj
        self.report_dir: str | None = config.getoption("gp_report")
        self.gate: bool = config.getoption("gp_gate")
        words = vocabulary(config)
        self.segments = words.segments
        self.report = Report(
            settings=report_settings(config), segments=words.segments, stages=words.stages
        )
        self.history_dir: str | None = config.getoption("gp_history")
        if not hasattr(config, "workerinput"):
            self.report.history = read_history_option(config)
        self.gate_problems: list[str] = []

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        problems: list[str] = []
        for item in items:
            facts: dict[str, Any] = {
                "test_tier": test_tier_of(item) or "unknown",
                "stages": [str(m.args[0]) for m in item.iter_markers("stage") if m.args],
                "customer_tiers": list(customer_tiers(item, self.segments)),
            }
            try:
                bvj = item_bvj(item, self.segments)
                if bvj is None:
                    raise BVJError(
                        "no BVJ: add @pytest.mark.bvj(segment=..., goal=..., value_impact=..., "
                        "revenue_impact=...) or a 'Business Value Justification (BVJ):' block"
                    )
                facts.update(bvj.to_dict())
            except BVJError as exc:
                facts["bvj_problem"] = str(exc)
                problems.append(f"{item.nodeid}: {exc}")
                item.stash[_PROBLEM] = str(exc)
            item.user_properties.extend(properties_for(facts))
        workerinput = getattr(config, "workerinput", None)  # set by xdist on its workers only
        worker = None if workerinput is None else str(workerinput.get("workerid"))
        if problems and self.mode == "strict" and worker is None:
            raise pytest.UsageError(
                f"{len(problems)} tests without a valid Business Value Justification "
                "(--gp-bvj=strict):\n  " + "\n  ".join(problems)
            )
        # Under xdist a usage error raised on a worker crashes the run without its message,
        # so there each such test errors at setup instead (see pytest_runtest_setup), and
        # only the first worker warns (every worker collects every test).
        if problems and self.mode == "warn" and worker in (None, "gw0"):
            for line in problems:
                config.issue_config_time_warning(pytest.PytestWarning(f"BVJ: {line}"), 2)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        problem = item.stash.get(_PROBLEM, None)
        if problem is not None and self.mode == "strict":
            pytest.fail(
                f"no valid Business Value Justification (--gp-bvj=strict): {problem}", pytrace=False
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if hasattr(self.config, "workerinput"):
            return  # the controller aggregates what workers send it
        outcome = str(report.outcome)
        quarantined = any(name == QUARANTINE_PROPERTY for name, _ in report.user_properties)
        if quarantined and str(getattr(report, "wasxfail", "")).startswith(XFAIL_PREFIX):
            outcome = "failed"  # a quarantined test's failure: reported, not gated
        failed = outcome in ("failed", "rerun")  # "rerun": a failed attempt run again
        failure = failure_of(report) if failed else None
        self.report.record(
            report.nodeid,
            report.when,
            outcome,
            report.duration,
            report.user_properties,
            failure,
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if hasattr(self.config, "workerinput"):
            return
        if self.history_dir:
            self.report.revision = code_revision(Path(self.config.rootpath))
        if self.report_dir:
            write_report(self.report, Path(self.report_dir))
        if self.history_dir:
            record = record_of(self.report, self.report.revision)
            write_run(Path(self.history_dir), record, history_runs(self.config))
        if self.gate:
            self.gate_problems = self.report.gate_problems()
            if self.gate_problems and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput") or not (self.report_dir or self.gate):
            return
        terminalreporter.section("golden-path")
        for line in self.report.summary_lines():
            terminalreporter.write_line(line)
        if self.report_dir:
            terminalreporter.write_line(f"report: {Path(self.report_dir) / 'report.md'}")
        if self.gate:
            if self.gate_problems:
                terminalreporter.write_line(
                    f"gate FAILED ({len(self.gate_problems)} problems):", red=True
                )
                for problem in self.gate_problems[:50]:
                    terminalreporter.write_line(f"  {problem}")
            else:
                terminalreporter.write_line("gate passed", green=True)
